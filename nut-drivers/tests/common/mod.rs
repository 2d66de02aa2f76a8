//! A NUT setup in a temporary directory: ups.conf, upsd.conf, the real
//! Debian `upsd` on a free loopback port, drivers (ours or Debian's).

#![allow(dead_code, unreachable_pub)]

use nut_testkit::{
    Proc, TempDir, free_port, peer, temp_dir, wait_for_path, wait_for_port, wait_until,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Setup {
    pub dir: TempDir,
    pub etc: PathBuf,
    pub state: PathBuf,
    pub port: u16,
    pub procs: Vec<Proc>,
    /// More environment for every program started (`SSL_CERT_FILE`, ...).
    pub extra_env: Vec<(String, PathBuf)>,
}

pub const OURS: &str = env!("CARGO_BIN_EXE_dummy-ups");
pub const UPSDRVCTL: &str = env!("CARGO_BIN_EXE_upsdrvctl");

impl Setup {
    /// Writes `ups.conf` (as given), upsd.conf (LISTEN on a free port) and
    /// an empty upsd.users.
    pub fn new(ups_conf: &str) -> Setup {
        let dir = temp_dir();
        let etc = dir.path().join("etc");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(&state).unwrap();
        let port = free_port();
        std::fs::write(etc.join("ups.conf"), ups_conf).unwrap();
        std::fs::write(etc.join("upsd.conf"), format!("LISTEN 127.0.0.1 {port}\n")).unwrap();
        std::fs::write(
            etc.join("upsd.users"),
            "[admin]\n  password = secret\n  actions = SET\n  instcmds = ALL\n",
        )
        .unwrap();
        Setup { dir, etc, state, port, procs: Vec::new(), extra_env: Vec::new() }
    }

    pub fn write(&self, name: &str, content: &[u8]) {
        std::fs::write(self.etc.join(name), content).unwrap();
    }

    pub fn env(&self, cmd: &mut Command) {
        cmd.env("NUT_CONFPATH", &self.etc)
            .env("NUT_STATEPATH", &self.state)
            .env("NUT_ALTPIDPATH", &self.state)
            .env_remove("RUST_LOG");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
    }

    pub fn socket(&self, ups: &str) -> PathBuf {
        self.state.join(format!("dummy-ups-{ups}"))
    }

    /// Starts a driver (`exe` is ours or Debian's) for `ups` in the
    /// foreground and waits for its socket.
    pub fn driver(&mut self, exe: &Path, ups: &str) {
        let mut cmd = Command::new(exe);
        cmd.args(["-a", ups, "-F", "-u", "root"]);
        self.env(&mut cmd);
        let p = Proc::spawn(&format!("driver-{ups}"), cmd, self.dir.path());
        self.procs.push(p);
        assert!(
            wait_for_path(&self.socket(ups), Duration::from_secs(20)),
            "driver for {ups} did not create its socket:\n{}",
            self.procs.last().unwrap().log()
        );
    }

    /// Starts driver `exe` (ours or Debian's; its socket is named after
    /// `driver`) for `ups` in the foreground: `Ok` once its socket exists,
    /// `Err(log)` when it exits first or never makes one within 60 s.
    pub fn try_driver(&mut self, exe: &Path, driver: &str, ups: &str) -> Result<(), String> {
        let mut cmd = Command::new(exe);
        cmd.args(["-a", ups, "-F", "-u", "root"]);
        self.env(&mut cmd);
        let mut p = Proc::spawn(&format!("driver-{ups}"), cmd, self.dir.path());
        let sock = self.state.join(format!("{driver}-{ups}"));
        let mut exited = false;
        wait_until(Duration::from_secs(60), Duration::from_millis(50), || {
            exited = p.try_exit().is_some();
            exited || sock.exists()
        });
        if exited || !wait_for_path(&sock, Duration::from_millis(1)) {
            return Err(p.log());
        }
        self.procs.push(p);
        Ok(())
    }

    pub fn upsd(&mut self) {
        let mut cmd = Command::new(peer("upsd"));
        cmd.args(["-F", "-u", "root"]);
        self.env(&mut cmd);
        let p = Proc::spawn("upsd", cmd, self.dir.path());
        self.procs.push(p);
        assert!(wait_for_port(self.port, Duration::from_secs(20)), "upsd did not listen");
    }

    /// `upsc <args>`: success and stdout (or stderr on failure; upsc
    /// always prints an SSL notice on stderr).
    pub fn upsc(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(peer("upsc")).args(args).output().unwrap();
        if out.status.success() {
            (true, String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            (false, String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    pub fn target(&self, ups: &str) -> String {
        format!("{ups}@127.0.0.1:{}", self.port)
    }

    /// Waits until `upsc` shows the UPS with fresh data, and returns it.
    pub fn upsc_ready(&self, ups: &str) -> String {
        let target = self.target(ups);
        let mut last = String::new();
        let ok = wait_until(Duration::from_secs(30), Duration::from_millis(100), || {
            let (ok, out) = self.upsc(&[&target]);
            last = out;
            ok && last.contains("driver.name:") && !last.contains("WAIT")
        });
        assert!(ok, "upsc {target} never became ready: {last}");
        last
    }

    /// What a client sees of one UPS once it is ready: its variables but
    /// those whose lines start with one of `skip`, then `upscmd -l` and
    /// `upsrw` (the UPS's name shown as `UPS`), so that two UPSes compare.
    pub fn view(&self, ups: &str, skip: &[&str]) -> String {
        let target = self.target(ups);
        let vars: String = self
            .upsc_ready(ups)
            .lines()
            .filter(|l| !skip.iter().any(|s| l.starts_with(s)))
            .map(|l| format!("{l}\n"))
            .collect();
        let run = |cmd: &str, args: &[&str]| {
            let out = Command::new(peer(cmd)).args(args).output().unwrap();
            String::from_utf8_lossy(&out.stdout).replace(&format!("[{ups}]"), "[UPS]")
        };
        let cmds = run("upscmd", &["-l", &target]);
        let rw = run("upsrw", &[&target]);
        format!("{vars}\n--- commands\n{cmds}\n--- rw\n{rw}")
    }
}

/// The input report that the simulated device of the `.hid` file `hid` sends on
/// its interrupt pipe when `UPS.PowerSummary.PresentStatus.ACPresent` becomes
/// `on_mains` (the report's other fields 0).
pub fn ac_present_report(hid: &Path, on_mains: i64) -> Vec<u8> {
    use nut_hid::{ReportDescriptor, ReportType, UsageTables};
    let text = std::fs::read_to_string(hid).expect("the .hid file");
    let file = nut_testkit::hid::HidFile::parse(&text);
    let desc = ReportDescriptor::parse(&file.descriptor).expect("its descriptor");
    let ac = desc
        .find_str(
            "UPS.PowerSummary.PresentStatus.ACPresent",
            &UsageTables::standard(),
            ReportType::Input,
        )
        .expect("an Input ACPresent");
    let mut report = vec![0u8; desc.nut_report_len(ac.report_id).expect("its length")];
    if desc.uses_report_ids() {
        report[0] = ac.report_id;
    }
    ac.insert(&mut report, on_mains).expect("ACPresent fits its report");
    report
}
