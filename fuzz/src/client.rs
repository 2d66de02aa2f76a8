//! Fuzz target body for the `nut-client` session.

use nut_client::{Event, Limits, ProtocolError, Response, Session};
use nut_proto::net::{Command, Query};

const MAX_LINE: usize = 64;
const MAX_ROWS: usize = 8;

/// Runs the session over `input` fed in `chunk`-byte pieces; returns the
/// answers (as text) and the number of unsolicited lines, checking the
/// bounds on the way.
fn run(lists: &[bool], input: &[u8], chunk: usize) -> (Vec<String>, usize) {
    let mut s =
        Session::new(Limits::default().with_max_line(MAX_LINE).with_max_list(MAX_ROWS, 512));
    for &l in lists {
        s.send(&if l { Command::List(Query::Var { ups: "u".into() }) } else { Command::Ver });
    }
    let (mut out, mut unsolicited, mut last) = (Vec::new(), 0, None);
    for piece in input.chunks(chunk.max(1)) {
        s.handle_input(piece);
        assert!(s.buffered() <= MAX_LINE, "more than a line buffered");
        while let Some(ev) = s.poll_event() {
            match ev {
                Event::Unsolicited(ProtocolError::Unsolicited { count }) => unsolicited += count,
                Event::Response { id, result } => {
                    assert!(last < Some(id), "answers out of order");
                    last = Some(id);
                    if let Ok(Response::List(rows)) = &result {
                        assert!(rows.len() <= MAX_ROWS, "list longer than the limit");
                    }
                    out.push(format!("{result:?}"));
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
    }
    assert!(out.len() <= lists.len(), "more answers than requests");
    assert_eq!(s.pending(), lists.len() - out.len(), "pending count");
    (out, unsolicited)
}

/// `client_session`: byte 0 = number of requests (0..=7) in its low 3 bits;
/// byte 1 = which of them are `LIST VAR` (bit i) instead of `VER`; byte 2 =
/// chunk size; the rest is what the server sends. The session must not
/// panic, must stay within its limits, must give the same answers however
/// the bytes are split, and without lists every LF-terminated line is one
/// answer or one unsolicited line, and so is an unterminated tail longer
/// than a line may be (an overlong line is reported before its LF).
pub fn client_session(data: &[u8]) {
    let [n, mask, chunk, input @ ..] = data else { return };
    let lists: Vec<bool> = (0..(n & 7)).map(|i| mask & (1 << i) != 0).collect();
    let whole = run(&lists, input, input.len());
    assert_eq!(run(&lists, input, usize::from(*chunk)), whole, "depends on the split");
    assert_eq!(run(&lists, input, 1), whole, "depends on the split (byte by byte)");
    if !lists.contains(&true) {
        let lines = input.iter().filter(|&&b| b == b'\n').count();
        // The bytes after the last LF: reported once, as too long, as soon
        // as they exceed the limit (their LF, when it comes, adds nothing).
        let tail = input.rsplit(|&b| b == b'\n').next().unwrap_or_default();
        let overlong_tail = usize::from(tail.len() > MAX_LINE);
        assert_eq!(
            whole.0.len() + whole.1,
            lines + overlong_tail,
            "a line was neither answered nor reported"
        );
    }
}
