//! `upsc`: show UPS variables, UPS names, or logged-in clients.

use crate::common::{self, Exit, Io, Opt, Res, describe, fatal, is_unknown_command, json_escape};
use nut_client::io::blocking::Client;
use nut_client::{HostPort, UpsTarget};
use std::io::Write;

fn usage(io: &mut Io<'_>, prog: &str) {
    let _ = write!(
        io.stdout,
        "nut-rs upsc {v} (Network UPS Tools compatible)\n\n\
         usage: {prog} [-j] -l | -L [<hostname>[:port]]\n\
         \x20      {prog} [-j] <ups> [<variable>]\n\
         \x20      {prog} [-j] -c <ups>\n\n\
         Shows the variables of a UPS, the UPSes of a server, or the clients logged in to a UPS.\n\n\
         \x20 -l          print the name of every UPS on the server (default localhost)\n\
         \x20 -L          print every UPS name with its description\n\
         \x20 -c          print the address of every client logged in to <ups>\n\
         \x20 -j          print JSON\n\
         \x20 -V          print the version\n\
         \x20 -h          print this help\n\
         \x20 <ups>       <upsname>[@<hostname>[:<port>]]\n\
         \x20 <variable>  print only this variable's value\n",
        v = crate::VERSION
    );
}

struct Upsc<'a, 'b> {
    io: &'a mut Io<'b>,
    json: bool,
}

impl Upsc<'_, '_> {
    /// `Error: <msg>` on stderr, and `{"error": "<msg>"}` first in JSON mode.
    fn fail(&mut self, msg: &str) -> Exit {
        if self.json {
            let _ = writeln!(self.io.stdout, "{{\"error\": \"{}\"}}", json_escape(msg));
        }
        fatal(self.io, &format!("Error: {msg}"))
    }

    fn list_error(&mut self, e: &nut_client::ClientError) -> String {
        if is_unknown_command(e) {
            "upsd is too old to support this query".into()
        } else {
            describe(e)
        }
    }

    fn list_ups(&mut self, c: &mut Client, verbose: bool) -> Res {
        let list = match c.list_ups() {
            Ok(l) => l,
            Err(e) => {
                let m = self.list_error(&e);
                return Err(self.fail(&m));
            }
        };
        let out = &mut self.io.stdout;
        if self.json {
            let rows: Vec<String> = list
                .iter()
                .map(|u| {
                    if verbose {
                        format!("  \"{}\": \"{}\"", json_escape(&u.name), json_escape(&u.desc))
                    } else {
                        format!("  \"{}\"", json_escape(&u.name))
                    }
                })
                .collect();
            let (open, close) = if verbose { ('{', '}') } else { ('[', ']') };
            let _ = write!(out, "{open}\n{}\n{close}\n", rows.join(",\n"));
        } else {
            for u in list {
                let _ = if verbose {
                    writeln!(out, "{}: {}", u.name, u.desc)
                } else {
                    writeln!(out, "{}", u.name)
                };
            }
        }
        Ok(())
    }

    fn list_clients(&mut self, c: &mut Client, ups: &str) -> Res {
        let list = match c.list_clients(ups) {
            Ok(l) => l,
            Err(e) => {
                let m = self.list_error(&e);
                return Err(self.fail(&m));
            }
        };
        if self.json {
            let rows: Vec<String> =
                list.iter().map(|a| format!("  \"{}\"", json_escape(a))).collect();
            let _ = write!(self.io.stdout, "[\n{}\n]\n", rows.join(",\n"));
        } else {
            for a in list {
                let _ = writeln!(self.io.stdout, "{a}");
            }
        }
        Ok(())
    }

    fn print_var(&mut self, c: &mut Client, ups: &str, var: &str) -> Res {
        if !var.contains('.') {
            return Err(self.fail("old-style variable names are not supported"));
        }
        match c.get_var(ups, var) {
            Ok(v) if self.json => {
                let _ = writeln!(self.io.stdout, "\"{}\"", json_escape(&v));
                Ok(())
            }
            Ok(v) => {
                let _ = writeln!(self.io.stdout, "{v}");
                Ok(())
            }
            Err(e) if is_unknown_command(&e) => {
                Err(self.fail("variable unknown (old upsd detected)"))
            }
            Err(e) => Err(self.fail(&describe(&e))),
        }
    }

    fn list_vars(&mut self, c: &mut Client, ups: &str) -> Res {
        if self.json {
            let _ = writeln!(self.io.stdout, "{{");
        }
        let list = match c.list_vars(ups) {
            Ok(l) => l,
            Err(e) => {
                let m = self.list_error(&e);
                if self.json {
                    let _ = write!(self.io.stdout, "  \"error\": \"{}\"\n}}\n", json_escape(&m));
                }
                return Err(fatal(self.io, &format!("Error: {m}")));
            }
        };
        if self.json {
            let rows: Vec<String> = list
                .iter()
                .map(|v| format!("  \"{}\": \"{}\"", json_escape(&v.name), json_escape(&v.value)))
                .collect();
            let _ = write!(self.io.stdout, "{}\n}}\n", rows.join(",\n"));
        } else {
            for v in list {
                let _ = writeln!(self.io.stdout, "{}: {}", v.name, v.value);
            }
        }
        Ok(())
    }
}

/// Runs `upsc` with `args` (without the program name); returns the exit
/// status.
pub fn run(argv: &[String], io: &mut Io<'_>) -> i32 {
    common::exit_code(main(argv, io))
}

fn main(argv: &[String], io: &mut Io<'_>) -> Res {
    let prog = common::prog_name(argv.first(), "upsc");
    let (opts, rest) = common::getopt(
        argv.first().map_or("upsc", String::as_str),
        argv.get(1..).unwrap_or(&[]),
        "hlLcVj",
        io.stderr,
    );
    let (mut varlist, mut verbose, mut clientlist, mut json) = (false, false, false, false);
    for o in opts {
        match o {
            Opt::Flag('L', _) => (varlist, verbose) = (true, true),
            Opt::Flag('l', _) => varlist = true,
            Opt::Flag('c', _) => clientlist = true,
            Opt::Flag('j', _) => json = true,
            Opt::Flag('V', _) => {
                let _ = writeln!(io.stderr, "Network UPS Tools upsc {}", crate::VERSION);
                return Ok(());
            }
            _ => {
                usage(io, &prog);
                return Ok(());
            }
        }
    }
    let mut t = Upsc { io, json };
    let (server, ups) = if varlist {
        match rest.first().map_or(Ok(HostPort::localhost()), |a| HostPort::parse(a)) {
            Ok(s) => (s, String::new()),
            Err(_) => return Err(t.fail("invalid hostname.\nRequired format: [hostname[:port]]")),
        }
    } else {
        match rest.first().map(|a| UpsTarget::parse(a)) {
            Some(Ok(u)) => (u.server, u.ups),
            _ => {
                return Err(
                    t.fail("invalid UPS definition.\nRequired format: upsname[@hostname[:port]]")
                );
            }
        }
    };
    let mut client = match common::connect(&server, common::Tls::TryUnverified) {
        Ok(c) => c,
        Err(e) => return Err(t.fail(&describe(&e))),
    };
    let r = if varlist {
        t.list_ups(&mut client, verbose)
    } else if clientlist {
        t.list_clients(&mut client, &ups)
    } else if let Some(var) = rest.get(1) {
        t.print_var(&mut client, &ups, var)
    } else {
        t.list_vars(&mut client, &ups)
    };
    common::disconnect(&mut client);
    r
}
