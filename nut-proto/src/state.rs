//! The state tree of one UPS: variables (value, flags, string length,
//! enums, ranges) and instant commands.
//!
//! The driver core keeps the authoritative tree and serves it; `upsd` keeps a
//! mirror built from the driver's messages. Both use this type, so the
//! order of `LIST VAR` and of a `DUMPALL` answer is defined once: variables
//! and commands sorted case-insensitively by name (NUT's order), enum values
//! and ranges in insertion order.

use crate::sock::{DriverMessage, VarFlags};
use alloc::borrow::Cow;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cmp::Ordering;

/// A name that compares and sorts case-insensitively (ASCII), as NUT looks
/// up and lists names, while keeping the spelling it was created with.
#[derive(Clone, Debug, Eq)]
pub struct Name(String);

impl Name {
    /// Wraps a name.
    pub fn new(name: impl Into<String>) -> Self {
        Name(name.into())
    }

    /// The name as first spelled.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        let a = self.0.bytes().map(|b| b.to_ascii_lowercase());
        let b = other.0.bytes().map(|b| b.to_ascii_lowercase());
        a.cmp(b)
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One variable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variable {
    /// The value (unescaped).
    pub value: String,
    /// RW / STRING / NUMBER.
    pub flags: VarFlags,
    /// Maximum length of a STRING variable (`SETAUX`); 0 when unset.
    pub aux: i64,
    /// Allowed values, in the order they were added.
    pub enums: Vec<String>,
    /// Allowed ranges, in the order they were added.
    pub ranges: Vec<(i64, i64)>,
}

/// Why a driver message could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The message names a variable that does not exist.
    #[error("no variable {0}")]
    NoSuchVariable(String),
    /// `ADDRANGE`/`DELRANGE` with min > max.
    #[error("range {min}..{max} of {var} is empty")]
    EmptyRange {
        /// Variable name.
        var: String,
        /// Lower bound.
        min: i64,
        /// Upper bound.
        max: i64,
    },
    /// The tree already holds the maximum number of variables or commands.
    #[error("too many variables or commands (limit {0})")]
    Full(usize),
}

/// The most variables, commands, enum values or ranges one UPS may hold.
/// Real devices publish a few hundred at most; the limit keeps a broken or
/// hostile driver from growing a server's memory without bound.
pub const MAX_ENTRIES: usize = 10_000;

/// The variables and commands of one UPS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsState {
    vars: BTreeMap<Name, Variable>,
    cmds: BTreeSet<Name>,
}

impl UpsState {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes every variable and command.
    pub fn clear(&mut self) {
        self.vars.clear();
        self.cmds.clear();
    }

    /// A variable, looked up case-insensitively.
    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.vars.get(&Name::new(name))
    }

    /// A variable's value, looked up case-insensitively.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(|v| v.value.as_str())
    }

    /// Variables in NUT's order, with their spelling.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &Variable)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of variables.
    pub fn var_count(&self) -> usize {
        self.vars.len()
    }

    /// Instant commands in NUT's order, with their spelling.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.cmds.iter().map(Name::as_str)
    }

    /// Whether the UPS has this instant command (case-insensitive).
    pub fn has_command(&self, name: &str) -> bool {
        self.cmds.contains(&Name::new(name))
    }

    /// The command's spelling as the driver gave it.
    pub fn command(&self, name: &str) -> Option<&str> {
        self.cmds.get(&Name::new(name)).map(Name::as_str)
    }

    /// Sets a value, creating the variable if needed. Returns whether
    /// anything changed. Unlike NUT 2.8, a change in letter case only is a
    /// change.
    pub fn set_value(&mut self, name: &str, value: &str) -> Result<bool, StateError> {
        if let Some(v) = self.vars.get_mut(&Name::new(name)) {
            if v.value == value {
                return Ok(false);
            }
            v.value = value.to_string();
            return Ok(true);
        }
        if self.vars.len() >= MAX_ENTRIES {
            return Err(StateError::Full(MAX_ENTRIES));
        }
        self.vars
            .insert(Name::new(name), Variable { value: value.to_string(), ..Variable::default() });
        Ok(true)
    }

    /// Deletes a variable; returns whether it existed.
    pub fn delete(&mut self, name: &str) -> bool {
        self.vars.remove(&Name::new(name)).is_some()
    }

    /// A variable, mutably.
    pub fn get_mut(&mut self, name: &str) -> Result<&mut Variable, StateError> {
        self.vars
            .get_mut(&Name::new(name))
            .ok_or_else(|| StateError::NoSuchVariable(name.to_string()))
    }

    /// Adds an instant command; returns whether it is new.
    pub fn add_command(&mut self, name: &str) -> Result<bool, StateError> {
        if self.has_command(name) {
            return Ok(false);
        }
        if self.cmds.len() >= MAX_ENTRIES {
            return Err(StateError::Full(MAX_ENTRIES));
        }
        Ok(self.cmds.insert(Name::new(name)))
    }

    /// Removes an instant command; returns whether it existed.
    pub fn delete_command(&mut self, name: &str) -> bool {
        self.cmds.remove(&Name::new(name))
    }

    /// Applies one message from a driver. Returns whether the tree changed.
    /// Messages that carry no state (`PONG`, `DATAOK`, ...) change nothing.
    pub fn apply(&mut self, msg: &DriverMessage<'_>) -> Result<bool, StateError> {
        match msg {
            DriverMessage::SetInfo { var, value } => self.set_value(var, value),
            DriverMessage::DelInfo { var } => Ok(self.delete(var)),
            DriverMessage::AddEnum { var, value } => {
                let v = self.get_mut(var)?;
                if v.enums.iter().any(|e| e == value) {
                    return Ok(false);
                }
                if v.enums.len() >= MAX_ENTRIES {
                    return Err(StateError::Full(MAX_ENTRIES));
                }
                v.enums.push(value.to_string());
                Ok(true)
            }
            DriverMessage::DelEnum { var, value } => {
                let v = self.get_mut(var)?;
                let before = v.enums.len();
                v.enums.retain(|e| e != value);
                Ok(v.enums.len() != before)
            }
            DriverMessage::AddRange { var, min, max } => {
                if min > max {
                    return Err(StateError::EmptyRange {
                        var: var.to_string(),
                        min: *min,
                        max: *max,
                    });
                }
                let v = self.get_mut(var)?;
                if v.ranges.contains(&(*min, *max)) {
                    return Ok(false);
                }
                if v.ranges.len() >= MAX_ENTRIES {
                    return Err(StateError::Full(MAX_ENTRIES));
                }
                v.ranges.push((*min, *max));
                Ok(true)
            }
            DriverMessage::DelRange { var, min, max } => {
                let v = self.get_mut(var)?;
                let before = v.ranges.len();
                v.ranges.retain(|r| *r != (*min, *max));
                Ok(v.ranges.len() != before)
            }
            DriverMessage::SetAux { var, aux } => {
                let v = self.get_mut(var)?;
                let changed = v.aux != *aux;
                v.aux = *aux;
                Ok(changed)
            }
            DriverMessage::SetFlags { var, flags } => {
                let v = self.get_mut(var)?;
                let changed = v.flags != *flags;
                v.flags = *flags;
                Ok(changed)
            }
            DriverMessage::AddCmd { cmd } => self.add_command(cmd),
            DriverMessage::DelCmd { cmd } => Ok(self.delete_command(cmd)),
            _ => Ok(false),
        }
    }

    /// The messages that describe the whole tree, in the order NUT's drivers
    /// answer `DUMPALL` (without the leading `DATASTALE` and the trailing
    /// `DATAOK`/`DUMPDONE`, which depend on the driver's state): for each
    /// variable `SETINFO`, its `ADDENUM`s, its `ADDRANGE`s, `SETAUX` if
    /// non-zero, `SETFLAGS` if any flag; then every `ADDCMD`.
    pub fn dump(&self) -> impl Iterator<Item = DriverMessage<'_>> {
        let vars = self.vars.iter().flat_map(|(name, v)| {
            let var = || Cow::Borrowed(name.as_str());
            core::iter::once(DriverMessage::SetInfo { var: var(), value: Cow::Borrowed(&v.value) })
                .chain(
                    v.enums.iter().map(move |e| DriverMessage::AddEnum {
                        var: var(),
                        value: Cow::Borrowed(e),
                    }),
                )
                .chain(v.ranges.iter().map(move |&(min, max)| DriverMessage::AddRange {
                    var: var(),
                    min,
                    max,
                }))
                .chain((v.aux != 0).then(|| DriverMessage::SetAux { var: var(), aux: v.aux }))
                .chain(
                    (!v.flags.is_empty())
                        .then(|| DriverMessage::SetFlags { var: var(), flags: v.flags }),
                )
        });
        let cmds =
            self.cmds.iter().map(|c| DriverMessage::AddCmd { cmd: Cow::Borrowed(c.as_str()) });
        vars.chain(cmds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn apply_lines(state: &mut UpsState, lines: &str) {
        for line in lines.lines() {
            let msg = DriverMessage::parse(line.as_bytes()).unwrap();
            state.apply(&msg).unwrap();
        }
    }

    #[test]
    fn order_and_dump_match_nut() {
        let mut s = UpsState::new();
        apply_lines(
            &mut s,
            "SETINFO ups.status \"OL\"\nSETINFO Battery.charge \"100\"\nSETINFO ups.id \"my id\"\n\
             SETFLAGS ups.id RW STRING\nSETAUX ups.id 16\nSETINFO input.transfer.low \"100\"\n\
             ADDENUM input.transfer.low \"103\"\nADDENUM input.transfer.low \"100\"\n\
             ADDRANGE input.transfer.low 90 105\nADDCMD load.off\nADDCMD Beeper.toggle\n",
        );
        let dump: Vec<String> = s.dump().map(|m| String::from_utf8(m.to_line()).unwrap()).collect();
        assert_eq!(
            dump.concat(),
            "SETINFO Battery.charge \"100\"\nSETINFO input.transfer.low \"100\"\n\
             ADDENUM input.transfer.low \"103\"\nADDENUM input.transfer.low \"100\"\n\
             ADDRANGE input.transfer.low 90 105\nSETINFO ups.id \"my id\"\nSETAUX ups.id 16\n\
             SETFLAGS ups.id RW STRING\nSETINFO ups.status \"OL\"\nADDCMD Beeper.toggle\nADDCMD load.off\n"
        );
        assert_eq!(s.value("BATTERY.CHARGE"), Some("100"));
        assert!(s.has_command("LOAD.OFF"));
        assert_eq!(s.command("beeper.toggle"), Some("Beeper.toggle"));
    }

    #[test]
    fn changes_and_errors() {
        let mut s = UpsState::new();
        assert_eq!(s.set_value("ups.model", "Dummy UPS"), Ok(true));
        assert_eq!(s.set_value("ups.model", "Dummy UPS"), Ok(false));
        // NUT 2.8 ignores a change in letter case only; we do not.
        assert_eq!(s.set_value("UPS.MODEL", "dummy ups"), Ok(true));
        assert_eq!(s.value("ups.model"), Some("dummy ups"));
        let add = |min, max| DriverMessage::AddRange { var: "ups.model".into(), min, max };
        assert_eq!(s.apply(&add(120, 135)), Ok(true));
        // NUT 2.8 refuses a range sharing only its min or max; we do not.
        assert_eq!(s.apply(&add(120, 160)), Ok(true));
        assert_eq!(s.apply(&add(120, 160)), Ok(false));
        assert!(matches!(s.apply(&add(5, 1)), Err(StateError::EmptyRange { .. })));
        let missing = DriverMessage::AddEnum { var: "nope".into(), value: "x".into() };
        assert_eq!(s.apply(&missing), Err(StateError::NoSuchVariable("nope".into())));
        assert!(s.delete("UPS.model"));
        assert_eq!(s.var_count(), 0);
    }

    #[test]
    fn bounded() {
        let mut s = UpsState::new();
        for i in 0..MAX_ENTRIES {
            s.set_value(&format!("v{i}"), "x").unwrap();
        }
        assert_eq!(s.set_value("one.more", "x"), Err(StateError::Full(MAX_ENTRIES)));
        assert_eq!(s.set_value("v1", "changed"), Ok(true));
    }
}
