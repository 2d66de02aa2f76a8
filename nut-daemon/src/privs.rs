//! Dropping root for the run user, and `chroot`, as NUT's daemons do.

use nix::unistd::{Gid, Uid, User};
use std::io;
use std::path::Path;

/// A system call of the switch that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrivError {
    /// The call: `setgroups`, `initgroups`, `setgid`, `setuid`, `chroot`,
    /// `chdir`.
    pub step: &'static str,
    /// What it returned.
    pub errno: nix::errno::Errno,
}

impl std::fmt::Display for PrivError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.errno)
    }
}

impl std::error::Error for PrivError {}

impl From<PrivError> for io::Error {
    fn from(e: PrivError) -> Self {
        io::Error::new(io::Error::from(e.errno).kind(), e)
    }
}

fn step(step: &'static str) -> impl Fn(nix::errno::Errno) -> PrivError {
    move |errno| PrivError { step, errno }
}

/// Which supplementary groups the run user keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Groups {
    /// Only the primary group (`setgroups([gid])`), as our upsd does.
    Primary,
    /// The user's groups from the group database (`initgroups`), as NUT's
    /// `become_user` does.
    FromDatabase,
}

/// Becomes `user`: supplementary groups, then the group, then the user.
/// Does nothing unless the effective or the real user is root.
pub fn switch_to(user: &User, groups: Groups) -> Result<(), PrivError> {
    switch_ids(&user.name, user.uid, user.gid, groups)
}

fn switch_ids(name: &str, uid: Uid, gid: Gid, groups: Groups) -> Result<(), PrivError> {
    use nix::unistd::{geteuid, getuid, initgroups, setgid, setgroups, setuid};
    if !geteuid().is_root() && !getuid().is_root() {
        return Ok(());
    }
    match groups {
        Groups::Primary => setgroups(&[gid]).map_err(step("setgroups"))?,
        Groups::FromDatabase => {
            let name = std::ffi::CString::new(name)
                .map_err(|_| PrivError { step: "initgroups", errno: nix::errno::Errno::EINVAL })?;
            initgroups(&name, gid).map_err(step("initgroups"))?;
        }
    }
    setgid(gid).map_err(step("setgid"))?;
    setuid(uid).map_err(step("setuid"))?;
    Ok(())
}

/// Becomes `user` (and its primary group, or `group` when given) when
/// running as root; does nothing otherwise or when `user` is root.
pub fn become_user(user: &str, group: Option<&str>) -> io::Result<()> {
    use nix::unistd::Group;
    if !Uid::effective().is_root() {
        return Ok(());
    }
    let u = User::from_name(user)
        .map_err(io::Error::from)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("user {user} not found")))?;
    let gid = match group {
        Some(g) => {
            Group::from_name(g)
                .map_err(io::Error::from)?
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("group {g} not found"))
                })?
                .gid
        }
        None => u.gid,
    };
    if u.uid.is_root() {
        return Ok(());
    }
    switch_ids(&u.name, u.uid, gid, Groups::Primary)?;
    Ok(())
}

/// Why [`run_as`] found no user to become.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunAsError {
    /// The password database could not be read.
    Lookup(nix::errno::Errno),
    /// No such user.
    NoSuchUser(String),
    /// Not root, and the user is someone else.
    NotRoot(String),
}

impl std::fmt::Display for RunAsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunAsError::Lookup(e) => write!(f, "{e}"),
            RunAsError::NoSuchUser(name) => write!(f, "no such user {name}"),
            RunAsError::NotRoot(name) => write!(f, "only root can switch to user {name}"),
        }
    }
}

impl std::error::Error for RunAsError {}

/// The user a daemon runs as, looked up before any chroot (the password
/// database is usually not inside it): `requested` (`-u`), else
/// `default_as_root` when started as root. `None`: stay who we are.
pub fn run_as(requested: Option<&str>, default_as_root: &str) -> Result<Option<User>, RunAsError> {
    let root = nix::unistd::geteuid().is_root();
    let name = match (requested, root) {
        (Some(u), _) => u,
        (None, true) => default_as_root,
        (None, false) => return Ok(None),
    };
    let user = User::from_name(name)
        .map_err(RunAsError::Lookup)?
        .ok_or_else(|| RunAsError::NoSuchUser(name.to_string()))?;
    if !root && user.uid != nix::unistd::geteuid() {
        return Err(RunAsError::NotRoot(name.to_string()));
    }
    Ok(Some(user))
}

/// `chroot` to `dir` and go to its `/`, as NUT's `-r` does before the
/// configuration is read.
pub fn enter_chroot(dir: &Path) -> Result<(), PrivError> {
    nix::unistd::chroot(dir).map_err(step("chroot"))?;
    nix::unistd::chdir("/").map_err(step("chdir"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_as_looks_users_up() {
        let me = nix::unistd::User::from_uid(nix::unistd::geteuid()).unwrap().unwrap();
        assert_eq!(run_as(Some(&me.name), "nut").unwrap().map(|u| u.uid), Some(me.uid));
        assert_eq!(
            run_as(Some("no-such-user-here"), "nut").unwrap_err(),
            RunAsError::NoSuchUser("no-such-user-here".into())
        );
        assert_eq!(RunAsError::NotRoot("x".into()).to_string(), "only root can switch to user x");
        let e = PrivError { step: "setuid", errno: nix::errno::Errno::EPERM };
        assert_eq!(e.to_string(), "setuid: EPERM: Operation not permitted");
    }
}
