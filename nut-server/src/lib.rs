#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub use nut_proto::state;
pub mod upsd;
