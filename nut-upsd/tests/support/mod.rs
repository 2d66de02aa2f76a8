//! Two worlds side by side: our `upsd` and Debian's, each fed by its own
//! Debian `dummy-ups` from identical configuration, in temporary
//! directories, on free loopback ports.

#![allow(dead_code, unreachable_pub)]

use nut_testkit::{Proc, TempDir, free_port, peer, temp_dir, wait_for_path, wait_until};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const UPS_CONF: &str = "[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n  desc = \"Test \\\"quoted\\\" \\# box\"\n\
    [other]\n  driver = dummy-ups\n  port = other.dev\n";
pub const DUMMY_DEV: &str =
    "ups.status: OL\nbattery.charge: 100\nups.id: Quote\"Corp\ninput.voltage: 230.0\n";
pub const OTHER_DEV: &str = "ups.status: OB DISCHRG\nbattery.charge: 50\n";
pub const USERS: &str = "[admin]\n  password = adminpass\n  actions = SET FSD\n  instcmds = ALL\n\
    [monprimary]\n  password = primarypass\n  upsmon primary\n";

/// How [`World::launch`] starts the server.
pub struct Launch<'a> {
    /// upsd.conf, given the world's free port.
    pub upsd_conf: &'a dyn Fn(u16) -> String,
    /// Every argument of the server.
    pub args: &'a [&'a str],
    /// Adds `-r <the world's directory>` and gives the server's NUT_* paths
    /// as seen from inside that chroot (`/etc`, `/state`).
    pub chrooted: bool,
    /// Wait until both UPSes are served on `127.0.0.1:port`.
    pub wait: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Ours,
    Real,
}

pub struct World {
    pub which: Which,
    pub dir: TempDir,
    pub port: u16,
    pub server: Proc,
    pub drivers: Vec<Proc>,
}

pub fn ours_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_upsd"))
}

/// Starts our upsd in the foreground on the configuration in `confdir`
/// (also its state and PID directory), expects it to refuse to start, and
/// returns its stderr.
#[allow(dead_code)] // Not every test file uses it.
pub fn refused_start(confdir: &Path) -> String {
    let out = Command::new(ours_bin())
        .args(["-F", "-u", "root"])
        .env("NUT_CONFPATH", confdir)
        .env("NUT_STATEPATH", confdir)
        .env("NUT_ALTPIDPATH", confdir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "it started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

impl World {
    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn env(&self, cmd: &mut Command) {
        cmd.env("NUT_CONFPATH", self.etc())
            .env("NUT_STATEPATH", self.state())
            .env("NUT_ALTPIDPATH", self.state());
    }

    /// Writes the configuration and starts the drivers and the server.
    pub fn start(which: Which, upsd_conf_extra: &str) -> World {
        Self::start_with(which, upsd_conf_extra, &["-F"])
    }

    pub fn start_with(which: Which, upsd_conf_extra: &str, flags: &[&str]) -> World {
        let mut args = flags.to_vec();
        args.extend(["-u", "root"]);
        Self::launch(
            which,
            &Launch {
                upsd_conf: &|port| format!("LISTEN 127.0.0.1 {port}\n{upsd_conf_extra}"),
                args: &args,
                chrooted: false,
                wait: true,
            },
        )
    }

    /// Writes the configuration, starts the drivers and the server as
    /// `how` says.
    pub fn launch(which: Which, how: &Launch<'_>) -> World {
        let dir = temp_dir();
        let etc = dir.path().join("etc");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(&state).unwrap();
        let port = free_port();
        let w = |name: &str, text: &str| std::fs::write(etc.join(name), text).unwrap();
        w("ups.conf", UPS_CONF);
        w("dummy.dev", DUMMY_DEV);
        w("other.dev", OTHER_DEV);
        w("upsd.users", USERS);
        w("upsd.conf", &(how.upsd_conf)(port));
        let mut drivers = Vec::new();
        for ups in ["dummy", "other"] {
            let mut cmd = Command::new(peer("dummy-ups"));
            cmd.args(["-a", ups, "-F", "-u", "root"])
                .env("NUT_CONFPATH", &etc)
                .env("NUT_STATEPATH", &state)
                .env("NUT_ALTPIDPATH", &state);
            drivers.push(Proc::spawn(&format!("dummy-ups-{ups}"), cmd, dir.path()));
            assert!(
                wait_for_path(&state.join(format!("dummy-ups-{ups}")), Duration::from_secs(10)),
                "dummy-ups {ups} did not create its socket"
            );
        }
        let bin = match which {
            Which::Ours => ours_bin(),
            Which::Real => peer("upsd"),
        };
        let mut cmd = Command::new(bin);
        cmd.args(how.args);
        if how.chrooted {
            cmd.arg("-r").arg(dir.path());
            // The same directories, as seen from inside a chroot at `dir`.
            cmd.env("NUT_CONFPATH", "/etc")
                .env("NUT_STATEPATH", "/state")
                .env("NUT_ALTPIDPATH", "/state");
        } else {
            cmd.env("NUT_CONFPATH", &etc)
                .env("NUT_STATEPATH", &state)
                .env("NUT_ALTPIDPATH", &state);
        }
        let server = Proc::spawn(&format!("upsd-{which:?}"), cmd, dir.path());
        let world = World { which, dir, port, server, drivers };
        if how.wait {
            world.wait_ready();
        }
        world
    }

    /// Waits until both UPSes answer with dumped data.
    pub fn wait_ready(&self) {
        let ok = wait_until(Duration::from_secs(15), Duration::from_millis(50), || {
            ["dummy", "other"].iter().all(|u| {
                self.ask(&format!("GET VAR {u} battery.charge"))
                    .is_some_and(|r| r.starts_with("VAR "))
            })
        });
        assert!(
            ok,
            "{:?} upsd did not serve the drivers' data:\n{}",
            self.which,
            self.server.log()
        );
    }

    /// One command on a fresh connection; the first reply line.
    pub fn ask(&self, line: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(format!("{line}\n").as_bytes()).ok()?;
        let mut r = BufReader::new(s);
        let mut out = String::new();
        r.read_line(&mut out).ok()?;
        Some(out.trim_end().to_string())
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs a Debian client tool with `{h}` in its arguments replaced by
    /// host:port; returns (status, stdout, stderr).
    pub fn tool(&self, name: &str, args: &[&str]) -> (Option<i32>, String, String) {
        let args: Vec<String> = args.iter().map(|a| a.replace("{h}", &self.host())).collect();
        let mut cmd = Command::new(peer(name));
        cmd.args(&args);
        self.env(&mut cmd);
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn python(&self, script: &str) -> (Option<i32>, String, String) {
        let out = Command::new("/usr/bin/python3")
            .args(["-c", script, "127.0.0.1", &self.port.to_string()])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// A raw protocol connection that sends one line at a time and reads the
/// whole reply, using `NETVER` (answered `1.3`) as an end marker.
pub struct Raw {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Raw { stream, reader }
    }

    /// Sends `bytes` (one or more lines) then `NETVER`; returns the bytes
    /// received before the `1.3` line.
    pub fn exchange(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut msg = bytes.to_vec();
        msg.extend_from_slice(b"NETVER\n");
        self.stream.write_all(&msg).unwrap();
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let mut line = Vec::new();
            let n = self.reader.read_until(b'\n', &mut line).unwrap();
            assert!(n > 0, "connection closed after {:?}", String::from_utf8_lossy(bytes));
            if line == b"1.3\n" {
                return out;
            }
            out.extend_from_slice(&line);
        }
        panic!("no end marker");
    }

    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        let _ = self.reader.read_to_end(&mut v);
        v
    }
}

pub fn dump_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
