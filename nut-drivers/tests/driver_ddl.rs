//! Device dumps from the NUT Devices Dumps Library played by OUR
//! `dummy-ups` and by Debian's NUT 2.8.0 `dummy-ups`, both under the real
//! `upsd`: `upsc` must print the same thing for both.
//!
//! By default the committed sample in `tests/data/ddl/` is used. With
//! `NUT_RS_DDL_DIR=/path/to/ddl` every `.dev` file under that directory is
//! compared and a summary is printed; the test then fails only on
//! differences not explained by a documented deliberate difference
//! (`docs/COMPATIBILITY.md`, drivers section).

mod common;

use common::{OURS, Setup};
use nut_testkit::{peer, wait_until};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn dev_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            dev_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "dev") {
            out.push(p);
        }
    }
}

/// Whether a file has a `name:` line without a value: NUT 2.8.0 then
/// republishes the previous line's value (a stale buffer); we publish an
/// empty value (COMPATIBILITY.md D2).
fn has_empty_value(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).lines().any(|l| {
        let l = l.split('#').next().unwrap_or("").trim();
        l.ends_with(':') && !l.contains(' ')
    })
}

/// NUT's driver falls back to `synchronous: yes` when a non-blocking write
/// to `upsd` fails (a large dump filling the socket buffer); ours queues
/// instead (COMPATIBILITY.md D10).
fn only_synchronous_differs(ours: &str, theirs: &str) -> bool {
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("driver.parameter.synchronous:"))
            .map(String::from)
            .collect()
    };
    strip(ours) == strip(theirs)
}

/// Compares one batch of files; returns the names that differ, with the
/// two outputs.
fn compare(files: &[PathBuf]) -> Vec<(PathBuf, String, String)> {
    let mut conf = String::new();
    for i in 0..files.len() {
        conf.push_str(&format!(
            "[o{i}]\n  driver = dummy-ups\n  port = f{i}.dev\n[n{i}]\n  driver = dummy-ups\n  port = f{i}.dev\n"
        ));
    }
    let mut s = Setup::new(&conf);
    for (i, f) in files.iter().enumerate() {
        s.write(&format!("f{i}.dev"), &std::fs::read(f).unwrap());
    }
    for i in 0..files.len() {
        s.driver(Path::new(OURS), &format!("o{i}"));
        s.driver(&peer("dummy-ups"), &format!("n{i}"));
    }
    s.upsd();
    let mut diffs = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let theirs = s.upsc_ready(&format!("n{i}"));
        let ours = s.upsc_ready(&format!("o{i}"));
        // Debian's driver re-reads the file once after its first update;
        // give both a moment to settle before calling it a difference.
        let mut ours = ours;
        let mut theirs = theirs;
        if ours != theirs {
            wait_until(Duration::from_secs(5), Duration::from_millis(200), || {
                theirs = s.upsc(&[&s.target(&format!("n{i}"))]).1;
                ours = s.upsc(&[&s.target(&format!("o{i}"))]).1;
                ours == theirs
            });
        }
        if ours != theirs {
            diffs.push((f.clone(), ours, theirs));
        }
    }
    diffs
}

fn diff_lines(ours: &str, theirs: &str) -> String {
    let o: Vec<&str> = ours.lines().collect();
    let t: Vec<&str> = theirs.lines().collect();
    let mut s = String::new();
    for l in &t {
        if !o.contains(l) {
            s.push_str(&format!("  NUT : {l}\n"));
        }
    }
    for l in &o {
        if !t.contains(l) {
            s.push_str(&format!("  ours: {l}\n"));
        }
    }
    s
}

#[test]
fn ddl_dumps_give_the_same_upsc_output_as_nut() {
    let (dir, full) = match std::env::var_os("NUT_RS_DDL_DIR") {
        Some(d) => (PathBuf::from(d), true),
        None => (Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ddl"), false),
    };
    let mut files = Vec::new();
    dev_files(&dir, &mut files);
    assert!(files.len() >= 10, "no dumps in {}", dir.display());
    let mut diffs = Vec::new();
    for batch in files.chunks(if full { 25 } else { 20 }) {
        diffs.extend(compare(batch));
    }
    let (explained, unexplained): (Vec<_>, Vec<_>) = diffs.iter().partition(|(f, ours, theirs)| {
        has_empty_value(&std::fs::read(f).unwrap()) || only_synchronous_differs(ours, theirs)
    });
    eprintln!(
        "DDL comparison over {}: {} files, {} identical, {} differ only in deliberate ways \
         (COMPATIBILITY.md D2, D10), {} other differences",
        dir.display(),
        files.len(),
        files.len() - diffs.len(),
        explained.len(),
        unexplained.len()
    );
    for (f, ours, theirs) in diffs.iter() {
        eprintln!("--- {}\n{}", f.display(), diff_lines(ours, theirs));
    }
    assert!(unexplained.is_empty(), "{} dumps differ", unexplained.len());
}
