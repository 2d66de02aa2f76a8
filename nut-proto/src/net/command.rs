//! Client commands of the network protocol (client to `upsd`).

use super::Query;
use crate::secret::Secret;
use crate::token::{self, TokenError, Words, quote_into, word_into};
use alloc::borrow::Cow;
use alloc::vec::Vec;

/// The first word of a command line, matched case-insensitively as `upsd`
/// does. The server needs it before the arguments are checked: NUT answers
/// `ERR USERNAME-REQUIRED` for a privileged command before it looks at the
/// arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verb {
    /// `VER`
    Ver,
    /// `NETVER`
    NetVer,
    /// `PROTVER`
    ProtVer,
    /// `HELP`
    Help,
    /// `STARTTLS`
    StartTls,
    /// `USERNAME`
    Username,
    /// `PASSWORD`
    Password,
    /// `LOGIN`
    Login,
    /// `LOGOUT`
    Logout,
    /// `ATTACH` (RFC 9271's name for LOGIN)
    Attach,
    /// `DETACH` (RFC 9271's name for LOGOUT)
    Detach,
    /// `PRIMARY`
    Primary,
    /// `MASTER`
    Master,
    /// `FSD`
    Fsd,
    /// `GET`
    Get,
    /// `LIST`
    List,
    /// `SET`
    Set,
    /// `INSTCMD`
    InstCmd,
}

impl Verb {
    /// Every verb.
    pub const ALL: &'static [Verb] = &[
        Verb::Ver,
        Verb::NetVer,
        Verb::ProtVer,
        Verb::Help,
        Verb::StartTls,
        Verb::Username,
        Verb::Password,
        Verb::Login,
        Verb::Logout,
        Verb::Attach,
        Verb::Detach,
        Verb::Primary,
        Verb::Master,
        Verb::Fsd,
        Verb::Get,
        Verb::List,
        Verb::Set,
        Verb::InstCmd,
    ];

    /// The verb as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Ver => "VER",
            Verb::NetVer => "NETVER",
            Verb::ProtVer => "PROTVER",
            Verb::Help => "HELP",
            Verb::StartTls => "STARTTLS",
            Verb::Username => "USERNAME",
            Verb::Password => "PASSWORD",
            Verb::Login => "LOGIN",
            Verb::Logout => "LOGOUT",
            Verb::Attach => "ATTACH",
            Verb::Detach => "DETACH",
            Verb::Primary => "PRIMARY",
            Verb::Master => "MASTER",
            Verb::Fsd => "FSD",
            Verb::Get => "GET",
            Verb::List => "LIST",
            Verb::Set => "SET",
            Verb::InstCmd => "INSTCMD",
        }
    }

    /// Matches a first word case-insensitively.
    pub fn parse(word: &str) -> Option<Verb> {
        Verb::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(word))
    }

    /// Whether `upsd` requires USERNAME and PASSWORD to have been given on
    /// the connection (it does not check them yet) before running it.
    pub fn needs_credentials(self) -> bool {
        matches!(
            self,
            Verb::Login
                | Verb::Attach
                | Verb::Primary
                | Verb::Master
                | Verb::Fsd
                | Verb::Set
                | Verb::InstCmd
        )
    }
}

/// What a `GET` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GetQuery<'a> {
    /// `GET VAR <ups> <var>`
    Var {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
    },
    /// `GET TYPE <ups> <var>`
    Type {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
    },
    /// `GET DESC <ups> <var>`
    Desc {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
    },
    /// `GET CMDDESC <ups> <cmd>`
    CmdDesc {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Instant command name.
        cmd: Cow<'a, str>,
    },
    /// `GET UPSDESC <ups>`
    UpsDesc {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `GET NUMLOGINS <ups>`
    NumLogins {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `GET NUMATTACH <ups>` (RFC 9271's name for NUMLOGINS)
    NumAttach {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `GET TRACKING` (this connection's mode) or `GET TRACKING <id>`.
    Tracking(Option<Cow<'a, str>>),
}

/// A command from a client to `upsd`.
///
/// ```
/// use nut_proto::net::{Command, GetQuery};
/// let cmd = Command::parse(b"get var ups ups.status").unwrap();
/// assert_eq!(cmd, Command::Get(GetQuery::Var { ups: "ups".into(), var: "ups.status".into() }));
/// assert_eq!(cmd.to_line(), b"GET VAR ups ups.status\n");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `VER`
    Ver,
    /// `NETVER`
    NetVer,
    /// `PROTVER`
    ProtVer,
    /// `HELP`
    Help,
    /// `STARTTLS`
    StartTls,
    /// `USERNAME <name>`
    Username(Cow<'a, str>),
    /// `PASSWORD <password>`
    Password(Secret<Cow<'a, str>>),
    /// `LOGIN <ups>`
    Login {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `ATTACH <ups>` (RFC 9271)
    Attach {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `LOGOUT`
    Logout,
    /// `DETACH` (RFC 9271)
    Detach,
    /// `PRIMARY <ups>`
    Primary {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `MASTER <ups>` (the older name of PRIMARY)
    Master {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `FSD <ups>`
    Fsd {
        /// UPS name.
        ups: Cow<'a, str>,
    },
    /// `GET ...`
    Get(GetQuery<'a>),
    /// `LIST ...`
    List(Query<'a>),
    /// `SET VAR <ups> <var> <value>`
    SetVar {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Variable name.
        var: Cow<'a, str>,
        /// New value.
        value: Cow<'a, str>,
    },
    /// `SET TRACKING ON|OFF`
    SetTracking(bool),
    /// `INSTCMD <ups> <cmd> [<param>]`
    InstCmd {
        /// UPS name.
        ups: Cow<'a, str>,
        /// Instant command name.
        cmd: Cow<'a, str>,
        /// Optional parameter.
        param: Option<Cow<'a, str>>,
    },
}

/// Why a line is not a valid command. [`CommandError::err_code`] gives the
/// reply NUT's `upsd` sends for it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The line could not be tokenized.
    #[error("malformed line: {0}")]
    Token(#[from] TokenError),
    /// The line holds no words (blank or comment only).
    #[error("empty command line")]
    Empty,
    /// The first word is not a command.
    #[error("unknown command")]
    UnknownCommand,
    /// The arguments do not fit the command.
    #[error("invalid arguments for {verb:?}")]
    InvalidArgument {
        /// The command whose arguments are wrong.
        verb: Verb,
    },
}

impl CommandError {
    /// The `ERR` code to answer with. NUT sends no reply at all for a
    /// tokenizer error; we answer `INVALID-ARGUMENT` so that the client does
    /// not wait forever (see `docs/COMPATIBILITY.md`).
    pub fn err_code(&self) -> super::ErrCode<'static> {
        match self {
            CommandError::Empty | CommandError::UnknownCommand => super::ErrCode::UnknownCommand,
            CommandError::Token(_) | CommandError::InvalidArgument { .. } => {
                super::ErrCode::InvalidArgument
            }
        }
    }
}

fn eq(word: Option<&str>, kw: &str) -> bool {
    word.is_some_and(|w| w.eq_ignore_ascii_case(kw))
}

impl<'a> Command<'a> {
    /// Tokenizes and parses one command line (without its LF).
    pub fn parse(line: &'a [u8]) -> Result<Self, CommandError> {
        Self::from_words(token::tokenize(line)?)
    }

    /// Parses the words of one line, with `upsd`'s argument rules: commands
    /// with a fixed argument count reject extra words; GET, LIST, SET and
    /// INSTCMD only check the minimum and ignore extra words (INSTCMD takes
    /// its parameter only when exactly one extra word follows the command
    /// name, as NUT does).
    pub fn from_words(mut w: Words<'a>) -> Result<Self, CommandError> {
        let verb = match w.get(0) {
            None => return Err(CommandError::Empty),
            Some(first) => Verb::parse(first).ok_or(CommandError::UnknownCommand)?,
        };
        let nargs = w.len() - 1;
        let bad = CommandError::InvalidArgument { verb };
        let exactly = |n: usize| if nargs == n { Ok(()) } else { Err(bad.clone()) };
        let cmd = match verb {
            Verb::Ver => exactly(0).map(|_| Command::Ver)?,
            Verb::NetVer => exactly(0).map(|_| Command::NetVer)?,
            // NUT does not check PROTVER's or STARTTLS's arguments.
            Verb::ProtVer => Command::ProtVer,
            Verb::Help => exactly(0).map(|_| Command::Help)?,
            Verb::StartTls => Command::StartTls,
            Verb::Username => {
                exactly(1)?;
                Command::Username(w.take(1))
            }
            Verb::Password => {
                exactly(1)?;
                Command::Password(Secret::new(w.take(1)))
            }
            Verb::Login => {
                exactly(1)?;
                Command::Login { ups: w.take(1) }
            }
            Verb::Attach => {
                exactly(1)?;
                Command::Attach { ups: w.take(1) }
            }
            Verb::Logout => exactly(0).map(|_| Command::Logout)?,
            Verb::Detach => exactly(0).map(|_| Command::Detach)?,
            Verb::Primary => {
                exactly(1)?;
                Command::Primary { ups: w.take(1) }
            }
            Verb::Master => {
                exactly(1)?;
                Command::Master { ups: w.take(1) }
            }
            Verb::Fsd => {
                exactly(1)?;
                Command::Fsd { ups: w.take(1) }
            }
            Verb::Get => Command::Get(parse_get(&mut w).ok_or(bad)?),
            Verb::List => Command::List(Query::from_words(&mut w, 1).ok_or(bad)?),
            Verb::Set => {
                if eq(w.get(1), "VAR") && nargs >= 4 {
                    Command::SetVar { ups: w.take(2), var: w.take(3), value: w.take(4) }
                } else if eq(w.get(1), "TRACKING") && nargs >= 2 {
                    match w.get(2) {
                        Some(v) if v.eq_ignore_ascii_case("ON") => Command::SetTracking(true),
                        Some(v) if v.eq_ignore_ascii_case("OFF") => Command::SetTracking(false),
                        _ => return Err(bad),
                    }
                } else {
                    return Err(bad);
                }
            }
            Verb::InstCmd => {
                if nargs < 2 {
                    return Err(bad);
                }
                let param = if nargs == 3 { Some(w.take(3)) } else { None };
                Command::InstCmd { ups: w.take(1), cmd: w.take(2), param }
            }
        };
        Ok(cmd)
    }

    /// The verb of this command.
    pub fn verb(&self) -> Verb {
        match self {
            Command::Ver => Verb::Ver,
            Command::NetVer => Verb::NetVer,
            Command::ProtVer => Verb::ProtVer,
            Command::Help => Verb::Help,
            Command::StartTls => Verb::StartTls,
            Command::Username(_) => Verb::Username,
            Command::Password(_) => Verb::Password,
            Command::Login { .. } => Verb::Login,
            Command::Attach { .. } => Verb::Attach,
            Command::Logout => Verb::Logout,
            Command::Detach => Verb::Detach,
            Command::Primary { .. } => Verb::Primary,
            Command::Master { .. } => Verb::Master,
            Command::Fsd { .. } => Verb::Fsd,
            Command::Get(_) => Verb::Get,
            Command::List(_) => Verb::List,
            Command::SetVar { .. } | Command::SetTracking(_) => Verb::Set,
            Command::InstCmd { .. } => Verb::InstCmd,
        }
    }

    /// Appends the command line, with its LF, to `out`.
    ///
    /// Names are written bare when that is safe and quoted otherwise; SET
    /// values are always quoted, as NUT's `upsrw` does. USERNAME and
    /// PASSWORD are quoted when needed, so any password can be sent (NUT's
    /// own clients send them raw and cannot use spaces or `#`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.verb().as_str().as_bytes());
        let word = |out: &mut Vec<u8>, w: &str| {
            out.push(b' ');
            word_into(out, w);
        };
        match self {
            Command::Ver
            | Command::NetVer
            | Command::ProtVer
            | Command::Help
            | Command::StartTls
            | Command::Logout
            | Command::Detach => {}
            Command::Username(name) => word(out, name),
            Command::Password(pw) => word(out, pw.expose()),
            Command::Login { ups }
            | Command::Attach { ups }
            | Command::Primary { ups }
            | Command::Master { ups }
            | Command::Fsd { ups } => word(out, ups),
            Command::Get(q) => {
                let (kw, args): (&str, [Option<&str>; 2]) = match q {
                    GetQuery::Var { ups, var } => ("VAR", [Some(ups), Some(var)]),
                    GetQuery::Type { ups, var } => ("TYPE", [Some(ups), Some(var)]),
                    GetQuery::Desc { ups, var } => ("DESC", [Some(ups), Some(var)]),
                    GetQuery::CmdDesc { ups, cmd } => ("CMDDESC", [Some(ups), Some(cmd)]),
                    GetQuery::UpsDesc { ups } => ("UPSDESC", [Some(ups), None]),
                    GetQuery::NumLogins { ups } => ("NUMLOGINS", [Some(ups), None]),
                    GetQuery::NumAttach { ups } => ("NUMATTACH", [Some(ups), None]),
                    GetQuery::Tracking(id) => ("TRACKING", [id.as_deref(), None]),
                };
                out.extend_from_slice(b" ");
                out.extend_from_slice(kw.as_bytes());
                for a in args.into_iter().flatten() {
                    word(out, a);
                }
            }
            Command::List(q) => {
                out.push(b' ');
                q.encode(out);
            }
            Command::SetVar { ups, var, value } => {
                out.extend_from_slice(b" VAR");
                word(out, ups);
                word(out, var);
                out.push(b' ');
                quote_into(out, value);
            }
            Command::SetTracking(on) => {
                out.extend_from_slice(if *on { b" TRACKING ON" } else { b" TRACKING OFF" });
            }
            Command::InstCmd { ups, cmd, param } => {
                word(out, ups);
                word(out, cmd);
                if let Some(p) = param {
                    word(out, p);
                }
            }
        }
        out.push(b'\n');
    }

    /// The command line, with its LF.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Detaches the command from the input it was parsed from.
    pub fn into_owned(self) -> Command<'static> {
        fn o(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        match self {
            Command::Ver => Command::Ver,
            Command::NetVer => Command::NetVer,
            Command::ProtVer => Command::ProtVer,
            Command::Help => Command::Help,
            Command::StartTls => Command::StartTls,
            Command::Username(n) => Command::Username(o(n)),
            Command::Password(p) => Command::Password(Secret::new(o(p.into_inner()))),
            Command::Login { ups } => Command::Login { ups: o(ups) },
            Command::Attach { ups } => Command::Attach { ups: o(ups) },
            Command::Logout => Command::Logout,
            Command::Detach => Command::Detach,
            Command::Primary { ups } => Command::Primary { ups: o(ups) },
            Command::Master { ups } => Command::Master { ups: o(ups) },
            Command::Fsd { ups } => Command::Fsd { ups: o(ups) },
            Command::Get(q) => Command::Get(match q {
                GetQuery::Var { ups, var } => GetQuery::Var { ups: o(ups), var: o(var) },
                GetQuery::Type { ups, var } => GetQuery::Type { ups: o(ups), var: o(var) },
                GetQuery::Desc { ups, var } => GetQuery::Desc { ups: o(ups), var: o(var) },
                GetQuery::CmdDesc { ups, cmd } => GetQuery::CmdDesc { ups: o(ups), cmd: o(cmd) },
                GetQuery::UpsDesc { ups } => GetQuery::UpsDesc { ups: o(ups) },
                GetQuery::NumLogins { ups } => GetQuery::NumLogins { ups: o(ups) },
                GetQuery::NumAttach { ups } => GetQuery::NumAttach { ups: o(ups) },
                GetQuery::Tracking(id) => GetQuery::Tracking(id.map(o)),
            }),
            Command::List(q) => Command::List(q.into_owned()),
            Command::SetVar { ups, var, value } => {
                Command::SetVar { ups: o(ups), var: o(var), value: o(value) }
            }
            Command::SetTracking(on) => Command::SetTracking(on),
            Command::InstCmd { ups, cmd, param } => {
                Command::InstCmd { ups: o(ups), cmd: o(cmd), param: param.map(o) }
            }
        }
    }
}

fn parse_get<'a>(w: &mut Words<'a>) -> Option<GetQuery<'a>> {
    // The order of checks is upsd's (netget.c).
    let nargs = w.len().checked_sub(1)?;
    if nargs < 1 {
        return None;
    }
    if eq(w.get(1), "TRACKING") {
        return Some(GetQuery::Tracking(if nargs >= 2 { Some(w.take(2)) } else { None }));
    }
    if nargs < 2 {
        return None;
    }
    if eq(w.get(1), "NUMLOGINS") {
        return Some(GetQuery::NumLogins { ups: w.take(2) });
    }
    if eq(w.get(1), "NUMATTACH") {
        return Some(GetQuery::NumAttach { ups: w.take(2) });
    }
    if eq(w.get(1), "UPSDESC") {
        return Some(GetQuery::UpsDesc { ups: w.take(2) });
    }
    if nargs < 3 {
        return None;
    }
    let kw = w.get(1)?;
    let q = if kw.eq_ignore_ascii_case("VAR") {
        GetQuery::Var { ups: w.take(2), var: w.take(3) }
    } else if kw.eq_ignore_ascii_case("TYPE") {
        GetQuery::Type { ups: w.take(2), var: w.take(3) }
    } else if kw.eq_ignore_ascii_case("DESC") {
        GetQuery::Desc { ups: w.take(2), var: w.take(3) }
    } else if kw.eq_ignore_ascii_case("CMDDESC") {
        GetQuery::CmdDesc { ups: w.take(2), cmd: w.take(3) }
    } else {
        return None;
    };
    Some(q)
}

/// The command line as sent, without its LF, except that `PASSWORD`'s
/// argument is never shown (`PASSWORD <redacted>`): for messages and logs.
///
/// ```
/// use nut_proto::net::{Command, GetQuery};
/// use nut_proto::Secret;
///
/// let get = Command::Get(GetQuery::Var { ups: "myups".into(), var: "ups.status".into() });
/// assert_eq!(get.to_string(), "GET VAR myups ups.status");
/// assert_eq!(Command::Password(Secret::new("s3cret".into())).to_string(), "PASSWORD <redacted>");
/// ```
impl core::fmt::Display for Command<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Command::Password(_) = self {
            return f.write_str("PASSWORD <redacted>");
        }
        let mut line = self.to_line();
        line.pop();
        f.write_str(&alloc::string::String::from_utf8_lossy(&line))
    }
}

/// The query as written after `GET` (`VAR myups ups.status`).
impl core::fmt::Display for GetQuery<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut line = Command::Get(self.clone()).to_line();
        line.pop();
        let text = alloc::string::String::from_utf8_lossy(&line);
        f.write_str(text.strip_prefix("GET ").unwrap_or(&text))
    }
}
