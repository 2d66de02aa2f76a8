//! POWERDOWNFLAG: the file that tells the shutdown scripts to kill UPS power.

use std::io;
use std::path::Path;

/// What upsmon writes into POWERDOWNFLAG (20 bytes, no newline).
pub const MAGIC: &[u8] = b"upsmon-shutdown-file";

/// What is at the POWERDOWNFLAG path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagStatus {
    /// No file (or no POWERDOWNFLAG configured).
    Absent,
    /// A file that starts with [`MAGIC`]: ours.
    Set,
    /// A file with other content (or unreadable): not ours, never touched.
    Foreign,
}

/// Looks at the flag file as NUT does: it is ours when its first line
/// starts with [`MAGIC`].
pub fn status(path: &Path) -> FlagStatus {
    match std::fs::read(path) {
        Ok(bytes) if bytes.starts_with(MAGIC) => FlagStatus::Set,
        Ok(_) => FlagStatus::Foreign,
        Err(e) if e.kind() == io::ErrorKind::NotFound => FlagStatus::Absent,
        Err(_) => FlagStatus::Foreign,
    }
}

/// Creates (or truncates) the flag file with exactly [`MAGIC`].
pub fn create(path: &Path) -> io::Result<()> {
    std::fs::write(path, MAGIC)
}

/// `upsmon -K`: exit code 0 when the flag file exists with the magic text,
/// else 1 (absent, foreign, or no POWERDOWNFLAG configured). Logs NUT's
/// messages.
pub fn check(path: Option<&Path>) -> i32 {
    let Some(path) = path else {
        tracing::error!("Power down flag is not set");
        return 1;
    };
    match status(path) {
        FlagStatus::Set => {
            tracing::info!("Power down flag is set");
            0
        }
        FlagStatus::Absent => {
            tracing::error!("Power down flag is not set");
            1
        }
        FlagStatus::Foreign => {
            tracing::error!(
                "POWERDOWNFLAG ({}) does not contain the upsmon magic string",
                path.display()
            );
            1
        }
    }
}

/// Startup: removes a flag left by a previous shutdown. Returns the path
/// to keep using, or `None` (POWERDOWNFLAG disabled, with an error logged)
/// when the file exists but is not ours.
pub fn clear_at_startup(path: &Path) -> Option<&Path> {
    match status(path) {
        FlagStatus::Absent => Some(path),
        FlagStatus::Set => {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::error!("cannot remove {}: {e}", path.display());
            }
            Some(path)
        }
        FlagStatus::Foreign => {
            tracing::error!(
                "POWERDOWNFLAG ({}) does not contain the upsmon magic string - disabling!",
                path.display()
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_check_clear() {
        let dir = nut_testkit::temp_dir();
        let p = dir.path().join("killpower");
        assert_eq!(check(Some(&p)), 1);
        assert_eq!(check(None), 1);
        create(&p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"upsmon-shutdown-file");
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 20);
        assert_eq!(check(Some(&p)), 0);
        assert_eq!(clear_at_startup(&p), Some(p.as_path()));
        assert!(!p.exists());
        std::fs::write(&p, b"important data").unwrap();
        assert_eq!(check(Some(&p)), 1);
        assert_eq!(clear_at_startup(&p), None);
        assert_eq!(std::fs::read(&p).unwrap(), b"important data");
    }
}
