//! Adapters that carry out a [`Monitor`]'s network actions: connecting to
//! each `upsd` (with backoff), `USERNAME`/`PASSWORD`, `LOGIN`, `PRIMARY`,
//! polling `ups.status`, `FSD`, `NUMLOGINS`, `LOGOUT`. Everything else
//! ([`Action::Notify`], [`Action::Alert`], [`Action::Log`],
//! [`Action::Shutdown`]) is handed to the caller, who decides how to
//! notify and how to shut down.
//!
//! [`blocking::Runner`] (feature `blocking`) and [`tokio::Runner`] (feature
//! `tokio`) have the same methods; the tokio ones are `async`.
//!
//! ```no_run
//! # #[cfg(feature = "blocking")] {
//! use nut_client::monitor::{Action, Monitor, MonitorDef, Role, UpsmonConf, io::blocking::Runner};
//! use std::time::Instant;
//!
//! let conf = UpsmonConf::default()
//!     .with_monitor(MonitorDef::new("myups@localhost", 1, "monuser", "secret", Role::Primary)?);
//! let mut runner = Runner::new(Monitor::new(conf, Instant::now()));
//! loop {
//!     match runner.next_action() {
//!         Action::Notify(n) => println!("{}", n.message),
//!         Action::Shutdown => break,
//!         _ => {}
//!     }
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{Action, Monitor, PollFailure, Role, UpsId, UpsmonConf};
use crate::HostPort;
use crate::io::{Backoff, ConnectOptions};
use std::time::{Duration, Instant};

/// The longest a runner sleeps between two looks at the monitor.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// The connection options of a server, from the monitor's configuration
/// in force (so that a reload applies): the default ones unless
/// `Runner::with_connect_options` says otherwise (timeouts, TLS per host
/// from [`UpsmonConf::tls`]).
type OptionsFn = Box<dyn Fn(&UpsmonConf, &HostPort) -> ConnectOptions + Send>;

fn default_options() -> OptionsFn {
    Box::new(|_, _| ConnectOptions::default())
}

/// Generates a runner over one client adapter: `(blocking Client; ;)` or
/// `(tokio Client; async; .await)`.
macro_rules! runner {
    ($client:ty; $($async:ident)?; $($await:tt)*) => {
        /// One connection to a monitored UPS.
        #[derive(Debug)]
        struct Link {
            client: Option<$client>,
            backoff: Backoff,
            retry_at: Option<Instant>,
        }

        /// A [`Monitor`] with its connections. See the [module](super)
        /// documentation.
        pub struct Runner {
            monitor: Monitor,
            links: std::collections::HashMap<UpsId, Link>,
            options: OptionsFn,
        }

        impl std::fmt::Debug for Runner {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Runner").field("monitor", &self.monitor).finish_non_exhaustive()
            }
        }

        impl Runner {
            /// A runner for `monitor`; nothing is connected yet.
            pub fn new(monitor: Monitor) -> Self {
                Runner { monitor, links: Default::default(), options: default_options() }
            }

            /// The connection options for each server (timeouts, TLS), from
            /// the configuration in force and the server.
            pub fn with_connect_options(
                mut self,
                f: impl Fn(&UpsmonConf, &HostPort) -> ConnectOptions + Send + 'static,
            ) -> Self {
                self.options = Box::new(f);
                self
            }

            /// The state machine.
            pub fn monitor(&self) -> &Monitor {
                &self.monitor
            }

            /// The state machine, to feed it events of the caller's own
            /// (`request_fsd`, `reload`, `handle_parent_gone`).
            pub fn monitor_mut(&mut self) -> &mut Monitor {
                &mut self.monitor
            }

            /// Handles a due timeout, carries out every network action,
            /// and returns the first action left to the caller, or `None`
            /// when there is none before [`next_wakeup`](Self::next_wakeup).
            pub $($async)? fn poll_action(&mut self) -> Option<Action> {
                let now = Instant::now();
                if self.monitor.poll_timeout().is_some_and(|t| t <= now) {
                    self.monitor.handle_timeout(now);
                }
                while let Some(a) = self.monitor.poll_action() {
                    match a {
                        Action::Poll(id) => self.poll(id) $($await)*,
                        Action::SendFsd(id) => {
                            let system = self.system(id);
                            tracing::debug!("Setting FSD on UPS {system}");
                            if let Err(e) = self.with_client(id, Op::Fsd) $($await)* {
                                let why = e.map_or_else(|| "not connected".into(), |e| e.to_string());
                                tracing::error!("FSD set on UPS {system} failed: {why}");
                            }
                        }
                        Action::QueryNumLogins(id) => {
                            let n = match self.with_client(id, Op::NumLogins) $($await)* {
                                Ok(n) => n,
                                Err(_) => None,
                            };
                            self.monitor.handle_numlogins(id, Instant::now(), n);
                        }
                        Action::Disconnect(id) => {
                            if let Some(mut c) = self.links.remove(&id).and_then(|l| l.client) {
                                let _ = c.logout() $($await)*;
                            }
                        }
                        other => return Some(other),
                    }
                }
                None
            }

            /// When [`poll_action`](Self::poll_action) has something to do
            /// next (at most a second ahead).
            pub fn next_wakeup(&self) -> Instant {
                let cap = Instant::now() + MAX_WAIT;
                self.monitor.poll_timeout().map_or(cap, |t| t.min(cap))
            }

            /// Waits for the next action left to the caller, carrying out
            /// the network ones on the way.
            pub $($async)? fn next_action(&mut self) -> Action {
                loop {
                    if let Some(a) = self.poll_action() $($await)* {
                        return a;
                    }
                    sleep_until(self.next_wakeup()) $($await)*;
                }
            }

            /// Carries out the monitor's actions until [`Action::Shutdown`],
            /// handing every other one left to the caller (notifications,
            /// alerts, log lines) to `on_action`, then logs out from every
            /// server. Shutting the system down is the caller's part.
            pub $($async)? fn run_until_shutdown(&mut self, mut on_action: impl FnMut(Action)) {
                loop {
                    match self.next_action() $($await)* {
                        Action::Shutdown => break,
                        a => on_action(a),
                    }
                }
                self.logout_all() $($await)*;
            }

            /// `LOGOUT` from every server (before exiting).
            pub $($async)? fn logout_all(&mut self) {
                for (_, link) in self.links.drain() {
                    if let Some(mut c) = link.client {
                        let _ = c.logout() $($await)*;
                    }
                }
            }

            /// The `MONITOR` system name of `id`, for log lines.
            fn system(&self, id: UpsId) -> String {
                self.monitor.ups(id).map(|u| u.def().system.clone()).unwrap_or_default()
            }

            /// Connects (and logs in) if needed; false when not connected.
            $($async)? fn ensure(&mut self, id: UpsId) -> bool {
                let Some(def) = self.monitor.ups(id).map(|u| u.def().clone()) else {
                    return false;
                };
                let link = self.links.entry(id).or_insert_with(|| Link {
                    client: None,
                    backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
                    retry_at: None,
                });
                if link.client.is_some() {
                    return true;
                }
                if link.retry_at.is_some_and(|t| Instant::now() < t) {
                    return false;
                }
                let system = &def.system;
                tracing::debug!("Trying to connect to UPS [{system}]");
                let opts = (self.options)(self.monitor.conf(), &def.target.server);
                let mut c = match <$client>::connect(&def.target.server, opts) $($await)* {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!("UPS [{system}]: connect failed: {e}");
                        link.retry_at = Some(Instant::now() + link.backoff.next_delay());
                        return false;
                    }
                };
                link.backoff.reset();
                link.retry_at = None;
                // As NUT: a failed login is logged; the connection still polls.
                let mut login = c.authenticate(&def.user, def.password.expose()) $($await)*;
                if login.is_ok() {
                    login = c.login(&def.target.ups) $($await)*;
                }
                match login {
                    Ok(()) => tracing::debug!("Logged into UPS {system}"),
                    Err(e) => tracing::error!("Login to UPS [{system}] failed: {e}"),
                }
                if def.role == Role::Primary {
                    if let Err(e) = c.primary(&def.target.ups) $($await)* {
                        tracing::error!(
                            "Primary managerial privileges unavailable on UPS [{system}]: {e}"
                        );
                    }
                }
                if c.is_broken() {
                    return false;
                }
                link.client = Some(c);
                true
            }

            $($async)? fn with_client(
                &mut self,
                id: UpsId,
                op: Op,
            ) -> Result<Option<u32>, Option<crate::ClientError>> {
                if !(self.ensure(id) $($await)*) {
                    return Err(None);
                }
                let ups = self.monitor.ups(id).map(|u| u.def().target.ups.clone()).unwrap_or_default();
                let link = self.links.get_mut(&id).ok_or(None)?;
                let c = link.client.as_mut().ok_or(None)?;
                let r = match op {
                    Op::Status => match c.get_var(&ups, "ups.status") $($await)* {
                        Ok(s) => {
                            self.monitor.handle_status(id, Instant::now(), &s);
                            Ok(None)
                        }
                        Err(e) => Err(e),
                    },
                    Op::Fsd => c.fsd(&ups) $($await)*.map(|()| None),
                    Op::NumLogins => c.get_num_logins(&ups) $($await)*.map(Some),
                };
                if c.is_broken() {
                    link.client = None;
                }
                r.map_err(Some)
            }

            $($async)? fn poll(&mut self, id: UpsId) {
                let was_connected = self.links.get(&id).is_some_and(|l| l.client.is_some());
                let why = match self.with_client(id, Op::Status) $($await)* {
                    Ok(_) => return,
                    Err(None) if was_connected => PollFailure::ConnectionLost,
                    Err(None) => PollFailure::ConnectFailed,
                    Err(Some(e)) => {
                        tracing::error!("Poll UPS [{}] failed - {e}", self.system(id));
                        if self.links.get(&id).is_none_or(|l| l.client.is_none()) {
                            PollFailure::ConnectionLost
                        } else {
                            PollFailure::ServerError
                        }
                    }
                };
                self.monitor.handle_poll_failure(id, Instant::now(), why);
            }
        }
    };
}

/// What `with_client` does on the connection.
#[cfg(any(feature = "blocking", feature = "tokio"))]
#[derive(Clone, Copy)]
enum Op {
    Status,
    Fsd,
    NumLogins,
}

/// The runner over [`io::blocking::Client`](crate::io::blocking::Client).
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking {
    use super::*;
    use crate::io::blocking::Client;

    fn sleep_until(t: Instant) {
        std::thread::sleep(t.saturating_duration_since(Instant::now()));
    }

    runner!(Client; ;);
}

/// The runner over [`io::tokio::Client`](crate::io::tokio::Client).
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio {
    use super::*;
    use crate::io::tokio::Client;

    async fn sleep_until(t: Instant) {
        ::tokio::time::sleep_until(t.into()).await;
    }

    runner!(Client; async; .await);
}
