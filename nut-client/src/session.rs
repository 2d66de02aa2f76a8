//! The sans-IO client session: commands in, bytes out; bytes in, typed
//! responses out.

use crate::error::ProtocolError;
use nut_proto::frame::{FrameError, LineFramer};
use nut_proto::net::{Command, ErrCode, Query, Reply};
use std::borrow::Cow;
use std::collections::VecDeque;

/// Identifies one request sent through a [`Session`]; responses come back
/// in the order the requests were sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

/// Memory bounds of a [`Session`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest reply line accepted, without its LF (default 4096; NUT's own
    /// replies are at most 512 bytes).
    pub max_line: usize,
    /// Most rows kept for one `LIST` (default 65536).
    pub max_list_rows: usize,
    /// Most bytes of row lines kept for one `LIST` (default 16 MiB).
    pub max_list_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_line: 4096, max_list_rows: 65536, max_list_bytes: 16 << 20 }
    }
}

impl Limits {
    /// Sets [`Limits::max_line`].
    pub fn with_max_line(mut self, n: usize) -> Self {
        self.max_line = n;
        self
    }

    /// Sets [`Limits::max_list_rows`] and [`Limits::max_list_bytes`].
    pub fn with_max_list(mut self, rows: usize, bytes: usize) -> Self {
        self.max_list_rows = rows;
        self.max_list_bytes = bytes;
        self
    }
}

/// A server's `ERR` reply, kept as data inside [`Response::Err`]. Not a
/// Rust error: the [operations](crate::ops) turn it into
/// [`ClientError::Server`](crate::ClientError::Server).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrReply {
    /// The code.
    pub code: ErrCode<'static>,
    /// Text after the code, if any.
    pub extra: Option<String>,
    /// The request it answers, as sent without LF (`PASSWORD`'s argument
    /// redacted; cut to 200 bytes).
    pub request: String,
}

impl ErrReply {
    /// The reply line as received (without LF), e.g. `ERR ACCESS-DENIED`.
    pub fn line(&self) -> String {
        match &self.extra {
            Some(e) => format!("ERR {} {e}", self.code),
            None => format!("ERR {}", self.code),
        }
    }
}

/// The server's complete answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// A one-line answer (never `ERR`).
    Line(Reply<'static>),
    /// The rows of a `LIST` (between `BEGIN LIST` and `END LIST`, both
    /// checked against the query).
    List(Vec<Reply<'static>>),
    /// `ERR <code> [<extra>]`.
    Err(ErrReply),
}

impl Response {
    /// The answer's line as received, without LF (`OK`, `ERR ACCESS-DENIED`,
    /// `VAR ups x "1"`); for a list, the number of rows in words.
    pub fn line(&self) -> String {
        match self {
            Response::Line(r) => reply_text(r),
            Response::Err(e) => e.line(),
            Response::List(rows) => format!("a list of {} rows", rows.len()),
        }
    }
}

/// Something the session has to report.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The answer to a request: parsed, or why it could not be.
    Response {
        /// The request answered.
        id: RequestId,
        /// The answer.
        result: Result<Response, ProtocolError>,
    },
    /// Reply lines that arrived with no request pending.
    Unsolicited(ProtocolError),
}

#[derive(Debug)]
enum Pending {
    Line,
    ListBegin(Query<'static>),
    ListRows {
        query: Query<'static>,
        rows: Vec<Reply<'static>>,
        bytes: usize,
        error: Option<ProtocolError>,
    },
}

/// A NUT client connection without the connection: it encodes requests,
/// splits and parses the reply bytes it is given, matches each answer to
/// its request (pipelining any number of them), and never holds more than
/// [`Limits`] allow.
///
/// ```
/// use nut_client::{Session, Response, Event};
/// use nut_proto::net::{Command, GetQuery, Reply};
///
/// let mut s = Session::default();
/// let a = s.send(&Command::Get(GetQuery::Var { ups: "ups".into(), var: "ups.status".into() }));
/// let b = s.send(&Command::Ver);
/// assert_eq!(s.take_transmit(), b"GET VAR ups ups.status\nVER\n");
/// s.handle_input(b"VAR ups ups.status \"OL\"\nNetwork UPS");
/// s.handle_input(b" Tools upsd\n");
/// let Some(Event::Response { id, result: Ok(Response::Line(r)) }) = s.poll_event() else { panic!() };
/// assert_eq!(id, a);
/// assert!(matches!(r, Reply::Var { .. }));
/// assert!(matches!(s.poll_event(), Some(Event::Response { id, .. }) if id == b));
/// ```
#[derive(Debug)]
pub struct Session {
    limits: Limits,
    lines: LineFramer,
    transmit: Vec<u8>,
    pending: VecDeque<(RequestId, Pending, String)>,
    events: VecDeque<Event>,
    unsolicited: usize,
    next_id: u64,
}

impl Default for Session {
    fn default() -> Self {
        Session::new(Limits::default())
    }
}

fn cut(bytes: &[u8]) -> String {
    let b = &bytes[..bytes.len().min(200)];
    String::from_utf8_lossy(b).into_owned()
}

/// A request as sent, without LF, for messages: `PASSWORD`'s argument is
/// never kept.
fn request_text(cmd: &Command<'_>) -> String {
    cut(cmd.to_string().as_bytes())
}

/// The reply line (without LF) as text, for messages.
pub(crate) fn reply_text(r: &Reply<'_>) -> String {
    let mut l = r.to_line();
    l.pop();
    cut(&l)
}

/// Whether two queries ask for the same thing (names compared
/// case-insensitively, as NUT's client library does).
fn same_query(a: &Query<'_>, b: &Query<'_>) -> bool {
    let eq = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        (None, None) => true,
        _ => false,
    };
    a.keyword() == b.keyword() && eq(a.ups(), b.ups()) && eq(a.var(), b.var())
}

/// Whether `row` is a row of the list `q`.
fn row_of(q: &Query<'_>, row: &Reply<'_>) -> bool {
    let is = |a: &str, b: Option<&str>| b.is_some_and(|b| a.eq_ignore_ascii_case(b));
    match (q, row) {
        (Query::Ups, Reply::Ups { .. }) => true,
        (Query::Var { .. }, Reply::Var { ups, .. })
        | (Query::Rw { .. }, Reply::Rw { ups, .. })
        | (Query::Cmd { .. }, Reply::Cmd { ups, .. })
        | (Query::Client { .. }, Reply::Client { ups, .. }) => is(ups, q.ups()),
        (Query::Enum { .. }, Reply::Enum { ups, var, .. })
        | (Query::Range { .. }, Reply::Range { ups, var, .. }) => {
            is(ups, q.ups()) && is(var, q.var())
        }
        _ => false,
    }
}

fn list_name(q: &Query<'_>) -> &'static str {
    match q {
        Query::Ups => "UPS rows",
        Query::Var { .. } => "VAR rows",
        Query::Rw { .. } => "RW rows",
        Query::Cmd { .. } => "CMD rows",
        Query::Client { .. } => "CLIENT rows",
        Query::Enum { .. } => "ENUM rows",
        Query::Range { .. } => "RANGE rows",
        _ => "list rows",
    }
}

impl Session {
    /// A session with the given limits.
    pub fn new(limits: Limits) -> Self {
        Session {
            limits,
            lines: LineFramer::lf_only(limits.max_line),
            transmit: Vec::new(),
            pending: VecDeque::new(),
            events: VecDeque::new(),
            unsolicited: 0,
            next_id: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Queues a command for sending and expects its answer: a whole list
    /// for `LIST`, one line for everything else.
    pub fn send(&mut self, cmd: &Command<'_>) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        cmd.encode(&mut self.transmit);
        let request = request_text(cmd);
        let p = match cmd {
            Command::List(q) => Pending::ListBegin(q.clone().into_owned()),
            _ => Pending::Line,
        };
        self.pending.push_back((id, p, request));
        id
    }

    /// Bytes to write to the server (all of them; the buffer is emptied).
    pub fn take_transmit(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.transmit)
    }

    /// Whether bytes are waiting to be written.
    pub fn wants_write(&self) -> bool {
        !self.transmit.is_empty()
    }

    /// How many requests are still waiting for (part of) their answer.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes of an incomplete reply line held.
    pub fn buffered(&self) -> usize {
        self.lines.buffered()
    }

    /// Feeds bytes read from the server.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        // NUT's clients read a reply up to its LF, whatever the quotes.
        let mut lines = std::mem::replace(&mut self.lines, LineFramer::lf_only(0));
        lines.decode_all(bytes, |frame| {
            self.handle_line(frame.map_err(|e| match e {
                FrameError::LineTooLong { max } => max,
                _ => 0,
            }))
        });
        self.lines = lines;
    }

    /// The next answer or problem, in order.
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.unsolicited > 0 {
            let count = std::mem::take(&mut self.unsolicited);
            return Some(Event::Unsolicited(ProtocolError::Unsolicited { count }));
        }
        self.events.pop_front()
    }

    fn complete(&mut self, result: Result<Response, ProtocolError>) {
        if let Some((id, _, _)) = self.pending.pop_front() {
            self.events.push_back(Event::Response { id, result });
        }
    }

    fn handle_line(&mut self, line: Result<&[u8], usize>) {
        let limits = self.limits;
        let Some((_, head, request)) = self.pending.front_mut() else {
            self.unsolicited = self.unsolicited.saturating_add(1);
            return;
        };
        let parsed = match line {
            Err(max) => Err(ProtocolError::LineTooLong { max }),
            Ok(bytes) => Reply::parse(bytes)
                .map(Reply::into_owned)
                .map_err(|error| ProtocolError::Malformed { error, line: cut(bytes) }),
        };
        let line_len = line.map(<[u8]>::len).unwrap_or(0);
        let done: Result<Response, ProtocolError> = match head {
            Pending::Line => match parsed {
                Ok(Reply::Err { code, extra }) => Ok(Response::Err(ErrReply {
                    code,
                    extra: extra.map(Cow::into_owned),
                    request: std::mem::take(request),
                })),
                Ok(r) => Ok(Response::Line(r)),
                Err(e) => Err(e),
            },
            Pending::ListBegin(q) => match parsed {
                Ok(Reply::Err { code, extra }) => Ok(Response::Err(ErrReply {
                    code,
                    extra: extra.map(Cow::into_owned),
                    request: std::mem::take(request),
                })),
                Ok(Reply::BeginList(b)) if same_query(&b, q) => {
                    let query = std::mem::replace(q, Query::Ups);
                    *head = Pending::ListRows { query, rows: Vec::new(), bytes: 0, error: None };
                    return;
                }
                Ok(r) => {
                    Err(ProtocolError::Unexpected { expected: "BEGIN LIST", got: reply_text(&r) })
                }
                Err(e) => Err(e),
            },
            Pending::ListRows { query, rows, bytes, error } => match parsed {
                Ok(Reply::EndList(e)) => {
                    if error.is_none() && !same_query(&e, query) {
                        *error = Some(ProtocolError::Unexpected {
                            expected: "END LIST of the same query",
                            got: reply_text(&Reply::EndList(e)),
                        });
                    }
                    match error.take() {
                        Some(e) => Err(e),
                        None => Ok(Response::List(std::mem::take(rows))),
                    }
                }
                // upsd never does this, but a list cut short by an ERR ends there.
                Ok(Reply::Err { code, extra }) => Ok(Response::Err(ErrReply {
                    code,
                    extra: extra.map(Cow::into_owned),
                    request: std::mem::take(request),
                })),
                Ok(r) if row_of(query, &r) => {
                    if error.is_none() {
                        if rows.len() >= limits.max_list_rows
                            || *bytes + line_len > limits.max_list_bytes
                        {
                            *error = Some(ProtocolError::ListTooLong {
                                max_rows: limits.max_list_rows,
                                max_bytes: limits.max_list_bytes,
                            });
                            *rows = Vec::new();
                        } else {
                            *bytes += line_len;
                            rows.push(r);
                        }
                    }
                    return;
                }
                Ok(r) => {
                    if error.is_none() {
                        *error = Some(ProtocolError::Unexpected {
                            expected: list_name(query),
                            got: reply_text(&r),
                        });
                        *rows = Vec::new();
                    }
                    return;
                }
                Err(e) => {
                    if error.is_none() {
                        *error = Some(e);
                        *rows = Vec::new();
                    }
                    return;
                }
            },
        };
        self.complete(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nut_proto::net::GetQuery;

    fn list(ups: &str) -> Command<'static> {
        Command::List(Query::Var { ups: ups.to_string().into() })
    }

    fn events(s: &mut Session) -> Vec<Event> {
        std::iter::from_fn(|| s.poll_event()).collect()
    }

    #[test]
    fn pipelined_list_and_errors() {
        let mut s = Session::default();
        let a = s.send(&list("dummy"));
        let b = s.send(&Command::Get(GetQuery::Var { ups: "x".into(), var: "y".into() }));
        let c = s.send(&list("nosuch"));
        assert_eq!(s.pending(), 3);
        let input: &[u8] =
            b"BEGIN LIST VAR DUMMY\nVAR dummy a \"1\"\nVAR dummy b \"2 3\"\nEND LIST VAR dummy\n\
            ERR VAR-NOT-SUPPORTED\nERR UNKNOWN-UPS\n";
        for split in 0..input.len() {
            let mut s2 = Session::default();
            s2.send(&list("dummy"));
            s2.send(&Command::Ver);
            s2.send(&list("nosuch"));
            s2.handle_input(&input[..split]);
            s2.handle_input(&input[split..]);
            assert_eq!(events(&mut s2).len(), 3);
        }
        s.handle_input(input);
        let ev = events(&mut s);
        assert_eq!(ev.len(), 3);
        let Event::Response { id, result: Ok(Response::List(rows)) } = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(*id, a);
        assert_eq!(rows.len(), 2);
        assert!(
            matches!(&ev[1], Event::Response { id, result: Ok(Response::Err(e)) } if *id == b && e.code == ErrCode::VarNotSupported)
        );
        assert!(
            matches!(&ev[2], Event::Response { id, result: Ok(Response::Err(e)) } if *id == c && e.line() == "ERR UNKNOWN-UPS")
        );
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn wrong_rows_and_unsolicited_are_reported() {
        let mut s = Session::default();
        s.send(&list("a"));
        s.send(&Command::Ver);
        s.handle_input(
            b"BEGIN LIST VAR a\nVAR b x \"1\"\nRW a x \"1\"\nEND LIST VAR a\nOK\nextra\nmore\n",
        );
        let ev = events(&mut s);
        assert!(
            matches!(&ev[0], Event::Unsolicited(ProtocolError::Unsolicited { count: 2 })),
            "{ev:?}"
        );
        assert!(matches!(
            &ev[1],
            Event::Response { result: Err(ProtocolError::Unexpected { .. }), .. }
        ));
        assert!(matches!(&ev[2], Event::Response { result: Ok(Response::Line(Reply::Ok)), .. }));
    }

    #[test]
    fn lists_are_bounded() {
        let mut s = Session::new(Limits::default().with_max_list(3, 1 << 20));
        s.send(&list("a"));
        s.send(&Command::Ver);
        s.handle_input(b"BEGIN LIST VAR a\n");
        for _ in 0..10_000 {
            s.handle_input(b"VAR a x \"1\"\n");
        }
        s.handle_input(b"END LIST VAR a\nv\n");
        let ev = events(&mut s);
        assert!(matches!(
            &ev[0],
            Event::Response { result: Err(ProtocolError::ListTooLong { .. }), .. }
        ));
        assert!(matches!(
            &ev[1],
            Event::Response { result: Ok(Response::Line(Reply::Text(_))), .. }
        ));
    }

    #[test]
    fn begin_mismatch_and_malformed_lines() {
        let mut s = Session::new(Limits::default().with_max_line(16));
        s.send(&list("a"));
        s.send(&Command::Ver);
        s.send(&Command::Ver);
        s.handle_input(b"BEGIN LIST VAR b\nVAR x\n01234567890123456789\n");
        let ev = events(&mut s);
        assert!(matches!(
            &ev[0],
            Event::Response { result: Err(ProtocolError::Unexpected { .. }), .. }
        ));
        assert!(matches!(
            &ev[1],
            Event::Response { result: Err(ProtocolError::Malformed { .. }), .. }
        ));
        assert!(matches!(
            &ev[2],
            Event::Response { result: Err(ProtocolError::LineTooLong { max: 16 }), .. }
        ));
    }
}
