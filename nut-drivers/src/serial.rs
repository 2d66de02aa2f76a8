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

/// An open serial port.
pub struct Serial {
    port: Box<dyn SerialPort>,
    path: String,
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
        let mut s = Serial { port, path: path.into() };
        s.set_modem_outputs(ModemOutputs { dtr: line.dtr, rts: line.rts, brk: None })?;
        Ok(s)
    }

    /// The port's path.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl ByteStream for Serial {
    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), LinkError> {
        let wait = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        self.port.set_timeout(wait).map_err(sp_error)?;
        self.port.write_all(bytes).map_err(link_error)?;
        self.port.flush().map_err(link_error)
    }

    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Err(LinkError::Timeout);
        }
        self.port.set_timeout(wait).map_err(sp_error)?;
        match self.port.read(buf) {
            Ok(0) => Err(LinkError::Disconnected(nut_driver::Message::cause(format!(
                "{}: end of file",
                self.path
            )))),
            Ok(n) => Ok(n),
            Err(e) => Err(link_error(e)),
        }
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
