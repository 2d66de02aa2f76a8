#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

/// The wire types and the `Publish` trait this
/// crate's API uses, so that users need no second dependency.
pub use nut_proto as proto;

pub mod agent;
pub mod detect;
pub mod engine;
pub mod mib;
pub mod snmprec;
#[rustfmt::skip]
pub mod tables;
pub mod value;

pub use agent::{Agent, MapAgent};
pub use detect::{DetectError, detect, mapping_list};
pub use engine::{Options, Session, SetError, SetRequest};
pub use mib::{Lookup, LookupEntry, LookupFn, Mapping, Row};
pub use tables::MAPPINGS;
pub use value::{SetValue, Value};

/// What NUT 2.8.0 publishes for `mapping` after start-up and one poll:
/// [`Session::init`] then [`Session::update`] with default [`Options`].
/// Returns the session, for later polls and SETs.
pub fn publish_snapshot(
    mapping: &'static Mapping,
    agent: &mut impl Agent,
    out: &mut impl nut_proto::publish::Publish,
) -> Session {
    let mut s = Session::new(mapping, Options::default());
    s.init(agent, out);
    s.update(agent, out);
    s
}
