//! Privilege separation without `fork`: a root parent that can only shut
//! the machine down, and an unprivileged child (the same program run
//! again) that does everything else.

use super::pdflag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};

/// The environment variable that marks the re-executed child. Its value
/// is irrelevant; it is removed from every command the child runs.
pub const CHILD_ENV: &str = "NUT_RS_UPSMON_CHILD";

/// The byte the child sends to ask for the shutdown.
pub const SHUTDOWN_BYTE: u8 = 0x01;

/// The user and group the child runs as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropTo {
    /// User id.
    pub uid: u32,
    /// Group id (the user's primary group). Supplementary groups are
    /// dropped (std does so when root sets the uid).
    pub gid: u32,
}

/// Looks up `RUN_AS_USER` (or `-u`): its uid and primary gid.
pub fn lookup_user(name: &str) -> io::Result<DropTo> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(u)) => Ok(DropTo { uid: u.uid.as_raw(), gid: u.gid.as_raw() }),
        Ok(None) => Err(io::Error::new(io::ErrorKind::NotFound, format!("no such user {name}"))),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// What the privileged side does on request: NUT's `set_pdflag()` then
/// `system(SHUTDOWNCMD)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownPlan {
    /// POWERDOWNFLAG, if configured (and not disabled at startup).
    pub powerdownflag: Option<PathBuf>,
    /// SHUTDOWNCMD, run with `sh -c`.
    pub shutdowncmd: Option<String>,
}

impl ShutdownPlan {
    /// Creates the flag file (if any), then runs SHUTDOWNCMD and waits for
    /// it. Returns whether SHUTDOWNCMD ran and exited 0. Used by the parent
    /// and by `-p` mode.
    pub fn execute(&self) -> bool {
        if let Some(flag) = &self.powerdownflag {
            if let Err(e) = pdflag::create(flag) {
                tracing::error!("Failed to create power down flag! ({}: {e})", flag.display());
            }
        }
        let Some(cmd) = &self.shutdowncmd else {
            tracing::error!("no SHUTDOWNCMD defined, cannot shut down");
            return false;
        };
        let ok = Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .env_remove(CHILD_ENV)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            tracing::error!("Unable to call shutdown command: {cmd}");
        }
        ok
    }
}

/// How the parent ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParentExit {
    /// The child asked for the shutdown; it was carried out (exit 0).
    Shutdown,
    /// The child went away without asking (exit 1, "upsmon parent:
    /// exiting (child exited)").
    ChildExited,
    /// The child sent another byte (exit 1).
    Bogus(u8),
    /// Reading from the child failed (exit 1).
    ReadError,
}

impl ParentExit {
    /// The process exit code, as NUT's parent gives it.
    pub fn code(self) -> i32 {
        match self {
            ParentExit::Shutdown => 0,
            _ => 1,
        }
    }
}

impl From<ParentExit> for ExitCode {
    fn from(e: ParentExit) -> ExitCode {
        if e.code() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
    }
}

/// The privileged parent's end of the link.
#[derive(Debug)]
pub struct ParentLink {
    child: Child,
    sock: UnixStream,
}

impl ParentLink {
    /// Runs this program again (`/proc/self/exe`, with `args`, normally
    /// `std::env::args_os().skip(1)`) as the child, with [`CHILD_ENV`] set,
    /// as `drop_to` when given.
    pub fn spawn(args: &[OsString], drop_to: Option<DropTo>) -> io::Result<ParentLink> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.args(args);
        Self::spawn_command(cmd, drop_to)
    }

    /// As [`spawn`](Self::spawn), with the program, arguments and
    /// environment already in `cmd` (tests and embedders use this). Sets
    /// [`CHILD_ENV`], standard input (the link) and the user.
    pub fn spawn_command(mut cmd: Command, drop_to: Option<DropTo>) -> io::Result<ParentLink> {
        let (ours, theirs) = UnixStream::pair()?;
        cmd.env(CHILD_ENV, "1").stdin(Stdio::from(OwnedFd::from(theirs)));
        if let Some(d) = drop_to {
            cmd.gid(d.gid).uid(d.uid);
        }
        let child = cmd.spawn()?;
        Ok(ParentLink { child, sock: ours })
    }

    /// The child's process id (what goes into the PID file).
    pub fn child_pid(&self) -> u32 {
        self.child.id()
    }

    /// The parent's whole life: ignore SIGHUP, SIGUSR1 and SIGUSR2 (they
    /// are the child's), wait for one byte, and act on it. Never returns
    /// before the child is gone or the shutdown has run.
    pub fn run(mut self, plan: &ShutdownPlan) -> ParentExit {
        use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
        let mut set = SigSet::empty();
        for s in [Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGUSR2] {
            set.add(s);
        }
        if let Err(e) = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None) {
            tracing::warn!("upsmon parent: cannot block signals: {e}");
        }
        let exit = run_parent_on(&mut self.sock, plan);
        if exit != ParentExit::Shutdown {
            let _ = self.child.wait();
        }
        exit
    }

    /// Closes the parent's end without waiting (the child then sees its
    /// parent gone) and returns the child (tests use this).
    pub fn abandon(self) -> Child {
        drop(self.sock);
        self.child
    }
}

/// The parent's decision on what it reads from the child (any reader, for
/// tests): one byte `0x01` → run `plan`; anything else or EOF → give up.
pub fn run_parent_on(from_child: &mut impl Read, plan: &ShutdownPlan) -> ParentExit {
    let mut b = [0u8; 1];
    loop {
        return match from_child.read(&mut b) {
            Ok(0) => {
                tracing::error!("upsmon parent: exiting (child exited)");
                ParentExit::ChildExited
            }
            Ok(_) if b[0] == SHUTDOWN_BYTE => {
                plan.execute();
                ParentExit::Shutdown
            }
            Ok(_) => {
                tracing::error!("upsmon parent: got bogus pipe command {}", b[0]);
                ParentExit::Bogus(b[0])
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::error!("upsmon parent: read: {e}");
                ParentExit::ReadError
            }
        };
    }
}

/// The unprivileged child's end of the link (its standard input).
#[derive(Debug)]
pub struct ChildLink {
    sock: UnixStream,
}

impl ChildLink {
    /// `None` unless this process is the re-executed child ([`CHILD_ENV`]
    /// set); then the link on standard input, or an error when standard
    /// input is not the parent's socket.
    pub fn from_env() -> Option<io::Result<ChildLink>> {
        std::env::var_os(CHILD_ENV)?;
        Some(Self::from_stdin())
    }

    fn from_stdin() -> io::Result<ChildLink> {
        let fd = io::stdin().as_fd().try_clone_to_owned()?;
        let sock = UnixStream::from(fd);
        // Fails (ENOTSOCK) unless standard input is a unix socket.
        sock.local_addr()?;
        Ok(ChildLink { sock })
    }

    /// A link over any connected socket (tests, embedders).
    pub fn from_stream(sock: UnixStream) -> ChildLink {
        ChildLink { sock }
    }

    /// Whether the parent still holds its end: the parent never writes, so
    /// anything readable (EOF) or a hang-up means it is gone. Does not
    /// block.
    pub fn parent_alive(&self) -> bool {
        let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(0) => true,
            Ok(_) => false,
            Err(nix::errno::Errno::EINTR) => true,
            Err(_) => false,
        }
    }

    /// Asks the parent to create POWERDOWNFLAG and run SHUTDOWNCMD.
    pub fn request_shutdown(&mut self) -> io::Result<()> {
        self.sock.write_all(&[SHUTDOWN_BYTE])
    }
}

/// Which process this is.
#[derive(Debug)]
pub enum Role {
    /// The privileged parent: write the PID file with
    /// [`ParentLink::child_pid`], then return [`ParentLink::run`]'s code.
    Parent(ParentLink),
    /// The unprivileged child: monitor; [`ChildLink::request_shutdown`] to
    /// shut down; check [`ChildLink::parent_alive`] every loop.
    Child(ChildLink),
    /// `-p`: one root process that does everything
    /// ([`ShutdownPlan::execute`] itself).
    Single,
}

impl Role {
    /// Decides the role at startup: the child when [`CHILD_ENV`] is set
    /// (whatever the arguments), else [`Role::Single`] when `single` (`-p`),
    /// else spawns the child (same arguments) and is the parent.
    pub fn start(single: bool, drop_to: Option<DropTo>) -> io::Result<Role> {
        if let Some(link) = ChildLink::from_env() {
            return link.map(Role::Child);
        }
        if single {
            return Ok(Role::Single);
        }
        let args: Vec<OsString> = std::env::args_os().skip(1).collect();
        ParentLink::spawn(&args, drop_to).map(Role::Parent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(dir: &Path) -> ShutdownPlan {
        ShutdownPlan {
            powerdownflag: Some(dir.join("killpower")),
            shutdowncmd: Some(format!("echo ran > {}", dir.join("ran").display())),
        }
    }

    #[test]
    fn parent_decisions() {
        let dir = nut_testkit::temp_dir();
        let p = plan(dir.path());
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        assert_eq!(run_parent_on(&mut a, &p), ParentExit::ChildExited);
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.write_all(b"N").unwrap();
        assert_eq!(run_parent_on(&mut a, &p), ParentExit::Bogus(b'N'));
        assert!(!dir.path().join("ran").exists());
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut child = ChildLink::from_stream(b);
        assert!(child.parent_alive());
        child.request_shutdown().unwrap();
        assert_eq!(run_parent_on(&mut a, &p), ParentExit::Shutdown);
        assert_eq!(std::fs::read(dir.path().join("killpower")).unwrap(), pdflag::MAGIC);
        assert_eq!(std::fs::read_to_string(dir.path().join("ran")).unwrap(), "ran\n");
        drop(a);
        // Another test thread forking at this moment holds a copy of `a`
        // until its child execs, so the hang-up may take an instant.
        assert!(nut_testkit::wait_until(
            std::time::Duration::from_secs(5),
            std::time::Duration::from_millis(10),
            || !child.parent_alive()
        ));
        assert_eq!(ParentExit::Shutdown.code(), 0);
        assert_eq!(ParentExit::ChildExited.code(), 1);
    }

    #[test]
    fn roles_and_users() {
        // Not the re-executed child here: `-p` gives the single role.
        assert!(ChildLink::from_env().is_none());
        assert!(matches!(Role::start(true, None), Ok(Role::Single)));
        assert_eq!(lookup_user("root").unwrap(), DropTo { uid: 0, gid: 0 });
        let e = lookup_user("no-such-user-nut-rs").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
