//! Our `upslog` next to Debian's 2.8.0 `upslog`, on the same server
//! (Debian's `upsd`, then ours, fed by Debian's `dummy-ups`): the same log
//! lines for the same format, the same start-up messages and exit codes;
//! log reopening on SIGHUP, reconnection after the server restarts, and
//! several `-m` tuples.

mod support;

use nix::sys::signal::Signal;
use nut_clients::upslog::strftime::{LocalTime, strftime};
use nut_testkit::{NutServer, Proc, free_port, peer, temp_dir, wait_until};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{Which, start};

fn ours() -> PathBuf {
    env!("CARGO_BIN_EXE_upslog").into()
}

/// Lines of `path` once it has at least `n` complete lines (at most 15 s).
fn wait_lines(path: &Path, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let ok = wait_until(Duration::from_secs(15), Duration::from_millis(20), || {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        lines = text
            .split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .map(|l| l[..l.len() - 1].to_string())
            .collect();
        lines.len() >= n
    });
    assert!(ok, "{} has {} lines, not {n}: {lines:?}", path.display(), lines.len());
    lines
}

/// Starts `bin` logging to `log` with `args` after the common ones
/// (foreground, as root, PID file in `dir`).
fn spawn(bin: &Path, name: &str, dir: &Path, tz: &str, args: &[&str]) -> Proc {
    let mut cmd = Command::new(bin);
    cmd.args(["-F", "-u", "root", "-p"]).arg(dir.join(format!("{name}.pid"))).args(args);
    cmd.env("TZ", tz);
    Proc::spawn(name, cmd, dir)
}

/// The first `n` lines each `upslog` writes with format `fmt` for `ups`.
fn first_lines(server: &NutServer, ups: &str, fmt: &str, n: usize) -> [(Vec<String>, u32); 2] {
    let dir = temp_dir();
    let target = format!("{ups}@{}", server.host());
    [(ours(), "ours"), (peer("upslog"), "debian")].map(|(bin, name)| {
        let log = dir.path().join(format!("{name}.txt"));
        let logs = log.to_string_lossy().into_owned();
        let p = spawn(
            &bin,
            name,
            dir.path(),
            "UTC",
            &["-i", "1", "-s", &target, "-l", &logs, "-f", fmt],
        );
        let lines = wait_lines(&log, n);
        (lines[..n].to_vec(), p.pid())
    })
}

/// Formats whose lines do not depend on the time or the process.
const FORMATS: &[&str] = &[
    "%VAR ups.status% %VAR battery.charge% [%VAR input.voltage%] %VAR ups.id%",
    "%UPSHOST% %VAR nonexistent.var% %VAR nodot% %% %NOPE% % HOST% %VAR % %VAR%",
    "a %VAR ups.status",
    "%var ups.status% %VARIABLE ups.status% %UPSHOSTX% %upshost%",
    "%TIME @@ @Q @5Q @% @n",
    "",
    "100%% %%%% %VAR ups.status%%VAR battery.charge%",
    "%VAR device.mfr%|%VAR device.model%|%VAR driver.name%|%VAR ups.mfr%",
];

fn compare_formats(which: Which) {
    let server = start(which);
    for ups in ["dummy", "other", "nosuchups"] {
        for fmt in FORMATS {
            let [(a, _), (b, _)] = first_lines(&server, ups, fmt, 1);
            assert_eq!(a, b, "{ups} {fmt:?} on {which:?} upsd: ours (left) vs Debian's (right)");
        }
    }
    // Two polls a second apart, same lines.
    let [(a, _), (b, _)] = first_lines(&server, "dummy", FORMATS[0], 2);
    assert_eq!(a, b);
    assert_eq!(a[0], "OL 100 [230.0] Quote\"Corpx");
    // The process and the host.
    let [(a, pa), (b, pb)] = first_lines(&server, "dummy", "%HOST% %PID% %ETIME%", 1);
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    for (line, pid) in [(&a[0], pa), (&b[0], pb)] {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[..2], [host.as_str(), &pid.to_string()], "{line}");
        assert!(words[2].parse::<i64>().is_ok_and(|t| t > 1_700_000_000), "{line}");
    }
    // The default format: the time masked.
    let [(a, _), (b, _)] = first_lines(&server, "dummy", "", 1);
    assert_eq!(a, b);
}

#[test]
fn lines_match_debian_on_debian_upsd() {
    compare_formats(Which::Debian);
}

#[test]
fn lines_match_debian_on_our_upsd() {
    compare_formats(Which::Ours);
}

#[test]
fn default_format_matches_debian() {
    let server = start(Which::Debian);
    let dir = temp_dir();
    let target = format!("dummy@{}", server.host());
    let lines = [(ours(), "ours"), (peer("upslog"), "debian")].map(|(bin, name)| {
        let log = dir.path().join(format!("{name}.txt"));
        let logs = log.to_string_lossy().into_owned();
        let _p = spawn(&bin, name, dir.path(), "UTC", &["-s", &target, "-l", &logs]);
        wait_lines(&log, 1).remove(0)
    });
    for l in &lines {
        assert!(
            l.as_bytes()[..15].iter().enumerate().all(|(i, b)| if i == 8 {
                *b == b' '
            } else {
                b.is_ascii_digit()
            }),
            "{l}"
        );
    }
    assert_eq!(lines[0][15..], lines[1][15..]);
    assert_eq!(&lines[0][15..], " 100 230.0 NA [OL] NA NA");
}

/// `%TIME%` with every conversion, in two zones: ours equals Debian's and
/// what the library computes for the same second.
#[test]
fn time_format_matches_debian() {
    let server = start(Which::Debian);
    let target = format!("dummy@{}", server.host());
    // Every conversion but the ones that change within a minute (those are
    // checked against glibc in the unit tests).
    let conv = "@a @A @b @B @C @d @D @e @F @g @G @h @H @I @j @k @l @m @M @p @P @R @u @U @V @w @W @x @y @Y @z @Z @@ @_5d @-m @^a @#Z @10B @Ey @Od @Q";
    let fmt = format!("%TIME {conv}%|%ETIME%");
    for tz in ["UTC", "Asia/Kolkata", "America/St_Johns"] {
        let mut same = false;
        for _attempt in 0..3 {
            let dir = temp_dir();
            // Both started before either is waited for: they poll within
            // milliseconds of each other.
            let logs = ["ours", "debian"].map(|n| dir.path().join(format!("{n}.txt")));
            let _procs = [(ours(), "ours"), (peer("upslog"), "debian")]
                .iter()
                .zip(&logs)
                .map(|((bin, name), log)| {
                    let l = log.to_string_lossy().into_owned();
                    spawn(bin, name, dir.path(), tz, &["-s", &target, "-l", &l, "-f", &fmt])
                })
                .collect::<Vec<_>>();
            let lines = logs.clone().map(|log| wait_lines(&log, 1).remove(0));
            let (ours_line, etime) = lines[0].rsplit_once('|').unwrap();
            if tz == "UTC" {
                let t = LocalTime::utc(etime.parse().unwrap());
                let want = strftime(conv.replace('@', "%").as_bytes(), &t);
                assert_eq!(ours_line.as_bytes(), want, "{tz}");
            }
            // The same text unless the clock reached another minute.
            let parts = lines.clone().map(|l| {
                let (text, etime) = l.rsplit_once('|').unwrap();
                (text.to_string(), etime.parse::<i64>().unwrap() / 60)
            });
            if parts[0].0 == parts[1].0 {
                same = true;
                break;
            }
            assert_ne!(parts[0].1, parts[1].1, "{tz}: same minute, different lines:\n{lines:#?}");
        }
        assert!(same, "{tz}: never ran in the same minute");
    }
}

/// Rotation: rename the log, SIGHUP, a new file appears with a new line
/// (NUT polls at once when a signal cuts its sleep short).
#[test]
fn sighup_reopens_the_log() {
    let server = start(Which::Ours);
    let target = format!("dummy@{}", server.host());
    let dir = temp_dir();
    for (bin, name) in [(ours(), "ours"), (peer("upslog"), "debian")] {
        let log = dir.path().join(format!("{name}.txt"));
        let logs = log.to_string_lossy().into_owned();
        let mut p = spawn(
            &bin,
            name,
            dir.path(),
            "UTC",
            &["-i", "3600", "-s", &target, "-l", &logs, "-f", "%VAR ups.status%"],
        );
        assert_eq!(wait_lines(&log, 1), ["OL"], "{name}");
        let rotated = dir.path().join(format!("{name}.txt.1"));
        std::fs::rename(&log, &rotated).unwrap();
        p.signal(Signal::SIGHUP);
        assert_eq!(wait_lines(&log, 1), ["OL"], "{name}: new file after SIGHUP");
        assert_eq!(wait_lines(&rotated, 1), ["OL"], "{name}: rotated file untouched");
        // SIGUSR1: one more line at once.
        p.signal(Signal::SIGUSR1);
        assert_eq!(wait_lines(&log, 2), ["OL", "OL"], "{name}: SIGUSR1");
        assert_eq!(p.stop(Duration::from_secs(5)), Some(0), "{name}");
        let out = p.log();
        assert!(out.contains("Signal 1: reopening log file\n"), "{name}: {out}");
        assert!(out.contains("Signal 15: exiting\n"), "{name}: {out}");
    }
}

/// The server goes away: `NA` for every variable; it comes back: values
/// again, without restarting `upslog`.
#[test]
fn reconnects_when_the_server_returns() {
    for which in [Which::Ours, Which::Debian] {
        let mut server = start(which);
        let target = format!("dummy@{}", server.host());
        let dir = temp_dir();
        let logs: Vec<PathBuf> =
            ["ours", "debian"].iter().map(|n| dir.path().join(format!("{n}.txt"))).collect();
        let _procs: Vec<Proc> = [(ours(), "ours"), (peer("upslog"), "debian")]
            .iter()
            .zip(&logs)
            .map(|((bin, name), log)| {
                let l = log.to_string_lossy().into_owned();
                spawn(
                    bin,
                    name,
                    dir.path(),
                    "UTC",
                    &[
                        "-i",
                        "1",
                        "-s",
                        &target,
                        "-l",
                        &l,
                        "-f",
                        "%VAR ups.status% %VAR battery.charge%",
                    ],
                )
            })
            .collect();
        for log in &logs {
            assert_eq!(wait_lines(log, 1)[0], "OL 100");
        }
        drop(server.server.take());
        let has = |log: &Path, line: &str, after: usize| {
            wait_until(Duration::from_secs(15), Duration::from_millis(50), || {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                text.lines().skip(after).any(|l| l == line)
            })
        };
        for log in &logs {
            assert!(has(log, "NA NA", 0), "{which:?}: no NA line in {}", log.display());
        }
        let seen: Vec<usize> = logs.iter().map(|l| wait_lines(l, 1).len()).collect();
        let bin = match which {
            Which::Debian => peer("upsd"),
            Which::Ours => nut_testkit::workspace_bin("nut-upsd", "upsd"),
        };
        let mut cmd = Command::new(bin);
        cmd.args(["-F", "-u", "root"]);
        server.env(&mut cmd);
        server.server = Some(Proc::spawn("upsd-again", cmd, server.dir.path()));
        for (log, after) in logs.iter().zip(seen) {
            assert!(
                has(log, "OL 100", after),
                "{which:?}: no value after the restart in {}",
                log.display()
            );
        }
    }
}

/// `-m ups,logfile` twice: each UPS in its own file, each line as
/// Debian's `upslog -s` writes it for that UPS alone.
#[test]
fn two_m_tuples() {
    let server = start(Which::Debian);
    let dir = temp_dir();
    let h = server.host();
    let fmt = "%UPSHOST% %VAR ups.status% %VAR battery.charge%";
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    let ma = format!("dummy@{h},{}", a.display());
    let mb = format!("other@{h},{}", b.display());
    let p =
        spawn(&ours(), "ours", dir.path(), "UTC", &["-i", "1", "-f", fmt, "-m", &ma, "-m", &mb]);
    let la = wait_lines(&a, 2);
    let lb = wait_lines(&b, 2);
    assert_eq!(la[..2], [format!("dummy@{h} OL 100"), format!("dummy@{h} OL 100")]);
    assert_eq!(lb[..2], [format!("other@{h} OB DISCHRG 50"), format!("other@{h} OB DISCHRG 50")]);
    for (ups, want) in [("dummy", &la[0]), ("other", &lb[0])] {
        let [_, (deb, _)] = first_lines(&server, ups, fmt, 1);
        assert_eq!(&deb[0], want);
    }
    let out = p.log();
    assert!(
        out.contains(&format!("logging status of dummy@{h} to {} (1s intervals)\n", a.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("logging status of other@{h} to {} (1s intervals)\n", b.display())),
        "{out}"
    );
}

type Outcome = (Option<i32>, String, String);

fn run(bin: &Path, args: &[String]) -> Outcome {
    let out = Command::new(bin).args(args).stdin(std::process::Stdio::null()).output().unwrap();
    let version = |s: String| -> String {
        s.lines()
            .map(|l| match l.strip_prefix("Network UPS Tools upslog ") {
                Some(_) => "Network UPS Tools upslog <version>\n".to_string(),
                None => format!("{l}\n"),
            })
            .collect()
    };
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| {
            *l != "Init SSL without certificate database" && !l.starts_with("upscli_splitaddr")
        })
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replace(&*bin.to_string_lossy(), "<prog>");
    (out.status.code(), version(String::from_utf8_lossy(&out.stdout).into_owned()), stderr)
}

/// Start-up errors: same stdout (version masked), stderr and exit code.
#[test]
fn startup_errors_match_debian() {
    let dead = format!("127.0.0.1:{}", free_port());
    let dir = temp_dir();
    let missing = dir.path().join("no/such/dir/log");
    let cases: &[&[&str]] = &[
        &[],
        &["-s", "ups"],
        &["-l", "-"],
        &["-s", "bad@", "-l", "-"],
        &["-s", "ups@{dead}", "-l", "{missing}", "-u", "root"],
        &["-x", "-s", "ups@{dead}", "-l", "{missing}", "-u", "root"],
        &["-s", "ups@{dead}", "-l", "-", "-u", "nosuchuser"],
        &["-i"],
        &["-V"],
    ];
    for args in cases {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{dead}", &dead).replace("{missing}", &missing.to_string_lossy()))
            .collect();
        let a = run(&ours(), &args);
        let b = run(&peer("upslog"), &args);
        assert_eq!(a, b, "upslog {args:?}: ours (left) vs Debian's (right)");
    }
    // Help (our own words), same exit status.
    for args in [vec!["-h"], vec!["a", "b"]] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let a = run(&ours(), &args);
        let b = run(&peer("upslog"), &args);
        assert_eq!(a.0, b.0, "{args:?}");
        assert!(a.1.contains("usage: upslog"), "{}", a.1);
    }
}

/// A process that went to the background, named by its PID file: killed
/// when dropped, however the test ends.
struct Detached(PathBuf);

impl Detached {
    fn pid(&self) -> Option<nix::unistd::Pid> {
        let text = std::fs::read_to_string(&self.0).ok()?;
        text.trim().parse().ok().map(nix::unistd::Pid::from_raw)
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        }
    }
}

/// Without `-F`, logging to a file, upslog goes to the background as NUT's
/// does; its own messages then go to syslog (a datagram socket of the
/// test's, named by `NUT_RS_SYSLOG_SOCKET`) in the form glibc's `syslog()`
/// sends, under `upslog[pid]`.
#[test]
fn background_mode_logs_to_syslog() {
    use std::os::unix::net::UnixDatagram;
    let server = start(Which::Ours);
    let target = format!("dummy@{}", server.host());
    let dir = temp_dir();
    let sock_path = dir.path().join("log.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let log = dir.path().join("ups.log");
    let daemon = Detached(dir.path().join("bg.pid"));
    let mut cmd = Command::new(ours());
    cmd.args(["-u", "root", "-i", "3600", "-s", &target, "-f", "%VAR ups.status%", "-p"])
        .arg(&daemon.0)
        .arg("-l")
        .arg(&log)
        .env("NUT_RS_SYSLOG_SOCKET", &sock_path)
        .env_remove("RUST_LOG");
    let mut launcher = Proc::spawn("launcher", cmd, dir.path());
    let returned = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
        launcher.try_exit().is_some()
    });
    assert!(returned, "the launcher did not return:\n{}", launcher.log());
    assert_eq!(launcher.try_exit(), Some(Some(0)), "{}", launcher.log());
    assert_eq!(wait_lines(&log, 1), ["OL"]);
    let pid = daemon.pid().expect("a PID file");
    let recv_until = |want: &str| {
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(n) = sock.recv(&mut buf) {
                let m = String::from_utf8_lossy(&buf[..n]).into_owned();
                if m.ends_with(want) {
                    return m;
                }
                got.push(m);
            }
        }
        panic!("no syslog message {want:?}: {got:?}");
    };
    // As NUT's background(): a first message once detached.
    recv_until("Startup successful");
    nix::sys::signal::kill(pid, Signal::SIGHUP).unwrap();
    let m = recv_until("Signal 1: reopening log file");
    // `<30>` is LOG_DAEMON | LOG_INFO; then `Mmm dd hh:mm:ss upslog[pid]: `.
    let (head, _) = m.split_once("]: ").expect("ident[pid]: message");
    assert!(head.starts_with("<30>"), "{m}");
    assert!(head.ends_with(&format!(" upslog[{pid}")), "{m}");
    assert_eq!(head.len(), "<30>Nov 25 08:33:22 upslog[".len() + pid.to_string().len(), "{m}");
    nix::sys::signal::kill(pid, Signal::SIGTERM).unwrap();
    recv_until("Signal 15: exiting");
    let gone =
        wait_until(Duration::from_secs(10), Duration::from_millis(20), || !daemon.0.exists());
    assert!(gone, "the PID file is still there after SIGTERM");
}
