//! `netxml-ups`: NUT 2.8.0's driver for Eaton/MGE network cards that
//! speak XML over HTTP.
//!
//! The pages, the XML mapping, status and alarms, and the SET form are
//! `nut-netxml`'s (sans-IO); this module adds the HTTP client
//! ([`HttpClient`], a small HTTP/1.1 client over `std::net::TcpStream`),
//! the settings ([`Settings`], NUT's options and defaults) and the driver
//! ([`NetxmlUps`], a [`Device`]).
//!
//! The client is written here rather than taken from a crate: the driver
//! needs only `GET` and a form `POST` with a small body, HTTP Basic
//! authentication when the card asks for it, a timeout on every socket
//! operation and a cap on what it reads. About 200 lines do that with no
//! new dependency; a general client (`ureq`) brings its own TLS, cookie,
//! proxy and redirect stacks. `https://` URLs are refused at start-up
//! (NUT 2.8.0 accepts them through neon); Digest authentication is not
//! supported.
//!
//! Failures never end the driver once it runs: a card that does not
//! answer makes the data stale and the driver reconnects (connection
//! test, product page) with the core's backoff; a page that fails (HTTP
//! error, malformed or oversized XML) is logged and, when more than one
//! of the three pages of a poll fails, the data is stale.

use nut_driver::params::{DriverParams, VarKind, VarSpec};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use nut_netxml::{Error as XmlError, Method, Options, Outcome, Request, Session};
use nut_proto::sock::TrackingResult;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// `netxml-ups`'s version, as NUT 2.8.0's.
pub const DRIVER_VERSION: &str = "0.44";

/// Default `timeout` (seconds).
pub const DEFAULT_TIMEOUT: u64 = 5;

/// Default `shutdown_duration` (seconds).
pub const DEFAULT_SHUTDOWN_DURATION: i64 = 120;

/// The largest response header block read, in bytes.
const MAX_HEADER_BYTES: usize = 16 * 1024;

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
    /// `port` is not an `http://host[:port]` URL.
    #[error("invalid hostname '{0}'")]
    Port(String),
    /// `port` is an `https://` URL.
    #[error("{0}: https is not supported by this driver (use http)")]
    Https(String),
}

/// Everything `netxml-ups` needs from its settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The card's host (name or address, IPv6 without brackets).
    pub host: String,
    /// The card's TCP port (80 by default).
    pub tcp_port: u16,
    /// `timeout`: connect, read and write timeout of every request.
    pub timeout: Duration,
    /// `login` and `password` for HTTP Basic authentication.
    pub credentials: (String, String),
    /// `do_convert_deci`, `shutdown_duration`.
    pub options: Options,
    /// `shutdown_timer` (0: none).
    pub shutdown_timer: i64,
    /// `subscribe` (accepted; the driver polls).
    pub subscribe: bool,
}

impl Settings {
    /// Reads and checks the settings.
    pub fn from_params(params: &DriverParams) -> Result<Self, SettingsError> {
        let port = params.port.clone().unwrap_or_default();
        let (host, tcp_port) = parse_url(&port)?;
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
            host,
            tcp_port,
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

/// Splits `http://host[:port][/...]` (or `host[:port]`) into host and
/// port.
pub fn parse_url(url: &str) -> Result<(String, u16), SettingsError> {
    let bad = || SettingsError::Port(url.to_string());
    let rest = if let Some(r) = strip_prefix_ci(url, "http://") {
        r
    } else if strip_prefix_ci(url, "https://").is_some() {
        return Err(SettingsError::Https(url.to_string()));
    } else if url.contains("://") {
        return Err(bad());
    } else {
        url
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
        None | Some("") => 80,
        Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(bad)?,
    };
    Ok((host.to_string(), port))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len()
        && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes()))
    .then(|| &s[prefix.len()..])
}

/// An HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body (chunked transfer decoded).
    pub body: Vec<u8>,
}

/// A minimal HTTP/1.1 client: one connection per request
/// (`Connection: close`), every connect, read and write bounded by the
/// timeout and the whole request by four times it, bodies capped at
/// [`nut_netxml::MAX_DOCUMENT_BYTES`].
#[derive(Clone, Debug)]
pub struct HttpClient {
    host: String,
    port: u16,
    timeout: Duration,
    credentials: (String, String),
    /// Send credentials without waiting for a 401 (set after the first
    /// challenge).
    send_auth: bool,
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in input.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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
        HttpClient {
            host: settings.host.clone(),
            port: settings.tcp_port,
            timeout: settings.timeout,
            credentials: settings.credentials.clone(),
            send_auth: false,
        }
    }

    fn connect(&self) -> Result<TcpStream, String> {
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

    /// Sends a request and reads the answer; on a 401 with a Basic
    /// challenge, sends it again with `login`/`password`.
    pub fn send(&mut self, req: &Request) -> Result<Response, XmlError> {
        let resp = self.send_once(req, self.send_auth)?;
        if resp.status == 401 && !self.send_auth {
            self.send_auth = true;
            return self.send_once(req, true);
        }
        Ok(resp)
    }

    fn send_once(&self, req: &Request, auth: bool) -> Result<Response, XmlError> {
        let transport = |reason: String| XmlError::Transport { url: req.path.clone(), reason };
        let deadline = Deadline(Instant::now() + self.timeout * 4);
        let mut s = self.connect().map_err(transport)?;
        let host =
            if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}{}\r\nUser-Agent: {}\r\nAccept: */*\r\nConnection: close\r\n",
            match req.method {
                Method::Get => "GET",
                Method::Post => "POST",
            },
            req.path,
            host,
            if self.port == 80 { String::new() } else { format!(":{}", self.port) },
            nut_netxml::VERSION,
        );
        if auth {
            let (l, p) = &self.credentials;
            head.push_str(&format!(
                "Authorization: Basic {}\r\n",
                base64(format!("{l}:{p}").as_bytes())
            ));
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
        s.write_all(&out).map_err(|e| transport(format!("send failed: {e}")))?;
        self.read_response(&mut s, &req.path, &deadline)
    }

    fn read_response(
        &self,
        s: &mut TcpStream,
        url: &str,
        deadline: &Deadline,
    ) -> Result<Response, XmlError> {
        let transport = |reason: String| XmlError::Transport { url: url.to_string(), reason };
        let limit = nut_netxml::MAX_DOCUMENT_BYTES;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        // the header block
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            if buf.len() > MAX_HEADER_BYTES {
                return Err(transport(format!(
                    "response header longer than {MAX_HEADER_BYTES} bytes"
                )));
            }
            deadline.check(url).map_err(transport)?;
            let n = s.read(&mut chunk).map_err(|e| transport(format!("read failed: {e}")))?;
            if n == 0 {
                return Err(transport("connection closed before the response header".into()));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut rest = buf[head_end + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.")
            .and_then(|r| r.get(2..5))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| transport(format!("bad status line {status_line:?}")))?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        for l in lines {
            let Some((k, v)) = l.split_once(':') else { continue };
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length =
                    Some(v.parse().map_err(|_| transport(format!("bad Content-Length {v:?}")))?);
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.to_ascii_lowercase().contains("chunked");
            }
        }
        let too_large = |size: usize| XmlError::TooLarge { url: url.to_string(), size, limit };
        if let Some(n) = length
            && n > limit
            && !chunked
        {
            return Err(too_large(n));
        }
        // read the rest: up to Content-Length, or to the end (chunked
        // bodies are framed by their sizes, but the card closes anyway)
        let want = if chunked { None } else { length };
        loop {
            if want.is_some_and(|w| rest.len() >= w) {
                rest.truncate(want.unwrap_or(0));
                break;
            }
            if rest.len() > limit + 64 * 1024 {
                return Err(too_large(rest.len()));
            }
            if chunked && chunks_complete(&rest) {
                break;
            }
            deadline.check(url).map_err(transport)?;
            let n = s.read(&mut chunk).map_err(|e| transport(format!("read failed: {e}")))?;
            if n == 0 {
                if let Some(w) = want {
                    return Err(transport(format!(
                        "connection closed after {} of {w} body bytes",
                        rest.len()
                    )));
                }
                break;
            }
            rest.extend_from_slice(&chunk[..n]);
        }
        let body = if chunked { dechunk(&rest).map_err(transport)? } else { rest };
        if body.len() > limit {
            return Err(too_large(body.len()));
        }
        Ok(Response { status, body })
    }
}

/// Whether a chunked body is complete (its last, empty chunk has come),
/// walking the chunk sizes without copying.
fn chunks_complete(mut data: &[u8]) -> bool {
    loop {
        let Some(eol) = find(data, b"\r\n") else { return false };
        let text = String::from_utf8_lossy(&data[..eol]);
        let Ok(size) = usize::from_str_radix(text.split(';').next().unwrap_or("").trim(), 16)
        else {
            // malformed: stop reading, dechunk reports it
            return true;
        };
        if size == 0 {
            return true;
        }
        match eol.checked_add(2 + size + 2) {
            Some(next) if next <= data.len() => data = &data[next..],
            _ => return false,
        }
    }
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = find(data, b"\r\n").ok_or("chunked body ends inside a chunk size")?;
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("chunked body ends inside a chunk".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
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
        assert_eq!(parse_url("http://10.0.0.1").unwrap(), ("10.0.0.1".into(), 80));
        assert_eq!(parse_url("HTTP://card:8080/").unwrap(), ("card".into(), 8080));
        assert_eq!(parse_url("http://[::1]:81").unwrap(), ("::1".into(), 81));
        assert_eq!(parse_url("card").unwrap(), ("card".into(), 80));
        assert!(matches!(parse_url("https://card"), Err(SettingsError::Https(_))));
        for bad in ["", "http://", "http://a:0", "http://a:x", "ftp://a", "http://[::1"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_and_chunks() {
        assert_eq!(base64(b"admin:secret"), "YWRtaW46c2VjcmV0");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(dechunk(b"3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"5\r\nab").is_err());
        assert!(chunks_complete(b"0\r\n\r\n"));
        assert!(chunks_complete(b"3\r\nabc\r\n0\r\n"));
        assert!(!chunks_complete(b"3\r\nabc\r\n"));
        assert!(!chunks_complete(b"3\r\nab"));
        assert!(chunks_complete(b"zz\r\n"));
    }
}
