//! Small parsers for APC Smart answers: numbers as C's `strtol` reads
//! them, value conversion, the status register, alert bytes, the command
//! set (`a`) and the capability answer (`^Z`).

use crate::table::{Format, VarEntry};
use alloc::string::String;
use alloc::vec::Vec;

/// An error in an answer, naming the query and the byte offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The command set answer (`a`) does not have the shape
    /// `protocol.alerts.commands[.extra]`.
    #[error("command set answer does not match protocol.alerts.commands[.extra]")]
    CommandSetShape,
    /// The capability answer (`^Z`) does not start with `#`.
    #[error("capability answer starts with {found:#04x}, not '#'")]
    CapsStart {
        /// The first byte (0 for an empty answer).
        found: u8,
    },
    /// A capability entry's count or length byte is below `'0'` (NUT
    /// exits with "capability overflow").
    #[error("capability entry at byte {offset}: count or length below '0'")]
    CapsRange {
        /// Offset of the entry's command byte.
        offset: usize,
    },
    /// A Matrix-UPS capability answer ran past its end (NUT exits unless
    /// the firmware is `451.2.I`).
    #[error("capability answer overflows at byte {offset}")]
    CapsOverflow {
        /// Offset past the end that was reached.
        offset: usize,
    },
}

/// C's `strtol(s, NULL, base)` for base 10 or 16 on a 64-bit `long`:
/// leading white space, a sign, for base 16 an optional `0x`, then digits
/// up to the first other byte; no digits gives 0; overflow saturates.
pub fn strtol(s: &[u8], base: u32) -> i64 {
    let mut i = 0;
    while s.get(i).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        i += 1;
    }
    let mut neg = false;
    if let Some(&b) = s.get(i) {
        if b == b'-' || b == b'+' {
            neg = b == b'-';
            i += 1;
        }
    }
    if base == 16
        && s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
    }
    let mut acc: i64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&b| (b as char).to_digit(base)) {
        let digit = i64::from(d);
        acc = match acc
            .checked_mul(i64::from(base))
            .and_then(|a| if neg { a.checked_sub(digit) } else { a.checked_add(digit) })
        {
            Some(a) => a,
            None => {
                overflow = true;
                if neg { i64::MIN } else { i64::MAX }
            }
        };
        if overflow {
            break;
        }
        i += 1;
    }
    acc
}

/// The transfer reason sentence NUT publishes for a `G` answer.
pub fn transfer_reason(raw: &[u8]) -> Option<&'static str> {
    Some(match raw.first()? {
        b'R' => "unacceptable utility voltage rate of change",
        b'H' => "high utility voltage",
        b'L' => "low utility voltage",
        b'T' => "line voltage notch or spike",
        b'O' => "no transfers yet since turnon",
        b'S' => "simulated power failure or UPS test",
        _ => return None,
    })
}

/// Bytes as NUT keeps them in a C string: up to the first NUL, each byte
/// one character (non-ASCII bytes as U+FFFD-free Latin-1 would not be
/// valid in `upsc`, so they are kept as the replacement of lossy UTF-8).
pub fn text(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// A raw answer converted as NUT's `convert_data` does for `format`.
pub fn convert(format: Format, raw: &[u8]) -> String {
    match format {
        Format::Hours => strtol(raw, 10).wrapping_mul(3600).to_string(),
        Format::Minutes => strtol(raw, 10).wrapping_mul(60).to_string(),
        Format::Reason => match transfer_reason(raw) {
            Some(s) => s.into(),
            None => text(raw),
        },
        _ => text(raw),
    }
}

use alloc::string::ToString;

/// The fields of a packed answer: up to [`PACK_MAX`](crate::table::PACK_MAX)
/// comma-separated pieces (anything after the fourth comma is dropped).
pub fn split_packed(raw: &[u8]) -> Vec<&[u8]> {
    raw.split(|&b| b == b',').take(crate::table::PACK_MAX).collect()
}

/// The variable name of field `index` (0-based) of a packed entry:
/// `ambient.0.humidity` -> `ambient.1.humidity` for index 0.
pub fn packed_name(entry: &VarEntry, index: usize) -> String {
    let digit = char::from(b'1'.wrapping_add(index as u8));
    match entry.name.find(".0.") {
        Some(at) => {
            let mut s = String::from(&entry.name[..at + 1]);
            s.push(digit);
            s.push_str(&entry.name[at + 2..]);
            s
        }
        None => entry.name.into(),
    }
}

/// Bits of the status register (`Q`).
pub mod status {
    /// Runtime calibration.
    pub const CAL: u8 = 1 << 0;
    /// SmartTrim.
    pub const TRIM: u8 = 1 << 1;
    /// SmartBoost.
    pub const BOOST: u8 = 1 << 2;
    /// On line.
    pub const OL: u8 = 1 << 3;
    /// On battery.
    pub const OB: u8 = 1 << 4;
    /// Overload.
    pub const OVER: u8 = 1 << 5;
    /// Low battery.
    pub const LB: u8 = 1 << 6;
    /// Replace battery.
    pub const RB: u8 = 1 << 7;
}

/// The status register of a `Q` answer (`strtol(answer, 16) & 0xff`).
pub fn parse_status(raw: &[u8]) -> u8 {
    (strtol(raw, 16) & 0xff) as u8
}

/// The `ups.status` tokens of a status register, in NUT's order (`CAL
/// TRIM BOOST OL OB OVER LB RB`), or `OFF` for 0.
pub fn status_tokens(bits: u8) -> Vec<&'static str> {
    const NAMES: [&str; 8] = ["CAL", "TRIM", "BOOST", "OL", "OB", "OVER", "LB", "RB"];
    if bits == 0 {
        return alloc::vec!["OFF"];
    }
    NAMES.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n).collect()
}

/// An asynchronous alert byte the UPS sends on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alert {
    /// `!`: on battery (sets OB, clears OL).
    OnBattery,
    /// `$`: power back (sets OL, clears OB).
    OnLine,
    /// `%`: low battery (sets LB).
    LowBattery,
    /// `+`: battery no longer low (clears LB).
    BatteryOk,
    /// `#`: replace battery (sets RB).
    ReplaceBattery,
    /// `?`: overload (sets OVER).
    Overload,
    /// `=`: overload over (clears OVER).
    OverloadGone,
}

impl Alert {
    /// The alert a byte announces (`$!%+#?=`); `|` (EEPROM changed), `&`
    /// (check the alarm register), `*` (powering down) and CR are not
    /// alerts for NUT and give `None`.
    pub fn from_byte(b: u8) -> Option<Alert> {
        Some(match b {
            b'!' => Alert::OnBattery,
            b'$' => Alert::OnLine,
            b'%' => Alert::LowBattery,
            b'+' => Alert::BatteryOk,
            b'#' => Alert::ReplaceBattery,
            b'?' => Alert::Overload,
            b'=' => Alert::OverloadGone,
            _ => return None,
        })
    }

    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Alert::OnBattery => b'!',
            Alert::OnLine => b'$',
            Alert::LowBattery => b'%',
            Alert::BatteryOk => b'+',
            Alert::ReplaceBattery => b'#',
            Alert::Overload => b'?',
            Alert::OverloadGone => b'=',
        }
    }

    /// The status register after this alert.
    pub fn apply(self, bits: u8) -> u8 {
        use status::*;
        match self {
            Alert::OnBattery => (bits & !OL) | OB,
            Alert::OnLine => (bits & !OB) | OL,
            Alert::LowBattery => bits | LB,
            Alert::BatteryOk => bits & !LB,
            Alert::ReplaceBattery => bits | RB,
            Alert::Overload => bits | OVER,
            Alert::OverloadGone => bits & !OVER,
        }
    }
}

/// The command bytes of a command set answer (`a`), which must match
/// `^[0-9]\.[^.]*\.[^.]+(\.[^.]+)?$`: the third field.
pub fn parse_command_set(raw: &[u8]) -> Result<&[u8], AnswerError> {
    let mut fields = raw.split(|&b| b == b'.');
    let (Some(proto), Some(_alerts), Some(cmds)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(AnswerError::CommandSetShape);
    };
    let extra = fields.next();
    let ok = proto.len() == 1
        && proto[0].is_ascii_digit()
        && !cmds.is_empty()
        && extra.is_none_or(|e| !e.is_empty())
        && fields.next().is_none();
    if ok { Ok(cmds) } else { Err(AnswerError::CommandSetShape) }
}

/// One entry of a capability answer: the allowed values of one command
/// byte in one locale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapsEntry {
    /// The command byte.
    pub cmd: u8,
    /// The locale byte; `4` applies everywhere, otherwise it must equal
    /// the last byte of `ups.firmware`.
    pub locale: u8,
    /// The raw values (each at most the entry length, cut at a NUL past
    /// the answer's end as NUT's `snprintf` does).
    pub values: Vec<Vec<u8>>,
}

/// The longest line NUT reads (its buffer holds 511 bytes and a NUL).
pub const MAX_ANSWER: usize = 511;

/// Parses a capability answer (`^Z`) as NUT's `apc_getcaps` walks it:
/// `#`, then entries `cmd locale count length value...`, each led by
/// `##` on Matrix-UPS. Bytes past the answer read as NUL, as in NUT's
/// zeroed buffer. `quirk` (firmware `451.2.I`) ends the walk quietly
/// where NUT would exit with an overflow.
pub fn parse_caps(raw: &[u8], quirk: bool) -> Result<Vec<CapsEntry>, AnswerError> {
    let raw = &raw[..raw.len().min(MAX_ANSWER)];
    let at = |i: usize| raw.get(i).copied().unwrap_or(0);
    let first = at(0);
    if first != b'#' {
        return Err(AnswerError::CapsStart { found: first });
    }
    let matrix = at(1) == b'#';
    let mut ptr = if matrix { 0 } else { 1 };
    let mut out = Vec::new();
    // Each pass advances by at least 4 bytes; past the answer every byte
    // is 0, which ends the loop.
    while at(ptr) != 0 {
        if matrix {
            ptr += 2;
        }
        if ptr >= raw.len() {
            if quirk {
                return Ok(out);
            }
            return Err(AnswerError::CapsOverflow { offset: ptr });
        }
        let (cmd, locale, n, len) = (at(ptr), at(ptr + 1), at(ptr + 2), at(ptr + 3));
        if n < b'0' || len < b'0' {
            return Err(AnswerError::CapsRange { offset: ptr });
        }
        let (n, len) = (usize::from(n - b'0'), usize::from(len - b'0'));
        let mut entptr = ptr + 4;
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            let mut v = Vec::new();
            for j in 0..len {
                match at(entptr + j) {
                    0 => break,
                    b => v.push(b),
                }
            }
            values.push(v);
            entptr += len;
        }
        out.push(CapsEntry { cmd, locale, values });
        ptr = entptr;
    }
    Ok(out)
}

/// Whether `raw` is a 3-character-or-shorter decimal (`^[0-9]{1,3}$`).
pub(crate) fn is_digits_1_3(raw: &[u8]) -> bool {
    (1..=3).contains(&raw.len()) && raw.iter().all(u8::is_ascii_digit)
}
