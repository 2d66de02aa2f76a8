//! Fuzz target body for `upslog`'s format strings (`nut-clients`).

use nut_clients::upslog::format::{Context, INVALID, MAX_LINE, Piece, Template};
use nut_clients::upslog::strftime::{LocalTime, strftime};

/// The widest a single conversion can get (its field width is capped at
/// 1024) plus room for the longest fixed text.
const MAX_PER_BYTE: usize = 1024 + 64;

/// `[t0..t8][format]`: the first 8 bytes (if any) pick the instant, the
/// rest is a format string, parsed as `-f` and, separately, handed to
/// `strftime` as a `%TIME%` format.
///
/// Invariants: parsing never panics; the variables to fetch are distinct
/// and all dotted; a rendering is at most `MAX_LINE` bytes, does not depend
/// on the values of variables the format does not use, and a format
/// without `%` renders as itself; `%VAR%` pieces index into `vars()`;
/// `strftime` output is bounded by the format length and a format without
/// `%` is copied as is.
pub fn upslog_format(data: &[u8]) {
    let (instant, fmt) = data.split_at(data.len().min(8));
    let mut raw = [0u8; 8];
    raw[..instant.len()].copy_from_slice(instant);
    // Any instant, full range: the broken-down fields come from the
    // library's own calendar, then some are pushed out of range.
    let ts = i64::from_le_bytes(raw) >> 8;
    let mut now = LocalTime::utc(ts);
    if raw[0] & 1 == 1 {
        now.month = raw[1];
        now.weekday = raw[2];
        now.utc_offset = i32::from(i16::from_le_bytes([raw[3], raw[4]])) * 60;
    }
    now.abbreviation = "ABC".into();

    let t = Template::parse(fmt);
    let vars = t.vars();
    for (i, v) in vars.iter().enumerate() {
        assert!(v.contains('.'), "undotted variable {v:?}");
        assert!(!vars[..i].contains(v), "variable {v:?} fetched twice");
    }
    for p in t.pieces() {
        if let Piece::Var(i) = p {
            assert!(*i < vars.len(), "piece refers to a missing variable");
        }
    }
    let ctx = Context { host: "host", ups_host: "ups@host", pid: 1, now: &now };
    let some: Vec<Option<String>> = (0..vars.len()).map(|i| Some(format!("v{i}"))).collect();
    let line = t.render(&ctx, &some);
    assert!(line.len() <= MAX_LINE, "line of {} bytes", line.len());
    // Extra values past the used ones change nothing.
    let mut more = some.clone();
    more.push(Some("unused".into()));
    assert_eq!(t.render(&ctx, &more), line);
    let missing = t.render(&ctx, &[]);
    assert!(missing.len() <= MAX_LINE);
    if vars.is_empty() {
        assert_eq!(missing, line);
    }
    if !fmt.contains(&b'%') {
        assert_eq!(line, fmt[..fmt.len().min(MAX_LINE)], "format without % changed");
        let copy = strftime(fmt, &now);
        assert_eq!(copy, fmt, "strftime changed a format without %");
    }
    let lone_trailing =
        fmt.iter().filter(|&&b| b == b'%').count() == 1 && fmt.last() == Some(&b'%');
    if lone_trailing && fmt.len() + INVALID.len() <= MAX_LINE {
        assert!(line.ends_with(INVALID.as_bytes()), "a trailing % is INVALID");
    }
    let out = strftime(fmt, &now);
    assert!(out.len() <= fmt.len().saturating_mul(MAX_PER_BYTE), "strftime output too long");
}
