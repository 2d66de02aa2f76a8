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
    }
}

/// An SNMPv1 response.
fn response(community: &[u8], req_id: i32, oid: &[u64], r: &Reply) -> Vec<u8> {
    let (status, index) = if matches!(r, Reply::NoSuchName) { (2, 1) } else { (0, 0) };
    let value = if matches!(r, Reply::NoSuchName) { vec![0x05, 0] } else { encode_value(r) };
    let vb = tlv(0x30, &[tlv(0x06, &oid_body(oid)), value].concat());
    let pdu = tlv(
        0xa2,
        &[
            tlv(0x02, &int_body(i64::from(req_id))),
            tlv(0x02, &int_body(status)),
            tlv(0x02, &int_body(index)),
            tlv(0x30, &vb),
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
    assert!(fw.is_empty() || fw.is_ascii(), "{fw:?}");
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
