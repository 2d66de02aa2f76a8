//! `netxml-ups`: NUT 2.8.0's driver for Eaton/MGE network cards that
//! speak XML over HTTP.
//!
//! The pages, the XML mapping, status and alarms, the SET form, the
//! reading of HTTP answers and authentication are `nut-netxml`'s
//! (sans-IO); this module adds the HTTP client
//! ([`HttpClient`], a small HTTP/1.1 client over `std::net::TcpStream`),
//! the settings ([`Settings`], NUT's options and defaults) and the driver
//! ([`NetxmlUps`], a [`Device`]).
//!
//! The client is written here rather than taken from a crate: the driver
//! needs only `GET` and a form `POST` with a small body, authentication
//! when the card asks for it, a timeout on every socket operation and a
//! cap on what it reads; a general client (`ureq`) brings its own cookie,
//! proxy and redirect stacks. Basic and Digest authentication answer the
//! card's challenge as neon's defaults do ([`nut_netxml::auth`]). An
//! `https://` card is reached through rustls (the configuration is
//! `nut-client`'s [`TlsOptions`]): its certificate must chain to the
//! system's trust store (`SSL_CERT_FILE`/`SSL_CERT_DIR` replace it) and
//! name the host of `port`, as NUT's neon requires.
//!
//! Failures never end the driver once it runs: a card that does not
//! answer makes the data stale and the driver reconnects (connection
//! test, product page) with the core's backoff; a page that fails (HTTP
//! error, malformed or oversized XML) is logged and, when more than one
//! of the three pages of a poll fails, the data is stale.

use nut_client::tls::TlsOptions;
use nut_driver::params::{DriverParams, VarKind, VarSpec};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use nut_netxml::auth::Auth;
use nut_netxml::http::{HttpError, Progress, ResponseReader};
use nut_netxml::{Error as XmlError, Method, Options, Outcome, Request, Session};
use nut_proto::sock::TrackingResult;
use rustls::pki_types::ServerName;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `netxml-ups`'s version, as NUT 2.8.0's.
pub const DRIVER_VERSION: &str = "0.44";

/// Default `timeout` (seconds).
pub const DEFAULT_TIMEOUT: u64 = 5;

/// Default `shutdown_duration` (seconds).
pub const DEFAULT_SHUTDOWN_DURATION: i64 = 120;

const fn sensitive(name: &'static str, desc: &'static str) -> VarSpec {
    VarSpec { name, kind: VarKind::Value, sensitive: true, desc }
}

/// The settings `netxml-ups` accepts beyond the common ones (NUT 2.8.0's).
pub const VARS: &[VarSpec] = &[
    VarSpec::value("timeout", "network timeout (default: 5 seconds)"),
    VarSpec::flag("subscribe", "authenticated subscription on NMC"),
    sensitive("login", "login value for authenticated mode"),
    sensitive("password", "password value for authenticated mode"),
    VarSpec::value("shutdown_duration", "shutdown duration in second (default: 120 seconds)"),
    VarSpec::value("shutdown_timer", "shutdown timer in second (default: none)"),
    VarSpec::flag(
        "do_convert_deci",
        "enable legacy convert_deci() for certain measurements 10x too large",
    ),
];

/// Why the settings are refused (the driver exits with the message).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A number out of range.
    #[error("{0}")]
    Invalid(&'static str),
    /// `port` is not an `http[s]://host[:port]` URL.
    #[error("invalid hostname '{0}'")]
    Port(String),
}

/// Everything `netxml-ups` needs from its settings.
/// Its `Debug` shows no password.
#[derive(Clone)]
pub struct Settings {
    /// The card's host (name or address, IPv6 without brackets).
    pub host: String,
    /// The card's TCP port (80 by default, 443 for https).
    pub tcp_port: u16,
    /// `Some` for an `https://` card: how its certificate is checked
    /// ([`TlsOptions::require`], the system's trust store and the host of
    /// `port`, from [`Settings::from_params`]; its `ca_path`, `verify`,
    /// `server_name` and `client_cert` are honoured, its `mode` is not).
    pub tls: Option<TlsOptions>,
    /// `timeout`: connect, read and write timeout of every request.
    pub timeout: Duration,
    /// `login` and `password`, for HTTP Basic or Digest authentication.
    pub credentials: (String, String),
    /// `do_convert_deci`, `shutdown_duration`.
    pub options: Options,
    /// `shutdown_timer` (0: none).
    pub shutdown_timer: i64,
    /// `subscribe` (accepted; the driver polls).
    pub subscribe: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("tcp_port", &self.tcp_port)
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .field("login", &self.credentials.0)
            .field("options", &self.options)
            .field("shutdown_timer", &self.shutdown_timer)
            .field("subscribe", &self.subscribe)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("https", &self.tls.is_some())
            .field("timeout", &self.timeout)
            .field("login", &self.credentials.0)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads and checks the settings.
    pub fn from_params(params: &DriverParams) -> Result<Self, SettingsError> {
        let port = params.port.clone().unwrap_or_default();
        let url = parse_url(&port)?;
        let atoi = nut_netxml::map::atoi;
        let timeout = params.get("timeout").map_or(DEFAULT_TIMEOUT as i32, atoi);
        if timeout < 1 {
            return Err(SettingsError::Invalid("timeout must be greater than 0"));
        }
        let duration = params
            .get("shutdown_duration")
            .map_or(DEFAULT_SHUTDOWN_DURATION, |v| i64::from(atoi(v)));
        if duration < 0 {
            return Err(SettingsError::Invalid(
                "shutdown duration must be greater than or equal to 0",
            ));
        }
        let timer = params.get("shutdown_timer").map_or(0, |v| i64::from(atoi(v)));
        if timer < 0 {
            return Err(SettingsError::Invalid(
                "shutdown timer must be greater than or equal to 0",
            ));
        }
        Ok(Settings {
            host: url.host,
            tcp_port: url.port,
            tls: url.https.then(TlsOptions::require),
            timeout: Duration::from_secs(u64::from(timeout.unsigned_abs())),
            credentials: (
                params.get("login").unwrap_or_default().to_string(),
                params.get("password").unwrap_or_default().to_string(),
            ),
            options: Options {
                convert_deci: params.has("do_convert_deci"),
                shutdown_duration: duration,
            },
            shutdown_timer: timer,
            subscribe: params.has("subscribe"),
        })
    }
}

/// Where the card is: `port` split up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port (the scheme's default when the URL has none).
    pub port: u16,
    /// The scheme is `https`.
    pub https: bool,
}

/// Splits `http[s]://host[:port][/...]` (or `host[:port]`, which is http)
/// into host, port and scheme.
pub fn parse_url(url: &str) -> Result<CardUrl, SettingsError> {
    let bad = || SettingsError::Port(url.to_string());
    let (rest, https) = if let Some(r) = strip_prefix_ci(url, "http://") {
        (r, false)
    } else if let Some(r) = strip_prefix_ci(url, "https://") {
        (r, true)
    } else if url.contains("://") {
        return Err(bad());
    } else {
        (url, false)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let port = match port {
        None | Some("") => default_port(https),
        Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(bad)?,
    };
    Ok(CardUrl { host: host.to_string(), port, https })
}

const fn default_port(https: bool) -> u16 {
    if https { 443 } else { 80 }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len()
        && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()))
    .then(|| &s[prefix.len()..])
}

pub use nut_netxml::http::Response;

/// A minimal HTTP/1.1 client: one connection per request
/// (`Connection: close`), every connect, read and write (and the TLS
/// handshake) bounded by the timeout and the whole request by four times
/// it, bodies capped at [`nut_netxml::MAX_DOCUMENT_BYTES`]. Its `Debug`
/// shows no password.
#[derive(Clone)]
pub struct HttpClient {
    host: String,
    port: u16,
    /// For https: the TLS configuration and the name the card's
    /// certificate must carry, or why they could not be made (reported by
    /// every request).
    tls: Option<Result<(Arc<rustls::ClientConfig>, ServerName<'static>), String>>,
    timeout: Duration,
    credentials: (String, String),
    /// How requests are authenticated since the card's last challenge.
    auth: Option<Auth>,
}

/// A connection to the card.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            // A card that closes without TLS's close_notify ends the
            // stream as a plain close would: a body framed by
            // Content-Length or chunks is still checked to be complete.
            Conn::Tls(s) => match s.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
                r => r,
            },
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

struct Deadline(Instant);

impl Deadline {
    fn check(&self, what: &str) -> Result<(), String> {
        if Instant::now() > self.0 { Err(format!("{what}: request took too long")) } else { Ok(()) }
    }
}

impl HttpClient {
    /// A client for the card in `settings`.
    pub fn new(settings: &Settings) -> Self {
        let tls = settings
            .tls
            .as_ref()
            .map(|t| t.client_parts(&settings.host).map_err(|e| format!("https: {e}")));
        HttpClient {
            host: settings.host.clone(),
            port: settings.tcp_port,
            tls,
            timeout: settings.timeout,
            credentials: settings.credentials.clone(),
            auth: None,
        }
    }

    fn connect(&self) -> Result<Conn, String> {
        let tcp = self.connect_tcp()?;
        let Some(tls) = &self.tls else { return Ok(Conn::Plain(tcp)) };
        let (config, name) = tls.clone()?;
        let conn =
            rustls::ClientConnection::new(config, name).map_err(|e| format!("https: {e}"))?;
        Ok(Conn::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
    }

    fn connect_tcp(&self) -> Result<TcpStream, String> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .collect();
        let mut last = format!("{} resolves to no address", self.host);
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(self.timeout)).map_err(|e| e.to_string())?;
                    s.set_write_timeout(Some(self.timeout)).map_err(|e| e.to_string())?;
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = format!("cannot connect to {a}: {e}"),
            }
        }
        Err(last)
    }

    /// Sends a request and reads the answer. On a 401 whose challenge can
    /// be answered (Digest, else Basic), sends it once more with
    /// `login`/`password`; later requests answer that challenge at once.
    pub fn send(&mut self, req: &Request) -> Result<Response, XmlError> {
        let resp = self.send_once(req)?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let challenges: Vec<_> =
            resp.challenges.iter().flat_map(|h| nut_netxml::auth::parse_challenges(h)).collect();
        let (user, password) = &self.credentials;
        match Auth::choose(&challenges, user, password) {
            Some(auth) => {
                self.auth = Some(auth);
                self.send_once(req)
            }
            None => Ok(resp),
        }
    }

    fn send_once(&mut self, req: &Request) -> Result<Response, XmlError> {
        let transport = |reason: String| XmlError::Transport { url: req.path.clone(), reason };
        let deadline = Deadline(Instant::now() + self.timeout * 4);
        let mut s = self.connect().map_err(transport)?;
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let method = match req.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let mut head = format!(
            "{method} {} HTTP/1.1\r\nHost: {}{}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: close\r\n",
            req.path,
            host,
            if self.port == default_port(self.tls.is_some()) {
                String::new()
            } else {
                format!(":{}", self.port)
            },
            nut_netxml::VERSION,
        );
        if let Some(auth) = &mut self.auth {
            let value = auth.authorization(method, &req.path, &client_nonce());
            head.push_str(&format!("Authorization: {value}\r\n"));
        }
        if let Some(ct) = req.content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        if req.method == Method::Post {
            head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&req.body);
        s.write_all(&out)
            .and_then(|()| s.flush())
            .map_err(|e| transport(format!("send failed: {e}")))?;
        self.read_response(&mut s, &req.path, &deadline)
    }

    fn read_response(
        &self,
        s: &mut Conn,
        url: &str,
        deadline: &Deadline,
    ) -> Result<Response, XmlError> {
        let transport = |reason: String| XmlError::Transport { url: url.to_string(), reason };
        let limit = nut_netxml::MAX_DOCUMENT_BYTES;
        let fail = |e: HttpError| match e {
            HttpError::TooLarge { size, limit } => {
                XmlError::TooLarge { url: url.to_string(), size, limit }
            }
            e => transport(e.to_string()),
        };
        let mut reader = ResponseReader::new(limit);
        let mut chunk = [0u8; 8192];
        loop {
            deadline.check(url).map_err(transport)?;
            let n = s.read(&mut chunk).map_err(|e| transport(format!("read failed: {e}")))?;
            if n == 0 {
                return reader.finish().map_err(fail);
            }
            if let Progress::Done(r) = reader.push(&chunk[..n]).map_err(fail)? {
                return Ok(r);
            }
        }
    }
}

/// A Digest client nonce: 64 bits from the standard library's randomly
/// keyed SipHash (keys from the operating system), in hex.
fn client_nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Every RandomState has keys of its own.
    let h = std::collections::hash_map::RandomState::new().build_hasher();
    format!("{:016x}", h.finish())
}

/// The `netxml-ups` device.
pub struct NetxmlUps {
    settings: Settings,
    http: HttpClient,
    session: Session,
    kill_power: bool,
}

impl NetxmlUps {
    /// A device for these settings (not yet connected).
    pub fn new(settings: Settings, kill_power: bool) -> Self {
        let http = HttpClient::new(&settings);
        let session = Session::new(settings.options.clone());
        NetxmlUps { settings, http, session, kill_power }
    }

    /// Runs the session's requests until it ends the connect or update.
    fn drive(&mut self, st: &mut Dstate, now: Instant) -> Option<Outcome> {
        while let Some(req) = self.session.poll_request() {
            tracing::debug!("GET {}", req.path);
            match self.http.send(&req) {
                Ok(r) => self.session.handle_response(r.status, &r.body, now, st),
                Err(e) => self.session.handle_error(e, now, st),
            }
        }
        self.session.poll_outcome()
    }

    fn post(&mut self, req: &Request) -> Result<(), XmlError> {
        let r = self.http.send(req)?;
        if (200..300).contains(&r.status) {
            Ok(())
        } else {
            Err(XmlError::Http { url: req.path.clone(), status: r.status })
        }
    }
}

fn all_transport(errors: &[XmlError]) -> bool {
    errors.iter().all(|e| matches!(e, XmlError::Transport { .. }))
}

impl Device for NetxmlUps {
    fn connect(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        if self.kill_power {
            // -k: only the connection test, as NUT
            let r = self.http.send(&Request {
                method: Method::Get,
                path: nut_netxml::CONNECTIVITY_PAGE.into(),
                content_type: None,
                body: Vec::new(),
            });
            return match r {
                Ok(r) if (200..300).contains(&r.status) => Ok(()),
                Ok(r) => Err(DeviceError::disconnected(Message::cause(format!(
                    "Connectivity test: HTTP status {}",
                    r.status
                )))),
                Err(e) => Err(DeviceError::disconnected(e)),
            };
        }
        if self.settings.subscribe {
            tracing::warn!("subscribe: the alarm channel is not implemented; polling instead");
        }
        self.session.connect();
        match self.drive(st, now) {
            Some(Outcome::Connected) => {
                tracing::info!(
                    "Connectivity test: OK; product page {}",
                    self.session.product_page().unwrap_or("?")
                );
                Ok(())
            }
            Some(Outcome::Failed(e @ XmlError::UnsupportedProtocol { .. })) => {
                Err(DeviceError::fatal(e))
            }
            Some(Outcome::Failed(e)) => Err(DeviceError::disconnected(e)),
            other => Err(DeviceError::disconnected(Message::cause(format!(
                "unexpected end of the connect: {other:?}"
            )))),
        }
    }

    fn update(
        &mut self,
        st: &mut Dstate,
        _kind: UpdateKind,
        now: Instant,
    ) -> Result<(), DeviceError> {
        self.session.update();
        match self.drive(st, now) {
            Some(Outcome::Updated { errors }) => {
                for e in errors {
                    tracing::warn!("{e}");
                }
                Ok(())
            }
            Some(Outcome::Stale { errors }) => {
                let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                if all_transport(&errors) {
                    Err(DeviceError::disconnected(Message::cause(text)))
                } else {
                    Err(DeviceError::stale(Message::cause(text)))
                }
            }
            other => Err(DeviceError::stale(Message::cause(format!(
                "unexpected end of the update: {other:?}"
            )))),
        }
    }

    fn setvar(
        &mut self,
        _st: &mut Dstate,
        var: &str,
        value: &str,
        _now: Instant,
    ) -> TrackingResult {
        let Some(req) = self.session.set_request(var, value) else {
            return TrackingResult::Unknown;
        };
        match self.post(&req) {
            Ok(()) => TrackingResult::Handled,
            Err(e) => {
                tracing::warn!("SET {var}: {e}");
                TrackingResult::Failed
            }
        }
    }

    fn shutdown(&mut self, _st: &mut Dstate, _now: Instant) -> Result<(), DeviceError> {
        let req = self.session.shutdown_request();
        self.post(&req)
            .map_err(|e| DeviceError::fatal(Message::cause(format!("Shutdown failed: {e}"))))
    }
}

mod program {
    use super::*;
    use nut_driver::run::{DriverProgram, Env};

    /// `netxml-ups` as a driver program.
    #[derive(Debug)]
    pub struct NetxmlUpsDriver;

    impl DriverProgram for NetxmlUpsDriver {
        type Device = NetxmlUps;
        const NAME: &'static str = "netxml-ups";
        const DESCRIPTION: &'static str = "network XML UPS";
        const VERSION: &'static str = DRIVER_VERSION;
        const OPTIONS: &'static [VarSpec] = VARS;

        fn create(params: &DriverParams, env: &Env) -> Result<Self::Device, DeviceError> {
            let settings = Settings::from_params(params).map_err(DeviceError::fatal)?;
            Ok(NetxmlUps::new(settings, env.kill_power))
        }
    }
}

pub use program::NetxmlUpsDriver;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url = |host: &str, port, https| CardUrl { host: host.into(), port, https };
        assert_eq!(parse_url("http://10.0.0.1").unwrap(), url("10.0.0.1", 80, false));
        assert_eq!(parse_url("HTTP://card:8080/").unwrap(), url("card", 8080, false));
        assert_eq!(parse_url("http://[::1]:81").unwrap(), url("::1", 81, false));
        assert_eq!(parse_url("card").unwrap(), url("card", 80, false));
        assert_eq!(parse_url("https://card").unwrap(), url("card", 443, true));
        assert_eq!(parse_url("HTTPS://[::1]:8443/x").unwrap(), url("::1", 8443, true));
        for bad in ["", "http://", "http://a:0", "http://a:x", "ftp://a", "http://[::1"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
