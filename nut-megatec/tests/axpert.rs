//! Voltronic-Axpert (Voltronic-Sunny), NUT later than 2.8.0: its hooks on
//! the answers of NUT's self-test table (`tests/data/selftest/
//! voltronic-axpert.qx`, every query and answer framed with its CRC, as a
//! real unit does), the settings and commands they unlock, and refused
//! answers. Expected values are what NUT master's hooks make of the same
//! answers.

mod common;

use common::{Device, exchanges, load, protocol_of, run};
use nut_megatec::{AnswerError, CommandError, Config, Event, Session, apply_answer, crc, protocol};
use nut_proto::publish::{Publish, Recorder};
use std::time::Duration;

const FILE: &str = "selftest/voltronic-axpert.qx";

fn framed(b: &[u8]) -> Vec<u8> {
    crc::add(b).unwrap_or_else(|| b.to_vec())
}

/// The file's exchanges with CRCs, `QFLAG` answering `qflag` instead.
fn device(qflag: Option<&[u8]>) -> Device {
    Device::new(
        exchanges(&load(FILE))
            .into_iter()
            .map(|(q, a)| {
                let a = match qflag {
                    Some(f) if q == b"QFLAG\r" => f.to_vec(),
                    _ => a,
                };
                (framed(&q), framed(&a))
            })
            .collect(),
    )
}

fn session(qflag: Option<&[u8]>) -> (Session<Recorder>, Vec<Event>, Device) {
    let mut c = Config::default();
    c.set("protocol", Some("voltronic-axpert")).unwrap();
    let mut dev = device(qflag);
    let (s, events) = run(c, &mut dev, 2);
    assert_eq!(protocol_of(&events), Some("Voltronic-Axpert 0.02"), "{events:?}");
    assert!(events.contains(&Event::Initialized), "{events:?}");
    (s, events, dev)
}

fn get<'a>(s: &'a Session<Recorder>, var: &str) -> Option<&'a str> {
    s.publisher().getinfo(var)
}

fn unsupported(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AnswerRefused(a @ AnswerError::Unsupported { .. }) => Some(a.to_string()),
            _ => None,
        })
        .collect()
}

/// The hooks of NUT master's default build on the table's answers.
#[test]
fn default_build_items() {
    let (s, events, _) = session(None);
    // QPI, QVFW (a C hex float, published as read), QVFW2.
    assert_eq!(get(&s, "device.firmware.aux"), Some("P30"));
    assert_eq!(get(&s, "device.firmware"), Some("0X00074.50"));
    assert_eq!(get(&s, "device.firmware.main"), Some("0X00074.50"));
    assert_eq!(get(&s, "device.firmware.scc1"), Some("0X00000.00"));
    // QFLAG (EbgpDa): the beeper (a) is disabled, energy saving (j)
    // unknown; the beeper commands are offered.
    assert_eq!(get(&s, "ups.beeper.status"), Some("disabled"));
    assert_eq!(get(&s, "battery.energysave"), None);
    let cmds: Vec<&str> = s.publisher().tree().commands().collect();
    assert!(cmds.contains(&"beeper.enable") && cmds.contains(&"beeper.disable"), "{cmds:?}");
    // QPIRI #13 0 = AGM, #20 01 = Off-grid, #22 0 = transformerless.
    assert_eq!(get(&s, "battery.type"), Some("AGM"));
    assert_eq!(get(&s, "device.model.type"), Some("Off-grid"));
    assert_eq!(get(&s, "device.description"), Some("Transformerless"));
    // The subdriver's initinfo.
    assert_eq!(get(&s, "device.type"), Some("scd"));
    // QPIWS: no warning bit set, no alarm.
    assert_eq!(get(&s, "ups.alarm"), None);
    // Every hook of the table is implemented.
    assert!(unsupported(&events).is_empty(), "{:?}", unsupported(&events));
}

/// `QCHGS` (sent with its CRC): the charger settings and the ranges that
/// depend on the firmware version read from `QVFW`.
#[test]
fn charger_settings_and_ranges() {
    let (s, _, _) = session(None);
    let tree = s.publisher().tree();
    let var = |n: &str| tree.get(n).unwrap_or_else(|| panic!("{n} missing"));
    assert_eq!(var("experimental.battery.charging.voltage.floating").value, "54.0");
    assert_eq!(var("experimental.battery.charging.current.high").value, "25.0");
    assert_eq!(var("experimental.battery.charging.current.high").ranges, [(0, 25)]);
    // 47..50 V bulk from firmware 0x74.5 (>= 0.3), not 47..57.
    assert_eq!(var("experimental.battery.charging.voltage.bulk").value, "55.4");
    assert_eq!(var("experimental.battery.charging.voltage.bulk").ranges, [(47, 50)]);
}

/// A `QFLAG` with the energy-saving flag makes `battery.energysave`
/// writable; its setter sends `PEJ`/`PDJ` with their CRC.
#[test]
fn energysave_setting() {
    let (mut s, _, _) = session(Some(b"(EajDbgp\r"));
    assert_eq!(get(&s, "ups.beeper.status"), Some("enabled"));
    assert_eq!(get(&s, "battery.energysave"), Some("yes"));
    let now = Duration::from_secs(1000);
    let id = s.setvar("battery.energysave", "no", now);
    assert_eq!(s.poll_transmit(), Some(framed(b"PDJ\r")));
    s.handle_answer(&framed(b"(ACK\r"), now);
    let done = std::iter::from_fn(|| s.poll_event()).find_map(|e| match e {
        Event::CommandDone { id: i, result } if i == id => Some(result),
        _ => None,
    });
    assert_eq!(done, Some(Ok(())));
    let id = s.setvar("battery.energysave", "maybe", now);
    let done = std::iter::from_fn(|| s.poll_event()).find_map(|e| match e {
        Event::CommandDone { id: i, result } if i == id => Some(result),
        _ => None,
    });
    assert!(matches!(done, Some(Err(CommandError::InvalidValue { .. }))), "{done:?}");
}

fn apply(query: &[u8], answer: &[u8]) -> (Recorder, Vec<AnswerError>) {
    let mut p = Recorder::new();
    let errors = apply_answer(&protocol::VOLTRONIC_AXPERT, query, &framed(answer), &mut p);
    (p, errors)
}

/// `QPIWS`: the warning texts (explicit when short, by bit number when
/// long), `LB`/`OVER`, unknown bits, refused characters.
#[test]
fn warnings() {
    let mut bits = [b'0'; 32];
    bits[15] = b'1';
    bits[18] = b'1';
    bits[20] = b'1';
    let mut ans = b"(".to_vec();
    ans.extend_from_slice(&bits);
    ans.push(b'\r');
    let (mut p, errors) = apply(b"QPIWS\r", &ans);
    assert!(errors.is_empty(), "{errors:?}");
    p.alarm_commit();
    assert_eq!(
        p.getinfo("ups.alarm"),
        Some("Device warnings: Low battery. Overload. Unknown warnings [bit: #21]")
    );
    // Every known bit: too long to spell out.
    let mut bits = [b'1'; 32];
    bits[20] = b'-';
    let mut ans = b"(".to_vec();
    ans.extend_from_slice(&bits);
    ans.push(b'\r');
    let (mut p, errors) = apply(b"QPIWS\r", &ans);
    assert!(errors.is_empty(), "{errors:?}");
    p.alarm_commit();
    let alarm = p.getinfo("ups.alarm").unwrap();
    assert!(
        alarm.starts_with("Device warnings: Known (see log or manual) [bit: #01, #02, #03,"),
        "{alarm}"
    );
    assert!(
        alarm.ends_with("#25]; Unknown warnings [bit: #22, #26, #27, #28, #29, #30, #31, #32]"),
        "{alarm}"
    );
    // A byte other than 0, 1, '-' refuses the answer, naming query and hook.
    let (_, errors) = apply(b"QPIWS\r", b"(0000000000000000000000000000000x\r");
    let e = errors.first().expect("refused").to_string();
    assert!(e.contains("QPIWS") && e.contains("voltronic_sunny_warning"), "{e}");
}

/// Bad and short answers: refused with the query and the field named, no
/// value published.
#[test]
fn bad_answers() {
    // Battery type 2 ("User") is beyond NUT's 0/1 check; model type 12 is
    // unknown; a transformer flag other than 0/1.
    let qpiri = b"(230.0 21.7 230.0 50.0 21.7 5000 5000 48.0 46.0 42.0 56.4 54.0 2 30 060 0 0 2 9 12 x 1 54.0 0 1 000\r";
    let (p, errors) = apply(b"QPIRI\r", qpiri);
    for var in ["battery.type", "device.model.type", "device.description"] {
        assert_eq!(p.getinfo(var), None, "{var}");
        assert!(
            errors.iter().any(|e| matches!(e, AnswerError::Hook { query, var: v, .. } if query == "QPIRI" && *v == var)),
            "{var}: {errors:?}"
        );
    }
    assert_eq!(p.getinfo("input.voltage.nominal"), Some("230.0"));
    // Short QVFW: refused before the hook.
    let (p, errors) = apply(b"QVFW\r", b"(VERFW:0\r");
    assert_eq!(p.getinfo("device.firmware"), None);
    assert!(errors.iter().any(|e| e.to_string().contains("QVFW")), "{errors:?}");
    // QFLAG without flags, and with a bad CRC.
    let (p, errors) = apply(b"QFLAG\r", b"(ED\r");
    assert_eq!(p.getinfo("ups.beeper.status"), None);
    assert!(!errors.is_empty());
    let mut p = Recorder::new();
    let mut bad = framed(b"(EaDj\r");
    bad[3] ^= 1;
    let errors = apply_answer(&protocol::VOLTRONIC_AXPERT, b"QFLAG\r", &bad, &mut p);
    assert_eq!(p.getinfo("ups.beeper.status"), None);
    assert!(errors.iter().any(|e| e.to_string().contains("checkcrc")), "{errors:?}");
    // NUT's strtok: with no enabled flag the disabled ones read as enabled.
    let (p, _) = apply(b"QFLAG\r", b"(EDaj\r");
    assert_eq!(p.getinfo("ups.beeper.status"), Some("enabled"));
    // Garbage and empty answers never panic.
    for junk in [&b""[..], b"(", b"\r", b"(\xff\xfe\r", b"((((((((((((((((((((((((\r"] {
        for q in
            [&b"QPIWS\r"[..], b"QFLAG\r", b"QPIRI\r", b"QVFW\r", b"QMOD\r", b"QT\r", b"QPIFS\r"]
        {
            let mut p = Recorder::new();
            let _ = apply_answer(&protocol::VOLTRONIC_AXPERT, q, &framed(junk), &mut p);
            let _ = apply_answer(&protocol::VOLTRONIC_AXPERT, q, junk, &mut p);
        }
    }
}

/// Query, answer, the variables it publishes.
type Case = (&'static [u8], &'static [u8], &'static [(&'static str, &'static str)]);

/// The options read as 0/1, dates and times, the LCD sleep time, the
/// power factor and the self-test result of the table's answers (items
/// NUT builds only with its unmapped data points).
#[test]
fn testing_items() {
    // QENF's options are only logged (NONUT); NUT's table names the
    // setters of F and G without `experimental.`, so those two fail.
    let (p, errors) = apply(b"QENF\r", b"(A1B0C1D0E1F0G0H0I_J_\r");
    assert_eq!(p.getinfo("experimental.charge_battery"), None);
    let failed: Vec<&str> = errors
        .iter()
        .filter_map(|e| match e {
            AnswerError::Hook { var, .. } => Some(*var),
            _ => None,
        })
        .collect();
    assert_eq!(
        failed,
        [
            "experimental.feed_grid_from_battery_when_pv_on",
            "experimental.feed_grid_from_battery_when_pv_off"
        ],
        "{errors:?}"
    );
    let cases: [Case; 6] = [
        (b"QPDG\r", b"(0\r", &[("experimental.output.powerfactor.curve.capability", "disabled")]),
        (
            b"QT\r",
            b"(20150620200634\r",
            &[("experimental.device.date", "2015/06/20"), ("experimental.device.time", "20:06:34")],
        ),
        (
            b"QCHT\r",
            b"(0215 1835\r",
            &[
                ("experimental.charging_time.start", "02:15"),
                ("experimental.charging_time.end", "18:35"),
            ],
        ),
        (b"QOPF\r", b"(100\r", &[("output.powerfactor", "100")]),
        (b"QPFL\r", b"(190\r", &[("experimental.output.powerfactor.curve", "-90")]),
        (
            b"QSTS\r",
            b"(01 001 002 003 004 005 006 007 008\r",
            &[("experimental.device.test.result", "passed")],
        ),
    ];
    for (q, a, want) in cases {
        let (p, errors) = apply(q, a);
        for (var, val) in want {
            assert_eq!(
                p.getinfo(var),
                Some(*val),
                "{}: {var}: {errors:?}",
                String::from_utf8_lossy(q)
            );
        }
    }
    // QLST: NUT's format check refuses the item's `%d` (it expects `%ld`),
    // so nothing is published: an empty value, named.
    let (p, errors) = apply(b"QLST\r", b"(10\r");
    assert_eq!(p.getinfo("experimental.lcd.sleeptime"), None);
    assert!(
        matches!(errors.as_slice(), [AnswerError::Empty { query, var, .. }]
            if query == "QLST" && *var == "experimental.lcd.sleeptime"),
        "{errors:?}"
    );
    // Not a date, not a time: refused, naming the field.
    let (p, errors) = apply(b"QT\r", b"(20150230256034\r");
    assert_eq!(p.getinfo("experimental.device.date"), None);
    assert_eq!(p.getinfo("experimental.device.time"), None);
    assert_eq!(errors.len(), 2, "{errors:?}");
    // The `I` manufacturing dates and times.
    let (p, _) = apply(b"I\r", b"(DSP:14-03-03,14:30 MCU:14-01-15,17:20\r");
    assert_eq!(p.getinfo("experimental.dsp.mfr.date"), Some("2014/03/03"));
    assert_eq!(p.getinfo("experimental.mcu.mfr.time"), Some("17:20"));
    let (p, errors) = apply(b"I\r", b"(DSP:14-13-03,24:30 MCU:14-01-15,17:20\r");
    assert_eq!(p.getinfo("experimental.dsp.mfr.date"), None);
    assert_eq!(p.getinfo("experimental.dsp.mfr.time"), None);
    assert!(errors.iter().any(|e| e.to_string().contains("voltronic_sunny_yymmdd")), "{errors:?}");
}
