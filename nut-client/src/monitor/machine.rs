//! The sans-IO monitor: NUT 2.8.0's `upsmon` decisions as a state machine.

use super::conf::{ConfError, MonitorDef, Role, UpsmonConf};
use super::notify::{NotifyFlags, NotifyKind, format_message};
use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// How often a primary asks `GET NUMLOGINS` while waiting for secondaries.
pub const HOSTSYNC_ROUND: Duration = Duration::from_millis(250);

/// `NOPARENT` is repeated at most this often.
pub const NOPARENT_INTERVAL: Duration = Duration::from_secs(120);

/// The line NUT logs and walls when the shutdown starts.
pub const SHUTDOWN_ALERT: &str = "Executing automatic power-fail shutdown";

/// Identifies one monitored UPS for the life of a [`Monitor`] (stable
/// across reloads as long as the `MONITOR` system name stays).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpsId(pub u32);

impl fmt::Display for UpsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The status flags the monitor tracks for a UPS.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatusFlags(u16);

macro_rules! flag_consts {
    ($($(#[$d:meta])* $n:ident = $bit:literal, $s:literal;)*) => {
        impl StatusFlags {
            $($(#[$d])* pub const $n: StatusFlags = StatusFlags(1 << $bit);)*
            const NAMES: &'static [(StatusFlags, &'static str)] = &[$((StatusFlags::$n, $s),)*];
        }
    };
}

flag_consts! {
    /// `OL`: on line power.
    ONLINE = 0, "OL";
    /// `OB`: on battery.
    ONBATT = 1, "OB";
    /// `LB`: low battery (also forced on a UPS lost while on battery).
    LOWBATT = 2, "LB";
    /// `FSD`: forced shutdown.
    FSD = 3, "FSD";
    /// `CAL`: calibrating.
    CAL = 4, "CAL";
    /// `OFF`.
    OFF = 5, "OFF";
    /// `BYPASS`.
    BYPASS = 6, "BYPASS";
    /// `OVER`: overloaded.
    OVER = 7, "OVER";
    /// `TRIM`.
    TRIM = 8, "TRIM";
    /// `BOOST`.
    BOOST = 9, "BOOST";
    /// `ALARM`.
    ALARM = 10, "ALARM";
}

impl StatusFlags {
    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: StatusFlags) -> bool {
        self.0 & other.0 == other.0
    }

    fn set(&mut self, f: StatusFlags) {
        self.0 |= f.0;
    }

    fn clear(&mut self, f: StatusFlags) {
        self.0 &= !f.0;
    }
}

impl fmt::Debug for StatusFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<&str> =
            Self::NAMES.iter().filter(|(fl, _)| self.contains(*fl)).map(|(_, n)| *n).collect();
        write!(f, "[{}]", v.join(" "))
    }
}

/// What the monitor knows about the link to a UPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommState {
    /// Never polled yet (the first success is silent).
    Unknown,
    /// The last poll failed.
    Bad,
    /// The last poll succeeded.
    Ok,
}

/// Why a poll gave no status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollFailure {
    /// No connection could be made (nothing was open before).
    ConnectFailed,
    /// The connection broke; the adapter dropped it.
    ConnectionLost,
    /// The server answered with an error (`ERR DATA-STALE`, `ERR
    /// UNKNOWN-UPS`...); the connection stays open.
    ServerError,
}

/// A notification to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The event (`NOTIFYTYPE`).
    pub kind: NotifyKind,
    /// The UPS it is about (`None` for `SHUTDOWN` and `NOPARENT`).
    pub ups: Option<UpsId>,
    /// `UPSNAME`: the `MONITOR` system name, empty for host events.
    pub system: String,
    /// The message (`NOTIFYMSG` or NUT's stock text, filled in).
    pub message: String,
    /// What to do with it.
    pub flags: NotifyFlags,
}

/// Severity of a [`Action::Log`] line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Informational.
    Info,
    /// Something looks wrong.
    Warning,
    /// Shutdown-related.
    Critical,
}

/// What the monitor asks its driver to do. Run them in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Poll the UPS: connect (and `USERNAME`/`PASSWORD`/`LOGIN`, then
    /// `PRIMARY` for primaries) if not connected, then `GET VAR <ups>
    /// ups.status`; report with [`Monitor::handle_status`] or
    /// [`Monitor::handle_poll_failure`].
    Poll(UpsId),
    /// Deliver a notification (syslog, wall, `NOTIFYCMD`, per its flags;
    /// nothing at all when they hold `IGNORE`). Every event is reported,
    /// ignored ones included, so embedders can narrate them all.
    Notify(Notification),
    /// Send `FSD <ups>` (the outcome is only logged, as in NUT).
    SendFsd(UpsId),
    /// Send `GET NUMLOGINS <ups>`; report with [`Monitor::handle_numlogins`].
    QueryNumLogins(UpsId),
    /// Log at critical level and send to every terminal.
    Alert(String),
    /// Log a line.
    Log(LogLevel, String),
    /// Close the connection to this UPS (after a reload changed or removed it).
    Disconnect(UpsId),
    /// Create POWERDOWNFLAG and run SHUTDOWNCMD. Issued at most once.
    Shutdown,
}

/// The text to log for an action: a notification's message, an alert's
/// or a log line's text; the other actions are named (`poll #0`, `FSD
/// #0`, `NUMLOGINS #0`, `disconnect #0`, `shutdown`).
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Poll(id) => write!(f, "poll {id}"),
            Action::Notify(n) => f.write_str(&n.message),
            Action::SendFsd(id) => write!(f, "FSD {id}"),
            Action::QueryNumLogins(id) => write!(f, "NUMLOGINS {id}"),
            Action::Alert(text) | Action::Log(_, text) => f.write_str(text),
            Action::Disconnect(id) => write!(f, "disconnect {id}"),
            Action::Shutdown => f.write_str("shutdown"),
        }
    }
}

/// Where the monitor is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Polling.
    Monitoring,
    /// A primary has set FSD and waits for secondaries to log out.
    WaitingForSecondaries,
    /// `SHUTDOWN` was notified; waiting FINALDELAY.
    FinalDelay,
    /// [`Action::Shutdown`] was issued; nothing more will happen.
    ShutdownIssued,
}

/// One monitored UPS.
#[derive(Clone, Debug)]
pub struct UpsState {
    id: UpsId,
    def: MonitorDef,
    flags: StatusFlags,
    comm: CommState,
    /// -1 at start (first OL silent), 0 after OB or a dropped link, 1 on line.
    line_state: i8,
    last_poll: Option<Instant>,
    last_noncrit: Option<Instant>,
    last_rb_warn: Option<Instant>,
    last_nc_warn: Option<Instant>,
}

impl UpsState {
    fn new(id: UpsId, def: MonitorDef) -> Self {
        UpsState {
            id,
            def,
            flags: StatusFlags::default(),
            comm: CommState::Unknown,
            line_state: -1,
            last_poll: None,
            last_noncrit: None,
            last_rb_warn: None,
            last_nc_warn: None,
        }
    }

    /// Its id.
    pub fn id(&self) -> UpsId {
        self.id
    }

    /// Its `MONITOR` line.
    pub fn def(&self) -> &MonitorDef {
        &self.def
    }

    /// The current flags.
    pub fn flags(&self) -> StatusFlags {
        self.flags
    }

    /// The link state.
    pub fn comm(&self) -> CommState {
        self.comm
    }

    /// Whether we are its primary.
    pub fn is_primary(&self) -> bool {
        self.def.role == Role::Primary
    }

    /// Time of the last successful poll.
    pub fn last_poll(&self) -> Option<Instant> {
        self.last_poll
    }
}

/// Time since `t`; "never" is infinitely long ago (NUT's `time_t` 0).
fn since(now: Instant, t: Option<Instant>) -> Duration {
    match t {
        Some(t) => now.saturating_duration_since(t),
        None => Duration::MAX,
    }
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

#[derive(Clone, Debug)]
enum State {
    Monitoring,
    HostSync { start: Instant, next_round: Option<Instant>, awaiting: BTreeSet<UpsId>, max: u32 },
    FinalDelay { until: Instant },
    Done,
}

/// NUT 2.8.0's `upsmon` logic with no socket and no clock.
///
/// The driver loop: call [`handle_timeout`](Monitor::handle_timeout) when
/// [`poll_timeout`](Monitor::poll_timeout) is reached, run every
/// [`Action`] from [`poll_action`](Monitor::poll_action) in order, and feed
/// the answers back (`handle_status`, `handle_poll_failure`,
/// `handle_numlogins`). A poll cycle ends when every UPS of the cycle has
/// been reported; then the critical rule is evaluated and the next cycle is
/// due POLLFREQ (or POLLFREQALERT) seconds later.
///
/// ```
/// use nut_client::monitor::{Action, Monitor, NotifyKind, conf};
/// use std::time::{Duration, Instant};
/// let c = conf::parse("upsmon.conf", b"MONITOR u@h 1 mon pw secondary\nFINALDELAY 0\n").unwrap().conf;
/// let t0 = Instant::now();
/// let mut m = Monitor::new(c, t0);
/// m.handle_timeout(t0);
/// let Some(Action::Poll(id)) = m.poll_action() else { panic!() };
/// m.handle_status(id, t0, "OB DISCHRG");
/// let Some(Action::Notify(n)) = m.poll_action() else { panic!() };
/// assert_eq!((n.kind, n.message.as_str()), (NotifyKind::OnBatt, "UPS u@h on battery"));
/// assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_secs(5)));
/// ```
#[derive(Debug)]
pub struct Monitor {
    conf: UpsmonConf,
    ups: Vec<UpsState>,
    next_id: u32,
    state: State,
    next_cycle: Instant,
    awaiting: BTreeSet<UpsId>,
    sleep: u32,
    actions: VecDeque<Action>,
    last_noparent: Option<Instant>,
    shutdown_issued: bool,
}

impl Monitor {
    /// A monitor for `conf`; the first poll cycle is due at `now`.
    pub fn new(conf: UpsmonConf, now: Instant) -> Self {
        let mut m = Monitor {
            ups: Vec::new(),
            next_id: 0,
            state: State::Monitoring,
            next_cycle: now,
            awaiting: BTreeSet::new(),
            sleep: conf.poll_freq,
            actions: VecDeque::new(),
            last_noparent: None,
            shutdown_issued: false,
            conf: UpsmonConf::default(),
        };
        for def in &conf.monitors {
            m.add(def.clone());
        }
        m.conf = conf;
        m
    }

    fn add(&mut self, def: MonitorDef) {
        let id = UpsId(self.next_id);
        self.next_id += 1;
        self.ups.push(UpsState::new(id, def));
    }

    /// The configuration in force.
    pub fn conf(&self) -> &UpsmonConf {
        &self.conf
    }

    /// Every UPS, in `MONITOR` order.
    pub fn ups_list(&self) -> &[UpsState] {
        &self.ups
    }

    /// One UPS.
    pub fn ups(&self, id: UpsId) -> Option<&UpsState> {
        self.ups.iter().find(|u| u.id == id)
    }

    /// Where the monitor is.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Monitoring => Phase::Monitoring,
            State::HostSync { .. } => Phase::WaitingForSecondaries,
            State::FinalDelay { .. } => Phase::FinalDelay,
            State::Done => Phase::ShutdownIssued,
        }
    }

    /// The current poll interval (POLLFREQ, or POLLFREQALERT after a UPS
    /// went on battery), never below one second.
    pub fn poll_interval(&self) -> Duration {
        secs(self.sleep.max(1))
    }

    /// The next action to run, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Monitor::handle_timeout) is next due; `None`
    /// while waiting for poll answers, or after the shutdown.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Monitoring if self.awaiting.is_empty() => Some(self.next_cycle),
            State::Monitoring => None,
            State::HostSync { next_round, .. } => *next_round,
            State::FinalDelay { until } => Some(*until),
            State::Done => None,
        }
    }

    /// Advances the clock: starts a poll cycle, a NUMLOGINS round, or
    /// issues the shutdown, when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.state {
            State::Monitoring => {
                if self.awaiting.is_empty() && now >= self.next_cycle {
                    self.start_cycle(now);
                }
            }
            State::HostSync { next_round, .. } => {
                if next_round.is_some_and(|t| now >= t) {
                    self.numlogins_round(now);
                }
            }
            State::FinalDelay { until } => {
                if now >= *until {
                    self.issue_shutdown();
                }
            }
            State::Done => {}
        }
    }

    fn start_cycle(&mut self, now: Instant) {
        if self.ups.is_empty() {
            self.end_cycle(now);
            return;
        }
        for u in &self.ups {
            self.awaiting.insert(u.id);
            self.actions.push_back(Action::Poll(u.id));
        }
    }

    fn finish_poll(&mut self, id: UpsId, now: Instant) {
        if self.awaiting.remove(&id) && self.awaiting.is_empty() {
            self.end_cycle(now);
        }
    }

    fn end_cycle(&mut self, now: Instant) {
        self.recalc(now);
        if matches!(self.state, State::Monitoring) {
            self.next_cycle = now + self.poll_interval();
        }
    }

    fn idx(&self, id: UpsId) -> Option<usize> {
        self.ups.iter().position(|u| u.id == id)
    }

    fn notify(&mut self, kind: NotifyKind, ups: Option<usize>) {
        let (id, system) = match ups {
            Some(i) => (Some(self.ups[i].id), self.ups[i].def.system.clone()),
            None => (None, String::new()),
        };
        let message = format_message(self.conf.notify.format(kind), &[&system]);
        let flags = self.conf.notify.flags(kind);
        self.actions.push_back(Action::Notify(Notification {
            kind,
            ups: id,
            system,
            message,
            flags,
        }));
    }

    fn log(&mut self, level: LogLevel, msg: String) {
        self.actions.push_back(Action::Log(level, msg));
    }

    /// A poll answered with `status` (the value of `ups.status`). Ignored
    /// outside [`Phase::Monitoring`] or for an unknown id.
    pub fn handle_status(&mut self, id: UpsId, now: Instant, status: &str) {
        if !matches!(self.state, State::Monitoring) {
            return;
        }
        if let Some(i) = self.idx(id) {
            if status.is_empty() {
                self.ups_gone(i, now);
            } else {
                self.parse_status(i, now, status);
            }
        }
        self.finish_poll(id, now);
    }

    /// A poll that gave no status.
    pub fn handle_poll_failure(&mut self, id: UpsId, now: Instant, why: PollFailure) {
        if !matches!(self.state, State::Monitoring) {
            return;
        }
        if let Some(i) = self.idx(id) {
            self.ups_gone(i, now);
            if why == PollFailure::ConnectionLost {
                let u = &mut self.ups[i];
                u.comm = CommState::Bad;
                u.line_state = 0;
            }
        }
        self.finish_poll(id, now);
    }

    /// The privileged parent is gone: `NOPARENT`, at most every two minutes.
    pub fn handle_parent_gone(&mut self, now: Instant) {
        if since(now, self.last_noparent) < NOPARENT_INTERVAL {
            return;
        }
        self.last_noparent = Some(now);
        self.notify(NotifyKind::NoParent, None);
        self.log(LogLevel::Critical, "Parent died - shutdown impossible".into());
    }

    /// `upsmon -c fsd` (SIGUSR1): shut down now, as if every UPS were
    /// critical.
    pub fn request_fsd(&mut self, now: Instant) {
        if matches!(self.state, State::Monitoring) {
            self.log(LogLevel::Info, "User requested FSD".into());
            self.awaiting.clear();
            self.force_shutdown(now);
        }
    }

    /// The answer to [`Action::QueryNumLogins`] (`None` when the query
    /// failed; it counts as 0, as in NUT).
    pub fn handle_numlogins(&mut self, id: UpsId, now: Instant, logins: Option<u32>) {
        let State::HostSync { awaiting, max, start, next_round } = &mut self.state else {
            return;
        };
        if !awaiting.remove(&id) {
            return;
        }
        *max = (*max).max(logins.unwrap_or(0));
        if !awaiting.is_empty() {
            return;
        }
        if *max <= 1 {
            self.do_shutdown(now);
        } else if since(now, Some(*start)) > secs(self.conf.host_sync) {
            self.log(LogLevel::Info, "Host sync timer expired, forcing shutdown".into());
            self.do_shutdown(now);
        } else {
            *next_round = Some(now + HOSTSYNC_ROUND);
        }
    }

    /// Applies a reloaded configuration (SIGHUP). UPSes are matched by
    /// system name: kept ones keep their state, removed ones are
    /// disconnected and forgotten, changed credentials or a change to
    /// primary reconnect. Fails (and changes nothing) when the power values
    /// no longer reach MINSUPPLIES; NUT exits then.
    pub fn reload(&mut self, conf: UpsmonConf, now: Instant) -> Result<(), ConfError> {
        conf.check_power()?;
        let mut kept = Vec::new();
        for u in std::mem::take(&mut self.ups) {
            match conf.monitors.iter().find(|d| d.system == u.def.system) {
                Some(d) => {
                    let mut u = u;
                    let reconnect = d.user != u.def.user
                        || d.password != u.def.password
                        || (d.role == Role::Primary && u.def.role != Role::Primary);
                    if reconnect {
                        self.actions.push_back(Action::Disconnect(u.id));
                        u.comm = CommState::Bad;
                        u.line_state = 0;
                    }
                    u.def = d.clone();
                    kept.push(u);
                }
                None => {
                    self.log(
                        LogLevel::Info,
                        format!("No longer monitoring UPS [{}]", u.def.system),
                    );
                    self.actions.push_back(Action::Disconnect(u.id));
                }
            }
        }
        self.ups = kept;
        let cycle_open = !self.awaiting.is_empty();
        self.awaiting.retain(|id| self.ups.iter().any(|u| u.id == *id));
        for d in &conf.monitors {
            if !self.ups.iter().any(|u| u.def.system == d.system) {
                self.add(d.clone());
            }
        }
        self.conf = conf;
        if cycle_open && self.awaiting.is_empty() {
            self.end_cycle(now);
        }
        Ok(())
    }

    fn ups_alive(&mut self, i: usize, now: Instant) {
        let u = &mut self.ups[i];
        u.last_poll = Some(now);
        match u.comm {
            CommState::Ok => {}
            CommState::Unknown => u.comm = CommState::Ok,
            CommState::Bad => {
                u.comm = CommState::Ok;
                self.notify(NotifyKind::CommOk, Some(i));
            }
        }
    }

    fn ups_gone(&mut self, i: usize, now: Instant) {
        let warn = secs(self.conf.no_comm_warn_time);
        let u = &mut self.ups[i];
        if u.comm != CommState::Bad {
            u.comm = CommState::Bad;
            self.notify(NotifyKind::CommBad, Some(i));
            return;
        }
        if since(now, u.last_poll) < warn {
            return;
        }
        if since(now, u.last_nc_warn) > warn {
            u.last_nc_warn = Some(now);
            self.notify(NotifyKind::NoComm, Some(i));
        }
    }

    /// Sets `flag` and notifies `kind` if it was not set.
    fn raise(&mut self, i: usize, flag: StatusFlags, kind: NotifyKind) {
        if !self.ups[i].flags.contains(flag) {
            self.notify(kind, Some(i));
            self.ups[i].flags.set(flag);
        }
    }

    fn parse_status(&mut self, i: usize, now: Instant, status: &str) {
        self.ups_alive(i, now);
        let upper = status.to_ascii_uppercase();
        // Flags whose word is gone are cleared first (NUT's substring test).
        for (flag, word, gone) in [
            (StatusFlags::LOWBATT, "LB", None),
            (StatusFlags::FSD, "FSD", None),
            (StatusFlags::CAL, "CAL", Some(NotifyKind::NotCal)),
            (StatusFlags::OFF, "OFF", Some(NotifyKind::NotOff)),
            (StatusFlags::BYPASS, "BYPASS", Some(NotifyKind::NotBypass)),
            (StatusFlags::ALARM, "ALARM", Some(NotifyKind::NotAlarm)),
            (StatusFlags::OVER, "OVER", Some(NotifyKind::NotOver)),
            (StatusFlags::TRIM, "TRIM", Some(NotifyKind::NotTrim)),
            (StatusFlags::BOOST, "BOOST", Some(NotifyKind::NotBoost)),
        ] {
            if !upper.contains(word) && self.ups[i].flags.contains(flag) {
                self.ups[i].flags.clear(flag);
                if let Some(k) = gone {
                    self.notify(k, Some(i));
                }
            }
        }
        for word in status.split(' ') {
            match word.to_ascii_uppercase().as_str() {
                "OL" => self.on_line(i),
                "OB" => self.on_batt(i),
                "LB" => self.raise(i, StatusFlags::LOWBATT, NotifyKind::LowBatt),
                "RB" if since(now, self.ups[i].last_rb_warn) > secs(self.conf.rb_warn_time) => {
                    self.notify(NotifyKind::ReplBatt, Some(i));
                    self.ups[i].last_rb_warn = Some(now);
                }
                "CAL" => self.raise(i, StatusFlags::CAL, NotifyKind::Cal),
                "FSD" => self.raise(i, StatusFlags::FSD, NotifyKind::Fsd),
                "OFF" => self.raise(i, StatusFlags::OFF, NotifyKind::Off),
                "BYPASS" => self.raise(i, StatusFlags::BYPASS, NotifyKind::Bypass),
                "ALARM" => self.raise(i, StatusFlags::ALARM, NotifyKind::Alarm),
                "OVER" => self.raise(i, StatusFlags::OVER, NotifyKind::Over),
                "TRIM" => self.raise(i, StatusFlags::TRIM, NotifyKind::Trim),
                "BOOST" => self.raise(i, StatusFlags::BOOST, NotifyKind::Boost),
                _ => {}
            }
            // NUT updates the "last not critical" time after every word.
            let f = self.ups[i].flags;
            if !f.contains(StatusFlags::ONBATT)
                || !f.contains(StatusFlags::LOWBATT)
                || f.contains(StatusFlags::CAL)
            {
                self.ups[i].last_noncrit = Some(now);
            }
        }
    }

    fn on_line(&mut self, i: usize) {
        if self.ups[i].flags.contains(StatusFlags::ONLINE) {
            return;
        }
        self.sleep = self.conf.poll_freq;
        if self.ups[i].line_state != -1 {
            self.notify(NotifyKind::Online, Some(i));
        }
        let u = &mut self.ups[i];
        u.line_state = 1;
        u.flags.set(StatusFlags::ONLINE);
        u.flags.clear(StatusFlags::ONBATT);
    }

    fn on_batt(&mut self, i: usize) {
        if self.ups[i].flags.contains(StatusFlags::ONBATT) {
            return;
        }
        self.sleep = self.conf.poll_freq_alert;
        self.notify(NotifyKind::OnBatt, Some(i));
        let u = &mut self.ups[i];
        u.line_state = 0;
        u.flags.set(StatusFlags::ONBATT);
        u.flags.clear(StatusFlags::ONLINE);
    }

    /// NUT's critical rule for one UPS at `now`, on its current flags.
    pub fn is_critical(&self, id: UpsId, now: Instant) -> bool {
        self.ups(id).is_some_and(|u| self.critical(u, now).0)
    }

    /// (critical, reason to log).
    fn critical(&self, u: &UpsState, now: Instant) -> (bool, Option<String>) {
        let f = u.flags;
        if f.contains(StatusFlags::FSD) {
            return (true, None);
        }
        if !f.contains(StatusFlags::ONBATT) || !f.contains(StatusFlags::LOWBATT) {
            return (false, None);
        }
        if f.contains(StatusFlags::CAL) {
            let m = format!(
                "UPS [{}] is OB+LB now, but it is also calibrating - not declaring a critical state",
                u.def.system
            );
            return (false, Some(m));
        }
        if u.is_primary() {
            return (true, None);
        }
        if since(now, u.last_noncrit) > secs(self.conf.host_sync) {
            return (true, Some(format!("Giving up on the primary for UPS [{}]", u.def.system)));
        }
        (false, None)
    }

    /// The sum of the power values of the UPSes that are not critical.
    pub fn power_value(&self, now: Instant) -> u64 {
        self.ups
            .iter()
            .filter(|u| !self.critical(u, now).0)
            .map(|u| u64::from(u.def.power_value))
            .sum()
    }

    fn recalc(&mut self, now: Instant) {
        let dead = secs(self.conf.dead_time);
        let mut val_ol: u64 = 0;
        for i in 0..self.ups.len() {
            let u = &self.ups[i];
            if since(now, u.last_poll) > dead && u.flags.contains(StatusFlags::ONBATT) {
                if !u.flags.contains(StatusFlags::LOWBATT) {
                    let m = format!("Promoting dead UPS: {}", u.def.system);
                    self.log(LogLevel::Warning, m);
                }
                self.ups[i].flags.set(StatusFlags::LOWBATT);
            }
            let (crit, why) = self.critical(&self.ups[i], now);
            if let Some(m) = why {
                self.log(LogLevel::Warning, m);
            }
            if !crit {
                val_ol += u64::from(self.ups[i].def.power_value);
            }
        }
        if val_ol < u64::from(self.conf.min_supplies) {
            self.force_shutdown(now);
        }
    }

    fn force_shutdown(&mut self, now: Instant) {
        let primaries: BTreeSet<UpsId> =
            self.ups.iter().filter(|u| u.is_primary()).map(|u| u.id).collect();
        if primaries.is_empty() {
            self.do_shutdown(now);
            return;
        }
        for &id in &primaries {
            self.actions.push_back(Action::SendFsd(id));
        }
        self.state =
            State::HostSync { start: now, next_round: Some(now), awaiting: primaries, max: 0 };
        self.numlogins_round(now);
    }

    fn numlogins_round(&mut self, _now: Instant) {
        let primaries: BTreeSet<UpsId> =
            self.ups.iter().filter(|u| u.is_primary()).map(|u| u.id).collect();
        if let State::HostSync { next_round, awaiting, max, .. } = &mut self.state {
            *next_round = None;
            *max = 0;
            *awaiting = primaries.clone();
            for id in primaries {
                self.actions.push_back(Action::QueryNumLogins(id));
            }
        }
    }

    fn do_shutdown(&mut self, now: Instant) {
        self.actions.push_back(Action::Alert(SHUTDOWN_ALERT.into()));
        self.notify(NotifyKind::Shutdown, None);
        if self.conf.final_delay == 0 {
            self.issue_shutdown();
        } else {
            self.state = State::FinalDelay { until: now + secs(self.conf.final_delay) };
        }
    }

    fn issue_shutdown(&mut self) {
        self.state = State::Done;
        if !self.shutdown_issued {
            self.shutdown_issued = true;
            self.actions.push_back(Action::Shutdown);
        }
    }
}
