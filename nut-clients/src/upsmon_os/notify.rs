//! Notifications: syslog, `wall`, NOTIFYCMD, without blocking the caller.

use super::syslog::{self, Severity};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long one NOTIFYCMD may run before the next notification's starts
/// anyway (it keeps running, and is reaped later).
pub const EXEC_ORDER_WAIT: Duration = Duration::from_secs(10);

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
///
/// NOTIFYCMD runs one at a time, in the order the notifications were
/// raised, on a thread of its own: the next starts when the previous has
/// ended, or after [`EXEC_ORDER_WAIT`]. (NUT starts each at once, so two
/// raised together, such as LOWBATT and SHUTDOWN or ONBATT and ONLINE on
/// a flapping line, may reach the script, and upssched's timers, in
/// either order.) The caller never waits.
#[derive(Debug)]
pub struct Notifier {
    ident: String,
    children: Vec<Child>,
    /// The NOTIFYCMD thread's queue, started with the first NOTIFYCMD (so
    /// that it inherits the signal mask the caller set up by then).
    exec: Option<mpsc::Sender<Command>>,
    /// NOTIFYCMDs queued or running.
    exec_pending: Arc<AtomicUsize>,
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
            exec: None,
            exec_pending: Arc::new(AtomicUsize::new(0)),
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
                for k in &self.hide_env {
                    c.env_remove(k);
                }
                self.queue_exec(c);
            }
        }
    }

    /// Hands NOTIFYCMD to the thread that runs them in order.
    fn queue_exec(&mut self, c: Command) {
        if self.exec.is_none() {
            let (tx, rx) = mpsc::channel();
            let pending = self.exec_pending.clone();
            let started = std::thread::Builder::new()
                .name("notifycmd".into())
                .spawn(move || run_in_order(rx, &pending));
            match started {
                Ok(_) => self.exec = Some(tx),
                Err(e) => {
                    tracing::warn!("cannot run NOTIFYCMD: no thread: {e}");
                    return;
                }
            }
        }
        let Some(tx) = &self.exec else { return };
        self.exec_pending.fetch_add(1, Ordering::SeqCst);
        if tx.send(c).is_err() {
            self.exec_pending.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("cannot run NOTIFYCMD: its thread is gone");
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

    /// Reaps the `wall` processes that have ended; returns how many
    /// notifications are still running or queued. Call it once per poll
    /// loop.
    pub fn reap(&mut self) -> usize {
        self.children.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
        self.children.len() + self.exec_pending.load(Ordering::SeqCst)
    }

    /// Waits for every notification process (for tests and orderly exit),
    /// NOTIFYCMDs for at most [`EXEC_ORDER_WAIT`] each.
    pub fn wait_all(&mut self) {
        for mut c in self.children.drain(..) {
            let _ = c.wait();
        }
        let mut last = (self.exec_pending.load(Ordering::SeqCst), Instant::now());
        while last.0 > 0 && last.1.elapsed() < EXEC_ORDER_WAIT + Duration::from_secs(1) {
            std::thread::sleep(Duration::from_millis(2));
            let now = self.exec_pending.load(Ordering::SeqCst);
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
    }
}

/// The NOTIFYCMD thread: runs each command to its end (or for
/// [`EXEC_ORDER_WAIT`]) before the next, until the queue is dropped.
fn run_in_order(rx: mpsc::Receiver<Command>, pending: &AtomicUsize) {
    let mut late: Vec<Child> = Vec::new();
    for mut c in rx {
        match c.spawn() {
            Ok(mut child) => {
                let start = Instant::now();
                loop {
                    match child.try_wait() {
                        Ok(None) if start.elapsed() >= EXEC_ORDER_WAIT => {
                            tracing::warn!(
                                "NOTIFYCMD still running after {} s; the next one starts",
                                EXEC_ORDER_WAIT.as_secs()
                            );
                            late.push(child);
                            break;
                        }
                        // The script's own run time, sampled finely: a
                        // notification script takes milliseconds.
                        Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                        Ok(Some(_)) | Err(_) => break,
                    }
                }
            }
            Err(e) => tracing::warn!("cannot run NOTIFYCMD: {e}"),
        }
        late.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
        pending.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A NOTIFYCMD in `dir`: a shell script whose `body` appends to the
    /// file `{rec}`; returns the command and the record file's path.
    fn recorder(dir: &std::path::Path, body: &str) -> (String, std::path::PathBuf) {
        let out = dir.join("rec");
        let script = dir.join("rec.sh");
        let body = body.replace("{rec}", &out.display().to_string());
        std::fs::write(&script, format!("#!/bin/sh\n{body}")).unwrap();
        (format!("/bin/sh {}", script.display()), out)
    }

    #[test]
    fn exec_passes_message_and_env() {
        let dir = nut_testkit::temp_dir();
        let (cmd, out) = recorder(
            dir.path(),
            "for a in \"$@\"; do printf '[%s]' \"$a\"; done >> {rec}\n\
             echo \" T=$NOTIFYTYPE U=$UPSNAME\" >> {rec}\n",
        );
        let mut n = Notifier::new("upsmon-test");
        let flags = NotifyFlags { exec: true, ..Default::default() };
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

    /// A slow NOTIFYCMD does not let the next ones overtake it, and the
    /// caller is not held up meanwhile.
    #[test]
    fn notifycmds_run_in_the_order_raised() {
        let dir = nut_testkit::temp_dir();
        let (cmd, out) = recorder(
            dir.path(),
            "[ \"$NOTIFYTYPE\" = LOWBATT ] && sleep 1\necho \"$NOTIFYTYPE\" >> {rec}\n",
        );
        let flags = NotifyFlags { exec: true, ..Default::default() };
        let mut n = Notifier::new("upsmon-test");
        for kind in ["LOWBATT", "FSD", "SHUTDOWN"] {
            n.notify(flags, Some(&cmd), kind, Some("u"), kind);
        }
        // All three still pending: the caller did not wait for the first.
        assert_eq!(n.reap(), 3);
        n.wait_all();
        assert_eq!(n.reap(), 0);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "LOWBATT\nFSD\nSHUTDOWN\n");
    }
}
