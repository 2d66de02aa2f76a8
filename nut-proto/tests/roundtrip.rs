//! Property tests: for every value, parsing what the encoder wrote gives the
//! value back; and framing does not depend on how the bytes are split.

use nut_proto::net::{Command, ErrCode, GetQuery, Query, Reply, TrackingState, VarKind, VarType};
use nut_proto::sock::{DriverMessage, ServerMessage, TrackingResult, VarFlags};
use nut_proto::token::{self, MAX_WORDS};
use nut_proto::{LineFramer, Secret};
use proptest::prelude::*;
use std::borrow::Cow;

type S = Cow<'static, str>;

/// Any string NUT can carry: bytes 0x20..=0x7F, up to 64 characters.
fn text() -> impl Strategy<Value = S> {
    "[ -\x7f]{0,64}".prop_map(Cow::Owned)
}

/// Any string at all, including control bytes and non-ASCII: the encoder
/// drops what NUT would drop, so these come back sanitized.
fn wild() -> impl Strategy<Value = String> {
    any::<String>()
}

fn strip_lf(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").expect("every encoded line ends in LF")
}

fn query() -> impl Strategy<Value = Query<'static>> {
    prop_oneof![
        Just(Query::Ups),
        text().prop_map(|ups| Query::Var { ups }),
        text().prop_map(|ups| Query::Rw { ups }),
        text().prop_map(|ups| Query::Cmd { ups }),
        text().prop_map(|ups| Query::Client { ups }),
        (text(), text()).prop_map(|(ups, var)| Query::Enum { ups, var }),
        (text(), text()).prop_map(|(ups, var)| Query::Range { ups, var }),
    ]
}

fn command() -> impl Strategy<Value = Command<'static>> {
    prop_oneof![
        Just(Command::Ver),
        Just(Command::NetVer),
        Just(Command::ProtVer),
        Just(Command::Help),
        Just(Command::StartTls),
        Just(Command::Logout),
        Just(Command::Detach),
        text().prop_map(Command::Username),
        text().prop_map(|p| Command::Password(Secret::new(p))),
        text().prop_map(|ups| Command::Login { ups }),
        text().prop_map(|ups| Command::Attach { ups }),
        text().prop_map(|ups| Command::Primary { ups }),
        text().prop_map(|ups| Command::Master { ups }),
        text().prop_map(|ups| Command::Fsd { ups }),
        (text(), text()).prop_map(|(ups, var)| Command::Get(GetQuery::Var { ups, var })),
        (text(), text()).prop_map(|(ups, var)| Command::Get(GetQuery::Type { ups, var })),
        (text(), text()).prop_map(|(ups, var)| Command::Get(GetQuery::Desc { ups, var })),
        (text(), text()).prop_map(|(ups, cmd)| Command::Get(GetQuery::CmdDesc { ups, cmd })),
        text().prop_map(|ups| Command::Get(GetQuery::UpsDesc { ups })),
        text().prop_map(|ups| Command::Get(GetQuery::NumLogins { ups })),
        text().prop_map(|ups| Command::Get(GetQuery::NumAttach { ups })),
        proptest::option::of(text()).prop_map(|id| Command::Get(GetQuery::Tracking(id))),
        query().prop_map(Command::List),
        (text(), text(), text()).prop_map(|(ups, var, value)| Command::SetVar { ups, var, value }),
        any::<bool>().prop_map(Command::SetTracking),
        (text(), text(), proptest::option::of(text()))
            .prop_map(|(ups, cmd, param)| Command::InstCmd { ups, cmd, param }),
    ]
}

fn err_code() -> impl Strategy<Value = ErrCode<'static>> {
    prop_oneof![
        proptest::sample::select(ErrCode::KNOWN.to_vec()),
        "[A-Z][A-Z0-9-]{0,20}"
            .prop_filter("not a known code", |s| ErrCode::KNOWN.iter().all(|k| k.as_str() != s))
            .prop_map(|s| ErrCode::Other(Cow::Owned(s))),
    ]
}

/// Free text that does not start with a reply keyword.
fn free_text() -> impl Strategy<Value = S> {
    "[a-z0-9][ -~]{0,40}".prop_map(Cow::Owned)
}

fn reply() -> impl Strategy<Value = Reply<'static>> {
    let ty = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(prop_oneof![
            Just(VarKind::Number),
            any::<i64>().prop_map(VarKind::String)
        ]),
    )
        .prop_map(|(rw, enumerated, range, kind)| VarType { rw, enumerated, range, kind });
    prop_oneof![
        Just(Reply::Ok),
        Just(Reply::OkGoodbye),
        Just(Reply::OkPrimaryGranted),
        Just(Reply::OkMasterGranted),
        Just(Reply::OkFsdSet),
        Just(Reply::OkStartTls),
        "[!-~]{1,40}".prop_map(|id| Reply::OkTracking(Cow::Owned(id))),
        "[a-z][ -~]{0,40}".prop_map(|t| Reply::OkOther(Cow::Owned(t))),
        (err_code(), proptest::option::of("[ -~]{0,30}".prop_map(Cow::Owned)))
            .prop_map(|(code, extra)| Reply::Err { code, extra }),
        (text(), text(), text()).prop_map(|(ups, var, value)| Reply::Var { ups, var, value }),
        (text(), text(), text()).prop_map(|(ups, var, value)| Reply::Rw { ups, var, value }),
        (text(), text(), text()).prop_map(|(ups, var, value)| Reply::Enum { ups, var, value }),
        (text(), text(), ty).prop_map(|(ups, var, ty)| Reply::Type { ups, var, ty }),
        (text(), text(), text()).prop_map(|(ups, var, desc)| Reply::Desc { ups, var, desc }),
        (text(), text(), text()).prop_map(|(ups, cmd, desc)| Reply::CmdDesc { ups, cmd, desc }),
        (text(), text()).prop_map(|(ups, desc)| Reply::UpsDesc { ups, desc }),
        (text(), text()).prop_map(|(ups, desc)| Reply::Ups { ups, desc }),
        (text(), text()).prop_map(|(ups, cmd)| Reply::Cmd { ups, cmd }),
        (text(), text()).prop_map(|(ups, addr)| Reply::Client { ups, addr }),
        (text(), any::<u32>()).prop_map(|(ups, count)| Reply::NumLogins { ups, count }),
        (text(), any::<u32>()).prop_map(|(ups, count)| Reply::NumAttach { ups, count }),
        (text(), text(), any::<i64>(), any::<i64>())
            .prop_map(|(ups, var, min, max)| Reply::Range { ups, var, min, max }),
        proptest::sample::select(vec![
            TrackingState::On,
            TrackingState::Off,
            TrackingState::Pending,
            TrackingState::Success
        ])
        .prop_map(Reply::Tracking),
        query().prop_map(Reply::BeginList),
        query().prop_map(Reply::EndList),
        free_text().prop_map(Reply::Text),
    ]
}

fn driver_message() -> impl Strategy<Value = DriverMessage<'static>> {
    let flags = (any::<bool>(), any::<bool>(), any::<bool>())
        .prop_map(|(rw, string, number)| VarFlags { rw, string, number });
    prop_oneof![
        (text(), text()).prop_map(|(var, value)| DriverMessage::SetInfo { var, value }),
        text().prop_map(|var| DriverMessage::DelInfo { var }),
        (text(), text()).prop_map(|(var, value)| DriverMessage::AddEnum { var, value }),
        (text(), text()).prop_map(|(var, value)| DriverMessage::DelEnum { var, value }),
        (text(), any::<i64>(), any::<i64>()).prop_map(|(var, min, max)| DriverMessage::AddRange {
            var,
            min,
            max
        }),
        (text(), any::<i64>(), any::<i64>()).prop_map(|(var, min, max)| DriverMessage::DelRange {
            var,
            min,
            max
        }),
        (text(), any::<i64>()).prop_map(|(var, aux)| DriverMessage::SetAux { var, aux }),
        (text(), flags).prop_map(|(var, flags)| DriverMessage::SetFlags { var, flags }),
        text().prop_map(|cmd| DriverMessage::AddCmd { cmd }),
        text().prop_map(|cmd| DriverMessage::DelCmd { cmd }),
        Just(DriverMessage::DumpDone),
        Just(DriverMessage::DataOk),
        Just(DriverMessage::DataStale),
        Just(DriverMessage::Pong),
        Just(DriverMessage::Goodbye),
        any::<i64>().prop_map(DriverMessage::Pid),
        (text(), any::<i32>()).prop_map(|(id, n)| DriverMessage::Tracking {
            id,
            result: TrackingResult::from_code(n)
        }),
    ]
}

fn server_message() -> impl Strategy<Value = ServerMessage<'static>> {
    prop_oneof![
        Just(ServerMessage::DumpAll),
        Just(ServerMessage::Ping),
        Just(ServerMessage::GetPid),
        Just(ServerMessage::DumpStatus),
        Just(ServerMessage::NoBroadcast),
        Just(ServerMessage::Logout),
        proptest::option::of(any::<i64>()).prop_map(ServerMessage::Broadcast),
        text().prop_map(|var| ServerMessage::DumpValue { var }),
        (text(), text(), proptest::option::of(text()))
            .prop_map(|(var, value, tracking)| ServerMessage::Set { var, value, tracking }),
        (text(), proptest::option::of(text()), proptest::option::of(text()))
            .prop_map(|(cmd, param, tracking)| ServerMessage::InstCmd { cmd, param, tracking }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn commands_round_trip(cmd in command()) {
        let line = cmd.to_line();
        prop_assert_eq!(Command::parse(strip_lf(&line)).unwrap(), cmd);
    }

    #[test]
    fn replies_round_trip(reply in reply()) {
        let line = reply.to_line();
        prop_assert_eq!(Reply::parse(strip_lf(&line)).unwrap(), reply);
    }

    #[test]
    fn driver_messages_round_trip(m in driver_message()) {
        let line = m.to_line();
        prop_assert_eq!(DriverMessage::parse(strip_lf(&line)).unwrap(), m);
    }

    #[test]
    fn server_messages_round_trip(m in server_message()) {
        let line = m.to_line();
        prop_assert_eq!(ServerMessage::parse(strip_lf(&line)).unwrap(), m);
    }

    /// Any string, however wild, comes back as NUT would read it, and never
    /// breaks the line: one encoded value is one line and one word.
    #[test]
    fn any_value_is_sanitized_not_injected(v in wild()) {
        let m = DriverMessage::SetInfo { var: Cow::Borrowed("x"), value: Cow::Owned(v.clone()) };
        let line = m.to_line();
        prop_assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        let back = DriverMessage::parse(strip_lf(&line)).unwrap();
        prop_assert_eq!(back, DriverMessage::SetInfo { var: Cow::Borrowed("x"), value: token::sanitize(&v) });
    }

    /// Words re-encoded and re-tokenized give the same words.
    #[test]
    fn tokenize_encode_tokenize(line in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(words) = token::tokenize(&line) {
            prop_assert!(words.len() <= MAX_WORDS);
            let mut out = Vec::new();
            for (i, w) in words.iter().enumerate() {
                if i > 0 { out.push(b' '); }
                token::word_into(&mut out, w);
            }
            let again = token::tokenize(&out).unwrap();
            prop_assert_eq!(again.iter().collect::<Vec<_>>(), words.iter().collect::<Vec<_>>());
        }
    }

    /// The framer yields the same frames however the input is split.
    #[test]
    fn framing_is_split_independent(
        input in proptest::collection::vec(prop_oneof![
            Just(b'\n'), Just(b'"'), Just(b'\\'), Just(b'#'), Just(b' '), Just(b'a'), any::<u8>()
        ], 0..300),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
        max in 1usize..40,
    ) {
        let run = |pieces: &[&[u8]]| {
            let mut f = LineFramer::new(max);
            let mut out = Vec::new();
            for p in pieces {
                f.decode_all(p, |fr| out.push(fr.map(<[u8]>::to_vec)));
                assert!(f.buffered() <= max);
            }
            out
        };
        let whole = run(&[&input]);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points { pieces.push(&input[last..p]); last = p; }
        pieces.push(&input[last..]);
        prop_assert_eq!(run(&pieces), whole.clone());
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        prop_assert_eq!(run(&bytes), whole);
    }
}
