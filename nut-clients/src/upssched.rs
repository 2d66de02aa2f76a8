//! `upssched`: upsmon's timer helper, a drop-in for NUT 2.8.0's.
//!
//! Run as upsmon's `NOTIFYCMD` with `UPSNAME` and `NOTIFYTYPE` in the
//! environment. It reads `$NUT_CONFPATH/upssched.conf` (else
//! `/etc/nut/upssched.conf`) with [`nut_client::upssched::Config`] and acts
//! on every matching `AT` line in file order:
//!
//! - `EXECUTE <cmd>` runs `CMDSCRIPT <cmd>` at once (`<cmd>` as one
//!   argument, never through a shell; COMPATIBILITY.md);
//! - `START-TIMER` / `CANCEL-TIMER` go to the timer daemon over the PIPEFN
//!   unix socket. When none answers, this program starts one (taking
//!   LOCKFN so that only one starts): it runs itself again with
//!   [`DAEMON_ENV`] set, in a new session, and waits until it listens.
//!
//! The daemon ([`nut_client::upssched::Daemon`] on a `poll` loop) runs
//! `CMDSCRIPT <timer>` when a timer expires, and exits (removing PIPEFN)
//! once it has had no timer for 15 seconds. It logs to syslog as
//! `upssched`.

use crate::common::strerror;
use crate::upsmon_os::syslog::{Severity, syslog};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nut_client::upssched::{
    Config, Connection, Daemon, DaemonAction, DaemonEvent, DaemonReply, Request, RuleAction,
};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Marks the re-executed timer daemon.
pub const DAEMON_ENV: &str = "NUT_RS_UPSSCHED_DAEMON";
const ENV_CMDSCRIPT: &str = "NUT_RS_UPSSCHED_CMDSCRIPT";
const ENV_PIPEFN: &str = "NUT_RS_UPSSCHED_PIPEFN";
const ENV_LOCKFN: &str = "NUT_RS_UPSSCHED_LOCKFN";
const HIDDEN_ENV: [&str; 4] = [DAEMON_ENV, ENV_CMDSCRIPT, ENV_PIPEFN, ENV_LOCKFN];

/// NUT's number of attempts to reach (or start) the daemon.
const MAX_TRIES: usize = 30;
/// NUT's pause between attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(250);
const IDENT: &str = "upssched";

/// The program: the daemon when [`DAEMON_ENV`] is set, else the client.
/// Returns the exit code.
pub fn main() -> i32 {
    if std::env::var_os(DAEMON_ENV).is_some() {
        return daemon_main();
    }
    client_main()
}

/// A message NUT prints on stderr and logs to syslog.
fn log(sev: Severity, msg: &str) {
    let _ = writeln!(io::stderr(), "{msg}");
    syslog(sev, IDENT, msg);
}

fn conf_path() -> PathBuf {
    nut_daemon::paths::confpath().join("upssched.conf")
}

/// The client: called by upsmon for one notification.
fn client_main() -> i32 {
    let (Some(ups), Some(ntype)) =
        (std::env::var("UPSNAME").ok(), std::env::var("NOTIFYTYPE").ok())
    else {
        println!("Error: UPSNAME and NOTIFYTYPE must be set.");
        println!("This program should only be run from upsmon.");
        return 1;
    };
    let path = conf_path();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            log(Severity::Err, &format!("Can't open {}: {}", path.display(), strerror(&e)));
            return 1;
        }
    };
    let conf = match Config::parse(&path.display().to_string(), &text) {
        Ok(c) => c,
        Err(e) => {
            println!("{}", e.nut_message());
            log(Severity::Err, &e.to_string());
            return 1;
        }
    };
    // Warnings and matching rules in file order, as NUT meets them.
    let mut items: Vec<(u32, Item<'_>)> = conf
        .warnings
        .iter()
        .map(|w| {
            let line = match w {
                nut_client::upssched::ConfWarning::Syntax(e) => e.line,
                nut_client::upssched::ConfWarning::InvalidDirective { line, .. } => *line,
                _ => 0,
            };
            (line, Item::Warning(w.to_string()))
        })
        .chain(conf.matching(&ups, &ntype).map(|r| (r.line, Item::Action(&r.action))))
        .collect();
    items.sort_by_key(|(line, _)| *line);
    // Rules exist only when all three are set.
    let cmdscript = conf.cmdscript.clone().unwrap_or_default();
    let sock = Paths {
        cmdscript: cmdscript.clone(),
        pipefn: PathBuf::from(conf.pipefn.clone().unwrap_or_default()),
        lockfn: PathBuf::from(conf.lockfn.clone().unwrap_or_default()),
    };
    for (_, item) in items {
        let action = match item {
            Item::Warning(w) => {
                log(Severity::Warning, &w);
                continue;
            }
            Item::Action(a) => a,
        };
        let req = match action {
            RuleAction::StartTimer { timer, seconds } => {
                Request::Start { timer: timer.clone(), seconds: seconds.clone() }
            }
            RuleAction::StartTimerShared { timer, seconds } => {
                Request::StartShared { timer: timer.clone(), seconds: seconds.clone() }
            }
            RuleAction::CancelTimer { timer, cmd } => {
                Request::Cancel { timer: timer.clone(), cmd: cmd.clone() }
            }
            RuleAction::Execute { cmd } if cmd.is_empty() => {
                log(Severity::Err, "Empty EXECUTE command argument");
                continue;
            }
            RuleAction::Execute { cmd } => {
                log(Severity::Info, &format!("Executing command: {cmd}"));
                run_cmdscript(&cmdscript, cmd, false);
                continue;
            }
            RuleAction::Invalid { command } => {
                log(Severity::Err, &format!("Invalid command: {command}"));
                continue;
            }
            _ => continue,
        };
        if let Err(code) = send_request(&sock, &req) {
            return code;
        }
    }
    0
}

enum Item<'a> {
    Warning(String),
    Action(&'a RuleAction),
}

struct Paths {
    cmdscript: String,
    pipefn: PathBuf,
    lockfn: PathBuf,
}

/// The program and arguments run for `arg`: CMDSCRIPT split at white
/// space (it comes from the root-owned configuration, as in NUT where the
/// shell splits it), then `arg` as one more argument, never parsed by a
/// shell: a timer name or a CANCEL-TIMER command can arrive over PIPEFN
/// from anyone who may write to that socket.
fn cmdscript_argv<'a>(cmdscript: &'a str, arg: &'a str) -> Option<(&'a str, Vec<&'a str>)> {
    let mut words = cmdscript.split_ascii_whitespace();
    let program = words.next()?;
    let mut args: Vec<&str> = words.collect();
    args.push(arg);
    Some((program, args))
}

/// Runs CMDSCRIPT with `arg` as its last argument (see [`cmdscript_argv`];
/// NUT pastes both into a `system()` shell line instead) and waits.
/// `quiet` gives it `/dev/null` as standard streams (the daemon).
fn run_cmdscript(cmdscript: &str, arg: &str, quiet: bool) {
    let line = format!("{cmdscript} {arg}");
    let Some((program, args)) = cmdscript_argv(cmdscript, arg) else {
        syslog(Severity::Err, IDENT, &format!("Execute command failure: {line}: no CMDSCRIPT"));
        return;
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    for k in HIDDEN_ENV {
        cmd.env_remove(k);
    }
    if quiet {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    }
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => match s.code() {
            Some(c) => {
                syslog(Severity::Info, IDENT, &format!("exec_cmd({line}) returned {c}"));
            }
            None => {
                syslog(Severity::Warning, IDENT, &format!("exec_cmd({line}) was killed"));
            }
        },
        Err(e) => {
            syslog(Severity::Err, IDENT, &format!("Execute command failure: {line}: {e}"));
        }
    }
}

/// Sends one request to the daemon (starting it when needed) and waits
/// for `OK`, with NUT's retries.
fn send_request(p: &Paths, req: &Request) -> Result<(), i32> {
    let line = req.encode();
    for _ in 0..MAX_TRIES {
        let mut stream = match UnixStream::connect(&p.pipefn) {
            Ok(s) => s,
            Err(_) => {
                // Nothing to cancel when no daemon runs.
                if matches!(req, Request::Cancel { cmd: None, .. }) {
                    return Ok(());
                }
                match take_lock(&p.lockfn) {
                    Ok(()) => start_daemon(p),
                    Err(_) => {
                        // Maybe left over from a crash; the other starter
                        // gets a moment.
                        let _ = std::fs::remove_file(&p.lockfn);
                        std::thread::sleep(RETRY_PAUSE);
                    }
                }
                continue;
            }
        };
        if stream.write_all(&line).is_err() {
            log(Severity::Err, "write failed, trying again");
            continue;
        }
        let mut reply = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    reply.extend_from_slice(&buf[..n]);
                    if reply.contains(&b'\n') || reply.len() > 1024 {
                        break;
                    }
                }
            }
        }
        if reply.len() < 2 {
            log(Severity::Err, "read confirmation failed, trying again");
            continue;
        }
        match DaemonReply::parse(&reply) {
            DaemonReply::Ok => return Ok(()),
            other => {
                let text = String::from_utf8_lossy(&other.encode()).trim_end().to_string();
                log(Severity::Err, &format!("read confirmation got [{text}]"));
            }
        }
    }
    log(Severity::Err, "Unable to connect to daemon and unable to start daemon");
    Err(1)
}

fn take_lock(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map(drop)
}

/// Starts the daemon (this program again) and waits until it listens or
/// has failed.
fn start_daemon(p: &Paths) {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            log(Severity::Err, &format!("Unable to enter background: {e}"));
            return;
        }
    };
    let child = Command::new(exe)
        .env(DAEMON_ENV, "1")
        .env(ENV_CMDSCRIPT, &p.cmdscript)
        .env(ENV_PIPEFN, &p.pipefn)
        .env(ENV_LOCKFN, &p.lockfn)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(mut c) => {
            // One byte once it listens; EOF if it failed.
            let mut b = [0u8; 1];
            if let Some(mut out) = c.stdout.take() {
                let _ = out.read(&mut b);
            }
            // Not waited for: it outlives us and is reparented to init.
        }
        Err(e) => log(Severity::Err, &format!("Unable to enter background: {e}")),
    }
}

/// The timer daemon.
fn daemon_main() -> i32 {
    // A signal upsmon blocked or ignored must still stop the timer daemon,
    // and an ignored SIGCHLD would lose CMDSCRIPT's exit status.
    if let Err(e) = nut_daemon::signals::reset(&[]) {
        syslog(Severity::Warning, IDENT, &format!("cannot reset the signal mask: {e}"));
    }
    let _ = nix::unistd::setsid();
    let env = |k| std::env::var_os(k).map(PathBuf::from);
    let (Some(cmdscript), Some(pipefn), Some(lockfn)) =
        (std::env::var(ENV_CMDSCRIPT).ok(), env(ENV_PIPEFN), env(ENV_LOCKFN))
    else {
        return 1;
    };
    let listener = match listen(&pipefn) {
        Ok(l) => l,
        Err(e) => {
            syslog(Severity::Err, IDENT, &format!("bind {} failed: {e}", pipefn.display()));
            return 1;
        }
    };
    syslog(Severity::Info, IDENT, "Timer daemon started");
    // Release the client, then point stdout at /dev/null.
    {
        let mut out = io::stdout().lock();
        let _ = out.write_all(b"\x01");
        let _ = out.flush();
    }
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
    }
    let _ = std::fs::remove_file(&lockfn);
    serve(listener, &cmdscript, &pipefn, Daemon::DEFAULT_IDLE_EXIT)
}

fn listen(path: &Path) -> io::Result<UnixListener> {
    use nix::sys::stat::{Mode, umask};
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_file(path);
    umask(Mode::from_bits_truncate(0o007));
    let l = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(l)
}

/// The daemon's loop: `poll` over the listener and the clients, with the
/// core's deadline as timeout.
fn serve(listener: UnixListener, cmdscript: &str, pipefn: &Path, idle: Duration) -> i32 {
    let mut daemon = Daemon::new(Instant::now(), idle);
    let mut conns: Vec<(UnixStream, Connection)> = Vec::new();
    loop {
        let now = Instant::now();
        let wait = daemon
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now))
            .unwrap_or(Duration::from_secs(60))
            .min(Duration::from_secs(60));
        // Round up so that the deadline has passed when poll returns.
        let ms = u32::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(60_000);
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd<'_>> = std::iter::once(listener.as_fd())
                .chain(conns.iter().map(|(s, _)| s.as_fd()))
                .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
                .collect();
            match poll(&mut fds, PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)) {
                Ok(_) => fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect(),
                Err(_) => vec![false; fds.len()],
            }
        };
        let now = Instant::now();
        // Clients first (indices shift once the listener is handled).
        let mut closed = Vec::new();
        for (i, (stream, conn)) in conns.iter_mut().enumerate() {
            if !ready[i + 1] {
                continue;
            }
            let mut buf = [0u8; 1024];
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => closed.push(i),
                Ok(n) => {
                    let out = conn.handle_input(&buf[..n], &mut daemon, now);
                    if !out.is_empty() && stream.write_all(&out).is_err() {
                        closed.push(i);
                    }
                }
            }
        }
        for i in closed.into_iter().rev() {
            conns.remove(i);
        }
        if ready[0] {
            if let Ok((s, _)) = listener.accept() {
                conns.push((s, Connection::new()));
            }
        }
        daemon.handle_timeout(Instant::now());
        while let Some(ev) = daemon.poll_event() {
            log_event(ev);
        }
        while let Some(action) = daemon.poll_action() {
            match action {
                DaemonAction::Run(arg) => {
                    syslog(Severity::Info, IDENT, &format!("Event: {arg}"));
                    run_cmdscript(cmdscript, &arg, true);
                }
                DaemonAction::Exit => {
                    syslog(Severity::Info, IDENT, "Timer queue empty, exiting");
                    let _ = std::fs::remove_file(pipefn);
                    return 0;
                }
                _ => {}
            }
        }
    }
}

fn log_event(ev: DaemonEvent) {
    let msg = match ev {
        DaemonEvent::Started { timer, after } => {
            format!("New timer: {timer} ({} seconds)", after.as_secs())
        }
        DaemonEvent::BogusOffset { .. } => "bogus offset for timer, ignoring".to_string(),
        DaemonEvent::AlreadyRunning { timer } => format!("Timer {timer} already running"),
        DaemonEvent::Cancelled { timer } => format!("Cancelling timer: {timer}"),
        DaemonEvent::Refused { error } => format!("Unknown command on socket: {error}"),
        DaemonEvent::LineTooLong => "Unknown command on socket: line too long".to_string(),
        _ => return,
    };
    syslog(Severity::Info, IDENT, &msg);
}
