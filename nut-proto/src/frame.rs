//! Line framing for NUT's byte streams, sans I/O.
//!
//! [`LineFramer`] resumes across partial reads and never buffers more than
//! the configured maximum line length: a longer line is reported once as
//! [`FrameError::LineTooLong`] and its bytes are discarded up to its end.
//!
//! It has two ways of finding where a line ends:
//!
//! * [`LineFramer::new`] (quote-aware) ends a line exactly where NUT's
//!   tokenizer does: an LF inside quotes or after a backslash does not end
//!   it. This is how `upsd` reads commands and how drivers and `upsd` read
//!   the driver socket, so servers and drivers use it.
//! * [`LineFramer::lf_only`] ends a line at every LF, whatever comes before.
//!   This is how NUT's clients (`libupsclient`, `upsc`, `upsmon`) read
//!   replies, so clients use it: a reply such as `ERR X "a` (free text with
//!   an odd quote) ends at its LF and does not swallow the next reply.
//!
//! Both scan for the few bytes that matter (LF, and in quote-aware mode `"`,
//! `\` and `#`) eight bytes at a time, and hand out lines that lie wholly in
//! the input without copying them.
//!
//! ```
//! use nut_proto::frame::LineFramer;
//!
//! let mut framer = LineFramer::new(1024);
//! let mut lines = Vec::new();
//! // Bytes arrive in arbitrary pieces.
//! for chunk in [&b"VER\nGET VAR ups \"ups"[..], &b".status\"\nLOG"[..], &b"OUT\n"[..]] {
//!     let mut input = chunk;
//!     while !input.is_empty() {
//!         let (used, frame) = framer.decode(input);
//!         if let Some(frame) = frame {
//!             lines.push(frame.unwrap().to_vec());
//!         }
//!         input = &input[used..];
//!     }
//! }
//! assert_eq!(lines, [&b"VER"[..], b"GET VAR ups \"ups.status\"", b"LOGOUT"]);
//! ```

use crate::scan;
use crate::token::State;
use alloc::vec::Vec;

/// The default maximum line length, in bytes, without the LF.
///
/// NUT itself has no line limit (it truncates words instead). Any line a
/// correct NUT peer sends fits: 32 words of 512 characters are possible in
/// theory, but real commands and replies stay far below 4 KiB.
pub const DEFAULT_MAX_LINE: usize = 4096;

/// A framing problem the caller can act on (log it, answer an error, or
/// drop the peer).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A line grew past the maximum length. Its bytes up to the end of the
    /// line are being discarded; this error is reported once per line.
    #[error("line longer than {max} bytes, discarded")]
    LineTooLong {
        /// The configured maximum.
        max: usize,
    },
}

/// Resumable, bounded line framer. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct LineFramer {
    buf: Vec<u8>,
    state: State,
    max_line: usize,
    discarding: bool,
    /// The buffer holds a line handed out by the last call.
    handed_out: bool,
    /// Lines end where NUT's tokenizer ends them (else at every LF).
    quote_aware: bool,
}

impl Default for LineFramer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl LineFramer {
    /// A quote-aware framer that accepts lines of at most `max_line` bytes
    /// (LF excluded): a line ends at an LF outside quotes and not after a
    /// backslash, as NUT's tokenizer reads it. Use it where NUT tokenizes
    /// the stream it reads: in servers (commands from clients) and on the
    /// driver socket (both sides), and for configuration files.
    pub fn new(max_line: usize) -> Self {
        LineFramer {
            buf: Vec::new(),
            state: State::Start,
            max_line,
            discarding: false,
            handed_out: false,
            quote_aware: true,
        }
    }

    /// A framer that ends a line at every LF, with no regard for quotes or
    /// backslashes, and accepts lines of at most `max_line` bytes (LF
    /// excluded; longer lines are reported and discarded as with
    /// [`new`](Self::new)). Use it in clients reading `upsd`'s replies: NUT's
    /// clients read a reply up to its LF, so a reply with an odd quote in
    /// its free text (`ERR X "a`) must not run into the next one.
    ///
    /// ```
    /// use nut_proto::frame::LineFramer;
    /// let mut lines = Vec::new();
    /// LineFramer::lf_only(1024).decode_all(b"ERR X \"a\nOK\n", |l| lines.push(l.unwrap().to_vec()));
    /// assert_eq!(lines, [&b"ERR X \"a"[..], b"OK"]);
    /// ```
    pub fn lf_only(max_line: usize) -> Self {
        LineFramer { quote_aware: false, ..Self::new(max_line) }
    }

    /// Whether lines end where NUT's tokenizer ends them
    /// ([`new`](Self::new)) rather than at every LF
    /// ([`lf_only`](Self::lf_only)).
    pub fn is_quote_aware(&self) -> bool {
        self.quote_aware
    }

    /// The configured maximum line length.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Bytes of an incomplete line held from earlier calls.
    pub fn buffered(&self) -> usize {
        if self.handed_out { 0 } else { self.buf.len() }
    }

    /// True while the rest of an overlong line is being skipped.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Whether the framer is in the middle of a line (bytes buffered,
    /// discarding, or inside a quote/escape/comment).
    pub fn is_mid_line(&self) -> bool {
        (!self.buf.is_empty() && !self.handed_out) || self.discarding || self.state != State::Start
    }

    /// Takes the bytes of an incomplete line (at end of input) and resets
    /// the framer to the start of a line.
    pub fn take_partial(&mut self) -> Vec<u8> {
        let out = if self.handed_out { Vec::new() } else { core::mem::take(&mut self.buf) };
        self.buf.clear();
        self.handed_out = false;
        self.discarding = false;
        self.state = State::Start;
        out
    }

    /// Reads from `input` until one line is complete or `input` is used up.
    ///
    /// Returns how many bytes of `input` were consumed, and the line (without
    /// its LF) if one was completed, or an error if a line became too long.
    /// Call again with the rest of `input`. A returned line borrows `input`
    /// directly when it lies wholly inside it.
    pub fn decode<'a>(
        &'a mut self,
        input: &'a [u8],
    ) -> (usize, Option<Result<&'a [u8], FrameError>>) {
        if self.handed_out {
            self.buf.clear();
            self.handed_out = false;
        }
        let (end, state) = if self.quote_aware {
            line_end(self.state, input)
        } else {
            (scan::find_lf(input), State::Start)
        };
        self.state = state;
        if let Some(lf) = end {
            let i = lf + 1;
            if self.discarding {
                self.discarding = false;
                return (i, None);
            }
            let line = &input[..lf];
            if self.buf.is_empty() {
                if line.len() > self.max_line {
                    return (i, Some(Err(FrameError::LineTooLong { max: self.max_line })));
                }
                return (i, Some(Ok(line)));
            }
            if self.buf.len() + line.len() > self.max_line {
                self.buf.clear();
                return (i, Some(Err(FrameError::LineTooLong { max: self.max_line })));
            }
            self.buf.extend_from_slice(line);
            // The buffer is cleared on the next call.
            self.handed_out = true;
            return (i, Some(Ok(&self.buf)));
        }
        let i = input.len();
        if !self.discarding {
            if self.buf.len() + input.len() > self.max_line {
                self.buf.clear();
                self.discarding = true;
                return (i, Some(Err(FrameError::LineTooLong { max: self.max_line })));
            }
            self.buf.extend_from_slice(input);
        }
        (i, None)
    }
}

/// Whether a byte that is not LF, `#`, `\\` or `"` leaves NUT's tokenizer,
/// outside quotes, between words ([`State::Start`]) or inside one.
#[inline(always)]
fn after_plain(b: u8) -> State {
    if matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c | b'=') { State::Start } else { State::Word }
}

/// Finds where the line that `state` is in ends in `input`: the offset of
/// its LF (the state is then [`State::Start`]), or `None` and the state
/// after all of `input`. It gives the same result as running
/// [`token::step`](crate::token) over every byte, but jumps from one byte
/// that can change the state to the next: outside quotes LF, `#`, `\\` and
/// `"` (which opens a quote only at the start of a word, so the byte before
/// it decides); inside quotes `"`, `\\` and `#`; in a comment, LF.
fn line_end(mut state: State, input: &[u8]) -> (Option<usize>, State) {
    let mut i = 0;
    loop {
        let rest = &input[i..];
        match state {
            State::Start | State::Word => {
                let stop = |w| {
                    scan::eq(w, b'\n') | scan::eq(w, b'#') | scan::eq(w, b'\\') | scan::eq(w, b'"')
                };
                let Some(k) = scan::find(rest, stop, |b| matches!(b, b'\n' | b'#' | b'\\' | b'"'))
                else {
                    if let Some(&last) = rest.last() {
                        state = after_plain(last);
                    }
                    return (None, state);
                };
                let before = if k > 0 { after_plain(rest[k - 1]) } else { state };
                state = match rest[k] {
                    b'\n' => return (Some(i + k), State::Start),
                    b'#' => State::Comment,
                    b'\\' => State::WordEsc,
                    _ if before == State::Start => State::Quote,
                    _ => State::Word,
                };
                i += k + 1;
            }
            State::WordEsc | State::QuoteEsc => {
                if rest.is_empty() {
                    return (None, state);
                }
                // The escaped byte is literal, even an LF.
                state = if state == State::WordEsc { State::Word } else { State::Quote };
                i += 1;
            }
            State::Quote => {
                let stop = |w| scan::eq(w, b'"') | scan::eq(w, b'\\') | scan::eq(w, b'#');
                let Some(k) = scan::find(rest, stop, |b| matches!(b, b'"' | b'\\' | b'#')) else {
                    return (None, state);
                };
                state = match rest[k] {
                    b'"' => State::Start,
                    b'\\' => State::QuoteEsc,
                    _ => State::Error,
                };
                i += k + 1;
            }
            State::Comment | State::Error => {
                return match scan::find_lf(rest) {
                    Some(k) => (Some(i + k), State::Start),
                    None => (None, state),
                };
            }
        }
    }
}

impl LineFramer {
    /// Feeds all of `input`, calling `on_frame` for every completed line or
    /// framing error, in order.
    pub fn decode_all(
        &mut self,
        mut input: &[u8],
        mut on_frame: impl FnMut(Result<&[u8], FrameError>),
    ) {
        while !input.is_empty() {
            let (used, frame) = self.decode(input);
            if let Some(frame) = frame {
                on_frame(frame);
            }
            input = &input[used..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    type Out = Vec<Result<Vec<u8>, FrameError>>;

    fn run(framer: &mut LineFramer, chunks: &[&[u8]]) -> Out {
        let mut out = Vec::new();
        for c in chunks {
            framer.decode_all(c, |f| out.push(f.map(<[u8]>::to_vec)));
        }
        out
    }

    #[test]
    fn lines_across_chunks() {
        let mut f = LineFramer::new(100);
        let out = run(&mut f, &[b"A\nB", b"C\n", b"\n", b"D"]);
        assert_eq!(out, vec![Ok(b"A".to_vec()), Ok(b"BC".to_vec()), Ok(b"".to_vec())]);
        assert_eq!(f.buffered(), 1);
        assert!(f.is_mid_line());
    }

    #[test]
    fn quotes_and_continuations_do_not_end_lines() {
        let mut f = LineFramer::new(100);
        let out = run(&mut f, &[b"GET VAR \"dummy\n ups.status\"\nVER\nX\\\nY\n# c \"\nZ\n"]);
        assert_eq!(
            out,
            vec![
                Ok(b"GET VAR \"dummy\n ups.status\"".to_vec()),
                Ok(b"VER".to_vec()),
                Ok(b"X\\\nY".to_vec()),
                Ok(b"# c \"".to_vec()),
                Ok(b"Z".to_vec())
            ]
        );
    }

    #[test]
    fn hash_in_quotes_ends_at_next_lf() {
        let mut f = LineFramer::new(100);
        let out = run(&mut f, &[b"GET VAR dummy \"ups#status\" \nVER\n"]);
        assert_eq!(out, vec![Ok(b"GET VAR dummy \"ups#status\" ".to_vec()), Ok(b"VER".to_vec())]);
    }

    #[test]
    fn overlong_lines_are_reported_once_and_skipped() {
        let mut f = LineFramer::new(8);
        // In one chunk.
        let out = run(&mut f, &[b"0123456789\nOK\n"]);
        assert_eq!(out, vec![Err(FrameError::LineTooLong { max: 8 }), Ok(b"OK".to_vec())]);
        // Across many chunks: one error, memory stays bounded.
        let mut chunks: Vec<&[u8]> = vec![b"01234"];
        chunks.extend(core::iter::repeat_n(&b"56789"[..], 1000));
        chunks.push(b"\nNEXT\n");
        let out = run(&mut f, &chunks);
        assert_eq!(out, vec![Err(FrameError::LineTooLong { max: 8 }), Ok(b"NEXT".to_vec())]);
        assert!(f.buf.capacity() <= 64);
        // Exactly at the limit is fine, split or not.
        let out = run(&mut f, &[b"0123", b"4567\n", b"01234567\n"]);
        assert_eq!(out, vec![Ok(b"01234567".to_vec()), Ok(b"01234567".to_vec())]);
    }

    #[test]
    fn same_frames_at_every_split_point() {
        let input: &[u8] = b"VER\nGET VAR \"a\\\"b\n\" x\nLONGLONGLONGLINE\n\\\nQ\n# \"c\nEND\n";
        let whole = run(&mut LineFramer::new(12), &[input]);
        for split in 0..=input.len() {
            let (a, b) = input.split_at(split);
            assert_eq!(run(&mut LineFramer::new(12), &[a, b]), whole, "split at {split}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&mut LineFramer::new(12), &bytes), whole);
    }

    /// What the framer did before it skipped runs: one `step` per byte.
    fn reference_line_end(mut state: State, input: &[u8]) -> (Option<usize>, State) {
        use crate::token::{Act, step};
        for (i, &b) in input.iter().enumerate() {
            let (next, act) = step(state, b);
            state = next;
            if matches!(act, Act::Line | Act::EndLine) {
                return (Some(i), state);
            }
        }
        (None, state)
    }

    const STATES: [State; 7] = [
        State::Start,
        State::Word,
        State::WordEsc,
        State::Quote,
        State::QuoteEsc,
        State::Comment,
        State::Error,
    ];

    #[test]
    fn line_end_matches_reference_on_fixed_inputs() {
        let inputs: [&[u8]; 9] = [
            b"",
            b"VAR ups ups.status \"OL CHRG\"\nnext",
            b"a\"b c\" \"d\ne\" f\n",
            b"x=\"q\n\" \\\n# c \" \n",
            b"\"a#b\" c\nd",
            b" \t\r\x0b\x0c\"q\"\n",
            b"abcdefgh\"ijklmnop\"qrstuvw \"xyz\\\"\n\"\n",
            b"\\",
            b"=\"a\"=\"b\n\"\n",
        ];
        for input in inputs {
            for state in STATES {
                for cut in 0..=input.len() {
                    let part = &input[..cut];
                    assert_eq!(
                        line_end(state, part),
                        reference_line_end(state, part),
                        "{state:?} {}",
                        part.escape_ascii()
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn line_end_matches_reference(
            state in proptest::sample::select(&STATES[..]),
            input in proptest::collection::vec(proptest::prop_oneof![
                4 => proptest::sample::select(&b"\n\"\\#= \t\r\x0b\x0c\x00\x7f\xffab"[..]),
                1 => proptest::prelude::any::<u8>(),
            ], 0..80),
        ) {
            proptest::prop_assert_eq!(line_end(state, &input), reference_line_end(state, &input));
        }

        /// `lf_only` frames are the input split at every LF, however the
        /// input is cut, with the same overlong-line rules.
        #[test]
        fn lf_only_is_split_independent(
            input in proptest::collection::vec(proptest::prop_oneof![
                3 => proptest::sample::select(&b"\n\"\\#a "[..]),
                1 => proptest::prelude::any::<u8>(),
            ], 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..8),
            max in 1usize..30,
        ) {
            let whole = run(&mut LineFramer::lf_only(max), &[&input]);
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            points.sort_unstable();
            let mut pieces: Vec<&[u8]> = Vec::new();
            let mut last = 0;
            for p in points {
                pieces.push(&input[last..p]);
                last = p;
            }
            pieces.push(&input[last..]);
            proptest::prop_assert_eq!(&run(&mut LineFramer::lf_only(max), &pieces), &whole);
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            proptest::prop_assert_eq!(&run(&mut LineFramer::lf_only(max), &bytes), &whole);
            // The expected frames: split at every LF; an unfinished tail is
            // reported as soon as it is too long.
            let mut expected: Out = Vec::new();
            let parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            for (k, p) in parts.iter().enumerate() {
                if k + 1 == parts.len() && p.len() <= max {
                    break;
                }
                expected.push(if p.len() > max {
                    Err(FrameError::LineTooLong { max })
                } else {
                    Ok(p.to_vec())
                });
            }
            proptest::prop_assert_eq!(whole, expected);
        }
    }

    #[test]
    fn lf_only_ignores_quotes_and_backslashes() {
        let mut f = LineFramer::lf_only(100);
        assert!(!f.is_quote_aware());
        let out = run(&mut f, &[b"ERR X \"a\nOK\nVAR u v \"x\\", b"\ny\"\n# \"\nEND"]);
        assert_eq!(
            out,
            vec![
                Ok(b"ERR X \"a".to_vec()),
                Ok(b"OK".to_vec()),
                Ok(b"VAR u v \"x\\".to_vec()),
                Ok(b"y\"".to_vec()),
                Ok(b"# \"".to_vec())
            ]
        );
        assert!(f.is_mid_line());
        assert_eq!(f.take_partial(), b"END");
        assert!(!f.is_mid_line());
        // The quote-aware framer reads the same bytes as fewer lines.
        let out = run(&mut LineFramer::new(100), &[b"ERR X \"a\nOK\n"]);
        assert_eq!(out, vec![]);
    }

    #[test]
    fn lf_only_overlong_lines() {
        let mut f = LineFramer::lf_only(4);
        let out = run(&mut f, &[b"01234\"\nOK\n", b"012", b"34", b"\"56\n\"\n"]);
        assert_eq!(
            out,
            vec![
                Err(FrameError::LineTooLong { max: 4 }),
                Ok(b"OK".to_vec()),
                Err(FrameError::LineTooLong { max: 4 }),
                Ok(b"\"".to_vec())
            ]
        );
        assert!(!f.is_mid_line());
    }
}
