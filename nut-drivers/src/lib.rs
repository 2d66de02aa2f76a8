#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod driver_main;
pub mod getopt;
pub mod upsdrvctl;

use std::path::PathBuf;

/// Where Debian's NUT keeps its configuration.
pub const DEFAULT_CONFPATH: &str = "/etc/nut";
/// Where Debian's NUT keeps driver sockets and PID files.
pub const DEFAULT_STATEPATH: &str = "/run/nut";
/// Where Debian's NUT installs drivers.
pub const DEFAULT_DRIVERPATH: &str = "/lib/nut";

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The configuration directory: `NUT_CONFPATH`, else [`DEFAULT_CONFPATH`].
pub fn confpath() -> PathBuf {
    env_path("NUT_CONFPATH").unwrap_or_else(|| DEFAULT_CONFPATH.into())
}

/// The state directory: `NUT_STATEPATH`, else ups.conf's `statepath`, else
/// [`DEFAULT_STATEPATH`].
pub fn statepath(from_conf: Option<&str>) -> PathBuf {
    env_path("NUT_STATEPATH")
        .or_else(|| from_conf.map(PathBuf::from))
        .unwrap_or_else(|| DEFAULT_STATEPATH.into())
}

/// The PID file directory: `NUT_ALTPIDPATH`, else `NUT_STATEPATH`, else
/// ups.conf's `statepath`, else [`DEFAULT_STATEPATH`].
pub fn altpidpath(from_conf: Option<&str>) -> PathBuf {
    env_path("NUT_ALTPIDPATH").unwrap_or_else(|| statepath(from_conf))
}

/// Reads and parses `<confpath>/ups.conf`, logging syntax errors (their
/// lines are skipped, as NUT does).
pub fn read_ups_conf() -> std::io::Result<nut_proto::config::ConfigFile> {
    let path = confpath().join("ups.conf");
    let bytes = std::fs::read(&path).map_err(|e| {
        std::io::Error::new(e.kind(), format!("can't open {}: {e}", path.display()))
    })?;
    let conf = nut_proto::config::parse(&path.display().to_string(), &bytes);
    for e in &conf.errors {
        tracing::error!("parse error: {e}");
    }
    Ok(conf)
}

/// Sets up logging to stderr: `info` by default, `debug` with one `-D`,
/// `trace` with more; `RUST_LOG` wins when set.
pub fn init_logging(debug: u32) {
    let level = match debug {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
