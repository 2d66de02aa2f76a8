//! `upsdrvctl start|stop|shutdown [ups]`: starts, stops or runs the
//! power-off (`-k`) of the drivers configured in ups.conf.

use nut_daemon::getopt::{Arg, getopt};
use nut_daemon::pidfile::read_pid;
use nut_driver::params::UpsConfGlobal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// One configured UPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsEntry {
    /// Section name.
    pub name: String,
    /// `driver`
    pub driver: String,
    /// `sdorder` (0 by default; negative: never shut down).
    pub sdorder: i32,
    /// `maxstartdelay` for this UPS, if set.
    pub maxstartdelay: Option<u64>,
}

/// The UPSes of ups.conf that have both `driver` and `port`, in file order.
pub fn entries(conf: &nut_proto::config::ConfigFile) -> Vec<UpsEntry> {
    conf.sections
        .iter()
        .filter_map(|s| {
            let driver = s.get("driver")?;
            s.get("port")?;
            Some(UpsEntry {
                name: s.name.clone(),
                driver: driver.to_string(),
                sdorder: s.get("sdorder").and_then(|v| v.parse().ok()).unwrap_or(0),
                maxstartdelay: s.get("maxstartdelay").and_then(|v| v.parse().ok()),
            })
        })
        .collect()
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

struct Ctl {
    testing: bool,
    user: Option<String>,
    debug: u32,
    global: UpsConfGlobal,
}

impl Ctl {
    fn start(&self, ups: &UpsEntry) -> bool {
        let Some(exe) = find_driver(&ups.driver, self.global.driverpath.as_deref()) else {
            eprintln!("Can't start driver {} for UPS [{}]: not found", ups.driver, ups.name);
            return false;
        };
        let mut cmd = Command::new(&exe);
        cmd.arg("-a").arg(&ups.name);
        if let Some(u) = &self.user {
            cmd.arg("-u").arg(u);
        }
        for _ in 0..self.debug {
            cmd.arg("-D");
        }
        if self.testing {
            println!("exec: {cmd:?}");
            return true;
        }
        let delay = Duration::from_secs(ups.maxstartdelay.unwrap_or(self.global.maxstartdelay));
        for attempt in 0..=self.global.maxretry.max(1) - 1 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_secs(self.global.retrydelay));
            }
            match run_with_timeout(&mut cmd, delay) {
                Some(true) => return true,
                Some(false) => eprintln!("Driver failed to start (exit status=1)"),
                None => eprintln!("Startup timer elapsed, continuing..."),
            }
        }
        false
    }

    fn stop(&self, ups: &UpsEntry) -> bool {
        let pidfn = nut_daemon::paths::altpidpath(self.global.statepath.as_deref())
            .join(format!("{}-{}.pid", ups.driver, ups.name));
        if self.testing {
            println!("Stopping PID file {}", pidfn.display());
            return true;
        }
        let pid = match read_pid(&pidfn) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("Can't open {}: {e}", pidfn.display());
                return false;
            }
        };
        let pid = nix::unistd::Pid::from_raw(pid);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
            eprintln!("Stopping {}: no such process", pidfn.display());
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

    fn shutdown(&self, ups: &UpsEntry) -> bool {
        let Some(exe) = find_driver(&ups.driver, self.global.driverpath.as_deref()) else {
            eprintln!("Can't find driver {} for UPS [{}]", ups.driver, ups.name);
            return false;
        };
        let mut cmd = Command::new(&exe);
        cmd.arg("-a").arg(&ups.name).arg("-k");
        if let Some(u) = &self.user {
            cmd.arg("-u").arg(u);
        }
        if self.testing {
            println!("exec: {cmd:?}");
            return true;
        }
        matches!(cmd.status(), Ok(s) if s.success())
    }
}

/// Runs `cmd` and waits up to `limit` for it to exit; `None` on timeout
/// (the process is left running, as NUT does).
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Option<bool> {
    let mut child = cmd.spawn().ok()?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s.success()),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

fn usage() -> &'static str {
    "Network UPS Tools - UPS driver controller\n\n\
usage: upsdrvctl [OPTIONS] (start | stop | shutdown) [<ups>]\n\n\
  -h                  display this help\n\
  -t                  testing mode - prints actions without doing them\n\
  -u <user>           drivers started will switch from root to <user>\n\
  -D                  raise debugging level (passed to the drivers)\n\
  start               start all UPS drivers in ups.conf\n\
  start <ups>         only start driver for UPS <ups>\n\
  stop                stop all UPS drivers in ups.conf\n\
  stop <ups>          only stop driver for UPS <ups>\n\
  shutdown            shutdown all UPS drivers in ups.conf\n\
  shutdown <ups>      only shutdown UPS <ups>\n"
}

/// Runs `upsdrvctl` with these arguments (without the program name).
pub fn run(args: &[String]) -> ExitCode {
    let mut ctl = Ctl { testing: false, user: None, debug: 0, global: UpsConfGlobal::default() };
    let mut operands = Vec::new();
    let parsed = match getopt(args, "htu:Dr:V") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Error: {e}\n{}", usage());
            return ExitCode::FAILURE;
        }
    };
    for a in parsed {
        match a {
            Arg::Opt('h', _) => {
                print!("{}", usage());
                return ExitCode::SUCCESS;
            }
            Arg::Opt('V', _) => {
                println!("Network UPS Tools - UPS driver controller {}", nut_driver::NUT_VERSION);
                return ExitCode::SUCCESS;
            }
            Arg::Opt('t', _) => ctl.testing = true,
            Arg::Opt('u', u) => ctl.user = u,
            Arg::Opt('D', _) => ctl.debug += 1,
            Arg::Opt(_, _) => {}
            Arg::Operand(o) => operands.push(o),
        }
    }
    nut_daemon::init_logging(ctl.debug);
    let Some(action) = operands.first().cloned() else {
        eprintln!("Error: no command specified\n{}", usage());
        return ExitCode::FAILURE;
    };
    let conf = match nut_driver::run::read_ups_conf() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Fatal error: {e}");
            return ExitCode::FAILURE;
        }
    };
    ctl.global = UpsConfGlobal::from_conf(&conf);
    if ctl.user.is_none() {
        ctl.user = ctl.global.user.clone();
    }
    let mut list = entries(&conf);
    if let Some(name) = operands.get(1) {
        list.retain(|u| &u.name == name);
        if list.is_empty() {
            eprintln!("UPS {name} not found in ups.conf");
            return ExitCode::FAILURE;
        }
    }
    let ok = match action.as_str() {
        "start" => list.iter().filter(|u| !ctl.start(u)).count() == 0,
        "stop" => list.iter().filter(|u| !ctl.stop(u)).count() == 0,
        "shutdown" => {
            list.retain(|u| u.sdorder >= 0);
            list.sort_by_key(|u| u.sdorder);
            list.iter().filter(|u| !ctl.shutdown(u)).count() == 0
        }
        other => {
            eprintln!("Error: unrecognized command [{other}]\n{}", usage());
            return ExitCode::FAILURE;
        }
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
