//! The sans-IO driver: state, device timing and the socket sessions of
//! every connected `upsd`.

use super::device::{Device, DeviceError};
use super::dstate::Dstate;
use nut_proto::frame::{DEFAULT_MAX_LINE, FrameError, LineFramer};
use nut_proto::sock::{DriverMessage, ServerMessage, SockError, TrackingResult};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Identifies one socket connection of a [`Driver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(u64);

/// Settings of the driver core.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// Time between two device updates (ups.conf `pollinterval`, `-i`).
    pub poll_interval: Duration,
    /// Most bytes queued for one connection; a connection that does not
    /// read and lets more pile up is dropped.
    pub max_output: usize,
    /// Longest line accepted from a connection.
    pub max_line: usize,
    /// The process id answered to `GETPID`.
    pub pid: u32,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            poll_interval: Duration::from_secs(2),
            max_output: 4 << 20,
            max_line: DEFAULT_MAX_LINE,
            pid: std::process::id(),
        }
    }
}

/// Why the core closed a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// More than [`DriverConfig::max_output`] bytes were waiting.
    OutputOverflow,
    /// The peer sent `LOGOUT`.
    Logout,
}

/// Something the adapter may log or act on.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverEvent {
    /// A line from a connection was not understood and was ignored (as NUT
    /// does).
    BadLine {
        /// The connection.
        conn: ConnId,
        /// What was wrong.
        error: SockError,
    },
    /// A line from a connection was too long and was discarded.
    LineTooLong {
        /// The connection.
        conn: ConnId,
    },
    /// A device update failed; the data is stale.
    UpdateFailed(DeviceError),
    /// The data is valid again after a failure.
    Recovered,
    /// A `SET` or `INSTCMD` was handled.
    Handled {
        /// `SET` or `INSTCMD`.
        what: &'static str,
        /// Variable or command name.
        name: String,
        /// The device's answer.
        result: TrackingResult,
    },
}

#[derive(Debug)]
struct Conn {
    framer: LineFramer,
    out: Vec<u8>,
    sent: usize,
    broadcast: bool,
    closing: Option<CloseReason>,
}

impl Conn {
    fn queue(&mut self, bytes: &[u8], max: usize) {
        if self.closing.is_some() {
            return;
        }
        if self.out.len() - self.sent + bytes.len() > max {
            self.out.clear();
            self.sent = 0;
            self.closing = Some(CloseReason::OutputOverflow);
            return;
        }
        if self.sent > 0 && self.sent * 2 >= self.out.len() {
            self.out.drain(..self.sent);
            self.sent = 0;
        }
        self.out.extend_from_slice(bytes);
    }
}

/// A driver: a [`Device`], its [`Dstate`], the poll timing and one session
/// per socket connection. No I/O and no clock: the adapter passes bytes and
/// the current time in, and takes bytes and deadlines out.
///
/// ```
/// use nut_server::driver::{Device, DeviceError, Driver, DriverConfig, Dstate};
/// use std::time::Instant;
///
/// struct Fixed;
/// impl Device for Fixed {
///     fn open(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
///         st.setinfo("ups.status", "OL");
///         Ok(())
///     }
///     fn update(&mut self, _: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
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
    device: D,
    st: Dstate,
    config: DriverConfig,
    conns: BTreeMap<ConnId, Conn>,
    next_id: u64,
    next_update: Option<Instant>,
    failing: bool,
    events: VecDeque<DriverEvent>,
}

/// Most events kept for the adapter; older ones are dropped.
const MAX_EVENTS: usize = 1024;

impl<D: Device> Driver<D> {
    /// A driver around `device`, starting from `st` (which holds the
    /// `driver.*` variables already, see [`super::params`]).
    pub fn new(device: D, st: Dstate, config: DriverConfig) -> Self {
        Driver {
            device,
            st,
            config,
            conns: BTreeMap::new(),
            next_id: 0,
            next_update: None,
            failing: false,
            events: VecDeque::new(),
        }
    }

    /// The published state.
    pub fn dstate(&self) -> &Dstate {
        &self.st
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The settings.
    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// Changes the poll interval (after a reload); takes effect at the next
    /// update.
    pub fn set_poll_interval(&mut self, interval: Duration) {
        self.config.poll_interval = interval;
        self.st.setinfo("driver.parameter.pollinterval", &interval.as_secs().to_string());
        self.flush();
    }

    /// Changes the state and the device together (used for reloads and by
    /// embedders); the changes are broadcast.
    pub fn with_state<R>(&mut self, f: impl FnOnce(&mut D, &mut Dstate) -> R) -> R {
        let r = f(&mut self.device, &mut self.st);
        self.flush();
        r
    }

    /// Opens the device and runs the first update, as NUT's driver main does
    /// before it listens: then publishes `driver.parameter.pollinterval`
    /// and the `device.mfr`/`device.model`/`device.serial` copies of the
    /// `ups.*` values.
    pub fn start(&mut self, now: Instant) -> Result<(), DeviceError> {
        self.device.open(&mut self.st, now)?;
        self.run_update(now);
        self.st.setinfo(
            "driver.parameter.pollinterval",
            &self.config.poll_interval.as_secs().to_string(),
        );
        for (from, to) in [
            ("ups.mfr", "device.mfr"),
            ("ups.model", "device.model"),
            ("ups.serial", "device.serial"),
        ] {
            if let Some(v) = self.st.getinfo(from).map(str::to_string) {
                self.st.setinfo(to, &v);
            }
        }
        self.next_update = Some(now + self.config.poll_interval);
        self.flush();
        Ok(())
    }

    /// Runs the device's shutdown (driver `-k`).
    pub fn shutdown_ups(&mut self) -> Result<(), DeviceError> {
        let r = self.device.shutdown(&mut self.st);
        self.flush();
        r
    }

    fn run_update(&mut self, now: Instant) {
        match self.device.update(&mut self.st, now) {
            Ok(()) => {
                self.st.dataok();
                if self.failing {
                    self.failing = false;
                    self.event(DriverEvent::Recovered);
                }
            }
            Err(e) => {
                self.st.datastale();
                self.failing = true;
                self.event(DriverEvent::UpdateFailed(e));
            }
        }
    }

    fn event(&mut self, e: DriverEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    /// The next event to log, if any.
    pub fn poll_event(&mut self) -> Option<DriverEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.next_update, self.device.next_update()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the device update when it is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(due) = self.poll_timeout() else { return };
        if now < due {
            return;
        }
        self.run_update(now);
        self.next_update = Some(now + self.config.poll_interval);
        self.flush();
    }

    /// Sends the recorded live updates to every connection that takes
    /// broadcasts.
    fn flush(&mut self) {
        let out = self.st.take_outbox();
        if out.is_empty() {
            return;
        }
        let max = self.config.max_output;
        for c in self.conns.values_mut().filter(|c| c.broadcast) {
            c.queue(&out, max);
        }
    }

    /// Registers a new connection.
    pub fn accept(&mut self) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        self.conns.insert(
            id,
            Conn {
                framer: LineFramer::new(self.config.max_line),
                out: Vec::new(),
                sent: 0,
                broadcast: true,
                closing: None,
            },
        );
        id
    }

    /// Forgets a connection (the peer closed it, or the adapter dropped it).
    pub fn handle_conn_closed(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
    }

    /// Number of open connections.
    pub fn conn_count(&self) -> usize {
        self.conns.len()
    }

    /// Whether the core wants this connection closed (after what is queued
    /// for `LOGOUT` has been sent), and why. `None` also for an unknown id.
    pub fn close_reason(&self, conn: ConnId) -> Option<&CloseReason> {
        self.conns.get(&conn).and_then(|c| c.closing.as_ref())
    }

    /// Whether the connection is known.
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.conns.contains_key(&conn)
    }

    /// Bytes waiting to be written to `conn`.
    pub fn poll_transmit(&self, conn: ConnId) -> Option<&[u8]> {
        let c = self.conns.get(&conn)?;
        let pending = &c.out[c.sent..];
        (!pending.is_empty()).then_some(pending)
    }

    /// Records that `n` bytes from [`poll_transmit`](Self::poll_transmit)
    /// were written.
    pub fn transmitted(&mut self, conn: ConnId, n: usize) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.sent = (c.sent + n).min(c.out.len());
            if c.sent == c.out.len() {
                c.out.clear();
                c.sent = 0;
            }
        }
    }

    /// Feeds bytes read from `conn` and handles every complete line.
    pub fn handle_conn_bytes(&mut self, conn: ConnId, mut bytes: &[u8], now: Instant) {
        let _ = now;
        while !bytes.is_empty() {
            let Some(c) = self.conns.get_mut(&conn) else { return };
            if c.closing.is_some() {
                return;
            }
            let (used, frame) = c.framer.decode(bytes);
            let line = match frame {
                Some(Ok(line)) => Some(line.to_vec()),
                Some(Err(FrameError::LineTooLong { .. })) => {
                    self.event(DriverEvent::LineTooLong { conn });
                    None
                }
                Some(Err(_)) => None,
                None => None,
            };
            bytes = &bytes[used..];
            if let Some(line) = line {
                self.handle_line(conn, &line);
            }
        }
    }

    fn reply(&mut self, conn: ConnId, msg: DriverMessage<'_>) {
        let max = self.config.max_output;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.queue(&msg.to_line(), max);
        }
    }

    fn reply_bytes(&mut self, conn: ConnId, bytes: &[u8]) {
        let max = self.config.max_output;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.queue(bytes, max);
        }
    }

    fn handle_line(&mut self, conn: ConnId, line: &[u8]) {
        let msg = match ServerMessage::parse(line) {
            Ok(m) => m,
            Err(SockError::Empty) => return,
            Err(error) => {
                self.event(DriverEvent::BadLine { conn, error });
                return;
            }
        };
        match msg {
            ServerMessage::DumpAll => {
                let mut out = Vec::new();
                self.st.dump_into(&mut out);
                self.reply_bytes(conn, &out);
            }
            ServerMessage::DumpValue { var } => {
                let mut out = Vec::new();
                self.st.dump_one_into(&var, &mut out);
                self.reply_bytes(conn, &out);
            }
            ServerMessage::DumpStatus => {
                let mut out = Vec::new();
                self.st.dump_one_into("ups.status", &mut out);
                self.reply_bytes(conn, &out);
            }
            ServerMessage::Ping => self.reply(conn, DriverMessage::Pong),
            ServerMessage::GetPid => self.reply(conn, DriverMessage::Pid(self.config.pid.into())),
            ServerMessage::NoBroadcast => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.broadcast = false;
                }
            }
            ServerMessage::Broadcast(n) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.broadcast = n.is_none_or(|n| n >= 1);
                }
            }
            ServerMessage::Logout => {
                self.reply(conn, DriverMessage::Goodbye);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.closing.get_or_insert(CloseReason::Logout);
                }
            }
            ServerMessage::Set { var, value, tracking } => {
                let result = self.device.setvar(&mut self.st, &var, &value);
                self.flush();
                self.event(DriverEvent::Handled { what: "SET", name: var.to_string(), result });
                if let Some(id) = tracking {
                    self.reply(conn, DriverMessage::Tracking { id, result });
                }
            }
            ServerMessage::InstCmd { cmd, param, tracking } => {
                let result = self.device.instcmd(&mut self.st, &cmd, param.as_deref());
                self.flush();
                self.event(DriverEvent::Handled { what: "INSTCMD", name: cmd.to_string(), result });
                if let Some(id) = tracking {
                    self.reply(conn, DriverMessage::Tracking { id, result });
                }
            }
            _ => {}
        }
    }
}
