//! `upsmon.conf`, read as NUT 2.8 reads it.
//!
//! The words come from the one shared tokenizer ([`nut_proto::config`]);
//! this module only gives them meaning. As in NUT 2.8 a line that cannot be
//! used is reported (with its file and line) and skipped, the rest of the
//! file still applies; the only fatal line is the old five-word `MONITOR`
//! form without a user name. Keywords are case-sensitive except
//! `DEBUG_MIN`.
//!
//! ```
//! use nut_client::monitor::conf::{self, Role};
//! let text = b"MONITOR ups@127.0.0.1:3493 1 monuser \"pa ss\" primary\n\
//!              SHUTDOWNCMD \"/sbin/shutdown -h +0\"\nPOLLFREQ 2\n";
//! let parsed = conf::parse("upsmon.conf", text).unwrap();
//! assert!(parsed.warnings.is_empty());
//! let c = parsed.conf;
//! assert_eq!(c.monitors[0].role, Role::Primary);
//! assert_eq!(c.monitors[0].target.server.port, 3493);
//! assert_eq!(c.shutdown_cmd.as_deref(), Some("/sbin/shutdown -h +0"));
//! assert_eq!(c.poll_freq, 2);
//! c.check_power().unwrap();
//! ```

use super::notify::{NotifyFlags, NotifyKind, NotifyTable};
use crate::target::UpsTarget;
use nut_proto::Secret;
use nut_proto::config::{self, Directive};
use nut_proto::token::atoi;
use std::fmt;

/// The text NUT writes into the POWERDOWNFLAG file (no newline).
pub const POWERDOWNFLAG_MAGIC: &str = "upsmon-shutdown-file";

/// Whether this system manages the UPS (and sets FSD on it) or only follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// `primary` (or the old `master`): sets FSD and waits for secondaries.
    Primary,
    /// `secondary` (or the old `slave`): shuts down when it sees FSD.
    Secondary,
}

/// One `MONITOR` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorDef {
    /// The system name exactly as written (`ups@host:port`); it is the
    /// identity of the UPS, the `%s` of the messages and `UPSNAME`.
    pub system: String,
    /// The parsed UPS and server.
    pub target: UpsTarget,
    /// How many power supplies of this system the UPS feeds (0 =
    /// monitoring only).
    pub power_value: u32,
    /// The `upsd.users` user name.
    pub user: String,
    /// Its password (never shown by `Debug`).
    pub password: Secret<String>,
    /// Primary or secondary.
    pub role: Role,
    /// Line of the `MONITOR` directive.
    pub line: u32,
}

/// A `CERTHOST <host> <name> <verify> <forcessl>` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertHost {
    /// The server host name.
    pub host: String,
    /// The expected certificate name.
    pub cert_name: String,
    /// Verify the server certificate.
    pub verify: bool,
    /// Refuse to talk without TLS.
    pub force_ssl: bool,
}

/// TLS settings of `upsmon.conf`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsConf {
    /// `CERTPATH`: CA directory or file.
    pub cert_path: Option<String>,
    /// `CERTIDENT <name> <passphrase>`.
    pub cert_ident: Option<(String, Secret<String>)>,
    /// `CERTHOST` lines.
    pub cert_hosts: Vec<CertHost>,
    /// `CERTVERIFY 1`: verify server certificates.
    pub cert_verify: bool,
    /// `FORCESSL 1`: refuse plaintext.
    pub force_ssl: bool,
    /// `CERTFILE` (NUT HEAD only; accepted and kept).
    pub cert_file: Option<String>,
}

/// Settings only newer NUT reads; accepted and kept, not acted upon
/// (our monitor follows NUT 2.8.0's rules; see `docs/COMPATIBILITY.md` M-entries).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadOnly {
    /// `SHUTDOWNEXIT`.
    pub shutdown_exit: Option<String>,
    /// `OFFDURATION`.
    pub off_duration: Option<i64>,
    /// `OVERDURATION`.
    pub over_duration: Option<i64>,
    /// `OBLBDURATION`.
    pub oblb_duration: Option<i64>,
    /// `ALARMCRITICAL`.
    pub alarm_critical: Option<i64>,
    /// `POLLFAIL_LOG_THROTTLE_MAX`.
    pub pollfail_log_throttle_max: Option<i64>,
}

/// Everything `upsmon.conf` says, with NUT 2.8.0's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsmonConf {
    /// The `MONITOR` lines, in file order, duplicates (same system name)
    /// dropped.
    pub monitors: Vec<MonitorDef>,
    /// `MINSUPPLIES` (default 1).
    pub min_supplies: u32,
    /// `SHUTDOWNCMD` (run by a shell).
    pub shutdown_cmd: Option<String>,
    /// `NOTIFYCMD` (run by a shell with the message as a quoted argument).
    pub notify_cmd: Option<String>,
    /// `POLLFREQ` in seconds (default 5).
    pub poll_freq: u32,
    /// `POLLFREQALERT` in seconds (default 5), used while on battery.
    pub poll_freq_alert: u32,
    /// `HOSTSYNC` in seconds (default 15).
    pub host_sync: u32,
    /// `DEADTIME` in seconds (default 15).
    pub dead_time: u32,
    /// `RBWARNTIME` in seconds (default 43200).
    pub rb_warn_time: u32,
    /// `NOCOMMWARNTIME` in seconds (default 300).
    pub no_comm_warn_time: u32,
    /// `FINALDELAY` in seconds (default 5).
    pub final_delay: u32,
    /// `POWERDOWNFLAG` file.
    pub power_down_flag: Option<String>,
    /// `RUN_AS_USER`.
    pub run_as_user: Option<String>,
    /// `NOTIFYMSG` and `NOTIFYFLAG` applied over the defaults.
    pub notify: NotifyTable,
    /// TLS settings.
    pub tls: TlsConf,
    /// `DEBUG_MIN`.
    pub debug_min: Option<u32>,
    /// Settings of newer NUT versions.
    pub head: HeadOnly,
}

impl Default for UpsmonConf {
    fn default() -> Self {
        UpsmonConf {
            monitors: Vec::new(),
            min_supplies: 1,
            shutdown_cmd: None,
            notify_cmd: None,
            poll_freq: 5,
            poll_freq_alert: 5,
            host_sync: 15,
            dead_time: 15,
            rb_warn_time: 43200,
            no_comm_warn_time: 300,
            final_delay: 5,
            power_down_flag: None,
            run_as_user: None,
            notify: NotifyTable::default(),
            tls: TlsConf::default(),
            debug_min: None,
            head: HeadOnly::default(),
        }
    }
}

impl MonitorDef {
    /// A `MONITOR <system> <power_value> <user> <password> <role>` line
    /// built in code; the system name must parse as `ups[@host[:port]]`.
    pub fn new(
        system: &str,
        power_value: u32,
        user: &str,
        password: &str,
        role: Role,
    ) -> Result<Self, crate::TargetError> {
        Ok(MonitorDef {
            system: system.to_string(),
            target: UpsTarget::parse(system)?,
            power_value,
            user: user.to_string(),
            password: Secret::new(password.to_string()),
            role,
            line: 0,
        })
    }
}

/// A configuration built in code rather than parsed, starting from NUT
/// 2.8.0's defaults:
///
/// ```
/// use nut_client::monitor::conf::{MonitorDef, Role, UpsmonConf};
///
/// let conf = UpsmonConf::default()
///     .with_monitor(MonitorDef::new("myups@localhost", 1, "monuser", "secret", Role::Primary)?)
///     .with_shutdown_cmd("/sbin/shutdown -h +0")
///     .with_poll_freq(2, 1);
/// assert_eq!(conf.monitors[0].target.ups, "myups");
/// assert_eq!(conf.dead_time, 15);
/// conf.check_power()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl UpsmonConf {
    /// Adds a `MONITOR` line (one with the same system name is replaced).
    pub fn with_monitor(mut self, def: MonitorDef) -> Self {
        self.monitors.retain(|m| m.system != def.system);
        self.monitors.push(def);
        self
    }

    /// `MINSUPPLIES`.
    pub fn with_min_supplies(mut self, n: u32) -> Self {
        self.min_supplies = n;
        self
    }

    /// `SHUTDOWNCMD`.
    pub fn with_shutdown_cmd(mut self, cmd: &str) -> Self {
        self.shutdown_cmd = Some(cmd.to_string());
        self
    }

    /// `NOTIFYCMD`.
    pub fn with_notify_cmd(mut self, cmd: &str) -> Self {
        self.notify_cmd = Some(cmd.to_string());
        self
    }

    /// `POLLFREQ` and `POLLFREQALERT`, in seconds.
    pub fn with_poll_freq(mut self, normal: u32, on_battery: u32) -> Self {
        self.poll_freq = normal;
        self.poll_freq_alert = on_battery;
        self
    }

    /// `DEADTIME`, in seconds.
    pub fn with_dead_time(mut self, secs: u32) -> Self {
        self.dead_time = secs;
        self
    }

    /// `HOSTSYNC`, in seconds.
    pub fn with_host_sync(mut self, secs: u32) -> Self {
        self.host_sync = secs;
        self
    }

    /// `FINALDELAY`, in seconds.
    pub fn with_final_delay(mut self, secs: u32) -> Self {
        self.final_delay = secs;
        self
    }

    /// `POWERDOWNFLAG`.
    pub fn with_power_down_flag(mut self, path: &str) -> Self {
        self.power_down_flag = Some(path.to_string());
        self
    }
}

impl UpsmonConf {
    /// The sum of all power values.
    pub fn total_power(&self) -> u64 {
        self.monitors.iter().map(|m| u64::from(m.power_value)).sum()
    }

    /// NUT's start-up check: the power values must add up to at least
    /// `MINSUPPLIES`.
    pub fn check_power(&self) -> Result<(), ConfError> {
        let total = self.total_power();
        if total < u64::from(self.min_supplies) {
            return Err(ConfError::InsufficientPower { total, min_supplies: self.min_supplies });
        }
        Ok(())
    }
}

/// A line that was skipped or only partly used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfWarning {
    /// File name as given to [`parse`].
    pub file: String,
    /// Line number (1-based).
    pub line: u32,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ConfWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A configuration the monitor cannot run with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfError {
    /// A `MONITOR` line in the old form without a user name (fatal in NUT 2.8).
    #[error(
        "{file}:{line}: unable to use old-style MONITOR line without a username (fatal error: unusable configuration)"
    )]
    OldMonitor {
        /// File name.
        file: String,
        /// Line number.
        line: u32,
    },
    /// The power values add up to less than `MINSUPPLIES`.
    #[error(
        "insufficient power configured: sum of power values {total}, minimum value (MINSUPPLIES) {min_supplies}"
    )]
    InsufficientPower {
        /// Sum of the power values.
        total: u64,
        /// `MINSUPPLIES`.
        min_supplies: u32,
    },
}

/// A parsed file and the lines that were skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The configuration.
    pub conf: UpsmonConf,
    /// Skipped or questionable lines, in file order.
    pub warnings: Vec<ConfWarning>,
}

fn seconds(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

struct Reader<'a> {
    file: &'a str,
    conf: UpsmonConf,
    warnings: Vec<ConfWarning>,
}

impl Reader<'_> {
    fn warn(&mut self, line: u32, message: impl Into<String>) {
        self.warnings.push(ConfWarning {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    /// Sets a value NUT ignores when negative.
    fn non_negative(&mut self, line: u32, key: &str, arg: &str) -> Option<u32> {
        let v = atoi(arg);
        if v < 0 {
            self.warn(line, format!("ignoring invalid {key} value: {v}"));
            None
        } else {
            Some(seconds(v))
        }
    }

    /// Returns false when the directive is not one NUT knows with this
    /// many words (then it is reported as invalid).
    fn directive(&mut self, d: &Directive) -> Result<bool, ConfError> {
        let w = &d.words;
        let line = d.line;
        if w.len() < 2 {
            return Ok(false);
        }
        let (key, a1) = (w[0].as_str(), w[1].as_str());
        let c = &mut self.conf;
        match key {
            "SHUTDOWNCMD" => c.shutdown_cmd = Some(a1.to_string()),
            "POWERDOWNFLAG" => c.power_down_flag = Some(a1.to_string()),
            "NOTIFYCMD" => c.notify_cmd = Some(a1.to_string()),
            "POLLFREQ" => {
                if let Some(v) = self.non_negative(line, key, a1) {
                    self.conf.poll_freq = v;
                }
            }
            "POLLFREQALERT" => {
                if let Some(v) = self.non_negative(line, key, a1) {
                    self.conf.poll_freq_alert = v;
                }
            }
            "MINSUPPLIES" => {
                if let Some(v) = self.non_negative(line, key, a1) {
                    self.conf.min_supplies = v;
                }
            }
            "FINALDELAY" => {
                if let Some(v) = self.non_negative(line, key, a1) {
                    self.conf.final_delay = v;
                }
            }
            "HOSTSYNC" => c.host_sync = seconds(atoi(a1)),
            "DEADTIME" => c.dead_time = seconds(atoi(a1)),
            "RBWARNTIME" => c.rb_warn_time = seconds(atoi(a1)),
            "NOCOMMWARNTIME" => c.no_comm_warn_time = seconds(atoi(a1)),
            "RUN_AS_USER" => c.run_as_user = Some(a1.to_string()),
            "CERTPATH" => c.tls.cert_path = Some(a1.to_string()),
            "CERTVERIFY" => c.tls.cert_verify = atoi(a1) == 1,
            "FORCESSL" => c.tls.force_ssl = atoi(a1) == 1,
            "CERTFILE" => c.tls.cert_file = Some(a1.to_string()),
            "SHUTDOWNEXIT" => c.head.shutdown_exit = Some(a1.to_string()),
            "OFFDURATION" => c.head.off_duration = Some(atoi(a1)),
            "OVERDURATION" => c.head.over_duration = Some(atoi(a1)),
            "OBLBDURATION" => c.head.oblb_duration = Some(atoi(a1)),
            "ALARMCRITICAL" => c.head.alarm_critical = Some(atoi(a1)),
            "POLLFAIL_LOG_THROTTLE_MAX" => c.head.pollfail_log_throttle_max = Some(atoi(a1)),
            k if k.eq_ignore_ascii_case("DEBUG_MIN") => match a1.parse::<u32>() {
                Ok(v) => c.debug_min = Some(v),
                Err(_) => self.warn(line, "invalid DEBUG_MIN value"),
            },
            _ => return self.directive3(d),
        }
        Ok(true)
    }

    fn directive3(&mut self, d: &Directive) -> Result<bool, ConfError> {
        let w = &d.words;
        let line = d.line;
        if w.len() < 3 {
            return Ok(false);
        }
        match w[0].as_str() {
            "NOTIFYMSG" => match NotifyKind::from_name(&w[1]) {
                Some(k) => self.conf.notify.set_message(k, &w[2]),
                None => self.warn(line, format!("'{}' is not a valid notify event name", w[1])),
            },
            "NOTIFYFLAG" => match NotifyKind::from_name(&w[1]) {
                Some(k) => {
                    let (flags, bad) = NotifyFlags::parse(&w[2]);
                    for b in bad {
                        self.warn(line, format!("invalid notify flag: [{b}]"));
                    }
                    self.conf.notify.set_flags(k, flags);
                }
                None => self.warn(line, format!("invalid notify type [{}]", w[1])),
            },
            "CERTIDENT" => {
                self.conf.tls.cert_ident = Some((w[1].clone(), Secret::new(w[2].clone())));
            }
            _ => return self.directive5(d),
        }
        Ok(true)
    }

    fn directive5(&mut self, d: &Directive) -> Result<bool, ConfError> {
        let w = &d.words;
        if w.len() < 5 {
            return Ok(false);
        }
        match w[0].as_str() {
            "CERTHOST" => self.conf.tls.cert_hosts.push(CertHost {
                host: w[1].clone(),
                cert_name: w[2].clone(),
                verify: atoi(&w[3]) == 1,
                force_ssl: atoi(&w[4]) == 1,
            }),
            "MONITOR" => {
                if w.len() == 5 {
                    return Err(ConfError::OldMonitor {
                        file: self.file.to_string(),
                        line: d.line,
                    });
                }
                self.monitor(d);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn monitor(&mut self, d: &Directive) {
        let w = &d.words;
        let line = d.line;
        let system = w[1].as_str();
        let pv = atoi(&w[2]);
        let Ok(power_value) = u32::try_from(pv) else {
            self.warn(line, format!("UPS [{system}]: ignoring invalid power value [{}]", w[2]));
            return;
        };
        if self.conf.monitors.iter().any(|m| m.system == system) {
            self.warn(line, format!("ignoring duplicate UPS [{system}]"));
            return;
        }
        let target = match UpsTarget::parse(system) {
            Ok(t) => t,
            Err(e) => {
                self.warn(line, format!("unable to split UPS name [{system}]: {e}"));
                return;
            }
        };
        let mode = w[5].as_str();
        let role = if mode.eq_ignore_ascii_case("primary") || mode.eq_ignore_ascii_case("master") {
            Role::Primary
        } else {
            if !mode.eq_ignore_ascii_case("secondary") && !mode.eq_ignore_ascii_case("slave") {
                self.warn(
                    line,
                    format!("UPS [{system}]: unknown mode [{mode}], taken as secondary"),
                );
            }
            Role::Secondary
        };
        self.conf.monitors.push(MonitorDef {
            system: system.to_string(),
            target,
            power_value,
            user: w[3].clone(),
            password: Secret::new(w[4].clone()),
            role,
            line,
        });
    }
}

/// Reads `upsmon.conf` text. `file` names it in warnings and errors.
///
/// Fails only on what NUT 2.8 treats as fatal while reading (the old
/// `MONITOR` form); call [`UpsmonConf::check_power`] before running, as
/// NUT does at start-up.
pub fn parse(file: &str, text: &[u8]) -> Result<Parsed, ConfError> {
    let raw = config::parse(file, text);
    let mut r = Reader { file, conf: UpsmonConf::default(), warnings: Vec::new() };
    for e in &raw.errors {
        r.warn(e.line, format!("parse error: {}", e.kind));
    }
    for s in &raw.sections {
        r.warn(s.line, format!("invalid directive [{}]", s.name));
    }
    let mut all: Vec<&Directive> = raw.directives().map(|(_, d)| d).collect();
    all.sort_by_key(|d| d.line);
    for d in all {
        if !r.directive(d)? {
            let shown: Vec<&str> = d.words.iter().map(String::as_str).collect();
            // Never echo a credential back into a log.
            let shown = if d.key() == "MONITOR" || d.key() == "CERTIDENT" {
                d.key().to_string()
            } else {
                shown.join(" ")
            };
            r.warn(d.line, format!("invalid directive: {shown}"));
        }
    }
    r.warnings.sort_by_key(|w| w.line);
    Ok(Parsed { conf: r.conf, warnings: r.warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Parsed {
        parse("upsmon.conf", text.as_bytes()).unwrap()
    }

    #[test]
    fn defaults() {
        let c = p("").conf;
        assert_eq!(
            (c.min_supplies, c.poll_freq, c.poll_freq_alert, c.host_sync, c.dead_time),
            (1, 5, 5, 15, 15)
        );
        assert_eq!((c.rb_warn_time, c.no_comm_warn_time, c.final_delay), (43200, 300, 5));
        assert!(c.check_power().is_err(), "no MONITOR and MINSUPPLIES 1");
    }

    #[test]
    fn builder_matches_the_parsed_file() {
        let mut parsed = p("MONITOR ups@h:3494 2 u pw primary\nMONITOR b@h 0 u2 p2 slave\n\
             MINSUPPLIES 2\nSHUTDOWNCMD \"/sbin/poweroff\"\nNOTIFYCMD /bin/n\n\
             POLLFREQ 3\nPOLLFREQALERT 1\nDEADTIME 9\nHOSTSYNC 7\nFINALDELAY 0\n\
             POWERDOWNFLAG /etc/killpower\n")
        .conf;
        for m in &mut parsed.monitors {
            m.line = 0;
        }
        let built = UpsmonConf::default()
            .with_monitor(MonitorDef::new("ups@h:3494", 2, "u", "pw", Role::Primary).unwrap())
            .with_monitor(MonitorDef::new("b@h", 0, "u2", "p2", Role::Secondary).unwrap())
            .with_min_supplies(2)
            .with_shutdown_cmd("/sbin/poweroff")
            .with_notify_cmd("/bin/n")
            .with_poll_freq(3, 1)
            .with_dead_time(9)
            .with_host_sync(7)
            .with_final_delay(0)
            .with_power_down_flag("/etc/killpower");
        assert_eq!(built, parsed);
        assert!(MonitorDef::new("ups@[::1", 1, "u", "p", Role::Primary).is_err());
    }

    #[test]
    fn monitor_forms() {
        let r = p(
            "MONITOR a@h 1 u p master\nMONITOR b@h:1234 0 u p slave\nMONITOR a@h 2 u p secondary\nMONITOR c@h -1 u p primary\nMONITOR d@h 1 u\n",
        );
        let m = &r.conf.monitors;
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].role, m[0].power_value), (Role::Primary, 1));
        assert_eq!(
            (m[1].role, m[1].power_value, m[1].target.server.port),
            (Role::Secondary, 0, 1234)
        );
        let lines: Vec<u32> = r.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(r.warnings[0].to_string().starts_with("upsmon.conf:3: ignoring duplicate"));
        let e = parse("x.conf", b"MINSUPPLIES 1\nMONITOR a@h 1 pw master\n").unwrap_err();
        assert_eq!(e, ConfError::OldMonitor { file: "x.conf".into(), line: 2 });
    }

    #[test]
    fn numbers_and_case() {
        let c = p(
            "POLLFREQ -3\nPOLLFREQALERT 2x\nHOSTSYNC -1\ndebug_min 4\npollfreq 9\nMINSUPPLIES 0\n",
        );
        assert_eq!((c.conf.poll_freq, c.conf.poll_freq_alert, c.conf.host_sync), (5, 2, 0));
        assert_eq!((c.conf.debug_min, c.conf.min_supplies), (Some(4), 0));
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        c.conf.check_power().unwrap();
    }

    #[test]
    fn notify_settings() {
        let c = p(
            "NOTIFYFLAG onbatt SYSLOG+EXEC+BOGUS\nNOTIFYMSG LOWBATT \"low: %s\"\nNOTIFYFLAG NOPE IGNORE\n",
        );
        assert_eq!(c.warnings.len(), 2);
        let t = &c.conf.notify;
        assert_eq!(t.flags(NotifyKind::OnBatt), NotifyFlags::SYSLOG | NotifyFlags::EXEC);
        assert_eq!(t.message(NotifyKind::LowBatt, "u@h"), "low: u@h");
        assert_eq!(t.message(NotifyKind::OnBatt, "u@h"), "UPS u@h on battery");
    }

    #[test]
    fn secrets_stay_out_of_warnings() {
        let r = p("MONITOR a@h 1\nCERTIDENT name\n");
        assert!(r.warnings.iter().all(|w| !w.message.contains("name") || w.message == "invalid directive: CERTIDENT"));
        let r = p("MONITOR a@h 1 user secretpw primary\n");
        assert!(!format!("{:?}", r.conf).contains("secretpw"));
    }
}
