//! `snmp-ups`'s device against a scripted SNMP agent on loopback (no
//! peer needed): wrong value types, huge and non-UTF-8 strings, counters
//! that wrap, endless walks, an agent that answers only some OIDs, one
//! that stops answering and comes back. Nothing may panic or end the
//! driver; memory stays bounded.
#![cfg(feature = "snmp")]

use nut_driver::params::DriverParams;
use nut_driver::{Device, DeviceError, Dstate, TrackingResult, UpdateKind};
use nut_drivers::snmp::{Settings, SnmpUps, VARS};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One value as the scripted agent answers it.
#[derive(Clone, Debug)]
enum Reply {
    Int(i64),
    Str(Vec<u8>),
    Oid(Vec<u64>),
    Counter32(u32),
    Gauge32(u32),
    TimeTicks(u32),
    Counter64(u64),
    NoSuchObject,
    /// v1 error status noSuchName.
    NoSuchName,
    /// Any tag and body as given (types SNMP does not have, malformed
    /// encodings).
    Raw(u8, Vec<u8>),
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
}

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    push_len(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

fn int_body(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 7
        && ((b[start] == 0 && b[start + 1] & 0x80 == 0)
            || (b[start] == 0xff && b[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    b[start..].to_vec()
}

fn uint_body(v: u64) -> Vec<u8> {
    let mut b = v.to_be_bytes().to_vec();
    while b.len() > 1 && b[0] == 0 && b[1] & 0x80 == 0 {
        b.remove(0);
    }
    if b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    b
}

fn oid_body(arcs: &[u64]) -> Vec<u8> {
    let mut out = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &a in &arcs[2..] {
        let mut chunk = vec![(a & 0x7f) as u8];
        let mut v = a >> 7;
        while v > 0 {
            chunk.insert(0, (v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(chunk);
    }
    out
}

fn encode_value(r: &Reply) -> Vec<u8> {
    match r {
        Reply::Int(v) => tlv(0x02, &int_body(*v)),
        Reply::Str(s) => tlv(0x04, s),
        Reply::Oid(o) => tlv(0x06, &oid_body(o)),
        Reply::Counter32(v) => tlv(0x41, &uint_body(u64::from(*v))),
        Reply::Gauge32(v) => tlv(0x42, &uint_body(u64::from(*v))),
        Reply::TimeTicks(v) => tlv(0x43, &uint_body(u64::from(*v))),
        Reply::Counter64(v) => tlv(0x46, &uint_body(*v)),
        Reply::NoSuchObject => vec![0x80, 0],
        Reply::NoSuchName => vec![0x05, 0],
        Reply::Raw(tag, body) => tlv(*tag, body),
    }
}

/// An SNMPv1 response.
fn response(community: &[u8], req_id: i32, oid: &[u64], r: &Reply) -> Vec<u8> {
    response_many(community, req_id, &[(oid.to_vec(), r.clone())])
}

/// An SNMPv1 response with several varbinds: error status noSuchName at
/// the first `NoSuchName` (its index, 1-based), as a v1 agent answers.
fn response_many(community: &[u8], req_id: i32, vbs: &[(Vec<u64>, Reply)]) -> Vec<u8> {
    let bad = vbs.iter().position(|(_, r)| matches!(r, Reply::NoSuchName));
    let (status, index) = match bad {
        Some(i) => (2, i as i64 + 1),
        None => (0, 0),
    };
    response_status(community, req_id, vbs, status, index)
}

/// A response with this error status and index.
fn response_status(
    community: &[u8],
    req_id: i32,
    vbs: &[(Vec<u64>, Reply)],
    status: i64,
    index: i64,
) -> Vec<u8> {
    let list: Vec<u8> = vbs
        .iter()
        .flat_map(|(oid, r)| {
            let value =
                if matches!(r, Reply::NoSuchName) { vec![0x05, 0] } else { encode_value(r) };
            tlv(0x30, &[tlv(0x06, &oid_body(oid)), value].concat())
        })
        .collect();
    let pdu = tlv(
        0xa2,
        &[
            tlv(0x02, &int_body(i64::from(req_id))),
            tlv(0x02, &int_body(status)),
            tlv(0x02, &int_body(index)),
            tlv(0x30, &list),
        ]
        .concat(),
    );
    tlv(0x30, &[tlv(0x02, &[0]), tlv(0x04, community), pdu].concat())
}

/// A SET the agent received: OID and INTEGER value.
type SetSeen = (Vec<u64>, i64);

type Script = dyn Fn(&[u64], bool) -> Option<(Vec<u64>, Reply)> + Send + Sync;

/// A scripted agent: `script(oid, is_getnext)` gives the answer (`None`:
/// no answer at all). Muted while `mute` is set.
struct FakeAgent {
    port: u16,
    mute: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
    /// The SETs received: OID and INTEGER value.
    sets: Arc<Mutex<Vec<SetSeen>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn fake_agent(script: Arc<Script>) -> FakeAgent {
    fake_agent_with(script, usize::MAX)
}

/// A scripted agent that answers `tooBig` to a GET of more than
/// `max_varbinds` OIDs.
fn fake_agent_with(script: Arc<Script>, max_varbinds: usize) -> FakeAgent {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let port = sock.local_addr().unwrap().port();
    let mute = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sets = Arc::new(Mutex::new(Vec::new()));
    let (m, r, s, w) = (mute.clone(), requests.clone(), stop.clone(), sets.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while !s.load(Ordering::SeqCst) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
            r.fetch_add(1, Ordering::SeqCst);
            if m.load(Ordering::SeqCst) {
                continue;
            }
            let Ok(pdu) = snmp2::Pdu::from_bytes(&buf[..n]) else { continue };
            let next = pdu.message_type == snmp2::MessageType::GetNextRequest;
            let mut vbs = pdu.varbinds.clone();
            let Some((oid, _)) = vbs.next() else { continue };
            let arcs: Vec<u64> = oid.iter().map(|i| i.collect()).unwrap_or_default();
            if pdu.message_type == snmp2::MessageType::SetRequest {
                // SETs: remembered; an INTEGER on an OID that reads is
                // accepted (echoed), anything else is refused (noSuchName)
                let mut vbs = pdu.varbinds.clone();
                let value = match vbs.next() {
                    Some((_, snmp2::Value::Integer(v))) => Some(v),
                    _ => None,
                };
                w.lock().unwrap().push((arcs.clone(), value.unwrap_or(i64::MIN)));
                let known =
                    matches!(script(&arcs, false), Some((_, r)) if !matches!(r, Reply::NoSuchName));
                let reply = match value {
                    Some(v) if known => Reply::Int(v),
                    _ => Reply::NoSuchName,
                };
                let out = response(pdu.community, pdu.req_id, &arcs, &reply);
                let _ = sock.send_to(&out, from);
                continue;
            }
            if !next && pdu.varbinds.clone().count() > 1 {
                // a GET of several OIDs: all answered in one response, or
                // no answer when the script gives none for one of them
                let mut answers = Vec::new();
                for (oid, _) in pdu.varbinds.clone() {
                    let arcs: Vec<u64> = oid.iter().map(|i| i.collect()).unwrap_or_default();
                    match script(&arcs, false) {
                        Some(a) => answers.push(a),
                        None => break,
                    }
                }
                if answers.len() > max_varbinds {
                    let out = response_status(pdu.community, pdu.req_id, &answers, 1, 0);
                    let _ = sock.send_to(&out, from);
                } else if answers.len() == pdu.varbinds.clone().count() {
                    let out = response_many(pdu.community, pdu.req_id, &answers);
                    let _ = sock.send_to(&out, from);
                }
                continue;
            }
            if let Some((name, reply)) = script(&arcs, next) {
                let out = response(pdu.community, pdu.req_id, &name, &reply);
                let _ = sock.send_to(&out, from);
            }
        }
    });
    FakeAgent { port, mute, requests, sets, stop }
}

fn arcs(s: &str) -> Vec<u64> {
    s.trim_start_matches('.').split('.').map(|a| a.parse().unwrap()).collect()
}

fn device(port: u16, extra: &[&str]) -> SnmpUps {
    let mut p = DriverParams::new("snmp-ups", "test");
    p.x_arg(&format!("port=127.0.0.1:{port}"), VARS).unwrap();
    p.x_arg("snmp_retries=0", VARS).unwrap();
    for e in extra {
        p.x_arg(e, VARS).unwrap();
    }
    SnmpUps::new(Settings::from_params(&p).unwrap())
}

const SYSOID: &str = "1.3.6.1.2.1.1.2.0";
const IETF: &str = "1.3.6.1.2.1.33";

/// A UPS-MIB agent answering `values` and noSuchName for the rest.
fn table_agent(values: Vec<(&'static str, Reply)>) -> Arc<Script> {
    let values: Vec<(Vec<u64>, Reply)> = values.into_iter().map(|(o, r)| (arcs(o), r)).collect();
    Arc::new(move |oid, next| {
        if next {
            return values
                .iter()
                .find(|(o, _)| o.as_slice() > oid)
                .map(|(o, r)| (o.clone(), r.clone()))
                .or(Some((oid.to_vec(), Reply::NoSuchName)));
        }
        Some(match values.iter().find(|(o, _)| o == oid) {
            Some((o, r)) => (o.clone(), r.clone()),
            None => (oid.to_vec(), Reply::NoSuchName),
        })
    })
}

/// An agent that answers only the identity and status OIDs: the other
/// values are absent, the driver runs.
#[test]
fn partial_agent_publishes_what_answers() {
    let agent = fake_agent(table_agent(vec![
        (SYSOID, Reply::Oid(arcs(IETF))),
        ("1.3.6.1.2.1.33.1.1.1.0", Reply::Str(b"Example".to_vec())),
        ("1.3.6.1.2.1.33.1.1.2.0", Reply::Str(b"Smart 1000".to_vec())),
        ("1.3.6.1.2.1.33.1.4.1.0", Reply::Int(5)),
        ("1.3.6.1.2.1.33.1.2.4.0", Reply::NoSuchObject),
    ]));
    let mut dev = device(agent.port, &["mibs=ietf"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    dev.connect(&mut st, now).unwrap();
    dev.update(&mut st, UpdateKind::Full, now).unwrap();
    assert_eq!(st.getinfo("ups.model"), Some("Smart 1000"));
    assert_eq!(st.getinfo("ups.status"), Some("OB"));
    assert_eq!(st.getinfo("battery.charge"), None, "noSuchObject is absent");
    assert_eq!(st.getinfo("input.voltage"), None);
}

/// Wrong types (a string where an integer is expected and the reverse,
/// an OID, counters), huge and non-UTF-8 strings, counters at their
/// limits and wrapping: published bounded, never a panic.
#[test]
fn wrong_types_huge_strings_and_wrapping_counters() {
    let round = Arc::new(AtomicU64::new(0));
    let r = round.clone();
    let huge: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    let base = table_agent(vec![
        (SYSOID, Reply::Oid(arcs(IETF))),
        ("1.3.6.1.2.1.33.1.1.1.0", Reply::Int(42)),
        ("1.3.6.1.2.1.33.1.1.2.0", Reply::Str(huge)),
        ("1.3.6.1.2.1.33.1.1.3.0", Reply::Str(b"\xff\xfe bad \xc3(".to_vec())),
        ("1.3.6.1.2.1.33.1.2.4.0", Reply::Str(b"eighty".to_vec())),
        ("1.3.6.1.2.1.33.1.2.3.0", Reply::Oid(arcs("1.3.6.1.2.1.33.1.2.3.0"))),
        ("1.3.6.1.2.1.33.1.4.1.0", Reply::Gauge32(u32::MAX)),
        ("1.3.6.1.2.1.33.1.2.2.0", Reply::Counter64(u64::MAX)),
        ("1.3.6.1.2.1.33.1.4.2.0", Reply::TimeTicks(u32::MAX)),
    ]);
    let script: Arc<Script> = Arc::new(move |oid, next| {
        // input.voltage: a Counter32 that wraps between polls
        if !next && oid == arcs("1.3.6.1.2.1.33.1.3.3.1.3.1").as_slice() {
            let v = if r.load(Ordering::SeqCst) % 2 == 0 { u32::MAX } else { 3 };
            return Some((oid.to_vec(), Reply::Counter32(v)));
        }
        base(oid, next)
    });
    let agent = fake_agent(script);
    let mut dev = device(agent.port, &["mibs=ietf"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    dev.connect(&mut st, now).unwrap();
    for i in 0..3 {
        round.store(i, Ordering::SeqCst);
        let _ = dev.update(&mut st, UpdateKind::Full, now);
        let model = st.getinfo("ups.model").expect("a value for the huge string");
        assert!(model.len() < 512, "unbounded: {} bytes", model.len());
        // NUT computes in `float`: u32::MAX prints as 4294967296.00
        let v: f64 = st.getinfo("input.voltage").expect("the counter is read").parse().unwrap();
        let want = if i % 2 == 0 { f64::from(u32::MAX) } else { 3.0 };
        assert!((v - want).abs() <= 1.0, "round {i}: {v}");
    }
    // the non-UTF-8 string is shown as hex, as net-snmp does
    let fw = st.getinfo("ups.firmware").unwrap_or_default();
    assert_eq!(fw.trim_end(), "FF FE 20 62 61 64 20 C3 28", "{fw:?}");
}

/// An agent whose walk never ends (GETNEXT always answers a further OID):
/// the driver's walks stop at their bounds.
#[test]
fn endless_walk_is_bounded() {
    let pw_model = nut_snmp::detect::find_by_name("pw")
        .next()
        .and_then(|m| m.model_row())
        .and_then(|r| r.oid)
        .expect("pw model row")
        .to_string();
    let alarms = nut_snmp::detect::find_by_name("pw")
        .next()
        .and_then(|m| m.find_row("ups.alarms"))
        .and_then(|r| r.oid)
        .map(str::to_string);
    let model = arcs(&pw_model);
    let alarms = alarms.map(|a| arcs(&a));
    let script: Arc<Script> = Arc::new(move |oid, next| {
        if next {
            // always one deeper: an endless walk
            let mut o = oid.to_vec();
            o.push(1);
            return Some((o, Reply::Oid(arcs("1.3.6.1.4.1.534.1.7.3"))));
        }
        if oid == arcs(SYSOID).as_slice() {
            return Some((oid.to_vec(), Reply::Oid(arcs("1.3.6.1.4.1.534.1"))));
        }
        if oid == model.as_slice() {
            return Some((oid.to_vec(), Reply::Str(b"Endless".to_vec())));
        }
        if alarms.as_deref() == Some(oid) {
            return Some((oid.to_vec(), Reply::Int(i64::from(i32::MAX))));
        }
        Some((oid.to_vec(), Reply::NoSuchName))
    });
    let agent = fake_agent(script);
    let mut dev = device(agent.port, &["mibs=pw"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    dev.connect(&mut st, now).unwrap();
    let before = agent.requests.load(Ordering::SeqCst);
    let _ = dev.update(&mut st, UpdateKind::Full, now);
    let used = agent.requests.load(Ordering::SeqCst) - before;
    assert!(used < 5000, "one poll sent {used} requests");
    assert_eq!(st.getinfo("ups.model"), Some("Endless"));
}

/// An agent that stops answering (timeout) and comes back (a reboot): the
/// data goes stale, the poll costs one timeout, the driver recovers.
#[test]
fn timeout_makes_data_stale_then_recovers() {
    let agent = fake_agent(table_agent(vec![
        (SYSOID, Reply::Oid(arcs(IETF))),
        ("1.3.6.1.2.1.33.1.1.2.0", Reply::Str(b"Smart 1000".to_vec())),
        ("1.3.6.1.2.1.33.1.2.4.0", Reply::Int(87)),
        ("1.3.6.1.2.1.33.1.4.1.0", Reply::Int(3)),
    ]));
    let mut dev = device(agent.port, &["mibs=ietf", "snmp_timeout=1"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    dev.connect(&mut st, now).unwrap();
    dev.update(&mut st, UpdateKind::Full, now).unwrap();
    agent.mute.store(true, Ordering::SeqCst);
    let t = Instant::now();
    let err = dev.update(&mut st, UpdateKind::Full, now).unwrap_err();
    assert!(matches!(err, DeviceError::Stale(_)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(4), "a dead agent cost {:?}", t.elapsed());
    assert_eq!(st.getinfo("battery.charge"), Some("87"), "the last values stay");
    // quick updates in between repeat the stale state without traffic
    assert!(dev.update(&mut st, UpdateKind::Quick, now).is_err());
    agent.mute.store(false, Ordering::SeqCst);
    dev.update(&mut st, UpdateKind::Full, now).unwrap();
    assert_eq!(st.getinfo("ups.status"), Some("OL"));
}

/// Settings NUT refuses are refused with the option's name.
#[test]
fn bad_settings_are_refused() {
    for (x, what) in [
        ("snmp_version=v4", "snmp_version"),
        ("mibs=nosuchmib", "mibs"),
        ("snmp_retries=many", "snmp_retries"),
    ] {
        let mut p = DriverParams::new("snmp-ups", "test");
        p.x_arg("port=127.0.0.1:1", VARS).unwrap();
        p.x_arg(x, VARS).unwrap();
        let e = Settings::from_params(&p).unwrap_err().to_string();
        assert!(e.contains(what), "{x}: {e}");
    }
    let mut p = DriverParams::new("snmp-ups", "test");
    p.x_arg("port=127.0.0.1:1", VARS).unwrap();
    p.x_arg("snmp_version=v3", VARS).unwrap();
    p.x_arg("secLevel=authPriv", VARS).unwrap();
    p.x_arg("secName=u", VARS).unwrap();
    p.x_arg("authPassword=12345678", VARS).unwrap();
    let e = Settings::from_params(&p).unwrap_err().to_string();
    assert!(e.contains("privPassword"), "{e}");
}

/// `upscmd` / `upsrw`: the SET NUT would send goes out, an agent that
/// does not answer it gives FAILED, a name without a working row UNKNOWN.
#[test]
fn commands_and_setvar_send_sets() {
    let agent = fake_agent(table_agent(vec![
        (SYSOID, Reply::Oid(arcs(IETF))),
        ("1.3.6.1.2.1.33.1.1.2.0", Reply::Str(b"Smart 1000".to_vec())),
        ("1.3.6.1.2.1.33.1.4.1.0", Reply::Int(3)),
        ("1.3.6.1.2.1.33.1.9.8.0", Reply::Int(2)),
    ]));
    let mut dev = device(agent.port, &["mibs=ietf"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    dev.connect(&mut st, now).unwrap();
    dev.update(&mut st, UpdateKind::Full, now).unwrap();
    // the beeper row answers, so its commands are offered
    assert_eq!(dev.instcmd(&mut st, "beeper.disable", None, now), TrackingResult::Handled);
    assert_eq!(
        agent.sets.lock().unwrap().last().cloned(),
        Some((arcs("1.3.6.1.2.1.33.1.9.8.0"), 1))
    );
    // an agent that does not answer the SET: FAILED
    agent.mute.store(true, Ordering::SeqCst);
    assert_eq!(dev.instcmd(&mut st, "beeper.enable", None, now), TrackingResult::Failed);
    agent.mute.store(false, Ordering::SeqCst);
    // a variable whose object never answered is UNKNOWN, as in NUT
    assert_eq!(dev.setvar(&mut st, "ups.timer.shutdown", "30", now), TrackingResult::Unknown);
    assert_eq!(dev.instcmd(&mut st, "no.such.command", None, now), TrackingResult::Unknown);
}

/// The log lines written while `f` runs (DEBUG and above, no colours).
fn logged<R>(f: impl FnOnce() -> R) -> (R, String) {
    #[derive(Clone)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf(Arc::new(Mutex::new(Vec::new())));
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || w.clone())
        .finish();
    let r = tracing::subscriber::with_default(sub, f);
    let text = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    (r, text)
}

/// An agent that answers some OIDs only at first (a value that goes away,
/// one of an unsupported type, one badly encoded): each failing OID is
/// logged once however many polls ask for it again, the values that
/// still answer are published, the driver keeps running.
#[test]
fn failures_are_logged_once_per_oid() {
    const CHARGE: &str = "1.3.6.1.2.1.33.1.2.4.0";
    const RUNTIME: &str = "1.3.6.1.2.1.33.1.2.3.0";
    const TEMP: &str = "1.3.6.1.2.1.33.1.2.7.0";
    let polls = Arc::new(AtomicU64::new(0));
    let asked = Arc::new(Mutex::new(std::collections::HashMap::<Vec<u64>, u64>::new()));
    let (p, a) = (polls.clone(), asked.clone());
    let base = table_agent(vec![
        (SYSOID, Reply::Oid(arcs(IETF))),
        ("1.3.6.1.2.1.33.1.1.2.0", Reply::Str(b"Smart 1000".to_vec())),
        ("1.3.6.1.2.1.33.1.4.1.0", Reply::Int(3)),
    ]);
    let script: Arc<Script> = Arc::new(move |oid, next| {
        if !next {
            *a.lock().unwrap().entry(oid.to_vec()).or_default() += 1;
        }
        let first = p.load(Ordering::SeqCst) == 0;
        if !next && oid == arcs(CHARGE).as_slice() {
            // answers at start-up, then noSuchName
            let r = if first { Reply::Int(87) } else { Reply::NoSuchName };
            return Some((oid.to_vec(), r));
        }
        if !next && oid == arcs(RUNTIME).as_slice() {
            // an integer at start-up, then an NsapAddress (no SNMPv2 type)
            let r = if first { Reply::Int(20) } else { Reply::Raw(0x45, vec![1, 2, 3, 4, 5, 6]) };
            return Some((oid.to_vec(), r));
        }
        if !next && oid == arcs(TEMP).as_slice() {
            // an integer at start-up, then a 12-byte INTEGER (no i64)
            let r = if first { Reply::Int(30) } else { Reply::Raw(0x02, vec![0x7f; 12]) };
            return Some((oid.to_vec(), r));
        }
        base(oid, next)
    });
    let agent = fake_agent(script);
    let mut dev = device(agent.port, &["mibs=ietf"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    let (_, log) = logged(|| {
        dev.connect(&mut st, now).unwrap();
        dev.update(&mut st, UpdateKind::Full, now).unwrap();
        assert_eq!(st.getinfo("battery.charge"), Some("87"));
        for i in 1..=4 {
            polls.store(i, Ordering::SeqCst);
            let _ = dev.update(&mut st, UpdateKind::Full, now);
            assert_eq!(st.getinfo("ups.model"), Some("Smart 1000"), "poll {i}");
            assert_eq!(st.getinfo("ups.status"), Some("OL"), "poll {i}");
        }
    });
    for oid in [CHARGE, RUNTIME, TEMP] {
        let n = asked.lock().unwrap().get(&arcs(oid)).copied().unwrap_or(0);
        assert!(n >= 5, "{oid} asked {n} times only: the test shows nothing");
        let lines = log.lines().filter(|l| l.contains(&format!("[{oid}]"))).count();
        assert_eq!(lines, 1, "{oid} logged {lines} times in:\n{log}");
    }
    assert!(!log.contains("panicked"), "{log}");
}

/// Memory stays bounded over many polls of an agent whose walks never end
/// and whose strings are huge: the published state does not grow.
#[test]
fn many_polls_of_a_bad_agent_do_not_grow_the_state() {
    let huge: Vec<u8> = vec![b'x'; 60_000];
    let endless = table_agent(vec![
        (SYSOID, Reply::Oid(arcs(IETF))),
        ("1.3.6.1.2.1.33.1.1.1.0", Reply::Str(huge.clone())),
        ("1.3.6.1.2.1.33.1.1.2.0", Reply::Str(huge)),
        ("1.3.6.1.2.1.33.1.4.1.0", Reply::Int(3)),
    ]);
    let script: Arc<Script> = Arc::new(move |oid, next| {
        if next {
            // always one deeper, with a huge value
            let mut o = oid.to_vec();
            o.push(1);
            return Some((o, Reply::Str(vec![b'y'; 30_000])));
        }
        endless(oid, next)
    });
    let agent = fake_agent(script);
    let mut dev = device(agent.port, &["mibs=ietf"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    dev.connect(&mut st, now).unwrap();
    dev.update(&mut st, UpdateKind::Full, now).unwrap();
    let first = st.upsc_dump();
    assert!(first.len() < 16 * 1024, "{} bytes published", first.len());
    for _ in 0..20 {
        dev.update(&mut st, UpdateKind::Full, now).unwrap();
        let _ = st.take_outbox();
    }
    assert_eq!(st.upsc_dump(), first);
}

/// Batched GETs: from the second poll on, the values a poll reads by GET
/// come in requests of several varbinds, with the same values; an object
/// that goes away (v1 `noSuchName` naming its varbind) is absent and the
/// others of its batch are still read.
#[test]
fn polls_batch_their_gets() {
    const CHARGE: &str = "1.3.6.1.2.1.33.1.2.4.0";
    const VOLTAGE: &str = "1.3.6.1.2.1.33.1.3.3.1.3.1";
    let gone = Arc::new(AtomicBool::new(false));
    let g = gone.clone();
    let base = table_agent(vec![
        (SYSOID, Reply::Oid(arcs(IETF))),
        ("1.3.6.1.2.1.33.1.1.1.0", Reply::Str(b"Example".to_vec())),
        ("1.3.6.1.2.1.33.1.1.2.0", Reply::Str(b"Smart 1000".to_vec())),
        ("1.3.6.1.2.1.33.1.2.1.0", Reply::Int(2)),
        ("1.3.6.1.2.1.33.1.2.2.0", Reply::Int(120)),
        ("1.3.6.1.2.1.33.1.2.3.0", Reply::Int(20)),
        (CHARGE, Reply::Int(87)),
        ("1.3.6.1.2.1.33.1.2.5.0", Reply::Int(270)),
        (VOLTAGE, Reply::Int(230)),
        ("1.3.6.1.2.1.33.1.4.1.0", Reply::Int(3)),
        ("1.3.6.1.2.1.33.1.4.4.1.5.1", Reply::Int(40)),
    ]);
    let script: Arc<Script> = Arc::new(move |oid, next| {
        if !next && g.load(Ordering::SeqCst) && oid == arcs(CHARGE).as_slice() {
            return Some((oid.to_vec(), Reply::NoSuchName));
        }
        if !next && g.load(Ordering::SeqCst) && oid == arcs(VOLTAGE).as_slice() {
            return Some((oid.to_vec(), Reply::Int(231)));
        }
        base(oid, next)
    });
    let agent = fake_agent_with(script.clone(), usize::MAX);
    let mut dev = device(agent.port, &["mibs=ietf"]);
    let mut st = Dstate::new();
    let now = Instant::now();
    dev.connect(&mut st, now).unwrap();
    // an agent that takes at most 2 varbinds: the batch is split on
    // `tooBig`, the values are the same
    let small = fake_agent_with(script, 2);
    let mut dev2 = device(small.port, &["mibs=ietf"]);
    let mut st2 = Dstate::new();
    dev2.connect(&mut st2, now).unwrap();
    for _ in 0..3 {
        dev2.update(&mut st2, UpdateKind::Full, now).unwrap();
    }
    let before = small.requests.load(Ordering::SeqCst);
    dev2.update(&mut st2, UpdateKind::Full, now).unwrap();
    let split = small.requests.load(Ordering::SeqCst) - before;
    assert_eq!(st2.getinfo("battery.charge"), Some("87"));
    assert_eq!(st2.getinfo("input.voltage"), Some("230"));
    let count = |dev: &mut SnmpUps, st: &mut Dstate| {
        let before = agent.requests.load(Ordering::SeqCst);
        dev.update(st, UpdateKind::Full, now).unwrap();
        agent.requests.load(Ordering::SeqCst) - before
    };
    let first = count(&mut dev, &mut st);
    let dump = st.upsc_dump();
    let second = count(&mut dev, &mut st);
    assert!(first >= 6, "the first poll reads one by one: {first}");
    assert!(second * 4 <= first, "batched poll: {second} requests, unbatched {first}");
    assert_eq!(st.upsc_dump(), dump, "batched values differ");
    assert_eq!(st2.upsc_dump(), dump, "values read through tooBig splits differ");
    // once the limit is learnt: batches of 2, fewer requests than one by one
    assert!(
        split > second && split < first,
        "{split} requests with tooBig splits, {first} one by one"
    );
    assert_eq!(st.getinfo("battery.charge"), Some("87"));
    // (a value that stops answering keeps its last value, as in NUT)
    gone.store(true, Ordering::SeqCst);
    let third = count(&mut dev, &mut st);
    assert_eq!(third, second + 1, "the batch is asked again without the missing object");
    assert_eq!(st.getinfo("input.voltage"), Some("231"), "the rest of its batch");
    assert_eq!(st.getinfo("ups.status"), Some("OL"));
    // the missing object is then asked alone; the others stay batched
    let later = count(&mut dev, &mut st);
    assert!(later <= second + 1, "{later} requests");
}
