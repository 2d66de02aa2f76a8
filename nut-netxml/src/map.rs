//! The `mge-xml` interpretation of a page: element states, object values
//! through the table ([`crate::table`]), status bits, alarms and the
//! phase-count estimate.

use crate::parse::Ev;
use crate::table::{self, Bit, Conv, On};
use nut_proto::publish::Publish;
use std::fmt::Write as _;

/// The longest object name or attribute value kept, in bytes (NUT's
/// 128-byte buffers).
pub const MAX_TEXT: usize = 127;

/// The longest text collected by appending (an object's character data,
/// `name/type/version`), in bytes: NUT's `snprintfcat` stops one byte
/// short of [`MAX_TEXT`].
pub const MAX_APPENDED: usize = 126;

/// The driver's options that change the mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `do_convert_deci`: divide some measurements by ten (old MGE
    /// firmware).
    pub convert_deci: bool,
    /// `shutdown_duration` (120 s): a shutdown delay up to this many
    /// seconds means the shutdown is imminent.
    pub shutdown_duration: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options { convert_deci: false, shutdown_duration: 120 }
    }
}

/// The pages the product page names (each an absolute path).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pages {
    /// `SUMMARY/XML_SUMMARY_PAGE`: the property list.
    pub summary: Option<String>,
    /// `SUMMARY/CENTRAL_CFG`: the configuration page.
    pub configure: Option<String>,
    /// `ALARMS/SUBSCRIPTION`: the alarm subscription.
    pub subscribe: Option<String>,
    /// `UPS_DATA/GET_OBJECT`: the object values.
    pub getobject: Option<String>,
    /// `UPS_DATA/SET_OBJECT`.
    pub setobject: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unexpected,
    ProductInfo,
    PiSummary,
    PiLeaf,
    PiAlarms,
    PiManagement,
    PiUpsData,
    PiGetObject,
    Summary,
    SuObject,
    GetObject,
    GoObject,
    SetObject,
    Alarm,
    XmlClient,
    XcGeneral,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Phases {
    inited: bool,
    num: i32,
}

/// The mapping's state across pages: status bits, the last object name
/// and value, the pages, what the product page said.
#[derive(Clone, Debug, Default)]
pub struct Mapper {
    options: Options,
    bits: u32,
    var: String,
    val: String,
    ambient: bool,
    shutdown_pending: bool,
    phases: [Phases; 3],
    pages: Pages,
    v4: bool,
}

/// NUT's `atoi`: leading blanks, a sign, digits; out of range wraps as
/// `strtol` clamped to 64 bits then cut to `int`.
pub fn atoi(s: &str) -> i32 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i128 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = (n * 10 + i128::from(b - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let n = if neg { -n } else { n };
    let n = n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    n as i32
}

fn push_capped(dst: &mut String, src: &str) {
    for c in src.chars() {
        if dst.len() + c.len_utf8() > MAX_APPENDED {
            break;
        }
        dst.push(c);
    }
}

fn capped(src: &str) -> String {
    let mut end = src.len().min(MAX_TEXT);
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    src[..end].to_string()
}

/// `"/" + the first blank-separated token`, as NUT makes page URLs.
pub fn url_convert(v: &str) -> String {
    let tok = v.split([' ', '\r', '\n', '\t']).find(|t| !t.is_empty()).unwrap_or("");
    let mut s = String::from("/");
    s.push_str(tok);
    s
}

/// Splits `date time` as NUT's: the date is the first token (separated
/// by blanks or dashes), the time the next blank-separated token.
pub fn split_date_time(v: &str) -> (Option<&str>, Option<&str>) {
    let is1 = |c: char| c == ' ' || c == '-';
    let rest = v.trim_start_matches(is1);
    if rest.is_empty() {
        return (None, None);
    }
    let end = rest.find(is1).unwrap_or(rest.len());
    let date = &rest[..end];
    let after = if end < rest.len() { &rest[end + 1..] } else { "" };
    let after = after.trim_start_matches(' ');
    let time = (!after.is_empty()).then(|| &after[..after.find(' ').unwrap_or(after.len())]);
    (Some(date), time)
}

impl Mapper {
    /// A mapper with these options and no state.
    pub fn new(options: Options) -> Self {
        Mapper { options, ..Mapper::default() }
    }

    /// The pages the product page named so far.
    pub fn pages(&self) -> &Pages {
        &self.pages
    }

    /// Whether a product page announced `protocol="XML.V4"`.
    pub fn is_v4(&self) -> bool {
        self.v4
    }

    /// Whether a status bit is set.
    pub fn bit(&self, b: Bit) -> bool {
        self.bits & (1 << b as u32) != 0
    }

    fn set_bit(&mut self, b: Bit, on: bool) {
        if on {
            self.bits |= 1 << b as u32;
        } else {
            self.bits &= !(1 << b as u32);
        }
    }

    /// Applies a checked document.
    pub(crate) fn apply(&mut self, events: &[Ev], out: &mut dyn Publish) {
        let mut stack: Vec<State> = Vec::new();
        for ev in events {
            match ev {
                Ev::Start { name, attrs } => {
                    let parent = stack.last().copied();
                    let st = self.start(parent, name, attrs, out);
                    stack.push(st);
                }
                Ev::Text(t) => {
                    if t == "\n" {
                        continue;
                    }
                    if matches!(stack.last(), Some(State::SuObject | State::GoObject)) {
                        push_capped(&mut self.val, t);
                    }
                }
                Ev::End => {
                    let st = stack.pop().unwrap_or(State::Unexpected);
                    self.end(st, out);
                }
            }
        }
    }

    fn start(
        &mut self,
        parent: Option<State>,
        name: &str,
        attrs: &[(String, String)],
        out: &mut dyn Publish,
    ) -> State {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        let url = |out: &mut Option<String>| {
            for (k, v) in attrs {
                if k.eq_ignore_ascii_case("url") {
                    *out = Some(url_convert(v));
                }
            }
        };
        match parent {
            None => {
                if is("PRODUCT_INFO") {
                    self.product_info(attrs, out);
                    State::ProductInfo
                } else if is("SUMMARY") {
                    State::Summary
                } else if is("GET_OBJECT") {
                    State::GetObject
                } else if is("SET_OBJECT") {
                    State::SetObject
                } else if is("ALARM") {
                    self.var.clear();
                    self.val.clear();
                    for (k, v) in attrs {
                        if k.eq_ignore_ascii_case("object") {
                            self.var = capped(v);
                        } else if k.eq_ignore_ascii_case("value") {
                            self.val = capped(v);
                        } else if k.eq_ignore_ascii_case("date") {
                            let (date, time) = split_date_time(v);
                            if let Some(d) = date {
                                out.setinfo("ups.date", d);
                            }
                            if let Some(t) = time {
                                out.setinfo("ups.time", t);
                            }
                        }
                    }
                    State::Alarm
                } else if is("XML-CLIENT") {
                    State::XmlClient
                } else {
                    State::Unexpected
                }
            }
            Some(State::ProductInfo) => {
                if is("SUMMARY") {
                    State::PiSummary
                } else if is("ALARMS") {
                    State::PiAlarms
                } else if is("MANAGEMENT") {
                    State::PiManagement
                } else if is("UPS_DATA") || is("DEV_DATA") {
                    State::PiUpsData
                } else {
                    State::Unexpected
                }
            }
            Some(State::PiSummary) => {
                if is("XML_SUMMARY_PAGE") {
                    url(&mut self.pages.summary);
                    State::PiLeaf
                } else if is("CENTRAL_CFG") {
                    url(&mut self.pages.configure);
                    State::PiLeaf
                } else if is("HTML_PROPERTIES_PAGE") || is("CSV_LOGS") {
                    State::PiLeaf
                } else {
                    State::Unexpected
                }
            }
            Some(State::PiAlarms) => {
                if is("SUBSCRIPTION") {
                    url(&mut self.pages.subscribe);
                    State::PiLeaf
                } else if is("POLLING") {
                    State::PiLeaf
                } else {
                    State::Unexpected
                }
            }
            Some(State::PiManagement) => {
                if is("MANAGEMENT_PAGE") || is("XML_MANAGEMENT_PAGE") {
                    State::PiLeaf
                } else {
                    State::Unexpected
                }
            }
            Some(State::PiUpsData) => {
                if is("GET_OBJECT") {
                    url(&mut self.pages.getobject);
                    State::PiGetObject
                } else if is("SET_OBJECT") {
                    url(&mut self.pages.setobject);
                    State::PiLeaf
                } else {
                    State::Unexpected
                }
            }
            Some(State::Summary | State::GetObject) if is("OBJECT") => {
                for (k, v) in attrs {
                    if k.eq_ignore_ascii_case("name") {
                        self.var = capped(v);
                        self.val.clear();
                    }
                }
                if parent == Some(State::Summary) { State::SuObject } else { State::GoObject }
            }
            Some(State::XmlClient) if is("GENERAL") => State::XcGeneral,
            Some(State::XmlClient | State::XcGeneral) => {
                if is("SHUTDOWN") {
                    for (k, v) in attrs {
                        if k.eq_ignore_ascii_case("shutdownTimer") {
                            out.setinfo("driver.timer.shutdown", v);
                        } else if k.eq_ignore_ascii_case("shutdownDuration") {
                            out.setinfo("driver.delay.shutdown", v);
                        }
                    }
                    State::PiLeaf
                } else if is("STARTUP") || is("BROADCAST") {
                    State::PiLeaf
                } else {
                    State::Unexpected
                }
            }
            Some(_) => State::Unexpected,
        }
    }

    fn product_info(&mut self, attrs: &[(String, String)], out: &mut dyn Publish) {
        // the attributes in document order, as NUT's: `val` collects
        // name/type/version and the version publishes it
        for (k, v) in attrs {
            if k.eq_ignore_ascii_case("name") {
                self.val = capped(v);
            }
            if k.eq_ignore_ascii_case("type") {
                push_capped(&mut self.val, "/");
                push_capped(&mut self.val, v);
                if v.eq_ignore_ascii_case("Transverse") {
                    self.ambient = true;
                } else if v.contains("ePDU") {
                    out.setinfo("device.type", "pdu");
                }
            }
            if k.eq_ignore_ascii_case("version") {
                push_capped(&mut self.val, "/");
                push_capped(&mut self.val, v);
                if let Some(i) = self.val.find(" (SN ") {
                    let serial = &self.val[i + 5..];
                    let serial = serial.trim_end_matches(')');
                    out.setinfo("ups.serial", serial);
                    self.val.truncate(i);
                }
                out.setinfo("ups.firmware.aux", &self.val);
            }
            if k.eq_ignore_ascii_case("protocol") && v.eq_ignore_ascii_case("XML.V4") {
                self.v4 = true;
            }
        }
    }

    fn end(&mut self, st: State, out: &mut dyn Publish) {
        if self.val.is_empty() {
            return;
        }
        match st {
            State::Alarm | State::SuObject | State::GoObject => self.object(out),
            State::PiGetObject | State::GetObject => {
                for (i, prefix) in ["input.", "input.bypass.", "output."].into_iter().enumerate() {
                    detect_phases(out, prefix, &mut self.phases[i]);
                }
            }
            _ => {}
        }
    }

    fn object(&mut self, out: &mut dyn Publish) {
        let Some(row) = table::find_xml(&self.var) else { return };
        if row.flags.fixed && row.nut.is_some_and(|n| out.getinfo(n).is_some()) {
            return;
        }
        let val = self.val.clone();
        let value = self.convert(row.conv, &val, out);
        if let (Some(nut), Some(v)) = (row.nut, value) {
            out.setinfo(nut, &v);
        }
    }

    /// One conversion (NUT's converter functions), with their effect on
    /// the status bits.
    fn convert(&mut self, conv: Conv, v: &str, out: &mut dyn Publish) -> Option<String> {
        let first = v.as_bytes().first().copied();
        let yes = v.len() >= 3 && v.as_bytes()[..3].eq_ignore_ascii_case(b"yes");
        let fixed = |s: &str| Some(s.to_string());
        match conv {
            Conv::None => Some(v.to_string()),
            Conv::Bit(b, on) => {
                let set = match on {
                    On::One => first == Some(b'1'),
                    On::Zero => first == Some(b'0'),
                    On::OneOrYes => first == Some(b'1') || yes,
                };
                self.set_bit(b, set);
                None
            }
            Conv::Discharging => {
                if first == Some(b'1') {
                    self.set_bit(Bit::Discharging, true);
                    self.set_bit(Bit::Charging, false);
                } else {
                    self.set_bit(Bit::Discharging, false);
                }
                None
            }
            Conv::YesNo => match first {
                Some(b'1') => fixed("yes"),
                Some(b'0') => fixed("no"),
                _ => fixed("<unknown>"),
            },
            Conv::OnOff => match first {
                Some(b'1') => fixed("on"),
                Some(b'0') => fixed("off"),
                _ => fixed("<unknown>"),
            },
            Conv::Deci => Some(self.deci(v)),
            Conv::IgnoreIfZero => (atoi(v) != 0).then(|| self.deci(v)),
            Conv::DateTime => {
                let (date, time) = split_date_time(v);
                if let Some(d) = date {
                    out.setinfo("ups.date", d);
                }
                time.map(str::to_string)
            }
            Conv::AmpSecondsToAmpHours => {
                Some(format!("{:.2}", f64::from(atoi(v) as f32) / 3600.0))
            }
            Conv::Percent => Some(format!("{:.2}", f64::from(atoi(v) as f32) / 100.0)),
            Conv::Beeper => match atoi(v) {
                1 => fixed("disabled"),
                2 => fixed("enabled"),
                3 => fixed("muted"),
                _ => None,
            },
            Conv::UpsType => match atoi(v) {
                1 => fixed("offline / line interactive"),
                2 => fixed("online"),
                3 => fixed("online - unitary/parallel"),
                4 => fixed("online - parallel with hot standy"),
                5 => fixed("online - hot standby redundancy"),
                _ => None,
            },
            Conv::Sensitivity => match atoi(v) {
                0 => fixed("normal"),
                1 => fixed("high"),
                2 => fixed("low"),
                _ => None,
            },
            Conv::TestResult => {
                self.set_bit(Bit::Calibrating, false);
                match atoi(v) {
                    1 => fixed("done and passed"),
                    2 => fixed("done and warning"),
                    3 => fixed("done and error"),
                    4 => fixed("aborted"),
                    5 => {
                        self.set_bit(Bit::Calibrating, true);
                        fixed("in progress")
                    }
                    6 => fixed("no test initiated"),
                    7 => fixed("test scheduled"),
                    _ => None,
                }
            }
            Conv::Ambient => self.ambient.then(|| v.to_string()),
            Conv::DryContact => match atoi(v) {
                0 => fixed("opened"),
                1 => fixed("closed"),
                _ => None,
            },
            Conv::TimerShutdown => {
                let n = i64::from(atoi(v));
                let pending = n > -1 && n <= self.options.shutdown_duration;
                self.set_bit(Bit::ShutdownImminent, pending);
                self.shutdown_pending = pending;
                Some(v.to_string())
            }
            Conv::ShutdownImminent => {
                if !self.shutdown_pending {
                    self.set_bit(Bit::ShutdownImminent, first == Some(b'0') && atoi(v) == 0);
                }
                None
            }
        }
    }

    fn deci(&self, v: &str) -> String {
        if self.options.convert_deci {
            format!("{:.1}", 0.1 * f64::from(atoi(v) as f32))
        } else {
            v.to_string()
        }
    }

    /// Publishes `ups.alarm`, `input.transfer.reason` and `ups.status`
    /// from the status bits (call once every page of a poll is applied).
    pub fn commit(&self, out: &mut dyn Publish) {
        out.status_init();
        out.alarm_init();
        for (b, text) in ALARMS {
            if self.bit(*b) {
                out.alarm_set(text);
            }
        }
        out.alarm_commit();
        if self.bit(Bit::VoltageRange) {
            out.setinfo("input.transfer.reason", "input voltage out of range");
        } else if self.bit(Bit::FrequencyRange) {
            out.setinfo("input.transfer.reason", "input frequency out of range");
        } else {
            out.delinfo("input.transfer.reason");
        }
        let mut s = String::new();
        let mut add = |t: &str| {
            let _ = write!(s, "{}{t}", if s.is_empty() { "" } else { " " });
        };
        add(if self.bit(Bit::Online) { "OL" } else { "OB" });
        for (b, t) in [
            (Bit::Discharging, "DISCHRG"),
            (Bit::Charging, "CHRG"),
            (Bit::LowBattery, "LB"),
            (Bit::Overload, "OVER"),
            (Bit::ReplaceBattery, "RB"),
            (Bit::Trim, "TRIM"),
            (Bit::Boost, "BOOST"),
        ] {
            if self.bit(b) {
                add(t);
            }
        }
        if self.bit(Bit::BypassAuto) || self.bit(Bit::BypassManual) {
            add("BYPASS");
        }
        for (b, t) in [(Bit::Off, "OFF"), (Bit::ShutdownImminent, "FSD"), (Bit::Calibrating, "CAL")]
        {
            if self.bit(b) {
                add(t);
            }
        }
        out.status_set(&s);
        out.status_commit();
    }
}

/// The alarm texts, in NUT's order.
const ALARMS: &[(Bit, &str)] = &[
    (Bit::ReplaceBattery, "Replace battery!"),
    (Bit::ShutdownImminent, "Shutdown imminent!"),
    (Bit::FanFailure, "Fan failure!"),
    (Bit::NoBattery, "No battery installed!"),
    (Bit::BatteryVoltageLow, "Battery voltage too low!"),
    (Bit::BatteryVoltageHigh, "Battery voltage too high!"),
    (Bit::ChargerFail, "Battery charger fail!"),
    (Bit::Overheat, "Temperature too high!"),
    (Bit::CommFault, "Communication fault!"),
    (Bit::InternalFault, "Internal UPS fault!"),
    (Bit::FuseFault, "Fuse fault!"),
    (Bit::BypassAuto, "Automatic bypass mode!"),
    (Bit::BypassManual, "Manual bypass mode!"),
];

/// NUT 2.8.0's phase-count estimate (`dstate_detect_phasecount`, once
/// per prefix): 1, 2 or 3 phases from which per-line values are present
/// and non-zero, published as `<prefix>phases`.
fn detect_phases(out: &mut dyn Publish, prefix: &str, st: &mut Phases) {
    if st.inited {
        return;
    }
    let get = |out: &dyn Publish, s: &str| {
        let name = format!("{prefix}{s}");
        out.getinfo(&name).is_some_and(|v| !v.is_empty() && v != "0")
    };
    let o: &dyn Publish = out;
    let v1 = get(o, "L1.voltage");
    let v2 = get(o, "L2.voltage");
    let v3 = get(o, "L3.voltage");
    let v1n = get(o, "L1-N.voltage");
    let v2n = get(o, "L2-N.voltage");
    let v3n = get(o, "L3-N.voltage");
    let v12 = get(o, "L1-L2.voltage");
    let v23 = get(o, "L2-L3.voltage");
    let v31 = get(o, "L3-L1.voltage");
    let c1 = get(o, "L1.current");
    let c2 = get(o, "L2.current");
    let c3 = get(o, "L3.current");
    let v0 = get(o, "voltage");
    let c0 = get(o, "current");
    let num = if (v1 && v2 && !v3)
        || (v1n && v2n && !v3n)
        || (c1 && c2 && !c3)
        || (v12 && !v23 && !v31)
    {
        2
    } else if (v1 && v2 && v3)
        || (v1n && v2n && v3n)
        || (c1 && (c2 || c3))
        || (c2 && (c1 || c3))
        || (c3 && (c1 || c2))
        || v12
        || v23
        || v31
    {
        3
    } else if !v12
        && !v23
        && !v31
        && ((c0 && !c1 && !c2 && !c3)
            || (v0 && !v1 && !v2 && !v3)
            || (c1 && !c2 && !c3)
            || (!c1 && c2 && !c3)
            || (!c1 && !c2 && c3)
            || (v1 && !v2 && !v3)
            || (!v1 && v2 && !v3)
            || (!v1 && !v2 && v3)
            || (v1n && !v2n && !v3n)
            || (!v1n && v2n && !v3n)
            || (!v1n && !v2n && v3n))
    {
        1
    } else {
        return;
    };
    let old_num = if st.inited { st.num } else { -1 };
    st.inited = true;
    st.num = num;
    let name = format!("{prefix}phases");
    let old = out.getinfo(&name).map(atoi);
    if old == Some(num) {
        return;
    }
    if num != old_num || old.is_none() {
        out.setinfo(&name, &num.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_helpers() {
        assert_eq!(atoi(" 42x"), 42);
        assert_eq!(atoi("-7"), -7);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi("99999999999999999999999"), -1);
        assert_eq!(url_convert("upsprop.xml"), "/upsprop.xml");
        assert_eq!(url_convert("  a b"), "/a");
        assert_eq!(split_date_time("2016/03/17 13:36:57"), (Some("2016/03/17"), Some("13:36:57")));
        assert_eq!(split_date_time("2016-03-17 13:36:57"), (Some("2016"), Some("03-17")));
        assert_eq!(split_date_time("2016/03/17"), (Some("2016/03/17"), None));
        assert_eq!(split_date_time(" - "), (None, None));
    }
}
