//! The driver <-> `upsd` socket protocol.
//!
//! A driver listens on the Unix socket `STATEPATH/<driver>-<ups>`; `upsd`
//! connects and sends [`ServerMessage`]s; the driver answers and pushes
//! updates as [`DriverMessage`]s. Lines use the same tokenizer and framing
//! as the network protocol.
//!
//! ```
//! use nut_proto::sock::{DriverMessage, ServerMessage};
//! assert_eq!(ServerMessage::parse(b"DUMPALL").unwrap(), ServerMessage::DumpAll);
//! let m = DriverMessage::parse(br#"SETINFO ups.status "OL CHRG""#).unwrap();
//! assert_eq!(m, DriverMessage::SetInfo { var: "ups.status".into(), value: "OL CHRG".into() });
//! assert_eq!(m.to_line(), b"SETINFO ups.status \"OL CHRG\"\n");
//! ```

use crate::net::reply::Buf;
use crate::token::{self, TokenError, Words, quote_into, word_into};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// Variable flags as carried by `SETFLAGS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VarFlags {
    /// `RW`: clients may set it.
    pub rw: bool,
    /// `STRING`: a string (its maximum length is set by `SETAUX`).
    pub string: bool,
    /// `NUMBER`: a number.
    pub number: bool,
}

impl VarFlags {
    /// True if no flag is set.
    pub fn is_empty(self) -> bool {
        !(self.rw || self.string || self.number)
    }
}

/// The outcome of a tracked SET or INSTCMD, as a driver reports it in
/// `TRACKING <id> <status>` (NUT's `STAT_INSTCMD_*` / `STAT_SET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrackingResult {
    /// 0: handled.
    Handled,
    /// 1: unknown command or variable.
    Unknown,
    /// 2: invalid argument.
    Invalid,
    /// 3: failed.
    Failed,
    /// 4: the value could not be converted.
    ConversionFailed,
    /// Any other number, kept as received.
    Other(i32),
}

impl TrackingResult {
    /// The number on the wire.
    pub fn code(self) -> i32 {
        match self {
            TrackingResult::Handled => 0,
            TrackingResult::Unknown => 1,
            TrackingResult::Invalid => 2,
            TrackingResult::Failed => 3,
            TrackingResult::ConversionFailed => 4,
            TrackingResult::Other(n) => n,
        }
    }

    /// Reads the number on the wire.
    pub fn from_code(n: i32) -> Self {
        match n {
            0 => TrackingResult::Handled,
            1 => TrackingResult::Unknown,
            2 => TrackingResult::Invalid,
            3 => TrackingResult::Failed,
            4 => TrackingResult::ConversionFailed,
            n => TrackingResult::Other(n),
        }
    }
}

/// A line from a driver to `upsd`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverMessage<'a> {
    /// `SETINFO <var> "<value>"`: create or update a variable.
    SetInfo {
        /// Variable name.
        var: Cow<'a, str>,
        /// Value, unescaped.
        value: Cow<'a, str>,
    },
    /// `DELINFO <var>`
    DelInfo {
        /// Variable name.
        var: Cow<'a, str>,
    },
    /// `ADDENUM <var> "<value>"`
    AddEnum {
        /// Variable name.
        var: Cow<'a, str>,
        /// Allowed value.
        value: Cow<'a, str>,
    },
    /// `DELENUM <var> "<value>"`
    DelEnum {
        /// Variable name.
        var: Cow<'a, str>,
        /// Value to remove.
        value: Cow<'a, str>,
    },
    /// `ADDRANGE <var> <min> <max>`
    AddRange {
        /// Variable name.
        var: Cow<'a, str>,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// `DELRANGE <var> <min> <max>`
    DelRange {
        /// Variable name.
        var: Cow<'a, str>,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// `SETAUX <var> <n>`: maximum length of a string variable.
    SetAux {
        /// Variable name.
        var: Cow<'a, str>,
        /// Maximum length.
        aux: i64,
    },
    /// `SETFLAGS <var> <flag>...`: replaces the flags (unknown flags are
    /// ignored, as in NUT).
    SetFlags {
        /// Variable name.
        var: Cow<'a, str>,
        /// New flags.
        flags: VarFlags,
    },
    /// `ADDCMD <cmd>`
    AddCmd {
        /// Instant command name.
        cmd: Cow<'a, str>,
    },
    /// `DELCMD <cmd>`
    DelCmd {
        /// Instant command name.
        cmd: Cow<'a, str>,
    },
    /// `DUMPDONE`: end of the answer to DUMPALL.
    DumpDone,
    /// `DATAOK`: the driver's data is valid.
    DataOk,
    /// `DATASTALE`: the driver lost its device.
    DataStale,
    /// `PONG`: answer to PING.
    Pong,
    /// `TRACKING <id> <status>`: outcome of a tracked SET or INSTCMD.
    Tracking {
        /// Tracking id that came with the command.
        id: Cow<'a, str>,
        /// Outcome.
        result: TrackingResult,
    },
    /// `PID <pid>`: answer to GETPID (NUT 2.8.1+).
    Pid(i64),
    /// `OK Goodbye`: answer to LOGOUT (NUT 2.8.1+).
    Goodbye,
}

/// A line from `upsd` (or another socket client) to a driver.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerMessage<'a> {
    /// `DUMPALL`: send the whole state, then `DUMPDONE`.
    DumpAll,
    /// `PING`: answer `PONG`.
    Ping,
    /// `SET <var> "<value>" [TRACKING <id>]`
    Set {
        /// Variable name.
        var: Cow<'a, str>,
        /// New value.
        value: Cow<'a, str>,
        /// Tracking id, if the client asked for tracking.
        tracking: Option<Cow<'a, str>>,
    },
    /// `INSTCMD <cmd> [<param>] [TRACKING <id>]`
    InstCmd {
        /// Command name.
        cmd: Cow<'a, str>,
        /// Optional parameter.
        param: Option<Cow<'a, str>>,
        /// Tracking id, if the client asked for tracking.
        tracking: Option<Cow<'a, str>>,
    },
    /// `GETPID` (NUT 2.8.1+)
    GetPid,
    /// `DUMPVALUE <var>` (NUT 2.8.1+)
    DumpValue {
        /// Variable name.
        var: Cow<'a, str>,
    },
    /// `DUMPSTATUS` (NUT 2.8.1+)
    DumpStatus,
    /// `NOBROADCAST` (NUT 2.8.1+): stop sending live updates to this connection.
    NoBroadcast,
    /// `BROADCAST [<n>]` (NUT 2.8.1+): resume (or set) live updates.
    Broadcast(Option<i64>),
    /// `LOGOUT` (NUT 2.8.1+)
    Logout,
}

/// Why a socket line was not understood. NUT ignores such lines; the caller
/// may log them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SockError {
    /// The line could not be tokenized.
    #[error("malformed line: {0}")]
    Token(#[from] TokenError),
    /// The line holds no words.
    #[error("empty line")]
    Empty,
    /// The first word is not a message of this direction.
    #[error("unknown message")]
    Unknown,
    /// A known message with the wrong number or form of words.
    #[error("malformed {keyword} message")]
    Malformed {
        /// The message keyword.
        keyword: &'static str,
    },
}

fn int<T: core::str::FromStr>(s: Option<&str>, keyword: &'static str) -> Result<T, SockError> {
    s.and_then(|s| s.parse().ok()).ok_or(SockError::Malformed { keyword })
}

impl<'a> DriverMessage<'a> {
    /// Tokenizes and parses one line from a driver.
    ///
    /// Like `upsd`, it accepts extra words after a complete message (NUT
    /// 2.8 drivers send live values unescaped, so a value with a `"` arrives
    /// as several words; the first is kept, as NUT does).
    pub fn parse(line: &'a [u8]) -> Result<Self, SockError> {
        if let Some(m) = Self::parse_fast(line) {
            return Ok(m);
        }
        Self::from_words(token::tokenize(line)?)
    }

    /// `SETINFO`, `ADDENUM` and `DELENUM` lines of the plain shape
    /// `<KEYWORD> <var> "<value>"`, without the general tokenizer. `None`
    /// when the line is not plainly of that shape: the general path then
    /// decides, and gives the same message when this one gives one.
    #[inline]
    fn parse_fast(line: &'a [u8]) -> Option<Self> {
        let (kw, rest) = if let Some(rest) = line.strip_prefix(b"SETINFO ") {
            ("SETINFO", rest)
        } else if let Some(rest) = line.strip_prefix(b"ADDENUM ") {
            ("ADDENUM", rest)
        } else {
            ("DELENUM", line.strip_prefix(b"DELENUM ")?)
        };
        let ([var], value) = token::simple_words::<1>(rest)?;
        let (var, value) = (Cow::Borrowed(var), Cow::Borrowed(value));
        Some(match kw {
            "SETINFO" => DriverMessage::SetInfo { var, value },
            "ADDENUM" => DriverMessage::AddEnum { var, value },
            _ => DriverMessage::DelEnum { var, value },
        })
    }

    /// Parses the words of one line from a driver.
    pub fn from_words(mut w: Words<'a>) -> Result<Self, SockError> {
        let kw: &'static str = match w.get(0) {
            None => return Err(SockError::Empty),
            Some(k) => {
                DRIVER_KEYWORDS.iter().copied().find(|c| *c == k).ok_or(SockError::Unknown)?
            }
        };
        let need = |n: usize| {
            if w.len() >= n { Ok(()) } else { Err(SockError::Malformed { keyword: kw }) }
        };
        Ok(match kw {
            "SETINFO" => {
                need(3)?;
                DriverMessage::SetInfo { var: w.take(1), value: w.take(2) }
            }
            "DELINFO" => {
                need(2)?;
                DriverMessage::DelInfo { var: w.take(1) }
            }
            "ADDENUM" => {
                need(3)?;
                DriverMessage::AddEnum { var: w.take(1), value: w.take(2) }
            }
            "DELENUM" => {
                need(3)?;
                DriverMessage::DelEnum { var: w.take(1), value: w.take(2) }
            }
            "ADDRANGE" | "DELRANGE" => {
                need(4)?;
                let min = int(w.get(2), kw)?;
                let max = int(w.get(3), kw)?;
                let var = w.take(1);
                if kw == "ADDRANGE" {
                    DriverMessage::AddRange { var, min, max }
                } else {
                    DriverMessage::DelRange { var, min, max }
                }
            }
            "SETAUX" => {
                need(3)?;
                let aux = int(w.get(2), kw)?;
                DriverMessage::SetAux { var: w.take(1), aux }
            }
            "SETFLAGS" => {
                need(2)?;
                let mut flags = VarFlags::default();
                for f in w.iter().skip(2) {
                    if f.eq_ignore_ascii_case("RW") {
                        flags.rw = true;
                    } else if f.eq_ignore_ascii_case("STRING") {
                        flags.string = true;
                    } else if f.eq_ignore_ascii_case("NUMBER") {
                        flags.number = true;
                    }
                }
                DriverMessage::SetFlags { var: w.take(1), flags }
            }
            "ADDCMD" => {
                need(2)?;
                DriverMessage::AddCmd { cmd: w.take(1) }
            }
            "DELCMD" => {
                need(2)?;
                DriverMessage::DelCmd { cmd: w.take(1) }
            }
            "DUMPDONE" => DriverMessage::DumpDone,
            "DATAOK" => DriverMessage::DataOk,
            "DATASTALE" => DriverMessage::DataStale,
            "PONG" => DriverMessage::Pong,
            "TRACKING" => {
                need(3)?;
                let code = int(w.get(2), kw)?;
                DriverMessage::Tracking { id: w.take(1), result: TrackingResult::from_code(code) }
            }
            "PID" => {
                need(2)?;
                DriverMessage::Pid(int(w.get(1), kw)?)
            }
            "OK" => {
                if w.get(1) != Some("Goodbye") {
                    return Err(SockError::Malformed { keyword: kw });
                }
                DriverMessage::Goodbye
            }
            _ => return Err(SockError::Unknown),
        })
    }

    /// Appends the line, with its LF. Values are always quoted and escaped
    /// (NUT 2.8 drivers send live updates unescaped; we never do).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let kw = self.keyword();
        out.extend_from_slice(kw.as_bytes());
        let word = |out: &mut Vec<u8>, s: &str| {
            out.push(b' ');
            word_into(out, s);
        };
        match self {
            DriverMessage::SetInfo { var, value }
            | DriverMessage::AddEnum { var, value }
            | DriverMessage::DelEnum { var, value } => {
                word(out, var);
                out.push(b' ');
                quote_into(out, value);
            }
            DriverMessage::DelInfo { var } => word(out, var),
            DriverMessage::AddRange { var, min, max }
            | DriverMessage::DelRange { var, min, max } => {
                word(out, var);
                let _ = write!(Buf(out), " {min} {max}");
            }
            DriverMessage::SetAux { var, aux } => {
                word(out, var);
                let _ = write!(Buf(out), " {aux}");
            }
            DriverMessage::SetFlags { var, flags } => {
                word(out, var);
                for (on, name) in
                    [(flags.rw, " RW"), (flags.string, " STRING"), (flags.number, " NUMBER")]
                {
                    if on {
                        out.extend_from_slice(name.as_bytes());
                    }
                }
            }
            DriverMessage::AddCmd { cmd } | DriverMessage::DelCmd { cmd } => word(out, cmd),
            DriverMessage::DumpDone
            | DriverMessage::DataOk
            | DriverMessage::DataStale
            | DriverMessage::Pong => {}
            DriverMessage::Tracking { id, result } => {
                word(out, id);
                let _ = write!(Buf(out), " {}", result.code());
            }
            DriverMessage::Pid(pid) => {
                let _ = write!(Buf(out), " {pid}");
            }
            DriverMessage::Goodbye => out.extend_from_slice(b" Goodbye"),
        }
        out.push(b'\n');
    }

    /// The line, with its LF.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// The first word of the line.
    pub fn keyword(&self) -> &'static str {
        match self {
            DriverMessage::SetInfo { .. } => "SETINFO",
            DriverMessage::DelInfo { .. } => "DELINFO",
            DriverMessage::AddEnum { .. } => "ADDENUM",
            DriverMessage::DelEnum { .. } => "DELENUM",
            DriverMessage::AddRange { .. } => "ADDRANGE",
            DriverMessage::DelRange { .. } => "DELRANGE",
            DriverMessage::SetAux { .. } => "SETAUX",
            DriverMessage::SetFlags { .. } => "SETFLAGS",
            DriverMessage::AddCmd { .. } => "ADDCMD",
            DriverMessage::DelCmd { .. } => "DELCMD",
            DriverMessage::DumpDone => "DUMPDONE",
            DriverMessage::DataOk => "DATAOK",
            DriverMessage::DataStale => "DATASTALE",
            DriverMessage::Pong => "PONG",
            DriverMessage::Tracking { .. } => "TRACKING",
            DriverMessage::Pid(_) => "PID",
            DriverMessage::Goodbye => "OK",
        }
    }
}

const DRIVER_KEYWORDS: &[&str] = &[
    "SETINFO",
    "DELINFO",
    "ADDENUM",
    "DELENUM",
    "ADDRANGE",
    "DELRANGE",
    "SETAUX",
    "SETFLAGS",
    "ADDCMD",
    "DELCMD",
    "DUMPDONE",
    "DATAOK",
    "DATASTALE",
    "PONG",
    "TRACKING",
    "PID",
    "OK",
];

const SERVER_KEYWORDS: &[&str] = &[
    "DUMPALL",
    "PING",
    "SET",
    "INSTCMD",
    "GETPID",
    "DUMPVALUE",
    "DUMPSTATUS",
    "NOBROADCAST",
    "BROADCAST",
    "LOGOUT",
];

impl<'a> ServerMessage<'a> {
    /// Tokenizes and parses one line sent to a driver.
    pub fn parse(line: &'a [u8]) -> Result<Self, SockError> {
        Self::from_words(token::tokenize(line)?)
    }

    /// Parses the words of one line sent to a driver, with the shapes NUT's
    /// drivers accept: `INSTCMD` takes 2, 3, 4 (`TRACKING <id>`) or 5 words;
    /// `SET` takes 3 or 5.
    pub fn from_words(mut w: Words<'a>) -> Result<Self, SockError> {
        let kw: &'static str = match w.get(0) {
            None => return Err(SockError::Empty),
            Some(k) => {
                SERVER_KEYWORDS.iter().copied().find(|c| *c == k).ok_or(SockError::Unknown)?
            }
        };
        let bad = SockError::Malformed { keyword: kw };
        let n = w.len();
        let tracking_at = |w: &Words<'a>, i: usize| w.get(i) == Some("TRACKING");
        Ok(match kw {
            "DUMPALL" => ServerMessage::DumpAll,
            "PING" => ServerMessage::Ping,
            "GETPID" => ServerMessage::GetPid,
            "DUMPSTATUS" => ServerMessage::DumpStatus,
            "NOBROADCAST" => ServerMessage::NoBroadcast,
            "LOGOUT" => ServerMessage::Logout,
            "BROADCAST" => match w.get(1) {
                None => ServerMessage::Broadcast(None),
                Some(_) => ServerMessage::Broadcast(Some(int(w.get(1), kw)?)),
            },
            "DUMPVALUE" => {
                if n < 2 {
                    return Err(bad);
                }
                ServerMessage::DumpValue { var: w.take(1) }
            }
            "SET" => match n {
                3 => ServerMessage::Set { var: w.take(1), value: w.take(2), tracking: None },
                5 if tracking_at(&w, 3) => ServerMessage::Set {
                    var: w.take(1),
                    value: w.take(2),
                    tracking: Some(w.take(4)),
                },
                _ => return Err(bad),
            },
            "INSTCMD" => match n {
                2 => ServerMessage::InstCmd { cmd: w.take(1), param: None, tracking: None },
                3 => ServerMessage::InstCmd {
                    cmd: w.take(1),
                    param: Some(w.take(2)),
                    tracking: None,
                },
                4 if tracking_at(&w, 2) => ServerMessage::InstCmd {
                    cmd: w.take(1),
                    param: None,
                    tracking: Some(w.take(3)),
                },
                5 if tracking_at(&w, 3) => ServerMessage::InstCmd {
                    cmd: w.take(1),
                    param: Some(w.take(2)),
                    tracking: Some(w.take(4)),
                },
                _ => return Err(bad),
            },
            _ => return Err(SockError::Unknown),
        })
    }

    /// Appends the line, with its LF. Unlike NUT 2.8's `upsd`, an INSTCMD
    /// parameter is quoted when it needs to be, so it stays one word.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let word = |out: &mut Vec<u8>, s: &str| {
            out.push(b' ');
            word_into(out, s);
        };
        let tracking = |out: &mut Vec<u8>, t: &Option<Cow<'a, str>>| {
            if let Some(id) = t {
                out.extend_from_slice(b" TRACKING");
                word(out, id);
            }
        };
        match self {
            ServerMessage::DumpAll => out.extend_from_slice(b"DUMPALL"),
            ServerMessage::Ping => out.extend_from_slice(b"PING"),
            ServerMessage::GetPid => out.extend_from_slice(b"GETPID"),
            ServerMessage::DumpStatus => out.extend_from_slice(b"DUMPSTATUS"),
            ServerMessage::NoBroadcast => out.extend_from_slice(b"NOBROADCAST"),
            ServerMessage::Logout => out.extend_from_slice(b"LOGOUT"),
            ServerMessage::Broadcast(n) => {
                out.extend_from_slice(b"BROADCAST");
                if let Some(n) = n {
                    let _ = write!(Buf(out), " {n}");
                }
            }
            ServerMessage::DumpValue { var } => {
                out.extend_from_slice(b"DUMPVALUE");
                word(out, var);
            }
            ServerMessage::Set { var, value, tracking: t } => {
                out.extend_from_slice(b"SET");
                word(out, var);
                out.push(b' ');
                quote_into(out, value);
                tracking(out, t);
            }
            ServerMessage::InstCmd { cmd, param, tracking: t } => {
                out.extend_from_slice(b"INSTCMD");
                word(out, cmd);
                if let Some(p) = param {
                    word(out, p);
                }
                tracking(out, t);
            }
        }
        out.push(b'\n');
    }

    /// The line, with its LF.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::adversarial;

    fn same_as_general(line: &[u8]) {
        let general =
            token::tokenize(line).map_err(SockError::from).and_then(DriverMessage::from_words);
        assert_eq!(DriverMessage::parse(line), general, "line {}", line.escape_ascii());
    }

    #[test]
    fn fast_path_is_taken_and_borrows() {
        let m = DriverMessage::parse_fast(b"SETINFO ups.status \"OL CHRG\"").unwrap();
        assert_eq!(m, DriverMessage::SetInfo { var: "ups.status".into(), value: "OL CHRG".into() });
        let DriverMessage::SetInfo { var, value } = m else { panic!() };
        assert!(matches!((var, value), (Cow::Borrowed(_), Cow::Borrowed(_))));
        for line in [&b"ADDENUM x \"1\""[..], b"DELENUM x \"\""] {
            assert!(DriverMessage::parse_fast(line).is_some());
            same_as_general(line);
        }
        // NUT 2.8 drivers send values unescaped: extra words, general path.
        let line = b"SETINFO ups.alarm \"a \"b\" c\"";
        assert_eq!(DriverMessage::parse_fast(line), None);
        same_as_general(line);
    }

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
    }
}
