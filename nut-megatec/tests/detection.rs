//! What autodetection sends: an answer heard during one detection pass is
//! read again by the next claim step that sends the same query instead of
//! asking the device again, except by the subdriver that refused it (its
//! retry asks again, as NUT's does); the init walk reads the answers the
//! claim accepted (see `Heard` in `src/session.rs`).

mod common;

use common::{Device, exchanges, load, protocol_of, run};
use nut_megatec::{Config, Event};
use nut_proto::publish::Publish;

fn names(log: &[Vec<u8>]) -> Vec<String> {
    log.iter().map(|q| String::from_utf8_lossy(q).trim_end().to_string()).collect()
}

fn count(log: &[Vec<u8>], q: &str) -> usize {
    names(log).iter().filter(|n| *n == q).count()
}

/// NUT 2.8.0 sends 32 queries before its first update on this device
/// (`QGS` ×3, `M` ×6, `QS` ×3, `D` ×3, `Q1`/`ID` ×3, `Q1`/`QPI` ×3, `Q1`,
/// `I`, then `Q1`, `F`, `I` at init). Each answer a claim step accepted
/// (`Q1`, `I`) is asked once; refused ones (the echoes) are asked again
/// only by the retries of the subdriver that refused them; a second
/// subdriver asking `M` first reads the answer the first one refused.
#[test]
fn detection_asks_each_accepted_query_once() {
    for only_280 in [false, true] {
        let mut dev = Device::new(exchanges(&load("selftest/megatec.qx")));
        let mut c = Config::default();
        c.nut_2_8_0_only = only_280;
        let (s, events) = run(c, &mut dev, 1);
        assert_eq!(protocol_of(&events), Some("Megatec 0.06"));
        assert!(events.contains(&Event::Updated { full: false }), "{events:?}");
        let want = [
            "QGS", "QGS", "QGS", // Voltronic: three tries
            "M", "M", "M", // Voltronic-QS: three tries
            "M", "M", // Voltronic-QS-Hex: reads the last M, then two retries
            "QS", "QS", "QS", // Mustek
            "D", "D", "D", // Megatec/old
            "Q1", "ID", "ID", "ID", // BestUPS: Q1 accepted once, ID refused
            "QPI", "QPI", "QPI", // Mecer: Q1 read again, QPI refused
            "I",   // Megatec: Q1 read again, I accepted
            "F",   // init: Q1 and I read from the claim
            "Q1",  // the first update asks
        ];
        assert_eq!(names(&dev.log), want, "2.8.0 order only: {only_280}");
        // The published values are the walk's, from the heard answers.
        let p = s.publisher();
        assert_eq!(p.getinfo("input.voltage.fault"), Some("195.0"));
        assert_eq!(p.getinfo("device.mfr"), Some("NOT_A_LIVE_UPS"));
        assert_eq!(p.getinfo("input.voltage.nominal"), Some("230"));
    }
}

/// Every distinct query, over the whole pass, counts only the asks a
/// subdriver's own retry of a refused answer makes: a device answering
/// everything once claims with each distinct query sent once.
#[test]
fn a_device_claimed_at_once_is_asked_each_query_once() {
    let mut dev = Device::new(exchanges(&load("selftest/megatec.qx")));
    let mut c = Config::default();
    c.set("protocol", Some("megatec")).unwrap();
    let (_, events) = run(c, &mut dev, 0);
    assert!(events.contains(&Event::Initialized), "{events:?}");
    let log = names(&dev.log);
    let mut distinct = log.clone();
    distinct.sort();
    distinct.dedup();
    for q in &distinct {
        assert_eq!(count(&dev.log, q), 1, "{q} in {log:?}");
    }
}

/// A device that garbles its first answer (waking up, line noise) is
/// still claimed: the refused answer is not reused by the subdriver that
/// refused it, whose retry asks again, as NUT's does.
#[test]
fn a_refused_answer_is_asked_again_by_the_retry() {
    let mut dev = Device::new(exchanges(&load("selftest/megatec.qx")));
    dev.once = vec![(b"Q1\r".to_vec(), b"(21#garbage\r".to_vec())];
    let mut c = Config::default();
    c.set("protocol", Some("megatec")).unwrap();
    let (s, events) = run(c, &mut dev, 0);
    assert_eq!(protocol_of(&events), Some("Megatec 0.06"), "{events:?}");
    assert_eq!(names(&dev.log), ["Q1", "Q1", "I", "F"]);
    assert_eq!(s.publisher().getinfo("input.voltage"), Some("215.0"));
}

/// The init walk takes a heard answer only if the item accepts it; an
/// answer the claim took but a later item refuses is asked again, and
/// the items publish from the fresh one, as in NUT.
#[test]
fn the_init_walk_asks_again_when_the_heard_answer_fails_an_item() {
    let mut dev = Device::new(exchanges(&load("selftest/megatec.qx")));
    // The claim reads input.voltage; input.voltage.fault is not a number.
    let bad = b"(215.0 19x.0 230.0 014 49.0 22.7 30.0 00000000\r".to_vec();
    dev.once = vec![(b"Q1\r".to_vec(), bad)];
    let mut c = Config::default();
    c.set("protocol", Some("megatec")).unwrap();
    let (s, events) = run(c, &mut dev, 0);
    assert!(events.contains(&Event::Initialized), "{events:?}");
    assert_eq!(names(&dev.log), ["Q1", "I", "Q1", "F"]);
    assert_eq!(s.publisher().getinfo("input.voltage.fault"), Some("195.0"));
    assert_eq!(s.publisher().getinfo("battery.voltage"), Some("22.70"));
}

/// Values the claim and the init walk read from a heard answer are read
/// again by the first update, from its fresh `Q1` (which it sends anyway),
/// so what the driver serves is no older than NUT's init walk's answer.
#[test]
fn the_first_update_rereads_what_came_from_heard_answers() {
    let mut dev = Device::new(exchanges(&load("selftest/megatec.qx")));
    let first = b"(216.0 196.0 231.0 015 49.1 22.8 30.1 00000000\r".to_vec();
    dev.once = vec![(b"Q1\r".to_vec(), first)];
    let mut c = Config::default();
    c.set("protocol", Some("megatec")).unwrap();
    let (s, events) = run(c.clone(), &mut dev, 0);
    assert!(events.contains(&Event::Initialized), "{events:?}");
    assert_eq!(s.publisher().getinfo("input.voltage"), Some("216.0"));
    assert_eq!(s.publisher().getinfo("input.voltage.fault"), Some("196.0"));

    let mut dev = Device::new(exchanges(&load("selftest/megatec.qx")));
    dev.once =
        vec![(b"Q1\r".to_vec(), b"(216.0 196.0 231.0 015 49.1 22.8 30.1 00000000\r".to_vec())];
    let (s, events) = run(c, &mut dev, 1);
    assert!(events.contains(&Event::Updated { full: false }), "{events:?}");
    assert_eq!(names(&dev.log), ["Q1", "I", "F", "Q1"]);
    let p = s.publisher();
    for (var, want) in [
        ("input.voltage", "215.0"),
        ("input.voltage.fault", "195.0"),
        ("output.voltage", "230.0"),
        ("ups.load", "14"),
        ("battery.voltage", "22.70"),
        ("ups.temperature", "30.0"),
    ] {
        assert_eq!(p.getinfo(var), Some(want), "{var}");
    }
}

/// When the first update's `Q1` brings the heard answer again, nothing is
/// read again: the first update publishes what NUT's does (Ablerex's
/// battery.charge, which NUT computes at init before the battery voltage
/// limits are known, keeps its init value until the next full update).
#[test]
fn an_unchanged_answer_is_not_read_again() {
    let run_with = |reuse: bool| {
        let mut dev = Device::new(exchanges(&load("selftest/ablerex.qx")));
        if !reuse {
            // Every Q1 answer differs from the last by a trailing space
            // NUT ignores: each is read as fresh.
            dev.once = vec![(
                b"Q1\r".to_vec(),
                b"(215.0 195.0 230.0 014 49.0 22.7 30.0 00000000 \r".to_vec(),
            )];
        }
        let mut c = Config::default();
        c.set("protocol", Some("ablerex")).unwrap();
        let (s, events) = run(c, &mut dev, 1);
        assert!(events.contains(&Event::Updated { full: false }), "{events:?}");
        s.publisher().getinfo("battery.charge").map(str::to_string)
    };
    let same = run_with(true);
    let changed = run_with(false);
    assert_eq!(same.as_deref(), Some("100"));
    assert_ne!(same, changed, "a changed answer is read again");
}
