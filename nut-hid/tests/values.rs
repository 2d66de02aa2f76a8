//! NUT's value extraction and scaling: the vectors of NUT's own unit tests
//! (tests/data/nut-unit-vectors.txt) and the CyberPower descriptor fix-up.

mod common;

use common::{HidFile, data_dir, hex};
use nut_hid::fixup::{LiebertFixVersion, LiebertVoltageFix, cyberpower_fix};
use nut_hid::usage::tables;
use nut_hid::{Field, ReportDescriptor, ReportType, UsageTables};

fn sections() -> Vec<(String, Vec<Vec<String>>)> {
    let text = std::fs::read_to_string(data_dir().join("nut-unit-vectors.txt")).unwrap();
    let mut out: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((s.to_string(), Vec::new()));
        } else if let Some((_, rows)) = out.last_mut() {
            rows.push(line.split('|').map(|c| c.trim().to_string()).collect());
        }
    }
    out
}

fn rows(name: &str) -> Vec<Vec<String>> {
    sections().into_iter().find(|(s, _)| s == name).map(|(_, r)| r).unwrap()
}

/// A field built from a vector row (report ID byte first, offsets after it).
fn vector_field(offset: u8, size: u8, logmin: i64, logmax: i64) -> Field {
    let desc = ReportDescriptor::parse(&[
        0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x85, 0x01, 0x75, 0x08, 0x95, 0x01, 0x09, 0x30, 0xb1,
        0x02, 0xc0,
    ])
    .unwrap();
    let mut f = desc.fields()[0].clone();
    f.bit_offset = offset;
    f.bit_size = size;
    f.logical_min = logmin;
    f.logical_max = logmax;
    f
}

#[test]
fn getvalue_vectors() {
    let rows = rows("getvalue");
    assert_eq!(rows.len(), 20);
    for r in rows {
        let buf = hex(&r[0]);
        let f = vector_field(
            r[1].parse().unwrap(),
            r[2].parse().unwrap(),
            r[3].parse().unwrap(),
            r[4].parse().unwrap(),
        );
        let expected: i64 = r[5].parse().unwrap();
        assert_eq!(f.extract(&buf), Ok(expected), "{r:?}");
        // Writing the value back gives bytes that read the same.
        let mut copy = buf.clone();
        f.insert(&mut copy, expected).unwrap();
        assert_eq!(f.extract(&copy), Ok(expected), "{r:?}");
    }
}

#[test]
fn belkin_liebert_exponent_vectors() {
    let rows = rows("belkin-liebert-exponent");
    assert_eq!(rows.len(), 15);
    for r in rows {
        let raw: f64 = r[0].parse().unwrap();
        let mult: f64 = r[2].parse().unwrap();
        let expected: f64 = r[3].parse().unwrap();
        let mut fix = LiebertVoltageFix::new(LiebertFixVersion::Later);
        let (got, picked) = match r[1].as_str() {
            "line" => (fix.line_voltage(raw), fix.line_mult),
            "config" => (fix.config_voltage(raw), fix.config_mult),
            k => panic!("{k}"),
        };
        assert_eq!(picked, mult, "{r:?}");
        // NUT prints "%.1f" and the test reads it back.
        assert_eq!(format!("{got:.1}"), format!("{expected:.1}"), "{r:?}");
    }
    // NUT 2.8.0 itself only knew the 1e-7 case: these readings stay uncorrected.
    let mut old = LiebertVoltageFix::new(LiebertFixVersion::Nut2_8_0);
    assert_eq!(old.line_voltage(0.001212), 0.001212);
    assert_eq!(old.line_voltage(1e-7), 1e-7 * 1e7);
}

#[test]
fn cyberpower_output_voltage_fix() {
    // Issue 581: both voltage reports carry 239 (0x00ef); NUT before the fix-up printed
    // 260 for the output. The CP900EPFCLCD descriptor of issue 437 is the same model.
    let bytes = HidFile::load("cyberpower-cp900epfclcd_issue437.hid").descriptor.unwrap();
    let capture = HidFile::load("cyberpower-cp900epfclcd_issue581.hid");
    let t = UsageTables::standard();
    let mut desc = ReportDescriptor::parse(&bytes).unwrap();
    let value = |desc: &ReportDescriptor, path: &str, id: u8| {
        let f = desc.find_str(path, &t, ReportType::Feature).unwrap();
        assert_eq!(f.report_id, id);
        f.value(capture.first_report(id).unwrap()).unwrap()
    };
    let printed = |path: &str| capture.fields.iter().find(|l| l.path == path).unwrap().value;
    assert_eq!(value(&desc, "UPS.Input.Voltage", 0x0f), printed("UPS.Input.Voltage"));
    assert_eq!(value(&desc, "UPS.Output.Voltage", 0x12), printed("UPS.Output.Voltage"));
    assert!(!cyberpower_fix(&mut desc, 0x0764, 0x0601), "other products are left alone");
    assert!(cyberpower_fix(&mut desc, 0x0764, 0x0501));
    assert_eq!(value(&desc, "UPS.Output.Voltage", 0x12), 239.0);
    let out = desc.find_str("UPS.Output.Voltage", &t, ReportType::Feature).unwrap();
    assert_eq!((out.logical_min, out.logical_max), (0, 511));
}

#[test]
fn apc_vendor_paths_parse_and_match() {
    let f = HidFile::load("apc-back-ups-es-850g2_issue1304.hid");
    let desc = ReportDescriptor::parse(f.descriptor.as_ref().unwrap()).unwrap();
    let t = UsageTables::standard().with(tables::APC);
    let p = t.parse_path("UPS.PowerSummary.APCStatusFlag").unwrap();
    let field = desc.find(&p, ReportType::Feature).unwrap();
    assert_eq!(p.nodes(), &[0x0084_0004, 0x0084_0024, 0xff86_0060]);
    assert_eq!(t.format(&field.path), "UPS.PowerSummary.APCStatusFlag");
    // Without the APC table the same field prints in NUT's hex form, which parses back.
    let std = UsageTables::standard();
    assert_eq!(std.format(&field.path), "UPS.PowerSummary.ff860060");
    assert_eq!(std.parse_path("UPS.PowerSummary.ff860060").unwrap(), p);
}
