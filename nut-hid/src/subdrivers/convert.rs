//! The function-based lookups of the subdriver tables, written in Rust
//! from NUT 2.8.0's described behaviour.
//!
//! NUT keeps their state in C statics (ABM mode, country, model type,
//! scale factors, counters); here it lives in [`State`], which a mapping
//! engine keeps per device. What they read from the driver (published
//! variables, USB strings, raw reports, the status bits) comes through
//! [`Env`].

use super::{IdHook, Subdriver, TrippliteScale, trunc};
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// What a conversion may read from the driver.
///
/// Every method has a default that answers "nothing", so an engine only
/// implements what it has.
pub trait Env {
    /// A published NUT variable (`dstate_getinfo`).
    fn var(&self, _name: &str) -> Option<&str> {
        None
    }
    /// The USB string descriptor with this index.
    fn usb_string(&self, _index: u8) -> Option<&str> {
        None
    }
    /// The last bytes of a report, report ID first (Ever only).
    fn report(&self, _report_id: u8) -> Option<&[u8]> {
        None
    }
    /// Whether the driver's status bits currently say `off`.
    fn status_off(&self) -> bool {
        false
    }
}

/// An [`Env`] with nothing in it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl Env for NoEnv {}

/// Per-device state of the conversions (NUT's C statics).
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Eaton ABM (`UPS.BatterySystem.Charger.ABMEnable`): `None` until
    /// read; `Some(0)` disabled.
    pub abm: Option<i64>,
    /// Eaton country code (`UPS.PowerSummary.Country`); 0 is Europe, 2
    /// Europe with 200/208 V.
    pub country: Option<i64>,
    /// MGE model type (see [`super::mge::model_type`]).
    pub mge_type: u16,
    /// The first nominal output voltage the MGE conversion saw.
    pub mge_nominal_output: Option<i64>,
    /// Liebert ConfigVoltage multiplier.
    pub liebert_config_mult: f64,
    /// Liebert line-voltage multiplier.
    pub liebert_line_mult: f64,
    /// CyberPower battery-voltage scale.
    pub cps_battery_scale: f64,
    /// CyberPower: the scale check is pending (0764:0501 only).
    pub cps_check_pending: bool,
    /// Tripp Lite battery-voltage scale.
    pub tl_battery: f64,
    /// Tripp Lite line-voltage scale.
    pub tl_voltage: f64,
    /// Tripp Lite frequency scale.
    pub tl_frequency: f64,
    /// Tripp Lite current scale.
    pub tl_current: f64,
    /// openUPS input-voltage scale.
    pub openups_vin: f64,
    /// openUPS output-voltage scale.
    pub openups_vout: f64,
    /// openUPS charge-current scale.
    pub openups_ccharge: f64,
    /// openUPS discharge-current scale.
    pub openups_cdischarge: f64,
    /// Ever: which of the four IP reports the next `ever_ip_address`
    /// call reads (0..=3).
    pub ever_ip_turn: u8,
    /// Ever: which of the four packet-counter reports comes next (0..=3).
    pub ever_packets_turn: u8,
}

impl Default for State {
    fn default() -> Self {
        State {
            abm: None,
            country: None,
            mge_type: super::mge::model_type::DEFAULT,
            mge_nominal_output: None,
            liebert_config_mult: 1.0,
            liebert_line_mult: 1.0,
            cps_battery_scale: 1.0,
            cps_check_pending: false,
            tl_battery: 1.0,
            tl_voltage: 1.0,
            tl_frequency: 1.0,
            tl_current: 1.0,
            openups_vin: 1.0,
            openups_vout: 1.0,
            openups_ccharge: 1.0,
            openups_cdischarge: 1.0,
            ever_ip_turn: 0,
            ever_packets_turn: 0,
        }
    }
}

impl State {
    /// The state after the subdriver claimed this device: the ID table
    /// hook of a matching entry applied.
    pub fn for_device(sd: &Subdriver, vendor_id: u16, product_id: u16) -> Self {
        let mut st = State::default();
        let hook = sd
            .usb_ids
            .iter()
            .find(|id| id.vendor_id == vendor_id && id.product_id == product_id)
            .and_then(|id| id.hook);
        if let Some(h) = hook {
            st.apply(h, product_id);
        }
        st
    }

    /// Applies an ID hook's effect on the conversions.
    pub fn apply(&mut self, hook: IdHook, product_id: u16) {
        match hook {
            IdHook::CpsBatteryScaleCheck => self.cps_check_pending = true,
            IdHook::TrippliteBatteryScale(s) => match s {
                TrippliteScale::Tenth => self.tl_battery = 0.1,
                TrippliteScale::One => self.tl_battery = 1.0,
                TrippliteScale::Smart1500Lcdt => {
                    self.tl_battery = 100000.0;
                    self.tl_voltage = 100000.0;
                    self.tl_frequency = 0.01;
                    self.tl_current = 0.01;
                }
            },
            IdHook::OpenupsScale => match product_id {
                0xd004 => {
                    self.openups_vin = 0.03545 * 100.0;
                    self.openups_vout = 0.02571 * 100.0;
                    self.openups_ccharge = 0.8274 / 10.0;
                    self.openups_cdischarge = 16.113 / 10.0;
                }
                0xd005 => {
                    self.openups_vin = 0.1;
                    self.openups_vout = 0.1;
                    self.openups_ccharge = 0.1;
                    self.openups_cdischarge = 0.1;
                }
                _ => {}
            },
            IdHook::ApcMaxReportTweak | IdHook::DisableInterruptPipe => {}
        }
    }
}

/// The conversion functions of NUT's function-based lookup tables, one
/// per table (named after it).
///
/// Each converts a HID value to NUT text ([`Conv::to_nut`]); some also
/// convert back ([`Conv::to_hid`]). Texts that NUT formats into small
/// fixed buffers are cut the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Conv {
    /// HID packed date (bits: years since 1980 <<9, month <<5, day) <->
    /// `YYYY/MM/DD`; 0 is `not set`.
    DateConversion,
    /// `%08lx` of the integer value.
    HexConversion,
    /// The USB string descriptor whose index is the value.
    StringidConversion,
    /// The value / 10, `%0.1f`.
    DivideBy10Conversion,
    /// 273..=373 taken as kelvin (−273.15), anything else as °C; `%.1f`.
    KelvinCelsiusConversion,
    /// APC date: hex digits read as decimal, `0xMMDDYY` <-> `YYYY/MM/DD`
    /// (YY < 70 is 20YY); 0 is `not set`.
    ApcDateConversion,
    /// Eaton: records whether ABM is enabled; publishes nothing.
    EatonAbmEnabledInfo,
    /// Eaton ABM charger mode -> `battery.charger.status` (1 charging,
    /// 2 discharging, 3 floating, 4 resting, 6 off). With ABM disabled
    /// NUT publishes nothing and deletes `battery.charger.status`.
    EatonAbmStatusInfo,
    /// Eaton ABM charger mode -> status `chrg` (1, 3) / `dischrg` (2),
    /// unless ABM is disabled.
    EatonAbmChrgDischrgInfo,
    /// Eaton `Discharging`: used only with ABM disabled, else `!dischrg`.
    EatonDischargingInfo,
    /// Eaton `Charging`: used only with ABM disabled, else `!chrg`.
    EatonChargingInfo,
    /// Unix time -> `YYYY/MM/DD` (NUT uses local time; we use UTC).
    MgeDateConversion,
    /// Unix time -> `HH:MM:SS` (NUT uses local time; we use UTC).
    MgeTimeConversion,
    /// `battery.voltage.nominal` for Evolution (650: forced to 12), Pulsar
    /// M and 5P only; `%.0f`.
    MgeBatteryVoltageNominal,
    /// `battery.voltage` for Evolution, Pulsar M and 5P only; `%.1f`.
    MgeBatteryVoltage,
    /// The value / 100, `%.2f`.
    MgePowerfactorConversion,
    /// The value / 3600, `%.2f`.
    MgeBatteryCapacity,
    /// `%.0f`, only for Pegasus-family models (which includes 3S).
    PegasusThresholdInfo,
    /// 0 `no`, else `yes`, only for Pegasus-family models (which includes 3S).
    PegasusYesNoInfo,
    /// Records the Eaton country code; publishes nothing.
    EatonCheckCountryInfo,
    /// `ups.realpower` computed from `ups.load`, `ups.power.nominal` and
    /// `output.powerfactor` (read with C `atoi`, 0.8 when missing).
    EatonComputeRealpowerInfo,
    /// The nominal output voltage, limited to the values the model's range
    /// (the first value seen) allows; `%.0f`.
    NominalOutputVoltageInfo,
    /// `online`/`!online`, nothing while the status says `off`.
    EatonConverterOnlineInfo,
    /// Non-zero -> `online`.
    LiebertOnlineInfo,
    /// Non-zero -> `dischrg`.
    LiebertDischargingInfo,
    /// Non-zero -> `chrg`.
    LiebertChargingInfo,
    /// Non-zero -> `lowbatt`.
    LiebertLowbattInfo,
    /// Non-zero -> `replacebatt`.
    LiebertReplacebattInfo,
    /// Non-zero -> `shutdownimm`.
    LiebertShutdownimmInfo,
    /// Liebert ConfigVoltage, detecting the broken 1e-7 exponent; `%.1f`.
    LiebertConfigVoltageInfo,
    /// Liebert line voltage, corrected by the detected factor; `%.1f`.
    LiebertLineVoltageInfo,
    /// Belkin firmware: the value >> 4.
    BelkinFirmwareConversion,
    /// Belkin UPS type from the low nibble.
    BelkinUpstypeConversion,
    /// Belkin sensitivity: 1 reduced, 2 low, else normal.
    BelkinSensitivityConversion,
    /// Belkin status bit 0x0010 -> `overload`.
    BelkinOverloadConversion,
    /// Belkin status bit 0x0040 -> `overheat`.
    BelkinOverheatConversion,
    /// Belkin status bit 0x0080 -> `commfault`.
    BelkinCommfaultConversion,
    /// Belkin status bit 0x2000 -> `awaitingpower`.
    BelkinAwaitingpowerConversion,
    /// Belkin status bit 0x0001 set -> `!online`.
    BelkinOnlineConversion,
    /// Belkin status bit 0x0004 -> `lowbatt`.
    BelkinLowbattConversion,
    /// Belkin status bit 0x0040 -> `depleted`.
    BelkinDepletedConversion,
    /// Belkin status bit 0x0080 -> `replacebatt`.
    BelkinReplacebattConversion,
    /// CyberPower battery voltage with the 2/3 check; `%.1f`.
    CpsBattvolt,
    /// Battery charge capped at 100; `%.0f`.
    CpsBattcharge,
    /// Delta UPS type from the low nibble.
    DeltaUpsTypeInfo,
    /// Ever hardware revision `rev.<letter>v<NN>`.
    EverFormatHardware,
    /// Ever firmware version `v<X>.<X>b<NN>`.
    EverFormatVersion,
    /// Ever MAC address from report 210.
    EverMacAddress,
    /// Ever IP addresses from reports 211, 230, 231, 232 in turn.
    EverIpAddress,
    /// Ever packet counters from reports 215..=218 in turn.
    EverPackets,
    /// Ever work mode from report 74.
    EverWorkmode,
    /// Ever messages from report 75.
    EverMessages,
    /// Ever alarms from report 76.
    EverAlarms,
    /// Ever `off` unless work mode (report 74) is 4 or 8.
    EverOnOffInfo,
    /// The value × 10, `%0.1f`.
    LegrandTimes10Info,
    /// The value × 100000, `%0.1f`.
    LegrandTimes100kInfo,
    /// The value × 1000000, `%0.1f`.
    LegrandTimes1MInfo,
    /// The value × 10000000, `%0.1f`.
    LegrandTimes10MInfo,
    /// Non-zero -> `chrg`.
    OpenupsChargingInfo,
    /// Non-zero -> `dischrg`.
    OpenupsDischargingInfo,
    /// Non-zero -> `online`.
    OpenupsOnlineInfo,
    /// Non-zero -> `nobattery`.
    OpenupsNobatteryInfo,
    /// Zero -> `off`.
    OpenupsOffInfo,
    /// Input voltage × the product's scale, `%.2f`.
    OpenupsVinInfo,
    /// Output voltage × the product's scale, `%.2f`.
    OpenupsVoutInfo,
    /// Charge current × the product's scale, `%.3f`.
    OpenupsCchargeInfo,
    /// Discharge current × the product's scale, `%.3f`.
    OpenupsCdischargeInfo,
    /// openUPS thermistor reading -> °C by table interpolation.
    OpenupsTemperatureInfo,
    /// PowerCOM start delay: byte-swapped minutes <-> seconds.
    PowercomStartupInfo,
    /// PowerCOM shutdown delay (minutes in the low byte, seconds in the
    /// high byte) <-> seconds; writing sets "restart enabled" (0x4000).
    PowercomShutdownInfo,
    /// PowerCOM shutdown without restart: write only, flag 0x8000.
    PowercomStayoffInfo,
    /// The value × 4, `%0.0f`.
    PowercomVoltageConversion,
    /// PowerCOM bit 0x0001 -> `fanfail`.
    PowercomUpsfailConversion,
    /// PowerCOM bit 0x0002 -> `replacebatt`.
    PowercomReplacebattConversion,
    /// PowerCOM bit 0x0004 -> `cal`.
    PowercomTestConversion,
    /// PowerCOM bit 0x0010 -> `shutdownimm`.
    PowercomShutdownimmConversion,
    /// PowerCOM bit 0x0001 set -> `!online`.
    PowercomOnlineConversion,
    /// PowerCOM bit 0x0002 -> `lowbatt`.
    PowercomLowbattConversion,
    /// PowerCOM bits 0x0018 == 0x0008 -> `trim`.
    PowercomTrimConversion,
    /// PowerCOM bits 0x0018 == 0x0018 -> `boost`.
    PowercomBoostConversion,
    /// PowerCOM bit 0x0020 -> `overload`.
    PowercomOverloadConversion,
    /// Tripp Lite chemistry string (`unknown` for 1003 and 2005).
    TrippliteChemistry,
    /// Battery voltage × the product's scale, `%.1f`.
    TrippliteBattvolt,
    /// Line voltage × the product's scale, `%.1f`.
    TrippliteIovolt,
    /// Frequency × the product's scale, `%.1f`.
    TrippliteIofreq,
    /// Current × the product's scale, `%.1f`.
    TrippliteIoamp,
}

/// Word from a flag: `word` when set, `!word` when not.
fn flag(set: bool, word: &'static str, not: &'static str) -> Option<Cow<'static, str>> {
    Some(Cow::Borrowed(if set { word } else { not }))
}

/// C's `snprintf` into a buffer of `size` bytes: at most `size - 1` bytes.
fn cut(mut s: String, size: usize) -> String {
    let max = size.saturating_sub(1);
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// `%.Nf` as C prints it.
fn fixed(prec: usize, v: f64) -> String {
    if v.is_nan() {
        return String::from(if v.is_sign_negative() { "-nan" } else { "nan" });
    }
    if v.is_infinite() {
        return String::from(if v < 0.0 { "-inf" } else { "inf" });
    }
    fixed_exact_integer(prec, v).unwrap_or_else(|| format!("{v:.prec$}"))
}

/// `%.<prec>f` of `v` without the exact decimal expansion, when `v * 10^prec`
/// rounds to an integer `n` below 2^52 (most UPS values: `230`, `13.6`). Then
/// the exact product is within 0.5 of `n`, never at a tie (a tie would be
/// representable, so not rounded to `n`), and `n` is what `printf` prints.
fn fixed_exact_integer(prec: usize, v: f64) -> Option<String> {
    const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];
    let scaled = v * *POW10.get(prec)?;
    if scaled.is_nan() || scaled.abs() >= 4_503_599_627_370_496.0 {
        return None;
    }
    let n = scaled as i64;
    // A fraction left, or -0 (printf keeps the sign of a negative zero).
    if n as f64 != scaled || (n == 0 && v.is_sign_negative()) {
        return None;
    }
    let a = n.unsigned_abs();
    let div = 10u64.pow(u32::try_from(prec).ok()?);
    let sign = if n < 0 { "-" } else { "" };
    Some(if prec == 0 {
        format!("{sign}{a}")
    } else {
        format!("{sign}{}.{:0prec$}", a / div, a % div)
    })
}

/// C's `round`: halves away from zero (no_std has no `f64::round`).
fn round(x: f64) -> f64 {
    if !x.is_finite() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64;
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

fn owned(s: String) -> Option<Cow<'static, str>> {
    Some(Cow::Owned(s))
}

/// Applies a row's `printf` format to a value: the `%f` forms NUT's
/// tables use (`%.0f`, `%.1f`, `%0.1f`, `%.2f`, `%.3f`, and a width such as
/// `%5.1f`). `None` for any other format.
pub fn format_value(fmt: &str, value: f64) -> Option<String> {
    let spec = fmt.strip_prefix('%')?.strip_suffix('f')?;
    let (width, prec) = match spec.split_once('.') {
        Some((w, p)) => (w, p),
        None => (spec, ""),
    };
    let zero = width.starts_with('0');
    let width: usize = if width.is_empty() { 0 } else { width.parse().ok()? };
    let prec: usize = if prec.is_empty() { 6 } else { prec.parse().ok()? };
    if width > 64 || prec > 32 {
        return None;
    }
    let s = fixed(prec, value);
    if s.len() >= width {
        return Some(s);
    }
    let pad = width - s.len();
    if zero && value.is_finite() {
        let (sign, digits) = match s.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", s.as_str()),
        };
        let zeros = width - sign.len() - digits.len();
        return Some(format!("{sign}{}{digits}", "0".repeat(zeros)));
    }
    Some(format!("{}{s}", " ".repeat(pad)))
}

/// C's `atoi`: optional blanks, sign and decimal digits; 0 when none.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -n } else { n }
}

/// `sscanf(s, "%d/%d/%d")` with field widths (4, 2, 2): all three or None.
fn scan_date(s: &str) -> Option<(i64, i64, i64)> {
    fn num(s: &str, width: usize) -> Option<(i64, &str)> {
        let s = s.trim_start();
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, s.get(1..)?),
            Some(b'+') => (false, s.get(1..)?),
            _ => (false, s),
        };
        let max = width.saturating_sub(usize::from(s.len() != body.len()));
        let n = body.bytes().take(max).take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let v: i64 = body.get(..n)?.parse().ok()?;
        Some((if neg { -v } else { v }, body.get(n..)?))
    }
    let (y, rest) = num(s, 4)?;
    let rest = rest.strip_prefix('/')?;
    let (m, rest) = num(rest, 2)?;
    let rest = rest.strip_prefix('/')?;
    let (d, _) = num(rest, 2)?;
    Some((y, m, d))
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) -> days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY/MM/DD HH:MM:SS` into Unix seconds (UTC).
fn parse_datetime(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once(' ')?;
    let mut dp = date.split('/');
    let y: i64 = dp.next()?.trim().parse().ok()?;
    let mo: i64 = dp.next()?.trim().parse().ok()?;
    let d: i64 = dp.next()?.trim().parse().ok()?;
    let mut tp = time.trim().split(':');
    let h: i64 = tp.next()?.trim().parse().ok()?;
    let mi: i64 = tp.next()?.trim().parse().ok()?;
    let se: i64 = tp.next()?.trim().parse().ok()?;
    let ok = (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && (0..=23).contains(&h)
        && (0..=59).contains(&mi)
        && (0..=61).contains(&se)
        && (0..=9999).contains(&y);
    ok.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// The openUPS thermistor table: readings at −40 °C, −35 °C, ... 125 °C.
const THERM: [u32; 34] = [
    0x31, 0x40, 0x53, 0x68, 0x82, 0xA0, 0xC3, 0xE9, 0x113, 0x13F, 0x16E, 0x19F, 0x1CF, 0x200,
    0x22F, 0x25C, 0x286, 0x2AE, 0x2D3, 0x2F4, 0x312, 0x32D, 0x345, 0x35A, 0x36D, 0x37E, 0x38C,
    0x399, 0x3A5, 0x3AF, 0x3B7, 0x3BF, 0x3C6, 0x3CC,
];

fn openups_temperature(value: f64) -> String {
    // C's conversion of the double to unsigned int, for in-range values.
    let t = (value * 100.0).clamp(0.0, f64::from(u32::MAX)) as u32;
    let first = THERM[0];
    let last = THERM[THERM.len() - 1];
    if t <= first {
        return String::from("-40");
    }
    if t >= last {
        return String::from("125");
    }
    let pos = THERM.iter().rposition(|&x| t >= x).unwrap_or(0);
    let (d1, d2) = match (THERM.get(pos), THERM.get(pos + 1)) {
        (Some(a), Some(b)) => (*a, *b),
        _ => return String::from("125"),
    };
    let t1 = pos as i64 * 5 - 40;
    if t == d1 {
        return format!("{t1}");
    }
    let t2 = t1 + 5;
    let temp = f64::from(t - d1) * (t2 - t1) as f64 / f64::from(d2 - d1) + t1 as f64;
    fixed(2, temp)
}

fn ever_report(env: &dyn Env, id: u8) -> Option<&[u8]> {
    env.report(id)
}

impl Conv {
    /// Whether NUT gives this table a forward (HID -> NUT) function.
    pub fn has_forward(self) -> bool {
        !matches!(self, Conv::PowercomStayoffInfo)
    }

    /// Whether NUT gives this table a reverse (NUT -> HID) function.
    pub fn has_reverse(self) -> bool {
        matches!(
            self,
            Conv::DateConversion
                | Conv::ApcDateConversion
                | Conv::MgeDateConversion
                | Conv::MgeTimeConversion
                | Conv::PegasusYesNoInfo
                | Conv::PowercomStartupInfo
                | Conv::PowercomShutdownInfo
                | Conv::PowercomStayoffInfo
        )
    }

    /// Whether the result depends on [`State`] or [`Env`] (not only on
    /// the value).
    pub fn is_stateful(self) -> bool {
        use Conv::*;
        matches!(
            self,
            StringidConversion
                | EatonAbmEnabledInfo
                | EatonAbmStatusInfo
                | EatonAbmChrgDischrgInfo
                | EatonDischargingInfo
                | EatonChargingInfo
                | MgeBatteryVoltageNominal
                | MgeBatteryVoltage
                | PegasusThresholdInfo
                | PegasusYesNoInfo
                | EatonCheckCountryInfo
                | EatonComputeRealpowerInfo
                | NominalOutputVoltageInfo
                | EatonConverterOnlineInfo
                | LiebertConfigVoltageInfo
                | LiebertLineVoltageInfo
                | CpsBattvolt
                | EverMacAddress
                | EverIpAddress
                | EverPackets
                | EverWorkmode
                | EverMessages
                | EverAlarms
                | EverOnOffInfo
                | OpenupsVinInfo
                | OpenupsVoutInfo
                | OpenupsCchargeInfo
                | OpenupsCdischargeInfo
                | TrippliteChemistry
                | TrippliteBattvolt
                | TrippliteIovolt
                | TrippliteIofreq
                | TrippliteIoamp
        )
    }

    /// HID value -> NUT text; `None` means nothing is published.
    pub fn to_nut(self, value: f64, st: &mut State, env: &dyn Env) -> Option<Cow<'static, str>> {
        use Conv::*;
        let v = trunc(value);
        match self {
            DateConversion => {
                if v == 0 {
                    return Some(Cow::Borrowed("not set"));
                }
                let (y, m, d) = (1980 + (v >> 9), (v >> 5) & 0x0f, v & 0x1f);
                owned(cut(format!("{y:04}/{m:02}/{d:02}"), 32))
            }
            HexConversion => owned(cut(format!("{:08x}", v as u64), 20)),
            StringidConversion => {
                let idx = u8::try_from(v).ok()?;
                env.usb_string(idx).map(|s| Cow::Owned(s.to_string()))
            }
            DivideBy10Conversion => owned(cut(fixed(1, value * 0.1), 20)),
            KelvinCelsiusConversion => {
                let c = if (273.0..=373.0).contains(&value) { value - 273.15 } else { value };
                owned(cut(fixed(1, c), 20))
            }
            ApcDateConversion => {
                if v == 0 {
                    return Some(Cow::Borrowed("not set"));
                }
                let digit = |shift: u32| (v >> shift) & 0xf;
                let mut year = digit(0) + 10 * digit(4);
                let month = digit(16) + 10 * digit(20);
                let day = digit(8) + 10 * digit(12);
                year += if year >= 70 { 1900 } else { 2000 };
                owned(cut(format!("{year:04}/{month:02}/{day:02}"), 20))
            }
            EatonAbmEnabledInfo => {
                st.abm = Some(v);
                None
            }
            EatonAbmStatusInfo => {
                if st.abm == Some(0) {
                    return None;
                }
                let s = match v {
                    1 => "charging",
                    2 => "discharging",
                    3 => "floating",
                    4 => "resting",
                    6 => "off",
                    _ => return None,
                };
                Some(Cow::Borrowed(s))
            }
            EatonAbmChrgDischrgInfo => {
                if st.abm == Some(0) {
                    return None;
                }
                match v {
                    1 | 3 => Some(Cow::Borrowed("chrg")),
                    2 => Some(Cow::Borrowed("dischrg")),
                    _ => None,
                }
            }
            EatonDischargingInfo => flag(st.abm == Some(0) && value == 1.0, "dischrg", "!dischrg"),
            EatonChargingInfo => flag(st.abm == Some(0) && value == 1.0, "chrg", "!chrg"),
            MgeDateConversion | MgeTimeConversion => {
                let days = v.div_euclid(86_400);
                let secs = v.rem_euclid(86_400);
                if self == MgeTimeConversion {
                    return owned(format!(
                        "{:02}:{:02}:{:02}",
                        secs / 3600,
                        (secs / 60) % 60,
                        secs % 60
                    ));
                }
                let (y, m, d) = civil_from_days(days);
                let s = format!("{y:04}/{m:02}/{d:02}");
                (s.len() == 10).then_some(Cow::Owned(s))
            }
            MgeBatteryVoltageNominal => {
                use super::mge::model_type as t;
                let fam = st.mge_type & 0xff00;
                let value = if fam == t::EVOLUTION {
                    if st.mge_type == t::EVOLUTION_650 { 12.0 } else { value }
                } else if fam == t::PULSAR_M || fam == t::EATON_5P {
                    value
                } else {
                    return None;
                };
                owned(cut(fixed(0, value), 20))
            }
            MgeBatteryVoltage => {
                use super::mge::model_type as t;
                let fam = st.mge_type & 0xff00;
                (fam == t::EVOLUTION || fam == t::PULSAR_M || fam == t::EATON_5P)
                    .then(|| Cow::Owned(cut(fixed(1, value), 20)))
            }
            MgePowerfactorConversion => owned(cut(fixed(2, value / 100.0), 20)),
            MgeBatteryCapacity => owned(cut(fixed(2, value / 3600.0), 20)),
            PegasusThresholdInfo => pegasus_ok(st).then(|| Cow::Owned(cut(fixed(0, value), 20))),
            PegasusYesNoInfo => {
                if !pegasus_ok(st) {
                    return None;
                }
                Some(Cow::Borrowed(if value == 0.0 { "no" } else { "yes" }))
            }
            EatonCheckCountryInfo => {
                st.country = Some(v);
                None
            }
            EatonComputeRealpowerInfo => {
                let load = atoi(env.var("ups.load")?);
                let nominal = atoi(env.var("ups.power.nominal")?);
                let pf = env.var("output.powerfactor").map_or(0.80, |s| atoi(s) as f64);
                let real = round(load as f64 * 0.01 * nominal as f64 * pf);
                owned(cut(fixed(0, real), 20))
            }
            NominalOutputVoltageInfo => nominal_output_voltage(value, st),
            EatonConverterOnlineInfo => {
                if env.status_off() {
                    None
                } else {
                    flag(value != 0.0, "online", "!online")
                }
            }
            LiebertOnlineInfo => flag(value != 0.0, "online", "!online"),
            LiebertDischargingInfo => flag(value != 0.0, "dischrg", "!dischrg"),
            LiebertChargingInfo => flag(value != 0.0, "chrg", "!chrg"),
            LiebertLowbattInfo => flag(value != 0.0, "lowbatt", "!lowbatt"),
            LiebertReplacebattInfo => flag(value != 0.0, "replacebatt", "!replacebatt"),
            LiebertShutdownimmInfo => flag(value != 0.0, "shutdownimm", "!shutdownimm"),
            LiebertConfigVoltageInfo => {
                if value < 1.0 && (value - 1e-7).abs() < 1e-9 {
                    st.liebert_config_mult = 1e8;
                    st.liebert_line_mult = 1e7;
                }
                owned(cut(fixed(1, value * st.liebert_config_mult), 10))
            }
            LiebertLineVoltageInfo => {
                if value < 1.0 && (value - 1e-7).abs() < 1e-9 {
                    st.liebert_line_mult = 1e7;
                }
                owned(cut(fixed(1, value * st.liebert_line_mult), 10))
            }
            BelkinFirmwareConversion => owned(cut(format!("{}", v >> 4), 20)),
            BelkinUpstypeConversion => Some(Cow::Borrowed(match v & 0x0f {
                1 => "offline",
                2 => "line-interactive",
                3 => "simple online",
                4 => "simple offline",
                5 => "simple line-interactive",
                _ => "online",
            })),
            BelkinSensitivityConversion => Some(Cow::Borrowed(match v {
                1 => "reduced",
                2 => "low",
                _ => "normal",
            })),
            BelkinOverloadConversion => flag(v & 0x0010 != 0, "overload", "!overload"),
            BelkinOverheatConversion => flag(v & 0x0040 != 0, "overheat", "!overheat"),
            BelkinCommfaultConversion => flag(v & 0x0080 != 0, "commfault", "!commfault"),
            BelkinAwaitingpowerConversion => {
                flag(v & 0x2000 != 0, "awaitingpower", "!awaitingpower")
            }
            BelkinOnlineConversion => flag(v & 0x0001 == 0, "online", "!online"),
            BelkinLowbattConversion => flag(v & 0x0004 != 0, "lowbatt", "!lowbatt"),
            BelkinDepletedConversion => flag(v & 0x0040 != 0, "depleted", "!depleted"),
            BelkinReplacebattConversion => flag(v & 0x0080 != 0, "replacebatt", "!replacebatt"),
            CpsBattvolt => {
                if st.cps_check_pending {
                    let nominal = env
                        .var("battery.voltage.nominal")
                        .and_then(|s| s.trim().parse::<f64>().ok());
                    if let Some(n) = nominal.filter(|n| *n != 0.0) {
                        if value / n > 1.4 {
                            st.cps_battery_scale = 2.0 / 3.0;
                        }
                        st.cps_check_pending = false;
                    }
                }
                owned(cut(fixed(1, st.cps_battery_scale * value), 8))
            }
            CpsBattcharge => owned(cut(fixed(0, value.min(100.0)), 8)),
            DeltaUpsTypeInfo => {
                let mut t = v & 0xf;
                if t == 6 {
                    t = 4;
                } else if 2 < t && t <= 5 {
                    t -= 2;
                }
                const TYPES: [&str; 5] =
                    ["online", "offline", "line-interactive", "3-phase", "split-phase"];
                usize::try_from(t).ok().and_then(|i| TYPES.get(i)).map(|s| Cow::Borrowed(*s))
            }
            EverFormatHardware => {
                let u = v as u32;
                let idx = ((u & 0xff00) >> 8) as usize;
                const REV: &str = "0ABCDEFGHIJKLMNOPQRSTUVWXYZ";
                let letter = REV.get(idx..=idx)?;
                owned(cut(format!("rev.{letter}v{:02}", u & 0xff), 10))
            }
            EverFormatVersion => {
                let u = v as u32;
                owned(cut(
                    format!(
                        "v{:X}.{:X}b{:02}",
                        (u & 0xf000) >> 12,
                        (u & 0xf00) >> 8,
                        (v as i32) & 0xff
                    ),
                    10,
                ))
            }
            EverMacAddress => {
                let buf = ever_report(env, 210)?;
                let parts: Vec<String> = buf.iter().skip(1).map(|b| format!("{b:02x}")).collect();
                owned(cut(parts.join(":"), 100))
            }
            EverIpAddress => {
                const IDS: [u8; 4] = [211, 230, 231, 232];
                let id = IDS[usize::from(st.ever_ip_turn % 4)];
                st.ever_ip_turn = (st.ever_ip_turn + 1) % 4;
                let buf = ever_report(env, id)?;
                let parts: Vec<String> = buf.iter().skip(1).map(|b| format!("{b}")).collect();
                owned(cut(parts.join("."), 100))
            }
            EverPackets => {
                let id = 215 + st.ever_packets_turn % 4;
                st.ever_packets_turn = (st.ever_packets_turn + 1) % 4;
                let buf = ever_report(env, id)?;
                match buf.get(1..5) {
                    Some(&[a, b, c, d]) if buf.len() >= 5 => {
                        owned(format!("{}", i32::from_le_bytes([a, b, c, d])))
                    }
                    _ => Some(Cow::Borrowed("")),
                }
            }
            EverWorkmode => {
                let mode = *ever_report(env, 74)?.get(1)?;
                Some(Cow::Borrowed(match mode {
                    2 => "STOP",
                    4 => "ONLINE",
                    8 => "ONBATTERY",
                    16 => "WATCH",
                    32 => "WAITING",
                    64 => "EMERGENCY",
                    _ => "UNKNOWN",
                }))
            }
            EverMessages => {
                let buf = ever_report(env, 75)?;
                let m = u16::from(*buf.get(1)?) | (u16::from(*buf.get(2)?) << 8);
                const NAMES: [(u16, &str); 10] = [
                    (0x04, "BOOST"),
                    (0x08, "BUCK"),
                    (0x10, "BOOST_BLOCKED"),
                    (0x20, "BUCK_BLOCKED"),
                    (0x40, "CHARGING"),
                    (0x80, "FAN_ON"),
                    (0x100, "EPO_BLOCKED"),
                    (0x200, "NEED_REPLACMENT"),
                    (0xc00, "OVERHEAT"),
                    (0x1000, "WAITING_FOR_MIN_CHARGE"),
                ];
                let mut words: Vec<&str> =
                    NAMES.iter().filter(|(b, _)| m & b != 0).map(|(_, n)| *n).collect();
                if m & 0x2000 != 0 {
                    words.push("MAINS_OUT_OF_RANGE");
                }
                owned(cut(words.join(" "), 200))
            }
            EverAlarms => {
                let buf = ever_report(env, 76)?;
                let a = u16::from(*buf.get(1)?) | (u16::from(*buf.get(2)?) << 8);
                const NAMES: [(u16, &str); 8] = [
                    (0x01, "OVERLOAD"),
                    (0x02, "SHORT-CIRCUIT"),
                    (0x0c, "OVERHEAT"),
                    (0x10, "EPO"),
                    (0x20, "INERNAL_ERROR"),
                    (0x40, "REVERSE_POWER_SUPPLY"),
                    (0x80, "NO_INETERNAL_COMM"),
                    (0x100, "CRITICAL_BATT_VOLTAGE"),
                ];
                let words: Vec<&str> =
                    NAMES.iter().filter(|(b, _)| a & b != 0).map(|(_, n)| *n).collect();
                owned(cut(words.join(" "), 200))
            }
            EverOnOffInfo => {
                let mode = *ever_report(env, 74)?.get(1)?;
                flag(mode != 4 && mode != 8, "off", "!off")
            }
            LegrandTimes10Info => owned(cut(fixed(1, value * 10.0), 20)),
            LegrandTimes100kInfo => owned(cut(fixed(1, value * 100_000.0), 20)),
            LegrandTimes1MInfo => owned(cut(fixed(1, value * 1_000_000.0), 20)),
            LegrandTimes10MInfo => owned(cut(fixed(1, value * 10_000_000.0), 20)),
            OpenupsChargingInfo => flag(value != 0.0, "chrg", "!chrg"),
            OpenupsDischargingInfo => flag(value != 0.0, "dischrg", "!dischrg"),
            OpenupsOnlineInfo => flag(value != 0.0, "online", "!online"),
            OpenupsNobatteryInfo => flag(value != 0.0, "nobattery", "!nobattery"),
            OpenupsOffInfo => flag(value == 0.0, "off", "!off"),
            OpenupsVinInfo => owned(cut(fixed(2, value * st.openups_vin), 20)),
            OpenupsVoutInfo => owned(cut(fixed(2, value * st.openups_vout), 20)),
            OpenupsCchargeInfo => owned(cut(fixed(3, value * st.openups_ccharge), 20)),
            OpenupsCdischargeInfo => owned(cut(fixed(3, value * st.openups_cdischarge), 20)),
            OpenupsTemperatureInfo => owned(cut(openups_temperature(value), 20)),
            PowercomStartupInfo => {
                let i = i64::from(v as u16);
                owned(format!("{}", 60 * (((i & 0x00ff) << 8) + (i >> 8))))
            }
            PowercomShutdownInfo => {
                let i = i64::from(v as u16);
                owned(format!("{}", 60 * (i & 0x00ff) + (i >> 8)))
            }
            PowercomStayoffInfo => None,
            PowercomVoltageConversion => owned(cut(fixed(0, value * 4.0), 20)),
            PowercomUpsfailConversion => flag(v & 0x0001 != 0, "fanfail", "!fanfail"),
            PowercomReplacebattConversion => flag(v & 0x0002 != 0, "replacebatt", "!replacebatt"),
            PowercomTestConversion => flag(v & 0x0004 != 0, "cal", "!cal"),
            PowercomShutdownimmConversion => flag(v & 0x0010 != 0, "shutdownimm", "!shutdownimm"),
            PowercomOnlineConversion => flag(v & 0x0001 == 0, "online", "!online"),
            PowercomLowbattConversion => flag(v & 0x0002 != 0, "lowbatt", "!lowbatt"),
            PowercomTrimConversion => flag(v & 0x0018 == 0x0008, "trim", "!trim"),
            PowercomBoostConversion => flag(v & 0x0018 == 0x0018, "boost", "!boost"),
            PowercomOverloadConversion => flag(v & 0x0020 != 0, "overload", "!overload"),
            TrippliteChemistry => {
                if matches!(env.var("ups.productid"), Some("1003" | "2005")) {
                    return Some(Cow::Borrowed("unknown"));
                }
                let idx = u8::try_from(v).ok()?;
                env.usb_string(idx).map(|s| Cow::Owned(s.to_string()))
            }
            TrippliteBattvolt => owned(cut(fixed(1, st.tl_battery * value), 8)),
            TrippliteIovolt => owned(cut(fixed(1, st.tl_voltage * value), 8)),
            TrippliteIofreq => owned(cut(fixed(1, st.tl_frequency * value), 8)),
            TrippliteIoamp => owned(cut(fixed(1, st.tl_current * value), 8)),
        }
    }

    /// NUT text -> HID value, for the tables with a reverse function.
    ///
    /// Like NUT, a date out of range gives 0 (which NUT then writes);
    /// text that does not parse at all gives `None`. An empty text for the
    /// PowerCOM delays means "use `ups.delay.start` / `ups.delay.shutdown`"
    /// (NUT's behaviour for a command without a value).
    pub fn to_hid(self, text: &str, st: &State, env: &dyn Env) -> Option<f64> {
        use Conv::*;
        match self {
            DateConversion => {
                let (y, m, d) = scan_date(text)?;
                if y - 1980 > 127 || m > 12 || d > 31 {
                    return Some(0.0);
                }
                Some(((y - 1980) * 512 + m * 32 + d) as f64)
            }
            ApcDateConversion => {
                let (y, m, d) = scan_date(text)?;
                if y >= 2070 || m > 12 || d > 31 {
                    return Some(0.0);
                }
                let y = y % 100;
                let date = (((y / 10) & 0x0f) << 4)
                    + (y % 10)
                    + (((m / 10) & 0x0f) << 20)
                    + ((m % 10) << 16)
                    + (((d / 10) & 0x0f) << 12)
                    + ((d % 10) << 8);
                Some(date as f64)
            }
            MgeDateConversion => {
                let time = env.var("ups.time").unwrap_or("(null)");
                Some(parse_datetime(&format!("{text} {time}")).unwrap_or(0) as f64)
            }
            MgeTimeConversion => {
                let date = env.var("ups.date").unwrap_or("(null)");
                Some(parse_datetime(&format!("{date} {text}")).unwrap_or(0) as f64)
            }
            PegasusYesNoInfo => {
                if !pegasus_ok(st) {
                    return Some(0.0);
                }
                Some(if text.starts_with("yes") { 1.0 } else { 0.0 })
            }
            PowercomStartupInfo => {
                let src =
                    if text.is_empty() { env.var("ups.delay.start").unwrap_or("") } else { text };
                let iv = atoi(src) / 60;
                let Ok(val) = u16::try_from(iv) else {
                    return Some(0.0);
                };
                Some(f64::from(val.swap_bytes()))
            }
            PowercomShutdownInfo | PowercomStayoffInfo => {
                let src = if text.is_empty() {
                    env.var("ups.delay.shutdown").unwrap_or("")
                } else {
                    text
                };
                let Ok(val) = u16::try_from(atoi(src)) else {
                    return Some(0.0);
                };
                let val = if val == 0 { 1 } else { val };
                let mut cmd = ((val % 60) << 8) + val / 60;
                cmd |= if self == PowercomShutdownInfo { 0x4000 } else { 0x8000 };
                Some(f64::from(cmd))
            }
            _ => None,
        }
    }
}

/// Eco-mode items: NUT 2.8.0 tests the family byte (`type & 0xff00`)
/// against Pegasus (0x100). The 3S code 0x110 has the same family byte, so
/// 3S units pass too, whatever the country: the "non-European 3S only" case
/// in NUT's switch can never be reached.
fn pegasus_ok(st: &State) -> bool {
    st.mge_type & 0xff00 == super::mge::model_type::PEGASUS
}

fn nominal_output_voltage(value: f64, st: &mut State) -> Option<Cow<'static, str>> {
    use super::mge::model_type as t;
    let v = trunc(value);
    let nominal = *st.mge_nominal_output.get_or_insert(v);
    let online_capable = st.mge_type & 0xff00 >= t::DEFAULT;
    let ok = match nominal {
        100 | 110 | 120 | 127 => matches!(v, 100 | 110 | 120 | 127),
        200 | 208 => match v {
            200 | 208 => true,
            220 | 230 | 240 => online_capable,
            _ => false,
        },
        220 | 230 | 240 => match v {
            200 | 208 => online_capable,
            220 | 230 | 240 => true,
            _ => false,
        },
        _ => true,
    };
    ok.then(|| Cow::Owned(cut(fixed(0, value), 20)))
}
