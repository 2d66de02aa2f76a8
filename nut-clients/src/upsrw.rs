//! `upsrw`: list or set writable variables.

use crate::common::{self, Io, Opt, Res, describe, fatal, is_unknown_command};
use nut_client::io::blocking::Client;
use nut_client::{Response, ops};
use nut_proto::net::{Command, Reply, VarKind};
use nut_proto::token::atoi;

fn usage(io: &mut Io<'_>, prog: &str) {
    let _ = write!(
        io.stdout,
        "nut-rs {prog} {v} (Network UPS Tools compatible)\n\n\
         usage: {prog} [-h]\n\
         \x20      {prog} [-s <variable>] [-u <username>] [-p <password>] [-w] [-t <timeout>] <ups>\n\n\
         Lists the writable variables of a UPS, or sets one.\n\n\
         \x20 -h             print this help\n\
         \x20 -s <variable>  the variable to set; -s VAR=VALUE gives the value too\n\
         \x20 -l             list the writable variables (the default without -s)\n\
         \x20 -u <username>  user name (asked for when missing)\n\
         \x20 -p <password>  password (asked for when missing)\n\
         \x20 -w             wait for the driver's outcome and print it\n\
         \x20 -t <timeout>   seconds to wait with -w (default 10)\n\
         \x20 <ups>          <upsname>[@<hostname>[:<port>]]\n",
        v = crate::VERSION
    );
}

/// Runs `upsrw` with `argv` (program name first); returns the exit status.
pub fn run(argv: &[String], io: &mut Io<'_>) -> i32 {
    common::exit_code(main(argv, io))
}

fn value(io: &mut Io<'_>, c: &mut Client, ups: &str, var: &str, who: &str) -> Res<String> {
    c.get_var(ups, var).map_err(|_| fatal(io, &format!("{who}: can't get current value of {var}")))
}

fn print_one(io: &mut Io<'_>, c: &mut Client, ups: &str, var: &str) -> Res {
    let _ = writeln!(io.stdout, "[{var}]");
    let desc = c.run(ops::get_desc(ups, var)).unwrap_or_else(|_| "Description unavailable".into());
    let _ = writeln!(io.stdout, "{desc}");
    match c.run(ops::get_type(ups, var)) {
        Err(_) => {
            let _ = writeln!(io.stdout, "Unknown type");
        }
        Ok(ty) if ty.range => {
            let cur = atoi(&value(io, c, ups, var, "do_range")?);
            let ranges = c
                .run(ops::list_range(ups, var))
                .map_err(|e| fatal(io, &format!("Error: {}", describe(&e))))?;
            let _ = writeln!(io.stdout, "Type: RANGE NUMBER");
            for (min, max) in ranges {
                let sel = if cur >= min && cur <= max { " SELECTED" } else { "" };
                let _ = writeln!(io.stdout, "Option: \"{min}-{max}\"{sel}");
            }
        }
        Ok(ty) if ty.enumerated => {
            let cur = value(io, c, ups, var, "do_enum")?;
            let values = c
                .run(ops::list_enum(ups, var))
                .map_err(|e| fatal(io, &format!("Error: {}", describe(&e))))?;
            let _ = match ty.kind {
                Some(VarKind::String(n)) => {
                    write!(io.stdout, "Type: ENUM STRING\nMaximum length: {n}\n")
                }
                Some(VarKind::Number) => writeln!(io.stdout, "Type: ENUM NUMBER"),
                None => writeln!(io.stdout, "Type: ENUM"),
            };
            for v in values {
                let sel = if v == cur { " SELECTED" } else { "" };
                let _ = writeln!(io.stdout, "Option: \"{v}\"{sel}");
            }
        }
        Ok(ty) => match ty.kind {
            Some(VarKind::String(n)) => {
                let v = value(io, c, ups, var, "do_string")?;
                let _ = write!(io.stdout, "Type: STRING\nMaximum length: {n}\nValue: {v}\n");
            }
            Some(VarKind::Number) => {
                let v = value(io, c, ups, var, "do_number")?;
                let _ = write!(io.stdout, "Type: NUMBER\nValue: {v}\n");
            }
            None => {}
        },
    }
    let _ = writeln!(io.stdout);
    Ok(())
}

fn list(io: &mut Io<'_>, c: &mut Client, ups: &str) -> Res {
    let vars = match c.list_rw(ups) {
        Ok(v) => v,
        Err(e) if is_unknown_command(&e) => {
            return Err(fatal(io, "Error: upsd is too old to support this query"));
        }
        Err(e) => return Err(fatal(io, &format!("Error: {}", describe(&e)))),
    };
    for v in vars {
        print_one(io, c, ups, &v.name)?;
    }
    Ok(())
}

fn send(io: &mut Io<'_>, c: &mut Client, cmd: Command<'static>, what: &str) -> Res<Response> {
    c.request(cmd).map_err(|e| fatal(io, &format!("{what}: {}", describe(&e))))
}

struct SetArgs {
    setvar: String,
    user: Option<String>,
    pass: Option<String>,
    wait: bool,
    timeout: u64,
}

fn set(io: &mut Io<'_>, c: &mut Client, ups: &str, a: SetArgs) -> Res {
    let user = match a.user {
        Some(u) => u,
        None => common::ask_username(io)?,
    };
    let pass = match a.pass {
        Some(p) => p,
        None => common::ask_password(io)?,
    };
    let (var, newval) = match a.setvar.split_once('=') {
        Some((v, n)) => (v.to_string(), n.to_string()),
        None => {
            let _ = write!(io.stdout, "Enter new value for {}: ", a.setvar);
            let _ = io.stdout.flush();
            (a.setvar.clone(), common::read_line(io).unwrap_or_default())
        }
    };
    send(io, c, Command::Username(user.into()), "Set username failed")?;
    send(io, c, Command::Password(std::borrow::Cow::from(pass).into()), "Set password failed")?;
    if !var.contains('.') {
        return Err(fatal(io, "Error: old variable names are not supported"));
    }
    if a.wait {
        let what = "Enabling set variable status tracking failed";
        let r = send(io, c, Command::SetTracking(true), what)?;
        if !r.line().starts_with("OK") {
            return Err(fatal(io, &format!("{what}. upsd answered: {}", r.line())));
        }
    }
    let cmd =
        Command::SetVar { ups: ups.to_string().into(), var: var.into(), value: newval.into() };
    let r = send(io, c, cmd, "Set variable failed")?;
    if !r.line().starts_with("OK") {
        return Err(fatal(io, &format!("Unexpected response from upsd: {}", r.line())));
    }
    match r {
        Response::Line(Reply::OkTracking(id)) if a.wait && id.len() == 36 => {
            common::wait_tracking(io, c, &id, a.timeout)
        }
        r => {
            let _ = writeln!(io.stderr, "{}", r.line());
            Ok(())
        }
    }
}

fn main(argv: &[String], io: &mut Io<'_>) -> Res {
    let prog = common::prog_name(argv.first(), "upsrw");
    let (opts, rest) = common::getopt(
        argv.first().map_or("upsrw", String::as_str),
        argv.get(1..).unwrap_or(&[]),
        "hls:p:t:u:wV",
        io.stderr,
    );
    let mut a = SetArgs { setvar: String::new(), user: None, pass: None, wait: false, timeout: 10 };
    let mut setvar = None;
    for o in opts {
        match o {
            Opt::Flag('s', v) => setvar = v,
            Opt::Flag('l', _) => {
                if setvar.take().is_some() {
                    let _ = writeln!(
                        io.stderr,
                        "Listing mode requested, overriding setvar specified earlier!"
                    );
                }
            }
            Opt::Flag('p', v) => a.pass = v,
            Opt::Flag('u', v) => a.user = v,
            Opt::Flag('t', Some(v)) => a.timeout = common::parse_timeout(io, &v)?,
            Opt::Flag('w', _) => a.wait = true,
            Opt::Flag('V', _) => {
                let _ = writeln!(io.stdout, "Network UPS Tools {prog} {}", crate::VERSION);
                return Ok(());
            }
            _ => {
                usage(io, &prog);
                return Ok(());
            }
        }
    }
    let Some((target, mut c)) = common::open_target(io, rest.first(), |io| usage(io, &prog))?
    else {
        return Ok(());
    };
    let r = match setvar {
        Some(s) => {
            a.setvar = s;
            set(io, &mut c, &target.ups, a)
        }
        None => list(io, &mut c, &target.ups),
    };
    common::disconnect(&mut c);
    r
}
