//! Our `upsc`, `upscmd` and `upsrw` next to Debian's 2.8.0 tools, on the
//! same server (Debian's `upsd`, then ours): same stdout, same exit code,
//! same stderr except the line Debian's NSS build prints at start-up.

mod support;

use nut_testkit::{free_port, peer};
use std::path::PathBuf;
use std::process::Command;
use support::{Outcome, Which, ours, run, start};

/// `(tool, args, compare stderr)`; `{h}` is the server, `{dead}` a port
/// nobody listens on.
const CASES: &[(&str, &[&str], bool)] = &[
    ("upsc", &["dummy@{h}"], true),
    ("upsc", &["other@{h}"], true),
    ("upsc", &["dummy@{h}", "ups.status"], true),
    ("upsc", &["dummy@{h}", "ups.id"], true),
    ("upsc", &["dummy@{h}", "nonexistent.var"], true),
    ("upsc", &["dummy@{h}", "oldstyle"], true),
    ("upsc", &["nosuchups@{h}"], true),
    ("upsc", &["nosuchups@{h}", "ups.status"], true),
    ("upsc", &["-l", "{h}"], true),
    ("upsc", &["-L", "{h}"], true),
    ("upsc", &["-c", "dummy@{h}"], true),
    ("upsc", &["-c", "nosuchups@{h}"], true),
    ("upsc", &["dummy@{dead}"], true),
    ("upsc", &["-l", "{dead}"], true),
    // NUT's client library prints an extra diagnostic line before the
    // error for these: compare stdout and the exit code only.
    ("upsc", &[], false),
    ("upsc", &["-l", "127.0.0.1:0"], false),
    ("upsc", &["dummy@127.0.0.1:"], false),
    ("upsrw", &["dummy@{h}"], true),
    ("upsrw", &["-l", "other@{h}"], true),
    ("upsrw", &["nosuchups@{h}"], true),
    ("upsrw", &["dummy@{dead}"], true),
    ("upsrw", &["-s", "ups.id=other", "-u", "admin", "-p", "wrong", "dummy@{h}"], true),
    ("upsrw", &["-s", "ups.status=x", "-u", "monprimary", "-p", "primarypass", "dummy@{h}"], true),
    (
        "upsrw",
        &["-s", "ups.id=12345678901234567890", "-u", "admin", "-p", "adminpass", "dummy@{h}"],
        true,
    ),
    ("upsrw", &["-s", "nope=1", "-u", "admin", "-p", "adminpass", "dummy@{h}"], true),
    ("upsrw", &["-s", "ups.id=newvalue", "-u", "admin", "-p", "adminpass", "dummy@{h}"], true),
    ("upsrw", &["-w", "-s", "ups.id=tracked", "-u", "admin", "-p", "adminpass", "dummy@{h}"], true),
    ("upsrw", &["-s", "ups.id=x", "-u", "admin", "-p", "adminpass", "nosuchups@{h}"], true),
    ("upscmd", &["-l", "dummy@{h}"], true),
    ("upscmd", &["-l", "nosuchups@{h}"], true),
    ("upscmd", &["-l", "dummy@{dead}"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "nonexistent.cmd"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "oldstyle"], true),
    ("upscmd", &["-u", "admin", "-p", "wrong", "dummy@{h}", "load.off"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "load.off"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "load.off", "5"], true),
    ("upscmd", &["-w", "-u", "admin", "-p", "adminpass", "dummy@{h}", "load.off"], true),
    ("upscmd", &["-u", "admin", "-p", "adminpass", "nosuchups@{h}", "load.off"], true),
];

fn compare(which: Which) {
    let server = start(which);
    let dead = format!("127.0.0.1:{}", free_port());
    for (tool, args, with_stderr) in CASES {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{h}", &server.host()).replace("{dead}", &dead))
            .collect();
        let a = run(ours(tool), &server, &args);
        let b = run(peer(tool), &server, &args);
        let what = format!("{tool} {args:?} on {which:?} upsd: ours (left) vs Debian's (right)");
        assert_eq!((a.0, &a.1), (b.0, &b.1), "{what}");
        if *with_stderr {
            assert_eq!(a.2, b.2, "stderr of {what}");
        } else {
            assert_eq!(a.2.lines().last(), b.2.lines().last(), "stderr of {what}");
        }
    }
}

#[test]
fn tools_match_debian_on_debian_upsd() {
    compare(Which::Debian);
}

#[test]
fn tools_match_debian_on_our_upsd() {
    compare(Which::Ours);
}

#[test]
fn usage_and_exit_status() {
    // The usage texts are our own words; the exit status is NUT's.
    let server = start(Which::Debian);
    let h = server.host();
    for (tool, args) in [
        ("upscmd", vec![format!("dummy@{h}")]),
        ("upscmd", vec![]),
        ("upsrw", vec![]),
        ("upsc", vec!["-h".to_string()]),
        ("upsc", vec!["-x".to_string()]),
    ] {
        let a = run(ours(tool), &server, &args);
        let b = run(peer(tool), &server, &args);
        assert_eq!(a.0, b.0, "{tool} {args:?}");
        assert!(a.1.contains(&format!("usage: {tool}")), "{tool} {args:?}: {}", a.1);
        let strip = |s: &str, bin: PathBuf| s.replace(&*bin.to_string_lossy(), "<prog>");
        assert_eq!(strip(&a.2, ours(tool)), strip(&b.2, peer(tool)), "{tool} {args:?}");
    }
}

#[test]
fn upsc_json() {
    let server = start(Which::Debian);
    let h = server.host();
    let dead = format!("127.0.0.1:{}", free_port());
    let j = |args: &[&str]| {
        let args: Vec<String> =
            args.iter().map(|a| a.replace("{h}", &h).replace("{dead}", &dead)).collect();
        run(ours("upsc"), &server, &args)
    };
    assert_eq!(j(&["-j", "-l", "{h}"]).1, "[\n  \"dummy\",\n  \"other\"\n]\n");
    assert_eq!(
        j(&["-j", "-L", "{h}"]).1,
        "{\n  \"dummy\": \"Test \\\"quoted\\\" # box\",\n  \"other\": \"Description unavailable\"\n}\n"
    );
    assert_eq!(j(&["-j", "dummy@{h}", "ups.id"]).1, "\"Quote\\\"Corpx\"\n");
    assert_eq!(j(&["-j", "-c", "dummy@{h}"]).1, "[\n\n]\n");
    let vars = j(&["-j", "other@{h}"]);
    assert_eq!(vars.0, Some(0));
    assert!(vars.1.starts_with("{\n  \"battery.charge\": \"50\",\n"), "{}", vars.1);
    assert!(vars.1.ends_with("  \"ups.status\": \"OB DISCHRG\"\n}\n"), "{}", vars.1);
    let e = j(&["-j", "nosuchups@{h}"]);
    assert_eq!(
        (e.0, e.1.as_str(), e.2.as_str()),
        (Some(1), "{\n  \"error\": \"Unknown UPS\"\n}\n", "Error: Unknown UPS\n")
    );
    let e = j(&["-j", "dummy@{h}", "nope.var"]);
    assert_eq!(e.1, "{\"error\": \"Variable not supported by UPS\"}\n");
    let e = j(&["-j", "dummy@{dead}"]);
    assert_eq!(e.1, "{\"error\": \"Connection failure: Connection refused\"}\n");
}

/// A stand-in driver on the socket `upsd` connects to, answering `DUMPALL`
/// with writable variables that have ENUM and RANGE values (Debian's
/// `dummy-ups` 2.8.0 cannot declare them: its data files only set values).
mod enum_driver {
    use nut_testkit::{Proc, TempDir, free_port, peer, temp_dir, wait_until, workspace_bin};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// The dump, as a driver writes it (values encoded).
    pub(crate) const DUMP: &str = "SETINFO ups.status \"OL\"\n\
        SETINFO battery.charge \"100\"\n\
        SETINFO input.transfer.low \"170\"\n\
        ADDRANGE input.transfer.low 160 180\n\
        ADDRANGE input.transfer.low 185 195\n\
        SETFLAGS input.transfer.low RW NUMBER\n\
        SETINFO input.transfer.high \"300\"\n\
        ADDRANGE input.transfer.high 250 270\n\
        SETFLAGS input.transfer.high RW\n\
        SETINFO input.sensitivity \"high\"\n\
        ADDRANGE input.sensitivity -5 5\n\
        SETAUX input.sensitivity 8\n\
        SETFLAGS input.sensitivity RW STRING\n\
        SETINFO ups.beeper.status \"enabled\"\n\
        ADDENUM ups.beeper.status \"enabled\"\n\
        ADDENUM ups.beeper.status \"disabled\"\n\
        ADDENUM ups.beeper.status \"muted\"\n\
        SETAUX ups.beeper.status 12\n\
        SETFLAGS ups.beeper.status RW STRING\n\
        SETINFO output.voltage.nominal \"230\"\n\
        ADDENUM output.voltage.nominal \"220\"\n\
        ADDENUM output.voltage.nominal \"230\"\n\
        ADDENUM output.voltage.nominal \"240\"\n\
        SETFLAGS output.voltage.nominal RW NUMBER\n\
        SETINFO ups.test.mode \"quick \\\"one\\\"\"\n\
        ADDENUM ups.test.mode \"quick \\\"one\\\"\"\n\
        ADDENUM ups.test.mode \"deep \\# two\"\n\
        SETFLAGS ups.test.mode RW\n\
        SETINFO ups.id \"box\"\n\
        SETAUX ups.id 16\n\
        SETFLAGS ups.id RW STRING\n\
        SETINFO ups.delay.shutdown \"20\"\n\
        SETFLAGS ups.delay.shutdown RW NUMBER\n\
        DATAOK\n\
        DUMPDONE\n";

    fn serve(conn: UnixStream, stop: &AtomicBool) {
        let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
        let mut w = match conn.try_clone() {
            Ok(w) => w,
            Err(_) => return,
        };
        let mut r = BufReader::new(conn);
        let mut line = String::new();
        while !stop.load(Ordering::Relaxed) {
            match r.read_line(&mut line) {
                Ok(0) => return,
                Ok(_) if line.ends_with('\n') => {
                    let answer = match line.trim_end() {
                        "DUMPALL" => DUMP,
                        "PING" => "PONG\n",
                        _ => "",
                    };
                    if w.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                    line.clear();
                }
                _ => {}
            }
        }
    }

    /// `upsd` (Debian's or ours) serving UPS `enums` from the stand-in.
    pub(crate) struct Server {
        _dir: TempDir,
        pub(crate) port: u16,
        stop: Arc<AtomicBool>,
        upsd: Option<Proc>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            drop(self.upsd.take());
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn start(debian: bool) -> Server {
        let dir = temp_dir();
        let (etc, state) = (dir.path().join("etc"), dir.path().join("state"));
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(&state).unwrap();
        let port = free_port();
        let w = |n: &str, t: &str| std::fs::write(etc.join(n), t).unwrap();
        w("ups.conf", "[enums]\n  driver = dummy-ups\n  port = none\n");
        w("upsd.conf", &format!("LISTEN 127.0.0.1 {port}\n"));
        w("upsd.users", super::support::USERS);
        let listener = UnixListener::bind(state.join("dummy-ups-enums")).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let s = s.clone();
                        std::thread::spawn(move || serve(conn, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        let bin = if debian { peer("upsd") } else { workspace_bin("nut-upsd", "upsd") };
        let mut cmd = std::process::Command::new(bin);
        cmd.args(["-F", "-u", "root"])
            .env("NUT_CONFPATH", &etc)
            .env("NUT_STATEPATH", &state)
            .env("NUT_ALTPIDPATH", &state);
        let upsd = Proc::spawn("upsd", cmd, dir.path());
        let ready = wait_until(Duration::from_secs(15), Duration::from_millis(50), || {
            let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.write_all(b"GET VAR enums ups.id\n");
            let mut buf = [0u8; 128];
            let n = s.read(&mut buf).unwrap_or(0);
            buf[..n].starts_with(b"VAR enums ups.id \"box\"")
        });
        assert!(ready, "upsd did not serve the stand-in driver's data:\n{}", upsd.log());
        Server { _dir: dir, port, stop, upsd: Some(upsd) }
    }
}

fn compare_enums(debian: bool) {
    let server = enum_driver::start(debian);
    let h = format!("127.0.0.1:{}", server.port);
    for args in [vec![format!("enums@{h}")], vec!["-l".into(), format!("enums@{h}")]] {
        let a = run_plain(ours("upsrw"), &args);
        let b = run_plain(peer("upsrw"), &args);
        assert_eq!(
            a,
            b,
            "upsrw {args:?} on {} upsd: ours (left) vs Debian's (right)",
            if debian { "Debian's" } else { "our" }
        );
        for want in ["Type: ENUM STRING", "Type: ENUM NUMBER", "Type: RANGE NUMBER", " SELECTED\n"]
        {
            assert!(a.1.contains(want), "{want}: {}", a.1);
        }
    }
}

fn run_plain(bin: PathBuf, args: &[String]) -> Outcome {
    let out =
        Command::new(bin).args(args).stdin(std::process::Stdio::null()).output().expect("run tool");
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| *l != "Init SSL without certificate database")
        .map(|l| format!("{l}\n"))
        .collect();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

#[test]
fn upsrw_enum_and_range_match_debian_on_debian_upsd() {
    compare_enums(true);
}

#[test]
fn upsrw_enum_and_range_match_debian_on_our_upsd() {
    compare_enums(false);
}
