//! `ScriptedStream` and `PtySerial` with recorded exchanges from
//! `data/serial` (a TS Shara Megatec unit, APC Smart examples).

use nut_driver::transport::{ByteStream, LinkError, ModemInputs, ModemOutputs, Reader};
use nut_testkit::serial::{
    Dialect, Fault, ModemLines, PtyOptions, PtySerial, Script, ScriptedStream, Unknown,
};
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Unescapes `\r \n \\ \xNN`.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                    i += 2;
                }
                c => panic!("unknown escape \\{}", c as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The `>`/`<` exchanges of a `.qx`/`.apc` file, in order.
fn exchanges(name: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/serial").join(name);
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        if let Some(q) = line.strip_prefix("> ") {
            out.push((unescape(q), Vec::new()));
        } else if let Some(a) = line.strip_prefix("< ") {
            out.last_mut().unwrap().1 = unescape(a);
        }
    }
    out
}

/// The table of a file: each query with its answers in order.
fn table(name: &str) -> Vec<(Vec<u8>, Vec<Vec<u8>>)> {
    let mut t: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    for (q, a) in exchanges(name) {
        match t.iter_mut().find(|(k, _)| *k == q) {
            Some((_, answers)) => answers.push(a),
            None => t.push((q, vec![a])),
        }
    }
    t
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

/// Everything readable now.
fn drain(s: &mut impl ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    while let Ok(n) = s.read(&mut buf, far()) {
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn ask(s: &mut impl ByteStream, q: &[u8]) -> Vec<u8> {
    s.write_all(q, far()).unwrap();
    drain(s)
}

#[test]
fn megatec_answers_in_chunks() {
    let ex = exchanges("megatec_ts-shara-4450.qx");
    assert_eq!(ex.len(), 2);
    let mut s = ScriptedStream::from_pairs(Dialect::megatec(), table("megatec_ts-shara-4450.qx"));
    let ctl = s.control();
    ctl.set_chunk(3);
    // Every read gives at most 3 bytes: a driver must reassemble.
    for (q, a) in &ex {
        s.write_all(q, far()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(n) = s.read(&mut buf, far()) {
            assert!(n <= 3);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(&got, a);
    }
    // With the framework's Reader the answer comes back whole.
    let mut r = Reader::new(s);
    r.write_all(b"Q1\r", far()).unwrap();
    let a = r.read_until(b'\r', 128, far()).unwrap();
    assert_eq!(a, b"(221.0 221.0 112.0 000 60.0 27.2 27.0 00001001\r");
    assert_eq!(ctl.asked("Q1"), 2);
    assert_eq!(ctl.asked(b"I\r"), 1);
    assert_eq!(ctl.queries(), [b"I\r".to_vec(), b"Q1\r".to_vec(), b"Q1\r".to_vec()]);
    assert_eq!(ctl.written(), b"I\rQ1\rQ1\r");
}

#[test]
fn unknown_queries_echo_or_default() {
    let t = table("megatec_ts-shara-4450.qx");
    let mut s = ScriptedStream::from_pairs(Dialect::megatec(), t.clone());
    // A query split over two writes is one query.
    s.write_all(b"F", far()).unwrap();
    assert!(matches!(s.read(&mut [0u8; 8], far()), Err(LinkError::Timeout)));
    assert_eq!(ask(&mut s, b"\r"), b"F\r");
    let nak = Dialect { unknown: Unknown::Answer(b"(NAK\r".to_vec()), ..Dialect::megatec() };
    let mut s = ScriptedStream::from_pairs(nak, t.clone());
    assert_eq!(ask(&mut s, b"QGS\r"), b"(NAK\r");
    // Table answers get the dialect's terminator when they lack it.
    let mut s = ScriptedStream::from_pairs(Dialect::megatec(), [("Q1", ["(230.0"])]);
    assert_eq!(ask(&mut s, b"Q1\r"), b"(230.0\r");
}

#[test]
fn nth_ask_gets_nth_answer_then_the_last() {
    let file = "smart-protocol-status-and-capabilities.apc";
    let mut s = ScriptedStream::from_pairs(Dialect::apc(), table(file));
    assert_eq!(ask(&mut s, b"Y"), b"SM\r\n");
    assert_eq!(ask(&mut s, b"Q"), b"08\r\n");
    assert_eq!(ask(&mut s, b"Q"), b"10\r\n");
    assert_eq!(ask(&mut s, b"Q"), b"50\r\n");
    assert_eq!(ask(&mut s, b"Q"), b"50\r\n");
    assert_eq!(s.control().asked("Q"), 4);
    // The same from the exchanges in time order.
    let mut s = ScriptedStream::new(Script::from_exchanges(Dialect::apc(), exchanges(file)));
    let got: Vec<_> = [&b"Y"[..], b"Q", b"Q", b"Q", b"Q"].iter().map(|q| ask(&mut s, q)).collect();
    assert_eq!(got, [&b"SM\r\n"[..], b"08\r\n", b"10\r\n", b"50\r\n", b"50\r\n"]);
}

#[test]
fn apc_wake_unknown_and_two_byte_commands() {
    let mut t = table("smart-protocol-status-and-capabilities.apc");
    t.extend(table("smart-ups-1500-rm-sua1500rmi2u_issue757.apc"));
    let mut s = ScriptedStream::from_pairs(Dialect::apc(), t);
    // Before Y, nothing is answered.
    assert_eq!(ask(&mut s, b"QV/"), b"");
    assert_eq!(ask(&mut s, b"Y"), b"SM\r\n");
    assert_eq!(ask(&mut s, b"V"), b"FWI\r\n");
    assert_eq!(ask(&mut s, b"/"), b"00.88\r\n");
    // Unknown single characters: NA.
    assert_eq!(ask(&mut s, b"z"), b"NA\r\n");
    // Two-byte commands, also written one byte at a time.
    assert_eq!(ask(&mut s, b"\x9f\xd5"), b"1\r\n");
    assert_eq!(ask(&mut s, b"\x9f"), b"");
    assert_eq!(ask(&mut s, b"\xd7"), b"209,231\r\n");
    // A prefix followed by an unknown byte: NA for the pair.
    assert_eq!(ask(&mut s, b"\x9f\x00"), b"NA\r\n");
    assert_eq!(ask(&mut s, b"\x1a"), b"#uD43132135138129uM43229234239224uA43110112114108\r\n");
}

#[test]
fn unsolicited_bytes() {
    let t = table("smart-protocol-status-and-capabilities.apc");
    // APC alerts: "!" (on battery) arrives with the 2nd query, before its
    // answer; "$" (back on line) is pushed by the test.
    let script = Script::new(Dialect::apc(), t).inject_at(2, "!");
    let mut s = ScriptedStream::new(script);
    let ctl = s.control();
    assert_eq!(ask(&mut s, b"Y"), b"SM\r\n");
    assert_eq!(ask(&mut s, b"Q"), b"!08\r\n");
    ctl.inject("$");
    assert_eq!(ctl.pending(), 1);
    assert_eq!(ask(&mut s, b"Q"), b"$10\r\n");
    assert_eq!(ctl.delivered(), b"SM\r\n!08\r\n$10\r\n");
    // At 0: there at once.
    let mut s = ScriptedStream::new(
        Script::new(Dialect::apc(), table("smart-protocol-status-and-capabilities.apc"))
            .inject_at(0, "%"),
    );
    assert_eq!(drain(&mut s), b"%");
}

#[test]
fn faults() {
    let t = table("megatec_ts-shara-4450.qx");
    let q1 = b"(221.0 221.0 112.0 000 60.0 27.2 27.0 00001001\r".to_vec();
    let mut s = ScriptedStream::from_pairs(Dialect::megatec(), t);
    let ctl = s.control();
    ctl.set_fault(Some(Fault::Silence));
    assert_eq!(ask(&mut s, b"Q1\r"), b"");
    assert_eq!(ask(&mut s, b"X\r"), b"");
    ctl.set_fault(Some(Fault::Garbage(b"\xff\x00#?".to_vec())));
    assert_eq!(ask(&mut s, b"Q1\r"), b"\xff\x00#?");
    ctl.set_fault(Some(Fault::Truncate(10)));
    assert_eq!(ask(&mut s, b"Q1\r"), &q1[..10]);
    ctl.set_fault(Some(Fault::NulAt(6)));
    let mut expect = q1.clone();
    expect[6] = 0;
    assert_eq!(ask(&mut s, b"Q1\r"), expect);
    // A per-query fault wins over the global one; others answer normally.
    ctl.set_fault(None);
    ctl.set_query_fault("I", Some(Fault::Silence));
    assert_eq!(ask(&mut s, b"I\r"), b"");
    assert_eq!(ask(&mut s, b"Q1\r"), q1);
    ctl.set_query_fault("I", None);
    assert_eq!(ask(&mut s, b"I\r"), b"#TS -222  240923 Senoid  32 V01020405A\r");
}

#[test]
fn disconnect_and_reconnect() {
    let mut s = ScriptedStream::from_pairs(Dialect::megatec(), table("megatec_ts-shara-4450.qx"));
    let ctl = s.control();
    ctl.disconnect_after(2);
    s.write_all(b"Q1\r", far()).unwrap();
    s.read(&mut [0u8; 128], far()).unwrap();
    let dead = |r: Result<(), LinkError>| matches!(r, Err(LinkError::Disconnected(_)));
    assert!(dead(s.write_all(b"Q1\r", far())));
    assert!(dead(s.read(&mut [0u8; 8], far()).map(|_| ())));
    assert!(dead(s.discard_input()));
    assert!(dead(s.modem_inputs().map(|_| ())));
    ctl.reconnect();
    assert_eq!(ask(&mut s, b"I\r"), b"#TS -222  240923 Senoid  32 V01020405A\r");
    ctl.disconnect();
    assert!(dead(s.write_all(b"I\r", far())));
    ctl.reconnect();
    s.write_all(b"I\r", far()).unwrap();
    s.discard_input().unwrap();
    assert!(matches!(s.read(&mut [0u8; 8], far()), Err(LinkError::Timeout)));
}

#[test]
fn reads_never_wait() {
    let mut s = ScriptedStream::from_pairs(Dialect::megatec(), table("megatec_ts-shara-4450.qx"));
    let t0 = Instant::now();
    for _ in 0..100 {
        assert!(matches!(s.read(&mut [0u8; 8], far()), Err(LinkError::Timeout)));
    }
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[test]
fn modem_lines() {
    // genericups reads CTS/DCD/... and drives DTR/RTS/break.
    let mut s = ScriptedStream::from_pairs(Dialect::megatec(), Vec::<(&str, Vec<&str>)>::new());
    let ctl = s.control();
    assert_eq!(s.modem_inputs().unwrap(), ModemInputs::default());
    let m = ModemInputs { cts: true, dcd: true, ..Default::default() };
    ctl.set_modem_inputs(m);
    assert_eq!(s.modem_inputs().unwrap(), m);
    let a = ModemOutputs { dtr: Some(true), rts: Some(false), brk: None };
    let b = ModemOutputs { dtr: None, rts: Some(true), brk: Some(true) };
    s.set_modem_outputs(a).unwrap();
    assert_eq!(ctl.modem_outputs(), ModemLines { dtr: true, rts: false, brk: false });
    s.set_modem_outputs(b).unwrap();
    assert_eq!(ctl.modem_outputs(), ModemLines { dtr: true, rts: true, brk: true });
    assert_eq!(ctl.modem_log(), [a, b]);
}

/// A client on the slave side, as a driver opens its port.
struct Client(std::fs::File);

impl Client {
    fn open(path: &Path) -> Client {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits() | nix::fcntl::OFlag::O_NOCTTY.bits())
            .open(path)
            .unwrap();
        Client(f)
    }

    /// Reads until `end` is seen or `timeout` passes.
    fn read_until(&mut self, end: &[u8], timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        let mut buf = [0u8; 64];
        while Instant::now() < deadline && !out.ends_with(end) {
            match self.0.read(&mut buf) {
                Ok(n) if n > 0 => out.extend_from_slice(&buf[..n]),
                _ => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        out
    }
}

#[test]
fn pty_megatec_exchange_is_paced() {
    let pty = PtySerial::from_pairs(Dialect::megatec(), table("megatec_ts-shara-4450.qx")).unwrap();
    assert!(pty.path().starts_with("/dev/pts"));
    let mut c = Client::open(pty.path());
    for (q, a) in exchanges("megatec_ts-shara-4450.qx") {
        let t0 = Instant::now();
        c.0.write_all(&q).unwrap();
        let got = c.read_until(b"\r", Duration::from_secs(10));
        let took = t0.elapsed();
        assert_eq!(got, a);
        // About 4.17 ms per byte at 2400 baud: at least 3 ms per byte.
        let min = Duration::from_millis(3) * a.len() as u32;
        assert!(took >= min, "{} bytes in {took:?}", a.len());
        assert!(took < Duration::from_secs(5), "{} bytes in {took:?}", a.len());
    }
    // Unknown queries are echoed.
    c.0.write_all(b"QGS\r").unwrap();
    assert_eq!(c.read_until(b"\r", Duration::from_secs(5)), b"QGS\r");
    assert_eq!(pty.control().queries().len(), 3);
}

#[test]
fn pty_apc_wake_and_timed_alert() {
    let t = table("smart-protocol-status-and-capabilities.apc");
    let opts = PtyOptions {
        byte_time: Duration::from_millis(1),
        alerts: vec![(Duration::from_millis(400), b"!".to_vec())],
    };
    let pty = PtySerial::start(Script::new(Dialect::apc(), t), opts).unwrap();
    let mut c = Client::open(pty.path());
    // Ignored before Y.
    c.0.write_all(b"Q").unwrap();
    assert_eq!(c.read_until(b"\n", Duration::from_millis(150)), b"");
    c.0.write_all(b"Y").unwrap();
    assert_eq!(c.read_until(b"\r\n", Duration::from_secs(5)), b"SM\r\n");
    c.0.write_all(b"Q").unwrap();
    assert_eq!(c.read_until(b"\r\n", Duration::from_secs(5)), b"08\r\n");
    c.0.write_all(b"x").unwrap();
    assert_eq!(c.read_until(b"\r\n", Duration::from_secs(5)), b"NA\r\n");
    // The alert, at about 400 ms after the start.
    assert_eq!(c.read_until(b"!", Duration::from_secs(5)), b"!");
    pty.control().inject("$");
    assert_eq!(c.read_until(b"$", Duration::from_secs(5)), b"$");
}

#[test]
fn pty_stops_on_drop_with_unread_output() {
    // Nobody reads: the thread must still stop when dropped.
    let mut t = table("megatec_ts-shara-4450.qx");
    t.push((b"BIG\r".to_vec(), vec![vec![b'x'; 8000]]));
    let opts = PtyOptions { byte_time: Duration::ZERO, alerts: Vec::new() };
    let pty = PtySerial::start(Script::new(Dialect::megatec(), t), opts).unwrap();
    let mut c = Client::open(pty.path());
    c.0.write_all(b"BIG\r").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    drop(pty);
    assert!(t0.elapsed() < Duration::from_secs(2));
}

/// The `= name: value` lines of a file.
fn published(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/serial").join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("= ")?.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Asks a driver's state socket for everything it publishes.
fn dumpall(sock: &Path) -> Option<String> {
    use std::os::unix::net::UnixStream;
    let mut s = UnixStream::connect(sock).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"DUMPALL\n").ok()?;
    let mut out = String::new();
    let mut buf = [0u8; 4096];
    while !out.contains("DUMPDONE") {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    Some(out)
}

#[test]
fn debian_nutdrv_qx_reads_the_pty() {
    // Debian's NUT 2.8.0 nutdrv_qx opens the slave as its port and
    // publishes what the TS Shara log says NUT published.
    let file = "megatec_ts-shara-4450.qx";
    let pty = PtySerial::from_pairs(Dialect::megatec(), table(file)).unwrap();
    let dir = nut_testkit::temp_dir();
    let etc = dir.path().join("etc");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        etc.join("ups.conf"),
        format!("[shara]\n  driver = nutdrv_qx\n  port = {}\n", pty.path().display()),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(nut_testkit::peer("nutdrv_qx"));
    cmd.args(["-a", "shara", "-F", "-u", "root"])
        .env("NUT_CONFPATH", &etc)
        .env("NUT_STATEPATH", &state)
        .env("NUT_ALTPIDPATH", &state);
    let driver = nut_testkit::Proc::spawn("nutdrv_qx", cmd, dir.path());
    let sock = state.join("nutdrv_qx-shara");
    let want = published(file);
    assert!(!want.is_empty());
    let mut last = String::new();
    let ok = nut_testkit::wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
        last = dumpall(&sock).unwrap_or_default();
        want.iter().all(|(k, v)| last.contains(&format!("SETINFO {k} \"{v}\"")))
    });
    assert!(ok, "driver state:\n{last}\ndriver log:\n{}", driver.log());
    let q = pty.control().queries();
    assert!(q.contains(&b"Q1\r".to_vec()), "{q:?}");
    assert!(q.contains(&b"I\r".to_vec()), "{q:?}");
}

#[test]
fn debian_apcsmart_reads_the_pty() {
    // Debian's NUT 2.8.0 apcsmart wakes the UPS with Y, then polls Q: the
    // status answer 08 must become ups.status OL, as the protocol notes say.
    let status = exchanges("smart-protocol-status-and-capabilities.apc");
    let mut t = table("smart-ups-1500-rm-sua1500rmi2u_issue757.apc");
    t.extend(status.iter().take(2).map(|(q, a)| (q.clone(), vec![a.clone()])));
    let pty = PtySerial::from_pairs(Dialect::apc(), t).unwrap();
    let dir = nut_testkit::temp_dir();
    let etc = dir.path().join("etc");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        etc.join("ups.conf"),
        format!("[smart]\n  driver = apcsmart\n  port = {}\n", pty.path().display()),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(nut_testkit::peer("apcsmart"));
    cmd.args(["-a", "smart", "-F", "-u", "root"])
        .env("NUT_CONFPATH", &etc)
        .env("NUT_STATEPATH", &state)
        .env("NUT_ALTPIDPATH", &state);
    let driver = nut_testkit::Proc::spawn("apcsmart", cmd, dir.path());
    let sock = state.join("apcsmart-smart");
    let want = published("smart-protocol-status-and-capabilities.apc");
    let (k, v) = &want[0];
    let mut last = String::new();
    let ok = nut_testkit::wait_until(Duration::from_secs(40), Duration::from_millis(200), || {
        last = dumpall(&sock).unwrap_or_default();
        last.contains(&format!("SETINFO {k} \"{v}\""))
    });
    let q = pty.control().queries();
    assert!(ok, "driver state:\n{last}\ndriver log:\n{}\nqueries: {q:?}", driver.log());
    assert!(q.contains(&b"Q".to_vec()), "{q:?}");
    // The firmware it read with V is the unit's answer, without CR LF.
    let fw = exchanges("smart-ups-1500-rm-sua1500rmi2u_issue757.apc")
        .into_iter()
        .find(|(q, _)| q == b"V")
        .map(|(_, a)| String::from_utf8(a).unwrap())
        .unwrap();
    assert!(last.contains(&format!("SETINFO ups.firmware \"{}\"", fw.trim_end())), "{last}");
}
