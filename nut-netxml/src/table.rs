//! The `mge-xml` mapping as data: XML object name -> NUT variable, flags
//! and conversion, in NUT 2.8.0's order (`drivers/mge-xml.c`, the rows
//! that are compiled in).
//!
//! Lookups are ASCII case-insensitive and take the first row that
//! matches, as NUT's: a second row with the same XML name (for example
//! `UPS.PowerSummary.PresentStatus.ACPresent` -> `outlet.1.status`) is
//! never reached when reading, and a second row with the same NUT name is
//! never used when writing.

/// A status bit of the driver (NUT's `ups_status` bits), set and cleared
/// by the rows whose conversion is [`Conv::Bit`] and a few others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Bit {
    /// On line power (`OL`, else `OB`).
    Online = 0,
    /// Discharging (`DISCHRG`).
    Discharging,
    /// Charging (`CHRG`).
    Charging,
    /// Low battery (`LB`).
    LowBattery,
    /// Overload (`OVER`).
    Overload,
    /// Replace battery (`RB`, alarm).
    ReplaceBattery,
    /// Buck (`TRIM`).
    Trim,
    /// Boost (`BOOST`).
    Boost,
    /// Automatic bypass (`BYPASS`, alarm).
    BypassAuto,
    /// Manual bypass (`BYPASS`, alarm).
    BypassManual,
    /// The UPS is off (`OFF`).
    Off,
    /// Shutdown imminent (`FSD`, alarm).
    ShutdownImminent,
    /// A battery test runs (`CAL`).
    Calibrating,
    /// Fan failure (alarm).
    FanFailure,
    /// No battery installed (alarm).
    NoBattery,
    /// Battery voltage too low (alarm).
    BatteryVoltageLow,
    /// Battery voltage too high (alarm).
    BatteryVoltageHigh,
    /// Charger failure (alarm).
    ChargerFail,
    /// Temperature too high (alarm).
    Overheat,
    /// Communication fault (alarm).
    CommFault,
    /// Internal fault (alarm).
    InternalFault,
    /// Fuse fault (alarm).
    FuseFault,
    /// Input voltage out of range (`input.transfer.reason`).
    VoltageRange,
    /// Input frequency out of range (`input.transfer.reason`).
    FrequencyRange,
}

/// Which values set a [`Bit`] (every other value clears it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    /// A value starting with `1`.
    One,
    /// A value starting with `0` (an inverted object).
    Zero,
    /// A value starting with `1`, or with `yes` in any case.
    OneOrYes,
}

/// How an object's text becomes a NUT value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conv {
    /// The text as it is.
    None,
    /// Sets or clears a status bit; publishes nothing.
    Bit(Bit, On),
    /// `1` sets discharging and clears charging (a card bug: both set);
    /// anything else clears discharging.
    Discharging,
    /// `1` -> `yes`, `0` -> `no`, else `<unknown>`.
    YesNo,
    /// `1` -> `on`, `0` -> `off`, else `<unknown>`.
    OnOff,
    /// Divided by ten (`%.1f`) with the `do_convert_deci` flag, else as
    /// it is.
    Deci,
    /// Nothing for a zero, else as [`Conv::Deci`].
    IgnoreIfZero,
    /// `date time`: the date goes to `ups.date`, the time is the value.
    DateTime,
    /// Ampere-seconds to ampere-hours (`%.2f`).
    AmpSecondsToAmpHours,
    /// Hundredths (`%.2f`), for the power factor.
    Percent,
    /// 1 disabled, 2 enabled, 3 muted.
    Beeper,
    /// 1..5: the UPS type names.
    UpsType,
    /// 0 normal, 1 high, 2 low.
    Sensitivity,
    /// 1..7: the battery test results; 5 (in progress) sets
    /// [`Bit::Calibrating`], anything else clears it.
    TestResult,
    /// The value only on a `Transverse` card (ambient sensor).
    Ambient,
    /// 0 opened, 1 closed.
    DryContact,
    /// The value as it is; a delay of 0..=`shutdown_duration` seconds
    /// sets [`Bit::ShutdownImminent`] (a shutdown is pending), anything
    /// else clears it.
    TimerShutdown,
    /// `0` sets [`Bit::ShutdownImminent`] unless a shutdown is already
    /// pending; publishes nothing.
    ShutdownImminent,
}

/// A row's NUT flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Flags {
    /// Writable (`RW`): published empty at start-up and settable.
    pub rw: bool,
    /// Set once: later values are ignored while the variable exists.
    pub fixed: bool,
}

const F0: Flags = Flags { rw: false, fixed: false };
const RW: Flags = Flags { rw: true, fixed: false };
const ST: Flags = Flags { rw: false, fixed: true };

/// One mapping row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The XML object name (`UPS.PowerSummary.RemainingCapacity`).
    pub xml: &'static str,
    /// The NUT variable, or `None` for rows that only set status bits.
    pub nut: Option<&'static str>,
    /// Flags.
    pub flags: Flags,
    /// The conversion.
    pub conv: Conv,
}

const fn row(xml: &'static str, nut: Option<&'static str>, flags: Flags, conv: Conv) -> Row {
    Row { xml, nut, flags, conv }
}

/// Every row, in NUT 2.8.0's order.
pub static ROWS: &[Row] = &[
    row("System.Contact", Some("device.contact"), RW, Conv::None),
    row("System.Location", Some("device.location"), RW, Conv::None),
    row("UPS.PowerSummary.PresentStatus.ACPresent", None, F0, Conv::Bit(Bit::Online, On::One)),
    row("UPS.PowerSummary.PresentStatus.Charging", None, F0, Conv::Bit(Bit::Charging, On::One)),
    row("UPS.PowerSummary.PresentStatus.Discharging", None, F0, Conv::Discharging),
    row(
        "UPS.PowerSummary.PresentStatus.BelowRemainingCapacityLimit",
        None,
        F0,
        Conv::Bit(Bit::LowBattery, On::One),
    ),
    row("UPS.PowerSummary.PresentStatus.Overload", None, F0, Conv::Bit(Bit::Overload, On::One)),
    row(
        "UPS.PowerSummary.PresentStatus.NeedReplacement",
        None,
        F0,
        Conv::Bit(Bit::ReplaceBattery, On::One),
    ),
    row("UPS.PowerConverter.Input[1].PresentStatus.Buck", None, F0, Conv::Bit(Bit::Trim, On::One)),
    row(
        "UPS.PowerConverter.Input[1].PresentStatus.Boost",
        None,
        F0,
        Conv::Bit(Bit::Boost, On::One),
    ),
    row(
        "UPS.PowerConverter.Input[1].PresentStatus.VoltageOutOfRange",
        None,
        F0,
        Conv::Bit(Bit::VoltageRange, On::OneOrYes),
    ),
    row(
        "UPS.PowerConverter.Input[1].PresentStatus.FrequencyOutOfRange",
        None,
        F0,
        Conv::Bit(Bit::FrequencyRange, On::OneOrYes),
    ),
    row(
        "UPS.PowerConverter.Input[1].PresentStatus.FuseFault",
        None,
        F0,
        Conv::Bit(Bit::FuseFault, On::One),
    ),
    row(
        "UPS.PowerConverter.Input[1].PresentStatus.InternalFailure",
        None,
        F0,
        Conv::Bit(Bit::InternalFault, On::One),
    ),
    row("UPS.PowerSummary.PresentStatus.Good", None, F0, Conv::Bit(Bit::Off, On::Zero)),
    row(
        "UPS.PowerConverter.Input[2].PresentStatus.Used",
        None,
        F0,
        Conv::Bit(Bit::BypassAuto, On::One),
    ),
    row(
        "UPS.PowerConverter.Input[4].PresentStatus.Used",
        None,
        F0,
        Conv::Bit(Bit::BypassManual, On::One),
    ),
    row("UPS.PowerSummary.PresentStatus.FanFailure", None, F0, Conv::Bit(Bit::FanFailure, On::One)),
    row(
        "UPS.BatterySystem.Battery.PresentStatus.Present",
        None,
        F0,
        Conv::Bit(Bit::NoBattery, On::Zero),
    ),
    row(
        "UPS.BatterySystem.Charger.PresentStatus.InternalFailure",
        None,
        F0,
        Conv::Bit(Bit::ChargerFail, On::OneOrYes),
    ),
    row(
        "UPS.BatterySystem.Charger.PresentStatus.VoltageTooHigh",
        None,
        F0,
        Conv::Bit(Bit::BatteryVoltageHigh, On::One),
    ),
    row(
        "UPS.BatterySystem.Charger.PresentStatus.VoltageTooLow",
        None,
        F0,
        Conv::Bit(Bit::BatteryVoltageLow, On::One),
    ),
    row(
        "UPS.PowerSummary.PresentStatus.InternalFailure",
        None,
        F0,
        Conv::Bit(Bit::InternalFault, On::One),
    ),
    row(
        "UPS.PowerSummary.PresentStatus.CommunicationLost",
        None,
        F0,
        Conv::Bit(Bit::CommFault, On::One),
    ),
    row(
        "UPS.PowerSummary.PresentStatus.OverTemperature",
        None,
        F0,
        Conv::Bit(Bit::Overheat, On::One),
    ),
    row("UPS.PowerSummary.RemainingCapacity", Some("battery.charge"), F0, Conv::None),
    row(
        "UPS.PowerSummary.RemainingCapacityLimitSetting",
        Some("battery.charge.low"),
        F0,
        Conv::None,
    ),
    row("UPS.PowerSummary.RemainingCapacityLimit", Some("battery.charge.low"), F0, Conv::None),
    row("UPS.PowerSummary.RestartLevel", Some("battery.charge.restart"), F0, Conv::None),
    row(
        "UPS.BatterySystem.Battery.DesignCapacity",
        Some("battery.capacity"),
        F0,
        Conv::AmpSecondsToAmpHours,
    ),
    row("UPS.PowerSummary.RunTimeToEmpty", Some("battery.runtime"), F0, Conv::None),
    row("System.RunTimeToEmptyLimit", Some("battery.runtime.low"), RW, Conv::None),
    row("UPS.BatterySystem.Battery.Temperature", Some("battery.temperature"), F0, Conv::None),
    row("UPS.BatterySystem.Battery.Count", Some("battery.packs.external"), F0, Conv::None),
    row("UPS.PowerSummary.iDeviceChemistry", Some("battery.type"), ST, Conv::None),
    row("UPS.PowerSummary.iDeviceChemistery", Some("battery.type"), ST, Conv::None),
    row("UPS.BatterySystem.ConfigVoltage", Some("battery.voltage.nominal"), ST, Conv::None),
    row(
        "UPS.BatterySystem.Battery.DeepDischargeProtection",
        Some("battery.protection"),
        F0,
        Conv::YesNo,
    ),
    row("UPS.PowerConverter.Input[3].EnergySaving", Some("battery.energysave"), F0, Conv::YesNo),
    row("UPS.PowerSummary.iManufacturer", Some("ups.mfr"), ST, Conv::None),
    row("System.Description", Some("ups.model"), ST, Conv::None),
    row("UPS.PowerSummary.iProduct", Some("ups.model"), ST, Conv::None),
    row("UPS.PowerSummary.iModel", Some("ups.model.aux"), ST, Conv::None),
    row("System.LastAcquisition", Some("ups.time"), F0, Conv::DateTime),
    row("UPS.PowerSummary.iSerialNumber", Some("ups.serial"), ST, Conv::None),
    row("UPS.PowerSummary.iVersion", Some("ups.firmware"), ST, Conv::None),
    row("UPS.PowerSummary.PercentLoad", Some("ups.load"), F0, Conv::None),
    row("UPS.Flow[4].ConfigPercentLoad", Some("ups.load.high"), F0, Conv::None),
    row("System.ShutdownDuration", Some("ups.delay.shutdown"), RW, Conv::None),
    row("UPS.PowerSummary.DelayBeforeStartup", Some("ups.timer.start"), RW, Conv::None),
    row(
        "UPS.PowerSummary.DelayBeforeShutdown",
        Some("ups.timer.shutdown"),
        RW,
        Conv::TimerShutdown,
    ),
    row("System.RunTimeToShutdown", None, F0, Conv::ShutdownImminent),
    row("UPS.PowerSummary.DelayBeforeReboot", Some("ups.timer.reboot"), F0, Conv::None),
    row("UPS.BatterySystem.Battery.Test", Some("ups.test.result"), F0, Conv::TestResult),
    row("UPS.BatterySystem.Battery.TestPeriod", Some("ups.test.interval"), F0, Conv::None),
    row(
        "UPS.BatterySystem.Battery.AudibleAlarmControl",
        Some("ups.beeper.status"),
        F0,
        Conv::Beeper,
    ),
    row("UPS.PowerSummary.AudibleAlarmControl", Some("ups.beeper.status"), F0, Conv::Beeper),
    row("UPS.PowerSummary.Temperature", Some("ups.temperature"), F0, Conv::None),
    row("UPS.Flow[4].ConfigApparentPower", Some("ups.power.nominal"), ST, Conv::None),
    row("UPS.PowerConverter.Output.ApparentPower", Some("ups.power"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[1].ApparentPower", Some("ups.L1.power"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[2].ApparentPower", Some("ups.L2.power"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[3].ApparentPower", Some("ups.L3.power"), F0, Conv::None),
    row("UPS.PowerConverter.Output.ActivePower", Some("ups.realpower"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[1].ActivePower", Some("ups.L1.realpower"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[2].ActivePower", Some("ups.L2.realpower"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[3].ActivePower", Some("ups.L3.realpower"), F0, Conv::None),
    row("UPS.Flow[4].ConfigActivePower", Some("ups.realpower.nominal"), ST, Conv::None),
    row("UPS.PowerConverter.Input[1].AutomaticRestart", Some("ups.start.auto"), F0, Conv::YesNo),
    row("UPS.PowerConverter.Input[3].StartOnBattery", Some("ups.start.battery"), F0, Conv::YesNo),
    row("UPS.PowerConverter.Output.ForcedReboot", Some("ups.start.reboot"), F0, Conv::YesNo),
    row("UPS.PowerConverter.ConverterType", Some("ups.type"), ST, Conv::UpsType),
    row("UPS.PowerConverter.Input[1].Voltage", Some("input.voltage"), F0, Conv::None),
    row("UPS.PowerConverter.Input[1].Phase[1].Voltage", Some("input.L1-N.voltage"), F0, Conv::None),
    row("UPS.PowerConverter.Input[1].Phase[2].Voltage", Some("input.L2-N.voltage"), F0, Conv::None),
    row("UPS.PowerConverter.Input[1].Phase[3].Voltage", Some("input.L3-N.voltage"), F0, Conv::None),
    row(
        "UPS.PowerConverter.Input[1].Phase[12].Voltage",
        Some("input.L1-L2.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[1].Phase[23].Voltage",
        Some("input.L2-L3.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[1].Phase[31].Voltage",
        Some("input.L3-L1.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[1].Phase[11].Voltage",
        Some("input.L1-L2.voltage"),
        F0,
        Conv::Deci,
    ),
    row(
        "UPS.PowerConverter.Input[1].Phase[22].Voltage",
        Some("input.L2-L3.voltage"),
        F0,
        Conv::Deci,
    ),
    row(
        "UPS.PowerConverter.Input[1].Phase[33].Voltage",
        Some("input.L3-L1.voltage"),
        F0,
        Conv::Deci,
    ),
    row("UPS.Flow[1].ConfigVoltage", Some("input.voltage.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Input[1].Current", Some("input.current"), F0, Conv::None),
    row("UPS.PowerConverter.Input[1].Phase[1].Current", Some("input.L1.current"), F0, Conv::Deci),
    row("UPS.PowerConverter.Input[1].Phase[2].Current", Some("input.L2.current"), F0, Conv::Deci),
    row("UPS.PowerConverter.Input[1].Phase[3].Current", Some("input.L3.current"), F0, Conv::Deci),
    row("UPS.Flow[1].ConfigCurrent", Some("input.current.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Input[1].Frequency", Some("input.frequency"), F0, Conv::None),
    row("UPS.Flow[1].ConfigFrequency", Some("input.frequency.nominal"), F0, Conv::None),
    row(
        "UPS.PowerConverter.Output.ExtendedVoltageMode",
        Some("input.voltage.extended"),
        F0,
        Conv::YesNo,
    ),
    row(
        "UPS.PowerConverter.Output.ExtendedFrequencyMode",
        Some("input.frequency.extended"),
        F0,
        Conv::YesNo,
    ),
    row("UPS.PowerConverter.Output.LowVoltageTransfer", Some("input.transfer.low"), F0, Conv::None),
    row(
        "UPS.PowerConverter.Output.LowVoltageBoostTransfer",
        Some("input.transfer.boost.low"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.HighVoltageBoostTransfer",
        Some("input.transfer.boost.high"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.LowVoltageBuckTransfer",
        Some("input.transfer.trim.low"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.HighVoltageTransfer",
        Some("input.transfer.high"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.HighVoltageBuckTransfer",
        Some("input.transfer.trim.high"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.SensitivityMode",
        Some("input.sensitivity"),
        F0,
        Conv::Sensitivity,
    ),
    row("UPS.PowerConverter.Input[2].Voltage", Some("input.bypass.voltage"), F0, Conv::None),
    row(
        "UPS.PowerConverter.Input[2].Phase[1].Voltage",
        Some("input.bypass.L1-N.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[2].Voltage",
        Some("input.bypass.L2-N.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[3].Voltage",
        Some("input.bypass.L3-N.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[12].Voltage",
        Some("input.bypass.L1-L2.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[23].Voltage",
        Some("input.bypass.L2-L3.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[31].Voltage",
        Some("input.bypass.L3-L1.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[11].Voltage",
        Some("input.bypass.L1-L2.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[22].Voltage",
        Some("input.bypass.L2-L3.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[33].Voltage",
        Some("input.bypass.L3-L1.voltage"),
        F0,
        Conv::None,
    ),
    row("UPS.Flow[2].ConfigVoltage", Some("input.bypass.voltage.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Input[2].Current", Some("input.bypass.current"), F0, Conv::None),
    row(
        "UPS.PowerConverter.Input[2].Phase[1].Current",
        Some("input.bypass.L1.current"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[2].Current",
        Some("input.bypass.L2.current"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Input[2].Phase[3].Current",
        Some("input.bypass.L3.current"),
        F0,
        Conv::None,
    ),
    row("UPS.Flow[2].ConfigCurrent", Some("input.bypass.current.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Input[2].Frequency", Some("input.bypass.frequency"), F0, Conv::None),
    row("UPS.Flow[2].ConfigFrequency", Some("input.bypass.frequency.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Voltage", Some("output.voltage"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[1].Voltage", Some("output.L1-N.voltage"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[2].Voltage", Some("output.L2-N.voltage"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[3].Voltage", Some("output.L3-N.voltage"), F0, Conv::None),
    row(
        "UPS.PowerConverter.Output.Phase[12].Voltage",
        Some("output.L1-L2.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.Phase[23].Voltage",
        Some("output.L2-L3.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.Phase[31].Voltage",
        Some("output.L3-L1.voltage"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.PowerConverter.Output.Phase[11].Voltage",
        Some("output.L1-L2.voltage"),
        F0,
        Conv::IgnoreIfZero,
    ),
    row(
        "UPS.PowerConverter.Output.Phase[22].Voltage",
        Some("output.L2-L3.voltage"),
        F0,
        Conv::IgnoreIfZero,
    ),
    row(
        "UPS.PowerConverter.Output.Phase[33].Voltage",
        Some("output.L3-L1.voltage"),
        F0,
        Conv::IgnoreIfZero,
    ),
    row("UPS.Flow[4].ConfigVoltage", Some("output.voltage.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Current", Some("output.current"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Phase[1].Current", Some("output.L1.current"), F0, Conv::Deci),
    row("UPS.PowerConverter.Output.Phase[2].Current", Some("output.L2.current"), F0, Conv::Deci),
    row("UPS.PowerConverter.Output.Phase[3].Current", Some("output.L3.current"), F0, Conv::Deci),
    row("UPS.Flow[4].ConfigCurrent", Some("output.current.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Output.Frequency", Some("output.frequency"), F0, Conv::None),
    row("UPS.Flow[4].ConfigFrequency", Some("output.frequency.nominal"), F0, Conv::None),
    row("UPS.PowerConverter.Output.PowerFactor", Some("output.powerfactor"), F0, Conv::Percent),
    row("Environment.Humidity", Some("ambient.humidity"), F0, Conv::None),
    row("Environment.Humidity.HighThreshold", Some("ambient.humidity.high"), RW, Conv::None),
    row("Environment.Humidity.LowThreshold", Some("ambient.humidity.low"), RW, Conv::None),
    row(
        "Environment.PresentStatus.HighHumidity",
        Some("ambient.humidity.maximum"),
        F0,
        Conv::Ambient,
    ),
    row(
        "Environment.PresentStatus.LowHumidity",
        Some("ambient.humidity.minimum"),
        F0,
        Conv::Ambient,
    ),
    row("Environment.Temperature", Some("ambient.temperature"), F0, Conv::None),
    row("Environment.Temperature.HighThreshold", Some("ambient.temperature.high"), RW, Conv::None),
    row("Environment.Temperature.LowThreshold", Some("ambient.temperature.low"), RW, Conv::None),
    row(
        "Environment.PresentStatus.HighTemperature",
        Some("ambient.temperature.maximum"),
        F0,
        Conv::Ambient,
    ),
    row(
        "Environment.PresentStatus.LowTemperature",
        Some("ambient.temperature.minimum"),
        F0,
        Conv::Ambient,
    ),
    row(
        "Environment.Input[1].PresentStatus.State",
        Some("ambient.contacts.1.status"),
        F0,
        Conv::DryContact,
    ),
    row(
        "Environment.Input[2].PresentStatus.State",
        Some("ambient.contacts.2.status"),
        F0,
        Conv::DryContact,
    ),
    row("UPS.OutletSystem.Outlet[1].OutletID", Some("outlet.id"), F0, Conv::None),
    row("UPS.OutletSystem.Outlet[1].iName", Some("outlet.desc"), F0, Conv::None),
    row(
        "UPS.OutletSystem.Outlet[1].PresentStatus.Switchable",
        Some("outlet.switchable"),
        F0,
        Conv::YesNo,
    ),
    row("UPS.OutletSystem.Outlet[2].OutletID", Some("outlet.1.id"), F0, Conv::None),
    row("UPS.OutletSystem.Outlet[2].iName", Some("outlet.1.desc"), F0, Conv::None),
    row(
        "UPS.OutletSystem.Outlet[2].PresentStatus.Switchable",
        Some("outlet.1.switchable"),
        F0,
        Conv::YesNo,
    ),
    row(
        "UPS.OutletSystem.Outlet[2].PresentStatus.SwitchOnOff",
        Some("outlet.1.status"),
        F0,
        Conv::OnOff,
    ),
    row("UPS.PowerSummary.PresentStatus.ACPresent", Some("outlet.1.status"), F0, Conv::None),
    row(
        "UPS.OutletSystem.Outlet[2].RemainingCapacityLimit",
        Some("outlet.1.battery.charge.low"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.OutletSystem.Outlet[2].DelayBeforeStartup",
        Some("outlet.1.timer.start"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.OutletSystem.Outlet[2].DelayBeforeShutdown",
        Some("outlet.1.timer.shutdown"),
        F0,
        Conv::None,
    ),
    row("UPS.OutletSystem.Outlet[2].StartupTimer", Some("outlet.1.delay.start"), F0, Conv::None),
    row("System.Outlet[2].ShutdownDuration", Some("outlet.1.delay.shutdown"), RW, Conv::None),
    row("UPS.OutletSystem.Outlet[3].OutletID", Some("outlet.2.id"), F0, Conv::None),
    row("UPS.OutletSystem.Outlet[3].iName", Some("outlet.2.desc"), F0, Conv::None),
    row(
        "UPS.OutletSystem.Outlet[3].PresentStatus.Switchable",
        Some("outlet.2.switchable"),
        F0,
        Conv::YesNo,
    ),
    row(
        "UPS.OutletSystem.Outlet[3].PresentStatus.SwitchOnOff",
        Some("outlet.2.status"),
        F0,
        Conv::OnOff,
    ),
    row(
        "UPS.OutletSystem.Outlet[3].RemainingCapacityLimit",
        Some("outlet.2.battery.charge.low"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.OutletSystem.Outlet[3].DelayBeforeStartup",
        Some("outlet.2.timer.start"),
        F0,
        Conv::None,
    ),
    row(
        "UPS.OutletSystem.Outlet[3].DelayBeforeShutdown",
        Some("outlet.2.timer.shutdown"),
        F0,
        Conv::None,
    ),
    row("UPS.OutletSystem.Outlet[3].StartupTimer", Some("outlet.2.delay.start"), F0, Conv::None),
    row("System.Outlet[3].ShutdownDuration", Some("outlet.2.delay.shutdown"), RW, Conv::None),
    row("PDU.OutletSystem.Outlet[1].iName", Some("outlet.1.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[1].Current", Some("outlet.1.current"), F0, Conv::Deci),
    row("PDU.OutletSystem.Outlet[2].iName", Some("outlet.2.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[2].Current", Some("outlet.2.current"), F0, Conv::Deci),
    row("PDU.OutletSystem.Outlet[3].iName", Some("outlet.3.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[3].Current", Some("outlet.3.current"), F0, Conv::Deci),
    row("PDU.OutletSystem.Outlet[2].iName", Some("outlet.4.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[2].Current", Some("outlet.4.current"), F0, Conv::Deci),
    row("PDU.OutletSystem.Outlet[3].iName", Some("outlet.5.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[3].Current", Some("outlet.5.current"), F0, Conv::Deci),
    row("PDU.OutletSystem.Outlet[2].iName", Some("outlet.6.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[2].Current", Some("outlet.6.current"), F0, Conv::Deci),
    row("PDU.OutletSystem.Outlet[3].iName", Some("outlet.7.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[3].Current", Some("outlet.7.current"), F0, Conv::Deci),
    row("PDU.OutletSystem.Outlet[2].iName", Some("outlet.8.desc"), F0, Conv::None),
    row("PDU.OutletSystem.Outlet[2].Current", Some("outlet.8.current"), F0, Conv::Deci),
];

/// The first row for an XML object name (ASCII case-insensitive).
pub fn find_xml(name: &str) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.xml.eq_ignore_ascii_case(name))
}

/// The first row for a NUT variable (ASCII case-insensitive), the one a
/// SET writes.
pub fn find_nut(name: &str) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.nut.is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// The writable NUT variables, in table order (a name may repeat).
pub fn writable() -> impl Iterator<Item = &'static str> {
    ROWS.iter().filter(|r| r.flags.rw).filter_map(|r| r.nut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins() {
        let r = find_xml("ups.powersummary.presentstatus.acpresent").unwrap();
        assert_eq!(r.conv, Conv::Bit(Bit::Online, On::One));
        assert_eq!(find_nut("outlet.4.desc").unwrap().xml, "PDU.OutletSystem.Outlet[2].iName");
        assert_eq!(find_nut("battery.runtime.low").unwrap().xml, "System.RunTimeToEmptyLimit");
    }

    #[test]
    fn shape() {
        assert_eq!(ROWS.len(), 186);
        let rw: Vec<_> = writable().collect();
        assert_eq!(rw.len(), 12);
        assert!(rw.contains(&"device.contact"));
        for r in ROWS {
            assert!(!r.xml.is_empty() && r.xml.len() < 127, "{}", r.xml);
            if let Some(n) = r.nut {
                assert!(n.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{n}");
            } else {
                assert!(matches!(
                    r.conv,
                    Conv::Bit(..) | Conv::Discharging | Conv::ShutdownImminent
                ));
            }
        }
    }
}
