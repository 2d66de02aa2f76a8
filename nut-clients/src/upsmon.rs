//! `upsmon`: the driver around [`nut_client::monitor::Monitor`].
//!
//! The decisions are the monitor's, and the network actions (one blocking
//! connection per `MONITOR` line, `USERNAME`/`PASSWORD`/`LOGIN`, `PRIMARY`
//! for primaries, reconnection with backoff, polls, `FSD`, `NUMLOGINS`) are
//! carried out by the library's runner
//! ([`nut_client::monitor::io::blocking::Runner`]), with NUT's 10 s timeouts
//! and STARTTLS as configured. This module adds what is the program's:
//! notifications and the shutdown through [`crate::upsmon_os`], and SIGHUP
//! (reload), SIGTERM / SIGINT / SIGQUIT (stop, with `LOGOUT`) and SIGUSR1
//! (forced shutdown) read from a `signalfd` between polls.

use crate::common::{Opt, getopt, prog_name};
use crate::upsmon_os::{
    self, ChildLink, ControlCommand, Notifier, Role, ShutdownPlan, pdflag, pidfile,
};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nut_client::io::ConnectOptions;
use nut_client::monitor::conf::{self, ConfError, Role as UpsRole, UpsmonConf};
use nut_client::monitor::io::blocking as monitor_io;
use nut_client::monitor::{Action, LogLevel, Monitor, Notification};
use nut_client::tls::TlsOptions;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Network timeout for each connection and each exchange (NUT's 10 s).
pub const NET_TIMEOUT: Duration = Duration::from_secs(10);

/// The command-line options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `-c fsd|stop|reload`.
    pub command: Option<ControlCommand>,
    /// `-P <pid>`.
    pub pid: Option<i64>,
    /// `-D` count.
    pub debug: u32,
    /// `-F` (true) / `-B` (false).
    pub foreground: Option<bool>,
    /// `-K`.
    pub check_flag: bool,
    /// `-p`: no privilege separation.
    pub single: bool,
    /// `-u <user>`.
    pub user: Option<String>,
    /// `-f <file>` (NUT accepts it, undocumented).
    pub config: Option<PathBuf>,
}

fn usage(prog: &str) -> String {
    format!(
        "usage: {prog} [OPTIONS]\n\n\
         \x20 -c <cmd>   send a command to the running upsmon: fsd, reload or stop\n\
         \x20 -P <pid>   send it to this process instead of the one in the PID file\n\
         \x20 -D         more debugging output (stays in the foreground)\n\
         \x20 -F         stay in the foreground\n\
         \x20 -B         go to the background even with debugging\n\
         \x20 -K         exit 0 when POWERDOWNFLAG is set, else 1\n\
         \x20 -p         one privileged process (no privilege separation)\n\
         \x20 -u <user>  run the monitoring process as <user>\n\
         \x20 -f <file>  read this upsmon.conf\n\
         \x20 -4, -6     accepted for NUT compatibility\n\
         \x20 -h         this help\n\
         \x20 -V         version\n"
    )
}

/// What `parse_args` decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Run with these options.
    Run(Options),
    /// Print this on stdout and exit 0 (`-h`, `-V`, a bad `-c`).
    Exit(String),
    /// An unknown option: print usage, exit 0 as NUT's `help()` does.
    Usage(String),
}

/// Parses NUT 2.8.0's `upsmon` options (`args[0]` is the program).
pub fn parse_args(args: &[String]) -> Parsed {
    let prog = prog_name(args.first(), "upsmon");
    let mut err = Vec::new();
    let (opts, _) = getopt(&prog, args.get(1..).unwrap_or(&[]), "DFBhic:P:f:pu:VK46", &mut err);
    let mut o = Options::default();
    for opt in opts {
        match opt {
            Opt::Bad => return Parsed::Usage(usage(&prog)),
            Opt::Flag(c, a) => match (c, a.unwrap_or_default()) {
                // NUT accepts any prefix: `-c f` is `-c fsd`.
                ('c', a) => match ["fsd", "stop", "reload"]
                    .iter()
                    .find(|c| !a.is_empty() && c.starts_with(&a))
                {
                    Some(c) => o.command = ControlCommand::parse(c),
                    None => return Parsed::Usage(usage(&prog)),
                },
                ('P', a) => match a.parse::<i64>() {
                    Ok(p) if p > 0 => o.pid = Some(p),
                    _ => return Parsed::Usage(usage(&prog)),
                },
                ('D', _) => o.debug += 1,
                ('F', _) => o.foreground = Some(true),
                ('B', _) => o.foreground = Some(false),
                ('f', a) => o.config = Some(PathBuf::from(a)),
                ('h', _) => return Parsed::Exit(usage(&prog)),
                ('K', _) => o.check_flag = true,
                ('p', _) => o.single = true,
                ('u', a) => o.user = Some(a),
                ('V', _) => return Parsed::Exit(String::new()),
                _ => {}
            },
        }
    }
    Parsed::Run(o)
}

/// `<NUT_CONFPATH or /etc/nut>/upsmon.conf`.
pub fn default_config_path() -> PathBuf {
    nut_daemon::paths::confpath().join("upsmon.conf")
}

/// Reads and parses `upsmon.conf`, logging every skipped line.
pub fn load_config(path: &Path) -> Result<UpsmonConf, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let parsed = conf::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())?;
    for w in &parsed.warnings {
        tracing::warn!("{w}");
    }
    Ok(parsed.conf)
}

/// The TLS options NUT's upsmon would use for `host`: STARTTLS is always
/// tried (required with `FORCESSL 1` or `CERTVERIFY 1`), `CERTHOST` lines
/// override per host.
pub fn tls_for(conf: &UpsmonConf, host: &str) -> TlsOptions {
    let t = &conf.tls;
    let (mut verify, mut force) = (t.cert_verify, t.force_ssl);
    let mut name = None;
    if let Some(h) = t.cert_hosts.iter().find(|h| h.host == host) {
        verify |= h.verify;
        force |= h.force_ssl;
        name = Some(h.cert_name.clone());
    }
    let mut o = if force || verify { TlsOptions::require() } else { TlsOptions::opportunistic() };
    o = o.verify(verify);
    if let Some(p) = &t.cert_path {
        o = o.ca_path(p);
    }
    if let (Some(n), true) = (name, verify) {
        o = o.server_name(n);
    }
    if let Some(f) = &t.cert_file {
        o = o.client_cert(f, f);
    }
    o
}

/// Where the shutdown request goes.
#[derive(Debug)]
pub enum ShutdownSink {
    /// Ask the privileged parent over the link.
    Parent(ChildLink),
    /// Do it ourselves (`-p`).
    Single(ShutdownPlan),
}

/// How the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The shutdown was requested or run.
    Shutdown,
    /// Stopped by a signal.
    Stopped,
    /// A reload found an impossible configuration.
    Fatal,
}

/// The running monitor: the library's runner (the state machine and its
/// connections), the notifier, the signals.
#[derive(Debug)]
pub struct Runner {
    inner: monitor_io::Runner,
    notifier: Notifier,
    sink: ShutdownSink,
    config_path: PathBuf,
}

fn flags_of(n: &Notification) -> upsmon_os::NotifyFlags {
    upsmon_os::NotifyFlags { syslog: n.flags.syslog(), wall: n.flags.wall(), exec: n.flags.exec() }
}

impl Runner {
    /// A runner for `conf` (read from `config_path`, re-read on SIGHUP).
    pub fn new(conf: UpsmonConf, config_path: PathBuf, sink: ShutdownSink) -> Self {
        for m in &conf.monitors {
            let role = if m.role == UpsRole::Primary { "primary" } else { "secondary" };
            if m.power_value > 0 {
                tracing::info!("UPS: {} ({role}) (power value {})", m.system, m.power_value);
            } else {
                tracing::info!("UPS: {} (monitoring only)", m.system);
            }
        }
        let inner = monitor_io::Runner::new(Monitor::new(conf, Instant::now()))
            .with_connect_options(|conf, server| {
                ConnectOptions::default()
                    .with_timeouts(NET_TIMEOUT, NET_TIMEOUT)
                    .with_tls(tls_for(conf, &server.host))
            });
        Runner { inner, notifier: Notifier::new("upsmon"), sink, config_path }
    }

    /// The state machine (for tests and embedders).
    pub fn monitor(&self) -> &Monitor {
        self.inner.monitor()
    }

    /// Runs until a shutdown or a stop signal. After a shutdown it waits
    /// for the queued NOTIFYCMDs (SHUTDOWN's among them) before returning.
    pub fn run(&mut self) -> Ending {
        let ending = self.run_loop();
        if matches!(ending, Ending::Shutdown) {
            self.notifier.wait_all();
        }
        ending
    }

    fn run_loop(&mut self) -> Ending {
        let mask = control_signals();
        let sfd = block_signals().and_then(|()| {
            SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        });
        let sfd = match sfd {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!("cannot watch signals: {e}");
                None
            }
        };
        loop {
            while let Some(sig) = sfd.as_ref().and_then(|s| s.read_signal().ok().flatten()) {
                match Signal::try_from(sig.ssi_signo as i32) {
                    Ok(Signal::SIGHUP) => {
                        if self.reload().is_err() {
                            return Ending::Fatal;
                        }
                    }
                    Ok(Signal::SIGUSR1) => {
                        tracing::info!("Signal {}: User requested FSD", sig.ssi_signo);
                        self.inner.monitor_mut().request_fsd(Instant::now());
                    }
                    Ok(s) => {
                        tracing::info!("Signal {}: exiting", s as i32);
                        self.logout_all();
                        return Ending::Stopped;
                    }
                    Err(_) => {}
                }
            }
            if self.run_actions() {
                return Ending::Shutdown;
            }
            if let ShutdownSink::Parent(link) = &self.sink {
                if !link.parent_alive() {
                    self.inner.monitor_mut().handle_parent_gone(Instant::now());
                    if self.run_actions() {
                        return Ending::Shutdown;
                    }
                }
            }
            self.notifier.reap();
            let wait = self.inner.next_wakeup().saturating_duration_since(Instant::now());
            match &sfd {
                Some(s) => {
                    let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
                    let mut fds = [nix::poll::PollFd::new(s.as_fd(), nix::poll::PollFlags::POLLIN)];
                    let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms));
                }
                None => std::thread::sleep(wait),
            }
        }
    }

    /// Carries out what is due (the network actions in the library's
    /// runner, the rest here); true once the shutdown was carried out.
    fn run_actions(&mut self) -> bool {
        while let Some(a) = self.inner.poll_action() {
            match a {
                Action::Notify(n) => {
                    tracing::debug!(kind = %n.kind, ups = %n.system, "notify");
                    let cmd = self.inner.monitor().conf().notify_cmd.clone();
                    let ups = (!n.system.is_empty()).then_some(n.system.as_str());
                    self.notifier.notify(
                        flags_of(&n),
                        cmd.as_deref(),
                        n.kind.name(),
                        ups,
                        &n.message,
                    );
                }
                Action::Alert(text) => {
                    tracing::error!("{text}");
                    upsmon_os::syslog::syslog(upsmon_os::Severity::Crit, "upsmon", &text);
                    self.notifier.wall(&text);
                }
                Action::Log(level, msg) => match level {
                    LogLevel::Info => tracing::info!("{msg}"),
                    LogLevel::Warning => tracing::warn!("{msg}"),
                    LogLevel::Critical => tracing::error!("{msg}"),
                },
                Action::Shutdown => {
                    match &mut self.sink {
                        ShutdownSink::Parent(link) => {
                            if let Err(e) = link.request_shutdown() {
                                tracing::error!("Unable to call parent pipe for shutdown: {e}");
                            }
                        }
                        ShutdownSink::Single(plan) => {
                            if !nix::unistd::geteuid().is_root() {
                                tracing::warn!("Not root, shutdown may fail");
                            }
                            plan.execute();
                        }
                    }
                    return true;
                }
                // Carried out by the library's runner.
                Action::Poll(_)
                | Action::SendFsd(_)
                | Action::QueryNumLogins(_)
                | Action::Disconnect(_) => {}
            }
        }
        false
    }

    fn logout_all(&mut self) {
        self.inner.logout_all();
        self.notifier.reap();
    }

    fn reload(&mut self) -> Result<(), ConfError> {
        tracing::info!("Reloading configuration");
        let conf = match load_config(&self.config_path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("Reload failed: {e}");
                return Ok(());
            }
        };
        let old = self.inner.monitor().conf();
        if matches!(self.sink, ShutdownSink::Parent(_))
            && (old.shutdown_cmd != conf.shutdown_cmd
                || old.power_down_flag != conf.power_down_flag)
        {
            tracing::warn!(
                "SHUTDOWNCMD or POWERDOWNFLAG redefined in split-process mode: restart upsmon for this change to work"
            );
        }
        if let Err(e) = self.inner.monitor_mut().reload(conf, Instant::now()) {
            tracing::error!("Fatal error: {e}; impossible power configuration, unable to continue");
            return Err(e);
        }
        Ok(())
    }
}

/// SIGHUP, SIGTERM, SIGINT, SIGQUIT and SIGUSR1: read from a `signalfd`.
fn control_signals() -> SigSet {
    let mut mask = SigSet::empty();
    for s in [Signal::SIGHUP, Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT, Signal::SIGUSR1] {
        mask.add(s);
    }
    mask
}

/// Blocks the control signals so that they wait for the loop (children
/// started through `std::process::Command` get an empty mask again).
fn block_signals() -> nix::Result<()> {
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&control_signals()), None)
}

/// Logs to standard error, or to syslog once in the background.
fn init_tracing(level: u32, background: bool) {
    let logging = nut_daemon::Logging::debug(level);
    if background {
        logging.init_bare(upsmon_os::syslog::Writer::new("upsmon"))
    } else {
        logging.init()
    }
}

/// The whole program; returns the exit code.
pub fn main(args: &[String]) -> i32 {
    // No blocked or ignored signal inherited: the signals read from the
    // signalfd must reach it (an ignored one is discarded by the kernel).
    let reset = nut_daemon::signals::reset(&[]);
    let is_child = std::env::var_os(upsmon_os::CHILD_ENV).is_some();
    let o = match parse_args(args) {
        Parsed::Run(o) => o,
        Parsed::Exit(text) | Parsed::Usage(text) => {
            println!("nut-rs upsmon {}", crate::VERSION);
            print!("{text}");
            return 0;
        }
    };
    if is_child {
        // `-c fsd` may arrive as soon as the parent wrote the PID file.
        let _ = block_signals();
    } else {
        println!("nut-rs upsmon {} (NUT 2.8 compatible)", crate::VERSION);
    }
    let foreground = o.foreground.unwrap_or(o.debug > 0);
    init_tracing(o.debug, !foreground && o.command.is_none() && !o.check_flag);
    if let Err(e) = reset {
        tracing::warn!("cannot reset the signal mask: {e}");
    }
    if let Some(cmd) = o.command {
        return match pidfile::send_command(cmd, o.pid, &pidfile::pid_file()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{e}");
                1
            }
        };
    }
    let config_path = o.config.clone().unwrap_or_else(default_config_path);
    let conf = match load_config(&config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Fatal error: {e}");
            return 1;
        }
    };
    if let Some(level) = conf.debug_min.filter(|&l| l > o.debug) {
        tracing::debug!("debug level raised to {level} by DEBUG_MIN");
    }
    // It holds passwords: said once, by the process started first.
    if !is_child && !o.check_flag {
        if let Some(w) = nut_daemon::paths::world_readable_warning(&config_path) {
            tracing::warn!("{w}");
        }
    }
    let flag = conf.power_down_flag.as_ref().map(PathBuf::from);
    if o.check_flag {
        return pdflag::check(flag.as_deref());
    }
    if is_child {
        return run_monitor(conf, config_path, &o);
    }
    if o.pid.is_none() && pidfile::is_running(&pidfile::pid_file()).unwrap_or(false) {
        println!("Fatal error: A previous upsmon instance is already running!");
        println!("Either stop the previous instance first, or use the 'reload' command.");
        return 1;
    }
    if conf.shutdown_cmd.is_none() {
        println!("Warning: no shutdown command defined!");
    }
    let flag = flag.as_deref().and_then(pdflag::clear_at_startup).map(Path::to_path_buf);
    if let Err(e) = conf.check_power() {
        println!("\nFatal error: insufficient power configured!\n");
        if let ConfError::InsufficientPower { total, min_supplies } = e {
            println!("Sum of power values........: {total}");
            println!("Minimum value (MINSUPPLIES): {min_supplies}");
        }
        println!("\nEdit your upsmon.conf and change the values.");
        return 1;
    }
    if !foreground {
        if let Err(e) = nix::unistd::daemon(true, false) {
            eprintln!("cannot go to the background: {e}");
            return 1;
        }
    }
    let plan = ShutdownPlan { powerdownflag: flag, shutdowncmd: conf.shutdown_cmd.clone() };
    if o.single {
        let _ = block_signals();
        tracing::info!("Warning: running as one big root process by request (upsmon -p)");
        if let Err(e) = pidfile::write_pid_file(&pidfile::pid_file(), std::process::id()) {
            tracing::warn!("cannot write the PID file: {e}");
        }
        return finish(Runner::new(conf, config_path, ShutdownSink::Single(plan)).run());
    }
    let user = o.user.clone().or(conf.run_as_user.clone()).unwrap_or_else(|| "nut".into());
    let drop_to = match upsmon_os::lookup_user(&user) {
        Ok(d) if nix::unistd::geteuid().is_root() => Some(d),
        Ok(_) => None,
        Err(e) => {
            eprintln!("Fatal error: user {user}: {e}");
            return 1;
        }
    };
    match Role::start(false, drop_to) {
        Ok(Role::Parent(p)) => {
            if let Err(e) = pidfile::write_pid_file(&pidfile::pid_file(), p.child_pid()) {
                tracing::warn!("cannot write the PID file: {e}");
            }
            p.run(&plan).code()
        }
        Ok(_) => 1,
        Err(e) => {
            eprintln!("Fatal error: cannot start the monitoring process: {e}");
            1
        }
    }
}

fn run_monitor(conf: UpsmonConf, config_path: PathBuf, _o: &Options) -> i32 {
    let link = match ChildLink::from_env() {
        Some(Ok(l)) => l,
        _ => {
            eprintln!("Fatal error: no link to the privileged parent");
            return 1;
        }
    };
    finish(Runner::new(conf, config_path, ShutdownSink::Parent(link)).run())
}

fn finish(e: Ending) -> i32 {
    match e {
        Ending::Shutdown | Ending::Stopped => 0,
        Ending::Fatal => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        let Parsed::Run(o) =
            parse_args(&a(&["upsmon", "-D", "-D", "-p", "-u", "root", "-c", "fsd"]))
        else {
            panic!()
        };
        assert_eq!((o.debug, o.single, o.user.as_deref()), (2, true, Some("root")));
        assert_eq!(o.command, ControlCommand::parse("fsd"));
        assert!(matches!(parse_args(&a(&["upsmon", "-c", "bogus"])), Parsed::Usage(_)));
        assert!(matches!(parse_args(&a(&["upsmon", "-x"])), Parsed::Usage(_)));
        assert!(matches!(parse_args(&a(&["upsmon", "-h"])), Parsed::Exit(_)));
    }

    #[test]
    fn tls_mapping() {
        let c = conf::parse("c", b"CERTHOST h1 srv 1 1\nCERTPATH /ca\n").unwrap().conf;
        let t = tls_for(&c, "h1");
        assert_eq!((t.mode, t.verify), (TlsOptions::require().mode, true));
        assert_eq!(t.server_name.as_deref(), Some("srv"));
        let t = tls_for(&c, "h2");
        assert_eq!((t.mode, t.verify), (TlsOptions::opportunistic().mode, false));
    }
}
