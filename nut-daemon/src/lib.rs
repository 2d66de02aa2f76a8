#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, registry, reload};

pub mod getopt;
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
    /// [`level`](Self::level). Directives are `target=level` pairs and a
    /// bare default level (`info`, `nut_driver=trace,warn`); span and field
    /// filters are not supported (such a `RUST_LOG` is ignored with a
    /// warning). No regular expressions are compiled, which keeps the
    /// drivers' start-up and resident memory small.
    fn filter(&self) -> Targets {
        if self.from_env {
            if let Some(env) = std::env::var_os("RUST_LOG") {
                match env.to_str().map(str::parse::<Targets>) {
                    Some(Ok(t)) => return t,
                    _ => eprintln!("RUST_LOG {env:?} ignored: only target=level directives"),
                }
            }
        }
        fixed(self.level)
    }

    fn layer<S, W>(&self, writer: W) -> impl Layer<S> + Send + Sync + 'static
    where
        S: tracing::Subscriber + for<'s> LookupSpan<'s>,
        W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        fmt::layer()
            .with_writer(writer)
            .with_target(self.target)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
    }

    /// Logs to stderr, with time and level. Does nothing when a subscriber
    /// is already set.
    pub fn init(self) {
        let _ = registry().with(self.filter()).with(self.layer(std::io::stderr)).try_init();
    }

    /// Like [`init`](Self::init), and returns a [`LevelControl`] that
    /// changes the level later (NUT's `DEBUG_MIN` read from a config file
    /// after logging started). `None` when a subscriber was already set.
    pub fn init_with_control(self) -> Option<LevelControl> {
        let (filter, handle) = reload::Layer::new(self.filter());
        registry().with(filter).with(self.layer(std::io::stderr)).try_init().ok()?;
        let env_set = self.from_env && std::env::var_os("RUST_LOG").is_some();
        Some(LevelControl {
            set: Box::new(move |level| {
                let _ = handle.reload(fixed(level));
            }),
            env_set,
        })
    }

    /// Logs bare messages (no time, no level, no colours) to `writer`,
    /// which adds its own framing (syslog).
    pub fn init_bare<W>(self, writer: W)
    where
        W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        let bare = fmt::layer()
            .with_writer(writer)
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_level(false);
        let _ = registry().with(self.filter()).with(bare).try_init();
    }
}

/// `level` as a filter for every target (`info` when it does not parse).
fn fixed(level: &str) -> Targets {
    level.parse().unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO))
}

/// Changes the level of the logging set up by
/// [`Logging::init_with_control`].
pub struct LevelControl {
    set: Box<dyn Fn(&str) + Send + Sync>,
    env_set: bool,
}

impl LevelControl {
    /// Logs at NUT debug level `debug` from now on (as
    /// [`Logging::debug`] maps it); `RUST_LOG`, when it was set, still
    /// wins.
    pub fn set_debug(&self, debug: u32) {
        if !self.env_set {
            (self.set)(Logging::debug(debug).level);
        }
    }
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
