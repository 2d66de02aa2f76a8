//! Benchmark of `nut-client`'s sans-IO `Session` reading `LIST VAR`
//! replies built from real device dumps (the same input as
//! `benches/proto.rs`): the whole reply handed over at once, one line per
//! call (a client reading line by line), and 512-byte socket reads. Each
//! iteration starts from a fresh session with one `LIST VAR` pending per
//! list in the input (built outside the timing). See `README.md`.

use criterion::{BatchSize, Criterion, Throughput};
use nut_benches::{DUMPS, Input, combined};
use nut_client::{Event, Limits, Response, Session};
use nut_proto::frame::{DEFAULT_MAX_LINE, LineFramer};
use nut_proto::net::{Command, Query, Reply};
use std::hint::black_box;
use std::time::Duration;

/// Size of the combined input: every dump, repeated to at least 1 MiB.
const COMBINED_MIN_BYTES: usize = 1 << 20;

/// What one socket read delivers in the chunked bench.
const CHUNK: usize = 512;

/// The UPS names of the input's lists, in order.
fn lists(input: &Input) -> Vec<String> {
    input
        .replies
        .iter()
        .filter_map(|r| match r {
            Reply::BeginList(Query::Var { ups }) => Some(ups.to_string()),
            _ => None,
        })
        .collect()
}

/// A session waiting for one `LIST VAR` answer per name.
fn session(lists: &[String]) -> Session {
    let mut s = Session::new(Limits::default());
    for ups in lists {
        s.send(&Command::List(Query::Var { ups: ups.as_str().into() }));
    }
    let _ = s.take_transmit();
    s
}

/// Drains the session's events; returns the rows received.
fn drain(s: &mut Session) -> usize {
    let mut rows = 0;
    while let Some(ev) = s.poll_event() {
        match ev {
            Event::Response { result: Ok(Response::List(r)), .. } => rows += r.len(),
            other => panic!("unexpected event {other:?}"),
        }
    }
    rows
}

fn feed(mut s: Session, pieces: impl Iterator<Item = &'static [u8]>) -> usize {
    let mut rows = 0;
    for p in pieces {
        s.handle_input(p);
        rows += drain(&mut s);
    }
    rows
}

fn benches(c: &mut Criterion) {
    let input = combined(COMBINED_MIN_BYTES);
    let names = lists(&input);
    let rows = input.lines() - 2 * names.len();
    let bytes: &'static [u8] = Vec::leak(input.bytes.clone());
    let lines: Vec<&'static [u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    // Sanity: every way of feeding gives every row.
    assert_eq!(feed(session(&names), std::iter::once(bytes)), rows);
    assert_eq!(feed(session(&names), lines.iter().copied()), rows);
    assert_eq!(feed(session(&names), bytes.chunks(CHUNK)), rows);

    let mut g = c.benchmark_group(format!("client_list_var/{}", input.name));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4)).sample_size(30);
    g.bench_function("whole", |b| {
        b.iter_batched(
            || session(&names),
            |s| black_box(feed(s, std::iter::once(black_box(bytes)))),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("per_line", |b| {
        b.iter_batched(
            || session(&names),
            |s| black_box(feed(s, lines.iter().copied())),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("chunks_512", |b| {
        b.iter_batched(
            || session(&names),
            |s| black_box(feed(s, bytes.chunks(CHUNK))),
            BatchSize::LargeInput,
        )
    });
    // Baseline without the session: frame, parse and own every line (what
    // the session must do at least to hand out `Reply<'static>` rows).
    g.bench_function("baseline_parse_into_owned", |b| {
        b.iter(|| {
            let mut framer = LineFramer::lf_only(DEFAULT_MAX_LINE);
            let mut owned = Vec::with_capacity(lines.len());
            framer.decode_all(black_box(bytes), |frame| {
                let line = frame.expect("no overlong line");
                owned.push(Reply::parse(line).expect("valid reply").into_owned());
            });
            black_box(owned.len())
        })
    });
    g.finish();

    // One device's reply alone (the largest, 583 rows): what `upsc` parses.
    let epdu = DUMPS.iter().find(|d| d.ups == "epdu").expect("epdu dump").input();
    let names = lists(&epdu);
    let bytes: &'static [u8] = Vec::leak(epdu.bytes.clone());
    let mut g = c.benchmark_group("client_list_var/epdu");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    g.bench_function("whole", |b| {
        b.iter_batched(
            || session(&names),
            |s| black_box(feed(s, std::iter::once(black_box(bytes)))),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
