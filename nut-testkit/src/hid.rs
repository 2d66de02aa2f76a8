//! USB HID test doubles: [`ReplayHid`], a [`HidLink`] that replays a
//! recorded `.hid` file the way the project's `fakeusb` shim does, and
//! [`Faulty`], a wrapper around any [`HidLink`] that injects faults
//! (unplug, STALL, short, over-long or garbled reports, a mute device,
//! undecodable strings) under the control of a [`FaultControl`] handle that
//! the test keeps while the driver owns the link.
//!
//! The `.hid` format is described in `data/hid/README.md`. The answers
//! follow `fakeusb`'s rules:
//!
//! * IDs: `@usb` gives VID:PID (only a VID: PID `8036` for Arduino's
//!   `2341`, else `0000`; none: `0463:ffff` when `@nut-subdriver` mentions
//!   MGE, else `0000:0000`), `@bcd-device` the release (default `0100`);
//!   bus `001`, device `002`.
//! * Strings 1 (manufacturer), 2 (product), 3 (serial) from `@manufacturer`,
//!   `@product`, `@serial`, else derived from `@device`; the serial is
//!   `FAKEUSB` + the FNV-1a-32 of the descriptor in hex. Other indexes:
//!   `@string-N`, else `strN` (or a STALL, see [`ReplayOptions`]).
//! * GET_REPORT: bytes of an earlier SET_REPORT of that ID, else a logged
//!   `[reports]` line of that ID (see [`Sequence`]), else a synthetic report
//!   ([`synth`], length from the descriptor, see [`ReportSizes`]); an ID the
//!   descriptor does not define STALLs.
//! * Interrupt reads: nothing ([`LinkError::Timeout`]), or with
//!   [`Interrupt::Logged`] the first logged line of every ID that has Input
//!   items, once each.

use nut_driver::Message;
use nut_driver::transport::{HidLink, InterruptPipe, LinkError, ReportType, UsbIds};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The largest report descriptor kept (bytes).
const MAX_DESCRIPTOR: usize = 0x4000;
/// The most bytes kept per logged report line or SET_REPORT.
const MAX_REPORT: usize = 4096;
/// The most logged lines kept per report ID.
const MAX_LINES_PER_ID: usize = 32;
/// The longest USB string (bytes).
const MAX_STRING: usize = 126;
/// Default cap of a synthetic answer (bytes).
const DEFAULT_MAX_SYNTH: usize = 1024;

/// Byte `i` (`i >= 1`, counted after the report ID) of the synthetic report
/// `id`: a fixed 32-bit mix of `(id, i)`, identical to `fakeusb`'s, so two
/// drivers asking for different lengths see the same prefix.
pub fn synth(id: u8, i: u32) -> u8 {
    let mut x = u32::from(id).wrapping_mul(0x9E37_79B1) ^ i.wrapping_mul(0x85EB_CA77) ^ 0x5bd1_e995;
    x ^= x >> 15;
    x = x.wrapping_mul(0x2C1B_3C6D);
    x ^= x >> 12;
    x = x.wrapping_mul(0x297A_2D39);
    x ^= x >> 15;
    (x & 0xff) as u8
}

/// Report sizes per (type, ID), from a minimal walk of a report descriptor:
/// the bits of all Main items (Input, Output, Feature) per report ID, with
/// Report Size, Report Count, Report ID, Push and Pop tracked and long
/// items skipped. Nothing else of the descriptor is interpreted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportSizes {
    /// Bits per (type index 0 Input, 1 Output, 2 Feature) and report ID.
    bits: BTreeMap<(usize, u8), u64>,
    uses_ids: bool,
}

fn type_index(kind: ReportType) -> usize {
    match kind {
        ReportType::Input => 0,
        ReportType::Output => 1,
        ReportType::Feature => 2,
    }
}

impl ReportSizes {
    /// Walks `descriptor`. Never fails: a truncated item at the end is read
    /// with the bytes there are.
    pub fn parse(descriptor: &[u8]) -> Self {
        let mut out = ReportSizes::default();
        let (mut size, mut count, mut id) = (0u64, 0u64, 0u8);
        let mut stack: Vec<(u64, u64, u8)> = Vec::new();
        let mut pos = 0usize;
        while let Some(&b) = descriptor.get(pos) {
            if b == 0xfe {
                // Long item: 0xfe, data size, tag, data.
                let Some(&len) = descriptor.get(pos + 1) else { break };
                pos = pos.saturating_add(3 + usize::from(len));
                continue;
            }
            let len = match b & 3 {
                3 => 4,
                n => usize::from(n),
            };
            let mut v = 0u64;
            for i in 0..len {
                if let Some(&d) = descriptor.get(pos + 1 + i) {
                    v |= u64::from(d) << (8 * i);
                }
            }
            pos += 1 + len;
            let (kind, tag) = ((b >> 2) & 3, b >> 4);
            match (kind, tag) {
                (1, 7) => size = v,
                (1, 8) => {
                    id = (v & 0xff) as u8;
                    out.uses_ids = true;
                }
                (1, 9) => count = v,
                (1, 10) if stack.len() < 8 => stack.push((size, count, id)),
                (1, 11) => {
                    if let Some(s) = stack.pop() {
                        (size, count, id) = s;
                    }
                }
                (0, 8 | 9 | 11) => {
                    let t = match tag {
                        8 => 0,
                        9 => 1,
                        _ => 2,
                    };
                    if size <= 4096 && count <= 4096 {
                        *out.bits.entry((t, id)).or_default() += size * count;
                    }
                }
                _ => {}
            }
        }
        out.bits.retain(|_, b| *b != 0);
        out
    }

    /// Whether the descriptor declares report IDs.
    pub fn uses_ids(&self) -> bool {
        self.uses_ids
    }

    /// The bits of report `id` of type `kind` (0 if none).
    pub fn bits(&self, kind: ReportType, id: u8) -> u64 {
        self.bits.get(&(type_index(kind), id)).copied().unwrap_or(0)
    }

    /// The length in bytes of report `id` as a device sends it: the bits of
    /// type `kind`, or of the largest type when `kind` has none, rounded up,
    /// plus one for the ID byte when the descriptor uses IDs (at most 4096).
    /// `None`: the descriptor does not define that ID.
    pub fn len(&self, kind: ReportType, id: u8) -> Option<usize> {
        let mut bits = self.bits(kind, id);
        if bits == 0 {
            bits = (0..3).filter_map(|t| self.bits.get(&(t, id)).copied()).max().unwrap_or(0);
        }
        if bits == 0 {
            return None;
        }
        let n = bits.div_ceil(8) + u64::from(self.uses_ids);
        Some(usize::try_from(n).unwrap_or(MAX_REPORT).min(MAX_REPORT))
    }

    /// The report IDs that have Input items, ascending.
    pub fn input_ids(&self) -> Vec<u8> {
        self.bits.keys().filter(|(t, _)| *t == 0).map(|(_, id)| *id).collect()
    }
}

/// Why a `.hid` file cannot make a device.
#[derive(Debug)]
#[non_exhaustive]
pub enum HidFileError {
    /// The file (or the one named by `@same-descriptor-as`) cannot be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// No complete `[descriptor]` (a partial capture, or a
    /// `@same-descriptor-as` that [`HidFile::parse`] cannot follow).
    NoDescriptor,
}

impl fmt::Display for HidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HidFileError::Read { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            HidFileError::NoDescriptor => f.write_str("no complete [descriptor] in the .hid file"),
        }
    }
}

impl std::error::Error for HidFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HidFileError::Read { error, .. } => Some(error),
            HidFileError::NoDescriptor => None,
        }
    }
}

/// The parts of a `.hid` file the device is built from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HidFile {
    /// Header lines (`@key: value`, before the first section), in order.
    pub header: Vec<(String, String)>,
    /// The `[descriptor]` bytes (empty if the file has none).
    pub descriptor: Vec<u8>,
    /// The `[reports]` lines per report ID, in file order (bytes start with
    /// the ID). An `err` line is kept only while the ID has no other line.
    pub reports: BTreeMap<u8, Vec<Vec<u8>>>,
    /// The `@string-N` header lines.
    pub strings: BTreeMap<u8, String>,
}

/// Hex byte tokens separated by blanks or commas, `0x` optional, up to a
/// `#`. `None` when a token is not a byte.
fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for tok in s.split(|c: char| c.is_ascii_whitespace() || c == ',') {
        if tok.is_empty() {
            continue;
        }
        if tok.starts_with('#') {
            break;
        }
        let t = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")).unwrap_or(tok);
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = t.bytes().fold(0u64, |acc, b| {
            let d = u64::from(char::from(b).to_digit(16).unwrap_or(0));
            acc.saturating_mul(16).saturating_add(d)
        });
        out.push(u8::try_from(v).ok()?);
    }
    Some(out)
}

/// A `%x` conversion: optional blanks, sign, `0x`, then hex digits. Returns
/// the value (saturated) and the rest.
fn scan_hex(s: &str) -> Option<(u64, &str)> {
    let s = s.trim_start();
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let s = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(r) if r.starts_with(|c: char| c.is_ascii_hexdigit()) => r,
        _ => s,
    };
    let end = s.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let v = s[..end].bytes().fold(0u64, |acc, b| {
        let d = u64::from(char::from(b).to_digit(16).unwrap_or(0));
        acc.saturating_mul(16).saturating_add(d)
    });
    Some((v, &s[end..]))
}

impl HidFile {
    /// Parses the text of a `.hid` file. Bad lines are skipped, as
    /// `fakeusb` does.
    pub fn parse(text: &str) -> HidFile {
        let mut f = HidFile::default();
        let mut section = String::new();
        let mut err_only: BTreeSet<u8> = BTreeSet::new();
        for line in text.split('\n') {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            if l.starts_with('[') {
                section = l.to_string();
                continue;
            }
            if let Some(rest) = l.strip_prefix('@') {
                if section.is_empty() {
                    if let Some((k, v)) = rest.split_once(':') {
                        let (k, v) = (k.trim(), v.trim());
                        if let Some(n) = k.strip_prefix("string-") {
                            if let Ok(n) = n.parse::<u8>() {
                                if n > 3 {
                                    f.strings.entry(n).or_insert_with(|| truncate(v));
                                }
                            }
                        }
                        f.header.push((k.to_string(), v.to_string()));
                    }
                    continue;
                }
            }
            match section.as_str() {
                "[descriptor]" => {
                    if let Some(bytes) = parse_hex(l) {
                        let room = MAX_DESCRIPTOR - f.descriptor.len();
                        f.descriptor.extend(bytes.into_iter().take(room));
                    }
                }
                "[reports]" => f.report_line(l, &mut err_only),
                _ => {}
            }
        }
        f
    }

    fn report_line(&mut self, l: &str, err_only: &mut BTreeSet<u8>) {
        // <how> <id>: <bytes>
        let Some((how, rest)) = l.split_once(|c: char| c.is_ascii_whitespace()) else { return };
        let Some((id, rest)) = scan_hex(rest) else { return };
        let Some(rest) = rest.strip_prefix(':') else { return };
        let Ok(id) = u8::try_from(id) else { return };
        let Some(mut bytes) = parse_hex(rest) else { return };
        if bytes.is_empty() {
            return;
        }
        bytes.truncate(MAX_REPORT);
        let lines = self.reports.entry(id).or_default();
        let is_err = how == "err";
        if is_err && !lines.is_empty() {
            return;
        }
        if !is_err && err_only.contains(&id) {
            lines.clear();
            err_only.remove(&id);
        }
        if is_err {
            err_only.insert(id);
        }
        if lines.len() < MAX_LINES_PER_ID {
            lines.push(bytes);
        }
    }

    /// The value of header line `@key` (the last one).
    pub fn header(&self, key: &str) -> Option<&str> {
        self.header.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// At most [`MAX_STRING`] bytes of `s` (on a character boundary), trimmed.
fn truncate(s: &str) -> String {
    let mut end = s.len().min(MAX_STRING);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].trim().to_string()
}

/// What GET_REPORT answers for an ID with no logged line and no SET_REPORT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unlogged {
    /// Synthetic bytes ([`synth`]); the default.
    #[default]
    Synth,
    /// The same length, all data bytes 0.
    Zero,
    /// A STALL.
    Stall,
}

/// Which logged line of an ID GET_REPORT answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sequence {
    /// Always the first; the default.
    #[default]
    First,
    /// One line per request, then the last one again.
    Step,
    /// One line per request, then from the first again.
    Cycle,
}

/// What the interrupt pipe delivers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Interrupt {
    /// Nothing: [`LinkError::Timeout`]; the default.
    #[default]
    None,
    /// First, once each, the first logged line of every ID that has Input
    /// items (ascending IDs); then nothing.
    Logged,
}

/// The length of a synthetic report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SynthLength {
    /// From the descriptor, like a real device; the default.
    #[default]
    Descriptor,
    /// The caller's buffer length (undefined IDs are answered too).
    Request,
}

/// How a [`ReplayHid`] answers; [`Default`] is `fakeusb`'s default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayOptions {
    /// IDs without a logged line.
    pub unlogged: Unlogged,
    /// Which logged line.
    pub sequence: Sequence,
    /// The interrupt pipe.
    pub interrupt: Interrupt,
    /// When nothing is queued on the interrupt pipe and the deadline is in
    /// the future: `false` (the default) returns [`LinkError::Timeout`] at
    /// once, `true` sleeps until the deadline first (real time passes).
    pub interrupt_sleeps: bool,
    /// The length of synthetic reports.
    pub synth_length: SynthLength,
    /// The cap of a synthetic report (default 1024).
    pub max_synth: usize,
    /// String indexes above 3 without `@string-N`: `false` (the default)
    /// answers `strN`, `true` STALLs.
    pub extra_strings_stall: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            unlogged: Unlogged::Synth,
            sequence: Sequence::First,
            interrupt: Interrupt::None,
            interrupt_sleeps: false,
            synth_length: SynthLength::Descriptor,
            max_synth: DEFAULT_MAX_SYNTH,
            extra_strings_stall: false,
        }
    }
}

/// A simulated USB HID Power Device that replays a `.hid` file.
#[derive(Debug)]
pub struct ReplayHid {
    ids: UsbIds,
    descriptor: Vec<u8>,
    sizes: ReportSizes,
    /// Logged lines and the next position, per ID.
    logged: BTreeMap<u8, (Vec<Vec<u8>>, usize)>,
    set: BTreeMap<u8, Vec<u8>>,
    strings: BTreeMap<u8, String>,
    interrupt_queue: std::collections::VecDeque<u8>,
    opts: ReplayOptions,
}

/// FNV-1a, 32 bits.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(2_166_136_261u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(16_777_619))
}

/// A USB string as libusb's ASCII reader returns it: bytes above 0x7f
/// become `?`.
fn ascii(s: &str) -> String {
    s.bytes().map(|b| if b < 0x80 { char::from(b) } else { '?' }).collect()
}

/// Manufacturer and product derived from `@device`.
fn derive_strings(device: &str) -> (Option<String>, Option<String>) {
    let nonempty = |s: &str| Some(truncate(s)).filter(|s| !s.is_empty());
    let product = if let Some(i) = device.find("product string \"") {
        let p = &device[i + 16..];
        nonempty(&p[..p.find('"').unwrap_or(p.len())])
    } else if device.contains("no product string") {
        None
    } else if let Some(i) =
        ["product string ", "(product ", ", product "].iter().find_map(|pat| device.find(pat))
    {
        let p = &device[i..];
        let p = &p[p.find("product").map_or(0, |j| j + 7)..];
        let p = p.strip_prefix(" string").unwrap_or(p);
        nonempty(&p[..p.find([')', ',', ';']).unwrap_or(p.len())])
    } else {
        let q = match device.strip_prefix("Tripp Lite ") {
            Some(q) => q,
            None => &device[device.find(' ').unwrap_or(device.len())..],
        };
        let mut tmp = String::new();
        let mut depth = 0usize;
        for c in q.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ' ' if depth == 0 && (tmp.is_empty() || tmp.ends_with(' ')) => {}
                c if depth == 0 => tmp.push(c),
                _ => {}
            }
        }
        nonempty(if tmp.is_empty() { "UPS" } else { &tmp })
    };
    let manufacturer = if device.starts_with("Tripp Lite") {
        Some("Tripp Lite".to_string())
    } else if device.starts_with("UPS ") {
        None
    } else {
        nonempty(&device[..device.find(' ').unwrap_or(device.len())])
    };
    (manufacturer, product)
}

fn stall() -> LinkError {
    LinkError::Stall
}

impl ReplayHid {
    /// The device of a `.hid` file, with [`ReplayOptions::default`].
    /// `@same-descriptor-as` is followed relative to the file's folder.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ReplayHid, HidFileError> {
        Self::from_file_with(path, ReplayOptions::default())
    }

    /// The device of a `.hid` file with the given options.
    pub fn from_file_with(
        path: impl AsRef<Path>,
        opts: ReplayOptions,
    ) -> Result<ReplayHid, HidFileError> {
        let path = path.as_ref();
        let read = |p: &Path| {
            std::fs::read(p)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|error| HidFileError::Read { path: p.to_path_buf(), error })
        };
        let mut file = HidFile::parse(&read(path)?);
        let mut dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut same = file.header("same-descriptor-as").map(str::to_string);
        let mut depth = 0;
        while file.descriptor.is_empty() && depth < 3 {
            let Some(name) = same.take() else { break };
            let p = dir.join(&name);
            let other = HidFile::parse(&read(&p)?);
            file.descriptor = other.descriptor;
            for (n, s) in other.strings {
                file.strings.entry(n).or_insert(s);
            }
            same = other
                .header
                .iter()
                .rev()
                .find(|(k, _)| k == "same-descriptor-as")
                .map(|(_, v)| v.clone());
            dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
            depth += 1;
        }
        Self::from_hid_file(file, opts)
    }

    /// The device of the text of a `.hid` file (which must have its own
    /// `[descriptor]`).
    pub fn parse(text: &str, opts: ReplayOptions) -> Result<ReplayHid, HidFileError> {
        Self::from_hid_file(HidFile::parse(text), opts)
    }

    /// The device of a parsed file.
    pub fn from_hid_file(file: HidFile, opts: ReplayOptions) -> Result<ReplayHid, HidFileError> {
        if file.descriptor.len() < 2 {
            return Err(HidFileError::NoDescriptor);
        }
        let sizes = ReportSizes::parse(&file.descriptor);
        // USB IDs.
        let usb = file.header("usb").unwrap_or("");
        let (vid, pid) = match scan_hex(usb) {
            Some((a, rest)) if a <= 0xffff => {
                let b = rest.strip_prefix(':').and_then(scan_hex).map(|(b, _)| b);
                match b {
                    Some(b) if b <= 0xffff => (a as u16, b as u16),
                    _ => (a as u16, if a == 0x2341 { 0x8036 } else { 0 }),
                }
            }
            _ => {
                let mge =
                    file.header.iter().any(|(k, v)| k == "nut-subdriver" && v.contains("MGE"));
                if mge { (0x0463, 0xffff) } else { (0, 0) }
            }
        };
        let bcd = file
            .header("bcd-device")
            .and_then(scan_hex)
            .map_or(0x0100, |(v, _)| (v & 0xffff) as u16);
        // Strings.
        let (mut mfr, mut product) =
            derive_strings(file.header("device").unwrap_or("Simulated UPS"));
        let mut serial = Some(format!("FAKEUSB{:08X}", fnv1a(&file.descriptor)));
        let given = |k: &str| file.header(k).filter(|v| !v.is_empty()).map(truncate);
        if let Some(v) = given("manufacturer") {
            mfr = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = given("product") {
            product = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = given("serial") {
            serial = Some(v).filter(|s| !s.is_empty());
        }
        let mut strings = file.strings;
        for (i, s) in [(1u8, &mfr), (2, &product), (3, &serial)] {
            match s {
                Some(s) => strings.insert(i, s.clone()),
                None => strings.remove(&i),
            };
        }
        let ids = UsbIds {
            vendor_id: vid,
            product_id: pid,
            bcd_device: bcd,
            vendor: mfr.as_deref().map(ascii),
            product: product.as_deref().map(ascii),
            serial: serial.as_deref().map(ascii),
            bus: Some("001".into()),
            device: Some("002".into()),
            busport: Some("001".into()),
        };
        let interrupt_queue = match opts.interrupt {
            Interrupt::None => Default::default(),
            Interrupt::Logged => file
                .reports
                .keys()
                .copied()
                .filter(|&id| sizes.bits(ReportType::Input, id) != 0)
                .collect(),
        };
        let logged = file.reports.into_iter().map(|(id, lines)| (id, (lines, 0))).collect();
        Ok(ReplayHid {
            ids,
            descriptor: file.descriptor,
            sizes,
            logged,
            set: BTreeMap::new(),
            strings,
            interrupt_queue,
            opts,
        })
    }

    /// The report sizes computed from the descriptor.
    pub fn sizes(&self) -> &ReportSizes {
        &self.sizes
    }

    /// Replaces string `index` (`None`: the index STALLs); 1-3 also update
    /// [`ids`](HidLink::ids).
    pub fn set_string(&mut self, index: u8, value: Option<&str>) {
        let v = value.map(truncate);
        match index {
            1 => self.ids.vendor = v.as_deref().map(ascii),
            2 => self.ids.product = v.as_deref().map(ascii),
            3 => self.ids.serial = v.as_deref().map(ascii),
            _ => {}
        }
        match v {
            Some(v) => self.strings.insert(index, v),
            None => self.strings.remove(&index),
        };
    }

    /// Replaces VID, PID and bcdDevice.
    pub fn set_usb_ids(&mut self, vendor_id: u16, product_id: u16, bcd_device: u16) {
        self.ids.vendor_id = vendor_id;
        self.ids.product_id = product_id;
        self.ids.bcd_device = bcd_device;
    }

    /// The synthetic (or zero) answer for report `id`, before the cut to
    /// the caller's buffer; `None`: a STALL.
    fn synthetic(&self, kind: ReportType, id: u8, want: usize) -> Option<Vec<u8>> {
        let len = self.sizes.len(kind, id);
        if self.opts.unlogged == Unlogged::Stall {
            return None;
        }
        let n = match self.opts.synth_length {
            SynthLength::Descriptor => len?,
            SynthLength::Request => want,
        };
        let n = n.min(self.opts.max_synth);
        let off = usize::from(self.sizes.uses_ids());
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(if i < off {
                id
            } else if self.opts.unlogged == Unlogged::Zero {
                0
            } else {
                synth(id, u32::try_from(i + 1 - off).unwrap_or(u32::MAX))
            });
        }
        Some(out)
    }
}

fn copy_out(buf: &mut [u8], src: &[u8]) -> usize {
    let n = src.len().min(buf.len());
    buf[..n].copy_from_slice(&src[..n]);
    n
}

impl HidLink for ReplayHid {
    fn ids(&self) -> &UsbIds {
        &self.ids
    }

    fn report_descriptor(&mut self) -> Result<Vec<u8>, LinkError> {
        Ok(self.descriptor.clone())
    }

    fn get_report(&mut self, kind: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, LinkError> {
        if let Some(data) = self.set.get(&id) {
            return Ok(copy_out(buf, data));
        }
        if let Some((lines, pos)) = self.logged.get_mut(&id) {
            if !lines.is_empty() {
                let last = lines.len() - 1;
                let k = (*pos).min(last);
                match self.opts.sequence {
                    Sequence::First => {}
                    Sequence::Step => *pos = (*pos + 1).min(last),
                    Sequence::Cycle => *pos = (*pos + 1) % lines.len(),
                }
                return Ok(copy_out(buf, &lines[k]));
            }
        }
        let data = self.synthetic(kind, id, buf.len()).ok_or_else(stall)?;
        Ok(copy_out(buf, &data))
    }

    fn set_report(&mut self, _kind: ReportType, id: u8, data: &[u8]) -> Result<usize, LinkError> {
        self.set.insert(id, data[..data.len().min(MAX_REPORT)].to_vec());
        Ok(data.len())
    }

    fn read_interrupt(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        if let Some(id) = self.interrupt_queue.pop_front() {
            if let Some(first) = self.logged.get(&id).and_then(|(l, _)| l.first()) {
                return Ok(copy_out(buf, first));
            }
        }
        if self.opts.interrupt_sleeps {
            let now = Instant::now();
            if deadline > now {
                std::thread::sleep(deadline - now);
            }
        }
        Err(LinkError::Timeout)
    }

    fn string(&mut self, index: u8) -> Result<String, LinkError> {
        if index == 0 {
            return Err(LinkError::Io(Message::cause("string index 0 is the language table")));
        }
        if let Some(s) = self.strings.get(&index) {
            return Ok(ascii(s));
        }
        if index <= 3 || self.opts.extra_strings_stall {
            return Err(LinkError::Stall);
        }
        Ok(format!("str{index}"))
    }
}

/// How [`Faulty`] mangles string descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StringFault {
    /// The backend cannot decode the descriptor: [`LinkError::Io`].
    Error,
    /// The backend decodes it lossily: the inner string followed by
    /// U+FFFD (an unpaired UTF-16 surrogate) and a NUL character.
    Lossy,
}

/// The faults a [`Faulty`] link injects; change them through
/// [`FaultControl`].
#[derive(Clone, Debug, Default)]
struct FaultState {
    calls: u64,
    disconnect_after: Option<u64>,
    disconnected: bool,
    mute: bool,
    stall: BTreeSet<u8>,
    short: Option<usize>,
    overlong: Option<usize>,
    garbage: Option<u64>,
    strings: Option<StringFault>,
}

/// The test's handle on a [`Faulty`] link: cloneable, usable from any
/// thread while the driver owns the link.
#[derive(Clone, Debug, Default)]
pub struct FaultControl(Arc<Mutex<FaultState>>);

impl FaultControl {
    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After `n` more calls succeed (any [`HidLink`] method but `ids`),
    /// the device is unplugged: every call returns
    /// [`LinkError::Disconnected`] until [`replug`](Self::replug).
    pub fn disconnect_after(&self, n: u64) {
        let mut s = self.lock();
        s.disconnect_after = Some(s.calls.saturating_add(n));
    }

    /// Unplugs the device now.
    pub fn unplug(&self) {
        self.lock().disconnected = true;
    }

    /// Plugs the device back in (and cancels a pending
    /// [`disconnect_after`](Self::disconnect_after)).
    pub fn replug(&self) {
        let mut s = self.lock();
        s.disconnected = false;
        s.disconnect_after = None;
    }

    /// Whether the device is unplugged.
    pub fn is_unplugged(&self) -> bool {
        self.lock().disconnected
    }

    /// The calls made so far (any [`HidLink`] method but `ids`).
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// The device stops answering: every call returns
    /// [`LinkError::Timeout`] (without sleeping) while `on`.
    pub fn mute(&self, on: bool) {
        self.lock().mute = on;
    }

    /// GET_REPORT and SET_REPORT of report `id` STALL.
    pub fn stall(&self, id: u8) {
        self.lock().stall.insert(id);
    }

    /// Report `id` answers again.
    pub fn unstall(&self, id: u8) {
        self.lock().stall.remove(&id);
    }

    /// GET_REPORT answers at most `k` bytes (`None`: whole reports).
    pub fn short_reports(&self, k: Option<usize>) {
        self.lock().short = k;
    }

    /// GET_REPORT answers `total` bytes: the report, then stale bytes
    /// (`0xee`), like the Tripp Lite that sent 512 bytes for a 2-byte
    /// report; [`LinkError::Overlong`] when `total` exceeds the caller's
    /// buffer (libusb's overflow). `None`: off.
    pub fn overlong_reports(&self, total: Option<usize>) {
        self.lock().overlong = total;
    }

    /// GET_REPORT answers keep their length and report ID, but the other
    /// bytes are pseudo-random from `seed` (`None`: off).
    pub fn garbage(&self, seed: Option<u64>) {
        self.lock().garbage = seed;
    }

    /// String descriptors cannot be decoded (`None`: off).
    pub fn bad_strings(&self, fault: Option<StringFault>) {
        self.lock().strings = fault;
    }

    /// Removes every fault and replugs.
    pub fn clear(&self) {
        let calls = self.lock().calls;
        *self.lock() = FaultState { calls, ..FaultState::default() };
    }
}

/// A [`HidLink`] that injects faults into another one.
#[derive(Debug)]
pub struct Faulty<L> {
    inner: L,
    ctl: FaultControl,
}

impl<L: HidLink> Faulty<L> {
    /// Wraps `inner`, with no fault yet.
    pub fn new(inner: L) -> Self {
        Faulty { inner, ctl: FaultControl::default() }
    }

    /// The handle that changes the faults (clone it before handing the
    /// link to the driver).
    pub fn control(&self) -> FaultControl {
        self.ctl.clone()
    }

    /// The wrapped link.
    pub fn inner_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    /// Counts a call and applies unplug and mute.
    fn enter(&self) -> Result<FaultState, LinkError> {
        let mut s = self.ctl.lock();
        if s.disconnect_after.is_some_and(|n| s.calls >= n) {
            s.disconnected = true;
            s.disconnect_after = None;
        }
        if s.disconnected {
            return Err(LinkError::Disconnected(Message::cause("simulated unplug")));
        }
        s.calls += 1;
        if s.mute {
            return Err(LinkError::Timeout);
        }
        Ok(s.clone())
    }
}

impl<L: HidLink> HidLink for Faulty<L> {
    fn ids(&self) -> &UsbIds {
        self.inner.ids()
    }

    fn report_descriptor(&mut self) -> Result<Vec<u8>, LinkError> {
        self.enter()?;
        self.inner.report_descriptor()
    }

    fn get_report(&mut self, kind: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, LinkError> {
        let s = self.enter()?;
        if s.stall.contains(&id) {
            return Err(LinkError::Stall);
        }
        let mut n = self.inner.get_report(kind, id, buf)?;
        if let Some(seed) = s.garbage {
            let mut x = seed | 1;
            for b in buf.iter_mut().take(n).skip(1) {
                // xorshift64
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = (x >> 24) as u8;
            }
        }
        if let Some(total) = s.overlong {
            if total > buf.len() {
                return Err(LinkError::Overlong(buf.len()));
            }
            if total > n {
                buf[n..total].fill(0xee);
                n = total;
            }
        }
        if let Some(k) = s.short {
            n = n.min(k);
        }
        Ok(n)
    }

    fn set_report(&mut self, kind: ReportType, id: u8, data: &[u8]) -> Result<usize, LinkError> {
        let s = self.enter()?;
        if s.stall.contains(&id) {
            return Err(LinkError::Stall);
        }
        self.inner.set_report(kind, id, data)
    }

    fn read_interrupt(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        self.enter()?;
        self.inner.read_interrupt(buf, deadline)
    }

    fn string(&mut self, index: u8) -> Result<String, LinkError> {
        let s = self.enter()?;
        let v = self.inner.string(index)?;
        match s.strings {
            None => Ok(v),
            Some(StringFault::Error) => Err(LinkError::Io(Message::cause(format!(
                "string descriptor {index} is not valid UTF-16"
            )))),
            Some(StringFault::Lossy) => Ok(format!("{v}\u{FFFD}\u{0}")),
        }
    }
}

/// An interrupt pipe the test feeds: reports it [`send`](FedPipe::send)s, and
/// a one-shot "device gone" ([`unplug`](FedPipe::unplug)).
#[derive(Debug, Default)]
pub struct FedPipe {
    reports: Mutex<VecDeque<Vec<u8>>>,
    ready: Condvar,
    gone: AtomicBool,
}

impl FedPipe {
    /// Hands `report` to whoever reads the pipe.
    pub fn send(&self, report: Vec<u8>) {
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).push_back(report);
        self.ready.notify_all();
    }

    /// The next read (or the one under way) says the device is gone.
    pub fn unplug(&self) {
        self.gone.store(true, Ordering::SeqCst);
        self.ready.notify_all();
    }

    /// Waits until `deadline` for a report.
    fn read(&self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        let mut q = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.gone.swap(false, Ordering::SeqCst) {
                return Err(LinkError::Disconnected(Message::cause("unplugged")));
            }
            if let Some(r) = q.pop_front() {
                let n = r.len().min(buf.len());
                buf[..n].copy_from_slice(&r[..n]);
                return Ok(n);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::Timeout);
            }
            q = self.ready.wait_timeout(q, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// A link whose interrupt pipe is a [`FedPipe`], shared with a listener thread
/// ([`HidLink::interrupt_pipe`]); everything else goes to `inner`. Counts the
/// pipes handed out and the reads of the pipe through the link itself.
#[derive(Debug)]
pub struct Piped<L> {
    /// The link for everything but the interrupt pipe.
    pub inner: L,
    /// The pipe.
    pub pipe: Arc<FedPipe>,
    /// Reads through [`HidLink::read_interrupt`].
    pub own_reads: Arc<AtomicU32>,
    /// Pipes handed out by [`HidLink::interrupt_pipe`].
    pub pipes: Arc<AtomicU32>,
}

impl<L> Piped<L> {
    /// `inner` with a new pipe.
    pub fn new(inner: L) -> Self {
        Piped { inner, pipe: Arc::default(), own_reads: Arc::default(), pipes: Arc::default() }
    }
}

impl<L: HidLink> HidLink for Piped<L> {
    fn ids(&self) -> &UsbIds {
        self.inner.ids()
    }
    fn report_descriptor(&mut self) -> Result<Vec<u8>, LinkError> {
        self.inner.report_descriptor()
    }
    fn get_report(&mut self, kind: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, LinkError> {
        self.inner.get_report(kind, id, buf)
    }
    fn set_report(&mut self, kind: ReportType, id: u8, data: &[u8]) -> Result<usize, LinkError> {
        self.inner.set_report(kind, id, data)
    }
    fn read_interrupt(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        self.own_reads.fetch_add(1, Ordering::SeqCst);
        self.pipe.read(buf, deadline)
    }
    fn string(&mut self, index: u8) -> Result<String, LinkError> {
        self.inner.string(index)
    }
    fn interrupt_pipe(&mut self) -> Option<Box<dyn InterruptPipe>> {
        self.pipes.fetch_add(1, Ordering::SeqCst);
        Some(Box::new(PipeEnd(self.pipe.clone())))
    }
}

/// The listener's end of a [`FedPipe`].
struct PipeEnd(Arc<FedPipe>);

impl InterruptPipe for PipeEnd {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError> {
        self.0.read(buf, Instant::now() + timeout)
    }
}
