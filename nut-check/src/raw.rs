//! Byte-level connections: send exact bytes, read exact lines, each wait
//! bounded by a deadline.

use nut_client::HostPort;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The longest reply line kept whole; longer ones are an error (NUT never
/// sends lines over 512 bytes).
const MAX_LINE: usize = 64 * 1024;
/// The most rows read for one `LIST` before giving up.
const MAX_ROWS: usize = 100_000;

/// Why a raw exchange did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RawError {
    /// The host name did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// The TCP connection could not be opened.
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    /// Nothing (or not a whole line) arrived before the deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// A read or write failed.
    #[error("i/o error: {0}")]
    Io(io::Error),
    /// A line or list exceeded the checker's bounds.
    #[error("reply too long")]
    TooLong,
}

/// One TCP connection to the server under test, read line by line.
#[derive(Debug)]
pub(crate) struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
    timeout: Duration,
    eof: bool,
}

impl RawConn {
    /// Connects to `server`, trying each resolved address.
    pub(crate) fn connect(server: &HostPort, timeout: Duration) -> Result<RawConn, RawError> {
        let addrs: Vec<_> = (server.host.as_str(), server.port)
            .to_socket_addrs()
            .map_err(|_| RawError::Resolve(server.host.clone()))?
            .collect();
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    stream.set_write_timeout(Some(timeout)).map_err(RawError::Io)?;
                    tracing::debug!(%addr, "raw connection open");
                    return Ok(RawConn { stream, buf: Vec::new(), timeout, eof: false });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => RawError::Connect(e),
            None => RawError::Resolve(server.host.clone()),
        })
    }

    /// The per-wait timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Writes `bytes` in one `write` call (as far as the kernel allows).
    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<(), RawError> {
        self.stream.write_all(bytes).map_err(RawError::Io)?;
        self.stream.flush().map_err(RawError::Io)
    }

    /// Reads more bytes, waiting at most until `deadline`. `Ok(false)` on
    /// timeout.
    fn fill(&mut self, deadline: Instant) -> Result<bool, RawError> {
        if self.eof {
            return Err(RawError::Closed);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let wait = (deadline - now).max(Duration::from_millis(1));
        self.stream.set_read_timeout(Some(wait)).map_err(RawError::Io)?;
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                Err(RawError::Closed)
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                self.eof = true;
                Err(RawError::Closed)
            }
            Err(e) => Err(RawError::Io(e)),
        }
    }

    /// The next line (without its LF) if one arrives within `wait`.
    pub(crate) fn line_within(&mut self, wait: Duration) -> Result<Option<String>, RawError> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return Ok(Some(String::from_utf8_lossy(&line[..pos]).into_owned()));
            }
            if self.buf.len() > MAX_LINE {
                return Err(RawError::TooLong);
            }
            match self.fill(deadline) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(RawError::Closed) if !self.buf.is_empty() => {
                    // A last line without LF: hand it out as it is.
                    let rest = std::mem::take(&mut self.buf);
                    return Ok(Some(format!("{}<no LF>", String::from_utf8_lossy(&rest))));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line, within the connection's timeout.
    pub(crate) fn line(&mut self) -> Result<String, RawError> {
        self.line_within(self.timeout)?.ok_or(RawError::Timeout(self.timeout))
    }

    /// One whole reply: a line, or a `BEGIN LIST` line through its
    /// `END LIST` line.
    pub(crate) fn reply(&mut self) -> Result<Vec<String>, RawError> {
        let first = self.line()?;
        let mut out = vec![first.clone()];
        if let Some(rest) = first.strip_prefix("BEGIN LIST ") {
            let end = format!("END LIST {rest}");
            loop {
                let l = self.line()?;
                let done = l == end || l.starts_with("END LIST ") || l.starts_with("ERR ");
                out.push(l);
                if done {
                    break;
                }
                if out.len() > MAX_ROWS {
                    return Err(RawError::TooLong);
                }
            }
        }
        Ok(out)
    }

    /// Sends `line` plus LF and reads its whole reply.
    pub(crate) fn ask(&mut self, line: &str) -> Result<Vec<String>, RawError> {
        self.send(format!("{line}\n").as_bytes())?;
        self.reply()
    }

    /// Sends `line` plus LF and reads a one-line reply.
    pub(crate) fn ask1(&mut self, line: &str) -> Result<String, RawError> {
        self.send(format!("{line}\n").as_bytes())?;
        self.line()
    }

    /// Whether the server closes the connection within `wait` (any bytes
    /// it sends before closing are collected and returned as lines).
    pub(crate) fn closed_within(&mut self, wait: Duration) -> (bool, Vec<String>) {
        let deadline = Instant::now() + wait;
        let mut extra = Vec::new();
        loop {
            match self.fill(deadline) {
                Ok(true) => {
                    while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = self.buf.drain(..=pos).collect();
                        extra.push(String::from_utf8_lossy(&line[..pos]).into_owned());
                    }
                }
                Ok(false) => return (false, extra),
                Err(_) => return (true, extra),
            }
        }
    }

    /// Bytes received but not yet handed out as lines.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// The underlying stream (for STARTTLS).
    pub(crate) fn into_stream(self) -> (TcpStream, Vec<u8>) {
        (self.stream, self.buf)
    }
}
