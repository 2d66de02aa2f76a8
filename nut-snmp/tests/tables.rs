//! Sanity of the transcribed tables.

use nut_snmp::agent::parse_oid;
use nut_snmp::engine::fill_template;
use nut_snmp::mib::flags::*;
use nut_snmp::{MAPPINGS, Row};

#[test]
fn mappings_in_auto_order_with_versions_and_sysoids() {
    // nut-drivers-reference 6.1 (from NUT 2.8.0 snmp-ups.c mib2nut[] and
    // the *-mib.c version macros)
    let want: &[(&str, &str, &str)] = &[
        ("apc_ats", "0.6", ".1.3.6.1.4.1.318.1.3.11"),
        ("apc_pdu", "0.4", ".1.3.6.1.4.1.318.1.3.4.4"),
        ("apc_pdu", "0.4", ".1.3.6.1.4.1.318.1.3.4.5"),
        ("apc_pdu", "0.4", ".1.3.6.1.4.1.318.1.3.4.6"),
        ("apcc", "1.6", ".1.3.6.1.4.1.318.1.1.1.1.1.1.0"),
        ("baytech", "0.4034", ".1.3.6.1.4.1.4779"),
        ("bestpower", "0.4", ".1.3.6.1.4.1.2947.1.1.2.0"),
        ("cpqpower", "1.66", ".1.3.6.1.4.1.232.165.3"),
        ("cyberpower", "0.51", ".1.3.6.1.4.1.3808.1.1.1"),
        ("delta_ups", "0.5", ".1.3.6.1.4.1.2254.2.4"),
        ("eaton_ats16_nmc", "0.21", ".1.3.6.1.4.1.705.1"),
        ("eaton_ats16_nm2", "0.22", ".1.3.6.1.4.1.534.10.2"),
        ("eaton_ats30", "0.03", ".1.3.6.1.4.1.534.10.1"),
        ("eaton_epdu", "0.69", ".1.3.6.1.4.1.534.6.6.7"),
        ("emerson_avocent_pdu", "1.3", ".1.3.6.1.4.1.10418.17.1.7"),
        ("aphel_revelation", "0.52", ".1.3.6.1.4.1.534.6.6.6"),
        ("aphel_genesisII", "0.52", ".1.3.6.1.4.1.17373"),
        ("pulizzi_switched1", "0.5", ".1.3.6.1.4.1.20677.1"),
        ("pulizzi_switched2", "0.5", ".1.3.6.1.4.1.20677.2"),
        ("hpe_epdu", "0.33", ".1.3.6.1.4.1.232.165.7"),
        ("huawei", "0.4", ".1.3.6.1.4.1.8072.3.2.10"),
        ("mge", "0.55", ".1.3.6.1.4.1.705.1"),
        ("netvision", "0.44", ".1.3.6.1.4.1.4555.1.1.1"),
        ("pw", "0.104", ".1.3.6.1.4.1.534.1"),
        ("pxgx_ups", "0.104", ".1.3.6.1.4.1.534.2.12"),
        ("raritan", "0.8", ".1.3.6.1.4.1.13742"),
        ("raritan-px2", "0.4", ".1.3.6.1.4.1.13742.6"),
        ("xppc", "0.4", ".1.3.6.1.4.1.935"),
        ("tripplite", "1.54", ".1.3.6.1.4.1.850.1"),
        ("ietf", "1.54", ".1.3.6.1.2.1.33"),
    ];
    let got: Vec<_> =
        MAPPINGS.iter().map(|m| (m.name, m.version, m.sysoid.unwrap_or(""))).collect();
    assert_eq!(got, want);
}

fn valid_name(r: &Row) -> bool {
    let n = r.name;
    !n.is_empty()
        && n.split('.').all(|seg| !seg.is_empty())
        && n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'%'))
        && n.matches('%').count() == n.matches("%i").count()
}

#[test]
fn rows_are_well_formed() {
    let known = SU_FLAG_OK
        | SU_FLAG_STATIC
        | SU_FLAG_ABSENT
        | SU_FLAG_STALE
        | SU_FLAG_NEGINVALID
        | SU_FLAG_UNIQUE
        | SU_FLAG_ZEROINVALID
        | SU_FLAG_NAINVALID
        | SU_CMD_OFFSET
        | SU_FLAG_SEMI_STATIC
        | SU_OUTLET_GROUP
        | SU_OUTLET
        | SU_INPHASES
        | SU_OUTPHASES
        | SU_BYPPHASES
        | SU_TYPE_MASK
        | SU_TYPE_DAISY_1
        | SU_TYPE_DAISY_2
        | SU_DAISY
        | SU_TYPE_DAISY_MASTER_ONLY
        | SU_AMBIENT_TEMPLATE
        | SU_STATUS_PWR
        | SU_STATUS_BATT
        | SU_STATUS_CAL
        | SU_STATUS_RB;
    let mut rows = 0;
    for m in MAPPINGS {
        assert!(!m.rows.is_empty(), "{}", m.name);
        for r in m.rows {
            rows += 1;
            assert!(valid_name(r), "{}: bad name {:?}", m.name, r.name);
            assert_eq!(r.var_flags & !(ST_FLAG_RW | ST_FLAG_STRING), 0, "{}: {}", m.name, r.name);
            assert_eq!(r.flags & !known, 0, "{}: {}", m.name, r.name);
            assert!(r.len.is_finite() && r.len >= 0.0, "{}: {}", m.name, r.name);
            // (ambient template rows may have plain names, e.g. the Eaton
            // sensor ups.alarm rows)
            // (hpe_epdu flags some outlet.group rows SU_OUTLET, as NUT's table)
            if r.flags & (SU_OUTLET | SU_OUTLET_GROUP) != 0 {
                assert!(
                    r.name.starts_with("outlet.") && r.name.contains("%i"),
                    "{}: {}",
                    m.name,
                    r.name
                );
            }
            if let Some(oid) = r.oid {
                let filled = fill_template(oid, &[1, 1]);
                assert!(parse_oid(&filled).is_some(), "{}: {} OID {oid}", m.name, r.name);
            }
            // status rows translate through a lookup
            if r.flags & (SU_STATUS_PWR | SU_STATUS_BATT | SU_STATUS_CAL | SU_STATUS_RB) != 0 {
                assert!(r.lookup.is_some(), "{}: {}", m.name, r.name);
            }
        }
    }
    assert!(rows > 1400, "{rows}");
}

#[test]
fn lookups_are_usable() {
    for m in MAPPINGS {
        for r in m.rows {
            if let Some(l) = r.lookup {
                assert!(!l.entries.is_empty(), "{}: {}", m.name, l.name);
                assert!(l.entries.iter().all(|e| e.info.len() < 128), "{}", l.name);
            }
        }
    }
}

#[test]
fn duplicate_rows_are_nuts_own() {
    // identical rows that NUT 2.8.0's tables themselves repeat
    // (hpe-pdu-mib.c "L2.alarm" twice with the same OID, powerware-mib.c
    // "output.voltage.nominal" twice)
    let mut dups = Vec::new();
    for m in MAPPINGS {
        for (i, a) in m.rows.iter().enumerate() {
            for b in &m.rows[i + 1..] {
                if a.name == b.name
                    && a.oid == b.oid
                    && a.flags == b.flags
                    && a.dfl == b.dfl
                    && a.len == b.len
                {
                    dups.push((m.name, a.name));
                }
            }
        }
    }
    dups.sort();
    dups.dedup();
    assert_eq!(
        dups,
        [
            ("hpe_epdu", "L2.alarm"),
            ("pw", "output.voltage.nominal"),
            ("pxgx_ups", "output.voltage.nominal")
        ]
    );
}

#[test]
fn every_mapping_has_a_model_row() {
    for m in MAPPINGS {
        // delta_ups, xppc and the IETF ones are found through ups.model
        assert!(m.model_row().is_some(), "{}", m.name);
    }
}
