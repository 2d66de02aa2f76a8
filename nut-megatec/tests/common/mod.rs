//! Reader of the `.qx` exchange files in `tests/data/` (format: see
//! `tests/data/README.md`), through `nut_testkit::qxfile`, and a simulated
//! device driving a session.
#![allow(dead_code, unreachable_pub)]

pub use nut_testkit::qxfile::*;
use std::path::{Path, PathBuf};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn load(rel: &str) -> Vec<Line> {
    nut_testkit::qxfile::load(&data_dir(), rel)
}

/// A device that answers from a table: the answer of the first entry whose
/// query matches (ASCII case-insensitive), else `unknown` (NUT's test mode
/// answers the protocol's rejected string or echoes the query; real Megatec
/// devices echo).
pub struct Device {
    pub table: Vec<(Vec<u8>, Vec<u8>)>,
    /// Answers given once each, before the table's: the first entry for a
    /// query is used up by its first ask.
    pub once: Vec<(Vec<u8>, Vec<u8>)>,
    pub log: Vec<Vec<u8>>,
}

impl Device {
    pub fn new(table: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        Device { table, once: Vec::new(), log: Vec::new() }
    }
    pub fn answer(&mut self, q: &[u8]) -> Vec<u8> {
        self.log.push(q.to_vec());
        if let Some(i) = self.once.iter().position(|(k, _)| k.eq_ignore_ascii_case(q)) {
            return self.once.remove(i).1;
        }
        match self.table.iter().find(|(k, _)| k.eq_ignore_ascii_case(q)) {
            Some((_, a)) => a.clone(),
            None => q.to_vec(),
        }
    }
}

use nut_megatec::{Config, Event, Session};
use nut_proto::publish::Recorder;
use std::time::Duration;

/// Runs a session against `dev` (whole answers, as a USB framing delivers
/// them) until it is idle after init plus `updates` updates; returns it and
/// its events.
pub fn run(config: Config, dev: &mut Device, updates: usize) -> (Session<Recorder>, Vec<Event>) {
    let mut now = Duration::ZERO;
    let mut s = Session::new(config, Recorder::new(), now);
    let mut events = Vec::new();
    let mut done_updates = 0;
    for _ in 0..10_000 {
        while let Some(e) = s.poll_event() {
            if matches!(e, Event::Updated { .. } | Event::UpdateFailed { .. }) {
                done_updates += 1;
            }
            events.push(e);
        }
        if events.iter().any(|e| matches!(e, Event::NotSupported | Event::InitFailed { .. })) {
            break;
        }
        if done_updates >= updates
            && events.iter().any(|e| matches!(e, Event::Initialized))
            && s.pending_query().is_none()
        {
            break;
        }
        if let Some(q) = s.poll_transmit() {
            let a = dev.answer(&q);
            s.handle_answer(&a, now);
            continue;
        }
        match s.poll_timeout() {
            Some(t) => {
                now = now.max(t);
                s.handle_timeout(now);
            }
            None => break,
        }
    }
    while let Some(e) = s.poll_event() {
        events.push(e);
    }
    (s, events)
}

pub fn protocol_of(events: &[Event]) -> Option<&'static str> {
    events.iter().find_map(|e| match e {
        Event::Detected { protocol } => Some(*protocol),
        _ => None,
    })
}
