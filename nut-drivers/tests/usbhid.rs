//! usbhid-ups in-process, over the replay double of `nut-testkit`: for every simulated
//! device of `data/hid/nut-2.8.0/` (what Debian's NUT 2.8.0 usbhid-ups published for
//! it under `fakeusb`), ours publishes the same variables, commands and writable
//! variables; faults make the data stale, never wrong, and an unplugged device is
//! served again when it comes back.
//!
//! Lines that cannot match, and why:
//! * `driver.version.usb`: the libusb version string of the machine NUT ran on; the
//!   in-process driver has no libusb (the binary publishes its own).
//! * upsrw's description line and upscmd's descriptions: they come from upsd's
//!   `cmdvartab`, not from the driver.
//!
//! Everything else, `driver.name`, `driver.version`, `driver.version.internal`,
//! `driver.version.data` and `driver.parameter.*` included, must be equal.

use nut_driver::params::DriverParams;
use nut_driver::{Driver, DriverConfig, Dstate, Timing};
use nut_drivers::usbhid::{DRIVER_VERSION, Settings, UsbhidUps, VARS};
use nut_testkit::hid::{Faulty, ReplayHid};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const IGNORED_UPSC: &[&str] = &["driver.version.usb"];

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hid")
}

fn params(option: Option<&str>) -> DriverParams {
    let mut conf = String::from("[ups1]\n  driver = usbhid-ups\n  port = auto\n");
    if let Some(o) = option {
        conf.push_str("  ");
        conf.push_str(o.trim());
        conf.push('\n');
    }
    let conf = nut_proto::config::upsconf::UpsConf::parse("ups.conf", conf.as_bytes());
    assert!(conf.errors.is_empty());
    let mut p = DriverParams::new("usbhid-ups", "ups1");
    p.read_ups_conf(&conf, VARS).unwrap();
    p
}

fn timing(settings: &Settings) -> Timing {
    Timing { full_update: Some(settings.pollfreq), ..Timing::default() }
}

/// Starts the driver over `link` as `start_driver` does for the binary.
fn start<L: nut_driver::transport::HidLink + 'static>(
    link: L,
    p: &DriverParams,
    now: Instant,
) -> Driver<UsbhidUps<L>> {
    let settings = Settings::from_params(p).unwrap();
    let config = DriverConfig { timing: timing(&settings), ..DriverConfig::default() };
    let mut st = Dstate::new();
    p.publish(&mut st);
    nut_driver::publish_driver_info(&mut st, "usbhid-ups", DRIVER_VERSION);
    let mut d = Driver::new(UsbhidUps::new(link, settings), st, config);
    d.start(now).unwrap();
    d.with_state(|_, st| {
        st.setinfo("driver.parameter.synchronous", p.synchronous.as_str());
    });
    d
}

fn upsc(st: &Dstate) -> String {
    st.upsc_dump()
        .lines()
        .filter(|l| !IGNORED_UPSC.iter().any(|i| l.starts_with(&format!("{i}: "))))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn nut_upsc(text: &str) -> String {
    text.lines()
        .filter(|l| !IGNORED_UPSC.iter().any(|i| l.starts_with(&format!("{i}: "))))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn commands(st: &Dstate) -> Vec<String> {
    st.tree().commands().map(str::to_string).collect()
}

fn nut_commands(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.split_once(" - ").map(|(c, _)| c.to_string())).collect()
}

/// upsrw's listing without the description lines.
fn upsrw(st: &Dstate) -> String {
    let mut out = String::new();
    for (name, v) in st.tree().vars() {
        if !v.flags.rw {
            continue;
        }
        out.push_str(&format!("[{name}]\n"));
        if !v.ranges.is_empty() {
            out.push_str("Type: RANGE NUMBER\n");
            let cur: i64 = v.value.trim().parse().unwrap_or(0);
            for (a, b) in &v.ranges {
                let sel = if cur >= *a && cur <= *b { " SELECTED" } else { "" };
                out.push_str(&format!("Option: \"{a}-{b}\"{sel}\n"));
            }
        } else if !v.enums.is_empty() {
            if v.flags.string {
                out.push_str(&format!("Type: ENUM STRING\nMaximum length: {}\n", v.aux));
            } else {
                out.push_str("Type: ENUM NUMBER\n");
            }
            for e in &v.enums {
                let sel = if *e == v.value { " SELECTED" } else { "" };
                out.push_str(&format!("Option: \"{e}\"{sel}\n"));
            }
        } else if v.flags.string {
            out.push_str(&format!("Type: STRING\nMaximum length: {}\nValue: {}\n", v.aux, v.value));
        } else {
            out.push_str(&format!("Type: NUMBER\nValue: {}\n", v.value));
        }
        out.push('\n');
    }
    out
}

fn nut_upsrw(text: &str) -> String {
    let mut out = String::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        if let Some(head) = lines.next() {
            out.push_str(head);
            out.push('\n');
        }
        lines.next(); // description (upsd's cmdvartab)
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

struct Case {
    name: String,
    hid: PathBuf,
    expected: PathBuf,
    option: Option<String>,
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for dir in [data().join("nut-2.8.0"), data().join("nut-2.8.0/productid")] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "upsc"))
            .collect();
        names.sort();
        for p in names {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            let option = std::fs::read_to_string(p.with_extension("option")).ok();
            v.push(Case {
                hid: data().join(format!("{stem}.hid")),
                expected: p.with_extension(""),
                name: stem,
                option,
            });
        }
    }
    v
}

fn run_case(c: &Case) -> Result<(), String> {
    let link = ReplayHid::from_file(&c.hid).map_err(|e| e.to_string())?;
    let p = params(c.option.as_deref());
    let d = start(link, &p, Instant::now());
    let read = |ext: &str| std::fs::read_to_string(c.expected.with_extension(ext)).unwrap();
    let mut diffs = Vec::new();
    let (ours, theirs) = (upsc(d.dstate()), nut_upsc(&read("upsc")));
    if ours != theirs {
        let a: BTreeSet<&str> = ours.lines().collect();
        let b: BTreeSet<&str> = theirs.lines().collect();
        diffs.push(format!(
            "upsc: ours only {:?}\n      nut only {:?}",
            a.difference(&b).collect::<Vec<_>>(),
            b.difference(&a).collect::<Vec<_>>()
        ));
    }
    let (ours, theirs) = (commands(d.dstate()), nut_commands(&read("upscmd")));
    if ours != theirs {
        diffs.push(format!("upscmd: ours {ours:?}\n        nut {theirs:?}"));
    }
    let (ours, theirs) = (upsrw(d.dstate()), nut_upsrw(&read("upsrw")));
    if ours != theirs {
        diffs.push(format!("upsrw: ours\n{ours}\n       nut\n{theirs}"));
    }
    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("\n")) }
}

#[test]
fn every_device_publishes_what_nut_2_8_0_publishes() {
    let cases = cases();
    assert_eq!(cases.len(), 38, "35 devices and 3 served with productid=");
    let mut failures = Vec::new();
    for c in &cases {
        if let Err(e) = run_case(c) {
            failures.push(format!("== {}\n{e}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Liebert units whose IDs NUT 2.8.0 does not list (GXT4 10af:0000, PSI5 10af:0002,
/// GXT5 10af:1000): with default settings ours serves them as NUT 2.8.0 does with
/// `productid=` (only that setting's own line differs); with `productid=` given,
/// [`every_device_publishes_what_nut_2_8_0_publishes`] compares them whole.
#[test]
fn liebert_units_are_served_without_productid() {
    let mut served = 0;
    for c in cases().iter().filter(|c| c.option.is_some()) {
        let link = ReplayHid::from_file(&c.hid).unwrap();
        let p = params(None);
        let settings = Settings::from_params(&p).unwrap();
        let config = DriverConfig { timing: timing(&settings), ..DriverConfig::default() };
        let mut st = Dstate::new();
        p.publish(&mut st);
        nut_driver::publish_driver_info(&mut st, "usbhid-ups", DRIVER_VERSION);
        let mut d = Driver::new(UsbhidUps::new(link, settings), st, config);
        assert!(d.start(Instant::now()).is_ok(), "{} not served by default", c.name);
        d.with_state(|_, st| {
            st.setinfo("driver.parameter.synchronous", p.synchronous.as_str());
        });
        let theirs: String =
            nut_upsc(&std::fs::read_to_string(c.expected.with_extension("upsc")).unwrap())
                .lines()
                .filter(|l| !l.starts_with("driver.parameter.productid: "))
                .map(|l| format!("{l}\n"))
                .collect();
        assert_eq!(upsc(d.dstate()), theirs, "{}", c.name);
        let read = |ext: &str| std::fs::read_to_string(c.expected.with_extension(ext)).unwrap();
        assert_eq!(commands(d.dstate()), nut_commands(&read("upscmd")), "{}", c.name);
        assert_eq!(upsrw(d.dstate()), nut_upsrw(&read("upsrw")), "{}", c.name);
        served += 1;
    }
    assert_eq!(served, 3, "GXT4, GXT5 and PSI5");
}

/// The Arduino HIDPowerDevice library, which NUT 2.8.0 cannot open (it asks for the
/// wrong configuration index), is served with default settings by the Arduino table.
#[test]
fn arduino_hidpowerdevice_is_served() {
    let link = ReplayHid::from_file(data().join("arduino-hidpowerdevice.hid")).unwrap();
    let d = start(link, &params(None), Instant::now());
    let st = d.dstate();
    assert_eq!(st.getinfo("driver.version.data"), Some("Arduino HID 0.2"));
    assert_eq!(st.getinfo("ups.vendorid"), Some("2341"));
    // NUT 2.8.0's Arduino table maps the delays and their commands only.
    assert_eq!(st.getinfo("ups.delay.shutdown"), Some("20"));
    assert!(st.getinfo("ups.timer.shutdown").is_some());
    let cmds = commands(st);
    for c in ["load.off.delay", "shutdown.stop", "load.off"] {
        assert!(cmds.iter().any(|x| x == c), "{c} missing: {cmds:?}");
    }
}

const APC: &str = "apc-back-ups-es-850g2_issue1304";

fn faulty(name: &str) -> (Faulty<ReplayHid>, nut_testkit::hid::FaultControl) {
    let link = Faulty::new(ReplayHid::from_file(data().join(format!("{name}.hid"))).unwrap());
    let ctl = link.control();
    (link, ctl)
}

/// Runs the update (or reconnection) that is due next; returns the new time.
fn step<D: nut_driver::Device>(d: &mut Driver<D>, now: Instant) -> Instant {
    let next = d.poll_timeout().unwrap_or(now + Duration::from_secs(2)).max(now);
    d.handle_timeout(next);
    next
}

fn steps<D: nut_driver::Device>(d: &mut Driver<D>, mut now: Instant, n: usize) -> Instant {
    for _ in 0..n {
        now = step(d, now);
    }
    now
}

#[test]
fn unplug_makes_data_stale_and_replug_serves_the_same_device() {
    let (link, ctl) = faulty(APC);
    let t0 = Instant::now();
    let mut d = start(link, &params(None), t0);
    let before = upsc(d.dstate());
    let now = steps(&mut d, t0, 3);
    assert!(!d.dstate().is_stale());
    assert_eq!(upsc(d.dstate()), before);
    ctl.unplug();
    let now = steps(&mut d, now, 4);
    assert!(d.dstate().is_stale());
    assert_eq!(upsc(d.dstate()), before, "stale data is kept, not changed");
    ctl.replug();
    let mut now = now;
    for _ in 0..40 {
        now = step(&mut d, now);
        if !d.dstate().is_stale() {
            break;
        }
    }
    assert!(!d.dstate().is_stale(), "not reconnected");
    assert_eq!(upsc(d.dstate()), before);
    // And it keeps polling.
    steps(&mut d, now, 20);
    assert!(!d.dstate().is_stale());
}

#[test]
fn a_device_vanishing_mid_poll_is_reconnected() {
    let (link, ctl) = faulty(APC);
    let t0 = Instant::now();
    let mut d = start(link, &params(None), t0);
    let before = upsc(d.dstate());
    ctl.disconnect_after(2);
    let now = steps(&mut d, t0, 3);
    assert!(d.dstate().is_stale());
    ctl.replug();
    let now = steps(&mut d, now, 40);
    assert!(!d.dstate().is_stale());
    assert_eq!(upsc(d.dstate()), before);
    let _ = now;
}

/// A link factory for the reopen path: each call takes the next link of the queue.
fn queue<L: Send + 'static>(links: Vec<L>) -> nut_drivers::usbhid::Reopen<L> {
    let links = std::sync::Mutex::new(std::collections::VecDeque::from(links));
    Box::new(move |_| {
        links.lock().unwrap().pop_front().ok_or_else(|| {
            nut_driver::transport::LinkError::Disconnected(nut_driver::Message::cause("gone"))
        })
    })
}

#[test]
fn only_the_same_device_is_taken_back() {
    let apc = || ReplayHid::from_file(data().join(format!("{APC}.hid"))).unwrap();
    let other = ReplayHid::from_file(data().join("cyberpower-cp-1500c_issue2997.hid")).unwrap();
    let (first, ctl) = {
        let l = Faulty::new(apc());
        let c = l.control();
        (l, c)
    };
    let second = Faulty::new(other);
    let third = Faulty::new(apc());
    let p = params(None);
    let settings = Settings::from_params(&p).unwrap();
    let config = DriverConfig { timing: timing(&settings), ..DriverConfig::default() };
    let dev = UsbhidUps::with_reopen(queue(vec![first, second, third]), settings);
    let mut st = Dstate::new();
    p.publish(&mut st);
    let mut d = Driver::new(dev, st, config);
    let t0 = Instant::now();
    d.start(t0).unwrap();
    let model = d.dstate().getinfo("ups.model").map(str::to_string);
    ctl.unplug();
    // Lost; the next open finds the CyberPower (refused), then the APC again.
    let mut now = t0;
    let mut saw_cps = false;
    for _ in 0..60 {
        now = step(&mut d, now);
        saw_cps |= d.dstate().getinfo("ups.mfr") == Some("CPS");
        if !d.dstate().is_stale() && d.device().mapper().is_some() && now > t0 {
            break;
        }
    }
    assert!(!saw_cps);
    assert!(!d.dstate().is_stale());
    assert_eq!(d.dstate().getinfo("ups.model").map(str::to_string), model);
    assert_eq!(d.dstate().getinfo("driver.version.data"), Some("APC HID 0.98"));
}

#[test]
fn bad_answers_make_data_stale_not_wrong() {
    use nut_testkit::hid::StringFault;
    type Fault = fn(&nut_testkit::hid::FaultControl);
    let faults: &[(&str, Fault)] = &[
        ("short reports", |c| c.short_reports(Some(1))),
        ("mute", |c| c.mute(true)),
        // Longer than the GET_REPORT length NUT asks for: libusb reports an overflow.
        ("overlong", |c| c.overlong_reports(Some(4096))),
        ("stall", |c| {
            for id in 0..=255 {
                c.stall(id);
            }
        }),
    ];
    for (what, fault) in faults {
        let (link, ctl) = faulty(APC);
        let t0 = Instant::now();
        let mut d = start(link, &params(None), t0);
        let before = upsc(d.dstate());
        fault(&ctl);
        let now = steps(&mut d, t0, 20);
        assert!(d.dstate().is_stale(), "{what}: not stale");
        assert_eq!(upsc(d.dstate()), before, "{what}: values changed");
        ctl.clear();
        steps(&mut d, now, 40);
        assert!(!d.dstate().is_stale(), "{what}: not back");
        assert_eq!(upsc(d.dstate()), before, "{what}");
    }
    // Garbage and undecodable strings: no panic, the driver keeps serving.
    for seed in [1u64, 7, 0xdead_beef] {
        let (link, ctl) = faulty(APC);
        ctl.garbage(Some(seed));
        ctl.bad_strings(Some(StringFault::Lossy));
        let t0 = Instant::now();
        let mut d = start(link, &params(None), t0);
        steps(&mut d, t0, 20);
        assert!(d.dstate().getinfo("ups.status").is_some());
        for (name, v) in d.dstate().tree().vars() {
            assert!(!v.value.contains('\0'), "{name} has a NUL");
        }
    }
    let (link, ctl) = faulty(APC);
    ctl.bad_strings(Some(StringFault::Error));
    let d = start(link, &params(None), Instant::now());
    // battery.type is a string-index value: unreadable, so not published.
    assert_eq!(d.dstate().getinfo("battery.type"), None);
    assert!(d.dstate().getinfo("battery.charge").is_some());
}

#[test]
fn descriptors_past_4_kib_are_read_whole() {
    let text = std::fs::read_to_string(data().join(format!("{APC}.hid"))).unwrap();
    // Pad the descriptor with Usage Page items after its last collection: 5 KiB, which
    // NUT (up to 6 KiB) reads whole; the values are the same.
    let pad = "05 84\n".repeat(2100);
    let padded = text.replacen("\n[reports]", &format!("\n{pad}[reports]"), 1);
    let link = ReplayHid::parse(&padded, Default::default()).unwrap();
    let d = start(link, &params(None), Instant::now());
    let plain =
        start(ReplayHid::parse(&text, Default::default()).unwrap(), &params(None), Instant::now());
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| !l.starts_with("device.serial") && !l.starts_with("ups.serial"))
            .collect()
    };
    assert_eq!(strip(upsc(d.dstate())), strip(upsc(plain.dstate())));
    // Past 6 KiB: refused at start (as NUT), no panic.
    let pad = "05 84\n".repeat(3200);
    let huge = text.replacen("\n[reports]", &format!("\n{pad}[reports]"), 1);
    let link = ReplayHid::parse(&huge, Default::default()).unwrap();
    let p = params(None);
    let settings = Settings::from_params(&p).unwrap();
    let mut d = Driver::new(UsbhidUps::new(link, settings), Dstate::new(), DriverConfig::default());
    assert!(d.start(Instant::now()).is_err());
}

#[test]
fn commands_and_settings_reach_the_device() {
    let (link, _ctl) = faulty(APC);
    let t0 = Instant::now();
    let mut d = start(link, &params(None), t0);
    let r = d.with_state(|dev, st| {
        use nut_driver::Device;
        let a = dev.setvar(st, "input.transfer.low", "170", t0);
        let b = dev.instcmd(st, "beeper.disable", None, t0);
        let c = dev.instcmd(st, "no.such.command", None, t0);
        let e = dev.setvar(st, "ups.delay.shutdown", "60", t0);
        (a, b, c, e)
    });
    use nut_driver::TrackingResult as T;
    assert_eq!(r, (T::Handled, T::Handled, T::Invalid, T::Handled));
    // The next update is a full one: the written values are read back.
    steps(&mut d, t0, 1);
    assert_eq!(d.dstate().getinfo("input.transfer.low"), Some("170"));
    assert_eq!(d.dstate().getinfo("ups.beeper.status"), Some("disabled"));
    assert_eq!(d.dstate().getinfo("ups.delay.shutdown"), Some("60"));
}

#[test]
fn kill_power_sends_nut_s_sequence() {
    // The APC table has no shutdown.return row: the fallback writes
    // DelayBeforeStartup (ups.delay.start) then DelayBeforeShutdown
    // (ups.delay.shutdown = offdelay); this unit has no DelayBeforeStartup, so
    // shutdown.reboot (DelayBeforeReboot) is what NUT 2.8.0 would send.
    let (link, ctl) = faulty(APC);
    let p = params(Some("offdelay = 45"));
    let settings = Settings::from_params(&p).unwrap();
    let mut d = Driver::new(UsbhidUps::new(link, settings), Dstate::new(), DriverConfig::default());
    d.kill_power(Instant::now()).unwrap();
    assert_eq!(d.dstate().getinfo("ups.delay.shutdown"), Some("45"));
    ctl.unplug();
    assert!(d.kill_power(Instant::now()).is_err());
}

type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

/// A replay link that records the length of every GET_REPORT buffer and,
/// when `fed`, serves its interrupt pipe from a queue the test fills
/// (`read_interrupt` then really waits until its deadline).
struct Tapped {
    inner: ReplayHid,
    lens: Shared<Vec<usize>>,
    fed: Option<Shared<std::collections::VecDeque<Vec<u8>>>>,
}

impl nut_driver::transport::HidLink for Tapped {
    fn ids(&self) -> &nut_driver::transport::UsbIds {
        self.inner.ids()
    }
    fn report_descriptor(&mut self) -> Result<Vec<u8>, nut_driver::transport::LinkError> {
        self.inner.report_descriptor()
    }
    fn get_report(
        &mut self,
        kind: nut_driver::transport::ReportType,
        id: u8,
        buf: &mut [u8],
    ) -> Result<usize, nut_driver::transport::LinkError> {
        self.lens.lock().unwrap().push(buf.len());
        self.inner.get_report(kind, id, buf)
    }
    fn set_report(
        &mut self,
        kind: nut_driver::transport::ReportType,
        id: u8,
        data: &[u8],
    ) -> Result<usize, nut_driver::transport::LinkError> {
        self.inner.set_report(kind, id, data)
    }
    fn read_interrupt(
        &mut self,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Result<usize, nut_driver::transport::LinkError> {
        let Some(queue) = &self.fed else { return self.inner.read_interrupt(buf, deadline) };
        if let Some(r) = queue.lock().unwrap().pop_front() {
            let n = r.len().min(buf.len());
            buf[..n].copy_from_slice(&r[..n]);
            return Ok(n);
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        Err(nut_driver::transport::LinkError::Timeout)
    }
    fn string(&mut self, index: u8) -> Result<String, nut_driver::transport::LinkError> {
        self.inner.string(index)
    }
}

fn recording(name: &str) -> (Tapped, Shared<Vec<usize>>) {
    let inner = ReplayHid::from_file(data().join(format!("{name}.hid"))).unwrap();
    let lens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    (Tapped { inner, lens: lens.clone(), fed: None }, lens)
}

/// `maxreport`: as NUT 2.8.0 (on 64-bit systems), every GET_REPORT asks for 8 bytes
/// whatever the report's length; without it, for the report's own length.
#[test]
fn maxreport_asks_for_a_fixed_length() {
    let (link, lens) = recording(APC);
    let t0 = Instant::now();
    let mut d = start(link, &params(Some("maxreport")), t0);
    steps(&mut d, t0, 2);
    let lens = lens.lock().unwrap().clone();
    assert!(!lens.is_empty());
    assert!(lens.iter().all(|&l| l == nut_hid::mapping::MAX_REPORT_REQUEST), "{lens:?}");
    assert!(d.device().mapper().unwrap().max_report());

    let (link, lens) = recording(APC);
    let d = start(link, &params(None), t0);
    assert!(!d.device().mapper().unwrap().max_report());
    let lens = lens.lock().unwrap().clone();
    assert!(lens.iter().any(|&l| l != nut_hid::mapping::MAX_REPORT_REQUEST), "{lens:?}");
}

/// `lowbatt`, `ondelay`, `offdelay`: written over what the device says, as numbers
/// (`strtol`), when the variable exists, as NUT 2.8.0 does after its init walk.
#[test]
fn lowbatt_ondelay_offdelay_override_the_device() {
    let link = ReplayHid::from_file(data().join(format!("{APC}.hid"))).unwrap();
    let base = start(link, &params(None), Instant::now());
    assert!(base.dstate().getinfo("battery.charge.low").is_some());
    assert_ne!(base.dstate().getinfo("battery.charge.low"), Some("15"));

    let link = ReplayHid::from_file(data().join(format!("{APC}.hid"))).unwrap();
    let p = params(Some("lowbatt = 15"));
    let d = start(link, &p, Instant::now());
    assert_eq!(d.dstate().getinfo("battery.charge.low"), Some("15"));
    assert_eq!(d.dstate().getinfo("driver.parameter.lowbatt"), Some("15"));

    let link = ReplayHid::from_file(data().join(format!("{APC}.hid"))).unwrap();
    let d = start(link, &params(Some("offdelay = \"45s\"")), Instant::now());
    assert_eq!(d.dstate().getinfo("ups.delay.shutdown"), Some("45"));
}

/// Listening (the binary's mode): between polls the driver waits on the interrupt
/// pipe and publishes the status a report changes at once, without a walk; the
/// status items are still walked every poll interval.
#[test]
fn listening_publishes_interrupt_reports_between_polls() {
    use nut_hid::{ReportDescriptor, UsageTables};
    let text = std::fs::read_to_string(data().join(format!("{APC}.hid"))).unwrap();
    let desc =
        ReportDescriptor::parse(&nut_testkit::hid::HidFile::parse(&text).descriptor).unwrap();
    let ac = desc
        .find_str(
            "UPS.PowerSummary.PresentStatus.ACPresent",
            &UsageTables::standard(),
            nut_hid::ReportType::Input,
        )
        .unwrap()
        .clone();
    let mut report = vec![0u8; desc.nut_report_len(ac.report_id).unwrap()];
    report[0] = ac.report_id;
    ac.insert(&mut report, 0).unwrap();

    let (mut link, lens) = recording(APC);
    let queue = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    link.fed = Some(queue.clone());
    let p = params(None);
    let mut settings = Settings::from_params(&p).unwrap();
    let wait = Duration::from_millis(20);
    settings.interrupt_wait = Some(wait);
    let config = DriverConfig { timing: timing(&settings), ..DriverConfig::default() };
    let t0 = Instant::now();
    let mut d = Driver::new(UsbhidUps::new(link, settings), Dstate::new(), config);
    d.start(t0).unwrap();
    let status = |d: &Driver<_>| d.dstate().getinfo("ups.status").unwrap_or("").to_string();
    let online = status(&d);
    assert!(online.contains("OL"), "{online}");
    // Listening: the next update is due at once.
    assert!(d.poll_timeout().is_some_and(|t| t <= Instant::now()));
    let reads = lens.lock().unwrap().len();
    // Nothing on the pipe: a wait of about `wait`, no walk.
    let before = Instant::now();
    d.handle_timeout(Instant::now());
    assert!(before.elapsed() >= wait);
    assert_eq!(lens.lock().unwrap().len(), reads, "no report read between polls");
    // A report: published by this update, still without a walk.
    queue.lock().unwrap().push_back(report);
    d.handle_timeout(Instant::now());
    assert!(status(&d).contains("OB"), "{}", status(&d));
    assert_eq!(lens.lock().unwrap().len(), reads);
    // At the poll interval the status items are read again (the device says OL).
    d.handle_timeout(t0 + Duration::from_secs(2));
    assert!(lens.lock().unwrap().len() > reads);
    assert_eq!(status(&d), online);
}
