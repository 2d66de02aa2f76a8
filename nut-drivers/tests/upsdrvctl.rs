//! `upsdrvctl` side by side with Debian's (NUT 2.8.0): the driver command
//! lines, `shutdown` by sdorder with each `-k` waited for, `maxstartdelay`,
//! `-r`/`-u`; and the foreground mode (`-F`, NUT 2.8.1+) with our
//! dummy-ups.

mod common;

use common::{Setup, UPSDRVCTL};
use nix::sys::signal::Signal;
use nut_testkit::{Proc, peer, wait_for_path, wait_until};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn run(s: &Setup, exe: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(exe);
    cmd.args(args);
    s.env(&mut cmd);
    cmd.output().unwrap()
}

/// The `exec:` lines of a `-t` run, with the driver's directory cut off
/// (ours runs the dummy-ups next to it, Debian's the one in /lib/nut).
fn exec_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter_map(|l| l.split_once("exec:  ").map(|(_, c)| c))
        .map(|c| {
            let (exe, args) = c.split_once(' ').unwrap_or((c, ""));
            let exe = exe.rsplit_once('/').map_or(exe, |(_, name)| name);
            format!("{exe} {args}")
        })
        .collect()
}

#[test]
fn test_mode_runs_what_nut_runs() {
    let s = Setup::new(
        "[a]\n  driver = dummy-ups\n  port = a.dev\n  sdorder = 1\n\
         [b]\n  driver = dummy-ups\n  port = b.dev\n  sdorder = -1\n\
         [c]\n  driver = dummy-ups\n  port = c.dev\n",
    );
    let cases: &[(&[&str], &[&str])] = &[
        (&["-t", "shutdown"], &["dummy-ups -a c -k", "dummy-ups -a a -k"]),
        (
            &["-t", "-r", "/x", "-u", "nut", "shutdown"],
            &["dummy-ups -a c -k -r /x -u nut", "dummy-ups -a a -k -r /x -u nut"],
        ),
        // Named, a negative sdorder is shut down all the same.
        (&["-t", "shutdown", "b"], &["dummy-ups -a b -k"]),
        (
            &["-t", "-r", "/x", "-u", "nut", "start"],
            &[
                "dummy-ups -a a -r /x -u nut",
                "dummy-ups -a b -r /x -u nut",
                "dummy-ups -a c -r /x -u nut",
            ],
        ),
        // -d passes the debug level on (test mode makes it at least 2).
        (&["-t", "-d", "start", "c"], &["dummy-ups -DD -a c"]),
        (&["-t", "-DDD", "-d", "start", "c"], &["dummy-ups -DDD -a c"]),
        (&["-t", "-D", "start", "c"], &["dummy-ups -a c"]),
        (&["-t", "shutdown", "zz"], &[]),
        (&["-t", "bogus"], &[]),
    ];
    let debian = peer("upsdrvctl");
    for (args, want) in cases {
        let theirs = run(&s, &debian, args);
        let ours = run(&s, Path::new(UPSDRVCTL), args);
        assert_eq!(exec_lines(&theirs), *want, "Debian {args:?}");
        assert_eq!(exec_lines(&ours), *want, "ours {args:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        let banner = "Network UPS Tools - UPS driver controller ";
        assert!(String::from_utf8_lossy(&ours.stdout).starts_with(banner));
    }
}

/// A stand-in driver that logs its runs: `start <args>` and `end <ups>`,
/// 300 ms apart; UPS names starting with `fail` exit 3, `slow` sleep on.
fn fake_driver(s: &Setup) -> std::path::PathBuf {
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = s.dir.path().join("runs.log");
    let script = format!(
        "#!/bin/sh\necho \"start $*\" >> {log}\nsleep 0.3\necho \"end $2\" >> {log}\n\
         case \"$2\" in fail*) exit 3;; slow*) sleep 4;; esac\nexit 0\n",
        log = log.display()
    );
    let path = bin.join("fake-ups");
    std::fs::write(&path, script).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    bin
}

fn take_runs(s: &Setup) -> Vec<String> {
    let log = s.dir.path().join("runs.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    text.lines().map(String::from).collect()
}

#[test]
fn shutdown_goes_by_sdorder_and_waits_for_each_driver() {
    let s = Setup::new("");
    let bin = fake_driver(&s);
    s.write(
        "ups.conf",
        format!(
            "driverpath = {}\nmaxstartdelay = 10\n\
             [a]\n driver = fake-ups\n port = x\n sdorder = 1\n\
             [b]\n driver = fake-ups\n port = x\n sdorder = -1\n\
             [fail1]\n driver = fake-ups\n port = x\n sdorder = 2\n\
             [c]\n driver = fake-ups\n port = x\n\
             [d]\n driver = fake-ups\n port = x\n sdorder = 1\n\
             [slow]\n driver = fake-ups\n port = x\n sdorder = -1\n maxstartdelay = 1\n",
            bin.display()
        )
        .as_bytes(),
    );
    let debian = peer("upsdrvctl");
    // Every -k ends before the next starts, by sdorder group, file order
    // within a group; the failed one makes the exit status 1.
    let want = [
        "start -a c -k -u nut",
        "end c",
        "start -a a -k -u nut",
        "end a",
        "start -a d -k -u nut",
        "end d",
        "start -a fail1 -k -u nut",
        "end fail1",
    ];
    for exe in [debian.as_path(), Path::new(UPSDRVCTL)] {
        let o = run(&s, exe, &["-u", "nut", "shutdown"]);
        assert_eq!(o.status.code(), Some(1), "{exe:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("Driver failed to start (exit status=3)"),
            "{exe:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(take_runs(&s), want, "{exe:?}");
    }
    // A driver that outlives maxstartdelay (1 s here) is given up on.
    for exe in [debian.as_path(), Path::new(UPSDRVCTL)] {
        // Output to a file: the driver left running keeps a pipe open.
        let err_path = s.dir.path().join("ctl.err");
        let mut cmd = Command::new(exe);
        cmd.args(["shutdown", "slow"]).stderr(std::fs::File::create(&err_path).unwrap());
        cmd.stdout(std::process::Stdio::null());
        s.env(&mut cmd);
        let start = Instant::now();
        let status = cmd.status().unwrap();
        let took = start.elapsed();
        assert_eq!(status.code(), Some(1), "{exe:?}");
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(3),
            "{exe:?} {took:?}"
        );
        let err = std::fs::read_to_string(&err_path).unwrap();
        assert!(err.contains("Startup timer elapsed, continuing..."), "{exe:?}: {err}");
        let ok = wait_until(Duration::from_secs(5), Duration::from_millis(20), || {
            std::fs::read_to_string(s.dir.path().join("runs.log"))
                .is_ok_and(|t| t.contains("end slow"))
        });
        assert!(ok);
        assert_eq!(take_runs(&s), ["start -a slow -k", "end slow"], "{exe:?}");
    }
}

fn ping(socket: &Path) -> bool {
    use std::io::{BufRead, BufReader, Write};
    let Ok(mut c) = std::os::unix::net::UnixStream::connect(socket) else { return false };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    c.write_all(b"PING\n").is_ok()
        && BufReader::new(c).read_line(&mut line).is_ok()
        && line == "PONG\n"
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

#[test]
fn foreground_mode_stays_with_the_drivers() {
    let s = Setup::new(
        "[a]\n  driver = dummy-ups\n  port = a.dev\n[b]\n  driver = dummy-ups\n  port = b.dev\n",
    );
    s.write("a.dev", b"ups.status: OL\n");
    s.write("b.dev", b"ups.status: OB\n");
    let ctl = |name: &str, args: &[&str]| {
        let mut cmd = Command::new(UPSDRVCTL);
        cmd.args(args);
        s.env(&mut cmd);
        Proc::spawn(name, cmd, s.dir.path())
    };
    // Serving: the driver answers PING on its socket (its signal handlers
    // are in place by then).
    let up = |ups: &str| {
        wait_for_path(&s.socket(ups), Duration::from_secs(20))
            && wait_until(Duration::from_secs(20), Duration::from_millis(20), || {
                ping(&s.socket(ups))
            })
    };
    let gone = |ups: &str| {
        wait_until(Duration::from_secs(20), Duration::from_millis(20), || !s.socket(ups).exists())
    };

    // One driver: upsdrvctl becomes it (and -r is passed on: chroot to /).
    let mut one = ctl("ctl-one", &["-F", "-r", "/", "-u", "root", "start", "a"]);
    assert!(up("a"), "{}", one.log());
    assert_eq!(comm(one.pid()), "dummy-ups");
    assert_eq!(one.stop(Duration::from_secs(10)), Some(0), "{}", one.log());
    assert!(gone("a"));

    // Several: upsdrvctl stays; SIGTERM stops them all, exit 0.
    let mut all = ctl("ctl-all", &["-F", "-u", "root", "start"]);
    assert!(up("a") && up("b"), "{}", all.log());
    assert_eq!(comm(all.pid()), "upsdrvctl");
    assert_eq!(all.try_exit(), None);
    all.signal(Signal::SIGTERM);
    let exited = wait_until(Duration::from_secs(20), Duration::from_millis(20), || {
        all.try_exit() == Some(Some(0))
    });
    assert!(exited, "{}", all.log());
    assert!(gone("a") && gone("b"));

    // One driver exiting stops the others, and upsdrvctl fails.
    let mut all = ctl("ctl-all2", &["-FF", "-u", "root", "start"]);
    assert!(up("a") && up("b"), "{}", all.log());
    let pid = std::fs::read_to_string(s.state.join("dummy-ups-a.pid")).unwrap();
    let pid = nix::unistd::Pid::from_raw(pid.trim().parse().unwrap());
    nix::sys::signal::kill(pid, Signal::SIGTERM).unwrap();
    let exited = wait_until(Duration::from_secs(20), Duration::from_millis(20), || {
        all.try_exit() == Some(Some(1))
    });
    assert!(exited, "{}", all.log());
    assert!(gone("b"), "{}", all.log());
}
