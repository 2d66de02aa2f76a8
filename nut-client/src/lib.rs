#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
pub mod io;
pub mod monitor;
pub mod ops;
mod session;
mod target;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
pub mod upssched;

pub use error::{ClientError, ProtocolError, TlsError, TransportError, UsageError};
pub use ops::{Operation, Step};
pub use session::{ErrReply, Event, Limits, RequestId, Response, Session};

/// The wire types this crate's API uses ([`nut_proto`]), so that a user
/// needs no second dependency to name them.
pub use nut_proto as proto;
pub use nut_proto::Secret;
pub use nut_proto::net::{Command, ErrCode, Query, Reply, TrackingState, VarType};
pub use target::{HostPort, TargetError, UpsTarget};
