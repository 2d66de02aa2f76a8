//! The demo runs one outage through, and stops cleanly on SIGINT, SIGHUP
//! and SIGTERM, even when its parent blocked or ignored them.
//! Needs `upsd`, `dummy-ups` and `upsmon` built next to `nut-demo` (`cargo
//! test --workspace` builds them).

use nix::sys::signal::Signal;
use nut_testkit::{Proc, temp_dir, wait_until};
use std::process::Command;
use std::time::Duration;

fn demo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nut-demo"))
}

#[test]
fn one_outage_is_narrated_in_order() {
    let out = demo().args(["--cycles", "1", "--step", "1"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let find = |needle: &str| {
        stdout.find(needle).unwrap_or_else(|| panic!("{needle:?} not in:\n{stdout}"))
    };
    let ob = find("-> OB DISCHRG ");
    let onbatt = find("upsmon: ONBATT ");
    let lb = find("OB DISCHRG LB ");
    let lowbatt = find("upsmon: LOWBATT ");
    let shutdown = find("upsmon: SHUTDOWN ");
    let cmd = find("upsmon: SHUTDOWNCMD ");
    let boot = find("upsd and upsmon restart");
    // Power back while upsd still carries the FSD our upsmon (primary) set.
    let back = find("-> FSD OL CHRG");
    let done = find("outage 1 survived");
    // upsmon polls on its own clock: its notices and the watcher's lines
    // about the same change may come in either order (the watcher prints
    // the notices it found before the values it then reads).
    assert!(onbatt < lowbatt && ob < lowbatt && ob < lb, "{stdout}");
    assert!(lowbatt < shutdown && shutdown < cmd && cmd < boot, "{stdout}");
    assert!(lb < back && back < boot && boot < done, "{stdout}");
    // The temporary directory is gone.
    let dir = stdout.lines().find_map(|l| l.trim().strip_prefix("config and logs: ")).unwrap();
    assert!(!std::path::Path::new(dir).exists());
}

/// The processes that run with the demo's directory in their environment
/// (NUT_CONFPATH and the others point into it): the demo's own children.
fn processes_of(dir: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(dir.len()).any(|w| w == dir.as_bytes()))
        })
        .collect()
}

/// A signal mask line of `/proc/<pid>/status` (`SigBlk`, `SigIgn`): 0 for
/// a process that is gone.
fn status_mask(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hex = status.lines().find_map(|l| l.strip_prefix(&format!("{key}:")));
    hex.and_then(|h| u64::from_str_radix(h.trim(), 16).ok()).unwrap_or(0)
}

fn mask(sigs: &[Signal]) -> u64 {
    sigs.iter().fold(0, |m, s| m | 1 << (*s as i32 - 1))
}

/// Blocks and ignores SIGINT, SIGTERM and SIGHUP, then execs the demo, as
/// a careless parent (a shell script with `trap '' ...`, a service
/// manager) may: the demo must undo it.
const HOSTILE_PARENT: &str = "import os, signal, sys\n\
    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)\n\
    signal.pthread_sigmask(signal.SIG_BLOCK, set(sigs))\n\
    for s in sigs:\n\
    \x20   signal.signal(s, signal.SIG_IGN)\n\
    os.execv(sys.argv[1], sys.argv[1:])\n";

#[test]
fn sigint_sighup_and_sigterm_stop_everything() {
    // SIGINT is Ctrl-C; SIGHUP the terminal closing; SIGTERM a `kill`,
    // here to a demo whose parent blocked and ignored all three.
    let cases = [(Signal::SIGINT, false), (Signal::SIGHUP, false), (Signal::SIGTERM, true)];
    for (sig, hostile) in cases {
        let logs = temp_dir();
        let cmd = if hostile {
            let mut c = Command::new("/usr/bin/python3");
            c.args(["-c", HOSTILE_PARENT, env!("CARGO_BIN_EXE_nut-demo")]);
            c
        } else {
            demo()
        };
        let mut p = Proc::spawn("nut-demo", cmd, logs.path());
        assert!(
            wait_until(Duration::from_secs(30), Duration::from_millis(50), || p
                .log()
                .contains("on line power")),
            "{}",
            p.log()
        );
        let log = p.log();
        let dir = log.lines().find_map(|l| l.trim().strip_prefix("config and logs: ")).unwrap();
        let dir = dir.to_string();
        // The driver, upsd and upsmon (its two processes) run.
        let before = processes_of(&dir);
        assert!(before.len() >= 3, "{sig}: {before:?}");
        // Whatever its parent did, the demo does not ignore the signals
        // that stop it, and its children do not ignore SIGTERM and SIGINT
        // (they may block them to read them from a signalfd).
        let stop = mask(&[Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP]);
        assert_eq!(status_mask(p.pid(), "SigIgn") & stop, 0, "{sig}: the demo ignores them");
        for pid in &before {
            let term_int = mask(&[Signal::SIGINT, Signal::SIGTERM]);
            assert_eq!(status_mask(*pid, "SigIgn") & term_int, 0, "{sig}: ignored in {pid}");
        }
        p.signal(sig);
        assert!(
            wait_until(Duration::from_secs(10), Duration::from_millis(20), || p
                .try_exit()
                .is_some()),
            "{sig} did not stop the demo:\n{}",
            p.log()
        );
        let log = p.log();
        assert!(log.contains("stopped the driver, upsd and upsmon"), "{sig}: {log}");
        assert!(
            wait_until(Duration::from_secs(5), Duration::from_millis(20), || processes_of(&dir)
                .is_empty()),
            "{sig}: left behind: {:?}",
            processes_of(&dir)
        );
        assert!(!std::path::Path::new(&dir).exists(), "{sig}");
        // Nothing listens on the demo's port any more.
        let port: u16 = log
            .lines()
            .find_map(|l| l.split("127.0.0.1:").nth(1))
            .and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
            .unwrap();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "{sig}");
    }
}
