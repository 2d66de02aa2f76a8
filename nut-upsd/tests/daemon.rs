//! Our `upsd` binary as a process: connection limits, a client that never
//! reads, reload on SIGHUP, `-c stop`, STARTTLS.

mod support;

use nix::sys::signal::Signal;
use nut_testkit::wait_until;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Raw, Which, World};

#[test]
fn a_client_that_never_reads_is_dropped_and_never_stalls_others() {
    let w = World::start(Which::Ours, "");
    let mut hog = TcpStream::connect(("127.0.0.1", w.port)).unwrap();
    hog.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let port = w.port;
    let writer = std::thread::spawn(move || {
        let req = b"LIST VAR dummy\n".repeat(1000);
        // Each round asks for about 1 MB of replies that are never read.
        (0..2000).find(|_| hog.write_all(&req).is_err())
    });
    // Meanwhile another client is served promptly, again and again.
    let mut other = Raw::connect(port);
    let start = Instant::now();
    for _ in 0..50 {
        let r = other.exchange(b"GET VAR dummy ups.status\n");
        assert_eq!(r, b"VAR dummy ups.status \"OL\"\n");
    }
    assert!(start.elapsed() < Duration::from_secs(10));
    let dropped_after = writer.join().unwrap();
    assert!(dropped_after.is_some(), "the non-reading client was never dropped");
    assert!(w.server.log().contains("does not read"), "{}", w.server.log());
}

#[test]
fn maxconn_refuses_cleanly_and_idle_connections_do_not_block_others_forever() {
    let w = World::start(Which::Ours, "MAXCONN 5\n");
    // Earlier probe connections may still be closing: retry until five
    // connections are served.
    let served = || {
        let mut s = TcpStream::connect(("127.0.0.1", w.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"NETVER\n").ok()?;
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).ok()?;
        (&buf == b"1.3\n").then_some(s)
    };
    let mut held = Vec::new();
    while held.len() < 5 {
        let mut got = None;
        assert!(wait_until(Duration::from_secs(5), Duration::from_millis(20), || {
            got = served();
            got.is_some()
        }));
        held.extend(got);
    }
    // The sixth is closed at once (no silent starvation as in NUT).
    let mut extra = TcpStream::connect(("127.0.0.1", w.port)).unwrap();
    extra.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = extra.write_all(b"VER\n");
    let mut buf = [0u8; 64];
    let n = extra.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "refused connection got {:?}", &buf[..n]);
    for _ in 0..3 {
        let _ = TcpStream::connect(("127.0.0.1", w.port));
    }
    // One place frees up: a new client is served.
    drop(held.pop());
    let ok = wait_until(Duration::from_secs(5), Duration::from_millis(20), || {
        w.ask("NETVER").as_deref() == Some("1.3")
    });
    assert!(ok);
    // Logged once per episode, not once per refused connection (the slot
    // freed above may start a second episode).
    let log = w.server.log();
    let reports = log.matches("MAXCONN (5) reached").count();
    assert!((1..=2).contains(&reports), "{log}");
}

#[test]
fn sighup_reloads_without_dropping_clients_and_c_stop_stops() {
    let w = World::start_with(Which::Ours, "", &["-FF"]);
    let mut client = Raw::connect(w.port);
    let before = String::from_utf8(client.exchange(b"GET UPSDESC other\n")).unwrap();
    assert_eq!(before, "UPSDESC other \"Unavailable\"\n");
    let conf = std::fs::read_to_string(w.etc().join("ups.conf")).unwrap();
    std::fs::write(w.etc().join("ups.conf"), conf + "  desc = \"reloaded\"\n").unwrap();
    w.server.signal(Signal::SIGHUP);
    let ok = wait_until(Duration::from_secs(5), Duration::from_millis(20), || {
        client.exchange(b"GET UPSDESC other\n") == b"UPSDESC other \"reloaded\"\n"
    });
    assert!(ok, "{}", w.server.log());
    assert_eq!(client.exchange(b"GET VAR dummy ups.status\n"), b"VAR dummy ups.status \"OL\"\n");
    // -c stop reads the PID file and stops the server.
    let pidfile = w.state().join("upsd.pid");
    assert_eq!(std::fs::read_to_string(&pidfile).unwrap().trim(), w.server.pid().to_string());
    let mut cmd = Command::new(support::ours_bin());
    cmd.args(["-c", "stop"]);
    w.env(&mut cmd);
    assert!(cmd.status().unwrap().success());
    let mut w = w;
    let ok = wait_until(Duration::from_secs(5), Duration::from_millis(20), || {
        w.server.try_exit().is_some()
    });
    assert!(ok, "upsd did not stop");
    assert!(!pidfile.exists());
}

#[test]
fn a_second_instance_is_refused_and_bad_config_names_file_and_line() {
    let w = World::start_with(Which::Ours, "", &["-FF"]);
    let mut cmd = Command::new(support::ours_bin());
    cmd.args(["-F", "-u", "root"]);
    w.env(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already running"));
    // A bad value is an error with file:line; an unknown key only a warning.
    let dir = nut_testkit::temp_dir();
    std::fs::write(dir.path().join("upsd.conf"), "FOO 1\nMAXAGE soon\n").unwrap();
    std::fs::write(dir.path().join("ups.conf"), support::UPS_CONF).unwrap();
    let err = support::refused_start(dir.path());
    assert!(err.contains("upsd.conf:2: MAXAGE needs a positive number"), "{err}");
}

const TLS_CLIENT: &str = r#"
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
s.sendall(b"STARTTLS\n")
print(f.readline().decode().strip())
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s)
print(t.version().startswith("TLS"))
t.sendall(b"GET VAR dummy ups.status\nSTARTTLS\nLIST UPS\n")
data = b""
while not data.endswith(b"END LIST UPS\n"):
    chunk = t.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode(), end="")
"#;

#[test]
fn starttls_with_certfile() {
    let both = nut_testkit::test_pki("upsd-certfile.pem");
    let w = World::start(Which::Ours, &format!("CERTFILE {}\n", both.display()));
    let out = Command::new("/usr/bin/python3")
        .args(["-c", TLS_CLIENT, &w.port.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "OK STARTTLS\nTrue\nVAR dummy ups.status \"OL\"\nERR ALREADY-SSL-MODE\nBEGIN LIST UPS\n\
         UPS dummy \"Test \\\"quoted\\\" \\# box\"\nUPS other \"Description unavailable\"\nEND LIST UPS\n",
        "stderr: {}\nserver: {}",
        String::from_utf8_lossy(&out.stderr),
        w.server.log()
    );
    // NUT's upsc (built with NSS, no certificate database) still works.
    let (code, stdout, _) = w.tool("upsc", &["dummy@{h}", "ups.status"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "OL\n"));
}
