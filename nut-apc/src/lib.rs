#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

/// The wire types and the `Publish` trait this
/// crate's API uses, so that users need no second dependency.
pub use nut_proto as proto;

pub mod answer;
pub mod contact;
pub mod options;
pub mod session;
pub mod table;

pub use answer::{Alert, AnswerError};
pub use options::{OptionError, Options, SdMethod, TtyMode};
pub use session::{CmdStatus, Event, Fatal, Request, RequestId, Session, SetStatus, Transmit};
