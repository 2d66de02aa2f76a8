//! The driver options of NUT's apcsmart (`ttymode`, `cable`, `awd`,
//! `sdtype`, `advorder`, `cshdelay`), validated as NUT validates them,
//! and the serial setup they imply.

use core::time::Duration;

/// An invalid option value (NUT exits with "invalid value (...) for
/// option '...'").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionError {
    /// The value does not match the option's pattern.
    #[error("invalid value for option '{option}'")]
    Invalid {
        /// The option name.
        option: &'static str,
    },
}

/// The line discipline NUT sets up (`ttymode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TtyMode {
    /// The default: canonical input with CR ignored (`IGNCR`), `*` as a
    /// second end-of-line byte, no XON/XOFF. The session drops CR bytes.
    #[default]
    Canonical,
    /// `ttymode=raw`: plain non-canonical input; CR bytes reach the
    /// answer reader (which ignores them everywhere but in `a`), and a
    /// line cut by a timeout is a read failure.
    Raw,
}

/// One shutdown method, as `advorder` digits index them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SdMethod {
    /// 0: soft hibernate, `S`.
    SoftHibernate,
    /// 1: hard hibernate, `@` + `awd`.
    HardHibernate,
    /// 2: delayed power off, `K` twice.
    DelayedOff,
    /// 3: instant power off, `Z` twice.
    InstantOff,
    /// 4: the "CS" hack: `U` when on line, wait `cshdelay`, then `S`.
    CsHack,
}

impl SdMethod {
    /// The method an `advorder` digit names.
    pub fn from_digit(d: u8) -> Option<SdMethod> {
        Some(match d {
            b'0' => SdMethod::SoftHibernate,
            b'1' => SdMethod::HardHibernate,
            b'2' => SdMethod::DelayedOff,
            b'3' => SdMethod::InstantOff,
            b'4' => SdMethod::CsHack,
            _ => return None,
        })
    }
}

/// The options of one apcsmart UPS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `ttymode`.
    pub ttymode: TtyMode,
    /// `cable=940-0095B` (case-insensitive): DTR on, RTS off.
    pub alt_cable: bool,
    /// `awd`, 1 to 3 digits (units of 6 minutes); `None` is `000`.
    pub awd: Option<alloc::string::String>,
    /// `sdtype`, 0 to 5.
    pub sdtype: u8,
    /// `advorder` methods, tried in order; empty for `no` or unset.
    pub advorder: alloc::vec::Vec<SdMethod>,
    /// `cshdelay` (default 3.5 s).
    pub cshdelay: Duration,
    /// The driver's poll interval (NUT's `pollinterval`, default 2 s).
    pub poll_interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ttymode: TtyMode::Canonical,
            alt_cable: false,
            awd: None,
            sdtype: 0,
            advorder: alloc::vec::Vec::new(),
            cshdelay: Duration::from_millis(3500),
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// The option names apcsmart declares, with NUT's descriptions.
pub const OPTION_NAMES: &[(&str, &str)] = &[
    ("ttymode", "tty discipline selection"),
    ("cable", "alternate cable (940-0095B) selection"),
    ("awd", "hard hibernate's additional wakeup delay"),
    ("sdtype", "simple shutdown method"),
    ("advorder", "advanced shutdown control"),
    ("cshdelay", "CS hack delay"),
];

impl Options {
    /// Sets one option from its `ups.conf` / `-x` text, validated with
    /// NUT's pattern. Unknown names are ignored (`Ok(false)`).
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, OptionError> {
        let b = value.as_bytes();
        match name {
            "ttymode" => {
                self.ttymode = if value == "raw" { TtyMode::Raw } else { TtyMode::Canonical }
            }
            "cable" => self.alt_cable = value.eq_ignore_ascii_case("940-0095B"),
            "awd" => {
                if !crate::answer::is_digits_1_3(b) {
                    return Err(OptionError::Invalid { option: "awd" });
                }
                self.awd = Some(value.into());
            }
            "sdtype" => match b {
                [d @ b'0'..=b'5'] => self.sdtype = d - b'0',
                _ => return Err(OptionError::Invalid { option: "sdtype" }),
            },
            "advorder" => {
                if value.eq_ignore_ascii_case("no") {
                    self.advorder.clear();
                } else if (1..=5).contains(&b.len()) && b.iter().all(|d| (b'0'..=b'4').contains(d))
                {
                    self.advorder = b.iter().filter_map(|&d| SdMethod::from_digit(d)).collect();
                } else {
                    return Err(OptionError::Invalid { option: "advorder" });
                }
            }
            "cshdelay" => {
                // ^([0-9]\.?|[0-9]?\.[0-9])$
                let ok = match b {
                    [d] | [d, b'.'] => d.is_ascii_digit(),
                    [b'.', f] => f.is_ascii_digit(),
                    [d, b'.', f] => d.is_ascii_digit() && f.is_ascii_digit(),
                    _ => false,
                };
                if !ok {
                    return Err(OptionError::Invalid { option: "cshdelay" });
                }
                let mut tenths = 0u64;
                let mut seen_dot = false;
                for &c in b {
                    if c == b'.' {
                        seen_dot = true;
                    } else if seen_dot {
                        tenths += u64::from(c - b'0');
                    } else {
                        tenths += 10 * u64::from(c - b'0');
                    }
                }
                self.cshdelay = Duration::from_millis(tenths * 100);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The modem lines NUT sets after opening the port: `Some((dtr, rts))`
    /// = `(true, false)` for the 940-0095B cable, `None` to leave them.
    pub fn cable_lines(&self) -> Option<(bool, bool)> {
        self.alt_cable.then_some((true, false))
    }

    /// The `@` command for hard hibernate: `awd` padded to 3 digits, or
    /// kept at 2 when 2 were given.
    pub fn at_command(awd: Option<&str>) -> alloc::vec::Vec<u8> {
        let awd = awd.unwrap_or("000").as_bytes();
        let pad: usize = if awd.len() == 2 { 2 } else { 3 };
        let mut out = alloc::vec![b'@'];
        out.extend(core::iter::repeat_n(b'0', pad.saturating_sub(awd.len())));
        out.extend_from_slice(awd);
        out
    }
}

/// The serial line speed NUT uses.
pub const BAUD: u32 = 2400;
