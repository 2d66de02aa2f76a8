//! `dummy-ups`: a simulated UPS fed from a `.dev` / `.seq` file, or a
//! repeater of a UPS on another NUT server.
//!
//! The file format is `upsc` output: `name: value words...` lines, read
//! with NUT's tokenizer (so quotes, `\` escapes and `#` comments work),
//! plus `TIMER <seconds>` (pause the reading) and `ALARM [text]` (set or,
//! bare, clear an alarm). [`parse_script`] turns bytes into [`Step`]s
//! without I/O; [`DummyUps`] plays them.

use crate::repeater::Repeater;
use nut_driver::params::{DriverParams, VarKind, VarSpec};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use nut_proto::config::MAX_CONFIG_LINE;
use nut_proto::frame::LineFramer;
use nut_proto::sock::{TrackingResult, VarFlags};
use nut_proto::token::{self, atoi};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// `dummy-ups`'s internal version, as NUT 2.8.0's.
pub const DRIVER_VERSION: &str = "0.15";

/// The largest simulation file read, in bytes; longer files are cut.
pub const MAX_FILE_LEN: usize = 4 << 20;

/// The settings `dummy-ups` accepts beyond the common ones.
pub const VARS: &[VarSpec] = &[
    VarSpec {
        name: "mode",
        kind: VarKind::Value,
        sensitive: false,
        desc: "Specify mode instead of guessing it from port value (dummy = dummy-loop, dummy-once, repeater)",
    },
    VarSpec {
        name: "repeater_disable_strict_start",
        kind: VarKind::Flag,
        sensitive: false,
        desc: "Do not fail at startup when the repeated server cannot be reached",
    },
    VarSpec {
        name: "username",
        kind: VarKind::Value,
        sensitive: false,
        desc: "Repeater: user name for forwarding SET and INSTCMD",
    },
    VarSpec {
        name: "password",
        kind: VarKind::Value,
        sensitive: true,
        desc: "Repeater: password for forwarding SET and INSTCMD",
    },
];

/// One line of a simulation file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `name: value...`: the value words joined with single spaces.
    Set {
        /// Variable name (without the colon).
        name: String,
        /// The value (empty when the line has no value).
        value: String,
    },
    /// `ups.status: tokens...`
    Status(Vec<String>),
    /// `TIMER <seconds>`: stop reading for that long.
    Timer(u64),
    /// `ALARM text...` (`Some`) or a bare `ALARM` (`None`, clears alarms).
    Alarm(Option<String>),
}

/// What [`parse_script`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// The steps, in file order. `driver.*` lines are left out (the driver's
    /// own values win).
    pub steps: Vec<Step>,
    /// Lines that could not be tokenized (skipped, as NUT does).
    pub bad_lines: Vec<u32>,
    /// Whether the file uses `ALARM` lines (then `ups.alarm` is managed by
    /// them).
    pub uses_alarm: bool,
}

/// Parses a simulation file. Never fails: bad lines are skipped and listed.
pub fn parse_script(bytes: &[u8]) -> Script {
    let bytes = &bytes[..bytes.len().min(MAX_FILE_LEN)];
    let mut script = Script::default();
    let mut framer = LineFramer::new(MAX_CONFIG_LINE);
    let mut rest = bytes;
    let mut line_no: u32 = 1;
    while !rest.is_empty() {
        let start = line_no;
        let (used, frame) = framer.decode(rest);
        let lf = rest[..used].iter().filter(|&&b| b == b'\n').count();
        let frame: Option<Result<Vec<u8>, ()>> =
            frame.map(|f| f.map(<[u8]>::to_vec).map_err(|_| ()));
        line_no = line_no.saturating_add(u32::try_from(lf).unwrap_or(u32::MAX));
        rest = &rest[used..];
        let line: Option<Vec<u8>> = match frame {
            Some(Ok(l)) => Some(l),
            Some(Err(())) => {
                script.bad_lines.push(start);
                None
            }
            None if rest.is_empty() && !framer.is_discarding() => Some(framer.take_partial()),
            None => None,
        };
        if let Some(line) = line {
            add_line(&mut script, start, &line);
        }
    }
    script
}

fn add_line(script: &mut Script, line_no: u32, line: &[u8]) {
    let words = match token::tokenize(line) {
        Ok(w) => w,
        Err(_) => {
            script.bad_lines.push(line_no);
            return;
        }
    };
    let Some(first) = words.get(0) else { return };
    if first == "TIMER" {
        let secs = words.get(1).map_or(0, atoi).max(0);
        script.steps.push(Step::Timer(u64::try_from(secs).unwrap_or(0)));
        return;
    }
    if first == "ALARM" {
        script.uses_alarm = true;
        let text = words.iter().skip(1).collect::<Vec<_>>().join(" ");
        script.steps.push(Step::Alarm((!text.is_empty()).then_some(text)));
        return;
    }
    let name = first.split_once(':').map_or(first, |(n, _)| n);
    if name.starts_with("driver.") || name.is_empty() {
        return;
    }
    let rest: Vec<&str> = words.iter().skip(1).collect();
    if name == "ups.status" {
        script.steps.push(Step::Status(rest.iter().map(|s| s.to_string()).collect()));
    } else {
        script.steps.push(Step::Set { name: name.to_string(), value: rest.join(" ") });
    }
}

/// The variables `dummy-ups` knows, with their flags and string lengths
/// (the others get `RW STRING` and 32); the first three are published at
/// start.
const KNOWN: &[(&str, bool, i64)] = &[
    ("ups.mfr", true, 32),
    ("ups.model", true, 32),
    ("ups.status", true, 32),
    ("ups.serial", true, 32),
    ("ups.load", false, 32),
    ("ups.alarm", true, 32),
    ("ups.time", true, 16),
    ("ups.date", true, 16),
    ("ups.mfr.date", true, 16),
    ("ups.firmware", true, 16),
    ("ups.firmware.aux", true, 16),
    ("ups.temperature", false, 1),
    ("ups.id", true, 16),
    ("ups.delay.start", false, 1),
    ("ups.delay.reboot", false, 1),
    ("ups.delay.shutdown", false, 1),
    ("ups.test.interval", false, 1),
    ("ups.test.result", true, 16),
    ("input.voltage", false, 1),
    ("input.voltage.maximum", false, 1),
    ("input.voltage.minimum", false, 1),
    ("input.voltage.nominal", false, 1),
    ("input.transfer.reason", true, 1),
    ("input.transfer.low", false, 1),
    ("input.transfer.high", false, 1),
    ("input.sensitivity", true, 1),
    ("input.quality", true, 6),
    ("input.frequency", false, 1),
    ("input.transfer.boost.low", false, 1),
    ("input.transfer.boost.high", false, 1),
    ("input.transfer.trim.low", false, 1),
    ("input.transfer.trim.high", false, 1),
    ("output.voltage", false, 1),
    ("output.frequency", false, 1),
    ("output.current", false, 1),
    ("battery.charge", false, 1),
    ("battery.charge.low", false, 1),
    ("battery.voltage", false, 1),
    ("battery.current", false, 1),
    ("battery.runtime", false, 1),
    ("battery.runtime.low", false, 1),
    ("battery.charge.restart", false, 1),
    ("battery.temperature", false, 1),
    ("battery.voltage.nominal", false, 1),
    ("ambient.temperature", false, 1),
    ("ambient.temperature.alarm", false, 1),
    ("ambient.temperature.high", false, 1),
    ("ambient.temperature.low", false, 1),
    ("ambient.humidity", false, 1),
    ("ambient.humidity.alarm", false, 1),
    ("ambient.humidity.high", false, 1),
    ("ambient.humidity.low", false, 1),
];

const DEFAULTS: &[(&str, &str)] =
    &[("ups.mfr", "Dummy Manufacturer"), ("ups.model", "Dummy UPS"), ("ups.status", "OL")];

fn known(var: &str) -> Option<(VarFlags, Option<i64>)> {
    KNOWN.iter().find(|(n, ..)| n.eq_ignore_ascii_case(var)).map(|&(_, string, len)| {
        (VarFlags { rw: true, string, number: false }, string.then_some(len))
    })
}

/// Publishes a value with `dummy-ups`'s rules: `ups.status` through the
/// status helper; an empty value deletes; known names get their table
/// flags, others `RW STRING` with 32 characters.
pub fn set_dummy_var(st: &mut Dstate, var: &str, value: &str) -> TrackingResult {
    if var == "ups.status" {
        st.status_init();
        st.status_set(value);
        st.status_commit();
        return TrackingResult::Handled;
    }
    if value.is_empty() {
        st.delinfo(var);
        return TrackingResult::Handled;
    }
    publish(st, var, value);
    TrackingResult::Handled
}

fn publish(st: &mut Dstate, var: &str, value: &str) {
    st.setinfo(var, value);
    let (flags, aux) =
        known(var).unwrap_or((VarFlags { rw: true, string: true, number: false }, Some(32)));
    st.setflags(var, flags);
    if let Some(aux) = aux {
        st.setaux(var, aux);
    }
}

/// How `dummy-ups` runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read the file again and again (`.seq` files; `dummy-loop`, `dummy`).
    Loop,
    /// Read the file once, again only when it changes (`.dev` files).
    Once,
    /// Relay `ups@host[:port]`.
    Repeater,
}

/// Chooses the mode and the published `driver.parameter.mode` as NUT does:
/// the `mode` setting wins; else a port with `@` is a repeater, `.seq` loops,
/// `.dev` reads once, anything else loops and is reported as `dummy`.
pub fn select_mode(mode: Option<&str>, port: &str) -> Result<(Mode, &'static str), DeviceError> {
    match mode {
        Some("repeater") => return Ok((Mode::Repeater, "repeater")),
        Some("dummy-loop") => return Ok((Mode::Loop, "dummy-loop")),
        Some("dummy-once") => return Ok((Mode::Once, "dummy-once")),
        Some("dummy") => return Ok((Mode::Loop, "dummy-loop")),
        Some(other) => {
            return Err(DeviceError::Fatal(Message::cause(format!("unsupported mode: {other}"))));
        }
        None => {}
    }
    Ok(if port.contains('@') {
        (Mode::Repeater, "repeater")
    } else if port.ends_with(".seq") {
        (Mode::Loop, "dummy-loop")
    } else if port.ends_with(".dev") {
        (Mode::Once, "dummy-once")
    } else {
        (Mode::Loop, "dummy")
    })
}

/// The file a `port` names: absolute as given, relative to the current
/// directory when it starts with `.`, else relative to the configuration
/// directory.
pub fn resolve_path(port: &str, confpath: &Path) -> PathBuf {
    if port.starts_with('/') || port.starts_with('.') {
        PathBuf::from(port)
    } else {
        confpath.join(port)
    }
}

/// The `dummy-ups` device.
#[derive(Debug)]
pub struct DummyUps {
    mode: Mode,
    mode_name: &'static str,
    path: PathBuf,
    /// The steps of the pass in progress and where it stands.
    pass: Option<(Script, usize)>,
    paused_until: Option<Instant>,
    mtime: Option<SystemTime>,
    repeater: Option<Repeater>,
}

impl DummyUps {
    /// A device for these settings; `confpath` is NUT_CONFPATH.
    pub fn new(params: &DriverParams, confpath: &Path) -> Result<Self, DeviceError> {
        let port =
            params.port.as_deref().ok_or_else(|| DeviceError::Fatal(Message::cause("no port")))?;
        let (mode, mode_name) = select_mode(params.get("mode"), port)?;
        let repeater = match mode {
            Mode::Repeater => Some(Repeater::new(
                port,
                params.get("username").map(String::from),
                params.get("password").map(String::from),
                params.has("repeater_disable_strict_start"),
            )?),
            _ => None,
        };
        Ok(DummyUps {
            mode,
            mode_name,
            path: resolve_path(port, confpath),
            pass: None,
            paused_until: None,
            mtime: None,
            repeater,
        })
    }

    /// The mode in use.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The simulation file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&mut self) -> Result<Script, DeviceError> {
        let bytes = std::fs::read(&self.path).map_err(|e| {
            DeviceError::Fatal(Message::cause(format!(
                "can't open dummy-ups definition file {}: {e}",
                self.path.display()
            )))
        })?;
        self.mtime = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        Ok(parse_script(&bytes))
    }

    /// Plays steps until the end of the file or a `TIMER`.
    fn play(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        if let Some(t) = self.paused_until {
            if now < t {
                return Ok(());
            }
            self.paused_until = None;
        }
        if self.pass.is_none() {
            let script = self.load()?;
            if script.uses_alarm {
                st.alarm_init();
            }
            self.pass = Some((script, 0));
        }
        let Some((script, pos)) = self.pass.as_mut() else { return Ok(()) };
        while let Some(step) = script.steps.get(*pos) {
            *pos += 1;
            match step {
                Step::Timer(secs) => {
                    self.paused_until = Some(now + Duration::from_secs(*secs));
                    break;
                }
                Step::Alarm(Some(text)) => st.alarm_set(text),
                Step::Alarm(None) => st.alarm_init(),
                Step::Status(tokens) => {
                    st.status_init();
                    for t in tokens {
                        st.status_set(t);
                    }
                    st.status_commit();
                }
                Step::Set { name, value } => {
                    if name == "ups.status" {
                        set_dummy_var(st, name, value);
                    } else {
                        publish(st, name, value);
                    }
                }
            }
        }
        let uses_alarm = script.uses_alarm;
        let finished = *pos >= script.steps.len() && self.paused_until.is_none();
        if uses_alarm {
            st.alarm_commit();
            st.status_commit();
        }
        if finished {
            self.pass = None;
        }
        Ok(())
    }

    fn file_changed(&self) -> bool {
        let now = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        now.is_some() && now != self.mtime
    }
}

impl Device for DummyUps {
    fn connect(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        st.setinfo("driver.parameter.mode", self.mode_name);
        match &mut self.repeater {
            Some(r) => r.open(st)?,
            None => {
                for &(name, value) in DEFAULTS {
                    publish(st, name, value);
                }
                self.play(st, now)?;
            }
        }
        st.addcmd("load.off");
        Ok(())
    }

    fn update(&mut self, st: &mut Dstate, _: UpdateKind, now: Instant) -> Result<(), DeviceError> {
        if let Some(r) = &mut self.repeater {
            return r.update(st);
        }
        match self.mode {
            Mode::Once if self.pass.is_none() && self.paused_until.is_none() => {
                if self.file_changed() {
                    self.play(st, now)?;
                }
                Ok(())
            }
            _ => self.play(st, now),
        }
    }

    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, _: Instant) -> TrackingResult {
        if let Some(r) = &mut self.repeater {
            return r.setvar(var, value);
        }
        set_dummy_var(st, var, value)
    }

    fn instcmd(
        &mut self,
        _st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        _: Instant,
    ) -> TrackingResult {
        if let Some(r) = &mut self.repeater {
            return r.instcmd(cmd, param);
        }
        TrackingResult::Unknown
    }
}

/// `dummy-ups` as a driver program: its names, options and device.
#[derive(Debug)]
pub struct DummyUpsDriver;

impl nut_driver::run::DriverProgram for DummyUpsDriver {
    type Device = DummyUps;
    const NAME: &'static str = "dummy-ups";
    const DESCRIPTION: &'static str = "Device simulation and repeater driver";
    const VERSION: &'static str = DRIVER_VERSION;
    const OPTIONS: &'static [VarSpec] = VARS;

    fn create(params: &DriverParams, env: &nut_driver::run::Env) -> Result<DummyUps, DeviceError> {
        DummyUps::new(params, &env.confpath)
    }

    fn reload(poller: &mut nut_driver::Poller<DummyUps>, old: &DriverParams, new: &DriverParams) {
        if new.get("mode") != old.get("mode") && new.port == old.port {
            tracing::warn!("reload: port or mode changed; restart the driver to apply");
        }
        nut_driver::run::default_reload(poller, old, new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_lines() {
        let s = parse_script(
            b"battery.charge: 100\nups.status: OL CHRG # comment\ndriver.name: usbhid-ups\n\
              ups.mfr: \"A  B\" C\nTIMER 5\nALARM Replace battery\nALARM\nups.serial:\nbad: \"open\n",
        );
        assert_eq!(
            s.steps,
            [
                Step::Set { name: "battery.charge".into(), value: "100".into() },
                Step::Status(vec!["OL".into(), "CHRG".into()]),
                Step::Set { name: "ups.mfr".into(), value: "A  B C".into() },
                Step::Timer(5),
                Step::Alarm(Some("Replace battery".into())),
                Step::Alarm(None),
                Step::Set { name: "ups.serial".into(), value: String::new() },
            ]
        );
        assert_eq!(s.bad_lines, [9]);
        assert!(s.uses_alarm);
    }

    #[test]
    fn modes_and_paths() {
        assert_eq!(select_mode(None, "a.dev").unwrap(), (Mode::Once, "dummy-once"));
        assert_eq!(select_mode(None, "a.seq").unwrap(), (Mode::Loop, "dummy-loop"));
        assert_eq!(select_mode(None, "a.txt").unwrap(), (Mode::Loop, "dummy"));
        assert_eq!(select_mode(None, "ups@host").unwrap(), (Mode::Repeater, "repeater"));
        assert_eq!(select_mode(Some("dummy-once"), "a.seq").unwrap(), (Mode::Once, "dummy-once"));
        assert!(select_mode(Some("meta"), "a").is_err());
        assert_eq!(resolve_path("a.dev", Path::new("/etc/nut")), Path::new("/etc/nut/a.dev"));
        assert_eq!(resolve_path("./a.dev", Path::new("/etc/nut")), Path::new("./a.dev"));
        assert_eq!(resolve_path("/x/a.dev", Path::new("/etc/nut")), Path::new("/x/a.dev"));
    }

    #[test]
    fn set_rules() {
        let mut st = Dstate::new();
        set_dummy_var(&mut st, "ups.id", "x");
        set_dummy_var(&mut st, "my.var", "y");
        set_dummy_var(&mut st, "battery.charge", "5");
        let t = st.tree();
        assert_eq!(
            (t.get("ups.id").unwrap().aux, t.get("ups.id").unwrap().flags.string),
            (16, true)
        );
        assert_eq!(t.get("my.var").unwrap().aux, 32);
        assert_eq!(
            t.get("battery.charge").unwrap().flags,
            VarFlags { rw: true, ..VarFlags::default() }
        );
        set_dummy_var(&mut st, "my.var", "");
        assert!(st.getinfo("my.var").is_none());
        set_dummy_var(&mut st, "ups.status", "OB LB");
        assert_eq!(st.getinfo("ups.status"), Some("OB LB"));
    }
}
