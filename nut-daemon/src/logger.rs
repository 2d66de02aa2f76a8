//! A small `tracing` subscriber: events only (spans are never enabled),
//! filtered by target prefix and level, each written as one line in the
//! format of `tracing-subscriber`'s default `fmt` layer.

use std::fmt::{self, Write as _};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, LevelFilter, Metadata};

/// Where the log lines go: one writer per event, chosen from the event's
/// metadata (its level, for syslog's severity), given the whole line,
/// newline included, in one `write_all`.
///
/// [`Logging::init_bare`](crate::Logging::init_bare) takes one; a writer
/// that adds its own framing (syslog) can send the line when dropped.
pub trait MakeLogWriter: Send + Sync + 'static {
    /// The writer of one event.
    type Writer: std::io::Write;

    /// A writer for the event that `meta` describes.
    fn make_writer_for(&self, meta: &Metadata<'_>) -> Self::Writer;
}

/// Standard error, unbuffered: each line in one `write_all`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stderr;

impl MakeLogWriter for Stderr {
    type Writer = std::io::Stderr;

    fn make_writer_for(&self, _: &Metadata<'_>) -> std::io::Stderr {
        std::io::stderr()
    }
}

/// Which enabled events: `target=level` directives, the longest target
/// prefix first, and a default level for the targets no directive names
/// (none: such events are off). The same rules as `tracing-subscriber`'s
/// `filter::Targets`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Target prefixes and their levels, longest prefix first.
    directives: Vec<(String, LevelFilter)>,
    /// The level of a target that no directive matches.
    default: Option<LevelFilter>,
}

impl Filter {
    /// Every target at `level`.
    pub(crate) fn level(level: LevelFilter) -> Filter {
        Filter { directives: Vec::new(), default: Some(level) }
    }

    /// Parses comma-separated directives: `target=level`, a bare level (the
    /// default), or a bare target (that target at `trace`). A later
    /// directive for the same target replaces an earlier one. Levels are
    /// `tracing`'s (`error` to `trace`, `off`, `0` to `5`, any case).
    /// `None` for anything else: a second `=`, a level that does not parse,
    /// span or field filters (`target[span{field}]=level`).
    pub(crate) fn parse(s: &str) -> Option<Filter> {
        let mut filter = Filter { directives: Vec::new(), default: None };
        for d in s.split(',') {
            let (target, level) = match d.split_once('=') {
                Some((_, level)) if level.contains('=') => return None,
                Some((target, level)) => (Some(target), level.parse().ok()?),
                None => match d.parse::<LevelFilter>() {
                    Ok(level) => (None, level),
                    Err(_) => (Some(d), LevelFilter::TRACE),
                },
            };
            match target {
                None => filter.default = Some(level),
                Some(t) if t.contains(['[', ']', '{', '}']) => return None,
                Some(t) => filter.add(t, level),
            }
        }
        Some(filter)
    }

    fn add(&mut self, target: &str, level: LevelFilter) {
        let d = &mut self.directives;
        if let Some(same) = d.iter_mut().find(|(t, _)| t == target) {
            same.1 = level;
        } else {
            let at = d.iter().position(|(t, _)| t.len() < target.len()).unwrap_or(d.len());
            d.insert(at, (target.to_owned(), level));
        }
    }

    /// Whether an event of `target` at `level` passes: the longest
    /// directive whose target is a prefix of `target` (a plain string
    /// prefix, as `Targets` has it: `nut` matches `nut_driver`) decides,
    /// else the default.
    pub(crate) fn enabled(&self, target: &str, level: &Level) -> bool {
        let found = self.directives.iter().find(|(t, _)| target.starts_with(t.as_str()));
        found.map(|&(_, l)| l).or(self.default).is_some_and(|l| l >= *level)
    }

    /// The most verbose level that any target may log at.
    pub(crate) fn max_level(&self) -> LevelFilter {
        let levels = self.directives.iter().map(|&(_, l)| l).chain(self.default);
        levels.max().unwrap_or(LevelFilter::OFF)
    }
}

/// What a line holds besides the message and fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Style {
    /// RFC 3339 UTC time with microseconds.
    pub(crate) time: bool,
    /// The level, right-aligned to 5 characters.
    pub(crate) level: bool,
    /// The target (module path) and a colon.
    pub(crate) target: bool,
    /// ANSI colours (on a terminal).
    pub(crate) ansi: bool,
}

/// The subscriber: a filter that [`LevelControl`](crate::LevelControl) may
/// replace, the line style, and the writer.
pub(crate) struct Logger<W> {
    pub(crate) filter: Arc<RwLock<Filter>>,
    pub(crate) style: Style,
    pub(crate) writer: W,
}

impl<W> Logger<W> {
    fn enabled_by_filter(&self, meta: &Metadata<'_>) -> bool {
        let filter = self.filter.read().unwrap_or_else(PoisonError::into_inner);
        meta.is_event() && filter.enabled(meta.target(), meta.level())
    }
}

impl<W: MakeLogWriter> tracing_core::Subscriber for Logger<W> {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // Always or never, never "sometimes": `enabled` is not asked again
        // for each event, until `rebuild_interest_cache` after a change.
        if self.enabled_by_filter(meta) { Interest::always() } else { Interest::never() }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        self.enabled_by_filter(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.filter.read().unwrap_or_else(PoisonError::into_inner).max_level())
    }

    // Spans are never enabled (no program logs in spans), so these are
    // not called for this subscriber's own callsites.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = String::with_capacity(160);
        if format_event(&mut line, self.style, event, SystemTime::now()).is_ok() {
            let mut w = self.writer.make_writer_for(event.metadata());
            // Nowhere to report a failed write to the log.
            let _ = std::io::Write::write_all(&mut w, line.as_bytes());
        }
    }
}

/// ANSI codes as `nu-ansi-term` writes them for `tracing-subscriber`.
const DIM: &str = "\x1b[2m";
const ITALIC: &str = "\x1b[3m";
const RESET: &str = "\x1b[0m";

/// Writes one log line for `event` into `out`, newline included, as
/// `tracing-subscriber`'s default format does.
pub(crate) fn format_event(
    out: &mut String,
    style: Style,
    event: &Event<'_>,
    now: SystemTime,
) -> fmt::Result {
    let meta = event.metadata();
    if style.time {
        let dim = if style.ansi { DIM } else { "" };
        let reset = if style.ansi { RESET } else { "" };
        write!(out, "{dim}{}{reset} ", Timestamp(now))?;
    }
    if style.level {
        let (name, colour) = match *meta.level() {
            Level::TRACE => ("TRACE", "\x1b[35m"),
            Level::DEBUG => ("DEBUG", "\x1b[34m"),
            Level::INFO => (" INFO", "\x1b[32m"),
            Level::WARN => (" WARN", "\x1b[33m"),
            Level::ERROR => ("ERROR", "\x1b[31m"),
        };
        if style.ansi {
            write!(out, "{colour}{name}{RESET} ")?;
        } else {
            write!(out, "{name} ")?;
        }
    }
    if style.target {
        if style.ansi {
            write!(out, "{DIM}{}{RESET}{DIM}:{RESET} ", meta.target())?;
        } else {
            write!(out, "{}: ", meta.target())?;
        }
    }
    let mut fields = Fields { out, ansi: style.ansi, empty: true, result: Ok(()) };
    event.record(&mut fields);
    fields.result?;
    out.push('\n');
    Ok(())
}

/// Writes the fields: the message as it is, then `name=value` with the
/// value's `Debug` (quoted strings; `%` fields are `Display`), separated
/// by spaces.
struct Fields<'a> {
    out: &'a mut String,
    ansi: bool,
    empty: bool,
    result: fmt::Result,
}

impl Fields<'_> {
    /// `s` in italics on a terminal.
    fn italic(&self, s: &'static str) -> Painted {
        Painted(if self.ansi { ITALIC } else { "" }, s)
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if let Some(source) = value.source() {
            let dim = Painted(if self.ansi { DIM } else { "" }, "=");
            let name = self.italic(field.name());
            let sources = self.italic(".sources");
            self.record_debug(
                field,
                &format_args!("{} {name}{sources}{dim}{}", Escaped(value), Sources(source)),
            );
        } else {
            self.record_debug(field, &format_args!("{}", Escaped(value)));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        // Fields of `log` records bridged by `tracing-log` (none here).
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        if !std::mem::replace(&mut self.empty, false) {
            self.out.push(' ');
        }
        self.result = if name == "message" {
            write!(self.out, "{:?}", Escaped(value))
        } else {
            let name = self.italic(name.strip_prefix("r#").unwrap_or(name));
            let eq = Painted(if self.ansi { DIM } else { "" }, "=");
            write!(self.out, "{name}{eq}{value:?}")
        };
    }
}

/// A text between an ANSI code and a reset (nothing around it without a
/// code).
struct Painted(&'static str, &'static str);

impl fmt::Display for Painted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "" => f.write_str(self.1),
            code => write!(f, "{code}{}{RESET}", self.1),
        }
    }
}

/// An error's sources, each as `Display`, as a `[a, b]` list.
struct Sources<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Sources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        let mut next = Some(self.0);
        while let Some(e) = next {
            list.entry(&format_args!("{}", Escaped(e)));
            next = e.source();
        }
        list.finish()
    }
}

/// A message or error text with the characters that could drive a
/// terminal (ESC, BEL, BS, FF, DEL, C1 controls) written as escapes, as
/// `tracing-subscriber` writes them.
struct Escaped<T>(T);

impl<T: fmt::Debug> fmt::Debug for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(EscapeWriter(f), "{:?}", self.0)
    }
}

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(EscapeWriter(f), "{}", self.0)
    }
}

struct EscapeWriter<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for EscapeWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '\x1b' | '\x07' | '\x08' | '\x0c' | '\x7f' => {
                    write!(self.0, "\\x{:02x}", c as u32)?
                }
                '\u{80}'..='\u{9f}' => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// A time as RFC 3339 in UTC with microseconds:
/// `2026-12-05T19:07:04.143673Z`.
struct Timestamp(SystemTime);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, nanos) = match self.0.duration_since(UNIX_EPOCH) {
            Ok(d) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => (-secs, 0),
                    n => (-secs - 1, 1_000_000_000 - n),
                }
            }
        };
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        if year > 9999 {
            write!(f, "+{year}")?;
        } else if year < 0 {
            write!(f, "{year:05}")?;
        } else {
            write!(f, "{year:04}")?;
        }
        write!(
            f,
            "-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            nanos / 1000
        )
    }
}

/// The proleptic Gregorian date of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A line written and the level its writer was made for.
    type Line = (Level, Vec<u8>);

    /// Collects the lines.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<Line>>>);

    struct CaptureLine(Capture, Level, Vec<u8>);

    impl std::io::Write for CaptureLine {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.2.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Drop for CaptureLine {
        fn drop(&mut self) {
            let line = std::mem::take(&mut self.2);
            self.0.0.lock().unwrap().push((self.1, line));
        }
    }

    impl MakeLogWriter for Capture {
        type Writer = CaptureLine;
        fn make_writer_for(&self, meta: &Metadata<'_>) -> CaptureLine {
            CaptureLine(self.clone(), *meta.level(), Vec::new())
        }
    }

    impl Capture {
        fn lines(&self) -> Vec<String> {
            let lines = self.0.lock().unwrap();
            lines.iter().map(|(_, l)| String::from_utf8(l.clone()).unwrap()).collect()
        }
    }

    const PLAIN: Style = Style { time: true, level: true, target: true, ansi: false };
    const BARE: Style = Style { time: false, level: false, target: false, ansi: false };

    /// Runs `f` with a logger of `style` at `filter`; the lines written.
    fn logged(style: Style, filter: &str, f: impl FnOnce()) -> Vec<String> {
        let out = Capture::default();
        let filter = Arc::new(RwLock::new(Filter::parse(filter).unwrap()));
        let logger = Logger { filter, style, writer: out.clone() };
        tracing::subscriber::with_default(logger, f);
        out.lines()
    }

    /// The line without its timestamp, checked for shape.
    fn untimed(line: &str) -> &str {
        let (ts, rest) = line.split_at(28);
        let shape: String = ts.chars().map(|c| if c.is_ascii_digit() { '0' } else { c }).collect();
        assert_eq!(shape, "0000-00-00T00:00:00.000000Z ", "{line:?}");
        rest
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot open")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_event_with_fields_is_one_line_as_tracing_subscriber_writes_it() {
        let lines = logged(PLAIN, "info", || {
            let path = std::path::Path::new("/tmp/x y");
            tracing::info!(
                target: "nut_driver::io::blocking",
                socket = %path.display(),
                ?path,
                name = "q\"",
                n = 5,
                ok = true,
                r#type = ?'c',
                "listening {}",
                1
            );
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(
            untimed(&lines[0]),
            " INFO nut_driver::io::blocking: listening 1 socket=/tmp/x y path=\"/tmp/x y\" \
             name=\"q\\\"\" n=5 ok=true type='c'\n"
        );
    }

    #[test]
    fn without_target_errors_list_their_sources() {
        let style = Style { target: false, ..PLAIN };
        let lines = logged(style, "warn", || {
            let e = Outer(std::io::Error::other("no such file"));
            tracing::error!(error = &e as &(dyn std::error::Error + 'static), "start failed");
            tracing::warn!(x = 1);
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            untimed(&lines[0]),
            "ERROR start failed error=cannot open error.sources=[no such file]\n"
        );
        assert_eq!(untimed(&lines[1]), " WARN x=1\n");
    }

    #[test]
    fn bare_lines_have_the_message_and_fields_only_and_the_level_picks_the_writer() {
        let out = Capture::default();
        let filter = Arc::new(RwLock::new(Filter::level(LevelFilter::DEBUG)));
        let logger = Logger { filter, style: BARE, writer: out.clone() };
        tracing::subscriber::with_default(logger, || {
            tracing::error!(ups = %"dummy", "communication lost");
            tracing::debug!("polling");
            tracing::trace!("not logged");
        });
        let got = out.0.lock().unwrap().clone();
        let want = [
            (Level::ERROR, b"communication lost ups=dummy\n".to_vec()),
            (Level::DEBUG, b"polling\n".to_vec()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn colours_on_a_terminal_are_tracing_subscriber_s() {
        let style = Style { ansi: true, ..PLAIN };
        let lines = logged(style, "info", || tracing::warn!(target: "t", n = 1, "m"));
        let line = lines[0].strip_prefix("\x1b[2m").unwrap();
        let (_, rest) = line.split_at(27);
        assert_eq!(
            rest,
            "\x1b[0m \x1b[33m WARN\x1b[0m \x1b[2mt\x1b[0m\x1b[2m:\x1b[0m m \
             \x1b[3mn\x1b[0m\x1b[2m=\x1b[0m1\n"
        );
    }

    #[test]
    fn terminal_controls_in_a_message_are_escaped() {
        let lines = logged(BARE, "info", || {
            tracing::info!(s = "\x1b", "a\x1b[1mb\x07\x08\x0c\x7f\u{85}\té");
        });
        assert_eq!(lines, ["a\\x1b[1mb\\x07\\x08\\x0c\\x7f\\u{85}\té s=\"\\u{1b}\"\n"]);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let at =
            |secs: u64, nanos: u32| Timestamp(UNIX_EPOCH + Duration::new(secs, nanos)).to_string();
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(1_796_497_624, 143_673_999), "2026-12-05T19:07:04.143673Z");
        assert_eq!(at(1_709_164_800, 0), "2024-02-29T00:00:00.000000Z");
        assert_eq!(at(951_868_799, 999_999_999), "2000-02-29T23:59:59.999999Z");
        assert_eq!(at(253_402_300_800, 0), "+10000-01-01T00:00:00.000000Z");
        let before = Timestamp(UNIX_EPOCH - Duration::from_millis(500)).to_string();
        assert_eq!(before, "1969-12-31T23:59:59.500000Z");
        let before = Timestamp(UNIX_EPOCH - Duration::from_secs(86_400)).to_string();
        assert_eq!(before, "1969-12-31T00:00:00.000000Z");
    }

    #[test]
    fn directives_pick_the_longest_target_prefix_then_the_default() {
        let f = Filter::parse("nut=info,nut_driver=trace,nut_driver::io=warn,error").unwrap();
        assert!(f.enabled("nut_driver::run", &Level::TRACE));
        assert!(!f.enabled("nut_driver::io::blocking", &Level::INFO));
        assert!(f.enabled("nut_driver::io::blocking", &Level::WARN));
        // A plain string prefix, as `Targets` has it.
        assert!(f.enabled("nut_drivers::usbhid", &Level::TRACE));
        assert!(f.enabled("nut_upsd", &Level::INFO));
        assert!(!f.enabled("nut_upsd", &Level::DEBUG));
        assert!(f.enabled("tokio", &Level::ERROR));
        assert!(!f.enabled("tokio", &Level::WARN));
        assert_eq!(f.max_level(), LevelFilter::TRACE);
    }

    #[test]
    fn later_directives_replace_earlier_ones_and_bare_targets_are_trace() {
        let f = Filter::parse("a=debug,a=warn,INFO,b").unwrap();
        assert!(!f.enabled("a", &Level::INFO));
        assert!(f.enabled("b::c", &Level::TRACE));
        assert!(f.enabled("c", &Level::INFO) && !f.enabled("c", &Level::DEBUG));
        // Without a default, other targets are off.
        let f = Filter::parse("a=3").unwrap();
        assert!(f.enabled("a", &Level::INFO) && !f.enabled("b", &Level::ERROR));
        assert_eq!(f.max_level(), LevelFilter::INFO);
        // An empty level is `error` (tracing's parse), `off` is off.
        let f = Filter::parse(",a=,b=off").unwrap();
        assert!(f.enabled("a", &Level::ERROR) && !f.enabled("a", &Level::WARN));
        assert!(!f.enabled("b", &Level::ERROR) && f.enabled("c", &Level::ERROR));
    }

    #[test]
    fn invalid_directives_make_the_whole_filter_invalid() {
        for bad in ["a=bogus", "a=b=c", "info,a=verbose", "a[{f}]=info", "a[span{x=1}]=info"] {
            assert_eq!(Filter::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_new_filter_applies_to_callsites_already_seen() {
        let out = Capture::default();
        let filter = Arc::new(RwLock::new(Filter::level(LevelFilter::INFO)));
        let logger = Logger { filter: Arc::clone(&filter), style: BARE, writer: out.clone() };
        let emit = |n: u32| {
            tracing::debug!(n, "debug");
            tracing::info!(n, "info");
        };
        tracing::subscriber::with_default(logger, || {
            emit(0);
            crate::set_filter(&filter, Filter::level(LevelFilter::DEBUG));
            emit(1);
            crate::set_filter(&filter, Filter::level(LevelFilter::WARN));
            emit(2);
            crate::set_filter(&filter, Filter::level(LevelFilter::INFO));
            emit(3);
        });
        assert_eq!(out.lines(), ["info n=0\n", "debug n=1\n", "info n=1\n", "info n=3\n"]);
    }

    #[test]
    fn spans_are_never_enabled_and_events_in_them_still_log() {
        let lines = logged(BARE, "trace", || {
            let span = tracing::info_span!("s", k = 1);
            assert!(span.is_disabled());
            let _in = span.enter();
            tracing::info!("inside");
        });
        assert_eq!(lines, ["inside\n"]);
    }
}
