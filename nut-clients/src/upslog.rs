//! `upslog`: writes one line per poll about one or more UPSes to log files
//! (or standard output), in a format of NUT's escapes ([`mod@format`]).
//!
//! The flags are NUT 2.8's (`-s`, `-l`, `-i`, `-f`, `-u`, `-p`, `-F`, `-B`,
//! `-h`, `-V`, and the old positional form `<ups> <logfile> <interval>
//! [<format>...]`), plus `-m <ups>,<logfile>` (several allowed) from later
//! NUT releases. `SIGHUP` reopens the log files (for rotation), `SIGUSR1`
//! polls at once, `SIGINT`/`SIGQUIT`/`SIGTERM` end it. A lost server is
//! reconnected at the next poll; until then every `%VAR%` is `NA`.

pub mod format;
pub mod strftime;

use crate::common::{self, Io, Opt, Res, Tls, describe, fatal, strerror};
use format::{Context, DEFAULT_FORMAT, MAX_LINE, Template};
use nix::sys::signal::{SigSet, Signal};
use nut_client::io::blocking::Client;
use nut_client::{Response, UpsTarget};
use nut_proto::net::{Command, GetQuery, Reply};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use strftime::LocalTime;

/// Where NUT 2.8 (as Debian builds it) writes PID files; `NUT_PIDPATH`,
/// `NUT_ALTPIDPATH` or `NUT_STATEPATH` (the first one set) overrides it.
pub const DEFAULT_PIDPATH: &str = nut_daemon::paths::DEFAULT_PIDPATH;

/// The user `upslog` switches to when started as root without `-u`.
pub const DEFAULT_USER: &str = "nut";

/// NUT's default poll interval, in seconds.
pub const DEFAULT_INTERVAL: i64 = 30;

fn usage(io: &mut Io<'_>, prog: &str) {
    let _ = write!(
        io.stdout,
        "Logs the state of UPSes, one line per poll.\n\n\
         usage: {prog} [-h] [-V] -s <ups> -l <logfile> [-i <interval>] [-f <format>]\n\
         \x20      [-m <ups>,<logfile>]... [-u <user>] [-p <pidbase>] [-F | -B]\n\
         \x20      {prog} <ups> <logfile> <interval> [<format>...]\n\n\
         \x20 -s <ups>          the UPS, <upsname>[@<hostname>[:<port>]]\n\
         \x20 -l <logfile>      the log file, - for standard output (then it stays in\n\
         \x20                   the foreground unless -B)\n\
         \x20 -m <ups>,<file>   a UPS and its log file; may be repeated (replaces -s and -l)\n\
         \x20 -i <interval>     seconds between polls (default 30)\n\
         \x20 -f <format>       the line format (quote it for the shell), see below\n\
         \x20 -u <user>         the user to run as when started as root (default {DEFAULT_USER})\n\
         \x20 -p <pidbase>      the PID file: an absolute path, or a name in the PID\n\
         \x20                   directory (default {prog})\n\
         \x20 -F                stay in the foreground\n\
         \x20 -B                go to the background\n\
         \x20 -V                print the version\n\
         \x20 -h                print this help\n\n\
         Format escapes:\n\
         \x20 %%                a percent sign\n\
         \x20 %VAR <name>%      the value of a variable (NA if the server has none)\n\
         \x20 %TIME <format>%   the local time, strftime(3) with @ in place of %\n\
         \x20 %ETIME%           seconds since the epoch\n\
         \x20 %HOST%            this host's name\n\
         \x20 %UPSHOST%         the UPS as given\n\
         \x20 %PID%             this process's id\n\n\
         The default format is:\n{DEFAULT_FORMAT}\n\n\
         SIGHUP reopens the log files; SIGUSR1 polls at once.\n"
    );
}

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    /// `(ups as given, log file)` pairs, `-` for standard output.
    tuples: Vec<(String, String)>,
    interval: i64,
    format: String,
    user: String,
    foreground: Option<bool>,
    pidbase: String,
}

/// Parses the arguments; `Ok(None)` when the run ends here with status 0
/// (help, version).
fn parse_args(argv: &[String], io: &mut Io<'_>, prog: &str) -> Res<Option<Options>> {
    let (opts, rest) = common::getopt(
        argv.first().map_or("upslog", String::as_str),
        argv.get(1..).unwrap_or(&[]),
        "hs:l:i:f:u:Vp:FBm:",
        io.stderr,
    );
    let mut o = Options {
        tuples: Vec::new(),
        interval: DEFAULT_INTERVAL,
        format: DEFAULT_FORMAT.to_string(),
        user: DEFAULT_USER.to_string(),
        foreground: None,
        pidbase: prog.to_string(),
    };
    let (mut monhost, mut logfn) = (None, None);
    for opt in opts {
        match opt {
            Opt::Flag('h', _) => {
                usage(io, prog);
                return Ok(None);
            }
            Opt::Flag('V', _) => return Ok(None),
            Opt::Flag('s', v) => monhost = v,
            Opt::Flag('l', v) => logfn = v,
            Opt::Flag('i', Some(v)) => o.interval = nut_proto::token::atoi(&v),
            Opt::Flag('f', Some(v)) => o.format = v,
            Opt::Flag('u', Some(v)) => o.user = v,
            Opt::Flag('p', Some(v)) => o.pidbase = v,
            Opt::Flag('F', _) => o.foreground = Some(true),
            Opt::Flag('B', _) => o.foreground = Some(false),
            Opt::Flag('m', Some(v)) => {
                let tuple_error =
                    "Argument '-m upsspec,logfile' requires exactly 2 components in the tuple";
                let mut parts = v.split(',');
                let (Some(ups), Some(file), None) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(fatal(io, tuple_error));
                };
                target(io, ups)?;
                o.tuples.push((ups.to_string(), file.to_string()));
            }
            // Unknown options were reported by getopt; NUT goes on.
            _ => {}
        }
    }
    match rest.len() {
        0 => {}
        1 | 2 => {
            usage(io, prog);
            return Ok(None);
        }
        _ => {
            monhost = Some(rest[0].clone());
            logfn = Some(rest[1].clone());
            o.interval = nut_proto::token::atoi(&rest[2]);
            if rest.len() > 3 {
                let mut f: String = rest[3..].iter().map(|a| format!("{a} ")).collect();
                truncate_utf8(&mut f, MAX_LINE);
                o.format = f;
            }
        }
    }
    if o.tuples.is_empty() {
        let Some(monhost) = monhost else {
            return Err(fatal(io, "No UPS defined for monitoring - use -s <system>"));
        };
        let Some(logfn) = logfn else {
            return Err(fatal(io, "No filename defined for logging - use -l <file>"));
        };
        o.tuples.push((monhost, logfn));
    }
    Ok(Some(o))
}

fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

fn target(io: &mut Io<'_>, ups: &str) -> Res<UpsTarget> {
    // NUT's message ends with a newline of its own, then the one every
    // fatal message gets.
    UpsTarget::parse(ups).map_err(|_| {
        fatal(io, "Error: invalid UPS definition.  Required format: upsname[@hostname[:port]]\n")
    })
}

/// Where one UPS is logged.
enum Sink {
    Stdout,
    File(File),
}

/// One monitored UPS.
struct Monitor {
    spec: String,
    target: UpsTarget,
    logfn: String,
    sink: Sink,
    client: Option<Client>,
}

fn open_log(path: &str) -> std::io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

impl Monitor {
    /// Reads the template's variables (one pipelined exchange); `None` for
    /// each one the server did not give. Reconnects first when needed.
    fn fetch(&mut self, vars: &[String]) -> Vec<Option<String>> {
        if vars.is_empty() {
            return Vec::new();
        }
        if self.client.as_ref().is_none_or(Client::is_broken) {
            // As NUT: reconnections do not try STARTTLS.
            self.client = common::connect(&self.target.server, Tls::Off).ok();
        }
        let Some(client) = self.client.as_mut() else {
            return vec![None; vars.len()];
        };
        let ups = &self.target.ups;
        let cmds: Vec<Command<'_>> = vars
            .iter()
            .map(|v| {
                Command::Get(GetQuery::Var { ups: ups.as_str().into(), var: v.as_str().into() })
            })
            .collect();
        match client.exchange(&cmds) {
            Ok(answers) => answers
                .into_iter()
                .map(|a| match a {
                    Ok(Response::Line(Reply::Var { value, .. })) => Some(value.into_owned()),
                    _ => None,
                })
                .collect(),
            Err(e) => {
                tracing::debug!(ups = %self.spec, error = %e, "poll failed");
                self.client = None;
                vec![None; vars.len()]
            }
        }
    }

    fn write(&mut self, io: &mut Io<'_>, line: &[u8]) {
        let out: &mut dyn Write = match &mut self.sink {
            Sink::Stdout => io.stdout,
            Sink::File(f) => f,
        };
        let r = out.write_all(line).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush());
        if let Err(e) = r {
            tracing::warn!(file = %self.logfn, error = %e, "cannot write the log line");
        }
    }
}

/// The local time now, from the system's time zone (`TZ`, else
/// `/etc/localtime`).
fn local_now(tz: &jiff::tz::TimeZone) -> LocalTime {
    let ts = jiff::Timestamp::now();
    let dt = tz.to_datetime(ts);
    let info = tz.to_offset_info(ts);
    LocalTime {
        year: i32::from(dt.year()),
        month: dt.month() as u8,
        day: dt.day() as u8,
        hour: dt.hour() as u8,
        minute: dt.minute() as u8,
        second: dt.second() as u8,
        weekday: dt.weekday().to_sunday_zero_offset() as u8,
        yday: (dt.day_of_year() - 1) as u16,
        utc_offset: info.offset().seconds(),
        abbreviation: info.abbreviation().to_string(),
        timestamp: ts.as_second(),
    }
}

/// The PID file for `-p`: an absolute path as is, else
/// `<pid dir>/<name>.pid` (see [`nut_daemon::paths::pidpath`]).
fn pid_path(base: &str) -> PathBuf {
    if base.starts_with('/') {
        PathBuf::from(base)
    } else {
        nut_daemon::paths::pidpath().join(format!("{base}.pid"))
    }
}

/// The signals `upslog` acts on, delivered through a channel by a thread
/// that waits for them (they are blocked everywhere else).
fn watch_signals() -> std::io::Result<mpsc::Receiver<Signal>> {
    let mut set = SigSet::empty();
    for s in [Signal::SIGHUP, Signal::SIGINT, Signal::SIGQUIT, Signal::SIGTERM, Signal::SIGUSR1] {
        set.add(s);
    }
    set.thread_block().map_err(std::io::Error::from)?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        while let Ok(sig) = set.wait() {
            if tx.send(sig).is_err() {
                break;
            }
        }
    })?;
    Ok(rx)
}

/// Switches to `user` when running as root (groups, then group, then
/// user), with NUT's messages.
fn become_user(user: &nix::unistd::User) -> Result<(), String> {
    use nut_daemon::privs::{Groups, switch_to};
    switch_to(user, Groups::FromDatabase).map_err(|e| format!("{}: {}", e.step, e.errno.desc()))
}

/// Runs `upslog` with `argv` (program name first); returns the exit status
/// (only after a signal, or at once on a usage error).
pub fn run(argv: &[String], io: &mut Io<'_>) -> i32 {
    common::exit_code(main(argv, io))
}

fn main(argv: &[String], io: &mut Io<'_>) -> Res {
    let prog = common::prog_name(argv.first(), "upslog");
    let _ = writeln!(io.stdout, "Network UPS Tools {prog} {}", crate::VERSION);
    let _ = io.stdout.flush();
    let Some(o) = parse_args(argv, io, &prog)? else {
        return Ok(());
    };
    let mut monitors = Vec::with_capacity(o.tuples.len());
    for (spec, logfn) in &o.tuples {
        let _ =
            writeln!(io.stdout, "logging status of {spec} to {logfn} ({}s intervals)", o.interval);
        let _ = io.stdout.flush();
        let target = target(io, spec)?;
        let client = match common::connect(&target.server, Tls::TryUnverified) {
            Ok(c) => Some(c),
            Err(e) => {
                let _ = writeln!(io.stderr, "Warning: initial connect failed: {}", describe(&e));
                None
            }
        };
        let sink = if logfn == "-" {
            Sink::Stdout
        } else {
            let f = open_log(logfn).map_err(|e| {
                fatal(io, &format!("could not open logfile {logfn}: {}", strerror(&e)))
            })?;
            Sink::File(f)
        };
        monitors.push(Monitor { spec: spec.clone(), target, logfn: logfn.clone(), sink, client });
    }
    let user = match nix::unistd::User::from_name(&o.user) {
        Ok(Some(u)) => u,
        Ok(None) => return Err(fatal(io, &format!("user {} not found", o.user))),
        Err(e) => return Err(fatal(io, &format!("getpwnam({}): {}", o.user, e.desc()))),
    };
    let tz = jiff::tz::TimeZone::system();
    let foreground = o.foreground.unwrap_or(matches!(monitors[0].sink, Sink::Stdout));
    if !foreground {
        let _ = io.stdout.flush();
        nix::unistd::daemon(true, false)
            .map_err(|e| fatal(io, &format!("Unable to enter background mode: {}", e.desc())))?;
        // As NUT's: in the background, messages go to syslog (standard
        // error is gone).
        nut_daemon::Logging::debug(0).init_bare(crate::upsmon_os::syslog::Writer::new("upslog"));
        tracing::info!("Startup successful");
    }
    // Messages: on stderr in the foreground, to syslog in the background.
    let note = |io: &mut Io<'_>, msg: &str| {
        if foreground {
            let _ = writeln!(io.stderr, "{msg}");
        } else {
            tracing::info!("{msg}");
        }
    };
    let fatal = |io: &mut Io<'_>, msg: &str| {
        if !foreground {
            tracing::error!("{msg}");
        }
        fatal(io, msg)
    };
    let signals = watch_signals()
        .map_err(|e| fatal(io, &format!("Can't install signal handlers: {}", strerror(&e))))?;
    let pidfile = pid_path(&o.pidbase);
    let wrote_pid = match nut_daemon::pidfile::write_pid(&pidfile, std::process::id()) {
        Ok(()) => true,
        Err(e) => {
            note(io, &format!("writepid: fopen {}: {}", pidfile.display(), strerror(&e)));
            false
        }
    };
    become_user(&user).map_err(|m| fatal(io, &m))?;
    let template = Template::parse(o.format.as_bytes());
    let interval = Duration::from_secs(o.interval.max(1).unsigned_abs());
    let pid = std::process::id();
    let mut next_poll: Option<Instant> = None;
    let exit_signal = 'polls: loop {
        let mut reopen = None;
        if let Some(at) = next_poll {
            let mut sigs = Vec::new();
            let now = Instant::now();
            if at > now {
                match signals.recv_timeout(at - now) {
                    Ok(s) => sigs.push(s),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break 'polls None,
                }
            }
            sigs.extend(signals.try_iter());
            for s in sigs {
                match s {
                    Signal::SIGHUP => reopen = Some(s),
                    Signal::SIGUSR1 => {}
                    s => break 'polls Some(s),
                }
            }
            // As NUT: a signal cuts the wait short, the schedule goes on.
            next_poll = Some(at + interval).filter(|n| *n > Instant::now());
        }
        if next_poll.is_none() {
            next_poll = Some(Instant::now() + interval);
        }
        if let Some(sig) = reopen {
            note(io, &format!("Signal {}: reopening log file", sig as i32));
            for m in &mut monitors {
                match &mut m.sink {
                    Sink::Stdout => note(io, "logging to stdout"),
                    Sink::File(f) => {
                        *f = open_log(&m.logfn).map_err(|e| {
                            fatal(
                                io,
                                &format!("could not reopen logfile {}: {}", m.logfn, strerror(&e)),
                            )
                        })?;
                    }
                }
            }
        }
        let host = if template.pieces().contains(&format::Piece::Host) {
            nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default()
        } else {
            String::new()
        };
        for m in &mut monitors {
            let values = m.fetch(template.vars());
            let now = local_now(&tz);
            let ctx = Context { host: &host, ups_host: &m.spec, pid, now: &now };
            let line = template.render(&ctx, &values);
            m.write(io, &line);
            // As NUT: no idle connection kept across long intervals.
            if o.interval > 30 {
                if let Some(mut c) = m.client.take() {
                    common::disconnect(&mut c);
                }
            }
        }
    };
    if let Some(sig) = exit_signal {
        note(io, &format!("Signal {}: exiting", sig as i32));
    }
    for m in &mut monitors {
        if let Some(mut c) = m.client.take() {
            common::disconnect(&mut c);
        }
    }
    if wrote_pid {
        let _ = std::fs::remove_file(&pidfile);
    }
    Ok(())
}
