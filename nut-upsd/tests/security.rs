//! Opt-in hardening of our upsd, end to end: `REQUIRE_TLS_FOR_AUTH` with
//! the committed test PKI (`nut_testkit::test_pki`), and the reload error
//! for a configuration file the run user cannot read.

mod support;

use nix::sys::signal::Signal;
use nut_testkit::{test_pki, wait_until};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use support::{Launch, Which, World};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);
const EVERY: Duration = Duration::from_millis(20);

fn assert_root() {
    assert!(nix::unistd::geteuid().is_root(), "these tests start upsd as root: run them as root");
}

/// Sends `request` and reads `n` reply lines.
fn exchange(stream: impl std::io::Read + Write, request: &str, n: usize) -> String {
    let mut r = BufReader::new(stream);
    r.get_mut().write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    for _ in 0..n {
        if r.read_line(&mut out).unwrap_or(0) == 0 {
            break;
        }
    }
    out
}

fn pem_certs(name: &str) -> Vec<CertificateDer<'static>> {
    let pem = std::fs::read(test_pki(name)).unwrap();
    rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<_, _>>().unwrap()
}

/// A client trusting the test CA and presenting the test client
/// certificate.
fn tls_client() -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs("ca.pem") {
        roots.add(c).unwrap();
    }
    let key_pem = std::fs::read(test_pki("client-key.pem")).unwrap();
    let key: PrivateKeyDer<'static> =
        rustls_pemfile::private_key(&mut key_pem.as_slice()).unwrap().unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(pem_certs("client.pem"), key)
        .unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// STARTTLS, the handshake, then `request` over TLS; `n` reply lines.
fn over_tls(port: u16, request: &str, n: usize) -> Result<String, String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let fut = async {
            let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map_err(|e| e.to_string())?;
            tcp.write_all(b"STARTTLS\n").await.map_err(|e| e.to_string())?;
            // Byte by byte: nothing after the line may be taken from TLS.
            let mut line = Vec::new();
            while !line.ends_with(b"\n") {
                line.push(tcp.read_u8().await.map_err(|e| e.to_string())?);
            }
            if line != b"OK STARTTLS\n" {
                return Err(format!("STARTTLS got {:?}", String::from_utf8_lossy(&line)));
            }
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls =
                tls_client().connect(name, tcp).await.map_err(|e| format!("handshake: {e}"))?;
            tls.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
            let mut got = Vec::new();
            while got.iter().filter(|&&b| b == b'\n').count() < n {
                let mut buf = [0u8; 256];
                let k = tls.read(&mut buf).await.map_err(|e| format!("read: {e}"))?;
                if k == 0 {
                    return Err(format!("closed after {:?}", String::from_utf8_lossy(&got)));
                }
                got.extend_from_slice(&buf[..k]);
            }
            Ok(String::from_utf8_lossy(&got).into_owned())
        };
        tokio::time::timeout(Duration::from_secs(10), fut)
            .await
            .unwrap_or_else(|_| Err("timed out".into()))
    })
}

#[test]
fn require_tls_for_auth_refuses_plaintext_logins_but_not_tls_or_unix_clients() {
    let sockdir = nut_testkit::temp_dir();
    let sock = sockdir.path().join("upsd.sock");
    // CERTREQUEST 2 alone still lets a client that never sends STARTTLS
    // log in and run commands in plaintext; REQUIRE_TLS_FOR_AUTH does not.
    let conf = format!(
        "CERTFILE {}\nCERTPATH {}\nCERTREQUEST 2\nREQUIRE_TLS_FOR_AUTH 1\nLISTEN_UNIX {}\n",
        test_pki("upsd-certfile.pem").display(),
        test_pki("ca.pem").display(),
        sock.display()
    );
    let w = World::start(Which::Ours, &conf);
    let login = "USERNAME monprimary\nPASSWORD primarypass\nLOGIN dummy\n";
    let admin =
        "USERNAME admin\nPASSWORD adminpass\nSET VAR dummy ups.id x\nINSTCMD dummy load.off\n";
    let tcp = || {
        let s = TcpStream::connect(("127.0.0.1", w.port)).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s
    };
    assert_eq!(exchange(tcp(), login, 3), "ERR ACCESS-DENIED\n".repeat(3));
    assert_eq!(exchange(tcp(), admin, 4), "ERR ACCESS-DENIED\n".repeat(4));
    // Reads need no credentials and still work in plaintext.
    assert_eq!(w.ask("GET VAR dummy ups.status").as_deref(), Some("VAR dummy ups.status \"OL\""));
    // Over TLS the same requests get through.
    assert_eq!(over_tls(w.port, login, 3).as_deref(), Ok("OK\nOK\nOK\n"));
    let r = over_tls(w.port, admin, 4).unwrap();
    assert!(r.starts_with("OK\nOK\n") && !r.contains("ACCESS-DENIED"), "{r}");
    // A Unix-socket client is local: no TLS needed.
    let u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    u.set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(exchange(u, login, 3), "OK\nOK\nOK\n");
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_reload_that_cannot_read_upsd_users_says_why() {
    assert_root();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().expect("user nobody");
    let w = World::launch(
        Which::Ours,
        &Launch {
            upsd_conf: &|p| format!("LISTEN 127.0.0.1 {p}\n"),
            args: &["-F", "-u", "nobody"],
            chrooted: false,
            wait: false,
        },
    );
    // The run user may reach and read every file but upsd.users, which is
    // root's alone (read at start, as root).
    for d in [w.dir.path(), &w.etc()] {
        chmod(d, 0o755);
    }
    for f in ["upsd.conf", "ups.conf"] {
        chmod(&w.etc().join(f), 0o644);
    }
    let users = w.etc().join("upsd.users");
    chmod(&users, 0o600);
    assert!(wait_until(WAIT, EVERY, || w.ask("VER").is_some()), "{}", w.server.log());
    w.server.signal(Signal::SIGHUP);
    let want = format!(
        "cannot read {} as user nobody (uid {}, gid {}): permission denied (owner uid 0, gid 0, \
         mode 0600); upsd reads its configuration as root at start but as this user on reload",
        users.display(),
        nobody.uid,
        nobody.gid
    );
    assert!(
        wait_until(WAIT, EVERY, || w.server.log().contains(&want)),
        "no {want:?} in:\n{}",
        w.server.log()
    );
    // The old configuration is kept: the server still answers.
    assert!(w.ask("VER").is_some());
}
