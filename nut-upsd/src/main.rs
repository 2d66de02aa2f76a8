#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use clap::{ArgAction, Parser};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use nut_daemon::pidfile::{self, PidError, PidFile};
use nut_daemon::{Logging, paths, privs, signals};
use nut_server::upsd::io::{self, Control, Family, Loaded};
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};

/// upsd: serve UPS data from the drivers to the network (NUT 2.8 compatible).
#[derive(Parser, Debug)]
#[command(name = "upsd", version, about)]
struct Args {
    /// Send a command to the running upsd: reload or stop.
    #[arg(short = 'c', value_name = "reload|stop")]
    command: Option<String>,
    /// With -c, signal this PID instead of the one in the PID file.
    #[arg(short = 'P', value_name = "pid")]
    pid: Option<i32>,
    /// Raise the log level (repeatable); implies -F.
    #[arg(short = 'D', action = ArgAction::Count)]
    debug: u8,
    /// Stay in the foreground (-FF also writes the PID file).
    #[arg(short = 'F', action = ArgAction::Count)]
    foreground: u8,
    /// Run in the background (the default).
    #[arg(short = 'B')]
    background: bool,
    /// Quieter logs (repeatable).
    #[arg(short = 'q', action = ArgAction::Count)]
    quiet: u8,
    /// chroot to this directory before reading the configuration (every
    /// path is then inside it).
    #[arg(short = 'r', value_name = "dir")]
    chroot: Option<PathBuf>,
    /// Run as this user (default when started as root: nut).
    #[arg(short = 'u', value_name = "user")]
    user: Option<String>,
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "v6")]
    v4: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    v6: bool,
}

/// `<NUT_ALTPIDPATH or NUT_STATEPATH or /run/nut>/upsd.pid`.
fn pid_file() -> PathBuf {
    paths::altpidpath(None).join("upsd.pid")
}

/// Whether `pid` is a running upsd: a PID below 2 and a process of another
/// program (a stale PID file's reused PID, or one planted in it) are
/// refused.
fn check_upsd(pid: i32) -> Result<(), PidError> {
    pidfile::signal_pid(pid.into(), None)?;
    let own = pidfile::own_name();
    let mut names = vec!["upsd"];
    names.extend(own.as_deref());
    pidfile::is_program(pid, &names)
}

fn main() -> ExitCode {
    // Before anything else: no blocked or ignored signal from the parent.
    let reset = signals::reset(&[Signal::SIGHUP, Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT]);
    let args = Args::parse();
    let level = match (args.debug, args.quiet) {
        (0, 0) => "info",
        (0, _) => "warn",
        (1, _) => "debug",
        _ => "trace",
    };
    let log = Logging::debug(0).with_level(level).init_with_control().map(std::sync::Arc::new);
    if let Err(e) = reset {
        tracing::warn!("cannot reset the signal mask: {e}");
    }

    let pidfile = pid_file();
    if let Some(cmd) = &args.command {
        let sig = match cmd.as_str() {
            "reload" => Signal::SIGHUP,
            "stop" => Signal::SIGTERM,
            other => return fail(format!("unknown command {other} (use reload or stop)")),
        };
        let pid = match args.pid.map_or_else(|| pidfile::read_pid(&pidfile), Ok) {
            Ok(pid) => pid,
            Err(e @ (PidError::NoPidFile { .. } | PidError::BadPidFile { .. })) => {
                tracing::debug!("{e}");
                return fail(format!("cannot read {}", pidfile.display()));
            }
            Err(e) => return fail(format!("not signalling: {e}")),
        };
        return match check_upsd(pid).and_then(|()| Ok(kill(Pid::from_raw(pid), sig)?)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(PidError::Kill(e)) => fail(format!("cannot signal upsd (PID {pid}): {e}")),
            Err(e) => fail(format!("not signalling: {e}")),
        };
    }
    if let Ok(pid) = pidfile::read_pid(&pidfile) {
        if pid != std::process::id() as i32 && check_upsd(pid).is_ok() {
            return fail(format!("upsd is already running as PID {pid} ({})", pidfile.display()));
        }
    }
    let user = match privs::run_as(args.user.as_deref(), "nut") {
        Ok(u) => u,
        Err(e @ privs::RunAsError::NoSuchUser(_)) => {
            return fail(format!("{e} (use -u to choose the user to run as)"));
        }
        Err(e) => return fail(e.to_string()),
    };
    if let Some(dir) = &args.chroot {
        if let Err(e) = privs::enter_chroot(dir) {
            return fail(match e.step {
                "chroot" => format!("chroot {}: {}", dir.display(), e.errno),
                _ => e.to_string(),
            });
        }
    }
    let confpath = paths::confpath();
    let loaded = match Loaded::from_dir(&confpath) {
        Ok(l) => l,
        Err(e) => return fail(e.to_string()),
    };
    // As NUT: DEBUG_MIN in upsd.conf is the least debug level (-D more).
    let debug_level = u32::from(args.debug).max(loaded.upsd.debug_min.unwrap_or(0));
    if let Some(log) = log.as_ref().filter(|_| debug_level > u32::from(args.debug)) {
        log.set_debug(debug_level);
    }
    tracing::debug!("debug level is '{debug_level}'");
    // As NUT, once at startup: the state directory holds the driver sockets.
    if let Some(w) = paths::world_readable_warning(&loaded.statepath) {
        tracing::warn!("{w}");
    }
    let family = if args.v4 {
        Family::V4
    } else if args.v6 {
        Family::V6
    } else {
        Family::Any
    };
    let listeners = match io::bind(&loaded.upsd, family) {
        Ok(l) => l,
        Err(e) => return fail(e.to_string()),
    };
    // -B wins over -F and -D (NUT: the last of -B/-F given wins).
    let background = args.background || (args.foreground == 0 && args.debug == 0);
    if background {
        if let Err(e) = nix::unistd::daemon(true, false) {
            return fail(format!("cannot go to the background: {e}"));
        }
    }
    // Never through a symbolic link planted at the path (the directory may
    // belong to the run user).
    let _pid = if background || args.foreground >= 2 {
        match PidFile::create(pidfile.clone()) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!("cannot write {}: {e}", pidfile.display());
                None
            }
        }
    } else {
        None
    };
    if let Some(user) = &user {
        if let Err(e) = listeners.chown_unix(user.uid.as_raw(), user.gid.as_raw()) {
            return fail(format!("cannot give the Unix sockets to {}: {e}", user.name));
        }
        if let Err(e) = privs::switch_to(user, privs::Groups::Primary) {
            return fail(e.to_string());
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(e.to_string()),
    };
    let result = rt.block_on(async move {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(signals(tx, confpath, log));
        io::run(listeners, loaded, rx).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.to_string()),
    }
}

/// SIGHUP reloads the configuration; SIGTERM, SIGINT and SIGQUIT stop.
async fn signals(
    tx: tokio::sync::mpsc::Sender<Control>,
    confpath: PathBuf,
    log: Option<std::sync::Arc<nut_daemon::LevelControl>>,
) {
    let (Ok(mut hup), Ok(mut term), Ok(mut int), Ok(mut quit)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::quit()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => match Loaded::from_dir(&confpath) {
                Ok(l) => {
                    // As NUT: a DEBUG_MIN in the new upsd.conf sets the level.
                    if let (Some(n), Some(log)) = (l.upsd.debug_min, &log) {
                        tracing::info!("Applying debug_min={n} from upsd.conf");
                        log.set_debug(n);
                    }
                    let _ = tx.send(Control::Reload(Box::new(l))).await;
                }
                Err(e) => tracing::error!("reload failed, keeping the old configuration: {e}"),
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = quit.recv() => break,
        }
    }
    let _ = tx.send(Control::Shutdown).await;
}

fn fail(msg: String) -> ExitCode {
    tracing::error!("{msg}");
    ExitCode::FAILURE
}
