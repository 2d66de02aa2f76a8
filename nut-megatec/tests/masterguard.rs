//! Masterguard (A/E series), NUT 2.8.0's `nutdrv_qx_masterguard`: its
//! claim (series, model, power, slave address, output voltages, nothing
//! published before the init walk), its hooks on the example answers of
//! its item table (`tests/data/selftest/masterguard.qx`, whose `=` values
//! NUT 2.8.0 publishes once its claim finds its items), the slave address
//! in the `,XX` queries, its commands and settings, and refused answers.

mod common;

use common::{Device, exchanges, load, protocol_of, run, vars};
use nut_megatec::{AnswerError, CommandError, Config, Event, Session, apply_answer, protocol};
use nut_proto::publish::{Publish, Recorder};
use std::time::Duration;

const FILE: &str = "selftest/masterguard.qx";

fn device() -> Device {
    Device::new(exchanges(&load(FILE)))
}

fn config(protocol: Option<&str>) -> Config {
    let mut c = Config::default();
    if let Some(p) = protocol {
        c.set("protocol", Some(p)).unwrap();
    }
    c
}

fn session(c: Config, dev: &mut Device) -> (Session<Recorder>, Vec<Event>) {
    let (s, events) = run(c, dev, 2);
    assert!(events.iter().any(|e| matches!(e, Event::Initialized)), "{events:?}");
    (s, events)
}

fn get<'a>(s: &'a Session<Recorder>, var: &str) -> Option<&'a str> {
    s.publisher().getinfo(var)
}

fn names(log: &[Vec<u8>]) -> Vec<String> {
    log.iter().map(|q| String::from_utf8_lossy(q).trim_end().to_string()).collect()
}

/// The result of request `id`, draining the events before it.
fn done(s: &mut Session<Recorder>, id: nut_megatec::RequestId) -> Option<Result<(), CommandError>> {
    std::iter::from_fn(|| s.poll_event()).find_map(|e| match e {
        Event::CommandDone { id: i, result } if i == id => Some(result),
        _ => None,
    })
}

/// Sends `name`: the bytes it puts on the line, and its result once the
/// device answers `answer` (serial; `None`: silence until the deadline).
fn instcmd(
    s: &mut Session<Recorder>,
    name: &str,
    extra: Option<&str>,
    answer: Option<&[u8]>,
) -> (Option<Vec<u8>>, Option<Result<(), CommandError>>) {
    let now = Duration::from_secs(1000);
    let id = s.instcmd(name, extra, now);
    let sent = s.poll_transmit();
    if sent.is_some() {
        match answer {
            Some(a) => s.handle_input(a, now),
            None => s.handle_timeout(now + Duration::from_secs(2)),
        }
    }
    (sent, done(s, id))
}

fn setvar(
    s: &mut Session<Recorder>,
    name: &str,
    value: &str,
) -> (Option<Vec<u8>>, Option<Result<(), CommandError>>) {
    let now = Duration::from_secs(1000);
    let id = s.setvar(name, value, now);
    let sent = s.poll_transmit();
    if sent.is_some() {
        s.handle_timeout(now + Duration::from_secs(2));
    }
    (sent, done(s, id))
}

#[test]
fn autodetection_claims_the_example_unit_and_publishes_nut_values() {
    for named in [None, Some("masterguard")] {
        let mut dev = device();
        let (s, events) = session(config(named), &mut dev);
        assert_eq!(protocol_of(&events), Some("Masterguard 0.02"), "{named:?}");
        for (var, want) in vars(&load(FILE)) {
            assert_eq!(get(&s, &var), Some(want.as_str()), "{var} ({named:?})");
        }
        // The `experimental.*` values are only logged, as in NUT.
        assert_eq!(get(&s, "experimental.series"), None);
        assert_eq!(get(&s, "experimental.fault_1"), None);
        // No answer was refused on the way (echoes of other protocols'
        // claims aside, with autodetection).
        let refused: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::AnswerRefused(e) if named.is_some() => Some(e),
                _ => None,
            })
            .collect();
        assert!(refused.is_empty(), "{refused:?}");
    }
}

/// NUT's claim asks `WH` for each of its four values, then `MSO`; here
/// each is asked once (see `Heard` in `src/session.rs`). The queries that
/// carry the slave address carry the unit's (`00`).
#[test]
fn claim_and_init_walk_ask_each_query_with_the_slave_address() {
    let mut dev = device();
    let (_, events) = run(config(Some("masterguard")), &mut dev, 0);
    assert!(events.contains(&Event::Initialized), "{events:?}");
    assert_eq!(
        names(&dev.log),
        ["WH", "MSO", "Q3", "GS,00", "GSN,00", "DRC,00", "PNV", "FLT,00"],
        "battery.charge of GBS is read by full updates only (Q3 has it)"
    );
}

#[test]
fn writable_variables_ranges_and_enums() {
    let (s, _) = session(config(Some("masterguard")), &mut device());
    let tree = s.publisher().tree();
    let var = |n: &str| tree.get(n).unwrap_or_else(|| panic!("{n} missing"));
    assert!(var("ups.id").flags.rw);
    assert_eq!(var("ups.id").ranges, [(0, 99)]);
    // The A700 takes no extra battery pack.
    assert!(var("battery.packs").flags.rw);
    assert_eq!(var("battery.packs").ranges, [(0, 0)]);
    assert!(var("output.voltage.nominal").flags.rw);
    assert_eq!(var("output.voltage.nominal").enums, ["220", "230", "240"]);
    assert!(var("device.uptime").flags.rw);
    assert_eq!(var("ups.delay.shutdown").ranges, [(0, 5940)]);
    assert_eq!(var("ups.delay.start").ranges, [(0, 599_940)]);
    for ro in ["ups.firmware", "device.model", "output.current.nominal", "battery.charge"] {
        assert!(!var(ro).flags.rw, "{ro}");
    }
}

#[test]
fn instant_commands_are_nuts() {
    let (mut s, _) = session(config(Some("masterguard")), &mut device());
    let mut cmds: Vec<&str> = s.publisher().commands();
    cmds.sort_unstable();
    assert_eq!(
        cmds,
        [
            "beeper.disable",
            "beeper.enable",
            "bypass.start",
            "bypass.stop",
            "shutdown.return",
            "shutdown.stayoff",
            "shutdown.stop",
            "test.battery.start",
            "test.battery.start.deep",
            "test.battery.start.quick",
            "test.battery.stop",
        ],
        "load.off and load.on are compiled out in NUT 2.8.0"
    );
    let sent = |s: &mut Session<Recorder>, name: &str, extra: Option<&str>| {
        let (q, r) = instcmd(s, name, extra, None);
        assert!(matches!(r, Some(Ok(()))), "{name}: {r:?}");
        String::from_utf8(q.unwrap()).unwrap()
    };
    // Defaults: offdelay 30 s (".5" = 5 tenths of a minute), ondelay 180 s
    // sent as is (NUT does not turn it into minutes here).
    assert_eq!(sent(&mut s, "shutdown.return", None), "S.5R0180\r");
    assert_eq!(sent(&mut s, "shutdown.stayoff", None), "S.5\r");
    assert_eq!(sent(&mut s, "shutdown.stop", None), "C\r");
    assert_eq!(sent(&mut s, "test.battery.start", Some("10")), "T\r");
    assert_eq!(sent(&mut s, "test.battery.start", Some("600")), "T10\r");
    assert_eq!(sent(&mut s, "test.battery.start.quick", None), "T\r");
    assert_eq!(sent(&mut s, "test.battery.start.deep", None), "TUD\r");
    assert_eq!(sent(&mut s, "test.battery.stop", None), "CT\r");
    assert_eq!(sent(&mut s, "bypass.start", None), "FOFF\r");
    assert_eq!(sent(&mut s, "bypass.stop", None), "FON\r");
    assert_eq!(sent(&mut s, "beeper.enable", None), "SS---1,00\r");
    assert_eq!(sent(&mut s, "beeper.off", None), "SS---0,00\r");
    // Longer delays go out in whole minutes.
    let (_, r) = setvar(&mut s, "ups.delay.shutdown", "120");
    assert!(matches!(r, Some(Ok(()))), "{r:?}");
    let (_, r) = setvar(&mut s, "ups.delay.start", "0");
    assert!(matches!(r, Some(Ok(()))), "{r:?}");
    assert_eq!(sent(&mut s, "shutdown.return", None), "S02R0000\r");
    // The battery test needs a duration of 10 s or 1 to 99 minutes.
    for bad in [None, Some("30"), Some("6000"), Some("1m"), Some("")] {
        let (q, r) = instcmd(&mut s, "test.battery.start", bad, None);
        assert_eq!(q, None, "{bad:?}");
        assert!(matches!(r, Some(Err(CommandError::InvalidValue { .. }))), "{bad:?}: {r:?}");
    }
    // An answer other than silence is a refusal (Masterguard has no ACK).
    let (q, r) = instcmd(&mut s, "bypass.start", None, Some(b"FOFF\r"));
    assert_eq!(q.as_deref(), Some(&b"FOFF\r"[..]));
    assert!(matches!(r, Some(Err(CommandError::NotAccepted { .. }))), "{r:?}");
}

#[test]
fn shutdown_delays_out_of_the_protocol_range_are_refused() {
    let (mut s, _) = session(config(Some("masterguard")), &mut device());
    let (_, r) = setvar(&mut s, "ups.delay.shutdown", "6000");
    assert!(matches!(r, Some(Err(CommandError::InvalidValue { .. }))), "{r:?}");
    // A delay of 59 s is five tenths of a minute, as NUT rounds it.
    let (_, r) = setvar(&mut s, "ups.delay.shutdown", "59");
    assert!(matches!(r, Some(Ok(()))), "{r:?}");
    let (q, _) = instcmd(&mut s, "shutdown.stayoff", None, None);
    assert_eq!(q.as_deref(), Some(&b"S.9\r"[..]));
}

#[test]
fn settings_are_formatted_as_nut_sends_them() {
    let (mut s, _) = session(config(Some("masterguard")), &mut device());
    let text = |q: Option<Vec<u8>>| String::from_utf8(q.unwrap()).unwrap();
    let (q, r) = setvar(&mut s, "output.voltage.nominal", "240");
    assert!(matches!(r, Some(Ok(()))), "{r:?}");
    assert_eq!(text(q), "PNV=240\r");
    // Seconds to TTTT:hh:mm:ss.
    let (q, r) = setvar(&mut s, "device.uptime", "90061");
    assert!(matches!(r, Some(Ok(()))), "{r:?}");
    assert_eq!(text(q), "SRC0001:01:01:01,00\r");
    // battery.packs: the A700's range is 0..0 (the value already set).
    let (q, r) = setvar(&mut s, "battery.packs", "1");
    assert_eq!(q, None);
    assert!(matches!(r, Some(Err(CommandError::InvalidValue { .. }))), "{r:?}");
    for bad in ["abc", "-1", "1000000000000"] {
        let (q, r) = setvar(&mut s, "device.uptime", bad);
        assert_eq!(q, None, "{bad}");
        assert!(matches!(r, Some(Err(_))), "{bad}: {r:?}");
    }
    // A new slave address: the setting itself goes out with the old one,
    // every later `,XX` query with the new one.
    let (q, r) = setvar(&mut s, "ups.id", "7");
    assert!(matches!(r, Some(Ok(()))), "{r:?}");
    assert_eq!(text(q), "SS07--,00\r");
    let (q, _) = instcmd(&mut s, "beeper.disable", None, None);
    assert_eq!(text(q), "SS---0,07\r");
    let (q, r) = setvar(&mut s, "ups.id", "100");
    assert_eq!(q, None);
    assert!(matches!(r, Some(Err(CommandError::InvalidValue { .. }))), "{r:?}");
}

#[test]
fn slave_address_option_selects_the_unit() {
    for (want, claims) in [("0", true), ("00", true), (" 0", true), ("1", false)] {
        let mut c = config(Some("masterguard"));
        c.set("slave_address", Some(want)).unwrap();
        let mut dev = device();
        let (_, events) = run(c, &mut dev, 0);
        assert_eq!(events.contains(&Event::Initialized), claims, "{want}: {events:?}");
        assert_eq!(events.contains(&Event::NotSupported), !claims, "{want}: {events:?}");
    }
    // Malformed: no query is even sent.
    for bad in ["", "x", "100", "-1", "5 "] {
        let mut c = config(Some("masterguard"));
        c.set("slave_address", Some(bad)).unwrap();
        let mut dev = device();
        let (_, events) = run(c, &mut dev, 0);
        assert!(events.contains(&Event::NotSupported), "{bad:?}: {events:?}");
        assert!(dev.log.is_empty(), "{bad:?}: {:?}", names(&dev.log));
    }
}

/// The claim fails on an unknown series or model, a missing output
/// voltages answer; it publishes nothing while it tries.
#[test]
fn claim_refuses_unknown_units() {
    let wh = "(00 10.06 03.09 A  700  + 0 Bat Pack-19        0 230 50.00 012 02.30 006.00 \
              012.00 018 10 40 160 276 47.00 53.00\r";
    for (name, answer) in [
        ("series", wh.replacen("A  700", "B  700", 1)),
        ("model", wh.replacen("A  700", "A  800", 1)),
        ("short", wh.replacen(" 53.00", "", 1)),
        ("leading", wh.replacen('(', "#", 1)),
    ] {
        let mut dev = device();
        for (q, a) in dev.table.iter_mut() {
            if q.as_slice() == b"WH\r" {
                *a = answer.clone().into_bytes();
            }
        }
        let (s, events) = run(config(Some("masterguard")), &mut dev, 0);
        assert!(events.contains(&Event::NotSupported), "{name}: {events:?}");
        // Three tries, one WH each.
        assert_eq!(names(&dev.log), ["WH", "WH", "WH"], "{name}");
        assert_eq!(s.publisher().upsc(), "", "{name}");
    }
    // MSO echoed (not an answer): no claim.
    let mut dev = device();
    dev.table.retain(|(q, _)| q.as_slice() != b"MSO\r");
    let (_, events) = run(config(Some("masterguard")), &mut dev, 0);
    assert!(events.contains(&Event::NotSupported), "{events:?}");
}

#[test]
fn e_series_rack_models_and_their_pack_ranges() {
    let wh = |t: &str| {
        format!(
            "(00 10.06 03.09 {t:<30} 1 400 50.00 032 02.27 006.00 012.00 018 10 40 160 276 \
             47.00 53.00\r"
        )
    };
    for (t, model, power, packs) in [
        ("A 2000  + 1 Bat Pack-19", "A2000-19", "2000", (1, 5)),
        ("A 3000", "A3000", "3000", (0, 2)),
        ("A 1000-19", "A1000-19", "1000", (0, 2)),
        ("E 60", "E60", "6000", (1, 1)),
        ("E100", "E100", "10000", (1, 1)),
        ("E200-19", "E200-19", "20000", (1, 1)),
    ] {
        let mut dev = device();
        for (q, a) in dev.table.iter_mut() {
            match q.as_slice() {
                b"WH\r" => *a = wh(t).into_bytes(),
                b"GS,00\r" => *a = b"(00,00 1 0\r".to_vec(),
                _ => {}
            }
        }
        let (s, _) = session(config(None), &mut dev);
        assert_eq!(get(&s, "device.model"), Some(model), "{t}");
        assert_eq!(get(&s, "ups.power.nominal"), Some(power), "{t}");
        assert_eq!(get(&s, "input.voltage.nominal"), Some("400"), "{t}");
        // 32 cells of 2.27 V, multiplied as C floats.
        assert_eq!(get(&s, "battery.voltage.nominal"), Some("72.64"), "{t}");
        assert_eq!(get(&s, "battery.voltage"), Some("72.64"), "{t}");
        assert_eq!(get(&s, "battery.packs"), Some("1"), "{t}");
        assert_eq!(get(&s, "ups.beeper.status"), Some("disabled"), "{t}");
        let v = s.publisher().tree().get("battery.packs").unwrap();
        assert_eq!(v.ranges, [packs], "{t}");
    }
}

/// The second `Q3` example of NUT's table: utility present (B7 = 0),
/// battery low, bypass, battery to replace, "no battery connected"
/// (NUT's reading of T3), no test.
#[test]
fn status_bits_of_the_second_example() {
    let mut dev = device();
    for (q, a) in dev.table.iter_mut() {
        if q.as_slice() == b"Q3\r" {
            *a = b"(01 226.9 226.9 226.9 039 50.0 02.30 21.8 000.00 000 01100000 00011000\r"
                .to_vec();
        }
    }
    // Full updates (which commit the alarms) every update.
    let mut c = config(Some("masterguard"));
    c.set("pollfreq", Some("0")).unwrap();
    let (s, _) = session(c, &mut dev);
    assert_eq!(get(&s, "ups.status"), Some("ALARM OL LB RB BYPASS"));
    // 39 % of 700 W; 273 W / 226.9 V.
    assert_eq!(get(&s, "ups.power"), Some("274"));
    assert_eq!(get(&s, "output.current"), Some("1.21"));
    assert_eq!(get(&s, "battery.voltage"), Some("27.60"));
    assert_eq!(get(&s, "battery.runtime"), Some("0"));
    assert_eq!(get(&s, "ups.test.result"), Some("no test in progress"));
    let alarm = get(&s, "ups.alarm").unwrap_or("");
    assert!(alarm.contains("no battery connected"), "{alarm}");
    assert!(alarm.contains("Replace battery!"), "{alarm}");
}

fn apply(query: &[u8], answer: &[u8]) -> (Recorder, Vec<AnswerError>) {
    let mut r = Recorder::new();
    let errors = apply_answer(&protocol::MASTERGUARD, query, answer, &mut r);
    (r, errors)
}

#[test]
fn status_bits_one_by_one() {
    let base = *b"(00 225.9 225.9 229.3 043 50.0 02.27 23.4 017.03 100 00000000 00000000\r";
    let with = |pos: usize, bits: &[u8]| {
        let mut a = base.to_vec();
        a[pos..pos + bits.len()].copy_from_slice(bits);
        a
    };
    let cases: [(usize, &[u8], &str, &str); 6] = [
        (53, b"1", "ups.status", ""), // utility fail: OB
        (54, b"1", "ups.status", "LB"),
        (58, b"1", "ups.status", "CAL"),
        (59, b"1", "ups.status", "FSD"),
        (57, b"1", "ups.type", "offline"),
        (56, b"1", "ups.alarm", ""),
    ];
    for (pos, bits, var, want) in cases {
        let (r, errors) = apply(b"Q3\r", &with(pos, bits));
        assert!(errors.is_empty(), "{pos}: {errors:?}");
        match var {
            "ups.status" if pos == 53 => assert_eq!(r.getinfo(var), Some("OB"), "{pos}"),
            "ups.status" => assert_eq!(r.getinfo(var), Some(&*format!("OL {want}")), "{pos}"),
            "ups.alarm" => {}
            _ => assert_eq!(r.getinfo(var), Some(want), "{pos}"),
        }
    }
    for (bits, want) in [
        (b"001", "in progress"),
        (b"010", "OK"),
        (b"011", "failed"),
        (b"100", "not possible"),
        (b"101", "aborted"),
        (b"110", "autonomy time calibration in progress"),
        (b"111", "unknown"),
    ] {
        let (r, errors) = apply(b"Q3\r", &with(67, bits));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(r.getinfo("ups.test.result"), Some(want));
    }
    // A status character other than 0/1 is refused, that field only.
    let (r, errors) = apply(b"Q3\r", &with(54, b"x"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(&errors[0], AnswerError::Hook { var: "ups.status", .. }), "{errors:?}");
    assert_eq!(r.getinfo("input.voltage"), Some("225.9"));
    let (_, errors) = apply(b"Q3\r", &with(67, b"2x0"));
    assert!(matches!(&errors[..], [AnswerError::Hook { var: "ups.test.result", .. }]));
}

#[test]
fn bad_answers_are_refused_with_what_and_where() {
    // Short and wrong-leading answers refuse every field of the query.
    let (r, errors) = apply(b"WH\r", b"(00 10.06\r");
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|e| matches!(e, AnswerError::Short { .. })), "{errors:?}");
    assert_eq!(r.upsc(), "");
    let (r, errors) =
        apply(b"Q3\r", b"#00 225.9 225.9 229.3 043 50.0 02.27 23.4 017.03 100 00000000 00000000\r");
    assert!(errors.iter().all(|e| matches!(e, AnswerError::Leading { .. })), "{errors:?}");
    assert_eq!(r.upsc(), "");
    // Fields the hooks cannot read: each refused alone, named.
    let bad_q3 = b"(00 225.9 225.9 229.3 0x3 50.0 ab.27 23.4 017-03 100 00000000 00000000\r";
    let (r, errors) = apply(b"Q3\r", bad_q3);
    let refused: Vec<&str> = errors
        .iter()
        .map(|e| match e {
            AnswerError::Hook { var, .. } | AnswerError::NonNumeric { var, .. } => *var,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(refused, ["ups.load", "battery.voltage", "battery.runtime"], "{errors:?}");
    // `0x3` is not a number for ups.load, but reads as 0 % for the power
    // and current hooks (C's %d stops at the x), as in NUT.
    assert_eq!(r.getinfo("ups.load"), None);
    assert_eq!(r.getinfo("output.current"), Some("0.01"));
    let msg = errors[2].to_string();
    assert!(
        msg.contains("Q3") && msg.contains("masterguard_mmm_ss") && msg.contains("017-03"),
        "{msg}"
    );
    // The output current needs a usable output voltage.
    let zero_vout = b"(00 225.9 225.9 000.0 043 50.0 02.27 23.4 017.03 100 00000000 00000000\r";
    let (r, errors) = apply(b"Q3\r", zero_vout);
    assert!(matches!(&errors[..], [AnswerError::Hook { var: "output.current", .. }]), "{errors:?}");
    assert_eq!(r.getinfo("output.current"), None);
    // Unknown series / model, odd slave address.
    let wh = *b"(00 10.06 03.09 A  700  + 0 Bat Pack-19        0 230 50.00 012 02.30 006.00 012.00 018 10 40 160 276 47.00 53.00\r";
    let mut odd = wh.to_vec();
    odd[16..22].copy_from_slice(b"X 9999");
    let (r, errors) = apply(b"WH\r", &odd);
    let vars: Vec<_> = errors
        .iter()
        .filter_map(|e| match e {
            AnswerError::Hook { var, .. } => Some(*var),
            _ => None,
        })
        .collect();
    assert_eq!(vars, ["experimental.series", "device.model", "ups.power.nominal"]);
    assert_eq!(r.getinfo("input.voltage.nominal"), Some("230"));
    // Nothing but spaces where numbers belong: refused, no panic.
    let mut blank = wh.to_vec();
    blank[59..86].fill(b' ');
    let (_, errors) = apply(b"WH\r", &blank);
    assert!(errors.len() >= 5, "{errors:?}");
    // The fault records: unknown or reserved ids and garbage.
    let flt = |rec: &str| {
        format!(
            "(00,{rec} 0 0000 0000:00:00:00 0 0000 0000:00:00:00 0 0000 0000:00:00:00 0 0000 \
             0000:00:00:00\r"
        )
    };
    for rec in [
        "E 0043 0000:16:48:06",
        "x 0043 0000:16:48:06",
        "7 0043 0000-16:48:06",
        "7 zzzz 0000:16:48:06",
    ] {
        let (_, errors) = apply(b"FLT,XX\r", flt(rec).as_bytes());
        assert!(
            matches!(&errors[..], [AnswerError::Hook { var: "experimental.fault_1", .. }]),
            "{rec}: {errors:?}"
        );
    }
    let (_, errors) = apply(b"FLT,XX\r", flt("9 0010 1780:14:57:19").as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    // Uptime, beeper and output voltages.
    let (r, errors) = apply(b"DRC,XX\r", b"(00,1869:19:06:3x\r");
    assert!(errors.is_empty(), "C's %d stops at x: {errors:?}");
    assert_eq!(r.getinfo("device.uptime"), Some("161550363"));
    let (_, errors) = apply(b"DRC,XX\r", b"(00,1869-19:06:37\r");
    assert!(matches!(&errors[..], [AnswerError::Hook { var: "device.uptime", .. }]));
    let (_, errors) = apply(b"DRC,XX\r", b"(00,9999999:0:0:0\r");
    assert!(matches!(&errors[..], [AnswerError::Hook { var: "device.uptime", .. }]), "overflow");
    let (_, errors) = apply(b"GS,XX\r", b"(00,00 0 7\r");
    assert!(matches!(&errors[..], [AnswerError::Hook { var: "ups.beeper.status", .. }]));
    let (_, errors) = apply(b"MSO\r", b"(\r");
    assert!(matches!(&errors[..], [AnswerError::Short { .. }]), "{errors:?}");
    // Overlong and NUL-cut answers.
    let (_, errors) = apply(b"Q3\r", &[b'('; 600]);
    assert!(!errors.is_empty());
    let mut nul = base_q3();
    nul[30] = 0;
    let (r, errors) = apply(b"Q3\r", &nul);
    assert!(errors.iter().all(|e| matches!(e, AnswerError::Short { .. })), "{errors:?}");
    assert_eq!(r.upsc(), "");
}

fn base_q3() -> Vec<u8> {
    b"(00 225.9 225.9 229.3 043 50.0 02.27 23.4 017.03 100 00000000 00000000\r".to_vec()
}
