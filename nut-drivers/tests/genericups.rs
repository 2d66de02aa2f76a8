//! `genericups`: every `upstype` of NUT 2.8.0 against a test double of the
//! modem lines (`ScriptedStream`): the cable-power lines raised at start,
//! `ups.status` for each of the 16 combinations of CTS/DSR/DCD/RI, the
//! lines `-k` raises, the overrides, and a port that disappears.
//!
//! The expected values come from the table of the drivers reference
//! (section 5: cable power, the on-line and low-battery conditions, the
//! shutdown lines), written here as text and interpreted independently of
//! `nut_apc::contact`. Debian's genericups cannot be compared live: a
//! pseudo-terminal has no modem-control lines.

use nut_apc::contact::{Contact, UPS_TYPES, parse_upstype};
use nut_driver::transport::{LinkError, ModemInputs};
use nut_driver::{Device, DeviceError, Dstate, UpdateKind};
use nut_drivers::genericups::GenericUps;
use nut_testkit::serial::{Dialect, ScriptedStream, SerialControl};
use std::time::Instant;

/// (type, cable power, OL when, LB when, shutdown), as the reference
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

/// (dtr, rts) named by a reference cell.
fn outputs(cell: &str) -> (bool, bool) {
    (cell.contains("DTR"), cell.contains("RTS"))
}

/// Whether "CTS off" / "CD on" / "RNG off" holds for these inputs.
fn holds(cond: &str, m: ModemInputs) -> bool {
    let (name, state) = cond.split_once(' ').unwrap();
    let v = match name {
        "CTS" => m.cts,
        "CD" => m.dcd,
        "RNG" => m.ri,
        "DSR" => m.dsr,
        _ => panic!("{name}"),
    };
    v == (state == "on")
}

fn combos() -> impl Iterator<Item = ModemInputs> {
    (0u8..16).map(|b| ModemInputs {
        cts: b & 1 != 0,
        dsr: b & 2 != 0,
        dcd: b & 4 != 0,
        ri: b & 8 != 0,
    })
}

fn device(contact: Contact) -> (GenericUps<ScriptedStream>, SerialControl) {
    let stream = ScriptedStream::from_pairs(Dialect::apc(), Vec::<(&str, Vec<&str>)>::new());
    let ctl = stream.control();
    let mut slot = Some(stream);
    let open = Box::new(move || slot.take().ok_or(LinkError::Timeout));
    (GenericUps::new(open, contact), ctl)
}

fn status(dev: &mut GenericUps<ScriptedStream>, st: &mut Dstate) -> String {
    dev.update(st, UpdateKind::Full, Instant::now()).unwrap();
    st.getinfo("ups.status").unwrap_or_default().to_string()
}

#[test]
fn every_upstype_status_and_cable_power() {
    assert_eq!(UPS_TYPES.len(), REFERENCE.len());
    for &(n, cp, ol, lb, _) in REFERENCE {
        let ty = parse_upstype(&n.to_string()).unwrap();
        let (mut dev, ctl) = device(Contact::new(ty));
        let mut st = Dstate::new();
        dev.connect(&mut st, Instant::now()).unwrap();
        let m = ctl.modem_outputs();
        assert_eq!((m.dtr, m.rts), outputs(cp), "type {n}: cable power");
        assert_eq!(st.getinfo("ups.mfr"), Some(ty.mfr), "type {n}");
        assert_eq!(st.getinfo("ups.model"), Some(ty.model), "type {n}");
        for inputs in combos() {
            ctl.set_modem_inputs(inputs);
            let mut want = Vec::new();
            if holds(lb, inputs) {
                want.push("LB");
            }
            want.push(if holds(ol, inputs) { "OL" } else { "OB" });
            if n == 23 {
                // The reference: type 23 also reports RB when RI is off,
                // BYPASS when DSR is off.
                if !inputs.ri {
                    want.push("RB");
                }
                if !inputs.dsr {
                    want.push("BYPASS");
                }
            }
            assert_eq!(status(&mut dev, &mut st), want.join(" "), "type {n}, inputs {inputs:?}");
        }
    }
}

#[test]
fn every_upstype_shutdown_lines() {
    for &(n, _, _, _, sd) in REFERENCE {
        if sd == "BREAK" {
            continue; // one BREAK case below (it lasts 5 s)
        }
        let ty = parse_upstype(&n.to_string()).unwrap();
        let (mut dev, ctl) = device(Contact::new(ty));
        let mut st = Dstate::new();
        dev.connect(&mut st, Instant::now()).unwrap();
        let r = dev.shutdown(&mut st, Instant::now());
        if sd == "unknown" {
            assert!(matches!(r, Err(DeviceError::Fatal(_))), "type {n}: {r:?}");
            continue;
        }
        r.unwrap();
        let m = ctl.modem_outputs();
        assert_eq!((m.dtr, m.rts), outputs(sd), "type {n}: shutdown lines");
        assert!(!m.brk, "type {n}");
    }
}

#[test]
fn break_shutdown_and_overrides() {
    // Type 11 (Powerware 3115) shuts down with a BREAK.
    let (mut dev, ctl) = device(Contact::new(parse_upstype("11").unwrap()));
    let mut st = Dstate::new();
    dev.connect(&mut st, Instant::now()).unwrap();
    dev.shutdown(&mut st, Instant::now()).unwrap();
    let log = ctl.modem_log();
    let brk: Vec<_> = log.iter().filter_map(|o| o.brk).collect();
    assert_eq!(brk, [true, false]);

    // Overrides: OL on DSR (asserted means on line), LB on RNG, SD=DTR,
    // CP=none, mfr/model/serial.
    let mut c = Contact::new(parse_upstype("1").unwrap());
    for (k, v) in [
        ("OL", "DSR"),
        ("LB", "RNG"),
        ("SD", "DTR"),
        ("CP", "none"),
        ("mfr", "Acme"),
        ("model", "Box"),
        ("serial", "42"),
    ] {
        assert!(c.set(k, v).unwrap());
    }
    let (mut dev, ctl) = device(c);
    let mut st = Dstate::new();
    dev.connect(&mut st, Instant::now()).unwrap();
    assert_eq!((ctl.modem_outputs().dtr, ctl.modem_outputs().rts), (false, false));
    assert_eq!(st.getinfo("ups.mfr"), Some("Acme"));
    assert_eq!(st.getinfo("ups.model"), Some("Box"));
    assert_eq!(st.getinfo("ups.serial"), Some("42"));
    ctl.set_modem_inputs(ModemInputs { dsr: true, ..ModemInputs::default() });
    assert_eq!(status(&mut dev, &mut st), "OL");
    ctl.set_modem_inputs(ModemInputs { ri: true, ..ModemInputs::default() });
    assert_eq!(status(&mut dev, &mut st), "LB OB");
    dev.shutdown(&mut st, Instant::now()).unwrap();
    assert_eq!((ctl.modem_outputs().dtr, ctl.modem_outputs().rts), (true, false));
}

#[test]
fn lost_port_is_disconnected_then_reconnects() {
    let stream = ScriptedStream::from_pairs(Dialect::apc(), Vec::<(&str, Vec<&str>)>::new());
    let ctl = stream.control();
    let mut slot = Some(stream);
    let ctl2 = ctl.clone();
    // The reopened port is the same double (unplugged, then back).
    let open = Box::new(move || {
        if let Some(s) = slot.take() {
            return Ok(s);
        }
        ctl2.reconnect();
        Err(LinkError::Timeout)
    });
    let mut dev = GenericUps::new(open, Contact::new(parse_upstype("2").unwrap()));
    let mut st = Dstate::new();
    dev.connect(&mut st, Instant::now()).unwrap();
    ctl.disconnect();
    let r = dev.update(&mut st, UpdateKind::Full, Instant::now());
    assert!(matches!(r, Err(DeviceError::Disconnected(_))), "{r:?}");
    // A later update without a link stays an error, not a panic.
    let r = dev.update(&mut st, UpdateKind::Full, Instant::now());
    assert!(r.is_err());
    // Reopening fails here (the double cannot be handed out twice): stale,
    // no wrong status.
    assert!(dev.connect(&mut st, Instant::now()).is_err());
}
