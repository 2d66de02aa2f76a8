//! Fuzz bodies for `nut-hid`: report descriptors and report fields.

use nut_hid::descriptor::{MAX_DESCRIPTOR_LEN, MAX_FIELDS};
use nut_hid::{Field, Path, ReportDescriptor, ReportError, ReportType, UsageTables};

/// Parses `data` as a report descriptor. Never panics; on success the raw items
/// re-encode to the input, parsing again gives the same descriptor, every field lies
/// inside NUT's report length, every main item inside its report, and every path
/// prints and parses back (hex and `[n]` forms).
pub fn hid_descriptor(data: &[u8]) {
    let desc = match ReportDescriptor::parse(data) {
        Ok(d) => d,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            assert!(!data.is_empty() || matches!(e, nut_hid::DescriptorError::Empty));
            return;
        }
    };
    assert!(data.len() <= MAX_DESCRIPTOR_LEN);
    let mut again = Vec::with_capacity(data.len());
    for item in desc.items() {
        again.extend_from_slice(item.expect("items of a parsed descriptor").bytes());
    }
    assert_eq!(again, data, "raw items do not round-trip");
    assert_eq!(ReportDescriptor::parse(desc.bytes()).as_ref(), Ok(&desc), "re-parse differs");

    // Bounded memory: a handful of records per descriptor byte at most.
    assert!(desc.fields().len() <= MAX_FIELDS);
    assert!(desc.main_items().len() + desc.collections().len() <= data.len());

    let hex = UsageTables::empty();
    for f in desc.fields() {
        let len = desc.nut_report_len(f.report_id).expect("field of an unknown report");
        assert!(f.needed_len() <= len, "field past NUT's report length");
        let text = hex.format(&f.path);
        assert_eq!(hex.parse_path(&text), Ok(f.path), "path {text} does not parse back");
        let found = desc.find(&f.path, f.report_type).expect("lookup of an existing path");
        assert!(found.path.starts_with(&f.path));
        // A report of NUT's length, all ones, reads inside the logical range.
        let report = vec![0xffu8; len];
        let v = f.extract(&report).expect("report of NUT's length");
        if f.logical_min <= f.logical_max {
            assert!((f.logical_min..=f.logical_max).contains(&v));
        }
        let _ = f.to_value(v);
    }
    for m in desc.main_items() {
        let r = desc.report(m.globals.report_id, m.report_type).expect("report of a main item");
        let bits = u64::from(m.globals.report_size) * u64::from(m.globals.report_count);
        assert!(u64::from(m.bit_offset) + bits <= u64::from(r.bits));
    }
    for r in desc.reports() {
        let len = desc.report_len(r.id, r.report_type).expect("listed report");
        assert_eq!(len, r.data_len() + usize::from(desc.uses_report_ids()));
    }
}

/// A field from the first 11 bytes (bit offset, bit size, logical minimum and maximum
/// as i32 LE, unit exponent nibble), the rest is the report. Reading never panics;
/// a value read lies in the logical range; writing it back changes no bit outside the
/// field and (for a range with minimum <= maximum) reads back the same value; the
/// physical conversion stays in range.
pub fn hid_report(data: &[u8]) {
    let Some((head, report)) = data.split_first_chunk::<11>() else { return };
    let i32_at = |i: usize| i32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let exp = (head[10] & 0x0f) as i8;
    let field = Field {
        path: Path::from_nodes(&[0x0084_0004, 0x0084_0030]).expect("short path"),
        report_id: report.first().copied().unwrap_or(0),
        report_type: ReportType::Feature,
        bit_offset: head[0],
        bit_size: head[1],
        attribute: 2,
        logical_min: i64::from(i32_at(2)),
        logical_max: i64::from(i32_at(6)),
        physical_min: (head[10] & 0x10 != 0).then_some(i64::from(i32_at(2)) / 2),
        physical_max: (head[10] & 0x20 != 0).then_some(i64::from(i32_at(6)) * 3),
        unit: if head[10] & 0x40 != 0 { nut_hid::report::UNIT_VOLT } else { 0 },
        unit_exponent: if exp > 7 { exp - 16 } else { exp },
        descriptor_offset: 0,
        id_byte: true,
    };
    let v = match field.extract(report) {
        Ok(v) => v,
        Err(ReportError::TooShort { needed, len, .. }) => {
            assert!(len < needed && needed == field.needed_len());
            return;
        }
        Err(e) => panic!("unexpected {e}"),
    };
    if field.logical_min <= field.logical_max {
        assert!((field.logical_min..=field.logical_max).contains(&v));
    }
    let mut copy = report.to_vec();
    field.insert(&mut copy, v).expect("same length");
    if field.logical_min <= field.logical_max {
        // (NUT's clamping of an inverted range is not idempotent.)
        assert_eq!(field.extract(&copy), Ok(v), "value does not read back");
    }
    let first = usize::from(field.bit_offset) + 8;
    for bit in 0..report.len() * 8 {
        if bit < first || bit >= first + usize::from(field.bit_size) {
            let (a, b) = (report[bit / 8] >> (bit % 8) & 1, copy[bit / 8] >> (bit % 8) & 1);
            assert_eq!(a, b, "bit {bit} outside the field changed");
        }
    }
    let value = field.to_value(v);
    let back = field.from_value(value);
    if let (Some(pmin), Some(pmax)) = (field.physical_min, field.physical_max)
        && pmax > pmin
        && field.logical_max > field.logical_min
    {
        let unscaled = Field { unit: 0, unit_exponent: 0, ..field.clone() };
        let physical = unscaled.to_value(v);
        assert!(
            physical >= pmin as f64 && physical <= pmax as f64,
            "physical {physical} out of range"
        );
        assert!((field.logical_min..=field.logical_max).contains(&back));
    }
}
