//! Typed models of `upsd.conf` and of the part of `ups.conf` that `upsd`
//! reads, built on [`nut_proto::config::parse`].
//!
//! Unknown keywords are warnings, not errors. Every problem names its file
//! and line. A caller decides what to do with [`ConfigProblem::fatal`]
//! ones (the `upsd` binary refuses to start on them, and keeps the old
//! configuration when they appear on reload).

use nut_proto::Secret;
use nut_proto::config::{self, ConfigError, upsconf};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A problem found in a configuration file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// File name as given to the parser.
    pub file: String,
    /// Line number (1-based); 0 when the problem is about the whole file.
    pub line: u32,
    /// What is wrong.
    pub message: String,
    /// Whether the setting could not be understood (as opposed to a
    /// warning about something ignored).
    pub fatal: bool,
}

impl ConfigProblem {
    pub(crate) fn error(file: &str, line: u32, message: String) -> Self {
        ConfigProblem { file: file.to_string(), line, message, fatal: true }
    }

    pub(crate) fn warning(file: &str, line: u32, message: String) -> Self {
        ConfigProblem { file: file.to_string(), line, message, fatal: false }
    }

    pub(crate) fn from_syntax(e: &ConfigError) -> Self {
        ConfigProblem {
            file: e.file.clone(),
            line: e.line,
            message: e.kind.to_string(),
            fatal: true,
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A parsed file and the problems met while reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed<T> {
    /// What could be understood.
    pub value: T,
    /// Errors and warnings, in file order.
    pub problems: Vec<ConfigProblem>,
}

impl<T> Parsed<T> {
    /// Whether any problem is fatal.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.fatal)
    }
}

/// Where a listener binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    /// Address or host name as written (`127.0.0.1`, `::1`, `localhost`).
    pub addr: String,
    /// TCP port.
    pub port: u16,
}

impl Listen {
    /// The address as an IP address, if it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.addr.parse().ok()
    }
}

/// Client certificate policy (`CERTREQUEST`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CertRequest {
    /// `0` / `NO`: no client certificate asked.
    #[default]
    No,
    /// `1` / `REQUEST`: asked, not required.
    Request,
    /// `2` / `REQUIRE`: a valid client certificate is required.
    Require,
}

/// `upsd.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsdConf {
    /// `LISTEN <addr> [<port>]`, in file order; empty means the defaults
    /// (see [`UpsdConf::listeners`]).
    pub listen: Vec<Listen>,
    /// `LISTEN_UNIX <path>` (ours): also serve the network protocol on a
    /// Unix stream socket. Opt-in; none by default.
    pub listen_unix: Vec<PathBuf>,
    /// `MAXAGE` (default 15 s).
    pub maxage: Duration,
    /// `MAXCONN`: the most client connections served at once (default
    /// 1024).
    pub maxconn: usize,
    /// `TRACKINGDELAY` (default 3600 s).
    pub tracking_delay: Duration,
    /// `STATEPATH`.
    pub statepath: Option<PathBuf>,
    /// `DATAPATH`: where `cmdvartab` is read.
    pub datapath: Option<PathBuf>,
    /// `CERTFILE`: PEM certificate chain and private key in one file.
    pub certfile: Option<PathBuf>,
    /// `CERTPATH`: CA certificates to check client certificates with.
    pub certpath: Option<PathBuf>,
    /// `CERTIDENT <name> <password>` (NSS only in NUT; kept, unused).
    pub certident: Option<(String, Secret<String>)>,
    /// `CERTREQUEST`.
    pub certrequest: CertRequest,
    /// `DISABLE_WEAK_SSL`: TLS 1.3 only (rustls has no weak ciphers).
    pub disable_weak_ssl: bool,
    /// `ALLOW_NO_DEVICE`: start with no UPS configured.
    pub allow_no_device: bool,
    /// `ALLOW_NOT_ALL_LISTENERS`: start even if some LISTEN fails.
    pub allow_not_all_listeners: bool,
    /// `DEBUG_MIN`.
    pub debug_min: Option<u32>,
    /// `REQUIRE_AUTH_FOR_READS` (ours): GET and LIST need a valid USERNAME
    /// and PASSWORD first. Off by default, as in NUT.
    pub require_auth_for_reads: bool,
    /// `REQUIRE_TLS_FOR_AUTH` (ours): USERNAME, PASSWORD and the privileged
    /// commands are refused on plaintext TCP sessions (before STARTTLS);
    /// Unix-socket clients are exempt. Off by default, as in NUT.
    pub require_tls_for_auth: bool,
}

/// The default `MAXCONN`.
pub const DEFAULT_MAXCONN: usize = 1024;

impl Default for UpsdConf {
    fn default() -> Self {
        UpsdConf {
            listen: Vec::new(),
            listen_unix: Vec::new(),
            maxage: Duration::from_secs(15),
            maxconn: DEFAULT_MAXCONN,
            tracking_delay: Duration::from_secs(3600),
            statepath: None,
            datapath: None,
            certfile: None,
            certpath: None,
            certident: None,
            certrequest: CertRequest::No,
            disable_weak_ssl: false,
            allow_no_device: false,
            allow_not_all_listeners: false,
            debug_min: None,
            require_auth_for_reads: false,
            require_tls_for_auth: false,
        }
    }
}

/// NUT's booleans: `true/on/yes/1`, `false/off/no/0`, case-insensitive.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

impl UpsdConf {
    /// The listeners to open: the configured ones, or `127.0.0.1` and `::1`
    /// on port 3493.
    pub fn listeners(&self) -> Vec<Listen> {
        if self.listen.is_empty() {
            let port = nut_proto::net::DEFAULT_PORT;
            vec![Listen { addr: "127.0.0.1".into(), port }, Listen { addr: "::1".into(), port }]
        } else {
            self.listen.clone()
        }
    }

    /// Parses `upsd.conf`. `file` names the file in messages.
    pub fn parse(file: &str, text: &[u8]) -> Parsed<UpsdConf> {
        let conf = config::parse(file, text);
        let mut problems: Vec<ConfigProblem> =
            conf.errors.iter().map(ConfigProblem::from_syntax).collect();
        let mut c = UpsdConf::default();
        for (section, d) in conf.directives() {
            let line = d.line;
            let mut err = |m: String| problems.push(ConfigProblem::error(file, line, m));
            if section.is_some() {
                err("upsd.conf has no sections".into());
                continue;
            }
            let args = d.values();
            let key = d.key();
            let one = |args: &[String]| match args {
                [v] => Some(v.clone()),
                _ => None,
            };
            let secs = |args: &[String]| {
                one(args)
                    .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            let boolean = |args: &[String]| one(args).and_then(|v| parse_bool(&v));
            match key {
                "LISTEN" => match args {
                    [addr] => c
                        .listen
                        .push(Listen { addr: addr.clone(), port: nut_proto::net::DEFAULT_PORT }),
                    [addr, port] => match port.parse::<u16>() {
                        Ok(p) if p != 0 => c.listen.push(Listen { addr: addr.clone(), port: p }),
                        _ => err(format!("invalid port '{port}' in LISTEN")),
                    },
                    _ => err("LISTEN needs an address and an optional port".into()),
                },
                "LISTEN_UNIX" => match one(args) {
                    Some(p) => c.listen_unix.push(p.into()),
                    None => err("LISTEN_UNIX needs one path".into()),
                },
                "MAXAGE" => match secs(args) {
                    Some(s) if s > 0 => c.maxage = Duration::from_secs(s),
                    _ => err("MAXAGE needs a positive number of seconds".into()),
                },
                "TRACKINGDELAY" => match secs(args) {
                    Some(s) => c.tracking_delay = Duration::from_secs(s),
                    None => err("TRACKINGDELAY needs a number of seconds".into()),
                },
                "MAXCONN" => match one(args).and_then(|v| v.parse::<usize>().ok()) {
                    Some(n) if n > 0 => c.maxconn = n,
                    _ => err("MAXCONN needs a positive number".into()),
                },
                "STATEPATH" => match one(args) {
                    Some(p) => c.statepath = Some(p.into()),
                    None => err("STATEPATH needs one path".into()),
                },
                "DATAPATH" => match one(args) {
                    Some(p) => c.datapath = Some(p.into()),
                    None => err("DATAPATH needs one path".into()),
                },
                "CERTFILE" => match one(args) {
                    Some(p) => c.certfile = Some(p.into()),
                    None => err("CERTFILE needs one path".into()),
                },
                "CERTPATH" => match one(args) {
                    Some(p) => c.certpath = Some(p.into()),
                    None => err("CERTPATH needs one path".into()),
                },
                "CERTIDENT" => match args {
                    [name, pw] => c.certident = Some((name.clone(), Secret::new(pw.clone()))),
                    _ => err("CERTIDENT needs a name and a password".into()),
                },
                "CERTREQUEST" => match one(args).map(|v| v.to_ascii_uppercase()).as_deref() {
                    Some("0" | "NO") => c.certrequest = CertRequest::No,
                    Some("1" | "REQUEST") => c.certrequest = CertRequest::Request,
                    Some("2" | "REQUIRE") => c.certrequest = CertRequest::Require,
                    _ => err("CERTREQUEST needs 0, 1, 2, NO, REQUEST or REQUIRE".into()),
                },
                "DISABLE_WEAK_SSL" => match boolean(args) {
                    Some(b) => c.disable_weak_ssl = b,
                    None => err("DISABLE_WEAK_SSL needs a boolean".into()),
                },
                "ALLOW_NO_DEVICE" => match boolean(args) {
                    Some(b) => c.allow_no_device = b,
                    None => err("ALLOW_NO_DEVICE needs a boolean".into()),
                },
                "ALLOW_NOT_ALL_LISTENERS" => match boolean(args) {
                    Some(b) => c.allow_not_all_listeners = b,
                    None => err("ALLOW_NOT_ALL_LISTENERS needs a boolean".into()),
                },
                "REQUIRE_AUTH_FOR_READS" => match boolean(args) {
                    Some(b) => c.require_auth_for_reads = b,
                    None => err("REQUIRE_AUTH_FOR_READS needs a boolean".into()),
                },
                "REQUIRE_TLS_FOR_AUTH" => match boolean(args) {
                    Some(b) => c.require_tls_for_auth = b,
                    None => err("REQUIRE_TLS_FOR_AUTH needs a boolean".into()),
                },
                k if k.eq_ignore_ascii_case("DEBUG_MIN") => {
                    match one(args).and_then(|v| v.parse::<u32>().ok()) {
                        Some(n) => c.debug_min = Some(n),
                        None => err("DEBUG_MIN needs a number".into()),
                    }
                }
                "ACL" | "ACCEPT" | "REJECT" => problems.push(ConfigProblem::warning(
                    file,
                    line,
                    format!("{key} is obsolete and ignored (use LISTEN and a firewall)"),
                )),
                _ => problems.push(ConfigProblem::warning(
                    file,
                    line,
                    format!("unknown directive '{key}' ignored"),
                )),
            }
        }
        Parsed { value: c, problems }
    }
}

/// One UPS as `upsd` sees it in `ups.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpsEntry {
    /// Section name.
    pub name: String,
    /// `driver`.
    pub driver: String,
    /// `port`.
    pub port: String,
    /// `desc`.
    pub desc: Option<String>,
}

impl UpsEntry {
    /// A UPS entry.
    pub fn new(name: &str, driver: &str, port: &str, desc: Option<&str>) -> Self {
        UpsEntry {
            name: name.into(),
            driver: driver.into(),
            port: port.into(),
            desc: desc.map(Into::into),
        }
    }

    /// The driver socket name inside STATEPATH: `<driver>-<ups>`.
    pub fn socket_name(&self) -> String {
        format!("{}-{}", self.driver, self.name)
    }
}

/// What `upsd` reads of `ups.conf`: the global `statepath` and, per UPS,
/// `driver`, `port` and `desc`. Other keys belong to the drivers and are
/// ignored here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpsConf {
    /// Global `statepath`.
    pub statepath: Option<PathBuf>,
    /// UPSes in file order.
    pub ups: Vec<UpsEntry>,
}

impl UpsConf {
    /// Parses `ups.conf`. Sections without `driver` or `port` are skipped
    /// with a warning, as are repeated names (compared case-insensitively).
    pub fn parse(file: &str, text: &[u8]) -> Parsed<UpsConf> {
        let conf = upsconf::UpsConf::parse(file, text);
        let mut problems: Vec<ConfigProblem> =
            conf.errors.iter().map(ConfigProblem::from_syntax).collect();
        let mut out = UpsConf {
            statepath: conf.global.statepath.as_ref().map(PathBuf::from),
            ups: Vec::new(),
        };
        for s in &conf.sections {
            let (Some(driver), Some(port)) = (s.driver.as_deref(), s.port.as_deref()) else {
                problems.push(ConfigProblem::warning(
                    file,
                    s.line,
                    format!("UPS [{}] has no driver or no port and is ignored", s.name),
                ));
                continue;
            };
            if s.name.is_empty() || s.name.contains(['/', ' ']) {
                problems.push(ConfigProblem::warning(
                    file,
                    s.line,
                    format!("UPS name [{}] is not usable and is ignored", s.name),
                ));
                continue;
            }
            if out.ups.iter().any(|u| u.name.eq_ignore_ascii_case(&s.name)) {
                problems.push(ConfigProblem::warning(
                    file,
                    s.line,
                    format!("UPS name [{}] is already in use", s.name),
                ));
                continue;
            }
            out.ups.push(UpsEntry::new(&s.name, driver, port, s.desc.as_deref()));
        }
        Parsed { value: out, problems }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsd_conf() {
        let text = b"LISTEN 127.0.0.1 3494\nLISTEN ::1\nMAXAGE 6\nMAXCONN 10\nTRACKINGDELAY 5\n\
            STATEPATH /tmp/s\nCERTREQUEST require\nDISABLE_WEAK_SSL yes\nALLOW_NO_DEVICE on\n\
            debug_min 3\nFOO bar\nMAXAGE x\nREQUIRE_AUTH_FOR_READS 1\nLISTEN_UNIX /tmp/u.sock\n\
            CERTIDENT n \"secret pw\"\n";
        let p = UpsdConf::parse("upsd.conf", text);
        let c = &p.value;
        assert_eq!(
            c.listen,
            [
                Listen { addr: "127.0.0.1".into(), port: 3494 },
                Listen { addr: "::1".into(), port: 3493 }
            ]
        );
        assert_eq!(c.maxage, Duration::from_secs(6));
        assert_eq!(c.maxconn, 10);
        assert_eq!(c.tracking_delay, Duration::from_secs(5));
        assert_eq!(c.certrequest, CertRequest::Require);
        assert!(c.disable_weak_ssl && c.allow_no_device && c.require_auth_for_reads);
        assert_eq!(c.debug_min, Some(3));
        assert_eq!(c.listen_unix, [PathBuf::from("/tmp/u.sock")]);
        let msgs: Vec<String> = p.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "upsd.conf:11: unknown directive 'FOO' ignored",
                "upsd.conf:12: MAXAGE needs a positive number of seconds"
            ]
        );
        assert!(!p.problems[0].fatal && p.problems[1].fatal);
        assert!(!format!("{c:?}").contains("secret pw"));
        assert_eq!(UpsdConf::default().listeners().len(), 2);
    }

    #[test]
    fn ups_conf() {
        let text = b"statepath = /run/x\nmaxretry = 3\n[a]\ndriver = dummy-ups\nport = a.dev\n\
            desc = \"A \\\"q\\\"\"\n[nodrv]\nport = x\n[A]\ndriver=d\nport=p\n[b]\ndriver=d\nport=p\nfoo\n";
        let p = UpsConf::parse("ups.conf", text);
        assert_eq!(p.value.statepath, Some(PathBuf::from("/run/x")));
        assert_eq!(
            p.value.ups,
            [
                UpsEntry::new("a", "dummy-ups", "a.dev", Some("A \"q\"")),
                UpsEntry::new("b", "d", "p", None)
            ]
        );
        assert_eq!(p.value.ups[0].socket_name(), "dummy-ups-a");
        assert_eq!(p.problems.len(), 2);
        assert_eq!(p.problems[0].line, 7);
        // NUT's rule: the third word is the value, the last value wins, and
        // two sections of one name are one UPS.
        let text = b"[a]\ndriver = d\nport = p1 extra\ndesc = one\n[a]\ndesc = two\nport = p2\n";
        let p = UpsConf::parse("ups.conf", text);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.ups, [UpsEntry::new("a", "d", "p2", Some("two"))]);
        let p = UpsConf::parse("ups.conf", b"[a]\ndriver = d\nport = p1 extra\n");
        assert_eq!(p.value.ups[0].port, "p1");
    }

    #[test]
    fn require_tls_for_auth_is_opt_in() {
        assert!(!UpsdConf::default().require_tls_for_auth);
        let p = UpsdConf::parse("upsd.conf", b"REQUIRE_TLS_FOR_AUTH yes\n");
        assert!(p.problems.is_empty() && p.value.require_tls_for_auth);
        let p = UpsdConf::parse("upsd.conf", b"REQUIRE_TLS_FOR_AUTH maybe\n");
        assert_eq!(p.problems[0].to_string(), "upsd.conf:1: REQUIRE_TLS_FOR_AUTH needs a boolean");
    }
}
