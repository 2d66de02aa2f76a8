//! Fuzz target bodies for `nut-proto`.
//!
//! Each `pub fn <target>(data: &[u8])` is the body of the libFuzzer target of
//! the same name (`fuzz_targets/<target>.rs` is a three-line wrapper). A body
//! panics when an invariant of the codec is broken, so the same functions
//! run as ordinary tests over the committed seeds (`tests/seeds.rs`) on
//! stable Rust. See `README.md` for what each target checks.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod apc;
pub mod check;
pub mod client;
pub mod hid;
pub mod hid_mapping;
pub mod monitor;
pub mod netxml;
pub mod qx;
pub mod server;
pub mod snmp;
mod structured;
pub mod upslog;
pub mod upssched;

pub use apc::{apc_answer, apc_session};
pub use hid::{hid_descriptor, hid_report};
pub use hid_mapping::hid_mapping;
pub use netxml::{http_auth, http_response, netxml};
pub use qx::{qx_answer, qx_session};
pub use snmp::snmp_value;

use nut_proto::config::{self, ConfigErrorKind};
use nut_proto::frame::{FrameError, LineFramer};
use nut_proto::net::{Command, CommandError, ErrCode, Reply, ReplyError, Verb};
use nut_proto::sock::{DriverMessage, ServerMessage, SockError};
use nut_proto::token::{self, MAX_WORD_LEN, MAX_WORDS, TokenError};

/// Bytes NUT's tokenizer keeps in a word.
fn is_stored(b: u8) -> bool {
    (0x20..=0x7f).contains(&b)
}

fn is_crlf(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// Printable form of raw bytes for assertion messages.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Checks the shape every encoder output must have (one line ending in LF,
/// no other CR or LF) and returns the line without its LF.
fn body_of(line: &[u8]) -> &[u8] {
    let Some((&last, body)) = line.split_last() else { panic!("encoder wrote nothing") };
    assert_eq!(last, b'\n', "encoded line {} does not end with LF", show(line));
    assert!(!body.iter().copied().any(is_crlf), "encoded line {} holds a CR or LF", show(line));
    body
}

/// The framer reads an encoded line back as exactly one frame: its body.
fn assert_one_frame(line: &[u8]) {
    let mut framer = LineFramer::new(line.len());
    let (used, frame) = framer.decode(line);
    let frame = frame.map(|f| f.map(<[u8]>::to_vec));
    assert_eq!(
        (used, frame),
        (line.len(), Some(Ok(line[..line.len() - 1].to_vec()))),
        "encoded line {} is not one frame",
        show(line)
    );
    assert!(!framer.is_mid_line());
}

/// Words joined by spaces, each written with [`token::word_into`].
fn encode_words<'w>(words: impl Iterator<Item = &'w str>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, w) in words.enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        token::word_into(&mut out, w);
    }
    out
}

fn check_token_error(data: &[u8], e: &TokenError) {
    match *e {
        TokenError::HashInQuotes { offset } => {
            assert_eq!(data.get(offset), Some(&b'#'), "HashInQuotes offset {offset} is not a '#'")
        }
        // The overlong word may be the one after the last word a line can
        // hold: it is reported as it is stored, before it would be counted.
        // Its 513 stored bytes and each earlier word (at least one byte
        // each: `=`, a lone control byte) come from distinct input bytes.
        TokenError::WordTooLong { index } => {
            assert!(index <= MAX_WORDS, "WordTooLong index {index}");
            assert!(data.len() > MAX_WORD_LEN + index, "word {index} too long in {}", data.len());
        }
        TokenError::TooManyWords => {
            assert!(data.len() > MAX_WORDS, "too many words in {}", data.len())
        }
        TokenError::UnterminatedQuote => {
            assert!(data.contains(&b'"'), "unterminated quote, no quote")
        }
        _ => {}
    }
}

/// `tokenize`: every word is at most [`MAX_WORD_LEN`] bytes of 0x20..=0x7F,
/// there are at most [`MAX_WORDS`]; writing the words back with
/// `word_into` and reading them again gives the same words (and the same
/// line once more: the encoding is canonical).
pub fn tokenize(data: &[u8]) {
    let words = match token::tokenize(data) {
        Ok(w) => w,
        Err(e) => return check_token_error(data, &e),
    };
    assert!(words.len() <= MAX_WORDS, "{} words", words.len());
    assert!(words.dropped_bytes() <= data.len());
    for w in words.iter() {
        assert!(w.len() <= MAX_WORD_LEN, "word of {} bytes", w.len());
        assert!(w.bytes().all(is_stored), "word {:?} holds a byte outside 0x20..=0x7F", w);
    }
    let line = encode_words(words.iter());
    let again = token::tokenize(&line)
        .unwrap_or_else(|e| panic!("re-encoded line {} does not tokenize: {e}", show(&line)));
    assert_eq!(
        again.iter().collect::<Vec<_>>(),
        words.iter().collect::<Vec<_>>(),
        "re-encoded line {}",
        show(&line)
    );
    assert_eq!(again.dropped_bytes(), 0);
    assert_eq!(encode_words(again.iter()), line, "encoding is not canonical");
    let mut with_lf = line;
    with_lf.push(b'\n');
    assert_one_frame(&with_lf);
}

/// `command`: a parsed command encodes to one line that parses back to the
/// same command; its verb is the first word; every error is the one the
/// words call for, and maps to `UNKNOWN-COMMAND` or `INVALID-ARGUMENT`.
pub fn command(data: &[u8]) {
    let parsed = Command::parse(data);
    match token::tokenize(data) {
        Err(e) => assert_eq!(parsed, Err(CommandError::Token(e))),
        Ok(words) => match words.get(0) {
            None => assert_eq!(parsed, Err(CommandError::Empty)),
            Some(first) => match (Verb::parse(first), &parsed) {
                (None, _) => assert_eq!(parsed, Err(CommandError::UnknownCommand)),
                (Some(verb), Ok(cmd)) => {
                    assert_eq!(cmd.verb(), verb);
                    assert!(verb.as_str().eq_ignore_ascii_case(first));
                }
                (Some(verb), Err(e)) => assert_eq!(e, &CommandError::InvalidArgument { verb }),
            },
        },
    }
    match parsed {
        Ok(cmd) => {
            let line = cmd.to_line();
            let body = body_of(&line);
            assert_one_frame(&line);
            assert_eq!(Command::parse(body).as_ref(), Ok(&cmd), "line {}", show(&line));
            assert_eq!(cmd.clone().into_owned(), cmd);
        }
        Err(e) => assert!(
            matches!(e.err_code(), ErrCode::UnknownCommand | ErrCode::InvalidArgument),
            "{e:?} maps to {}",
            e.err_code()
        ),
    }
}

/// The separators the reply parser accepts after `OK`, after `ERR` and
/// after an `ERR` code: the word separators of NUT's tokenizer (space, TAB,
/// CR, VT, FF) and LF. (NUT's client library is more lenient still: it
/// checks only that a line starts with `OK` or `ERR`, and reads the code
/// from byte 4 on.)
fn is_reply_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// For the replies that carry raw text (`Text`, `OkOther`, `Err`): the
/// offsets in the line of the separators that the encoder writes as a
/// space (after `OK`; after `ERR` and after its code). `None` for the
/// other replies.
fn raw_text_separators(r: &Reply<'_>) -> Option<Vec<usize>> {
    match r {
        Reply::Text(_) => Some(Vec::new()),
        Reply::OkOther(_) => Some(vec![2]),
        Reply::Err { code, extra } => {
            let mut at = vec![3];
            if extra.is_some() {
                at.push(4 + code.as_str().len());
            }
            Some(at)
        }
        _ => None,
    }
}

/// `reply`: a parsed reply encodes to one line that parses back to the same
/// reply. The raw-text replies (`Text`, `OkOther`, `Err`) are also written
/// back as received, byte for byte after lossy UTF-8 decoding, except for
/// the encoder's only normalizations: a final CR (a CRLF peer) is dropped,
/// and the separator after `OK`, after `ERR` and after the `ERR` code,
/// whichever of space, TAB, CR, LF, VT or FF it was, is written as the
/// space `upsd` writes.
pub fn reply(data: &[u8]) {
    let r = match Reply::parse(data) {
        Ok(r) => r,
        Err(ReplyError::Token(e)) => {
            assert_eq!(token::tokenize(data).err(), Some(e.clone()));
            return check_token_error(data, &e);
        }
        Err(_) => return,
    };
    let line = r.to_line();
    let body = body_of(&line);
    match raw_text_separators(&r) {
        None => assert_one_frame(&line),
        Some(seps) => {
            // Raw text is not quoted, so it is not checked against the
            // quote-aware framer (NUT's clients read replies up to the LF).
            let received = data.strip_suffix(b"\r").unwrap_or(data);
            let mut expected = String::from_utf8_lossy(received).into_owned().into_bytes();
            for at in seps {
                let sep = expected.get_mut(at);
                assert!(
                    sep.as_deref().copied().is_some_and(is_reply_sep),
                    "byte {at} of {} is not a separator",
                    show(received)
                );
                if let Some(b) = sep {
                    *b = b' ';
                }
            }
            assert_eq!(show(body), show(&expected), "raw text reply re-encoded");
        }
    }
    // The raw text holds no control byte (the parser refuses them), so
    // every reply reads back exactly.
    assert_eq!(Reply::parse(body).as_ref(), Ok(&r), "line {}", show(&line));
}

/// `roundtrip`: structured values (commands, replies, driver and server
/// socket messages) built from the input with `arbitrary`, with strings
/// sanitized into the encodable domain: each encodes to one line that
/// parses back to the same value.
pub fn roundtrip(data: &[u8]) {
    structured::run(data);
}

type Frames = Vec<Result<Vec<u8>, FrameError>>;

struct FramerRun {
    frames: Frames,
    mid_line: bool,
    discarding: bool,
    buffered: usize,
    partial: Vec<u8>,
}

fn feed<'c>(framer: LineFramer, chunks: impl IntoIterator<Item = &'c [u8]>) -> FramerRun {
    let mut framer = framer;
    let max = framer.max_line();
    let mut frames = Vec::new();
    for chunk in chunks {
        let mut input = chunk;
        while !input.is_empty() {
            let (used, frame) = framer.decode(input);
            assert!(used > 0 && used <= input.len(), "decode used {used} of {}", input.len());
            if let Some(frame) = frame {
                if let Ok(line) = frame {
                    assert!(line.len() <= max, "frame of {} bytes, max {max}", line.len());
                }
                frames.push(frame.map(<[u8]>::to_vec));
            }
            assert!(framer.buffered() <= max, "buffered {} > max {max}", framer.buffered());
            input = &input[used..];
        }
    }
    FramerRun {
        frames,
        mid_line: framer.is_mid_line(),
        discarding: framer.is_discarding(),
        buffered: framer.buffered(),
        partial: framer.take_partial(),
    }
}

/// `framing`: input byte 0 picks a maximum line length (1..=64), byte 1 a
/// number of split points (0..=15), the next bytes the split points; the
/// rest is the stream. For both framers (`LineFramer::new`, quote-aware,
/// and `LineFramer::lf_only`): feeding it whole, in the chosen pieces, and
/// one byte at a time gives the same frames (lines and errors) and the same
/// final state; `buffered()` never exceeds the maximum; without errors,
/// lines and the partial tail put back together are the input. Quote-aware
/// lines agree with the tokenizer on where they end; LF-only frames are
/// exactly the input split at every LF (overlong ones as errors).
pub fn framing(data: &[u8]) {
    let (max, rest) = match data.split_first() {
        Some((&b, rest)) => (1 + usize::from(b % 64), rest),
        None => (1, data),
    };
    let (nsplits, rest) = match rest.split_first() {
        Some((&b, rest)) => (usize::from(b % 16).min(rest.len()), rest),
        None => (0, rest),
    };
    let (split_bytes, stream) = rest.split_at(nsplits);
    let mut points: Vec<usize> =
        split_bytes.iter().map(|&b| usize::from(b) % (stream.len() + 1)).collect();
    points.sort_unstable();
    let mut pieces = Vec::new();
    let mut at = 0;
    for p in points.into_iter().chain([stream.len()]) {
        pieces.push(&stream[at..p]);
        at = p;
    }

    // Both framing modes: quote-aware (servers, drivers) and LF-only (clients).
    for make in [LineFramer::new, LineFramer::lf_only] {
        let quote_aware = make(max).is_quote_aware();
        let whole = feed(make(max), [stream]);
        for (how, run) in [
            ("pieces", feed(make(max), pieces.clone())),
            ("bytes", feed(make(max), stream.chunks(1))),
        ] {
            assert_eq!(run.frames, whole.frames, "frames differ when fed in {how} ({quote_aware})");
            assert_eq!(
                (run.mid_line, run.discarding, run.buffered, &run.partial),
                (whole.mid_line, whole.discarding, whole.buffered, &whole.partial),
                "final state differs when fed in {how} (quote-aware: {quote_aware})"
            );
        }

        for line in whole.frames.iter().flatten() {
            if quote_aware {
                // The frame is a complete logical line: whatever follows its
                // LF does not change how it tokenizes.
                let mut longer = line.clone();
                longer.extend_from_slice(b"\n\"tail");
                assert_eq!(
                    token::tokenize(&longer),
                    token::tokenize(line),
                    "frame {} does not end where the tokenizer ends it",
                    show(line)
                );
            } else {
                assert!(!line.contains(&b'\n'), "LF-only frame {} holds an LF", show(line));
            }
        }
        if whole.frames.iter().all(Result::is_ok) {
            let mut rebuilt = Vec::new();
            for line in whole.frames.iter().flatten() {
                rebuilt.extend_from_slice(line);
                rebuilt.push(b'\n');
            }
            rebuilt.extend_from_slice(&whole.partial);
            assert_eq!(show(&rebuilt), show(stream), "lines and tail do not rebuild the input");
        }
        if !quote_aware {
            // LF-only frames are the input split at every LF.
            let mut parts: Vec<&[u8]> = stream.split(|&b| b == b'\n').collect();
            let tail = parts.pop().unwrap_or_default();
            let expected: Frames = parts
                .iter()
                .map(|p| {
                    if p.len() > max {
                        Err(FrameError::LineTooLong { max })
                    } else {
                        Ok(p.to_vec())
                    }
                })
                .chain((tail.len() > max).then_some(Err(FrameError::LineTooLong { max })))
                .collect();
            assert_eq!(whole.frames, expected, "LF-only frames are not the input split at LF");
        }
    }
}

/// `sock`: a line parsed as a driver message or a server message (never
/// both) encodes to one line that parses back to the same value and starts
/// with the same keyword; errors are the ones the words call for.
pub fn sock(data: &[u8]) {
    let words = token::tokenize(data);
    let driver = DriverMessage::parse(data);
    let server = ServerMessage::parse(data);
    match &words {
        Err(e) => {
            assert_eq!(driver, Err(SockError::Token(e.clone())));
            assert_eq!(server, Err(SockError::Token(e.clone())));
        }
        Ok(w) if w.is_empty() => {
            assert_eq!(driver, Err(SockError::Empty));
            assert_eq!(server, Err(SockError::Empty));
        }
        Ok(_) => {}
    }
    assert!(!(driver.is_ok() && server.is_ok()), "line is both a driver and a server message");
    let first = words.as_ref().ok().and_then(|w| w.get(0).map(str::to_owned));

    if let Ok(m) = &driver {
        assert_eq!(Some(m.keyword()), first.as_deref());
        let line = m.to_line();
        let body = body_of(&line);
        assert_one_frame(&line);
        assert_eq!(DriverMessage::parse(body).as_ref(), Ok(m), "line {}", show(&line));
    }
    if let Ok(m) = &server {
        let line = m.to_line();
        let body = body_of(&line);
        assert_one_frame(&line);
        let again = token::tokenize(body).expect("encoded server message tokenizes");
        assert_eq!(again.get(0), first.as_deref(), "keyword changed in {}", show(&line));
        assert_eq!(ServerMessage::parse(body).as_ref(), Ok(m), "line {}", show(&line));
    }
}

/// `config`: parsing never panics; every directive has at least one word
/// (0x20..=0x7F only, the first not a `[section]`); the lines of all
/// directives, sections and errors are distinct, between 1 and 1 + the
/// number of LF bytes, and increase in file order; a final LF changes
/// nothing.
pub fn config(data: &[u8]) {
    let conf = config::parse("fuzz.conf", data);
    let max_line = 1 + data.iter().filter(|&&b| b == b'\n').count();
    let in_range = |line: u32| line >= 1 && line as usize <= max_line;

    let mut last = 0;
    for (_, d) in conf.directives() {
        assert!(!d.words.is_empty(), "directive without words at line {}", d.line);
        assert!(in_range(d.line), "directive line {} of {max_line}", d.line);
        assert!(d.line > last, "directive line {} after {last}", d.line);
        last = d.line;
        assert!(!d.key().starts_with('['), "directive {:?} is a section header", d.words);
        for w in &d.words {
            assert!(w.len() <= MAX_WORD_LEN && w.bytes().all(is_stored), "word {w:?}");
        }
    }
    let mut last = 0;
    for s in &conf.sections {
        assert!(in_range(s.line) && s.line > last, "section line {} after {last}", s.line);
        last = s.line;
        if let Some(d) = s.directives.first() {
            assert!(d.line > s.line, "directive line {} in section at {}", d.line, s.line);
        }
    }
    let mut last = 0;
    for e in &conf.errors {
        assert!(in_range(e.line) && e.line > last, "error line {} after {last}", e.line);
        last = e.line;
        assert_eq!(e.file, "fuzz.conf");
        if let ConfigErrorKind::LineTooLong = e.kind {
            assert!(data.len() > config::MAX_CONFIG_LINE, "line too long in {} bytes", data.len());
        }
    }
    let mut lines: Vec<u32> = conf
        .directives()
        .map(|(_, d)| d.line)
        .chain(conf.sections.iter().map(|s| s.line))
        .chain(conf.errors.iter().map(|e| e.line))
        .collect();
    let n = lines.len();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), n, "two items share a line");

    let mut with_lf = data.to_vec();
    with_lf.push(b'\n');
    assert_eq!(config::parse("fuzz.conf", &with_lf), conf, "a final LF changes the result");
}
