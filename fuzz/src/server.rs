//! Fuzz target bodies for `nut-server`: the sans-IO `upsd` core, the driver
//! core and `dummy-ups`'s simulation files.
//!
//! The session targets decode their input into a small list of operations
//! (client connects and bytes, driver bytes, link changes, time steps) and
//! check, after every operation, what a client or `upsd` would see. See
//! `README.md` for the invariants.

use nut_proto::frame::LineFramer;
use nut_proto::net::{Command, Reply};
use nut_proto::sock::{DriverMessage, ServerMessage, TrackingResult};
use nut_proto::token;
use nut_driver::{
    CloseReason, Device, DeviceError, Driver, DriverConfig, Dstate, MAX_VALUE_LEN, Message,
    SocketConfig, Timing, UpdateKind,
};
use nut_drivers::dummy::{Step, parse_script, set_dummy_var};
use nut_proto::state::{MAX_ENTRIES, UpsState};
use nut_server::upsd::{
    ConnId, Descriptions, Dest, Event, MAX_LINE, Options, Server, UpsEntry, User, Users,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Most operations decoded from one input.
const MAX_OPS: usize = 256;

/// Printable form of raw bytes for assertion messages.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Reads the fuzz input front to back; every read past the end gives zeros.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// A length byte, then that many bytes (fewer at the end of the input).
    fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte()).min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

/// Splits `data` into complete lines (without LF) and the unterminated rest.
fn lines(data: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        out.push(&rest[..i]);
        rest = &rest[i + 1..];
    }
    (out, rest)
}

// ---------------------------------------------------------------------------
// upsd_session

/// Client command lines the decoder can pick by number (beside raw bytes).
const CLIENT_LINES: &[&[u8]] = &[
    b"GET VAR ups1 ups.status\n",
    b"GET VAR ups2 battery.charge\n",
    b"GET VAR ups1 server.info\n",
    b"LIST VAR ups1\n",
    b"LIST VAR ups2\n",
    b"LIST RW ups1\n",
    b"LIST CMD ups1\n",
    b"LIST ENUM ups1 input.transfer.low\n",
    b"LIST RANGE ups1 input.transfer.low\n",
    b"LIST CLIENT ups1\n",
    b"LIST UPS\n",
    b"LIST VAR nosuch\n",
    b"GET TYPE ups1 ups.id\n",
    b"GET DESC ups1 ups.status\n",
    b"GET CMDDESC ups1 load.off\n",
    b"GET UPSDESC ups2\n",
    b"GET NUMLOGINS ups1\n",
    b"USERNAME admin\n",
    b"PASSWORD secret\n",
    b"LOGIN ups1\n",
    b"PRIMARY ups1\n",
    b"FSD ups1\n",
    b"SET VAR ups1 ups.id \"new id\"\n",
    b"SET VAR ups1 input.transfer.low 100\n",
    b"SET TRACKING ON\n",
    b"INSTCMD ups1 load.off\n",
    b"GET TRACKING\n",
    b"STARTTLS\n",
    b"VER\n",
    b"HELP\n",
    b"LOGOUT\n",
    b"\n",
];

/// A driver's answer to DUMPALL, the tree the canned client lines ask about.
const DRIVER_DUMP: &[u8] = b"SETINFO battery.charge \"100\"\nSETFLAGS battery.charge RW\n\
SETINFO input.transfer.low \"120\"\nADDENUM input.transfer.low \"100\"\n\
ADDENUM input.transfer.low \"120\"\nADDRANGE input.transfer.low 90 130\n\
SETFLAGS input.transfer.low RW\nSETINFO ups.id \"my id\"\nSETAUX ups.id 16\n\
SETFLAGS ups.id RW STRING\nSETINFO ups.status \"OL\"\nADDCMD load.off\nDATAOK\nDUMPDONE\n";

/// Driver lines the decoder can pick by number.
const DRIVER_LINES: &[&[u8]] = &[
    DRIVER_DUMP,
    b"DATASTALE\n",
    b"DATAOK\n",
    b"PONG\n",
    b"SETINFO ups.status \"OB LB\"\n",
    b"DELINFO ups.id\n",
    b"DELCMD load.off\n",
    b"TRACKING 00000000-0000-4000-8000-000000000000 0\n",
    b"SETINFO ups.id \"with \"q\"\"\n",
];

const CLIENTS: usize = 4;
const MAXCONN: usize = 3;
const UPS_NAMES: [&str; 2] = ["ups1", "ups2"];

/// What the model expects from one complete client line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Exactly one line.
    One,
    /// `BEGIN LIST ...` rows `END LIST ...`, or exactly one `ERR` line.
    List,
}

/// The model of one client connection: a framer like the server's, and the
/// replies still owed.
struct ClientModel {
    id: ConnId,
    framer: LineFramer,
    owed: Vec<Expect>,
}

impl ClientModel {
    fn new(id: ConnId) -> Self {
        ClientModel { id, framer: LineFramer::new(MAX_LINE), owed: Vec::new() }
    }

    /// Frames `bytes` as the server does and records the replies owed.
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (used, frame) = self.framer.decode(bytes);
            bytes = &bytes[used..];
            match frame {
                None => {}
                Some(Ok(line)) => self.owed.push(match Command::parse(line) {
                    Ok(Command::List(_)) => Expect::List,
                    _ => Expect::One,
                }),
                // An overlong line is answered with ERR INVALID-ARGUMENT.
                Some(Err(_)) => self.owed.push(Expect::One),
            }
        }
    }
}

/// The largest reply line: a quoted value escaped at worst to twice its
/// length, with the longest names around it.
const MAX_REPLY_LINE: usize = 3 * MAX_LINE + 64;

/// Checks the replies of one batch against what the lines owed.
fn check_replies(server: &Server, client: &mut ClientModel, data: &[u8]) {
    assert_eq!(data.last(), Some(&b'\n'), "reply batch {} does not end in LF", show(data));
    let (reply_lines, _) = lines(data);
    let mut it = reply_lines.into_iter();
    let owed = std::mem::take(&mut client.owed);
    let max_rows = max_list_rows(server);
    for expect in owed {
        let Some(first) = it.next() else {
            panic!("client {}: a reply is missing ({expect:?}) in {}", client.id, show(data))
        };
        assert!(first.len() <= MAX_REPLY_LINE, "reply line of {} bytes", first.len());
        let parsed = Reply::parse(first)
            .unwrap_or_else(|e| panic!("reply {} does not parse: {e}", show(first)));
        match (expect, parsed) {
            (Expect::One, Reply::BeginList(_) | Reply::EndList(_)) => {
                panic!("a non-LIST line got {}", show(first))
            }
            (Expect::One, _) | (Expect::List, Reply::Err { .. }) => {}
            (Expect::List, Reply::BeginList(q)) => {
                let mut rows = 0usize;
                loop {
                    let Some(line) = it.next() else {
                        panic!("LIST without END in {}", show(data))
                    };
                    assert!(line.len() <= MAX_REPLY_LINE, "list row of {} bytes", line.len());
                    let r = Reply::parse(line)
                        .unwrap_or_else(|e| panic!("row {} does not parse: {e}", show(line)));
                    match r {
                        Reply::EndList(end) => {
                            assert_eq!(end, q, "END LIST does not match BEGIN LIST");
                            break;
                        }
                        Reply::BeginList(_) | Reply::Err { .. } => {
                            panic!("unexpected {} inside a LIST", show(line))
                        }
                        _ => rows += 1,
                    }
                }
                assert!(rows <= max_rows, "LIST gave {rows} rows, the state holds {max_rows}");
            }
            (Expect::List, other) => panic!("LIST answered with {other:?}"),
        }
    }
    let extra: Vec<_> = it.map(show).collect();
    assert!(extra.is_empty(), "client {}: replies nobody asked for: {extra:?}", client.id);
}

/// The most rows any LIST may give: every entry of the biggest tree, every
/// client, every UPS.
fn max_list_rows(server: &Server) -> usize {
    let tree_rows = UPS_NAMES
        .iter()
        .filter_map(|u| server.ups_state(u))
        .map(|s| {
            s.vars().map(|(_, v)| 1 + v.enums.len() + v.ranges.len()).sum::<usize>()
                + s.commands().count()
        })
        .max()
        .unwrap_or(0);
    tree_rows.max(server.client_count()).max(UPS_NAMES.len())
}

fn check_state(server: &Server) {
    assert!(server.client_count() <= MAXCONN, "{} clients > MAXCONN", server.client_count());
    for u in UPS_NAMES {
        let st = server.ups_state(u).expect("configured UPS");
        assert!(st.var_count() <= MAX_ENTRIES);
        assert!(st.commands().count() <= MAX_ENTRIES);
        for (name, v) in st.vars() {
            assert!(name.len() <= MAX_LINE && v.value.len() <= MAX_LINE, "oversized {name}");
            assert!(v.enums.len() <= MAX_ENTRIES && v.ranges.len() <= MAX_ENTRIES);
        }
    }
}

/// State of the harness around one [`Server`].
struct UpsdHarness {
    server: Server,
    now: Instant,
    clients: Vec<Option<ClientModel>>,
    /// Per UPS: a ConnectDriver is waiting for an answer.
    connecting: [bool; 2],
    /// Per UPS: the link is up.
    up: [bool; 2],
}

impl UpsdHarness {
    fn new() -> Self {
        let now = Instant::now();
        let ups = vec![
            UpsEntry::new("ups1", "dummy-ups", "a.dev", Some("First UPS")),
            UpsEntry::new("ups2", "dummy-ups", "b.dev", None),
        ];
        let mut users = Users::new();
        users.add(
            User::new("admin", "secret")
                .with_action(nut_server::upsd::Action::Set)
                .with_action(nut_server::upsd::Action::Fsd)
                .with_action(nut_server::upsd::Action::Login)
                .with_action(nut_server::upsd::Action::Primary)
                .with_instcmd("all"),
        );
        let options = Options {
            maxconn: MAXCONN,
            maxage: Duration::from_secs(15),
            tracking_delay: Duration::from_secs(30),
            ..Options::default()
        };
        let mut server = Server::new(options, ups, users, Descriptions::new(), now);
        server.handle_timeout(now);
        let mut h = UpsdHarness {
            server,
            now,
            clients: (0..CLIENTS).map(|_| None).collect(),
            connecting: [false; 2],
            up: [false; 2],
        };
        h.drain();
        h
    }

    fn ups_index(name: &str) -> usize {
        UPS_NAMES.iter().position(|u| u.eq_ignore_ascii_case(name)).expect("known UPS")
    }

    /// Takes every transmit and event, checking replies and driver lines.
    fn drain(&mut self) {
        let mut batches: BTreeMap<ConnId, usize> = BTreeMap::new();
        while let Some(t) = self.server.poll_transmit() {
            match t.dest {
                Dest::Client(c) => {
                    *batches.entry(c).or_default() += 1;
                    let client = self
                        .clients
                        .iter_mut()
                        .flatten()
                        .find(|m| m.id == c)
                        .unwrap_or_else(|| panic!("bytes for unknown client {c}"));
                    check_replies(&self.server, client, &t.data);
                }
                Dest::Driver(name) => {
                    let i = Self::ups_index(&name);
                    assert!(self.up[i], "bytes for the unconnected driver of {name}");
                    let (ls, rest) = lines(&t.data);
                    assert!(rest.is_empty(), "driver bytes {} end mid-line", show(&t.data));
                    for l in ls {
                        ServerMessage::parse(l).unwrap_or_else(|e| {
                            panic!("line {} to the driver does not parse: {e}", show(l))
                        });
                    }
                }
            }
        }
        for (c, n) in batches {
            assert_eq!(n, 1, "client {c} got {n} buffers for one operation");
        }
        // Every line a client sent was answered in the same operation.
        for m in self.clients.iter().flatten() {
            assert!(m.owed.is_empty(), "client {} is owed {:?}", m.id, m.owed);
        }
        let mut guard = 0;
        while let Some(ev) = self.server.poll_event() {
            guard += 1;
            assert!(guard <= 100_000, "event queue does not drain");
            match ev {
                Event::CloseClient(c) => {
                    self.server.client_closed(c);
                    for slot in &mut self.clients {
                        if slot.as_ref().is_some_and(|m| m.id == c) {
                            *slot = None;
                        }
                    }
                }
                Event::ConnectDriver { ups, .. } => {
                    let i = Self::ups_index(&ups);
                    assert!(!self.up[i] && !self.connecting[i], "double ConnectDriver for {ups}");
                    self.connecting[i] = true;
                }
                Event::DisconnectDriver { ups } => {
                    let i = Self::ups_index(&ups);
                    self.up[i] = false;
                }
                Event::StartTls(c) => panic!("STARTTLS accepted without TLS for {c}"),
                _ => {}
            }
        }
        check_state(&self.server);
    }

    fn client_bytes(&mut self, slot: usize, bytes: &[u8]) {
        let Some(m) = self.clients[slot].as_mut() else { return };
        m.feed(bytes);
        let id = m.id;
        self.server.handle_client_bytes(id, bytes, self.now);
    }

    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        match op % 9 {
            0 => {
                let slot = usize::from(input.byte()) % CLIENTS;
                if self.clients[slot].is_none() {
                    let count = self.server.client_count();
                    match self.server.client_connected("127.0.0.1", self.now) {
                        Ok(id) => {
                            assert!(count < MAXCONN, "client accepted beyond MAXCONN");
                            self.clients[slot] = Some(ClientModel::new(id));
                        }
                        Err(_) => assert_eq!(count, MAXCONN, "client refused below MAXCONN"),
                    }
                }
            }
            1 => {
                let slot = usize::from(input.byte()) % CLIENTS;
                let bytes = input.chunk();
                self.client_bytes(slot, bytes);
            }
            2 => {
                let slot = usize::from(input.byte()) % CLIENTS;
                let line = CLIENT_LINES[usize::from(input.byte()) % CLIENT_LINES.len()];
                self.client_bytes(slot, line);
            }
            3 => {
                let slot = usize::from(input.byte()) % CLIENTS;
                if let Some(m) = self.clients[slot].take() {
                    self.server.client_closed(m.id);
                }
            }
            4 => {
                let i = usize::from(input.byte()) % 2;
                let bytes = input.chunk();
                self.server.handle_driver_bytes(UPS_NAMES[i], bytes, self.now);
            }
            5 => {
                let i = usize::from(input.byte()) % 2;
                let bytes = DRIVER_LINES[usize::from(input.byte()) % DRIVER_LINES.len()];
                self.server.handle_driver_bytes(UPS_NAMES[i], bytes, self.now);
            }
            6 => {
                let b = input.byte();
                let i = usize::from(b & 1);
                if self.connecting[i] {
                    self.connecting[i] = false;
                    if b & 2 == 0 {
                        assert!(self.server.driver_connected(UPS_NAMES[i], self.now));
                        self.up[i] = true;
                    } else {
                        self.server.driver_connect_failed(UPS_NAMES[i], "refused", self.now);
                    }
                } else if self.up[i] {
                    self.up[i] = false;
                    self.server.driver_closed(UPS_NAMES[i], self.now);
                }
            }
            7 => {
                // Time passes; the adapter runs the timers that are due.
                let secs = u64::from(input.byte() % 80);
                self.now += Duration::from_millis(secs * 1000 + u64::from(input.byte()) * 4);
                if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.server.handle_timeout(self.now);
                }
            }
            _ => {
                // A timer run early must be harmless too.
                self.server.handle_timeout(self.now);
            }
        }
        self.drain();
    }
}

/// Target `upsd_session`: operations on the `upsd` core.
pub fn upsd_session(data: &[u8]) {
    let mut input = Input(data);
    let mut h = UpsdHarness::new();
    let mut n = 0;
    while !input.is_empty() && n < MAX_OPS {
        h.step(&mut input);
        n += 1;
    }
    // The timers keep going: every timeout is in the future once handled.
    for _ in 0..4 {
        let Some(t) = h.server.poll_timeout() else { break };
        h.now = h.now.max(t);
        h.server.handle_timeout(h.now);
        h.drain();
        if let Some(next) = h.server.poll_timeout() {
            assert!(next > h.now || h.connecting.iter().any(|&c| c), "timer due again at once");
        }
    }
}

// ---------------------------------------------------------------------------
// driver_session

/// A device for the driver core: publishes a few variables, takes `SET` with
/// `dummy-ups`'s rules, and fails its updates when told to.
struct FuzzDevice {
    fail: bool,
    ticks: u32,
}

impl Device for FuzzDevice {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        set_dummy_var(st, "ups.mfr", "Fuzz");
        set_dummy_var(st, "ups.status", "OL");
        st.addenum("ups.mfr", "Fuzz");
        st.addrange("ups.mfr", 1, 2);
        st.addcmd("load.off");
        Ok(())
    }

    fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        self.ticks = self.ticks.wrapping_add(1);
        st.setinfo("battery.charge", &(self.ticks % 101).to_string());
        if self.fail { Err(DeviceError::Stale(Message::cause("fuzz failure"))) } else { Ok(()) }
    }

    fn instcmd(&mut self, _: &mut Dstate, cmd: &str, _: Option<&str>, _: Instant) -> TrackingResult {
        if cmd.eq_ignore_ascii_case("load.off") {
            TrackingResult::Handled
        } else {
            TrackingResult::Unknown
        }
    }

    fn setvar(&mut self, st: &mut Dstate, var: &str, value: &str, _: Instant) -> TrackingResult {
        set_dummy_var(st, var, value)
    }
}

/// Socket lines the decoder can pick by number.
const SERVER_LINES: &[&[u8]] = &[
    b"DUMPALL\n",
    b"PING\n",
    b"SET ups.id \"x y\" TRACKING 1\n",
    b"SET new.var \"v\"\n",
    b"SET ups.mfr \"\"\n",
    b"INSTCMD load.off TRACKING 2\n",
    b"INSTCMD nosuch\n",
    b"GETPID\n",
    b"DUMPVALUE ups.mfr\n",
    b"DUMPSTATUS\n",
    b"NOBROADCAST\n",
    b"BROADCAST 1\n",
    b"LOGOUT\n",
];

/// Small enough that a connection that never reads overflows.
const DRIVER_MAX_OUTPUT: usize = 16 << 10;
const DRIVER_CONNS: usize = 4;

/// What the model of one socket connection counts.
#[derive(Default)]
struct SockModel {
    framer: Option<LineFramer>,
    /// DUMPALL, DUMPVALUE and DUMPSTATUS lines sent (each owes a DUMPDONE).
    dumps: usize,
    pings: usize,
    logout: bool,
    /// Bytes written to the peer so far.
    received: Vec<u8>,
    /// Complete lines already checked in `received`.
    done: usize,
    dumpdone: usize,
    pongs: usize,
}

/// Every dump request and every PING got its answer.
fn assert_all_answered(m: &SockModel) {
    assert_eq!(m.dumpdone, m.dumps, "DUMPDONE count differs from dump requests");
    assert_eq!(m.pongs, m.pings, "PONG count differs from PING count");
}

/// Target `driver_session`: operations on the driver core.
pub fn driver_session(data: &[u8]) {
    let mut input = Input(data);
    let now0 = Instant::now();
    let mut now = now0;
    let config = DriverConfig {
        timing: Timing { poll_interval: Duration::from_secs(2), ..Timing::default() },
        socket: SocketConfig { max_output: DRIVER_MAX_OUTPUT, max_line: 512, pid: 42 },
    };
    let mut driver = Driver::new(FuzzDevice { fail: false, ticks: 0 }, Dstate::new(), config);
    driver.start(now).expect("open");
    let mut conns: Vec<Option<(nut_driver::SockConnId, SockModel)>> =
        (0..DRIVER_CONNS).map(|_| None).collect();
    let mut n = 0;
    while !input.is_empty() && n < MAX_OPS {
        n += 1;
        let op = input.byte();
        let slot = usize::from(input.byte()) % DRIVER_CONNS;
        match op % 8 {
            0 => {
                if conns[slot].is_none() {
                    let id = driver.accept();
                    let model =
                        SockModel { framer: Some(LineFramer::new(512)), ..Default::default() };
                    conns[slot] = Some((id, model));
                }
            }
            1 | 2 => {
                let bytes = if op % 8 == 1 {
                    input.chunk()
                } else {
                    SERVER_LINES[usize::from(input.byte()) % SERVER_LINES.len()]
                };
                if let Some((id, m)) = conns[slot].as_mut() {
                    count_requests(m, bytes);
                    driver.handle_conn_bytes(*id, bytes, now);
                }
            }
            3 => {
                if let Some((id, _)) = conns[slot].take() {
                    driver.handle_conn_closed(id);
                }
            }
            4 => {
                // The adapter writes part of what is queued.
                let n = usize::from(input.byte()) * 64;
                if let Some((id, m)) = conns[slot].as_mut() {
                    write_some(&mut driver, *id, m, n);
                }
            }
            5 => {
                now += Duration::from_millis(u64::from(input.byte()) * 40);
                if driver.poll_timeout().is_some_and(|t| t <= now) {
                    driver.handle_timeout(now);
                }
            }
            6 => {
                let fail = input.byte() & 1 == 1;
                driver.with_state(|d, _| d.fail = fail);
            }
            _ => while driver.poll_event().is_some() {},
        }
        for slot in conns.iter_mut() {
            let Some((id, m)) = slot.as_mut() else { continue };
            let pending = driver.poll_transmit(*id).map_or(0, <[u8]>::len);
            assert!(pending <= DRIVER_MAX_OUTPUT, "{pending} bytes queued > max_output");
            check_sock_stream(m);
            if let Some(reason) = driver.close_reason(*id).cloned() {
                // Closing: what is queued goes out, then the adapter closes.
                write_some(&mut driver, *id, m, usize::MAX);
                driver.handle_conn_closed(*id);
                check_sock_stream(m);
                if reason == CloseReason::Logout {
                    assert_all_answered(m);
                }
                *slot = None;
            }
        }
    }
    // Drain everything: every dump answer is complete.
    for (id, mut m) in conns.into_iter().flatten() {
        let overflow = driver.close_reason(id) == Some(&CloseReason::OutputOverflow);
        write_some(&mut driver, id, &mut m, usize::MAX);
        check_sock_stream(&mut m);
        if !overflow {
            assert_all_answered(&m);
        }
    }
    check_dump_roundtrip(driver.dstate());
}

/// Counts the requests among the complete lines of `bytes`, as the core
/// frames them (lines after LOGOUT are not read).
fn count_requests(m: &mut SockModel, mut bytes: &[u8]) {
    let Some(framer) = m.framer.as_mut() else { return };
    while !bytes.is_empty() && !m.logout {
        let (used, frame) = framer.decode(bytes);
        bytes = &bytes[used..];
        if let Some(Ok(line)) = frame {
            match ServerMessage::parse(line) {
                Ok(
                    ServerMessage::DumpAll
                    | ServerMessage::DumpValue { .. }
                    | ServerMessage::DumpStatus,
                ) => m.dumps += 1,
                Ok(ServerMessage::Ping) => m.pings += 1,
                Ok(ServerMessage::Logout) => m.logout = true,
                _ => {}
            }
        }
    }
}

fn write_some<D: Device>(
    driver: &mut Driver<D>,
    id: nut_driver::SockConnId,
    m: &mut SockModel,
    max: usize,
) {
    let Some(out) = driver.poll_transmit(id) else { return };
    let n = out.len().min(max);
    m.received.extend_from_slice(&out[..n]);
    driver.transmitted(id, n);
}

/// Every line written to `upsd` parses as a driver message; DUMPDONE closes
/// each dump answer.
fn check_sock_stream(m: &mut SockModel) {
    let (ls, _) = lines(&m.received[m.done..]);
    let mut consumed = 0;
    let mut new_lines = Vec::new();
    for l in ls {
        consumed += l.len() + 1;
        assert!(l.len() < 1024, "socket line of {} bytes", l.len());
        let msg = DriverMessage::parse(l)
            .unwrap_or_else(|e| panic!("line {} to upsd does not parse: {e}", show(l)));
        new_lines.push(match msg {
            DriverMessage::DumpDone => 1,
            DriverMessage::Pong => 2,
            _ => 0,
        });
    }
    m.done += consumed;
    for kind in new_lines {
        match kind {
            1 => m.dumpdone += 1,
            2 => m.pongs += 1,
            _ => {}
        }
    }
    assert!(m.dumpdone <= m.dumps, "DUMPDONE without a dump request");
}

/// A DUMPALL answer, applied to an empty tree, rebuilds the same tree.
fn check_dump_roundtrip(st: &Dstate) {
    let mut out = Vec::new();
    st.dump_into(&mut out);
    let (ls, rest) = lines(&out);
    assert!(rest.is_empty());
    assert_eq!(ls.last().copied(), Some(&b"DUMPDONE"[..]), "DUMPALL does not end with DUMPDONE");
    let mut tree = UpsState::new();
    for l in ls {
        let msg = DriverMessage::parse(l)
            .unwrap_or_else(|e| panic!("dump line {} does not parse: {e}", show(l)));
        tree.apply(&msg).unwrap_or_else(|e| panic!("dump line {} does not apply: {e}", show(l)));
    }
    assert_eq!(&tree, st.tree(), "DUMPALL does not rebuild the tree");
}

// ---------------------------------------------------------------------------
// dummy_files

/// Target `dummy_files`: `dummy-ups` simulation files. Byte 0 even: the
/// rest is a file; odd: the rest describes `name: value` lines to write.
pub fn dummy_files(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        raw_file(rest);
    } else {
        generated_file(rest);
    }
}

fn raw_file(data: &[u8]) {
    let script = parse_script(data);
    let line_count = data.iter().filter(|&&b| b == b'\n').count() + 1;
    assert!(script.steps.len() <= line_count, "more steps than lines");
    assert!(script.bad_lines.len() <= line_count);
    assert!(script.bad_lines.windows(2).all(|w| w[0] < w[1]), "bad lines out of order");
    assert!(
        script
            .bad_lines
            .iter()
            .all(|&l| l >= 1 && usize::try_from(l).is_ok_and(|l| l <= line_count))
    );
    let mut alarm = false;
    for step in &script.steps {
        match step {
            Step::Set { name, value } => {
                assert!(!name.is_empty() && !name.starts_with("driver."), "step for {name:?}");
                assert!(!name.contains(':'), "name {name:?} keeps its colon");
                // The value is the words after the name joined by single
                // spaces, as NUT's dummy-ups joins them, and `=` is a word
                // of its own (`a=b` gives `= b`): its bytes come from the
                // file, plus one space per join. A line holds at most
                // MAX_WORDS words, each from at least one byte of it.
                let joins = (token::MAX_WORDS - 2).min(data.len().saturating_sub(2));
                assert!(
                    name.len() + value.len() <= data.len() + joins,
                    "{name:?} = {value:?} from {} bytes",
                    data.len()
                );
            }
            Step::Status(tokens) => assert!(tokens.len() <= token::MAX_WORDS),
            Step::Alarm(_) => alarm = true,
            Step::Timer(_) => {}
        }
    }
    assert_eq!(alarm, script.uses_alarm);
    // Played into a driver state, everything stays within the limits.
    let mut st = Dstate::new();
    play(&mut st, &script.steps);
    assert!(st.tree().var_count() <= MAX_ENTRIES);
    for (name, v) in st.tree().vars() {
        assert!(v.value.len() <= MAX_VALUE_LEN, "{name} holds {} bytes", v.value.len());
    }
    check_dump_roundtrip(&st);
}

/// Plays steps with `dummy-ups`'s SET rules.
fn play(st: &mut Dstate, steps: &[Step]) {
    for step in steps {
        match step {
            Step::Set { name, value } => {
                set_dummy_var(st, name, value);
            }
            Step::Status(tokens) => {
                st.status_init();
                for t in tokens {
                    st.status_set(t);
                }
                st.status_commit();
            }
            Step::Alarm(Some(text)) => st.alarm_set(text),
            Step::Alarm(None) => st.alarm_init(),
            Step::Timer(_) => {}
        }
    }
}

const NAME_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789._-";

fn generated_file(data: &[u8]) {
    let mut input = Input(data);
    let mut file = Vec::new();
    let mut expected = Vec::new();
    while !input.is_empty() && expected.len() < 64 {
        // A name: a letter, then name characters.
        let len = 1 + usize::from(input.byte() % 24);
        let mut name = String::from(char::from(b'a' + input.byte() % 26));
        for _ in 1..len {
            name.push(char::from(NAME_CHARS[usize::from(input.byte()) % NAME_CHARS.len()]));
        }
        if name.starts_with("driver.") {
            name.replace_range(..1, "x");
        }
        // A value: printable ASCII, quoted as one word when `b & 1` (so it may
        // hold spaces, quotes, backslashes, '#' and '='). Unquoted, those
        // are left out: '=' is a word of its own to NUT's tokenizer, so
        // `a=b` would read back as `a = b`, as NUT's dummy-ups reads it.
        let b = input.byte();
        let raw = input.chunk();
        let quoted = b & 1 == 1;
        let value: String = raw
            .iter()
            .map(|&c| char::from(0x20 + c % 0x5f))
            .filter(|&c| quoted || !matches!(c, ' ' | '"' | '\\' | '#' | '\'' | '='))
            .collect();
        file.extend_from_slice(name.as_bytes());
        file.extend_from_slice(b": ");
        if quoted {
            token::word_into(&mut file, &value);
        } else {
            file.extend_from_slice(value.as_bytes());
        }
        file.extend_from_slice(if b & 2 == 2 { b"\r\n" } else { b"\n" });
        expected.push((name, value, quoted));
    }
    let script = parse_script(&file);
    assert!(script.bad_lines.is_empty(), "bad lines {:?} in {}", script.bad_lines, show(&file));
    assert!(!script.uses_alarm);
    let want: Vec<Step> = expected
        .iter()
        .map(|(name, value, quoted)| {
            if name == "ups.status" {
                // An unquoted empty value is no word at all.
                Step::Status(if value.is_empty() && !quoted { vec![] } else { vec![value.clone()] })
            } else {
                Step::Set { name: name.clone(), value: value.clone() }
            }
        })
        .collect();
    assert_eq!(script.steps, want, "file {}", show(&file));
    // Played: each variable holds its last value (cut to MAX_VALUE_LEN);
    // an empty value deletes it.
    let mut st = Dstate::new();
    play(&mut st, &script.steps);
    let mut last: BTreeMap<String, &str> = BTreeMap::new();
    for (name, value, _) in &expected {
        last.insert(name.to_ascii_lowercase(), value);
    }
    for (name, value) in last {
        if name == "ups.status" {
            continue;
        }
        let got = st.getinfo(&name);
        if value.is_empty() {
            assert_eq!(got, None, "{name} should be deleted");
        } else {
            let cut = &value[..value.len().min(MAX_VALUE_LEN)];
            assert_eq!(got, Some(cut), "value of {name}");
        }
    }
}
