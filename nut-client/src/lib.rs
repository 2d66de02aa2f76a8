#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
pub mod io;
pub mod ops;
mod session;
mod target;

pub use error::{ClientError, ProtocolError, TransportError, UsageError};
pub use ops::{Operation, Step};
pub use session::{Event, Limits, RequestId, Response, ServerError, Session};
pub use target::{HostPort, TargetError, UpsTarget};
