//! Benchmarks of `nut-proto`'s line framer, tokenizer and reply codec on
//! `LIST VAR` replies built from real device dumps. See `README.md` for what
//! each bench measures and the numbers.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use nut_benches::{DUMPS, Input, combined};
use nut_proto::frame::{DEFAULT_MAX_LINE, LineFramer};
use nut_proto::net::Reply;
use nut_proto::token::tokenize;
use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Size of the combined input: every dump, repeated to at least 1 MiB.
const COMBINED_MIN_BYTES: usize = 1 << 20;

/// What one socket read delivers in `framing_chunked`.
const CHUNK: usize = 512;

// ---------------------------------------------------------------------------
// Allocation counting

/// The system allocator, counting allocations (`alloc`, `alloc_zeroed` and
/// `realloc` calls) so the benches can check that parsing does not allocate.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

#[global_allocator]
static GLOBAL: Counting = Counting;

// `GlobalAlloc` is an unsafe trait; every method forwards to `System`
// unchanged, so the caller's guarantees carry over as they are.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as this method.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as this method.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as this method.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as this method.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` once and returns how many allocations it made, with its result.
fn count_allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let out = black_box(f());
    (ALLOCATIONS.load(Ordering::SeqCst) - before, out)
}

// ---------------------------------------------------------------------------
// The measured work. Each returns the number of lines it saw.

/// Frames the whole buffer (every line borrowed from it) and parses each
/// line into a `Reply`.
fn parse_borrowed(bytes: &[u8]) -> usize {
    let mut framer = LineFramer::new(DEFAULT_MAX_LINE);
    let mut input = bytes;
    let mut lines = 0;
    while !input.is_empty() {
        let (used, frame) = framer.decode(input);
        if let Some(frame) = frame {
            let reply = Reply::parse(frame.expect("line fits")).expect("valid reply");
            black_box(&reply);
            lines += 1;
        }
        input = &input[used..];
    }
    lines
}

/// `Reply::parse` on lines already cut (no framing).
fn parse_lines(lines: &[&[u8]]) -> usize {
    for line in lines {
        black_box(Reply::parse(line).expect("valid reply"));
    }
    lines.len()
}

/// The framer over the whole buffer, no parsing.
fn framing_only(bytes: &[u8]) -> usize {
    let mut framer = LineFramer::new(DEFAULT_MAX_LINE);
    let mut input = bytes;
    let mut lines = 0;
    while !input.is_empty() {
        let (used, frame) = framer.decode(input);
        if let Some(frame) = frame {
            black_box(frame.expect("line fits"));
            lines += 1;
        }
        input = &input[used..];
    }
    lines
}

/// `token::tokenize` on lines already cut.
fn tokenize_only(lines: &[&[u8]]) -> usize {
    for line in lines {
        black_box(tokenize(line).expect("valid line"));
    }
    lines.len()
}

/// Encodes every reply into `out`, which is cleared first and reused.
fn encode(replies: &[Reply<'_>], out: &mut Vec<u8>) -> usize {
    out.clear();
    for r in replies {
        r.encode(out);
    }
    black_box(&out);
    replies.len()
}

/// The framer fed `CHUNK`-byte pieces, as socket reads deliver them: a line
/// that straddles two pieces is copied into the framer's buffer.
fn framing_chunked(bytes: &[u8]) -> usize {
    let mut framer = LineFramer::new(DEFAULT_MAX_LINE);
    let mut lines = 0;
    for chunk in bytes.chunks(CHUNK) {
        let mut input = chunk;
        while !input.is_empty() {
            let (used, frame) = framer.decode(input);
            if let Some(frame) = frame {
                black_box(frame.expect("line fits"));
                lines += 1;
            }
            input = &input[used..];
        }
    }
    lines
}

// ---------------------------------------------------------------------------
// Checks outside the timing loops

/// Checks that every bench sees every line, and prints (and for parsing,
/// asserts) the allocations per line.
fn check(input: &Input, lines: &[&[u8]]) {
    let n = input.lines();
    let mut out = Vec::new();
    encode(&input.replies, &mut out); // grow the reused buffer once
    assert_eq!(out, input.bytes);
    let runs: [(&str, (usize, usize)); 6] = [
        ("parse_borrowed", count_allocations(|| parse_borrowed(&input.bytes))),
        ("parse_lines", count_allocations(|| parse_lines(lines))),
        ("framing_only", count_allocations(|| framing_only(&input.bytes))),
        ("tokenize_only", count_allocations(|| tokenize_only(lines))),
        ("encode", count_allocations(|| encode(&input.replies, &mut out))),
        ("framing_chunked", count_allocations(|| framing_chunked(&input.bytes))),
    ];
    println!(
        "allocations per run over {} ({} bytes, {n} lines), outside the timing loop:",
        input.name,
        input.bytes.len()
    );
    for (name, (allocs, seen)) in runs {
        assert_eq!(seen, n, "{name} saw {seen} lines of {n}");
        println!("  {name:<16} {allocs:>6} allocations, {:.6} per line", allocs as f64 / n as f64);
    }
    for name in ["parse_borrowed", "parse_lines", "framing_only", "tokenize_only"] {
        let allocs = runs.iter().find(|r| r.0 == name).map_or(0, |r| r.1.0);
        assert_eq!(allocs, 0, "{name} allocated on lines without escapes");
    }

    // For contrast: one line whose value needs unescaping.
    let escaped = Reply::Var {
        ups: Cow::Borrowed("ups"),
        var: Cow::Borrowed("ups.alarm"),
        value: Cow::Borrowed(r#"Replace "battery" \ # now"#),
    }
    .to_line();
    let (allocs, _) = count_allocations(|| Reply::parse(&escaped[..escaped.len() - 1]));
    println!(
        "  a line with escapes ({}): {allocs} allocation(s)",
        String::from_utf8_lossy(&escaped).trim_end()
    );
}

// ---------------------------------------------------------------------------
// Benches

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, throughput: Throughput) {
    group.throughput(throughput);
    // About 5 ms per iteration over 1 MiB: flat sampling keeps the run short.
    group.sampling_mode(SamplingMode::Flat);
}

fn bench_all(group: &mut BenchmarkGroup<'_, WallTime>, input: &Input, lines: &[&[u8]]) {
    let bytes = &input.bytes[..];
    group.bench_function("parse_borrowed", |b| b.iter(|| parse_borrowed(black_box(bytes))));
    group.bench_function("parse_lines", |b| b.iter(|| parse_lines(black_box(lines))));
    group.bench_function("framing_only", |b| b.iter(|| framing_only(black_box(bytes))));
    group.bench_function("tokenize_only", |b| b.iter(|| tokenize_only(black_box(lines))));
    let mut out = Vec::with_capacity(bytes.len());
    group.bench_function("encode", |b| {
        b.iter(|| encode(black_box(&input.replies), &mut out));
    });
    group.bench_function("framing_chunked", |b| b.iter(|| framing_chunked(black_box(bytes))));
}

fn benches(c: &mut Criterion) {
    let input = combined(COMBINED_MIN_BYTES);
    let lines = input.split_lines();
    check(&input, &lines);

    let mut group = c.benchmark_group("bytes");
    configure(&mut group, Throughput::Bytes(input.bytes.len() as u64));
    bench_all(&mut group, &input, &lines);
    group.finish();

    let mut group = c.benchmark_group("lines");
    configure(&mut group, Throughput::Elements(input.lines() as u64));
    bench_all(&mut group, &input, &lines);
    group.finish();

    // Each dump on its own: does throughput depend on the device?
    let mut group = c.benchmark_group("parse_borrowed_per_dump");
    for dump in DUMPS {
        let input = dump.input();
        group.throughput(Throughput::Bytes(input.bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(dump.stem()), &input.bytes, |b, i| {
            b.iter(|| parse_borrowed(black_box(i)))
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
}
