//! Our `upsc`, `upscmd` and `upsrw` next to Debian's 2.8.0 tools, on the
//! same server (Debian's `upsd`, then ours): same stdout, same exit code,
//! same stderr except the line Debian's NSS build prints at start-up.

mod support;

use nut_testkit::{NutServer, free_port, peer};
use std::path::PathBuf;
use std::process::Command;
use support::{Which, start};

type Outcome = (Option<i32>, String, String);

fn run(bin: PathBuf, server: &NutServer, args: &[String]) -> Outcome {
    let mut cmd = Command::new(bin);
    cmd.args(args).stdin(std::process::Stdio::null());
    server.env(&mut cmd);
    let out = cmd.output().expect("run tool");
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| *l != "Init SSL without certificate database")
        .map(|l| format!("{l}\n"))
        .collect();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn ours(tool: &str) -> PathBuf {
    match tool {
        "upsc" => env!("CARGO_BIN_EXE_upsc").into(),
        "upscmd" => env!("CARGO_BIN_EXE_upscmd").into(),
        "upsrw" => env!("CARGO_BIN_EXE_upsrw").into(),
        _ => unreachable!(),
    }
}

/// `(tool, args, compare stderr)`; `{h}` is the server, `{dead}` a port
/// nobody listens on.
const CASES: &[(&str, &[&str], bool)] = &[
    ("upsc", &["dummy@{h}"], true),
    ("upsc", &["other@{h}"], true),
    ("upsc", &["dummy@{h}", "ups.status"], true),
    ("upsc", &["dummy@{h}", "ups.id"], true),
    ("upsc", &["dummy@{h}", "nonexistent.var"], true),
    ("upsc", &["dummy@{h}", "oldstyle"], true),
    ("upsc", &["nosuchups@{h}"], true),
    ("upsc", &["nosuchups@{h}", "ups.status"], true),
    ("upsc", &["-l", "{h}"], true),
    ("upsc", &["-L", "{h}"], true),
    ("upsc", &["-c", "dummy@{h}"], true),
    ("upsc", &["-c", "nosuchups@{h}"], true),
    ("upsc", &["dummy@{dead}"], true),
    ("upsc", &["-l", "{dead}"], true),
    // NUT's client library prints an extra diagnostic line before the
    // error for these: compare stdout and the exit code only.
    ("upsc", &[], false),
    ("upsc", &["-l", "127.0.0.1:0"], false),
    ("upsc", &["dummy@127.0.0.1:"], false),
    ("upsrw", &["dummy@{h}"], true),
    ("upsrw", &["-l", "other@{h}"], true),
    ("upsrw", &["nosuchups@{h}"], true),
    ("upsrw", &["dummy@{dead}"], true),
    ("upsrw", &["-s", "ups.id=other", "-u", "admin", "-p", "wrong", "dummy@{h}"], true),
    ("upsrw", &["-s", "ups.status=x", "-u", "monprimary", "-p", "primarypass", "dummy@{h}"], true),
    (
        "upsrw",
        &["-s", "ups.id=12345678901234567890", "-u", "admin", "-p", "adminpass", "dummy@{h}"],
        true,
    ),
    ("upsrw", &["-s", "nope=1", "-u", "admin", "-p", "adminpass", "dummy@{h}"], true),
    ("upsrw", &["-s", "ups.id=newvalue", "-u", "admin", "-p", "adminpass", "dummy@{h}"], true),
    ("upsrw", &["-w", "-s", "ups.id=tracked", "-u", "admin", "-p", "adminpass", "dummy@{h}"], true),
    ("upsrw", &["-s", "ups.id=x", "-u", "admin", "-p", "adminpass", "nosuchups@{h}"], true),
    ("upscmd", &["-l", "dummy@{h}"], true),
    ("upscmd", &["-l", "nosuchups@{h}"], true),
    ("upscmd", &["-l", "dummy@{dead}"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "nonexistent.cmd"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "oldstyle"], true),
    ("upscmd", &["-u", "admin", "-p", "wrong", "dummy@{h}", "load.off"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "load.off"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "load.off", "5"], true),
    ("upscmd", &["-w", "-u", "admin", "-p", "adminpass", "dummy@{h}", "load.off"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "nosuchups@{h}", "load.off"], true),
];

fn compare(which: Which) {
    let server = start(which);
    let dead = format!("127.0.0.1:{}", free_port());
    for (tool, args, with_stderr) in CASES {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{h}", &server.host()).replace("{dead}", &dead))
            .collect();
        let a = run(ours(tool), &server, &args);
        let b = run(peer(tool), &server, &args);
        let what = format!("{tool} {args:?} on {which:?} upsd: ours (left) vs Debian's (right)");
        assert_eq!((a.0, &a.1), (b.0, &b.1), "{what}");
        if *with_stderr {
            assert_eq!(a.2, b.2, "stderr of {what}");
        } else {
            assert_eq!(a.2.lines().last(), b.2.lines().last(), "stderr of {what}");
        }
    }
}

#[test]
fn tools_match_debian_on_debian_upsd() {
    compare(Which::Debian);
}

#[test]
fn tools_match_debian_on_our_upsd() {
    compare(Which::Ours);
}

#[test]
fn usage_and_exit_status() {
    // The usage texts are our own words; the exit status is NUT's.
    let server = start(Which::Debian);
    let h = server.host();
    for (tool, args) in [
        ("upscmd", vec![format!("dummy@{h}")]),
        ("upscmd", vec![]),
        ("upsrw", vec![]),
        ("upsc", vec!["-h".to_string()]),
        ("upsc", vec!["-x".to_string()]),
    ] {
        let a = run(ours(tool), &server, &args);
        let b = run(peer(tool), &server, &args);
        assert_eq!(a.0, b.0, "{tool} {args:?}");
        assert!(a.1.contains(&format!("usage: {tool}")), "{tool} {args:?}: {}", a.1);
        let strip = |s: &str, bin: PathBuf| s.replace(&*bin.to_string_lossy(), "<prog>");
        assert_eq!(strip(&a.2, ours(tool)), strip(&b.2, peer(tool)), "{tool} {args:?}");
    }
}

#[test]
fn upsc_json() {
    let server = start(Which::Debian);
    let h = server.host();
    let dead = format!("127.0.0.1:{}", free_port());
    let j = |args: &[&str]| {
        let args: Vec<String> =
            args.iter().map(|a| a.replace("{h}", &h).replace("{dead}", &dead)).collect();
        run(ours("upsc"), &server, &args)
    };
    assert_eq!(j(&["-j", "-l", "{h}"]).1, "[\n  \"dummy\",\n  \"other\"\n]\n");
    assert_eq!(
        j(&["-j", "-L", "{h}"]).1,
        "{\n  \"dummy\": \"Test \\\"quoted\\\" # box\",\n  \"other\": \"Description unavailable\"\n}\n"
    );
    assert_eq!(j(&["-j", "dummy@{h}", "ups.id"]).1, "\"Quote\\\"Corpx\"\n");
    assert_eq!(j(&["-j", "-c", "dummy@{h}"]).1, "[\n\n]\n");
    let vars = j(&["-j", "other@{h}"]);
    assert_eq!(vars.0, Some(0));
    assert!(vars.1.starts_with("{\n  \"battery.charge\": \"50\",\n"), "{}", vars.1);
    assert!(vars.1.ends_with("  \"ups.status\": \"OB DISCHRG\"\n}\n"), "{}", vars.1);
    let e = j(&["-j", "nosuchups@{h}"]);
    assert_eq!(
        (e.0, e.1.as_str(), e.2.as_str()),
        (Some(1), "{\n  \"error\": \"Unknown UPS\"\n}\n", "Error: Unknown UPS\n")
    );
    let e = j(&["-j", "dummy@{h}", "nope.var"]);
    assert_eq!(e.1, "{\"error\": \"Variable not supported by UPS\"}\n");
    let e = j(&["-j", "dummy@{dead}"]);
    assert_eq!(e.1, "{\"error\": \"Connection failure: Connection refused\"}\n");
}
