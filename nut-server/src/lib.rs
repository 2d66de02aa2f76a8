#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The wire types and the `Publish` trait this
/// crate's API uses, so that users need no second dependency.
pub use nut_proto as proto;
pub use nut_proto::net::{Command, ErrCode, Reply};

pub use nut_proto::state;
pub mod upsd;
