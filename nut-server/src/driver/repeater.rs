//! `dummy-ups` repeater mode: relays a UPS served by another NUT server
//! (`port = ups@host[:port]`) over a plain TCP connection, using
//! `nut_proto::net`'s commands and replies.
//!
//! Each update lists the UPS's variables (`LIST VAR`) and its commands
//! (`LIST CMD`) and republishes them with `dummy-ups`'s rules, except
//! `driver.*`. `SET` and `INSTCMD` are forwarded (NUT 2.8 does not), with
//! the `username`/`password` settings when given. A lost connection makes
//! the data stale and is retried on every update.

use super::device::DeviceError;
use super::dstate::Dstate;
use super::dummy::set_dummy_var;
use nut_proto::frame::LineFramer;
use nut_proto::net::{Command, DEFAULT_PORT, ErrCode, Query, Reply};
use nut_proto::secret::Secret;
use nut_proto::sock::TrackingResult;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a connect, read or write to the repeated server may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Most lines accepted in one `LIST` answer.
const MAX_LIST: usize = 20_000;

/// The target of a repeater: `ups[@host[:port]]` (NUT's `upscli_splitname`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// UPS name on the remote server.
    pub ups: String,
    /// Host name or address (`localhost` when not given).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Target {
    /// Splits `ups[@host[:port]]`; `[v6addr]:port` is accepted too.
    pub fn parse(s: &str) -> Option<Target> {
        let (ups, hostport) = match s.split_once('@') {
            Some((u, h)) => (u, Some(h)),
            None => (s, None),
        };
        if ups.is_empty() {
            return None;
        }
        let (host, port) = match hostport {
            None => ("localhost".to_string(), DEFAULT_PORT),
            Some(h) => {
                if let Some(rest) = h.strip_prefix('[') {
                    let (addr, after) = rest.split_once(']')?;
                    let port = match after.strip_prefix(':') {
                        Some(p) => p.parse().ok()?,
                        None if after.is_empty() => DEFAULT_PORT,
                        None => return None,
                    };
                    (addr.to_string(), port)
                } else {
                    match h.rsplit_once(':') {
                        Some((host, p)) if !host.contains(':') => {
                            (host.to_string(), p.parse().ok()?)
                        }
                        _ => (h.to_string(), DEFAULT_PORT),
                    }
                }
            }
        };
        if host.is_empty() {
            return None;
        }
        Some(Target { ups: ups.to_string(), host, port })
    }
}

/// A blocking line client of a NUT server.
#[derive(Debug)]
struct Client {
    stream: TcpStream,
    framer: LineFramer,
    buf: Vec<u8>,
    lines: std::collections::VecDeque<Vec<u8>>,
}

impl Client {
    fn connect(t: &Target) -> std::io::Result<Client> {
        let mut last = None;
        for addr in (t.host.as_str(), t.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(IO_TIMEOUT))?;
                    stream.set_write_timeout(Some(IO_TIMEOUT))?;
                    return Ok(Client {
                        stream,
                        framer: LineFramer::default(),
                        buf: vec![0; 4096],
                        lines: Default::default(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no address")))
    }

    fn send(&mut self, cmd: &Command<'_>) -> std::io::Result<()> {
        self.stream.write_all(&cmd.to_line())
    }

    fn line(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            if let Some(l) = self.lines.pop_front() {
                return Ok(l);
            }
            let n = self.stream.read(&mut self.buf)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let Client { framer, buf, lines, .. } = self;
            framer.decode_all(&buf[..n], |f| {
                if let Ok(l) = f {
                    lines.push_back(l.to_vec());
                }
            });
        }
    }

    /// Sends a command and reads its one-line answer.
    fn request(&mut self, cmd: &Command<'_>) -> std::io::Result<Result<(), String>> {
        self.send(cmd)?;
        let line = self.line()?;
        Ok(match Reply::parse(&line) {
            Ok(Reply::Err { code, .. }) => Err(code.as_str().to_string()),
            Ok(_) => Ok(()),
            Err(_) => Err(String::from_utf8_lossy(&line).into_owned()),
        })
    }

    /// Runs a `LIST` and hands every row to `row`.
    fn list(
        &mut self,
        q: Query<'_>,
        mut row: impl FnMut(Reply<'_>),
    ) -> std::io::Result<Result<(), String>> {
        self.send(&Command::List(q))?;
        let first = self.line()?;
        match Reply::parse(&first) {
            Ok(Reply::BeginList(_)) => {}
            Ok(Reply::Err { code, .. }) => return Ok(Err(code.as_str().to_string())),
            _ => return Ok(Err(String::from_utf8_lossy(&first).into_owned())),
        }
        for _ in 0..MAX_LIST {
            let line = self.line()?;
            match Reply::parse(&line) {
                Ok(Reply::EndList(_)) => return Ok(Ok(())),
                Ok(r) => row(r),
                Err(_) => {}
            }
        }
        Err(std::io::Error::other("LIST answer too long"))
    }
}

/// The repeater device part of `dummy-ups`.
#[derive(Debug)]
pub struct Repeater {
    target: Target,
    username: Option<String>,
    password: Option<Secret<String>>,
    lenient_start: bool,
    conn: Option<Client>,
    cmds: BTreeSet<String>,
}

fn unavailable(e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Unavailable(e.to_string())
}

impl Repeater {
    /// A repeater of `port` (`ups@host[:port]`).
    pub fn new(
        port: &str,
        username: Option<String>,
        password: Option<String>,
        lenient_start: bool,
    ) -> Result<Repeater, DeviceError> {
        let target = Target::parse(port).ok_or_else(|| {
            DeviceError::Config(
                "invalid UPS definition, required format: upsname[@hostname[:port]]".into(),
            )
        })?;
        Ok(Repeater {
            target,
            username,
            password: password.map(Secret::new),
            lenient_start,
            conn: None,
            cmds: BTreeSet::new(),
        })
    }

    /// The repeated UPS.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Connects and reads everything once. Fails unless
    /// `repeater_disable_strict_start` is set.
    pub fn open(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        match self.update(st) {
            Err(e) if !self.lenient_start => Err(DeviceError::Config(e.to_string())),
            _ => Ok(()),
        }
    }

    /// Reads the remote UPS and republishes it.
    pub fn update(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        let r = self.try_update(st);
        if r.is_err() {
            self.conn = None;
        }
        r
    }

    fn client(&mut self) -> Result<&mut Client, DeviceError> {
        if self.conn.is_none() {
            self.conn = Some(Client::connect(&self.target).map_err(unavailable)?);
        }
        self.conn.as_mut().ok_or_else(|| unavailable("not connected"))
    }

    fn try_update(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        let ups = self.target.ups.clone();
        let client = self.client()?;
        let mut vars: Vec<(String, String)> = Vec::new();
        client
            .list(Query::Var { ups: ups.as_str().into() }, |r| {
                if let Reply::Var { var, value, .. } = r {
                    vars.push((var.into_owned(), value.into_owned()));
                }
            })
            .map_err(unavailable)?
            .map_err(unavailable)?;
        let mut cmds = BTreeSet::new();
        // An old server may not know LIST CMD; the variables still count.
        let _ = client.list(Query::Cmd { ups: ups.as_str().into() }, |r| {
            if let Reply::Cmd { cmd, .. } = r {
                cmds.insert(cmd.into_owned());
            }
        });
        for (var, value) in &vars {
            if !var.starts_with("driver.") {
                set_dummy_var(st, var, value);
            }
        }
        if !cmds.is_empty() {
            for gone in self.cmds.difference(&cmds) {
                st.delcmd(gone);
            }
            for c in &cmds {
                st.addcmd(c);
            }
            self.cmds = cmds;
        }
        Ok(())
    }

    /// Sends one command on a fresh connection (credentials are per
    /// connection), logging in first when credentials are configured.
    fn forward(&mut self, cmd: Command<'_>) -> TrackingResult {
        let r = (|| -> std::io::Result<Result<(), String>> {
            let mut c = Client::connect(&self.target)?;
            if let Some(u) = &self.username {
                let _ = c.request(&Command::Username(u.as_str().into()))?;
            }
            if let Some(p) = &self.password {
                let _ =
                    c.request(&Command::Password(Secret::new(Cow::Borrowed(p.expose().as_str()))))?;
            }
            let r = c.request(&cmd)?;
            let _ = c.send(&Command::Logout);
            Ok(r)
        })();
        match r {
            Ok(Ok(())) => TrackingResult::Handled,
            Ok(Err(code)) => match ErrCode::parse(Cow::Owned(code)) {
                ErrCode::CmdNotSupported | ErrCode::VarNotSupported | ErrCode::UnknownUps => {
                    TrackingResult::Unknown
                }
                ErrCode::InvalidValue | ErrCode::InvalidArgument | ErrCode::TooLong => {
                    TrackingResult::Invalid
                }
                _ => TrackingResult::Failed,
            },
            Err(_) => TrackingResult::Failed,
        }
    }

    /// Forwards a `SET`.
    pub fn setvar(&mut self, var: &str, value: &str) -> TrackingResult {
        let ups = self.target.ups.clone();
        self.forward(Command::SetVar { ups: ups.into(), var: var.into(), value: value.into() })
    }

    /// Forwards an `INSTCMD`.
    pub fn instcmd(&mut self, cmd: &str, param: Option<&str>) -> TrackingResult {
        let ups = self.target.ups.clone();
        self.forward(Command::InstCmd {
            ups: ups.into(),
            cmd: cmd.into(),
            param: param.map(Into::into),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = |s| Target::parse(s).map(|t| (t.ups, t.host, t.port));
        assert_eq!(t("ups"), Some(("ups".into(), "localhost".into(), 3493)));
        assert_eq!(t("ups@h"), Some(("ups".into(), "h".into(), 3493)));
        assert_eq!(t("ups@127.0.0.1:5000"), Some(("ups".into(), "127.0.0.1".into(), 5000)));
        assert_eq!(t("ups@[::1]:5000"), Some(("ups".into(), "::1".into(), 5000)));
        assert_eq!(t("ups@h:x"), None);
        assert_eq!(t("@h"), None);
    }
}
