//! `nut-demo`: a simulated UPS served by our `upsd`, watched by our `upsmon`, narrated.
//! See the crate README.

use nix::sys::signal::{SigSet, Signal, kill, killpg};
use nix::unistd::{Pid, Uid, User};
use nut_proto::LineFramer;
use nut_proto::net::{Command, Query, Reply};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::Mutex;
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
        // A process group of its own, so that stopping it stops what it
        // started too (upsmon's monitoring child).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
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

impl Daemon {
    /// Stops it and its process group: SIGTERM, then SIGKILL after 3 s.
    fn stop(&mut self) {
        let group = Pid::from_raw(self.child.id() as i32);
        if !self.exited() {
            let _ = killpg(group, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while !self.exited() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = killpg(group, Signal::SIGKILL);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
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
    // What a parent blocked or ignored is undone first: an ignored SIGTERM
    // would be discarded before sigwait could see it.
    nut_daemon::signals::reset(&[]).map_err(|e| format!("reset signals: {e}"))?;
    let opts = parse_args()?;
    // Signals are taken synchronously by this thread (sigwait); threads
    // started later inherit the mask, and child processes get a clean one
    // (std::process::Command empties it; the handlers `reset` installed
    // go back to the default at exec). SIGTERM and SIGHUP (the terminal
    // closed) stop everything as Ctrl-C does.
    let mut signals = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGUSR2] {
        signals.add(s);
    }
    signals.thread_block().map_err(|e| format!("block signals: {e}"))?;

    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .ok_or("cannot find my own directory")?;
    let upsd = bin_dir.join("upsd");
    let driver = bin_dir.join("dummy-ups");
    let upsmon = bin_dir.join("upsmon");
    for b in [&upsd, &driver, &upsmon] {
        if !b.is_file() {
            return Err(format!(
                "{} not found: build it first \
                 (cargo build -p nut-upsd -p nut-drivers -p nut-clients -p nut-demo)",
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
    let port = free_port()?;
    let scenario: String = SCENARIO
        .lines()
        .map(|l| match l.strip_prefix("TIMER ").and_then(|n| n.trim().parse::<u32>().ok()) {
            Some(n) => format!("TIMER {}\n", n * opts.step),
            None => format!("{l}\n"),
        })
        .collect();
    let events = dir.path().join("events.log");
    let notify = dir.path().join("notify.sh");
    let flag = state.join("killpower");
    // upsmon runs NOTIFYCMD as `sh -c '<cmd> "$1"'` with NOTIFYTYPE and
    // UPSNAME set, and SHUTDOWNCMD with sh: both only append to a file that
    // the watcher prints. Nothing is shut down.
    let notify_script = format!(
        "#!/bin/sh\nprintf '%s\\t%s\\n' \"$NOTIFYTYPE\" \"$1\" >> '{}'\n",
        events.display()
    );
    let mut upsmon_conf = format!(
        "MONITOR {UPS}@127.0.0.1:{port} 1 monitor demo primary\nMINSUPPLIES 1\n\
         SHUTDOWNCMD \"printf 'SHUTDOWNCMD\\\\t%s\\\\n' 'a real machine would halt now' >> '{ev}'\"\n\
         NOTIFYCMD \"{notify}\"\nPOLLFREQ 1\nPOLLFREQALERT 1\nHOSTSYNC 5\nDEADTIME 5\n\
         FINALDELAY 1\nPOWERDOWNFLAG \"{flag}\"\n",
        ev = events.display(),
        notify = notify.display(),
        flag = flag.display(),
    );
    for kind in ["ONLINE", "ONBATT", "LOWBATT", "FSD", "COMMOK", "COMMBAD", "SHUTDOWN", "NOCOMM"] {
        upsmon_conf.push_str(&format!("NOTIFYFLAG {kind} EXEC\n"));
    }
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
        ("upsmon.conf", upsmon_conf),
    ];
    for (name, text) in &files {
        std::fs::write(etc.join(name), text).map_err(|e| format!("write {name}: {e}"))?;
    }
    std::fs::write(&notify, notify_script).map_err(|e| format!("write notify.sh: {e}"))?;
    std::fs::set_permissions(&notify, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| format!("chmod notify.sh: {e}"))?;

    // Every program runs as whoever started the demo: as root, say so
    // explicitly (`-u root`), so that nothing switches to a `nut` user.
    let me = User::from_uid(Uid::effective()).ok().flatten().map_or("root".into(), |u| u.name);
    let user_args: Vec<String> = vec!["-u".into(), me];
    let command = |bin: &Path, args: &[&str]| {
        let mut c = std::process::Command::new(bin);
        c.args(args)
            .args(&user_args)
            .env("NUT_CONFPATH", &etc)
            .env("NUT_STATEPATH", &state)
            .env("NUT_ALTPIDPATH", &state);
        c
    };

    println!("nut-rs demo: a simulated UPS '{UPS}' served on 127.0.0.1:{port}, watched by upsmon");
    println!("  config and logs: {}", dir.path().display());
    println!("  try in another terminal: upsc {UPS}@127.0.0.1:{port}");
    println!("  Ctrl-C stops everything.\n");
    let driver_daemon =
        Daemon::start("dummy-ups", command(&driver, &["-a", UPS, "-F"]), dir.path())?;
    let start_upsd = || Daemon::start("upsd", command(&upsd, &["-F"]), dir.path());
    // upsmon in NUT's split mode: a parent that may run SHUTDOWNCMD and a
    // child that watches (both as the demo's user here).
    let start_upsmon = || Daemon::start("upsmon", command(&upsmon, &["-F"]), dir.path());
    let stack =
        Mutex::new(Stack { driver: driver_daemon, upsd: start_upsd()?, upsmon: start_upsmon()? });

    let stop = AtomicBool::new(false);
    let (sig, outcome) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let restart = || -> Result<(), String> {
                let mut st = stack.lock().map_err(|_| "lock poisoned")?;
                // Like a machine booting after the UPS cut its power: upsd
                // (whose FSD flag is gone with it) and upsmon start afresh.
                // Nothing of the old upsmon survives (its monitoring child
                // may outlive the parent that ran SHUTDOWNCMD for a moment),
                // and /run is empty again: a PID file left behind would
                // make the new upsmon refuse to start while that child, or
                // its zombie, is still there.
                st.upsmon.stop();
                let _ = std::fs::remove_file(state.join("upsmon.pid"));
                st.upsd.stop();
                st.upsd = start_upsd()?;
                // upsmon starts once upsd serves the UPS again, as it would
                // after a boot (it would otherwise report COMMBAD at once).
                let deadline = Instant::now() + Duration::from_secs(15);
                let serving = || {
                    list_vars(port).is_ok_and(|v| v.get("ups.status").is_some_and(|s| s != "WAIT"))
                };
                while !serving() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                }
                st.upsmon = start_upsmon()?;
                Ok(())
            };
            let upsmon_running = || stack.lock().map(|mut s| !s.upsmon.exited()).unwrap_or(false);
            signal_main(narrate(port, opts.cycles, &stop, &events, &upsmon_running, &restart))
        });
        let sig = signals.wait().map_err(|e| format!("wait for signals: {e}"));
        stop.store(true, Ordering::SeqCst);
        (sig, watcher.join().unwrap_or(Err("the watcher panicked".into())))
    });
    let sig = sig?;
    let failed = sig == Signal::SIGUSR2 || outcome.is_err();
    if let Err(e) = &outcome {
        eprintln!("\nnut-demo: {e}");
    }
    let mut stack = stack.into_inner().map_err(|_| "lock poisoned")?;
    for d in [&mut stack.driver, &mut stack.upsd, &mut stack.upsmon] {
        if failed || (d.exited() && d.name != "upsmon") {
            eprintln!(
                "----- {} log -----\n{}",
                d.name,
                std::fs::read_to_string(&d.log).unwrap_or_default()
            );
        }
    }
    drop(stack);
    println!("\nstopped the driver, upsd and upsmon; removed {}", dir.path().display());
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The programs the demo runs.
struct Stack {
    driver: Daemon,
    upsd: Daemon,
    upsmon: Daemon,
}

/// A free port on 127.0.0.1 for the demo's `upsd`, below the kernel's range
/// of ports for outgoing connections (`ip_local_port_range`): `upsd` binds
/// it again after the simulated reboot, and a port from that range could
/// meanwhile have become the local end of some connection. Port 0's choice
/// when no port below the range is free.
fn free_port() -> Result<u16, String> {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if let Some(span) = low.checked_sub(10000).filter(|s| *s > 0) {
        let first = std::process::id() % u32::from(span);
        for i in 0..u32::from(span).min(2000) {
            let port = 10000 + ((first + i) % u32::from(span)) as u16;
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

/// Tells the main thread that the watcher is done (SIGUSR1) or could not
/// reach the server (SIGUSR2), and passes the result on.
fn signal_main(result: Result<(), String>) -> Result<(), String> {
    let sig = if result.is_ok() { Signal::SIGUSR1 } else { Signal::SIGUSR2 };
    let _ = kill(Pid::this(), sig);
    result
}

/// Polls `LIST VAR` and narrates changes and upsmon's notifications until
/// `stop`, or until `cycles` outages have been seen through.
fn narrate(
    port: u16,
    cycles: Option<u32>,
    stop: &AtomicBool,
    events: &Path,
    upsmon_running: &dyn Fn() -> bool,
    restart: &dyn Fn() -> Result<(), String>,
) -> Result<(), String> {
    let start = Instant::now();
    let stamp = || format!("[{:6.1}s]", start.elapsed().as_secs_f64());
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    let mut last_error = String::new();
    let mut failing_since: Option<Instant> = None;
    let mut events_read = 0usize;
    let (mut saw_ob, mut saw_lb, mut shut_down, mut done) = (false, false, false, 0);
    while !stop.load(Ordering::SeqCst) {
        // Looked at before the notifications: upsmon records SHUTDOWNCMD
        // before it exits, so an exit without it is a failure.
        let upsmon_gone = !upsmon_running();
        if let Ok(text) = std::fs::read_to_string(events) {
            let new = text.get(events_read..).unwrap_or("");
            // Only whole lines; a partly written one waits for the next turn.
            let whole = new.rfind('\n').map_or(0, |i| i + 1);
            for line in new[..whole].lines() {
                let (kind, msg) = line.split_once('\t').unwrap_or((line, ""));
                println!("{} upsmon: {kind:<11} {msg}", stamp());
                shut_down |= kind == "SHUTDOWNCMD";
            }
            events_read += whole;
        }
        if upsmon_gone && !shut_down {
            return Err("upsmon exited without a shutdown".into());
        }
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
                    println!("{} {key:<16} {old:>17} -> {new:<18}{}", stamp(), explain(key, new));
                }
                let status = vars.get("ups.status").map_or("", String::as_str);
                let tokens: Vec<&str> = status.split_whitespace().collect();
                let (ob, lb, ol) =
                    (tokens.contains(&"OB"), tokens.contains(&"LB"), tokens.contains(&"OL"));
                last = vars;
                saw_ob |= ob;
                saw_lb |= ob && lb;
                if ol && upsmon_gone {
                    println!(
                        "{} power is back: the machine boots again, upsd and upsmon restart",
                        stamp()
                    );
                    restart()?;
                    shut_down = false;
                    continue;
                }
                if ol && saw_ob && saw_lb && !shut_down {
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
                "on battery, battery LOW: time for upsmon to shut this machine down".into()
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
