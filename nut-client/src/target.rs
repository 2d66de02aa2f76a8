//! `upsname[@hostname[:port]]` and `hostname[:port]` as NUT's tools take them.

use nut_proto::net::DEFAULT_PORT;
use std::fmt;

/// Why a UPS or server address does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Nothing was given.
    #[error("empty address")]
    Empty,
    /// `@` with no UPS name before it.
    #[error("missing UPS name before '@'")]
    EmptyUps,
    /// No host name (after `@`, or inside `[]`).
    #[error("missing host name")]
    EmptyHost,
    /// `[` without a matching `]`.
    #[error("missing closing bracket in [address]")]
    UnclosedBracket,
    /// Text after `]` that is not `:port`.
    #[error("unexpected {0:?} after ']'")]
    AfterBracket(String),
    /// An IPv6 address without brackets (`ups@::1`): write `ups@[::1]`.
    #[error("IPv6 address {0:?} must be written in brackets, as [{0}]")]
    BareIpv6(String),
    /// The port is missing, not a number, or outside 1..=65535.
    #[error("bad port {0:?} (expected 1..=65535)")]
    BadPort(String),
}

/// A server address: host name or IP address, and port.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl HostPort {
    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults
    /// to 3493.
    ///
    /// ```
    /// use nut_client::HostPort;
    /// let a = HostPort::parse("[::1]:3494").unwrap();
    /// assert_eq!((a.host.as_str(), a.port), ("::1", 3494));
    /// assert_eq!(HostPort::parse("ups.example").unwrap().port, 3493);
    /// ```
    pub fn parse(s: &str) -> Result<HostPort, TargetError> {
        if s.is_empty() {
            return Err(TargetError::Empty);
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let Some((host, after)) = rest.split_once(']') else {
                return Err(TargetError::UnclosedBracket);
            };
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(p) => Some(p),
                    None => return Err(TargetError::AfterBracket(after.to_string())),
                },
            };
            (host, port)
        } else {
            match s.split_once(':') {
                Some((h, p)) if p.contains(':') => {
                    return Err(TargetError::BareIpv6(format!("{h}:{p}")));
                }
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            }
        };
        if host.is_empty() {
            return Err(TargetError::EmptyHost);
        }
        let port = match port {
            None => DEFAULT_PORT,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(TargetError::BadPort(p.to_string())),
            },
        };
        Ok(HostPort { host: host.to_string(), port })
    }

    /// `localhost:3493`, NUT's default server.
    pub fn localhost() -> HostPort {
        HostPort { host: "localhost".into(), port: DEFAULT_PORT }
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A UPS on a server: `upsname[@hostname[:port]]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpsTarget {
    /// The UPS name.
    pub ups: String,
    /// Where its `upsd` listens (default `localhost:3493`).
    pub server: HostPort,
}

impl UpsTarget {
    /// Parses `ups`, `ups@host`, `ups@host:port`, `ups@[v6]:port`.
    ///
    /// ```
    /// use nut_client::UpsTarget;
    /// let t = UpsTarget::parse("myups@[::1]:3493").unwrap();
    /// assert_eq!((t.ups.as_str(), t.server.host.as_str(), t.server.port), ("myups", "::1", 3493));
    /// assert!(UpsTarget::parse("myups@::1").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<UpsTarget, TargetError> {
        if s.is_empty() {
            return Err(TargetError::Empty);
        }
        let (ups, server) = match s.split_once('@') {
            Some((u, h)) => (
                u,
                HostPort::parse(h).map_err(|e| match e {
                    TargetError::Empty => TargetError::EmptyHost,
                    e => e,
                })?,
            ),
            None => (s, HostPort::localhost()),
        };
        if ups.is_empty() {
            return Err(TargetError::EmptyUps);
        }
        Ok(UpsTarget { ups: ups.to_string(), server })
    }
}

impl fmt::Display for UpsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.ups, self.server)
    }
}

impl std::str::FromStr for UpsTarget {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UpsTarget::parse(s)
    }
}

impl std::str::FromStr for HostPort {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HostPort::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let ok = |s: &str, u: &str, h: &str, p: u16| {
            let t = UpsTarget::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!((t.ups.as_str(), t.server.host.as_str(), t.server.port), (u, h, p), "{s}");
            assert_eq!(UpsTarget::parse(&t.to_string()).unwrap(), t);
        };
        ok("ups", "ups", "localhost", 3493);
        ok("ups@host", "ups", "host", 3493);
        ok("ups@host:1", "ups", "host", 1);
        ok("ups@127.0.0.1:65535", "ups", "127.0.0.1", 65535);
        ok("ups@[::1]", "ups", "::1", 3493);
        ok("ups@[::1]:3494", "ups", "::1", 3494);
        ok("ups@[fe80::1%eth0]:3494", "ups", "fe80::1%eth0", 3494);
        let err = |s: &str, e: TargetError| assert_eq!(UpsTarget::parse(s), Err(e), "{s}");
        err("", TargetError::Empty);
        err("@host", TargetError::EmptyUps);
        err("ups@", TargetError::EmptyHost);
        err("ups@:3493", TargetError::EmptyHost);
        err("ups@[]:1", TargetError::EmptyHost);
        err("ups@[::1", TargetError::UnclosedBracket);
        err("ups@[::1]x", TargetError::AfterBracket("x".into()));
        err("ups@::1", TargetError::BareIpv6("::1".into()));
        err("ups@host:", TargetError::BadPort("".into()));
        err("ups@host:0", TargetError::BadPort("0".into()));
        err("ups@host:65536", TargetError::BadPort("65536".into()));
        err("ups@host:12ab", TargetError::BadPort("12ab".into()));
        err("ups@host:+1", TargetError::BadPort("+1".into()));
    }
}
