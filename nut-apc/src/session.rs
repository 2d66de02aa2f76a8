//! The sans-IO APC Smart session: NUT 2.8.0's apcsmart driver logic
//! (handshake, identification, polling, alerts, instant commands,
//! writable variables, shutdown) over bytes in, bytes out and deadlines.

use crate::answer::{self, Alert, AnswerError, MAX_ANSWER, status};
use crate::options::{Options, SdMethod, TtyMode};
use crate::table::{self, APC_STRLEN, COMMANDS, CmdKind, VARS, VarEntry};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;
use nut_proto::publish::Publish;
use nut_proto::sock::VarFlags;

/// Bytes kept between reads (the size of a tty's input buffer); more
/// are dropped.
pub const MAX_BACKLOG: usize = 4096;
/// Changes kept for [`Session::publish_to`]; more are dropped.
pub const MAX_CHANGES: usize = 65536;
/// Events kept for [`Session::poll_event`]; more are dropped.
pub const MAX_EVENTS: usize = 1024;

/// Queued instant commands and sets; more are refused (`Failed`).
pub const MAX_TASKS: usize = 64;

/// NUT's read timeouts.
const D1: Duration = Duration::from_millis(1500);
const D3: Duration = Duration::from_secs(3);
const DX: Duration = Duration::from_millis(200);
const D6: Duration = Duration::from_secs(6);
/// Pause between the two bytes of a repeated command.
const REPEAT_PAUSE: Duration = Duration::from_millis(1300);
/// Pause after each byte of a long command.
const PACE: Duration = Duration::from_millis(50);
/// Full refresh period.
const FULL_REFRESH_SECS: u64 = 3600;

/// Bytes to write to the serial port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Discard unread input (and unsent output) first, as NUT's
    /// `tcflush(TCIOFLUSH)`; the session has already dropped what it had.
    pub discard_input: bool,
    /// The bytes, written at once.
    pub bytes: Vec<u8>,
}

/// The result of an instant command (NUT's `STAT_INSTCMD_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmdStatus {
    /// Done, or deliberately not done (a "nasty" command asked only once).
    Handled,
    /// The UPS refused or did not confirm.
    Failed,
    /// Unknown command or argument, or not supported by this UPS.
    Invalid,
}

/// The result of setting a variable (NUT's `STAT_SET_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetStatus {
    /// Set, or already had that value.
    Handled,
    /// The UPS refused, or the value is not one of its choices.
    Failed,
    /// Unknown or read-only variable.
    Unknown,
}

/// Identifies a queued instant command or set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What [`Session::instcmd`] and [`Session::setvar`] return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Request<S> {
    /// Decided without talking to the UPS.
    Done(S),
    /// Queued; an event with this id reports the result.
    Queued(RequestId),
}

/// Why the session gave up (NUT's driver exits).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fatal {
    /// No `SM` after five `Y` ("unable to detect an APC Smart protocol
    /// UPS").
    NoSmartMode,
    /// The command set query failed ("problems with communicating").
    Communication,
    /// The capability answer is malformed ("capability overflow").
    Capabilities(AnswerError),
}

/// Something the driver should know about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The status was read right after smart mode, before identification
    /// (`Q`, then NUT's identification): `ups.status` is published and the
    /// data is good, so a driver may serve it now; identification goes on
    /// and ends with [`Event::Ready`]. Not sent when that first `Q` gets no
    /// usable answer (the status then comes with the first poll).
    EarlyStatus,
    /// Identification is done; polling starts.
    Ready,
    /// Data is good again (`dstate_dataok`), published on a change only.
    DataOk,
    /// Data is stale (`dstate_datastale`), published on a change only.
    DataStale,
    /// An alert byte was handled; `ups.status` was recomposed.
    Alert(Alert),
    /// A queued instant command finished.
    InstcmdDone {
        /// The request.
        id: RequestId,
        /// Its result.
        status: CmdStatus,
    },
    /// A queued set finished.
    SetDone {
        /// The request.
        id: RequestId,
        /// Its result.
        status: SetStatus,
    },
    /// The shutdown sequence (`-k`) finished with this result.
    ShutdownDone(CmdStatus),
    /// `R` (back to dumb mode) was sent and answered or timed out; the
    /// session does nothing more.
    Closed,
    /// The session gave up.
    Fatal(Fatal),
}

/// One driver-state call, applied by [`Session::publish_to`].
#[derive(Clone, Debug, PartialEq, Eq)]
enum Change {
    SetInfo(String, String),
    DelInfo(String),
    SetFlags(&'static str, VarFlags),
    SetAux(&'static str, i64),
    AddEnum(&'static str, String),
    AddCmd(&'static str),
    Status(u8),
}

/// Which bytes a read ignores and which it treats as alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadSet {
    /// Ignores CR `|` `&` and the alert bytes.
    Plain,
    /// Ignores CR `|` `&`; alert bytes are handled.
    AlertAware,
    /// The capability read: ignores CR `|` `&` `$!%+?=` (keeps `#`).
    Caps,
    /// The command set read: ignores nothing.
    CmdSet,
}

impl ReadSet {
    fn ignores(self, b: u8) -> bool {
        match self {
            ReadSet::Plain => b"\r|&$!%+#?=".contains(&b),
            ReadSet::AlertAware => b"\r|&".contains(&b),
            ReadSet::Caps => b"\r|&$!%+?=".contains(&b),
            ReadSet::CmdSet => false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct ReadSpec {
    set: ReadSet,
    timeout: Duration,
    timeout_ok: bool,
    asterisk: bool,
}

const fn spec(set: ReadSet, timeout: Duration, timeout_ok: bool) -> ReadSpec {
    ReadSpec { set, timeout, timeout_ok, asterisk: false }
}

/// A read's result, as NUT's `apc_read` return value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Got {
    /// A non-empty line.
    Line(Vec<u8>),
    /// Nothing: an allowed timeout or an empty line (returns 0).
    Empty,
    /// A failure: timeout not allowed, partial line, overflow (-1).
    Fail,
}

impl Got {
    /// The line, unless it is `NA`.
    fn data(self) -> Option<Vec<u8>> {
        match self {
            Got::Line(l) if l != b"NA" => Some(l),
            _ => None,
        }
    }
}

type K = Box<dyn FnOnce(&mut Session, Got) + Send>;

enum Wait {
    Idle,
    Read { spec: ReadSpec, deadline: Duration },
    Sleep { until: Duration },
    Ready,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Init,
    Running,
    Shutdown,
    Closing,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Char(u8),
    Entry(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    Compat,
    CmdSet { caps: bool, quirk: bool },
    Old,
}

#[derive(Clone, Copy, Debug, Default)]
struct VarState {
    present: bool,
    rw: bool,
    enumerated: bool,
    fields: usize,
}

enum Task {
    Instcmd { id: RequestId, cmd: usize, arg: Option<String> },
    Set { id: RequestId, var: usize, value: String },
    Close,
}

/// The APC Smart protocol session: feed it bytes and time, send what it
/// asks, publish what it found.
///
/// Time is a [`Duration`] since any fixed origin the caller picks (a
/// monotonic clock). See the crate documentation for the loop.
pub struct Session {
    opts: Options,
    now: Duration,
    phase: Phase,
    wait: Wait,
    k: Option<K>,
    backlog: VecDeque<u8>,
    line: Vec<u8>,
    tx: VecDeque<Transmit>,
    events: VecDeque<Event>,
    changes: Vec<Change>,
    dropped: usize,
    vars: Vec<VarState>,
    cmds: Vec<bool>,
    bits: u8,
    stale: bool,
    last_worked: u32,
    last_full: Option<u64>,
    /// Identification has just read every variable: the first poll asks
    /// for the status only.
    fresh: bool,
    next_update: Option<Duration>,
    last_nasty: Option<u64>,
    tasks: VecDeque<Task>,
    next_id: u64,
    plan: VecDeque<Item>,
    path: Path,
    firmware_last: Option<u8>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("phase", &self.phase)
            .field("now", &self.now)
            .field("status", &self.bits)
            .field("stale", &self.stale)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn blank(opts: Options, now: Duration, phase: Phase) -> Self {
        Session {
            opts,
            now,
            phase,
            wait: Wait::Idle,
            k: None,
            backlog: VecDeque::new(),
            line: Vec::new(),
            tx: VecDeque::new(),
            events: VecDeque::new(),
            changes: Vec::new(),
            dropped: 0,
            vars: vec![VarState::default(); VARS.len()],
            cmds: vec![false; COMMANDS.len()],
            bits: 0,
            stale: true,
            last_worked: 0,
            last_full: None,
            fresh: false,
            next_update: None,
            last_nasty: None,
            tasks: VecDeque::new(),
            next_id: 0,
            plan: VecDeque::new(),
            path: Path::Old,
            firmware_last: None,
        }
    }

    /// A session that identifies the UPS (smart mode, status, firmware,
    /// command set, capabilities) and then polls it, as the driver's normal
    /// run. The status is read first ([`Event::EarlyStatus`]).
    pub fn new(opts: Options, now: Duration) -> Self {
        let mut s = Self::blank(opts, now, Phase::Init);
        s.smartmode(5, |s, ok| if ok { s.early_status() } else { s.fatal(Fatal::NoSmartMode) });
        s.pump();
        s
    }

    /// A session that only shuts the UPS down, as `apcsmart -k`: smart
    /// mode, `Q`, the `sdtype` / `advorder` methods, then `R`. Ends with
    /// [`Event::ShutdownDone`] and [`Event::Closed`].
    pub fn shutdown(opts: Options, now: Duration) -> Self {
        let mut s = Self::blank(opts, now, Phase::Shutdown);
        s.smartmode(1, |s, _| {
            s.send(false, b"Q");
            s.read(spec(ReadSet::Plain, D1, false), |s, got| {
                s.bits = match got {
                    Got::Line(l) if l.len() == 1 => (answer::strtol(&l, 16) & 0xff) as u8,
                    _ => status::LB | status::OB,
                };
                let k = |s: &mut Session, st: CmdStatus| {
                    s.cleanup(move |s| {
                        s.event(Event::ShutdownDone(st));
                    })
                };
                if s.opts.advorder.is_empty() {
                    s.shutdown_simple(k)
                } else {
                    let order = s.opts.advorder.clone();
                    s.shutdown_advanced(order, 0, CmdStatus::Failed, k)
                }
            })
        });
        s.pump();
        s
    }

    // ---- the quinn-style interface ------------------------------------

    /// Bytes read from the serial port at `now`.
    pub fn handle_input(&mut self, bytes: &[u8], now: Duration) {
        self.tick(now);
        let mut any = false;
        for &b in bytes {
            if self.opts.ttymode == TtyMode::Canonical && b == b'\r' {
                continue;
            }
            if self.backlog.len() >= MAX_BACKLOG {
                break;
            }
            self.backlog.push_back(b);
            any = true;
        }
        if any {
            if let Wait::Read { spec, deadline } = &mut self.wait {
                *deadline = self.now.saturating_add(spec.timeout);
            }
        }
        self.pump();
    }

    /// The next bytes to write, in order.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.tx.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.wait {
            Wait::Read { deadline, .. } => Some(deadline),
            Wait::Sleep { until } => Some(until),
            Wait::Ready => Some(self.now),
            Wait::Idle => match self.phase {
                Phase::Running => self.next_update,
                _ => None,
            },
        }
    }

    /// Whether the answer being waited for ends with a line feed, as all
    /// Smart answers do except the bare `*` of some commands: a caller may
    /// then let the port collect whole lines (canonical mode) and wake once
    /// per answer. `false` when no answer is awaited (alert bytes may come
    /// alone at any time).
    pub fn awaits_line(&self) -> bool {
        matches!(self.wait, Wait::Read { spec, .. } if !spec.asterisk)
    }

    /// Time has passed: expire reads and pauses, start a due poll.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.tick(now);
        match self.wait {
            Wait::Read { spec, deadline } if self.now >= deadline => {
                let partial = !self.line.is_empty();
                self.line.clear();
                let got = if partial && self.opts.ttymode == TtyMode::Raw {
                    Got::Fail
                } else if spec.timeout_ok {
                    Got::Empty
                } else {
                    Got::Fail
                };
                self.finish(got);
            }
            Wait::Sleep { until } if self.now >= until => self.finish(Got::Empty),
            _ => {}
        }
        self.pump();
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Applies everything found since the last call to `out`, with the
    /// same driver-state calls, values and order as NUT's apcsmart.
    pub fn publish_to<P: Publish + ?Sized>(&mut self, out: &mut P) {
        for c in self.changes.drain(..) {
            match c {
                Change::SetInfo(var, value) => {
                    out.setinfo(&var, &value);
                }
                Change::DelInfo(var) => {
                    out.delinfo(&var);
                }
                Change::SetFlags(var, flags) => {
                    out.setflags(var, flags);
                }
                Change::SetAux(var, aux) => {
                    out.setaux(var, aux);
                }
                Change::AddEnum(var, value) => {
                    out.addenum(var, &value);
                }
                Change::AddCmd(cmd) => {
                    out.addcmd(cmd);
                }
                Change::Status(bits) => publish_status(bits, out),
            }
        }
    }

    /// Changes or events dropped because the caller did not drain them.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The status register as last read or changed by an alert.
    pub fn status_bits(&self) -> u8 {
        self.bits
    }

    /// Whether data is stale.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// The table entries found on this UPS (present variables).
    pub fn present_vars(&self) -> impl Iterator<Item = &'static VarEntry> + '_ {
        VARS.iter().zip(&self.vars).filter(|(_, s)| s.present).map(|(e, _)| e)
    }

    /// Asks for an instant command (`INSTCMD name [arg]`).
    pub fn instcmd(&mut self, name: &str, arg: Option<&str>, now: Duration) -> Request<CmdStatus> {
        self.tick(now);
        let found =
            COMMANDS.iter().position(|c| c.name.eq_ignore_ascii_case(name) && c.arg.accepts(arg));
        let Some(i) = found else { return Request::Done(CmdStatus::Invalid) };
        if !self.cmds.get(i).copied().unwrap_or(false) || self.phase != Phase::Running {
            return Request::Done(CmdStatus::Invalid);
        }
        if COMMANDS[i].nasty {
            let secs = self.now.as_secs();
            let elapsed = self.last_nasty.map(|l| secs.saturating_sub(l));
            self.last_nasty = Some(secs);
            if !matches!(elapsed, Some(3..=15)) {
                return Request::Done(CmdStatus::Handled);
            }
        }
        if self.tasks.len() >= MAX_TASKS {
            return Request::Done(CmdStatus::Failed);
        }
        let id = self.new_id();
        self.tasks.push_back(Task::Instcmd { id, cmd: i, arg: arg.map(String::from) });
        self.pump();
        Request::Queued(id)
    }

    /// Asks to set a writable variable (`SET VAR`).
    pub fn setvar(&mut self, name: &str, value: &str, now: Duration) -> Request<SetStatus> {
        self.tick(now);
        let Some(i) = self.lookup_name(name) else { return Request::Done(SetStatus::Unknown) };
        let st = self.vars[i];
        if !st.rw || self.phase != Phase::Running {
            return Request::Done(SetStatus::Unknown);
        }
        if !st.enumerated && !VARS[i].string {
            return Request::Done(SetStatus::Unknown);
        }
        if !st.enumerated && value.len() > APC_STRLEN {
            return Request::Done(SetStatus::Failed);
        }
        if self.tasks.len() >= MAX_TASKS {
            return Request::Done(SetStatus::Failed);
        }
        let id = self.new_id();
        self.tasks.push_back(Task::Set { id, var: i, value: value.into() });
        self.pump();
        Request::Queued(id)
    }

    /// Brings the UPS back to dumb mode (`R`) once the current work is
    /// done, as the driver does at exit; ends with [`Event::Closed`].
    pub fn close(&mut self, now: Duration) {
        self.tick(now);
        match self.phase {
            Phase::Running => self.tasks.push_back(Task::Close),
            Phase::Init => {
                self.k = None;
                self.wait = Wait::Idle;
                self.cleanup(|_| {});
            }
            _ => {}
        }
        self.pump();
    }

    // ---- plumbing --------------------------------------------------------

    fn tick(&mut self, now: Duration) {
        if now > self.now {
            self.now = now;
        }
    }

    fn new_id(&mut self) -> RequestId {
        self.next_id = self.next_id.wrapping_add(1);
        RequestId(self.next_id)
    }

    fn event(&mut self, e: Event) {
        if self.events.len() < MAX_EVENTS {
            self.events.push_back(e);
        } else {
            self.dropped += 1;
        }
    }

    fn change(&mut self, c: Change) {
        if self.changes.len() < MAX_CHANGES {
            self.changes.push(c);
        } else {
            self.dropped += 1;
        }
    }

    fn send(&mut self, discard_input: bool, bytes: &[u8]) {
        if discard_input {
            self.backlog.clear();
        }
        self.tx.push_back(Transmit { discard_input, bytes: bytes.to_vec() });
    }

    /// NUT's alert-aware flush: alerts waiting in the input are handled,
    /// everything else is dropped.
    fn flush_alerts(&mut self) {
        while let Some(b) = self.backlog.pop_front() {
            if let Some(a) = Alert::from_byte(b) {
                self.alert(a);
            }
        }
    }

    fn send_aa(&mut self, bytes: &[u8]) {
        self.flush_alerts();
        self.send(false, bytes);
    }

    fn alert(&mut self, a: Alert) {
        self.bits = a.apply(self.bits);
        self.change(Change::Status(self.bits));
        self.event(Event::Alert(a));
    }

    fn read(&mut self, spec: ReadSpec, k: impl FnOnce(&mut Session, Got) + Send + 'static) {
        self.line.clear();
        self.wait = Wait::Read { spec, deadline: self.now.saturating_add(spec.timeout) };
        self.k = Some(Box::new(k));
    }

    fn sleep(&mut self, d: Duration, k: impl FnOnce(&mut Session) + Send + 'static) {
        self.wait = Wait::Sleep { until: self.now.saturating_add(d) };
        self.k = Some(Box::new(move |s, _| k(s)));
    }

    /// Continues with `k(v)` from the pump loop (keeps the stack flat).
    fn then<T: Send + 'static>(&mut self, v: T, k: impl FnOnce(&mut Session, T) + Send + 'static) {
        self.wait = Wait::Ready;
        self.k = Some(Box::new(move |s, _| k(s, v)));
    }

    fn finish(&mut self, got: Got) {
        self.wait = Wait::Idle;
        if let Some(k) = self.k.take() {
            k(self, got);
        }
    }

    /// Reads the backlog into the current answer.
    fn scan(&mut self, spec: ReadSpec) -> Option<Got> {
        while let Some(b) = self.backlog.pop_front() {
            if self.line.len() >= MAX_ANSWER {
                self.backlog.clear();
                self.line.clear();
                return Some(Got::Fail);
            }
            if b == b'\n' {
                let line = core::mem::take(&mut self.line);
                return Some(if line.is_empty() { Got::Empty } else { Got::Line(line) });
            }
            if spec.asterisk && b == b'*' {
                self.backlog.clear();
                self.line.clear();
                return Some(Got::Line(b"OK".to_vec()));
            }
            if spec.set.ignores(b) || b == b'*' || b == 0 {
                continue;
            }
            if spec.set == ReadSet::AlertAware {
                if let Some(a) = Alert::from_byte(b) {
                    self.alert(a);
                    continue;
                }
            }
            self.line.push(b);
        }
        None
    }

    fn pump(&mut self) {
        loop {
            match self.wait {
                Wait::Read { spec, .. } => match self.scan(spec) {
                    Some(got) => self.finish(got),
                    None => return,
                },
                Wait::Ready => self.finish(Got::Empty),
                Wait::Sleep { .. } => return,
                Wait::Idle => {
                    match self.phase {
                        Phase::Running => self.flush_alerts(),
                        Phase::Done => {
                            self.backlog.clear();
                            return;
                        }
                        _ => {}
                    }
                    if self.phase != Phase::Running {
                        return;
                    }
                    if let Some(task) = self.tasks.pop_front() {
                        self.run_task(task);
                    } else if self.next_update.is_some_and(|t| self.now >= t) {
                        self.update();
                    } else {
                        return;
                    }
                }
            }
        }
    }

    fn fatal(&mut self, f: Fatal) {
        self.phase = Phase::Done;
        self.event(Event::Fatal(f));
    }

    fn data_ok(&mut self) {
        if self.stale {
            self.stale = false;
            self.event(Event::DataOk);
        }
    }

    fn data_stale(&mut self) {
        if !self.stale {
            self.stale = true;
            self.event(Event::DataStale);
        }
    }

    // ---- variables -------------------------------------------------------

    fn lookup_char(&self, cmd: u8) -> Option<usize> {
        VARS.iter().zip(&self.vars).position(|(e, s)| s.present && e.cmd == cmd)
    }

    fn lookup_name(&self, name: &str) -> Option<usize> {
        VARS.iter()
            .zip(&self.vars)
            .position(|(e, s)| s.present && e.name.eq_ignore_ascii_case(name))
    }

    fn setinfo(&mut self, name: &str, value: String) {
        if name == "ups.firmware" {
            self.firmware_last = value.as_bytes().last().copied();
        }
        self.change(Change::SetInfo(name.into(), value));
    }

    /// NUT's `apc_dstate_setinfo`: one value, or the fields of a packed
    /// answer (`N/A` for an empty field).
    fn set_var(&mut self, i: usize, raw: &[u8]) {
        let e = &VARS[i];
        if !e.pack {
            self.setinfo(e.name, answer::convert(e.format, raw));
            return;
        }
        let fields = answer::split_packed(raw);
        let n = fields.len();
        if self.vars[i].fields > n {
            self.del_var(i, n);
        }
        self.vars[i].fields = n;
        for (c, f) in fields.iter().enumerate().rev() {
            let v = if f.is_empty() { "N/A".into() } else { answer::convert(e.format, f) };
            self.setinfo(&answer::packed_name(e, c), v);
        }
    }

    fn del_var(&mut self, i: usize, skip: usize) {
        let e = &VARS[i];
        if !e.pack {
            self.change(Change::DelInfo(e.name.into()));
            return;
        }
        for c in skip..self.vars[i].fields {
            self.change(Change::DelInfo(answer::packed_name(e, c)));
        }
        self.vars[i].fields = 0;
    }

    fn string_setup(&mut self, i: usize) {
        let e = &VARS[i];
        if e.string {
            self.change(Change::SetFlags(
                e.name,
                VarFlags { rw: true, string: true, number: false },
            ));
            self.change(Change::SetAux(e.name, APC_STRLEN as i64));
            self.vars[i].rw = true;
        }
    }

    /// NUT's `preread_data`: flush, send, read (3 s, timeout allowed).
    fn preread(&mut self, cmd: u8, k: impl FnOnce(&mut Session, Option<Vec<u8>>) + Send + 'static) {
        self.send(true, &[cmd]);
        self.read(spec(ReadSet::Plain, D3, true), move |s, got| k(s, got.data()));
    }

    // ---- identification ---------------------------------------------------

    fn smartmode(&mut self, tries: u32, k: impl FnOnce(&mut Session, bool) + Send + 'static) {
        if tries == 0 {
            return self.then(false, k);
        }
        self.send(true, b"Y");
        self.read(spec(ReadSet::Plain, D1, true), move |s, got| {
            if got == Got::Line(b"SM".to_vec()) {
                return s.then(true, k);
            }
            let esc = move |s: &mut Session| {
                s.send(false, &[0x1b]);
                s.read(spec(ReadSet::Plain, D1, true), move |s, _| s.smartmode(tries - 1, k));
            };
            if got == Got::Fail { s.sleep(Duration::from_secs(1), esc) } else { esc(s) }
        });
    }

    /// `Q` before identification (as `-k` asks it right after smart mode):
    /// the status is known in two exchanges instead of NUT's fourteen or
    /// more. Read as identification reads (alert bytes ignored); an answer
    /// that is not one or two hex digits is left for the first poll.
    fn early_status(&mut self) {
        self.send(true, b"Q");
        self.read(spec(ReadSet::Plain, D3, true), |s, got| {
            if let Some(l) = got.data().filter(|l| (1..=2).contains(&l.len())) {
                if l.iter().all(u8::is_ascii_hexdigit) {
                    s.bits = answer::parse_status(&l);
                    s.change(Change::Status(s.bits));
                    s.data_ok();
                    s.event(Event::EarlyStatus);
                }
            }
            s.firmware_lookup();
        });
    }

    fn firmware_lookup(&mut self) {
        self.send(true, b"V");
        self.read(spec(ReadSet::Plain, D3, true), |s, got| match got {
            Got::Fail => s.command_set(false),
            Got::Line(l) if l != b"NA" => s.firmware_match(l),
            _ => {
                s.send(false, b"b");
                s.read(spec(ReadSet::Plain, D3, true), |s, got| match got {
                    Got::Line(l) => s.firmware_match(l),
                    _ => s.command_set(false),
                })
            }
        });
    }

    fn firmware_match(&mut self, fw: Vec<u8>) {
        if fw == table::QUIRK_CAPS_OVERFLOW {
            return self.command_set(true);
        }
        match table::compat_lookup(&fw) {
            Some(e) => {
                self.setinfo("ups.model", e.model().into());
                self.path = Path::Compat;
                self.plan = e.commands.iter().map(|&c| Item::Char(c)).collect();
                self.verify_next();
            }
            None => self.command_set(false),
        }
    }

    fn command_set(&mut self, quirk: bool) {
        self.send(true, b"a");
        self.read(spec(ReadSet::CmdSet, D6, true), move |s, got| {
            let l = match got {
                Got::Fail => return s.fatal(Fatal::Communication),
                Got::Line(l) if l != b"NA" => l,
                _ => return s.old_setup(),
            };
            match answer::parse_command_set(&l) {
                Ok(cmds) => {
                    s.path = Path::CmdSet { caps: cmds.contains(&0x1a), quirk };
                    s.plan = cmds.iter().map(|&c| Item::Char(c)).collect();
                    s.verify_next();
                }
                Err(_) => s.old_setup(),
            }
        });
    }

    fn old_setup(&mut self) {
        const NAMES: [&str; 10] = [
            "ups.temperature",
            "ups.load",
            "input.voltage",
            "output.voltage",
            "battery.charge",
            "battery.voltage",
            "ups.model",
            "ups.serial",
            "ups.firmware",
            "output.current",
        ];
        self.path = Path::Old;
        self.plan = NAMES
            .iter()
            .flat_map(|n| {
                VARS.iter()
                    .enumerate()
                    .filter(move |(_, e)| e.name == *n)
                    .map(|(i, _)| Item::Entry(i))
            })
            .collect();
        self.verify_next();
    }

    /// NUT's `protocol_verify` / `var_verify` over the plan, one read at
    /// a time.
    fn verify_next(&mut self) {
        while let Some(item) = self.plan.pop_front() {
            match item {
                Item::Char(c) => {
                    if table::UNPROBED.contains(&c) {
                        continue;
                    }
                    let entries: Vec<usize> = table::vars_for(c).map(|(i, _)| i).collect();
                    if !entries.is_empty() {
                        for i in entries.into_iter().rev() {
                            self.plan.push_front(Item::Entry(i));
                        }
                        continue;
                    }
                    for (i, e) in COMMANDS.iter().enumerate() {
                        if e.cmd == c {
                            self.cmds[i] = true;
                            self.change(Change::AddCmd(e.name));
                        }
                    }
                }
                Item::Entry(i) => {
                    if VARS[i].multi {
                        self.vars[i].present = true;
                        continue;
                    }
                    return self.preread(VARS[i].cmd, move |s, data| {
                        if let Some(raw) = data {
                            s.vars[i].present = true;
                            s.set_var(i, &raw);
                            s.string_setup(i);
                        }
                        s.verify_next();
                    });
                }
            }
        }
        self.deprecate(0);
    }

    /// NUT's `deprecate_vars`: the first answering entry of each shared
    /// byte or name wins.
    fn deprecate(&mut self, from: usize) {
        let next = (from..VARS.len()).find(|&i| VARS[i].multi && self.vars[i].present);
        let Some(i) = next else { return self.after_deprecate() };
        self.preread(VARS[i].cmd, move |s, data| {
            match data {
                Some(raw) if VARS[i].pattern.matches(&raw) => {
                    let e = &VARS[i];
                    for (o, st) in VARS.iter().zip(s.vars.iter_mut()).skip(i + 1) {
                        if o.name == e.name || o.cmd == e.cmd {
                            st.present = false;
                        }
                    }
                    s.set_var(i, &raw);
                    s.string_setup(i);
                }
                _ => s.vars[i].present = false,
            }
            s.deprecate(i + 1);
        });
    }

    fn after_deprecate(&mut self) {
        match self.path {
            Path::Compat | Path::CmdSet { caps: false, .. } => self.init_done(),
            Path::CmdSet { caps: true, quirk } => self.capabilities(quirk),
            Path::Old => {
                if self.lookup_name("output.current").is_some() {
                    self.setinfo("ups.model", "Matrix-UPS".into());
                } else if self.lookup_name("ups.model").is_none() {
                    self.setinfo("ups.model", "Smart-UPS".into());
                }
                self.init_done();
            }
        }
    }

    fn capabilities(&mut self, quirk: bool) {
        self.send(true, &[0x1a]);
        self.read(spec(ReadSet::Caps, D6, true), move |s, got| {
            let Some(raw) = got.data() else { return s.init_done() };
            match answer::parse_caps(&raw, quirk) {
                Ok(entries) => {
                    s.apply_caps(&entries);
                    s.init_done();
                }
                Err(AnswerError::CapsStart { .. }) => s.init_done(),
                Err(e) => s.fatal(Fatal::Capabilities(e)),
            }
        });
    }

    fn apply_caps(&mut self, entries: &[answer::CapsEntry]) {
        let loc = self.firmware_last;
        for entry in entries {
            let Some(i) = self.lookup_char(entry.cmd) else { continue };
            let e = &VARS[i];
            if e.pack || !(Some(entry.locale) == loc || entry.locale == b'4') {
                continue;
            }
            self.change(Change::SetFlags(
                e.name,
                VarFlags { rw: true, string: false, number: false },
            ));
            self.vars[i].rw = true;
            self.vars[i].enumerated = true;
            for v in &entry.values {
                self.change(Change::AddEnum(e.name, answer::convert(e.format, v)));
            }
        }
    }

    fn init_done(&mut self) {
        self.setinfo("ups.mfr", "APC".into());
        self.phase = Phase::Running;
        // Every variable was read just now: the first poll does not read
        // them again (NUT's does, which doubles its start-up time).
        self.last_full = Some(self.now.as_secs());
        self.fresh = true;
        self.data_ok();
        self.event(Event::Ready);
        self.next_update = Some(self.now);
    }

    // ---- polling -----------------------------------------------------------

    fn update(&mut self) {
        self.next_update = Some(self.now.saturating_add(self.opts.poll_interval));
        if self.stale {
            self.last_full = None;
            self.fresh = false;
            self.last_worked = self.last_worked.saturating_add(1);
            if self.last_worked < 10 {
                return;
            }
            return self.smartmode(1, |s, ok| {
                if ok {
                    s.last_worked = 0;
                    s.update_status();
                }
            });
        }
        self.update_status();
    }

    fn update_status(&mut self) {
        self.send_aa(b"Q");
        self.read(spec(ReadSet::AlertAware, D3, false), |s, got| {
            let Some(l) = got.data() else { return s.data_stale() };
            s.bits = answer::parse_status(&l);
            s.change(Change::Status(s.bits));
            if core::mem::take(&mut s.fresh) {
                return s.data_ok();
            }
            let secs = s.now.as_secs();
            let all = s.last_full.is_none_or(|t| secs.saturating_sub(t) > FULL_REFRESH_SECS);
            if all {
                s.last_full = Some(secs);
            }
            s.poll_from(0, all);
        });
    }

    fn poll_from(&mut self, from: usize, all: bool) {
        let next = (from..VARS.len()).find(|&i| (all || VARS[i].poll) && self.vars[i].present);
        let Some(i) = next else { return self.data_ok() };
        self.poll_var(i, move |s, ok| if ok { s.poll_from(i + 1, all) } else { s.data_stale() });
    }

    /// NUT's `poll_data`: `false` when the read failed.
    fn poll_var(&mut self, i: usize, k: impl FnOnce(&mut Session, bool) + Send + 'static) {
        if !self.vars[i].present {
            return self.then(true, k);
        }
        self.send_aa(&[VARS[i].cmd]);
        self.read(spec(ReadSet::AlertAware, D3, false), move |s, got| match got {
            Got::Line(l) if l == b"NA" => {
                s.vars[i].present = false;
                s.del_var(i, 0);
                k(s, true)
            }
            Got::Line(l) => {
                s.set_var(i, &l);
                k(s, true)
            }
            _ => k(s, false),
        });
    }

    // ---- tasks ------------------------------------------------------------

    fn run_task(&mut self, task: Task) {
        match task {
            Task::Close => self.cleanup(|_| {}),
            Task::Set { id, var, value } => {
                let k = move |s: &mut Session, st: SetStatus| {
                    s.event(Event::SetDone { id, status: st })
                };
                if self.vars[var].enumerated {
                    self.set_enum(var, value, k)
                } else {
                    self.set_string(var, value, k)
                }
            }
            Task::Instcmd { id, cmd, arg } => {
                let k = move |s: &mut Session, st: CmdStatus| {
                    s.event(Event::InstcmdDone { id, status: st })
                };
                let e = &COMMANDS[cmd];
                match (e.kind, e.name) {
                    (CmdKind::CalToggle, name) => self.calibrate(name == "calibrate.start", k),
                    (CmdKind::On, _) => self.load_on(k),
                    (CmdKind::Off, _) => self.sd_z(k),
                    (CmdKind::Shutdown, _) => self.sd_k(k),
                    (CmdKind::GraceDown, _) => {
                        let awd = arg.as_deref().and_then(|a| a.get(3..)).map(String::from);
                        self.sd_at(awd, k)
                    }
                    (CmdKind::SoftDown, _) => match arg.as_deref() {
                        Some(a) if !a.is_empty() => self.sd_cs(k),
                        _ => self.sd_s(k),
                    },
                    _ => self.simple_cmd(e.cmd, k),
                }
            }
        }
    }

    fn cleanup(&mut self, k: impl FnOnce(&mut Session) + Send + 'static) {
        self.phase = Phase::Closing;
        self.send(true, b"R");
        self.read(spec(ReadSet::Plain, D3, true), move |s, _| {
            k(s);
            s.phase = Phase::Done;
            s.event(Event::Closed);
        });
    }

    fn simple_cmd(&mut self, cmd: u8, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        self.send_aa(&[cmd]);
        self.read(spec(ReadSet::AlertAware, D3, false), move |s, got| {
            let st = if got == Got::Line(b"OK".to_vec()) {
                CmdStatus::Handled
            } else {
                CmdStatus::Failed
            };
            k(s, st)
        });
    }

    fn calibrate(&mut self, start: bool, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        self.send_aa(b"Q");
        self.read(spec(ReadSet::AlertAware, D3, false), move |s, got| {
            let Some(l) = got.data() else { return k(s, CmdStatus::Handled) };
            let running = answer::parse_status(&l) & status::CAL != 0;
            if running == start {
                return k(s, CmdStatus::Handled);
            }
            s.send(false, b"D");
            s.read(spec(ReadSet::AlertAware, D3, false), move |s, _| k(s, CmdStatus::Handled));
        });
    }

    /// NUT's `apc_write_rep`: the byte, nothing back within 200 ms, 1.3 s
    /// pause, the byte again.
    fn write_rep(
        &mut self,
        code: u8,
        flush: bool,
        k: impl FnOnce(&mut Session, bool) + Send + 'static,
    ) {
        self.send(flush, &[code]);
        self.read(spec(ReadSet::Plain, DX, true), move |s, got| {
            if got != Got::Empty {
                return k(s, false);
            }
            s.sleep(REPEAT_PAUSE, move |s| {
                s.send(false, &[code]);
                k(s, true)
            });
        });
    }

    /// NUT's `apc_write_long`: the first byte, nothing back within 200 ms,
    /// then the rest 50 ms apart.
    fn write_long(
        &mut self,
        bytes: Vec<u8>,
        flush: bool,
        k: impl FnOnce(&mut Session, bool) + Send + 'static,
    ) {
        let Some((&first, _)) = bytes.split_first() else { return self.then(false, k) };
        self.send(flush, &[first]);
        self.read(spec(ReadSet::Plain, DX, true), move |s, got| {
            if got != Got::Empty {
                return k(s, false);
            }
            s.pace(bytes, 1, k);
        });
    }

    fn pace(
        &mut self,
        bytes: Vec<u8>,
        at: usize,
        k: impl FnOnce(&mut Session, bool) + Send + 'static,
    ) {
        let Some(&b) = bytes.get(at) else { return self.then(true, k) };
        self.send(false, &[b]);
        self.sleep(PACE, move |s| s.pace(bytes, at + 1, k));
    }

    /// NUT's `sdok`: `OK` or `*` within 1.5 s; with `ign`, silence too.
    fn sd_ok(&mut self, ign: bool, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        let sp = ReadSpec { asterisk: true, ..spec(ReadSet::Plain, D1, true) };
        self.read(sp, move |s, got| {
            let ok = match got {
                Got::Fail => false,
                Got::Empty => ign,
                Got::Line(l) => l == b"OK",
            };
            k(s, if ok { CmdStatus::Handled } else { CmdStatus::Failed })
        });
    }

    fn sd_s(&mut self, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        self.send(true, b"S");
        self.sd_ok(false, k);
    }

    fn sd_cs(&mut self, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        if self.bits & status::OL == 0 {
            return self.sd_s(k);
        }
        self.send(true, b"U");
        self.read(spec(ReadSet::Plain, D1, true), move |s, got| {
            if got == Got::Fail {
                return k(s, CmdStatus::Failed);
            }
            let d = s.opts.cshdelay;
            s.sleep(d, move |s| s.sd_s(k));
        });
    }

    fn sd_at(
        &mut self,
        awd: Option<String>,
        k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static,
    ) {
        let bytes = Options::at_command(awd.as_deref());
        let two = bytes.len() == 3;
        if bytes.len() > 4 {
            // NUT's 32-byte buffer and its check of the count written: an
            // over-long delay never goes out.
            return self.then(CmdStatus::Failed, k);
        }
        self.write_long(bytes, true, move |s, ok| {
            if !ok {
                return k(s, CmdStatus::Failed);
            }
            s.sd_ok(false, move |s, st| {
                if st == CmdStatus::Handled || !two {
                    return k(s, st);
                }
                s.send(false, b"Y");
                s.read(spec(ReadSet::Plain, D1, true), move |s, _| k(s, CmdStatus::Failed));
            });
        });
    }

    fn sd_k(&mut self, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        self.write_rep(
            b'K',
            true,
            move |s, ok| if ok { s.sd_ok(false, k) } else { k(s, CmdStatus::Failed) },
        );
    }

    fn sd_z(&mut self, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        self.write_rep(
            b'Z',
            true,
            move |s, ok| if ok { s.sd_ok(true, k) } else { k(s, CmdStatus::Failed) },
        );
    }

    fn load_on(&mut self, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        self.write_rep(0x0e, true, move |s, ok| {
            k(s, if ok { CmdStatus::Handled } else { CmdStatus::Failed })
        });
    }

    fn run_method(
        &mut self,
        m: SdMethod,
        k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static,
    ) {
        match m {
            SdMethod::SoftHibernate => self.sd_s(k),
            SdMethod::HardHibernate => {
                let awd = self.opts.awd.clone();
                self.sd_at(awd, k)
            }
            SdMethod::DelayedOff => self.sd_k(k),
            SdMethod::InstantOff => self.sd_z(k),
            SdMethod::CsHack => self.sd_cs(k),
        }
    }

    fn shutdown_simple(&mut self, k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static) {
        match self.opts.sdtype {
            5 => self.run_method(SdMethod::HardHibernate, k),
            4 => self.run_method(SdMethod::CsHack, k),
            3 => self.run_method(SdMethod::DelayedOff, k),
            2 => self.run_method(SdMethod::InstantOff, k),
            1 => {
                if self.bits & status::OB == 0 {
                    return self.run_method(SdMethod::HardHibernate, k);
                }
                self.sd_s(move |s, st| {
                    if st == CmdStatus::Handled {
                        k(s, st)
                    } else {
                        s.run_method(SdMethod::HardHibernate, k)
                    }
                })
            }
            _ => {
                if self.bits & status::OL != 0 {
                    self.run_method(SdMethod::HardHibernate, k)
                } else {
                    self.sd_s(k)
                }
            }
        }
    }

    fn shutdown_advanced(
        &mut self,
        order: Vec<SdMethod>,
        at: usize,
        last: CmdStatus,
        k: impl FnOnce(&mut Session, CmdStatus) + Send + 'static,
    ) {
        let Some(&m) = order.get(at) else { return self.then(last, k) };
        self.run_method(m, move |s, st| {
            if st == CmdStatus::Handled {
                k(s, st)
            } else {
                s.shutdown_advanced(order, at + 1, st, k)
            }
        });
    }

    // ---- writable variables -------------------------------------------------

    fn set_enum(
        &mut self,
        i: usize,
        want: String,
        k: impl FnOnce(&mut Session, SetStatus) + Send + 'static,
    ) {
        let cmd = VARS[i].cmd;
        self.send_aa(&[cmd]);
        self.read(spec(ReadSet::AlertAware, D3, false), move |s, got| {
            let Some(orig) = got.data() else { return k(s, SetStatus::Failed) };
            if answer::convert(VARS[i].format, &orig) == want {
                return k(s, SetStatus::Handled);
            }
            s.rotate(i, want, orig, 0, k);
        });
    }

    fn rotate(
        &mut self,
        i: usize,
        want: String,
        orig: Vec<u8>,
        round: u32,
        k: impl FnOnce(&mut Session, SetStatus) + Send + 'static,
    ) {
        if round >= 32 {
            return self.poll_var(i, move |s, _| k(s, SetStatus::Failed));
        }
        let cmd = VARS[i].cmd;
        self.send(false, b"-");
        self.read(spec(ReadSet::AlertAware, D3, false), move |s, got| {
            if got != Got::Line(b"OK".to_vec()) {
                return k(s, SetStatus::Failed);
            }
            s.send(false, &[cmd]);
            s.read(spec(ReadSet::AlertAware, D3, false), move |s, got| {
                let Some(now) = got.data() else { return k(s, SetStatus::Failed) };
                let conv = answer::convert(VARS[i].format, &now);
                if conv == want {
                    return s.poll_var(i, move |s, _| k(s, SetStatus::Handled));
                }
                if conv.as_bytes() == orig.as_slice() {
                    return k(s, SetStatus::Failed);
                }
                s.rotate(i, want, orig, round + 1, k);
            });
        });
    }

    fn set_string(
        &mut self,
        i: usize,
        want: String,
        k: impl FnOnce(&mut Session, SetStatus) + Send + 'static,
    ) {
        let cmd = VARS[i].cmd;
        self.send_aa(&[cmd]);
        self.read(spec(ReadSet::AlertAware, D3, false), move |s, got| {
            let Some(cur) = got.data() else { return k(s, SetStatus::Failed) };
            if cur == want.as_bytes() {
                return k(s, SetStatus::Handled);
            }
            let mut bytes = vec![b'-'];
            bytes.extend_from_slice(want.as_bytes());
            bytes.resize(1 + APC_STRLEN, b'\r');
            s.write_long(bytes, false, move |s, ok| {
                if !ok {
                    return k(s, SetStatus::Failed);
                }
                s.read(spec(ReadSet::AlertAware, D3, false), move |s, got| match got {
                    Got::Line(l) if l != b"NO" => {
                        s.poll_var(i, move |s, _| k(s, SetStatus::Handled))
                    }
                    _ => k(s, SetStatus::Failed),
                });
            });
        });
    }
}

/// Publishes a status register as NUT's `ups_status_set`: `status_init`,
/// one `status_set` per bit in NUT's order (`OFF` for 0), `status_commit`.
pub fn publish_status<P: Publish + ?Sized>(bits: u8, out: &mut P) {
    out.status_init();
    for t in answer::status_tokens(bits) {
        out.status_set(t);
    }
    out.status_commit();
}
