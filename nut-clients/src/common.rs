//! What the three tools share: a small POSIX `getopt`, NUT's error texts,
//! prompts, and the console streams.

use nut_client::io::ConnectOptions;
use nut_client::io::blocking::Client;
use nut_client::tls::TlsOptions;
use nut_client::{ClientError, HostPort, TransportError, UpsTarget};
use nut_daemon::getopt::Arg;
use std::io::{self, BufRead, Write};

/// The console of a tool run: arguments and the three streams, so that
/// tests can run the tools in-process.
pub struct Io<'a> {
    /// Standard input (answers to prompts).
    pub stdin: &'a mut dyn BufRead,
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Standard error.
    pub stderr: &'a mut dyn Write,
    /// Read passwords from the terminal without echo (else from `stdin`).
    pub tty_password: bool,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").finish_non_exhaustive()
    }
}

/// A tool's early end: the exit code, after the message was printed.
pub(crate) struct Exit(pub(crate) i32);

pub(crate) type Res<T = ()> = Result<T, Exit>;

/// Prints `msg` and a newline on stderr and ends with status 1, as NUT's
/// `fatalx` does.
pub(crate) fn fatal(io: &mut Io<'_>, msg: &str) -> Exit {
    let _ = writeln!(io.stderr, "{msg}");
    Exit(1)
}

/// One parsed option.
pub(crate) enum Opt {
    /// A known option, with its argument if it takes one.
    Flag(char, Option<String>),
    /// An unknown option or a missing argument (already reported on stderr).
    Bad,
}

/// POSIX `getopt` as NUT's tools call it (`+` first: options stop at the
/// first operand), with glibc's messages for bad options on `stderr`:
/// returns the options in order and the operands.
pub(crate) fn getopt(
    prog: &str,
    args: &[String],
    spec: &str,
    stderr: &mut dyn Write,
) -> (Vec<Opt>, Vec<String>) {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    for item in nut_daemon::getopt::scan(args, &format!("+{spec}")) {
        match item {
            Ok(Arg::Opt(c, value)) => opts.push(Opt::Flag(c, value)),
            Ok(Arg::Operand(a)) => operands.push(a),
            Err(e) => {
                let _ = writeln!(stderr, "{}", e.posix_message(prog));
                opts.push(Opt::Bad);
            }
        }
    }
    (opts, operands)
}

/// The program name: the last path component of `argv[0]`.
pub(crate) fn prog_name(argv0: Option<&String>, default: &str) -> String {
    argv0
        .and_then(|a| a.rsplit('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or(default)
        .to_string()
}

/// The C library's text for an I/O error (`Connection refused`), without
/// Rust's ` (os error N)`.
pub(crate) fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The text NUT's client library (`upscli_strerror`) gives for an error.
pub(crate) fn describe(e: &ClientError) -> String {
    match e {
        ClientError::Server { code, .. } => code.description().to_string(),
        ClientError::Transport(t) => match t {
            TransportError::NoSuchHost { .. } => "No such host".into(),
            TransportError::Connect { source: e, .. } => {
                format!("Connection failure: {}", strerror(e))
            }
            TransportError::Read { source: e, .. } => format!("Read error: {}", strerror(e)),
            TransportError::Write { source: e, .. } => format!("Write error: {}", strerror(e)),
            TransportError::Timeout { .. } => "Read error: Connection timed out".into(),
            TransportError::Tls(t) => format!("SSL error: {t}"),
            _ => "Server disconnected".into(),
        },
        ClientError::Protocol(_) | ClientError::TrackingTimeout { .. } => "Protocol error".into(),
        _ => "Unknown error".into(),
    }
}

/// Whether the server answered `ERR UNKNOWN-COMMAND` (an old `upsd`).
pub(crate) fn is_unknown_command(e: &ClientError) -> bool {
    matches!(e, ClientError::Server { code: nut_proto::ErrCode::UnknownCommand, .. })
}

/// Whether a tool asks for TLS, as its `upscli_connect` flags in NUT 2.8.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tls {
    /// No `STARTTLS` (flags 0: `upscmd`, `upsrw`).
    Off,
    /// `UPSCLI_CONN_TRYSSL` without `CERTVERIFY` (`upsc`): `STARTTLS`,
    /// plaintext if the server answers `ERR`, TLS with no certificate
    /// check if it answers `OK STARTTLS`.
    TryUnverified,
}

/// Connects as NUT's tools do (5 s per read).
pub(crate) fn connect(server: &HostPort, tls: Tls) -> Result<Client, ClientError> {
    let opts = match tls {
        Tls::Off => ConnectOptions::default(),
        Tls::TryUnverified => {
            ConnectOptions::default().with_tls(TlsOptions::opportunistic().verify(false))
        }
    };
    Client::connect(server, opts)
}

/// Ends the session with LOGOUT, as NUT's client library does on exit.
/// Parses the `ups[@host[:port]]` argument and connects to its server,
/// printing NUT's messages on failure. `Ok(None)` (after `usage`) when the
/// argument is missing. No STARTTLS, as NUT 2.8.0's `upscmd` and `upsrw`.
pub(crate) fn open_target(
    io: &mut Io<'_>,
    arg: Option<&String>,
    usage: impl FnOnce(&mut Io<'_>),
) -> Res<Option<(UpsTarget, Client)>> {
    let Some(arg) = arg else {
        usage(io);
        return Ok(None);
    };
    let Ok(target) = UpsTarget::parse(arg) else {
        return Err(fatal(
            io,
            "Error: invalid UPS definition.  Required format: upsname[@hostname[:port]]",
        ));
    };
    let c = connect(&target.server, Tls::Off)
        .map_err(|e| fatal(io, &format!("Error: {}", describe(&e))))?;
    Ok(Some((target, c)))
}

pub(crate) fn disconnect(client: &mut Client) {
    if !client.is_broken() {
        let _ = client.logout();
    }
}

/// Reads one line from `stdin` without its newline; `None` at end of input.
pub(crate) fn read_line(io: &mut Io<'_>) -> Option<String> {
    let mut s = String::new();
    match io.stdin.read_line(&mut s) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if s.ends_with('\n') {
                s.pop();
            }
            Some(s)
        }
    }
}

/// The user name to send: `-u`, or asked on the terminal with the login
/// name as the default.
pub(crate) fn ask_username(io: &mut Io<'_>) -> Res<String> {
    let me = nix::unistd::User::from_uid(nix::unistd::getuid()).ok().flatten().map(|u| u.name);
    match &me {
        Some(name) => {
            let _ = write!(io.stdout, "Username ({name}): ");
        }
        None => {
            let _ = write!(io.stdout, "Username: ");
        }
    }
    let _ = io.stdout.flush();
    match read_line(io) {
        Some(u) if !u.is_empty() => Ok(u),
        _ => me.ok_or_else(|| fatal(io, "No username available - even tried getpwuid")),
    }
}

/// Asks for the password, without echo when a terminal is available.
pub(crate) fn ask_password(io: &mut Io<'_>) -> Res<String> {
    if io.tty_password {
        if let Ok(p) = tty_password("Password: ") {
            return Ok(p);
        }
    }
    let _ = write!(io.stderr, "Password: ");
    let _ = io.stderr.flush();
    read_line(io).ok_or_else(|| fatal(io, "getpass failed: Inappropriate ioctl for device"))
}

fn tty_password(prompt: &str) -> io::Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let mut tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let old = tcgetattr(&tty).map_err(io::Error::from)?;
    let mut quiet = old.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&tty, SetArg::TCSAFLUSH, &quiet).map_err(io::Error::from)?;
    write!(tty, "{prompt}")?;
    tty.flush()?;
    let mut line = String::new();
    let r = io::BufReader::new(&tty).read_line(&mut line);
    let _ = tcsetattr(&tty, SetArg::TCSAFLUSH, &old);
    let _ = writeln!(tty);
    r?;
    if line.ends_with('\n') {
        line.pop();
    }
    Ok(line)
}

/// Parses `-t` as NUT does (an unsigned decimal number).
pub(crate) fn parse_timeout(io: &mut Io<'_>, s: &str) -> Res<u64> {
    s.parse::<u32>().map(u64::from).map_err(|_| {
        fatal(
            io,
            "Could not convert the provided value for timeout ('-t' option) to unsigned int: Invalid argument",
        )
    })
}

/// Runs a tool body and turns its outcome into an exit code.
pub(crate) fn exit_code(r: Res) -> i32 {
    match r {
        Ok(()) => 0,
        Err(Exit(code)) => code,
    }
}

/// Escapes a string for JSON as NUT's `upsc -j` does.
pub(crate) fn json_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// The shared tracking loop of `upscmd -w` and `upsrw -w`: polls
/// `GET TRACKING <id>` every second until it is not `PENDING`, prints the
/// final line on stderr.
pub(crate) fn wait_tracking(io: &mut Io<'_>, client: &mut Client, id: &str, timeout: u64) -> Res {
    use nut_proto::net::{Command, GetQuery};
    let start = std::time::Instant::now();
    loop {
        if start.elapsed().as_secs() >= timeout {
            return Err(fatal(io, "Can't receive status tracking information: timeout"));
        }
        let cmd = Command::Get(GetQuery::Tracking(Some(id.to_string().into())));
        let line = match client.request(cmd) {
            Ok(r) => r.line(),
            Err(e) => {
                let m = format!("Can't receive status tracking information: {}", describe(&e));
                return Err(fatal(io, &m));
            }
        };
        if !line.starts_with("PENDING") {
            let _ = writeln!(io.stderr, "{line}");
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn getopt_like_posix_with_plus() {
        let mut err = Vec::new();
        let (o, rest) = getopt("p", &s(&["-lu", "x", "-px", "-q", "ups", "-l"]), "lu:p:", &mut err);
        let got: Vec<String> = o
            .iter()
            .map(|o| match o {
                Opt::Flag(c, a) => format!("{c}{}", a.clone().unwrap_or_default()),
                Opt::Bad => "?".into(),
            })
            .collect();
        assert_eq!(got, ["l", "ux", "px", "?"]);
        assert_eq!(rest, ["ups", "-l"]);
        assert_eq!(String::from_utf8(err).unwrap(), "p: invalid option -- 'q'\n");
        let (_, rest) = getopt("p", &s(&["--", "-l"]), "l", &mut Vec::new());
        assert_eq!(rest, ["-l"]);
    }

    #[test]
    fn json_escaping() {
        assert_eq!(json_escape("a\"b\\c\n\u{1}é"), "a\\\"b\\\\c\\n\\u0001é");
    }
}
