//! The blocking adapter: `std::net::TcpStream` (or any `Read + Write`) with
//! timeouts, no async runtime.

use super::{Backoff, ConnectOptions, connection_methods, typed_methods};
use crate::error::{ClientError, TransportError};
use crate::ops::{self, Answer, Operation, Step};
use crate::session::{Event, Response, Session};
use crate::target::HostPort;
use nut_proto::net::Command;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A blocking connection to `upsd`.
#[derive(Debug)]
pub struct Client<S = NetStream> {
    stream: S,
    session: Session,
    broken: bool,
    /// The server, as `host:port`, for error messages.
    server: String,
}

/// The stream of a [`Client::connect`]ed client: TCP, switched to TLS
/// after a successful `STARTTLS` (feature `tls`).
#[derive(Debug)]
pub struct NetStream(Inner);

#[derive(Debug)]
enum Inner {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl NetStream {
    /// A plaintext stream.
    pub fn plain(tcp: TcpStream) -> Self {
        NetStream(Inner::Plain(tcp))
    }

    /// The TCP connection underneath.
    pub fn tcp(&self) -> &TcpStream {
        match &self.0 {
            Inner::Plain(s) => s,
            #[cfg(feature = "tls")]
            Inner::Tls(s) => s.get_ref(),
        }
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self.0, Inner::Plain(_))
    }
}

impl Read for NetStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            Inner::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Inner::Tls(s) => s.read(buf),
        }
    }
}

impl Write for NetStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Inner::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Inner::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Inner::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Inner::Tls(s) => s.flush(),
        }
    }
}

/// Opens a TCP connection to `server`, trying every address it resolves to.
pub fn connect_tcp(server: &HostPort, opts: &ConnectOptions) -> Result<TcpStream, TransportError> {
    let addrs: Vec<_> = (server.host.as_str(), server.port)
        .to_socket_addrs()
        .map_err(|_| TransportError::NoSuchHost { host: server.host.clone() })?
        .collect();
    if addrs.is_empty() {
        return Err(TransportError::NoSuchHost { host: server.host.clone() });
    }
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, opts.connect_timeout) {
            Ok(s) => {
                let t = Some(opts.io_timeout).filter(|d| !d.is_zero());
                let failed =
                    |source| TransportError::Connect { server: server.to_string(), source };
                s.set_read_timeout(t).map_err(failed)?;
                s.set_write_timeout(t).map_err(failed)?;
                let _ = s.set_nodelay(true);
                tracing::debug!(%addr, "connected");
                return Ok(s);
            }
            Err(e) => {
                tracing::debug!(%addr, error = %e, "connect failed");
                last = Some(e);
            }
        }
    }
    Err(TransportError::Connect {
        server: server.to_string(),
        source: last.unwrap_or_else(|| io::ErrorKind::NotFound.into()),
    })
}

impl Client<NetStream> {
    /// Connects to `server`; with TLS options (feature `tls`), sends
    /// `STARTTLS` and completes the handshake first.
    pub fn connect(server: &HostPort, opts: ConnectOptions) -> Result<Self, ClientError> {
        #[cfg(feature = "tls")]
        let tls = match opts.tls.is_enabled() {
            true => Some((opts.tls.mode, opts.tls.prepare(&server.host)?)),
            false => None,
        };
        let client = Client::new(NetStream::plain(connect_tcp(server, &opts)?), opts)
            .with_server_name(server.to_string());
        #[cfg(feature = "tls")]
        if let Some((mode, prepared)) = tls {
            return client.starttls(mode, prepared);
        }
        Ok(client)
    }

    /// `STARTTLS`, then the handshake; `self` unchanged if the server
    /// refused and `mode` allows plaintext.
    #[cfg(feature = "tls")]
    fn starttls(
        mut self,
        mode: crate::tls::TlsMode,
        p: crate::tls::Prepared,
    ) -> Result<Self, ClientError> {
        use crate::error::TlsError;
        use crate::ops::StartTls;
        match self.run(ops::starttls())? {
            StartTls::Refused(code) => {
                crate::tls::after_refusal(mode, code)?;
                return Ok(self);
            }
            StartTls::Accepted => {}
        }
        if self.session.buffered() > 0 {
            return Err(TlsError::PlaintextAfterStartTls.into());
        }
        let Client { stream: NetStream(Inner::Plain(mut tcp)), session, broken, server } = self
        else {
            return Err(TlsError::Handshake("already in TLS".into()).into());
        };
        let mut conn = rustls::ClientConnection::new(p.config, p.server_name)
            .map_err(|e| crate::tls::classify(&e, &p.name))?;
        // Each round is bounded by the read timeout; a handshake takes a
        // few rounds, so many more means a peer that makes no progress.
        for round in 0.. {
            if !conn.is_handshaking() {
                break;
            }
            if round == 32 {
                return Err(TlsError::Handshake("no progress".into()).into());
            }
            conn.complete_io(&mut tcp).map_err(|e| match crate::tls::cause(&e, &p.name) {
                Some(t) => TransportError::Tls(t),
                None if is_timeout(&e) => TransportError::Timeout { server: server.clone() },
                None => TransportError::Tls(TlsError::Handshake(e.to_string())),
            })?;
        }
        tracing::debug!(version = ?conn.protocol_version(), "TLS established");
        let stream = NetStream(Inner::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))));
        Ok(Client { stream, session, broken, server })
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

fn read_error(e: io::Error, server: &str) -> TransportError {
    #[cfg(feature = "tls")]
    if let Some(t) = crate::tls::cause(&e, "") {
        return TransportError::Tls(t);
    }
    match e.kind() {
        _ if is_timeout(&e) => TransportError::Timeout { server: server.into() },
        // A TLS peer that closes without close_notify.
        io::ErrorKind::UnexpectedEof => TransportError::Closed { server: server.into() },
        _ => TransportError::Read { server: server.into(), source: e },
    }
}

fn write_error(e: io::Error, server: &str) -> TransportError {
    #[cfg(feature = "tls")]
    if let Some(t) = crate::tls::cause(&e, "") {
        return TransportError::Tls(t);
    }
    TransportError::Write { server: server.into(), source: e }
}

impl<S: Read + Write> Client<S> {
    /// Wraps an open stream (its timeouts are the caller's business).
    pub fn new(stream: S, opts: ConnectOptions) -> Self {
        Client {
            stream,
            session: Session::new(opts.limits),
            broken: false,
            server: "the server".into(),
        }
    }

    /// Names the server in error messages (`host:port`): `connect` sets
    /// it; a client made with [`new`](Self::new) says `the server`.
    pub fn with_server_name(mut self, server: impl Into<String>) -> Self {
        self.server = server.into();
        self
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Whether an earlier failure left the connection unusable.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Runs an operation to completion.
    pub fn run<O: Operation>(&mut self, mut op: O) -> Result<O::Output, ClientError> {
        let mut answers = Vec::new();
        loop {
            match op.step(std::mem::take(&mut answers), Instant::now()) {
                Step::Done(r) => return r,
                Step::Sleep(d) => std::thread::sleep(d),
                Step::Send(cmds) => answers = self.exchange(&cmds)?,
            }
        }
    }

    /// Sends `cmds` pipelined and returns their answers in order.
    pub fn exchange(&mut self, cmds: &[Command<'_>]) -> Result<Vec<Answer>, ClientError> {
        if self.broken {
            return Err(TransportError::Broken { server: self.server.clone() }.into());
        }
        let r = self.exchange_inner(cmds);
        if r.is_err() {
            self.broken = true;
        }
        r
    }

    fn exchange_inner(&mut self, cmds: &[Command<'_>]) -> Result<Vec<Answer>, ClientError> {
        for c in cmds {
            self.session.send(c);
        }
        let out = self.session.take_transmit();
        self.stream.write_all(&out).map_err(|e| write_error(e, &self.server))?;
        self.stream.flush().map_err(|e| write_error(e, &self.server))?;
        let mut answers = Vec::with_capacity(cmds.len());
        let mut buf = [0u8; 4096];
        loop {
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::Response { result, .. } => answers.push(result),
                    Event::Unsolicited(e) => return Err(e.into()),
                }
            }
            if answers.len() >= cmds.len() {
                return Ok(answers);
            }
            let n = loop {
                match self.stream.read(&mut buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r.map_err(|e| read_error(e, &self.server))?,
                }
            };
            if n == 0 {
                return Err(TransportError::Closed { server: self.server.clone() }.into());
            }
            self.session.handle_input(&buf[..n]);
        }
    }

    typed_methods!(;);
    connection_methods!(;);
}

/// A client for long-lived users: connects on demand, re-sends the
/// credentials after every reconnection, and waits with [`Backoff`]
/// between failed attempts.
///
/// It has the typed methods of [`Client`] (`get_var`, `list_vars`,
/// `instcmd_wait`, ...) and [`run`](Self::run) for any other operation, but
/// not those whose effect lives in one connection (`authenticate`: use
/// [`with_credentials`](Self::with_credentials); `login`, `primary`,
/// `logout`).
///
/// Backoff: a call that finds no connection first waits until the retry
/// time set by the last failure, then connects (and authenticates). A
/// failed connection, or a transport failure on an open one, sets the retry
/// time to now plus the next backoff delay (`initial`, doubled after each
/// failure up to `max`; 0.5 s to 30 s by default) and returns the error; a
/// successful connection resets the delay. So once the server is back, the
/// first call succeeds after at most the current delay (never more than
/// `max`); a call returns a server `ERR` as it comes, without reconnecting.
#[derive(Debug)]
pub struct Reconnecting {
    server: HostPort,
    opts: ConnectOptions,
    credentials: Option<(String, nut_proto::Secret<String>)>,
    client: Option<Client>,
    backoff: Backoff,
    retry_at: Option<Instant>,
}

impl Reconnecting {
    /// A client for `server`; nothing is connected yet.
    pub fn new(server: HostPort, opts: ConnectOptions, backoff: Backoff) -> Self {
        Reconnecting { server, opts, credentials: None, client: None, backoff, retry_at: None }
    }

    /// Sends USERNAME/PASSWORD after every (re)connection.
    pub fn with_credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some((user.to_string(), nut_proto::Secret::new(password.to_string())));
        self
    }

    /// Whether a connection is currently open.
    pub fn is_connected(&self) -> bool {
        self.client.is_some()
    }

    fn ensure(&mut self) -> Result<&mut Client, ClientError> {
        if self.client.is_none() {
            if let Some(at) = self.retry_at {
                let now = Instant::now();
                if at > now {
                    std::thread::sleep(at - now);
                }
            }
            let attempt = Client::connect(&self.server, self.opts.clone()).and_then(|mut c| {
                if let Some((u, p)) = &self.credentials {
                    c.authenticate(u, p.expose())?;
                }
                Ok(c)
            });
            match attempt {
                Ok(c) => {
                    self.backoff.reset();
                    self.retry_at = None;
                    self.client = Some(c);
                }
                Err(e) => {
                    self.retry_at = Some(Instant::now() + self.backoff.next_delay());
                    return Err(e);
                }
            }
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    /// Runs `op`, connecting first if needed. A transport failure drops the
    /// connection; the next call reconnects after the backoff delay.
    pub fn run<O: Operation>(&mut self, op: O) -> Result<O::Output, ClientError> {
        let r = self.ensure()?.run(op);
        if self.client.as_ref().is_some_and(Client::is_broken) {
            self.client = None;
            self.retry_at = Some(Instant::now() + self.backoff.next_delay());
        }
        r
    }

    /// The delay the next failed attempt would add (for logging).
    pub fn retry_in(&self) -> Option<Duration> {
        self.retry_at.map(|t| t.saturating_duration_since(Instant::now()))
    }

    typed_methods!(;);
}
