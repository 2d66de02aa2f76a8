//! Fuzz target bodies for `nut_client::upssched`: the `upssched.conf`
//! model and the timer daemon's request lines.

use nut_client::upssched::{
    ConfError, ConfWarning, Config, Connection, Daemon, DaemonAction, Request,
};
use std::time::{Duration, Instant};

/// `upssched_conf`: parsing never panics; rules exist only after all of
/// CMDSCRIPT, PIPEFN and LOCKFN; rules and warnings carry lines within the
/// file, rules in increasing order; every rule matches its own UPS name
/// (any name for `*`) and its notify type in any case, and `matching`
/// gives exactly the rules that match; a final LF changes nothing.
pub fn upssched_conf(data: &[u8]) {
    let max_line = 1 + data.iter().filter(|&&b| b == b'\n').count();
    let in_range = |line: u32| line >= 1 && line as usize <= max_line;
    let parsed = Config::parse("upssched.conf", data);
    let mut with_lf = data.to_vec();
    with_lf.push(b'\n');
    assert_eq!(Config::parse("upssched.conf", &with_lf), parsed, "a final LF changes the result");
    let conf = match parsed {
        Ok(c) => c,
        Err(ConfError::MissingBeforeAt { line, .. }) => {
            assert!(in_range(line), "fatal line {line} of {max_line}");
            return;
        }
        Err(e) => panic!("unexpected error {e:?}"),
    };
    if !conf.rules.is_empty() {
        assert!(conf.cmdscript.is_some() && conf.pipefn.is_some() && conf.lockfn.is_some());
    }
    let mut last = 0;
    for r in &conf.rules {
        assert!(in_range(r.line) && r.line > last, "rule line {} after {last}", r.line);
        last = r.line;
        let ups = if r.ups == "*" { "some-other-ups" } else { r.ups.as_str() };
        assert!(r.matches(ups, &r.notify_type.to_ascii_lowercase()));
        assert!(r.matches(ups, &r.notify_type.to_ascii_uppercase()));
        let hits = conf.matching(ups, &r.notify_type).count();
        let expected = conf.rules.iter().filter(|x| x.matches(ups, &r.notify_type)).count();
        assert_eq!(hits, expected);
        assert!(hits >= 1);
    }
    for w in &conf.warnings {
        let line = match w {
            ConfWarning::Syntax(e) => e.line,
            ConfWarning::InvalidDirective { line, .. } => *line,
            _ => continue,
        };
        assert!(in_range(line), "warning line {line} of {max_line}");
        assert!(!w.to_string().is_empty());
    }
}

/// Feeds `data` to a daemon connection in `chunk`-byte pieces; returns the
/// replies and the daemon.
fn feed(data: &[u8], chunk: usize, t0: Instant) -> (Vec<u8>, Daemon) {
    let mut d = Daemon::new(t0, Duration::from_secs(15));
    let mut c = Connection::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        out.extend(c.handle_input(piece, &mut d, t0));
    }
    (out, d)
}

/// `upssched_daemon`: the daemon's replies do not depend on how the bytes
/// were split; they are only `OK` and `ERR UNKNOWN` lines, at most one per
/// line received (plus one per overlong line); every request line that
/// parses encodes to one line that parses back to the same request; and
/// once far enough in the future every timer has run and the daemon exits.
pub fn upssched_daemon(data: &[u8]) {
    let t0 = Instant::now();
    let (whole, mut d) = feed(data, data.len(), t0);
    let (bytes, _) = feed(data, 1, t0);
    assert_eq!(whole, bytes, "replies depend on the split");
    let (split, _) = feed(data, 7, t0);
    assert_eq!(whole, split, "replies depend on the split");
    let mut replies = 0;
    for line in whole.split_inclusive(|&b| b == b'\n') {
        assert!(
            line == b"OK\n" || line == b"ERR UNKNOWN\n",
            "reply {:?}",
            line.escape_ascii().to_string()
        );
        replies += 1;
    }
    let lfs = data.iter().filter(|&&b| b == b'\n').count();
    assert!(replies <= lfs + data.len() / nut_client::upssched::MAX_REQUEST_LINE + 1);

    for line in data.split(|&b| b == b'\n') {
        if let Ok(r) = Request::parse(line) {
            let enc = r.encode();
            assert_eq!(enc.iter().filter(|&&b| b == b'\n').count(), 1);
            assert_eq!(enc.last(), Some(&b'\n'));
            assert_eq!(Request::parse(&enc[..enc.len() - 1]).as_ref(), Ok(&r), "{r:?}");
        }
    }

    let running = d.timers().len();
    let far = t0 + Duration::from_secs(u64::from(u32::MAX) + 100);
    d.handle_timeout(far);
    let mut runs = 0;
    let mut exit = false;
    while let Some(a) = d.poll_action() {
        match a {
            DaemonAction::Run(_) => runs += 1,
            DaemonAction::Exit => exit = true,
            _ => {}
        }
    }
    assert!(runs >= running, "{runs} runs for {running} timers");
    assert!(d.timers().is_empty());
    d.handle_timeout(far + Duration::from_secs(16));
    while let Some(a) = d.poll_action() {
        exit |= a == DaemonAction::Exit;
    }
    assert!(exit, "the daemon never exits");
}
