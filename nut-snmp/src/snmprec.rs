//! The `snmprec` text format of the Python SNMP simulator (snmpsim): one
//! `OID|TYPE|VALUE` record a line.
//!
//! `TYPE` is the BER tag in decimal (2 Integer, 4 OctetString, 5 Null,
//! 6 OID, 64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks,
//! 68 Opaque, 70 Counter64), optionally followed by `x` (value in hex) or
//! `e` (value with Python escapes), and optionally by `:module` (an
//! snmpsim variation module: `value=` or `initial=` gives the value).
//! Empty lines and `#` comments are skipped.

use crate::agent::{MapAgent, parse_oid};
use crate::value::{MAX_OCTETS, Value};
use alloc::string::String;
use alloc::vec::Vec;

/// An error in an snmprec text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnmprecError {
    /// A line does not have the three `|`-separated fields.
    #[error("line {line}: expected OID|TYPE|VALUE")]
    Fields {
        /// 1-based line number.
        line: usize,
    },
    /// The OID field is not a dotted decimal OID.
    #[error("line {line}: bad OID {oid:?}")]
    Oid {
        /// 1-based line number.
        line: usize,
        /// The field.
        oid: String,
    },
    /// The type field is not a known tag.
    #[error("line {line}: unknown type {tag:?}")]
    Type {
        /// 1-based line number.
        line: usize,
        /// The field.
        tag: String,
    },
    /// The value does not fit the type.
    #[error("line {line}: bad {what} value")]
    Value {
        /// 1-based line number.
        line: usize,
        /// The type being decoded.
        what: &'static str,
    },
}

/// One record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The OID, without a leading dot.
    pub oid: String,
    /// The value.
    pub value: Value,
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.trim().as_bytes();
    if b.len() % 2 != 0 || b.len() / 2 > MAX_OCTETS {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let h = (p.first()?).to_ascii_lowercase();
            let l = (p.get(1)?).to_ascii_lowercase();
            let d = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
            Some(d(h)? << 4 | d(l)?)
        })
        .collect()
}

/// Python `bytes` escapes: `\xNN`, `\n`, `\t`, `\r`, `\\`, `\'`, `\"`,
/// `\0`; other characters as their UTF-8 bytes.
fn unescape(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut it = s.bytes();
    while let Some(c) = it.next() {
        if out.len() > MAX_OCTETS {
            return None;
        }
        if c != b'\\' {
            out.push(c);
            continue;
        }
        match it.next()? {
            b'x' => {
                let h = it.next()?;
                let l = it.next()?;
                out.extend(hex_decode(core::str::from_utf8(&[h, l]).ok()?)?);
            }
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0' => out.push(0),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            other => out.push(other),
        }
    }
    Some(out)
}

/// The value an snmpsim variation module starts with: its `value=` or
/// `initial=` parameter.
fn module_value(v: &str) -> Option<&str> {
    v.split(',').find_map(|kv| kv.strip_prefix("value=").or_else(|| kv.strip_prefix("initial=")))
}

/// Parses one line; `Ok(None)` for blank and comment lines.
pub fn parse_line(line_no: usize, line: &str) -> Result<Option<Record>, SnmprecError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut f = line.splitn(3, '|');
    let (Some(oid), Some(tag), Some(raw)) = (f.next(), f.next(), f.next()) else {
        return Err(SnmprecError::Fields { line: line_no });
    };
    let arcs = parse_oid(oid.trim())
        .ok_or_else(|| SnmprecError::Oid { line: line_no, oid: oid.into() })?;
    let (tag_only, module) = match tag.split_once(':') {
        Some((t, m)) => (t, Some(m)),
        None => (tag, None),
    };
    let raw = if module.is_some() { module_value(raw).unwrap_or("") } else { raw };
    let (num, enc) = match tag_only.as_bytes().last() {
        Some(b'x') => (&tag_only[..tag_only.len() - 1], 'x'),
        Some(b'e') => (&tag_only[..tag_only.len() - 1], 'e'),
        _ => (tag_only, ' '),
    };
    let bad_type = || SnmprecError::Type { line: line_no, tag: tag.into() };
    let tag_num: u8 = num.parse().map_err(|_| bad_type())?;
    let bytes = |what: &'static str| -> Result<Vec<u8>, SnmprecError> {
        let v = match enc {
            'x' => hex_decode(raw),
            'e' => unescape(raw),
            _ => (raw.len() <= MAX_OCTETS).then(|| raw.as_bytes().to_vec()),
        };
        v.ok_or(SnmprecError::Value { line: line_no, what })
    };
    let text = |what: &'static str| -> Result<String, SnmprecError> {
        String::from_utf8(bytes(what)?).map_err(|_| SnmprecError::Value { line: line_no, what })
    };
    let bad = |what: &'static str| SnmprecError::Value { line: line_no, what };
    let value = match tag_num {
        2 => Value::Integer(text("integer")?.trim().parse().map_err(|_| bad("integer"))?),
        4 | 68 => Value::OctetString(bytes("octet string")?),
        5 => Value::Null,
        6 => {
            let t = text("object identifier")?;
            let a = parse_oid(t.trim()).ok_or(bad("object identifier"))?;
            Value::ObjectId(crate::agent::oid_to_string(&a))
        }
        64 => {
            let b = if enc == 'x' || enc == 'e' {
                bytes("ip address")?
            } else {
                let t = text("ip address")?;
                let mut v = Vec::new();
                for p in t.trim().split('.') {
                    v.push(p.parse::<u8>().map_err(|_| bad("ip address"))?);
                }
                v
            };
            let a: [u8; 4] = b.try_into().map_err(|_| bad("ip address"))?;
            Value::IpAddress(a)
        }
        65 => Value::Counter32(text("counter32")?.trim().parse().map_err(|_| bad("counter32"))?),
        66 => Value::Gauge32(text("gauge32")?.trim().parse().map_err(|_| bad("gauge32"))?),
        67 => Value::TimeTicks(text("timeticks")?.trim().parse().map_err(|_| bad("timeticks"))?),
        70 => Value::Counter64(text("counter64")?.trim().parse().map_err(|_| bad("counter64"))?),
        _ => return Err(bad_type()),
    };
    Ok(Some(Record { oid: crate::agent::oid_to_string(&arcs), value }))
}

/// Parses a whole snmprec text into records, stopping at the first error.
pub fn parse(text: &str) -> Result<Vec<Record>, SnmprecError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(r) = parse_line(i + 1, line)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// Parses a whole snmprec text into a [`MapAgent`]; lines that do not
/// parse are skipped and their errors returned beside it.
pub fn parse_lenient(text: &str) -> (MapAgent, Vec<SnmprecError>) {
    let mut agent = MapAgent::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(i + 1, line) {
            Ok(Some(r)) => {
                agent.insert(&r.oid, r.value);
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (agent, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn types() {
        let t = "# c\n1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.3808.1.1.1\n\
                 1.3.6.1.2.1.1.1.0|4x|55505320\n1.3.6.1.2.1.1.3.0|67|21292400\n\
                 1.2|2:numeric|min=1,max=2,initial=2,wrap=1\n1.3|4e|\\x07\\xe4(#\n1.4|64x|c0a80001\n1.5|5|\n";
        let r = parse(t).unwrap();
        assert_eq!(r[0].value, Value::ObjectId("1.3.6.1.4.1.3808.1.1.1".into()));
        assert_eq!(r[1].value, Value::OctetString(b"UPS ".to_vec()));
        assert_eq!(r[2].value, Value::TimeTicks(21292400));
        assert_eq!(r[3].value, Value::Integer(2));
        assert_eq!(r[4].value, Value::OctetString(vec![7, 0xe4, b'(', b'#']));
        assert_eq!(r[5].value, Value::IpAddress([192, 168, 0, 1]));
        assert_eq!(r[6].value, Value::Null);
        assert_eq!(parse("1.x|2|1"), Err(SnmprecError::Oid { line: 1, oid: "1.x".into() }));
        assert_eq!(parse("1.1|99|1"), Err(SnmprecError::Type { line: 1, tag: "99".into() }));
        assert_eq!(parse("\n1.1|2"), Err(SnmprecError::Fields { line: 2 }));
        assert_eq!(parse("1.1|2|x"), Err(SnmprecError::Value { line: 1, what: "integer" }));
    }
}
