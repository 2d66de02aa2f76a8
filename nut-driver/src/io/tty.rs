//! Line discipline settings of a serial port.

use nix::sys::termios::{
    LocalFlags, SetArg, SpecialCharacterIndices as Cc, Termios, tcgetattr, tcsetattr,
};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;

/// A handle on a tty used only to change its line discipline (the settings
/// belong to the tty, so they apply to every descriptor open on it).
///
/// Open it *before* the port itself when the port is then opened in
/// exclusive mode (`TIOCEXCL`), which refuses later opens.
///
/// The settings are read from the tty once and then kept: a mode switch is
/// one `tcsetattr`. Set the speed and framing before the first switch;
/// nothing else may change this tty's settings while the handle is used.
#[derive(Debug)]
pub struct TtySettings {
    file: std::fs::File,
    last: Option<Termios>,
}

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
        Ok(TtySettings { file: f, last: None })
    }

    fn current(&mut self) -> io::Result<Termios> {
        match &self.last {
            Some(t) => Ok(t.clone()),
            None => tcgetattr(&self.file).map_err(io::Error::from),
        }
    }

    fn set(&mut self, t: Termios) -> io::Result<()> {
        tcsetattr(&self.file, SetArg::TCSANOW, &t).map_err(io::Error::from)?;
        self.last = Some(t);
        Ok(())
    }

    /// Writes what the tty takes at once, without waiting (the handle is
    /// non-blocking): the number of bytes written, 0 when its output
    /// buffer is full. A short query goes out in one system call, with no
    /// `poll` for room first.
    pub fn write_now(&self, bytes: &[u8]) -> io::Result<usize> {
        match (&self.file).write(bytes) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Canonical input (as NUT's Megatec drivers set it): the kernel hands
    /// over whole lines ended by `eol` (kept in the data), so a reader
    /// wakes once per answer instead of once per byte. Nothing else is
    /// interpreted: erase, kill, end-of-file and the second end-of-line
    /// characters are disabled; echo and signals stay off.
    pub fn canonical(&mut self, eol: u8) -> io::Result<()> {
        let mut t = self.current()?;
        t.local_flags |= LocalFlags::ICANON;
        t.local_flags &= !(LocalFlags::ECHO | LocalFlags::ISIG | LocalFlags::IEXTEN);
        t.control_chars[Cc::VEOL as usize] = eol;
        for c in [Cc::VEOL2, Cc::VEOF, Cc::VERASE, Cc::VKILL] {
            t.control_chars[c as usize] = 0;
        }
        self.set(t)
    }

    /// Back to raw input: every byte is readable as soon as it arrives
    /// (what [`canonical`](Self::canonical) changed is undone; bytes of an
    /// unfinished line become readable).
    pub fn raw(&mut self) -> io::Result<()> {
        let mut t = self.current()?;
        t.local_flags &= !LocalFlags::ICANON;
        self.set(t)
    }
}
