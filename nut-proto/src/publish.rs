//! What a device codec publishes: the [`Publish`] trait.
//!
//! Codec crates (`nut-hid`, `nut-megatec`, `nut-apc`, the SNMP and XML
//! mappings) turn device answers into NUT variables, status tokens,
//! instant commands and writable variables. They write into a
//! `&mut dyn Publish` (or `impl Publish`) and never depend on the driver
//! core: the driver's state (`nut_driver::Dstate`) implements this trait
//! and turns every change into a live update for `upsd`; [`Recorder`]
//! implements it for tests and for embedders who only want the values.
//!
//! The verbs are NUT's driver-state helpers (`dstate_setinfo`,
//! `status_set`, `alarm_commit`, ...), with the same meaning:
//!
//! - `ups.status` is built between [`status_init`](Publish::status_init)
//!   and [`status_commit`](Publish::status_commit): tokens are appended
//!   once each, in the order given, and the commit publishes them joined
//!   by spaces, led by `ALARM` when an alarm is active.
//! - `ups.alarm` is built the same way between
//!   [`alarm_init`](Publish::alarm_init) and
//!   [`alarm_commit`](Publish::alarm_commit); a commit with no alarm
//!   deletes the variable.
//! - [`addrange`](Publish::addrange) also sets the `NUMBER` flag, as NUT.

use crate::sock::{DriverMessage, VarFlags};
use crate::state::UpsState;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The longest value a driver publishes, in bytes (NUT's driver state keeps
/// 255 characters). Longer values are cut at a character boundary.
pub const MAX_VALUE_LEN: usize = 255;

/// `value` cut to [`MAX_VALUE_LEN`] bytes at a character boundary.
pub fn cut_value(value: &str) -> &str {
    if value.len() <= MAX_VALUE_LEN {
        return value;
    }
    let mut end = MAX_VALUE_LEN;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// Where a device codec publishes what it read: NUT's driver state verbs.
///
/// Every method that changes something returns whether it changed; a
/// codec may ignore that.
pub trait Publish {
    /// Sets a variable's value, creating it if needed (`dstate_setinfo`).
    fn setinfo(&mut self, var: &str, value: &str) -> bool;
    /// A variable's current value (`dstate_getinfo`), case-insensitive.
    fn getinfo(&self, var: &str) -> Option<&str>;
    /// Deletes a variable (`dstate_delinfo`).
    fn delinfo(&mut self, var: &str) -> bool;
    /// Replaces a variable's flags (`dstate_setflags`); ignored for a
    /// variable that does not exist.
    fn setflags(&mut self, var: &str, flags: VarFlags) -> bool;
    /// Adds flags to a variable's flags (`dstate_addflags`).
    fn addflags(&mut self, var: &str, add: VarFlags) -> bool;
    /// Sets the maximum length of a `STRING` variable (`dstate_setaux`).
    fn setaux(&mut self, var: &str, aux: i64) -> bool;
    /// Adds an allowed value of a writable variable (`dstate_addenum`).
    fn addenum(&mut self, var: &str, value: &str) -> bool;
    /// Removes an allowed value (`dstate_delenum`).
    fn delenum(&mut self, var: &str, value: &str) -> bool;
    /// Adds an allowed range and the `NUMBER` flag (`dstate_addrange`).
    fn addrange(&mut self, var: &str, min: i64, max: i64) -> bool;
    /// Removes an allowed range (`dstate_delrange`).
    fn delrange(&mut self, var: &str, min: i64, max: i64) -> bool;
    /// Adds an instant command (`dstate_addcmd`).
    fn addcmd(&mut self, cmd: &str) -> bool;
    /// Removes an instant command (`dstate_delcmd`).
    fn delcmd(&mut self, cmd: &str) -> bool;
    /// Starts a new `ups.status` (`status_init`).
    fn status_init(&mut self);
    /// Adds status tokens, split at spaces, each once (`status_set`).
    fn status_set(&mut self, tokens: &str);
    /// Publishes `ups.status` (`status_commit`).
    fn status_commit(&mut self);
    /// Clears the alarms (`alarm_init`).
    fn alarm_init(&mut self);
    /// Adds an alarm text (`alarm_set`).
    fn alarm_set(&mut self, text: &str);
    /// Publishes `ups.alarm`, or deletes it when no alarm was set
    /// (`alarm_commit`).
    fn alarm_commit(&mut self);

    /// Marks a variable writable as a string of at most `len` bytes
    /// (`RW STRING` plus `SETAUX`), as NUT's drivers publish `ups.id`.
    fn set_rw_string(&mut self, var: &str, len: i64) -> bool {
        let a = self.setflags(var, VarFlags { rw: true, string: true, number: false });
        let b = self.setaux(var, len);
        a || b
    }

    /// Marks a variable writable (`RW`), keeping its other flags.
    fn set_rw(&mut self, var: &str) -> bool {
        self.addflags(var, VarFlags { rw: true, ..VarFlags::default() })
    }
}

/// The token list behind `status_*` and `alarm_*`, shared by every
/// [`Publish`] implementation so they compose `ups.status` the same way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusBuilder {
    status: Vec<String>,
    alarm: Vec<String>,
    alarm_active: bool,
}

impl StatusBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// `status_init`.
    pub fn status_init(&mut self) {
        self.status.clear();
    }

    /// `status_set`: appends each space-separated token not yet present;
    /// `skip` drops tokens (for example `LB` under `ignorelb`).
    pub fn status_set(&mut self, tokens: &str, skip: impl Fn(&str) -> bool) {
        for t in tokens.split(' ').filter(|t| !t.is_empty()) {
            if skip(t) {
                continue;
            }
            if !self.status.iter().any(|s| s == t) {
                self.status.push(t.to_string());
            }
        }
    }

    /// The value `status_commit` publishes: `ALARM` first while an alarm is
    /// active, then the tokens, then `extra` tokens not already present.
    pub fn status_value(&self, extra: &[&str]) -> String {
        let mut out = String::new();
        let mut push = |t: &str| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(t);
        };
        if self.alarm_active && !self.status.iter().any(|s| s == "ALARM") {
            push("ALARM");
        }
        for t in &self.status {
            push(t);
        }
        for t in extra {
            if !self.status.iter().any(|s| s == t) {
                push(t);
            }
        }
        out
    }

    /// `alarm_init`.
    pub fn alarm_init(&mut self) {
        self.alarm.clear();
        self.alarm_active = false;
    }

    /// `alarm_set`.
    pub fn alarm_set(&mut self, text: &str) {
        self.alarm.push(text.to_string());
    }

    /// `alarm_commit`: the value of `ups.alarm`, or `None` to delete it.
    /// Also records whether `ALARM` leads the next status.
    pub fn alarm_commit(&mut self) -> Option<String> {
        if self.alarm.is_empty() {
            self.alarm_active = false;
            None
        } else {
            self.alarm_active = true;
            Some(self.alarm.join(" "))
        }
    }
}

/// A [`Publish`] that only keeps the tree: for tests of codecs and for
/// embedders who want the values without a driver.
///
/// ```
/// use nut_proto::publish::{Publish, Recorder};
/// let mut r = Recorder::new();
/// r.setinfo("battery.charge", "100");
/// r.status_init();
/// r.status_set("OL CHRG");
/// r.status_commit();
/// assert_eq!(r.getinfo("ups.status"), Some("OL CHRG"));
/// assert_eq!(r.upsc(), "battery.charge: 100\nups.status: OL CHRG\n");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    tree: UpsState,
    status: StatusBuilder,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The recorded tree.
    pub fn tree(&self) -> &UpsState {
        &self.tree
    }

    /// The variables as `upsc` prints them: `name: value` lines in NUT's
    /// order.
    pub fn upsc(&self) -> String {
        let mut s = String::new();
        for (name, v) in self.tree.vars() {
            s.push_str(name);
            s.push_str(": ");
            s.push_str(&v.value);
            s.push('\n');
        }
        s
    }

    /// The instant commands, one a line, as `upscmd -l` lists their names.
    pub fn commands(&self) -> Vec<&str> {
        self.tree.commands().collect()
    }

    fn apply(&mut self, msg: DriverMessage<'_>) -> bool {
        matches!(self.tree.apply(&msg), Ok(true))
    }
}

impl Publish for Recorder {
    fn setinfo(&mut self, var: &str, value: &str) -> bool {
        matches!(self.tree.set_value(var, cut_value(value)), Ok(true))
    }
    fn getinfo(&self, var: &str) -> Option<&str> {
        self.tree.value(var)
    }
    fn delinfo(&mut self, var: &str) -> bool {
        self.tree.delete(var)
    }
    fn setflags(&mut self, var: &str, flags: VarFlags) -> bool {
        self.apply(DriverMessage::SetFlags { var: var.into(), flags })
    }
    fn addflags(&mut self, var: &str, add: VarFlags) -> bool {
        let Some(v) = self.tree.get(var) else { return false };
        let f = v.flags;
        let new = VarFlags {
            rw: f.rw || add.rw,
            string: f.string || add.string,
            number: f.number || add.number,
        };
        self.setflags(var, new)
    }
    fn setaux(&mut self, var: &str, aux: i64) -> bool {
        self.apply(DriverMessage::SetAux { var: var.into(), aux })
    }
    fn addenum(&mut self, var: &str, value: &str) -> bool {
        self.apply(DriverMessage::AddEnum { var: var.into(), value: cut_value(value).into() })
    }
    fn delenum(&mut self, var: &str, value: &str) -> bool {
        self.apply(DriverMessage::DelEnum { var: var.into(), value: value.into() })
    }
    fn addrange(&mut self, var: &str, min: i64, max: i64) -> bool {
        let added = self.apply(DriverMessage::AddRange { var: var.into(), min, max });
        if added {
            self.addflags(var, VarFlags { number: true, ..VarFlags::default() });
        }
        added
    }
    fn delrange(&mut self, var: &str, min: i64, max: i64) -> bool {
        self.apply(DriverMessage::DelRange { var: var.into(), min, max })
    }
    fn addcmd(&mut self, cmd: &str) -> bool {
        self.apply(DriverMessage::AddCmd { cmd: cmd.into() })
    }
    fn delcmd(&mut self, cmd: &str) -> bool {
        self.apply(DriverMessage::DelCmd { cmd: cmd.into() })
    }
    fn status_init(&mut self) {
        self.status.status_init();
    }
    fn status_set(&mut self, tokens: &str) {
        self.status.status_set(tokens, |_| false);
    }
    fn status_commit(&mut self) {
        let v = self.status.status_value(&[]);
        self.setinfo("ups.status", &v);
    }
    fn alarm_init(&mut self) {
        self.status.alarm_init();
    }
    fn alarm_set(&mut self, text: &str) {
        self.status.alarm_set(text);
    }
    fn alarm_commit(&mut self) {
        match self.status.alarm_commit() {
            Some(v) => {
                self.setinfo("ups.alarm", &v);
            }
            None => {
                self.delinfo("ups.alarm");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_alarm_and_rw() {
        let mut r = Recorder::new();
        r.status_init();
        r.status_set("OL CHRG OL");
        r.status_commit();
        assert_eq!(r.getinfo("ups.status"), Some("OL CHRG"));
        r.alarm_init();
        r.alarm_set("Replace battery!");
        r.alarm_commit();
        r.status_commit();
        assert_eq!(r.getinfo("ups.status"), Some("ALARM OL CHRG"));
        r.alarm_init();
        r.alarm_commit();
        r.status_commit();
        assert_eq!(r.getinfo("ups.alarm"), None);
        assert_eq!(r.getinfo("ups.status"), Some("OL CHRG"));
        r.setinfo("ups.id", "x");
        assert!(r.set_rw_string("ups.id", 8));
        let v = r.tree().get("ups.id").unwrap();
        assert!(v.flags.rw && v.flags.string && v.aux == 8);
        r.setinfo("ups.delay.shutdown", "20");
        r.addrange("ups.delay.shutdown", 0, 600);
        assert!(r.tree().get("ups.delay.shutdown").unwrap().flags.number);
        assert!(!r.setflags("missing", VarFlags::default()));
    }
}
