//! The daemon side every driver gets from `nut_driver::run`: `-c` only
//! signals a PID file that names a running driver, `-r` is applied or
//! refused, SIGTERM stops a driver whose parent blocked it, `-k` connects
//! and shuts down without a socket.

mod common;

use common::{OURS, Setup};
use nut_testkit::{Proc, wait_until};
use std::process::Command;
use std::time::Duration;

const CONF: &str = "[sim]\n  driver = dummy-ups\n  port = sim.dev\n";

fn setup() -> Setup {
    let s = Setup::new(CONF);
    s.write("sim.dev", b"ups.status: OL\nbattery.charge: 100\n");
    s
}

fn run(s: &Setup, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(OURS);
    cmd.args(args);
    s.env(&mut cmd);
    let out = cmd.output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn signal_cmd_refuses_unsafe_pid_files() {
    let s = setup();
    let pidfile = s.state.join("dummy-ups-sim.pid");
    for bad in ["-1\n", "0\n", "1\n", "-4242\n"] {
        std::fs::write(&pidfile, bad).unwrap();
        let (code, out) = run(&s, &["-a", "sim", "-c", "exit"]);
        assert_eq!(code, Some(1), "PID file {bad:?} accepted: {out}");
        assert!(out.contains("invalid pid"), "{out}");
    }
    // A live process that is not this driver is not signalled.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    std::fs::write(&pidfile, format!("{}\n", sleeper.id())).unwrap();
    let (code, out) = run(&s, &["-a", "sim", "-c", "exit"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is not the expected program (dummy-ups)"), "{out}");
    assert!(sleeper.try_wait().unwrap().is_none(), "the foreign process was signalled");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn signal_cmd_stops_the_running_driver() {
    let mut s = setup();
    s.driver(std::path::Path::new(OURS), "sim");
    let (code, out) = run(&s, &["-a", "sim", "-c", "exit"]);
    assert_eq!(code, Some(0), "{out}");
    let p = s.procs.last_mut().unwrap();
    assert!(wait_until(Duration::from_secs(10), Duration::from_millis(20), || p
        .try_exit()
        .is_some()));
    assert!(!s.socket("sim").exists(), "socket left behind");
}

#[test]
fn chroot_to_a_missing_directory_is_refused() {
    let s = setup();
    let (code, out) = run(&s, &["-a", "sim", "-F", "-u", "root", "-r", "/nonexistent/dir"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("chroot /nonexistent/dir"), "{out}");
    assert!(!s.socket("sim").exists());
}

#[test]
fn kill_power_opens_no_socket() {
    let s = setup();
    let (code, out) = run(&s, &["-a", "sim", "-k"]);
    // dummy-ups cannot cut power: -k fails, as NUT's does, and binds nothing.
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not supported: shutdown"), "{out}");
    assert!(std::fs::read_dir(&s.state).unwrap().next().is_none(), "-k left files in statepath");
}

#[test]
fn sigterm_stops_a_driver_started_with_sigterm_ignored() {
    let s = setup();
    // bash's `trap '' TERM` makes SIGTERM ignored in what it execs.
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(format!("trap '' TERM; exec {OURS} -a sim -F -u root"));
    s.env(&mut cmd);
    let mut p = Proc::spawn("driver", cmd, s.dir.path());
    assert!(nut_testkit::wait_for_path(&s.socket("sim"), Duration::from_secs(20)), "{}", p.log());
    let status = std::fs::read_to_string(format!("/proc/{}/status", p.pid())).unwrap();
    let ign = status.lines().find(|l| l.starts_with("SigIgn:")).unwrap().to_string();
    let mask = u64::from_str_radix(ign.trim_start_matches("SigIgn:").trim(), 16).unwrap();
    assert_eq!(mask & (1 << 14), 0, "SIGTERM still ignored: {ign}");
    p.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(20), || p.try_exit().is_some()),
        "the driver ignored SIGTERM:\n{}",
        p.log()
    );
}

#[test]
fn a_driver_started_as_root_runs_as_nut_after_opening_its_device() {
    if !nix::unistd::geteuid().is_root() {
        panic!("this test needs root (CI runs as root), to see the switch to the nut user");
    }
    let nut = nix::unistd::User::from_name("nut").unwrap().expect("the nut user (Debian's nut)");
    let s = setup();
    // The simulation file is readable by root only: the driver reads it
    // before dropping root, as NUT opens its device first.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(s.etc.join("sim.dev"), std::fs::Permissions::from_mode(0o600))
        .unwrap();
    std::fs::set_permissions(&s.state, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = Command::new(OURS);
    cmd.args(["-a", "sim", "-F"]);
    s.env(&mut cmd);
    let p = Proc::spawn("driver", cmd, s.dir.path());
    assert!(nut_testkit::wait_for_path(&s.socket("sim"), Duration::from_secs(20)), "{}", p.log());
    let status = std::fs::read_to_string(format!("/proc/{}/status", p.pid())).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let ids: Vec<u32> = uid.split_whitespace().skip(1).map(|v| v.parse().unwrap()).collect();
    assert_eq!(ids, [nut.uid.as_raw(); 4], "{uid}");
    let meta = std::fs::metadata(s.socket("sim")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
}

#[test]
fn upsdrvctl_stop_signals_only_the_driver_named_by_the_pid_file() {
    let s = setup();
    let pidfile = s.state.join("dummy-ups-sim.pid");
    let ctl = |s: &Setup| {
        let mut cmd = Command::new(common::UPSDRVCTL);
        cmd.args(["stop", "sim"]);
        s.env(&mut cmd);
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for bad in ["-1\n", "0\n", "1\n"] {
        std::fs::write(&pidfile, bad).unwrap();
        let (code, err) = ctl(&s);
        assert_ne!(code, Some(0), "PID file {bad:?} accepted: {err}");
        assert!(err.contains("invalid pid"), "{err}");
    }
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    std::fs::write(&pidfile, format!("{}\n", sleeper.id())).unwrap();
    let (code, err) = ctl(&s);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("is not the expected program"), "{err}");
    assert!(sleeper.try_wait().unwrap().is_none(), "upsdrvctl signalled a foreign process");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}
