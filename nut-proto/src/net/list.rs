//! Reading a whole `LIST` reply: `BEGIN LIST <query>`, the rows, `END LIST
//! <query>`.

use super::{ErrCode, Query, Reply, ReplyError};
use alloc::vec::Vec;

/// Why a `LIST` reply could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// The server answered `ERR <code>` instead of the list.
    #[error("LIST {query}: server answered ERR {code}")]
    Server {
        /// The query asked.
        query: Query<'static>,
        /// The code.
        code: ErrCode<'static>,
    },
    /// A line did not parse as a reply.
    #[error("LIST {query}: line {line} does not parse: {error}")]
    Malformed {
        /// The query asked.
        query: Query<'static>,
        /// The line number in the reply, from 1.
        line: usize,
        /// Why.
        error: ReplyError,
    },
    /// A line parsed but is not the next part of this list (a `BEGIN` or
    /// `END` of another query, a row of another kind, UPS or variable, a
    /// row before `BEGIN LIST`).
    #[error("LIST {query}: line {line} is not part of this list")]
    Unexpected {
        /// The query asked.
        query: Query<'static>,
        /// The line number in the reply, from 1.
        line: usize,
    },
    /// More rows than the caller's limit.
    #[error("LIST {query}: more than {max} rows")]
    TooManyRows {
        /// The query asked.
        query: Query<'static>,
        /// The limit.
        max: usize,
    },
    /// The input ended before `END LIST`.
    #[error("LIST {query}: the reply ends before END LIST")]
    Truncated {
        /// The query asked.
        query: Query<'static>,
    },
}

/// Reads the reply to `LIST <query>` line by line, checking that the
/// `BEGIN` and `END` lines name the same query (names compared
/// case-insensitively, as NUT's client library does) and that each row
/// belongs to it.
///
/// ```
/// use nut_proto::net::{ListReader, Query, Reply};
///
/// let q = Query::Var { ups: "myups".into() };
/// let mut list = ListReader::new(q, 1000);
/// let mut done = None;
/// for line in [
///     &b"BEGIN LIST VAR myups"[..],
///     b"VAR myups ups.status \"OL\"",
///     b"VAR myups battery.charge \"100\"",
///     b"END LIST VAR myups",
/// ] {
///     done = list.push_line(line).unwrap();
/// }
/// let rows = done.unwrap();
/// assert_eq!(rows.len(), 2);
/// assert!(matches!(&rows[0], Reply::Var { var, value, .. } if var == "ups.status" && value == "OL"));
/// ```
#[derive(Clone, Debug)]
pub struct ListReader {
    query: Query<'static>,
    max_rows: usize,
    begun: bool,
    line: usize,
    rows: Vec<Reply<'static>>,
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}

fn same_query(a: &Query<'_>, b: &Query<'_>) -> bool {
    a.keyword() == b.keyword() && same(a.ups(), b.ups()) && same(a.var(), b.var())
}

fn row_of(q: &Query<'_>, row: &Reply<'_>) -> bool {
    let is = |a: &str, b: Option<&str>| same(Some(a), b);
    match (q, row) {
        (Query::Ups, Reply::Ups { .. }) => true,
        (Query::Var { .. }, Reply::Var { ups, .. })
        | (Query::Rw { .. }, Reply::Rw { ups, .. })
        | (Query::Cmd { .. }, Reply::Cmd { ups, .. })
        | (Query::Client { .. }, Reply::Client { ups, .. }) => is(ups, q.ups()),
        (Query::Enum { .. }, Reply::Enum { ups, var, .. })
        | (Query::Range { .. }, Reply::Range { ups, var, .. }) => {
            is(ups, q.ups()) && is(var, q.var())
        }
        _ => false,
    }
}

impl ListReader {
    /// A reader for the answer to `LIST <query>`, accepting at most
    /// `max_rows` rows.
    pub fn new(query: Query<'_>, max_rows: usize) -> Self {
        ListReader { query: query.into_owned(), max_rows, begun: false, line: 0, rows: Vec::new() }
    }

    /// Takes the next reply line (without its LF): `Ok(None)` while the list
    /// goes on, `Ok(Some(rows))` at `END LIST`.
    pub fn push_line(&mut self, line: &[u8]) -> Result<Option<Vec<Reply<'static>>>, ListError> {
        self.line += 1;
        let query = || self.query.clone();
        let reply = Reply::parse(line).map_err(|error| ListError::Malformed {
            query: query(),
            line: self.line,
            error,
        })?;
        match reply {
            Reply::Err { code, .. } if !self.begun => {
                Err(ListError::Server { query: query(), code: code.into_owned() })
            }
            Reply::BeginList(q) if !self.begun && same_query(&q, &self.query) => {
                self.begun = true;
                Ok(None)
            }
            Reply::EndList(q) if self.begun && same_query(&q, &self.query) => {
                self.begun = false;
                Ok(Some(core::mem::take(&mut self.rows)))
            }
            r if self.begun && row_of(&self.query, &r) => {
                if self.rows.len() >= self.max_rows {
                    return Err(ListError::TooManyRows { query: query(), max: self.max_rows });
                }
                self.rows.push(r.into_owned());
                Ok(None)
            }
            _ => Err(ListError::Unexpected { query: query(), line: self.line }),
        }
    }

    /// Reads a whole buffered reply (lines ended by LF, a CR before the LF
    /// ignored): the rows, or why not. Bytes after `END LIST` are ignored.
    ///
    /// ```
    /// use nut_proto::net::{ListReader, Query};
    ///
    /// let rows = ListReader::new(Query::Ups, 100)
    ///     .read_all(b"BEGIN LIST UPS\nUPS myups \"My UPS\"\nEND LIST UPS\n")
    ///     .unwrap();
    /// assert_eq!(rows.len(), 1);
    /// ```
    pub fn read_all(mut self, text: &[u8]) -> Result<Vec<Reply<'static>>, ListError> {
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        for line in text.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(rows) = self.push_line(line)? {
                return Ok(rows);
            }
        }
        Err(ListError::Truncated { query: self.query })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    // The server lines after `C: LIST UPS` in NUT 2.8.0's recorded
    // transcript (tests/transcripts/net-upsc-L.txt).
    #[test]
    fn reads_a_recorded_list() {
        let t = include_str!("../../tests/transcripts/net-upsc-L.txt");
        let mut lines = t.lines().skip_while(|l| *l != "C: LIST UPS").skip(1);
        let mut reader = ListReader::new(Query::Ups, 100);
        let rows = loop {
            let l = lines.next().expect("END LIST UPS in the transcript");
            let l = l.strip_prefix("S: ").expect("a server line");
            if let Some(rows) = reader.push_line(l.as_bytes()).unwrap() {
                break rows;
            }
        };
        let names: Vec<&str> = rows
            .iter()
            .filter_map(|r| match r {
                Reply::Ups { ups, .. } => Some(&**ups),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["dummy", "seq", "fake", "nodriver", "stale"]);
        assert!(matches!(&rows[0], Reply::Ups { desc, .. } if desc == "Test \"quoted\" # box"));
    }

    #[test]
    fn errors_name_the_query_and_line() {
        let q = Query::Enum { ups: "dummy".into(), var: "input.transfer.low".into() };
        let e = ListReader::new(q.clone(), 10).read_all(b"ERR INVALID-ARGUMENT\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "LIST ENUM dummy input.transfer.low: server answered ERR INVALID-ARGUMENT"
        );
        let e = ListReader::new(q.clone(), 10)
            .read_all(
                b"BEGIN LIST ENUM dummy input.transfer.low\nENUM other input.transfer.low \"1\"\n",
            )
            .unwrap_err();
        assert_eq!(e, ListError::Unexpected { query: q.clone(), line: 2 });
        let e = ListReader::new(q.clone(), 10)
            .read_all(b"BEGIN LIST ENUM dummy input.transfer.low\n")
            .unwrap_err();
        assert_eq!(e, ListError::Truncated { query: q.clone() });
        let e = ListReader::new(q.clone(), 1)
            .read_all(
                b"BEGIN LIST ENUM DUMMY input.transfer.low\nENUM dummy input.transfer.low \"1\"\n\
                  ENUM dummy input.transfer.low \"2\"\nEND LIST ENUM dummy input.transfer.low\n",
            )
            .unwrap_err();
        assert_eq!(e, ListError::TooManyRows { query: q, max: 1 });
    }
}
