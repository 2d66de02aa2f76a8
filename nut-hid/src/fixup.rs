//! NUT's vendor fix-ups of broken descriptors and values.
//!
//! * [`apc_fix`] and [`cyberpower_fix`]: the voltage range repairs that NUT 2.8.0's
//!   `apc-hid.c` (051d:0002) and `cps-hid.c` (0764:0501) apply right after parsing the
//!   descriptor; [`apply`] runs the one for the device.
//! * [`LiebertVoltageFix`]: the Belkin/Liebert correction of voltages reported with a
//!   wrong unit exponent (`belkin-hid.c`), in its NUT 2.8.0 form and its later form
//!   (which NUT's `getexponenttest-belkin-hid` vectors describe).

use crate::ReportDescriptor;

/// USB vendor ID of CyberPower.
pub const CYBERPOWER_VENDOR_ID: u16 = 0x0764;
/// USB vendor ID of APC.
pub const APC_VENDOR_ID: u16 = 0x051d;
const HIGH_VOLTAGE_TRANSFER: u32 = 0x0084_0054;
const VOLTAGE: u32 = 0x0084_0030;
const CONFIG_VOLTAGE: u32 = 0x0084_0040;

/// NUT's `FindObject_with_ID_Node`: the first field (any type) of report `id` whose
/// path ends with `usage`.
fn find_id_node(desc: &ReportDescriptor, id: u8, usage: u32) -> Option<usize> {
    desc.fields().iter().position(|f| f.report_id == id && f.path.last() == Some(usage))
}

/// Runs NUT 2.8.0's descriptor repair for this device, if there is one
/// ([`apc_fix`], [`cyberpower_fix`]). Returns true when the descriptor was changed.
pub fn apply(desc: &mut ReportDescriptor, vendor_id: u16, product_id: u16) -> bool {
    apc_fix(desc, vendor_id, product_id) | cyberpower_fix(desc, vendor_id, product_id)
}

/// NUT's APC descriptor repair, for vendor 051d product 0002 only.
///
/// It reads the Logical Maximum of the first field of report 0x33 whose usage is
/// HighVoltageTransfer. If that maximum is above the Logical Maximum of the first
/// Voltage field of report 0x31 (input voltage), the input voltage gets the logical
/// range 0..2×that maximum. If it is above the Logical Maximum of the first
/// ConfigVoltage field of report 0x30, that field's maximum becomes 255. Returns true
/// when the descriptor was changed.
pub fn apc_fix(desc: &mut ReportDescriptor, vendor_id: u16, product_id: u16) -> bool {
    if vendor_id != APC_VENDOR_ID || product_id != 0x0002 {
        return false;
    }
    let Some(hvt) = find_id_node(desc, 0x33, HIGH_VOLTAGE_TRANSFER) else {
        return false;
    };
    let voltage = find_id_node(desc, 0x31, VOLTAGE);
    let config = find_id_node(desc, 0x30, CONFIG_VOLTAGE);
    let fields = desc.fields_mut();
    let Some(hvt_max) = fields.get(hvt).map(|f| f.logical_max) else {
        return false;
    };
    let mut changed = false;
    if let Some(f) = voltage.and_then(|i| fields.get_mut(i))
        && hvt_max > f.logical_max
    {
        f.logical_min = 0;
        f.logical_max = hvt_max.saturating_mul(2);
        changed = true;
    }
    if let Some(f) = config.and_then(|i| fields.get_mut(i))
        && hvt_max > f.logical_max
    {
        f.logical_max = 255;
        changed = true;
    }
    changed
}

/// NUT's CyberPower descriptor repair, for vendor 0764 product 0501 only.
///
/// If the first field of report 16 whose usage is HighVoltageTransfer has the same
/// logical range as the first field of report 18 whose usage is Voltage (the output
/// voltage), that output-voltage field gets the logical range 0..511. Returns true when
/// the descriptor was changed. (NUT 2.8.0 leaves the input voltage, report 15, alone.)
pub fn cyberpower_fix(desc: &mut ReportDescriptor, vendor_id: u16, product_id: u16) -> bool {
    if vendor_id != CYBERPOWER_VENDOR_ID || product_id != 0x0501 {
        return false;
    }
    let Some(hvt) = find_id_node(desc, 16, HIGH_VOLTAGE_TRANSFER) else {
        return false;
    };
    let Some(out) = find_id_node(desc, 18, VOLTAGE) else {
        return false;
    };
    let fields = desc.fields_mut();
    let range = |i: usize| fields.get(i).map(|f| (f.logical_min, f.logical_max));
    if range(hvt) != range(out) {
        return false;
    }
    match fields.get_mut(out) {
        Some(f) => {
            f.logical_min = 0;
            f.logical_max = 511;
            true
        }
        None => false,
    }
}

/// Which NUT release's Liebert voltage heuristics to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiebertFixVersion {
    /// NUT 2.8.0: a value within 1e-9 of 1e-7 gets ×1e7 (line) or ×1e8 (config).
    Nut2_8_0,
    /// Later NUT: line voltages near 1e-5 (within 4e-5) get ×1e7, near 1e-3 (within
    /// 4e-3) ×1e5; config voltages as in 2.8.0.
    Later,
}

/// NUT's Belkin/Liebert voltage multiplier state (`liebert_config_voltage_mult` and
/// `liebert_line_voltage_mult`): a multiplier, once picked, stays for later readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiebertVoltageFix {
    version: LiebertFixVersion,
    /// Multiplier applied to config (nominal) voltages.
    pub config_mult: f64,
    /// Multiplier applied to line (input/output) voltages.
    pub line_mult: f64,
}

impl LiebertVoltageFix {
    /// Fresh state: both multipliers 1.
    pub fn new(version: LiebertFixVersion) -> Self {
        LiebertVoltageFix { version, config_mult: 1.0, line_mult: 1.0 }
    }

    /// A config (nominal) voltage reading, corrected.
    pub fn config_voltage(&mut self, value: f64) -> f64 {
        if value < 1.0 && abs(value - 1e-7) < 1e-9 {
            self.config_mult = 1e8;
            self.line_mult = 1e7;
        }
        value * self.config_mult
    }

    /// A line (input/output) voltage reading, corrected.
    pub fn line_voltage(&mut self, value: f64) -> f64 {
        if value < 1.0 {
            match self.version {
                LiebertFixVersion::Nut2_8_0 => {
                    if abs(value - 1e-7) < 1e-9 {
                        self.line_mult = 1e7;
                    }
                }
                LiebertFixVersion::Later => {
                    if abs(value - 1e-5) < 4.0 * 1e-5 {
                        self.line_mult = 1e7;
                    } else if abs(value - 1e-3) < 4.0 * 1e-3 {
                        self.line_mult = 1e5;
                    }
                }
            }
        }
        value * self.line_mult
    }
}

fn abs(x: f64) -> f64 {
    if x < 0.0 { -x } else { x }
}
