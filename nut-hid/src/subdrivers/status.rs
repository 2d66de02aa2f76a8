//! Status words and how NUT 2.8.0 turns them into `ups.status`,
//! `ups.alarm` and `input.transfer.reason`.
//!
//! A status row ([`super::STATUS_VAR`]) yields a word such as `online`
//! or `!lowbatt`. The driver keeps one bit per word in a set that is
//! **never cleared** between polls: a bit changes only when some row
//! reports the word (set) or `!word` (clear). Unknown words are ignored.
//! After each walk the set is turned into status tokens ([`StatusBits::tokens`]),
//! the transfer reason ([`StatusBits::transfer_reason`]) and, on full
//! updates only, alarm texts ([`StatusBits::alarms`]).

use alloc::vec::Vec;

/// The internal status words of usbhid-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusWord {
    /// `online`: on utility power.
    Online,
    /// `dischrg`: battery discharging.
    Dischrg,
    /// `chrg`: battery charging.
    Chrg,
    /// `lowbatt`: battery low.
    Lowbatt,
    /// `overload`.
    Overload,
    /// `replacebatt`: battery needs replacing.
    Replacebatt,
    /// `shutdownimm`: shutdown imminent.
    Shutdownimm,
    /// `trim`: voltage trimmed.
    Trim,
    /// `boost`: voltage boosted.
    Boost,
    /// `bypassauto`: automatic bypass.
    Bypassauto,
    /// `bypassman`: manual bypass.
    Bypassman,
    /// `off`: the UPS is off.
    Off,
    /// `cal`: calibrating.
    Cal,
    /// `overheat`.
    Overheat,
    /// `commfault`: internal fault.
    Commfault,
    /// `depleted`: battery depleted.
    Depleted,
    /// `timelimitexp`: remaining time limit expired.
    Timelimitexp,
    /// `fullycharged`.
    Fullycharged,
    /// `awaitingpower`.
    Awaitingpower,
    /// `fanfail`.
    Fanfail,
    /// `nobattery`.
    Nobattery,
    /// `battvoltlo`: battery voltage too low.
    Battvoltlo,
    /// `battvolthi`: battery voltage too high.
    Battvolthi,
    /// `chargerfail`.
    Chargerfail,
    /// `vrange`: input voltage out of range.
    Vrange,
    /// `frange`: input frequency out of range.
    Frange,
}

/// Every word with its text, in NUT's order.
pub const WORDS: [(StatusWord, &str); 26] = [
    (StatusWord::Online, "online"),
    (StatusWord::Dischrg, "dischrg"),
    (StatusWord::Chrg, "chrg"),
    (StatusWord::Lowbatt, "lowbatt"),
    (StatusWord::Overload, "overload"),
    (StatusWord::Replacebatt, "replacebatt"),
    (StatusWord::Shutdownimm, "shutdownimm"),
    (StatusWord::Trim, "trim"),
    (StatusWord::Boost, "boost"),
    (StatusWord::Bypassauto, "bypassauto"),
    (StatusWord::Bypassman, "bypassman"),
    (StatusWord::Off, "off"),
    (StatusWord::Cal, "cal"),
    (StatusWord::Overheat, "overheat"),
    (StatusWord::Commfault, "commfault"),
    (StatusWord::Depleted, "depleted"),
    (StatusWord::Timelimitexp, "timelimitexp"),
    (StatusWord::Fullycharged, "fullycharged"),
    (StatusWord::Awaitingpower, "awaitingpower"),
    (StatusWord::Fanfail, "fanfail"),
    (StatusWord::Nobattery, "nobattery"),
    (StatusWord::Battvoltlo, "battvoltlo"),
    (StatusWord::Battvolthi, "battvolthi"),
    (StatusWord::Chargerfail, "chargerfail"),
    (StatusWord::Vrange, "vrange"),
    (StatusWord::Frange, "frange"),
];

impl StatusWord {
    /// The word's text.
    pub fn as_str(self) -> &'static str {
        WORDS.iter().find(|(w, _)| *w == self).map_or("", |(_, s)| s)
    }

    fn bit(self) -> u32 {
        let i = WORDS.iter().position(|(w, _)| *w == self).unwrap_or(0);
        1 << i
    }
}

/// Parses a looked-up status text: `word` sets, `!word` clears. Words
/// compare case-insensitively; anything else is `None` (NUT ignores it).
pub fn parse_word(text: &str) -> Option<(StatusWord, bool)> {
    let (clear, word) = match text.strip_prefix('!') {
        Some(w) => (true, w),
        None => (false, text),
    };
    WORDS.iter().find(|(_, s)| s.eq_ignore_ascii_case(word)).map(|(w, _)| (*w, !clear))
}

/// The accumulated status bits of one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusBits(u32);

impl StatusBits {
    /// No word set.
    pub const fn new() -> Self {
        StatusBits(0)
    }

    /// Applies a looked-up status text; `false` if NUT would ignore it.
    pub fn apply(&mut self, text: &str) -> bool {
        match parse_word(text) {
            Some((w, true)) => {
                self.0 |= w.bit();
                true
            }
            Some((w, false)) => {
                self.0 &= !w.bit();
                true
            }
            None => false,
        }
    }

    /// Whether a word is set.
    pub fn has(&self, w: StatusWord) -> bool {
        self.0 & w.bit() != 0
    }

    /// The `ups.status` tokens, in NUT's order. `onlinedischarge` is the
    /// driver option that reads online+discharging as on battery.
    pub fn tokens(&self, onlinedischarge: bool) -> Vec<&'static str> {
        use StatusWord::*;
        let mut t = Vec::new();
        if !self.has(Online) || (self.has(Dischrg) && onlinedischarge) {
            t.push("OB");
        } else {
            t.push("OL");
        }
        if self.has(Dischrg) && !self.has(Depleted) {
            t.push("DISCHRG");
        }
        if self.has(Chrg) && !self.has(Fullycharged) {
            t.push("CHRG");
        }
        if self.has(Lowbatt) || self.has(Timelimitexp) || self.has(Shutdownimm) {
            t.push("LB");
        }
        let rest = [(Overload, "OVER"), (Replacebatt, "RB"), (Trim, "TRIM"), (Boost, "BOOST")];
        t.extend(rest.iter().filter(|(w, _)| self.has(*w)).map(|(_, s)| *s));
        if self.has(Bypassauto) || self.has(Bypassman) {
            t.push("BYPASS");
        }
        if self.has(Off) {
            t.push("OFF");
        }
        if self.has(Cal) {
            t.push("CAL");
        }
        t
    }

    /// Whether NUT logs its "OL+DISCHRG" warning for this state (online,
    /// discharging, not calibrating, `onlinedischarge` unset).
    pub fn warns_online_discharging(&self, onlinedischarge: bool) -> bool {
        use StatusWord::*;
        self.has(Online) && self.has(Dischrg) && !onlinedischarge && !self.has(Cal)
    }

    /// `input.transfer.reason`: `None` means the variable is deleted.
    pub fn transfer_reason(&self) -> Option<&'static str> {
        if self.has(StatusWord::Vrange) {
            Some("input voltage out of range")
        } else if self.has(StatusWord::Frange) {
            Some("input frequency out of range")
        } else {
            None
        }
    }

    /// The `ups.alarm` texts (full updates only), in NUT's order.
    pub fn alarms(&self) -> Vec<&'static str> {
        use StatusWord::*;
        const ALARMS: [(StatusWord, &str); 12] = [
            (Replacebatt, "Replace battery!"),
            (Shutdownimm, "Shutdown imminent!"),
            (Fanfail, "Fan failure!"),
            (Nobattery, "No battery installed!"),
            (Battvoltlo, "Battery voltage too low!"),
            (Battvolthi, "Battery voltage too high!"),
            (Chargerfail, "Battery charger fail!"),
            (Overheat, "Temperature too high!"),
            (Commfault, "Internal UPS fault!"),
            (Awaitingpower, "Awaiting power!"),
            (Bypassauto, "Automatic bypass mode!"),
            (Bypassman, "Manual bypass mode!"),
        ];
        ALARMS.iter().filter(|(w, _)| self.has(*w)).map(|(_, s)| *s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(words: &[&str]) -> StatusBits {
        let mut b = StatusBits::new();
        for w in words {
            assert!(b.apply(w), "{w}");
        }
        b
    }

    #[test]
    fn on_line_and_on_battery() {
        assert_eq!(StatusBits::new().tokens(false), ["OB"]);
        assert_eq!(bits(&["online"]).tokens(false), ["OL"]);
        assert_eq!(bits(&["online", "chrg"]).tokens(false), ["OL", "CHRG"]);
        assert_eq!(bits(&["online", "chrg", "fullycharged"]).tokens(false), ["OL"]);
        assert_eq!(bits(&["dischrg", "lowbatt"]).tokens(false), ["OB", "DISCHRG", "LB"]);
        assert_eq!(bits(&["dischrg", "depleted"]).tokens(false), ["OB"]);
    }

    #[test]
    fn online_discharging() {
        let b = bits(&["online", "dischrg"]);
        assert_eq!(b.tokens(false), ["OL", "DISCHRG"]);
        assert!(b.warns_online_discharging(false));
        assert_eq!(b.tokens(true), ["OB", "DISCHRG"]);
        assert!(!bits(&["online", "dischrg", "cal"]).warns_online_discharging(false));
    }

    #[test]
    fn bits_persist_until_cleared() {
        let mut b = bits(&["online", "overload"]);
        assert!(b.apply("ONLINE"));
        assert!(!b.apply("no"));
        assert_eq!(b.tokens(false), ["OL", "OVER"]);
        b.apply("!overload");
        assert_eq!(b.tokens(false), ["OL"]);
    }

    #[test]
    fn low_battery_sources_and_order() {
        for w in ["lowbatt", "timelimitexp", "shutdownimm"] {
            assert!(bits(&["online", w]).tokens(false).contains(&"LB"));
        }
        let all = bits(&[
            "online",
            "overload",
            "replacebatt",
            "trim",
            "boost",
            "bypassman",
            "off",
            "cal",
        ]);
        assert_eq!(
            all.tokens(false),
            ["OL", "OVER", "RB", "TRIM", "BOOST", "BYPASS", "OFF", "CAL"]
        );
    }

    #[test]
    fn alarms_and_reason() {
        let b = bits(&["replacebatt", "overheat", "bypassauto", "vrange", "frange"]);
        assert_eq!(
            b.alarms(),
            ["Replace battery!", "Temperature too high!", "Automatic bypass mode!"]
        );
        assert_eq!(b.transfer_reason(), Some("input voltage out of range"));
        assert_eq!(bits(&["frange"]).transfer_reason(), Some("input frequency out of range"));
        assert_eq!(StatusBits::new().transfer_reason(), None);
    }
}
