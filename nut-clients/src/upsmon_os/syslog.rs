//! Messages to the system log: one RFC 3164 datagram to `/dev/log`.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// The socket the local syslog daemon reads.
pub const DEV_LOG: &str = "/dev/log";

/// An environment variable naming another datagram socket to send the
/// messages to instead of [`DEV_LOG`] (a relay in a container without a
/// syslog daemon, or a test that reads them). Not a NUT setting.
pub const SOCKET_ENV: &str = "NUT_RS_SYSLOG_SOCKET";

/// The socket messages go to: [`SOCKET_ENV`] when set, else [`DEV_LOG`].
pub fn socket() -> PathBuf {
    std::env::var_os(SOCKET_ENV).map_or_else(|| PathBuf::from(DEV_LOG), PathBuf::from)
}

/// `LOG_DAEMON`, the facility NUT's daemons log with.
pub const FACILITY_DAEMON: u8 = 3;

/// Syslog severities used by upsmon and upssched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Severity {
    /// `LOG_ALERT` (1).
    Alert = 1,
    /// `LOG_CRIT` (2).
    Crit = 2,
    /// `LOG_ERR` (3).
    Err = 3,
    /// `LOG_WARNING` (4).
    Warning = 4,
    /// `LOG_NOTICE` (5).
    Notice = 5,
    /// `LOG_INFO` (6).
    Info = 6,
}

/// The datagram for one message, as glibc's `syslog()` writes it to
/// `/dev/log` (RFC 3164 form, without hostname): `<PRI>Mmm dd hh:mm:ss
/// ident[pid]: message`. Control characters in `msg` become spaces.
pub fn format_message(
    severity: Severity,
    ident: &str,
    pid: u32,
    timestamp: &str,
    msg: &str,
) -> Vec<u8> {
    let pri = u16::from(FACILITY_DAEMON) * 8 + severity as u16;
    let clean: String = msg.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("<{pri}>{timestamp} {ident}[{pid}]: {clean}").into_bytes()
}

/// The RFC 3164 timestamp (`Mmm dd hh:mm:ss`, day space-padded) of a Unix
/// time, in UTC.
pub fn rfc3164_timestamp(unix_secs: u64) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_secs / 86_400;
    let rem = unix_secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let (_, month, d) = crate::upslog::strftime::civil_from_days(days as i64);
    format!("{} {d:>2} {h:02}:{m:02}:{s:02}", MONTHS[(month - 1) as usize])
}

/// Sends `msg` to the local syslog daemon through `socket` (normally
/// [`DEV_LOG`]); when that fails (no syslog daemon, as in most containers),
/// logs it with `tracing` instead. Returns whether the datagram was sent.
pub fn send_to(socket: &Path, severity: Severity, ident: &str, msg: &str) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let line = format_message(severity, ident, std::process::id(), &rfc3164_timestamp(now), msg);
    let sent = UnixDatagram::unbound().and_then(|s| s.send_to(&line, socket)).is_ok();
    if !sent {
        match severity {
            Severity::Alert | Severity::Crit | Severity::Err => tracing::error!("{msg}"),
            Severity::Warning => tracing::warn!("{msg}"),
            Severity::Notice | Severity::Info => tracing::info!("{msg}"),
        }
    }
    sent
}

/// [`send_to`] with [`socket`] (normally [`DEV_LOG`]).
pub fn syslog(severity: Severity, ident: &str, msg: &str) -> bool {
    send_to(&socket(), severity, ident, msg)
}

/// A [`nut_daemon::MakeLogWriter`] that sends every `tracing` event as one
/// syslog datagram to [`socket`] under `ident` (`ERROR` as `LOG_ERR`,
/// `WARN` as `LOG_WARNING`, the rest as `LOG_INFO`): what NUT's daemons
/// log once they are in the background, where standard error is gone.
#[derive(Clone, Copy, Debug)]
pub struct Writer {
    ident: &'static str,
}

impl Writer {
    /// Messages sent as `ident[pid]` (the program's name).
    pub fn new(ident: &'static str) -> Self {
        Writer { ident }
    }
}

impl nut_daemon::MakeLogWriter for Writer {
    type Writer = Line;
    fn make_writer_for(&self, meta: &tracing::Metadata<'_>) -> Line {
        let severity = match *meta.level() {
            tracing::Level::ERROR => Severity::Err,
            tracing::Level::WARN => Severity::Warning,
            _ => Severity::Info,
        };
        Line { severity, ident: self.ident, buf: Vec::new() }
    }
}

/// One message for syslog, sent when dropped (made by [`Writer`]).
#[derive(Debug)]
pub struct Line {
    severity: Severity,
    ident: &'static str,
    buf: Vec<u8>,
}

impl std::io::Write for Line {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let line = format_message(
            self.severity,
            self.ident,
            std::process::id(),
            &rfc3164_timestamp(secs),
            text.trim_end(),
        );
        // No fallback through `tracing` here, as in `send_to`: that would
        // come back to this writer.
        let _ = UnixDatagram::unbound().and_then(|d| d.send_to(&line, socket()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3164_shape() {
        assert_eq!(rfc3164_timestamp(0), "Jan  1 00:00:00");
        // 2026-11-25 06:55:43 UTC
        assert_eq!(rfc3164_timestamp(1_795_589_743), "Nov 25 06:55:43");
        let m = format_message(Severity::Notice, "upsmon", 42, "Jan  1 00:00:00", "UPS a\non");
        assert_eq!(m, b"<29>Jan  1 00:00:00 upsmon[42]: UPS a on");
    }

    #[test]
    fn datagram_reaches_the_socket() {
        let dir = std::env::temp_dir().join(format!("nut-rs-syslog-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        assert!(send_to(&path, Severity::Err, "upssched", "hello"));
        let mut buf = [0u8; 256];
        let n = rx.recv(&mut buf).unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(got.starts_with("<27>"), "{got}");
        assert!(got.ends_with(&format!(" upssched[{}]: hello", std::process::id())), "{got}");
        assert!(!send_to(&dir.join("absent"), Severity::Info, "x", "fallback"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
