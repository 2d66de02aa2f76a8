//! Line framing for NUT's byte streams, sans I/O.
//!
//! [`LineFramer`] finds the end of each logical line exactly as NUT's
//! tokenizer does (an LF inside quotes or after a backslash does not end a
//! line), resumes across partial reads, and never buffers more than the
//! configured maximum line length: a longer line is reported once as
//! [`FrameError::LineTooLong`] and its bytes are discarded up to its end.
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

use crate::token::{Act, State, step};
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
}

impl Default for LineFramer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl LineFramer {
    /// A framer that accepts lines of at most `max_line` bytes (LF excluded).
    pub fn new(max_line: usize) -> Self {
        LineFramer {
            buf: Vec::new(),
            state: State::Start,
            max_line,
            discarding: false,
            handed_out: false,
        }
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
        let mut state = self.state;
        let mut i = 0;
        while i < input.len() {
            let (next, act) = step(state, input[i]);
            state = next;
            i += 1;
            if matches!(act, Act::Line | Act::EndLine) {
                self.state = state;
                if self.discarding {
                    self.discarding = false;
                    return (i, None);
                }
                let line = &input[..i - 1];
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
        }
        self.state = state;
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
}
