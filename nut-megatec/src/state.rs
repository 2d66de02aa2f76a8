//! The driver's state between queries (what nutdrv_qx keeps in globals):
//! the active protocol, items skipped at run time, status bits, the battery
//! estimate; and how one answer becomes NUT variables (`ups_infoval_set`
//! and the protocols' hooks).

use crate::config::Config;
use crate::error::{AnswerError, escape};
use crate::item::{self, Arg, Hook, Item, flags, printf, strtod, strtol};
use crate::math;
use crate::protocol::{Options, Protocol};
use alloc::string::{String, ToString};

use alloc::vec::Vec;
use core::time::Duration;
use nut_proto::publish::Publish;

/// `ups.status` bits, in the order NUT publishes them.
pub(crate) mod st {
    pub(crate) const OL: u32 = 1;
    pub(crate) const DISCHRG: u32 = 2;
    pub(crate) const CHRG: u32 = 4;
    pub(crate) const LB: u32 = 8;
    pub(crate) const OVER: u32 = 16;
    pub(crate) const RB: u32 = 32;
    pub(crate) const TRIM: u32 = 64;
    pub(crate) const BOOST: u32 = 128;
    pub(crate) const BYPASS: u32 = 256;
    pub(crate) const OFF: u32 = 512;
    pub(crate) const CAL: u32 = 1024;
    pub(crate) const FSD: u32 = 2048;
    pub(crate) const NAMES: [(&str, u32); 12] = [
        ("OL", OL),
        ("DISCHRG", DISCHRG),
        ("CHRG", CHRG),
        ("LB", LB),
        ("OVER", OVER),
        ("RB", RB),
        ("TRIM", TRIM),
        ("BOOST", BOOST),
        ("BYPASS", BYPASS),
        ("OFF", OFF),
        ("CAL", CAL),
        ("FSD", FSD),
    ];
}

/// Result of a hook on a field.
pub(crate) enum HookOut {
    /// The value to publish (or the status token / alarm / command).
    Value(String),
    /// The hook refused the field.
    Refused,
    /// The hook is not implemented.
    Unsupported,
}

/// Battery charge / runtime estimate (NUT's `batt` and `load`).
#[derive(Clone, Debug)]
pub(crate) struct Battery {
    pub(crate) packs: f64,
    pub(crate) runt_act: f64,
    pub(crate) runt_nom: f64,
    pub(crate) runt_est: f64,
    pub(crate) runt_exp: f64,
    pub(crate) volt_act: f64,
    pub(crate) volt_high: f64,
    pub(crate) volt_nom: f64,
    pub(crate) volt_low: f64,
    pub(crate) chrg_act: f64,
    pub(crate) chrg_time: f64,
    pub(crate) load_act: f64,
    pub(crate) load_low: f64,
    pub(crate) load_eff: f64,
    pub(crate) runtimecal: bool,
    pub(crate) lastpoll: Duration,
}

impl Default for Battery {
    fn default() -> Self {
        Battery {
            packs: 1.0,
            runt_act: -1.0,
            runt_nom: -1.0,
            runt_est: 0.0,
            runt_exp: 0.0,
            volt_act: -1.0,
            volt_high: -1.0,
            volt_nom: -1.0,
            volt_low: -1.0,
            chrg_act: -1.0,
            chrg_time: 43200.0,
            load_act: 0.0,
            load_low: 0.1,
            load_eff: 1.0,
            runtimecal: false,
            lastpoll: Duration::ZERO,
        }
    }
}

fn d_equal(a: f64, b: f64) -> bool {
    let d = a - b;
    d < 1e-9 && d > -1e-9
}

/// The state of a claimed device.
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub(crate) proto: &'static Protocol,
    /// Run-time SKIP flag per item.
    pub(crate) skip: Vec<bool>,
    pub(crate) status: u32,
    pub(crate) batt: Battery,
    pub(crate) data_has_changed: bool,
    pub(crate) config: Config,
    /// BestUPS Patriot Pro models report the bypass bit inverted.
    pub(crate) inverted_bbb_bit: bool,
    /// What the BestUPS, Voltronic and Ablerex hooks keep between answers.
    pub(crate) extra: crate::hooks::Extra,
    /// The whole answer (after its answer hook) of the item being
    /// processed, for hooks that read more than their field.
    pub(crate) answer: Vec<u8>,
}

impl State {
    pub(crate) fn new(proto: &'static Protocol, config: Config) -> Self {
        let skip = proto.items.iter().map(|i| i.has(flags::SKIP)).collect();
        State {
            proto,
            skip,
            status: 0,
            batt: Battery::default(),
            data_has_changed: false,
            config,
            inverted_bbb_bit: false,
            extra: crate::hooks::Extra::default(),
            answer: Vec::new(),
        }
    }

    /// The protocol's `initups`: items skipped by `norating`, `novendor`,
    /// `ignoresab`, `nooutstats`.
    pub(crate) fn apply_options(&mut self) {
        let c = &self.config;
        let (nr, nv, nos) = match self.proto.options {
            Options::Blazer => (c.norating, c.novendor, false),
            Options::Q6 => (c.norating, false, c.nooutstats),
            Options::Light | Options::None => (false, false, false),
        };
        let isb = c.ignoresab && self.proto.options != Options::None;
        for (i, it) in self.proto.items.iter().enumerate() {
            let cmd = it.command.as_bytes();
            let hit = (nr && item::eq_ic(cmd, b"F\r"))
                || (nv && (item::eq_ic(cmd, b"I\r") || item::eq_ic(cmd, b"FW?\r")))
                || (nos && item::eq_ic(cmd, b"WA\r"))
                || (isb
                    && it.var.eq_ignore_ascii_case("ups.status")
                    && it.from == 44
                    && it.to == 44);
            if hit && !it.command.is_empty() {
                if let Some(s) = self.skip.get_mut(i) {
                    *s = true;
                }
            }
        }
    }

    pub(crate) fn is_skipped(&self, idx: usize) -> bool {
        self.skip.get(idx).copied().unwrap_or(true)
    }

    /// NUT `find_nut_info(var, flag, noflag)` honouring run-time skips.
    pub(crate) fn find(
        &self,
        var: &str,
        flag: u16,
        noskip: bool,
    ) -> Option<(usize, &'static Item)> {
        self.proto.items.iter().enumerate().find(|(i, it)| {
            it.var.eq_ignore_ascii_case(var)
                && (flag == 0 || it.has(flag))
                && !(noskip && self.is_skipped(*i))
        })
    }

    /// NUT `update_status`: `TOKEN` sets a bit, `!TOKEN` clears it.
    pub(crate) fn update_status(&mut self, token: &str) {
        let (clear, t) = match token.strip_prefix('!') {
            Some(t) => (true, t),
            None => (false, token),
        };
        if let Some((_, bit)) = st::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(t)) {
            if clear {
                self.status &= !bit;
            } else {
                self.status |= bit;
            }
        }
    }

    /// `ups_status_set` + nothing else: the tokens of the current bits.
    pub(crate) fn publish_status(&self, p: &mut dyn Publish) {
        p.status_set(if self.status & st::OL != 0 { "OL" } else { "OB" });
        for (name, bit) in st::NAMES.iter().skip(1) {
            if self.status & bit != 0 {
                p.status_set(name);
            }
        }
    }

    /// `ups_alarm_set`.
    pub(crate) fn publish_alarms(&self, p: &mut dyn Publish) {
        if self.status & st::RB != 0 {
            p.alarm_set("Replace battery!");
        }
        if self.status & st::FSD != 0 {
            p.alarm_set("Shutdown imminent!");
        }
    }

    /// NUT `ups_infoval_set`: `Ok(true)` when a variable was published,
    /// `Ok(false)` for status/alarm items and values only logged.
    pub(crate) fn infoval_set(
        &mut self,
        item: &'static Item,
        query: &[u8],
        field: &[u8],
        p: &mut dyn Publish,
    ) -> Result<bool, AnswerError> {
        let q = || item::query_name(query);
        let value: String = if item.pre != Hook::None {
            match self.run_hook(item, field, p) {
                HookOut::Value(v) => v,
                HookOut::Refused => {
                    return Err(AnswerError::Hook {
                        query: q(),
                        var: item.var,
                        hook: item.pre.name(),
                        value: escape(field),
                    });
                }
                HookOut::Unsupported => {
                    return Err(AnswerError::Unsupported {
                        query: q(),
                        var: item.var,
                        hook: item.pre.name(),
                    });
                }
            }
        } else {
            let raw = String::from_utf8_lossy(field);
            let mut v: &str = &raw;
            if item.has(flags::TRIM) {
                v = item::trim_hash_space(v);
            }
            let dfl = item.dfl.unwrap_or("%s");
            if !dfl.eq_ignore_ascii_case("%s") {
                if !item::is_numeric(v.as_bytes()) {
                    return Err(AnswerError::NonNumeric {
                        query: q(),
                        var: item.var,
                        from: item.from,
                        to: item.to,
                        value: escape(field),
                    });
                }
                // Deliberate difference: NUT prints an empty or blank field
                // as 0; an empty field is an error here.
                if v.trim().is_empty() {
                    return Err(AnswerError::Empty {
                        query: q(),
                        var: item.var,
                        from: item.from,
                        to: item.to,
                    });
                }
                printf(dfl, &[Arg::F(strtod(v))])
            } else {
                v.to_string()
            }
        };
        let prefix =
            |n: usize, what: &str| item.var.get(..n).is_some_and(|s| s.eq_ignore_ascii_case(what));
        if item.pre != Hook::None && prefix(10, "ups.status") {
            if !value.is_empty() {
                self.update_status(&value);
            }
            return Ok(false);
        }
        if item.pre != Hook::None && prefix(9, "ups.alarm") {
            if !value.is_empty() {
                p.alarm_set(&value);
            }
            return Ok(false);
        }
        if item.has(flags::NONUT) {
            return Ok(true);
        }
        if value.is_empty() {
            return Err(AnswerError::Empty {
                query: q(),
                var: item.var,
                from: item.from,
                to: item.to,
            });
        }
        p.setinfo(item.var, &value);
        if item.var.eq_ignore_ascii_case("battery.charge") {
            self.batt.chrg_act = strtol(&value) as f64;
        } else if item.var.eq_ignore_ascii_case("battery.runtime") {
            self.batt.runt_act = strtol(&value) as f64;
        }
        Ok(true)
    }

    /// The item's `preprocess_answer` hook: the raw answer to the answer the
    /// fields are cut from.
    pub(crate) fn answer_hook(&mut self, item: &'static Item, ans: &[u8]) -> HookOut2 {
        match item.pre_ans {
            Hook::None => HookOut2::Value(ans.to_vec()),
            Hook::VoltronicQsHexPreprocessQsAnswer => {
                if ans.is_empty() {
                    return HookOut2::Value(Vec::new());
                }
                match qs_hex_refine(ans) {
                    Some(v) => HookOut2::Value(v),
                    None => HookOut2::Refused,
                }
            }
            Hook::VoltronicAxpertCheckcrc => {
                if ans.is_empty() {
                    return HookOut2::Value(Vec::new());
                }
                match crate::crc::check_and_remove(ans) {
                    Some(v) => HookOut2::Value(v),
                    None => HookOut2::Refused,
                }
            }
            Hook::OmronRejectNak => {
                if ans.len() >= 3 && ans.starts_with(b"NAK") {
                    HookOut2::Refused
                } else {
                    HookOut2::Value(ans.to_vec())
                }
            }
            Hook::OmronCommandAnswer => {
                if ans.len() < 2 || !ans.starts_with(b"OK") {
                    HookOut2::Refused
                } else {
                    HookOut2::Value(b"OK\r".to_vec())
                }
            }
            Hook::BestupsPreprocessIdAnswer => {
                if ans.is_empty() {
                    return HookOut2::Value(Vec::new());
                }
                match bestups_refine(ans) {
                    Some(v) => HookOut2::Value(v),
                    None => HookOut2::Refused,
                }
            }
            _ => HookOut2::Unsupported,
        }
    }

    pub(crate) fn unskip(&mut self, var: &str, flag: u16, noflag: u16) -> bool {
        let found = self.proto.items.iter().enumerate().find(|(_, it)| {
            it.var.eq_ignore_ascii_case(var)
                && (flag == 0 || it.has(flag))
                && it.flags & noflag == 0
        });
        match found {
            Some((i, _)) => {
                if let Some(s) = self.skip.get_mut(i) {
                    *s = false;
                }
                true
            }
            None => false,
        }
    }

    /// A command's or setting's hook: the NUT value to the bytes to send.
    pub(crate) fn command_hook(
        &mut self,
        item: &'static Item,
        value: &str,
        p: &mut dyn Publish,
    ) -> HookOut {
        self.run_hook(item, value.as_bytes(), p)
    }

    /// The `preprocess` hooks this crate implements.
    fn run_hook(&mut self, item: &'static Item, field: &[u8], p: &mut dyn Publish) -> HookOut {
        let v = String::from_utf8_lossy(field);
        let v: &str = &v;
        let first = field.first().copied().unwrap_or(0);
        match item.pre {
            Hook::BlazerProcessStatusBits => blazer_bits(item, field, p),
            Hook::BestupsProcessBbbStatusBit => {
                let mut f = field.to_vec();
                let on_line = self.status & st::OL != 0 && self.status & (st::CAL | st::FSD) == 0;
                if let Some(b) = f.first_mut() {
                    if !on_line {
                        if *b == b'1' {
                            *b = b'0';
                        }
                    } else if self.inverted_bbb_bit {
                        *b = match *b {
                            b'1' => b'0',
                            b'0' => b'1',
                            x => x,
                        };
                    }
                }
                blazer_bits(item, &f, p)
            }
            Hook::BlazerProcessCommand => self.blazer_command(item, v, p),
            Hook::BlazerProcessSetvar => blazer_setvar(item, v),
            Hook::QxMultiplyBattvolt => {
                if !self.config.battery_voltage_reports_one_pack || self.batt.packs < 2.0 {
                    HookOut::Value(v.to_string())
                } else {
                    match scan_f32(v) {
                        Some(s) => HookOut::Value(printf(
                            "%.2f",
                            &[Arg::F(f64::from(s) * self.batt.packs)],
                        )),
                        None => HookOut::Refused,
                    }
                }
            }
            Hook::QxMultiplyX1000 => match scan_f32(v) {
                Some(s) => HookOut::Value(printf("%.2f", &[Arg::F(f64::from(s) * 1000.0)])),
                None => HookOut::Refused,
            },
            Hook::QxMultiplyM2s => match scan_f32(v) {
                Some(s) => HookOut::Value(printf("%.0f", &[Arg::F(f64::from(s) * 60.0)])),
                None => HookOut::Refused,
            },
            Hook::Q2ProcessTopologyBits | Hook::Q6ProcessTopologyBits => {
                if field.iter().take_while(|b| matches!(b, b'0' | b'1')).count() != 1 {
                    return HookOut::Refused;
                }
                let ok = if item.pre == Hook::Q2ProcessTopologyBits {
                    matches!(item.from, 115 | 116)
                } else {
                    matches!(item.from, 107 | 108)
                };
                if !ok {
                    return HookOut::Refused;
                }
                HookOut::Value(if first == b'1' { "star" } else { "delta" }.to_string())
            }
            Hook::GtecProcessStatus => {
                let mut val = "OFF";
                self.update_status("OL");
                for c in field.iter() {
                    match c {
                        b'A' => val = "!OL",
                        b'B' => self.update_status("LB"),
                        b'C' => val = "BYPASS",
                        b'D' => p.alarm_set("UPS failed"),
                        b'E' => {
                            p.setinfo("battery.test.status", "Test in progress");
                        }
                        b'F' => self.update_status("FSD"),
                        b'G' => p.alarm_set("Site fault"),
                        b'H' => p.alarm_set("EPROM fail"),
                        b'I' => {
                            p.setinfo("battery.test.status", "Test passed - Result: OK");
                        }
                        b'J' => {
                            p.setinfo("battery.test.status", "Test passed - Result: Failed");
                            self.update_status("RB");
                        }
                        b'K' => {
                            p.setinfo("battery.test.status", "Battery disconnected");
                        }
                        b'L' => {
                            p.setinfo("battery.test.status", "Test status unknown");
                        }
                        b'M' => val = "OL",
                        b'N' => self.update_status("OVER"),
                        b'P' => p.alarm_set("Battery disconnected"),
                        _ => {}
                    }
                }
                HookOut::Value(val.to_string())
            }
            Hook::VoltronicQsProtocol => {
                if !v.eq_ignore_ascii_case("V") {
                    return HookOut::Refused;
                }
                HookOut::Value(printf(item.dfl.unwrap_or("%s"), &[Arg::S(v)]))
            }
            Hook::VoltronicP98Protocol => {
                if !v.eq_ignore_ascii_case("PI98") {
                    return HookOut::Refused;
                }
                HookOut::Value(printf(item.dfl.unwrap_or("%s"), &[Arg::S("Voltronic Power P98")]))
            }
            Hook::MecerProcessTestBattery => {
                let p98 = p
                    .getinfo("ups.firmware.aux")
                    .is_some_and(|s| s.eq_ignore_ascii_case("Voltronic Power P98"));
                let min = if p98 { 12 } else { 60 };
                if !v.bytes().all(|b| b.is_ascii_digit()) {
                    return HookOut::Refused;
                }
                let t = if v.is_empty() { 600 } else { strtol(v) };
                if t < min || t > 5940 {
                    return HookOut::Refused;
                }
                let buf = if t < 60 {
                    printf(".%ld", &[Arg::I(t / 6)])
                } else {
                    printf("%02ld", &[Arg::I(t / 60)])
                };
                HookOut::Value(printf(item.command, &[Arg::S(&buf)]))
            }
            Hook::VoltronicProtocol => {
                let Some(rest) =
                    v.get(2..).filter(|_| v.get(..2).is_some_and(|s| s.eq_ignore_ascii_case("PI")))
                else {
                    return HookOut::Refused;
                };
                if !rest.bytes().all(|b| b"0123489".contains(&b)) {
                    return HookOut::Refused;
                }
                let n = strtol(rest);
                if !matches!(n, 0 | 1 | 2 | 3 | 8 | 9 | 10 | 13 | 14 | 31 | 99) {
                    return HookOut::Refused;
                }
                self.voltronic_unskip(n);
                HookOut::Value(printf("P%02ld", &[Arg::I(n)]))
            }
            Hook::VoltronicMode => {
                let (status, alarm) = match first {
                    b'P' => (None, Some("UPS is going ON")),
                    b'S' => (Some("OFF"), None),
                    b'Y' => (Some("BYPASS"), None),
                    b'L' => (Some("OL"), None),
                    b'B' => (Some("!OL"), None),
                    b'T' => (Some("CAL"), None),
                    b'F' => (None, Some("Fault reported by UPS.")),
                    b'E' => (None, Some("UPS is in ECO Mode.")),
                    b'C' => (None, Some("UPS is in Converter Mode.")),
                    b'D' => (Some("FSD"), Some("UPS is shutting down!")),
                    _ => return HookOut::Refused,
                };
                let dfl = item.dfl.unwrap_or("%s");
                let out = match (alarm, status) {
                    (Some(a), _) if item.var.eq_ignore_ascii_case("ups.alarm") => {
                        printf(dfl, &[Arg::S(a)])
                    }
                    (_, Some(s)) if item.var.eq_ignore_ascii_case("ups.status") => {
                        printf(dfl, &[Arg::S(s)])
                    }
                    _ => String::new(),
                };
                HookOut::Value(out)
            }
            Hook::VoltronicOutputPowerfactor | Hook::VoltronicBattRuntime => {
                if !item::is_numeric(field) {
                    return HookOut::Refused;
                }
                let k = if item.pre == Hook::VoltronicOutputPowerfactor { 0.01 } else { 60.0 };
                HookOut::Value(printf(item.dfl.unwrap_or("%s"), &[Arg::F(strtod(v) * k)]))
            }
            Hook::VoltronicSerialNumb | Hook::VoltronicAxpertSerialNumb => {
                if field.iter().all(|&b| b == b'0') {
                    return HookOut::Refused;
                }
                HookOut::Value(printf(item.dfl.unwrap_or("%s"), &[Arg::S(v)]))
            }
            Hook::VoltronicAxpertProtocol => {
                let ok = v.get(..2).is_some_and(|s| s.eq_ignore_ascii_case("PI"))
                    && v.get(2..).is_some_and(|r| r.bytes().all(|b| b == b'0' || b == b'3'));
                if !ok || strtol(v.get(2..).unwrap_or("")) != 30 {
                    return HookOut::Refused;
                }
                HookOut::Value(String::from("P30"))
            }
            Hook::VoltronicAxpertStatus => {
                if field.contains(&b'-') && item.has(flags::QUICK_POLL) {
                    return HookOut::Value(String::new());
                }
                if !field.iter().all(|b| matches!(b, b'0' | b'1')) {
                    return HookOut::Refused;
                }
                let on = first == b'1';
                let val = match item.from {
                    24 | 25 | 83 | 84 | 85 | 87 | 89 | 90 | 104 | 105 | 106 => "",
                    86 => {
                        if on {
                            "!OFF"
                        } else {
                            "OFF"
                        }
                    }
                    88 => {
                        if on {
                            "CHRG"
                        } else {
                            "!CHRG"
                        }
                    }
                    _ => return HookOut::Refused,
                };
                HookOut::Value(val.to_string())
            }
            Hook::VoltronicAxpertMode => {
                let (status, alarm) = match first {
                    b'P' => (None, Some("Device is going ON.")),
                    b'S' => (Some("OFF"), None),
                    b'L' => (Some("OL"), None),
                    b'B' => (Some("!OL"), None),
                    b'F' => (None, Some("Fault reported by device.")),
                    b'H' => (Some("ECO"), None),
                    _ => (None, None),
                };
                let dfl = item.dfl.unwrap_or("%s");
                let out = match (alarm, status) {
                    (Some(a), _) if item.var.eq_ignore_ascii_case("ups.alarm") => {
                        printf(dfl, &[Arg::S(a)])
                    }
                    (_, Some(s)) if item.var.eq_ignore_ascii_case("ups.status") => {
                        printf(dfl, &[Arg::S(s)])
                    }
                    _ => String::new(),
                };
                HookOut::Value(out)
            }
            Hook::VoltronicStatus => {
                if !field.iter().all(|b| matches!(b, b'0' | b'1')) {
                    return HookOut::Refused;
                }
                let on = first == b'1';
                let val = match item.from {
                    63 => match strtol(v) {
                        0 => "offline",
                        1 => "line-interactive",
                        10 => "online",
                        _ => return HookOut::Refused,
                    },
                    65 => {
                        if on {
                            "!OL"
                        } else {
                            "OL"
                        }
                    }
                    66 => {
                        if on {
                            "LB"
                        } else {
                            "!LB"
                        }
                    }
                    67 => {
                        if !on {
                            ""
                        } else {
                            match voltage_compare(p) {
                                None => return HookOut::Refused,
                                Some("BYPASS") => {
                                    let prot = p
                                        .getinfo("ups.firmware.aux")
                                        .map_or(0, |s| strtol(s.get(1..).unwrap_or("")));
                                    let alarm = item.var.eq_ignore_ascii_case("ups.alarm");
                                    if prot == 0 || prot == 8 {
                                        if alarm { "UPS is in AVR Mode." } else { "" }
                                    } else if alarm {
                                        ""
                                    } else {
                                        "BYPASS"
                                    }
                                }
                                Some(x) => x,
                            }
                        }
                    }
                    // NUT compares the character with the number 1 here, so
                    // this never fires.
                    68 => "",
                    70 => {
                        if on {
                            "CAL"
                        } else {
                            "!CAL"
                        }
                    }
                    71 => {
                        if on {
                            "FSD"
                        } else {
                            "!FSD"
                        }
                    }
                    72 => {
                        if first == b'0' {
                            "enabled"
                        } else {
                            "disabled"
                        }
                    }
                    _ => return HookOut::Refused,
                };
                HookOut::Value(val.to_string())
            }
            Hook::VoltronicQsHexProtocol => {
                if !(v.eq_ignore_ascii_case("P") || v.eq_ignore_ascii_case("T")) {
                    return HookOut::Refused;
                }
                let out = printf(item.dfl.unwrap_or("%s"), &[Arg::S(v)]);
                if v.eq_ignore_ascii_case("T") {
                    let list = [
                        ("test.battery.start.quick", flags::CMD),
                        ("output.frequency.nominal", 0),
                        ("battery.voltage.nominal", 0),
                        ("output.voltage.nominal", 0),
                    ];
                    for (var, f) in list {
                        if !self.unskip(var, f, 0) {
                            return HookOut::Refused;
                        }
                    }
                }
                HookOut::Value(out)
            }
            Hook::VoltronicQsHexInputOutputVoltage
            | Hook::VoltronicQsHexFrequency
            | Hook::VoltronicQsHexBatteryVoltage => {
                if !field.iter().all(|b| b.is_ascii_hexdigit() || *b == b' ') {
                    return HookOut::Refused;
                }
                let (a, b) = hex_pair(v);
                let dfl = item.dfl.unwrap_or("%s");
                let out = match item.pre {
                    Hook::VoltronicQsHexInputOutputVoltage => {
                        let val = a.saturating_mul(b) / 51;
                        val as f64 / 256.0
                    }
                    Hook::VoltronicQsHexFrequency => {
                        let r = b as f64 / a as f64;
                        if r > 99.9 { 99.9 } else { r }
                    }
                    _ => a.saturating_mul(b) as f64 / 510.0,
                };
                HookOut::Value(printf(dfl, &[Arg::F(out)]))
            }
            Hook::VoltronicQsHexLoad => {
                if !field.iter().all(u8::is_ascii_hexdigit) {
                    return HookOut::Refused;
                }
                let n = i64::from_str_radix(v, 16).unwrap_or(0);
                HookOut::Value(printf(item.dfl.unwrap_or("%s"), &[Arg::I(n)]))
            }
            Hook::VoltronicQsHexProcessRatingsBits => {
                if !field.iter().all(|b| matches!(b, b'0' | b'1')) {
                    return HookOut::Refused;
                }
                let val = strtol(v);
                let ret = match item.from {
                    47 => {
                        if val == 0 {
                            50.0
                        } else {
                            60.0
                        }
                    }
                    48 => match val {
                        0 => 12.0,
                        1 => 24.0,
                        10 => 36.0,
                        _ => 48.0,
                    },
                    52 => match val {
                        0 => 110.0,
                        1 => 120.0,
                        10 => 220.0,
                        11 => 230.0,
                        100 => 240.0,
                        _ => return HookOut::Refused,
                    },
                    _ => return HookOut::Refused,
                };
                HookOut::Value(printf(item.dfl.unwrap_or("%s"), &[Arg::F(ret)]))
            }
            Hook::BestupsModel => {
                let dfl = item.dfl.unwrap_or("%s");
                let out = match v {
                    "AX1" => printf(dfl, &[Arg::S("Axxium Rackmount")]),
                    "FOR" => printf(dfl, &[Arg::S("Fortress")]),
                    "FTC" => printf(dfl, &[Arg::S("Fortress Telecom")]),
                    "PR2" => {
                        self.inverted_bbb_bit = true;
                        printf(dfl, &[Arg::S("Patriot Pro II")])
                    }
                    "PRO" => {
                        self.inverted_bbb_bit = true;
                        printf(dfl, &[Arg::S("Patriot Pro")])
                    }
                    "320" | "325" | "520" | "525" | "620" => printf("Sola %s", &[Arg::S(v)]),
                    // NUT passes "Unknown (%s)" as the argument of `%s`.
                    _ => printf(dfl, &[Arg::S("Unknown (%s)"), Arg::S(v)]),
                };
                if v != "PRO" && v != "320" && !self.unskip("battery.runtime", 0, 0) {
                    return HookOut::Refused;
                }
                if (v == "AX1" || v == "620") && !self.unskip("battery.packs", 0, flags::SETVAR) {
                    return HookOut::Refused;
                }
                HookOut::Value(out)
            }
            _ => self.run_hook_extra(item, field, p),
        }
    }

    /// `blazer_process_command`.
    fn blazer_command(&mut self, item: &'static Item, v: &str, p: &mut dyn Publish) -> HookOut {
        let name = item.var;
        if name.eq_ignore_ascii_case("shutdown.return")
            || name.eq_ignore_ascii_case("shutdown.stayoff")
        {
            let Some(off) = p.getinfo("ups.delay.shutdown").map(strtol) else {
                return HookOut::Refused;
            };
            if off < 0 {
                return HookOut::Refused;
            }
            let n = if off < 60 {
                printf(".%ld", &[Arg::I(off / 6)])
            } else {
                printf("%02ld", &[Arg::I(off / 60)])
            };
            let buf = if name.eq_ignore_ascii_case("shutdown.return") {
                let Some(on) = p.getinfo("ups.delay.start").map(|s| strtol(s) / 60) else {
                    return HookOut::Refused;
                };
                if on <= 0 { n } else { printf("%sR%04ld", &[Arg::S(&n), Arg::I(on)]) }
            } else {
                n
            };
            HookOut::Value(printf(item.command, &[Arg::S(&buf)]))
        } else if name.eq_ignore_ascii_case("test.battery.start") {
            let delay = if v.is_empty() { 600 } else { strtol(v) };
            if !(60..=5940).contains(&delay) {
                return HookOut::Refused;
            }
            HookOut::Value(printf(item.command, &[Arg::I(delay / 60)]))
        } else {
            HookOut::Refused
        }
    }

    // ---- battery estimate -------------------------------------------------

    /// `qx_battery`.
    fn battery_charge(&mut self, p: &mut dyn Publish) -> bool {
        let Some(val) = p.getinfo("battery.voltage") else { return false };
        self.batt.volt_act = self.batt.packs * strtod(val);
        let b = &mut self.batt;
        if d_equal(b.chrg_act, -1.0) && b.volt_low > 0.0 && b.volt_high > b.volt_low {
            let c = 100.0 * (b.volt_act - b.volt_low) / (b.volt_high - b.volt_low);
            b.chrg_act = c.clamp(0.0, 100.0);
            let s = printf("%.0f", &[Arg::F(b.chrg_act)]);
            p.setinfo("battery.charge", &s);
        }
        true
    }

    /// `qx_load`.
    fn battery_load(&mut self, p: &mut dyn Publish) -> bool {
        let Some(val) = p.getinfo("ups.load") else { return false };
        let b = &mut self.batt;
        b.load_act = strtod(val);
        b.load_eff = math::pow(b.load_act / 100.0, b.runt_exp);
        if b.load_eff < b.load_low {
            b.load_eff = b.load_low;
        }
        true
    }

    /// `qx_initbattery`. Errors are NUT's fatal ones.
    pub(crate) fn init_battery(
        &mut self,
        p: &mut dyn Publish,
        now: Duration,
    ) -> Result<(), &'static str> {
        if p.getinfo("battery.charge").is_some() && p.getinfo("battery.runtime").is_some() {
            return Ok(());
        }
        if let Some(v) = p.getinfo("battery.voltage.high") {
            self.batt.volt_high = strtod(v);
        }
        if let Some(v) = p.getinfo("battery.voltage.low") {
            self.batt.volt_low = strtod(v);
        }
        if let Some(v) = p.getinfo("battery.voltage.nominal") {
            self.batt.volt_nom = strtod(v);
        }
        let b = &mut self.batt;
        if !d_equal(b.volt_nom, -1.0) && (d_equal(b.volt_low, -1.0) || d_equal(b.volt_high, -1.0)) {
            b.volt_low = 104.0 * b.volt_nom / 120.0;
            b.volt_high = 130.0 * b.volt_nom / 120.0;
            let lo = printf("%.2f", &[Arg::F(b.volt_low)]);
            let hi = printf("%.2f", &[Arg::F(b.volt_high)]);
            p.setinfo("battery.voltage.low", &lo);
            p.setinfo("battery.voltage.high", &hi);
        }
        match p.getinfo("battery.packs").filter(|v| item::is_numeric(v.as_bytes())) {
            Some(v) => self.batt.packs = strtod(v),
            None => {
                if self.battery_charge(p) && !d_equal(self.batt.volt_nom, -1.0) {
                    const PACKS: [f64; 17] = [
                        120.0, 100.0, 80.0, 60.0, 48.0, 36.0, 30.0, 24.0, 18.0, 12.0, 8.0, 6.0,
                        4.0, 3.0, 2.0, 1.0, 0.5,
                    ];
                    let b = &mut self.batt;
                    for m in PACKS {
                        if m * b.volt_act > 1.2 * b.volt_nom {
                            continue;
                        }
                        if m * b.volt_act < 0.8 * b.volt_nom {
                            break;
                        }
                        b.packs = m;
                        break;
                    }
                }
            }
        }
        self.battery_charge(p);
        let Some((rh, lh, rl, ll)) = self.config.runtimecal else {
            return Ok(());
        };
        self.batt.lastpoll = now;
        self.batt.runtimecal = true;
        let b = &mut self.batt;
        b.runt_exp = math::ln(rl / rh) / math::ln(lh / ll);
        b.runt_nom = rh * math::pow(lh / 100.0, b.runt_exp);
        let mut charge = p.getinfo("battery.charge").map(strtod);
        if charge.is_none() && !d_equal(self.batt.volt_nom, -1.0) {
            self.batt.volt_low = self.batt.volt_nom;
            self.batt.volt_high = 1.15 * self.batt.volt_nom;
            if !self.battery_charge(p) {
                return Err("initial battery charge undetermined");
            }
            charge = p.getinfo("battery.charge").map(strtod);
        }
        match charge {
            Some(c) => self.batt.runt_est = self.batt.runt_nom * c / 100.0,
            None => return Err("initial battery charge undetermined"),
        }
        self.batt.chrg_time = self.config.chargetime;
        self.batt.load_low = self.config.idleload;
        Ok(())
    }

    /// The estimate at the end of a full update (`qx_ups_walk`).
    pub(crate) fn update_battery(&mut self, p: &mut dyn Publish, now: Duration) {
        if !(d_equal(self.batt.runt_act, -1.0) || d_equal(self.batt.chrg_act, -1.0)) {
            return;
        }
        if !self.batt.runtimecal {
            self.battery_charge(p);
            return;
        }
        let dt = now.saturating_sub(self.batt.lastpoll).as_secs_f64();
        let ol = self.status & st::OL != 0;
        let b = &mut self.batt;
        if ol {
            b.runt_est += b.runt_nom * dt / b.chrg_time;
            if b.runt_est > b.runt_nom {
                b.runt_est = b.runt_nom;
            }
        } else {
            b.runt_est -= b.load_eff * dt;
            if b.runt_est < 0.0 {
                b.runt_est = 0.0;
            }
        }
        if let Some(val) = p.getinfo("battery.voltage") {
            let b = &mut self.batt;
            b.volt_act = b.packs * strtod(val);
            if b.volt_act > 0.0 && b.volt_low > 0.0 && b.volt_high > b.volt_low {
                let c = ((b.volt_act - b.volt_low) / (b.volt_high - b.volt_low)).clamp(0.0, 1.0);
                if c < b.runt_est / b.runt_nom {
                    b.runt_est = c * b.runt_nom;
                }
            }
        }
        if d_equal(self.batt.chrg_act, -1.0) {
            let s = printf("%.0f", &[Arg::F(100.0 * self.batt.runt_est / self.batt.runt_nom)]);
            p.setinfo("battery.charge", &s);
        }
        if d_equal(self.batt.runt_act, -1.0) && self.battery_load(p) {
            let s = printf("%.0f", &[Arg::F(self.batt.runt_est / self.batt.load_eff)]);
            p.setinfo("battery.runtime", &s);
        }
        self.batt.lastpoll = now;
    }
}

/// Result of an answer hook.
pub(crate) enum HookOut2 {
    /// The answer to cut fields from.
    Value(Vec<u8>),
    /// The hook refused the answer.
    Refused,
    /// The hook is not implemented.
    Unsupported,
}

/// Two hexadecimal numbers separated by spaces (`strtol(s, &end, 16)` twice).
fn hex_pair(v: &str) -> (i64, i64) {
    let mut it = v.split(' ').filter(|t| !t.is_empty());
    let a = it.next().and_then(|t| i64::from_str_radix(t, 16).ok()).unwrap_or(0);
    let b = it.next().and_then(|t| i64::from_str_radix(t, 16).ok()).unwrap_or(0);
    (a, b)
}

/// Voltronic-QS-Hex: the binary `QS` answer as hex text (tokens 10 and 11
/// as bits), NUT's `voltronic_qs_hex_preprocess_qs_answer`.
fn qs_hex_refine(ans: &[u8]) -> Option<Vec<u8>> {
    if ans.first() != Some(&b'#') {
        return None;
    }
    let mut out = String::from("#");
    let mut token = 1;
    let emit = |out: &mut String, token: i32, b: u8| {
        if token != 10 && token != 11 {
            out.push_str(&printf("%02x", &[Arg::I(i64::from(b))]));
        } else {
            let mut bits = 0i64;
            let mut pow = 1i64;
            let mut r = b;
            while r != 0 {
                if r & 1 != 0 {
                    bits += pow;
                }
                pow *= 10;
                r >>= 1;
            }
            out.push_str(&printf("%08d", &[Arg::I(bits)]));
        }
    };
    let mut i = 1;
    while i < ans.len() {
        let b = ans.get(i).copied().unwrap_or(0);
        if b == 0x20 {
            out.push(' ');
            token += 1;
            i += 1;
            continue;
        }
        if b == 0x28 {
            let esc = match ans.get(i + 1).copied().unwrap_or(0) {
                0 => Some(0x0d),
                1 => Some(0x11),
                2 => Some(0x13),
                3 => Some(0x0a),
                4 => Some(0x20),
                _ => None,
            };
            match esc {
                Some(e) => {
                    out.push_str(&printf("%02x", &[Arg::I(e)]));
                    i += 2;
                }
                None => {
                    emit(&mut out, token, b);
                    i += 1;
                }
            }
            continue;
        }
        if b == 0x0d {
            break;
        }
        emit(&mut out, token, b);
        i += 1;
    }
    let ok = (token == 10 && out.len() == 46) || (token == 11 && out.len() == 55);
    if !ok {
        return None;
    }
    out.push('\r');
    Some(out.into_bytes())
}

/// BestUPS `ID`: fields padded to fixed widths (`bestups_preprocess_id_answer`).
fn bestups_refine(ans: &[u8]) -> Option<Vec<u8>> {
    let len = ans.len();
    if !(25..=27).contains(&len) {
        return None;
    }
    let raw = String::from_utf8_lossy(item::c_str(ans)).into_owned();
    let mut out = String::new();
    let mut n = 0;
    for (i, tok) in raw.split(',').filter(|t| !t.is_empty()).enumerate() {
        n = i + 1;
        match n {
            1 => out.push_str(tok),
            2 => out.push_str(&printf(",%4s", &[Arg::S(tok)])),
            6 => out.push_str(&printf(",%6s", &[Arg::S(tok)])),
            _ => {
                out.push(',');
                out.push_str(tok);
            }
        }
    }
    if n != 6 || out.len() != 28 {
        return None;
    }
    Some(out.into_bytes())
}

/// `blazer_process_status_bits`.
fn blazer_bits(item: &Item, field: &[u8], p: &mut dyn Publish) -> HookOut {
    let first = field.first().copied().unwrap_or(0);
    // Exactly one leading 0/1 character (strspn(value, "01") == 1).
    let n = field.iter().take_while(|b| matches!(b, b'0' | b'1')).count();
    if n != 1 {
        return HookOut::Refused;
    }
    let on = first == b'1';
    let val = match item.from {
        38 => {
            if on {
                "!OL"
            } else {
                "OL"
            }
        }
        39 => {
            if on {
                "LB"
            } else {
                "!LB"
            }
        }
        40 => {
            if on {
                match voltage_compare(p) {
                    Some(v) => v,
                    None => return HookOut::Refused,
                }
            } else {
                ""
            }
        }
        41 => {
            if on {
                "UPS selftest failed!"
            } else {
                ""
            }
        }
        42 => {
            if on {
                "offline / line interactive"
            } else {
                "online"
            }
        }
        43 => {
            if on {
                "CAL"
            } else {
                "!CAL"
            }
        }
        44 => {
            if on {
                "FSD"
            } else {
                "!FSD"
            }
        }
        45 => {
            if on {
                "enabled"
            } else {
                "disabled"
            }
        }
        _ => return HookOut::Refused,
    };
    HookOut::Value(val.to_string())
}

/// `blazer_process_setvar`.
fn blazer_setvar(item: &Item, v: &str) -> HookOut {
    if v.is_empty() {
        return HookOut::Refused;
    }
    let mut d = strtol(v);
    if d < 0 {
        return HookOut::Refused;
    }
    if item.var.eq_ignore_ascii_case("ups.delay.start") {
        d -= d % 60;
    } else if item.var.eq_ignore_ascii_case("ups.delay.shutdown") {
        d -= if d < 60 { d % 6 } else { d % 60 };
    } else {
        return HookOut::Refused;
    }
    HookOut::Value(printf("%ld", &[Arg::I(d)]))
}

/// Output vs input voltage when the bypass/boost/buck bit is set.
fn voltage_compare(p: &dyn Publish) -> Option<&'static str> {
    let vi = strtod(p.getinfo("input.voltage")?);
    let vo = strtod(p.getinfo("output.voltage")?);
    if vo < 0.5 * vi {
        None
    } else if vo < 0.95 * vi {
        Some("TRIM")
    } else if vo < 1.05 * vi {
        Some("BYPASS")
    } else if vo < 1.5 * vi {
        Some("BOOST")
    } else {
        None
    }
}

/// `sscanf(value, "%f", &f)`.
fn scan_f32(v: &str) -> Option<f32> {
    let t = v.trim_start();
    let end = t
        .bytes()
        .position(|b| {
            !(b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+' || b == b'e' || b == b'E')
        })
        .unwrap_or(t.len());
    let mut e = end;
    while e > 0 {
        if let Some(x) = t.get(..e).and_then(|s| s.parse::<f32>().ok()) {
            return Some(x);
        }
        e -= 1;
    }
    None
}
