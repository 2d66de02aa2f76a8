//! The sans-IO session: autodetection, the init walk, periodic updates,
//! instant commands and settings, over a byte transport and a clock the
//! caller owns.
//!
//! The caller writes what [`Session::poll_transmit`] returns, feeds what it
//! reads to [`Session::handle_input`] (serial: any pieces, the session
//! waits for the `\r`) or [`Session::handle_answer`] (USB: one whole answer
//! as a [`crate::usb`] framing reassembled it), calls
//! [`Session::handle_timeout`] when [`Session::poll_timeout`] is reached, and
//! drains [`Session::poll_event`]. Values go straight into the
//! [`Publish`] the session owns.

use crate::config::Config;
use crate::error::{AnswerError, CommandError, escape};
use crate::item::{self, Hook, Item, flags};
use crate::protocol::{self, Claim, Protocol};
use crate::state::{HookOut, HookOut2, State};
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;
use nut_proto::publish::Publish;
use nut_proto::sock::VarFlags;

/// The longest answer accepted (NUT's answer buffers hold 512 bytes).
pub const MAX_ANSWER_LEN: usize = 512;

/// NUT's `MAXTRIES`.
const MAXTRIES: u32 = 3;

/// Identifies a command or setting request in [`Event::CommandDone`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// What happened, for the driver to log or act on.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A protocol claimed the device (`Using protocol: ...`).
    Detected {
        /// Its name and version (`driver.version.data`).
        protocol: &'static str,
    },
    /// No protocol claimed the device (`Device not supported!`): fatal.
    NotSupported,
    /// The init walk and the init settings are done; updates follow.
    Initialized,
    /// Init failed (`Can't initialise data from the UPS`, a delay out of
    /// range, battery charge undetermined): fatal.
    InitFailed {
        /// Why.
        reason: String,
    },
    /// An update finished and `ups.status` was committed.
    Updated {
        /// A full update (all items) rather than a quick (status) one.
        full: bool,
    },
    /// An update failed (`Communications with the UPS lost: status read
    /// failed!`); `stale` once NUT would mark the data stale.
    UpdateFailed {
        /// The driver should call `dstate_datastale`.
        stale: bool,
    },
    /// Updates work again after the data went stale.
    Reconnected,
    /// An instant command or a setting finished.
    CommandDone {
        /// The request.
        id: RequestId,
        /// Success, or why not.
        result: Result<(), CommandError>,
    },
    /// An answer was refused (for debug logs; NUT logs these at debug
    /// level and carries on).
    AnswerRefused(AnswerError),
}

/// What a query got back.
#[derive(Clone, Debug)]
enum Reply {
    /// Bytes (possibly empty: a timeout on serial reads as no bytes, as in
    /// NUT).
    Bytes(Vec<u8>, bool),
    /// The transport failed (USB error, overlong line): the item fails.
    Failed(AnswerError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Init,
    Quick,
    Full,
}

#[derive(Clone, Debug)]
struct Walk {
    mode: Mode,
    idx: usize,
    prev: Option<(&'static str, Vec<u8>)>,
    failed: bool,
    /// The init walk only: answers a claim step accepted during the
    /// detection just finished, by query (see [`Heard`]).
    heard: Vec<Heard>,
    /// The first update after the init walk: items to read besides its
    /// own if their query's answer changed (see [`Heard`]).
    refresh: Vec<usize>,
    /// `prev` is the heard answer again: the refresh items skip it.
    same: bool,
}

/// One query's answer heard during an autodetection pass.
///
/// NUT's autodetection asks each subdriver's claim queries in turn, up to
/// `MAXTRIES` times per subdriver, flushing the line and asking again each
/// time, so the same query (`Q1`, `QS`, `M`, `QPI`, ...) goes out many
/// times within a second or two; on a 2400-baud line a `Q1` exchange alone
/// takes about 0.2 s. Within one pass this session asks once and lets the
/// next claim step that sends the same bytes read the answer the device
/// gave a moment ago, with the same claim logic on the same bytes. That
/// gives the same claim as NUT for any device that answers one query the
/// same way twice in a row (the device has no way to tell one subdriver's
/// `Q1` from another's).
///
/// What NUT's retries are for is kept: an answer is never reused by the
/// subdriver that refused it. Its next try asks the device again, so a
/// garbled, cut or missing answer (a device waking up, a flaky USB
/// bridge) gets the same second and third chances as in NUT; only an
/// answer some claim step accepted, or one the asking subdriver has not
/// yet seen, is reused. A transport failure is never reused.
///
/// The init walk right after detection reads accepted answers the same
/// way (NUT asks the claiming `Q1` and `I` again): an item takes the heard
/// answer only if it accepts it, and otherwise asks the device, as NUT
/// would. So that no value served comes from an older answer than NUT's,
/// the first update (which follows at once, before the driver serves
/// anything) compares its fresh answer (for Megatec: the `Q1` it asks
/// anyway) with the heard one: if the device now answers differently, the
/// non-static items of that query (the claim's own included) are read
/// again from the fresh answer, as NUT's init walk would have read them;
/// if not, nothing changes and the update publishes what NUT's does.
/// Static items (`I`, `F`) are read once by NUT too, a moment later. The
/// answers live in the detection job, the init walk and the first update,
/// and are dropped with them; later updates always ask.
#[derive(Clone, Debug)]
struct Heard {
    /// The query bytes as sent.
    query: Vec<u8>,
    /// The answer bytes, and whether the read timed out.
    answer: Vec<u8>,
    timed_out: bool,
    /// Some claim step accepted this answer.
    accepted: bool,
    /// The subdrivers (indexes into the detection order) that refused it.
    refused_by: Vec<usize>,
}

#[derive(Clone, Debug)]
struct Detect {
    order: Vec<&'static Protocol>,
    pi: usize,
    tries: u32,
    step: usize,
    state: Option<State>,
    /// The query of the step waiting for its answer.
    asked: Vec<u8>,
    /// Answers heard during this pass (see [`Heard`]).
    heard: Vec<Heard>,
}

#[derive(Clone, Debug)]
struct Cmd {
    id: RequestId,
    /// Sub-commands still to run (name, extra value).
    todo: VecDeque<(String, Option<String>)>,
    /// The item of the command being sent.
    current: Option<&'static Item>,
    /// `-k`: how many more attempts of the current step.
    retries: u32,
    /// `-k`: after `shutdown.stop`, the shutdown itself.
    then: Option<String>,
    /// The step being run, to retry it.
    last: Option<(String, Option<String>)>,
    /// OMRON: the auto-restart query (`An`/`Af`) that precedes the
    /// shutdown was sent.
    prologue: bool,
}

/// OMRON's auto-restart settings, sent before `shutdown.return` (on) and
/// `shutdown.stayoff` (off); answered `OK` (`omron_start_auto`).
static OMRON_START_AUTO: [Item; 2] = [omron_start_auto("An\r"), omron_start_auto("Af\r")];

const fn omron_start_auto(command: &'static str) -> Item {
    Item {
        var: "ups.start.auto",
        info_flags: 0,
        info_rw: &[],
        command,
        min_len: 0,
        leading: 0,
        from: 0,
        to: 0,
        dfl: None,
        flags: flags::NONUT,
        pre_cmd: Hook::None,
        pre_ans: Hook::OmronCommandAnswer,
        pre: Hook::None,
    }
}

#[derive(Clone, Debug)]
enum Job {
    Detect(alloc::boxed::Box<Detect>),
    Walk(Walk),
    Cmd(Cmd),
}

#[derive(Clone, Debug)]
enum Request {
    Cmd(RequestId, String, Option<String>),
    Set(RequestId, String, String),
    Shutdown(RequestId, bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Detecting,
    Ready,
    Failed,
}

/// One device's Q* session. See the [module docs](self).
#[derive(Debug)]
pub struct Session<P: Publish> {
    config: Config,
    publish: P,
    state: Option<State>,
    phase: Phase,
    job: Option<Job>,
    requests: VecDeque<Request>,
    events: VecDeque<Event>,
    /// The query waiting for its answer.
    query: Option<Vec<u8>>,
    /// Bytes to hand to the transport.
    transmit: Option<Vec<u8>>,
    buf: Vec<u8>,
    deadline: Option<Duration>,
    next_update: Option<Duration>,
    update_started: Duration,
    lastpoll: Duration,
    retry: u32,
    now: Duration,
    next_id: u64,
    /// Items the first update reads besides its own, and the answers
    /// they were read from (see [`Heard`]).
    refresh: Vec<usize>,
    heard: Vec<Heard>,
}

impl<P: Publish> Session<P> {
    /// Starts autodetection (or the `protocol=` one) at time `now` (any
    /// monotonic clock, e.g. time since the driver started). The first
    /// query is ready in [`poll_transmit`](Self::poll_transmit).
    pub fn new(config: Config, publish: P, now: Duration) -> Self {
        // An unknown `protocol=` name leaves nothing to try: NotSupported.
        let order: Vec<&'static Protocol> = match config.protocol.as_deref() {
            Some(name) => protocol::by_name(name).into_iter().collect(),
            None if config.nut_2_8_0_only => protocol::AUTODETECT_ORDER_2_8_0.to_vec(),
            None => protocol::AUTODETECT_ORDER.to_vec(),
        };
        let mut s = Session {
            config,
            publish,
            state: None,
            phase: Phase::Detecting,
            job: Some(Job::Detect(alloc::boxed::Box::new(Detect {
                order,
                pi: 0,
                tries: 0,
                step: 0,
                state: None,
                asked: Vec::new(),
                heard: Vec::new(),
            }))),
            requests: VecDeque::new(),
            events: VecDeque::new(),
            query: None,
            transmit: None,
            buf: Vec::new(),
            deadline: None,
            next_update: None,
            update_started: now,
            lastpoll: now,
            retry: 0,
            now,
            next_id: 0,
            refresh: Vec::new(),
            heard: Vec::new(),
        };
        s.drive(None);
        s
    }

    /// The published variables.
    pub fn publisher(&self) -> &P {
        &self.publish
    }

    /// The published variables, mutable (e.g. to apply `override.*`).
    pub fn publisher_mut(&mut self) -> &mut P {
        &mut self.publish
    }

    /// Gives the publisher back.
    pub fn into_publisher(self) -> P {
        self.publish
    }

    /// The protocol that claimed the device.
    pub fn protocol(&self) -> Option<&'static Protocol> {
        self.state.as_ref().map(|s| s.proto)
    }

    /// The query bytes to send now, once each (serial: write them as is;
    /// USB: give them to a [`crate::usb::Framing`]).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// The query waiting for its answer, if any.
    pub fn pending_query(&self) -> Option<&[u8]> {
        self.query.as_deref()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due: the pending
    /// query's deadline, or the next update.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.query.is_some() {
            return self.deadline;
        }
        if self.job.is_none() && self.requests.is_empty() && self.phase == Phase::Ready {
            return self.next_update;
        }
        None
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes read from a serial line, in any pieces. The answer ends at the
    /// first `\r`; bytes after it, and bytes when no query is pending, are
    /// dropped (NUT flushes the line before each query).
    pub fn handle_input(&mut self, bytes: &[u8], now: Duration) {
        self.now = now;
        if self.query.is_none() {
            return;
        }
        for &b in bytes {
            if self.buf.len() >= MAX_ANSWER_LEN {
                let q = self.query.as_deref().unwrap_or(&[]);
                let err = AnswerError::Overlong {
                    query: item::query_name(q),
                    answer: escape(&self.buf),
                    max: MAX_ANSWER_LEN,
                };
                self.finish_query(Reply::Failed(err));
                return;
            }
            self.buf.push(b);
            if b == b'\r' {
                let ans = core::mem::take(&mut self.buf);
                self.finish_query(Reply::Bytes(ans, false));
                return;
            }
        }
    }

    /// One whole answer from a USB framing ([`crate::usb`]); may lack the
    /// `\r`, may be empty (a bridge that returned nothing).
    pub fn handle_answer(&mut self, answer: &[u8], now: Duration) {
        self.now = now;
        if self.query.is_none() {
            return;
        }
        let mut a = answer.to_vec();
        a.truncate(MAX_ANSWER_LEN);
        self.finish_query(Reply::Bytes(a, false));
    }

    /// The transport failed for the pending query (USB error): the query
    /// fails, as a negative return of NUT's `qx_command`.
    pub fn handle_transport_error(&mut self, now: Duration) {
        self.now = now;
        if let Some(q) = self.query.as_deref() {
            let err = AnswerError::Timeout {
                query: item::query_name(q),
                partial: String::from("transport error"),
            };
            self.finish_query(Reply::Failed(err));
        }
    }

    /// Time passed: a pending query past its deadline counts as answered
    /// with nothing (bytes without `\r` are dropped, as NUT's canonical-mode
    /// read does); an update is started when due.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.now = now;
        if self.query.is_some() {
            if self.deadline.is_some_and(|d| now >= d) {
                let partial = core::mem::take(&mut self.buf);
                if !partial.is_empty() {
                    let q = self.query.as_deref().unwrap_or(&[]);
                    self.events.push_back(Event::AnswerRefused(AnswerError::Timeout {
                        query: item::query_name(q),
                        partial: escape(&partial),
                    }));
                }
                self.finish_query(Reply::Bytes(Vec::new(), true));
            }
            return;
        }
        if self.job.is_none() && self.phase == Phase::Ready {
            if self.next_update.is_some_and(|t| now >= t) {
                self.start_update();
            }
            self.drive(None);
        }
    }

    /// Queues an instant command (`upscmd`); the result comes as
    /// [`Event::CommandDone`].
    pub fn instcmd(&mut self, name: &str, extra: Option<&str>, now: Duration) -> RequestId {
        self.now = now;
        let id = self.new_id();
        self.requests.push_back(Request::Cmd(id, name.to_string(), extra.map(ToString::to_string)));
        self.kick();
        id
    }

    /// Queues a setting (`upsrw`); the result comes as
    /// [`Event::CommandDone`].
    pub fn setvar(&mut self, name: &str, value: &str, now: Duration) -> RequestId {
        self.now = now;
        let id = self.new_id();
        self.requests.push_back(Request::Set(id, name.to_string(), value.to_string()));
        self.kick();
        id
    }

    /// Queues NUT's `-k` sequence: `shutdown.stop` (up to 3 tries, if the
    /// protocol has it), then `shutdown.return` (or `shutdown.stayoff`) up to
    /// 3 tries. Success in [`Event::CommandDone`] means "Shutting down".
    pub fn shutdown(&mut self, stayoff: bool, now: Duration) -> RequestId {
        self.now = now;
        let id = self.new_id();
        self.requests.push_back(Request::Shutdown(id, stayoff));
        self.kick();
        id
    }

    /// Starts an update now, even if the next one is not due yet.
    pub fn update_now(&mut self, now: Duration) {
        self.now = now;
        if self.job.is_none() && self.phase == Phase::Ready {
            self.start_update();
            self.drive(None);
        }
    }

    fn new_id(&mut self) -> RequestId {
        self.next_id = self.next_id.wrapping_add(1);
        RequestId(self.next_id)
    }

    fn kick(&mut self) {
        if self.job.is_none() && self.query.is_none() {
            self.drive(None);
        }
    }

    fn start_update(&mut self) {
        let full = self.now
            > self.lastpoll.saturating_add(Duration::from_secs(self.config.pollfreq))
            || self.state.as_ref().is_some_and(|s| s.data_has_changed);
        self.update_started = self.now;
        self.publish.status_init();
        if full {
            if let Some(s) = self.state.as_mut() {
                s.status = 0;
                s.batt.runt_act = -1.0;
                s.batt.chrg_act = -1.0;
            }
            self.publish.alarm_init();
        }
        self.job = Some(Job::Walk(Walk {
            mode: if full { Mode::Full } else { Mode::Quick },
            idx: 0,
            prev: None,
            failed: false,
            heard: core::mem::take(&mut self.heard),
            refresh: core::mem::take(&mut self.refresh),
            same: false,
        }));
    }

    fn finish_query(&mut self, reply: Reply) {
        self.query = None;
        self.deadline = None;
        self.buf.clear();
        self.drive(Some(reply));
    }

    fn send(&mut self, q: Vec<u8>) {
        self.deadline = Some(self.now.saturating_add(self.config.timeout));
        self.buf.clear();
        self.transmit = Some(q.clone());
        self.query = Some(q);
    }

    /// Runs jobs until one needs a query or nothing is left.
    fn drive(&mut self, mut reply: Option<Reply>) {
        loop {
            let job = match self.job.take() {
                Some(j) => j,
                None => {
                    reply = None;
                    match self.requests.pop_front() {
                        Some(r) => match self.start_request(r) {
                            Some(j) => j,
                            None => continue,
                        },
                        None => return,
                    }
                }
            };
            let (next, q) = match job {
                Job::Detect(d) => self.step_detect(*d, reply.take()),
                Job::Walk(w) => self.step_walk(w, reply.take()),
                Job::Cmd(c) => self.step_cmd(c, reply.take()),
            };
            self.job = next;
            if let Some(q) = q {
                self.send(q);
                return;
            }
        }
    }

    // ---- autodetection ------------------------------------------------------

    fn claim_steps(&self, p: &'static Protocol) -> Vec<&'static str> {
        match p.claim {
            Claim::Blazer => {
                if self.config.novendor {
                    alloc::vec!["input.voltage"]
                } else {
                    alloc::vec!["input.voltage", "ups.firmware"]
                }
            }
            Claim::BlazerLight => alloc::vec!["input.voltage"],
            Claim::Omron => {
                let named = self.config.protocol.is_some();
                let vid = self
                    .config
                    .usb_vendorid
                    .as_deref()
                    .is_some_and(|v| v.eq_ignore_ascii_case("0590"));
                if named || vid { alloc::vec!["input.voltage"] } else { Vec::new() }
            }
            Claim::Steps(s) => s.to_vec(),
            Claim::Mecer => alloc::vec!["input.voltage", "ups.firmware.aux"],
            Claim::Mandatory(s) => {
                let st = State::new(p, self.config.clone());
                s.iter()
                    .copied()
                    .filter(|v| {
                        !(self.config.nooutstats
                            && st
                                .find(v, 0, false)
                                .is_some_and(|(_, it)| item::eq_ic(it.command.as_bytes(), b"WA\r")))
                    })
                    .collect()
            }
            Claim::Masterguard => {
                // A malformed `slave_address` fails the claim before any query.
                if crate::hooks::masterguard_config_slaveaddr(self.config.slave_address.as_deref())
                    .is_err()
                {
                    return Vec::new();
                }
                alloc::vec![
                    "experimental.series",
                    "device.model",
                    "ups.power.nominal",
                    "ups.id",
                    "experimental.output_voltages",
                ]
            }
        }
    }

    fn step_detect(
        &mut self,
        mut d: Detect,
        reply: Option<Reply>,
    ) -> (Option<Job>, Option<Vec<u8>>) {
        if let Some(reply) = reply {
            // A fresh answer replaces whatever was heard for that query.
            let q = core::mem::take(&mut d.asked);
            d.heard.retain(|h| h.query != q);
            if let Reply::Bytes(answer, timed_out) = &reply {
                d.heard.push(Heard {
                    query: q.clone(),
                    answer: answer.clone(),
                    timed_out: *timed_out,
                    accepted: false,
                    refused_by: Vec::new(),
                });
            }
            self.detect_answer(&mut d, &q, reply);
        }
        loop {
            let Some(&proto) = d.order.get(d.pi) else {
                self.phase = Phase::Failed;
                self.events.push_back(Event::NotSupported);
                return (None, None);
            };
            let steps = self.claim_steps(proto);
            if steps.is_empty() {
                d.pi += 1;
                d.tries = 0;
                continue;
            }
            if d.step >= steps.len() {
                let mut st =
                    d.state.take().unwrap_or_else(|| State::new(proto, self.config.clone()));
                st.apply_options();
                self.state = Some(st);
                self.events.push_back(Event::Detected { protocol: proto.name });
                self.publish.setinfo("driver.version.data", proto.name);
                let heard = core::mem::take(&mut d.heard).into_iter().filter(|h| h.accepted);
                return (
                    Some(Job::Walk(Walk {
                        mode: Mode::Init,
                        idx: 0,
                        prev: None,
                        failed: false,
                        heard: heard.collect(),
                        refresh: Vec::new(),
                        same: false,
                    })),
                    None,
                );
            }
            let st = d.state.get_or_insert_with(|| State::new(proto, self.config.clone()));
            let q = steps
                .get(d.step)
                .and_then(|v| st.find(v, 0, false))
                .and_then(|(_, it)| prepare_query(st, it, it.command).ok());
            let Some(q) = q else {
                d.pi += 1;
                d.tries = 0;
                d.step = 0;
                d.state = None;
                continue;
            };
            // See `Heard`: reuse unless this subdriver refused that answer.
            let pi = d.pi;
            let reuse = d
                .heard
                .iter()
                .find(|h| h.query == q && !h.refused_by.contains(&pi))
                .map(|h| Reply::Bytes(h.answer.clone(), h.timed_out));
            match reuse {
                Some(reply) => self.detect_answer(&mut d, &q, reply),
                None => {
                    d.asked.clone_from(&q);
                    return (Some(Job::Detect(alloc::boxed::Box::new(d))), Some(q));
                }
            }
        }
    }

    /// One claim step's answer (asked or heard): the step passes, or the
    /// subdriver's try fails.
    fn detect_answer(&mut self, d: &mut Detect, q: &[u8], reply: Reply) {
        let Some(&proto) = d.order.get(d.pi) else { return };
        let steps = self.claim_steps(proto);
        let var = steps.get(d.step).copied().unwrap_or("");
        let mut st = d.state.take().unwrap_or_else(|| State::new(proto, self.config.clone()));
        let ok = match st.find(var, 0, false) {
            None => false,
            Some((idx, it)) => {
                let q = query_bytes(it.command);
                let (res, ans) = if proto.claim == Claim::Masterguard {
                    process_with(&mut st, it, &q, reply, &mut self.publish, claim_value)
                } else {
                    process(&mut st, it, &q, reply, &mut self.publish)
                };
                match res {
                    Ok(true) if proto.claim == Claim::Masterguard && d.step + 1 == steps.len() => {
                        let want = crate::hooks::masterguard_config_slaveaddr(
                            self.config.slave_address.as_deref(),
                        );
                        st.masterguard_claim_finish(want.ok().flatten())
                    }
                    Ok(true) => true,
                    Ok(false) => false,
                    Err(e) => {
                        self.events.push_back(Event::AnswerRefused(e));
                        if proto.claim == Claim::Mecer && d.step == 1 {
                            let nak = !ans.is_empty() && item::eq_ic(&ans, b"(NAK\r");
                            if nak {
                                if let Some(s) = st.skip.get_mut(idx) {
                                    *s = true;
                                }
                            }
                            nak
                        } else {
                            false
                        }
                    }
                }
            }
        };
        let pi = d.pi;
        if let Some(h) = d.heard.iter_mut().find(|h| h.query == q) {
            if ok {
                h.accepted = true;
            } else if !h.refused_by.contains(&pi) {
                h.refused_by.push(pi);
            }
        }
        if ok {
            d.step += 1;
            d.state = Some(st);
        } else {
            let cleanup = matches!(proto.claim, Claim::Blazer | Claim::Steps(_) | Claim::Mecer);
            if cleanup && d.step > 0 {
                if let Some(first) = steps.first() {
                    self.publish.delinfo(first);
                }
            }
            d.step = 0;
            d.state = None;
            d.tries += 1;
            if d.tries >= MAXTRIES {
                d.tries = 0;
                d.pi += 1;
            }
        }
    }

    // ---- walks ----------------------------------------------------------------

    fn step_walk(&mut self, mut w: Walk, reply: Option<Reply>) -> (Option<Job>, Option<Vec<u8>>) {
        let Some(mut st) = self.state.take() else { return (None, None) };
        let items = st.proto.items;
        if let Some(reply) = reply {
            if let Some(it) = items.get(w.idx) {
                let q = query_bytes(it.command);
                // A refresh item (see `Heard`) whose query got the heard
                // answer again: nothing to read again.
                let same = match &reply {
                    Reply::Bytes(b, _) if w.mode == Mode::Quick && !it.has(flags::QUICK_POLL) => {
                        let sent = prepare_query(&st, it, it.command).unwrap_or_default();
                        w.heard.iter().any(|h| h.query == sent && h.answer == *b)
                    }
                    _ => false,
                };
                w.same = same;
                if same {
                    let ans = match &reply {
                        Reply::Bytes(b, _) => match st.answer_hook(it, b) {
                            HookOut2::Value(a) => item::c_str(&a).to_vec(),
                            _ => Vec::new(),
                        },
                        Reply::Failed(_) => Vec::new(),
                    };
                    w.prev = Some((it.command, ans));
                } else {
                    let (res, ans) = process(&mut st, it, &q, reply, &mut self.publish);
                    w.prev = Some((it.command, ans));
                    self.walk_result(&mut st, &mut w, res);
                }
                w.idx += 1;
            }
        }
        while !w.failed {
            let Some(it) = items.get(w.idx) else { break };
            let idx = w.idx;
            if st.is_skipped(idx) {
                w.idx += 1;
                continue;
            }
            match w.mode {
                Mode::Init => {
                    if it.has(flags::ABSENT) {
                        if self.publish.getinfo(it.var).is_none() {
                            self.publish.setinfo(it.var, it.dfl.unwrap_or(""));
                            let values = st.rw_values(it, &self.publish);
                            set_var(it, &values, &mut self.publish);
                        }
                        w.idx += 1;
                        continue;
                    }
                    let dup = starts_ic(it.var, "ups.alarm") || starts_ic(it.var, "ups.status");
                    if !dup && self.publish.getinfo(it.var).is_some() {
                        w.idx += 1;
                        continue;
                    }
                }
                Mode::Quick => {
                    if !it.has(flags::QUICK_POLL) && !w.refresh.contains(&idx) {
                        w.idx += 1;
                        continue;
                    }
                }
                Mode::Full => {
                    if it.flags & (flags::ABSENT | flags::CMD | flags::SETVAR | flags::STATIC) != 0
                        || (it.has(flags::SEMI_STATIC) && !st.data_has_changed)
                    {
                        w.idx += 1;
                        continue;
                    }
                }
            }
            if it.has(flags::CMD) {
                self.publish.addcmd(it.var);
                w.idx += 1;
                continue;
            }
            if it.has(flags::SETVAR) {
                w.idx += 1;
                continue;
            }
            let reuse = match &w.prev {
                Some((cmd, ans))
                    if !ans.is_empty() && item::eq_ic(cmd.as_bytes(), it.command.as_bytes()) =>
                {
                    Some(ans.clone())
                }
                _ => None,
            };
            if let Some(ans) = reuse {
                if w.same && w.mode == Mode::Quick && !it.has(flags::QUICK_POLL) {
                    w.idx += 1;
                    continue;
                }
                let q = query_bytes(it.command);
                let len = ans.len();
                st.answer.clone_from(&ans);
                let res = item::extract(it, &q, &ans, len, st.proto.rejected)
                    .and_then(|f| st.infoval_set(it, &q, &f, &mut self.publish));
                self.walk_result(&mut st, &mut w, res);
                w.idx += 1;
                continue;
            }
            match prepare_query(&st, it, it.command) {
                Ok(q) => {
                    let init = w.mode == Mode::Init;
                    if let Some(h) = w.heard.iter_mut().find(|h| init && h.accepted && h.query == q)
                    {
                        // The init walk reads what a claim step accepted a
                        // moment ago (see `Heard`) if this item takes it;
                        // otherwise it asks, as NUT does.
                        let before = st.clone();
                        let qb = query_bytes(it.command);
                        let heard = Reply::Bytes(h.answer.clone(), h.timed_out);
                        h.accepted = false;
                        let (res, ans) = process(&mut st, it, &qb, heard, &mut self.publish);
                        if res.is_ok() {
                            if let Some(h) = w.heard.iter_mut().find(|h| h.query == q) {
                                h.accepted = true;
                            }
                            w.prev = Some((it.command, ans));
                            self.walk_result(&mut st, &mut w, res);
                            w.idx += 1;
                            continue;
                        }
                        st = before;
                    }
                    self.state = Some(st);
                    return (Some(Job::Walk(w)), Some(q));
                }
                Err(e) => {
                    w.prev = None;
                    self.walk_result(&mut st, &mut w, Err(e));
                    w.idx += 1;
                }
            }
        }
        if w.mode == Mode::Init && !w.heard.is_empty() {
            // The items that read a query answered during detection, the
            // claim's own included; static ones are never read again (by
            // NUT's updates either).
            let skip = flags::STATIC | flags::ABSENT | flags::CMD | flags::SETVAR;
            self.refresh = (0..items.len())
                .filter(|&i| {
                    items.get(i).is_some_and(|it| {
                        it.flags & skip == 0
                            && !st.is_skipped(i)
                            && prepare_query(&st, it, it.command)
                                .is_ok_and(|q| w.heard.iter().any(|h| h.query == q))
                    })
                })
                .collect();
            self.heard = w.heard;
        }
        self.state = Some(st);
        self.walk_done(w.mode, !w.failed);
        (None, None)
    }

    fn walk_result(&mut self, st: &mut State, w: &mut Walk, res: Result<bool, AnswerError>) {
        let Some(it) = st.proto.items.get(w.idx) else { return };
        match res {
            Ok(published) => {
                if published && w.mode == Mode::Init {
                    let values = st.rw_values(it, &self.publish);
                    set_var(it, &values, &mut self.publish);
                }
            }
            Err(e) => {
                let hard = matches!(e, AnswerError::Timeout { .. })
                    || !matches!(
                        e,
                        AnswerError::NonNumeric { .. }
                            | AnswerError::Empty { .. }
                            | AnswerError::Hook { .. }
                            | AnswerError::Unsupported { .. }
                    );
                // A hook this crate lacks is its gap, not the device's: it
                // never fails a walk, and the item is skipped from then on.
                let ours = matches!(e, AnswerError::Unsupported { .. });
                self.events.push_back(Event::AnswerRefused(e));
                if ours {
                    if let Some(s) = st.skip.get_mut(w.idx) {
                        *s = true;
                    }
                    return;
                }
                if it.has(flags::QUICK_POLL) {
                    w.failed = true;
                    return;
                }
                // NUT skips for good an item whose answer failed at init; a
                // refused value (hook, non-numeric) is only skipped this time.
                if w.mode == Mode::Init && hard {
                    if let Some(s) = st.skip.get_mut(w.idx) {
                        *s = true;
                    }
                }
            }
        }
    }

    fn walk_done(&mut self, mode: Mode, ok: bool) {
        match mode {
            Mode::Init => {
                if !ok {
                    self.fail_init("can't initialise data from the UPS");
                    return;
                }
                if let Err(e) = self.post_init() {
                    self.fail_init(&e);
                    return;
                }
                self.phase = Phase::Ready;
                self.lastpoll = self.now;
                self.next_update = Some(self.now);
                self.events.push_back(Event::Initialized);
            }
            Mode::Quick | Mode::Full => {
                let full = mode == Mode::Full;
                self.next_update =
                    Some(self.update_started + Duration::from_secs(self.config.pollinterval));
                if !ok {
                    let stale = self.retry > MAXTRIES;
                    if !stale {
                        self.retry += 1;
                    }
                    self.events.push_back(Event::UpdateFailed { stale });
                    return;
                }
                let Some(st) = self.state.as_mut() else { return };
                if full {
                    st.update_battery(&mut self.publish, self.now);
                    self.lastpoll = self.update_started;
                    st.data_has_changed = false;
                    st.publish_alarms(&mut self.publish);
                    self.publish.alarm_commit();
                }
                st.publish_status(&mut self.publish);
                self.publish.status_commit();
                if self.retry > MAXTRIES {
                    self.events.push_back(Event::Reconnected);
                }
                self.retry = 0;
                self.events.push_back(Event::Updated { full });
            }
        }
    }

    fn fail_init(&mut self, reason: &str) {
        self.phase = Phase::Failed;
        self.events.push_back(Event::InitFailed { reason: reason.to_string() });
    }

    /// The rest of `upsdrv_initinfo` after the walk.
    fn post_init(&mut self) -> Result<(), String> {
        let Some(mut st) = self.state.take() else { return Err("no protocol".into()) };
        let r = (|| {
            st.init_battery(&mut self.publish, self.now).map_err(ToString::to_string)?;
            for (var, opt) in [
                ("ups.delay.start", self.config.ondelay.clone()),
                ("ups.delay.shutdown", self.config.offdelay.clone()),
            ] {
                if self.publish.getinfo(var).is_none() {
                    continue;
                }
                if let Some(v) = opt {
                    match self.setvar_sync(&mut st, var, &v) {
                        Ok(None) => {}
                        _ => return Err(alloc::format!("{var} '{v}' out of range")),
                    }
                }
            }
            for (plain, delayed) in [("load.off", "load.off.delay"), ("load.on", "load.on.delay")] {
                if st.find(plain, flags::CMD, true).is_none()
                    && st.find(delayed, flags::CMD, true).is_some()
                {
                    self.publish.addcmd(plain);
                }
            }
            let pf = alloc::format!("{}", self.config.pollfreq);
            self.publish.setinfo("driver.parameter.pollfreq", &pf);
            for (var, val) in st.proto.initinfo {
                self.publish.setinfo(var, val);
            }
            Ok(())
        })();
        self.state = Some(st);
        r
    }

    // ---- commands and settings ------------------------------------------------

    fn start_request(&mut self, r: Request) -> Option<Job> {
        let id = match &r {
            Request::Cmd(id, ..) | Request::Set(id, ..) | Request::Shutdown(id, _) => *id,
        };
        if self.phase != Phase::Ready || self.state.is_none() {
            self.events.push_back(Event::CommandDone { id, result: Err(CommandError::NotReady) });
            return None;
        }
        match r {
            Request::Cmd(id, name, extra) => {
                let mut todo = VecDeque::new();
                todo.push_back((name, extra));
                Some(Job::Cmd(Cmd {
                    id,
                    todo,
                    current: None,
                    retries: 0,
                    then: None,
                    last: None,
                    prologue: false,
                }))
            }
            Request::Shutdown(id, stayoff) => {
                let target = if stayoff { "shutdown.stayoff" } else { "shutdown.return" };
                let has_stop = self
                    .state
                    .as_ref()
                    .is_some_and(|s| s.find("shutdown.stop", flags::CMD, true).is_some());
                let mut todo = VecDeque::new();
                let then = if has_stop {
                    todo.push_back(("shutdown.stop".to_string(), None));
                    Some(target.to_string())
                } else {
                    todo.push_back((target.to_string(), None));
                    None
                };
                Some(Job::Cmd(Cmd {
                    id,
                    todo,
                    current: None,
                    retries: MAXTRIES - 1,
                    then,
                    last: None,
                    prologue: false,
                }))
            }
            Request::Set(id, name, value) => {
                let mut st = self.state.take()?;
                let r = self.setvar_sync(&mut st, &name, &value);
                self.state = Some(st);
                match r {
                    Ok(None) => {
                        self.events.push_back(Event::CommandDone { id, result: Ok(()) });
                        None
                    }
                    Ok(Some((it, q))) => {
                        let mut todo = VecDeque::new();
                        todo.push_back((
                            String::new(),
                            Some(String::from_utf8_lossy(&q).into_owned()),
                        ));
                        Some(Job::Cmd(Cmd {
                            id,
                            todo,
                            current: Some(it),
                            retries: 0,
                            then: None,
                            last: None,
                            prologue: false,
                        }))
                    }
                    Err(e) => {
                        self.events.push_back(Event::CommandDone { id, result: Err(e) });
                        None
                    }
                }
            }
        }
    }

    /// NUT `setvar` up to the query: `Ok(None)` when done without a query.
    fn setvar_sync(
        &mut self,
        st: &mut State,
        name: &str,
        value: &str,
    ) -> Result<Option<(&'static Item, Vec<u8>)>, CommandError> {
        let Some((_, it)) = st.find(name, flags::SETVAR, true) else {
            return Err(CommandError::Unknown(name.to_string()));
        };
        let bad =
            || CommandError::InvalidValue { name: name.to_string(), value: value.to_string() };
        if it.has(flags::NONUT) || value.is_empty() {
            return Err(bad());
        }
        if self.publish.getinfo(it.var).is_some_and(|v| v.eq_ignore_ascii_case(value)) {
            return Ok(None);
        }
        let mut allowed = st.rw_values(it, &self.publish);
        if allowed.is_empty() && it.flags & (flags::RANGE | flags::ENUM) != 0 {
            // NUT checks the value against the range or enum published for
            // the variable, which the item reading it set (Masterguard's
            // setters carry none of their own).
            if self.publish.getinfo(it.var).is_none() {
                return Err(bad());
            }
            if let Some(r) = st
                .proto
                .items
                .iter()
                .find(|r| r.var.eq_ignore_ascii_case(it.var) && !r.has(flags::SETVAR))
            {
                allowed = st.rw_values(r, &self.publish);
            }
        }
        if it.has(flags::RANGE) {
            if !item::is_numeric(value.as_bytes()) {
                return Err(bad());
            }
            let v = item::strtol(value);
            let ok = allowed.chunks(2).any(|c| match c {
                [lo, hi] => item::strtol(lo) <= v && v <= item::strtol(hi),
                _ => false,
            });
            if !ok {
                return Err(bad());
            }
        } else if it.has(flags::ENUM) {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) {
                return Err(bad());
            }
        } else if it.info_flags & item::ST_FLAG_STRING != 0 {
            let aux = allowed.first().map_or(-1, |a| item::strtol(a));
            if aux < 0 || usize::try_from(aux).unwrap_or(0) < value.len() {
                return Err(bad());
            }
        }
        let mut v = value.to_string();
        if it.pre != Hook::None {
            match st.command_hook(it, &v, &mut self.publish) {
                HookOut::Value(x) => v = x,
                _ => return Err(bad()),
            }
        }
        if it.has(flags::ABSENT) {
            self.publish.setinfo(it.var, &v);
            return Ok(None);
        }
        if it.pre == Hook::None {
            v.clear();
        }
        let cmd = if v.is_empty() { it.command.to_string() } else { v };
        match prepare_query(st, it, &cmd) {
            Ok(q) => Ok(Some((it, q))),
            Err(_) => Err(bad()),
        }
    }

    fn step_cmd(&mut self, mut c: Cmd, reply: Option<Reply>) -> (Option<Job>, Option<Vec<u8>>) {
        let Some(mut st) = self.state.take() else { return (None, None) };
        let out = self.step_cmd_inner(&mut st, &mut c, reply);
        self.state = Some(st);
        match out {
            CmdFlow::Query(q) => (Some(Job::Cmd(c)), Some(q)),
            CmdFlow::Done(result) => {
                if result.is_err() && c.retries > 0 {
                    c.retries -= 1;
                    // Retry the same step (NUT -k): put it back.
                    if let Some(last) = c.last.clone() {
                        c.todo.push_front(last);
                    }
                    c.current = None;
                    c.prologue = false;
                    return (Some(Job::Cmd(c)), None);
                }
                if let Some(next) = c.then.take() {
                    c.todo.clear();
                    c.todo.push_back((next, None));
                    c.retries = MAXTRIES - 1;
                    c.current = None;
                    c.prologue = false;
                    return (Some(Job::Cmd(c)), None);
                }
                self.events.push_back(Event::CommandDone { id: c.id, result });
                (None, None)
            }
            CmdFlow::Next => (Some(Job::Cmd(c)), None),
        }
    }

    fn step_cmd_inner(&mut self, st: &mut State, c: &mut Cmd, reply: Option<Reply>) -> CmdFlow {
        let accepted = st.proto.accepted;
        let rejected = st.proto.rejected;
        if let Some(reply) = reply {
            let Some(it) = c.current.take() else { return CmdFlow::Done(Ok(())) };
            let name = it.var.to_string();
            let (q, ans, len) = match reply {
                Reply::Bytes(b, _) if it.pre_ans == Hook::MasterguardNewSlaveaddr => {
                    // The `ups.id` setting went out with the old address;
                    // later queries carry the new one.
                    let q = query_bytes(it.command);
                    if !st.masterguard_new_slaveaddr() {
                        let source = AnswerError::Hook {
                            query: item::query_name(&q),
                            var: it.var,
                            hook: it.pre_ans.name(),
                            value: escape(&b),
                        };
                        return CmdFlow::Done(Err(CommandError::Answer { name, source }));
                    }
                    let l = b.len();
                    (q, b, l)
                }
                Reply::Bytes(b, _) => {
                    let q = query_bytes(it.command);
                    // The item's answer hook (CRC check, OMRON's `OK`).
                    let b = match st.answer_hook(it, &b) {
                        HookOut2::Value(a) => a,
                        HookOut2::Refused => {
                            return CmdFlow::Done(Err(CommandError::NotAccepted {
                                name,
                                answer: escape(&b),
                            }));
                        }
                        HookOut2::Unsupported => {
                            let source = AnswerError::Unsupported {
                                query: item::query_name(&q),
                                var: it.var,
                                hook: it.pre_ans.name(),
                            };
                            return CmdFlow::Done(Err(CommandError::Answer { name, source }));
                        }
                    };
                    let l = b.len();
                    (q, b, l)
                }
                Reply::Failed(e) => {
                    return CmdFlow::Done(Err(CommandError::Answer { name, source: e }));
                }
            };
            let field = match item::extract(it, &q, &ans, len, rejected) {
                Ok(f) => f,
                Err(e) => return CmdFlow::Done(Err(CommandError::Answer { name, source: e })),
            };
            if !field.is_empty() {
                let ok = accepted.is_some_and(|a| item::eq_ic(&field, a.as_bytes()));
                if !ok {
                    return CmdFlow::Done(Err(CommandError::NotAccepted {
                        name,
                        answer: escape(&field),
                    }));
                }
            }
            st.data_has_changed = true;
            if let Some(i) = OMRON_START_AUTO.iter().position(|p| core::ptr::eq(p, it)) {
                self.publish.setinfo("ups.start.auto", if i == 0 { "yes" } else { "no" });
            }
            if c.todo.is_empty() {
                return CmdFlow::Done(Ok(()));
            }
            c.retries = 0;
            return CmdFlow::Next;
        }
        // A setting's query, prepared already.
        if let Some(it) = c.current {
            if let Some((_, Some(q))) = c.todo.pop_front() {
                return CmdFlow::Query(q.into_bytes());
            }
            c.current = None;
            let _ = it;
        }
        let Some((name, extra)) = c.todo.front().cloned() else { return CmdFlow::Done(Ok(())) };
        let name = match name.to_ascii_lowercase().as_str() {
            "beeper.off" => "beeper.disable".to_string(),
            "beeper.on" => "beeper.enable".to_string(),
            _ => name,
        };
        let Some((_, it)) = st.find(&name, flags::CMD, true) else {
            c.todo.pop_front();
            let lname = name.to_ascii_lowercase();
            let get = |p: &P, v: &str| p.getinfo(v).map(ToString::to_string);
            let mut push = |n: &str, e: Option<String>| c.todo.push_back((n.to_string(), e));
            match lname.as_str() {
                "load.on" => push("load.on.delay", Some("0".into())),
                "load.off" => push("load.off.delay", Some("0".into())),
                "shutdown.return" => {
                    push("load.on.delay", get(&self.publish, "ups.delay.start"));
                    push("load.off.delay", get(&self.publish, "ups.delay.shutdown"));
                }
                "shutdown.stayoff" => {
                    push("load.on.delay", Some("-1".into()));
                    push("load.off.delay", get(&self.publish, "ups.delay.shutdown"));
                }
                _ => return CmdFlow::Done(Err(CommandError::Unknown(name))),
            }
            if st
                .find(&c.todo.front().map(|t| t.0.clone()).unwrap_or_default(), flags::CMD, true)
                .is_none()
            {
                return CmdFlow::Done(Err(CommandError::Unknown(name)));
            }
            return CmdFlow::Next;
        };
        if it.pre == Hook::OmronProcessCommand && !c.prologue {
            let on = name.eq_ignore_ascii_case("shutdown.return");
            if on || name.eq_ignore_ascii_case("shutdown.stayoff") {
                // The step stays queued; a failed prologue fails (and
                // retries) the whole shutdown, as in NUT.
                c.prologue = true;
                c.last = None;
                if let Some(p) = OMRON_START_AUTO.get(usize::from(!on)) {
                    c.current = Some(p);
                    return CmdFlow::Query(query_bytes(p.command));
                }
            }
        }
        c.last = c.todo.pop_front();
        let mut value = extra.or_else(|| it.dfl.map(ToString::to_string)).unwrap_or_default();
        if it.pre != Hook::None {
            match st.command_hook(it, &value, &mut self.publish) {
                HookOut::Value(v) => value = v,
                _ => return CmdFlow::Done(Err(CommandError::InvalidValue { name, value })),
            }
        } else {
            value.clear();
        }
        let cmd = if value.is_empty() { it.command.to_string() } else { value };
        match prepare_query(st, it, &cmd) {
            Ok(q) => {
                c.current = Some(it);
                CmdFlow::Query(q)
            }
            Err(source) => CmdFlow::Done(Err(CommandError::Answer { name, source })),
        }
    }
}

enum CmdFlow {
    Query(Vec<u8>),
    Done(Result<(), CommandError>),
    Next,
}

fn starts_ic(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

fn query_bytes(cmd: &str) -> Vec<u8> {
    cmd.as_bytes().to_vec()
}

/// The bytes to send for an item (its `preprocess_command` hook applied),
/// or why there are none.
fn prepare_query(st: &State, it: &Item, cmd: &str) -> Result<Vec<u8>, AnswerError> {
    let unsupported = || AnswerError::Unsupported {
        query: item::query_name(cmd.as_bytes()),
        var: it.var,
        hook: it.pre_cmd.name(),
    };
    match it.pre_cmd {
        Hook::None => Ok(cmd.as_bytes().to_vec()),
        Hook::VoltronicAxpertCrc => crate::crc::add(cmd.as_bytes()).ok_or_else(unsupported),
        Hook::VoltronicSunnyFaultQuery => {
            let q = item::printf(cmd, &[item::Arg::I(st.axpert_fault_id())]);
            crate::crc::add(q.as_bytes()).ok_or_else(unsupported)
        }
        Hook::VoltronicSunnyEnergyHour
        | Hook::VoltronicSunnyEnergyDay
        | Hook::VoltronicSunnyEnergyMonth
        | Hook::VoltronicSunnyEnergyYear => {
            // NUT fills these from `device.date`/`device.time`, which no
            // item of this table publishes (its own are
            // `experimental.device.*`): the hook fails and the query is
            // never sent, as in NUT.
            crate::hooks::axpert::energy_query(it.pre_cmd, cmd, None, None).ok_or_else(|| {
                AnswerError::Hook {
                    query: item::query_name(cmd.as_bytes()),
                    var: it.var,
                    hook: it.pre_cmd.name(),
                    value: escape(cmd.as_bytes()),
                }
            })
        }
        Hook::MasterguardAddSlaveaddr => {
            st.masterguard_add_slaveaddr(cmd.as_bytes()).ok_or_else(|| AnswerError::Hook {
                query: item::query_name(cmd.as_bytes()),
                var: it.var,
                hook: it.pre_cmd.name(),
                value: escape(cmd.as_bytes()),
            })
        }
        _ => Err(unsupported()),
    }
}

/// `qx_process` + `ups_infoval_set` for one item. Also returns the answer
/// as later items with the same query reuse it (after the answer hook; empty
/// when the query or the hook failed).
fn process(
    st: &mut State,
    it: &'static Item,
    q: &[u8],
    reply: Reply,
    p: &mut dyn Publish,
) -> (Result<bool, AnswerError>, Vec<u8>) {
    process_with(st, it, q, reply, p, State::infoval_set)
}

/// What becomes of an item's field: published (`ups_infoval_set`), or
/// only checked by its hook (Masterguard's claim).
type Apply =
    fn(&mut State, &'static Item, &[u8], &[u8], &mut dyn Publish) -> Result<bool, AnswerError>;

/// A Masterguard claim step: the item's hook keeps what the claim needs,
/// nothing is published (NUT's claim calls the hook only, so that the
/// init walk still sets the writable variables' flags).
fn claim_value(
    st: &mut State,
    it: &'static Item,
    q: &[u8],
    field: &[u8],
    p: &mut dyn Publish,
) -> Result<bool, AnswerError> {
    if st.masterguard_claim_value(it, field, p) {
        Ok(true)
    } else {
        Err(AnswerError::Hook {
            query: item::query_name(q),
            var: it.var,
            hook: it.pre.name(),
            value: escape(field),
        })
    }
}

/// [`process`] with `apply` in place of `ups_infoval_set`.
fn process_with(
    st: &mut State,
    it: &'static Item,
    q: &[u8],
    reply: Reply,
    p: &mut dyn Publish,
    apply: Apply,
) -> (Result<bool, AnswerError>, Vec<u8>) {
    let (raw, timed_out) = match reply {
        Reply::Bytes(b, t) => (b, t),
        Reply::Failed(e) => return (Err(e), Vec::new()),
    };
    let ans = match st.answer_hook(it, &raw) {
        HookOut2::Value(a) => a,
        HookOut2::Refused => {
            let e = AnswerError::Hook {
                query: item::query_name(q),
                var: it.var,
                hook: it.pre_ans.name(),
                value: escape(&raw),
            };
            return (Err(e), Vec::new());
        }
        HookOut2::Unsupported => {
            let e = AnswerError::Unsupported {
                query: item::query_name(q),
                var: it.var,
                hook: it.pre_ans.name(),
            };
            return (Err(e), Vec::new());
        }
    };
    let keep = item::c_str(&ans).to_vec();
    let len = ans.len();
    let field = match item::extract(it, q, &ans, len, st.proto.rejected) {
        Ok(f) => f,
        Err(e) => {
            let e = if timed_out && ans.is_empty() {
                AnswerError::Timeout { query: item::query_name(q), partial: String::new() }
            } else {
                e
            };
            return (Err(e), keep);
        }
    };
    st.answer.clone_from(&ans);
    (apply(st, it, q, &field, p), keep)
}

/// NUT `qx_set_var`: flags, string length, enum values, ranges.
fn set_var(it: &Item, values: &[String], p: &mut dyn Publish) {
    if it.has(flags::NONUT) {
        return;
    }
    let rw = it.info_flags & item::ST_FLAG_RW != 0;
    let string = it.info_flags & item::ST_FLAG_STRING != 0;
    p.setflags(it.var, VarFlags { rw, string, number: false });
    if string {
        if let Some(v) = it.info_rw.first() {
            p.setaux(it.var, item::strtol(v.value));
        }
    }
    if it.has(flags::ENUM) {
        for v in values {
            p.addenum(it.var, v);
        }
    }
    if it.has(flags::RANGE) {
        for pair in values.chunks(2) {
            if let [lo, hi] = pair {
                let (lo, hi) = (item::strtol(lo), item::strtol(hi));
                if lo <= i64::from(i32::MAX) && hi <= i64::from(i32::MAX) {
                    p.addrange(it.var, lo, hi);
                }
            }
        }
    }
}

/// Applies one answer to every item of `protocol` that reads `query` (as
/// the first walk of a fresh driver would: no items skipped by options),
/// publishes what passes into `p`, and commits `ups.status` when at least
/// one status field of the answer was accepted. Returns the refused fields. For tests, replays and
/// fuzzing; a driver uses [`Session`].
pub fn apply_answer(
    protocol: &'static Protocol,
    query: &[u8],
    answer: &[u8],
    p: &mut dyn Publish,
) -> Vec<AnswerError> {
    let mut st = State::new(protocol, Config::default());
    let mut errors = Vec::new();
    let mut status = false;
    let mut answer_used: Option<Vec<u8>> = None;
    for (i, it) in protocol.items.iter().enumerate() {
        if st.is_skipped(i)
            || it.flags & (flags::CMD | flags::SETVAR | flags::ABSENT) != 0
            || !item::eq_ic(it.command.as_bytes(), query)
        {
            continue;
        }
        let is_status = starts_ic(it.var, "ups.status");
        let (res, keep) = match &answer_used {
            Some(a) if !a.is_empty() => {
                st.answer.clone_from(a);
                let r = item::extract(it, query, a, a.len(), protocol.rejected)
                    .and_then(|f| st.infoval_set(it, query, &f, p));
                (r, a.clone())
            }
            _ => process(&mut st, it, query, Reply::Bytes(answer.to_vec(), false), p),
        };
        answer_used = Some(keep);
        match res {
            Ok(_) if is_status => status = true,
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    if status {
        p.status_init();
        st.publish_status(p);
        p.status_commit();
    }
    errors
}
