//! `snmp-ups`: NUT 2.8.0's generic SNMP driver over the `snmp2` crate.
//!
//! The MIB mappings, detection, the walks and the SETs are `nut-snmp`'s
//! (sans-IO); this module adds the SNMP transport ([`SnmpAgent`], an
//! [`Agent`] over a `snmp2` session with NUT's retries and timeout), the
//! settings ([`Settings`], NUT's options and defaults) and the driver
//! ([`SnmpUps`], a [`Device`]).
//!
//! Failures never end the driver once it runs: a value the agent does not
//! answer (error status, `noSuchObject`) is absent, logged once per OID;
//! a poll in which the agent stops answering makes the data stale, and the
//! rest of that poll sends no further requests, so a dead agent costs one
//! timeout per poll, not one per OID.
//!
//! Verified (tests `snmp.rs`, `snmp_agent.rs`): with snmpsim serving the 70
//! recordings of `tests/data/snmp/` over SNMPv1, this driver and Debian's
//! NUT 2.8.0 `snmp-ups`, each under Debian's `upsd`, show the same `upsc`,
//! `upscmd -l` and `upsrw` output for the 35 recordings NUT serves and both
//! refuse the 35 others (partial walks whose model object is missing);
//! over SNMPv2c for four of them (a fifth, `eatonupsm2_9px`, NUT never
//! finishes starting over v2c: see `nut_snmp`'s README); SNMPv3 authPriv
//! (SHA + AES, SHA + AES256) against Debian's `snmpd`.
//!
//! Differences from NUT: start-up and the first poll send one GET or
//! GETNEXT per value, as NUT; later polls fetch the values the previous
//! poll read by GET together, up to 16 per request (NUT: one request per
//! value), so a poll costs a few round trips instead of one per value
//! (`benches/README.md`); after a timeout the rest of that poll is
//! skipped (NUT waits for each OID); an SNMPv3 authentication failure at
//! start-up is reported as such (NUT says no device was detected).
//! `mibs=--list` prints what NUT 2.8.0 prints and exits with status 0.

use nut_driver::params::{DriverParams, VarKind, VarSpec};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use nut_proto::sock::TrackingResult;
use nut_snmp::value::SetValue;
use nut_snmp::{Agent, Mapping, Options, Session, SetError, Value};
use snmp2::{Oid, SyncSession};
use std::collections::HashSet;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// `snmp-ups`'s version, as NUT 2.8.0's.
pub const DRIVER_VERSION: &str = "1.21";

/// Default `pollfreq` (seconds between two full walks).
pub const DEFAULT_POLLFREQ: u64 = 30;

/// The most OIDs remembered for "logged once" (beyond, failures are
/// logged at debug level only).
const MAX_LOGGED_OIDS: usize = 4096;

const fn value(name: &'static str, sensitive: bool, desc: &'static str) -> VarSpec {
    VarSpec { name, kind: VarKind::Value, sensitive, desc }
}

/// The settings `snmp-ups` accepts beyond the common ones (NUT 2.8.0's).
pub const VARS: &[VarSpec] = &[
    value(
        "mibs",
        false,
        "Set MIB compliance (default=ietf, allowed: mge,apcc,netvision,pw,cpqpower,...)",
    ),
    value("community", true, "Set community name (default=public)"),
    value("snmp_version", false, "Set SNMP version (default=v1, allowed: v2c,v3)"),
    value(
        "pollfreq",
        false,
        "Set polling frequency in seconds, to reduce network flow (default=30)",
    ),
    value(
        "semistaticfreq",
        false,
        "Set semistatic value update frequency in update cycles, to reduce network flow (default=10)",
    ),
    value(
        "snmp_retries",
        false,
        "Specifies the number of Net-SNMP retries to be used in the requests (default=5)",
    ),
    value(
        "snmp_timeout",
        false,
        "Specifies the Net-SNMP timeout in seconds between retries (default=1)",
    ),
    VarSpec {
        name: "notransferoids",
        kind: VarKind::Flag,
        sensitive: false,
        desc: "Disable transfer OIDs (use on APCC Symmetras)",
    },
    VarSpec {
        name: "symmetrathreephase",
        kind: VarKind::Flag,
        sensitive: false,
        desc: "Enable APCC three phase Symmetra quirks (use on APCC three phase Symmetras)",
    },
    value(
        "secLevel",
        false,
        "Set the securityLevel used for SNMPv3 messages (default=noAuthNoPriv, allowed: authNoPriv,authPriv)",
    ),
    value(
        "secName",
        true,
        "Set the securityName used for authenticated SNMPv3 messages (no default)",
    ),
    value(
        "authPassword",
        true,
        "Set the authentication pass phrase used for authenticated SNMPv3 messages (no default)",
    ),
    value(
        "privPassword",
        true,
        "Set the privacy pass phrase used for encrypted SNMPv3 messages (no default)",
    ),
    value(
        "authProtocol",
        false,
        "Set the authentication protocol (MD5, SHA, SHA256, SHA384, SHA512) used for authenticated SNMPv3 messages (default=MD5 if available)",
    ),
    value(
        "privProtocol",
        false,
        "Set the privacy protocol (DES, AES, AES192, AES256) used for encrypted SNMPv3 messages (default=DES if available)",
    ),
    value("ondelay", false, "Set start delay time after shutdown"),
    value("offdelay", false, "Set delay time before shutdown "),
];

/// The SNMP version and credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Security {
    /// SNMPv1 with a community.
    V1(String),
    /// SNMPv2c with a community.
    V2c(String),
    /// SNMPv3 (USM).
    V3(V3Security),
}

/// SNMPv3 USM settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Security {
    /// `secName`.
    pub name: String,
    /// `secLevel`: `None` for noAuthNoPriv; otherwise the authentication.
    pub auth: Option<V3Auth>,
}

/// SNMPv3 authentication (and privacy) settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Auth {
    /// `authProtocol`: MD5, SHA, SHA256, SHA384 or SHA512.
    pub protocol: String,
    /// `authPassword`.
    pub password: String,
    /// `secLevel=authPriv`: `privProtocol` and `privPassword`.
    pub privacy: Option<(String, String)>,
}

/// Why the settings are refused (the driver exits with the message).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// An option has a value NUT refuses.
    #[error("invalid {option} value {value:?}: {why}")]
    Invalid {
        /// The option.
        option: &'static str,
        /// Its value.
        value: String,
        /// What is allowed.
        why: &'static str,
    },
    /// An option the security level needs is missing.
    #[error("{0} is required for SNMPv3 at this secLevel")]
    Missing(&'static str),
    /// `mibs` names no mapping.
    #[error("Unknown 'mibs' value: {0}")]
    UnknownMibs(String),
    /// `port` is missing or does not resolve.
    #[error("bad port {0:?}: expected host[:port]")]
    Port(String),
}

/// Everything `snmp-ups` needs from its settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The agent (`port`: `host[:port]`, port 161 by default).
    pub peer: String,
    /// `mibs` (`auto` by default).
    pub mibs: String,
    /// Version and credentials.
    pub security: Security,
    /// `snmp_retries` (5).
    pub retries: u32,
    /// `snmp_timeout` (1 s).
    pub timeout: Duration,
    /// `pollfreq` (30 s).
    pub pollfreq: Duration,
    /// `semistaticfreq`, `notransferoids`, `symmetrathreephase`.
    pub options: Options,
    /// `ondelay` / `offdelay` for `-k`.
    pub delays: (Option<String>, Option<String>),
}

fn num(params: &DriverParams, option: &'static str, default: i64) -> Result<i64, SettingsError> {
    match params.get(option) {
        None => Ok(default),
        Some(v) => v.trim().parse::<i64>().map_err(|_| SettingsError::Invalid {
            option,
            value: v.into(),
            why: "not a number",
        }),
    }
}

impl Settings {
    /// Reads and checks the settings.
    pub fn from_params(params: &DriverParams) -> Result<Self, SettingsError> {
        let port = params.port.clone().unwrap_or_default();
        if port.is_empty() {
            return Err(SettingsError::Port(port));
        }
        let mibs = params.get("mibs").unwrap_or("auto").to_string();
        if mibs != "auto" && nut_snmp::detect::find_by_name(&mibs).next().is_none() {
            return Err(SettingsError::UnknownMibs(mibs));
        }
        let community = params.get("community").unwrap_or("public").to_string();
        let version = params.get("snmp_version").unwrap_or("v1");
        let security = match version {
            "v1" => Security::V1(community),
            "v2c" => Security::V2c(community),
            "v3" => Security::V3(v3_from_params(params)?),
            v => {
                return Err(SettingsError::Invalid {
                    option: "snmp_version",
                    value: v.into(),
                    why: "allowed: v1, v2c, v3",
                });
            }
        };
        let retries = num(params, "snmp_retries", 5)?.clamp(0, 100);
        let timeout = num(params, "snmp_timeout", 1)?.clamp(1, 3600);
        let pollfreq = num(params, "pollfreq", DEFAULT_POLLFREQ as i64)?.max(1);
        let options = Options {
            semistaticfreq: num(params, "semistaticfreq", 10)?,
            notransferoids: params.has("notransferoids"),
            symmetrathreephase: params.has("symmetrathreephase"),
        };
        Ok(Settings {
            peer: port,
            mibs,
            security,
            retries: u32::try_from(retries).unwrap_or(5),
            timeout: Duration::from_secs(timeout.unsigned_abs()),
            pollfreq: Duration::from_secs(pollfreq.unsigned_abs()),
            options,
            delays: (
                params.get("ondelay").map(str::to_string),
                params.get("offdelay").map(str::to_string),
            ),
        })
    }

    /// The agent's socket address.
    pub fn address(&self) -> Result<SocketAddr, SettingsError> {
        let p = self.peer.as_str();
        let with_port = if p.parse::<SocketAddr>().is_ok() {
            p.to_string()
        } else if p.starts_with('[') || p.matches(':').count() > 1 {
            // a bracketless IPv6 address, or "[v6]" without a port
            format!("[{}]:161", p.trim_start_matches('[').trim_end_matches(']'))
        } else if p.contains(':') {
            p.to_string()
        } else {
            format!("{p}:161")
        };
        with_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| SettingsError::Port(self.peer.clone()))
    }
}

fn v3_from_params(params: &DriverParams) -> Result<V3Security, SettingsError> {
    let name = params.get("secName").ok_or(SettingsError::Missing("secName"))?.to_string();
    let level = params.get("secLevel").unwrap_or("noAuthNoPriv");
    let (auth, privacy) = match level {
        "noAuthNoPriv" => (false, false),
        "authNoPriv" => (true, false),
        "authPriv" => (true, true),
        l => {
            return Err(SettingsError::Invalid {
                option: "secLevel",
                value: l.into(),
                why: "allowed: noAuthNoPriv, authNoPriv, authPriv",
            });
        }
    };
    if !auth {
        return Ok(V3Security { name, auth: None });
    }
    let protocol = params.get("authProtocol").unwrap_or("MD5").to_string();
    if !["MD5", "SHA", "SHA256", "SHA384", "SHA512"].contains(&protocol.as_str()) {
        return Err(SettingsError::Invalid {
            option: "authProtocol",
            value: protocol,
            why: "allowed: MD5, SHA, SHA256, SHA384, SHA512",
        });
    }
    let password =
        params.get("authPassword").ok_or(SettingsError::Missing("authPassword"))?.to_string();
    let privacy = if privacy {
        let p = params.get("privProtocol").unwrap_or("DES").to_string();
        if !["DES", "AES", "AES192", "AES256"].contains(&p.as_str()) {
            return Err(SettingsError::Invalid {
                option: "privProtocol",
                value: p,
                why: "allowed: DES, AES, AES192, AES256",
            });
        }
        let pw =
            params.get("privPassword").ok_or(SettingsError::Missing("privPassword"))?.to_string();
        Some((p, pw))
    } else {
        None
    };
    Ok(V3Security { name, auth: Some(V3Auth { protocol, password, privacy }) })
}

fn v3_security(s: &V3Security) -> snmp2::v3::Security {
    use snmp2::v3::{Auth, AuthProtocol, Cipher, KeyExtension};
    let Some(a) = &s.auth else {
        return snmp2::v3::Security::new(s.name.as_bytes(), b"").with_auth(Auth::NoAuthNoPriv);
    };
    let proto = match a.protocol.as_str() {
        "SHA" => AuthProtocol::Sha1,
        "SHA256" => AuthProtocol::Sha256,
        "SHA384" => AuthProtocol::Sha384,
        "SHA512" => AuthProtocol::Sha512,
        _ => AuthProtocol::Md5,
    };
    let auth = match &a.privacy {
        None => Auth::AuthNoPriv,
        Some((p, pw)) => Auth::AuthPriv {
            cipher: match p.as_str() {
                "AES" => Cipher::Aes128,
                "AES192" => Cipher::Aes192,
                "AES256" => Cipher::Aes256,
                _ => Cipher::Des,
            },
            privacy_password: pw.as_bytes().to_vec(),
        },
    };
    snmp2::v3::Security::new(s.name.as_bytes(), a.password.as_bytes())
        .with_auth_protocol(proto)
        .with_auth(auth)
        // AES192/256 keys longer than the digest: extended as net-snmp does
        // (checked against Debian's snmpd with SHA + AES256)
        .with_key_extension_method(KeyExtension::Blumenthal)
}

/// How a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No answer after every retry.
    Timeout,
    /// An answer with an error status (v1 `noSuchName`, ...).
    Status(u32),
    /// SNMPv3 authentication or privacy failed (wrong password, key,
    /// engine).
    Auth(String),
    /// Anything else (a malformed answer, an OID that cannot be sent).
    Other(String),
}

/// An [`Agent`] over a `snmp2` session, with `snmp_retries` retries of
/// `snmp_timeout` each: one GET or GETNEXT per call, as NUT, or, with
/// [`SnmpAgent::set_batching`], GETs answered from a batched fetch.
pub struct SnmpAgent {
    // boxed: the session holds a 64 KiB receive buffer, too big to move
    // around on a thread's stack
    session: Box<SyncSession>,
    retries: u32,
    v3: bool,
    logged: HashSet<String>,
    /// Set when a request timed out; further requests fail at once until
    /// [`SnmpAgent::reset_poll`].
    dead: bool,
    /// The last SNMPv3 authentication failure.
    auth_failure: Option<String>,
    /// Whether a timeout ends the poll (updates) or only fails its OID
    /// (detection and the first walk).
    fail_fast: bool,
    /// Requests sent since the last [`SnmpAgent::reset_poll`].
    pub requests: u64,
    /// Requests answered since the last [`SnmpAgent::reset_poll`].
    pub answers: u64,
    /// GETs of a poll are fetched together (see [`SnmpAgent::set_batching`]).
    batching: bool,
    /// The OIDs read by GET in this poll, in order, and as a set.
    seen: Vec<String>,
    seen_set: HashSet<String>,
    /// OIDs whose GET failed with an error status in this poll.
    missing: HashSet<String>,
    /// OIDs whose batched GET failed in a way that is not per OID: read one
    /// by one from then on.
    unbatchable: HashSet<String>,
    /// The OIDs to fetch together at the first GET of this poll (what the
    /// previous poll read), and whether that was done.
    plan: Vec<String>,
    prefetched: bool,
    /// The most varbinds per batched GET: `MAX_VARBINDS`, less once the
    /// agent answered `tooBig`.
    max_varbinds: usize,
    /// The answers fetched together, for this poll only.
    cache: std::collections::HashMap<String, Result<(String, Value), Failure>>,
    /// The planned OIDs, encoded once (at most `MAX_LOGGED_OIDS`).
    encoded: std::collections::HashMap<String, Oid<'static>>,
}

/// The most varbinds in one batched GET.
const MAX_VARBINDS: usize = 16;

/// One request of [`SnmpAgent::exchange`].
enum Op<'a> {
    Get(&'a Oid<'a>),
    Next(&'a Oid<'a>),
    Many(&'a [&'a Oid<'a>]),
    Set(&'a Oid<'a>, &'a SetValue),
}

/// An answer PDU, owned: error status and index, and each varbind's name
/// (a GETNEXT's only; empty otherwise) and value (`None` for a value of a
/// type SNMP has no mapping for).
struct Answer {
    status: u32,
    index: u32,
    varbinds: Vec<(String, Option<Value>)>,
}

impl SnmpAgent {
    /// Opens a session (for SNMPv3, discovers the engine first).
    pub fn open(settings: &Settings) -> Result<Self, DeviceError> {
        let addr = settings.address().map_err(DeviceError::fatal)?;
        let t = Some(settings.timeout);
        let req_id = i32::try_from(std::process::id() & 0x3fff_ffff).unwrap_or(1);
        let (session, v3) = match &settings.security {
            Security::V1(c) => (SyncSession::new_v1(addr, c.as_bytes(), t, req_id), false),
            Security::V2c(c) => (SyncSession::new_v2c(addr, c.as_bytes(), t, req_id), false),
            Security::V3(s) => (SyncSession::new_v3(addr, t, req_id, v3_security(s)), true),
        };
        let session = Box::new(session.map_err(DeviceError::disconnected)?);
        let mut agent = SnmpAgent {
            session,
            retries: settings.retries,
            v3,
            logged: HashSet::new(),
            dead: false,
            auth_failure: None,
            fail_fast: false,
            requests: 0,
            answers: 0,
            batching: false,
            seen: Vec::new(),
            seen_set: HashSet::new(),
            missing: HashSet::new(),
            unbatchable: HashSet::new(),
            plan: Vec::new(),
            prefetched: false,
            max_varbinds: MAX_VARBINDS,
            encoded: std::collections::HashMap::new(),
            cache: std::collections::HashMap::new(),
        };
        if v3 {
            agent.v3_init()?;
        }
        Ok(agent)
    }

    fn v3_init(&mut self) -> Result<(), DeviceError> {
        let mut last = None;
        for _ in 0..=self.retries {
            match self.session.init() {
                Ok(()) => return Ok(()),
                Err(snmp2::Error::Receive) => last = Some("no answer".to_string()),
                Err(snmp2::Error::AuthFailure(k)) => {
                    return Err(DeviceError::fatal(Message::cause(format!(
                        "SNMPv3 engine discovery failed: authentication failure ({k:?})"
                    ))));
                }
                Err(e) => last = Some(e.to_string()),
            }
        }
        Err(DeviceError::disconnected(Message::cause(format!(
            "SNMPv3 engine discovery failed: {}",
            last.unwrap_or_default()
        ))))
    }

    /// Starts a new poll: requests are sent again after a timeout; with
    /// batching, the GETs of the last poll are planned for this one.
    pub fn reset_poll(&mut self) {
        self.dead = false;
        self.requests = 0;
        self.answers = 0;
        self.cache.clear();
        self.prefetched = false;
        self.seen_set.clear();
        let seen = std::mem::take(&mut self.seen);
        self.plan = seen
            .into_iter()
            .filter(|o| !self.missing.contains(o) && !self.unbatchable.contains(o))
            .collect();
        self.missing.clear();
    }

    /// Turns batching on or off. With batching, the first GET of a poll
    /// fetches every OID the previous poll read by GET, up to
    /// 16 per request, and the GETs of the poll are answered
    /// from those answers (an OID the agent lacks is asked alone, as
    /// before). One poll then costs a few requests instead of one per
    /// value (NUT 2.8.0 sends one per value); the values are the same.
    pub fn set_batching(&mut self, on: bool) {
        self.batching = on;
        self.seen.clear();
        self.plan.clear();
        self.cache.clear();
    }

    /// Fetches the planned OIDs, `max_varbinds` per request.
    fn prefetch(&mut self) {
        let plan = std::mem::take(&mut self.plan);
        for chunk in plan.chunks(self.max_varbinds.max(1)) {
            if self.dead {
                return;
            }
            self.fetch_batch(chunk);
        }
    }

    /// One batched GET of `oids`: an error status naming one varbind
    /// (v1 `noSuchName`) records that OID's failure and asks again for the
    /// rest; `tooBig` splits the batch; anything else leaves the OIDs to
    /// be read one by one.
    fn fetch_batch(&mut self, oids: &[String]) {
        // OIDs that do not parse are left to the one-by-one path (which
        // reports them)
        let mut todo: Vec<(&String, Oid<'static>)> = Vec::with_capacity(oids.len());
        for o in oids {
            if let Some(id) = self.encoded.get(o) {
                todo.push((o, id.clone()));
                continue;
            }
            let Some(arcs) = nut_snmp::agent::parse_oid(o) else { continue };
            let arcs: Vec<u64> = arcs.into_iter().map(u64::from).collect();
            let Ok(id) = Oid::from(&arcs) else { continue };
            if self.encoded.len() < MAX_LOGGED_OIDS {
                self.encoded.insert(o.clone(), id.clone());
            }
            todo.push((o, id));
        }
        while !todo.is_empty() {
            let refs: Vec<&Oid<'_>> = todo.iter().map(|(_, id)| id).collect();
            let failed = |a: &mut Self, todo: &[(&String, Oid<'static>)]| {
                for (o, _) in todo {
                    if a.unbatchable.len() < MAX_LOGGED_OIDS {
                        a.unbatchable.insert((*o).clone());
                    }
                }
            };
            let answer = match self.exchange(Op::Many(&refs)) {
                Ok(a) => a,
                // an answer that does not decode (a type snmp2 lacks, a
                // malformed PDU): these OIDs are read one by one from now on
                Err(Failure::Other(e)) => {
                    tracing::debug!(
                        "batched GET of {} OIDs failed ({e}): read one by one",
                        todo.len()
                    );
                    return failed(self, &todo);
                }
                // a timeout or refused credentials: the GETs that follow
                // see it too
                Err(_) => return,
            };
            match (answer.status, usize::try_from(answer.index).unwrap_or(0)) {
                (0, _) if answer.varbinds.len() == todo.len() => {
                    for ((oid, _), (name, value)) in todo.iter().zip(answer.varbinds) {
                        let r = value.map(|v| (name, v)).ok_or_else(|| {
                            Failure::Other("value of an unsupported type".to_string())
                        });
                        self.cache.insert((*oid).clone(), r);
                    }
                    return;
                }
                (2, i) if i >= 1 && i <= todo.len() => {
                    let (oid, _) = todo.remove(i - 1);
                    self.cache.insert(oid.clone(), Err(Failure::Status(2)));
                }
                (1, _) if todo.len() > 1 => {
                    // too big for the agent: halves now, and no more than
                    // that in later batches
                    let half = todo.len().div_ceil(2);
                    self.max_varbinds = self.max_varbinds.min(half);
                    let (a, b) = todo.split_at(half);
                    let (a, b): (Vec<String>, Vec<String>) = (
                        a.iter().map(|(o, _)| (*o).clone()).collect(),
                        b.iter().map(|(o, _)| (*o).clone()).collect(),
                    );
                    self.fetch_batch(&a);
                    self.fetch_batch(&b);
                    return;
                }
                (status, index) => {
                    tracing::debug!(
                        "batched GET of {} OIDs: error status {status} at {index}, {} varbinds: \
                         read one by one",
                        todo.len(),
                        answer.varbinds.len()
                    );
                    failed(self, &todo);
                    return;
                }
            }
        }
    }

    /// Whether a request of this poll timed out.
    pub fn timed_out(&self) -> bool {
        self.dead
    }

    /// The last SNMPv3 authentication failure, if any.
    pub fn auth_failure(&self) -> Option<&str> {
        self.auth_failure.as_deref()
    }

    /// Logs a failed read once per OID: at `warn` for a timeout or a
    /// malformed answer, at `debug` for an object the agent says it lacks
    /// (as NUT, a partial MIB is normal); repeats go to `trace`.
    fn log_once(&mut self, oid: &str, failure: &Failure) {
        let what = failure_text(failure);
        let oid = if matches!(failure, Failure::Auth(_)) { "SNMPv3" } else { oid };
        if self.logged.len() < MAX_LOGGED_OIDS && self.logged.insert(oid.to_string()) {
            match failure {
                Failure::Status(_) => tracing::debug!("[{oid}] {what}"),
                _ => tracing::warn!("[{oid}] {what}"),
            }
        } else {
            tracing::trace!("[{oid}] {what}");
        }
    }

    fn request(
        &mut self,
        oid: &str,
        next: bool,
        set: Option<&SetValue>,
    ) -> Result<(String, Value), Failure> {
        if self.dead {
            return Err(self.dead_failure());
        }
        if self.batching && !next && set.is_none() {
            if self.seen_set.len() < MAX_LOGGED_OIDS && !self.seen_set.contains(oid) {
                self.seen_set.insert(oid.to_string());
                self.seen.push(oid.to_string());
            }
            if !self.prefetched {
                self.prefetched = true;
                self.prefetch();
            }
            if let Some(r) = self.cache.get(oid) {
                return r.clone();
            }
            if self.dead {
                return Err(self.dead_failure());
            }
        }
        let arcs: Vec<u64> = nut_snmp::agent::parse_oid(oid)
            .ok_or_else(|| Failure::Other("bad OID".into()))?
            .into_iter()
            .map(u64::from)
            .collect();
        let id = Oid::from(&arcs).map_err(|_| Failure::Other("bad OID".into()))?;
        let op = match set {
            None if next => Op::Next(&id),
            None => Op::Get(&id),
            Some(v) => Op::Set(&id, v),
        };
        let answer = self.exchange(op)?;
        if answer.status != 0 {
            if self.batching && !next && set.is_none() {
                self.missing.insert(oid.to_string());
            }
            return Err(Failure::Status(answer.status));
        }
        let Some((name, value)) = answer.varbinds.into_iter().next() else {
            return Err(Failure::Other("empty answer".into()));
        };
        let value = value.ok_or_else(|| Failure::Other("value of an unsupported type".into()))?;
        Ok((name, value))
    }

    fn dead_failure(&self) -> Failure {
        match &self.auth_failure {
            Some(a) => Failure::Auth(a.clone()),
            None => Failure::Timeout,
        }
    }

    /// Sends one request with `snmp_retries` retries and returns the
    /// answer, owned.
    fn exchange(&mut self, op: Op<'_>) -> Result<Answer, Failure> {
        let mut last = Failure::Timeout;
        let mut reinit = false;
        for _ in 0..=self.retries {
            if reinit && self.v3 {
                // the agent rebooted (engine boots/time changed): rediscover
                let _ = self.session.init();
            }
            self.requests = self.requests.saturating_add(1);
            let res = match &op {
                Op::Get(id) => self.session.get(id),
                Op::Next(id) => self.session.getnext(id),
                Op::Many(ids) => self.session.get_many(ids),
                Op::Set(id, SetValue::Integer(v)) => {
                    self.session.set(&[(id, snmp2::Value::Integer(*v))])
                }
                Op::Set(id, SetValue::TimeTicks(v)) => self
                    .session
                    .set(&[(id, snmp2::Value::Timeticks(u32::try_from(*v).unwrap_or(0)))]),
                Op::Set(id, SetValue::OctetString(s)) => {
                    self.session.set(&[(id, snmp2::Value::OctetString(s.as_bytes()))])
                }
            };
            match res {
                Ok(pdu) => {
                    let (status, index) = (pdu.error_status, pdu.error_index);
                    // only a GETNEXT needs the name of what answered
                    let named = matches!(op, Op::Next(_));
                    let mut varbinds = Vec::new();
                    if status == 0 {
                        for (name, v) in pdu.varbinds {
                            let Some(it) = name.iter() else {
                                return Err(Failure::Other("bad OID in answer".into()));
                            };
                            let mut text = String::new();
                            if named {
                                for (i, a) in it.enumerate() {
                                    use std::fmt::Write;
                                    if i > 0 {
                                        text.push('.');
                                    }
                                    let _ = write!(text, "{a}");
                                }
                            }
                            varbinds.push((text, convert(v)));
                        }
                    }
                    self.auth_failure = None;
                    return Ok(Answer { status, index, varbinds });
                }
                Err(snmp2::Error::Receive) | Err(snmp2::Error::Send) => last = Failure::Timeout,
                Err(snmp2::Error::AuthUpdated) => reinit = false,
                Err(snmp2::Error::AuthFailure(k)) => {
                    let text = format!("{k:?}");
                    self.auth_failure = Some(text.clone());
                    last = Failure::Auth(text);
                    reinit = true;
                }
                Err(snmp2::Error::RequestIdMismatch) => last = Failure::Timeout,
                Err(e) => return Err(Failure::Other(e.to_string())),
            }
        }
        // a dead agent or refused credentials: the rest of this poll fails
        // at once instead of waiting on every OID (at start-up only for
        // refused credentials: there, as in NUT, an OID that times out
        // only loses its row)
        if self.fail_fast || matches!(last, Failure::Auth(_)) {
            self.dead = true;
        }
        Err(last)
    }

    /// SETs one value (`upsrw`, `upscmd`).
    pub fn set(&mut self, oid: &str, value: &SetValue) -> Result<(), Failure> {
        let dead = std::mem::replace(&mut self.dead, false);
        // a value read before the SET must not be served after it
        self.cache.clear();
        let r = self.request(oid, false, Some(value)).map(|_| ());
        self.dead |= dead;
        r
    }
}

fn convert(v: snmp2::Value<'_>) -> Option<Value> {
    use snmp2::Value as V;
    let octets = |b: &[u8]| b[..b.len().min(nut_snmp::value::MAX_OCTETS)].to_vec();
    Some(match v {
        V::Integer(i) => Value::Integer(i),
        V::OctetString(b) | V::Opaque(b) => Value::OctetString(octets(b)),
        V::ObjectIdentifier(o) => {
            Value::ObjectId(o.iter()?.map(|a| a.to_string()).collect::<Vec<_>>().join("."))
        }
        V::IpAddress(a) => Value::IpAddress(a),
        V::Counter32(c) => Value::Counter32(c),
        V::Unsigned32(c) => Value::Gauge32(c),
        V::Timeticks(t) => Value::TimeTicks(t),
        V::Counter64(c) => Value::Counter64(c),
        V::Boolean(b) => Value::Integer(i64::from(b)),
        V::Null | V::NoSuchObject | V::NoSuchInstance => Value::Null,
        _ => return None,
    })
}

impl Agent for SnmpAgent {
    fn get(&mut self, oid: &str) -> Option<Value> {
        match self.request(oid, false, None) {
            Ok((_, Value::Null)) => {
                self.answers = self.answers.saturating_add(1);
                self.log_once(oid, &Failure::Status(0));
                Some(Value::Null)
            }
            Ok((_, v)) => {
                self.answers = self.answers.saturating_add(1);
                Some(v)
            }
            Err(f) => {
                if matches!(f, Failure::Status(_)) {
                    self.answers = self.answers.saturating_add(1);
                }
                self.log_once(oid, &f);
                None
            }
        }
    }

    fn get_next(&mut self, oid: &str) -> Option<(String, Value)> {
        match self.request(oid, true, None) {
            // v2c endOfMibView ends a walk like v1's noSuchName
            Ok((_, Value::Null)) => None,
            Ok(r) => {
                self.answers = self.answers.saturating_add(1);
                Some(r)
            }
            Err(f) => {
                if !matches!(f, Failure::Status(_)) {
                    self.log_once(oid, &f);
                }
                None
            }
        }
    }
}

fn failure_text(f: &Failure) -> String {
    match f {
        Failure::Timeout => "timeout: no answer".into(),
        Failure::Status(0) => "no such object".into(),
        Failure::Status(2) => "no such name".into(),
        Failure::Status(s) => format!("error status {s}"),
        Failure::Auth(a) => format!("SNMPv3 authentication failure: {a}"),
        Failure::Other(o) => o.clone(),
    }
}

/// The `snmp-ups` device.
pub struct SnmpUps {
    settings: Settings,
    agent: Option<SnmpAgent>,
    session: Option<Session>,
    last_ok: bool,
}

impl SnmpUps {
    /// A device for these settings (not yet connected).
    pub fn new(settings: Settings) -> Self {
        SnmpUps { settings, agent: None, session: None, last_ok: false }
    }

    /// The mapping in use, once connected.
    pub fn mapping(&self) -> Option<&'static Mapping> {
        self.session.as_ref().map(Session::mapping)
    }

    fn auth_error(&self, agent: &SnmpAgent) -> Option<DeviceError> {
        let Security::V3(s) = &self.settings.security else { return None };
        let a = agent.auth_failure()?;
        Some(DeviceError::fatal(Message::cause(format!(
            "SNMPv3 authentication failed for secName {:?} at {} ({a}): check secName, \
             authPassword, authProtocol, privPassword and privProtocol",
            s.name, self.settings.peer
        ))))
    }

    fn send_set(
        &mut self,
        st: &mut Dstate,
        req: Result<nut_snmp::SetRequest, SetError>,
    ) -> TrackingResult {
        let req = match req {
            Ok(r) => r,
            Err(SetError::Unknown { .. }) => return TrackingResult::Unknown,
            Err(SetError::Invalid { .. }) => return TrackingResult::Invalid,
            Err(_) => return TrackingResult::Failed,
        };
        let Some(agent) = self.agent.as_mut() else { return TrackingResult::Failed };
        match agent.set(&req.oid, &req.value) {
            Ok(()) => {
                req.apply_success(st);
                TrackingResult::Handled
            }
            Err(f) => {
                tracing::warn!("SET {} failed: {}", req.oid, failure_text(&f));
                TrackingResult::Failed
            }
        }
    }
}

impl Device for SnmpUps {
    fn connect(&mut self, st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        let mut agent = SnmpAgent::open(&self.settings)?;
        agent.reset_poll();
        let mapping = match nut_snmp::detect(&mut agent, &self.settings.mibs) {
            Ok(m) => m,
            Err(e) => {
                if let Some(err) = self.auth_error(&agent) {
                    return Err(err);
                }
                if agent.answers == 0 {
                    return Err(DeviceError::disconnected(Message::cause(format!(
                        "no answer from {}",
                        self.settings.peer
                    ))));
                }
                return Err(DeviceError::fatal(Message::cause(format!(
                    "No supported device detected at {}: {e}",
                    self.settings.peer
                ))));
            }
        };
        tracing::info!(
            "Detected {} on host {} (mib: {})",
            mapping.name,
            self.settings.peer,
            mapping.version_data()
        );
        let mut session = Session::new(mapping, self.settings.options.clone());
        agent.reset_poll();
        let ok = session.init(&mut agent, st);
        if agent.answers == 0 {
            return Err(DeviceError::disconnected(Message::cause(format!(
                "{} stopped answering during the first walk",
                self.settings.peer
            ))));
        }
        agent.fail_fast = true;
        agent.set_batching(true);
        self.last_ok = ok;
        self.agent = Some(agent);
        self.session = Some(session);
        Ok(())
    }

    fn update(
        &mut self,
        st: &mut Dstate,
        kind: UpdateKind,
        _now: Instant,
    ) -> Result<(), DeviceError> {
        let (Some(agent), Some(session)) = (self.agent.as_mut(), self.session.as_mut()) else {
            return Err(DeviceError::disconnected(Message::cause("not connected")));
        };
        if kind == UpdateKind::Full {
            agent.reset_poll();
            self.last_ok = session.update(agent, st) && !agent.timed_out();
            if agent.timed_out() {
                tracing::warn!("{}: no answer, data stale", self.settings.peer);
            }
        }
        if self.last_ok {
            Ok(())
        } else {
            Err(DeviceError::stale(Message::cause("the last poll failed")))
        }
    }

    fn instcmd(
        &mut self,
        st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        _now: Instant,
    ) -> TrackingResult {
        let Some(session) = self.session.as_ref() else { return TrackingResult::Failed };
        let req = session.instcmd(st, cmd, param);
        self.send_set(st, req)
    }

    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, _now: Instant) -> TrackingResult {
        let Some(session) = self.session.as_ref() else { return TrackingResult::Failed };
        let req = session.setvar(st, var, value);
        self.send_set(st, req)
    }

    fn shutdown(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        let (on, off) = self.settings.delays.clone();
        for (var, v) in [("ups.delay.start", on), ("ups.delay.shutdown", off)] {
            if let Some(v) = v.filter(|v| v.trim().parse::<i64>().is_ok_and(|n| n >= 0)) {
                let _ = self.setvar(st, var, &v, now);
            }
        }
        for cmd in ["shutdown.return", "shutdown.reboot", "load.off.delay"] {
            if self.instcmd(st, cmd, None, now) == TrackingResult::Handled {
                return Ok(());
            }
        }
        Err(DeviceError::fatal(Message::cause("Shutdown failed!")))
    }
}

mod program {
    use super::*;
    use nut_driver::Timing;
    use nut_driver::run::{DriverProgram, Env};

    /// `snmp-ups` as a driver program.
    #[derive(Debug)]
    pub struct SnmpUpsDriver;

    impl DriverProgram for SnmpUpsDriver {
        type Device = SnmpUps;
        const NAME: &'static str = "snmp-ups";
        const DESCRIPTION: &'static str = "Generic SNMP UPS driver";
        const VERSION: &'static str = DRIVER_VERSION;
        const OPTIONS: &'static [VarSpec] = VARS;

        fn timing(params: &DriverParams) -> Result<Timing, nut_driver::params::ParamError> {
            let pollfreq = params
                .get("pollfreq")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&n| n > 0)
                .unwrap_or(DEFAULT_POLLFREQ);
            Ok(Timing {
                poll_interval: params.poll_interval(),
                full_update: Some(Duration::from_secs(pollfreq)),
                ..Timing::default()
            })
        }

        fn create(params: &DriverParams, _env: &Env) -> Result<Self::Device, DeviceError> {
            if params.get("mibs") == Some("--list") {
                // as NUT 2.8.0: the mappings on stdout, then exit status 0
                // (nothing is open yet: no socket, no PID file)
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(nut_snmp::mapping_list().as_bytes());
                let _ = out.flush();
                std::process::exit(0);
            }
            let settings = Settings::from_params(params).map_err(DeviceError::fatal)?;
            Ok(SnmpUps::new(settings))
        }
    }
}

pub use program::SnmpUpsDriver;
