//! Serial ports through the `serialport` crate: the [`ByteStream`] of the
//! serial drivers (`nutdrv_qx`, `blazer_ser`, `apcsmart`, `genericups`).
//! Feature `serial`.

use nut_driver::transport::{ByteStream, LinkError, ModemInputs, ModemOutputs};
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// What an I/O error on a serial port means for the driver: a port that
/// vanished (USB-serial adapter unplugged) is a lost device.
pub fn link_error(e: io::Error) -> LinkError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => LinkError::Timeout,
        io::ErrorKind::NotFound | io::ErrorKind::BrokenPipe | io::ErrorKind::NotConnected => {
            LinkError::Disconnected(Box::new(e))
        }
        // EIO and ENXIO: the tty is gone.
        _ if matches!(e.raw_os_error(), Some(5) | Some(6)) => LinkError::Disconnected(Box::new(e)),
        _ => LinkError::Io(Box::new(e)),
    }
}

fn sp_error(e: serialport::Error) -> LinkError {
    match e.kind() {
        serialport::ErrorKind::NoDevice => LinkError::Disconnected(Box::new(e)),
        serialport::ErrorKind::Io(kind) => link_error(io::Error::new(kind, e.description)),
        _ => LinkError::Io(Box::new(e)),
    }
}

/// Line settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineSettings {
    /// Bits per second.
    pub baud: u32,
    /// Raise DTR after opening.
    pub dtr: Option<bool>,
    /// Raise RTS after opening.
    pub rts: Option<bool>,
}

impl Default for LineSettings {
    /// 2400 8N1, no flow control: the Megatec and APC default.
    fn default() -> Self {
        LineSettings { baud: 2400, dtr: None, rts: None }
    }
}

/// How many character times [`Serial::read`] waits, once an answer has
/// begun, before it reads again (see [`Serial::gather_until`]).
pub const GATHER_CHARS: u32 = 6;

/// An open serial port.
pub struct Serial {
    port: Box<dyn SerialPort>,
    path: String,
    /// Bytes that end an answer; empty: every read returns what is there.
    ends: Vec<u8>,
    /// The time [`GATHER_CHARS`] characters take on the line.
    gather: Duration,
    /// A second handle on the tty, to change its line mode.
    tty: Option<nut_driver::io::TtySettings>,
}

impl std::fmt::Debug for Serial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serial").field("path", &self.path).finish()
    }
}

impl Serial {
    /// Opens `path` 8N1 without flow control.
    pub fn open(path: &str, line: LineSettings) -> Result<Serial, LinkError> {
        let port = serialport::new(path, line.baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(sp_error)?;
        // 10 bits per character (8N1).
        let gather = Duration::from_micros(
            u64::from(GATHER_CHARS) * 10_000_000 / u64::from(line.baud.max(1)),
        );
        let mut s = Serial { port, path: path.into(), ends: Vec::new(), gather, tty: None };
        s.set_modem_outputs(ModemOutputs { dtr: line.dtr, rts: line.rts, brk: None })?;
        Ok(s)
    }

    /// Opens `path` 8N1 without flow control, in canonical mode with
    /// `eol` ending each answer (as NUT's `nutdrv_qx` and `blazer_ser`
    /// set their port): a read returns once a whole answer, `eol`
    /// included, has arrived, so the driver wakes once per answer. Bytes
    /// of an answer that never ends are not returned (the read times out;
    /// the next query's flush drops them), as with NUT.
    pub fn open_lines(path: &str, line: LineSettings, eol: u8) -> Result<Serial, LinkError> {
        let mut s = Serial::open_switchable(path, line)?;
        s.set_lines(Some(eol))?;
        Ok(s)
    }

    /// [`open`](Self::open), keeping a second handle on the tty so that
    /// [`set_lines`](Self::set_lines) can change its line mode later.
    pub fn open_switchable(path: &str, line: LineSettings) -> Result<Serial, LinkError> {
        // Before the port: it is opened in exclusive mode, which refuses a
        // later open.
        let tty = nut_driver::io::TtySettings::open(path).map_err(link_error)?;
        let mut s = Serial::open(path, line)?;
        s.tty = Some(tty);
        Ok(s)
    }

    /// `Some(eol)`: canonical mode, a read returns whole answers ended by
    /// `eol` (see [`open_lines`](Self::open_lines)); `None`: raw mode, every
    /// byte is readable at once. A port opened without
    /// [`open_switchable`](Self::open_switchable) stays as it is.
    pub fn set_lines(&mut self, eol: Option<u8>) -> Result<(), LinkError> {
        let Some(tty) = &mut self.tty else { return Ok(()) };
        match eol {
            Some(eol) => tty.canonical(eol),
            None => tty.raw(),
        }
        .map_err(link_error)
    }

    /// The port's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Makes [`read`](ByteStream::read) gather an answer: once bytes came
    /// and none of them is one of `ends`, it waits the time
    /// [`GATHER_CHARS`] characters take on the line and reads what came
    /// meanwhile, again until an end byte, a wait that brings nothing, or
    /// the deadline. At 2400 baud a 7-byte answer is then one or two reads
    /// instead of seven wake-ups; an answer is handed over at most that
    /// long (25 ms at 2400 baud) after its last byte.
    pub fn gather_until(mut self, ends: &[u8]) -> Self {
        self.ends = ends.to_vec();
        self
    }
}

impl ByteStream for Serial {
    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), LinkError> {
        // A query fits the tty's output buffer: written at once through the
        // second handle, without the port's wait for room.
        let sent = match &self.tty {
            Some(tty) => tty.write_now(bytes).map_err(link_error)?,
            None => 0,
        };
        let Some(rest) = bytes.get(sent..).filter(|r| !r.is_empty()) else { return Ok(()) };
        let wait = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        self.port.set_timeout(wait).map_err(sp_error)?;
        // No `tcdrain`: the answer is waited for anyway (as NUT's drivers).
        self.port.write_all(rest).map_err(link_error)
    }

    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Err(LinkError::Timeout);
        }
        self.port.set_timeout(wait).map_err(sp_error)?;
        let mut n = match self.port.read(buf) {
            Ok(0) => {
                return Err(LinkError::Disconnected(nut_driver::Message::cause(format!(
                    "{}: end of file",
                    self.path
                ))));
            }
            Ok(n) => n,
            Err(e) => return Err(link_error(e)),
        };
        if self.ends.is_empty() {
            return Ok(n);
        }
        while n < buf.len() && !buf[..n].iter().any(|b| self.ends.contains(b)) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(self.gather.min(left));
            // What came meanwhile, without waiting; any error is left for
            // the next call to report.
            if self.port.set_timeout(Duration::ZERO).is_err() {
                break;
            }
            match self.port.read(&mut buf[n..]) {
                Ok(m) if m > 0 => n += m,
                _ => break,
            }
        }
        Ok(n)
    }

    fn discard_input(&mut self) -> Result<(), LinkError> {
        self.port.clear(ClearBuffer::Input).map_err(sp_error)
    }

    fn modem_inputs(&mut self) -> Result<ModemInputs, LinkError> {
        Ok(ModemInputs {
            cts: self.port.read_clear_to_send().map_err(sp_error)?,
            dsr: self.port.read_data_set_ready().map_err(sp_error)?,
            dcd: self.port.read_carrier_detect().map_err(sp_error)?,
            ri: self.port.read_ring_indicator().map_err(sp_error)?,
        })
    }

    fn set_modem_outputs(&mut self, out: ModemOutputs) -> Result<(), LinkError> {
        if let Some(v) = out.dtr {
            self.port.write_data_terminal_ready(v).map_err(sp_error)?;
        }
        if let Some(v) = out.rts {
            self.port.write_request_to_send(v).map_err(sp_error)?;
        }
        match out.brk {
            Some(true) => self.port.set_break().map_err(sp_error)?,
            Some(false) => self.port.clear_break().map_err(sp_error)?,
            None => {}
        }
        Ok(())
    }
}
