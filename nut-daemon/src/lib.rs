#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::sync::{Arc, PoisonError, RwLock};

pub use logger::MakeLogWriter;
use logger::{Filter, Logger, Stderr, Style};

pub mod getopt;
mod logger;
pub mod paths;
pub mod pidfile;
pub mod privs;
pub mod signals;

/// How a program logs with `tracing`: to stderr (ANSI colours only on a
/// terminal) or to a writer of its own such as syslog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logging {
    /// The filter when `RUST_LOG` does not say (`"info"`, `"debug"`).
    pub level: &'static str,
    /// Whether `RUST_LOG` wins over [`level`](Self::level) when set.
    pub from_env: bool,
    /// Whether each line names its module (tracing's target).
    pub target: bool,
}

impl Logging {
    /// NUT's debug levels: `info` by default, `debug` with one `-D`,
    /// `trace` with more; `RUST_LOG` wins; modules named.
    pub fn debug(debug: u32) -> Logging {
        let level = match debug {
            0 => "info",
            1 => "debug",
            _ => "trace",
        };
        Logging { level, from_env: true, target: true }
    }

    /// The same with another level.
    pub fn with_level(self, level: &'static str) -> Logging {
        Logging { level, ..self }
    }

    /// Without the module names.
    pub fn without_target(self) -> Logging {
        Logging { target: false, ..self }
    }

    /// Without `RUST_LOG`: [`level`](Self::level) only.
    pub fn ignore_env(self) -> Logging {
        Logging { from_env: false, ..self }
    }

    /// The filter: `RUST_LOG` when allowed, set and valid, else
    /// [`level`](Self::level), and whether `RUST_LOG` gave it. Directives
    /// are `target=level` pairs and a bare default level (`info`,
    /// `nut_driver=trace,warn`), the longest matching target prefix
    /// deciding; span and field filters are not supported (such a
    /// `RUST_LOG` is ignored with a warning). No regular expressions are
    /// compiled, which keeps the drivers' start-up and resident memory
    /// small.
    fn filter(&self) -> (Filter, bool) {
        let (filter, env_set, warning) = self.filter_from(std::env::var_os("RUST_LOG").as_deref());
        if let Some(w) = warning {
            eprintln!("{w}");
        }
        (filter, env_set)
    }

    /// [`filter`](Self::filter) with `env` as `RUST_LOG`, and the warning
    /// to print when it is ignored.
    fn filter_from(&self, env: Option<&std::ffi::OsStr>) -> (Filter, bool, Option<String>) {
        match env.filter(|_| self.from_env) {
            None => (fixed(self.level), false, None),
            Some(env) => match env.to_str().and_then(Filter::parse) {
                Some(f) => (f, true, None),
                None => {
                    let warning = format!("RUST_LOG {env:?} ignored: only target=level directives");
                    (fixed(self.level), false, Some(warning))
                }
            },
        }
    }

    /// Installs the subscriber; the filter when it was installed (`None`
    /// when a subscriber was already set), and whether `RUST_LOG` gave it.
    fn install<W: MakeLogWriter>(
        self,
        style: Style,
        writer: W,
    ) -> Option<(Arc<RwLock<Filter>>, bool)> {
        let (filter, env_set) = self.filter();
        let filter = Arc::new(RwLock::new(filter));
        let logger = Logger { filter: Arc::clone(&filter), style, writer };
        tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(logger)).ok()?;
        Some((filter, env_set))
    }

    /// Time, level, the target unless [`without_target`](Self::without_target),
    /// and colours on a terminal.
    fn style(&self) -> Style {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        Style { time: true, level: true, target: self.target, ansi }
    }

    /// Logs to stderr, with time and level. Does nothing when a subscriber
    /// is already set.
    pub fn init(self) {
        let _ = self.install(self.style(), Stderr);
    }

    /// Like [`init`](Self::init), and returns a [`LevelControl`] that
    /// changes the level later (NUT's `DEBUG_MIN` read from a config file
    /// after logging started). `None` when a subscriber was already set.
    pub fn init_with_control(self) -> Option<LevelControl> {
        let (filter, env_set) = self.install(self.style(), Stderr)?;
        Some(LevelControl { filter, env_set })
    }

    /// Logs bare messages (no time, no level, no target, no colours) to
    /// `writer`, which adds its own framing (syslog). Does nothing when a
    /// subscriber is already set.
    pub fn init_bare<W: MakeLogWriter>(self, writer: W) {
        let bare = Style { time: false, level: false, target: false, ansi: false };
        let _ = self.install(bare, writer);
    }
}

/// `level` as a filter (`info` for every target when it does not parse).
fn fixed(level: &str) -> Filter {
    Filter::parse(level).unwrap_or_else(|| Filter::level(tracing_core::LevelFilter::INFO))
}

/// Changes the level of the logging set up by
/// [`Logging::init_with_control`].
pub struct LevelControl {
    filter: Arc<RwLock<Filter>>,
    env_set: bool,
}

impl LevelControl {
    /// Logs at NUT debug level `debug` from now on (as
    /// [`Logging::debug`] maps it); `RUST_LOG`, when it set the filter,
    /// still wins.
    pub fn set_debug(&self, debug: u32) {
        if !self.env_set {
            set_filter(&self.filter, fixed(Logging::debug(debug).level));
        }
    }
}

/// Replaces the filter, then has every callsite ask again whether it is
/// enabled (the answers are cached) and the maximum level recomputed.
fn set_filter(lock: &RwLock<Filter>, filter: Filter) {
    *lock.write().unwrap_or_else(PoisonError::into_inner) = filter;
    tracing_core::callsite::rebuild_interest_cache();
}

impl std::fmt::Debug for LevelControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelControl").field("env_set", &self.env_set).finish_non_exhaustive()
    }
}

/// Sets up logging to stderr: `info` by default, `debug` with one `-D`,
/// `trace` with more; `RUST_LOG` wins when set; no module names.
pub fn init_logging(debug: u32) {
    Logging::debug(debug).without_target().init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use tracing_core::Level;

    #[test]
    fn rust_log_wins_when_valid_and_allowed() {
        let l = Logging::debug(0);
        let (f, env_set, warning) = l.filter_from(Some(OsStr::new("nut_driver=trace,warn")));
        assert!(env_set && warning.is_none());
        assert!(f.enabled("nut_driver::io", &Level::TRACE));
        assert!(!f.enabled("nut_upsd", &Level::INFO));
        // Not allowed: the level only.
        let (f, env_set, warning) = l.ignore_env().filter_from(Some(OsStr::new("trace")));
        assert!(!env_set && warning.is_none());
        assert_eq!(f, fixed("info"));
        // Unset: the level.
        let (f, env_set, _) = l.with_level("debug").filter_from(None);
        assert!(!env_set && f.enabled("x", &Level::DEBUG) && !f.enabled("x", &Level::TRACE));
    }

    #[test]
    fn an_invalid_rust_log_is_ignored_with_a_warning() {
        let l = Logging::debug(1);
        let (f, env_set, warning) = l.filter_from(Some(OsStr::new("nut_driver=loud")));
        assert!(!env_set, "an ignored RUST_LOG does not stop LevelControl");
        assert_eq!(f, fixed("debug"));
        assert_eq!(
            warning.as_deref(),
            Some("RUST_LOG \"nut_driver=loud\" ignored: only target=level directives")
        );
    }

    #[test]
    fn debug_levels_map_to_filters() {
        assert_eq!(fixed(Logging::debug(0).level), fixed("info"));
        assert!(fixed(Logging::debug(1).level).enabled("x", &Level::DEBUG));
        assert!(fixed(Logging::debug(5).level).enabled("x", &Level::TRACE));
        assert_eq!(fixed("nonsense=level"), fixed("info"));
    }
}
