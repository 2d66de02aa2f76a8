//! `upssched`: upsmon's timer helper, as NUT 2.8 has it, without I/O.
//!
//! NUT's `upssched` runs as upsmon's `NOTIFYCMD`. It reads `upssched.conf`
//! ([`Config`]), finds the `AT <notifytype> <ups|*> ...` lines that match
//! the `UPSNAME` and `NOTIFYTYPE` it was called with ([`Config::matching`]),
//! and for each: runs `CMDSCRIPT <cmd>` at once (`EXECUTE`), or sends a
//! [`Request`] (`START "<timer>" "<secs>"`, `CANCEL "<timer>" ["<cmd>"]`)
//! over the `PIPEFN` unix socket to its timer daemon, starting the daemon
//! first when needed (serialised by `LOCKFN`). The daemon ([`Daemon`], with
//! one [`Connection`] per client) answers `OK` (or `ERR UNKNOWN`), keeps a
//! [`TimerTable`], runs `CMDSCRIPT <timer>` when a timer expires, and exits
//! once its table has been empty for a while.
//!
//! Everything here is sans-IO: the daemon's core takes bytes and `now` and
//! gives reply bytes, [`DaemonAction`]s and a deadline
//! ([`Daemon::poll_timeout`]). The `upssched` binary in `nut-clients` is
//! the socket, process and clock driver.

mod conf;
mod daemon;
mod timers;

pub use conf::{ConfError, ConfWarning, Config, Rule, RuleAction};
pub use daemon::{
    Connection, Daemon, DaemonAction, DaemonEvent, DaemonReply, MAX_REQUEST_LINE, Request,
    RequestError, parse_seconds,
};
pub use timers::{Timer, TimerTable};
