#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod dummy;
pub mod repeater;
pub mod upsdrvctl;
