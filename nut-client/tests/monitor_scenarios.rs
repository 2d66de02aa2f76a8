//! upsmon scenarios on a fake clock: no real time passes, every decision of
//! the sans-IO monitor is checked with the time it was taken.

use nut_client::monitor::{
    Action, Monitor, NotifyKind, Phase, PollFailure, StatusFlags, UpsId, conf,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What a poll returns at a given second.
type Script = Box<dyn FnMut(&str, f64) -> Result<String, PollFailure>>;

/// One monitor under test, driven on the fake clock.
struct Sim {
    m: Monitor,
    t0: Instant,
    now: Instant,
    script: Script,
    numlogins: Box<dyn FnMut(f64) -> Option<u32>>,
    /// `(second, what)`: notifications as `KIND system`, and `FSD ups`,
    /// `NUMLOGINS`, `SHUTDOWNCMD`.
    log: Vec<(f64, String)>,
}

impl Sim {
    fn new(conf_text: &str, script: Script) -> Sim {
        let parsed = conf::parse("upsmon.conf", conf_text.as_bytes()).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        parsed.conf.check_power().unwrap();
        let t0 = Instant::now();
        Sim {
            m: Monitor::new(parsed.conf, t0),
            t0,
            now: t0,
            script,
            numlogins: Box::new(|_| Some(1)),
            log: Vec::new(),
        }
    }

    fn secs(&self) -> f64 {
        (self.now - self.t0).as_secs_f64()
    }

    fn system(&self, id: UpsId) -> String {
        self.m.ups(id).unwrap().def().system.clone()
    }

    fn drain(&mut self) {
        while let Some(a) = self.m.poll_action() {
            let t = self.secs();
            match a {
                Action::Poll(id) => {
                    let sys = self.system(id);
                    match (self.script)(&sys, t) {
                        Ok(s) => self.m.handle_status(id, self.now, &s),
                        Err(f) => self.m.handle_poll_failure(id, self.now, f),
                    }
                }
                Action::Notify(n) => {
                    assert!(!n.message.is_empty());
                    self.log.push((t, format!("{} {}", n.kind, n.system).trim_end().to_string()))
                }
                Action::SendFsd(id) => self.log.push((t, format!("FSD-SENT {}", self.system(id)))),
                Action::QueryNumLogins(id) => {
                    let n = (self.numlogins)(t);
                    self.m.handle_numlogins(id, self.now, n);
                }
                Action::Shutdown => self.log.push((t, "SHUTDOWNCMD".into())),
                Action::Alert(_) | Action::Log(..) | Action::Disconnect(_) => {}
            }
        }
    }

    /// The next deadline, if it comes before `end` seconds.
    fn next(&self, end: f64) -> Option<Instant> {
        self.m.poll_timeout().filter(|&t| (t - self.t0).as_secs_f64() <= end)
    }

    fn step(&mut self, at: Instant) {
        self.now = self.now.max(at);
        self.m.handle_timeout(self.now);
        self.drain();
    }

    /// Runs until `end` seconds (bounded: at most 100,000 steps).
    fn run(&mut self, end: f64) -> &mut Self {
        for _ in 0..100_000 {
            let Some(t) = self.next(end) else { return self };
            self.step(t);
        }
        panic!("runaway simulation");
    }

    fn events(&self) -> Vec<(u32, &str)> {
        self.log.iter().map(|(t, s)| ((t * 1000.0).round() as u32, s.as_str())).collect()
    }

    fn count(&self, what: &str) -> usize {
        self.log.iter().filter(|(_, s)| s == what).count()
    }
}

/// A status timeline: `(from_second, status)`; `""` means a failed poll.
fn timeline(steps: &'static [(f64, &'static str)]) -> Script {
    Box::new(move |_, t| {
        let s = steps.iter().rev().find(|(from, _)| t >= *from).map(|x| x.1).unwrap_or("OL");
        if s == "DOWN" { Err(PollFailure::ConnectionLost) } else { Ok(s.to_string()) }
    })
}

const SEC: &str = "MONITOR ups@h 1 mon pw secondary\n";
const PRI: &str = "MONITOR ups@h 1 mon pw primary\n";

#[test]
fn ol_ob_lb_secondary() {
    let mut s = Sim::new(SEC, timeline(&[(0.0, "OL CHRG"), (10.0, "OB DISCHRG"), (20.0, "OB LB")]));
    s.run(100.0);
    // OB+LB first seen at 20 s; a secondary gives the primary HOSTSYNC
    // (15 s) and gives up at the first poll more than 15 s later (40 s).
    assert_eq!(
        s.events(),
        [
            (10_000, "ONBATT ups@h"),
            (20_000, "LOWBATT ups@h"),
            (40_000, "SHUTDOWN"),
            (45_000, "SHUTDOWNCMD")
        ]
    );
    assert_eq!(s.m.phase(), Phase::ShutdownIssued);
}

#[test]
fn ol_ob_lb_primary() {
    let mut s = Sim::new(PRI, timeline(&[(0.0, "OL"), (10.0, "OB"), (20.0, "OB LB")]));
    s.run(100.0);
    // No FSD notification on the primary (NUT 2.8.0), FSD sent, NUMLOGINS
    // answered 1 at once, SHUTDOWN, FINALDELAY 5 s.
    assert_eq!(
        s.events(),
        [
            (10_000, "ONBATT ups@h"),
            (20_000, "LOWBATT ups@h"),
            (20_000, "FSD-SENT ups@h"),
            (20_000, "SHUTDOWN"),
            (25_000, "SHUTDOWNCMD")
        ]
    );
}

#[test]
fn comm_lost_while_on_battery() {
    // Last seen OB at 5 s; polls fail from 10 s. DEADTIME 15: at the
    // first recalc more than 15 s after the last good poll (25 s) the UPS
    // counts as OB+LB, and a secondary's grace (HOSTSYNC, from its last
    // non-critical poll at 5 s) is over too.
    let mut s = Sim::new(SEC, timeline(&[(0.0, "OB"), (10.0, "DOWN")]));
    s.run(100.0);
    assert_eq!(
        s.events(),
        [
            (0, "ONBATT ups@h"),
            (10_000, "COMMBAD ups@h"),
            (25_000, "SHUTDOWN"),
            (30_000, "SHUTDOWNCMD")
        ]
    );
    assert!(s.m.ups_list()[0].flags().contains(StatusFlags::LOWBATT), "promoted to LB");
}

#[test]
fn comm_lost_while_on_line_never_shuts_down() {
    let mut s = Sim::new(
        &format!("{SEC}NOCOMMWARNTIME 60\n"),
        timeline(&[(0.0, "OL"), (10.0, "DOWN"), (200.0, "OL")]),
    );
    s.run(300.0);
    // NOCOMM once NOCOMMWARNTIME after the last good poll (5 s), then
    // whenever more than NOCOMMWARNTIME passed since the last one; COMMOK when it is back; the first OL is silent
    // and the one after a dropped connection is not (it was already OL).
    assert_eq!(
        s.events(),
        [
            (10_000, "COMMBAD ups@h"),
            (65_000, "NOCOMM ups@h"),
            (130_000, "NOCOMM ups@h"),
            (195_000, "NOCOMM ups@h"),
            (200_000, "COMMOK ups@h")
        ]
    );
}

#[test]
fn upsd_down_at_start_is_nocomm_at_the_second_poll() {
    // NUT 2.8.0: "never polled" is time 0, so the second failure is
    // already NOCOMMWARNTIME past the last good poll.
    let mut s = Sim::new(SEC, Box::new(|_, _| Err(PollFailure::ConnectFailed)));
    s.run(12.0);
    assert_eq!(s.events(), [(0, "COMMBAD ups@h"), (5_000, "NOCOMM ups@h")]);
}

/// One UPS on a fake `upsd`, shared by several monitors.
struct Server {
    status: &'static str,
    fsd: bool,
    logins: u32,
}

#[test]
fn fsd_from_a_primary_with_two_secondaries() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let server = Rc::new(RefCell::new(Server { status: "OL", fsd: false, logins: 3 }));
    let mk = |conf: &str, srv: &Rc<RefCell<Server>>| {
        let srv = Rc::clone(srv);
        Sim::new(
            &format!("{conf}HOSTSYNC 15\nFINALDELAY 2\n"),
            Box::new(move |_, t| {
                let s = srv.borrow();
                let status = if t >= 20.0 {
                    "OB LB"
                } else if t >= 10.0 {
                    "OB"
                } else {
                    s.status
                };
                Ok(if s.fsd { format!("FSD {status}") } else { status.to_string() })
            }),
        )
    };
    let mut sims = [mk(PRI, &server), mk(SEC, &server), mk(SEC, &server)];
    let srv = Rc::clone(&server);
    sims[0].numlogins = Box::new(move |_| Some(srv.borrow().logins));
    let mut logged_out = [false; 3];
    let t0 = sims[0].t0;
    for s in &mut sims[1..] {
        s.t0 = t0;
        s.now = t0;
        s.m = Monitor::new(s.m.conf().clone(), t0);
    }
    // Lockstep: always advance the monitor with the earliest deadline.
    for _ in 0..10_000 {
        let next = sims.iter().enumerate().filter_map(|(i, s)| s.next(60.0).map(|d| (d, i))).min();
        let Some((at, i)) = next else { break };
        for s in sims.iter_mut() {
            s.now = s.now.max(at);
        }
        sims[i].step(at);
        if sims[0].log.iter().any(|(_, e)| e.starts_with("FSD-SENT")) {
            server.borrow_mut().fsd = true;
        }
        // A secondary that ran SHUTDOWNCMD exits: its login goes away.
        for k in 1..3 {
            if !logged_out[k] && sims[k].count("SHUTDOWNCMD") == 1 {
                logged_out[k] = true;
                server.borrow_mut().logins -= 1;
            }
        }
    }
    let fsd_at = sims[0].log.iter().find(|(_, e)| e.starts_with("FSD-SENT")).unwrap().0;
    assert_eq!(fsd_at, 20.0, "primary sets FSD as soon as it sees OB LB");
    for s in &sims[1..] {
        let ev: Vec<&str> = s.log.iter().map(|(_, e)| e.as_str()).collect();
        // upsd puts FSD first ("FSD OB LB"), so FSD is seen before LB.
        assert_eq!(ev, ["ONBATT ups@h", "FSD ups@h", "LOWBATT ups@h", "SHUTDOWN", "SHUTDOWNCMD"]);
        assert!(s.log[1].0 >= 20.0 && s.log[1].0 <= 25.0, "secondary sees FSD at its next poll");
    }
    let sec_done = sims[1..].iter().map(|s| s.log[4].0).fold(0.0, f64::max);
    let p = &sims[0];
    let shut = p.log.iter().find(|(_, e)| e == "SHUTDOWN").unwrap().0;
    assert!(shut >= sec_done, "primary waits for the secondaries ({shut} < {sec_done})");
    assert!(shut - fsd_at < 15.0, "before HOSTSYNC expires");
    assert_eq!(p.count("SHUTDOWNCMD"), 1);
    assert_eq!(p.count("FSD ups@h"), 0, "2.8.0: no FSD notification on the primary");
}

#[test]
fn primary_hostsync_expires_when_a_secondary_stays() {
    let mut s = Sim::new(&format!("{PRI}HOSTSYNC 3\n"), timeline(&[(0.0, "OB LB")]));
    s.numlogins = Box::new(|_| Some(2));
    s.run(30.0);
    // FSD at 0, NUMLOGINS every 250 ms; gives up when more than 3 s passed.
    assert_eq!(s.events()[..3], [(0, "ONBATT ups@h"), (0, "LOWBATT ups@h"), (0, "FSD-SENT ups@h")]);
    assert_eq!(s.events()[3..], [(3_250, "SHUTDOWN"), (8_250, "SHUTDOWNCMD")]);
}

#[test]
fn power_back_during_the_shutdown_wait() {
    // Primary: once FSD is set the shutdown is committed (the UPS will cut
    // the power anyway), even if the power comes back while waiting.
    let mut s = Sim::new(&format!("{PRI}HOSTSYNC 5\n"), timeline(&[(0.0, "OB LB"), (1.0, "OL")]));
    s.numlogins = Box::new(|_| Some(2));
    s.run(60.0);
    assert_eq!(s.count("SHUTDOWNCMD"), 1);
    assert_eq!(s.count("ONLINE ups@h"), 0, "no polling while waiting");
    // Secondary: the power comes back within its HOSTSYNC grace: no shutdown.
    let mut s = Sim::new(SEC, timeline(&[(0.0, "OL"), (5.0, "OB LB"), (15.0, "OL CHRG")]));
    s.run(120.0);
    assert_eq!(
        s.events(),
        [(5_000, "ONBATT ups@h"), (5_000, "LOWBATT ups@h"), (15_000, "ONLINE ups@h")]
    );
    assert_eq!(s.m.phase(), Phase::Monitoring);
}

#[test]
fn flapping_power() {
    let mut s = Sim::new(
        &format!("{SEC}POLLFREQ 10\nPOLLFREQALERT 2\n"),
        Box::new(|_, t| Ok(if (t as u64 / 7) % 2 == 1 { "OB" } else { "OL" }.to_string())),
    );
    s.run(200.0);
    let ob = s.count("ONBATT ups@h");
    let ol = s.count("ONLINE ups@h");
    assert!(ob >= 5 && (ol == ob || ol + 1 == ob), "{ob} ONBATT, {ol} ONLINE");
    assert_eq!(s.count("SHUTDOWNCMD"), 0);
    // Events alternate, starting with ONBATT.
    for (i, (_, e)) in s.log.iter().enumerate() {
        assert_eq!(e, if i % 2 == 0 { "ONBATT ups@h" } else { "ONLINE ups@h" });
    }
    // On battery it polls every 2 s, on line every 10 s.
    let on_batt = s.log.iter().position(|(_, e)| e == "ONBATT ups@h").unwrap();
    let t = s.log[on_batt].0;
    assert!(s.log[on_batt + 1].0 - t <= 9.0, "POLLFREQALERT used on battery");
}

#[test]
fn ups_that_never_reports_lb() {
    let mut s = Sim::new(PRI, timeline(&[(0.0, "OL"), (1.0, "OB DISCHRG")]));
    s.run(24.0 * 3600.0);
    assert_eq!(s.events(), [(5_000, "ONBATT ups@h")]);
    assert_eq!(s.m.phase(), Phase::Monitoring);
}

#[test]
fn several_upses_with_minsupplies_2() {
    let conf = "MONITOR a@h 1 u p primary\nMONITOR b@h 1 u p primary\nMONITOR c@h 1 u p primary\nMINSUPPLIES 2\n";
    let states: BTreeMap<&str, &[(f64, &str)]> = BTreeMap::from([
        ("a@h", &[(0.0, "OL"), (10.0, "OB LB")][..]),
        ("b@h", &[(0.0, "OL"), (30.0, "OB"), (40.0, "OB LB")][..]),
        ("c@h", &[(0.0, "OL")][..]),
    ]);
    let mut s = Sim::new(
        conf,
        Box::new(move |sys, t| {
            let st = states[sys];
            Ok(st.iter().rev().find(|(f, _)| t >= *f).unwrap().1.to_string())
        }),
    );
    s.run(35.0);
    assert_eq!(s.count("SHUTDOWN"), 0, "one of three critical: 2 >= MINSUPPLIES");
    s.run(100.0);
    let e = s.events();
    assert_eq!(
        e[e.len() - 6..],
        [
            (40_000, "LOWBATT b@h"),
            (40_000, "FSD-SENT a@h"),
            (40_000, "FSD-SENT b@h"),
            (40_000, "FSD-SENT c@h"),
            (40_000, "SHUTDOWN"),
            (45_000, "SHUTDOWNCMD")
        ]
    );
    assert_eq!(s.count("SHUTDOWNCMD"), 1);
}

#[test]
fn monitor_only_and_minsupplies_0() {
    let mut s =
        Sim::new("MONITOR a@h 0 u p secondary\nMINSUPPLIES 0\n", timeline(&[(0.0, "FSD OB LB")]));
    s.run(100.0);
    assert_eq!(s.events(), [(0, "FSD a@h"), (0, "ONBATT a@h"), (0, "LOWBATT a@h")]);
}

#[test]
fn calibration_is_not_critical() {
    let mut s = Sim::new(SEC, timeline(&[(0.0, "OB LB CAL"), (60.0, "OB LB")]));
    s.run(59.0);
    assert_eq!(s.count("SHUTDOWN"), 0);
    s.run(120.0);
    assert!(s.events().contains(&(60_000, "NOTCAL ups@h")));
    // Calibration over: the grace starts at the last non-critical poll (55 s).
    let shut = s.log.iter().find(|(_, e)| e == "SHUTDOWN").unwrap().0;
    assert_eq!(shut, 75.0);
}

#[test]
fn replbatt_at_most_every_rbwarntime() {
    let mut s = Sim::new(&format!("{SEC}RBWARNTIME 60\n"), timeline(&[(0.0, "OL RB")]));
    s.run(130.0);
    assert_eq!(
        s.events(),
        [(0, "REPLBATT ups@h"), (65_000, "REPLBATT ups@h"), (130_000, "REPLBATT ups@h")]
    );
}

#[test]
fn user_fsd_and_notifymsg() {
    let mut s = Sim::new(
        &format!("{PRI}NOTIFYMSG SHUTDOWN \"bye %s %d%%\"\nNOTIFYFLAG SHUTDOWN EXEC\n"),
        timeline(&[(0.0, "OL")]),
    );
    s.run(7.0);
    s.m.request_fsd(s.now);
    let mut shutdown_msg = None;
    while let Some(a) = s.m.poll_action() {
        match a {
            Action::Notify(n) if n.kind == NotifyKind::Shutdown => {
                assert!(n.flags.exec() && !n.flags.wall());
                shutdown_msg = Some(n.message)
            }
            Action::QueryNumLogins(id) => s.m.handle_numlogins(id, s.now, None),
            _ => {}
        }
    }
    assert_eq!(shutdown_msg.as_deref(), Some("bye  %d%"));
    assert_eq!(s.m.phase(), Phase::FinalDelay);
    s.run(20.0);
    assert_eq!(s.count("SHUTDOWNCMD"), 1);
    // Nothing after the shutdown.
    s.m.request_fsd(s.now);
    s.m.handle_timeout(s.now + Duration::from_secs(100));
    assert!(s.m.poll_action().is_none());
    assert_eq!(s.m.poll_timeout(), None);
}

#[test]
fn reload_keeps_state_and_applies_changes() {
    let mut s = Sim::new(SEC, timeline(&[(0.0, "OB")]));
    s.run(1.0);
    let id = s.m.ups_list()[0].id();
    let new = conf::parse(
        "r",
        b"MONITOR ups@h 1 mon pw2 secondary\nMONITOR b@h 1 u p secondary\nPOLLFREQ 9\n",
    )
    .unwrap()
    .conf;
    s.m.reload(new, s.now).unwrap();
    assert_eq!(s.m.poll_action(), Some(Action::Disconnect(id)), "password changed");
    assert_eq!(s.m.ups_list().len(), 2);
    assert!(s.m.ups(id).unwrap().flags().contains(StatusFlags::ONBATT), "state kept");
    let bad = conf::parse("r", b"MONITOR ups@h 0 mon pw secondary\n").unwrap().conf;
    assert!(s.m.reload(bad, s.now).is_err());
    assert_eq!(s.m.ups_list().len(), 2, "unchanged after a failed reload");
}

#[test]
fn empty_status_and_server_errors_are_comm_failures() {
    let mut s = Sim::new(
        SEC,
        Box::new(|_, t| match t as u64 {
            0..=4 => Ok("OL".into()),
            5..=9 => Ok(String::new()),
            10..=14 => Err(PollFailure::ServerError),
            _ => Ok("OL".into()),
        }),
    );
    s.run(20.0);
    assert_eq!(s.events(), [(5_000, "COMMBAD ups@h"), (15_000, "COMMOK ups@h")]);
}

#[test]
fn noparent_at_most_every_two_minutes() {
    let mut s = Sim::new(SEC, timeline(&[(0.0, "OL")]));
    for sec in 0..300u64 {
        s.m.handle_parent_gone(s.t0 + Duration::from_secs(sec));
    }
    let kinds: Vec<NotifyKind> = std::iter::from_fn(|| s.m.poll_action())
        .filter_map(|a| match a {
            Action::Notify(n) => Some(n.kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, [NotifyKind::NoParent; 3], "at 0, 120 and 240 s");
}

#[test]
fn ignored_events_are_reported_with_their_flags() {
    let mut s = Sim::new(&format!("{SEC}NOTIFYFLAG ONBATT IGNORE\n"), timeline(&[(0.0, "OB")]));
    s.m.handle_timeout(s.now);
    let Some(Action::Poll(id)) = s.m.poll_action() else { panic!() };
    s.m.handle_status(id, s.now, "OB");
    let Some(Action::Notify(n)) = s.m.poll_action() else { panic!() };
    assert_eq!(n.kind, NotifyKind::OnBatt);
    assert!(n.flags.is_ignored() && !n.flags.syslog() && !n.flags.wall() && !n.flags.exec());
}

#[test]
fn head_events_for_newer_status_words() {
    let mut s = Sim::new(SEC, timeline(&[(0.0, "OL"), (5.0, "OL BYPASS OVER TRIM"), (10.0, "OL")]));
    s.run(12.0);
    assert_eq!(
        s.events(),
        [
            (5_000, "BYPASS ups@h"),
            (5_000, "OVER ups@h"),
            (5_000, "TRIM ups@h"),
            (10_000, "NOTBYPASS ups@h"),
            (10_000, "NOTOVER ups@h"),
            (10_000, "NOTTRIM ups@h")
        ]
    );
}
