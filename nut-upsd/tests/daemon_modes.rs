//! Our `upsd` started the ways NUT's can be: in the background (`-B`),
//! with `-4` / `-6`, with a Unix-socket listener, as an unprivileged user
//! (`-u`) and in a chroot (`-r`). These tests run as root, as the other
//! tests of this crate do.

mod support;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use nut_testkit::{free_port, temp_dir, wait_until};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{Launch, Which, World};

const WAIT: Duration = Duration::from_secs(10);
const EVERY: Duration = Duration::from_millis(20);

fn assert_root() {
    assert!(nix::unistd::geteuid().is_root(), "these tests start upsd as root: run them as root");
}

/// One command on a fresh TCP connection to `addr`; the first reply line.
fn ask_at(addr: SocketAddr, line: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(format!("{line}\n").as_bytes()).ok()?;
    let mut out = String::new();
    BufReader::new(s).read_line(&mut out).ok()?;
    Some(out.trim_end().to_string())
}

fn v4(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn v6(port: u16) -> SocketAddr {
    SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port))
}

/// The state letter of a process in /proc (None when it is gone).
fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

fn alive(pid: i32) -> bool {
    proc_state(pid).is_some_and(|c| c != 'Z' && c != 'X')
}

/// Kills a process that is not our child (the daemon) when dropped.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if alive(self.0) {
            let _ = kill(Pid::from_raw(self.0), Signal::SIGKILL);
        }
    }
}

/// A line of /proc/<pid>/status, such as `Uid`, split into its numbers.
fn status_ids(pid: u32, key: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(&format!("{key}:"))).unwrap();
    line[key.len() + 1..].split_whitespace().map(|x| x.parse().unwrap()).collect()
}

#[test]
fn background_mode_detaches_serves_and_writes_the_daemons_pid() {
    assert_root();
    let mut w = World::launch(
        Which::Ours,
        &Launch {
            upsd_conf: &|p| format!("LISTEN 127.0.0.1 {p}\n"),
            args: &["-B", "-u", "root"],
            chrooted: false,
            wait: false,
        },
    );
    // The process we started returns, successfully, once the daemon runs.
    let mut code = None;
    assert!(wait_until(WAIT, EVERY, || {
        code = w.server.try_exit();
        code.is_some()
    }));
    assert_eq!(code, Some(Some(0)), "{}", w.server.log());
    let pidfile = w.state().join("upsd.pid");
    let mut pid = 0;
    assert!(wait_until(WAIT, EVERY, || {
        pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.strip_suffix('\n')?.parse().ok())
            .unwrap_or(0);
        pid > 0
    }));
    let _guard = KillOnDrop(pid);
    assert_ne!(pid as u32, w.server.pid(), "the PID file names the parent");
    assert!(alive(pid));
    // A daemon: its own session, not our child any more.
    assert_eq!(nix::unistd::getsid(Some(Pid::from_raw(pid))).unwrap(), Pid::from_raw(pid));
    assert_ne!(status_ids(pid as u32, "PPid"), [std::process::id()]);
    w.wait_ready();
    assert_eq!(w.ask("GET VAR dummy ups.status").as_deref(), Some("VAR dummy ups.status \"OL\""));
    // `-c stop` finds it through the PID file; it exits and removes it.
    let mut cmd = Command::new(support::ours_bin());
    cmd.args(["-c", "stop"]);
    w.env(&mut cmd);
    assert!(cmd.status().unwrap().success());
    assert!(wait_until(WAIT, EVERY, || !alive(pid)), "the daemon did not stop");
    assert!(wait_until(WAIT, EVERY, || !pidfile.exists()));
}

#[test]
fn dash_4_and_dash_6_pick_the_address_family_of_listen_lines() {
    assert_root();
    let p6 = free_port();
    let conf = move |p: u16| format!("LISTEN 127.0.0.1 {p}\nLISTEN ::1 {p6}\n");
    let w = World::launch(
        Which::Ours,
        &Launch {
            upsd_conf: &conf,
            args: &["-F", "-4", "-u", "root"],
            chrooted: false,
            wait: true,
        },
    );
    assert!(ask_at(v6(p6), "NETVER").is_none(), "-4 opened ::1");
    assert!(w.server.log().contains("listening on 127.0.0.1"));
    drop(w);

    let w = World::launch(
        Which::Ours,
        &Launch {
            upsd_conf: &conf,
            args: &["-F", "-6", "-u", "root"],
            chrooted: false,
            wait: false,
        },
    );
    assert!(
        wait_until(WAIT, EVERY, || {
            ask_at(v6(p6), "GET VAR dummy battery.charge").is_some_and(|r| r.starts_with("VAR "))
        }),
        "{}",
        w.server.log()
    );
    assert!(ask_at(v4(w.port), "NETVER").is_none(), "-6 opened 127.0.0.1");
    drop(w);

    // Neither: an IPv4 and an IPv6 listener on the same port, both served
    // (the IPv6 one is IPV6_V6ONLY, as in NUT).
    let both = |p: u16| format!("LISTEN 127.0.0.1 {p}\nLISTEN ::1 {p}\n");
    let w = World::launch(
        Which::Ours,
        &Launch { upsd_conf: &both, args: &["-F", "-u", "root"], chrooted: false, wait: true },
    );
    assert_eq!(ask_at(v6(w.port), "NETVER").as_deref(), Some("1.3"));
    assert_eq!(ask_at(v4(w.port), "NETVER").as_deref(), Some("1.3"));
}

/// Reads from `s` until the received bytes end with `end`.
fn read_until_end(s: &mut impl Read, end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    for _ in 0..1000 {
        if got.ends_with(end) {
            break;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

#[test]
fn listen_unix_serves_the_protocol_over_a_unix_socket() {
    assert_root();
    let sockdir = temp_dir();
    let path = sockdir.path().join("upsd.sock");
    let conf = |p: u16| format!("LISTEN 127.0.0.1 {p}\nLISTEN_UNIX {}\n", path.display());
    let mut w = World::launch(
        Which::Ours,
        &Launch { upsd_conf: &conf, args: &["-F", "-u", "root"], chrooted: false, wait: true },
    );
    let mut s = UnixStream::connect(&path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET VAR dummy ups.status\nUSERNAME monprimary\nPASSWORD primarypass\nLOGIN dummy\n\
          LIST CLIENT dummy\n",
    )
    .unwrap();
    let got = read_until_end(&mut s, b"END LIST CLIENT dummy\n");
    assert_eq!(
        String::from_utf8_lossy(&got),
        "VAR dummy ups.status \"OL\"\nOK\nOK\nOK\nBEGIN LIST CLIENT dummy\nCLIENT dummy unix\n\
         END LIST CLIENT dummy\n"
    );
    // The login counts like a TCP one.
    assert_eq!(w.ask("GET NUMLOGINS dummy").as_deref(), Some("NUMLOGINS dummy 1"));
    // A second Unix client at the same time; LOGOUT closes it.
    let mut t = UnixStream::connect(&path).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    t.write_all(b"LIST UPS\nLOGOUT\n").unwrap();
    let mut all = Vec::new();
    let _ = t.read_to_end(&mut all);
    assert!(all.starts_with(b"BEGIN LIST UPS\n") && all.ends_with(b"OK Goodbye\n"));
    // Stopped, the server removes its socket file.
    assert_eq!(w.server.stop(Duration::from_secs(5)), Some(0));
    assert!(!path.exists());
}

#[test]
fn dash_u_drops_root_after_binding() {
    assert_root();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().expect("user nobody");
    // A privileged port, which only root may bind: proves the order.
    let low = (600..1000u16)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port below 1024");
    let conf = move |p: u16| format!("LISTEN 127.0.0.1 {p}\nLISTEN 127.0.0.1 {low}\n");
    let w = World::launch(
        Which::Ours,
        &Launch { upsd_conf: &conf, args: &["-F", "-u", "nobody"], chrooted: false, wait: false },
    );
    assert!(
        wait_until(WAIT, EVERY, || ask_at(v4(low), "NETVER").as_deref() == Some("1.3")),
        "{}",
        w.server.log()
    );
    let uid = nobody.uid.as_raw();
    let gid = nobody.gid.as_raw();
    assert_eq!(status_ids(w.server.pid(), "Uid"), [uid; 4]);
    assert_eq!(status_ids(w.server.pid(), "Gid"), [gid; 4]);
    assert_eq!(status_ids(w.server.pid(), "Groups"), [gid]);
    assert_eq!(ask_at(v4(w.port), "NETVER").as_deref(), Some("1.3"));
}

#[test]
fn dash_r_chroots_before_reading_the_configuration() {
    assert_root();
    let w = World::launch(
        Which::Ours,
        &Launch {
            upsd_conf: &|p| format!("LISTEN 127.0.0.1 {p}\n"),
            args: &["-F", "-u", "root"],
            chrooted: true,
            wait: true,
        },
    );
    // Serving proves it: NUT_CONFPATH=/etc and NUT_STATEPATH=/state only
    // exist inside the chroot (the drivers' sockets are there).
    let root = std::fs::read_link(format!("/proc/{}/root", w.server.pid())).unwrap();
    assert_eq!(root, w.dir.path().canonicalize().unwrap());
    assert_eq!(w.ask("GET VAR dummy ups.status").as_deref(), Some("VAR dummy ups.status \"OL\""));
    // A reload reads the files inside the chroot too.
    let conf = std::fs::read_to_string(w.etc().join("ups.conf")).unwrap();
    std::fs::write(w.etc().join("ups.conf"), conf + "  desc = \"in the chroot\"\n").unwrap();
    w.server.signal(Signal::SIGHUP);
    assert!(
        wait_until(WAIT, EVERY, || {
            w.ask("GET UPSDESC other").as_deref() == Some("UPSDESC other \"in the chroot\"")
        }),
        "{}",
        w.server.log()
    );
    assert!(!Path::new("/state").join("dummy-ups-dummy").exists());
}
