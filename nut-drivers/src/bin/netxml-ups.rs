//! `netxml-ups`: NUT's driver for Eaton/MGE XML over HTTP network cards.
//! See the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    nut_driver::run::run::<nut_drivers::netxml::NetxmlUpsDriver>()
}
