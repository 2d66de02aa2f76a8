//! Serial test doubles.
//!
//! * [`Script`]: the answering machine. A table of queries and answers in
//!   a [`Dialect`] (how queries are framed, what terminates an answer, what
//!   an unknown query gets), with faults ([`Fault`]) and unsolicited bytes
//!   injected at given points.
//! * [`ScriptedStream`]: an in-memory [`ByteStream`] over a [`Script`]:
//!   answers delivered in chunks of `k` bytes per read, modem-control
//!   inputs set and outputs recorded, disconnects; it never sleeps.
//! * [`PtySerial`]: a real pseudo-terminal whose slave path a driver binary
//!   opens as its `port`, answered by a thread from a [`Script`] at the pace
//!   of a 2400-baud line.
//!
//! Both hand out a [`SerialControl`], a cloneable handle the test keeps
//! while the driver owns the link.

use nut_driver::Message;
use nut_driver::transport::{ByteStream, LinkError, ModemInputs, ModemOutputs};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest unfinished query kept before it counts as unknown.
const MAX_QUERY: usize = 256;

/// How the bytes a driver writes are cut into queries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A query ends with this byte (Megatec Q*: `\r`). Table queries match
    /// with or without it.
    Terminator(u8),
    /// A query is complete as soon as it equals a table query; bytes that
    /// start no table query are an unknown query (APC Smart: one-character
    /// commands).
    Table,
}

/// What an unknown query gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    /// The query, echoed back as received (what Megatec UPSes do).
    Echo,
    /// These bytes, sent as they are (no suffix added): `(NAK\r`, `NA\r\n`.
    Answer(Vec<u8>),
    /// Nothing.
    Silence,
}

/// The line discipline of a device family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// How queries are framed.
    pub framing: Framing,
    /// Appended to every table answer that does not already end with it.
    pub suffix: Vec<u8>,
    /// What an unknown query gets.
    pub unknown: Unknown,
    /// Bytes are ignored until this one arrives (APC: `Y`, the command that
    /// enters smart mode; it is then answered like any query).
    pub wake: Option<u8>,
}

impl Dialect {
    /// Megatec Q* (`blazer`, `nutdrv_qx`): queries and answers end with
    /// `\r`; unknown queries are echoed.
    pub fn megatec() -> Self {
        Dialect {
            framing: Framing::Terminator(b'\r'),
            suffix: b"\r".to_vec(),
            unknown: Unknown::Echo,
            wake: None,
        }
    }

    /// APC Smart (`apcsmart`): one-character commands (or any table
    /// query), answers end with `\r\n`, unknown commands get `NA\r\n`,
    /// everything before the first `Y` is ignored. Put `("Y", ["SM"])` in
    /// the table.
    pub fn apc() -> Self {
        Dialect {
            framing: Framing::Table,
            suffix: b"\r\n".to_vec(),
            unknown: Unknown::Answer(b"NA\r\n".to_vec()),
            wake: Some(b'Y'),
        }
    }

    /// Answers exactly as given (no suffix), queries framed by `framing`,
    /// unknown queries get `unknown`.
    pub fn raw(framing: Framing, unknown: Unknown) -> Self {
        Dialect { framing, suffix: Vec::new(), unknown, wake: None }
    }
}

/// A fault applied to answers (table answers and unknown-query answers).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// No answer at all.
    Silence,
    /// These bytes instead of the answer.
    Garbage(Vec<u8>),
    /// Only the first `k` bytes of the answer (the terminator is lost).
    Truncate(usize),
    /// Byte `k` of the answer becomes NUL (the rest, terminator included,
    /// follows): what a C driver reads as an answer cut at `k`.
    NulAt(usize),
}

impl Fault {
    fn apply(&self, answer: Vec<u8>) -> Vec<u8> {
        match self {
            Fault::Silence => Vec::new(),
            Fault::Garbage(g) => g.clone(),
            Fault::Truncate(k) => {
                let mut a = answer;
                a.truncate(*k);
                a
            }
            Fault::NulAt(k) => {
                let mut a = answer;
                if let Some(b) = a.get_mut(*k) {
                    *b = 0;
                }
                a
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    query: Vec<u8>,
    answers: Vec<Vec<u8>>,
    asked: usize,
    fault: Option<Fault>,
}

/// A device that answers queries from a table.
///
/// The n-th time a query is asked it gets its n-th answer, then the last
/// one again; an empty answer means no answer to that ask. Table answers get
/// the dialect's suffix unless they already end with it.
#[derive(Clone, Debug)]
pub struct Script {
    dialect: Dialect,
    entries: Vec<Entry>,
    partial: Vec<u8>,
    awake: bool,
    fault: Option<Fault>,
    injections: Vec<(usize, Vec<u8>)>,
    queries: Vec<Vec<u8>>,
    out: Vec<u8>,
}

impl Script {
    /// A script from `(query, answers)` pairs.
    pub fn new<Q, I, A>(dialect: Dialect, pairs: impl IntoIterator<Item = (Q, I)>) -> Self
    where
        Q: AsRef<[u8]>,
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let mut s = Script {
            awake: dialect.wake.is_none(),
            dialect,
            entries: Vec::new(),
            partial: Vec::new(),
            fault: None,
            injections: Vec::new(),
            queries: Vec::new(),
            out: Vec::new(),
        };
        for (q, answers) in pairs {
            s.add(q, answers);
        }
        s
    }

    /// A script from exchanges in time order (a recorded `.qx`/`.apc`
    /// session): the answers of a query that appears more than once are
    /// its answer sequence.
    pub fn from_exchanges<Q, A>(
        dialect: Dialect,
        exchanges: impl IntoIterator<Item = (Q, A)>,
    ) -> Self
    where
        Q: AsRef<[u8]>,
        A: AsRef<[u8]>,
    {
        let mut s = Script::new(dialect, Vec::<(Vec<u8>, Vec<Vec<u8>>)>::new());
        for (q, a) in exchanges {
            let key = s.key(q.as_ref()).to_vec();
            match s.entries.iter_mut().find(|e| e.query == key) {
                Some(e) => e.answers.push(a.as_ref().to_vec()),
                None => s.entries.push(Entry {
                    query: key,
                    answers: vec![a.as_ref().to_vec()],
                    asked: 0,
                    fault: None,
                }),
            }
        }
        s
    }

    /// Adds (or replaces) a query and its answers.
    pub fn add<A: AsRef<[u8]>>(
        &mut self,
        query: impl AsRef<[u8]>,
        answers: impl IntoIterator<Item = A>,
    ) -> &mut Self {
        let query = self.key(query.as_ref()).to_vec();
        let answers = answers.into_iter().map(|a| a.as_ref().to_vec()).collect();
        self.entries.retain(|e| e.query != query);
        self.entries.push(Entry { query, answers, asked: 0, fault: None });
        self
    }

    /// Sends `bytes` unsolicited when the `n`-th query (counting from 1,
    /// known or not) arrives, before its answer; `n = 0`: at once.
    pub fn inject_at(mut self, n: usize, bytes: impl AsRef<[u8]>) -> Self {
        if n == 0 {
            self.out.extend_from_slice(bytes.as_ref());
        } else {
            self.injections.push((n, bytes.as_ref().to_vec()));
        }
        self
    }

    /// The table form of a query: without the terminator.
    fn key<'a>(&self, q: &'a [u8]) -> &'a [u8] {
        match self.dialect.framing {
            Framing::Terminator(t) => q.strip_suffix(&[t]).unwrap_or(q),
            Framing::Table => q,
        }
    }

    /// Takes the bytes a driver wrote; answers go to the output.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if !self.awake {
                if Some(b) != self.dialect.wake {
                    continue;
                }
                self.awake = true;
            }
            self.partial.push(b);
            match self.dialect.framing {
                Framing::Terminator(t) => {
                    if b == t || self.partial.len() > MAX_QUERY {
                        let q = std::mem::take(&mut self.partial);
                        self.answer(q);
                    }
                }
                Framing::Table => {
                    let exact = self.entries.iter().any(|e| e.query == self.partial);
                    let prefix = self.entries.iter().any(|e| e.query.starts_with(&self.partial));
                    if exact || !prefix || self.partial.len() > MAX_QUERY {
                        let q = std::mem::take(&mut self.partial);
                        self.answer(q);
                    }
                }
            }
        }
    }

    fn answer(&mut self, received: Vec<u8>) {
        self.queries.push(received.clone());
        let n = self.queries.len();
        for (_, bytes) in self.injections.iter().filter(|(at, _)| *at == n) {
            self.out.extend_from_slice(bytes);
        }
        let key = self.key(&received).to_vec();
        let suffix = &self.dialect.suffix;
        let (answer, fault) = match self.entries.iter_mut().find(|e| e.query == key) {
            Some(e) => {
                let k = e.asked.min(e.answers.len().saturating_sub(1));
                e.asked += 1;
                let mut a = e.answers.get(k).cloned().unwrap_or_default();
                if !a.is_empty() && !a.ends_with(suffix) {
                    a.extend_from_slice(suffix);
                }
                (a, e.fault.clone())
            }
            None => {
                let a = match &self.dialect.unknown {
                    Unknown::Echo => received,
                    Unknown::Answer(a) => a.clone(),
                    Unknown::Silence => Vec::new(),
                };
                (a, None)
            }
        };
        let answer = match fault.as_ref().or(self.fault.as_ref()) {
            Some(f) => f.apply(answer),
            None => answer,
        };
        self.out.extend_from_slice(&answer);
    }

    /// Takes the output produced so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Every query received so far, as received (terminator included).
    pub fn queries(&self) -> &[Vec<u8>] {
        &self.queries
    }

    /// How often a table query was asked (0 for queries not in the table).
    pub fn asked(&self, query: impl AsRef<[u8]>) -> usize {
        let key = self.key(query.as_ref());
        self.entries.iter().find(|e| e.query == key).map_or(0, |e| e.asked)
    }

    /// A fault for every answer (`None`: off). A per-query fault wins.
    pub fn set_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault;
    }

    /// A fault for the answers to one table query (`None`: off).
    pub fn set_query_fault(&mut self, query: impl AsRef<[u8]>, fault: Option<Fault>) {
        let key = self.key(query.as_ref()).to_vec();
        if let Some(e) = self.entries.iter_mut().find(|e| e.query == key) {
            e.fault = fault;
        }
    }
}

/// The modem-control outputs as last set (all low at start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModemLines {
    /// Data Terminal Ready.
    pub dtr: bool,
    /// Request To Send.
    pub rts: bool,
    /// Break.
    pub brk: bool,
}

#[derive(Debug)]
struct Shared {
    script: Script,
    /// Bytes on their way to the driver.
    rx: VecDeque<u8>,
    /// Bytes the driver wrote.
    written: Vec<u8>,
    /// Bytes delivered to the driver.
    delivered: Vec<u8>,
    chunk: usize,
    calls: u64,
    disconnect_after: Option<u64>,
    disconnected: bool,
    modem_in: ModemInputs,
    modem_out: ModemLines,
    modem_log: Vec<ModemOutputs>,
}

impl Shared {
    fn new(mut script: Script) -> Self {
        let rx = script.take_output().into();
        Shared {
            script,
            rx,
            written: Vec::new(),
            delivered: Vec::new(),
            chunk: usize::MAX,
            calls: 0,
            disconnect_after: None,
            disconnected: false,
            modem_in: ModemInputs::default(),
            modem_out: ModemLines::default(),
            modem_log: Vec::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.written.extend_from_slice(bytes);
        self.script.feed(bytes);
        let out = self.script.take_output();
        self.rx.extend(out);
    }
}

/// The test's handle on a [`ScriptedStream`] or [`PtySerial`]: cloneable,
/// usable from any thread while the driver owns the link. Disconnects,
/// chunking and modem lines concern [`ScriptedStream`] only.
#[derive(Clone, Debug)]
pub struct SerialControl(Arc<Mutex<Shared>>);

impl SerialControl {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fault for every answer (`None`: off).
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().script.set_fault(fault);
    }

    /// A fault for the answers to one table query (`None`: off).
    pub fn set_query_fault(&self, query: impl AsRef<[u8]>, fault: Option<Fault>) {
        self.lock().script.set_query_fault(query, fault);
    }

    /// Sends `bytes` unsolicited now (after what is already queued).
    pub fn inject(&self, bytes: impl AsRef<[u8]>) {
        self.lock().rx.extend(bytes.as_ref());
    }

    /// Every query received so far, as received.
    pub fn queries(&self) -> Vec<Vec<u8>> {
        self.lock().script.queries().to_vec()
    }

    /// How often a table query was asked.
    pub fn asked(&self, query: impl AsRef<[u8]>) -> usize {
        self.lock().script.asked(query)
    }

    /// Every byte the driver wrote.
    pub fn written(&self) -> Vec<u8> {
        self.lock().written.clone()
    }

    /// Every byte delivered to the driver (read by it, or written to the
    /// pseudo-terminal).
    pub fn delivered(&self) -> Vec<u8> {
        self.lock().delivered.clone()
    }

    /// Bytes waiting to be read by (or sent to) the driver.
    pub fn pending(&self) -> usize {
        self.lock().rx.len()
    }

    /// At most `k` bytes per read (at least 1; default: unlimited).
    pub fn set_chunk(&self, k: usize) {
        self.lock().chunk = k.max(1);
    }

    /// The line is gone now: every call returns
    /// [`LinkError::Disconnected`] until [`reconnect`](Self::reconnect).
    pub fn disconnect(&self) {
        self.lock().disconnected = true;
    }

    /// After `n` more calls succeed, the line is gone.
    pub fn disconnect_after(&self, n: u64) {
        let mut s = self.lock();
        s.disconnect_after = Some(s.calls.saturating_add(n));
    }

    /// The line is back (and a pending disconnect is cancelled). Queued
    /// bytes and a half-received query are lost.
    pub fn reconnect(&self) {
        let mut s = self.lock();
        s.disconnected = false;
        s.disconnect_after = None;
        s.rx.clear();
        s.script.partial.clear();
    }

    /// Sets the modem-control inputs the driver reads.
    pub fn set_modem_inputs(&self, m: ModemInputs) {
        self.lock().modem_in = m;
    }

    /// The modem-control outputs as the driver last set them.
    pub fn modem_outputs(&self) -> ModemLines {
        self.lock().modem_out
    }

    /// Every `set_modem_outputs` call, in order.
    pub fn modem_log(&self) -> Vec<ModemOutputs> {
        self.lock().modem_log.clone()
    }
}

/// An in-memory serial line to a scripted device. Reads never wait: with
/// nothing to read they return [`LinkError::Timeout`] at once.
#[derive(Debug)]
pub struct ScriptedStream {
    ctl: SerialControl,
}

impl ScriptedStream {
    /// A stream answered by `script`.
    pub fn new(script: Script) -> Self {
        ScriptedStream { ctl: SerialControl(Arc::new(Mutex::new(Shared::new(script)))) }
    }

    /// A stream answered from `(query, answers)` pairs in `dialect`.
    pub fn from_pairs<Q, I, A>(dialect: Dialect, pairs: impl IntoIterator<Item = (Q, I)>) -> Self
    where
        Q: AsRef<[u8]>,
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Self::new(Script::new(dialect, pairs))
    }

    /// The control handle (clone it before handing the stream over).
    pub fn control(&self) -> SerialControl {
        self.ctl.clone()
    }

    /// Counts a call; fails when the line is gone.
    fn enter(&self) -> Result<MutexGuard<'_, Shared>, LinkError> {
        let mut s = self.ctl.lock();
        if s.disconnect_after.is_some_and(|n| s.calls >= n) {
            s.disconnected = true;
            s.disconnect_after = None;
        }
        if s.disconnected {
            return Err(LinkError::Disconnected(Message::cause("simulated line loss")));
        }
        s.calls += 1;
        Ok(s)
    }
}

impl ByteStream for ScriptedStream {
    fn write_all(&mut self, bytes: &[u8], _deadline: Instant) -> Result<(), LinkError> {
        self.enter()?.feed(bytes);
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], _deadline: Instant) -> Result<usize, LinkError> {
        let mut s = self.enter()?;
        let n = s.rx.len().min(buf.len()).min(s.chunk);
        if n == 0 {
            return Err(LinkError::Timeout);
        }
        for (slot, b) in buf.iter_mut().zip(s.rx.drain(..n).collect::<Vec<_>>()) {
            *slot = b;
        }
        s.delivered.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.enter()?.rx.clear();
        Ok(())
    }

    fn modem_inputs(&mut self) -> Result<ModemInputs, LinkError> {
        Ok(self.enter()?.modem_in)
    }

    fn set_modem_outputs(&mut self, out: ModemOutputs) -> Result<(), LinkError> {
        let mut s = self.enter()?;
        s.modem_log.push(out);
        let m = &mut s.modem_out;
        m.dtr = out.dtr.unwrap_or(m.dtr);
        m.rts = out.rts.unwrap_or(m.rts);
        m.brk = out.brk.unwrap_or(m.brk);
        Ok(())
    }
}

/// Settings of a [`PtySerial`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PtyOptions {
    /// The time one byte takes on the line (default 4.167 ms: 10 bits at
    /// 2400 baud).
    pub byte_time: Duration,
    /// Unsolicited bytes sent at these times after the start (APC alerts).
    pub alerts: Vec<(Duration, Vec<u8>)>,
}

impl Default for PtyOptions {
    fn default() -> Self {
        PtyOptions { byte_time: Duration::from_micros(4167), alerts: Vec::new() }
    }
}

/// A pseudo-terminal whose slave side a driver opens as its serial port,
/// answered from a [`Script`] by a thread that paces its bytes like a real
/// line. Stopped and joined on drop.
#[derive(Debug)]
pub struct PtySerial {
    path: PathBuf,
    ctl: SerialControl,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Held open so that the line stays up while the driver reopens it.
    _slave: std::fs::File,
}

impl PtySerial {
    /// Opens a pseudo-terminal (raw mode) and starts answering.
    pub fn start(script: Script, opts: PtyOptions) -> std::io::Result<PtySerial> {
        use nix::fcntl::OFlag;
        use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        use std::os::unix::fs::OpenOptionsExt;

        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let path = PathBuf::from(ptsname_r(&master)?);
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags((OFlag::O_NOCTTY | OFlag::O_NONBLOCK).bits())
            .open(&path)?;
        let mut t = tcgetattr(&slave)?;
        cfmakeraw(&mut t);
        tcsetattr(&slave, SetArg::TCSANOW, &t)?;

        let ctl = SerialControl(Arc::new(Mutex::new(Shared::new(script))));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (ctl, stop) = (ctl.clone(), stop.clone());
            std::thread::Builder::new()
                .name("pty-serial".into())
                .spawn(move || pty_loop(master, ctl, stop, opts))?
        };
        Ok(PtySerial { path, ctl, stop, thread: Some(thread), _slave: slave })
    }

    /// [`start`](Self::start) with `(query, answers)` pairs in `dialect`
    /// and default options.
    pub fn from_pairs<Q, I, A>(
        dialect: Dialect,
        pairs: impl IntoIterator<Item = (Q, I)>,
    ) -> std::io::Result<PtySerial>
    where
        Q: AsRef<[u8]>,
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Self::start(Script::new(dialect, pairs), PtyOptions::default())
    }

    /// The slave path (`/dev/pts/N`): the driver's `port`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The control handle.
    pub fn control(&self) -> SerialControl {
        self.ctl.clone()
    }
}

impl Drop for PtySerial {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pty_loop(
    master: nix::pty::PtyMaster,
    ctl: SerialControl,
    stop: Arc<AtomicBool>,
    opts: PtyOptions,
) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::io::{ErrorKind, Read, Write};
    use std::os::fd::AsFd;

    let start = Instant::now();
    let mut alerts = opts.alerts;
    alerts.sort_by_key(|(t, _)| *t);
    let mut alerts: VecDeque<_> = alerts.into();
    let mut buf = [0u8; 256];
    while !stop.load(Ordering::Relaxed) {
        while alerts.front().is_some_and(|(t, _)| start.elapsed() >= *t) {
            if let Some((_, bytes)) = alerts.pop_front() {
                ctl.inject(bytes);
            }
        }
        let idle = ctl.pending() == 0;
        let timeout = if idle { PollTimeout::from(10u8) } else { PollTimeout::ZERO };
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        let readable = match poll(&mut fds, timeout) {
            Ok(n) => n > 0,
            Err(_) => false,
        };
        if readable {
            match (&master).read(&mut buf) {
                Ok(n) if n > 0 => ctl.lock().feed(&buf[..n]),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // EIO while no slave is open, or EOF: wait a little.
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        let next = ctl.lock().rx.pop_front();
        if let Some(b) = next {
            match (&master).write(&[b]) {
                Ok(1) => ctl.lock().delivered.push(b),
                _ => {
                    // Output full (nobody reads): try again later.
                    ctl.lock().rx.push_front(b);
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
            std::thread::sleep(opts.byte_time);
        }
    }
}
