//! The subdriver tables checked against what NUT 2.8.0 did with real
//! descriptors: which subdriver it picked (from `driver.version.data`),
//! which variables, commands and writable variables it published, and
//! the values it printed. Data: `tests/data/subdrivers/` (see its README).

use nut_hid::subdrivers::{
    self, Claim, Device, InfoRow, LookupTable, SelectOptions, Subdriver, find, format_value,
    lookup_to_nut, select, select_with,
};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/subdrivers")
}

/// Files of a directory with this extension, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// `name: value` lines of a `upsc` dump.
fn upsc(path: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn hex16(s: &str) -> u16 {
    u16::from_str_radix(s, 16).unwrap()
}

/// The subdriver NUT used, by its `driver.version.data`.
fn used(vars: &BTreeMap<String, String>) -> &'static Subdriver {
    let name = &vars["driver.version.data"];
    let sd = find(name).unwrap_or_else(|| panic!("no subdriver {name}"));
    assert_eq!(&sd.version, name);
    sd
}

fn all_upsc() -> Vec<(PathBuf, bool)> {
    let dir = data_dir().join("nut-2.8.0");
    let mut v: Vec<(PathBuf, bool)> = files(&dir, "upsc").into_iter().map(|p| (p, false)).collect();
    v.extend(files(&dir.join("productid"), "upsc").into_iter().map(|p| (p, true)));
    assert_eq!(v.len(), 38);
    v
}

#[test]
fn selection_matches_nut_2_8_0() {
    for (path, needs_productid) in all_upsc() {
        let vars = upsc(&path);
        let sd = used(&vars);
        let dev = Device {
            vendor_id: hex16(&vars["ups.vendorid"]),
            product_id: hex16(&vars["ups.productid"]),
            vendor: vars.get("device.mfr").map(String::as_str),
            product: vars.get("ups.model").map(String::as_str),
        };
        let what = path.file_name().unwrap().to_string_lossy().to_string();
        let default = select_with(&dev, &SelectOptions::default());
        if needs_productid {
            // NUT 2.8.0 served these Liebert units only with productid=.
            assert!(default.is_none(), "{what}");
            let opts = SelectOptions { productid_set: true, ..SelectOptions::default() };
            let (got, claim) = select_with(&dev, &opts).unwrap();
            assert_eq!(got.version, sd.version, "{what}");
            assert_eq!(claim, Claim::ByProductIdOption, "{what}");
        } else {
            let (got, claim) = default.unwrap_or_else(|| panic!("{what}: nothing selected"));
            assert_eq!(got.version, sd.version, "{what}");
            assert!(matches!(claim, Claim::Supported(_)), "{what}: {claim:?}");
        }
    }
}

#[test]
fn later_liebert_ids() {
    // Two of the three productid Liebert units are in the table of NUT 2.8.2;
    // the GXT5 (10af:1000) is in no release's table, and taken beyond NUT (2.8.0
    // serves it correctly when `productid` forces it).
    let opts = SelectOptions { later_ids: true, ..SelectOptions::default() };
    for (pid, claimed) in [(0x0000, true), (0x0002, true), (0x1000, true), (0x1001, false)] {
        let dev = Device { vendor_id: 0x10af, product_id: pid, ..Device::default() };
        let got = select_with(&dev, &opts);
        assert_eq!(got.is_some(), claimed, "{pid:04x}");
        if let Some((sd, c)) = got {
            assert_eq!(sd.key, "belkin");
            assert_eq!(c, Claim::Supported(None));
        }
        assert_eq!(select(0x10af, pid, None, None), None);
    }
}

#[test]
fn selection_from_device_file_headers() {
    let mut checked = 0;
    for path in files(&data_dir().join("headers"), "hid") {
        let text = fs::read_to_string(&path).unwrap();
        let field =
            |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).map(str::trim).unwrap_or("");
        let usb = field("@usb:");
        let named = field("@nut-subdriver:");
        let Some((v, p)) = usb.split_once(':') else { continue };
        if v.len() != 4 || p.len() != 4 {
            continue;
        }
        let (vid, pid) = (hex16(v), hex16(p));
        let what = path.file_name().unwrap().to_string_lossy().to_string();
        let got = select(vid, pid, None, None);
        if named.starts_with("none") {
            assert_eq!(got, None, "{what}");
        } else if vid == 0x10af {
            // Liebert units: only with productid in 2.8.0 (see the test above).
            assert_eq!(got, None, "{what}");
        } else if vid == 0x06da {
            // Without "AEG" in the strings MGE declines and the Phoenixtec
            // subdriver takes it (what NUT 2.8.0 did, whatever the source said).
            assert_eq!(got.map(|s| s.key), Some("liebert"), "{what}");
        } else {
            let sd = got.unwrap_or_else(|| panic!("{what}: nothing for {usb}"));
            assert!(
                sd.version.starts_with(named.split(' ').next().unwrap()),
                "{what}: {named} vs {}",
                sd.version
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 42);
}

/// Variables the driver core or the identity functions publish, not rows.
fn not_from_rows(var: &str, sd: &Subdriver) -> bool {
    var.starts_with("driver.")
        || var.starts_with("device.")
        || matches!(
            var,
            "ups.mfr"
                | "ups.model"
                | "ups.serial"
                | "ups.vendorid"
                | "ups.productid"
                | "ups.status"
                | "ups.alarm"
                | "input.transfer.reason"
        )
        || (sd.key == "apc" && var.starts_with("ups.firmware"))
}

#[test]
fn published_variables_have_rows() {
    for (path, _) in all_upsc() {
        let vars = upsc(&path);
        let sd = used(&vars);
        for var in vars.keys() {
            if not_from_rows(var, sd) {
                continue;
            }
            assert!(
                sd.rows_for(var).any(|r| !r.is_command() && !r.is_status()),
                "{}: {var} has no row in {}",
                path.display(),
                sd.key
            );
        }
    }
}

#[test]
fn published_commands_have_rows() {
    // Added by the driver core when the delay rows exist.
    const FALLBACKS: &[&str] = &["load.off", "load.on", "shutdown.return", "shutdown.stayoff"];
    for (path, _) in all_upsc() {
        let sd = used(&upsc(&path));
        let list = fs::read_to_string(path.with_extension("upscmd")).unwrap();
        let mut n = 0;
        for line in list.lines().filter(|l| l.contains(" - ")) {
            let cmd = line.split(" - ").next().unwrap().trim();
            n += 1;
            if FALLBACKS.contains(&cmd) {
                continue;
            }
            assert!(
                sd.rows_for(cmd).any(|r| r.is_command()),
                "{}: command {cmd} has no row in {}",
                path.display(),
                sd.key
            );
        }
        assert!(n > 0 || list.contains("supported"), "{}", path.display());
    }
}

#[test]
fn writable_variables_have_rw_rows() {
    for (path, _) in all_upsc() {
        let sd = used(&upsc(&path));
        let text = fs::read_to_string(path.with_extension("upsrw")).unwrap();
        for block in text.split("\n\n") {
            let mut lines = block.lines().filter(|l| !l.is_empty());
            let Some(head) = lines.next() else { continue };
            let Some(var) = head.strip_prefix('[').and_then(|h| h.strip_suffix(']')) else {
                continue;
            };
            let rows: Vec<InfoRow> = sd.rows_for(var).filter(|r| r.is_writable()).collect();
            assert!(!rows.is_empty(), "{}: {var} not writable in {}", path.display(), sd.key);
            let body: Vec<&str> = lines.collect();
            if body.contains(&"Type: STRING") {
                let max = body
                    .iter()
                    .find_map(|l| l.strip_prefix("Maximum length: "))
                    .and_then(|m| m.parse::<u16>().ok());
                assert!(
                    rows.iter().any(|r| Some(r.len) == max),
                    "{}: {var} length {max:?}",
                    path.display()
                );
            }
            if body.contains(&"Type: ENUM") {
                assert!(
                    rows.iter().any(|r| r.hu_flags & subdrivers::flags::HU_FLAG_ENUM != 0),
                    "{}: {var} enum",
                    path.display()
                );
            }
        }
    }
}

/// `(path, value)` of the Feature lines of a device file's `[fields]`.
fn fields(name: &str) -> Vec<(String, f64)> {
    let text = fs::read_to_string(data_dir().join("fields").join(name)).unwrap();
    text.lines()
        .filter(|l| l.starts_with("Feature "))
        .filter_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            Some((parts.get(5)?.to_string(), parts.get(4)?.parse().ok()?))
        })
        .collect()
}

#[test]
fn values_nut_printed_for_the_back_ups_es_850g2() {
    let f = fields("apc-back-ups-es-850g2_issue1304.hid");
    let vars = upsc(&data_dir().join("nut-2.8.0/apc-back-ups-es-850g2_issue1304.upsc"));
    let sd = used(&vars);
    let mut compared = 0;
    for (var, published) in &vars {
        // NUT's rule: the first row whose path the device has.
        let Some((row, value)) = sd
            .rows_for(var)
            .filter(|r| !r.is_command() && !r.is_absent())
            .find_map(|r| f.iter().find(|(p, _)| p == r.path).map(|(_, v)| (r, *v)))
        else {
            continue;
        };
        let text = match (row.lookup, row.format()) {
            (Some(l), _) if l.conv.is_none_or(|c| !c.is_stateful()) => {
                lookup_to_nut(l, value).map(|c| c.into_owned())
            }
            (None, Some(fmt)) => format_value(fmt, value),
            _ => continue,
        };
        assert_eq!(text.as_deref(), Some(published.as_str()), "{var} from {} = {value}", row.path);
        compared += 1;
    }
    // battery.charge, dates (HID and APC forms), beeper, test result, sensitivity, ...
    eprintln!("compared {compared}");
    assert!(compared >= 15, "{compared}");
}

#[test]
fn hid_date_of_the_smart_ups_x_3000() {
    let f = fields("apc-smart-ups-x-3000_issue2984.hid");
    let (_, v) = f.iter().find(|(p, _)| p == "UPS.PowerSummary.ManufacturerDate").unwrap();
    let row = find("apc")
        .unwrap()
        .rows_for("ups.mfr.date")
        .find(|r| r.path == "UPS.PowerSummary.ManufacturerDate")
        .unwrap();
    assert_eq!(lookup_to_nut(row.lookup.unwrap(), *v).as_deref(), Some("2024/10/13"));
}

#[test]
fn liebert_exponent_vectors_under_2_8_0() {
    let text = fs::read_to_string(data_dir().join("belkin-liebert-exponent.txt")).unwrap();
    // The Liebert rows of the Belkin table use these two conversions.
    let belkin = find("belkin").unwrap();
    let uses = |var: &str, t: &LookupTable| {
        belkin.rows_for(var).any(|r| r.lookup.is_some_and(|l| std::ptr::eq(l, t)))
    };
    let line = &subdrivers::belkin::LIEBERT_LINE_VOLTAGE_INFO;
    let config = &subdrivers::belkin::LIEBERT_CONFIG_VOLTAGE_INFO;
    assert!(uses("input.voltage", line) && uses("output.voltage", line));
    assert!(uses("battery.voltage.nominal", config));
    let mut n = 0;
    for l in text.lines().filter(|l| !l.starts_with('#') && l.contains('|')) {
        let p: Vec<&str> = l.split('|').map(str::trim).collect();
        let raw: f64 = p[0].parse().unwrap();
        let table = if p[1] == "config" { config } else { line };
        let got = lookup_to_nut(table, raw).unwrap();
        if p[2] == "1" {
            // No correction needed: 2.8.0 agrees with later NUT.
            assert_eq!(got, p[3], "{l}");
        } else {
            // 2.8.0 only fixes a ConfigVoltage of exactly 1e-7: these small
            // line values stay uncorrected ("exponent looks wrong").
            assert_eq!(got, format_value("%.1f", raw).unwrap(), "{l}");
            assert_ne!(got, p[3], "{l}");
        }
        n += 1;
    }
    assert_eq!(n, 15);
}

#[test]
fn every_row_path_parses_with_the_subdriver_usages() {
    use nut_hid::UsageTables;
    let mut bad = Vec::new();
    for sd in subdrivers::all() {
        let tables = UsageTables::standard().with(sd.usages);
        for row in sd.info {
            if tables.parse_path(row.path).is_err() {
                bad.push((sd.key, row.path));
            }
        }
    }
    assert_eq!(bad, Vec::<(&str, &str)>::new());
    // The parse is strict: a vendor name is unknown without its table.
    let plain = UsageTables::standard();
    assert!(plain.parse_path("UPS.PowerSummary.APCStatusFlag").is_err());
    assert!(plain.parse_path("UPS.PowerSummary.ff860060").is_ok());
}
