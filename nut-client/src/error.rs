//! Error types, one per layer.

use nut_proto::net::{ErrCode, ReplyError};
use std::io;

/// A reply that does not fit the request it answers. Produced by the
/// sans-IO [`Session`](crate::Session) and the [operations](crate::ops);
/// carries no I/O error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A reply line was longer than the configured maximum; it was skipped.
    #[error("reply line longer than {max} bytes")]
    LineTooLong {
        /// The configured maximum ([`Limits::max_line`](crate::Limits)).
        max: usize,
    },
    /// A reply line starting with a known keyword did not have its shape.
    #[error("malformed reply {line:?}: {error}")]
    Malformed {
        /// Why it did not parse.
        error: ReplyError,
        /// The line (lossy UTF-8, cut to 200 bytes).
        line: String,
    },
    /// A well-formed reply of the wrong kind for the request (or for
    /// another UPS or variable than the one asked about).
    #[error("unexpected reply {got:?}, expected {expected}")]
    Unexpected {
        /// What the request called for.
        expected: &'static str,
        /// The reply received (cut to 200 bytes).
        got: String,
    },
    /// A list held more rows (or bytes) than the configured limits; the
    /// rest was skipped.
    #[error("list longer than {max_rows} rows or {max_bytes} bytes")]
    ListTooLong {
        /// [`Limits::max_list_rows`](crate::Limits).
        max_rows: usize,
        /// [`Limits::max_list_bytes`](crate::Limits).
        max_bytes: usize,
    },
    /// Reply lines arrived while no request was waiting for one.
    #[error("{count} reply line(s) arrived with no request pending")]
    Unsolicited {
        /// How many lines.
        count: usize,
    },
}

/// The connection failed or closed. Only the I/O adapters produce these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The host name could not be resolved.
    #[error("no such host {host:?}")]
    NoSuchHost {
        /// The name that was looked up.
        host: String,
    },
    /// Every address of the host refused or timed out.
    #[error("connection to {server} failed: {source}")]
    Connect {
        /// The server connected to, as `host:port`.
        server: String,
        /// The last address's failure.
        #[source]
        source: io::Error,
    },
    /// Reading from the server failed.
    #[error("read error from {server}: {source}")]
    Read {
        /// The server, as `host:port` (`the server` for a client made
        /// with `Client::new` from a stream of the caller's).
        server: String,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// Writing to the server failed.
    #[error("write error to {server}: {source}")]
    Write {
        /// The server, as in [`Read`](Self::Read).
        server: String,
        /// The failure.
        #[source]
        source: io::Error,
    },
    /// The server did not answer within the I/O timeout.
    #[error("timed out waiting for {server}")]
    Timeout {
        /// The server, as in [`Read`](Self::Read).
        server: String,
    },
    /// The server closed the connection.
    #[error("{server} closed the connection")]
    Closed {
        /// The server, as in [`Read`](Self::Read).
        server: String,
    },
    /// An earlier transport or framing failure left the connection unusable
    /// (requests may be half answered); reconnect.
    #[error("connection to {server} unusable after an earlier failure")]
    Broken {
        /// The server, as in [`Read`](Self::Read).
        server: String,
    },
    /// TLS could not be set up, or failed later (never followed by a
    /// silent fallback to plaintext).
    #[error("tls: {0}")]
    Tls(#[from] TlsError),
}

/// Why STARTTLS or the TLS session failed. Produced by the I/O adapters
/// (feature `tls`); causes from rustls are kept as text so that this type
/// does not tie the API to one rustls version.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server answered `STARTTLS` with an `ERR` (`FEATURE-NOT-CONFIGURED`:
    /// no certificate configured; `FEATURE-NOT-SUPPORTED`: built without
    /// TLS; `UNKNOWN-COMMAND`: older than STARTTLS) and TLS was required.
    #[error("server does not support STARTTLS (ERR {0})")]
    NotSupported(ErrCode<'static>),
    /// The server's certificate does not chain to a trusted CA, is expired,
    /// not yet valid, revoked or otherwise unacceptable.
    #[error("server certificate not trusted: {0}")]
    Untrusted(String),
    /// The server's certificate is valid but not for the expected name.
    #[error("server certificate is not valid for {name:?}: {detail}")]
    NameMismatch {
        /// The name that was checked (CERTHOST, else the host connected to).
        name: String,
        /// What the certificate is valid for, as rustls reports it.
        detail: String,
    },
    /// The server rejected our client certificate, or required one and
    /// none was configured.
    #[error("client certificate rejected by the server: {0}")]
    ClientCertRejected(String),
    /// The handshake failed for another reason (no common protocol version
    /// or cipher, a peer that does not speak TLS, a fatal alert).
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// Bytes arrived between `OK STARTTLS` and the handshake: they would
    /// be read as if they were protected, so the connection is dropped.
    #[error("unexpected plaintext after OK STARTTLS")]
    PlaintextAfterStartTls,
    /// The TLS options cannot be used: unreadable or empty CA, certificate
    /// or key file, no system roots, an invalid server name.
    #[error("bad tls configuration: {0}")]
    Config(String),
}

/// The caller asked for something that cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// A `ups@host:port` string that does not parse.
    #[error(transparent)]
    Target(#[from] crate::target::TargetError),
    /// An empty UPS, variable or command name.
    #[error("empty {0} name")]
    EmptyName(&'static str),
}

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered `ERR <code>` to `request`.
    ///
    /// Match the code with `ClientError::Server { code: ErrCode::UnknownUps, .. }`
    /// ([`ErrCode`] is re-exported at the crate root).
    #[error("{}", server_message(code, request))]
    Server {
        /// The code.
        code: ErrCode<'static>,
        /// The request it answers, as sent without LF (`PASSWORD`'s
        /// argument redacted), e.g. `GET VAR myups ups.status`.
        request: String,
    },
    /// The server's reply did not fit the request.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The connection failed.
    #[error("transport error: {0}")]
    Transport(#[from] TransportError),
    /// The request was invalid before anything was sent.
    #[error("usage error: {0}")]
    Usage(#[from] UsageError),
    /// A tracked SET or INSTCMD stayed `PENDING` past the timeout.
    #[error("tracking {id} still pending after the timeout")]
    TrackingTimeout {
        /// The tracking id.
        id: String,
    },
}

/// `server error CODE for "REQUEST"`, with a hint where the answer is
/// about rights that NUT's documentation places in `upsd.users`.
fn server_message(code: &ErrCode<'_>, request: &str) -> String {
    let mut m = format!("server error {code} for {request:?}");
    let verb = request.split(' ').next().unwrap_or("").to_ascii_uppercase();
    if *code == ErrCode::AccessDenied {
        let hint = match verb.as_str() {
            "LOGIN" | "ATTACH" => {
                ": LOGIN needs a user with `upsmon primary` or `upsmon secondary` in upsd.users"
            }
            "PRIMARY" | "MASTER" | "FSD" => {
                ": PRIMARY and FSD need a user with `upsmon primary` in upsd.users"
            }
            "SET" => ": SET needs a user with `actions = SET` in upsd.users",
            "INSTCMD" => {
                ": INSTCMD needs the command (or `all`) in the user's `instcmds` in upsd.users"
            }
            _ => "",
        };
        m.push_str(hint);
    } else if *code == ErrCode::UsernameRequired || *code == ErrCode::PasswordRequired {
        m.push_str(": authenticate (USERNAME and PASSWORD) first");
    }
    m
}

impl ClientError {
    /// The server's `ERR` code, if this is a server error.
    pub fn server_code(&self) -> Option<&ErrCode<'static>> {
        match self {
            ClientError::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the connection should be dropped and opened again.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ClientError::Transport(_))
    }
}

impl From<TlsError> for ClientError {
    fn from(e: TlsError) -> Self {
        ClientError::Transport(TransportError::Tls(e))
    }
}

impl From<crate::target::TargetError> for ClientError {
    fn from(e: crate::target::TargetError) -> Self {
        ClientError::Usage(UsageError::Target(e))
    }
}
