//! `nut-demo`: a simulated UPS served by our `upsd`, with a narrating
//! watcher. See the crate README.

use nix::sys::signal::{SigSet, Signal, kill};
use nix::unistd::{Pid, Uid, User};
use nut_proto::LineFramer;
use nut_proto::net::{Command, Query, Reply};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SCENARIO: &str = include_str!("outage.seq");
const UPS: &str = "demo";

struct Options {
    cycles: Option<u32>,
    step: u32,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options { cycles: None, step: 3 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u32, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or(format!("{name} needs a positive number"))
        };
        match a.as_str() {
            "--cycles" => o.cycles = Some(num("--cycles")?),
            "--step" => o.step = num("--step")?,
            "-h" | "--help" => {
                println!("usage: nut-demo [--cycles N] [--step SECONDS]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(o)
}

/// A started program, stopped (SIGTERM, then SIGKILL) on drop.
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(
        name: &'static str,
        mut cmd: std::process::Command,
        dir: &Path,
    ) -> Result<Self, String> {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Daemon { name, child, log })
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.exited() {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while !self.exited() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nut-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let opts = parse_args()?;
    // Signals are taken synchronously by this thread (sigwait); threads
    // started later inherit the mask, and child processes get a clean one.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGUSR1, Signal::SIGUSR2] {
        signals.add(s);
    }
    signals.thread_block().map_err(|e| format!("block signals: {e}"))?;

    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .ok_or("cannot find my own directory")?;
    let upsd = bin_dir.join("upsd");
    let driver = bin_dir.join("dummy-ups");
    for b in [&upsd, &driver] {
        if !b.is_file() {
            return Err(format!(
                "{} not found: build it first (cargo build -p nut-upsd -p nut-drivers -p nut-demo)",
                b.display()
            ));
        }
    }

    let dir = tempfile::Builder::new().prefix("nut-demo-").tempdir().map_err(|e| e.to_string())?;
    let etc = dir.path().join("etc");
    let state = dir.path().join("state");
    for d in [&etc, &state] {
        std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let scenario: String = SCENARIO
        .lines()
        .map(|l| match l.strip_prefix("TIMER ").and_then(|n| n.trim().parse::<u32>().ok()) {
            Some(n) => format!("TIMER {}\n", n * opts.step),
            None => format!("{l}\n"),
        })
        .collect();
    let files = [
        ("outage.seq", scenario),
        (
            "ups.conf",
            format!(
                "[{UPS}]\n  driver = dummy-ups\n  port = outage.seq\n  pollinterval = 1\n  \
                 desc = \"Simulated UPS (nut-rs demo)\"\n"
            ),
        ),
        ("upsd.conf", format!("LISTEN 127.0.0.1 {port}\nMAXAGE 15\n")),
        ("upsd.users", "[monitor]\n  password = demo\n  upsmon primary\n".to_string()),
    ];
    for (name, text) in &files {
        std::fs::write(etc.join(name), text).map_err(|e| format!("write {name}: {e}"))?;
    }

    // When started as root, run as root explicitly (the demo needs no user
    // switch); otherwise run as whoever we are.
    let user_args: Vec<String> = if Uid::effective().is_root() {
        let name =
            User::from_uid(Uid::effective()).ok().flatten().map_or("root".into(), |u| u.name);
        vec!["-u".into(), name]
    } else {
        Vec::new()
    };
    let command = |bin: &Path, args: &[&str]| {
        let mut c = std::process::Command::new(bin);
        c.args(args)
            .args(&user_args)
            .env("NUT_CONFPATH", &etc)
            .env("NUT_STATEPATH", &state)
            .env("NUT_ALTPIDPATH", &state);
        c
    };

    println!("nut-rs demo: a simulated UPS '{UPS}' served on 127.0.0.1:{port}");
    println!("  config and logs: {}", dir.path().display());
    println!("  try in another terminal: upsc {UPS}@127.0.0.1:{port}");
    println!("  Ctrl-C stops everything.\n");
    let mut daemons = vec![
        Daemon::start("dummy-ups", command(&driver, &["-a", UPS, "-F"]), dir.path())?,
        Daemon::start("upsd", command(&upsd, &["-F"]), dir.path())?,
    ];

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        let cycles = opts.cycles;
        std::thread::spawn(move || watch(port, cycles, &stop))
    };

    let sig = signals.wait().map_err(|e| format!("wait for signals: {e}"))?;
    stop.store(true, Ordering::SeqCst);
    let outcome = watcher.join().unwrap_or(Err("the watcher panicked".into()));
    let failed = sig == Signal::SIGUSR2 || outcome.is_err();
    if let Err(e) = &outcome {
        eprintln!("\nnut-demo: {e}");
    }
    for d in &mut daemons {
        if failed || d.exited() {
            eprintln!(
                "----- {} log -----\n{}",
                d.name,
                std::fs::read_to_string(&d.log).unwrap_or_default()
            );
        }
    }
    drop(daemons);
    println!("\nstopped the driver and upsd; removed {}", dir.path().display());
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Polls `LIST VAR` and narrates changes until `stop`, or until `cycles`
/// outages have been seen through. Signals the main thread when it is done
/// (SIGUSR1) or cannot reach the server (SIGUSR2).
fn watch(port: u16, cycles: Option<u32>, stop: &AtomicBool) -> Result<(), String> {
    let result = narrate(port, cycles, stop);
    let sig = if result.is_ok() { Signal::SIGUSR1 } else { Signal::SIGUSR2 };
    let _ = kill(Pid::this(), sig);
    result
}

fn narrate(port: u16, cycles: Option<u32>, stop: &AtomicBool) -> Result<(), String> {
    let start = Instant::now();
    let stamp = || format!("[{:6.1}s]", start.elapsed().as_secs_f64());
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    let mut last_error = String::new();
    let mut failing_since: Option<Instant> = None;
    let (mut saw_ob, mut saw_lb, mut done) = (false, false, 0);
    while !stop.load(Ordering::SeqCst) {
        match list_vars(port) {
            Ok(vars) => {
                failing_since = None;
                last_error.clear();
                for key in ["ups.status", "battery.charge", "battery.runtime", "input.voltage"] {
                    let (Some(new), old) = (vars.get(key), last.get(key)) else { continue };
                    if Some(new) == old {
                        continue;
                    }
                    let old = old.map_or("-", String::as_str);
                    println!("{} {key:<16} {old:>10} -> {new:<14}{}", stamp(), explain(key, new));
                }
                let status = vars.get("ups.status").map_or("", String::as_str);
                let tokens: Vec<&str> = status.split_whitespace().collect();
                saw_ob |= tokens.contains(&"OB");
                saw_lb |= tokens.contains(&"OB") && tokens.contains(&"LB");
                if tokens.contains(&"OL") && saw_ob && saw_lb {
                    done += 1;
                    saw_ob = false;
                    saw_lb = false;
                    println!(
                        "{} outage {done} survived: power is back and the battery is recharging\n",
                        stamp()
                    );
                    if cycles.is_some_and(|c| done >= c) {
                        return Ok(());
                    }
                }
                last = vars;
            }
            Err(e) => {
                if e != last_error {
                    println!("{} {e}", stamp());
                    last_error = e;
                }
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(20) {
                    return Err(format!("no answer from upsd for 20 s: {last_error}"));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}

fn explain(key: &str, value: &str) -> String {
    match key {
        "ups.status" => {
            let t: Vec<&str> = value.split_whitespace().collect();
            if t.contains(&"OB") && t.contains(&"LB") {
                "on battery, battery LOW: upsmon would shut this machine down now".into()
            } else if t.contains(&"OB") {
                "power failed: running on battery".into()
            } else if t.contains(&"OL") && t.contains(&"CHRG") {
                "power is back: on line, charging".into()
            } else if t.contains(&"OL") {
                "on line power".into()
            } else {
                String::new()
            }
        }
        "battery.charge" => "%".into(),
        "battery.runtime" => "s of runtime left".into(),
        "input.voltage" => "V at the input".into(),
        _ => String::new(),
    }
}

/// One `LIST VAR` over a fresh connection, read with NUT's framing.
fn list_vars(port: u16) -> Result<BTreeMap<String, String>, String> {
    let mut s =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("waiting for upsd ({e})"))?;
    s.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let mut out = Command::List(Query::Var { ups: UPS.into() }).to_line();
    out.extend(Command::Logout.to_line());
    s.write_all(&out).map_err(|e| e.to_string())?;
    let mut framer = LineFramer::default();
    let mut vars = BTreeMap::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).map_err(|e| format!("reading from upsd: {e}"))?;
        if n == 0 {
            return Err("upsd closed the connection".into());
        }
        let mut input = &buf[..n];
        while !input.is_empty() {
            let (used, frame) = framer.decode(input);
            input = &input[used..];
            let Some(frame) = frame else { continue };
            let line = frame.map_err(|e| e.to_string())?;
            match Reply::parse(line).map_err(|e| format!("bad reply from upsd: {e}"))? {
                Reply::Var { var, value, .. } => {
                    vars.insert(var.into_owned(), value.into_owned());
                }
                Reply::EndList(_) => return Ok(vars),
                Reply::Err { code, .. } => {
                    return Err(format!("upsd says {code} ({})", code.description()));
                }
                _ => {}
            }
        }
    }
}
