//! A driver core served on a Unix socket inside the test process, as the
//! driver binaries serve it: the poller started, its first changes on the
//! socket side, the listener bound ([`started`]), then the binary's adapter
//! ([`Blocking`]) or tokio's `serve_until` ([`Tokio`]) on a thread of its own,
//! stopped when the handle is dropped, however the test ends. And
//! [`read_until`], for what `upsd` reads from the socket.

use nut_driver::io::{BlockingServer, Exit, StopHandle, bind_socket, serve_until};
use nut_driver::{Device, Dstate, Poller, SocketConfig, SocketServer, Timing};
use std::io::{self, BufRead, BufReader};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Instant;

/// What every adapter takes: a poller for `device` started now, the socket
/// side with the poller's first changes applied, and a listener bound at
/// `sock`.
pub fn started<D: Device>(
    device: D,
    st: Dstate,
    timing: Timing,
    sock: &Path,
) -> (Poller<D>, SocketServer, UnixListener) {
    let mut poller = Poller::new(device, st, timing);
    poller.start(Instant::now()).expect("the poller starts");
    let mut server = SocketServer::new(SocketConfig::default());
    server.apply_updates(&poller.take_updates());
    let listener = bind_socket(sock).expect("bind the driver socket");
    (poller, server, listener)
}

/// The binary's adapter ([`BlockingServer`], signals left alone) serving on a
/// thread of its own; stopped on drop.
#[derive(Debug)]
pub struct Blocking {
    stop: StopHandle,
    thread: Option<JoinHandle<io::Result<Exit>>>,
}

impl Blocking {
    /// Starts serving.
    pub fn start<D: Device + Send + 'static>(
        (poller, server, listener): (Poller<D>, SocketServer, UnixListener),
    ) -> Blocking {
        let server = BlockingServer::new(poller, server, listener, Box::new(|_| {}))
            .expect("the blocking adapter")
            .without_signals();
        let stop = server.stop_handle();
        Blocking { stop, thread: Some(std::thread::spawn(move || server.run())) }
    }

    /// Whether the server still runs.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the server and returns how it ended.
    pub fn stop(mut self) -> io::Result<Exit> {
        self.stop.stop();
        let thread = self.thread.take().expect("joined once");
        thread.join().expect("the server thread panicked")
    }

    /// Waits, without stopping it, until the server ends by itself (a fatal
    /// device error) or `limit` passes (`None`; it is then stopped on drop).
    pub fn wait(mut self, limit: std::time::Duration) -> Option<io::Result<Exit>> {
        let thread = self.thread.take()?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(thread.join()));
        let joined = rx.recv_timeout(limit).ok()?;
        Some(joined.expect("the server thread panicked"))
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

/// tokio's `serve_until` on a multi-thread runtime of its own, on a thread of
/// its own; stopped on drop.
#[derive(Debug)]
pub struct Tokio {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<Exit>>>,
}

impl Tokio {
    /// Starts serving with `workers` runtime threads.
    pub fn start<D: Device + Send + 'static>(
        (poller, server, listener): (Poller<D>, SocketServer, UnixListener),
        workers: usize,
    ) -> Tokio {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let listener = tokio::net::UnixListener::from_std(listener)?;
                serve_until(poller, server, listener, Box::new(|_| {}), async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        Tokio { stop: Some(stop), thread: Some(thread) }
    }

    /// Stops the server and returns how it ended.
    pub fn stop(mut self) -> io::Result<Exit> {
        self.signal();
        let thread = self.thread.take().expect("joined once");
        thread.join().expect("the server thread panicked")
    }
}

impl Tokio {
    /// Tells `serve_until` to return (once).
    fn signal(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for Tokio {
    fn drop(&mut self) {
        self.signal();
    }
}

/// Reads lines from a driver socket until one is `last` or starts with it;
/// returns them all, without line ends. Panics if the socket closes or a
/// read fails (set a read timeout on the socket).
pub fn read_until(r: &mut BufReader<UnixStream>, last: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        let n = r.read_line(&mut l).expect("read from the driver socket");
        assert!(n > 0, "the driver closed the socket; got {lines:?}");
        let l = l.trim_end().to_string();
        let done = l.starts_with(last);
        lines.push(l);
        if done {
            return lines;
        }
    }
}
