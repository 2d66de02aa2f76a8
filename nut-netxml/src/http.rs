//! The card's HTTP/1.1 answers, read from bytes as they arrive (no I/O):
//! the status, the `WWW-Authenticate` challenges and the body, framed by
//! `Content-Length`, by chunks, or by the end of the connection.
//!
//! Bounds: the header block at most [`MAX_HEADER_BYTES`], the body at most
//! the reader's limit ([`MAX_DOCUMENT_BYTES`](crate::MAX_DOCUMENT_BYTES)
//! for the driver's pages); a chunked body may carry 64 KiB of framing
//! beyond it. What is buffered never exceeds those plus one pushed piece.
//!
//! ```
//! use nut_netxml::http::{Progress, ResponseReader};
//! let mut r = ResponseReader::new(1024);
//! assert!(matches!(r.push(b"HTTP/1.1 200 OK\r\nContent-Len"), Ok(Progress::More)));
//! let Ok(Progress::Done(resp)) = r.push(b"gth: 5\r\n\r\nhello") else { panic!() };
//! assert_eq!((resp.status, &resp.body[..]), (200, &b"hello"[..]));
//! ```

/// The largest response header block read, in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Framing a chunked body may add beyond the body's limit.
const CHUNK_SLACK: usize = 64 * 1024;

/// An HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body (chunked transfer decoded).
    pub body: Vec<u8>,
    /// The `WWW-Authenticate` values (of a 401).
    pub challenges: Vec<String>,
}

/// Why an answer cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No end of the header block within [`MAX_HEADER_BYTES`].
    #[error("response header longer than {MAX_HEADER_BYTES} bytes")]
    HeaderTooLong,
    /// The first line is not `HTTP/1.x NNN ...`.
    #[error("bad status line {0:?}")]
    StatusLine(String),
    /// `Content-Length` is not a number.
    #[error("bad Content-Length {0:?}")]
    ContentLength(String),
    /// The body is larger than the limit (`size` as announced or as read
    /// so far).
    #[error("body of {size} bytes, more than {limit}")]
    TooLarge {
        /// The size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The connection ended before the header block did.
    #[error("connection closed before the response header")]
    ClosedBeforeHeader,
    /// The connection ended before `Content-Length` bytes came.
    #[error("connection closed after {got} of {want} body bytes")]
    ClosedEarly {
        /// Bytes received.
        got: usize,
        /// Bytes announced.
        want: usize,
    },
    /// A malformed or unfinished chunked body.
    #[error("{0}")]
    Chunked(&'static str),
}

/// What [`ResponseReader::push`] has so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The answer is not complete: push more, or
    /// [`finish`](ResponseReader::finish) at the end of the connection.
    More,
    /// The answer is complete (what follows it is not read).
    Done(Response),
}

#[derive(Clone, Debug)]
struct Head {
    status: u16,
    length: Option<usize>,
    chunked: bool,
    challenges: Vec<String>,
}

/// Reads one answer from the bytes of a connection.
#[derive(Clone, Debug)]
pub struct ResponseReader {
    limit: usize,
    buf: Vec<u8>,
    head: Option<Head>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl ResponseReader {
    /// A reader for an answer whose body may hold at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        ResponseReader { limit, buf: Vec::new(), head: None }
    }

    /// Takes the next bytes of the connection.
    pub fn push(&mut self, data: &[u8]) -> Result<Progress, HttpError> {
        self.buf.extend_from_slice(data);
        if self.head.is_none() {
            let Some(end) = find(&self.buf, b"\r\n\r\n") else {
                if self.buf.len() > MAX_HEADER_BYTES {
                    return Err(HttpError::HeaderTooLong);
                }
                return Ok(Progress::More);
            };
            if end > MAX_HEADER_BYTES {
                return Err(HttpError::HeaderTooLong);
            }
            let head = parse_head(&String::from_utf8_lossy(&self.buf[..end]))?;
            if let Some(n) = head.length.filter(|&n| n > self.limit && !head.chunked) {
                return Err(HttpError::TooLarge { size: n, limit: self.limit });
            }
            self.buf.drain(..end + 4);
            self.head = Some(head);
        }
        self.body_progress()
    }

    fn framing(&self) -> Option<(bool, Option<usize>)> {
        self.head.as_ref().map(|h| (h.chunked, h.length))
    }

    fn body_progress(&mut self) -> Result<Progress, HttpError> {
        let Some((chunked, length)) = self.framing() else { return Ok(Progress::More) };
        if chunked {
            if chunks_complete(&self.buf) {
                let body = dechunk(&self.buf)?;
                return self.done(body).map(Progress::Done);
            }
            if self.buf.len() > self.limit + CHUNK_SLACK {
                return Err(HttpError::TooLarge { size: self.buf.len(), limit: self.limit });
            }
            return Ok(Progress::More);
        }
        match length {
            Some(w) if self.buf.len() >= w => {
                let mut body = std::mem::take(&mut self.buf);
                body.truncate(w);
                self.done(body).map(Progress::Done)
            }
            _ if self.buf.len() > self.limit => {
                Err(HttpError::TooLarge { size: self.buf.len(), limit: self.limit })
            }
            _ => Ok(Progress::More),
        }
    }

    /// The answer with this body (called once the header block is read).
    fn done(&mut self, body: Vec<u8>) -> Result<Response, HttpError> {
        if body.len() > self.limit {
            return Err(HttpError::TooLarge { size: body.len(), limit: self.limit });
        }
        let head = self.head.take().ok_or(HttpError::ClosedBeforeHeader)?;
        self.buf.clear();
        Ok(Response { status: head.status, body, challenges: head.challenges })
    }

    /// The connection has ended: the answer as it stands, if it is
    /// complete (a body without length or chunks ends here).
    pub fn finish(&mut self) -> Result<Response, HttpError> {
        let Some((chunked, length)) = self.framing() else {
            return Err(HttpError::ClosedBeforeHeader);
        };
        let body = if chunked {
            dechunk(&self.buf)?
        } else {
            if let Some(want) = length
                && self.buf.len() < want
            {
                return Err(HttpError::ClosedEarly { got: self.buf.len(), want });
            }
            std::mem::take(&mut self.buf)
        };
        self.done(body)
    }
}

fn parse_head(head: &str) -> Result<Head, HttpError> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| HttpError::StatusLine(status_line.chars().take(80).collect()))?;
    let mut out = Head { status, length: None, chunked: false, challenges: Vec::new() };
    for l in lines {
        let Some((k, v)) = l.split_once(':') else { continue };
        let v = v.trim();
        if k.eq_ignore_ascii_case("www-authenticate") {
            out.challenges.push(v.to_string());
        } else if k.eq_ignore_ascii_case("content-length") {
            let n =
                v.parse().map_err(|_| HttpError::ContentLength(v.chars().take(40).collect()))?;
            out.length = Some(n);
        } else if k.eq_ignore_ascii_case("transfer-encoding") {
            out.chunked = v.to_ascii_lowercase().contains("chunked");
        }
    }
    Ok(out)
}

/// Whether a chunked body is complete (its last, empty chunk has come),
/// walking the chunk sizes without copying. A malformed size counts as
/// complete: [`dechunk`] reports it.
fn chunks_complete(mut data: &[u8]) -> bool {
    loop {
        let Some(eol) = find(data, b"\r\n") else { return false };
        let text = String::from_utf8_lossy(&data[..eol]);
        let Ok(size) = usize::from_str_radix(text.split(';').next().unwrap_or("").trim(), 16)
        else {
            return true;
        };
        if size == 0 {
            return true;
        }
        match size.checked_add(4).and_then(|n| eol.checked_add(n)) {
            Some(next) if next <= data.len() => data = &data[next..],
            _ => return false,
        }
    }
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    loop {
        let eol = find(data, b"\r\n")
            .ok_or(HttpError::Chunked("chunked body ends inside a chunk size"))?;
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| HttpError::Chunked("bad chunk size"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size.saturating_add(2) {
            return Err(HttpError::Chunked("chunked body ends inside a chunk"));
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(pieces: &[&[u8]]) -> Result<Response, HttpError> {
        let mut r = ResponseReader::new(100);
        for p in pieces {
            if let Progress::Done(resp) = r.push(p)? {
                return Ok(resp);
            }
        }
        r.finish()
    }

    #[test]
    fn framings() {
        let r = read_all(&[b"HTTP/1.0 401 No\r\nWWW-Authenticate: Basic realm=\"x\"\r\n", b"\r\n"])
            .unwrap();
        assert_eq!((r.status, r.body.len()), (401, 0));
        assert_eq!(r.challenges, ["Basic realm=\"x\""]);
        let r = read_all(&[b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef"]).unwrap();
        assert_eq!(r.body, b"abc");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n";
        for split in 1..chunked.len() {
            let (a, b) = chunked.split_at(split);
            assert_eq!(read_all(&[a, b]).unwrap().body, b"abcde", "split at {split}");
        }
        assert_eq!(read_all(&[b"HTTP/1.1 200 OK\r\n\r\nto the end"]).unwrap().body, b"to the end");
    }

    #[test]
    fn errors() {
        let e = |p: &[u8]| read_all(&[p]).unwrap_err();
        assert_eq!(e(b"HTTP/1.1 200"), HttpError::ClosedBeforeHeader);
        assert!(matches!(e(b"HTP/1.1 200 OK\r\n\r\n"), HttpError::StatusLine(_)));
        assert!(matches!(
            e(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
            HttpError::ContentLength(_)
        ));
        assert_eq!(
            e(b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"),
            HttpError::TooLarge { size: 101, limit: 100 }
        );
        assert_eq!(
            e(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"),
            HttpError::ClosedEarly { got: 3, want: 9 }
        );
        assert!(matches!(
            e(&[b"HTTP/1.1 200 OK\r\n\r\n".as_slice(), &[b'x'; 101]].concat()),
            HttpError::TooLarge { .. }
        ));
        let te = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(e(&[te.as_slice(), b"zz\r\n"].concat()), HttpError::Chunked(_)));
        assert!(matches!(e(&[te.as_slice(), b"5\r\nab"].concat()), HttpError::Chunked(_)));
        assert!(matches!(
            e(&[te.as_slice(), b"ffffffffffffffff\r\nab\r\n"].concat()),
            HttpError::Chunked(_)
        ));
        let mut r = ResponseReader::new(100);
        assert_eq!(r.push(&[b'x'; MAX_HEADER_BYTES + 1]), Err(HttpError::HeaderTooLong));
    }

    #[test]
    fn chunk_walk() {
        assert!(chunks_complete(b"0\r\n\r\n"));
        assert!(chunks_complete(b"3\r\nabc\r\n0\r\n"));
        assert!(!chunks_complete(b"3\r\nabc\r\n"));
        assert!(!chunks_complete(b"3\r\nab"));
        assert!(chunks_complete(b"zz\r\n"));
        assert!(!chunks_complete(b"ffffffffffffffff\r\n"));
    }
}
