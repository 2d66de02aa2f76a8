//! Reply lines of the network protocol (`upsd` to client).

use super::{ErrCode, Query};
use crate::token::{self, TokenError, Words, quote_into, word_into};
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// The answer to `GET TRACKING` (the connection's mode) or to
/// `GET TRACKING <id>` (a command's outcome, when it is not an `ERR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrackingState {
    /// `ON`: tracking is enabled on this connection.
    On,
    /// `OFF`: tracking is disabled on this connection.
    Off,
    /// `PENDING`: the driver has not answered yet.
    Pending,
    /// `SUCCESS`: the driver carried the command out.
    Success,
}

impl TrackingState {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackingState::On => "ON",
            TrackingState::Off => "OFF",
            TrackingState::Pending => "PENDING",
            TrackingState::Success => "SUCCESS",
        }
    }
}

/// Whether a variable is a string (with its maximum length) or a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarKind {
    /// `STRING:<n>`: a string of at most `n` characters.
    String(i64),
    /// `NUMBER` (also what NUT reports for a variable with no type flag).
    Number,
}

/// The answer to `GET TYPE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarType {
    /// `RW`: the variable can be set.
    pub rw: bool,
    /// `ENUM`: the variable has a list of allowed values.
    pub enumerated: bool,
    /// `RANGE`: the variable has allowed ranges.
    pub range: bool,
    /// String or number. NUT always sends one of them (`NUMBER` when the
    /// driver gave no type); other servers may send neither.
    pub kind: Option<VarKind>,
}

/// One line from `upsd`.
///
/// ```
/// use nut_proto::net::Reply;
/// let r = Reply::parse(br#"VAR ups ups.status "OL CHRG""#).unwrap();
/// assert_eq!(r, Reply::Var { ups: "ups".into(), var: "ups.status".into(), value: "OL CHRG".into() });
/// assert_eq!(r.to_line(), b"VAR ups ups.status \"OL CHRG\"\n");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply<'a> {
    /// `OK`
    Ok,
    /// `OK TRACKING <id>`: the command was handed to the driver and is tracked.
    OkTracking(Cow<'a, str>),
    /// `OK Goodbye` (answer to LOGOUT)
    OkGoodbye,
    /// `OK PRIMARY-GRANTED`
    OkPrimaryGranted,
    /// `OK MASTER-GRANTED`
    OkMasterGranted,
    /// `OK FSD-SET`
    OkFsdSet,
    /// `OK STARTTLS`: the TLS handshake starts right after this line.
    OkStartTls,
    /// `OK <text>` with any other text, kept as received.
    OkOther(Cow<'a, str>),
    /// `ERR <code> [<extra>]`
    Err {
        /// The error code.
        code: ErrCode<'a>,
        /// Optional text after the code.
        extra: Option<Cow<'a, str>>,
    },
    /// `VAR <ups> <var> "<value>"` (GET VAR, and each LIST VAR row)
    Var {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
        /// Value, unescaped.
        value: Cow<'a, str>,
    },
    /// `RW <ups> <var> "<value>"` (each LIST RW row)
    Rw {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
        /// Value, unescaped.
        value: Cow<'a, str>,
    },
    /// `TYPE <ups> <var> <type words>`
    Type {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
        /// The type.
        ty: VarType,
    },
    /// `DESC <ups> <var> "<text>"`
    Desc {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
        /// Description.
        desc: Cow<'a, str>,
    },
    /// `CMDDESC <ups> <cmd> "<text>"`
    CmdDesc {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Command name.
        cmd: Cow<'a, str>,
        /// Description.
        desc: Cow<'a, str>,
    },
    /// `UPSDESC <ups> "<text>"`
    UpsDesc {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Description.
        desc: Cow<'a, str>,
    },
    /// `NUMLOGINS <ups> <n>`
    NumLogins {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Number of clients logged in.
        count: u32,
    },
    /// `NUMATTACH <ups> <n>` (RFC 9271)
    NumAttach {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Number of clients attached.
        count: u32,
    },
    /// `ON`, `OFF`, `PENDING` or `SUCCESS` (GET TRACKING)
    Tracking(TrackingState),
    /// `BEGIN LIST <query>`
    BeginList(Query<'a>),
    /// `END LIST <query>`
    EndList(Query<'a>),
    /// `UPS <ups> "<desc>"` (LIST UPS row)
    Ups {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Description.
        desc: Cow<'a, str>,
    },
    /// `CMD <ups> <cmd>` (LIST CMD row)
    Cmd {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Command name.
        cmd: Cow<'a, str>,
    },
    /// `ENUM <ups> <var> "<value>"` (LIST ENUM row)
    Enum {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
        /// One allowed value.
        value: Cow<'a, str>,
    },
    /// `RANGE <ups> <var> "<min>" "<max>"` (LIST RANGE row)
    Range {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// `CLIENT <ups> <address>` (LIST CLIENT row)
    Client {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Client address (`127.0.0.1`, `::1`).
        addr: Cow<'a, str>,
    },
    /// Any other line, verbatim: the answers to VER, HELP, NETVER and PROTVER
    /// are free text that only the request gives meaning to.
    Text(Cow<'a, str>),
}

/// A reply line that starts with a known keyword but does not have its
/// shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The line could not be tokenized.
    #[error("malformed reply line: {0}")]
    Token(#[from] TokenError),
    /// A known keyword with the wrong number or form of words.
    #[error("malformed {keyword} reply")]
    Malformed {
        /// The keyword that started the line.
        keyword: &'static str,
    },
    /// Free text (a line that is not a keyword reply, or the text of an `OK`
    /// or `ERR`) holding control bytes.
    #[error("control bytes in reply text")]
    ControlBytes,
    /// A number field that is not a decimal integer.
    #[error("bad number in {keyword} reply")]
    BadNumber {
        /// The keyword that started the line.
        keyword: &'static str,
    },
}

impl Reply<'_> {
    /// The first words that make a reply line something other than
    /// [`Reply::Text`] (with `ON`, `OFF`, `PENDING`, `SUCCESS` alone on a line).
    pub const KEYWORDS: &'static [&'static str] = KEYWORDS;
}

const KEYWORDS: &[&str] = &[
    "OK",
    "ERR",
    "VAR",
    "RW",
    "TYPE",
    "DESC",
    "CMDDESC",
    "UPSDESC",
    "NUMLOGINS",
    "NUMATTACH",
    "BEGIN",
    "END",
    "UPS",
    "CMD",
    "ENUM",
    "RANGE",
    "CLIENT",
];

fn lossy(line: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(line)
}

/// Word separators of NUT's tokenizer, and LF.
fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// Free text (VER banner, `OK ...`, `ERR` code and extra): no control bytes.
fn free_text(text: &[u8]) -> Result<Cow<'_, str>, ReplyError> {
    if text.iter().any(|&b| b < 0x20) {
        return Err(ReplyError::ControlBytes);
    }
    Ok(lossy(text))
}

impl<'a> Reply<'a> {
    /// Parses one reply line (without its LF). Keywords are matched exactly
    /// (`upsd` always writes them in uppercase).
    ///
    /// A final CR is ignored. The separator after `OK`, after `ERR` and
    /// after an `ERR` code may be any one of NUT's word separators (space,
    /// TAB, CR, VT, FF) or LF, as NUT's client library accepts them (it
    /// only checks how the line starts); [`encode`](Self::encode) writes
    /// the space `upsd` writes. Raw text is otherwise kept as received.
    pub fn parse(line: &'a [u8]) -> Result<Self, ReplyError> {
        Self::parse_with(line, true)
    }

    /// [`parse`](Self::parse), with or without the fast path for the
    /// fixed-shape lines (the tests check that both agree).
    #[inline(always)]
    fn parse_with(line: &'a [u8], fast: bool) -> Result<Self, ReplyError> {
        // Tolerate CRLF peers: a final CR is whitespace to NUT's tokenizer.
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if fast {
            if let Some(r) = Self::parse_fast(line) {
                return Ok(r);
            }
        }
        let first_end = line.iter().position(|&b| is_sep(b)).unwrap_or(line.len());
        let first = &line[..first_end];
        let Some(&kw) = KEYWORDS.iter().find(|k| k.as_bytes() == first) else {
            return Ok(match first {
                b"ON" if first_end == line.len() => Reply::Tracking(TrackingState::On),
                b"OFF" if first_end == line.len() => Reply::Tracking(TrackingState::Off),
                b"PENDING" if first_end == line.len() => Reply::Tracking(TrackingState::Pending),
                b"SUCCESS" if first_end == line.len() => Reply::Tracking(TrackingState::Success),
                _ => Reply::Text(free_text(line)?),
            });
        };
        let rest = line.get(first_end + 1..).unwrap_or(b"");
        match kw {
            // OK and ERR carry free text: split on the raw bytes.
            "OK" => Ok(match rest {
                b"" if first_end == line.len() => Reply::Ok,
                b"Goodbye" => Reply::OkGoodbye,
                b"PRIMARY-GRANTED" => Reply::OkPrimaryGranted,
                b"MASTER-GRANTED" => Reply::OkMasterGranted,
                b"FSD-SET" => Reply::OkFsdSet,
                b"STARTTLS" => Reply::OkStartTls,
                _ if rest.starts_with(b"TRACKING ") => match token::tokenize(line) {
                    Ok(mut w) if w.len() == 3 => Reply::OkTracking(w.take(2)),
                    _ => Reply::OkOther(free_text(rest)?),
                },
                _ => Reply::OkOther(free_text(rest)?),
            }),
            "ERR" => {
                let code_end = rest.iter().position(|&b| is_sep(b)).unwrap_or(rest.len());
                let code = &rest[..code_end];
                if code.is_empty() {
                    return Err(ReplyError::Malformed { keyword: "ERR" });
                }
                let extra = match rest.get(code_end + 1..) {
                    Some(e) => Some(free_text(e)?),
                    None => None,
                };
                Ok(Reply::Err { code: ErrCode::parse(free_text(code)?), extra })
            }
            _ => Self::from_words(kw, token::tokenize(line)?),
        }
    }

    /// The replies of a fixed shape (`VAR <ups> <var> "<value>"` and the
    /// like) without the general tokenizer. `None` when the line is not
    /// plainly of that shape: the general path then decides, and gives the
    /// same reply when this one gives one.
    #[inline(always)]
    fn parse_fast(line: &'a [u8]) -> Option<Self> {
        let (shape, ups, name, value) = fast_words(line)?;
        let (ups, name, value) = (Cow::Borrowed(ups), Cow::Borrowed(name), Cow::Borrowed(value));
        // Built in place from plain `&str`s (no intermediate `Cow` tuples).
        Some(match shape {
            Shape::Var => Reply::Var { ups, var: name, value },
            Shape::Rw => Reply::Rw { ups, var: name, value },
            Shape::Enum => Reply::Enum { ups, var: name, value },
            Shape::Desc => Reply::Desc { ups, var: name, desc: value },
            Shape::CmdDesc => Reply::CmdDesc { ups, cmd: name, desc: value },
            Shape::Ups => Reply::Ups { ups, desc: value },
            Shape::UpsDesc => Reply::UpsDesc { ups, desc: value },
        })
    }

    fn from_words(kw: &'static str, mut w: Words<'a>) -> Result<Self, ReplyError> {
        let bad = ReplyError::Malformed { keyword: kw };
        let n = w.len();
        let exactly = |k: usize| if n == k { Ok(()) } else { Err(bad.clone()) };
        let number = |s: &str| s.parse::<i64>().map_err(|_| ReplyError::BadNumber { keyword: kw });
        let count = |s: &str| s.parse::<u32>().map_err(|_| ReplyError::BadNumber { keyword: kw });
        Ok(match kw {
            "VAR" => {
                exactly(4)?;
                Reply::Var { ups: w.take(1), var: w.take(2), value: w.take(3) }
            }
            "RW" => {
                exactly(4)?;
                Reply::Rw { ups: w.take(1), var: w.take(2), value: w.take(3) }
            }
            "ENUM" => {
                exactly(4)?;
                Reply::Enum { ups: w.take(1), var: w.take(2), value: w.take(3) }
            }
            "DESC" => {
                exactly(4)?;
                Reply::Desc { ups: w.take(1), var: w.take(2), desc: w.take(3) }
            }
            "CMDDESC" => {
                exactly(4)?;
                Reply::CmdDesc { ups: w.take(1), cmd: w.take(2), desc: w.take(3) }
            }
            "UPSDESC" => {
                exactly(3)?;
                Reply::UpsDesc { ups: w.take(1), desc: w.take(2) }
            }
            "UPS" => {
                exactly(3)?;
                Reply::Ups { ups: w.take(1), desc: w.take(2) }
            }
            "CMD" => {
                exactly(3)?;
                Reply::Cmd { ups: w.take(1), cmd: w.take(2) }
            }
            "CLIENT" => {
                exactly(3)?;
                Reply::Client { ups: w.take(1), addr: w.take(2) }
            }
            "NUMLOGINS" => {
                exactly(3)?;
                let count = count(w.get(2).unwrap_or(""))?;
                Reply::NumLogins { ups: w.take(1), count }
            }
            "NUMATTACH" => {
                exactly(3)?;
                let count = count(w.get(2).unwrap_or(""))?;
                Reply::NumAttach { ups: w.take(1), count }
            }
            "RANGE" => {
                exactly(5)?;
                let min = number(w.get(3).unwrap_or(""))?;
                let max = number(w.get(4).unwrap_or(""))?;
                Reply::Range { ups: w.take(1), var: w.take(2), min, max }
            }
            "TYPE" => {
                if n < 3 {
                    return Err(bad);
                }
                let mut ty = VarType { rw: false, enumerated: false, range: false, kind: None };
                let mut kind = None;
                for word in w.iter().skip(3) {
                    match word {
                        "RW" => ty.rw = true,
                        "ENUM" => ty.enumerated = true,
                        "RANGE" => ty.range = true,
                        "NUMBER" if kind.is_none() => kind = Some(VarKind::Number),
                        _ => match word.strip_prefix("STRING:") {
                            Some(len) if kind.is_none() => {
                                kind = Some(VarKind::String(number(len)?))
                            }
                            _ => return Err(bad),
                        },
                    }
                }
                ty.kind = kind;
                Reply::Type { ups: w.take(1), var: w.take(2), ty }
            }
            "BEGIN" | "END" => {
                if w.get(1) != Some("LIST") {
                    return Err(bad);
                }
                let q = Query::from_words(&mut w, 2).ok_or(bad)?;
                if kw == "BEGIN" { Reply::BeginList(q) } else { Reply::EndList(q) }
            }
            _ => return Err(bad),
        })
    }

    /// Appends the reply line, with its LF, to `out`.
    ///
    /// Values and descriptions are always quoted and escaped; names are
    /// written bare when that is safe and quoted otherwise.
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn words(out: &mut Vec<u8>, kw: &str, names: &[&str]) {
            out.extend_from_slice(kw.as_bytes());
            for n in names {
                out.push(b' ');
                word_into(out, n);
            }
        }
        fn quoted(out: &mut Vec<u8>, v: &str) {
            out.push(b' ');
            quote_into(out, v);
        }
        fn text(out: &mut Vec<u8>, t: &str) {
            // Control bytes cannot be read back (see `free_text`); drop them.
            out.extend(t.bytes().filter(|&b| b >= 0x20));
        }
        match self {
            Reply::Ok => out.extend_from_slice(b"OK"),
            Reply::OkTracking(id) => words(out, "OK TRACKING", &[id]),
            Reply::OkGoodbye => out.extend_from_slice(b"OK Goodbye"),
            Reply::OkPrimaryGranted => out.extend_from_slice(b"OK PRIMARY-GRANTED"),
            Reply::OkMasterGranted => out.extend_from_slice(b"OK MASTER-GRANTED"),
            Reply::OkFsdSet => out.extend_from_slice(b"OK FSD-SET"),
            Reply::OkStartTls => out.extend_from_slice(b"OK STARTTLS"),
            Reply::OkOther(t) => {
                out.extend_from_slice(b"OK ");
                text(out, t);
            }
            Reply::Err { code, extra } => {
                out.extend_from_slice(b"ERR ");
                text(out, code.as_str());
                if let Some(e) = extra {
                    out.push(b' ');
                    text(out, e);
                }
            }
            Reply::Var { ups, var, value } => {
                words(out, "VAR", &[ups, var]);
                quoted(out, value);
            }
            Reply::Rw { ups, var, value } => {
                words(out, "RW", &[ups, var]);
                quoted(out, value);
            }
            Reply::Enum { ups, var, value } => {
                words(out, "ENUM", &[ups, var]);
                quoted(out, value);
            }
            Reply::Desc { ups, var, desc } => {
                words(out, "DESC", &[ups, var]);
                quoted(out, desc);
            }
            Reply::CmdDesc { ups, cmd, desc } => {
                words(out, "CMDDESC", &[ups, cmd]);
                quoted(out, desc);
            }
            Reply::UpsDesc { ups, desc } => {
                words(out, "UPSDESC", &[ups]);
                quoted(out, desc);
            }
            Reply::Ups { ups, desc } => {
                words(out, "UPS", &[ups]);
                quoted(out, desc);
            }
            Reply::Cmd { ups, cmd } => words(out, "CMD", &[ups, cmd]),
            Reply::Client { ups, addr } => words(out, "CLIENT", &[ups, addr]),
            Reply::NumLogins { ups, count } => {
                words(out, "NUMLOGINS", &[ups]);
                let _ = write!(Buf(out), " {count}");
            }
            Reply::NumAttach { ups, count } => {
                words(out, "NUMATTACH", &[ups]);
                let _ = write!(Buf(out), " {count}");
            }
            Reply::Range { ups, var, min, max } => {
                words(out, "RANGE", &[ups, var]);
                let _ = write!(Buf(out), " \"{min}\" \"{max}\"");
            }
            Reply::Type { ups, var, ty } => {
                words(out, "TYPE", &[ups, var]);
                if ty.rw {
                    out.extend_from_slice(b" RW");
                }
                if ty.enumerated {
                    out.extend_from_slice(b" ENUM");
                }
                if ty.range {
                    out.extend_from_slice(b" RANGE");
                }
                match ty.kind {
                    Some(VarKind::String(n)) => {
                        let _ = write!(Buf(out), " STRING:{n}");
                    }
                    Some(VarKind::Number) => out.extend_from_slice(b" NUMBER"),
                    None => {}
                }
            }
            Reply::Tracking(t) => out.extend_from_slice(t.as_str().as_bytes()),
            Reply::BeginList(q) => {
                out.extend_from_slice(b"BEGIN LIST ");
                q.encode(out);
            }
            Reply::EndList(q) => {
                out.extend_from_slice(b"END LIST ");
                q.encode(out);
            }
            Reply::Text(t) => text(out, t),
        }
        out.push(b'\n');
    }

    /// The reply line, with its LF.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Detaches the reply from the input it was parsed from.
    pub fn into_owned(self) -> Reply<'static> {
        fn owned(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        match self {
            Reply::Ok => Reply::Ok,
            Reply::OkTracking(id) => Reply::OkTracking(owned(id)),
            Reply::OkGoodbye => Reply::OkGoodbye,
            Reply::OkPrimaryGranted => Reply::OkPrimaryGranted,
            Reply::OkMasterGranted => Reply::OkMasterGranted,
            Reply::OkFsdSet => Reply::OkFsdSet,
            Reply::OkStartTls => Reply::OkStartTls,
            Reply::OkOther(t) => Reply::OkOther(owned(t)),
            Reply::Err { code, extra } => {
                Reply::Err { code: code.into_owned(), extra: extra.map(owned) }
            }
            Reply::Var { ups, var, value } => {
                Reply::Var { ups: owned(ups), var: owned(var), value: owned(value) }
            }
            Reply::Rw { ups, var, value } => {
                Reply::Rw { ups: owned(ups), var: owned(var), value: owned(value) }
            }
            Reply::Type { ups, var, ty } => Reply::Type { ups: owned(ups), var: owned(var), ty },
            Reply::Desc { ups, var, desc } => {
                Reply::Desc { ups: owned(ups), var: owned(var), desc: owned(desc) }
            }
            Reply::CmdDesc { ups, cmd, desc } => {
                Reply::CmdDesc { ups: owned(ups), cmd: owned(cmd), desc: owned(desc) }
            }
            Reply::UpsDesc { ups, desc } => Reply::UpsDesc { ups: owned(ups), desc: owned(desc) },
            Reply::NumLogins { ups, count } => Reply::NumLogins { ups: owned(ups), count },
            Reply::NumAttach { ups, count } => Reply::NumAttach { ups: owned(ups), count },
            Reply::Tracking(t) => Reply::Tracking(t),
            Reply::BeginList(q) => Reply::BeginList(q.into_owned()),
            Reply::EndList(q) => Reply::EndList(q.into_owned()),
            Reply::Ups { ups, desc } => Reply::Ups { ups: owned(ups), desc: owned(desc) },
            Reply::Cmd { ups, cmd } => Reply::Cmd { ups: owned(ups), cmd: owned(cmd) },
            Reply::Enum { ups, var, value } => {
                Reply::Enum { ups: owned(ups), var: owned(var), value: owned(value) }
            }
            Reply::Range { ups, var, min, max } => {
                Reply::Range { ups: owned(ups), var: owned(var), min, max }
            }
            Reply::Client { ups, addr } => Reply::Client { ups: owned(ups), addr: owned(addr) },
            Reply::Text(t) => Reply::Text(owned(t)),
        }
    }

    /// An `ERR <code>` reply without extra text.
    pub fn err(code: ErrCode<'a>) -> Self {
        Reply::Err { code, extra: None }
    }
}

/// The replies [`Reply::parse_fast`] reads.
#[derive(Clone, Copy)]
enum Shape {
    Var,
    Rw,
    Enum,
    Desc,
    CmdDesc,
    Ups,
    UpsDesc,
}

/// The words of a fast-path reply: its shape, the UPS, the variable or
/// command (empty for `UPS` and `UPSDESC`) and the quoted value.
#[inline(always)]
fn fast_words(line: &[u8]) -> Option<(Shape, &str, &str, &str)> {
    // The keyword, then one space. (A keyword holds no separator, so this
    // is also where the general path ends the first word.)
    let sp = line.iter().take(8).position(|&b| b == b' ')?;
    let (kw, rest) = (&line[..sp], &line[sp + 1..]);
    let shape = match kw {
        b"VAR" => Shape::Var,
        b"RW" => Shape::Rw,
        b"ENUM" => Shape::Enum,
        b"DESC" => Shape::Desc,
        b"CMDDESC" => Shape::CmdDesc,
        b"UPS" => Shape::Ups,
        b"UPSDESC" => Shape::UpsDesc,
        _ => return None,
    };
    if matches!(shape, Shape::Ups | Shape::UpsDesc) {
        let ([ups], value) = token::simple_words::<1>(rest)?;
        Some((shape, ups, "", value))
    } else {
        let ([ups, name], value) = token::simple_words::<2>(rest)?;
        Some((shape, ups, name, value))
    }
}

/// `core::fmt::Write` over a byte vector.
pub(crate) struct Buf<'a>(pub(crate) &'a mut Vec<u8>);

impl core::fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::adversarial;

    fn same_as_general(line: &[u8]) {
        assert_eq!(
            Reply::parse_with(line, true),
            Reply::parse_with(line, false),
            "line {}",
            line.escape_ascii()
        );
    }

    #[test]
    fn fast_path_is_taken_and_borrows() {
        let line = b"VAR ups ups.status \"OL CHRG\"";
        let r = Reply::parse_fast(line).unwrap();
        assert_eq!(r, Reply::parse_with(line, false).unwrap());
        let Reply::Var { ups, var, value } = r else { panic!() };
        assert!([ups, var, value].iter().all(|w| matches!(w, Cow::Borrowed(_))));
        for line in [
            &b"UPS u \"\""[..],
            b"UPSDESC u \"d\"",
            b"CMDDESC u c \"d e\"",
            b"RW u v \"1\"",
            b"ENUM u v \"a=b\"",
            b"DESC u v \"x\"",
        ] {
            let fast = Reply::parse_fast(line).unwrap();
            assert_eq!(Ok(fast), Reply::parse_with(line, false));
        }
    }

    #[test]
    fn fast_path_refuses_what_it_cannot_read_plainly() {
        for line in [
            &b"VAR ups x \"a\\\"b\""[..],
            b"VAR ups x \"a#b\"",
            b"VAR ups x \"a\"b",
            b"VAR ups x \"a\" ",
            b"VAR ups  x \"a\"",
            b"VAR ups\tx \"a\"",
            b"VAR ups x=y \"a\"",
            b"VAR ups x#y \"a\"",
            b"VAR ups x \"a\x01\"",
            b"VAR ups x \"caf\xc3\xa9\"",
            b"VAR ups x \"a",
            b"VAR ups x y",
            b"VAR ups \"x\" \"a\"",
            b"VAR ups x \"a\nb\"",
        ] {
            assert_eq!(Reply::parse_fast(line), None, "{}", line.escape_ascii());
            same_as_general(line);
        }
        let mut long = b"VAR ups x \"".to_vec();
        long.resize(long.len() + MAX_WORD, b'v');
        long.push(b'"');
        assert!(Reply::parse_fast(&long).is_some());
        long.insert(12, b'v');
        assert_eq!(Reply::parse_fast(&long), None);
        same_as_general(&long);
    }

    const MAX_WORD: usize = token::MAX_WORD_LEN;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(8192))]
        #[test]
        fn fast_path_agrees_with_general_path(line in adversarial::line()) {
            same_as_general(&line);
        }

        #[test]
        fn fast_path_agrees_on_mutated_lines(line in adversarial::mutated()) {
            same_as_general(&line);
        }

        #[test]
        fn fast_path_agrees_on_any_bytes(
            kw in proptest::sample::select(&["VAR ", "UPS ", "DESC "][..]),
            rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            same_as_general(&[kw.as_bytes(), &rest].concat());
        }
    }
}
