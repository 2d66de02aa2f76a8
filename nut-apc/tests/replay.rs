//! Every `.apc` recording replayed through the session against a
//! simulated unit; expected values come from the recordings and from
//! NUT 2.8.0's tables (apcsmart_tabs.c), each justified in a comment.

mod common;

use common::*;
use nut_apc::{Event, Session};
use std::collections::BTreeMap;
use std::time::Duration;

fn vars(h: &Harness) -> BTreeMap<String, String> {
    h.rec.tree().vars().map(|(k, v)| (k.to_string(), v.value.to_string())).collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn typical_results_old_unit_path() {
    // The file has no "a" answer, so the unit answers NA to it: NUT's
    // "very old or unknown APC model" path (oldapcsetup), which verifies
    // exactly ups.temperature, ups.load, input/output voltage, battery
    // charge/voltage, model, serial, firmware and output.current.
    let mut h = Harness::start(Sim::from_file("smart-protocol-typical-results.apc"));
    assert!(h.run_until(SECS(60), |e| *e == Event::Ready));
    h.run_for(SECS(1));
    assert_eq!(
        vars(&h),
        expect(&[
            ("battery.charge", "099.0"),    // f
            ("battery.voltage", "27.87"),   // B
            ("input.voltage", "118.3"),     // L
            ("output.voltage", "118.3"),    // O
            ("ups.firmware", "50.9.D"),     // b matches x.y.z, so it wins over V
            ("ups.load", "023.5"),          // P
            ("ups.mfr", "APC"),             // hard-coded by the driver
            ("ups.model", "SMART-UPS 700"), // ^A answered, no output.current
            ("ups.serial", "WS9643050926"), // n
            ("ups.status", "OL"),           // Q = 08: bit 3
            ("ups.temperature", "036.0"),   // C
        ])
    );
    assert!(h.rec.commands().is_empty());
    assert_eq!(h.events[..3], [Event::DataOk, Event::EarlyStatus, Event::Ready]);
    // The handshake: Y, the early status Q, then V (firmware lookup; V
    // answered, so b is not asked, and GWD is not in the compat table),
    // then a.
    let sent = h.written_since(0);
    assert_eq!(&sent[..4], b"YQVa");
}

#[test]
fn typical_results_with_command_set_and_capabilities() {
    // A unit that lists every command of the typical-results file (plus
    // ^Z) in its "a" answer and gives the capability example of the
    // status/capabilities file. "a" is synthetic: protocol 3, alerts,
    // commands.
    let lines = parse(&data("smart-protocol-typical-results.apc"));
    let mut cmds: Vec<u8> = Vec::new();
    for l in &lines {
        if let Line::Query(q) = l {
            if q.len() == 1 && !cmds.contains(&q[0]) {
                cmds.push(q[0]);
            }
        }
    }
    cmds.push(0x1a);
    let mut a = b"3.!$%+?=#|.".to_vec();
    a.extend_from_slice(&cmds);
    a.extend_from_slice(b"\r\n");
    let mut sim = Sim::new(answers(&lines));
    sim.set(b'a', &a);
    let caps = answers(&parse(&data("smart-protocol-status-and-capabilities.apc")));
    sim.table.insert(0x1a, caps[&0x1a].clone());
    let mut h = Harness::start(sim);
    assert!(h.run_until(SECS(120), |e| *e == Event::Ready));
    h.run_for(SECS(1));
    assert_eq!(
        vars(&h),
        expect(&[
            ("ambient.1.humidity.high", "NO"), // { = NO,NO: packed, two fields
            ("ambient.1.humidity.low", "NO"),
            ("ambient.1.temperature.high", "NO"),
            ("ambient.1.temperature.low", "NO"),
            ("ambient.2.humidity.high", "NO"),
            ("ambient.2.humidity.low", "NO"),
            ("ambient.2.temperature.high", "NO"),
            ("ambient.2.temperature.low", "NO"),
            ("ambient.humidity", "042.4"),
            ("ambient.temperature", "80.5"),
            ("battery.alarm.threshold", "0"),
            ("battery.charge", "099.0"),
            ("battery.date", "11/29/96"),
            ("battery.packs.bad", "000"),
            ("battery.runtime", "19620"), // j = 0327: minutes -> 327 * 60
            ("battery.runtime.low", "120"), // q = 02 minutes
            ("battery.voltage", "27.87"),
            ("battery.voltage.nominal", "024"),
            ("input.frequency", "60.00"),
            ("input.quality", "FF"),
            ("input.sensitivity", "H"),
            ("input.transfer.high", "132"),
            ("input.transfer.low", "103"),
            ("input.transfer.reason", "no transfers yet since turnon"), // G = O
            ("input.voltage", "118.3"),
            ("input.voltage.maximum", "118.9"),
            ("input.voltage.minimum", "118.9"),
            ("output.voltage", "118.3"),
            ("output.voltage.nominal", "115"),
            ("ups.contacts", "00"),
            ("ups.delay.shutdown", "020"), // seconds, unchanged
            ("ups.delay.start", "000"),
            ("ups.firmware", "50.9.D"),
            ("ups.firmware.aux", "4Kx"),
            ("ups.load", "023.5"),
            ("ups.mfr", "APC"),
            ("ups.mfr.date", "11/29/96"),
            ("ups.model", "SMART-UPS 700"),
            ("ups.serial", "WS9643050926"),
            ("ups.status", "OL"),
            ("ups.temperature", "036.0"),
            ("ups.test.interval", "1209600"), // E = 336 hours
            ("ups.test.result", "OK"),
        ])
    );
    // S and W are commands; R, Y, y, z, DEL, Q, ^Z are never probed.
    let mut c = h.rec.commands();
    c.sort();
    assert_eq!(c, ["shutdown.return", "test.battery.start", "test.battery.stop"]);
    // Capabilities: firmware 50.9.D ends in D, so the locale-D choices of
    // u (132 135 138 129) make input.transfer.high an enumerated RW var.
    let v = h.rec.tree().get("input.transfer.high").unwrap();
    assert!(v.flags.rw);
    assert_eq!(
        v.enums.iter().map(String::as_str).collect::<Vec<_>>(),
        ["132", "135", "138", "129"]
    );
    // battery.date is a writable string of 8 bytes.
    let d = h.rec.tree().get("battery.date").unwrap();
    assert!(d.flags.rw && d.flags.string && d.aux == 8);
    // Unprobed bytes never went out.
    let sent = h.written_since(0);
    for b in [b'R', b'y', b'z', 0x7f, b'S', b'W'] {
        assert!(!sent.contains(&b), "{b:#x} sent");
    }
}

#[test]
fn status_examples_replay_in_order() {
    // Q answers 08, 10, 50 on three successive polls; each "=" line of the
    // file is the status after that exchange.
    let lines = parse(&data("smart-protocol-status-and-capabilities.apc"));
    let expected: Vec<String> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Expect(k, v) if k == "ups.status" => Some(v.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(expected.len(), 3);
    let mut h = Harness::start(Sim::new(answers(&lines)));
    // The first Q comes right after smart mode, before identification.
    assert!(h.run_until(SECS(60), |e| *e == Event::EarlyStatus));
    let mut seen = vec![h.get("ups.status").unwrap().to_string()];
    assert!(h.run_until(SECS(60), |e| *e == Event::Ready));
    for i in 2..=3 {
        while h.sim.received.iter().filter(|&&b| b == b'Q').count() < i {
            h.run_for(Duration::from_millis(100));
        }
        h.run_for(Duration::from_millis(500));
        seen.push(h.get("ups.status").unwrap().to_string());
    }
    assert_eq!(seen, expected);
    // Nothing else answered, so NUT's old-unit path names it Smart-UPS.
    assert_eq!(h.get("ups.model"), Some("Smart-UPS"));
}

#[test]
fn issue_757_matrix_by_output_current() {
    // V = FWI (not in the compat table), no "a" -> old-unit path; "/"
    // answers 00.88, so output.current exists and NUT names the model
    // Matrix-UPS. Q is not recorded (NA): the first status read fails.
    // The recording starts after smart mode: the unit did answer Y.
    let mut sim = Sim::from_file("smart-ups-1500-rm-sua1500rmi2u_issue757.apc");
    sim.set(b'Y', b"SM\r\n");
    let mut h = Harness::start(sim);
    assert!(h.run_until(SECS(60), |e| *e == Event::DataStale));
    assert_eq!(
        vars(&h),
        expect(&[
            ("output.current", "00.88"),
            ("ups.firmware", "FWI"),
            ("ups.mfr", "APC"),
            ("ups.model", "Matrix-UPS"),
        ])
    );
}

#[test]
fn issue_180_firmware_from_v() {
    let mut sim = Sim::from_file("smart-ups-rt-10000-xl_issue180.apc");
    sim.set(b'Y', b"SM\r\n");
    let mut h = Harness::start(sim);
    assert!(h.run_until(SECS(60), |e| *e == Event::Ready));
    // b answers NA, so V's 5YW is the firmware; no ^A, no "/": Smart-UPS.
    assert_eq!(h.get("ups.firmware"), Some("5YW"));
    assert_eq!(h.get("ups.model"), Some("Smart-UPS"));
}

/// The command sets of old firmware, from the data file (see its
/// README for the `\1` = 0x01 reading).
fn compat_lines() -> Vec<(Vec<u8>, Vec<u8>)> {
    data("old-firmware-command-sets.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            let fix = |b: Vec<u8>| {
                let mut out = Vec::new();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'\\' && b.get(i + 1) == Some(&b'1') {
                        out.push(1);
                        i += 2;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                out
            };
            (fix(unescape(k)), fix(unescape(v)))
        })
        .collect()
}

#[test]
fn old_firmware_uses_compat_table() {
    let lines = compat_lines();
    assert_eq!(lines.len(), 25);
    // NUT's command table (apc_cmdtab): byte -> instant commands.
    let cmd_names: &[(u8, &[&str])] = &[
        (b'@', &["shutdown.return"]),
        (b'S', &["shutdown.return"]),
        (b'K', &["shutdown.stayoff"]),
        (b'Z', &["load.off"]),
        (0x0e, &["load.on"]),
        (b'D', &["calibrate.start", "calibrate.stop"]),
        (b'A', &["test.panel.start"]),
        (b'U', &["test.failure.start"]),
        (b'W', &["test.battery.start", "test.battery.stop"]),
        (b'^', &["bypass.start", "bypass.stop"]),
    ];
    for (key, set) in lines {
        let mut sim = Sim::new(Default::default());
        for &c in &set {
            sim.set(c, b"12\r\n");
        }
        // The unit's firmware answer: the key through V when V is in its
        // set, else through b; set\1 stands for any two hex digits.
        let fw: &[u8] = if key == b"set\x01" { b"4F" } else { &key };
        let fw_cmd = if set.contains(&b'V') { b'V' } else { b'b' };
        let mut a = fw.to_vec();
        a.extend_from_slice(b"\r\n");
        sim.set(fw_cmd, &a);
        sim.set(0x01, b"TEST MODEL\r\n");
        sim.set(b'Y', b"SM\r\n");
        let mut h = Harness::start(sim);
        let name = String::from_utf8_lossy(&key).into_owned();
        assert!(h.run_until(SECS(120), |e| *e == Event::Ready), "{name}");
        h.run_for(SECS(1));
        let sent = h.written_since(0);
        assert!(!sent.contains(&b'a') && !sent.contains(&0x1a), "{name}: asked a or ^Z");
        let model = if set.contains(&0x01) {
            "TEST MODEL"
        } else if key[0] == b'0' || key[0] == b'5' {
            "Matrix-UPS"
        } else {
            "Smart-UPS"
        };
        assert_eq!(h.get("ups.model"), Some(model), "{name}");
        assert_eq!(h.get("ups.firmware").map(str::as_bytes), Some(fw), "{name}");
        let mut want: Vec<&str> = cmd_names
            .iter()
            .filter(|(c, _)| set.contains(c))
            .flat_map(|(_, n)| n.iter().copied())
            .collect();
        want.sort();
        want.dedup();
        let mut got = h.rec.commands();
        got.sort();
        got.dedup();
        assert_eq!(got, want, "{name}");
        // A few variables whose bytes are in every set: P ups.load, B
        // battery.voltage, L input.voltage (answer "12", unconverted).
        for v in ["ups.load", "battery.voltage"] {
            assert_eq!(h.get(v), Some("12"), "{name} {v}");
        }
        // E (hours) when in the set: 12 h = 43200 s.
        if set.contains(&b'E') {
            assert_eq!(h.get("ups.test.interval"), Some("43200"), "{name}");
        } else {
            assert_eq!(h.get("ups.test.interval"), None, "{name}");
        }
        // j (minutes): 12 min = 720 s.
        if set.contains(&b'j') {
            assert_eq!(h.get("battery.runtime"), Some("720"), "{name}");
        }
        assert_eq!(h.get("ups.status"), Some("TRIM OB"), "{name}: Q = 12 hex");
    }
}

#[test]
fn session_is_send() {
    fn is_send<T: Send>() {}
    is_send::<Session>();
}
