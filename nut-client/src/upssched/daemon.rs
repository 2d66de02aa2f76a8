//! The timer daemon's line protocol and its sans-IO core.

use super::TimerTable;
use nut_proto::frame::{FrameError, LineFramer};
use nut_proto::token::{self, TokenError};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Longest request line the daemon accepts (NUT's client writes at most
/// about 300 bytes).
pub const MAX_REQUEST_LINE: usize = 4096;

/// A request from `upssched` to its timer daemon, one line each.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `START "<timer>" "<seconds>"`.
    Start {
        /// Timer name.
        timer: String,
        /// Delay as written (read with [`parse_seconds`]).
        seconds: String,
    },
    /// `START-SHARED "<timer>" "<seconds>"` (NUT after 2.8.0): start unless
    /// a timer of that name is running.
    StartShared {
        /// Timer name.
        timer: String,
        /// Delay as written.
        seconds: String,
    },
    /// `CANCEL "<timer>" ["<cmd>"]`.
    Cancel {
        /// Timer name.
        timer: String,
        /// Run `CMDSCRIPT <cmd>` when no such timer was running (an empty
        /// one is ignored, as NUT does).
        cmd: Option<String>,
    },
}

/// Why a request line was refused (the daemon answers `ERR UNKNOWN`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The line did not tokenize.
    #[error("{0}")]
    Token(#[from] TokenError),
    /// An unknown command, or too few words for it.
    #[error("unknown command")]
    Unknown,
}

impl Request {
    /// Parses one line (without LF) as NUT's daemon reads it: the command
    /// word is case-sensitive, extra words are ignored.
    ///
    /// ```
    /// use nut_client::upssched::Request;
    /// let r = Request::parse(br#"CANCEL "t1" "back on""#).unwrap();
    /// assert_eq!(r, Request::Cancel { timer: "t1".into(), cmd: Some("back on".into()) });
    /// assert_eq!(r.encode(), b"CANCEL \"t1\" \"back on\"\n");
    /// assert!(Request::parse(b"start t 1").is_err());
    /// ```
    pub fn parse(line: &[u8]) -> Result<Request, RequestError> {
        let w = token::tokenize(line)?;
        let arg = |i: usize| w.get(i).map(str::to_string);
        match (w.get(0), w.len()) {
            (Some("CANCEL"), n) if n >= 2 => {
                Ok(Request::Cancel { timer: arg(1).unwrap_or_default(), cmd: arg(2) })
            }
            (Some("START"), n) if n >= 3 => Ok(Request::Start {
                timer: arg(1).unwrap_or_default(),
                seconds: arg(2).unwrap_or_default(),
            }),
            (Some("START-SHARED"), n) if n >= 3 => Ok(Request::StartShared {
                timer: arg(1).unwrap_or_default(),
                seconds: arg(2).unwrap_or_default(),
            }),
            _ => Err(RequestError::Unknown),
        }
    }

    /// The line NUT's `upssched` writes for this request, LF included:
    /// every argument quoted and escaped.
    pub fn encode(&self) -> Vec<u8> {
        let (verb, a, b) = match self {
            Request::Start { timer, seconds } => ("START", timer, Some(seconds)),
            Request::StartShared { timer, seconds } => ("START-SHARED", timer, Some(seconds)),
            Request::Cancel { timer, cmd } => ("CANCEL", timer, cmd.as_ref()),
        };
        let mut out = verb.as_bytes().to_vec();
        out.push(b' ');
        token::quote_into(&mut out, a);
        if let Some(b) = b {
            out.push(b' ');
            token::quote_into(&mut out, b);
        }
        out.push(b'\n');
        out
    }
}

/// The daemon's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonReply {
    /// `OK`.
    Ok,
    /// `ERR UNKNOWN`: the request was not understood.
    ErrUnknown,
    /// Anything else (read by a client; NUT's client retries).
    Other(String),
}

impl DaemonReply {
    /// The bytes the daemon sends.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            DaemonReply::Ok => b"OK\n".to_vec(),
            DaemonReply::ErrUnknown => b"ERR UNKNOWN\n".to_vec(),
            DaemonReply::Other(s) => {
                let mut v: Vec<u8> = s.bytes().filter(|&b| b != b'\n' && b != b'\r').collect();
                v.push(b'\n');
                v
            }
        }
    }

    /// Reads what a client received, as NUT's client does: success when it
    /// starts with `OK`.
    pub fn parse(bytes: &[u8]) -> DaemonReply {
        let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        if line.starts_with(b"OK") {
            DaemonReply::Ok
        } else if line == b"ERR UNKNOWN" {
            DaemonReply::ErrUnknown
        } else {
            DaemonReply::Other(String::from_utf8_lossy(line).into_owned())
        }
    }
}

/// Reads a timer delay as NUT does (`strtol`: leading number, garbage is
/// 0); `None` for a negative delay, which NUT ignores ("bogus offset for
/// timer, ignoring") while still answering `OK`.
pub fn parse_seconds(s: &str) -> Option<Duration> {
    u64::try_from(token::atoi(s)).ok().map(Duration::from_secs)
}

/// Something the daemon's driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonAction {
    /// Run CMDSCRIPT with `arg` as one argument, never through a shell,
    /// and wait for it, as NUT does: a timer expired (`arg` is its name)
    /// or a CANCEL found no timer and carried a command.
    Run(String),
    /// The table has been empty for the idle time: remove PIPEFN and exit.
    Exit,
}

/// A line-level event the driver may log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonEvent {
    /// A timer was started.
    Started {
        /// Timer name.
        timer: String,
        /// Its delay.
        after: Duration,
    },
    /// A START with a negative delay was ignored.
    BogusOffset {
        /// Timer name.
        timer: String,
    },
    /// A START-SHARED found the timer already running.
    AlreadyRunning {
        /// Timer name.
        timer: String,
    },
    /// A timer was cancelled.
    Cancelled {
        /// Timer name.
        timer: String,
    },
    /// A request was refused.
    Refused {
        /// Why.
        error: RequestError,
    },
    /// A request line was too long and was skipped.
    LineTooLong,
}

/// The timer daemon: requests in, replies out, timers on the caller's
/// clock, [`DaemonAction`]s to carry out.
///
/// ```
/// use nut_client::upssched::{Daemon, DaemonAction, DaemonReply};
/// use std::time::{Duration, Instant};
/// let t0 = Instant::now();
/// let mut d = Daemon::new(t0, Duration::from_secs(15));
/// assert_eq!(d.handle_request(b"START \"t\" \"2\"", t0), DaemonReply::Ok);
/// assert_eq!(d.poll_timeout(), Some(t0 + Duration::from_secs(2)));
/// d.handle_timeout(t0 + Duration::from_secs(2));
/// assert_eq!(d.poll_action(), Some(DaemonAction::Run("t".into())));
/// d.handle_timeout(t0 + Duration::from_secs(17));
/// assert_eq!(d.poll_action(), Some(DaemonAction::Exit));
/// ```
#[derive(Debug)]
pub struct Daemon {
    table: TimerTable,
    actions: VecDeque<DaemonAction>,
    events: VecDeque<DaemonEvent>,
    empty_since: Option<Instant>,
    idle_exit: Duration,
    exiting: bool,
}

impl Daemon {
    /// How long NUT's daemon means to stay with no timers before it exits
    /// (15 passes of its one-second loop).
    pub const DEFAULT_IDLE_EXIT: Duration = Duration::from_secs(15);

    /// A daemon with no timers, started at `now`, that exits once its
    /// table has stayed empty for `idle_exit`.
    pub fn new(now: Instant, idle_exit: Duration) -> Self {
        Daemon {
            table: TimerTable::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            empty_since: Some(now),
            idle_exit,
            exiting: false,
        }
    }

    /// Handles one request line (without LF) and returns the reply.
    pub fn handle_request(&mut self, line: &[u8], now: Instant) -> DaemonReply {
        let req = match Request::parse(line) {
            Ok(r) => r,
            Err(error) => {
                self.events.push_back(DaemonEvent::Refused { error });
                return DaemonReply::ErrUnknown;
            }
        };
        match req {
            Request::Start { timer, seconds } => self.start(timer, &seconds, now),
            Request::StartShared { timer, seconds } => {
                if self.table.is_running(&timer) {
                    self.events.push_back(DaemonEvent::AlreadyRunning { timer });
                } else {
                    self.start(timer, &seconds, now);
                }
            }
            Request::Cancel { timer, cmd } => {
                if self.table.cancel(&timer) {
                    self.events.push_back(DaemonEvent::Cancelled { timer });
                } else if let Some(cmd) = cmd.filter(|c| !c.is_empty()) {
                    self.actions.push_back(DaemonAction::Run(cmd));
                }
                self.note_empty(now);
            }
        }
        DaemonReply::Ok
    }

    fn start(&mut self, timer: String, seconds: &str, now: Instant) {
        match parse_seconds(seconds) {
            Some(after) => {
                self.table.start(&timer, after, now);
                self.empty_since = None;
                self.events.push_back(DaemonEvent::Started { timer, after });
            }
            None => self.events.push_back(DaemonEvent::BogusOffset { timer }),
        }
    }

    fn note_empty(&mut self, now: Instant) {
        if self.table.is_empty() && self.empty_since.is_none() {
            self.empty_since = Some(now);
        }
    }

    /// Expires the timers due at `now` (queueing a [`DaemonAction::Run`]
    /// for each, in start order) and queues [`DaemonAction::Exit`] once the
    /// table has been empty for the idle time.
    pub fn handle_timeout(&mut self, now: Instant) {
        for name in self.table.handle_timeout(now) {
            self.actions.push_back(DaemonAction::Run(name));
        }
        self.note_empty(now);
        if let Some(since) = self.empty_since {
            if !self.exiting && now.saturating_duration_since(since) >= self.idle_exit {
                self.exiting = true;
                self.actions.push_back(DaemonAction::Exit);
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let idle = self.empty_since.filter(|_| !self.exiting).map(|s| s + self.idle_exit);
        match (self.table.poll_timeout(), idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<DaemonAction> {
        self.actions.pop_front()
    }

    /// The next thing worth logging.
    pub fn poll_event(&mut self) -> Option<DaemonEvent> {
        self.events.pop_front()
    }

    /// The running timers.
    pub fn timers(&self) -> &TimerTable {
        &self.table
    }
}

/// One client connection to the daemon: bytes in, reply bytes out.
#[derive(Debug)]
pub struct Connection {
    framer: LineFramer,
}

impl Default for Connection {
    fn default() -> Self {
        Connection { framer: LineFramer::new(MAX_REQUEST_LINE) }
    }
}

impl Connection {
    /// A new connection.
    pub fn new() -> Self {
        Connection::default()
    }

    /// Feeds received bytes; every complete line is handled by `daemon`
    /// and its reply appended to the returned bytes (an overlong line is
    /// skipped and answered `ERR UNKNOWN`).
    pub fn handle_input(&mut self, bytes: &[u8], daemon: &mut Daemon, now: Instant) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (used, frame) = self.framer.decode(rest);
            rest = &rest[used..];
            match frame {
                Some(Ok(line)) => out.extend(daemon.handle_request(line, now).encode()),
                Some(Err(FrameError::LineTooLong { .. })) => {
                    daemon.events.push_back(DaemonEvent::LineTooLong);
                    out.extend(DaemonReply::ErrUnknown.encode());
                }
                Some(Err(_)) => out.extend(DaemonReply::ErrUnknown.encode()),
                None => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn replies_as_nut() {
        let t0 = Instant::now();
        let mut d = Daemon::new(t0, secs(15));
        let mut c = Connection::new();
        let input: &[u8] = b"START \"z\" \"30\"\nBOGUS\nSTART z\nSTART \"y\" \"-5\"\nstart r 3\n\
                             CANCEL z\nCANCEL\nSTART a 1 extra\n\"open\n";
        let out = c.handle_input(input, &mut d, t0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "OK\nERR UNKNOWN\nERR UNKNOWN\nOK\nERR UNKNOWN\nOK\nERR UNKNOWN\nOK\n"
        );
        assert_eq!(d.timers().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn cancel_runs_cmd_only_when_not_running() {
        let t0 = Instant::now();
        let mut d = Daemon::new(t0, secs(15));
        d.handle_request(b"START t 10", t0);
        d.handle_request(b"CANCEL t \"back\"", t0);
        assert_eq!(d.poll_action(), None);
        d.handle_request(b"CANCEL t \"back\"", t0);
        assert_eq!(d.poll_action(), Some(DaemonAction::Run("back".into())));
        d.handle_request(b"CANCEL t \"\"", t0);
        d.handle_request(b"CANCEL t", t0);
        assert_eq!(d.poll_action(), None);
    }

    #[test]
    fn shared_start_does_not_duplicate() {
        let t0 = Instant::now();
        let mut d = Daemon::new(t0, secs(15));
        d.handle_request(b"START-SHARED s 5", t0);
        d.handle_request(b"START-SHARED s 1", t0 + secs(1));
        d.handle_request(b"START s 1", t0 + secs(1));
        assert_eq!(d.timers().len(), 2);
        d.handle_timeout(t0 + secs(5));
        assert_eq!(d.poll_action(), Some(DaemonAction::Run("s".into())));
        assert_eq!(d.poll_action(), Some(DaemonAction::Run("s".into())));
    }

    #[test]
    fn idle_exit_counts_from_when_the_table_empties() {
        let t0 = Instant::now();
        let mut d = Daemon::new(t0, secs(15));
        assert_eq!(d.poll_timeout(), Some(t0 + secs(15)));
        d.handle_request(b"START t 20", t0 + secs(10));
        assert_eq!(d.poll_timeout(), Some(t0 + secs(30)));
        d.handle_timeout(t0 + secs(16));
        assert_eq!(d.poll_action(), None);
        d.handle_timeout(t0 + secs(30));
        assert_eq!(d.poll_action(), Some(DaemonAction::Run("t".into())));
        assert_eq!(d.poll_timeout(), Some(t0 + secs(45)));
        d.handle_timeout(t0 + secs(44));
        assert_eq!(d.poll_action(), None);
        d.handle_timeout(t0 + secs(45));
        assert_eq!(d.poll_action(), Some(DaemonAction::Exit));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn request_round_trip_and_reply_parse() {
        for r in [
            Request::Start { timer: "a \"b\" #c".into(), seconds: "5".into() },
            Request::StartShared { timer: "x".into(), seconds: "".into() },
            Request::Cancel { timer: "t".into(), cmd: None },
            Request::Cancel { timer: "t".into(), cmd: Some("do it\\now".into()) },
        ] {
            let line = r.encode();
            assert_eq!(Request::parse(&line[..line.len() - 1]), Ok(r));
        }
        assert_eq!(DaemonReply::parse(b"OK\n"), DaemonReply::Ok);
        assert_eq!(DaemonReply::parse(b"ERR UNKNOWN\n"), DaemonReply::ErrUnknown);
        assert_eq!(DaemonReply::parse(b"NO"), DaemonReply::Other("NO".into()));
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("abc"), Some(Duration::ZERO));
        assert_eq!(parse_seconds(" 7x"), Some(secs(7)));
    }
}
