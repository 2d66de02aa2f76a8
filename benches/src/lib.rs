#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use nut_proto::frame::LineFramer;
use nut_proto::net::{Query, Reply};
use nut_proto::token::is_plain_word;
use std::borrow::Cow;

/// One device dump from `data/ddl/`, compiled into the bench binary so that
/// the benches run from a plain clone.
#[derive(Clone, Copy, Debug)]
pub struct Dump {
    /// Path under `data/ddl/`, as in the NUT DDL.
    pub file: &'static str,
    /// The UPS name used in the replies (as in `ups.conf`).
    pub ups: &'static str,
    /// The NUT driver that produced the dump.
    pub driver: &'static str,
    /// The file's bytes.
    pub text: &'static [u8],
}

macro_rules! dump {
    ($file:literal, $ups:literal, $driver:literal) => {
        Dump {
            file: $file,
            ups: $ups,
            driver: $driver,
            text: include_bytes!(concat!("../data/ddl/", $file)),
        }
    };
}

/// The dumps in `data/ddl/` (see `data/README.md` for their source).
pub const DUMPS: &[Dump] = &[
    dump!("Eaton/Eaton__5SC_2200i_RT__usbhid-ups__2.7.4__01.dev", "eaton5sc", "usbhid-ups"),
    dump!("APC/APC__Smart-UPS_5000_RM__snmp-ups__2.8.0__01.dev", "apc5000", "snmp-ups"),
    dump!("Eaton/Eaton__EPDU_MI_38U-A__snmp-ups__2.7.4__01.dev", "epdu", "snmp-ups"),
    dump!(
        "PowerWalker/PowerWalker__VFI_2000_CRM_LCD__nutdrv_qx__2.8.1__01.dev",
        "vfi2000",
        "nutdrv_qx"
    ),
    dump!("APC/APC__Smart-UPS_SC450_RM__apcsmart__2.6.1__01.dev", "sc450", "apcsmart"),
    dump!("Powerware/Powerware__PW5125__bcmxcp__2.7.4__01.dev", "pw5125", "bcmxcp"),
    dump!(
        "Tripp_Lite/Tripp_Lite__SU1500RTXLCD2U__usbhid-ups__2.6.3__01.dev",
        "su1500",
        "usbhid-ups"
    ),
];

/// Reads the variables of a `.dev` dump (`upsc` format), sorted as `upsd`
/// sends them.
///
/// Blank lines and lines starting with `#` are skipped. `upsc` prints
/// `"<name>: <value>"`, so the value is everything after the first `": "`,
/// kept verbatim (inner and trailing spaces included), except that a `#`
/// starts a hand-written annotation in the DDL (`3341\t#BAD: ...`): it is
/// cut off with the whitespace before it, as NUT's `dummy-ups` does. Bytes
/// that are not UTF-8 become U+FFFD. A repeated name keeps its last value.
///
/// The result is sorted by name case-insensitively, which is the order of
/// `upsd`'s variable tree (`strcasecmp`), hence of its `LIST VAR` replies.
pub fn parse_dev(text: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(text);
    let mut vars: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else { continue };
        let name = name.trim_matches(|c: char| c.is_ascii_whitespace());
        if !is_plain_word(name) {
            continue;
        }
        let value = value.strip_prefix(' ').unwrap_or(value);
        let value = match value.split_once('#') {
            Some((v, _)) => v.trim_end_matches(|c: char| c.is_ascii_whitespace()),
            None => value,
        };
        match vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.to_owned(),
            None => vars.push((name.to_owned(), value.to_owned())),
        }
    }
    vars.sort_by_cached_key(|(n, _)| n.to_ascii_lowercase());
    vars
}

/// The lines of `upsd`'s answer to `LIST VAR <ups>`: `BEGIN LIST VAR`, one
/// `VAR` per variable in the given order, `END LIST VAR`.
pub fn list_var(ups: &str, vars: &[(String, String)]) -> Vec<Reply<'static>> {
    let name = || Cow::Owned(ups.to_owned());
    let mut out = Vec::with_capacity(vars.len() + 2);
    out.push(Reply::BeginList(Query::Var { ups: name() }));
    out.extend(vars.iter().map(|(var, value)| Reply::Var {
        ups: name(),
        var: Cow::Owned(var.clone()),
        value: Cow::Owned(value.clone()),
    }));
    out.push(Reply::EndList(Query::Var { ups: name() }));
    out
}

/// Encodes the replies one after the other, as `upsd` writes them.
pub fn encode(replies: &[Reply<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in replies {
        r.encode(&mut out);
    }
    out
}

/// A bench input: reply values and their encoding.
#[derive(Clone, Debug)]
pub struct Input {
    /// A short name for bench ids.
    pub name: String,
    /// The reply lines.
    pub replies: Vec<Reply<'static>>,
    /// `replies` encoded: the bytes a client reads from the socket.
    pub bytes: Vec<u8>,
}

impl Input {
    fn new(name: String, replies: Vec<Reply<'static>>) -> Self {
        let bytes = encode(&replies);
        Input { name, replies, bytes }
    }

    /// Number of lines (one per reply).
    pub fn lines(&self) -> usize {
        self.replies.len()
    }

    /// The lines of `bytes`, without their LF, as the framer cuts them.
    pub fn split_lines(&self) -> Vec<&[u8]> {
        // A line the framer returns borrows the framer too, so it cannot be
        // kept across calls: keep the positions instead. Fed the whole
        // buffer, every line lies inside it and ends one byte before `used`.
        let mut framer = LineFramer::default();
        let mut lines = Vec::with_capacity(self.lines());
        let mut pos = 0;
        while pos < self.bytes.len() {
            let (used, frame) = framer.decode(&self.bytes[pos..]);
            if let Some(frame) = frame {
                frame.expect("bench input has no overlong line");
                lines.push(&self.bytes[pos..pos + used - 1]);
            }
            pos += used;
        }
        lines
    }
}

impl Dump {
    /// The dump's variables, see [`parse_dev`].
    pub fn vars(&self) -> Vec<(String, String)> {
        parse_dev(self.text)
    }

    /// The file name without folder and extension.
    pub fn stem(&self) -> &'static str {
        let base = self.file.rsplit('/').next().unwrap_or(self.file);
        base.strip_suffix(".dev").unwrap_or(base)
    }

    /// The `LIST VAR <ups>` reply for this dump.
    pub fn input(&self) -> Input {
        Input::new(self.ups.to_owned(), list_var(self.ups, &self.vars()))
    }
}

/// All dumps' `LIST VAR` replies one after the other, repeated until the
/// encoding holds at least `min_bytes` bytes.
pub fn combined(min_bytes: usize) -> Input {
    let once: Vec<Reply<'static>> = DUMPS.iter().flat_map(|d| d.input().replies).collect();
    let once_len = encode(&once).len();
    let times = min_bytes.div_ceil(once_len).max(1);
    let replies = std::iter::repeat_n(&once, times).flatten().cloned().collect();
    Input::new(format!("combined_x{times}"), replies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nut_proto::token::sanitize;

    fn value<'a>(vars: &'a [(String, String)], name: &str) -> &'a str {
        &vars.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn dev_format() {
        let vars = parse_dev(
            b"# comment\n\n# :; upsc ups\nups.status: OL\nBattery.charge: 100\n\
              input.voltage.maximum: 3341\t#BAD: wrong\ndevice.part: 0514   \n\
              device.model: PW5125     1500i\r\nups.status: OB\nnot a variable\n",
        );
        assert_eq!(
            vars,
            [
                ("Battery.charge", "100"),
                ("device.model", "PW5125     1500i"),
                ("device.part", "0514   "),
                ("input.voltage.maximum", "3341"),
                ("ups.status", "OB"),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn every_dump_has_variables() {
        for d in DUMPS {
            let vars = d.vars();
            assert!(vars.len() >= 30, "{}: {} variables", d.file, vars.len());
            assert_eq!(value(&vars, "driver.name"), d.driver, "{}", d.file);
            let keys: Vec<String> = vars.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{}: not sorted/unique", d.file);
        }
        let eaton = DUMPS[0].vars();
        assert_eq!(value(&eaton, "ups.test.result"), "Done and passed");
        let apc = DUMPS[1].vars();
        assert!(value(&apc, "device.location").ends_with("D0 B0 D1 8F"));
        assert_eq!(DUMPS[2].vars().len(), 581);
    }

    #[test]
    fn replies_parse_back() {
        for d in DUMPS {
            let input = d.input();
            let lines = input.split_lines();
            assert_eq!(lines.len(), input.lines(), "{}", d.file);
            assert!(lines[0].starts_with(format!("BEGIN LIST VAR {}", d.ups).as_bytes()));
            assert_eq!(*lines.last().unwrap(), format!("END LIST VAR {}", d.ups).as_bytes());
            for (line, reply) in lines.iter().zip(&input.replies) {
                let parsed = Reply::parse(line).unwrap();
                match (&parsed, reply) {
                    (Reply::Var { ups, var, value }, Reply::Var { ups: u, var: n, value: v }) => {
                        assert_eq!((ups, var), (u, n));
                        assert_eq!(*value, sanitize(v));
                    }
                    _ => assert_eq!(&parsed, reply),
                }
            }
        }
    }

    #[test]
    fn combined_is_about_a_megabyte() {
        let c = combined(1 << 20);
        assert!((1 << 20..(1 << 20) + 100_000).contains(&c.bytes.len()), "{}", c.bytes.len());
        assert_eq!(c.split_lines().len(), c.lines());
    }
}
