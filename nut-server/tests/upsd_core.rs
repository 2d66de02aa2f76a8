//! The upsd core on a fake clock: timers, driver links, bad input from
//! clients and drivers, access control, reload.

mod upsd_support;

use nut_server::upsd::{
    Descriptions, Event, Notice, Options, Server, TlsMode, UpsConf, UpsEntry, Users,
};
use std::collections::HashMap;
use std::time::Duration;
use upsd_support::{FakeDriver, USERS, World, transcript_options};

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn bad_client_lines_get_answers_and_the_session_goes_on() {
    let mut w = World::transcripts();
    let c = w.connect("127.0.0.1");
    // Overlong line: one error, then the next line works.
    let mut long = vec![b'A'; 10_000];
    long.extend_from_slice(b"\nVER\n");
    let r = w.send(c, &long);
    assert!(r.starts_with(b"ERR INVALID-ARGUMENT\nNetwork UPS Tools upsd 2.8.0"), "{r:?}");
    // Control, NUL and high bytes are dropped as NUT does; invalid UTF-8 too.
    assert_eq!(
        w.send_str(c, "GET VAR dummy ups.st\x01atus\nGET VAR dummy ups.status\0\n"),
        "VAR dummy ups.status \"OL\"\nVAR dummy ups.status \"OL\"\n"
    );
    let r = w.send(c, b"GET VAR dummy ups.st\xff\xfeatus\nGET VAR \xc3\xa9 ups.status\n");
    assert_eq!(r, b"VAR dummy ups.status \"OL\"\nERR UNKNOWN-UPS\n");
    // Multi-byte characters where `server.` would end (byte 7).
    assert_eq!(
        w.send_str(c, "GET VAR dummy \u{e9}\u{e9}\u{e9}\u{e9}\n"),
        "ERR VAR-NOT-SUPPORTED\n"
    );
    assert_eq!(
        w.send_str(c, "GET VAR dummy SERVER.version\nGET VAR dummy UPS.STATUS\n"),
        "VAR dummy server.version \"2.8.0\"\nVAR dummy UPS.STATUS \"OL\"\n"
    );
    // `#` inside quotes: an error reply (NUT sends none), next line fine.
    assert_eq!(
        w.send_str(c, "GET VAR dummy \"ups#status\"\nNETVER\n"),
        "ERR INVALID-ARGUMENT\n1.3\n"
    );
    // More than 32 words, a word over 512 characters.
    let many = format!("GET VAR dummy ups.status {}\n", "x ".repeat(40));
    assert_eq!(w.send_str(c, &many), "ERR INVALID-ARGUMENT\n");
    let word = format!("GET VAR dummy {}\n", "v".repeat(600));
    assert_eq!(w.send_str(c, &word), "ERR INVALID-ARGUMENT\n");
    // A byte at a time gives the same answers.
    let mut got = Vec::new();
    for b in b"GET VAR dummy ups.status\nLIST CMD dummy\n" {
        got.extend(w.send(c, &[*b]));
    }
    assert_eq!(
        String::from_utf8(got).unwrap(),
        "VAR dummy ups.status \"OL\"\nBEGIN LIST CMD dummy\nCMD dummy load.off\nEND LIST CMD dummy\n"
    );
    // An unbalanced quote swallows the following lines (LF inside quotes
    // does not end a line, as in NUT) until it is closed.
    assert_eq!(w.send_str(c, "GET VAR \"dummy\nVER\n"), "");
    assert_eq!(w.send_str(c, " ups.status\"\n"), "ERR INVALID-ARGUMENT\n");
    assert!(w.closed.is_empty());
}

#[test]
fn unclosed_quote_stays_bounded_and_idles_out() {
    let mut w = World::transcripts();
    let c = w.connect("127.0.0.1");
    assert_eq!(w.send_str(c, "GET VAR \""), "");
    let chunk = vec![b'x'; 4096];
    let mut errors = 0;
    for _ in 0..100 {
        w.advance(s(1));
        errors += w.send_str(c, std::str::from_utf8(&chunk).unwrap()).matches("ERR").count();
    }
    // Reported once, then discarded; no complete line means no activity.
    assert_eq!(errors, 1);
    assert!(w.closed.contains(&c), "idle client not closed");
}

#[test]
fn idle_clients_are_dropped_after_60_s_and_partial_lines_do_not_count() {
    let mut w = World::transcripts();
    let a = w.connect("127.0.0.1");
    let b = w.connect("::1");
    w.advance(s(30));
    w.send_str(a, "VER\n");
    w.send_str(b, "VE");
    w.advance(s(30));
    assert_eq!(w.closed, vec![b]);
    assert!(w.events.iter().any(|e| matches!(e, Event::Notice(Notice::IdleTimeout { .. }))));
    w.advance(s(30));
    assert_eq!(w.closed, vec![b, a]);
    assert_eq!(w.server.client_count(), 0);
}

#[test]
fn maxconn_refuses_and_reports_once() {
    let opts = Options { maxconn: 3, ..transcript_options() };
    let mut w = World::new(opts, upsd_support::UPS_CONF, USERS, HashMap::new());
    let conns: Vec<_> = (0..3).map(|_| w.connect("127.0.0.1")).collect();
    for _ in 0..5 {
        assert!(w.server.client_connected("127.0.0.1", w.now).is_err());
    }
    w.pump();
    let reports = w
        .events
        .iter()
        .filter(|e| matches!(e, Event::Notice(Notice::MaxConnReached { .. })))
        .count();
    assert_eq!(reports, 1);
    w.server.client_closed(conns[0]);
    assert!(w.server.client_connected("127.0.0.1", w.now).is_ok());
}

#[test]
fn logout_closes_unless_a_command_follows_in_the_same_read() {
    let mut w = World::transcripts();
    let c = w.connect("127.0.0.1");
    assert_eq!(w.send_str(c, "LOGOUT\nNETVER\n"), "OK Goodbye\n1.3\n");
    assert!(w.closed.is_empty());
    assert_eq!(w.send_str(c, "LOGOUT\n"), "OK Goodbye\n");
    assert_eq!(w.closed, vec![c]);
    // Input after the close is ignored.
    assert_eq!(w.send_str(c, "VER\n"), "");
}

#[test]
fn wait_before_the_first_dump_then_data() {
    let mut drivers = HashMap::new();
    drivers.insert(
        "dummy".to_string(),
        FakeDriver { dump: vec![], raw_setinfo: false, instcmd_status: 0, pong: false },
    );
    let mut w = World::new(transcript_options(), upsd_support::UPS_CONF, USERS, drivers);
    let c = w.connect("127.0.0.1");
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"WAIT\"\n");
    assert_eq!(w.driver_log["dummy"], ["DUMPALL"]);
    // The driver vanishes mid-dump.
    w.driver_says("dummy", "SETINFO ups.status \"OL\"\nSETINFO battery.charge \"5");
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"OL\"\n");
    w.server.driver_closed("dummy", w.now);
    w.pump();
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "ERR DRIVER-NOT-CONNECTED\n");
    assert!(w.server.ups_state("dummy").unwrap().var_count() == 0);
    // Reconnected on the next pass: WAIT again, a fresh DUMPALL.
    w.advance(s(1));
    assert_eq!(w.driver_log["dummy"], ["DUMPALL", "DUMPALL"]);
    w.driver_says("dummy", "SETINFO ups.status \"OB\"\nDATAOK\nDUMPDONE\n");
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"OB\"\n");
}

#[test]
fn staleness_ping_and_recovery() {
    // MAXAGE 6: PING after 2 s of silence, stale after 6 s.
    let mut drivers = HashMap::new();
    drivers.insert(
        "dummy".to_string(),
        FakeDriver {
            dump: vec!["SETINFO ups.status \"OL\"".into(), "DATAOK".into(), "DUMPDONE".into()],
            raw_setinfo: false,
            instcmd_status: 0,
            pong: false,
        },
    );
    let mut w = World::new(transcript_options(), upsd_support::UPS_CONF, USERS, drivers);
    let c = w.connect("127.0.0.1");
    let deadline = w.server.poll_timeout().unwrap();
    assert!(deadline <= w.now + s(2));
    w.advance(s(2));
    assert_eq!(w.driver_log["dummy"], ["DUMPALL", "PING"]);
    w.advance(s(1));
    assert_eq!(w.driver_log["dummy"], ["DUMPALL", "PING"], "one PING per MAXAGE/3");
    w.advance(s(1));
    assert_eq!(w.driver_log["dummy"].len(), 3);
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"OL\"\n");
    w.advance(s(2));
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "ERR DATA-STALE\n");
    assert!(w.events.iter().any(|e| matches!(e, Event::Notice(Notice::DataStale { .. }))));
    // Garbage does not count as hearing from the driver.
    w.driver_says("dummy", "GARBAGE here\n\x00\x01\x7f\nSETINFO\n");
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "ERR DATA-STALE\n");
    w.driver_says("dummy", "PONG\n");
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"OL\"\n");
    // The driver says its data is stale.
    w.driver_says("dummy", "DATASTALE\n");
    assert_eq!(w.send_str(c, "LIST VAR dummy\n"), "ERR DATA-STALE\n");
    assert_eq!(
        w.send_str(c, "GET UPSDESC dummy\n"),
        "UPSDESC dummy \"Test \\\"quoted\\\" \\# box\"\n"
    );
    w.driver_says("dummy", "DATAOK\n");
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"OL\"\n");
}

#[test]
fn driver_garbage_is_reported_rarely_and_memory_stays_bounded() {
    let mut w = World::transcripts();
    for _ in 0..1000 {
        w.driver_says("dummy", "NOT A MESSAGE\nADDENUM nope \"x\"\n");
    }
    let long = "SETINFO x \"".to_string() + &"y".repeat(100_000);
    w.driver_says("dummy", &long);
    w.driver_says("dummy", "\"\nSETINFO ups.status \"OB\"\n");
    let reports = w
        .events
        .iter()
        .filter(|e| matches!(e, Event::Notice(Notice::BadDriverLine { .. })))
        .count();
    assert_eq!(reports, 1);
    let c = w.connect("127.0.0.1");
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"OB\"\n");
    assert_eq!(w.send_str(c, "GET VAR dummy x\n"), "ERR VAR-NOT-SUPPORTED\n");
}

#[test]
fn connect_failures_are_retried_every_2_s_and_reported_every_300_s() {
    let mut w = World::transcripts();
    let count = |w: &World| {
        w.events
            .iter()
            .filter(|e| matches!(e, Event::Notice(Notice::DriverConnectFailed { .. })))
            .count()
    };
    let attempts = |w: &World| {
        w.events
            .iter()
            .filter(|e| matches!(e, Event::ConnectDriver { ups, .. } if ups == "nodriver"))
            .count()
    };
    assert_eq!((count(&w), attempts(&w)), (1, 1));
    for _ in 0..149 {
        w.advance(s(2));
    }
    assert_eq!((count(&w), attempts(&w)), (1, 150));
    w.advance(s(2));
    assert_eq!(count(&w), 2);
}

#[test]
fn tracking_results_expire_after_trackingdelay() {
    let opts = Options { tracking_delay: s(10), ..transcript_options() };
    let mut drivers = HashMap::new();
    drivers.insert(
        "fake".to_string(),
        FakeDriver {
            dump: upsd_support::dump_from("sock-fake-driver.txt"),
            raw_setinfo: false,
            instcmd_status: 3,
            pong: true,
        },
    );
    let mut w = World::new(opts, upsd_support::UPS_CONF, USERS, drivers);
    let c = w.connect("127.0.0.1");
    let r = w.send_str(
        c,
        "USERNAME admin\nPASSWORD adminpass\nSET TRACKING ON\nINSTCMD fake load.off\n",
    );
    let id = r.lines().last().unwrap().strip_prefix("OK TRACKING ").unwrap().to_string();
    assert_eq!(w.send_str(c, &format!("GET TRACKING {id}\n")), "ERR FAILED\n");
    // The same user may ask from another connection; another user, or a
    // client without valid credentials, gets the unknown-id answer (NUT's
    // ids are global; COMPATIBILITY.md).
    let d = w.connect("127.0.0.1");
    w.send_str(d, "USERNAME admin\nPASSWORD adminpass\nSET TRACKING ON\n");
    assert_eq!(w.send_str(d, &format!("GET TRACKING {id}\n")), "ERR FAILED\n");
    for (user, pass) in [("x", "y"), ("monprimary", "primarypass"), ("admin", "wrong")] {
        let e = w.connect("127.0.0.1");
        w.send_str(e, &format!("USERNAME {user}\nPASSWORD {pass}\nSET TRACKING ON\n"));
        assert_eq!(w.send_str(e, &format!("GET TRACKING {id}\n")), "ERR UNKNOWN\n", "{user}");
    }
    w.advance(s(9));
    assert_eq!(w.send_str(c, &format!("GET TRACKING {id}\n")), "ERR FAILED\n");
    w.advance(s(1));
    assert_eq!(w.send_str(c, &format!("GET TRACKING {id}\n")), "ERR UNKNOWN\n");
}

#[test]
fn require_auth_for_reads() {
    let opts = Options { require_auth_for_reads: true, ..transcript_options() };
    let mut w = World::new(opts, upsd_support::UPS_CONF, USERS, HashMap::new());
    let c = w.connect("127.0.0.1");
    assert_eq!(
        w.send_str(c, "LIST UPS\nGET VAR x server.info\nVER\n"),
        "ERR USERNAME-REQUIRED\nERR USERNAME-REQUIRED\nNetwork UPS Tools upsd 2.8.0 - http://www.networkupstools.org/\n"
    );
    assert_eq!(w.send_str(c, "USERNAME admin\nLIST UPS\n"), "OK\nERR PASSWORD-REQUIRED\n");
    assert_eq!(w.send_str(c, "PASSWORD nope\nGET UPSDESC seq\n"), "OK\nERR ACCESS-DENIED\n");
    let d = w.connect("127.0.0.1");
    assert_eq!(
        w.send_str(d, "USERNAME monsecondary\nPASSWORD secondarypass\nGET UPSDESC seq\n"),
        "OK\nOK\nUPSDESC seq \"Unavailable\"\n"
    );
}

#[test]
fn starttls_hands_over_to_the_adapter() {
    let opts = Options { tls: TlsMode::Available, ..transcript_options() };
    let mut w = World::new(opts, upsd_support::UPS_CONF, USERS, HashMap::new());
    let c = w.connect("127.0.0.1");
    // Bytes after STARTTLS in the same read are TLS, not commands.
    assert_eq!(w.send_str(c, "STARTTLS\nVER\n"), "OK STARTTLS\n");
    assert!(w.events.contains(&Event::StartTls(c)));
    assert_eq!(w.send_str(c, "VER\n"), "", "input is ignored until the handshake is done");
    w.server.tls_established(c);
    assert_eq!(w.send_str(c, "STARTTLS\nNETVER\n"), "ERR ALREADY-SSL-MODE\n1.3\n");
    let opts = Options { tls: TlsMode::Unsupported, ..transcript_options() };
    let mut w = World::new(opts, upsd_support::UPS_CONF, USERS, HashMap::new());
    let c = w.connect("127.0.0.1");
    assert_eq!(w.send_str(c, "STARTTLS\n"), "ERR FEATURE-NOT-SUPPORTED\n");
}

#[test]
fn rfc9271_names_and_fsd_latch() {
    let mut w = World::transcripts();
    let c = w.connect("127.0.0.1");
    assert_eq!(
        w.send_str(
            c,
            "USERNAME monprimary\nPASSWORD primarypass\nATTACH dummy\nGET NUMATTACH dummy\nFSD dummy\n"
        ),
        "OK\nOK\nOK\nNUMATTACH dummy 1\nOK FSD-SET\n"
    );
    // The latch survives a driver reconnect.
    w.server.driver_closed("dummy", w.now);
    w.advance(s(1));
    assert_eq!(w.send_str(c, "GET VAR dummy ups.status\n"), "VAR dummy ups.status \"FSD OL\"\n");
    assert_eq!(w.send_str(c, "DETACH\n"), "OK Goodbye\n");
    assert_eq!(w.closed, vec![c]);
}

#[test]
fn reload_adds_removes_and_keeps() {
    let mut w = World::transcripts();
    let c = w.connect("127.0.0.1");
    let d = w.connect("127.0.0.1");
    w.send_str(c, "USERNAME monprimary\nPASSWORD primarypass\nLOGIN fake\n");
    w.send_str(d, "USERNAME monprimary\nPASSWORD primarypass\nLOGIN dummy\n");
    let conf = "[dummy]\n driver = dummy-ups\n port = dummy.dev\n desc = \"new desc\"\n\
        [newups]\n driver = dummy-ups\n port = x\n";
    let ups = UpsConf::parse("ups.conf", conf.as_bytes()).value.ups;
    let users = Users::parse("upsd.users", b"[admin]\n password = changed\n actions = SET\n").value;
    w.server.reconfigure(transcript_options(), ups, users, Descriptions::new(), w.now);
    w.pump();
    // The client logged into the removed UPS is closed, the other stays.
    assert_eq!(w.closed, vec![c]);
    assert!(w.events.iter().any(|e| matches!(e, Event::DisconnectDriver { ups } if ups == "fake")));
    assert_eq!(
        w.send_str(d, "LIST UPS\nGET VAR dummy ups.status\nGET DESC dummy ups.status\n"),
        "BEGIN LIST UPS\nUPS dummy \"new desc\"\nUPS newups \"Description unavailable\"\nEND LIST UPS\n\
         VAR dummy ups.status \"OL\"\nDESC dummy ups.status \"Description unavailable\"\n"
    );
    // New users apply at once.
    let e = w.connect("127.0.0.1");
    assert_eq!(
        w.send_str(e, "USERNAME admin\nPASSWORD changed\nSET VAR dummy ups.id x\n"),
        "OK\nOK\nOK\n"
    );
}

#[test]
fn no_timeout_is_in_the_past_after_handling_it() {
    // poll_timeout never asks for a busy loop.
    let now = std::time::Instant::now();
    let mut server = Server::new(
        Options { maxage: s(1), ..Options::default() },
        vec![UpsEntry::new("u", "d", "p", None)],
        Users::new(),
        Descriptions::new(),
        now,
    );
    let mut t = now;
    for _ in 0..100 {
        server.handle_timeout(t);
        while let Some(e) = server.poll_event() {
            if let Event::ConnectDriver { ups, .. } = e {
                server.driver_connected(&ups, t);
            }
        }
        while server.poll_transmit().is_some() {}
        let next = server.poll_timeout().unwrap();
        assert!(next > t, "timeout {next:?} not after {t:?}");
        t = next;
    }
}

#[test]
fn one_users_tracking_flood_neither_evicts_nor_reads_anothers_results() {
    let users = format!("{USERS}[mallory]\n password = m\n actions = SET\n instcmds = ALL\n");
    let mut drivers = HashMap::new();
    drivers.insert(
        "fake".to_string(),
        FakeDriver {
            dump: upsd_support::dump_from("sock-fake-driver.txt"),
            raw_setinfo: false,
            instcmd_status: 0,
            pong: true,
        },
    );
    let mut w = World::new(transcript_options(), upsd_support::UPS_CONF, &users, drivers);
    let a = w.connect("127.0.0.1");
    let r = w.send_str(
        a,
        "USERNAME admin\nPASSWORD adminpass\nSET TRACKING ON\nINSTCMD fake load.off\n",
    );
    let id = r.lines().last().unwrap().strip_prefix("OK TRACKING ").unwrap().to_string();
    assert_eq!(w.send_str(a, &format!("GET TRACKING {id}\n")), "SUCCESS\n");
    let m = w.connect("127.0.0.2");
    w.send_str(m, "USERNAME mallory\nPASSWORD m\nSET TRACKING ON\n");
    // Mallory cannot read admin's result, whatever the case of the id.
    for asked in [id.clone(), id.to_ascii_lowercase()] {
        assert_eq!(w.send_str(m, &format!("GET TRACKING {asked}\n")), "ERR UNKNOWN\n");
    }
    let flood = "INSTCMD fake load.off\n".repeat(500);
    let mut mine = Vec::new();
    for _ in 0..(nut_server::upsd::tracking::MAX_TRACKED / 500 + 1) {
        let r = w.send_str(m, &flood);
        mine.extend(r.lines().filter_map(|l| l.strip_prefix("OK TRACKING ")).map(str::to_string));
    }
    assert!(mine.len() > nut_server::upsd::tracking::MAX_TRACKED, "{}", mine.len());
    assert_eq!(w.send_str(a, &format!("GET TRACKING {id}\n")), "SUCCESS\n");
    // Mallory's newest results are kept, the oldest of hers dropped.
    let last = mine.last().unwrap();
    assert_eq!(w.send_str(m, &format!("GET TRACKING {last}\n")), "SUCCESS\n");
    assert_eq!(w.send_str(m, &format!("GET TRACKING {}\n", mine[0])), "ERR UNKNOWN\n");
    assert_eq!(w.send_str(a, &format!("GET TRACKING {last}\n")), "ERR UNKNOWN\n");
}

#[test]
fn require_tls_for_auth_refuses_credentials_before_starttls_except_locally() {
    let opts =
        Options { tls: TlsMode::Available, require_tls_for_auth: true, ..transcript_options() };
    let mut w = World::new(opts, upsd_support::UPS_CONF, USERS, HashMap::new());
    // Plaintext TCP: no credentials, no privileged command; reads still work.
    let c = w.connect("192.0.2.1");
    assert_eq!(
        w.send_str(
            c,
            "USERNAME admin\nPASSWORD adminpass\nLOGIN seq\nPRIMARY seq\nMASTER seq\nFSD seq\n\
             SET VAR seq ups.id x\nINSTCMD seq load.off\nSET TRACKING ON\nGET UPSDESC seq\n"
        ),
        // SET TRACKING needs credentials in NUT too.
        "ERR ACCESS-DENIED\n".repeat(8) + "ERR USERNAME-REQUIRED\nUPSDESC seq \"Unavailable\"\n"
    );
    // After STARTTLS the same session may log in.
    assert_eq!(w.send_str(c, "STARTTLS\n"), "OK STARTTLS\n");
    w.server.tls_established(c);
    assert_eq!(
        w.send_str(c, "USERNAME monprimary\nPASSWORD primarypass\nLOGIN seq\n"),
        "OK\nOK\nOK\n"
    );
    // A Unix-socket client is local: no TLS needed.
    let u = w.server.client_connected_local("unix", w.now).unwrap();
    assert_eq!(
        w.send_str(u, "USERNAME monprimary\nPASSWORD primarypass\nLOGIN seq\n"),
        "OK\nOK\nOK\n"
    );
    // Off (the default): plaintext logins work as in NUT.
    let mut w = World::new(
        Options { tls: TlsMode::Available, ..transcript_options() },
        upsd_support::UPS_CONF,
        USERS,
        HashMap::new(),
    );
    let c = w.connect("192.0.2.1");
    assert_eq!(
        w.send_str(c, "USERNAME monprimary\nPASSWORD primarypass\nLOGIN seq\n"),
        "OK\nOK\nOK\n"
    );
}

/// One failed guess per connection (PASSWORD can be given once), as a
/// guesser must do.
fn guess(w: &mut World, addr: &str, pass: &str) -> (nut_server::upsd::ConnId, String) {
    let c = w.connect(addr);
    let r = w.send_str(c, &format!("USERNAME admin\nPASSWORD {pass}\nLOGIN seq\n"));
    (c, r)
}

fn auth_notices(w: &World) -> Vec<String> {
    w.events
        .iter()
        .filter_map(|e| match e {
            Event::Notice(
                n @ (Notice::AuthFailed { .. } | Notice::AuthFailuresSuppressed { .. }),
            ) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn password_guessing_is_slowed_and_logged_per_address() {
    use nut_server::upsd::{AUTH_BACKOFF_BASE, AUTH_BACKOFF_MAX, AUTH_FAIL_THRESHOLD};
    let mut w = World::transcripts();
    let denied = "OK\nOK\nERR ACCESS-DENIED\n";
    // The first failures are answered at once.
    for i in 0..AUTH_FAIL_THRESHOLD {
        assert_eq!(guess(&mut w, "198.51.100.7", &format!("g{i}")).1, denied);
    }
    // Then the attacker's answers wait, from PASSWORD on ...
    let (c, r) = guess(&mut w, "198.51.100.7", "g5");
    assert_eq!(r, "");
    // ... while another address is served at once, right or wrong.
    let ok = w.connect("203.0.113.9");
    let r = w.send_str(ok, "USERNAME monprimary\nPASSWORD primarypass\nLOGIN seq\n");
    assert_eq!(r, "OK\nOK\nOK\n");
    let (_, r) = guess(&mut w, "203.0.113.9", "nope");
    assert_eq!(r, denied);
    let first = w.server.poll_timeout().unwrap();
    assert!(first <= w.now + AUTH_BACKOFF_BASE, "{:?}", first - w.now);
    w.advance(AUTH_BACKOFF_BASE - Duration::from_millis(1));
    assert!(!w.client_out.contains_key(&c));
    w.advance(Duration::from_millis(1));
    assert_eq!(String::from_utf8(w.client_out.remove(&c).unwrap()).unwrap(), denied);
    // Parallel connections do not help: each answer comes a (doubling)
    // backoff after the previous one, capped.
    let held: Vec<_> = (0..6).map(|i| guess(&mut w, "198.51.100.7", &format!("p{i}"))).collect();
    assert!(held.iter().all(|(_, r)| r.is_empty()));
    let mut released = Vec::new();
    let step = Duration::from_millis(50);
    for _ in 0..400 {
        w.advance(step);
        for (i, (c, _)) in held.iter().enumerate() {
            if let Some(out) = w.client_out.remove(c) {
                assert_eq!(String::from_utf8(out).unwrap(), denied);
                released.push((i, w.now));
            }
        }
    }
    assert_eq!(released.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    let gaps: Vec<Duration> = released.windows(2).map(|p| p[1].1 - p[0].1).collect();
    for g in gaps.windows(2) {
        assert!(g[1] >= g[0], "{gaps:?}");
    }
    assert!(gaps.iter().all(|g| *g <= AUTH_BACKOFF_MAX + step), "{gaps:?}");
    assert!(gaps[0] >= AUTH_BACKOFF_BASE * 2, "{gaps:?}");
    // Logged, but rate-limited: one line per address at first, the rest
    // counted and reported once the interval has passed.
    w.advance(nut_server::upsd::AUTH_LOG_INTERVAL);
    let log = auth_notices(&w);
    let attacker: Vec<&String> = log.iter().filter(|l| l.contains("198.51.100.7")).collect();
    assert_eq!(
        attacker,
        [
            "authentication failed for admin@198.51.100.7 (LOGIN); 1 in a row from this address",
            "11 more authentication failures from 198.51.100.7 not logged"
        ],
    );
    assert_eq!(log.iter().filter(|l| l.contains("203.0.113.9")).count(), 1, "{log:?}");
    // Quiet for a minute: the address is forgiven.
    w.advance(s(61));
    assert_eq!(guess(&mut w, "198.51.100.7", "again").1, denied);
}
