//! `snmp-ups` against Debian's NUT 2.8.0 `snmp-ups`: snmpsim serves the
//! recordings of `tests/data/snmp/` on loopback, both drivers run under
//! Debian's `upsd`, and `upsc`, `upscmd -l` and `upsrw` must show the same.
//! Also SNMPv3 against Debian's `snmpd`, and an agent that dies.
#![cfg(feature = "snmp")]

mod common;

use common::Setup;
use nut_testkit::{Proc, TempDir, free_port, peer, temp_dir, wait_for_path, wait_until};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

const OURS: &str = env!("CARGO_BIN_EXE_snmp-ups");

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/snmp")
}

/// Every recording, as snmpsim's community (`<dir>/<name>`).
fn recordings() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["centreon", "librenms", "snmpsim-data"] {
        for e in std::fs::read_dir(data_dir().join(dir)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = name.strip_suffix(".snmprec") {
                out.push(format!("{dir}/{stem}"));
            }
        }
    }
    out.sort();
    out
}

fn system_program(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{name}` is missing: install the Debian package {package} (scripts/test.sh does)");
}

fn user_and_group() -> (String, String) {
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    let user = nix::unistd::User::from_uid(uid).ok().flatten().map_or("root".into(), |u| u.name);
    let group = nix::unistd::Group::from_gid(gid).ok().flatten().map_or("root".into(), |g| g.name);
    (user, group)
}

/// snmpsim serving `data` on a free loopback UDP port.
struct Snmpsim {
    port: u16,
    _proc: Proc,
    _dir: TempDir,
}

fn snmpsim(data: &Path, probe_community: &str) -> Snmpsim {
    let exe = system_program("snmpsimd", "snmpsim");
    let dir = temp_dir();
    let port = free_port();
    let (user, group) = user_and_group();
    let mut cmd = Command::new(exe);
    cmd.arg(format!("--data-dir={}", data.display()))
        .arg(format!("--agent-udpv4-endpoint=127.0.0.1:{port}"))
        .arg(format!("--cache-dir={}", dir.path().join("cache").display()))
        .arg(format!("--process-user={user}"))
        .arg(format!("--process-group={group}"))
        .arg("--logging-method=null");
    let p = Proc::spawn("snmpsim", cmd, dir.path());
    let ok = wait_until(Duration::from_secs(60), Duration::from_millis(200), || {
        let Ok(mut s) = snmp2::SyncSession::new_v2c(
            ("127.0.0.1", port),
            probe_community.as_bytes(),
            Some(Duration::from_millis(300)),
            1,
        ) else {
            return false;
        };
        let oid = snmp2::Oid::from(&[1, 3, 6, 1, 2, 1, 1, 2, 0]).unwrap();
        s.get(&oid).is_ok()
    });
    assert!(ok, "snmpsim did not answer:\n{}", p.log());
    Snmpsim { port, _proc: p, _dir: dir }
}

/// Starts driver `exe` for `ups`: Ok once its socket exists, Err(log)
/// when it exits first.
fn start_driver(setup: &mut Setup, exe: &Path, ups: &str) -> Result<(), String> {
    let mut cmd = Command::new(exe);
    cmd.args(["-a", ups, "-F", "-u", "root"]);
    setup.env(&mut cmd);
    let mut p = Proc::spawn(&format!("driver-{ups}"), cmd, setup.dir.path());
    let sock = setup.state.join(format!("snmp-ups-{ups}"));
    let mut exited = false;
    wait_until(Duration::from_secs(60), Duration::from_millis(50), || {
        exited = p.try_exit().is_some();
        exited || sock.exists()
    });
    if exited || !wait_for_path(&sock, Duration::from_millis(1)) {
        let log = p.log();
        return Err(log);
    }
    setup.procs.push(p);
    Ok(())
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(peer(cmd)).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a client sees of one UPS: variables, commands, writable variables.
fn view(setup: &Setup, ups: &str) -> String {
    let target = setup.target(ups);
    // `synchronous=auto` turns to `yes` in NUT 2.8.0 when a write to upsd
    // would block (a large dump, e.g. a 24-outlet PDU, on a loaded
    // machine): a property of the socket layer and of timing, not of the
    // SNMP driver, so it is left out.
    let vars: String = setup
        .upsc_ready(ups)
        .lines()
        .filter(|l| !l.starts_with("driver.parameter.synchronous:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let cmds = run("upscmd", &["-l", &target]).replace(&format!("[{ups}]"), "[UPS]");
    let rw = run("upsrw", &[&target]).replace(&format!("[{ups}]"), "[UPS]");
    format!("{vars}\n--- commands\n{cmds}\n--- rw\n{rw}")
}

#[derive(Debug)]
enum Outcome {
    Same(String),
    BothRefused,
    Differ(String),
}

fn compare(port: u16, community: &str, version: &str) -> Outcome {
    let section = |name: &str, exe: &str| {
        format!(
            "[{name}]\n  driver = {exe}\n  port = 127.0.0.1:{port}\n  community = \"{community}\"\n  \
             snmp_retries = 1\n  snmp_version = {version}\n"
        )
    };
    let conf = format!("{}{}", section("ours", "snmp-ups"), section("nut", "snmp-ups"));
    let mut setup = Setup::new(&conf);
    let ours = start_driver(&mut setup, Path::new(OURS), "ours");
    let nut = start_driver(&mut setup, &peer("snmp-ups"), "nut");
    match (ours, nut) {
        (Err(_), Err(_)) => return Outcome::BothRefused,
        (Err(log), Ok(())) => return Outcome::Differ(format!("ours refused:\n{log}")),
        (Ok(()), Err(log)) => return Outcome::Differ(format!("NUT refused:\n{log}")),
        (Ok(()), Ok(())) => {}
    }
    setup.upsd();
    // a difference must persist: on a loaded machine one driver's first
    // poll may not be in yet when the other is read
    let (mut a, mut b) = (String::new(), String::new());
    for attempt in 0..3 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_secs(2));
        }
        a = view(&setup, "ours");
        b = view(&setup, "nut");
        if a == b {
            break;
        }
    }
    if a == b {
        let mapping = a
            .lines()
            .find_map(|l| l.strip_prefix("driver.version.data: "))
            .unwrap_or("?")
            .to_string();
        Outcome::Same(mapping)
    } else {
        let mut d = String::new();
        let la: Vec<&str> = a.lines().collect();
        let lb: Vec<&str> = b.lines().collect();
        for l in &la {
            if !lb.contains(l) {
                d.push_str(&format!("ours only: {l}\n"));
            }
        }
        for l in &lb {
            if !la.contains(l) {
                d.push_str(&format!("NUT only:  {l}\n"));
            }
        }
        Outcome::Differ(d)
    }
}

/// Every recording: ours and Debian's snmp-ups publish the same, or both
/// refuse the device.
#[test]
fn recordings_match_debian_snmp_ups() {
    let all = recordings();
    assert!(all.len() >= 60, "test data missing: {}", all.len());
    let sim = snmpsim(&data_dir(), &all[0]);
    let queue = Mutex::new(all.clone());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let Some(rec) = queue.lock().unwrap().pop() else { break };
                    let r = compare(sim.port, &rec, "v1");
                    results.lock().unwrap().push((rec, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut same = 0;
    let mut refused = 0;
    let mut differ = Vec::new();
    for (rec, r) in &results {
        match r {
            Outcome::Same(m) => {
                same += 1;
                eprintln!("same     {rec} ({m})");
            }
            Outcome::BothRefused => {
                refused += 1;
                eprintln!("refused  {rec} (by both)");
            }
            Outcome::Differ(d) => {
                eprintln!("DIFFERS  {rec}\n{d}");
                differ.push(rec.clone());
            }
        }
    }
    eprintln!("{same} identical, {refused} refused by both, {} differ", differ.len());
    assert!(same >= 30, "too few recordings served: {same}");
    assert!(differ.is_empty(), "recordings that differ: {differ:?}");
}

/// Debian's `snmpd` on loopback with its own config only (`-C -c`): a v3
/// user with authPriv (SHA + AES) and a UPS-MIB identity.
struct Snmpd {
    port: u16,
    _proc: Proc,
    _dir: TempDir,
}

fn snmpd() -> Snmpd {
    let exe = system_program("snmpd", "snmpd");
    let dir = temp_dir();
    let port = free_port();
    let conf = dir.path().join("snmpd.conf");
    std::fs::write(
        &conf,
        format!(
            "agentAddress udp:127.0.0.1:{port}\n\
             createUser nutv3 SHA \"authpass123\" AES \"privpass123\"\n\
             rouser nutv3 priv\n\
             createUser nutaes SHA \"authpass123\" AES256 \"privpass123\"\n\
             rouser nutaes priv\n\
             sysobjectid .1.3.6.1.2.1.33\n\
             sysDescr v3 test agent\n\
             override .1.3.6.1.2.1.33.1.1.1.0 octet_str \"Example\"\n\
             override .1.3.6.1.2.1.33.1.1.2.0 octet_str \"Smart 1000\"\n\
             override .1.3.6.1.2.1.33.1.2.4.0 integer 87\n\
             override .1.3.6.1.2.1.33.1.4.1.0 integer 3\n"
        ),
    )
    .unwrap();
    let mut cmd = Command::new(exe);
    cmd.args(["-f", "-Lo", "-C", "-c"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.path().join("snmpd.pid"))
        .env("SNMP_PERSISTENT_DIR", dir.path().join("persist"))
        .env("MIBS", "");
    let p = Proc::spawn("snmpd", cmd, dir.path());
    // ready once the port is bound (a v3 probe needs the user; a v1 GET
    // is refused without a community, so poll the socket instead)
    let ok = wait_until(Duration::from_secs(30), Duration::from_millis(100), || {
        std::net::UdpSocket::bind(("127.0.0.1", port)).is_err()
    });
    assert!(ok, "snmpd did not start:\n{}", p.log());
    Snmpd { port, _proc: p, _dir: dir }
}

fn v3_conf(port: u16, name: &str, auth_password: &str) -> String {
    v3_user_conf(port, name, "nutv3", auth_password, "AES")
}

fn v3_user_conf(port: u16, name: &str, user: &str, auth_password: &str, privacy: &str) -> String {
    format!(
        "[{name}]\n  driver = snmp-ups\n  port = 127.0.0.1:{port}\n  snmp_version = v3\n  \
         secLevel = authPriv\n  secName = {user}\n  authProtocol = SHA\n  \
         authPassword = {auth_password}\n  privProtocol = {privacy}\n  \
         privPassword = privpass123\n  snmp_retries = 1\n"
    )
}

/// SNMPv3 authPriv: ours reads what Debian's reads; a wrong password ends
/// the driver with a message that says so.
#[test]
fn snmpv3_auth_priv_and_wrong_password() {
    let agent = snmpd();
    // SHA + AES256 needs the key extension (Debian's 2.8.0 snmp-ups does
    // not get an answer there, so only ours is checked)
    let conf = format!(
        "{}{}{}{}",
        v3_conf(agent.port, "ours", "authpass123"),
        v3_conf(agent.port, "nut", "authpass123"),
        v3_conf(agent.port, "bad", "wrongpass1"),
        v3_user_conf(agent.port, "aes256", "nutaes", "authpass123", "AES256"),
    );
    let mut setup = Setup::new(&conf);
    start_driver(&mut setup, Path::new(OURS), "ours").expect("ours starts");
    start_driver(&mut setup, &peer("snmp-ups"), "nut").expect("Debian's starts");
    start_driver(&mut setup, Path::new(OURS), "aes256").expect("ours starts with AES256");
    let err = start_driver(&mut setup, Path::new(OURS), "bad").expect_err("wrong password");
    assert!(
        err.contains("SNMPv3 authentication failed") && err.contains("authPassword"),
        "unclear error: {err}"
    );
    setup.upsd();
    let ours = view(&setup, "ours");
    assert!(ours.contains("ups.model: Smart 1000"), "{ours}");
    assert!(ours.contains("battery.charge: 87"), "{ours}");
    assert!(ours.contains("ups.status: OL"), "{ours}");
    let aes = view(&setup, "aes256");
    assert!(aes.contains("ups.model: Smart 1000"), "{aes}");
    let nut = view(&setup, "nut");
    let strip = |s: &str| {
        s.lines().filter(|l| !l.starts_with("driver.parameter.")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(strip(&ours), strip(&nut));
}

/// SNMPv2c, where a missing object is a `noSuchObject`/`noSuchInstance`
/// exception instead of a v1 error: the same output as Debian's.
#[test]
fn v2c_matches_debian_snmp_ups() {
    let recs = [
        "librenms/apc_smx750",
        "librenms/cyberpower_pr2200rt2uc",
        "snmpsim-data/eaton-93e-80",
        "snmpsim-data/huawei-gse200m",
    ];
    let sim = snmpsim(&data_dir(), recs[0]);
    let mut same = 0;
    for rec in recs {
        match compare(sim.port, rec, "v2c") {
            Outcome::Same(m) => {
                same += 1;
                eprintln!("same     {rec} ({m})");
            }
            Outcome::BothRefused => eprintln!("refused  {rec} (by both)"),
            Outcome::Differ(d) => panic!("{rec} differs over v2c:\n{d}"),
        }
    }
    assert_eq!(same, recs.len());
}
