//! The tokio adapter of the driver core: listens on the Unix socket
//! `STATEPATH/<driver>-<ups>`, runs the device updates on time, serves every
//! connection, and handles SIGTERM/SIGINT/SIGQUIT (clean exit: socket and
//! PID file removed) and SIGHUP (reload).
//!
//! The device is called with the driver locked, from the runtime's worker
//! threads (through `block_in_place`), as NUT's single-threaded driver
//! calls it: a slow device delays the socket, it never corrupts it.

use super::core::{CloseReason, ConnId, Driver, DriverEvent};
use super::device::Device;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// The socket file name of a driver: `<driver>-<ups>`.
pub fn socket_name(driver: &str, ups: &str) -> String {
    format!("{driver}-{ups}")
}

/// Binds the driver socket as NUT does: removes a stale file, binds with
/// umask 007, sets mode 0660. Needs a running tokio runtime.
pub fn bind_socket(path: &Path) -> io::Result<UnixListener> {
    UnixListener::from_std(bind_socket_std(path)?)
}

/// [`bind_socket`] without tokio (for binding before the process forks
/// into the background); the listener is non-blocking.
pub fn bind_socket_std(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
    use nix::sys::stat::{Mode, umask};
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let old = umask(Mode::from_bits_truncate(0o007));
    let l = std::os::unix::net::UnixListener::bind(path);
    umask(old);
    let l = l?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// What ended [`serve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// SIGTERM, SIGINT or SIGQUIT.
    Signal(i32),
    /// The shutdown future given to [`serve_until`] completed.
    Requested,
}

type Shared<D> = Arc<Mutex<Driver<D>>>;

fn lock<D>(d: &Mutex<Driver<D>>) -> MutexGuard<'_, Driver<D>> {
    d.lock().unwrap_or_else(|e| e.into_inner())
}

fn log_events<D: Device>(d: &mut Driver<D>) {
    while let Some(e) = d.poll_event() {
        match e {
            DriverEvent::BadLine { conn, error } => {
                tracing::info!(?conn, %error, "unknown command on socket")
            }
            DriverEvent::LineTooLong { conn } => tracing::warn!(?conn, "line too long on socket"),
            DriverEvent::UpdateFailed(e) => tracing::warn!(%e, "data is stale"),
            DriverEvent::Recovered => tracing::info!("data is no longer stale"),
            DriverEvent::Handled { what, name, result } => {
                tracing::info!(what, name, code = result.code(), "handled")
            }
        }
    }
}

/// Serves the socket until a termination signal. `reload` runs on SIGHUP
/// with the driver locked.
pub async fn serve<D: Device + Send + 'static>(
    driver: Driver<D>,
    listener: UnixListener,
    reload: impl FnMut(&mut Driver<D>) + Send + 'static,
) -> io::Result<Exit> {
    serve_until(driver, listener, reload, std::future::pending()).await
}

/// [`serve`], also ending when `stop` completes.
pub async fn serve_until<D: Device + Send + 'static>(
    driver: Driver<D>,
    listener: UnixListener,
    mut reload: impl FnMut(&mut Driver<D>) + Send + 'static,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<Exit> {
    let shared: Shared<D> = Arc::new(Mutex::new(driver));
    let (tx, rx) = watch::channel(0u64);
    let tx = Arc::new(tx);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    let mut hup = signal(SignalKind::hangup())?;
    let timer = tokio::spawn(timer_task(shared.clone(), tx.clone()));
    tokio::pin!(stop);
    let exit = loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    let id = lock(&shared).accept();
                    tracing::debug!(?id, "new connection");
                    tokio::spawn(conn_task(shared.clone(), id, stream, rx.clone(), tx.clone()));
                }
                Err(e) => tracing::warn!(%e, "accept on the driver socket failed"),
            },
            _ = term.recv() => break Exit::Signal(15),
            _ = int.recv() => break Exit::Signal(2),
            _ = quit.recv() => break Exit::Signal(3),
            _ = hup.recv() => {
                tracing::info!("reloading");
                tokio::task::block_in_place(|| {
                    let mut d = lock(&shared);
                    reload(&mut d);
                    log_events(&mut d);
                });
                tx.send_modify(|v| *v += 1);
            }
            _ = &mut stop => break Exit::Requested,
        }
    };
    timer.abort();
    Ok(exit)
}

async fn timer_task<D: Device + Send + 'static>(shared: Shared<D>, tx: Arc<watch::Sender<u64>>) {
    loop {
        let due = lock(&shared).poll_timeout();
        match due {
            Some(t) => tokio::time::sleep_until(t.into()).await,
            None => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
        tokio::task::block_in_place(|| {
            let mut d = lock(&shared);
            d.handle_timeout(Instant::now());
            log_events(&mut d);
        });
        tx.send_modify(|v| *v += 1);
    }
}

async fn conn_task<D: Device + Send + 'static>(
    shared: Shared<D>,
    id: ConnId,
    mut stream: UnixStream,
    mut rx: watch::Receiver<u64>,
    tx: Arc<watch::Sender<u64>>,
) {
    let mut buf = vec![0u8; 4096];
    let (mut rd, mut wr) = stream.split();
    loop {
        let (pending, closing) = {
            let d = lock(&shared);
            if !d.is_open(id) {
                break;
            }
            let pending = d.poll_transmit(id).map(|p| p[..p.len().min(64 * 1024)].to_vec());
            (pending, d.close_reason(id).cloned())
        };
        match (&pending, &closing) {
            (_, Some(CloseReason::OutputOverflow)) => {
                tracing::warn!(?id, "connection does not read its updates, dropping it");
                break;
            }
            (None, Some(_)) => break,
            _ => {}
        }
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    tokio::task::block_in_place(|| {
                        let mut d = lock(&shared);
                        d.handle_conn_bytes(id, &buf[..n], Instant::now());
                        log_events(&mut d);
                    });
                    tx.send_modify(|v| *v += 1);
                }
            },
            r = async {
                match &pending {
                    Some(p) => wr.write(p).await,
                    None => std::future::pending().await,
                }
            } => match r {
                Ok(n) if n > 0 => lock(&shared).transmitted(id, n),
                _ => break,
            },
            r = rx.changed() => if r.is_err() { break },
        }
    }
    lock(&shared).handle_conn_closed(id);
    tracing::debug!(?id, "connection closed");
}

/// Writes `<dir>/<driver>-<ups>.pid`; the file is removed when the guard
/// drops.
#[derive(Debug)]
pub struct PidFile(PathBuf);

impl PidFile {
    /// Writes the current process id.
    pub fn create(path: PathBuf) -> io::Result<PidFile> {
        std::fs::write(&path, format!("{}\n", std::process::id()))?;
        Ok(PidFile(path))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Removes the socket file when dropped.
#[derive(Debug)]
pub struct SocketFile(pub PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads the process id from a PID file.
pub fn read_pid(path: &Path) -> io::Result<i32> {
    std::fs::read_to_string(path)?
        .trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad PID file"))
}
