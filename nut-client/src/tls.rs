//! STARTTLS options (feature `tls`): when to upgrade a connection, how to
//! check the server's certificate, which client certificate to present.
//!
//! NUT has no TLS port: the client sends `STARTTLS` on the plaintext
//! connection, the server answers `OK STARTTLS`, and the TLS handshake
//! starts on the same socket. Both adapters do this when
//! [`ConnectOptions::with_tls`](crate::io::ConnectOptions::with_tls) asks
//! for it, with [rustls](https://docs.rs/rustls) and its `ring` provider.
//!
//! | NUT (`upsmon.conf`, `upscli_connect` flags) | here |
//! |---|---|
//! | `FORCESSL 1`, `UPSCLI_CONN_REQSSL` | [`TlsOptions::require`] |
//! | `UPSCLI_CONN_TRYSSL` (upsmon's default, `upsc`) | [`TlsOptions::opportunistic`] |
//! | `CERTVERIFY 0` (NUT's default) | [`TlsOptions::verify`]`(false)` |
//! | `CERTVERIFY 1` | `verify(true)` (our default) |
//! | `CERTPATH` (OpenSSL: CA file or directory) | [`TlsOptions::ca_path`] |
//! | `CERTHOST <host> <name> …` | [`TlsOptions::server_name`] |
//! | `CERTFILE` (HEAD upsmon), `CERTIDENT` (NSS) | [`TlsOptions::client_cert`] |
//!
//! NUT ends the connection when `CERTVERIFY 1` is set and the server
//! refuses STARTTLS, even without `FORCESSL`; map that to
//! [`TlsOptions::require`].

// Without an adapter, nothing connects: only the options are used.
#![cfg_attr(not(any(feature = "blocking", feature = "tokio")), allow(dead_code))]

use crate::error::TlsError;
use nut_proto::net::ErrCode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// When to send `STARTTLS`, and what a refusal means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsMode {
    /// Plaintext; `STARTTLS` is never sent (the default).
    #[default]
    Off,
    /// Send `STARTTLS`; if the server answers with an `ERR` (it has no
    /// certificate, or no TLS at all), go on in plaintext. A failure after
    /// `OK STARTTLS` (untrusted certificate, handshake error) still ends the
    /// connection. Opportunistic, so an active attacker can strip it: use
    /// [`TlsMode::Require`] where that matters.
    Try,
    /// Send `STARTTLS`; any refusal or failure ends the connection with a
    /// [`TlsError`].
    Require,
}

/// TLS settings of a connection (see the [module docs](self) for NUT's
/// equivalents). Built with [`TlsOptions::require`] or
/// [`TlsOptions::opportunistic`] and the builder methods.
///
/// ```
/// use nut_client::tls::{TlsMode, TlsOptions};
/// let t = TlsOptions::require()
///     .ca_path("/etc/nut/ca.pem")
///     .server_name("ups-server.example")
///     .client_cert("/etc/nut/upsmon.pem", "/etc/nut/upsmon-key.pem");
/// assert_eq!(t.mode, TlsMode::Require);
/// assert!(t.verify);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    /// When to use TLS.
    pub mode: TlsMode,
    /// Verify the server's certificate (default `true`). `false` accepts
    /// any certificate, as NUT's `CERTVERIFY 0`: the connection is then
    /// encrypted but not authenticated.
    pub verify: bool,
    /// A PEM file, or a directory of PEM files, with the CA certificates to
    /// trust; `None` uses the system's trust store.
    pub ca_path: Option<PathBuf>,
    /// The name the server's certificate must carry; `None` uses the host
    /// name or IP address connected to.
    pub server_name: Option<String>,
    /// A client certificate chain and its private key (PEM files; they may
    /// be the same file), presented when the server asks for one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions::new(TlsMode::Off)
    }
}

impl TlsOptions {
    /// Options with the given mode, verification on, system roots.
    pub fn new(mode: TlsMode) -> Self {
        TlsOptions { mode, verify: true, ca_path: None, server_name: None, client_cert: None }
    }

    /// TLS is mandatory ([`TlsMode::Require`]).
    pub fn require() -> Self {
        TlsOptions::new(TlsMode::Require)
    }

    /// TLS if the server offers it, else plaintext ([`TlsMode::Try`]).
    pub fn opportunistic() -> Self {
        TlsOptions::new(TlsMode::Try)
    }

    /// Trust the CA certificates in this PEM file or directory of PEM
    /// files instead of the system's trust store.
    pub fn ca_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_path = Some(path.into());
        self
    }

    /// Whether to verify the server's certificate. `false` is dangerous:
    /// anyone on the path can impersonate the server.
    pub fn verify(mut self, on: bool) -> Self {
        self.verify = on;
        self
    }

    /// The name to check the server's certificate against (NUT's
    /// `CERTHOST`), instead of the host connected to.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Present this certificate chain and key (PEM) when asked.
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some((cert.into(), key.into()));
        self
    }

    /// Whether `STARTTLS` is sent at all.
    pub fn is_enabled(&self) -> bool {
        self.mode != TlsMode::Off
    }

    /// Loads the files and builds what a handshake with `host` needs.
    pub(crate) fn prepare(&self, host: &str) -> Result<Prepared, TlsError> {
        let name = self.server_name.as_deref().unwrap_or(host).to_string();
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| TlsError::Config(format!("invalid server name {name:?}")))?;
        Ok(Prepared { config: Arc::new(self.client_config()?), server_name, name })
    }

    /// What a TLS connection to `host` made elsewhere needs (`netxml-ups`
    /// uses it for `https://` cards): the rustls configuration these
    /// options describe (trusted roots, verification, client certificate;
    /// ring provider, TLS 1.2 and 1.3) and the name the server's
    /// certificate must carry ([`TlsOptions::server_name`], else `host`).
    /// [`TlsOptions::mode`] plays no part in it.
    pub fn client_parts(
        &self,
        host: &str,
    ) -> Result<(Arc<ClientConfig>, ServerName<'static>), TlsError> {
        let p = self.prepare(host)?;
        Ok((p.config, p.server_name))
    }

    fn client_config(&self) -> Result<ClientConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = if self.verify {
            builder.with_root_certificates(self.roots()?)
        } else {
            tracing::warn!("server certificate verification is disabled");
            builder
                .dangerous()
                .with_custom_certificate_verifier(accept_any_server_certificate(&provider))
        };
        match &self.client_cert {
            None => Ok(builder.with_no_client_auth()),
            Some((cert, key)) => {
                let chain = read_certs(cert)?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    TlsError::Config(format!("{}: {}", key.display(), pem_error(e)))
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsError::Config(format!("client certificate: {e}")))
            }
        }
    }

    fn roots(&self) -> Result<RootCertStore, TlsError> {
        let mut roots = RootCertStore::empty();
        match &self.ca_path {
            Some(path) => {
                let files = if path.is_dir() {
                    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
                        .map_err(|e| TlsError::Config(format!("{}: {e}", path.display())))?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.is_file())
                        .collect();
                    v.sort();
                    v
                } else {
                    vec![path.clone()]
                };
                for f in &files {
                    // In a directory, files that hold no certificate (keys,
                    // CRLs, notes) are skipped, as OpenSSL's CA path does.
                    match read_certs(f) {
                        Ok(certs) => {
                            roots.add_parsable_certificates(certs);
                        }
                        Err(e) if files.len() == 1 => return Err(e),
                        Err(e) => tracing::debug!(file = %f.display(), error = %e, "skipped"),
                    }
                }
                if roots.is_empty() {
                    return Err(TlsError::Config(format!(
                        "{}: no CA certificate found",
                        path.display()
                    )));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    tracing::debug!(error = %e, "system trust store");
                }
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err(TlsError::Config(
                        "no CA certificate in the system trust store (set a CA path)".into(),
                    ));
                }
            }
        }
        Ok(roots)
    }
}

fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => e.to_string(),
        rustls::pki_types::pem::Error::NoItemsFound => "no PEM item of the expected kind".into(),
        e => format!("bad PEM: {e:?}"),
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |e| TlsError::Config(format!("{}: {}", path.display(), pem_error(e)));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(bad)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    if certs.is_empty() {
        return Err(TlsError::Config(format!("{}: no certificate", path.display())));
    }
    Ok(certs)
}

/// A loaded configuration and the name to check, ready for a handshake.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) server_name: ServerName<'static>,
    /// The name checked, for messages.
    pub(crate) name: String,
}

/// What to do after the server refused `STARTTLS` with `code`: go on in
/// plaintext (`Ok`) or fail.
pub(crate) fn after_refusal(mode: TlsMode, code: ErrCode<'static>) -> Result<(), TlsError> {
    match mode {
        TlsMode::Try => {
            tracing::debug!(%code, "server refused STARTTLS; continuing in plaintext");
            Ok(())
        }
        _ => Err(TlsError::NotSupported(code)),
    }
}

/// The TLS cause inside an I/O error from rustls or tokio-rustls, if any.
pub(crate) fn cause(e: &io::Error, name: &str) -> Option<TlsError> {
    let inner = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(classify(inner, name))
}

/// Sorts a rustls error into the [`TlsError`] kinds.
pub(crate) fn classify(e: &rustls::Error, name: &str) -> TlsError {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsError::NameMismatch { name: name.to_string(), detail: e.to_string() }
            }
            _ => TlsError::Untrusted(e.to_string()),
        },
        rustls::Error::AlertReceived(
            a @ (A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::AccessDenied),
        ) => TlsError::ClientCertRejected(format!("alert {a:?}")),
        _ => TlsError::Handshake(e.to_string()),
    }
}

/// The verifier behind `verify(false)` (NUT's `CERTVERIFY 0`), for tools
/// that must talk to a server whatever certificate it presents (such as a
/// checker that reports it): any server certificate is accepted for any
/// name, while the handshake signatures are still checked with
/// `provider`'s algorithms. The session is encrypted; the server is not
/// authenticated.
pub fn accept_any_server_certificate(
    provider: &rustls::crypto::CryptoProvider,
) -> Arc<dyn ServerCertVerifier> {
    Arc::new(DangerousAcceptAnyServerCertificate {
        algorithms: provider.signature_verification_algorithms,
    })
}

/// The verifier behind `verify(false)` (NUT's `CERTVERIFY 0`): it accepts
/// any server certificate for any name. Handshake signatures are still
/// checked, so the session is encrypted, but the server is not
/// authenticated.
#[derive(Debug)]
struct DangerousAcceptAnyServerCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for DangerousAcceptAnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_falls_back_only_in_try_mode() {
        assert_eq!(after_refusal(TlsMode::Try, ErrCode::FeatureNotConfigured), Ok(()));
        assert_eq!(
            after_refusal(TlsMode::Require, ErrCode::FeatureNotConfigured),
            Err(TlsError::NotSupported(ErrCode::FeatureNotConfigured))
        );
        assert_eq!(
            TlsError::NotSupported(ErrCode::FeatureNotConfigured).to_string(),
            "server does not support STARTTLS (ERR FEATURE-NOT-CONFIGURED)"
        );
    }

    #[test]
    fn errors_are_sorted_by_cause() {
        let e = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert!(matches!(classify(&e, "h"), TlsError::Untrusted(_)));
        let e = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert!(matches!(classify(&e, "h"), TlsError::NameMismatch { name, .. } if name == "h"));
        let e = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert!(matches!(classify(&e, "h"), TlsError::ClientCertRejected(_)));
        let e = rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion);
        assert!(matches!(classify(&e, "h"), TlsError::Handshake(_)));
        let io = io::Error::new(io::ErrorKind::InvalidData, e);
        assert!(matches!(cause(&io, "h"), Some(TlsError::Handshake(_))));
        assert_eq!(cause(&io::ErrorKind::TimedOut.into(), "h"), None);
    }

    #[test]
    fn bad_files_are_config_errors() {
        let t = TlsOptions::require().ca_path("/nonexistent/ca.pem");
        assert!(
            matches!(t.prepare("localhost"), Err(TlsError::Config(m)) if m.contains("/nonexistent/ca.pem"))
        );
        let t = TlsOptions::require().verify(false).server_name("not a name!");
        assert!(matches!(t.prepare("localhost"), Err(TlsError::Config(_))));
        assert!(TlsOptions::opportunistic().verify(false).prepare("::1").is_ok());
    }
}
