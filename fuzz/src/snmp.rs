//! Fuzz target body for `nut-snmp`: value conversions over every mapping
//! row, and whole recordings through detection and the walk.

use nut_proto::publish::{MAX_VALUE_LEN, Recorder};
use nut_snmp::value::{self, Decoded, SU_INFOSIZE, Value};
use nut_snmp::{MAPPINGS, snmprec};

fn pick_value(kind: u8, payload: &[u8]) -> Value {
    let mut n = [0u8; 8];
    for (d, s) in n.iter_mut().zip(payload) {
        *d = *s;
    }
    let u = u64::from_le_bytes(n);
    match kind % 9 {
        0 => Value::Integer(u as i64),
        1 => Value::OctetString(payload.to_vec()),
        2 => Value::ObjectId(String::from_utf8_lossy(payload).into_owned()),
        3 => Value::IpAddress([n[0], n[1], n[2], n[3]]),
        4 => Value::Counter32(u as u32),
        5 => Value::Gauge32(u as u32),
        6 => Value::TimeTicks(u as u32),
        7 => Value::Counter64(u),
        _ => Value::Null,
    }
}

/// `data[0]` even: a value (type `data[3]`, payload `data[4..]`) converted
/// for row `data[1..3]` of mapping `data[0] / 2`, checking that no text
/// outgrows NUT's buffers. `data[0]` odd: `data[1..]` as an snmprec text,
/// run through detection and one init and update, checking the published
/// values stay within NUT's 255 bytes.
pub fn snmp_value(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    if first % 2 == 1 {
        let text = String::from_utf8_lossy(rest);
        let (mut agent, _errors) = snmprec::parse_lenient(&text);
        if let Ok(m) = nut_snmp::detect(&mut agent, "auto") {
            let mut r = Recorder::new();
            let s = nut_snmp::publish_snapshot(m, &mut agent, &mut r);
            for (name, v) in r.tree().vars() {
                assert!(v.value.len() <= MAX_VALUE_LEN, "{name} too long");
                // SET of what was read back is well-defined
                let _ = s.setvar(&r, name, &v.value);
            }
            for c in r.commands() {
                let _ = s.instcmd(&r, c, None);
            }
        }
        return;
    }
    let mapping = MAPPINGS[usize::from(first / 2) % MAPPINGS.len()];
    let (Some(&hi), Some(&lo), Some(&kind)) = (rest.first(), rest.get(1), rest.get(2)) else {
        return;
    };
    let idx = (usize::from(hi) << 8 | usize::from(lo)) % mapping.rows.len();
    let row = &mapping.rows[idx];
    let payload = rest.get(3..).unwrap_or(&[]);
    let v = pick_value(kind, payload);
    if let Some(Decoded::Text(t)) = value::decode_str(&v, row.lookup, SU_INFOSIZE) {
        assert!(t.len() < SU_INFOSIZE, "decode_str: {} bytes", t.len());
    }
    if let Some(value::DecodedInt::Int(i)) = value::decode_int(&v) {
        if let Some(t) = value::format_int_row(row, i, None) {
            assert!(t.len() < SU_INFOSIZE, "format_int_row: {t}");
        }
        let _ = value::format_ambient_temperature(i, row.len, None);
    }
    let text = String::from_utf8_lossy(payload);
    let _ = value::encode_setvar(row, &text);
    let _ = value::encode_instcmd(row, Some(&text));
    let _ = value::strtol(&text);
    let _ = value::us_date_to_iso(&text);
    let hex = value::hex_string(payload, SU_INFOSIZE);
    assert!(hex.len() < SU_INFOSIZE);
}
