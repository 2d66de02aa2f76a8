//! Line discipline settings of a serial port.

use nix::sys::termios::{LocalFlags, SetArg, SpecialCharacterIndices as Cc, tcgetattr, tcsetattr};
use std::io;
use std::os::unix::fs::OpenOptionsExt;

/// A handle on a tty used only to change its line discipline (the settings
/// belong to the tty, so they apply to every descriptor open on it).
///
/// Open it *before* the port itself when the port is then opened in
/// exclusive mode (`TIOCEXCL`), which refuses later opens.
#[derive(Debug)]
pub struct TtySettings(std::fs::File);

impl TtySettings {
    /// Opens `path` (read-write, not as the controlling terminal, without
    /// waiting for carrier).
    pub fn open(path: &str) -> io::Result<Self> {
        let flags = nix::fcntl::OFlag::O_NOCTTY | nix::fcntl::OFlag::O_NONBLOCK;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(flags.bits())
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
        Ok(TtySettings(f))
    }

    /// Canonical input (as NUT's Megatec drivers set it): the kernel hands
    /// over whole lines ended by `eol` (kept in the data), so a reader
    /// wakes once per answer instead of once per byte. Nothing else is
    /// interpreted: erase, kill, end-of-file and the second end-of-line
    /// characters are disabled; echo and signals stay off.
    pub fn canonical(&self, eol: u8) -> io::Result<()> {
        let mut t = tcgetattr(&self.0).map_err(io::Error::from)?;
        t.local_flags |= LocalFlags::ICANON;
        t.local_flags &= !(LocalFlags::ECHO | LocalFlags::ISIG | LocalFlags::IEXTEN);
        t.control_chars[Cc::VEOL as usize] = eol;
        for c in [Cc::VEOL2, Cc::VEOF, Cc::VERASE, Cc::VKILL] {
            t.control_chars[c as usize] = 0;
        }
        tcsetattr(&self.0, SetArg::TCSANOW, &t).map_err(io::Error::from)
    }

    /// Back to raw input: every byte is readable as soon as it arrives
    /// (what [`canonical`](Self::canonical) changed is undone; bytes of an
    /// unfinished line become readable).
    pub fn raw(&self) -> io::Result<()> {
        let mut t = tcgetattr(&self.0).map_err(io::Error::from)?;
        t.local_flags &= !LocalFlags::ICANON;
        tcsetattr(&self.0, SetArg::TCSANOW, &t).map_err(io::Error::from)
    }
}
