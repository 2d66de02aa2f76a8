//! `upsd.users`: who may do what.
//!
//! ```text
//! [admin]
//!     password = secret
//!     actions = SET FSD
//!     instcmds = ALL
//! [monuser]
//!     password = pass
//!     upsmon primary
//! ```
//!
//! Sections name users (case-sensitive; a repeated name is ignored, the
//! first definition wins). `actions` and `instcmds` accumulate over lines;
//! `upsmon primary` (or `master`) grants `LOGIN`, `MASTER` and `FSD`,
//! `upsmon secondary` (or `slave`) grants `LOGIN`. Passwords are compared
//! in constant time and never appear in `Debug` output.

use super::conf::{ConfigProblem, Parsed};
use nut_proto::Secret;
use nut_proto::config;

/// What a user may do besides reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `SET VAR`.
    Set,
    /// `FSD`.
    Fsd,
    /// `LOGIN` (and RFC 9271's `ATTACH`).
    Login,
    /// `PRIMARY` / `MASTER`.
    Primary,
}

/// One user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The name, compared case-sensitively.
    pub name: String,
    /// The password; `None` when the file gives none (such a user can never
    /// be authenticated).
    pub password: Option<Secret<String>>,
    /// Granted actions (from `actions` and `upsmon`).
    pub actions: Vec<Action>,
    /// Allowed instant commands as written (`ALL` allows every command).
    pub instcmds: Vec<String>,
}

impl User {
    /// A user with a password and nothing else.
    pub fn new(name: impl Into<String>, password: impl Into<String>) -> Self {
        User {
            name: name.into(),
            password: Some(Secret::new(password.into())),
            actions: Vec::new(),
            instcmds: Vec::new(),
        }
    }

    /// A user with the rights of `upsmon primary` in `upsd.users`
    /// (`LOGIN`, `PRIMARY` and `FSD`): what a primary `upsmon` (or
    /// `nut_client::monitor`) logging in with it needs.
    pub fn upsmon_primary(name: impl Into<String>, password: impl Into<String>) -> Self {
        User::new(name, password)
            .with_action(Action::Login)
            .with_action(Action::Primary)
            .with_action(Action::Fsd)
    }

    /// A user with the rights of `upsmon secondary` (`LOGIN` only).
    pub fn upsmon_secondary(name: impl Into<String>, password: impl Into<String>) -> Self {
        User::new(name, password).with_action(Action::Login)
    }

    /// Adds an action (builder style).
    pub fn with_action(mut self, action: Action) -> Self {
        if !self.actions.contains(&action) {
            self.actions.push(action);
        }
        self
    }

    /// Adds an allowed instant command (builder style).
    pub fn with_instcmd(mut self, cmd: impl Into<String>) -> Self {
        self.instcmds.push(cmd.into());
        self
    }

    /// Whether the user may run this instant command.
    pub fn may_run(&self, cmd: &str) -> bool {
        self.instcmds.iter().any(|c| c.eq_ignore_ascii_case("all") || c.eq_ignore_ascii_case(cmd))
    }
}

/// Every user of `upsd.users`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Users {
    users: Vec<User>,
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

impl Users {
    /// No users: every privileged command is denied.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user; a name already present is ignored (NUT keeps the
    /// first definition).
    pub fn add(&mut self, user: User) {
        if self.get(&user.name).is_none() {
            self.users.push(user);
        }
    }

    /// A user by exact name.
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Every user, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &User> {
        self.users.iter()
    }

    /// The user with this name and password, if both match. The password
    /// comparison runs in constant time, and an unknown name costs as much
    /// as a wrong password.
    pub fn authenticate(&self, name: &str, password: &str) -> Option<&User> {
        match self.get(name) {
            Some(u) => {
                let stored = u.password.as_ref().map(|p| p.expose().as_str());
                let ok = constant_time_eq(stored.unwrap_or("").as_bytes(), password.as_bytes());
                (ok && stored.is_some()).then_some(u)
            }
            None => {
                constant_time_eq(b"\0no such user\0", password.as_bytes());
                None
            }
        }
    }

    /// Parses `upsd.users`. `file` names the file in messages.
    pub fn parse(file: &str, text: &[u8]) -> Parsed<Users> {
        let conf = config::parse(file, text);
        let mut problems: Vec<ConfigProblem> =
            conf.errors.iter().map(ConfigProblem::from_syntax).collect();
        let mut users = Users::new();
        for d in &conf.global {
            problems.push(ConfigProblem::warning(
                file,
                d.line,
                format!("'{}' outside of a [user] section ignored", d.key()),
            ));
        }
        for s in &conf.sections {
            if users.get(&s.name).is_some() {
                problems.push(ConfigProblem::warning(
                    file,
                    s.line,
                    format!("user [{}] is defined twice; the second definition is ignored", s.name),
                ));
                continue;
            }
            let mut user = User {
                name: s.name.clone(),
                password: None,
                actions: Vec::new(),
                instcmds: Vec::new(),
            };
            for d in &s.directives {
                let key = d.key().to_ascii_lowercase();
                let values = d.values();
                match key.as_str() {
                    "password" => match values {
                        [pw] if user.password.is_none() => {
                            user.password = Some(Secret::new(pw.clone()))
                        }
                        [_] => {}
                        _ => problems.push(ConfigProblem::error(
                            file,
                            d.line,
                            "password needs exactly one value".into(),
                        )),
                    },
                    "actions" => {
                        for a in values {
                            match a.to_ascii_lowercase().as_str() {
                                "set" => user = user.with_action(Action::Set),
                                "fsd" => user = user.with_action(Action::Fsd),
                                "login" => user = user.with_action(Action::Login),
                                "master" | "primary" => user = user.with_action(Action::Primary),
                                _ => problems.push(ConfigProblem::warning(
                                    file,
                                    d.line,
                                    format!("unknown action '{a}' ignored"),
                                )),
                            }
                        }
                    }
                    "instcmds" => user.instcmds.extend(values.iter().cloned()),
                    "upsmon" => match values {
                        [role] => match role.to_ascii_lowercase().as_str() {
                            "primary" | "master" => {
                                user = user
                                    .with_action(Action::Login)
                                    .with_action(Action::Primary)
                                    .with_action(Action::Fsd)
                            }
                            "secondary" | "slave" => user = user.with_action(Action::Login),
                            _ => problems.push(ConfigProblem::error(
                                file,
                                d.line,
                                format!("unknown upsmon role '{role}'"),
                            )),
                        },
                        _ => problems.push(ConfigProblem::error(
                            file,
                            d.line,
                            "upsmon needs one of primary, secondary".into(),
                        )),
                    },
                    "allowfrom" => problems.push(ConfigProblem::warning(
                        file,
                        d.line,
                        "allowfrom is obsolete and ignored".into(),
                    )),
                    _ => problems.push(ConfigProblem::warning(
                        file,
                        d.line,
                        format!("unrecognized user setting '{}' ignored", d.key()),
                    )),
                }
            }
            users.add(user);
        }
        Parsed { value: users, problems }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_users() {
        let text = b"[admin]\n password = \"a b\"\n actions = SET\n actions = fsd\n instcmds = ALL\n\
            [mon]\n password = p\n upsmon primary\n[sec]\n password=s\n upsmon = slave\n allowfrom = x\n\
            [admin]\n password = other\n";
        let p = Users::parse("upsd.users", text);
        let users = p.value;
        let admin = users.authenticate("admin", "a b").unwrap();
        assert_eq!(admin.actions, [Action::Set, Action::Fsd]);
        assert!(admin.may_run("load.off"));
        assert!(users.authenticate("admin", "other").is_none());
        assert!(users.authenticate("Admin", "a b").is_none());
        let mon = users.authenticate("mon", "p").unwrap();
        assert_eq!(mon.actions, [Action::Login, Action::Primary, Action::Fsd]);
        assert!(!mon.may_run("load.off"));
        assert_eq!(users.authenticate("sec", "s").unwrap().actions, [Action::Login]);
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
        assert!(p.problems.iter().all(|w| !w.fatal));
        assert!(p.problems[0].to_string().starts_with("upsd.users:12: "));
        // Secrets stay out of Debug.
        assert!(!format!("{users:?}").contains("a b"));
    }

    #[test]
    fn ct_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abc\0"));
        assert!(!constant_time_eq(b"", b"\0"));
        assert!(constant_time_eq(b"", b""));
    }
}
