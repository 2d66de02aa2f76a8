//! Rendering a [`Report`] for people (text) and programs (JSON).

use crate::{Category, Outcome, Report, SUITE, Severity};
use std::fmt::Write;

/// Makes server bytes safe to print: control characters (C0, DEL, C1) as
/// `\xNN`, except LF, which separates the lines of a multi-line text.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\n' => out.push('\n'),
            // C0, DEL and C1 controls: a terminal could act on them.
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `label` then `value`, continuation lines aligned under the first.
fn field(out: &mut String, indent: usize, label: &str, value: &str) {
    let value = printable(value);
    let mut lines = value.split('\n');
    let first = lines.next().unwrap_or("");
    let _ = writeln!(out, "{:indent$}{label}{first}", "");
    let pad = indent + label.len();
    for l in lines {
        let _ = writeln!(out, "{:pad$}{l}", "");
    }
}

pub(crate) fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "nut-check {}: {}", env!("CARGO_PKG_VERSION"), printable(&r.target));
    if let Some(b) = &r.banner {
        let _ = writeln!(out, "server: {}", printable(b));
    }
    let width = SUITE.iter().map(|d| d.id.len()).max().unwrap_or(0);
    let detail = 2 + 4 + 2;
    for cat in Category::ALL {
        let rows: Vec<_> = r.results.iter().filter(|c| c.def.category == cat).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", cat.name());
        for c in rows {
            let sev = match (c.def.severity, &c.outcome) {
                (Severity::Required, _) | (_, Outcome::Pass) => String::new(),
                (s, _) => format!("  [{}]", s.name()),
            };
            let _ =
                writeln!(out, "  {}  {:width$}  {}{sev}", c.outcome.tag(), c.def.id, c.def.title);
            match &c.outcome {
                Outcome::Pass => {}
                Outcome::Fail { expected, got } => {
                    field(&mut out, detail, "expected: ", expected);
                    field(&mut out, detail, "got:      ", got);
                    field(&mut out, detail, "see:      ", c.def.reference);
                }
                Outcome::Skip { reason } => field(&mut out, detail, "", reason),
                Outcome::Info { text } => field(&mut out, detail, "", text),
            }
        }
    }
    let n = r.counts();
    let by = |s: Severity| {
        r.results
            .iter()
            .filter(|c| c.def.severity == s && matches!(c.outcome, Outcome::Fail { .. }))
            .count()
    };
    let _ = writeln!(
        out,
        "\nSummary: {} checks: {} passed, {} failed ({} required, {} recommended, {} quirk), \
         {} skipped, {} info",
        r.results.len(),
        n.pass,
        n.fail,
        by(Severity::Required),
        by(Severity::Recommended),
        by(Severity::Quirk),
        n.skip,
        n.info
    );
    if n.fail == 0 {
        let _ = writeln!(out, "Result: no difference from NUT 2.8 found");
    } else {
        let _ = writeln!(out, "Result: {} difference(s) from NUT 2.8", n.fail);
    }
    out
}

/// A JSON string literal.
fn js(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn kv(out: &mut String, key: &str, value: &str) {
    out.push_str(", ");
    js(out, key);
    out.push_str(": ");
    js(out, value);
}

pub(crate) fn json(r: &Report) -> String {
    let mut out = String::from("{\"target\": ");
    js(&mut out, &r.target);
    out.push_str(", \"banner\": ");
    match &r.banner {
        Some(b) => js(&mut out, b),
        None => out.push_str("null"),
    }
    let n = r.counts();
    let _ = write!(
        out,
        ",\n \"summary\": {{\"checks\": {}, \"pass\": {}, \"fail\": {}, \"skip\": {}, \"info\": {}, \
         \"compliant\": {}}},\n \"checks\": [",
        r.results.len(),
        n.pass,
        n.fail,
        n.skip,
        n.info,
        n.fail == 0
    );
    for (i, c) in r.results.iter().enumerate() {
        out.push_str(if i == 0 { "\n  {" } else { ",\n  {" });
        out.push_str("\"id\": ");
        js(&mut out, c.def.id);
        kv(&mut out, "category", c.def.category.name());
        kv(&mut out, "title", c.def.title);
        kv(&mut out, "reference", c.def.reference);
        kv(&mut out, "severity", c.def.severity.name());
        kv(&mut out, "outcome", &c.outcome.tag().to_ascii_lowercase());
        match &c.outcome {
            Outcome::Pass => {}
            Outcome::Fail { expected, got } => {
                kv(&mut out, "expected", expected);
                kv(&mut out, "got", got);
            }
            Outcome::Skip { reason } => kv(&mut out, "reason", reason),
            Outcome::Info { text } => kv(&mut out, "text", text),
        }
        out.push('}');
    }
    out.push_str("\n ]}\n");
    out
}
