//! `genericups`: NUT 2.8.0's contact-closure driver, on the `upstype`
//! table of [`nut_apc::contact`].
//!
//! [`GenericUps`] is the [`Device`]: `connect` opens the port and sets the
//! cable-power lines exactly (NUT's `TIOCMSET`), publishes `ups.mfr`,
//! `ups.model` and `ups.serial`; `update` reads the modem-control inputs
//! and publishes `ups.status`; `-k` sets the shutdown lines (and holds
//! them `sdtime` seconds) or sends a BREAK, as NUT does for the type.
//! The lines go through the [`ByteStream`] modem-line calls, so the device
//! runs on a real port ([`crate::serial::Serial`]) or a test double.

use nut_apc::contact::{self, Contact, Lines, ShutdownAction};
use nut_driver::params::{DriverParams, VarSpec};
use nut_driver::transport::{ByteStream, LinkError, ModemInputs, ModemOutputs};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use std::time::{Duration, Instant};

/// NUT 2.8.0's genericups version.
pub const DRIVER_VERSION: &str = "1.38";

/// How long a BREAK lasts: glibc's `tcsendbreak(fd, 4901)` (NUT's
/// argument) holds it 50 tenths of a second.
pub const BREAK_TIME: Duration = Duration::from_secs(5);

/// genericups' settings (NUT 2.8.0), in NUT's order.
pub const VARS: &[VarSpec] = &[
    VarSpec::value("upstype", "Set UPS type (required)"),
    VarSpec::value("mfr", "Override manufacturer name"),
    VarSpec::value("model", "Override model name"),
    VarSpec::value("serial", "Specify the serial number"),
    VarSpec::value("CP", "Override cable power setting"),
    VarSpec::value("OL", "Override on line signal"),
    VarSpec::value("LB", "Override low battery signal"),
    VarSpec::value("RB", "Override replace battery signal"),
    VarSpec::value("BYPASS", "Override battery bypass signal"),
    VarSpec::value("SD", "Override shutdown setting"),
    VarSpec::value("sdtime", "Hold time for shutdown value (seconds)"),
];

/// The [`Contact`] from the driver settings: `upstype` is required, and an
/// unknown type or a bad override is fatal, as in NUT.
pub fn contact_from_params(params: &DriverParams) -> Result<Contact, DeviceError> {
    let fatal = |text: String| DeviceError::fatal(Message::cause(text));
    let Some(ty) = params.get("upstype") else {
        return Err(fatal("No upstype set - see help text / man page!".into()));
    };
    let ty = contact::parse_upstype(ty).map_err(|e| fatal(e.to_string()))?;
    let mut c = Contact::new(ty);
    for name in contact::OPTION_NAMES.iter().filter(|n| **n != "upstype") {
        if let Some(v) = params.get(name) {
            c.set(name, v).map_err(|e| fatal(e.to_string()))?;
        }
    }
    Ok(c)
}

/// The line bits (NUT's `TIOCM_*`) of the inputs read and the outputs set.
pub fn lines_of(inputs: ModemInputs, dtr: bool, rts: bool) -> Lines {
    let mut l = Lines::NONE;
    for (on, bit) in [
        (inputs.cts, Lines::CTS),
        (inputs.dsr, Lines::DSR),
        (inputs.dcd, Lines::CD),
        (inputs.ri, Lines::RNG),
        (dtr, Lines::DTR),
        (rts, Lines::RTS),
    ] {
        if on {
            l = l.or(bit);
        }
    }
    l
}

/// Opens the link for a connect attempt.
pub type Open<S> = Box<dyn FnMut() -> Result<S, LinkError> + Send>;

/// The genericups device over any [`ByteStream`] with modem lines.
pub struct GenericUps<S: ByteStream> {
    open: Open<S>,
    contact: Contact,
    link: Option<S>,
    dtr: bool,
    rts: bool,
    last_error: Option<String>,
}

impl<S: ByteStream> std::fmt::Debug for GenericUps<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenericUps")
            .field("contact", &self.contact)
            .field("connected", &self.link.is_some())
            .finish()
    }
}

impl<S: ByteStream> GenericUps<S> {
    /// A device that opens its link with `open` at each connect.
    pub fn new(open: Open<S>, contact: Contact) -> Self {
        GenericUps { open, contact, link: None, dtr: false, rts: false, last_error: None }
    }

    /// The type and overrides in use.
    pub fn contact(&self) -> &Contact {
        &self.contact
    }

    /// Sets exactly `lines` on the outputs (`TIOCMSET`: DTR and RTS on or
    /// off).
    fn set_lines(&mut self, lines: Lines) -> Result<(), DeviceError> {
        let Some(link) = self.link.as_mut() else {
            return Err(DeviceError::disconnected(Message::cause("not connected")));
        };
        let (dtr, rts) = (lines.contains(Lines::DTR), lines.contains(Lines::RTS));
        match link.set_modem_outputs(ModemOutputs { dtr: Some(dtr), rts: Some(rts), brk: None }) {
            Ok(()) => {
                self.dtr = dtr;
                self.rts = rts;
                Ok(())
            }
            Err(e) => Err(self.failed("setting the modem lines", e)),
        }
    }

    fn failed(&mut self, what: &str, e: LinkError) -> DeviceError {
        let text = format!("{what} failed: {e}");
        if self.last_error.as_deref() != Some(&text) {
            tracing::warn!("{text}");
            self.last_error = Some(text);
        }
        match e {
            LinkError::Disconnected(_) => {
                self.link = None;
                e.into_device_error()
            }
            e => DeviceError::stale(e),
        }
    }
}

impl<S: ByteStream + 'static> Device for GenericUps<S> {
    fn connect(&mut self, st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        self.link = None;
        self.link = Some((self.open)().map_err(LinkError::into_device_error)?);
        self.set_lines(self.contact.cable_power)?;
        self.contact.publish_info(st);
        Ok(())
    }

    fn update(
        &mut self,
        st: &mut Dstate,
        _kind: UpdateKind,
        _now: Instant,
    ) -> Result<(), DeviceError> {
        let Some(link) = self.link.as_mut() else {
            return Err(DeviceError::disconnected(Message::cause("not connected")));
        };
        match link.modem_inputs() {
            Ok(inputs) => {
                self.last_error = None;
                let lines = lines_of(inputs, self.dtr, self.rts);
                self.contact.publish_status(lines, st);
                Ok(())
            }
            Err(e) => Err(self.failed("status read (TIOCMGET)", e)),
        }
    }

    fn shutdown(&mut self, _st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        let action = self
            .contact
            .shutdown_action()
            .map_err(|e| DeviceError::fatal(Message::cause(e.to_string())))?;
        match action {
            ShutdownAction::SetLines { lines, hold } => {
                tracing::info!("setting the shutdown lines");
                self.set_lines(lines)?;
                if let Some(h) = hold {
                    std::thread::sleep(h);
                }
            }
            ShutdownAction::Break { .. } => {
                tracing::info!("sending a BREAK");
                let Some(link) = self.link.as_mut() else {
                    return Err(DeviceError::disconnected(Message::cause("not connected")));
                };
                let on = ModemOutputs { brk: Some(true), ..ModemOutputs::default() };
                link.set_modem_outputs(on).map_err(LinkError::into_device_error)?;
                std::thread::sleep(BREAK_TIME);
                let off = ModemOutputs { brk: Some(false), ..ModemOutputs::default() };
                link.set_modem_outputs(off).map_err(LinkError::into_device_error)?;
            }
        }
        Ok(())
    }
}

/// The `genericups` program.
#[cfg(feature = "serial")]
#[derive(Debug)]
pub struct Genericups;

#[cfg(feature = "serial")]
impl nut_driver::run::DriverProgram for Genericups {
    type Device = GenericUps<crate::serial::Serial>;
    const NAME: &'static str = "genericups";
    const DESCRIPTION: &'static str = "Generic contact-closure UPS driver";
    const VERSION: &'static str = DRIVER_VERSION;
    const OPTIONS: &'static [VarSpec] = VARS;

    fn create(
        params: &DriverParams,
        _env: &nut_driver::run::Env,
    ) -> Result<Self::Device, DeviceError> {
        let c = contact_from_params(params)?;
        tracing::info!("UPS type: {} {} ({})", c.ty.mfr, c.ty.model, c.ty.desc);
        let Some(path) = params.port.clone() else {
            return Err(DeviceError::fatal(Message::cause("No port specified!")));
        };
        let open: Open<crate::serial::Serial> = Box::new(move || {
            crate::serial::Serial::open(&path, crate::serial::LineSettings::default())
        });
        Ok(GenericUps::new(open, c))
    }
}
