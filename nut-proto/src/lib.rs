#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

pub mod config;
pub mod frame;
pub mod net;
pub mod publish;
mod scan;
pub mod secret;
pub mod sock;
pub mod state;
pub mod token;

pub use frame::{FrameError, LineFramer};
pub use net::{Command, ErrCode, Reply};
pub use secret::Secret;
pub use sock::{DriverMessage, ServerMessage};
