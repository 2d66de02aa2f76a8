//! The tokio adapter of the upsd core: configuration loading, listeners,
//! client connections, driver sockets and the main loop.
//!
//! Everything runs on one thread (a `LocalSet`). The [`Server`] core and a
//! small slot per connection live in one hub shared by the connection
//! tasks; a task reads from its socket into one shared buffer, hands the
//! bytes to the core and writes the replies itself, one write per batch,
//! with no channel or timer in between. An idle connection costs its task,
//! its socket registration, its core session and an empty slot: no buffer
//! is kept between requests. A client's unwritten output is bounded
//! ([`MAX_CLIENT_QUEUE`]): a client that never reads is dropped and never
//! slows down the others. Driver links are retried every 2 s.

use super::conf::{ConfigProblem, Listen, UpsConf, UpsdConf};
use super::descs::Descriptions;
use super::server::{ConnId, Dest, Event, Notice, Options, Server, TlsMode};
use super::users::Users;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::{Rc, Weak};
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
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

/// The read buffer shared by all connections (one read at a time); longer
/// input arrives in several reads. Small on purpose: the replies to one
/// read are queued whole before the [`MAX_CLIENT_QUEUE`] check, and 512
/// bytes of `LIST VAR` lines on a device with 600 variables already make
/// about 0.8 MiB of replies, so a client that pipelines but reads stays
/// under the bound.
const READ_BUF: usize = 512;

/// How often the hub recomputes its next timer deadline at most.
const DEADLINE_REFRESH: Duration = Duration::from_millis(500);

mod embedded;
pub use embedded::{Embedded, IN_PROCESS_DRIVER, Running};

/// Compiled-in defaults (Debian's layout), shared with the daemons.
pub use nut_daemon::paths::{DEFAULT_CONFPATH, DEFAULT_STATEPATH};
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
    /// The server's thread or runtime could not be started (or its thread
    /// panicked).
    #[error("cannot run the server: {0}")]
    Start(#[source] io::Error),
    /// The TLS certificate file is unusable.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A file exists but the user upsd runs as may not read it. upsd reads
    /// its files as root when it starts, but as its run user on reload, so
    /// a root-only `upsd.users` loads once and then fails to reload.
    #[error(
        "cannot read {path} as user {user}: permission denied{file}; upsd reads its \
         configuration as root at start but as this user on reload, so this user must be able \
         to read it (e.g. group nut and mode 0640)"
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The user upsd runs as, e.g. `nut (uid 110, gid 117)`.
        user: String,
        /// The file's owner and mode, e.g. ` (owner uid 0, gid 0, mode
        /// 0600)`, when known.
        file: String,
    },
}

/// The effective user, as `name (uid N, gid N)`.
fn effective_user() -> String {
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    let name =
        nix::unistd::User::from_uid(uid).ok().flatten().map_or_else(|| uid.to_string(), |u| u.name);
    format!("{name} (uid {uid}, gid {gid})")
}

/// Why `path` could not be read, naming the run user for a permission
/// problem.
fn read_error(path: &Path, e: io::Error) -> SetupError {
    if e.kind() != io::ErrorKind::PermissionDenied {
        return SetupError::Read { path: path.to_path_buf(), source: e };
    }
    use std::os::unix::fs::MetadataExt;
    let file = std::fs::metadata(path)
        .map(|m| {
            format!(" (owner uid {}, gid {}, mode {:04o})", m.uid(), m.gid(), m.mode() & 0o7777)
        })
        .unwrap_or_default();
    SetupError::Unreadable { path: path.to_path_buf(), user: effective_user(), file }
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
        Err(e) => Err(read_error(path, e)),
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
        // NUT's "... is world readable", logged before the files' own.
        let mut perms = Vec::new();
        let mut errors = Vec::new();
        let mut take = |problems: Vec<ConfigProblem>| {
            for p in problems {
                if p.fatal { errors.push(p) } else { warnings.push(p.to_string()) }
            }
        };
        let upsd_path = confpath.join("upsd.conf");
        let mut upsd = match read_opt(&upsd_path)? {
            Some(text) => {
                // As NUT: a warning for a file others may read, each load.
                perms.extend(nut_daemon::paths::world_readable_warning(&upsd_path));
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
                perms.extend(nut_daemon::paths::world_readable_warning(&users_path));
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
        let statepath = nut_daemon::paths::env_path("NUT_STATEPATH")
            .or_else(|| ups.statepath.clone())
            .or_else(|| upsd.statepath.clone())
            .unwrap_or_else(|| DEFAULT_STATEPATH.into());
        perms.append(&mut warnings);
        Ok(Loaded { upsd, ups, users, descs, statepath, warnings: perms })
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

/// A listening socket; an IPv6 one takes IPv6 only (`IPV6_V6ONLY`, as
/// NUT sets it), so `LISTEN ::` and `LISTEN 0.0.0.0` can share a port.
fn bind_one(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_reuse_address(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(i32::try_from(BACKLOG).unwrap_or(i32::MAX))?;
    Ok(sock.into())
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
            match bind_one(a) {
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
        // Read and write for the run user and its group only (0660).
        let bound = UnixListener::bind(p).and_then(|l| l.into_std()).and_then(|l| {
            std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o660))?;
            Ok(l)
        });
        match bound {
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

impl Listeners {
    /// Gives the LISTEN_UNIX sockets to the user the server runs as (and
    /// that user's group), before it drops root.
    pub fn chown_unix(&self, uid: u32, gid: u32) -> io::Result<()> {
        for (p, _) in &self.unix {
            std::os::unix::fs::chown(p, Some(uid), Some(gid))?;
        }
        Ok(())
    }
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
/// A connection's byte stream: TCP, Unix socket, or TLS over one of them;
/// or an in-memory link to a driver in this process.
enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
    Local(DuplexStream),
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::server::TlsStream<Conn>>),
}

macro_rules! on_conn {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Conn::Tcp($s) => $e,
            Conn::Unix($s) => $e,
            Conn::Local($s) => $e,
            #[cfg(feature = "tls")]
            Conn::Tls($s) => $e,
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        on_conn!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on_conn!(self, s => Pin::new(s).poll_write(cx, buf))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_conn!(self, s => Pin::new(s).poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on_conn!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// Who is at the other end of a connection.
#[derive(Clone, Debug)]
enum Who {
    Client(ConnId),
    /// A driver link: UPS name and the connection attempt that made it.
    Driver(Box<str>, u64),
}

/// What a connection does once its output is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Then {
    #[default]
    Serve,
    Close,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls,
}

/// The hub's side of one connection: only its unwritten output (empty,
/// without an allocation, while the connection is idle), what to do after
/// writing it, and the waker of its task.
#[derive(Default)]
struct Slot {
    out: Vec<u8>,
    then: Then,
    waker: Option<Waker>,
}

impl Slot {
    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// A plain client socket served by the [poller](poll_task), without a task
/// or a tokio registration of its own.
#[cfg(any(target_os = "linux", target_os = "android"))]
enum Sock {
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream),
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Unix(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use std::io::Write;
        match self {
            Sock::Tcp(s) => s.write(buf),
            Sock::Unix(s) => s.write(buf),
        }
    }

    fn shutdown(&self) {
        let _ = match self {
            Sock::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Sock::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        };
    }

    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        match self {
            Sock::Tcp(s) => s.as_fd(),
            Sock::Unix(s) => s.as_fd(),
        }
    }

    /// Back to a tokio stream, for a task of its own (TLS).
    fn into_conn(self) -> io::Result<Conn> {
        Ok(match self {
            Sock::Tcp(s) => Conn::Tcp(TcpStream::from_std(s)?),
            Sock::Unix(s) => Conn::Unix(UnixStream::from_std(s)?),
        })
    }
}

/// The epoll instance of the poller.
#[cfg(any(target_os = "linux", target_os = "android"))]
struct EpollFd(nix::sys::epoll::Epoll);

#[cfg(any(target_os = "linux", target_os = "android"))]
impl std::os::fd::AsRawFd for EpollFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0.0.as_raw_fd()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
type Poller = Rc<tokio::io::unix::AsyncFd<EpollFd>>;

/// A freshly accepted client stream.
enum Accepted {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// One client: its slot, and its socket when the poller serves it (else a
/// task does, and the slot's waker wakes that task).
struct Client {
    slot: Slot,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    sock: Option<Sock>,
    /// The epoll events the socket is registered for.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    interest: u8,
}

/// `interest` bits.
const WANT_IN: u8 = 1;
const WANT_OUT: u8 = 2;

/// Everything the connection tasks share: the core and the per-connection
/// slots. The runtime is single-threaded (a `LocalSet`), so it is an
/// `Rc<RefCell<_>>`, never borrowed across an `.await`.
struct Hub {
    core: Server,
    clients: HashMap<ConnId, Client>,
    drivers: HashMap<Box<str>, (u64, Slot)>,
    connecting: HashMap<String, u64>,
    generation: u64,
    statepath: PathBuf,
    /// Drivers in this process, reached without a socket.
    local: LocalDrivers,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    tls: Option<TlsAcceptor>,
    /// One read buffer for every connection (one task runs at a time).
    scratch: Box<[u8]>,
    me: Weak<RefCell<Hub>>,
    /// Serves plain client sockets (None: every client gets a task).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    poller: Option<Poller>,
    /// Polled clients whose writes are blocked, since when.
    stalled: HashMap<ConnId, Instant>,
}

type Shared = Rc<RefCell<Hub>>;

impl Hub {
    fn slot(&mut self, who: &Who) -> Option<&mut Slot> {
        match who {
            Who::Client(c) => self.clients.get_mut(c).map(|c| &mut c.slot),
            Who::Driver(ups, g) => match self.drivers.get_mut(ups) {
                Some((gen_, slot)) if gen_ == g => Some(slot),
                _ => None,
            },
        }
    }

    fn accept(&mut self, stream: Accepted, addr: &str) {
        let now = Instant::now();
        let connected = match stream {
            Accepted::Tcp(_) => self.core.client_connected(addr, now),
            Accepted::Unix(_) => self.core.client_connected_local(addr, now),
        };
        match connected {
            Ok(id) => {
                debug!("client {id} connected from {addr}");
                self.serve(id, stream);
            }
            // Dropping the stream closes it at once.
            Err(e) => debug!("refused a client from {addr}: {e}"),
        }
        self.flush(None);
    }

    /// Hands a new client to the poller, or else to a task of its own.
    fn serve(&mut self, id: ConnId, stream: Accepted) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(poller) = &self.poller {
            use nix::sys::epoll::{EpollEvent, EpollFlags};
            let sock = match stream {
                Accepted::Tcp(s) => s.into_std().map(Sock::Tcp),
                Accepted::Unix(s) => s.into_std().map(Sock::Unix),
            };
            let sock = match sock {
                Ok(s) => s,
                Err(e) => {
                    debug!("client {id}: {e}");
                    self.core.client_closed(id);
                    return;
                }
            };
            let ev = EpollEvent::new(EpollFlags::EPOLLIN, id.0);
            if let Err(e) = poller.get_ref().0.add(sock.fd(), ev) {
                debug!("client {id}: epoll: {e}");
                self.core.client_closed(id);
                return;
            }
            let client = Client { slot: Slot::default(), sock: Some(sock), interest: WANT_IN };
            self.clients.insert(id, client);
            return;
        }
        let conn = match stream {
            Accepted::Tcp(s) => Conn::Tcp(s),
            Accepted::Unix(s) => Conn::Unix(s),
        };
        self.clients.insert(
            id,
            Client {
                slot: Slot::default(),
                #[cfg(any(target_os = "linux", target_os = "android"))]
                sock: None,
                #[cfg(any(target_os = "linux", target_os = "android"))]
                interest: 0,
            },
        );
        if let Some(me) = self.me.upgrade() {
            tokio::task::spawn_local(conn_task(me, Who::Client(id), conn));
        }
    }

    /// The poller reports events on client `c`; returns true when the
    /// socket may hold more input than was read.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn polled(&mut self, c: ConnId, readable: bool) -> bool {
        let Some(client) = self.clients.get_mut(&c) else { return false };
        let serving = client.slot.then == Then::Serve;
        let Some(sock) = client.sock.as_mut() else { return false };
        let mut more = false;
        if readable && serving {
            match sock.read(&mut self.scratch) {
                Ok(0) => {
                    self.end_polled(c);
                    return false;
                }
                Ok(n) => {
                    more = n == self.scratch.len();
                    self.core.handle_client_bytes(c, &self.scratch[..n], Instant::now());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => more = true,
                Err(_) => {
                    self.end_polled(c);
                    return false;
                }
            }
        }
        self.flush(None);
        self.output_polled(c);
        more
    }

    /// Writes what is queued for polled client `c`, then closes it or hands
    /// it to TLS as asked, and registers the events it waits for.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn output_polled(&mut self, c: ConnId) {
        use nix::sys::epoll::{EpollEvent, EpollFlags};
        let Some(client) = self.clients.get_mut(&c) else { return };
        let Some(sock) = client.sock.as_mut() else { return };
        let out = &mut client.slot.out;
        while !out.is_empty() {
            match sock.write(out) {
                Ok(0) => return self.end_polled(c),
                Ok(n) if n == out.len() => *out = Vec::new(),
                Ok(n) => {
                    out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return self.end_polled(c),
            }
        }
        let want = if out.is_empty() {
            match client.slot.then {
                Then::Serve => WANT_IN,
                Then::Close => {
                    sock.shutdown();
                    return self.end_polled(c);
                }
                Then::Tls => return self.polled_to_task(c),
            }
        } else if client.slot.then == Then::Serve {
            // Reading goes on, so that a client that never reads runs into
            // MAX_CLIENT_QUEUE.
            WANT_IN | WANT_OUT
        } else {
            WANT_OUT
        };
        if want & WANT_OUT != 0 {
            self.stalled.entry(c).or_insert_with(Instant::now);
        } else if !self.stalled.is_empty() {
            self.stalled.remove(&c);
        }
        if want != client.interest {
            let mut flags = EpollFlags::empty();
            if want & WANT_IN != 0 {
                flags |= EpollFlags::EPOLLIN;
            }
            if want & WANT_OUT != 0 {
                flags |= EpollFlags::EPOLLOUT;
            }
            let Some(poller) = &self.poller else { return };
            if poller.get_ref().0.modify(sock.fd(), &mut EpollEvent::new(flags, c.0)).is_err() {
                return self.end_polled(c);
            }
            client.interest = want;
        }
    }

    /// A polled client is gone or done: its socket is closed (which takes
    /// it out of the epoll set) and the core forgets it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn end_polled(&mut self, c: ConnId) {
        self.clients.remove(&c);
        self.stalled.remove(&c);
        self.core.client_closed(c);
    }

    /// A polled client asked for TLS: it gets a task of its own.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn polled_to_task(&mut self, c: ConnId) {
        let Some(client) = self.clients.get_mut(&c) else { return };
        let Some(sock) = client.sock.take() else { return };
        if let Some(poller) = &self.poller {
            let _ = poller.get_ref().0.delete(sock.fd());
        }
        match (sock.into_conn(), self.me.upgrade()) {
            (Ok(conn), Some(me)) => {
                tokio::task::spawn_local(conn_task(me, Who::Client(c), conn));
            }
            _ => self.end_polled(c),
        }
    }

    /// Drops polled clients whose writes made no progress for
    /// [`WRITE_TIMEOUT`].
    fn check_stalled(&mut self, now: Instant) {
        let late: Vec<ConnId> = self
            .stalled
            .iter()
            .filter(|(_, t)| now.saturating_duration_since(**t) >= WRITE_TIMEOUT)
            .map(|(c, _)| *c)
            .collect();
        for c in late {
            debug!("client {c}: write timed out");
            self.stalled.remove(&c);
            self.drop_client(c);
        }
    }

    /// Whether client `c` is served by the poller.
    fn is_polled(&self, c: ConnId) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            self.clients.get(&c).is_some_and(|x| x.sock.is_some())
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = c;
            false
        }
    }

    /// After output or a state change for client `c`: a polled client is
    /// written at once, a task is woken (unless it is the one running).
    fn kick(&mut self, c: ConnId, current: Option<&Who>) {
        if self.is_polled(c) {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            self.output_polled(c);
        } else if !matches!(current, Some(Who::Client(x)) if *x == c) {
            if let Some(client) = self.clients.get_mut(&c) {
                client.slot.wake();
            }
        }
    }

    /// `n` bytes arrived in `scratch` from `who`.
    fn feed(&mut self, who: &Who, n: usize) {
        let now = Instant::now();
        let bytes = &self.scratch[..n];
        match who {
            Who::Client(c) => self.core.handle_client_bytes(*c, bytes, now),
            Who::Driver(ups, _) => self.core.handle_driver_bytes(ups, bytes, now),
        }
        self.flush(Some(who));
    }

    /// The task of `who` ended (its peer closed, failed or was dropped).
    fn gone(&mut self, who: &Who) {
        match who {
            Who::Client(c) => {
                self.clients.remove(c);
                self.core.client_closed(*c);
            }
            Who::Driver(ups, g) => {
                if self.drivers.get(ups).is_some_and(|(gen_, _)| gen_ == g) {
                    self.drivers.remove(ups);
                    self.core.driver_closed(ups, Instant::now());
                }
            }
        }
        self.flush(None);
    }

    fn drop_client(&mut self, c: ConnId) {
        if let Some(mut client) = self.clients.remove(&c) {
            client.slot.wake();
        }
        self.stalled.remove(&c);
        self.core.client_closed(c);
    }

    /// Routes everything the core has to say. `current` is the connection
    /// whose task is running (it needs no wake-up).
    fn flush(&mut self, current: Option<&Who>) {
        for _ in 0..64 {
            let mut any = false;
            // Bytes first: a client's last replies go out before it is
            // closed or switched to TLS.
            while let Some(t) = self.core.poll_transmit() {
                any = true;
                match t.dest {
                    Dest::Client(c) => self.send_client(c, t.data, current),
                    Dest::Driver(ups) => self.send_driver(&ups, t.data),
                }
            }
            while let Some(e) = self.core.poll_event() {
                any = true;
                self.event(e, current);
            }
            if !any {
                return;
            }
        }
    }

    fn send_client(&mut self, c: ConnId, data: Vec<u8>, current: Option<&Who>) {
        let Some(slot) = self.clients.get_mut(&c).map(|c| &mut c.slot) else { return };
        if slot.out.len() + data.len() > MAX_CLIENT_QUEUE {
            warn!("client {c} does not read its replies; dropped");
            self.drop_client(c);
            return;
        }
        if slot.out.is_empty() {
            slot.out = data;
        } else {
            slot.out.extend_from_slice(&data);
        }
        self.kick(c, current);
    }

    fn send_driver(&mut self, ups: &str, data: Vec<u8>) {
        let Some((_, slot)) = self.drivers.get_mut(ups) else { return };
        if slot.out.len() + data.len() > MAX_DRIVER_QUEUE {
            warn!("driver of UPS [{ups}] does not read; link dropped");
            if let Some((_, mut slot)) = self.drivers.remove(ups) {
                slot.wake();
            }
            self.core.driver_closed(ups, Instant::now());
            return;
        }
        slot.out.extend_from_slice(&data);
        slot.wake();
    }

    fn event(&mut self, e: Event, current: Option<&Who>) {
        match e {
            Event::CloseClient(c) | Event::StartTls(c) => {
                let close = matches!(e, Event::CloseClient(_));
                if let Some(client) = self.clients.get_mut(&c) {
                    client.slot.then = if close { Then::Close } else { Then::Tls };
                }
                if close {
                    // The socket is closed after the writing; the core
                    // forgets the session now.
                    self.core.client_closed(c);
                }
                self.kick(c, current);
            }
            Event::ConnectDriver { ups, socket } => {
                self.generation += 1;
                let generation = self.generation;
                self.connecting.insert(ups.clone(), generation);
                let Some(me) = self.me.upgrade() else { return };
                if let Some(connect) = self.local.0.get_mut(&ups) {
                    let link = connect()
                        .map(Conn::Local)
                        .map_err(|e| format!("in-process driver of {ups}: {e}"));
                    tokio::task::spawn_local(async move {
                        link_ready(&me, ups, generation, link);
                    });
                } else {
                    let path = self.statepath.join(&socket);
                    tokio::task::spawn_local(connect_driver(me, ups, generation, path));
                }
            }
            Event::DisconnectDriver { ups } => {
                self.connecting.remove(&ups);
                if let Some((_, mut slot)) = self.drivers.remove(ups.as_str()) {
                    slot.wake();
                }
            }
            Event::Notice(n) => log_notice(&n),
        }
    }
}

async fn connect_driver(hub: Shared, ups: String, generation: u64, path: PathBuf) {
    let r = tokio::time::timeout(Duration::from_secs(2), UnixStream::connect(&path)).await;
    let link = match r {
        Ok(Ok(s)) => Ok(Conn::Unix(s)),
        Ok(Err(e)) => Err(format!("{}: {e}", path.display())),
        Err(_) => Err(format!("{}: timed out", path.display())),
    };
    link_ready(&hub, ups, generation, link);
}

/// A driver link attempt ended: with a stream to serve, or why not.
fn link_ready(hub: &Shared, ups: String, generation: u64, link: Result<Conn, String>) {
    let mut h = hub.borrow_mut();
    // Only the latest attempt for a UPS still wanted counts.
    if h.connecting.get(&ups) != Some(&generation) {
        return;
    }
    h.connecting.remove(&ups);
    let now = Instant::now();
    match link {
        Ok(conn) => {
            if h.core.driver_connected(&ups, now) {
                let name: Box<str> = ups.into();
                h.drivers.insert(name.clone(), (generation, Slot::default()));
                let who = Who::Driver(name, generation);
                tokio::task::spawn_local(conn_task(hub.clone(), who, conn));
            }
        }
        Err(reason) => h.core.driver_connect_failed(&ups, &reason, now),
    }
    h.flush(None);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn new_poller() -> Option<Poller> {
    use nix::sys::epoll::{Epoll, EpollCreateFlags};
    // `AsyncFd::new` is deprecated because a type could hand out a
    // descriptor it does not own or later replace; `EpollFd` owns its epoll
    // descriptor and never replaces or closes it while registered.
    #[allow(deprecated)]
    let r = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)
        .map_err(io::Error::from)
        .and_then(|e| tokio::io::unix::AsyncFd::new(EpollFd(e)));
    match r {
        Ok(p) => Some(Rc::new(p)),
        Err(e) => {
            warn!("no epoll ({e}); one task per client instead");
            None
        }
    }
}

/// The most events taken from the epoll set at once.
#[cfg(any(target_os = "linux", target_os = "android"))]
const POLL_EVENTS: usize = 256;

/// Serves every plain client: waits until the epoll set has events (the
/// set's descriptor is registered with tokio), then reads, runs and writes
/// for each ready client. The sockets are level-triggered: input left
/// unread is reported again.
#[cfg(any(target_os = "linux", target_os = "android"))]
async fn poll_task(hub: Shared, poller: Poller) {
    use nix::sys::epoll::{EpollEvent, EpollFlags, EpollTimeout};
    let mut events = vec![EpollEvent::empty(); POLL_EVENTS];
    let mut failures = 0u32;
    loop {
        let Ok(mut guard) = poller.readable().await else { return };
        let n = match poller.get_ref().0.wait(&mut events, EpollTimeout::ZERO) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    warn!("epoll_wait failed: {e}");
                }
                drop(guard);
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let mut more = n == events.len();
        {
            let mut h = hub.borrow_mut();
            for ev in &events[..n] {
                let readable = ev
                    .events()
                    .intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR);
                more |= h.polled(ConnId(ev.data()), readable);
            }
        }
        if more {
            // Level-triggered: what is left is reported by the next wait.
            drop(guard);
            tokio::task::yield_now().await;
        } else {
            guard.clear_ready();
        }
    }
}

/// What a connection task does next, outside the hub's borrow.
enum Step {
    /// The peer closed, failed, or the hub dropped the connection.
    End,
    /// Output written: close the connection.
    Close,
    /// Output written: run the TLS handshake.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls,
}

/// How many reads one poll of a connection handles before it lets other
/// tasks run.
const ROUNDS_PER_POLL: usize = 16;

/// One poll of a connection: write what is queued (one write per batch),
/// read and hand what arrives to the core, and so on until the socket has
/// nothing more. Reading goes on while a write is blocked, so that a
/// client that never reads runs into [`MAX_CLIENT_QUEUE`]; a write that
/// makes no progress for [`WRITE_TIMEOUT`] ends the connection.
fn poll_conn(
    hub: &Shared,
    who: &Who,
    conn: &mut Conn,
    stall: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut Context<'_>,
) -> Poll<Step> {
    let mut guard = hub.borrow_mut();
    let h = &mut *guard;
    for _ in 0..ROUNDS_PER_POLL {
        let Some(slot) = h.slot(who) else { return Poll::Ready(Step::End) };
        let mut blocked = false;
        while !slot.out.is_empty() {
            match Pin::new(&mut *conn).poll_write(cx, &slot.out) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Poll::Ready(Step::End),
                Poll::Ready(Ok(n)) => {
                    *stall = None;
                    if n == slot.out.len() {
                        // Released: an idle connection holds no buffer.
                        slot.out = Vec::new();
                    } else {
                        slot.out.drain(..n);
                    }
                }
                Poll::Pending => {
                    blocked = true;
                    break;
                }
            }
        }
        if !blocked {
            match Pin::new(&mut *conn).poll_flush(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(Step::End),
                Poll::Pending => blocked = true,
            }
        }
        if blocked {
            let timer = stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_TIMEOUT)));
            if timer.as_mut().poll(cx).is_ready() {
                debug!("{who:?}: write timed out");
                return Poll::Ready(Step::End);
            }
        } else {
            *stall = None;
            match slot.then {
                Then::Serve => {}
                Then::Close => return Poll::Ready(Step::Close),
                Then::Tls => return Poll::Ready(Step::Tls),
            }
        }
        if slot.then != Then::Serve {
            // Nothing more is read from a connection that is closing or
            // about to start TLS; wait for the write.
            return Poll::Pending;
        }
        if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            slot.waker = Some(cx.waker().clone());
        }
        let mut buf = ReadBuf::new(&mut h.scratch);
        match Pin::new(&mut *conn).poll_read(cx, &mut buf) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(_)) => return Poll::Ready(Step::End),
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    return Poll::Ready(Step::End);
                }
                h.feed(who, n);
            }
        }
    }
    // Busy: let the others run, then go on.
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Serves one client or driver connection until it ends.
async fn conn_task(hub: Shared, who: Who, mut conn: Conn) {
    let mut stall = None;
    loop {
        let step =
            std::future::poll_fn(|cx| poll_conn(&hub, &who, &mut conn, &mut stall, cx)).await;
        match step {
            Step::End => break,
            Step::Close => {
                let _ = Box::pin(tokio::time::timeout(WRITE_TIMEOUT, conn.shutdown())).await;
                break;
            }
            Step::Tls => {
                #[cfg(feature = "tls")]
                {
                    let Who::Client(c) = who else { break };
                    let Some(acceptor) = hub.borrow().tls.clone() else { break };
                    let hs = Box::pin(tokio::time::timeout(WRITE_TIMEOUT, acceptor.accept(conn)));
                    conn = match hs.await {
                        Ok(Ok(s)) => Conn::Tls(Box::new(s)),
                        _ => {
                            debug!("client {c}: TLS handshake failed");
                            break;
                        }
                    };
                    let mut h = hub.borrow_mut();
                    let Some(slot) = h.clients.get_mut(&c).map(|c| &mut c.slot) else { break };
                    debug!("client {c}: TLS established");
                    slot.then = Then::Serve;
                    h.core.tls_established(c);
                    h.flush(Some(&who));
                    continue;
                }
                #[cfg(not(feature = "tls"))]
                break;
            }
        }
    }
    hub.borrow_mut().gone(&who);
}

/// `EMFILE` and `ENFILE` (the same numbers on Linux, the BSDs and macOS).
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24))
}

async fn accept_tcp(listener: TcpListener, hub: Shared) {
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
                hub.borrow_mut().accept(Accepted::Tcp(stream), &text);
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

async fn accept_unix(listener: UnixListener, hub: Shared) {
    let mut backoff = Duration::from_millis(10);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                backoff = Duration::from_millis(10);
                hub.borrow_mut().accept(Accepted::Unix(stream), "unix");
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
/// closed). Call from inside a tokio runtime; every connection is served
/// on the calling thread (a [`tokio::task::LocalSet`] inside), so the
/// returned future is not `Send`.
pub async fn run(
    listeners: Listeners,
    loaded: Loaded,
    control: mpsc::Receiver<Control>,
) -> Result<(), SetupError> {
    run_with(listeners, loaded, control, LocalDrivers::new()).await
}

/// A connector to a driver in this process: called each time the core
/// wants a link to the driver (at start, and again after the link is
/// lost), it returns one end of an in-memory stream the driver serves
/// with the driver socket protocol (`nut-driver`'s
/// `inproc::InProcess::connect` is one).
pub type Connector = Box<dyn FnMut() -> io::Result<DuplexStream> + Send>;

/// The UPSes whose drivers run in this process: the core reaches them
/// through their [`Connector`] instead of a socket in STATEPATH. A UPS
/// not named here is reached through its socket as usual.
#[derive(Default)]
pub struct LocalDrivers(HashMap<String, Connector>);

impl std::fmt::Debug for LocalDrivers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl LocalDrivers {
    /// None: every driver is reached through its socket.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reaches the driver of `ups` (the name in `ups.conf`, exactly)
    /// through `connect`; replaces an earlier connector for that name.
    pub fn add(
        &mut self,
        ups: &str,
        connect: impl FnMut() -> io::Result<DuplexStream> + Send + 'static,
    ) {
        self.0.insert(ups.to_string(), Box::new(connect));
    }

    /// Whether `ups` has a connector.
    pub fn contains(&self, ups: &str) -> bool {
        self.0.contains_key(ups)
    }
}

/// [`run`], with some drivers in this process.
pub async fn run_with(
    listeners: Listeners,
    loaded: Loaded,
    control: mpsc::Receiver<Control>,
    drivers: LocalDrivers,
) -> Result<(), SetupError> {
    let local = tokio::task::LocalSet::new();
    let r = local.run_until(run_local(listeners, loaded, control, drivers)).await;
    // Dropping the set drops every connection task, closing the sockets.
    drop(local);
    r
}

async fn run_local(
    listeners: Listeners,
    loaded: Loaded,
    mut control: mpsc::Receiver<Control>,
    drivers: LocalDrivers,
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
    let hub: Shared = Rc::new_cyclic(|me| {
        RefCell::new(Hub {
            core,
            clients: HashMap::new(),
            drivers: HashMap::new(),
            connecting: HashMap::new(),
            generation: 0,
            statepath: loaded.statepath.clone(),
            local: drivers,
            tls,
            scratch: vec![0u8; READ_BUF].into_boxed_slice(),
            me: me.clone(),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            poller: new_poller(),
            stalled: HashMap::new(),
        })
    });
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let poll_task = hub
        .borrow()
        .poller
        .clone()
        .map(|p| tokio::task::spawn_local(poll_task(hub.clone(), p)).abort_handle());
    let mut accept_tasks = Vec::new();
    for l in listeners.tcp {
        let l = TcpListener::from_std(l)
            .map_err(|e| SetupError::Bind { addr: "listener".into(), source: e })?;
        accept_tasks.push(tokio::task::spawn_local(accept_tcp(l, hub.clone())).abort_handle());
    }
    let mut unix_paths = Vec::new();
    for (p, l) in listeners.unix {
        let l = UnixListener::from_std(l)
            .map_err(|e| SetupError::Bind { addr: p.display().to_string(), source: e })?;
        unix_paths.push(p);
        accept_tasks.push(tokio::task::spawn_local(accept_unix(l, hub.clone())).abort_handle());
    }
    info!(
        "upsd ready: {} UPS, driver sockets in {}",
        loaded.ups.ups.len(),
        loaded.statepath.display()
    );
    {
        let mut h = hub.borrow_mut();
        h.core.handle_timeout(Instant::now());
        h.flush(None);
    }
    // `poll_timeout` looks at every session, too costly after every request
    // with thousands of clients: it is recomputed at most every
    // DEADLINE_REFRESH, and this loop never sleeps past the next refresh, so
    // a timer (idle clients, driver pings, staleness) is late by less than
    // that (NUT's own loop runs every 2 s). No timer is touched per request.
    loop {
        let now = Instant::now();
        let refresh = now + DEADLINE_REFRESH;
        let deadline = hub.borrow().core.poll_timeout().map_or(refresh, |d| d.min(refresh));
        tokio::select! {
            c = control.recv() => match c {
                Some(Control::Reload(l)) => {
                    info!("reloading the configuration");
                    for w in &l.warnings {
                        warn!("{w}");
                    }
                    let mut h = hub.borrow_mut();
                    let tls_mode = h.core.options().tls;
                    h.statepath = l.statepath.clone();
                    h.core.reconfigure(
                        l.options(tls_mode),
                        l.ups.ups.clone(),
                        l.users.clone(),
                        l.descs.clone(),
                        Instant::now(),
                    );
                    h.flush(None);
                }
                Some(Control::Shutdown) | None => break,
            },
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {
                let now = Instant::now();
                let mut h = hub.borrow_mut();
                if !h.stalled.is_empty() {
                    h.check_stalled(now);
                }
                if h.core.poll_timeout().is_some_and(|t| t <= now) {
                    h.core.handle_timeout(now);
                    h.flush(None);
                }
            }
        }
    }
    info!("shutting down");
    for t in accept_tasks {
        t.abort();
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(t) = poll_task {
        t.abort();
    }
    // Closes the polled sockets and breaks the hub's cycle with its tasks.
    hub.borrow_mut().clients.clear();
    for p in unix_paths {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
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
        | Notice::BadDriverLine { .. }
        // Notice level (tracing has none): rate-limited by the core.
        | Notice::AuthFailed { .. }
        | Notice::AuthFailuresSuppressed { .. } => warn!("{n}"),
        Notice::AccessDenied { .. } | Notice::BadClientLine { .. } | Notice::IdleTimeout { .. } => {
            debug!("{n}")
        }
        _ => info!("{n}"),
    }
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

    #[test]
    fn ipv6_listeners_are_v6_only() {
        let l = bind_one("[::1]:0".parse().unwrap()).unwrap();
        assert!(socket2::SockRef::from(&l).only_v6().unwrap());
        let l = bind_one("127.0.0.1:0".parse().unwrap()).unwrap();
        assert!(l.local_addr().unwrap().is_ipv4());
    }
}
