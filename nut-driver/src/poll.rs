//! The device side of a driver: the device, its state and its timing
//! (polls, full updates, reconnects with backoff, DATAOK/DATASTALE), on a
//! caller's clock. No I/O of its own: the device does its I/O inside the
//! calls this makes.

use crate::device::{Device, DeviceError, UpdateKind};
use crate::dstate::Dstate;
use nut_proto::sock::TrackingResult;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The timing of a driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Time between two updates (ups.conf `pollinterval`, `-i`; 2 s).
    pub poll_interval: Duration,
    /// Time between two full updates, for drivers that read only the
    /// status in between (usbhid-ups' `pollfreq`); `None`: every update is
    /// full.
    pub full_update: Option<Duration>,
    /// The first wait before reconnecting to a lost device; it doubles at
    /// each failure up to [`reconnect_max`](Self::reconnect_max).
    pub reconnect_min: Duration,
    /// The longest wait between two reconnection attempts.
    pub reconnect_max: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            poll_interval: Duration::from_secs(2),
            full_update: None,
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(30),
        }
    }
}

/// A request `upsd` forwarded to the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `INSTCMD <cmd> [<param>]`
    InstCmd {
        /// The command.
        cmd: String,
        /// Its parameter.
        param: Option<String>,
    },
    /// `SET <var> <value>`
    Set {
        /// The variable.
        var: String,
        /// The new value.
        value: String,
    },
}

impl Request {
    /// `INSTCMD` or `SET`.
    pub fn verb(&self) -> &'static str {
        match self {
            Request::InstCmd { .. } => "INSTCMD",
            Request::Set { .. } => "SET",
        }
    }

    /// The command or variable.
    pub fn name(&self) -> &str {
        match self {
            Request::InstCmd { cmd, .. } => cmd,
            Request::Set { var, .. } => var,
        }
    }
}

/// What happened on the device side, for the log.
#[derive(Debug)]
#[non_exhaustive]
pub enum PollEvent {
    /// An update failed; the data is stale until one succeeds.
    UpdateFailed(DeviceError),
    /// The data is valid again.
    Recovered,
    /// The device is gone; the core reconnects after `retry_in`.
    Disconnected {
        /// Why.
        error: DeviceError,
        /// When the next attempt is.
        retry_in: Duration,
    },
    /// A reconnection attempt failed; the next is after `retry_in`.
    ReconnectFailed {
        /// Why.
        error: DeviceError,
        /// When the next attempt is.
        retry_in: Duration,
    },
    /// The device is back.
    Reconnected,
    /// The device reported a fatal error; the driver must exit.
    Fatal(DeviceError),
    /// A request was handled.
    Handled {
        /// `SET` or `INSTCMD`.
        what: &'static str,
        /// Variable or command.
        name: String,
        /// The device's answer.
        result: TrackingResult,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// Connected; the next update and the next full update are due then.
    Up { next: Instant, next_full: Instant },
    /// Lost; the next attempt is due then, after `backoff`.
    Down { next: Instant, backoff: Duration },
    /// A fatal error happened; nothing more is done.
    Dead,
}

/// Most events kept; older ones are dropped.
const MAX_EVENTS: usize = 1024;

/// The device side of a driver: a [`Device`], its [`Dstate`] and its
/// [`Timing`], driven by the caller's clock.
///
/// The adapter calls [`poll_timeout`](Self::poll_timeout) to know when to
/// call [`handle_timeout`](Self::handle_timeout), passes requests to
/// [`handle_request`](Self::handle_request), and takes the encoded changes
/// with [`take_updates`](Self::take_updates) to send them to the socket
/// side.
#[derive(Debug)]
pub struct Poller<D> {
    device: D,
    st: Dstate,
    timing: Timing,
    link: Link,
    failing: bool,
    events: VecDeque<PollEvent>,
}

impl<D: Device> Poller<D> {
    /// A poller for `device`, starting from `st` (which holds the
    /// `driver.*` variables already).
    pub fn new(device: D, st: Dstate, timing: Timing) -> Self {
        Poller { device, st, timing, link: Link::Dead, failing: false, events: VecDeque::new() }
    }

    /// Connects and runs the first full update, as NUT's driver main does
    /// before it listens, then publishes `driver.parameter.pollinterval`
    /// and the `device.*` copies of `ups.mfr`/`ups.model`/`ups.serial`.
    ///
    /// A device that is not there yet is not an error: the data stays
    /// stale and the poller keeps trying. Only a fatal error is returned.
    pub fn start(&mut self, now: Instant) -> Result<(), DeviceError> {
        match self.device.connect(&mut self.st, now) {
            Ok(()) => {
                self.link = Link::Up { next: now, next_full: now };
                self.update(now);
            }
            Err(e) if e.is_fatal() => {
                self.link = Link::Dead;
                return Err(e);
            }
            Err(error) => {
                self.st.datastale();
                let backoff = self.timing.reconnect_min;
                self.link = Link::Down { next: now + backoff, backoff };
                self.event(PollEvent::Disconnected { error, retry_in: backoff });
            }
        }
        self.st.setinfo(
            "driver.parameter.pollinterval",
            &self.timing.poll_interval.as_secs().to_string(),
        );
        self.st.copy_device_ids();
        if let Link::Dead = self.link {
            if let Some(PollEvent::Fatal(_)) = self.events.back() {
                if let Some(PollEvent::Fatal(e)) = self.events.pop_back() {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Connects and runs the device's shutdown (driver `-k`), without
    /// retrying.
    pub fn kill_power(&mut self, now: Instant) -> Result<(), DeviceError> {
        self.device.connect(&mut self.st, now)?;
        self.device.shutdown(&mut self.st, now)
    }

    /// The published state.
    pub fn dstate(&self) -> &Dstate {
        &self.st
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The timing.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Whether the device is connected.
    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Up { .. })
    }

    /// Whether a fatal error stopped the poller.
    pub fn is_dead(&self) -> bool {
        matches!(self.link, Link::Dead)
    }

    /// Changes the poll interval (after a reload); the next update is
    /// rescheduled from now.
    pub fn set_poll_interval(&mut self, interval: Duration, now: Instant) {
        self.timing.poll_interval = interval;
        self.st.setinfo("driver.parameter.pollinterval", &interval.as_secs().to_string());
        if let Link::Up { next, next_full } = &mut self.link {
            *next = (*next).min(now + interval);
            let _ = next_full;
        }
    }

    /// Changes the state and the device together (reloads, embedders).
    pub fn with_state<R>(&mut self, f: impl FnOnce(&mut D, &mut Dstate) -> R) -> R {
        f(&mut self.device, &mut self.st)
    }

    /// The changes since the last call, as socket-protocol lines.
    pub fn take_updates(&mut self) -> Vec<u8> {
        self.st.take_outbox()
    }

    /// The next event to log.
    pub fn poll_event(&mut self) -> Option<PollEvent> {
        self.events.pop_front()
    }

    fn event(&mut self, e: PollEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due; `None`
    /// after a fatal error.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = match self.link {
            Link::Up { next, .. } => next,
            Link::Down { next, .. } => return Some(next),
            Link::Dead => return None,
        };
        Some(match self.device.next_wakeup() {
            Some(w) => w.min(own),
            None => own,
        })
    }

    /// Hands the device a waker of the thread that runs this poller
    /// ([`Device::set_waker`]).
    pub fn set_waker(&mut self, waker: crate::device::Waker) {
        self.device.set_waker(waker);
    }

    /// Runs what is due at `now`: an update, or a reconnection attempt.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.link {
            Link::Up { next, .. } => {
                let woken = self.device.next_wakeup().is_some_and(|w| w <= now);
                if now >= next || woken {
                    self.update(now);
                }
            }
            Link::Down { next, backoff } if now >= next => self.reconnect(now, backoff),
            _ => {}
        }
    }

    fn update(&mut self, now: Instant) {
        let Link::Up { next_full, .. } = self.link else { return };
        let full = self.timing.full_update.is_none() || now >= next_full;
        let kind = if full { UpdateKind::Full } else { UpdateKind::Quick };
        let next = now + self.timing.poll_interval;
        let next_full = match (full, self.timing.full_update) {
            (true, Some(p)) => now + p,
            (_, _) => next_full,
        };
        self.link = Link::Up { next, next_full };
        match self.device.update(&mut self.st, kind, now) {
            Ok(()) => {
                self.st.dataok();
                if self.failing {
                    self.failing = false;
                    self.event(PollEvent::Recovered);
                }
            }
            Err(e) => self.failed(e, now),
        }
    }

    fn failed(&mut self, error: DeviceError, now: Instant) {
        self.st.datastale();
        self.failing = true;
        match error {
            DeviceError::Disconnected(_) => {
                let backoff = self.timing.reconnect_min;
                self.link = Link::Down { next: now + backoff, backoff };
                self.event(PollEvent::Disconnected { error, retry_in: backoff });
            }
            DeviceError::Fatal(_) => {
                self.link = Link::Dead;
                self.event(PollEvent::Fatal(error));
            }
            _ => self.event(PollEvent::UpdateFailed(error)),
        }
    }

    fn reconnect(&mut self, now: Instant, backoff: Duration) {
        match self.device.connect(&mut self.st, now) {
            Ok(()) => {
                self.event(PollEvent::Reconnected);
                self.link = Link::Up { next: now, next_full: now };
                self.update(now);
                self.st.copy_device_ids();
            }
            Err(e) if e.is_fatal() => {
                self.link = Link::Dead;
                self.event(PollEvent::Fatal(e));
            }
            Err(error) => {
                let backoff = (backoff * 2).min(self.timing.reconnect_max.max(backoff));
                self.link = Link::Down { next: now + backoff, backoff };
                self.event(PollEvent::ReconnectFailed { error, retry_in: backoff });
            }
        }
    }

    /// Runs a request `upsd` forwarded. While the device is lost the
    /// answer is [`TrackingResult::Failed`].
    pub fn handle_request(&mut self, req: &Request, now: Instant) -> TrackingResult {
        let result = if !self.is_connected() {
            TrackingResult::Failed
        } else {
            match req {
                Request::InstCmd { cmd, param } => {
                    self.device.instcmd(&mut self.st, cmd, param.as_deref(), now)
                }
                Request::Set { var, value } => self.device.setvar(&mut self.st, var, value, now),
            }
        };
        self.event(PollEvent::Handled { what: req.verb(), name: req.name().to_string(), result });
        result
    }
}
