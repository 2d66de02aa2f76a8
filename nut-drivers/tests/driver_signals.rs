//! The driver main's socket loop (`nut_driver::io::serve_blocking`) seen
//! from outside: `PING` and `DUMPALL` answered, SIGHUP re-reads `ups.conf`
//! (the new `pollinterval` is published), SIGINT and SIGQUIT end the driver
//! and remove its socket and PID file, and the driver runs two threads.

mod common;

use common::{OURS, Setup};
use nix::sys::signal::Signal;
use nut_testkit::{Proc, wait_until};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn conf(pollinterval: u32) -> String {
    format!("[sim]\n  driver = dummy-ups\n  port = sim.dev\n  pollinterval = {pollinterval}\n")
}

fn start(s: &Setup) -> Proc {
    s.write("sim.dev", b"ups.status: OL\nbattery.charge: 100\n");
    let mut cmd = Command::new(OURS);
    cmd.args(["-a", "sim", "-F", "-u", "root"]);
    s.env(&mut cmd);
    let p = Proc::spawn("driver", cmd, s.dir.path());
    assert!(nut_testkit::wait_for_path(&s.socket("sim"), Duration::from_secs(20)), "{}", p.log());
    p
}

/// Sends `line` on a new connection and returns the lines up to the one
/// starting with `last`.
fn ask(sock: &Path, line: &str, last: &str) -> Vec<String> {
    let conn = UnixStream::connect(sock).expect("connect to the driver socket");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut w = conn.try_clone().unwrap();
    w.write_all(line.as_bytes()).unwrap();
    nut_testkit::driver::read_until(&mut BufReader::new(conn), last)
}

fn pollinterval(sock: &Path) -> Option<String> {
    ask(sock, "DUMPALL\n", "DUMPDONE").into_iter().find_map(|l| {
        l.strip_prefix("SETINFO driver.parameter.pollinterval ").map(|v| v.trim_matches('"').into())
    })
}

#[test]
fn sighup_rereads_ups_conf_and_the_socket_answers() {
    let s = Setup::new(&conf(2));
    let mut p = start(&s);
    let sock = s.socket("sim");
    assert_eq!(ask(&sock, "PING\n", "PONG"), ["PONG"]);
    assert_eq!(pollinterval(&sock).as_deref(), Some("2"), "{}", p.log());
    // The main thread serving the socket and the device thread: no more.
    let threads = std::fs::read_dir(format!("/proc/{}/task", p.pid())).unwrap().count();
    assert_eq!(threads, 2, "{}", p.log());

    s.write("ups.conf", conf(5).as_bytes());
    p.signal(Signal::SIGHUP);
    let mut last = None;
    let reloaded = wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
        last = pollinterval(&sock);
        last.as_deref() == Some("5")
    });
    assert!(reloaded, "pollinterval after SIGHUP: {last:?}\n{}", p.log());
    assert!(p.try_exit().is_none(), "SIGHUP ended the driver:\n{}", p.log());

    p.signal(Signal::SIGINT);
    let ended =
        wait_until(Duration::from_secs(10), Duration::from_millis(20), || p.try_exit().is_some());
    assert!(ended, "the driver ignored SIGINT:\n{}", p.log());
    assert!(!sock.exists(), "socket left behind");
    assert!(!s.state.join("dummy-ups-sim.pid").exists(), "PID file left behind");
}

#[test]
fn sigquit_ends_the_driver() {
    let s = Setup::new(&conf(2));
    let mut p = start(&s);
    p.signal(Signal::SIGQUIT);
    let ended =
        wait_until(Duration::from_secs(10), Duration::from_millis(20), || p.try_exit().is_some());
    assert!(ended, "the driver ignored SIGQUIT:\n{}", p.log());
    assert!(!s.socket("sim").exists(), "socket left behind");
}
