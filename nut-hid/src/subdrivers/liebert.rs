//! `Phoenixtec/Liebert HID 0.41` subdriver data (NUT 2.8.0 `drivers/liebert-hid.c`).
//!
//! Phoenixtec-built units sold as Liebert and others (`06da`), after the
//! MGE subdriver declined them (no `AEG` in the strings).
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    CHARGING_INFO, DISCHARGING_INFO, LOWBATT_INFO, ONLINE_INFO, OVERLOAD_INFO, SHUTDOWNIMM_INFO,
    STRINGID_CONVERSION,
};
use super::flags::{HU_FLAG_QUICK_POLL, HU_FLAG_SEMI_STATIC, HU_FLAG_STATIC};
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
pub static USB_IDS: &[UsbId] = &[UsbId::new(0x06da, 0xffff, None)];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
    InfoRow::new("battery.voltage", 0, 0, "UPS.PowerSummary.Voltage", Some("%.2f"), 0, None),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.PowerSummary.ConfigVoltage",
        Some("%.2f"),
        HU_FLAG_STATIC,
        None,
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
    InfoRow::new("battery.runtime", 0, 0, "UPS.PowerSummary.RunTimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new(
        "battery.type",
        0,
        0,
        "UPS.PowerSummary.iDeviceChemistry",
        Some("%s"),
        0,
        Some(&STRINGID_CONVERSION),
    ),
    InfoRow::new("ups.load", 0, 0, "UPS.PowerSummary.PercentLoad", Some("%.0f"), 0, None),
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
        "output.frequency",
        0,
        0,
        "UPS.PowerConverter.Output.Frequency",
        Some("%.2f"),
        0,
        None,
    ),
    InfoRow::new(
        "output.transfer.high",
        0,
        0,
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        Some("%.1f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "output.transfer.low",
        0,
        0,
        "UPS.PowerConverter.Output.LowVoltageTransfer",
        Some("%.1f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "input.voltage",
        0,
        0,
        "UPS.PowerConverter.Input.[1].Voltage",
        Some("%.1f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.frequency",
        0,
        0,
        "UPS.PowerConverter.Input.[1].Frequency",
        Some("%.2f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.transfer.low",
        0,
        0,
        "UPS.PowerConverter.Output.ffff0057",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "input.transfer.high",
        0,
        0,
        "UPS.PowerConverter.Output.ffff0058",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "input.frequency.transfer.low",
        0,
        0,
        "UPS.PowerConverter.Output.ffff00f9",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "input.frequency.transfer.high",
        0,
        0,
        "UPS.PowerConverter.Output.ffff00f8",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.ACPresent",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        Some(&ONLINE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        Some(&LOWBATT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Charging",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        Some(&CHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Discharging",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        Some(&DISCHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Overload",
        Some("%.0f"),
        0,
        Some(&OVERLOAD_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        Some("%.0f"),
        0,
        Some(&SHUTDOWNIMM_INFO),
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 10);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "liebert",
    version: "Phoenixtec/Liebert HID 0.41",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x06da, "Liebert")],
        productid_vids: &[0x06da],
        refused: &[],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("Liebert"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
