//! `nutdrv_qx`: NUT's generic Q* (Megatec) serial and USB driver. See the
//! crate README.
#![forbid(unsafe_code)]

#[cfg(any(feature = "serial", feature = "usb"))]
fn main() -> std::process::ExitCode {
    nut_driver::run::run::<nut_drivers::qx::NutdrvQx>()
}

#[cfg(not(any(feature = "serial", feature = "usb")))]
fn main() -> std::process::ExitCode {
    eprintln!("nutdrv_qx was built without the `serial` and `usb` features");
    std::process::ExitCode::FAILURE
}
