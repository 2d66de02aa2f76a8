//! The lookup tables every subdriver shares (NUT 2.8.0 `usbhid-ups.c`).
//!
//! Generated data: value/text rows transcribed from NUT; do not edit by hand.

use super::{Conv, LookupRow, LookupTable};

/// NUT table `online_info`.
pub static ONLINE_INFO: LookupTable = LookupTable {
    name: "online_info",
    rows: &[LookupRow::new(1, "online"), LookupRow::new(0, "!online")],
    conv: None,
};

/// NUT table `discharging_info`.
pub static DISCHARGING_INFO: LookupTable = LookupTable {
    name: "discharging_info",
    rows: &[LookupRow::new(1, "dischrg"), LookupRow::new(0, "!dischrg")],
    conv: None,
};

/// NUT table `charging_info`.
pub static CHARGING_INFO: LookupTable = LookupTable {
    name: "charging_info",
    rows: &[LookupRow::new(1, "chrg"), LookupRow::new(0, "!chrg")],
    conv: None,
};

/// NUT table `lowbatt_info`.
pub static LOWBATT_INFO: LookupTable = LookupTable {
    name: "lowbatt_info",
    rows: &[LookupRow::new(1, "lowbatt"), LookupRow::new(0, "!lowbatt")],
    conv: None,
};

/// NUT table `overload_info`.
pub static OVERLOAD_INFO: LookupTable = LookupTable {
    name: "overload_info",
    rows: &[LookupRow::new(1, "overload"), LookupRow::new(0, "!overload")],
    conv: None,
};

/// NUT table `replacebatt_info`.
pub static REPLACEBATT_INFO: LookupTable = LookupTable {
    name: "replacebatt_info",
    rows: &[LookupRow::new(1, "replacebatt"), LookupRow::new(0, "!replacebatt")],
    conv: None,
};

/// NUT table `trim_info`.
pub static TRIM_INFO: LookupTable = LookupTable {
    name: "trim_info",
    rows: &[LookupRow::new(1, "trim"), LookupRow::new(0, "!trim")],
    conv: None,
};

/// NUT table `boost_info`.
pub static BOOST_INFO: LookupTable = LookupTable {
    name: "boost_info",
    rows: &[LookupRow::new(1, "boost"), LookupRow::new(0, "!boost")],
    conv: None,
};

/// NUT table `bypass_auto_info`.
pub static BYPASS_AUTO_INFO: LookupTable = LookupTable {
    name: "bypass_auto_info",
    rows: &[LookupRow::new(1, "bypassauto"), LookupRow::new(0, "!bypassauto")],
    conv: None,
};

/// NUT table `bypass_manual_info`.
pub static BYPASS_MANUAL_INFO: LookupTable = LookupTable {
    name: "bypass_manual_info",
    rows: &[LookupRow::new(1, "bypassman"), LookupRow::new(0, "!bypassman")],
    conv: None,
};

/// NUT table `off_info`.
pub static OFF_INFO: LookupTable = LookupTable {
    name: "off_info",
    rows: &[LookupRow::new(0, "off"), LookupRow::new(1, "!off")],
    conv: None,
};

/// NUT table `calibration_info`.
pub static CALIBRATION_INFO: LookupTable = LookupTable {
    name: "calibration_info",
    rows: &[LookupRow::new(1, "cal"), LookupRow::new(0, "!cal")],
    conv: None,
};

/// NUT table `nobattery_info`.
pub static NOBATTERY_INFO: LookupTable = LookupTable {
    name: "nobattery_info",
    rows: &[LookupRow::new(1, "!nobattery"), LookupRow::new(0, "nobattery")],
    conv: None,
};

/// NUT table `fanfail_info`.
pub static FANFAIL_INFO: LookupTable = LookupTable {
    name: "fanfail_info",
    rows: &[LookupRow::new(1, "fanfail"), LookupRow::new(0, "!fanfail")],
    conv: None,
};

/// NUT table `shutdownimm_info`.
pub static SHUTDOWNIMM_INFO: LookupTable = LookupTable {
    name: "shutdownimm_info",
    rows: &[LookupRow::new(1, "shutdownimm"), LookupRow::new(0, "!shutdownimm")],
    conv: None,
};

/// NUT table `overheat_info`.
pub static OVERHEAT_INFO: LookupTable = LookupTable {
    name: "overheat_info",
    rows: &[LookupRow::new(1, "overheat"), LookupRow::new(0, "!overheat")],
    conv: None,
};

/// NUT table `awaitingpower_info`.
pub static AWAITINGPOWER_INFO: LookupTable = LookupTable {
    name: "awaitingpower_info",
    rows: &[LookupRow::new(1, "awaitingpower"), LookupRow::new(0, "!awaitingpower")],
    conv: None,
};

/// NUT table `commfault_info`.
pub static COMMFAULT_INFO: LookupTable = LookupTable {
    name: "commfault_info",
    rows: &[LookupRow::new(1, "commfault"), LookupRow::new(0, "!commfault")],
    conv: None,
};

/// NUT table `timelimitexpired_info`.
pub static TIMELIMITEXPIRED_INFO: LookupTable = LookupTable {
    name: "timelimitexpired_info",
    rows: &[LookupRow::new(1, "timelimitexp"), LookupRow::new(0, "!timelimitexp")],
    conv: None,
};

/// NUT table `battvoltlo_info`.
pub static BATTVOLTLO_INFO: LookupTable = LookupTable {
    name: "battvoltlo_info",
    rows: &[LookupRow::new(1, "battvoltlo"), LookupRow::new(0, "!battvoltlo")],
    conv: None,
};

/// NUT table `battvolthi_info`.
pub static BATTVOLTHI_INFO: LookupTable = LookupTable {
    name: "battvolthi_info",
    rows: &[LookupRow::new(1, "battvolthi"), LookupRow::new(0, "!battvolthi")],
    conv: None,
};

/// NUT table `chargerfail_info`.
pub static CHARGERFAIL_INFO: LookupTable = LookupTable {
    name: "chargerfail_info",
    rows: &[LookupRow::new(1, "chargerfail"), LookupRow::new(0, "!chargerfail")],
    conv: None,
};

/// NUT table `fullycharged_info`.
pub static FULLYCHARGED_INFO: LookupTable = LookupTable {
    name: "fullycharged_info",
    rows: &[LookupRow::new(1, "fullycharged"), LookupRow::new(0, "!fullycharged")],
    conv: None,
};

/// NUT table `depleted_info`.
pub static DEPLETED_INFO: LookupTable = LookupTable {
    name: "depleted_info",
    rows: &[LookupRow::new(1, "depleted"), LookupRow::new(0, "!depleted")],
    conv: None,
};

/// NUT table `vrange_info`.
pub static VRANGE_INFO: LookupTable = LookupTable {
    name: "vrange_info",
    rows: &[LookupRow::new(0, "!vrange"), LookupRow::new(1, "vrange")],
    conv: None,
};

/// NUT table `frange_info`.
pub static FRANGE_INFO: LookupTable = LookupTable {
    name: "frange_info",
    rows: &[LookupRow::new(0, "!frange"), LookupRow::new(1, "frange")],
    conv: None,
};

/// NUT table `test_write_info`.
pub static TEST_WRITE_INFO: LookupTable = LookupTable {
    name: "test_write_info",
    rows: &[
        LookupRow::new(0, "No test"),
        LookupRow::new(1, "Quick test"),
        LookupRow::new(2, "Deep test"),
        LookupRow::new(3, "Abort test"),
    ],
    conv: None,
};

/// NUT table `test_read_info`.
pub static TEST_READ_INFO: LookupTable = LookupTable {
    name: "test_read_info",
    rows: &[
        LookupRow::new(1, "Done and passed"),
        LookupRow::new(2, "Done and warning"),
        LookupRow::new(3, "Done and error"),
        LookupRow::new(4, "Aborted"),
        LookupRow::new(5, "In progress"),
        LookupRow::new(6, "No test initiated"),
        LookupRow::new(7, "Test scheduled"),
    ],
    conv: None,
};

/// NUT table `beeper_info`.
pub static BEEPER_INFO: LookupTable = LookupTable {
    name: "beeper_info",
    rows: &[
        LookupRow::new(1, "disabled"),
        LookupRow::new(2, "enabled"),
        LookupRow::new(3, "muted"),
    ],
    conv: None,
};

/// NUT table `yes_no_info`.
pub static YES_NO_INFO: LookupTable = LookupTable {
    name: "yes_no_info",
    rows: &[LookupRow::new(0, "no"), LookupRow::new(1, "yes")],
    conv: None,
};

/// NUT table `on_off_info`.
pub static ON_OFF_INFO: LookupTable = LookupTable {
    name: "on_off_info",
    rows: &[LookupRow::new(0, "off"), LookupRow::new(1, "on")],
    conv: None,
};

/// NUT table `date_conversion`.
pub static DATE_CONVERSION: LookupTable =
    LookupTable { name: "date_conversion", rows: &[], conv: Some(Conv::DateConversion) };

/// NUT table `hex_conversion`.
pub static HEX_CONVERSION: LookupTable =
    LookupTable { name: "hex_conversion", rows: &[], conv: Some(Conv::HexConversion) };

/// NUT table `stringid_conversion`.
pub static STRINGID_CONVERSION: LookupTable =
    LookupTable { name: "stringid_conversion", rows: &[], conv: Some(Conv::StringidConversion) };

/// NUT table `divide_by_10_conversion`.
pub static DIVIDE_BY_10_CONVERSION: LookupTable = LookupTable {
    name: "divide_by_10_conversion",
    rows: &[],
    conv: Some(Conv::DivideBy10Conversion),
};

/// NUT table `kelvin_celsius_conversion`.
pub static KELVIN_CELSIUS_CONVERSION: LookupTable = LookupTable {
    name: "kelvin_celsius_conversion",
    rows: &[],
    conv: Some(Conv::KelvinCelsiusConversion),
};

/// Every shared table, in NUT's order.
pub static ALL: &[&LookupTable] = &[
    &ONLINE_INFO,
    &DISCHARGING_INFO,
    &CHARGING_INFO,
    &LOWBATT_INFO,
    &OVERLOAD_INFO,
    &REPLACEBATT_INFO,
    &TRIM_INFO,
    &BOOST_INFO,
    &BYPASS_AUTO_INFO,
    &BYPASS_MANUAL_INFO,
    &OFF_INFO,
    &CALIBRATION_INFO,
    &NOBATTERY_INFO,
    &FANFAIL_INFO,
    &SHUTDOWNIMM_INFO,
    &OVERHEAT_INFO,
    &AWAITINGPOWER_INFO,
    &COMMFAULT_INFO,
    &TIMELIMITEXPIRED_INFO,
    &BATTVOLTLO_INFO,
    &BATTVOLTHI_INFO,
    &CHARGERFAIL_INFO,
    &FULLYCHARGED_INFO,
    &DEPLETED_INFO,
    &VRANGE_INFO,
    &FRANGE_INFO,
    &TEST_WRITE_INFO,
    &TEST_READ_INFO,
    &BEEPER_INFO,
    &YES_NO_INFO,
    &ON_OFF_INFO,
    &DATE_CONVERSION,
    &HEX_CONVERSION,
    &STRINGID_CONVERSION,
    &DIVIDE_BY_10_CONVERSION,
    &KELVIN_CELSIUS_CONVERSION,
];
