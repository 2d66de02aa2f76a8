//! The driver's view of its state: the [`UpsState`] tree plus what NUT's
//! driver core keeps beside it (immutable `override.*` variables, the
//! DATAOK/DATASTALE flag, the `ups.status` and `ups.alarm` helpers), and the
//! queue of live updates to broadcast to every connection.

use nut_proto::publish::{Publish, StatusBuilder, cut_value as cut};
use nut_proto::sock::{DriverMessage, VarFlags};
use nut_proto::state::{Name, UpsState};
use std::collections::BTreeSet;

pub use nut_proto::publish::MAX_VALUE_LEN;

/// The state a driver publishes, with the operations of NUT's driver core
/// (`dstate_setinfo`, `dstate_setflags`, `status_set`, ...).
///
/// Every change is recorded as a [`DriverMessage`] line in an outbox; the
/// [`Driver`](super::Driver) sends it to every connected `upsd`. Values
/// are always escaped on the wire (see `docs/COMPATIBILITY.md`, S1).
#[derive(Clone, Debug)]
pub struct Dstate {
    tree: UpsState,
    immutable: BTreeSet<Name>,
    stale: bool,
    outbox: Vec<u8>,
    status: StatusBuilder,
}

impl Default for Dstate {
    fn default() -> Self {
        Self::new()
    }
}

impl Dstate {
    /// An empty state, stale until the first successful update (as NUT).
    pub fn new() -> Self {
        Dstate {
            tree: UpsState::new(),
            immutable: BTreeSet::new(),
            stale: true,
            outbox: Vec::new(),
            status: StatusBuilder::new(),
        }
    }

    /// The variables and commands.
    pub fn tree(&self) -> &UpsState {
        &self.tree
    }

    /// A variable's value (case-insensitive name).
    pub fn getinfo(&self, var: &str) -> Option<&str> {
        self.tree.value(var)
    }

    fn send(&mut self, msg: DriverMessage<'_>) {
        msg.encode(&mut self.outbox);
    }

    /// Takes the live updates recorded since the last call (encoded lines).
    pub fn take_outbox(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.outbox)
    }

    /// Whether the variable was made immutable by an `override.*` setting.
    pub fn is_immutable(&self, var: &str) -> bool {
        self.immutable.contains(&Name::new(var))
    }

    /// Sets a value, creating the variable if needed (`dstate_setinfo`).
    /// Returns whether it changed. Immutable variables keep their value.
    pub fn setinfo(&mut self, var: &str, value: &str) -> bool {
        let value = cut(value);
        if self.is_immutable(var) && self.tree.get(var).is_some() {
            return false;
        }
        match self.tree.set_value(var, value) {
            Ok(true) => {
                self.send(DriverMessage::SetInfo { var: var.into(), value: value.into() });
                true
            }
            _ => false,
        }
    }

    /// `device.mfr`, `device.model` and `device.serial` from their `ups.*`
    /// twins, where those are set: what NUT's driver core does once the
    /// device is identified (the poller after `connect`; a device that
    /// identifies the unit later does it then).
    pub fn copy_device_ids(&mut self) {
        for (from, to) in [
            ("ups.mfr", "device.mfr"),
            ("ups.model", "device.model"),
            ("ups.serial", "device.serial"),
        ] {
            if let Some(v) = self.getinfo(from).map(str::to_string) {
                self.setinfo(to, &v);
            }
        }
    }

    /// Sets a value and makes it immutable (ups.conf `override.<var>`).
    pub fn setinfo_immutable(&mut self, var: &str, value: &str) -> bool {
        let changed = match self.tree.set_value(var, cut(value)) {
            Ok(true) => {
                self.send(DriverMessage::SetInfo { var: var.into(), value: cut(value).into() });
                true
            }
            _ => false,
        };
        self.immutable.insert(Name::new(var));
        changed
    }

    /// Deletes a variable (`dstate_delinfo`); returns whether it existed.
    pub fn delinfo(&mut self, var: &str) -> bool {
        if self.is_immutable(var) {
            return false;
        }
        let existed = self.tree.delete(var);
        if existed {
            self.send(DriverMessage::DelInfo { var: var.into() });
        }
        existed
    }

    fn apply(&mut self, msg: DriverMessage<'_>) -> bool {
        match self.tree.apply(&msg) {
            Ok(true) => {
                self.send(msg);
                true
            }
            _ => false,
        }
    }

    /// Adds an allowed value (`dstate_addenum`).
    pub fn addenum(&mut self, var: &str, value: &str) -> bool {
        self.apply(DriverMessage::AddEnum { var: var.into(), value: cut(value).into() })
    }

    /// Removes an allowed value (`dstate_delenum`).
    pub fn delenum(&mut self, var: &str, value: &str) -> bool {
        self.apply(DriverMessage::DelEnum { var: var.into(), value: value.into() })
    }

    /// Adds an allowed range and the NUMBER flag (`dstate_addrange`).
    pub fn addrange(&mut self, var: &str, min: i64, max: i64) -> bool {
        let added = self.apply(DriverMessage::AddRange { var: var.into(), min, max });
        if added {
            self.addflags(var, VarFlags { number: true, ..VarFlags::default() });
        }
        added
    }

    /// Removes an allowed range (`dstate_delrange`).
    pub fn delrange(&mut self, var: &str, min: i64, max: i64) -> bool {
        self.apply(DriverMessage::DelRange { var: var.into(), min, max })
    }

    /// Replaces a variable's flags (`dstate_setflags`). Ignored for a
    /// missing or immutable variable.
    pub fn setflags(&mut self, var: &str, flags: VarFlags) -> bool {
        if self.is_immutable(var) {
            return false;
        }
        self.apply(DriverMessage::SetFlags { var: var.into(), flags })
    }

    /// Adds flags to a variable's flags (`dstate_addflags`).
    pub fn addflags(&mut self, var: &str, add: VarFlags) -> bool {
        let Some(v) = self.tree.get(var) else { return false };
        let f = v.flags;
        let new = VarFlags {
            rw: f.rw || add.rw,
            string: f.string || add.string,
            number: f.number || add.number,
        };
        self.setflags(var, new)
    }

    /// Sets the maximum length of a string variable (`dstate_setaux`).
    pub fn setaux(&mut self, var: &str, aux: i64) -> bool {
        self.apply(DriverMessage::SetAux { var: var.into(), aux })
    }

    /// Adds an instant command (`dstate_addcmd`).
    pub fn addcmd(&mut self, cmd: &str) -> bool {
        self.apply(DriverMessage::AddCmd { cmd: cmd.into() })
    }

    /// Removes an instant command (`dstate_delcmd`).
    pub fn delcmd(&mut self, cmd: &str) -> bool {
        self.apply(DriverMessage::DelCmd { cmd: cmd.into() })
    }

    /// Marks the data valid; sends `DATAOK` on a change (`dstate_dataok`).
    pub fn dataok(&mut self) {
        if self.stale {
            self.stale = false;
            self.send(DriverMessage::DataOk);
        }
    }

    /// Marks the data stale; sends `DATASTALE` on a change.
    pub fn datastale(&mut self) {
        if !self.stale {
            self.stale = true;
            self.send(DriverMessage::DataStale);
        }
    }

    /// Whether the data is stale.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Starts a new `ups.status` (`status_init`).
    pub fn status_init(&mut self) {
        self.status.status_init();
    }

    /// Adds status tokens (`status_set`): the text is split at spaces and a
    /// token already present is not added again (as NUT 2.8.3+ does).
    /// `LB` is dropped when the `ignorelb` flag is set.
    pub fn status_set(&mut self, tokens: &str) {
        let ignorelb = self.getinfo("driver.flag.ignorelb").is_some();
        self.status.status_set(tokens, |t| ignorelb && t.eq_ignore_ascii_case("LB"));
    }

    /// Publishes `ups.status` (`status_commit`): `ALARM` first when alarms
    /// are active; with `ignorelb`, `LB` from the charge or runtime limits.
    pub fn status_commit(&mut self) {
        let lb: &[&str] = if self.getinfo("driver.flag.ignorelb").is_some() && self.below_low() {
            &["LB"]
        } else {
            &[]
        };
        let value = self.status.status_value(lb);
        self.setinfo("ups.status", &value);
    }

    fn below_low(&self) -> bool {
        let num = |v: &str| -> Option<i64> {
            let v = v.trim_start();
            let end = v
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
                .map_or(v.len(), |(i, _)| i);
            v[..end].parse().ok()
        };
        let lower =
            |a: &str, b: &str| match (self.getinfo(a).and_then(num), self.getinfo(b).and_then(num))
            {
                (Some(v), Some(low)) => v < low,
                _ => false,
            };
        lower("battery.charge", "battery.charge.low")
            || lower("battery.runtime", "battery.runtime.low")
    }

    /// Clears the alarms (`alarm_init`).
    pub fn alarm_init(&mut self) {
        self.status.alarm_init();
    }

    /// Adds an alarm text (`alarm_set`).
    pub fn alarm_set(&mut self, text: &str) {
        self.status.alarm_set(text);
    }

    /// Publishes `ups.alarm` or deletes it when there is no alarm
    /// (`alarm_commit`); `ALARM` then leads `ups.status` on its next commit.
    pub fn alarm_commit(&mut self) {
        match self.status.alarm_commit() {
            Some(text) => {
                self.setinfo("ups.alarm", &text);
            }
            None => {
                self.delinfo("ups.alarm");
            }
        }
    }

    /// The lines of a `DUMPALL` answer, in NUT's order: `DATASTALE` if
    /// stale, the tree, `DATAOK` if not stale, `DUMPDONE`.
    pub fn dump_into(&self, out: &mut Vec<u8>) {
        crate::server::dump_into(&self.tree, self.stale, out);
    }

    /// The lines describing one variable (HEAD's `DUMPVALUE`), framed like
    /// a `DUMPALL` answer.
    pub fn dump_one_into(&self, var: &str, out: &mut Vec<u8>) {
        crate::server::dump_one_into(&self.tree, self.stale, var, out);
    }

    /// The variables as `upsc` prints them (`name: value` lines), as NUT's
    /// `-d` option dumps them.
    pub fn upsc_dump(&self) -> String {
        let mut s = String::new();
        for (name, v) in self.tree.vars() {
            s.push_str(name);
            s.push_str(": ");
            s.push_str(&v.value);
            s.push('\n');
        }
        s
    }
}

impl Publish for Dstate {
    fn setinfo(&mut self, var: &str, value: &str) -> bool {
        Dstate::setinfo(self, var, value)
    }
    fn getinfo(&self, var: &str) -> Option<&str> {
        Dstate::getinfo(self, var)
    }
    fn delinfo(&mut self, var: &str) -> bool {
        Dstate::delinfo(self, var)
    }
    fn setflags(&mut self, var: &str, flags: VarFlags) -> bool {
        Dstate::setflags(self, var, flags)
    }
    fn addflags(&mut self, var: &str, add: VarFlags) -> bool {
        Dstate::addflags(self, var, add)
    }
    fn setaux(&mut self, var: &str, aux: i64) -> bool {
        Dstate::setaux(self, var, aux)
    }
    fn addenum(&mut self, var: &str, value: &str) -> bool {
        Dstate::addenum(self, var, value)
    }
    fn delenum(&mut self, var: &str, value: &str) -> bool {
        Dstate::delenum(self, var, value)
    }
    fn addrange(&mut self, var: &str, min: i64, max: i64) -> bool {
        Dstate::addrange(self, var, min, max)
    }
    fn delrange(&mut self, var: &str, min: i64, max: i64) -> bool {
        Dstate::delrange(self, var, min, max)
    }
    fn addcmd(&mut self, cmd: &str) -> bool {
        Dstate::addcmd(self, cmd)
    }
    fn delcmd(&mut self, cmd: &str) -> bool {
        Dstate::delcmd(self, cmd)
    }
    fn status_init(&mut self) {
        Dstate::status_init(self)
    }
    fn status_set(&mut self, tokens: &str) {
        Dstate::status_set(self, tokens)
    }
    fn status_commit(&mut self) {
        Dstate::status_commit(self)
    }
    fn alarm_init(&mut self) {
        Dstate::alarm_init(self)
    }
    fn alarm_set(&mut self, text: &str) {
        Dstate::alarm_set(self, text)
    }
    fn alarm_commit(&mut self) {
        Dstate::alarm_commit(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(d: &mut Dstate) -> String {
        String::from_utf8(d.take_outbox()).unwrap()
    }

    #[test]
    fn updates_are_broadcast_once_and_escaped() {
        let mut d = Dstate::new();
        assert!(d.setinfo("ups.id", "with \"q\""));
        assert!(!d.setinfo("ups.id", "with \"q\""));
        d.setflags("ups.id", VarFlags { rw: true, string: true, number: false });
        d.setaux("ups.id", 16);
        d.setaux("ups.id", 16);
        d.dataok();
        d.dataok();
        assert_eq!(
            lines(&mut d),
            "SETINFO ups.id \"with \\\"q\\\"\"\nSETFLAGS ups.id RW STRING\nSETAUX ups.id 16\nDATAOK\n"
        );
    }

    #[test]
    fn override_is_immutable() {
        let mut d = Dstate::new();
        d.setinfo_immutable("ups.mfr", "Fixed");
        assert!(!d.setinfo("ups.mfr", "Other"));
        assert!(!d.delinfo("ups.mfr"));
        assert_eq!(d.getinfo("ups.mfr"), Some("Fixed"));
    }

    #[test]
    fn status_and_alarm() {
        let mut d = Dstate::new();
        d.status_init();
        d.status_set("OL CHRG OL");
        d.status_commit();
        assert_eq!(d.getinfo("ups.status"), Some("OL CHRG"));
        d.alarm_set("[Replace battery]");
        d.alarm_commit();
        d.status_commit();
        assert_eq!(d.getinfo("ups.status"), Some("ALARM OL CHRG"));
        assert_eq!(d.getinfo("ups.alarm"), Some("[Replace battery]"));
        d.alarm_init();
        d.alarm_commit();
        d.status_commit();
        assert_eq!(d.getinfo("ups.alarm"), None);
        assert_eq!(d.getinfo("ups.status"), Some("OL CHRG"));
        d.setinfo("driver.flag.ignorelb", "enabled");
        d.setinfo("battery.charge", "10");
        d.setinfo("battery.charge.low", "20");
        d.status_init();
        d.status_set("OB LB");
        d.status_commit();
        assert_eq!(d.getinfo("ups.status"), Some("OB LB"));
    }

    #[test]
    fn long_values_are_cut() {
        let mut d = Dstate::new();
        d.setinfo("x", &"é".repeat(200));
        assert!(d.getinfo("x").unwrap().len() <= MAX_VALUE_LEN);
    }
}
