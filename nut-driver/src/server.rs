//! The socket side of a driver: a mirror of the published state and one
//! session per connected `upsd` (NUT's `drivers/dstate.c` socket code),
//! without I/O and without the device.
//!
//! The device side ([`Poller`](crate::Poller)) sends its changes as
//! socket-protocol lines; [`SocketServer::apply_updates`] applies them to
//! the mirror and broadcasts them unchanged. `SET` and `INSTCMD` become
//! [`Request`]s for the device side, whose answers come back through
//! [`SocketServer::handle_result`]. So the socket side never waits for the
//! device: `PING`, `DUMPALL` and new connections are answered while a
//! device call blocks.

use crate::poll::Request;
use nut_proto::frame::{DEFAULT_MAX_LINE, FrameError, LineFramer};
use nut_proto::sock::{DriverMessage, ServerMessage, SockError, TrackingResult};
use nut_proto::state::UpsState;
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};

/// Identifies one socket connection of a [`SocketServer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SockConnId(u64);

/// Settings of the socket side.
#[derive(Clone, Debug)]
pub struct SocketConfig {
    /// Most bytes queued for one connection; a connection that does not
    /// read and lets more pile up is dropped.
    pub max_output: usize,
    /// Longest line accepted from a connection.
    pub max_line: usize,
    /// The process id answered to `GETPID`.
    pub pid: u32,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig { max_output: 4 << 20, max_line: DEFAULT_MAX_LINE, pid: std::process::id() }
    }
}

/// Why the core closed a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// More than [`SocketConfig::max_output`] bytes were waiting.
    OutputOverflow,
    /// The peer sent `LOGOUT`.
    Logout,
}

/// Something the adapter may log.
#[derive(Debug)]
#[non_exhaustive]
pub enum SocketEvent {
    /// A line from a connection was not understood and was ignored (as NUT
    /// does).
    BadLine {
        /// The connection.
        conn: SockConnId,
        /// What was wrong.
        error: SockError,
    },
    /// A line from a connection was too long and was discarded.
    LineTooLong {
        /// The connection.
        conn: SockConnId,
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

/// The state as `upsd` is told it: the tree and the DATAOK/DATASTALE
/// flag, kept in step from the device side's lines.
#[derive(Clone, Debug)]
pub struct Mirror {
    tree: UpsState,
    stale: bool,
}

impl Default for Mirror {
    fn default() -> Self {
        Mirror { tree: UpsState::new(), stale: true }
    }
}

impl Mirror {
    /// The tree.
    pub fn tree(&self) -> &UpsState {
        &self.tree
    }

    /// Whether the data is stale.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Applies one message; returns whether it changed anything.
    pub fn apply(&mut self, msg: &DriverMessage<'_>) -> bool {
        match msg {
            DriverMessage::DataOk => std::mem::replace(&mut self.stale, false),
            DriverMessage::DataStale => !std::mem::replace(&mut self.stale, true),
            m => matches!(self.tree.apply(m), Ok(true)),
        }
    }

    /// The lines of a `DUMPALL` answer, in NUT's order: `DATASTALE` if
    /// stale, the tree, `DATAOK` if not stale, `DUMPDONE`.
    pub fn dump_into(&self, out: &mut Vec<u8>) {
        dump_into(&self.tree, self.stale, out);
    }

    /// The lines describing one variable (HEAD's `DUMPVALUE`), framed like
    /// a `DUMPALL` answer.
    pub fn dump_one_into(&self, var: &str, out: &mut Vec<u8>) {
        dump_one_into(&self.tree, self.stale, var, out);
    }
}

/// The lines of a `DUMPALL` answer, in NUT's order: `DATASTALE` if
/// stale, the tree, `DATAOK` if not stale, `DUMPDONE`.
pub(crate) fn dump_into(tree: &UpsState, stale: bool, out: &mut Vec<u8>) {
    if stale {
        DriverMessage::DataStale.encode(out);
    }
    for m in tree.dump() {
        m.encode(out);
    }
    if !stale {
        DriverMessage::DataOk.encode(out);
    }
    DriverMessage::DumpDone.encode(out);
}

/// The lines describing one variable (HEAD's `DUMPVALUE`), framed like
/// a `DUMPALL` answer.
pub(crate) fn dump_one_into(tree: &UpsState, stale: bool, var: &str, out: &mut Vec<u8>) {
    if stale {
        DriverMessage::DataStale.encode(out);
    }
    if let Some(v) = tree.get(var) {
        let name = tree.vars().find(|(n, _)| n.eq_ignore_ascii_case(var)).map_or(var, |(n, _)| n);
        let name: Cow<'_, str> = name.into();
        DriverMessage::SetInfo { var: name.clone(), value: v.value.as_str().into() }.encode(out);
        for e in &v.enums {
            DriverMessage::AddEnum { var: name.clone(), value: e.as_str().into() }.encode(out);
        }
        for &(min, max) in &v.ranges {
            DriverMessage::AddRange { var: name.clone(), min, max }.encode(out);
        }
        if v.aux != 0 {
            DriverMessage::SetAux { var: name.clone(), aux: v.aux }.encode(out);
        }
        if !v.flags.is_empty() {
            DriverMessage::SetFlags { var: name, flags: v.flags }.encode(out);
        }
    }
    if !stale {
        DriverMessage::DataOk.encode(out);
    }
    DriverMessage::DumpDone.encode(out);
}

/// A request from a connection, waiting for the device side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRequest {
    /// The connection that sent it.
    pub conn: SockConnId,
    /// Its `TRACKING` id, if any.
    pub tracking: Option<String>,
    /// What to do.
    pub request: Request,
}

/// Most requests waiting for the device; more are answered `FAILED`.
pub const MAX_PENDING_REQUESTS: usize = 256;

/// The socket side of a driver: the [`Mirror`] and one session per
/// connection. No I/O and no clock.
#[derive(Debug, Default)]
pub struct SocketServer {
    mirror: Mirror,
    config: SocketConfig,
    conns: BTreeMap<SockConnId, Conn>,
    next_id: u64,
    events: VecDeque<SocketEvent>,
    requests: VecDeque<PendingRequest>,
}

/// Most events kept for the adapter; older ones are dropped.
const MAX_EVENTS: usize = 1024;

impl SocketServer {
    /// A socket side with an empty (stale) mirror.
    pub fn new(config: SocketConfig) -> Self {
        SocketServer { config, ..Self::default() }
    }

    /// The state as served.
    pub fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    /// The settings.
    pub fn config(&self) -> &SocketConfig {
        &self.config
    }

    /// Applies the device side's lines (from
    /// [`Poller::take_updates`](crate::Poller::take_updates)) and
    /// broadcasts them to every connection that takes broadcasts.
    pub fn apply_updates(&mut self, lines: &[u8]) {
        if lines.is_empty() {
            return;
        }
        for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(msg) = DriverMessage::parse(line) {
                self.mirror.apply(&msg);
            }
        }
        let max = self.config.max_output;
        for c in self.conns.values_mut().filter(|c| c.broadcast) {
            c.queue(lines, max);
        }
    }

    fn event(&mut self, e: SocketEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    /// The next event to log, if any.
    pub fn poll_event(&mut self) -> Option<SocketEvent> {
        self.events.pop_front()
    }

    /// The next request for the device side.
    pub fn poll_request(&mut self) -> Option<PendingRequest> {
        self.requests.pop_front()
    }

    /// The device side's answer to a request: sends `TRACKING <id>
    /// <result>` when the request had an id and its connection is open.
    pub fn handle_result(
        &mut self,
        conn: SockConnId,
        tracking: Option<&str>,
        result: TrackingResult,
    ) {
        if let Some(id) = tracking {
            self.reply(conn, DriverMessage::Tracking { id: id.into(), result });
        }
    }

    /// Registers a new connection.
    pub fn accept(&mut self) -> SockConnId {
        let id = SockConnId(self.next_id);
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
    pub fn handle_conn_closed(&mut self, conn: SockConnId) {
        self.conns.remove(&conn);
    }

    /// Number of open connections.
    pub fn conn_count(&self) -> usize {
        self.conns.len()
    }

    /// Whether the core wants this connection closed (after what is queued
    /// for `LOGOUT` has been sent), and why. `None` also for an unknown id.
    pub fn close_reason(&self, conn: SockConnId) -> Option<&CloseReason> {
        self.conns.get(&conn).and_then(|c| c.closing.as_ref())
    }

    /// Whether the connection is known.
    pub fn is_open(&self, conn: SockConnId) -> bool {
        self.conns.contains_key(&conn)
    }

    /// Bytes waiting to be written to `conn`.
    pub fn poll_transmit(&self, conn: SockConnId) -> Option<&[u8]> {
        let c = self.conns.get(&conn)?;
        let pending = &c.out[c.sent..];
        (!pending.is_empty()).then_some(pending)
    }

    /// Records that `n` bytes from [`poll_transmit`](Self::poll_transmit)
    /// were written.
    pub fn transmitted(&mut self, conn: SockConnId, n: usize) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.sent = (c.sent + n).min(c.out.len());
            if c.sent == c.out.len() {
                c.out.clear();
                c.sent = 0;
            }
        }
    }

    /// Feeds bytes read from `conn` and handles every complete line.
    pub fn handle_conn_bytes(&mut self, conn: SockConnId, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let Some(c) = self.conns.get_mut(&conn) else { return };
            if c.closing.is_some() {
                return;
            }
            let (used, frame) = c.framer.decode(bytes);
            let line = match frame {
                Some(Ok(line)) => Some(line.to_vec()),
                Some(Err(FrameError::LineTooLong { .. })) => {
                    self.event(SocketEvent::LineTooLong { conn });
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

    fn reply(&mut self, conn: SockConnId, msg: DriverMessage<'_>) {
        let max = self.config.max_output;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.queue(&msg.to_line(), max);
        }
    }

    fn reply_bytes(&mut self, conn: SockConnId, bytes: &[u8]) {
        let max = self.config.max_output;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.queue(bytes, max);
        }
    }

    fn handle_line(&mut self, conn: SockConnId, line: &[u8]) {
        let msg = match ServerMessage::parse(line) {
            Ok(m) => m,
            Err(SockError::Empty) => return,
            Err(error) => {
                self.event(SocketEvent::BadLine { conn, error });
                return;
            }
        };
        match msg {
            ServerMessage::DumpAll => {
                let mut out = Vec::new();
                self.mirror.dump_into(&mut out);
                self.reply_bytes(conn, &out);
            }
            ServerMessage::DumpValue { var } => {
                let mut out = Vec::new();
                self.mirror.dump_one_into(&var, &mut out);
                self.reply_bytes(conn, &out);
            }
            ServerMessage::DumpStatus => {
                let mut out = Vec::new();
                self.mirror.dump_one_into("ups.status", &mut out);
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
            ServerMessage::Set { var, value, tracking } => self.queue_request(
                conn,
                tracking.map(|t| t.to_string()),
                Request::Set { var: var.to_string(), value: value.to_string() },
            ),
            ServerMessage::InstCmd { cmd, param, tracking } => self.queue_request(
                conn,
                tracking.map(|t| t.to_string()),
                Request::InstCmd { cmd: cmd.to_string(), param: param.map(|p| p.to_string()) },
            ),
            _ => {}
        }
    }

    fn queue_request(&mut self, conn: SockConnId, tracking: Option<String>, request: Request) {
        if self.requests.len() >= MAX_PENDING_REQUESTS {
            self.handle_result(conn, tracking.as_deref(), TrackingResult::Failed);
            return;
        }
        self.requests.push_back(PendingRequest { conn, tracking, request });
    }
}
