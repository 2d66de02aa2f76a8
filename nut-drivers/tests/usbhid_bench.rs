//! `usbhid-ups` measurements, run by hand (see `benches/README.md`, section
//! "usbhid-ups"): both tests are `#[ignore]`d and need Debian's NUT 2.8.0
//! (`/lib/nut/usbhid-ups`, `upsd`, `upsc`) and, for the side-by-side run, the
//! `fakeusb` shim (`../shared/tools/fakeusb`, or the directory in `FAKEUSB_DIR`),
//! which they compile into their temporary directory. They fail when a peer is
//! missing.
//!
//! * [`bench_side_by_side`]: ours and Debian's `usbhid-ups`, one after the other,
//!   each under Debian's `upsd` on the same simulated device (`fakeusb` presenting a
//!   `.hid` file): time from start to data served (`upsc` polled every 10 ms),
//!   CPU time of the driver process per full poll (`/proc/<pid>/task/*/schedstat`,
//!   nanoseconds on CPU summed over the threads), resident memory (`VmRSS`).
//! * [`interrupt_report_reaches_upsd`]: our device on the binary's adapter (its device
//!   thread and interrupt listener thread) in this process, serving its socket to
//!   Debian's `upsd`, over a replay link whose interrupt pipe the test feeds: time
//!   from handing an interrupt report to the pipe until a client of `upsd` sees the
//!   new `ups.status`.
#![cfg(feature = "usb")]

mod common;

use common::{Setup, ac_present_report};
use nut_driver::params::DriverParams;
use nut_driver::{Dstate, Timing};
use nut_drivers::usbhid::{DRIVER_VERSION, INTERRUPT_WAIT, Settings, UsbhidUps, VARS};
use nut_testkit::driver::{self, Blocking};
use nut_testkit::hid::{Piped, ReplayHid};
use nut_testkit::{Proc, peer, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_usbhid-ups");
const NUT: &str = "/lib/nut/usbhid-ups";

/// The devices measured: a small APC and a large Eaton (MGE) descriptor, both with
/// logged reports.
const DEVICES: &[&str] = &["apc-back-ups-es-850g2_issue1304", "eaton-9px-2200grt-l_issue3295"];

/// How long CPU time is measured, and the poll interval (every poll is a full one:
/// `pollfreq` is below it).
const WINDOW: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_secs(2);

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hid")
}

/// Compiles `fakeusb.c` into `dir` (as its Makefile does) and returns the library.
fn build_fakeusb(dir: &Path) -> PathBuf {
    let src = std::env::var_os("FAKEUSB_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/fakeusb"),
        PathBuf::from,
    );
    let c = src.join("fakeusb.c");
    assert!(c.exists(), "fakeusb source not found at {} (set FAKEUSB_DIR)", c.display());
    let out = dir.join("libfakeusb.so");
    let st = Command::new("cc")
        .args(["-O2", "-Wall", "-fPIC", "-fvisibility=hidden", "-shared"])
        .arg("-Wl,-soname,libusb-1.0.so.0")
        .arg("-o")
        .arg(&out)
        .arg(&c)
        .arg("-lpthread")
        .status()
        .expect("run cc");
    assert!(st.success(), "building fakeusb failed");
    out
}

use nut_testkit::procstat::{self, cpu_ns, rss_kib as rss_kb};

/// The variables `upsc` shows, without the lines that name the binary or the run.
fn comparable(upsc: &str) -> Vec<String> {
    upsc.lines()
        .filter(|l| {
            !l.starts_with("driver.version")
                && !l.starts_with("driver.name")
                && !l.starts_with("driver.parameter.pollfreq")
        })
        .map(str::to_string)
        .collect()
}

/// A driver started under its own `upsd`, serving data.
struct Started {
    s: Setup,
    pid: u32,
    to_data: Duration,
    target: String,
}

fn start(lib: &Path, exe: &str, hid: &Path, usb_log: Option<&Path>) -> Started {
    let conf = "[u]\n  driver = usbhid-ups\n  port = auto\n  pollinterval = 2\n  pollfreq = 1\n";
    let mut s = Setup::new(conf);
    s.upsd();
    let mut cmd = Command::new(exe);
    cmd.args(["-a", "u", "-F", "-u", "root"]);
    s.env(&mut cmd);
    cmd.env("LD_PRELOAD", lib).env("FAKEUSB_DEVICE", hid);
    if let Some(log) = usb_log {
        cmd.env("FAKEUSB_LOG", log);
    }
    let t0 = Instant::now();
    s.procs.push(Proc::spawn("driver", cmd, s.dir.path()));
    let target = s.target("u");
    let mut last = String::new();
    let ready = wait_until(Duration::from_secs(60), Duration::from_millis(10), || {
        let (ok, out) = s.upsc(&[&target]);
        last = out;
        ok && last.contains("ups.status:") && !last.contains("WAIT")
    });
    let to_data = t0.elapsed();
    assert!(ready, "{exe} never served {}: {last}\n{}", hid.display(), s.procs[1].log());
    let pid = s.procs[1].pid();
    Started { s, pid, to_data, target }
}

/// Ours and Debian's usbhid-ups on the same simulated devices. Run by hand:
/// see benches/README.md.
///
/// Both drivers run at the same time, each under its own `upsd`, and their CPU is
/// counted over the same window, together with the two floors: on this shared
/// virtual machine what a wake-up costs moves a lot from one minute to the next,
/// so only figures taken side by side compare.
#[test]
#[ignore = "measurement, run by hand (benches/README.md)"]
fn bench_side_by_side() {
    assert!(Path::new(NUT).exists(), "{NUT} missing (apt-get install nut-server)");
    let _ = peer("upsd");
    let dir = nut_testkit::temp_dir();
    let lib = build_fakeusb(dir.path());
    let polls = (WINDOW.as_secs() / POLL.as_secs()) as u32;
    println!("| device | driver | start to data | CPU per full poll | RSS |");
    println!("|---|---|---|---|---|");
    for dev in DEVICES {
        let hid = data().join(format!("{dev}.hid"));
        let log = dir.path().join(format!("{dev}.usb.log"));
        let ours = start(&lib, OURS, &hid, Some(&log));
        let nut = start(&lib, NUT, &hid, None);
        // The first polls after start (two of ours at least, for the log below).
        std::thread::sleep(Duration::from_secs(5));
        // The floors: what a process spends per poll that only wakes once every
        // poll (no work at all), and one that also does exactly the control
        // transfers of one of our full polls (read from the shim's log), with
        // nothing around them; in processes of their own, over the same window.
        let transfers = last_poll_transfers(&log);
        assert!(!transfers.is_empty(), "{dev}: no transfers in {}", log.display());
        let floors = [Vec::new(), transfers.clone()].map(|t| {
            let (lib, hid) = (lib.clone(), hid.clone());
            std::thread::spawn(move || usb_floor_in_child(&lib, &hid, &t, polls))
        });
        let c0 = [cpu_ns(ours.pid), cpu_ns(nut.pid)];
        std::thread::sleep(WINDOW);
        let c1 = [cpu_ns(ours.pid), cpu_ns(nut.pid)];
        let [wake, work] = floors.map(|f| f.join().expect("floor child"));
        let mut vars = Vec::new();
        for (i, (who, r)) in [("ours", &ours), ("NUT 2.8.0", &nut)].into_iter().enumerate() {
            let cpu = (c1[i] - c0[i]) as f64;
            println!(
                "| {dev} | {who} | {:.3} s | {:.0} µs ({:.1} ms in {} s) | {} kB |",
                r.to_data.as_secs_f64(),
                cpu / 1e3 / f64::from(polls),
                cpu / 1e6,
                WINDOW.as_secs(),
                rss_kb(r.pid)
            );
            vars.push(comparable(&r.s.upsc(&[&r.target]).1));
        }
        println!("| {dev} | one wake-up per poll, alone (a process) | | {:.0} µs | |", wake / 1e3);
        println!(
            "| {dev} | that and the poll's {} transfers, alone (a process) | | {:.0} µs | |",
            transfers.len(),
            work / 1e3
        );
        // Same device, same data (values are static under fakeusb).
        assert_eq!(vars[0], vars[1], "{dev}: ours and NUT's upsc differ");
    }
}

/// One control transfer of a poll: request type, request, value, index,
/// length (as the `fakeusb` log prints them).
type Transfer = (u8, u8, u16, u16, u16);

/// The control transfers of the last complete poll in a `fakeusb` log: the
/// log's `ctrl` lines grouped by time (a poll's transfers follow each other
/// at once; polls are seconds apart), the last group but one.
fn last_poll_transfers(log: &Path) -> Vec<Transfer> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut polls: Vec<Vec<Transfer>> = Vec::new();
    let mut last_t = f64::NEG_INFINITY;
    for line in text.lines() {
        let field =
            |k: &str| line.split_whitespace().find_map(|w| w.strip_prefix(k)).map(str::to_string);
        let hex = |k: &str| field(k).and_then(|v| u16::from_str_radix(&v, 16).ok());
        let t = field("t=").and_then(|v| v.parse::<f64>().ok());
        let (Some(t), true) = (t, line.split_whitespace().nth(1) == Some("ctrl")) else {
            continue;
        };
        let (Some(bm), Some(req), Some(val), Some(idx), Some(len)) = (
            hex("bm="),
            hex("req="),
            hex("val="),
            hex("idx="),
            field("len=").and_then(|v| v.parse::<u16>().ok()),
        ) else {
            continue;
        };
        if t - last_t > 0.5 {
            polls.push(Vec::new());
        }
        last_t = t;
        if let Some(p) = polls.last_mut() {
            p.push((bm as u8, req as u8, val, idx, len));
        }
    }
    // The first group is the start's, the last may be a poll under way.
    let n = polls.len();
    polls.into_iter().nth(n.saturating_sub(2).max(1)).unwrap_or_default()
}

const FLOOR_ENV: &str = "NUT_USB_FLOOR";

/// Runs [`usb_floor_child`] in a process of its own (this test binary, with
/// the `fakeusb` shim preloaded) and returns its CPU nanoseconds per poll.
fn usb_floor_in_child(lib: &Path, hid: &Path, transfers: &[Transfer], polls: u32) -> f64 {
    let list: Vec<String> = transfers
        .iter()
        .map(|(bm, req, val, idx, len)| format!("{bm:02x}:{req:02x}:{val:04x}:{idx:04x}:{len}"))
        .collect();
    let request = format!("{}\n{polls}\n{}", POLL.as_millis(), list.join(","));
    let mut cmd = procstat::child_command("usb_floor_child").expect("the test binary");
    cmd.env(FLOOR_ENV, request).env("LD_PRELOAD", lib).env("FAKEUSB_DEVICE", hid);
    procstat::floor_from_child(cmd).expect("the floor child") as f64
}

/// The child of [`usb_floor_in_child`] (does nothing when run otherwise):
/// opens the simulated device through libusb, then every poll interval wakes
/// once (an absolute deadline) and does the given control transfers, nothing
/// else; prints `FLOOR_NS=<ns of the process's CPU per poll>`.
#[test]
#[ignore = "started by bench_side_by_side"]
fn usb_floor_child() {
    let Ok(request) = std::env::var(FLOOR_ENV) else { return };
    let mut f = request.split('\n');
    let every = Duration::from_millis(f.next().and_then(|v| v.parse().ok()).expect("interval"));
    let polls: u32 = f.next().and_then(|v| v.parse().ok()).expect("polls");
    let transfers: Vec<Transfer> = f
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let p: Vec<&str> = t.split(':').collect();
            let h = |i: usize| u16::from_str_radix(p[i], 16).expect("hex");
            (h(0) as u8, h(1) as u8, h(2), h(3), p[4].parse().expect("len"))
        })
        .collect();
    let devices = rusb::devices().expect("libusb device list");
    let dev = devices.iter().next().expect("the simulated device");
    let handle = dev.open().expect("open the simulated device");
    let mut buf = [0u8; 1024];
    let timeout = Duration::from_secs(1);
    let mut poll = |h: &rusb::DeviceHandle<rusb::GlobalContext>| {
        for &(bm, req, val, idx, len) in &transfers {
            let n = usize::from(len).min(buf.len());
            let r = h.read_control(bm, req, val, idx, &mut buf[..n], timeout);
            assert!(r.is_ok(), "transfer {bm:02x} {req:02x} {val:04x}: {r:?}");
        }
    };
    // One untimed poll, then `polls` timed ones.
    poll(&handle);
    let mut next = Instant::now() + every;
    let me = std::process::id();
    let c0 = cpu_ns(me);
    for _ in 0..polls {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += every;
        poll(&handle);
    }
    let ns = cpu_ns(me) - c0;
    procstat::report_floor(ns / u64::from(polls.max(1)));
}

/// `GET VAR` over one upsd connection.
struct Client {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let w = TcpStream::connect(("127.0.0.1", port)).unwrap();
        w.set_nodelay(true).unwrap();
        let r = BufReader::new(w.try_clone().unwrap());
        Client { w, r }
    }
    fn get(&mut self, var: &str) -> String {
        writeln!(self.w, "GET VAR u {var}").unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        line.trim_end().to_string()
    }
}

/// An interrupt report reaches `upsd` within 10 ms. Run by hand: see
/// benches/README.md.
#[test]
#[ignore = "measurement, run by hand (benches/README.md)"]
fn interrupt_report_reaches_upsd() {
    let name = "apc-back-ups-es-850g2_issue1304";
    let hid = data().join(format!("{name}.hid"));
    let mut s = Setup::new("[u]\n  driver = usbhid-ups\n  port = auto\n");
    let sock = s.state.join("usbhid-ups-u");
    let conf = nut_proto::config::upsconf::UpsConf::parse(
        "ups.conf",
        b"[u]\n  driver = usbhid-ups\n  port = auto\n",
    );
    let mut p = DriverParams::new("usbhid-ups", "u");
    p.read_ups_conf(&conf, VARS).unwrap();
    let mut settings = Settings::from_params(&p).unwrap();
    settings.interrupt_wait = Some(INTERRUPT_WAIT);
    let link = Piped::new(ReplayHid::from_file(&hid).unwrap());
    let pipe = link.pipe.clone();
    let timing = Timing { full_update: Some(settings.pollfreq), ..Timing::default() };
    let mut st = Dstate::new();
    p.publish(&mut st);
    nut_driver::publish_driver_info(&mut st, "usbhid-ups", DRIVER_VERSION);
    // The binary's adapter: the device thread, and the listener thread it starts.
    let served =
        Blocking::start(driver::started(UsbhidUps::new(link, settings), st, timing, &sock));
    assert!(nut_testkit::wait_for_path(&sock, Duration::from_secs(10)));
    s.upsd();
    s.upsc_ready("u");
    let mut c = Client::connect(s.port);
    let mut lat = Vec::new();
    for round in 0..20 {
        // Wait for the polled status (each poll reads it back from the device).
        let mut base = String::new();
        assert!(wait_until(Duration::from_secs(10), Duration::from_millis(5), || {
            base = c.get("ups.status");
            base.starts_with("VAR u ups.status") && base.contains("OL")
        }));
        // Power lost: ACPresent 0 (the other bits of the report 0 too).
        let report = ac_present_report(&hid, 0);
        let t0 = Instant::now();
        pipe.send(report);
        let mut now = String::new();
        while t0.elapsed() < Duration::from_secs(5) {
            now = c.get("ups.status");
            if now != base {
                break;
            }
        }
        let dt = t0.elapsed();
        assert!(now.contains("OB"), "round {round}: {base} -> {now}");
        lat.push(dt);
    }
    served.stop().unwrap();
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "interrupt report to upsd (GET VAR ups.status), {} rounds: min {:.2} ms, median {:.2} ms, max {:.2} ms",
        lat.len(),
        ms(lat[0]),
        ms(lat[lat.len() / 2]),
        ms(lat[lat.len() - 1])
    );
    assert!(lat[lat.len() - 1] < Duration::from_millis(10), "{lat:?}");
}
