//! STARTTLS on both adapters against our `upsd` (fed by Debian's
//! `dummy-ups`): a trusted certificate, an untrusted one, the wrong name,
//! a server without TLS (required and opportunistic), client certificates.
//! Every case runs on the blocking and the tokio client and must give the
//! same outcome. Then the same client against Debian's NSS `upsd`. The
//! certificates are nut-testkit's committed test PKI (`nut_testkit::test_pki`).

use nut_client::io::ConnectOptions;
use nut_client::tls::TlsOptions;
use nut_client::{ClientError, HostPort, TlsError, TransportError};
use nut_proto::ErrCode;
use nut_testkit::{NutConfig, NutServer, workspace_bin};
use std::path::PathBuf;
use std::time::Duration;

fn data(name: &str) -> PathBuf {
    nut_testkit::test_pki(name)
}

/// Our upsd with one dummy UPS and the given extra `upsd.conf` lines.
fn our_upsd(extra: &str) -> NutServer {
    NutServer::start(&workspace_bin("nut-upsd", "upsd"), NutConfig::one_dummy(extra))
}

fn tls_upsd() -> NutServer {
    our_upsd(&format!("CERTFILE {}\n", data("upsd-certfile.pem").display()))
}

#[derive(Clone, Copy, Debug)]
enum Adapter {
    Blocking,
    Tokio,
}

const ADAPTERS: [Adapter; 2] = [Adapter::Blocking, Adapter::Tokio];

/// What a connection ended up as: over TLS or not, and `ups.status`.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    tls: bool,
    status: String,
}

/// Connects with `tls`, runs `LIST VAR dummy` and `LOGOUT`.
fn run(adapter: Adapter, host: &str, port: u16, tls: &TlsOptions) -> Result<Outcome, ClientError> {
    let server = HostPort { host: host.to_string(), port };
    let opts = ConnectOptions::default()
        .with_timeouts(Duration::from_secs(5), Duration::from_secs(5))
        .with_tls(tls.clone());
    let status = |vars: Vec<nut_client::ops::Var>| {
        vars.into_iter().find(|v| v.name == "ups.status").map(|v| v.value).unwrap_or_default()
    };
    match adapter {
        Adapter::Blocking => {
            let mut c = nut_client::io::blocking::Client::connect(&server, opts)?;
            let tls = c.get_ref().is_tls();
            let vars = c.list_vars("dummy")?;
            c.logout()?;
            Ok(Outcome { tls, status: status(vars) })
        }
        Adapter::Tokio => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let mut c = nut_client::io::tokio::Client::connect(&server, opts).await?;
                let tls = c.get_ref().is_tls();
                let vars = c.list_vars("dummy").await?;
                c.logout().await?;
                Ok(Outcome { tls, status: status(vars) })
            })
        }
    }
}

fn tls_error(r: Result<Outcome, ClientError>) -> TlsError {
    match r {
        Err(ClientError::Transport(TransportError::Tls(e))) => e,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

fn over_tls() -> Outcome {
    Outcome { tls: true, status: "OL".into() }
}

#[test]
fn starttls_with_a_trusted_ca_lists_variables_over_tls() {
    let s = tls_upsd();
    let t = TlsOptions::require().ca_path(data("ca.pem"));
    for a in ADAPTERS {
        // By IP address (checked against the certificate's IP SAN) and by
        // name (its DNS SAN).
        assert_eq!(run(a, "127.0.0.1", s.port, &t).unwrap(), over_tls(), "{a:?}");
        assert_eq!(run(a, "localhost", s.port, &t).unwrap(), over_tls(), "{a:?}");
        // A directory of PEM files works as CERTPATH too.
        let dir = TlsOptions::require().ca_path(data(""));
        assert_eq!(run(a, "127.0.0.1", s.port, &dir).unwrap(), over_tls(), "{a:?}");
        // Opportunistic mode upgrades when the server offers TLS.
        let t = TlsOptions::opportunistic().ca_path(data("ca.pem"));
        assert_eq!(run(a, "127.0.0.1", s.port, &t).unwrap(), over_tls(), "{a:?}");
    }
}

#[test]
fn untrusted_certificate_is_refused_even_in_opportunistic_mode() {
    let s = tls_upsd();
    for a in ADAPTERS {
        for t in [TlsOptions::require(), TlsOptions::opportunistic()] {
            let e = tls_error(run(a, "127.0.0.1", s.port, &t.ca_path(data("other-ca.pem"))));
            assert!(
                matches!(&e, TlsError::Untrusted(m) if m.contains("UnknownIssuer")),
                "{a:?}: {e}"
            );
            assert!(e.to_string().starts_with("server certificate not trusted: "), "{e}");
        }
        // The test CA is not in the system trust store either.
        let e = tls_error(run(a, "127.0.0.1", s.port, &TlsOptions::require()));
        assert!(
            matches!(&e, TlsError::Untrusted(_))
                || matches!(&e, TlsError::Config(m) if m.contains("system trust store")),
            "{a:?}: {e}"
        );
    }
}

#[test]
fn wrong_server_name_is_refused() {
    let s = tls_upsd();
    for a in ADAPTERS {
        let t = TlsOptions::require().ca_path(data("ca.pem")).server_name("ups.example.org");
        let e = tls_error(run(a, "127.0.0.1", s.port, &t));
        assert!(
            matches!(&e, TlsError::NameMismatch { name, .. } if name == "ups.example.org"),
            "{a:?}: {e}"
        );
        // CERTHOST can also fix a connection made by address.
        let t = TlsOptions::require().ca_path(data("ca.pem")).server_name("localhost");
        assert_eq!(run(a, "127.0.0.1", s.port, &t).unwrap(), over_tls(), "{a:?}");
    }
}

#[test]
fn verification_off_accepts_any_certificate() {
    let s = tls_upsd();
    for a in ADAPTERS {
        let t = TlsOptions::require().ca_path(data("other-ca.pem")).server_name("x.invalid");
        assert_eq!(run(a, "127.0.0.1", s.port, &t.verify(false)).unwrap(), over_tls(), "{a:?}");
    }
}

#[test]
fn server_without_tls_require_fails_and_try_falls_back() {
    let s = our_upsd("");
    for a in ADAPTERS {
        let e =
            tls_error(run(a, "127.0.0.1", s.port, &TlsOptions::require().ca_path(data("ca.pem"))));
        assert_eq!(e, TlsError::NotSupported(ErrCode::FeatureNotConfigured), "{a:?}");
        assert_eq!(e.to_string(), "server does not support STARTTLS (ERR FEATURE-NOT-CONFIGURED)");
        let t = TlsOptions::opportunistic().ca_path(data("ca.pem"));
        assert_eq!(
            run(a, "127.0.0.1", s.port, &t).unwrap(),
            Outcome { tls: false, status: "OL".into() },
            "{a:?}"
        );
        // And with TLS off nothing is attempted.
        assert!(!run(a, "127.0.0.1", s.port, &TlsOptions::default()).unwrap().tls);
    }
}

#[test]
fn client_certificate_is_presented_when_required() {
    let ca = data("ca.pem");
    let s = our_upsd(&format!(
        "CERTFILE {}\nCERTPATH {}\nCERTREQUEST REQUIRE\n",
        data("upsd-certfile.pem").display(),
        ca.display()
    ));
    for a in ADAPTERS {
        let t = TlsOptions::require().ca_path(&ca);
        let good = t.clone().client_cert(data("client.pem"), data("client-key.pem"));
        assert_eq!(run(a, "127.0.0.1", s.port, &good).unwrap(), over_tls(), "{a:?}");
        // No certificate, or one from a CA upsd does not trust: refused,
        // reported as such (TLS 1.3 reports it on the first read).
        let rogue = t.clone().client_cert(data("rogue-client.pem"), data("rogue-client-key.pem"));
        for bad in [t, rogue] {
            let e = tls_error(run(a, "127.0.0.1", s.port, &bad));
            assert!(matches!(e, TlsError::ClientCertRejected(_)), "{a:?}: {e}");
        }
    }
}

#[test]
fn unreadable_files_fail_before_connecting() {
    for a in ADAPTERS {
        // Port 9 (discard) is never contacted: the options fail first.
        let t = TlsOptions::require().client_cert(data("missing.pem"), data("client-key.pem"));
        let e = tls_error(run(a, "127.0.0.1", 9, &t.ca_path(data("ca.pem"))));
        assert!(matches!(&e, TlsError::Config(m) if m.contains("missing.pem")), "{a:?}: {e}");
    }
}

/// An NSS tool (package libnss3-tools), needed to build Debian's upsd's
/// certificate database.
fn nss_tool(name: &str) -> PathBuf {
    let p = PathBuf::from("/usr/bin").join(name);
    assert!(
        p.is_file(),
        "`{name}` is missing: install libnss3-tools (scripts/test.sh does it when run as root)"
    );
    p
}

/// Debian's upsd (NSS build) with `server.p12` in a fresh NSS database.
/// (Debian's 2.8.0 is built without client
/// certificate validation: it rejects `CERTREQUEST` as an invalid
/// directive, so client certificates are tested against our upsd only.)
fn debian_upsd() -> (nut_testkit::TempDir, NutServer) {
    let db = nut_testkit::temp_dir();
    let sql = format!("sql:{}", db.path().display());
    let ok = |cmd: &mut std::process::Command| {
        let out = cmd.output().expect("run an NSS tool");
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    ok(std::process::Command::new(nss_tool("certutil")).args([
        "-N",
        "-d",
        &sql,
        "--empty-password",
    ]));
    ok(std::process::Command::new(nss_tool("pk12util"))
        .args(["-i"])
        .arg(data("server.p12"))
        .args(["-d", &sql, "-W", "testpass"]));
    let conf = format!("CERTPATH {}\nCERTIDENT nut-test-server \"\"\n", db.path().display());
    let server = NutServer::start(
        &nut_testkit::peer("upsd"),
        NutConfig {
            ups_conf: "[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n",
            users: "",
            upsd_conf_extra: &conf,
            files: &[("dummy.dev", "ups.status: OL\nbattery.charge: 100\n")],
            wait_for: &["dummy"],
        },
    );
    (db, server)
}

#[test]
fn debian_upsd_nss_starttls() {
    let (_db, s) = debian_upsd();
    for a in ADAPTERS {
        let t = TlsOptions::require().ca_path(data("ca.pem"));
        assert_eq!(run(a, "127.0.0.1", s.port, &t).unwrap(), over_tls(), "{a:?}");
        assert_eq!(run(a, "localhost", s.port, &t).unwrap(), over_tls(), "{a:?}");
        let e = tls_error(run(
            a,
            "127.0.0.1",
            s.port,
            &TlsOptions::require().ca_path(data("other-ca.pem")),
        ));
        assert!(matches!(e, TlsError::Untrusted(_)), "{a:?}: {e}");
        let t = TlsOptions::require().ca_path(data("ca.pem")).server_name("ups.example.org");
        let e = tls_error(run(a, "127.0.0.1", s.port, &t));
        assert!(matches!(e, TlsError::NameMismatch { .. }), "{a:?}: {e}");
    }
}

/// A one-connection fake server: answers the n-th line it reads with
/// `answers[n]`, then reads until the client goes away; returns what it read.
fn fake_server(answers: &'static [&'static [u8]]) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut got = Vec::new();
        for answer in answers {
            if r.read_until(b'\n', &mut got).unwrap_or(0) == 0 {
                return got;
            }
            (&s).write_all(answer).unwrap();
        }
        let _ = r.read_to_end(&mut got);
        got
    });
    (port, h)
}

#[test]
fn plaintext_after_ok_starttls_ends_the_connection() {
    for a in ADAPTERS {
        // Half a line injected after the OK: caught before the handshake.
        let (port, h) = fake_server(&[b"OK STARTTLS\nVAR dummy ups.status \"O"]);
        let e = tls_error(run(a, "127.0.0.1", port, &TlsOptions::require().verify(false)));
        assert_eq!(e, TlsError::PlaintextAfterStartTls, "{a:?}");
        assert_eq!(h.join().unwrap(), b"STARTTLS\n", "{a:?}: nothing else sent");
        // A whole line: the session reports it as unsolicited.
        let (port, h) = fake_server(&[b"OK STARTTLS\nVAR dummy ups.status \"OL\"\n"]);
        let r = run(a, "127.0.0.1", port, &TlsOptions::opportunistic().verify(false));
        assert!(
            matches!(r, Err(ClientError::Protocol(nut_client::ProtocolError::Unsolicited { .. }))),
            "{a:?}: {r:?}"
        );
        assert_eq!(h.join().unwrap(), b"STARTTLS\n", "{a:?}: nothing else sent");
    }
}

#[test]
fn opportunistic_falls_back_on_any_err_but_not_on_other_lines() {
    for a in ADAPTERS {
        // An old server: STARTTLS unknown. Plaintext follows.
        let (port, h) = fake_server(&[
            b"ERR UNKNOWN-COMMAND\n",
            b"BEGIN LIST VAR dummy\nEND LIST VAR dummy\n",
            b"OK Goodbye\n",
        ]);
        let t = TlsOptions::opportunistic().ca_path(data("ca.pem"));
        assert_eq!(
            run(a, "127.0.0.1", port, &t).unwrap(),
            Outcome { tls: false, status: String::new() },
            "{a:?}"
        );
        assert_eq!(h.join().unwrap(), b"STARTTLS\nLIST VAR dummy\nLOGOUT\n", "{a:?}");
        // Not an answer to STARTTLS at all (C9): the connection ends.
        let (port, h) = fake_server(&[b"OK\n"]);
        let r = run(a, "127.0.0.1", port, &t);
        assert!(
            matches!(r, Err(ClientError::Protocol(nut_client::ProtocolError::Unexpected { .. }))),
            "{a:?}: {r:?}"
        );
        assert_eq!(h.join().unwrap(), b"STARTTLS\n", "{a:?}");
    }
}
