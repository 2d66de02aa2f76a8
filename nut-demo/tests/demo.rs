//! The demo runs one outage through, and stops cleanly on SIGINT.
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
    // about the same change may come in either order.
    assert!(ob < onbatt && ob < lowbatt && ob < lb, "{stdout}");
    assert!(lowbatt < shutdown && shutdown < cmd && cmd < boot, "{stdout}");
    assert!(lb < back && back < boot && boot < done, "{stdout}");
    // The temporary directory is gone.
    let dir = stdout.lines().find_map(|l| l.trim().strip_prefix("config and logs: ")).unwrap();
    assert!(!std::path::Path::new(dir).exists());
}

#[test]
fn sigint_stops_everything() {
    let logs = temp_dir();
    let mut p = Proc::spawn("nut-demo", demo(), logs.path());
    assert!(
        wait_until(Duration::from_secs(30), Duration::from_millis(50), || p
            .log()
            .contains("on line power")),
        "{}",
        p.log()
    );
    p.signal(Signal::SIGINT);
    assert!(wait_until(Duration::from_secs(10), Duration::from_millis(20), || p
        .try_exit()
        .is_some()));
    let log = p.log();
    assert!(log.contains("stopped the driver, upsd and upsmon"), "{log}");
    // Its children are gone: nothing listens on the demo's port any more.
    let port: u16 = log
        .lines()
        .find_map(|l| l.split("127.0.0.1:").nth(1))
        .and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
