//! The driver core on a fake clock, checked against the sockets recorded
//! from NUT 2.8.0's `dummy-ups` (`nut-proto/tests/transcripts/sock-*.txt`).

use nut_driver::params::DriverParams;
use nut_driver::run::{Env, start_driver};
use nut_driver::{
    CloseReason, Device, DeviceError, Driver, DriverConfig, Dstate, Message, SockConnId, UpdateKind,
};
use nut_drivers::dummy::{DummyUps, DummyUpsDriver};
use nut_proto::sock::TrackingResult;
use std::path::Path;
use std::time::{Duration, Instant};

const DUMPALL: &str = include_str!("../../nut-proto/tests/transcripts/sock-dummy-dumpall.txt");
const SEQ: &str = include_str!("../../nut-proto/tests/transcripts/sock-seq-updates.txt");

/// The `D:` lines of a transcript, each with its LF.
fn driver_lines(t: &str) -> Vec<String> {
    t.lines().filter_map(|l| l.strip_prefix("D: ")).map(|l| format!("{l}\n")).collect()
}

fn take<D: Device>(d: &mut Driver<D>, c: SockConnId) -> String {
    let out = d.poll_transmit(c).map(<[u8]>::to_vec).unwrap_or_default();
    d.transmitted(c, out.len());
    String::from_utf8(out).unwrap()
}

/// Starts dummy-ups for section `[name]` of `ups_conf` with the files in `dir`.
fn dummy(dir: &Path, ups_conf: &str, name: &str, now: Instant) -> Driver<DummyUps> {
    let conf = nut_proto::config::upsconf::UpsConf::parse("ups.conf", ups_conf.as_bytes());
    assert!(conf.errors.is_empty());
    let mut p = DriverParams::new("dummy-ups", name);
    p.read_ups_conf(&conf, nut_drivers::dummy::VARS).unwrap();
    let env = Env { confpath: dir.to_path_buf(), statepath: dir.to_path_buf(), kill_power: false };
    start_driver::<DummyUpsDriver>(&p, &env, now).unwrap()
}

const UPS_CONF: &str = "[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n  desc = \"Test \\\"quoted\\\" \\# box\"\n\
                        [seq]\n  driver = dummy-ups\n  port = seq.seq\n";

fn setup() -> (nut_testkit::TempDir, Instant) {
    let dir = nut_testkit::temp_dir();
    // The files of the recording (tools/record-transcripts.py).
    std::fs::write(
        dir.path().join("dummy.dev"),
        "ups.status: OL\nbattery.charge: 100\nups.id: Quote\"Corp\\\\x\ninput.voltage: 230.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("seq.seq"),
        "ups.status: OL\nbattery.charge: 100\nTIMER 3\nups.status: OB DISCHRG\nbattery.charge: 80\n\
         TIMER 3\nups.status: OB LB DISCHRG\nbattery.charge: 10\nTIMER 3\n",
    )
    .unwrap();
    (dir, Instant::now())
}

#[test]
fn dumpall_is_byte_for_byte_nut() {
    let (dir, now) = setup();
    let mut d = dummy(dir.path(), UPS_CONF, "dummy", now);
    let c = d.accept();
    d.handle_conn_bytes(c, b"DUMPALL\n", now);
    assert_eq!(take(&mut d, c), driver_lines(DUMPALL).concat());
    // Split at every byte: same answer.
    let c2 = d.accept();
    for b in b"DUMPALL\n" {
        d.handle_conn_bytes(c2, &[*b], now);
    }
    assert_eq!(take(&mut d, c2), driver_lines(DUMPALL).concat());
}

#[test]
fn seq_updates_follow_the_timers_like_nut() {
    let (dir, t0) = setup();
    let mut d = dummy(dir.path(), UPS_CONF, "seq", t0);
    let c = d.accept();
    d.handle_conn_bytes(c, b"DUMPALL\n", t0);
    let want = driver_lines(SEQ);
    let done = want.iter().position(|l| l == "DUMPDONE\n").unwrap();
    assert_eq!(take(&mut d, c), want[..=done].concat());
    // Poll every 2 s for 16 s of fake time, answering PINGs as they come.
    let mut got = String::new();
    let mut now = t0;
    for _ in 0..8 {
        now = d.poll_timeout().unwrap();
        d.handle_timeout(now);
        got.push_str(&take(&mut d, c));
    }
    assert!(now >= t0 + Duration::from_secs(16));
    let updates: Vec<&str> =
        want[done + 1..].iter().map(String::as_str).filter(|l| l.starts_with("SETINFO")).collect();
    assert_eq!(got, updates.concat());
}

#[test]
fn ping_set_instcmd_and_tracking_like_nut() {
    let (dir, now) = setup();
    let mut d = dummy(dir.path(), UPS_CONF, "dummy", now);
    let c = d.accept();
    d.handle_conn_bytes(c, b"PING\n", now);
    assert_eq!(take(&mut d, c), "PONG\n");
    d.handle_conn_bytes(c, b"SET ups.id \"plain\"\nINSTCMD load.off\n", now);
    assert_eq!(take(&mut d, c), "SETINFO ups.id \"plain\"\n");
    d.handle_conn_bytes(c, b"SET ups.id \"tracked\" TRACKING 1C41\n", now);
    assert_eq!(take(&mut d, c), "SETINFO ups.id \"tracked\"\nTRACKING 1C41 0\n");
    d.handle_conn_bytes(
        c,
        b"INSTCMD load.off TRACKING F4F7\nINSTCMD load.off 5 TRACKING AB88\n",
        now,
    );
    assert_eq!(take(&mut d, c), "TRACKING F4F7 1\nTRACKING AB88 1\n");
    // NUT 2.8.0 sends this value unescaped (`"q"uote"`); we escape it.
    d.handle_conn_bytes(c, b"SET ups.id \"q\\\"uote\" TRACKING EC36\n", now);
    assert_eq!(take(&mut d, c), "SETINFO ups.id \"q\\\"uote\"\nTRACKING EC36 0\n");
    // An unknown variable becomes RW STRING 32; an empty value deletes it.
    d.handle_conn_bytes(c, b"SET my.var \"x\"\nSET my.var \"\"\n", now);
    assert_eq!(
        take(&mut d, c),
        "SETINFO my.var \"x\"\nSETFLAGS my.var RW STRING\nSETAUX my.var 32\nDELINFO my.var\n"
    );
    // Malformed and unknown lines are ignored.
    d.handle_conn_bytes(c, b"SET a\nFOO\nINSTCMD a b c d e f\n\n", now);
    assert_eq!(take(&mut d, c), "");
}

#[test]
fn several_connections_and_reconnect() {
    let (dir, now) = setup();
    let mut d = dummy(dir.path(), UPS_CONF, "dummy", now);
    let a = d.accept();
    let b = d.accept();
    d.handle_conn_bytes(a, b"SET ups.id \"one\"\n", now);
    assert_eq!(take(&mut d, a), "SETINFO ups.id \"one\"\n");
    assert_eq!(take(&mut d, b), "SETINFO ups.id \"one\"\n");
    d.handle_conn_closed(a);
    assert!(!d.is_open(a));
    d.handle_conn_bytes(b, b"SET ups.id \"two\"\n", now);
    assert_eq!(take(&mut d, b), "SETINFO ups.id \"two\"\n");
    let again = d.accept();
    d.handle_conn_bytes(again, b"DUMPALL\n", now);
    let dump = take(&mut d, again);
    assert!(dump.contains("SETINFO ups.id \"two\"\n"));
    assert!(dump.ends_with("DATAOK\nDUMPDONE\n"));
    // HEAD's extra commands.
    d.handle_conn_bytes(b, b"NOBROADCAST\nGETPID\nDUMPSTATUS\n", now);
    let pid = format!("PID {}\n", d.server().config().pid);
    assert_eq!(
        take(&mut d, b),
        format!(
            "{pid}SETINFO ups.status \"OL\"\nSETAUX ups.status 32\nSETFLAGS ups.status RW STRING\nDATAOK\nDUMPDONE\n"
        )
    );
    d.handle_conn_bytes(again, b"SET ups.id \"three\"\n", now);
    assert_eq!(take(&mut d, b), "");
    d.handle_conn_bytes(b, b"LOGOUT\nPING\n", now);
    assert_eq!(take(&mut d, b), "OK Goodbye\n");
    assert_eq!(d.close_reason(b), Some(&CloseReason::Logout));
}

/// A device that fails when told to, and publishes a counter otherwise.
struct Flaky {
    fail: bool,
    n: u32,
}

impl Device for Flaky {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        st.setinfo("ups.status", "OL");
        Ok(())
    }
    fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        if self.fail {
            return Err(DeviceError::Stale(Message::cause("no answer")));
        }
        self.n += 1;
        st.setinfo("ups.counter", &self.n.to_string());
        Ok(())
    }
    fn setvar(&mut self, _: &mut Dstate, _: &str, _: &str, _: Instant) -> TrackingResult {
        TrackingResult::Failed
    }
}

#[test]
fn stale_data_is_reported_and_recovers() {
    let now = Instant::now();
    let mut d = Driver::new(Flaky { fail: true, n: 0 }, Dstate::new(), DriverConfig::default());
    d.start(now).unwrap();
    let c = d.accept();
    d.handle_conn_bytes(c, b"DUMPALL\n", now);
    assert_eq!(
        take(&mut d, c),
        "DATASTALE\nSETINFO driver.parameter.pollinterval \"2\"\nSETINFO ups.status \"OL\"\nDUMPDONE\n"
    );
    d.with_state(|dev, _| dev.fail = false);
    let t = d.poll_timeout().unwrap();
    d.handle_timeout(t - Duration::from_millis(1));
    assert_eq!(take(&mut d, c), "");
    d.handle_timeout(t);
    assert_eq!(take(&mut d, c), "SETINFO ups.counter \"1\"\nDATAOK\n");
    d.with_state(|dev, _| dev.fail = true);
    d.handle_timeout(d.poll_timeout().unwrap());
    assert_eq!(take(&mut d, c), "DATASTALE\n");
    d.handle_conn_bytes(c, b"SET x \"1\" TRACKING t\n", now);
    assert_eq!(take(&mut d, c), "TRACKING t 3\n");
}

#[test]
fn a_connection_that_does_not_read_is_dropped() {
    let now = Instant::now();
    let mut config = DriverConfig::default();
    config.socket.max_output = 1000;
    let mut d = Driver::new(Flaky { fail: false, n: 0 }, Dstate::new(), config);
    d.start(now).unwrap();
    let reader = d.accept();
    let sleeper = d.accept();
    let mut t = now;
    for _ in 0..100 {
        t = d.poll_timeout().unwrap();
        d.handle_timeout(t);
        take(&mut d, reader);
    }
    assert_eq!(d.close_reason(sleeper), Some(&CloseReason::OutputOverflow));
    assert!(d.poll_transmit(sleeper).is_none());
    assert_eq!(d.close_reason(reader), None);
    // Overlong input lines are discarded, the next line works.
    let long = vec![b'x'; 10_000];
    d.handle_conn_bytes(reader, &long, t);
    d.handle_conn_bytes(reader, b"\nPING\n", t);
    assert_eq!(take(&mut d, reader), "PONG\n");
}

#[test]
fn override_and_default_from_ups_conf() {
    let (dir, now) = setup();
    let conf = "[u]\ndriver = dummy-ups\nport = dummy.dev\noverride.battery.charge = 42\n\
                default.ups.serial = S1\npollinterval = 7\n";
    let mut d = dummy(dir.path(), conf, "u", now);
    let st = d.dstate();
    // The file says 100, the override wins; the serial default is mirrored.
    assert_eq!(st.getinfo("battery.charge"), Some("42"));
    assert_eq!(st.getinfo("device.serial"), Some("S1"));
    assert_eq!(st.getinfo("driver.parameter.pollinterval"), Some("7"));
    assert_eq!(st.getinfo("driver.parameter.override.battery.charge"), None);
    let c = d.accept();
    d.handle_conn_bytes(c, b"SET battery.charge \"1\"\n", now);
    assert_eq!(d.dstate().getinfo("battery.charge"), Some("42"));
    assert_eq!(d.poll_timeout(), Some(now + Duration::from_secs(7)));
}
