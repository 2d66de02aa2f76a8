//! Test support: the `.apc` exchange format, a simulated unit answering
//! from recorded exchanges, and a driver loop on a fake clock.
#![allow(dead_code, unreachable_pub)]

use nut_apc::{Event, Session};
use nut_proto::publish::Recorder;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::Duration;

/// Unescapes `\r \n \\ \xNN`.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                    i += 2;
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// One line of a `.apc` file that matters for a replay.
#[derive(Clone, Debug)]
pub enum Line {
    Query(Vec<u8>),
    Answer(Vec<u8>),
    Expect(String, String),
}

pub fn data(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for l in text.lines() {
        if let Some(q) = l.strip_prefix("> ") {
            out.push(Line::Query(unescape(q)));
        } else if let Some(a) = l.strip_prefix("< ") {
            out.push(Line::Answer(unescape(a)));
        } else if let Some(e) = l.strip_prefix("= ") {
            let (k, v) = e.split_once(": ").unwrap();
            out.push(Line::Expect(k.into(), v.into()));
        }
    }
    out
}

/// Single-byte query -> answers in recorded order (the last one sticks).
pub fn answers(lines: &[Line]) -> HashMap<u8, VecDeque<Vec<u8>>> {
    let mut map: HashMap<u8, VecDeque<Vec<u8>>> = HashMap::new();
    let mut last: Option<Vec<u8>> = None;
    for l in lines {
        match l {
            Line::Query(q) => last = Some(q.clone()),
            Line::Answer(a) => {
                if let Some(q) = last.take() {
                    if q.len() == 1 {
                        map.entry(q[0]).or_default().push_back(a.clone());
                    }
                }
            }
            Line::Expect(..) => {}
        }
    }
    map
}

/// A simulated Smart-UPS: answers single-byte queries from a table, `NA`
/// for anything else; repeated commands (`K`, `Z`, ^N) answer only the
/// second byte; `@nnn` answers after its digits; `-` rotates enumerations.
pub struct Sim {
    pub table: HashMap<u8, VecDeque<Vec<u8>>>,
    /// Bytes the unit received, in order.
    pub received: Vec<u8>,
    /// Answer bytes on their way to the host.
    pub out: Vec<u8>,
    /// Not answering at all (dumb mode / unplugged).
    pub silent: bool,
    /// Choices for `-` rotation: command byte -> values.
    pub rotations: HashMap<u8, Vec<Vec<u8>>>,
    /// The last byte the unit read (for `-`).
    last_query: Option<u8>,
    pending_repeat: Option<u8>,
    long: Option<(Vec<u8>, usize)>,
}

impl Sim {
    pub fn new(table: HashMap<u8, VecDeque<Vec<u8>>>) -> Self {
        Sim {
            table,
            received: Vec::new(),
            out: Vec::new(),
            silent: false,
            rotations: HashMap::new(),
            last_query: None,
            pending_repeat: None,
            long: None,
        }
    }

    pub fn from_file(name: &str) -> Self {
        Self::new(answers(&parse(&data(name))))
    }

    pub fn set(&mut self, q: u8, a: &[u8]) {
        self.table.insert(q, VecDeque::from([a.to_vec()]));
    }

    fn answer(&mut self, q: u8) -> Vec<u8> {
        match self.table.get_mut(&q) {
            Some(list) if list.len() > 1 => list.pop_front().unwrap(),
            Some(list) if list.len() == 1 => list[0].clone(),
            _ => b"NA\r\n".to_vec(),
        }
    }

    pub fn receive(&mut self, b: u8) {
        self.received.push(b);
        if self.silent {
            return;
        }
        if let Some((buf, want)) = &mut self.long {
            buf.push(b);
            if buf.len() == *want {
                self.long = None;
                self.out.extend_from_slice(b"OK\r\n");
            }
            return;
        }
        if matches!(b, b'K' | b'Z' | 0x0e) {
            if self.pending_repeat == Some(b) {
                self.pending_repeat = None;
                if b == b'K' {
                    self.out.extend_from_slice(b"*");
                }
            } else {
                self.pending_repeat = Some(b);
            }
            return;
        }
        self.pending_repeat = None;
        if b == b'@' {
            self.long = Some((vec![b], 4));
            return;
        }
        if b == b'-' && matches!(self.last_query, Some(b'c' | b'x')) {
            // A string entry: '-' and 8 bytes, then OK.
            self.long = Some((vec![b], 9));
            return;
        }
        if b == b'-' {
            if let Some(q) = self.last_query {
                if let Some(choices) = self.rotations.get(&q).cloned() {
                    let cur = self.answer(q);
                    let cur = &cur[..cur.len() - 2];
                    let at = choices.iter().position(|c| c == cur).unwrap_or(0);
                    let next = choices[(at + 1) % choices.len()].clone();
                    let mut a = next;
                    a.extend_from_slice(b"\r\n");
                    self.set(q, &a);
                    self.out.extend_from_slice(b"OK\r\n");
                    return;
                }
            }
            self.out.extend_from_slice(b"NO\r\n");
            return;
        }
        self.last_query = Some(b);
        let a = self.answer(b);
        self.out.extend_from_slice(&a);
    }
}

/// A driver loop on a fake clock.
pub struct Harness {
    pub session: Session,
    pub sim: Sim,
    pub clock: Duration,
    pub events: Vec<Event>,
    pub rec: Recorder,
    /// (time, bytes) written, one entry per transmit.
    pub writes: Vec<(Duration, Vec<u8>)>,
}

/// Answer latency of the simulated unit.
pub const LATENCY: Duration = Duration::from_millis(20);

impl Harness {
    pub fn new(session: Session, sim: Sim) -> Self {
        let mut h = Harness {
            session,
            sim,
            clock: Duration::ZERO,
            events: Vec::new(),
            rec: Recorder::new(),
            writes: Vec::new(),
        };
        h.flush();
        h
    }

    pub fn start(sim: Sim) -> Self {
        Self::new(Session::new(nut_apc::Options::default(), Duration::ZERO), sim)
    }

    fn flush(&mut self) {
        while let Some(t) = self.session.poll_transmit() {
            if t.discard_input {
                self.sim.out.clear();
            }
            self.writes.push((self.clock, t.bytes.clone()));
            for b in t.bytes {
                self.sim.receive(b);
            }
        }
        while let Some(e) = self.session.poll_event() {
            self.events.push(e);
        }
        self.session.publish_to(&mut self.rec);
    }

    /// Runs until `stop` holds for an event seen, or `limit` passes.
    pub fn run_until(&mut self, limit: Duration, stop: impl Fn(&Event) -> bool) -> bool {
        let end = self.clock + limit;
        let mut seen = self.events.len();
        loop {
            self.flush();
            if self.events[seen..].iter().any(&stop) {
                return true;
            }
            seen = self.events.len();
            if !self.sim.out.is_empty() {
                self.clock += LATENCY;
                let out = std::mem::take(&mut self.sim.out);
                self.session.handle_input(&out, self.clock);
                continue;
            }
            match self.session.poll_timeout() {
                Some(t) if t <= end => {
                    if t > self.clock {
                        self.clock = t;
                    }
                    self.session.handle_timeout(self.clock);
                }
                _ => {
                    self.clock = end;
                    self.flush();
                    return false;
                }
            }
        }
    }

    /// Runs for `d` of fake time.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(d, |_| false);
    }

    /// Injects bytes from the unit now.
    pub fn inject(&mut self, bytes: &[u8]) {
        self.session.handle_input(bytes, self.clock);
        self.flush();
    }

    pub fn get(&self, var: &str) -> Option<&str> {
        use nut_proto::publish::Publish;
        self.rec.getinfo(var)
    }

    /// Bytes written since index `from` of `writes`, concatenated.
    pub fn written_since(&self, from: usize) -> Vec<u8> {
        self.writes[from..].iter().flat_map(|(_, b)| b.clone()).collect()
    }
}

pub const SECS: fn(u64) -> Duration = Duration::from_secs;
