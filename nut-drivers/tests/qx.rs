//! `nutdrv_qx` and `blazer_ser`, ours and Debian's NUT 2.8.0, side by side
//! under Debian's `upsd`, each on its own simulated serial UPS (a
//! pseudo-terminal answering from a `.qx` file of `tests/data/qx/`).
#![cfg(all(feature = "serial", feature = "usb"))]

mod common;
#[allow(dead_code, unreachable_pub)]
mod qxfile;

use common::Setup;
use nut_testkit::serial::{Dialect, PtyOptions, PtySerial, Script, Unknown};
use nut_testkit::{Proc, peer, wait_for_path, wait_until};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const OURS_QX: &str = env!("CARGO_BIN_EXE_nutdrv_qx");
const OURS_BLAZER: &str = env!("CARGO_BIN_EXE_blazer_ser");

/// Variables that name the run, not the device.
fn volatile(name: &str) -> bool {
    name == "driver.parameter.port"
}

fn parse_upsc(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| !volatile(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Starts `exe` for `ups` (driver name `driver`) and waits for its socket;
/// `false` if it exited first (a driver that refused the device).
fn start_driver(s: &mut Setup, exe: &str, driver: &str, ups: &str) -> bool {
    let mut cmd = Command::new(exe);
    cmd.args(["-a", ups, "-F", "-u", "root"]);
    s.env(&mut cmd);
    let p = Proc::spawn(&format!("{driver}-{ups}"), cmd, s.dir.path());
    s.procs.push(p);
    let sock = s.state.join(format!("{driver}-{ups}"));
    let mut exited = false;
    wait_until(Duration::from_secs(90), Duration::from_millis(50), || {
        if sock.exists() {
            return true;
        }
        exited = s.procs.last_mut().and_then(Proc::try_exit).is_some();
        exited
    });
    !exited && wait_for_path(&sock, Duration::from_millis(10))
}

fn upscmd_list(target: &str) -> String {
    let out = Command::new(peer("upscmd")).args(["-l", target]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().skip(1).collect::<Vec<_>>().join("\n")
}

fn upsrw_list(target: &str) -> String {
    let out = Command::new(peer("upsrw")).arg(target).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What one side published.
#[derive(Debug)]
struct Served {
    vars: BTreeMap<String, String>,
    cmds: String,
    rw: String,
}

fn served(s: &Setup, ups: &str) -> Served {
    let target = s.target(ups);
    s.upsc_ready(ups);
    // Let the first full update and the battery estimate settle, then read.
    std::thread::sleep(Duration::from_secs(3));
    let (_, text) = s.upsc(&[&target]);
    Served { vars: parse_upsc(&text), cmds: upscmd_list(&target), rw: upsrw_list(&target) }
}

/// The outcome of one case.
struct Pair {
    ours: Option<Served>,
    theirs: Option<Served>,
    _setup: Setup,
    _ptys: Vec<PtySerial>,
}

/// How the simulated device puts the file's exchanges on the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wire {
    /// As written.
    Plain,
    /// Voltronic-Axpert (P30): every query and answer carries its CRC
    /// before the CR, unknown queries get `(NAK` with its CRC. NUT's
    /// self-test table leaves the CRC out (its testing build bypasses the
    /// port), a real device does not.
    AxpertCrc,
}

fn script(lines: &[qxfile::Line], wire: Wire) -> Script {
    match wire {
        Wire::Plain => qxfile::script(lines),
        Wire::AxpertCrc => {
            let crc = |b: Vec<u8>| nut_megatec::crc::add(&b).unwrap_or(b);
            let ex: Vec<(Vec<u8>, Vec<u8>)> =
                qxfile::exchanges(lines).into_iter().map(|(q, a)| (crc(q), crc(a))).collect();
            let mut d = Dialect::megatec();
            d.unknown = Unknown::Answer(crc(b"(NAK\r".to_vec()));
            Script::from_exchanges(d, ex)
        }
    }
}

fn run_pair(case: &str, driver: &str, ours_exe: &str, extra: &str, wire: Wire) -> Pair {
    let lines = qxfile::load(case);
    let mut ptys = Vec::new();
    let mut conf = String::new();
    for ups in ["ours", "theirs"] {
        let pty = PtySerial::start(script(&lines, wire), PtyOptions::default()).unwrap();
        conf.push_str(&format!(
            "[{ups}]\n  driver = {driver}\n  port = {}\n{extra}",
            pty.path().display()
        ));
        ptys.push(pty);
    }
    let mut s = Setup::new(&conf);
    let theirs_exe = format!("/lib/nut/{driver}");
    let ours_up = start_driver(&mut s, ours_exe, driver, "ours");
    let theirs_up = start_driver(&mut s, &theirs_exe, driver, "theirs");
    s.upsd();
    let ours = ours_up.then(|| served(&s, "ours"));
    let theirs = theirs_up.then(|| served(&s, "theirs"));
    Pair { ours, theirs, _setup: s, _ptys: ptys }
}

fn diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            Some(w) if w == v => {}
            Some(w) => out.push(format!("{k}: ours {v:?} nut {w:?}")),
            None => out.push(format!("{k}: ours {v:?} nut -")),
        }
    }
    for (k, w) in b {
        if !a.contains_key(k) {
            out.push(format!("{k}: ours - nut {w:?}"));
        }
    }
    out
}

/// Compares ours with Debian's on `case`: the same variables and values,
/// instant commands and writable variables, except the variables of
/// `missing` that NUT publishes and ours does not yet (hooks that
/// nut-megatec lacks, see its README): that list must be exact. Where
/// NUT 2.8.0 refuses the device, ours must serve it and publish the
/// file's `=` values.
/// What a case must show: both drivers serve it identically, only ours
/// serves it (a dialect 2.8.0 does not know), or both refuse it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Same,
    OursOnly,
    BothRefuse,
}

fn compare(
    case: &str,
    driver: &str,
    ours_exe: &str,
    missing: &[&str],
    outcome: Outcome,
    wire: Wire,
    conf: &str,
) {
    let pair = run_pair(case, driver, ours_exe, conf, wire);
    let lines = qxfile::load(case);
    let expected = qxfile::vars(&lines);
    match (&pair.ours, &pair.theirs) {
        (Some(o), Some(t)) => {
            assert_eq!(outcome, Outcome::Same, "{case}: both drivers serve it");
            let mut t_vars = t.vars.clone();
            for m in missing {
                assert!(
                    t_vars.remove(*m).is_some() && !o.vars.contains_key(*m),
                    "{case}: {m} is listed as missing from ours, but is not"
                );
            }
            let d = diff(&o.vars, &t_vars);
            assert!(d.is_empty(), "{case}: variables differ:\n{}", d.join("\n"));
            if missing.is_empty() {
                assert_eq!(o.cmds, t.cmds, "{case}: instant commands differ");
                assert_eq!(o.rw, t.rw, "{case}: writable variables differ");
            }
            for (k, v) in &expected {
                let got = o.vars.get(k).map(String::as_str).unwrap_or("-");
                assert!(same_value(got, v), "{case}: {k}: {got} != {v}");
            }
            eprintln!("{case}: {} variables identical, {} missing", o.vars.len(), missing.len());
        }
        (Some(o), None) => {
            assert_eq!(outcome, Outcome::OursOnly, "{case}: NUT 2.8.0 refuses it, ours serves it");
            eprintln!("{case}: NUT 2.8.0 refuses the device; ours serves {} vars", o.vars.len());
            // A self-test table names the protocol that must claim it.
            if qxfile::header(&lines, "kind") == Some("selftest-table") {
                let want = qxfile::header(&lines, "protocol");
                assert_eq!(o.vars.get("driver.version.data").map(String::as_str), want, "{case}");
            }
            assert!(o.vars.contains_key("ups.status"), "{case}: no ups.status");
            for (k, v) in &expected {
                assert_eq!(o.vars.get(k), Some(v), "{case}: {k}");
            }
        }
        (None, Some(_)) => panic!("{case}: NUT serves the device, ours does not"),
        (None, None) => {
            assert_eq!(outcome, Outcome::BothRefuse, "{case}: both drivers refuse it");
            eprintln!("{case}: both refuse the device");
        }
    }
}

/// The file's `=` values of the protocol documents are the documented
/// meanings (`12.5`), not NUT's printf (`12.53`): numbers match within
/// the document's precision.
fn same_value(got: &str, want: &str) -> bool {
    if got == want {
        return true;
    }
    match (got.parse::<f64>(), want.parse::<f64>()) {
        (Ok(g), Ok(w)) => (g - w).abs() < 0.05,
        _ => false,
    }
}

/// A dialect newer than NUT 2.8.0 (which claims the device with an older
/// protocol): ours must detect `protocol` (the file's `@protocol`) and
/// publish the file's values; 2.8.0 must have taken it as something else.
fn newer(case: &str) {
    let pair = run_pair(case, "nutdrv_qx", OURS_QX, "", Wire::Plain);
    let lines = qxfile::load(case);
    let want = qxfile::header(&lines, "protocol").unwrap();
    let o = pair.ours.as_ref().expect("ours serves the device");
    assert_eq!(o.vars.get("driver.version.data").map(String::as_str), Some(want), "{case}");
    if let Some(t) = &pair.theirs {
        assert_ne!(t.vars.get("driver.version.data"), o.vars.get("driver.version.data"));
    }
    for (k, v) in qxfile::vars(&lines) {
        assert_eq!(o.vars.get(&k), Some(&v), "{case}: {k}");
    }
    assert!(o.vars.contains_key("ups.status"), "{case}: no ups.status");
}

macro_rules! cases {
    ($($name:ident => $file:literal $(, missing $m:expr)? $(, expect $outcome:ident)?
        $(, wire $wire:ident)? $(, conf $conf:literal)?;)*) => {$(
        #[test]
        fn $name() {
            #[allow(unused_mut, unused_assignments)]
            let mut missing: &[&str] = &[];
            $(missing = $m;)?
            #[allow(unused_mut, unused_assignments)]
            let mut outcome = Outcome::Same;
            $(outcome = Outcome::$outcome;)?
            #[allow(unused_mut, unused_assignments)]
            let mut wire = Wire::Plain;
            $(wire = Wire::$wire;)?
            #[allow(unused_mut, unused_assignments)]
            let mut conf = "";
            $(conf = $conf;)?
            compare($file, "nutdrv_qx", OURS_QX, missing, outcome, wire, conf);
        }
    )*};
}

cases! {
    qx_selftest_ablerex => "selftest/ablerex.qx";
    // Autodetection takes it as Megatec; the Ablerex hooks need the name.
    qx_selftest_ablerex_named => "selftest/ablerex.qx", conf "  protocol = ablerex\n";
    qx_selftest_bestups => "selftest/bestups.qx";
    qx_selftest_gtec => "selftest/gtec.qx", expect OursOnly;
    qx_selftest_hunnox => "selftest/hunnox.qx";
    qx_selftest_innovatae => "selftest/innovatae.qx";
    // INNOVATAE claims as Q1 does: autodetection never reaches it.
    qx_selftest_innovatae_named => "selftest/innovatae.qx", expect OursOnly,
        conf "  protocol = innovatae\n";
    // 2.8.0's claim looks its items up by their pre-`experimental.` names: never claims.
    qx_selftest_masterguard => "selftest/masterguard.qx", expect OursOnly;
    qx_selftest_megatec_old => "selftest/megatec-old.qx";
    qx_selftest_megatec => "selftest/megatec.qx";
    qx_selftest_mustek => "selftest/mustek.qx";
    qx_selftest_omron => "selftest/omron.qx";
    // OMRON's claim needs its USB vendor id or the name (2.8.0 has no omron).
    qx_selftest_omron_named => "selftest/omron.qx", expect OursOnly, conf "  protocol = omron\n";
    qx_selftest_q1 => "selftest/q1.qx";
    qx_selftest_voltronic_axpert => "selftest/voltronic-axpert.qx", expect OursOnly, wire AxpertCrc;
    qx_selftest_voltronic_qs_hex => "selftest/voltronic-qs-hex.qx";
    qx_selftest_voltronic_qs => "selftest/voltronic-qs.qx";
    qx_selftest_voltronic => "selftest/voltronic.qx";
    // No Q1 answer: NUT master's q2/q6 claims need Q1 as well as Q2/Q6 and WA.
    qx_doc_megatec_extended => "protocol-docs/megatec-extended-queries.qx", expect BothRefuse;
    qx_doc_megatec_q1 => "protocol-docs/megatec-q1.qx";
    qx_doc_voltronic_examples => "protocol-docs/voltronic-examples.qx";
    // QGS only: Voltronic's claim (2.8.0 and master) needs QPI too.
    qx_doc_voltronic_qgs => "protocol-docs/voltronic-qgs.qx", expect BothRefuse;
    qx_doc_voltronic_qs_v => "protocol-docs/voltronic-qs-V-protocol.qx";
    qx_doc_voltronic_qs_hex_p => "protocol-docs/voltronic-qs-hex-P-protocol.qx";
    qx_capture_armac => "device-captures/armac_vultech-gs-1kvas-rk.qx";
    qx_capture_ts_shara => "device-captures/megatec_ts-shara-4450.qx";
    qx_capture_mustek => "device-captures/mustek_viewpower-micro-ups-3000.qx";
    // USB string descriptors, no serial queries: served over USB only
    // (tests/qx_usb.rs).
    qx_capture_frys => "device-captures/usb-string-descriptor_frys-mec0003.qx", expect BothRefuse;
    // QGS only: Voltronic's claim (2.8.0 and master) needs QPI too.
    qx_capture_voltronic_qgs => "device-captures/voltronic_qgs-cypress-usb.qx", expect BothRefuse;
}

#[test]
fn qx_selftest_innovart31_newer_than_2_8_0() {
    newer("selftest/innovart31.qx");
}

#[test]
fn qx_selftest_q6_newer_than_2_8_0() {
    newer("selftest/q6.qx");
}

macro_rules! blazer_cases {
    ($($name:ident => $file:literal,)*) => {$(
        #[test]
        fn $name() {
            compare($file, "blazer_ser", OURS_BLAZER, &[], Outcome::Same, Wire::Plain, "");
        }
    )*};
}

blazer_cases! {
    blazer_selftest_megatec => "selftest/megatec.qx",
    blazer_selftest_megatec_old => "selftest/megatec-old.qx",
    blazer_selftest_mustek => "selftest/mustek.qx",
    blazer_selftest_q1 => "selftest/q1.qx",
    blazer_doc_megatec_q1 => "protocol-docs/megatec-q1.qx",
    blazer_capture_ts_shara => "device-captures/megatec_ts-shara-4450.qx",
    blazer_capture_mustek => "device-captures/mustek_viewpower-micro-ups-3000.qx",
}

#[test]
fn data_files_are_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/qx");
    assert!(dir.join("README.md").exists());
}

/// Time to data, CPU per poll and resident memory of ours and Debian's
/// `nutdrv_qx` on the same simulated device (the megatec self-test table),
/// side by side. Run by hand: see benches/README.md.
#[test]
#[ignore = "measurement, run by hand (benches/README.md)"]
fn bench_side_by_side() {
    use nut_testkit::procstat::{cpu_ns, rss_kib as rss_kb};
    use std::time::Instant;
    let lines = qxfile::load("selftest/megatec.qx");
    let window = Duration::from_secs(60);
    let mut rows = Vec::new();
    for (who, exe) in [("ours", OURS_QX.to_string()), ("nut", "/lib/nut/nutdrv_qx".to_string())] {
        let pty = PtySerial::start(qxfile::script(&lines), PtyOptions::default()).unwrap();
        let conf = format!(
            "[b]\n  driver = nutdrv_qx\n  port = {}\n  pollinterval = 2\n",
            pty.path().display()
        );
        let mut s = Setup::new(&conf);
        s.upsd();
        let t0 = Instant::now();
        assert!(start_driver(&mut s, &exe, "nutdrv_qx", "b"));
        s.upsc_ready("b");
        let to_data = t0.elapsed();
        let pid = s.procs.last().unwrap().pid();
        let c0 = cpu_ns(pid);
        let q0 = pty.control().asked("Q1");
        std::thread::sleep(window);
        let polls = (pty.control().asked("Q1") - q0).max(1) as u64;
        let cpu_ms = (cpu_ns(pid) - c0) as f64 / 1e6;
        let rss = rss_kb(pid);
        rows.push(format!(
            "| {who} | {:.2} s | {:.3} ms ({} polls, {:.1} ms CPU) | {} kB |",
            to_data.as_secs_f64(),
            cpu_ms / polls as f64,
            polls,
            cpu_ms,
            rss
        ));
    }
    // The poll's one exchange alone (no driver around it).
    let pty = PtySerial::start(qxfile::script(&lines), PtyOptions::default()).unwrap();
    let (q, every): (&[&[u8]], Duration) = (&[b"Q1\r"], Duration::from_secs(2));
    let floor = nut_testkit::procstat::exchange_floor_ns(pty.path(), &[], q, b'\r', every, 30);
    let floor_proc = nut_testkit::procstat::exchange_floor_in_child(
        "exchange_floor_child",
        pty.path(),
        &[],
        q,
        b'\r',
        every,
        30,
    );
    for (what, ns) in [("a thread of the test", floor), ("a process", floor_proc)] {
        let ms = ns.unwrap() as f64 / 1e6;
        rows.push(format!("| the `Q1` exchange alone, {what} | | {ms:.3} ms (30 polls) | |"));
    }
    println!("| driver | start to data | CPU per poll | RSS |\n|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}

/// The child of `bench_side_by_side`'s floor loop in a process of its own
/// (does nothing when run otherwise).
#[test]
#[ignore = "started by bench_side_by_side"]
fn exchange_floor_child() {
    nut_testkit::procstat::exchange_floor_child();
}
