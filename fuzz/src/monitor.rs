//! Fuzz target body for `upsmon.conf` (`nut_client::monitor::conf`).

use nut_client::UpsTarget;
use nut_client::monitor::conf::{self, ConfError};
use nut_client::monitor::{Action, Monitor, NotifyKind};
use std::time::{Duration, Instant};

/// Parses `data` as `upsmon.conf`; checks the result, and runs a monitor
/// built from it through a few poll cycles.
///
/// Invariants: no panic; the same input gives the same result, with or
/// without an extra LF at the end; warning and error lines are in range and
/// in file order; MONITOR system names are unique and each parses to its
/// target; `check_power` agrees with the sum of power values; every message
/// format fills in without panicking, and a format without `%` is used as
/// written; a monitor on the configuration polls every UPS once per cycle
/// and issues SHUTDOWNCMD at most once.
pub fn upsmon_conf(data: &[u8]) {
    let r = conf::parse("upsmon.conf", data);
    assert_eq!(r, conf::parse("upsmon.conf", data), "not deterministic");
    let mut with_lf = data.to_vec();
    with_lf.push(b'\n');
    assert_eq!(r, conf::parse("upsmon.conf", &with_lf), "a final LF changed the result");
    let max_line = 1 + data.iter().filter(|&&b| b == b'\n').count();
    let in_range = |line: u32| line >= 1 && line as usize <= max_line;
    let parsed = match r {
        Err(ConfError::OldMonitor { file, line }) => {
            assert!(in_range(line) && file == "upsmon.conf");
            return;
        }
        Err(e) => panic!("unexpected error from parse: {e}"),
        Ok(p) => p,
    };
    let mut last = 0;
    for w in &parsed.warnings {
        assert!(in_range(w.line) && w.line >= last, "warning line {} after {last}", w.line);
        last = w.line;
        assert!(w.to_string().starts_with(&format!("upsmon.conf:{}: ", w.line)));
    }
    let c = parsed.conf;
    for (i, m) in c.monitors.iter().enumerate() {
        assert!(in_range(m.line));
        assert!(c.monitors[..i].iter().all(|o| o.system != m.system), "duplicate {}", m.system);
        assert_eq!(UpsTarget::parse(&m.system).as_ref(), Ok(&m.target));
    }
    let total: u64 = c.monitors.iter().map(|m| u64::from(m.power_value)).sum();
    assert_eq!(c.check_power().is_ok(), total >= u64::from(c.min_supplies));
    for &k in NotifyKind::ALL {
        let msg = c.notify.message(k, "u@h");
        if !c.notify.format(k).contains('%') {
            assert_eq!(msg, c.notify.format(k));
        }
    }
    if c.check_power().is_err() || c.monitors.len() > 8 {
        return;
    }
    let n = c.monitors.len();
    let t0 = Instant::now();
    let mut m = Monitor::new(c, t0);
    let statuses = ["OL", "OB", "OB LB", "FSD OB LB", ""];
    let (mut shutdowns, mut now) = (0, t0);
    for cycle in 0..40usize {
        let Some(due) = m.poll_timeout() else { break };
        now = now.max(due) + Duration::from_millis(1);
        m.handle_timeout(now);
        let mut polls = 0;
        while let Some(a) = m.poll_action() {
            match a {
                Action::Poll(id) => {
                    polls += 1;
                    m.handle_status(id, now, statuses[(cycle + id.0 as usize) % statuses.len()]);
                }
                Action::QueryNumLogins(id) => m.handle_numlogins(id, now, Some(1)),
                Action::Shutdown => shutdowns += 1,
                _ => {}
            }
        }
        assert!(polls == 0 || polls == n, "{polls} polls for {n} UPSes");
    }
    assert!(shutdowns <= 1);
}
