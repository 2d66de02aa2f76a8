//! `Powervar HID 0.20` subdriver data (NUT 2.8.0 `drivers/powervar-hid.c`).
//!
//! Powervar (`4234:0002`); the HID interface is number 1.
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    CHARGING_INFO, DEPLETED_INFO, DISCHARGING_INFO, FULLYCHARGED_INFO, LOWBATT_INFO, ONLINE_INFO,
    OVERHEAT_INFO, OVERLOAD_INFO, REPLACEBATT_INFO, SHUTDOWNIMM_INFO, STRINGID_CONVERSION,
    TIMELIMITEXPIRED_INFO, YES_NO_INFO,
};
use super::flags::HU_FLAG_QUICK_POLL;
use super::{
    ClaimRule, Identity, InfoRow, InfoTable, LookupTable, MfrRule, ModelRule, SerialRule,
    Subdriver, Usage, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[Usage::new("POWERVAR1", 0xff000001)]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[UsbId::new(0x4234, 0x0002, None)];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
    InfoRow::new(
        "battery.type",
        0,
        0,
        "UPS.PowerSummary.iDeviceChemistry",
        Some("%s"),
        0,
        Some(&STRINGID_CONVERSION),
    ),
    InfoRow::new(
        "battery.charge",
        0,
        0,
        "UPS.PowerSummary.RemainingCapacity",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "battery.capacity",
        0,
        0,
        "UPS.PowerSummary.FullChargeCapacity",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new("battery.runtime", 0, 0, "UPS.PowerSummary.RuntimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.ACPresent",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&ONLINE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Discharging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&DISCHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Charging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&CHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        None,
        0,
        Some(&SHUTDOWNIMM_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        None,
        0,
        Some(&LOWBATT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Overload",
        None,
        0,
        Some(&OVERLOAD_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        None,
        0,
        Some(&REPLACEBATT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        None,
        0,
        Some(&TIMELIMITEXPIRED_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        None,
        0,
        Some(&YES_NO_INFO),
    ),
    InfoRow::new("BOOL", 0, 0, "UPS.PowerSummary.PresentStatus.Good", None, 0, Some(&YES_NO_INFO)),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        None,
        0,
        Some(&OVERHEAT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.FullyCharged",
        None,
        0,
        Some(&FULLYCHARGED_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.FullyDischarged",
        None,
        0,
        Some(&DEPLETED_INFO),
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 13);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "powervar",
    version: "Powervar HID 0.20",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x4234, "Powervar")],
        productid_vids: &[0x4234],
        refused: &[],
        string_gate: None,
        effects: &[super::ClaimEffect::HidRepIndex(1)],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("Powervar"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
