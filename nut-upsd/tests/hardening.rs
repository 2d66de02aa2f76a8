//! The daemon plumbing under hostile conditions: signals blocked or ignored
//! by the parent, a symbolic link at the PID file's path, a PID file that
//! names PID 1 or another program, configuration files others may read,
//! and the mode and owner of a LISTEN_UNIX socket. These tests run as root,
//! as the other tests of this crate do.

mod support;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use nut_testkit::{Proc, TempDir, free_port, temp_dir, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{Launch, Which, World};

const WAIT: Duration = Duration::from_secs(10);
const EVERY: Duration = Duration::from_millis(20);

fn assert_root() {
    assert!(nix::unistd::geteuid().is_root(), "these tests start upsd as root: run them as root");
}

/// A server with no UPS (ALLOW_NO_DEVICE), listening on a free port, its
/// configuration and state in one temporary directory.
struct Bare {
    dir: TempDir,
    port: u16,
}

impl Bare {
    fn new() -> Bare {
        let dir = temp_dir();
        let port = free_port();
        std::fs::write(
            dir.path().join("upsd.conf"),
            format!("LISTEN 127.0.0.1 {port}\nALLOW_NO_DEVICE 1\n"),
        )
        .unwrap();
        Bare { dir, port }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `program` with its arguments, then our upsd with `args`, in this
    /// server's environment.
    fn command(&self, program: &[&str], args: &[&str]) -> Command {
        let mut cmd = match program.split_first() {
            Some((p, rest)) => {
                let mut c = Command::new(p);
                c.args(rest).arg(support::ours_bin());
                c
            }
            None => Command::new(support::ours_bin()),
        };
        cmd.args(args)
            .env("NUT_CONFPATH", self.dir.path())
            .env("NUT_STATEPATH", self.dir.path())
            .env("NUT_ALTPIDPATH", self.dir.path());
        cmd
    }

    fn start(&self, name: &str, program: &[&str], args: &[&str]) -> Proc {
        let p = Proc::spawn(name, self.command(program, args), self.dir.path());
        assert!(
            wait_until(WAIT, EVERY, || self.netver().as_deref() == Some("1.3")),
            "upsd does not answer:\n{}",
            p.log()
        );
        p
    }

    fn netver(&self) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"NETVER\n").ok()?;
        let mut out = String::new();
        BufReader::new(s).read_line(&mut out).ok()?;
        Some(out.trim_end().to_string())
    }
}

/// The signals of a `/proc/<pid>/status` mask line (`SigBlk`, `SigIgn`).
fn signal_mask(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hex = status.lines().find_map(|l| l.strip_prefix(&format!("{key}:"))).unwrap();
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

fn bit(sig: Signal) -> u64 {
    1 << (sig as i32 - 1)
}

/// Python blocks (`pthread_sigmask`) or ignores (`SIG_IGN`) SIGTERM and
/// SIGINT, then execs the program: both survive `exec`.
const BLOCK_THEN_EXEC: &str = "import os, signal, sys\n\
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})\n\
    os.execv(sys.argv[1], sys.argv[1:])\n";
const IGNORE_THEN_EXEC: &str = "import os, signal, sys\n\
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGCHLD):\n\
    \x20   signal.signal(s, signal.SIG_IGN)\n\
    os.execv(sys.argv[1], sys.argv[1:])\n";

#[test]
fn sigterm_stops_upsd_whose_parent_blocked_or_ignored_it() {
    assert_root();
    for (how, script) in [("blocked", BLOCK_THEN_EXEC), ("ignored", IGNORE_THEN_EXEC)] {
        let b = Bare::new();
        let mut p = b.start(
            &format!("upsd-{how}"),
            &["/usr/bin/python3", "-c", script],
            &["-FF", "-u", "root"],
        );
        // The premise: the mask and the dispositions came through exec.
        // A bash `trap "" TERM` would do the same as the python here.
        assert_eq!(signal_mask(p.pid(), "SigBlk"), 0, "{how}: still blocked");
        let ign = signal_mask(p.pid(), "SigIgn");
        for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGUSR1, Signal::SIGCHLD] {
            assert_eq!(ign & bit(sig), 0, "{how}: {sig} still ignored");
        }
        // As NUT's upsd: SIGPIPE stays ignored.
        assert_ne!(ign & bit(Signal::SIGPIPE), 0, "{how}: SIGPIPE not ignored");
        assert!(b.path("upsd.pid").exists());
        p.signal(Signal::SIGTERM);
        let mut code = None;
        assert!(
            wait_until(WAIT, EVERY, || {
                code = p.try_exit();
                code.is_some()
            }),
            "{how}: SIGTERM did not stop upsd:\n{}",
            p.log()
        );
        // A clean stop: status 0, the PID file removed.
        assert_eq!(code, Some(Some(0)), "{}", p.log());
        assert!(!b.path("upsd.pid").exists());
    }
    // A signal upsd does not handle, ignored by the parent, gets its
    // default action again: SIGUSR1 ends the process.
    let b = Bare::new();
    let mut p =
        b.start("upsd-usr1", &["/usr/bin/python3", "-c", IGNORE_THEN_EXEC], &["-F", "-u", "root"]);
    p.signal(Signal::SIGUSR1);
    assert!(wait_until(WAIT, EVERY, || p.try_exit().is_some()), "SIGUSR1 still ignored");
}

#[test]
fn the_pid_file_is_never_written_through_a_symbolic_link() {
    assert_root();
    let b = Bare::new();
    let victim_dir = temp_dir();
    let victim = victim_dir.path().join("precious");
    std::fs::write(&victim, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&victim, b.path("upsd.pid")).unwrap();
    let mut p = b.start("upsd", &[], &["-FF", "-u", "root"]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    assert!(std::fs::symlink_metadata(b.path("upsd.pid")).unwrap().file_type().is_symlink());
    assert!(p.log().contains("is not a regular file"), "{}", p.log());
    assert_eq!(p.stop(WAIT), Some(0));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    // A plain stale file is replaced, and removed at exit.
    std::fs::remove_file(b.path("upsd.pid")).unwrap();
    std::fs::write(b.path("upsd.pid"), "99999\n").unwrap();
    let mut p = b.start("upsd-2", &[], &["-FF", "-u", "root"]);
    assert_eq!(std::fs::read_to_string(b.path("upsd.pid")).unwrap(), format!("{}\n", p.pid()));
    assert_eq!(p.stop(WAIT), Some(0));
    assert!(!b.path("upsd.pid").exists());
}

/// Runs `upsd -c <cmd>` (and `args`); returns (success, stderr).
fn control(b: &Bare, cmd: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["-c", cmd];
    all.extend(args);
    let out = b.command(&[], &all).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn dash_c_signals_only_a_upsd_named_by_a_sane_pid_file() {
    assert_root();
    let b = Bare::new();
    let pidfile = b.path("upsd.pid");
    for bad in ["1\n", "0\n", "-1\n"] {
        std::fs::write(&pidfile, bad).unwrap();
        let (ok, err) = control(&b, "stop", &[]);
        assert!(!ok, "{bad:?}: {err}");
        assert!(err.contains("ignoring invalid pid number"), "{bad:?}: {err}");
    }
    // A PID file naming another program's process (a reused PID, or one
    // planted by whoever can write the state directory).
    let mut sleep = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(&pidfile, format!("{}\n", sleep.id())).unwrap();
    for cmd in ["stop", "reload"] {
        let (ok, err) = control(&b, cmd, &[]);
        assert!(!ok, "{cmd}: {err}");
        assert!(err.contains("(sleep) is not the expected program"), "{cmd}: {err}");
    }
    let (ok, err) = control(&b, "stop", &["-P", &sleep.id().to_string()]);
    assert!(!ok, "{err}");
    assert_eq!(sleep.try_wait().unwrap(), None, "sleep was signalled");
    // Such a stale PID file does not stop a new upsd from starting, which
    // replaces it; then `-c stop` reaches the real one.
    let mut p = b.start("upsd", &[], &["-FF", "-u", "root"]);
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap(), format!("{}\n", p.pid()));
    let (ok, err) = control(&b, "stop", &[]);
    assert!(ok, "{err}");
    assert!(wait_until(WAIT, EVERY, || p.try_exit().is_some()), "{}", p.log());
    assert_eq!(sleep.try_wait().unwrap(), None);
    let _ = kill(Pid::from_raw(sleep.id() as i32), Signal::SIGKILL);
    let _ = sleep.wait();
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn world_readable_secrets_are_warned_about_as_nut_does() {
    assert_root();
    // How many "<file> is world readable" lines the server logged.
    let count = |w: &World, file: &Path| {
        let want = format!("{} is world readable", file.display());
        w.server.log().lines().filter(|l| l.ends_with(&want)).count()
    };
    for which in [Which::Real, Which::Ours] {
        let w = World::start(which, "");
        let users = w.etc().join("upsd.users");
        let conf = w.etc().join("upsd.conf");
        // Both were written 0644: both were warned about at startup.
        assert_eq!((count(&w, &users), count(&w, &conf)), (1, 1), "{which:?}");
        chmod(&users, 0o604);
        chmod(&conf, 0o640);
        // A reload reads both again, and checks them again, as NUT does.
        w.server.signal(Signal::SIGHUP);
        assert!(
            wait_until(WAIT, EVERY, || count(&w, &users) == 2),
            "{which:?}: no second warning about {}:\n{}",
            users.display(),
            w.server.log()
        );
        assert_eq!(count(&w, &conf), 1, "{which:?}: {}", w.server.log());
    }
}

#[test]
fn a_listen_unix_socket_is_0660_and_belongs_to_the_run_user() {
    assert_root();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().expect("user nobody");
    let sockdir = temp_dir();
    let path = sockdir.path().join("upsd.sock");
    let conf = |p: u16| format!("LISTEN 127.0.0.1 {p}\nLISTEN_UNIX {}\n", path.display());
    let w = World::launch(
        Which::Ours,
        &Launch { upsd_conf: &conf, args: &["-F", "-u", "nobody"], chrooted: false, wait: false },
    );
    assert!(
        wait_until(WAIT, EVERY, || std::os::unix::net::UnixStream::connect(&path).is_ok()),
        "{}",
        w.server.log()
    );
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o660);
    assert_eq!((meta.uid(), meta.gid()), (nobody.uid.as_raw(), nobody.gid.as_raw()));
}
