//! `CyberPower HID 0.6` subdriver data (NUT 2.8.0 `drivers/cps-hid.c`).
//!
//! CyberPower Systems (`0764`).
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    BEEPER_INFO, BOOST_INFO, CHARGING_INFO, DISCHARGING_INFO, FULLYCHARGED_INFO, LOWBATT_INFO,
    ONLINE_INFO, OVERLOAD_INFO, STRINGID_CONVERSION, TEST_READ_INFO, TIMELIMITEXPIRED_INFO,
};
use super::flags::{
    HU_FLAG_ABSENT, HU_FLAG_QUICK_POLL, HU_FLAG_SEMI_STATIC, HU_TYPE_CMD, ST_FLAG_RW,
    ST_FLAG_STRING,
};
use super::{
    ClaimRule, Conv, IdHook, Identity, InfoRow, InfoTable, LookupTable, MfrRule, ModelRule, Quirk,
    SerialRule, Subdriver, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// NUT table `cps_battvolt`.
pub static CPS_BATTVOLT: LookupTable =
    LookupTable { name: "cps_battvolt", rows: &[], conv: Some(Conv::CpsBattvolt) };

/// NUT table `cps_battcharge`.
pub static CPS_BATTCHARGE: LookupTable =
    LookupTable { name: "cps_battcharge", rows: &[], conv: Some(Conv::CpsBattcharge) };

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[&CPS_BATTVOLT, &CPS_BATTCHARGE];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[
    UsbId::new(0x0764, 0x0005, None),
    UsbId::new(0x0764, 0x0501, Some(IdHook::CpsBatteryScaleCheck)),
    UsbId::new(0x0764, 0x0601, None),
];

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
        "battery.mfr.date",
        0,
        0,
        "UPS.PowerSummary.iOEMInformation",
        Some("%s"),
        0,
        Some(&STRINGID_CONVERSION),
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
        "battery.charge.low",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.PowerSummary.RemainingCapacityLimit",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "battery.charge",
        0,
        0,
        "UPS.PowerSummary.RemainingCapacity",
        Some("%s"),
        0,
        Some(&CPS_BATTCHARGE),
    ),
    InfoRow::new("battery.runtime", 0, 0, "UPS.PowerSummary.RunTimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new(
        "battery.runtime.low",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.PowerSummary.RemainingTimeLimit",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.PowerSummary.ConfigVoltage",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "battery.voltage",
        0,
        0,
        "UPS.PowerSummary.Voltage",
        Some("%s"),
        0,
        Some(&CPS_BATTVOLT),
    ),
    InfoRow::new("ups.load", 0, 0, "UPS.Output.PercentLoad", Some("%.0f"), 0, None),
    InfoRow::new(
        "ups.beeper.status",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("%s"),
        0,
        Some(&BEEPER_INFO),
    ),
    InfoRow::new("ups.test.result", 0, 0, "UPS.Output.Test", Some("%s"), 0, Some(&TEST_READ_INFO)),
    InfoRow::new(
        "ups.realpower.nominal",
        0,
        0,
        "UPS.Output.ConfigActivePower",
        Some("%.0f"),
        0,
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
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Output.DelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.timer.start",
        0,
        0,
        "UPS.Output.DelayBeforeStartup",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.shutdown",
        0,
        0,
        "UPS.Output.DelayBeforeShutdown",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.reboot",
        0,
        0,
        "UPS.Output.DelayBeforeReboot",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
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
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LOWBATT_INFO),
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
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        None,
        0,
        Some(&TIMELIMITEXPIRED_INFO),
    ),
    InfoRow::new("BOOL", 0, 0, "UPS.Output.Boost", None, 0, Some(&BOOST_INFO)),
    InfoRow::new("BOOL", 0, 0, "UPS.Output.Overload", None, 0, Some(&OVERLOAD_INFO)),
    InfoRow::new("input.frequency", 0, 0, "UPS.Input.Frequency", Some("%.1f"), 0, None),
    InfoRow::new("input.voltage.nominal", 0, 0, "UPS.Input.ConfigVoltage", Some("%.0f"), 0, None),
    InfoRow::new("input.voltage", 0, 0, "UPS.Input.Voltage", Some("%.1f"), 0, None),
    InfoRow::new(
        "input.transfer.low",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Input.LowVoltageTransfer",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "input.transfer.high",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Input.HighVoltageTransfer",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new("output.frequency", 0, 0, "UPS.Output.Frequency", Some("%.1f"), 0, None),
    InfoRow::new("output.voltage", 0, 0, "UPS.Output.Voltage", Some("%.1f"), 0, None),
    InfoRow::new("output.voltage.nominal", 0, 0, "UPS.Output.ConfigVoltage", Some("%.0f"), 0, None),
    InfoRow::new("test.battery.start.quick", 0, 0, "UPS.Output.Test", Some("1"), HU_TYPE_CMD, None),
    InfoRow::new("test.battery.start.deep", 0, 0, "UPS.Output.Test", Some("2"), HU_TYPE_CMD, None),
    InfoRow::new("test.battery.stop", 0, 0, "UPS.Output.Test", Some("3"), HU_TYPE_CMD, None),
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
        "shutdown.stop",
        0,
        0,
        "UPS.Output.DelayBeforeShutdown",
        Some("-1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.reboot",
        0,
        0,
        "UPS.Output.DelayBeforeReboot",
        Some("10"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.on",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("2"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.off",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
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
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.mute",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 5);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "cps",
    version: "CyberPower HID 0.6",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x0764, "CyberPower")],
        productid_vids: &[0x0764],
        refused: &[],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("CPS"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[Quirk::CpsOutputVoltageRangeFix, Quirk::CpsBatteryVoltageScale],
};
