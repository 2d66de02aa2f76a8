//! `Belkin/Liebert HID 0.18` subdriver data (NUT 2.8.0 `drivers/belkin-hid.c`).
//!
//! Belkin (`050d`, with vendor usages on page 0x86 and a packed status word)
//! and Liebert (`10af`, PSA/GXT units whose exponents are sometimes broken).
//!
//! Beyond 2.8.0: NUT 2.8.2 added 10af:0000 (GXT4) and 10af:0002 (PowerSure
//! PSI5) to this table (marked with [`UsbId::since`]); we also take 10af:1000
//! (GXT5, in no NUT table, served by 2.8.0 with `productid=`); later NUT also reads
//! 10af:0002's descriptor at HID index 1 and widened the exponent fix-up.
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{BEEPER_INFO, DATE_CONVERSION, DIVIDE_BY_10_CONVERSION, STRINGID_CONVERSION};
use super::flags::{
    HU_FLAG_ABSENT, HU_FLAG_QUICK_POLL, HU_FLAG_STATIC, HU_TYPE_CMD, ST_FLAG_RW, ST_FLAG_STRING,
};
use super::{
    ClaimRule, Conv, Identity, InfoRow, InfoTable, LookupRow, LookupTable, MfrRule, ModelRule,
    Quirk, SerialRule, Subdriver, Usage, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// NUT table `liebert_online_info`.
pub static LIEBERT_ONLINE_INFO: LookupTable =
    LookupTable { name: "liebert_online_info", rows: &[], conv: Some(Conv::LiebertOnlineInfo) };

/// NUT table `liebert_discharging_info`.
pub static LIEBERT_DISCHARGING_INFO: LookupTable = LookupTable {
    name: "liebert_discharging_info",
    rows: &[],
    conv: Some(Conv::LiebertDischargingInfo),
};

/// NUT table `liebert_charging_info`.
pub static LIEBERT_CHARGING_INFO: LookupTable =
    LookupTable { name: "liebert_charging_info", rows: &[], conv: Some(Conv::LiebertChargingInfo) };

/// NUT table `liebert_lowbatt_info`.
pub static LIEBERT_LOWBATT_INFO: LookupTable =
    LookupTable { name: "liebert_lowbatt_info", rows: &[], conv: Some(Conv::LiebertLowbattInfo) };

/// NUT table `liebert_replacebatt_info`.
pub static LIEBERT_REPLACEBATT_INFO: LookupTable = LookupTable {
    name: "liebert_replacebatt_info",
    rows: &[],
    conv: Some(Conv::LiebertReplacebattInfo),
};

/// NUT table `liebert_shutdownimm_info`.
pub static LIEBERT_SHUTDOWNIMM_INFO: LookupTable = LookupTable {
    name: "liebert_shutdownimm_info",
    rows: &[],
    conv: Some(Conv::LiebertShutdownimmInfo),
};

/// NUT table `liebert_config_voltage_info`.
pub static LIEBERT_CONFIG_VOLTAGE_INFO: LookupTable = LookupTable {
    name: "liebert_config_voltage_info",
    rows: &[],
    conv: Some(Conv::LiebertConfigVoltageInfo),
};

/// NUT table `liebert_line_voltage_info`.
pub static LIEBERT_LINE_VOLTAGE_INFO: LookupTable = LookupTable {
    name: "liebert_line_voltage_info",
    rows: &[],
    conv: Some(Conv::LiebertLineVoltageInfo),
};

/// NUT table `belkin_firmware_conversion`.
pub static BELKIN_FIRMWARE_CONVERSION: LookupTable = LookupTable {
    name: "belkin_firmware_conversion",
    rows: &[],
    conv: Some(Conv::BelkinFirmwareConversion),
};

/// NUT table `belkin_upstype_conversion`.
pub static BELKIN_UPSTYPE_CONVERSION: LookupTable = LookupTable {
    name: "belkin_upstype_conversion",
    rows: &[],
    conv: Some(Conv::BelkinUpstypeConversion),
};

/// NUT table `belkin_sensitivity_conversion`.
pub static BELKIN_SENSITIVITY_CONVERSION: LookupTable = LookupTable {
    name: "belkin_sensitivity_conversion",
    rows: &[],
    conv: Some(Conv::BelkinSensitivityConversion),
};

/// NUT table `belkin_test_info`.
pub static BELKIN_TEST_INFO: LookupTable = LookupTable {
    name: "belkin_test_info",
    rows: &[
        LookupRow::new(0, "No test initiated"),
        LookupRow::new(1, "Done and passed"),
        LookupRow::new(2, "Done and warning"),
        LookupRow::new(3, "Done and error"),
        LookupRow::new(4, "Aborted"),
        LookupRow::new(5, "In progress"),
    ],
    conv: None,
};

/// NUT table `belkin_overload_conversion`.
pub static BELKIN_OVERLOAD_CONVERSION: LookupTable = LookupTable {
    name: "belkin_overload_conversion",
    rows: &[],
    conv: Some(Conv::BelkinOverloadConversion),
};

/// NUT table `belkin_overheat_conversion`.
pub static BELKIN_OVERHEAT_CONVERSION: LookupTable = LookupTable {
    name: "belkin_overheat_conversion",
    rows: &[],
    conv: Some(Conv::BelkinOverheatConversion),
};

/// NUT table `belkin_commfault_conversion`.
pub static BELKIN_COMMFAULT_CONVERSION: LookupTable = LookupTable {
    name: "belkin_commfault_conversion",
    rows: &[],
    conv: Some(Conv::BelkinCommfaultConversion),
};

/// NUT table `belkin_awaitingpower_conversion`.
pub static BELKIN_AWAITINGPOWER_CONVERSION: LookupTable = LookupTable {
    name: "belkin_awaitingpower_conversion",
    rows: &[],
    conv: Some(Conv::BelkinAwaitingpowerConversion),
};

/// NUT table `belkin_online_conversion`.
pub static BELKIN_ONLINE_CONVERSION: LookupTable = LookupTable {
    name: "belkin_online_conversion",
    rows: &[],
    conv: Some(Conv::BelkinOnlineConversion),
};

/// NUT table `belkin_lowbatt_conversion`.
pub static BELKIN_LOWBATT_CONVERSION: LookupTable = LookupTable {
    name: "belkin_lowbatt_conversion",
    rows: &[],
    conv: Some(Conv::BelkinLowbattConversion),
};

/// NUT table `belkin_depleted_conversion`.
pub static BELKIN_DEPLETED_CONVERSION: LookupTable = LookupTable {
    name: "belkin_depleted_conversion",
    rows: &[],
    conv: Some(Conv::BelkinDepletedConversion),
};

/// NUT table `belkin_replacebatt_conversion`.
pub static BELKIN_REPLACEBATT_CONVERSION: LookupTable = LookupTable {
    name: "belkin_replacebatt_conversion",
    rows: &[],
    conv: Some(Conv::BelkinReplacebattConversion),
};

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[
    &LIEBERT_ONLINE_INFO,
    &LIEBERT_DISCHARGING_INFO,
    &LIEBERT_CHARGING_INFO,
    &LIEBERT_LOWBATT_INFO,
    &LIEBERT_REPLACEBATT_INFO,
    &LIEBERT_SHUTDOWNIMM_INFO,
    &LIEBERT_CONFIG_VOLTAGE_INFO,
    &LIEBERT_LINE_VOLTAGE_INFO,
    &BELKIN_FIRMWARE_CONVERSION,
    &BELKIN_UPSTYPE_CONVERSION,
    &BELKIN_SENSITIVITY_CONVERSION,
    &BELKIN_TEST_INFO,
    &BELKIN_OVERLOAD_CONVERSION,
    &BELKIN_OVERHEAT_CONVERSION,
    &BELKIN_COMMFAULT_CONVERSION,
    &BELKIN_AWAITINGPOWER_CONVERSION,
    &BELKIN_ONLINE_CONVERSION,
    &BELKIN_LOWBATT_CONVERSION,
    &BELKIN_DEPLETED_CONVERSION,
    &BELKIN_REPLACEBATT_CONVERSION,
];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[
    Usage::new("BELKINConfig", 0x00860026),
    Usage::new("BELKINConfigVoltage", 0x00860040),
    Usage::new("BELKINConfigFrequency", 0x00860042),
    Usage::new("BELKINConfigApparentPower", 0x00860043),
    Usage::new("BELKINConfigBatteryVoltage", 0x00860044),
    Usage::new("BELKINConfigOverloadTransfer", 0x00860045),
    Usage::new("BELKINLowVoltageTransfer", 0x00860053),
    Usage::new("BELKINHighVoltageTransfer", 0x00860054),
    Usage::new("BELKINLowVoltageTransferMax", 0x0086005b),
    Usage::new("BELKINLowVoltageTransferMin", 0x0086005c),
    Usage::new("BELKINHighVoltageTransferMax", 0x0086005d),
    Usage::new("BELKINHighVoltageTransferMin", 0x0086005e),
    Usage::new("BELKINControls", 0x00860027),
    Usage::new("BELKINLoadOn", 0x00860050),
    Usage::new("BELKINLoadOff", 0x00860051),
    Usage::new("BELKINLoadToggle", 0x00860052),
    Usage::new("BELKINDelayBeforeReboot", 0x00860055),
    Usage::new("BELKINDelayBeforeStartup", 0x00860056),
    Usage::new("BELKINDelayBeforeShutdown", 0x00860057),
    Usage::new("BELKINTest", 0x00860058),
    Usage::new("BELKINAudibleAlarmControl", 0x0086005a),
    Usage::new("BELKINDevice", 0x00860029),
    Usage::new("BELKINVoltageSensitivity", 0x00860074),
    Usage::new("BELKINModelString", 0x00860075),
    Usage::new("BELKINModelStringOffset", 0x00860076),
    Usage::new("BELKINUPSType", 0x0086007c),
    Usage::new("BELKINPowerState", 0x0086002a),
    Usage::new("BELKINInput", 0x0086001a),
    Usage::new("BELKINOutput", 0x0086001c),
    Usage::new("BELKINBatterySystem", 0x00860010),
    Usage::new("BELKINVoltage", 0x00860030),
    Usage::new("BELKINFrequency", 0x00860032),
    Usage::new("BELKINPower", 0x00860034),
    Usage::new("BELKINPercentLoad", 0x00860035),
    Usage::new("BELKINTemperature", 0x00860036),
    Usage::new("BELKINCharge", 0x00860039),
    Usage::new("BELKINRunTimeToEmpty", 0x0086006c),
    Usage::new("BELKINStatus", 0x00860028),
    Usage::new("BELKINBatteryStatus", 0x00860022),
    Usage::new("BELKINPowerStatus", 0x00860021),
]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[
    UsbId::new(0x050d, 0x0980, None),
    UsbId::new(0x050d, 0x0900, None),
    UsbId::new(0x050d, 0x0910, None),
    UsbId::new(0x050d, 0x0912, None),
    UsbId::new(0x050d, 0x0551, None),
    UsbId::new(0x050d, 0x0750, None),
    UsbId::new(0x050d, 0x0751, None),
    UsbId::new(0x050d, 0x0375, None),
    UsbId::new(0x050d, 0x0f51, None),
    UsbId::new(0x050d, 0x1100, None),
    UsbId::new(0x10af, 0x0004, None),
    UsbId::new(0x10af, 0x0001, None),
    UsbId::new(0x10af, 0x0008, None),
    // Liebert GXT4 (added in NUT 2.8.2, not claimed by 2.8.0)
    UsbId::later(0x10af, 0x0000, "2.8.2"),
    // Liebert PowerSure PSI5 (added in NUT 2.8.2, not claimed by 2.8.0)
    UsbId::later(0x10af, 0x0002, "2.8.2"),
    // Liebert (Vertiv) GXT5: in no NUT table; NUT 2.8.0 serves it correctly with
    // `productid=1000` (NUT issue 3613), so ours takes it by default.
    UsbId::later(0x10af, 0x1000, "beyond NUT (issue 3613)"),
];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
    InfoRow::new(
        "battery.charge",
        0,
        0,
        "UPS.BELKINBatterySystem.BELKINCharge",
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
        "battery.type",
        0,
        0,
        "UPS.PowerSummary.iDeviceChemistry",
        Some("%s"),
        0,
        Some(&STRINGID_CONVERSION),
    ),
    InfoRow::new(
        "battery.voltage",
        0,
        0,
        "UPS.BELKINBatterySystem.BELKINVoltage",
        Some("%s"),
        0,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.BELKINConfig.BELKINConfigBatteryVoltage",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.frequency",
        0,
        0,
        "UPS.BELKINPowerState.BELKINInput.BELKINFrequency",
        Some("%s"),
        0,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "input.frequency.nominal",
        0,
        0,
        "UPS.BELKINConfig.BELKINConfigFrequency",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.sensitivity",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.BELKINDevice.BELKINVoltageSensitivity",
        Some("%s"),
        0,
        Some(&BELKIN_SENSITIVITY_CONVERSION),
    ),
    InfoRow::new(
        "input.transfer.high",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.BELKINConfig.BELKINHighVoltageTransfer",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.transfer.high.max",
        0,
        0,
        "UPS.BELKINConfig.BELKINHighVoltageTransferMax",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.transfer.high.min",
        0,
        0,
        "UPS.BELKINConfig.BELKINHighVoltageTransferMin",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.transfer.low",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.BELKINConfig.BELKINLowVoltageTransfer",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.transfer.low.max",
        0,
        0,
        "UPS.BELKINConfig.BELKINLowVoltageTransferMax",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.transfer.low.min",
        0,
        0,
        "UPS.BELKINConfig.BELKINLowVoltageTransferMin",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "input.voltage",
        0,
        0,
        "UPS.BELKINPowerState.BELKINInput.BELKINVoltage",
        Some("%s"),
        0,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "input.voltage.nominal",
        0,
        0,
        "UPS.BELKINConfig.BELKINConfigVoltage",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "output.frequency",
        0,
        0,
        "UPS.BELKINPowerState.BELKINOutput.BELKINFrequency",
        Some("%s"),
        0,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "output.voltage",
        0,
        0,
        "UPS.BELKINPowerState.BELKINOutput.BELKINVoltage",
        Some("%s"),
        0,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "ups.beeper.status",
        0,
        0,
        "UPS.BELKINControls.BELKINAudibleAlarmControl",
        Some("%s"),
        0,
        Some(&BEEPER_INFO),
    ),
    InfoRow::new(
        "ups.delay.start",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.BELKINControls.BELKINDelayBeforeStartup",
        Some("30"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.BELKINControls.BELKINDelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.timer.start",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeStartup",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.shutdown",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeShutdown",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.reboot",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeReboot",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.firmware",
        0,
        0,
        "UPS.BELKINDevice.BELKINUPSType",
        Some("%s"),
        0,
        Some(&BELKIN_FIRMWARE_CONVERSION),
    ),
    InfoRow::new(
        "ups.load",
        0,
        0,
        "UPS.BELKINPowerState.BELKINOutput.BELKINPercentLoad",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "ups.load.high",
        0,
        0,
        "UPS.BELKINConfig.BELKINConfigOverloadTransfer",
        Some("%.0f"),
        0,
        None,
    ),
    InfoRow::new(
        "ups.mfr.date",
        0,
        0,
        "UPS.PowerSummary.ManufacturerDate",
        Some("%s"),
        0,
        Some(&DATE_CONVERSION),
    ),
    InfoRow::new(
        "ups.power.nominal",
        0,
        0,
        "UPS.BELKINConfig.BELKINConfigApparentPower",
        Some("%.0f"),
        0,
        None,
    ),
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
        "ups.test.result",
        0,
        0,
        "UPS.BELKINControls.BELKINTest",
        Some("%s"),
        0,
        Some(&BELKIN_TEST_INFO),
    ),
    InfoRow::new(
        "ups.type",
        0,
        0,
        "UPS.BELKINDevice.BELKINUPSType",
        Some("%s"),
        0,
        Some(&BELKIN_UPSTYPE_CONVERSION),
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
        "input.frequency",
        0,
        0,
        "UPS.Input.Frequency",
        Some("%s"),
        0,
        Some(&DIVIDE_BY_10_CONVERSION),
    ),
    InfoRow::new(
        "input.voltage",
        0,
        0,
        "UPS.Input.Voltage",
        Some("%s"),
        0,
        Some(&LIEBERT_LINE_VOLTAGE_INFO),
    ),
    InfoRow::new(
        "output.voltage",
        0,
        0,
        "UPS.Output.Voltage",
        Some("%s"),
        0,
        Some(&LIEBERT_LINE_VOLTAGE_INFO),
    ),
    InfoRow::new(
        "battery.voltage",
        0,
        0,
        "UPS.PowerSummary.Voltage",
        Some("%s"),
        0,
        Some(&LIEBERT_LINE_VOLTAGE_INFO),
    ),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.PowerSummary.ConfigVoltage",
        Some("%s"),
        HU_FLAG_STATIC,
        Some(&LIEBERT_CONFIG_VOLTAGE_INFO),
    ),
    InfoRow::new("ups.load", 0, 0, "UPS.Output.PercentLoad", Some("%.0f"), 0, None),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.Discharging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_DISCHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.Charging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_CHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.ShutdownImminent",
        None,
        0,
        Some(&LIEBERT_SHUTDOWNIMM_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.ACPresent",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_ONLINE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Discharging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_DISCHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.Charging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_CHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.ShutdownImminent",
        None,
        0,
        Some(&LIEBERT_SHUTDOWNIMM_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.ACPresent",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_ONLINE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_REPLACEBATT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LIEBERT_LOWBATT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINPowerStatus",
        None,
        0,
        Some(&BELKIN_OVERLOAD_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINPowerStatus",
        None,
        0,
        Some(&BELKIN_OVERHEAT_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINPowerStatus",
        None,
        0,
        Some(&BELKIN_COMMFAULT_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINPowerStatus",
        None,
        0,
        Some(&BELKIN_AWAITINGPOWER_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINPowerStatus",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&BELKIN_ONLINE_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINBatteryStatus",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&BELKIN_DEPLETED_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINBatteryStatus",
        None,
        0,
        Some(&BELKIN_REPLACEBATT_CONVERSION),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.BELKINStatus.BELKINBatteryStatus",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&BELKIN_LOWBATT_CONVERSION),
    ),
    InfoRow::new(
        "test.battery.start.quick",
        0,
        0,
        "UPS.BELKINControls.BELKINTest",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "test.battery.start.deep",
        0,
        0,
        "UPS.BELKINControls.BELKINTest",
        Some("2"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "test.battery.stop",
        0,
        0,
        "UPS.BELKINControls.BELKINTest",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.on",
        0,
        0,
        "UPS.BELKINControls.BELKINAudibleAlarmControl",
        Some("2"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.off",
        0,
        0,
        "UPS.BELKINControls.BELKINAudibleAlarmControl",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.disable",
        0,
        0,
        "UPS.BELKINControls.BELKINAudibleAlarmControl",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.enable",
        0,
        0,
        "UPS.BELKINControls.BELKINAudibleAlarmControl",
        Some("2"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "beeper.mute",
        0,
        0,
        "UPS.BELKINControls.BELKINAudibleAlarmControl",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.off",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeShutdown",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.on",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeStartup",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.off.delay",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeShutdown",
        Some("20"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.on.delay",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeStartup",
        Some("30"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.stop",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeShutdown",
        Some("-1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.reboot",
        0,
        0,
        "UPS.BELKINControls.BELKINDelayBeforeReboot",
        Some("10"),
        HU_TYPE_CMD,
        None,
    ),
];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 4);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "belkin",
    version: "Belkin/Liebert HID 0.18",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x050d, "Belkin"), (0x10af, "Liebert")],
        productid_vids: &[0x050d, 0x10af],
        refused: &[super::Refusal { vendor_id: 0x050d, product_id: 0x0218, use_driver: None }],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorTrimmedOr("Belkin"),
        model: ModelRule::ProductOrUnknown,
        serial: SerialRule::SerialOrHidString("UPS.PowerSummary.iSerialNumber"),
    },
    quirks: &[Quirk::LiebertExponentFix],
};
