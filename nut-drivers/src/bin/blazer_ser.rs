//! `blazer_ser`: NUT's older Megatec serial driver. See the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    nut_driver::run::run::<nut_drivers::blazer::BlazerSer>()
}
