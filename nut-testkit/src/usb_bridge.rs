//! A Megatec UPS behind a serial-over-USB bridge chip, as a test double at
//! the USB transfer level: what `nutdrv_qx` and `blazer_usb` talk to when
//! `port = auto`.
//!
//! The UPS itself is a [`ScriptedStream`] (the serial line behind the
//! chip, answered from a [`Script`], e.g. a `.qx` file through
//! [`crate::qxfile::script`]); the [`BridgeDouble`] plays the chip: it takes
//! the host's transfers (control OUT reports, interrupt IN reads, string
//! descriptor reads), forwards the query bytes to the line and hands the
//! answer back in the chip's units. Each transfer is logged, so a test can
//! check what crossed the bus. Transfers the chip does not know stall, as
//! real chips do; a [`SerialControl::disconnect`] of the line makes every
//! transfer fail with [`LinkError::Disconnected`] (the device is gone).
//!
//! ```
//! use nut_testkit::serial::{Dialect, Script};
//! use nut_testkit::usb_bridge::{BridgeDouble, Chip};
//! let script = Script::new(Dialect::megatec(), [("Q1\r", ["(215.0 195.0\r"])]);
//! let mut chip = BridgeDouble::new(Chip::Cypress, script);
//! // The host writes the query in 8-byte SET_REPORTs, then reads 8-byte
//! // interrupt reports until the CR.
//! chip.control_out(0x21, 0x09, 0x0200, 0, b"Q1\r\0\0\0\0\0").unwrap();
//! assert_eq!(chip.interrupt_in(0x81, 8).unwrap(), b"(215.0 1");
//! assert_eq!(chip.interrupt_in(0x81, 8).unwrap(), b"95.0\r");
//! assert!(chip.interrupt_in(0x81, 8).is_err()); // nothing more: timeout
//! ```

use crate::serial::{Script, ScriptedStream, SerialControl};
use nut_driver::transport::{ByteStream, LinkError};
use std::collections::VecDeque;
use std::time::Instant;

/// The bridge chips the double plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chip {
    /// Cypress (and its phoenix/ippon relatives): the query in 8-byte
    /// SET_REPORT (`21 09`) reports padded with NULs, the answer in
    /// interrupt IN reports of up to 8 bytes on endpoint 0x81.
    Cypress,
    /// Armac: the query in SET_REPORT reports of `0xa0 + n` and up to 3
    /// bytes; the answer in 6-byte interrupt IN reports whose first byte
    /// is `0x80 | toggle 0x20 | n` (n valid bytes follow); a report with
    /// n = 0 when the chip has nothing more.
    Armac,
    /// Krauler: each query is a string descriptor index (3: `Q1`, 12: `I`,
    /// 13: `F`, 4: `T`, 5: `TL`, 7: `Q`, 11: `C`); the answer is the
    /// descriptor's text (ASCII read, or a raw UTF-16LE descriptor when a
    /// language id is given).
    Krauler,
}

/// One transfer as the chip saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Logged {
    /// A control OUT transfer: request type, request, value, data.
    ControlOut(u8, u8, u16, Vec<u8>),
    /// An interrupt IN read on the endpoint, and what it returned.
    InterruptIn(u8, Vec<u8>),
    /// A string descriptor read: index and language id.
    String(u8, Option<u16>),
}

/// The chip with the UPS behind it. See the [module docs](self).
#[derive(Debug)]
pub struct BridgeDouble {
    chip: Chip,
    line: ScriptedStream,
    ctl: SerialControl,
    /// Answer bytes read from the line, not yet handed to the host.
    pending: VecDeque<u8>,
    toggle: bool,
    log: Vec<Logged>,
}

fn stall() -> LinkError {
    LinkError::Stall
}

impl BridgeDouble {
    /// A chip of kind `chip` in front of a UPS answering from `script`.
    pub fn new(chip: Chip, script: Script) -> Self {
        let line = ScriptedStream::new(script);
        let ctl = line.control();
        BridgeDouble { chip, line, ctl, pending: VecDeque::new(), toggle: false, log: Vec::new() }
    }

    /// The chip.
    pub fn chip(&self) -> Chip {
        self.chip
    }

    /// The control of the serial line behind the chip (queries seen,
    /// faults, disconnect).
    pub fn control(&self) -> SerialControl {
        self.ctl.clone()
    }

    /// The transfers so far.
    pub fn log(&self) -> &[Logged] {
        &self.log
    }

    /// Fails when the device is gone (the line was disconnected).
    fn alive(&mut self) -> Result<(), LinkError> {
        self.line.modem_inputs().map(|_| ())
    }

    /// Sends `bytes` down the line; at a CR, collects the answer the UPS
    /// gives (everything it has, up to and with its CR).
    fn forward(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.alive()?;
        self.line.write_all(bytes, Instant::now())?;
        if bytes.contains(&b'\r') {
            let mut buf = [0u8; 64];
            loop {
                match self.line.read(&mut buf, Instant::now()) {
                    Ok(n) => self.pending.extend(buf.iter().take(n)),
                    Err(LinkError::Timeout) => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// A control OUT transfer; returns the bytes taken.
    pub fn control_out(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        _index: u16,
        data: &[u8],
    ) -> Result<usize, LinkError> {
        self.log.push(Logged::ControlOut(request_type, request, value, data.to_vec()));
        if (request_type, request, value) != (0x21, 0x09, 0x0200) {
            return Err(stall());
        }
        match self.chip {
            Chip::Cypress => {
                // The UPS ignores the NUL padding of the report.
                let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                self.forward(data.get(..end).unwrap_or(&[]))?;
            }
            Chip::Armac => {
                let Some(&head) = data.first() else { return Err(stall()) };
                if head & 0xf0 != 0xa0 {
                    return Err(stall());
                }
                let n = usize::from(head & 0x0f).min(data.len() - 1);
                self.forward(data.get(1..=n).unwrap_or(&[]))?;
            }
            Chip::Krauler => return Err(stall()),
        }
        Ok(data.len())
    }

    /// An interrupt IN read of at most `length` bytes; a timeout when
    /// the chip has nothing (cypress).
    pub fn interrupt_in(&mut self, endpoint: u8, length: usize) -> Result<Vec<u8>, LinkError> {
        self.alive()?;
        if endpoint != 0x81 {
            return Err(stall());
        }
        let out = match self.chip {
            Chip::Cypress => {
                if self.pending.is_empty() {
                    self.log.push(Logged::InterruptIn(endpoint, Vec::new()));
                    return Err(LinkError::Timeout);
                }
                let n = self.pending.len().min(length).min(8);
                self.pending.drain(..n).collect()
            }
            Chip::Armac => {
                let n = self.pending.len().min(5).min(length.saturating_sub(1));
                let mut r = vec![0x80 | if self.toggle { 0x20 } else { 0 } | n as u8];
                self.toggle = !self.toggle;
                r.extend(self.pending.drain(..n));
                r.resize(length.min(6), 0);
                r
            }
            Chip::Krauler => return Err(stall()),
        };
        self.log.push(Logged::InterruptIn(endpoint, out.clone()));
        Ok(out)
    }

    /// A string descriptor read: the ASCII text (`langid: None`, libusb's
    /// simple read) or the raw descriptor in that language.
    pub fn string(&mut self, index: u8, langid: Option<u16>) -> Result<Vec<u8>, LinkError> {
        self.log.push(Logged::String(index, langid));
        if self.chip != Chip::Krauler {
            return Err(stall());
        }
        let query: &[u8] = match index {
            0x03 => b"Q1\r",
            0x0c => b"I\r",
            0x0d => b"F\r",
            0x04 => b"T\r",
            0x05 => b"TL\r",
            0x07 => b"Q\r",
            0x0b => b"C\r",
            _ => return Err(stall()),
        };
        self.pending.clear();
        self.forward(query)?;
        let text: Vec<u8> = self.pending.drain(..).collect();
        Ok(match langid {
            None => text,
            Some(_) => {
                let mut d = vec![0u8, 0x03];
                for &b in &text {
                    d.extend_from_slice(&[b, 0]);
                }
                d[0] = u8::try_from(d.len()).unwrap_or(u8::MAX);
                d
            }
        })
    }
}
