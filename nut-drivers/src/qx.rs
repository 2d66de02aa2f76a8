//! `nutdrv_qx`: NUT's driver for the Megatec / Q1 / Q* family.
//!
//! [`Qx`] is the [`Device`] that drives a [`nut_megatec::Session`] (sans-IO)
//! synchronously over a [`QxLink`]: a serial [`ByteStream`] ([`SerialLink`]:
//! flush input, write the query, read until `\r` or the 1 s deadline) or,
//! with feature `usb`, a USB bridge ([`UsbBridgeLink`]: the query run through
//! a [`nut_megatec::usb::Bridge`] framing). The session publishes straight
//! into the driver state: the core's [`Dstate`] is lent to the session for
//! the duration of each device call, so the values reach `upsd` exactly as
//! the session set them, with no copy.
//!
//! A port that vanishes is reported as [`DeviceError::Disconnected`] (the
//! poller reopens it and autodetects again); a device that goes silent makes
//! the data stale once the session says so (NUT's `MAXTRIES`), and fresh at
//! the next good answer. Every refused answer is logged with its query and
//! bytes; a refused field publishes nothing.

use crate::usb_options;
use nut_driver::params::{DriverParams, VarSpec};
use nut_driver::transport::{ByteStream, LinkError};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use nut_megatec::{CommandError, Config, Event, MAX_ANSWER_LEN, RequestId, Session};
use nut_proto::sock::TrackingResult;
use std::time::{Duration, Instant};

/// nutdrv_qx's internal version, as NUT 2.8.0's.
pub const DRIVER_VERSION: &str = "0.32";

/// How long one query may take (NUT's serial and USB timeouts are 1 s
/// for the answer; a little slack for the 2400-baud line).
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(1000);

/// The settings `nutdrv_qx` accepts beyond the common ones (NUT 2.8.0's
/// common and USB ones). Masterguard's `slave_address` selects the unit;
/// the per-protocol Voltronic/BestUPS/Ablerex settings that would change
/// the device at start are accepted and logged, never sent (see the
/// `nut-megatec` README).
pub const VARS: &[VarSpec] = &[
    VarSpec::value("offdelay", "Set shutdown delay, in seconds (default=30)"),
    VarSpec::value("ondelay", "Set startup delay, in seconds (default=180)"),
    VarSpec::flag("stayoff", "If invoked the UPS won't return after a shutdown when FSD arises"),
    VarSpec::value(
        "pollfreq",
        "Set polling frequency, in seconds, to reduce data flow (default=30)",
    ),
    VarSpec::value("protocol", "Preselect communication protocol (skip autodetection)"),
    VarSpec::value("runtimecal", "Parameters used for runtime calculation"),
    VarSpec::value("chargetime", "Nominal charge time for UPS battery"),
    VarSpec::value("idleload", "Minimum load to be used for runtime calculation"),
    VarSpec::value("subdriver", "Serial-over-USB subdriver selection"),
    usb_options::VENDOR,
    usb_options::PRODUCT,
    usb_options::SERIAL,
    usb_options::VENDORID,
    usb_options::PRODUCTID,
    usb_options::BUS,
    usb_options::DEVICE,
    usb_options::BUSPORT,
    usb_options::ALTINTERFACE,
    usb_options::LANGID_FIX,
    VarSpec::flag("noscanlangid", "Don't autoscan valid range for langid"),
    VarSpec::value("cablepower", "Set cable power for serial interface"),
    VarSpec::flag(
        "reset_to_default",
        "Reset capability options and their limits to safe default values",
    ),
    VarSpec::value(
        "battery_number",
        "Set number of batteries that make a pack to n (integer, 1-9)",
    ),
    VarSpec::flag(
        "testing",
        "If invoked the driver will exec also commands that still need testing",
    ),
    VarSpec::flag("ignoresab", "Ignore 'Shutdown Active' bit in UPS status"),
    VarSpec::flag("novendor", "Skip reading vendor information from UPS"),
    VarSpec::flag("norating", "Skip reading rating information from UPS"),
    VarSpec::flag("nooutstats", "Skip reading output load statistics"),
    VarSpec::value(
        "pins_shutdown_mode",
        "Set shutdown mode functionality of Pin 1 and Pin 7 on the UPS DB9 communication port",
    ),
    VarSpec::value("series", "Series (A/E)"),
    VarSpec::value("slave_address", "Slave address (UPS id) to match"),
    VarSpec::value("input_fault_voltage", "Input fault voltage (whatever that means)"),
    VarSpec::value("number_of_battery_cells", "Number of battery cells in series"),
    VarSpec::value("nominal_cell_voltage", "Nominal battery cell voltage"),
    VarSpec::value("runtime_half", "Nominal battery run time at 50% load (seconds)"),
    VarSpec::value("runtime_full", "Nominal battery run time at 100% load (seconds)"),
    VarSpec::value("recharge_time", "Nominal battery recharge time to 95% capacity (seconds)"),
    VarSpec::value("output_voltages", "Possible output voltages (volts)"),
    VarSpec::flag("battery_voltage_reports_one_pack", "Battery voltage is reported for one pack"),
];

/// The session's configuration from the driver settings: every key the
/// codec knows (`protocol`, `novendor`, `norating`, `ignoresab`,
/// `nooutstats`, `ondelay`, `offdelay`, `pollfreq`, `runtimecal`,
/// `chargetime`, `idleload`) plus `pollinterval` and `vendorid`.
pub fn config_from_params(params: &DriverParams) -> Result<Config, DeviceError> {
    let mut config = Config::default();
    for (k, v) in &params.values {
        config
            .set(k, v.as_deref())
            .map_err(|e| DeviceError::fatal(Message::cause(format!("{k}: {e}"))))?;
    }
    config.pollinterval = params.poll_interval().as_secs().max(1);
    config.usb_vendorid = params.get("vendorid").map(str::to_string);
    Ok(config)
}

/// What a link got for one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Serial bytes read until the first `\r` (included).
    Line(Vec<u8>),
    /// Serial bytes read until the deadline, without `\r` (maybe none).
    TimedOut(Vec<u8>),
    /// One whole answer of a USB exchange (may lack `\r`, may be empty).
    Whole(Vec<u8>),
    /// The USB exchange failed (not a lost device).
    Failed(String),
}

/// A transport for Q* queries.
pub trait QxLink: Send + 'static {
    /// Sends `query` and returns what came back within `timeout`.
    /// `Err(LinkError::Disconnected)`: the port or device is gone.
    fn transact(&mut self, query: &[u8], timeout: Duration) -> Result<Reply, LinkError>;

    /// A short name for logs (`/dev/ttyUSB0`, `USB 0665:5161 cypress`).
    fn describe(&self) -> String;
}

/// A serial Q* link over any [`ByteStream`] (the real port, a pseudo-
/// terminal, or a test's `ScriptedStream`).
#[derive(Debug)]
pub struct SerialLink<S> {
    stream: S,
    name: String,
}

impl<S: ByteStream + 'static> SerialLink<S> {
    /// Wraps `stream`, named `name` in logs.
    pub fn new(stream: S, name: &str) -> Self {
        SerialLink { stream, name: name.into() }
    }
}

impl<S: ByteStream + 'static> QxLink for SerialLink<S> {
    fn transact(&mut self, query: &[u8], timeout: Duration) -> Result<Reply, LinkError> {
        let deadline = Instant::now() + timeout;
        // NUT flushes the line before each query (ser_flush_io).
        if let Err(e @ LinkError::Disconnected(_)) = self.stream.discard_input() {
            return Err(e);
        }
        self.stream.write_all(query, deadline)?;
        let mut got = Vec::new();
        let mut buf = [0u8; 128];
        loop {
            match self.stream.read(&mut buf, deadline) {
                Ok(n) => {
                    let piece = buf.get(..n).unwrap_or(&buf);
                    if let Some(i) = piece.iter().position(|&b| b == b'\r') {
                        got.extend_from_slice(piece.get(..=i).unwrap_or(piece));
                        return Ok(Reply::Line(got));
                    }
                    got.extend_from_slice(piece);
                    if got.len() > MAX_ANSWER_LEN {
                        // The session refuses it as overlong.
                        return Ok(Reply::Line(got));
                    }
                }
                Err(LinkError::Timeout) => return Ok(Reply::TimedOut(got)),
                Err(e) => return Err(e),
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Opens the link (again): called at every (re)connect.
pub type Open<L> = Box<dyn FnMut() -> Result<L, LinkError> + Send>;

/// What the session reported while it was being driven.
#[derive(Debug, Default)]
struct Outcome {
    detected: Option<&'static str>,
    not_supported: bool,
    initialized: bool,
    init_failed: Option<String>,
    updated: bool,
    update_failed: Option<bool>,
    done: Vec<(RequestId, Result<(), CommandError>)>,
}

/// The `nutdrv_qx` device over a [`QxLink`].
pub struct Qx<L: QxLink> {
    open: Open<L>,
    config: Config,
    link: Option<L>,
    /// Between calls its publisher is an empty placeholder; during a call
    /// it holds the caller's state (see `lend`).
    session: Option<Session<Dstate>>,
    /// Whether the caller's state is lent to the session now.
    lent: bool,
    /// The caller's state, kept when the session ended during a call.
    parked: Option<Dstate>,
    epoch: Instant,
    clock: Duration,
    /// The last refused answer logged (each distinct one is logged once
    /// until an update succeeds).
    last_logged: Option<String>,
    stale: bool,
    /// `stayoff`: `-k` turns the UPS off for good.
    pub stayoff: bool,
}

impl<L: QxLink> std::fmt::Debug for Qx<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qx")
            .field("link", &self.link.as_ref().map(QxLink::describe))
            .field("protocol", &self.session.as_ref().and_then(|s| s.protocol()).map(|p| p.name))
            .finish()
    }
}

impl<L: QxLink> Qx<L> {
    /// A device that opens its link with `open` at each connect.
    pub fn new(open: Open<L>, config: Config) -> Self {
        Qx {
            open,
            config,
            link: None,
            session: None,
            lent: false,
            parked: None,
            epoch: Instant::now(),
            clock: Duration::ZERO,
            last_logged: None,
            stale: false,
            stayoff: false,
        }
    }

    /// The session, once connected (between calls its publisher is
    /// empty: the values are in the driver state).
    pub fn session(&self) -> Option<&Session<Dstate>> {
        self.session.as_ref()
    }

    /// Lends `st` to the session for one call: what the session publishes
    /// goes straight into it. Undone by [`give_back`](Self::give_back).
    fn lend(&mut self, st: &mut Dstate) {
        if let Some(s) = self.session.as_mut() {
            std::mem::swap(st, s.publisher_mut());
            self.lent = true;
        }
    }

    /// Returns the state lent by [`lend`](Self::lend), also when the
    /// session ended meanwhile.
    fn give_back(&mut self, st: &mut Dstate) {
        if !std::mem::take(&mut self.lent) {
            return;
        }
        if let Some(s) = self.session.as_mut() {
            std::mem::swap(st, s.publisher_mut());
        } else if let Some(d) = self.parked.take() {
            *st = d;
        }
    }

    /// Ends the session, keeping the caller's state if it is lent.
    fn end_session(&mut self) {
        if let Some(mut s) = self.session.take() {
            if self.lent {
                self.parked = Some(std::mem::take(s.publisher_mut()));
            }
        }
    }

    fn now(&mut self) -> Duration {
        self.clock = self.clock.max(self.epoch.elapsed());
        self.clock
    }

    fn lost(&mut self, e: LinkError) -> DeviceError {
        let what = self.link.as_ref().map(QxLink::describe).unwrap_or_default();
        tracing::warn!("{what}: lost the device: {e}");
        self.link = None;
        self.end_session();
        DeviceError::Disconnected(Box::new(e))
    }

    /// Runs the session until `stop` says so or it has nothing to send
    /// and no deadline to wait for (the caller's state lent to it).
    fn drive(
        &mut self,
        out: &mut Outcome,
        stop: impl Fn(&Outcome) -> bool,
    ) -> Result<(), DeviceError> {
        // Bounded: every turn either sends a query or passes a deadline.
        for _ in 0..10_000 {
            self.events(out);
            if stop(out) {
                return Ok(());
            }
            let now = self.now();
            let Some(session) = self.session.as_mut() else {
                return Err(DeviceError::Disconnected(Message::cause("not connected")));
            };
            if let Some(query) = session.poll_transmit() {
                let Some(link) = self.link.as_mut() else {
                    return Err(DeviceError::Disconnected(Message::cause("not connected")));
                };
                let reply = link.transact(&query, QUERY_TIMEOUT);
                let now = self.now();
                let Some(session) = self.session.as_mut() else { continue };
                match reply {
                    Ok(Reply::Line(bytes)) => session.handle_input(&bytes, now),
                    Ok(Reply::TimedOut(bytes)) => {
                        session.handle_input(&bytes, now);
                        let t = session.poll_timeout().unwrap_or(now).max(now);
                        self.clock = t;
                        session.handle_timeout(t);
                    }
                    Ok(Reply::Whole(bytes)) => session.handle_answer(&bytes, now),
                    Ok(Reply::Failed(why)) => {
                        tracing::debug!("{}: {why}", printable(&query));
                        session.handle_transport_error(now);
                    }
                    Err(e @ LinkError::Disconnected(_)) => return Err(self.lost(e)),
                    Err(e) => {
                        tracing::debug!("{}: {e}", printable(&query));
                        let t = session.poll_timeout().unwrap_or(now).max(now);
                        self.clock = t;
                        session.handle_timeout(t);
                    }
                }
                continue;
            }
            // Nothing to send: a pending deadline (answer without `\r`
            // came through `handle_input`) or the session is idle.
            if session.pending_query().is_some() {
                let t = session.poll_timeout().unwrap_or(now).max(now);
                self.clock = t;
                session.handle_timeout(t);
                continue;
            }
            return Ok(());
        }
        Err(DeviceError::stale(Message::cause("the session did not settle")))
    }

    fn events(&mut self, out: &mut Outcome) {
        let Some(session) = self.session.as_mut() else { return };
        while let Some(e) = session.poll_event() {
            match e {
                Event::Detected { protocol } => {
                    tracing::info!("Using protocol: {protocol}");
                    out.detected = Some(protocol);
                }
                Event::NotSupported => out.not_supported = true,
                Event::Initialized => out.initialized = true,
                Event::InitFailed { reason } => out.init_failed = Some(reason),
                Event::Updated { .. } => out.updated = true,
                Event::UpdateFailed { stale } => out.update_failed = Some(stale),
                Event::Reconnected => {}
                Event::CommandDone { id, result } => out.done.push((id, result)),
                Event::AnswerRefused(err) => {
                    let text = err.to_string();
                    if self.last_logged.as_deref() != Some(&text) {
                        tracing::warn!("answer refused: {text}");
                        self.last_logged = Some(text);
                    }
                }
                _ => {}
            }
        }
    }

    fn run_request(
        &mut self,
        st: &mut Dstate,
        start: impl FnOnce(&mut Session<Dstate>, Duration) -> RequestId,
    ) -> Option<Result<(), CommandError>> {
        let now = self.now();
        self.lend(st);
        let mut out = Outcome::default();
        if let Some(s) = self.session.as_mut() {
            let id = start(s, now);
            let _ = self.drive(&mut out, |o| o.done.iter().any(|(i, _)| *i == id));
            out.done.retain(|(i, _)| *i == id);
        }
        self.give_back(st);
        out.done.pop().map(|(_, r)| r)
    }
}

/// The query or answer bytes as text (`\r` escaped), for logs.
pub fn printable(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

fn tracking(r: Option<Result<(), CommandError>>) -> TrackingResult {
    match r {
        Some(Ok(())) => TrackingResult::Handled,
        Some(Err(CommandError::Unknown(_))) => TrackingResult::Unknown,
        Some(Err(CommandError::InvalidValue { .. })) => TrackingResult::Invalid,
        Some(Err(e)) => {
            tracing::warn!("{e}");
            TrackingResult::Failed
        }
        None => TrackingResult::Failed,
    }
}

impl<L: QxLink> Device for Qx<L> {
    fn connect(&mut self, st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        let link = (self.open)().map_err(LinkError::into_device_error)?;
        tracing::debug!("opened {}", link.describe());
        self.link = Some(link);
        let now = self.now();
        // The session gets the caller's state at once (it may publish while
        // it starts); `give_back` returns it.
        self.end_session();
        self.session = Some(Session::new(self.config.clone(), std::mem::take(st), now));
        self.lent = true;
        let mut out = Outcome::default();
        let r =
            self.drive(&mut out, |o| o.not_supported || o.init_failed.is_some() || o.initialized);
        if out.not_supported || out.init_failed.is_some() {
            self.end_session();
        }
        self.give_back(st);
        r?;
        if out.not_supported {
            return Err(DeviceError::fatal(Message::cause("No supported UPS detected")));
        }
        if let Some(reason) = out.init_failed {
            return Err(DeviceError::fatal(Message::cause(reason)));
        }
        if !out.initialized {
            return Err(DeviceError::stale(Message::cause("init did not finish")));
        }
        Ok(())
    }

    fn update(
        &mut self,
        st: &mut Dstate,
        _kind: UpdateKind,
        _now: Instant,
    ) -> Result<(), DeviceError> {
        let now = self.now();
        self.lend(st);
        let Some(session) = self.session.as_mut() else {
            return Err(DeviceError::Disconnected(Message::cause("not connected")));
        };
        session.update_now(now);
        let mut out = Outcome::default();
        let r = self.drive(&mut out, |o| o.updated || o.update_failed.is_some());
        self.give_back(st);
        r?;
        match out.update_failed {
            Some(true) => {
                self.stale = true;
                Err(DeviceError::stale(Message::cause(
                    "Communications with the UPS lost: status read failed!",
                )))
            }
            Some(false) if self.stale => Err(DeviceError::stale(Message::cause(
                "Communications with the UPS lost: status read failed!",
            ))),
            Some(false) => Ok(()),
            None if out.updated => {
                self.stale = false;
                self.last_logged = None;
                Ok(())
            }
            None => Err(DeviceError::stale(Message::cause("update did not finish"))),
        }
    }

    fn instcmd(
        &mut self,
        st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        _now: Instant,
    ) -> TrackingResult {
        tracking(self.run_request(st, |s, now| s.instcmd(cmd, param, now)))
    }

    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, _now: Instant) -> TrackingResult {
        tracking(self.run_request(st, |s, now| s.setvar(var, value, now)))
    }

    fn shutdown(&mut self, st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        let stayoff = self.stayoff;
        match self.run_request(st, |s, now| s.shutdown(stayoff, now)) {
            Some(Ok(())) => {
                tracing::info!("Shutting down...");
                Ok(())
            }
            Some(Err(e)) => {
                Err(DeviceError::fatal(Message::cause(format!("Shutdown failed! {e}"))))
            }
            None => Err(DeviceError::fatal(Message::cause("Shutdown failed!"))),
        }
    }
}

/// A USB Megatec bridge as a [`QxLink`]: each query runs through the
/// framing's exchange on a raw USB device.
#[cfg(feature = "usb")]
#[derive(Debug)]
pub struct UsbBridgeLink {
    dev: crate::usb::UsbRaw,
    bridge: nut_megatec::usb::Bridge,
}

#[cfg(feature = "usb")]
impl UsbBridgeLink {
    /// Pairs an open device with its framing.
    pub fn new(dev: crate::usb::UsbRaw, framing: nut_megatec::usb::Framing) -> Self {
        UsbBridgeLink { dev, bridge: nut_megatec::usb::Bridge::new(framing) }
    }
}

#[cfg(feature = "usb")]
impl QxLink for UsbBridgeLink {
    fn transact(&mut self, query: &[u8], _timeout: Duration) -> Result<Reply, LinkError> {
        let mut ex = self.bridge.exchange(query);
        while let Some(t) = ex.next_transfer() {
            let r = self.dev.transfer(&t)?;
            ex.handle_result(r);
        }
        Ok(match ex.finish() {
            Ok(answer) => Reply::Whole(answer),
            Err(e) => Reply::Failed(e.to_string()),
        })
    }

    fn describe(&self) -> String {
        let ids = self.dev.ids();
        format!("USB {:04x}:{:04x} {:?}", ids.vendor_id, ids.product_id, self.bridge.framing())
    }
}

#[cfg(any(feature = "serial", feature = "usb"))]
pub use program::{AnyLink, NutdrvQx, is_usb, open_link};

#[cfg(any(feature = "serial", feature = "usb"))]
mod program {
    use super::*;
    use nut_driver::Timing;
    use nut_driver::run::{DriverProgram, Env};

    /// A link of either kind, chosen by the `port` setting.
    pub enum AnyLink {
        /// A serial port.
        #[cfg(feature = "serial")]
        Serial(SerialLink<crate::serial::Serial>),
        /// A USB bridge.
        #[cfg(feature = "usb")]
        Usb(UsbBridgeLink),
    }

    impl QxLink for AnyLink {
        fn transact(&mut self, query: &[u8], timeout: Duration) -> Result<Reply, LinkError> {
            match self {
                #[cfg(feature = "serial")]
                AnyLink::Serial(l) => l.transact(query, timeout),
                #[cfg(feature = "usb")]
                AnyLink::Usb(l) => l.transact(query, timeout),
            }
        }
        fn describe(&self) -> String {
            match self {
                #[cfg(feature = "serial")]
                AnyLink::Serial(l) => l.describe(),
                #[cfg(feature = "usb")]
                AnyLink::Usb(l) => l.describe(),
            }
        }
    }

    /// Whether the settings select USB, as NUT's nutdrv_qx decides:
    /// `port=auto` or a `subdriver=` setting.
    pub fn is_usb(params: &DriverParams) -> bool {
        params.port.as_deref() == Some("auto") || params.has("subdriver")
    }

    /// The `nutdrv_qx` program.
    #[derive(Debug)]
    pub struct NutdrvQx;

    impl DriverProgram for NutdrvQx {
        type Device = Qx<AnyLink>;
        const NAME: &'static str = "nutdrv_qx";
        const DESCRIPTION: &'static str = "Generic Q* USB/Serial driver";
        const VERSION: &'static str = DRIVER_VERSION;
        const OPTIONS: &'static [VarSpec] = VARS;

        fn timing(params: &DriverParams) -> Result<Timing, nut_driver::params::ParamError> {
            Ok(Timing { poll_interval: params.poll_interval(), ..Timing::default() })
        }

        fn create(params: &DriverParams, _env: &Env) -> Result<Self::Device, DeviceError> {
            let config = config_from_params(params)?;
            let open = open_link(params, false)?;
            let mut qx = Qx::new(open, config);
            qx.stayoff = params.has("stayoff");
            Ok(qx)
        }

        fn after_start(params: &DriverParams, st: &mut Dstate) {
            st.setinfo("driver.parameter.synchronous", params.synchronous.as_str());
            #[cfg(feature = "usb")]
            st.setinfo("driver.version.usb", &usb_version());
        }
    }

    /// The opener of the link the settings name (`blazer`: blazer_usb's
    /// device table).
    pub fn open_link(params: &DriverParams, blazer: bool) -> Result<Open<AnyLink>, DeviceError> {
        if is_usb(params) {
            #[cfg(feature = "usb")]
            {
                return usb_opener(params, blazer);
            }
            #[cfg(not(feature = "usb"))]
            {
                let _ = blazer;
                return Err(DeviceError::fatal(Message::cause(
                    "USB support is not built in (feature `usb`)",
                )));
            }
        }
        #[cfg(feature = "serial")]
        {
            let _ = blazer;
            let Some(path) = params.port.clone() else {
                return Err(DeviceError::fatal(Message::cause("No port specified!")));
            };
            Ok(Box::new(move || {
                let s = crate::serial::Serial::open_lines(
                    &path,
                    crate::serial::LineSettings::default(),
                    b'\r',
                )?;
                Ok(AnyLink::Serial(SerialLink::new(s, &path)))
            }))
        }
        #[cfg(not(feature = "serial"))]
        Err(DeviceError::fatal(Message::cause("serial support is not built in (feature `serial`)")))
    }

    /// NUT's `driver.version.usb` of a libusb-1.0 build: the library's
    /// version and the API version of its header (`LIBUSB_API_VERSION`,
    /// known for the releases since 1.0.24).
    #[cfg(feature = "usb")]
    fn usb_version() -> String {
        let v = rusb::version();
        let api = match (v.major(), v.minor(), v.micro()) {
            (1, 0, 24) => Some(0x0100_0108),
            (1, 0, 25) => Some(0x0100_0109),
            (1, 0, 26) => Some(0x0100_0109),
            (1, 0, 27) => Some(0x0100_010a),
            _ => None,
        };
        let base = format!("libusb-{}.{}.{}", v.major(), v.minor(), v.micro());
        match api {
            Some(a) => format!("{base} (API: 0x{a:x})"),
            None => base,
        }
    }

    #[cfg(feature = "usb")]
    fn usb_opener(params: &DriverParams, blazer: bool) -> Result<Open<AnyLink>, DeviceError> {
        use nut_megatec::usb::{BLAZER_USB_DEVICES, Framing, NUTDRV_QX_DEVICES, match_device};
        let matcher = crate::usb::UsbMatcher::from_params(params).map_err(DeviceError::fatal)?;
        let forced = match params.get("subdriver") {
            Some(name) => Some(Framing::by_name(name).ok_or_else(|| {
                DeviceError::fatal(Message::cause(format!("Subdriver \"{name}\" not found!")))
            })?),
            None => None,
        };
        let table = if blazer { BLAZER_USB_DEVICES } else { NUTDRV_QX_DEVICES };
        Ok(Box::new(move || {
            let (dev, framing) = crate::usb::UsbRaw::open(|ids| {
                if !matcher.matches(ids) {
                    return None;
                }
                forced.or_else(|| {
                    match_device(
                        table,
                        ids.vendor_id,
                        ids.product_id,
                        ids.vendor.as_deref(),
                        ids.product.as_deref(),
                    )
                })
            })?;
            Ok(AnyLink::Usb(UsbBridgeLink::new(dev, framing)))
        }))
    }
}
