//! Driver options (`ups.conf`) that change what the codec does.

use crate::error::ConfigError;
use crate::item::{is_numeric, strtod, strtol};
use alloc::string::{String, ToString};
use core::time::Duration;

/// The options of nutdrv_qx / blazer that the codec uses. Build it with
/// [`Config::default`] and [`Config::set`] (one `ups.conf` key at a time).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// `protocol=`: only this protocol is tried.
    pub protocol: Option<String>,
    /// `novendor`: skip the `I` / `FW?` query (and its claim step).
    pub novendor: bool,
    /// `norating`: skip the `F` query.
    pub norating: bool,
    /// `ignoresab`: ignore the "shutdown active" bit.
    pub ignoresab: bool,
    /// `nooutstats` (q2, q6): skip the `WA` query.
    pub nooutstats: bool,
    /// `ondelay` in seconds, applied to `ups.delay.start` at init.
    pub ondelay: Option<String>,
    /// `offdelay` in seconds, applied to `ups.delay.shutdown` at init.
    pub offdelay: Option<String>,
    /// `pollfreq`: seconds between full updates (default 30).
    pub pollfreq: u64,
    /// The driver core's `pollinterval`: seconds between updates (default 2).
    pub pollinterval: u64,
    /// `runtimecal = runtime_high,load_high,runtime_low,load_low`.
    pub runtimecal: Option<(f64, f64, f64, f64)>,
    /// `chargetime` in seconds (default 43200).
    pub chargetime: f64,
    /// `idleload` as a fraction (option in %, default 10 %).
    pub idleload: f64,
    /// `battery_voltage_reports_one_pack` (NUT after 2.8.0).
    pub battery_voltage_reports_one_pack: bool,
    /// The USB vendor id (`ups.vendorid`, 4 hex digits) when on USB: the
    /// omron protocol only claims `0590` devices unless named.
    pub usb_vendorid: Option<String>,
    /// How long a query waits for its answer (NUT: 1 s on serial).
    pub timeout: Duration,
    /// Try only NUT 2.8.0's protocols, in its order.
    pub nut_2_8_0_only: bool,
    /// `slave_address` (masterguard): the claim requires the device's
    /// slave address (its `ups.id`) to equal this number (0-99); an empty
    /// or malformed value makes the claim fail, as in NUT.
    pub slave_address: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            protocol: None,
            novendor: false,
            norating: false,
            ignoresab: false,
            nooutstats: false,
            ondelay: None,
            offdelay: None,
            pollfreq: 30,
            pollinterval: 2,
            runtimecal: None,
            chargetime: 43200.0,
            idleload: 0.1,
            battery_voltage_reports_one_pack: false,
            usb_vendorid: None,
            timeout: Duration::from_secs(1),
            nut_2_8_0_only: false,
            slave_address: None,
        }
    }
}

impl Config {
    /// Applies one `ups.conf` option (`value` is `None` for a flag).
    /// Returns `Ok(false)` for a key this codec does not use.
    pub fn set(&mut self, key: &str, value: Option<&str>) -> Result<bool, ConfigError> {
        let v = value.unwrap_or("");
        match key {
            "protocol" => {
                if crate::protocol::by_name(v).is_none() {
                    return Err(ConfigError::UnknownProtocol(v.to_string()));
                }
                self.protocol = Some(v.to_string());
            }
            "novendor" => self.novendor = true,
            "norating" => self.norating = true,
            "ignoresab" => self.ignoresab = true,
            "nooutstats" => self.nooutstats = true,
            "battery_voltage_reports_one_pack" => self.battery_voltage_reports_one_pack = true,
            "slave_address" => self.slave_address = Some(v.to_string()),
            "ondelay" => self.ondelay = Some(v.to_string()),
            "offdelay" => self.offdelay = Some(v.to_string()),
            "pollfreq" => self.pollfreq = u64::try_from(strtol(v)).unwrap_or(0),
            "pollinterval" => self.pollinterval = u64::try_from(strtol(v)).unwrap_or(2).max(1),
            "runtimecal" => self.runtimecal = Some(parse_runtimecal(v)?),
            "chargetime" => {
                let t = strtol(v);
                if t <= 0 {
                    return Err(ConfigError::Chargetime(v.to_string()));
                }
                self.chargetime = t as f64;
            }
            "idleload" => {
                let l = strtod(v) / 100.0;
                if l <= 0.0 || l > 1.0 {
                    return Err(ConfigError::Idleload(v.to_string()));
                }
                self.idleload = l;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// `runtimecal`: four comma-separated numbers with NUT's range checks.
pub fn parse_runtimecal(v: &str) -> Result<(f64, f64, f64, f64), ConfigError> {
    let err = |m| ConfigError::Runtimecal(v.to_string(), m);
    let mut n = [0.0f64; 4];
    let mut parts = v.split(',');
    for slot in n.iter_mut() {
        let p = parts.next().ok_or_else(|| err("insufficient parameters"))?.trim();
        if p.is_empty() || !(is_numeric(p.as_bytes()) || p.starts_with('-')) {
            return Err(err("insufficient parameters"));
        }
        *slot = strtod(p);
    }
    let [rh, lh, rl, ll] = n;
    if rl < rh || rh <= 0.0 {
        return Err(err("parameter out of range (runtime)"));
    }
    if lh > 100.0 || ll > lh || ll <= 0.0 {
        return Err(err("parameter out of range (load)"));
    }
    Ok((rh, lh, rl, ll))
}
