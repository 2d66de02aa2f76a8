//! Replays the transcripts recorded from the real NUT 2.8.0 (`tests/transcripts/`,
//! see its README) through the parsers and encoders: every line the real
//! programs sent parses, and encoding the parsed value gives the same bytes.

use nut_proto::net::{Command, CommandError, ErrCode, GetQuery, Reply};
use nut_proto::sock::{DriverMessage, ServerMessage};
use nut_proto::token;
use std::fs;
use std::path::PathBuf;

fn transcripts(prefix: &str) -> Vec<(String, Vec<(String, String)>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with(prefix) || !name.ends_with(".txt") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let lines = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (dir, rest) = l.split_at(3);
                assert!(dir.ends_with(": "), "{name}: bad line {l:?}");
                (dir[..1].to_string(), rest.to_string())
            })
            .collect();
        out.push((name, lines));
    }
    out.sort();
    assert!(out.len() >= 5, "expected recorded {prefix}* transcripts in {}", dir.display());
    out
}

/// The line as our encoder writes it, if it differs only in the spelling
/// NUT accepts (lowercase keywords, extra ignored words).
fn same_words_modulo_case(original: &str, encoded: &str) -> bool {
    let a = token::tokenize(original.as_bytes()).unwrap();
    let b = token::tokenize(encoded.as_bytes()).unwrap();
    b.len() <= a.len() && a.iter().zip(b.iter()).all(|(x, y)| x == y || x.eq_ignore_ascii_case(y))
}

#[test]
fn network_transcripts_replay() {
    let mut commands = 0;
    let mut replies = 0;
    for (file, lines) in transcripts("net-") {
        for (i, (dir, line)) in lines.iter().enumerate() {
            let what = format!("{file}: {dir}: {line}");
            match dir.as_str() {
                "C" => {
                    commands += 1;
                    // What upsd answered tells what our parser must say.
                    let answer =
                        lines[i + 1..].iter().find(|(d, _)| d == "S").map(|(_, l)| l.as_str());
                    match Command::parse(line.as_bytes()) {
                        Ok(cmd) => {
                            let tracking_query =
                                matches!(cmd, Command::Get(GetQuery::Tracking(Some(_))));
                            assert!(
                                tracking_query || answer != Some("ERR INVALID-ARGUMENT"),
                                "{what}: upsd rejected the arguments but we parsed {cmd:?}"
                            );
                            let encoded = String::from_utf8(cmd.to_line()).unwrap();
                            let encoded = encoded.trim_end_matches('\n');
                            assert!(
                                encoded == line || same_words_modulo_case(line, encoded),
                                "{what}: re-encoded as {encoded:?}"
                            );
                            assert_eq!(Command::parse(encoded.as_bytes()).unwrap(), cmd, "{what}");
                        }
                        Err(e) => {
                            let expected = answer.and_then(|a| a.strip_prefix("ERR "));
                            let code = e.err_code();
                            let credentials_first =
                                matches!(expected, Some("USERNAME-REQUIRED" | "PASSWORD-REQUIRED"));
                            assert!(
                                credentials_first || expected == Some(code.as_str()),
                                "{what}: we say {e} ({code}) but upsd answered {answer:?}"
                            );
                            if credentials_first {
                                assert!(
                                    matches!(e, CommandError::InvalidArgument { verb } if verb.needs_credentials()),
                                    "{what}"
                                );
                            }
                        }
                    }
                }
                "S" => {
                    replies += 1;
                    let reply =
                        Reply::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(
                        String::from_utf8(reply.to_line()).unwrap(),
                        format!("{line}\n"),
                        "{what}"
                    );
                    if let Reply::Err { code, .. } = &reply {
                        assert!(!matches!(code, ErrCode::Other(_)), "{what}: unknown ERR code");
                    }
                }
                other => panic!("{what}: unexpected direction {other}"),
            }
        }
    }
    assert!(commands > 100 && replies > 200, "only {commands} commands and {replies} replies");
}

#[test]
fn socket_transcripts_replay() {
    let mut seen = 0;
    let mut unescaped = 0;
    for (file, lines) in transcripts("sock-") {
        for (dir, line) in &lines {
            let what = format!("{file}: {dir}: {line}");
            seen += 1;
            let encoded = match dir.as_str() {
                "U" => ServerMessage::parse(line.as_bytes())
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                    .to_line(),
                "D" => {
                    let m = DriverMessage::parse(line.as_bytes())
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    let words = token::tokenize(line.as_bytes()).unwrap();
                    if matches!(m, DriverMessage::SetInfo { .. }) && words.len() > 3 {
                        // NUT 2.8's unescaped live update: kept as NUT keeps it.
                        unescaped += 1;
                        assert_eq!(
                            DriverMessage::parse(&m.to_line()[..m.to_line().len() - 1]).unwrap(),
                            m
                        );
                        continue;
                    }
                    m.to_line()
                }
                other => panic!("{what}: unexpected direction {other}"),
            };
            assert_eq!(String::from_utf8(encoded).unwrap(), format!("{line}\n"), "{what}");
        }
    }
    assert!(seen > 100, "only {seen} socket lines");
    assert!(unescaped <= 2, "{unescaped} unescaped live updates");
}
