//! The contract between the driver core and a device: [`Device`] and its
//! typed errors.

use crate::dstate::Dstate;
use nut_proto::sock::TrackingResult;
use std::sync::Arc;
use std::time::Instant;

/// The error a device reports with a [`DeviceError`]: any typed error (a
/// codec's parse error, an `io::Error`, a USB error, ...).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a device call failed, and so what the core does next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// This poll failed (a timeout, a garbled answer): the data becomes
    /// stale and the core tries again at the next poll.
    #[error("data stale: {0}")]
    Stale(#[source] Cause),
    /// The device is gone (USB unplugged, serial port vanished, agent
    /// unreachable): the data becomes stale and the core calls
    /// [`Device::connect`] again with a bounded backoff. The process never
    /// exits for this.
    #[error("device disconnected: {0}")]
    Disconnected(#[source] Cause),
    /// The configuration cannot work (bad port name, unknown protocol,
    /// missing file): the driver exits with this message.
    #[error("fatal: {0}")]
    Fatal(#[source] Cause),
    /// The device cannot do this (for example `-k` on a simulation).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
}

impl DeviceError {
    /// [`DeviceError::Stale`] from any error.
    pub fn stale(e: impl Into<Cause>) -> Self {
        DeviceError::Stale(e.into())
    }

    /// [`DeviceError::Disconnected`] from any error.
    pub fn disconnected(e: impl Into<Cause>) -> Self {
        DeviceError::Disconnected(e.into())
    }

    /// [`DeviceError::Fatal`] from any error.
    pub fn fatal(e: impl Into<Cause>) -> Self {
        DeviceError::Fatal(e.into())
    }

    /// The error a device returns when it has lost its link.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, DeviceError::Disconnected(_))
    }

    /// Whether the driver must exit.
    pub fn is_fatal(&self) -> bool {
        matches!(self, DeviceError::Fatal(_))
    }
}

/// Which kind of update the core asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateKind {
    /// Read everything (the first update after a connect, then every
    /// full-update period such as usbhid-ups' `pollfreq`).
    Full,
    /// Between full updates, every poll interval: a device with a
    /// full-update period reads only what changes quickly (status); one
    /// without treats this like [`Full`](UpdateKind::Full).
    Quick,
}

/// A device as the driver core sees it: NUT's `upsdrv_*` functions, with
/// typed errors and a notion of a lost device.
///
/// Every method may block on device I/O: the core calls them on a thread of
/// their own, never on the thread that serves `upsd`, so a device that
/// hangs delays only itself. Every method gets the [`Dstate`] to publish
/// into (it implements [`nut_proto::publish::Publish`], which is what
/// codecs write into); the core sends the changes to `upsd`.
///
/// The core calls [`connect`](Device::connect) at start and again after a
/// [`DeviceError::Disconnected`], then [`update`](Device::update) on the
/// poll timing, and hands it the `INSTCMD` and `SET` requests `upsd`
/// forwards.
pub trait Device: Send + 'static {
    /// Opens (or reopens) the link, identifies the device and publishes
    /// what does not change: identity, instant commands, writable
    /// variables with their flags, enums and ranges (NUT's
    /// `upsdrv_initups` and `upsdrv_initinfo`). After a reconnect, publish
    /// again: the state is kept, so unchanged values cost nothing.
    fn connect(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError>;

    /// Reads the device and publishes changes (`upsdrv_updateinfo`).
    fn update(
        &mut self,
        st: &mut Dstate,
        kind: UpdateKind,
        now: Instant,
    ) -> Result<(), DeviceError>;

    /// Runs an instant command (`upsh.instcmd`).
    fn instcmd(
        &mut self,
        st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        now: Instant,
    ) -> TrackingResult {
        let _ = (st, cmd, param, now);
        TrackingResult::Unknown
    }

    /// Sets a variable (`upsh.setvar`).
    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, now: Instant) -> TrackingResult {
        let _ = (st, var, value, now);
        TrackingResult::Unknown
    }

    /// Tells the UPS to cut the power and come back when the power returns
    /// (`upsdrv_shutdown`, driver `-k`).
    fn shutdown(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        let _ = (st, now);
        Err(DeviceError::Unsupported("shutdown"))
    }

    /// When the device wants to be updated next, if earlier than the poll
    /// timing (the end of a `TIMER` pause of a simulation, an alert that
    /// must be read at once).
    fn next_wakeup(&self) -> Option<Instant> {
        None
    }

    /// Hands the device a [`Waker`] of the thread that calls it, for a
    /// thread of the device's own (one that blocks on an interrupt pipe,
    /// say): after [`Waker::wake`] the core checks
    /// [`next_wakeup`](Device::next_wakeup) at once, so the device is
    /// updated if it says it is due (an instant already past, not
    /// `Instant::now()`, which is later than the core's "now"). The
    /// adapters call this once,
    /// after [`connect`](Device::connect); the default ignores it.
    fn set_waker(&mut self, waker: Waker) {
        let _ = waker;
    }
}

/// Wakes the thread that runs a [`Device`] (see [`Device::set_waker`]).
/// Waking a device whose core has stopped does nothing.
#[derive(Clone)]
pub struct Waker(Arc<dyn Fn() + Send + Sync>);

impl Waker {
    /// A waker that runs `wake`.
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Waker(Arc::new(wake))
    }

    /// Asks the core to look at the device now.
    pub fn wake(&self) {
        (self.0)()
    }
}

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Waker")
    }
}

/// A boxed device is a device (for drivers that choose their device type
/// at run time).
impl Device for Box<dyn Device> {
    fn connect(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        (**self).connect(st, now)
    }
    fn update(
        &mut self,
        st: &mut Dstate,
        kind: UpdateKind,
        now: Instant,
    ) -> Result<(), DeviceError> {
        (**self).update(st, kind, now)
    }
    fn instcmd(
        &mut self,
        st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        now: Instant,
    ) -> TrackingResult {
        (**self).instcmd(st, cmd, param, now)
    }
    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, now: Instant) -> TrackingResult {
        (**self).setvar(st, var, value, now)
    }
    fn shutdown(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        (**self).shutdown(st, now)
    }
    fn next_wakeup(&self) -> Option<Instant> {
        (**self).next_wakeup()
    }
    fn set_waker(&mut self, waker: Waker) {
        (**self).set_waker(waker)
    }
}

/// A short error message, for devices whose failure has no richer type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Message(pub std::borrow::Cow<'static, str>);

impl Message {
    /// A message as a [`Cause`].
    pub fn cause(text: impl Into<std::borrow::Cow<'static, str>>) -> Cause {
        Box::new(Message(text.into()))
    }
}
