#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod driver;
pub mod state;
pub mod upsd;
