//! The tools and STARTTLS, next to Debian's 2.8.0 tools on the same server
//! (our `upsd` with a certificate): `upsc` upgrades to TLS without checking
//! the certificate (NUT's `UPSCLI_CONN_TRYSSL`), `upscmd` and `upsrw` stay
//! in plaintext (NUT's flags 0). Same stdout and exit code; stderr the same
//! once the log lines of Debian's NSS build are removed.

mod support;

use nut_testkit::{NutConfig, NutServer, peer, workspace_bin};
use std::path::PathBuf;
use std::process::Command;
use support::{ours, run};

fn cert(name: &str) -> PathBuf {
    nut_testkit::test_pki(name)
}

fn our_upsd(extra: &str) -> NutServer {
    NutServer::start(&workspace_bin("nut-upsd", "upsd"), NutConfig::one_dummy(extra))
}

fn args(server: &NutServer, a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.replace("{h}", &server.host())).collect()
}

#[test]
fn tools_match_debian_against_a_tls_server() {
    let s = our_upsd(&format!("CERTFILE {}\n", cert("upsd-certfile.pem").display()));
    let cases: &[(&str, &[&str])] = &[
        ("upsc", &["dummy@{h}"]),
        ("upsc", &["dummy@{h}", "ups.status"]),
        ("upsc", &["dummy@{h}", "no.such.var"]),
        ("upsc", &["-l", "{h}"]),
        ("upsc", &["-c", "dummy@{h}"]),
        ("upscmd", &["-l", "dummy@{h}"]),
        ("upsrw", &["dummy@{h}"]),
    ];
    for (tool, a) in cases {
        let a = args(&s, a);
        let theirs = run(peer(tool), &s, &a);
        let mine = run(ours(tool), &s, &a);
        assert_eq!(mine, theirs, "{tool} {a:?}");
    }
}

#[test]
fn upsc_really_uses_tls_like_debian() {
    // A server that demands a client certificate: neither upsc has one, so
    // both fail after `OK STARTTLS`, which shows that both asked for TLS.
    let s = our_upsd(&format!(
        "CERTFILE {}\nCERTPATH {}\nCERTREQUEST REQUIRE\n",
        cert("upsd-certfile.pem").display(),
        cert("ca.pem").display()
    ));
    let a = args(&s, &["dummy@{h}", "ups.status"]);
    let theirs = run(peer("upsc"), &s, &a);
    let mine = run(ours("upsc"), &s, &a);
    assert_eq!((mine.0, &mine.1), (theirs.0, &theirs.1), "exit code and stdout");
    assert_eq!(mine.0, Some(1));
    // Debian prints a stale error here (C10); ours says why.
    assert!(
        mine.2.starts_with("Error: SSL error: client certificate rejected by the server"),
        "{}",
        mine.2
    );
    // upscmd and upsrw never send STARTTLS, so they still work.
    for tool in ["upscmd", "upsrw"] {
        let a = args(&s, &["-l", "dummy@{h}"]);
        let a = if tool == "upsrw" { a[1..].to_vec() } else { a };
        let theirs = run(peer(tool), &s, &a);
        assert_eq!(theirs.0, Some(0), "{tool}: {theirs:?}");
        assert_eq!(run(ours(tool), &s, &a), theirs, "{tool}");
    }
}

#[test]
fn upsc_matches_debian_on_debian_nss_upsd() {
    // Debian's upsd offers TLS with the test certificate in an NSS database
    // (certutil and pk12util from libnss3-tools).
    let db = nut_testkit::temp_dir();
    let sql = format!("sql:{}", db.path().display());
    let nss = |tool: &str, args: &[&str]| {
        let bin = PathBuf::from("/usr/bin").join(tool);
        assert!(bin.is_file(), "`{tool}` is missing: install libnss3-tools");
        let out = Command::new(bin).args(args).output().expect("run an NSS tool");
        assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
    };
    nss("certutil", &["-N", "-d", &sql, "--empty-password"]);
    let p12 = cert("server.p12");
    nss("pk12util", &["-i", p12.to_str().unwrap(), "-d", &sql, "-W", "testpass"]);
    let s = NutServer::start(
        &peer("upsd"),
        NutConfig::one_dummy(&format!(
            "CERTPATH {}\nCERTIDENT nut-test-server \"\"\n",
            db.path().display()
        )),
    );
    for a in [&["dummy@{h}"][..], &["dummy@{h}", "ups.status"], &["-l", "{h}"]] {
        let a = args(&s, a);
        let theirs = run(peer("upsc"), &s, &a);
        assert_eq!(theirs.0, Some(0), "{theirs:?}");
        assert_eq!(run(ours("upsc"), &s, &a), theirs, "upsc {a:?}");
    }
    // Every run, ours included, was a TLS session: upsd logs each handshake.
    let handshakes = || {
        let log = s.server.as_ref().expect("upsd").log();
        log.matches("SSL handshake done successfully with client").count()
    };
    let six = nut_testkit::wait_until(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(20),
        || handshakes() == 6,
    );
    assert!(six, "{} TLS handshakes logged, expected 6", handshakes());
}
