//! Reader of the `.qx` exchange files of `shared/testdata/qx` (format: its
//! README, copied beside each crate's test data): headers, queries,
//! answers, raw reads and writes, expected variables; and the simulated
//! serial device they describe. Shared by the tests of `nut-megatec` and
//! `nut-drivers`.
#![allow(missing_docs)]

use std::path::Path;

/// One line of a `.qx` file.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    Header(String, String),
    Query(Vec<u8>),
    /// `None`: `<!` (no usable answer).
    Answer(Option<Vec<u8>>),
    Read(Vec<u8>),
    Write(Vec<u8>),
    Var(String, String),
}

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
                    let h = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(h, 16).unwrap());
                    i += 4;
                    continue;
                }
                c => panic!("bad escape \\{}", c as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect()
}

pub fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix('@') {
            let (k, v) = h.split_once(':').unwrap();
            out.push(Line::Header(k.trim().into(), v.trim().into()));
        } else if let Some(q) = line.strip_prefix("> ") {
            out.push(Line::Query(unescape(q)));
        } else if line == "<" {
            out.push(Line::Answer(Some(Vec::new())));
        } else if line == "<!" {
            out.push(Line::Answer(None));
        } else if let Some(a) = line.strip_prefix("< ") {
            out.push(Line::Answer(Some(unescape(a))));
        } else if let Some(r) = line.strip_prefix("r ") {
            out.push(Line::Read(hex(r)));
        } else if let Some(w) = line.strip_prefix("w ") {
            out.push(Line::Write(hex(w)));
        } else if let Some(v) = line.strip_prefix("= ") {
            let (k, v) = v.split_once(": ").unwrap();
            out.push(Line::Var(k.into(), v.into()));
        } else {
            panic!("unknown .qx line {line:?}");
        }
    }
    out
}

/// Reads and parses `dir/rel`; panics (failing the test) when unreadable.
pub fn load(dir: &Path, rel: &str) -> Vec<Line> {
    let p = dir.join(rel);
    parse(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// The (query, answer) pairs of a file, in order (`<!` answers skipped).
pub fn exchanges(lines: &[Line]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut q = None;
    for l in lines {
        match l {
            Line::Query(x) => q = Some(x.clone()),
            Line::Answer(Some(a)) => {
                if let Some(q) = q.take() {
                    out.push((q, a.clone()));
                }
            }
            _ => {}
        }
    }
    out
}

pub fn vars(lines: &[Line]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| match l {
            Line::Var(k, v) => Some((k.clone(), v.clone())),
            _ => None,
        })
        .collect()
}

pub fn header<'a>(lines: &'a [Line], key: &str) -> Option<&'a str> {
    lines.iter().find_map(|l| match l {
        Line::Header(k, v) if k == key => Some(v.as_str()),
        _ => None,
    })
}

/// The simulated device of a file: its exchanges in time order (the n-th
/// ask of a query gets its n-th recorded answer, then the last); unknown
/// queries are answered `(NAK` when the file's dialect does (an answer
/// `(NAK` is recorded), else echoed, as Megatec units do.
pub fn script(lines: &[Line]) -> crate::serial::Script {
    use crate::serial::{Dialect, Script, Unknown};
    let ex = exchanges(lines);
    let mut d = Dialect::megatec();
    if ex.iter().any(|(_, a)| a.starts_with(b"(NAK")) {
        d.unknown = Unknown::Answer(b"(NAK\r".to_vec());
    }
    Script::from_exchanges(d, ex)
}
