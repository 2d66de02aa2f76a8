//! `usbhid-ups`: NUT's driver for USB HID Power Devices.
//!
//! [`UsbhidUps`] is the [`Device`] over any [`HidLink`] (the real USB link of
//! [`crate::usb`] in the binary, `nut_testkit::hid::ReplayHid` in tests); the
//! mapping itself is [`nut_hid::mapping::Mapper`] (sans-IO). [`UsbhidUpsDriver`]
//! (feature `usb`) is the [`DriverProgram`](nut_driver::run::DriverProgram) with NUT's
//! options.
//!
//! Timing follows NUT: a quick walk of the status rows every poll interval, a full
//! walk every `pollfreq` seconds and after a SET or a command. The first update after
//! a (re)connect is quick, as NUT's (the init walk has just read everything). The
//! interrupt pipe: the binary listens on it between polls ([`Settings::interrupt_wait`])
//! so that a report is published as soon as it arrives (NUT reads the pipe only at each
//! poll); otherwise what is queued is read at each poll. When the link can share its
//! pipe ([`HidLink::interrupt_pipe`]) and the core gave a [`Waker`], a thread of its own
//! waits on the pipe ([`LISTEN_TIMEOUT`] at a time) and wakes the device thread for each
//! report, so the device thread wakes only for polls, reports and requests; otherwise the
//! device thread waits on the pipe itself, at most [`INTERRUPT_WAIT`] at a time.
//!
//! A device that stops answering makes the data stale; one that disappears is reopened
//! (same vendor and product ID and serial) when it comes back. Each distinct error is
//! logged once until the device answers again.

use crate::usb_options;
use nut_driver::params::{DriverParams, VarSpec};
use nut_driver::transport::{HidLink, InterruptPipe, LinkError, ReportType as LinkType, UsbIds};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind, Waker};
use nut_hid::ReportType;
use nut_hid::mapping::{DeviceInfo, HidIo, IoError, Mapper, Options, Outcome};
use nut_proto::sock::TrackingResult;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// usbhid-ups' internal version, as NUT 2.8.0's.
pub const DRIVER_VERSION: &str = "0.47";

/// Default `pollfreq` (seconds between full updates).
pub const DEFAULT_POLLFREQ: u64 = 30;

/// Default interrupt read length when `interruptsize` is not given.
pub const DEFAULT_INTERRUPT_SIZE: usize = 512;

/// How long the driver waits on the interrupt pipe at a time between polls when it
/// listens ([`Settings::interrupt_wait`]): NUT 2.8.0's wait on the pipe at each poll,
/// so a request from `upsd` waits at most as long as with NUT (each wait costs a
/// wake-up of the driver, so shorter waits cost CPU).
pub const INTERRUPT_WAIT: Duration = Duration::from_millis(750);

/// How early a wait on the interrupt pipe may end without the rest being slept.
const EARLY_RETURN: Duration = Duration::from_millis(20);

/// How long the interrupt listener thread waits on the pipe at a time. Each timeout
/// costs it a wake-up; a link given up meanwhile while the device stays plugged in (a
/// reconnect after errors) stays claimed by the listener until its wait ends. An
/// unplugged device ends the wait at once.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Reports the listener keeps for the device thread at most; older ones are dropped
/// (the newest status wins anyway).
const LISTEN_QUEUE: usize = 64;

/// What the listener thread heard since the device thread last looked.
#[derive(Default)]
struct Heard {
    reports: VecDeque<Vec<u8>>,
    /// The pipe said the device is gone.
    lost: Option<String>,
}

/// A thread waiting on the interrupt pipe ([`HidLink::interrupt_pipe`]); stopped
/// (after its current wait) when dropped.
struct Listener {
    heard: Arc<Mutex<Heard>>,
    pending: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// When the listener started: an instant already past, for "due at once".
    born: Instant,
}

impl Listener {
    fn spawn(
        mut pipe: Box<dyn InterruptPipe>,
        size: usize,
        waker: Waker,
    ) -> std::io::Result<Listener> {
        let heard = Arc::new(Mutex::new(Heard::default()));
        let pending = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, p, s) = (heard.clone(), pending.clone(), stop.clone());
        std::thread::Builder::new().name("interrupt".into()).spawn(move || {
            let mut buf = vec![0u8; size.max(1)];
            let mut errors = 0u32;
            let tell = |f: &mut dyn FnMut(&mut Heard)| {
                f(&mut h.lock().unwrap_or_else(|e| e.into_inner()));
                p.store(true, Ordering::Release);
                waker.wake();
            };
            while !s.load(Ordering::Acquire) {
                let r = pipe.read(&mut buf, LISTEN_TIMEOUT);
                if s.load(Ordering::Acquire) {
                    break;
                }
                match r {
                    Ok(n) => {
                        errors = 0;
                        let report = buf.get(..n).unwrap_or(&buf).to_vec();
                        tell(&mut |heard| {
                            if heard.reports.len() >= LISTEN_QUEUE {
                                heard.reports.pop_front();
                            }
                            heard.reports.push_back(report.clone());
                        });
                    }
                    Err(LinkError::Timeout) => errors = 0,
                    Err(LinkError::Disconnected(c)) => {
                        let why = c.to_string();
                        tell(&mut |heard| heard.lost = Some(why.clone()));
                        break;
                    }
                    Err(e) => {
                        // A stall or another error that comes back at once must not
                        // make the thread spin: wait longer after each.
                        errors = errors.saturating_add(1);
                        tracing::debug!("interrupt pipe: {e}");
                        std::thread::sleep(Duration::from_millis(250) * errors.min(8));
                    }
                }
            }
        })?;
        Ok(Listener { heard, pending, stop, born: Instant::now() })
    }

    /// What was heard since the last call.
    fn take(&self) -> Heard {
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut *self.heard.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// The settings `usbhid-ups` accepts beyond the common ones (NUT 2.8.0's, plus
/// `busport` and `subdriver` of later releases).
pub const VARS: &[VarSpec] = &[
    VarSpec::value("offdelay", "Set shutdown delay, in seconds (default=20)"),
    VarSpec::value("ondelay", "Set startup delay, in seconds (default=30)"),
    VarSpec::value(
        "pollfreq",
        "Set polling frequency, in seconds, to reduce data flow (default=30)",
    ),
    VarSpec::flag("pollonly", "Don't use interrupt pipe, only use polling"),
    VarSpec::flag("onlinedischarge", "Set to treat discharging while online as being offline"),
    VarSpec::flag("interruptonly", "Don't use polling, only use interrupt pipe"),
    VarSpec::value("interruptsize", "Number of bytes to read from interrupt pipe"),
    VarSpec::flag("maxreport", "Activate tweak for buggy APC Back-UPS firmware"),
    VarSpec::flag("explore", "Diagnostic matching of unsupported UPS"),
    VarSpec::value("lowbatt", "Set low battery level, in percent (default=30)"),
    VarSpec::value("subdriver", "Explicit USB HID subdriver selection"),
    usb_options::VENDOR,
    usb_options::PRODUCT,
    usb_options::SERIAL,
    usb_options::VENDORID,
    usb_options::PRODUCTID,
    usb_options::BUS,
    usb_options::DEVICE,
    usb_options::BUSPORT,
    usb_options::ALTINTERFACE,
];

/// What the driver takes from its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The mapping options.
    pub mapping: Options,
    /// `pollfreq`.
    pub pollfreq: Duration,
    /// `pollonly`.
    pub pollonly: bool,
    /// `interruptsize`.
    pub interrupt_size: Option<usize>,
    /// The poll interval (`pollinterval`): quick polls of the status items.
    pub poll_interval: Duration,
    /// Listen on the interrupt pipe between polls, blocking up to this long at a time,
    /// so that a report the device sends is published at once (the binary sets
    /// [`INTERRUPT_WAIT`]). `None` (the default): the pipe is drained at each poll only.
    pub interrupt_wait: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mapping: Options::default(),
            pollfreq: Duration::from_secs(DEFAULT_POLLFREQ),
            pollonly: false,
            interrupt_size: None,
            poll_interval: Duration::from_secs(2),
            interrupt_wait: None,
        }
    }
}

fn bad(msg: String) -> DeviceError {
    DeviceError::Fatal(Message::cause(msg))
}

impl Settings {
    /// Reads the settings as NUT does (`interruptsize` must be positive, `explore`
    /// needs `vendorid`).
    pub fn from_params(params: &DriverParams) -> Result<Settings, DeviceError> {
        let mut s = Settings::default();
        if let Some(v) = params.get("pollfreq") {
            let n = nut_hid::mapping::atol(v);
            if n <= 0 {
                return Err(bad(format!("invalid pollfreq: {v}")));
            }
            s.pollfreq = Duration::from_secs(n.unsigned_abs());
        }
        s.pollonly = params.has("pollonly");
        s.poll_interval = params.poll_interval();
        if let Some(v) = params.get("interruptsize") {
            let n = nut_hid::mapping::atol(v);
            if n <= 0 {
                return Err(bad(format!("interruptsize must be a positive number, not {v}")));
            }
            s.interrupt_size = usize::try_from(n).ok();
        }
        let m = &mut s.mapping;
        m.productid_set = params.get("productid").is_some();
        m.explore = params.has("explore");
        if m.explore && params.get("vendorid").is_none() {
            return Err(bad("explore requires the vendorid setting".into()));
        }
        m.subdriver = params.get("subdriver").map(str::to_string);
        m.interrupt_only = params.has("interruptonly");
        m.onlinedischarge = params.has("onlinedischarge");
        m.ondelay = params.get("ondelay").map(str::to_string);
        m.offdelay = params.get("offdelay").map(str::to_string);
        m.lowbatt = params.get("lowbatt").map(str::to_string);
        m.max_report = params.has("maxreport");
        Ok(s)
    }
}

/// How a lost device is opened again: given the identity of the device served so far.
pub type Reopen<L> = Box<dyn FnMut(Option<&UsbIds>) -> Result<L, LinkError> + Send>;

/// The [`HidIo`] of a link; it keeps the last link error for the log.
struct LinkIo<'a, L> {
    link: &'a mut L,
    last: Option<String>,
}

fn link_type(t: ReportType) -> LinkType {
    match t {
        ReportType::Input => LinkType::Input,
        ReportType::Output => LinkType::Output,
        ReportType::Feature => LinkType::Feature,
    }
}

impl<L: HidLink> LinkIo<'_, L> {
    fn map(&mut self, e: LinkError) -> IoError {
        let gone = matches!(e, LinkError::Disconnected(_));
        self.last = Some(e.to_string());
        if gone { IoError::Disconnected } else { IoError::Failed }
    }
}

impl<L: HidLink> HidIo for LinkIo<'_, L> {
    fn get_report(&mut self, t: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, IoError> {
        match self.link.get_report(link_type(t), id, buf) {
            Ok(n) => Ok(n.min(buf.len())),
            Err(e) => Err(self.map(e)),
        }
    }
    fn set_report(&mut self, t: ReportType, id: u8, data: &[u8]) -> Result<usize, IoError> {
        self.link.set_report(link_type(t), id, data).map_err(|e| self.map(e))
    }
    fn string(&mut self, index: u8) -> Result<String, IoError> {
        match self.link.string(index) {
            // Control characters (a NUL from a lossy decoder) are never published.
            Ok(s) => Ok(s.chars().filter(|c| !c.is_control()).collect::<String>().trim().into()),
            Err(e) => Err(self.map(e)),
        }
    }
    fn sleep_ms(&mut self, ms: u32) {
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
    }
}

fn info(ids: &UsbIds) -> DeviceInfo<'_> {
    DeviceInfo {
        vendor_id: ids.vendor_id,
        product_id: ids.product_id,
        vendor: ids.vendor.as_deref(),
        product: ids.product.as_deref(),
        serial: ids.serial.as_deref(),
    }
}

/// Whether `ids` is the device served before (NUT's reconnect matcher: IDs and strings).
pub fn same_device(before: &UsbIds, now: &UsbIds) -> bool {
    before.vendor_id == now.vendor_id
        && before.product_id == now.product_id
        && before.vendor == now.vendor
        && before.product == now.product
        && before.serial == now.serial
}

/// The usbhid-ups device over a [`HidLink`].
pub struct UsbhidUps<L> {
    link: Option<L>,
    reopen: Option<Reopen<L>>,
    settings: Settings,
    mapper: Option<Mapper>,
    served: Option<UsbIds>,
    first_update: bool,
    last_logged: Option<String>,
    connected_once: bool,
    /// When the status items are next due ([`Settings::interrupt_wait`] mode).
    next_walk: Option<Instant>,
    /// When the last update began (the next listening update is due at once).
    woke: Option<Instant>,
    /// A full update was asked for while listening: the next walk is a full one.
    full_pending: bool,
    /// The core's waker, for the listener thread.
    waker: Option<Waker>,
    /// The thread listening on the interrupt pipe, when the link shares it.
    listener: Option<Listener>,
}

impl<L> std::fmt::Debug for UsbhidUps<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbhidUps")
            .field("settings", &self.settings)
            .field("connected", &self.link.is_some())
            .field("served", &self.served)
            .finish()
    }
}

impl<L: HidLink + 'static> UsbhidUps<L> {
    /// A device on an open link that stays the same object across reconnects (a
    /// test double, or a link that reopens itself).
    pub fn new(link: L, settings: Settings) -> Self {
        UsbhidUps {
            link: Some(link),
            reopen: None,
            settings,
            mapper: None,
            served: None,
            first_update: true,
            last_logged: None,
            connected_once: false,
            next_walk: None,
            woke: None,
            full_pending: false,
            waker: None,
            listener: None,
        }
    }

    /// A device whose link is opened by `reopen` at connect and again after a loss.
    pub fn with_reopen(reopen: Reopen<L>, settings: Settings) -> Self {
        UsbhidUps {
            link: None,
            reopen: Some(reopen),
            settings,
            mapper: None,
            served: None,
            first_update: true,
            last_logged: None,
            connected_once: false,
            next_walk: None,
            woke: None,
            full_pending: false,
            waker: None,
            listener: None,
        }
    }

    /// The mapping engine, once connected.
    pub fn mapper(&self) -> Option<&Mapper> {
        self.mapper.as_ref()
    }

    /// The link, while open.
    pub fn link_mut(&mut self) -> Option<&mut L> {
        self.link.as_mut()
    }

    /// Logs `msg` unless it is the last message logged.
    fn log_once(&mut self, msg: String) {
        if self.last_logged.as_deref() != Some(msg.as_str()) {
            tracing::warn!("{msg}");
            self.last_logged = Some(msg);
        }
    }

    fn lost(&mut self, why: String) -> DeviceError {
        self.log_once(format!("device lost: {why}"));
        self.listener = None;
        if self.reopen.is_some() {
            self.link = None;
        }
        DeviceError::Disconnected(Message::cause(why))
    }

    fn connect_inner(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        self.listener = None;
        if self.link.is_none() {
            let Some(reopen) = self.reopen.as_mut() else {
                return Err(DeviceError::Disconnected(Message::cause("no link")));
            };
            let link = reopen(self.served.as_ref()).map_err(LinkError::into_device_error)?;
            self.link = Some(link);
        }
        let Some(link) = self.link.as_mut() else {
            return Err(DeviceError::Disconnected(Message::cause("no link")));
        };
        let ids = link.ids().clone();
        if let Some(before) = &self.served {
            if !same_device(before, &ids) {
                let msg = format!(
                    "a different device answered ({:04x}:{:04x}); waiting for the one served before",
                    ids.vendor_id, ids.product_id
                );
                return Err(self.lost(msg));
            }
        }
        let desc = match link.report_descriptor() {
            Ok(d) => d,
            Err(e @ LinkError::Disconnected(_)) => return Err(self.lost(e.to_string())),
            Err(e) => return Err(DeviceError::Stale(Box::new(e))),
        };
        let mut mapper = match Mapper::new(&desc, &info(&ids), &self.settings.mapping) {
            Ok(m) => m,
            // A device we cannot serve at start is a configuration problem, as in NUT.
            Err(e) if !self.connected_once => return Err(DeviceError::fatal(e)),
            Err(e) => return Err(self.lost(e.to_string())),
        };
        let mut io = LinkIo { link, last: None };
        if mapper.init(&mut io, &info(&ids), st).is_err() {
            let why = io.last.unwrap_or_else(|| "device disconnected".into());
            return Err(self.lost(why));
        }
        st.setinfo("driver.version.data", mapper.subdriver().version);
        st.setinfo("driver.parameter.pollfreq", &self.settings.pollfreq.as_secs().to_string());
        self.mapper = Some(mapper);
        self.served = Some(ids);
        self.first_update = true;
        self.full_pending = false;
        self.next_walk = None;
        self.connected_once = true;
        self.last_logged = None;
        Ok(())
    }

    /// Whether the driver listens on the interrupt pipe between polls.
    fn listening(&self) -> bool {
        self.settings.interrupt_wait.is_some()
            && !self.settings.pollonly
            && self.link.is_some()
            && self.mapper.as_ref().is_some_and(|m| !m.interrupt_pipe_disabled())
    }

    /// Starts the listener thread when the driver listens, the core gave a waker and
    /// the link shares its pipe; without one the device thread waits on the pipe.
    fn ensure_listener(&mut self) {
        if self.listener.is_some() || !self.listening() {
            return;
        }
        let (Some(waker), Some(link)) = (self.waker.clone(), self.link.as_mut()) else { return };
        let Some(pipe) = link.interrupt_pipe() else { return };
        let size = self.settings.interrupt_size.unwrap_or(DEFAULT_INTERRUPT_SIZE);
        match Listener::spawn(pipe, size, waker) {
            Ok(l) => self.listener = Some(l),
            Err(e) => self.log_once(format!("cannot start the interrupt listener: {e}")),
        }
    }

    /// Applies what the listener heard; `false` without a listener.
    fn apply_heard(&mut self, st: &mut Dstate, publish: bool) -> Result<bool, DeviceError> {
        let Some(listener) = self.listener.as_ref() else { return Ok(false) };
        let heard = listener.take();
        let (Some(link), Some(mapper)) = (self.link.as_mut(), self.mapper.as_mut()) else {
            return Ok(true);
        };
        let mut applied = 0;
        for report in &heard.reports {
            let mut io = LinkIo { link: &mut *link, last: None };
            applied += mapper.handle_interrupt(&mut io, st, report);
        }
        if applied > 0 && publish {
            mapper.publish_status(st);
        }
        if let Some(why) = heard.lost {
            return Err(self.lost(why));
        }
        Ok(true)
    }

    /// Reads the interrupt pipe: waits up to `wait` for a first report, then drains
    /// what is queued; each report is applied at once. A link that gives up before
    /// `wait` is over (no interrupt endpoint, an error) is not asked again until then,
    /// so that listening never spins.
    fn read_interrupts(&mut self, st: &mut Dstate, wait: Duration) -> Result<(), DeviceError> {
        let (Some(link), Some(mapper)) = (self.link.as_mut(), self.mapper.as_mut()) else {
            return Ok(());
        };
        if self.settings.pollonly || mapper.interrupt_pipe_disabled() {
            return Ok(());
        }
        let size = self.settings.interrupt_size.unwrap_or(DEFAULT_INTERRUPT_SIZE);
        let mut buf = vec![0u8; size.max(1)];
        let mut deadline = Instant::now() + wait;
        let mut applied = 0;
        for _ in 0..16 {
            match link.read_interrupt(&mut buf, deadline) {
                Ok(n) => {
                    let n = n.min(buf.len());
                    let mut io = LinkIo { link: &mut *link, last: None };
                    applied += mapper.handle_interrupt(&mut io, st, &buf[..n]);
                    deadline = Instant::now();
                }
                Err(LinkError::Disconnected(c)) => return Err(self.lost(c.to_string())),
                Err(_) => {
                    // An error that came back well before the deadline (a stall, a
                    // link that does not wait) must not turn the wait into a busy
                    // loop; a timeout that ended a timer tick early needs no second
                    // wake-up.
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left > EARLY_RETURN {
                        std::thread::sleep(left);
                    }
                    break;
                }
            }
        }
        // Between polls no walk follows: the status the reports changed goes out now.
        if applied > 0 && !wait.is_zero() {
            mapper.publish_status(st);
        }
        Ok(())
    }
}

fn tracking(o: Outcome) -> TrackingResult {
    match o {
        Outcome::Handled => TrackingResult::Handled,
        Outcome::Unknown => TrackingResult::Unknown,
        Outcome::Invalid => TrackingResult::Invalid,
        _ => TrackingResult::Failed,
    }
}

impl<L: HidLink + 'static> Device for UsbhidUps<L> {
    fn connect(&mut self, st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        self.connect_inner(st)
    }

    fn update(
        &mut self,
        st: &mut Dstate,
        kind: UpdateKind,
        now: Instant,
    ) -> Result<(), DeviceError> {
        if self.mapper.is_none() || self.link.is_none() {
            return Err(DeviceError::Disconnected(Message::cause("not connected")));
        }
        let listening = self.listening();
        self.woke = listening.then_some(now);
        if listening {
            self.ensure_listener();
            // Between polls: what the listener heard, or a wait on the interrupt pipe
            // (at most until the next poll); a full update asked for meanwhile is done
            // at that poll, as NUT does.
            let due = self.next_walk.filter(|&t| !self.first_update && now < t);
            if let Some(due) = due {
                self.full_pending |= kind == UpdateKind::Full;
                if self.apply_heard(st, true)? {
                    return Ok(());
                }
                let cap = self.settings.interrupt_wait.unwrap_or(INTERRUPT_WAIT);
                return self.read_interrupts(st, cap.min(due - now));
            }
            self.next_walk = Some(now + self.settings.poll_interval);
            // The walk publishes the status the reports changed.
            self.apply_heard(st, false)?;
        } else {
            self.read_interrupts(st, Duration::ZERO)?;
        }
        let full = (kind == UpdateKind::Full || std::mem::take(&mut self.full_pending))
            && !self.first_update;
        self.first_update = false;
        let (Some(link), Some(mapper)) = (self.link.as_mut(), self.mapper.as_mut()) else {
            return Err(DeviceError::Disconnected(Message::cause("not connected")));
        };
        let mut io = LinkIo { link, last: None };
        let r = mapper.update(&mut io, st, full);
        let last = io.last.take();
        match r {
            Ok(_) => {
                self.last_logged = None;
                Ok(())
            }
            Err(IoError::Disconnected) => {
                Err(self.lost(last.unwrap_or_else(|| "device disconnected".into())))
            }
            Err(_) => {
                let why = last.unwrap_or_else(|| "no answer".into());
                self.log_once(format!("data stale: {why}"));
                Err(DeviceError::Stale(Message::cause(why)))
            }
        }
    }

    fn instcmd(
        &mut self,
        st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        _now: Instant,
    ) -> TrackingResult {
        let (Some(link), Some(mapper)) = (self.link.as_mut(), self.mapper.as_mut()) else {
            return TrackingResult::Failed;
        };
        let mut io = LinkIo { link, last: None };
        tracking(mapper.instcmd(&mut io, st, cmd, param))
    }

    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, _now: Instant) -> TrackingResult {
        let (Some(link), Some(mapper)) = (self.link.as_mut(), self.mapper.as_mut()) else {
            return TrackingResult::Failed;
        };
        let mut io = LinkIo { link, last: None };
        tracking(mapper.setvar(&mut io, st, var, value))
    }

    fn shutdown(&mut self, st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        let (Some(link), Some(mapper)) = (self.link.as_mut(), self.mapper.as_mut()) else {
            return Err(DeviceError::Disconnected(Message::cause("not connected")));
        };
        let mut io = LinkIo { link, last: None };
        match mapper.shutdown(&mut io, st) {
            Some(cmd) => {
                tracing::info!("shutdown sent with {cmd}");
                Ok(())
            }
            None => Err(DeviceError::fatal(Message::cause("Shutdown failed!"))),
        }
    }

    fn next_wakeup(&self) -> Option<Instant> {
        if !self.listening() {
            return None;
        }
        match &self.listener {
            // The listener waits on the pipe: the device thread is due when it heard
            // something, else at the next walk.
            Some(l) if l.pending.load(Ordering::Acquire) => Some(l.born),
            Some(_) => self.next_walk.or(self.woke),
            // The device thread waits on the pipe itself: the next wait is due as soon
            // as the last one returns.
            None => self.woke,
        }
    }

    fn set_waker(&mut self, waker: Waker) {
        self.waker = Some(waker);
    }
}

#[cfg(feature = "usb")]
pub use program::UsbhidUpsDriver;

#[cfg(feature = "usb")]
mod program {
    use super::*;
    use crate::usb::{UsbHid, UsbMatcher};
    use nut_driver::Timing;
    use nut_driver::run::{DriverProgram, Env};

    /// The `usbhid-ups` program: NUT's options, `pollfreq` timing, the USB link.
    #[derive(Debug)]
    pub struct UsbhidUpsDriver;

    fn claimed(ids: &UsbIds, opts: &Options) -> bool {
        if opts.subdriver.is_some() {
            return true;
        }
        let d = nut_hid::subdrivers::Device {
            vendor_id: ids.vendor_id,
            product_id: ids.product_id,
            vendor: ids.vendor.as_deref(),
            product: ids.product.as_deref(),
        };
        let sel = nut_hid::subdrivers::SelectOptions {
            productid_set: opts.productid_set,
            explore: opts.explore,
            later_ids: !opts.productid_set && !opts.strict_2_8_0_ids,
        };
        nut_hid::subdrivers::select_with(&d, &sel).is_some()
    }

    impl DriverProgram for UsbhidUpsDriver {
        type Device = UsbhidUps<UsbHid>;
        const NAME: &'static str = "usbhid-ups";
        const DESCRIPTION: &'static str = "Generic HID driver";
        const VERSION: &'static str = DRIVER_VERSION;
        const OPTIONS: &'static [VarSpec] = VARS;

        fn timing(params: &DriverParams) -> Result<Timing, nut_driver::params::ParamError> {
            let pollfreq = params
                .get("pollfreq")
                .map(nut_hid::mapping::atol)
                .filter(|&n| n > 0)
                .map_or(DEFAULT_POLLFREQ, i64::unsigned_abs);
            Ok(Timing {
                poll_interval: params.poll_interval(),
                full_update: Some(Duration::from_secs(pollfreq)),
                ..Timing::default()
            })
        }

        fn create(params: &DriverParams, _env: &Env) -> Result<Self::Device, DeviceError> {
            if let Some(p) = params.port.as_deref().filter(|p| *p != "auto") {
                tracing::warn!(
                    "this driver ignores the port setting ({p}); use the USB matching options"
                );
            }
            let mut settings = Settings::from_params(params)?;
            settings.interrupt_wait = Some(INTERRUPT_WAIT);
            let matcher = UsbMatcher::from_params(params).map_err(DeviceError::fatal)?;
            let alt = crate::usb::alt_setting(params);
            let opts = settings.mapping.clone();
            let reopen: Reopen<UsbHid> = Box::new(move |before: Option<&UsbIds>| {
                let mut hid = UsbHid::open(
                    |ids| {
                        matcher.matches(ids)
                            && claimed(ids, &opts)
                            && before.is_none_or(|b| same_device(b, ids))
                    },
                    None,
                )?;
                if let Some(a) = alt {
                    hid.set_alt_setting(a);
                }
                Ok(hid)
            });
            Ok(UsbhidUps::with_reopen(reopen, settings))
        }

        fn after_start(params: &DriverParams, st: &mut Dstate) {
            st.setinfo("driver.parameter.synchronous", params.synchronous.as_str());
            st.setinfo("driver.version.usb", &usb_version());
        }
    }

    /// NUT's `driver.version.usb`: the libusb version in use, with the
    /// `LIBUSB_API_VERSION` of that release's header where we know it (NUT prints the
    /// one it was compiled with).
    fn usb_version() -> String {
        let v = rusb::version();
        let api = match (v.major(), v.minor(), v.micro()) {
            (1, 0, 24) => Some(0x0100_0108),
            (1, 0, 25 | 26) => Some(0x0100_0109),
            (1, 0, 27) => Some(0x0100_010a),
            _ => None,
        };
        let base = format!("libusb-{}.{}.{}", v.major(), v.minor(), v.micro());
        match api {
            Some(a) => format!("{base} (API: {a:#x})"),
            None => base,
        }
    }
}
