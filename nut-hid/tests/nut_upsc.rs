//! Differential check against NUT 2.8.0 itself: `tests/data/nut-2.8.0/*.upsc` is what
//! Debian's `usbhid-ups` published for each complete descriptor, with the project's
//! simulated device answering GET_REPORT (the logged `[reports]` bytes, else the synthetic
//! bytes defined in that folder's README). For every numeric variable of the subdriver's
//! table (no lookup table, no status, no command), the field is located with the
//! subdriver's usage names, its report is built as NUT's buffer holds it (NUT's length,
//! the device's answer, zeros after), and the value, formatted with the row's format,
//! must be the one NUT published.

mod common;

use std::collections::HashSet;

use common::{HidFile, data_dir};
use nut_hid::subdrivers::{self, format_value};
use nut_hid::{ReportDescriptor, ReportType, UsageTables};

/// The simulated device's byte `i` (after the ID) of an unlogged report `id`.
fn synth(id: u32, i: u32) -> u8 {
    let mut x = id.wrapping_mul(0x9E37_79B1) ^ i.wrapping_mul(0x85EB_CA77) ^ 0x5bd1_e995;
    x ^= x >> 15;
    x = x.wrapping_mul(0x2C1B_3C6D);
    x ^= x >> 12;
    x = x.wrapping_mul(0x297A_2D39);
    x ^= x >> 15;
    (x & 0xff) as u8
}

/// NUT's report buffer for `id` after one GET_REPORT from the simulated device.
fn nut_buffer(f: &HidFile, desc: &ReportDescriptor, id: u8) -> Vec<u8> {
    let len = desc.nut_report_len(id).expect("report of a field");
    let mut buf = vec![0u8; len];
    if let Some(logged) = f.first_report(id) {
        for (b, l) in buf.iter_mut().zip(logged) {
            *b = *l;
        }
        return buf;
    }
    // The device answers with the report's own length (Feature, else its largest type),
    // cut to what NUT asked for.
    let answer = desc
        .report_len(id, ReportType::Feature)
        .or_else(|| {
            [ReportType::Input, ReportType::Output]
                .iter()
                .filter_map(|t| desc.report_len(id, *t))
                .max()
        })
        .expect("defined report");
    buf[0] = id;
    for (i, b) in buf.iter_mut().enumerate().take(answer).skip(1) {
        *b = synth(u32::from(id), i as u32);
    }
    buf
}

#[test]
fn numeric_variables_equal_nut_2_8_0() {
    let dir = data_dir().join("nut-2.8.0");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".upsc").map(str::to_string))
        .collect();
    names.sort();
    let (mut same, mut devices) = (0, 0);
    let mut failures = Vec::new();
    for stem in &names {
        let f = HidFile::load(&format!("{stem}.hid"));
        let upsc = std::fs::read_to_string(dir.join(format!("{stem}.upsc"))).unwrap();
        let published: Vec<(&str, &str)> =
            upsc.lines().filter_map(|l| l.split_once(": ")).collect();
        // The simulated device's IDs when the file gives none (fakeusb's README: 0463:ffff
        // for the MGE one).
        let mge = f.header("nut-subdriver").is_some_and(|s| s.starts_with("MGE"));
        let vid = f.vendor_id().unwrap_or(if mge { 0x0463 } else { 0 });
        let pid = f.product_id().unwrap_or(if mge { 0xffff } else { 0 });
        let sd =
            subdrivers::select(vid, pid, None, None).unwrap_or_else(|| panic!("{stem}: subdriver"));
        let tables = UsageTables::standard().with(sd.usages);
        let mut desc = ReportDescriptor::parse(f.descriptor.as_ref().unwrap()).unwrap();
        nut_hid::fixup::apply(&mut desc, vid, pid);
        devices += 1;
        let mut taken = HashSet::new();
        for row in sd.info {
            if row.is_status() || row.is_command() || row.is_absent() || taken.contains(row.var) {
                continue;
            }
            let Some(field) = desc.find_str(row.path, &tables, ReportType::Feature) else {
                continue;
            };
            // The first row whose path exists gives the variable.
            taken.insert(row.var);
            let Some(fmt) = row.format() else { continue };
            let Some(&(_, nut)) = published.iter().find(|(k, _)| *k == row.var) else { continue };
            let value = field.value(&nut_buffer(&f, &desc, field.report_id)).unwrap();
            let ours = format_value(fmt, value).unwrap_or_default();
            if ours == nut {
                same += 1;
            } else {
                failures.push(format!("{stem}: {} ({}) = {ours}, NUT {nut}", row.var, row.path));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(devices, 35);
    assert!(same >= 400, "only {same} variables compared");
}
