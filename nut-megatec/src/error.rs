//! Errors: why a query got no usable answer, or why an answer was refused.

use alloc::string::String;

/// Bytes shown in an error message: printable ASCII as is, the rest as
/// `\r`, `\n`, `\0` or `\xNN`, at most 120 bytes (then `...`).
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, &b) in bytes.iter().enumerate() {
        if i >= 120 {
            s.push_str("...");
            break;
        }
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0 => s.push_str("\\0"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                s.push_str("\\x");
                s.push(char::from(HEX[usize::from(b >> 4)]));
                s.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
    s
}

/// Why an answer was refused (NUT's `qx_process_answer` and
/// `ups_infoval_set` checks). Every variant names the query (escaped, see
/// [`escape`]) and the answer or the variable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerError {
    /// The query got no answer before its deadline (serial: no CR within
    /// the timeout; `partial` holds what arrived).
    #[error("query {query}: no answer (timeout), received {partial:?}")]
    Timeout {
        /// The query.
        query: String,
        /// Bytes received before the deadline, escaped.
        partial: String,
    },
    /// The answer is longer than [`crate::MAX_ANSWER_LEN`] bytes.
    #[error("query {query}: answer longer than {max} bytes: {answer}")]
    Overlong {
        /// The query.
        query: String,
        /// The start of the answer, escaped.
        answer: String,
        /// The limit.
        max: usize,
    },
    /// The device answered with the protocol's "rejected" string
    /// (`(NAK\r`, `N\r`, ...).
    #[error("query {query}: rejected by the device: {answer}")]
    Rejected {
        /// The query.
        query: String,
        /// The answer.
        answer: String,
    },
    /// The answer is shorter than the item's minimum length (a NUL ends an
    /// answer, as in NUT's C strings).
    #[error("query {query}: answer of {len} bytes, at least {min} expected: {answer}")]
    Short {
        /// The query.
        query: String,
        /// The answer.
        answer: String,
        /// Its usable length.
        len: usize,
        /// The item's minimum.
        min: usize,
    },
    /// The answer does not start with the item's leading character.
    #[error("query {query}: answer does not start with {expected:?}: {answer}")]
    Leading {
        /// The query.
        query: String,
        /// The answer.
        answer: String,
        /// The expected first character.
        expected: char,
    },
    /// The item's field is not a number where the item wants one.
    #[error("query {query}: field {var} at {from}..={to} is not numeric: {value}")]
    NonNumeric {
        /// The query.
        query: String,
        /// The NUT variable.
        var: &'static str,
        /// First position of the field.
        from: usize,
        /// Last position of the field (0: up to the CR).
        to: usize,
        /// The field, escaped.
        value: String,
    },
    /// The item's field is empty (or past the end of the answer).
    #[error("query {query}: field {var} at {from}..={to} is empty")]
    Empty {
        /// The query.
        query: String,
        /// The NUT variable.
        var: &'static str,
        /// First position of the field.
        from: usize,
        /// Last position of the field (0: up to the CR).
        to: usize,
    },
    /// The item's conversion hook refused the field.
    #[error("query {query}: {hook} refused field {var}: {value}")]
    Hook {
        /// The query.
        query: String,
        /// The NUT variable.
        var: &'static str,
        /// NUT's name of the hook.
        hook: &'static str,
        /// The field, escaped.
        value: String,
    },
    /// The item needs a NUT hook this crate does not implement.
    #[error("query {query}: {var} needs hook {hook}, which is not implemented")]
    Unsupported {
        /// The query.
        query: String,
        /// The NUT variable.
        var: &'static str,
        /// NUT's name of the hook.
        hook: &'static str,
    },
}

/// Why a command or a variable setting was refused before or after it was
/// sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The protocol has no such instant command or writable variable.
    #[error("unknown command or variable {0}")]
    Unknown(String),
    /// The value is missing, not a number, out of range or not allowed.
    #[error("{name}: invalid value {value:?}")]
    InvalidValue {
        /// Command or variable.
        name: String,
        /// The value given.
        value: String,
    },
    /// The device refused or did not confirm the command.
    #[error("{name}: {source}")]
    Answer {
        /// Command or variable.
        name: String,
        /// What was wrong with the answer.
        source: AnswerError,
    },
    /// The device answered something else than an acceptance.
    #[error("{name}: device answered {answer}")]
    NotAccepted {
        /// Command or variable.
        name: String,
        /// The answer, escaped.
        answer: String,
    },
    /// No protocol is active yet (autodetection has not finished).
    #[error("no protocol claimed the device yet")]
    NotReady,
}

/// Configuration errors (NUT exits with a fatal error for these).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `protocol=` names no known protocol.
    #[error("unknown protocol {0:?}")]
    UnknownProtocol(String),
    /// `runtimecal` does not have 4 numbers, or they are out of range.
    #[error("runtimecal {0:?}: {1}")]
    Runtimecal(String, &'static str),
    /// `chargetime` is not a positive number of seconds.
    #[error("chargetime {0:?} out of range")]
    Chargetime(String),
    /// `idleload` is not in 0..100 %.
    #[error("idleload {0:?} out of range")]
    Idleload(String),
    /// `ondelay` / `offdelay` refused by the protocol's range.
    #[error("{0} {1:?} out of range")]
    Delay(&'static str, String),
}
