//! The mapping engine over recorded devices (`tests/data/*.hid`, the report bytes NUT
//! logged): report cache, quick and full walks, interrupt reports, SET and commands.
//! The full comparison with NUT 2.8.0's published variables is in
//! `nut-drivers/tests/usbhid.rs`; the decoding of every `[fields]` value NUT printed is
//! `corpus.rs` (`fields_equal_what_nut_printed`).

mod common;

use common::HidFile;
use nut_hid::mapping::{DeviceInfo, HidIo, IoError, Mapper, Options, Outcome, atol};
use nut_hid::{ReportType, UsageTables};
use nut_proto::publish::{Publish, Recorder};
use std::collections::BTreeMap;

/// A device answering the logged report bytes (zeros, at the descriptor length, for the
/// others), counting GET_REPORTs and keeping SET_REPORTs.
struct Dev {
    logged: BTreeMap<u8, Vec<u8>>,
    lens: BTreeMap<u8, usize>,
    gets: Vec<u8>,
    sets: Vec<(u8, Vec<u8>)>,
    gone: bool,
}

impl Dev {
    fn new(f: &HidFile, m: &Mapper) -> Dev {
        let mut logged = BTreeMap::new();
        for (how, id, bytes) in &f.reports {
            if how != "err" {
                logged.entry(*id).or_insert_with(|| bytes.clone());
            }
        }
        let lens = m.descriptor().nut_report_lens().collect();
        Dev { logged, lens, gets: Vec::new(), sets: Vec::new(), gone: false }
    }
}

impl HidIo for Dev {
    fn get_report(&mut self, _: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, IoError> {
        if self.gone {
            return Err(IoError::Disconnected);
        }
        self.gets.push(id);
        let data = match self.sets.iter().rev().find(|(i, _)| *i == id) {
            Some((_, d)) => d.clone(),
            None => self.logged.get(&id).cloned().unwrap_or_else(|| {
                let mut v = vec![0u8; self.lens.get(&id).copied().unwrap_or(2)];
                v[0] = id;
                v
            }),
        };
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
    fn set_report(&mut self, _: ReportType, id: u8, data: &[u8]) -> Result<usize, IoError> {
        self.sets.push((id, data.to_vec()));
        Ok(data.len())
    }
    fn string(&mut self, index: u8) -> Result<String, IoError> {
        Ok(format!("str{index}"))
    }
}

const ES_850G2: &str = "apc-back-ups-es-850g2_issue1304.hid";

fn setup(name: &str) -> (HidFile, Mapper, Dev, Recorder, DeviceInfo<'static>) {
    let f = HidFile::load(name);
    let info = DeviceInfo {
        vendor_id: f.vendor_id().unwrap(),
        product_id: f.product_id().unwrap(),
        vendor: Some("APC"),
        product: Some("Back-UPS ES 850G2 FW:931.a10.I USB FW:a10"),
        serial: Some("4B1234P12345"),
    };
    let m = Mapper::new(f.descriptor.as_ref().unwrap(), &info, &Options::default()).unwrap();
    let mut dev = Dev::new(&f, &m);
    let mut out = Recorder::new();
    let mut m = m;
    m.init(&mut dev, &info, &mut out).unwrap();
    (f, m, dev, out, info)
}

fn apc_tables() -> UsageTables {
    UsageTables::standard().with(nut_hid::usage::tables::APC)
}

#[test]
fn init_publishes_identity_and_logged_values() {
    let (f, m, _dev, out, _) = setup(ES_850G2);
    assert_eq!(m.subdriver().version, "APC HID 0.98");
    assert_eq!(out.getinfo("ups.model"), Some("Back-UPS ES 850G2"));
    assert_eq!(out.getinfo("ups.firmware"), Some("931.a10.I"));
    assert_eq!(out.getinfo("ups.firmware.aux"), Some("a10"));
    assert_eq!(out.getinfo("ups.vendorid"), Some("051d"));
    // battery.charge is RemainingCapacity: the value NUT logged for it.
    let logged = f
        .fields
        .iter()
        .find(|l| l.path == "UPS.PowerSummary.RemainingCapacity")
        .map(|l| format!("{:.0}", l.value))
        .unwrap();
    assert_eq!(out.getinfo("battery.charge"), Some(logged.as_str()));
}

#[test]
fn each_report_is_read_once_per_walk() {
    let (_f, mut m, mut dev, mut out, _) = setup(ES_850G2);
    dev.gets.clear();
    m.update(&mut dev, &mut out, true).unwrap();
    let mut seen = dev.gets.clone();
    seen.sort_unstable();
    let n = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), n, "a report was read twice in one walk: {:?}", dev.gets);
    assert!(n > 5);
    // A quick walk reads fewer reports: the quick-poll rows only.
    dev.gets.clear();
    m.update(&mut dev, &mut out, false).unwrap();
    assert!(!dev.gets.is_empty() && dev.gets.len() < n, "{:?}", dev.gets);
}

#[test]
fn interrupt_reports_change_the_status_at_once() {
    let (_f, mut m, mut dev, mut out, _) = setup(ES_850G2);
    m.update(&mut dev, &mut out, false).unwrap();
    assert!(out.getinfo("ups.status").unwrap().starts_with("OL"));
    // The Input item of ACPresent, as a report with every bit clear.
    let desc = m.descriptor().clone();
    let input = desc
        .fields()
        .iter()
        .find(|f| {
            f.report_type == ReportType::Input
                && f.path.last() == Some(0x0085_00d0)
                && desc.find(&f.path, ReportType::Feature).is_some()
        })
        .expect("an ACPresent input item");
    let mut report = vec![0u8; desc.nut_report_len(input.report_id).unwrap()];
    report[0] = input.report_id;
    assert!(m.handle_interrupt(&mut dev, &mut out, &report) > 0);
    m.publish_status(&mut out);
    assert!(
        out.getinfo("ups.status").unwrap().starts_with("OB"),
        "{:?}",
        out.getinfo("ups.status")
    );
}

#[test]
fn set_writes_the_report_and_forces_a_full_walk() {
    let (_f, mut m, mut dev, mut out, _) = setup(ES_850G2);
    assert_eq!(m.setvar(&mut dev, &mut out, "input.transfer.low", "170"), Outcome::Handled);
    assert!(m.data_has_changed());
    let (id, data) = dev.sets.last().cloned().unwrap();
    let field = m
        .descriptor()
        .find_str("UPS.Input.LowVoltageTransfer", &apc_tables(), ReportType::Feature)
        .unwrap();
    assert_eq!(field.report_id, id);
    assert_eq!(field.value(&data).unwrap(), 170.0);
    m.update(&mut dev, &mut out, false).unwrap();
    assert!(!m.data_has_changed());
    assert_eq!(out.getinfo("input.transfer.low"), Some("170"));
    // Unknown and read-only variables are refused; server-side ones only stored.
    assert_eq!(m.setvar(&mut dev, &mut out, "no.such", "1"), Outcome::Unknown);
    assert_eq!(m.setvar(&mut dev, &mut out, "battery.charge", "1"), Outcome::Unknown);
    let n = dev.sets.len();
    assert_eq!(m.setvar(&mut dev, &mut out, "ups.delay.shutdown", "90"), Outcome::Handled);
    assert_eq!(dev.sets.len(), n);
    assert_eq!(out.getinfo("ups.delay.shutdown"), Some("90"));
}

#[test]
fn commands_and_their_fallbacks() {
    let (_f, mut m, mut dev, mut out, _) = setup(ES_850G2);
    let tables = apc_tables();
    // The field of the first row of `name` whose path the device has (NUT's choice).
    let field = |m: &Mapper, name: &str| {
        m.subdriver()
            .rows_for(name)
            .find_map(|r| m.descriptor().find_str(r.path, &tables, ReportType::Feature))
            .unwrap()
            .clone()
    };
    // beeper.off is renamed beeper.disable when it has no row; here it has one (APC).
    assert_eq!(m.instcmd(&mut dev, &mut out, "beeper.disable", None), Outcome::Handled);
    let beeper = field(&m, "beeper.disable");
    let (id, data) = dev.sets.last().cloned().unwrap();
    assert_eq!((id, beeper.value(&data).unwrap()), (beeper.report_id, 1.0));
    // load.off falls back to load.off.delay 0.
    assert_eq!(m.instcmd(&mut dev, &mut out, "load.off", None), Outcome::Handled);
    let delay = field(&m, "load.off.delay");
    let (id, data) = dev.sets.last().cloned().unwrap();
    assert_eq!((id, delay.value(&data).unwrap()), (delay.report_id, 0.0));
    // No load.on.delay on this unit: shutdown.return cannot run, -k takes shutdown.reboot.
    assert_eq!(m.instcmd(&mut dev, &mut out, "shutdown.return", None), Outcome::Invalid);
    assert_eq!(m.shutdown(&mut dev, &mut out), Some("shutdown.reboot"));
    let reboot = field(&m, "shutdown.reboot");
    let (id, data) = dev.sets.last().cloned().unwrap();
    // The row's default, 10, written as is (this unit's logical range is 0..1, so it
    // reads back clamped; NUT writes the same bits).
    assert_eq!((id, reboot.raw_bits(&data).unwrap()), (reboot.report_id, 10));
    assert_eq!(m.instcmd(&mut dev, &mut out, "no.such.command", None), Outcome::Invalid);
}

#[test]
fn a_lost_device_stops_the_walk() {
    let (_f, mut m, mut dev, mut out, _) = setup(ES_850G2);
    dev.gone = true;
    assert_eq!(m.update(&mut dev, &mut out, true), Err(IoError::Disconnected));
}

#[test]
fn c_atol() {
    assert_eq!(atol("  42abc"), 42);
    assert_eq!(atol("-7"), -7);
    assert_eq!(atol("+3"), 3);
    assert_eq!(atol("x"), 0);
    assert_eq!(atol("99999999999999999999999"), i64::MAX);
}

/// RemainingCapacity in report `id`, ACPresent in report 2 (a minimal UPS).
fn small_descriptor(id: u8) -> Vec<u8> {
    vec![
        0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x09, 0x24, 0xa1, 0x00, 0x85, id, 0x05, 0x85, 0x09,
        0x66, 0x15, 0x00, 0x25, 0x64, 0x75, 0x08, 0x95, 0x01, 0xb1, 0x02, 0x05, 0x84, 0x09, 0x02,
        0xa1, 0x02, 0x85, 0x02, 0x05, 0x85, 0x09, 0xd0, 0x25, 0x01, 0xb1, 0x02, 0xc0, 0xc0, 0xc0,
    ]
}

#[test]
fn tripp_lite_1330_never_reads_report_0x54() {
    for (pid, id, read) in [(0x1330u16, 0x54u8, false), (0x1330, 0x53, true), (0x2005, 0x54, true)]
    {
        let info = DeviceInfo { vendor_id: 0x09ae, product_id: pid, ..Default::default() };
        let mut m = Mapper::new(&small_descriptor(id), &info, &Options::default()).unwrap();
        let mut dev = Dev {
            logged: BTreeMap::from([(id, vec![id, 55]), (2, vec![2, 1])]),
            lens: BTreeMap::new(),
            gets: Vec::new(),
            sets: Vec::new(),
            gone: false,
        };
        let mut out = Recorder::new();
        m.init(&mut dev, &info, &mut out).unwrap();
        m.update(&mut dev, &mut out, true).unwrap();
        assert_eq!(dev.gets.contains(&id), read, "{pid:04x} report {id:#x}: {:?}", dev.gets);
        assert_eq!(out.getinfo("battery.charge").is_some(), read);
        assert_eq!(out.getinfo("ups.status"), Some("OL"));
    }
}

#[test]
fn unclaimed_devices_and_named_subdrivers() {
    let info = DeviceInfo { vendor_id: 0x5131, product_id: 0x2007, ..Default::default() };
    let desc = small_descriptor(1);
    assert!(matches!(
        Mapper::new(&desc, &info, &Options::default()),
        Err(nut_hid::mapping::MappingError::NoSubdriver { .. })
    ));
    let opts = Options { subdriver: Some("apc".into()), ..Options::default() };
    assert_eq!(Mapper::new(&desc, &info, &opts).unwrap().subdriver().version, "APC HID 0.98");
    let opts = Options { subdriver: Some("nope".into()), ..Options::default() };
    assert!(Mapper::new(&desc, &info, &opts).is_err());
}
