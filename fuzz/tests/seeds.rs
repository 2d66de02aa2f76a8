//! Runs every fuzz target body over its committed seeds, so that plain
//! `cargo test --manifest-path fuzz/Cargo.toml` on stable Rust exercises
//! each body and each invariant without libFuzzer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Runs `body` over every file in `seeds/<target>/`; fails if there is none,
/// and names every seed that breaks an invariant.
fn run_seeds(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("read seed");
            catch_unwind(AssertUnwindSafe(|| body(&data))).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target}: invariant broken by {failed:#?}");
}

#[test]
fn tokenize() {
    run_seeds("tokenize", nut_fuzz::tokenize);
}

#[test]
fn command() {
    run_seeds("command", nut_fuzz::command);
}

#[test]
fn reply() {
    run_seeds("reply", nut_fuzz::reply);
}

#[test]
fn roundtrip() {
    run_seeds("roundtrip", nut_fuzz::roundtrip);
}

#[test]
fn framing() {
    run_seeds("framing", nut_fuzz::framing);
}

#[test]
fn sock() {
    run_seeds("sock", nut_fuzz::sock);
}

#[test]
fn config() {
    run_seeds("config", nut_fuzz::config);
}

#[test]
fn upsd_session() {
    run_seeds("upsd_session", nut_fuzz::server::upsd_session);
}

#[test]
fn driver_session() {
    run_seeds("driver_session", nut_fuzz::server::driver_session);
}

#[test]
fn dummy_files() {
    run_seeds("dummy_files", nut_fuzz::server::dummy_files);
}

#[test]
fn client_session() {
    run_seeds("client_session", nut_fuzz::client::client_session);
}

#[test]
fn upsmon_conf() {
    run_seeds("upsmon_conf", nut_fuzz::monitor::upsmon_conf);
}

#[test]
fn upssched_conf() {
    run_seeds("upssched_conf", nut_fuzz::upssched::upssched_conf);
}

#[test]
fn upssched_daemon() {
    run_seeds("upssched_daemon", nut_fuzz::upssched::upssched_daemon);
}

#[test]
fn upslog_format() {
    run_seeds("upslog_format", nut_fuzz::upslog::upslog_format);
}

#[test]
fn check_report() {
    run_seeds("check_report", nut_fuzz::check::check_report);
}

#[test]
fn hid_descriptor() {
    run_seeds("hid_descriptor", nut_fuzz::hid_descriptor);
}

#[test]
fn hid_report() {
    run_seeds("hid_report", nut_fuzz::hid_report);
}

#[test]
fn hid_mapping() {
    run_seeds("hid_mapping", nut_fuzz::hid_mapping);
}

#[test]
fn apc_answer() {
    run_seeds("apc_answer", nut_fuzz::apc_answer);
}

#[test]
fn apc_session() {
    run_seeds("apc_session", nut_fuzz::apc_session);
}

#[test]
fn qx_answer() {
    run_seeds("qx_answer", nut_fuzz::qx_answer);
}

#[test]
fn qx_session() {
    run_seeds("qx_session", nut_fuzz::qx_session);
}

#[test]
fn snmp_value() {
    run_seeds("snmp_value", nut_fuzz::snmp_value);
}

#[test]
fn netxml() {
    run_seeds("netxml", nut_fuzz::netxml);
}

#[test]
fn http_auth() {
    run_seeds("http_auth", nut_fuzz::http_auth);
}

#[test]
fn http_response() {
    run_seeds("http_response", nut_fuzz::http_response);
}
