//! The command line shared by every driver (NUT's `drivers/main.c`):
//! `-a <ups>`, `-s <ups>`, `-x key=value`, `-D`, `-d <n>`, `-k`, `-u`,
//! `-c reload|exit`, `-F`, `-B`, `-i`, `-L`, `-V`, `-h`.

use crate::getopt::{Arg, getopt};
use nut_server::driver::dummy::{self, DummyUps};
use nut_server::driver::io::{PidFile, SocketFile, bind_socket_std, read_pid, socket_name};
use nut_server::driver::params::{DriverParams, VarKind, VarSpec};
use nut_server::driver::{Driver, Dstate, NUT_VERSION};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const SPEC: &str = "+a:s:kFBDd:hx:Lqr:u:g:Vi:c:";

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
    /// `-a` was used (ups.conf read).
    pub from_conf: bool,
    /// `-k`
    pub kill_power: bool,
    /// `-F` (Some(false)) / `-B` (Some(true)).
    pub background: Option<bool>,
    /// Number of `-D`.
    pub debug: u32,
    /// `-d <n>`
    pub dump: Option<u32>,
    /// `-u`
    pub user: Option<String>,
    /// `-c`
    pub signal_cmd: Option<String>,
    /// The parsed settings.
    pub params: DriverParams,
    /// statepath from ups.conf.
    pub conf_statepath: Option<String>,
}

fn banner(desc: &str, version: &str) -> String {
    format!("Network UPS Tools - {desc} {version} ({NUT_VERSION})")
}

fn help(progname: &str, vars: &[VarSpec]) -> String {
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
  -u <user>      - switch to <user> (if started as root)\n\
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

/// Parses the command line, reading ups.conf for `-a`. Returns `Ok(None)`
/// when the program is done (`-V`, `-h`, `-L`).
pub fn parse_args(
    progname: &str,
    args: &[String],
    vars: &[VarSpec],
    st: &mut Dstate,
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
                o.from_conf = true;
                let conf = crate::read_ups_conf()?;
                o.conf_statepath =
                    nut_server::driver::params::UpsConfGlobal::from_conf(&conf).statepath;
                o.params.read_ups_conf(&conf, vars, st)?;
            }
            Arg::Opt('s', Some(ups)) => {
                o.params.upsname = ups.clone();
                o.upsname = Some(ups);
            }
            Arg::Opt('F', _) => o.background = Some(false),
            Arg::Opt('B', _) => o.background = Some(true),
            Arg::Opt('D', _) => o.debug += 1,
            Arg::Opt('q', _) | Arg::Opt('r', _) | Arg::Opt('g', _) => {}
            Arg::Opt('d', Some(n)) => o.dump = Some(n.parse().unwrap_or(0)),
            Arg::Opt('i', Some(n)) => match n.parse::<u64>() {
                Ok(n) if n > 0 => o.params.poll_interval = Some(Duration::from_secs(n)),
                _ => return Err(Fatal(format!("command-line: invalid pollinterval: {n}"))),
            },
            Arg::Opt('k', _) => o.kill_power = true,
            Arg::Opt('u', Some(u)) => {
                o.params.user = Some(u.clone());
                o.params.user_from_cmdline = true;
                o.user = Some(u);
            }
            Arg::Opt('c', Some(c)) => o.signal_cmd = Some(c),
            Arg::Opt('x', Some(x)) => o.params.x_arg(&x, vars, st)?,
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
    if o.upsname.is_none() && o.signal_cmd.is_none() {
        return Err(Fatal(
            "specifying '-a id' or '-s id' is now mandatory. Try -h for help.".into(),
        ));
    }
    Ok(Some(o))
}

fn pid_path(o: &Options, progname: &str) -> PathBuf {
    crate::altpidpath(o.conf_statepath.as_deref())
        .join(format!("{progname}-{}.pid", o.upsname.as_deref().unwrap_or("")))
}

fn send_signal(path: &Path, sig: nix::sys::signal::Signal) -> Result<i32, Fatal> {
    let pid = read_pid(path).map_err(|e| Fatal(format!("{}: {e}", path.display())))?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig)?;
    Ok(pid)
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

fn become_user(user: &str) -> Result<(), Fatal> {
    use nix::unistd::{Uid, User, setgid, setgroups, setuid};
    if !Uid::effective().is_root() {
        return Ok(());
    }
    let u = User::from_name(user)?.ok_or_else(|| Fatal(format!("user {user} not found")))?;
    if u.uid.is_root() {
        return Ok(());
    }
    setgroups(&[u.gid])?;
    setgid(u.gid)?;
    setuid(u.uid)?;
    Ok(())
}

/// Runs `dummy-ups` with these arguments (without the program name).
pub fn run_dummy_ups(args: &[String]) -> ExitCode {
    let progname = "dummy-ups";
    println!("{}", banner("Device simulation and repeater driver", dummy::DRIVER_VERSION));
    match run(progname, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fatal(msg)) => {
            tracing::error!("{msg}");
            eprintln!("Fatal error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(progname: &'static str, args: &[String]) -> Result<(), Fatal> {
    let mut st = Dstate::new();
    let Some(o) = parse_args(progname, args, dummy::VARS, &mut st)? else { return Ok(()) };
    crate::init_logging(o.debug.max(o.params.debug_min.unwrap_or(0)));
    if let Some(cmd) = &o.signal_cmd {
        let sig = match cmd.as_str() {
            "reload" => nix::sys::signal::Signal::SIGHUP,
            "exit" | "stop" => nix::sys::signal::Signal::SIGTERM,
            other => return Err(Fatal(format!("unknown -c command {other}: use reload or exit"))),
        };
        let pid = send_signal(&pid_path(&o, progname), sig)?;
        tracing::info!(pid, "sent {sig}");
        return Ok(());
    }
    o.params.check()?;
    if let Some(user) = &o.params.user {
        become_user(user)?;
    }
    let statepath = crate::statepath(o.conf_statepath.as_deref());
    let confpath = std::env::current_dir()?.join(crate::confpath());
    let pidfn = pid_path(&o, progname);
    if o.kill_power {
        tracing::info!("Initiating UPS shutdown");
        let mut driver = dummy::start_dummy_ups(&o.params, st, &confpath, Instant::now())?;
        return driver.shutdown_ups().map_err(Fatal::from);
    }
    if let Some(n) = o.dump {
        let mut driver = dummy::start_dummy_ups(&o.params, st, &confpath, Instant::now())?;
        for _ in 0..n {
            driver.handle_timeout(Instant::now() + Duration::from_secs(3600));
        }
        print!("{}", driver.dstate().upsc_dump());
        return Ok(());
    }
    std::env::set_current_dir(&statepath)
        .map_err(|e| Fatal(format!("can't chdir to {}: {e}", statepath.display())))?;
    stop_old_instance(&pidfn);
    let driver = dummy::start_dummy_ups(&o.params, st, &confpath, Instant::now())?;
    let upsname = o.upsname.clone().unwrap_or_default();
    let sock_path = statepath.join(socket_name(progname, &upsname));
    let background = o.background.unwrap_or(o.debug == 0);
    let std_listener = {
        // Bound before backgrounding, so that a parent that waits for us
        // (upsdrvctl) returns when the socket is ready.
        let l = bind_socket_std(&sock_path)
            .map_err(|e| Fatal(format!("bind {} failed: {e}", sock_path.display())))?;
        if background {
            nix::unistd::daemon(true, false)?;
        }
        l
    };
    let _pid = PidFile::create(pidfn)?;
    let _sock = SocketFile(sock_path.clone());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let exit = rt.block_on(async move {
        let listener = tokio::net::UnixListener::from_std(std_listener)?;
        tracing::info!(socket = %sock_path.display(), "listening");
        let reload_params = o.params.clone();
        nut_server::driver::io::serve(driver, listener, move |d| {
            reload(d, &reload_params, progname)
        })
        .await
    })?;
    tracing::info!("{exit:?}: exiting");
    Ok(())
}

fn stop_old_instance(pidfn: &Path) {
    let Ok(pid) = read_pid(pidfn) else { return };
    if pid == std::process::id() as i32 || !alive(pid) {
        return;
    }
    tracing::warn!(
        "Duplicate driver instance detected (PID file {} exists)! Terminating other driver!",
        pidfn.display()
    );
    let _ =
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
    for _ in 0..50 {
        if !alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SIGHUP: reads ups.conf again and applies what can change while running
/// (poll interval, published parameters); a changed port or mode needs a
/// restart and is only logged.
fn reload(d: &mut Driver<DummyUps>, old: &DriverParams, progname: &str) {
    if old.upsname.is_empty() {
        return;
    }
    let conf = match crate::read_ups_conf() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("reload: {e}");
            return;
        }
    };
    let mut scratch = Dstate::new();
    let mut p = DriverParams::new(progname, &old.upsname);
    if let Err(e) = p.read_ups_conf(&conf, dummy::VARS, &mut scratch) {
        tracing::error!("reload: {e}");
        return;
    }
    if p.port != old.port || p.get("mode") != old.get("mode") {
        tracing::warn!("reload: port or mode changed; restart the driver to apply");
    }
    d.with_state(|_, st| {
        for (name, v) in scratch.tree().vars() {
            if name.starts_with("driver.parameter.") || name.starts_with("driver.flag.") {
                st.setinfo(name, &v.value);
            }
        }
    });
    if p.poll_interval() != d.config().poll_interval {
        d.set_poll_interval(p.poll_interval());
    }
}
