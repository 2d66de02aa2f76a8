//! Table tests for the network protocol: RFC 9271's command/response pairs,
//! NUT 2.8's argument rules, and every reply form.

use nut_proto::net::{
    Command, CommandError, ErrCode, GetQuery, Query, Reply, TrackingState, VarKind, VarType, Verb,
};
use std::borrow::Cow;

fn c(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}

/// Parses, checks the value, and checks that the encoder gives the same bytes.
fn command_case(line: &str, expected: Command<'_>) {
    let parsed = Command::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    assert_eq!(parsed, expected, "{line:?}");
    assert_eq!(String::from_utf8(parsed.to_line()).unwrap(), format!("{line}\n"), "{line:?}");
}

fn reply_case(line: &str, expected: Reply<'_>) {
    let parsed = Reply::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    assert_eq!(parsed, expected, "{line:?}");
    assert_eq!(String::from_utf8(parsed.to_line()).unwrap(), format!("{line}\n"), "{line:?}");
}

/// The command/response pairs of RFC 9271 section 4 (UPS `su700`).
#[test]
fn rfc9271_pairs() {
    type Pair<'a> = (&'a str, Command<'a>, Vec<(&'a str, Reply<'a>)>);
    let pairs: Vec<Pair<'_>> = vec![
        (
            "GET NUMATTACH su700",
            Command::Get(GetQuery::NumAttach { ups: c("su700") }),
            vec![("NUMATTACH su700 1", Reply::NumAttach { ups: c("su700"), count: 1 })],
        ),
        (
            "GET NUMLOGINS su700",
            Command::Get(GetQuery::NumLogins { ups: c("su700") }),
            vec![("NUMLOGINS su700 1", Reply::NumLogins { ups: c("su700"), count: 1 })],
        ),
        (
            "GET UPSDESC su700",
            Command::Get(GetQuery::UpsDesc { ups: c("su700") }),
            vec![(
                "UPSDESC su700 \"Development box\"",
                Reply::UpsDesc { ups: c("su700"), desc: c("Development box") },
            )],
        ),
        (
            "GET VAR su700 ups.status",
            Command::Get(GetQuery::Var { ups: c("su700"), var: c("ups.status") }),
            vec![(
                "VAR su700 ups.status \"OL\"",
                Reply::Var { ups: c("su700"), var: c("ups.status"), value: c("OL") },
            )],
        ),
        (
            "GET TYPE su700 input.transfer.low",
            Command::Get(GetQuery::Type { ups: c("su700"), var: c("input.transfer.low") }),
            vec![(
                "TYPE su700 input.transfer.low ENUM",
                Reply::Type {
                    ups: c("su700"),
                    var: c("input.transfer.low"),
                    ty: VarType { rw: false, enumerated: true, range: false, kind: None },
                },
            )],
        ),
        (
            "GET DESC su700 ups.status",
            Command::Get(GetQuery::Desc { ups: c("su700"), var: c("ups.status") }),
            vec![(
                "DESC su700 ups.status \"UPS status\"",
                Reply::Desc { ups: c("su700"), var: c("ups.status"), desc: c("UPS status") },
            )],
        ),
        (
            "GET CMDDESC su700 load.on",
            Command::Get(GetQuery::CmdDesc { ups: c("su700"), cmd: c("load.on") }),
            vec![(
                "CMDDESC su700 load.on \"Turn on the load immediately\"",
                Reply::CmdDesc {
                    ups: c("su700"),
                    cmd: c("load.on"),
                    desc: c("Turn on the load immediately"),
                },
            )],
        ),
        (
            "LIST UPS",
            Command::List(Query::Ups),
            vec![
                ("BEGIN LIST UPS", Reply::BeginList(Query::Ups)),
                (
                    "UPS su700 \"Development box\"",
                    Reply::Ups { ups: c("su700"), desc: c("Development box") },
                ),
                ("END LIST UPS", Reply::EndList(Query::Ups)),
            ],
        ),
        (
            "LIST VAR su700",
            Command::List(Query::Var { ups: c("su700") }),
            vec![
                ("BEGIN LIST VAR su700", Reply::BeginList(Query::Var { ups: c("su700") })),
                (
                    "VAR su700 ups.mfr \"American Power Conversion\"",
                    Reply::Var {
                        ups: c("su700"),
                        var: c("ups.mfr"),
                        value: c("American Power Conversion"),
                    },
                ),
                (
                    "VAR su700 ups.mfr.date \"10/17/96\"",
                    Reply::Var { ups: c("su700"), var: c("ups.mfr.date"), value: c("10/17/96") },
                ),
                ("END LIST VAR su700", Reply::EndList(Query::Var { ups: c("su700") })),
            ],
        ),
        (
            "LIST RW su700",
            Command::List(Query::Rw { ups: c("su700") }),
            vec![
                ("BEGIN LIST RW su700", Reply::BeginList(Query::Rw { ups: c("su700") })),
                (
                    "RW su700 output.voltage.nominal \"115\"",
                    Reply::Rw {
                        ups: c("su700"),
                        var: c("output.voltage.nominal"),
                        value: c("115"),
                    },
                ),
                ("END LIST RW su700", Reply::EndList(Query::Rw { ups: c("su700") })),
            ],
        ),
        (
            "LIST CMD su700",
            Command::List(Query::Cmd { ups: c("su700") }),
            vec![
                ("BEGIN LIST CMD su700", Reply::BeginList(Query::Cmd { ups: c("su700") })),
                ("CMD su700 load.on", Reply::Cmd { ups: c("su700"), cmd: c("load.on") }),
                (
                    "CMD su700 test.panel.start",
                    Reply::Cmd { ups: c("su700"), cmd: c("test.panel.start") },
                ),
                ("END LIST CMD su700", Reply::EndList(Query::Cmd { ups: c("su700") })),
            ],
        ),
        (
            "LIST ENUM su700 input.transfer.low",
            Command::List(Query::Enum { ups: c("su700"), var: c("input.transfer.low") }),
            vec![
                (
                    "BEGIN LIST ENUM su700 input.transfer.low",
                    Reply::BeginList(Query::Enum { ups: c("su700"), var: c("input.transfer.low") }),
                ),
                (
                    "ENUM su700 input.transfer.low \"103\"",
                    Reply::Enum { ups: c("su700"), var: c("input.transfer.low"), value: c("103") },
                ),
                (
                    "END LIST ENUM su700 input.transfer.low",
                    Reply::EndList(Query::Enum { ups: c("su700"), var: c("input.transfer.low") }),
                ),
            ],
        ),
        (
            "LIST RANGE su700 input.transfer.low",
            Command::List(Query::Range { ups: c("su700"), var: c("input.transfer.low") }),
            vec![
                (
                    "BEGIN LIST RANGE su700 input.transfer.low",
                    Reply::BeginList(Query::Range {
                        ups: c("su700"),
                        var: c("input.transfer.low"),
                    }),
                ),
                (
                    "RANGE su700 input.transfer.low \"90\" \"105\"",
                    Reply::Range {
                        ups: c("su700"),
                        var: c("input.transfer.low"),
                        min: 90,
                        max: 105,
                    },
                ),
                (
                    "END LIST RANGE su700 input.transfer.low",
                    Reply::EndList(Query::Range { ups: c("su700"), var: c("input.transfer.low") }),
                ),
            ],
        ),
        (
            "LIST CLIENT su700",
            Command::List(Query::Client { ups: c("su700") }),
            vec![
                ("BEGIN LIST CLIENT su700", Reply::BeginList(Query::Client { ups: c("su700") })),
                ("CLIENT su700 127.0.0.1", Reply::Client { ups: c("su700"), addr: c("127.0.0.1") }),
                ("CLIENT su700 ::1", Reply::Client { ups: c("su700"), addr: c("::1") }),
                ("END LIST CLIENT su700", Reply::EndList(Query::Client { ups: c("su700") })),
            ],
        ),
        (
            "SET VAR su700 ups.id \"My UPS\"",
            Command::SetVar { ups: c("su700"), var: c("ups.id"), value: c("My UPS") },
            vec![("OK", Reply::Ok)],
        ),
        (
            "INSTCMD su700 test.panel.start",
            Command::InstCmd { ups: c("su700"), cmd: c("test.panel.start"), param: None },
            vec![("OK", Reply::Ok)],
        ),
        ("ATTACH su700", Command::Attach { ups: c("su700") }, vec![("OK", Reply::Ok)]),
        ("DETACH", Command::Detach, vec![("OK Goodbye", Reply::OkGoodbye)]),
        ("LOGIN su700", Command::Login { ups: c("su700") }, vec![("OK", Reply::Ok)]),
        ("LOGOUT", Command::Logout, vec![("OK Goodbye", Reply::OkGoodbye)]),
        (
            "PRIMARY su700",
            Command::Primary { ups: c("su700") },
            vec![("OK PRIMARY-GRANTED", Reply::OkPrimaryGranted)],
        ),
        (
            "MASTER su700",
            Command::Master { ups: c("su700") },
            vec![("OK MASTER-GRANTED", Reply::OkMasterGranted)],
        ),
        ("FSD su700", Command::Fsd { ups: c("su700") }, vec![("OK FSD-SET", Reply::OkFsdSet)]),
        ("USERNAME bigserver", Command::Username(c("bigserver")), vec![("OK", Reply::Ok)]),
        ("STARTTLS", Command::StartTls, vec![("OK STARTTLS", Reply::OkStartTls)]),
        ("PROTVER", Command::ProtVer, vec![("1.3", Reply::Text(c("1.3")))]),
        ("NETVER", Command::NetVer, vec![("1.3", Reply::Text(c("1.3")))]),
        (
            "VER",
            Command::Ver,
            vec![(
                "Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/",
                Reply::Text(c("Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/")),
            )],
        ),
        (
            "HELP",
            Command::Help,
            vec![(
                "Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS",
                Reply::Text(c(
                    "Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS",
                )),
            )],
        ),
    ];
    for (cmd_line, cmd, replies) in pairs {
        command_case(cmd_line, cmd);
        for (line, reply) in replies {
            reply_case(line, reply);
        }
    }
}

#[test]
fn password_is_redacted_but_round_trips() {
    let cmd = Command::parse(b"PASSWORD s3cret").unwrap();
    assert!(!format!("{cmd:?}").contains("s3cret"));
    assert_eq!(cmd.to_line(), b"PASSWORD s3cret\n");
    // A password NUT's own clients cannot send is quoted by ours.
    let cmd = Command::Password(nut_proto::Secret::new(c("pass words#1")));
    assert_eq!(cmd.to_line(), b"PASSWORD \"pass words\\#1\"\n");
    assert_eq!(Command::parse(&cmd.to_line()[..cmd.to_line().len() - 1]).unwrap(), cmd);
}

#[test]
fn tracking_commands_and_replies() {
    command_case("SET TRACKING ON", Command::SetTracking(true));
    command_case("SET TRACKING OFF", Command::SetTracking(false));
    command_case("GET TRACKING", Command::Get(GetQuery::Tracking(None)));
    command_case(
        "GET TRACKING 2DDC5036-F665-4D29-BE4C-0374D091D263",
        Command::Get(GetQuery::Tracking(Some(c("2DDC5036-F665-4D29-BE4C-0374D091D263")))),
    );
    command_case(
        "INSTCMD ups beeper.toggle 5",
        Command::InstCmd { ups: c("ups"), cmd: c("beeper.toggle"), param: Some(c("5")) },
    );
    reply_case(
        "OK TRACKING 2DDC5036-F665-4D29-BE4C-0374D091D263",
        Reply::OkTracking(c("2DDC5036-F665-4D29-BE4C-0374D091D263")),
    );
    for (line, st) in [
        ("ON", TrackingState::On),
        ("OFF", TrackingState::Off),
        ("PENDING", TrackingState::Pending),
        ("SUCCESS", TrackingState::Success),
    ] {
        reply_case(line, Reply::Tracking(st));
    }
    reply_case("ERR UNKNOWN", Reply::err(ErrCode::Unknown));
    reply_case("ERR FAILED", Reply::err(ErrCode::Failed));
}

#[test]
fn every_err_code_and_unknown_ones() {
    for code in ErrCode::KNOWN {
        let line = format!("ERR {}", code.as_str());
        reply_case(&line, Reply::err(code.clone()));
    }
    reply_case("ERR SOMETHING-NEW", Reply::err(ErrCode::Other(c("SOMETHING-NEW"))));
    reply_case(
        "ERR ACCESS-DENIED \"SSL handshake failed\"",
        Reply::Err { code: ErrCode::AccessDenied, extra: Some(c("\"SSL handshake failed\"")) },
    );
    assert!(Reply::parse(b"ERR").is_err());
}

#[test]
fn type_replies_seen_from_nut() {
    let t = |rw, enumerated, range, kind| VarType { rw, enumerated, range, kind: Some(kind) };
    for (line, ty) in [
        ("TYPE fake input.transfer.low RW ENUM NUMBER", t(true, true, false, VarKind::Number)),
        ("TYPE fake input.transfer.high RW RANGE NUMBER", t(true, false, true, VarKind::Number)),
        ("TYPE dummy ups.id RW STRING:16", t(true, false, false, VarKind::String(16))),
        ("TYPE dummy driver.name NUMBER", t(false, false, false, VarKind::Number)),
    ] {
        let mut w = line.split(' ').skip(1);
        let (ups, var) = (w.next().unwrap(), w.next().unwrap());
        reply_case(line, Reply::Type { ups: c(ups), var: c(var), ty });
    }
    assert!(Reply::parse(b"TYPE a b STRING:x").is_err());
    assert!(Reply::parse(b"TYPE a b BOGUS").is_err());
    assert!(Reply::parse(b"TYPE a").is_err());
    // RFC 9271 shows TYPE lines without NUMBER; they parse with no kind.
    assert_eq!(
        Reply::parse(b"TYPE a b RW").unwrap(),
        Reply::Type {
            ups: c("a"),
            var: c("b"),
            ty: VarType { rw: true, enumerated: false, range: false, kind: None }
        }
    );
}

#[test]
fn quoting_and_escaping_in_replies() {
    reply_case(
        r#"UPS dummy "Test \"quoted\" \# box""#,
        Reply::Ups { ups: c("dummy"), desc: c("Test \"quoted\" # box") },
    );
    reply_case(
        r#"VAR dummy ups.id "Quote\"Corp\\x""#,
        Reply::Var { ups: c("dummy"), var: c("ups.id"), value: c("Quote\"Corp\\x") },
    );
    // A name that needs quoting is quoted rather than sent raw.
    let r = Reply::Var { ups: c("a b"), var: c("v"), value: c("") };
    assert_eq!(r.to_line(), b"VAR \"a b\" v \"\"\n");
    assert_eq!(Reply::parse(b"VAR \"a b\" v \"\"").unwrap(), r);
}

#[test]
fn nut_argument_rules() {
    let bad = |line: &str| Command::parse(line.as_bytes()).unwrap_err();
    // Case-insensitive keywords, client's spelling of names kept.
    assert_eq!(
        Command::parse(b"get var DUMMY UPS.Status").unwrap(),
        Command::Get(GetQuery::Var { ups: c("DUMMY"), var: c("UPS.Status") })
    );
    assert_eq!(
        Command::parse(b"list var dummy").unwrap(),
        Command::List(Query::Var { ups: c("dummy") })
    );
    // Fixed-count commands reject extra words.
    for line in
        ["VER x", "NETVER x", "HELP x", "LOGOUT x", "USERNAME", "USERNAME a b", "LOGIN", "FSD a b"]
    {
        assert!(matches!(bad(line), CommandError::InvalidArgument { .. }), "{line}");
    }
    // GET, LIST, SET, INSTCMD only check minimums.
    assert_eq!(
        Command::parse(b"GET UPSDESC dummy extra args").unwrap(),
        Command::Get(GetQuery::UpsDesc { ups: c("dummy") })
    );
    assert_eq!(
        Command::parse(b"INSTCMD dummy load.off 5 6").unwrap(),
        Command::InstCmd { ups: c("dummy"), cmd: c("load.off"), param: None }
    );
    for line in [
        "GET",
        "GET VAR",
        "GET VAR ups",
        "GET FOO a b",
        "GET NUMLOGINS",
        "LIST",
        "LIST VAR",
        "LIST ENUM ups",
        "LIST FOO x",
        "SET",
        "SET VAR a b",
        "SET TRACKING",
        "SET TRACKING MAYBE",
        "SET FOO a b c",
        "INSTCMD ups",
    ] {
        let e = bad(line);
        assert!(matches!(e, CommandError::InvalidArgument { .. }), "{line}: {e:?}");
        assert_eq!(e.err_code(), ErrCode::InvalidArgument);
    }
    // Unknown and empty lines are UNKNOWN-COMMAND.
    for line in ["", "# comment", "FROB", "NUMLOGINS x"] {
        assert_eq!(bad(line).err_code(), ErrCode::UnknownCommand, "{line}");
    }
    // Tokenizer errors.
    assert!(matches!(bad("GET VAR dummy \"ups#status\""), CommandError::Token(_)));
    // Privileged verbs.
    let privileged: Vec<_> =
        Verb::ALL.iter().filter(|v| v.needs_credentials()).map(|v| v.as_str()).collect();
    assert_eq!(privileged, ["LOGIN", "ATTACH", "PRIMARY", "MASTER", "FSD", "SET", "INSTCMD"]);
    assert_eq!(Verb::parse("starttls"), Some(Verb::StartTls));
}

#[test]
fn malformed_replies_are_errors_not_panics() {
    for line in [
        "VAR a b",
        "VAR a b c d",
        "NUMLOGINS a x",
        "NUMLOGINS a -1",
        "RANGE a b \"1\"",
        "RANGE a b \"x\" \"2\"",
        "BEGIN LIST",
        "BEGIN LIST FOO",
        "END FOO VAR a",
        "UPS a",
        "VAR a b \"unterminated",
    ] {
        assert!(Reply::parse(line.as_bytes()).is_err(), "{line}");
    }
    // Lines that start with an unknown word are text.
    assert_eq!(Reply::parse(b"1.3").unwrap(), Reply::Text(c("1.3")));
    assert_eq!(Reply::parse(b"ON and on").unwrap(), Reply::Text(c("ON and on")));
    assert_eq!(Reply::parse(b"OK something else").unwrap(), Reply::OkOther(c("something else")));
}
