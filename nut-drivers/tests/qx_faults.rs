//! Bad input for `nutdrv_qx`, in process: the [`Qx`] device over a
//! `ScriptedStream` serving `tests/data/qx/selftest/megatec.qx`, run by
//! `nut_driver::Driver` on a fake clock (the stream answers at once and a
//! silent query times out on the session's own clock).
#![cfg(feature = "serial")]

#[allow(dead_code, unreachable_pub)]
mod qxfile;

use nut_driver::transport::{ByteStream, LinkError};
use nut_driver::{Driver, DriverConfig, Dstate};
use nut_drivers::qx::{Qx, SerialLink};
use nut_megatec::Config;
use nut_testkit::serial::{Fault, Script, ScriptedStream, SerialControl};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The stream shared between the test and every link the driver opens.
#[derive(Clone)]
struct Shared(Arc<Mutex<ScriptedStream>>);

impl ByteStream for Shared {
    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), LinkError> {
        self.0.lock().unwrap().write_all(bytes, deadline)
    }
    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        self.0.lock().unwrap().read(buf, deadline)
    }
    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.0.lock().unwrap().discard_input()
    }
}

/// The log lines written while the test runs.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

struct Rig {
    driver: Driver<Qx<SerialLink<Shared>>>,
    ctl: SerialControl,
    now: Instant,
    log: Log,
    _guard: tracing::subscriber::DefaultGuard,
}

fn rig(script: Script) -> Rig {
    let log = Log::default();
    let writer = log.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let guard = tracing::subscriber::set_default(sub);
    let stream = ScriptedStream::new(script);
    let ctl = stream.control();
    let shared = Shared(Arc::new(Mutex::new(stream)));
    let mut config = Config::default();
    config.set("protocol", Some("megatec")).unwrap();
    let open = Box::new(move || Ok(SerialLink::new(shared.clone(), "/dev/fake")));
    let qx = Qx::new(open, config);
    let mut driver =
        Driver::new(qx, Dstate::new(), DriverConfig::with_poll_interval(Duration::from_secs(2)));
    let now = Instant::now();
    driver.start(now).unwrap();
    Rig { driver, ctl, now, log, _guard: guard }
}

fn megatec() -> Script {
    let lines = qxfile::load("selftest/megatec.qx");
    qxfile::script(&lines)
}

impl Rig {
    fn polls(&mut self, n: usize) {
        for _ in 0..n {
            self.now += Duration::from_secs(31);
            self.driver.handle_timeout(self.now);
        }
    }
    fn get(&self, var: &str) -> Option<String> {
        self.driver.dstate().getinfo(var).map(str::to_string)
    }
    fn stale(&self) -> bool {
        self.driver.dstate().is_stale()
    }
}

/// Runs a fault on Q1 after a good start: logged with the query and
/// answer, no value changed, stale after NUT's 3 tries, fresh again
/// after a good answer.
fn status_fault(fault: Fault, expect_in_log: &str) {
    let mut r = rig(megatec());
    assert_eq!(r.get("input.voltage").as_deref(), Some("215.0"));
    assert_eq!(r.get("ups.status").as_deref(), Some("OL"));
    assert!(!r.stale());
    r.ctl.set_query_fault("Q1", Some(fault));
    // NUT's session marks the data stale after MAXTRIES (3) retries.
    r.polls(5);
    assert!(r.stale(), "not stale after 5 bad answers: {}", r.log.text());
    let log = r.log.text();
    assert!(log.contains("Q1") && log.contains(expect_in_log), "log: {log}");
    assert_eq!(r.get("input.voltage").as_deref(), Some("215.0"), "a wrong value was published");
    assert_eq!(r.get("battery.voltage").as_deref(), Some("22.70"));
    r.ctl.set_query_fault("Q1", None);
    r.polls(1);
    assert!(!r.stale(), "still stale after a good answer");
    assert_eq!(r.get("input.voltage").as_deref(), Some("215.0"));
}

#[test]
fn garbage_status_answer() {
    status_fault(Fault::Garbage(b"x#%garbage 12\r".to_vec()), "garbage");
}

#[test]
fn truncated_status_answer() {
    // The first 20 bytes, no `\r`: the read times out with a partial line.
    status_fault(Fault::Truncate(20), "(215.0 195.0 230.0");
}

#[test]
fn overlong_status_answer() {
    let mut long = b"(".to_vec();
    long.extend(std::iter::repeat_n(b'9', 1000));
    long.push(b'\r');
    status_fault(Fault::Garbage(long), "999999");
}

#[test]
fn nul_in_status_answer() {
    status_fault(Fault::NulAt(12), "Q1");
}

#[test]
fn silent_device() {
    status_fault(Fault::Silence, "Q1");
}

#[test]
fn nul_truncated_first_answer() {
    let mut script = megatec();
    let good = b"(215.0 195.0 230.0 014 49.0 22.7 30.0 00000000\r".to_vec();
    let mut cut = good.clone();
    cut[6] = 0;
    script.add("Q1", [cut, good]);
    let mut r = rig(script);
    r.polls(2);
    assert_eq!(r.get("input.voltage").as_deref(), Some("215.0"));
    assert_eq!(r.get("input.voltage.fault").as_deref(), Some("195.0"));
    assert!(!r.stale());
}

#[test]
fn device_answering_only_some_queries() {
    // The rating (F) answer is garbage: the status and vendor still
    // serve, and no rating is published.
    let mut script = megatec();
    script.set_query_fault("F", Some(Fault::Garbage(b"bad\r".to_vec())));
    let mut r = rig(script);
    r.polls(1);
    assert_eq!(r.get("input.voltage").as_deref(), Some("215.0"));
    assert_eq!(r.get("ups.status").as_deref(), Some("OL"));
    assert_eq!(r.get("device.mfr").as_deref(), Some("NOT_A_LIVE_UPS"));
    assert_eq!(r.get("input.voltage.nominal"), None);
    assert!(r.log.text().contains("bad"), "log: {}", r.log.text());
    assert!(!r.stale());
}

#[test]
fn port_disappears_and_returns() {
    let mut r = rig(megatec());
    assert!(!r.stale());
    r.ctl.disconnect();
    r.polls(2);
    assert!(r.stale(), "not stale with the port gone");
    assert!(r.log.text().contains("lost the device"), "log: {}", r.log.text());
    r.ctl.reconnect();
    r.polls(4);
    assert!(!r.stale(), "no reconnection: {}", r.log.text());
    assert_eq!(r.get("input.voltage").as_deref(), Some("215.0"));
}
