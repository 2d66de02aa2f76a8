//! upsmon's operating-system plumbing, kept apart from the monitor's
//! decisions: privilege separation, POWERDOWNFLAG, notifications, the PID
//! file and `-c` signalling. Everything takes plain values (paths, strings,
//! flags), so it does not depend on the monitor's types.
//!
//! # How the `upsmon` binary uses it
//!
//! ```text
//! main:
//!   0. Before printing anything, know the role: the re-executed child has
//!      CHILD_ENV set. (Role::start does this check first.)
//!   1. Parse flags and upsmon.conf.
//!      -c stop|reload|fsd  -> pidfile::send_command(ControlCommand::parse(c), -P pid,
//!                             &pidfile::pid_file()); exit 0 on Ok, else 1.
//!      -K                  -> exit(pdflag::check(POWERDOWNFLAG))
//!   2. Not the child: refuse to start when pidfile::is_running(&pid_file()) is Ok(true).
//!      powerdownflag = POWERDOWNFLAG.and_then(|p| pdflag::clear_at_startup(p)).
//!   3. let plan = ShutdownPlan { powerdownflag, shutdowncmd: SHUTDOWNCMD };
//!      let drop_to = lookup_user(-u or RUN_AS_USER or "nut")?   (skip with -p)
//!      match Role::start(dash_p, Some(drop_to))? {
//!        Role::Parent(p) => { pidfile::write_pid_file(&pid_file(), p.child_pid());
//!                             return p.run(&plan).into() }      // ExitCode
//!        Role::Child(link) => monitor loop, below, shutdown = link.request_shutdown()
//!        Role::Single      => write_pid_file(.., std::process::id()); monitor loop,
//!                             shutdown = plan.execute()
//!      }
//!   The child re-reads the same upsmon.conf (same argv and environment).
//!
//! monitor loop (child or single):
//!   let mut notifier = Notifier::new("upsmon");
//!   every action "notify" -> notifier.notify(NotifyFlags{syslog, wall, exec},
//!                              NOTIFYCMD, "ONBATT", Some(upsname), &message);
//!   every loop            -> notifier.reap();
//!                            child: if !link.parent_alive() -> notify NOPARENT
//!                            (at most every 120 s) and log "Parent died - shutdown impossible"
//!   shutdown action       -> notifier.wall("Executing automatic power-fail shutdown"),
//!                            notify SHUTDOWN, sleep FINALDELAY, then
//!                            child: link.request_shutdown(); single: plan.execute();
//!                            then exit 0.
//! ```
//!
//! The child must not use its standard input: it is the link to the
//! parent (a unix socket; the parent never writes to it, so readable means
//! the parent is gone). Commands run from here get `/dev/null` as input and
//! never see [`CHILD_ENV`].
//!
//! Signals: the parent blocks SIGHUP, SIGUSR1 and SIGUSR2; the PID file
//! names the child, so `-c` reaches the process that monitors.

pub mod notify;
pub mod pdflag;
pub mod pidfile;
pub mod privsep;
pub mod syslog;

pub use notify::{Notifier, NotifyFlags};
pub use pidfile::{ControlCommand, SignalError};
pub use privsep::{
    CHILD_ENV, ChildLink, DropTo, ParentExit, ParentLink, Role, ShutdownPlan, lookup_user,
};
pub use syslog::Severity;
