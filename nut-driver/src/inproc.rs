//! A driver inside the process that embeds `upsd`: the socket protocol over
//! an in-memory stream instead of a Unix socket in STATEPATH.
//!
//! [`InProcess::spawn`] starts a [`Device`] the way the daemon adapter
//! does, on two threads of its own: the device thread runs the
//! [`Poller`] (so a device call that blocks delays only itself), the
//! socket thread runs the [`SocketServer`], which answers `upsd`'s `PING`,
//! `DUMPALL`, `GETPID`, ... from its mirror at once, so the UPS never goes
//! stale while the device is busy. [`InProcess::connect`] hands out one end
//! of a [`tokio::io::DuplexStream`]; an embedded `upsd` core reads and
//! writes it as it would a driver socket (`nut-server`'s
//! `upsd::io::Embedded::with_ups` takes such a connector). Neither crate
//! depends on the other: the link is the driver socket protocol.
//!
//! ```
//! use nut_driver::{Device, DeviceError, Dstate, UpdateKind, inproc::InProcess};
//! use std::time::Instant;
//! use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//!
//! struct Mains;
//! impl Device for Mains {
//!     fn connect(&mut self, _: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
//!         Ok(())
//!     }
//!     fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
//!         st.setinfo("ups.status", "OL");
//!         Ok(())
//!     }
//! }
//!
//! let driver = InProcess::spawn(Mains)?;
//! let mut link = BufReader::new(driver.connect()?);
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! let pong = rt.block_on(async {
//!     link.get_mut().write_all(b"PING\n").await?;
//!     let mut line = String::new();
//!     link.read_line(&mut line).await?;
//!     Ok::<_, std::io::Error>(line)
//! })?;
//! assert_eq!(pong, "PONG\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::core::DriverConfig;
use crate::device::{Device, DeviceError};
use crate::dstate::Dstate;
use crate::poll::{PollEvent, Poller};
use crate::server::{PendingRequest, SockConnId, SocketEvent, SocketServer};
use nut_proto::sock::TrackingResult;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::rc::Rc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::{Notify, mpsc};

/// The buffer of each in-memory link, each way.
const LINK_BUFFER: usize = 64 * 1024;

/// To the device thread.
#[derive(Debug)]
enum ToDevice {
    Request(PendingRequest),
    Stop,
    /// From the device's [`crate::Waker`]: look at the device now.
    Wake,
}

/// From the device thread to the socket thread.
enum FromDevice {
    /// Changes, as socket-protocol lines.
    Lines(Vec<u8>),
    /// The answer to a request.
    Result { conn: SockConnId, tracking: Option<String>, result: TrackingResult },
}

/// A running in-process driver: a device thread and a socket thread. See
/// the [module](self) documentation.
///
/// Dropping it stops both threads (after the device call in progress, if
/// any, returns) and ends every link handed out.
#[derive(Debug)]
pub struct InProcess {
    links: mpsc::UnboundedSender<DuplexStream>,
    requests: std_mpsc::Sender<ToDevice>,
    threads: Vec<JoinHandle<()>>,
}

impl InProcess {
    /// [`spawn_with`](Self::spawn_with) an empty state and the default
    /// settings (a poll every 2 s).
    pub fn spawn<D: Device>(device: D) -> Result<InProcess, DeviceError> {
        Self::spawn_with(device, Dstate::new(), DriverConfig::default())
    }

    /// Connects `device` and runs its first update on the calling thread
    /// (as NUT's driver main does before it listens), then starts the two
    /// threads. `st` holds the `driver.*` variables already, if any (see
    /// [`crate::publish_driver_info`]). Only a fatal device error, or a
    /// thread that cannot be started, is an error: a device that is not
    /// there yet is retried with backoff while the data stays stale.
    pub fn spawn_with<D: Device>(
        device: D,
        st: Dstate,
        config: DriverConfig,
    ) -> Result<InProcess, DeviceError> {
        let mut poller = Poller::new(device, st, config.timing);
        poller.start(Instant::now())?;
        let mut server = SocketServer::new(config.socket);
        server.apply_updates(&poller.take_updates());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DeviceError::fatal)?;
        let (links, links_rx) = mpsc::unbounded_channel();
        let (up_tx, up_rx) = mpsc::unbounded_channel();
        let (requests, requests_rx) = std_mpsc::channel();
        let waker = requests.clone();
        poller.set_waker(crate::Waker::new(move || {
            let _ = waker.send(ToDevice::Wake);
        }));
        let dev = std::thread::Builder::new()
            .name("nut-driver device".into())
            .spawn(move || device_side(poller, requests_rx, up_tx))
            .map_err(DeviceError::fatal)?;
        let req = requests.clone();
        let sock = std::thread::Builder::new().name("nut-driver socket".into()).spawn(move || {
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, socket_side(server, links_rx, up_rx, req));
        });
        let sock = match sock {
            Ok(t) => t,
            Err(e) => {
                let _ = requests.send(ToDevice::Stop);
                let _ = dev.join();
                return Err(DeviceError::fatal(e));
            }
        };
        Ok(InProcess { links, requests, threads: vec![dev, sock] })
    }

    /// A new link to the driver, as a connection to its socket would be:
    /// write `DUMPALL`, `PING`, `INSTCMD`, ... and read the driver's
    /// lines. Fails only when the driver has stopped. Needs no runtime;
    /// the stream can be used from any tokio runtime.
    pub fn connect(&self) -> io::Result<DuplexStream> {
        let (ours, theirs) = tokio::io::duplex(LINK_BUFFER);
        self.links
            .send(theirs)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "in-process driver stopped"))?;
        Ok(ours)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        // The device thread stops, which closes its channel to the socket
        // thread, which then stops too.
        let _ = self.requests.send(ToDevice::Stop);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn log_poll_event(e: PollEvent) {
    match e {
        PollEvent::Fatal(e) => tracing::error!("in-process driver: fatal device error: {e}"),
        PollEvent::Handled { what, name, result } => {
            tracing::debug!("in-process driver: {what} {name}: {result:?}");
        }
        PollEvent::Recovered | PollEvent::Reconnected => {
            tracing::info!("in-process driver: {e:?}");
        }
        e => tracing::warn!("in-process driver: {e:?}"),
    }
}

/// The device thread: the poller on the real clock, requests in between.
fn device_side<D: Device>(
    mut poller: Poller<D>,
    requests: std_mpsc::Receiver<ToDevice>,
    up: mpsc::UnboundedSender<FromDevice>,
) {
    loop {
        let lines = poller.take_updates();
        if !lines.is_empty() && up.send(FromDevice::Lines(lines)).is_err() {
            return;
        }
        while let Some(e) = poller.poll_event() {
            log_poll_event(e);
        }
        let msg = match poller.poll_timeout() {
            Some(t) => requests.recv_timeout(t.saturating_duration_since(Instant::now())),
            None => requests.recv().map_err(|_| std_mpsc::RecvTimeoutError::Disconnected),
        };
        match msg {
            Ok(ToDevice::Request(p)) => {
                let result = poller.handle_request(&p.request, Instant::now());
                let lines = poller.take_updates();
                if !lines.is_empty() {
                    let _ = up.send(FromDevice::Lines(lines));
                }
                let _ = up.send(FromDevice::Result { conn: p.conn, tracking: p.tracking, result });
            }
            Ok(ToDevice::Stop) | Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            Ok(ToDevice::Wake) | Err(std_mpsc::RecvTimeoutError::Timeout) => {
                poller.handle_timeout(Instant::now())
            }
        }
    }
}

/// The socket side and a waker per link, shared by the tasks of the
/// socket thread (one thread: never borrowed across an `.await`).
struct Side {
    server: RefCell<SocketServer>,
    wakers: RefCell<HashMap<SockConnId, Rc<Notify>>>,
}

impl Side {
    fn wake(&self, conn: Option<SockConnId>) {
        for (id, n) in self.wakers.borrow().iter() {
            if conn.is_none_or(|c| c == *id) {
                n.notify_one();
            }
        }
    }

    fn log_events(&self) {
        while let Some(e) = self.server.borrow_mut().poll_event() {
            match e {
                SocketEvent::BadLine { error, .. } => {
                    tracing::debug!("in-process driver: line ignored: {error}");
                }
                e => tracing::debug!("in-process driver: {e:?}"),
            }
        }
    }
}

/// The socket thread: new links, and the device thread's changes.
async fn socket_side(
    server: SocketServer,
    mut links: mpsc::UnboundedReceiver<DuplexStream>,
    mut up: mpsc::UnboundedReceiver<FromDevice>,
    requests: std_mpsc::Sender<ToDevice>,
) {
    let side = Rc::new(Side { server: RefCell::new(server), wakers: RefCell::default() });
    loop {
        tokio::select! {
            l = links.recv() => {
                let Some(stream) = l else { break };
                let id = side.server.borrow_mut().accept();
                let notify = Rc::new(Notify::new());
                side.wakers.borrow_mut().insert(id, notify.clone());
                tokio::task::spawn_local(serve_link(side.clone(), id, notify, stream, requests.clone()));
            }
            m = up.recv() => match m {
                Some(FromDevice::Lines(lines)) => {
                    side.server.borrow_mut().apply_updates(&lines);
                    side.wake(None);
                }
                Some(FromDevice::Result { conn, tracking, result }) => {
                    side.server.borrow_mut().handle_result(conn, tracking.as_deref(), result);
                    side.wake(Some(conn));
                }
                None => break,
            },
        }
    }
}

/// Serves one link until its other end closes or the driver stops.
async fn serve_link(
    side: Rc<Side>,
    id: SockConnId,
    notify: Rc<Notify>,
    mut stream: DuplexStream,
    requests: std_mpsc::Sender<ToDevice>,
) {
    let mut buf = vec![0u8; 4096];
    loop {
        let out = side.server.borrow().poll_transmit(id).map(<[u8]>::to_vec);
        if let Some(out) = out {
            if stream.write_all(&out).await.is_err() {
                break;
            }
            side.server.borrow_mut().transmitted(id, out.len());
            continue;
        }
        if side.server.borrow().close_reason(id).is_some() {
            break;
        }
        tokio::select! {
            r = stream.read(&mut buf) => {
                let n = match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let mut server = side.server.borrow_mut();
                server.handle_conn_bytes(id, &buf[..n]);
                while let Some(p) = server.poll_request() {
                    if let Err(std_mpsc::SendError(ToDevice::Request(p))) =
                        requests.send(ToDevice::Request(p))
                    {
                        server.handle_result(p.conn, p.tracking.as_deref(), TrackingResult::Failed);
                    }
                }
                drop(server);
                side.log_events();
                // A result for another link may have been queued.
                side.wake(None);
            }
            _ = notify.notified() => {}
        }
    }
    side.server.borrow_mut().handle_conn_closed(id);
    side.wakers.borrow_mut().remove(&id);
}
