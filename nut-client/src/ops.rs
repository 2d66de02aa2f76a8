//! Typed operations: each one says which commands to send and turns the
//! answers into a Rust value. They touch no socket and read no clock of
//! their own; an adapter ([`blocking`](crate::io::blocking) or
//! [`tokio`](crate::io)) drives them, so both adapters share every line of
//! protocol logic.
//!
//! An operation is a small state machine: [`Operation::step`] is called
//! first with no responses, then with the responses to the commands it asked
//! for (in order, all of them pipelined), until it returns [`Step::Done`].

use crate::error::{ClientError, ProtocolError};
use crate::session::{ErrReply, Response, reply_text};
use nut_proto::net::{Command, ErrCode, GetQuery, Query, Reply, TrackingState, VarKind, VarType};
use nut_proto::secret::Secret;
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// What an operation wants next.
#[derive(Debug)]
#[non_exhaustive]
pub enum Step<T> {
    /// Send these commands (pipelined) and call back with their answers.
    Send(Vec<Command<'static>>),
    /// Wait this long, then call back with no answers.
    Sleep(Duration),
    /// Finished.
    Done(Result<T, ClientError>),
}

/// One answer handed back to an operation.
pub type Answer = Result<Response, ProtocolError>;

/// A sequence of requests and the interpretation of their answers.
pub trait Operation {
    /// The value it produces.
    type Output;
    /// Advances the operation with the answers to the commands of the
    /// previous [`Step::Send`] (empty on the first call and after a
    /// [`Step::Sleep`]). `now` is the adapter's clock.
    fn step(&mut self, answers: Vec<Answer>, now: Instant) -> Step<Self::Output>;
}

fn c(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}

/// An `ERR` answer as the error of the call, naming the request.
fn server(e: ErrReply) -> ClientError {
    ClientError::Server { code: e.code, request: e.request }
}

fn unexpected(expected: &'static str, got: &Reply<'_>) -> ClientError {
    ClientError::Protocol(ProtocolError::Unexpected { expected, got: reply_text(got) })
}

/// An answer as a single line; `ERR` becomes [`ClientError::Server`].
pub fn line(a: Answer) -> Result<Reply<'static>, ClientError> {
    match a? {
        Response::Line(r) => Ok(r),
        Response::Err(e) => Err(server(e)),
        Response::List(_) => Err(ClientError::Protocol(ProtocolError::Unexpected {
            expected: "one line",
            got: "a list".into(),
        })),
    }
}

/// An answer as list rows; `ERR` becomes [`ClientError::Server`].
pub fn rows(a: Answer) -> Result<Vec<Reply<'static>>, ClientError> {
    match a? {
        Response::List(r) => Ok(r),
        Response::Err(e) => Err(server(e)),
        Response::Line(r) => Err(unexpected("a list", &r)),
    }
}

type Convert<T> = Box<dyn FnMut(Answer) -> Result<T, ClientError> + Send>;

/// One command, one answer, one conversion.
pub struct Single<T> {
    cmd: Option<Command<'static>>,
    convert: Convert<T>,
}

impl<T> std::fmt::Debug for Single<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Single").field("cmd", &self.cmd).finish_non_exhaustive()
    }
}

impl<T> Single<T> {
    /// Sends `cmd`, converts its answer with `convert`.
    pub fn new(
        cmd: Command<'static>,
        convert: impl FnMut(Answer) -> Result<T, ClientError> + Send + 'static,
    ) -> Self {
        Single { cmd: Some(cmd), convert: Box::new(convert) }
    }
}

impl<T> Operation for Single<T> {
    type Output = T;
    fn step(&mut self, mut answers: Vec<Answer>, _now: Instant) -> Step<T> {
        if let Some(cmd) = self.cmd.take() {
            return Step::Send(vec![cmd]);
        }
        match answers.pop() {
            Some(a) => Step::Done((self.convert)(a)),
            None => Step::Done(Err(ClientError::Protocol(ProtocolError::Unexpected {
                expected: "an answer",
                got: "nothing".into(),
            }))),
        }
    }
}

/// Sends `cmd` and returns its answer as data (an `ERR` is a
/// [`Response::Err`], not an error).
pub fn request(cmd: Command<'static>) -> Single<Response> {
    Single::new(cmd, |a| Ok(a?))
}

fn ok_line(cmd: Command<'static>) -> Single<()> {
    Single::new(cmd, |a| match line(a)? {
        Reply::Ok => Ok(()),
        r => Err(unexpected("OK", &r)),
    })
}

fn text(cmd: Command<'static>) -> Single<String> {
    Single::new(cmd, |a| match line(a)? {
        Reply::Text(t) => Ok(t.into_owned()),
        r => Err(unexpected("a line of text", &r)),
    })
}

/// `VER`: the server's banner.
pub fn ver() -> Single<String> {
    text(Command::Ver)
}

/// `NETVER`: the protocol version (`1.3` for NUT 2.8).
pub fn netver() -> Single<String> {
    text(Command::NetVer)
}

/// `PROTVER`: the protocol version.
pub fn protver() -> Single<String> {
    text(Command::ProtVer)
}

/// `HELP`: the command summary line.
pub fn help() -> Single<String> {
    text(Command::Help)
}

/// A UPS known to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsInfo {
    /// Its name.
    pub name: String,
    /// Its description (`Description unavailable` when none is configured).
    pub desc: String,
}

/// A variable and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    /// The variable name.
    pub name: String,
    /// The value.
    pub value: String,
}

/// `LIST UPS`.
pub fn list_ups() -> Single<Vec<UpsInfo>> {
    Single::new(Command::List(Query::Ups), |a| {
        rows(a)?
            .into_iter()
            .map(|r| match r {
                Reply::Ups { ups, desc } => {
                    Ok(UpsInfo { name: ups.into_owned(), desc: desc.into_owned() })
                }
                r => Err(unexpected("UPS rows", &r)),
            })
            .collect()
    })
}

fn var_rows(q: Query<'static>) -> Single<Vec<Var>> {
    Single::new(Command::List(q), |a| {
        rows(a)?
            .into_iter()
            .map(|r| match r {
                Reply::Var { var, value, .. } | Reply::Rw { var, value, .. } => {
                    Ok(Var { name: var.into_owned(), value: value.into_owned() })
                }
                r => Err(unexpected("VAR rows", &r)),
            })
            .collect()
    })
}

/// `LIST VAR <ups>`: every variable with its value.
pub fn list_vars(ups: &str) -> Single<Vec<Var>> {
    var_rows(Query::Var { ups: c(ups) })
}

/// `LIST RW <ups>`: every writable variable with its value.
pub fn list_rw(ups: &str) -> Single<Vec<Var>> {
    var_rows(Query::Rw { ups: c(ups) })
}

fn name_rows(q: Query<'static>) -> Single<Vec<String>> {
    Single::new(Command::List(q), |a| {
        rows(a)?
            .into_iter()
            .map(|r| match r {
                Reply::Cmd { cmd: n, .. }
                | Reply::Client { addr: n, .. }
                | Reply::Enum { value: n, .. } => Ok(n.into_owned()),
                r => Err(unexpected("list rows", &r)),
            })
            .collect()
    })
}

/// `LIST CMD <ups>`: the instant command names.
pub fn list_cmds(ups: &str) -> Single<Vec<String>> {
    name_rows(Query::Cmd { ups: c(ups) })
}

/// `LIST CLIENT <ups>`: the addresses of the clients logged in to the UPS.
pub fn list_clients(ups: &str) -> Single<Vec<String>> {
    name_rows(Query::Client { ups: c(ups) })
}

/// `LIST ENUM <ups> <var>`: the allowed values.
pub fn list_enum(ups: &str, var: &str) -> Single<Vec<String>> {
    name_rows(Query::Enum { ups: c(ups), var: c(var) })
}

/// `LIST RANGE <ups> <var>`: the allowed `(min, max)` ranges.
pub fn list_range(ups: &str, var: &str) -> Single<Vec<(i64, i64)>> {
    Single::new(Command::List(Query::Range { ups: c(ups), var: c(var) }), |a| {
        rows(a)?
            .into_iter()
            .map(|r| match r {
                Reply::Range { min, max, .. } => Ok((min, max)),
                r => Err(unexpected("RANGE rows", &r)),
            })
            .collect()
    })
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `GET VAR <ups> <var>`: the value.
pub fn get_var(ups: &str, var: &str) -> Single<String> {
    let (u, v) = (ups.to_string(), var.to_string());
    Single::new(Command::Get(GetQuery::Var { ups: c(ups), var: c(var) }), move |a| match line(a)? {
        Reply::Var { ups, var, value } if same(&ups, &u) && same(&var, &v) => {
            Ok(value.into_owned())
        }
        r => Err(unexpected("VAR <ups> <var>", &r)),
    })
}

/// `GET TYPE <ups> <var>`.
pub fn get_type(ups: &str, var: &str) -> Single<VarType> {
    let (u, v) = (ups.to_string(), var.to_string());
    Single::new(Command::Get(GetQuery::Type { ups: c(ups), var: c(var) }), move |a| {
        match line(a)? {
            Reply::Type { ups, var, ty } if same(&ups, &u) && same(&var, &v) => Ok(ty),
            r => Err(unexpected("TYPE <ups> <var>", &r)),
        }
    })
}

/// `GET DESC <ups> <var>`: the variable's description.
pub fn get_desc(ups: &str, var: &str) -> Single<String> {
    let (u, v) = (ups.to_string(), var.to_string());
    Single::new(Command::Get(GetQuery::Desc { ups: c(ups), var: c(var) }), move |a| {
        match line(a)? {
            Reply::Desc { ups, var, desc } if same(&ups, &u) && same(&var, &v) => {
                Ok(desc.into_owned())
            }
            r => Err(unexpected("DESC <ups> <var>", &r)),
        }
    })
}

/// `GET CMDDESC <ups> <cmd>`: the command's description.
pub fn get_cmd_desc(ups: &str, cmd: &str) -> Single<String> {
    let (u, v) = (ups.to_string(), cmd.to_string());
    Single::new(Command::Get(GetQuery::CmdDesc { ups: c(ups), cmd: c(cmd) }), move |a| match line(
        a,
    )? {
        Reply::CmdDesc { ups, cmd, desc } if same(&ups, &u) && same(&cmd, &v) => {
            Ok(desc.into_owned())
        }
        r => Err(unexpected("CMDDESC <ups> <cmd>", &r)),
    })
}

/// `GET UPSDESC <ups>`: the UPS's description.
pub fn get_ups_desc(ups: &str) -> Single<String> {
    let u = ups.to_string();
    Single::new(Command::Get(GetQuery::UpsDesc { ups: c(ups) }), move |a| match line(a)? {
        Reply::UpsDesc { ups, desc } if same(&ups, &u) => Ok(desc.into_owned()),
        r => Err(unexpected("UPSDESC <ups>", &r)),
    })
}

/// `GET NUMLOGINS <ups>`: how many clients are logged in to the UPS.
pub fn get_num_logins(ups: &str) -> Single<u32> {
    let u = ups.to_string();
    Single::new(Command::Get(GetQuery::NumLogins { ups: c(ups) }), move |a| match line(a)? {
        Reply::NumLogins { ups, count } if same(&ups, &u) => Ok(count),
        r => Err(unexpected("NUMLOGINS <ups> <n>", &r)),
    })
}

/// The outcome of a tracked SET VAR or INSTCMD.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrackingStatus {
    /// `PENDING`: the driver has not answered yet.
    Pending,
    /// `SUCCESS`.
    Success,
    /// `ERR UNKNOWN`, `ERR INVALID-ARGUMENT` or `ERR FAILED`.
    Failed(ErrCode<'static>),
}

impl TrackingStatus {
    /// The reply line NUT's tools print (`SUCCESS`, `ERR FAILED`, ...).
    pub fn line(&self) -> String {
        match self {
            TrackingStatus::Pending => "PENDING".into(),
            TrackingStatus::Success => "SUCCESS".into(),
            TrackingStatus::Failed(c) => format!("ERR {c}"),
        }
    }
}

fn tracking_status(a: Answer) -> Result<TrackingStatus, ClientError> {
    match a? {
        Response::Line(Reply::Tracking(TrackingState::Pending)) => Ok(TrackingStatus::Pending),
        Response::Line(Reply::Tracking(TrackingState::Success)) => Ok(TrackingStatus::Success),
        Response::Err(ErrReply { code, .. })
            if matches!(code, ErrCode::Unknown | ErrCode::InvalidArgument | ErrCode::Failed) =>
        {
            Ok(TrackingStatus::Failed(code))
        }
        Response::Err(e) => Err(server(e)),
        Response::Line(r) => Err(unexpected("PENDING, SUCCESS or ERR", &r)),
        Response::List(_) => Err(ClientError::Protocol(ProtocolError::Unexpected {
            expected: "one line",
            got: "a list".into(),
        })),
    }
}

/// `GET TRACKING <id>`: the outcome of a tracked command.
pub fn get_tracking(id: &str) -> Single<TrackingStatus> {
    Single::new(Command::Get(GetQuery::Tracking(Some(c(id)))), tracking_status)
}

/// `GET TRACKING`: whether tracking is on for this connection.
pub fn get_tracking_mode() -> Single<bool> {
    Single::new(Command::Get(GetQuery::Tracking(None)), |a| match line(a)? {
        Reply::Tracking(TrackingState::On) => Ok(true),
        Reply::Tracking(TrackingState::Off) => Ok(false),
        r => Err(unexpected("ON or OFF", &r)),
    })
}

/// `SET TRACKING ON|OFF` (needs USERNAME and PASSWORD sent first).
pub fn set_tracking(on: bool) -> Single<()> {
    ok_line(Command::SetTracking(on))
}

/// `USERNAME <name>`.
pub fn username(name: &str) -> Single<()> {
    ok_line(Command::Username(c(name)))
}

/// `PASSWORD <password>`.
pub fn password(password: &str) -> Single<()> {
    ok_line(Command::Password(Secret::new(c(password))))
}

/// `USERNAME` and `PASSWORD`, pipelined. (upsd checks them only when a
/// privileged command runs.)
pub fn authenticate(user: &str, password: &str) -> Pipeline<()> {
    Pipeline::new(vec![self::username(user), self::password(password)])
}

/// `LOGIN <ups>`: count this connection as a client of the UPS.
pub fn login(ups: &str) -> Single<()> {
    ok_line(Command::Login { ups: c(ups) })
}

/// `LOGOUT`: the server answers `OK Goodbye` and closes the connection.
pub fn logout() -> Single<()> {
    Single::new(Command::Logout, |a| match line(a)? {
        Reply::OkGoodbye | Reply::Ok | Reply::OkOther(_) => Ok(()),
        r => Err(unexpected("OK Goodbye", &r)),
    })
}

/// `FSD <ups>`: set the forced-shutdown flag.
pub fn fsd(ups: &str) -> Single<()> {
    Single::new(Command::Fsd { ups: c(ups) }, |a| match line(a)? {
        Reply::OkFsdSet | Reply::Ok => Ok(()),
        r => Err(unexpected("OK FSD-SET", &r)),
    })
}

/// `OK` or `OK TRACKING <id>`: the tracking id, if any.
fn ok_tracking(a: Answer) -> Result<Option<String>, ClientError> {
    match line(a)? {
        Reply::Ok => Ok(None),
        Reply::OkTracking(id) => Ok(Some(id.into_owned())),
        r => Err(unexpected("OK or OK TRACKING <id>", &r)),
    }
}

/// `SET VAR <ups> <var> <value>`: the tracking id when tracking is on.
pub fn set_var(ups: &str, var: &str, value: &str) -> Single<Option<String>> {
    Single::new(Command::SetVar { ups: c(ups), var: c(var), value: c(value) }, ok_tracking)
}

/// `INSTCMD <ups> <cmd> [<param>]`: the tracking id when tracking is on.
pub fn instcmd(ups: &str, cmd: &str, param: Option<&str>) -> Single<Option<String>> {
    Single::new(Command::InstCmd { ups: c(ups), cmd: c(cmd), param: param.map(c) }, ok_tracking)
}

/// What the server said to `STARTTLS`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartTls {
    /// `OK STARTTLS`: the client must start the TLS handshake now; nothing
    /// else may be read or sent in plaintext.
    Accepted,
    /// `ERR <code>`: the server will not do TLS on this connection
    /// (`FEATURE-NOT-CONFIGURED`, `FEATURE-NOT-SUPPORTED`,
    /// `ALREADY-SSL-MODE`, or `UNKNOWN-COMMAND` from a very old server).
    Refused(ErrCode<'static>),
}

/// `STARTTLS`: asks the server to switch this connection to TLS. An `ERR`
/// answer is data ([`StartTls::Refused`]); whether to go on in plaintext
/// is the caller's choice (see `tls::TlsMode`, feature `tls`).
pub fn starttls() -> Single<StartTls> {
    Single::new(Command::StartTls, |a| match a? {
        Response::Line(Reply::OkStartTls) => Ok(StartTls::Accepted),
        Response::Err(e) => Ok(StartTls::Refused(e.code)),
        Response::Line(r) => Err(unexpected("OK STARTTLS", &r)),
        Response::List(_) => Err(ClientError::Protocol(ProtocolError::Unexpected {
            expected: "OK STARTTLS",
            got: "a list".into(),
        })),
    })
}

/// Many single-answer operations sent at once; the first error wins.
pub struct Pipeline<T> {
    parts: Vec<Single<T>>,
    sent: bool,
}

impl<T> std::fmt::Debug for Pipeline<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("parts", &self.parts.len()).finish()
    }
}

impl<T> Pipeline<T> {
    /// Pipelines the given operations.
    pub fn new(parts: Vec<Single<T>>) -> Self {
        Pipeline { parts, sent: false }
    }
}

impl<T> Operation for Pipeline<T> {
    type Output = Vec<T>;
    fn step(&mut self, answers: Vec<Answer>, _now: Instant) -> Step<Vec<T>> {
        if !self.sent {
            self.sent = true;
            return Step::Send(self.parts.iter_mut().filter_map(|p| p.cmd.take()).collect());
        }
        if answers.len() != self.parts.len() {
            return Step::Done(Err(ClientError::Protocol(ProtocolError::Unexpected {
                expected: "one answer per request",
                got: format!("{} answers", answers.len()),
            })));
        }
        let out = self.parts.iter_mut().zip(answers).map(|(p, a)| (p.convert)(a)).collect();
        Step::Done(out)
    }
}

/// `PRIMARY <ups>`, falling back to `MASTER <ups>` when the server does not
/// know PRIMARY (NUT before 2.8).
#[derive(Debug)]
pub struct Primary {
    ups: String,
    state: u8,
}

/// `PRIMARY <ups>` with the `MASTER` fallback.
pub fn primary(ups: &str) -> Primary {
    Primary { ups: ups.to_string(), state: 0 }
}

impl Operation for Primary {
    type Output = ();
    fn step(&mut self, mut answers: Vec<Answer>, _now: Instant) -> Step<()> {
        let granted = |a: Answer| match line(a)? {
            Reply::OkPrimaryGranted | Reply::OkMasterGranted | Reply::Ok => Ok(()),
            r => Err(unexpected("OK PRIMARY-GRANTED", &r)),
        };
        match self.state {
            0 => {
                self.state = 1;
                Step::Send(vec![Command::Primary { ups: c(&self.ups) }])
            }
            1 => match answers.pop() {
                Some(Ok(Response::Err(e))) if e.code == ErrCode::UnknownCommand => {
                    self.state = 2;
                    Step::Send(vec![Command::Master { ups: c(&self.ups) }])
                }
                Some(a) => Step::Done(granted(a)),
                None => Step::Done(Err(missing())),
            },
            _ => Step::Done(answers.pop().map_or(Err(missing()), granted)),
        }
    }
}

fn missing() -> ClientError {
    ClientError::Protocol(ProtocolError::Unexpected {
        expected: "an answer",
        got: "nothing".into(),
    })
}

/// Options of a tracked SET VAR or INSTCMD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long (NUT's tools: 10 s).
    pub timeout: Duration,
    /// Time between two `GET TRACKING` while the outcome is `PENDING`.
    pub interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions { timeout: Duration::from_secs(10), interval: Duration::from_millis(250) }
    }
}

/// SET VAR or INSTCMD with `SET TRACKING ON`, then `GET TRACKING <id>`
/// until the outcome is known or the timeout passes.
#[derive(Debug)]
pub struct Tracked {
    cmd: Option<Command<'static>>,
    opts: WaitOptions,
    id: Option<String>,
    deadline: Option<Instant>,
    sleeping: bool,
}

/// `SET VAR` and wait for the driver's outcome.
pub fn set_var_wait(ups: &str, var: &str, value: &str, opts: WaitOptions) -> Tracked {
    Tracked::new(Command::SetVar { ups: c(ups), var: c(var), value: c(value) }, opts)
}

/// `INSTCMD` and wait for the driver's outcome.
pub fn instcmd_wait(ups: &str, cmd: &str, param: Option<&str>, opts: WaitOptions) -> Tracked {
    Tracked::new(Command::InstCmd { ups: c(ups), cmd: c(cmd), param: param.map(c) }, opts)
}

impl Tracked {
    fn new(cmd: Command<'static>, opts: WaitOptions) -> Self {
        Tracked { cmd: Some(cmd), opts, id: None, deadline: None, sleeping: false }
    }

    fn poll(&self) -> Step<TrackingStatus> {
        let id = self.id.clone().unwrap_or_default();
        Step::Send(vec![Command::Get(GetQuery::Tracking(Some(Cow::Owned(id))))])
    }
}

impl Operation for Tracked {
    type Output = TrackingStatus;
    fn step(&mut self, answers: Vec<Answer>, now: Instant) -> Step<TrackingStatus> {
        if let Some(cmd) = self.cmd.take() {
            return Step::Send(vec![Command::SetTracking(true), cmd]);
        }
        if self.sleeping {
            self.sleeping = false;
            return self.poll();
        }
        let mut answers = answers.into_iter();
        if self.id.is_none() {
            let (Some(on), Some(sent)) = (answers.next(), answers.next()) else {
                return Step::Done(Err(missing()));
            };
            if let Err(e) = line(on).and_then(|r| match r {
                Reply::Ok => Ok(()),
                r => Err(unexpected("OK", &r)),
            }) {
                return Step::Done(Err(e));
            }
            return match ok_tracking(sent) {
                Err(e) => Step::Done(Err(e)),
                // The server did not track it (it should have).
                Ok(None) => Step::Done(Err(ClientError::Protocol(ProtocolError::Unexpected {
                    expected: "OK TRACKING <id>",
                    got: "OK".into(),
                }))),
                Ok(Some(id)) => {
                    self.id = Some(id);
                    self.deadline = Some(now + self.opts.timeout);
                    self.poll()
                }
            };
        }
        match answers.next().map(tracking_status) {
            None => Step::Done(Err(missing())),
            Some(Err(e)) => Step::Done(Err(e)),
            Some(Ok(TrackingStatus::Pending)) => {
                if self.deadline.is_some_and(|d| now >= d) {
                    return Step::Done(Err(ClientError::TrackingTimeout {
                        id: self.id.clone().unwrap_or_default(),
                    }));
                }
                self.sleeping = true;
                Step::Sleep(self.opts.interval)
            }
            Some(Ok(done)) => Step::Done(Ok(done)),
        }
    }
}

/// Everything known about a variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarInfo {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
    /// The description, when the server has one for it.
    pub desc: Option<String>,
    /// The type, when the server answered GET TYPE.
    pub ty: Option<VarType>,
    /// The allowed values (ENUM variables).
    pub enums: Vec<String>,
    /// The allowed ranges (RANGE variables).
    pub ranges: Vec<(i64, i64)>,
}

impl VarInfo {
    /// Whether the variable can be set.
    pub fn is_writable(&self) -> bool {
        self.ty.is_some_and(|t| t.rw)
    }

    /// The maximum length of a STRING variable.
    pub fn max_len(&self) -> Option<i64> {
        match self.ty?.kind? {
            VarKind::String(n) => Some(n),
            VarKind::Number => None,
        }
    }
}

/// `LIST VAR` (or `LIST RW`), then GET TYPE and GET DESC for every
/// variable, then LIST ENUM / LIST RANGE where the type says so; each stage
/// pipelined.
#[derive(Debug)]
pub struct Describe {
    ups: String,
    rw: bool,
    stage: u8,
    vars: Vec<VarInfo>,
    extras: Vec<(usize, bool)>,
}

/// Every variable of the UPS with its type, description, enums and ranges.
pub fn describe_vars(ups: &str) -> Describe {
    Describe { ups: ups.to_string(), rw: false, stage: 0, vars: Vec::new(), extras: Vec::new() }
}

/// Every writable variable of the UPS with its type, description, enums
/// and ranges.
pub fn describe_rw(ups: &str) -> Describe {
    Describe { ups: ups.to_string(), rw: true, stage: 0, vars: Vec::new(), extras: Vec::new() }
}

impl Operation for Describe {
    type Output = Vec<VarInfo>;
    fn step(&mut self, answers: Vec<Answer>, now: Instant) -> Step<Vec<VarInfo>> {
        let ups = || c(&self.ups);
        match self.stage {
            0 => {
                self.stage = 1;
                let q = if self.rw { Query::Rw { ups: ups() } } else { Query::Var { ups: ups() } };
                Step::Send(vec![Command::List(q)])
            }
            1 => {
                let mut list = var_rows(Query::Ups);
                list.cmd = None;
                let Some(a) = answers.into_iter().next() else { return Step::Done(Err(missing())) };
                let vars = match list.step(vec![a], now) {
                    Step::Done(Ok(v)) => v,
                    Step::Done(Err(e)) => return Step::Done(Err(e)),
                    _ => return Step::Done(Err(missing())),
                };
                self.vars = vars
                    .into_iter()
                    .map(|v| VarInfo {
                        name: v.name,
                        value: v.value,
                        desc: None,
                        ty: None,
                        enums: Vec::new(),
                        ranges: Vec::new(),
                    })
                    .collect();
                if self.vars.is_empty() {
                    return Step::Done(Ok(Vec::new()));
                }
                self.stage = 2;
                let mut cmds = Vec::with_capacity(self.vars.len() * 2);
                for v in &self.vars {
                    cmds.push(Command::Get(GetQuery::Type { ups: ups(), var: c(&v.name) }));
                    cmds.push(Command::Get(GetQuery::Desc { ups: ups(), var: c(&v.name) }));
                }
                Step::Send(cmds)
            }
            2 => {
                if answers.len() != self.vars.len() * 2 {
                    return Step::Done(Err(missing()));
                }
                let mut it = answers.into_iter();
                for v in &mut self.vars {
                    let (t, d) = (it.next(), it.next());
                    v.ty = match t.map(line) {
                        Some(Ok(Reply::Type { ty, .. })) => Some(ty),
                        _ => None,
                    };
                    v.desc = match d.map(line) {
                        Some(Ok(Reply::Desc { desc, .. })) => Some(desc.into_owned()),
                        _ => None,
                    };
                }
                let mut cmds = Vec::new();
                for (i, v) in self.vars.iter().enumerate() {
                    let Some(ty) = v.ty else { continue };
                    if ty.enumerated {
                        self.extras.push((i, true));
                        cmds.push(Command::List(Query::Enum { ups: ups(), var: c(&v.name) }));
                    }
                    if ty.range {
                        self.extras.push((i, false));
                        cmds.push(Command::List(Query::Range { ups: ups(), var: c(&v.name) }));
                    }
                }
                if cmds.is_empty() {
                    return Step::Done(Ok(std::mem::take(&mut self.vars)));
                }
                self.stage = 3;
                Step::Send(cmds)
            }
            _ => {
                for (&(i, is_enum), a) in self.extras.iter().zip(answers) {
                    let Ok(rows) = rows(a) else { continue };
                    for r in rows {
                        match r {
                            Reply::Enum { value, .. } if is_enum => {
                                self.vars[i].enums.push(value.into_owned())
                            }
                            Reply::Range { min, max, .. } if !is_enum => {
                                self.vars[i].ranges.push((min, max))
                            }
                            _ => {}
                        }
                    }
                }
                Step::Done(Ok(std::mem::take(&mut self.vars)))
            }
        }
    }
}

/// An instant command and its description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdInfo {
    /// The command name.
    pub name: String,
    /// Its description, when the server has one.
    pub desc: Option<String>,
}

/// `LIST CMD`, then every `GET CMDDESC` pipelined.
#[derive(Debug)]
pub struct DescribeCmds {
    ups: String,
    cmds: Option<Vec<String>>,
}

/// Every instant command of the UPS with its description.
pub fn describe_cmds(ups: &str) -> DescribeCmds {
    DescribeCmds { ups: ups.to_string(), cmds: None }
}

impl Operation for DescribeCmds {
    type Output = Vec<CmdInfo>;
    fn step(&mut self, answers: Vec<Answer>, _now: Instant) -> Step<Vec<CmdInfo>> {
        let Some(cmds) = &self.cmds else {
            if answers.is_empty() {
                return Step::Send(vec![Command::List(Query::Cmd { ups: c(&self.ups) })]);
            }
            let names: Result<Vec<String>, ClientError> =
                answers.into_iter().next().map_or(Err(missing()), rows).and_then(|rows| {
                    rows.into_iter()
                        .map(|r| match r {
                            Reply::Cmd { cmd, .. } => Ok(cmd.into_owned()),
                            r => Err(unexpected("CMD rows", &r)),
                        })
                        .collect()
                });
            return match names {
                Err(e) => Step::Done(Err(e)),
                Ok(n) if n.is_empty() => Step::Done(Ok(Vec::new())),
                Ok(n) => {
                    let send = n
                        .iter()
                        .map(|cmd| {
                            Command::Get(GetQuery::CmdDesc { ups: c(&self.ups), cmd: c(cmd) })
                        })
                        .collect();
                    self.cmds = Some(n);
                    Step::Send(send)
                }
            };
        };
        let out = cmds
            .iter()
            .zip(answers.into_iter().map(Some).chain(std::iter::repeat_with(|| None)))
            .map(|(name, a)| CmdInfo {
                name: name.clone(),
                desc: match a.map(line) {
                    Some(Ok(Reply::CmdDesc { desc, .. })) => Some(desc.into_owned()),
                    _ => None,
                },
            })
            .collect();
        Step::Done(Ok(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Event, Session};

    /// Drives an operation against canned server bytes.
    fn drive<O: Operation>(
        mut op: O,
        server: &mut dyn FnMut(&[u8]) -> Vec<u8>,
    ) -> Result<O::Output, ClientError> {
        let mut s = Session::default();
        let mut answers = Vec::new();
        let mut now = Instant::now();
        for _ in 0..100 {
            match op.step(std::mem::take(&mut answers), now) {
                Step::Done(r) => return r,
                Step::Sleep(d) => now += d,
                Step::Send(cmds) => {
                    let n = cmds.len();
                    for c in &cmds {
                        s.send(c);
                    }
                    let reply = server(&s.take_transmit());
                    s.handle_input(&reply);
                    while let Some(Event::Response { result, .. }) = s.poll_event() {
                        answers.push(result);
                    }
                    assert_eq!(answers.len(), n);
                }
            }
        }
        panic!("operation did not finish");
    }

    #[test]
    fn tracked_polls_until_done() {
        let mut polls = 0;
        let r =
            drive(
                instcmd_wait("u", "load.off", None, WaitOptions::default()),
                &mut |req| match req {
                    b"SET TRACKING ON\nINSTCMD u load.off\n" => b"OK\nOK TRACKING ABC\n".to_vec(),
                    b"GET TRACKING ABC\n" => {
                        polls += 1;
                        if polls < 3 { b"PENDING\n".to_vec() } else { b"ERR FAILED\n".to_vec() }
                    }
                    other => panic!("{}", String::from_utf8_lossy(other)),
                },
            );
        assert_eq!(r.unwrap(), TrackingStatus::Failed(ErrCode::Failed));
        let r = drive(set_var_wait("u", "v", "x", WaitOptions::default()), &mut |req| {
            if req.starts_with(b"SET TRACKING") {
                b"OK\nOK TRACKING 1\n".to_vec()
            } else {
                b"PENDING\n".to_vec()
            }
        });
        assert!(matches!(r, Err(ClientError::TrackingTimeout { .. })));
    }

    #[test]
    fn primary_falls_back_to_master() {
        let r = drive(primary("u"), &mut |req| match req {
            b"PRIMARY u\n" => b"ERR UNKNOWN-COMMAND\n".to_vec(),
            b"MASTER u\n" => b"OK MASTER-GRANTED\n".to_vec(),
            _ => panic!(),
        });
        r.unwrap();
        let r = drive(primary("u"), &mut |_| b"ERR ACCESS-DENIED\n".to_vec());
        assert!(matches!(r, Err(ClientError::Server { code: ErrCode::AccessDenied, .. })));
    }

    #[test]
    fn describe_pipelines_each_stage() {
        let r = drive(describe_rw("u"), &mut |req| match req {
            b"LIST RW u\n" => b"BEGIN LIST RW u\nRW u a \"1\"\nRW u b \"x\"\nEND LIST RW u\n".to_vec(),
            b"GET TYPE u a\nGET DESC u a\nGET TYPE u b\nGET DESC u b\n" => {
                b"TYPE u a RW RANGE NUMBER\nDESC u a \"A\"\nTYPE u b RW ENUM STRING:3\nERR VAR-NOT-SUPPORTED\n".to_vec()
            }
            b"LIST RANGE u a\nLIST ENUM u b\n" => b"BEGIN LIST RANGE u a\nRANGE u a \"1\" \"5\"\nEND LIST RANGE u a\n\
                BEGIN LIST ENUM u b\nENUM u b \"x\"\nENUM u b \"y\"\nEND LIST ENUM u b\n"
                .to_vec(),
            other => panic!("{}", String::from_utf8_lossy(other)),
        })
        .unwrap();
        assert_eq!(r[0].ranges, vec![(1, 5)]);
        assert_eq!(r[0].desc.as_deref(), Some("A"));
        assert_eq!(r[1].enums, vec!["x", "y"]);
        assert_eq!(r[1].max_len(), Some(3));
        assert_eq!(r[1].desc, None);
    }
}
