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

/// A tool's exit code, stdout and stderr.
pub type Outcome = (Option<i32>, String, String);

/// The lines Debian's NSS build logs on stderr around STARTTLS (ours
/// prints none: COMPATIBILITY C1).
pub fn nss_log(line: &str) -> bool {
    line == "Init SSL without certificate database"
        || line.starts_with("Connecting in SSL to ")
        || line.starts_with("Do not intend to authenticate server ")
        || line.starts_with("SSL handshake done successfully with server ")
        || line.starts_with("Connected to NUT server ")
        || line == "Certificate verification is disabled"
        || line.starts_with("Error while connecting to NUT server ")
}

/// Runs a client tool against `server`, without NSS's log lines.
pub fn run(bin: std::path::PathBuf, server: &NutServer, args: &[String]) -> Outcome {
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args).stdin(std::process::Stdio::null());
    server.env(&mut cmd);
    let out = cmd.output().expect("run tool");
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !nss_log(l))
        .map(|l| format!("{l}\n"))
        .collect();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Our build of `tool`.
pub fn ours(tool: &str) -> std::path::PathBuf {
    match tool {
        "upsc" => env!("CARGO_BIN_EXE_upsc").into(),
        "upscmd" => env!("CARGO_BIN_EXE_upscmd").into(),
        "upsrw" => env!("CARGO_BIN_EXE_upsrw").into(),
        _ => unreachable!(),
    }
}
