#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod answer;
pub mod contact;
pub mod options;
pub mod session;
pub mod table;

pub use answer::{Alert, AnswerError};
pub use options::{OptionError, Options, SdMethod, TtyMode};
pub use session::{CmdStatus, Event, Fatal, Request, RequestId, Session, SetStatus, Transmit};
