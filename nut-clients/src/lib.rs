#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod common;
pub mod upsc;
pub mod upscmd;
pub mod upslog;
pub mod upsmon;
pub mod upsmon_os;
pub mod upsrw;
pub mod upssched;

pub use common::Io;

/// The version the tools report with `-V` and in their usage text.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs a tool's `run(args, io)` on the process's arguments and standard
/// streams, then exits with its code. Each binary's `main` is this call.
pub fn main_with(run: fn(&[String], &mut Io<'_>) -> i32) -> ! {
    use std::io::Write;
    let args: Vec<String> = std::env::args().collect();
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut stderr = std::io::stderr().lock();
    let mut io =
        Io { stdin: &mut stdin, stdout: &mut stdout, stderr: &mut stderr, tty_password: true };
    let code = run(&args, &mut io);
    let _ = stdout.flush();
    std::process::exit(code);
}
