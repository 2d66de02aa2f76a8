//! Property tests of the monitor over random poll results and timings: the
//! shutdown starts exactly when NUT 2.8.0's critical rule and MINSUPPLIES
//! arithmetic say so (checked against a small independent model), and
//! SHUTDOWNCMD is issued at most once, and only after the shutdown started.

use nut_client::monitor::{Action, Monitor, Phase, PollFailure, UpsmonConf, conf};
use proptest::prelude::*;
use std::time::{Duration, Instant};

const OUTCOMES: &[&str] = &[
    "OL",
    "OB",
    "OB LB",
    "OL LB",
    "FSD OB LB",
    "FSD OL",
    "OB LB CAL",
    "OB CAL",
    "LB OB",
    "ob lb",
    "OL CHRG",
    "OB DISCHRG RB",
    "",
    "!connect",
    "!lost",
    "!err",
];

#[derive(Debug, Clone)]
struct Ups {
    pv: u32,
    primary: bool,
}

#[derive(Debug, Clone)]
struct Case {
    ups: Vec<Ups>,
    min_supplies: u32,
    host_sync: u32,
    dead_time: u32,
    /// Per cycle: extra delay (ms) before it starts, and one outcome per UPS.
    cycles: Vec<(u64, Vec<usize>)>,
    logins: Vec<u32>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=3)
        .prop_flat_map(|n| {
            (
                prop::collection::vec((0u32..=2, any::<bool>()), n),
                0u32..=3,
                0u32..=20,
                0u32..=30,
                prop::collection::vec(
                    (0u64..20_000, prop::collection::vec(0..OUTCOMES.len(), n)),
                    1..40,
                ),
                prop::collection::vec(0u32..=3, 1..20),
            )
        })
        .prop_map(|(ups, min, host_sync, dead_time, cycles, logins)| {
            let ups: Vec<Ups> = ups.into_iter().map(|(pv, primary)| Ups { pv, primary }).collect();
            let total: u32 = ups.iter().map(|u| u.pv).sum();
            Case { min_supplies: min.min(total), ups, host_sync, dead_time, cycles, logins }
        })
}

/// The reference model: NUT 2.8.0's flags and rules, in milliseconds.
#[derive(Default, Clone, Debug)]
struct Model {
    ob: bool,
    lb: bool,
    fsd: bool,
    cal: bool,
    last_poll: Option<u64>,
    last_noncrit: Option<u64>,
}

fn since(now: u64, t: Option<u64>) -> u64 {
    t.map_or(u64::MAX, |t| now - t)
}

impl Model {
    fn status(&mut self, now: u64, s: &str) {
        if s.is_empty() {
            return;
        }
        self.last_poll = Some(now);
        let up = s.to_ascii_uppercase();
        self.lb &= up.contains("LB");
        self.fsd &= up.contains("FSD");
        self.cal &= up.contains("CAL");
        for w in up.split(' ') {
            match w {
                "OL" => self.ob = false,
                "OB" => self.ob = true,
                "LB" => self.lb = true,
                "FSD" => self.fsd = true,
                "CAL" => self.cal = true,
                _ => {}
            }
            if !self.ob || !self.lb || self.cal {
                self.last_noncrit = Some(now);
            }
        }
    }

    fn critical(&mut self, now: u64, primary: bool, c: &Case) -> bool {
        if since(now, self.last_poll) > u64::from(c.dead_time) * 1000 && self.ob {
            self.lb = true;
        }
        self.fsd
            || (self.ob
                && self.lb
                && !self.cal
                && (primary || since(now, self.last_noncrit) > u64::from(c.host_sync) * 1000))
    }
}

fn conf_of(c: &Case) -> UpsmonConf {
    let mut text = format!(
        "MINSUPPLIES {}\nHOSTSYNC {}\nDEADTIME {}\nPOLLFREQ 5\nPOLLFREQALERT 2\nFINALDELAY 3\n",
        c.min_supplies, c.host_sync, c.dead_time
    );
    for (i, u) in c.ups.iter().enumerate() {
        let role = if u.primary { "primary" } else { "secondary" };
        text += &format!("MONITOR u{i}@h {} mon pw {role}\n", u.pv);
    }
    let conf = conf::parse("p", text.as_bytes()).unwrap().conf;
    conf.check_power().unwrap();
    conf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn shutdown_iff_critical_and_at_most_once(c in case()) {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let ms_of = |t: Instant| (t - t0).as_millis() as u64;
        let mut m = Monitor::new(conf_of(&c), t0);
        let mut model = vec![Model::default(); c.ups.len()];
        let mut now = 0u64;
        let mut expected_start: Option<usize> = None;
        let mut fsd_sent = 0usize;
        let mut shutdowns = 0usize;
        let mut logins = c.logins.iter().cycle();

        for (k, (delay, outcomes)) in c.cycles.iter().enumerate() {
            let Some(due) = m.poll_timeout() else { break };
            now = now.max(ms_of(due)) + delay;
            m.handle_timeout(at(now));
            let mut polled = 0;
            while let Some(a) = m.poll_action() {
                match a {
                    Action::Poll(id) => {
                        let i = id.0 as usize;
                        let o = OUTCOMES[outcomes[i]];
                        polled += 1;
                        match o {
                            "!connect" => m.handle_poll_failure(id, at(now), PollFailure::ConnectFailed),
                            "!lost" => m.handle_poll_failure(id, at(now), PollFailure::ConnectionLost),
                            "!err" => m.handle_poll_failure(id, at(now), PollFailure::ServerError),
                            s => {
                                model[i].status(now, s);
                                m.handle_status(id, at(now), s);
                            }
                        }
                    }
                    Action::SendFsd(_) => fsd_sent += 1,
                    Action::QueryNumLogins(id) => {
                        m.handle_numlogins(id, at(now), Some(*logins.next().unwrap()))
                    }
                    Action::Shutdown => shutdowns += 1,
                    _ => {}
                }
            }
            prop_assert_eq!(polled, c.ups.len(), "every UPS polled each cycle");
            let val: u64 = c.ups.iter().zip(model.iter_mut())
                .filter_map(|(u, md)| (!md.critical(now, u.primary, &c)).then_some(u64::from(u.pv)))
                .sum();
            let starts = val < u64::from(c.min_supplies);
            prop_assert_eq!(m.phase() != Phase::Monitoring, starts,
                "cycle {}: model says power {} vs MINSUPPLIES {}", k, val, c.min_supplies);
            prop_assert_eq!(m.power_value(at(now)) , val);
            if starts {
                expected_start = Some(k);
                break;
            }
            prop_assert_eq!(fsd_sent + shutdowns, 0);
        }

        // Let the shutdown sequence run out (bounded), then poke it more.
        for _ in 0..10_000 {
            let Some(due) = m.poll_timeout() else { break };
            now = now.max(ms_of(due));
            m.handle_timeout(at(now));
            while let Some(a) = m.poll_action() {
                match a {
                    Action::QueryNumLogins(id) => {
                        m.handle_numlogins(id, at(now), Some(*logins.next().unwrap()))
                    }
                    Action::Shutdown => shutdowns += 1,
                    Action::Poll(id) => m.handle_status(id, at(now), "OL"),
                    _ => {}
                }
            }
            if expected_start.is_none() && now > 400_000 {
                break;
            }
        }
        let before_user_fsd = shutdowns;
        m.request_fsd(at(now + 1));
        m.handle_timeout(at(now + 100_000));
        while let Some(a) = m.poll_action() {
            if a == Action::Shutdown { shutdowns += 1 }
            if let Action::QueryNumLogins(id) = a { m.handle_numlogins(id, at(now + 100_000), Some(1)) }
        }
        match expected_start {
            Some(_) => {
                prop_assert_eq!(shutdowns, 1);
                prop_assert_eq!(fsd_sent, c.ups.iter().filter(|u| u.primary).count());
            }
            None => {
                prop_assert_eq!(before_user_fsd, 0, "no shutdown without a critical state");
                prop_assert!(shutdowns <= 1, "user FSD at the end shuts down at most once");
            }
        }
    }
}
