#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod checks;
mod raw;
mod report;
mod suite;
mod tls;

pub use checks::SUITE;
pub use raw::RawError;
#[doc(hidden)]
pub use suite::fuzzing;

use nut_client::HostPort;
use nut_proto::secret::Secret;
use std::time::Duration;

/// What part of the protocol a check covers; the human report groups by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Category {
    /// `VER`, `NETVER`, `PROTVER`, `HELP`, `server.*` variables.
    Basics,
    /// `GET` replies.
    Get,
    /// `LIST` framing, quoting and order.
    List,
    /// `ERR` codes reachable without credentials or writes.
    Errors,
    /// `USERNAME`/`PASSWORD`/`LOGIN`/`PRIMARY` and the writes' checks.
    Auth,
    /// The tokenizer: quotes, escapes, comments, limits, case.
    Tokenizer,
    /// Connection behaviour: pipelining, partial lines, `LOGOUT`.
    Session,
    /// `STARTTLS`.
    Tls,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 8] = [
        Category::Basics,
        Category::Get,
        Category::List,
        Category::Errors,
        Category::Auth,
        Category::Tokenizer,
        Category::Session,
        Category::Tls,
    ];

    /// The heading used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Category::Basics => "Basics",
            Category::Get => "GET",
            Category::List => "LIST",
            Category::Errors => "Errors",
            Category::Auth => "Authentication",
            Category::Tokenizer => "Tokenizer",
            Category::Session => "Session",
            Category::Tls => "TLS",
        }
    }
}

/// How much a difference matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// NUT's own clients (upsc, upsmon, libupsclient) depend on it.
    Required,
    /// Observable NUT 2.8 behaviour that careful clients may rely on.
    Recommended,
    /// A NUT 2.8 quirk or bug (silent truncation, no reply): a server may
    /// differ on purpose, and NUT's own clients never trigger it. Skipped
    /// with `--no-quirks`.
    Quirk,
}

impl Severity {
    /// Lowercase name, as in the reports.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Required => "required",
            Severity::Recommended => "recommended",
            Severity::Quirk => "quirk",
        }
    }
}

/// What a check needs before it may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Needs {
    /// Nothing: anonymous, read-only.
    Nothing,
    /// Valid credentials (`-u`/`-p`).
    Login,
    /// `--allow-writes`: sends `SET VAR` or `INSTCMD` (always ones the
    /// server must refuse, but a broken server might carry them out).
    Writes,
    /// `--allow-writes` and valid credentials.
    LoginWrites,
}

/// One check of the suite: data only; the outcome comes from [`run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CheckDef {
    /// Stable identifier, e.g. `N-LIST-VAR-FRAMING`.
    pub id: &'static str,
    /// Report group.
    pub category: Category,
    /// One line saying what is checked.
    pub title: &'static str,
    /// Where the expected behaviour is written down (RFC 9271 section, the
    /// NUT reference digest section, the recorded transcript).
    pub reference: &'static str,
    /// How much a difference matters.
    pub severity: Severity,
    /// What the check needs to run.
    pub needs: Needs,
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The server behaves as NUT 2.8.
    Pass,
    /// It does not.
    Fail {
        /// What NUT 2.8 sends (or does).
        expected: String,
        /// What the server sent (or did).
        got: String,
    },
    /// The check did not run.
    Skip {
        /// Why not.
        reason: String,
    },
    /// Nothing to compare; something worth knowing.
    Info {
        /// What was found.
        text: String,
    },
}

impl Outcome {
    /// The four-letter tag used in reports (`PASS`, `FAIL`, `SKIP`, `INFO`).
    pub fn tag(&self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail { .. } => "FAIL",
            Outcome::Skip { .. } => "SKIP",
            Outcome::Info { .. } => "INFO",
        }
    }

    /// Shorthand for a failure.
    pub fn fail(expected: impl Into<String>, got: impl Into<String>) -> Outcome {
        Outcome::Fail { expected: expected.into(), got: got.into() }
    }

    /// Shorthand for a skip.
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::Skip { reason: reason.into() }
    }
}

/// A check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// The check.
    pub def: &'static CheckDef,
    /// What happened.
    pub outcome: Outcome,
}

/// How many checks ended which way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Skipped.
    pub skip: usize,
    /// Informational.
    pub info: usize,
}

/// The outcome of a whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The server checked, as `ups@host:port`.
    pub target: String,
    /// Its `VER` banner, if it answered one.
    pub banner: Option<String>,
    /// One result per check of [`SUITE`], in suite order.
    pub results: Vec<CheckResult>,
}

impl Report {
    /// Counts per outcome.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.results {
            match r.outcome {
                Outcome::Pass => c.pass += 1,
                Outcome::Fail { .. } => c.fail += 1,
                Outcome::Skip { .. } => c.skip += 1,
                Outcome::Info { .. } => c.info += 1,
            }
        }
        c
    }

    /// Whether any check failed.
    pub fn has_failures(&self) -> bool {
        self.counts().fail > 0
    }

    /// The ids of the failed checks, in suite order.
    pub fn failed_ids(&self) -> Vec<&'static str> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail { .. }))
            .map(|r| r.def.id)
            .collect()
    }

    /// The result of check `id`.
    pub fn get(&self, id: &str) -> Option<&CheckResult> {
        self.results.iter().find(|r| r.def.id == id)
    }

    /// The report for a terminal: one line per check grouped by category,
    /// failures with their expected and received bytes, a summary line.
    pub fn to_text(&self) -> String {
        report::text(self)
    }

    /// The report as a JSON document (see the crate documentation).
    pub fn to_json(&self) -> String {
        report::json(self)
    }
}

/// What to check and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The server.
    pub server: HostPort,
    /// The UPS to check; `None` takes the first one `LIST UPS` names.
    pub ups: Option<String>,
    /// Credentials for the checks that need a login.
    pub user: Option<String>,
    /// Their password.
    pub password: Option<Secret<String>>,
    /// Allow the checks that send `SET VAR` or `INSTCMD` (each one is
    /// built so that a NUT 2.8 server refuses it). `FSD` is never sent.
    pub allow_writes: bool,
    /// Run the [`Severity::Quirk`] checks (default true).
    pub quirks: bool,
    /// The longest wait for any one answer (default 5 s).
    pub timeout: Duration,
}

impl Options {
    /// Defaults for `server`: anonymous, no writes, quirks checked, 5 s.
    pub fn new(server: HostPort) -> Options {
        Options {
            server,
            ups: None,
            user: None,
            password: None,
            allow_writes: false,
            quirks: true,
            timeout: Duration::from_secs(5),
        }
    }

    /// Sets the UPS to check.
    pub fn with_ups(mut self, ups: impl Into<String>) -> Options {
        self.ups = Some(ups.into());
        self
    }

    /// Sets the credentials.
    pub fn with_login(mut self, user: impl Into<String>, password: impl Into<String>) -> Options {
        self.user = Some(user.into());
        self.password = Some(Secret::new(password.into()));
        self
    }

    /// Allows (or forbids) the write checks.
    pub fn with_writes(mut self, allow: bool) -> Options {
        self.allow_writes = allow;
        self
    }

    /// Runs (or skips) the quirk checks.
    pub fn with_quirks(mut self, quirks: bool) -> Options {
        self.quirks = quirks;
        self
    }

    /// Sets the per-answer timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Options {
        self.timeout = timeout;
        self
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The server could not be reached.
    #[error("cannot reach {server}: {source}")]
    Connect {
        /// `host:port`.
        server: String,
        /// The cause.
        source: RawError,
    },
    /// `LIST UPS` did not give a usable list.
    #[error("LIST UPS failed: {0}")]
    ListUps(String),
    /// The server serves no UPS at all.
    #[error("the server lists no UPS")]
    NoUps,
    /// The UPS asked for is not in `LIST UPS`.
    #[error("UPS `{ups}` is not served (LIST UPS names: {known})")]
    UnknownUps {
        /// The name asked for.
        ups: String,
        /// The names served.
        known: String,
    },
}

/// Runs the whole suite against `opts.server`. Returns an error only when
/// the server cannot be reached or has no UPS to check; every other
/// problem is a check's outcome.
pub fn run(opts: &Options) -> Result<Report, CheckError> {
    suite::run(opts)
}
