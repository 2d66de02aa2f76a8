//! The `snmp-ups` walk: what NUT 2.8.0 publishes from a mapping and an
//! [`Agent`], at init and at each update, and what it SETs for `upsrw` and
//! `upscmd`.
//!
//! [`Session`] keeps the run-time state NUT keeps beside the static tables
//! (which rows still work, template index bases, phase counts, the daisy
//! chain, the Eaton temperature unit) and follows `snmp_ups_walk` step by
//! step, NUT's quirks included (see the crate README).

use crate::agent::{Agent, parse_oid};
use crate::mib::{Mapping, Row, flags::*};
use crate::value::{
    self, Decoded, DecodedInt, SU_INFOSIZE, SetValue, TemperatureUnit, decode_int, decode_str,
    lookup_int, oid_last_arc,
};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use nut_proto::publish::Publish;
use nut_proto::sock::VarFlags;

/// How many OBJECT IDENTIFIER values are followed in a row (NUT has no
/// limit and loops forever on a cycle).
pub const MAX_FOLLOW: usize = 8;
/// The most template items counted by probing (NUT has no limit).
pub const MAX_TEMPLATE_ITEMS: i64 = 1024;
/// The most GETNEXT steps of the `ups.alarms` walk (NUT: `INT_MAX`).
pub const MAX_WALK: usize = 1024;
/// The most daisy-chained devices walked (NUT has no limit; Eaton chains
/// hold up to 8).
pub const MAX_DEVICES: i64 = 256;

/// `sysObjectID.0`.
pub const SYSOID_OID: &str = "1.3.6.1.2.1.1.2.0";
/// `sysDescr.0`.
pub const SYSDESCR_OID: &str = "1.3.6.1.2.1.1.1.0";
/// `sysContact.0`.
pub const SYSCONTACT_OID: &str = "1.3.6.1.2.1.1.4.0";
/// `sysLocation.0`.
pub const SYSLOCATION_OID: &str = "1.3.6.1.2.1.1.6.0";
/// The APC IEM temperature probe (value in the unit of [`APCC_OID_IEM_TEMP_UNIT`]).
pub const APCC_OID_IEM_TEMP: &str = ".1.3.6.1.4.1.318.1.1.10.2.3.2.1.4.1";
/// The APC IEM temperature unit (2: Fahrenheit).
pub const APCC_OID_IEM_TEMP_UNIT: &str = ".1.3.6.1.4.1.318.1.1.10.2.3.2.1.5.1";

/// The driver options that change what the walk publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `semistaticfreq` (default 10): SEMI_STATIC rows are read every this
    /// many updates.
    pub semistaticfreq: i64,
    /// `notransferoids`: the `input.transfer.low/high` rows stop after init.
    pub notransferoids: bool,
    /// `symmetrathreephase`: string transfer voltages times 0.707.
    pub symmetrathreephase: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self { semistaticfreq: 10, notransferoids: false, symmetrathreephase: false }
    }
}

/// Why a SET for `upsrw`/`upscmd` cannot be sent (NUT's `STAT_SET_*` and
/// `STAT_INSTCMD_*` answers other than HANDLED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// No working row of that name (`STAT_SET_UNKNOWN`).
    #[error("unknown variable or command {name:?}")]
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// The value, the outlet number or the chain device is not acceptable
    /// (`STAT_SET_INVALID`).
    #[error("invalid value or target for {name:?}")]
    Invalid {
        /// The name asked for.
        name: String,
    },
    /// The row's OID cannot be sent (a template left unresolved, or none):
    /// NUT's SET fails (`STAT_SET_FAILED`).
    #[error("no usable OID for {name:?}")]
    NoOid {
        /// The name asked for.
        name: String,
    },
}

/// One SET to send for `upsrw` or `upscmd`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetRequest {
    /// The OID, as the row gives it (a leading dot or not).
    pub oid: String,
    /// The value.
    pub value: SetValue,
    /// For a variable: the name and value NUT publishes once the SET
    /// succeeded (see [`SetRequest::apply_success`]).
    pub publish: Option<(String, String)>,
}

impl SetRequest {
    /// Publishes what NUT publishes after a successful SET.
    pub fn apply_success(&self, out: &mut impl Publish) {
        if let Some((k, v)) = &self.publish {
            out.setinfo(k, v);
        }
    }
}

/// The walk modes of `snmp_ups_walk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Init,
    Update,
}

/// C `atoi`: leading white space, a sign, decimal digits; 0 otherwise.
pub(crate) fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -v } else { v }
}

/// Fills the `%i` conversions of a NUT template with `args`, in order (as
/// `snprintf`); a missing argument prints as 0. The result is cut to
/// `SU_INFOSIZE - 1` bytes, as NUT's buffers.
pub fn fill_template(template: &str, args: &[i64]) -> String {
    let mut out = String::new();
    let mut rest = template;
    let mut n = 0;
    while let Some(i) = rest.find("%i") {
        out.push_str(&rest[..i]);
        out.push_str(&args.get(n).copied().unwrap_or(0).to_string());
        n += 1;
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    let mut end = out.len().min(SU_INFOSIZE - 1);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// `get_template_type`: which template family a name belongs to.
fn template_type(name: &str) -> u32 {
    if name.starts_with("outlet.group") {
        SU_OUTLET_GROUP
    } else if name.starts_with("outlet") {
        SU_OUTLET
    } else if name.starts_with("device") {
        SU_DAISY
    } else if name.starts_with("ambient") {
        SU_AMBIENT_TEMPLATE
    } else {
        0
    }
}

/// `extract_template_number`: the item number in an instantiated name.
fn template_number(kind: u32, name: &str) -> i64 {
    let at = if kind & SU_OUTLET_GROUP != 0 {
        12
    } else if kind & SU_OUTLET != 0 || kind & SU_DAISY != 0 {
        6
    } else if kind & SU_AMBIENT_TEMPLATE != 0 {
        7
    } else {
        return -1;
    };
    atoi(name.get(at + 1..).unwrap_or(""))
}

/// An instance of a row: a template row with its `%i` filled, or the row
/// itself.
struct Inst<'a> {
    name: String,
    oid: Option<String>,
    dfl: Option<String>,
    row: &'a Row,
}

/// The state of one device's walk through one mapping: see the module
/// documentation.
#[derive(Clone, Debug)]
pub struct Session {
    mapping: &'static Mapping,
    options: Options,
    flags: Vec<u32>,
    daisy: bool,
    devices: i64,
    current: i64,
    device_offset: i64,
    base_outlet: i64,
    base_group: i64,
    base_device: i64,
    base_ambient: i64,
    base_last: i64,
    phases: Vec<[i64; 3]>,
    unit: TemperatureUnit,
    semistatic_countdown: i64,
    alarm_buf: Vec<String>,
    device_alarm_active: bool,
}

impl Session {
    /// A session for `mapping`, before [`init`](Session::init).
    pub fn new(mapping: &'static Mapping, options: Options) -> Self {
        Self {
            mapping,
            options,
            flags: mapping.rows.iter().map(|r| r.flags).collect(),
            daisy: false,
            devices: 1,
            current: 0,
            device_offset: 0,
            base_outlet: -1,
            base_group: -1,
            base_device: -1,
            base_ambient: -1,
            base_last: -1,
            phases: Vec::new(),
            unit: TemperatureUnit::Unknown,
            semistatic_countdown: 0,
            alarm_buf: Vec::new(),
            device_alarm_active: false,
        }
    }

    /// The mapping.
    pub fn mapping(&self) -> &'static Mapping {
        self.mapping
    }

    /// The number of devices (1, or the daisy chain length).
    pub fn devices(&self) -> i64 {
        self.devices
    }

    /// Whether daisy-chain mode is on.
    pub fn daisy_chain(&self) -> bool {
        self.daisy
    }

    /// The run-time flags of row `i` of the mapping (`SU_FLAG_OK` cleared
    /// for rows that failed, and so on).
    pub fn row_flags(&self, i: usize) -> Option<u32> {
        self.flags.get(i).copied()
    }

    /// NUT's start-up after detection and `upsdrv_initinfo`: the daisy
    /// chain, `load.*`/`shutdown.*` commands, sysDescr/sysContact/
    /// sysLocation, `driver.version.data`, the commands whose OIDs answer,
    /// and the first (init) walk. Returns whether the walk's last read
    /// worked (NUT's "data ok").
    pub fn init(&mut self, agent: &mut impl Agent, out: &mut impl Publish) -> bool {
        // upsdrv_initups, after detection
        self.daisychain_init(agent, out);
        let n = usize::try_from(self.devices.clamp(0, MAX_DEVICES)).unwrap_or(0) + 1;
        self.phases = alloc::vec![[-1; 3]; n];
        let has = |n: &str| self.mapping.find_row(n).is_some();
        if has("load.off.delay") {
            out.addcmd("load.off");
        }
        if has("load.on.delay") {
            out.addcmd("load.on");
        }
        if has("load.off.delay") && has("load.on.delay") {
            out.addcmd("shutdown.return");
            out.addcmd("shutdown.stayoff");
        }
        for (var, oid) in [
            ("description", SYSDESCR_OID),
            ("contact", SYSCONTACT_OID),
            ("location", SYSLOCATION_OID),
        ] {
            let plain = alloc::format!("device.{var}");
            let first = alloc::format!("device.1.{var}");
            if out.getinfo(&plain).is_none() && out.getinfo(&first).is_none() {
                if let Some(v) = self.get_str(agent, oid, None, SU_INFOSIZE) {
                    out.setinfo(&plain, &v);
                }
            }
        }
        // upsdrv_initinfo
        out.setinfo("driver.version.data", &self.mapping.version_data());
        for i in 0..self.flags.len() {
            self.flags[i] |= SU_FLAG_OK;
            let row = &self.mapping.rows[i];
            if row.is_cmd() && row.flags & (SU_OUTLET | SU_OUTLET_GROUP) == 0 {
                self.addcmd(agent, out, i);
            }
        }
        if self.options.notransferoids {
            for (i, row) in self.mapping.rows.iter().enumerate() {
                if row.name.eq_ignore_ascii_case("input.transfer.low")
                    || row.name.eq_ignore_ascii_case("input.transfer.high")
                {
                    self.flags[i] &= !SU_FLAG_OK;
                }
            }
        }
        self.walk(agent, out, Mode::Init)
    }

    /// One `upsdrv_updateinfo` poll (NUT runs one every `pollfreq`
    /// seconds): alarms and status rebuilt, every working non-static row
    /// read again. Returns NUT's "data ok".
    pub fn update(&mut self, agent: &mut impl Agent, out: &mut impl Publish) -> bool {
        out.alarm_init();
        out.status_init();
        self.device_alarm_active = false;
        let ok = self.walk(agent, out, Mode::Update);
        if !self.daisy {
            out.alarm_commit();
        } else if self.device_alarm_active {
            // NUT counts device alarms so that the status leads with ALARM
            // while `ups.alarm` itself is cleared below.
            out.alarm_init();
            out.alarm_set("device alarm");
            out.alarm_commit();
        }
        out.status_commit();
        if self.daisy {
            out.alarm_init();
            out.alarm_commit();
        }
        ok
    }

    fn addcmd(&mut self, agent: &mut impl Agent, out: &mut impl Publish, i: usize) {
        let row = &self.mapping.rows[i];
        if self.daisy {
            let mut cur = 1;
            while cur <= self.devices {
                self.current = cur;
                self.process_template(agent, out, Mode::Init, "device", i);
                cur += 1;
            }
            self.current = cur;
        } else if let Some(oid) = row.oid {
            if agent.get(oid).is_some() {
                out.addcmd(row.name);
            }
        }
    }

    // --- reads ---------------------------------------------------------

    /// `nut_snmp_get_str`.
    fn get_str(
        &mut self,
        agent: &mut impl Agent,
        oid: &str,
        lookup: Option<&crate::mib::Lookup>,
        buf: usize,
    ) -> Option<String> {
        read_str(agent, oid, lookup, buf, &mut self.unit)
    }

    /// `nut_snmp_get_int`.
    fn get_int(agent: &mut impl Agent, oid: &str) -> Option<i64> {
        read_int(agent, oid)
    }

    fn exists(agent: &mut impl Agent, oid: &str) -> bool {
        agent.get(oid).is_some()
    }

    // --- daisy chain ---------------------------------------------------

    fn daisychain_init(&mut self, agent: &mut impl Agent, out: &mut impl Publish) {
        let m = self.mapping;
        if let Some(row) = m.find_row("device.count") {
            self.daisy = true;
            match row.oid {
                Some(oid) if !oid.contains("%i") => {
                    self.devices = -1;
                    if let Some(l) = row.lookup {
                        if l.fun == Some(crate::mib::LookupFn::MarlinDeviceCount) {
                            if let Some(s) = self.get_str(agent, oid, Some(l), 1024) {
                                self.devices = value::marlin_device_count(&s);
                            }
                        }
                    }
                    if self.devices == -1 {
                        self.devices = Self::get_int(agent, oid).unwrap_or(1);
                    }
                }
                _ => self.devices = self.guestimate(agent, row),
            }
            if self.devices < 1 {
                self.devices = 1;
                self.daisy = false;
            } else {
                self.devices = self.devices.min(MAX_DEVICES);
                out.setinfo("device.count", &self.devices.to_string());
                if m.find_row("device.mfr").is_some() {
                    if let Some(r) = m.find_row("ups.mfr") {
                        let inst = Inst {
                            name: r.name.into(),
                            oid: r.oid.map(Into::into),
                            dfl: r.dfl.map(Into::into),
                            row: r,
                        };
                        self.setinfo(out, &inst, None);
                    }
                }
                match m.find_row("device.type").and_then(|r| r.dfl) {
                    Some(t) => {
                        out.setinfo(
                            "device.model",
                            &alloc::format!("daisychain {} (1+{})", t, self.devices - 1),
                        );
                        out.setinfo("device.type", t);
                    }
                    None => {
                        out.setinfo(
                            "device.model",
                            &alloc::format!("daisychain (1+{})", self.devices - 1),
                        );
                    }
                }
            }
        }
        if let Some(row) = m.find_row("device.model") {
            self.base_device = self.base_index(agent, row);
            self.device_offset = self.base_device - 1;
        }
    }

    // --- templates -----------------------------------------------------

    /// `base_snmp_template_index`.
    fn base_index(&mut self, agent: &mut impl Agent, row: &Row) -> i64 {
        let kind = template_type(row.name);
        let Some(oid) = row.oid else { return -1 };
        let cached = match kind {
            SU_OUTLET => self.base_outlet,
            SU_OUTLET_GROUP => self.base_group,
            SU_DAISY => self.base_device,
            SU_AMBIENT_TEMPLATE => self.base_ambient,
            _ => self.base_last,
        };
        self.base_last = cached;
        if cached != -1 {
            return cached;
        }
        let dev = self.current + self.device_offset;
        let multiple = oid.matches('%').count() > 1;
        let mut base = 0;
        while base < 2 {
            let test = if multiple {
                if row.flags & SU_TYPE_DAISY_1 != 0 {
                    fill_template(oid, &[dev, base])
                } else {
                    fill_template(oid, &[base, dev])
                }
            } else {
                fill_template(oid, &[base])
            };
            if Self::exists(agent, &test) {
                if row.flags & SU_FLAG_ZEROINVALID != 0 {
                    if Self::get_int(agent, &test).is_some_and(|v| v != 0) {
                        break;
                    }
                } else if row.flags & SU_FLAG_NAINVALID != 0 {
                    if self.get_str(agent, &test, None, 32).is_some_and(|v| !v.starts_with("N/A")) {
                        break;
                    }
                } else {
                    break;
                }
            }
            base += 1;
        }
        if row.flags & SU_OUTLET != 0 {
            self.base_outlet = base;
        } else if row.flags & SU_OUTLET_GROUP != 0 {
            self.base_group = base;
        } else if row.flags & SU_AMBIENT_TEMPLATE != 0 {
            self.base_ambient = base;
        } else {
            self.base_device = base;
        }
        self.base_last = base;
        base
    }

    /// `guestimate_template_count`, with one deliberate difference: an
    /// SNMPv2c/v3 exception (`noSuchObject`, `noSuchInstance`, here
    /// [`Value::Null`]) ends the count, as a v1 `noSuchName` does.
    ///
    /// NUT 2.8.0 counts any answer PDU as present, exceptions included, so
    /// over v2c/v3 an agent that lacks the table makes it GET index after
    /// index without end (until a timeout): its start-up never finishes and
    /// it serves nothing (seen with `eatonupsm2_9px` over v2c, whose outlet
    /// table is absent; tested in `nut-drivers/tests/snmp.rs`). No output
    /// of NUT's can therefore differ from this one.
    fn guestimate<A: Agent>(&mut self, agent: &mut A, row: &Row) -> i64 {
        let Some(oid) = row.oid else { return 0 };
        let present = |a: &mut A, oid: &str| matches!(a.get(oid), Some(v) if v != Value::Null);
        let mut base = 0;
        let test = fill_template(oid, &[0]);
        let zero =
            |a: &mut A| row.flags & SU_FLAG_ZEROINVALID != 0 && Self::get_int(a, &test) == Some(0);
        if !present(agent, &test) || zero(agent) {
            base += 1;
        }
        let mut count = 0;
        while count < MAX_TEMPLATE_ITEMS && present(agent, &fill_template(oid, &[base + count])) {
            count += 1;
        }
        count
    }

    /// `process_template`.
    fn process_template(
        &mut self,
        agent: &mut impl Agent,
        out: &mut impl Publish,
        mode: Mode,
        kind: &str,
        i: usize,
    ) -> bool {
        let row = &self.mapping.rows[i];
        let mut status = true;
        let count_var = if !kind.starts_with("device") && self.devices > 1 && self.current > 0 {
            alloc::format!("device.{}.{}.count", self.current, kind)
        } else {
            alloc::format!("{kind}.count")
        };
        let count = match out.getinfo(&count_var) {
            None => {
                let c = self.guestimate(agent, row);
                if c > 0 {
                    out.setinfo(&count_var, &c.to_string());
                }
                c
            }
            Some(v) => atoi(v),
        };
        if count <= 0 {
            return status;
        }
        let count = count.min(MAX_TEMPLATE_ITEMS);
        let mut inst_flags = self.flags[i];
        let base = self.base_index(agent, row);
        let mut nut_index: i64 = 0;
        let mut n = base;
        while n < count + base {
            let name;
            if kind.starts_with("device") {
                if self.current > 0 {
                    let tail = row.name.strip_prefix("device.").unwrap_or(row.name);
                    name = alloc::format!("device.{}.{}", self.current, tail);
                } else {
                    nut_index = n;
                    name = fill_template(row.name, &[nut_index]);
                }
            } else if kind.starts_with("outlet") || kind.starts_with("ambient") {
                nut_index = n;
                if kind.starts_with("ambient")
                    && self.daisy
                    && row.flags & SU_TYPE_DAISY_MASTER_ONLY != 0
                    && self.current != 1
                {
                    n += 1;
                    continue;
                }
                if self.daisy && self.devices > 1 && self.current > 0 {
                    let t = alloc::format!("device.%i.{}", row.name);
                    name = fill_template(&t, &[self.current, nut_index]);
                } else {
                    name = fill_template(row.name, &[nut_index]);
                }
            } else {
                name = String::from(row.name);
            }
            let dfl = match row.dfl {
                Some(d) if d.contains("%i") => Some(fill_template(d, &[nut_index])),
                Some(d) => Some(String::from(d)),
                None => None,
            };
            let oid = row.oid.map(|o| {
                if kind.starts_with("device") {
                    if self.current > 0 {
                        fill_template(o, &[self.current + self.device_offset])
                    } else {
                        String::new()
                    }
                } else if self.daisy {
                    if row.flags & SU_TYPE_DAISY_1 != 0 {
                        fill_template(o, &[self.current + self.device_offset, n])
                    } else if row.flags & SU_TYPE_DAISY_2 != 0 {
                        fill_template(
                            o,
                            &[n + self.device_offset, self.current - self.device_offset],
                        )
                    } else {
                        fill_template(o, &[n])
                    }
                } else {
                    fill_template(o, &[n])
                }
            });
            let inst = Inst { name, oid, dfl, row };
            if inst.oid.is_some() {
                if row.is_cmd() {
                    if mode == Mode::Init {
                        out.addcmd(&inst.name);
                    }
                } else {
                    status = self.get_and_process(agent, out, mode, &inst, &mut inst_flags);
                }
            } else {
                self.setinfo(out, &inst, None);
            }
            self.flags[i] = inst_flags;
            n += 1;
        }
        status
    }

    // --- the walk ------------------------------------------------------

    fn walk(&mut self, agent: &mut impl Agent, out: &mut impl Publish, mode: Mode) -> bool {
        if mode == Mode::Update {
            self.semistatic_countdown -= 1;
            if self.semistatic_countdown < 0 {
                self.semistatic_countdown = self.options.semistaticfreq;
            }
        }
        let mut status = false;
        let start = if !self.daisy && self.devices == 1 { 1 } else { 0 };
        let mut cur = start;
        while cur <= self.devices {
            self.current = cur;
            if self.devices > 1 {
                self.alarm_buf.clear();
            }
            for i in 0..self.mapping.rows.len() {
                let row = &self.mapping.rows[i];
                let f = self.flags[i];
                if mode == Mode::Init && row.name.starts_with("device.count") {
                    self.flags[i] &= !SU_FLAG_OK;
                    continue;
                }
                if self.current == 0 && self.daisy {
                    continue;
                }
                if row.is_cmd() && f & (SU_OUTLET | SU_OUTLET_GROUP) == 0 {
                    continue;
                }
                if mode == Mode::Update {
                    if f & SU_FLAG_OK == 0 {
                        continue;
                    }
                    if f & SU_FLAG_SEMI_STATIC != 0 && self.semistatic_countdown != 0 {
                        continue;
                    }
                    if f & SU_FLAG_STATIC != 0 {
                        continue;
                    }
                }
                if f & SU_FLAG_ABSENT != 0
                    && f & (SU_OUTLET | SU_OUTLET_GROUP | SU_AMBIENT_TEMPLATE) == 0
                {
                    if mode == Mode::Init {
                        if row.dfl.is_some() {
                            if self.daisy && self.devices > 1 && self.current != 0 {
                                status = self.process_template(agent, out, mode, "device", i);
                            } else {
                                let inst = Inst {
                                    name: row.name.into(),
                                    oid: row.oid.map(Into::into),
                                    dfl: row.dfl.map(Into::into),
                                    row,
                                };
                                self.setinfo(out, &inst, None);
                            }
                        }
                        self.flags[i] |= SU_FLAG_STATIC;
                    }
                    continue;
                }
                let dev = usize::try_from(self.current).unwrap_or(0);
                if f & SU_INPHASES != 0 && self.phase_skip(agent, out, "input", dev, 0, i) {
                    continue;
                }
                if self.flags[i] & SU_OUTPHASES != 0
                    && self.phase_skip(agent, out, "output", dev, 1, i)
                {
                    continue;
                }
                if self.flags[i] & SU_BYPPHASES != 0
                    && self.phase_skip(agent, out, "input.bypass", dev, 2, i)
                {
                    continue;
                }
                let f = self.flags[i];
                if f & (SU_OUTLET | SU_OUTLET_GROUP | SU_AMBIENT_TEMPLATE) != 0 {
                    if row.is_cmd() && mode == Mode::Update {
                        continue;
                    }
                    let kind = if f & SU_OUTLET != 0 {
                        "outlet"
                    } else if f & SU_OUTLET_GROUP != 0 {
                        "outlet.group"
                    } else {
                        "ambient"
                    };
                    status = self.process_template(agent, out, mode, kind, i);
                } else {
                    let inst = Inst {
                        name: row.name.into(),
                        oid: row.oid.map(Into::into),
                        dfl: row.dfl.map(Into::into),
                        row,
                    };
                    let mut fl = self.flags[i];
                    status = self.get_and_process(agent, out, mode, &inst, &mut fl);
                    // disable_competition may have cleared OK on other rows
                    self.flags[i] = fl;
                }
            }
            if self.devices > 1 {
                let var = if cur != 0 {
                    alloc::format!("device.{cur}.ups.alarm")
                } else {
                    String::from("ups.alarm")
                };
                if self.alarm_buf.is_empty() {
                    out.delinfo(&var);
                } else {
                    let v = self.alarm_buf.join(" ");
                    out.setinfo(&var, &v);
                    self.device_alarm_active = true;
                }
                self.alarm_buf.clear();
            }
            cur += 1;
        }
        status
    }

    /// `process_phase_data`; true when the row is to be skipped.
    fn phase_skip(
        &mut self,
        agent: &mut impl Agent,
        out: &mut impl Publish,
        kind: &str,
        dev: usize,
        slot: usize,
        i: usize,
    ) -> bool {
        // NUT tests "input" first, so the bypass rows use the input bits
        let (all, one, three) = if kind.starts_with("input") {
            (SU_INPHASES, SU_INPUT_1, SU_INPUT_3)
        } else {
            (SU_OUTPHASES, SU_OUTPUT_1, SU_OUTPUT_3)
        };
        let Some(ph) = self.phases.get(dev).map(|p| p[slot]) else { return false };
        let mut nb = ph;
        if nb == -1 {
            let var = if self.daisy && self.current > 0 {
                alloc::format!("device.{}.{}.phases", self.current, kind)
            } else {
                alloc::format!("{kind}.phases")
            };
            match out.getinfo(&var) {
                None => {
                    let plain = alloc::format!("{kind}.phases");
                    nb = match self.mapping.find_row(&plain) {
                        Some(r) => {
                            let oid = match r.oid {
                                Some(o) if o.contains('%') => {
                                    Some(fill_template(o, &[self.current + self.device_offset]))
                                }
                                Some(o) => Some(String::from(o)),
                                None => None,
                            };
                            oid.and_then(|o| Self::get_int(agent, &o)).unwrap_or(1)
                        }
                        None => 1,
                    };
                    // NUT publishes under the plain name here
                    out.setinfo(&plain, &nb.to_string());
                }
                Some(v) => {
                    nb = atoi(v);
                    out.setinfo(&var, &nb.to_string());
                }
            }
            if let Some(p) = self.phases.get_mut(dev) {
                p[slot] = nb;
            }
        }
        let f = self.flags[i];
        if f & one != 0 {
            if nb == 1 {
                self.flags[i] &= !all;
            } else {
                self.flags[i] &= !SU_FLAG_OK;
                return true;
            }
        } else if f & three != 0 {
            if nb == 3 {
                self.flags[i] &= !all;
            } else {
                self.flags[i] &= !SU_FLAG_OK;
                return true;
            }
        }
        false
    }

    /// `get_and_process_data`.
    fn get_and_process(
        &mut self,
        agent: &mut impl Agent,
        out: &mut impl Publish,
        mode: Mode,
        inst: &Inst<'_>,
        flags: &mut u32,
    ) -> bool {
        let ok = self.ups_get(agent, out, inst, flags);
        if ok {
            *flags &= !SU_FLAG_STALE;
            if *flags & SU_FLAG_UNIQUE != 0 {
                self.disable_competition(inst);
                *flags &= !SU_FLAG_UNIQUE;
            }
        } else if mode == Mode::Init {
            *flags &= !SU_FLAG_OK;
        } else {
            *flags |= SU_FLAG_STALE;
        }
        ok
    }

    fn disable_competition(&mut self, inst: &Inst<'_>) {
        for (j, r) in self.mapping.rows.iter().enumerate() {
            if !core::ptr::eq(r, inst.row) && r.name == inst.name {
                self.flags[j] &= !SU_FLAG_OK;
            }
        }
    }

    fn alarm_set(&mut self, out: &mut impl Publish, text: &str) {
        if self.devices > 1 {
            self.alarm_buf.push(String::from(text));
        } else {
            out.alarm_set(text);
        }
    }

    /// `su_ups_get`.
    fn ups_get(
        &mut self,
        agent: &mut impl Agent,
        out: &mut impl Publish,
        inst: &Inst<'_>,
        flags: &mut u32,
    ) -> bool {
        let row = inst.row;
        let mut as_master = false;
        let oid: Option<String> = match &inst.oid {
            Some(o) if o.contains('%') => {
                Some(fill_template(o, &[self.current + self.device_offset]))
            }
            other => {
                if self.daisy && self.devices > 1 && self.current > 0 {
                    let b = inst.name.as_bytes();
                    if !(inst.name.starts_with("device.")
                        && b.get(7).is_some_and(u8::is_ascii_digit))
                    {
                        as_master = true;
                    }
                }
                other.clone()
            }
        };
        let name = inst.name.as_str();
        if name.eq_ignore_ascii_case("ups.status") {
            let Some(v) = oid.as_deref().and_then(|o| Self::get_int(agent, o)) else {
                return false;
            };
            if let Some(l) = row.lookup {
                if let Some(s) = lookup_int(l, v, Some(&mut self.unit)) {
                    if !s.is_empty() {
                        out.status_set(&s);
                    }
                }
            }
            return true;
        }
        if name.rfind('.').and_then(|i| name.get(i..)) == Some(".alarm") {
            let Some(v) = oid.as_deref().and_then(|o| Self::get_int(agent, o)) else {
                return false;
            };
            self.su_alarm_set(out, name, row, *flags, v);
            return true;
        }
        if name.eq_ignore_ascii_case("ups.alarms") {
            let Some(o) = oid.as_deref() else { return false };
            let Some(v) = Self::get_int(agent, o) else { return false };
            if v > 0 {
                self.walk_alarms(agent, out, o);
            }
            return true;
        }
        if name.eq_ignore_ascii_case("ambient.temperature") {
            let Some(o) = oid.as_deref() else { return false };
            let Some(v) = Self::get_int(agent, o) else { return false };
            let text = if o == APCC_OID_IEM_TEMP {
                let f = Self::get_int(agent, APCC_OID_IEM_TEMP_UNIT).is_none_or(|u| u == 2);
                value::format_ambient_temperature(v, row.len, Some(f))
            } else {
                value::format_ambient_temperature(v, row.len, None)
            };
            self.publish(out, inst, &text, as_master);
            return true;
        }
        let text: String;
        if oid.is_none() && inst.dfl.is_some() {
            text = cut(inst.dfl.as_deref().unwrap_or(""), SU_INFOSIZE);
        } else if row.is_string() {
            let Some(o) = oid.as_deref() else { return false };
            let Some(mut s) = self.get_str(agent, o, row.lookup, SU_INFOSIZE) else { return false };
            if self.options.symmetrathreephase
                && (name.eq_ignore_ascii_case("input.transfer.low")
                    || name.eq_ignore_ascii_case("input.transfer.high"))
            {
                s = alloc::format!("{:.2}", atof(&s) * 0.707);
            }
            if let Some(l) = row.lookup {
                match l.fun {
                    Some(crate::mib::LookupFn::UsDateToIsoDate) => s = value::us_date_to_iso(&s),
                    Some(crate::mib::LookupFn::TemperatureUnit)
                    | Some(crate::mib::LookupFn::TemperatureRead) => {
                        // NUT hands these integer functions the text buffer;
                        // there is no such row in 2.8.0's tables.
                    }
                    _ => {}
                }
            }
            text = s;
        } else {
            let Some(o) = oid.as_deref() else { return false };
            let Some(v) = Self::get_int(agent, o) else { return false };
            match value::format_int_row(row, v, Some(&mut self.unit)) {
                Some(t) => text = t,
                None => {
                    *flags &= !SU_FLAG_OK;
                    if *flags & SU_FLAG_UNIQUE != 0 {
                        self.disable_competition(inst);
                        *flags &= !SU_FLAG_UNIQUE;
                    }
                    return false;
                }
            }
        }
        self.publish(out, inst, &text, as_master);
        true
    }

    fn publish(&mut self, out: &mut impl Publish, inst: &Inst<'_>, text: &str, as_master: bool) {
        let saved = self.current;
        if as_master {
            self.current = 1;
        }
        self.setinfo(out, inst, Some(text));
        self.current = saved;
    }

    fn walk_alarms(&mut self, agent: &mut impl Agent, out: &mut impl Publish, oid: &str) {
        let Some(base) = parse_oid(oid) else { return };
        let mut answers: Vec<Value> = Vec::new();
        match agent.get(oid) {
            Some(v) => answers.push(v),
            None => return,
        }
        let mut cur = String::from(oid);
        while answers.len() < MAX_WALK {
            let Some((next, v)) = agent.get_next(&cur) else { break };
            if parse_oid(&next).is_none_or(|a| a.len() < base.len()) {
                break;
            }
            answers.push(v);
            cur = next;
        }
        for v in answers {
            if let Value::ObjectId(o) = v {
                let text = value::oid_text(&o);
                if let Some(a) = self.mapping.alarms.iter().find(|a| a.oid == text) {
                    if let Some(s) = a.status {
                        out.status_set(s);
                    }
                    if let Some(t) = a.alarm {
                        self.alarm_set(out, t);
                    }
                }
            }
        }
    }

    /// `su_alarm_set`.
    fn su_alarm_set(&mut self, out: &mut impl Publish, name: &str, row: &Row, flags: u32, v: i64) {
        let info_type = if name.starts_with("device.") {
            match name.get(7..).and_then(|t| t.find('.').map(|i| &t[i + 1..])) {
                Some(t) => t,
                None => name,
            }
        } else {
            name
        };
        let Some(l) = row.lookup else { return };
        let Some(mut text) = lookup_int(l, v, Some(&mut self.unit)) else { return };
        if text.is_empty() {
            return;
        }
        if flags & (SU_OUTLET | SU_OUTLET_GROUP) != 0 {
            let n = template_number(flags, info_type);
            let group = if flags & SU_OUTLET_GROUP != 0 { " group" } else { "" };
            text = alloc::format!("outlet{group} {n} {text}");
        }
        if let Some(rest) = info_type.strip_prefix('L') {
            text = alloc::format!("phase L{} {}", atoi(rest), text);
        }
        self.alarm_set(out, &text);
    }

    /// `su_setinfo`.
    fn setinfo(&mut self, out: &mut impl Publish, inst: &Inst<'_>, value: Option<&str>) {
        let row = inst.row;
        let name: String = if self.daisy && self.devices > 1 {
            let prefix = alloc::format!("device.{}", self.current);
            if self.current > 0 && !inst.name.contains(&prefix) {
                match inst.name.strip_prefix("device.") {
                    Some(t) => alloc::format!("device.{}.{}", self.current, t),
                    None => alloc::format!("device.{}.{}", self.current, inst.name),
                }
            } else {
                inst.name.clone()
            }
        } else {
            inst.name.clone()
        };
        if row.is_cmd() {
            return;
        }
        let n = inst.name.as_str();
        let is_alarm =
            n.rfind('.').and_then(|i| n.get(i..)).is_some_and(|t| t.eq_ignore_ascii_case(".alarm"));
        if n.eq_ignore_ascii_case("ups.status") || is_alarm {
            return;
        }
        match value.or(inst.dfl.as_deref()) {
            Some(v) => {
                out.setinfo(&name, v);
            }
            None => return,
        }
        out.setflags(&name, VarFlags { rw: row.is_rw(), string: row.is_string(), number: false });
        out.setaux(&name, row.len as i64);
        if row.is_rw() {
            if let Some(l) = row.lookup {
                for e in l.entries {
                    out.addenum(&name, e.info);
                }
            }
        }
    }

    // --- SET -----------------------------------------------------------

    /// What NUT SETs for `upsrw <var>=<value>` (`su_setvar`). `state` is
    /// the published tree (outlet counts are read from it).
    pub fn setvar(
        &self,
        state: &impl Publish,
        var: &str,
        value: &str,
    ) -> Result<SetRequest, SetError> {
        self.set_oid(state, var, Some(value), false)
    }

    /// What NUT SETs for `upscmd <cmd> [<extra>]` (`su_instcmd`).
    pub fn instcmd(
        &self,
        state: &impl Publish,
        cmd: &str,
        extra: Option<&str>,
    ) -> Result<SetRequest, SetError> {
        self.set_oid(state, cmd, extra, true)
    }

    fn set_oid(
        &self,
        state: &impl Publish,
        varname: &str,
        val: Option<&str>,
        cmd: bool,
    ) -> Result<SetRequest, SetError> {
        let unknown = || SetError::Unknown { name: varname.into() };
        let invalid = || SetError::Invalid { name: varname.into() };
        let m = self.mapping;
        let mut dev: i64 = 0;
        let mut tmp: String = String::from(varname);
        let mut count_prefix = String::new();
        if varname.starts_with("device") {
            if varname.as_bytes().get(7).is_some_and(u8::is_ascii_digit) {
                dev = atoi(&varname[7..]);
                tmp = String::from(varname.get(9..).unwrap_or(""));
                count_prefix = varname.chars().take(9).collect();
            } else if self.daisy {
                dev = match m.find_row(varname) {
                    Some(r) if r.oid.is_none_or(|o| o.contains(".%i")) => 0,
                    _ => 1,
                };
            }
        }
        if self.daisy && self.devices > 1 && dev == 0 {
            return Err(invalid());
        }
        let row_index = |name: &str| m.rows.iter().position(|r| r.name.eq_ignore_ascii_case(name));
        let (idx, oid, dfl, name_for_check): (usize, Option<String>, Option<String>, String);
        if !tmp.starts_with("outlet") {
            let mut found = row_index(&tmp);
            if found.is_none() && tmp != varname {
                found = row_index(varname);
                if found.is_none()
                    && self.daisy
                    && self.devices > 1
                    && dev == 1
                    && varname.starts_with("device.1.")
                {
                    let alt = alloc::format!("device.{}", &varname[9..]);
                    if let Some(j) = row_index(&alt) {
                        found = Some(j);
                        tmp = alt;
                    }
                }
            }
            let i = found.ok_or_else(unknown)?;
            let r = &m.rows[i];
            idx = i;
            oid = r.oid.map(String::from);
            dfl = r.dfl.map(String::from);
            name_for_check = tmp.clone();
        } else {
            let kind = template_type(&tmp);
            let (count_var, num_at) = if kind == SU_OUTLET_GROUP {
                (alloc::format!("{count_prefix}outlet.group.count"), 12)
            } else {
                (alloc::format!("{count_prefix}outlet.count"), 6)
            };
            let total = state.getinfo(&count_var).map(atoi).unwrap_or(0);
            let item = atoi(tmp.get(num_at + 1..).unwrap_or(""));
            if item > total {
                return Err(invalid());
            }
            let after = tmp.get(num_at + 1..).unwrap_or("");
            let suffix = after.find('.').map(|i| &after[i..]).unwrap_or("");
            let family = if kind == SU_OUTLET_GROUP { "outlet.group" } else { "outlet" };
            let templ = alloc::format!("{family}.%i{suffix}");
            let i = row_index(&templ).ok_or_else(unknown)?;
            let r = &m.rows[i];
            idx = i;
            dfl = match r.dfl {
                Some(d) if d.contains("%i") => Some(fill_template(d, &[item])),
                other => other.map(String::from),
            };
            oid = match r.oid {
                Some(o) => Some(if self.daisy {
                    let off = if self.devices > 1 { 1 } else { 0 };
                    if r.flags & SU_TYPE_DAISY_1 != 0 {
                        fill_template(o, &[dev - off, item])
                    } else {
                        fill_template(o, &[item, dev - off])
                    }
                } else {
                    fill_template(o, &[item])
                }),
                None => {
                    if cmd {
                        return Err(unknown());
                    }
                    None
                }
            };
            name_for_check = tmp.clone();
        }
        let _ = name_for_check;
        if self.flags.get(idx).is_none_or(|f| f & SU_FLAG_OK == 0) {
            return Err(unknown());
        }
        let row = &m.rows[idx];
        if cmd && val.is_none() && dfl.is_none() {
            return Err(invalid());
        }
        let value = if row.is_string() {
            SetValue::OctetString(String::from(val.or(dfl.as_deref()).unwrap_or("")))
        } else if cmd {
            let n = value::str_to_long(val.or(dfl.as_deref()).unwrap_or("")).ok_or_else(invalid)?;
            if row.su_type() == SU_TYPE_TIME {
                SetValue::TimeTicks(n.saturating_mul(100))
            } else {
                SetValue::Integer(n)
            }
        } else {
            let v = val.unwrap_or("");
            value::encode_setvar(row, v).ok_or_else(invalid)?
        };
        let oid = oid
            .filter(|o| parse_oid(o).is_some())
            .ok_or_else(|| SetError::NoOid { name: varname.into() })?;
        let publish =
            if cmd { None } else { Some((String::from(varname), String::from(val.unwrap_or("")))) };
        Ok(SetRequest { oid, value, publish })
    }
}

use crate::value::Value;

/// NUT's `nut_snmp_get_str`: GET `oid` and decode it as a string with an
/// optional lookup. An OBJECT IDENTIFIER value names the OID to read
/// instead (followed at most [`MAX_FOLLOW`] times); when that read fails,
/// the value's last arc is the text.
pub fn read_str(
    agent: &mut impl Agent,
    oid: &str,
    lookup: Option<&crate::mib::Lookup>,
    buf: usize,
    unit: &mut TemperatureUnit,
) -> Option<String> {
    read_str_at(agent, oid, lookup, buf, unit, 0)
}

fn read_str_at(
    agent: &mut impl Agent,
    oid: &str,
    lookup: Option<&crate::mib::Lookup>,
    buf: usize,
    unit: &mut TemperatureUnit,
    depth: usize,
) -> Option<String> {
    let v = agent.get(oid)?;
    let d = match (&v, lookup) {
        (Value::Integer(_) | Value::Counter32(_) | Value::Gauge32(_), Some(l)) => {
            let n = match v {
                Value::Integer(n) => n,
                Value::Counter32(n) | Value::Gauge32(n) => i64::from(n),
                _ => 0,
            };
            let s = lookup_int(l, n, Some(unit))?;
            Decoded::Text(cut(&s, buf))
        }
        _ => decode_str(&v, lookup, buf)?,
    };
    match d {
        Decoded::Text(t) => Some(t),
        Decoded::Follow(target) => {
            if depth + 1 < MAX_FOLLOW {
                if let Some(t) = read_str_at(agent, &target, lookup, buf, unit, depth + 1) {
                    return Some(t);
                }
            }
            Some(cut(target.rsplit('.').next().unwrap_or(""), buf))
        }
    }
}

/// NUT's `nut_snmp_get_int`: GET `oid` as an integer; an OBJECT
/// IDENTIFIER value names the OID to read instead, falling back to its
/// last arc.
pub fn read_int(agent: &mut impl Agent, oid: &str) -> Option<i64> {
    read_int_at(agent, oid, 0)
}

fn read_int_at(agent: &mut impl Agent, oid: &str, depth: usize) -> Option<i64> {
    let v = agent.get(oid)?;
    match decode_int(&v)? {
        DecodedInt::Int(n) => Some(n),
        DecodedInt::Follow(target) => {
            if depth + 1 < MAX_FOLLOW {
                if let Some(n) = read_int_at(agent, &target, depth + 1) {
                    return Some(n);
                }
            }
            Some(oid_last_arc(&target))
        }
    }
}

fn cut(s: &str, buf: usize) -> String {
    let max = buf.saturating_sub(1);
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    String::from(&s[..end])
}

/// C `atof` for the plain decimal numbers the transfer voltages are.
fn atof(s: &str) -> f64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))
        })
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::MapAgent;
    use nut_proto::publish::Recorder;

    #[test]
    fn templates_and_atoi() {
        assert_eq!(fill_template("outlet.%i.desc", &[3]), "outlet.3.desc");
        assert_eq!(fill_template(".1.2.%i.%i", &[0, 7]), ".1.2.0.7");
        assert_eq!(fill_template(".1.2.%i.%i", &[5]), ".1.2.5.0");
        assert_eq!(atoi(" 12abc"), 12);
        assert_eq!(atoi("x"), 0);
        assert_eq!(template_number(SU_OUTLET_GROUP, "outlet.group.4.alarm"), 4);
        assert_eq!(template_number(SU_OUTLET, "outlet.12.alarm"), 12);
    }

    #[test]
    fn object_identifier_values_are_followed() {
        let mut a = MapAgent::new();
        a.insert("1.1", Value::ObjectId("1.3.6.1.2.1.33.1.7.7.4".into()));
        a.insert("1.2", Value::ObjectId("1.5".into()));
        a.insert("1.5", Value::OctetString(b"text".to_vec()));
        a.insert("1.6", Value::ObjectId("1.6".into()));
        let mut u = TemperatureUnit::Unknown;
        assert_eq!(read_str(&mut a, "1.1", None, 128, &mut u).as_deref(), Some("4"));
        assert_eq!(read_str(&mut a, "1.2", None, 128, &mut u).as_deref(), Some("text"));
        assert_eq!(read_int(&mut a, "1.1"), Some(4));
        // a cycle ends at the bound with the last arc
        assert_eq!(read_int(&mut a, "1.6"), Some(6));
        assert_eq!(read_str(&mut a, "9.9", None, 128, &mut u), None);
    }

    #[test]
    fn powerware_alarm_table() {
        // upsAlarmsPresent, then the alarm table of OID values
        let mut a = MapAgent::new();
        a.insert("1.3.6.1.4.1.534.1.7.1.0", Value::Integer(2));
        a.insert("1.3.6.1.4.1.534.1.7.2.1.2.1", Value::ObjectId("1.3.6.1.4.1.534.1.7.7".into()));
        a.insert("1.3.6.1.4.1.534.1.7.2.1.2.2", Value::ObjectId("1.3.6.1.4.1.534.1.7.4".into()));
        let mut r = Recorder::new();
        let mut s = Session::new(&crate::tables::powerware::POWERWARE, Options::default());
        s.init(&mut a, &mut r);
        s.update(&mut a, &mut r);
        // the overload entry matches; NUT's low-battery entry is written
        // without the leading dot net-snmp prints, so it never matches
        assert_eq!(r.getinfo("ups.status"), Some("ALARM OVER"));
        assert_eq!(r.getinfo("ups.alarm"), Some("Output overload!"));
        a.insert("1.3.6.1.4.1.534.1.7.1.0", Value::Integer(0));
        s.update(&mut a, &mut r);
        assert_eq!(r.getinfo("ups.status"), Some(""));
        assert_eq!(r.getinfo("ups.alarm"), None);
    }
}
