//! Descriptions of variables and instant commands (`GET DESC`, `GET
//! CMDDESC`), read from a file in NUT's `cmdvartab` format:
//!
//! ```text
//! VARDESC ups.status "UPS status"
//! CMDDESC load.off "Turn off the load immediately"
//! ```
//!
//! The table itself is not part of this crate; `upsd` reads NUT's from
//! `DATAPATH` (Debian installs it as `/usr/share/nut/cmdvartab`).

use nut_proto::config;
use std::collections::HashMap;

/// Variable and command descriptions, looked up case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Descriptions {
    vars: HashMap<String, String>,
    cmds: HashMap<String, String>,
}

impl Descriptions {
    /// No descriptions: every lookup answers "Description unavailable".
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a `cmdvartab` file. Malformed lines are skipped; the first
    /// description of a name wins.
    pub fn parse(text: &[u8]) -> Self {
        let conf = config::parse("cmdvartab", text);
        let mut d = Descriptions::new();
        for (_, dir) in conf.directives() {
            if let [kind, name, desc, ..] = dir.words.as_slice() {
                match kind.as_str() {
                    "VARDESC" => d.add_var(name, desc),
                    "CMDDESC" => d.add_cmd(name, desc),
                    _ => {}
                }
            }
        }
        d
    }

    /// Adds a variable description (the first one of a name wins).
    pub fn add_var(&mut self, name: &str, desc: &str) {
        self.vars.entry(name.to_ascii_lowercase()).or_insert_with(|| desc.to_string());
    }

    /// Adds a command description (the first one of a name wins).
    pub fn add_cmd(&mut self, name: &str, desc: &str) {
        self.cmds.entry(name.to_ascii_lowercase()).or_insert_with(|| desc.to_string());
    }

    /// The description of a variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// The description of an instant command.
    pub fn cmd(&self, name: &str) -> Option<&str> {
        self.cmds.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let d = Descriptions::parse(
            b"# c\nVARDESC ups.status \"UPS status\"\nCMDDESC load.off \"Off\"\nVARDESC x\nVARDESC ups.status \"again\"\n",
        );
        assert_eq!(d.var("UPS.STATUS"), Some("UPS status"));
        assert_eq!(d.cmd("load.off"), Some("Off"));
        assert_eq!(d.var("x"), None);
    }
}
