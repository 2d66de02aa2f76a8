//! The protocols' `preprocess` hooks that keep run-time state (BestUPS,
//! Voltronic, Ablerex, OMRON), run by a session over NUT's self-test
//! tables in `tests/data/selftest/`: the values NUT 2.8.0 publishes for
//! them (checked live against Debian's driver by nut-drivers' `qx` test),
//! the items they unskip, and the allowed values they offer.

mod common;

use common::{Device, exchanges, load, protocol_of, run};
use nut_megatec::{Config, Event, Session};
use nut_proto::publish::{Publish, Recorder};

fn session(file: &str, protocol: Option<&str>) -> (Session<Recorder>, Vec<Event>, Device) {
    let lines = load(file);
    let mut dev = Device::new(exchanges(&lines));
    let mut c = Config::default();
    if let Some(p) = protocol {
        c.set("protocol", Some(p)).unwrap();
    }
    let (s, events) = run(c, &mut dev, 2);
    assert!(events.iter().any(|e| matches!(e, Event::Initialized)), "{file}: {events:?}");
    (s, events, dev)
}

fn get<'a>(s: &'a Session<Recorder>, var: &str) -> Option<&'a str> {
    s.publisher().getinfo(var)
}

fn assert_vars(s: &Session<Recorder>, want: &[(&str, &str)]) {
    for (var, value) in want {
        assert_eq!(get(s, var), Some(*value), "{var}");
    }
}

#[test]
fn bestups_id_model_voltage_settings_and_runtime() {
    let (s, events, _) = session("selftest/bestups.qx", None);
    assert_eq!(protocol_of(&events), Some("BestUPS 0.06"));
    assert_vars(
        &s,
        &[
            ("device.mfr", "Best Power"),
            ("device.model", "Fortress"),
            // RT answers minutes; the Fortress model unskips it.
            ("battery.runtime", "900"),
            // M answers 0: the U-model row 0 (nominal 120 V).
            ("input.transfer.low", "96"),
            ("input.transfer.boost.low", "96"),
            ("input.transfer.boost.high", "109"),
            ("input.transfer.trim.low", "130"),
            ("input.transfer.trim.high", "146"),
            ("input.transfer.high", "146"),
        ],
    );
    // Only the Axxium / Sola 620 models have battery packs.
    assert_eq!(get(&s, "battery.packs"), None);
}

#[test]
fn voltronic_capabilities_outlets_and_eco_limits() {
    let (s, events, dev) = session("selftest/voltronic.qx", None);
    assert_eq!(protocol_of(&events), Some("Voltronic 0.06"));
    assert_vars(
        &s,
        &[
            // QFLAG (EpashcjDbroegfl): enabled p a s h c j, disabled b r o e g f l.
            ("ups.start.auto", "no"),
            ("battery.protection", "yes"),
            ("battery.energysave", "no"),
            ("ups.start.battery", "yes"),
            ("outlet.0.switchable", "yes"),
            ("ups.beeper.status", "enabled"),
            // QSK1..3 (QSK4 refused), QSKT1/2 in minutes (QSKT3 refused).
            ("outlet.1.status", "on"),
            ("outlet.2.status", "off"),
            ("outlet.3.status", "on"),
            ("outlet.1.switchable", "yes"),
            ("outlet.1.delay.shutdown", "480"),
            ("outlet.2.delay.shutdown", "720"),
            // QHE, with the ECO ranges of a P01 230 V unit.
            ("input.transfer.high", "242"),
            ("input.transfer.low", "218"),
            ("input.transfer.high.min", "237"),
            ("input.transfer.high.max", "254"),
            ("input.transfer.low.min", "206"),
            ("input.transfer.low.max", "223"),
            // QFRE (unskipped by eco_mode).
            ("input.frequency.high", "50.0"),
            ("input.frequency.low", "0.0"),
        ],
    );
    assert_eq!(get(&s, "outlet.3.delay.shutdown"), None);
    assert_eq!(get(&s, "outlet.4.status"), None);
    assert!(!dev.log.iter().any(|q| q == b"QSKT4\r"), "outlet 4 was refused");
    let tree = s.publisher().tree();
    let ranges = |var: &str| tree.get(var).map(|v| v.ranges.clone()).unwrap_or_default();
    let enums = |var: &str| tree.get(var).map(|v| v.enums.clone()).unwrap_or_default();
    assert_eq!(ranges("input.transfer.high"), [(237, 254)]);
    assert_eq!(ranges("input.transfer.low"), [(206, 223)]);
    // Filtered by protocol (P01) and nominal frequency (50 Hz).
    assert_eq!(ranges("input.frequency.high"), [(53, 60)]);
    assert_eq!(ranges("input.frequency.low"), [(40, 47)]);
    // 230 V x 4 A < 1000 VA: the 24 V limit.
    assert_eq!(ranges("battery.voltage.low"), [(20, 24)]);
    assert_eq!(enums("battery.protection"), ["no", "yes"]);
    let cmds = s.publisher().commands();
    for c in
        ["beeper.enable", "beeper.disable", "bypass.start", "outlet.1.load.off", "outlet.3.load.on"]
    {
        assert!(cmds.contains(&c), "{c} not offered: {cmds:?}");
    }
    assert!(!cmds.contains(&"outlet.4.load.on"));
}

#[test]
fn voltronic_warnings_become_the_alarm_of_a_full_update() {
    let lines = load("selftest/voltronic.qx");
    let mut dev = Device::new(exchanges(&lines));
    let mut c = Config::default();
    c.set("pollfreq", Some("0")).unwrap();
    let (s, _) = run(c, &mut dev, 2);
    // What Debian's nutdrv_qx 2.8.0 publishes for this QWS answer (bits 58
    // and 64 set, the second one unknown).
    let want = "UPS warnings: Warning!! Cover of maintain switch is open. \
                Unknown warnings [bit: #64]";
    assert_eq!(get(&s, "ups.alarm"), Some(want));
    assert_eq!(get(&s, "ups.status"), Some("ALARM OL OFF"));
}

#[test]
fn voltronic_settings_and_commands_are_formatted_as_nut_sends_them() {
    let (mut s, _, _) = session("selftest/voltronic.qx", None);
    let now = std::time::Duration::from_secs(100);
    let id = s.setvar("input.transfer.high", "250", now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"HEH250\r"[..]));
    s.handle_input(b"(ACK\r", now);
    assert!(
        matches!(s.poll_event(), Some(Event::CommandDone { id: i, result: Ok(()) }) if i == id)
    );
    // Outside the ECO range of this unit.
    let id = s.setvar("input.transfer.high", "300", now);
    assert!(
        matches!(s.poll_event(), Some(Event::CommandDone { id: i, result: Err(_) }) if i == id)
    );
    let _ = s.setvar("outlet.1.delay.shutdown", "600", now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"PSK1010\r"[..]));
    s.handle_input(b"(ACK\r", now);
    while s.poll_event().is_some() {}
    let _ = s.setvar("battery.protection", "no", now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"PDS\r"[..]));
    s.handle_input(b"(ACK\r", now);
    while s.poll_event().is_some() {}
    let _ = s.instcmd("test.battery.start", Some("30"), now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"T.5\r"[..]));
    s.handle_input(b"(ACK\r", now);
    while s.poll_event().is_some() {}
    let _ = s.instcmd("beeper.toggle", None, now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"BZOFF\r"[..]));
}

#[test]
fn ablerex_battery_hooks_with_protocol_named() {
    let (s, events, _) = session("selftest/ablerex.qx", Some("ablerex"));
    assert_eq!(protocol_of(&events), Some("Ablerex 0.01"));
    assert_vars(
        &s,
        &[
            ("battery.voltage", "22.70"),
            // 960 and 1365 hundredths of the 24 V nominal per 12 V.
            ("battery.voltage.low", "19.20"),
            ("battery.voltage.high", "27.30"),
            // No nominal yet when Q1 is first read.
            ("battery.charge", "100"),
        ],
    );
}

#[test]
fn omron_extensions_with_protocol_named() {
    let (s, events, _) = session("selftest/omron.qx", Some("omron"));
    assert_eq!(protocol_of(&events), Some("Omron 0.01"));
    assert_vars(
        &s,
        &[
            ("battery.charge", "100.0"),
            ("battery.runtime", "41940"),
            ("battery.temperature", "22.5"),
            ("output.frequency", "49.9"),
            ("ups.serial", "A0Z25110005109G"),
            ("ups.firmware", "0.17"),
            ("ups.firmware.aux", "2.00"),
            ("battery.date", "2026-07-30"),
            ("ups.realpower.nominal", "1125"),
            ("ups.power.nominal", "1125"),
            ("battery.voltage.nominal", "48"),
        ],
    );
}

#[test]
fn omron_shutdowns_set_auto_restart_first() {
    let (mut s, _, _) = session("selftest/omron.qx", Some("omron"));
    let now = std::time::Duration::from_secs(100);
    let done = |s: &mut Session<Recorder>, id| {
        std::iter::from_fn(|| s.poll_event()).find_map(|e| match e {
            Event::CommandDone { id: i, result } if i == id => Some(result),
            _ => None,
        })
    };
    // Default offdelay 30 s: `.5`.
    let id = s.instcmd("shutdown.return", None, now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"An\r"[..]));
    s.handle_input(b"OK\r", now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"S.5\r"[..]));
    s.handle_input(b"OK\r", now);
    assert!(matches!(done(&mut s, id), Some(Ok(()))));
    assert_eq!(get(&s, "ups.start.auto"), Some("yes"));
    let id = s.instcmd("shutdown.stayoff", None, now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"Af\r"[..]));
    s.handle_input(b"OK\r", now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"Sf.5\r"[..]));
    // Anything starting with OK acknowledges.
    s.handle_input(b"OKn\r", now);
    assert!(matches!(done(&mut s, id), Some(Ok(()))));
    assert_eq!(get(&s, "ups.start.auto"), Some("no"));
    // A refused prologue fails the shutdown: nothing powers down.
    let id = s.instcmd("shutdown.return", None, now);
    assert_eq!(s.poll_transmit().as_deref(), Some(&b"An\r"[..]));
    s.handle_input(b"NAK\r", now);
    assert!(matches!(done(&mut s, id), Some(Err(_))));
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn omron_refuses_malformed_extension_answers() {
    let lines = load("selftest/omron.qx");
    let mut table = exchanges(&lines);
    for (q, a) in table.iter_mut() {
        match q.as_slice() {
            b"BRR\r" => *a = b"20260230\r".to_vec(), // no 30 February
            b"FWV\r" => *a = b"S:2.00(M:0.17)\r".to_vec(), // tags swapped
            b"UN\r" => *a = b"1125W/1125VA/048V/160W\r".to_vec(), // short
            b"Bl ?\r" => *a = b"101\r".to_vec(),     // over 100 %
            _ => {}
        }
    }
    let mut dev = Device::new(table);
    let mut c = Config::default();
    c.set("protocol", Some("omron")).unwrap();
    let (s, events) = run(c, &mut dev, 1);
    assert!(events.iter().any(|e| matches!(e, Event::Initialized)));
    for var in ["battery.date", "ups.firmware", "ups.power.nominal", "battery.charge"] {
        assert_eq!(get(&s, var), None, "{var} published from a bad answer");
    }
    assert_eq!(get(&s, "battery.runtime"), Some("41940"));
}
