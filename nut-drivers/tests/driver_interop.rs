//! Our `dummy-ups` served by the real Debian NUT 2.8.0 `upsd`, checked with
//! Debian's `upsc`, `upsrw` and `upscmd`.

mod common;

use common::{OURS, Setup, UPSDRVCTL};
use nut_testkit::{peer, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const DEV: &str =
    "ups.status: OL\nbattery.charge: 100\nups.id: Quote\"Corp\\\\x\ninput.voltage: 230.0\n";

#[test]
fn real_upsd_serves_our_dummy_ups() {
    let mut s =
        Setup::new("[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n  desc = \"ours\"\n");
    s.write("dummy.dev", DEV.as_bytes());
    s.driver(Path::new(OURS), "dummy");
    s.upsd();
    let out = s.upsc_ready("dummy");
    assert_eq!(
        out,
        "battery.charge: 100\ndevice.mfr: Dummy Manufacturer\ndevice.model: Dummy UPS\n\
         device.type: ups\ndriver.name: dummy-ups\ndriver.parameter.mode: dummy-once\n\
         driver.parameter.pollinterval: 2\ndriver.parameter.port: dummy.dev\n\
         driver.parameter.synchronous: auto\ndriver.version: 2.8.0\n\
         driver.version.internal: 0.15\ninput.voltage: 230.0\nups.id: Quote\"Corp\\x\n\
         ups.mfr: Dummy Manufacturer\nups.model: Dummy UPS\nups.status: OL\n"
    );
    // SET through upsd reaches our driver and comes back as a live update.
    let rw = Command::new(peer("upsrw"))
        .args(["-s", "ups.id=with \"q\"", "-u", "admin", "-p", "secret", "-w", &s.target("dummy")])
        .output()
        .unwrap();
    assert!(rw.status.success(), "{}", String::from_utf8_lossy(&rw.stderr));
    let (_, v) = s.upsc(&[&s.target("dummy"), "ups.id"]);
    assert_eq!(v, "with \"q\"\n");
    let cmd = Command::new(peer("upscmd"))
        .args(["-u", "admin", "-p", "secret", "-w", &s.target("dummy"), "load.off"])
        .output()
        .unwrap();
    // dummy-ups answers "unknown" to load.off, as NUT's does.
    let text =
        String::from_utf8_lossy(&cmd.stdout).into_owned() + &String::from_utf8_lossy(&cmd.stderr);
    assert!(text.contains("ERR UNKNOWN"), "{text}");

    // The .dev file changes: the driver re-reads it (dummy-once).
    std::fs::write(s.etc.join("dummy.dev"), DEV.replace("100", "55")).unwrap();
    let f = std::fs::File::options().write(true).open(s.etc.join("dummy.dev")).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5)).unwrap();
    let target = s.target("dummy");
    assert!(wait_until(Duration::from_secs(20), Duration::from_millis(100), || {
        s.upsc(&[&target, "battery.charge"]).1 == "55\n"
    }));
}

#[test]
fn upsd_restart_and_driver_restart() {
    let mut s = Setup::new("[seq]\n  driver = dummy-ups\n  port = seq.seq\n");
    s.write("seq.seq", b"ups.status: OL\nTIMER 1\nups.status: OB\nTIMER 1\n");
    s.driver(Path::new(OURS), "seq");
    s.upsd();
    s.upsc_ready("seq");
    let target = s.target("seq");
    // Live updates arrive: both states are seen.
    for want in ["OB\n", "OL\n"] {
        assert!(wait_until(Duration::from_secs(20), Duration::from_millis(50), || {
            s.upsc(&[&target, "ups.status"]).1 == want
        }));
    }
    // upsd goes away and comes back: the driver serves the new connection.
    let mut upsd = s.procs.pop().unwrap();
    upsd.stop(Duration::from_secs(5));
    s.upsd();
    s.upsc_ready("seq");
    // The driver stops cleanly on SIGTERM: socket and PID file removed.
    let mut drv = s.procs.remove(0);
    assert_eq!(drv.stop(Duration::from_secs(5)), Some(0), "{}", drv.log());
    assert!(!s.socket("seq").exists());
    assert!(!s.state.join("dummy-ups-seq.pid").exists());
    assert!(wait_until(Duration::from_secs(10), Duration::from_millis(100), || {
        let (_, out) = s.upsc(&[&target]);
        out.contains("Driver not connected") || out.contains("Data stale")
    }));
    s.driver(Path::new(OURS), "seq");
    s.upsc_ready("seq");
}

#[test]
fn repeater_relays_and_forwards_set() {
    // Upstream: a NUT upsd with Debian's dummy-ups; downstream: the same
    // upsd also serving our repeater of it.
    let mut s = Setup::new("");
    let conf = format!(
        "[up]\n  driver = dummy-ups\n  port = up.dev\n[rep]\n  driver = dummy-ups\n  port = up@127.0.0.1:{}\n  \
         username = admin\n  password = secret\n  repeater_disable_strict_start\n",
        s.port
    );
    s.write("ups.conf", conf.as_bytes());
    s.write("up.dev", b"ups.status: OB LB\nbattery.charge: 7\n");
    s.driver(&peer("dummy-ups"), "up");
    s.upsd();
    s.upsc_ready("up");
    s.driver(Path::new(OURS), "rep");
    let target = s.target("rep");
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(100), || {
        let (_, out) = s.upsc(&[&target]);
        out.contains("battery.charge: 7") && out.contains("ups.status: OB LB")
    }));
    let (_, out) = s.upsc(&[&target]);
    assert!(out.contains("driver.parameter.mode: repeater"), "{out}");
    assert!(!out.contains("driver.parameter.password"), "{out}");
    // SET on the repeater is forwarded to the upstream UPS.
    let rw = Command::new(peer("upsrw"))
        .args(["-s", "battery.charge=8", "-u", "admin", "-p", "secret", "-w", &target])
        .output()
        .unwrap();
    assert!(rw.status.success(), "{}", String::from_utf8_lossy(&rw.stderr));
    let up = s.target("up");
    assert!(wait_until(Duration::from_secs(20), Duration::from_millis(100), || {
        s.upsc(&[&up, "battery.charge"]).1 == "8\n"
    }));
    assert!(wait_until(Duration::from_secs(20), Duration::from_millis(100), || {
        s.upsc(&[&target, "battery.charge"]).1 == "8\n"
    }));
}

#[test]
fn upsdrvctl_starts_and_stops_our_driver() {
    let s = Setup::new(
        "[a]\n  driver = dummy-ups\n  port = a.dev\n[b]\n  driver = dummy-ups\n  port = b.seq\n  sdorder = -1\n",
    );
    s.write("a.dev", b"ups.status: OL\n");
    s.write("b.seq", b"ups.status: OL\n");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(UPSDRVCTL);
        cmd.args(args);
        s.env(&mut cmd);
        cmd.output().unwrap()
    };
    let t = run(&["-t", "shutdown"]);
    let text = String::from_utf8_lossy(&t.stderr);
    assert!(text.contains("dummy-ups -a a -k\n") && !text.contains("-a b"), "{text}");
    let start = run(&["-u", "root", "start"]);
    assert!(start.status.success(), "{}", String::from_utf8_lossy(&start.stderr));
    assert!(s.socket("a").exists() && s.socket("b").exists());
    assert!(s.state.join("dummy-ups-a.pid").exists());
    let stop = run(&["stop", "a"]);
    assert!(stop.status.success(), "{}", String::from_utf8_lossy(&stop.stderr));
    assert!(!s.socket("a").exists());
    let stop = run(&["stop"]);
    assert!(!stop.status.success()); // a is already stopped
    assert!(!s.socket("b").exists());
}

#[test]
fn driver_command_line() {
    let s = Setup::new(
        "[d]\n  driver = dummy-ups\n  port = d.dev\n  bogus = 1\n[e]\n  driver = dummy-ups\n  port = e.dev\n",
    );
    s.write("e.dev", b"ups.status: OB\nbattery.charge: 3\n");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(OURS);
        cmd.args(args);
        s.env(&mut cmd);
        cmd.output().unwrap()
    };
    let o = run(&["-a", "d"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("'bogus' is not a valid variable name"));
    let o = run(&["-a", "e", "-d", "1"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("battery.charge: 3\n") && out.contains("ups.status: OB\n"), "{out}");
    let o = run(&["-s", "x", "-x", "port=e.dev", "-x", "mode=dummy-loop", "-i", "5", "-d", "1"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("driver.parameter.mode: dummy-loop") && out.contains("pollinterval: 5"),
        "{out}"
    );
    assert!(run(&["-V"]).status.success());
    assert!(String::from_utf8_lossy(&run(&["-h"]).stdout).contains("-x mode=<value>"));
    let o = run(&["-a", "e", "-k"]);
    assert!(!o.status.success());
}
