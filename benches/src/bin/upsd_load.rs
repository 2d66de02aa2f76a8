//! `upsd` under load, side by side: Debian's NUT 2.8.0 `upsd` and ours,
//! each fed by Debian's `dummy-ups` playing the same 55-variable device
//! dump, in temporary directories on free loopback ports. Run by hand (see
//! `benches/README.md`, section "upsd load benchmark"):
//!
//! ```sh
//! cargo build --release -p nut-upsd
//! cargo run --release -p nut-benches --bin upsd_load -- [--ours PATH] [--only 1,2,3,4,5]
//! ```
//!
//! Server CPU time comes from `/proc/<pid>/stat` (utime + stime), memory
//! from `VmRSS` in `/proc/<pid>/status`. Every loop is bounded in count and
//! time, and every process is stopped by PID when its handle is dropped.

use nut_testkit::{Proc, TempDir, free_port, peer, temp_dir, wait_for_path, wait_until};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const DEV: &str =
    include_str!("../../data/ddl/APC/APC__Smart-UPS_5000_RM__snmp-ups__2.8.0__01.dev");
const UPS: &str = "bench";
const GET: &[u8] = b"GET VAR bench battery.charge\n";
/// File descriptors wanted for the servers (and this process); capped at
/// the hard limit this process has (raising it needs CAP_SYS_RESOURCE).
const NOFILE: u64 = 30_000;

/// The hard RLIMIT_NOFILE of this process, from `/proc/self/limits`.
fn hard_nofile() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(NOFILE)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Real,
    Ours,
}

/// One upsd with its dummy-ups, stopped on drop (server first).
struct World {
    which: Which,
    port: u16,
    server: Proc,
    _driver: Proc,
    dir: TempDir,
}

impl World {
    fn start(which: Which, ours: &Path, nofile: u64, extra: &str) -> World {
        let dir = temp_dir();
        let etc = dir.path().join("etc");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&etc).expect("mkdir etc");
        std::fs::create_dir_all(&state).expect("mkdir state");
        let port = free_port();
        let w = |name: &str, text: &str| std::fs::write(etc.join(name), text).expect("write conf");
        w("ups.conf", &format!("[{UPS}]\n  driver = dummy-ups\n  port = bench.dev\n"));
        w("bench.dev", DEV);
        w("upsd.users", "");
        w("upsd.conf", &format!("LISTEN 127.0.0.1 {port}\n{extra}"));
        let env = |cmd: &mut Command| {
            cmd.env("NUT_CONFPATH", &etc)
                .env("NUT_STATEPATH", &state)
                .env("NUT_ALTPIDPATH", &state);
        };
        let mut cmd = Command::new(peer("dummy-ups"));
        cmd.args(["-a", UPS, "-F", "-u", "root"]);
        env(&mut cmd);
        let driver = Proc::spawn("dummy-ups", cmd, dir.path());
        assert!(
            wait_for_path(&state.join(format!("dummy-ups-{UPS}")), Duration::from_secs(10)),
            "dummy-ups did not create its socket:\n{}",
            driver.log()
        );
        let bin = match which {
            Which::Real => peer("upsd"),
            Which::Ours => ours.to_path_buf(),
        };
        // prlimit execs the server: the PID is the server's.
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--nofile={nofile}:{nofile}"))
            .arg("--")
            .arg(bin)
            .args(["-F", "-u", "root"]);
        env(&mut cmd);
        let server = Proc::spawn(&format!("upsd-{which:?}"), cmd, dir.path());
        let world = World { which, port, server, _driver: driver, dir };
        let ready = wait_until(Duration::from_secs(20), Duration::from_millis(50), || {
            world.ask("GET VAR bench battery.charge").is_some_and(|r| r.starts_with("VAR "))
        });
        assert!(ready, "{which:?} upsd did not serve the data:\n{}", world.server.log());
        world
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn pid(&self) -> u32 {
        self.server.pid()
    }

    /// One command on a fresh connection; the first reply line.
    fn ask(&self, line: &str) -> Option<String> {
        let mut s = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(format!("{line}\n").as_bytes()).ok()?;
        let mut out = String::new();
        BufReader::new(s).read_line(&mut out).ok()?;
        Some(out.trim_end().to_string())
    }

    /// utime + stime in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name in parentheses; utime and stime are
        // fields 14 and 15 of the whole line.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
        f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
    }

    fn rss_kib(&self) -> u64 {
        nut_testkit::procstat::rss_kib(self.pid())
    }

    fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |d| d.count())
    }

    fn log(&self) -> String {
        self.server.log()
    }
}

fn clk_tck() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().ok();
    out.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(100.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A plain client connection: no TCP_NODELAY, a buffered reader.
struct Client {
    w: TcpStream,
    r: BufReader<TcpStream>,
    line: String,
}

impl Client {
    fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        let w = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        w.set_read_timeout(Some(Duration::from_secs(10)))?;
        let r = BufReader::new(w.try_clone()?);
        Ok(Client { w, r, line: String::new() })
    }

    fn get(&mut self) -> std::io::Result<()> {
        self.w.write_all(GET)?;
        self.line.clear();
        self.r.read_line(&mut self.line)?;
        if self.line.starts_with("VAR ") {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("unexpected reply {:?}", self.line)))
        }
    }

    /// LIST VAR; returns the number of rows.
    fn list(&mut self) -> std::io::Result<usize> {
        self.w.write_all(b"LIST VAR bench\n")?;
        // `rows` lines came before this one.
        for rows in 0..100_000 {
            self.line.clear();
            if self.r.read_line(&mut self.line)? == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
            if self.line.starts_with("END LIST") {
                return Ok(rows);
            }
        }
        Err(std::io::Error::other("LIST without END"))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Rows of the final table: (scenario, metric, real, ours).
type Rows = Vec<(String, String, String, String)>;

// ----- 1: CPU per 1000 GET VAR, 100 concurrent clients -----

struct GetLoad {
    gets: u64,
    errors: u64,
    wall: Duration,
    cpu_s: f64,
}

fn get_load(w: &World, clients: usize, per_client: u64, limit: Duration, tck: f64) -> GetLoad {
    let barrier = Arc::new(Barrier::new(clients + 1));
    let addr = w.addr();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let c = Client::connect(addr);
                barrier.wait();
                let Ok(mut c) = c else { return (0u64, 1u64) };
                let start = Instant::now();
                let mut n = 0;
                while n < per_client && start.elapsed() < limit {
                    if c.get().is_err() {
                        return (n, 1);
                    }
                    n += 1;
                }
                (n, 0)
            })
        })
        .collect();
    barrier.wait();
    let cpu0 = w.cpu_ticks();
    let t0 = Instant::now();
    let (mut gets, mut errors) = (0, 0);
    for h in handles {
        let (n, e) = h.join().unwrap_or((0, 1));
        gets += n;
        errors += e;
    }
    let wall = t0.elapsed();
    let cpu_s = (w.cpu_ticks() - cpu0) as f64 / tck;
    GetLoad { gets, errors, wall, cpu_s }
}

/// Scenario 1b: the same load from one event-loop thread holding every
/// connection (as a monitoring system polling many UPSes would): far less
/// scheduler work on the client side, so the server's own cost shows.
fn get_load_async(
    w: &World,
    clients: usize,
    per_client: u64,
    limit: Duration,
    tck: f64,
) -> GetLoad {
    event_loop_load(w, clients, per_client, limit, None, tck)
}

/// Scenario 1c: as 1b, but each connection sends one GET every 10 ms
/// (staggered), 500 each: 10,000 GET/s for 5 s. The server is not
/// saturated, so it wakes up for nearly every request, as with monitoring
/// clients polling on a schedule.
fn get_load_paced(w: &World, clients: usize, _per: u64, limit: Duration, tck: f64) -> GetLoad {
    event_loop_load(w, clients, 500, limit, Some(Duration::from_millis(10)), tck)
}

/// `clients` connections on one current-thread runtime, each sending
/// `per_client` GETs (at most for `limit`), back to back or one per
/// `period`.
fn event_loop_load(
    w: &World,
    clients: usize,
    per_client: u64,
    limit: Duration,
    period: Option<Duration>,
    tck: f64,
) -> GetLoad {
    let addr = w.addr();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let mut conns = Vec::with_capacity(clients);
        for _ in 0..clients {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    conns.push(tokio::io::BufReader::new(s));
                }
                Err(_) => return GetLoad { gets: 0, errors: 1, wall: Duration::ZERO, cpu_s: 0.0 },
            }
        }
        let cpu0 = w.cpu_ticks();
        let t0 = Instant::now();
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                let mut tick = period.map(|p| {
                    let first = tokio::time::Instant::now() + p / clients as u32 * i as u32;
                    let mut t = tokio::time::interval_at(first, p);
                    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    t
                });
                tokio::spawn(async move {
                    let mut line = String::new();
                    let mut n = 0u64;
                    while n < per_client && t0.elapsed() < limit {
                        if let Some(t) = tick.as_mut() {
                            t.tick().await;
                        }
                        line.clear();
                        let ok = c.get_mut().write_all(GET).await.is_ok()
                            && c.read_line(&mut line).await.is_ok()
                            && line.starts_with("VAR ");
                        if !ok {
                            return (n, 1u64);
                        }
                        n += 1;
                    }
                    (n, 0)
                })
            })
            .collect();
        let (mut gets, mut errors) = (0, 0);
        for t in tasks {
            let (n, e) = t.await.unwrap_or((0, 1));
            gets += n;
            errors += e;
        }
        let wall = t0.elapsed();
        let cpu_s = (w.cpu_ticks() - cpu0) as f64 / tck;
        GetLoad { gets, errors, wall, cpu_s }
    })
}

/// A way to run scenario 1's load against one server.
type Load = fn(&World, usize, u64, Duration, f64) -> GetLoad;

fn scenario1(worlds: &[&World; 2], tck: f64, rows: &mut Rows) {
    let loads: [(&str, &str, Load); 3] = [
        ("1", "1. 100 clients, 1000 GET VAR each", get_load),
        ("1b", "1b. same, one event-loop client", get_load_async),
        ("1c", "1c. 100 clients, one GET each per 10 ms", get_load_paced),
    ];
    for (tag, title, load) in loads {
        let mut cells = Vec::new();
        for w in worlds {
            println!("  [{tag}] {:?}: load {}", w.which, loadavg());
            let r = load(w, 100, 1000, Duration::from_secs(60), tck);
            println!(
                "      {} GET in {:.2} s ({} errors), server CPU {:.2} s",
                r.gets,
                r.wall.as_secs_f64(),
                r.errors,
                r.cpu_s
            );
            cells.push((
                format!("{:.1} ms", r.cpu_s * 1000.0 / (r.gets as f64 / 1000.0)),
                format!("{:.0}", r.gets as f64 / r.wall.as_secs_f64()),
            ));
        }
        let [real, ours] = [&cells[0], &cells[1]];
        rows.push((title.into(), "server CPU per 1000 GET".into(), real.0.clone(), ours.0.clone()));
        rows.push(("".into(), "GET/s (all clients)".into(), real.1.clone(), ours.1.clone()));
    }
}

// ----- 2: LIST VAR latency -----

fn scenario2(worlds: &[&World; 2], rows: &mut Rows) {
    let mut cells = Vec::new();
    for w in worlds {
        println!("  [2] {:?}: load {}", w.which, loadavg());
        let mut c = Client::connect(w.addr()).expect("connect");
        let mut lat = Vec::new();
        let mut n_rows = 0;
        let start = Instant::now();
        for i in 0..1010 {
            if start.elapsed() > Duration::from_secs(60) {
                break;
            }
            let t = Instant::now();
            n_rows = c.list().expect("LIST VAR");
            if i >= 10 {
                lat.push(t.elapsed());
            }
        }
        lat.sort();
        println!(
            "      {} LIST VAR of {n_rows} rows: median {}, p99 {}, max {}",
            lat.len(),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default())
        );
        cells.push((percentile(&lat, 0.5), percentile(&lat, 0.99), n_rows));
    }
    let label = format!("2. LIST VAR ({} rows), one plain client", cells[1].2);
    rows.push((label, "median".into(), ms(cells[0].0), ms(cells[1].0)));
    rows.push(("".into(), "p99".into(), ms(cells[0].1), ms(cells[1].1)));
}

// ----- 3: 10,000 idle connections -----

/// GET/s of one client over `secs`.
fn active_rate(w: &World, secs: f64) -> f64 {
    let Ok(mut c) = Client::connect(w.addr()) else { return 0.0 };
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed().as_secs_f64() < secs && n < 10_000_000 {
        if c.get().is_err() {
            break;
        }
        n += 1;
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

fn scenario3(worlds: &[&World; 2], idle: usize, rows: &mut Rows) {
    let mut cells = Vec::new();
    for w in worlds {
        println!("  [3] {:?}: load {}", w.which, loadavg());
        let rss0 = w.rss_kib();
        // Counted before the active client connects: it closes its
        // connection when done, maybe after a later count.
        let fds0 = w.fd_count();
        let rate0 = active_rate(w, 3.0);
        let t0 = Instant::now();
        let mut conns = Vec::with_capacity(idle);
        let mut failed = 0;
        while conns.len() < idle && t0.elapsed() < Duration::from_secs(30) {
            match TcpStream::connect_timeout(&w.addr(), Duration::from_secs(2)) {
                Ok(s) => conns.push(s),
                Err(_) => failed += 1,
            }
        }
        let opened = t0.elapsed();
        let target = fds0 + conns.len();
        wait_until(Duration::from_secs(10), Duration::from_millis(50), || w.fd_count() >= target);
        let accepted = w.fd_count().saturating_sub(fds0);
        std::thread::sleep(Duration::from_millis(500));
        let rss1 = w.rss_kib();
        let rate1 = active_rate(w, 3.0);
        println!(
            "      {} idle connections opened in {:.1} s ({failed} failed), {accepted} accepted; \
             RSS {rss0} -> {rss1} KiB; active GET/s {rate0:.0} -> {rate1:.0} ({:+.1} %)",
            conns.len(),
            opened.as_secs_f64(),
            (rate1 / rate0 - 1.0) * 100.0
        );
        drop(conns);
        cells.push((rss0, rss1, rate0, rate1, accepted));
        // Let the server reap the closed connections.
        wait_until(Duration::from_secs(20), Duration::from_millis(100), || {
            w.fd_count() <= fds0 + 2
        });
    }
    let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    rows.push((
        format!("3. {idle} idle connections"),
        "server RSS without / with them".into(),
        format!("{} / {}", mib(cells[0].0), mib(cells[0].1)),
        format!("{} / {}", mib(cells[1].0), mib(cells[1].1)),
    ));
    rows.push((
        "".into(),
        "connections the server accepted".into(),
        cells[0].4.to_string(),
        cells[1].4.to_string(),
    ));
    let rate = |c: &(u64, u64, f64, f64, usize)| {
        format!("{:.0} / {:.0} ({:+.1} %)", c.2, c.3, (c.3 / c.2 - 1.0) * 100.0)
    };
    rows.push((
        "".into(),
        "active client GET/s without / with them".into(),
        rate(&cells[0]),
        rate(&cells[1]),
    ));
}

// ----- 4: burst of 1000 connects -----

fn burst(addr: SocketAddr, n: usize) -> (Vec<Duration>, usize) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n {
            tasks.push(tokio::spawn(async move {
                let t0 = Instant::now();
                let fut = async {
                    let mut s = tokio::net::TcpStream::connect(addr).await?;
                    s.write_all(b"VER\n").await?;
                    let mut r = tokio::io::BufReader::new(s);
                    let mut line = String::new();
                    r.read_line(&mut line).await?;
                    if line.is_empty() {
                        return Err(std::io::Error::from(ErrorKind::UnexpectedEof));
                    }
                    Ok::<_, std::io::Error>(r)
                };
                match tokio::time::timeout(Duration::from_secs(10), fut).await {
                    Ok(Ok(conn)) => Some((t0.elapsed(), conn)),
                    _ => None,
                }
            }));
        }
        let mut lat = Vec::new();
        let mut failed = 0;
        let mut keep = Vec::new();
        for t in tasks {
            match t.await.ok().flatten() {
                Some((d, conn)) => {
                    lat.push(d);
                    keep.push(conn);
                }
                None => failed += 1,
            }
        }
        drop(keep);
        lat.sort();
        (lat, failed)
    })
}

fn scenario4(worlds: &[&World; 2], rows: &mut Rows) {
    let mut cells = Vec::new();
    for w in worlds {
        println!("  [4] {:?}: load {}", w.which, loadavg());
        let (lat, failed) = burst(w.addr(), 1000);
        let over = lat.iter().filter(|d| **d > Duration::from_millis(100)).count();
        println!(
            "      {} answered ({failed} failed): median {}, p99 {}, max {}, {over} over 100 ms",
            lat.len(),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default())
        );
        cells.push((percentile(&lat, 0.99), lat.last().copied().unwrap_or_default(), over, failed));
        std::thread::sleep(Duration::from_secs(1));
    }
    rows.push((
        "4. burst of 1000 connects + VER".into(),
        "p99 to first reply".into(),
        ms(cells[0].0),
        ms(cells[1].0),
    ));
    rows.push(("".into(), "max to first reply".into(), ms(cells[0].1), ms(cells[1].1)));
    rows.push((
        "".into(),
        "connections waiting > 100 ms (failed)".into(),
        format!("{} ({})", cells[0].2, cells[0].3),
        format!("{} ({})", cells[1].2, cells[1].3),
    ));
}

// ----- 5: at the descriptor limit -----

#[derive(Default, Debug)]
struct Probe {
    replied: usize,
    closed: usize,
    silent: usize,
    connect_failed: usize,
}

fn scenario5(ours: &Path, limit: u64, extra_conns: usize, tck: f64, rows: &mut Rows) {
    let mut cells = Vec::new();
    for which in [Which::Real, Which::Ours] {
        let w = World::start(which, ours, limit, "");
        println!("  [5] {which:?} (nofile {limit}): load {}", loadavg());
        let log0 = w.log().lines().count();
        let total = usize::try_from(limit).unwrap_or(256) + extra_conns;
        let mut conns = Vec::new();
        let mut probe = Probe::default();
        let t0 = Instant::now();
        for _ in 0..total {
            if t0.elapsed() > Duration::from_secs(30) {
                break;
            }
            match TcpStream::connect_timeout(&w.addr(), Duration::from_millis(500)) {
                Ok(s) => conns.push(s),
                Err(_) => probe.connect_failed += 1,
            }
        }
        std::thread::sleep(Duration::from_secs(1));
        let cpu0 = w.cpu_ticks();
        std::thread::sleep(Duration::from_secs(5));
        let cpu_pct = (w.cpu_ticks() - cpu0) as f64 / tck / 5.0 * 100.0;
        // Ask every connection for VER; after 2 s, see who answered.
        for s in &mut conns {
            let _ = s.set_nonblocking(true);
            let _ = s.write_all(b"VER\n");
        }
        std::thread::sleep(Duration::from_secs(2));
        let mut buf = [0u8; 512];
        for s in &mut conns {
            match s.read(&mut buf) {
                Ok(0) => probe.closed += 1,
                Ok(_) => probe.replied += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => probe.silent += 1,
                Err(_) => probe.closed += 1,
            }
        }
        let cpu1 = w.cpu_ticks();
        drop(conns);
        let log: Vec<String> = w.log().lines().skip(log0).map(str::to_string).collect();
        let refusals: Vec<&String> = log
            .iter()
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                l.contains("accept") || l.contains("maxconn") || l.contains("too many")
            })
            .collect();
        // After the flood: does it serve again?
        let recovered = wait_until(Duration::from_secs(10), Duration::from_millis(200), || {
            w.ask("VER").is_some_and(|r| r.starts_with("Network UPS Tools"))
        });
        println!(
            "      {} connections tried: {probe:?}; CPU while saturated {cpu_pct:.1} %; \
             {} log lines about refusals (first: {:?}); serves again after: {recovered}",
            total,
            refusals.len(),
            refusals.first()
        );
        let _ = cpu1;
        cells.push((probe, cpu_pct, refusals.len(), recovered));
    }
    let p = |c: &(Probe, f64, usize, bool)| {
        format!(
            "{} answered, {} closed, {} silent, {} connect failed",
            c.0.replied, c.0.closed, c.0.silent, c.0.connect_failed
        )
    };
    rows.push((
        format!("5. nofile {limit}, {} connections", limit as usize + extra_conns),
        "what the connections saw".into(),
        p(&cells[0]),
        p(&cells[1]),
    ));
    rows.push((
        "".into(),
        "server CPU over 5 s while saturated".into(),
        format!("{:.1} %", cells[0].1),
        format!("{:.1} %", cells[1].1),
    ));
    rows.push((
        "".into(),
        "log lines about it".into(),
        cells[0].2.to_string(),
        cells[1].2.to_string(),
    ));
    rows.push((
        "".into(),
        "serves new clients afterwards".into(),
        cells[0].3.to_string(),
        cells[1].3.to_string(),
    ));
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut ours = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/upsd"));
    let mut only: Vec<u32> = vec![1, 2, 3, 4, 5];
    let mut idle = 10_000usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ours" => ours = PathBuf::from(args.next().expect("--ours PATH")),
            "--only" => {
                only = args
                    .next()
                    .expect("--only LIST")
                    .split(',')
                    .filter_map(|x| x.trim().parse().ok())
                    .collect();
            }
            "--idle" => idle = args.next().and_then(|x| x.parse().ok()).expect("--idle N"),
            other => panic!("unknown argument {other}; use --ours PATH, --only 1,2,..., --idle N"),
        }
    }
    assert!(ours.is_file(), "{} not found: cargo build --release -p nut-upsd", ours.display());
    // This process holds the idle connections.
    let me = std::process::id().to_string();
    let nofile = NOFILE.min(hard_nofile());
    let _ = Command::new("prlimit")
        .args(["--pid", &me, &format!("--nofile={nofile}:{nofile}")])
        .status();
    let tck = clk_tck();
    println!(
        "upsd load benchmark; ours = {}; RLIMIT_NOFILE {nofile}; load {}",
        ours.display(),
        loadavg()
    );
    let mut rows: Rows = Vec::new();
    if only.iter().any(|s| (1..=4).contains(s)) {
        let real = World::start(Which::Real, &ours, nofile, "");
        let mine = World::start(Which::Ours, &ours, nofile, "MAXCONN 20000\n");
        println!(
            "started: real upsd pid {} (RSS {} KiB), ours pid {} (RSS {} KiB); dirs {} {}",
            real.pid(),
            real.rss_kib(),
            mine.pid(),
            mine.rss_kib(),
            real.dir.path().display(),
            mine.dir.path().display()
        );
        let worlds = [&real, &mine];
        if only.contains(&1) {
            scenario1(&worlds, tck, &mut rows);
        }
        if only.contains(&2) {
            scenario2(&worlds, &mut rows);
        }
        if only.contains(&3) {
            scenario3(&worlds, idle, &mut rows);
        }
        if only.contains(&4) {
            scenario4(&worlds, &mut rows);
        }
    }
    if only.contains(&5) {
        scenario5(&ours, 256, 100, tck, &mut rows);
    }
    println!("\n| scenario | metric | real upsd 2.8.0 | ours |\n|---|---|---:|---:|");
    for (s, m, a, b) in rows {
        println!("| {s} | {m} | {a} | {b} |");
    }
}
