//! NUT's tokenizer: one state machine for the network protocol, the driver
//! socket and every configuration file.
//!
//! The rules are those of NUT 2.8 (see `docs/COMPATIBILITY.md` for the few
//! deliberate differences):
//!
//! * a line ends at LF (0x0A), except inside quotes (the LF is dropped and the
//!   quoted word goes on) and after a backslash (line continuation);
//! * space, TAB, CR, VT and FF separate words outside quotes;
//! * `#` outside quotes starts a comment, even in the middle of a word;
//!   inside quotes an unescaped `#` is an error;
//! * `"` opens a quoted word only at the start of a word; the closing `"`
//!   ends the word at once; `""` is an empty word;
//! * `\` makes the next byte literal, inside or outside quotes;
//! * `=` outside quotes is always a word of its own (`a=b` is `a`, `=`, `b`);
//! * bytes below 0x20 or above 0x7F are dropped wherever they would be stored
//!   (but such a byte still starts a word, so a lone one between spaces is an
//!   empty word, as in NUT).
//!
//! Unlike NUT, which silently truncates, a word longer than [`MAX_WORD_LEN`]
//! or a line of more than [`MAX_WORDS`] words is an error.

use crate::scan;
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The most words one line may hold (NUT's limit).
pub const MAX_WORDS: usize = 32;

/// The most characters one word may hold (NUT's limit).
pub const MAX_WORD_LEN: usize = 512;

/// Tokenizer state, shared by [`tokenize`] and the line framer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum State {
    /// Between words.
    #[default]
    Start,
    /// Inside an unquoted word.
    Word,
    /// After a backslash outside quotes.
    WordEsc,
    /// Inside a quoted word.
    Quote,
    /// After a backslash inside quotes.
    QuoteEsc,
    /// In a comment, up to the end of the line.
    Comment,
    /// After an unescaped `#` inside quotes, up to the end of the line.
    Error,
}

/// What one input byte does, besides the state change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    /// Nothing is stored.
    Skip,
    /// A new word begins after this byte (opening quote, leading backslash).
    Begin,
    /// A new word begins with this byte.
    BeginStore,
    /// The byte is appended to the current word.
    Store,
    /// The current word ends.
    End,
    /// The current word ends, and `=` is a word of its own.
    EndEq,
    /// `=` is a word of its own.
    Eq,
    /// The line ends (no word open).
    Line,
    /// The current word ends, and so does the line.
    EndLine,
    /// The current word ends and a comment starts.
    EndComment,
    /// An unescaped `#` inside quotes.
    Error,
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// The transition function. It is the single definition of NUT's grammar.
#[inline]
pub(crate) fn step(state: State, b: u8) -> (State, Act) {
    use State as S;
    match state {
        S::Start => match b {
            b'\n' => (S::Start, Act::Line),
            b'#' => (S::Comment, Act::Skip),
            b'\\' => (S::WordEsc, Act::Begin),
            b'"' => (S::Quote, Act::Begin),
            b'=' => (S::Start, Act::Eq),
            _ if is_space(b) => (S::Start, Act::Skip),
            _ => (S::Word, Act::BeginStore),
        },
        S::Word => match b {
            b'\n' => (S::Start, Act::EndLine),
            b'#' => (S::Comment, Act::EndComment),
            b'\\' => (S::WordEsc, Act::Skip),
            b'=' => (S::Start, Act::EndEq),
            _ if is_space(b) => (S::Start, Act::End),
            _ => (S::Word, Act::Store),
        },
        // A backslash before LF continues the line: the LF is dropped by the
        // byte filter when stored.
        S::WordEsc => (S::Word, Act::Store),
        S::Quote => match b {
            b'"' => (S::Start, Act::End),
            b'\\' => (S::QuoteEsc, Act::Skip),
            b'#' => (S::Error, Act::Error),
            // LF (and any other control byte) inside quotes is dropped by the filter.
            _ => (S::Quote, Act::Store),
        },
        S::QuoteEsc => (S::Quote, Act::Store),
        S::Comment => match b {
            b'\n' => (S::Start, Act::Line),
            _ => (S::Comment, Act::Skip),
        },
        S::Error => match b {
            b'\n' => (S::Start, Act::Line),
            _ => (S::Error, Act::Skip),
        },
    }
}

/// Whether NUT stores this byte in a word (CVE-2012-2944 filter).
#[inline]
pub(crate) fn is_storable(b: u8) -> bool {
    (0x20..=0x7f).contains(&b)
}

/// Why a line could not be split into words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// An unescaped `#` inside a quoted word (NUT: "Unbalanced word due to
    /// unescaped # in quotes"); it must be written `\#`.
    #[error("unescaped '#' inside quotes at byte {offset}")]
    HashInQuotes {
        /// Offset of the `#` in the line.
        offset: usize,
    },
    /// The input ended inside a quoted word.
    #[error("unterminated quoted word")]
    UnterminatedQuote,
    /// A word is longer than [`MAX_WORD_LEN`] characters.
    #[error("word {index} is longer than {MAX_WORD_LEN} characters")]
    WordTooLong {
        /// Zero-based index of the word.
        index: usize,
    },
    /// The line has more than [`MAX_WORDS`] words.
    #[error("more than {MAX_WORDS} words on one line")]
    TooManyWords,
}

/// Where a word is: `start..end` in the line, or, when `start` is
/// [`OTHER`], at index `end` of [`Words::other`].
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    start: u32,
    end: u32,
}

/// `Slot::start` of a word that is not a span of the line.
const OTHER: u32 = u32::MAX;

/// The words of one line, borrowed from the input where they need no
/// unescaping. Holds at most [`MAX_WORDS`] words.
///
/// Each word is kept as a span of the line (eight bytes), so tokenizing a
/// line with no escapes allocates nothing and builds a small value; only a
/// word that had to be unescaped (or one given to [`push`](Words::push))
/// is stored on its own.
#[derive(Clone)]
pub struct Words<'a> {
    /// The line the spans point into.
    line: &'a [u8],
    /// The longest UTF-8 prefix of `line` (all of it, for ASCII lines).
    text: &'a str,
    slots: [Slot; MAX_WORDS],
    len: usize,
    dropped: usize,
    /// Words that are not spans of the line (allocated only when needed).
    other: Vec<Cow<'a, str>>,
}

impl<'a> Words<'a> {
    /// An empty list.
    pub const fn new() -> Self {
        Words {
            line: &[],
            text: "",
            slots: [Slot { start: 0, end: 0 }; MAX_WORDS],
            len: 0,
            dropped: 0,
            other: Vec::new(),
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if the line held no words (blank or comment-only line).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The word at `index`, if any.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.slots[..self.len].get(index).map(|&s| self.word(s))
    }

    /// All words, borrowed from the line where they needed no unescaping.
    /// (This replaces `as_slice`, which needed every word stored as a `Cow`.)
    pub fn to_vec(&self) -> Vec<Cow<'a, str>> {
        self.slots[..self.len]
            .iter()
            .map(|&s| match self.other_index(s) {
                Some(k) => self.other[k].clone(),
                None => Cow::Borrowed(self.span(s)),
            })
            .collect()
    }

    /// Iterates over the words as `&str`.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.slots[..self.len].iter().map(|&s| self.word(s))
    }

    /// Takes the word at `index` out of the list, leaving an empty word.
    /// Returns an empty word when `index` is out of range.
    pub fn take(&mut self, index: usize) -> Cow<'a, str> {
        if index >= self.len {
            return Cow::Borrowed("");
        }
        let s = core::mem::take(&mut self.slots[index]);
        match self.other_index(s) {
            Some(k) => core::mem::take(&mut self.other[k]),
            None => Cow::Borrowed(self.span(s)),
        }
    }

    /// How many input bytes were dropped by NUT's byte filter (control
    /// bytes and bytes above 0x7F). Callers may log this.
    pub fn dropped_bytes(&self) -> usize {
        self.dropped
    }

    /// Appends a word. Fails when the list is full.
    pub fn push(&mut self, word: Cow<'a, str>) -> Result<(), TokenError> {
        if self.len == MAX_WORDS {
            return Err(TokenError::TooManyWords);
        }
        let k = self.other.len();
        self.other.push(word);
        // `other` holds at most MAX_WORDS words, so `k` fits.
        self.slots[self.len] = Slot { start: OTHER, end: k as u32 };
        self.len += 1;
        Ok(())
    }

    /// Appends the word `line[start..end]` (stored bytes only: ASCII).
    fn push_span(&mut self, start: usize, end: usize) -> Result<(), TokenError> {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(s), Ok(e)) if s != OTHER && e != OTHER => {
                if self.len == MAX_WORDS {
                    return Err(TokenError::TooManyWords);
                }
                self.slots[self.len] = Slot { start: s, end: e };
                self.len += 1;
                Ok(())
            }
            // A line of 4 GiB or more: keep the word out of line.
            _ => {
                let w = core::str::from_utf8(&self.line[start..end]).unwrap_or("");
                self.push(Cow::Borrowed(w))
            }
        }
    }

    fn other_index(&self, s: Slot) -> Option<usize> {
        (s.start == OTHER).then_some(s.end as usize)
    }

    fn word(&self, s: Slot) -> &str {
        match self.other_index(s) {
            Some(k) => &self.other[k],
            None => self.span(s),
        }
    }

    /// The span `s` of the line. Spans hold stored bytes only (ASCII), so
    /// one lies either inside the UTF-8 prefix `text` or wholly after it.
    fn span(&self, s: Slot) -> &'a str {
        let (a, b) = (s.start as usize, s.end as usize);
        match self.text.get(a..b) {
            Some(w) => w,
            None => core::str::from_utf8(self.line.get(a..b).unwrap_or_default()).unwrap_or(""),
        }
    }
}

impl Default for Words<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Words<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.dropped == other.dropped && self.iter().eq(other.iter())
    }
}

impl Eq for Words<'_> {}

impl fmt::Debug for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Marks the bytes that end a run of an unquoted word: separators, LF,
/// `#`, `\`, `=`, control bytes and bytes above 0x7F. Every other byte is
/// stored as it is and keeps the tokenizer in [`State::Word`].
#[inline(always)]
fn word_stop(w: u64) -> u64 {
    scan::lt(w, 0x21) | scan::high(w) | scan::eq(w, b'#') | scan::eq(w, b'\\') | scan::eq(w, b'=')
}

#[inline(always)]
fn is_word_stop(b: u8) -> bool {
    b <= 0x20 || b >= 0x80 || matches!(b, b'#' | b'\\' | b'=')
}

/// Marks the bytes that end a run of a quoted word: `"`, `\`, `#`, control
/// bytes and bytes above 0x7F. Every other byte is stored as it is and
/// keeps the tokenizer in [`State::Quote`].
#[inline(always)]
fn quote_stop(w: u64) -> u64 {
    scan::lt(w, 0x20) | scan::high(w) | scan::eq(w, b'"') | scan::eq(w, b'\\') | scan::eq(w, b'#')
}

#[inline(always)]
fn is_quote_stop(b: u8) -> bool {
    !(0x20..0x80).contains(&b) || matches!(b, b'"' | b'\\' | b'#')
}

/// The word being collected: a span of the input while it is contiguous
/// there, an owned string once it is not.
struct Collect {
    start: usize,
    end: usize,
    owned: Option<String>,
    len: usize,
}

impl Collect {
    fn new(at: usize) -> Self {
        Collect { start: at, end: at, owned: None, len: 0 }
    }

    /// Stores `line[i..j]`, bytes that are all stored as they are.
    fn store(&mut self, line: &[u8], i: usize, j: usize) -> bool {
        if self.len + (j - i) > MAX_WORD_LEN {
            return false;
        }
        self.len += j - i;
        fn ascii(r: &[u8]) -> impl Iterator<Item = char> + '_ {
            r.iter().map(|&c| char::from(c))
        }
        match &mut self.owned {
            Some(s) => s.extend(ascii(&line[i..j])),
            None if i == self.end => self.end = j,
            None => {
                // The word is no longer a contiguous slice of the input. It
                // cannot outgrow the rest of the line, nor the word limit.
                let mut s = String::with_capacity((line.len() - self.start).min(MAX_WORD_LEN));
                s.extend(ascii(&line[self.start..self.end]));
                s.extend(ascii(&line[i..j]));
                self.owned = Some(s);
            }
        }
        true
    }

    fn finish(self, words: &mut Words<'_>) -> Result<(), TokenError> {
        match self.owned {
            Some(s) => words.push(Cow::Owned(s)),
            None => words.push_span(self.start, self.end),
        }
    }
}

/// Splits one logical line into words with NUT's rules.
///
/// `line` is the line without its final LF (as the framer yields it); an LF
/// inside it, if any, is treated as NUT treats it (end of line, unless quoted
/// or escaped: then only the first line is read). Words are borrowed from
/// `line` unless they needed unescaping.
///
/// ```
/// use nut_proto::token::tokenize;
/// let w = tokenize(br#"SET VAR ups ups.id "a \"b\" c""#).unwrap();
/// assert_eq!(w.iter().collect::<Vec<_>>(), ["SET", "VAR", "ups", "ups.id", r#"a "b" c"#]);
/// ```
pub fn tokenize(line: &[u8]) -> Result<Words<'_>, TokenError> {
    // One UTF-8 check per line; words are spans of it.
    let text = match core::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) => core::str::from_utf8(&line[..e.valid_up_to()]).unwrap_or(""),
    };
    let mut words = Words { line, text, ..Words::new() };
    let mut state = State::Start;
    let mut cur: Option<Collect> = None;

    fn end(words: &mut Words<'_>, cur: &mut Option<Collect>) -> Result<(), TokenError> {
        match cur.take() {
            Some(c) => c.finish(words),
            None => Ok(()),
        }
    }

    let mut i = 0;
    while i < line.len() {
        // Skip a run of bytes that are stored as they are, at once.
        let run = match state {
            State::Word => scan::find(&line[i..], word_stop, is_word_stop),
            State::Quote => scan::find(&line[i..], quote_stop, is_quote_stop),
            _ => Some(0),
        }
        .unwrap_or(line.len() - i);
        if run > 0 {
            if let Some(c) = cur.as_mut() {
                if !c.store(line, i, i + run) {
                    return Err(TokenError::WordTooLong { index: words.len() });
                }
            }
            i += run;
            continue;
        }
        let b = line[i];
        let (next, act) = step(state, b);
        state = next;
        match act {
            Act::Skip => {}
            Act::Begin => cur = Some(Collect::new(i + 1)),
            Act::BeginStore | Act::Store => {
                let c = cur.get_or_insert_with(|| Collect::new(i));
                if is_storable(b) {
                    if !c.store(line, i, i + 1) {
                        return Err(TokenError::WordTooLong { index: words.len() });
                    }
                } else {
                    words.dropped += 1;
                }
            }
            Act::End | Act::EndComment => end(&mut words, &mut cur)?,
            // The `=` is line[i].
            Act::EndEq => {
                end(&mut words, &mut cur)?;
                words.push_span(i, i + 1)?;
            }
            Act::Eq => words.push_span(i, i + 1)?,
            Act::Line => return Ok(words),
            Act::EndLine => {
                end(&mut words, &mut cur)?;
                return Ok(words);
            }
            Act::Error => return Err(TokenError::HashInQuotes { offset: i }),
        }
        i += 1;
    }
    match state {
        State::Quote | State::QuoteEsc => Err(TokenError::UnterminatedQuote),
        _ => {
            end(&mut words, &mut cur)?;
            Ok(words)
        }
    }
}

/// The fast path of the reply and driver-message parsers, for the lines
/// that make up nearly all traffic (`VAR <ups> <var> "<value>"`,
/// `SETINFO <var> "<value>"`): `rest` (what follows the keyword and one
/// space) must be exactly `N` bare names, each followed by one space, and a
/// quoted value that ends `rest`, with nothing that makes NUT's tokenizer
/// do more than store bytes as they are: every byte is printable ASCII
/// (0x20..=0x7E) other than `\` and `#`, names hold no `=` or `"`, the value
/// no `"`, and no word is longer than [`MAX_WORD_LEN`].
///
/// Anything else (an escape, a comment, a tab, two spaces, a control or
/// non-ASCII byte, text after the value, ...) gives `None`, and the caller
/// runs [`tokenize`]. When this gives words, they are exactly the words
/// `tokenize` gives for the keyword followed by `rest`, after the keyword.
#[inline]
pub(crate) fn simple_words<const N: usize>(rest: &[u8]) -> Option<([&str; N], &str)> {
    // One pass over the line, eight bytes at a time: no control byte, DEL,
    // non-ASCII byte, `\` or `#` anywhere.
    let bad = |w| {
        scan::lt(w, 0x20)
            | scan::high(w)
            | scan::eq(w, 0x7f)
            | scan::eq(w, b'\\')
            | scan::eq(w, b'#')
    };
    if scan::any(rest, bad, |b| !(0x20..0x7f).contains(&b) || b == b'\\' || b == b'#') {
        return None;
    }
    // Every byte is ASCII, so this cannot fail (it is the one UTF-8 check).
    let text = core::str::from_utf8(rest).ok()?;
    let mut names = [""; N];
    let mut pos = 0;
    for name in &mut names {
        let stop = |w| scan::eq(w, b' ') | scan::eq(w, b'=') | scan::eq(w, b'"');
        let len = scan::find(rest.get(pos..)?, stop, |b| matches!(b, b' ' | b'=' | b'"'))?;
        if len == 0 || len > MAX_WORD_LEN || rest[pos + len] != b' ' {
            return None;
        }
        *name = text.get(pos..pos + len)?;
        pos += len + 1;
    }
    let value = text.get(pos..)?.strip_prefix('"')?.strip_suffix('"')?;
    if value.len() > MAX_WORD_LEN || value.as_bytes().contains(&b'"') {
        return None;
    }
    Some((names, value))
}

/// Whether `word` can be written without quotes and read back unchanged.
pub fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && word.bytes().all(|b| b > 0x20 && b < 0x7f && !matches!(b, b'"' | b'\\' | b'#' | b'='))
}

/// Reads a number as NUT does with C's `atoi`: leading blanks, an optional
/// sign, then digits up to the first other character; 0 when there are
/// none. The result is clamped to a C `int`.
///
/// ```
/// use nut_proto::token::atoi;
/// assert_eq!((atoi(" 15x"), atoi("-3"), atoi("abc")), (15, -3, 0));
/// ```
pub fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    let n = if neg { -n } else { n };
    n.clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// Appends `value` with NUT's escaping: `#`, `\` and `"` get a backslash.
///
/// Bytes that NUT's tokenizer would drop on the other side (control bytes
/// and non-ASCII characters) are left out, so that a value can never break
/// the line framing (NUT itself sends them raw).
pub fn escape_into(out: &mut alloc::vec::Vec<u8>, value: &str) {
    for &b in value.as_bytes() {
        if matches!(b, b'#' | b'\\' | b'"') {
            out.push(b'\\');
            out.push(b);
        } else if is_storable(b) {
            out.push(b);
        }
    }
}

/// Appends `value` as a quoted, escaped word: `"..."`.
pub fn quote_into(out: &mut alloc::vec::Vec<u8>, value: &str) {
    out.push(b'"');
    escape_into(out, value);
    out.push(b'"');
}

/// Appends `word` bare when that reads back unchanged, else quoted.
pub fn word_into(out: &mut alloc::vec::Vec<u8>, word: &str) {
    if is_plain_word(word) {
        out.extend_from_slice(word.as_bytes());
    } else {
        quote_into(out, word);
    }
}

/// The value as NUT's tokenizer would read it back: bytes outside
/// 0x20..=0x7F removed. `tokenize` of `quote_into(v)` gives `sanitize(v)`.
pub fn sanitize(value: &str) -> Cow<'_, str> {
    if value.bytes().all(is_storable) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(value.chars().filter(|&c| c.is_ascii() && is_storable(c as u8)).collect())
    }
}

/// Lines for checking the parsers' fast paths against the general path:
/// a keyword, then words and bytes that the fast path must either handle
/// exactly as the tokenizer does or refuse.
#[cfg(test)]
pub(crate) mod adversarial {
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const KEYWORDS: &[&[u8]] = &[
        b"VAR", b"RW", b"ENUM", b"DESC", b"CMDDESC", b"UPS", b"UPSDESC", b"SETINFO", b"ADDENUM",
        b"DELENUM", b"CMD", b"OK", b"ERR", b"BEGIN",
    ];

    const PIECES: &[&[u8]] = &[
        b" ",
        b"  ",
        b"\t",
        b"\r",
        b"\n",
        b"\"",
        b"\\",
        b"#",
        b"=",
        b"\x00",
        b"\x1f",
        b"\x7f",
        b"\x80",
        b"\xff",
        b"\xc3\xa9",
        b"a",
        b"ups",
        b"ups.status",
        b"\"OL CHRG\"",
        b"\"\"",
        b"\"a\\\"b\"",
        b"\"x#y\"",
        b"\"q=r\"",
        b"x\"y",
    ];

    const VALID: &[&[u8]] = &[
        b"VAR ups ups.status \"OL CHRG\"",
        b"RW ups input.transfer.low \"170\"",
        b"ENUM ups x \"\"",
        b"DESC ups ups.status \"UPS status\"",
        b"CMDDESC ups beeper.off \"Turn off the beeper\"",
        b"UPS ups \"Eaton 5SC\"",
        b"UPSDESC ups \"a=b c\"",
        b"SETINFO ups.status \"OL\"",
        b"ADDENUM input.transfer.low \"170\"",
        b"DELENUM x \"y z\"",
    ];

    /// A keyword, separators, bare and quoted words, and single bytes that
    /// matter to the tokenizer; words can be right at the length limit.
    pub(crate) fn line() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            6 => prop::sample::select(PIECES).prop_map(<[u8]>::to_vec),
            1 => (505usize..520).prop_map(|n| alloc::vec![b'v'; n]),
            1 => (505usize..520).prop_map(|n| {
                let mut v = alloc::vec![b'"'; 1];
                v.resize(n, b'w');
                v.push(b'"');
                v
            }),
        ];
        (prop::sample::select(KEYWORDS), prop::collection::vec(piece, 0..8))
            .prop_map(|(kw, pieces)| [kw.to_vec(), pieces.concat()].concat())
    }

    /// A well-formed fast-path line with one byte inserted, replaced or
    /// removed (or none).
    pub(crate) fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let base = prop::sample::select(VALID);
        (base, any::<prop::sample::Index>(), any::<u8>(), 0u8..4).prop_map(|(b, at, byte, op)| {
            let mut v = b.to_vec();
            let i = at.index(v.len() + 1);
            match op {
                0 => v.insert(i, byte),
                1 if i < v.len() => v[i] = byte,
                2 if i < v.len() => {
                    v.remove(i);
                }
                _ => {}
            }
            v
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn words(line: &[u8]) -> Vec<String> {
        tokenize(line).unwrap().iter().map(String::from).collect()
    }

    #[test]
    fn reference_rules() {
        // Table from the NUT reference section 1.2.
        let cases: &[(&[u8], &[&str])] = &[
            (b"GET VAR dummy ups.status", &["GET", "VAR", "dummy", "ups.status"]),
            (b"GET VAR dummy ups.status\r", &["GET", "VAR", "dummy", "ups.status"]),
            (b"GET VAR dummy ups.status#x", &["GET", "VAR", "dummy", "ups.status"]),
            (b"ups.\"status\"", &["ups.\"status\""]),
            (b"\"abc\"def", &["abc", "def"]),
            (b"a \"\" b", &["a", "", "b"]),
            (b"a=b", &["a", "=", "b"]),
            (b"key = value", &["key", "=", "value"]),
            (b"=x", &["=", "x"]),
            (b"\"a=b\"", &["a=b"]),
            (b"ups.st\x01atus", &["ups.status"]),
            (b"ups.st\xc3\xa9atus", &["ups.status"]),
            (b"GET VAR \x01 dummy", &["GET", "VAR", "", "dummy"]),
            (b"dummy\\\nVER", &["dummyVER"]),
            (b"GET VAR \"dummy\n ups.status\"", &["GET", "VAR", "dummy ups.status"]),
            (b"\"with \\\"q\\\"\"", &["with \"q\""]),
            (b"\"\\# box\"", &["# box"]),
            (b"\\#x", &["#x"]),
            (b"  # only a comment", &[]),
            (b"", &[]),
            (b"a\tb\x0bc\x0cd", &["a", "b", "c", "d"]),
            (b"del\x7f", &["del\x7f"]),
            (b"first\nsecond", &["first"]),
        ];
        for (input, expected) in cases {
            assert_eq!(
                words(input),
                *expected,
                "input {:?}",
                alloc::string::String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn atoi_like_c() {
        for (s, n) in
            [("15", 15), ("15x", 15), ("230.0", 230), ("abc", 0), (" -7", -7), ("+3", 3), ("", 0)]
        {
            assert_eq!(atoi(s), n, "{s:?}");
        }
        assert_eq!(atoi("99999999999999999999"), i64::from(i32::MAX));
        assert_eq!(atoi("-99999999999999999999"), i64::from(i32::MIN));
    }

    #[test]
    fn errors() {
        assert_eq!(
            tokenize(b"GET VAR \"ups#status\""),
            Err(TokenError::HashInQuotes { offset: 12 })
        );
        assert_eq!(tokenize(b"\"open"), Err(TokenError::UnterminatedQuote));
        let long = alloc::vec![b'a'; MAX_WORD_LEN + 1];
        assert_eq!(tokenize(&long), Err(TokenError::WordTooLong { index: 0 }));
        let ok = alloc::vec![b'a'; MAX_WORD_LEN];
        assert_eq!(tokenize(&ok).unwrap().get(0).unwrap().len(), MAX_WORD_LEN);
        let many: Vec<u8> = (0..MAX_WORDS + 1).flat_map(|_| *b"w ").collect();
        assert_eq!(tokenize(&many), Err(TokenError::TooManyWords));
        let exact: Vec<u8> = (0..MAX_WORDS).flat_map(|_| *b"w ").collect();
        assert_eq!(tokenize(&exact).unwrap().len(), MAX_WORDS);
    }

    #[test]
    fn borrowed_when_possible() {
        let w = tokenize(b"VAR ups ups.status \"OL CHRG\"").unwrap();
        assert!(w.to_vec().iter().all(|w| matches!(w, Cow::Borrowed(_))));
        let w = tokenize(b"VAR ups x \"a\\\"b\"").unwrap();
        assert!(matches!(w.to_vec()[3], Cow::Owned(_)));
        assert_eq!(w.get(3), Some("a\"b"));
    }

    #[test]
    fn dropped_bytes_are_counted() {
        let w = tokenize(b"a\x01b \xff").unwrap();
        assert_eq!(w.dropped_bytes(), 2);
        assert_eq!(w.iter().collect::<Vec<_>>(), ["ab", ""]);
    }

    #[test]
    fn encoder_matches_reference() {
        let mut out = Vec::new();
        quote_into(&mut out, "Test \"quoted\" # box");
        assert_eq!(out, b"\"Test \\\"quoted\\\" \\# box\"");
        out.clear();
        quote_into(&mut out, "Quote\"Corp");
        assert_eq!(out, b"\"Quote\\\"Corp\"");
        out.clear();
        word_into(&mut out, "dummy");
        word_into(&mut out, "a b");
        assert_eq!(out, b"dummy\"a b\"");
    }

    #[test]
    fn encode_then_parse_gives_sanitized_value() {
        for v in
            ["", "plain", "a b", "#", "\\", "\"", "x=y", "tab\there", "é", "\n", "a\\#\"b", "\x7f"]
        {
            let mut out = Vec::new();
            quote_into(&mut out, v);
            let w = tokenize(&out).unwrap();
            assert_eq!(w.len(), 1, "{v:?}");
            assert_eq!(w.get(0).unwrap(), sanitize(v), "{v:?}");
            let mut out = Vec::new();
            word_into(&mut out, v);
            assert_eq!(tokenize(&out).unwrap().get(0).unwrap(), sanitize(v), "{v:?}");
        }
    }

    /// The tokenizer as it was before run skipping and spans: one `step`
    /// per byte, each word collected on its own. The reference that
    /// [`tokenize`] must match exactly.
    fn reference(line: &[u8]) -> Result<(Vec<String>, usize), TokenError> {
        fn push(words: &mut Vec<String>, w: String) -> Result<(), TokenError> {
            if words.len() == MAX_WORDS {
                return Err(TokenError::TooManyWords);
            }
            words.push(w);
            Ok(())
        }
        let mut words = Vec::new();
        let mut dropped = 0;
        let mut state = State::Start;
        let mut cur: Option<String> = None;
        for (i, &b) in line.iter().enumerate() {
            let (next, act) = step(state, b);
            state = next;
            match act {
                Act::Skip => {}
                Act::Begin => cur = Some(String::new()),
                Act::BeginStore | Act::Store => {
                    let c = cur.get_or_insert_with(String::new);
                    if is_storable(b) {
                        if c.len() == MAX_WORD_LEN {
                            return Err(TokenError::WordTooLong { index: words.len() });
                        }
                        c.push(char::from(b));
                    } else {
                        dropped += 1;
                    }
                }
                Act::End | Act::EndComment | Act::EndEq | Act::EndLine => {
                    if let Some(c) = cur.take() {
                        push(&mut words, c)?;
                    }
                    match act {
                        Act::EndEq => push(&mut words, "=".into())?,
                        Act::EndLine => return Ok((words, dropped)),
                        _ => {}
                    }
                }
                Act::Eq => push(&mut words, "=".into())?,
                Act::Line => return Ok((words, dropped)),
                Act::Error => return Err(TokenError::HashInQuotes { offset: i }),
            }
        }
        match state {
            State::Quote | State::QuoteEsc => Err(TokenError::UnterminatedQuote),
            _ => {
                if let Some(c) = cur.take() {
                    push(&mut words, c)?;
                }
                Ok((words, dropped))
            }
        }
    }

    fn same_as_reference(line: &[u8]) {
        let got = tokenize(line).map(|w| (w.iter().map(String::from).collect(), w.dropped_bytes()));
        assert_eq!(got, reference(line), "line {}", line.escape_ascii());
    }

    /// Lines made of the bytes that matter to the tokenizer, long plain
    /// runs (to cross eight-byte words and the word length limit) and many
    /// short words (to reach the word count limit).
    fn nasty_line() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            8 => prop::sample::select(&b"\n\"\\#= \t\r\x0b\x0c\x00\x01\x1f\x7f\x80\xc3\xa9\xffaZ.-_:"[..])
                .prop_map(|b| alloc::vec![b]),
            2 => (0usize..40).prop_map(|n| alloc::vec![b'x'; n]),
            1 => (500usize..520, any::<bool>()).prop_map(|(n, q)| {
                let mut v = alloc::vec![b'y'; n];
                if q { v.insert(0, b'"'); v.push(b'"'); }
                v
            }),
            1 => (28usize..36).prop_map(|n| b"w ".repeat(n)),
            1 => Just(b"\xe2\x82\xac".to_vec()),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    #[test]
    fn matches_reference_on_fixed_lines() {
        for line in [
            &b""[..],
            b"VAR ups ups.status \"OL CHRG\"",
            b"a=b \"c=d\" =e= \\= \"\\\"\" x\\\ny",
            b"\xff abc \xc3\xa9d \"q\xffr\" z\x01",
            b"\"open \\",
            b"a\\",
            b"caf\xc3\xa9 \"\xe2\x82\xac\" end",
        ] {
            same_as_reference(line);
        }
        let mut long = alloc::vec![b'a'; MAX_WORD_LEN];
        same_as_reference(&long);
        long.push(b'a');
        same_as_reference(&long);
        long.insert(0, b'"');
        same_as_reference(&long);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn matches_reference(line in nasty_line()) {
            same_as_reference(&line);
        }

        #[test]
        fn matches_reference_on_any_bytes(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            same_as_reference(&line);
        }
    }
}
