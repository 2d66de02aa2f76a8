#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod driver;
pub mod hid;
pub mod procstat;
pub mod qxfile;
pub mod serial;
pub mod usb_bridge;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use tempfile::TempDir;

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server
/// started next.
///
/// Two ways a port that was free is found in use by the server's `bind`
/// are avoided:
/// - The port is taken outside the kernel's ephemeral range
///   (`ip_local_port_range` on Linux). A port from that range, which is
///   what binding port 0 gives, can become the local end of an outgoing
///   connection meanwhile; tests running alongside make them all the time.
/// - The port is checked by binding with `SO_REUSEADDR`, without
///   listening. A listening socket is copied into every child that another
///   thread forks before the child's `exec`, and it keeps the port in use
///   there after it is closed here. A bound socket does not stop a server
///   that sets `SO_REUSEADDR`, as ours and NUT's `upsd` do.
///
/// No port is handed out twice in one process.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let (low, high) = ephemeral_range();
    // At most a few thousand tries: each is one bind.
    for _ in 0..4096 {
        let p = random_port();
        if (low..=high).contains(&p) {
            continue;
        }
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if given.contains(&p) || !bindable(p) {
            continue;
        }
        given.push(p);
        return p;
    }
    // Every port outside the range is in use or the range is everything.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Whether 127.0.0.1:`port` can be bound with `SO_REUSEADDR` (no socket
/// listens there).
fn bindable(port: u16) -> bool {
    use socket2::{Domain, Socket, Type};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    Socket::new(Domain::IPV4, Type::STREAM, None)
        .and_then(|s| s.set_reuse_address(true).map(|()| s))
        .and_then(|s| s.bind(&addr.into()))
        .is_ok()
}

/// The kernel's range of ports for the local end of outgoing connections
/// (Linux's default where it cannot be read).
fn ephemeral_range() -> (u16, u16) {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range");
    let mut nums = text.iter().flat_map(|t| t.split_whitespace()).map(str::parse::<u16>);
    match (nums.next(), nums.next()) {
        (Some(Ok(low)), Some(Ok(high))) => (low, high),
        _ => (32768, 60999),
    }
}

/// A port from 10000 to 65535, different in every call and every process.
fn random_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    10000 + (h.finish() % (65536 - 10000)) as u16
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

/// A file of the committed test PKI in `nut-testkit/data/tls` (a CA, a
/// server certificate for `localhost`, `127.0.0.1` and `::1`, upsd's
/// `CERTFILE`, client certificates; see its README). Test-only keys.
pub fn test_pki(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/tls").join(name)
}

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
        // A process group of its own, so that stopping it also stops what it
        // started (upsmon's monitoring child, a driver's helpers).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
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

    /// Stops the process and its process group: SIGTERM, then SIGKILL
    /// after `grace`. Returns the process's exit code (None if killed by a
    /// signal).
    pub fn stop(&mut self, grace: Duration) -> Option<i32> {
        let group = Pid::from_raw(self.child.id() as i32);
        if let Some(code) = self.try_exit() {
            // What it left behind in its group goes too.
            let _ = killpg(group, Signal::SIGKILL);
            return code;
        }
        let _ = killpg(group, Signal::SIGTERM);
        let mut code = None;
        let exited = wait_until(grace, Duration::from_millis(10), || match self.child.try_wait() {
            Ok(Some(s)) => {
                code = s.code();
                true
            }
            _ => false,
        });
        let _ = killpg(group, Signal::SIGKILL);
        if exited {
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

/// The path of binary `bin` of workspace package `package`, built (once per
/// test process) with `cargo build` in the profile of the running test, so
/// a test of one crate can run another crate's binary (such as our `upsd`).
pub fn workspace_bin(package: &str, bin: &str) -> PathBuf {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(bin) {
        return p.clone();
    }
    // The test runs from <target>/<profile>/deps/<test>-<hash>.
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile> directory");
    let target_dir = profile_dir.parent().expect("target directory");
    let profile = profile_dir.file_name().and_then(|s| s.to_str()).unwrap_or("debug");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", bin]).arg("--target-dir").arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("run cargo build for {bin}: {e}"));
    assert!(status.success(), "cargo build -p {package} --bin {bin} failed");
    let path = profile_dir.join(bin);
    assert!(path.is_file(), "{} missing after cargo build", path.display());
    built.insert(bin.to_string(), path.clone());
    path
}

/// A NUT server with drivers, in a temporary directory, on a free loopback
/// port: `upsd` (Debian's or ours) fed by Debian's `dummy-ups`, one per
/// `[section]` of the given `ups.conf`.
pub struct NutServer {
    /// The temporary directory (`etc/` and `state/` inside).
    pub dir: TempDir,
    /// The TCP port upsd listens on (127.0.0.1).
    pub port: u16,
    /// The drivers (stopped on drop, after the server).
    pub drivers: Vec<Proc>,
    /// The server (stopped on drop).
    pub server: Option<Proc>,
}

/// Files for [`NutServer::start`].
#[derive(Clone, Copy, Debug)]
pub struct NutConfig<'a> {
    /// `ups.conf`; every section must use `driver = dummy-ups`.
    pub ups_conf: &'a str,
    /// `upsd.users`.
    pub users: &'a str,
    /// Extra `upsd.conf` lines (the `LISTEN` line is added).
    pub upsd_conf_extra: &'a str,
    /// Other files for `etc/`: `(name, contents)`, e.g. the dummy-ups data.
    pub files: &'a [(&'a str, &'a str)],
    /// The UPS names to wait for (each must answer `GET VAR <ups> ups.status`
    /// with a value other than dummy-ups' initial `WAIT`).
    pub wait_for: &'a [&'a str],
}

impl<'a> NutConfig<'a> {
    /// One UPS, `dummy`, on line with a full battery, no users, and
    /// `upsd_conf_extra` in `upsd.conf` (the TLS tests' server).
    pub fn one_dummy(upsd_conf_extra: &'a str) -> Self {
        NutConfig {
            ups_conf: "[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n",
            users: "",
            upsd_conf_extra,
            files: &[("dummy.dev", "ups.status: OL\nbattery.charge: 100\n")],
            wait_for: &["dummy"],
        }
    }
}

impl NutServer {
    /// Writes the configuration, starts the drivers and `server_bin`, and
    /// waits until every UPS in `cfg.wait_for` serves data.
    pub fn start(server_bin: &Path, cfg: NutConfig<'_>) -> NutServer {
        use std::io::{BufRead, BufReader, Write};
        let dir = temp_dir();
        let etc = dir.path().join("etc");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&etc).expect("create etc");
        std::fs::create_dir_all(&state).expect("create state");
        let port = free_port();
        let w =
            |name: &str, text: &str| std::fs::write(etc.join(name), text).expect("write config");
        w("ups.conf", cfg.ups_conf);
        w("upsd.users", cfg.users);
        w("upsd.conf", &format!("LISTEN 127.0.0.1 {port}\n{}", cfg.upsd_conf_extra));
        for (name, text) in cfg.files {
            w(name, text);
        }
        let env = |cmd: &mut Command| {
            cmd.env("NUT_CONFPATH", &etc)
                .env("NUT_STATEPATH", &state)
                .env("NUT_ALTPIDPATH", &state);
        };
        let sections: Vec<String> = cfg
            .ups_conf
            .lines()
            .filter_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']').map(str::to_string))
            .collect();
        let mut drivers = Vec::new();
        for ups in &sections {
            let mut cmd = Command::new(peer("dummy-ups"));
            cmd.args(["-a", ups, "-F", "-u", "root"]);
            env(&mut cmd);
            drivers.push(Proc::spawn(&format!("dummy-ups-{ups}"), cmd, dir.path()));
            assert!(
                wait_for_path(&state.join(format!("dummy-ups-{ups}")), Duration::from_secs(10)),
                "dummy-ups {ups} did not create its socket"
            );
        }
        let mut cmd = Command::new(server_bin);
        cmd.args(["-F", "-u", "root"]);
        env(&mut cmd);
        let server = Proc::spawn("upsd", cmd, dir.path());
        let ask = |line: &str| -> Option<String> {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
            s.write_all(format!("{line}\n").as_bytes()).ok()?;
            let mut out = String::new();
            BufReader::new(s).read_line(&mut out).ok()?;
            Some(out)
        };
        let ok = wait_until(Duration::from_secs(15), Duration::from_millis(50), || {
            cfg.wait_for.iter().all(|u| {
                ask(&format!("GET VAR {u} ups.status"))
                    .is_some_and(|r| r.starts_with("VAR ") && !r.contains("\"WAIT\""))
            })
        });
        assert!(ok, "{} did not serve the drivers' data:\n{}", server_bin.display(), server.log());
        NutServer { dir, port, drivers, server: Some(server) }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Environment for NUT programs run against this setup.
    pub fn env(&self, cmd: &mut Command) {
        let state = self.dir.path().join("state");
        cmd.env("NUT_CONFPATH", self.dir.path().join("etc"))
            .env("NUT_STATEPATH", &state)
            .env("NUT_ALTPIDPATH", &state);
    }
}

impl Drop for NutServer {
    fn drop(&mut self) {
        // The server first, so that it does not log the drivers going away.
        drop(self.server.take());
    }
}
