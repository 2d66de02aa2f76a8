//! `upslog`'s format strings, parsed once into a [`Template`] and rendered
//! once per poll. No I/O: the caller fetches the values of
//! [`Template::vars`] and passes them, with the time and host names, to
//! [`Template::render`].
//!
//! The escapes are NUT's: `%%`, `%VAR <name>%`, `%TIME <strftime format,
//! with @ for %>%`, `%HOST%`, `%UPSHOST%`, `%PID%`, `%ETIME%`. A keyword is
//! matched case-insensitively on its first letters, in that table order
//! (`%HOSTNAME%` is `%HOST%`); anything after the first space is its
//! argument. An unknown keyword, a `%VAR%` without a dotted name, and a `%`
//! with no closing `%` (after which the rest is copied as written) each
//! give `INVALID`; a variable the server does not give is `NA`.
//!
//! ```
//! use nut_clients::upslog::format::{Context, Template};
//! use nut_clients::upslog::strftime::LocalTime;
//! let t = Template::parse(b"%TIME @H:@M% [%VAR ups.status%] %VAR x% %VAR ups.load% 100%%");
//! assert_eq!(t.vars(), ["ups.status", "ups.load"]);
//! let now = LocalTime::utc(3600 * 13 + 60 * 5);
//! let ctx = Context { host: "box", ups_host: "ups@box", pid: 7, now: &now };
//! let line = t.render(&ctx, &[Some("OL".into()), None]);
//! assert_eq!(line, b"13:05 [OL] INVALID NA 100%");
//! ```

use super::strftime::{LocalTime, strftime};

/// The format `upslog` uses without `-f` (NUT 2.8's).
pub const DEFAULT_FORMAT: &str = "%TIME @Y@m@d @H@M@S% %VAR battery.charge% %VAR input.voltage% \
     %VAR ups.load% [%VAR ups.status%] %VAR ups.temperature% %VAR input.frequency%";

/// The longest line NUT writes (its buffer is 4096 bytes with the NUL);
/// longer lines are cut.
pub const MAX_LINE: usize = 4095;

/// The longest `%TIME%` expansion (NUT's `strftime` buffer is 512 bytes
/// with the NUL); a longer one gives nothing.
pub const MAX_TIME: usize = 511;

/// The text of a value the server did not give.
pub const MISSING: &str = "NA";

/// The text of an escape NUT does not accept.
pub const INVALID: &str = "INVALID";

/// One piece of a parsed format.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Piece {
    /// Text copied as is.
    Literal(Vec<u8>),
    /// An escape NUT does not accept: `INVALID`.
    Invalid,
    /// `%HOST%`: the local host name.
    Host,
    /// `%UPSHOST%`: the UPS as given on the command line.
    UpsHost,
    /// `%PID%`: the process id.
    Pid,
    /// `%ETIME%`: seconds since the epoch.
    ETime,
    /// `%TIME fmt%`: the local time through `strftime`, the format with
    /// `@` already turned into `%`.
    Time(Vec<u8>),
    /// `%VAR name%`: a variable's value, `NA` if the server gave none. The
    /// index into [`Template::vars`].
    Var(usize),
}

/// A parsed format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
    vars: Vec<String>,
}

/// What a rendering needs besides the values.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The local host name (`%HOST%`).
    pub host: &'a str,
    /// The UPS as given, `ups@host[:port]` (`%UPSHOST%`).
    pub ups_host: &'a str,
    /// The process id (`%PID%`).
    pub pid: u32,
    /// The local time of the poll (`%TIME%`, `%ETIME%`).
    pub now: &'a LocalTime,
}

/// The keywords, in the order NUT tries them.
const KEYWORDS: [&[u8]; 6] = [b"HOST", b"UPSHOST", b"PID", b"TIME", b"VAR", b"ETIME"];

impl Template {
    /// Parses a format. Never fails: what NUT does not accept renders as
    /// `INVALID`, as in NUT.
    pub fn parse(fmt: &[u8]) -> Template {
        let mut t = Template::default();
        let mut i = 0;
        while i < fmt.len() {
            if fmt[i] != b'%' {
                t.literal(&fmt[i..=i]);
                i += 1;
                continue;
            }
            if fmt.get(i + 1) == Some(&b'%') {
                t.literal(b"%");
                i += 2;
                continue;
            }
            let rest = &fmt[i + 1..];
            let Some(end) = rest.iter().position(|&b| b == b'%') else {
                // No closing `%`: NUT writes INVALID and goes on with the
                // next byte, so the rest is copied as written.
                t.pieces.push(Piece::Invalid);
                i += 1;
                continue;
            };
            let escape = &rest[..end];
            let (word, arg) = match escape.iter().position(|&b| b == b' ') {
                Some(sp) => (&escape[..sp], Some(&escape[sp + 1..])),
                None => (escape, None),
            };
            let keyword = KEYWORDS
                .iter()
                .find(|k| word.len() >= k.len() && word[..k.len()].eq_ignore_ascii_case(k));
            let piece = match keyword.copied() {
                Some(b"HOST") => Piece::Host,
                Some(b"UPSHOST") => Piece::UpsHost,
                Some(b"PID") => Piece::Pid,
                Some(b"ETIME") => Piece::ETime,
                Some(b"TIME") => Piece::Time(
                    arg.unwrap_or_default()
                        .iter()
                        .map(|&b| if b == b'@' { b'%' } else { b })
                        .collect(),
                ),
                Some(b"VAR") => match arg {
                    Some(name) if name.contains(&b'.') => {
                        let name = String::from_utf8_lossy(name).into_owned();
                        let idx = match t.vars.iter().position(|v| *v == name) {
                            Some(idx) => idx,
                            None => {
                                t.vars.push(name);
                                t.vars.len() - 1
                            }
                        };
                        Piece::Var(idx)
                    }
                    _ => Piece::Invalid,
                },
                _ => Piece::Invalid,
            };
            t.pieces.push(piece);
            i += end + 2;
        }
        t
    }

    fn literal(&mut self, bytes: &[u8]) {
        if let Some(Piece::Literal(l)) = self.pieces.last_mut() {
            l.extend_from_slice(bytes);
        } else {
            self.pieces.push(Piece::Literal(bytes.to_vec()));
        }
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The variables to fetch before [`render`](Self::render), each once,
    /// in order of first use.
    pub fn vars(&self) -> &[String] {
        &self.vars
    }

    /// Renders one log line (without its newline). `values[i]` is the value
    /// of `vars()[i]`, `None` (or missing) when the server gave none. The
    /// line is cut at [`MAX_LINE`] bytes.
    pub fn render(&self, ctx: &Context<'_>, values: &[Option<String>]) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(l) => out.extend_from_slice(l),
                Piece::Invalid => out.extend_from_slice(INVALID.as_bytes()),
                Piece::Host => out.extend_from_slice(ctx.host.as_bytes()),
                Piece::UpsHost => out.extend_from_slice(ctx.ups_host.as_bytes()),
                Piece::Pid => out.extend_from_slice(ctx.pid.to_string().as_bytes()),
                Piece::ETime => out.extend_from_slice(ctx.now.timestamp.to_string().as_bytes()),
                Piece::Time(f) => {
                    let text = strftime(f, ctx.now);
                    if text.len() <= MAX_TIME {
                        out.extend_from_slice(&text);
                    }
                }
                Piece::Var(i) => {
                    let v = values.get(*i).and_then(Option::as_deref).unwrap_or(MISSING);
                    out.extend_from_slice(v.as_bytes());
                }
            }
            if out.len() >= MAX_LINE {
                break;
            }
        }
        out.truncate(MAX_LINE);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(fmt: &str, values: &[Option<&str>]) -> String {
        let now = LocalTime::utc(1_795_589_774);
        let ctx = Context { host: "hostname", ups_host: "ups@server:3493", pid: 42, now: &now };
        let values: Vec<Option<String>> = values.iter().map(|v| v.map(str::to_string)).collect();
        String::from_utf8(Template::parse(fmt.as_bytes()).render(&ctx, &values)).unwrap()
    }

    #[test]
    fn escapes() {
        for (fmt, want) in [
            ("", ""),
            ("plain text", "plain text"),
            ("%%", "%"),
            ("100%% %%%%", "100% %%"),
            ("%HOST% %UPSHOST% %PID% %ETIME%", "hostname ups@server:3493 42 1795589774"),
            ("%host% %UpsHost% %pid% %etime%", "hostname ups@server:3493 42 1795589774"),
            // Matched on the first letters, arguments ignored.
            ("%HOSTNAME% %PIDX% %HOST ignored%", "hostname 42 hostname"),
            ("%TIME @Y-@m-@d@@%", "2026-11-25%"),
            ("%TIME%|%TIME %", "|"),
            ("%TIMESTAMP @H%", "06"),
            ("%NOPE% %% %", "INVALID % INVALID"),
            ("a %VAR ups.status", "a INVALIDVAR ups.status"),
            ("%VAR% %VAR % %VAR status% %VAR ups.status%", "INVALID INVALID INVALID NA"),
            ("%% %", "% INVALID"),
            ("% HOST%", "INVALID"),
            ("%VARIABLE battery.charge%", "NA"),
        ] {
            assert_eq!(render(fmt, &[]), want, "{fmt:?}");
        }
    }

    #[test]
    fn variables_fetched_once_in_order() {
        let t = Template::parse(b"%VAR b.x% %VAR a.y% %VAR b.x% %var c.z%");
        assert_eq!(t.vars(), ["b.x", "a.y", "c.z"]);
        assert_eq!(render("%VAR b.x% %VAR a.y% %VAR b.x%", &[Some("1"), None]), "1 NA 1");
        let t = Template::parse(DEFAULT_FORMAT.as_bytes());
        assert_eq!(
            t.vars(),
            [
                "battery.charge",
                "input.voltage",
                "ups.load",
                "ups.status",
                "ups.temperature",
                "input.frequency"
            ]
        );
        let line = render(DEFAULT_FORMAT, &[Some("100"), Some("230.0"), None, Some("OL")]);
        assert_eq!(line, "20261125 065614 100 230.0 NA [OL] NA NA");
    }

    #[test]
    fn lengths_are_capped() {
        let long = "x".repeat(5000);
        assert_eq!(render(&long, &[]).len(), MAX_LINE);
        let v = "v".repeat(5000);
        assert_eq!(render("%VAR a.b%%VAR a.b%", &[Some(&v)]).len(), MAX_LINE);
        assert_eq!(render(&format!("<%TIME {}%>", "a".repeat(511)), &[]).len(), 513);
        assert_eq!(render(&format!("<%TIME {}%>", "a".repeat(512)), &[]), "<>");
    }
}
