//! The two kinds of device link hardware drivers use, as small traits:
//! [`HidLink`] (USB HID Power Devices) and [`ByteStream`] (serial lines and
//! USB-serial bridges). Real backends live with the drivers that need them
//! (`rusb`, `hidapi`, `serialport`); test doubles live in `nut-testkit`.
//! SNMP and HTTP drivers use their clients directly.

use crate::device::Cause;
use std::time::{Duration, Instant};

/// Why a link operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Nothing (or not enough) arrived before the deadline.
    #[error("timed out")]
    Timeout,
    /// The device is gone (unplugged, port vanished).
    #[error("device disconnected: {0}")]
    Disconnected(#[source] Cause),
    /// The device refused the request (a USB STALL).
    #[error("request refused by the device (stall)")]
    Stall,
    /// An answer longer than the caller allows.
    #[error("answer longer than {0} bytes")]
    Overlong(usize),
    /// Any other I/O failure.
    #[error("I/O error: {0}")]
    Io(#[source] Cause),
}

impl LinkError {
    /// The [`DeviceError`](crate::DeviceError) this becomes when a poll
    /// fails: a lost device is [`Disconnected`](crate::DeviceError::Disconnected),
    /// everything else makes this poll's data
    /// [`Stale`](crate::DeviceError::Stale).
    pub fn into_device_error(self) -> crate::DeviceError {
        match self {
            LinkError::Disconnected(_) => crate::DeviceError::Disconnected(Box::new(self)),
            e => crate::DeviceError::Stale(Box::new(e)),
        }
    }
}

impl From<LinkError> for crate::DeviceError {
    fn from(e: LinkError) -> Self {
        e.into_device_error()
    }
}

/// The three HID report types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportType {
    /// Input reports (device to host; also on the interrupt pipe).
    Input = 1,
    /// Output reports (host to device).
    Output = 2,
    /// Feature reports (both ways, by control transfer).
    Feature = 3,
}

/// What identifies a USB device, as NUT matches it (`vendorid`,
/// `productid`, `vendor`, `product`, `serial`, `bus`, `device`, `busport`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsbIds {
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// iManufacturer string.
    pub vendor: Option<String>,
    /// iProduct string.
    pub product: Option<String>,
    /// iSerialNumber string.
    pub serial: Option<String>,
    /// Bus number, as NUT prints it (`001`).
    pub bus: Option<String>,
    /// Device address on the bus, as NUT prints it (`002`).
    pub device: Option<String>,
    /// Port path on the bus (`busport`).
    pub busport: Option<String>,
}

/// A USB HID device: what `usbhid-ups` needs from libusb or hidapi.
///
/// Report buffers hold the report ID in byte 0 when the descriptor uses
/// report IDs (as libusb's control transfers and NUT do).
pub trait HidLink: Send {
    /// The device's identity.
    fn ids(&self) -> &UsbIds;
    /// The HID report descriptor.
    fn report_descriptor(&mut self) -> Result<Vec<u8>, LinkError>;
    /// GET_REPORT: reads report `id` of `kind` into `buf`; returns its
    /// length.
    fn get_report(&mut self, kind: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, LinkError>;
    /// SET_REPORT: writes report `id` of `kind`; returns the bytes taken.
    fn set_report(&mut self, kind: ReportType, id: u8, data: &[u8]) -> Result<usize, LinkError>;
    /// Waits for an input report on the interrupt pipe until `deadline`;
    /// [`LinkError::Timeout`] when none came.
    fn read_interrupt(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError>;
    /// A USB string descriptor (index from the device descriptor or a
    /// report), in the device's first language.
    fn string(&mut self, index: u8) -> Result<String, LinkError>;
    /// The interrupt pipe as a handle of its own, for a thread that only
    /// waits on it while this link goes on with control transfers (libusb
    /// allows both at once). `None` (the default) when the link cannot
    /// share its pipe: the driver then waits on it with
    /// [`read_interrupt`](HidLink::read_interrupt).
    fn interrupt_pipe(&mut self) -> Option<Box<dyn InterruptPipe>> {
        None
    }
}

/// A device's interrupt IN pipe, read by a thread of its own (see
/// [`HidLink::interrupt_pipe`]).
pub trait InterruptPipe: Send {
    /// Waits up to `timeout` for an input report; [`LinkError::Timeout`]
    /// when none came, [`LinkError::Disconnected`] when the device is gone.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, LinkError>;
}

/// The modem-control input lines of a serial port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModemInputs {
    /// Clear To Send.
    pub cts: bool,
    /// Data Set Ready.
    pub dsr: bool,
    /// Data Carrier Detect.
    pub dcd: bool,
    /// Ring Indicator.
    pub ri: bool,
}

/// The modem-control outputs to change; `None` leaves a line as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModemOutputs {
    /// Data Terminal Ready.
    pub dtr: Option<bool>,
    /// Request To Send.
    pub rts: Option<bool>,
    /// Transmit break (TX held low).
    pub brk: Option<bool>,
}

/// A byte stream to a device: a serial port, or a USB bridge framed as one.
pub trait ByteStream: Send {
    /// Writes all of `bytes` before `deadline`.
    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), LinkError>;
    /// Reads what has arrived, waiting until `deadline` for at least one
    /// byte; [`LinkError::Timeout`] when none came.
    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError>;
    /// Discards unread input (`tcflush`).
    fn discard_input(&mut self) -> Result<(), LinkError>;
    /// Reads the modem-control inputs (for contact-closure UPSes).
    fn modem_inputs(&mut self) -> Result<ModemInputs, LinkError> {
        Err(LinkError::Io(crate::device::Message::cause("no modem-control lines on this link")))
    }
    /// Sets modem-control outputs.
    fn set_modem_outputs(&mut self, out: ModemOutputs) -> Result<(), LinkError> {
        let _ = out;
        Err(LinkError::Io(crate::device::Message::cause("no modem-control lines on this link")))
    }
}

impl<T: ByteStream + ?Sized> ByteStream for Box<T> {
    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), LinkError> {
        (**self).write_all(bytes, deadline)
    }
    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        (**self).read(buf, deadline)
    }
    fn discard_input(&mut self) -> Result<(), LinkError> {
        (**self).discard_input()
    }
    fn modem_inputs(&mut self) -> Result<ModemInputs, LinkError> {
        (**self).modem_inputs()
    }
    fn set_modem_outputs(&mut self, out: ModemOutputs) -> Result<(), LinkError> {
        (**self).set_modem_outputs(out)
    }
}

/// A [`ByteStream`] with a read-ahead buffer: answers that end with a
/// terminator or have a known length, however the bytes are split on the
/// line. Bytes after a terminator are kept for the next read.
#[derive(Debug)]
pub struct Reader<S> {
    inner: S,
    buf: Vec<u8>,
}

impl<S: ByteStream> Reader<S> {
    /// Wraps a stream.
    pub fn new(inner: S) -> Self {
        Reader { inner, buf: Vec::new() }
    }

    /// The stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Discards the read-ahead and the unread input.
    pub fn discard_input(&mut self) -> Result<(), LinkError> {
        self.buf.clear();
        self.inner.discard_input()
    }

    /// Writes all of `bytes`.
    pub fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), LinkError> {
        self.inner.write_all(bytes, deadline)
    }

    fn fill(&mut self, deadline: Instant) -> Result<(), LinkError> {
        let mut chunk = [0u8; 256];
        let n = self.inner.read(&mut chunk, deadline)?;
        self.buf.extend_from_slice(&chunk[..n.min(chunk.len())]);
        Ok(())
    }

    /// Reads up to and including `terminator`; at most `max` bytes.
    /// On [`LinkError::Timeout`] the partial answer stays buffered.
    pub fn read_until(
        &mut self,
        terminator: u8,
        max: usize,
        deadline: Instant,
    ) -> Result<Vec<u8>, LinkError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == terminator) {
                if i + 1 > max {
                    self.buf.drain(..=i);
                    return Err(LinkError::Overlong(max));
                }
                return Ok(self.buf.drain(..=i).collect());
            }
            if self.buf.len() > max {
                self.buf.clear();
                return Err(LinkError::Overlong(max));
            }
            self.fill(deadline)?;
        }
    }

    /// Reads exactly `len` bytes.
    pub fn read_len(&mut self, len: usize, deadline: Instant) -> Result<Vec<u8>, LinkError> {
        while self.buf.len() < len {
            self.fill(deadline)?;
        }
        Ok(self.buf.drain(..len).collect())
    }

    /// Takes whatever is buffered or arrives before `deadline` (at least
    /// one byte, else [`LinkError::Timeout`]).
    pub fn read_some(&mut self, deadline: Instant) -> Result<Vec<u8>, LinkError> {
        if self.buf.is_empty() {
            self.fill(deadline)?;
        }
        Ok(std::mem::take(&mut self.buf))
    }
}
