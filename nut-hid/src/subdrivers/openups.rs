//! `openUPS HID 0.5` subdriver data (NUT 2.8.0 `drivers/openups-hid.c`).
//!
//! Mini-Box openUPS (`04d8:d004`, `04d8:d005`); voltage and current scales
//! depend on the product ID (see [`IdHook::OpenupsScale`]).
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    COMMFAULT_INFO, LOWBATT_INFO, OVERHEAT_INFO, OVERLOAD_INFO, REPLACEBATT_INFO, SHUTDOWNIMM_INFO,
    STRINGID_CONVERSION, TIMELIMITEXPIRED_INFO,
};
use super::flags::{HU_FLAG_QUICK_POLL, HU_FLAG_STATIC};
use super::{
    ClaimRule, Conv, IdHook, Identity, InfoRow, InfoTable, LookupTable, MfrRule, ModelRule,
    SerialRule, Subdriver, Usage, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// NUT table `openups_charging_info`.
pub static OPENUPS_CHARGING_INFO: LookupTable =
    LookupTable { name: "openups_charging_info", rows: &[], conv: Some(Conv::OpenupsChargingInfo) };

/// NUT table `openups_discharging_info`.
pub static OPENUPS_DISCHARGING_INFO: LookupTable = LookupTable {
    name: "openups_discharging_info",
    rows: &[],
    conv: Some(Conv::OpenupsDischargingInfo),
};

/// NUT table `openups_online_info`.
pub static OPENUPS_ONLINE_INFO: LookupTable =
    LookupTable { name: "openups_online_info", rows: &[], conv: Some(Conv::OpenupsOnlineInfo) };

/// NUT table `openups_nobattery_info`.
pub static OPENUPS_NOBATTERY_INFO: LookupTable = LookupTable {
    name: "openups_nobattery_info",
    rows: &[],
    conv: Some(Conv::OpenupsNobatteryInfo),
};

/// NUT table `openups_off_info`.
pub static OPENUPS_OFF_INFO: LookupTable =
    LookupTable { name: "openups_off_info", rows: &[], conv: Some(Conv::OpenupsOffInfo) };

/// NUT table `openups_vin_info`.
pub static OPENUPS_VIN_INFO: LookupTable =
    LookupTable { name: "openups_vin_info", rows: &[], conv: Some(Conv::OpenupsVinInfo) };

/// NUT table `openups_vout_info`.
pub static OPENUPS_VOUT_INFO: LookupTable =
    LookupTable { name: "openups_vout_info", rows: &[], conv: Some(Conv::OpenupsVoutInfo) };

/// NUT table `openups_ccharge_info`.
pub static OPENUPS_CCHARGE_INFO: LookupTable =
    LookupTable { name: "openups_ccharge_info", rows: &[], conv: Some(Conv::OpenupsCchargeInfo) };

/// NUT table `openups_cdischarge_info`.
pub static OPENUPS_CDISCHARGE_INFO: LookupTable = LookupTable {
    name: "openups_cdischarge_info",
    rows: &[],
    conv: Some(Conv::OpenupsCdischargeInfo),
};

/// NUT table `openups_temperature_info`.
pub static OPENUPS_TEMPERATURE_INFO: LookupTable = LookupTable {
    name: "openups_temperature_info",
    rows: &[],
    conv: Some(Conv::OpenupsTemperatureInfo),
};

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[
    &OPENUPS_CHARGING_INFO,
    &OPENUPS_DISCHARGING_INFO,
    &OPENUPS_ONLINE_INFO,
    &OPENUPS_NOBATTERY_INFO,
    &OPENUPS_OFF_INFO,
    &OPENUPS_VIN_INFO,
    &OPENUPS_VOUT_INFO,
    &OPENUPS_CCHARGE_INFO,
    &OPENUPS_CDISCHARGE_INFO,
    &OPENUPS_TEMPERATURE_INFO,
];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[
    Usage::new("Cell1", 0x00000001),
    Usage::new("Cell2", 0x00000002),
    Usage::new("Cell3", 0x00000003),
    Usage::new("Cell4", 0x00000004),
    Usage::new("Cell5", 0x00000005),
    Usage::new("Cell6", 0x00000006),
]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[
    UsbId::new(0x04d8, 0xd004, Some(IdHook::OpenupsScale)),
    UsbId::new(0x04d8, 0xd005, Some(IdHook::OpenupsScale)),
];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
    InfoRow::new(
        "ups.serial",
        0,
        0,
        "UPS.PowerSummary.iSerialNumber",
        Some("%s"),
        0,
        Some(&STRINGID_CONVERSION),
    ),
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
        "battery.mfr.date",
        0,
        0,
        "UPS.PowerSummary.iOEMInformation",
        Some("%s"),
        HU_FLAG_STATIC,
        Some(&STRINGID_CONVERSION),
    ),
    InfoRow::new(
        "battery.voltage",
        0,
        0,
        "UPS.PowerSummary.Voltage",
        Some("%.2f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "battery.current",
        0,
        0,
        "UPS.PowerSummary.Current",
        Some("%.3f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "battery.capacity",
        0,
        0,
        "UPS.PowerSummary.DesignCapacity",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "battery.charge",
        0,
        0,
        "UPS.PowerSummary.RemainingCapacity",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "battery.charge.low",
        0,
        0,
        "UPS.PowerSummary.RemainingCapacityLimit",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "battery.charge.warning",
        0,
        0,
        "UPS.PowerSummary.WarningCapacityLimit",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "battery.runtime",
        0,
        0,
        "UPS.PowerSummary.RunTimeToEmpty",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "battery.temperature",
        0,
        0,
        "UPS.PowerSummary.Temperature",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_TEMPERATURE_INFO),
    ),
    InfoRow::new(
        "output.voltage",
        0,
        0,
        "UPS.PowerSummary.Output.Voltage",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_VOUT_INFO),
    ),
    InfoRow::new(
        "output.current",
        0,
        0,
        "UPS.PowerSummary.Output.Current",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_CDISCHARGE_INFO),
    ),
    InfoRow::new(
        "input.voltage",
        0,
        0,
        "UPS.PowerSummary.Input.Voltage",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_VIN_INFO),
    ),
    InfoRow::new(
        "input.current",
        0,
        0,
        "UPS.PowerSummary.Input.Current",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_CCHARGE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Good",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_OFF_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&COMMFAULT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Overload",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OVERLOAD_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OVERHEAT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&SHUTDOWNIMM_INFO),
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
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&TIMELIMITEXPIRED_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Charging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_CHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Discharging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_DISCHARGING_INFO),
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
        "UPS.PowerSummary.PresentStatus.ACPresent",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_ONLINE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.BatteryPresent",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OPENUPS_NOBATTERY_INFO),
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 11);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "openups",
    version: "openUPS HID 0.5",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x04d8, "openUPS")],
        productid_vids: &[0x04d8],
        refused: &[],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("openUPS"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
