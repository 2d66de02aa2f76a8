//! Links the driver binaries with packed relative relocations
//! (`-z pack-relative-relocs`, `DT_RELR`) where the toolchain and the C
//! library support them.
//!
//! A position-independent Rust binary carries one dynamic relocation per
//! pointer in its read-only data (vtables, string tables, the drivers'
//! variable tables): hundreds of kilobytes that the loader reads and
//! applies at every start, and that stay resident. `DT_RELR` packs them
//! into a few kilobytes, which lowers each driver's resident memory by
//! 200 to 450 kB (see `benches/README.md`). It needs binutils 2.38 and
//! glibc 2.36 or later; a binary linked with it does not start on an older
//! glibc. So the build script links and runs a tiny C program with the
//! flag first, and adds it only when both work on this machine (native
//! builds; cross builds and other C libraries are left as they are).
//! `NUT_RS_NO_RELR=1` turns it off.

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NUT_RS_NO_RELR");
    if env::var_os("NUT_RS_NO_RELR").is_some_and(|v| v != "0") {
        return;
    }
    let target = env::var("TARGET").unwrap_or_default();
    let host = env::var("HOST").unwrap_or_default();
    if target != host || !target.ends_with("-linux-gnu") {
        return;
    }
    if probe() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the C compiler that links Rust binaries here (`cc`) accepts the
/// flag, and the program it links runs.
fn probe() -> bool {
    let Some(out) = env::var_os("OUT_DIR").map(PathBuf::from) else { return false };
    let exe = out.join("relr-probe");
    let src = out.join("relr-probe.c");
    if std::fs::write(&src, "int main(void) { return 0; }\n").is_err() {
        return false;
    }
    let linked = Command::new("cc")
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .args(["-fPIE", "-pie", "-Wl,-z,pack-relative-relocs", "-Wl,--fatal-warnings"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    linked
        && Command::new(&exe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}
