//! Replays every network transcript recorded from the real upsd 2.8.0
//! (`nut-proto/tests/transcripts/net-*.txt`) against the upsd core, with
//! the same UPS configuration and fake drivers fed from the recorded driver
//! dumps, and compares the replies byte for byte.
//!
//! The one deliberate difference is the tracking ids: ours are random, so
//! an expected `OK TRACKING <id>` matches any well-formed id, and the
//! recorded id is replaced by ours in the client's later commands.

mod upsd_support;

use nut_server::upsd::tracking::is_tracking_id;
use std::collections::HashMap;
use upsd_support::{World, read_transcript, transcript_dir};

/// State the recorded sessions found, left by the sessions recorded before
/// them (see `tools/record-transcripts.py`).
fn prelude(w: &mut World, file: &str) {
    let after_upsrw_set = file == "net-upsrw-set-wrong-password.txt"
        || file.starts_with("net-upscmd-")
        || file.starts_with("net-upsmon-")
        || file == "net-upsc-c-with-upsmon.txt"
        || file.starts_with("net-raw-");
    if after_upsrw_set {
        w.driver_says("dummy", "SETINFO ups.id \"newvalue\"\n");
    }
    if file == "net-raw-misc.txt" {
        w.driver_says("seq", "SETINFO ups.status \"OB DISCHRG\"\nSETINFO battery.charge \"80\"\n");
    }
    if file == "net-upsc-c-with-upsmon.txt" {
        // upsmon was logged in on another connection.
        let other = w.connect("127.0.0.1");
        let r = w.send_str(other, "USERNAME monprimary\nPASSWORD primarypass\nLOGIN dummy\n");
        assert_eq!(r, "OK\nOK\nOK\n");
    }
}

fn replay(file: &str) -> usize {
    let records = read_transcript(file);
    let mut w = World::transcripts();
    prelude(&mut w, file);
    let conn = w.connect("127.0.0.1");
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut checked = 0;
    let mut i = 0;
    while i < records.len() {
        let (dir, line) = &records[i];
        assert_eq!(*dir, 'C', "{file}: record {i} should be a command");
        let mut cmd = line.clone();
        for (theirs, ours) in &ids {
            cmd = cmd.replace(theirs, ours);
            cmd = cmd.replace(&theirs.to_ascii_lowercase(), &ours.to_ascii_lowercase());
        }
        let got = w.send_str(conn, &format!("{cmd}\n"));
        let mut expected = Vec::new();
        i += 1;
        while i < records.len() && records[i].0 == 'S' {
            expected.push(records[i].1.clone());
            i += 1;
        }
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got.len(), expected.len(), "{file}: {cmd}: got {got:?}, want {expected:?}");
        for (g, e) in got.iter().zip(&expected) {
            match (g.strip_prefix("OK TRACKING "), e.strip_prefix("OK TRACKING ")) {
                (Some(ours), Some(theirs)) => {
                    assert!(is_tracking_id(ours), "{file}: bad tracking id {ours}");
                    ids.insert(theirs.to_string(), ours.to_string());
                }
                _ => assert_eq!(g, e, "{file}: {cmd}"),
            }
            checked += 1;
        }
        if cmd == "LOGOUT" {
            assert!(w.closed.contains(&conn), "{file}: LOGOUT should close");
        }
    }
    checked
}

#[test]
fn every_network_transcript_replays_byte_for_byte() {
    let mut files: Vec<String> = std::fs::read_dir(transcript_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("net-") && n.ends_with(".txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{files:?}");
    let mut total = 0;
    for f in &files {
        total += replay(f);
    }
    assert!(total > 300, "only {total} reply lines checked");
}

#[test]
fn driver_side_matches_the_recording() {
    // What upsd sent to dummy-ups in net-raw-set-instcmd-dummy.txt, without
    // the PINGs (timing) and with our tracking ids.
    let mut w = World::transcripts();
    let conn = w.connect("127.0.0.1");
    w.driver_log.clear();
    let r = w.send_str(
        conn,
        "USERNAME admin\nPASSWORD adminpass\nSET VAR dummy ups.id \"plain\"\nINSTCMD dummy load.off\n\
         SET TRACKING ON\nINSTCMD dummy load.off 5\n",
    );
    let id = r.lines().last().unwrap().strip_prefix("OK TRACKING ").unwrap().to_string();
    let sent = &w.driver_log["dummy"];
    assert_eq!(
        sent,
        &[
            "SET ups.id \"plain\"".to_string(),
            "INSTCMD load.off".into(),
            format!("INSTCMD load.off 5 TRACKING {id}")
        ]
    );
    let expected: Vec<String> = read_transcript("sock-dummy-set-instcmd.txt")
        .into_iter()
        .filter(|(d, l)| *d == 'U' && l != "PING")
        .map(|(_, l)| l)
        .take(2)
        .collect();
    assert_eq!(&sent[..2], &expected[..]);
    let r = w.send_str(conn, &format!("GET TRACKING {}\n", id.to_ascii_lowercase()));
    assert_eq!(r, "ERR UNKNOWN\n");
}
