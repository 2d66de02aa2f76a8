//! Notification kinds, their flags and messages.

use std::fmt;
use std::ops::BitOr;

macro_rules! kinds {
    ($($(#[$doc:meta])* $v:ident = $name:literal, $msg:literal, $flags:expr;)*) => {
        /// A notification event (`NOTIFYTYPE`).
        ///
        /// The first eleven are NUT 2.8.0's; the others (`NOTCAL` to
        /// `NOTBOOST`) are NUT HEAD's names for status changes 2.8.0
        /// ignores.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum NotifyKind {
            $($(#[$doc])* $v,)*
        }

        impl NotifyKind {
            /// Every kind, in NUT's order.
            pub const ALL: &'static [NotifyKind] = &[$(NotifyKind::$v,)*];

            /// NUT's name (`ONBATT`), the value of `NOTIFYTYPE`.
            pub fn name(self) -> &'static str {
                match self { $(NotifyKind::$v => $name,)* }
            }

            /// NUT's stock message; `%s` stands for the UPS system name.
            pub fn default_message(self) -> &'static str {
                match self { $(NotifyKind::$v => $msg,)* }
            }

            /// The flags used when `NOTIFYFLAG` does not set them.
            pub fn default_flags(self) -> NotifyFlags {
                match self { $(NotifyKind::$v => $flags,)* }
            }
        }
    };
}

const SW: NotifyFlags = NotifyFlags(NotifyFlags::SYSLOG.0 | NotifyFlags::WALL.0);

kinds! {
    /// The UPS is back on line power.
    Online = "ONLINE", "UPS %s on line power", SW;
    /// The UPS is on battery.
    OnBatt = "ONBATT", "UPS %s on battery", SW;
    /// The battery is low.
    LowBatt = "LOWBATT", "UPS %s battery is low", SW;
    /// The UPS carries the forced-shutdown flag.
    Fsd = "FSD", "UPS %s: forced shutdown in progress", SW;
    /// Communication is back.
    CommOk = "COMMOK", "Communications with UPS %s established", SW;
    /// Communication was lost.
    CommBad = "COMMBAD", "Communications with UPS %s lost", SW;
    /// This system is shutting down.
    Shutdown = "SHUTDOWN", "Auto logout and shutdown proceeding", SW;
    /// The battery needs replacing.
    ReplBatt = "REPLBATT", "UPS %s battery needs to be replaced", SW;
    /// The UPS has been unreachable for a while.
    NoComm = "NOCOMM", "UPS %s is unavailable", SW;
    /// The privileged parent process is gone.
    NoParent = "NOPARENT", "upsmon parent process died - shutdown impossible", SW;
    /// Calibration started.
    Cal = "CAL", "UPS %s: calibration in progress", NotifyFlags::SYSLOG;
    /// Calibration finished.
    NotCal = "NOTCAL", "UPS %s: calibration finished", SW;
    /// The UPS is off.
    Off = "OFF", "UPS %s: administratively OFF or asleep", SW;
    /// The UPS is no longer off.
    NotOff = "NOTOFF", "UPS %s: no longer administratively OFF or asleep", SW;
    /// The UPS is on bypass.
    Bypass = "BYPASS", "UPS %s: on bypass (powered, not protecting)", SW;
    /// The UPS left bypass.
    NotBypass = "NOTBYPASS", "UPS %s: no longer on bypass", SW;
    /// The UPS reports an alarm.
    Alarm = "ALARM", "UPS %s: one or more active alarms: [%s]", SW;
    /// The alarm is gone.
    NotAlarm = "NOTALARM", "UPS %s is no longer in an alarm state (no active alarms)", SW;
    /// The UPS is overloaded.
    Over = "OVER", "UPS %s: overloaded", SW;
    /// The overload is gone.
    NotOver = "NOTOVER", "UPS %s: no longer overloaded", SW;
    /// The UPS trims the input voltage.
    Trim = "TRIM", "UPS %s: trimming incoming voltage", SW;
    /// Trimming stopped.
    NotTrim = "NOTTRIM", "UPS %s: no longer trimming incoming voltage", SW;
    /// The UPS boosts the input voltage.
    Boost = "BOOST", "UPS %s: boosting incoming voltage", SW;
    /// Boosting stopped.
    NotBoost = "NOTBOOST", "UPS %s: no longer boosting incoming voltage", SW;
}

impl NotifyKind {
    /// Looks a kind up by name, case-insensitively (as `NOTIFYMSG` and
    /// `NOTIFYFLAG` do).
    pub fn from_name(name: &str) -> Option<NotifyKind> {
        NotifyKind::ALL.iter().copied().find(|k| k.name().eq_ignore_ascii_case(name))
    }

    fn index(self) -> usize {
        NotifyKind::ALL.iter().position(|&k| k == self).unwrap_or(0)
    }
}

impl fmt::Display for NotifyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to do with a notification: `SYSLOG`, `WALL`, `EXEC`, or `IGNORE`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NotifyFlags(u8);

impl NotifyFlags {
    /// Do nothing at all (wins over the others).
    pub const IGNORE: NotifyFlags = NotifyFlags(1);
    /// Log it.
    pub const SYSLOG: NotifyFlags = NotifyFlags(2);
    /// Send it to every terminal (`wall`).
    pub const WALL: NotifyFlags = NotifyFlags(4);
    /// Run `NOTIFYCMD`.
    pub const EXEC: NotifyFlags = NotifyFlags(8);

    /// No flag.
    pub const fn empty() -> NotifyFlags {
        NotifyFlags(0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: NotifyFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the notification is to be dropped (`IGNORE`).
    pub const fn is_ignored(self) -> bool {
        self.contains(NotifyFlags::IGNORE)
    }

    /// Whether it is logged (`SYSLOG`, and not `IGNORE`).
    pub const fn syslog(self) -> bool {
        !self.is_ignored() && self.contains(NotifyFlags::SYSLOG)
    }

    /// Whether it goes to `wall` (`WALL`, and not `IGNORE`).
    pub const fn wall(self) -> bool {
        !self.is_ignored() && self.contains(NotifyFlags::WALL)
    }

    /// Whether `NOTIFYCMD` runs (`EXEC`, and not `IGNORE`).
    pub const fn exec(self) -> bool {
        !self.is_ignored() && self.contains(NotifyFlags::EXEC)
    }

    /// Parses `SYSLOG+WALL+EXEC` or `IGNORE` (case-sensitive, as NUT);
    /// returns the flags and the words that were not flags.
    pub fn parse(s: &str) -> (NotifyFlags, Vec<String>) {
        let mut f = NotifyFlags::empty();
        let mut bad = Vec::new();
        for word in s.split('+') {
            match word {
                "SYSLOG" => f = f | NotifyFlags::SYSLOG,
                "WALL" => f = f | NotifyFlags::WALL,
                "EXEC" => f = f | NotifyFlags::EXEC,
                "IGNORE" => f = f | NotifyFlags::IGNORE,
                other => bad.push(other.to_string()),
            }
        }
        (f, bad)
    }
}

impl BitOr for NotifyFlags {
    type Output = NotifyFlags;
    fn bitor(self, rhs: NotifyFlags) -> NotifyFlags {
        NotifyFlags(self.0 | rhs.0)
    }
}

impl fmt::Debug for NotifyFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (NotifyFlags::SYSLOG, "SYSLOG"),
            (NotifyFlags::WALL, "WALL"),
            (NotifyFlags::EXEC, "EXEC"),
            (NotifyFlags::IGNORE, "IGNORE"),
        ]
        .iter()
        .filter(|(fl, _)| self.contains(*fl))
        .map(|(_, n)| *n)
        .collect();
        if names.is_empty() { f.write_str("(none)") } else { f.write_str(&names.join("+")) }
    }
}

/// The messages and flags of every kind: NUT's defaults, overridden by
/// `NOTIFYMSG` and `NOTIFYFLAG`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyTable {
    messages: Vec<Option<String>>,
    flags: Vec<NotifyFlags>,
}

impl Default for NotifyTable {
    fn default() -> Self {
        NotifyTable {
            messages: vec![None; NotifyKind::ALL.len()],
            flags: NotifyKind::ALL.iter().map(|k| k.default_flags()).collect(),
        }
    }
}

impl NotifyTable {
    /// Replaces the message format of `kind` (`NOTIFYMSG`).
    pub fn set_message(&mut self, kind: NotifyKind, format: &str) {
        self.messages[kind.index()] = Some(format.to_string());
    }

    /// Replaces the flags of `kind` (`NOTIFYFLAG`).
    pub fn set_flags(&mut self, kind: NotifyKind, flags: NotifyFlags) {
        self.flags[kind.index()] = flags;
    }

    /// The flags of `kind`.
    pub fn flags(&self, kind: NotifyKind) -> NotifyFlags {
        self.flags[kind.index()]
    }

    /// The format of `kind` (the override, else the stock message).
    pub fn format(&self, kind: NotifyKind) -> &str {
        self.messages[kind.index()].as_deref().unwrap_or(kind.default_message())
    }

    /// The message of `kind` for the UPS `system` (empty for events about
    /// this host, such as `SHUTDOWN`).
    pub fn message(&self, kind: NotifyKind, system: &str) -> String {
        format_message(self.format(kind), &[system])
    }
}

/// Fills a NUT message format without `printf`: each `%s` takes the next
/// argument (an empty string when they run out), `%%` is `%`, and any other
/// `%` sequence is copied as written. Nothing in `format` can read memory
/// or crash, unlike NUT's `snprintf` with a user-supplied format.
///
/// ```
/// use nut_client::monitor::notify::format_message;
/// assert_eq!(format_message("UPS %s on battery", &["u@h"]), "UPS u@h on battery");
/// assert_eq!(format_message("%s %s %d%% %n", &["a"]), "a  %d% %n");
/// ```
pub fn format_message(format: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(format.len() + 32);
    let mut args = args.iter();
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('s') {
            out.push_str(args.next().copied().unwrap_or(""));
            rest = a;
        } else if let Some(a) = after.strip_prefix('%') {
            out.push('%');
            rest = a;
        } else {
            out.push('%');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &k in NotifyKind::ALL {
            assert_eq!(NotifyKind::from_name(&k.name().to_lowercase()), Some(k));
        }
        assert_eq!(NotifyKind::ALL.len(), 24);
        assert_eq!(NotifyKind::Cal.default_flags(), NotifyFlags::SYSLOG);
    }

    #[test]
    fn flags() {
        let (f, bad) = NotifyFlags::parse("SYSLOG+WALL+EXEC");
        assert!(f.syslog() && f.wall() && f.exec() && bad.is_empty());
        let (f, bad) = NotifyFlags::parse("IGNORE+EXEC+syslog");
        assert!(f.is_ignored() && !f.exec());
        assert_eq!(bad, ["syslog"]);
        assert_eq!(format!("{:?}", NotifyFlags::SYSLOG | NotifyFlags::WALL), "SYSLOG+WALL");
    }

    #[test]
    fn hostile_formats() {
        assert_eq!(format_message("%", &["x"]), "%");
        assert_eq!(format_message("%s%s%s", &["x"]), "x");
        assert_eq!(format_message("100%s", &["é"]), "100é");
        assert_eq!(format_message("%*.*s%99999999s%ls", &["x"]), "%*.*s%99999999s%ls");
    }
}
