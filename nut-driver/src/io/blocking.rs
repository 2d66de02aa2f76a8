//! The blocking daemon adapter: two plain threads, no async runtime.
//!
//! - The device thread owns the [`Poller`], as in [`serve`](super::serve):
//!   it sleeps until the poll timing or a request wakes it, calls the
//!   device, applies the changes to the socket side and wakes the socket
//!   thread.
//! - The calling thread serves the socket with `poll(2)`: the listener,
//!   every connection, a `signalfd` for SIGTERM/SIGINT/SIGQUIT (exit) and
//!   SIGHUP (reload), and the device thread's wake-ups. `PING`, `DUMPALL`
//!   and new connections are answered at once, even while a device call
//!   blocks; `SET`/`INSTCMD` go to the device thread.
//!
//! Between two polls both threads sleep in the kernel: no timer ticks.

use super::{
    Exit, Reload, Shared, ToDevice, ToDeviceTx, device_thread, lock, log_socket_events, waker_for,
};
use crate::device::{Device, DeviceError};
use crate::poll::Poller;
use crate::server::{CloseReason, SockConnId, SocketServer};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

/// Most bytes written to one connection in one `write` call.
const MAX_WRITE: usize = 64 * 1024;

/// Ends a running [`BlockingServer`] from another thread: its
/// [`run`](BlockingServer::run) returns [`Exit::Requested`].
#[derive(Clone, Debug)]
pub struct StopHandle {
    flag: Arc<AtomicBool>,
    wake: Arc<UnixStream>,
}

impl StopHandle {
    /// Asks the server to stop; it returns from `run` soon after.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        wake(&self.wake);
    }
}

fn wake(s: &UnixStream) {
    // Non-blocking: a full pipe already holds a wake-up.
    let _ = (&*s).write(&[1]);
}

/// What the device thread left for the socket thread.
#[derive(Default)]
struct Outcome {
    fatal: Option<DeviceError>,
    ended: bool,
}

/// Marks the device thread as ended (also when it panics) and wakes the
/// socket thread.
struct EndGuard {
    outcome: Arc<Mutex<Outcome>>,
    wake: Arc<UnixStream>,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner()).ended = true;
        wake(&self.wake);
    }
}

/// The blocking adapter: [`serve`](super::serve) on two plain threads
/// (the caller's and one for the device) instead of an async runtime.
pub struct BlockingServer<D: Device> {
    poller: Poller<D>,
    server: SocketServer,
    listener: UnixListener,
    reload: Reload<D>,
    stop: Arc<AtomicBool>,
    wake_rx: UnixStream,
    wake_tx: Arc<UnixStream>,
    signals: bool,
}

impl<D: Device> std::fmt::Debug for BlockingServer<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingServer").field("listener", &self.listener).finish_non_exhaustive()
    }
}

/// Serves the socket until SIGTERM, SIGINT or SIGQUIT (or a fatal device
/// error) on the calling thread, the device on a thread of its own;
/// `reload` runs on the device thread on SIGHUP. The poller must have been
/// started ([`Poller::start`]) and its first changes applied to `server`.
pub fn serve_blocking<D: Device>(
    poller: Poller<D>,
    server: SocketServer,
    listener: UnixListener,
    reload: Reload<D>,
) -> io::Result<Exit> {
    BlockingServer::new(poller, server, listener, reload)?.run()
}

impl<D: Device> BlockingServer<D> {
    /// An adapter for this started poller, its socket side and a bound
    /// listener (made non-blocking here). Signals are handled by
    /// [`run`](Self::run) unless [`without_signals`](Self::without_signals)
    /// is called.
    pub fn new(
        poller: Poller<D>,
        server: SocketServer,
        listener: UnixListener,
        reload: Reload<D>,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(BlockingServer {
            poller,
            server,
            listener,
            reload,
            stop: Arc::new(AtomicBool::new(false)),
            wake_rx,
            wake_tx: Arc::new(wake_tx),
            signals: true,
        })
    }

    /// Leaves the signals alone (embedders and tests that stop the server
    /// with a [`StopHandle`]).
    pub fn without_signals(mut self) -> Self {
        self.signals = false;
        self
    }

    /// A handle that stops [`run`](Self::run).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle { flag: self.stop.clone(), wake: self.wake_tx.clone() }
    }

    /// Serves until a termination signal, a fatal device error or a
    /// [`StopHandle`]. With signals, SIGTERM, SIGINT, SIGQUIT and SIGHUP
    /// are blocked in the calling thread (and so in the device thread it
    /// starts) and read from a `signalfd`; one that arrived before (see
    /// `nut_daemon::signals::take_pending`) ends the server at once.
    pub fn run(self) -> io::Result<Exit> {
        let BlockingServer {
            mut poller,
            server,
            listener,
            reload,
            stop,
            wake_rx,
            wake_tx,
            signals,
        } = self;
        let sfd = if signals {
            let mut mask = SigSet::empty();
            for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT, Signal::SIGHUP] {
                mask.add(s);
            }
            mask.thread_block().map_err(io::Error::from)?;
            let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
                .map_err(io::Error::from)?;
            for (sig, n) in [(Signal::SIGTERM, 15), (Signal::SIGINT, 2), (Signal::SIGQUIT, 3)] {
                if nut_daemon::signals::take_pending(sig) {
                    return Ok(Exit::Signal(n));
                }
            }
            Some(sfd)
        } else {
            None
        };
        let shared: Shared = Arc::new(Mutex::new(server));
        let outcome = Arc::new(Mutex::new(Outcome::default()));
        let (to_dev, dev_rx) = std_mpsc::channel::<ToDevice>();
        let to_dev: ToDeviceTx = Arc::new(to_dev);
        poller.set_waker(waker_for(&to_dev));
        {
            let shared = shared.clone();
            let guard = EndGuard { outcome: outcome.clone(), wake: wake_tx.clone() };
            let notify_wake = wake_tx.clone();
            let fatal_slot = outcome.clone();
            std::thread::Builder::new().name("device".into()).spawn(move || {
                let _guard = guard;
                device_thread(
                    poller,
                    reload,
                    shared,
                    dev_rx,
                    move || wake(&notify_wake),
                    move |e| {
                        fatal_slot.lock().unwrap_or_else(|e| e.into_inner()).fatal = Some(e);
                    },
                );
            })?;
        }
        let mut loop_ = Loop { shared, listener, conns: Vec::new(), to_dev, buf: vec![0u8; 4096] };
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(Exit::Requested);
            }
            let ready = loop_.wait(sfd.as_ref(), &wake_rx)?;
            if ready.signal {
                if let Some(sfd) = &sfd {
                    while let Ok(Some(info)) = sfd.read_signal() {
                        match info.ssi_signo as i32 {
                            n @ (15 | 2 | 3) => return Ok(Exit::Signal(n)),
                            1 => {
                                tracing::info!("reloading");
                                let _ = loop_.to_dev.send(ToDevice::Reload);
                            }
                            _ => {}
                        }
                    }
                }
            }
            if ready.wake {
                let mut b = [0u8; 64];
                while matches!((&wake_rx).read(&mut b), Ok(n) if n > 0) {}
                let mut o = outcome.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(e) = o.fatal.take() {
                    return Ok(Exit::Fatal(e));
                }
                if o.ended {
                    return Ok(Exit::Requested);
                }
            }
            if ready.listener {
                loop_.accept();
            }
            loop_.read_conns(&ready.conns);
            loop_.flush_conns();
        }
    }
}

/// Which descriptors `poll` found ready.
struct Ready {
    signal: bool,
    wake: bool,
    listener: bool,
    /// Per connection (same order as `Loop::conns`): readable or hung up.
    conns: Vec<bool>,
}

struct Loop {
    shared: Shared,
    listener: UnixListener,
    conns: Vec<(SockConnId, UnixStream)>,
    to_dev: ToDeviceTx,
    buf: Vec<u8>,
}

impl Loop {
    fn wait(&self, sfd: Option<&SignalFd>, wake_rx: &UnixStream) -> io::Result<Ready> {
        let inp = PollFlags::POLLIN;
        let mut fds = Vec::with_capacity(3 + self.conns.len());
        fds.push(PollFd::new(self.listener.as_fd(), inp));
        fds.push(PollFd::new(wake_rx.as_fd(), inp));
        if let Some(s) = sfd {
            fds.push(PollFd::new(s.as_fd(), inp));
        }
        let first_conn = fds.len();
        {
            let s = lock(&self.shared);
            for (id, stream) in &self.conns {
                let mut ev = inp;
                if s.poll_transmit(*id).is_some() {
                    ev |= PollFlags::POLLOUT;
                }
                fds.push(PollFd::new(stream.as_fd(), ev));
            }
        }
        loop {
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let hit = |f: &PollFd<'_>| {
            f.revents().is_some_and(|r| {
                r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
            })
        };
        Ok(Ready {
            listener: hit(&fds[0]),
            wake: hit(&fds[1]),
            signal: sfd.is_some() && hit(&fds[2]),
            conns: fds[first_conn..].iter().map(hit).collect(),
        })
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Err(e) = stream.set_nonblocking(true) {
                        tracing::warn!(%e, "new connection on the driver socket");
                        continue;
                    }
                    let id = lock(&self.shared).accept();
                    tracing::debug!(?id, "new connection");
                    self.conns.push((id, stream));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::warn!(%e, "accept on the driver socket failed");
                    return;
                }
            }
        }
    }

    /// Reads what the ready connections sent; a connection that closed or
    /// failed is forgotten.
    fn read_conns(&mut self, ready: &[bool]) {
        let mut closed = Vec::new();
        for (i, (id, stream)) in self.conns.iter().enumerate() {
            if !ready.get(i).copied().unwrap_or(false) {
                continue;
            }
            loop {
                match (&*stream).read(&mut self.buf) {
                    Ok(0) => {
                        closed.push(*id);
                        break;
                    }
                    Ok(n) => {
                        let requests: Vec<_> = {
                            let mut s = lock(&self.shared);
                            s.handle_conn_bytes(*id, &self.buf[..n]);
                            log_socket_events(&mut s);
                            std::iter::from_fn(|| s.poll_request()).collect()
                        };
                        for p in requests {
                            let _ = self.to_dev.send(ToDevice::Request(p));
                        }
                        if n < self.buf.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        closed.push(*id);
                        break;
                    }
                }
            }
        }
        for id in closed {
            self.close(id);
        }
    }

    /// Writes what is waiting for every connection, and closes those the
    /// socket side is done with.
    fn flush_conns(&mut self) {
        let mut closed = Vec::new();
        {
            let mut s = lock(&self.shared);
            for (id, stream) in &self.conns {
                if !s.is_open(*id) {
                    closed.push(*id);
                    continue;
                }
                let mut failed = false;
                while let Some(p) = s.poll_transmit(*id) {
                    let p = &p[..p.len().min(MAX_WRITE)];
                    match (&*stream).write(p) {
                        Ok(n) if n > 0 => s.transmitted(*id, n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        _ => {
                            failed = true;
                            break;
                        }
                    }
                }
                let pending = s.poll_transmit(*id).is_some();
                match s.close_reason(*id) {
                    Some(CloseReason::OutputOverflow) => {
                        tracing::warn!(?id, "connection does not read its updates, dropping it");
                        failed = true;
                    }
                    Some(_) if !pending => failed = true,
                    _ => {}
                }
                if failed {
                    closed.push(*id);
                }
            }
        }
        for id in closed {
            self.close(id);
        }
    }

    fn close(&mut self, id: SockConnId) {
        self.conns.retain(|(c, _)| *c != id);
        lock(&self.shared).handle_conn_closed(id);
        tracing::debug!(?id, "connection closed");
    }
}
