//! Every descriptor of tests/data parses; partial captures fail with a clear error; the
//! fields NUT printed in real logs are found at NUT's report ID, type, offset and size,
//! with NUT's path and NUT's value.

mod common;

use common::{FieldLine, HidFile, all_files};
use nut_hid::{DescriptorError, Field, ReportDescriptor};

/// NUT prints values with `%g` (6 significant digits).
fn same_g(ours: f64, nut: f64) -> bool {
    (ours - nut).abs() <= 5e-6 * nut.abs().max(1e-300) || ours == nut
}

fn full_descriptor(f: &HidFile) -> Option<Vec<u8>> {
    if f.descriptor.is_some() {
        return f.descriptor.clone();
    }
    // A partial capture whose complete descriptor was found later (`<name>-full.hid`).
    let full = f.name.replace(".hid", "-full.hid");
    common::data_dir().join(&full).exists().then(|| HidFile::load(&full).descriptor).flatten()
}

#[test]
fn every_complete_descriptor_parses() {
    let mut n = 0;
    for name in all_files() {
        let f = HidFile::load(&name);
        let Some(d) = &f.descriptor else { continue };
        let desc = ReportDescriptor::parse(d).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(len) = f.header("descriptor-length") {
            assert_eq!(d.len(), len.parse::<usize>().unwrap(), "{name}");
        }
        assert!(!desc.fields().is_empty(), "{name}");
        assert!(!desc.fields_truncated(), "{name}");
        assert!(desc.uses_report_ids(), "{name}");
        // The report IDs that the logs show exist in the descriptor, and NUT's length
        // for them covers what NUT printed.
        for (how, id, bytes) in &f.reports {
            let len = desc.nut_report_len(*id).unwrap_or_else(|| panic!("{name}: id {id}"));
            if how == "log" || how == "get" {
                assert_eq!(bytes.first(), Some(id), "{name}");
                assert!(bytes.len() >= len || how == "log", "{name} {id}: {} < {len}", bytes.len());
            }
        }
        // The raw items re-encode to the same bytes.
        let again: Vec<u8> = desc.items().flat_map(|i| i.unwrap().bytes().to_vec()).collect();
        assert_eq!(&again, d, "{name}");
        n += 1;
    }
    assert_eq!(n, 42, "complete descriptors (41 + the same-descriptor file)");
}

#[test]
fn partial_descriptors_give_their_error() {
    let mut seen = Vec::new();
    for name in all_files() {
        let f = HidFile::load(&name);
        for (part, bytes) in [("head", &f.head), ("tail", &f.tail)] {
            let Some(b) = bytes else { continue };
            let err = ReportDescriptor::parse(b).expect_err(&name);
            seen.push((name.clone(), part, err));
        }
    }
    // The first 213 bytes of the VI 3000 RT: cut inside open collections.
    // The last 282 bytes of the BNT-800AP: End Collections that were opened before.
    let got: Vec<String> = seen.iter().map(|(n, p, e)| format!("{n} {p}: {e}")).collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    for (name, _, e) in &seen {
        match e {
            DescriptorError::UnclosedCollection { .. } => {
                assert!(name.starts_with("powerwalker-vi-3000"), "{got:?}")
            }
            DescriptorError::EndCollectionWithoutCollection { .. } => {
                assert!(name.starts_with("powercom-bnt-800ap"), "{got:?}")
            }
            DescriptorError::Truncated { .. } => {}
            other => panic!("{name}: unexpected {other}"),
        }
    }
}

fn check_line(f: &HidFile, desc: &ReportDescriptor, line: &FieldLine) -> Result<(), String> {
    let tables = f.tables();
    let field: &Field = desc
        .fields()
        .iter()
        .find(|x| {
            x.report_type == line.report_type
                && x.report_id == line.report_id
                && u32::from(x.bit_offset) == line.offset
                && u32::from(x.bit_size) == line.size
                && tables.format(&x.path) == line.path
        })
        .ok_or_else(|| {
            let near: Vec<String> = desc
                .fields()
                .iter()
                .filter(|x| x.report_id == line.report_id && x.report_type == line.report_type)
                .map(|x| format!("{} {} {}", x.bit_offset, x.bit_size, tables.format(&x.path)))
                .collect();
            format!("not found; fields of that report: {near:?}")
        })?;
    // Looking the path up as a subdriver does finds this field or an earlier one with
    // the same path (NUT takes the first). Names used twice ("Undefined" on pages 0x84
    // and 0x85) read back as the first code, as in NUT.
    let parsed = tables.parse_path(&line.path).map_err(|e| e.to_string())?;
    let found = desc.find(&parsed, line.report_type);
    if parsed == field.path && !found.is_some_and(|x| std::ptr::eq(x, field)) {
        let found = found.ok_or("path lookup found nothing")?;
        // NUT returns the first field with this path; duplicates exist (same path in
        // two reports) and then the first one must come earlier in the list.
        let first = desc.fields().iter().position(|x| std::ptr::eq(x, found));
        let this = desc.fields().iter().position(|x| std::ptr::eq(x, field));
        if first >= this || found.path != field.path {
            return Err("path lookup found another field".into());
        }
    }
    let Some(report) = f.first_report(line.report_id) else {
        // A few partial captures give the value without the report bytes.
        return Ok(());
    };
    let value = field.value(report).map_err(|e| e.to_string())?;
    if !same_g(value, line.value) {
        return Err(format!("value {value}, NUT printed {}", line.value));
    }
    if let Some(v) = line.extra("logmin") {
        if field.logical_min != v.parse::<i64>().unwrap() {
            return Err(format!("logmin {}", field.logical_min));
        }
    }
    if let Some(v) = line.extra("logmax") {
        if field.logical_max != v.parse::<i64>().unwrap() {
            return Err(format!("logmax {}", field.logical_max));
        }
    }
    if let Some(v) = line.extra("unitexp") {
        if i64::from(field.unit_exponent) != v.parse::<i64>().unwrap() {
            return Err(format!("unitexp {}", field.unit_exponent));
        }
    }
    if let Some(v) = line.extra("unit") {
        if field.unit != u32::from_str_radix(v, 16).unwrap() {
            return Err(format!("unit {:08x}", field.unit));
        }
    }
    Ok(())
}

#[test]
fn fields_equal_what_nut_printed() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut devices = 0;
    for name in all_files() {
        let f = HidFile::load(&name);
        if f.fields.is_empty() {
            continue;
        }
        let Some(d) = full_descriptor(&f) else { continue };
        let mut desc = ReportDescriptor::parse(&d).unwrap();
        if let (Some(v), Some(p)) = (f.vendor_id(), f.product_id()) {
            nut_hid::fixup::apply(&mut desc, v, p);
        }
        devices += 1;
        for line in &f.fields {
            checked += 1;
            if let Err(e) = check_line(&f, &desc, line) {
                failures.push(format!("{name}: {}: {e}", line.line));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(devices, 9);
    assert_eq!(checked, 364);
}

#[test]
fn partial_captures_decode_their_values() {
    // Captures without a descriptor: the report bytes, offset, size and (where the log
    // shows it) the logical range are enough to reproduce the value NUT printed.
    let mut checked = 0;
    for name in all_files() {
        let f = HidFile::load(&name);
        if full_descriptor(&f).is_some() {
            continue;
        }
        for line in &f.fields {
            let Some(report) = f.first_report(line.report_id) else { continue };
            if line.extra("scaled").is_some() || line.extra("buggy").is_some() {
                continue;
            }
            let max = (1i64 << line.size.min(32)) - 1;
            let parse = |k: &str, d: i64| line.extra(k).map_or(d, |v| v.parse().unwrap());
            let field = Field {
                path: nut_hid::Path::new(),
                report_id: line.report_id,
                report_type: line.report_type,
                bit_offset: line.offset as u8,
                bit_size: line.size as u8,
                attribute: 2,
                logical_min: parse("logmin", 0),
                logical_max: parse("logmax", max),
                physical_min: None,
                physical_max: None,
                unit: line.extra("unit").map_or(0, |u| u32::from_str_radix(u, 16).unwrap()),
                unit_exponent: parse("unitexp", 0) as i8,
                descriptor_offset: 0,
                id_byte: true,
            };
            assert_eq!(field.value(report), Ok(line.value), "{name}: {}", line.line);
            checked += 1;
        }
    }
    // cs500 (reports 5 and 6) and the CP900EPFCLCD input voltage.
    assert_eq!(checked, 4);
}
