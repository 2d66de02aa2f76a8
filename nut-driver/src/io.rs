//! The daemon adapter: the device side on a thread of its own, the socket
//! side on tokio ([`serve`]) or on the calling thread with `poll(2)`
//! ([`serve_blocking`], what [`run`](crate::run) uses).
//!
//! - The device thread owns the [`Poller`]: it sleeps until the poll
//!   timing or a request wakes it, calls the device (which may block for
//!   as long as the device takes), and hands the changes to the socket side.
//! - The socket side owns the [`SocketServer`] behind a mutex that is held
//!   only to feed it bytes or take bytes out, never during a device call.
//!   It listens on `STATEPATH/<driver>-<ups>`, answers `PING`, `DUMPALL`
//!   and new connections at once, forwards `SET`/`INSTCMD` to the device
//!   thread, and handles SIGTERM/SIGINT/SIGQUIT (exit) and SIGHUP (reload).

use crate::device::{Device, DeviceError, Waker};
use crate::poll::{PollEvent, Poller};
use crate::server::{CloseReason, PendingRequest, SockConnId, SocketEvent, SocketServer};
use std::io;
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

mod blocking;
mod tty;
pub use blocking::{BlockingServer, StopHandle, serve_blocking};
pub use tty::TtySettings;

/// The socket file name of a driver: `<driver>-<ups>`.
pub fn socket_name(driver: &str, ups: &str) -> String {
    format!("{driver}-{ups}")
}

/// Binds the driver socket as NUT does: removes a stale file, binds with
/// umask 007, sets mode 0660. The listener is non-blocking (bind before the
/// process goes to the background, then hand it to tokio).
pub fn bind_socket(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
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

/// Removes the socket file when dropped.
#[derive(Debug)]
pub struct SocketFile(pub std::path::PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What ended [`serve`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Exit {
    /// SIGTERM, SIGINT or SIGQUIT.
    Signal(i32),
    /// The stop future given to [`serve_until`] completed.
    Requested,
    /// The device reported a fatal error.
    Fatal(DeviceError),
}

/// A change the device thread makes on SIGHUP: gets the poller, runs on
/// the device thread.
pub type Reload<D> = Box<dyn FnMut(&mut Poller<D>) + Send>;

enum ToDevice {
    Request(PendingRequest),
    Reload,
    /// From the device's [`Waker`]: look at the device now.
    Wake,
}

/// The channel to the device thread. The socket side holds it; the
/// device's [`Waker`] only refers to it, so the device thread still ends
/// when the socket side is gone.
type ToDeviceTx = Arc<std_mpsc::Sender<ToDevice>>;

/// The [`Waker`] handed to the device: sends [`ToDevice::Wake`] while the
/// socket side still holds the channel.
fn waker_for(to_dev: &ToDeviceTx) -> Waker {
    let weak = Arc::downgrade(to_dev);
    Waker::new(move || {
        if let Some(tx) = weak.upgrade() {
            let _ = tx.send(ToDevice::Wake);
        }
    })
}

type Shared = Arc<Mutex<SocketServer>>;

fn lock(s: &Mutex<SocketServer>) -> MutexGuard<'_, SocketServer> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

fn log_poll_event(e: PollEvent) {
    match e {
        PollEvent::UpdateFailed(e) => tracing::warn!("data is stale: {e}"),
        PollEvent::Recovered => tracing::info!("data is no longer stale"),
        PollEvent::Disconnected { error, retry_in } => {
            tracing::warn!("{error}; reconnecting in {} s", retry_in.as_secs_f32())
        }
        PollEvent::ReconnectFailed { error, retry_in } => {
            tracing::info!("reconnect failed: {error}; next try in {} s", retry_in.as_secs_f32())
        }
        PollEvent::Reconnected => tracing::info!("device reconnected"),
        PollEvent::Fatal(e) => tracing::error!("{e}"),
        PollEvent::Handled { what, name, result } => {
            tracing::info!(what, name, code = result.code(), "handled")
        }
    }
}

fn log_socket_events(s: &mut SocketServer) {
    while let Some(e) = s.poll_event() {
        match e {
            SocketEvent::BadLine { conn, error } => {
                tracing::info!(?conn, %error, "unknown command on socket")
            }
            SocketEvent::LineTooLong { conn } => tracing::warn!(?conn, "line too long on socket"),
        }
    }
}

/// The device thread: runs the poller until the request channel closes or
/// a fatal error happens (reported on `fatal`).
fn device_thread<D: Device>(
    mut poller: Poller<D>,
    mut reload: Reload<D>,
    shared: Shared,
    rx: std_mpsc::Receiver<ToDevice>,
    notify: impl Fn(),
    fatal: impl FnOnce(DeviceError),
) {
    let push = |poller: &mut Poller<D>, done: Option<(&PendingRequest, _)>| {
        let lines = poller.take_updates();
        if lines.is_empty() && done.is_none() {
            // Nothing changed (a poll that found the same values): the
            // socket side has nothing to send, so it is not woken.
            return;
        }
        {
            let mut s = lock(&shared);
            s.apply_updates(&lines);
            if let Some((p, result)) = done {
                let p: &PendingRequest = p;
                s.handle_result(p.conn, p.tracking.as_deref(), result);
            }
        }
        notify();
    };
    loop {
        let now = Instant::now();
        let wait = match poller.poll_timeout() {
            Some(due) => due.saturating_duration_since(now),
            None => Duration::from_secs(3600),
        };
        match rx.recv_timeout(wait) {
            Ok(ToDevice::Request(p)) => {
                let result = poller.handle_request(&p.request, Instant::now());
                push(&mut poller, Some((&p, result)));
            }
            Ok(ToDevice::Reload) => {
                reload(&mut poller);
                push(&mut poller, None);
            }
            Ok(ToDevice::Wake) => {
                poller.handle_timeout(Instant::now());
                push(&mut poller, None);
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {
                poller.handle_timeout(Instant::now());
                push(&mut poller, None);
            }
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        }
        while let Some(e) = poller.poll_event() {
            match e {
                PollEvent::Fatal(e) => {
                    fatal(e);
                    return;
                }
                e => log_poll_event(e),
            }
        }
    }
}

/// Serves the socket until a termination signal; `reload` runs on the
/// device thread on SIGHUP. The poller must have been started
/// ([`Poller::start`]) and its first changes applied to `server`.
pub async fn serve<D: Device>(
    poller: Poller<D>,
    server: SocketServer,
    listener: UnixListener,
    reload: Reload<D>,
) -> io::Result<Exit> {
    serve_until(poller, server, listener, reload, std::future::pending()).await
}

/// [`serve`], also ending when `stop` completes.
pub async fn serve_until<D: Device>(
    mut poller: Poller<D>,
    server: SocketServer,
    listener: UnixListener,
    reload: Reload<D>,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<Exit> {
    let shared: Shared = Arc::new(Mutex::new(server));
    let (notify, rx) = watch::channel(0u64);
    let notify = Arc::new(notify);
    let (to_dev, dev_rx) = std_mpsc::channel::<ToDevice>();
    let to_dev: ToDeviceTx = Arc::new(to_dev);
    poller.set_waker(waker_for(&to_dev));
    let (fatal_tx, mut fatal_rx) = mpsc::unbounded_channel();
    {
        let shared = shared.clone();
        let notify = notify.clone();
        std::thread::Builder::new().name("device".into()).spawn(move || {
            device_thread(
                poller,
                reload,
                shared,
                dev_rx,
                move || notify.send_modify(|v| *v = v.wrapping_add(1)),
                move |e| {
                    let _ = fatal_tx.send(e);
                },
            )
        })?;
    }
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::pin!(stop);
    // A signal that came before these handlers were installed.
    {
        use nix::sys::signal::Signal::{SIGINT, SIGQUIT, SIGTERM};
        for (sig, n) in [(SIGTERM, 15), (SIGINT, 2), (SIGQUIT, 3)] {
            if nut_daemon::signals::take_pending(sig) {
                return Ok(Exit::Signal(n));
            }
        }
    }
    let exit = loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    let id = lock(&shared).accept();
                    tracing::debug!(?id, "new connection");
                    tokio::spawn(conn_task(
                        shared.clone(), id, stream, rx.clone(), notify.clone(), to_dev.clone(),
                    ));
                }
                Err(e) => tracing::warn!(%e, "accept on the driver socket failed"),
            },
            _ = term.recv() => break Exit::Signal(15),
            _ = int.recv() => break Exit::Signal(2),
            _ = quit.recv() => break Exit::Signal(3),
            _ = hup.recv() => {
                tracing::info!("reloading");
                let _ = to_dev.send(ToDevice::Reload);
            }
            e = fatal_rx.recv() => match e {
                Some(e) => break Exit::Fatal(e),
                None => break Exit::Requested,
            },
            _ = &mut stop => break Exit::Requested,
        }
    };
    Ok(exit)
}

async fn conn_task(
    shared: Shared,
    id: SockConnId,
    mut stream: UnixStream,
    mut rx: watch::Receiver<u64>,
    notify: Arc<watch::Sender<u64>>,
    to_dev: ToDeviceTx,
) {
    let mut buf = vec![0u8; 4096];
    let (mut rd, mut wr) = stream.split();
    loop {
        let (pending, closing) = {
            let s = lock(&shared);
            if !s.is_open(id) {
                break;
            }
            let pending = s.poll_transmit(id).map(|p| p[..p.len().min(64 * 1024)].to_vec());
            (pending, s.close_reason(id).cloned())
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
                    let requests: Vec<PendingRequest> = {
                        let mut s = lock(&shared);
                        s.handle_conn_bytes(id, &buf[..n]);
                        log_socket_events(&mut s);
                        std::iter::from_fn(|| s.poll_request()).collect()
                    };
                    for p in requests {
                        let _ = to_dev.send(ToDevice::Request(p));
                    }
                    notify.send_modify(|v| *v = v.wrapping_add(1));
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
