//! The code that runs the checks of [`SUITE`] against a live server.
//!
//! Expected bytes are NUT 2.8.0's, as recorded from Debian's `upsd` in
//! `nut-proto/tests/transcripts/` and written down in the NUT reference
//! digest (sections 1.1 to 1.11 and 8). Where NUT's answer depends on the
//! UPS's data, the expectation is derived from what the server itself lists
//! (a value from `LIST VAR` must come back from `GET VAR`, and so on).

use crate::Category::Tokenizer;
use crate::Needs::{Login, LoginWrites, Writes};
use crate::Severity::Quirk;
use crate::checks::SUITE;
use crate::raw::{RawConn, RawError};
use crate::{CheckDef, CheckError, CheckResult, Options, Outcome, Report};
use nut_client::io::ConnectOptions;
use nut_client::io::blocking::{Client, connect_tcp};
use nut_proto::net::{Command, GetQuery, Reply, VarType};
use nut_proto::secret::Secret;
use std::collections::{BTreeSet, HashMap};
use std::net::TcpStream;
use std::time::Duration;

/// NUT 2.8.0's HELP line.
const HELP_280: &str =
    "Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS";
/// Newer NUT's (PROTVER added).
const HELP_NEWER: &str =
    "Commands: HELP VER PROTVER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS";
/// A tracking id no server has issued.
const NO_SUCH_ID: &str = "00000000-0000-4000-8000-00000000C0DE";
/// The most variables or commands checked one by one.
const MAX_ITEMS: usize = 300;
/// Requests pipelined per write in the bulk checks.
const BATCH: usize = 50;

/// What the run learned about the server before the checks.
struct Ctx<'a> {
    opts: &'a Options,
    ups: String,
    banner: Option<String>,
    /// Raw `LIST UPS` reply.
    list_ups: Vec<String>,
    /// Every UPS name served.
    all_ups: Vec<String>,
    /// `(name, value)` from `LIST VAR`, or why there are none.
    vars: Result<Vec<(String, String)>, String>,
    rw: Result<Vec<(String, String)>, String>,
    cmds: Result<Vec<String>, String>,
    /// GET TYPE answers gathered by N-GET-TYPE-FORMAT.
    types: HashMap<String, VarType>,
    missing_ups: String,
    missing_var: &'static str,
    missing_cmd: &'static str,
    /// A user name no server has (for bad-credential checks).
    probe_user: String,
    shared: Option<RawConn>,
    results: HashMap<&'static str, Outcome>,
}

fn find_def(id: &str) -> &'static CheckDef {
    SUITE.iter().find(|d| d.id == id).unwrap_or_else(|| panic!("check {id} is not in SUITE"))
}

fn err_outcome(e: RawError) -> Outcome {
    Outcome::fail("an answer", e.to_string())
}

impl Ctx<'_> {
    fn fresh(&self) -> Result<RawConn, RawError> {
        RawConn::connect(&self.opts.server, self.opts.timeout)
    }

    fn shared(&mut self) -> Result<&mut RawConn, RawError> {
        if self.shared.is_none() {
            self.shared = Some(self.fresh()?);
        }
        Ok(self.shared.as_mut().expect("just set"))
    }

    fn gate(&self, d: &CheckDef) -> Option<Outcome> {
        let login = self.opts.user.is_some() && self.opts.password.is_some();
        if d.severity == Quirk && !self.opts.quirks {
            return Some(Outcome::skip("quirk checks disabled (--no-quirks)"));
        }
        let writes = matches!(d.needs, Writes | LoginWrites);
        if writes && !self.opts.allow_writes {
            return Some(Outcome::skip("sends SET VAR or INSTCMD: enable with --allow-writes"));
        }
        if matches!(d.needs, Login | LoginWrites) && !login {
            return Some(Outcome::skip("needs credentials (-u, -p)"));
        }
        None
    }

    /// Runs check `id` with `f` unless its needs are not met; a transport
    /// error becomes the check's failure (and drops the shared connection).
    fn check(&mut self, id: &'static str, f: impl FnOnce(&mut Self) -> Result<Outcome, RawError>) {
        let d = find_def(id);
        let outcome = match self.gate(d) {
            Some(o) => o,
            None => match f(self) {
                Ok(o) => o,
                Err(e) => {
                    self.shared = None;
                    err_outcome(e)
                }
            },
        };
        tracing::debug!(id, outcome = outcome.tag(), "check done");
        self.results.insert(id, outcome);
    }

    fn vars(&self) -> Result<&[(String, String)], Outcome> {
        match &self.vars {
            Ok(v) if v.is_empty() => Err(Outcome::skip(format!("LIST VAR {} is empty", self.ups))),
            Ok(v) => Ok(v),
            Err(e) => Err(Outcome::skip(format!("LIST VAR {} failed: {e}", self.ups))),
        }
    }

    /// The variable used for single-variable probes: `ups.status`, or the
    /// first one listed.
    fn probe_var(&self) -> Option<(String, String)> {
        let v = self.vars().ok()?;
        v.iter().find(|(n, _)| n == "ups.status").or_else(|| v.first()).cloned()
    }

    fn rw_names(&self) -> BTreeSet<String> {
        match &self.rw {
            Ok(v) => v.iter().map(|(n, _)| n.to_ascii_lowercase()).collect(),
            Err(_) => BTreeSet::new(),
        }
    }
}

/// The canonical (NUT-encoded) form of `r`, without its LF.
fn line_of(r: &Reply<'_>) -> String {
    let mut l = r.to_line();
    l.pop();
    String::from_utf8_lossy(&l).into_owned()
}

/// Parses `line` and checks that it is byte for byte what NUT's encoder
/// writes for the same content.
fn canonical(line: &str) -> Result<Reply<'_>, String> {
    let r = Reply::parse(line.as_bytes()).map_err(|e| format!("unparsable reply ({e})"))?;
    let enc = line_of(&r);
    if enc != line {
        return Err(format!("not NUT's encoding (NUT writes {enc})"));
    }
    Ok(r)
}

/// `(expected, got)` pairs, one per difference found.
type Problems = Vec<(String, String)>;

fn ok_if(problems: Problems) -> Outcome {
    if problems.is_empty() {
        return Outcome::Pass;
    }
    let n = problems.len();
    let mut exp = Vec::new();
    let mut got = Vec::new();
    for (e, g) in problems.into_iter().take(5) {
        exp.push(e);
        got.push(g);
    }
    if n > 5 {
        got.push(format!("... and {} more", n - 5));
    }
    Outcome::fail(exp.join("\n"), got.join("\n"))
}

/// Asks each request in turn and compares the whole replies.
/// Shortens runs of one character (the limit probes) for the report:
/// `nnnn...` becomes `<600 x n>`.
fn abbreviate(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        if j - i > 16 {
            out.push_str(&format!("<{} x {}>", j - i, chars[i]));
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    out
}

fn table(conn: &mut RawConn, rows: &[(String, Vec<String>)]) -> Result<Outcome, RawError> {
    let mut problems = Vec::new();
    for (req, want) in rows {
        let have = conn.ask(req)?;
        if &have != want {
            problems.push((
                format!("{req} -> {}", want.join(" | ")),
                format!("{req} -> {}", have.join(" | ")),
            ));
        }
    }
    Ok(ok_if(problems))
}

fn one(req: impl Into<String>, reply: impl Into<String>) -> (String, Vec<String>) {
    (req.into(), vec![reply.into()])
}

/// Sends `reqs` pipelined in batches and returns their replies in order.
fn bulk(conn: &mut RawConn, reqs: &[String]) -> Result<Vec<Vec<String>>, RawError> {
    let mut out = Vec::with_capacity(reqs.len());
    for chunk in reqs.chunks(BATCH) {
        let mut bytes = Vec::new();
        for r in chunk {
            bytes.extend_from_slice(r.as_bytes());
            bytes.push(b'\n');
        }
        conn.send(&bytes)?;
        for _ in chunk {
            out.push(conn.reply()?);
        }
    }
    Ok(out)
}

/// Checks a whole `LIST` reply: `BEGIN LIST <q>`, rows, `END LIST <q>`,
/// every line in NUT's encoding; `row` validates each parsed row.
fn check_list(
    req: &str,
    lines: &[String],
    q: &str,
    mut row: impl FnMut(&Reply<'_>) -> Result<(), String>,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let begin = format!("BEGIN LIST {q}");
    let end = format!("END LIST {q}");
    if lines.first() != Some(&begin) {
        problems.push((
            format!("{req} -> first line {begin}"),
            format!("{req} -> first line {}", lines.first().map_or("(none)", |s| s.as_str())),
        ));
        return problems;
    }
    if lines.len() < 2 || lines.last() != Some(&end) {
        problems.push((
            format!("{req} -> last line {end}"),
            format!("{req} -> last line {}", lines.last().map_or("(none)", |s| s.as_str())),
        ));
        return problems;
    }
    for l in &lines[1..lines.len() - 1] {
        match canonical(l).and_then(|r| row(&r)) {
            Ok(()) => {}
            Err(why) => {
                problems.push((format!("{req} -> a valid row"), format!("{req} -> {l}  ({why})")))
            }
        }
    }
    problems
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `strcasecmp` order, as NUT's variable tree and command list.
fn sorted_ci<'a>(names: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let v: Vec<&str> = names.collect();
    for w in v.windows(2) {
        if w[0].to_ascii_lowercase() > w[1].to_ascii_lowercase() {
            return Err(format!("{} listed before {}", w[0], w[1]));
        }
    }
    Ok(())
}

fn swapcase(s: &str) -> String {
    s.chars()
        .map(
            |c| {
                if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }
            },
        )
        .collect()
}

fn var_line(ups: &str, var: &str, value: &str) -> String {
    line_of(&Reply::Var { ups: ups.into(), var: var.into(), value: value.into() })
}

/// A nut-client connection (blocking adapter) over a plain TCP stream.
fn typed_client(opts: &Options) -> Result<Client<TcpStream>, nut_client::ClientError> {
    let copts = ConnectOptions::default().with_timeouts(opts.timeout, opts.timeout);
    Ok(Client::new(connect_tcp(&opts.server, &copts)?, copts))
}

/// `LIST <what> <ups>` as `(name, value)` rows, through nut-client's typed
/// operations; when its strict parser gives up (a broken list), the rows
/// are read leniently so that the checks still run and report the breakage.
/// `Err` holds the server's `ERR` line or why nothing could be read.
fn learn(opts: &Options, ups: &str, what: &str) -> Result<Vec<(String, String)>, String> {
    use nut_client::ClientError;
    let pairs = |v: Vec<nut_client::ops::Var>| v.into_iter().map(|v| (v.name, v.value)).collect();
    let typed = typed_client(opts).and_then(|mut c| match what {
        "VAR" => c.list_vars(ups).map(pairs),
        "RW" => c.list_rw(ups).map(pairs),
        _ => c.list_cmds(ups).map(|v| v.into_iter().map(|n| (n, String::new())).collect()),
    });
    match typed {
        Ok(v) => Ok(v),
        Err(ClientError::Server { code, .. }) => Err(format!("ERR {}", code.as_str())),
        Err(e) => {
            tracing::info!(what, error = %e, "typed LIST failed; reading it leniently");
            lenient_rows(opts, &format!("LIST {what} {ups}"))
        }
    }
}

/// The rows of a `LIST` read without strictness: `<KW> <ups> <name> [value]`,
/// the value unquoted if it is quoted.
fn lenient_rows(opts: &Options, req: &str) -> Result<Vec<(String, String)>, String> {
    let mut conn = RawConn::connect(&opts.server, opts.timeout).map_err(|e| e.to_string())?;
    let lines = conn.ask(req).map_err(|e| e.to_string())?;
    if let [one] = lines.as_slice() {
        if one.starts_with("ERR ") {
            return Err(one.clone());
        }
    }
    Ok(lines
        .iter()
        .filter(|l| !l.starts_with("BEGIN LIST ") && !l.starts_with("END LIST "))
        .filter_map(|l| lenient_row(l))
        .collect())
}

/// One `<KW> <ups> <name> [value]` row as `(name, value)`, strictly parsed
/// when possible, else split at spaces with the value's quotes removed.
fn lenient_row(l: &str) -> Option<(String, String)> {
    Some(match Reply::parse(l.as_bytes()) {
        Ok(Reply::Var { var, value, .. } | Reply::Rw { var, value, .. }) => {
            (var.into_owned(), value.into_owned())
        }
        Ok(Reply::Cmd { cmd, .. }) => (cmd.into_owned(), String::new()),
        _ => {
            let mut w = l.splitn(4, ' ').skip(2);
            let name = w.next()?;
            let value = w.next().unwrap_or("");
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
            (name.to_string(), value.to_string())
        }
    })
}

/// Entry points for the fuzz targets (`fuzz/src/check.rs`); not part of
/// the API.
#[doc(hidden)]
pub mod fuzzing {
    use super::{abbreviate, canonical, check_list, lenient_row, show_bytes};

    /// Runs the reply validators over `lines` (as server reply lines) and
    /// returns every `(expected, got)` difference they report.
    pub fn analyze(lines: &[String]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for l in lines {
            if let Err(why) = canonical(l) {
                out.push(("canonical".to_string(), why));
            }
            if let Some((name, value)) = lenient_row(l) {
                // Names and values come from one line: no line break in them.
                assert!(!name.contains('\n') && !value.contains('\n'), "{l:?}");
                out.push((name, value));
            }
        }
        let q = lines.first().and_then(|l| l.strip_prefix("BEGIN LIST ")).unwrap_or("VAR u");
        out.extend(check_list("LIST", lines, q, |_| Ok(())));
        out
    }

    /// How a request is shown in a report.
    pub fn show(request: &[u8]) -> String {
        abbreviate(&show_bytes(request))
    }
}

pub(crate) fn run(opts: &Options) -> Result<Report, CheckError> {
    let server = format!("{}:{}", opts.server.host, opts.server.port);
    let connect_err = |source| CheckError::Connect { server: server.clone(), source };
    let mut first = RawConn::connect(&opts.server, opts.timeout).map_err(connect_err)?;
    let banner = first.ask1("VER").ok().filter(|b| !b.starts_with("ERR"));
    let list_ups = first.ask("LIST UPS").map_err(|e| CheckError::ListUps(e.to_string()))?;
    let mut all_ups = Vec::new();
    for l in list_ups.iter().skip(1) {
        // Leniently: a broken row must not stop the run (its checks report it).
        match Reply::parse(l.as_bytes()) {
            Ok(Reply::Ups { ups, .. }) => all_ups.push(ups.into_owned()),
            _ => {
                if let Some(name) = l.strip_prefix("UPS ").and_then(|r| r.split_whitespace().next())
                {
                    all_ups.push(name.to_string());
                }
            }
        }
    }
    if list_ups.first().is_none_or(|l| l != "BEGIN LIST UPS") {
        return Err(CheckError::ListUps(list_ups.join(" | ")));
    }
    let ups = match &opts.ups {
        Some(u) => {
            if !all_ups.iter().any(|n| same(n, u)) {
                return Err(CheckError::UnknownUps { ups: u.clone(), known: all_ups.join(", ") });
            }
            u.clone()
        }
        None => all_ups.first().cloned().ok_or(CheckError::NoUps)?,
    };
    drop(first);

    let vars = learn(opts, &ups, "VAR");
    let rw = learn(opts, &ups, "RW");
    let cmds = learn(opts, &ups, "CMD").map(|v| v.into_iter().map(|(n, _)| n).collect());

    let mut missing_ups = "nut-check-no-such-ups".to_string();
    while all_ups.iter().any(|n| same(n, &missing_ups)) {
        missing_ups.push('x');
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut ctx = Ctx {
        opts,
        ups,
        banner,
        list_ups,
        all_ups,
        vars,
        rw,
        cmds,
        types: HashMap::new(),
        missing_ups,
        missing_var: "nut-check.no.such.var",
        missing_cmd: "nut-check.no.such.cmd",
        probe_user: format!("nut-check-probe-{}-{nanos}", std::process::id()),
        shared: None,
        results: HashMap::new(),
    };
    basics(&mut ctx);
    get(&mut ctx);
    list(&mut ctx);
    errors(&mut ctx);
    auth(&mut ctx);
    tokenizer(&mut ctx);
    session(&mut ctx);
    tls(&mut ctx);

    let results = SUITE
        .iter()
        .map(|d| CheckResult {
            def: d,
            outcome: ctx.results.remove(d.id).unwrap_or_else(|| Outcome::skip("not run")),
        })
        .collect();
    Ok(Report { target: format!("{}@{server}", ctx.ups), banner: ctx.banner, results })
}

fn basics(ctx: &mut Ctx<'_>) {
    ctx.check("N-VER", |c| {
        let l = c.shared()?.ask1("VER")?;
        Ok(if l.is_empty() || l.starts_with("ERR") {
            Outcome::fail(
                "one line of text, e.g. Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/",
                l,
            )
        } else {
            Outcome::Pass
        })
    });
    ctx.check("N-NETVER", |c| table(c.shared()?, &[one("NETVER", "1.3")]));
    ctx.check("N-PROTVER", |c| table(c.shared()?, &[one("PROTVER", "1.3")]));
    ctx.check("N-HELP", |c| {
        let l = c.shared()?.ask1("HELP")?;
        Ok(if l == HELP_280 || l == HELP_NEWER {
            Outcome::Pass
        } else {
            Outcome::fail(format!("{HELP_280}\n(newer NUT: {HELP_NEWER})"), l)
        })
    });
    ctx.check("N-SERVER-INFO", |c| {
        let Some(b) = c.banner.clone() else { return Ok(Outcome::skip("VER gave no banner")) };
        let ups = c.ups.clone();
        table(
            c.shared()?,
            &[one(format!("GET VAR {ups} server.info"), var_line(&ups, "server.info", &b))],
        )
    });
    ctx.check("N-SERVER-VERSION", |c| {
        let ups = c.ups.clone();
        let req = format!("GET VAR {ups} SERVER.VERSION");
        let l = c.shared()?.ask1(&req)?;
        let want = format!(
            "VAR {ups} server.version \"<version>\" (lowercase name; the version in the VER banner)"
        );
        Ok(match Reply::parse(l.as_bytes()) {
            Ok(Reply::Var { ups: u, var, value })
                if u == ups
                    && var == "server.version"
                    && !value.is_empty()
                    && c.banner.as_deref().is_none_or(|b| b.contains(value.as_ref())) =>
            {
                Outcome::Pass
            }
            _ => Outcome::fail(want, l),
        })
    });
    ctx.check("N-SERVER-ANY-UPS", |c| {
        let Some(b) = c.banner.clone() else { return Ok(Outcome::skip("VER gave no banner")) };
        let m = c.missing_ups.clone();
        table(
            c.shared()?,
            &[one(format!("GET VAR {m} server.info"), var_line(&m, "server.info", &b))],
        )
    });
}

fn get(ctx: &mut Ctx<'_>) {
    ctx.check("N-GET-VAR-FORMAT", |c| {
        let Some((var, value)) = c.probe_var() else {
            return Ok(c.vars().err().unwrap_or_else(|| Outcome::skip("no variable")));
        };
        let ups = c.ups.clone();
        table(c.shared()?, &[one(format!("GET VAR {ups} {var}"), var_line(&ups, &var, &value))])
    });
    ctx.check("N-GET-VAR-MATCHES-LIST", |c| {
        let vars = match c.vars() {
            Ok(v) => v.iter().take(MAX_ITEMS).cloned().collect::<Vec<_>>(),
            Err(o) => return Ok(o),
        };
        // Typed, through nut-client's pipelined session.
        let mut client = match typed_client(c.opts) {
            Ok(cl) => cl,
            Err(e) => return Ok(Outcome::fail("a connection", e.to_string())),
        };
        let mut problems = Vec::new();
        for chunk in vars.chunks(BATCH) {
            let cmds: Vec<Command<'static>> = chunk
                .iter()
                .map(|(n, _)| {
                    Command::Get(GetQuery::Var { ups: c.ups.clone().into(), var: n.clone().into() })
                })
                .collect();
            let answers = match client.exchange(&cmds) {
                Ok(a) => a,
                Err(e) => return Ok(Outcome::fail("answers to GET VAR", e.to_string())),
            };
            for ((name, value), a) in chunk.iter().zip(answers) {
                let got = match nut_client::ops::line(a) {
                    Ok(Reply::Var { value: v, .. }) if v == value.as_str() => continue,
                    Ok(r) => line_of(&r),
                    Err(e) => e.to_string(),
                };
                problems.push((
                    format!("GET VAR {} {name} -> {}", c.ups, var_line(&c.ups, name, value)),
                    format!("GET VAR {} {name} -> {got}", c.ups),
                ));
            }
        }
        Ok(ok_if(problems))
    });
    ctx.check("N-GET-TYPE-FORMAT", |c| {
        let vars = match c.vars() {
            Ok(v) => v.iter().take(MAX_ITEMS).map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            Err(o) => return Ok(o),
        };
        let rw = c.rw_names();
        let ups = c.ups.clone();
        let reqs: Vec<String> = vars.iter().map(|v| format!("GET TYPE {ups} {v}")).collect();
        let replies = bulk(c.shared()?, &reqs)?;
        let mut problems = Vec::new();
        for ((var, req), rep) in vars.iter().zip(&reqs).zip(replies) {
            let l = rep.join(" | ");
            let want_rw = rw.contains(&var.to_ascii_lowercase());
            match canonical(&l) {
                Ok(Reply::Type { ups: u, var: v, ty }) if u == ups && v == var.as_str() => {
                    c.types.insert(var.clone(), ty);
                    if ty.kind.is_none() {
                        problems.push((
                            format!("{req} -> ... STRING:<n> or NUMBER"),
                            format!("{req} -> {l}"),
                        ));
                    } else if ty.rw != want_rw {
                        let what = if want_rw {
                            "with RW (listed by LIST RW)"
                        } else {
                            "without RW (not in LIST RW)"
                        };
                        problems.push((
                            format!("{req} -> TYPE {ups} {var} {what}"),
                            format!("{req} -> {l}"),
                        ));
                    }
                }
                Ok(_) => problems
                    .push((format!("{req} -> TYPE {ups} {var} ..."), format!("{req} -> {l}"))),
                Err(why) => problems.push((
                    format!("{req} -> TYPE {ups} {var} ..."),
                    format!("{req} -> {l}  ({why})"),
                )),
            }
        }
        Ok(ok_if(problems))
    });
    enum_range(ctx);
    ctx.check("N-GET-DESC-FORMAT", |c| {
        let vars = match c.vars() {
            Ok(v) => v.iter().take(MAX_ITEMS).map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            Err(o) => return Ok(o),
        };
        let ups = c.ups.clone();
        let reqs: Vec<String> = vars.iter().map(|v| format!("GET DESC {ups} {v}")).collect();
        let replies = bulk(c.shared()?, &reqs)?;
        let mut problems = Vec::new();
        for ((var, req), rep) in vars.iter().zip(&reqs).zip(replies) {
            let l = rep.join(" | ");
            match canonical(&l) {
                Ok(Reply::Desc { ups: u, var: v, .. }) if u == ups && v == var.as_str() => {}
                Ok(_) => problems.push((
                    format!("{req} -> DESC {ups} {var} \"<text>\""),
                    format!("{req} -> {l}"),
                )),
                Err(why) => problems.push((
                    format!("{req} -> DESC {ups} {var} \"<text>\""),
                    format!("{req} -> {l}  ({why})"),
                )),
            }
        }
        Ok(ok_if(problems))
    });
    ctx.check("N-GET-DESC-UNKNOWN", |c| {
        let (ups, m) = (c.ups.clone(), c.missing_var);
        table(
            c.shared()?,
            &[one(
                format!("GET DESC {ups} {m}"),
                format!("DESC {ups} {m} \"Description unavailable\""),
            )],
        )
    });
    ctx.check("N-GET-CMDDESC-FORMAT", |c| {
        let cmds = match &c.cmds {
            Ok(v) if v.is_empty() => {
                return Ok(Outcome::skip(format!("LIST CMD {} is empty", c.ups)));
            }
            Ok(v) => v.iter().take(MAX_ITEMS).cloned().collect::<Vec<_>>(),
            Err(e) => return Ok(Outcome::skip(format!("LIST CMD {} failed: {e}", c.ups))),
        };
        let ups = c.ups.clone();
        let reqs: Vec<String> = cmds.iter().map(|v| format!("GET CMDDESC {ups} {v}")).collect();
        let replies = bulk(c.shared()?, &reqs)?;
        let mut problems = Vec::new();
        for ((cmd, req), rep) in cmds.iter().zip(&reqs).zip(replies) {
            let l = rep.join(" | ");
            match canonical(&l) {
                Ok(Reply::CmdDesc { ups: u, cmd: v, .. }) if u == ups && v == cmd.as_str() => {}
                Ok(_) => problems.push((
                    format!("{req} -> CMDDESC {ups} {cmd} \"<text>\""),
                    format!("{req} -> {l}"),
                )),
                Err(why) => problems.push((
                    format!("{req} -> CMDDESC {ups} {cmd} \"<text>\""),
                    format!("{req} -> {l}  ({why})"),
                )),
            }
        }
        Ok(ok_if(problems))
    });
    ctx.check("N-GET-CMDDESC-UNKNOWN", |c| {
        let (ups, m) = (c.ups.clone(), c.missing_cmd);
        table(
            c.shared()?,
            &[one(
                format!("GET CMDDESC {ups} {m}"),
                format!("CMDDESC {ups} {m} \"Description unavailable\""),
            )],
        )
    });
    ctx.check("N-GET-UPSDESC", |c| {
        let ups = c.ups.clone();
        let desc = c.list_ups.iter().find_map(|l| match Reply::parse(l.as_bytes()) {
            Ok(Reply::Ups { ups: u, desc }) if same(&u, &ups) => Some(desc.into_owned()),
            _ => None,
        });
        let Some(desc) = desc else { return Ok(Outcome::skip("no LIST UPS row for the UPS")) };
        let desc = if desc == "Description unavailable" { "Unavailable".to_string() } else { desc };
        let want = line_of(&Reply::UpsDesc { ups: ups.as_str().into(), desc: desc.into() });
        table(c.shared()?, &[one(format!("GET UPSDESC {ups}"), want)])
    });
    ctx.check("N-GET-NUMLOGINS", |c| {
        let ups = c.ups.clone();
        let req = format!("GET NUMLOGINS {ups}");
        let l = c.shared()?.ask1(&req)?;
        Ok(match canonical(&l) {
            Ok(Reply::NumLogins { ups: u, .. }) if u == ups => Outcome::Pass,
            _ => Outcome::fail(format!("{req} -> NUMLOGINS {ups} <n>"), format!("{req} -> {l}")),
        })
    });
    ctx.check("N-GET-TRACKING", |c| {
        table(
            &mut c.fresh()?,
            &[
                one("GET TRACKING", "OFF"),
                one(format!("GET TRACKING {NO_SUCH_ID}"), "ERR FEATURE-NOT-CONFIGURED"),
            ],
        )
    });
}

/// N-GET-TYPE-ENUM-RANGE, N-LIST-ENUM-FRAMING and N-LIST-RANGE-FRAMING from
/// one pipelined pass of LIST ENUM and LIST RANGE over every variable.
fn enum_range(ctx: &mut Ctx<'_>) {
    let mut framing: Option<(Problems, Problems)> = None;
    ctx.check("N-GET-TYPE-ENUM-RANGE", |c| {
        let vars = match c.vars() {
            Ok(v) => v.iter().take(MAX_ITEMS).map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            Err(o) => return Ok(o),
        };
        let ups = c.ups.clone();
        let mut reqs = Vec::new();
        for v in &vars {
            reqs.push(format!("LIST ENUM {ups} {v}"));
            reqs.push(format!("LIST RANGE {ups} {v}"));
        }
        let replies = bulk(c.shared()?, &reqs)?;
        let (mut fe, mut fr, mut problems) = (Vec::new(), Vec::new(), Vec::new());
        for (i, var) in vars.iter().enumerate() {
            let (er, rr) = (&replies[2 * i], &replies[2 * i + 1]);
            fe.extend(check_list(&reqs[2 * i], er, &format!("ENUM {ups} {var}"), |r| match r {
                Reply::Enum { ups: u, var: v, .. } if *u == ups && v == var => Ok(()),
                _ => Err(format!("not an ENUM {ups} {var} row")),
            }));
            fr.extend(check_list(&reqs[2 * i + 1], rr, &format!("RANGE {ups} {var}"), |r| match r {
                Reply::Range { ups: u, var: v, .. } if *u == ups && v == var => Ok(()),
                _ => Err(format!("not a RANGE {ups} {var} row")),
            }));
            if let Some(ty) = c.types.get(var) {
                let (ne, nr) = (er.len().saturating_sub(2), rr.len().saturating_sub(2));
                if ty.enumerated != (ne > 0) {
                    problems.push((
                        format!("GET TYPE {ups} {var} with ENUM exactly when LIST ENUM has rows ({ne} rows)"),
                        format!("ENUM flag {}", if ty.enumerated { "set" } else { "not set" }),
                    ));
                }
                if ty.range != (nr > 0) {
                    problems.push((
                        format!("GET TYPE {ups} {var} with RANGE exactly when LIST RANGE has rows ({nr} rows)"),
                        format!("RANGE flag {}", if ty.range { "set" } else { "not set" }),
                    ));
                }
            }
        }
        framing = Some((fe, fr));
        Ok(if c.types.is_empty() { Outcome::skip("no GET TYPE answers to compare") } else { ok_if(problems) })
    });
    let (fe, fr) = match framing {
        Some(f) => (Ok(f.0), Ok(f.1)),
        None => {
            let why = match ctx.results.get("N-GET-TYPE-ENUM-RANGE") {
                Some(Outcome::Skip { reason }) => Outcome::skip(reason.clone()),
                Some(Outcome::Fail { got, .. }) => {
                    Outcome::fail("answers to LIST ENUM / LIST RANGE", got.clone())
                }
                _ => Outcome::skip("not run"),
            };
            (Err(why.clone()), Err(why))
        }
    };
    ctx.check("N-LIST-ENUM-FRAMING", |_| Ok(fe.map(ok_if).unwrap_or_else(|o| o)));
    ctx.check("N-LIST-RANGE-FRAMING", |_| Ok(fr.map(ok_if).unwrap_or_else(|o| o)));
}

fn list(ctx: &mut Ctx<'_>) {
    ctx.check("N-LIST-UPS-FRAMING", |c| {
        let lines = c.list_ups.clone();
        let mut problems = check_list("LIST UPS", &lines, "UPS", |r| match r {
            Reply::Ups { .. } => Ok(()),
            _ => Err("not a UPS row".into()),
        });
        if problems.is_empty() && !c.all_ups.iter().any(|u| same(u, &c.ups)) {
            problems.push((format!("a row for {}", c.ups), "none".into()));
        }
        Ok(ok_if(problems))
    });
    let ups = ctx.ups.clone();
    let mut var_lines = Vec::new();
    ctx.check("N-LIST-VAR-FRAMING", |c| {
        let req = format!("LIST VAR {ups}");
        var_lines = c.shared()?.ask(&req)?;
        Ok(ok_if(check_list(&req, &var_lines, &format!("VAR {ups}"), |r| match r {
            Reply::Var { ups: u, .. } if *u == ups => Ok(()),
            _ => Err(format!("not a VAR {ups} row")),
        })))
    });
    let mut rw_lines = Vec::new();
    ctx.check("N-LIST-RW-FRAMING", |c| {
        let req = format!("LIST RW {ups}");
        rw_lines = c.shared()?.ask(&req)?;
        let vars: HashMap<String, String> = match &c.vars {
            Ok(v) => v.iter().map(|(n, x)| (n.to_ascii_lowercase(), x.clone())).collect(),
            Err(_) => HashMap::new(),
        };
        Ok(ok_if(check_list(&req, &rw_lines, &format!("RW {ups}"), |r| match r {
            Reply::Rw { ups: u, var, value } if *u == ups => match vars
                .get(&var.to_ascii_lowercase())
            {
                Some(v) if v == value || (var == "ups.status" && *v == format!("FSD {value}")) => {
                    Ok(())
                }
                Some(v) => Err(format!("LIST VAR says {v:?}")),
                None => Err("not in LIST VAR".into()),
            },
            _ => Err(format!("not an RW {ups} row")),
        })))
    });
    let mut cmd_lines = Vec::new();
    ctx.check("N-LIST-CMD-FRAMING", |c| {
        let req = format!("LIST CMD {ups}");
        cmd_lines = c.shared()?.ask(&req)?;
        Ok(ok_if(check_list(&req, &cmd_lines, &format!("CMD {ups}"), |r| match r {
            Reply::Cmd { ups: u, .. } if *u == ups => Ok(()),
            _ => Err(format!("not a CMD {ups} row")),
        })))
    });
    ctx.check("N-LIST-CLIENT-FRAMING", |c| {
        let req = format!("LIST CLIENT {ups}");
        let lines = c.shared()?.ask(&req)?;
        Ok(ok_if(check_list(&req, &lines, &format!("CLIENT {ups}"), |r| match r {
            Reply::Client { ups: u, .. } if same(u, &ups) => Ok(()),
            _ => Err(format!("not a CLIENT {ups} row")),
        })))
    });
    ctx.check("N-LIST-ORDER", |c| {
        let names = |lines: &[String]| -> Vec<String> {
            lines
                .iter()
                .filter_map(|l| match Reply::parse(l.as_bytes()) {
                    Ok(Reply::Var { var, .. } | Reply::Rw { var, .. }) => Some(var.into_owned()),
                    Ok(Reply::Cmd { cmd, .. }) => Some(cmd.into_owned()),
                    _ => None,
                })
                .collect()
        };
        if var_lines.is_empty() {
            return Ok(Outcome::skip("no LIST VAR reply"));
        }
        let mut problems = Vec::new();
        for (what, lines) in
            [("LIST VAR", &var_lines), ("LIST RW", &rw_lines), ("LIST CMD", &cmd_lines)]
        {
            let n = names(lines);
            if let Err(e) = sorted_ci(n.iter().map(String::as_str)) {
                problems.push((format!("{what} {} rows in case-insensitive name order", c.ups), e));
            }
        }
        Ok(ok_if(problems))
    });
    ctx.check("N-LIST-KEYWORD-CASE", |c| {
        if cmd_lines.is_empty() || var_lines.is_empty() {
            return Ok(Outcome::skip("no LIST VAR / LIST CMD reply to compare with"));
        }
        let conn = c.shared()?;
        table(
            conn,
            &[
                (format!("list var {ups}"), var_lines.clone()),
                (format!("list cmd {ups}"), cmd_lines.clone()),
            ],
        )
    });
    ctx.check("N-LIST-ECHO-CASE", |c| {
        let alt = swapcase(&ups);
        if alt == ups {
            return Ok(Outcome::skip("the UPS name has no letters"));
        }
        if var_lines.len() < 2 {
            return Ok(Outcome::skip("no LIST VAR reply to compare with"));
        }
        let want: Vec<String> = var_lines
            .iter()
            .map(|l| {
                if let Some(rest) = l.strip_prefix(&format!("VAR {ups} ")) {
                    format!("VAR {alt} {rest}")
                } else if l.starts_with("BEGIN LIST") {
                    format!("BEGIN LIST VAR {alt}")
                } else if l.starts_with("END LIST") {
                    format!("END LIST VAR {alt}")
                } else {
                    l.clone()
                }
            })
            .collect();
        let req = format!("LIST VAR {alt}");
        let got = c.shared()?.ask(&req)?;
        if got == want {
            return Ok(Outcome::Pass);
        }
        let first_diff = want.iter().zip(&got).find(|(a, b)| a != b);
        Ok(match first_diff {
            Some((a, b)) => {
                Outcome::fail(format!("{req} -> ... {a} ..."), format!("{req} -> ... {b} ..."))
            }
            None => Outcome::fail(
                format!("{req} -> {} lines", want.len()),
                format!("{req} -> {} lines", got.len()),
            ),
        })
    });
    ctx.check("N-QUOTE-ESCAPE", |c| {
        // Leniently: a row whose quoted part holds a backslash, a # or an
        // inner quote (escaped or not) is one to check.
        let special = |l: &str| {
            l.split_once('"')
                .is_some_and(|(_, q)| q.contains(['\\', '#']) || q.matches('"').count() > 1)
        };
        let found: Vec<String> = c
            .list_ups
            .iter()
            .chain(var_lines.iter())
            .filter(|l| (l.starts_with("UPS ") || l.starts_with("VAR ")) && special(l))
            .cloned()
            .collect();
        if found.is_empty() {
            return Ok(Outcome::skip("no description or value with \", \\ or # to check"));
        }
        let mut problems = Vec::new();
        for l in found {
            if let Err(why) = canonical(&l) {
                problems.push((
                    "\" \\ # written as \\\" \\\\ \\# inside quotes".to_string(),
                    format!("{l}  ({why})"),
                ));
            }
        }
        Ok(ok_if(problems))
    });
}

fn errors(ctx: &mut Ctx<'_>) {
    let ups = ctx.ups.clone();
    let m = ctx.missing_ups.clone();
    let (mv, mc) = (ctx.missing_var, ctx.missing_cmd);
    let var = ctx.probe_var().map(|v| v.0).unwrap_or_else(|| "ups.status".into());
    ctx.check("N-ERR-UNKNOWN-UPS", |c| {
        let u = "ERR UNKNOWN-UPS";
        let rows = [
            one(format!("GET VAR {m} {var}"), u),
            one(format!("GET TYPE {m} {var}"), u),
            one(format!("GET DESC {m} {var}"), u),
            one(format!("GET CMDDESC {m} load.off"), u),
            one(format!("GET UPSDESC {m}"), u),
            one(format!("GET NUMLOGINS {m}"), u),
            one(format!("LIST VAR {m}"), u),
            one(format!("LIST RW {m}"), u),
            one(format!("LIST CMD {m}"), u),
            one(format!("LIST CLIENT {m}"), u),
            one(format!("LIST ENUM {m} {var}"), u),
            one(format!("LIST RANGE {m} {var}"), u),
        ];
        table(c.shared()?, &rows)
    });
    ctx.check("N-ERR-VAR-NOT-SUPPORTED", |c| {
        let e = "ERR VAR-NOT-SUPPORTED";
        let rows = [
            one(format!("GET VAR {ups} {mv}"), e),
            one(format!("GET TYPE {ups} {mv}"), e),
            one(format!("LIST ENUM {ups} {mv}"), e),
            one(format!("LIST RANGE {ups} {mv}"), e),
            one(format!("GET VAR {ups} server.nut-check"), e),
        ];
        table(c.shared()?, &rows)
    });
    ctx.check("N-ERR-INVALID-ARGUMENT", |c| {
        let e = "ERR INVALID-ARGUMENT";
        let rows = [
            one("GET", e),
            one("GET VAR", e),
            one(format!("GET VAR {ups}"), e),
            one(format!("GET NUT-CHECK {ups} {var}"), e),
            one("LIST", e),
            one("LIST VAR", e),
            one(format!("LIST ENUM {ups}"), e),
            one(format!("LIST NUT-CHECK {ups}"), e),
            one("VER extra", e),
            one("NETVER extra", e),
            one("HELP extra", e),
            one("LOGOUT extra", e),
            one("USERNAME", e),
            one("PASSWORD a b", e),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-ERR-UNKNOWN-COMMAND", |c| {
        let e = "ERR UNKNOWN-COMMAND";
        table(c.shared()?, &[one("NUT-CHECK-FOOBAR", e), one("", e), one("# a comment", e)])
    });
    // Availability: find UPSes the server reports stale or driverless.
    let mut unavailable: HashMap<&'static str, String> = HashMap::new();
    let names: Vec<String> = ctx.all_ups.iter().take(MAX_ITEMS).cloned().collect();
    let reqs: Vec<String> = names.iter().map(|u| format!("GET NUMLOGINS {u}")).collect();
    if let Ok(conn) = ctx.shared() {
        if let Ok(replies) = bulk(conn, &reqs) {
            for (u, r) in names.iter().zip(replies) {
                for code in ["DATA-STALE", "DRIVER-NOT-CONNECTED"] {
                    if r.len() == 1 && r[0] == format!("ERR {code}") {
                        unavailable.entry(code).or_insert_with(|| u.clone());
                    }
                }
            }
        }
    }
    for (id, code) in
        [("N-ERR-DATA-STALE", "DATA-STALE"), ("N-ERR-DRIVER-NOT-CONNECTED", "DRIVER-NOT-CONNECTED")]
    {
        let found = unavailable.get(code).cloned();
        ctx.check(id, |c| {
            let Some(u) = found else {
                return Ok(Outcome::skip(format!("no UPS answers ERR {code} now")));
            };
            let e = format!("ERR {code}");
            let rows = [
                one(format!("GET VAR {u} {var}"), &e),
                one(format!("GET TYPE {u} {var}"), &e),
                one(format!("LIST VAR {u}"), &e),
                one(format!("LIST CMD {u}"), &e),
            ];
            let mut out = table(c.shared()?, &rows)?;
            if out == Outcome::Pass {
                // No availability check for these two.
                let conn = c.shared()?;
                let d = conn.ask(&format!("GET UPSDESC {u}"))?;
                let l = conn.ask(&format!("LIST CLIENT {u}"))?;
                let ok_d = d.len() == 1 && d[0].starts_with(&format!("UPSDESC {u} "));
                let ok_l = l.first().is_some_and(|x| x == &format!("BEGIN LIST CLIENT {u}"));
                if !ok_d || !ok_l {
                    out = Outcome::fail(
                        format!("GET UPSDESC {u} -> UPSDESC {u} \"...\"\nLIST CLIENT {u} -> BEGIN LIST CLIENT {u} ..."),
                        format!("GET UPSDESC {u} -> {}\nLIST CLIENT {u} -> {}", d.join(" | "), l.join(" | ")),
                    );
                }
            }
            Ok(out)
        });
    }
    let _ = mc;
}

fn auth(ctx: &mut Ctx<'_>) {
    let ups = ctx.ups.clone();
    let m = ctx.missing_ups.clone();
    let probe = ctx.probe_user.clone();
    ctx.check("N-AUTH-USERNAME-REQUIRED", |c| {
        let e = "ERR USERNAME-REQUIRED";
        let rows = [
            one(format!("LOGIN {ups}"), e),
            one(format!("PRIMARY {ups}"), e),
            one(format!("MASTER {ups}"), e),
            one("SET TRACKING ON", e),
            one("PASSWORD nut-check", "OK"),
            one(format!("LOGIN {ups}"), e),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-AUTH-PASSWORD-REQUIRED", |c| {
        let e = "ERR PASSWORD-REQUIRED";
        let rows = [
            one(format!("USERNAME {probe}"), "OK"),
            one(format!("LOGIN {ups}"), e),
            one(format!("PRIMARY {ups}"), e),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-AUTH-ALREADY-SET", |c| {
        let rows = [
            one(format!("USERNAME {probe}"), "OK"),
            one("USERNAME again", "ERR ALREADY-SET-USERNAME"),
            one("PASSWORD nut-check", "OK"),
            one("PASSWORD again", "ERR ALREADY-SET-PASSWORD"),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-AUTH-ACCESS-DENIED", |c| {
        let e = "ERR ACCESS-DENIED";
        let rows = [
            one(format!("USERNAME {probe}"), "OK"),
            one("PASSWORD nut-check-wrong", "OK"),
            one(format!("LOGIN {ups}"), e),
            one(format!("PRIMARY {ups}"), e),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-AUTH-ORDER", |c| {
        let e = "ERR UNKNOWN-UPS";
        let rows = [
            one(format!("USERNAME {probe}"), "OK"),
            one("PASSWORD nut-check-wrong", "OK"),
            one(format!("LOGIN {m}"), e),
            one(format!("PRIMARY {m}"), e),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-AUTH-TRACKING", |c| {
        let rows = [
            one(format!("USERNAME {probe}"), "OK"),
            one("PASSWORD nut-check-wrong", "OK"),
            one("SET TRACKING ON", "OK"),
            one("GET TRACKING", "ON"),
            one(format!("GET TRACKING {NO_SUCH_ID}"), "ERR UNKNOWN"),
            one("SET TRACKING nut-check", "ERR INVALID-ARGUMENT"),
            one("SET TRACKING OFF", "OK"),
            one("GET TRACKING", "OFF"),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-AUTH-LOGIN", |c| login_check(c));
    ctx.check("N-AUTH-PRIMARY", |c| {
        let mut conn = c.fresh()?;
        if let Some(o) = credentials(c, &mut conn)? {
            return Ok(o);
        }
        let req = format!("PRIMARY {ups}");
        let l = conn.ask1(&req)?;
        Ok(match l.as_str() {
            "OK PRIMARY-GRANTED" => {
                Outcome::Info { text: "the user may be primary (OK PRIMARY-GRANTED)".into() }
            }
            "ERR ACCESS-DENIED" => {
                Outcome::Info { text: "the user may not be primary (ERR ACCESS-DENIED)".into() }
            }
            _ => Outcome::fail(
                format!("{req} -> OK PRIMARY-GRANTED or ERR ACCESS-DENIED"),
                format!("{req} -> {l}"),
            ),
        })
    });
    let (mv, mc) = (ctx.missing_var, ctx.missing_cmd);
    ctx.check("N-WRITE-SET-ACCESS-DENIED", |c| {
        let rows = [
            one(format!("USERNAME {probe}"), "OK"),
            one("PASSWORD nut-check-wrong", "OK"),
            one(format!("SET VAR {ups} {mv} nut-check"), "ERR ACCESS-DENIED"),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-WRITE-INSTCMD-UNKNOWN", |c| {
        let rows = [
            one(format!("USERNAME {probe}"), "OK"),
            one("PASSWORD nut-check-wrong", "OK"),
            one(format!("INSTCMD {ups} {mc}"), "ERR CMD-NOT-SUPPORTED"),
        ];
        table(&mut c.fresh()?, &rows)
    });
    ctx.check("N-WRITE-SET-READONLY", |c| {
        let rw = c.rw_names();
        let ro = match c.vars() {
            Ok(v) => {
                v.iter().map(|(n, _)| n.clone()).find(|n| !rw.contains(&n.to_ascii_lowercase()))
            }
            Err(o) => return Ok(o),
        };
        let Some(ro) = ro else { return Ok(Outcome::skip("every variable is writable")) };
        let mut conn = c.fresh()?;
        if let Some(o) = credentials(c, &mut conn)? {
            return Ok(o);
        }
        let probe = conn.ask1(&format!("SET VAR {ups} {mv} nut-check"))?;
        if probe == "ERR ACCESS-DENIED" {
            return Ok(Outcome::skip("the user may not SET (ERR ACCESS-DENIED)"));
        }
        let mut out = Vec::new();
        if probe != "ERR VAR-NOT-SUPPORTED" {
            out.push((format!("SET VAR {ups} {mv} nut-check -> ERR VAR-NOT-SUPPORTED"), probe));
        }
        let req = format!("SET VAR {ups} {ro} nut-check");
        let l = conn.ask1(&req)?;
        if l != "ERR READONLY" {
            out.push((format!("{req} -> ERR READONLY"), format!("{req} -> {l}")));
        }
        Ok(ok_if(out))
    });
}

/// Sends the configured USERNAME and PASSWORD; `Some(outcome)` when the
/// server refuses them.
fn credentials(c: &Ctx<'_>, conn: &mut RawConn) -> Result<Option<Outcome>, RawError> {
    let (Some(user), Some(pw)) = (&c.opts.user, &c.opts.password) else {
        return Ok(Some(Outcome::skip("needs credentials (-u, -p)")));
    };
    for cmd in [
        Command::Username(user.as_str().into()),
        Command::Password(Secret::new(pw.expose().as_str().into())),
    ] {
        conn.send(&cmd.to_line())?;
        let l = conn.line()?;
        if l != "OK" {
            let what = if matches!(cmd, Command::Username(_)) { "USERNAME" } else { "PASSWORD" };
            return Ok(Some(Outcome::fail(format!("{what} -> OK"), format!("{what} -> {l}"))));
        }
    }
    Ok(None)
}

fn login_check(c: &mut Ctx<'_>) -> Result<Outcome, RawError> {
    let (Some(user), Some(pw)) = (c.opts.user.clone(), c.opts.password.clone()) else {
        return Ok(Outcome::skip("needs credentials (-u, -p)"));
    };
    let ups = c.ups.clone();
    // Typed, through nut-client.
    let mut client = match typed_client(c.opts) {
        Ok(cl) => cl,
        Err(e) => return Ok(Outcome::fail("a connection", e.to_string())),
    };
    if let Err(e) = client.authenticate(&user, pw.expose()) {
        return Ok(Outcome::fail("USERNAME -> OK, PASSWORD -> OK", e.to_string()));
    }
    match client.login(&ups) {
        Ok(()) => {}
        Err(e) if e.server_code().is_some_and(|c| c.as_str() == "ACCESS-DENIED") => {
            return Ok(Outcome::skip(
                "the user may not LOGIN (ERR ACCESS-DENIED): give an upsmon user",
            ));
        }
        Err(e) => {
            return Ok(Outcome::fail(format!("LOGIN {ups} -> OK"), format!("LOGIN {ups} -> {e}")));
        }
    }
    let mut problems = Vec::new();
    let local = client.get_ref().local_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let mut conn = c.fresh()?;
    let clients = conn.ask(&format!("LIST CLIENT {ups}"))?;
    let row = format!("CLIENT {ups} {local}");
    if !clients.iter().any(|l| same(l, &row)) {
        problems.push((
            format!("LIST CLIENT {ups} -> ... {row} ..."),
            format!("LIST CLIENT {ups} -> {}", clients.join(" | ")),
        ));
    }
    let n = conn.ask1(&format!("GET NUMLOGINS {ups}"))?;
    match Reply::parse(n.as_bytes()) {
        Ok(Reply::NumLogins { count, .. }) if count >= 1 => {}
        _ => problems.push((format!("GET NUMLOGINS {ups} -> NUMLOGINS {ups} <n >= 1>"), n)),
    }
    match client.request(Command::Login { ups: ups.clone().into() }) {
        Ok(r) if r.line() == "ERR ALREADY-LOGGED-IN" => {}
        Ok(r) => problems.push((format!("LOGIN {ups} (again) -> ERR ALREADY-LOGGED-IN"), r.line())),
        Err(e) => {
            problems.push((format!("LOGIN {ups} (again) -> ERR ALREADY-LOGGED-IN"), e.to_string()))
        }
    }
    let _ = client.logout();
    Ok(ok_if(problems))
}

/// The reply to the plain `GET VAR <ups> <var>` that tokenizer variants
/// must reproduce.
fn plain(c: &Ctx<'_>) -> Option<(String, String, String)> {
    let (var, value) = c.probe_var()?;
    Some((c.ups.clone(), var.clone(), var_line(&c.ups, &var, &value)))
}

/// A request as text: printable ASCII as is, CR and LF as `\r` and `\n`,
/// other bytes as `\xNN`.
fn show_bytes(b: &[u8]) -> String {
    let mut out = String::new();
    for &c in b {
        match c {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out
}

fn variants(c: &mut Ctx<'_>, reqs: &[Vec<u8>], want: &str) -> Result<Outcome, RawError> {
    let mut problems = Vec::new();
    let conn = c.shared()?;
    for r in reqs {
        conn.send(r)?;
        let l = conn.line()?;
        if l != want {
            let shown = abbreviate(&show_bytes(r.strip_suffix(b"\n").unwrap_or(r)));
            problems.push((format!("{shown} -> {want}"), format!("{shown} -> {l}")));
        }
    }
    Ok(ok_if(problems))
}

fn tokenizer(ctx: &mut Ctx<'_>) {
    let Some((ups, var, want)) = plain(ctx) else {
        let why = ctx.vars().err().unwrap_or_else(|| Outcome::skip("no variable"));
        for d in SUITE.iter().filter(|d| d.category == Tokenizer) {
            let w = why.clone();
            ctx.check(d.id, |_| Ok(w));
        }
        return;
    };
    let b = |s: String| s.into_bytes();
    ctx.check("N-CASE-COMMAND", |c| {
        variants(
            c,
            &[b(format!("get var {ups} {var}\n")), b(format!("Get Var {ups} {var}\n"))],
            &want,
        )
    });
    ctx.check("N-CASE-NAMES", |c| {
        let (u2, v2) = (swapcase(&ups), var.to_ascii_uppercase());
        let value = c.probe_var().map(|x| x.1).unwrap_or_default();
        let w = var_line(&u2, &v2, &value);
        variants(c, &[b(format!("GET VAR {u2} {v2}\n"))], &w)
    });
    ctx.check("N-TOKEN-QUOTES", |c| {
        variants(c, &[b(format!("GET VAR \"{ups}\" \"{var}\"\n"))], &want)
    });
    ctx.check("N-TOKEN-BACKSLASH", |c| {
        let escaped: String = var.chars().flat_map(|ch| ['\\', ch]).collect();
        variants(c, &[b(format!("GET VAR {ups} {escaped}\n"))], &want)
    });
    ctx.check("N-TOKEN-QUOTE-SPLIT", |c| {
        variants(c, &[b(format!("GET VAR \"{ups}\"{var}\n"))], &want)
    });
    ctx.check("N-TOKEN-COMMENT", |c| {
        variants(
            c,
            &[
                b(format!("GET VAR {ups} {var}#nut-check\n")),
                b(format!("GET VAR {ups} {var} # x y\n")),
            ],
            &want,
        )
    });
    ctx.check("N-TOKEN-CONTROL-BYTES", |c| {
        let (head, tail) = var.split_at(var.len() / 2);
        let mut r1 = format!("GET VAR {ups} {head}").into_bytes();
        r1.push(0x01);
        r1.extend_from_slice(format!("{tail}\n").as_bytes());
        let mut r2 = format!("GET VAR {ups} {head}").into_bytes();
        r2.extend_from_slice(&[0xc3, 0xa9]);
        r2.extend_from_slice(format!("{tail}\n").as_bytes());
        variants(c, &[r1, r2], &want)
    });
    ctx.check("N-TOKEN-CRLF", |c| variants(c, &[b(format!("GET VAR {ups} {var}\r\n"))], &want));
    ctx.check("N-TOKEN-EMPTY-ARG", |c| {
        variants(c, &[b(format!("GET VAR \"\" {var}\n"))], "ERR UNKNOWN-UPS")
    });
    let banner = ctx.banner.clone().unwrap_or_default();
    ctx.check("N-TOKEN-LF-IN-QUOTES", |c| {
        let mut conn = c.fresh()?;
        conn.send(format!("GET VAR \"{ups}\n {var}\"\nVER\n").as_bytes())?;
        let got = vec![conn.line()?, conn.line()?];
        let exp = vec!["ERR INVALID-ARGUMENT".to_string(), banner.clone()];
        Ok(if got == exp { Outcome::Pass } else { Outcome::fail(exp.join("\n"), got.join("\n")) })
    });
    ctx.check("N-TOKEN-HASH-IN-QUOTES", |c| {
        // NUT: no reply, and the rest of the same read (VER) is dropped;
        // the next read (NETVER) is answered normally.
        let mut conn = c.fresh()?;
        conn.send(format!("GET VAR {ups} \"ups#status\"\nVER\n").as_bytes())?;
        let mut got = Vec::new();
        if let Some(l) = conn.line_within(Duration::from_millis(300))? {
            got.push(l);
        }
        // If the server read NETVER together with the bad line (a busy
        // machine), NUT drops it too: ask again, up to three times.
        let wait = c.opts.timeout.min(Duration::from_secs(2));
        'ask: for _ in 0..3 {
            conn.send(b"NETVER\n")?;
            while let Some(l) = conn.line_within(wait)? {
                let done = l == "1.3";
                got.push(l);
                if done || got.len() > 6 {
                    break 'ask;
                }
            }
        }
        if got.last().is_none_or(|l| l != "1.3") {
            return Err(RawError::Timeout(wait));
        }
        Ok(if got == ["1.3"] {
            Outcome::Pass
        } else {
            Outcome::fail(
                "(no reply to the line, VER in the same read dropped)\n1.3 (the reply to NETVER)",
                got.join("\n"),
            )
        })
    });
    ctx.check("N-TOKEN-ARGS-LIMIT", |c| {
        let extra = " x".repeat(28); // GET VAR ups var + 28 = 32 words
        variants(c, &[b(format!("GET VAR {ups} {var}{extra}\n"))], &want)
    });
    ctx.check("N-TOKEN-ARGS-OVER-LIMIT", |c| {
        let extra = " x".repeat(40);
        variants(c, &[b(format!("GET VAR {ups} {var}{extra}\n"))], &want)
    });
    ctx.check("N-TOKEN-WORD-LIMIT", |c| {
        variants(c, &[b(format!("GET VAR {ups} {}\n", "n".repeat(512)))], "ERR VAR-NOT-SUPPORTED")
    });
    ctx.check("N-TOKEN-WORD-OVER-LIMIT", |c| {
        variants(c, &[b(format!("GET VAR {ups} {}\n", "n".repeat(600)))], "ERR VAR-NOT-SUPPORTED")
    });
    ctx.check("N-LINE-OVERLONG", |c| {
        let mut conn = c.fresh()?;
        conn.send(format!("GET VAR {ups} {}\nVER\n", "n".repeat(10_000)).as_bytes())?;
        let first = conn.line()?;
        let second = conn.line()?;
        Ok(if first.starts_with("ERR ") && second == banner {
            Outcome::Pass
        } else {
            Outcome::fail(format!("ERR <code>\n{banner}"), format!("{first}\n{second}"))
        })
    });
}

fn session(ctx: &mut Ctx<'_>) {
    let ups = ctx.ups.clone();
    let banner = ctx.banner.clone().unwrap_or_default();
    ctx.check("N-PIPELINE", |c| {
        let mut reqs: Vec<String> = vec!["VER".into(), "NETVER".into(), "LIST UPS".into()];
        if let Ok(v) = c.vars() {
            for (n, _) in v.iter().take(12) {
                reqs.push(format!("GET VAR {ups} {n}"));
                reqs.push(format!("GET TYPE {ups} {n}"));
            }
        }
        reqs.extend([
            format!("LIST VAR {ups}"),
            format!("LIST CMD {ups}"),
            format!("GET UPSDESC {ups}"),
            "NUT-CHECK-FOOBAR".into(),
            format!("GET VAR {ups} {}", c.missing_var),
            format!("LIST RW {ups}"),
            "HELP".into(),
        ]);
        let mut one_by_one = Vec::new();
        let mut conn = c.fresh()?;
        for r in &reqs {
            one_by_one.push(conn.ask(r)?);
        }
        drop(conn);
        let mut conn = c.fresh()?;
        let mut all = Vec::new();
        for r in &reqs {
            all.extend_from_slice(r.as_bytes());
            all.push(b'\n');
        }
        conn.send(&all)?;
        let mut problems = Vec::new();
        for (r, want) in reqs.iter().zip(&one_by_one) {
            let got = conn.reply()?;
            if &got != want {
                problems.push((
                    format!("{r} -> {}", want.join(" | ")),
                    format!("{r} -> {}", got.join(" | ")),
                ));
            }
        }
        Ok(ok_if(problems))
    });
    ctx.check("N-PARTIAL-LINE", |c| {
        let Some((ups, var, want)) = plain(c) else {
            return Ok(c.vars().err().unwrap_or_else(|| Outcome::skip("no variable")));
        };
        let req = format!("GET VAR {ups} {var}");
        let mut conn = c.fresh()?;
        let gap =
            if req.len() > 100 { Duration::from_millis(2) } else { Duration::from_millis(10) };
        for byte in req.as_bytes() {
            conn.send(&[*byte])?;
            std::thread::sleep(gap);
        }
        if let Some(early) = conn.line_within(Duration::from_millis(200))? {
            return Ok(Outcome::fail("no reply before the LF", early));
        }
        conn.send(b"\n")?;
        let got = conn.line()?;
        Ok(if got == want { Outcome::Pass } else { Outcome::fail(want, got) })
    });
    ctx.check("N-LOGOUT", |c| {
        let mut conn = c.fresh()?;
        let l = conn.ask1("LOGOUT")?;
        if l != "OK Goodbye" {
            return Ok(Outcome::fail("LOGOUT -> OK Goodbye", format!("LOGOUT -> {l}")));
        }
        let wait = Duration::from_secs(5).max(conn.timeout());
        let (closed, extra) = conn.closed_within(wait);
        Ok(if closed && extra.is_empty() {
            Outcome::Pass
        } else if !extra.is_empty() {
            Outcome::fail("the connection closed, nothing more sent", extra.join("\n"))
        } else {
            Outcome::fail(
                "the connection closed (NUT 2.8: within 2 s)",
                format!("still open after {wait:?}"),
            )
        })
    });
    ctx.check("N-LOGOUT-PIPELINED", |c| {
        let mut conn = c.fresh()?;
        conn.send(b"LOGOUT\nVER\n")?;
        let got = vec![conn.line()?, conn.line()?];
        let exp = vec!["OK Goodbye".to_string(), banner.clone()];
        Ok(if got == exp { Outcome::Pass } else { Outcome::fail(exp.join("\n"), got.join("\n")) })
    });
}

fn tls(ctx: &mut Ctx<'_>) {
    let mut offered: Option<RawConn> = None;
    ctx.check("N-STARTTLS", |c| {
        let mut conn = c.fresh()?;
        let l = conn.ask1("STARTTLS")?;
        Ok(match l.as_str() {
            "ERR FEATURE-NOT-CONFIGURED" | "ERR FEATURE-NOT-SUPPORTED" => Outcome::Pass,
            "OK STARTTLS" => {
                offered = Some(conn);
                Outcome::Pass
            }
            _ => Outcome::fail(
                "OK STARTTLS, ERR FEATURE-NOT-CONFIGURED (NUT 2.8 without certificate) or ERR FEATURE-NOT-SUPPORTED",
                l,
            ),
        })
    });
    ctx.check("N-TLS-HANDSHAKE", |c| {
        let Some(conn) = offered else {
            return Ok(Outcome::skip("the server does not offer STARTTLS"));
        };
        if !conn.pending().is_empty() {
            return Ok(Outcome::fail(
                "nothing after OK STARTTLS before the handshake",
                "extra bytes",
            ));
        }
        let (stream, _) = conn.into_stream();
        Ok(match crate::tls::handshake(stream, &c.opts.server.host, c.opts.timeout) {
            Ok(info) => Outcome::Info { text: info },
            Err(e) => Outcome::fail("a TLS handshake, then VER answered over TLS", e),
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = BTreeSet::new();
        for d in SUITE {
            assert!(seen.insert(d.id), "duplicate id {}", d.id);
            assert!(
                d.id.starts_with("N-") && d.id.chars().all(|c| c.is_ascii_uppercase() || c == '-')
            );
            assert!(!d.title.is_empty() && !d.reference.is_empty());
        }
    }

    #[test]
    fn canonical_accepts_nut_bytes_and_rejects_others() {
        assert!(canonical(r#"UPS dummy "Test \"quoted\" \# box""#).is_ok());
        assert!(canonical(r#"VAR dummy ups.id "Quote\"Corpx""#).is_ok());
        assert!(canonical(r#"VAR dummy ups.id "Quote"Corpx""#).is_err());
        assert!(canonical("VAR dummy ups.status OL").is_err());
    }

    #[test]
    fn list_framing() {
        let lines: Vec<String> = ["BEGIN LIST CMD u", "CMD u a", "CMD u b", "END LIST CMD u"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ok = |r: &Reply<'_>| {
            if matches!(r, Reply::Cmd { .. }) { Ok(()) } else { Err("x".to_string()) }
        };
        assert!(check_list("LIST CMD u", &lines, "CMD u", ok).is_empty());
        assert_eq!(check_list("LIST CMD u", &lines[..3], "CMD u", ok).len(), 1);
        assert_eq!(check_list("LIST CMD u", &lines, "CMD v", ok).len(), 1);
        assert!(sorted_ci(["a", "B", "c"].into_iter()).is_ok());
        assert!(sorted_ci(["b", "A"].into_iter()).is_err());
    }
}
