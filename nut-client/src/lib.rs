#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
pub mod io;
pub mod monitor;
pub mod ops;
mod session;
mod target;
#[cfg(feature = "tls")]
pub mod tls;
pub mod upssched;

pub use error::{ClientError, ProtocolError, TlsError, TransportError, UsageError};
pub use ops::{Operation, Step};
pub use session::{Event, Limits, RequestId, Response, ServerError, Session};
pub use target::{HostPort, TargetError, UpsTarget};
