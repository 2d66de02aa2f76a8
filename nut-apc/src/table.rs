//! NUT 2.8.0's APC Smart tables as data: the variable table (command byte
//! to NUT variable, format, flags), the instant commands, and the command
//! sets of old firmware that cannot list its own commands.

/// How an answer is turned into a NUT value (NUT's `APC_F_*` formats).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Passed through unchanged.
    Leave,
    /// A percentage, passed through.
    Percent,
    /// Volts, passed through.
    Volt,
    /// Amperes, passed through.
    Amp,
    /// Degrees Celsius, passed through.
    Celsius,
    /// A hex number, passed through.
    Hex,
    /// A decimal number, passed through.
    Dec,
    /// Seconds, passed through.
    Seconds,
    /// Minutes, published as seconds (`60 * strtol(value)`).
    Minutes,
    /// Hours, published as seconds (`3600 * strtol(value)`).
    Hours,
    /// A transfer reason letter, published as NUT's sentence.
    Reason,
}

/// A pattern the raw answer must match for a variable that shares its
/// command byte or name with another entry (NUT's `APC_MULTI` regexes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pattern {
    /// Any answer.
    Any,
    /// `^[0-9]{2}\.[0-9]{2}$` (an ambient temperature).
    TwoDotTwo,
    /// `^[0-9]{3}\.[0-9]$` (device uptime in hours).
    ThreeDotOne,
    /// `^[[:alnum:]]+\.[[:alnum:]]+\.[[:alnum:]]+$` (a new-style firmware).
    Firmware,
}

impl Pattern {
    /// Whether `raw` matches the pattern.
    pub fn matches(self, raw: &[u8]) -> bool {
        fn digits(s: &[u8], n: usize) -> bool {
            s.len() == n && s.iter().all(u8::is_ascii_digit)
        }
        match self {
            Pattern::Any => true,
            Pattern::TwoDotTwo => {
                raw.len() == 5 && digits(&raw[..2], 2) && raw[2] == b'.' && digits(&raw[3..], 2)
            }
            Pattern::ThreeDotOne => {
                raw.len() == 5 && digits(&raw[..3], 3) && raw[3] == b'.' && digits(&raw[4..], 1)
            }
            Pattern::Firmware => {
                let mut parts = 0;
                for part in raw.split(|&b| b == b'.') {
                    if part.is_empty() || !part.iter().all(u8::is_ascii_alphanumeric) {
                        return false;
                    }
                    parts += 1;
                }
                parts == 3
            }
        }
    }
}

/// One row of NUT's variable table (`apc_vartab`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarEntry {
    /// The NUT variable; packed entries hold `.0.`, replaced by `.1.` to
    /// `.4.` for each field.
    pub name: &'static str,
    /// The command byte that reads it.
    pub cmd: u8,
    /// Read on every poll, not only in the hourly full refresh.
    pub poll: bool,
    /// Writable string of at most [`APC_STRLEN`] bytes (`ups.id`,
    /// `battery.date`).
    pub string: bool,
    /// Shares its command byte or name with another entry: the first that
    /// answers and matches [`pattern`](Self::pattern) wins.
    pub multi: bool,
    /// Comma-separated answer of up to [`PACK_MAX`] fields.
    pub pack: bool,
    /// How the answer is converted.
    pub format: Format,
    /// What the raw answer must match (only for `multi` entries).
    pub pattern: Pattern,
}

/// Writable strings hold at most this many bytes (NUT's `APC_STRLEN`).
pub const APC_STRLEN: usize = 8;
/// Packed answers are cut to this many fields (NUT's `APC_PACK_MAX`).
pub const PACK_MAX: usize = 4;

const fn v(name: &'static str, cmd: u8, poll: bool, format: Format) -> VarEntry {
    VarEntry {
        name,
        cmd,
        poll,
        string: false,
        multi: false,
        pack: false,
        format,
        pattern: Pattern::Any,
    }
}
const fn packed(name: &'static str, cmd: u8, format: Format) -> VarEntry {
    VarEntry {
        name,
        cmd,
        poll: true,
        string: false,
        multi: false,
        pack: true,
        format,
        pattern: Pattern::Any,
    }
}
const fn string(name: &'static str, cmd: u8) -> VarEntry {
    VarEntry {
        name,
        cmd,
        poll: false,
        string: true,
        multi: false,
        pack: false,
        format: Format::Leave,
        pattern: Pattern::Any,
    }
}
const fn multi(
    name: &'static str,
    cmd: u8,
    poll: bool,
    pack: bool,
    format: Format,
    pattern: Pattern,
) -> VarEntry {
    VarEntry { name, cmd, poll, string: false, multi: true, pack, format, pattern }
}

use Format::*;

/// NUT 2.8.0's variable table, in its order (the order of preference for
/// entries sharing a byte or a name, and the order of every poll).
pub const VARS: &[VarEntry] = &[
    v("ups.temperature", b'C', true, Celsius),
    v("ups.load", b'P', true, Percent),
    v("ups.test.interval", b'E', false, Hours),
    v("ups.test.result", b'X', true, Leave),
    v("ups.delay.start", b'r', false, Seconds),
    v("ups.delay.shutdown", b'p', false, Seconds),
    string("ups.id", b'c'),
    v("ups.contacts", b'i', true, Hex),
    v("ups.display.language", 0x0c, false, Leave),
    v("input.voltage", b'L', true, Volt),
    v("input.frequency", b'F', true, Dec),
    v("input.sensitivity", b's', false, Leave),
    v("input.quality", b'9', true, Hex),
    v("input.transfer.low", b'l', false, Volt),
    v("input.transfer.high", b'u', false, Volt),
    v("input.transfer.reason", b'G', true, Reason),
    v("input.voltage.maximum", b'M', true, Volt),
    v("input.voltage.minimum", b'N', true, Volt),
    v("output.current", b'/', true, Amp),
    v("output.voltage", b'O', true, Volt),
    v("output.voltage.nominal", b'o', false, Volt),
    v("ambient.humidity", b'h', true, Percent),
    packed("ambient.0.humidity", b'H', Percent),
    packed("ambient.0.humidity.high", b'{', Percent),
    packed("ambient.0.humidity.low", b'}', Percent),
    v("ambient.temperature", b't', true, Celsius),
    multi("ambient.0.temperature", b'T', true, true, Celsius, Pattern::TwoDotTwo),
    packed("ambient.0.temperature.high", b'[', Celsius),
    packed("ambient.0.temperature.low", b']', Celsius),
    string("battery.date", b'x'),
    v("battery.charge", b'f', true, Percent),
    v("battery.charge.restart", b'e', false, Percent),
    v("battery.voltage", b'B', true, Volt),
    v("battery.voltage.nominal", b'g', false, Leave),
    v("battery.runtime", b'j', true, Minutes),
    v("battery.runtime.low", b'q', false, Minutes),
    v("battery.packs", b'>', false, Dec),
    v("battery.packs.bad", b'<', false, Dec),
    v("battery.alarm.threshold", b'k', false, Leave),
    multi("device.uptime", b'T', true, false, Hours, Pattern::ThreeDotOne),
    v("ups.serial", b'n', false, Leave),
    v("ups.mfr.date", b'm', false, Leave),
    v("ups.model", 0x01, false, Leave),
    v("ups.firmware.aux", b'v', false, Leave),
    multi("ups.firmware", b'b', false, false, Leave, Pattern::Firmware),
    multi("ups.firmware", b'V', false, false, Leave, Pattern::Any),
];

/// What an instant command sends (NUT's `APC_CMD_*` and the custom
/// handlers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CmdKind {
    /// `@` + wakeup delay (`shutdown.return at:N`): hard hibernate.
    GraceDown,
    /// `S` (`shutdown.return`, or the CS hack with `cs`): soft hibernate.
    SoftDown,
    /// `K` twice: delayed power off.
    Shutdown,
    /// `Z` twice: instant power off (no answer).
    Off,
    /// `^N` twice: load on (no answer read).
    On,
    /// `D`, after reading the calibration bit of `Q`.
    CalToggle,
    /// `A`, expects `OK`.
    FrontPanelTest,
    /// `U`, expects `OK`.
    SimulatePowerFail,
    /// `W`, expects `OK`.
    BatteryTestToggle,
    /// `^`, expects `OK`.
    BypassToggle,
}

/// One row of NUT's instant command table (`apc_cmdtab`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CmdEntry {
    /// The NUT instant command.
    pub name: &'static str,
    /// The command byte whose presence in the command set enables it.
    pub cmd: u8,
    /// What is sent.
    pub kind: CmdKind,
    /// Must be requested twice, 3 to 15 s apart.
    pub nasty: bool,
    /// The byte is sent twice, 1.3 s apart.
    pub repeat: bool,
    /// The argument this row accepts.
    pub arg: CmdArg,
}

/// Which argument an instant command row accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CmdArg {
    /// No argument.
    None,
    /// `^[Aa][Tt]:[0-9]{1,3}$`.
    At,
    /// `^([Cc][Ss]|)$`: `cs`, empty or no argument.
    CsOrEmpty,
}

impl CmdArg {
    /// Whether this row takes `arg` (NUT matches a missing argument as
    /// the empty string against a row's pattern).
    pub fn accepts(self, arg: Option<&str>) -> bool {
        match self {
            CmdArg::None => arg.is_none(),
            CmdArg::At => arg.is_some_and(|a| {
                let b = a.as_bytes();
                b.len() >= 4
                    && b.len() <= 6
                    && b[..3].eq_ignore_ascii_case(b"at:")
                    && b[3..].iter().all(u8::is_ascii_digit)
            }),
            CmdArg::CsOrEmpty => {
                let a = arg.unwrap_or("");
                a.is_empty() || a.eq_ignore_ascii_case("cs")
            }
        }
    }
}

const fn c(
    name: &'static str,
    cmd: u8,
    kind: CmdKind,
    nasty: bool,
    repeat: bool,
    arg: CmdArg,
) -> CmdEntry {
    CmdEntry { name, cmd, kind, nasty, repeat, arg }
}

/// NUT 2.8.0's instant command table, in its order.
pub const COMMANDS: &[CmdEntry] = &[
    c("shutdown.return", b'@', CmdKind::GraceDown, true, false, CmdArg::At),
    c("shutdown.return", b'S', CmdKind::SoftDown, true, false, CmdArg::CsOrEmpty),
    c("shutdown.stayoff", b'K', CmdKind::Shutdown, true, true, CmdArg::None),
    c("load.off", b'Z', CmdKind::Off, true, true, CmdArg::None),
    c("load.on", 0x0e, CmdKind::On, false, true, CmdArg::None),
    c("calibrate.start", b'D', CmdKind::CalToggle, false, false, CmdArg::None),
    c("calibrate.stop", b'D', CmdKind::CalToggle, false, false, CmdArg::None),
    c("test.panel.start", b'A', CmdKind::FrontPanelTest, false, false, CmdArg::None),
    c("test.failure.start", b'U', CmdKind::SimulatePowerFail, false, false, CmdArg::None),
    c("test.battery.start", b'W', CmdKind::BatteryTestToggle, false, false, CmdArg::None),
    c("test.battery.stop", b'W', CmdKind::BatteryTestToggle, false, false, CmdArg::None),
    c("bypass.start", b'^', CmdKind::BypassToggle, false, false, CmdArg::None),
    c("bypass.stop", b'^', CmdKind::BypassToggle, false, false, CmdArg::None),
];

/// Command bytes NUT never probes as variables or commands (`^Z`, DEL,
/// ``~ ' ) - + 8 Q R Y a y z``), plus NUL.
pub const UNPROBED: &[u8] = b"\x1a\x7f~')-+8QRYayz\0";

/// One old firmware revision that cannot list its commands (`a`), with
/// the command bytes it accepts (NUT's `apc_compattab`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CompatEntry {
    /// The answer to `V` (or `b`) that selects this row; `set\x01` is the
    /// key used for any two-hex-digit answer.
    pub firmware: &'static [u8],
    /// The command bytes, in the order NUT verifies them.
    pub commands: &'static [u8],
}

impl CompatEntry {
    /// The model NUT publishes for this row: `Matrix-UPS` when the key
    /// starts with `0` or `5`, else `Smart-UPS`.
    pub fn model(&self) -> &'static str {
        match self.firmware.first() {
            Some(b'0' | b'5') => "Matrix-UPS",
            _ => "Smart-UPS",
        }
    }
}

const MATRIX_X: &[u8] = b"@789ABCDEFGKLMNOPQRSTUVWXYZcefgjklmnopqrsuwxz/<>\\^\x0c\x16";
const MATRIX_Z: &[u8] = b"@79ABCDEFGKLMNOPQRSUVWXYZcefgjklmnopqrsuxz/<>";
const SMART_Q: &[u8] = b"@79ABCDEFGKLMNOPQRSUVWXYZcefgjklmnopqrsuxz";
const SMART_I: &[u8] = b"@79ABCEFGKLMNOPQRSUVWXYZcfg";

const fn k(firmware: &'static [u8], commands: &'static [u8]) -> CompatEntry {
    CompatEntry { firmware, commands }
}

/// NUT 2.8.0's old-firmware table, in its order.
pub const COMPAT: &[CompatEntry] = &[
    k(b"0XI", MATRIX_X),
    k(b"0XM", MATRIX_X),
    k(b"0ZI", MATRIX_Z),
    k(b"5UI", MATRIX_Z),
    k(b"5ZM", MATRIX_Z),
    k(b"6QD", SMART_Q),
    k(b"6QI", SMART_Q),
    k(b"6TD", SMART_Q),
    k(b"6TI", SMART_Q),
    k(b"7QD", SMART_Q),
    k(b"7QI", SMART_Q),
    k(b"7TD", SMART_Q),
    k(b"7TI", SMART_Q),
    k(b"6JI", b"@789ABCFGKLMNOPQSTUVWXYZfg"),
    k(b"7II", SMART_I),
    k(b"9II", SMART_I),
    k(b"9GI", SMART_I),
    k(b"8II", SMART_I),
    k(b"8GI", b"@79ABCEFGKLMNOPQRSUVWXYZfg"),
    k(b"8QD", SMART_Q),
    k(b"8QI", SMART_Q),
    k(b"8TD", SMART_Q),
    k(b"8TI", SMART_Q),
    k(b"5.4.D", b"@\x01ABPQRSUYbdfgjmnx9"),
    k(b"set\x01", b"@789ABCFGKLMNOPQRSUVWXYZ"),
];

/// The firmware NUT treats as quirky: it skips the old-firmware table and
/// ignores an overflowing capability answer.
pub const QUIRK_CAPS_OVERFLOW: &[u8] = b"451.2.I";

/// The old-firmware row for a `V`/`b` answer: two hex digits select
/// `set\x01`, `451.2.I` selects none.
pub fn compat_lookup(firmware: &[u8]) -> Option<&'static CompatEntry> {
    let key: &[u8] = if firmware.len() == 2 && firmware.iter().all(u8::is_ascii_hexdigit) {
        b"set\x01"
    } else {
        firmware
    };
    COMPAT.iter().find(|e| e.firmware == key)
}

/// The entries reading `cmd`, in table order.
pub fn vars_for(cmd: u8) -> impl Iterator<Item = (usize, &'static VarEntry)> {
    VARS.iter().enumerate().filter(move |(_, e)| e.cmd == cmd)
}
