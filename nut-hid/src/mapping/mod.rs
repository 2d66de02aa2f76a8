//! The usbhid-ups mapping engine: what NUT 2.8.0's `usbhid-ups.c` does between the
//! report descriptor, the [subdriver tables](crate::subdrivers) and the published
//! variables, without I/O.
//!
//! A [`Mapper`] is made from the report descriptor and the device's identity (it picks
//! the subdriver and applies the descriptor fix-ups). It reads and writes the device only
//! through [`HidIo`] and publishes through [`Publish`]:
//!
//! * [`Mapper::init`]: the identity (`ups.mfr`, `ups.model`, `ups.serial`, ...) and the
//!   init walk: paths resolved, the first row of a variable that publishes wins, status
//!   and `ups.alarm` rows all kept, server-side rows set from their default, instant
//!   commands registered when their report reads, flags, string lengths and enums.
//! * [`Mapper::update`]: a quick walk (status rows only) or a full walk (everything but
//!   static, server-side and command rows; semi-static rows only after a change), then
//!   `ups.status`, `input.transfer.reason` and, on full walks, `ups.alarm`.
//! * [`Mapper::handle_interrupt`]: an input report from the interrupt pipe, applied at
//!   once through the rows of the Feature fields with the same paths.
//! * [`Mapper::instcmd`], [`Mapper::setvar`], [`Mapper::shutdown`]: NUT's commands with
//!   its fallbacks (`load.on`/`load.off`, `shutdown.return`/`shutdown.stayoff`, the
//!   beeper renames), writable variables, and the `-k` sequence.
//!
//! Reports are cached per walk (NUT's report buffer): a report read once serves every
//! field in it until the next walk or a SET.
//!
//! ```
//! use nut_hid::mapping::{DeviceInfo, HidIo, IoError, Mapper, Options};
//! use nut_hid::ReportType;
//! use nut_proto::publish::{Publish, Recorder};
//!
//! // An APC-style descriptor: UPS.PowerSummary.RemainingCapacity in Feature report 1,
//! // UPS.PowerSummary.PresentStatus.ACPresent in Feature report 2.
//! let desc = [
//!     0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x09, 0x24, 0xa1, 0x00, 0x85, 0x01, 0x05, 0x85,
//!     0x09, 0x66, 0x15, 0x00, 0x25, 0x64, 0x75, 0x08, 0x95, 0x01, 0xb1, 0x02, 0x05, 0x84,
//!     0x09, 0x02, 0xa1, 0x02, 0x85, 0x02, 0x05, 0x85, 0x09, 0xd0, 0x25, 0x01, 0xb1, 0x02,
//!     0xc0, 0xc0, 0xc0,
//! ];
//! struct Dev;
//! impl HidIo for Dev {
//!     fn get_report(&mut self, _: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, IoError> {
//!         let data: &[u8] = if id == 1 { &[1, 87] } else { &[2, 1] };
//!         buf[..2].copy_from_slice(data);
//!         Ok(2)
//!     }
//!     fn set_report(&mut self, _: ReportType, _: u8, d: &[u8]) -> Result<usize, IoError> {
//!         Ok(d.len())
//!     }
//!     fn string(&mut self, _: u8) -> Result<String, IoError> {
//!         Err(IoError::Failed)
//!     }
//! }
//! let info = DeviceInfo { vendor_id: 0x051d, product_id: 0x0002, product: Some("Back-UPS"), ..Default::default() };
//! let mut m = Mapper::new(&desc, &info, &Options::default()).unwrap();
//! let mut out = Recorder::new();
//! m.init(&mut Dev, &info, &mut out).unwrap();
//! m.update(&mut Dev, &mut out, false).unwrap();
//! assert_eq!(out.getinfo("battery.charge"), Some("87"));
//! assert_eq!(out.getinfo("ups.status"), Some("OL"));
//! ```

use alloc::borrow::Cow;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use nut_proto::publish::Publish;
use nut_proto::sock::VarFlags;

use crate::subdrivers::flags::*;
use crate::subdrivers::status::StatusBits;
use crate::subdrivers::{
    self, Claim, Conv, Env, IdHook, InfoRow, LookupTable, ModelRule, Quirk, SelectOptions,
    SerialRule, State, Subdriver,
};
use crate::{DescriptorError, ReportDescriptor, ReportType, UsageTables};

/// What the driver publishes before the init walk; table rows for these are dropped.
const IDENTITY_VARS: [&str; 7] = [
    "ups.vendorid",
    "ups.productid",
    "ups.mfr",
    "ups.model",
    "ups.serial",
    "ups.firmware",
    "ups.firmware.aux",
];

/// Most input fields of one interrupt report that are applied (NUT's event buffer).
pub const MAX_EVENTS: usize = 32;

/// Why a device transfer failed, as far as the engine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The device is gone: the walk stops and the driver must reconnect.
    #[error("device disconnected")]
    Disconnected,
    /// This transfer failed (STALL, timeout, short answer): the item is skipped.
    #[error("transfer failed")]
    Failed,
}

/// The device transfers the engine needs; report buffers start with the report ID byte
/// when the descriptor uses report IDs.
pub trait HidIo {
    /// GET_REPORT of `id` into `buf`; returns the bytes received.
    fn get_report(
        &mut self,
        report_type: ReportType,
        id: u8,
        buf: &mut [u8],
    ) -> Result<usize, IoError>;
    /// SET_REPORT of `id` with `data`; returns the bytes taken.
    fn set_report(
        &mut self,
        report_type: ReportType,
        id: u8,
        data: &[u8],
    ) -> Result<usize, IoError>;
    /// A USB string descriptor.
    fn string(&mut self, index: u8) -> Result<String, IoError>;
    /// Waits `ms` milliseconds (NUT's pause between the two halves of
    /// `shutdown.return`); the default does not wait.
    fn sleep_ms(&mut self, ms: u32) {
        let _ = ms;
    }
}

/// What identifies the device to the subdriver selection and the identity rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceInfo<'a> {
    /// USB vendor ID.
    pub vendor_id: u16,
    /// USB product ID.
    pub product_id: u16,
    /// The Vendor string.
    pub vendor: Option<&'a str>,
    /// The Product string.
    pub product: Option<&'a str>,
    /// The Serial string.
    pub serial: Option<&'a str>,
}

/// The driver options the engine uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `productid` was given: NUT 2.8.0 then claims unknown products of known vendors.
    pub productid_set: bool,
    /// `explore`: the explore subdriver.
    pub explore: bool,
    /// `subdriver`: use the subdriver of this name (regardless of the USB IDs).
    pub subdriver: Option<String>,
    /// `interruptonly`: fields are looked up among Input items, never polled.
    pub interrupt_only: bool,
    /// `onlinedischarge`: online and discharging reads as on battery.
    pub onlinedischarge: bool,
    /// `ondelay`, written to `ups.delay.start` when that variable exists.
    pub ondelay: Option<String>,
    /// `offdelay`, written to `ups.delay.shutdown` when that variable exists.
    pub offdelay: Option<String>,
    /// Do not accept the USB IDs later NUT releases added (NUT 2.8.0's table only).
    pub strict_2_8_0_ids: bool,
    /// `lowbatt`, written to `battery.charge.low` when that variable exists.
    pub lowbatt: Option<String>,
    /// `maxreport`: every GET_REPORT asks for [`MAX_REPORT_REQUEST`] bytes instead of
    /// the report's length (also turned on by the APC tweak for some Back-UPS models).
    pub max_report: bool,
}

/// The length NUT 2.8.0's `maxreport` tweak asks for: it requests the size of its
/// report buffer pointer, 8 bytes on 64-bit systems (4 on 32-bit ones).
pub const MAX_REPORT_REQUEST: usize = 8;

/// Why a [`Mapper`] cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The report descriptor does not parse.
    #[error("report descriptor: {0}")]
    Descriptor(#[from] DescriptorError),
    /// No subdriver claims the device.
    #[error("no subdriver claims device {vendor_id:04x}:{product_id:04x}")]
    NoSubdriver {
        /// USB vendor ID.
        vendor_id: u16,
        /// USB product ID.
        product_id: u16,
    },
    /// The `subdriver` option names no subdriver.
    #[error("unknown subdriver {0:?}")]
    UnknownSubdriver(String),
}

/// The outcome of a command or a SET, as NUT reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Done.
    Handled,
    /// No such command or variable (or, for SET, NUT's answer to a failure).
    Unknown,
    /// The command exists but cannot take this (not a command row).
    Invalid,
    /// The device refused or the value could not be converted.
    Failed,
}

/// What a walk did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Items whose value was read.
    pub read: usize,
    /// Items whose read failed.
    pub failed: usize,
}

/// One row the init walk kept, with its field.
#[derive(Debug, Clone, Copy)]
struct Kept {
    row: InfoRow,
    field: usize,
}

/// The mapping engine of one device; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Mapper {
    sd: &'static Subdriver,
    desc: ReportDescriptor,
    tables: UsageTables,
    kept: Vec<Kept>,
    state: State,
    status: StatusBits,
    cache: BTreeMap<u8, Vec<u8>>,
    fresh: BTreeSet<u8>,
    /// Reports whose read failed in this walk: not asked again until the next one.
    failed: BTreeSet<u8>,
    strings: BTreeMap<u8, Option<String>>,
    data_has_changed: bool,
    in_full_walk: bool,
    opts: Options,
    vendor_id: u16,
    product_id: u16,
    hook: Option<IdHook>,
    fixed_descriptor: bool,
    /// NUT's `max_report_size`: the `maxreport` option or the APC tweak.
    max_report: bool,
    /// A report buffer to read into (the one the last read replaced).
    spare: Vec<u8>,
}

/// The [`Env`] the conversions see: published variables, cached strings and reports,
/// the status bits.
struct View<'a> {
    out: &'a dyn Publish,
    strings: &'a BTreeMap<u8, Option<String>>,
    cache: &'a BTreeMap<u8, Vec<u8>>,
    status: StatusBits,
}

impl Env for View<'_> {
    fn var(&self, name: &str) -> Option<&str> {
        self.out.getinfo(name)
    }
    fn usb_string(&self, index: u8) -> Option<&str> {
        self.strings.get(&index).and_then(|s| s.as_deref())
    }
    fn report(&self, report_id: u8) -> Option<&[u8]> {
        self.cache.get(&report_id).map(Vec::as_slice)
    }
    fn status_off(&self) -> bool {
        self.status.has(subdrivers::status::StatusWord::Off)
    }
}

/// C's `atol`: leading spaces, a sign and digits; anything else stops it (0 if none).
pub fn atol(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -v } else { v }
}

fn flags_of(row: &InfoRow) -> VarFlags {
    VarFlags {
        rw: row.nut_flags & ST_FLAG_RW != 0,
        string: row.nut_flags & ST_FLAG_STRING != 0,
        number: row.nut_flags & ST_FLAG_NUMBER != 0,
    }
}

fn uses_strings(conv: Conv) -> bool {
    matches!(conv, Conv::StringidConversion | Conv::TrippliteChemistry)
}

impl Mapper {
    /// Parses the descriptor, picks the subdriver (the `subdriver` option, else NUT's
    /// probe order under the options) and applies the descriptor fix-ups.
    pub fn new(
        descriptor: &[u8],
        dev: &DeviceInfo<'_>,
        opts: &Options,
    ) -> Result<Mapper, MappingError> {
        let mut desc = ReportDescriptor::parse(descriptor)?;
        let (sd, hook) = match &opts.subdriver {
            Some(name) => {
                let sd = subdrivers::find(name)
                    .ok_or_else(|| MappingError::UnknownSubdriver(name.clone()))?;
                let hook = sd
                    .usb_ids
                    .iter()
                    .find(|i| i.vendor_id == dev.vendor_id && i.product_id == dev.product_id)
                    .and_then(|i| i.hook);
                (sd, hook)
            }
            None => {
                let d = subdrivers::Device {
                    vendor_id: dev.vendor_id,
                    product_id: dev.product_id,
                    vendor: dev.vendor,
                    product: dev.product,
                };
                let sel = SelectOptions {
                    productid_set: opts.productid_set,
                    explore: opts.explore,
                    // With `productid` NUT 2.8.0's own path is taken, so the result is
                    // what 2.8.0 publishes.
                    later_ids: !opts.strict_2_8_0_ids && !opts.productid_set,
                };
                let (sd, claim) =
                    subdrivers::select_with(&d, &sel).ok_or(MappingError::NoSubdriver {
                        vendor_id: dev.vendor_id,
                        product_id: dev.product_id,
                    })?;
                let hook = match claim {
                    Claim::Supported(h) => h,
                    _ => None,
                };
                (sd, hook)
            }
        };
        let fixed_descriptor = crate::fixup::apply(&mut desc, dev.vendor_id, dev.product_id);
        let mut state = State::default();
        if let Some(h) = hook {
            state.apply(h, dev.product_id);
        }
        let tables = UsageTables::standard().with(sd.usages);
        Ok(Mapper {
            sd,
            desc,
            tables,
            kept: Vec::new(),
            state,
            status: StatusBits::new(),
            cache: BTreeMap::new(),
            fresh: BTreeSet::new(),
            failed: BTreeSet::new(),
            strings: BTreeMap::new(),
            data_has_changed: false,
            in_full_walk: false,
            max_report: opts.max_report
                || (hook == Some(IdHook::ApcMaxReportTweak)
                    && dev.product.is_some_and(subdrivers::apc::wants_max_report)),
            opts: opts.clone(),
            spare: Vec::new(),
            vendor_id: dev.vendor_id,
            product_id: dev.product_id,
            hook,
            fixed_descriptor,
        })
    }

    /// The subdriver serving the device.
    pub fn subdriver(&self) -> &'static Subdriver {
        self.sd
    }

    /// The parsed (and fixed-up) descriptor.
    pub fn descriptor(&self) -> &ReportDescriptor {
        &self.desc
    }

    /// Whether a vendor fix-up changed the descriptor.
    pub fn descriptor_fixed(&self) -> bool {
        self.fixed_descriptor
    }

    /// The ID-table hook of the device, if it has one.
    pub fn hook(&self) -> Option<IdHook> {
        self.hook
    }

    /// Whether NUT would turn the interrupt pipe off for this device.
    pub fn interrupt_pipe_disabled(&self) -> bool {
        self.hook == Some(IdHook::DisableInterruptPipe)
    }

    /// Whether a SET or a command happened since the last full walk (the next update
    /// must then be full).
    pub fn data_has_changed(&self) -> bool {
        self.data_has_changed
    }

    /// The status bits accumulated so far.
    pub fn status_bits(&self) -> StatusBits {
        self.status
    }

    /// Number of rows the init walk kept.
    pub fn kept_rows(&self) -> usize {
        self.kept.len()
    }

    /// Whether GET_REPORT asks for [`MAX_REPORT_REQUEST`] bytes (NUT's `maxreport`
    /// tweak, by option or for the APC models that need it).
    pub fn max_report(&self) -> bool {
        self.max_report
    }

    /// The largest report the device may send, ID byte included (for interrupt reads).
    pub fn max_report_len(&self) -> usize {
        self.desc.nut_report_lens().map(|(_, l)| l).max().unwrap_or(1)
    }

    /// Starts a new walk: every report is read again (once).
    fn new_walk(&mut self) {
        self.fresh.clear();
        self.failed.clear();
    }

    fn lookup_type(&self) -> ReportType {
        if self.opts.interrupt_only { ReportType::Input } else { ReportType::Feature }
    }

    fn resolve(&self, path: &str) -> Option<usize> {
        let p = self.tables.parse_path_lenient(path).ok()?;
        let t = self.lookup_type();
        self.desc.fields().iter().position(|f| f.report_type == t && f.path.starts_with(&p))
    }

    fn report_buf_len(&self, id: u8) -> usize {
        let len = self.desc.nut_report_len(id).unwrap_or(1);
        if self.desc.uses_report_ids() { len } else { len.saturating_sub(1) }
    }

    fn skipped(&self, field: usize) -> bool {
        self.sd.quirks.contains(&Quirk::TrippliteSkipReport54)
            && self.vendor_id == 0x09ae
            && self.product_id == 0x1330
            && self.desc.fields().get(field).is_some_and(|f| f.report_id == 0x54)
    }

    /// Makes sure report `id` is in the cache for this walk.
    fn fetch(&mut self, io: &mut dyn HidIo, id: u8) -> Result<(), IoError> {
        if self.fresh.contains(&id) {
            return Ok(());
        }
        if self.opts.interrupt_only {
            // NUT never polls in this mode: values come from interrupt reports.
            return if self.cache.contains_key(&id) { Ok(()) } else { Err(IoError::Failed) };
        }
        if self.failed.contains(&id) {
            return Err(IoError::Failed);
        }
        let len = self.report_buf_len(id).max(1);
        if self.max_report {
            return self.fetch_max_report(io, id, len);
        }
        // Read into the spare buffer; on success it becomes the cached report and the
        // report it replaces becomes the spare (no allocation per read).
        let mut buf = core::mem::take(&mut self.spare);
        buf.clear();
        buf.resize(len, 0);
        let r = io.get_report(ReportType::Feature, id, &mut buf);
        let n = match r {
            Ok(n) if n > 0 => n,
            Ok(_) | Err(IoError::Failed) => {
                self.spare = buf;
                self.failed.insert(id);
                return Err(IoError::Failed);
            }
            Err(e) => {
                self.spare = buf;
                return Err(e);
            }
        };
        buf.truncate(n.min(len));
        if let Some(old) = self.cache.insert(id, buf) {
            self.spare = old;
        }
        self.fresh.insert(id);
        Ok(())
    }

    /// NUT's `maxreport` fetch: asks for [`MAX_REPORT_REQUEST`] bytes and lays the
    /// answer over the report buffer of the descriptor's length (bytes it did not send
    /// keep their last value, zero at first, as in NUT's buffer).
    fn fetch_max_report(&mut self, io: &mut dyn HidIo, id: u8, len: usize) -> Result<(), IoError> {
        let mut answer = [0u8; MAX_REPORT_REQUEST];
        let n = match io.get_report(ReportType::Feature, id, &mut answer) {
            Ok(n) if n > 0 => n.min(answer.len()),
            Ok(_) | Err(IoError::Failed) => {
                self.failed.insert(id);
                return Err(IoError::Failed);
            }
            Err(e) => return Err(e),
        };
        let mut buf = self.cache.remove(&id).unwrap_or_default();
        buf.resize(len.max(n), 0);
        buf[..n].copy_from_slice(&answer[..n]);
        self.cache.insert(id, buf);
        self.fresh.insert(id);
        Ok(())
    }

    /// Reads a field's value through the cache.
    fn read_field(&mut self, io: &mut dyn HidIo, field: usize) -> Result<f64, IoError> {
        let id = self.desc.fields().get(field).ok_or(IoError::Failed)?.report_id;
        self.fetch(io, id)?;
        let f = self.desc.fields().get(field).ok_or(IoError::Failed)?;
        let bytes = self.cache.get(&id).ok_or(IoError::Failed)?;
        f.value(bytes).map_err(|_| IoError::Failed)
    }

    /// Writes a value into a field (NUT's `HIDSetDataValue`): the field is set in the
    /// cached report, the whole report is sent, and the cache is invalidated.
    fn write_field(&mut self, io: &mut dyn HidIo, field: usize, value: f64) -> Result<(), IoError> {
        let f = self.desc.fields().get(field).ok_or(IoError::Failed)?.clone();
        let id = f.report_id;
        let len = self.report_buf_len(id).max(f.needed_len());
        if !self.cache.contains_key(&id) {
            let _ = self.fetch(io, id);
        }
        let mut buf = self.cache.get(&id).cloned().unwrap_or_default();
        buf.resize(len, 0);
        if self.desc.uses_report_ids() {
            if let Some(b) = buf.first_mut() {
                *b = id;
            }
        }
        let logical = f.from_value(value);
        f.insert(&mut buf, logical).map_err(|_| IoError::Failed)?;
        let r = io.set_report(ReportType::Feature, id, &buf);
        self.cache.insert(id, buf);
        self.new_walk();
        match r {
            Ok(n) if n > 0 => Ok(()),
            Ok(_) => Err(IoError::Failed),
            Err(e) => Err(e),
        }
    }

    /// Fetches the strings a string conversion of this value needs.
    fn prefetch_string(&mut self, io: &mut dyn HidIo, lookup: &LookupTable, value: f64) {
        let Some(conv) = lookup.conv else { return };
        if !uses_strings(conv) {
            return;
        }
        let Ok(idx) = u8::try_from(value as i64) else { return };
        if idx == 0 || self.strings.contains_key(&idx) {
            return;
        }
        let s = io.string(idx).ok();
        self.strings.insert(idx, s);
    }

    fn string_at(&mut self, io: &mut dyn HidIo, path: &str) -> Option<String> {
        let field = self.resolve(path)?;
        let v = self.read_field(io, field).ok()?;
        let idx = u8::try_from(v as i64).ok().filter(|&i| i != 0)?;
        self.strings.entry(idx).or_insert_with(|| io.string(idx).ok()).clone()
    }

    /// NUT's `ups_infoval_set`: true when a variable was published (status and alarm
    /// rows never count).
    fn apply(
        &mut self,
        io: &mut dyn HidIo,
        out: &mut dyn Publish,
        row: &InfoRow,
        value: f64,
    ) -> bool {
        let Some(lookup) = row.lookup else {
            let Some(text) = row.dfl.and_then(|fmt| subdrivers::format_value(fmt, value)) else {
                return false;
            };
            out.setinfo(row.var, &text);
            return true;
        };
        self.prefetch_string(io, lookup, value);
        let text: Option<Cow<'static, str>> = {
            let view = View {
                out: &*out,
                strings: &self.strings,
                cache: &self.cache,
                status: self.status,
            };
            subdrivers::lookup_to_nut_with(lookup, value, &mut self.state, &view)
        };
        let Some(text) = text else {
            // NUT's ABM status conversion deletes the charger status while ABM is off.
            if lookup.conv == Some(Conv::EatonAbmStatusInfo) && self.state.abm == Some(0) {
                out.delinfo("battery.charger.status");
            }
            return false;
        };
        if row.is_status() {
            self.status.apply(&text);
            return false;
        }
        if row.is_alarm() {
            if self.in_full_walk {
                out.alarm_set(&text);
            }
            return false;
        }
        out.setinfo(row.var, &text);
        true
    }

    fn publish_meta(&mut self, out: &mut dyn Publish, row: &InfoRow) {
        out.setflags(row.var, flags_of(row));
        if row.nut_flags & ST_FLAG_STRING != 0 {
            out.setaux(row.var, i64::from(row.len));
        }
        if row.hu_flags & HU_FLAG_ENUM == 0 || row.nut_flags & ST_FLAG_RW == 0 {
            return;
        }
        let Some(lookup) = row.lookup else { return };
        // NUT offers the texts its conversion gives a value for, with the device's
        // conversion state (the MGE nominal voltages depend on the first one seen).
        let offered: Vec<&'static str> = lookup
            .rows
            .iter()
            .filter(|r| {
                let view = View {
                    out: &*out,
                    strings: &self.strings,
                    cache: &self.cache,
                    status: self.status,
                };
                subdrivers::lookup_to_nut_with(lookup, r.hid as f64, &mut self.state, &view)
                    .is_some()
            })
            .map(|r| r.nut)
            .collect();
        for text in offered {
            out.addenum(row.var, text);
        }
    }

    /// Publishes the identity and runs NUT's init walk. Errors only when the device is
    /// gone ([`IoError::Disconnected`]); items that cannot be read are skipped.
    pub fn init(
        &mut self,
        io: &mut dyn HidIo,
        dev: &DeviceInfo<'_>,
        out: &mut dyn Publish,
    ) -> Result<(), IoError> {
        self.kept.clear();
        self.new_walk();
        self.cache.clear();
        self.strings.clear();
        let vid = alloc::format!("{:04x}", self.vendor_id);
        let pid = alloc::format!("{:04x}", self.product_id);
        out.setinfo("ups.vendorid", &vid);
        out.setinfo("ups.productid", &pid);
        self.publish_identity(io, dev, out);
        let mut seen: BTreeSet<&'static str> =
            IDENTITY_VARS.iter().copied().filter(|v| out.getinfo(v).is_some()).collect();
        let sd = self.sd;
        for row in sd.info {
            let Some(field) = self.resolve(row.path) else { continue };
            if row.is_absent() {
                if seen.contains(row.var) {
                    continue;
                }
                self.kept.push(Kept { row, field });
                out.setinfo(row.var, row.dfl.unwrap_or(""));
                out.setflags(row.var, flags_of(&row));
                if row.nut_flags & ST_FLAG_STRING != 0 {
                    out.setaux(row.var, i64::from(row.len));
                }
                seen.insert(row.var);
                continue;
            }
            if !row.is_alarm() && !row.is_status() && seen.contains(row.var) {
                continue;
            }
            self.kept.push(Kept { row, field });
            if self.skipped(field) {
                continue;
            }
            let value = match self.read_field(io, field) {
                Ok(v) => v,
                Err(IoError::Disconnected) => return Err(IoError::Disconnected),
                Err(_) => continue,
            };
            if row.is_command() {
                out.addcmd(row.var);
                continue;
            }
            if self.apply(io, out, &row, value) {
                self.publish_meta(out, &row);
                seen.insert(row.var);
            }
        }
        // The user's settings, read as numbers (`strtol`) as NUT does.
        for (var, setting) in [
            ("battery.charge.low", &self.opts.lowbatt),
            ("ups.delay.start", &self.opts.ondelay),
            ("ups.delay.shutdown", &self.opts.offdelay),
        ] {
            if let (Some(v), Some(_)) = (setting, out.getinfo(var)) {
                out.setinfo(var, &atol(v).to_string());
            }
        }
        let off = self.find_row("load.off.delay").is_some();
        let on = self.find_row("load.on.delay").is_some();
        if off {
            out.addcmd("load.off");
        }
        if on {
            out.addcmd("load.on");
        }
        if off && on {
            out.addcmd("shutdown.return");
            out.addcmd("shutdown.stayoff");
        }
        Ok(())
    }

    /// Publishes `ups.mfr`, `ups.model` and `ups.serial` (and APC's firmware strings)
    /// with the subdriver's rules, from the USB strings and, for some subdrivers, HID
    /// string reads ([`init`](Self::init) calls it first, as NUT does on opening).
    pub fn publish_identity(
        &mut self,
        io: &mut dyn HidIo,
        dev: &DeviceInfo<'_>,
        out: &mut dyn Publish,
    ) {
        let id = self.sd.identity;
        match id.mfr.apply(dev.vendor) {
            Some(m) => {
                out.setinfo("ups.mfr", m);
            }
            None => {
                out.delinfo("ups.mfr");
            }
        }
        let product = dev.product;
        let model: Option<String> = match id.model {
            ModelRule::Product => product.map(ToString::to_string),
            ModelRule::ProductOrUnknown => {
                Some(product.filter(|p| !p.is_empty()).unwrap_or("unknown").to_string())
            }
            ModelRule::ApcFirmwareSplit => product.map(|p| {
                let (m, fw, aux) = subdrivers::apc::split_model(p);
                if let Some(fw) = fw {
                    out.setinfo("ups.firmware", fw);
                }
                if let Some(aux) = aux {
                    out.setinfo("ups.firmware.aux", aux);
                }
                m.to_string()
            }),
            ModelRule::HidStringOrProduct(path) => {
                self.string_at(io, path).or_else(|| product.map(ToString::to_string))
            }
            ModelRule::MgeModelName => {
                let p = product.unwrap_or("");
                if self.vendor_id == 0x047c {
                    product.map(ToString::to_string)
                } else {
                    let m = match self.string_at(io, "UPS.PowerSummary.iModel") {
                        Some(s) => s,
                        None => self
                            .resolve("UPS.Flow.[4].ConfigApparentPower")
                            .and_then(|f| self.read_field(io, f).ok())
                            .map(|v| alloc::format!("{}", v as i64))
                            .unwrap_or_default(),
                    };
                    let (name, ty) = subdrivers::mge::model_name(p, &m);
                    self.state.mge_type = ty;
                    Some(name)
                }
            }
        };
        match model {
            Some(m) => {
                out.setinfo("ups.model", &m);
            }
            None => {
                out.delinfo("ups.model");
            }
        }
        let serial: Option<String> = match id.serial {
            SerialRule::Serial => dev.serial.map(ToString::to_string),
            SerialRule::SerialOrHidString(path) => match dev.serial {
                Some(s) => Some(s.to_string()),
                None => self.string_at(io, path),
            },
        };
        match serial {
            Some(s) => {
                out.setinfo("ups.serial", &s);
            }
            None => {
                out.delinfo("ups.serial");
            }
        }
        self.new_walk();
    }

    fn find_row(&self, name: &str) -> Option<Kept> {
        self.kept.iter().find(|k| k.row.var == name).copied()
    }

    /// One update: a full walk (`full`, or after a SET or command) or a quick walk,
    /// then `ups.status`, `input.transfer.reason` and, on full walks, `ups.alarm`.
    ///
    /// Errors with [`IoError::Disconnected`] when the device is gone, and with
    /// [`IoError::Failed`] when not a single item could be read (the data is then
    /// stale, and nothing is published).
    pub fn update(
        &mut self,
        io: &mut dyn HidIo,
        out: &mut dyn Publish,
        full: bool,
    ) -> Result<WalkStats, IoError> {
        let full = full || self.data_has_changed;
        self.new_walk();
        if full {
            out.alarm_init();
            self.in_full_walk = true;
        }
        let r = self.walk(io, out, full);
        self.in_full_walk = false;
        let stats = r?;
        if stats.read == 0 && stats.failed > 0 {
            return Err(IoError::Failed);
        }
        if full {
            self.data_has_changed = false;
            for a in self.status.alarms() {
                out.alarm_set(a);
            }
            out.alarm_commit();
        }
        self.publish_status(out);
        Ok(stats)
    }

    /// Publishes `input.transfer.reason` and `ups.status` from the status bits.
    pub fn publish_status(&self, out: &mut dyn Publish) {
        match self.status.transfer_reason() {
            Some(r) => {
                out.setinfo("input.transfer.reason", r);
            }
            None => {
                out.delinfo("input.transfer.reason");
            }
        }
        out.status_init();
        for t in self.status.tokens(self.opts.onlinedischarge) {
            out.status_set(t);
        }
        out.status_commit();
    }

    fn walk(
        &mut self,
        io: &mut dyn HidIo,
        out: &mut dyn Publish,
        full: bool,
    ) -> Result<WalkStats, IoError> {
        let mut stats = WalkStats::default();
        let changed = self.data_has_changed;
        for i in 0..self.kept.len() {
            let Some(k) = self.kept.get(i).copied() else { break };
            let f = k.row.hu_flags;
            if full {
                if f & (HU_FLAG_ABSENT | HU_TYPE_CMD | HU_FLAG_STATIC) != 0 {
                    continue;
                }
                if f & HU_FLAG_SEMI_STATIC != 0 && !changed {
                    continue;
                }
            } else if f & HU_FLAG_QUICK_POLL == 0 {
                continue;
            }
            if self.skipped(k.field) {
                continue;
            }
            match self.read_field(io, k.field) {
                Ok(v) => {
                    stats.read += 1;
                    self.apply(io, out, &k.row, v);
                }
                Err(IoError::Disconnected) => return Err(IoError::Disconnected),
                Err(_) => stats.failed += 1,
            }
        }
        Ok(stats)
    }

    /// Applies an input report from the interrupt pipe (ID byte first when the
    /// descriptor uses report IDs): its Input fields (at most [`MAX_EVENTS`]) go through
    /// the rows of the fields with the same paths. Returns the number of values applied.
    pub fn handle_interrupt(
        &mut self,
        io: &mut dyn HidIo,
        out: &mut dyn Publish,
        report: &[u8],
    ) -> usize {
        if report.is_empty() {
            return 0;
        }
        let id = if self.desc.uses_report_ids() { report[0] } else { 0 };
        let expected = self.report_buf_len(id);
        let data = report.get(..report.len().min(expected.max(1))).unwrap_or(report);
        self.cache.insert(id, data.to_vec());
        self.fresh.insert(id);
        let t = self.lookup_type();
        let events: Vec<(usize, f64)> = self
            .desc
            .fields()
            .iter()
            .filter(|f| f.report_id == id && f.report_type == ReportType::Input)
            .take(MAX_EVENTS)
            .filter_map(|f| {
                let v = f.value(data).ok()?;
                let target = self
                    .desc
                    .fields()
                    .iter()
                    .position(|g| g.report_type == t && g.path.starts_with(&f.path))?;
                Some((target, v))
            })
            .collect();
        let mut applied = 0;
        for (target, v) in events {
            let Some(k) =
                self.kept.iter().find(|k| k.field == target && !k.row.is_command()).copied()
            else {
                continue;
            };
            self.apply(io, out, &k.row, v);
            applied += 1;
        }
        applied
    }

    /// Runs an instant command as NUT does, with its fallbacks. `param` replaces the
    /// row's default value.
    pub fn instcmd(
        &mut self,
        io: &mut dyn HidIo,
        out: &mut dyn Publish,
        cmd: &str,
        param: Option<&str>,
    ) -> Outcome {
        let Some(k) = self.find_row(cmd) else {
            return self.fallback(io, out, cmd);
        };
        if !k.row.is_command() {
            return Outcome::Invalid;
        }
        let val = param.or(k.row.dfl).unwrap_or("");
        let value = match k.row.lookup {
            Some(l) => match self.reverse(l, val, out) {
                Some(v) => v,
                None => return Outcome::Failed,
            },
            None => atol(val) as f64,
        };
        match self.write_field(io, k.field, value) {
            Ok(()) => {
                self.data_has_changed = true;
                Outcome::Handled
            }
            Err(_) => Outcome::Failed,
        }
    }

    fn reverse(&self, lookup: &LookupTable, text: &str, out: &dyn Publish) -> Option<f64> {
        let view = View { out, strings: &self.strings, cache: &self.cache, status: self.status };
        subdrivers::lookup_to_hid_with(lookup, text, &self.state, &view)
    }

    fn fallback(&mut self, io: &mut dyn HidIo, out: &mut dyn Publish, cmd: &str) -> Outcome {
        let c = cmd.to_ascii_lowercase();
        match c.as_str() {
            "load.on" => self.instcmd(io, out, "load.on.delay", Some("0")),
            "load.off" => self.instcmd(io, out, "load.off.delay", Some("0")),
            "shutdown.return" | "shutdown.stayoff" => {
                let stay = c == "shutdown.stayoff";
                if out.getinfo("ups.start.auto").is_some() {
                    let _ = self.setvar(io, out, "ups.start.auto", if stay { "no" } else { "yes" });
                }
                let on: Option<String> = if stay {
                    Some(String::from("-1"))
                } else {
                    out.getinfo("ups.delay.start").map(ToString::to_string)
                };
                let r = self.instcmd(io, out, "load.on.delay", on.as_deref());
                if r != Outcome::Handled {
                    return r;
                }
                io.sleep_ms(125);
                let off = out.getinfo("ups.delay.shutdown").map(ToString::to_string);
                self.instcmd(io, out, "load.off.delay", off.as_deref())
            }
            "beeper.on" => self.instcmd(io, out, "beeper.enable", None),
            "beeper.off" => self.instcmd(io, out, "beeper.disable", None),
            _ => Outcome::Invalid,
        }
    }

    /// Sets a writable variable as NUT does: server-side rows are only stored, the
    /// others go through the lookup (or `atol`) to the device.
    pub fn setvar(
        &mut self,
        io: &mut dyn HidIo,
        out: &mut dyn Publish,
        var: &str,
        value: &str,
    ) -> Outcome {
        let Some(k) = self.find_row(var) else { return Outcome::Unknown };
        if !k.row.is_writable() {
            return Outcome::Unknown;
        }
        if k.row.is_absent() {
            out.setinfo(var, value);
            return Outcome::Handled;
        }
        let v = match k.row.lookup {
            Some(l) => match self.reverse(l, value, out) {
                Some(v) => v,
                None => return Outcome::Failed,
            },
            None => atol(value) as f64,
        };
        match self.write_field(io, k.field, v) {
            Ok(()) => {
                self.data_has_changed = true;
                Outcome::Handled
            }
            Err(_) => Outcome::Unknown,
        }
    }

    /// The `-k` sequence: `shutdown.return`, else `shutdown.reboot`, else
    /// `load.off.delay`. Returns the command that worked, `None` when all failed.
    pub fn shutdown(&mut self, io: &mut dyn HidIo, out: &mut dyn Publish) -> Option<&'static str> {
        ["shutdown.return", "shutdown.reboot", "load.off.delay"]
            .into_iter()
            .find(|cmd| self.instcmd(io, out, cmd, None) == Outcome::Handled)
    }
}
