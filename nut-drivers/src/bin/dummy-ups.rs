//! `dummy-ups`: NUT's simulation and repeater driver. See the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    nut_drivers::driver_main::run_dummy_ups(&args)
}
