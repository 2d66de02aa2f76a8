//! `nut-check`: runs the conformance suite against a NUT server and prints
//! the report. Exit status: 0 no difference found, 1 differences, 2 usage
//! or connection error.

use clap::Parser;
use nut_check::{Options, run};
use nut_client::{HostPort, UpsTarget};
use std::process::ExitCode;
use std::time::Duration;

/// Checks a NUT server (upsd or compatible) against NUT 2.8's protocol
/// behaviour and reports every difference.
#[derive(Parser, Debug)]
#[command(name = "nut-check", version)]
struct Args {
    /// The UPS to check: `ups[@host[:port]]` (IPv6: `ups@[::1]:3493`).
    target: Option<String>,
    /// Server host, when no target is given (default localhost).
    #[arg(long)]
    host: Option<String>,
    /// Server port (default 3493).
    #[arg(long)]
    port: Option<u16>,
    /// The UPS to check, when no target is given (default: the first one
    /// `LIST UPS` names).
    #[arg(long)]
    ups: Option<String>,
    /// User name for the checks that need a login.
    #[arg(short = 'u', long = "user")]
    user: Option<String>,
    /// Password (or set NUT_CHECK_PASSWORD).
    #[arg(short = 'p', long = "password")]
    password: Option<String>,
    /// Run the checks that send SET VAR or INSTCMD (each one a request a
    /// NUT 2.8 server refuses). FSD is never sent.
    #[arg(long)]
    allow_writes: bool,
    /// Skip the checks of NUT 2.8 quirks (severity "quirk").
    #[arg(long)]
    no_quirks: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Seconds to wait for any one answer.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Log what the checker does on stderr (repeat for more).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    verbose: u8,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let level = match args.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    nut_daemon::Logging::debug(0).with_level(level).ignore_env().init();
    let usage = |msg: String| {
        eprintln!("nut-check: {msg}");
        ExitCode::from(2)
    };
    let (server, ups) = match &args.target {
        Some(t) => match UpsTarget::parse(t) {
            Ok(t) => (t.server, Some(t.ups)),
            Err(e) => return usage(format!("bad target `{t}`: {e}")),
        },
        None => {
            let host = args.host.clone().unwrap_or_else(|| "localhost".into());
            let server = match HostPort::parse(&host) {
                Ok(h) => h,
                Err(e) => return usage(format!("bad host `{host}`: {e}")),
            };
            (server, args.ups.clone())
        }
    };
    let server = HostPort { port: args.port.unwrap_or(server.port), ..server };
    if !(args.timeout > 0.0 && args.timeout <= 3600.0) {
        return usage("--timeout must be between 0 and 3600 seconds".into());
    }
    let mut opts = Options::new(server)
        .with_writes(args.allow_writes)
        .with_quirks(!args.no_quirks)
        .with_timeout(Duration::from_secs_f64(args.timeout));
    if let Some(u) = ups {
        opts = opts.with_ups(u);
    }
    let password = args.password.clone().or_else(|| std::env::var("NUT_CHECK_PASSWORD").ok());
    match (&args.user, password) {
        (Some(u), Some(p)) => opts = opts.with_login(u.clone(), p),
        (None, None) => {}
        (Some(_), None) => return usage("-u needs a password (-p or NUT_CHECK_PASSWORD)".into()),
        (None, Some(_)) => return usage("a password needs a user name (-u)".into()),
    }
    let report = match run(&opts) {
        Ok(r) => r,
        Err(e) => return usage(e.to_string()),
    };
    if args.json {
        print!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.has_failures() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
