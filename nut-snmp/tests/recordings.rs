//! Recorded agents (tests/data, see its README) through detection and the
//! walk, checked against NUT 2.8.0's published output where it is known
//! and otherwise against the recorded values and the mapping rules.

use nut_proto::publish::{Publish, Recorder};
use nut_snmp::{MapAgent, Options, Session, detect, snmprec, tables};

fn load(name: &str) -> MapAgent {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (agent, errors) = snmprec::parse_lenient(&String::from_utf8_lossy(&bytes));
    assert!(errors.is_empty(), "{name}: {errors:?}");
    agent
}

fn snapshot(name: &str) -> (&'static str, Recorder, Session) {
    let mut agent = load(name);
    let m = detect(&mut agent, "auto").unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut r = Recorder::new();
    let s = nut_snmp::publish_snapshot(m, &mut agent, &mut r);
    (m.name, r, s)
}

/// `upsc` text into (name, value) pairs.
fn upsc(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(": ").or_else(|| l.strip_suffix(':').map(|n| (n, ""))))
        .map(|(k, v)| (k.to_string(), v.split('\t').next().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn detection_follows_nut_order() {
    // expected mapping from each file's sysObjectID and present model
    // object, by the 2.8.0 table (nut-drivers-reference 6.1)
    let cases: &[(&str, Option<&str>)] = &[
        // sysOID .3808.1.1.1 = cyberpower's
        ("librenms/cyberpower_pr2200rt2uc.snmprec", Some("cyberpower")),
        // sysOID .318.1.3.27 matches nothing; apc_ats and apc_pdu model
        // objects absent, apcc's upsBasicIdentModel present
        ("librenms/apc_smx750.snmprec", Some("apcc")),
        ("librenms/apc_powerchute.snmprec", Some("apcc")),
        // sysOID .1.3.6.1.2.1.33 = ietf's
        ("librenms/generex-ups_cs121.snmprec", Some("ietf")),
        // no sysOID match: the classic pass reaches "tripplite" (same IETF
        // table) before "ietf"
        ("librenms/istars.snmprec", Some("tripplite")),
        // .534.1 = pw's
        ("librenms/eatonupsm2_9px.snmprec", Some("pw")),
        // .318.1.3.11 = apc_ats's
        ("librenms/apc_ats.snmprec", Some("apc_ats")),
        // .2254.2.4 = delta_ups's
        ("librenms/deltaups.snmprec", Some("delta_ups")),
        // .318.1.3.4.4 = apc_pdu (rPDU)
        ("librenms/apc_ap7900b.snmprec", Some("apc_pdu")),
        // .705.1: eaton_ats16_nmc comes first but its model object is
        // absent; mge's answers
        ("snmpsim-data/eaton-93e-80.snmprec", Some("mge")),
        ("librenms/eaton-mgeups_5px.snmprec", Some("mge")),
        ("snmpsim-data/apc-8641.snmprec", Some("apc_pdu")),
        ("snmpsim-data/huawei-gse200m.snmprec", Some("huawei")),
        // CyberPower PDU (.3808.1.1.6) and Liebert: no mapping in 2.8.0
        ("librenms/cyberpower_pdu81005.snmprec", None),
        ("librenms/liebert.snmprec", None),
    ];
    for (file, want) in cases {
        let mut a = load(file);
        let got = detect(&mut a, "auto").ok().map(|m| m.name);
        assert_eq!(got, *want, "{file}");
    }
}

#[test]
fn forced_mibs() {
    let mut a = load("librenms/generex-ups_cs121.snmprec");
    assert_eq!(detect(&mut a, "ietf").unwrap().name, "ietf");
    assert!(matches!(detect(&mut a, "apcc"), Err(nut_snmp::DetectError::NotFound(_))));
    assert!(matches!(detect(&mut a, "nonesuch"), Err(nut_snmp::DetectError::UnknownMibs(_))));
}

#[test]
fn cyberpower_as_nut_2_8_0_publishes() {
    let (name, r, _s) = snapshot("librenms/cyberpower_pr2200rt2uc.snmprec");
    assert_eq!(name, "cyberpower");
    let text = std::fs::read_to_string(format!(
        "{}/tests/data/nut-2.8.0-cyberpower-rmcard205.upsc",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let nut = upsc(&text);
    // variables the driver core adds (driver.*, and the device.* copies of
    // ups.mfr/model/serial made by main.c) are not the mapping's
    let core = |k: &str| {
        k.starts_with("driver.") && k != "driver.version.data"
            || matches!(k, "device.mfr" | "device.model" | "device.serial")
    };
    for (k, v) in &nut {
        if core(k) {
            continue;
        }
        assert!(r.getinfo(k).is_some(), "NUT 2.8.0 publishes {k}, we do not");
        // values that do not depend on the device or on time
        if matches!(
            k.as_str(),
            "driver.version.data"
                | "device.type"
                | "ups.mfr"
                | "ups.status"
                | "battery.runtime.elapsed"
        ) {
            assert_eq!(r.getinfo(k), Some(v.as_str()), "{k}");
        }
    }
    // what this card has beyond the (issue #2793 shows both on an
    // OL1000RTXL2UN with 2.8.0)
    for (k, _) in r.tree().vars() {
        let known = nut.iter().any(|(n, _)| n == k)
            || matches!(k, "ups.delay.shutdown" | "ups.delay.start");
        assert!(known, "we publish {k}, NUT 2.8.0 does not");
    }
    // values from the recording, by the mapping's multipliers
    assert_eq!(r.getinfo("ups.model"), Some("PR2200RT2UC")); // upsBaseIdentModel
    assert_eq!(r.getinfo("input.voltage"), Some("121")); // 1210 x 0.1
    assert_eq!(r.getinfo("battery.voltage"), Some("54.80")); // 548 x 0.1
    assert_eq!(r.getinfo("battery.runtime"), Some("10500")); // TimeTicks 1050000
    assert_eq!(r.getinfo("ups.firmware"), Some("1.1786")); // hex-recorded text
    // cyberpower's command rows have no value to set (dfl NULL in 2.8.0):
    // upscmd without an extra value is refused, with one it is sent
    let s = &_s;
    assert!(r.commands().contains(&"load.off"));
    assert!(matches!(s.instcmd(&r, "load.off", None), Err(nut_snmp::SetError::Invalid { .. })));
    let req = s.instcmd(&r, "load.off", Some("2")).unwrap();
    assert_eq!(req.oid, ".1.3.6.1.4.1.3808.1.1.1.6.2.1.0");
    assert_eq!(req.value, nut_snmp::SetValue::Integer(2));
    // the "NULL" entry first in cyberpower_power_status ends the search:
    // no power token, as in NUT issue #1427
    assert_eq!(r.getinfo("ups.status"), Some(""));
}

#[test]
fn apcc_smart_ups_x_750() {
    let (name, r, s) = snapshot("librenms/apc_smx750.snmprec");
    assert_eq!(name, "apcc");
    let want = [
        ("driver.version.data", "apcc MIB 1.6"),
        ("ups.mfr", "APC"),
        ("ups.model", "Smart-UPS X 750"),
        ("input.voltage", "246"), // upsHighPrecInputLineVoltage 2460 x 0.1
        ("output.voltage", "246.10"), // 2461 x 0.1, not integral
        ("input.frequency", "49.90"),
        ("ups.load", "76.20"),
        ("battery.charge", "100"), // upsHighPrecBatteryCapacity 1000 x 0.1
        ("battery.runtime", "16374"), // TimeTicks 1637400 / 100
        ("ups.temperature", "20.90"),
        ("input.transfer.reason", "selfTest"), // lookup of 9
        ("battery.packs", "3"),
        ("ups.status", "OL"), // upsBasicOutputStatus 2
    ];
    for (k, v) in want {
        assert_eq!(r.getinfo(k), Some(v), "{k}");
    }
    // UNIQUE: the high-precision row answered, so its low-precision
    // competitor is disabled for updates
    let rows = tables::apc::APC.rows;
    let low = rows.iter().position(|r| r.name == "input.voltage" && r.len == 1.0).unwrap();
    let high = rows.iter().position(|r| r.name == "input.voltage" && r.len == 0.1).unwrap();
    assert_eq!(s.row_flags(low).unwrap() & nut_snmp::mib::flags::SU_FLAG_OK, 0);
    assert_ne!(s.row_flags(high).unwrap() & nut_snmp::mib::flags::SU_FLAG_OK, 0);
}

#[test]
fn apcc_system_group_as_nut_2_8_0_ddl() {
    // The ddl holds NUT 2.8.0's output and the device's mib-2 walk; build an
    // agent from the walk's system group and compare what comes from it.
    let path = format!(
        "{}/tests/data/ddl/APC__Smart-UPS_5000_RM__snmp-ups__2.8.0__01.dev",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let nut = upsc(&text);
    let get = |k: &str| nut.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let walk = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("# SNMPv2-MIB::{key} = STRING: ")))
            .unwrap()
            .to_string()
    };
    let mut a = MapAgent::new();
    a.insert("1.3.6.1.2.1.1.1.0", nut_snmp::Value::OctetString(walk("sysDescr.0").into_bytes()));
    a.insert("1.3.6.1.2.1.1.4.0", nut_snmp::Value::OctetString(walk("sysContact.0").into_bytes()));
    let mut r = Recorder::new();
    let mut s = Session::new(&tables::apc::APC, Options::default());
    s.init(&mut a, &mut r);
    s.update(&mut a, &mut r);
    for k in ["device.description", "device.contact", "driver.version.data", "ups.mfr"] {
        assert_eq!(r.getinfo(k), get(k), "{k}");
    }
    // sysDescr is longer than NUT's 128-byte buffer
    assert_eq!(r.getinfo("device.description").map(str::len), Some(127));
}

#[test]
fn ietf_generex() {
    let (name, r, _) = snapshot("librenms/generex-ups_cs121.snmprec");
    assert_eq!(name, "ietf");
    for (k, v) in [
        ("ups.mfr", "Rittal"),
        ("ups.model", "RITTAL PMC Extension"),
        ("battery.runtime", "3540"), // upsEstimatedMinutesRemaining 59 x 60
        ("battery.voltage", "273"),  // 2730 x 0.1
        ("battery.temperature", "21"),
        ("input.frequency", "50"), // 500 x 0.1
        ("output.voltage", "227"),
        ("output.current", "80"), // 800 x 0.1
        ("ups.load", "28"),
        ("ups.status", "OL"), // upsOutputSource 3
        ("input.phases", "1"),
    ] {
        assert_eq!(r.getinfo(k), Some(v), "{k}");
    }
    // the three-phase rows are not published on a one-phase device
    assert_eq!(r.getinfo("output.L1-N.voltage"), None);
}

#[test]
fn mge_eaton_93e() {
    let (name, r, _) = snapshot("snmpsim-data/eaton-93e-80.snmprec");
    assert_eq!(name, "mge");
    for (k, v) in [
        ("ups.model", "93E HV"), // hex-recorded printable text
        ("battery.charge", "100"),
        ("battery.voltage", "521"), // 5210 x 0.1
        ("output.L1-N.voltage", "220"),
        ("input.phases", "3"),
        ("output.phases", "3"),
    ] {
        assert_eq!(r.getinfo(k), Some(v), "{k}");
    }
    // SU_TYPE_CMD rows become commands only when their OID answers
    let cmds = r.commands();
    assert!(cmds.contains(&"load.off") && cmds.contains(&"beeper.enable"), "{cmds:?}");
    assert!(!cmds.contains(&"test.battery.start"), "{cmds:?}");
}

#[test]
fn apc_pdu_outlets() {
    let (name, r, s) = snapshot("snmpsim-data/apc-8641.snmprec");
    assert_eq!(name, "apc_pdu");
    // sPDUOutletControl table: 24 outlets, SNMP index from 1
    assert_eq!(r.getinfo("outlet.count"), Some("24"));
    assert_eq!(r.getinfo("outlet.1.id"), Some("1"));
    assert_eq!(r.getinfo("outlet.1.desc"), Some("ESX Server 1 PS 2"));
    assert_eq!(r.getinfo("outlet.1.status"), Some("on"));
    assert!(r.getinfo("outlet.24.id").is_some() && r.getinfo("outlet.25.id").is_none());
    assert!(r.getinfo("outlet.0.id").is_none());
    // outlet.%i.desc is RW STRING: upsrw writes the OCTET STRING
    let req = s.setvar(&r, "outlet.2.desc", "db01").unwrap();
    assert_eq!(req.oid, ".1.3.6.1.4.1.318.1.1.4.4.2.1.4.2");
    assert_eq!(req.value, nut_snmp::SetValue::OctetString("db01".into()));
    // an outlet beyond outlet.count is refused
    assert!(matches!(s.setvar(&r, "outlet.25.desc", "x"), Err(nut_snmp::SetError::Invalid { .. })));
    // a PDU has no status rows: ups.status is empty, as NUT's PDUs
    assert_eq!(r.getinfo("ups.status"), Some(""));
}

#[test]
fn huawei_three_phase() {
    let (name, r, _) = snapshot("snmpsim-data/huawei-gse200m.snmprec");
    assert_eq!(name, "huawei");
    assert_eq!(r.getinfo("input.phases"), Some("3"));
    assert!(r.getinfo("input.L1-N.voltage").is_some());
    assert_eq!(r.getinfo("input.voltage"), None);
    assert_eq!(r.getinfo("ups.status"), Some("OL"));
}

#[test]
fn update_reads_only_working_rows() {
    let mut a = load("librenms/apc_smx750.snmprec");
    let m = detect(&mut a, "auto").unwrap();
    let mut r = Recorder::new();
    let mut s = Session::new(m, Options::default());
    s.init(&mut a, &mut r);
    s.update(&mut a, &mut r);
    // the device goes on battery; the next poll shows it
    a.insert("1.3.6.1.4.1.318.1.1.1.4.1.1.0", nut_snmp::Value::Integer(3));
    a.insert("1.3.6.1.4.1.318.1.1.1.2.2.4.0", nut_snmp::Value::Integer(2));
    s.update(&mut a, &mut r);
    assert_eq!(r.getinfo("ups.status"), Some("OB RB"));
    // a static row is not read again
    a.insert("1.3.6.1.4.1.318.1.1.1.1.1.1.0", nut_snmp::Value::OctetString(b"other".to_vec()));
    s.update(&mut a, &mut r);
    assert_eq!(r.getinfo("ups.model"), Some("Smart-UPS X 750"));
}

#[test]
fn flags_aux_and_enums_as_su_setinfo() {
    let (_, r, _) = snapshot("snmpsim-data/apc-8641.snmprec");
    // outlet.%i.status: ST_FLAG_RW | ST_FLAG_STRING, SU_INFOSIZE, with a
    // lookup: writable string of 128 with the lookup's values as enums
    let v = r.tree().get("outlet.1.status").unwrap();
    assert!(v.flags.rw && v.flags.string);
    assert_eq!(v.aux, 128);
    assert_eq!(v.enums, ["on", "off"]); // apc_pdu_sw_outlet_status_info
    // a numeric row: no flags, aux = its multiplier as a long (0.1 -> 0)
    let v = r.tree().get("input.current").unwrap();
    assert!(!v.flags.rw && !v.flags.string);
    assert_eq!(v.aux, 0);
}

#[test]
fn delta_and_tripplite_fallback() {
    let (name, r, _) = snapshot("librenms/deltaups.snmprec");
    assert_eq!(name, "delta_ups");
    assert_eq!(r.getinfo("ups.mfr"), Some("Minuteman"));
    assert_eq!(r.getinfo("ups.model"), Some("E1500RTXL2U"));
    assert_eq!(r.getinfo("ups.firmware.aux"), Some("03"));
    // delta_ups maps sysDescr itself, writable
    let v = r.tree().get("device.description").unwrap();
    assert!(v.flags.rw && v.flags.string);

    let (name, r, _) = snapshot("librenms/istars.snmprec");
    assert_eq!(name, "tripplite");
    assert_eq!(r.getinfo("driver.version.data"), Some("tripplite MIB 1.54"));
    assert_eq!(r.getinfo("battery.runtime"), Some("50880")); // 848 min x 60
    assert_eq!(r.getinfo("battery.voltage"), Some("216.90")); // 2169 x 0.1
    assert_eq!(r.getinfo("ups.firmware"), Some("R1.1.1"));
    assert_eq!(r.getinfo("ups.model"), Some("")); // an empty OCTET STRING
    assert_eq!(r.getinfo("ups.status"), Some("OL"));
}

#[test]
fn mapping_list_as_nut_prints_it() {
    let s = nut_snmp::mapping_list();
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 4 + 1 + 30 + 2);
    assert_eq!(
        lines[4],
        " NUMBER\tMAPPING NAME           \tVERSION\tENTRY POINT OID                \tAUTO CHECK OID"
    );
    assert_eq!(
        lines[5],
        "    1 \tapc_ats                \t    0.6\t.1.3.6.1.4.1.318.1.3.11        \t.1.3.6.1.4.1.318.1.1.8.1.5.0"
    );
    assert!(lines[14].ends_with("\t<NULL>"), "{}", lines[14]);
    assert_eq!(lines[36], "Overall this driver has loaded 30 MIB-to-NUT mapping tables");
}
