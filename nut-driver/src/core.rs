//! Both sides of a driver in one value, on one thread and a caller's clock:
//! for tests, for `-d` dumps, and for embedders that drive a device and its
//! socket sessions themselves. The daemon adapter ([`crate::io`]) runs the
//! two sides on two threads instead, so that a blocking device never stalls
//! the socket.

use crate::device::{Device, DeviceError};
use crate::dstate::Dstate;
use crate::poll::{PollEvent, Poller, Timing};
use crate::server::{CloseReason, SockConnId, SocketConfig, SocketEvent, SocketServer};
use std::time::{Duration, Instant};

/// Settings of a driver.
#[derive(Clone, Debug, Default)]
pub struct DriverConfig {
    /// Poll timing and reconnection.
    pub timing: Timing,
    /// The socket side.
    pub socket: SocketConfig,
}

impl DriverConfig {
    /// The defaults with another poll interval.
    pub fn with_poll_interval(interval: Duration) -> Self {
        let mut c = DriverConfig::default();
        c.timing.poll_interval = interval;
        c
    }
}

/// Something to log, from either side.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverEvent {
    /// From the device side.
    Device(PollEvent),
    /// From the socket side.
    Socket(SocketEvent),
}

/// A [`Poller`] and a [`SocketServer`] wired together on one thread: a
/// request from a connection runs on the device at once, and every change
/// is broadcast at once.
///
/// ```
/// use nut_driver::{Device, DeviceError, Driver, DriverConfig, Dstate, UpdateKind};
/// use std::time::Instant;
///
/// struct Fixed;
/// impl Device for Fixed {
///     fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
///         st.setinfo("ups.status", "OL");
///         Ok(())
///     }
///     fn update(&mut self, _: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
///         Ok(())
///     }
/// }
///
/// let now = Instant::now();
/// let mut driver = Driver::new(Fixed, Dstate::new(), DriverConfig::default());
/// driver.start(now).unwrap();
/// let conn = driver.accept();
/// driver.handle_conn_bytes(conn, b"DUMPALL\n", now);
/// let out = driver.poll_transmit(conn).unwrap().to_vec();
/// assert_eq!(
///     out,
///     b"SETINFO driver.parameter.pollinterval \"2\"\nSETINFO ups.status \"OL\"\nDATAOK\nDUMPDONE\n"
/// );
/// driver.transmitted(conn, out.len());
/// assert!(driver.poll_transmit(conn).is_none());
/// ```
#[derive(Debug)]
pub struct Driver<D> {
    poller: Poller<D>,
    server: SocketServer,
}

impl<D: Device> Driver<D> {
    /// A driver around `device`, starting from `st` (which holds the
    /// `driver.*` variables already, see [`crate::params`]).
    pub fn new(device: D, st: Dstate, config: DriverConfig) -> Self {
        Driver {
            poller: Poller::new(device, st, config.timing),
            server: SocketServer::new(config.socket),
        }
    }

    /// The device side.
    pub fn poller(&self) -> &Poller<D> {
        &self.poller
    }

    /// The socket side.
    pub fn server(&self) -> &SocketServer {
        &self.server
    }

    /// Splits the driver into its two sides (the daemon adapter runs them
    /// on two threads).
    pub fn into_parts(self) -> (Poller<D>, SocketServer) {
        (self.poller, self.server)
    }

    /// The published state.
    pub fn dstate(&self) -> &Dstate {
        self.poller.dstate()
    }

    /// The device.
    pub fn device(&self) -> &D {
        self.poller.device()
    }

    /// Changes the poll interval (after a reload).
    pub fn set_poll_interval(&mut self, interval: Duration, now: Instant) {
        self.poller.set_poll_interval(interval, now);
        self.flush();
    }

    /// Changes the state and the device together; the changes are
    /// broadcast.
    pub fn with_state<R>(&mut self, f: impl FnOnce(&mut D, &mut Dstate) -> R) -> R {
        let r = self.poller.with_state(f);
        self.flush();
        r
    }

    /// Connects and runs the first update ([`Poller::start`]).
    pub fn start(&mut self, now: Instant) -> Result<(), DeviceError> {
        let r = self.poller.start(now);
        self.flush();
        r
    }

    /// Connects and runs the device's shutdown (driver `-k`).
    pub fn kill_power(&mut self, now: Instant) -> Result<(), DeviceError> {
        let r = self.poller.kill_power(now);
        self.flush();
        r
    }

    fn flush(&mut self) {
        let lines = self.poller.take_updates();
        self.server.apply_updates(&lines);
    }

    /// The next event to log, if any.
    pub fn poll_event(&mut self) -> Option<DriverEvent> {
        if let Some(e) = self.poller.poll_event() {
            return Some(DriverEvent::Device(e));
        }
        self.server.poll_event().map(DriverEvent::Socket)
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.poller.poll_timeout()
    }

    /// Runs the device update or reconnection that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.poller.handle_timeout(now);
        self.flush();
    }

    /// Registers a new connection.
    pub fn accept(&mut self) -> SockConnId {
        self.server.accept()
    }

    /// Forgets a connection.
    pub fn handle_conn_closed(&mut self, conn: SockConnId) {
        self.server.handle_conn_closed(conn);
    }

    /// Number of open connections.
    pub fn conn_count(&self) -> usize {
        self.server.conn_count()
    }

    /// Whether the core wants this connection closed, and why.
    pub fn close_reason(&self, conn: SockConnId) -> Option<&CloseReason> {
        self.server.close_reason(conn)
    }

    /// Whether the connection is known.
    pub fn is_open(&self, conn: SockConnId) -> bool {
        self.server.is_open(conn)
    }

    /// Bytes waiting to be written to `conn`.
    pub fn poll_transmit(&self, conn: SockConnId) -> Option<&[u8]> {
        self.server.poll_transmit(conn)
    }

    /// Records that `n` bytes were written to `conn`.
    pub fn transmitted(&mut self, conn: SockConnId, n: usize) {
        self.server.transmitted(conn, n);
    }

    /// Feeds bytes read from `conn`; requests run on the device at once.
    pub fn handle_conn_bytes(&mut self, conn: SockConnId, bytes: &[u8], now: Instant) {
        self.server.handle_conn_bytes(conn, bytes);
        while let Some(p) = self.server.poll_request() {
            let result = self.poller.handle_request(&p.request, now);
            self.flush();
            self.server.handle_result(p.conn, p.tracking.as_deref(), result);
        }
    }
}
