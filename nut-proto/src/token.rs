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

use alloc::borrow::Cow;
use alloc::string::String;
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

/// The words of one line, borrowed from the input where they need no
/// unescaping. Holds at most [`MAX_WORDS`] words without allocating.
#[derive(Clone, PartialEq, Eq)]
pub struct Words<'a> {
    items: [Cow<'a, str>; MAX_WORDS],
    len: usize,
    dropped: usize,
}

impl<'a> Words<'a> {
    /// An empty list.
    pub const fn new() -> Self {
        Words { items: [const { Cow::Borrowed("") }; MAX_WORDS], len: 0, dropped: 0 }
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
        self.as_slice().get(index).map(|w| w.as_ref())
    }

    /// All words.
    pub fn as_slice(&self) -> &[Cow<'a, str>] {
        &self.items[..self.len]
    }

    /// Iterates over the words as `&str`.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.as_slice().iter().map(|w| w.as_ref())
    }

    /// Takes the word at `index` out of the list, leaving an empty word.
    /// Returns an empty word when `index` is out of range.
    pub fn take(&mut self, index: usize) -> Cow<'a, str> {
        if index < self.len { core::mem::take(&mut self.items[index]) } else { Cow::Borrowed("") }
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
        self.items[self.len] = word;
        self.len += 1;
        Ok(())
    }
}

impl Default for Words<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The word being collected: a borrowed span of the input while it is
/// contiguous there, an owned string once it is not.
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

    fn store(&mut self, line: &[u8], i: usize, b: u8) -> bool {
        if self.len == MAX_WORD_LEN {
            return false;
        }
        self.len += 1;
        match &mut self.owned {
            Some(s) => s.push(char::from(b)),
            None if i == self.end => self.end += 1,
            None => {
                // The word is no longer a contiguous slice of the input.
                let mut s = String::with_capacity(self.end - self.start + 8);
                s.extend(line[self.start..self.end].iter().map(|&c| char::from(c)));
                s.push(char::from(b));
                self.owned = Some(s);
            }
        }
        true
    }

    fn finish<'a>(self, line: &'a [u8]) -> Cow<'a, str> {
        match self.owned {
            Some(s) => Cow::Owned(s),
            // Only bytes 0x20..=0x7F are ever stored, so this is ASCII.
            None => Cow::Borrowed(core::str::from_utf8(&line[self.start..self.end]).unwrap_or("")),
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
    let mut words = Words::new();
    let mut state = State::Start;
    let mut cur: Option<Collect> = None;

    fn end<'a>(
        words: &mut Words<'a>,
        cur: &mut Option<Collect>,
        line: &'a [u8],
    ) -> Result<(), TokenError> {
        if let Some(c) = cur.take() {
            words.push(c.finish(line))?;
        }
        Ok(())
    }

    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        let (next, act) = step(state, b);
        state = next;
        match act {
            Act::Skip => {}
            Act::Begin => cur = Some(Collect::new(i + 1)),
            Act::BeginStore | Act::Store => {
                let c = cur.get_or_insert_with(|| Collect::new(i));
                if is_storable(b) {
                    if !c.store(line, i, b) {
                        return Err(TokenError::WordTooLong { index: words.len() });
                    }
                } else {
                    words.dropped += 1;
                }
            }
            Act::End | Act::EndComment => end(&mut words, &mut cur, line)?,
            Act::EndEq => {
                end(&mut words, &mut cur, line)?;
                words.push(Cow::Borrowed("="))?;
            }
            Act::Eq => words.push(Cow::Borrowed("="))?,
            Act::Line => return Ok(words),
            Act::EndLine => {
                end(&mut words, &mut cur, line)?;
                return Ok(words);
            }
            Act::Error => return Err(TokenError::HashInQuotes { offset: i }),
        }
        i += 1;
    }
    match state {
        State::Quote | State::QuoteEsc => Err(TokenError::UnterminatedQuote),
        _ => {
            end(&mut words, &mut cur, line)?;
            Ok(words)
        }
    }
}

/// Whether `word` can be written without quotes and read back unchanged.
pub fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && word.bytes().all(|b| b > 0x20 && b < 0x7f && !matches!(b, b'"' | b'\\' | b'#' | b'='))
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
        assert!(w.as_slice().iter().all(|w| matches!(w, Cow::Borrowed(_))));
        let w = tokenize(b"VAR ups x \"a\\\"b\"").unwrap();
        assert!(matches!(w.as_slice()[3], Cow::Owned(_)));
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
}
