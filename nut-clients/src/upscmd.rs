//! `upscmd`: list or run instant commands.

use crate::common::{self, Io, Opt, Res, describe, fatal, is_unknown_command};
use nut_client::Response;
use nut_client::io::blocking::Client;
use nut_proto::net::{Command, Reply};

fn usage(io: &mut Io<'_>, prog: &str) {
    let _ = write!(
        io.stdout,
        "nut-rs upscmd {v} (Network UPS Tools compatible)\n\n\
         usage: {prog} [-h]\n\
         \x20      {prog} [-l <ups>]\n\
         \x20      {prog} [-u <username>] [-p <password>] [-w] [-t <timeout>] <ups> <command> [<value>]\n\n\
         Lists or runs the instant commands of a UPS.\n\n\
         \x20 -h             print this help\n\
         \x20 -l <ups>       list the commands of <ups> with their descriptions\n\
         \x20 -u <username>  user name (asked for when missing)\n\
         \x20 -p <password>  password (asked for when missing)\n\
         \x20 -w             wait for the driver's outcome and print it\n\
         \x20 -t <timeout>   seconds to wait with -w (default 10)\n\
         \x20 <ups>          <upsname>[@<hostname>[:<port>]]\n\
         \x20 <command>      the instant command, e.g. test.battery.start\n\
         \x20 <value>        its parameter, if it takes one\n",
        v = crate::VERSION
    );
}

/// Runs `upscmd` with `argv` (program name first); returns the exit status.
pub fn run(argv: &[String], io: &mut Io<'_>) -> i32 {
    common::exit_code(main(argv, io))
}

fn list(io: &mut Io<'_>, c: &mut Client, ups: &str) -> Res {
    let names = match c.list_cmds(ups) {
        Ok(n) => n,
        Err(e) if is_unknown_command(&e) => {
            return Err(fatal(io, "Error: upsd is too old to support this query"));
        }
        Err(e) => return Err(fatal(io, &format!("Error: {}", describe(&e)))),
    };
    let _ = write!(io.stdout, "Instant commands supported on UPS [{ups}]:\n\n");
    for name in names {
        let _ = match c.run(nut_client::ops::get_cmd_desc(ups, &name)) {
            Ok(d) => writeln!(io.stdout, "{name} - {d}"),
            Err(_) => writeln!(io.stdout, "{name}"),
        };
    }
    Ok(())
}

/// Sends one line's command; a transport failure is fatal with `what`.
fn send(io: &mut Io<'_>, c: &mut Client, cmd: Command<'static>, what: &str) -> Res<Response> {
    c.request(cmd).map_err(|e| fatal(io, &format!("{what}: {}", describe(&e))))
}

fn main(argv: &[String], io: &mut Io<'_>) -> Res {
    let prog = common::prog_name(argv.first(), "upscmd");
    let (opts, rest) = common::getopt(
        argv.first().map_or("upscmd", String::as_str),
        argv.get(1..).unwrap_or(&[]),
        "lhu:p:t:wV",
        io.stderr,
    );
    let (mut cmdlist, mut user, mut pass, mut wait, mut timeout) = (false, None, None, false, 10);
    for o in opts {
        match o {
            Opt::Flag('l', _) => cmdlist = true,
            Opt::Flag('u', a) => user = a,
            Opt::Flag('p', a) => pass = a,
            Opt::Flag('t', Some(a)) => timeout = common::parse_timeout(io, &a)?,
            Opt::Flag('w', _) => wait = true,
            Opt::Flag('V', _) => {
                let _ = writeln!(io.stderr, "Network UPS Tools upscmd {}", crate::VERSION);
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
    let r = (|| {
        if cmdlist {
            return list(io, &mut c, &target.ups);
        }
        let Some(cmd) = rest.get(1) else {
            usage(io, &prog);
            return Ok(());
        };
        if !cmd.contains('.') {
            return Err(fatal(io, "Error: old command names are not supported"));
        }
        let user = match user {
            Some(u) => u,
            None => common::ask_username(io)?,
        };
        let pass = match pass {
            Some(p) => p,
            None => common::ask_password(io)?,
        };
        send(io, &mut c, Command::Username(user.into()), "Set username failed")?;
        send(
            io,
            &mut c,
            Command::Password(std::borrow::Cow::from(pass).into()),
            "Set password failed",
        )?;
        if wait {
            let r = send(
                io,
                &mut c,
                Command::SetTracking(true),
                "Enabling command status tracking failed",
            )?;
            if !r.line().starts_with("OK") {
                let m =
                    format!("Enabling command status tracking failed. upsd answered: {}", r.line());
                return Err(fatal(io, &m));
            }
        }
        let instcmd = Command::InstCmd {
            ups: target.ups.clone().into(),
            cmd: cmd.clone().into(),
            param: rest.get(2).map(|p| p.clone().into()),
        };
        let r = send(io, &mut c, instcmd, "Instant command failed")?;
        if !r.line().starts_with("OK") {
            return Err(fatal(io, &format!("Unexpected response from upsd: {}", r.line())));
        }
        match r {
            Response::Line(Reply::OkTracking(id)) if wait && id.len() == 36 => {
                common::wait_tracking(io, &mut c, &id, timeout)
            }
            r => {
                let _ = writeln!(io.stderr, "{}", r.line());
                Ok(())
            }
        }
    })();
    common::disconnect(&mut c);
    r
}
