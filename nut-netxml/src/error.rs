//! Why a page or the session failed.

/// Why a page could not be used, or why the session cannot go on. Every
/// variant names the page (`url`, the path asked for).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The page is larger than [`MAX_DOCUMENT_BYTES`](crate::MAX_DOCUMENT_BYTES).
    #[error("{url}: document of {size} bytes, more than the {limit} accepted")]
    TooLarge {
        /// The page.
        url: String,
        /// Its size (or the size read before giving up).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The page has more than [`MAX_ELEMENTS`](crate::MAX_ELEMENTS) elements.
    #[error("{url}: more than {limit} elements")]
    TooManyElements {
        /// The page.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// Elements nest deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    #[error("{url}: element <{element}> nested deeper than {limit}")]
    TooDeep {
        /// The page.
        url: String,
        /// The element too deep.
        element: String,
        /// The limit.
        limit: usize,
    },
    /// The page is not well-formed XML.
    #[error("{url}: malformed XML at byte {position}{}: {reason}", element.as_ref().map(|e| format!(" in <{e}>")).unwrap_or_default())]
    Xml {
        /// The page.
        url: String,
        /// Byte offset of the problem.
        position: u64,
        /// The innermost open element, if any.
        element: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// The card answered with an HTTP status other than 2xx.
    #[error("{url}: HTTP status {status}")]
    Http {
        /// The page.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The request failed below HTTP (connection refused, timeout, the
    /// card closed the connection early); reported by the I/O layer.
    #[error("{url}: {reason}")]
    Transport {
        /// The page.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The product page announces `protocol="XML.V4"`, which NUT's
    /// driver does not speak.
    #[error("{url}: XML v4 protocol is not supported")]
    UnsupportedProtocol {
        /// The product page.
        url: String,
    },
    /// None of the product pages could be read.
    #[error("no product page ({})", tried.join("; "))]
    NoProductPage {
        /// Why each page failed.
        tried: Vec<String>,
    },
    /// The product page names no page for this request.
    #[error("the product page names no {0} page")]
    NoPage(&'static str),
}
