//! The usbhid-ups subdriver tables of NUT 2.8.0, as data.
//!
//! NUT's `usbhid-ups` driver picks one *subdriver* per device (by USB
//! vendor/product ID, in a fixed probe order) and then walks that
//! subdriver's table of rows. Each row ([`InfoRow`]) ties a NUT variable
//! (or a status word, or an instant command) to a HID path such as
//! `UPS.PowerSummary.RemainingCapacity`, with flags, a `printf` format or
//! default, and optionally a [`LookupTable`] that turns the HID value into
//! NUT text (and back, for writable variables and commands).
//!
//! This module holds only the data and the small pure functions around
//! it; it does not read devices and does not depend on the descriptor
//! parser. Paths are plain strings in NUT's printed form: names from the
//! subdriver's [`Usage`] table first, then the generic HID Power Device
//! names, `[n]` for an index node, 8 lowercase hex digits for an unknown
//! usage.
//!
//! The row tables are written as `const` arrays of [`InfoRow`]s and packed
//! at compile time into an [`InfoTable`] (and the vendor usages into a
//! [`NameTable`]): strings in one byte blob, rows as plain integers. They
//! hold no pointers, so they stay in read-only memory shared by every
//! driver process instead of being relocated into private pages at load.
//! Rows read back as [`InfoRow`] values ([`InfoTable::iter`],
//! [`Subdriver::rows_for`]).
//!
//! ```
//! use nut_hid::subdrivers::{self, lookup_to_nut};
//!
//! // An APC Back-UPS (051d:0002) is served by the APC subdriver.
//! let sd = subdrivers::select(0x051d, 0x0002, Some("American Power Conversion"), None).unwrap();
//! assert_eq!(sd.version, "APC HID 0.98");
//!
//! // Its beeper row turns the HID value 2 into "enabled".
//! let row = sd.rows_for("ups.beeper.status").next().unwrap();
//! assert_eq!(row.path, "UPS.PowerSummary.AudibleAlarmControl");
//! assert_eq!(lookup_to_nut(row.lookup.unwrap(), 2.0).as_deref(), Some("enabled"));
//! ```

use alloc::borrow::Cow;

use crate::usage::NameTable;

pub mod common;
mod convert;
pub mod status;

pub mod apc;
pub mod arduino;
pub mod belkin;
pub mod cps;
pub mod delta_ups;
pub mod ever;
pub mod explore;
pub mod idowell;
pub mod legrand;
pub mod liebert;
pub mod mge;
pub mod openups;
pub mod powercom;
pub mod powervar;
pub mod salicru;
pub mod tripplite;

pub use convert::{Conv, Env, NoEnv, State, format_value};

/// Flag values, with NUT's names and numbers.
///
/// `ST_FLAG_*` are the variable flags published to `upsd`; `HU_*` are the
/// driver's own row flags.
pub mod flags {
    /// The variable is writable (`ST_FLAG_RW`).
    pub const ST_FLAG_RW: u16 = 0x0001;
    /// The variable is a string; its maximum length is the row's `len`
    /// (`ST_FLAG_STRING`).
    pub const ST_FLAG_STRING: u16 = 0x0002;
    /// The variable is a number (`ST_FLAG_NUMBER`).
    pub const ST_FLAG_NUMBER: u16 = 0x0004;

    /// Read once, at init (`HU_FLAG_STATIC`).
    pub const HU_FLAG_STATIC: u16 = 2;
    /// Read again in a full update only after a SET or a command
    /// (`HU_FLAG_SEMI_STATIC`).
    pub const HU_FLAG_SEMI_STATIC: u16 = 4;
    /// Not read from the device: set from the row default at init when the
    /// path exists; a SET only stores the value (`HU_FLAG_ABSENT`).
    pub const HU_FLAG_ABSENT: u16 = 8;
    /// Also read in quick updates, between full ones (`HU_FLAG_QUICK_POLL`).
    pub const HU_FLAG_QUICK_POLL: u16 = 16;
    /// Defined by NUT, unused by the 2.8.0 update walk (`HU_FLAG_STALE`).
    pub const HU_FLAG_STALE: u16 = 32;
    /// The row is an instant command (`HU_TYPE_CMD`).
    pub const HU_TYPE_CMD: u16 = 64;
    /// For a writable row: publish the lookup's texts as ENUM values
    /// (`HU_FLAG_ENUM`).
    pub const HU_FLAG_ENUM: u16 = 128;
}

use flags::*;

/// The pseudo variable name of status rows: the looked-up text is a
/// status word (`online`, `!online`, `lowbatt`, ...), never a variable.
pub const STATUS_VAR: &str = "BOOL";

/// One vendor usage: a name for a 32-bit usage (page in the high 16 bits),
/// the same row type as the usage name tables.
pub use crate::usage::UsageName as Usage;

/// One row of a value table: HID value `hid` means NUT text `nut`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupRow {
    /// The HID value (compared with the value truncated toward zero).
    pub hid: i64,
    /// The NUT text.
    pub nut: &'static str,
}

impl LookupRow {
    /// A value/text pair.
    pub const fn new(hid: i64, nut: &'static str) -> Self {
        LookupRow { hid, nut }
    }
}

/// A NUT `info_lkp_t` table: value rows, or a conversion, or both.
///
/// NUT's rule: if the table has a conversion function, it alone decides
/// (the rows then only list the texts offered as ENUM values); otherwise
/// the first row whose value equals the truncated HID value gives the text.
/// The reverse (text to HID value) uses the conversion's reverse function
/// if any, else the first row with that exact text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookupTable {
    /// NUT's name of the table, e.g. `beeper_info`.
    pub name: &'static str,
    /// The value rows, without NUT's terminator.
    pub rows: &'static [LookupRow],
    /// The conversion functions, when NUT gives the table any.
    pub conv: Option<Conv>,
}

/// One `hid_info_t` row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfoRow {
    /// NUT variable, instant command name, or [`STATUS_VAR`].
    pub var: &'static str,
    /// `ST_FLAG_*` bits published with the variable.
    pub nut_flags: u16,
    /// Maximum length published for `ST_FLAG_STRING` variables.
    pub len: u16,
    /// The HID path.
    pub path: &'static str,
    /// NUT's `dfl`: a `printf` format for the value (`%.0f`, ...), or the
    /// initial value of an [`HU_FLAG_ABSENT`] row, or the value sent by an
    /// [`HU_TYPE_CMD`] row.
    pub dfl: Option<&'static str>,
    /// `HU_FLAG_*` / `HU_TYPE_CMD` bits.
    pub hu_flags: u16,
    /// The lookup table, if the value goes through one.
    pub lookup: Option<&'static LookupTable>,
}

impl InfoRow {
    /// A row, fields in NUT's order.
    pub const fn new(
        var: &'static str,
        nut_flags: u16,
        len: u16,
        path: &'static str,
        dfl: Option<&'static str>,
        hu_flags: u16,
        lookup: Option<&'static LookupTable>,
    ) -> Self {
        InfoRow { var, nut_flags, len, path, dfl, hu_flags, lookup }
    }

    /// A status row (`BOOL`): its text is a status word.
    pub fn is_status(&self) -> bool {
        self.var == STATUS_VAR
    }

    /// An instant command row.
    pub fn is_command(&self) -> bool {
        self.hu_flags & HU_TYPE_CMD != 0
    }

    /// An `ups.alarm` row: its text is added to the alarm, and several
    /// rows may feed it.
    pub fn is_alarm(&self) -> bool {
        self.var.starts_with("ups.alarm")
    }

    /// A server-side row, set from [`dfl`](Self::dfl) and never read.
    pub fn is_absent(&self) -> bool {
        self.hu_flags & HU_FLAG_ABSENT != 0
    }

    /// A writable variable.
    pub fn is_writable(&self) -> bool {
        self.nut_flags & ST_FLAG_RW != 0
    }

    /// The `printf` format applied to values of a row without a lookup
    /// (`None` for commands, absent rows and rows with a lookup).
    pub fn format(&self) -> Option<&'static str> {
        if self.is_command() || self.is_absent() || self.lookup.is_some() { None } else { self.dfl }
    }
}

/// A subdriver's `hid_info_t` rows, stored without pointers.
///
/// The rows are written as a `const` array of [`InfoRow`]s and packed at
/// compile time: their strings into one byte blob, each row into plain
/// integers (offsets into the blob, flags, an index into the list of lookup
/// tables the rows use). Nothing in it needs a load-time relocation, so it
/// stays in read-only, shared memory. [`get`](Self::get) and
/// [`iter`](Self::iter) give the rows back as [`InfoRow`]s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfoTable {
    pub(crate) blob: &'static str,
    rows: &'static [crate::pack::InfoPacked],
    lookups: &'static [&'static LookupTable],
}

impl InfoTable {
    /// A table from its packed parts (see `info_table!`).
    pub(crate) const fn from_packed(
        blob: &'static [u8],
        rows: &'static [crate::pack::InfoPacked],
        lookups: &'static [&'static LookupTable],
    ) -> Self {
        InfoTable { blob: crate::pack::blob_str(blob), rows, lookups }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True for a table without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<InfoRow> {
        self.rows.get(i).map(|r| self.unpack(r))
    }

    /// The rows, in NUT's order.
    pub fn iter(&self) -> InfoRows {
        InfoRows { table: *self, next: 0 }
    }

    /// The lookup tables the rows use, each once, in order of first use.
    pub fn lookups(&self) -> &'static [&'static LookupTable] {
        self.lookups
    }

    fn unpack(&self, r: &crate::pack::InfoPacked) -> InfoRow {
        InfoRow {
            var: r.var.str(self.blob),
            nut_flags: r.nut_flags,
            len: r.len,
            path: r.path.str(self.blob),
            dfl: r.dfl.opt_str(self.blob),
            hu_flags: r.hu_flags,
            lookup: self.lookups.get(usize::from(r.lookup)).copied(),
        }
    }

    /// The rows for a NUT variable or command, in table order.
    pub fn rows_for<'a>(&self, var: &'a str) -> impl Iterator<Item = InfoRow> + use<'a> {
        let t = *self;
        t.rows.iter().filter(move |r| r.var.is(t.blob, var.as_bytes())).map(move |r| t.unpack(r))
    }
}

impl IntoIterator for InfoTable {
    type Item = InfoRow;
    type IntoIter = InfoRows;

    fn into_iter(self) -> InfoRows {
        self.iter()
    }
}

/// The rows of an [`InfoTable`], in order ([`InfoTable::iter`]).
#[derive(Debug, Clone)]
pub struct InfoRows {
    table: InfoTable,
    next: usize,
}

impl Iterator for InfoRows {
    type Item = InfoRow;

    fn next(&mut self) -> Option<InfoRow> {
        let row = self.table.get(self.next)?;
        self.next += 1;
        Some(row)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.table.len().saturating_sub(self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for InfoRows {}

/// (`usb_device_id_t.fun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdHook {
    /// APC 051d:0002: turn on the `maxreport` tweak when the product string
    /// starts with one of [`apc::MAX_REPORT_PRODUCTS`].
    ApcMaxReportTweak,
    /// Turn the interrupt pipe off (poll only), as if `pollonly` were set.
    DisableInterruptPipe,
    /// CyberPower 0764:0501: check once whether battery voltages need the
    /// 2/3 scale (see [`Conv::CpsBattvolt`]).
    CpsBatteryScaleCheck,
    /// Tripp Lite: set the scale factors of [`Conv::TrippliteBattvolt`]
    /// and the line conversions.
    TrippliteBatteryScale(TrippliteScale),
    /// openUPS: set the voltage and current scales by product ID.
    OpenupsScale,
}

/// Tripp Lite's per-ID scale sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrippliteScale {
    /// Battery voltage ×0.1, line values unscaled.
    Tenth,
    /// Everything unscaled.
    One,
    /// 3016 and 3024: battery and line voltage ×100000, frequency and
    /// current ×0.01.
    Smart1500Lcdt,
}

/// One USB vendor/product ID of a subdriver's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbId {
    /// USB vendor ID.
    pub vendor_id: u16,
    /// USB product ID.
    pub product_id: u16,
    /// What matching this ID sets up.
    pub hook: Option<IdHook>,
    /// `None` for IDs of NUT 2.8.0; else the NUT release that added the ID, or
    /// why we take an ID no NUT release lists (we accept them too, beyond 2.8.0).
    pub since: Option<&'static str>,
}

impl UsbId {
    /// An ID of NUT 2.8.0's table.
    pub const fn new(vendor_id: u16, product_id: u16, hook: Option<IdHook>) -> Self {
        UsbId { vendor_id, product_id, hook, since: None }
    }

    /// An ID a later NUT release added.
    pub const fn later(vendor_id: u16, product_id: u16, since: &'static str) -> Self {
        UsbId { vendor_id, product_id, hook: None, since: Some(since) }
    }
}

/// A USB ID a subdriver never takes, even with the `productid` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// USB vendor ID.
    pub vendor_id: u16,
    /// USB product ID.
    pub product_id: u16,
    /// The driver NUT's message recommends instead, if any.
    pub use_driver: Option<&'static str>,
}

/// Settings a subdriver changes when it claims a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimEffect {
    /// Arduino: interrupt IN endpoint 4, OUT endpoint 5, HID interface (and,
    /// in 2.8.0, configuration) index 2.
    ArduinoEndpoints,
    /// Use this HID interface / report descriptor index.
    HidRepIndex(u8),
    /// For this product ID: `interruptonly`, with interrupt reads of `size`
    /// bytes.
    InterruptOnly {
        /// The product ID concerned.
        product_id: u16,
        /// The interrupt read size.
        size: u16,
    },
}

/// How a subdriver's `claim()` decides, as data.
///
/// NUT walks the ID table: a vendor+product match is *supported*; a vendor
/// match alone is *possibly supported*, claimed only when the user set the
/// `productid` option for a vendor ID in [`productid_vids`](Self::productid_vids),
/// else NUT logs a hint naming the brand from [`hint`](Self::hint) (no
/// hint for vendor IDs missing there: they decline silently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimRule {
    /// Claims any device, only with the `explore` option.
    pub explore_only: bool,
    /// Vendor ID -> brand in the "not (or perhaps not yet) supported" hint.
    pub hint: &'static [(u16, &'static str)],
    /// Vendor IDs for which the `productid` option makes NUT claim a
    /// device of a known vendor with an unknown product ID.
    pub productid_vids: &'static [u16],
    /// IDs never claimed.
    pub refused: &'static [Refusal],
    /// For this vendor ID, claimed (supported or not) only when the Vendor
    /// or Product string contains the text; `productid` is not consulted.
    pub string_gate: Option<(u16, &'static str)>,
    /// What claiming sets up.
    pub effects: &'static [ClaimEffect],
}

/// Where `device.mfr` / `ups.mfr` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfrRule {
    /// The USB Vendor string, or this text without one.
    VendorOr(&'static str),
    /// The Vendor string without leading spaces; this text if none or empty.
    VendorTrimmedOr(&'static str),
    /// The Vendor string (nothing without one).
    Vendor,
}

impl MfrRule {
    /// The manufacturer for a device with this Vendor string.
    pub fn apply<'a>(&self, vendor: Option<&'a str>) -> Option<&'a str> {
        match *self {
            MfrRule::VendorOr(d) => Some(vendor.unwrap_or(d)),
            MfrRule::VendorTrimmedOr(d) => {
                let v = vendor.map_or("", |v| v.trim_start_matches(' '));
                Some(if v.is_empty() { d } else { v })
            }
            MfrRule::Vendor => vendor,
        }
    }
}

/// Where `ups.model` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelRule {
    /// The USB Product string.
    Product,
    /// The Product string, or `unknown` when missing or empty.
    ProductOrUnknown,
    /// APC: the Product string cut at `FW:` ([`apc::split_model`]), which
    /// also gives `ups.firmware` and `ups.firmware.aux`.
    ApcFirmwareSplit,
    /// The string at this HID path (a string index), else the Product.
    HidStringOrProduct(&'static str),
    /// MGE/Eaton: [`mge::model_name`] of the Product and the
    /// `UPS.PowerSummary.iModel` string (else `UPS.Flow.[4].ConfigApparentPower`
    /// as an integer); Dell (047c) keeps the Product as is.
    MgeModelName,
}

/// Where `ups.serial` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialRule {
    /// The USB Serial string.
    Serial,
    /// The Serial string, else the string at this HID path.
    SerialOrHidString(&'static str),
}

/// The subdriver's `format_mfr`, `format_model` and `format_serial`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Manufacturer.
    pub mfr: MfrRule,
    /// Model.
    pub model: ModelRule,
    /// Serial number.
    pub serial: SerialRule,
}

/// A device fix-up a subdriver applies outside its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quirk {
    /// APC 051d:0002: if the LogMax of `HighVoltageTransfer` (report 0x33)
    /// exceeds that of `Voltage` (report 0x31), the voltage range becomes
    /// 0..2×that LogMax; if it exceeds that of `ConfigVoltage` (report 0x30),
    /// that LogMax becomes 255.
    ApcVoltageRangeFix,
    /// CyberPower 0764:0501: if `Voltage` in report 18 has the same logical
    /// range as `HighVoltageTransfer` in report 16, its range becomes
    /// 0..511 (2.8.0 leaves report 15, the input voltage, as is).
    CpsOutputVoltageRangeFix,
    /// CyberPower 0764:0501: battery voltage scaled by 2/3 when it reads
    /// more than 1.4 × `battery.voltage.nominal` (decided once).
    CpsBatteryVoltageScale,
    /// Liebert via the Belkin table: a `ConfigVoltage` of 1e-7 means a
    /// broken exponent (values ×1e8, line voltages ×1e7).
    LiebertExponentFix,
    /// Eaton 0463 with bcdDevice 0x0202: the HID descriptor length is read
    /// with GET_DESCRIPTOR (method 1) instead of the interface extra bytes.
    EatonDescriptorIndex,
    /// Tripp Lite 09ae:1330: report 0x54 is never read (firmware bug).
    TrippliteSkipReport54,
    /// Ever: some lookups read raw bytes of fixed report IDs (74, 75, 76,
    /// 210, 211, 215..218, 230..232) rather than the item value.
    EverRawReports,
}

/// One usbhid-ups subdriver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subdriver {
    /// Our short name, the stem of NUT's source file (`apc`, `mge`, ...).
    pub key: &'static str,
    /// The name and version NUT publishes as `driver.version.data`.
    pub version: &'static str,
    /// The USB ID table, in NUT's order.
    pub usb_ids: &'static [UsbId],
    /// How the subdriver claims devices.
    pub claim: ClaimRule,
    /// Vendor usages, looked up before the generic HID Power Device names.
    pub usages: NameTable,
    /// The `hid_info_t` rows, in NUT's order.
    pub info: InfoTable,
    /// The lookup tables the subdriver defines (shared ones are in
    /// [`common::ALL`]).
    pub lookups: &'static [&'static LookupTable],
    /// Manufacturer, model and serial formatting.
    pub identity: Identity,
    /// Fix-ups outside the table.
    pub quirks: &'static [Quirk],
}

impl Subdriver {
    /// The rows for a NUT variable or command, in table order (NUT uses the
    /// first whose path exists in the device).
    pub fn rows_for<'a>(&self, var: &'a str) -> impl Iterator<Item = InfoRow> + use<'a> {
        self.info.rows_for(var)
    }

    /// The name of a vendor usage code, if this subdriver has one.
    pub fn usage_name(&self, code: u32) -> Option<&'static str> {
        self.usages.name(code)
    }

    /// The code of a vendor usage name (case-insensitive, as NUT parses
    /// paths).
    pub fn usage_code(&self, name: &str) -> Option<u32> {
        self.usages.usage(name)
    }

    /// What this subdriver's `claim()` says about a device.
    pub fn claim(&self, dev: &Device<'_>, opts: &SelectOptions) -> Claim {
        let rule = &self.claim;
        if rule.explore_only {
            return if opts.explore { Claim::Supported(None) } else { Claim::NotMine };
        }
        let known_vendor = self
            .usb_ids
            .iter()
            .any(|id| id.vendor_id == dev.vendor_id && (id.since.is_none() || opts.later_ids));
        if !known_vendor {
            return Claim::NotMine;
        }
        if let Some(r) = rule
            .refused
            .iter()
            .find(|r| r.vendor_id == dev.vendor_id && r.product_id == dev.product_id)
        {
            return Claim::Refused(r.use_driver);
        }
        let exact = self.usb_ids.iter().find(|id| {
            id.vendor_id == dev.vendor_id
                && id.product_id == dev.product_id
                && (id.since.is_none() || opts.later_ids)
        });
        if let Some((vid, needle)) = rule.string_gate {
            if vid == dev.vendor_id {
                let hit = dev.vendor.is_some_and(|s| s.contains(needle))
                    || dev.product.is_some_and(|s| s.contains(needle));
                return match (hit, exact) {
                    (true, Some(id)) => Claim::Supported(id.hook),
                    (true, None) => Claim::ByProductIdOption,
                    (false, _) => Claim::NotMine,
                };
            }
        }
        if let Some(id) = exact {
            return Claim::Supported(id.hook);
        }
        if opts.productid_set && rule.productid_vids.contains(&dev.vendor_id) {
            return Claim::ByProductIdOption;
        }
        match rule.hint.iter().find(|(v, _)| *v == dev.vendor_id) {
            Some((_, brand)) => Claim::Hint(brand),
            None => Claim::NotMine,
        }
    }
}

/// What identifies a USB device to the claim rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Device<'a> {
    /// USB vendor ID.
    pub vendor_id: u16,
    /// USB product ID.
    pub product_id: u16,
    /// The Vendor string descriptor.
    pub vendor: Option<&'a str>,
    /// The Product string descriptor.
    pub product: Option<&'a str>,
}

/// The driver options that change subdriver selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SelectOptions {
    /// The `productid` option is set (any value).
    pub productid_set: bool,
    /// The `explore` option is set.
    pub explore: bool,
    /// Also accept the IDs later NUT releases added ([`UsbId::since`]).
    pub later_ids: bool,
}

/// One subdriver's answer for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Claimed: vendor and product ID are in the table (the ID's hook,
    /// if any, applies), or `explore`.
    Supported(Option<IdHook>),
    /// Claimed because the vendor is known and `productid` is set (or, for a
    /// string-gated vendor, because the string matched).
    ByProductIdOption,
    /// Not claimed; NUT logs that this brand's device is "not (or perhaps
    /// not yet) supported" and suggests `productid`.
    Hint(&'static str),
    /// Never claimed; NUT may name another driver.
    Refused(Option<&'static str>),
    /// Not this subdriver's device.
    NotMine,
}

impl Claim {
    /// Whether the subdriver takes the device.
    pub fn is_claimed(&self) -> bool {
        matches!(self, Claim::Supported(_) | Claim::ByProductIdOption)
    }
}

/// Every subdriver's rows as written, in probe order (the order of
/// [`ALL`]); `info_table!(ROWS, in k)` packs number `k`.
pub(crate) const ALL_INFO_ROWS: [&[InfoRow]; 16] = [
    explore::INFO_ROWS,
    mge::INFO_ROWS,
    apc::INFO_ROWS,
    arduino::INFO_ROWS,
    belkin::INFO_ROWS,
    cps::INFO_ROWS,
    delta_ups::INFO_ROWS,
    ever::INFO_ROWS,
    idowell::INFO_ROWS,
    legrand::INFO_ROWS,
    liebert::INFO_ROWS,
    openups::INFO_ROWS,
    powercom::INFO_ROWS,
    powervar::INFO_ROWS,
    salicru::INFO_ROWS,
    tripplite::INFO_ROWS,
];

/// How many strings [`ALL_INFO_ROWS`] has (3 a row).
const INFO_STRS_LEN: usize = 3 * crate::pack::rows_total(&ALL_INFO_ROWS);

/// The strings of [`ALL_INFO_ROWS`].
#[allow(
    clippy::large_const_arrays,
    reason = "evaluated at compile time only, into INFO_STRINGS; never emitted"
)]
const INFO_STRS: [Option<&str>; INFO_STRS_LEN] = crate::pack::info_strs_all(&ALL_INFO_ROWS);

/// Every subdriver's row strings, packed together: a string several
/// subdrivers use is stored once.
pub(crate) const INFO_STRINGS: crate::pack::Strings<
    { crate::pack::total_len(&INFO_STRS) },
    INFO_STRS_LEN,
> = crate::pack::pack_strs(&INFO_STRS);

/// The string blob of every subdriver's [`InfoTable`].
pub(crate) static INFO_BLOB: [u8; INFO_STRINGS.used] = crate::pack::prefix(&INFO_STRINGS.blob);

/// Every subdriver, in NUT 2.8.0's probe order.
static ALL: &[&Subdriver] = &[
    &explore::SUBDRIVER,
    &mge::SUBDRIVER,
    &apc::SUBDRIVER,
    &arduino::SUBDRIVER,
    &belkin::SUBDRIVER,
    &cps::SUBDRIVER,
    &delta_ups::SUBDRIVER,
    &ever::SUBDRIVER,
    &idowell::SUBDRIVER,
    &legrand::SUBDRIVER,
    &liebert::SUBDRIVER,
    &openups::SUBDRIVER,
    &powercom::SUBDRIVER,
    &powervar::SUBDRIVER,
    &salicru::SUBDRIVER,
    &tripplite::SUBDRIVER,
];

/// Every subdriver, in NUT 2.8.0's probe order.
pub fn all() -> &'static [&'static Subdriver] {
    ALL
}

/// A subdriver by our key (`apc`), by its full `driver.version.data`
/// (`APC HID 0.98`) or by that name without the version (`APC HID`),
/// case-insensitive.
pub fn find(name: &str) -> Option<&'static Subdriver> {
    ALL.iter().copied().find(|sd| {
        sd.key.eq_ignore_ascii_case(name)
            || sd.version.eq_ignore_ascii_case(name)
            || sd.version.rsplit_once(' ').is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
    })
}

/// The subdriver NUT 2.8.0 picks for a device with default options (no
/// `productid`, no `explore`): the first, in probe order, that claims it.
pub fn select(
    vendor_id: u16,
    product_id: u16,
    vendor: Option<&str>,
    product: Option<&str>,
) -> Option<&'static Subdriver> {
    let dev = Device { vendor_id, product_id, vendor, product };
    select_with(&dev, &SelectOptions::default()).map(|(sd, _)| sd)
}

/// The subdriver picked for a device under the given options, with the
/// claim that took it.
pub fn select_with(dev: &Device<'_>, opts: &SelectOptions) -> Option<(&'static Subdriver, Claim)> {
    ALL.iter().copied().find_map(|sd| {
        let c = sd.claim(dev, opts);
        c.is_claimed().then_some((sd, c))
    })
}

/// Every lookup table: the shared ones, then each subdriver's own.
pub fn all_lookups() -> impl Iterator<Item = &'static LookupTable> {
    common::ALL.iter().copied().chain(ALL.iter().flat_map(|sd| sd.lookups.iter().copied()))
}

/// The NUT text for a HID value, with a fresh [`State`] and no
/// environment ([`NoEnv`]); see [`lookup_to_nut_with`].
pub fn lookup_to_nut(table: &LookupTable, value: f64) -> Option<Cow<'static, str>> {
    let mut state = State::default();
    lookup_to_nut_with(table, value, &mut state, &NoEnv)
}

/// The NUT text for a HID value (NUT's `hu_find_infoval`): the conversion
/// if the table has one (it may read and update `state` and read `env`),
/// else the first row whose value equals the value truncated toward zero.
/// `None` means NUT publishes nothing for this value.
pub fn lookup_to_nut_with(
    table: &LookupTable,
    value: f64,
    state: &mut State,
    env: &dyn Env,
) -> Option<Cow<'static, str>> {
    if let Some(conv) = table.conv {
        if conv.has_forward() {
            return conv.to_nut(value, state, env);
        }
    }
    let key = trunc(value);
    table.rows.iter().find(|r| r.hid == key).map(|r| Cow::Borrowed(r.nut))
}

/// The HID value for a NUT text, with a fresh [`State`] and no environment.
pub fn lookup_to_hid(table: &LookupTable, text: &str) -> Option<f64> {
    lookup_to_hid_with(table, text, &State::default(), &NoEnv)
}

/// The HID value for a NUT text (NUT's `hu_find_valinfo`): the reverse
/// conversion if the table has one, else the first row with exactly that
/// text. `None` when nothing matches: NUT 2.8.0 then goes on and writes
/// `-1` to the device, which a mapping engine should not copy.
pub fn lookup_to_hid_with(
    table: &LookupTable,
    text: &str,
    state: &State,
    env: &dyn Env,
) -> Option<f64> {
    if let Some(conv) = table.conv {
        if conv.has_reverse() {
            return conv.to_hid(text, state, env);
        }
    }
    table.rows.iter().find(|r| r.nut == text).map(|r| r.hid as f64)
}

/// C's `(long)value`: truncation toward zero (saturating; NaN is 0).
pub(crate) fn trunc(value: f64) -> i64 {
    value as i64
}

/// Whether `name` is a well-formed NUT variable or command name: dot
/// separated words of lowercase letters, digits and `_`, starting with a
/// lowercase letter; a word may also be a phase name as NUT spells them
/// (`L1`, `L2-N`, `L3-L1`).
pub fn is_valid_nut_name(name: &str) -> bool {
    fn phase(p: &str) -> bool {
        let b = p.as_bytes();
        let one = |x: &[u8]| matches!(x, [b'L', b'1'..=b'3']);
        match b.len() {
            2 => one(b),
            4 => one(&b[..2]) && b[2] == b'-' && b[3] == b'N',
            5 => one(&b[..2]) && b[2] == b'-' && one(&b[3..]),
            _ => false,
        }
    }
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name.split('.').all(|part| {
            phase(part)
                || (!part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        })
}

#[cfg(test)]
mod tests;
