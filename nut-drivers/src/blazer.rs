//! `blazer_ser` and `blazer_usb`: NUT's older Megatec drivers, on the
//! parsers of [`nut_megatec::blazer`] and the links of [`crate::qx`].
//!
//! [`Blazer`] is the [`Device`]: at connect it tries each protocol's status
//! query (3 tries each, or only `protocol=`), then reads the vendor (`I`)
//! and rating (`F`) answers unless `novendor`/`norating`, publishes the
//! delays and guesses the battery limits; each update is one status query.
//! Three failed status reads in a row make the data stale; a lost port is
//! reopened by the poller. Every refused answer is logged with its query
//! and bytes, and publishes nothing.

use crate::qx::{AnyLink, QxLink, Reply, printable};
use crate::usb_options;
use nut_driver::params::{DriverParams, VarSpec};
use nut_driver::transport::LinkError;
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use nut_megatec::blazer::{self, BlazerBattery, BlazerProtocol, PROTOCOLS};
use nut_proto::sock::TrackingResult;
use std::time::{Duration, Instant};

/// NUT's `MAXTRIES` of the blazer drivers.
pub const MAXTRIES: u32 = 3;

const COMMON: [VarSpec; 8] = [
    VarSpec::value("ondelay", "Delay before UPS startup (minutes)"),
    VarSpec::value("offdelay", "Delay before UPS shutdown (seconds)"),
    VarSpec::value("runtimecal", "Parameters used for runtime calculation"),
    VarSpec::value("chargetime", "Nominal charge time for UPS battery"),
    VarSpec::value("idleload", "Minimum load to be used for runtime calculation"),
    VarSpec::flag("norating", "Skip reading rating information from UPS"),
    VarSpec::flag("novendor", "Skip reading vendor information from UPS"),
    VarSpec::value("protocol", "Preselect communication protocol (skip autodetection)"),
];

/// `blazer_ser`'s settings (NUT 2.8.0).
pub const SER_VARS: &[VarSpec] = &[
    VarSpec::value("cablepower", "Set cable power for serial interface"),
    COMMON[0],
    COMMON[1],
    COMMON[2],
    COMMON[3],
    COMMON[4],
    COMMON[5],
    COMMON[6],
    COMMON[7],
];

/// `blazer_usb`'s settings (NUT 2.8.0).
pub const USB_VARS: &[VarSpec] = &[
    VarSpec::value("subdriver", "Serial-over-USB subdriver selection"),
    usb_options::VENDORID,
    usb_options::PRODUCTID,
    usb_options::VENDOR,
    usb_options::PRODUCT,
    usb_options::SERIAL,
    usb_options::BUS,
    usb_options::DEVICE,
    usb_options::LANGID_FIX,
    COMMON[0],
    COMMON[1],
    COMMON[2],
    COMMON[3],
    COMMON[4],
    COMMON[5],
    COMMON[6],
    COMMON[7],
];

/// The instant commands blazer offers.
pub const COMMANDS: &[&str] = &[
    "beeper.toggle",
    "load.off",
    "load.on",
    "shutdown.return",
    "shutdown.stayoff",
    "shutdown.stop",
    "test.battery.start",
    "test.battery.start.deep",
    "test.battery.start.quick",
    "test.battery.stop",
];

/// What the blazer device takes from its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct BlazerSettings {
    /// `protocol=`.
    pub protocol: Option<String>,
    /// `novendor`.
    pub novendor: bool,
    /// `norating`.
    pub norating: bool,
    /// `ondelay` in minutes (default 3).
    pub ondelay: i64,
    /// `offdelay` in seconds (default 30).
    pub offdelay: i64,
}

impl BlazerSettings {
    /// From the driver settings; out-of-range delays are fatal, as in NUT.
    pub fn from_params(params: &DriverParams) -> Result<Self, DeviceError> {
        let num = |k: &str, d: i64| -> Result<i64, DeviceError> {
            match params.get(k) {
                None => Ok(d),
                Some(v) => v.trim().parse().map_err(|_| {
                    DeviceError::fatal(Message::cause(format!("{k}: not a number: {v:?}")))
                }),
            }
        };
        let ondelay = num("ondelay", 3)?;
        let offdelay = num("offdelay", 30)?;
        if !(0..=9999).contains(&ondelay) {
            return Err(DeviceError::fatal(Message::cause("Start delay out of range [0..9999]")));
        }
        if !(12..=600).contains(&offdelay) {
            return Err(DeviceError::fatal(Message::cause(
                "Shutdown delay out of range [12..600]",
            )));
        }
        let protocol = params.get("protocol").map(str::to_string);
        if let Some(p) = &protocol {
            if !PROTOCOLS.iter().any(|x| x.name.eq_ignore_ascii_case(p)) {
                return Err(DeviceError::fatal(Message::cause(format!("Invalid protocol [{p}]"))));
            }
        }
        Ok(BlazerSettings {
            protocol,
            novendor: params.has("novendor"),
            norating: params.has("norating"),
            ondelay,
            offdelay,
        })
    }
}

/// The blazer device over a [`QxLink`].
pub struct Blazer<L: QxLink> {
    open: crate::qx::Open<L>,
    settings: BlazerSettings,
    link: Option<L>,
    proto: Option<&'static BlazerProtocol>,
    batt: BlazerBattery,
    retry: u32,
    last_logged: Option<String>,
}

impl<L: QxLink> std::fmt::Debug for Blazer<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blazer")
            .field("link", &self.link.as_ref().map(QxLink::describe))
            .field("protocol", &self.proto.map(|p| p.name))
            .finish()
    }
}

impl<L: QxLink> Blazer<L> {
    /// A device that opens its link with `open` at each connect.
    pub fn new(open: crate::qx::Open<L>, settings: BlazerSettings) -> Self {
        Blazer {
            open,
            settings,
            link: None,
            proto: None,
            batt: BlazerBattery::default(),
            retry: 0,
            last_logged: None,
        }
    }

    /// One query: the answer (serial: up to `\r`; none on timeout).
    fn ask(&mut self, query: &[u8]) -> Result<Option<Vec<u8>>, DeviceError> {
        let Some(link) = self.link.as_mut() else {
            return Err(DeviceError::Disconnected(Message::cause("not connected")));
        };
        match link.transact(query, Duration::from_millis(1000)) {
            Ok(Reply::Line(a) | Reply::Whole(a)) => Ok(Some(a)),
            Ok(Reply::TimedOut(partial)) => {
                if !partial.is_empty() {
                    self.refused(format!(
                        "{}: answer without \\r: {}",
                        printable(query),
                        printable(&partial)
                    ));
                }
                Ok(None)
            }
            Ok(Reply::Failed(why)) => {
                self.refused(format!("{}: {why}", printable(query)));
                Ok(None)
            }
            Err(e @ LinkError::Disconnected(_)) => {
                tracing::warn!("lost the device: {e}");
                self.link = None;
                Err(DeviceError::Disconnected(Box::new(e)))
            }
            Err(e) => {
                self.refused(format!("{}: {e}", printable(query)));
                Ok(None)
            }
        }
    }

    fn refused(&mut self, text: String) {
        if self.last_logged.as_deref() != Some(&text) {
            tracing::warn!("answer refused: {text}");
            self.last_logged = Some(text);
        }
    }

    /// The status query and its parse; `Ok(false)`: no usable answer.
    fn status(&mut self, proto: &BlazerProtocol, st: &mut Dstate) -> Result<bool, DeviceError> {
        let q = proto.status.as_bytes();
        let Some(a) = self.ask(q)? else { return Ok(false) };
        match blazer::apply_status(q, &a, &mut self.batt, st) {
            Ok(_) => Ok(true),
            Err(e) => {
                self.refused(e.to_string());
                Ok(false)
            }
        }
    }
}

impl<L: QxLink> Device for Blazer<L> {
    fn connect(&mut self, st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        self.link = Some((self.open)().map_err(LinkError::into_device_error)?);
        let wanted = self.settings.protocol.clone();
        let mut found = None;
        'protocols: for p in PROTOCOLS.iter() {
            if wanted.as_deref().is_some_and(|w| !w.eq_ignore_ascii_case(p.name)) {
                continue;
            }
            for _ in 0..MAXTRIES {
                if self.status(p, st)? {
                    found = Some(p);
                    break 'protocols;
                }
            }
        }
        let Some(proto) = found else {
            return Err(DeviceError::fatal(Message::cause("No supported UPS detected")));
        };
        tracing::info!("Supported UPS detected with {} protocol", proto.name);
        self.proto = Some(proto);
        if !self.settings.novendor {
            let q = proto.vendor.as_bytes();
            let mut ok = false;
            for _ in 0..MAXTRIES {
                if let Some(a) = self.ask(q)? {
                    match blazer::apply_vendor(q, &a, st) {
                        Ok(()) => {
                            ok = true;
                            break;
                        }
                        Err(e) => self.refused(e.to_string()),
                    }
                }
            }
            if !ok {
                tracing::info!("Vendor information unavailable");
            }
        }
        if !self.settings.norating {
            let q = proto.rating.as_bytes();
            let mut ok = false;
            for _ in 0..MAXTRIES {
                if let Some(a) = self.ask(q)? {
                    match blazer::apply_rating(q, &a, &mut self.batt, st) {
                        Ok(()) => {
                            ok = true;
                            break;
                        }
                        Err(e) => self.refused(e.to_string()),
                    }
                }
            }
            if !ok {
                tracing::info!("Rating information unavailable");
            }
        }
        st.setinfo("ups.delay.start", &(60 * self.settings.ondelay).to_string());
        st.setinfo("ups.delay.shutdown", &self.settings.offdelay.to_string());
        for c in COMMANDS {
            st.addcmd(c);
        }
        self.batt.guess_limits(st);
        self.retry = 0;
        Ok(())
    }

    fn update(
        &mut self,
        st: &mut Dstate,
        _kind: UpdateKind,
        _now: Instant,
    ) -> Result<(), DeviceError> {
        let Some(proto) = self.proto else {
            return Err(DeviceError::Disconnected(Message::cause("not connected")));
        };
        if self.status(proto, st)? {
            self.retry = 0;
            self.last_logged = None;
            return Ok(());
        }
        self.retry = self.retry.saturating_add(1);
        if self.retry < MAXTRIES {
            tracing::debug!("Communications with UPS lost: status read failed!");
            return Ok(());
        }
        Err(DeviceError::stale(Message::cause("Communications with UPS lost: status read failed!")))
    }

    fn instcmd(
        &mut self,
        _st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        _now: Instant,
    ) -> TrackingResult {
        if !COMMANDS.contains(&cmd) {
            return TrackingResult::Unknown;
        }
        let bytes = match blazer::command(cmd, param, self.settings.ondelay, self.settings.offdelay)
        {
            Ok(b) => b,
            Err(nut_megatec::CommandError::InvalidValue { .. }) => return TrackingResult::Invalid,
            Err(_) => return TrackingResult::Unknown,
        };
        match self.ask(&bytes) {
            Ok(None) => TrackingResult::Handled,
            Ok(Some(a)) if blazer::command_accepted(&a) => TrackingResult::Handled,
            Ok(Some(a)) => {
                tracing::error!("instcmd: command [{cmd}] failed: {}", printable(&a));
                TrackingResult::Failed
            }
            Err(_) => TrackingResult::Failed,
        }
    }

    fn shutdown(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        for _ in 0..MAXTRIES {
            if self.instcmd(st, "shutdown.return", None, now) == TrackingResult::Handled {
                tracing::info!("Shutting down in {} seconds", self.settings.offdelay);
                return Ok(());
            }
        }
        Err(DeviceError::fatal(Message::cause("Shutdown failed!")))
    }
}

/// The `blazer_ser` program.
#[cfg(feature = "serial")]
#[derive(Debug)]
pub struct BlazerSer;

#[cfg(feature = "serial")]
impl nut_driver::run::DriverProgram for BlazerSer {
    type Device = Blazer<AnyLink>;
    const NAME: &'static str = "blazer_ser";
    const DESCRIPTION: &'static str = "Megatec/Q1 protocol serial driver";
    const VERSION: &'static str = "1.58";
    const OPTIONS: &'static [VarSpec] = SER_VARS;

    fn create(
        params: &DriverParams,
        _env: &nut_driver::run::Env,
    ) -> Result<Self::Device, DeviceError> {
        let settings = BlazerSettings::from_params(params)?;
        let Some(path) = params.port.clone() else {
            return Err(DeviceError::fatal(Message::cause("No port specified!")));
        };
        let open: crate::qx::Open<AnyLink> = Box::new(move || {
            let s = crate::serial::Serial::open_lines(
                &path,
                crate::serial::LineSettings::default(),
                b'\r',
            )?;
            Ok(AnyLink::Serial(crate::qx::SerialLink::new(s, &path)))
        });
        Ok(Blazer::new(open, settings))
    }
}

/// The `blazer_usb` program.
#[cfg(feature = "usb")]
#[derive(Debug)]
pub struct BlazerUsb;

#[cfg(feature = "usb")]
impl nut_driver::run::DriverProgram for BlazerUsb {
    type Device = Blazer<AnyLink>;
    const NAME: &'static str = "blazer_usb";
    const DESCRIPTION: &'static str = "Megatec/Q1 protocol USB driver";
    const VERSION: &'static str = "0.14";
    const OPTIONS: &'static [VarSpec] = USB_VARS;

    fn create(
        params: &DriverParams,
        _env: &nut_driver::run::Env,
    ) -> Result<Self::Device, DeviceError> {
        let settings = BlazerSettings::from_params(params)?;
        let mut usb = params.clone();
        // blazer_usb is always USB, whatever `port` says.
        usb.port = Some("auto".into());
        let open = crate::qx::open_link(&usb, true)?;
        Ok(Blazer::new(open, settings))
    }
}
