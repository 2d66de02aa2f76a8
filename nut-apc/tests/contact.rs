//! genericups: every upstype against the table of the drivers reference
//! (section 5), written here as text and interpreted independently.

use nut_apc::contact::{
    Contact, ContactError, Lines, ShutdownAction, ShutdownLine, UPS_TYPES, parse_input_override,
    parse_upstype,
};
use nut_proto::publish::{Publish, Recorder};
use std::time::Duration;

/// (type, cable power, OL when, LB when, shutdown) as the reference
/// lists them.
const REFERENCE: &[(u8, &str, &str, &str, &str)] = &[
    (0, "DTR+RTS", "CTS off", "CD on", "RTS"),
    (1, "DTR", "RNG off", "CD on", "RTS"),
    (2, "RTS", "CTS off", "CD on", "DTR+RTS"),
    (3, "DTR", "CTS off", "CD on", "DTR+RTS"),
    (4, "RTS", "CTS on", "CD off", "none"),
    (5, "DTR", "CTS on", "CD off", "DTR+RTS"),
    (6, "DTR", "CTS on", "CD off", "RTS"),
    (7, "RTS", "CTS on", "CD off", "DTR"),
    (8, "DTR", "CTS on", "CD off", "unknown"),
    (9, "none", "CD off", "CTS on", "RTS"),
    (10, "RTS", "CTS on", "CD off", "DTR"),
    (11, "DTR", "CTS off", "CD off", "BREAK"),
    (12, "RTS", "CTS off", "CD on", "DTR"),
    (13, "DTR+RTS", "CD on", "CTS off", "BREAK"),
    (14, "DTR", "CD on", "CTS off", "RTS"),
    (15, "DTR", "CTS on", "CD off", "BREAK"),
    (16, "DTR+RTS", "CTS on", "CD off", "unknown"),
    (17, "DTR", "CTS on", "CD off", "unknown"),
    (18, "DTR", "CTS on", "CD on", "unknown"),
    (19, "DTR", "CTS on", "CD off", "RTS"),
    (20, "DTR", "CTS off", "CD on", "BREAK"),
    (21, "RTS", "CTS on", "CD off", "RTS+DTR"),
    (22, "RTS", "CTS on", "CD off", "DTR"),
    (23, "RTS", "CTS on", "CD off", "none"),
];

fn line(name: &str) -> Lines {
    match name {
        "DTR" => Lines::DTR,
        "RTS" => Lines::RTS,
        "CTS" => Lines::CTS,
        "CD" => Lines::CD,
        "RNG" => Lines::RNG,
        "DSR" => Lines::DSR,
        "none" => Lines::NONE,
        _ => panic!("{name}"),
    }
}

fn lines(s: &str) -> Lines {
    s.split('+').fold(Lines::NONE, |a, n| a.or(line(n)))
}

/// Whether "CTS off" / "CD on" holds for these input states.
fn holds(cond: &str, inputs: Lines) -> bool {
    let (name, state) = cond.split_once(' ').unwrap();
    inputs.contains(line(name)) == (state == "on")
}

#[test]
fn every_upstype_matches_the_reference() {
    assert_eq!(UPS_TYPES.len(), REFERENCE.len());
    let inputs = [Lines::CTS, Lines::CD, Lines::RNG, Lines::DSR];
    for &(n, cp, ol, lb, sd) in REFERENCE {
        let ty = parse_upstype(&n.to_string()).unwrap();
        assert_eq!(ty.number, n);
        let c = Contact::new(ty);
        assert_eq!(c.cable_power, lines(cp), "type {n} cable power");
        match sd {
            "unknown" => assert_eq!(c.shutdown_action(), Err(ContactError::NoShutdown), "type {n}"),
            "BREAK" => {
                assert!(matches!(c.shutdown_action(), Ok(ShutdownAction::Break { duration: 4901 })))
            }
            l => assert_eq!(
                c.shutdown_action(),
                Ok(ShutdownAction::SetLines { lines: lines(l), hold: None }),
                "type {n} shutdown"
            ),
        }
        // Every combination of the four inputs.
        for mask in 0u16..16 {
            let state = inputs
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .fold(Lines::NONE, |a, (_, l)| a.or(*l));
            let mut want = Vec::new();
            if holds(lb, state) {
                want.push("LB");
            }
            want.push(if holds(ol, state) { "OL" } else { "OB" });
            if n == 23 {
                // Type 23 also reports RB when RI is off, BYPASS when DSR is off.
                if !state.contains(Lines::RNG) {
                    want.push("RB");
                }
                if !state.contains(Lines::DSR) {
                    want.push("BYPASS");
                }
            }
            assert_eq!(c.status(state), want, "type {n}, inputs {state:?}");
        }
    }
}

#[test]
fn upstype_parsing_is_atoi() {
    assert_eq!(parse_upstype(" 7x").unwrap().number, 7);
    assert_eq!(parse_upstype("abc").unwrap().number, 0);
    assert_eq!(parse_upstype("24"), Err(ContactError::UnknownType { number: 24 }));
    assert_eq!(parse_upstype("-1"), Err(ContactError::UnknownType { number: -1 }));
}

#[test]
fn overrides_remap_lines() {
    let mut c = Contact::new(parse_upstype("4").unwrap());
    // OL=-CTS: on line when CTS is low; LB=DCD: low battery when DCD high.
    c.set("OL", "-CTS").unwrap();
    c.set("LB", "DCD").unwrap();
    assert_eq!(c.status(Lines::NONE), ["OL"]);
    assert_eq!(c.status(Lines::CTS.or(Lines::CD)), ["LB", "OB"]);
    // none: OL always holds, LB never shows.
    c.set("OL", "none").unwrap();
    c.set("LB", "NULL").unwrap();
    assert_eq!(c.status(Lines::CD), ["OL"]);
    assert_eq!(c.status(Lines::NONE), ["OL"]);
    // RB / BYPASS on a type that has none.
    c.set("RB", "RNG").unwrap();
    c.set("BYPASS", "-DSR").unwrap();
    assert_eq!(c.status(Lines::RNG), ["OL", "RB", "BYPASS"]);
    // Outputs.
    c.set("CP", "DTR -RTS").unwrap();
    assert_eq!(c.cable_power, Lines::DTR);
    c.set("SD", "ST").unwrap();
    assert_eq!(c.shutdown, ShutdownLine::Break);
    c.set("SD", "RTS").unwrap();
    c.set("sdtime", "5").unwrap();
    assert_eq!(
        c.shutdown_action(),
        Ok(ShutdownAction::SetLines { lines: Lines::RTS, hold: Some(Duration::from_secs(5)) })
    );
    // Wrong direction is an error, as NUT's fatalx.
    assert!(matches!(c.set("CP", "CTS"), Err(ContactError::NotAnOutput { line: "CTS", .. })));
    assert!(matches!(
        parse_input_override("OL", "DTR"),
        Err(ContactError::NotAnInput { line: "DTR", .. })
    ));
    // Unknown options are not taken.
    assert_eq!(c.set("bogus", "1"), Ok(false));
}

#[test]
fn publishes_info_and_status() {
    let mut c = Contact::new(parse_upstype("1").unwrap());
    c.set("serial", "X1").unwrap();
    let mut r = Recorder::new();
    c.publish_info(&mut r);
    // Type 1 with RNG asserted (OL when RNG off) and CD on: LB OB.
    c.publish_status(Lines::RNG.or(Lines::CD), &mut r);
    assert_eq!(r.upsc(), "ups.mfr: APC\nups.model: Back-UPS\nups.serial: X1\nups.status: LB OB\n");
    c.set("model", "Custom").unwrap();
    c.publish_info(&mut r);
    assert_eq!(r.getinfo("ups.model"), Some("Custom"));
}
