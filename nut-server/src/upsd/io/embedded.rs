//! `upsd` inside another program, configured in code.

use super::{
    Control, DEFAULT_STATEPATH, Family, Listeners, Loaded, LocalDrivers, SetupError, bind,
    bind_async, run_with,
};
use crate::upsd::conf::{Listen, UpsConf, UpsEntry, UpsdConf};
use crate::upsd::descs::Descriptions;
use crate::upsd::users::{User, Users};
use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use tokio::io::DuplexStream;
use tokio::sync::mpsc;

/// The driver name given to UPSes added with [`Embedded::with_ups`] (it
/// shows only in log lines).
pub const IN_PROCESS_DRIVER: &str = "in-process";

/// An `upsd` configured in code, for a program that serves its own UPS:
/// listeners, UPSes whose drivers run in the same process (no socket, see
/// [`LocalDrivers`]), and users. [`spawn`](Self::spawn) runs it on a
/// thread of its own; [`run`](Self::run) inside the caller's runtime.
///
/// With `nut-driver`'s in-process link (feature `inproc`) as the driver:
///
/// ```no_run
/// use nut_driver::{Device, DeviceError, Dstate, UpdateKind, inproc::InProcess};
/// use nut_server::upsd::io::Embedded;
/// use nut_server::upsd::User;
/// use std::time::Instant;
///
/// /// A UPS that is always on line.
/// struct OnLine;
/// impl Device for OnLine {
///     fn connect(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
///         self.update(st, UpdateKind::Full, now)
///     }
///     fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
///         st.setinfo("ups.status", "OL");
///         Ok(())
///     }
/// }
///
/// let driver = InProcess::spawn(OnLine)?;
/// let upsd = Embedded::new()
///     .listen("127.0.0.1:3493".parse()?)
///     .with_ups("myups", Some("Rack UPS"), move || driver.connect())
///     .with_user(User::upsmon_primary("monuser", "secret"))
///     .spawn()?;
/// println!("serving on {:?}", upsd.local_addrs());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Embedded {
    loaded: Loaded,
    drivers: LocalDrivers,
}

impl Default for Embedded {
    fn default() -> Self {
        Self::new()
    }
}

impl Embedded {
    /// No UPS, no user, NUT's defaults otherwise (listening on
    /// `127.0.0.1` and `::1` port 3493 unless [`listen`](Self::listen) is
    /// called).
    pub fn new() -> Self {
        Embedded {
            loaded: Loaded {
                upsd: UpsdConf::default(),
                ups: UpsConf::default(),
                users: Users::new(),
                descs: Descriptions::new(),
                statepath: DEFAULT_STATEPATH.into(),
                warnings: Vec::new(),
            },
            drivers: LocalDrivers::new(),
        }
    }

    /// Also listens on `addr` (port 0: a free port, see
    /// [`Running::local_addrs`]).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.loaded.upsd.listen.push(Listen { addr: addr.ip().to_string(), port: addr.port() });
        self
    }

    /// Serves the UPS `name`, whose driver is reached through `connect`
    /// (for example `move || driver.connect()` with `nut-driver`'s
    /// `inproc::InProcess`).
    pub fn with_ups(
        mut self,
        name: &str,
        desc: Option<&str>,
        connect: impl FnMut() -> io::Result<DuplexStream> + Send + 'static,
    ) -> Self {
        self.loaded.ups.ups.retain(|u| !u.name.eq_ignore_ascii_case(name));
        self.loaded.ups.ups.push(UpsEntry::new(name, IN_PROCESS_DRIVER, "none", desc));
        self.drivers.add(name, connect);
        self
    }

    /// Adds a user (see [`User::upsmon_primary`] for the rights `upsmon` needs).
    pub fn with_user(mut self, user: User) -> Self {
        self.loaded.users.add(user);
        self
    }

    /// The rest of the configuration (`MAXAGE`, TLS, `cmdvartab`, UPSes
    /// reached through a socket in `statepath`, ...).
    pub fn config_mut(&mut self) -> &mut Loaded {
        &mut self.loaded
    }

    /// Opens the listeners (on the calling thread, so that an address in
    /// use is an error here) and serves on a new thread until the
    /// returned [`Running`] is shut down or dropped.
    pub fn spawn(self) -> Result<Running, SetupError> {
        let listeners = bind(&self.loaded.upsd, Family::Any)?;
        let addrs = listeners.local_addrs();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SetupError::Start)?;
        let (tx, rx) = mpsc::channel(4);
        let thread = std::thread::Builder::new()
            .name("upsd".into())
            .spawn(move || rt.block_on(run_with(listeners, self.loaded, rx, self.drivers)))
            .map_err(SetupError::Start)?;
        Ok(Running { addrs, control: tx, thread: Some(thread) })
    }

    /// Opens the listeners and serves inside the caller's tokio runtime
    /// until [`Control::Shutdown`] arrives on `control` (or it is closed).
    /// The future is not `Send` (see [`run`](super::run)).
    pub async fn run(self, control: mpsc::Receiver<Control>) -> Result<(), SetupError> {
        let listeners: Listeners = bind_async(&self.loaded.upsd, Family::Any).await?;
        run_with(listeners, self.loaded, control, self.drivers).await
    }
}

/// An [`Embedded`] server running on its own thread. Dropping it stops the
/// server and waits for the thread.
#[derive(Debug)]
pub struct Running {
    addrs: Vec<SocketAddr>,
    control: mpsc::Sender<Control>,
    thread: Option<JoinHandle<Result<(), SetupError>>>,
}

impl Running {
    /// The TCP addresses served (with the port chosen for port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Stops the server, closing every connection, and returns how it
    /// ended.
    pub fn shutdown(mut self) -> Result<(), SetupError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), SetupError> {
        let Some(t) = self.thread.take() else { return Ok(()) };
        // A full queue or a closed channel: the server is stopping anyway
        // once the sender is gone; `Shutdown` is the prompt way.
        let _ = self.control.try_send(Control::Shutdown);
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.control, closed));
        t.join().unwrap_or_else(|_| {
            Err(SetupError::Start(io::Error::other("the server thread panicked")))
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
