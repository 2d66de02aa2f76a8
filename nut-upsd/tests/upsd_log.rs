//! What upsd writes to its log, side by side with Debian's upsd: the
//! LOGIN/LOGOUT lines and `DEBUG_MIN` from upsd.conf.

mod support;

use nix::sys::signal::Signal;
use nut_testkit::wait_until;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;
use support::{Raw, Which, World};

/// Logs `monprimary` into `dummy`, then logs out; returns the log lines
/// about it.
fn login_logout(w: &World) -> Vec<String> {
    let mut c = Raw::connect(w.port);
    let r = c.exchange(b"USERNAME monprimary\nPASSWORD primarypass\nLOGIN dummy\n");
    assert_eq!(r, b"OK\nOK\nOK\n", "{:?}", w.which);
    c.stream().write_all(b"LOGOUT\n").unwrap();
    let mut line = String::new();
    BufReader::new(c.stream().try_clone().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "OK Goodbye\n");
    let mut lines = Vec::new();
    let ok = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
        lines = w
            .server
            .log()
            .lines()
            .filter_map(|l| l.find("User ").map(|i| l[i..].to_string()))
            .collect();
        lines.iter().any(|l| l.contains("logged out"))
    });
    assert!(ok, "{:?} upsd logged no logout:\n{}", w.which, w.server.log());
    lines
}

#[test]
fn logout_is_logged_as_nut_logs_it() {
    let want = [
        "User monprimary@127.0.0.1 logged into UPS [dummy]",
        "User monprimary@127.0.0.1 logged out from UPS [dummy]",
    ];
    // Debian's upsd in the foreground writes these lines (LOG_INFO) to
    // stderr too.
    let real = World::start(Which::Real, "");
    assert_eq!(login_logout(&real), want);
    let ours = World::start(Which::Ours, "");
    assert_eq!(login_logout(&ours), want);
}

#[test]
fn debug_min_is_the_least_debug_level() {
    let w = World::start(Which::Ours, "DEBUG_MIN 2\n");
    let log = w.server.log();
    assert!(log.contains("debug level is '2'"), "{log}");
    // Without it (and without -D), no debug line.
    let plain = World::start(Which::Ours, "");
    assert!(!plain.server.log().contains("debug level is"), "{}", plain.server.log());
    // A reload applies the new value, as NUT does.
    let conf = std::fs::read_to_string(plain.etc().join("upsd.conf")).unwrap();
    std::fs::write(plain.etc().join("upsd.conf"), conf + "DEBUG_MIN 1\n").unwrap();
    plain.server.signal(Signal::SIGHUP);
    let ok = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
        plain.server.log().contains("Applying debug_min=1 from upsd.conf")
    });
    assert!(ok, "{}", plain.server.log());
}
