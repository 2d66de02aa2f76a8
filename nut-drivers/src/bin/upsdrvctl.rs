//! `upsdrvctl`: starts, stops and shuts down the drivers of ups.conf. See
//! the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    nut_drivers::upsdrvctl::run(&args)
}
