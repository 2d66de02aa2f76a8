//! The contact-closure ("dumb cable") UPS types of NUT 2.8.0's
//! `genericups` driver as data, and the pure functions around them: which
//! modem lines mean on line, low battery, replace battery and bypass,
//! which lines power the cable, and what `-k` does.
//!
//! Line bits use the Linux `TIOCM_*` values, so a `TIOCMGET` word can be
//! passed as is; other adapters build a [`Lines`] from their line getters.

use core::time::Duration;
use nut_proto::publish::Publish;

/// A set of modem lines (Linux `TIOCM_*` bit values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lines(pub u16);

impl Lines {
    /// No line.
    pub const NONE: Lines = Lines(0);
    /// Data Terminal Ready (output).
    pub const DTR: Lines = Lines(0x002);
    /// Request To Send (output).
    pub const RTS: Lines = Lines(0x004);
    /// Secondary transmit (`TIOCM_ST`); genericups uses it to mean "send a
    /// BREAK" as the shutdown signal.
    pub const ST: Lines = Lines(0x008);
    /// Clear To Send (input).
    pub const CTS: Lines = Lines(0x020);
    /// Carrier Detect, DCD (input).
    pub const CD: Lines = Lines(0x040);
    /// Ring Indicator, RNG (input).
    pub const RNG: Lines = Lines(0x080);
    /// Data Set Ready (input).
    pub const DSR: Lines = Lines(0x100);

    /// Both sets.
    pub const fn or(self, other: Lines) -> Lines {
        Lines(self.0 | other.0)
    }

    /// Whether every line of `other` is in `self`.
    pub const fn contains(self, other: Lines) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// An input condition: `(lines & line) == value`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Signal {
    /// The lines looked at; empty means "not wired".
    pub line: Lines,
    /// The state of those lines that means "true".
    pub value: Lines,
}

impl Signal {
    /// Not wired.
    pub const NONE: Signal = Signal { line: Lines::NONE, value: Lines::NONE };

    /// True when `line` is asserted.
    pub const fn on(line: Lines) -> Signal {
        Signal { line, value: line }
    }

    /// True when `line` is not asserted.
    pub const fn off(line: Lines) -> Signal {
        Signal { line, value: Lines::NONE }
    }

    /// Whether the condition holds for these line states.
    pub const fn test(self, lines: Lines) -> bool {
        lines.0 & self.line.0 == self.value.0
    }
}

/// What `-k` does for a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShutdownLine {
    /// Set exactly these output lines (possibly none).
    Set(Lines),
    /// Send a BREAK (`TIOCM_ST` in NUT's table).
    Break,
    /// No shutdown signal is known (NUT exits with "No shutdown command
    /// defined for this model!").
    Unknown,
}

/// One `upstype` of genericups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UpsType {
    /// The `upstype` number.
    pub number: u8,
    /// `ups.mfr` unless `mfr` is given.
    pub mfr: &'static str,
    /// `ups.model` unless `model` is given.
    pub model: &'static str,
    /// The description NUT lists.
    pub desc: &'static str,
    /// Output lines raised to power the cable (set exactly at start).
    pub cable_power: Lines,
    /// On line when this holds (OB otherwise); a not-wired signal always
    /// holds.
    pub ol: Signal,
    /// Low battery.
    pub lb: Signal,
    /// Replace battery.
    pub rb: Signal,
    /// Bypass.
    pub bypass: Signal,
    /// The shutdown signal.
    pub shutdown: ShutdownLine,
}

const DTR: Lines = Lines::DTR;
const RTS: Lines = Lines::RTS;
const CTS: Lines = Lines::CTS;
const CD: Lines = Lines::CD;
const DTR_RTS: Lines = Lines::DTR.or(Lines::RTS);

#[allow(clippy::too_many_arguments)]
const fn t(
    number: u8,
    mfr: &'static str,
    model: &'static str,
    desc: &'static str,
    cable_power: Lines,
    ol: Signal,
    lb: Signal,
    shutdown: ShutdownLine,
) -> UpsType {
    UpsType {
        number,
        mfr,
        model,
        desc,
        cable_power,
        ol,
        lb,
        rb: Signal::NONE,
        bypass: Signal::NONE,
        shutdown,
    }
}

use ShutdownLine::{Break, Set, Unknown};

/// NUT 2.8.0's `upstype` table; the index is the type number.
pub const UPS_TYPES: &[UpsType] = &[
    t(
        0,
        "UPSONIC",
        "LAN Saver 600",
        "UPSONIC LAN Saver 600",
        DTR_RTS,
        Signal::off(CTS),
        Signal::on(CD),
        Set(RTS),
    ),
    t(
        1,
        "APC",
        "Back-UPS",
        "APC Back-UPS (940-0095A/C cable)",
        DTR,
        Signal::off(Lines::RNG),
        Signal::on(CD),
        Set(RTS),
    ),
    t(
        2,
        "APC",
        "Back-UPS",
        "APC Back-UPS (940-0020B/C cable)",
        RTS,
        Signal::off(CTS),
        Signal::on(CD),
        Set(DTR_RTS),
    ),
    t(
        3,
        "PowerTech",
        "Comp1000",
        "PowerTech Comp1000 with DTR as cable power",
        DTR,
        Signal::off(CTS),
        Signal::on(CD),
        Set(DTR_RTS),
    ),
    t(
        4,
        "Generic",
        "Generic RUPS model",
        "Generic RUPS model",
        RTS,
        Signal::on(CTS),
        Signal::off(CD),
        Set(Lines::NONE),
    ),
    t(
        5,
        "TrippLite",
        "Internet Office Series",
        "Tripp Lite UPS with Lan2.2 interface (black 73-0844 cable)",
        DTR,
        Signal::on(CTS),
        Signal::off(CD),
        Set(DTR_RTS),
    ),
    t(
        6,
        "Best",
        "Patriot",
        "Best Patriot (INT51 cable)",
        DTR,
        Signal::on(CTS),
        Signal::off(CD),
        Set(RTS),
    ),
    t(
        7,
        "CyberPower",
        "Power99",
        "CyberPower Power99",
        RTS,
        Signal::on(CTS),
        Signal::off(CD),
        Set(DTR),
    ),
    t(8, "Nitram", "Elite UPS", "Nitram Elite 500", DTR, Signal::on(CTS), Signal::off(CD), Unknown),
    t(
        9,
        "APC",
        "Back-UPS",
        "APC Back-UPS (940-0023A cable)",
        Lines::NONE,
        Signal::off(CD),
        Signal::on(CTS),
        Set(RTS),
    ),
    t(
        10,
        "Victron",
        "Lite",
        "Victron Lite (crack cable)",
        RTS,
        Signal::on(CTS),
        Signal::off(CD),
        Set(DTR),
    ),
    t(11, "Powerware", "3115", "Powerware 3115", DTR, Signal::off(CTS), Signal::off(CD), Break),
    t(
        12,
        "APC",
        "Back-UPS Office",
        "APC Back-UPS Office (940-0119A cable)",
        RTS,
        Signal::off(CTS),
        Signal::on(CD),
        Set(DTR),
    ),
    t(
        13,
        "RPT",
        "Repoteck",
        "Repoteck RPT-800A, RPT-162A",
        DTR_RTS,
        Signal::on(CD),
        Signal::off(CTS),
        Break,
    ),
    t(
        14,
        "Online",
        "P250, P500, P750, P1250",
        "Online P-series",
        DTR,
        Signal::on(CD),
        Signal::off(CTS),
        Set(RTS),
    ),
    t(15, "Powerware", "5119", "Powerware 5119", DTR, Signal::on(CTS), Signal::off(CD), Break),
    t(
        16,
        "Nitram",
        "Elite UPS",
        "Nitram Elite 2002",
        DTR_RTS,
        Signal::on(CTS),
        Signal::off(CD),
        Unknown,
    ),
    t(
        17,
        "PowerKinetics",
        "9001",
        "PowerKinetics 9001",
        DTR,
        Signal::on(CTS),
        Signal::off(CD),
        Unknown,
    ),
    t(
        18,
        "TrippLite",
        "Omni 450LAN",
        "TrippLite UPS with Martin's cabling",
        DTR,
        Signal::on(CTS),
        Signal::on(CD),
        Unknown,
    ),
    t(
        19,
        "Fideltronik",
        "Ares Series",
        "Fideltronik Ares Series",
        DTR,
        Signal::on(CTS),
        Signal::off(CD),
        Set(RTS),
    ),
    t(
        20,
        "Powerware",
        "5119 RM",
        "Powerware 5119 RM",
        DTR,
        Signal::off(CTS),
        Signal::on(CD),
        Break,
    ),
    t(
        21,
        "Generic",
        "Generic RUPS 2000",
        "Generic RUPS 2000 (Megatec M2501 cable)",
        RTS,
        Signal::on(CTS),
        Signal::off(CD),
        Set(DTR_RTS),
    ),
    t(
        22,
        "Gamatronic Electronic Industries",
        "Generic Alarm UPS",
        "Gamatronic UPSs with alarm interface",
        RTS,
        Signal::on(CTS),
        Signal::off(CD),
        Set(DTR),
    ),
    UpsType {
        number: 23,
        mfr: "Generic",
        model: "Generic FTTx Battery Backup",
        desc: "FTTx (Fiber to the x) battery backup with 4-wire telemetry interface",
        cable_power: RTS,
        ol: Signal::on(CTS),
        lb: Signal::off(CD),
        rb: Signal::off(Lines::RNG),
        bypass: Signal::off(Lines::DSR),
        shutdown: Set(Lines::NONE),
    },
];

/// An invalid genericups option.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContactError {
    /// `upstype` is not a number of the table (after C's `atoi`).
    #[error("unknown ups type number {number}")]
    UnknownType {
        /// The number read.
        number: i64,
    },
    /// An output override (`CP`, `SD`) names an input line.
    #[error("option {option}: can't override output with {line} (not an output)")]
    NotAnOutput {
        /// The option.
        option: &'static str,
        /// The input line named.
        line: &'static str,
    },
    /// An input override (`OL`, `LB`, `RB`, `BYPASS`) names an output line.
    #[error("option {option}: can't override input with {line} (not an input)")]
    NotAnInput {
        /// The option.
        option: &'static str,
        /// The output line named.
        line: &'static str,
    },
    /// `-k` for a type with no known shutdown signal.
    #[error("no shutdown command defined for this model")]
    NoShutdown,
}

/// The type for an `upstype` value, read as C's `atoi` (leading blanks,
/// sign, digits; anything else reads as 0).
pub fn parse_upstype(value: &str) -> Result<&'static UpsType, ContactError> {
    let n = crate::answer::strtol(value.as_bytes(), 10);
    usize::try_from(n)
        .ok()
        .and_then(|i| UPS_TYPES.get(i))
        .ok_or(ContactError::UnknownType { number: n })
}

/// An output override (`CP`, `SD`) as NUT reads it: substrings `DTR` and
/// `RTS` (unless written `-DTR` / `-RTS`) and `ST`; `none` or `NULL`
/// clears everything. Naming an input line is an error.
pub fn parse_output_override(option: &'static str, value: &str) -> Result<Lines, ContactError> {
    let mut l = Lines::NONE;
    if value.contains("DTR") && !value.contains("-DTR") {
        l = l.or(Lines::DTR);
    }
    if value.contains("RTS") && !value.contains("-RTS") {
        l = l.or(Lines::RTS);
    }
    if value.contains("ST") {
        l = l.or(Lines::ST);
    }
    for line in ["CTS", "DCD", "RNG", "DSR"] {
        if value.contains(line) {
            return Err(ContactError::NotAnOutput { option, line });
        }
    }
    if value.contains("NULL") || value.contains("none") {
        l = Lines::NONE;
    }
    Ok(l)
}

/// An input override (`OL`, `LB`, `RB`, `BYPASS`) as NUT reads it:
/// substrings `CTS`, `DCD`, `RNG`, `DSR`, each "true when asserted"
/// unless written with a leading `-`; `none` or `NULL` disconnects it.
/// Naming an output line is an error.
pub fn parse_input_override(option: &'static str, value: &str) -> Result<Signal, ContactError> {
    let mut s = Signal::NONE;
    for (name, neg, line) in [
        ("CTS", "-CTS", Lines::CTS),
        ("DCD", "-DCD", Lines::CD),
        ("RNG", "-RNG", Lines::RNG),
        ("DSR", "-DSR", Lines::DSR),
    ] {
        if value.contains(name) {
            s.line = s.line.or(line);
            if !value.contains(neg) {
                s.value = s.value.or(line);
            }
        }
    }
    for line in ["DTR", "RTS", "ST"] {
        if value.contains(line) {
            return Err(ContactError::NotAnInput { option, line });
        }
    }
    if value.contains("NULL") || value.contains("none") {
        s = Signal::NONE;
    }
    Ok(s)
}

/// One genericups UPS: its type with the `ups.conf` overrides applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The table row.
    pub ty: &'static UpsType,
    /// Lines raised at start (`CP` overrides).
    pub cable_power: Lines,
    /// On line (`OL` overrides).
    pub ol: Signal,
    /// Low battery (`LB` overrides).
    pub lb: Signal,
    /// Replace battery (`RB` overrides).
    pub rb: Signal,
    /// Bypass (`BYPASS` overrides).
    pub bypass: Signal,
    /// The shutdown signal (`SD` overrides).
    pub shutdown: ShutdownLine,
    /// How long `-k` holds the shutdown lines (`sdtime`).
    pub sdtime: Option<Duration>,
    /// `mfr`, `model`, `serial` options.
    pub mfr: Option<alloc::string::String>,
    /// `model` option.
    pub model: Option<alloc::string::String>,
    /// `serial` option.
    pub serial: Option<alloc::string::String>,
}

/// The option names genericups declares.
pub const OPTION_NAMES: &[&str] =
    &["upstype", "mfr", "model", "serial", "CP", "OL", "LB", "RB", "BYPASS", "SD", "sdtime"];

impl Contact {
    /// The type's defaults, no overrides.
    pub fn new(ty: &'static UpsType) -> Self {
        Contact {
            ty,
            cable_power: ty.cable_power,
            ol: ty.ol,
            lb: ty.lb,
            rb: ty.rb,
            bypass: ty.bypass,
            shutdown: ty.shutdown,
            sdtime: None,
            mfr: None,
            model: None,
            serial: None,
        }
    }

    /// Applies one option (other than `upstype`); unknown names give
    /// `Ok(false)`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ContactError> {
        match name {
            "CP" => self.cable_power = parse_output_override("CP", value)?,
            "SD" => {
                let l = parse_output_override("SD", value)?;
                self.shutdown =
                    if l == Lines::ST { ShutdownLine::Break } else { ShutdownLine::Set(l) };
            }
            "OL" => self.ol = parse_input_override("OL", value)?,
            "LB" => self.lb = parse_input_override("LB", value)?,
            "RB" => self.rb = parse_input_override("RB", value)?,
            "BYPASS" => self.bypass = parse_input_override("BYPASS", value)?,
            "sdtime" => {
                let n = crate::answer::strtol(value.as_bytes(), 10);
                self.sdtime = u64::try_from(n).ok().filter(|&n| n > 0).map(Duration::from_secs);
            }
            "mfr" => self.mfr = Some(value.into()),
            "model" => self.model = Some(value.into()),
            "serial" => self.serial = Some(value.into()),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The `ups.status` tokens for these line states, in NUT's order: `LB`,
    /// `OL` or `OB`, `RB`, `BYPASS`. A disconnected `OL` means on line; a
    /// disconnected `LB`, `RB`, `BYPASS` never shows.
    pub fn status(&self, lines: Lines) -> alloc::vec::Vec<&'static str> {
        let mut out = alloc::vec::Vec::new();
        if !self.lb.line.is_empty() && self.lb.test(lines) {
            out.push("LB");
        }
        out.push(if self.ol.test(lines) { "OL" } else { "OB" });
        if !self.rb.line.is_empty() && self.rb.test(lines) {
            out.push("RB");
        }
        if !self.bypass.line.is_empty() && self.bypass.test(lines) {
            out.push("BYPASS");
        }
        out
    }

    /// Publishes `ups.mfr`, `ups.model` and `ups.serial` as the driver's
    /// init does.
    pub fn publish_info<P: Publish + ?Sized>(&self, out: &mut P) {
        out.setinfo("ups.mfr", self.mfr.as_deref().unwrap_or(self.ty.mfr));
        out.setinfo("ups.model", self.model.as_deref().unwrap_or(self.ty.model));
        if let Some(s) = &self.serial {
            out.setinfo("ups.serial", s);
        }
    }

    /// Publishes `ups.status` for these line states.
    pub fn publish_status<P: Publish + ?Sized>(&self, lines: Lines, out: &mut P) {
        out.status_init();
        for t in self.status(lines) {
            out.status_set(t);
        }
        out.status_commit();
    }

    /// What `-k` must do.
    pub fn shutdown_action(&self) -> Result<ShutdownAction, ContactError> {
        match self.shutdown {
            ShutdownLine::Unknown => Err(ContactError::NoShutdown),
            ShutdownLine::Break => Ok(ShutdownAction::Break { duration: BREAK_DURATION }),
            ShutdownLine::Set(lines) => Ok(ShutdownAction::SetLines { lines, hold: self.sdtime }),
        }
    }
}

/// The argument NUT passes to `tcsendbreak` (glibc turns a non-zero value
/// into about 5 s).
pub const BREAK_DURATION: i32 = 4901;

/// What the driver does for `-k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShutdownAction {
    /// Set exactly these output lines (`TIOCMSET`), then wait `hold`.
    SetLines {
        /// The lines to assert; every other output is dropped.
        lines: Lines,
        /// `sdtime`, when positive.
        hold: Option<Duration>,
    },
    /// Send a BREAK (`tcsendbreak(fd, duration)`).
    Break {
        /// The `tcsendbreak` argument.
        duration: i32,
    },
}
