//! The blocking adapter: `std::net::TcpStream` (or any `Read + Write`) with
//! timeouts, no async runtime.

use super::{Backoff, ConnectOptions, typed_methods};
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
pub struct Client<S = TcpStream> {
    stream: S,
    session: Session,
    broken: bool,
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
                s.set_read_timeout(t).map_err(TransportError::Connect)?;
                s.set_write_timeout(t).map_err(TransportError::Connect)?;
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
    Err(TransportError::Connect(last.unwrap_or_else(|| io::ErrorKind::NotFound.into())))
}

impl Client<TcpStream> {
    /// Connects to `server`.
    pub fn connect(server: &HostPort, opts: ConnectOptions) -> Result<Self, ClientError> {
        Ok(Client::new(connect_tcp(server, &opts)?, opts))
    }
}

fn read_error(e: io::Error) -> TransportError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => TransportError::Timeout,
        _ => TransportError::Read(e),
    }
}

impl<S: Read + Write> Client<S> {
    /// Wraps an open stream (its timeouts are the caller's business).
    pub fn new(stream: S, opts: ConnectOptions) -> Self {
        Client { stream, session: Session::new(opts.limits), broken: false }
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
            return Err(TransportError::Broken.into());
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
        self.stream.write_all(&out).map_err(TransportError::Write)?;
        self.stream.flush().map_err(TransportError::Write)?;
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
                    r => break r.map_err(read_error)?,
                }
            };
            if n == 0 {
                return Err(TransportError::Closed.into());
            }
            self.session.handle_input(&buf[..n]);
        }
    }

    typed_methods!(;);
}

/// A client for long-lived users: connects on demand, re-sends the
/// credentials after every reconnection, and waits with [`Backoff`]
/// between failed attempts.
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
            let attempt = Client::connect(&self.server, self.opts).and_then(|mut c| {
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
}
