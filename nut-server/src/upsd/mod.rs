//! The `upsd` core: a sans-IO network UPS server.
//!
//! [`Server`] holds every configured UPS (a mirror [`UpsState`](crate::state::UpsState)
//! of its driver's data, the driver link, the stale flag, the FSD latch and
//! the description) and one session per client connection. It touches no
//! socket and reads no clock: an adapter hands it bytes and instants and
//! carries out what it asks for:
//!
//! * client side: [`Server::client_connected`], [`Server::handle_client_bytes`],
//!   [`Server::client_closed`];
//! * driver side: [`Event::ConnectDriver`] asks for a driver link, answered by
//!   [`Server::driver_connected`] / [`Server::driver_connect_failed`]; then
//!   [`Server::handle_driver_bytes`] and [`Server::driver_closed`];
//! * output: [`Server::poll_transmit`] (one buffer per reply batch),
//!   then [`Server::poll_event`];
//! * time: [`Server::poll_timeout`] and [`Server::handle_timeout`].
//!
//! Replies are NUT 2.8.0's, byte for byte, except the deliberate
//! differences listed in `docs/COMPATIBILITY.md` (section "upsd").
//! The configuration files are parsed by [`conf`], [`users`] and [`descs`].
#![cfg_attr(feature = "tokio", doc = "The tokio adapter is [`io`].")]

pub mod conf;
pub mod descs;
mod server;
pub mod tracking;
pub mod users;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod io;

pub use conf::{UpsConf, UpsEntry, UpsdConf};
pub use descs::Descriptions;
pub use server::{
    AUTH_BACKOFF_BASE, AUTH_BACKOFF_MAX, AUTH_FAIL_THRESHOLD, AUTH_FAIL_WINDOW, AUTH_LOG_INTERVAL,
    CONNFAIL_REPORT_INTERVAL, ConnId, Dest, Event, IDLE_TIMEOUT, MAX_AUTH_GUARDS, MAX_LINE, Notice,
    Options, RETRY_INTERVAL, Refused, SERVER_VERSION, Server, TlsMode, Transmit,
};
pub use users::{Action, User, Users};
