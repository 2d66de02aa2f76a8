//! `nutdrv_qx` and `blazer_usb` over USB, in process: the drivers' USB
//! path (the device table picking the bridge framing, [`UsbBridgeLink`]
//! running each query through the framing on a [`UsbRaw`], the session or
//! blazer loop on top, run by `nut_driver::Driver`) against a UPS behind a
//! simulated bridge chip ([`nut_testkit::usb_bridge::BridgeDouble`])
//! answering from `tests/data/qx/` files.
#![cfg(feature = "usb")]

#[allow(dead_code, unreachable_pub)]
mod qxfile;

use nut_driver::transport::{LinkError, UsbIds};
use nut_driver::{Driver, DriverConfig, Dstate};
use nut_drivers::blazer::{Blazer, BlazerSettings};
use nut_drivers::qx::{Open, Qx, UsbBridgeLink};
use nut_drivers::usb::{RawTransport, UsbRaw};
use nut_megatec::Config;
use nut_megatec::usb::{
    BLAZER_USB_DEVICES, Framing, NUTDRV_QX_DEVICES, Transfer, TransferResult, match_device,
};
use nut_testkit::serial::SerialControl;
use nut_testkit::usb_bridge::{BridgeDouble, Chip, Logged};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The chip, shared between the test and every link the driver opens.
#[derive(Clone)]
struct Shared(Arc<Mutex<BridgeDouble>>);

impl RawTransport for Shared {
    fn transfer(&mut self, t: &Transfer) -> Result<TransferResult, LinkError> {
        let mut chip = self.0.lock().unwrap();
        let r = match t {
            Transfer::ControlOut { request_type, request, value, index, data, .. } => chip
                .control_out(*request_type, *request, *value, *index, data)
                .map(TransferResult::Done),
            Transfer::InterruptIn { endpoint, length, .. } => {
                chip.interrupt_in(*endpoint, *length).map(TransferResult::Data)
            }
            Transfer::GetString { index, langid, .. } => {
                chip.string(*index, *langid).map(TransferResult::Data)
            }
            Transfer::Sleep { .. } => Ok(TransferResult::Done(0)),
            _ => Err(LinkError::Stall),
        };
        // As UsbRaw reports libusb's outcomes: a lost device is an error,
        // the rest are results for the framing to judge.
        match r {
            Ok(r) => Ok(r),
            Err(LinkError::Timeout) => Ok(TransferResult::Timeout),
            Err(LinkError::Stall) => Ok(TransferResult::Stall),
            Err(e @ LinkError::Disconnected(_)) => Err(e),
            Err(_) => Ok(TransferResult::Error(-1)),
        }
    }
}

/// A UPS answering from `file` behind a `chip` with USB ids
/// `vendor:product`; the framing is the one the driver's device table
/// (`table`) gives those ids.
struct Rig {
    chip: Shared,
    line: SerialControl,
    open: Option<Open<UsbBridgeLink>>,
}

fn rig(file: &str, chip: Chip, ids: (u16, u16), table: &[nut_megatec::usb::DeviceId]) -> Rig {
    let lines = qxfile::load(file);
    let double = BridgeDouble::new(chip, qxfile::script(&lines));
    let line = double.control();
    let chip = Shared(Arc::new(Mutex::new(double)));
    let usb_ids = UsbIds { vendor_id: ids.0, product_id: ids.1, ..UsbIds::default() };
    let framing: Framing = match_device(table, ids.0, ids.1, None, None).expect("a known device");
    let shared = chip.clone();
    let open: Open<UsbBridgeLink> = Box::new(move || {
        let dev = UsbRaw::with_transport(Box::new(shared.clone()), usb_ids.clone());
        Ok(UsbBridgeLink::new(dev, framing))
    });
    Rig { chip, line, open: Some(open) }
}

impl Rig {
    fn log(&self) -> Vec<Logged> {
        self.chip.0.lock().unwrap().log().to_vec()
    }
    fn qx(&mut self, config: Config) -> Driver<Qx<UsbBridgeLink>> {
        let qx = Qx::new(self.open.take().unwrap(), config);
        let mut d = Driver::new(
            qx,
            Dstate::new(),
            DriverConfig::with_poll_interval(Duration::from_secs(2)),
        );
        d.start(Instant::now()).expect("the driver starts");
        d
    }
}

fn get<D: nut_driver::Device>(d: &Driver<D>, var: &str) -> Option<String> {
    d.dstate().getinfo(var).map(str::to_string)
}

/// What `selftest/megatec.qx` publishes (the megatec protocol's values).
fn assert_megatec_values<D: nut_driver::Device>(d: &Driver<D>) {
    assert_eq!(get(d, "input.voltage").as_deref(), Some("215.0"));
    assert_eq!(get(d, "output.voltage").as_deref(), Some("230.0"));
    assert_eq!(get(d, "battery.voltage").as_deref(), Some("22.70"));
    assert_eq!(get(d, "input.frequency").as_deref(), Some("49.0"));
    assert_eq!(get(d, "ups.status").as_deref(), Some("OL"));
}

#[test]
fn nutdrv_qx_over_cypress_autodetects_and_publishes() {
    let mut r = rig("selftest/megatec.qx", Chip::Cypress, (0x0665, 0x5161), NUTDRV_QX_DEVICES);
    let d = r.qx(Config::default());
    assert_eq!(get(&d, "driver.version.data").as_deref(), Some("Megatec 0.06"));
    assert_megatec_values(&d);
    assert_eq!(get(&d, "ups.firmware").as_deref(), Some("TESTING"));
    let log = r.log();
    // Every query went out as 8-byte SET_REPORTs, NUL-padded.
    let q1 = Logged::ControlOut(0x21, 0x09, 0x0200, b"Q1\r\0\0\0\0\0".to_vec());
    assert!(log.contains(&q1), "no Q1 report: {log:?}");
    assert!(log.iter().all(|l| match l {
        Logged::ControlOut(_, _, _, data) => data.len() == 8,
        Logged::InterruptIn(_, data) => data.len() <= 8,
        Logged::String(..) => false,
    }));
    // The 47-byte status answer came back in 8-byte interrupt reports.
    let first = Logged::InterruptIn(0x81, b"(215.0 1".to_vec());
    assert!(log.contains(&first), "{log:?}");
    assert!(r.line.asked("Q1") >= 2);
}

#[test]
fn nutdrv_qx_over_armac_reassembles_the_reports() {
    let mut r = rig("selftest/megatec.qx", Chip::Armac, (0x0925, 0x1234), NUTDRV_QX_DEVICES);
    let mut config = Config::default();
    config.set("protocol", Some("megatec")).unwrap();
    let d = r.qx(config);
    assert_eq!(get(&d, "driver.version.data").as_deref(), Some("Megatec 0.06"));
    assert_megatec_values(&d);
    let log = r.log();
    // The query in 3-byte chunks behind a 0xa0 + n byte.
    let q1 = Logged::ControlOut(0x21, 0x09, 0x0200, b"\xa3Q1\r".to_vec());
    assert!(log.contains(&q1), "{log:?}");
    // Reports of 5 bytes with the toggle bit alternating.
    let heads: Vec<u8> = log
        .iter()
        .filter_map(|l| match l {
            Logged::InterruptIn(_, data) => data.first().copied(),
            _ => None,
        })
        .collect();
    assert!(heads.contains(&0x85) && heads.contains(&0xa5), "{heads:x?}");
}

#[test]
fn blazer_usb_over_krauler_reads_string_descriptors() {
    let mut r = rig("selftest/megatec.qx", Chip::Krauler, (0x0001, 0x0000), BLAZER_USB_DEVICES);
    let params = nut_driver::params::DriverParams::new("blazer_usb", "ups");
    let blazer = Blazer::new(r.open.take().unwrap(), BlazerSettings::from_params(&params).unwrap());
    let mut d = Driver::new(
        blazer,
        Dstate::new(),
        DriverConfig::with_poll_interval(Duration::from_secs(2)),
    );
    d.start(Instant::now()).expect("blazer_usb starts");
    assert_eq!(get(&d, "input.voltage").as_deref(), Some("215.0"));
    assert_eq!(get(&d, "ups.status").as_deref(), Some("OL"));
    assert_eq!(get(&d, "ups.mfr").as_deref(), Some("NOT_A_LIVE_UPS"));
    let log = r.log();
    assert!(log.contains(&Logged::String(0x03, None)), "Q1 is string 3: {log:?}");
    assert!(log.contains(&Logged::String(0x0c, None)), "I is string 12: {log:?}");
    // Only string reads crossed the bus.
    assert!(log.iter().all(|l| matches!(l, Logged::String(..))));
}

#[test]
fn a_vanished_usb_device_makes_the_data_stale_until_it_is_back() {
    let mut r = rig("selftest/megatec.qx", Chip::Cypress, (0x0665, 0x5161), NUTDRV_QX_DEVICES);
    let mut config = Config::default();
    config.set("protocol", Some("megatec")).unwrap();
    let mut d = r.qx(config);
    assert!(!d.dstate().is_stale());
    let mut now = Instant::now();
    r.line.disconnect();
    for _ in 0..3 {
        now += Duration::from_secs(31);
        d.handle_timeout(now);
    }
    assert!(d.dstate().is_stale(), "data not stale with the device gone");
    assert_eq!(get(&d, "input.voltage").as_deref(), Some("215.0"), "a value changed");
    r.line.reconnect();
    for _ in 0..3 {
        now += Duration::from_secs(31);
        d.handle_timeout(now);
    }
    assert!(!d.dstate().is_stale(), "still stale with the device back");
    assert_megatec_values(&d);
}
