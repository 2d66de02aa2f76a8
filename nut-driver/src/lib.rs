#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The wire types and the `Publish` trait this
/// crate's API uses, so that users need no second dependency.
pub use nut_proto as proto;
pub use nut_proto::sock::{DriverMessage, ServerMessage};

mod core;
mod device;
mod dstate;
#[cfg(feature = "inproc")]
#[cfg_attr(docsrs, doc(cfg(feature = "inproc")))]
pub mod inproc;
#[cfg(feature = "io")]
#[cfg_attr(docsrs, doc(cfg(feature = "io")))]
pub mod io;
pub mod params;
mod poll;
#[cfg(feature = "io")]
#[cfg_attr(docsrs, doc(cfg(feature = "io")))]
pub mod run;
mod server;
pub mod transport;

pub use crate::core::{Driver, DriverConfig, DriverEvent};
pub use device::{Cause, Device, DeviceError, Message, UpdateKind, Waker};
pub use dstate::{Dstate, MAX_VALUE_LEN};
pub use nut_proto::publish::Publish;
pub use nut_proto::sock::TrackingResult;
pub use poll::{PollEvent, Poller, Request, Timing};
pub use server::{
    CloseReason, MAX_PENDING_REQUESTS, Mirror, PendingRequest, SockConnId, SocketConfig,
    SocketEvent, SocketServer,
};

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
