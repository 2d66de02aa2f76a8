//! What the engine asks of an SNMP agent: [`Agent`], and [`MapAgent`], an
//! agent answering from a map of recorded values (a walk, an snmprec file).

use crate::value::Value;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// The longest OID accepted, in arcs (net-snmp's `MAX_OID_LEN`).
pub const MAX_OID_LEN: usize = 128;

/// An SNMP agent, as the engine uses it: one GET or GETNEXT per call.
///
/// OIDs are dotted decimal, with or without a leading dot. An
/// implementation returns `None` for every failure NUT treats as "no
/// value": a timeout, an error status (SNMPv1 `noSuchName`), an OID that
/// does not parse. An SNMPv2c exception (`noSuchObject`,
/// `noSuchInstance`) is [`Value::Null`]: NUT counts such an answer as
/// present when it only checks existence, and as unreadable otherwise.
pub trait Agent {
    /// GET of one OID.
    fn get(&mut self, oid: &str) -> Option<Value>;
    /// GETNEXT: the first OID after `oid`, without a leading dot, and its
    /// value.
    fn get_next(&mut self, oid: &str) -> Option<(String, Value)>;
}

/// An OID parsed into arcs; `None` for anything net-snmp's numeric
/// `snmp_parse_oid` would refuse (empty, non-numeric, a `%i` left in).
pub fn parse_oid(oid: &str) -> Option<Vec<u32>> {
    let s = oid.strip_prefix('.').unwrap_or(oid);
    if s.is_empty() {
        return None;
    }
    let mut arcs = Vec::new();
    for part in s.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) || arcs.len() >= MAX_OID_LEN
        {
            return None;
        }
        arcs.push(part.parse().ok()?);
    }
    Some(arcs)
}

/// Arcs back to dotted text, without a leading dot.
pub fn oid_to_string(arcs: &[u32]) -> String {
    let mut s = String::new();
    for (i, a) in arcs.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(&alloc::format!("{a}"));
    }
    s
}

/// An [`Agent`] answering from recorded values, in OID order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapAgent {
    map: BTreeMap<Vec<u32>, Value>,
}

impl MapAgent {
    /// An agent with no values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a value; returns `false` when the OID does not
    /// parse.
    pub fn insert(&mut self, oid: &str, value: Value) -> bool {
        match parse_oid(oid) {
            Some(k) => {
                self.map.insert(k, value);
                true
            }
            None => false,
        }
    }

    /// Removes a value.
    pub fn remove(&mut self, oid: &str) -> Option<Value> {
        self.map.remove(&parse_oid(oid)?)
    }

    /// The recorded value of an OID.
    pub fn value(&self, oid: &str) -> Option<&Value> {
        self.map.get(&parse_oid(oid)?)
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No values.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The values in OID order.
    pub fn iter(&self) -> impl Iterator<Item = (String, &Value)> {
        self.map.iter().map(|(k, v)| (oid_to_string(k), v))
    }
}

impl FromIterator<(String, Value)> for MapAgent {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut a = MapAgent::new();
        for (k, v) in iter {
            a.insert(&k, v);
        }
        a
    }
}

impl Agent for MapAgent {
    fn get(&mut self, oid: &str) -> Option<Value> {
        self.map.get(&parse_oid(oid)?).cloned()
    }

    fn get_next(&mut self, oid: &str) -> Option<(String, Value)> {
        let k = parse_oid(oid)?;
        use core::ops::Bound;
        self.map
            .range((Bound::Excluded(k), Bound::Unbounded))
            .next()
            .map(|(k, v)| (oid_to_string(k), v.clone()))
    }
}
