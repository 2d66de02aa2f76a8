//! Alerts, bad input, dumb mode, instant commands, writable variables and
//! shutdown, on the typical-results unit.

mod common;

use common::*;
use nut_apc::session::{CmdStatus, Request, SetStatus};
use nut_apc::{Alert, Event, Options, Session, TtyMode};
use std::time::Duration;

fn typical() -> Sim {
    Sim::from_file("smart-protocol-typical-results.apc")
}

/// A unit with the typical answers, "a" listing the commands used here,
/// and the capability example (locale D, which 50.9.D ends in).
fn smart() -> Sim {
    let mut sim = typical();
    sim.set(b'a', b"3.!$%+?=#|.\x01BCfLOPbVnxuSKZWAUD@\x1a\r\n");
    let caps = answers(&parse(&data("smart-protocol-status-and-capabilities.apc")));
    sim.table.insert(0x1a, caps[&0x1a].clone());
    sim
}

fn ready(sim: Sim) -> Harness {
    let mut h = Harness::start(sim);
    assert!(h.run_until(SECS(120), |e| *e == Event::Ready));
    h.run_for(SECS(1));
    h
}

#[test]
fn status_is_read_before_identification() {
    let mut h = Harness::start(typical());
    assert!(h.run_until(SECS(10), |e| *e == Event::EarlyStatus));
    // Two exchanges: smart mode, then the status; identification's first
    // query (V) goes out at once, and nothing is identified yet.
    assert_eq!(h.sim.received, b"YQV");
    assert_eq!(h.get("ups.status"), Some("OL"));
    assert_eq!(h.get("ups.model"), None);
    assert_eq!(h.events, [Event::DataOk, Event::EarlyStatus]);
    // Identification goes on as NUT's and ends with Ready.
    assert!(h.run_until(SECS(120), |e| *e == Event::Ready));
    assert_eq!(h.get("ups.model"), Some("SMART-UPS 700"));
    assert_eq!(h.get("ups.status"), Some("OL"));
    assert_eq!(h.events.iter().filter(|e| **e == Event::DataOk).count(), 1);
}

#[test]
fn no_early_status_without_a_usable_answer() {
    // NA, a timeout, or something that is not a status register: no early
    // status; identification follows, and the first poll reads Q.
    for answer in [&b"NA\r\n"[..], b"", b"OL\r\n", b"123\r\n"] {
        let mut sim = typical();
        sim.set(b'Q', answer);
        let mut h = Harness::start(sim);
        assert!(h.run_until(SECS(120), |e| *e == Event::Ready), "{answer:?}");
        assert!(!h.events.contains(&Event::EarlyStatus), "{answer:?}");
        assert_eq!(&h.sim.received[..3], b"YQV", "{answer:?}");
        assert_eq!(h.get("ups.status"), None, "{answer:?}");
    }
}

#[test]
fn alerts_between_answers_publish_at_once() {
    let mut h = ready(typical());
    assert_eq!(h.get("ups.status"), Some("OL"));
    // '!' on its own, between polls: OB at once, before any Q.
    let q = h.sim.received.len();
    h.inject(b"!");
    assert_eq!(h.get("ups.status"), Some("OB"));
    assert_eq!(h.sim.received.len(), q, "nothing was sent");
    assert_eq!(h.events.last(), Some(&Event::Alert(Alert::OnBattery)));
    h.inject(b"%");
    assert_eq!(h.get("ups.status"), Some("OB LB"));
    h.inject(b"#?");
    assert_eq!(h.get("ups.status"), Some("OB OVER LB RB"));
    h.inject(b"=+$");
    assert_eq!(h.get("ups.status"), Some("OL RB"));
    // '|', '&', '*' are not alerts.
    let n = h.events.len();
    h.inject(b"|&*");
    assert_eq!(h.events.len(), n);
}

#[test]
fn first_poll_asks_only_the_status() {
    let mut h = Harness::start(typical());
    assert!(h.run_until(SECS(120), |e| *e == Event::Ready));
    // Identification (after the early status) read every variable (with 'C'
    // among them).
    assert_eq!(&h.sim.received[..2], b"YQ");
    let q =
        h.sim.received[2..].iter().position(|&b| b == b'Q').map_or(h.sim.received.len(), |p| p + 2);
    let ident = h.sim.received[..q].to_vec();
    assert!(ident.contains(&b'C'), "{ident:?}");
    assert_eq!(h.get("ups.temperature"), Some("036.0"));
    h.run_for(SECS(1));
    assert_eq!(&h.sim.received[ident.len()..], b"Q", "the first poll");
    assert_eq!(h.get("ups.status"), Some("OL"));
    // The next one (2 s later) reads the polled variables again.
    h.run_for(SECS(2));
    let second = &h.sim.received[ident.len() + 1..];
    assert!(second.starts_with(b"Q") && second.contains(&b'C'), "{second:?}");
}

#[test]
fn alert_inside_an_answer_is_separated() {
    let mut sim = typical();
    // f answers "099.0" with a low-battery alert in the middle.
    sim.set(b'f', b"09%9.0\r\n");
    let mut h = ready(sim);
    // Identification reads ignore alert bytes, and the first poll asks
    // only for Q: `f` is read alert-aware from the second poll on.
    assert!(!h.events.contains(&Event::Alert(Alert::LowBattery)));
    h.run_for(SECS(3));
    assert_eq!(h.get("battery.charge"), Some("099.0"));
    // Q = 08 (OL) came first in the poll, then % set LB.
    assert_eq!(h.get("ups.status"), Some("OL LB"));
    assert!(h.events.contains(&Event::Alert(Alert::LowBattery)));
}

#[test]
fn alerts_ignored_outside_alert_aware_reads() {
    // During identification, reads ignore alert bytes: the model answer
    // keeps its text without '$'.
    let mut sim = typical();
    sim.set(0x01, b"SMART$-UPS 700\r\n");
    let h = ready(sim);
    assert_eq!(h.get("ups.model"), Some("SMART-UPS 700"));
}

#[test]
fn garbage_and_overlong_lines() {
    let mut h = ready(typical());
    // Garbage between polls is dropped; state unchanged.
    h.inject(b"\x00\xff garbage\r\nmore\n");
    assert_eq!(h.get("ups.status"), Some("OL"));
    // An answer longer than NUT's 511-byte buffer fails the poll: stale.
    h.sim.set(b'Q', &[b'0'; 600]);
    assert!(h.run_until(SECS(10), |e| *e == Event::DataStale));
}

#[test]
fn truncated_answer_times_out_and_goes_stale() {
    let mut h = ready(typical());
    h.sim.set(b'Q', b"0"); // no LF
    assert!(h.run_until(SECS(10), |e| *e == Event::DataStale));
    assert!(h.session.is_stale());
}

#[test]
fn dumb_mode_then_recovery() {
    let mut h = ready(typical());
    let sent_before = h.writes.len();
    h.sim.silent = true;
    assert!(h.run_until(SECS(10), |e| *e == Event::DataStale));
    // NUT skips 9 updates (2 s apart), then tries Y on the 10th.
    let t_stale = h.clock;
    let ys_before = h.sim.received.iter().filter(|&&b| b == b'Y').count();
    h.run_for(SECS(17));
    assert_eq!(h.sim.received.iter().filter(|&&b| b == b'Y').count(), ys_before, "Y too early");
    h.sim.silent = false;
    assert!(h.run_until(SECS(10), |e| *e == Event::DataOk));
    assert!(h.clock - t_stale >= SECS(18));
    let after: Vec<u8> = h.written_since(sent_before);
    let y = after.iter().position(|&b| b == b'Y').unwrap();
    assert_eq!(after[y + 1], b'Q', "status read right after smart mode");
    // The next update after a stale period is a full one (hourly vars too).
    h.run_for(SECS(1));
    assert_eq!(h.get("ups.status"), Some("OL"));
}

#[test]
fn raw_ttymode_keeps_cr_out_of_values() {
    let opts = Options { ttymode: TtyMode::Raw, ..Options::default() };
    let mut h = Harness::new(Session::new(opts, Duration::ZERO), typical());
    assert!(h.run_until(SECS(60), |e| *e == Event::Ready));
    h.run_for(SECS(1));
    assert_eq!(h.get("ups.serial"), Some("WS9643050926"));
    assert_eq!(h.get("ups.status"), Some("OL"));
}

#[test]
fn raw_ttymode_partial_line_is_a_failure() {
    // In raw mode a line cut by the timeout is a read error (-1); in
    // canonical mode it is a plain timeout. V's error skips b.
    for (mode, b_sent) in [(TtyMode::Raw, false), (TtyMode::Canonical, true)] {
        let mut sim = typical();
        sim.set(b'V', b"GW");
        let opts = Options { ttymode: mode, ..Options::default() };
        let mut h = Harness::new(Session::new(opts, Duration::ZERO), sim);
        assert!(h.run_until(SECS(60), |e| *e == Event::Ready));
        let sent = h.written_since(0);
        assert_eq!(&sent[..3], b"YQV");
        assert_eq!(sent[3] == b'b', b_sent, "{mode:?}");
    }
}

#[test]
fn no_smart_mode_is_fatal_after_five_tries() {
    let mut sim = typical();
    sim.silent = true;
    let mut h = Harness::start(sim);
    assert!(h.run_until(SECS(60), |e| matches!(e, Event::Fatal(_))));
    let ys = h.sim.received.iter().filter(|&&b| b == b'Y').count();
    let escs = h.sim.received.iter().filter(|&&b| b == 0x1b).count();
    assert_eq!((ys, escs), (5, 5));
}

#[test]
fn generic_command_expects_ok() {
    let mut h = ready(smart());
    h.sim.set(b'W', b"OK\r\n");
    let Request::Queued(id) = h.session.instcmd("test.battery.start", None, h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(10), |e| matches!(e, Event::InstcmdDone { .. })));
    assert_eq!(h.events.last(), Some(&Event::InstcmdDone { id, status: CmdStatus::Handled }));
    h.sim.set(b'A', b"NO\r\n");
    let Request::Queued(id) = h.session.instcmd("test.panel.start", None, h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(10), |e| matches!(e, Event::InstcmdDone { .. })));
    assert_eq!(h.events.last(), Some(&Event::InstcmdDone { id, status: CmdStatus::Failed }));
    // Not in the command set / unknown.
    assert_eq!(h.session.instcmd("bypass.start", None, h.clock), Request::Done(CmdStatus::Invalid));
    assert_eq!(
        h.session.instcmd("test.battery.start", Some("x"), h.clock),
        Request::Done(CmdStatus::Invalid)
    );
}

#[test]
fn nasty_command_needs_two_requests_in_window() {
    let mut h = ready(smart());
    h.run_for(SECS(5));
    let before = h.writes.len();
    // First request: handled without doing anything.
    assert_eq!(
        h.session.instcmd("shutdown.stayoff", None, h.clock),
        Request::Done(CmdStatus::Handled)
    );
    // Too soon (under 3 s): again nothing.
    h.run_for(SECS(1));
    assert_eq!(
        h.session.instcmd("shutdown.stayoff", None, h.clock),
        Request::Done(CmdStatus::Handled)
    );
    assert!(!h.written_since(before).contains(&b'K'));
    // 4 s later: within 3..15 s of the previous one -> K, 1.3 s, K, then '*'.
    h.run_for(SECS(4));
    let from = h.writes.len();
    let Request::Queued(id) = h.session.instcmd("shutdown.stayoff", None, h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(10), |e| matches!(e, Event::InstcmdDone { .. })));
    assert_eq!(h.events.last(), Some(&Event::InstcmdDone { id, status: CmdStatus::Handled }));
    let ks: Vec<Duration> =
        h.writes[from..].iter().filter(|(_, b)| b == b"K").map(|(t, _)| *t).collect();
    assert_eq!(ks.len(), 2);
    assert!(ks[1] - ks[0] >= Duration::from_millis(1500), "{:?}", ks[1] - ks[0]);
    // K went out after a flush of input.
    let first_k = h.writes[from..].iter().find(|(_, b)| b == b"K").unwrap();
    let _ = first_k;
}

#[test]
fn shutdown_return_at_sends_padded_delay_paced() {
    let mut h = ready(smart());
    h.run_for(SECS(5));
    assert_eq!(
        h.session.instcmd("shutdown.return", Some("at:5"), h.clock),
        Request::Done(CmdStatus::Handled)
    );
    h.run_for(SECS(5));
    let from = h.writes.len();
    let Request::Queued(_) = h.session.instcmd("shutdown.return", Some("AT:5"), h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(10), |e| matches!(e, Event::InstcmdDone { .. })));
    assert!(matches!(h.events.last(), Some(Event::InstcmdDone { status: CmdStatus::Handled, .. })));
    let at: Vec<&(Duration, Vec<u8>)> = h.writes[from..].iter().collect();
    let bytes: Vec<u8> = at.iter().flat_map(|(_, b)| b.clone()).collect();
    let p = bytes.iter().position(|&b| b == b'@').unwrap();
    assert_eq!(&bytes[p..p + 4], b"@005");
    // The digits are 50 ms apart, the first 200 ms after '@'.
    let times: Vec<Duration> = at.iter().map(|(t, _)| *t).collect();
    assert!(times.windows(2).all(|w| w[1] >= w[0]));
}

#[test]
fn setvar_enum_rotates_to_the_wanted_value() {
    let mut sim = smart();
    sim.rotations
        .insert(b'u', ["132", "135", "138", "129"].iter().map(|s| s.as_bytes().to_vec()).collect());
    let mut h = ready(sim);
    let Request::Queued(id) = h.session.setvar("input.transfer.high", "138", h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(20), |e| matches!(e, Event::SetDone { .. })));
    assert_eq!(h.events.last(), Some(&Event::SetDone { id, status: SetStatus::Handled }));
    assert_eq!(h.get("input.transfer.high"), Some("138"));
    // Same value again: handled without '-'.
    let from = h.sim.received.len();
    let Request::Queued(_) = h.session.setvar("input.transfer.high", "138", h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(20), |e| matches!(e, Event::SetDone { .. })));
    assert!(!h.sim.received[from..].contains(&b'-'));
    // A value not among the choices wraps around and fails.
    let Request::Queued(id) = h.session.setvar("input.transfer.high", "140", h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(60), |e| matches!(e, Event::SetDone { .. })));
    assert_eq!(h.events.last(), Some(&Event::SetDone { id, status: SetStatus::Failed }));
    // Read-only and unknown variables.
    assert_eq!(h.session.setvar("ups.load", "1", h.clock), Request::Done(SetStatus::Unknown));
    assert_eq!(h.session.setvar("nope", "1", h.clock), Request::Done(SetStatus::Unknown));
}

#[test]
fn setvar_string_pads_with_cr() {
    let mut h = ready(smart());
    assert_eq!(
        h.session.setvar("battery.date", "123456789", h.clock),
        Request::Done(SetStatus::Failed)
    );
    let from = h.sim.received.len();
    let Request::Queued(_) = h.session.setvar("battery.date", "01/02/03", h.clock) else {
        panic!()
    };
    assert!(h.run_until(SECS(20), |e| matches!(e, Event::SetDone { .. })));
    let got = &h.sim.received[from..];
    let p = got.iter().position(|&b| b == b'-').unwrap();
    assert_eq!(&got[p..p + 9], b"-01/02/03");
    let from = h.sim.received.len();
    let Request::Queued(_) = h.session.setvar("battery.date", "1/2", h.clock) else { panic!() };
    assert!(h.run_until(SECS(20), |e| matches!(e, Event::SetDone { .. })));
    let got = &h.sim.received[from..];
    let p = got.iter().position(|&b| b == b'-').unwrap();
    assert_eq!(&got[p..p + 9], b"-1/2\r\r\r\r\r");
}

fn shutdown_with(opts: Options, q: &[u8]) -> (Harness, Vec<u8>) {
    let mut sim = typical();
    sim.set(b'Q', q);
    sim.set(b'S', b"OK\r\n");
    let mut h = Harness::new(Session::shutdown(opts, Duration::ZERO), sim);
    assert!(h.run_until(SECS(60), |e| *e == Event::Closed));
    let sent = h.written_since(0);
    (h, sent)
}

#[test]
fn shutdown_sdtype_0_and_the_one_char_status_quirk() {
    // NUT 2.8.0 accepts the -k status only when it is one character: the
    // normal two-digit 08 is taken as OB+LB, so sdtype 0 sends S.
    let (h, sent) = shutdown_with(Options::default(), b"08\r\n");
    assert_eq!(sent, b"YQSR");
    assert!(h.events.contains(&Event::ShutdownDone(CmdStatus::Handled)));
    // "8" (one char) is OL: hard hibernate with the default awd 000.
    let (_, sent) = shutdown_with(Options::default(), b"8\r\n");
    assert_eq!(sent, b"YQ@000R");
}

#[test]
fn shutdown_every_sdtype() {
    let cases: &[(&str, &[u8], &[u8])] = &[
        ("1", b"10\r\n", b"YQ@000R"), // quirk: OB+LB -> S ... see below
        ("2", b"8\r\n", b"YQZZR"),
        ("3", b"8\r\n", b"YQKKR"),
        ("4", b"8\r\n", b"YQUSR"),
        ("4", b"10\r\n", b"YQSR"),
        ("5", b"8\r\n", b"YQ@000R"),
    ];
    for (sdtype, q, want) in cases {
        let mut opts = Options::default();
        opts.set("sdtype", sdtype).unwrap();
        let (_, sent) = shutdown_with(opts, q);
        if *sdtype == "1" {
            // "10" is two characters: OB+LB assumed; S answers OK.
            assert_eq!(sent, b"YQSR", "sdtype 1");
            continue;
        }
        assert_eq!(&sent, want, "sdtype {sdtype} with Q {:?}", String::from_utf8_lossy(q));
    }
    // sdtype 1 on line ("8"): not OB, so straight to @.
    let mut opts = Options::default();
    opts.set("sdtype", "1").unwrap();
    let (_, sent) = shutdown_with(opts, b"8\r\n");
    assert_eq!(sent, b"YQ@000R");
}

#[test]
fn shutdown_advorder_tries_in_order() {
    let mut opts = Options::default();
    opts.set("advorder", "210").unwrap();
    opts.set("awd", "12").unwrap();
    let mut sim = typical();
    sim.set(b'Q', b"8\r\n");
    sim.silent = false;
    // K is answered '*' by the simulated unit (handled): 2 = K first.
    let mut h = Harness::new(Session::shutdown(opts.clone(), Duration::ZERO), sim);
    assert!(h.run_until(SECS(60), |e| *e == Event::Closed));
    assert_eq!(h.written_since(0), b"YQKKR");
    // With S refused: advorder 01 -> S fails, then @12 (two digits kept
    // as given). This unit wants three digits and stays silent, so NUT
    // aborts the sequence with Y ("try 3 digits") and the shutdown fails.
    opts.set("advorder", "01").unwrap();
    let mut sim = typical();
    sim.set(b'Q', b"8\r\n");
    sim.set(b'S', b"NO\r\n");
    let mut h = Harness::new(Session::shutdown(opts, Duration::ZERO), sim);
    assert!(h.run_until(SECS(60), |e| *e == Event::Closed));
    assert_eq!(h.written_since(0), b"YQS@12YR");
    assert!(h.events.contains(&Event::ShutdownDone(CmdStatus::Failed)));
}

#[test]
fn cs_hack_waits_cshdelay() {
    let mut opts = Options::default();
    opts.set("sdtype", "4").unwrap();
    opts.set("cshdelay", "2.5").unwrap();
    let (h, _) = shutdown_with(opts, b"8\r\n");
    let u = h.writes.iter().find(|(_, b)| b == b"U").unwrap().0;
    let s = h.writes.iter().find(|(_, b)| b == b"S").unwrap().0;
    assert!(s - u >= Duration::from_millis(2500));
}

#[test]
fn options_validated_like_nut() {
    let mut o = Options::default();
    for (k, v) in [
        ("awd", "1234"),
        ("awd", "x"),
        ("sdtype", "6"),
        ("advorder", "5"),
        ("advorder", "012340"),
        ("cshdelay", "10"),
    ] {
        assert!(o.set(k, v).is_err(), "{k}={v}");
    }
    for (k, v) in
        [("awd", "1"), ("sdtype", "0"), ("advorder", "No"), ("cshdelay", ".5"), ("cshdelay", "9.")]
    {
        assert!(o.set(k, v).is_ok(), "{k}={v}");
    }
    assert_eq!(o.cshdelay, Duration::from_secs(9));
    assert_eq!(Options::at_command(Some("5")), b"@005");
    assert_eq!(Options::at_command(Some("12")), b"@12");
    assert_eq!(Options::at_command(None), b"@000");
    o.set("cable", "940-0095b").unwrap();
    assert_eq!(o.cable_lines(), Some((true, false)));
}

#[test]
fn close_sends_r() {
    let mut h = ready(typical());
    h.session.close(h.clock);
    assert!(h.run_until(SECS(10), |e| *e == Event::Closed));
    assert_eq!(h.writes.last().unwrap().1, b"R");
}
