//! Driver settings from `ups.conf` and `-x`, handled as NUT's driver main
//! does. They are parsed to a value first ([`DriverParams`]); then
//! [`DriverParams::publish`] publishes each accepted setting as
//! `driver.parameter.<key>` or `driver.flag.<key>`, `default.<var>` as a
//! variable the device may change and `override.<var>` as one it may not.

use crate::dstate::Dstate;
use nut_proto::config::upsconf::UpsConf;
use std::time::Duration;

/// Whether a driver setting takes a value or is a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// `key = value`
    Value,
    /// `key` alone
    Flag,
}

/// A setting a driver accepts beyond the common ones (NUT's `addvar`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSpec {
    /// The key.
    pub name: &'static str,
    /// Value or flag.
    pub kind: VarKind,
    /// Never published as `driver.parameter.*` (passwords).
    pub sensitive: bool,
    /// One-line help.
    pub desc: &'static str,
}

impl VarSpec {
    /// A `key = value` setting, published as `driver.parameter.<key>`.
    pub const fn value(name: &'static str, desc: &'static str) -> VarSpec {
        VarSpec { name, kind: VarKind::Value, sensitive: false, desc }
    }

    /// A flag, published as `driver.flag.<key>`.
    pub const fn flag(name: &'static str, desc: &'static str) -> VarSpec {
        VarSpec { name, kind: VarKind::Flag, sensitive: false, desc }
    }
}

/// Why the settings cannot be used; the driver exits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// `-a <ups>` names no section of ups.conf.
    #[error("section {0} not found in ups.conf")]
    SectionNotFound(String),
    /// The section is for another driver.
    #[error("UPS [{ups}] is for driver {driver}, but I'm {me}")]
    WrongDriver {
        /// The section.
        ups: String,
        /// Its `driver` setting.
        driver: String,
        /// This driver's name.
        me: String,
    },
    /// A key this driver does not know.
    #[error("'{0}' is not a valid {1} for this driver")]
    Unknown(String, &'static str),
    /// `pollinterval` is not a positive number.
    #[error("invalid pollinterval: {0}")]
    BadPollInterval(String),
    /// No `port` was given.
    #[error("you must specify a port name in ups.conf or in '-x port=...'")]
    NoPort,
}

/// `synchronous` setting of the socket writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// `auto` (the default).
    #[default]
    Auto,
    /// `yes`
    Yes,
    /// anything else
    No,
}

impl Synchronous {
    fn parse(v: &str) -> Self {
        match v {
            "yes" => Synchronous::Yes,
            "auto" => Synchronous::Auto,
            _ => Synchronous::No,
        }
    }

    /// The published word.
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Auto => "auto",
            Synchronous::Yes => "yes",
            Synchronous::No => "no",
        }
    }
}

/// The settings of one driver instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriverParams {
    /// The driver's program name (`dummy-ups`).
    pub progname: String,
    /// The UPS (section) name.
    pub upsname: String,
    /// `port`
    pub port: Option<String>,
    /// `pollinterval` (2 s by default).
    pub poll_interval: Option<Duration>,
    /// `synchronous`
    pub synchronous: Synchronous,
    /// `user` (global or per UPS).
    pub user: Option<String>,
    /// `group`
    pub group: Option<String>,
    /// `chroot` (global).
    pub chroot: Option<String>,
    /// `debug_min`
    pub debug_min: Option<u32>,
    /// `nolock`
    pub nolock: bool,
    /// Driver-specific settings that were given, in order (`None` for a
    /// flag).
    pub values: Vec<(String, Option<String>)>,
    /// `user` came from the command line (then ups.conf does not change it).
    pub user_from_cmdline: bool,
    /// What [`publish`](Self::publish) publishes, in the order given.
    pub published: Vec<Published>,
}

/// One setting as it is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// `driver.parameter.<key>` = value.
    Parameter(String, String),
    /// `driver.flag.<key>` = `enabled`.
    Flag(String),
    /// `default.<var>`: the variable, which the device may change.
    Default(String, String),
    /// `override.<var>`: the variable, which the device may not change.
    Override(String, String),
}

impl DriverParams {
    /// Empty settings for `progname` and `upsname`.
    pub fn new(progname: &str, upsname: &str) -> Self {
        DriverParams { progname: progname.into(), upsname: upsname.into(), ..Self::default() }
    }

    /// The value of a driver-specific setting (the last one given).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether a driver-specific setting or flag was given.
    pub fn has(&self, key: &str) -> bool {
        self.values.iter().any(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    /// The poll interval in effect.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval.unwrap_or(Duration::from_secs(2))
    }

    /// Publishes the settings (as NUT's driver main does before the device
    /// is opened).
    pub fn publish(&self, st: &mut Dstate) {
        for p in &self.published {
            match p {
                Published::Parameter(k, v) => {
                    st.setinfo(&format!("driver.parameter.{k}"), v);
                }
                Published::Flag(k) => {
                    st.setinfo(&format!("driver.flag.{k}"), "enabled");
                }
                Published::Default(var, v) => {
                    st.setinfo(var, v);
                }
                Published::Override(var, v) => {
                    st.setinfo_immutable(var, v);
                }
            }
        }
    }

    /// Reads `ups.conf`: the global part, then the section of
    /// [`upsname`](Self::upsname).
    pub fn read_ups_conf(&mut self, conf: &UpsConf, vartab: &[VarSpec]) -> Result<(), ParamError> {
        for s in &conf.global_settings {
            self.global_arg(&s.key, s.value.as_deref())?;
        }
        let section = conf
            .ups(&self.upsname)
            .ok_or_else(|| ParamError::SectionNotFound(self.upsname.clone()))?;
        for s in &section.settings {
            match s.value.as_deref() {
                Some(v) => self.section_arg(&s.key, v, vartab)?,
                None if !self.main_arg(&s.key, None) => self.store(&s.key, None, vartab)?,
                None => {}
            }
        }
        Ok(())
    }

    fn section_arg(&mut self, k: &str, v: &str, vartab: &[VarSpec]) -> Result<(), ParamError> {
        if self.main_arg(k, Some(v)) {
            return Ok(());
        }
        match k {
            "driver" => {
                if v != self.progname {
                    return Err(ParamError::WrongDriver {
                        ups: self.upsname.clone(),
                        driver: v.into(),
                        me: self.progname.clone(),
                    });
                }
                Ok(())
            }
            "pollinterval" => {
                self.poll_interval = Some(parse_interval(v)?);
                Ok(())
            }
            _ => self.store(k, Some(v), vartab),
        }
    }

    /// Handles one `-x key[=value]` argument.
    pub fn x_arg(&mut self, arg: &str, vartab: &[VarSpec]) -> Result<(), ParamError> {
        let (k, v) = match arg.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (arg, None),
        };
        if self.main_arg(k, v) {
            return Ok(());
        }
        self.store(k, v, vartab)
    }

    /// Checks what must be present before the driver starts.
    pub fn check(&self) -> Result<(), ParamError> {
        if self.port.is_none() {
            return Err(ParamError::NoPort);
        }
        Ok(())
    }

    fn global_arg(&mut self, k: &str, v: Option<&str>) -> Result<(), ParamError> {
        let Some(v) = v else { return Ok(()) };
        match k {
            "pollinterval" => self.poll_interval = Some(parse_interval(v)?),
            "chroot" => self.chroot = Some(v.into()),
            "user" if !self.user_from_cmdline => self.user = Some(v.into()),
            "group" => self.group = Some(v.into()),
            "synchronous" => self.synchronous = Synchronous::parse(v),
            "debug_min" => self.debug_min = v.parse().ok(),
            _ => {}
        }
        Ok(())
    }

    /// The settings of the driver core itself; true when handled.
    fn main_arg(&mut self, k: &str, v: Option<&str>) -> bool {
        match (k, v) {
            ("nolock", _) => {
                self.nolock = true;
                self.published.push(Published::Flag("nolock".into()));
            }
            ("ignorelb", _) => {
                self.published.push(Published::Flag("ignorelb".into()));
            }
            (_, None) => return false,
            ("port", Some(v)) => {
                self.port = Some(v.into());
                self.published.push(Published::Parameter("port".into(), v.into()));
            }
            ("user", Some(v)) => {
                if !self.user_from_cmdline {
                    self.user = Some(v.into());
                }
            }
            ("group", Some(v)) => self.group = Some(v.into()),
            ("synchronous", Some(v)) => self.synchronous = Synchronous::parse(v),
            ("debug_min", Some(v)) => self.debug_min = v.parse().ok(),
            ("sddelay" | "sdorder" | "desc", Some(_)) => {}
            _ => return false,
        }
        true
    }

    fn store(&mut self, k: &str, v: Option<&str>, vartab: &[VarSpec]) -> Result<(), ParamError> {
        if let Some(var) = strip_prefix_ci(k, "override.") {
            self.published.push(Published::Override(var.into(), v.unwrap_or("").into()));
            return Ok(());
        }
        if let Some(var) = strip_prefix_ci(k, "default.") {
            self.published.push(Published::Default(var.into(), v.unwrap_or("").into()));
            return Ok(());
        }
        let Some(spec) = vartab.iter().find(|s| s.name.eq_ignore_ascii_case(k)) else {
            return Err(ParamError::Unknown(
                k.into(),
                if v.is_some() { "variable name" } else { "flag" },
            ));
        };
        if !spec.sensitive {
            self.published.push(match v {
                Some(v) => Published::Parameter(k.into(), v.into()),
                None => Published::Flag(k.into()),
            });
        }
        self.values.push((k.into(), v.map(String::from)));
        Ok(())
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

fn parse_interval(v: &str) -> Result<Duration, ParamError> {
    match v.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err(ParamError::BadPollInterval(v.into())),
    }
}

/// The global `ups.conf` settings other programs use (`upsdrvctl`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsConfGlobal {
    /// `driverpath`
    pub driverpath: Option<String>,
    /// `statepath`
    pub statepath: Option<String>,
    /// `maxretry` (1 by default)
    pub maxretry: u32,
    /// `retrydelay` in seconds (5 by default)
    pub retrydelay: u64,
    /// `maxstartdelay` in seconds (45 by default; negative: no limit)
    pub maxstartdelay: i32,
    /// `user`
    pub user: Option<String>,
    /// `chroot`
    pub chroot: Option<String>,
    /// `nowait`: do not wait for the drivers started.
    pub nowait: bool,
}

impl UpsConfGlobal {
    /// Reads the global part of `ups.conf`, with NUT's defaults for what
    /// is not given.
    pub fn from_conf(conf: &UpsConf) -> Self {
        let g = &conf.global;
        UpsConfGlobal {
            driverpath: g.driverpath.clone(),
            statepath: g.statepath.clone(),
            maxretry: g.maxretry.unwrap_or(1),
            retrydelay: g.retrydelay.map_or(5, u64::from),
            maxstartdelay: g.maxstartdelay.unwrap_or(45),
            user: g.user.clone(),
            chroot: g.chroot.clone(),
            nowait: g.nowait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[VarSpec] = &[
        VarSpec { name: "mode", kind: VarKind::Value, sensitive: false, desc: "mode" },
        VarSpec { name: "password", kind: VarKind::Value, sensitive: true, desc: "secret" },
        VarSpec { name: "quiet", kind: VarKind::Flag, sensitive: false, desc: "flag" },
    ];

    #[test]
    fn ups_conf_is_published_like_nut() {
        let conf = UpsConf::parse(
            "ups.conf",
            b"pollinterval = 5\nmaxretry = 3\n[other]\ndriver = x\n[u]\ndriver = dummy-ups\n\
              port = a.dev\ndesc = \"d\"\nmode = dummy-once\npassword = s\nquiet\nnolock\n\
              default.ups.id = A\noverride.ups.mfr = M\n",
        );
        let mut st = Dstate::new();
        let mut p = DriverParams::new("dummy-ups", "u");
        p.read_ups_conf(&conf, VARS).unwrap();
        assert_eq!(st.tree().var_count(), 0, "parsing publishes nothing");
        p.publish(&mut st);
        assert_eq!(p.poll_interval(), Duration::from_secs(5));
        assert_eq!(p.port.as_deref(), Some("a.dev"));
        assert_eq!(p.get("password"), Some("s"));
        assert_eq!(
            st.upsc_dump(),
            "driver.flag.nolock: enabled\ndriver.flag.quiet: enabled\n\
            driver.parameter.mode: dummy-once\ndriver.parameter.port: a.dev\nups.id: A\nups.mfr: M\n"
        );
        assert!(st.is_immutable("ups.mfr"));
        p.x_arg("mode=dummy-loop", VARS).unwrap();
        assert_eq!(p.get("mode"), Some("dummy-loop"));
        assert!(matches!(p.x_arg("bogus=1", VARS), Err(ParamError::Unknown(..))));
        let mut p = DriverParams::new("other-driver", "u");
        assert!(matches!(p.read_ups_conf(&conf, VARS), Err(ParamError::WrongDriver { .. })));
        let mut p = DriverParams::new("dummy-ups", "nope");
        assert!(matches!(p.read_ups_conf(&conf, VARS), Err(ParamError::SectionNotFound(_))));
        assert_eq!(UpsConfGlobal::from_conf(&conf).maxretry, 3);
    }

    #[test]
    fn ups_conf_lines_follow_nut_rule() {
        // Three words or more with `=` second take the third; two sections
        // of one name are one UPS; `a b` (two words) is ignored.
        let conf = UpsConf::parse(
            "ups.conf",
            b"nowait
[u]
driver = dummy-ups
port = a.dev trailing
mode two
              [v]
driver = x
[u]
mode = dummy-loop
",
        );
        let mut p = DriverParams::new("dummy-ups", "u");
        p.read_ups_conf(&conf, VARS).unwrap();
        assert_eq!(p.port.as_deref(), Some("a.dev"));
        assert_eq!(p.get("mode"), Some("dummy-loop"));
        let g = UpsConfGlobal::from_conf(&conf);
        assert!(g.nowait);
        assert_eq!((g.maxretry, g.retrydelay, g.maxstartdelay), (1, 5, 45));
    }
}
