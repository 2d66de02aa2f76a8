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
    // Another client can ask too (NUT's ids are global).
    let d = w.connect("127.0.0.1");
    w.send_str(d, "USERNAME x\nPASSWORD y\nSET TRACKING ON\n");
    assert_eq!(w.send_str(d, &format!("GET TRACKING {id}\n")), "ERR FAILED\n");
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
