//! `ups.conf`: the one reading of the file that `upsd`, `upsdrvctl` and
//! the drivers share.
//!
//! Every line goes through one rule, NUT's (`common/upsconf.c`): a lone
//! word is a flag (`nolock`); three or more words whose second is `=` set
//! the first to the third (`port = /dev/ttyS0`; words after the third are
//! ignored); any other shape is ignored. Sections with the same name
//! (compared exactly) are one UPS, as in NUT, and a key given twice keeps
//! its last value in the typed fields. The ordered list of every setting is
//! kept too, for the programs that handle keys of their own (the drivers).
//!
//! ```
//! use nut_proto::config::upsconf::UpsConf;
//!
//! let text = b"maxretry = 3\nnowait\n[ups1]\n  driver = dummy-ups\n  port = a.dev\n  \
//!     sdorder = 2\n  nolock\n  desc = \"one\" ignored\n";
//! let conf = UpsConf::parse("ups.conf", text);
//! assert_eq!(conf.global.maxretry, Some(3));
//! assert!(conf.global.nowait);
//! let ups = conf.ups("ups1").unwrap();
//! assert_eq!((ups.driver.as_deref(), ups.port.as_deref()), (Some("dummy-ups"), Some("a.dev")));
//! assert_eq!((ups.sdorder, ups.desc.as_deref()), (2, Some("one")));
//! assert_eq!(ups.settings[3].key, "nolock");
//! assert_eq!(ups.settings[3].value, None);
//! ```

use super::{ConfigError, ConfigFile, Directive};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One `key = value` or `flag` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// Line number (1-based).
    pub line: u32,
    /// The key, as written.
    pub key: String,
    /// The value; `None` for a flag.
    pub value: Option<String>,
}

impl Setting {
    /// Reads one directive with NUT's rule: `[flag]` or `[key, "=", value,
    /// ...]`; `None` for any other shape (which NUT ignores).
    pub fn from_directive(d: &Directive) -> Option<Setting> {
        let (key, value) = match d.words.as_slice() {
            [k] => (k, None),
            [k, eq, v, ..] if eq == "=" => (k, Some(v.clone())),
            _ => return None,
        };
        Some(Setting { line: d.line, key: key.clone(), value })
    }
}

/// The global settings (before the first section) that NUT's programs
/// read. Numbers that do not parse are `None`, as if not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Globals {
    /// `driverpath`: where `upsdrvctl` finds the drivers.
    pub driverpath: Option<String>,
    /// `statepath`: the driver sockets and PID files.
    pub statepath: Option<String>,
    /// `user`: the account the drivers switch to.
    pub user: Option<String>,
    /// `group`: the group of the driver sockets.
    pub group: Option<String>,
    /// `chroot`: where the drivers chroot to.
    pub chroot: Option<String>,
    /// `maxretry`: how often `upsdrvctl` tries to start a driver.
    pub maxretry: Option<u32>,
    /// `retrydelay`: seconds between those tries.
    pub retrydelay: Option<u32>,
    /// `maxstartdelay`: seconds `upsdrvctl` waits for a driver (negative:
    /// no limit).
    pub maxstartdelay: Option<i32>,
    /// `pollinterval`: seconds between driver updates.
    pub pollinterval: Option<u32>,
    /// `synchronous`: as written (`yes`, `no`, `auto`).
    pub synchronous: Option<String>,
    /// `debug_min`: the drivers' minimum debug level.
    pub debug_min: Option<u32>,
    /// `nowait` (a flag): `upsdrvctl` does not wait for the drivers.
    pub nowait: bool,
}

impl Globals {
    fn apply(&mut self, s: &Setting) {
        let Some(v) = s.value.as_deref() else {
            if s.key == "nowait" {
                self.nowait = true;
            }
            return;
        };
        match s.key.as_str() {
            "driverpath" => self.driverpath = Some(v.to_string()),
            "statepath" => self.statepath = Some(v.to_string()),
            "user" => self.user = Some(v.to_string()),
            "group" => self.group = Some(v.to_string()),
            "chroot" => self.chroot = Some(v.to_string()),
            "maxretry" => self.maxretry = v.trim().parse().ok(),
            "retrydelay" => self.retrydelay = v.trim().parse().ok(),
            "maxstartdelay" => self.maxstartdelay = v.trim().parse().ok(),
            "pollinterval" => self.pollinterval = v.trim().parse().ok(),
            "synchronous" => self.synchronous = Some(v.to_string()),
            "debug_min" => self.debug_min = v.trim().parse().ok(),
            // NUT's upsdrvctl sets `nowait` whatever its value.
            "nowait" => self.nowait = true,
            _ => {}
        }
    }
}

/// One `[name]` section: a UPS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsSection {
    /// The name between the brackets.
    pub name: String,
    /// Line number of its (first) `[name]` line.
    pub line: u32,
    /// `driver`: the driver program's name.
    pub driver: Option<String>,
    /// `port`: the device the driver opens.
    pub port: Option<String>,
    /// `desc`: the description `upsd` shows.
    pub desc: Option<String>,
    /// `sdorder`: the `upsdrvctl shutdown` group (0 by default; negative:
    /// never shut down; a value that does not parse counts as 0).
    pub sdorder: i32,
    /// `maxstartdelay` for this UPS, overriding the global one.
    pub maxstartdelay: Option<i32>,
    /// Every setting of the section, in file order (`None` for a flag).
    pub settings: Vec<Setting>,
}

impl UpsSection {
    /// The last value given to `key` (compared exactly, as NUT does; a
    /// flag of that name is no value).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.iter().rev().filter(|s| s.key == key).find_map(|s| s.value.as_deref())
    }

    fn apply(&mut self, s: Setting) {
        if let Some(v) = s.value.as_deref() {
            match s.key.as_str() {
                "driver" => self.driver = Some(v.to_string()),
                "port" => self.port = Some(v.to_string()),
                "desc" => self.desc = Some(v.to_string()),
                "sdorder" => self.sdorder = v.trim().parse().unwrap_or(0),
                "maxstartdelay" => self.maxstartdelay = v.trim().parse().ok(),
                _ => {}
            }
        }
        self.settings.push(s);
    }
}

/// `ups.conf`, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsConf {
    /// The typed global settings.
    pub global: Globals,
    /// Every global setting, in file order.
    pub global_settings: Vec<Setting>,
    /// The UPSes, in the order their names first appear.
    pub sections: Vec<UpsSection>,
    /// Syntax errors (their lines are skipped, as NUT does).
    pub errors: Vec<ConfigError>,
}

impl UpsConf {
    /// Parses `ups.conf`; `file` names it in error messages.
    pub fn parse(file: &str, text: &[u8]) -> UpsConf {
        Self::from_config(super::parse(file, text))
    }

    /// Reads an already tokenized `ups.conf`.
    pub fn from_config(conf: ConfigFile) -> UpsConf {
        let mut out = UpsConf { errors: conf.errors, ..UpsConf::default() };
        for s in conf.global.iter().filter_map(Setting::from_directive) {
            out.global.apply(&s);
            out.global_settings.push(s);
        }
        for section in conf.sections {
            let idx = match out.sections.iter().position(|u| u.name == section.name) {
                Some(i) => i,
                None => {
                    out.sections.push(UpsSection {
                        name: section.name,
                        line: section.line,
                        ..UpsSection::default()
                    });
                    out.sections.len() - 1
                }
            };
            if let Some(ups) = out.sections.get_mut(idx) {
                for s in section.directives.iter().filter_map(Setting::from_directive) {
                    ups.apply(s);
                }
            }
        }
        out
    }

    /// The section named `name` (compared exactly).
    pub fn ups(&self, name: &str) -> Option<&UpsSection> {
        self.sections.iter().find(|u| u.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_line() {
        let text = b"statepath = /run/a\nstatepath = /run/b\nmaxstartdelay = -1\nretrydelay = x\n\
            lonely value\nnowait = no\n[u]\ndriver = d\nport = p extra words\nport\nsdorder = z\n\
            [v]\ndriver = e\n[u]\ndesc = second\n";
        let c = UpsConf::parse("ups.conf", text);
        assert!(c.errors.is_empty());
        assert_eq!(c.global.statepath.as_deref(), Some("/run/b"), "the last value wins");
        assert_eq!(c.global.maxstartdelay, Some(-1));
        assert_eq!(c.global.retrydelay, None);
        assert!(c.global.nowait);
        // `lonely value` has two words: neither a flag nor a setting.
        assert_eq!(c.global_settings.len(), 5);
        assert_eq!(c.sections.len(), 2, "[u] twice is one UPS");
        let u = c.ups("u").unwrap();
        assert_eq!((u.line, u.port.as_deref(), u.desc.as_deref()), (7, Some("p"), Some("second")));
        assert_eq!(u.sdorder, 0);
        assert_eq!(u.get("port"), Some("p"), "the flag `port` has no value");
        let keys: Vec<_> = u.settings.iter().map(|s| (s.line, s.key.as_str())).collect();
        assert_eq!(keys, [(8, "driver"), (9, "port"), (10, "port"), (11, "sdorder"), (15, "desc")]);
        assert!(c.ups("U").is_none());
    }
}
