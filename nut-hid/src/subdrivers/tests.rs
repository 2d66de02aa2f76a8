//! Table sanity checks and lookup vectors.
//!
//! The lookup vectors come from NUT's tables and from values NUT 2.8.0
//! printed for real devices (see `tests/subdrivers.rs` for the ones read
//! from the recorded data).

use super::flags::*;
use super::*;
use alloc::string::String;
use alloc::vec::Vec;

fn nut(table: &LookupTable, v: f64) -> Option<String> {
    lookup_to_nut(table, v).map(|c| c.into_owned())
}

#[test]
fn sixteen_subdrivers_in_nut_order() {
    let names: Vec<&str> = all().iter().map(|s| s.version).collect();
    assert_eq!(
        names,
        [
            "EXPLORE HID 0.2",
            "MGE HID 1.46",
            "APC HID 0.98",
            "Arduino HID 0.2",
            "Belkin/Liebert HID 0.18",
            "CyberPower HID 0.6",
            "Delta UPS HID 0.6",
            "Ever HID 0.1",
            "iDowell HID 0.2",
            "Legrand HID 0.2",
            "Phoenixtec/Liebert HID 0.41",
            "openUPS HID 0.5",
            "PowerCOM HID 0.6",
            "Powervar HID 0.20",
            "Salicru HID 0.3",
            "TrippLite HID 0.84",
        ]
    );
}

#[test]
fn find_by_key_and_name() {
    assert_eq!(find("apc").map(|s| s.version), Some("APC HID 0.98"));
    assert_eq!(find("APC HID").map(|s| s.key), Some("apc"));
    assert_eq!(find("apc hid 0.98").map(|s| s.key), Some("apc"));
    assert_eq!(find("Belkin/Liebert HID").map(|s| s.key), Some("belkin"));
    assert_eq!(find("Phoenixtec/Liebert HID").map(|s| s.key), Some("liebert"));
    assert_eq!(find("MGE HID 1.47"), None);
    assert_eq!(find(""), None);
}

#[test]
fn no_duplicate_variable_path_rows() {
    // Status rows may repeat a path with another lookup (APC reads
    // APCLineFailCause twice, for vrange and frange). Otherwise NUT 2.8.0
    // repeats a variable+path three times: two plain duplicates (harmless,
    // the first wins) and MGE's outlet.2.switchable, whose second row is the
    // fallback when the Eco-mode lookup of the first publishes nothing.
    const KNOWN: &[(&str, &str, &str)] = &[
        ("mge", "battery.runtime.low", "UPS.PowerSummary.RemainingTimeLimit"),
        ("mge", "outlet.2.switchable", "UPS.OutletSystem.Outlet.[3].PresentStatus.Switchable"),
        ("salicru", "ups.test.result", "UPS.BatterySystem.Battery.Test"),
    ];
    let mut found = Vec::new();
    for sd in all() {
        for (i, a) in sd.info.iter().enumerate() {
            for b in sd.info.iter().skip(i + 1) {
                if a.var == b.var && a.path == b.path {
                    if a.is_status() {
                        let (la, lb) = (a.lookup.map(|l| l.name), b.lookup.map(|l| l.name));
                        assert_ne!(la, lb, "{}: status row {} twice", sd.key, a.path);
                    } else {
                        found.push((sd.key, a.var, a.path));
                    }
                }
            }
        }
    }
    assert_eq!(found, KNOWN);
}

#[test]
fn packed_rows_read_back_as_written() {
    let sources: [(&Subdriver, &[InfoRow]); 16] = [
        (&explore::SUBDRIVER, explore::INFO_ROWS),
        (&mge::SUBDRIVER, mge::INFO_ROWS),
        (&apc::SUBDRIVER, apc::INFO_ROWS),
        (&arduino::SUBDRIVER, arduino::INFO_ROWS),
        (&belkin::SUBDRIVER, belkin::INFO_ROWS),
        (&cps::SUBDRIVER, cps::INFO_ROWS),
        (&delta_ups::SUBDRIVER, delta_ups::INFO_ROWS),
        (&ever::SUBDRIVER, ever::INFO_ROWS),
        (&idowell::SUBDRIVER, idowell::INFO_ROWS),
        (&legrand::SUBDRIVER, legrand::INFO_ROWS),
        (&liebert::SUBDRIVER, liebert::INFO_ROWS),
        (&openups::SUBDRIVER, openups::INFO_ROWS),
        (&powercom::SUBDRIVER, powercom::INFO_ROWS),
        (&powervar::SUBDRIVER, powervar::INFO_ROWS),
        (&salicru::SUBDRIVER, salicru::INFO_ROWS),
        (&tripplite::SUBDRIVER, tripplite::INFO_ROWS),
    ];
    assert_eq!(sources.len(), all().len());
    let mut rows = 0;
    for (sd, src) in sources {
        assert_eq!(sd.info.len(), src.len(), "{}", sd.key);
        assert_eq!(sd.info.iter().len(), src.len(), "{}", sd.key);
        for (i, (got, want)) in sd.info.iter().zip(src).enumerate() {
            assert_eq!(got, *want, "{} row {i}", sd.key);
            // The very same table, not an equal copy.
            match (got.lookup, want.lookup) {
                (Some(a), Some(b)) => assert!(core::ptr::eq(a, b), "{} row {i}", sd.key),
                (a, b) => assert_eq!(a.is_none(), b.is_none()),
            }
            assert_eq!(sd.info.get(i), Some(got));
        }
        assert_eq!(sd.info.get(src.len()), None);
        // Each lookup table in the list once, and every one used.
        let list = sd.info.lookups();
        for (k, t) in list.iter().enumerate() {
            assert!(!list[..k].iter().any(|u| core::ptr::eq(*u, *t)), "{}: {}", sd.key, t.name);
            assert!(src.iter().any(|r| r.lookup.is_some_and(|l| core::ptr::eq(l, *t))));
        }
        for var in ["ups.status", "BOOL", "battery.charge", "no.such.var"] {
            let want: Vec<InfoRow> = src.iter().filter(|r| r.var == var).copied().collect();
            assert_eq!(sd.rows_for(var).collect::<Vec<_>>(), want, "{}: {var}", sd.key);
        }
        rows += src.len();
    }
    // NUT 2.8.0's tables, all of them packed.
    assert!(rows > 900, "{rows} rows");
    // One blob for all subdrivers, each distinct string in it once.
    let distinct: alloc::collections::BTreeSet<&str> = sources
        .iter()
        .flat_map(|(_, src)| src.iter().flat_map(|r| [Some(r.var), Some(r.path), r.dfl]))
        .flatten()
        .collect();
    assert_eq!(INFO_BLOB.len(), distinct.iter().map(|s| s.len()).sum::<usize>());
    assert!(all().iter().all(|sd| sd.info.blob.len() == INFO_BLOB.len()));
}

#[test]
fn mge_model_names_read_back_as_written() {
    let got: Vec<mge::MgeModelName> = mge::MGE_MODEL_NAMES.iter().collect();
    assert_eq!(got, mge::MODEL_NAME_ROWS);
    assert!(got.len() > 80 && got.iter().any(|r| r.3.is_none()));
    assert_eq!(mge::model_name("ELLIPSE", "750").0, "Ellipse 750");
    assert_eq!(mge::model_name("Ellipse MAX", "850"), ("Ellipse MAX 850".into(), 0x000));
    assert_eq!(mge::model_name("ELLIPSE", "75"), ("ELLIPSE 75".into(), mge::model_type::DEFAULT));
}

#[test]
fn every_lookup_is_registered() {
    let known: Vec<*const LookupTable> = all_lookups().map(|l| l as *const _).collect();
    for sd in all() {
        for row in sd.info {
            if let Some(l) = row.lookup {
                assert!(
                    known.contains(&(l as *const _)),
                    "{}: {} uses unregistered {}",
                    sd.key,
                    row.var,
                    l.name
                );
            }
        }
    }
    // Table names are unique, so an engine can refer to them by name.
    let mut names: Vec<&str> = all_lookups().map(|l| l.name).collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n);
}

#[test]
fn variable_names_are_nut_names() {
    for sd in all() {
        for row in sd.info {
            // Ever publishes two experimental names with "AVR" in capitals.
            let ever_avr = sd.key == "ever" && row.var.contains("_AVR_");
            assert!(
                row.is_status() || ever_avr || is_valid_nut_name(row.var),
                "{}: bad name {:?}",
                sd.key,
                row.var
            );
        }
    }
    assert!(is_valid_nut_name("outlet.1.delay.shutdown"));
    assert!(is_valid_nut_name("input.L1-N.voltage"));
    assert!(is_valid_nut_name("input.bypass.L3-L1.voltage"));
    assert!(!is_valid_nut_name("input.L4.voltage"));
    assert!(!is_valid_nut_name("Battery.charge"));
    assert!(!is_valid_nut_name("battery..charge"));
    assert!(!is_valid_nut_name("1battery"));
}

#[test]
fn rows_are_consistent() {
    for sd in all() {
        for row in sd.info {
            let what = (sd.key, row.var, row.path);
            assert!(!row.path.is_empty(), "{what:?}");
            assert!(row.path.split('.').all(|t| !t.is_empty()), "{what:?}: empty path token");
            if row.nut_flags & ST_FLAG_STRING != 0 {
                assert!(row.len > 0, "{what:?}: string without length");
            }
            if row.is_status() {
                assert!(row.lookup.is_some(), "{what:?}: status row without lookup");
            }
            if row.is_absent() {
                assert!(row.dfl.is_some(), "{what:?}: absent row without default");
            }
            if let Some(fmt) = row.format() {
                if fmt != "%s" {
                    assert!(format_value(fmt, 1.5).is_some(), "{what:?}: format {fmt}");
                }
            }
        }
    }
}

#[test]
fn command_rows_have_a_value() {
    for sd in all() {
        for row in sd.info.iter().filter(|r| r.is_command()) {
            // PowerCOM's delay commands take their value from ups.delay.*.
            let powercom_delay = row.lookup.is_some_and(|l| {
                matches!(
                    l.conv,
                    Some(
                        Conv::PowercomShutdownInfo
                            | Conv::PowercomStayoffInfo
                            | Conv::PowercomStartupInfo
                    )
                )
            });
            assert!(row.dfl.is_some() || powercom_delay, "{}: {} has no value", sd.key, row.var);
        }
    }
}

#[test]
fn status_lookups_give_status_words() {
    let words: Vec<&str> = status::WORDS.iter().map(|(_, s)| *s).collect();
    for sd in all() {
        for row in sd.info.iter().filter(|r| r.is_status()) {
            for lr in row.lookup.map_or(&[][..], |l| l.rows) {
                let w = lr.nut.trim_start_matches('!');
                // MGE's function tables carry a "dummy" placeholder row;
                // Powervar feeds yes_no_info to two status rows, whose
                // "yes"/"no" NUT ignores as unknown words.
                let powervar =
                    sd.key == "powervar" && row.lookup.is_some_and(|l| l.name == "yes_no_info");
                assert!(
                    words.contains(&w) || lr.nut == "dummy" || powervar,
                    "{}: {} gives {:?}",
                    sd.key,
                    row.path,
                    lr.nut
                );
            }
        }
    }
}

#[test]
fn usb_ids_unique_per_subdriver_and_overlaps_known() {
    for sd in all() {
        for (i, a) in sd.usb_ids.iter().enumerate() {
            for b in &sd.usb_ids[i + 1..] {
                assert!(
                    (a.vendor_id, a.product_id) != (b.vendor_id, b.product_id),
                    "{}: {:04x}:{:04x} twice",
                    sd.key,
                    a.vendor_id,
                    a.product_id
                );
            }
        }
    }
    // Only 06da:ffff is in two tables (MGE takes it for AEG strings only).
    let mut shared = Vec::new();
    for (i, a) in all().iter().enumerate() {
        for b in &all()[i + 1..] {
            for id in a.usb_ids {
                if b.usb_ids
                    .iter()
                    .any(|o| (o.vendor_id, o.product_id) == (id.vendor_id, id.product_id))
                {
                    shared.push((a.key, b.key, id.vendor_id, id.product_id));
                }
            }
        }
    }
    assert_eq!(shared, [("mge", "liebert", 0x06da, 0xffff)]);
}

#[test]
fn reference_claim_table_counts() {
    // Counts from NUT 2.8.0's tables (reference section 9.1).
    let count =
        |k: &str| find(k).map_or(0, |s| s.usb_ids.iter().filter(|i| i.since.is_none()).count());
    assert_eq!(count("mge"), 11);
    assert_eq!(count("apc"), 3);
    assert_eq!(count("arduino"), 6);
    assert_eq!(count("belkin"), 13);
    assert_eq!(count("cps"), 3);
    assert_eq!(count("tripplite"), 43);
    assert_eq!(count("powercom"), 7);
    assert_eq!(count("salicru"), 4);
    assert_eq!(count("explore"), 0);
}

/// Every conversion, over awkward values and texts: no panic, and the
/// texts stay short (NUT formats into small buffers).
#[test]
fn conversions_never_panic() {
    struct Everything;
    impl Env for Everything {
        fn var(&self, _: &str) -> Option<&str> {
            Some("-99999999999999999999.5")
        }
        fn usb_string(&self, _: u8) -> Option<&str> {
            Some("x")
        }
        fn report(&self, _: u8) -> Option<&[u8]> {
            Some(&[0xff])
        }
        fn status_off(&self) -> bool {
            true
        }
    }
    let values = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        1e-7,
        273.0,
        65535.0,
        65536.0,
        -65536.0,
        4.5e15,
        -4.5e15,
        1e300,
        -1e300,
        f64::MAX,
        f64::MIN,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let texts = [
        "",
        "-",
        "/",
        "2020/1",
        "99999/99/99",
        "-1/-1/-1",
        "yes",
        "\u{e9}\u{e9}",
        "2020/03/15 25:61:61",
        "+7",
    ];
    for table in all_lookups() {
        for env in [&NoEnv as &dyn Env, &Everything] {
            let mut st = State { cps_check_pending: true, ..State::default() };
            for v in values {
                if let Some(t) = lookup_to_nut_with(table, v, &mut st, env) {
                    assert!(t.len() <= 400, "{}: {} bytes", table.name, t.len());
                }
            }
            for t in texts {
                let _ = lookup_to_hid_with(table, t, &st, env);
            }
        }
    }
}

#[test]
fn generic_tables() {
    assert_eq!(nut(&common::BEEPER_INFO, 1.0).as_deref(), Some("disabled"));
    assert_eq!(nut(&common::BEEPER_INFO, 2.0).as_deref(), Some("enabled"));
    assert_eq!(nut(&common::BEEPER_INFO, 3.0).as_deref(), Some("muted"));
    assert_eq!(nut(&common::BEEPER_INFO, 4.0), None);
    assert_eq!(lookup_to_hid(&common::BEEPER_INFO, "muted"), Some(3.0));
    assert_eq!(lookup_to_hid(&common::BEEPER_INFO, "on"), None);

    let tr = [
        "Done and passed",
        "Done and warning",
        "Done and error",
        "Aborted",
        "In progress",
        "No test initiated",
        "Test scheduled",
    ];
    for (i, t) in tr.iter().enumerate() {
        assert_eq!(nut(&common::TEST_READ_INFO, (i + 1) as f64).as_deref(), Some(*t));
    }
    assert_eq!(nut(&common::TEST_READ_INFO, 0.0), None);
    assert_eq!(lookup_to_hid(&common::TEST_WRITE_INFO, "Quick test"), Some(1.0));
    assert_eq!(lookup_to_hid(&common::TEST_WRITE_INFO, "Abort test"), Some(3.0));

    // The value is truncated toward zero before the row search.
    assert_eq!(nut(&common::ONLINE_INFO, 1.9).as_deref(), Some("online"));
    assert_eq!(nut(&common::ONLINE_INFO, 0.0).as_deref(), Some("!online"));
    assert_eq!(nut(&common::ONLINE_INFO, 2.0), None);
    // Inverted tables.
    assert_eq!(nut(&common::OFF_INFO, 0.0).as_deref(), Some("off"));
    assert_eq!(nut(&common::OFF_INFO, 1.0).as_deref(), Some("!off"));
    assert_eq!(nut(&common::NOBATTERY_INFO, 0.0).as_deref(), Some("nobattery"));
    assert_eq!(nut(&common::NOBATTERY_INFO, 1.0).as_deref(), Some("!nobattery"));
    assert_eq!(nut(&common::YES_NO_INFO, 1.0).as_deref(), Some("yes"));
    assert_eq!(nut(&common::ON_OFF_INFO, 0.0).as_deref(), Some("off"));
}

#[test]
fn hid_date() {
    let t = &common::DATE_CONVERSION;
    // (2021-1980)<<9 | 3<<5 | 2, as the Back-UPS ES 850G2 reported it.
    assert_eq!(nut(t, 21090.0).as_deref(), Some("2021/03/02"));
    assert_eq!(nut(t, 0.0).as_deref(), Some("not set"));
    assert_eq!(lookup_to_hid(t, "2021/03/02"), Some(21090.0));
    assert_eq!(lookup_to_hid(t, "2108/01/01"), Some(0.0)); // more than 127 years
    assert_eq!(lookup_to_hid(t, "2020/13/01"), Some(0.0));
    assert_eq!(lookup_to_hid(t, "yesterday"), None);
}

#[test]
fn apc_date() {
    let t = &apc::APC_DATE_CONVERSION;
    // "03/15/20" as hex digits: 0x031520.
    assert_eq!(nut(t, f64::from(0x0003_1520)).as_deref(), Some("2020/03/15"));
    assert_eq!(lookup_to_hid(t, "2020/03/15"), Some(f64::from(0x0003_1520)));
    // NUT's own example: 0x102202 is 2002/10/22; YY >= 70 is 19YY.
    assert_eq!(nut(t, f64::from(0x0010_2202)).as_deref(), Some("2002/10/22"));
    assert_eq!(nut(t, f64::from(0x0012_3199)).as_deref(), Some("1999/12/31"));
    assert_eq!(nut(t, 0.0).as_deref(), Some("not set"));
    assert_eq!(lookup_to_hid(t, "2070/01/01"), Some(0.0));
}

#[test]
fn temperatures() {
    let k = &common::KELVIN_CELSIUS_CONVERSION;
    assert_eq!(nut(k, 298.15).as_deref(), Some("25.0"));
    assert_eq!(nut(k, 273.0).as_deref(), Some("-0.1"));
    // Outside 273..=373 the value is taken as Celsius already.
    assert_eq!(nut(k, 25.0).as_deref(), Some("25.0"));
    assert_eq!(nut(k, 374.0).as_deref(), Some("374.0"));
    assert_eq!(nut(&common::DIVIDE_BY_10_CONVERSION, 123.0).as_deref(), Some("12.3"));
    assert_eq!(nut(&common::HEX_CONVERSION, 255.0).as_deref(), Some("000000ff"));
}

#[test]
fn apc_tables() {
    assert_eq!(nut(&apc::APCSTATUSFLAG_INFO, 8.0).as_deref(), Some("!off"));
    assert_eq!(nut(&apc::APCSTATUSFLAG_INFO, 16.0).as_deref(), Some("!off"));
    assert_eq!(nut(&apc::APCSTATUSFLAG_INFO, 0.0).as_deref(), Some("off"));
    for v in [1.0, 2.0, 4.0, 8.0, 9.0] {
        assert_eq!(nut(&apc::APC_LINEFAILCAUSE_VRANGE_INFO, v).as_deref(), Some("vrange"));
    }
    assert_eq!(nut(&apc::APC_LINEFAILCAUSE_VRANGE_INFO, 7.0), None);
    assert_eq!(nut(&apc::APC_LINEFAILCAUSE_FRANGE_INFO, 7.0).as_deref(), Some("frange"));
    assert_eq!(nut(&apc::APC_SENSITIVITY_INFO, 1.0).as_deref(), Some("medium"));
    assert_eq!(lookup_to_hid(&apc::APC_SENSITIVITY_INFO, "high"), Some(2.0));
}

#[test]
fn apc_model_split() {
    assert_eq!(
        apc::split_model("Back-UPS ES 850G2 FW:931.a10.I USB FW:a10"),
        ("Back-UPS ES 850G2", Some("931.a10.I"), Some("a10"))
    );
    assert_eq!(apc::split_model("Back-UPS 500 FW:6.5.I"), ("Back-UPS 500", Some("6.5.I"), None));
    assert_eq!(apc::split_model("Smart-UPS 1000"), ("Smart-UPS 1000", None, None));
    assert_eq!(apc::split_model("FW:x"), ("", Some("x"), None));
    assert!(apc::wants_max_report("Back-UPS CS 650"));
    assert!(!apc::wants_max_report("Back-UPS ES 700"));
}

#[test]
fn belkin_and_liebert() {
    let fw = &belkin::BELKIN_FIRMWARE_CONVERSION;
    assert_eq!(nut(fw, f64::from(0x52)).as_deref(), Some("5"));
    let ty = &belkin::BELKIN_UPSTYPE_CONVERSION;
    let types = [
        (0x10, "online"),
        (0x11, "offline"),
        (0x12, "line-interactive"),
        (0x13, "simple online"),
        (0x14, "simple offline"),
        (0x15, "simple line-interactive"),
        (0x16, "online"),
    ];
    for (v, t) in types {
        assert_eq!(nut(ty, f64::from(v)).as_deref(), Some(t));
    }
    assert_eq!(nut(&belkin::BELKIN_ONLINE_CONVERSION, 1.0).as_deref(), Some("!online"));
    assert_eq!(nut(&belkin::BELKIN_ONLINE_CONVERSION, 2.0).as_deref(), Some("online"));
    assert_eq!(nut(&belkin::BELKIN_LOWBATT_CONVERSION, 4.0).as_deref(), Some("lowbatt"));
    assert_eq!(nut(&belkin::BELKIN_TEST_INFO, 0.0).as_deref(), Some("No test initiated"));
    // Liebert: any non-zero value sets the word.
    assert_eq!(nut(&belkin::LIEBERT_ONLINE_INFO, 0.5).as_deref(), Some("online"));

    // The broken 1e-7 ConfigVoltage exponent switches both multipliers.
    let mut st = State::default();
    let cv =
        lookup_to_nut_with(&belkin::LIEBERT_CONFIG_VOLTAGE_INFO, 1.2e-6 / 12.0, &mut st, &NoEnv);
    assert_eq!(cv.as_deref(), Some("10.0"));
    assert_eq!((st.liebert_config_mult, st.liebert_line_mult), (1e8, 1e7));
    let lv = lookup_to_nut_with(&belkin::LIEBERT_LINE_VOLTAGE_INFO, 1.2e-5, &mut st, &NoEnv);
    assert_eq!(lv.as_deref(), Some("120.0"));
}

#[test]
fn cyberpower_scale() {
    let sd = find("cps").unwrap();
    let mut st = State::for_device(sd, 0x0764, 0x0501);
    assert!(st.cps_check_pending);
    struct Nominal;
    impl Env for Nominal {
        fn var(&self, name: &str) -> Option<&str> {
            (name == "battery.voltage.nominal").then_some("12")
        }
    }
    // Without the nominal voltage the check waits.
    let v = lookup_to_nut_with(&cps::CPS_BATTVOLT, 20.4, &mut st, &NoEnv);
    assert_eq!(v.as_deref(), Some("20.4"));
    assert!(st.cps_check_pending);
    // 20.4 / 12 > 1.4: scaled by 2/3, once and for all.
    let v = lookup_to_nut_with(&cps::CPS_BATTVOLT, 20.4, &mut st, &Nominal);
    assert_eq!(v.as_deref(), Some("13.6"));
    let v = lookup_to_nut_with(&cps::CPS_BATTVOLT, 13.5, &mut st, &Nominal);
    assert_eq!(v.as_deref(), Some("9.0"));
    // Other product IDs never scale.
    let mut st = State::for_device(sd, 0x0764, 0x0601);
    let v = lookup_to_nut_with(&cps::CPS_BATTVOLT, 20.4, &mut st, &Nominal);
    assert_eq!(v.as_deref(), Some("20.4"));
    assert_eq!(nut(&cps::CPS_BATTCHARGE, 104.0).as_deref(), Some("100"));
}

#[test]
fn tripplite_scales() {
    let sd = find("tripplite").unwrap();
    let mut st = State::for_device(sd, 0x09ae, 0x2005);
    let v = lookup_to_nut_with(&tripplite::TRIPPLITE_BATTVOLT, 135.0, &mut st, &NoEnv);
    assert_eq!(v.as_deref(), Some("13.5"));
    let mut st = State::for_device(sd, 0x09ae, 0x3016);
    let v = lookup_to_nut_with(&tripplite::TRIPPLITE_BATTVOLT, 0.000135, &mut st, &NoEnv);
    assert_eq!(v.as_deref(), Some("13.5"));
    let v = lookup_to_nut_with(&tripplite::TRIPPLITE_IOFREQ, 6000.0, &mut st, &NoEnv);
    assert_eq!(v.as_deref(), Some("60.0"));
    struct Pid;
    impl Env for Pid {
        fn var(&self, name: &str) -> Option<&str> {
            (name == "ups.productid").then_some("1003")
        }
    }
    let v = lookup_to_nut_with(&tripplite::TRIPPLITE_CHEMISTRY, 4.0, &mut st, &Pid);
    assert_eq!(v.as_deref(), Some("unknown"));
}

#[test]
fn powercom_delays() {
    let st = State::default();
    // 2 minutes, byte-swapped.
    assert_eq!(
        lookup_to_hid_with(&powercom::POWERCOM_STARTUP_INFO, "120", &st, &NoEnv),
        Some(f64::from(0x0200))
    );
    assert_eq!(nut(&powercom::POWERCOM_STARTUP_INFO, f64::from(0x0200)).as_deref(), Some("120"));
    // 90 s: 30 s in the high byte, 1 minute in the low byte, restart flag.
    let hid = lookup_to_hid_with(&powercom::POWERCOM_SHUTDOWN_INFO, "90", &st, &NoEnv);
    assert_eq!(hid, Some(f64::from(0x4000 | (30 << 8) | 1)));
    assert_eq!(
        nut(&powercom::POWERCOM_SHUTDOWN_INFO, f64::from((30 << 8) | 1)).as_deref(),
        Some("90")
    );
    let hid = lookup_to_hid_with(&powercom::POWERCOM_STAYOFF_INFO, "0", &st, &NoEnv);
    assert_eq!(hid, Some(f64::from(0x8000 | (1 << 8))));
    assert_eq!(nut(&powercom::POWERCOM_STAYOFF_INFO, 1.0), None);
    assert_eq!(nut(&powercom::POWERCOM_TRIM_CONVERSION, 8.0).as_deref(), Some("trim"));
    assert_eq!(nut(&powercom::POWERCOM_BOOST_CONVERSION, 24.0).as_deref(), Some("boost"));
    assert_eq!(nut(&powercom::POWERCOM_TRIM_CONVERSION, 24.0).as_deref(), Some("!trim"));
    assert_eq!(nut(&powercom::POWERCOM_BEEPER_INFO, 2.0).as_deref(), Some("disabled"));
}

#[test]
fn mge_model_dependent() {
    let mut st = State::default();
    // Default type (line-interactive/online): battery.voltage is not published.
    let t = &mge::MGE_BATTERY_VOLTAGE;
    assert_eq!(lookup_to_nut_with(t, 27.1, &mut st, &NoEnv), None);
    let (name, ty) = mge::model_name("Evolution", "650");
    assert_eq!((name.as_str(), ty), ("Evolution 650", 0x301));
    st.mge_type = ty;
    assert_eq!(lookup_to_nut_with(t, 27.1, &mut st, &NoEnv).as_deref(), Some("27.1"));
    let n = lookup_to_nut_with(&mge::MGE_BATTERY_VOLTAGE_NOMINAL, 24.0, &mut st, &NoEnv);
    assert_eq!(n.as_deref(), Some("12"));
    assert_eq!(mge::model_name("ELLIPSE", "500").0, "ellipse 500");
    assert_eq!(mge::model_name("5E", "").0, "5E");

    // ABM: unknown -> charging rows clear, disabled -> they are used.
    let mut st = State::default();
    let chrg = &mge::EATON_CHARGING_INFO;
    assert_eq!(lookup_to_nut_with(chrg, 1.0, &mut st, &NoEnv).as_deref(), Some("!chrg"));
    assert_eq!(lookup_to_nut_with(&mge::EATON_ABM_ENABLED_INFO, 0.0, &mut st, &NoEnv), None);
    assert_eq!(lookup_to_nut_with(chrg, 1.0, &mut st, &NoEnv).as_deref(), Some("chrg"));
    assert_eq!(lookup_to_nut_with(&mge::EATON_ABM_STATUS_INFO, 3.0, &mut st, &NoEnv), None);
    st.abm = Some(1);
    let s = lookup_to_nut_with(&mge::EATON_ABM_STATUS_INFO, 3.0, &mut st, &NoEnv);
    assert_eq!(s.as_deref(), Some("floating"));
    let s = lookup_to_nut_with(&mge::EATON_ABM_CHRG_DISCHRG_INFO, 3.0, &mut st, &NoEnv);
    assert_eq!(s.as_deref(), Some("chrg"));

    // Nominal output voltage: the first value fixes the range.
    let mut st = State::default();
    let nv = &mge::NOMINAL_OUTPUT_VOLTAGE_INFO;
    assert_eq!(lookup_to_nut_with(nv, 230.0, &mut st, &NoEnv).as_deref(), Some("230"));
    assert_eq!(lookup_to_nut_with(nv, 120.0, &mut st, &NoEnv), None);
    assert_eq!(lookup_to_nut_with(nv, 208.0, &mut st, &NoEnv).as_deref(), Some("208"));

    assert_eq!(nut(&mge::MGE_POWERFACTOR_CONVERSION, 80.0).as_deref(), Some("0.80"));
    assert_eq!(nut(&mge::MGE_BATTERY_CAPACITY, 7200.0).as_deref(), Some("2.00"));
    assert_eq!(nut(&mge::MGE_DATE_CONVERSION, 1_700_000_000.0).as_deref(), Some("2023/11/14"));
    assert_eq!(nut(&mge::MGE_TIME_CONVERSION, 1_700_000_000.0).as_deref(), Some("22:13:20"));
    assert_eq!(nut(&mge::MGE_SENSITIVITY_INFO, 2.0).as_deref(), Some("low"));
}

#[test]
fn other_vendors() {
    let t = &delta_ups::DELTA_UPS_TYPE_INFO;
    let want = [
        "online",
        "offline",
        "line-interactive",
        "offline",
        "line-interactive",
        "3-phase",
        "split-phase",
    ];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(nut(t, i as f64).as_deref(), Some(*w));
    }
    assert_eq!(nut(t, 7.0), None);
    assert_eq!(nut(&legrand::LEGRAND_TIMES10_INFO, 23.0).as_deref(), Some("230.0"));
    assert_eq!(nut(&openups::OPENUPS_TEMPERATURE_INFO, 0.0).as_deref(), Some("-40"));
    assert_eq!(nut(&openups::OPENUPS_TEMPERATURE_INFO, 5.12).as_deref(), Some("25"));
    assert_eq!(nut(&openups::OPENUPS_TEMPERATURE_INFO, 100.0).as_deref(), Some("125"));
    assert_eq!(nut(&ever::EVER_FORMAT_HARDWARE, f64::from(0x0203)).as_deref(), Some("rev.Bv03"));
    assert_eq!(nut(&ever::EVER_FORMAT_VERSION, f64::from(0x1205)).as_deref(), Some("v1.2b05"));

    struct Reports;
    impl Env for Reports {
        fn report(&self, id: u8) -> Option<&[u8]> {
            match id {
                74 => Some(&[74, 8]),
                75 => Some(&[75, 0x48, 0x00]),
                210 => Some(&[210, 0x00, 0x1b, 0xa0]),
                _ => None,
            }
        }
    }
    let mut st = State::default();
    let w = lookup_to_nut_with(&ever::EVER_WORKMODE, 0.0, &mut st, &Reports);
    assert_eq!(w.as_deref(), Some("ONBATTERY"));
    let m = lookup_to_nut_with(&ever::EVER_MESSAGES, 0.0, &mut st, &Reports);
    assert_eq!(m.as_deref(), Some("BUCK CHARGING"));
    let mac = lookup_to_nut_with(&ever::EVER_MAC_ADDRESS, 0.0, &mut st, &Reports);
    assert_eq!(mac.as_deref(), Some("00:1b:a0"));
    let off = lookup_to_nut_with(&ever::EVER_ON_OFF_INFO, 0.0, &mut st, &Reports);
    assert_eq!(off.as_deref(), Some("!off"));
}

#[test]
fn formats() {
    assert_eq!(format_value("%.0f", 99.5).as_deref(), Some("100"));
    assert_eq!(format_value("%.1f", 13.43).as_deref(), Some("13.4"));
    assert_eq!(format_value("%.2f", 1.0).as_deref(), Some("1.00"));
    assert_eq!(format_value("%0.1f", -2.0).as_deref(), Some("-2.0"));
    assert_eq!(format_value("%5.1f", 2.0).as_deref(), Some("  2.0"));
    assert_eq!(format_value("%s", 2.0), None);
    assert_eq!(format_value("20", 2.0), None);
    assert_eq!(format_value("%.1f", 13.6).as_deref(), Some("13.6"));
    assert_eq!(format_value("%.2f", -0.05).as_deref(), Some("-0.05"));
    assert_eq!(format_value("%.0f", -0.0).as_deref(), Some("-0"));
    assert_eq!(format_value("%.1f", 0.15).as_deref(), Some("0.1"));
}

/// The integer fast path of `%.Nf` prints what the exact decimal expansion prints
/// (Rust's `{:.N}`, which rounds the exact binary value half to even as glibc does).
#[test]
fn fixed_formats_agree_with_the_exact_expansion() {
    let mut values = alloc::vec![0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 1e15, 4.5e15, 9.1e15, -7.3e15];
    for k in -20_000i32..20_000 {
        let k = f64::from(k);
        values.extend([k, k / 10.0, k / 100.0, k / 1000.0, k * 0.1, k * 0.01, k * 1.7, k / 3.0]);
    }
    for v in values {
        for prec in 0..=6 {
            let fmt = alloc::format!("%.{prec}f");
            let exact = alloc::format!("{v:.prec$}");
            assert_eq!(format_value(&fmt, v), Some(exact), "{fmt} of {v:e}");
        }
    }
}

#[test]
fn selection() {
    assert_eq!(select(0x051d, 0x0002, None, None).map(|s| s.key), Some("apc"));
    // Known vendor, unknown product: a hint, not a claim.
    let dev = Device { vendor_id: 0x051d, product_id: 0x1234, ..Device::default() };
    assert_eq!(find("apc").unwrap().claim(&dev, &SelectOptions::default()), Claim::Hint("APC"));
    assert_eq!(select(0x051d, 0x1234, None, None), None);
    let opts = SelectOptions { productid_set: true, ..SelectOptions::default() };
    assert_eq!(select_with(&dev, &opts).map(|(s, _)| s.key), Some("apc"));
    // Refusals stand even with productid.
    let pc = Device { vendor_id: 0x0d9f, product_id: 0x0002, ..Device::default() };
    assert_eq!(select_with(&pc, &opts), None);
    assert_eq!(find("powercom").unwrap().claim(&pc, &opts), Claim::Refused(Some("powercom")));
    // Phoenixtec: MGE only with "AEG" in a string, else Liebert.
    assert_eq!(select(0x06da, 0xffff, Some("AEG"), None).map(|s| s.key), Some("mge"));
    assert_eq!(select(0x06da, 0xffff, None, Some("PROTECT NAS AEG")).map(|s| s.key), Some("mge"));
    assert_eq!(select(0x06da, 0xffff, Some("Phoenixtec"), None).map(|s| s.key), Some("liebert"));
    // HP: MGE and Tripp Lite decline silently without productid.
    let hp = Device { vendor_id: 0x03f0, product_id: 0x1234, ..Device::default() };
    assert_eq!(find("mge").unwrap().claim(&hp, &SelectOptions::default()), Claim::NotMine);
    assert_eq!(select_with(&hp, &opts).map(|(s, _)| s.key), Some("mge"));
    assert_eq!(select(0x03f0, 0x1fe0, None, None).map(|s| s.key), Some("tripplite"));
    // Delta 05dd: its own subdriver for 041b, Tripp Lite for a011.
    assert_eq!(select(0x05dd, 0x041b, None, None).map(|s| s.key), Some("delta_ups"));
    assert_eq!(select(0x05dd, 0xa011, None, None).map(|s| s.key), Some("tripplite"));
    // Explore takes anything, only with the option.
    let x = SelectOptions { explore: true, ..SelectOptions::default() };
    assert_eq!(select_with(&dev, &x).map(|(s, _)| s.key), Some("explore"));
    // Belkin's USB hub is never a UPS.
    let hub = Device { vendor_id: 0x050d, product_id: 0x0218, ..Device::default() };
    assert_eq!(select_with(&hub, &opts), None);
}

#[test]
fn manufacturer_rules() {
    let belkin = find("belkin").unwrap().identity.mfr;
    assert_eq!(belkin.apply(Some("  Belkin Corp")), Some("Belkin Corp"));
    assert_eq!(belkin.apply(Some("   ")), Some("Belkin"));
    assert_eq!(belkin.apply(None), Some("Belkin"));
    assert_eq!(find("apc").unwrap().identity.mfr.apply(None), Some("APC"));
    assert_eq!(find("mge").unwrap().identity.mfr.apply(None), Some("Eaton"));
    assert_eq!(find("tripplite").unwrap().identity.mfr.apply(None), None);
}

#[test]
fn hooks_per_id() {
    let apc = find("apc").unwrap();
    let d = Device { vendor_id: 0x051d, product_id: 0x0003, ..Device::default() };
    assert_eq!(
        apc.claim(&d, &SelectOptions::default()),
        Claim::Supported(Some(IdHook::DisableInterruptPipe))
    );
    let o = find("openups").unwrap();
    let st = State::for_device(o, 0x04d8, 0xd005);
    assert_eq!(st.openups_vin, 0.1);
}
