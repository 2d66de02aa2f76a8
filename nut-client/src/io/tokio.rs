//! The tokio adapter: the same operations over a `tokio::net::TcpStream`
//! (or any `AsyncRead + AsyncWrite`).

use super::{Backoff, ConnectOptions, connection_methods, typed_methods};
use crate::error::{ClientError, TransportError};
use crate::ops::{self, Answer, Operation, Step};
use crate::session::{Event, Response, Session};
use crate::target::HostPort;
use nut_proto::net::Command;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// An async connection to `upsd`.
#[derive(Debug)]
pub struct Client<S = NetStream> {
    stream: S,
    session: Session,
    io_timeout: Duration,
    broken: bool,
    /// The server, as `host:port`, for error messages.
    server: String,
}

/// Opens a TCP connection to `server`, trying every address it resolves to.
pub async fn connect_tcp(
    server: &HostPort,
    opts: &ConnectOptions,
) -> Result<TcpStream, TransportError> {
    let addrs: Vec<_> = tokio::net::lookup_host((server.host.as_str(), server.port))
        .await
        .map_err(|_| TransportError::NoSuchHost { host: server.host.clone() })?
        .collect();
    if addrs.is_empty() {
        return Err(TransportError::NoSuchHost { host: server.host.clone() });
    }
    let mut last = None;
    for addr in addrs {
        match timeout(opts.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                tracing::debug!(%addr, "connected");
                return Ok(s);
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some(io::ErrorKind::TimedOut.into()),
        }
    }
    Err(TransportError::Connect {
        server: server.to_string(),
        source: last.unwrap_or_else(|| io::ErrorKind::NotFound.into()),
    })
}

/// The stream of a [`Client::connect`]ed client: TCP, switched to TLS
/// after a successful `STARTTLS` (feature `tls`).
#[derive(Debug)]
pub struct NetStream(Inner);

#[derive(Debug)]
enum Inner {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
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
            Inner::Tls(s) => s.get_ref().0,
        }
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self.0, Inner::Plain(_))
    }
}

impl AsyncRead for NetStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Inner::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for NetStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            Inner::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Inner::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Inner::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Inner::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl Client<NetStream> {
    /// Connects to `server`; with TLS options (feature `tls`), sends
    /// `STARTTLS` and completes the handshake first.
    pub async fn connect(server: &HostPort, opts: ConnectOptions) -> Result<Self, ClientError> {
        #[cfg(feature = "tls")]
        let tls = match opts.tls.is_enabled() {
            true => Some((opts.tls.mode, opts.tls.prepare(&server.host)?)),
            false => None,
        };
        let tcp = connect_tcp(server, &opts).await?;
        let client = Client::new(NetStream::plain(tcp), opts).with_server_name(server.to_string());
        #[cfg(feature = "tls")]
        if let Some((mode, prepared)) = tls {
            return client.starttls(mode, prepared).await;
        }
        Ok(client)
    }

    /// `STARTTLS`, then the handshake; `self` unchanged if the server
    /// refused and `mode` allows plaintext.
    #[cfg(feature = "tls")]
    async fn starttls(
        mut self,
        mode: crate::tls::TlsMode,
        p: crate::tls::Prepared,
    ) -> Result<Self, ClientError> {
        use crate::error::TlsError;
        use crate::ops::StartTls;
        match self.run(ops::starttls()).await? {
            StartTls::Refused(code) => {
                crate::tls::after_refusal(mode, code)?;
                return Ok(self);
            }
            StartTls::Accepted => {}
        }
        if self.session.buffered() > 0 {
            return Err(TlsError::PlaintextAfterStartTls.into());
        }
        let Client { stream: NetStream(Inner::Plain(tcp)), session, io_timeout, broken, server } =
            self
        else {
            return Err(TlsError::Handshake("already in TLS".into()).into());
        };
        let connector = tokio_rustls::TlsConnector::from(p.config);
        let tls = match timeout(io_timeout, connector.connect(p.server_name, tcp)).await {
            Err(_) => return Err(TransportError::Timeout { server }.into()),
            Ok(Err(e)) => {
                return Err(match crate::tls::cause(&e, &p.name) {
                    Some(t) => t,
                    None => TlsError::Handshake(e.to_string()),
                }
                .into());
            }
            Ok(Ok(s)) => s,
        };
        tracing::debug!(version = ?tls.get_ref().1.protocol_version(), "TLS established");
        let stream = NetStream(Inner::Tls(Box::new(tls)));
        Ok(Client { stream, session, io_timeout, broken, server })
    }
}

fn read_error(e: io::Error, server: &str) -> TransportError {
    #[cfg(feature = "tls")]
    if let Some(t) = crate::tls::cause(&e, "") {
        return TransportError::Tls(t);
    }
    match e.kind() {
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

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Wraps an open stream.
    pub fn new(stream: S, opts: ConnectOptions) -> Self {
        Client {
            stream,
            session: Session::new(opts.limits),
            io_timeout: opts.io_timeout,
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
    pub async fn run<O: Operation>(&mut self, mut op: O) -> Result<O::Output, ClientError> {
        let mut answers = Vec::new();
        loop {
            match op.step(std::mem::take(&mut answers), Instant::now()) {
                Step::Done(r) => return r,
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Send(cmds) => answers = self.exchange(&cmds).await?,
            }
        }
    }

    /// Sends `cmds` pipelined and returns their answers in order.
    pub async fn exchange(&mut self, cmds: &[Command<'_>]) -> Result<Vec<Answer>, ClientError> {
        if self.broken {
            return Err(TransportError::Broken { server: self.server.clone() }.into());
        }
        let r = self.exchange_inner(cmds).await;
        if r.is_err() {
            self.broken = true;
        }
        r
    }

    async fn exchange_inner(&mut self, cmds: &[Command<'_>]) -> Result<Vec<Answer>, ClientError> {
        for c in cmds {
            self.session.send(c);
        }
        let out = self.session.take_transmit();
        let t = self.io_timeout;
        let write = async {
            self.stream.write_all(&out).await?;
            self.stream.flush().await
        };
        match timeout(t, write).await {
            Err(_) => return Err(TransportError::Timeout { server: self.server.clone() }.into()),
            Ok(Err(e)) => return Err(write_error(e, &self.server).into()),
            Ok(Ok(())) => {}
        }
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
            let n = match timeout(t, self.stream.read(&mut buf)).await {
                Err(_) => {
                    return Err(TransportError::Timeout { server: self.server.clone() }.into());
                }
                Ok(Err(e)) => return Err(read_error(e, &self.server).into()),
                Ok(Ok(n)) => n,
            };
            if n == 0 {
                return Err(TransportError::Closed { server: self.server.clone() }.into());
            }
            self.session.handle_input(&buf[..n]);
        }
    }

    typed_methods!(async; .await);
    connection_methods!(async; .await);
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

    /// Runs `op`, connecting first if needed. A transport failure drops the
    /// connection; the next call reconnects after the backoff delay.
    pub async fn run<O: Operation>(&mut self, op: O) -> Result<O::Output, ClientError> {
        if self.client.is_none() {
            if let Some(at) = self.retry_at {
                tokio::time::sleep_until(at.into()).await;
            }
            let mut attempt = Client::connect(&self.server, self.opts.clone()).await;
            if let (Ok(c), Some((u, p))) = (&mut attempt, &self.credentials) {
                if let Err(e) = c.authenticate(u, p.expose()).await {
                    attempt = Err(e);
                }
            }
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
        let client = self.client.as_mut().expect("connected above");
        let r = client.run(op).await;
        if client.is_broken() {
            self.client = None;
            self.retry_at = Some(Instant::now() + self.backoff.next_delay());
        }
        r
    }

    typed_methods!(async; .await);
}
