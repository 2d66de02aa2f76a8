//! `iDowell HID 0.2` subdriver data (NUT 2.8.0 `drivers/idowell-hid.c`).
//!
//! iDowell (`075d:0300`).
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    CHARGING_INFO, COMMFAULT_INFO, DISCHARGING_INFO, LOWBATT_INFO, OFF_INFO, ONLINE_INFO,
    OVERLOAD_INFO, REPLACEBATT_INFO, SHUTDOWNIMM_INFO, STRINGID_CONVERSION,
};
use super::flags::{
    HU_FLAG_ABSENT, HU_FLAG_QUICK_POLL, HU_FLAG_STATIC, HU_TYPE_CMD, ST_FLAG_RW, ST_FLAG_STRING,
};
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
pub static USB_IDS: &[UsbId] = &[UsbId::new(0x075d, 0x0300, None)];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
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
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LOWBATT_INFO),
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
        "UPS.PowerSummary.PresentStatus.CommunicationLost",
        None,
        0,
        Some(&COMMFAULT_INFO),
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
    InfoRow::new("BOOL", 0, 0, "UPS.PowerSummary.PresentStatus.Good", None, 0, Some(&OFF_INFO)),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        None,
        0,
        Some(&COMMFAULT_INFO),
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
        "UPS.PowerSummary.PresentStatus.Overload",
        None,
        0,
        Some(&OVERLOAD_INFO),
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
        "battery.charge",
        0,
        0,
        "UPS.PowerSummary.RemainingCapacity",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "battery.charge.low",
        0,
        0,
        "UPS.PowerSummary.RemainingCapacityLimit",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new("battery.runtime", 0, 0, "UPS.PowerSummary.RunTimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new(
        "battery.type",
        0,
        0,
        "UPS.PowerSummary.iDeviceChemistry",
        Some("%s"),
        HU_FLAG_STATIC,
        Some(&STRINGID_CONVERSION),
    ),
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
    InfoRow::new("ups.load", 0, 0, "UPS.PowerSummary.PercentLoad", Some("%.0f"), 0, None),
    InfoRow::new(
        "ups.power.nominal",
        0,
        0,
        "UPS.Flow.[4].ConfigApparentPower",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "input.transfer.high",
        0,
        0,
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "input.transfer.low",
        0,
        0,
        "UPS.PowerConverter.Output.LowVoltageTransfer",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "output.voltage",
        0,
        0,
        "UPS.PowerConverter.Output.Voltage",
        Some("%.1f"),
        0,
        None,
    ),
    InfoRow::new(
        "output.voltage.nominal",
        0,
        0,
        "UPS.Flow.[4].ConfigVoltage",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "output.frequency.nominal",
        0,
        0,
        "UPS.Flow.[4].ConfigFrequency",
        Some("%.0f"),
        HU_FLAG_STATIC,
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
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 8);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "idowell",
    version: "iDowell HID 0.2",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x075d, "iDowell")],
        productid_vids: &[0x075d],
        refused: &[],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("iDowell"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
