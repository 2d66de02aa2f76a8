//! Servers for the client tests: Debian's `upsd` or ours, each fed by
//! Debian's `dummy-ups`.

#![allow(dead_code, unreachable_pub)]

use nut_testkit::{NutConfig, NutServer, peer, workspace_bin};

pub const UPS_CONF: &str = "[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n  desc = \"Test \\\"quoted\\\" \\# box\"\n\
    [other]\n  driver = dummy-ups\n  port = other.dev\n";
pub const DUMMY_DEV: &str =
    "ups.status: OL\nbattery.charge: 100\nups.id: Quote\"Corp\\x\ninput.voltage: 230.0\n";
pub const OTHER_DEV: &str = "ups.status: OB DISCHRG\nbattery.charge: 50\n";
pub const USERS: &str = "[admin]\n  password = adminpass\n  actions = SET FSD\n  instcmds = ALL\n\
    [monprimary]\n  password = primarypass\n  upsmon primary\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Debian's upsd 2.8.0.
    Debian,
    /// Ours (crate nut-upsd).
    Ours,
}

pub fn start(which: Which) -> NutServer {
    let bin = match which {
        Which::Debian => peer("upsd"),
        Which::Ours => workspace_bin("nut-upsd", "upsd"),
    };
    NutServer::start(
        &bin,
        NutConfig {
            ups_conf: UPS_CONF,
            users: USERS,
            upsd_conf_extra: "",
            files: &[("dummy.dev", DUMMY_DEV), ("other.dev", OTHER_DEV)],
            wait_for: &["dummy", "other"],
        },
    )
}
