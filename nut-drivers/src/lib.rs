#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod dummy;
pub mod repeater;
#[cfg(feature = "serial")]
pub mod serial;
pub mod upsdrvctl;
#[cfg(feature = "usb")]
pub mod usb;
pub mod usbhid;
