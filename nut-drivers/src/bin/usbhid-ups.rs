//! `usbhid-ups`: NUT's driver for USB HID Power Devices. See the crate README.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    nut_driver::run::run::<nut_drivers::usbhid::UsbhidUpsDriver>()
}
