//! Fields of reports: reading and writing their bits, and NUT's scaling of the values.

use crate::ReportError;
use crate::ReportType;
use crate::usage::Path;

/// Unit code NUT scales with an exponent offset of 7: volt.
pub const UNIT_VOLT: u32 = 0x00F0_D121;
/// Unit code NUT scales with an exponent offset of 7: volt-ampere and watt.
pub const UNIT_VA_WATT: u32 = 0x0000_D121;

/// One field of a report, as NUT 2.8.0 lists it (a `HIDData_t`).
///
/// Offsets and sizes are NUT's 8-bit values: NUT keeps them in a byte, so a field
/// starting 256 bits or more into its report wraps around exactly as in NUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Usage path: enclosing collections (and `[n]` index nodes), then the field's usage.
    pub path: Path,
    /// Report ID (0 when the descriptor uses none).
    pub report_id: u8,
    /// Input, Output or Feature.
    pub report_type: ReportType,
    /// Bit offset after the report ID byte.
    pub bit_offset: u8,
    /// Size in bits.
    pub bit_size: u8,
    /// The low byte of the main item's data (bit 0 constant, bit 1 variable, ...).
    pub attribute: u8,
    /// Logical Minimum.
    pub logical_min: i64,
    /// Logical Maximum (NUT re-reads it as unsigned when it is below the minimum).
    pub logical_max: i64,
    /// Physical Minimum, once the descriptor gave one.
    pub physical_min: Option<i64>,
    /// Physical Maximum, once the descriptor gave one.
    pub physical_max: Option<i64>,
    /// Unit code.
    pub unit: u32,
    /// Unit Exponent (a 4-bit signed nibble).
    pub unit_exponent: i8,
    /// Byte offset of the main item in the descriptor.
    pub descriptor_offset: usize,
    /// True when reports of this descriptor start with the report ID byte.
    pub id_byte: bool,
}

impl Field {
    pub(crate) fn template(id_byte: bool) -> Field {
        Field {
            path: Path::new(),
            report_id: 0,
            report_type: ReportType::Feature,
            bit_offset: 0,
            bit_size: 0,
            attribute: 0,
            logical_min: 0,
            logical_max: 0,
            physical_min: None,
            physical_max: None,
            unit: 0,
            unit_exponent: 0,
            descriptor_offset: 0,
            id_byte,
        }
    }

    /// True for an array field (attribute bit 1 clear).
    pub fn is_array(&self) -> bool {
        self.attribute & 2 == 0
    }

    /// True for a variable field (attribute bit 1 set).
    pub fn is_variable(&self) -> bool {
        !self.is_array()
    }

    /// NUT's "settable" test: a field whose attribute is exactly "constant" is refused.
    pub fn is_settable(&self) -> bool {
        self.attribute != 1
    }

    fn first_bit(&self) -> usize {
        usize::from(self.bit_offset) + if self.id_byte { 8 } else { 0 }
    }

    /// Report bytes needed to hold this field (the ID byte included when used).
    pub fn needed_len(&self) -> usize {
        (self.first_bit() + usize::from(self.bit_size)).div_ceil(8)
    }

    fn check_len(&self, len: usize) -> Result<(), ReportError> {
        let needed = self.needed_len();
        if len < needed {
            return Err(ReportError::TooShort {
                report_id: self.report_id,
                bit_offset: self.bit_offset,
                bit_size: self.bit_size,
                needed,
                len,
            });
        }
        Ok(())
    }

    /// The field's bits, least significant first (bits past the 64th are ignored).
    pub fn raw_bits(&self, report: &[u8]) -> Result<u64, ReportError> {
        self.check_len(report.len())?;
        let first = self.first_bit();
        let mut value = 0u64;
        for weight in 0..usize::from(self.bit_size).min(64) {
            let bit = first + weight;
            let byte = report.get(bit / 8).copied().unwrap_or(0);
            if byte & (1 << (bit % 8)) != 0 {
                value |= 1 << weight;
            }
        }
        Ok(value)
    }

    /// Reads the field's logical value from `report` as NUT's `GetValue` does.
    ///
    /// `report` starts with the report ID byte when the descriptor uses report IDs. The
    /// bits are masked to the width the logical range needs (a sign bit only when the
    /// Logical Minimum is negative), sign-extended, then clamped to the logical range.
    pub fn extract(&self, report: &[u8]) -> Result<i64, ReportError> {
        let raw = self.raw_bits(report)?;
        Ok(self.logical_from_bits(raw))
    }

    /// NUT's masking, sign extension and clamping of raw bits.
    pub fn logical_from_bits(&self, raw: u64) -> i64 {
        let (min, max) = (self.logical_min, self.logical_max);
        let magnitude = |v: i64| -> u64 { if v >= 0 { v as u64 } else { (-(v + 1)) as u64 } };
        let mag = magnitude(max).max(magnitude(min));
        let hibit = 64 - mag.leading_zeros();
        let signbit = 1u64.checked_shl(hibit).unwrap_or(0);
        let mask = signbit.wrapping_sub(1) | if min < 0 { signbit } else { 0 };
        let mut value = raw & mask;
        if min < 0 && value & signbit != 0 {
            value |= !mask;
        }
        let value = value as i64;
        // NUT's order: below the minimum first, then above the maximum.
        if value < min {
            min
        } else if value > max {
            max
        } else {
            value
        }
    }

    /// Writes the low `bit_size` bits of `logical` into `report` (NUT's `SetValue`); the
    /// other bits are left alone.
    pub fn insert(&self, report: &mut [u8], logical: i64) -> Result<(), ReportError> {
        self.check_len(report.len())?;
        let first = self.first_bit();
        for weight in 0..usize::from(self.bit_size) {
            let bit = first + weight;
            let set = (logical >> weight.min(63)) & 1 != 0;
            if let Some(byte) = report.get_mut(bit / 8) {
                if set {
                    *byte |= 1 << (bit % 8);
                } else {
                    *byte &= !(1 << (bit % 8));
                }
            }
        }
        Ok(())
    }

    /// The exponent NUT applies: the Unit Exponent, minus 7 for volts, volt-amperes and
    /// watts (so SI values given with exponent 7 come out unscaled).
    pub fn nut_exponent(&self) -> i8 {
        let k: i16 = if self.unit == UNIT_VOLT || self.unit == UNIT_VA_WATT { 7 } else { 0 };
        // NUT computes this in an 8-bit signed variable; it wraps the same way.
        (i16::from(self.unit_exponent) - k) as i8
    }

    fn physical_range(&self) -> Option<(i64, i64)> {
        let (pmin, pmax) = (self.physical_min?, self.physical_max?);
        if pmin == 0 && pmax == 0 {
            return None;
        }
        if pmax <= pmin || self.logical_max <= self.logical_min {
            return None;
        }
        Some((pmin, pmax))
    }

    /// NUT's value of a logical reading: to physical units (when the physical range is
    /// usable), then times 10 to the [`nut_exponent`](Self::nut_exponent).
    pub fn to_value(&self, logical: i64) -> f64 {
        let physical = match self.physical_range() {
            None => logical as f64,
            Some((pmin, pmax)) => {
                let factor = pmax.wrapping_sub(pmin) as f64
                    / self.logical_max.wrapping_sub(self.logical_min) as f64;
                let p = (logical.wrapping_sub(self.logical_min)) as f64 * factor + pmin as f64;
                if p > pmax as f64 {
                    pmax as f64
                } else if p < pmin as f64 {
                    pmin as f64
                } else {
                    p
                }
            }
        };
        physical * power_of_ten(self.nut_exponent())
    }

    /// The reverse of [`to_value`](Self::to_value) for a SET, as NUT computes it: divide
    /// by the power of ten, convert physical to logical (truncating), clamp.
    pub fn from_value(&self, value: f64) -> i64 {
        let physical = value / power_of_ten(self.nut_exponent());
        match self.physical_range() {
            None => physical as i64,
            Some((pmin, pmax)) => {
                let factor = self.logical_max.wrapping_sub(self.logical_min) as f64
                    / pmax.wrapping_sub(pmin) as f64;
                let l =
                    (((physical - pmin as f64) * factor) as i64).saturating_add(self.logical_min);
                if l > self.logical_max {
                    self.logical_max
                } else if l < self.logical_min {
                    self.logical_min
                } else {
                    l
                }
            }
        }
    }

    /// [`extract`](Self::extract) then [`to_value`](Self::to_value).
    pub fn value(&self, report: &[u8]) -> Result<f64, ReportError> {
        Ok(self.to_value(self.extract(report)?))
    }
}

/// `10^e` computed as NUT's `exponent()` does: repeated multiplication by 10 or by 0.1,
/// so the result is bit-identical to NUT's.
pub fn power_of_ten(e: i8) -> f64 {
    let mut r = 1.0f64;
    if e > 0 {
        for _ in 0..e {
            r *= 10.0;
        }
    } else {
        for _ in 0..e.unsigned_abs() {
            r *= 1.0 / 10.0;
        }
    }
    r
}
