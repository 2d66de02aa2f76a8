//! `CERTREQUEST` with `CERTPATH` (a PEM file of CA certificates): client
//! certificates checked during STARTTLS. 0 asks for none, 1 asks for one
//! but serves clients without, 2 requires one. A certificate that does
//! not chain to CERTPATH is refused at 1 and 2 (NUT 2.8 accepts it at 1
//! with a warning: docs/COMPATIBILITY.md U11).

mod support;

use nut_testkit::{TempDir, temp_dir};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use support::{Which, World};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, a server certificate for `localhost` signed by it, a client
/// certificate signed by it, and a self-signed client certificate.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = temp_dir();
        let d = dir.path();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=test CA"];
        ca.extend(ec);
        ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
        openssl(&ca, d);
        std::fs::write(
            d.join("server.ext"),
            "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(
            d.join("client.ext"),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        for (name, subj) in [("server", "/CN=localhost"), ("client", "/CN=upsmon")] {
            let mut req = vec!["req", "-new", "-subj", subj];
            req.extend(ec);
            let key = format!("{name}.key");
            let csr = format!("{name}.csr");
            req.extend(["-keyout", &key, "-out", &csr]);
            openssl(&req, d);
            let ext = format!("{name}.ext");
            let pem = format!("{name}.pem");
            openssl(
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-days",
                    "2",
                    "-extfile",
                    &ext,
                    "-out",
                    &pem,
                ],
                d,
            );
        }
        // Self-signed: chains to nothing the server trusts.
        let mut rogue = vec!["req", "-x509", "-days", "2", "-subj", "/CN=rogue"];
        rogue.extend(ec);
        rogue.extend(["-addext", "basicConstraints=CA:FALSE"]);
        rogue.extend(["-addext", "extendedKeyUsage=clientAuth"]);
        rogue.extend(["-keyout", "rogue.key", "-out", "rogue.pem"]);
        openssl(&rogue, d);
        // upsd's CERTFILE: the chain and the key in one file.
        let both = std::fs::read_to_string(d.join("server.pem")).unwrap()
            + &std::fs::read_to_string(d.join("server.key")).unwrap();
        std::fs::write(d.join("upsd.pem"), both).unwrap();
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn upsd_conf(&self, level: u8) -> String {
        format!(
            "CERTFILE {}\nCERTPATH {}\nCERTREQUEST {level}\n",
            self.path("upsd.pem").display(),
            self.path("ca.pem").display()
        )
    }

    fn certs(&self, name: &str) -> Vec<CertificateDer<'static>> {
        let pem = std::fs::read(self.path(name)).unwrap();
        rustls_pemfile::certs(&mut pem.as_slice()).collect::<Result<_, _>>().unwrap()
    }

    fn key(&self, name: &str) -> PrivateKeyDer<'static> {
        let pem = std::fs::read(self.path(name)).unwrap();
        rustls_pemfile::private_key(&mut pem.as_slice()).unwrap().unwrap()
    }

    /// A client trusting the CA, presenting `identity` (`client`, `rogue`)
    /// or no certificate.
    fn client(&self, identity: Option<&str>) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        for c in self.certs("ca.pem") {
            roots.add(c).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let b = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match identity {
            Some(name) => b
                .with_client_auth_cert(
                    self.certs(&format!("{name}.pem")),
                    self.key(&format!("{name}.key")),
                )
                .unwrap(),
            None => b.with_no_client_auth(),
        };
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }
}

/// STARTTLS, the handshake, then one GET VAR over TLS: the reply line, or
/// why there is none.
fn try_tls(port: u16, connector: tokio_rustls::TlsConnector) -> Result<String, String> {
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
                let b = tcp.read_u8().await.map_err(|e| e.to_string())?;
                line.push(b);
            }
            if line != b"OK STARTTLS\n" {
                return Err(format!("STARTTLS got {:?}", String::from_utf8_lossy(&line)));
            }
            let name = ServerName::try_from("localhost").unwrap();
            let mut tls =
                connector.connect(name, tcp).await.map_err(|e| format!("handshake: {e}"))?;
            tls.write_all(b"GET VAR dummy ups.status\n").await.map_err(|e| e.to_string())?;
            let mut got = Vec::new();
            while !got.ends_with(b"\n") {
                let mut buf = [0u8; 256];
                let n = tls.read(&mut buf).await.map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    return Err("closed".into());
                }
                got.extend_from_slice(&buf[..n]);
            }
            Ok(String::from_utf8_lossy(&got).into_owned())
        };
        tokio::time::timeout(Duration::from_secs(10), fut)
            .await
            .unwrap_or_else(|_| Err("timed out".into()))
    })
}

const OL: &str = "VAR dummy ups.status \"OL\"\n";

#[test]
fn certrequest_levels_decide_which_clients_get_through() {
    let pki = Pki::new();

    let w = World::start(Which::Ours, &pki.upsd_conf(0));
    assert_eq!(try_tls(w.port, pki.client(None)).as_deref(), Ok(OL));
    // Not asked for, the client sends no certificate: fine as well.
    assert_eq!(try_tls(w.port, pki.client(Some("client"))).as_deref(), Ok(OL));
    drop(w);

    let w = World::start(Which::Ours, &pki.upsd_conf(1));
    assert_eq!(try_tls(w.port, pki.client(None)).as_deref(), Ok(OL));
    assert_eq!(try_tls(w.port, pki.client(Some("client"))).as_deref(), Ok(OL));
    let r = try_tls(w.port, pki.client(Some("rogue")));
    assert!(r.is_err(), "an untrusted certificate was accepted: {r:?}");
    // The server goes on serving.
    assert_eq!(w.ask("GET VAR dummy ups.status").as_deref(), Some(OL.trim_end()));
    drop(w);

    let w = World::start(Which::Ours, &pki.upsd_conf(2));
    let r = try_tls(w.port, pki.client(None));
    assert!(r.is_err(), "a client without a certificate was accepted: {r:?}");
    let r = try_tls(w.port, pki.client(Some("rogue")));
    assert!(r.is_err(), "an untrusted certificate was accepted: {r:?}");
    assert_eq!(try_tls(w.port, pki.client(Some("client"))).as_deref(), Ok(OL));
    // Plain clients are still served (TLS is optional in NUT's protocol).
    assert_eq!(w.ask("GET VAR dummy ups.status").as_deref(), Some(OL.trim_end()));
}

#[test]
fn certrequest_without_certpath_is_a_clear_startup_error() {
    let pki = Pki::new();
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("upsd.conf"),
        format!(
            "LISTEN 127.0.0.1 {}\nCERTFILE {}\nCERTREQUEST 2\n",
            nut_testkit::free_port(),
            pki.path("upsd.pem").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("ups.conf"), support::UPS_CONF).unwrap();
    let err = support::refused_start(dir.path());
    assert!(err.contains("CERTREQUEST needs CERTPATH"), "{err}");
}
