//! The shape of a MIB mapping: [`Mapping`], its [`Row`]s, [`Lookup`] tables
//! and [`AlarmInfo`] entries, and the flag bits of NUT's `snmp_info_t`.
//!
//! The tables themselves are in [`crate::tables`].

/// `ST_FLAG_*` and `SU_*` flag bits, with NUT's names and values.
pub mod flags {
    /// The variable is writable (`ST_FLAG_RW`, in [`Row::var_flags`](super::Row::var_flags)).
    pub const ST_FLAG_RW: u32 = 0x0001;
    /// The variable is a string (`ST_FLAG_STRING`, in [`Row::var_flags`](super::Row::var_flags)).
    pub const ST_FLAG_STRING: u32 = 0x0002;

    /// Row is usable (set on every row at init, cleared when it fails).
    pub const SU_FLAG_OK: u32 = 1 << 0;
    /// Read once, at init.
    pub const SU_FLAG_STATIC: u32 = 1 << 1;
    /// Not read from the device: the default value is published.
    pub const SU_FLAG_ABSENT: u32 = 1 << 2;
    /// The last read failed (run-time state).
    pub const SU_FLAG_STALE: u32 = 1 << 3;
    /// A negative value means "no value".
    pub const SU_FLAG_NEGINVALID: u32 = 1 << 4;
    /// The first working row with this name disables the other rows with it.
    pub const SU_FLAG_UNIQUE: u32 = 1 << 5;
    /// Zero means "no value".
    pub const SU_FLAG_ZEROINVALID: u32 = 1 << 6;
    /// `N/A` means "no value" (template index probing).
    pub const SU_FLAG_NAINVALID: u32 = 1 << 7;
    /// Commands: one more on the OID index.
    pub const SU_CMD_OFFSET: u32 = 1 << 8;
    /// Read every `semistaticfreq` walks.
    pub const SU_FLAG_SEMI_STATIC: u32 = 1 << 9;
    /// Outlet group template (`outlet.group.%i.*`).
    pub const SU_OUTLET_GROUP: u32 = 1 << 10;
    /// Outlet template (`outlet.%i.*`).
    pub const SU_OUTLET: u32 = 1 << 11;
    /// Only with one input phase.
    pub const SU_INPUT_1: u32 = 1 << 12;
    /// Only with three input phases.
    pub const SU_INPUT_3: u32 = 1 << 13;
    /// Only with one output phase.
    pub const SU_OUTPUT_1: u32 = 1 << 14;
    /// Only with three output phases.
    pub const SU_OUTPUT_3: u32 = 1 << 15;
    /// Only with one bypass phase.
    pub const SU_BYPASS_1: u32 = 1 << 16;
    /// Only with three bypass phases.
    pub const SU_BYPASS_3: u32 = 1 << 17;
    /// The input phase bits.
    pub const SU_INPHASES: u32 = SU_INPUT_1 | SU_INPUT_3;
    /// The output phase bits.
    pub const SU_OUTPHASES: u32 = SU_OUTPUT_1 | SU_OUTPUT_3;
    /// The bypass phase bits.
    pub const SU_BYPPHASES: u32 = SU_BYPASS_1 | SU_BYPASS_3;
    /// Set as an INTEGER.
    pub const SU_TYPE_INT: u32 = 1 << 18;
    /// Set as TimeTicks.
    pub const SU_TYPE_TIME: u32 = 1 << 19;
    /// An instant command.
    pub const SU_TYPE_CMD: u32 = 1 << 20;
    /// The type bits (`SU_TYPE(t)`).
    pub const SU_TYPE_MASK: u32 = 7 << 18;
    /// The daisy-chain index is the first `%i` of the OID.
    pub const SU_TYPE_DAISY_1: u32 = 1 << 21;
    /// The daisy-chain index is the second `%i` of the OID.
    pub const SU_TYPE_DAISY_2: u32 = 1 << 22;
    /// Daisy-chain template (run-time).
    pub const SU_DAISY: u32 = 1 << 23;
    /// Only for the daisy-chain master (`device.1`).
    pub const SU_TYPE_DAISY_MASTER_ONLY: u32 = 1 << 24;
    /// Ambient sensor template (`ambient.%i.*`).
    pub const SU_AMBIENT_TEMPLATE: u32 = 1 << 26;
    /// Power status element.
    pub const SU_STATUS_PWR: u32 = 1 << 28;
    /// Battery status element.
    pub const SU_STATUS_BATT: u32 = 1 << 29;
    /// Calibration status element.
    pub const SU_STATUS_CAL: u32 = 1 << 30;
    /// Replace-battery status element.
    pub const SU_STATUS_RB: u32 = 1 << 31;
}

use flags::*;

/// One MIB mapping (`mib2nut_info_t`): what `mibs=<name>` selects.
#[derive(Debug)]
pub struct Mapping {
    /// The `mibs=` name (`apcc`, `ietf`, ...). Several mappings may share a
    /// name (`apc_pdu` has three entry points).
    pub name: &'static str,
    /// The mapping version, published as `driver.version.data`
    /// (`"<name> MIB <version>"`).
    pub version: &'static str,
    /// The power status OID (informative; NUT 2.8.0 does not use it).
    pub power_status_oid: Option<&'static str>,
    /// The "auto check" OID that `mibs=--list` shows (NUT 2.8.0 detection
    /// uses the `device.model`/`ups.model` row instead).
    pub auto_check_oid: Option<&'static str>,
    /// The value of `sysObjectID` this mapping claims.
    pub sysoid: Option<&'static str>,
    /// The rows, in NUT's order.
    pub rows: &'static [Row],
    /// The alarm table walked by a `ups.alarms` row (Powerware).
    pub alarms: &'static [AlarmInfo],
}

impl Mapping {
    /// `driver.version.data` as NUT publishes it.
    pub fn version_data(&self) -> alloc::string::String {
        alloc::format!("{} MIB {}", self.name, self.version)
    }

    /// The first row with this name (case-insensitive, as `su_find_info`).
    pub fn find_row(&self, name: &str) -> Option<&'static Row> {
        self.rows.iter().find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// The row NUT GETs to confirm the mapping: `device.model`, else
    /// `ups.model`.
    pub fn model_row(&self) -> Option<&'static Row> {
        self.find_row("device.model").or_else(|| self.find_row("ups.model"))
    }
}

/// One row of a mapping (`snmp_info_t`).
#[derive(Debug)]
pub struct Row {
    /// NUT variable or command name; may hold `%i` templates.
    pub name: &'static str,
    /// `ST_FLAG_RW` / `ST_FLAG_STRING` bits.
    pub var_flags: u32,
    /// String length for string rows, multiplier otherwise (`info_len`).
    pub len: f64,
    /// The OID, possibly with `%i` templates; `None` for server-side data.
    pub oid: Option<&'static str>,
    /// The default value (`dfl`); for commands, the value to SET.
    pub dfl: Option<&'static str>,
    /// `SU_*` flags as written in the table.
    pub flags: u32,
    /// Value lookup table.
    pub lookup: Option<&'static Lookup>,
}

impl Row {
    /// `ST_FLAG_STRING`.
    pub fn is_string(&self) -> bool {
        self.var_flags & ST_FLAG_STRING != 0
    }
    /// `ST_FLAG_RW`.
    pub fn is_rw(&self) -> bool {
        self.var_flags & ST_FLAG_RW != 0
    }
    /// An instant command (`SU_TYPE_CMD`).
    pub fn is_cmd(&self) -> bool {
        self.flags & SU_TYPE_MASK == SU_TYPE_CMD
    }
    /// The `SU_TYPE(t)` bits.
    pub fn su_type(&self) -> u32 {
        self.flags & SU_TYPE_MASK
    }
    /// An outlet, outlet group or ambient template row.
    pub fn is_template(&self) -> bool {
        self.flags & (SU_OUTLET | SU_OUTLET_GROUP | SU_AMBIENT_TEMPLATE) != 0
    }
    /// `ups.status` or a status element.
    pub fn is_status(&self) -> bool {
        self.name.eq_ignore_ascii_case("ups.status")
    }
    /// An alarm row: the name ends with `.alarm`.
    pub fn is_alarm(&self) -> bool {
        match self.name.rfind('.') {
            Some(i) => self.name.get(i..) == Some(".alarm"),
            None => false,
        }
    }
}

/// An OID-value to NUT-value lookup table (`info_lkp_t[]`).
#[derive(Debug)]
pub struct Lookup {
    /// The table's name in NUT.
    pub name: &'static str,
    /// The entries, without NUT's terminator.
    pub entries: &'static [LookupEntry],
    /// A conversion function NUT runs instead of the entries.
    pub fun: Option<LookupFn>,
}

/// One lookup entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupEntry {
    /// The SNMP integer value.
    pub value: i64,
    /// The NUT value. An entry `"NULL"` ends NUT's searches.
    pub info: &'static str,
}

/// The conversion functions some lookups carry instead of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupFn {
    /// `eaton_sensor_temperature_unit_fun`: remembers the unit of the
    /// Eaton sensors (0 kelvin, 1 celsius, 2 fahrenheit) and shows
    /// `celsius`.
    TemperatureUnit,
    /// `su_temperature_read_fun`: a tenth-degree reading in the remembered
    /// unit, shown in whole degrees Celsius.
    TemperatureRead,
    /// `marlin_device_count_fun`: counts the devices of a comma-separated
    /// list (Eaton ePDU daisy chain).
    MarlinDeviceCount,
    /// `su_usdate_to_isodate_info_fun`: `mm/dd/yyyy` shown as `yyyy-mm-dd`.
    UsDateToIsoDate,
}

impl Lookup {
    /// NUT's `su_find_infoval` over the entries (without the function):
    /// the NUT value for an SNMP value. The search stops at an entry
    /// `"NULL"`, as NUT's does.
    pub fn find_info(&self, value: i64) -> Option<&'static str> {
        self.entries
            .iter()
            .take_while(|e| e.info != "NULL")
            .find(|e| e.value == value)
            .map(|e| e.info)
    }

    /// NUT's `su_find_valinfo`: the SNMP value for a NUT value.
    pub fn find_value(&self, info: &str) -> Option<i64> {
        self.entries
            .iter()
            .take_while(|e| e.info != "NULL")
            .find(|e| e.info == info)
            .map(|e| e.value)
    }
}

/// One entry of an alarm table (`alarms_info_t`): an OID that, when it
/// appears in the walked alarm table, sets a status token and/or an alarm.
#[derive(Debug)]
pub struct AlarmInfo {
    /// The OID as the agent returns it.
    pub oid: &'static str,
    /// A `ups.status` token to set.
    pub status: Option<&'static str>,
    /// A `ups.alarm` text to set.
    pub alarm: Option<&'static str>,
}
