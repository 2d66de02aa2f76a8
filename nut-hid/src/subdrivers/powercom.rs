//! `PowerCOM HID 0.6` subdriver data (NUT 2.8.0 `drivers/powercom-hid.c`).
//!
//! PowerCOM (`0d9f`). 0d9f:0002 belongs to the serial `powercom` driver;
//! 0d9f:0001 only works through 8-byte interrupt reports.
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    BOOST_INFO, CHARGING_INFO, COMMFAULT_INFO, DATE_CONVERSION, DISCHARGING_INFO, LOWBATT_INFO,
    NOBATTERY_INFO, ONLINE_INFO, OVERLOAD_INFO, REPLACEBATT_INFO, SHUTDOWNIMM_INFO,
    STRINGID_CONVERSION, TEST_READ_INFO, TIMELIMITEXPIRED_INFO, TRIM_INFO,
};
use super::flags::{
    HU_FLAG_ABSENT, HU_FLAG_QUICK_POLL, HU_FLAG_STATIC, HU_TYPE_CMD, ST_FLAG_RW, ST_FLAG_STRING,
};
use super::{
    ClaimRule, Conv, Identity, InfoRow, InfoTable, LookupRow, LookupTable, MfrRule, ModelRule,
    SerialRule, Subdriver, Usage, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// NUT table `powercom_startup_info`.
pub static POWERCOM_STARTUP_INFO: LookupTable =
    LookupTable { name: "powercom_startup_info", rows: &[], conv: Some(Conv::PowercomStartupInfo) };

/// NUT table `powercom_shutdown_info`.
pub static POWERCOM_SHUTDOWN_INFO: LookupTable = LookupTable {
    name: "powercom_shutdown_info",
    rows: &[],
    conv: Some(Conv::PowercomShutdownInfo),
};

/// NUT table `powercom_stayoff_info`.
pub static POWERCOM_STAYOFF_INFO: LookupTable =
    LookupTable { name: "powercom_stayoff_info", rows: &[], conv: Some(Conv::PowercomStayoffInfo) };

/// NUT table `powercom_beeper_info`.
pub static POWERCOM_BEEPER_INFO: LookupTable = LookupTable {
    name: "powercom_beeper_info",
    rows: &[LookupRow::new(1, "enabled"), LookupRow::new(2, "disabled")],
    conv: None,
};

/// NUT table `powercom_voltage_conversion`.
pub static POWERCOM_VOLTAGE_CONVERSION: LookupTable = LookupTable {
    name: "powercom_voltage_conversion",
    rows: &[],
    conv: Some(Conv::PowercomVoltageConversion),
};

/// NUT table `powercom_upsfail_conversion`.
pub static POWERCOM_UPSFAIL_CONVERSION: LookupTable = LookupTable {
    name: "powercom_upsfail_conversion",
    rows: &[],
    conv: Some(Conv::PowercomUpsfailConversion),
};

/// NUT table `powercom_replacebatt_conversion`.
pub static POWERCOM_REPLACEBATT_CONVERSION: LookupTable = LookupTable {
    name: "powercom_replacebatt_conversion",
    rows: &[],
    conv: Some(Conv::PowercomReplacebattConversion),
};

/// NUT table `powercom_test_conversion`.
pub static POWERCOM_TEST_CONVERSION: LookupTable = LookupTable {
    name: "powercom_test_conversion",
    rows: &[],
    conv: Some(Conv::PowercomTestConversion),
};

/// NUT table `powercom_shutdownimm_conversion`.
pub static POWERCOM_SHUTDOWNIMM_CONVERSION: LookupTable = LookupTable {
    name: "powercom_shutdownimm_conversion",
    rows: &[],
    conv: Some(Conv::PowercomShutdownimmConversion),
};

/// NUT table `powercom_online_conversion`.
pub static POWERCOM_ONLINE_CONVERSION: LookupTable = LookupTable {
    name: "powercom_online_conversion",
    rows: &[],
    conv: Some(Conv::PowercomOnlineConversion),
};

/// NUT table `powercom_lowbatt_conversion`.
pub static POWERCOM_LOWBATT_CONVERSION: LookupTable = LookupTable {
    name: "powercom_lowbatt_conversion",
    rows: &[],
    conv: Some(Conv::PowercomLowbattConversion),
};

/// NUT table `powercom_trim_conversion`.
pub static POWERCOM_TRIM_CONVERSION: LookupTable = LookupTable {
    name: "powercom_trim_conversion",
    rows: &[],
    conv: Some(Conv::PowercomTrimConversion),
};

/// NUT table `powercom_boost_conversion`.
pub static POWERCOM_BOOST_CONVERSION: LookupTable = LookupTable {
    name: "powercom_boost_conversion",
    rows: &[],
    conv: Some(Conv::PowercomBoostConversion),
};

/// NUT table `powercom_overload_conversion`.
pub static POWERCOM_OVERLOAD_CONVERSION: LookupTable = LookupTable {
    name: "powercom_overload_conversion",
    rows: &[],
    conv: Some(Conv::PowercomOverloadConversion),
};

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[
    &POWERCOM_STARTUP_INFO,
    &POWERCOM_SHUTDOWN_INFO,
    &POWERCOM_STAYOFF_INFO,
    &POWERCOM_BEEPER_INFO,
    &POWERCOM_VOLTAGE_CONVERSION,
    &POWERCOM_UPSFAIL_CONVERSION,
    &POWERCOM_REPLACEBATT_CONVERSION,
    &POWERCOM_TEST_CONVERSION,
    &POWERCOM_SHUTDOWNIMM_CONVERSION,
    &POWERCOM_ONLINE_CONVERSION,
    &POWERCOM_LOWBATT_CONVERSION,
    &POWERCOM_TRIM_CONVERSION,
    &POWERCOM_BOOST_CONVERSION,
    &POWERCOM_OVERLOAD_CONVERSION,
];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[
    Usage::new("PowercomUPS", 0x00020004),
    Usage::new("PowercomBatterySystem", 0x00020010),
    Usage::new("PowercomPowerConverter", 0x00020016),
    Usage::new("PowercomInput", 0x0002001a),
    Usage::new("PowercomOutput", 0x0002001c),
    Usage::new("PowercomVoltage", 0x00020030),
    Usage::new("PowercomFrequency", 0x00020032),
    Usage::new("PowercomPercentLoad", 0x00020035),
    Usage::new("PowercomTemperature", 0x00020036),
    Usage::new("PowercomDelayBeforeStartup", 0x00020056),
    Usage::new("PowercomDelayBeforeShutdown", 0x00020057),
    Usage::new("PowercomTest", 0x00020058),
    Usage::new("PowercomShutdownRequested", 0x00020068),
    Usage::new("PowercomInternalChargeController", 0x00020081),
    Usage::new("PowercomPrimaryBatterySupport", 0x00020082),
    Usage::new("PowercomDesignCapacity", 0x00020083),
    Usage::new("PowercomSpecificationInfo", 0x00020084),
    Usage::new("PowercomManufacturerDate", 0x00020085),
    Usage::new("PowercomSerialNumber", 0x00020086),
    Usage::new("PowercomManufacturerName", 0x00020087),
    Usage::new("POWERCOM1", 0x0084002f),
    Usage::new("POWERCOM2", 0xff860060),
    Usage::new("POWERCOM3", 0xff860080),
    Usage::new("PCMDelayBeforeStartup", 0x00ff0056),
    Usage::new("PCMDelayBeforeShutdown", 0x00ff0057),
]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[
    UsbId::new(0x0d9f, 0x00a2, None),
    UsbId::new(0x0d9f, 0x00a3, None),
    UsbId::new(0x0d9f, 0x00a4, None),
    UsbId::new(0x0d9f, 0x00a5, None),
    UsbId::new(0x0d9f, 0x00a6, None),
    UsbId::new(0x0d9f, 0x0004, None),
    UsbId::new(0x0d9f, 0x0001, None),
];

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
        0,
        Some(&ONLINE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.BatteryPresent",
        None,
        0,
        Some(&NOBATTERY_INFO),
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
        "UPS.PowerSummary.PresentStatus.Charging",
        None,
        0,
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
        0,
        Some(&DISCHARGING_INFO),
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
        "UPS.PowerSummary.PresentStatus.RemainingTimeLimitExpired",
        None,
        0,
        Some(&TIMELIMITEXPIRED_INFO),
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
    InfoRow::new("BOOL", 0, 0, "UPS.PresentStatus.ACPresent", None, 0, Some(&ONLINE_INFO)),
    InfoRow::new("BOOL", 0, 0, "UPS.PresentStatus.BatteryPresent", None, 0, Some(&NOBATTERY_INFO)),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PresentStatus.BelowRemainingCapacityLimit",
        None,
        0,
        Some(&LOWBATT_INFO),
    ),
    InfoRow::new("BOOL", 0, 0, "UPS.PresentStatus.Boost", None, 0, Some(&BOOST_INFO)),
    InfoRow::new("BOOL", 0, 0, "UPS.PresentStatus.Buck", None, 0, Some(&TRIM_INFO)),
    InfoRow::new("BOOL", 0, 0, "UPS.PresentStatus.Charging", None, 0, Some(&CHARGING_INFO)),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PresentStatus.CommunicationLost",
        None,
        0,
        Some(&COMMFAULT_INFO),
    ),
    InfoRow::new("BOOL", 0, 0, "UPS.PresentStatus.Discharging", None, 0, Some(&DISCHARGING_INFO)),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PresentStatus.NeedReplacement",
        None,
        0,
        Some(&REPLACEBATT_INFO),
    ),
    InfoRow::new("BOOL", 0, 0, "UPS.PresentStatus.Overload", None, 0, Some(&OVERLOAD_INFO)),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PresentStatus.RemainingTimeLimitExpired",
        None,
        0,
        Some(&TIMELIMITEXPIRED_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PresentStatus.ShutdownImminent",
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
    InfoRow::new("battery.charge", 0, 0, "UPS.Battery.RemainingCapacity", Some("%.0f"), 0, None),
    InfoRow::new(
        "battery.charge.low",
        0,
        0,
        "UPS.PowerSummary.RemainingCapacityLimit",
        Some("%.0f"),
        0,
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
    InfoRow::new("battery.runtime", 0, 0, "UPS.PowerSummary.RunTimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new(
        "battery.date",
        0,
        0,
        "UPS.Battery.ManufacturerDate",
        Some("%s"),
        HU_FLAG_STATIC,
        Some(&DATE_CONVERSION),
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
        "ups.beeper.status",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("%s"),
        0,
        Some(&POWERCOM_BEEPER_INFO),
    ),
    InfoRow::new(
        "ups.beeper.status",
        0,
        0,
        "UPS.AudibleAlarmControl",
        Some("%s"),
        0,
        Some(&POWERCOM_BEEPER_INFO),
    ),
    InfoRow::new("ups.load", 0, 0, "UPS.Output.PercentLoad", Some("%.0f"), 0, None),
    InfoRow::new(
        "ups.date",
        0,
        0,
        "UPS.PowerSummary.ManufacturerDate",
        Some("%s"),
        HU_FLAG_STATIC,
        Some(&DATE_CONVERSION),
    ),
    InfoRow::new("ups.test.result", 0, 0, "UPS.Battery.Test", Some("%s"), 0, Some(&TEST_READ_INFO)),
    InfoRow::new(
        "ups.delay.start",
        ST_FLAG_RW | ST_FLAG_STRING,
        8,
        "UPS.PowerSummary.DelayBeforeStartup",
        Some("60"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.timer.start",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeStartup",
        Some("%.0f"),
        0,
        Some(&POWERCOM_STARTUP_INFO),
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        8,
        "UPS.PowerSummary.DelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.timer.shutdown",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeShutdown",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_SHUTDOWN_INFO),
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        8,
        "UPS.PowerSummary.PCMDelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.timer.shutdown",
        0,
        0,
        "UPS.PowerSummary.PCMDelayBeforeShutdown",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_SHUTDOWN_INFO),
    ),
    InfoRow::new("input.voltage", 0, 0, "UPS.Input.Voltage", Some("%.1f"), 0, None),
    InfoRow::new(
        "input.voltage.nominal",
        0,
        0,
        "UPS.Input.ConfigVoltage",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new("input.frequency", 0, 0, "UPS.Input.Frequency", Some("%.1f"), 0, None),
    InfoRow::new("output.voltage", 0, 0, "UPS.Output.Voltage", Some("%.1f"), 0, None),
    InfoRow::new(
        "output.voltage.nominal",
        0,
        0,
        "UPS.Output.ConfigVoltage",
        Some("%.0f"),
        HU_FLAG_STATIC,
        None,
    ),
    InfoRow::new("output.frequency", 0, 0, "UPS.Output.Frequency", Some("%.1f"), 0, None),
    InfoRow::new(
        "beeper.toggle",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.enable",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.disable",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("0"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "test.battery.start.quick",
        0,
        0,
        "UPS.Battery.Test",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.on.delay",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeStartup",
        None,
        HU_TYPE_CMD,
        Some(&POWERCOM_STARTUP_INFO),
    ),
    InfoRow::new(
        "shutdown.return",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeShutdown",
        None,
        HU_TYPE_CMD,
        Some(&POWERCOM_SHUTDOWN_INFO),
    ),
    InfoRow::new(
        "shutdown.stayoff",
        0,
        0,
        "UPS.PowerSummary.DelayBeforeShutdown",
        None,
        HU_TYPE_CMD,
        Some(&POWERCOM_STAYOFF_INFO),
    ),
    InfoRow::new(
        "load.on",
        0,
        0,
        "UPS.PowerSummary.PCMDelayBeforeStartup",
        Some("0"),
        HU_TYPE_CMD,
        Some(&POWERCOM_STARTUP_INFO),
    ),
    InfoRow::new(
        "load.off",
        0,
        0,
        "UPS.PowerSummary.PCMDelayBeforeShutdown",
        Some("0"),
        HU_TYPE_CMD,
        Some(&POWERCOM_STAYOFF_INFO),
    ),
    InfoRow::new(
        "shutdown.return",
        0,
        0,
        "UPS.PowerSummary.PCMDelayBeforeShutdown",
        None,
        HU_TYPE_CMD,
        Some(&POWERCOM_SHUTDOWN_INFO),
    ),
    InfoRow::new(
        "shutdown.stayoff",
        0,
        0,
        "UPS.PowerSummary.PCMDelayBeforeShutdown",
        None,
        HU_TYPE_CMD,
        Some(&POWERCOM_STAYOFF_INFO),
    ),
    InfoRow::new(
        "ups.serial",
        0,
        0,
        "PowercomUPS.PowercomSerialNumber",
        Some("%s"),
        0,
        Some(&STRINGID_CONVERSION),
    ),
    InfoRow::new(
        "ups.mfr",
        0,
        0,
        "PowercomUPS.PowercomManufacturerName",
        Some("%s"),
        0,
        Some(&STRINGID_CONVERSION),
    ),
    InfoRow::new(
        "ups.mfr.date",
        0,
        0,
        "PowercomUPS.PowercomManufacturerDate",
        Some("%s"),
        0,
        Some(&DATE_CONVERSION),
    ),
    InfoRow::new(
        "battery.temperature",
        0,
        0,
        "PowercomUPS.PowercomBatterySystem.PowercomTemperature",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new("battery.temperature", 0, 0, "UPS.Battery.Temperature", Some("%.1f"), 0, None),
    InfoRow::new(
        "battery.charge",
        0,
        0,
        "PowercomUPS.PowercomBatterySystem.PowercomVoltage",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.frequency",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomInput.PowercomFrequency",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.voltage",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomInput.PowercomVoltage",
        Some("%.0f"),
        0,
        Some(&POWERCOM_VOLTAGE_CONVERSION),
    ),
    InfoRow::new(
        "output.voltage",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomVoltage",
        Some("%.0f"),
        0,
        Some(&POWERCOM_VOLTAGE_CONVERSION),
    ),
    InfoRow::new(
        "ups.load",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPercentLoad",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomInternalChargeController",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_UPSFAIL_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomInternalChargeController",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_REPLACEBATT_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomInternalChargeController",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_TEST_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomInternalChargeController",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_SHUTDOWNIMM_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPrimaryBatterySupport",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_ONLINE_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPrimaryBatterySupport",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_LOWBATT_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPrimaryBatterySupport",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_TRIM_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPrimaryBatterySupport",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_BOOST_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomPrimaryBatterySupport",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&POWERCOM_OVERLOAD_CONVERSION),
    ),
    InfoRow::new(
        "output.frequency",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomOutput.PowercomFrequency",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "ups.test.result",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomTest",
        Some("%s"),
        0,
        Some(&TEST_READ_INFO),
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomDelayBeforeShutdown",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "ups.delay.start",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomDelayBeforeStartup",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "load.off",
        0,
        0,
        "PowercomUPS.PowercomPowerConverter.PowercomDelayBeforeShutdown",
        Some("0"),
        HU_TYPE_CMD,
        None,
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 12);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "powercom",
    version: "PowerCOM HID 0.6",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x0d9f, "PowerCOM")],
        productid_vids: &[0x0d9f],
        refused: &[super::Refusal {
            vendor_id: 0x0d9f,
            product_id: 0x0002,
            use_driver: Some("powercom"),
        }],
        string_gate: None,
        effects: &[super::ClaimEffect::InterruptOnly { product_id: 0x0001, size: 8 }],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("PowerCOM"),
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
