//! The PID file and `upsmon -c stop|reload|fsd`.

use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};

/// Debian's compiled-in PID directory (NUT's `PIDPATH`).
pub const DEFAULT_PID_DIR: &str = nut_daemon::paths::DEFAULT_PIDPATH;

/// The PID file's name.
pub const PID_FILE_NAME: &str = "upsmon.pid";

/// The directory of the PID file: `NUT_PIDPATH` (as NUT after 2.8.0),
/// else `NUT_ALTPIDPATH`, else `NUT_STATEPATH`, else [`DEFAULT_PID_DIR`].
/// (NUT 2.8.0 always uses its compiled-in directory.)
pub fn pid_dir() -> PathBuf {
    nut_daemon::paths::pidpath()
}

/// `<pid_dir()>/upsmon.pid`.
pub fn pid_file() -> PathBuf {
    pid_dir().join(PID_FILE_NAME)
}

// Written never through a symbolic link planted at the path; read as NUT
// does (`strtol` of the first line); a PID below 2 is never signalled.
pub use nut_daemon::pidfile::{
    PidError as SignalError, is_running, read_pid_number as read_pid_file, signal_pid,
    write_pid as write_pid_file,
};

/// A command for a running upsmon (`-c <cmd>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlCommand {
    /// `-c stop`: SIGTERM.
    Stop,
    /// `-c reload`: SIGHUP.
    Reload,
    /// `-c fsd`: SIGUSR1 (forced shutdown).
    Fsd,
}

impl ControlCommand {
    /// Parses the `-c` argument (`stop`, `reload`, `fsd`).
    pub fn parse(s: &str) -> Option<ControlCommand> {
        match s {
            "stop" => Some(ControlCommand::Stop),
            "reload" => Some(ControlCommand::Reload),
            "fsd" => Some(ControlCommand::Fsd),
            _ => None,
        }
    }

    /// The signal sent.
    pub fn signal(self) -> Signal {
        match self {
            ControlCommand::Stop => Signal::SIGTERM,
            ControlCommand::Reload => Signal::SIGHUP,
            ControlCommand::Fsd => Signal::SIGUSR1,
        }
    }
}

/// `upsmon -c <cmd> [-P <pid>]`: signals `pid`, or the PID in `pid_file`.
pub fn send_command(
    cmd: ControlCommand,
    pid: Option<i64>,
    pid_file: &Path,
) -> Result<(), SignalError> {
    let pid = match pid {
        Some(p) => p,
        None => read_pid_file(pid_file)?,
    };
    signal_pid(pid, Some(cmd.signal()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_and_signal() {
        let dir = nut_testkit::temp_dir();
        let pf = dir.path().join(PID_FILE_NAME);
        assert!(matches!(read_pid_file(&pf), Err(SignalError::NoPidFile { .. })));
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        write_pid_file(&pf, child.id()).unwrap();
        assert_eq!(std::fs::read_to_string(&pf).unwrap(), format!("{}\n", child.id()));
        assert_eq!(read_pid_file(&pf).unwrap(), i64::from(child.id()));
        assert!(is_running(&pf).unwrap());
        send_command(ControlCommand::Stop, None, &pf).unwrap();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc_sigterm()));
        assert!(!is_running(&pf).unwrap());
        assert!(matches!(
            send_command(ControlCommand::Fsd, Some(1), &pf),
            Err(SignalError::InvalidPid(1))
        ));
        std::fs::write(&pf, "\n").unwrap();
        assert!(matches!(read_pid_file(&pf), Err(SignalError::BadPidFile { .. })));
        assert_eq!(
            ControlCommand::parse("reload").map(ControlCommand::signal),
            Some(Signal::SIGHUP)
        );
        assert_eq!(ControlCommand::parse("fsd").map(ControlCommand::signal), Some(Signal::SIGUSR1));
        assert_eq!(ControlCommand::parse("x"), None);
    }

    fn libc_sigterm() -> i32 {
        Signal::SIGTERM as i32
    }
}
