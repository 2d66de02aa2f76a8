//! PID files: written by the daemon, read by whoever signals it.
//!
//! A PID file can be written by the unprivileged run user, so what it holds
//! is not trusted: a number below 2 (`0`, `1`, `-1`, a negative process
//! group) is refused before anything is signalled, as NUT does, and
//! [`is_program`] tells whether the process is the expected program.
//! Writing never follows a symbolic link planted at the path.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io;
use std::path::{Path, PathBuf};

/// Why a PID file could not be used, or its process not signalled.
#[derive(Debug)]
#[non_exhaustive]
pub enum PidError {
    /// The PID file could not be opened (NUT's code -3).
    NoPidFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The PID file holds no number (NUT's code -2).
    BadPidFile {
        /// The file.
        path: PathBuf,
    },
    /// The PID is below 2 (NUT refuses it).
    InvalidPid(i64),
    /// The process is not the expected program.
    WrongProgram {
        /// The process.
        pid: i32,
        /// Its name (`/proc/<pid>/comm`), empty when unknown.
        found: String,
    },
    /// `kill` failed (no such process, or not permitted).
    Kill(nix::Error),
}

impl std::fmt::Display for PidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PidError::NoPidFile { path, source } => {
                write!(f, "cannot open {}: {source}", path.display())
            }
            PidError::BadPidFile { path } => {
                write!(f, "failed to read pid from {}", path.display())
            }
            PidError::InvalidPid(pid) => write!(f, "ignoring invalid pid number {pid}"),
            PidError::WrongProgram { pid, found } => {
                write!(f, "process {pid} ({found}) is not the expected program")
            }
            PidError::Kill(e) => write!(f, "kill: {e}"),
        }
    }
}

impl std::error::Error for PidError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PidError::NoPidFile { source, .. } => Some(source),
            PidError::Kill(e) => Some(e),
            _ => None,
        }
    }
}

impl From<nix::Error> for PidError {
    fn from(e: nix::Error) -> Self {
        PidError::Kill(e)
    }
}

impl From<PidError> for io::Error {
    fn from(e: PidError) -> Self {
        let kind = match &e {
            PidError::NoPidFile { source, .. } => source.kind(),
            PidError::Kill(errno) => io::Error::from(*errno).kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// Writes the current process id to a file and removes the file when
/// dropped.
#[derive(Debug)]
pub struct PidFile(PathBuf);

impl PidFile {
    /// Writes the current process id, replacing a regular file but never
    /// following a symbolic link planted at `path` (see [`write_pid`]).
    pub fn create(path: PathBuf) -> io::Result<PidFile> {
        write_pid(&path, std::process::id())?;
        Ok(PidFile(path))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes `<pid>\n` (mode 0644 under NUT's umask 022). A regular file at
/// `path` is replaced; anything else there (a symbolic link, a FIFO) is
/// left alone and is an error, so that a link planted by whoever can write
/// the directory never redirects the write.
pub fn write_pid(path: &Path, pid: u32) -> io::Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_file() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a regular file", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)?;
    writeln!(f, "{pid}")
}

/// Reads the number on the first line of a PID file as NUT does (`strtol`:
/// leading blanks, a sign, digits); it is not checked.
pub fn read_pid_number(path: &Path) -> Result<i64, PidError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| PidError::NoPidFile { path: path.to_path_buf(), source })?;
    match text.lines().next().filter(|l| !l.is_empty()) {
        Some(line) => Ok(nut_proto::token::atoi(line)),
        None => Err(PidError::BadPidFile { path: path.to_path_buf() }),
    }
}

/// Reads the process id from a PID file; refuses a number below 2.
pub fn read_pid(path: &Path) -> Result<i32, PidError> {
    checked(read_pid_number(path)?)
}

fn checked(pid: i64) -> Result<i32, PidError> {
    match i32::try_from(pid) {
        Ok(p) if p >= 2 => Ok(p),
        _ => Err(PidError::InvalidPid(pid)),
    }
}

/// Whether a process with this id exists (signal 0).
pub fn alive(pid: i32) -> bool {
    pid >= 2 && kill(Pid::from_raw(pid), None).is_ok()
}

/// Sends `sig` (or only checks that the process exists, for `None`) to
/// `pid`, as NUT's `sendsignalpid` does: a PID below 2 is refused.
pub fn signal_pid(pid: i64, sig: Option<Signal>) -> Result<(), PidError> {
    let pid = Pid::from_raw(checked(pid)?);
    kill(pid, None)?;
    if let Some(sig) = sig {
        kill(pid, sig)?;
    }
    Ok(())
}

/// Reads the PID file and sends `sig` to that process; returns the id.
pub fn signal_pidfile(path: &Path, sig: Signal) -> Result<i32, PidError> {
    let pid = read_pid(path)?;
    signal_pid(pid.into(), Some(sig))?;
    Ok(pid)
}

/// Startup check: whether the process named in `path` is alive. Errors
/// mean "could not tell" (no file, no number); a PID below 2, a process
/// that is gone, or one that has exited and waits to be reaped (a zombie:
/// an orphan under an init that does not reap, as in some containers)
/// means "not running". NUT counts a zombie as running.
pub fn is_running(path: &Path) -> Result<bool, PidError> {
    let pid = read_pid_number(path)?;
    match signal_pid(pid, None) {
        Ok(()) => Ok(!is_zombie(pid)),
        Err(PidError::Kill(_)) | Err(PidError::InvalidPid(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether process `pid` has exited and is not yet reaped (its state in
/// `/proc/<pid>/stat`, after the parenthesised name, is `Z`). False where
/// there is no `/proc`.
fn is_zombie(pid: i64) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}

/// Checks that process `pid` runs one of `names`: its `/proc/<pid>/comm`
/// (the first 15 bytes of the program's file name), else the file name of
/// `/proc/<pid>/exe`. Guards `-c stop` against a PID file that names a
/// reused or foreign process.
pub fn is_program(pid: i32, names: &[&str]) -> Result<(), PidError> {
    // No entry: no such process.
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map_err(|_| PidError::Kill(nix::errno::Errno::ESRCH))?;
    let comm = comm.strip_suffix('\n').unwrap_or(&comm);
    let short = |n: &str| -> String { n.bytes().take(15).map(char::from).collect() };
    if names.iter().any(|n| n.is_ascii() && short(n) == comm) {
        return Ok(());
    }
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let exe_name = exe.as_deref().and_then(Path::file_name).and_then(|n| n.to_str());
    if exe_name.is_some_and(|e| names.contains(&e)) {
        return Ok(());
    }
    Err(PidError::WrongProgram { pid, found: comm.to_string() })
}

/// The name this process runs as (`/proc/self/comm`), if known.
pub fn own_name() -> Option<String> {
    let comm = std::fs::read_to_string("/proc/self/comm").ok()?;
    Some(comm.trim_end_matches('\n').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_pids_below_two() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pid");
        for bad in ["-1\n", "0\n", "1\n", "-42\n", "abc\n", "", "\n99\n"] {
            std::fs::write(&p, bad).unwrap();
            assert!(read_pid(&p).is_err(), "{bad:?} accepted");
        }
        std::fs::write(&p, "1234\n").unwrap();
        assert_eq!(read_pid(&p).unwrap(), 1234);
        // As NUT's strtol: blanks before, junk after.
        std::fs::write(&p, "  1234xyz\n").unwrap();
        assert_eq!(read_pid(&p).unwrap(), 1234);
        std::fs::write(&p, "1\n").unwrap();
        assert!(matches!(signal_pidfile(&p, Signal::SIGTERM), Err(PidError::InvalidPid(1))));
        assert!(matches!(signal_pid(-1, Some(Signal::SIGTERM)), Err(PidError::InvalidPid(-1))));
        assert!(!is_running(&p).unwrap());
        std::fs::write(&p, "\n").unwrap();
        assert!(matches!(read_pid_number(&p), Err(PidError::BadPidFile { .. })));
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(read_pid_number(&p), Err(PidError::NoPidFile { .. })));
        assert_eq!(io::Error::from(read_pid(&p).unwrap_err()).kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn does_not_follow_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("x.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(PidFile::create(link.clone()).is_err());
        assert!(write_pid(&link, 42).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        // A dangling link is not followed either.
        let dangling = dir.path().join("d.pid");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(write_pid(&dangling, 42).is_err());
        assert!(!dir.path().join("nowhere").exists());
        let ok = dir.path().join("y.pid");
        std::fs::write(&ok, "stale and longer\n").unwrap();
        let f = PidFile::create(ok.clone()).unwrap();
        assert_eq!(std::fs::read_to_string(&ok).unwrap(), format!("{}\n", std::process::id()));
        assert_eq!(read_pid(&ok).unwrap(), std::process::id() as i32);
        drop(f);
        assert!(!ok.exists());
    }

    #[test]
    fn signals_a_live_process_and_checks_its_program() {
        let dir = tempfile::tempdir().unwrap();
        let pf = dir.path().join("sleep.pid");
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        write_pid(&pf, child.id()).unwrap();
        assert!(is_running(&pf).unwrap());
        let pid = read_pid(&pf).unwrap();
        assert!(alive(pid));
        assert!(is_program(pid, &["sleep"]).is_ok());
        assert!(matches!(
            is_program(pid, &["upsd"]),
            Err(PidError::WrongProgram { ref found, .. }) if found == "sleep"
        ));
        assert_eq!(signal_pidfile(&pf, Signal::SIGTERM).unwrap(), pid);
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(Signal::SIGTERM as i32));
        assert!(!is_running(&pf).unwrap());
        assert!(is_program(pid, &["sleep"]).is_err());
    }

    /// A process that has exited but is not reaped yet is not running.
    #[test]
    fn a_zombie_is_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let pf = dir.path().join("true.pid");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        write_pid(&pf, child.id()).unwrap();
        let pid = i64::from(child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !is_zombie(pid) && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(is_zombie(pid), "the child never exited");
        assert!(alive(pid as i32), "a zombie still takes signal 0");
        assert!(!is_running(&pf).unwrap());
        child.wait().unwrap();
        assert!(!is_zombie(pid));
    }
}
