//! Notifications: syslog, `wall`, NOTIFYCMD, without blocking the caller.

use super::syslog::{self, Severity};
use std::io::Write;
use std::process::{Child, Command, Stdio};

/// Where a notification goes (upsmon.conf `NOTIFYFLAG`; IGNORE is all
/// false).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifyFlags {
    /// Log it to syslog (severity notice).
    pub syslog: bool,
    /// Send it to every terminal with `wall`.
    pub wall: bool,
    /// Run NOTIFYCMD with it.
    pub exec: bool,
}

/// The shell command line that runs NOTIFYCMD with the message as its
/// last argument. NUT 2.8.0 pastes the message inside double quotes, so
/// the shell expands `$`, backquotes and `\` in it and a `"` ends the
/// quoting; here the message is passed as the positional parameter `$1`,
/// so it reaches NOTIFYCMD exactly as written. Run it as
/// `sh -c <this> sh <message>`.
pub fn exec_script(notifycmd: &str) -> String {
    format!("{notifycmd} \"$1\"")
}

/// Runs notifications and keeps the processes it started until they are
/// reaped with [`reap`](Notifier::reap).
#[derive(Debug)]
pub struct Notifier {
    ident: String,
    children: Vec<Child>,
    /// Environment variables removed from NOTIFYCMD and `wall`.
    hide_env: Vec<String>,
    /// The `wall` program.
    wall: std::path::PathBuf,
}

impl Notifier {
    /// A notifier that logs as `ident` (`"upsmon"`).
    pub fn new(ident: &str) -> Self {
        Notifier {
            ident: ident.to_string(),
            children: Vec::new(),
            hide_env: vec![super::privsep::CHILD_ENV.to_string()],
            wall: "wall".into(),
        }
    }

    /// Uses `program` instead of `wall` from `PATH` (tests, embedders):
    /// it gets the message and a newline on its standard input.
    pub fn with_wall_program(mut self, program: impl Into<std::path::PathBuf>) -> Self {
        self.wall = program.into();
        self
    }

    /// Sends one notification: syslog at once; `wall` and NOTIFYCMD (run
    /// through `sh -c` with `NOTIFYTYPE` and `UPSNAME` in its environment;
    /// `UPSNAME` empty when `upsname` is `None`) as background processes.
    /// Never waits for them.
    pub fn notify(
        &mut self,
        flags: NotifyFlags,
        notifycmd: Option<&str>,
        notify_type: &str,
        upsname: Option<&str>,
        message: &str,
    ) {
        if flags.syslog {
            syslog::syslog(Severity::Notice, &self.ident, message);
        }
        if flags.wall {
            self.wall(message);
        }
        if flags.exec {
            if let Some(cmd) = notifycmd {
                let mut c = Command::new("/bin/sh");
                c.arg("-c").arg(exec_script(cmd)).arg("sh").arg(message);
                c.env("NOTIFYTYPE", notify_type).env("UPSNAME", upsname.unwrap_or(""));
                c.stdin(Stdio::null());
                if let Some(child) = self.spawn(c, "NOTIFYCMD") {
                    self.children.push(child);
                }
            }
        }
    }

    /// Sends `text` to every terminal with `wall` (when it is installed).
    pub fn wall(&mut self, text: &str) {
        let mut c = Command::new(&self.wall);
        c.stdin(Stdio::piped()).stdout(Stdio::null());
        if let Some(mut child) = self.spawn(c, "wall") {
            if let Some(mut stdin) = child.stdin.take() {
                // A message is far smaller than a pipe buffer: no blocking.
                let _ = writeln!(stdin, "{text}");
            }
            self.children.push(child);
        }
    }

    fn spawn(&self, mut c: Command, what: &str) -> Option<Child> {
        for k in &self.hide_env {
            c.env_remove(k);
        }
        c.spawn().map_err(|e| tracing::warn!("cannot run {what}: {e}")).ok()
    }

    /// Reaps the notification processes that have ended; returns how many
    /// are still running. Call it once per poll loop.
    pub fn reap(&mut self) -> usize {
        self.children.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
        self.children.len()
    }

    /// Waits for every notification process (for tests and orderly exit).
    pub fn wait_all(&mut self) {
        for mut c in self.children.drain(..) {
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_passes_message_and_env() {
        let dir = nut_testkit::temp_dir();
        let out = dir.path().join("rec");
        let script = dir.path().join("rec.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >> {0}\n\
                 echo \" T=$NOTIFYTYPE U=$UPSNAME\" >> {0}\n",
                out.display()
            ),
        )
        .unwrap();
        let mut n = Notifier::new("upsmon-test");
        let flags = NotifyFlags { exec: true, ..Default::default() };
        let cmd = format!("/bin/sh {}", script.display());
        n.notify(
            flags,
            Some(&cmd),
            "ONBATT",
            Some("ups@localhost"),
            "UPS ups@localhost on battery",
        );
        n.wait_all();
        n.notify(flags, Some(&cmd), "SHUTDOWN", None, "a \"q\" $HOME `id`");
        assert!(nut_testkit::wait_until(
            std::time::Duration::from_secs(10),
            std::time::Duration::from_millis(10),
            || n.reap() == 0
        ));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "[UPS ups@localhost on battery] T=ONBATT U=ups@localhost\n\
             [a \"q\" $HOME `id`] T=SHUTDOWN U=\n"
        );
        // WALL: the message on the program's standard input.
        let wall_out = dir.path().join("wall");
        let wall = dir.path().join("wall.sh");
        std::fs::write(&wall, format!("#!/bin/sh\ncat > {}\n", wall_out.display())).unwrap();
        std::fs::set_permissions(&wall, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut n = Notifier::new("upsmon-test").with_wall_program(&wall);
        let flags = NotifyFlags { wall: true, ..Default::default() };
        n.notify(flags, Some(&cmd), "ONBATT", Some("u"), "UPS u on battery");
        n.wait_all();
        assert_eq!(std::fs::read_to_string(&wall_out).unwrap(), "UPS u on battery\n");
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2, "no EXEC");
        // No flags: nothing runs.
        n.notify(NotifyFlags::default(), Some(&cmd), "X", None, "m");
        assert_eq!(n.reap(), 0);
    }
}
