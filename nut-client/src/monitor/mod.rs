//! The `upsmon` logic of NUT 2.8.0, sans-IO: what to poll, when to notify,
//! when the power is critical and how to shut down.
//!
//! - [`conf`] reads `upsmon.conf` (through the shared tokenizer).
//! - [`Monitor`] is the state machine. It takes poll results with the time
//!   they were seen and returns [`Action`]s (poll, notify, send `FSD`, ask
//!   `NUMLOGINS`, shut down) and the next deadline; it opens no socket and
//!   reads no clock, so every decision can be tested on a fake clock.
//! - `io` (features `blocking`, `tokio`) carries out the network actions
//!   of a [`Monitor`] over the client adapters.
//! - [`notify`] holds the event kinds, their flags and NUT's stock messages.
//!
//! The rules, from NUT 2.8.0's `upsmon`:
//!
//! - Status words set flags and raise events on change (`OL` -> `ONLINE`,
//!   except the first one; `OB` -> `ONBATT`; `LB` -> `LOWBATT`; `FSD`;
//!   `CAL`; `RB` -> `REPLBATT` at most every RBWARNTIME). The first
//!   successful poll is silent; the first failure is `COMMBAD`, a later
//!   success `COMMOK`, and a failure lasting NOCOMMWARNTIME `NOCOMM`
//!   (repeated every NOCOMMWARNTIME).
//! - A UPS is critical when it has `FSD`, or is `OB LB` (not calibrating)
//!   and we are its primary, or are a secondary and it has been `OB LB` for
//!   more than HOSTSYNC seconds. A UPS not heard from for DEADTIME seconds
//!   whose last status was `OB` counts as `OB LB`.
//! - When the power values of the UPSes that are not critical add up to
//!   less than MINSUPPLIES, the shutdown starts: a primary sends `FSD` to
//!   its UPSes and waits (asking `NUMLOGINS` every 250 ms, up to HOSTSYNC
//!   seconds) until the secondaries have logged out; then `SHUTDOWN` is
//!   notified, FINALDELAY waited, and [`Action::Shutdown`] issued, once.
//!
//! Deliberate differences are listed in `docs/COMPATIBILITY.md` (M-entries).

pub mod conf;
#[cfg(any(feature = "blocking", feature = "tokio"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "blocking", feature = "tokio"))))]
pub mod io;
mod machine;
pub mod notify;

pub use conf::{MonitorDef, Role, UpsmonConf};
pub use machine::{
    Action, CommState, HOSTSYNC_ROUND, LogLevel, Monitor, NOPARENT_INTERVAL, Notification, Phase,
    PollFailure, SHUTDOWN_ALERT, StatusFlags, UpsId, UpsState,
};
pub use notify::{NotifyFlags, NotifyKind, NotifyTable};
