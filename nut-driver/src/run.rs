//! One `main` for every driver: NUT's driver command line (`drivers/main.c`:
//! `-a <ups>`, `-s <ups>`, `-x key=value`, `-D`, `-d <n>`, `-k`, `-u`, `-g`,
//! `-r`, `-c reload|exit`, `-F`, `-B`, `-i`, `-L`, `-V`, `-h`), `ups.conf`,
//! the PID file, the socket, privilege drop and the daemon adapter.
//!
//! A driver binary is its [`DriverProgram`] and a `main` of one line:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     nut_driver::run::run::<MyDriver>()
//! }
//! ```

use crate::core::{Driver, DriverConfig};
use crate::device::{Device, DeviceError};
use crate::dstate::Dstate;
use crate::io::{Exit, SocketFile, bind_socket, serve_blocking};
use crate::params::{DriverParams, ParamError, UpsConfGlobal, VarKind, VarSpec};
use crate::poll::{Poller, Timing};
use crate::server::{SocketConfig, SocketServer};
use nut_daemon::getopt::{Arg, getopt};
use nut_daemon::pidfile::{self, PidFile};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const SPEC: &str = "+a:s:kFBDd:hx:Lqr:u:g:Vi:c:";

/// What a driver program is: its names, its options, and how it makes its
/// device from the settings.
pub trait DriverProgram {
    /// The device type.
    type Device: Device;
    /// The program name (`dummy-ups`, `usbhid-ups`), also the `driver`
    /// value in `ups.conf` and the first part of the socket name.
    const NAME: &'static str;
    /// The description in the banner (`Device simulation and repeater
    /// driver`).
    const DESCRIPTION: &'static str;
    /// The driver's own version, published as `driver.version.internal`.
    const VERSION: &'static str;
    /// The settings this driver accepts beyond the common ones; anything
    /// else in `ups.conf` or `-x` is refused, as NUT refuses it.
    const OPTIONS: &'static [VarSpec];

    /// The timing for these settings: by default `pollinterval` and no
    /// separate full-update period.
    fn timing(params: &DriverParams) -> Result<Timing, ParamError> {
        Ok(Timing { poll_interval: params.poll_interval(), ..Timing::default() })
    }

    /// Checks the settings and makes the device (not yet connected).
    fn create(params: &DriverParams, env: &Env) -> Result<Self::Device, DeviceError>;

    /// Publishes what the driver main publishes after the first update,
    /// beyond `driver.parameter.pollinterval` (for example
    /// `driver.parameter.synchronous`).
    fn after_start(params: &DriverParams, st: &mut Dstate) {
        st.setinfo("driver.parameter.synchronous", params.synchronous.as_str());
    }

    /// Applies a SIGHUP reload: `new` are the settings read again. By
    /// default the published `driver.parameter.*`/`driver.flag.*` and the
    /// poll interval change; a changed port is only logged.
    fn reload(poller: &mut Poller<Self::Device>, old: &DriverParams, new: &DriverParams) {
        default_reload(poller, old, new);
    }
}

/// What [`DriverProgram::reload`] does by default: publishes the
/// `driver.parameter.*`/`driver.flag.*` read again and applies a changed
/// poll interval; a changed port is only logged (it needs a restart).
pub fn default_reload<D: Device>(poller: &mut Poller<D>, old: &DriverParams, new: &DriverParams) {
    if new.port != old.port {
        tracing::warn!("reload: port or mode changed; restart the driver to apply");
    }
    let mut scratch = Dstate::new();
    new.publish(&mut scratch);
    poller.with_state(|_, st| {
        for (name, v) in scratch.tree().vars() {
            if name.starts_with("driver.parameter.") || name.starts_with("driver.flag.") {
                st.setinfo(name, &v.value);
            }
        }
    });
    if new.poll_interval() != poller.timing().poll_interval {
        poller.set_poll_interval(new.poll_interval(), Instant::now());
    }
}

/// Where the driver runs.
#[derive(Clone, Debug)]
pub struct Env {
    /// The configuration directory (absolute).
    pub confpath: PathBuf,
    /// The state directory (sockets).
    pub statepath: PathBuf,
    /// The driver runs for `-k` (connect, shut the UPS down, exit): some
    /// devices skip their identification then, as NUT's drivers do.
    pub kill_power: bool,
}

/// Why the driver stopped before serving.
#[derive(Debug)]
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

/// What the command line asked for.
#[derive(Debug, Default)]
pub struct Options {
    /// `-a` or `-s`.
    pub upsname: Option<String>,
    /// `-k`
    pub kill_power: bool,
    /// `-F` (Some(false)) / `-B` (Some(true)).
    pub background: Option<bool>,
    /// Number of `-D`.
    pub debug: u32,
    /// `-d <n>`
    pub dump: Option<u32>,
    /// `-c`
    pub signal_cmd: Option<String>,
    /// `-r <dir>`
    pub chroot: Option<String>,
    /// The parsed settings.
    pub params: DriverParams,
    /// The global part of ups.conf (`-a`).
    pub global: UpsConfGlobal,
}

/// The banner every driver prints first.
pub fn banner(desc: &str, version: &str) -> String {
    format!("Network UPS Tools - {desc} {version} ({})", crate::NUT_VERSION)
}

/// The `-h` text.
pub fn help(progname: &str, vars: &[VarSpec]) -> String {
    let mut s = format!(
        "\nusage: {progname} (-a <id>|-s <id>) [OPTIONS]\n\
  -a <id>        - autoconfig using ups.conf section <id>\n\
                 - note: -x after -a overrides ups.conf settings\n\
  -s <id>        - configure directly from cmd line arguments\n\
  -V             - print version, then exit\n\
  -L             - print parseable list of driver variables\n\
  -D             - raise debugging level (and stay foreground by default)\n\
  -d <count>     - dump data to stdout after 'count' updates loop and exit\n\
  -F             - stay foregrounded even if no debugging is enabled\n\
  -B             - stay backgrounded even if debugging is bumped\n\
  -h             - display this help\n\
  -k             - force shutdown\n\
  -i <int>       - poll interval\n\
  -r <dir>       - chroot to <dir>\n\
  -u <user>      - switch to <user> (if started as root)\n\
  -g <group>     - set group for the socket and PID file\n\
  -c <command>   - send <command> (reload or exit) to the running driver\n\
  -x <var>=<val> - set driver variable <var> to <val>\n\n\
Acceptable values for -x or ups.conf in this driver:\n\n"
    );
    for v in vars {
        match v.kind {
            VarKind::Value => s.push_str(&format!("{:>40} : -x {}=<value>\n", v.desc, v.name)),
            VarKind::Flag => s.push_str(&format!("{:>40} : -x {}\n", v.desc, v.name)),
        }
    }
    s
}

/// Reads and parses `<confpath>/ups.conf`, logging syntax errors (their
/// lines are skipped, as NUT does).
pub fn read_ups_conf() -> std::io::Result<nut_proto::config::upsconf::UpsConf> {
    let path = nut_daemon::paths::confpath().join("ups.conf");
    let bytes = std::fs::read(&path).map_err(|e| {
        std::io::Error::new(e.kind(), format!("can't open {}: {e}", path.display()))
    })?;
    let conf = nut_proto::config::upsconf::UpsConf::parse(&path.display().to_string(), &bytes);
    for e in &conf.errors {
        tracing::error!("parse error: {e}");
    }
    Ok(conf)
}

/// Parses the command line, reading ups.conf for `-a`. Returns `Ok(None)`
/// when the program is done (`-V`, `-h`, `-L`).
pub fn parse_args(
    progname: &str,
    args: &[String],
    vars: &[VarSpec],
) -> Result<Option<Options>, Fatal> {
    let mut o = Options { params: DriverParams::new(progname, ""), ..Options::default() };
    for a in getopt(args, SPEC).map_err(|e| Fatal(format!("{e}. Try -h for help.")))? {
        match a {
            Arg::Operand(_) => {
                return Err(Fatal("too many non-option arguments. Try -h for help.".into()));
            }
            Arg::Opt('a', Some(ups)) => {
                o.params.upsname = ups.clone();
                o.upsname = Some(ups);
                let conf = read_ups_conf()?;
                o.global = UpsConfGlobal::from_conf(&conf);
                o.params.read_ups_conf(&conf, vars)?;
            }
            Arg::Opt('s', Some(ups)) => {
                o.params.upsname = ups.clone();
                o.upsname = Some(ups);
            }
            Arg::Opt('F', _) => o.background = Some(false),
            Arg::Opt('B', _) => o.background = Some(true),
            Arg::Opt('D', _) => o.debug += 1,
            Arg::Opt('q', _) => {}
            Arg::Opt('r', Some(dir)) => o.chroot = Some(dir),
            Arg::Opt('g', Some(g)) => o.params.group = Some(g),
            Arg::Opt('d', Some(n)) => o.dump = Some(n.parse().unwrap_or(0)),
            Arg::Opt('i', Some(n)) => match n.parse::<u64>() {
                Ok(n) if n > 0 => o.params.poll_interval = Some(Duration::from_secs(n)),
                _ => return Err(Fatal(format!("command-line: invalid pollinterval: {n}"))),
            },
            Arg::Opt('k', _) => o.kill_power = true,
            Arg::Opt('u', Some(u)) => {
                o.params.user = Some(u);
                o.params.user_from_cmdline = true;
            }
            Arg::Opt('c', Some(c)) => o.signal_cmd = Some(c),
            Arg::Opt('x', Some(x)) => o.params.x_arg(&x, vars)?,
            Arg::Opt('L', _) => {
                for v in vars {
                    let kind = if v.kind == VarKind::Value { "VALUE" } else { "FLAG" };
                    println!("{kind} {} \"{}\"", v.name, v.desc);
                }
                return Ok(None);
            }
            Arg::Opt('V', _) => return Ok(None),
            Arg::Opt('h', _) => {
                println!("{}", help(progname, vars));
                return Ok(None);
            }
            Arg::Opt(c, _) => return Err(Fatal(format!("unknown option -{c}. Try -h for help."))),
        }
    }
    if o.chroot.is_none() {
        o.chroot = o.params.chroot.clone();
    }
    if o.upsname.is_none() && o.signal_cmd.is_none() {
        return Err(Fatal(
            "specifying '-a id' or '-s id' is now mandatory. Try -h for help.".into(),
        ));
    }
    Ok(Some(o))
}

fn pid_path(o: &Options, progname: &str) -> PathBuf {
    nut_daemon::paths::altpidpath(o.global.statepath.as_deref())
        .join(format!("{progname}-{}.pid", o.upsname.as_deref().unwrap_or("")))
}

/// Signals the driver whose PID file is `path`, after checking that the
/// PID is usable and belongs to `progname`.
fn signal_driver(path: &Path, progname: &str, sig: nix::sys::signal::Signal) -> Result<i32, Fatal> {
    let pid = pidfile::read_pid(path)?;
    pidfile::is_program(pid, &[progname])
        .map_err(|e| Fatal(format!("{}: {e} ({progname}); not signalling it", path.display())))?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig)?;
    Ok(pid)
}

/// Runs the driver `P` with the process's command line; the whole `main`
/// of a driver binary.
pub fn run<P: DriverProgram>() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run_with_args::<P>(&args)
}

/// [`run`] with these arguments (without the program name).
pub fn run_with_args<P: DriverProgram>(args: &[String]) -> ExitCode {
    {
        use nix::sys::signal::Signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
        let handled = [SIGTERM, SIGINT, SIGQUIT, SIGHUP];
        if let Err(e) = nut_daemon::signals::reset(&handled)
            .and_then(|_| nut_daemon::signals::catch_early(&handled))
        {
            eprintln!("warning: cannot set up signals: {e}");
        }
    }
    println!("{}", banner(P::DESCRIPTION, P::VERSION));
    match run_inner::<P>(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fatal(msg)) => {
            tracing::error!("{msg}");
            eprintln!("Fatal error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Publishes what NUT's driver main publishes before the device is
/// opened: `driver.*`, `device.type` and the settings.
pub fn initial_state<P: DriverProgram>(params: &DriverParams) -> Dstate {
    let mut st = Dstate::new();
    params.publish(&mut st);
    crate::publish_driver_info(&mut st, P::NAME, P::VERSION);
    st
}

/// Makes the device and starts a one-thread [`Driver`] (for `-d` and
/// tests): connect, first update, and what the main publishes after it.
pub fn start_driver<P: DriverProgram>(
    params: &DriverParams,
    env: &Env,
    now: Instant,
) -> Result<Driver<P::Device>, Fatal> {
    let device = P::create(params, env)?;
    let config = DriverConfig { timing: P::timing(params)?, socket: SocketConfig::default() };
    let mut d = Driver::new(device, initial_state::<P>(params), config);
    d.start(now)?;
    d.with_state(|_, st| P::after_start(params, st));
    Ok(d)
}

fn run_inner<P: DriverProgram>(args: &[String]) -> Result<(), Fatal> {
    let progname = P::NAME;
    let Some(o) = parse_args(progname, args, P::OPTIONS)? else { return Ok(()) };
    nut_daemon::init_logging(o.debug.max(o.params.debug_min.unwrap_or(0)));
    if let Some(cmd) = &o.signal_cmd {
        let sig = match cmd.as_str() {
            "reload" => nix::sys::signal::Signal::SIGHUP,
            "exit" | "stop" => nix::sys::signal::Signal::SIGTERM,
            other => return Err(Fatal(format!("unknown -c command {other}: use reload or exit"))),
        };
        let pid = signal_driver(&pid_path(&o, progname), progname, sig)?;
        tracing::info!(pid, "sent {sig}");
        return Ok(());
    }
    o.params.check()?;
    let statepath = nut_daemon::paths::statepath(o.global.statepath.as_deref());
    let env = Env {
        confpath: std::env::current_dir()?.join(nut_daemon::paths::confpath()),
        statepath,
        kill_power: o.kill_power,
    };
    let pidfn = pid_path(&o, progname);
    if o.kill_power {
        tracing::info!("Initiating UPS shutdown");
        let device = P::create(&o.params, &env)?;
        let mut poller = Poller::new(device, initial_state::<P>(&o.params), P::timing(&o.params)?);
        return poller.kill_power(Instant::now()).map_err(Fatal::from);
    }
    if let Some(n) = o.dump {
        let mut driver = start_driver::<P>(&o.params, &env, Instant::now())?;
        for _ in 0..n {
            driver.handle_timeout(Instant::now() + Duration::from_secs(3600));
        }
        print!("{}", driver.dstate().upsc_dump());
        return Ok(());
    }
    // The device is opened (and read once) with the privileges the driver
    // was started with, then they are dropped, as NUT does.
    let now = Instant::now();
    let device = P::create(&o.params, &env)?;
    let timing = P::timing(&o.params)?;
    let mut poller = Poller::new(device, initial_state::<P>(&o.params), timing);
    poller.start(now)?;
    while let Some(e) = poller.poll_event() {
        tracing::warn!("{e:?}");
    }
    poller.with_state(|_, st| P::after_start(&o.params, st));
    let mut server = SocketServer::new(SocketConfig::default());
    server.apply_updates(&poller.take_updates());

    let upsname = o.upsname.clone().unwrap_or_default();
    let sock_path = env.statepath.join(crate::io::socket_name(progname, &upsname));
    std::env::set_current_dir(&env.statepath)
        .map_err(|e| Fatal(format!("can't chdir to {}: {e}", env.statepath.display())))?;
    stop_old_instance(&pidfn, progname);
    // As upsd: the user named by -u or `user`, else `nut` when started as
    // root; looked up before the chroot.
    let run_user = nut_daemon::privs::run_as(o.params.user.as_deref(), "nut")
        .map_err(|e| Fatal(format!("{e} (use -u to choose the user to run as)")))?;
    let group = match &o.params.group {
        Some(g) => Some(
            nix::unistd::Group::from_name(g)?
                .ok_or_else(|| Fatal(format!("group {g} not found")))?
                .gid,
        ),
        None => None,
    };
    if let Some(dir) = &o.chroot {
        nut_daemon::privs::enter_chroot(Path::new(dir))
            .map_err(|e| Fatal(format!("chroot {dir}: {e}")))?;
    }
    if let Some(user) = &run_user {
        nut_daemon::privs::switch_to(user, nut_daemon::privs::Groups::Primary)
            .map_err(|e| Fatal(format!("can't become user {}: {e}", user.name)))?;
    }
    let background = o.background.unwrap_or(o.debug == 0);
    // Bound before backgrounding, so that a parent that waits for us
    // (upsdrvctl) returns when the socket is ready.
    let std_listener = bind_socket(&sock_path)
        .map_err(|e| Fatal(format!("bind {} failed: {e}", sock_path.display())))?;
    // `-g`/`group`: the socket's group, so that upsd running in it can
    // connect (NUT sets the socket's group the same way).
    if let Some(gid) = group {
        nix::unistd::chown(&sock_path, None, Some(gid))
            .map_err(|e| Fatal(format!("chgrp {}: {e}", sock_path.display())))?;
    }
    if background {
        nix::unistd::daemon(true, false)?;
    }
    let _pid = PidFile::create(pidfn)?;
    let _sock = SocketFile(sock_path.clone());
    // Two plain threads (this one serves the socket, one runs the device):
    // no async runtime and no worker threads.
    let params = o.params.clone();
    tracing::info!(socket = %sock_path.display(), "listening");
    let reload = Box::new(move |p: &mut Poller<P::Device>| reload::<P>(p, &params));
    let exit = serve_blocking(poller, server, std_listener, reload)?;
    match exit {
        Exit::Fatal(e) => Err(Fatal(e.to_string())),
        exit => {
            tracing::info!("{exit:?}: exiting");
            Ok(())
        }
    }
}

fn reload<P: DriverProgram>(poller: &mut Poller<P::Device>, old: &DriverParams) {
    if old.upsname.is_empty() {
        return;
    }
    let conf = match read_ups_conf() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("reload: {e}");
            return;
        }
    };
    let mut new = DriverParams::new(P::NAME, &old.upsname);
    if let Err(e) = new.read_ups_conf(&conf, P::OPTIONS) {
        tracing::error!("reload: {e}");
        return;
    }
    P::reload(poller, old, &new);
}

fn stop_old_instance(pidfn: &Path, progname: &str) {
    let Ok(pid) = pidfile::read_pid(pidfn) else { return };
    if pid == std::process::id() as i32
        || !pidfile::alive(pid)
        || pidfile::is_program(pid, &[progname]).is_err()
    {
        return;
    }
    tracing::warn!(
        "Duplicate driver instance detected (PID file {} exists)! Terminating other driver!",
        pidfn.display()
    );
    let _ =
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
    for _ in 0..50 {
        if !pidfile::alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
