//! POSIX `getopt` as NUT's programs use it (`-DD`, `-aups`, `-a ups`,
//! stopping at the first operand when the spec starts with `+`, and at `--`).

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

impl std::fmt::Display for GetoptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetoptError::Unknown(c) => write!(f, "unknown option -{c}"),
            GetoptError::MissingValue(c) => write!(f, "option -{c} requires an argument"),
        }
    }
}

/// Parses `args` (without the program name) against `spec` (`"a:s:kD"`:
/// a letter followed by `:` takes a value). With a leading `+`, every
/// argument from the first operand on is an operand; otherwise options and
/// operands may mix.
pub fn getopt(args: &[String], spec: &str) -> Result<Vec<Arg>, GetoptError> {
    let (stop_at_operand, spec) = match spec.strip_prefix('+') {
        Some(s) => (true, s),
        None => (false, spec),
    };
    let takes = |c: char| -> Option<bool> {
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
            out.push(Arg::Operand(a.clone()));
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
                None => return Err(GetoptError::Unknown(c)),
                Some(false) => out.push(Arg::Opt(c, None)),
                Some(true) => {
                    let rest = &a[1 + pos + c.len_utf8()..];
                    let value = if !rest.is_empty() {
                        rest.to_string()
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(GetoptError::MissingValue(c));
                    };
                    out.push(Arg::Opt(c, Some(value)));
                    break;
                }
            }
        }
    }
    Ok(out)
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
    }
}
