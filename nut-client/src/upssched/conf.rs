//! The `upssched.conf` model.

use nut_proto::config::{self, ConfigError};

/// What an `AT` line does when it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleAction {
    /// `START-TIMER <timer> <seconds>`: ask the timer daemon to start a
    /// timer. `seconds` is kept as written; the daemon reads it as NUT does
    /// (see [`parse_seconds`](super::parse_seconds)).
    StartTimer {
        /// The timer's name, passed to CMDSCRIPT when it expires.
        timer: String,
        /// The delay, as written.
        seconds: String,
    },
    /// `START-TIMER-SHARED <timer> <seconds>` (NUT after 2.8.0): start the
    /// timer unless one of that name is already running.
    StartTimerShared {
        /// The timer's name.
        timer: String,
        /// The delay, as written.
        seconds: String,
    },
    /// `CANCEL-TIMER <timer> [<cmd>]`: cancel the timer; when none of that
    /// name is running and `cmd` is given, the daemon runs `CMDSCRIPT <cmd>`.
    CancelTimer {
        /// The timer's name.
        timer: String,
        /// What to run when no such timer was running.
        cmd: Option<String>,
    },
    /// `EXECUTE <cmd>`: run `CMDSCRIPT <cmd>` at once.
    Execute {
        /// The argument text (may be empty: then nothing runs and an
        /// error is logged, as NUT does).
        cmd: String,
    },
    /// An unknown command word: logged as `Invalid command: <word>` when the
    /// line matches, as NUT does.
    Invalid {
        /// The word.
        command: String,
    },
}

/// One `AT <notifytype> <upsname|*> <command> <args...>` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Line number in the file.
    pub line: u32,
    /// The notification type (compared case-insensitively).
    pub notify_type: String,
    /// The UPS name as upsmon passes it in `UPSNAME` (compared exactly), or `*`.
    pub ups: String,
    /// What to do.
    pub action: RuleAction,
}

impl Rule {
    /// Whether this rule applies to a notification of `notify_type` about
    /// `ups`: the UPS name must be equal or the rule's `*`, and the
    /// notification type equal ignoring ASCII case.
    pub fn matches(&self, ups: &str, notify_type: &str) -> bool {
        (self.ups == ups || self.ups == "*") && self.notify_type.eq_ignore_ascii_case(notify_type)
    }
}

/// A problem that makes NUT's `upssched` give up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfError {
    /// An `AT` line came before one of CMDSCRIPT, PIPEFN, LOCKFN.
    #[error("{file}:{line}: {keyword} must be set before any ATs in the config file")]
    MissingBeforeAt {
        /// File name, as given to [`Config::parse`].
        file: String,
        /// The line of the first `AT`.
        line: u32,
        /// `CMDSCRIPT`, `PIPEFN` or `LOCKFN`.
        keyword: &'static str,
    },
}

impl ConfError {
    /// The line NUT prints (on stdout and in its log) for this error.
    pub fn nut_message(&self) -> String {
        match self {
            ConfError::MissingBeforeAt { keyword, .. } => {
                format!("{keyword} must be set before any ATs in the config file!")
            }
        }
    }
}

/// A line that was skipped, with the text NUT logs for it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfWarning {
    /// The line did not tokenize.
    Syntax(ConfigError),
    /// An unknown directive or one with too few words; NUT logs
    /// `upssched.conf: invalid directive <words...>`.
    InvalidDirective {
        /// Line number.
        line: u32,
        /// The words of the line.
        words: Vec<String>,
    },
}

impl std::fmt::Display for ConfWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfWarning::Syntax(e) => write!(f, "Parse error: {e}"),
            ConfWarning::InvalidDirective { words, .. } => {
                f.write_str("upssched.conf: invalid directive")?;
                for w in words {
                    write!(f, " {w}")?;
                }
                Ok(())
            }
        }
    }
}

/// A parsed `upssched.conf`.
///
/// ```
/// use nut_client::upssched::{Config, RuleAction};
/// let text = b"CMDSCRIPT /bin/cmd\nPIPEFN /run/p\nLOCKFN /run/l\n\
///              AT ONBATT * START-TIMER onbatt 30\nAT ONLINE ups1 CANCEL-TIMER onbatt\n";
/// let conf = Config::parse("upssched.conf", text).unwrap();
/// let hits: Vec<_> = conf.matching("ups1", "onbatt").collect();
/// assert_eq!(hits.len(), 1);
/// assert!(matches!(&hits[0].action, RuleAction::StartTimer { timer, seconds }
///     if timer == "onbatt" && seconds == "30"));
/// assert_eq!(conf.matching("ups2", "ONLINE").count(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// `CMDSCRIPT`: the program (and white-space separated arguments) run
    /// with a timer name or an EXECUTE argument as its last argument, never
    /// through a shell.
    pub cmdscript: Option<String>,
    /// `PIPEFN`: the timer daemon's unix socket.
    pub pipefn: Option<String>,
    /// `LOCKFN`: the lock file that serialises starting the daemon.
    pub lockfn: Option<String>,
    /// `DEBUG_MIN` (NUT after 2.8.0), if given.
    pub debug_min: Option<i64>,
    /// The `AT` rules in file order.
    pub rules: Vec<Rule>,
    /// Lines skipped, in file order (NUT logs each and goes on).
    pub warnings: Vec<ConfWarning>,
}

impl Config {
    /// Parses the file with NUT's tokenizer and NUT's rules: CMDSCRIPT,
    /// PIPEFN and LOCKFN take one word (a later line replaces an earlier
    /// one); an `AT` line needs at least five words and must come after all
    /// three, else the whole file is refused; other lines are warnings.
    pub fn parse(file: &str, text: &[u8]) -> Result<Config, ConfError> {
        let parsed = config::parse(file, text);
        let mut conf = Config::default();
        // Errors and directives merged back into file order.
        let directives: Vec<_> = parsed.directives().map(|(_, d)| d.clone()).collect();
        let mut errors = parsed.errors.into_iter().peekable();
        for d in directives {
            while errors.peek().is_some_and(|e| e.line < d.line) {
                conf.warnings.extend(errors.next().map(ConfWarning::Syntax));
            }
            conf.directive(file, d.line, &d.words)?;
        }
        conf.warnings.extend(errors.map(ConfWarning::Syntax));
        Ok(conf)
    }

    fn directive(&mut self, file: &str, line: u32, w: &[String]) -> Result<(), ConfError> {
        let invalid = |conf: &mut Config| {
            conf.warnings.push(ConfWarning::InvalidDirective { line, words: w.to_vec() })
        };
        if w.len() < 2 {
            invalid(self);
            return Ok(());
        }
        match w[0].as_str() {
            "CMDSCRIPT" => self.cmdscript = Some(w[1].clone()),
            "PIPEFN" => self.pipefn = Some(w[1].clone()),
            "LOCKFN" => self.lockfn = Some(w[1].clone()),
            k if k.eq_ignore_ascii_case("DEBUG_MIN") => {
                self.debug_min = Some(nut_proto::token::atoi(&w[1]))
            }
            "AT" if w.len() >= 5 => {
                for (keyword, set) in [
                    ("CMDSCRIPT", self.cmdscript.is_some()),
                    ("PIPEFN", self.pipefn.is_some()),
                    ("LOCKFN", self.lockfn.is_some()),
                ] {
                    if !set {
                        return Err(ConfError::MissingBeforeAt {
                            file: file.to_string(),
                            line,
                            keyword,
                        });
                    }
                }
                let arg2 = w.get(5).cloned();
                let action = match w[3].as_str() {
                    "START-TIMER" | "START-TIMER-SHARED" if arg2.is_none() => {
                        // NUT sends a START the daemon refuses, retries 30
                        // times and gives up; we skip the line instead.
                        invalid(self);
                        return Ok(());
                    }
                    "START-TIMER" => RuleAction::StartTimer {
                        timer: w[4].clone(),
                        seconds: arg2.unwrap_or_default(),
                    },
                    "START-TIMER-SHARED" => RuleAction::StartTimerShared {
                        timer: w[4].clone(),
                        seconds: arg2.unwrap_or_default(),
                    },
                    "CANCEL-TIMER" => RuleAction::CancelTimer { timer: w[4].clone(), cmd: arg2 },
                    "EXECUTE" => RuleAction::Execute { cmd: w[4].clone() },
                    other => RuleAction::Invalid { command: other.to_string() },
                };
                self.rules.push(Rule {
                    line,
                    notify_type: w[1].clone(),
                    ups: w[2].clone(),
                    action,
                });
            }
            _ => invalid(self),
        }
        Ok(())
    }

    /// The rules that apply to a notification, in file order (NUT acts on
    /// every matching line, in order).
    pub fn matching<'a>(
        &'a self,
        ups: &'a str,
        notify_type: &'a str,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules.iter().filter(move |r| r.matches(ups, notify_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "CMDSCRIPT /s\nPIPEFN /p\nLOCKFN /l\n";

    fn conf(body: &str) -> Config {
        Config::parse("upssched.conf", format!("{HEAD}{body}").as_bytes()).unwrap()
    }

    #[test]
    fn globals_must_precede_at() {
        let e = Config::parse("f", b"CMDSCRIPT /s\nPIPEFN /p\nAT X * EXECUTE y\nLOCKFN /l\n")
            .unwrap_err();
        assert_eq!(e, ConfError::MissingBeforeAt { file: "f".into(), line: 3, keyword: "LOCKFN" });
        assert_eq!(e.to_string(), "f:3: LOCKFN must be set before any ATs in the config file");
        assert_eq!(e.nut_message(), "LOCKFN must be set before any ATs in the config file!");
        let e = Config::parse("f", b"# c\n\nAT X * FOO y\n").unwrap_err();
        assert!(matches!(e, ConfError::MissingBeforeAt { keyword: "CMDSCRIPT", line: 3, .. }));
        // An AT with too few words is only a warning, even first.
        let c = Config::parse("f", b"AT X *\n").unwrap();
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(c.warnings[0].to_string(), "upssched.conf: invalid directive AT X *");
    }

    #[test]
    fn rules_and_matching() {
        let c = conf(
            "AT ONBATT * START-TIMER t1 30\n\
             AT onbatt ups1 EXECUTE \"hello world\"\n\
             AT ONLINE * CANCEL-TIMER t1 \"back on\"\n\
             AT ONLINE ups1 CANCEL-TIMER t1\n\
             AT ONBATT ups1 START-TIMER-SHARED t2 5\n\
             AT ONBATT * FOO x\n\
             AT COMMBAD * START-TIMER t3\n\
             FOO bar\n\
             DEBUG_MIN 3\n",
        );
        assert_eq!(c.debug_min, Some(3));
        assert_eq!(c.rules.len(), 6);
        assert_eq!(c.warnings.len(), 2);
        let on: Vec<_> = c.matching("ups1", "OnBatt").map(|r| r.line).collect();
        assert_eq!(on, [4, 5, 8, 9]);
        assert_eq!(c.matching("UPS1", "ONBATT").map(|r| r.line).collect::<Vec<_>>(), [4, 9]);
        assert_eq!(
            c.rules[2].action,
            RuleAction::CancelTimer { timer: "t1".into(), cmd: Some("back on".into()) }
        );
        assert_eq!(c.rules[3].action, RuleAction::CancelTimer { timer: "t1".into(), cmd: None });
        assert_eq!(c.rules[5].action, RuleAction::Invalid { command: "FOO".into() });
    }

    #[test]
    fn syntax_errors_are_warnings_in_order() {
        let c = conf("AT X * EXECUTE \"a # b\"\nAT Y * EXECUTE z\n");
        assert_eq!(c.rules.len(), 1);
        assert!(matches!(&c.warnings[0], ConfWarning::Syntax(e) if e.line == 4));
    }
}
