//! NUT's directories, from the environment first as NUT's programs take
//! them, then Debian's defaults; and NUT's check of secret files.

use std::path::{Path, PathBuf};

/// Where Debian's NUT keeps its configuration.
pub const DEFAULT_CONFPATH: &str = "/etc/nut";
/// Where Debian's NUT keeps driver sockets and PID files.
pub const DEFAULT_STATEPATH: &str = "/run/nut";
/// Where Debian's NUT writes the PID files of its root programs (NUT's
/// `PIDPATH`).
pub const DEFAULT_PIDPATH: &str = "/run/nut";
/// Where Debian's NUT installs drivers.
pub const DEFAULT_DRIVERPATH: &str = "/lib/nut";

/// The environment variable `name` as a path, when it is set and not
/// empty.
pub fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The configuration directory: `NUT_CONFPATH`, else [`DEFAULT_CONFPATH`].
pub fn confpath() -> PathBuf {
    env_path("NUT_CONFPATH").unwrap_or_else(|| DEFAULT_CONFPATH.into())
}

/// The state directory: `NUT_STATEPATH`, else the configured `statepath`
/// (ups.conf), else [`DEFAULT_STATEPATH`].
pub fn statepath(from_conf: Option<&str>) -> PathBuf {
    env_path("NUT_STATEPATH")
        .or_else(|| from_conf.map(PathBuf::from))
        .unwrap_or_else(|| DEFAULT_STATEPATH.into())
}

/// The PID file directory of the programs that run as the NUT user:
/// `NUT_ALTPIDPATH`, else [`statepath`].
pub fn altpidpath(from_conf: Option<&str>) -> PathBuf {
    env_path("NUT_ALTPIDPATH").unwrap_or_else(|| statepath(from_conf))
}

/// The PID file directory of the programs started as root (`upsmon`,
/// `upslog`): `NUT_PIDPATH` (as NUT after 2.8.0), else `NUT_ALTPIDPATH`,
/// else `NUT_STATEPATH`, else [`DEFAULT_PIDPATH`].
pub fn pidpath() -> PathBuf {
    ["NUT_PIDPATH", "NUT_ALTPIDPATH", "NUT_STATEPATH"]
        .iter()
        .find_map(|name| env_path(name))
        .unwrap_or_else(|| DEFAULT_PIDPATH.into())
}

/// NUT's check of a file that holds secrets (or of a directory): the
/// warning `"<path> is world readable"` when others may read (or, for a
/// directory, enter) it. `None` when it is private or cannot be examined.
pub fn world_readable_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o005 != 0).then(|| format!("{} is world readable", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_readable_is_others_read_or_search() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("upsd.users");
        std::fs::write(&f, "").unwrap();
        let set = |m| std::fs::set_permissions(&f, std::fs::Permissions::from_mode(m)).unwrap();
        set(0o640);
        assert_eq!(world_readable_warning(&f), None);
        set(0o644);
        assert_eq!(world_readable_warning(&f), Some(format!("{} is world readable", f.display())));
        set(0o601);
        assert!(world_readable_warning(&f).is_some());
        assert_eq!(world_readable_warning(&dir.path().join("missing")), None);
    }
}
