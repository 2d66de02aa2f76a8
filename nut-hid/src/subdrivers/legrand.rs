//! `Legrand HID 0.2` subdriver data (NUT 2.8.0 `drivers/legrand-hid.c`).
//!
//! Legrand Keor (`1cb0`); the interrupt pipe is turned off for both IDs.
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    CHARGING_INFO, DISCHARGING_INFO, DIVIDE_BY_10_CONVERSION, LOWBATT_INFO, ONLINE_INFO,
    OVERLOAD_INFO,
};
use super::flags::{
    HU_FLAG_ABSENT, HU_FLAG_QUICK_POLL, HU_FLAG_STATIC, HU_TYPE_CMD, ST_FLAG_RW, ST_FLAG_STRING,
};
use super::{
    ClaimRule, Conv, IdHook, Identity, InfoRow, InfoTable, LookupTable, MfrRule, ModelRule,
    SerialRule, Subdriver, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// NUT table `legrand_times10_info`.
pub static LEGRAND_TIMES10_INFO: LookupTable =
    LookupTable { name: "legrand_times10_info", rows: &[], conv: Some(Conv::LegrandTimes10Info) };

/// NUT table `legrand_times100k_info`.
pub static LEGRAND_TIMES100K_INFO: LookupTable = LookupTable {
    name: "legrand_times100k_info",
    rows: &[],
    conv: Some(Conv::LegrandTimes100kInfo),
};

/// NUT table `legrand_times1M_info`.
pub static LEGRAND_TIMES1M_INFO: LookupTable =
    LookupTable { name: "legrand_times1M_info", rows: &[], conv: Some(Conv::LegrandTimes1MInfo) };

/// NUT table `legrand_times10M_info`.
pub static LEGRAND_TIMES10M_INFO: LookupTable =
    LookupTable { name: "legrand_times10M_info", rows: &[], conv: Some(Conv::LegrandTimes10MInfo) };

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[
    &LEGRAND_TIMES10_INFO,
    &LEGRAND_TIMES100K_INFO,
    &LEGRAND_TIMES1M_INFO,
    &LEGRAND_TIMES10M_INFO,
];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[
    UsbId::new(0x1cb0, 0x0038, Some(IdHook::DisableInterruptPipe)),
    UsbId::new(0x1cb0, 0x0032, Some(IdHook::DisableInterruptPipe)),
];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
    InfoRow::new("input.voltage", 0, 0, "UPS.Input.Voltage", Some("%.0f"), 0, None),
    InfoRow::new(
        "input.voltage",
        0,
        0,
        "UPS.PowerConverter.Input.Voltage",
        Some("%.0f"),
        0,
        Some(&LEGRAND_TIMES1M_INFO),
    ),
    InfoRow::new(
        "input.transfer.high",
        0,
        0,
        "UPS.Input.HighVoltageTransfer",
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
        Some(&LEGRAND_TIMES10_INFO),
    ),
    InfoRow::new(
        "input.transfer.low",
        0,
        0,
        "UPS.Input.LowVoltageTransfer",
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
        "input.voltage.nominal",
        0,
        0,
        "UPS.Input.ConfigVoltage",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "input.voltage.nominal",
        0,
        0,
        "UPS.Flow.ConfigVoltage",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.PowerSummary.ConfigVoltage",
        Some("%.0f"),
        HU_FLAG_STATIC,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.BatterySystem.Battery.ConfigVoltage",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "battery.voltage",
        0,
        0,
        "UPS.PowerSummary.Voltage",
        Some("%.0f"),
        0,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "battery.voltage",
        0,
        0,
        "UPS.BatterySystem.Battery.Voltage",
        Some("%.0f"),
        0,
        Some(&LEGRAND_TIMES100K_INFO),
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
    InfoRow::new("battery.runtime", 0, 0, "UPS.PowerSummary.RuntimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new(
        "battery.charge.warning",
        0,
        0,
        "UPS.PowerSummary.WarningCapacityLimit",
        Some("%.0f"),
        HU_FLAG_STATIC,
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
    InfoRow::new("output.voltage", 0, 0, "UPS.Output.Voltage", Some("%.0f"), 0, None),
    InfoRow::new(
        "output.voltage",
        0,
        0,
        "UPS.PowerConverter.Output.Voltage",
        Some("%.0f"),
        0,
        Some(&LEGRAND_TIMES10M_INFO),
    ),
    InfoRow::new("output.frequency", 0, 0, "UPS.Output.Frequency", Some("%.0f"), 0, None),
    InfoRow::new("ups.load", 0, 0, "UPS.Output.PercentLoad", Some("%.0f"), 0, None),
    InfoRow::new("ups.load", 0, 0, "UPS.OutletSystem.Outlet.PercentLoad", Some("%.0f"), 0, None),
    InfoRow::new(
        "ups.realpower.nominal",
        0,
        0,
        "UPS.Output.ConfigActivePower",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new(
        "ups.realpower.nominal",
        0,
        0,
        "UPS.Flow.ConfigApparentPower",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
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
        "UPS.PowerSummary.PresentStatus.Discharging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&DISCHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.Output.Overload",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&OVERLOAD_INFO),
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.OutletSystem.Outlet.DelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.delay.start",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.OutletSystem.Outlet.DelayBeforeStartup",
        Some("30"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Output.DelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.delay.start",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Output.DelayBeforeStartup",
        Some("30"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "load.off.delay",
        0,
        0,
        "UPS.OutletSystem.Outlet.DelayBeforeShutdown",
        Some("20"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.on.delay",
        0,
        0,
        "UPS.OutletSystem.Outlet.DelayBeforeStartup",
        Some("30"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.off.delay",
        0,
        0,
        "UPS.Output.DelayBeforeShutdown",
        Some("20"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.on.delay",
        0,
        0,
        "UPS.Output.DelayBeforeStartup",
        Some("30"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "test.battery.start.quick",
        0,
        0,
        "UPS.BatterySystem.Battery.Test",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "test.battery.start.deep",
        0,
        0,
        "UPS.BatterySystem.Battery.Test",
        Some("2"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "test.battery.stop",
        0,
        0,
        "UPS.BatterySystem.Battery.Test",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new("test.battery.start.quick", 0, 0, "UPS.Output.Test", Some("1"), HU_TYPE_CMD, None),
    InfoRow::new("test.battery.start.deep", 0, 0, "UPS.Output.Test", Some("2"), HU_TYPE_CMD, None),
    InfoRow::new("test.battery.stop", 0, 0, "UPS.Output.Test", Some("3"), HU_TYPE_CMD, None),
    InfoRow::new(
        "beeper.enable",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("2"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.disable",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 9);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "legrand",
    version: "Legrand HID 0.2",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x1cb0, "Legrand")],
        productid_vids: &[0x1cb0],
        refused: &[],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("Legrand"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
