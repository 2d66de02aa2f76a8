//! Arbitrary bytes fed to a [`Session`] with requests pending: no panic,
//! bounded memory, the same events however the bytes are split, and every
//! reply line either answers a request (parsed or reported as a protocol
//! error) or is counted as unsolicited. The cargo-fuzz target
//! `client_session` (fuzz/) checks the same invariants.

use nut_client::{Event, Limits, Response, Session};
use nut_proto::net::{Command, Query};

const MAX_LINE: usize = 64;
const MAX_ROWS: usize = 8;

fn run(lists: &[bool], input: &[u8], chunk: usize) -> Vec<String> {
    let mut s =
        Session::new(Limits::default().with_max_line(MAX_LINE).with_max_list(MAX_ROWS, 512));
    for &l in lists {
        s.send(&if l { Command::List(Query::Var { ups: "u".into() }) } else { Command::Ver });
    }
    let mut out = Vec::new();
    let mut last_id = None;
    let mut answered = 0;
    let mut unsolicited = 0;
    for piece in input.chunks(chunk.max(1)) {
        s.handle_input(piece);
        assert!(s.buffered() <= MAX_LINE);
        while let Some(ev) = s.poll_event() {
            if let Event::Response { id, result } = &ev {
                assert!(last_id < Some(*id), "answers out of order");
                last_id = Some(*id);
                answered += 1;
                if let Ok(Response::List(rows)) = result {
                    assert!(rows.len() <= MAX_ROWS);
                }
            }
            match ev {
                Event::Unsolicited(nut_client::ProtocolError::Unsolicited { count }) => {
                    unsolicited += count
                }
                ev => out.push(format!("{ev:?}")),
            }
        }
    }
    assert!(answered <= lists.len());
    assert_eq!(s.pending(), lists.len() - answered);
    if !lists.contains(&true) {
        // One line, one answer (or one unsolicited count).
        let lines = input.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(answered + unsolicited, lines, "{out:?}");
    }
    out.push(format!("{unsolicited} unsolicited"));
    out
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

const PIECES: &[&[u8]] = &[
    b"BEGIN LIST VAR u\n",
    b"END LIST VAR u\n",
    b"VAR u x \"1\"\n",
    b"VAR v x \"1\"\n",
    b"RW u x \"1\"\n",
    b"ERR UNKNOWN-UPS\n",
    b"ERR\n",
    b"OK\n",
    b"OK TRACKING a b\n",
    b"TYPE u x RW STRING:abc\n",
    b"\"unterminated\n",
    b"\n",
    b"\r\n",
    b"BEGIN LIST\n",
    b"Network UPS Tools upsd\n",
    b"VAR u x \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
];

#[test]
fn arbitrary_bytes() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let n = (rng.next() % 6) as usize;
        let lists: Vec<bool> = (0..n).map(|_| rng.next() % 2 == 0).collect();
        let mut input = Vec::new();
        for _ in 0..rng.next() % 24 {
            match rng.next() % 4 {
                0 => input.extend((0..rng.next() % 20).map(|_| rng.next() as u8)),
                _ => input.extend_from_slice(PIECES[(rng.next() % PIECES.len() as u64) as usize]),
            }
        }
        let whole = run(&lists, &input, input.len());
        let chunk = 1 + (rng.next() % 7) as usize;
        assert_eq!(
            run(&lists, &input, chunk),
            whole,
            "round {round}: split into {chunk}-byte pieces"
        );
        assert_eq!(run(&lists, &input, 1), whole, "round {round}: byte by byte");
    }
}

#[test]
fn endless_line_and_endless_list_stay_bounded() {
    let mut s =
        Session::new(Limits::default().with_max_line(MAX_LINE).with_max_list(MAX_ROWS, 512));
    s.send(&Command::List(Query::Var { ups: "u".into() }));
    s.handle_input(b"BEGIN LIST VAR u\n");
    for _ in 0..100_000 {
        s.handle_input(b"VAR u x \"1\"\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert!(s.buffered() <= MAX_LINE);
    }
    s.handle_input(b"\nEND LIST VAR u\n");
    assert!(matches!(s.poll_event(), Some(Event::Response { result: Err(_), .. })));
    assert_eq!(s.pending(), 0);
}
