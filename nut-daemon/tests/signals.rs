//! `signals::reset` in a process whose parent blocked and ignored SIGTERM:
//! this test binary runs itself again (one test, selected by name) through
//! python, which blocks or ignores SIGTERM and then execs it.

use nix::sys::signal::Signal;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "NUT_DAEMON_SIGNALS_CHILD";

/// Blocks SIGTERM (and SIGHUP), ignores SIGTERM and SIGCHLD, then execs
/// `argv[1..]`: all of it survives exec.
const HOSTILE_PARENT: &str = "import os, signal, sys\n\
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP})\n\
    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n\
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n\
    os.execv(sys.argv[1], sys.argv[1:])\n";

fn status_mask(path: &str, key: &str) -> u64 {
    let status = std::fs::read_to_string(path).unwrap();
    let hex = status.lines().find_map(|l| l.strip_prefix(&format!("{key}:"))).unwrap();
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

fn bit(sig: Signal) -> u64 {
    1 << (sig as i32 - 1)
}

/// The child's side (does nothing in a normal test run): reports what it
/// inherited, resets when asked, says so, and waits to be killed.
#[test]
fn child_side() {
    let Ok(mode) = std::env::var(CHILD_ENV) else { return };
    let before_blk = status_mask("/proc/thread-self/status", "SigBlk");
    let before_ign = status_mask("/proc/self/status", "SigIgn");
    let fixed = if mode == "reset" { nut_daemon::signals::reset(&[]).unwrap() } else { vec![] };
    let after_blk = status_mask("/proc/thread-self/status", "SigBlk");
    let after_ign = status_mask("/proc/self/status", "SigIgn");
    println!(
        "READY {before_blk:x} {before_ign:x} {after_blk:x} {after_ign:x} {}",
        fixed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    );
    // A child process can still be waited for (SIGCHLD not ignored).
    if mode == "reset" {
        assert!(Command::new("true").status().unwrap().success());
    }
    std::thread::sleep(Duration::from_secs(30));
}

/// Starts this binary's `child_side` behind the hostile parent; returns the
/// child and its READY line's fields.
fn start(mode: &str) -> (std::process::Child, Vec<String>) {
    let me = std::env::current_exe().unwrap();
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", HOSTILE_PARENT])
        .arg(&me)
        .args(["--exact", "child_side", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let line = BufReader::new(out)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.find("READY ").map(|i| l[i + 6..].to_string()))
        .expect("no READY line");
    (child, line.split(' ').map(String::from).collect())
}

/// Waits up to `limit` for the child to end.
fn ended(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap()
}

#[test]
fn sigterm_works_again_after_reset() {
    // Without reset: the premise. SIGTERM is blocked and ignored, the
    // process does not stop.
    let (mut child, f) = start("none");
    assert_ne!(hex(&f[0]) & bit(Signal::SIGTERM), 0, "not blocked: {f:?}");
    assert_ne!(hex(&f[1]) & bit(Signal::SIGTERM), 0, "not ignored: {f:?}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    assert!(ended(&mut child, Duration::from_millis(500)).is_none(), "stopped anyway");
    child.kill().unwrap();
    let _ = child.wait();

    // With reset: nothing blocked, nothing of ours ignored (SIGPIPE stays
    // ignored, as NUT has it), and SIGTERM ends the process by its default
    // action.
    let (mut child, f) = start("reset");
    assert_ne!(hex(&f[0]) & bit(Signal::SIGTERM), 0, "not blocked: {f:?}");
    assert_eq!(hex(&f[2]), 0, "still blocked: {f:?}");
    let ign = hex(&f[3]);
    assert_eq!(ign & (bit(Signal::SIGTERM) | bit(Signal::SIGCHLD)), 0, "still ignored: {f:?}");
    assert_ne!(ign & bit(Signal::SIGPIPE), 0, "SIGPIPE not ignored: {f:?}");
    assert_eq!(f.get(4).map(String::as_str), Some("SIGTERM,SIGCHLD"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = ended(&mut child, Duration::from_secs(10)).expect("SIGTERM did not stop it");
    assert_eq!(status.signal(), Some(Signal::SIGTERM as i32), "{status:?}");
}
