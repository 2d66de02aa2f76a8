//! The PID file and `upsmon -c stop|reload|fsd`.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io;
use std::path::{Path, PathBuf};

/// Debian's compiled-in PID directory (NUT's `PIDPATH`).
pub const DEFAULT_PID_DIR: &str = "/run/nut";

/// The PID file's name.
pub const PID_FILE_NAME: &str = "upsmon.pid";

/// The directory of the PID file: `NUT_PIDPATH` (as NUT after 2.8.0),
/// else `NUT_ALTPIDPATH`, else `NUT_STATEPATH`, else [`DEFAULT_PID_DIR`].
/// (NUT 2.8.0 always uses its compiled-in directory.)
pub fn pid_dir() -> PathBuf {
    ["NUT_PIDPATH", "NUT_ALTPIDPATH", "NUT_STATEPATH"]
        .iter()
        .filter_map(std::env::var_os)
        .find(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_DIR))
}

/// `<pid_dir()>/upsmon.pid`.
pub fn pid_file() -> PathBuf {
    pid_dir().join(PID_FILE_NAME)
}

/// Writes `<pid>\n` (mode 0644, as NUT's umask 022 gives).
pub fn write_pid_file(path: &Path, pid: u32) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)?;
    writeln!(f, "{pid}")
}

/// Why a signal could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignalError {
    /// The PID file could not be opened (NUT's code -3).
    #[error("cannot open {path}: {source}")]
    NoPidFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The PID file holds no usable number (NUT's code -2).
    #[error("failed to read pid from {path}")]
    BadPidFile {
        /// The file.
        path: PathBuf,
    },
    /// The PID is below 2 (NUT refuses it).
    #[error("ignoring invalid pid number {0}")]
    InvalidPid(i64),
    /// `kill` failed (no such process, or not permitted).
    #[error("kill: {0}")]
    Kill(#[from] nix::Error),
}

/// Reads the first line of a PID file as NUT does (`strtol`).
pub fn read_pid_file(path: &Path) -> Result<i64, SignalError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| SignalError::NoPidFile { path: path.to_path_buf(), source })?;
    let line = text.lines().next().filter(|l| !l.is_empty());
    let Some(line) = line else {
        return Err(SignalError::BadPidFile { path: path.to_path_buf() });
    };
    Ok(nut_proto::token::atoi(line))
}

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

/// Sends `sig` (or only checks that the process exists, for `None`) to
/// `pid`, as NUT's `sendsignalpid` does.
pub fn signal_pid(pid: i64, sig: Option<Signal>) -> Result<(), SignalError> {
    let raw = i32::try_from(pid).map_err(|_| SignalError::InvalidPid(pid))?;
    if raw < 2 {
        return Err(SignalError::InvalidPid(pid));
    }
    kill(Pid::from_raw(raw), None)?;
    if let Some(sig) = sig {
        kill(Pid::from_raw(raw), sig)?;
    }
    Ok(())
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

/// Startup check: whether the process named in `pid_file` is alive (NUT
/// refuses to start a second upsmon). Errors mean "could not tell".
pub fn is_running(pid_file: &Path) -> Result<bool, SignalError> {
    let pid = read_pid_file(pid_file)?;
    match signal_pid(pid, None) {
        Ok(()) => Ok(true),
        Err(SignalError::Kill(_)) | Err(SignalError::InvalidPid(_)) => Ok(false),
        Err(e) => Err(e),
    }
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
