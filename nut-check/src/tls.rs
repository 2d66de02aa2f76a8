//! The TLS probe after `OK STARTTLS`: a rustls handshake that records what
//! the server presents. The certificate is not verified (the checker reports
//! what it sees; trusting it is the administrator's decision), and nothing
//! but `VER` is sent over the session.

use rustls::crypto::ring;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// Runs the handshake on `stream` (just after `OK STARTTLS`), sends `VER`
/// and describes the outcome; `Err` says why it failed.
pub(crate) fn handshake(
    stream: TcpStream,
    host: &str,
    timeout: Duration,
) -> Result<String, String> {
    let provider = Arc::new(ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(nut_client::tls::accept_any_server_certificate(&provider))
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string())
        .unwrap_or_else(|_| ServerName::try_from("localhost").expect("valid name"));
    let conn =
        ClientConnection::new(Arc::new(config), name).map_err(|e| format!("tls setup: {e}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let mut tls = StreamOwned::new(conn, stream);
    tls.write_all(b"VER\n").map_err(|e| format!("handshake failed: {e}"))?;
    tls.flush().map_err(|e| format!("handshake failed: {e}"))?;
    let version = tls.conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default();
    let suite =
        tls.conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
    let certs = tls.conn.peer_certificates().map_or(0, |c| c.len());
    let mut buf = Vec::new();
    let n = BufReader::new(&mut tls)
        .take(4096)
        .read_until(b'\n', &mut buf)
        .map_err(|e| format!("no answer to VER over TLS: {e}"))?;
    if n == 0 {
        return Err("the server closed the TLS session without answering VER".into());
    }
    let line = String::from_utf8_lossy(&buf);
    Ok(format!(
        "{version}, {suite}, {certs} certificate(s) presented (not verified); VER over TLS: {}",
        line.trim_end()
    ))
}
