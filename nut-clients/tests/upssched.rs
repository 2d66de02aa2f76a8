//! `upssched` end to end: our binary as upsmon's NOTIFYCMD, with a
//! CMDSCRIPT that records its arguments and environment, and the same
//! sequence run against Debian's `upssched` 2.8.0.

use nix::sys::signal::{Signal, kill};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);
const EVERY: Duration = Duration::from_millis(20);

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_upssched"))
}

/// A configuration directory with `upssched.conf` (the given rules after
/// the three paths) and `cmd.sh`, which appends one line per call to
/// `rec`: its arguments in brackets, then NOTIFYTYPE and UPSNAME.
fn setup(rules: &str) -> nut_testkit::TempDir {
    let dir = nut_testkit::temp_dir();
    let d = dir.path().display();
    std::fs::write(
        dir.path().join("cmd.sh"),
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >> {d}/rec\n\
             echo \" $NOTIFYTYPE $UPSNAME\" >> {d}/rec\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("upssched.conf"),
        format!(
            "CMDSCRIPT \"/bin/sh {d}/cmd.sh\"\nPIPEFN {d}/upssched.pipe\nLOCKFN {d}/upssched.lock\n\
             {rules}"
        ),
    )
    .unwrap();
    dir
}

fn call(bin: &Path, dir: &Path, ups: &str, ntype: &str) -> Output {
    let out = Command::new(bin)
        .arg(format!("UPS {ups} event {ntype}"))
        .env("NUT_CONFPATH", dir)
        .env("UPSNAME", ups)
        .env("NOTIFYTYPE", ntype)
        .output()
        .expect("run upssched");
    assert!(out.status.success(), "{} {ntype}: {out:?}", bin.display());
    out
}

fn records(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("rec"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn wait_records(dir: &Path, n: usize) -> Vec<String> {
    assert!(
        nut_testkit::wait_until(DEADLINE, EVERY, || records(dir).len() >= n),
        "expected {n} records, got {:?}",
        records(dir)
    );
    records(dir)
}

/// Stops the timer daemon listening on `<dir>/upssched.pipe`, if any: its
/// PID comes from the socket's peer credentials.
struct DaemonGuard(PathBuf);

impl DaemonGuard {
    fn pid(&self) -> Option<i32> {
        let s = UnixStream::connect(self.0.join("upssched.pipe")).ok()?;
        getsockopt(&s, PeerCredentials).ok().map(|c| c.pid())
    }
}

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let pid = Pid::from_raw(pid);
            let _ = kill(pid, Signal::SIGTERM);
            nut_testkit::wait_until(Duration::from_secs(5), EVERY, || {
                kill(pid, None).is_err() || is_zombie(pid)
            });
        }
    }
}

fn is_zombie(pid: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
        .unwrap_or(true)
}

/// `keeper` keeps a timer running through the whole sequence: NUT's
/// daemon exits as soon as its table is empty (COMPATIBILITY.md Q1), and a
/// call racing with that exit would see a different daemon.
const RULES: &str = "AT ONBATT * START-TIMER keeper 8\n\
                     AT ONBATT * EXECUTE onbatt-now\n\
                     AT ONBATT ups1 START-TIMER short 1\n\
                     AT ONBATT * START-TIMER long 4\n\
                     AT ONLINE * CANCEL-TIMER long\n\
                     AT online * CANCEL-TIMER short \"short-not-running\"\n\
                     AT ONLINE * START-TIMER marker 4\n\
                     AT LOWBATT other EXECUTE not-for-us\n\
                     AT COMMBAD * CANCEL-TIMER nothing\n";

/// The sequence both implementations are run through; returns the records.
fn scenario(bin: &Path) -> Vec<String> {
    let dir = setup(RULES);
    let p = dir.path();
    let _guard = DaemonGuard(p.to_path_buf());
    // EXECUTE runs at once, in the caller.
    call(bin, p, "ups1", "ONBATT");
    let r = wait_records(p, 2);
    assert_eq!(r[0], "[onbatt-now] ONBATT ups1", "{r:?}");
    assert_eq!(r[1], "[short] ONBATT ups1", "{r:?}");
    // `long` is cancelled; `short` is no longer running, so its cancel
    // command runs (in the daemon, with the daemon's environment);
    // `marker` fires after `long` would have.
    call(bin, p, "ups1", "ONLINE");
    call(bin, p, "ups1", "LOWBATT");
    let r = wait_records(p, 4);
    assert_eq!(r[2], "[short-not-running] ONBATT ups1", "{r:?}");
    assert_eq!(r[3], "[marker] ONBATT ups1", "{r:?}");
    let r = wait_records(p, 5);
    assert_eq!(r[4], "[keeper] ONBATT ups1", "{r:?}");
    r
}

#[test]
fn timers_started_cancelled_and_executed() {
    let r = scenario(&ours());
    assert_eq!(r.len(), 5, "{r:?}");
}

#[test]
fn same_records_as_debian() {
    let debian = nut_testkit::peer("upssched");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| scenario(&ours()));
        let b = s.spawn(|| scenario(&debian));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a, b);
}

#[test]
fn cancel_with_command_starts_the_daemon_to_run_it() {
    let dir =
        setup("AT ONLINE * CANCEL-TIMER t \"was-not-running\"\nAT COMMBAD * CANCEL-TIMER t\n");
    let p = dir.path();
    let _guard = DaemonGuard(p.to_path_buf());
    // No cmd and no daemon: nothing happens, no daemon is started.
    call(&ours(), p, "u", "COMMBAD");
    assert!(!p.join("upssched.pipe").exists());
    call(&ours(), p, "u", "ONLINE");
    assert_eq!(wait_records(p, 1), ["[was-not-running] ONLINE u"]);
    assert!(!p.join("upssched.lock").exists(), "the daemon removes LOCKFN");
}

#[test]
fn execute_runs_cmdscript_with_the_argument_whole() {
    let dir = setup("AT ONBATT * EXECUTE \"two words\"\nAT ONBATT * EXECUTE \"\"\n");
    let p = dir.path();
    let out = call(&ours(), p, "u", "onbatt");
    // One argument, never split by a shell (NUT's system() gives
    // "[two][words]"; COMPATIBILITY.md).
    assert_eq!(records(p), ["[two words] onbatt u"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Executing command: two words"), "{err}");
    assert!(err.contains("Empty EXECUTE command argument"), "{err}");
    assert!(!p.join("upssched.pipe").exists());
}

#[test]
fn errors_match_debian() {
    let debian = nut_testkit::peer("upssched");
    let dir = nut_testkit::temp_dir();
    let p = dir.path();
    std::fs::write(
        p.join("upssched.conf"),
        "PIPEFN /x\nAT ONBATT * EXECUTE x\nCMDSCRIPT /bin/true\n",
    )
    .unwrap();
    for bin in [ours(), debian.clone()] {
        let out = Command::new(&bin)
            .env("NUT_CONFPATH", p)
            .env("UPSNAME", "u")
            .env("NOTIFYTYPE", "ONBATT")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", bin.display());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "CMDSCRIPT must be set before any ATs in the config file!\n",
            "{}",
            bin.display()
        );
        let out = Command::new(&bin)
            .env("NUT_CONFPATH", p)
            .env_remove("UPSNAME")
            .env_remove("NOTIFYTYPE")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "Error: UPSNAME and NOTIFYTYPE must be set.\n\
             This program should only be run from upsmon.\n"
        );
    }
}

/// Whoever can write to PIPEFN names the timers and CANCEL commands; they
/// reach CMDSCRIPT as one literal argument and no shell ever sees them.
#[test]
fn timer_names_from_the_socket_never_reach_a_shell() {
    let dir = setup("AT ONBATT * START-TIMER keeper 8\n");
    let p = dir.path();
    let _guard = DaemonGuard(p.to_path_buf());
    // Starts the daemon (upsmon's way).
    call(&ours(), p, "u", "ONBATT");
    let d = p.display();
    let names = [
        format!("x; touch {d}/pwned1"),
        format!("`touch {d}/pwned2`"),
        format!("$(touch {d}/pwned3)"),
        format!("x' \"; touch {d}/pwned4 #"),
    ];
    let send = |req: nut_client::upssched::Request| {
        let mut s = UnixStream::connect(p.join("upssched.pipe")).expect("daemon listening");
        s.write_all(&req.encode()).unwrap();
        let mut reply = [0u8; 3];
        s.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"OK\n");
    };
    for n in &names[..3] {
        send(nut_client::upssched::Request::Start { timer: n.clone(), seconds: "0".into() });
    }
    // A CANCEL of no running timer runs its command at once.
    send(nut_client::upssched::Request::Cancel {
        timer: "none".into(),
        cmd: Some(names[3].clone()),
    });
    let r = wait_records(p, 4);
    let mut got: Vec<&str> = r.iter().map(|l| l.as_str()).collect();
    got.sort_unstable();
    let mut want: Vec<String> = names.iter().map(|n| format!("[{n}] ONBATT u")).collect();
    want.sort_unstable();
    assert_eq!(got, want);
    for i in 1..=4 {
        assert!(!p.join(format!("pwned{i}")).exists(), "pwned{i} was created");
    }
}
