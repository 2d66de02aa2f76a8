//! The syntax shared by NUT's configuration files.
//!
//! `ups.conf`, `upsd.conf`, `upsd.users`, `upsmon.conf`, `upssched.conf`
//! and `hosts.conf` are all lines of words read by the one tokenizer
//! ([`crate::token`]); some use `[name]` sections, some `key = value`
//! pairs, some `KEYWORD args...` directives. [`parse`] turns a file into
//! [`Directive`]s grouped into [`Section`]s, each with its line number, and
//! keeps going after a bad line (as NUT does) so that every error is
//! reported with its file and line. [`upsconf`] is the typed model of
//! `ups.conf` shared by `upsd`, `upsdrvctl` and the drivers; the other
//! files' models live in the crates that use them.
//!
//! ```
//! let text = b"maxretry = 3\n[myups]\n  driver = dummy-ups\n  port = \"a file.dev\"\n  nolock\n";
//! let conf = nut_proto::config::parse("ups.conf", text);
//! assert!(conf.errors.is_empty());
//! assert_eq!(conf.global[0].key_value(), Some(("maxretry", "3")));
//! let ups = &conf.sections[0];
//! assert_eq!((ups.name.as_str(), ups.line), ("myups", 2));
//! assert_eq!(ups.get("port"), Some("a file.dev"));
//! assert_eq!(ups.directives[2].key(), "nolock");
//! ```

pub mod upsconf;

use crate::frame::{FrameError, LineFramer};
use crate::token::{self, TokenError};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// The longest logical line accepted in a configuration file.
pub const MAX_CONFIG_LINE: usize = 64 * 1024;

/// One non-empty line of a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Line number (1-based) where the logical line starts.
    pub line: u32,
    /// The words of the line, unescaped. Never empty.
    pub words: Vec<String>,
}

impl Directive {
    /// The first word.
    pub fn key(&self) -> &str {
        &self.words[0]
    }

    /// The words after the first.
    pub fn args(&self) -> &[String] {
        &self.words[1..]
    }

    /// `key = value`: three or more words, the second `=`; the third is
    /// the value and any further words are ignored (NUT's rule for
    /// `ups.conf`, see [`upsconf`]).
    pub fn key_value(&self) -> Option<(&str, &str)> {
        match self.words.as_slice() {
            [k, eq, v, ..] if eq == "=" => Some((k, v)),
            _ => None,
        }
    }

    /// For `key = v1 v2 ...` or `key v1 v2 ...`: the values after the key,
    /// with a leading `=` skipped.
    pub fn values(&self) -> &[String] {
        match self.words.get(1) {
            Some(eq) if eq == "=" => &self.words[2..],
            _ => &self.words[1..],
        }
    }
}

/// A `[name]` section and the directives under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets.
    pub name: String,
    /// Line number of the `[name]` line.
    pub line: u32,
    /// The directives that follow, up to the next section.
    pub directives: Vec<Directive>,
}

impl Section {
    /// The value of the last `key = value` directive with this key
    /// (compared case-sensitively; a later value overrides an earlier one,
    /// as NUT reads ups.conf).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.directives
            .iter()
            .rev()
            .filter_map(Directive::key_value)
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

/// What went wrong on one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The line could not be tokenized.
    #[error("{0}")]
    Token(#[from] TokenError),
    /// The line is longer than [`MAX_CONFIG_LINE`].
    #[error("line longer than {MAX_CONFIG_LINE} bytes")]
    LineTooLong,
    /// A `[` section header that is not a single `[name]` word.
    #[error("malformed section header")]
    BadSection,
}

/// A syntax error, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// File name, as given to [`parse`].
    pub file: String,
    /// Line number (1-based).
    pub line: u32,
    /// The problem.
    pub kind: ConfigErrorKind,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.kind)
    }
}

/// A parsed file: directives before the first section, the sections, and
/// the errors met on the way (their lines are skipped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigFile {
    /// Directives before the first `[section]`.
    pub global: Vec<Directive>,
    /// The sections, in file order.
    pub sections: Vec<Section>,
    /// Syntax errors, in file order.
    pub errors: Vec<ConfigError>,
}

impl ConfigFile {
    /// Every directive in file order, with the name of its section (`None`
    /// for the global part).
    pub fn directives(&self) -> impl Iterator<Item = (Option<&str>, &Directive)> {
        self.global.iter().map(|d| (None, d)).chain(
            self.sections
                .iter()
                .flat_map(|s| s.directives.iter().map(move |d| (Some(s.name.as_str()), d))),
        )
    }
}

/// Parses a configuration file. `file` is only used in error messages.
///
/// A line whose first word starts with `[` and ends with `]` opens a
/// section (NUT's rule, so `[a b]` is not a section name unless quoted).
pub fn parse(file: &str, text: &[u8]) -> ConfigFile {
    let mut out = ConfigFile::default();
    let mut framer = LineFramer::new(MAX_CONFIG_LINE);
    let mut line_no: u32 = 1;
    let mut rest = text;
    while !rest.is_empty() {
        let start = line_no;
        let (used, frame) = framer.decode(rest);
        line_no = line_no.saturating_add(count_lf(&rest[..used]));
        rest = &rest[used..];
        match frame {
            Some(Ok(line)) => add_line(&mut out, file, start, line),
            Some(Err(FrameError::LineTooLong { .. })) => out.errors.push(ConfigError {
                file: file.to_string(),
                line: start,
                kind: ConfigErrorKind::LineTooLong,
            }),
            None => {
                // End of file inside a line: a last line without LF is
                // still a line (tokenizing it reports an open quote).
                if !framer.is_discarding() {
                    let tail = framer.take_partial();
                    add_line(&mut out, file, start, &tail);
                }
            }
        }
    }
    out
}

fn count_lf(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|&&b| b == b'\n').count().try_into().unwrap_or(u32::MAX)
}

fn add_line(out: &mut ConfigFile, file: &str, line: u32, bytes: &[u8]) {
    let words = match token::tokenize(bytes) {
        Ok(w) => w,
        Err(e) => {
            out.errors.push(ConfigError { file: file.to_string(), line, kind: e.into() });
            return;
        }
    };
    if words.is_empty() {
        return;
    }
    let first = words.get(0).unwrap_or("");
    if let Some(inner) = first.strip_prefix('[') {
        match inner.strip_suffix(']') {
            Some(name) if words.len() == 1 => {
                out.sections.push(Section { name: name.to_string(), line, directives: Vec::new() });
            }
            _ => out.errors.push(ConfigError {
                file: file.to_string(),
                line,
                kind: ConfigErrorKind::BadSection,
            }),
        }
        return;
    }
    let d = Directive { line, words: words.iter().map(String::from).collect() };
    match out.sections.last_mut() {
        Some(s) => s.directives.push(d),
        None => out.global.push(d),
    }
}
