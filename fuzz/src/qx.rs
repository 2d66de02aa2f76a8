//! Fuzz target bodies for `nut-megatec` (the Megatec Q* family).

use nut_megatec::protocol::{AUTODETECT_ORDER, Protocol};
use nut_megatec::usb::{Bridge, Framing, TransferResult};
use nut_megatec::{Config, Event, MAX_ANSWER_LEN, Session, apply_answer};
use nut_proto::publish::{MAX_VALUE_LEN, Recorder};
use std::time::Duration;

fn protocol(b: u8) -> &'static Protocol {
    AUTODETECT_ORDER[usize::from(b) % AUTODETECT_ORDER.len()]
}

/// Variables a protocol may publish from an answer: its items' names, plus
/// the ones its hooks write.
/// Variables a subdriver hook writes besides its own item's
/// (`nut-megatec/src/hooks.rs`: OMRON's firmware, Voltronic's warnings,
/// beeper and output values).
const HOOK_VARS: [&str; 5] =
    ["ups.firmware.aux", "ups.alarm", "ups.beeper.status", "output.current", "output.frequency"];

fn may_publish(p: &Protocol, var: &str) -> bool {
    var == "ups.status"
        || var == "battery.test.status"
        || HOOK_VARS.contains(&var)
        || p.items.iter().any(|i| i.var == var)
}

/// `qx_answer`: byte 0 picks a protocol, the bytes up to and including the
/// first `\r` are the query, the rest the answer. Every item of that
/// protocol reading that query is applied: no panic; only the protocol's
/// variables are published, each value at most 255 bytes; numeric fields
/// (`%.Nf`) publish numbers; an answer refused as a whole (rejected,
/// short, wrong leading byte) publishes nothing; applying twice gives the
/// same values.
pub fn qx_answer(data: &[u8]) {
    let Some((&pb, rest)) = data.split_first() else { return };
    let proto = protocol(pb);
    let qend = rest.iter().position(|&b| b == b'\r').map_or(rest.len(), |i| i + 1);
    let (query, answer) = rest.split_at(qend);
    let mut r = Recorder::new();
    let errors = apply_answer(proto, query, answer, &mut r);
    let mut again = Recorder::new();
    apply_answer(proto, query, answer, &mut again);
    assert_eq!(r.upsc(), again.upsc(), "not deterministic");
    for (name, v) in r.tree().vars() {
        assert!(may_publish(proto, name), "{} published {name}", proto.name);
        assert!(v.value.len() <= MAX_VALUE_LEN);
        assert!(!v.value.is_empty(), "{name} published empty");
        let numeric = proto
            .items
            .iter()
            .filter(|i| i.var == name && i.command.as_bytes().eq_ignore_ascii_case(query))
            .all(|i| {
                i.pre == nut_megatec::item::Hook::None && i.dfl.is_some_and(|d| d.ends_with('f'))
            });
        if numeric
            && proto
                .items
                .iter()
                .any(|i| i.var == name && i.command.as_bytes().eq_ignore_ascii_case(query))
        {
            assert!(
                v.value.trim().parse::<f64>().is_ok(),
                "{name} = {:?} is not a number",
                v.value
            );
        }
    }
    let whole = errors.iter().all(|e| {
        matches!(
            e,
            nut_megatec::AnswerError::Rejected { .. }
                | nut_megatec::AnswerError::Short { .. }
                | nut_megatec::AnswerError::Leading { .. }
        )
    });
    if !errors.is_empty() && whole {
        let hooked = proto.items.iter().any(|i| {
            i.command.as_bytes().eq_ignore_ascii_case(query)
                && i.pre_ans != nut_megatec::item::Hook::None
        });
        if !hooked {
            assert_eq!(r.upsc(), "", "published from a refused answer");
        }
    }
}

/// One run of a `qx_session` script.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    upsc: String,
    sent: Vec<Vec<u8>>,
}

const CMDS: [&str; 8] = [
    "shutdown.return",
    "shutdown.stayoff",
    "test.battery.start",
    "load.off",
    "beeper.toggle",
    "shutdown.stop",
    "test.battery.start.quick",
    "no.such",
];

fn run_script(cfg: &Config, script: &[u8], bytewise: bool) -> Outcome {
    let mut now = Duration::ZERO;
    let mut s = Session::new(cfg.clone(), Recorder::new(), now);
    let mut events = Vec::new();
    let mut sent = Vec::new();
    let mut i = 0;
    let mut detected = 0;
    let mut ops = 0;
    while i < script.len() && ops < 400 {
        ops += 1;
        if let Some(q) = s.poll_transmit() {
            assert!(s.pending_query().is_some(), "transmit without a pending query");
            assert!(q.len() < 64, "query of {} bytes", q.len());
            sent.push(q);
        }
        let op = script[i];
        i += 1;
        let len = usize::from(script.get(i).copied().unwrap_or(0));
        match op % 6 {
            // Serial bytes, up to and including the first CR.
            0 | 1 => {
                i = (i + 1).min(script.len());
                let end = (i + len).min(script.len());
                let mut chunk = &script[i..end];
                i = end;
                if let Some(cr) = chunk.iter().position(|&b| b == b'\r') {
                    chunk = &chunk[..=cr];
                }
                now += Duration::from_millis(5);
                if bytewise {
                    // A piece's bytes after the end of an answer (a CR, or
                    // the byte that made it overlong) are dropped, so stop
                    // at the first byte after which the session has moved
                    // on: a new query to send, or none pending.
                    for b in chunk.chunks(1) {
                        s.handle_input(b, now);
                        if let Some(q) = s.poll_transmit() {
                            sent.push(q);
                            break;
                        }
                        if s.pending_query().is_none() {
                            break;
                        }
                    }
                } else {
                    s.handle_input(chunk, now);
                }
            }
            // A whole USB answer.
            2 => {
                i = (i + 1).min(script.len());
                let end = (i + len).min(script.len());
                now += Duration::from_millis(5);
                s.handle_answer(&script[i..end], now);
                i = end;
            }
            // Time passes to the next deadline.
            3 => {
                if let Some(t) = s.poll_timeout() {
                    assert!(
                        t >= now || s.pending_query().is_none(),
                        "deadline {t:?} before {now:?}"
                    );
                    now = now.max(t);
                }
                s.handle_timeout(now);
            }
            4 => {
                i += 1;
                let extra = (len % 3 == 0).then_some("120");
                s.instcmd(CMDS[len % CMDS.len()], extra, now);
            }
            _ => {
                i += 1;
                let var = if len % 2 == 0 { "ups.delay.shutdown" } else { "ups.delay.start" };
                let v = format!("{}", len * 7);
                s.setvar(var, &v, now);
            }
        }
        while let Some(e) = s.poll_event() {
            if matches!(e, Event::Detected { .. }) {
                detected += 1;
            }
            events.push(e);
        }
        assert!(detected <= 1, "detected twice");
        if let Some(q) = s.pending_query() {
            assert!(s.poll_timeout().is_some(), "pending query {q:?} without a deadline");
        }
    }
    if events.iter().any(|e| matches!(e, Event::NotSupported)) {
        assert!(s.poll_transmit().is_none(), "queries after NotSupported");
        assert!(s.protocol().is_none());
    }
    // A query the last operation started (the byte-by-byte run has
    // already taken it).
    if let Some(q) = s.poll_transmit() {
        sent.push(q);
    }
    let upsc = s.publisher().upsc();
    for line in upsc.lines() {
        assert!(line.len() <= MAX_VALUE_LEN + 64, "line {line:?}");
    }
    Outcome { events, upsc, sent }
}

/// `qx_session`: byte 0 picks the configuration (autodetection or one
/// protocol, `novendor`, `norating`), the rest is a script of serial bytes,
/// whole answers, timeouts, commands and settings. Invariants: no panic; a
/// query is transmitted only while pending and always has a deadline;
/// deadlines never lie in the past; one detection at most; nothing is sent
/// after `NotSupported`; values stay within 255 bytes; and feeding each
/// serial piece whole or byte by byte gives the same events, values and
/// queries. Also runs the USB framings over the script as transfer results.
pub fn qx_session(data: &[u8]) {
    let Some((&c, script)) = data.split_first() else { return };
    let mut cfg = Config::default();
    if c & 0x80 == 0 {
        cfg.protocol = Some(protocol(c).short_name().to_string());
    }
    cfg.novendor = c & 0x40 != 0;
    cfg.norating = c & 0x20 != 0;
    let a = run_script(&cfg, script, false);
    let b = run_script(&cfg, script, true);
    assert_eq!(a, b, "serial pieces change the outcome");

    // USB framings: the script as a stream of IN results.
    const FRAMINGS: [Framing; 12] = [
        Framing::Cypress,
        Framing::Phoenix,
        Framing::Ippon,
        Framing::Krauler,
        Framing::Fabula,
        Framing::Hunnox,
        Framing::Fuji,
        Framing::Phoenixtec,
        Framing::Snr,
        Framing::Sgs,
        Framing::Ablerex,
        Framing::Armac,
    ];
    let mut bridge = Bridge::new(FRAMINGS[usize::from(c) % FRAMINGS.len()]);
    if c & 1 != 0 {
        bridge.langid_fix = Some(0x0409);
    }
    let mut chunks = script.chunks(7);
    for q in [&b"Q1\r"[..], b"F\r", b"I\r", b"S.5R0001\r", b"QGS\r", b"T\r"] {
        let mut ex = bridge.exchange(q);
        let mut n = 0;
        while ex.next_transfer().is_some() {
            n += 1;
            assert!(n < 2000, "exchange does not end");
            let r = match chunks.next() {
                Some([0xff, ..]) => TransferResult::Timeout,
                Some([0xfe, ..]) => TransferResult::Stall,
                Some(d) => TransferResult::Data(d.to_vec()),
                None => TransferResult::Timeout,
            };
            ex.handle_result(r);
        }
        if let Ok(a) = ex.finish() {
            assert!(a.len() <= MAX_ANSWER_LEN, "answer of {} bytes", a.len());
        }
    }
}
