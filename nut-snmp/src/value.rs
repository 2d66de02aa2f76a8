//! SNMP values and NUT's conversions between them and published strings.
//!
//! Every function here is pure: no agent, no state. The stateful parts
//! (following an OBJECT IDENTIFIER value, the Eaton temperature unit) are
//! in [`crate::engine`].

use crate::mib::{Lookup, LookupFn, Row, flags::*};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// `SU_INFOSIZE`: the buffer NUT reads a value into (127 bytes and a NUL).
pub const SU_INFOSIZE: usize = 128;

/// The longest OCTET STRING value kept by [`Value`] users such as the
/// snmprec parser (an SNMP message is at most 64 KiB anyway).
pub const MAX_OCTETS: usize = 65_535;

/// An SNMP value, as an agent returns it in a varbind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// INTEGER (Integer32).
    Integer(i64),
    /// OCTET STRING (also Opaque).
    OctetString(Vec<u8>),
    /// OBJECT IDENTIFIER, as dotted arcs without a leading dot.
    ObjectId(String),
    /// IpAddress.
    IpAddress([u8; 4]),
    /// Counter32.
    Counter32(u32),
    /// Gauge32 (Unsigned32).
    Gauge32(u32),
    /// TimeTicks (hundredths of a second).
    TimeTicks(u32),
    /// Counter64.
    Counter64(u64),
    /// NULL, or an exception (noSuchObject, noSuchInstance, endOfMibView).
    Null,
}

/// The result of reading a value as a string ([`decode_str`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// The string to publish.
    Text(String),
    /// An OBJECT IDENTIFIER value: NUT reads the OID it names instead
    /// (with the same lookup) and falls back to its last arc.
    Follow(String),
}

/// A C `isprint || isspace` test in the C locale.
fn printable_or_space(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// net-snmp's `snprint_hexstring` into a buffer of `buf_len` bytes:
/// `"%02X "` per byte, a line break after every 16 bytes; a line that
/// does not fit ends the output.
pub fn hex_string(bytes: &[u8], buf_len: usize) -> String {
    let mut out = String::new();
    let chunks: Vec<&[u8]> = bytes.chunks(16).collect();
    let n = chunks.len();
    for (i, line) in chunks.into_iter().enumerate() {
        if out.len() + line.len() * 3 + 1 >= buf_len {
            break;
        }
        for b in line {
            let _ = write!(out, "{b:02X} ");
        }
        if i + 1 < n {
            out.push('\n');
        }
    }
    out
}

/// An OCTET STRING as NUT shows it: the text cut to `buf_len - 1` bytes, or
/// a hex string when a byte is neither printable nor white space.
pub fn octets_to_string(bytes: &[u8], buf_len: usize) -> String {
    if bytes.iter().all(|b| printable_or_space(*b)) {
        let n = bytes.len().min(buf_len.saturating_sub(1));
        // all bytes are ASCII here
        bytes.iter().take(n).map(|b| char::from(*b)).collect()
    } else {
        hex_string(bytes, buf_len)
    }
}

/// The dotted form net-snmp prints for an OID value (numeric output:
/// leading dot).
pub fn oid_text(oid: &str) -> String {
    let mut s = String::with_capacity(oid.len() + 1);
    s.push('.');
    s.push_str(oid.trim_start_matches('.'));
    s
}

/// NUT's `decode_str`: a value read as a string with an optional lookup.
/// `None` when NUT publishes nothing (an integer without a lookup match,
/// or a type NUT does not decode: IpAddress, Counter64, NULL).
pub fn decode_str(value: &Value, lookup: Option<&Lookup>, buf_len: usize) -> Option<Decoded> {
    let int = |v: i64| -> Option<Decoded> {
        match lookup {
            Some(l) => {
                let s = lookup_int(l, v, None)?;
                Some(Decoded::Text(cut(&s, buf_len)))
            }
            None => Some(Decoded::Text(alloc::format!("{v}"))),
        }
    };
    match value {
        Value::OctetString(b) => Some(Decoded::Text(octets_to_string(b, buf_len))),
        Value::Integer(v) => int(*v),
        Value::Counter32(v) | Value::Gauge32(v) => int(i64::from(*v)),
        Value::TimeTicks(t) => Some(Decoded::Text(alloc::format!("{}", t / 100))),
        Value::ObjectId(o) => Some(Decoded::Follow(String::from(o.trim_start_matches('.')))),
        Value::IpAddress(_) | Value::Counter64(_) | Value::Null => None,
    }
}

fn cut(s: &str, buf_len: usize) -> String {
    let max = buf_len.saturating_sub(1);
    if s.len() <= max {
        return String::from(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    String::from(&s[..end])
}

/// The result of reading a value as an integer ([`decode_int`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodedInt {
    /// The integer.
    Int(i64),
    /// An OBJECT IDENTIFIER value: NUT reads the OID it names as an
    /// integer and falls back to its last arc.
    Follow(String),
}

/// NUT's `nut_snmp_get_int` decoding: INTEGER, Counter32, Gauge32 as is,
/// TimeTicks in seconds, OCTET STRING through C `strtol(s, NULL, 0)`.
/// `None` for the types NUT refuses.
pub fn decode_int(value: &Value) -> Option<DecodedInt> {
    match value {
        Value::Integer(v) => Some(DecodedInt::Int(*v)),
        Value::Counter32(v) | Value::Gauge32(v) => Some(DecodedInt::Int(i64::from(*v))),
        Value::TimeTicks(t) => Some(DecodedInt::Int(i64::from(*t / 100))),
        Value::OctetString(b) => {
            let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
            let s = core::str::from_utf8(b.get(..end).unwrap_or(&[])).unwrap_or("");
            Some(DecodedInt::Int(strtol(s)))
        }
        Value::ObjectId(o) => Some(DecodedInt::Follow(String::from(o.trim_start_matches('.')))),
        Value::IpAddress(_) | Value::Counter64(_) | Value::Null => None,
    }
}

/// The last arc of an OID, read with `strtol(.., 0)`: NUT's fallback when
/// the OID an OBJECT IDENTIFIER value names cannot be read.
pub fn oid_last_arc(oid: &str) -> i64 {
    strtol(oid.rsplit('.').next().unwrap_or(""))
}

/// C `strtol(s, NULL, 0)` on a 64-bit `long`: leading white space, a sign,
/// `0x` hex, `0` octal, else decimal; stops at the first other character;
/// saturates on overflow; 0 when nothing parses.
pub fn strtol(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let bytes = s.as_bytes();
    let (radix, digits) = if (s.starts_with("0x") || s.starts_with("0X"))
        && bytes.get(2).is_some_and(|c| c.is_ascii_hexdigit())
    {
        (16, &s[2..])
    } else if s.starts_with('0') {
        (8, s)
    } else {
        (10, s)
    };
    let mut acc: i128 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else { break };
        acc = acc * i128::from(radix) + i128::from(d);
        if acc > i128::from(i64::MAX) + 1 {
            acc = i128::from(i64::MAX) + 1;
        }
    }
    let v = if neg { -acc } else { acc };
    i64::try_from(v).unwrap_or(if neg { i64::MIN } else { i64::MAX })
}

/// A lookup applied to an integer (`su_find_infoval`), with the state the
/// temperature functions need.
///
/// `unit` is the temperature unit remembered by [`LookupFn::TemperatureUnit`]
/// (`None`: unknown); it is updated by that function.
pub fn lookup_int(
    lookup: &Lookup,
    value: i64,
    unit: Option<&mut TemperatureUnit>,
) -> Option<String> {
    match lookup.fun {
        Some(LookupFn::TemperatureUnit) => {
            if let Some(u) = unit {
                *u = match value {
                    0 => TemperatureUnit::Kelvin,
                    1 => TemperatureUnit::Celsius,
                    2 => TemperatureUnit::Fahrenheit,
                    _ => TemperatureUnit::Unknown,
                };
            }
            Some(String::from("celsius"))
        }
        Some(LookupFn::TemperatureRead) => {
            let u = unit.map(|u| *u).unwrap_or(TemperatureUnit::Unknown);
            Some(temperature_read(value, u))
        }
        Some(LookupFn::UsDateToIsoDate) => {
            // NUT hands the integer to a text function (undefined); we
            // publish nothing rather than guess.
            None
        }
        // marlin_device_count_fun is a NUT-to-SNMP hook: the entries apply
        Some(LookupFn::MarlinDeviceCount) | None => lookup.find_info(value).map(String::from),
    }
}

/// The unit the Eaton sensors report temperatures in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TemperatureUnit {
    /// Not known yet: readings show as an empty string.
    #[default]
    Unknown,
    /// Kelvin.
    Kelvin,
    /// Celsius.
    Celsius,
    /// Fahrenheit.
    Fahrenheit,
}

/// NUT's `su_temperature_read_fun`: a tenth-degree reading shown in whole
/// degrees Celsius (integer arithmetic, truncating, as NUT).
pub fn temperature_read(value: i64, unit: TemperatureUnit) -> String {
    let tenths = value / 10;
    match unit {
        TemperatureUnit::Kelvin => {
            // C: (long)((value / 10) - 273.15), truncation toward zero
            let c = (tenths as f64 - 273.15) as i64;
            alloc::format!("{c}")
        }
        TemperatureUnit::Celsius => alloc::format!("{tenths}"),
        TemperatureUnit::Fahrenheit => {
            let c = tenths.saturating_sub(32).saturating_mul(5) / 9;
            alloc::format!("{c}")
        }
        TemperatureUnit::Unknown => String::new(),
    }
}

/// NUT's `marlin_device_count_fun`: devices in a comma-separated list.
pub fn marlin_device_count(list: &str) -> i64 {
    let commas = list.bytes().filter(|b| *b == b',').count() as i64;
    if !list.is_empty() && !list.ends_with(',') { commas + 1 } else { commas }
}

/// NUT's `su_usdate_to_isodate_info_fun`: `mm/dd/yyyy` as `yyyy-mm-dd`
/// (`strptime("%m/%d/%Y")` then `strftime("%F")`; fields that do not parse
/// stay zero, as in NUT's zeroed `struct tm`).
pub fn us_date_to_iso(s: &str) -> String {
    let mut fields = [0i64; 3];
    let mut rest = s.trim_start();
    for (i, f) in fields.iter_mut().enumerate() {
        let digits: usize = rest.bytes().take_while(u8::is_ascii_digit).count();
        let max = if i == 2 { 4 } else { 2 };
        let take = digits.min(max);
        if take == 0 {
            break;
        }
        *f = rest[..take].parse().unwrap_or(0);
        rest = &rest[take..];
        if i < 2 {
            match rest.strip_prefix('/') {
                Some(r) => rest = r,
                None => break,
            }
        }
    }
    let (m, d, y) = (fields[0], fields[1], fields[2]);
    // a zeroed struct tm prints as 1900-01-00; parsed fields print back
    let month = if m == 0 { 1 } else { m };
    let year = if y == 0 { 1900 } else { y };
    alloc::format!("{year:04}-{month:02}-{d:02}")
}

/// `f_equal` of NUT: equal as `float`s within `FLT_EPSILON`.
fn f_equal(a: f64, b: f64) -> bool {
    ((a as f32) - (b as f32)).abs() <= f32::EPSILON
}

/// The number NUT publishes for an integer reading times a multiplier:
/// `%i` when the product is integral, else `%.2f` of the product as a
/// `float`.
pub fn format_scaled(value: i64, multiplier: f64) -> String {
    let d = value as f64 * multiplier;
    // C (int) cast: truncation, saturating in Rust
    let i = d as i32;
    if f_equal(f64::from(i), d) {
        alloc::format!("{i}")
    } else {
        alloc::format!("{:.2}", f64::from(d as f32))
    }
}

/// What an integer reading of a numeric row becomes (`su_ups_get`, the
/// non-string branch): `None` when NEGINVALID or ZEROINVALID rejects it,
/// else the lookup result, or the scaled number when the lookup has no
/// entry for the value (or there is no lookup).
pub fn format_int_row(row: &Row, value: i64, unit: Option<&mut TemperatureUnit>) -> Option<String> {
    if (row.flags & SU_FLAG_NEGINVALID != 0 && value < 0)
        || (row.flags & SU_FLAG_ZEROINVALID != 0 && value == 0)
    {
        return None;
    }
    if let Some(l) = row.lookup {
        if let Some(s) = lookup_int(l, value, unit) {
            return Some(cut(&s, SU_INFOSIZE));
        }
    }
    Some(format_scaled(value, row.len))
}

/// The `ambient.temperature` special case: `%.1f` of the reading times the
/// multiplier (as a `float`), or of a Fahrenheit reading converted when
/// `fahrenheit` says so (the APC IEM probe).
pub fn format_ambient_temperature(value: i64, multiplier: f64, fahrenheit: Option<bool>) -> String {
    let t: f32 = match fahrenheit {
        Some(true) => ((value as f64 - 32.0) / 1.8) as f32,
        Some(false) => value as f32,
        None => (value as f64 * multiplier) as f32,
    };
    alloc::format!("{:.1}", f64::from(t))
}

/// A value to SET, as NUT sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetValue {
    /// OCTET STRING (`nut_snmp_set_str`).
    OctetString(String),
    /// INTEGER (`nut_snmp_set_int`).
    Integer(i64),
    /// TimeTicks in hundredths of a second (`nut_snmp_set_time` sends the
    /// value in seconds times 100).
    TimeTicks(i64),
}

/// NUT's `str_to_long(s, &v, 10)`: the whole string (after leading white
/// space) must be a decimal `long`.
pub fn str_to_long(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if t.is_empty() {
        return None;
    }
    t.parse::<i64>().ok()
}

/// The SNMP value NUT sets for `upsrw` of `row` to `value` (`su_setOID` in
/// setvar mode): a string row as an OCTET STRING; with a lookup, the
/// reverse lookup (NUT sends -1 when the value is not in the table);
/// otherwise a decimal number divided by the multiplier (truncated). As
/// TimeTicks for `SU_TYPE_TIME` rows. `None` when NUT answers INVALID.
pub fn encode_setvar(row: &Row, value: &str) -> Option<SetValue> {
    if row.is_string() {
        return Some(SetValue::OctetString(String::from(value)));
    }
    let v = match row.lookup {
        Some(l) => l.find_value(value).unwrap_or(-1),
        None => {
            let n = str_to_long(value)?;
            let d = n as f64 / row.len;
            // C (long) cast of a double: truncation; NaN/overflow saturate
            d as i64
        }
    };
    Some(int_or_time(row, v))
}

/// The SNMP value NUT sets for instant command `row` (`su_setOID` in
/// instcmd mode): `extra` (upscmd's value) or the row's default; a decimal
/// number for non-string rows, without lookup or multiplier.
pub fn encode_instcmd(row: &Row, extra: Option<&str>) -> Option<SetValue> {
    let v = extra.or(row.dfl)?;
    if row.is_string() {
        return Some(SetValue::OctetString(String::from(v)));
    }
    Some(int_or_time(row, str_to_long(v)?))
}

fn int_or_time(row: &Row, v: i64) -> SetValue {
    if row.su_type() == SU_TYPE_TIME {
        SetValue::TimeTicks(v.saturating_mul(100))
    } else {
        SetValue::Integer(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mib::{Lookup, LookupEntry};
    use alloc::format;
    use alloc::vec;

    #[test]
    fn scaled_numbers_print_as_nut() {
        // (raw, multiplier, NUT's text): %i when integral as a float, else
        // %.2f of the float
        let cases: &[(i64, f64, &str)] = &[
            (1210, 0.1, "121"),
            (2461, 0.1, "246.10"),
            (548, 0.1, "54.80"),
            (59, 60.0, "3540"),
            (-1, 1.0, "-1"),
            (7, 0.001, "0.01"),
            (15, 0.001, "0.01"), // 0.015 as float is 0.01499...
            (0, 0.1, "0"),
            (12345, 0.01, "123.45"),
        ];
        for (v, m, want) in cases {
            assert_eq!(format_scaled(*v, *m), *want, "{v} x {m}");
        }
    }

    #[test]
    fn octet_strings() {
        assert_eq!(octets_to_string(b"Smart-UPS 750\t\r\n", 128), "Smart-UPS 750\t\r\n");
        // one non-printable byte: net-snmp hex, 16 bytes a line
        let cyrillic = "\u{421}\u{435}\u{440}\u{432}\u{435}\u{440}\u{43d}\u{430}\u{44f}".as_bytes();
        assert_eq!(
            octets_to_string(cyrillic, 128),
            "D0 A1 D0 B5 D1 80 D0 B2 D0 B5 D1 80 D0 BD D0 B0 \nD1 8F "
        );
        assert_eq!(octets_to_string(&[0, 1], 128), "00 01 ");
        // a line that does not fit the buffer ends the text
        let line = "AB AB AB AB AB AB AB AB AB AB AB AB AB AB AB AB ";
        assert_eq!(
            hex_string(&[0xab; 40], 128),
            format!("{line}\n{line}\nAB AB AB AB AB AB AB AB ")
        );
        assert_eq!(hex_string(&[0xab; 60], 128), format!("{line}\n{line}\n"));
        // text cut to the buffer
        assert_eq!(octets_to_string(&[b'a'; 300], 128).len(), 127);
    }

    #[test]
    fn integers_from_every_type() {
        assert_eq!(decode_int(&Value::TimeTicks(1637400)), Some(DecodedInt::Int(16374)));
        assert_eq!(decode_int(&Value::Gauge32(u32::MAX)), Some(DecodedInt::Int(4294967295)));
        assert_eq!(decode_int(&Value::OctetString(b"0x1F".to_vec())), Some(DecodedInt::Int(31)));
        assert_eq!(decode_int(&Value::OctetString(b" 42 V".to_vec())), Some(DecodedInt::Int(42)));
        assert_eq!(decode_int(&Value::Counter64(1)), None);
        assert_eq!(decode_int(&Value::IpAddress([1, 2, 3, 4])), None);
        assert_eq!(decode_int(&Value::Null), None);
        assert_eq!(strtol("017"), 15);
        assert_eq!(strtol("-5x"), -5);
        assert_eq!(strtol("0x"), 0);
        assert_eq!(strtol("99999999999999999999999"), i64::MAX);
        assert_eq!(oid_last_arc("1.3.6.1.2.1.33.1.7.7.4"), 4);
    }

    static L: Lookup = Lookup {
        name: "t",
        entries: &[
            LookupEntry { value: 1, info: "" },
            LookupEntry { value: 2, info: "OL" },
            LookupEntry { value: 3, info: "NULL" },
            LookupEntry { value: 4, info: "OB" },
        ],
        fun: None,
    };

    #[test]
    fn lookups_stop_at_null() {
        assert_eq!(L.find_info(2), Some("OL"));
        assert_eq!(L.find_info(1), Some(""));
        assert_eq!(L.find_info(4), None);
        assert_eq!(L.find_value("OL"), Some(2));
        assert_eq!(L.find_value("OB"), None);
        assert_eq!(decode_str(&Value::Integer(9), Some(&L), 128), None);
        assert_eq!(decode_str(&Value::Integer(9), None, 128), Some(Decoded::Text("9".into())));
        assert_eq!(decode_str(&Value::TimeTicks(250), None, 128), Some(Decoded::Text("2".into())));
    }

    #[test]
    fn rows_reject_invalid_values() {
        let row = Row {
            name: "x",
            var_flags: 0,
            len: 0.1,
            oid: None,
            dfl: None,
            flags: SU_FLAG_NEGINVALID,
            lookup: None,
        };
        assert_eq!(format_int_row(&row, -1, None), None);
        assert_eq!(format_int_row(&row, 0, None).as_deref(), Some("0"));
        let row = Row { flags: SU_FLAG_ZEROINVALID, ..row };
        assert_eq!(format_int_row(&row, 0, None), None);
        // a lookup without the value falls back to the number
        let row = Row { flags: 0, len: 1.0, lookup: Some(&L), ..row };
        assert_eq!(format_int_row(&row, 2, None).as_deref(), Some("OL"));
        assert_eq!(format_int_row(&row, 7, None).as_deref(), Some("7"));
    }

    #[test]
    fn set_values() {
        let row = Row {
            name: "ups.delay.shutdown",
            var_flags: 1,
            len: 0.1,
            oid: None,
            dfl: None,
            flags: 0,
            lookup: None,
        };
        assert_eq!(encode_setvar(&row, "20"), Some(SetValue::Integer(200)));
        assert_eq!(encode_setvar(&row, "2x"), None);
        let row = Row { flags: SU_TYPE_TIME, len: 1.0, ..row };
        assert_eq!(encode_setvar(&row, "20"), Some(SetValue::TimeTicks(2000)));
        let row = Row { flags: 0, lookup: Some(&L), ..row };
        assert_eq!(encode_setvar(&row, "OL"), Some(SetValue::Integer(2)));
        assert_eq!(encode_setvar(&row, "nope"), Some(SetValue::Integer(-1)));
        let row = Row { var_flags: 3, ..row };
        assert_eq!(encode_setvar(&row, "a b"), Some(SetValue::OctetString("a b".into())));
        let cmd = Row {
            name: "load.off",
            var_flags: 0,
            len: 1.0,
            oid: None,
            dfl: Some("2"),
            flags: SU_TYPE_CMD,
            lookup: None,
        };
        assert_eq!(encode_instcmd(&cmd, None), Some(SetValue::Integer(2)));
        assert_eq!(encode_instcmd(&cmd, Some("5")), Some(SetValue::Integer(5)));
        assert_eq!(encode_instcmd(&Row { dfl: None, ..cmd }, None), None);
    }

    #[test]
    fn helper_functions() {
        assert_eq!(temperature_read(235, TemperatureUnit::Celsius), "23");
        assert_eq!(temperature_read(2980, TemperatureUnit::Kelvin), "24");
        assert_eq!(temperature_read(770, TemperatureUnit::Fahrenheit), "25");
        assert_eq!(temperature_read(770, TemperatureUnit::Unknown), "");
        assert_eq!(marlin_device_count("a,b,c"), 3);
        assert_eq!(marlin_device_count("a,b,"), 2);
        assert_eq!(marlin_device_count(""), 0);
        assert_eq!(us_date_to_iso("09/18/2013"), "2013-09-18");
        assert_eq!(us_date_to_iso("junk"), "1900-01-00");
        assert_eq!(format_ambient_temperature(77, 1.0, Some(true)), "25.0");
        assert_eq!(format_ambient_temperature(215, 0.1, None), "21.5");
        let _ = vec![0u8];
    }
}
