//! A test world for the upsd core: the configuration of the recorded
//! transcripts (`nut-proto/tests/transcripts/`), in-memory fake drivers fed
//! from the recorded driver dumps, and a fake clock.

#![allow(dead_code, unreachable_pub)]

use nut_proto::sock::ServerMessage;
use nut_server::upsd::{ConnId, Descriptions, Dest, Event, Options, Server, UpsConf, Users};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const UPS_CONF: &str = r#"
[dummy]
  driver = dummy-ups
  port = dummy.dev
  desc = "Test \"quoted\" \# box"
[seq]
  driver = dummy-ups
  port = seq.seq
[fake]
  driver = dummy-ups
  port = fake.dev
  desc = "Fake driver with enums and ranges"
[nodriver]
  driver = dummy-ups
  port = nodriver.dev
  desc = "Configured but no driver running"
[stale]
  driver = dummy-ups
  port = stale.dev
  desc = "Fake driver that reports DATASTALE"
"#;

pub const USERS: &str = "[admin]\n password = adminpass\n actions = SET FSD\n instcmds = ALL\n\
    [monprimary]\n password = primarypass\n upsmon primary\n\
    [monsecondary]\n password = secondarypass\n upsmon secondary\n";

/// The descriptions the transcripts show (a few lines of NUT's table).
pub const CMDVARTAB: &str = r#"
VARDESC ups.status "UPS status"
VARDESC ups.id "UPS system identifier"
VARDESC ups.mfr "UPS manufacturer"
VARDESC ups.model "UPS model"
VARDESC battery.charge "Battery charge (percent of full)"
VARDESC input.voltage "Input voltage (V)"
CMDDESC load.off "Turn off the load immediately"
CMDDESC beeper.toggle "Toggle the UPS beeper"
"#;

pub fn transcript_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../nut-proto/tests/transcripts")
}

/// The `(direction, line)` records of a transcript file.
pub fn read_transcript(name: &str) -> Vec<(char, String)> {
    let text = std::fs::read_to_string(transcript_dir().join(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| (l.chars().next().unwrap(), l[3..].to_string()))
        .collect()
}

/// The driver's answer to DUMPALL, from a recorded `sock-*` file.
pub fn dump_from(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (d, l) in read_transcript(name) {
        if d == 'D' {
            out.push(l.clone());
            if l == "DUMPDONE" {
                break;
            }
        }
    }
    out
}

/// How a fake driver behaves.
#[derive(Clone, Debug)]
pub struct FakeDriver {
    /// Lines answering DUMPALL.
    pub dump: Vec<String>,
    /// Echo SET values raw inside quotes, as NUT 2.8's dummy-ups does.
    pub raw_setinfo: bool,
    /// Status answered for tracked INSTCMDs.
    pub instcmd_status: i32,
    /// Answer PING.
    pub pong: bool,
}

pub struct World {
    pub server: Server,
    pub now: Instant,
    pub drivers: HashMap<String, FakeDriver>,
    /// What each fake driver received.
    pub driver_log: HashMap<String, Vec<String>>,
    /// Bytes each client received.
    pub client_out: HashMap<ConnId, Vec<u8>>,
    pub closed: Vec<ConnId>,
    pub events: Vec<Event>,
}

pub fn transcript_options() -> Options {
    Options { maxage: Duration::from_secs(6), version: "2.8.0".into(), ..Options::default() }
}

impl World {
    /// The transcripts' configuration, with fake drivers for every UPS but
    /// `nodriver`, all connected and dumped.
    pub fn transcripts() -> World {
        let mut drivers = HashMap::new();
        drivers.insert(
            "dummy".to_string(),
            FakeDriver {
                dump: dump_from("sock-dummy-dumpall.txt"),
                raw_setinfo: true,
                instcmd_status: 1,
                pong: true,
            },
        );
        drivers.insert(
            "seq".to_string(),
            FakeDriver {
                dump: dump_from("sock-seq-updates.txt"),
                raw_setinfo: true,
                instcmd_status: 1,
                pong: true,
            },
        );
        drivers.insert(
            "fake".to_string(),
            FakeDriver {
                dump: dump_from("sock-fake-driver.txt"),
                raw_setinfo: false,
                instcmd_status: 0,
                pong: true,
            },
        );
        drivers.insert(
            "stale".to_string(),
            FakeDriver {
                dump: vec![
                    "SETINFO ups.status \"OL\"".into(),
                    "DATASTALE".into(),
                    "DUMPDONE".into(),
                ],
                raw_setinfo: false,
                instcmd_status: 0,
                pong: true,
            },
        );
        World::new(transcript_options(), UPS_CONF, USERS, drivers)
    }

    pub fn new(
        options: Options,
        ups_conf: &str,
        users: &str,
        drivers: HashMap<String, FakeDriver>,
    ) -> World {
        let ups = UpsConf::parse("ups.conf", ups_conf.as_bytes());
        assert!(ups.problems.is_empty(), "{:?}", ups.problems);
        let users = Users::parse("upsd.users", users.as_bytes());
        assert!(users.problems.is_empty(), "{:?}", users.problems);
        let now = Instant::now();
        let server = Server::new(
            options,
            ups.value.ups,
            users.value,
            Descriptions::parse(CMDVARTAB.as_bytes()),
            now,
        );
        let mut w = World {
            server,
            now,
            drivers,
            driver_log: HashMap::new(),
            client_out: HashMap::new(),
            closed: Vec::new(),
            events: Vec::new(),
        };
        w.server.handle_timeout(now);
        w.pump();
        w
    }

    /// Moves the fake clock and runs the server's timers.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.server.handle_timeout(self.now);
        self.pump();
    }

    pub fn connect(&mut self, addr: &str) -> ConnId {
        self.server.client_connected(addr, self.now).unwrap()
    }

    /// Sends bytes from a client and returns what it got back.
    pub fn send(&mut self, conn: ConnId, bytes: &[u8]) -> Vec<u8> {
        self.server.handle_client_bytes(conn, bytes, self.now);
        self.pump();
        self.client_out.remove(&conn).unwrap_or_default()
    }

    pub fn send_str(&mut self, conn: ConnId, s: &str) -> String {
        String::from_utf8(self.send(conn, s.as_bytes())).unwrap()
    }

    /// Feeds bytes as if the driver of `ups` sent them.
    pub fn driver_says(&mut self, ups: &str, bytes: &str) {
        self.server.handle_driver_bytes(ups, bytes.as_bytes(), self.now);
        self.pump();
    }

    /// Runs transmits and events until nothing is left, answering driver
    /// messages with the fake drivers.
    pub fn pump(&mut self) {
        for _ in 0..1000 {
            let mut progressed = false;
            while let Some(t) = self.server.poll_transmit() {
                progressed = true;
                match t.dest {
                    Dest::Client(c) => self.client_out.entry(c).or_default().extend(t.data),
                    Dest::Driver(ups) => {
                        let text = String::from_utf8(t.data).unwrap();
                        for line in text.lines() {
                            self.driver_log.entry(ups.clone()).or_default().push(line.into());
                            let reply = self.driver_reply(&ups, line);
                            if !reply.is_empty() {
                                self.server.handle_driver_bytes(&ups, reply.as_bytes(), self.now);
                            }
                        }
                    }
                }
            }
            while let Some(e) = self.server.poll_event() {
                progressed = true;
                match &e {
                    Event::ConnectDriver { ups, .. } => {
                        if self.drivers.contains_key(ups) {
                            assert!(self.server.driver_connected(ups, self.now));
                        } else {
                            self.server.driver_connect_failed(ups, "no such file", self.now);
                        }
                    }
                    Event::CloseClient(c) => {
                        self.closed.push(*c);
                        self.server.client_closed(*c);
                    }
                    _ => {}
                }
                self.events.push(e);
            }
            if !progressed {
                return;
            }
        }
        panic!("the server never went quiet");
    }

    fn driver_reply(&self, ups: &str, line: &str) -> String {
        let Some(d) = self.drivers.get(ups) else { return String::new() };
        let msg = ServerMessage::parse(line.as_bytes()).unwrap();
        let mut out = String::new();
        match msg {
            ServerMessage::DumpAll => {
                for l in &d.dump {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            ServerMessage::Ping if d.pong => out.push_str("PONG\n"),
            ServerMessage::Set { var, value, tracking } => {
                if d.raw_setinfo {
                    out.push_str(&format!("SETINFO {var} \"{value}\"\n"));
                } else {
                    let m = nut_proto::DriverMessage::SetInfo { var, value };
                    out.push_str(std::str::from_utf8(&m.to_line()).unwrap());
                }
                if let Some(id) = tracking {
                    out.push_str(&format!("TRACKING {id} 0\n"));
                }
            }
            ServerMessage::InstCmd { tracking: Some(id), .. } => {
                out.push_str(&format!("TRACKING {id} {}\n", d.instcmd_status));
            }
            _ => {}
        }
        out
    }
}
