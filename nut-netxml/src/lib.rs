#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
mod error;
pub mod http;
pub mod map;
mod parse;
mod session;
pub mod table;

pub use error::Error;
pub use map::{Mapper, Options, Pages};
pub use parse::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_ELEMENTS};
pub use session::{
    CONNECTIVITY_PAGE, FORM_BOUNDARY, FORM_CONTENT_TYPE, Method, Outcome, PRODUCT_PAGES, Request,
    SET_PAGE, Session, VERSION, form_request,
};

/// Checks a whole page as the session does (size, element count, depth,
/// well-formedness) and applies it to a mapper; nothing is published when
/// the page is refused. For tests and fuzzing; the session calls the same
/// code.
pub fn apply_page(
    mapper: &mut Mapper,
    url: &str,
    body: &[u8],
    out: &mut dyn nut_proto::publish::Publish,
) -> Result<(), Error> {
    let events = parse::parse_document(url, body)?;
    mapper.apply(&events, out);
    Ok(())
}
