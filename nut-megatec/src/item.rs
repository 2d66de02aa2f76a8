//! NUT's item table (`item_t`) as data, and the generic answer checks.
//!
//! One [`Item`] maps one field of one query's answer to one NUT variable,
//! or describes one instant command or writable variable. The tables of
//! every protocol are in [`crate::protocol`].

use crate::error::{AnswerError, escape};
use alloc::string::String;
use alloc::vec::Vec;

/// Item flags (NUT's `QX_FLAG_*`), as data.
pub mod flags {
    /// Read once, at init.
    pub const STATIC: u16 = 2;
    /// Read again only after a command or a setting.
    pub const SEMI_STATIC: u16 = 4;
    /// Not read from the device: the value is the item's default.
    pub const ABSENT: u16 = 8;
    /// Part of the quick (status) update; a failure fails the update.
    pub const QUICK_POLL: u16 = 16;
    /// An instant command.
    pub const CMD: u16 = 32;
    /// A writable variable's setter.
    pub const SETVAR: u16 = 64;
    /// Strip `#` and spaces at both ends.
    pub const TRIM: u16 = 128;
    /// Allowed values in `info_rw`.
    pub const ENUM: u16 = 256;
    /// Allowed ranges (pairs) in `info_rw`.
    pub const RANGE: u16 = 512;
    /// Not a NUT variable: only logged.
    pub const NONUT: u16 = 1024;
    /// Not processed.
    pub const SKIP: u16 = 2048;
}

/// `info_flags`: NUT's `ST_FLAG_RW`.
pub const ST_FLAG_RW: u8 = 1;
/// `info_flags`: NUT's `ST_FLAG_STRING`.
pub const ST_FLAG_STRING: u8 = 2;

/// One allowed value (enum member, range bound, string length) of a
/// writable variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RwValue {
    /// The value as NUT lists it.
    pub value: &'static str,
    /// The filter that decides whether it is offered.
    pub filter: RwHook,
}

/// One row of a protocol's item table (NUT `item_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// NUT variable, status/alarm pseudo-variable or command name.
    pub var: &'static str,
    /// [`ST_FLAG_RW`] / [`ST_FLAG_STRING`].
    pub info_flags: u8,
    /// Enum values, range pairs or string length.
    pub info_rw: &'static [RwValue],
    /// The query or command template (printf-style), with its `\r`.
    pub command: &'static str,
    /// Minimum answer length (0: no check).
    pub min_len: usize,
    /// First byte of a valid answer (0: no check).
    pub leading: u8,
    /// First position of the field (0-based, inclusive).
    pub from: usize,
    /// Last position (inclusive); 0 means up to the CR.
    pub to: usize,
    /// printf format of the value, or the default value of an ABSENT item
    /// or a command.
    pub dfl: Option<&'static str>,
    /// [`flags`].
    pub flags: u16,
    /// Hook run on the command before it is sent.
    pub pre_cmd: Hook,
    /// Hook run on the whole answer (decoding).
    pub pre_ans: Hook,
    /// Hook run on the field (value to NUT, or NUT value to command).
    pub pre: Hook,
}

impl Item {
    /// Whether all of `f` are set.
    pub fn has(&self, f: u16) -> bool {
        self.flags & f == f
    }
}

/// The answer as NUT's C code sees it: up to the first NUL.
pub fn c_str(answer: &[u8]) -> &[u8] {
    match answer.iter().position(|&b| b == 0) {
        Some(n) => answer.get(..n).unwrap_or(answer),
        None => answer,
    }
}

/// ASCII case-insensitive equality (NUT's `strcasecmp(...) == 0`).
pub fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A query for error messages: escaped, without its trailing CR.
pub(crate) fn query_name(cmd: &[u8]) -> String {
    let end = cmd.iter().position(|&b| b == b'\r').unwrap_or(cmd.len());
    escape(cmd.get(..end).unwrap_or(cmd))
}

/// NUT's `qx_process_answer`: the checks every answer goes through, then
/// the item's field. `answer` is what the transport returned (after any
/// answer hook); `len` the length NUT would use for the minimum-length
/// check. Deliberate difference: a NUL ends the answer for that check too,
/// so a NUL-truncated answer is refused instead of yielding empty fields.
pub fn extract(
    item: &Item,
    query: &[u8],
    answer: &[u8],
    len: usize,
    rejected: Option<&str>,
) -> Result<Vec<u8>, AnswerError> {
    let s = c_str(answer);
    let q = || query_name(query);
    if let Some(r) = rejected {
        if eq_ic(s, r.as_bytes()) {
            return Err(AnswerError::Rejected { query: q(), answer: escape(s) });
        }
    }
    let len = len.min(s.len());
    if item.min_len != 0 && len < item.min_len {
        return Err(AnswerError::Short { query: q(), answer: escape(s), len, min: item.min_len });
    }
    if item.leading != 0 && s.first() != Some(&item.leading) {
        return Err(AnswerError::Leading {
            query: q(),
            answer: escape(s),
            expected: char::from(item.leading),
        });
    }
    if item.to != 0 && item.to < item.from {
        return Err(AnswerError::Empty { query: q(), var: item.var, from: item.from, to: item.to });
    }
    Ok(field(item, s).to_vec())
}

/// The item's field of a C-string answer (no checks).
pub fn field<'a>(item: &Item, s: &'a [u8]) -> &'a [u8] {
    if s.is_empty() {
        return s;
    }
    let start = item.from.min(s.len());
    let rest = s.get(start..).unwrap_or(&[]);
    let n = if item.to != 0 {
        item.to.saturating_sub(item.from).saturating_add(1)
    } else {
        let cr = s.iter().position(|&b| b == b'\r').unwrap_or(s.len());
        // A negative precision in NUT's printf means "no limit".
        cr.checked_sub(item.from).unwrap_or(rest.len())
    };
    rest.get(..n.min(rest.len())).unwrap_or(rest)
}

/// NUT's `str_trim_m(value, "# ")`.
pub fn trim_hash_space(v: &str) -> &str {
    v.trim_matches(|c| c == '#' || c == ' ')
}

/// Whether `v` holds only `0-9`, space and `.` (NUT's numeric check; an
/// empty string passes).
pub fn is_numeric(v: &[u8]) -> bool {
    v.iter().all(|&b| b.is_ascii_digit() || b == b' ' || b == b'.')
}

/// C `strtod` on the longest valid prefix (leading spaces skipped); 0 when
/// nothing parses.
pub fn strtod(s: &str) -> f64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r']);
    let b = t.as_bytes();
    let mut end = 0;
    let mut best = 0.0;
    // Try every prefix that looks like a number; keep the longest that parses.
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut seen_e = false;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        let ok = match c {
            b'0'..=b'9' => {
                seen_digit = true;
                true
            }
            b'.' if !seen_dot && !seen_e => {
                seen_dot = true;
                true
            }
            b'e' | b'E' if seen_digit && !seen_e => {
                seen_e = true;
                true
            }
            b'+' | b'-' if seen_e && matches!(b.get(i.wrapping_sub(1)), Some(b'e' | b'E')) => true,
            _ => false,
        };
        if !ok {
            break;
        }
        i += 1;
        if let Some(p) = t.get(..i) {
            if let Ok(v) = p.parse::<f64>() {
                best = v;
                end = i;
            } else if let Some(p2) = p.strip_suffix('.') {
                // "12." is a number in C; Rust parses it too, but be safe.
                if let Ok(v) = p2.parse::<f64>() {
                    best = v;
                    end = i;
                }
            }
        }
    }
    let _ = end;
    best
}

/// C `strtol(s, NULL, 10)`: leading spaces, sign, digits; saturating.
pub fn strtol(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r']);
    let mut it = t.bytes().peekable();
    let neg = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    for c in it {
        if !c.is_ascii_digit() {
            break;
        }
        let d = i64::from(c - b'0');
        v = v.saturating_mul(10).saturating_add(d);
    }
    if neg { v.saturating_neg() } else { v }
}

/// One printf argument.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// A `double`.
    F(f64),
    /// An integer.
    I(i64),
    /// A string.
    S(&'a str),
}

/// A small printf: `%%`, flags `-+ 0#`, width, precision and the
/// conversions `d i u f s x X` (with `l`/`ll` ignored). Arguments are used
/// in order; a conversion without an argument prints nothing.
pub fn printf(fmt: &str, args: &[Arg<'_>]) -> String {
    let mut out = String::new();
    let b = fmt.as_bytes();
    let mut i = 0;
    let mut next = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        if c != b'%' {
            // Copy one UTF-8 character.
            let ch_len = fmt.get(i..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
            if let Some(s) = fmt.get(i..i + ch_len) {
                out.push_str(s);
            }
            i += ch_len;
            continue;
        }
        i += 1;
        if b.get(i) == Some(&b'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let (mut left, mut plus, mut zero, mut space) = (false, false, false, false);
        while let Some(&f) = b.get(i) {
            match f {
                b'-' => left = true,
                b'+' => plus = true,
                b'0' => zero = true,
                b' ' => space = true,
                b'#' => {}
                _ => break,
            }
            i += 1;
        }
        let mut width = 0usize;
        while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            width = width.saturating_mul(10).saturating_add(usize::from(d - b'0')).min(512);
            i += 1;
        }
        let mut prec: Option<usize> = None;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let mut p = 0usize;
            while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                p = p.saturating_mul(10).saturating_add(usize::from(d - b'0')).min(64);
                i += 1;
            }
            prec = Some(p);
        }
        while matches!(b.get(i), Some(b'l' | b'h' | b'z')) {
            i += 1;
        }
        let conv = b.get(i).copied().unwrap_or(0);
        i += 1;
        let arg = args.get(next).copied();
        next += 1;
        let (body, numeric) = match (conv, arg) {
            (b'f' | b'F', Some(a)) => {
                let v = match a {
                    Arg::F(v) => v,
                    Arg::I(v) => v as f64,
                    Arg::S(s) => strtod(s),
                };
                (fmt_f(v, prec.unwrap_or(6), plus, space), true)
            }
            (b'd' | b'i' | b'u', Some(a)) => {
                let v = match a {
                    Arg::F(v) => v as i64,
                    Arg::I(v) => v,
                    Arg::S(s) => strtol(s),
                };
                let mut s = alloc::format!("{}", v.unsigned_abs());
                if let Some(p) = prec {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                }
                if v < 0 {
                    s.insert(0, '-');
                } else if plus {
                    s.insert(0, '+');
                } else if space {
                    s.insert(0, ' ');
                }
                (s, true)
            }
            (b'x' | b'X', Some(a)) => {
                let v = match a {
                    Arg::F(v) => v as i64,
                    Arg::I(v) => v,
                    Arg::S(s) => strtol(s),
                };
                let s = if conv == b'x' {
                    alloc::format!("{:x}", v)
                } else {
                    alloc::format!("{:X}", v)
                };
                (s, true)
            }
            (b's', Some(a)) => {
                let s: String = match a {
                    Arg::S(s) => s.into(),
                    Arg::F(v) => alloc::format!("{v}"),
                    Arg::I(v) => alloc::format!("{v}"),
                };
                let s = match prec {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                };
                (s, false)
            }
            _ => (String::new(), false),
        };
        let n = body.chars().count();
        if n >= width {
            out.push_str(&body);
        } else if left {
            out.push_str(&body);
            out.extend(core::iter::repeat_n(' ', width - n));
        } else if zero && numeric {
            let (sign, digits) = match body.chars().next() {
                Some(c @ ('-' | '+' | ' ')) => (Some(c), body.get(1..).unwrap_or("")),
                _ => (None, body.as_str()),
            };
            if let Some(c) = sign {
                out.push(c);
            }
            out.extend(core::iter::repeat_n('0', width - n));
            out.push_str(digits);
        } else {
            out.extend(core::iter::repeat_n(' ', width - n));
            out.push_str(&body);
        }
    }
    out
}

/// `%.<prec>f` of C (round half to even on the exact binary value, which is
/// what Rust's formatting does too).
fn fmt_f(v: f64, prec: usize, plus: bool, space: bool) -> String {
    let mut s = if v.is_nan() {
        String::from("nan")
    } else if v.is_infinite() {
        String::from(if v < 0.0 { "-inf" } else { "inf" })
    } else {
        alloc::format!("{:.*}", prec, v)
    };
    // C prints "-0.0" for negative zero and for negatives rounding to 0.
    if !s.starts_with('-') && v.is_sign_negative() && !v.is_nan() {
        s.insert(0, '-');
    }
    if !s.starts_with('-') {
        if plus {
            s.insert(0, '+');
        } else if space {
            s.insert(0, ' ');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_like_c() {
        assert_eq!(printf("%.1f", &[Arg::F(215.0)]), "215.0");
        assert_eq!(printf("%.0f", &[Arg::F(14.0)]), "14");
        assert_eq!(printf("%.2f", &[Arg::F(22.7)]), "22.70");
        // Ties round to even on the binary value, as glibc.
        assert_eq!(printf("%.0f", &[Arg::F(36.5)]), "36");
        assert_eq!(printf("%.0f", &[Arg::F(0.5)]), "0");
        assert_eq!(printf("%02d", &[Arg::I(4)]), "04");
        assert_eq!(printf("S%sR%04ld", &[Arg::S("02"), Arg::I(5)]), "S02R0005");
        assert_eq!(printf("%08d", &[Arg::I(1001)]), "00001001");
        assert_eq!(printf("%4s|%-3s|", &[Arg::S("ab"), Arg::S("c")]), "  ab|c  |");
        assert_eq!(printf("%+04.0f", &[Arg::F(-5.0)]), "-005");
        assert_eq!(printf("100%%", &[]), "100%");
        assert_eq!(printf("%.1f", &[Arg::F(-0.04)]), "-0.0");
        assert_eq!(printf("%d", &[]), "");
    }

    #[test]
    fn strtod_and_strtol_prefixes() {
        assert_eq!(strtod(" 22.7"), 22.7);
        assert_eq!(strtod("12."), 12.0);
        assert_eq!(strtod("   .  "), 0.0);
        assert_eq!(strtod("1.5x"), 1.5);
        assert_eq!(strtod(""), 0.0);
        assert_eq!(strtol(" 0180"), 180);
        assert_eq!(strtol("-1"), -1);
        assert_eq!(strtol("99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn field_positions() {
        let it = Item {
            var: "x",
            info_flags: 0,
            info_rw: &[],
            command: "Q1\r",
            min_len: 0,
            leading: 0,
            from: 1,
            to: 0,
            dfl: None,
            flags: 0,
            pre_cmd: Hook::None,
            pre_ans: Hook::None,
            pre: Hook::None,
        };
        assert_eq!(field(&it, b"#abc\rzz"), b"abc");
        assert_eq!(field(&Item { from: 9, ..it }, b"#ab\r"), b"");
        assert_eq!(field(&Item { to: 2, ..it }, b"#abc\r"), b"ab");
        assert_eq!(field(&Item { from: 3, to: 9, ..it }, b"#abc"), b"c");
        assert_eq!(c_str(b"ab\0cd"), b"ab");
    }
}

/// A NUT preprocessing hook named by an item (`preprocess_command`,
/// `preprocess_answer` or `preprocess`). Hooks this crate does not implement
/// make their item fail, as a failing hook does in NUT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hook {
    /// No hook.
    None,
    /// NUT `ablerex_At`.
    AblerexAt,
    /// NUT `ablerex_Q5`.
    AblerexQ5,
    /// NUT `ablerex_TR`.
    AblerexTR,
    /// NUT `ablerex_battery`.
    AblerexBattery,
    /// NUT `ablerex_batterycharge`.
    AblerexBatterycharge,
    /// NUT `ablerex_initbattery`.
    AblerexInitbattery,
    /// NUT `ablerex_process_status_bits`.
    AblerexProcessStatusBits,
    /// NUT `bestups_batt_packs`.
    BestupsBattPacks,
    /// NUT `bestups_batt_runtime`.
    BestupsBattRuntime,
    /// NUT `bestups_get_pins_shutdown_mode`.
    BestupsGetPinsShutdownMode,
    /// NUT `bestups_manufacturer`.
    BestupsManufacturer,
    /// NUT `bestups_model`.
    BestupsModel,
    /// NUT `bestups_preprocess_id_answer`.
    BestupsPreprocessIdAnswer,
    /// NUT `bestups_process_bbb_status_bit`.
    BestupsProcessBbbStatusBit,
    /// NUT `bestups_process_setvar`.
    BestupsProcessSetvar,
    /// NUT `bestups_voltage_settings`.
    BestupsVoltageSettings,
    /// NUT `blazer_process_command`.
    BlazerProcessCommand,
    /// NUT `blazer_process_setvar`.
    BlazerProcessSetvar,
    /// NUT `blazer_process_status_bits`.
    BlazerProcessStatusBits,
    /// NUT `gtec_process_status`.
    GtecProcessStatus,
    /// NUT `masterguard_add_slaveaddr`.
    MasterguardAddSlaveaddr,
    /// NUT `masterguard_battvolt`.
    MasterguardBattvolt,
    /// NUT `masterguard_beeper_status`.
    MasterguardBeeperStatus,
    /// NUT `masterguard_fault`.
    MasterguardFault,
    /// NUT `masterguard_hhh`.
    MasterguardHhh,
    /// NUT `masterguard_mmm_ss`.
    MasterguardMmmSs,
    /// NUT `masterguard_model`.
    MasterguardModel,
    /// NUT `masterguard_new_slaveaddr`.
    MasterguardNewSlaveaddr,
    /// NUT `masterguard_numcells`.
    MasterguardNumcells,
    /// NUT `masterguard_output_current`.
    MasterguardOutputCurrent,
    /// NUT `masterguard_output_current_nominal`.
    MasterguardOutputCurrentNominal,
    /// NUT `masterguard_output_voltages`.
    MasterguardOutputVoltages,
    /// NUT `masterguard_power`.
    MasterguardPower,
    /// NUT `masterguard_series`.
    MasterguardSeries,
    /// NUT `masterguard_set_slaveaddr`.
    MasterguardSetSlaveaddr,
    /// NUT `masterguard_setvar`.
    MasterguardSetvar,
    /// NUT `masterguard_shutdown_return`.
    MasterguardShutdownReturn,
    /// NUT `masterguard_shutdown_stayoff`.
    MasterguardShutdownStayoff,
    /// NUT `masterguard_slaveaddr`.
    MasterguardSlaveaddr,
    /// NUT `masterguard_status`.
    MasterguardStatus,
    /// NUT `masterguard_test_battery`.
    MasterguardTestBattery,
    /// NUT `masterguard_tttt_hh_mm_ss`.
    MasterguardTtttHhMmSs,
    /// NUT `masterguard_ups_power`.
    MasterguardUpsPower,
    /// NUT `mecer_process_test_battery`.
    MecerProcessTestBattery,
    /// NUT `omron_command_answer`.
    OmronCommandAnswer,
    /// NUT `omron_process_batt_date`.
    OmronProcessBattDate,
    /// NUT `omron_process_charge`.
    OmronProcessCharge,
    /// NUT `omron_process_command`.
    OmronProcessCommand,
    /// NUT `omron_process_firmware`.
    OmronProcessFirmware,
    /// NUT `omron_process_frequency`.
    OmronProcessFrequency,
    /// NUT `omron_process_runtime`.
    OmronProcessRuntime,
    /// NUT `omron_process_signed`.
    OmronProcessSigned,
    /// NUT `omron_process_un`.
    OmronProcessUn,
    /// NUT `omron_reject_nak`.
    OmronRejectNak,
    /// NUT `q2_process_topology_bits`.
    Q2ProcessTopologyBits,
    /// NUT `q6_process_topology_bits`.
    Q6ProcessTopologyBits,
    /// NUT `qx_multiply_battvolt`.
    QxMultiplyBattvolt,
    /// NUT `qx_multiply_m2s`.
    QxMultiplyM2s,
    /// NUT `qx_multiply_x1000`.
    QxMultiplyX1000,
    /// NUT `voltronic_axpert_capability`.
    VoltronicAxpertCapability,
    /// NUT `voltronic_axpert_capability_reset`.
    VoltronicAxpertCapabilityReset,
    /// NUT `voltronic_axpert_capability_set`.
    VoltronicAxpertCapabilitySet,
    /// NUT `voltronic_axpert_capability_set_nonut`.
    VoltronicAxpertCapabilitySetNonut,
    /// NUT `voltronic_axpert_checkcrc`.
    VoltronicAxpertCheckcrc,
    /// NUT `voltronic_axpert_crc`.
    VoltronicAxpertCrc,
    /// NUT `voltronic_axpert_fw`.
    VoltronicAxpertFw,
    /// NUT `voltronic_axpert_hex_preprocess`.
    VoltronicAxpertHexPreprocess,
    /// NUT `voltronic_axpert_mode`.
    VoltronicAxpertMode,
    /// NUT `voltronic_axpert_protocol`.
    VoltronicAxpertProtocol,
    /// NUT `voltronic_axpert_qpiri_battery_type`.
    VoltronicAxpertQpiriBatteryType,
    /// NUT `voltronic_axpert_qpiri_model_type`.
    VoltronicAxpertQpiriModelType,
    /// NUT `voltronic_axpert_serial_numb`.
    VoltronicAxpertSerialNumb,
    /// NUT `voltronic_axpert_status`.
    VoltronicAxpertStatus,
    /// NUT `voltronic_axpert_transformer`.
    VoltronicAxpertTransformer,
    /// NUT `voltronic_batt_numb`.
    VoltronicBattNumb,
    /// NUT `voltronic_batt_runtime`.
    VoltronicBattRuntime,
    /// NUT `voltronic_bypass`.
    VoltronicBypass,
    /// NUT `voltronic_capability`.
    VoltronicCapability,
    /// NUT `voltronic_capability_reset`.
    VoltronicCapabilityReset,
    /// NUT `voltronic_capability_set`.
    VoltronicCapabilitySet,
    /// NUT `voltronic_capability_set_nonut`.
    VoltronicCapabilitySetNonut,
    /// NUT `voltronic_eco_freq`.
    VoltronicEcoFreq,
    /// NUT `voltronic_eco_volt`.
    VoltronicEcoVolt,
    /// NUT `voltronic_eco_volt_range`.
    VoltronicEcoVoltRange,
    /// NUT `voltronic_fault`.
    VoltronicFault,
    /// NUT `voltronic_mode`.
    VoltronicMode,
    /// NUT `voltronic_outlet`.
    VoltronicOutlet,
    /// NUT `voltronic_outlet_delay`.
    VoltronicOutletDelay,
    /// NUT `voltronic_outlet_delay_set`.
    VoltronicOutletDelaySet,
    /// NUT `voltronic_output_powerfactor`.
    VoltronicOutputPowerfactor,
    /// NUT `voltronic_p31b`.
    VoltronicP31b,
    /// NUT `voltronic_p31b_set`.
    VoltronicP31bSet,
    /// NUT `voltronic_p31g`.
    VoltronicP31g,
    /// NUT `voltronic_p31g_set`.
    VoltronicP31gSet,
    /// NUT `voltronic_p98_protocol`.
    VoltronicP98Protocol,
    /// NUT `voltronic_parallel`.
    VoltronicParallel,
    /// NUT `voltronic_phase`.
    VoltronicPhase,
    /// NUT `voltronic_phase_set`.
    VoltronicPhaseSet,
    /// NUT `voltronic_process_command`.
    VoltronicProcessCommand,
    /// NUT `voltronic_process_setvar`.
    VoltronicProcessSetvar,
    /// NUT `voltronic_protocol`.
    VoltronicProtocol,
    /// NUT `voltronic_qs_hex_battery_voltage`.
    VoltronicQsHexBatteryVoltage,
    /// NUT `voltronic_qs_hex_frequency`.
    VoltronicQsHexFrequency,
    /// NUT `voltronic_qs_hex_input_output_voltage`.
    VoltronicQsHexInputOutputVoltage,
    /// NUT `voltronic_qs_hex_load`.
    VoltronicQsHexLoad,
    /// NUT `voltronic_qs_hex_preprocess_qs_answer`.
    VoltronicQsHexPreprocessQsAnswer,
    /// NUT `voltronic_qs_hex_process_ratings_bits`.
    VoltronicQsHexProcessRatingsBits,
    /// NUT `voltronic_qs_hex_protocol`.
    VoltronicQsHexProtocol,
    /// NUT `voltronic_qs_protocol`.
    VoltronicQsProtocol,
    /// NUT `voltronic_serial_numb`.
    VoltronicSerialNumb,
    /// NUT `voltronic_status`.
    VoltronicStatus,
    /// NUT `voltronic_sunny_01`.
    VoltronicSunny01,
    /// NUT `voltronic_sunny_01_set`.
    VoltronicSunny01Set,
    /// NUT `voltronic_sunny_basic_preprocess_and_update_related_vars_limits`.
    VoltronicSunnyBasicPreprocessAndUpdateRelatedVarsLimits,
    /// NUT `voltronic_sunny_batt_runtime`.
    VoltronicSunnyBattRuntime,
    /// NUT `voltronic_sunny_charger_limits_set`.
    VoltronicSunnyChargerLimitsSet,
    /// NUT `voltronic_sunny_date`.
    VoltronicSunnyDate,
    /// NUT `voltronic_sunny_date_set`.
    VoltronicSunnyDateSet,
    /// NUT `voltronic_sunny_date_skip_me`.
    VoltronicSunnyDateSkipMe,
    /// NUT `voltronic_sunny_discharging_limits_set`.
    VoltronicSunnyDischargingLimitsSet,
    /// NUT `voltronic_sunny_energy_day`.
    VoltronicSunnyEnergyDay,
    /// NUT `voltronic_sunny_energy_hour`.
    VoltronicSunnyEnergyHour,
    /// NUT `voltronic_sunny_energy_month`.
    VoltronicSunnyEnergyMonth,
    /// NUT `voltronic_sunny_energy_year`.
    VoltronicSunnyEnergyYear,
    /// NUT `voltronic_sunny_fault`.
    VoltronicSunnyFault,
    /// NUT `voltronic_sunny_fault_id`.
    VoltronicSunnyFaultId,
    /// NUT `voltronic_sunny_fault_query`.
    VoltronicSunnyFaultQuery,
    /// NUT `voltronic_sunny_fault_status`.
    VoltronicSunnyFaultStatus,
    /// NUT `voltronic_sunny_hh_mm`.
    VoltronicSunnyHhMm,
    /// NUT `voltronic_sunny_hhmm`.
    VoltronicSunnyHhmm,
    /// NUT `voltronic_sunny_hhmm_set`.
    VoltronicSunnyHhmmSet,
    /// NUT `voltronic_sunny_hhmm_x2_set`.
    VoltronicSunnyHhmmX2Set,
    /// NUT `voltronic_sunny_lst`.
    VoltronicSunnyLst,
    /// NUT `voltronic_sunny_pf`.
    VoltronicSunnyPf,
    /// NUT `voltronic_sunny_pfc_set`.
    VoltronicSunnyPfcSet,
    /// NUT `voltronic_sunny_process_setvar`.
    VoltronicSunnyProcessSetvar,
    /// NUT `voltronic_sunny_pv_priority`.
    VoltronicSunnyPvPriority,
    /// NUT `voltronic_sunny_pv_priority_set`.
    VoltronicSunnyPvPrioritySet,
    /// NUT `voltronic_sunny_self_test_result`.
    VoltronicSunnySelfTestResult,
    /// NUT `voltronic_sunny_set_limits`.
    VoltronicSunnySetLimits,
    /// NUT `voltronic_sunny_skip_me`.
    VoltronicSunnySkipMe,
    /// NUT `voltronic_sunny_time`.
    VoltronicSunnyTime,
    /// NUT `voltronic_sunny_time_set`.
    VoltronicSunnyTimeSet,
    /// NUT `voltronic_sunny_time_skip_me`.
    VoltronicSunnyTimeSkipMe,
    /// NUT `voltronic_sunny_unskip_setvar`.
    VoltronicSunnyUnskipSetvar,
    /// NUT `voltronic_sunny_unskip_setvar_and_update_related_vars_limits`.
    VoltronicSunnyUnskipSetvarAndUpdateRelatedVarsLimits,
    /// NUT `voltronic_sunny_volt_nom_set`.
    VoltronicSunnyVoltNomSet,
    /// NUT `voltronic_sunny_warning`.
    VoltronicSunnyWarning,
    /// NUT `voltronic_sunny_yymmdd`.
    VoltronicSunnyYymmdd,
    /// NUT `voltronic_warning`.
    VoltronicWarning,
}

impl Hook {
    /// NUT's name of the hook (`""` for none).
    pub fn name(self) -> &'static str {
        match self {
            Hook::None => "",
            Hook::AblerexAt => "ablerex_At",
            Hook::AblerexQ5 => "ablerex_Q5",
            Hook::AblerexTR => "ablerex_TR",
            Hook::AblerexBattery => "ablerex_battery",
            Hook::AblerexBatterycharge => "ablerex_batterycharge",
            Hook::AblerexInitbattery => "ablerex_initbattery",
            Hook::AblerexProcessStatusBits => "ablerex_process_status_bits",
            Hook::BestupsBattPacks => "bestups_batt_packs",
            Hook::BestupsBattRuntime => "bestups_batt_runtime",
            Hook::BestupsGetPinsShutdownMode => "bestups_get_pins_shutdown_mode",
            Hook::BestupsManufacturer => "bestups_manufacturer",
            Hook::BestupsModel => "bestups_model",
            Hook::BestupsPreprocessIdAnswer => "bestups_preprocess_id_answer",
            Hook::BestupsProcessBbbStatusBit => "bestups_process_bbb_status_bit",
            Hook::BestupsProcessSetvar => "bestups_process_setvar",
            Hook::BestupsVoltageSettings => "bestups_voltage_settings",
            Hook::BlazerProcessCommand => "blazer_process_command",
            Hook::BlazerProcessSetvar => "blazer_process_setvar",
            Hook::BlazerProcessStatusBits => "blazer_process_status_bits",
            Hook::GtecProcessStatus => "gtec_process_status",
            Hook::MasterguardAddSlaveaddr => "masterguard_add_slaveaddr",
            Hook::MasterguardBattvolt => "masterguard_battvolt",
            Hook::MasterguardBeeperStatus => "masterguard_beeper_status",
            Hook::MasterguardFault => "masterguard_fault",
            Hook::MasterguardHhh => "masterguard_hhh",
            Hook::MasterguardMmmSs => "masterguard_mmm_ss",
            Hook::MasterguardModel => "masterguard_model",
            Hook::MasterguardNewSlaveaddr => "masterguard_new_slaveaddr",
            Hook::MasterguardNumcells => "masterguard_numcells",
            Hook::MasterguardOutputCurrent => "masterguard_output_current",
            Hook::MasterguardOutputCurrentNominal => "masterguard_output_current_nominal",
            Hook::MasterguardOutputVoltages => "masterguard_output_voltages",
            Hook::MasterguardPower => "masterguard_power",
            Hook::MasterguardSeries => "masterguard_series",
            Hook::MasterguardSetSlaveaddr => "masterguard_set_slaveaddr",
            Hook::MasterguardSetvar => "masterguard_setvar",
            Hook::MasterguardShutdownReturn => "masterguard_shutdown_return",
            Hook::MasterguardShutdownStayoff => "masterguard_shutdown_stayoff",
            Hook::MasterguardSlaveaddr => "masterguard_slaveaddr",
            Hook::MasterguardStatus => "masterguard_status",
            Hook::MasterguardTestBattery => "masterguard_test_battery",
            Hook::MasterguardTtttHhMmSs => "masterguard_tttt_hh_mm_ss",
            Hook::MasterguardUpsPower => "masterguard_ups_power",
            Hook::MecerProcessTestBattery => "mecer_process_test_battery",
            Hook::OmronCommandAnswer => "omron_command_answer",
            Hook::OmronProcessBattDate => "omron_process_batt_date",
            Hook::OmronProcessCharge => "omron_process_charge",
            Hook::OmronProcessCommand => "omron_process_command",
            Hook::OmronProcessFirmware => "omron_process_firmware",
            Hook::OmronProcessFrequency => "omron_process_frequency",
            Hook::OmronProcessRuntime => "omron_process_runtime",
            Hook::OmronProcessSigned => "omron_process_signed",
            Hook::OmronProcessUn => "omron_process_un",
            Hook::OmronRejectNak => "omron_reject_nak",
            Hook::Q2ProcessTopologyBits => "q2_process_topology_bits",
            Hook::Q6ProcessTopologyBits => "q6_process_topology_bits",
            Hook::QxMultiplyBattvolt => "qx_multiply_battvolt",
            Hook::QxMultiplyM2s => "qx_multiply_m2s",
            Hook::QxMultiplyX1000 => "qx_multiply_x1000",
            Hook::VoltronicAxpertCapability => "voltronic_axpert_capability",
            Hook::VoltronicAxpertCapabilityReset => "voltronic_axpert_capability_reset",
            Hook::VoltronicAxpertCapabilitySet => "voltronic_axpert_capability_set",
            Hook::VoltronicAxpertCapabilitySetNonut => "voltronic_axpert_capability_set_nonut",
            Hook::VoltronicAxpertCheckcrc => "voltronic_axpert_checkcrc",
            Hook::VoltronicAxpertCrc => "voltronic_axpert_crc",
            Hook::VoltronicAxpertFw => "voltronic_axpert_fw",
            Hook::VoltronicAxpertHexPreprocess => "voltronic_axpert_hex_preprocess",
            Hook::VoltronicAxpertMode => "voltronic_axpert_mode",
            Hook::VoltronicAxpertProtocol => "voltronic_axpert_protocol",
            Hook::VoltronicAxpertQpiriBatteryType => "voltronic_axpert_qpiri_battery_type",
            Hook::VoltronicAxpertQpiriModelType => "voltronic_axpert_qpiri_model_type",
            Hook::VoltronicAxpertSerialNumb => "voltronic_axpert_serial_numb",
            Hook::VoltronicAxpertStatus => "voltronic_axpert_status",
            Hook::VoltronicAxpertTransformer => "voltronic_axpert_transformer",
            Hook::VoltronicBattNumb => "voltronic_batt_numb",
            Hook::VoltronicBattRuntime => "voltronic_batt_runtime",
            Hook::VoltronicBypass => "voltronic_bypass",
            Hook::VoltronicCapability => "voltronic_capability",
            Hook::VoltronicCapabilityReset => "voltronic_capability_reset",
            Hook::VoltronicCapabilitySet => "voltronic_capability_set",
            Hook::VoltronicCapabilitySetNonut => "voltronic_capability_set_nonut",
            Hook::VoltronicEcoFreq => "voltronic_eco_freq",
            Hook::VoltronicEcoVolt => "voltronic_eco_volt",
            Hook::VoltronicEcoVoltRange => "voltronic_eco_volt_range",
            Hook::VoltronicFault => "voltronic_fault",
            Hook::VoltronicMode => "voltronic_mode",
            Hook::VoltronicOutlet => "voltronic_outlet",
            Hook::VoltronicOutletDelay => "voltronic_outlet_delay",
            Hook::VoltronicOutletDelaySet => "voltronic_outlet_delay_set",
            Hook::VoltronicOutputPowerfactor => "voltronic_output_powerfactor",
            Hook::VoltronicP31b => "voltronic_p31b",
            Hook::VoltronicP31bSet => "voltronic_p31b_set",
            Hook::VoltronicP31g => "voltronic_p31g",
            Hook::VoltronicP31gSet => "voltronic_p31g_set",
            Hook::VoltronicP98Protocol => "voltronic_p98_protocol",
            Hook::VoltronicParallel => "voltronic_parallel",
            Hook::VoltronicPhase => "voltronic_phase",
            Hook::VoltronicPhaseSet => "voltronic_phase_set",
            Hook::VoltronicProcessCommand => "voltronic_process_command",
            Hook::VoltronicProcessSetvar => "voltronic_process_setvar",
            Hook::VoltronicProtocol => "voltronic_protocol",
            Hook::VoltronicQsHexBatteryVoltage => "voltronic_qs_hex_battery_voltage",
            Hook::VoltronicQsHexFrequency => "voltronic_qs_hex_frequency",
            Hook::VoltronicQsHexInputOutputVoltage => "voltronic_qs_hex_input_output_voltage",
            Hook::VoltronicQsHexLoad => "voltronic_qs_hex_load",
            Hook::VoltronicQsHexPreprocessQsAnswer => "voltronic_qs_hex_preprocess_qs_answer",
            Hook::VoltronicQsHexProcessRatingsBits => "voltronic_qs_hex_process_ratings_bits",
            Hook::VoltronicQsHexProtocol => "voltronic_qs_hex_protocol",
            Hook::VoltronicQsProtocol => "voltronic_qs_protocol",
            Hook::VoltronicSerialNumb => "voltronic_serial_numb",
            Hook::VoltronicStatus => "voltronic_status",
            Hook::VoltronicSunny01 => "voltronic_sunny_01",
            Hook::VoltronicSunny01Set => "voltronic_sunny_01_set",
            Hook::VoltronicSunnyBasicPreprocessAndUpdateRelatedVarsLimits => {
                "voltronic_sunny_basic_preprocess_and_update_related_vars_limits"
            }
            Hook::VoltronicSunnyBattRuntime => "voltronic_sunny_batt_runtime",
            Hook::VoltronicSunnyChargerLimitsSet => "voltronic_sunny_charger_limits_set",
            Hook::VoltronicSunnyDate => "voltronic_sunny_date",
            Hook::VoltronicSunnyDateSet => "voltronic_sunny_date_set",
            Hook::VoltronicSunnyDateSkipMe => "voltronic_sunny_date_skip_me",
            Hook::VoltronicSunnyDischargingLimitsSet => "voltronic_sunny_discharging_limits_set",
            Hook::VoltronicSunnyEnergyDay => "voltronic_sunny_energy_day",
            Hook::VoltronicSunnyEnergyHour => "voltronic_sunny_energy_hour",
            Hook::VoltronicSunnyEnergyMonth => "voltronic_sunny_energy_month",
            Hook::VoltronicSunnyEnergyYear => "voltronic_sunny_energy_year",
            Hook::VoltronicSunnyFault => "voltronic_sunny_fault",
            Hook::VoltronicSunnyFaultId => "voltronic_sunny_fault_id",
            Hook::VoltronicSunnyFaultQuery => "voltronic_sunny_fault_query",
            Hook::VoltronicSunnyFaultStatus => "voltronic_sunny_fault_status",
            Hook::VoltronicSunnyHhMm => "voltronic_sunny_hh_mm",
            Hook::VoltronicSunnyHhmm => "voltronic_sunny_hhmm",
            Hook::VoltronicSunnyHhmmSet => "voltronic_sunny_hhmm_set",
            Hook::VoltronicSunnyHhmmX2Set => "voltronic_sunny_hhmm_x2_set",
            Hook::VoltronicSunnyLst => "voltronic_sunny_lst",
            Hook::VoltronicSunnyPf => "voltronic_sunny_pf",
            Hook::VoltronicSunnyPfcSet => "voltronic_sunny_pfc_set",
            Hook::VoltronicSunnyProcessSetvar => "voltronic_sunny_process_setvar",
            Hook::VoltronicSunnyPvPriority => "voltronic_sunny_pv_priority",
            Hook::VoltronicSunnyPvPrioritySet => "voltronic_sunny_pv_priority_set",
            Hook::VoltronicSunnySelfTestResult => "voltronic_sunny_self_test_result",
            Hook::VoltronicSunnySetLimits => "voltronic_sunny_set_limits",
            Hook::VoltronicSunnySkipMe => "voltronic_sunny_skip_me",
            Hook::VoltronicSunnyTime => "voltronic_sunny_time",
            Hook::VoltronicSunnyTimeSet => "voltronic_sunny_time_set",
            Hook::VoltronicSunnyTimeSkipMe => "voltronic_sunny_time_skip_me",
            Hook::VoltronicSunnyUnskipSetvar => "voltronic_sunny_unskip_setvar",
            Hook::VoltronicSunnyUnskipSetvarAndUpdateRelatedVarsLimits => {
                "voltronic_sunny_unskip_setvar_and_update_related_vars_limits"
            }
            Hook::VoltronicSunnyVoltNomSet => "voltronic_sunny_volt_nom_set",
            Hook::VoltronicSunnyWarning => "voltronic_sunny_warning",
            Hook::VoltronicSunnyYymmdd => "voltronic_sunny_yymmdd",
            Hook::VoltronicWarning => "voltronic_warning",
        }
    }
}

/// A filter on one allowed value of a writable variable (NUT `info_rw_t`
/// preprocess): it decides at run time whether the value is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RwHook {
    /// Always offered.
    None,
    /// NUT `voltronic_batt_low`.
    VoltronicBattLow,
    /// NUT `voltronic_bypass_freq_max`.
    VoltronicBypassFreqMax,
    /// NUT `voltronic_bypass_freq_min`.
    VoltronicBypassFreqMin,
    /// NUT `voltronic_bypass_volt_max`.
    VoltronicBypassVoltMax,
    /// NUT `voltronic_bypass_volt_min`.
    VoltronicBypassVoltMin,
    /// NUT `voltronic_eco_freq_max`.
    VoltronicEcoFreqMax,
    /// NUT `voltronic_eco_freq_min`.
    VoltronicEcoFreqMin,
    /// NUT `voltronic_sunny_bc_v_bulk`.
    VoltronicSunnyBcVBulk,
    /// NUT `voltronic_sunny_grid_inout_freq_max`.
    VoltronicSunnyGridInoutFreqMax,
    /// NUT `voltronic_sunny_grid_inout_freq_min`.
    VoltronicSunnyGridInoutFreqMin,
    /// NUT `voltronic_sunny_pv_input_volt_max`.
    VoltronicSunnyPvInputVoltMax,
    /// NUT `voltronic_sunny_pv_priority_enum`.
    VoltronicSunnyPvPriorityEnum,
}
