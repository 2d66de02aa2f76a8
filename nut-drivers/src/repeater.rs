//! `dummy-ups` repeater mode: relays a UPS served by another NUT server
//! (`port = ups@host[:port]`) through `nut-client`'s blocking client.
//!
//! Each update lists the UPS's variables (`LIST VAR`) and its commands
//! (`LIST CMD`) and republishes them with `dummy-ups`'s rules, except
//! `driver.*`. `SET` and `INSTCMD` are forwarded (NUT 2.8 does not), with
//! the `username`/`password` settings when given. A lost connection makes
//! the data stale and is retried on every update.

use crate::dummy::set_dummy_var;
use nut_client::io::ConnectOptions;
use nut_client::io::blocking::Client;
use nut_client::{ClientError, UpsTarget, ops};
use nut_driver::{DeviceError, Dstate, Message};
use nut_proto::net::ErrCode;
use nut_proto::secret::Secret;
use nut_proto::sock::TrackingResult;
use std::collections::BTreeSet;
use std::time::Duration;

/// How long a connect, read or write to the repeated server may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The target of a repeater: `ups[@host[:port]]` (NUT's `upscli_splitname`).
pub type Target = UpsTarget;

fn options() -> ConnectOptions {
    let mut o = ConnectOptions::default();
    o.connect_timeout = IO_TIMEOUT;
    o.io_timeout = IO_TIMEOUT;
    o
}

/// The repeater device part of `dummy-ups`.
#[derive(Debug)]
pub struct Repeater {
    target: Target,
    username: Option<String>,
    password: Option<Secret<String>>,
    lenient_start: bool,
    conn: Option<Client>,
    cmds: BTreeSet<String>,
}

fn unavailable(e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Stale(Message::cause(e.to_string()))
}

impl Repeater {
    /// A repeater of `port` (`ups@host[:port]`).
    pub fn new(
        port: &str,
        username: Option<String>,
        password: Option<String>,
        lenient_start: bool,
    ) -> Result<Repeater, DeviceError> {
        let target = UpsTarget::parse(port).map_err(|_| {
            DeviceError::Fatal(Message::cause(
                "invalid UPS definition, required format: upsname[@hostname[:port]]",
            ))
        })?;
        Ok(Repeater {
            target,
            username,
            password: password.map(Secret::new),
            lenient_start,
            conn: None,
            cmds: BTreeSet::new(),
        })
    }

    /// The repeated UPS.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Connects and reads everything once. Fails unless
    /// `repeater_disable_strict_start` is set.
    pub fn open(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        match self.update(st) {
            Err(e) if !self.lenient_start => Err(DeviceError::Fatal(Message::cause(e.to_string()))),
            _ => Ok(()),
        }
    }

    /// Reads the remote UPS and republishes it.
    pub fn update(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        let r = self.try_update(st);
        if r.is_err() {
            self.conn = None;
        }
        r
    }

    fn client(&mut self) -> Result<&mut Client, DeviceError> {
        if self.conn.is_none() {
            let c = Client::connect(&self.target.server, options())
                .map_err(|e| unavailable(format!("{}: {e}", self.target.server)))?;
            self.conn = Some(c);
        }
        self.conn.as_mut().ok_or_else(|| unavailable("not connected"))
    }

    fn try_update(&mut self, st: &mut Dstate) -> Result<(), DeviceError> {
        let ups = self.target.ups.clone();
        let client = self.client()?;
        let vars = client
            .run(ops::list_vars(&ups))
            .map_err(|e| unavailable(format!("LIST VAR {ups}: {e}")))?;
        // An old server may not know LIST CMD; the variables still count.
        let cmds: BTreeSet<String> = match client.run(ops::list_cmds(&ups)) {
            Ok(c) => c.into_iter().collect(),
            Err(ClientError::Server { .. }) => BTreeSet::new(),
            Err(e) => return Err(unavailable(format!("LIST CMD {ups}: {e}"))),
        };
        for v in &vars {
            if !v.name.starts_with("driver.") {
                set_dummy_var(st, &v.name, &v.value);
            }
        }
        if !cmds.is_empty() {
            for gone in self.cmds.difference(&cmds) {
                st.delcmd(gone);
            }
            for c in &cmds {
                st.addcmd(c);
            }
            self.cmds = cmds;
        }
        Ok(())
    }

    /// Sends one request on a fresh connection (credentials are per
    /// connection), logging in first when credentials are configured.
    fn forward(&mut self, op: ops::Single<Option<String>>) -> TrackingResult {
        let r = (|| -> Result<(), ClientError> {
            let mut c = Client::connect(&self.target.server, options())?;
            if let Some(u) = &self.username {
                let _ = c.run(ops::username(u));
            }
            if let Some(p) = &self.password {
                let _ = c.run(ops::password(p.expose()));
            }
            let r = c.run(op).map(|_| ());
            let _ = c.run(ops::logout());
            r
        })();
        match r {
            Ok(()) => TrackingResult::Handled,
            Err(ClientError::Server { code, .. }) => match code {
                ErrCode::CmdNotSupported | ErrCode::VarNotSupported | ErrCode::UnknownUps => {
                    TrackingResult::Unknown
                }
                ErrCode::InvalidValue | ErrCode::InvalidArgument | ErrCode::TooLong => {
                    TrackingResult::Invalid
                }
                _ => TrackingResult::Failed,
            },
            Err(_) => TrackingResult::Failed,
        }
    }

    /// Forwards a `SET`.
    pub fn setvar(&mut self, var: &str, value: &str) -> TrackingResult {
        let ups = self.target.ups.clone();
        self.forward(ops::set_var(&ups, var, value))
    }

    /// Forwards an `INSTCMD`.
    pub fn instcmd(&mut self, cmd: &str, param: Option<&str>) -> TrackingResult {
        let ups = self.target.ups.clone();
        self.forward(ops::instcmd(&ups, cmd, param))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = |s| Target::parse(s).ok().map(|t| (t.ups, t.server.host, t.server.port));
        assert_eq!(t("ups"), Some(("ups".into(), "localhost".into(), 3493)));
        assert_eq!(t("ups@h"), Some(("ups".into(), "h".into(), 3493)));
        assert_eq!(t("ups@127.0.0.1:5000"), Some(("ups".into(), "127.0.0.1".into(), 5000)));
        assert_eq!(t("ups@[::1]:5000"), Some(("ups".into(), "::1".into(), 5000)));
        assert_eq!(t("ups@h:x"), None);
        assert_eq!(t("@h"), None);
    }
}
