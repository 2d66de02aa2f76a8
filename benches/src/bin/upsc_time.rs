//! `upsc ups@127.0.0.1:<port>` start-to-exit time, ours against Debian's
//! `/usr/bin/upsc`, on the same server in the same run, run alternately.
//!
//! ```sh
//! cargo build --release -p nut-clients --bin upsc -p nut-upsd --bin upsd
//! cargo run --release -p nut-benches --bin upsc_time -- [--runs N] [--server debian|ours|both]
//!     [--upsc PATH] [--upsd PATH]
//! ```
//!
//! The server (Debian's `upsd`, ours, or both one after the other) serves
//! one UPS from Debian's `dummy-ups` playing
//! `data/ddl/APC/APC__Smart-UPS_5000_RM__snmp-ups__2.8.0__01.dev`. Wall
//! time is from `spawn` to `wait` returning, standard output to
//! `/dev/null`; CPU time is the child's user + system time
//! (`getrusage(RUSAGE_CHILDREN)` before and after each wait). `--upsc` and
//! `--upsd` default to the binaries next to this one.

use nix::sys::resource::{UsageWho, getrusage};
use nut_testkit::{NutConfig, NutServer, peer};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DUMP: &str =
    include_str!("../../data/ddl/APC/APC__Smart-UPS_5000_RM__snmp-ups__2.8.0__01.dev");

/// Warm-up runs of each tool before timing.
const WARMUP: usize = 10;

fn cpu_of_children() -> Duration {
    let r = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let us = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    us(r.user_time()) + us(r.system_time())
}

/// One run: (wall, cpu).
fn once(bin: &Path, target: &str) -> (Duration, Duration) {
    let cpu0 = cpu_of_children();
    let t0 = Instant::now();
    let status = Command::new(bin)
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run upsc");
    let wall = t0.elapsed();
    let cpu = cpu_of_children().saturating_sub(cpu0);
    assert!(status.success(), "{} {target} failed: {status}", bin.display());
    (wall, cpu)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

struct Stats {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Stats {
    fn row(&mut self, who: &str, server: &str) -> String {
        self.wall.sort();
        self.cpu.sort();
        let mean = |v: &[Duration]| v.iter().sum::<Duration>() / v.len() as u32;
        format!(
            "| {server} | {who} | {} | {} | {} | {} | {} |",
            ms(percentile(&self.wall, 0.5)),
            ms(percentile(&self.wall, 0.9)),
            ms(mean(&self.wall)),
            ms(percentile(&self.cpu, 0.5)),
            ms(percentile(&self.cpu, 0.9)),
        )
    }
}

fn bench(server_name: &str, upsd: &Path, ours: &Path, runs: usize) -> Vec<String> {
    let files = [("bench.dev", DUMP)];
    let server = NutServer::start(
        upsd,
        NutConfig {
            ups_conf: "[bench]\n  driver = dummy-ups\n  port = bench.dev\n",
            users: "",
            upsd_conf_extra: "",
            files: &files,
            wait_for: &["bench"],
        },
    );
    let target = format!("bench@{}", server.host());
    let debian = peer("upsc");
    // Same output from both, once.
    let out = |bin: &Path| Command::new(bin).arg(&target).output().expect("run upsc").stdout;
    let (a, b) = (out(ours), out(&debian));
    assert_eq!(a, b, "ours and Debian's upsc print different output");
    let lines = a.iter().filter(|&&c| c == b'\n').count();
    for _ in 0..WARMUP {
        once(ours, &target);
        once(&debian, &target);
    }
    let mut mine = Stats { wall: Vec::new(), cpu: Vec::new() };
    let mut real = Stats { wall: Vec::new(), cpu: Vec::new() };
    for i in 0..runs {
        // Alternate which goes first.
        let order: [(&Path, &mut Stats); 2] = if i % 2 == 0 {
            [(ours, &mut mine), (&debian, &mut real)]
        } else {
            [(&debian, &mut real), (ours, &mut mine)]
        };
        for (bin, stats) in order {
            let (w, c) = once(bin, &target);
            stats.wall.push(w);
            stats.cpu.push(c);
        }
    }
    eprintln!("{server_name} upsd: {lines} lines of output, {runs} runs each");
    let server_label = format!("{server_name} upsd");
    vec![real.row("Debian's upsc 2.8.0", &server_label), mine.row("ours", &server_label)]
}

fn main() {
    let here = std::env::current_exe().expect("current_exe");
    let dir = here.parent().expect("binary directory").to_path_buf();
    let mut runs = 300;
    let mut which = "both".to_string();
    let mut upsc = dir.join("upsc");
    let mut upsd = dir.join("upsd");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--runs" => runs = val().parse().expect("--runs N"),
            "--server" => which = val(),
            "--upsc" => upsc = PathBuf::from(val()),
            "--upsd" => upsd = PathBuf::from(val()),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(runs > 0, "--runs must be positive");
    assert!(upsc.is_file(), "{} not found: cargo build --release -p nut-clients", upsc.display());
    let mut rows = Vec::new();
    if which == "debian" || which == "both" {
        rows.extend(bench("Debian's", &peer("upsd"), &upsc, runs));
    }
    if which == "ours" || which == "both" {
        assert!(upsd.is_file(), "{} not found: cargo build --release -p nut-upsd", upsd.display());
        rows.extend(bench("our", &upsd, &upsc, runs));
    }
    println!("| server | upsc | wall median | wall p90 | wall mean | CPU median | CPU p90 |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!("{r}");
    }
}
