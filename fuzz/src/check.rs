//! Body of the `check_report` target: `nut-check`'s reply validators and
//! report renderers over arbitrary server bytes.

use nut_check::{CheckResult, Outcome, Report, SUITE};

/// Whether `json` is made of well-formed JSON string literals (only valid
/// escapes, no raw control characters) with balanced braces and brackets
/// outside them, and ends outside any string.
fn json_shape_ok(json: &str) -> bool {
    let (mut in_str, mut esc, mut depth) = (false, false, 0i64);
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        if in_str {
            if esc {
                if c == 'u' {
                    let hex: String = chars.by_ref().take(4).collect();
                    if hex.len() != 4 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                        return false;
                    }
                } else if !"\"\\/bfnrt".contains(c) {
                    return false;
                }
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            } else if (c as u32) < 0x20 {
                return false;
            }
        } else {
            match c {
                '"' => in_str = true,
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return false;
            }
        }
    }
    !in_str && depth == 0
}

/// `data` is read as server reply lines (at most 64). The validators must
/// not panic; a request shown in a report is printable ASCII; a report
/// whose every field holds those bytes prints no control character but LF,
/// and its JSON is well formed.
pub fn check_report(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<String> = text.split('\n').take(64).map(str::to_string).collect();
    let found = nut_check::fuzzing::analyze(&lines);
    for l in &lines {
        let shown = nut_check::fuzzing::show(l.as_bytes());
        assert!(shown.bytes().all(|b| (0x20..0x7f).contains(&b)), "unprintable {shown:?}");
    }
    let mut results: Vec<CheckResult> = lines
        .iter()
        .zip(SUITE.iter().cycle())
        .map(|(l, def)| CheckResult { def, outcome: Outcome::fail(l.clone(), l.clone()) })
        .collect();
    for ((e, g), def) in found.into_iter().zip(SUITE.iter().cycle()).take(64) {
        results.push(CheckResult { def, outcome: Outcome::fail(e, g) });
        results.push(CheckResult { def, outcome: Outcome::skip(lines[0].clone()) });
    }
    let report = Report { target: lines[0].clone(), banner: lines.last().cloned(), results };
    let out = report.to_text();
    assert!(out.chars().all(|c| c == '\n' || !c.is_control()), "control character in {out:?}");
    let json = report.to_json();
    assert!(json_shape_ok(&json), "malformed JSON {json:?}");
}
