//! Choosing the mapping, as `snmp-ups` does at start-up (`load_mib2nut`).

use crate::agent::{Agent, parse_oid};
use crate::engine::{SYSOID_OID, fill_template, read_str};
use crate::mib::Mapping;
use crate::tables::MAPPINGS;
use crate::value::{TemperatureUnit, Value};
use alloc::string::String;

/// Why no mapping was chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// `mibs=<name>` names no mapping (NUT: "Unknown 'mibs' value").
    #[error("unknown mibs value {0:?}")]
    UnknownMibs(String),
    /// No mapping answered (NUT: "... MIB wasn't found").
    #[error("no mapping matches the device (mibs={0})")]
    NotFound(String),
}

/// The mappings named `name` (`mibs=<name>`), in `mibs=auto` order.
pub fn find_by_name(name: &str) -> impl Iterator<Item = &'static Mapping> + '_ {
    MAPPINGS.iter().copied().filter(move |m| m.name == name)
}

/// The mapping whose `sysoid` equals `sysoid` (compared arc by arc), first
/// in `mibs=auto` order.
pub fn find_by_sysoid(sysoid: &str) -> Option<&'static Mapping> {
    let want = parse_oid(sysoid)?;
    MAPPINGS.iter().copied().find(|m| m.sysoid.and_then(parse_oid).is_some_and(|s| s == want))
}

/// NUT's `match_model_OID`: the mapping's `device.model` (else
/// `ups.model`) row answers a GET (a template OID is read with index 0).
pub fn model_answers(agent: &mut impl Agent, mapping: &Mapping) -> bool {
    let Some(row) = mapping.model_row() else { return false };
    let Some(oid) = row.oid else { return false };
    let oid = if oid.contains('%') { fill_template(oid, &[0]) } else { String::from(oid) };
    read_str(agent, &oid, None, 256, &mut TemperatureUnit::Unknown).is_some()
}

/// Chooses the mapping for `mibs` (`"auto"` or a mapping name), as NUT
/// 2.8.0: with `auto`, up to three tries of `sysObjectID` against each
/// mapping's `sysoid` (exact match, then the model row must answer); then,
/// or with a name, the mappings in order, the first whose model row
/// answers.
pub fn detect(agent: &mut impl Agent, mibs: &str) -> Result<&'static Mapping, DetectError> {
    let auto = mibs == "auto";
    if auto {
        for _ in 0..3 {
            if let Some(m) = match_sysoid(agent) {
                return Ok(m);
            }
        }
    }
    let mut seen = false;
    for m in MAPPINGS.iter().copied() {
        if !auto && m.name != mibs {
            continue;
        }
        seen = true;
        if model_answers(agent, m) {
            return Ok(m);
        }
    }
    if !auto && !seen {
        return Err(DetectError::UnknownMibs(String::from(mibs)));
    }
    Err(DetectError::NotFound(String::from(mibs)))
}

/// What NUT 2.8.0's `snmp-ups -x mibs=--list` prints after its banner:
/// every mapping in `mibs=auto` order with its number, name, version,
/// entry point (`sysObjectID`) and auto-check OID, then the count. The
/// driver prints this on stdout and exits with status 0.
pub fn mapping_list() -> String {
    use core::fmt::Write;
    let mut s = String::from(
        "The 'mibs' argument is '--list', so just listing the mappings this driver knows,\n\
         and for 'mibs=auto' these mappings will be tried in the following order until\n\
         the first one matches your device\n\n",
    );
    s.push_str(
        " NUMBER\tMAPPING NAME           \tVERSION\tENTRY POINT OID                \tAUTO CHECK OID\n",
    );
    for (i, m) in MAPPINGS.iter().enumerate() {
        let _ = writeln!(
            s,
            " {:>4} \t{:<23}\t{:>7}\t{:<31}\t{}",
            i + 1,
            m.name,
            m.version,
            m.sysoid.unwrap_or("<NULL>"),
            m.auto_check_oid.unwrap_or("<NULL>")
        );
    }
    let _ = write!(
        s,
        "\nOverall this driver has loaded {} MIB-to-NUT mapping tables\n",
        MAPPINGS.len()
    );
    s
}

fn match_sysoid(agent: &mut impl Agent) -> Option<&'static Mapping> {
    let Some(Value::ObjectId(sysoid)) = agent.get(SYSOID_OID) else { return None };
    let want = parse_oid(&sysoid)?;
    for m in MAPPINGS.iter().copied() {
        let Some(s) = m.sysoid.and_then(parse_oid) else { continue };
        if s == want && model_answers(agent, m) {
            return Some(m);
        }
    }
    None
}
