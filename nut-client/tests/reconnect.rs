//! The reconnecting clients' typed methods, their backoff, and the context
//! errors carry, against a loopback server that answers each command with
//! the reply NUT 2.8.0's `upsd` gave to it (tests/data/net-raw-misc.txt).

use nut_client::io::{Backoff, ConnectOptions};
use nut_client::{ClientError, ErrCode, HostPort, TransportError};
use nut_testkit::free_port;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Command line -> the server's single-line answer, from the transcript.
fn recorded() -> Arc<HashMap<String, String>> {
    let t = include_str!("data/net-raw-misc.txt");
    let mut map = HashMap::new();
    let mut lines = t.lines().peekable();
    while let Some(l) = lines.next() {
        if let Some(cmd) = l.strip_prefix("C: ") {
            if let Some(reply) = lines.peek().and_then(|r| r.strip_prefix("S: ")) {
                map.entry(cmd.to_string()).or_insert_with(|| reply.to_string());
            }
        }
    }
    Arc::new(map)
}

fn serve(conn: TcpStream, answers: Arc<HashMap<String, String>>) {
    let mut w = conn.try_clone().unwrap();
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        let reply = answers.get(&line).cloned().unwrap_or_else(|| "ERR UNKNOWN-COMMAND".into());
        if w.write_all(format!("{reply}\n").as_bytes()).is_err() {
            return;
        }
    }
}

/// Starts the replay server on `port` and returns once it listens.
fn start(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let answers = recorded();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let a = answers.clone();
            std::thread::spawn(move || serve(conn, a));
        }
    });
}

#[test]
fn errors_name_the_server_and_the_request() {
    let port = free_port();
    let server = HostPort::parse(&format!("127.0.0.1:{port}")).unwrap();
    let e = nut_client::io::blocking::Client::connect(&server, ConnectOptions::default())
        .map(drop)
        .unwrap_err();
    assert!(matches!(e, ClientError::Transport(TransportError::Connect { .. })), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");

    start(port);
    let mut c =
        nut_client::io::blocking::Client::connect(&server, ConnectOptions::default()).unwrap();
    assert_eq!(c.get_var("dummy", "ups.status").unwrap(), "OL");
    let e = c.get_var("nosuchups", "ups.status").unwrap_err();
    assert!(matches!(&e, ClientError::Server { code: ErrCode::UnknownUps, .. }), "{e:?}");
    assert_eq!(e.to_string(), "server error UNKNOWN-UPS for \"GET VAR nosuchups ups.status\"");
}

#[test]
fn blocking_reconnecting_has_typed_methods_and_waits_at_most_the_backoff() {
    let port = free_port();
    let server = HostPort::parse(&format!("127.0.0.1:{port}")).unwrap();
    let backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(200));
    let mut r =
        nut_client::io::blocking::Reconnecting::new(server, ConnectOptions::default(), backoff);
    // No server: each failure doubles the delay, up to the maximum.
    for _ in 0..4 {
        assert!(r.get_var("dummy", "ups.status").is_err());
    }
    assert!(r.retry_in().is_some_and(|d| d <= Duration::from_millis(200)));
    start(port);
    let t = Instant::now();
    assert_eq!(r.get_var("dummy", "ups.status").unwrap(), "OL");
    assert!(t.elapsed() <= Duration::from_millis(200) + Duration::from_secs(1));
    assert!(r.is_connected());
    assert_eq!(r.ver().unwrap(), "Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/");
    // A server ERR keeps the connection.
    let e = r.get_var("nosuchups", "ups.status").unwrap_err();
    assert_eq!(e.server_code(), Some(&ErrCode::UnknownUps));
    assert!(r.is_connected());
}

#[test]
fn tokio_reconnecting_has_typed_methods() {
    let port = free_port();
    let server = HostPort::parse(&format!("127.0.0.1:{port}")).unwrap();
    let backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(200));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut r =
            nut_client::io::tokio::Reconnecting::new(server, ConnectOptions::default(), backoff);
        assert!(r.get_var("dummy", "ups.status").await.is_err());
        start(port);
        assert_eq!(r.get_var("dummy", "ups.status").await.unwrap(), "OL");
        let e = r.get_var("nosuchups", "ups.status").await.unwrap_err();
        assert!(matches!(e, ClientError::Server { code: ErrCode::UnknownUps, .. }));
    });
}
