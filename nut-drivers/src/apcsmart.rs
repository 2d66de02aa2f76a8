//! `apcsmart`: NUT 2.8.0's APC Smart protocol driver, on the sans-IO
//! [`nut_apc::Session`].
//!
//! [`ApcSmart`] is the [`Device`]: it drives the session synchronously
//! inside each call (write what the session asks, read until its
//! deadline, feed the bytes or the timeout back) and publishes what the
//! session found into the driver state.
//!
//! * `connect` opens the port (2400 8N1, the 940-0095B cable's DTR/RTS),
//!   enters smart mode and reads the status (`Q`) before identifying the
//!   unit ([`Event::EarlyStatus`]), so that `ups.status` is served after
//!   two exchanges; the next updates carry on with NUT's identification
//!   and then poll (identification has just read every other variable,
//!   so the first poll asks for the status only). A unit that gives no
//!   status then is identified and polled once before `connect` returns.
//! * `update` reads whatever arrived (alert bytes between polls) and runs
//!   the session's poll when it is due. Between polls it blocks in a read
//!   for up to [`ALERT_WAIT`] and returns as soon as alert bytes were
//!   handled; [`Device::next_wakeup`] asks the core to call again at once,
//!   so an alert reaches `upsd` within milliseconds while the full poll
//!   keeps NUT's interval, and requests wait at most [`ALERT_WAIT`].
//! * `instcmd` / `setvar` queue the request and run the session until its
//!   result is known.
//! * `-k` (`shutdown`) runs [`Session::shutdown`]: the `sdtype` or
//!   `advorder` sequence, as NUT; the unit is not identified first (NUT
//!   skips `upsdrv_initinfo` for `-k`).
//!
//! Before each read the port is set to whole lines (canonical input, one
//! wake-up per answer) when the session waits for an LF-ended answer, and
//! to single bytes otherwise ([`Session::awaits_line`]): between polls, so
//! that a lone alert byte is read at once, and for the bare `*` of some
//! commands. `ttymode=raw` keeps the port raw throughout, as NUT does.
//!
//! A lost port is [`DeviceError::Disconnected`] (the core reopens it with
//! a backoff); a unit that does not answer `SM` is logged and retried the
//! same way instead of ending the driver.

use nut_apc::{CmdStatus, Event, Fatal, Options, Request, RequestId, Session, SetStatus};
use nut_driver::params::{DriverParams, VarSpec};
use nut_driver::transport::{ByteStream, LinkError};
use nut_driver::{Device, DeviceError, Dstate, Message, UpdateKind};
use nut_proto::sock::TrackingResult;
use std::time::{Duration, Instant};

/// NUT 2.8.0's apcsmart version.
pub const DRIVER_VERSION: &str = "3.2";

/// Between polls, how long one `update` waits for alert bytes (a blocking
/// read that returns as soon as bytes arrive) before it lets the core
/// serve requests; the core calls `update` again at once.
pub const ALERT_WAIT: Duration = Duration::from_millis(1000);

/// The longest identification, first poll, request or shutdown takes.
const LONG_LIMIT: Duration = Duration::from_secs(120);

/// apcsmart's settings (NUT 2.8.0), in NUT's order.
pub const VARS: &[VarSpec] = &[
    VarSpec::value("ttymode", "tty discipline selection"),
    VarSpec::value("cable", "alternate cable (940-0095B) selection"),
    VarSpec::value("awd", "hard hibernate's additional wakeup delay"),
    VarSpec::value("sdtype", "simple shutdown method"),
    VarSpec::value("advorder", "advanced shutdown control"),
    VarSpec::value("cshdelay", "CS hack delay"),
];

/// The session [`Options`] from the driver settings; invalid values are
/// fatal, as in NUT.
pub fn options_from_params(params: &DriverParams) -> Result<Options, DeviceError> {
    let mut opts = Options { poll_interval: params.poll_interval(), ..Options::default() };
    for (name, _) in nut_apc::options::OPTION_NAMES {
        if let Some(v) = params.get(name) {
            opts.set(name, v).map_err(|e| {
                DeviceError::fatal(Message::cause(format!(
                    "invalid value ({v}) for option '{name}': {e}"
                )))
            })?;
        }
    }
    Ok(opts)
}

/// Opens the link for a connect attempt.
pub type Open<S> = Box<dyn FnMut(&Options) -> Result<S, LinkError> + Send>;

/// Switches the link between whole answers (`true`: a read returns one
/// complete LF-ended line, one wake-up per answer) and single bytes
/// (`false`: alert bytes are readable as soon as they arrive).
pub type LineMode<S> = Box<dyn FnMut(&mut S, bool) -> Result<(), LinkError> + Send>;

/// The apcsmart device over any [`ByteStream`].
pub struct ApcSmart<S: ByteStream> {
    open: Open<S>,
    opts: Options,
    link: Option<S>,
    session: Option<Session>,
    origin: Instant,
    stale: bool,
    kill: bool,
    done: Vec<Event>,
    wake_at: Option<Instant>,
    /// The session time of the next poll while the session is idle.
    idle_at: Option<Duration>,
    /// The session time of the last `handle_*` call.
    last_t: Duration,
    /// `connect` ran the first poll: the update right after it (the
    /// core's first, before the socket is served) returns at once instead
    /// of waiting for the second poll.
    polled: bool,
    /// Whole answers during polls, single bytes otherwise (see
    /// [`with_line_mode`](ApcSmart::with_line_mode)).
    line_mode: Option<LineMode<S>>,
    /// Whether the link is in whole-answer mode now.
    lines: bool,
}

impl<S: ByteStream> std::fmt::Debug for ApcSmart<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApcSmart")
            .field("opts", &self.opts)
            .field("connected", &self.link.is_some())
            .field("session", &self.session)
            .finish()
    }
}

fn cmd_result(s: CmdStatus) -> TrackingResult {
    match s {
        CmdStatus::Handled => TrackingResult::Handled,
        CmdStatus::Failed => TrackingResult::Failed,
        CmdStatus::Invalid => TrackingResult::Invalid,
    }
}

fn set_result(s: SetStatus) -> TrackingResult {
    match s {
        SetStatus::Handled => TrackingResult::Handled,
        SetStatus::Failed => TrackingResult::Failed,
        SetStatus::Unknown => TrackingResult::Unknown,
    }
}

impl<S: ByteStream> ApcSmart<S> {
    /// A device that opens its link with `open` at each connect. `kill`:
    /// the driver runs `-k`, so `connect` only opens the port.
    pub fn new(open: Open<S>, opts: Options, kill: bool) -> Self {
        ApcSmart {
            open,
            opts,
            link: None,
            session: None,
            origin: Instant::now(),
            stale: true,
            kill,
            done: Vec::new(),
            wake_at: None,
            idle_at: None,
            last_t: Duration::ZERO,
            polled: false,
            line_mode: None,
            lines: false,
        }
    }

    /// Reads the answers of the regular polls as whole lines (one wake-up
    /// per answer instead of one per byte) and single bytes between polls
    /// (alerts) and during identification, commands and shutdown.
    pub fn with_line_mode(mut self, f: LineMode<S>) -> Self {
        self.line_mode = Some(f);
        self
    }

    /// Puts the link in whole-answer mode (`true`) or byte mode.
    fn set_lines(&mut self, on: bool) {
        if self.lines == on {
            return;
        }
        let (Some(f), Some(link)) = (self.line_mode.as_mut(), self.link.as_mut()) else { return };
        match f(link, on) {
            Ok(()) => self.lines = on,
            Err(e) => {
                tracing::warn!("serial line mode: {e}; reading byte by byte from now on");
                self.line_mode = None;
            }
        }
    }

    /// The session, once connected.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    fn t(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.origin)
    }

    fn deadline(&self) -> Option<Instant> {
        self.session.as_ref().and_then(Session::poll_timeout).map(|d| self.origin + d)
    }

    fn lost(&mut self, e: LinkError) -> DeviceError {
        self.link = None;
        self.session = None;
        let e = e.into_device_error();
        if !e.is_disconnected() {
            return DeviceError::disconnected(Message::cause(format!("serial port error: {e}")));
        }
        e
    }

    /// Writes what the session asks; `true` when something was written.
    fn flush_tx(&mut self) -> Result<bool, DeviceError> {
        let mut wrote = false;
        loop {
            let Some(t) = self.session.as_mut().and_then(Session::poll_transmit) else {
                return Ok(wrote);
            };
            // The line mode the answer needs, set before the query goes out: an
            // answer that began before a switch would be handed over in pieces.
            self.set_lines(self.wants_lines());
            let Some(link) = self.link.as_mut() else {
                return Err(DeviceError::disconnected(Message::cause("not connected")));
            };
            tracing::debug!("write {:?}", String::from_utf8_lossy(&t.bytes));
            let r = if t.discard_input { link.discard_input() } else { Ok(()) };
            let r =
                r.and_then(|()| link.write_all(&t.bytes, Instant::now() + Duration::from_secs(2)));
            match r {
                Ok(()) => wrote = true,
                Err(LinkError::Timeout) => {
                    tracing::warn!("serial write timed out");
                    wrote = true;
                }
                Err(e) => return Err(self.lost(e)),
            }
        }
    }

    /// Publishes the session's changes and handles its events; the
    /// finished ones (results, Ready, Closed, ...) are kept in `done`.
    fn pump_events(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        let Some(session) = self.session.as_mut() else { return Ok(()) };
        session.publish_to(st);
        let mut fatal = None;
        while let Some(e) = session.poll_event() {
            match &e {
                Event::DataOk => self.stale = false,
                // Polling starts at once; the second poll is due then.
                // Identification ends: `device.*` from `ups.*`, as NUT's core
                // does then (the core's own copy after `connect` comes before
                // it when the status was served first).
                Event::Ready => {
                    self.idle_at = Some(self.last_t + self.opts.poll_interval);
                    st.copy_device_ids();
                }
                Event::DataStale => {
                    self.stale = true;
                    tracing::warn!("communications with the UPS lost: data stale");
                }
                Event::Alert(a) => tracing::debug!("alert: {a:?}"),
                Event::Fatal(f) => fatal = Some(f.clone()),
                _ => {}
            }
            self.done.push(e);
        }
        if let Some(f) = fatal {
            self.session = None;
            let port_msg = match f {
                Fatal::NoSmartMode => {
                    "unable to detect an APC Smart protocol UPS on the port".to_string()
                }
                Fatal::Communication => "problems with communicating with the UPS".to_string(),
                other => format!("the UPS gave an unusable answer: {other:?}"),
            };
            return Err(DeviceError::disconnected(Message::cause(port_msg)));
        }
        Ok(())
    }

    /// Runs the session until an event matches `stop` (returned), or
    /// `limit` passes (`None`), reading with the session's deadlines.
    fn drive(
        &mut self,
        st: &mut Dstate,
        limit: Instant,
        stop: impl Fn(&Event) -> bool,
    ) -> Result<Option<Event>, DeviceError> {
        loop {
            self.flush_tx()?;
            self.pump_events(st)?;
            if let Some(i) = self.done.iter().position(&stop) {
                let e = self.done.remove(i);
                self.done.clear();
                return Ok(Some(e));
            }
            self.done.clear();
            if self.session.is_none() {
                return Err(DeviceError::disconnected(Message::cause("session ended")));
            }
            let now = Instant::now();
            if now >= limit {
                return Ok(None);
            }
            let until = self.deadline().unwrap_or(limit).min(limit);
            self.set_lines(self.wants_lines());
            self.read_once(until)?;
        }
    }

    /// One read waiting until `until` at most: input is fed to the session,
    /// a passed deadline becomes `handle_timeout`. `true` when bytes came.
    fn read_once(&mut self, until: Instant) -> Result<bool, DeviceError> {
        let deadline = until.max(Instant::now() + Duration::from_millis(1));
        let mut buf = [0u8; 512];
        let Some(link) = self.link.as_mut() else {
            return Err(DeviceError::disconnected(Message::cause("not connected")));
        };
        match link.read(&mut buf, deadline) {
            Ok(n) => {
                tracing::debug!("read {:?}", String::from_utf8_lossy(buf.get(..n).unwrap_or(&buf)));
                let now = self.t(Instant::now());
                let starts_poll = self.is_idle() && self.idle_at.is_some_and(|d| d <= now);
                self.last_t = now;
                if let Some(s) = self.session.as_mut() {
                    s.handle_input(buf.get(..n).unwrap_or(&buf), now);
                }
                if starts_poll {
                    self.idle_at = Some(now + self.opts.poll_interval);
                }
                Ok(true)
            }
            Err(LinkError::Timeout) => {
                let now = Instant::now();
                if let Some(sdl) = self.deadline().filter(|d| *d <= deadline) {
                    if now < sdl {
                        // A link that does not wait (a test double).
                        std::thread::sleep((sdl - now).min(Duration::from_millis(5)));
                        if Instant::now() < sdl {
                            return Ok(false);
                        }
                    }
                    let t = self.t(Instant::now()).max(self.t(sdl));
                    let was_idle = self.is_idle();
                    self.last_t = t;
                    if let Some(s) = self.session.as_mut() {
                        s.handle_timeout(t);
                    }
                    if was_idle {
                        // The poll started now; the next one is due then.
                        self.idle_at = Some(t + self.opts.poll_interval);
                    }
                } else if now < deadline {
                    std::thread::sleep((deadline - now).min(Duration::from_millis(5)));
                }
                Ok(false)
            }
            Err(e @ LinkError::Disconnected(_)) => Err(self.lost(e)),
            Err(e) => {
                // EINTR and the like: the port is still there.
                tracing::debug!("serial read: {e}");
                std::thread::sleep(Duration::from_millis(5));
                Ok(false)
            }
        }
    }

    fn open_link(&mut self) -> Result<(), DeviceError> {
        self.link = None;
        self.session = None;
        // A port opens in byte mode.
        self.lines = false;
        match (self.open)(&self.opts) {
            Ok(s) => {
                self.link = Some(s);
                Ok(())
            }
            Err(e) => Err(e.into_device_error()),
        }
    }

    /// Reads what arrives and runs what is due, until a poll or an alert
    /// was handled and the session waits for its next poll, or for at
    /// most [`ALERT_WAIT`].
    fn run(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        let start = Instant::now();
        let end = start + ALERT_WAIT;
        let mut worked = false;
        loop {
            worked |= self.flush_tx()?;
            self.pump_events(st)?;
            self.done.clear();
            if worked && self.is_idle() {
                // A poll finished or alert bytes were handled: publish now.
                break;
            }
            let now = Instant::now();
            // A poll under way at the end of the window is finished first
            // (for at most one more window): cutting it would cost a
            // wake-up for nothing, as a request could not go before the
            // poll's remaining exchanges anyway.
            let busy = !self.is_idle() && now < end + ALERT_WAIT;
            if now >= end && !busy {
                break;
            }
            let limit = if busy { end + ALERT_WAIT } else { end };
            let until = self.deadline().unwrap_or(limit).min(limit);
            self.set_lines(self.wants_lines());
            worked |= self.read_once(until)?;
        }
        self.wake_at = Some(Instant::now());
        Ok(())
    }

    /// How the next read should find the port: whole lines while an
    /// LF-ended answer is awaited (one wake-up per answer), single bytes
    /// otherwise (alert bytes between polls, the bare `*` of commands).
    /// `ttymode=raw` keeps the port raw, as NUT does.
    fn wants_lines(&self) -> bool {
        self.opts.ttymode == nut_apc::options::TtyMode::Canonical
            && self.session.as_ref().is_some_and(Session::awaits_line)
    }

    /// Whether the session waits for its next poll (nothing under way).
    fn is_idle(&self) -> bool {
        let d = self.session.as_ref().and_then(Session::poll_timeout);
        d.is_some() && d == self.idle_at
    }

    fn stale_error(&self) -> DeviceError {
        DeviceError::stale(Message::cause("no valid answer from the UPS"))
    }

    fn wait_request(
        &mut self,
        st: &mut Dstate,
        id: RequestId,
    ) -> Result<Option<Event>, DeviceError> {
        self.drive(st, Instant::now() + LONG_LIMIT, |e| {
            matches!(e, Event::InstcmdDone { id: i, .. } | Event::SetDone { id: i, .. } if *i == id)
        })
    }
}

impl<S: ByteStream + 'static> Device for ApcSmart<S> {
    fn connect(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        self.open_link()?;
        if self.kill {
            return Ok(());
        }
        self.stale = true;
        self.session = Some(Session::new(self.opts.clone(), self.t(now)));
        let first = self.drive(st, Instant::now() + LONG_LIMIT, |e| {
            matches!(e, Event::EarlyStatus | Event::Ready)
        })?;
        match first {
            // The status is known: the core serves it now, and the next
            // updates carry on with the identification, then poll.
            Some(Event::EarlyStatus) => self.wake_at = Some(Instant::now()),
            // The unit gave no status before identification: the first
            // poll, so that the core serves complete data at once.
            Some(_) => self.run(st)?,
            None => {
                self.session = None;
                return Err(DeviceError::disconnected(Message::cause("identification timed out")));
            }
        }
        self.polled = true;
        Ok(())
    }

    fn update(
        &mut self,
        st: &mut Dstate,
        _kind: UpdateKind,
        _now: Instant,
    ) -> Result<(), DeviceError> {
        if self.session.is_none() {
            return Err(DeviceError::disconnected(Message::cause("not connected")));
        }
        if std::mem::take(&mut self.polled) {
            // Right after `connect`'s poll: only what is already there (an
            // alert, a lost port), without waiting for the next poll.
            self.flush_tx()?;
            self.read_once(Instant::now())?;
        } else {
            self.run(st)?;
        }
        self.pump_events(st)?;
        self.done.clear();
        if self.stale { Err(self.stale_error()) } else { Ok(()) }
    }

    fn instcmd(
        &mut self,
        st: &mut Dstate,
        cmd: &str,
        param: Option<&str>,
        now: Instant,
    ) -> TrackingResult {
        let t = self.t(now);
        let Some(s) = self.session.as_mut() else { return TrackingResult::Failed };
        match s.instcmd(cmd, param, t) {
            Request::Done(r) => cmd_result(r),
            Request::Queued(id) => match self.wait_request(st, id) {
                Ok(Some(Event::InstcmdDone { status, .. })) => cmd_result(status),
                Ok(_) => TrackingResult::Failed,
                Err(e) => {
                    tracing::warn!("instcmd {cmd}: {e}");
                    TrackingResult::Failed
                }
            },
        }
    }

    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, now: Instant) -> TrackingResult {
        let t = self.t(now);
        let Some(s) = self.session.as_mut() else { return TrackingResult::Failed };
        match s.setvar(var, value, t) {
            Request::Done(r) => set_result(r),
            Request::Queued(id) => match self.wait_request(st, id) {
                Ok(Some(Event::SetDone { status, .. })) => set_result(status),
                Ok(_) => TrackingResult::Failed,
                Err(e) => {
                    tracing::warn!("set {var}: {e}");
                    TrackingResult::Failed
                }
            },
        }
    }

    fn shutdown(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        if self.link.is_none() {
            self.open_link()?;
        }
        self.session = Some(Session::shutdown(self.opts.clone(), self.t(now)));
        let done =
            self.drive(st, Instant::now() + LONG_LIMIT, |e| matches!(e, Event::ShutdownDone(_)))?;
        // Back to dumb mode (`R`), as NUT does at exit.
        let _ = self.drive(st, Instant::now() + Duration::from_secs(10), |e| *e == Event::Closed);
        match done {
            Some(Event::ShutdownDone(CmdStatus::Handled)) => Ok(()),
            _ => Err(DeviceError::fatal(Message::cause("shutdown failed"))),
        }
    }

    fn next_wakeup(&self) -> Option<Instant> {
        let own = self.deadline()?;
        match self.wake_at {
            Some(w) if !self.stale => Some(own.min(w)),
            _ => Some(own),
        }
    }
}

/// The `apcsmart` program.
#[cfg(feature = "serial")]
#[derive(Debug)]
pub struct Apcsmart;

#[cfg(feature = "serial")]
impl nut_driver::run::DriverProgram for Apcsmart {
    type Device = ApcSmart<crate::serial::Serial>;
    const NAME: &'static str = "apcsmart";
    const DESCRIPTION: &'static str = "APC Smart protocol driver";
    const VERSION: &'static str = DRIVER_VERSION;
    const OPTIONS: &'static [VarSpec] = VARS;

    fn create(
        params: &DriverParams,
        env: &nut_driver::run::Env,
    ) -> Result<Self::Device, DeviceError> {
        let opts = options_from_params(params)?;
        let Some(path) = params.port.clone() else {
            return Err(DeviceError::fatal(Message::cause("No port specified!")));
        };
        let open: Open<crate::serial::Serial> = Box::new(move |o: &Options| {
            let (dtr, rts) = match o.cable_lines() {
                Some((d, r)) => (Some(d), Some(r)),
                None => (None, None),
            };
            // Answers end with LF; in byte mode a lone alert byte waits one
            // gathering pause (25 ms at 2400 baud).
            crate::serial::Serial::open_switchable(
                &path,
                crate::serial::LineSettings { baud: nut_apc::options::BAUD, dtr, rts },
            )
            .map(|s| s.gather_until(b"\n"))
        });
        let lines: LineMode<crate::serial::Serial> =
            Box::new(|s, on| s.set_lines(on.then_some(b'\n')));
        Ok(ApcSmart::new(open, opts, env.kill_power).with_line_mode(lines))
    }
}
