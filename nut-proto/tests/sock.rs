//! Table tests for the driver <-> upsd socket protocol.

use nut_proto::LineFramer;
use nut_proto::sock::{DriverMessage, ServerMessage, SockError, TrackingResult, VarFlags};
use std::borrow::Cow;

fn c(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}

fn driver_case(line: &str, expected: DriverMessage<'_>) {
    let parsed = DriverMessage::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    assert_eq!(parsed, expected, "{line:?}");
    assert_eq!(String::from_utf8(parsed.to_line()).unwrap(), format!("{line}\n"));
}

fn server_case(line: &str, expected: ServerMessage<'_>) {
    let parsed = ServerMessage::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    assert_eq!(parsed, expected, "{line:?}");
    assert_eq!(String::from_utf8(parsed.to_line()).unwrap(), format!("{line}\n"));
}

#[test]
fn every_driver_message() {
    let flags = |rw, string, number| VarFlags { rw, string, number };
    driver_case(
        "SETINFO ups.id \"my id\"",
        DriverMessage::SetInfo { var: c("ups.id"), value: c("my id") },
    );
    driver_case("DELINFO ups.id", DriverMessage::DelInfo { var: c("ups.id") });
    driver_case(
        "ADDENUM input.transfer.low \"103\"",
        DriverMessage::AddEnum { var: c("input.transfer.low"), value: c("103") },
    );
    driver_case(
        "DELENUM input.transfer.low \"103\"",
        DriverMessage::DelEnum { var: c("input.transfer.low"), value: c("103") },
    );
    driver_case(
        "ADDRANGE input.transfer.high 120 135",
        DriverMessage::AddRange { var: c("input.transfer.high"), min: 120, max: 135 },
    );
    driver_case(
        "DELRANGE input.transfer.high -5 135",
        DriverMessage::DelRange { var: c("input.transfer.high"), min: -5, max: 135 },
    );
    driver_case("SETAUX ups.id 16", DriverMessage::SetAux { var: c("ups.id"), aux: 16 });
    driver_case(
        "SETFLAGS ups.id RW STRING",
        DriverMessage::SetFlags { var: c("ups.id"), flags: flags(true, true, false) },
    );
    driver_case(
        "SETFLAGS x NUMBER",
        DriverMessage::SetFlags { var: c("x"), flags: flags(false, false, true) },
    );
    driver_case("SETFLAGS x", DriverMessage::SetFlags { var: c("x"), flags: VarFlags::default() });
    driver_case("ADDCMD load.off", DriverMessage::AddCmd { cmd: c("load.off") });
    driver_case("DELCMD load.off", DriverMessage::DelCmd { cmd: c("load.off") });
    driver_case("DUMPDONE", DriverMessage::DumpDone);
    driver_case("DATAOK", DriverMessage::DataOk);
    driver_case("DATASTALE", DriverMessage::DataStale);
    driver_case("PONG", DriverMessage::Pong);
    driver_case(
        "TRACKING 2DDC5036-F665-4D29-BE4C-0374D091D263 0",
        DriverMessage::Tracking {
            id: c("2DDC5036-F665-4D29-BE4C-0374D091D263"),
            result: TrackingResult::Handled,
        },
    );
    driver_case(
        "TRACKING abc 7",
        DriverMessage::Tracking { id: c("abc"), result: TrackingResult::Other(7) },
    );
    driver_case("PID 1234", DriverMessage::Pid(1234));
    driver_case("OK Goodbye", DriverMessage::Goodbye);
    for n in 0..5 {
        assert_eq!(TrackingResult::from_code(n).code(), n);
    }
}

#[test]
fn every_server_message() {
    server_case("DUMPALL", ServerMessage::DumpAll);
    server_case("PING", ServerMessage::Ping);
    server_case("GETPID", ServerMessage::GetPid);
    server_case("DUMPSTATUS", ServerMessage::DumpStatus);
    server_case("NOBROADCAST", ServerMessage::NoBroadcast);
    server_case("BROADCAST", ServerMessage::Broadcast(None));
    server_case("BROADCAST 1", ServerMessage::Broadcast(Some(1)));
    server_case("LOGOUT", ServerMessage::Logout);
    server_case("DUMPVALUE ups.status", ServerMessage::DumpValue { var: c("ups.status") });
    server_case(
        "SET ups.id \"new\"",
        ServerMessage::Set { var: c("ups.id"), value: c("new"), tracking: None },
    );
    server_case(
        "SET ups.id \"a \\\"b\\\"\" TRACKING 98C489FD-821C-4132-9D93-4F6590B55E63",
        ServerMessage::Set {
            var: c("ups.id"),
            value: c("a \"b\""),
            tracking: Some(c("98C489FD-821C-4132-9D93-4F6590B55E63")),
        },
    );
    server_case(
        "INSTCMD load.off",
        ServerMessage::InstCmd { cmd: c("load.off"), param: None, tracking: None },
    );
    server_case(
        "INSTCMD load.off 10",
        ServerMessage::InstCmd { cmd: c("load.off"), param: Some(c("10")), tracking: None },
    );
    server_case(
        "INSTCMD load.off TRACKING id1",
        ServerMessage::InstCmd { cmd: c("load.off"), param: None, tracking: Some(c("id1")) },
    );
    server_case(
        "INSTCMD load.off 10 TRACKING id1",
        ServerMessage::InstCmd {
            cmd: c("load.off"),
            param: Some(c("10")),
            tracking: Some(c("id1")),
        },
    );
    // NUT's upsd sends a parameter with a space raw (two words), which
    // drivers reject; we quote it.
    let m = ServerMessage::InstCmd {
        cmd: c("beeper.toggle"),
        param: Some(c("some param")),
        tracking: None,
    };
    assert_eq!(m.to_line(), b"INSTCMD beeper.toggle \"some param\"\n");
    assert!(ServerMessage::parse(b"INSTCMD beeper.toggle some param").is_err());
}

#[test]
fn shapes_nut_drivers_reject() {
    for line in [
        "SET ups.id",
        "SET ups.id a b",
        "SET a b TRACK id",
        "INSTCMD",
        "INSTCMD a b c d e f",
        "INSTCMD a b c",
    ] {
        assert!(
            matches!(ServerMessage::parse(line.as_bytes()), Err(SockError::Malformed { .. })),
            "{line}"
        );
    }
    assert_eq!(ServerMessage::parse(b"FROB"), Err(SockError::Unknown));
    assert_eq!(ServerMessage::parse(b""), Err(SockError::Empty));
    for line in [
        "SETINFO x",
        "ADDRANGE x 1",
        "ADDRANGE x a 2",
        "SETAUX x",
        "SETAUX x 1.5",
        "TRACKING id",
        "TRACKING id x",
        "PID",
        "OK",
        "OK Hello",
    ] {
        assert!(
            matches!(DriverMessage::parse(line.as_bytes()), Err(SockError::Malformed { .. })),
            "{line}"
        );
    }
    assert_eq!(DriverMessage::parse(b"WHATEVER x"), Err(SockError::Unknown));
}

#[test]
fn copes_with_nut_live_updates_sent_unescaped() {
    // NUT 2.8 drivers broadcast the raw value inside quotes; upsd keeps the
    // first word and ignores the rest. So do we.
    let m = DriverMessage::parse(b"SETINFO ups.id \"with \"q\"\"").unwrap();
    assert_eq!(m, DriverMessage::SetInfo { var: c("ups.id"), value: c("with ") });
    // Our encoder always escapes.
    let ours = DriverMessage::SetInfo { var: c("ups.id"), value: c("with \"q\"") };
    assert_eq!(ours.to_line(), b"SETINFO ups.id \"with \\\"q\\\"\"\n");
}

/// The DUMPALL answer shown in the NUT reference (2.3), through the framer.
#[test]
fn dumpall_example_through_framer() {
    let dump =
        b"SETINFO battery.charge \"100\"\nSETFLAGS battery.charge RW\nSETINFO ups.id \"my id\"\n\
SETAUX ups.id 16\nSETFLAGS ups.id RW STRING\nADDCMD load.off\nDATAOK\nDUMPDONE\n";
    let mut framer = LineFramer::default();
    let mut msgs = Vec::new();
    for chunk in dump.chunks(7) {
        framer.decode_all(chunk, |line| {
            msgs.push(DriverMessage::parse(line.unwrap()).unwrap().to_line());
        });
    }
    assert_eq!(msgs.concat(), dump);
    assert_eq!(msgs.len(), 8);
}
