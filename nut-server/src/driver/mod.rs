//! The driver core: what every NUT driver shares (NUT's `drivers/main.c`
//! and `drivers/dstate.c`), without I/O.
//!
//! - [`Dstate`]: the published variables and commands, with NUT's helpers
//!   (`ups.status`, `ups.alarm`, `override.*`) and the DATAOK/DATASTALE
//!   flag; every change becomes a live update for `upsd`.
//! - [`Device`]: what a hardware driver implements (open, update,
//!   instant commands, settable variables, shutdown).
//! - [`Driver`]: a device, its state, the poll timing, and one socket
//!   session per connected `upsd` (`handle_conn_bytes`, `poll_transmit`,
//!   `poll_timeout`, `handle_timeout`).
//! - [`params`]: `ups.conf` and `-x` settings, published as
//!   `driver.parameter.*` / `driver.flag.*`, with `default.*` and
//!   `override.*`.
//! - [`dummy`]: `dummy-ups` (simulation files and the repeater).
//! - `io` (feature `driver-io`): the tokio adapter (Unix socket, signals,
//!   PID file).

mod core;
mod device;
mod dstate;
pub mod dummy;
#[cfg(feature = "driver-io")]
pub mod io;
pub mod params;
pub mod repeater;

pub use core::{CloseReason, ConnId, Driver, DriverConfig, DriverEvent};
pub use device::{Device, DeviceError};
pub use dstate::{Dstate, MAX_VALUE_LEN};

/// The NUT version drivers publish as `driver.version`.
pub const NUT_VERSION: &str = "2.8.0";

/// Publishes `driver.name`, `driver.version` and `driver.version.internal`
/// and the default `device.type`, as NUT's driver main does at start.
pub fn publish_driver_info(st: &mut Dstate, name: &str, internal_version: &str) {
    st.setinfo("device.type", "ups");
    st.setinfo("driver.version", NUT_VERSION);
    st.setinfo("driver.version.internal", internal_version);
    st.setinfo("driver.name", name);
}
