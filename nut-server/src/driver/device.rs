//! The trait a hardware (or simulated) driver implements.

use super::dstate::Dstate;
use nut_proto::sock::TrackingResult;
use std::time::Instant;

/// Why a device operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The device could not be reached or did not answer; the data becomes
    /// stale and the core retries on the next poll.
    #[error("device unavailable: {0}")]
    Unavailable(String),
    /// The configuration cannot work (bad port, missing file, bad mode); the
    /// driver should exit.
    #[error("configuration error: {0}")]
    Config(String),
    /// The operation is not supported by this device (for example `-k`).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
}

/// A device as the driver core sees it: NUT's `upsdrv_*` functions.
///
/// The core calls [`open`](Device::open) once, then
/// [`update`](Device::update) every poll interval (sooner when
/// [`next_update`](Device::next_update) asks for it), and hands it the
/// `SET` and `INSTCMD` requests `upsd` forwards. Every method gets the
/// [`Dstate`] to publish into; the core broadcasts the changes.
pub trait Device {
    /// Opens the device and publishes what is known before the first poll
    /// (NUT's `upsdrv_initups` and `upsdrv_initinfo`).
    fn open(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError>;

    /// Reads the device and publishes changes (`upsdrv_updateinfo`). An
    /// error makes the data stale until an update succeeds again.
    fn update(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError>;

    /// Runs an instant command (`upsh.instcmd`).
    fn instcmd(&mut self, st: &mut Dstate, cmd: &str, param: Option<&str>) -> TrackingResult {
        let _ = (st, cmd, param);
        TrackingResult::Unknown
    }

    /// Sets a variable (`upsh.setvar`).
    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str) -> TrackingResult {
        let _ = (st, var, value);
        TrackingResult::Unknown
    }

    /// Tells the UPS to cut the power (`upsdrv_shutdown`, driver `-k`).
    fn shutdown(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        let _ = st;
        Err(DeviceError::Unsupported("shutdown"))
    }

    /// When the device wants its next update, if earlier than the poll
    /// interval (for example the end of a `TIMER` pause).
    fn next_update(&self) -> Option<Instant> {
        None
    }
}
