//! `upsdrvctl start|stop|shutdown [ups]`: starts, stops or runs the
//! power-off (`-k`) of the drivers configured in ups.conf, as NUT's
//! `drivers/upsdrvctl.c` does.
//!
//! * `start` runs `<driver> [-DD..] [-B|-F|-FF] -a <ups> [-r <dir>] [-u
//!   <user>]` for each UPS in file order and waits up to `maxstartdelay`
//!   for it to background itself, retrying `maxretry` times `retrydelay`
//!   apart (the global `nowait` flag: no wait at all).
//! * `shutdown` runs `<driver> -a <ups> -k [-r <dir>] [-u <user>]`, for
//!   every UPS by `sdorder` group (0, 1, ... up to the largest; a negative
//!   `sdorder` is never shut down, unless that UPS is named), in file order
//!   within a group, each run waited for up to its `maxstartdelay` before
//!   the next one starts.
//! * `-F` / `-FF` (NUT 2.8.1+): the drivers stay in the foreground (`-FF`:
//!   and still write their PID file). One driver: `upsdrvctl` becomes it
//!   (exec). Several: they are started without waiting and `upsdrvctl`
//!   stays with them; SIGTERM, SIGINT or SIGQUIT stops them all (exit 0),
//!   and when one exits the others are stopped (exit 1).

use nut_daemon::getopt::{Arg, getopt};
use nut_daemon::pidfile::read_pid;
use nut_driver::params::UpsConfGlobal;
use nut_proto::config::upsconf::UpsConf;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

/// One configured UPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsEntry {
    /// Section name.
    pub name: String,
    /// `driver`
    pub driver: String,
    /// `port`
    pub port: String,
    /// `sdorder` (0 by default; negative: never shut down).
    pub sdorder: i32,
    /// `maxstartdelay` for this UPS, if set (negative: no limit).
    pub maxstartdelay: Option<i32>,
}

/// The UPSes of ups.conf that have both `driver` and `port`, in file order.
pub fn entries(conf: &UpsConf) -> Vec<UpsEntry> {
    conf.sections
        .iter()
        .filter_map(|s| {
            Some(UpsEntry {
                name: s.name.clone(),
                driver: s.driver.clone()?,
                port: s.port.clone()?,
                sdorder: s.sdorder,
                maxstartdelay: s.maxstartdelay,
            })
        })
        .collect()
}

/// The order `upsdrvctl shutdown` (all UPSes) uses: the `sdorder` groups
/// 0, 1, ... up to the largest, each in file order; negative ones never.
pub fn shutdown_order(list: &[UpsEntry]) -> Vec<&UpsEntry> {
    let max = list.iter().map(|u| u.sdorder).max().unwrap_or(0);
    (0..=max).flat_map(|i| list.iter().filter(move |u| u.sdorder == i)).collect()
}

/// Finds a driver program: next to this executable first, then in
/// `driverpath` (ups.conf), then in Debian's driver directory.
pub fn find_driver(driver: &str, driverpath: Option<&str>) -> Option<PathBuf> {
    if driver.contains('/') {
        return None;
    }
    let own = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf));
    own.into_iter()
        .chain(driverpath.map(PathBuf::from))
        .chain(std::iter::once(PathBuf::from(nut_daemon::paths::DEFAULT_DRIVERPATH)))
        .map(|d| d.join(driver))
        .find(|p| p.is_file())
}

/// How the drivers started are told to run (`-B`, `-F`, `-FF`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Foreground {
    /// Neither given: the driver decides (background unless debugging).
    #[default]
    Default,
    /// `-B`: background.
    Background,
    /// `-F`: foreground.
    Foreground,
    /// `-FF`: foreground, and the PID file is written anyway.
    ForegroundPidFile,
}

impl Foreground {
    fn arg(self) -> Option<&'static str> {
        match self {
            Foreground::Default => None,
            Foreground::Background => Some("-B"),
            Foreground::Foreground => Some("-F"),
            Foreground::ForegroundPidFile => Some("-FF"),
        }
    }

    fn stays(self) -> bool {
        matches!(self, Foreground::Foreground | Foreground::ForegroundPidFile)
    }
}

/// How a waited-for driver run ended.
enum Outcome {
    Exited(i32),
    Signaled,
    TimedOut,
    NotStarted(std::io::Error),
}

struct Ctl {
    testing: bool,
    root: Option<String>,
    user: Option<String>,
    debug: u32,
    pass_debug: bool,
    foreground: Foreground,
    global: UpsConfGlobal,
    /// How many UPSes this run handles (NUT's `upscount`).
    count: usize,
    /// Drivers started and not waited for (foreground mode).
    children: Vec<(String, Child)>,
}

impl Ctl {
    fn note(&self, msg: &str) {
        if self.testing {
            eprintln!("{msg}");
        } else {
            tracing::debug!("{msg}");
        }
    }

    fn command(&self, exe: &Path, args: &[String]) -> Command {
        let mut cmd = Command::new(exe);
        cmd.args(args);
        self.note(&format!("exec:  {} {}", exe.display(), args.join(" ")));
        cmd
    }

    fn tail_args(&self, args: &mut Vec<String>) {
        if let Some(r) = &self.root {
            args.extend(["-r".into(), r.clone()]);
        }
        if let Some(u) = &self.user {
            args.extend(["-u".into(), u.clone()]);
        }
    }

    fn limit(&self, ups: &UpsEntry) -> Option<Duration> {
        let secs = ups.maxstartdelay.unwrap_or(self.global.maxstartdelay);
        u64::try_from(secs).ok().map(Duration::from_secs)
    }

    fn start(&mut self, ups: &UpsEntry) -> bool {
        self.note(&format!("Starting UPS: {}", ups.name));
        let Some(exe) = find_driver(&ups.driver, self.global.driverpath.as_deref()) else {
            eprintln!("Can't start driver {} for UPS [{}]: not found", ups.driver, ups.name);
            return false;
        };
        let mut args = Vec::new();
        // NUT's test mode raises the level to 2, which -d then passes on.
        let level = if self.testing { self.debug.max(2) } else { self.debug };
        if self.pass_debug && level > 0 {
            args.push(format!("-{}", "D".repeat(level.min(64) as usize)));
        }
        args.extend(self.foreground.arg().map(String::from));
        args.extend(["-a".into(), ups.name.clone()]);
        self.tail_args(&mut args);
        let attempts = self.global.maxretry.max(1);
        for attempt in 0..attempts {
            self.note(&format!("{} remaining attempts", attempts - attempt));
            let mut cmd = self.command(&exe, &args);
            if self.testing {
                return true;
            }
            if self.foreground.stays() && self.count == 1 {
                // The only driver: become it.
                let e = std::os::unix::process::CommandExt::exec(&mut cmd);
                eprintln!("execv {}: {e}", exe.display());
                return false;
            }
            if self.global.nowait || self.foreground.stays() {
                match cmd.spawn() {
                    Ok(child) => {
                        self.children.push((ups.name.clone(), child));
                        return true;
                    }
                    Err(e) => eprintln!("Can't start {}: {e}", exe.display()),
                }
            } else if report(run_waited(&mut cmd, self.limit(ups))) {
                return true;
            }
            if attempt + 1 < attempts {
                std::thread::sleep(Duration::from_secs(self.global.retrydelay));
            }
        }
        false
    }

    fn stop(&mut self, ups: &UpsEntry) -> bool {
        self.note(&format!("Stopping UPS: {}", ups.name));
        let dir = nut_daemon::paths::altpidpath(self.global.statepath.as_deref());
        let mut pidfn = dir.join(format!("{}-{}.pid", ups.driver, ups.name));
        if !pidfn.exists() {
            eprintln!("Can't open {}", pidfn.display());
            let base = Path::new(&ups.port).file_name().map(|b| b.to_string_lossy().into_owned());
            pidfn = dir.join(format!("{}-{}.pid", ups.driver, base.unwrap_or_default()));
            if !pidfn.exists() {
                eprintln!("Can't open {} either", pidfn.display());
                return false;
            }
        }
        self.note(&format!("Sending signal to {}", pidfn.display()));
        if self.testing {
            return true;
        }
        let pid = match read_pid(&pidfn) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("Can't open {}: {e}", pidfn.display());
                return false;
            }
        };
        // A PID file the run user can write names no other process.
        if let Err(e) = nut_daemon::pidfile::is_program(pid, &[ups.driver.as_str()]) {
            eprintln!("Not stopping {}: {e} ({})", pidfn.display(), ups.driver);
            return false;
        }
        let pid = nix::unistd::Pid::from_raw(pid);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
            eprintln!("Stopping {} failed: no such process", pidfn.display());
            return false;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if nix::sys::signal::kill(pid, None).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("Driver {} did not exit after SIGTERM", pidfn.display());
        false
    }

    fn shutdown(&mut self, ups: &UpsEntry) -> bool {
        self.note(&format!("Shutdown UPS: {}", ups.name));
        let Some(exe) = find_driver(&ups.driver, self.global.driverpath.as_deref()) else {
            eprintln!("Can't find driver {} for UPS [{}]", ups.driver, ups.name);
            return false;
        };
        let mut args = vec!["-a".to_string(), ups.name.clone(), "-k".into()];
        self.tail_args(&mut args);
        let mut cmd = self.command(&exe, &args);
        if self.testing {
            return true;
        }
        if self.global.nowait {
            return match cmd.spawn() {
                Ok(child) => {
                    self.children.push((ups.name.clone(), child));
                    true
                }
                Err(e) => {
                    eprintln!("Can't start {}: {e}", exe.display());
                    false
                }
            };
        }
        report(run_waited(&mut cmd, self.limit(ups)))
    }

    /// Foreground mode with several drivers: stays until a signal or until
    /// one driver exits, then stops the others.
    fn stay_with_children(&mut self) -> ExitCode {
        use nix::sys::signal::{SigSet, Signal};
        let mut set = SigSet::empty();
        for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT, Signal::SIGCHLD] {
            set.add(s);
        }
        if let Err(e) = set.thread_block() {
            eprintln!("can't block signals: {e}");
            self.stop_children();
            return ExitCode::FAILURE;
        }
        tracing::info!("drivers started in the foreground; staying with them");
        let code = loop {
            if let Some(name) = self.exited_child() {
                eprintln!(
                    "Fatal error: At least one tracked driver running in foreground mode has \
                     exited ([{name}]), stopping upsdrvctl (and other tracked drivers)"
                );
                break ExitCode::FAILURE;
            }
            match set.wait() {
                Ok(Signal::SIGCHLD) | Err(_) => {}
                Ok(sig) => {
                    tracing::info!("{sig}: stopping the drivers");
                    break ExitCode::SUCCESS;
                }
            }
        };
        self.stop_children();
        code
    }

    fn exited_child(&mut self) -> Option<String> {
        self.children
            .iter_mut()
            .find_map(|(n, c)| matches!(c.try_wait(), Ok(Some(_))).then(|| n.clone()))
    }

    fn stop_children(&mut self) {
        use nix::sys::signal::{Signal, kill};
        let pid = |c: &Child| nix::unistd::Pid::from_raw(c.id() as i32);
        for (_, c) in &mut self.children {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = kill(pid(c), Signal::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (name, c) in &mut self.children {
            while matches!(c.try_wait(), Ok(None)) {
                if Instant::now() > deadline {
                    eprintln!("Driver for [{name}] did not exit after SIGTERM; killing it");
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Runs `cmd` and waits up to `limit` (no limit: `None`) for it to exit.
/// A driver still running then is left running, as NUT does.
fn run_waited(cmd: &mut Command, limit: Option<Duration>) -> Outcome {
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::NotStarted(e),
    };
    let deadline = limit.map(|l| Instant::now() + l);
    loop {
        match child.try_wait() {
            Ok(Some(s)) => {
                return s.code().map_or(Outcome::Signaled, Outcome::Exited);
            }
            Ok(None) if deadline.is_none_or(|d| Instant::now() < d) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => return Outcome::TimedOut,
        }
    }
}

/// Prints NUT's message for a failed run; true on success.
fn report(o: Outcome) -> bool {
    match o {
        Outcome::Exited(0) => return true,
        Outcome::Exited(c) => eprintln!("Driver failed to start (exit status={c})"),
        Outcome::Signaled => eprintln!("Driver exited abnormally"),
        Outcome::TimedOut => eprintln!("Startup timer elapsed, continuing..."),
        Outcome::NotStarted(e) => eprintln!("execv: {e}"),
    }
    false
}

fn usage() -> &'static str {
    "Starts and stops UPS drivers via ups.conf.\n\n\
usage: upsdrvctl [OPTIONS] (start | stop | shutdown) [<ups>]\n\n\
  -h                  display this help\n\
  -r <path>           drivers will chroot to <path>\n\
  -t                  testing mode - prints actions without doing them\n\
  -u <user>           drivers started will switch from root to <user>\n\
  -D                  raise debugging level\n\
  -d                  pass debugging level from upsdrvctl to driver\n\
  -F                  driver stays foregrounded even if no debugging is enabled\n\
  -FF                 driver stays foregrounded and still saves the PID file\n\
  -B                  driver(s) stay backgrounded even if debugging is bumped\n\
  start               start all UPS drivers in ups.conf\n\
  start <ups>         only start driver for UPS <ups>\n\
  stop                stop all UPS drivers in ups.conf\n\
  stop <ups>          only stop driver for UPS <ups>\n\
  shutdown            shutdown all UPS drivers in ups.conf\n\
  shutdown <ups>      only shutdown UPS <ups>\n"
}

/// Runs `upsdrvctl` with these arguments (without the program name).
pub fn run(args: &[String]) -> ExitCode {
    println!("Network UPS Tools - UPS driver controller {}", nut_driver::NUT_VERSION);
    let mut ctl = Ctl {
        testing: false,
        root: None,
        user: None,
        debug: 0,
        pass_debug: false,
        foreground: Foreground::Default,
        global: UpsConfGlobal::default(),
        count: 0,
        children: Vec::new(),
    };
    let mut operands = Vec::new();
    let parsed = match getopt(args, "+htu:r:DdVFB") {
        Ok(p) => p,
        Err(e) => {
            // NUT prints the help and exits 0 on a bad option.
            eprintln!("{}", e.posix_message("upsdrvctl"));
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
    };
    for a in parsed {
        match a {
            Arg::Opt('h', _) => {
                print!("{}", usage());
                return ExitCode::SUCCESS;
            }
            Arg::Opt('V', _) => return ExitCode::SUCCESS,
            Arg::Opt('t', _) => ctl.testing = true,
            Arg::Opt('u', u) => ctl.user = u,
            Arg::Opt('r', r) => ctl.root = r,
            Arg::Opt('D', _) => ctl.debug += 1,
            Arg::Opt('d', _) => ctl.pass_debug = true,
            Arg::Opt('F', _) => {
                ctl.foreground = if ctl.foreground.stays() {
                    Foreground::ForegroundPidFile
                } else {
                    Foreground::Foreground
                };
            }
            Arg::Opt('B', _) => ctl.foreground = Foreground::Background,
            Arg::Opt(_, _) => {}
            Arg::Operand(o) => operands.push(o),
        }
    }
    nut_daemon::init_logging(ctl.debug);
    let Some(action) = operands.first().cloned() else {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    };
    if ctl.testing {
        println!("*** Testing mode: not calling exec/kill");
    }
    if !matches!(action.as_str(), "start" | "stop" | "shutdown") {
        eprintln!("Error: unrecognized command [{action}]");
        return ExitCode::FAILURE;
    }
    if operands.len() > 2 {
        eprintln!("Error: extra arguments left on command line");
        return ExitCode::FAILURE;
    }
    let conf = match nut_driver::run::read_ups_conf() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Fatal error: {e}");
            return ExitCode::FAILURE;
        }
    };
    ctl.global = UpsConfGlobal::from_conf(&conf);
    let mut list = entries(&conf);
    if list.is_empty() {
        eprintln!("Error: no UPS definitions found in ups.conf");
        return ExitCode::FAILURE;
    }
    let one = operands.get(1);
    if let Some(name) = one {
        list.retain(|u| &u.name == name);
        if list.is_empty() {
            eprintln!("UPS {name} not found in ups.conf");
            return ExitCode::FAILURE;
        }
    }
    ctl.count = list.len();
    let order: Vec<UpsEntry> = match action.as_str() {
        // A named UPS is shut down whatever its sdorder, as NUT does.
        "shutdown" if one.is_none() => shutdown_order(&list).into_iter().cloned().collect(),
        _ => list,
    };
    let mut failed = 0;
    for ups in &order {
        let ok = match action.as_str() {
            "start" => ctl.start(ups),
            "stop" => ctl.stop(ups),
            _ => ctl.shutdown(ups),
        };
        failed += usize::from(!ok);
    }
    if failed > 0 {
        if !ctl.children.is_empty() && ctl.foreground.stays() {
            ctl.stop_children();
        }
        return ExitCode::FAILURE;
    }
    if action == "start" && ctl.foreground.stays() && !ctl.children.is_empty() {
        return ctl.stay_with_children();
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_goes_by_sdorder_groups() {
        let conf = UpsConf::parse(
            "ups.conf",
            b"[a]\ndriver=d\nport=p\nsdorder=2\n[b]\ndriver=d\nport=p\nsdorder=-1\n\
              [c]\ndriver=d\nport=p\n[nodriver]\nport=p\n[e]\ndriver=d\nport=p\nsdorder=2\n\
              [f]\ndriver=d\nport=p\nsdorder = x\n",
        );
        let list = entries(&conf);
        assert_eq!(list.len(), 5);
        let names: Vec<_> = shutdown_order(&list).iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["c", "f", "a", "e"]);
    }
}
