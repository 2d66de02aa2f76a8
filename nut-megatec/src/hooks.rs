//! The `preprocess` hooks of NUT's BestUPS, Voltronic, Ablerex and
//! Masterguard (2.8.0) and OMRON and Voltronic-Axpert (later, in
//! [`axpert`]) nutdrv_qx subdrivers that need
//! more than their field: the driver's run-time state (capabilities, limits
//! filled from answers, items unskipped by other answers, Masterguard's
//! model, cell count and slave address) or the whole answer; and the
//! filters that decide which allowed values of a writable variable are
//! offered.

use crate::item::{self, Arg, Hook, Item, RwHook, flags, printf, strtod, strtol};
use crate::state::{HookOut, State};

pub(crate) mod axpert;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use nut_proto::publish::Publish;

/// Voltronic capability options (the NONUT items of `QFLAG`): name and the
/// flag letter of the answer.
const VOLTRONIC_CAPS: [(&str, u8); 12] = [
    ("bypass_alarm", b'p'),
    ("battery_alarm", b'b'),
    ("bypass_when_off", b'o'),
    ("alarm_control", b'a'),
    ("converter_mode", b'v'),
    ("eco_mode", b'e'),
    ("battery_open_status_check", b'd'),
    ("bypass_forbidding", b'f'),
    ("site_fault_detection", b'l'),
    ("advanced_eco_mode", b'n'),
    ("constant_phase_angle", b'q'),
    ("limited_runtime_on_battery", b'w'),
];

/// Voltronic capabilities that are NUT variables: name and flag letter.
const VOLTRONIC_NUT_CAPS: [(&str, u8); 5] = [
    ("ups.start.auto", b'r'),
    ("battery.protection", b's'),
    ("battery.energysave", b'g'),
    ("ups.start.battery", b'c'),
    ("outlet.0.switchable", b'j'),
];

/// Voltronic `QWS` warning bits (0-based) with their text and the status
/// bit they set (`voltronic_warning`).
const VOLTRONIC_WARNINGS: [(usize, &str, &str); 59] = [
    (0, "Battery disconnected.", ""),
    (1, "Neutral not connected.", ""),
    (2, "Site fault.", ""),
    (3, "Phase sequence incorrect.", ""),
    (4, "Phase sequence incorrect in bypass.", ""),
    (5, "Input frequency unstable in bypass.", ""),
    (6, "Battery overcharged.", ""),
    (7, "Low battery.", "LB"),
    (8, "Overload alarm.", "OVER"),
    (9, "Fan alarm.", ""),
    (10, "EPO enabled.", ""),
    (11, "Unable to turn on UPS.", ""),
    (12, "Over temperature alarm.", ""),
    (13, "Charger alarm.", ""),
    (14, "Remote auto shutdown.", ""),
    (15, "L1 input fuse not working.", ""),
    (16, "L2 input fuse not working.", ""),
    (17, "L3 input fuse not working.", ""),
    (18, "Positive PFC abnormal in L1.", ""),
    (19, "Negative PFC abnormal in L1.", ""),
    (20, "Positive PFC abnormal in L2.", ""),
    (21, "Negative PFC abnormal in L2.", ""),
    (22, "Positive PFC abnormal in L3.", ""),
    (23, "Negative PFC abnormal in L3.", ""),
    (24, "Abnormal in CAN-bus communication.", ""),
    (25, "Abnormal in synchronous signal circuit.", ""),
    (26, "Abnormal in synchronous pulse signal circuit.", ""),
    (27, "Abnormal in host signal circuit.", ""),
    (28, "Male connector of parallel cable not connected well.", ""),
    (29, "Female connector of parallel cable not connected well.", ""),
    (30, "Parallel cable not connected well.", ""),
    (31, "Battery connection not consistent in parallel systems.", ""),
    (32, "AC connection not consistent in parallel systems.", ""),
    (33, "Bypass connection not consistent in parallel systems.", ""),
    (34, "UPS model types not consistent in parallel systems.", ""),
    (35, "Capacity of UPSes not consistent in parallel systems.", ""),
    (36, "Auto restart setting not consistent in parallel systems.", ""),
    (37, "Battery cell over charge.", ""),
    (38, "Battery protection setting not consistent in parallel systems.", ""),
    (39, "Battery detection setting not consistent in parallel systems.", ""),
    (40, "Bypass not allowed setting not consistent in parallel systems.", ""),
    (41, "Converter setting not consistent in parallel systems.", ""),
    (42, "High loss point for frequency in bypass mode not consistent in parallel systems.", ""),
    (43, "Low loss point for frequency in bypass mode not consistent in parallel systems.", ""),
    (44, "High loss point for voltage in bypass mode not consistent in parallel systems.", ""),
    (45, "Low loss point for voltage in bypass mode not consistent in parallel systems.", ""),
    (46, "High loss point for frequency in AC mode not consistent in parallel systems.", ""),
    (47, "Low loss point for frequency in AC mode not consistent in parallel systems.", ""),
    (48, "High loss point for voltage in AC mode not consistent in parallel systems.", ""),
    (49, "Low loss point for voltage in AC mode not consistent in parallel systems.", ""),
    (50, "Warning for locking in bypass mode after 3 consecutive overloads within 30 min.", ""),
    (51, "Warning for three-phase AC input current unbalance.", ""),
    (52, "Warning for a three-phase input current unbalance detected in battery mode.", ""),
    (53, "Warning for Inverter inter-current unbalance.", ""),
    (54, "Programmable outlets cut off pre-alarm.", ""),
    (55, "Warning for Battery replace.", "RB"),
    (56, "Abnormal warning on input phase angle.", ""),
    (57, "Warning!! Cover of maintain switch is open.", ""),
    (61, "EEPROM operation error.", ""),
];

/// NUT's `ST_MAX_VALUE_LEN`: longer warning texts are given as bit numbers.
pub(crate) const ST_MAX_VALUE_LEN: usize = 256;

/// The warning list of NUT's `voltronic_warning` (and of its Voltronic-Axpert
/// copy): the texts `table` gives the set bits of `bits` (`'1'`), each known
/// bit also handed to `known` with its status token; spelled out when short
/// enough to leave room for other alarms in a value (`ST_MAX_VALUE_LEN`),
/// else by bit number; unknown bits by number. `None` when no bit is set.
pub(crate) fn warning_list(
    bits: &[u8],
    table: &[(usize, &'static str, &'static str)],
    mut known: impl FnMut(usize, &'static str),
) -> Option<String> {
    let (mut warns, mut bitwarns, mut unk) = (String::new(), String::new(), String::new());
    for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b == b'1') {
        let Some(&(_, text, status)) = table.iter().find(|(n, _, _)| *n == i) else {
            unk.push_str(&alloc::format!(", #{:02}", i + 1));
            continue;
        };
        known(i, status);
        if warns.is_empty() {
            bitwarns = alloc::format!("Known (see log or manual) [bit: #{:02}", i + 1);
            warns.push_str(text);
        } else {
            bitwarns.push_str(&alloc::format!(", #{:02}", i + 1));
            warns.push(' ');
            warns.push_str(text);
        }
    }
    let unk = unk.strip_prefix(',').unwrap_or("");
    if !warns.is_empty() {
        if unk.is_empty() {
            bitwarns.push(']');
        } else {
            warns.push_str(&alloc::format!(" Unknown warnings [bit:{unk}]"));
            bitwarns.push_str(&alloc::format!("]; Unknown warnings [bit:{unk}]"));
        }
    } else if !unk.is_empty() {
        warns = alloc::format!("Unknown warnings [bit:{unk}]");
        bitwarns.clone_from(&warns);
    } else {
        return None;
    }
    Some(if warns.len() < ST_MAX_VALUE_LEN - 32 { warns } else { bitwarns })
}

/// BestUPS `M` voltage settings: low, boost, nominal, buck, high; rows 0-9
/// for U models, 10-19 for E models (`bestups_voltage_settings`).
const BESTUPS_VOLTAGES: [[i64; 5]; 20] = [
    [96, 109, 120, 130, 146],
    [96, 109, 120, 138, 156],
    [90, 104, 120, 130, 146],
    [90, 104, 120, 138, 156],
    [90, 104, 110, 120, 130],
    [90, 104, 110, 130, 146],
    [90, 96, 110, 120, 130],
    [90, 96, 110, 130, 146],
    [96, 109, 128, 146, 156],
    [90, 104, 128, 146, 156],
    [200, 222, 240, 250, 284],
    [200, 222, 240, 264, 290],
    [188, 210, 240, 250, 284],
    [188, 210, 240, 264, 290],
    [188, 210, 230, 244, 270],
    [188, 210, 230, 250, 284],
    [180, 200, 230, 244, 270],
    [180, 200, 230, 250, 284],
    [165, 188, 208, 222, 244],
    [165, 188, 208, 244, 270],
];

/// The run-time values NUT's BestUPS, Voltronic, Ablerex, Masterguard and
/// Voltronic-Axpert subdrivers keep in globals.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    /// Voltronic capability options (`alarm_control` ...): `enabled` or
    /// `disabled`, once read.
    caps: Vec<(&'static str, &'static str)>,
    /// Allowed values filled at run time (Voltronic ECO voltage limits),
    /// by variable.
    rw: Vec<(&'static str, Vec<String>)>,
    max_bypass_volt: f64,
    min_bypass_volt: f64,
    max_bypass_freq: f64,
    min_bypass_freq: f64,
    battery_number: i64,
    output_phase_angle: i64,
    work_range_type: i64,
    pins_shutdown_mode: i64,
    /// Ablerex `Q5`: battery voltage and cut-off voltage (hundredths of
    /// the nominal per 12 V), -1 until read.
    ablerex_vb: Option<i64>,
    ablerex_vbc: Option<i64>,
    /// What the Masterguard hooks keep between answers.
    mg: Masterguard,
    /// What the Voltronic-Axpert hooks keep between answers.
    ax: axpert::Axpert,
}

/// Masterguard's run-time values (globals of NUT's subdriver).
#[derive(Clone, Debug)]
struct Masterguard {
    /// The series letter (`A` or `E`), once read.
    series: Option<u8>,
    /// The slave address the `,XX` queries carry (`??` until read).
    slaveaddr: [u8; 2],
    /// The address an `ups.id` setting switches to once it is sent.
    next_slaveaddr: i64,
    /// The power rating in W (for `ups.power` and the output currents).
    power: i64,
    /// Battery cells in series (cell voltage to battery voltage).
    numcells: i64,
    /// The range of `battery.packs`, which depends on the model.
    batpacks: (i64, i64),
    /// The nominal output voltages the unit offers (`MSO`): the values of
    /// `output.voltage.nominal`.
    outvolts: Vec<String>,
}

impl Default for Masterguard {
    fn default() -> Self {
        Masterguard {
            series: None,
            slaveaddr: *b"??",
            next_slaveaddr: 0,
            power: 0,
            numcells: 0,
            batpacks: (0, 9),
            outvolts: Vec::new(),
        }
    }
}

impl Extra {
    fn cap(&self, name: &str) -> Option<&'static str> {
        self.caps.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    fn set_cap(&mut self, name: &'static str, v: &'static str) {
        self.caps.retain(|(n, _)| *n != name);
        self.caps.push((name, v));
    }

    fn set_rw(&mut self, var: &'static str, values: Vec<String>) {
        self.rw.retain(|(n, _)| *n != var);
        self.rw.push((var, values));
    }

    fn rw(&self, var: &str) -> Option<&[String]> {
        self.rw.iter().find(|(n, _)| n.eq_ignore_ascii_case(var)).map(|(_, v)| v.as_slice())
    }
}

/// Whether `v` holds only bytes of `set` (C `strspn(v, set) == strlen(v)`).
fn only(v: &[u8], set: &[u8]) -> bool {
    v.iter().all(|b| set.contains(b))
}

/// The protocol number of `ups.firmware.aux` (`P01` -> 1), as Voltronic's
/// hooks read it.
fn voltronic_protocol_number(p: &dyn Publish) -> Option<i64> {
    p.getinfo("ups.firmware.aux").map(|s| strtol(s.get(1..).unwrap_or("")))
}

impl State {
    /// The allowed values of `it` offered now (NUT runs each value's filter
    /// at the time it lists them), or those filled at run time.
    pub(crate) fn rw_values(&self, it: &Item, p: &dyn Publish) -> Vec<String> {
        if let Some(v) = self.masterguard_rw_values(it) {
            return v;
        }
        if let Some(v) = self.extra.ax_rw(it.var) {
            return v.iter().take_while(|x| !x.is_empty()).cloned().collect();
        }
        if it.info_rw.is_empty() {
            return self.extra.rw(it.var).map(<[String]>::to_vec).unwrap_or_default();
        }
        it.info_rw
            .iter()
            .filter(|v| {
                self.axpert_rw_offered(v.filter, v.value, p)
                    .unwrap_or_else(|| rw_offered(v.filter, v.value, p))
            })
            .map(|v| v.value.to_string())
            .collect()
    }

    /// The hooks of this module; `Unsupported` for any other.
    pub(crate) fn run_hook_extra(
        &mut self,
        item: &'static Item,
        field: &[u8],
        p: &mut dyn Publish,
    ) -> HookOut {
        let v = String::from_utf8_lossy(field);
        let v: &str = &v;
        let dfl = item.dfl.unwrap_or("%s");
        let out = |s: String| HookOut::Value(s);
        match item.pre {
            Hook::BestupsManufacturer => {
                let mfr = match v {
                    "AX1" | "FOR" | "FTC" | "PR2" | "PRO" => "Best Power",
                    "325" | "520" | "620" => "Sola Australia",
                    _ => "Unknown",
                };
                out(printf(dfl, &[Arg::S(mfr)]))
            }
            Hook::BestupsBattRuntime => {
                if !item::is_numeric(field) {
                    return HookOut::Refused;
                }
                out(printf(dfl, &[Arg::F(strtod(v) * 60.0)]))
            }
            Hook::BestupsBattPacks => {
                if !only(field, b"0123456789 ") {
                    return HookOut::Refused;
                }
                let s = printf(dfl, &[Arg::I(strtol(v))]);
                if !self.unskip(item.var, flags::SETVAR, 0) {
                    return HookOut::Refused;
                }
                out(s)
            }
            Hook::BestupsGetPinsShutdownMode => {
                if !only(field, b"0123456789") {
                    return HookOut::Refused;
                }
                let l = strtol(v);
                if l > i64::from(i32::MAX) {
                    return HookOut::Refused;
                }
                self.extra.pins_shutdown_mode = l;
                // Only a `pins_shutdown_mode` setting in ups.conf would
                // unskip the setter; this crate takes none.
                out(printf(dfl, &[Arg::I(l)]))
            }
            Hook::BestupsVoltageSettings => {
                if !only(field, b"0123456789") {
                    return HookOut::Refused;
                }
                let index = strtol(v);
                if !(0..=9).contains(&index) {
                    return HookOut::Refused;
                }
                let Some(nominal) = p
                    .getinfo("input.voltage.nominal")
                    .or_else(|| p.getinfo("output.voltage.nominal"))
                    .map(strtol)
                else {
                    return HookOut::Refused;
                };
                let row = usize::try_from(index).unwrap_or(0) + if nominal > 160 { 10 } else { 0 };
                let Some(r) = BESTUPS_VOLTAGES.get(row) else { return HookOut::Refused };
                let var = item.var.to_ascii_lowercase();
                let col = match var.as_str() {
                    "input.transfer.low" | "input.transfer.boost.low" => 0,
                    "input.transfer.boost.high" => 1,
                    "input.voltage.nominal" | "output.voltage.nominal" => 2,
                    "input.transfer.trim.low" => 3,
                    "input.transfer.trim.high" | "input.transfer.high" => 4,
                    _ => return HookOut::Refused,
                };
                out(printf(dfl, &[Arg::I(r.get(col).copied().unwrap_or(0))]))
            }
            Hook::BestupsProcessSetvar => {
                if v.is_empty() {
                    return HookOut::Refused;
                }
                let val = strtod(v);
                if item.var.eq_ignore_ascii_case("pins_shutdown_mode")
                    && (val - self.extra.pins_shutdown_mode as f64).abs() < 1e-9
                {
                    return HookOut::Refused;
                }
                out(printf(item.command, &[Arg::F(val)]))
            }
            Hook::VoltronicProcessSetvar => self.voltronic_setvar(item, v),
            Hook::VoltronicProcessCommand => self.voltronic_command(item, v, p),
            Hook::VoltronicCapability => self.voltronic_capability(item, field, p),
            Hook::VoltronicCapabilitySet => {
                if v.eq_ignore_ascii_case("yes") {
                    out(printf(item.command, &[Arg::S("E")]))
                } else if v.eq_ignore_ascii_case("no") {
                    out(printf(item.command, &[Arg::S("D")]))
                } else {
                    HookOut::Refused
                }
            }
            Hook::VoltronicCapabilitySetNonut => {
                let Some(current) = self.extra.cap(item.var) else { return HookOut::Refused };
                if v.eq_ignore_ascii_case(current) {
                    HookOut::Refused
                } else if v.eq_ignore_ascii_case("disabled") {
                    out(printf(item.command, &[Arg::S("D")]))
                } else if v.eq_ignore_ascii_case("enabled") {
                    out(printf(item.command, &[Arg::S("E")]))
                } else {
                    HookOut::Refused
                }
            }
            // Only with `reset_to_default` in ups.conf, which this crate
            // does not take.
            Hook::VoltronicCapabilityReset => HookOut::Refused,
            Hook::VoltronicEcoVolt => self.voltronic_eco_volt(item, field, p),
            Hook::VoltronicEcoVoltRange => {
                let var = item.var.to_ascii_lowercase();
                let (base, i) = match var.as_str() {
                    "input.transfer.low.min" => ("input.transfer.low", 0),
                    "input.transfer.low.max" => ("input.transfer.low", 1),
                    "input.transfer.high.min" => ("input.transfer.high", 0),
                    "input.transfer.high.max" => ("input.transfer.high", 1),
                    _ => return HookOut::Refused,
                };
                match self.extra.rw(base).and_then(|r| r.get(i)).filter(|s| !s.is_empty()) {
                    Some(s) => out(s.clone()),
                    None => HookOut::Refused,
                }
            }
            Hook::VoltronicEcoFreq => {
                if !item::is_numeric(field) {
                    return HookOut::Refused;
                }
                let s = printf(dfl, &[Arg::F(strtod(v))]);
                if !self.unskip(item.var, flags::SETVAR, 0) {
                    return HookOut::Refused;
                }
                out(s)
            }
            Hook::VoltronicBypass => {
                if !item::is_numeric(field) {
                    return HookOut::Refused;
                }
                let var = item.var.to_ascii_lowercase();
                let val = match var.as_str() {
                    "max_bypass_volt" => {
                        self.extra.max_bypass_volt = strtol(v) as f64;
                        self.extra.max_bypass_volt
                    }
                    "min_bypass_volt" => {
                        self.extra.min_bypass_volt = strtol(v) as f64;
                        self.extra.min_bypass_volt
                    }
                    "max_bypass_freq" => {
                        self.extra.max_bypass_freq = strtod(v);
                        self.extra.max_bypass_freq
                    }
                    "min_bypass_freq" => {
                        self.extra.min_bypass_freq = strtod(v);
                        self.extra.min_bypass_freq
                    }
                    _ => return HookOut::Refused,
                };
                out(printf(dfl, &[Arg::F(val)]))
            }
            Hook::VoltronicBattNumb => {
                if !item::is_numeric(field) {
                    return HookOut::Refused;
                }
                let n = strtol(v);
                if n > i64::from(i32::MAX) {
                    return HookOut::Refused;
                }
                self.extra.battery_number = n;
                out(printf(dfl, &[Arg::I(n)]))
            }
            Hook::VoltronicOutlet => {
                let (switchable, status) = match field.first() {
                    Some(b'1') => ("yes", "on"),
                    Some(b'0') => ("yes", "off"),
                    _ => return HookOut::Refused,
                };
                let s = if item.var.contains("switchable") {
                    printf(dfl, &[Arg::S(switchable)])
                } else if item.var.contains("status") {
                    printf(dfl, &[Arg::S(status)])
                } else {
                    return HookOut::Refused;
                };
                let n = item.var.get(7..8).unwrap_or("");
                let delay = alloc::format!("outlet.{n}.delay.shutdown");
                let on = alloc::format!("outlet.{n}.load.on");
                let off = alloc::format!("outlet.{n}.load.off");
                if !(self.unskip(&delay, flags::SEMI_STATIC, 0)
                    && self.unskip(&on, flags::CMD, 0)
                    && self.unskip(&off, flags::CMD, 0))
                {
                    return HookOut::Refused;
                }
                out(s)
            }
            Hook::VoltronicOutletDelay => {
                if !item::is_numeric(field) {
                    return HookOut::Refused;
                }
                let s = printf(dfl, &[Arg::F(strtod(v) * 60.0)]);
                let n = item.var.get(7..8).unwrap_or("");
                if !self.unskip(&alloc::format!("outlet.{n}.delay.shutdown"), flags::SETVAR, 0) {
                    return HookOut::Refused;
                }
                out(s)
            }
            Hook::VoltronicOutletDelaySet => {
                let delay = strtol(v) / 60;
                if delay > i64::from(i32::MAX) {
                    return HookOut::Refused;
                }
                out(printf(item.command, &[Arg::I(delay)]))
            }
            Hook::VoltronicP31b | Hook::VoltronicP31g => {
                let set: &[u8] = if item.pre == Hook::VoltronicP31b { b"012" } else { b"01" };
                let second_ok = field.get(1).is_some_and(|b| set.contains(b))
                    && !field.get(2).is_some_and(|b| set.contains(b));
                if field.first() != Some(&b'0') || !second_ok {
                    return HookOut::Refused;
                }
                let val = strtol(v);
                let Some(name) = usize::try_from(val).ok().and_then(|i| item.info_rw.get(i)) else {
                    return HookOut::Refused;
                };
                if item.pre == Hook::VoltronicP31g {
                    self.extra.work_range_type = val;
                }
                out(printf(dfl, &[Arg::S(name.value)]))
            }
            Hook::VoltronicP31bSet | Hook::VoltronicP31gSet | Hook::VoltronicPhaseSet => {
                let Some(i) = item.info_rw.iter().position(|r| r.value.eq_ignore_ascii_case(v))
                else {
                    return HookOut::Refused;
                };
                let i = i64::try_from(i).unwrap_or(0);
                if item.pre == Hook::VoltronicP31gSet && i == self.extra.work_range_type {
                    return HookOut::Refused;
                }
                if item.pre == Hook::VoltronicPhaseSet && strtol(v) == self.extra.output_phase_angle
                {
                    return HookOut::Refused;
                }
                self.voltronic_setvar(item, &alloc::format!("{i}"))
            }
            Hook::VoltronicPhase => {
                if !item::is_numeric(field) {
                    return HookOut::Refused;
                }
                let angle = strtol(v);
                if item.var.eq_ignore_ascii_case("output_phase_angle") {
                    self.extra.output_phase_angle = angle;
                }
                if !(0..=i64::from(i32::MAX)).contains(&angle) {
                    return HookOut::Refused;
                }
                out(printf(dfl, &[Arg::I(angle)]))
            }
            Hook::AblerexBattery | Hook::AblerexBatterycharge => {
                let batt = strtod(v);
                let Some(nom) = p.getinfo("battery.voltage.nominal").map(strtod) else {
                    return if item.pre == Hook::AblerexBattery {
                        out(printf("%.2f", &[Arg::F(batt)]))
                    } else {
                        out(String::from("100"))
                    };
                };
                if item.pre == Hook::AblerexBattery {
                    let act = match self.extra.ablerex_vb.filter(|&vb| vb > 0) {
                        Some(vb) => vb as f64 * nom / 1200.0,
                        None if batt > 3.0 => batt,
                        None => batt * 6.0 * nom / 12.0,
                    };
                    out(printf("%.2f", &[Arg::F(act)]))
                } else {
                    let b = if batt > 3.0 { batt / (nom / 12.0) } else { batt };
                    out(alloc::format!("{}", ablerex_charge(b)))
                }
            }
            Hook::AblerexInitbattery => {
                let nom = p.getinfo("battery.voltage.nominal").map_or(0.0, strtod);
                let low = match self.extra.ablerex_vbc.filter(|&c| c > 0) {
                    Some(c) => c as f64 * nom / 1200.0,
                    None => 960.0 * nom / 1200.0,
                };
                let high = 1365.0 * nom / 1200.0;
                match item.from {
                    1 => out(printf("%.2f", &[Arg::F(low)])),
                    2 => out(printf("%.2f", &[Arg::F(high)])),
                    _ => HookOut::Refused,
                }
            }
            Hook::AblerexProcessStatusBits => {
                let bit = |i: usize| field.get(i).copied().unwrap_or(0);
                let vi = p.getinfo("input.voltage").map(strtod);
                let vo = p.getinfo("output.voltage").map(strtod);
                match item.from {
                    40 => {
                        if bit(0) == b'1' {
                            let (Some(vi), Some(vo)) = (vi, vo) else {
                                return HookOut::Refused;
                            };
                            let token = if bit(2) == b'1' {
                                if vo < 0.5 * vi {
                                    return HookOut::Refused;
                                } else if vo < 0.95 * vi {
                                    "TRIM"
                                } else if vo < 1.05 * vi {
                                    "BYPASS"
                                } else if vo < 1.5 * vi {
                                    "BOOST"
                                } else {
                                    return HookOut::Refused;
                                }
                            } else {
                                "BYPASS"
                            };
                            p.status_set(token);
                        }
                    }
                    41 => {
                        if bit(0) == b'1' {
                            p.status_set("RB");
                        }
                        let Some(vout) = vo else { return HookOut::Refused };
                        if vout < 50.0 {
                            p.status_set("OFF");
                        }
                    }
                    _ => return HookOut::Refused,
                }
                out(String::new())
            }
            Hook::AblerexQ5 => {
                // Binary 16-bit values at bytes 1.. of the whole answer.
                let w = |i: usize| {
                    let hi = self.answer.get(i).copied().unwrap_or(0);
                    let lo = self.answer.get(i + 1).copied().unwrap_or(0);
                    i64::from(hi) * 256 + i64::from(lo)
                };
                let (fout, vb, vbc, err, cur) = (w(1), w(7), w(9), w(13), w(15));
                self.extra.ablerex_vb = Some(vb);
                self.extra.ablerex_vbc = Some(vbc);
                p.setinfo("output.frequency", &printf("%.1f", &[Arg::F(0.1 * fout as f64)]));
                p.setinfo("ups.alarm", &alloc::format!("{err}"));
                p.setinfo("output.current", &printf("%.1f", &[Arg::F(0.1 * cur as f64)]));
                out(printf("%.1f", &[Arg::F(fout as f64 * 0.1)]))
            }
            Hook::AblerexAt => {
                let b = |i: usize| i64::from(self.answer.get(i).copied().unwrap_or(0));
                let raw = b(1) * 65536 * 256 + b(2) * 65536 + b(3) * 256 + b(4);
                // NUT computes it in a C int.
                out(alloc::format!("{}", raw as i32))
            }
            Hook::AblerexTR => {
                let tr: Vec<u8> =
                    self.answer.iter().skip(1).take(4).copied().take_while(|&b| b != 0).collect();
                out(String::from_utf8_lossy(&tr).into_owned())
            }
            Hook::OmronProcessSigned | Hook::OmronProcessFrequency | Hook::OmronProcessCharge => {
                let accept: &[u8] = match item.pre {
                    Hook::OmronProcessSigned => b"0123456789.+-",
                    Hook::OmronProcessFrequency => b"0123456789.",
                    _ => b"0123456789",
                };
                let Some(reading) = omron_decimal(field, accept) else {
                    return HookOut::Refused;
                };
                if item.pre == Hook::OmronProcessCharge && !(0.0..=100.0).contains(&reading) {
                    return HookOut::Refused;
                }
                out(printf("%.1f", &[Arg::F(reading)]))
            }
            Hook::OmronProcessRuntime => {
                if field.is_empty() || !only(field, b"0123456789") {
                    return HookOut::Refused;
                }
                match v.parse::<i64>().ok().and_then(|m| m.checked_mul(60)) {
                    Some(s) => out(alloc::format!("{s}")),
                    None => HookOut::Refused,
                }
            }
            Hook::OmronProcessBattDate => {
                if field.len() != 8 || !only(field, b"0123456789") {
                    return HookOut::Refused;
                }
                let n = |a: usize, b: usize| v.get(a..b).map_or(0, strtol);
                let (year, month, day) = (n(0, 4), n(4, 6), n(6, 8));
                const MONTH: [i64; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
                if !(1..=12).contains(&month) {
                    return HookOut::Refused;
                }
                let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
                let len = if month == 2 && !leap {
                    28
                } else {
                    MONTH.get(usize::try_from(month - 1).unwrap_or(0)).copied().unwrap_or(31)
                };
                if !(1..=len).contains(&day) {
                    return HookOut::Refused;
                }
                out(alloc::format!("{year:04}-{month:02}-{day:02}"))
            }
            Hook::OmronProcessFirmware => match omron_firmware(field) {
                Some((main, aux)) => {
                    p.setinfo("ups.firmware.aux", &printf("%.2f", &[Arg::F(aux)]));
                    out(printf("%.2f", &[Arg::F(main)]))
                }
                None => HookOut::Refused,
            },
            Hook::OmronProcessUn => {
                // The whole answer must have this shape ('d': a digit).
                const SHAPE: &[u8] = b"ddddW/ddddVA/dddV/dddW/dddW";
                let a = item::c_str(&self.answer);
                let ok = SHAPE.iter().enumerate().all(|(i, &c)| {
                    let b = a.get(i).copied().unwrap_or(0);
                    if c == b'd' { b.is_ascii_digit() } else { b == c }
                }) && matches!(a.get(SHAPE.len()), None | Some(b'\r'));
                if !ok {
                    return HookOut::Refused;
                }
                out(alloc::format!("{}", strtol(v)))
            }
            // The session sends `An`/`Af` (auto restart) first.
            Hook::OmronProcessCommand => {
                let Some(off) = p.getinfo("ups.delay.shutdown").map(strtol) else {
                    return HookOut::Refused;
                };
                if off < 0 {
                    return HookOut::Refused;
                }
                let buf = if off < 60 {
                    printf(".%ld", &[Arg::I(off / 6)])
                } else {
                    printf("%02ld", &[Arg::I(off / 60)])
                };
                out(printf(item.command, &[Arg::S(&buf)]))
            }
            Hook::VoltronicWarning => {
                if !only(field, b"01") {
                    return HookOut::Refused;
                }
                if field.iter().all(|&b| b == b'0') {
                    return out(String::new());
                }
                match self.voltronic_warnings(field) {
                    Some(s) => out(s),
                    None => HookOut::Refused,
                }
            }
            Hook::VoltronicParallel => {
                if !only(field, b"0123456789") {
                    return HookOut::Refused;
                }
                let kind = match strtol(v) {
                    1 => "master",
                    2 | 3 => "slave",
                    _ => return HookOut::Refused,
                };
                out(printf("This UPS is *%s* in a system of UPSes in parallel", &[Arg::S(kind)]))
            }
            Hook::MasterguardSlaveaddr
            | Hook::MasterguardSeries
            | Hook::MasterguardModel
            | Hook::MasterguardPower
            | Hook::MasterguardMmmSs
            | Hook::MasterguardHhh
            | Hook::MasterguardTtttHhMmSs
            | Hook::MasterguardNumcells
            | Hook::MasterguardBattvolt
            | Hook::MasterguardUpsPower
            | Hook::MasterguardOutputCurrent
            | Hook::MasterguardOutputCurrentNominal
            | Hook::MasterguardStatus
            | Hook::MasterguardBeeperStatus
            | Hook::MasterguardOutputVoltages
            | Hook::MasterguardFault
            | Hook::MasterguardShutdownReturn
            | Hook::MasterguardShutdownStayoff
            | Hook::MasterguardTestBattery
            | Hook::MasterguardSetvar
            | Hook::MasterguardSetSlaveaddr => match self.masterguard_hook(item, field, p) {
                Some(s) => out(s),
                None => HookOut::Refused,
            },
            _ => self.axpert_hook(item, field, p),
        }
    }

    /// `voltronic_warning`: the `ups.alarm` text of the set bits (explicit
    /// when short enough, else by bit number), setting `LB`, `OVER`, `RB`.
    fn voltronic_warnings(&mut self, bits: &[u8]) -> Option<String> {
        let list = warning_list(bits, &VOLTRONIC_WARNINGS, |_, status| {
            if !status.is_empty() {
                self.update_status(status);
            }
        })?;
        let mut value = alloc::format!("UPS warnings: {list}");
        // NUT's value buffer (SMALLBUF).
        value.truncate(511);
        Some(value)
    }

    /// `voltronic_process_setvar`.
    fn voltronic_setvar(&mut self, item: &'static Item, v: &str) -> HookOut {
        if v.is_empty() {
            return HookOut::Refused;
        }
        let val = strtod(v);
        let var = item.var.to_ascii_lowercase();
        let same = |x: f64| (val - x).abs() < 1e-9;
        match var.as_str() {
            "ups.delay.start" => {
                let t = val - f64::from((val as i32) % 60);
                return HookOut::Value(printf("%.0f", &[Arg::F(t)]));
            }
            "ups.delay.shutdown" => {
                let t = if val < 60.0 {
                    val - f64::from((val as i32) % 6)
                } else {
                    val - f64::from((val as i32) % 60)
                };
                return HookOut::Value(printf("%.0f", &[Arg::F(t)]));
            }
            "max_bypass_freq" if same(self.extra.max_bypass_freq) => return HookOut::Refused,
            "min_bypass_freq" if same(self.extra.min_bypass_freq) => return HookOut::Refused,
            "max_bypass_volt" if same(self.extra.max_bypass_volt) => return HookOut::Refused,
            "min_bypass_volt" if same(self.extra.min_bypass_volt) => return HookOut::Refused,
            "battery_number" if same(self.extra.battery_number as f64) => {
                return HookOut::Refused;
            }
            _ => {}
        }
        HookOut::Value(printf(item.command, &[Arg::F(val)]))
    }

    /// `voltronic_process_command`.
    fn voltronic_command(&mut self, item: &'static Item, v: &str, p: &dyn Publish) -> HookOut {
        let var = item.var.to_ascii_lowercase();
        let delay_arg = |off: i64| {
            if off < 60 {
                printf(".%ld", &[Arg::I(off / 6)])
            } else {
                printf("%02ld", &[Arg::I(off / 60)])
            }
        };
        let buf = match var.as_str() {
            "shutdown.return" => {
                let (Some(off), Some(on)) =
                    (p.getinfo("ups.delay.shutdown"), p.getinfo("ups.delay.start"))
                else {
                    return HookOut::Refused;
                };
                let (off, on) = (strtol(off), strtol(on) / 60);
                if on == 0 {
                    delay_arg(off)
                } else {
                    printf("%sR%04ld", &[Arg::S(&delay_arg(off)), Arg::I(on)])
                }
            }
            "shutdown.stayoff" => {
                let Some(off) = p.getinfo("ups.delay.shutdown") else { return HookOut::Refused };
                delay_arg(strtol(off))
            }
            "test.battery.start" => {
                if !only(v.as_bytes(), b"0123456789") {
                    return HookOut::Refused;
                }
                let delay = if v.is_empty() { 600 } else { strtol(v) };
                if !(12..=5940).contains(&delay) {
                    return HookOut::Refused;
                }
                delay_arg(delay)
            }
            "beeper.toggle" => {
                let Some(beeper) = p.getinfo("ups.beeper.status") else {
                    return HookOut::Refused;
                };
                if self.extra.cap("alarm_control").is_some() {
                    match beeper {
                        "enabled" => String::from("OFF"),
                        "muted" => String::from("ON"),
                        _ => return HookOut::Refused,
                    }
                } else {
                    match beeper {
                        "enabled" => String::from("OFF"),
                        "disabled" => String::from("ON"),
                        _ => String::new(),
                    }
                }
            }
            _ => return HookOut::Refused,
        };
        HookOut::Value(printf(item.command, &[Arg::S(&buf)]))
    }

    /// `voltronic_capability`: one flag of the `QFLAG` answer (enabled
    /// flags, then `D`, then disabled ones).
    fn voltronic_capability(
        &mut self,
        item: &'static Item,
        field: &[u8],
        p: &mut dyn Publish,
    ) -> HookOut {
        // NUT skips the answer's first character, then splits at the
        // first run of `D`s (strtok).
        let rest = field.get(1..).unwrap_or(&[]);
        let start = rest.iter().position(|&b| b != b'D').unwrap_or(rest.len());
        let rest = rest.get(start..).unwrap_or(&[]);
        let (enabled, disabled): (&[u8], &[u8]) = match rest.iter().position(|&b| b == b'D') {
            Some(i) => (rest.get(..i).unwrap_or(&[]), rest.get(i + 1..).unwrap_or(&[])),
            None => (rest, &[]),
        };
        if enabled.is_empty() && disabled.is_empty() {
            return HookOut::Refused;
        }
        let state = |c: u8| {
            if enabled.contains(&c) {
                Some(true)
            } else if disabled.contains(&c) {
                Some(false)
            } else {
                None
            }
        };
        let var = item.var;
        let mut val: Option<&'static str> = None;
        if let Some(&(name, c)) = VOLTRONIC_CAPS.iter().find(|(n, _)| n.eq_ignore_ascii_case(var)) {
            let s = state(c).map(|on| if on { "enabled" } else { "disabled" });
            match name {
                "alarm_control" => {
                    if field.contains(&b'a') {
                        match s {
                            Some("enabled") if p.getinfo("ups.beeper.status") != Some("muted") => {
                                p.setinfo("ups.beeper.status", "enabled");
                            }
                            Some("enabled") | None => {}
                            Some(_) => {
                                p.setinfo("ups.beeper.status", "disabled");
                            }
                        }
                        val = s;
                        if !(self.unskip("beeper.enable", flags::CMD, 0)
                            && self.unskip("beeper.disable", flags::CMD, 0))
                        {
                            return HookOut::Refused;
                        }
                    }
                }
                "eco_mode" => {
                    if field.contains(&b'e') {
                        val = s;
                        let ok = self.unskip("bypass.start", flags::CMD, 0)
                            && self.unskip("bypass.stop", flags::CMD, 0)
                            && self.unskip("input.transfer.high", flags::SEMI_STATIC, 0)
                            && self.unskip("input.transfer.low", flags::SEMI_STATIC, 0)
                            && self.unskip("input.frequency.high", flags::SEMI_STATIC, 0)
                            && self.unskip("input.frequency.low", flags::SEMI_STATIC, 0);
                        if !ok {
                            return HookOut::Refused;
                        }
                    }
                }
                _ => val = s,
            }
            if let Some(x) = val {
                self.extra.set_cap(name, x);
            }
        } else if let Some(&(name, c)) =
            VOLTRONIC_NUT_CAPS.iter().find(|(n, _)| n.eq_ignore_ascii_case(var))
        {
            val = state(c).map(|on| if on { "yes" } else { "no" });
            if name == "outlet.0.switchable" && val == Some("yes") {
                for i in 1..=4 {
                    let sw = alloc::format!("outlet.{i}.switchable");
                    let st = alloc::format!("outlet.{i}.status");
                    if !(self.unskip(&sw, 0, 0) && self.unskip(&st, 0, 0)) {
                        return HookOut::Refused;
                    }
                }
            }
        }
        let Some(val) = val else { return HookOut::Refused };
        let s = printf(item.dfl.unwrap_or("%s"), &[Arg::S(val)]);
        // A capability without a NUT variable is only changed from
        // ups.conf, which this crate does not take.
        if item.has(flags::NONUT) {
            return HookOut::Value(s);
        }
        if !self.unskip(item.var, flags::SETVAR, 0) {
            return HookOut::Refused;
        }
        HookOut::Value(s)
    }

    /// `voltronic_eco_volt`: the value, and the ranges of the ECO Mode
    /// voltage limits from the nominal output voltage and the protocol.
    fn voltronic_eco_volt(
        &mut self,
        item: &'static Item,
        field: &[u8],
        p: &dyn Publish,
    ) -> HookOut {
        if !item::is_numeric(field) {
            return HookOut::Refused;
        }
        let v = String::from_utf8_lossy(field);
        let s = printf(item.dfl.unwrap_or("%s"), &[Arg::F(strtod(&v))]);
        let Some(ovn) = p.getinfo("output.voltage.nominal").map(strtol) else {
            return HookOut::Value(s);
        };
        if !(0..=i64::from(i32::MAX)).contains(&ovn) {
            return HookOut::Value(s);
        }
        let protocol = voltronic_protocol_number(p).unwrap_or(0);
        let high = ovn >= 200;
        let (min, max) = match protocol {
            1 | 9 if high => ((ovn - 24, ovn - 7), (ovn + 7, ovn + 24)),
            1 | 9 => ((ovn - 12, ovn - 3), (ovn + 3, ovn + 12)),
            2 | 3 | 10 | 13 | 14 | 99 if high => ((ovn - 24, ovn - 11), (ovn + 11, ovn + 24)),
            2 | 3 | 10 | 13 | 14 | 99 => ((ovn - 12, ovn - 5), (ovn + 5, ovn + 12)),
            _ => return HookOut::Value(s),
        };
        let var = item.var.to_ascii_lowercase();
        let base: &'static str = match var.as_str() {
            "input.transfer.high" => {
                self.extra.set_rw(
                    "input.transfer.high",
                    alloc::vec![alloc::format!("{}", max.0), alloc::format!("{}", max.1)],
                );
                "input.transfer.high"
            }
            "input.transfer.low" => {
                self.extra.set_rw(
                    "input.transfer.low",
                    alloc::vec![alloc::format!("{}", min.0), alloc::format!("{}", min.1)],
                );
                "input.transfer.low"
            }
            _ => item.var,
        };
        let ok = self.unskip(&alloc::format!("{base}.min"), flags::SEMI_STATIC, 0)
            && self.unskip(&alloc::format!("{base}.max"), flags::SEMI_STATIC, 0)
            && self.unskip(base, flags::SETVAR, 0);
        if !ok {
            return HookOut::Refused;
        }
        HookOut::Value(s)
    }

    /// `voltronic_massive_unskip`: items a Voltronic protocol number
    /// enables (multi-phase values, P31 battery type, bypass limits).
    /// Settings that need a ups.conf value (`work_range_type`,
    /// `reset_to_default`, `testing`) stay skipped: this crate takes none.
    pub(crate) fn voltronic_unskip(&mut self, protocol: i64) {
        let items = self.proto.items;
        for (i, it) in items.iter().enumerate() {
            if it.command.is_empty() {
                continue;
            }
            let var = it.var.to_ascii_lowercase();
            let n = var.as_str();
            let setvar = it.has(flags::SETVAR);
            let p = protocol;
            let hit = (p == 9
                && matches!(n, "output.bypass.l1-n.voltage" | "output.bypass.l2-n.voltage")
                && it.min_len == 19)
                || (p == 10
                    && (n == "output.l3-n.voltage"
                        || (n == "output.l2-l3.voltage" && it.from == 25)
                        || (n == "output.l1-l3.voltage" && it.from == 31)
                        || (matches!(
                            n,
                            "output.bypass.l1-n.voltage"
                                | "output.bypass.l2-n.voltage"
                                | "output.bypass.l3-n.voltage"
                        ) && it.min_len == 37)
                        || matches!(
                            n,
                            "output.bypass.l1-l2.voltage"
                                | "output.bypass.l2-l3.voltage"
                                | "output.bypass.l1-l3.voltage"
                                | "output.l3.current"
                                | "output.l3.power.percent"
                        )))
                || ((p == 9 || p == 10)
                    && matches!(
                        n,
                        "output.l1-n.voltage"
                            | "output.l2-n.voltage"
                            | "output.l1-l2.voltage"
                            | "output.l1.current"
                            | "output.l2.current"
                            | "output.l1.power.percent"
                            | "output.l2.power.percent"
                    ))
                || ((p == 3 || p == 9 || p == 10)
                    && matches!(
                        n,
                        "input.l1-n.voltage"
                            | "input.l2-n.voltage"
                            | "input.l1-l2.voltage"
                            | "input.l1.current"
                            | "input.l2.current"
                    ))
                || ((p == 3 || p == 10)
                    && (n == "input.l3-n.voltage"
                        || (n == "input.l2-l3.voltage" && it.from == 25)
                        || (n == "input.l1-l3.voltage" && it.from == 31)
                        || n == "input.l3.current"))
                || (p == 31 && (n == "battery.type" || (n == "work_range_type" && !setvar)))
                || (p != 0
                    && p != 8
                    && p != 31
                    && !setvar
                    && matches!(
                        n,
                        "max_bypass_volt"
                            | "min_bypass_volt"
                            | "max_bypass_freq"
                            | "min_bypass_freq"
                    ));
            if hit {
                if let Some(s) = self.skip.get_mut(i) {
                    *s = false;
                }
            }
        }
    }
}

/// OMRON's strict decimal: only `accept` bytes, not empty, the whole
/// field a number.
fn omron_decimal(field: &[u8], accept: &[u8]) -> Option<f64> {
    if field.is_empty() || !only(field, accept) {
        return None;
    }
    core::str::from_utf8(field).ok()?.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// OMRON's `M:<main>(S:<aux>)` firmware answer (trailing spaces allowed).
fn omron_firmware(field: &[u8]) -> Option<(f64, f64)> {
    if field.is_empty() || !only(field, b"0123456789MS.:() ") {
        return None;
    }
    let s = core::str::from_utf8(field).ok()?;
    let rest = s.strip_prefix("M:")?;
    let (main, rest) = rest.split_once("(S:")?;
    let (aux, tail) = rest.split_once(')')?;
    if main.is_empty() || aux.is_empty() || !tail.bytes().all(|b| b == b' ') {
        return None;
    }
    if main.contains(['(', ')']) || aux.contains(['(', ')']) {
        return None;
    }
    // strtod skips leading spaces.
    let num = |x: &str| x.trim_start().parse::<f64>().ok().filter(|v| v.is_finite());
    Some((num(main)?, num(aux)?))
}

/// Ablerex's battery charge table: per-cell voltage (below 3 V, on line)
/// or per-12 V block voltage to percent (`ablerex_battery_charge`).
fn ablerex_charge(v: f64) -> i64 {
    const ONLINE_P: [f64; 56] = [
        2.22, 2.21, 2.20, 2.19, 2.18, 2.17, 2.16, 2.15, 2.14, 2.13, 2.12, 2.11, 2.10, 2.09, 2.08,
        2.07, 2.06, 2.05, 2.04, 2.03, 2.02, 2.01, 2.00, 1.99, 1.98, 1.97, 1.96, 1.95, 1.94, 1.93,
        1.92, 1.91, 1.90, 1.89, 1.88, 1.87, 1.86, 1.85, 1.84, 1.83, 1.82, 1.81, 1.80, 1.79, 1.78,
        1.77, 1.76, 1.75, 1.74, 1.73, 1.72, 1.71, 1.70, 1.69, 1.68, 1.67,
    ];
    const ONLINE_C: [i64; 57] = [
        100, 90, 88, 87, 85, 83, 82, 80, 78, 77, 75, 73, 72, 70, 68, 65, 65, 62, 62, 58, 58, 55,
        55, 53, 52, 50, 48, 47, 45, 43, 42, 40, 38, 37, 35, 33, 32, 30, 28, 27, 25, 23, 22, 20, 18,
        17, 15, 13, 12, 10, 8, 7, 5, 3, 2, 0, -1,
    ];
    const OFFLINE_P: [f64; 35] = [
        13.5, 13.3, 13.2, 13.1, 13.0, 12.9, 12.8, 12.7, 12.6, 12.5, 12.4, 12.3, 12.2, 12.1, 12.0,
        11.9, 11.8, 11.7, 11.6, 11.5, 11.4, 11.3, 11.2, 11.1, 11.0, 10.9, 10.8, 10.7, 10.6, 10.5,
        10.4, 10.3, 10.2, 10.1, 10.0,
    ];
    const OFFLINE_C: [i64; 36] = [
        100, 90, 88, 86, 83, 80, 77, 74, 72, 69, 66, 63, 61, 58, 55, 52, 49, 47, 44, 41, 38, 36,
        33, 30, 27, 24, 22, 19, 16, 13, 11, 8, 5, 2, 0, -1,
    ];
    let (p, c): (&[f64], &[i64]) =
        if v < 3.0 { (&ONLINE_P, &ONLINE_C) } else { (&OFFLINE_P, &OFFLINE_C) };
    // NUT stops at the first charge that is not positive.
    for (pi, ci) in p.iter().zip(c.iter()) {
        if *ci <= 0 {
            break;
        }
        if v >= *pi {
            return *ci;
        }
    }
    0
}

/// Whether an allowed value is offered now (NUT's `info_rw_t` preprocess
/// returning 0). Filters this crate lacks (Voltronic-Sunny) offer nothing.
pub(crate) fn rw_offered(filter: RwHook, value: &str, p: &dyn Publish) -> bool {
    let val = strtol(value);
    let protocol = || voltronic_protocol_number(p);
    let ofn = || p.getinfo("output.frequency.nominal").map(strtod);
    let ivn = || p.getinfo("input.voltage.nominal").map(strtol);
    let in_set = |n: i64, set: &[i64]| set.contains(&n);
    const P_B: &[i64] = &[2, 3, 10, 13, 14];
    const P_B99: &[i64] = &[2, 3, 10, 13, 14, 99];
    const P_ALL: &[i64] = &[1, 2, 3, 9, 10, 13, 14, 99];
    const P_A: &[i64] = &[1, 9];
    match filter {
        RwHook::None => true,
        RwHook::VoltronicBattLow => {
            let (Some(ovn), Some(ocn)) =
                (p.getinfo("output.voltage.nominal"), p.getinfo("output.current.nominal"))
            else {
                return false;
            };
            if strtol(ovn).saturating_mul(strtol(ocn)) < 1000 { val == 24 } else { val == 28 }
        }
        RwHook::VoltronicBypassVoltMax | RwHook::VoltronicBypassVoltMin => {
            let (Some(prot), Some(ivn)) = (protocol(), ivn()) else { return false };
            let hi = ivn >= 200;
            // (value, needs ivn >= 200 (Some) or < 200 (Some(false)) or
            // either (None), protocols)
            let rows: &[(i64, Option<bool>, &[i64])] = if filter == RwHook::VoltronicBypassVoltMax {
                &[
                    (60, None, &[9]),
                    (115, Some(false), P_B99),
                    (120, Some(false), &[1]),
                    (132, Some(false), &[99]),
                    (138, Some(false), P_B),
                    (230, Some(true), &[1]),
                    (231, Some(true), P_B99),
                    (261, Some(true), &[99]),
                    (264, Some(true), &[1]),
                    (276, Some(true), P_B),
                ]
            } else {
                &[
                    (50, Some(false), &[99]),
                    (55, Some(false), P_B),
                    (60, None, &[9]),
                    (140, None, &[9]),
                    (85, Some(false), &[1, 99]),
                    (104, Some(false), P_B),
                    (110, Some(true), P_B),
                    (115, Some(false), &[1]),
                    (149, Some(true), &[99]),
                    (170, Some(true), &[1]),
                    (209, Some(true), P_B99),
                    (220, Some(true), &[1]),
                ]
            };
            if filter == RwHook::VoltronicBypassVoltMax && val == 140 {
                // P09 at any voltage, P01 below 200 V.
                return prot == 9 || (!hi && prot == 1);
            }
            rows.iter()
                .any(|(x, need, ps)| *x == val && need.is_none_or(|h| h == hi) && in_set(prot, ps))
        }
        RwHook::VoltronicBypassFreqMax
        | RwHook::VoltronicBypassFreqMin
        | RwHook::VoltronicEcoFreqMax
        | RwHook::VoltronicEcoFreqMin => {
            let (Some(prot), Some(ofn)) = (protocol(), ofn()) else { return false };
            // (value, nominal frequency, protocols)
            let rows: &[(i64, f64, &[i64])] = match filter {
                RwHook::VoltronicBypassFreqMax => &[
                    (51, 50.0, P_ALL),
                    (54, 50.0, P_B99),
                    (60, 50.0, P_A),
                    (61, 60.0, P_ALL),
                    (64, 60.0, P_B99),
                    (70, 60.0, P_A),
                ],
                RwHook::VoltronicBypassFreqMin => &[
                    (40, 50.0, P_A),
                    (46, 50.0, P_B99),
                    (49, 50.0, P_ALL),
                    (50, 60.0, P_A),
                    (56, 60.0, P_B99),
                    (59, 60.0, P_ALL),
                ],
                RwHook::VoltronicEcoFreqMax => &[
                    (52, 50.0, P_B99),
                    (53, 50.0, P_A),
                    (54, 50.0, P_B99),
                    (60, 50.0, P_A),
                    (62, 60.0, P_B99),
                    (63, 60.0, P_A),
                    (64, 60.0, P_B99),
                    (70, 60.0, P_A),
                ],
                _ => &[
                    (40, 50.0, P_A),
                    (46, 50.0, P_B99),
                    (47, 50.0, P_A),
                    (48, 50.0, P_B99),
                    (50, 60.0, P_A),
                    (56, 60.0, P_B99),
                    (57, 60.0, P_A),
                    (58, 60.0, P_B99),
                ],
            };
            #[allow(clippy::float_cmp)] // NUT compares the parsed nominal exactly
            rows.iter().any(|(x, f, ps)| *x == val && ofn == *f && in_set(prot, ps))
        }
        _ => false,
    }
}

// ---- Masterguard ----------------------------------------------------------

/// The queries each Masterguard series answers (`masterguard_commands_a`,
/// `masterguard_commands_e`); items whose query is not listed are skipped.
const MASTERGUARD_COMMANDS_A: [&str; 28] = [
    "Q", "Q1", "Q3", "T", "TL", "S", "C", "CT", "WH", "M", "N", "O", "DECO", "DRC", "SRC", "FLT",
    "FCLR", "G", "SS", "GS", "MSO", "PNV", "FOFF", "FON", "TUD", "GBS", "SSN", "GSN",
];
const MASTERGUARD_COMMANDS_E: [&str; 29] = [
    "Q", "Q1", "Q3", "PSR", "T", "TL", "S", "C", "CT", "WH", "DRC", "SRC", "FLT", "FCLR", "SS",
    "GS", "MSO", "PNV", "FOFF", "FON", "TUD", "GBS", "SSN", "GSN", "BUS", "V", "INVDC", "BUSP",
    "BUSN",
];

/// The models of the `WH` type field (matched on its start): name, power
/// rating (W), `battery.packs` range of the tower and of the rack (`-19`)
/// version.
#[allow(clippy::type_complexity)]
const MASTERGUARD_MODELS: [(&[u8], &str, i64, (i64, i64), (i64, i64)); 7] = [
    (b"A  700", "A700", 700, (0, 0), (0, 0)),
    (b"A 1000", "A1000", 1000, (0, 2), (0, 2)),
    (b"A 2000", "A2000", 2000, (0, 2), (1, 5)),
    (b"A 3000", "A3000", 3000, (0, 2), (1, 5)),
    (b"E 60", "E60", 6000, (1, 1), (1, 1)),
    (b"E100", "E100", 10000, (1, 1), (1, 1)),
    (b"E200", "E200", 20000, (1, 1), (1, 1)),
];

/// Whether the query `cmd` is the series command `entry`: the capital
/// letters `cmd` starts with spell exactly `entry` (so `Q3` is `Q`, and
/// `GS,XX` is `GS`), as NUT's claim compares them.
fn masterguard_is_command(entry: &str, cmd: &str) -> bool {
    let (e, c) = (entry.as_bytes(), cmd.as_bytes());
    let mut k = 0;
    loop {
        let p = e.get(k).copied();
        let q = c.get(k).copied().filter(u8::is_ascii_uppercase);
        match (p, q) {
            (None, None) => return true,
            (Some(p), Some(q)) if p == q => k += 1,
            _ => return false,
        }
    }
}

/// C `isspace`, as `scanf` skips it.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What `scanf` does before a number at `*i`: skips blanks and reads an
/// optional sign; `true` for `-`.
fn c_sign(b: &[u8], i: &mut usize) -> bool {
    while b.get(*i).copied().is_some_and(c_space) {
        *i += 1;
    }
    match b.get(*i) {
        Some(b'-') => {
            *i += 1;
            true
        }
        Some(b'+') => {
            *i += 1;
            false
        }
        _ => false,
    }
}

/// `scanf("%d")` at `*i`: blanks skipped, an optional sign, at least one
/// digit. A number that does not fit a C `int` is refused (C leaves it
/// undefined).
fn scan_int(b: &[u8], i: &mut usize) -> Option<i64> {
    let neg = c_sign(b, i);
    let start = *i;
    let mut v: i64 = 0;
    while let Some(d) = b.get(*i).copied().filter(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
        *i += 1;
    }
    if *i == start {
        return None;
    }
    let v = if neg { -v } else { v };
    i32::try_from(v).ok().map(i64::from)
}

/// `scanf("%f")` at `*i` (decimal forms only): a C `float`.
fn scan_float(b: &[u8], i: &mut usize) -> Option<f32> {
    let neg = c_sign(b, i);
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        String::from_utf8_lossy(b.get(start..*i).unwrap_or(&[])).into_owned()
    };
    let int = digits(i);
    let frac = if b.get(*i) == Some(&b'.') {
        *i += 1;
        digits(i)
    } else {
        String::new()
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    // An exponent counts only when digits follow it.
    let mut exp = String::from("0");
    if let Some(b'e' | b'E') = b.get(*i) {
        let sign = b.get(*i + 1).copied().filter(|c| matches!(c, b'-' | b'+'));
        let first = *i + 1 + usize::from(sign.is_some());
        if b.get(first).is_some_and(u8::is_ascii_digit) {
            *i = first;
            exp = alloc::format!("{}{}", if sign == Some(b'-') { "-" } else { "" }, digits(i));
        }
    }
    let text = alloc::format!(
        "{}{}.{}e{exp}",
        if neg { "-" } else { "" },
        if int.is_empty() { "0" } else { &int },
        if frac.is_empty() { "0" } else { &frac },
    );
    text.parse::<f32>().ok()
}

/// Several `%d` separated by `sep` (`scanf("%d:%d:%d:%d")`).
fn scan_ints<const N: usize>(b: &[u8], i: &mut usize, sep: u8) -> Option<[i64; N]> {
    let mut out = [0i64; N];
    for (k, slot) in out.iter_mut().enumerate() {
        if k > 0 {
            if b.get(*i) != Some(&sep) {
                return None;
            }
            *i += 1;
        }
        *slot = scan_int(b, i)?;
    }
    Some(out)
}

/// A C `int` result of the unit conversions: refused when it overflows
/// (C leaves that undefined).
fn c_int(v: Option<i64>) -> Option<String> {
    v.and_then(|v| i32::try_from(v).ok()).map(|v| alloc::format!("{v}"))
}

/// `strtol(s, &end, 10)` that must use the whole string (`*end == '\0'`):
/// blanks, a sign, digits; the empty string reads as 0, as in C.
fn c_strtol_full(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(|c: char| u8::try_from(c).is_ok_and(c_space));
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    if body.is_empty() {
        return s.is_empty().then_some(0);
    }
    if !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(strtol(t))
}

/// The `slave_address` option: `Ok(None)` when absent, the address when
/// valid (0-99), `Err` when empty or malformed (the claim then fails).
pub(crate) fn masterguard_config_slaveaddr(v: Option<&str>) -> Result<Option<i64>, ()> {
    match v {
        None => Ok(None),
        Some("") => Err(()),
        Some(s) => match c_strtol_full(s) {
            Some(n) if (0..=99).contains(&n) => Ok(Some(n)),
            _ => Err(()),
        },
    }
}

/// One of the five fault records of `FLT`: `c ffff TTTT:hh:mm:ss` (fault
/// id, value, when) to `<seconds>: <text>`.
fn masterguard_fault(field: &[u8]) -> Option<String> {
    let &c = field.first()?;
    let mut i = 1;
    while field.get(i).copied().is_some_and(c_space) {
        i += 1;
    }
    let f = f64::from(scan_float(field, &mut i)?);
    let [t, h, m, s] = scan_ints::<4>(field, &mut i, b':')?;
    let when = i64::from(i32::try_from(86400 * t + 3600 * h + 60 * m + s).ok()?);
    let v0 = || printf("%.0f", &[Arg::F(f)]);
    let text = match c {
        b'0' => String::from("none"),
        b'1' => alloc::format!("bus fault ({}V)", v0()),
        b'2' => alloc::format!("inverter fault ({}V)", v0()),
        b'3' => alloc::format!("overheat fault ({}C)", v0()),
        b'4' => alloc::format!("battery overvoltage fault ({}V)", printf("%.2f", &[Arg::F(f)])),
        b'5' => alloc::format!("battery mode overload fault ({}%)", v0()),
        b'6' => alloc::format!("bypass mode overload fault ({}%)", v0()),
        // NUT's spelling.
        b'7' => alloc::format!("inverter mode outpt short-circuit fault ({}V)", v0()),
        b'8' => String::from("fan lock fault"),
        b'9' => alloc::format!("battery fault ({}V)", v0()),
        b'A' => String::from("charger fault"),
        b'B' => String::from("EPO activated"),
        b'C' => String::from("parallel error"),
        b'D' => String::from("MCU communication error"),
        // E and F are reserved; anything else is unknown.
        _ => return None,
    };
    Some(alloc::format!("{when}: {text}"))
}

/// A status bit of `Q3` (by its position) to its status token, alarm,
/// `ups.type` or `ups.test.result` (`masterguard_status`).
fn masterguard_status(from: usize, field: &[u8]) -> Option<&'static str> {
    let set = match field.first() {
        Some(b'1') => true,
        Some(b'0') => false,
        _ => return None,
    };
    let pick = |on: &'static str, off: &'static str| if set { on } else { off };
    Some(match from {
        // B7: utility fail.
        53 => pick("!OL", "OL"),
        54 => pick("LB", "!LB"),
        55 => pick("BYPASS", "!BYPASS"),
        56 => pick("UPS Failed", ""),
        57 => pick("offline", "online"),
        58 => pick("CAL", "!CAL"),
        59 => pick("FSD", "!FSD"),
        63 => pick("problems in parallel operation mode", ""),
        65 => pick("RB", "!RB"),
        // NUT's wording: the bit set reads "no battery connected".
        66 => pick("no battery connected", ""),
        67 => match field.get(..3)? {
            b"000" => "no test in progress",
            b"001" => "in progress",
            b"010" => "OK",
            b"011" => "failed",
            b"100" => "not possible",
            b"101" => "aborted",
            b"110" => "autonomy time calibration in progress",
            b"111" => "unknown",
            _ => return None,
        },
        _ => return None,
    })
}

impl State {
    /// Whether the active protocol is Masterguard.
    fn is_masterguard(&self) -> bool {
        core::ptr::eq(self.proto, &crate::protocol::MASTERGUARD)
    }

    /// Masterguard's allowed values filled at run time: the `battery.packs`
    /// range of the model, the output voltages of `MSO`.
    fn masterguard_rw_values(&self, it: &Item) -> Option<Vec<String>> {
        if !self.is_masterguard() || it.has(flags::SETVAR) {
            return None;
        }
        let mg = &self.extra.mg;
        if it.var.eq_ignore_ascii_case("battery.packs") {
            let (lo, hi) = mg.batpacks;
            return Some(alloc::vec![alloc::format!("{lo}"), alloc::format!("{hi}")]);
        }
        if it.var.eq_ignore_ascii_case("output.voltage.nominal") && it.has(flags::ENUM) {
            return Some(mg.outvolts.clone());
        }
        None
    }

    /// A claim step of Masterguard: the item's hook only (it keeps what
    /// the claim needs); nothing is published before the init walk, so
    /// that the walk still sets the writable variables' flags.
    pub(crate) fn masterguard_claim_value(
        &mut self,
        item: &'static Item,
        field: &[u8],
        p: &mut dyn Publish,
    ) -> bool {
        self.masterguard_hook(item, field, p).is_some()
    }

    /// The end of Masterguard's claim: the slave address must be the
    /// configured one (if any); items whose query the series lacks are
    /// skipped. `false`: the claim fails.
    pub(crate) fn masterguard_claim_finish(&mut self, want: Option<i64>) -> bool {
        let mg = &self.extra.mg;
        if let Some(w) = want {
            if w != strtol(&String::from_utf8_lossy(&mg.slaveaddr)) {
                return false;
            }
        }
        let list: &[&str] = match mg.series {
            Some(b'A') => &MASTERGUARD_COMMANDS_A,
            Some(b'E') => &MASTERGUARD_COMMANDS_E,
            _ => return false,
        };
        for (it, skip) in self.proto.items.iter().zip(self.skip.iter_mut()) {
            if !it.command.is_empty() && !list.iter().any(|e| masterguard_is_command(e, it.command))
            {
                *skip = true;
            }
        }
        true
    }

    /// `masterguard_add_slaveaddr`: the query's trailing `,XX\r` carries
    /// the slave address. `None` for a query without it.
    pub(crate) fn masterguard_add_slaveaddr(&self, cmd: &[u8]) -> Option<Vec<u8>> {
        let head = cmd.strip_suffix(b",XX\r")?;
        let mut q = head.to_vec();
        q.push(b',');
        q.extend_from_slice(&self.extra.mg.slaveaddr);
        q.push(b'\r');
        Some(q)
    }

    /// `masterguard_new_slaveaddr`: once the `ups.id` setting is sent (the
    /// query itself carries the old address), later queries carry the new
    /// one. `false` when the pending address is out of range.
    pub(crate) fn masterguard_new_slaveaddr(&mut self) -> bool {
        let mg = &mut self.extra.mg;
        let Ok(n) = u8::try_from(mg.next_slaveaddr) else { return false };
        if n > 99 {
            return false;
        }
        mg.slaveaddr = [b'0' + n / 10, b'0' + n % 10];
        true
    }

    /// The Masterguard `preprocess` hooks: answers to values, and NUT values
    /// to commands. `None`: refused.
    fn masterguard_hook(
        &mut self,
        item: &'static Item,
        field: &[u8],
        p: &mut dyn Publish,
    ) -> Option<String> {
        let mut i = 0;
        let text = || String::from_utf8_lossy(field).into_owned();
        match item.pre {
            Hook::MasterguardSlaveaddr => {
                self.extra.mg.slaveaddr = <[u8; 2]>::try_from(field).ok()?;
                Some(text())
            }
            Hook::MasterguardSeries => {
                let s @ (b'A' | b'E') = *field.first()? else { return None };
                self.extra.mg.series = Some(s);
                Some(String::from_utf8_lossy(field.get(..2).unwrap_or(field)).into_owned())
            }
            Hook::MasterguardModel => {
                let rack = field.windows(3).any(|w| w == b"-19");
                let &(_, name, _, tower, rack_range) =
                    MASTERGUARD_MODELS.iter().find(|m| field.starts_with(m.0))?;
                self.extra.mg.batpacks = if rack { rack_range } else { tower };
                Some(alloc::format!("{name}{}", if rack { "-19" } else { "" }))
            }
            Hook::MasterguardPower => {
                let &(_, _, power, _, _) =
                    MASTERGUARD_MODELS.iter().find(|m| field.starts_with(m.0))?;
                self.extra.mg.power = power;
                Some(alloc::format!("{power}"))
            }
            Hook::MasterguardMmmSs => {
                let [m, s] = scan_ints::<2>(field, &mut i, b'.')?;
                c_int(Some(60 * m + s))
            }
            Hook::MasterguardHhh => c_int(scan_int(field, &mut i).map(|h| 3600 * h)),
            Hook::MasterguardTtttHhMmSs => {
                let [t, h, m, s] = scan_ints::<4>(field, &mut i, b':')?;
                c_int(Some(86400 * t + 3600 * h + 60 * m + s))
            }
            Hook::MasterguardNumcells => {
                let n = scan_int(field, &mut i)?;
                self.extra.mg.numcells = n;
                Some(alloc::format!("{n}"))
            }
            Hook::MasterguardBattvolt => {
                // C multiplies the cell count and the cell voltage as floats.
                let v = self.extra.mg.numcells as f32 * scan_float(field, &mut i)?;
                v.is_finite().then(|| printf("%.2f", &[Arg::F(f64::from(v))]))
            }
            Hook::MasterguardUpsPower => {
                let q = scan_int(field, &mut i)?;
                let w = q as f64 / 100.0 * self.extra.mg.power as f64 + 0.5;
                Some(printf("%.0f", &[Arg::F(w)]))
            }
            Hook::MasterguardOutputCurrent | Hook::MasterguardOutputCurrentNominal => {
                // The nominal current ignores its field (the nominal
                // voltage) and, as the actual one, divides by the actual
                // output voltage.
                let fraction = if item.pre == Hook::MasterguardOutputCurrent {
                    scan_int(field, &mut i)? as f64 / 100.0
                } else {
                    1.0
                };
                let vout = strtod(p.getinfo("output.voltage")?);
                let a = fraction * self.extra.mg.power as f64 / vout + 0.005;
                a.is_finite().then(|| printf("%.2f", &[Arg::F(a)]))
            }
            Hook::MasterguardStatus => masterguard_status(item.from, field).map(String::from),
            Hook::MasterguardBeeperStatus => match field.first()? {
                b'0' => Some(String::from("disabled")),
                b'1' => Some(String::from("enabled")),
                _ => None,
            },
            Hook::MasterguardOutputVoltages => {
                self.extra.mg.outvolts = field
                    .split(|&b| b == b' ')
                    .filter(|w| !w.is_empty())
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect();
                Some(text())
            }
            Hook::MasterguardFault => masterguard_fault(field),
            Hook::MasterguardShutdownReturn | Hook::MasterguardShutdownStayoff => {
                let off = c_strtol_full(p.getinfo("ups.delay.shutdown")?)?;
                let offstr = match off {
                    0..=59 => alloc::format!(".{}", off / 6),
                    60..=5940 => alloc::format!("{:02}", off / 60),
                    _ => return None,
                };
                if item.pre == Hook::MasterguardShutdownStayoff {
                    return Some(alloc::format!("S{offstr}\r"));
                }
                // The restart delay goes out in seconds, not minutes.
                let on = c_strtol_full(p.getinfo("ups.delay.start")?)?;
                if !(0..=9999 * 60).contains(&on) {
                    return None;
                }
                Some(printf("S%sR%04ld\r", &[Arg::S(&offstr), Arg::I(on)]))
            }
            Hook::MasterguardTestBattery => {
                // A duration is required: 10 s (quick test) or 1-99 min.
                if field.is_empty() {
                    return None;
                }
                let d = c_strtol_full(core::str::from_utf8(field).ok()?)?;
                match d {
                    10 => Some(String::from("T\r")),
                    60..=5940 => Some(printf("T%02ld\r", &[Arg::I(d / 60)])),
                    _ => None,
                }
            }
            Hook::MasterguardSetSlaveaddr => {
                self.extra.mg.next_slaveaddr = c_strtol_full(core::str::from_utf8(field).ok()?)?;
                masterguard_setvar(item, field)
            }
            Hook::MasterguardSetvar => masterguard_setvar(item, field),
            _ => None,
        }
    }
}

/// `masterguard_setvar`: the value in the form `dfl` names (`d`, `f`, `s`,
/// or `thms`: seconds as `TTTT:hh:mm:ss`) put into the item's query.
fn masterguard_setvar(item: &Item, value: &[u8]) -> Option<String> {
    let v = core::str::from_utf8(value).ok()?;
    if v.is_empty() {
        return None;
    }
    match item.dfl? {
        "d" => {
            // A C `int` is printed; a larger number is refused.
            let n = i32::try_from(c_strtol_full(v)?).ok()?;
            Some(printf(item.command, &[Arg::I(i64::from(n))]))
        }
        "f" => {
            let f = v.trim_start_matches(|c: char| u8::try_from(c).is_ok_and(c_space));
            let f = f.parse::<f64>().ok().filter(|f| f.is_finite())?;
            Some(printf(item.command, &[Arg::F(f)]))
        }
        "s" => (v.len() < 80).then(|| printf(item.command, &[Arg::S(v)])),
        // NUT would also take `TTTT:hh:mm:ss`, but reads it from the
        // item's last answer instead of the value; seconds are what works.
        // A negative count (which NUT would send malformed) is refused.
        "thms" => {
            let l = c_strtol_full(v)?;
            if l < 0 {
                return None;
            }
            let (sec, l) = (l % 60, l / 60);
            let (m, l) = (l % 60, l / 60);
            let (h, days) = (l % 24, l / 24);
            if days > 9999 {
                return None;
            }
            let t = alloc::format!("{days:04}:{h:02}:{m:02}:{sec:02}");
            Some(printf(item.command, &[Arg::S(&t)]))
        }
        _ => None,
    }
}

#[cfg(test)]
mod masterguard_tests {
    use super::*;

    /// The fault records of NUT's `FLT` examples, and those the log-only
    /// items refuse.
    #[test]
    fn fault_records() {
        assert_eq!(
            masterguard_fault(b"7 0043 0000:16:48:06").as_deref(),
            Some("60486: inverter mode outpt short-circuit fault (43V)")
        );
        assert_eq!(
            masterguard_fault(b"9 0010 1780:14:57:19").as_deref(),
            Some("153845839: battery fault (10V)")
        );
        assert_eq!(masterguard_fault(b"0 0000 0000:00:00:00").as_deref(), Some("0: none"));
        assert_eq!(
            masterguard_fault(b"4 27.35 0000:00:01:00").as_deref(),
            Some("60: battery overvoltage fault (27.35V)")
        );
        assert_eq!(
            masterguard_fault(b"5 0105 0000:00:00:01").as_deref(),
            Some("1: battery mode overload fault (105%)")
        );
        assert_eq!(
            masterguard_fault(b"D 0 0:0:0:0").as_deref(),
            Some("0: MCU communication error")
        );
        for bad in [
            &b""[..],
            b"E 0000 0000:00:00:00",
            b"F 0000 0000:00:00:00",
            b"d 0000 0000:00:00:00",
            b"7 0043 0000:16:48",
            b"7 0043 0000.16:48:06",
            b"7 x043 0000:16:48:06",
            b"7 0043 9999999:16:48:06",
        ] {
            assert_eq!(masterguard_fault(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn c_scanf_numbers() {
        let int = |s: &[u8]| scan_int(s, &mut 0);
        assert_eq!(int(b" 012"), Some(12));
        assert_eq!(int(b"-7x"), Some(-7));
        assert_eq!(int(b"+"), None);
        assert_eq!(int(b"   "), None);
        assert_eq!(int(b"99999999999"), None);
        let float = |s: &[u8]| scan_float(s, &mut 0);
        assert_eq!(float(b"02.30"), Some(2.3));
        assert_eq!(float(b" .5"), Some(0.5));
        assert_eq!(float(b"5."), Some(5.0));
        assert_eq!(float(b"-1e2x"), Some(-100.0));
        assert_eq!(float(b"1e+"), Some(1.0));
        assert_eq!(float(b"."), None);
        assert_eq!(float(b"ab"), None);
        assert_eq!(c_strtol_full(""), Some(0));
        assert_eq!(c_strtol_full(" -5"), Some(-5));
        assert_eq!(c_strtol_full("5 "), None);
        assert_eq!(c_strtol_full(" "), None);
        assert_eq!(c_strtol_full("-"), None);
    }

    #[test]
    fn status_bits_and_series_commands() {
        assert_eq!(masterguard_status(53, b"0"), Some("OL"));
        assert_eq!(masterguard_status(53, b"1"), Some("!OL"));
        assert_eq!(masterguard_status(55, b"0"), Some("!BYPASS"));
        assert_eq!(masterguard_status(63, b"1"), Some("problems in parallel operation mode"));
        assert_eq!(masterguard_status(66, b"0"), Some(""));
        assert_eq!(masterguard_status(67, b"110"), Some("autonomy time calibration in progress"));
        assert_eq!(masterguard_status(67, b"1"), None);
        assert_eq!(masterguard_status(60, b"1"), None);
        assert_eq!(masterguard_status(54, b"2"), None);
        assert!(masterguard_is_command("Q", "Q3\r"));
        assert!(!masterguard_is_command("Q3", "Q3\r"));
        assert!(!masterguard_is_command("G", "GS,XX\r"));
        assert!(masterguard_is_command("GS", "GS,XX\r"));
        assert!(masterguard_is_command("SRC", "SRC%s,XX\r"));
        assert!(masterguard_is_command("PNV", "PNV=%03d\r"));
        assert!(!masterguard_is_command("PNV", "PN\r"));
        // Every query of the table is one of each series' commands.
        for it in crate::protocol::MASTERGUARD.items.iter().filter(|i| !i.command.is_empty()) {
            for list in [&MASTERGUARD_COMMANDS_A[..], &MASTERGUARD_COMMANDS_E[..]] {
                assert!(list.iter().any(|e| masterguard_is_command(e, it.command)), "{}", it.var);
            }
        }
        assert_eq!(masterguard_config_slaveaddr(None), Ok(None));
        assert_eq!(masterguard_config_slaveaddr(Some("07")), Ok(Some(7)));
        assert_eq!(masterguard_config_slaveaddr(Some("")), Err(()));
        assert_eq!(masterguard_config_slaveaddr(Some("99x")), Err(()));
    }

    #[test]
    fn settings() {
        let item = |command: &'static str, dfl: &'static str| Item {
            var: "x",
            info_flags: 0,
            info_rw: &[],
            command,
            min_len: 0,
            leading: 0,
            from: 0,
            to: 0,
            dfl: Some(dfl),
            flags: flags::SETVAR,
            pre_cmd: Hook::None,
            pre_ans: Hook::None,
            pre: Hook::MasterguardSetvar,
        };
        let thms = item("SRC%s,XX\r", "thms");
        assert_eq!(masterguard_setvar(&thms, b"0").as_deref(), Some("SRC0000:00:00:00,XX\r"));
        assert_eq!(
            masterguard_setvar(&thms, b"161550397").as_deref(),
            Some("SRC1869:19:06:37,XX\r")
        );
        assert_eq!(masterguard_setvar(&thms, b"864000000"), None, "10000 days");
        assert_eq!(masterguard_setvar(&thms, b"1869:19:06:37"), None);
        let d = item("SS--%1d-,XX\r", "d");
        assert_eq!(masterguard_setvar(&d, b"2").as_deref(), Some("SS--2-,XX\r"));
        assert_eq!(masterguard_setvar(&d, b"2.5"), None);
        assert_eq!(masterguard_setvar(&d, b""), None);
        assert_eq!(masterguard_setvar(&d, b"4294967296"), None);
        let f = item("X%.1f\r", "f");
        assert_eq!(masterguard_setvar(&f, b"2.25").as_deref(), Some("X2.2\r"));
        let s = item("N%s\r", "s");
        assert_eq!(masterguard_setvar(&s, b"abc").as_deref(), Some("Nabc\r"));
        assert_eq!(masterguard_setvar(&s, &[b'a'; 80]), None);
        assert_eq!(masterguard_setvar(&item("X\r", "q"), b"1"), None);
    }
}
