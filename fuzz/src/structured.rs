//! The `roundtrip` target: values built from the input with `arbitrary`.
//!
//! The `*Spec` types mirror the public enums of `nut-proto` and derive
//! `Arbitrary`; each is turned into the real value, which must encode to one
//! line that parses back to it. Strings are generated in the encodable
//! domain: [`token::sanitize`]d (the encoder drops what NUT's tokenizer
//! would drop) and at most [`MAX_WORD_LEN`] bytes where they become one
//! word. Free-text replies (`Text`, `OkOther`) are kept from starting like
//! another reply, which they would then be read as.

use super::{assert_one_frame, body_of, show};
use arbitrary::{Arbitrary, Result, Unstructured};
use nut_proto::Secret;
use nut_proto::net::{Command, ErrCode, GetQuery, Query, Reply, TrackingState, VarKind, VarType};
use nut_proto::sock::{DriverMessage, ServerMessage, TrackingResult, VarFlags};
use nut_proto::token::{self, MAX_WORD_LEN};
use std::borrow::Cow;

/// Bytes the encoder must escape, quote or drop, and a few plain ones.
const ALPHABET: &[u8] = b" \"\\#=\t\r\n\x00\x01\x7f[]:.-_aAzZ09";

/// Whole lines that are a `GET TRACKING` answer.
const TRACKING_WORDS: &[&str] = &["ON", "OFF", "PENDING", "SUCCESS"];

/// Texts after `OK ` that are a reply of their own.
const OK_FIXED: &[&str] = &["Goodbye", "PRIMARY-GRANTED", "MASTER-GRANTED", "FSD-SET", "STARTTLS"];

/// A string from the input, sanitized and cut to `max` bytes. Half the
/// time it is drawn from [`ALPHABET`], sometimes right at the word limit.
fn text(u: &mut Unstructured<'_>, max: usize) -> Result<String> {
    let raw = if u.ratio(1, 2)? {
        let len = if u.ratio(1, 32)? {
            u.int_in_range(MAX_WORD_LEN - 2..=MAX_WORD_LEN + 2)?
        } else {
            u.int_in_range(0..=24)?
        };
        let mut s = String::with_capacity(len);
        for _ in 0..len {
            s.push(char::from(*u.choose(ALPHABET)?));
        }
        s
    } else {
        String::arbitrary(u)?
    };
    let mut s = token::sanitize(&raw).into_owned();
    // Sanitized text is ASCII, so any byte index is a char boundary.
    s.truncate(max);
    Ok(s)
}

/// One word of a line (a name or a quoted value).
#[derive(Debug)]
struct Word(String);

impl<'a> Arbitrary<'a> for Word {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        text(u, MAX_WORD_LEN).map(Word)
    }
}

impl Word {
    fn cow(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }
}

/// Raw text of a reply (not tokenized, so not limited to one word).
#[derive(Debug)]
struct FreeText(String);

impl<'a> Arbitrary<'a> for FreeText {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        text(u, 2 * MAX_WORD_LEN).map(FreeText)
    }
}

#[derive(Arbitrary, Debug)]
enum Item {
    Command(CommandSpec),
    Reply(ReplySpec),
    Driver(DriverSpec),
    Server(ServerSpec),
}

#[derive(Arbitrary, Debug)]
enum QuerySpec {
    Ups,
    Var(Word),
    Rw(Word),
    Cmd(Word),
    Client(Word),
    Enum(Word, Word),
    Range(Word, Word),
}

impl QuerySpec {
    fn build(&self) -> Query<'_> {
        match self {
            QuerySpec::Ups => Query::Ups,
            QuerySpec::Var(ups) => Query::Var { ups: ups.cow() },
            QuerySpec::Rw(ups) => Query::Rw { ups: ups.cow() },
            QuerySpec::Cmd(ups) => Query::Cmd { ups: ups.cow() },
            QuerySpec::Client(ups) => Query::Client { ups: ups.cow() },
            QuerySpec::Enum(ups, var) => Query::Enum { ups: ups.cow(), var: var.cow() },
            QuerySpec::Range(ups, var) => Query::Range { ups: ups.cow(), var: var.cow() },
        }
    }
}

#[derive(Arbitrary, Debug)]
enum GetSpec {
    Var(Word, Word),
    Type(Word, Word),
    Desc(Word, Word),
    CmdDesc(Word, Word),
    UpsDesc(Word),
    NumLogins(Word),
    NumAttach(Word),
    Tracking(Option<Word>),
}

#[derive(Arbitrary, Debug)]
enum CommandSpec {
    Ver,
    NetVer,
    ProtVer,
    Help,
    StartTls,
    Username(Word),
    Password(Word),
    Login(Word),
    Attach(Word),
    Logout,
    Detach,
    Primary(Word),
    Master(Word),
    Fsd(Word),
    Get(GetSpec),
    List(QuerySpec),
    SetVar(Word, Word, Word),
    SetTracking(bool),
    InstCmd(Word, Word, Option<Word>),
}

impl CommandSpec {
    fn build(&self) -> Command<'_> {
        use CommandSpec as S;
        match self {
            S::Ver => Command::Ver,
            S::NetVer => Command::NetVer,
            S::ProtVer => Command::ProtVer,
            S::Help => Command::Help,
            S::StartTls => Command::StartTls,
            S::Username(n) => Command::Username(n.cow()),
            S::Password(p) => Command::Password(Secret::new(p.cow())),
            S::Login(ups) => Command::Login { ups: ups.cow() },
            S::Attach(ups) => Command::Attach { ups: ups.cow() },
            S::Logout => Command::Logout,
            S::Detach => Command::Detach,
            S::Primary(ups) => Command::Primary { ups: ups.cow() },
            S::Master(ups) => Command::Master { ups: ups.cow() },
            S::Fsd(ups) => Command::Fsd { ups: ups.cow() },
            S::Get(q) => Command::Get(match q {
                GetSpec::Var(u, v) => GetQuery::Var { ups: u.cow(), var: v.cow() },
                GetSpec::Type(u, v) => GetQuery::Type { ups: u.cow(), var: v.cow() },
                GetSpec::Desc(u, v) => GetQuery::Desc { ups: u.cow(), var: v.cow() },
                GetSpec::CmdDesc(u, c) => GetQuery::CmdDesc { ups: u.cow(), cmd: c.cow() },
                GetSpec::UpsDesc(u) => GetQuery::UpsDesc { ups: u.cow() },
                GetSpec::NumLogins(u) => GetQuery::NumLogins { ups: u.cow() },
                GetSpec::NumAttach(u) => GetQuery::NumAttach { ups: u.cow() },
                GetSpec::Tracking(id) => GetQuery::Tracking(id.as_ref().map(Word::cow)),
            }),
            S::List(q) => Command::List(q.build()),
            S::SetVar(ups, var, value) => {
                Command::SetVar { ups: ups.cow(), var: var.cow(), value: value.cow() }
            }
            S::SetTracking(on) => Command::SetTracking(*on),
            S::InstCmd(ups, cmd, param) => Command::InstCmd {
                ups: ups.cow(),
                cmd: cmd.cow(),
                param: param.as_ref().map(Word::cow),
            },
        }
    }
}

#[derive(Arbitrary, Debug)]
enum ErrSpec {
    Known(u8),
    Other(Word),
}

#[derive(Arbitrary, Debug)]
enum KindSpec {
    None,
    Number,
    String(i64),
}

#[derive(Arbitrary, Debug)]
enum ReplySpec {
    Ok,
    OkTracking(Word),
    OkGoodbye,
    OkPrimaryGranted,
    OkMasterGranted,
    OkFsdSet,
    OkStartTls,
    OkOther(FreeText),
    Err(ErrSpec, Option<FreeText>),
    Var(Word, Word, Word),
    Rw(Word, Word, Word),
    Type(Word, Word, bool, bool, bool, KindSpec),
    Desc(Word, Word, Word),
    CmdDesc(Word, Word, Word),
    UpsDesc(Word, Word),
    NumLogins(Word, u32),
    NumAttach(Word, u32),
    Tracking(u8),
    BeginList(QuerySpec),
    EndList(QuerySpec),
    Ups(Word, Word),
    Cmd(Word, Word),
    Enum(Word, Word, Word),
    Range(Word, Word, i64, i64),
    Client(Word, Word),
    Text(FreeText),
}

/// `Text` whose first word is a reply keyword, or which is a tracking
/// word alone, is another reply: prefix it.
fn text_reply(t: &str) -> Cow<'_, str> {
    let first = t.split(' ').next().unwrap_or_default();
    if Reply::KEYWORDS.contains(&first) || TRACKING_WORDS.contains(&t) {
        Cow::Owned(format!("~{t}"))
    } else {
        Cow::Borrowed(t)
    }
}

/// `OK <text>` where the text is a fixed answer or starts with `TRACKING `
/// (possibly an `OK TRACKING <id>`) is another reply: prefix it.
fn ok_text(t: &str) -> Cow<'_, str> {
    if OK_FIXED.contains(&t) || t.starts_with("TRACKING ") {
        Cow::Owned(format!("~{t}"))
    } else {
        Cow::Borrowed(t)
    }
}

/// An unknown `ERR` code: one non-empty word without spaces that is not a
/// known code.
fn other_code(w: &str) -> Cow<'static, str> {
    let mut code = w.replace(' ', "_");
    if code.is_empty() || ErrCode::KNOWN.iter().any(|k| k.as_str() == code) {
        code.push('~');
    }
    Cow::Owned(code)
}

impl ReplySpec {
    fn build(&self) -> Reply<'_> {
        use ReplySpec as S;
        match self {
            S::Ok => Reply::Ok,
            S::OkTracking(id) => Reply::OkTracking(id.cow()),
            S::OkGoodbye => Reply::OkGoodbye,
            S::OkPrimaryGranted => Reply::OkPrimaryGranted,
            S::OkMasterGranted => Reply::OkMasterGranted,
            S::OkFsdSet => Reply::OkFsdSet,
            S::OkStartTls => Reply::OkStartTls,
            S::OkOther(t) => Reply::OkOther(ok_text(&t.0)),
            S::Err(code, extra) => Reply::Err {
                code: match code {
                    ErrSpec::Known(i) => {
                        ErrCode::KNOWN[usize::from(*i) % ErrCode::KNOWN.len()].clone()
                    }
                    ErrSpec::Other(w) => ErrCode::Other(other_code(&w.0)),
                },
                extra: extra.as_ref().map(|e| Cow::Borrowed(e.0.as_str())),
            },
            S::Var(u, v, x) => Reply::Var { ups: u.cow(), var: v.cow(), value: x.cow() },
            S::Rw(u, v, x) => Reply::Rw { ups: u.cow(), var: v.cow(), value: x.cow() },
            S::Type(u, v, rw, enumerated, range, kind) => Reply::Type {
                ups: u.cow(),
                var: v.cow(),
                ty: VarType {
                    rw: *rw,
                    enumerated: *enumerated,
                    range: *range,
                    kind: match kind {
                        KindSpec::None => None,
                        KindSpec::Number => Some(VarKind::Number),
                        KindSpec::String(n) => Some(VarKind::String(*n)),
                    },
                },
            },
            S::Desc(u, v, d) => Reply::Desc { ups: u.cow(), var: v.cow(), desc: d.cow() },
            S::CmdDesc(u, c, d) => Reply::CmdDesc { ups: u.cow(), cmd: c.cow(), desc: d.cow() },
            S::UpsDesc(u, d) => Reply::UpsDesc { ups: u.cow(), desc: d.cow() },
            S::NumLogins(u, n) => Reply::NumLogins { ups: u.cow(), count: *n },
            S::NumAttach(u, n) => Reply::NumAttach { ups: u.cow(), count: *n },
            S::Tracking(i) => Reply::Tracking(
                [
                    TrackingState::On,
                    TrackingState::Off,
                    TrackingState::Pending,
                    TrackingState::Success,
                ][usize::from(*i % 4)],
            ),
            S::BeginList(q) => Reply::BeginList(q.build()),
            S::EndList(q) => Reply::EndList(q.build()),
            S::Ups(u, d) => Reply::Ups { ups: u.cow(), desc: d.cow() },
            S::Cmd(u, c) => Reply::Cmd { ups: u.cow(), cmd: c.cow() },
            S::Enum(u, v, x) => Reply::Enum { ups: u.cow(), var: v.cow(), value: x.cow() },
            S::Range(u, v, min, max) => {
                Reply::Range { ups: u.cow(), var: v.cow(), min: *min, max: *max }
            }
            S::Client(u, a) => Reply::Client { ups: u.cow(), addr: a.cow() },
            S::Text(t) => Reply::Text(text_reply(&t.0)),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum DriverSpec {
    SetInfo(Word, Word),
    DelInfo(Word),
    AddEnum(Word, Word),
    DelEnum(Word, Word),
    AddRange(Word, i64, i64),
    DelRange(Word, i64, i64),
    SetAux(Word, i64),
    SetFlags(Word, bool, bool, bool),
    AddCmd(Word),
    DelCmd(Word),
    DumpDone,
    DataOk,
    DataStale,
    Pong,
    Tracking(Word, i32),
    Pid(i64),
    Goodbye,
}

impl DriverSpec {
    fn build(&self) -> DriverMessage<'_> {
        use DriverSpec as S;
        match self {
            S::SetInfo(v, x) => DriverMessage::SetInfo { var: v.cow(), value: x.cow() },
            S::DelInfo(v) => DriverMessage::DelInfo { var: v.cow() },
            S::AddEnum(v, x) => DriverMessage::AddEnum { var: v.cow(), value: x.cow() },
            S::DelEnum(v, x) => DriverMessage::DelEnum { var: v.cow(), value: x.cow() },
            S::AddRange(v, min, max) => {
                DriverMessage::AddRange { var: v.cow(), min: *min, max: *max }
            }
            S::DelRange(v, min, max) => {
                DriverMessage::DelRange { var: v.cow(), min: *min, max: *max }
            }
            S::SetAux(v, aux) => DriverMessage::SetAux { var: v.cow(), aux: *aux },
            S::SetFlags(v, rw, string, number) => DriverMessage::SetFlags {
                var: v.cow(),
                flags: VarFlags { rw: *rw, string: *string, number: *number },
            },
            S::AddCmd(c) => DriverMessage::AddCmd { cmd: c.cow() },
            S::DelCmd(c) => DriverMessage::DelCmd { cmd: c.cow() },
            S::DumpDone => DriverMessage::DumpDone,
            S::DataOk => DriverMessage::DataOk,
            S::DataStale => DriverMessage::DataStale,
            S::Pong => DriverMessage::Pong,
            // `from_code` is the canonical form: `Other(0)` would read back
            // as `Handled`.
            S::Tracking(id, code) => {
                DriverMessage::Tracking { id: id.cow(), result: TrackingResult::from_code(*code) }
            }
            S::Pid(pid) => DriverMessage::Pid(*pid),
            S::Goodbye => DriverMessage::Goodbye,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum ServerSpec {
    DumpAll,
    Ping,
    Set(Word, Word, Option<Word>),
    InstCmd(Word, Option<Word>, Option<Word>),
    GetPid,
    DumpValue(Word),
    DumpStatus,
    NoBroadcast,
    Broadcast(Option<i64>),
    Logout,
}

impl ServerSpec {
    fn build(&self) -> ServerMessage<'_> {
        use ServerSpec as S;
        match self {
            S::DumpAll => ServerMessage::DumpAll,
            S::Ping => ServerMessage::Ping,
            S::Set(v, x, t) => ServerMessage::Set {
                var: v.cow(),
                value: x.cow(),
                tracking: t.as_ref().map(Word::cow),
            },
            S::InstCmd(c, p, t) => ServerMessage::InstCmd {
                cmd: c.cow(),
                param: p.as_ref().map(Word::cow),
                tracking: t.as_ref().map(Word::cow),
            },
            S::GetPid => ServerMessage::GetPid,
            S::DumpValue(v) => ServerMessage::DumpValue { var: v.cow() },
            S::DumpStatus => ServerMessage::DumpStatus,
            S::NoBroadcast => ServerMessage::NoBroadcast,
            S::Broadcast(n) => ServerMessage::Broadcast(*n),
            S::Logout => ServerMessage::Logout,
        }
    }
}

fn check(item: &Item) {
    match item {
        Item::Command(spec) => {
            let cmd = spec.build();
            let line = cmd.to_line();
            assert_one_frame(&line);
            assert_eq!(Command::parse(body_of(&line)).as_ref(), Ok(&cmd), "line {}", show(&line));
        }
        Item::Reply(spec) => {
            let reply = spec.build();
            let line = reply.to_line();
            // Raw text is written unquoted; NUT's clients read replies up to
            // the LF, so only the quoted forms must be one framer frame.
            if !matches!(reply, Reply::Text(_) | Reply::OkOther(_) | Reply::Err { .. }) {
                assert_one_frame(&line);
            }
            assert_eq!(Reply::parse(body_of(&line)).as_ref(), Ok(&reply), "line {}", show(&line));
        }
        Item::Driver(spec) => {
            let msg = spec.build();
            let line = msg.to_line();
            assert_one_frame(&line);
            let again = DriverMessage::parse(body_of(&line));
            assert_eq!(again.as_ref(), Ok(&msg), "line {}", show(&line));
        }
        Item::Server(spec) => {
            let msg = spec.build();
            let line = msg.to_line();
            assert_one_frame(&line);
            let again = ServerMessage::parse(body_of(&line));
            assert_eq!(again.as_ref(), Ok(&msg), "line {}", show(&line));
        }
    }
}

/// Builds up to 64 values from `data` and checks each.
pub(crate) fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    for _ in 0..64 {
        let Ok(item) = Item::arbitrary(&mut u) else { return };
        check(&item);
        if u.is_empty() {
            return;
        }
    }
}
