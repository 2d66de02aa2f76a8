//! Fuzz target bodies for `nut-apc` (the APC Smart codec).

use nut_apc::answer::{self, AnswerError};
use nut_apc::table::Format;
use nut_apc::{Event, Options, Session, TtyMode};
use nut_proto::publish::{Publish, Recorder};
use std::collections::HashMap;
use std::time::Duration;

const FORMATS: [Format; 11] = [
    Format::Leave,
    Format::Percent,
    Format::Volt,
    Format::Amp,
    Format::Celsius,
    Format::Hex,
    Format::Dec,
    Format::Seconds,
    Format::Minutes,
    Format::Hours,
    Format::Reason,
];

/// `apc_answer`: the answer parsers on any line. The capability walk is
/// the same with and without the `451.2.I` quirk except that the quirk
/// turns an overflow into a quiet end; every value fits its entry length;
/// a command set is the third dot field; the status tokens name exactly
/// the bits set; numbers read as C's `strtol`; conversions never panic.
pub fn apc_answer(data: &[u8]) {
    let strict = answer::parse_caps(data, false);
    let quirk = answer::parse_caps(data, true);
    match &strict {
        Ok(e) => assert_eq!(quirk.as_ref(), Ok(e)),
        Err(AnswerError::CapsOverflow { offset }) => {
            assert!(quirk.is_ok(), "quirk did not absorb overflow at {offset}");
            assert!(*offset >= data.len().min(answer::MAX_ANSWER));
        }
        Err(e) => assert_eq!(quirk.as_ref(), Err(e)),
    }
    if let Ok(entries) = &strict {
        assert!(entries.len() <= answer::MAX_ANSWER / 4 + 1);
        for e in entries {
            assert!(e.values.len() <= 255 - 48);
            for v in &e.values {
                assert!(v.len() <= 255 - 48 && !v.contains(&0));
            }
        }
    }
    if let Ok(cmds) = answer::parse_command_set(data) {
        assert!(!cmds.is_empty() && !cmds.contains(&b'.'));
        let third = data.split(|&b| b == b'.').nth(2);
        assert_eq!(third, Some(cmds));
        assert!(data.first().is_some_and(u8::is_ascii_digit) && data.get(1) == Some(&b'.'));
    }
    let bits = answer::parse_status(data);
    assert_eq!(i64::from(bits), answer::strtol(data, 16) & 0xff);
    let tokens = answer::status_tokens(bits);
    assert_eq!(tokens == ["OFF"], bits == 0);
    if bits != 0 {
        assert_eq!(tokens.len(), bits.count_ones() as usize);
    }
    if let Ok(s) = std::str::from_utf8(data)
        && !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
    {
        let want = s.parse::<i64>().unwrap_or(i64::MAX);
        assert_eq!(answer::strtol(data, 10), want);
    }
    for f in FORMATS {
        let v = answer::convert(f, data);
        if f == Format::Minutes {
            assert_eq!(v, answer::strtol(data, 10).wrapping_mul(60).to_string());
        }
    }
    let fields = answer::split_packed(data);
    assert!(!fields.is_empty() && fields.len() <= 4);
    assert!(data.starts_with(&fields.join(&b',')));
    for &b in data {
        if let Some(a) = nut_apc::Alert::from_byte(b) {
            assert_eq!(a.byte(), b);
            assert_eq!(a.apply(a.apply(0x5a)), a.apply(0x5a), "alerts are idempotent");
        }
    }
}

/// Answers from `.apc`-style text: `> Q` then `< A` lines (escapes
/// `\r \n \\ \xNN`); the last answer for a query wins.
fn answers(data: &[u8]) -> HashMap<u8, Vec<u8>> {
    fn unescape(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&b) = s.get(i) {
            if b == b'\\' {
                match s.get(i + 1) {
                    Some(b'r') => out.push(b'\r'),
                    Some(b'n') => out.push(b'\n'),
                    Some(b'x') => {
                        let hex = s.get(i + 2..i + 4).and_then(|h| std::str::from_utf8(h).ok());
                        if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                            out.push(v);
                            i += 2;
                        }
                    }
                    Some(&o) => out.push(o),
                    None => out.push(b'\\'),
                }
                i += 2;
            } else {
                out.push(b);
                i += 1;
            }
        }
        out
    }
    let mut map = HashMap::new();
    let mut query = None;
    for line in data.split(|&b| b == b'\n') {
        if let Some(q) = line.strip_prefix(b"> ") {
            query = unescape(q).first().copied();
        } else if let Some(a) = line.strip_prefix(b"< ")
            && let Some(q) = query.take()
        {
            let mut a = unescape(a);
            if !a.ends_with(b"\n") {
                a.push(b'\n');
            }
            map.insert(q, a);
        }
    }
    map
}

/// Bytes the session must never send on its own: power and shutdown
/// commands (only asked for through `instcmd` / `-k`).
const NEVER_UNASKED: &[u8] = b"KZS@U\x0eDA^W-";

/// `apc_session`: a simulated unit answers from `.apc`-style text in the
/// input (NA for anything else); the first byte picks the tty mode. The
/// session runs 40 s of fake time, then gets a safe instant command and
/// a set. It must never panic or spin, write one byte at a time (longer
/// only for paced commands), never send a power command unasked, publish only NUT status tokens, and publish the same
/// state when run twice.
pub fn apc_session(data: &[u8]) {
    let a = run(data);
    let b = run(data);
    assert_eq!(a, b, "the session is not deterministic");
}

fn run(data: &[u8]) -> String {
    let table = answers(data);
    let raw = data.first().is_some_and(|b| b & 1 == 1);
    let opts = Options {
        ttymode: if raw { TtyMode::Raw } else { TtyMode::Canonical },
        ..Options::default()
    };
    let mut now = Duration::ZERO;
    let mut s = Session::new(opts, now);
    let mut rec = Recorder::new();
    let mut ready = false;
    let mut asked = false;
    let mut spins = 0u32;
    let end = Duration::from_secs(100);
    let mut steps = 0u32;
    while now < end {
        steps += 1;
        assert!(steps < 200_000, "no progress");
        let mut out = Vec::new();
        let mut any = false;
        while let Some(t) = s.poll_transmit() {
            any = true;
            assert!(t.bytes.len() <= 1, "transmit of {} bytes", t.bytes.len());
            for &b in &t.bytes {
                if !asked {
                    assert!(!NEVER_UNASKED.contains(&b), "sent {b:#04x} unasked");
                }
                out.extend_from_slice(table.get(&b).map_or(&b"NA\r\n"[..], Vec::as_slice));
            }
        }
        while let Some(e) = s.poll_event() {
            any = true;
            if e == Event::Ready {
                ready = true;
            }
        }
        s.publish_to(&mut rec);
        assert!(s.poll_event().is_none() && s.poll_transmit().is_none());
        if let Some(st) = rec.getinfo("ups.status") {
            for t in st.split(' ') {
                assert!(
                    ["CAL", "TRIM", "BOOST", "OL", "OB", "OVER", "LB", "RB", "OFF"].contains(&t),
                    "token {t}"
                );
            }
        }
        if ready && !asked && now >= Duration::from_secs(40) {
            asked = true;
            let _ = s.instcmd("test.battery.start", None, now);
            let _ = s.setvar("input.transfer.high", "132", now);
            let _ = s.setvar("ups.id", "fuzz", now);
        }
        if !out.is_empty() {
            now += Duration::from_millis(20);
            s.handle_input(&out, now);
            spins = 0;
            continue;
        }
        match s.poll_timeout() {
            Some(t) => {
                if t <= now && !any {
                    spins += 1;
                    assert!(spins < 1000, "handle_timeout makes no progress at {t:?}");
                } else {
                    spins = 0;
                }
                now = now.max(t);
                s.handle_timeout(now);
            }
            None => break,
        }
    }
    if ready {
        assert_eq!(rec.getinfo("ups.mfr"), Some("APC"));
    }
    rec.upsc()
}
