//! The network protocol between clients and `upsd` (RFC 9271, NUT 2.8).
//!
//! [`Command`] is what a client sends, [`Reply`] each line `upsd` answers.
//! Both parse from one line (without its LF) and encode to one line (with
//! its LF), and parsing what the encoder wrote gives back the value.

mod command;
mod err;
mod list;
pub(crate) mod reply;

pub use command::{Command, CommandError, GetQuery, Verb};
pub use err::ErrCode;
pub use list::{ListError, ListReader};
pub use reply::{Reply, ReplyError, TrackingState, VarKind, VarType};

use crate::token::{Words, word_into};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;

/// The IANA port of the NUT network protocol.
pub const DEFAULT_PORT: u16 = 3493;

/// The protocol version NUT 2.8 answers to `NETVER` and `PROTVER`.
pub const PROTOCOL_VERSION: &str = "1.3";

/// The query as written after `LIST` (`VAR myups`, `ENUM myups input.transfer.low`).
impl fmt::Display for Query<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.encode(&mut out);
        f.write_str(&alloc::string::String::from_utf8_lossy(&out))
    }
}

/// What a `LIST` asks for; also the text echoed after `BEGIN LIST` and
/// `END LIST`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Query<'a> {
    /// `UPS`: every UPS with its description.
    Ups,
    /// `VAR <ups>`: every variable.
    Var {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `RW <ups>`: every writable variable.
    Rw {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `CMD <ups>`: every instant command.
    Cmd {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `CLIENT <ups>`: every client logged in to the UPS.
    Client {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `ENUM <ups> <var>`: the allowed values of a variable.
    Enum {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
    },
    /// `RANGE <ups> <var>`: the allowed ranges of a variable.
    Range {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
    },
}

impl<'a> Query<'a> {
    /// Reads a query from `w[at..]` with `upsd`'s rules (keywords are
    /// case-insensitive; extra words are ignored).
    pub(crate) fn from_words(w: &mut Words<'a>, at: usize) -> Option<Self> {
        let n = w.len().checked_sub(at)?;
        let kw = w.get(at)?;
        let is = |k: &str| kw.eq_ignore_ascii_case(k);
        if is("UPS") {
            return Some(Query::Ups);
        }
        if n < 2 {
            return None;
        }
        let q = if is("VAR") {
            Query::Var { ups: w.take(at + 1) }
        } else if is("RW") {
            Query::Rw { ups: w.take(at + 1) }
        } else if is("CMD") {
            Query::Cmd { ups: w.take(at + 1) }
        } else if is("CLIENT") {
            Query::Client { ups: w.take(at + 1) }
        } else if n >= 3 && is("ENUM") {
            Query::Enum { ups: w.take(at + 1), var: w.take(at + 2) }
        } else if n >= 3 && is("RANGE") {
            Query::Range { ups: w.take(at + 1), var: w.take(at + 2) }
        } else {
            return None;
        };
        Some(q)
    }

    /// The keyword of this query.
    pub fn keyword(&self) -> &'static str {
        match self {
            Query::Ups => "UPS",
            Query::Var { .. } => "VAR",
            Query::Rw { .. } => "RW",
            Query::Cmd { .. } => "CMD",
            Query::Client { .. } => "CLIENT",
            Query::Enum { .. } => "ENUM",
            Query::Range { .. } => "RANGE",
        }
    }

    /// The UPS this query is about, if any.
    pub fn ups(&self) -> Option<&str> {
        match self {
            Query::Ups => None,
            Query::Var { ups }
            | Query::Rw { ups }
            | Query::Cmd { ups }
            | Query::Client { ups }
            | Query::Enum { ups, .. }
            | Query::Range { ups, .. } => Some(ups),
        }
    }

    /// The variable this query is about, if any.
    pub fn var(&self) -> Option<&str> {
        match self {
            Query::Enum { var, .. } | Query::Range { var, .. } => Some(var),
            _ => None,
        }
    }

    /// Appends the query words (keyword, then names) without a LF.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.keyword().as_bytes());
        for w in [self.ups(), self.var()].into_iter().flatten() {
            out.push(b' ');
            word_into(out, w);
        }
    }

    /// Detaches the query from the input it was parsed from.
    pub fn into_owned(self) -> Query<'static> {
        fn o(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        match self {
            Query::Ups => Query::Ups,
            Query::Var { ups } => Query::Var { ups: o(ups) },
            Query::Rw { ups } => Query::Rw { ups: o(ups) },
            Query::Cmd { ups } => Query::Cmd { ups: o(ups) },
            Query::Client { ups } => Query::Client { ups: o(ups) },
            Query::Enum { ups, var } => Query::Enum { ups: o(ups), var: o(var) },
            Query::Range { ups, var } => Query::Range { ups: o(ups), var: o(var) },
        }
    }
}
