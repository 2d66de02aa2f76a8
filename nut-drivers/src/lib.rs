#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod apcsmart;
#[cfg(any(feature = "serial", feature = "usb"))]
pub mod blazer;
pub mod dummy;
pub mod genericups;
#[cfg(feature = "netxml")]
pub mod netxml;
pub mod qx;
pub mod repeater;
#[cfg(feature = "serial")]
pub mod serial;
#[cfg(feature = "snmp")]
pub mod snmp;
pub mod upsdrvctl;
#[cfg(feature = "usb")]
pub mod usb;
pub mod usb_options;
pub mod usbhid;
