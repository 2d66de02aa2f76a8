//! `ReplayHid` and `Faulty` against the committed `.hid` files in
//! `data/hid`, checked against what NUT 2.8.0's `usbhid-ups` read from the
//! same simulated devices (`data/hid/nut-2.8.0/*.upsc`) and against values
//! worked out by hand from the descriptors.

use nut_driver::transport::{HidLink, LinkError, ReportType, UsbIds};
use nut_testkit::hid::{
    Faulty, HidFile, Interrupt, ReplayHid, ReplayOptions, ReportSizes, Sequence, StringFault,
    SynthLength, Unlogged, synth,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/hid").join(name)
}

fn open(name: &str) -> ReplayHid {
    ReplayHid::from_file(data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn open_with(name: &str, opts: ReplayOptions) -> ReplayHid {
    ReplayHid::from_file_with(data(name), opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `upsc` output NUT 2.8.0 produced for the same simulated device.
fn upsc(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(data(&format!("nut-2.8.0/{name}.upsc"))).expect("read upsc");
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn get(dev: &mut impl HidLink, kind: ReportType, id: u8, len: usize) -> Result<Vec<u8>, LinkError> {
    let mut buf = vec![0u8; len];
    let n = dev.get_report(kind, id, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn header_len(name: &str) -> usize {
    let text = std::fs::read_to_string(data(name)).unwrap();
    HidFile::parse(&text).header("descriptor-length").unwrap().parse().unwrap()
}

#[test]
fn usb_ids_and_strings_match_what_nut_read() {
    // (file, VID, PID, bcdDevice) from the @usb/@bcd-device lines and the
    // fallback rules; strings against NUT 2.8.0's upsc output.
    for (name, vid, pid, bcd) in [
        ("cyberpower-cp-1500c_issue2997", 0x0764, 0x0501, 0x0001),
        ("tripplite-09ae-3016_issue414", 0x09ae, 0x3016, 0x0002),
        ("eaton-3s-700_issue2887", 0x0463, 0xffff, 0x0100),
        // @usb "not stated", @nut-subdriver MGE: 0463:ffff; no @bcd-device.
        ("santak-tg-box-850", 0x0463, 0xffff, 0x0100),
        ("liebert-gxt4_issue1346", 0x10af, 0x0000, 0x0000),
    ] {
        let mut dev = open(&format!("{name}.hid"));
        let nut = upsc(name);
        let ids = dev.ids().clone();
        assert_eq!((ids.vendor_id, ids.product_id, ids.bcd_device), (vid, pid, bcd), "{name}");
        assert_eq!(nut["ups.vendorid"], format!("{:04x}", vid), "{name}");
        // Liebert's productid comes from the `productid` option NUT needed.
        if !name.starts_with("liebert") {
            assert_eq!(nut["ups.productid"], format!("{:04x}", pid), "{name}");
        }
        assert_eq!(ids.vendor.as_deref(), Some(nut["device.mfr"].as_str()), "{name}");
        assert_eq!(ids.serial.as_deref(), Some(nut["device.serial"].as_str()), "{name}");
        // NUT appends the iModel string to some products ("3S 700 str11").
        let product = ids.product.clone().unwrap();
        assert!(nut["device.model"].starts_with(&product), "{name}: {product}");
        assert_eq!(dev.string(1).unwrap(), nut["device.mfr"], "{name}");
        assert_eq!(dev.string(2).unwrap(), product, "{name}");
        assert_eq!(dev.string(3).unwrap(), nut["device.serial"], "{name}");
        assert_eq!(ids.bus.as_deref(), Some("001"));
        assert_eq!(ids.device.as_deref(), Some("002"));
    }
}

#[test]
fn derived_strings_of_unusual_device_lines() {
    // "UPS with VID:PID 5131:2007 (no product string)": no manufacturer
    // (starts with "UPS"), no product.
    let mut dev = open("hid-ups-5131-2007_issue3227.hid");
    assert_eq!(
        *dev.ids(),
        UsbIds {
            vendor_id: 0x5131,
            product_id: 0x2007,
            bcd_device: 0,
            vendor: None,
            product: None,
            serial: Some("FAKEUSB5B4D0D6C".into()),
            bus: Some("001".into()),
            device: Some("002".into()),
            busport: Some("001".into()),
        }
    );
    assert!(matches!(dev.string(1), Err(LinkError::Stall)));
    assert!(matches!(dev.string(2), Err(LinkError::Stall)));
    assert!(matches!(dev.string(0), Err(LinkError::Io(_))));
    // Arduino: only a VID (2341), so the Leonardo's PID; the product is the
    // rest of @device without its parenthesised part.
    let dev = open("arduino-hidpowerdevice.hid");
    assert_eq!((dev.ids().vendor_id, dev.ids().product_id), (0x2341, 0x8036));
    assert_eq!(dev.ids().vendor.as_deref(), Some("Arduino"));
    assert_eq!(dev.ids().product.as_deref(), Some("board running the HIDPowerDevice library"));
}

#[test]
fn extra_string_indexes_are_synthetic() {
    // NUT read battery.type from the string index in a synthetic report.
    let nut = upsc("cyberpower-cp-1500c_issue2997");
    let mut dev = open("cyberpower-cp-1500c_issue2997.hid");
    assert_eq!(nut["battery.type"], "str62");
    assert_eq!(dev.string(62).unwrap(), "str62");
    let mut dev = open_with(
        "cyberpower-cp-1500c_issue2997.hid",
        ReplayOptions { extra_strings_stall: true, ..Default::default() },
    );
    assert!(matches!(dev.string(62), Err(LinkError::Stall)));
    dev.set_string(62, Some("PbAc"));
    assert_eq!(dev.string(62).unwrap(), "PbAc");
}

#[test]
fn descriptor_bytes() {
    for name in [
        "liebert-gxt4_issue1346.hid",
        "hid-ups-5131-2007_issue3227.hid",
        "arduino-hidpowerdevice.hid",
        "cyberpower-cp-1500c_issue2997.hid",
        "tripplite-09ae-3016_issue414.hid",
        "santak-tg-box-850.hid",
    ] {
        let d = open(name).report_descriptor().unwrap();
        assert_eq!(d.len(), header_len(name), "{name}");
        // Usage Page (Power Device), Usage (UPS), Collection (Application)
        // ... End Collection.
        assert_eq!(&d[..6], &[0x05, 0x84, 0x09, 0x04, 0xa1, 0x01], "{name}");
        assert_eq!(d.last(), Some(&0xc0), "{name}");
    }
    // The Eaton file names the SANTAK file for its descriptor.
    let eaton = open("eaton-3s-700_issue2887.hid").report_descriptor().unwrap();
    let santak = open("santak-tg-box-850.hid").report_descriptor().unwrap();
    assert_eq!(eaton.len(), 926);
    assert_eq!(eaton, santak);
    // Without the folder, the reference cannot be followed.
    let text = std::fs::read_to_string(data("eaton-3s-700_issue2887.hid")).unwrap();
    assert!(ReplayHid::parse(&text, ReplayOptions::default()).is_err());
}

#[test]
fn report_sizes_by_hand() {
    // Lengths worked out from the descriptor items (Report Size x Count per
    // type and ID, +1 for the ID byte).
    let d = open("hid-ups-5131-2007_issue3227.hid").report_descriptor().unwrap();
    let s = ReportSizes::parse(&d);
    assert!(s.uses_ids());
    assert_eq!(s.len(ReportType::Input, 0x0b), Some(7));
    assert_eq!(s.len(ReportType::Feature, 0x0b), Some(23));
    // No Output items: the largest type.
    assert_eq!(s.len(ReportType::Output, 0x0b), Some(23));
    assert_eq!(s.len(ReportType::Feature, 0x0c), None);
    assert_eq!(s.input_ids(), vec![0x0b]);
    // Push/Pop, long items and a descriptor without report IDs.
    let d = [
        0x75, 0x08, 0x95, 0x03, // size 8, count 3
        0xa4, // push
        0x75, 0x10, 0x95, 0x01, // size 16, count 1
        0x81, 0x02, // Input: 16 bits
        0xb4, // pop: size 8, count 3
        0xfe, 0x02, 0x10, 0xaa, 0xbb, // long item
        0x81, 0x02, // Input: 24 bits
        0xb1, 0x02, // Feature: 24 bits
    ];
    let s = ReportSizes::parse(&d);
    assert!(!s.uses_ids());
    assert_eq!(s.bits(ReportType::Input, 0), 40);
    assert_eq!(s.len(ReportType::Input, 0), Some(5));
    assert_eq!(s.len(ReportType::Feature, 0), Some(3));
    // Truncated input never panics.
    for n in 0..d.len() {
        let _ = ReportSizes::parse(&d[..n]);
    }
}

#[test]
fn logged_reports() {
    let mut dev = open("liebert-gxt4_issue1346.hid");
    // Logged: returned as logged, whatever the descriptor says.
    assert_eq!(get(&mut dev, ReportType::Feature, 0x06, 64).unwrap(), [0x06, 0x64]);
    assert_eq!(get(&mut dev, ReportType::Input, 0x06, 64).unwrap(), [0x06, 0x64]);
    assert_eq!(get(&mut dev, ReportType::Feature, 0x03, 64).unwrap(), [3, 0xff, 0xff, 0xff, 6]);
    // Cut to the buffer.
    assert_eq!(get(&mut dev, ReportType::Feature, 0x03, 2).unwrap(), [3, 0xff]);
    // NUT decoded battery.charge 100 from report 0x06.
    assert_eq!(upsc("liebert-gxt4_issue1346")["battery.charge"], "100");
}

#[test]
fn synthetic_reports_equal_hand_computed_bytes() {
    // Values computed by hand with the published mix.
    assert_eq!(
        [synth(8, 1), synth(8, 2), synth(8, 3), synth(8, 4), synth(8, 5)],
        [0x4f, 0x56, 0x57, 0xcc, 0x4c]
    );
    assert_eq!([synth(0, 1), synth(0, 2), synth(0, 3)], [0xf7, 0x35, 0x44]);
    // CP 1500C Feature 0x08: 40 bits + the ID byte; unlogged.
    let mut dev = open("cyberpower-cp-1500c_issue2997.hid");
    let r = get(&mut dev, ReportType::Feature, 0x08, 64).unwrap();
    assert_eq!(r, [0x08, 0x4f, 0x56, 0x57, 0xcc, 0x4c]);
    // And NUT 2.8.0 decoded exactly these bytes: RemainingCapacity (byte 1)
    // and RunTimeToEmpty (bytes 2-3, little-endian).
    let nut = upsc("cyberpower-cp-1500c_issue2997");
    assert_eq!(nut["battery.charge"], r[1].to_string());
    assert_eq!(nut["battery.runtime"], u16::from_le_bytes([r[2], r[3]]).to_string());
    // Shorter buffers see the same prefix.
    assert_eq!(get(&mut dev, ReportType::Feature, 0x08, 3).unwrap(), [0x08, 0x4f, 0x56]);
    // 5131:2007 report 0x0b: 7 bytes as Input, 23 as Feature.
    let mut dev = open("hid-ups-5131-2007_issue3227.hid");
    assert_eq!(
        get(&mut dev, ReportType::Input, 0x0b, 64).unwrap(),
        [0x0b, 0x30, 0xd7, 0x25, 0xc0, 0x91, 0xd2]
    );
    let f = get(&mut dev, ReportType::Feature, 0x0b, 64).unwrap();
    assert_eq!(f.len(), 23);
    assert_eq!(&f[17..], &[0xe0, 0x4d, 0x2d, 0x5f, 0xdf, 0xce]);
    // Zero mode: same length, zero data.
    let mut dev = open_with(
        "hid-ups-5131-2007_issue3227.hid",
        ReplayOptions { unlogged: Unlogged::Zero, ..Default::default() },
    );
    assert_eq!(get(&mut dev, ReportType::Input, 0x0b, 64).unwrap(), [0x0b, 0, 0, 0, 0, 0, 0]);
    // Request-length mode: the caller's length, undefined IDs answered.
    let mut dev = open_with(
        "hid-ups-5131-2007_issue3227.hid",
        ReplayOptions { synth_length: SynthLength::Request, ..Default::default() },
    );
    assert_eq!(get(&mut dev, ReportType::Feature, 0x0b, 3).unwrap(), [0x0b, 0x30, 0xd7]);
    assert_eq!(get(&mut dev, ReportType::Feature, 0x44, 2).unwrap().len(), 2);
}

#[test]
fn undefined_ids_and_stall_mode() {
    let mut dev = open("liebert-gxt4_issue1346.hid");
    // 0x0a is not in the descriptor.
    assert!(matches!(get(&mut dev, ReportType::Feature, 0x0a, 64), Err(LinkError::Stall)));
    // 0x05 is defined (4 bytes of data) but not logged.
    assert_eq!(get(&mut dev, ReportType::Feature, 0x05, 64).unwrap(), [5, 0xdc, 0x37, 0x52, 0xe9]);
    let mut dev = open_with(
        "liebert-gxt4_issue1346.hid",
        ReplayOptions { unlogged: Unlogged::Stall, ..Default::default() },
    );
    assert!(matches!(get(&mut dev, ReportType::Feature, 0x05, 64), Err(LinkError::Stall)));
    // Logged IDs still answer.
    assert_eq!(get(&mut dev, ReportType::Feature, 0x06, 64).unwrap(), [0x06, 0x64]);
}

#[test]
fn set_then_get() {
    let mut dev = open("liebert-gxt4_issue1346.hid");
    assert_eq!(dev.set_report(ReportType::Feature, 0x13, &[0x13, 0x1e]).unwrap(), 2);
    // Any type of that ID now reads the stored bytes.
    assert_eq!(get(&mut dev, ReportType::Feature, 0x13, 64).unwrap(), [0x13, 0x1e]);
    assert_eq!(get(&mut dev, ReportType::Input, 0x13, 64).unwrap(), [0x13, 0x1e]);
    // Even an ID the descriptor does not define.
    dev.set_report(ReportType::Output, 0x0a, &[0x0a, 1, 2]).unwrap();
    assert_eq!(get(&mut dev, ReportType::Feature, 0x0a, 64).unwrap(), [0x0a, 1, 2]);
}

#[test]
fn sequence_modes() {
    // Report 0x07 was logged twice (PercentLoad 7, then 8).
    let first = [7, 2, 2, 1, 0, 9, 7, 2];
    let second = [7, 2, 2, 1, 0, 9, 8, 2];
    let mut dev = open("eaton-3s-700_issue2887.hid");
    for _ in 0..3 {
        assert_eq!(get(&mut dev, ReportType::Feature, 7, 64).unwrap(), first);
    }
    let mut dev = open_with(
        "eaton-3s-700_issue2887.hid",
        ReplayOptions { sequence: Sequence::Step, ..Default::default() },
    );
    let seen: Vec<_> = (0..4).map(|_| get(&mut dev, ReportType::Feature, 7, 64).unwrap()).collect();
    assert_eq!(seen, [first.to_vec(), second.to_vec(), second.to_vec(), second.to_vec()]);
    let mut dev = open_with(
        "eaton-3s-700_issue2887.hid",
        ReplayOptions { sequence: Sequence::Cycle, ..Default::default() },
    );
    let seen: Vec<_> = (0..4).map(|_| get(&mut dev, ReportType::Feature, 7, 64).unwrap()).collect();
    assert_eq!(seen, [first.to_vec(), second.to_vec(), first.to_vec(), second.to_vec()]);
}

#[test]
fn err_lines_only_without_better_ones() {
    let text = "@usb: 0001:0002\n[descriptor]\n85 01 75 08 95 02 b1 02\n[reports]\n\
                err 01: 01 ee ee ee\nget 01: 01 02 03\nerr 02: 02 ff\n";
    let f = HidFile::parse(text);
    assert_eq!(f.reports[&1], vec![vec![1, 2, 3]]);
    assert_eq!(f.reports[&2], vec![vec![2, 0xff]]);
    let mut dev = ReplayHid::parse(text, ReplayOptions::default()).unwrap();
    assert_eq!(get(&mut dev, ReportType::Feature, 1, 8).unwrap(), [1, 2, 3]);
    assert_eq!(get(&mut dev, ReportType::Feature, 2, 8).unwrap(), [2, 0xff]);
    // No descriptor: no device.
    assert!(ReplayHid::parse("@usb: 0001:0002\n", ReplayOptions::default()).is_err());
}

#[test]
fn interrupt_pipe() {
    // Default: nothing, Timeout at once even with a far deadline.
    let mut dev = open("santak-tg-box-850.hid");
    let t0 = Instant::now();
    let mut buf = [0u8; 64];
    let far = t0 + Duration::from_secs(30);
    assert!(matches!(dev.read_interrupt(&mut buf, far), Err(LinkError::Timeout)));
    assert!(t0.elapsed() < Duration::from_secs(5));
    // Logged: the first logged line of each logged ID with Input items
    // (SANTAK: 01, 02, 03, 06 have Input items; 01 and 06 are logged).
    let mut dev = open_with(
        "santak-tg-box-850.hid",
        ReplayOptions { interrupt: Interrupt::Logged, ..Default::default() },
    );
    let n = dev.read_interrupt(&mut buf, far).unwrap();
    assert_eq!(&buf[..n], &[0x01, 0x25, 0x00, 0x00]);
    let n = dev.read_interrupt(&mut buf, far).unwrap();
    assert_eq!(&buf[..n], &[0x06, 0x64, 0xe0, 0x04, 0x00, 0x00]);
    assert!(matches!(dev.read_interrupt(&mut buf, t0), Err(LinkError::Timeout)));
    // Sleeping mode: real time passes until the deadline.
    let mut dev = open_with(
        "santak-tg-box-850.hid",
        ReplayOptions { interrupt_sleeps: true, ..Default::default() },
    );
    let t1 = Instant::now();
    assert!(matches!(
        dev.read_interrupt(&mut buf, t1 + Duration::from_millis(50)),
        Err(LinkError::Timeout)
    ));
    assert!(t1.elapsed() >= Duration::from_millis(50));
}

#[test]
fn fault_disconnect_and_replug_while_the_driver_owns_the_link() {
    let link = Faulty::new(open("liebert-gxt4_issue1346.hid"));
    let ctl = link.control();
    ctl.disconnect_after(3);
    // The "driver" owns the link on another thread.
    let (tx, rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let driver = std::thread::spawn(move || {
        let mut link = link;
        let mut results = Vec::new();
        for _ in 0..5 {
            results.push(get(&mut link, ReportType::Feature, 0x06, 8).map_err(|e| e.to_string()));
        }
        tx.send(results).unwrap();
        go_rx.recv().unwrap();
        get(&mut link, ReportType::Feature, 0x06, 8).unwrap()
    });
    let results = rx.recv().unwrap();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    assert!(results[3].as_ref().unwrap_err().contains("disconnected"));
    assert!(ctl.is_unplugged());
    ctl.replug();
    go_tx.send(()).unwrap();
    assert_eq!(driver.join().unwrap(), [0x06, 0x64]);
    assert_eq!(ctl.calls(), 4);
}

#[test]
fn fault_kinds() {
    let mut link = Faulty::new(open("liebert-gxt4_issue1346.hid"));
    let ctl = link.control();
    // ids() never fails, everything else does while unplugged.
    ctl.unplug();
    assert_eq!(link.ids().vendor_id, 0x10af);
    assert!(matches!(link.report_descriptor(), Err(LinkError::Disconnected(_))));
    assert!(matches!(link.string(1), Err(LinkError::Disconnected(_))));
    ctl.replug();
    // STALL of chosen IDs.
    ctl.stall(0x06);
    assert!(matches!(get(&mut link, ReportType::Feature, 0x06, 8), Err(LinkError::Stall)));
    assert!(matches!(link.set_report(ReportType::Feature, 6, &[6, 1]), Err(LinkError::Stall)));
    assert_eq!(get(&mut link, ReportType::Feature, 0x03, 8).unwrap(), [3, 0xff, 0xff, 0xff, 6]);
    ctl.unstall(0x06);
    assert_eq!(get(&mut link, ReportType::Feature, 0x06, 8).unwrap(), [6, 0x64]);
    // Short reports.
    ctl.short_reports(Some(2));
    assert_eq!(get(&mut link, ReportType::Feature, 0x03, 8).unwrap(), [3, 0xff]);
    ctl.short_reports(None);
    // Over-long reports: stale bytes after the report, or an overflow.
    ctl.overlong_reports(Some(512));
    let r = get(&mut link, ReportType::Feature, 0x06, 1024).unwrap();
    assert_eq!(r.len(), 512);
    assert_eq!(&r[..2], &[6, 0x64]);
    assert!(r[2..].iter().all(|&b| b == 0xee));
    assert!(matches!(get(&mut link, ReportType::Feature, 0x06, 8), Err(LinkError::Overlong(8))));
    ctl.overlong_reports(None);
    // Garbage: same length and ID, other bytes.
    ctl.garbage(Some(7));
    let g = get(&mut link, ReportType::Feature, 0x03, 8).unwrap();
    assert_eq!(g.len(), 5);
    assert_eq!(g[0], 3);
    assert_ne!(&g[1..], &[0xff, 0xff, 0xff, 6]);
    ctl.garbage(None);
    // Strings a backend cannot decode.
    ctl.bad_strings(Some(StringFault::Error));
    assert!(matches!(link.string(1), Err(LinkError::Io(_))));
    ctl.bad_strings(Some(StringFault::Lossy));
    let s = link.string(1).unwrap();
    assert!(s.starts_with("Liebert") && s.contains('\u{FFFD}'));
    ctl.bad_strings(None);
    // A device that never answers.
    ctl.mute(true);
    let t0 = Instant::now();
    let far = t0 + Duration::from_secs(30);
    let mut buf = [0u8; 8];
    assert!(matches!(link.read_interrupt(&mut buf, far), Err(LinkError::Timeout)));
    assert!(matches!(get(&mut link, ReportType::Feature, 6, 8), Err(LinkError::Timeout)));
    assert!(matches!(link.report_descriptor(), Err(LinkError::Timeout)));
    assert!(matches!(link.string(2), Err(LinkError::Timeout)));
    assert!(t0.elapsed() < Duration::from_secs(5));
    ctl.clear();
    assert_eq!(link.string(2).unwrap(), "GXT4");
    assert_eq!(link.report_descriptor().unwrap().len(), 505);
}
