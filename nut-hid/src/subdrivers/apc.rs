//! `APC HID 0.98` subdriver data (NUT 2.8.0 `drivers/apc-hid.c`).
//!
//! American Power Conversion (`051d`). Back-UPS and Smart-UPS models; many
//! values exist under several paths (PowerSummary, Battery, Output, the APC
//! vendor collection), the first existing path wins.
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::common::{
    BEEPER_INFO, CHARGING_INFO, DATE_CONVERSION, DISCHARGING_INFO, KELVIN_CELSIUS_CONVERSION,
    LOWBATT_INFO, NOBATTERY_INFO, ONLINE_INFO, OVERLOAD_INFO, REPLACEBATT_INFO, SHUTDOWNIMM_INFO,
    STRINGID_CONVERSION, TEST_READ_INFO, TIMELIMITEXPIRED_INFO,
};
use super::flags::{
    HU_FLAG_ABSENT, HU_FLAG_QUICK_POLL, HU_FLAG_SEMI_STATIC, HU_TYPE_CMD, ST_FLAG_RW,
    ST_FLAG_STRING,
};
use super::{
    ClaimRule, Conv, IdHook, Identity, InfoRow, InfoTable, LookupRow, LookupTable, MfrRule,
    ModelRule, Quirk, SerialRule, Subdriver, Usage, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// NUT table `apc_date_conversion`.
pub static APC_DATE_CONVERSION: LookupTable =
    LookupTable { name: "apc_date_conversion", rows: &[], conv: Some(Conv::ApcDateConversion) };

/// NUT table `apcstatusflag_info`.
pub static APCSTATUSFLAG_INFO: LookupTable = LookupTable {
    name: "apcstatusflag_info",
    rows: &[LookupRow::new(8, "!off"), LookupRow::new(16, "!off"), LookupRow::new(0, "off")],
    conv: None,
};

/// NUT table `apc_linefailcause_vrange_info`.
pub static APC_LINEFAILCAUSE_VRANGE_INFO: LookupTable = LookupTable {
    name: "apc_linefailcause_vrange_info",
    rows: &[
        LookupRow::new(1, "vrange"),
        LookupRow::new(2, "vrange"),
        LookupRow::new(4, "vrange"),
        LookupRow::new(8, "vrange"),
        LookupRow::new(9, "vrange"),
        LookupRow::new(0, "!vrange"),
    ],
    conv: None,
};

/// NUT table `apc_linefailcause_frange_info`.
pub static APC_LINEFAILCAUSE_FRANGE_INFO: LookupTable = LookupTable {
    name: "apc_linefailcause_frange_info",
    rows: &[LookupRow::new(7, "frange"), LookupRow::new(0, "!frange")],
    conv: None,
};

/// NUT table `apc_sensitivity_info`.
pub static APC_SENSITIVITY_INFO: LookupTable = LookupTable {
    name: "apc_sensitivity_info",
    rows: &[LookupRow::new(0, "low"), LookupRow::new(1, "medium"), LookupRow::new(2, "high")],
    conv: None,
};

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[
    &APC_DATE_CONVERSION,
    &APCSTATUSFLAG_INFO,
    &APC_LINEFAILCAUSE_VRANGE_INFO,
    &APC_LINEFAILCAUSE_FRANGE_INFO,
    &APC_SENSITIVITY_INFO,
];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[
    Usage::new("APCGeneralCollection", 0xff860005),
    Usage::new("APCEnvironment", 0xff860006),
    Usage::new("APCProbe1", 0xff860007),
    Usage::new("APCProbe2", 0xff860008),
    Usage::new("APCBattReplaceDate", 0xff860016),
    Usage::new("APCBattCapBeforeStartup", 0xff860019),
    Usage::new("APC_UPS_FirmwareRevision", 0xff860042),
    Usage::new("APCLineFailCause", 0xff860052),
    Usage::new("APCStatusFlag", 0xff860060),
    Usage::new("APCSensitivity", 0xff860061),
    Usage::new("APCPanelTest", 0xff860072),
    Usage::new("APCShutdownAfterDelay", 0xff860076),
    Usage::new("APC_USB_FirmwareRevision", 0xff860079),
    Usage::new("APCDelayBeforeReboot", 0xff86007c),
    Usage::new("APCDelayBeforeShutdown", 0xff86007d),
    Usage::new("APCDelayBeforeStartup", 0xff86007e),
    Usage::new("BUPHibernate", 0x00850058),
    Usage::new("BUPBattCapBeforeStartup", 0x00860012),
    Usage::new("BUPDelayBeforeStartup", 0x00860076),
    Usage::new("BUPSelfTest", 0x00860010),
]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[
    UsbId::new(0x051d, 0x0000, None),
    UsbId::new(0x051d, 0x0002, Some(IdHook::ApcMaxReportTweak)),
    UsbId::new(0x051d, 0x0003, Some(IdHook::DisableInterruptPipe)),
];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[
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
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.PowerSummary.RemainingCapacityLimit",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
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
    InfoRow::new("battery.runtime", 0, 0, "UPS.Battery.RunTimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new("battery.runtime", 0, 0, "UPS.PowerSummary.RunTimeToEmpty", Some("%.0f"), 0, None),
    InfoRow::new(
        "battery.runtime.low",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Battery.RemainingTimeLimit",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "battery.runtime.low",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.PowerSummary.RemainingTimeLimit",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new("battery.voltage", 0, 0, "UPS.Battery.Voltage", Some("%.1f"), 0, None),
    InfoRow::new("battery.voltage", 0, 0, "UPS.PowerSummary.Voltage", Some("%.1f"), 0, None),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.Battery.ConfigVoltage",
        Some("%.1f"),
        0,
        None,
    ),
    InfoRow::new(
        "battery.voltage.nominal",
        0,
        0,
        "UPS.PowerSummary.ConfigVoltage",
        Some("%.1f"),
        0,
        None,
    ),
    InfoRow::new(
        "battery.temperature",
        0,
        0,
        "UPS.Battery.Temperature",
        Some("%s"),
        0,
        Some(&KELVIN_CELSIUS_CONVERSION),
    ),
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
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Battery.ManufacturerDate",
        Some("%s"),
        HU_FLAG_SEMI_STATIC,
        Some(&DATE_CONVERSION),
    ),
    InfoRow::new(
        "battery.mfr.date",
        0,
        0,
        "UPS.PowerSummary.APCBattReplaceDate",
        Some("%s"),
        0,
        Some(&APC_DATE_CONVERSION),
    ),
    InfoRow::new(
        "battery.date",
        0,
        0,
        "UPS.Battery.APCBattReplaceDate",
        Some("%s"),
        0,
        Some(&APC_DATE_CONVERSION),
    ),
    InfoRow::new("ups.load", 0, 0, "UPS.Output.PercentLoad", Some("%.1f"), 0, None),
    InfoRow::new("ups.load", 0, 0, "UPS.PowerConverter.PercentLoad", Some("%.0f"), 0, None),
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
        "ups.delay.start",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.APCGeneralCollection.APCDelayBeforeStartup",
        Some("30"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.delay.shutdown",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        Some("20"),
        HU_FLAG_ABSENT,
        None,
    ),
    InfoRow::new(
        "ups.timer.start",
        0,
        0,
        "UPS.APCGeneralCollection.APCDelayBeforeStartup",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.shutdown",
        0,
        0,
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new(
        "ups.timer.reboot",
        0,
        0,
        "UPS.APCGeneralCollection.APCDelayBeforeReboot",
        Some("%.0f"),
        HU_FLAG_QUICK_POLL,
        None,
    ),
    InfoRow::new("ups.test.result", 0, 0, "UPS.Battery.Test", Some("%s"), 0, Some(&TEST_READ_INFO)),
    InfoRow::new(
        "ups.beeper.status",
        0,
        0,
        "UPS.PowerSummary.AudibleAlarmControl",
        Some("%s"),
        0,
        Some(&BEEPER_INFO),
    ),
    InfoRow::new(
        "ups.mfr.date",
        0,
        0,
        "UPS.ManufacturerDate",
        Some("%s"),
        0,
        Some(&DATE_CONVERSION),
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
        "ups.realpower.nominal",
        0,
        0,
        "UPS.PowerConverter.ConfigActivePower",
        Some("%.0f"),
        0,
        None,
    ),
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
        HU_FLAG_QUICK_POLL,
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
        "UPS.PowerSummary.PresentStatus.BatteryPresent",
        None,
        0,
        Some(&NOBATTERY_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.Charging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&CHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.Discharging",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&DISCHARGING_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.ACPresent",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&ONLINE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.BelowRemainingCapacityLimit",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&LOWBATT_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.ShutdownImminent",
        None,
        0,
        Some(&SHUTDOWNIMM_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.PowerSummary.APCStatusFlag",
        None,
        HU_FLAG_QUICK_POLL,
        Some(&APCSTATUSFLAG_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.Input.APCLineFailCause",
        None,
        0,
        Some(&APC_LINEFAILCAUSE_VRANGE_INFO),
    ),
    InfoRow::new(
        "BOOL",
        0,
        0,
        "UPS.Input.APCLineFailCause",
        None,
        0,
        Some(&APC_LINEFAILCAUSE_FRANGE_INFO),
    ),
    InfoRow::new("input.voltage", 0, 0, "UPS.Input.Voltage", Some("%.1f"), 0, None),
    InfoRow::new("input.voltage.nominal", 0, 0, "UPS.Input.ConfigVoltage", Some("%.0f"), 0, None),
    InfoRow::new(
        "input.transfer.low",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Output.LowVoltageTransfer",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
    InfoRow::new(
        "input.transfer.high",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Output.HighVoltageTransfer",
        Some("%.0f"),
        HU_FLAG_SEMI_STATIC,
        None,
    ),
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
    InfoRow::new(
        "input.sensitivity",
        ST_FLAG_RW | ST_FLAG_STRING,
        10,
        "UPS.Input.APCSensitivity",
        Some("%s"),
        HU_FLAG_SEMI_STATIC,
        Some(&APC_SENSITIVITY_INFO),
    ),
    InfoRow::new("output.voltage", 0, 0, "UPS.Output.Voltage", Some("%.1f"), 0, None),
    InfoRow::new("output.voltage.nominal", 0, 0, "UPS.Output.ConfigVoltage", Some("%.1f"), 0, None),
    InfoRow::new("output.current", 0, 0, "UPS.Output.Current", Some("%.2f"), 0, None),
    InfoRow::new("output.frequency", 0, 0, "UPS.Output.Frequency", Some("%.1f"), 0, None),
    InfoRow::new(
        "ambient.temperature",
        0,
        0,
        "UPS.APCEnvironment.APCProbe1.Temperature",
        Some("%s"),
        0,
        Some(&KELVIN_CELSIUS_CONVERSION),
    ),
    InfoRow::new(
        "ambient.humidity",
        0,
        0,
        "UPS.APCEnvironment.APCProbe1.Humidity",
        Some("%.1f"),
        0,
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
        "test.battery.start.quick",
        0,
        0,
        "UPS.Battery.Test",
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
    InfoRow::new("test.battery.start.deep", 0, 0, "UPS.Battery.Test", Some("2"), HU_TYPE_CMD, None),
    InfoRow::new(
        "test.battery.stop",
        0,
        0,
        "UPS.BatterySystem.Battery.Test",
        Some("3"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new("test.battery.stop", 0, 0, "UPS.Battery.Test", Some("3"), HU_TYPE_CMD, None),
    InfoRow::new("test.panel.start", 0, 0, "UPS.APCPanelTest", Some("1"), HU_TYPE_CMD, None),
    InfoRow::new("test.panel.stop", 0, 0, "UPS.APCPanelTest", Some("0"), HU_TYPE_CMD, None),
    InfoRow::new(
        "test.panel.start",
        0,
        0,
        "UPS.PowerSummary.APCPanelTest",
        Some("1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "test.panel.stop",
        0,
        0,
        "UPS.PowerSummary.APCPanelTest",
        Some("0"),
        HU_TYPE_CMD,
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
        "load.off.delay",
        0,
        0,
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        Some("20"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "load.on.delay",
        0,
        0,
        "UPS.APCGeneralCollection.APCDelayBeforeStartup",
        Some("30"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.stop",
        0,
        0,
        "UPS.APCGeneralCollection.APCDelayBeforeShutdown",
        Some("-1"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.reboot",
        0,
        0,
        "UPS.APCGeneralCollection.APCDelayBeforeReboot",
        Some("10"),
        HU_TYPE_CMD,
        None,
    ),
    InfoRow::new(
        "shutdown.return",
        0,
        0,
        "UPS.Output.APCDelayBeforeReboot",
        Some("1"),
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
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 2);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "apc",
    version: "APC HID 0.98",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: false,
        hint: &[(0x051d, "APC")],
        productid_vids: &[0x051d],
        refused: &[],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::VendorOr("APC"),
        model: ModelRule::ApcFirmwareSplit,
        serial: SerialRule::Serial,
    },
    quirks: &[Quirk::ApcVoltageRangeFix],
};

/// Product-string prefixes for which NUT turns on the `maxreport` tweak
/// (051d:0002): GET_REPORT asks for a fixed length.
pub static MAX_REPORT_PRODUCTS: &[&str] = &["Back-UPS ES 525", "Back-UPS CS"];

/// Whether NUT's `maxreport` tweak applies to this product string.
pub fn wants_max_report(product: &str) -> bool {
    MAX_REPORT_PRODUCTS.iter().any(|p| product.starts_with(p))
}

/// What NUT's APC model formatting makes of the USB product string:
/// (`ups.model`, `ups.firmware`, `ups.firmware.aux`).
///
/// NUT copies the product into a 64-byte buffer (so at most 63 bytes are
/// kept), then, if it contains `FW:`, cuts the model one character before
/// it and takes the rest as the firmware; inside that rest a `USB FW:` cuts
/// the firmware the same way and gives the auxiliary firmware.
pub fn split_model(product: &str) -> (&str, Option<&str>, Option<&str>) {
    let mut end = product.len().min(63);
    while !product.is_char_boundary(end) {
        end -= 1;
    }
    let product = product.get(..end).unwrap_or(product);
    let Some(pos) = product.find("FW:") else {
        return (product, None, None);
    };
    let model = product.get(..cut_before(product, pos)).unwrap_or("");
    let rest = product.get(pos + 3..).unwrap_or("");
    match rest.find("USB FW:") {
        Some(p2) => (
            model,
            Some(rest.get(..cut_before(rest, p2)).unwrap_or("")),
            Some(rest.get(p2 + 7..).unwrap_or("")),
        ),
        None => (model, Some(rest), None),
    }
}

/// The index one character before `pos` (NUT overwrites that character
/// with the string end), or 0.
fn cut_before(s: &str, pos: usize) -> usize {
    s.get(..pos).and_then(|h| h.char_indices().last()).map_or(0, |(i, _)| i)
}
