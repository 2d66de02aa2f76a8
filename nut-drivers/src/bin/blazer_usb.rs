//! `blazer_usb`: NUT's older Megatec USB driver. See the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    nut_driver::run::run::<nut_drivers::blazer::BlazerUsb>()
}
