#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
/// The wire types and the `Publish` trait this
/// crate's API uses, so that users need no second dependency.
pub use nut_proto as proto;

#[cfg(feature = "std")]
extern crate std;

pub mod blazer;
pub mod config;
pub mod crc;
pub mod error;
mod hooks;
pub mod item;
mod math;
pub mod protocol;
pub mod session;
mod state;
mod tables;
pub mod usb;

pub use config::Config;
pub use error::{AnswerError, CommandError, ConfigError};
pub use protocol::Protocol;
pub use session::{Event, MAX_ANSWER_LEN, RequestId, Session, apply_answer};
