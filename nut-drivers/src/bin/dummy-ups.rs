//! `dummy-ups`: NUT's simulation and repeater driver. See the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    nut_driver::run::run::<nut_drivers::dummy::DummyUpsDriver>()
}
