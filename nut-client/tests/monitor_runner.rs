//! The monitor runners (`monitor::io`) against a loopback server that
//! answers with the lines NUT 2.8.0's `upsd` gave an `upsmon primary` user
//! (tests/data/net-raw-upsmon-primary.txt), and `ups.status` from a value
//! the test changes: an outage drives the monitor to its shutdown action.

use nut_client::monitor::{Action, Monitor, MonitorDef, NotifyKind, Role, UpsmonConf};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Status = Arc<Mutex<String>>;

fn recorded() -> HashMap<String, String> {
    let t = include_str!("data/net-raw-upsmon-primary.txt");
    let mut map = HashMap::new();
    let mut lines = t.lines().peekable();
    while let Some(l) = lines.next() {
        if let Some(cmd) = l.strip_prefix("C: ") {
            if let Some(reply) = lines.peek().and_then(|r| r.strip_prefix("S: ")) {
                map.entry(cmd.to_string()).or_insert_with(|| reply.to_string());
            }
        }
    }
    // NUT's answer to a granted FSD (RFC 9271), absent from the recording.
    map.insert("FSD dummy".into(), "OK FSD-SET".into());
    map
}

fn serve(conn: TcpStream, answers: Arc<HashMap<String, String>>, status: Status) {
    let mut w = conn.try_clone().unwrap();
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        // The client quotes what needs it; the recording has bare words.
        let line = line.replace('"', "");
        let reply = if line == "GET VAR dummy ups.status" {
            format!("VAR dummy ups.status \"{}\"", status.lock().unwrap())
        } else {
            answers.get(&line).cloned().unwrap_or_else(|| "ERR UNKNOWN-COMMAND".into())
        };
        if w.write_all(format!("{reply}\n").as_bytes()).is_err() {
            return;
        }
    }
}

fn start(status: Status) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answers = Arc::new(recorded());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (a, s) = (answers.clone(), status.clone());
            std::thread::spawn(move || serve(conn, a, s));
        }
    });
    port
}

fn conf(port: u16) -> UpsmonConf {
    let system = format!("dummy@127.0.0.1:{port}");
    UpsmonConf::default()
        .with_monitor(
            MonitorDef::new(&system, 1, "monprimary", "primarypass", Role::Primary).unwrap(),
        )
        .with_poll_freq(1, 1)
        .with_host_sync(1)
        .with_final_delay(0)
}

#[test]
fn blocking_runner_shuts_down_on_low_battery() {
    let status: Status = Arc::new(Mutex::new("OL".into()));
    let port = start(status.clone());
    let mut runner =
        nut_client::monitor::io::blocking::Runner::new(Monitor::new(conf(port), Instant::now()));
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    // Wait for the first successful poll, then cut the power.
    while runner.monitor().ups_list()[0].last_poll().is_none() {
        assert!(Instant::now() < deadline, "never polled");
        if let Some(a) = runner.poll_action() {
            panic!("unexpected action while on line: {a:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    *status.lock().unwrap() = "OB LB".into();
    loop {
        assert!(Instant::now() < deadline, "no shutdown; saw {seen:?}");
        match runner.next_action() {
            Action::Notify(n) => seen.push(n.kind),
            Action::Shutdown => break,
            _ => {}
        }
    }
    assert!(seen.contains(&NotifyKind::OnBatt), "{seen:?}");
    assert!(seen.contains(&NotifyKind::LowBatt), "{seen:?}");
    assert_eq!(seen.last(), Some(&NotifyKind::Shutdown), "{seen:?}");
    runner.logout_all();
}

#[test]
fn tokio_runner_shuts_down_on_low_battery() {
    let status: Status = Arc::new(Mutex::new("OB LB".into()));
    let port = start(status);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let seen = rt.block_on(async {
        let mut runner =
            nut_client::monitor::io::tokio::Runner::new(Monitor::new(conf(port), Instant::now()));
        let mut seen = Vec::new();
        let run = async {
            loop {
                match runner.next_action().await {
                    Action::Notify(n) => seen.push(n.kind),
                    Action::Shutdown => break,
                    _ => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), run).await.expect("a shutdown");
        seen
    });
    assert_eq!(seen.last(), Some(&NotifyKind::Shutdown), "{seen:?}");
}
