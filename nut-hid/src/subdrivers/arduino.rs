//! `Arduino HID 0.2` subdriver data (NUT 2.8.0 `drivers/arduino-hid.c`).
//!
//! Arduino boards running a HID Power Device sketch (`2341`, `2a03`).
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::flags::{HU_FLAG_ABSENT, HU_FLAG_QUICK_POLL, HU_TYPE_CMD, ST_FLAG_RW, ST_FLAG_STRING};
use super::{
    ClaimRule, Identity, InfoRow, InfoTable, LookupTable, MfrRule, ModelRule, SerialRule,
    Subdriver, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[
    UsbId::new(0x2341, 0x0036, None),
    UsbId::new(0x2341, 0x8036, None),
    UsbId::new(0x2a03, 0x0036, None),
    UsbId::new(0x2a03, 0x8036, None),
    UsbId::new(0x2a03, 0x0040, None),
    UsbId::new(0x2a03, 0x8040, None),
];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
    InfoRow::new(
        "ups.delay.start",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.PowerSummary.DelayBeforeStartup",
        Some("30"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.PowerSummary.DelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.timer.start",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeStartup",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.shutdown",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeShutdown",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.reboot",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeReboot",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "load.off.delay",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeShutdown",
        Some("20"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.on.delay",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeStartup",
        Some("30"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.stop",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeShutdown",
        Some("-1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.reboot",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeReboot",
        Some("10"),
        HU_TYPE_CMD,
        None,
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 3);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "arduino",
    version: "Arduino HID 0.2",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x2341, "Arduino"), (0x2a03, "Arduino")],
        productid_vids: &[0x2341, 0x2a03],
        refused: &[],
        string_gate: None,
        effects: &[super::ClaimEffect::ArduinoEndpoints],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("Arduino"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
