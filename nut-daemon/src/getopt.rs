//! POSIX `getopt` as NUT's programs use it (`-DD`, `-aups`, `-a ups`,
//! stopping at the first operand when the spec starts with `+`, and at
//! `--`), with glibc's messages for a bad option.

/// One parsed option or operand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `-c` or `-c value`.
    Opt(char, Option<String>),
    /// A non-option argument.
    Operand(String),
}

/// Why the command line is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetoptError {
    /// An option not in the spec.
    Unknown(char),
    /// An option that needs a value got none.
    MissingValue(char),
}

impl GetoptError {
    /// The line glibc's `getopt` prints on stderr for this error, without
    /// the newline: `upsc: invalid option -- 'q'`.
    pub fn posix_message(&self, prog: &str) -> String {
        match self {
            GetoptError::Unknown(c) => format!("{prog}: invalid option -- '{c}'"),
            GetoptError::MissingValue(c) => {
                format!("{prog}: option requires an argument -- '{c}'")
            }
        }
    }
}

impl std::error::Error for GetoptError {}

impl std::fmt::Display for GetoptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetoptError::Unknown(c) => write!(f, "unknown option -{c}"),
            GetoptError::MissingValue(c) => write!(f, "option -{c} requires an argument"),
        }
    }
}

/// Parses `args` (without the program name) against `spec` (`"a:s:kD"`:
/// a letter followed by `:` takes a value) and stops at the first error.
/// With a leading `+`, every argument from the first operand on is an
/// operand; otherwise options and operands may mix.
pub fn getopt(args: &[String], spec: &str) -> Result<Vec<Arg>, GetoptError> {
    scan(args, spec).into_iter().collect()
}

/// Like [`getopt`], but goes on after an error as POSIX `getopt` does (the
/// caller reports each one, e.g. with [`GetoptError::posix_message`]): one
/// entry per option, operand or error, in order.
pub fn scan(args: &[String], spec: &str) -> Vec<Result<Arg, GetoptError>> {
    let (stop_at_operand, spec) = match spec.strip_prefix('+') {
        Some(s) => (true, s),
        None => (false, spec),
    };
    // None: not an option; Some(true): takes a value.
    let takes = |c: char| -> Option<bool> {
        if c == ':' {
            return None;
        }
        let i = spec.find(c)?;
        Some(spec[i + c.len_utf8()..].starts_with(':'))
    };
    let mut out = Vec::new();
    let mut i = 0;
    let mut operands_only = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if operands_only || a == "-" || !a.starts_with('-') {
            out.push(Ok(Arg::Operand(a.clone())));
            if stop_at_operand {
                operands_only = true;
            }
            continue;
        }
        if a == "--" {
            operands_only = true;
            continue;
        }
        for (pos, c) in a[1..].char_indices() {
            match takes(c) {
                None => out.push(Err(GetoptError::Unknown(c))),
                Some(false) => out.push(Ok(Arg::Opt(c, None))),
                Some(true) => {
                    let rest = &a[1 + pos + c.len_utf8()..];
                    out.push(if !rest.is_empty() {
                        Ok(Arg::Opt(c, Some(rest.to_string())))
                    } else if let Some(next) = args.get(i) {
                        i += 1;
                        Ok(Arg::Opt(c, Some(next.clone())))
                    } else {
                        Err(GetoptError::MissingValue(c))
                    });
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn like_posix() {
        let r = getopt(&v(&["-DD", "-aups", "-x", "k=v", "-F"]), "+a:x:DF").unwrap();
        assert_eq!(
            r,
            [
                Arg::Opt('D', None),
                Arg::Opt('D', None),
                Arg::Opt('a', Some("ups".into())),
                Arg::Opt('x', Some("k=v".into())),
                Arg::Opt('F', None)
            ]
        );
        let r = getopt(&v(&["-t", "start", "-u", "x"]), "tu:").unwrap();
        assert_eq!(r[1], Arg::Operand("start".into()));
        assert_eq!(r[2], Arg::Opt('u', Some("x".into())));
        assert_eq!(getopt(&v(&["-q"]), "a:"), Err(GetoptError::Unknown('q')));
        assert_eq!(getopt(&v(&["-a"]), "a:"), Err(GetoptError::MissingValue('a')));
        assert_eq!(getopt(&v(&["-:"]), "a:"), Err(GetoptError::Unknown(':')));
    }

    #[test]
    fn scan_goes_on_after_errors_and_stops_at_operands_with_plus() {
        let r = scan(&v(&["-lu", "x", "-px", "-qk", "ups", "-l"]), "+lu:p:k");
        assert_eq!(
            r,
            [
                Ok(Arg::Opt('l', None)),
                Ok(Arg::Opt('u', Some("x".into()))),
                Ok(Arg::Opt('p', Some("x".into()))),
                Err(GetoptError::Unknown('q')),
                Ok(Arg::Opt('k', None)),
                Ok(Arg::Operand("ups".into())),
                Ok(Arg::Operand("-l".into())),
            ]
        );
        assert_eq!(scan(&v(&["--", "-l"]), "+l"), [Ok(Arg::Operand("-l".into()))]);
        assert_eq!(scan(&v(&["-", "-l"]), "+l")[1], Ok(Arg::Operand("-l".into())));
        assert_eq!(scan(&v(&["-p"]), "+p:"), [Err(GetoptError::MissingValue('p'))]);
        assert_eq!(GetoptError::Unknown('q').posix_message("upsc"), "upsc: invalid option -- 'q'");
        assert_eq!(
            GetoptError::MissingValue('p').posix_message("upsc"),
            "upsc: option requires an argument -- 'p'"
        );
    }
}
