#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use clap::{ArgAction, Parser};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User};
use nut_server::upsd::io::{self, Control, Family, Loaded};
use std::path::{Path, PathBuf};
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

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn pid_file() -> PathBuf {
    env_path("NUT_ALTPIDPATH")
        .or_else(|| env_path("NUT_STATEPATH"))
        .unwrap_or_else(|| io::DEFAULT_STATEPATH.into())
        .join("upsd.pid")
}

fn read_pid(path: &Path) -> Option<Pid> {
    let text = std::fs::read_to_string(path).ok()?;
    text.trim().parse().ok().map(Pid::from_raw)
}

/// The user to run as, looked up before any chroot (the password database
/// is usually not inside it). None: stay who we are.
fn target_user(args: &Args) -> Result<Option<User>, String> {
    let root = nix::unistd::geteuid().is_root();
    let name = match (&args.user, root) {
        (Some(u), _) => u.clone(),
        (None, true) => "nut".to_string(),
        (None, false) => return Ok(None),
    };
    let user = User::from_name(&name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no such user {name} (use -u to choose the user to run as)"))?;
    if !root && user.uid != nix::unistd::geteuid() {
        return Err(format!("only root can switch to user {name}"));
    }
    Ok(Some(user))
}

/// `-r`: as NUT does, before the configuration is read, so that every
/// path (configuration, STATEPATH, DATAPATH, certificates) is inside it.
fn enter_chroot(dir: &Path) -> Result<(), String> {
    nix::unistd::chroot(dir).map_err(|e| format!("chroot {}: {e}", dir.display()))?;
    std::env::set_current_dir("/").map_err(|e| e.to_string())
}

/// Drops root for `user`, once the listeners are open.
fn switch_user(user: &User) -> Result<(), String> {
    if nix::unistd::geteuid().is_root() {
        nix::unistd::setgroups(&[user.gid]).map_err(|e| format!("setgroups: {e}"))?;
        nix::unistd::setgid(user.gid).map_err(|e| format!("setgid: {e}"))?;
        nix::unistd::setuid(user.uid).map_err(|e| format!("setuid: {e}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let level = match (args.debug, args.quiet) {
        (0, 0) => "info",
        (0, _) => "warn",
        (1, _) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();

    let pidfile = pid_file();
    if let Some(cmd) = &args.command {
        let sig = match cmd.as_str() {
            "reload" => Signal::SIGHUP,
            "stop" => Signal::SIGTERM,
            other => return fail(format!("unknown command {other} (use reload or stop)")),
        };
        let Some(pid) = args.pid.map(Pid::from_raw).or_else(|| read_pid(&pidfile)) else {
            return fail(format!("cannot read {}", pidfile.display()));
        };
        return match kill(pid, sig) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("cannot signal upsd (PID {pid}): {e}")),
        };
    }
    if let Some(pid) = read_pid(&pidfile) {
        if pid != nix::unistd::getpid() && kill(pid, None).is_ok() {
            return fail(format!("upsd is already running as PID {pid} ({})", pidfile.display()));
        }
    }
    let user = match target_user(&args) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    if let Some(dir) = &args.chroot {
        if let Err(e) = enter_chroot(dir) {
            return fail(e);
        }
    }
    let confpath = env_path("NUT_CONFPATH").unwrap_or_else(|| io::DEFAULT_CONFPATH.into());
    let loaded = match Loaded::from_dir(&confpath) {
        Ok(l) => l,
        Err(e) => return fail(e.to_string()),
    };
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
    let write_pid = background || args.foreground >= 2;
    if write_pid {
        if let Err(e) = std::fs::write(&pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!("cannot write {}: {e}", pidfile.display());
        }
    }
    if let Some(user) = &user {
        if let Err(e) = switch_user(user) {
            return fail(e);
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(e.to_string()),
    };
    let result = rt.block_on(async move {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(signals(tx, confpath));
        io::run(listeners, loaded, rx).await
    });
    if write_pid {
        let _ = std::fs::remove_file(&pidfile);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.to_string()),
    }
}

/// SIGHUP reloads the configuration; SIGTERM, SIGINT and SIGQUIT stop.
async fn signals(tx: tokio::sync::mpsc::Sender<Control>, confpath: PathBuf) {
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
