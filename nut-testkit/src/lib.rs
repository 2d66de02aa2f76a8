#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use tempfile::TempDir;

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A fresh temporary directory, removed on drop.
pub fn temp_dir() -> TempDir {
    tempfile::Builder::new().prefix("nut-rs-test-").tempdir().expect("create temporary directory")
}

/// Polls `cond` every `every` until it holds or `timeout` passes; returns
/// whether it held. For readiness checks, not as a delay.
pub fn wait_until(timeout: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// Waits (at most `timeout`) until 127.0.0.1:`port` accepts connections.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    wait_until(timeout, Duration::from_millis(20), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
}

/// Waits (at most `timeout`) until `path` exists.
pub fn wait_for_path(path: &Path, timeout: Duration) -> bool {
    wait_until(timeout, Duration::from_millis(20), || path.exists())
}

/// Where Debian installs NUT's programs.
const PEER_DIRS: &[&str] = &["/lib/nut", "/usr/lib/nut", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];

/// The path of a Debian NUT program. Drivers and daemons are looked up in
/// `/lib/nut` first (Debian's `/sbin/upsd` is a wrapper script that checks
/// `nut.conf`). Panics, failing the test, when it is not installed.
pub fn peer(name: &str) -> PathBuf {
    for dir in PEER_DIRS {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "the Debian NUT program `{name}` is missing: install nut-server, nut-client and \
         python3-nut (scripts/test.sh does it when run as root)"
    );
}

/// A child process stopped when dropped.
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Starts `cmd` with stdout and stderr sent to `<log_dir>/<name>.log`.
    pub fn spawn(name: &str, mut cmd: Command, log_dir: &Path) -> Proc {
        let log = log_dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("create log file");
        let err = out.try_clone().expect("clone log file");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("start {name} ({cmd:?}): {e}"));
        Proc { name: name.to_string(), child, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited, and its exit code if so.
    pub fn try_exit(&mut self) -> Option<Option<i32>> {
        self.child.try_wait().ok().flatten().map(|s| s.code())
    }

    /// The process's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal.
    pub fn signal(&self, sig: Signal) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), sig);
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace`. Returns its
    /// exit code (None if killed by a signal).
    pub fn stop(&mut self, grace: Duration) -> Option<i32> {
        if let Some(code) = self.try_exit() {
            return code;
        }
        self.signal(Signal::SIGTERM);
        let mut code = None;
        if wait_until(grace, Duration::from_millis(10), || match self.child.try_wait() {
            Ok(Some(s)) => {
                code = s.code();
                true
            }
            _ => false,
        }) {
            return code;
        }
        let _ = self.child.kill();
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
        if std::thread::panicking() {
            eprintln!("----- output of {} -----\n{}", self.name, self.log());
        }
    }
}
