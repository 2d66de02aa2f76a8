//! The tokio adapter of the upsd core: configuration loading, listeners,
//! client connections, driver sockets and the main loop.
//!
//! One hub task owns the [`Server`] and is the only place it is touched.
//! Each client connection and each driver link has a small task that reads
//! from the socket into the hub's channel and writes what the hub sends
//! it, one reply batch per write. A client's unwritten output is bounded
//! ([`MAX_CLIENT_QUEUE`]): a client that never reads is dropped and never
//! slows down the others. Driver links are retried every 2 s.

use super::conf::{ConfigProblem, Listen, UpsConf, UpsdConf};
use super::descs::Descriptions;
use super::server::{ConnId, Dest, Event, Notice, Options, Server, TlsMode};
use super::users::Users;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, UnixListener, UnixStream};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// The most bytes queued for one client before it is dropped as a client
/// that does not read.
pub const MAX_CLIENT_QUEUE: usize = 1 << 20;

/// The most bytes queued for one driver before its link is dropped.
pub const MAX_DRIVER_QUEUE: usize = 1 << 20;

/// How long one write may block before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Listen backlog of TCP listeners.
pub const BACKLOG: u32 = 1024;

/// Read buffer of a connection task, allocated for every connection (also
/// idle ones); longer lines arrive in several reads.
const READ_BUF: usize = 512;

/// How often the hub recomputes its next timer deadline at most.
const DEADLINE_REFRESH: Duration = Duration::from_millis(500);

/// Compiled-in defaults (Debian's layout).
pub const DEFAULT_CONFPATH: &str = "/etc/nut";
/// Default STATEPATH.
pub const DEFAULT_STATEPATH: &str = "/run/nut";
/// Default DATAPATH.
pub const DEFAULT_DATAPATH: &str = "/usr/share/nut";

/// Why the configuration could not be loaded or the server not started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A configuration file holds errors.
    #[error("configuration errors:\n{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Config(Vec<ConfigProblem>),
    /// No UPS is configured and ALLOW_NO_DEVICE is off.
    #[error("no UPS defined in ups.conf (set ALLOW_NO_DEVICE to start anyway)")]
    NoDevice,
    /// A listener could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The error.
        source: io::Error,
    },
    /// No listener could be opened.
    #[error("no listening socket could be opened")]
    NoListener,
    /// The TLS certificate file is unusable.
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// Everything read from the configuration directory.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// `upsd.conf`.
    pub upsd: UpsdConf,
    /// `ups.conf` (the parts upsd reads).
    pub ups: UpsConf,
    /// `upsd.users`.
    pub users: Users,
    /// `cmdvartab` from DATAPATH (empty when missing).
    pub descs: Descriptions,
    /// The resolved STATEPATH (driver sockets).
    pub statepath: PathBuf,
    /// Warnings met while loading, to be logged.
    pub warnings: Vec<String>,
}

fn env_bool(name: &str) -> Option<bool> {
    std::env::var(name).ok().and_then(|v| super::conf::parse_bool(&v))
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, SetupError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SetupError::Read { path: path.to_path_buf(), source: e }),
    }
}

impl Loaded {
    /// Reads `upsd.conf`, `ups.conf`, `upsd.users` from `confpath` and
    /// `cmdvartab` from DATAPATH. STATEPATH is `NUT_STATEPATH`, else
    /// ups.conf's `statepath`, else upsd.conf's `STATEPATH`, else
    /// [`DEFAULT_STATEPATH`]. `ALLOW_NO_DEVICE` and `ALLOW_NOT_ALL_LISTENERS`
    /// in the environment win over upsd.conf.
    pub fn from_dir(confpath: &Path) -> Result<Loaded, SetupError> {
        let mut warnings = Vec::new();
        let mut errors = Vec::new();
        let mut take = |problems: Vec<ConfigProblem>| {
            for p in problems {
                if p.fatal { errors.push(p) } else { warnings.push(p.to_string()) }
            }
        };
        let upsd_path = confpath.join("upsd.conf");
        let mut upsd = match read_opt(&upsd_path)? {
            Some(text) => {
                let p = UpsdConf::parse(&upsd_path.display().to_string(), &text);
                take(p.problems);
                p.value
            }
            None => {
                take(vec![ConfigProblem::warning(
                    &upsd_path.display().to_string(),
                    0,
                    "missing; using the defaults".into(),
                )]);
                UpsdConf::default()
            }
        };
        if let Some(b) = env_bool("ALLOW_NO_DEVICE") {
            upsd.allow_no_device = b;
        }
        if let Some(b) = env_bool("ALLOW_NOT_ALL_LISTENERS") {
            upsd.allow_not_all_listeners = b;
        }
        let ups_path = confpath.join("ups.conf");
        let ups = match read_opt(&ups_path)? {
            Some(text) => {
                let p = UpsConf::parse(&ups_path.display().to_string(), &text);
                take(p.problems);
                p.value
            }
            None if upsd.allow_no_device => UpsConf::default(),
            None => {
                return Err(SetupError::Read {
                    path: ups_path,
                    source: io::Error::from(io::ErrorKind::NotFound),
                });
            }
        };
        let users_path = confpath.join("upsd.users");
        let users = match read_opt(&users_path)? {
            Some(text) => {
                let p = Users::parse(&users_path.display().to_string(), &text);
                take(p.problems);
                p.value
            }
            None => {
                take(vec![ConfigProblem::warning(
                    &users_path.display().to_string(),
                    0,
                    "missing; no user may log in".into(),
                )]);
                Users::new()
            }
        };
        if !errors.is_empty() {
            return Err(SetupError::Config(errors));
        }
        if ups.ups.is_empty() && !upsd.allow_no_device {
            return Err(SetupError::NoDevice);
        }
        let datapath = upsd.datapath.clone().unwrap_or_else(|| DEFAULT_DATAPATH.into());
        let descs = match read_opt(&datapath.join("cmdvartab"))? {
            Some(text) => Descriptions::parse(&text),
            None => Descriptions::new(),
        };
        let statepath = std::env::var_os("NUT_STATEPATH")
            .map(PathBuf::from)
            .or_else(|| ups.statepath.clone())
            .or_else(|| upsd.statepath.clone())
            .unwrap_or_else(|| DEFAULT_STATEPATH.into());
        Ok(Loaded { upsd, ups, users, descs, statepath, warnings })
    }

    /// The core options for this configuration.
    pub fn options(&self, tls: TlsMode) -> Options {
        Options { tls, ..Options::from_conf(&self.upsd) }
    }
}

/// Which address families to listen on (`-4`, `-6`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    /// Both.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

/// Listening sockets, bound before privileges are dropped. They are plain
/// std sockets (non-blocking), so that a process can fork between binding
/// and [`run`].
#[derive(Debug)]
pub struct Listeners {
    tcp: Vec<std::net::TcpListener>,
    unix: Vec<(PathBuf, std::os::unix::net::UnixListener)>,
}

impl Listeners {
    /// The local TCP addresses.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.tcp.iter().filter_map(|l| l.local_addr().ok()).collect()
    }
}

fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let sock = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    sock.set_reuseaddr(true)?;
    sock.bind(addr)?;
    sock.listen(BACKLOG)
}

/// Opens the LISTEN (and LISTEN_UNIX) sockets of `conf`. All must open,
/// except with ALLOW_NOT_ALL_LISTENERS, or when only loopback ones fail
/// while another one works (a host without IPv6 has no `::1`).
pub fn bind(conf: &UpsdConf, family: Family) -> Result<Listeners, SetupError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SetupError::Bind { addr: "runtime".into(), source: e })?;
    rt.block_on(bind_async(conf, family))
}

async fn bind_async(conf: &UpsdConf, family: Family) -> Result<Listeners, SetupError> {
    let mut tcp = Vec::new();
    let mut failures: Vec<(Listen, io::Error, bool)> = Vec::new();
    for l in conf.listeners() {
        let addrs: Vec<SocketAddr> = match l.ip() {
            Some(ip) => vec![SocketAddr::new(ip, l.port)],
            None => match tokio::net::lookup_host((l.addr.as_str(), l.port)).await {
                Ok(a) => a.collect(),
                Err(e) => {
                    failures.push((l.clone(), e, false));
                    continue;
                }
            },
        };
        for a in addrs {
            let wanted = match family {
                Family::Any => true,
                Family::V4 => a.is_ipv4(),
                Family::V6 => a.is_ipv6(),
            };
            if !wanted {
                continue;
            }
            match bind_one(a).and_then(|t| t.into_std()) {
                Ok(s) => {
                    info!("listening on {a}");
                    tcp.push(s);
                }
                Err(e) => failures.push((l.clone(), e, a.ip().is_loopback())),
            }
        }
    }
    let mut unix = Vec::new();
    for p in &conf.listen_unix {
        let _ = std::fs::remove_file(p);
        match UnixListener::bind(p).and_then(|l| l.into_std()) {
            Ok(l) => {
                info!("listening on {}", p.display());
                unix.push((p.clone(), l));
            }
            Err(e) => failures.push((Listen { addr: p.display().to_string(), port: 0 }, e, false)),
        }
    }
    let any = !tcp.is_empty() || !unix.is_empty();
    for (l, e, loopback) in failures {
        let fatal = !(conf.allow_not_all_listeners || (loopback && any));
        if fatal {
            return Err(SetupError::Bind {
                addr: format!("{} port {}", l.addr, l.port),
                source: e,
            });
        }
        warn!("not listening on {} port {}: {e}", l.addr, l.port);
    }
    if !any {
        return Err(SetupError::NoListener);
    }
    Ok(Listeners { tcp, unix })
}

/// A request to the running server.
#[derive(Debug)]
#[non_exhaustive]
pub enum Control {
    /// Apply a new configuration (the listeners stay as they are).
    Reload(Box<Loaded>),
    /// Stop: close every connection and return from [`run`].
    Shutdown,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}
type BoxStream = Box<dyn Stream>;

enum Out {
    Data(Vec<u8>),
    DataThenClose(Vec<u8>),
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    DataThenTls(Vec<u8>),
}

enum Source {
    Client(ConnId),
    Driver(String, u64),
}

enum HubMsg {
    Accepted(BoxStream, String),
    Bytes(Source, Vec<u8>),
    Gone(Source),
    TlsDone(ConnId, bool),
    DriverUp(String, u64, UnixStream),
    DriverFailed(String, u64, String),
}

struct Link {
    tx: mpsc::UnboundedSender<Out>,
    queued: Arc<AtomicUsize>,
    /// Aborted when the link is dropped, unless detached.
    task: Option<tokio::task::AbortHandle>,
}

impl Link {
    /// Lets the task finish writing its queue and end by itself (after its
    /// last write, or after [`WRITE_TIMEOUT`]).
    fn detach(mut self) {
        self.task = None;
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Writes one batch; false when the peer is gone or stuck.
async fn write_out(stream: &mut BoxStream, data: Vec<u8>, queued: &AtomicUsize) -> bool {
    let n = data.len();
    let r = tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&data)).await;
    queued.fetch_sub(n, Ordering::Relaxed);
    matches!(r, Ok(Ok(())))
}

/// Reads into the hub, writes what the hub sends; one per connection.
async fn link_task(
    mut stream: BoxStream,
    mut rx: mpsc::UnboundedReceiver<Out>,
    hub: mpsc::Sender<HubMsg>,
    source: Source,
    queued: Arc<AtomicUsize>,
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))] tls: Option<TlsAcceptor>,
) {
    let mut buf = vec![0u8; READ_BUF];
    let id = match &source {
        Source::Client(c) => Some(*c),
        Source::Driver(..) => None,
    };
    loop {
        tokio::select! {
            biased;
            msg = rx.recv() => match msg {
                None => break,
                Some(Out::Data(d)) => {
                    if !write_out(&mut stream, d, &queued).await {
                        break;
                    }
                }
                Some(Out::DataThenClose(d)) => {
                    if write_out(&mut stream, d, &queued).await {
                        let _ = tokio::time::timeout(WRITE_TIMEOUT, stream.shutdown()).await;
                    }
                    break;
                }
                Some(Out::DataThenTls(d)) => {
                    if !write_out(&mut stream, d, &queued).await {
                        break;
                    }
                    #[cfg(feature = "tls")]
                    if let (Some(acceptor), Some(conn)) = (&tls, id) {
                        let hs = tokio::time::timeout(WRITE_TIMEOUT, acceptor.accept(stream)).await;
                        match hs {
                            Ok(Ok(s)) => {
                                stream = Box::new(s);
                                let _ = hub.send(HubMsg::TlsDone(conn, true)).await;
                                continue;
                            }
                            _ => {
                                let _ = hub.send(HubMsg::TlsDone(conn, false)).await;
                                return;
                            }
                        }
                    }
                    break;
                }
            },
            r = stream.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let src = match &source {
                        Source::Client(c) => Source::Client(*c),
                        Source::Driver(u, g) => Source::Driver(u.clone(), *g),
                    };
                    if hub.send(HubMsg::Bytes(src, buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            },
        }
    }
    let _ = id;
    let _ = hub.send(HubMsg::Gone(source)).await;
}

#[cfg(feature = "tls")]
type TlsAcceptor = tokio_rustls::TlsAcceptor;
#[cfg(not(feature = "tls"))]
#[derive(Clone)]
struct TlsAcceptor;

/// Builds the TLS acceptor from CERTFILE (certificate chain and private key
/// in one PEM file, as NUT's OpenSSL build expects). None when no CERTFILE
/// is configured.
#[cfg(feature = "tls")]
pub fn tls_acceptor(conf: &UpsdConf) -> Result<Option<tokio_rustls::TlsAcceptor>, SetupError> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let Some(path) = &conf.certfile else { return Ok(None) };
    let pem =
        std::fs::read(path).map_err(|e| SetupError::Read { path: path.clone(), source: e })?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| SetupError::Tls(format!("{}: {e}", path.display())))?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| SetupError::Tls(format!("{}: {e}", path.display())))?
        .ok_or_else(|| SetupError::Tls(format!("{}: no private key", path.display())))?;
    if certs.is_empty() {
        return Err(SetupError::Tls(format!("{}: no certificate", path.display())));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] =
        if conf.disable_weak_ssl { &[&rustls::version::TLS13] } else { rustls::DEFAULT_VERSIONS };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| SetupError::Tls(e.to_string()))?;
    let builder = match conf.certrequest {
        super::conf::CertRequest::No => builder.with_no_client_auth(),
        req => {
            let ca = conf.certpath.as_ref().ok_or_else(|| {
                SetupError::Tls("CERTREQUEST needs CERTPATH (a PEM file of CA certificates)".into())
            })?;
            let ca_pem =
                std::fs::read(ca).map_err(|e| SetupError::Read { path: ca.clone(), source: e })?;
            let mut roots = rustls::RootCertStore::empty();
            for c in rustls_pemfile::certs(&mut ca_pem.as_slice()) {
                let c = c.map_err(|e| SetupError::Tls(format!("{}: {e}", ca.display())))?;
                roots.add(c).map_err(|e| SetupError::Tls(e.to_string()))?;
            }
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            );
            let v = if req == super::conf::CertRequest::Request {
                v.allow_unauthenticated()
            } else {
                v
            };
            builder
                .with_client_cert_verifier(v.build().map_err(|e| SetupError::Tls(e.to_string()))?)
        }
    };
    let config =
        builder.with_single_cert(certs, key).map_err(|e| SetupError::Tls(e.to_string()))?;
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
}

fn log_notice(n: &Notice) {
    match n {
        Notice::DriverConnectFailed { .. }
        | Notice::DriverLost { .. }
        | Notice::DataStale { .. }
        | Notice::MaxConnReached { .. }
        | Notice::BadDriverLine { .. } => warn!("{n}"),
        Notice::AccessDenied { .. } | Notice::BadClientLine { .. } | Notice::IdleTimeout { .. } => {
            debug!("{n}")
        }
        _ => info!("{n}"),
    }
}

struct Hub {
    core: Server,
    clients: HashMap<ConnId, Link>,
    drivers: HashMap<String, (u64, Link)>,
    connecting: HashMap<String, u64>,
    generation: u64,
    statepath: PathBuf,
    tx: mpsc::Sender<HubMsg>,
    tls: Option<TlsAcceptor>,
}

impl Hub {
    fn spawn_link(&self, stream: BoxStream, source: Source, tls: Option<TlsAcceptor>) -> Link {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let task =
            tokio::spawn(link_task(stream, rx, self.tx.clone(), source, queued.clone(), tls));
        Link { tx, queued, task: Some(task.abort_handle()) }
    }

    fn accept(&mut self, stream: BoxStream, addr: String) {
        let now = Instant::now();
        match self.core.client_connected(&addr, now) {
            Ok(id) => {
                debug!("client {id} connected from {addr}");
                let link = self.spawn_link(stream, Source::Client(id), self.tls.clone());
                self.clients.insert(id, link);
            }
            Err(e) => {
                // Dropping the stream closes it at once.
                debug!("refused a client from {addr}: {e}");
            }
        }
    }

    fn send_client(&mut self, conn: ConnId, out: Out) {
        let Some(link) = self.clients.get(&conn) else { return };
        let n = match &out {
            Out::Data(d) | Out::DataThenClose(d) | Out::DataThenTls(d) => d.len(),
        };
        if link.queued.load(Ordering::Relaxed) + n > MAX_CLIENT_QUEUE {
            warn!("client {conn} does not read its replies; dropped");
            self.clients.remove(&conn);
            self.core.client_closed(conn);
            return;
        }
        link.queued.fetch_add(n, Ordering::Relaxed);
        if link.tx.send(out).is_err() {
            self.clients.remove(&conn);
            self.core.client_closed(conn);
        }
    }

    /// Routes everything the core has to say.
    fn flush(&mut self) {
        for _ in 0..64 {
            let mut pending: Vec<(Dest, Vec<u8>)> = Vec::new();
            while let Some(t) = self.core.poll_transmit() {
                pending.push((t.dest, t.data));
            }
            let mut events = Vec::new();
            while let Some(e) = self.core.poll_event() {
                events.push(e);
            }
            if pending.is_empty() && events.is_empty() {
                return;
            }
            let mut take = |conn: ConnId| {
                let mut data = Vec::new();
                pending.retain_mut(|(d, bytes)| {
                    if *d == Dest::Client(conn) {
                        data.append(bytes);
                        false
                    } else {
                        true
                    }
                });
                data
            };
            let mut finals = Vec::new();
            let mut others = Vec::new();
            for e in events {
                match e {
                    Event::CloseClient(c) => finals.push((c, Out::DataThenClose(take(c)))),
                    Event::StartTls(c) => finals.push((c, Out::DataThenTls(take(c)))),
                    e => others.push(e),
                }
            }
            for (dest, data) in pending {
                match dest {
                    Dest::Client(c) => self.send_client(c, Out::Data(data)),
                    Dest::Driver(ups) => self.send_driver(&ups, data),
                }
            }
            for (c, out) in finals {
                let close = matches!(out, Out::DataThenClose(_));
                self.send_client(c, out);
                if close {
                    // The link task closes the socket after writing; the
                    // core forgets the session now.
                    if let Some(link) = self.clients.remove(&c) {
                        link.detach();
                    }
                    self.core.client_closed(c);
                }
            }
            for e in others {
                self.event(e);
            }
        }
    }

    fn send_driver(&mut self, ups: &str, data: Vec<u8>) {
        let now = Instant::now();
        let Some((_, link)) = self.drivers.get(ups) else { return };
        let n = data.len();
        if link.queued.load(Ordering::Relaxed) + n > MAX_DRIVER_QUEUE
            || link.tx.send(Out::Data(data)).is_err()
        {
            warn!("driver of UPS [{ups}] does not read; link dropped");
            self.drivers.remove(ups);
            self.core.driver_closed(ups, now);
            return;
        }
        link.queued.fetch_add(n, Ordering::Relaxed);
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::ConnectDriver { ups, socket } => {
                self.generation += 1;
                let generation = self.generation;
                self.connecting.insert(ups.clone(), generation);
                let path = self.statepath.join(&socket);
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let r =
                        tokio::time::timeout(Duration::from_secs(2), UnixStream::connect(&path))
                            .await;
                    let msg = match r {
                        Ok(Ok(s)) => HubMsg::DriverUp(ups, generation, s),
                        Ok(Err(e)) => HubMsg::DriverFailed(
                            ups,
                            generation,
                            format!("{}: {e}", path.display()),
                        ),
                        Err(_) => HubMsg::DriverFailed(
                            ups,
                            generation,
                            format!("{}: timed out", path.display()),
                        ),
                    };
                    let _ = tx.send(msg).await;
                });
            }
            Event::DisconnectDriver { ups } => {
                self.connecting.remove(&ups);
                self.drivers.remove(&ups);
            }
            Event::Notice(n) => log_notice(&n),
            _ => {}
        }
    }

    fn handle(&mut self, msg: HubMsg) {
        let now = Instant::now();
        match msg {
            HubMsg::Accepted(stream, addr) => self.accept(stream, addr),
            HubMsg::Bytes(Source::Client(c), b) => self.core.handle_client_bytes(c, &b, now),
            HubMsg::Bytes(Source::Driver(ups, g), b) => {
                if self.drivers.get(&ups).is_some_and(|(gen_, _)| *gen_ == g) {
                    self.core.handle_driver_bytes(&ups, &b, now);
                }
            }
            HubMsg::Gone(Source::Client(c)) => {
                self.clients.remove(&c);
                self.core.client_closed(c);
            }
            HubMsg::Gone(Source::Driver(ups, g)) => {
                if self.drivers.get(&ups).is_some_and(|(gen_, _)| *gen_ == g) {
                    self.drivers.remove(&ups);
                    self.core.driver_closed(&ups, now);
                }
            }
            HubMsg::TlsDone(c, ok) => {
                if ok {
                    debug!("client {c}: TLS established");
                    self.core.tls_established(c);
                } else {
                    debug!("client {c}: TLS handshake failed");
                    self.clients.remove(&c);
                    self.core.client_closed(c);
                }
            }
            HubMsg::DriverUp(ups, g, stream) => {
                // Only the latest attempt for a UPS still wanted counts.
                if self.connecting.get(&ups) == Some(&g) {
                    self.connecting.remove(&ups);
                    if self.core.driver_connected(&ups, now) {
                        let source = Source::Driver(ups.clone(), g);
                        let link = self.spawn_link(Box::new(stream), source, None);
                        self.drivers.insert(ups, (g, link));
                    }
                }
            }
            HubMsg::DriverFailed(ups, g, reason) => {
                if self.connecting.get(&ups) == Some(&g) {
                    self.connecting.remove(&ups);
                    self.core.driver_connect_failed(&ups, &reason, now)
                }
            }
        }
        self.flush();
    }
}

/// `EMFILE` and `ENFILE` (the same numbers on Linux, the BSDs and macOS).
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

async fn accept_tcp(listener: TcpListener, tx: mpsc::Sender<HubMsg>) {
    let mut backoff = Duration::from_millis(10);
    let mut last_report: Option<Instant> = None;
    // A spare descriptor. Out of descriptors, it is given up for a moment to
    // accept a waiting connection and close it at once: the client is
    // refused instead of waiting in the backlog for nothing.
    let mut spare = std::fs::File::open("/dev/null").ok();
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                backoff = Duration::from_millis(10);
                let _ = stream.set_nodelay(true);
                let text = addr.ip().to_canonical().to_string();
                if tx.send(HubMsg::Accepted(Box::new(stream), text)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                if last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                    warn!("accept failed: {e}; refusing new connections meanwhile");
                    last_report = Some(Instant::now());
                }
                if out_of_descriptors(&e) && spare.take().is_some() {
                    // Polled once (a zero timeout polls the accept first): a
                    // connection that is waiting is accepted and dropped.
                    let refused = tokio::time::timeout(Duration::ZERO, listener.accept()).await;
                    let was_waiting = matches!(refused, Ok(Ok(_)));
                    // Closed before the spare is opened again.
                    drop(refused);
                    spare = std::fs::File::open("/dev/null").ok();
                    if was_waiting && spare.is_some() {
                        continue;
                    }
                }
                // Other errors, or no spare: back off instead of spinning.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn accept_unix(listener: UnixListener, tx: mpsc::Sender<HubMsg>) {
    let mut backoff = Duration::from_millis(10);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                backoff = Duration::from_millis(10);
                if tx.send(HubMsg::Accepted(Box::new(stream), "unix".into())).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                debug!("accept failed: {e}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Runs the server until [`Control::Shutdown`] (or until `control` is
/// closed). Call from inside a tokio runtime.
pub async fn run(
    listeners: Listeners,
    loaded: Loaded,
    mut control: mpsc::Receiver<Control>,
) -> Result<(), SetupError> {
    for w in &loaded.warnings {
        warn!("{w}");
    }
    #[cfg(feature = "tls")]
    let tls = tls_acceptor(&loaded.upsd)?;
    #[cfg(not(feature = "tls"))]
    let tls: Option<TlsAcceptor> = None;
    let mode = if tls.is_some() {
        TlsMode::Available
    } else if cfg!(feature = "tls") {
        TlsMode::NotConfigured
    } else {
        TlsMode::Unsupported
    };
    let now = Instant::now();
    let core = Server::new(
        loaded.options(mode),
        loaded.ups.ups.clone(),
        loaded.users.clone(),
        loaded.descs.clone(),
        now,
    );
    let (tx, mut rx) = mpsc::channel::<HubMsg>(1024);
    let mut accept_tasks = Vec::new();
    for l in listeners.tcp {
        let l = TcpListener::from_std(l)
            .map_err(|e| SetupError::Bind { addr: "listener".into(), source: e })?;
        accept_tasks.push(tokio::spawn(accept_tcp(l, tx.clone())).abort_handle());
    }
    let mut unix_paths = Vec::new();
    for (p, l) in listeners.unix {
        let l = UnixListener::from_std(l)
            .map_err(|e| SetupError::Bind { addr: p.display().to_string(), source: e })?;
        unix_paths.push(p);
        accept_tasks.push(tokio::spawn(accept_unix(l, tx.clone())).abort_handle());
    }
    let mut hub = Hub {
        core,
        clients: HashMap::new(),
        drivers: HashMap::new(),
        connecting: HashMap::new(),
        generation: 0,
        statepath: loaded.statepath.clone(),
        tx,
        tls,
    };
    info!(
        "upsd ready: {} UPS, driver sockets in {}",
        loaded.ups.ups.len(),
        hub.statepath.display()
    );
    hub.core.handle_timeout(Instant::now());
    hub.flush();
    // `poll_timeout` looks at every session, too costly after every message
    // with thousands of clients: it is recomputed at most every
    // DEADLINE_REFRESH, and the hub never sleeps past the next refresh, so
    // a timer is late by less than that (NUT's own loop runs every 2 s).
    let mut cached: Option<(Instant, tokio::time::Instant)> = None;
    loop {
        let now = Instant::now();
        let deadline = match cached {
            Some((at, d)) if now < at + DEADLINE_REFRESH => d,
            _ => {
                let refresh = tokio::time::Instant::from_std(now + DEADLINE_REFRESH);
                let d = hub
                    .core
                    .poll_timeout()
                    .map(tokio::time::Instant::from_std)
                    .map_or(refresh, |d| d.min(refresh));
                cached = Some((now, d));
                d
            }
        };
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(m) => hub.handle(m),
                None => break,
            },
            c = control.recv() => match c {
                Some(Control::Reload(l)) => {
                    info!("reloading the configuration");
                    for w in &l.warnings {
                        warn!("{w}");
                    }
                    let tls_mode = hub.core.options().tls;
                    hub.statepath = l.statepath.clone();
                    hub.core.reconfigure(
                        l.options(tls_mode),
                        l.ups.ups.clone(),
                        l.users.clone(),
                        l.descs.clone(),
                        Instant::now(),
                    );
                    hub.flush();
                }
                Some(Control::Shutdown) | None => break,
            },
            _ = tokio::time::sleep_until(deadline) => {
                cached = None;
                let now = Instant::now();
                if hub.core.poll_timeout().is_some_and(|t| t <= now) {
                    hub.core.handle_timeout(now);
                    hub.flush();
                }
            }
        }
    }
    info!("shutting down");
    for t in accept_tasks {
        t.abort();
    }
    for p in unix_paths {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_defaults_to_loopback_and_tolerates_missing_v6() {
        let conf = UpsdConf {
            listen: vec![Listen { addr: "127.0.0.1".into(), port: 0 }],
            ..UpsdConf::default()
        };
        let l = bind(&conf, Family::Any).unwrap();
        assert_eq!(l.local_addrs().len(), 1);
        let l = bind(&conf, Family::V6);
        assert!(matches!(l, Err(SetupError::NoListener)));
    }
}
