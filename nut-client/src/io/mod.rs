//! I/O adapters that drive a [`Session`](crate::Session) and the
//! [operations](crate::ops) over a real connection. Both adapters run the
//! same operations; they differ only in how they wait.

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

use crate::session::Limits;
use std::time::Duration;

/// How to connect and how long to wait.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Time allowed for each TCP connection attempt (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for each read and write (default 5 s, as NUT's client
    /// library).
    pub io_timeout: Duration,
    /// Memory bounds of the session.
    pub limits: Limits,
    /// STARTTLS settings (off by default).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: crate::tls::TlsOptions,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(5),
            limits: Limits::default(),
            #[cfg(feature = "tls")]
            tls: crate::tls::TlsOptions::default(),
        }
    }
}

impl ConnectOptions {
    /// Sets both timeouts.
    pub fn with_timeouts(mut self, connect: Duration, io: Duration) -> Self {
        self.connect_timeout = connect;
        self.io_timeout = io;
        self
    }

    /// Sets the session limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the STARTTLS settings: `connect` then sends `STARTTLS` and
    /// completes the TLS handshake before returning the client.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_tls(mut self, tls: crate::tls::TlsOptions) -> Self {
        self.tls = tls;
        self
    }
}

/// Exponential backoff between reconnection attempts: `initial`, doubled
/// after every failure up to `max`, back to `initial` after a success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

impl Backoff {
    /// Starts at `initial`, never exceeds `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { initial, max: max.max(initial), next: initial }
    }

    /// The delay before the next attempt; the one after it is doubled.
    ///
    /// ```
    /// use nut_client::io::Backoff;
    /// use std::time::Duration;
    /// let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(3));
    /// let d: Vec<u64> = (0..4).map(|_| b.next_delay().as_secs()).collect();
    /// assert_eq!(d, [1, 2, 3, 3]);
    /// b.reset();
    /// assert_eq!(b.next_delay(), Duration::from_secs(1));
    /// ```
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    /// Back to the initial delay (after a successful connection).
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

/// Generates the typed methods of a client on top of its `run`, for the
/// blocking (`typed_methods!(;)`) and async (`typed_methods!(async; .await)`)
/// adapters alike.
#[cfg(any(feature = "blocking", feature = "tokio"))]
macro_rules! typed_methods {
    ($($async:ident)? ; $($await:tt)*) => {
        /// `VER`: the server's banner.
        pub $($async)? fn ver(&mut self) -> Result<String, ClientError> {
            self.run(ops::ver()) $($await)*
        }
        /// `PROTVER`: the protocol version.
        pub $($async)? fn protver(&mut self) -> Result<String, ClientError> {
            self.run(ops::protver()) $($await)*
        }
        /// `LIST UPS`.
        pub $($async)? fn list_ups(&mut self) -> Result<Vec<ops::UpsInfo>, ClientError> {
            self.run(ops::list_ups()) $($await)*
        }
        /// `LIST VAR <ups>`.
        pub $($async)? fn list_vars(&mut self, ups: &str) -> Result<Vec<ops::Var>, ClientError> {
            self.run(ops::list_vars(ups)) $($await)*
        }
        /// `LIST RW <ups>`.
        pub $($async)? fn list_rw(&mut self, ups: &str) -> Result<Vec<ops::Var>, ClientError> {
            self.run(ops::list_rw(ups)) $($await)*
        }
        /// `LIST CMD <ups>`.
        pub $($async)? fn list_cmds(&mut self, ups: &str) -> Result<Vec<String>, ClientError> {
            self.run(ops::list_cmds(ups)) $($await)*
        }
        /// `LIST CLIENT <ups>`.
        pub $($async)? fn list_clients(&mut self, ups: &str) -> Result<Vec<String>, ClientError> {
            self.run(ops::list_clients(ups)) $($await)*
        }
        /// Every variable with type, description, enums and ranges.
        pub $($async)? fn describe_vars(&mut self, ups: &str) -> Result<Vec<ops::VarInfo>, ClientError> {
            self.run(ops::describe_vars(ups)) $($await)*
        }
        /// Every writable variable with type, description, enums and ranges.
        pub $($async)? fn describe_rw(&mut self, ups: &str) -> Result<Vec<ops::VarInfo>, ClientError> {
            self.run(ops::describe_rw(ups)) $($await)*
        }
        /// Every instant command with its description.
        pub $($async)? fn describe_cmds(&mut self, ups: &str) -> Result<Vec<ops::CmdInfo>, ClientError> {
            self.run(ops::describe_cmds(ups)) $($await)*
        }
        /// `GET VAR <ups> <var>`.
        pub $($async)? fn get_var(&mut self, ups: &str, var: &str) -> Result<String, ClientError> {
            self.run(ops::get_var(ups, var)) $($await)*
        }
        /// `GET NUMLOGINS <ups>`.
        pub $($async)? fn get_num_logins(&mut self, ups: &str) -> Result<u32, ClientError> {
            self.run(ops::get_num_logins(ups)) $($await)*
        }
        /// `FSD <ups>`.
        pub $($async)? fn fsd(&mut self, ups: &str) -> Result<(), ClientError> {
            self.run(ops::fsd(ups)) $($await)*
        }
        /// `SET VAR`: the tracking id when tracking is on.
        pub $($async)? fn set_var(&mut self, ups: &str, var: &str, value: &str) -> Result<Option<String>, ClientError> {
            self.run(ops::set_var(ups, var, value)) $($await)*
        }
        /// `INSTCMD`: the tracking id when tracking is on.
        pub $($async)? fn instcmd(&mut self, ups: &str, cmd: &str, param: Option<&str>) -> Result<Option<String>, ClientError> {
            self.run(ops::instcmd(ups, cmd, param)) $($await)*
        }
        /// `SET VAR`, then (with `TRACKING` on) polls `GET TRACKING` until
        /// the driver's outcome or `opts.timeout`.
        pub $($async)? fn set_var_wait(&mut self, ups: &str, var: &str, value: &str, opts: ops::WaitOptions) -> Result<ops::TrackingStatus, ClientError> {
            self.run(ops::set_var_wait(ups, var, value, opts)) $($await)*
        }
        /// `INSTCMD`, then (with `TRACKING` on) polls `GET TRACKING` until
        /// the driver's outcome or `opts.timeout`.
        pub $($async)? fn instcmd_wait(&mut self, ups: &str, cmd: &str, param: Option<&str>, opts: ops::WaitOptions) -> Result<ops::TrackingStatus, ClientError> {
            self.run(ops::instcmd_wait(ups, cmd, param, opts)) $($await)*
        }
        /// Sends one command and returns its answer as data.
        pub $($async)? fn request(&mut self, cmd: Command<'static>) -> Result<Response, ClientError> {
            self.run(ops::request(cmd)) $($await)*
        }
    };
}
#[cfg(any(feature = "blocking", feature = "tokio"))]
pub(crate) use typed_methods;

/// The methods that change the state of one connection (its login, its
/// user), which a [`Reconnecting`](blocking::Reconnecting) client cannot keep
/// across a reconnection: `Client` only.
#[cfg(any(feature = "blocking", feature = "tokio"))]
macro_rules! connection_methods {
    ($($async:ident)? ; $($await:tt)*) => {
        /// `USERNAME` and `PASSWORD`.
        pub $($async)? fn authenticate(&mut self, user: &str, password: &str) -> Result<(), ClientError> {
            self.run(ops::authenticate(user, password)) $($await)*.map(drop)
        }
        /// `LOGIN <ups>`.
        pub $($async)? fn login(&mut self, ups: &str) -> Result<(), ClientError> {
            self.run(ops::login(ups)) $($await)*
        }
        /// `PRIMARY <ups>`, or `MASTER <ups>` on older servers.
        pub $($async)? fn primary(&mut self, ups: &str) -> Result<(), ClientError> {
            self.run(ops::primary(ups)) $($await)*
        }
        /// `LOGOUT` (the server then closes the connection).
        pub $($async)? fn logout(&mut self) -> Result<(), ClientError> {
            self.run(ops::logout()) $($await)*
        }
    };
}
#[cfg(any(feature = "blocking", feature = "tokio"))]
pub(crate) use connection_methods;
