//! The sans-IO `upsd` state machine: every UPS, every client session, and
//! the driver links, driven by bytes and instants handed in by an adapter.

use super::conf::{UpsEntry, UpsdConf};
use super::descs::Descriptions;
use super::tracking::{Tracking, new_tracking_id};
use super::users::{Action, User, Users};
use crate::state::UpsState;
use nut_proto::Secret;
use nut_proto::frame::{FrameError, LineFramer};
use nut_proto::net::{
    Command, CommandError, ErrCode, GetQuery, PROTOCOL_VERSION, Query, Reply, TrackingState,
    VarKind, VarType, Verb,
};
use nut_proto::sock::{DriverMessage, ServerMessage};
use nut_proto::token::atoi;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// The version `upsd` reports by default in `VER`, `server.info` and
/// `server.version`: this crate's version.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How long a client may stay without sending a complete command line.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How often an unconnected driver is retried.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(2);

/// How often a persistent driver connection failure is reported.
pub const CONNFAIL_REPORT_INTERVAL: Duration = Duration::from_secs(300);

/// The longest line accepted from a client or a driver.
pub const MAX_LINE: usize = nut_proto::frame::DEFAULT_MAX_LINE;

/// Failed authentications from one address, each within
/// [`AUTH_FAIL_WINDOW`] of the previous one, after which that address's
/// `PASSWORD` answers are delayed.
pub const AUTH_FAIL_THRESHOLD: u32 = 5;

/// An address's failure count starts again after this long without a
/// failed authentication.
pub const AUTH_FAIL_WINDOW: Duration = Duration::from_secs(60);

/// The delay of the first delayed `PASSWORD` answer; it doubles with each
/// further failure, up to [`AUTH_BACKOFF_MAX`].
pub const AUTH_BACKOFF_BASE: Duration = Duration::from_millis(250);

/// The longest delay between two `PASSWORD` answers to one address.
pub const AUTH_BACKOFF_MAX: Duration = Duration::from_secs(4);

/// At most one [`Notice::AuthFailed`] per address in this time; the
/// failures in between are counted and reported with the next line.
pub const AUTH_LOG_INTERVAL: Duration = Duration::from_secs(30);

/// The most addresses whose failures are remembered at once (the one with
/// the oldest failure is forgotten first).
pub const MAX_AUTH_GUARDS: usize = 4096;

/// Input a delayed session may hold back; more closes the connection.
const MAX_HELD_INPUT: usize = 4 * MAX_LINE;

/// What `STARTTLS` can do on this server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// Built without TLS: `ERR FEATURE-NOT-SUPPORTED`.
    Unsupported,
    /// No certificate configured: `ERR FEATURE-NOT-CONFIGURED` (NUT's
    /// answer without `CERTFILE`).
    #[default]
    NotConfigured,
    /// `OK STARTTLS`, then [`Event::StartTls`].
    Available,
}

/// Server settings that can change on reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `MAXAGE`: driver data is stale after this long without a line.
    pub maxage: Duration,
    /// `TRACKINGDELAY`: how long tracking results are kept.
    pub tracking_delay: Duration,
    /// `MAXCONN`: the most clients served at once.
    pub maxconn: usize,
    /// `REQUIRE_AUTH_FOR_READS`: GET and LIST need valid credentials.
    pub require_auth_for_reads: bool,
    /// The version in `VER`, `server.info` and `server.version`.
    pub version: String,
    /// What STARTTLS does.
    pub tls: TlsMode,
    /// Idle client timeout (60 s in NUT).
    pub idle_timeout: Duration,
    /// `REQUIRE_TLS_FOR_AUTH`: USERNAME, PASSWORD and the privileged
    /// commands get `ERR ACCESS-DENIED` on a TCP session before STARTTLS
    /// (Unix-socket clients, [`Server::client_connected_local`], are
    /// exempt).
    pub require_tls_for_auth: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            maxage: Duration::from_secs(15),
            tracking_delay: Duration::from_secs(3600),
            maxconn: super::conf::DEFAULT_MAXCONN,
            require_auth_for_reads: false,
            version: SERVER_VERSION.to_string(),
            tls: TlsMode::NotConfigured,
            idle_timeout: IDLE_TIMEOUT,
            require_tls_for_auth: false,
        }
    }
}

impl Options {
    /// The options `upsd.conf` sets (TLS is left to the adapter).
    pub fn from_conf(conf: &UpsdConf) -> Self {
        Options {
            maxage: conf.maxage,
            tracking_delay: conf.tracking_delay,
            maxconn: conf.maxconn,
            require_auth_for_reads: conf.require_auth_for_reads,
            require_tls_for_auth: conf.require_tls_for_auth,
            ..Options::default()
        }
    }
}

/// A client connection, as numbered by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where bytes from [`Server::poll_transmit`] go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dest {
    /// A client connection.
    Client(ConnId),
    /// The driver of this UPS (configured name).
    Driver(String),
}

/// Bytes to write, in one write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub dest: Dest,
    /// What (whole lines).
    pub data: Vec<u8>,
}

/// Something the adapter must do or may log. Drain
/// [`Server::poll_transmit`] before [`Server::poll_event`]: bytes queued for
/// a client go out before that client is closed or switched to TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Write what is queued for the client, then close it and call
    /// [`Server::client_closed`].
    CloseClient(ConnId),
    /// Write what is queued for the client (ending with `OK STARTTLS`),
    /// then run a TLS server handshake on the connection and call
    /// [`Server::tls_established`] (or close it on failure).
    StartTls(ConnId),
    /// Connect to the driver socket `socket` (a name inside STATEPATH), then
    /// call [`Server::driver_connected`] or [`Server::driver_connect_failed`].
    ConnectDriver {
        /// UPS name.
        ups: String,
        /// `<driver>-<ups>`.
        socket: String,
    },
    /// Close the link to this UPS's driver (it was removed or changed by a
    /// reload); do not report it back.
    DisconnectDriver {
        /// UPS name.
        ups: String,
    },
    /// Something worth logging.
    Notice(Notice),
}

/// A loggable happening. `Display` gives the log text; no secret ever
/// appears in it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A driver link is up.
    DriverConnected {
        /// UPS name.
        ups: String,
    },
    /// A driver link went down.
    DriverLost {
        /// UPS name.
        ups: String,
    },
    /// Connecting to a driver failed (reported at most every 300 s).
    DriverConnectFailed {
        /// UPS name.
        ups: String,
        /// Socket name.
        socket: String,
        /// Why, from the adapter.
        reason: String,
    },
    /// A driver sent a line that is not understood (rate-limited).
    BadDriverLine {
        /// UPS name.
        ups: String,
        /// What was wrong.
        reason: String,
    },
    /// The UPS data became stale.
    DataStale {
        /// UPS name.
        ups: String,
    },
    /// The UPS data is no longer stale.
    DataOk {
        /// UPS name.
        ups: String,
    },
    /// A client sent a line that could not be tokenized or was too long.
    BadClientLine {
        /// Connection.
        conn: ConnId,
        /// What was wrong.
        reason: String,
    },
    /// A client was dropped after the idle timeout.
    IdleTimeout {
        /// Connection.
        conn: ConnId,
        /// Its address.
        addr: String,
    },
    /// MAXCONN was reached; reported once until a client leaves.
    MaxConnReached {
        /// The limit.
        maxconn: usize,
    },
    /// A user logged in to a UPS.
    Login {
        /// User name.
        user: String,
        /// Client address.
        addr: String,
        /// UPS name.
        ups: String,
        /// Over TLS.
        tls: bool,
    },
    /// A logged-in user sent LOGOUT (or DETACH).
    Logout {
        /// User name.
        user: String,
        /// Client address.
        addr: String,
        /// The UPS the user was logged into.
        ups: String,
        /// Over TLS.
        tls: bool,
    },
    /// An FSD was set.
    FsdSet {
        /// User name.
        user: String,
        /// Client address.
        addr: String,
        /// UPS name.
        ups: String,
    },
    /// A SET VAR was passed to a driver.
    SetVar {
        /// User name.
        user: String,
        /// Client address.
        addr: String,
        /// UPS name.
        ups: String,
        /// Variable.
        var: String,
    },
    /// An INSTCMD was passed to a driver.
    InstCmd {
        /// User name.
        user: String,
        /// Client address.
        addr: String,
        /// UPS name.
        ups: String,
        /// Command.
        cmd: String,
    },
    /// Wrong credentials (unknown user or wrong password) were used for a
    /// command. At most one per address every [`AUTH_LOG_INTERVAL`]; the
    /// ones left out in between are counted in the next.
    AuthFailed {
        /// User name as given.
        user: String,
        /// Client address.
        addr: String,
        /// The command's verb.
        verb: &'static str,
        /// Failures from this address in a row (see [`AUTH_FAIL_WINDOW`]).
        failures: u32,
        /// Failures from this address not logged since the last line.
        suppressed: u32,
    },
    /// Failures left out of the log for an address since its last
    /// [`Notice::AuthFailed`], reported once [`AUTH_LOG_INTERVAL`] passed.
    AuthFailuresSuppressed {
        /// Client address.
        addr: String,
        /// How many.
        count: u32,
    },
    /// A privileged command was refused for missing permission (or
    /// credentials on a plaintext session with `REQUIRE_TLS_FOR_AUTH`).
    AccessDenied {
        /// User name as given.
        user: String,
        /// Client address.
        addr: String,
        /// The command's verb.
        verb: &'static str,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::DriverConnected { ups } => write!(f, "connected to the driver of UPS [{ups}]"),
            Notice::DriverLost { ups } => write!(f, "lost the driver of UPS [{ups}]"),
            Notice::DriverConnectFailed { ups, socket, reason } => {
                write!(f, "cannot connect to the driver of UPS [{ups}] ({socket}): {reason}")
            }
            Notice::BadDriverLine { ups, reason } => {
                write!(f, "driver of UPS [{ups}] sent a bad line: {reason}")
            }
            Notice::DataStale { ups } => write!(f, "data for UPS [{ups}] is stale - check driver"),
            Notice::DataOk { ups } => write!(f, "UPS [{ups}] data is no longer stale"),
            Notice::BadClientLine { conn, reason } => {
                write!(f, "client {conn} sent a bad line: {reason}")
            }
            Notice::IdleTimeout { conn, addr } => {
                write!(f, "client {conn} ({addr}) dropped after the idle timeout")
            }
            Notice::MaxConnReached { maxconn } => {
                write!(f, "MAXCONN ({maxconn}) reached: refusing new clients")
            }
            // NUT's words (server/netuser.c), which log readers look for.
            Notice::Login { user, addr, ups, tls } => {
                let ssl = if *tls { " (SSL)" } else { "" };
                write!(f, "User {user}@{addr} logged into UPS [{ups}]{ssl}")
            }
            Notice::Logout { user, addr, ups, tls } => {
                let ssl = if *tls { " (SSL)" } else { "" };
                write!(f, "User {user}@{addr} logged out from UPS [{ups}]{ssl}")
            }
            Notice::FsdSet { user, addr, ups } => {
                write!(f, "client {user}@{addr} set FSD on UPS [{ups}]")
            }
            Notice::SetVar { user, addr, ups, var } => {
                write!(f, "set variable: {user}@{addr} set {var} on {ups}")
            }
            Notice::InstCmd { user, addr, ups, cmd } => {
                write!(f, "instant command: {user}@{addr} did {cmd} on {ups}")
            }
            Notice::AuthFailed { user, addr, verb, failures, suppressed } => {
                write!(
                    f,
                    "authentication failed for {user}@{addr} ({verb}); \
                     {failures} in a row from this address"
                )?;
                if *suppressed > 0 {
                    write!(f, ", {suppressed} more not logged since the last line")?;
                }
                Ok(())
            }
            Notice::AuthFailuresSuppressed { addr, count } => {
                write!(f, "{count} more authentication failures from {addr} not logged")
            }
            Notice::AccessDenied { user, addr, verb } => {
                write!(f, "access denied to {user}@{addr} for {verb}")
            }
        }
    }
}

/// Refusal of a new client by [`Server::client_connected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// MAXCONN clients are connected.
    #[error("too many clients (MAXCONN {0})")]
    MaxConn(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Down,
    Connecting,
    Up,
}

struct Ups {
    entry: UpsEntry,
    state: UpsState,
    link: Link,
    stale: bool,
    fsd: bool,
    dumpdone: bool,
    data_ok: bool,
    framer: LineFramer,
    last_heard: Instant,
    last_ping: Instant,
    next_attempt: Instant,
    last_fail_report: Option<Instant>,
    last_bad_line_report: Option<Instant>,
    out: Vec<u8>,
}

impl Ups {
    fn new(entry: UpsEntry, now: Instant) -> Self {
        Ups {
            entry,
            state: UpsState::new(),
            link: Link::Down,
            stale: true,
            fsd: false,
            dumpdone: false,
            data_ok: false,
            framer: LineFramer::new(MAX_LINE),
            last_heard: now,
            last_ping: now,
            next_attempt: now,
            last_fail_report: None,
            last_bad_line_report: None,
            out: Vec::new(),
        }
    }

    fn name(&self) -> &str {
        &self.entry.name
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tls {
    Plain,
    Pending,
    Active,
}

/// What a session has said about who it is; boxed, so that the many
/// sessions that never log in stay small.
#[derive(Default)]
struct Auth {
    username: Option<String>,
    password: Option<Secret<String>>,
    login: Option<String>,
}

/// A session whose answers are held back until `until` (failed
/// authentications from its address); input meanwhile waits in `input`.
struct Held {
    until: Instant,
    input: Vec<u8>,
}

/// Failed authentications from one address.
struct Guard {
    failures: u32,
    last_failure: Instant,
    /// When the last delayed answer to this address is released: the next
    /// one comes a backoff after it, so parallel connections do not help.
    next_free: Instant,
    last_log: Option<Instant>,
    suppressed: u32,
}

impl Guard {
    fn backoff(&self) -> Duration {
        let steps = self.failures.saturating_sub(AUTH_FAIL_THRESHOLD).min(16);
        AUTH_BACKOFF_BASE.saturating_mul(1u32 << steps).min(AUTH_BACKOFF_MAX)
    }
}

struct Session {
    addr: Box<str>,
    framer: LineFramer,
    auth: Option<Box<Auth>>,
    tracking: bool,
    tls: Tls,
    /// Connected over a Unix socket ([`Server::client_connected_local`]).
    local: bool,
    held: Option<Box<Held>>,
    last_cmd: Instant,
    logout_pending: bool,
    closing: bool,
    out: Vec<u8>,
}

impl Session {
    fn username(&self) -> Option<&str> {
        self.auth.as_ref()?.username.as_deref()
    }

    fn password(&self) -> Option<&Secret<String>> {
        self.auth.as_ref()?.password.as_ref()
    }

    fn login(&self) -> Option<&str> {
        self.auth.as_ref()?.login.as_deref()
    }

    fn auth_mut(&mut self) -> &mut Auth {
        self.auth.get_or_insert_with(Box::default)
    }
}

/// The `upsd` core. See the [module docs](super).
pub struct Server {
    options: Options,
    ups: Vec<Ups>,
    users: Users,
    descs: Descriptions,
    sessions: BTreeMap<ConnId, Session>,
    next_conn: u64,
    tracking: Tracking,
    dirty: VecDeque<Dest>,
    events: VecDeque<Event>,
    refusing: bool,
    guards: HashMap<Box<str>, Guard>,
}

enum QKind {
    Attach,
    Other,
}

fn err(code: ErrCode<'static>) -> Reply<'static> {
    Reply::err(code)
}

/// `server.info`, `server.version` and the other `server.` names (any
/// case), which upsd answers itself.
fn is_server_var(var: &str) -> bool {
    var.as_bytes().get(..7).is_some_and(|p| p.eq_ignore_ascii_case(b"server."))
}

impl Server {
    /// A server for these UPSes (in `ups.conf` order), users and
    /// descriptions. No driver is connected yet: the first
    /// [`Server::handle_timeout`] asks for every driver link.
    pub fn new(
        options: Options,
        ups: Vec<UpsEntry>,
        users: Users,
        descs: Descriptions,
        now: Instant,
    ) -> Self {
        Server {
            options,
            ups: ups.into_iter().map(|e| Ups::new(e, now)).collect(),
            users,
            descs,
            sessions: BTreeMap::new(),
            next_conn: 1,
            tracking: Tracking::default(),
            dirty: VecDeque::new(),
            events: VecDeque::new(),
            refusing: false,
            guards: HashMap::new(),
        }
    }

    /// The current options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Applies a reload: new options, UPS list, users and descriptions.
    /// Clients stay connected. A UPS whose driver or port changed is
    /// reconnected; a removed UPS is dropped and the clients logged into it
    /// are closed; a new one is connected on the next timeout.
    pub fn reconfigure(
        &mut self,
        options: Options,
        ups: Vec<UpsEntry>,
        users: Users,
        descs: Descriptions,
        now: Instant,
    ) {
        self.options = options;
        self.users = users;
        self.descs = descs;
        let mut old: Vec<Ups> = std::mem::take(&mut self.ups);
        for entry in ups {
            match old.iter().position(|u| u.name().eq_ignore_ascii_case(&entry.name)) {
                Some(i) => {
                    let mut u = old.remove(i);
                    if u.entry.driver != entry.driver || u.entry.port != entry.port {
                        if u.link != Link::Down {
                            self.events
                                .push_back(Event::DisconnectDriver { ups: u.entry.name.clone() });
                        }
                        let fsd = u.fsd;
                        u = Ups::new(entry, now);
                        u.fsd = fsd;
                    } else {
                        u.entry.desc = entry.desc;
                    }
                    self.ups.push(u);
                }
                None => self.ups.push(Ups::new(entry, now)),
            }
        }
        for u in old {
            if u.link != Link::Down {
                self.events.push_back(Event::DisconnectDriver { ups: u.entry.name.clone() });
            }
            self.dirty.retain(|d| *d != Dest::Driver(u.entry.name.clone()));
            let kicked: Vec<ConnId> = self
                .sessions
                .iter()
                .filter(|(_, s)| s.login() == Some(u.name()))
                .map(|(c, _)| *c)
                .collect();
            for c in kicked {
                self.close_client(c);
            }
        }
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.ups.iter().position(|u| u.name().eq_ignore_ascii_case(name))
    }

    /// The mirrored state of a UPS, if it is configured.
    pub fn ups_state(&self, ups: &str) -> Option<&UpsState> {
        self.find(ups).map(|i| &self.ups[i].state)
    }

    /// Whether the UPS's data is stale (or its driver not connected).
    pub fn is_stale(&self, ups: &str) -> Option<bool> {
        self.find(ups).map(|i| self.ups[i].stale)
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.sessions.len()
    }

    /// Names of the configured UPSes, in order.
    pub fn ups_names(&self) -> impl Iterator<Item = &str> {
        self.ups.iter().map(Ups::name)
    }

    // ----- clients -----

    /// A client connected from `addr` (the text `LIST CLIENT` shows, e.g.
    /// `127.0.0.1` or `::1`). Refused when MAXCONN clients are connected;
    /// the adapter then closes the socket at once.
    pub fn client_connected(&mut self, addr: &str, now: Instant) -> Result<ConnId, Refused> {
        self.connect_client(addr, false, now)
    }

    /// [`Server::client_connected`] for a client of a Unix socket
    /// (`LISTEN_UNIX`): a local client, which `REQUIRE_TLS_FOR_AUTH` does
    /// not apply to.
    pub fn client_connected_local(&mut self, addr: &str, now: Instant) -> Result<ConnId, Refused> {
        self.connect_client(addr, true, now)
    }

    fn connect_client(&mut self, addr: &str, local: bool, now: Instant) -> Result<ConnId, Refused> {
        if self.sessions.len() >= self.options.maxconn {
            if !self.refusing {
                self.refusing = true;
                self.events.push_back(Event::Notice(Notice::MaxConnReached {
                    maxconn: self.options.maxconn,
                }));
            }
            return Err(Refused::MaxConn(self.options.maxconn));
        }
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        self.sessions.insert(
            id,
            Session {
                addr: addr.into(),
                framer: LineFramer::new(MAX_LINE),
                auth: None,
                tracking: false,
                tls: Tls::Plain,
                local,
                held: None,
                last_cmd: now,
                logout_pending: false,
                closing: false,
                out: Vec::new(),
            },
        );
        Ok(id)
    }

    /// The client's connection is gone (closed by either side).
    pub fn client_closed(&mut self, conn: ConnId) {
        if self.sessions.remove(&conn).is_some() {
            self.dirty.retain(|d| *d != Dest::Client(conn));
            if self.sessions.len() < self.options.maxconn {
                self.refusing = false;
            }
        }
    }

    /// The TLS handshake asked for by [`Event::StartTls`] succeeded; the
    /// session reads commands again (now decrypted by the adapter).
    pub fn tls_established(&mut self, conn: ConnId) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.tls = Tls::Active;
        }
    }

    fn close_client(&mut self, conn: ConnId) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            if !s.closing {
                s.closing = true;
                self.events.push_back(Event::CloseClient(conn));
            }
        }
    }

    /// Bytes received from a client. Replies are queued for
    /// [`Server::poll_transmit`], one buffer per call.
    pub fn handle_client_bytes(&mut self, conn: ConnId, mut bytes: &[u8], now: Instant) {
        // Room for a usual reply line, so that encoding it does not regrow.
        let mut out = Vec::with_capacity(128);
        let mut logout = false;
        loop {
            let Some(s) = self.sessions.get_mut(&conn) else { return };
            if let Some(h) = &mut s.held {
                // Answers are held back: the rest waits, bounded.
                if h.input.len() + bytes.len() > MAX_HELD_INPUT {
                    h.input.clear();
                    self.close_client(conn);
                } else {
                    h.input.extend_from_slice(bytes);
                }
                break;
            }
            if s.closing || s.tls == Tls::Pending || bytes.is_empty() {
                break;
            }
            // The framer is taken out while a line it holds is run (no
            // copy of the line), and put back below.
            let mut framer = std::mem::take(&mut s.framer);
            let (used, frame) = framer.decode(bytes);
            bytes = &bytes[used..];
            let line = match frame {
                None => None,
                Some(Ok(line)) => {
                    s.last_cmd = now;
                    s.logout_pending = false;
                    logout = false;
                    if self.execute(conn, line, now, &mut out) {
                        logout = true;
                    }
                    None
                }
                Some(Err(e)) => Some(e),
            };
            if let Some(s) = self.sessions.get_mut(&conn) {
                s.framer = framer;
            }
            match line {
                None => {}
                Some(FrameError::LineTooLong { max }) => {
                    if let Some(s) = self.sessions.get_mut(&conn) {
                        s.last_cmd = now;
                    }
                    self.events.push_back(Event::Notice(Notice::BadClientLine {
                        conn,
                        reason: format!("line longer than {max} bytes"),
                    }));
                    err(ErrCode::InvalidArgument).encode(&mut out);
                }
                Some(e) => {
                    self.events.push_back(Event::Notice(Notice::BadClientLine {
                        conn,
                        reason: e.to_string(),
                    }));
                }
            }
        }
        if !out.is_empty() {
            self.queue_client_owned(conn, out);
        }
        if logout {
            if let Some(s) = self.sessions.get_mut(&conn) {
                s.logout_pending = true;
            }
            self.close_client(conn);
        }
    }

    fn queue_client(&mut self, conn: ConnId, data: &[u8]) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            if s.out.is_empty() {
                self.dirty.push_back(Dest::Client(conn));
            }
            s.out.extend_from_slice(data);
        }
    }

    /// [`Server::queue_client`], without a copy when nothing is queued yet.
    fn queue_client_owned(&mut self, conn: ConnId, data: Vec<u8>) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            if s.out.is_empty() {
                self.dirty.push_back(Dest::Client(conn));
                s.out = data;
            } else {
                s.out.extend_from_slice(&data);
            }
        }
    }

    fn queue_driver(&mut self, i: usize, msg: &ServerMessage<'_>) {
        let u = &mut self.ups[i];
        if u.out.is_empty() {
            self.dirty.push_back(Dest::Driver(u.entry.name.clone()));
        }
        msg.encode(&mut u.out);
    }

    /// The user named by the session's USERNAME, if PASSWORD matches.
    fn authenticated(&self, conn: ConnId) -> Option<&User> {
        let s = self.sessions.get(&conn)?;
        let (Some(name), Some(pw)) = (s.username(), s.password()) else { return None };
        self.users.authenticate(name, pw.expose())
    }

    fn may(&self, conn: ConnId, action: Action) -> bool {
        self.authenticated(conn).is_some_and(|u| u.actions.contains(&action))
    }

    fn denied(&mut self, conn: ConnId, verb: Verb, now: Instant) -> Reply<'static> {
        if self.authenticated(conn).is_none() {
            self.auth_failed(conn, verb, now);
            return err(ErrCode::AccessDenied);
        }
        let (user, addr) = self.who(conn);
        self.events.push_back(Event::Notice(Notice::AccessDenied {
            user,
            addr,
            verb: verb.as_str(),
        }));
        err(ErrCode::AccessDenied)
    }

    fn who(&self, conn: ConnId) -> (String, String) {
        self.sessions
            .get(&conn)
            .map(|s| (s.username().unwrap_or_default().to_string(), s.addr.to_string()))
            .unwrap_or_default()
    }

    /// `ERR DRIVER-NOT-CONNECTED` / `ERR DATA-STALE`, or None when usable.
    fn unavailable(&self, i: usize) -> Option<Reply<'static>> {
        let u = &self.ups[i];
        if u.link != Link::Up {
            Some(err(ErrCode::DriverNotConnected))
        } else if u.stale {
            Some(err(ErrCode::DataStale))
        } else {
            None
        }
    }

    /// Runs one command line; returns true for LOGOUT/DETACH.
    fn execute(&mut self, conn: ConnId, line: &[u8], now: Instant, out: &mut Vec<u8>) -> bool {
        let parsed = Command::parse(line);
        let verb = match &parsed {
            Ok(c) => Some(c.verb()),
            Err(CommandError::InvalidArgument { verb }) => Some(*verb),
            Err(_) => None,
        };
        if let Some(v) = verb {
            if self.needs_tls(conn, v, &parsed) {
                let (user, addr) = self.who(conn);
                self.events.push_back(Event::Notice(Notice::AccessDenied {
                    user,
                    addr,
                    verb: v.as_str(),
                }));
                err(ErrCode::AccessDenied).encode(out);
                return false;
            }
        }
        // The credentials checks come before the arguments are looked at.
        if let Some(v) = verb {
            if let Some(r) = self.credentials_check(conn, v, now) {
                r.encode(out);
                return false;
            }
        }
        let cmd = match parsed {
            Ok(c) => c,
            Err(e) => {
                if let CommandError::Token(t) = &e {
                    self.events.push_back(Event::Notice(Notice::BadClientLine {
                        conn,
                        reason: t.to_string(),
                    }));
                }
                err(e.err_code()).encode(out);
                return false;
            }
        };
        match cmd {
            Command::Logout | Command::Detach => {
                if let Some(s) = self.sessions.get(&conn) {
                    if let Some(ups) = s.login() {
                        let (ups, tls) = (ups.to_string(), s.tls == Tls::Active);
                        let (user, addr) = self.who(conn);
                        let n = Notice::Logout { user, addr, ups, tls };
                        self.events.push_back(Event::Notice(n));
                    }
                }
                Reply::OkGoodbye.encode(out);
                return true;
            }
            Command::StartTls => {
                let Some(s) = self.sessions.get_mut(&conn) else { return false };
                let r = match (s.tls, self.options.tls) {
                    (Tls::Active, _) => err(ErrCode::AlreadySslMode),
                    (_, TlsMode::Unsupported) => err(ErrCode::FeatureNotSupported),
                    (_, TlsMode::NotConfigured) => err(ErrCode::FeatureNotConfigured),
                    (_, TlsMode::Available) => {
                        s.tls = Tls::Pending;
                        Reply::OkStartTls.encode(out);
                        // The bytes so far go out in plaintext, then the
                        // handshake; later input in this read is dropped.
                        let data = std::mem::take(out);
                        self.queue_client(conn, &data);
                        self.events.push_back(Event::StartTls(conn));
                        return false;
                    }
                };
                r.encode(out);
            }
            other => {
                let r = self.run(conn, other, now, out);
                if let Some(r) = r {
                    r.encode(out);
                }
            }
        }
        false
    }

    /// Whether `REQUIRE_TLS_FOR_AUTH` refuses this command here: credentials
    /// or a privileged command on a TCP session before STARTTLS.
    fn needs_tls(
        &self,
        conn: ConnId,
        verb: Verb,
        parsed: &Result<Command<'_>, CommandError>,
    ) -> bool {
        if !self.options.require_tls_for_auth {
            return false;
        }
        let Some(s) = self.sessions.get(&conn) else { return false };
        if s.local || s.tls == Tls::Active {
            return false;
        }
        match verb {
            Verb::Username
            | Verb::Password
            | Verb::Login
            | Verb::Attach
            | Verb::Primary
            | Verb::Master
            | Verb::Fsd
            | Verb::InstCmd => true,
            Verb::Set => !matches!(parsed, Ok(Command::SetTracking(_))),
            _ => false,
        }
    }

    fn credentials_check(
        &mut self,
        conn: ConnId,
        verb: Verb,
        now: Instant,
    ) -> Option<Reply<'static>> {
        let reads = self.options.require_auth_for_reads && matches!(verb, Verb::Get | Verb::List);
        if !verb.needs_credentials() && !reads {
            return None;
        }
        let s = self.sessions.get(&conn)?;
        if s.username().is_none() {
            return Some(err(ErrCode::UsernameRequired));
        }
        if s.password().is_none() {
            return Some(err(ErrCode::PasswordRequired));
        }
        if reads && self.authenticated(conn).is_none() {
            self.auth_failed(conn, verb, now);
            return Some(err(ErrCode::AccessDenied));
        }
        None
    }

    /// Runs a command; list commands write their rows into `out` and
    /// return None, others return their single reply.
    fn run(
        &mut self,
        conn: ConnId,
        cmd: Command<'_>,
        now: Instant,
        out: &mut Vec<u8>,
    ) -> Option<Reply<'static>> {
        let text = |t: String| Reply::Text(Cow::Owned(t));
        let master = matches!(cmd, Command::Master { .. });
        Some(match cmd {
            Command::Ver => text(self.server_info()),
            Command::NetVer | Command::ProtVer => text(PROTOCOL_VERSION.to_string()),
            Command::Help => text(
                "Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS"
                    .to_string(),
            ),
            Command::Username(name) => {
                let s = self.sessions.get_mut(&conn)?;
                if s.username().is_some() {
                    err(ErrCode::AlreadySetUsername)
                } else {
                    s.auth_mut().username = Some(name.into_owned());
                    Reply::Ok
                }
            }
            Command::Password(pw) => {
                let s = self.sessions.get_mut(&conn)?;
                if s.password().is_some() {
                    err(ErrCode::AlreadySetPassword)
                } else {
                    s.auth_mut().password = Some(Secret::new(pw.into_inner().into_owned()));
                    let addr = s.addr.clone();
                    if let Some(until) = self.password_delay(&addr, now) {
                        let s = self.sessions.get_mut(&conn)?;
                        s.held = Some(Box::new(Held { until, input: Vec::new() }));
                    }
                    Reply::Ok
                }
            }
            Command::Login { ups } | Command::Attach { ups } => {
                if self.sessions.get(&conn)?.login().is_some() {
                    return Some(err(ErrCode::AlreadyLoggedIn));
                }
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                if !self.may(conn, Action::Login) {
                    return Some(self.denied(conn, Verb::Login, now));
                }
                let name = self.ups[i].entry.name.clone();
                let (user, addr) = self.who(conn);
                let s = self.sessions.get_mut(&conn)?;
                s.auth_mut().login = Some(name.clone());
                let tls = s.tls == Tls::Active;
                self.events.push_back(Event::Notice(Notice::Login { user, addr, ups: name, tls }));
                Reply::Ok
            }
            Command::Primary { ups } | Command::Master { ups } => {
                if self.find(&ups).is_none() {
                    return Some(err(ErrCode::UnknownUps));
                }
                if !self.may(conn, Action::Primary) {
                    return Some(self.denied(conn, Verb::Primary, now));
                }
                if master { Reply::OkMasterGranted } else { Reply::OkPrimaryGranted }
            }
            Command::Fsd { ups } => {
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                if !self.may(conn, Action::Fsd) {
                    return Some(self.denied(conn, Verb::Fsd, now));
                }
                self.ups[i].fsd = true;
                let (user, addr) = self.who(conn);
                let ups = self.ups[i].entry.name.clone();
                self.events.push_back(Event::Notice(Notice::FsdSet { user, addr, ups }));
                Reply::OkFsdSet
            }
            Command::Get(GetQuery::Var { ups, var }) if !is_server_var(&var) => {
                self.get_var_into(&ups, &var, out);
                return None;
            }
            Command::Get(q) => return self.get(conn, q),
            Command::List(q) => {
                self.list(q, out);
                return None;
            }
            Command::SetTracking(on) => {
                self.sessions.get_mut(&conn)?.tracking = on;
                Reply::Ok
            }
            Command::SetVar { ups, var, value } => self.set_var(conn, &ups, &var, &value, now),
            Command::InstCmd { ups, cmd, param } => {
                self.instcmd(conn, &ups, &cmd, param.as_deref(), now)
            }
            // Handled by the caller.
            Command::Logout | Command::Detach | Command::StartTls => return None,
            _ => err(ErrCode::UnknownCommand),
        })
    }

    fn server_info(&self) -> String {
        format!("Network UPS Tools upsd {} - http://www.networkupstools.org/", self.options.version)
    }

    fn get(&mut self, conn: ConnId, q: GetQuery<'_>) -> Option<Reply<'static>> {
        let o = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        let q_kind =
            if matches!(q, GetQuery::NumAttach { .. }) { QKind::Attach } else { QKind::Other };
        Some(match q {
            GetQuery::Tracking(None) => {
                let on = self.sessions.get(&conn)?.tracking;
                Reply::Tracking(if on { TrackingState::On } else { TrackingState::Off })
            }
            GetQuery::Tracking(Some(id)) => {
                if !self.sessions.get(&conn)?.tracking {
                    err(ErrCode::FeatureNotConfigured)
                } else {
                    let owner = self.authenticated(conn).map(|u| u.name.as_str());
                    Reply::Text(Cow::Borrowed(self.tracking.reply(&id, owner)))
                }
            }
            GetQuery::NumLogins { ups } | GetQuery::NumAttach { ups } => {
                let attach = matches!(q_kind, QKind::Attach);
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                if let Some(e) = self.unavailable(i) {
                    return Some(e);
                }
                let name = self.ups[i].entry.name.clone();
                let count = self
                    .sessions
                    .values()
                    .filter(|s| s.login() == Some(name.as_str()))
                    .count()
                    .try_into()
                    .unwrap_or(u32::MAX);
                if attach {
                    Reply::NumAttach { ups: o(ups), count }
                } else {
                    Reply::NumLogins { ups: o(ups), count }
                }
            }
            GetQuery::UpsDesc { ups } => {
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                let desc = self.ups[i].entry.desc.clone().unwrap_or_else(|| "Unavailable".into());
                Reply::UpsDesc { ups: o(ups), desc: Cow::Owned(desc) }
            }
            GetQuery::Var { ups, var } => {
                if is_server_var(&var) {
                    let (name, value) = if var.eq_ignore_ascii_case("server.info") {
                        ("server.info", self.server_info())
                    } else if var.eq_ignore_ascii_case("server.version") {
                        ("server.version", self.options.version.clone())
                    } else {
                        return Some(err(ErrCode::VarNotSupported));
                    };
                    return Some(Reply::Var {
                        ups: o(ups),
                        var: Cow::Borrowed(name),
                        value: Cow::Owned(value),
                    });
                }
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                if let Some(e) = self.unavailable(i) {
                    return Some(e);
                }
                let u = &self.ups[i];
                let Some(v) = u.state.value(&var) else {
                    return Some(err(ErrCode::VarNotSupported));
                };
                let value = if u.fsd && var.eq_ignore_ascii_case("ups.status") {
                    format!("FSD {v}")
                } else {
                    v.to_string()
                };
                Reply::Var { ups: o(ups), var: o(var), value: Cow::Owned(value) }
            }
            GetQuery::Type { ups, var } => {
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                if let Some(e) = self.unavailable(i) {
                    return Some(e);
                }
                let Some(v) = self.ups[i].state.get(&var) else {
                    return Some(err(ErrCode::VarNotSupported));
                };
                let ty = VarType {
                    rw: v.flags.rw,
                    enumerated: !v.enums.is_empty(),
                    range: !v.ranges.is_empty(),
                    kind: Some(if v.flags.string {
                        VarKind::String(v.aux)
                    } else {
                        VarKind::Number
                    }),
                };
                Reply::Type { ups: o(ups), var: o(var), ty }
            }
            GetQuery::Desc { ups, var } => {
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                if let Some(e) = self.unavailable(i) {
                    return Some(e);
                }
                let desc = self.descs.var(&var).unwrap_or("Description unavailable").to_string();
                Reply::Desc { ups: o(ups), var: o(var), desc: Cow::Owned(desc) }
            }
            GetQuery::CmdDesc { ups, cmd } => {
                let Some(i) = self.find(&ups) else { return Some(err(ErrCode::UnknownUps)) };
                if let Some(e) = self.unavailable(i) {
                    return Some(e);
                }
                let desc = self.descs.cmd(&cmd).unwrap_or("Description unavailable").to_string();
                Reply::CmdDesc { ups: o(ups), cmd: o(cmd), desc: Cow::Owned(desc) }
            }
            _ => err(ErrCode::InvalidArgument),
        })
    }

    /// `GET VAR` of a UPS variable (not `server.*`), encoded straight into
    /// `out` from the borrowed names and value: no copy, no allocation.
    fn get_var_into(&self, ups: &str, var: &str, out: &mut Vec<u8>) {
        let Some(i) = self.find(ups) else { return err(ErrCode::UnknownUps).encode(out) };
        if let Some(e) = self.unavailable(i) {
            return e.encode(out);
        }
        let u = &self.ups[i];
        let Some(v) = u.state.value(var) else {
            return err(ErrCode::VarNotSupported).encode(out);
        };
        let value = if u.fsd && var.eq_ignore_ascii_case("ups.status") {
            Cow::Owned(format!("FSD {v}"))
        } else {
            Cow::Borrowed(v)
        };
        Reply::Var { ups: Cow::Borrowed(ups), var: Cow::Borrowed(var), value }.encode(out);
    }

    fn list(&self, q: Query<'_>, out: &mut Vec<u8>) {
        let ups_word = q.ups().map(str::to_string).unwrap_or_default();
        let idx = match &q {
            Query::Ups => None,
            _ => match self.find(&ups_word) {
                Some(i) => Some(i),
                None => return err(ErrCode::UnknownUps).encode(out),
            },
        };
        // LIST CLIENT has no availability check.
        if let (Some(i), false) = (idx, matches!(q, Query::Client { .. })) {
            if let Some(e) = self.unavailable(i) {
                return e.encode(out);
            }
        }
        let ups_cow = || Cow::Borrowed(ups_word.as_str());
        if let (Some(i), Some(var)) = (idx, q.var()) {
            if self.ups[i].state.get(var).is_none() {
                return err(ErrCode::VarNotSupported).encode(out);
            }
        }
        Reply::BeginList(q.clone()).encode(out);
        match &q {
            Query::Ups => {
                for u in &self.ups {
                    Reply::Ups {
                        ups: Cow::Borrowed(u.name()),
                        desc: Cow::Borrowed(
                            u.entry.desc.as_deref().unwrap_or("Description unavailable"),
                        ),
                    }
                    .encode(out);
                }
            }
            Query::Var { .. } | Query::Rw { .. } => {
                let u = &self.ups[idx.unwrap_or_default()];
                let rw = matches!(q, Query::Rw { .. });
                for (name, v) in u.state.vars() {
                    if rw {
                        if v.flags.rw {
                            Reply::Rw {
                                ups: ups_cow(),
                                var: Cow::Borrowed(name),
                                value: Cow::Borrowed(&v.value),
                            }
                            .encode(out);
                        }
                    } else {
                        let value = if u.fsd && name.eq_ignore_ascii_case("ups.status") {
                            Cow::Owned(format!("FSD {}", v.value))
                        } else {
                            Cow::Borrowed(v.value.as_str())
                        };
                        Reply::Var { ups: ups_cow(), var: Cow::Borrowed(name), value }.encode(out);
                    }
                }
            }
            Query::Cmd { .. } => {
                for c in self.ups[idx.unwrap_or_default()].state.commands() {
                    Reply::Cmd { ups: ups_cow(), cmd: Cow::Borrowed(c) }.encode(out);
                }
            }
            Query::Client { .. } => {
                let name = self.ups[idx.unwrap_or_default()].name();
                for s in self.sessions.values() {
                    if s.login() == Some(name) {
                        Reply::Client { ups: Cow::Borrowed(name), addr: Cow::Borrowed(&s.addr) }
                            .encode(out);
                    }
                }
            }
            Query::Enum { var, .. } | Query::Range { var, .. } => {
                let Some(v) = self.ups[idx.unwrap_or_default()].state.get(var) else { return };
                if matches!(q, Query::Enum { .. }) {
                    for e in &v.enums {
                        Reply::Enum {
                            ups: ups_cow(),
                            var: Cow::Borrowed(var),
                            value: Cow::Borrowed(e),
                        }
                        .encode(out);
                    }
                } else {
                    for &(min, max) in &v.ranges {
                        Reply::Range { ups: ups_cow(), var: Cow::Borrowed(var), min, max }
                            .encode(out);
                    }
                }
            }
            _ => {}
        }
        Reply::EndList(q).encode(out);
    }

    fn new_tracking(&mut self, conn: ConnId, now: Instant) -> Option<String> {
        if self.sessions.get(&conn).is_some_and(|s| s.tracking) {
            let id = new_tracking_id();
            // SET and INSTCMD are only run for an authenticated user.
            let owner = self.authenticated(conn).map(|u| u.name.clone()).unwrap_or_default();
            self.tracking.add(&id, &owner, now);
            Some(id)
        } else {
            None
        }
    }

    fn set_var(
        &mut self,
        conn: ConnId,
        ups: &str,
        var: &str,
        value: &str,
        now: Instant,
    ) -> Reply<'static> {
        let Some(i) = self.find(ups) else { return err(ErrCode::UnknownUps) };
        if let Some(e) = self.unavailable(i) {
            return e;
        }
        if !self.may(conn, Action::Set) {
            return self.denied(conn, Verb::Set, now);
        }
        let Some(v) = self.ups[i].state.get(var) else { return err(ErrCode::VarNotSupported) };
        if !v.flags.rw {
            return err(ErrCode::Readonly);
        }
        if v.flags.string {
            if v.aux < 1 {
                return err(ErrCode::SetFailed);
            }
            if i64::try_from(value.len()).unwrap_or(i64::MAX) > v.aux {
                return err(ErrCode::TooLong);
            }
        }
        if !v.enums.is_empty() && !v.enums.iter().any(|e| e == value) {
            return err(ErrCode::InvalidValue);
        }
        if !v.ranges.is_empty() {
            let n = atoi(value);
            if !v.ranges.iter().any(|&(min, max)| min <= n && n <= max) {
                return err(ErrCode::InvalidValue);
            }
        }
        let id = self.new_tracking(conn, now);
        let msg = ServerMessage::Set {
            var: Cow::Borrowed(var),
            value: Cow::Borrowed(value),
            tracking: id.as_deref().map(Cow::Borrowed),
        };
        self.queue_driver(i, &msg);
        let (user, addr) = self.who(conn);
        self.events.push_back(Event::Notice(Notice::SetVar {
            user,
            addr,
            ups: self.ups[i].entry.name.clone(),
            var: var.to_string(),
        }));
        match id {
            Some(id) => Reply::OkTracking(Cow::Owned(id)),
            None => Reply::Ok,
        }
    }

    fn instcmd(
        &mut self,
        conn: ConnId,
        ups: &str,
        cmd: &str,
        param: Option<&str>,
        now: Instant,
    ) -> Reply<'static> {
        let Some(i) = self.find(ups) else { return err(ErrCode::UnknownUps) };
        if let Some(e) = self.unavailable(i) {
            return e;
        }
        if !self.ups[i].state.has_command(cmd) {
            return err(ErrCode::CmdNotSupported);
        }
        if !self.authenticated(conn).is_some_and(|u| u.may_run(cmd)) {
            return self.denied(conn, Verb::InstCmd, now);
        }
        let id = self.new_tracking(conn, now);
        let msg = ServerMessage::InstCmd {
            cmd: Cow::Borrowed(cmd),
            param: param.map(Cow::Borrowed),
            tracking: id.as_deref().map(Cow::Borrowed),
        };
        self.queue_driver(i, &msg);
        let (user, addr) = self.who(conn);
        self.events.push_back(Event::Notice(Notice::InstCmd {
            user,
            addr,
            ups: self.ups[i].entry.name.clone(),
            cmd: cmd.to_string(),
        }));
        match id {
            Some(id) => Reply::OkTracking(Cow::Owned(id)),
            None => Reply::Ok,
        }
    }

    // ----- drivers -----

    /// The adapter connected to the driver of `ups`: the mirror is reset to
    /// `ups.status "WAIT"` and `DUMPALL` is queued. Returns false when the
    /// UPS is not (or no longer) configured; the adapter then closes the
    /// connection.
    pub fn driver_connected(&mut self, ups: &str, now: Instant) -> bool {
        let Some(i) = self.find(ups) else { return false };
        let u = &mut self.ups[i];
        u.link = Link::Up;
        u.state.clear();
        // Cannot fail on an empty tree.
        let _ = u.state.set_value("ups.status", "WAIT");
        u.dumpdone = false;
        u.data_ok = false;
        u.stale = false;
        u.framer = LineFramer::new(MAX_LINE);
        u.last_heard = now;
        u.last_ping = now;
        u.last_fail_report = None;
        u.last_bad_line_report = None;
        u.out.clear();
        let name = u.entry.name.clone();
        self.dirty.retain(|d| *d != Dest::Driver(name.clone()));
        self.queue_driver(i, &ServerMessage::DumpAll);
        self.events.push_back(Event::Notice(Notice::DriverConnected { ups: name }));
        true
    }

    /// Connecting to the driver of `ups` failed; it is retried after
    /// [`RETRY_INTERVAL`]. Reported at most every 300 s.
    pub fn driver_connect_failed(&mut self, ups: &str, reason: &str, now: Instant) {
        let Some(i) = self.find(ups) else { return };
        let u = &mut self.ups[i];
        u.link = Link::Down;
        u.next_attempt = now + RETRY_INTERVAL;
        let report = u
            .last_fail_report
            .is_none_or(|t| now.saturating_duration_since(t) >= CONNFAIL_REPORT_INTERVAL);
        if report {
            u.last_fail_report = Some(now);
            self.events.push_back(Event::Notice(Notice::DriverConnectFailed {
                ups: u.entry.name.clone(),
                socket: u.entry.socket_name(),
                reason: reason.to_string(),
            }));
        }
    }

    /// The driver connection of `ups` closed or failed. Its variables and
    /// commands are dropped; it is reconnected on the next timeout.
    pub fn driver_closed(&mut self, ups: &str, now: Instant) {
        let Some(i) = self.find(ups) else { return };
        let u = &mut self.ups[i];
        if u.link == Link::Down {
            return;
        }
        u.link = Link::Down;
        u.state.clear();
        u.stale = true;
        u.dumpdone = false;
        u.out.clear();
        u.next_attempt = now;
        let name = u.entry.name.clone();
        self.dirty.retain(|d| *d != Dest::Driver(name.clone()));
        self.events.push_back(Event::Notice(Notice::DriverLost { ups: name }));
    }

    /// Bytes received from the driver of `ups`.
    pub fn handle_driver_bytes(&mut self, ups: &str, mut bytes: &[u8], now: Instant) {
        let Some(i) = self.find(ups) else { return };
        if self.ups[i].link != Link::Up {
            return;
        }
        while !bytes.is_empty() {
            let u = &mut self.ups[i];
            let (used, frame) = u.framer.decode(bytes);
            let bad = match frame {
                None => None,
                Some(Ok(line)) => match DriverMessage::parse(line) {
                    Ok(msg) => {
                        u.last_heard = now;
                        match msg {
                            DriverMessage::DumpDone => u.dumpdone = true,
                            DriverMessage::DataOk => u.data_ok = true,
                            DriverMessage::DataStale => u.data_ok = false,
                            DriverMessage::Tracking { id, result } => {
                                self.tracking.set(&id, result);
                            }
                            other => {
                                if let Err(e) = u.state.apply(&other) {
                                    self.bad_driver_line(i, e.to_string(), now);
                                }
                            }
                        }
                        None
                    }
                    Err(e) => Some(e.to_string()),
                },
                Some(Err(e)) => Some(e.to_string()),
            };
            if let Some(reason) = bad {
                self.bad_driver_line(i, reason, now);
            }
            bytes = &bytes[used..];
        }
        self.update_stale(i, now);
    }

    fn bad_driver_line(&mut self, i: usize, reason: String, now: Instant) {
        let u = &mut self.ups[i];
        if u.last_bad_line_report.is_none_or(|t| now.saturating_duration_since(t) >= IDLE_TIMEOUT) {
            u.last_bad_line_report = Some(now);
            self.events.push_back(Event::Notice(Notice::BadDriverLine {
                ups: u.entry.name.clone(),
                reason,
            }));
        }
    }

    fn ping_interval(&self) -> Duration {
        Duration::from_secs((self.options.maxage.as_secs() / 3).max(1))
    }

    fn update_stale(&mut self, i: usize, now: Instant) {
        let maxage = self.options.maxage;
        let u = &mut self.ups[i];
        let dead = u.link != Link::Up
            || (u.dumpdone && !u.data_ok)
            || now.saturating_duration_since(u.last_heard) >= maxage;
        if dead != u.stale {
            u.stale = dead;
            let ups = u.entry.name.clone();
            if u.link == Link::Up {
                self.events.push_back(Event::Notice(if dead {
                    Notice::DataStale { ups }
                } else {
                    Notice::DataOk { ups }
                }));
            }
        }
    }

    // ----- time -----

    /// When [`Server::handle_timeout`] should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ping = self.ping_interval();
        let mut t: Option<Instant> = None;
        let mut at = |x: Instant| t = Some(t.map_or(x, |t| t.min(x)));
        for u in &self.ups {
            match u.link {
                Link::Down => at(u.next_attempt),
                Link::Connecting => {}
                Link::Up => {
                    if !u.stale {
                        at(u.last_heard + self.options.maxage);
                    }
                    at(u.last_heard.max(u.last_ping) + ping);
                }
            }
        }
        for s in self.sessions.values() {
            if !s.closing {
                at(s.last_cmd + self.options.idle_timeout);
            }
            if let Some(h) = &s.held {
                at(h.until);
            }
        }
        for g in self.guards.values() {
            if g.suppressed > 0 {
                at(g.last_log.map_or(g.last_failure, |t| t + AUTH_LOG_INTERVAL));
            }
        }
        if let Some(x) = self.tracking.next_expiry(self.options.tracking_delay) {
            at(x);
        }
        t
    }

    /// Runs what is due at `now`: driver (re)connections, pings,
    /// staleness, idle clients, expired tracking results.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tracking.purge(now, self.options.tracking_delay);
        let ping = self.ping_interval();
        for i in 0..self.ups.len() {
            let u = &mut self.ups[i];
            match u.link {
                Link::Down if u.next_attempt <= now => {
                    u.link = Link::Connecting;
                    self.events.push_back(Event::ConnectDriver {
                        ups: u.entry.name.clone(),
                        socket: u.entry.socket_name(),
                    });
                }
                Link::Up
                    if now.saturating_duration_since(u.last_heard) >= ping
                        && now.saturating_duration_since(u.last_ping) >= ping =>
                {
                    u.last_ping = now;
                    self.queue_driver(i, &ServerMessage::Ping);
                }
                _ => {}
            }
            self.update_stale(i, now);
        }
        let idle: Vec<(ConnId, String)> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                !s.closing && now.saturating_duration_since(s.last_cmd) >= self.options.idle_timeout
            })
            .map(|(c, s)| (*c, s.addr.to_string()))
            .collect();
        for (conn, addr) in idle {
            self.events.push_back(Event::Notice(Notice::IdleTimeout { conn, addr }));
            self.close_client(conn);
        }
        self.release_held(now);
        self.expire_guards(now);
    }

    /// Sends what held sessions queued once their time has come, then runs
    /// the input they held back.
    fn release_held(&mut self, now: Instant) {
        let due: Vec<ConnId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.held.as_ref().is_some_and(|h| h.until <= now))
            .map(|(c, _)| *c)
            .collect();
        for conn in due {
            let Some(s) = self.sessions.get_mut(&conn) else { continue };
            let input = s.held.take().map(|h| h.input).unwrap_or_default();
            if !s.out.is_empty() {
                self.dirty.push_back(Dest::Client(conn));
            }
            if !input.is_empty() {
                self.handle_client_bytes(conn, &input, now);
            }
        }
    }

    /// Reports failures left out of the log, and forgets addresses quiet
    /// for [`AUTH_FAIL_WINDOW`].
    fn expire_guards(&mut self, now: Instant) {
        for (addr, g) in &mut self.guards {
            if g.suppressed > 0 && g.last_log.is_none_or(|t| now >= t + AUTH_LOG_INTERVAL) {
                self.events.push_back(Event::Notice(Notice::AuthFailuresSuppressed {
                    addr: addr.to_string(),
                    count: g.suppressed,
                }));
                g.suppressed = 0;
                g.last_log = Some(now);
            }
        }
        self.guards.retain(|_, g| {
            g.suppressed > 0
                || g.next_free > now
                || now.saturating_duration_since(g.last_failure) < AUTH_FAIL_WINDOW
        });
    }

    /// Counts a failed authentication from the session's address and logs
    /// it (rate-limited).
    fn auth_failed(&mut self, conn: ConnId, verb: Verb, now: Instant) {
        let (user, addr) = self.who(conn);
        if !self.guards.contains_key(addr.as_str()) && self.guards.len() >= MAX_AUTH_GUARDS {
            let oldest =
                self.guards.iter().min_by_key(|(_, g)| g.last_failure).map(|(a, _)| a.clone());
            if let Some(a) = oldest {
                self.guards.remove(&a);
            }
        }
        let g = self.guards.entry(addr.as_str().into()).or_insert(Guard {
            failures: 0,
            last_failure: now,
            next_free: now,
            last_log: None,
            suppressed: 0,
        });
        if now.saturating_duration_since(g.last_failure) >= AUTH_FAIL_WINDOW {
            g.failures = 0;
        }
        g.failures = g.failures.saturating_add(1);
        g.last_failure = now;
        if g.last_log.is_none_or(|t| now >= t + AUTH_LOG_INTERVAL) {
            let (failures, suppressed) = (g.failures, g.suppressed);
            g.last_log = Some(now);
            g.suppressed = 0;
            self.events.push_back(Event::Notice(Notice::AuthFailed {
                user,
                addr,
                verb: verb.as_str(),
                failures,
                suppressed,
            }));
        } else {
            g.suppressed = g.suppressed.saturating_add(1);
        }
    }

    /// When the answer to a PASSWORD from `addr` may go out, if it must
    /// wait: after [`AUTH_FAIL_THRESHOLD`] recent failures, a backoff after
    /// the previous delayed answer to that address.
    fn password_delay(&mut self, addr: &str, now: Instant) -> Option<Instant> {
        let g = self.guards.get_mut(addr)?;
        if g.failures < AUTH_FAIL_THRESHOLD
            || now.saturating_duration_since(g.last_failure) >= AUTH_FAIL_WINDOW
        {
            return None;
        }
        let until = g.next_free.max(now) + g.backoff();
        g.next_free = until;
        Some(until)
    }

    // ----- output -----

    /// The next bytes to write, one buffer per destination and batch.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        while let Some(dest) = self.dirty.pop_front() {
            let data = match &dest {
                // A held session's dirty mark is renewed on release.
                Dest::Client(c) => self
                    .sessions
                    .get_mut(c)
                    .filter(|s| s.held.is_none())
                    .map(|s| std::mem::take(&mut s.out)),
                Dest::Driver(name) => self.find(name).map(|i| std::mem::take(&mut self.ups[i].out)),
            };
            match data {
                Some(data) if !data.is_empty() => return Some(Transmit { dest, data }),
                _ => continue,
            }
        }
        None
    }

    /// The next thing for the adapter to do or log.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
