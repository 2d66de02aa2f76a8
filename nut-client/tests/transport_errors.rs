//! Transport errors after the connection name the server (`host:port`):
//! a server that closes at once, and one that never answers, in both
//! adapters.

use nut_client::io::ConnectOptions;
use nut_client::{ClientError, HostPort, TransportError};
use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

/// A server that accepts one connection and closes it at once (`close`),
/// or reads and never answers.
fn server(close: bool) -> (HostPort, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        if !close {
            let mut buf = [0u8; 256];
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    (HostPort::parse(&format!("127.0.0.1:{port}")).unwrap(), t)
}

fn opts() -> ConnectOptions {
    let t = Duration::from_millis(300);
    ConnectOptions::default().with_timeouts(t, t)
}

fn check(e: ClientError, server: &HostPort, closed: bool) {
    let text = e.to_string();
    assert!(text.contains(&server.to_string()), "{text}");
    match e {
        ClientError::Transport(TransportError::Closed { server: s })
        | ClientError::Transport(TransportError::Timeout { server: s }) => {
            assert_eq!(s, server.to_string());
        }
        ClientError::Transport(TransportError::Read { server: s, .. }) if closed => {
            assert_eq!(s, server.to_string());
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn blocking_errors_name_the_server() {
    for close in [true, false] {
        let (hp, t) = server(close);
        let mut c = nut_client::io::blocking::Client::connect(&hp, opts()).unwrap();
        check(c.get_var("ups", "ups.status").unwrap_err(), &hp, close);
        // The connection is now unusable, and says which one.
        let again = c.get_var("ups", "ups.status").unwrap_err();
        assert!(
            matches!(&again, ClientError::Transport(TransportError::Broken { server }) if *server == hp.to_string()),
            "{again:?}"
        );
        drop(c);
        t.join().unwrap();
    }
}

#[test]
fn tokio_errors_name_the_server() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for close in [true, false] {
        let (hp, t) = server(close);
        rt.block_on(async {
            let mut c = nut_client::io::tokio::Client::connect(&hp, opts()).await.unwrap();
            check(c.get_var("ups", "ups.status").await.unwrap_err(), &hp, close);
        });
        t.join().unwrap();
    }
}
