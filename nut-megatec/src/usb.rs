//! The USB "serial over USB" framings of nutdrv_qx and blazer_usb: how one
//! query becomes USB transfers and how the answer is put back together.
//!
//! Pure: a [`Bridge`] (one per device, it keeps the little state some
//! chips need) turns a query into an [`Exchange`]; the caller asks
//! [`Exchange::next_transfer`] what to do, does it, reports the outcome
//! with [`Exchange::handle_result`], and repeats until
//! [`Exchange::next_transfer`] returns `None`; then
//! [`Exchange::finish`] gives the answer for [`crate::Session::handle_answer`]
//! (or an error for [`crate::Session::handle_transport_error`]).
//!
//! ```
//! use nut_megatec::usb::{Bridge, Framing, Transfer, TransferResult};
//! let mut bridge = Bridge::new(Framing::Cypress);
//! let mut ex = bridge.exchange(b"Q1\r");
//! let mut device_answer = b"(230.0 ...\r".chunks(8);
//! while let Some(t) = ex.next_transfer() {
//!     let r = match t {
//!         Transfer::ControlOut { data, .. } => TransferResult::Done(data.len()),
//!         Transfer::InterruptIn { .. } => TransferResult::Data(device_answer.next().unwrap().to_vec()),
//!         _ => unreachable!(),
//!     };
//!     ex.handle_result(r);
//! }
//! assert_eq!(ex.finish().unwrap(), b"(230.0 ...\r");
//! ```

use crate::error::escape;
use crate::math;
use alloc::string::String;
use alloc::vec::Vec;

/// The bridge chips (`subdriver=` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Framing {
    /// `cypress`: SET_REPORT 8-byte chunks, interrupt reads until `\r`.
    Cypress,
    /// `phoenix`: as cypress, after draining up to 8 interrupt reads.
    Phoenix,
    /// `ippon`: SET_REPORT wValue 0x0002, one 64-byte interrupt read.
    Ippon,
    /// `krauler`: string descriptors, up to 10 tries while "UPS No Ack".
    Krauler,
    /// `fabula`: string descriptors, shutdown delays encoded in the index.
    Fabula,
    /// `hunnox`: fabula plus rotating pre-reads.
    Hunnox,
    /// `fuji`: 8-byte interrupt OUT frames.
    Fuji,
    /// `phoenixtec`: vendor control OUT, interrupt reads until `\r`.
    Phoenixtec,
    /// `snr`: a pre-read, then string descriptors with a language id.
    Snr,
    /// `sgs`: length-prefixed 8-byte frames both ways.
    Sgs,
    /// `ablerex`: 47-byte SET_REPORT / GET_REPORT 0x0305.
    Ablerex,
    /// `armac`: 3-byte chunks out, 6-byte interrupt reports in.
    Armac,
}

impl Framing {
    /// The framing named by `subdriver=` (case-insensitive; `phoenixtec` is
    /// the Masterguard one, `phoenix` the other).
    pub fn by_name(name: &str) -> Option<Framing> {
        const NAMES: [(&str, Framing); 12] = [
            ("cypress", Framing::Cypress),
            ("phoenixtec", Framing::Phoenixtec),
            ("phoenix", Framing::Phoenix),
            ("ippon", Framing::Ippon),
            ("krauler", Framing::Krauler),
            ("fabula", Framing::Fabula),
            ("hunnox", Framing::Hunnox),
            ("fuji", Framing::Fuji),
            ("sgs", Framing::Sgs),
            ("snr", Framing::Snr),
            ("ablerex", Framing::Ablerex),
            ("armac", Framing::Armac),
        ];
        NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, f)| *f)
    }

    /// Whether blazer_usb also offers it.
    pub fn in_blazer_usb(self) -> bool {
        matches!(self, Framing::Cypress | Framing::Phoenix | Framing::Ippon | Framing::Krauler)
    }
}

/// One USB operation to perform.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transfer {
    /// A control OUT transfer.
    ControlOut {
        /// bmRequestType (0x21 class/interface, 0x42 vendor/endpoint).
        request_type: u8,
        /// bRequest (0x09 SET_REPORT, 0x0d phoenixtec).
        request: u8,
        /// wValue.
        value: u16,
        /// wIndex.
        index: u16,
        /// The data stage.
        data: Vec<u8>,
        /// Timeout in ms.
        timeout_ms: u32,
    },
    /// A control IN transfer (GET_REPORT).
    ControlIn {
        /// bmRequestType.
        request_type: u8,
        /// bRequest.
        request: u8,
        /// wValue.
        value: u16,
        /// wIndex.
        index: u16,
        /// Bytes to read.
        length: u16,
        /// Timeout in ms.
        timeout_ms: u32,
    },
    /// Read string descriptor `index`. With `langid: None` the caller uses
    /// libusb's "simple" ASCII read (first language) and reports the ASCII
    /// bytes; with `Some(l)` it reads the raw descriptor in language `l` and
    /// reports it as is (length byte, type byte, UTF-16LE).
    GetString {
        /// Descriptor index.
        index: u8,
        /// Language id, or `None` for the ASCII read.
        langid: Option<u16>,
        /// Buffer size.
        length: u16,
    },
    /// An interrupt OUT transfer.
    InterruptOut {
        /// Endpoint address.
        endpoint: u8,
        /// Data.
        data: Vec<u8>,
        /// Timeout in ms.
        timeout_ms: u32,
    },
    /// An interrupt IN transfer.
    InterruptIn {
        /// Endpoint address.
        endpoint: u8,
        /// Bytes to read.
        length: usize,
        /// Timeout in ms.
        timeout_ms: u32,
    },
    /// Wait before the next transfer.
    Sleep {
        /// Milliseconds.
        ms: u32,
    },
}

/// What a transfer did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferResult {
    /// An OUT transfer (or a sleep) completed with this many bytes.
    Done(usize),
    /// An IN transfer returned these bytes (may be empty).
    Data(Vec<u8>),
    /// The transfer timed out.
    Timeout,
    /// The endpoint stalled (`LIBUSB_ERROR_PIPE`).
    Stall,
    /// Any other error (libusb error code).
    Error(i32),
}

/// Why an exchange produced no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsbError {
    /// A transfer failed; the driver should recover as NUT does (stall:
    /// clear halt on 0x81; others: reset / reopen).
    #[error("query {query}: usb transfer {step} failed: {result:?}")]
    Transfer {
        /// The query, escaped.
        query: String,
        /// Which transfer of the exchange (0-based).
        step: usize,
        /// What it returned.
        result: TransferResult,
    },
    /// The answer did not fit the buffer (armac).
    #[error("query {query}: answer overflows the {max}-byte buffer")]
    Overflow {
        /// The query, escaped.
        query: String,
        /// The buffer size.
        max: usize,
    },
    /// A transfer result did not match the transfer asked for.
    #[error("query {query}: unexpected transfer result {result:?}")]
    Unexpected {
        /// The query, escaped.
        query: String,
        /// What was reported.
        result: TransferResult,
    },
}

/// NUT's answer buffer size for USB queries.
const BUFLEN: usize = 512;

/// One device's bridge: its framing and the options that change it.
#[derive(Clone, Debug)]
pub struct Bridge {
    framing: Framing,
    /// `langid_fix`.
    pub langid_fix: Option<u16>,
    hunnox_step: u8,
}

impl Bridge {
    /// A bridge of this framing without `langid_fix`.
    pub fn new(framing: Framing) -> Self {
        Bridge { framing, langid_fix: None, hunnox_step: 0 }
    }

    /// The framing.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The exchange for one query (with its `\r`).
    pub fn exchange(&mut self, query: &[u8]) -> Exchange {
        let mut ex = Exchange {
            framing: self.framing,
            query: query.to_vec(),
            langid: self.langid_fix,
            plan: Vec::new(),
            pos: 0,
            phase: Phase::Write,
            buf: Vec::new(),
            done: None,
            tries: 0,
            index: 0,
            prefix: 0,
            drains: 0,
            step: 0,
            sleep_next: false,
        };
        ex.start(&mut self.hunnox_step);
        ex
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Running the planned writes / pre-reads (results ignored unless error).
    Write,
    /// Reading the answer.
    Read,
    /// Finished.
    Done,
}

/// One query's transfers. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Exchange {
    framing: Framing,
    query: Vec<u8>,
    langid: Option<u16>,
    plan: Vec<Transfer>,
    pos: usize,
    phase: Phase,
    buf: Vec<u8>,
    done: Option<Result<Vec<u8>, UsbError>>,
    tries: u32,
    index: u8,
    prefix: u8,
    drains: u32,
    step: usize,
    sleep_next: bool,
}

const SET: u8 = 0x21;
const SET_REPORT: u8 = 0x09;

fn chunks_padded(cmd: &[u8], n: usize) -> Vec<Vec<u8>> {
    cmd.chunks(n)
        .map(|c| {
            let mut v = c.to_vec();
            v.resize(n, 0);
            v
        })
        .collect()
}

/// Megatec queries carried as string descriptor indexes (krauler, snr):
/// index and the character replacing the answer's first byte.
fn krauler_index(cmd: &[u8]) -> Option<(u8, u8)> {
    Some(match cmd {
        b"Q1\r" => (0x03, b'('),
        b"F\r" => (0x0d, b'#'),
        b"I\r" => (0x0c, b'#'),
        b"T\r" => (0x04, b'\r'),
        b"TL\r" => (0x05, b'\r'),
        b"Q\r" => (0x07, b'\r'),
        b"C\r" | b"CT\r" => (0x0b, b'\r'),
        _ => return None,
    })
}

/// The fabula/hunnox string index of a query, `None` for an unknown one.
pub fn fabula_index(cmd: &[u8]) -> Option<u8> {
    match cmd {
        b"Q1\r" => return Some(0x03),
        b"F\r" => return Some(0x0d),
        b"I\r" => return Some(0x0c),
        b"Q\r" => return Some(0x07),
        b"C\r" => return Some(0x0a),
        _ => {}
    }
    // S<delay>[R<minutes>]\r
    let s = core::str::from_utf8(cmd).ok()?;
    let rest = s.strip_prefix('S')?;
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let num = rest.get(..end)?;
    if num.is_empty() || num == "." {
        return None;
    }
    let delay: f64 = num.parse().ok().or_else(|| alloc::format!("{num}0").parse().ok())?;
    let after = rest.get(end..).unwrap_or("");
    let ret = match after.strip_prefix('R') {
        Some(r) => {
            let d = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            match r.get(..d).filter(|x| !x.is_empty()) {
                Some(m) => m.parse::<u32>().map(|m| m != 0).unwrap_or(true),
                // "S%lfR%d" fails to match a number: the plain "S%lf" form.
                None => true,
            }
        }
        None => true,
    };
    let delay = delay.clamp(0.5, 10.0);
    let mut index = if delay < 1.0 {
        16.0 + math::round((delay - 0.5) * 10.0) * 16.0
    } else {
        96.0 + (delay - 1.0) * 16.0
    } as i64;
    if ret {
        index += 8;
    }
    u8::try_from(index & 0xff).ok()
}

/// Raw string descriptor (length, type, UTF-16LE) to ASCII, `?` for
/// characters above 0xff; `None` when the length byte disagrees with the
/// bytes received (NUT retries or gives up).
pub fn descriptor_to_ascii(raw: &[u8]) -> Option<Vec<u8>> {
    let size = usize::from(*raw.first()?);
    if size != raw.len() {
        return None;
    }
    let mut out = Vec::new();
    let mut si = 2;
    while si < size {
        let lo = raw.get(si).copied().unwrap_or(0);
        let hi = raw.get(si + 1).copied().unwrap_or(0);
        out.push(if hi != 0 { b'?' } else { lo });
        si += 2;
    }
    // NUT's C string ends at a NUL.
    if let Some(n) = out.iter().position(|&b| b == 0) {
        out.truncate(n);
    }
    Some(out)
}

fn add_cr(v: &mut Vec<u8>) {
    if !v.is_empty() && !v.contains(&b'\r') && v.len() < BUFLEN - 1 {
        v.push(b'\r');
    }
}

fn is_no_ack(v: &[u8]) -> bool {
    let n = v.iter().position(|&b| b == b'\r').unwrap_or(v.len());
    n == 10 && v.get(..10).is_some_and(|s| s.eq_ignore_ascii_case(b"UPS No Ack"))
}

impl Exchange {
    fn fail(&mut self, result: TransferResult) {
        self.done =
            Some(Err(UsbError::Transfer { query: escape(&self.query), step: self.step, result }));
        self.phase = Phase::Done;
    }

    fn answer(&mut self, a: Vec<u8>) {
        self.done = Some(Ok(a));
        self.phase = Phase::Done;
    }

    fn echo(&mut self) {
        let q = self.query.clone();
        self.answer(q);
    }

    fn start(&mut self, hunnox_step: &mut u8) {
        let q = self.query.clone();
        match self.framing {
            Framing::Cypress | Framing::Phoenix => {
                let t = if self.framing == Framing::Cypress { 5000 } else { 1000 };
                for c in chunks_padded(&q, 8) {
                    self.plan.push(Transfer::ControlOut {
                        request_type: SET,
                        request: SET_REPORT,
                        value: 0x0200,
                        index: 0,
                        data: c,
                        timeout_ms: t,
                    });
                }
            }
            Framing::Ippon => {
                for c in chunks_padded(&q, 8) {
                    self.plan.push(Transfer::ControlOut {
                        request_type: SET,
                        request: SET_REPORT,
                        value: 0x0002,
                        index: 0,
                        data: c,
                        timeout_ms: 1000,
                    });
                }
            }
            Framing::Sgs => {
                for c in q.chunks(7) {
                    let mut d = alloc::vec![c.len() as u8];
                    d.extend_from_slice(c);
                    d.resize(8, 0);
                    self.plan.push(Transfer::ControlOut {
                        request_type: SET,
                        request: SET_REPORT,
                        value: 0x0200,
                        index: 0,
                        data: d,
                        timeout_ms: 5000,
                    });
                }
            }
            Framing::Krauler | Framing::Snr => {
                let map = krauler_index(&q).filter(|(i, _)| {
                    self.framing == Framing::Krauler || matches!(i, 0x03 | 0x0c | 0x0d)
                });
                match map {
                    Some((i, p)) => {
                        self.index = i;
                        self.prefix = p;
                        if self.framing == Framing::Snr {
                            self.plan.push(Transfer::InterruptIn {
                                endpoint: 0x81,
                                length: 102,
                                timeout_ms: 1000,
                            });
                            if self.langid.is_none() {
                                self.langid = Some(0x0409);
                            }
                        }
                    }
                    None => self.echo(),
                }
            }
            Framing::Fabula | Framing::Hunnox => match fabula_index(&q) {
                Some(i) => {
                    self.index = i;
                    if self.framing == Framing::Hunnox {
                        let l = Some(self.langid.unwrap_or(0x0409));
                        match *hunnox_step {
                            0 => {
                                for idx in [0x00, 0x00, 0x01] {
                                    self.plan.push(Transfer::GetString {
                                        index: idx,
                                        langid: l,
                                        length: 1026,
                                    });
                                }
                                self.plan.push(Transfer::Sleep { ms: 10 });
                            }
                            1 if i != 0x0d => self.plan.push(Transfer::GetString {
                                index: 0x0d,
                                langid: l,
                                length: 102,
                            }),
                            2 if i != 0x03 => self.plan.push(Transfer::GetString {
                                index: 0x03,
                                langid: l,
                                length: 102,
                            }),
                            3 if i != 0x0c => self.plan.push(Transfer::GetString {
                                index: 0x0c,
                                langid: l,
                                length: 102,
                            }),
                            _ => {}
                        }
                        *hunnox_step = if *hunnox_step >= 3 { 1 } else { *hunnox_step + 1 };
                    }
                }
                None => self.echo(),
            },
            Framing::Fuji => {
                let end = q.iter().position(|&b| b == b'\r').unwrap_or(q.len());
                let mut cmd = q.get(..end).unwrap_or(&[]).to_vec();
                // S<n>R<m> with m != 0 goes as S<n> (first 3 bytes).
                if cmd.first() == Some(&b'S') && fabula_r_nonzero(&q) {
                    cmd.truncate(3);
                }
                if cmd.len() > 3 {
                    self.echo();
                    return;
                }
                let answer_len = match cmd.as_slice() {
                    b"Q1" => 47,
                    b"F" => 22,
                    b"I" => 39,
                    _ => 0,
                };
                let mut d = alloc::vec![0x80, 0x06, cmd.len() as u8 + 1, 0x03];
                d.extend_from_slice(&cmd);
                d.resize(7, 0);
                d.push(answer_len);
                self.plan.push(Transfer::InterruptOut {
                    endpoint: 0x02,
                    data: d,
                    timeout_ms: 5000,
                });
            }
            Framing::Phoenixtec => {
                self.plan.push(Transfer::ControlOut {
                    request_type: 0x42,
                    request: 0x0d,
                    value: 0,
                    index: 0,
                    data: q,
                    timeout_ms: 1000,
                });
            }
            Framing::Ablerex => self.plan_ablerex(),
            Framing::Armac => {
                const UNSUPPORTED: [&[u8]; 5] = [b"QGS\r", b"QS\r", b"QPI\r", b"M\r", b"D\r"];
                if UNSUPPORTED.contains(&q.as_slice()) {
                    self.echo();
                    return;
                }
                for c in q.chunks(3) {
                    let mut d = alloc::vec![0xa0 + c.len() as u8];
                    d.extend_from_slice(c);
                    d.resize(4, 0);
                    self.plan.push(Transfer::ControlOut {
                        request_type: SET,
                        request: SET_REPORT,
                        value: 0x0200,
                        index: 0,
                        data: d,
                        timeout_ms: 5000,
                    });
                }
            }
        }
    }

    fn plan_ablerex(&mut self) {
        let q = &self.query;
        let n = q.iter().position(|&b| b == b'\r').unwrap_or(q.len());
        let mut d = alloc::vec![0x05, 0, (n + 1) as u8];
        d.extend(q.iter().take(n + 1));
        d.resize(47, 0);
        self.plan.clear();
        self.pos = 0;
        self.plan.push(Transfer::ControlOut {
            request_type: SET,
            request: SET_REPORT,
            value: 0x0305,
            index: 0,
            data: d,
            timeout_ms: 1000,
        });
        self.plan.push(Transfer::Sleep { ms: 500 });
    }

    /// The next transfer to do; `None` when the exchange is over.
    pub fn next_transfer(&mut self) -> Option<Transfer> {
        if self.phase == Phase::Done {
            return None;
        }
        if self.framing == Framing::Phoenix && self.phase == Phase::Write && self.drains < 8 {
            return Some(Transfer::InterruptIn { endpoint: 0x81, length: 8, timeout_ms: 1000 });
        }
        if self.phase == Phase::Write {
            if let Some(t) = self.plan.get(self.pos) {
                return Some(t.clone());
            }
            self.phase = Phase::Read;
        }
        if self.sleep_next {
            return Some(Transfer::Sleep { ms: 10 });
        }
        let langid = self.langid;
        Some(match self.framing {
            Framing::Cypress | Framing::Phoenix | Framing::Sgs => {
                Transfer::InterruptIn { endpoint: 0x81, length: 8, timeout_ms: 1000 }
            }
            Framing::Fuji => Transfer::InterruptIn { endpoint: 0x81, length: 8, timeout_ms: 1000 },
            Framing::Ippon => {
                Transfer::InterruptIn { endpoint: 0x81, length: 64, timeout_ms: 1000 }
            }
            Framing::Phoenixtec => {
                if !phoenixtec_expects_answer(&self.query) {
                    self.answer(Vec::new());
                    return None;
                }
                Transfer::InterruptIn {
                    endpoint: 0x81,
                    length: BUFLEN - self.buf.len(),
                    timeout_ms: 1000,
                }
            }
            Framing::Armac => Transfer::InterruptIn { endpoint: 0x81, length: 6, timeout_ms: 1000 },
            Framing::Krauler => {
                Transfer::GetString { index: self.index, langid, length: BUFLEN as u16 }
            }
            Framing::Snr => Transfer::GetString { index: self.index, langid, length: 102 },
            Framing::Fabula => {
                Transfer::GetString { index: self.index, langid: None, length: BUFLEN as u16 }
            }
            Framing::Hunnox => Transfer::GetString { index: self.index, langid, length: 102 },
            Framing::Ablerex => Transfer::ControlIn {
                request_type: 0xa1,
                request: 0x01,
                value: 0x0305,
                index: 0,
                length: 47,
                timeout_ms: 1000,
            },
        })
    }

    /// Reports the outcome of the transfer [`next_transfer`](Self::next_transfer)
    /// returned.
    pub fn handle_result(&mut self, r: TransferResult) {
        if self.phase == Phase::Done {
            return;
        }
        self.step += 1;
        if self.sleep_next && self.phase == Phase::Read {
            self.sleep_next = false;
            return;
        }
        if self.framing == Framing::Phoenix && self.phase == Phase::Write && self.drains < 8 {
            // Draining: errors (timeout, stall) end the draining.
            self.drains = if matches!(r, TransferResult::Data(_) | TransferResult::Done(_)) {
                self.drains + 1
            } else {
                8
            };
            return;
        }
        if self.phase == Phase::Write {
            let pre_read = matches!(
                self.plan.get(self.pos),
                Some(
                    Transfer::InterruptIn { .. }
                        | Transfer::GetString { .. }
                        | Transfer::Sleep { .. }
                )
            );
            self.pos += 1;
            match r {
                TransferResult::Done(n) if n > 0 => {}
                _ if pre_read => {}
                TransferResult::Done(_) if self.framing == Framing::Ablerex => {}
                other => {
                    // Ablerex ignores the SET_REPORT result; others fail.
                    if self.framing != Framing::Ablerex {
                        self.fail(other);
                    }
                }
            }
            return;
        }
        let data = match r {
            TransferResult::Data(d) => d,
            TransferResult::Done(_) => Vec::new(),
            other => {
                self.read_error(other);
                return;
            }
        };
        match self.framing {
            Framing::Cypress | Framing::Phoenix | Framing::Fuji => {
                if data.is_empty() {
                    self.answer(Vec::new());
                    return;
                }
                self.buf.extend(data.iter().take(8));
                if self.buf.contains(&b'\r') || self.buf.len() + 8 > BUFLEN {
                    let mut a = core::mem::take(&mut self.buf);
                    if self.framing == Framing::Fuji {
                        if let Some(n) = a.iter().position(|&b| b == 0) {
                            a.truncate(n);
                        }
                    }
                    self.answer(a);
                }
            }
            Framing::Sgs => {
                if data.is_empty() {
                    self.answer(Vec::new());
                    return;
                }
                let n = usize::from(data.first().copied().unwrap_or(0)).min(7);
                self.buf.extend(data.iter().skip(1).take(n));
                if self.buf.len() + 8 > BUFLEN {
                    self.finish_sgs();
                }
            }
            Framing::Ippon => {
                let len = match data.iter().position(|&b| b == b'\r') {
                    Some(i) => i + 1,
                    None => data.iter().position(|&b| b == 0).unwrap_or(data.len()),
                };
                let mut a = data.get(..len.min(BUFLEN - 1)).unwrap_or(&[]).to_vec();
                add_cr(&mut a);
                self.answer(a);
            }
            Framing::Phoenixtec => {
                let had_cr = data.contains(&b'\r');
                self.buf.extend_from_slice(&data);
                if had_cr {
                    let n = self.buf.iter().position(|&b| b == b'\r').unwrap_or(0);
                    let mut a = core::mem::take(&mut self.buf);
                    a.truncate(n + 1);
                    self.answer(a);
                } else if self.buf.len() >= BUFLEN || data.is_empty() {
                    self.answer(Vec::new());
                }
            }
            Framing::Krauler | Framing::Snr => {
                if data.is_empty() {
                    self.answer(Vec::new());
                    return;
                }
                let mut a = if self.langid.is_some() {
                    match descriptor_to_ascii(&data) {
                        Some(a) => a,
                        None => {
                            self.retry_string();
                            return;
                        }
                    }
                } else {
                    data
                };
                if self.framing == Framing::Krauler {
                    add_cr(&mut a);
                }
                if is_no_ack(&a) {
                    self.retry_string();
                    return;
                }
                if let Some(b) = a.first_mut() {
                    *b = self.prefix;
                }
                self.answer(a);
            }
            Framing::Fabula | Framing::Hunnox => {
                if data.is_empty() {
                    self.answer(Vec::new());
                    return;
                }
                let mut a = if self.framing == Framing::Hunnox && self.langid.is_some() {
                    match descriptor_to_ascii(&data) {
                        Some(a) => a,
                        None => {
                            self.answer(Vec::new());
                            return;
                        }
                    }
                } else {
                    data
                };
                if self.framing == Framing::Fabula {
                    add_cr(&mut a);
                }
                if is_no_ack(&a) {
                    a.clear();
                }
                self.answer(a);
            }
            Framing::Ablerex => {
                let a: Vec<u8> = data.iter().take(47).copied().collect();
                let len = a.iter().position(|&b| b == b'\r').map_or(0, |i| i + 1);
                let q = self.query.as_slice();
                let want = match q {
                    b"Q1\r" => Some(47),
                    b"I\r" => Some(39),
                    b"F\r" => Some(22),
                    _ => None,
                };
                if q == b"Q5\r" && len != 22 {
                    let mut f = alloc::vec![b'('];
                    f.resize(22, 0);
                    self.answer(f);
                    return;
                }
                if want.is_some_and(|w| w != len) {
                    self.tries += 1;
                    if self.tries >= 3 {
                        self.answer(Vec::new());
                    } else {
                        self.plan_ablerex();
                        self.phase = Phase::Write;
                    }
                    return;
                }
                let mut a = a;
                a.truncate(len);
                self.answer(a);
            }
            Framing::Armac => self.armac_chunk(&data),
        }
    }

    fn read_error(&mut self, r: TransferResult) {
        match self.framing {
            // A timeout ends an SGS answer.
            Framing::Sgs if r == TransferResult::Timeout => self.finish_sgs(),
            // armac: an error after some bytes returns what arrived? No:
            // NUT returns the error code; a zero read returns the bytes.
            _ => self.fail(r),
        }
    }

    fn finish_sgs(&mut self) {
        let mut a = core::mem::take(&mut self.buf);
        add_cr(&mut a);
        self.answer(a);
    }

    fn retry_string(&mut self) {
        self.tries += 1;
        if self.tries >= 10 {
            self.answer(Vec::new());
        }
    }

    fn armac_chunk(&mut self, data: &[u8]) {
        if data.is_empty() {
            let a = core::mem::take(&mut self.buf);
            self.answer(a);
            return;
        }
        let avail = usize::from(data.first().copied().unwrap_or(0) & 0x3f)
            .min(data.len().saturating_sub(1));
        if avail == 0 {
            let a = core::mem::take(&mut self.buf);
            self.answer(a);
            return;
        }
        for &b in data.iter().skip(1).take(avail) {
            if b == 0 {
                if self.buf.is_empty() {
                    // A switched-off UPS answers NULs: no answer.
                    self.answer(Vec::new());
                    return;
                }
                if self.buf.len() >= 38 {
                    self.buf.push(b'0');
                    continue;
                }
                let a = core::mem::take(&mut self.buf);
                self.answer(a);
                return;
            }
            self.buf.push(b);
            if b == b'\r' {
                let a = core::mem::take(&mut self.buf);
                self.answer(a);
                return;
            }
        }
        if self.buf.len() + 6 + 1 >= BUFLEN {
            self.done = Some(Err(UsbError::Overflow { query: escape(&self.query), max: BUFLEN }));
            self.phase = Phase::Done;
            return;
        }
        // Let the chip buffer more bytes.
        self.sleep_next = avail <= 2;
    }

    /// Whether the exchange is over.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The answer (for [`crate::Session::handle_answer`]) or why there is
    /// none. An exchange stopped early counts as an empty answer.
    pub fn finish(self) -> Result<Vec<u8>, UsbError> {
        match self.done {
            Some(r) => r,
            None => Ok(self.buf),
        }
    }
}

/// Phoenixtec: whether a command expects an answer (queries do; `T`, `TL`,
/// `S`, `C`, `CT`, `M`, `N`, `O`, `SRC`, `FCLR`, `SS`, `TUD`, `SSN` not
/// followed by a capital letter do not).
pub fn phoenixtec_expects_answer(cmd: &[u8]) -> bool {
    const NO_REPLY: [&[u8]; 13] =
        [b"T", b"TL", b"S", b"C", b"CT", b"M", b"N", b"O", b"SRC", b"FCLR", b"SS", b"TUD", b"SSN"];
    !NO_REPLY
        .iter()
        .any(|p| cmd.starts_with(p) && !cmd.get(p.len()).is_some_and(u8::is_ascii_uppercase))
}

fn fabula_r_nonzero(q: &[u8]) -> bool {
    let Some(r) = q.iter().position(|&b| b == b'R') else { return false };
    let digits: Vec<u8> =
        q.iter().skip(r + 1).take_while(|b| b.is_ascii_digit()).copied().collect();
    !digits.is_empty() && digits.iter().any(|&d| d != b'0')
}

/// Runs an exchange against canned transfer results (for tests and
/// replays): every transfer takes the next result; `None` when results run
/// out first.
pub fn replay(
    bridge: &mut Bridge,
    query: &[u8],
    results: &[TransferResult],
) -> Option<Result<Vec<u8>, UsbError>> {
    let mut ex = bridge.exchange(query);
    let mut it = results.iter();
    let mut guard = 0;
    while let Some(_t) = ex.next_transfer() {
        guard += 1;
        if guard > 4096 {
            return None;
        }
        ex.handle_result(it.next()?.clone());
    }
    Some(ex.finish())
}

/// One row of a USB claim table: VID, PID, exact vendor and product
/// strings when given, and the framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceId {
    /// USB vendor id.
    pub vendor_id: u16,
    /// USB product id.
    pub product_id: u16,
    /// The iManufacturer string it must equal, if any.
    pub vendor: Option<&'static str>,
    /// The iProduct string it must equal, if any.
    pub product: Option<&'static str>,
    /// The framing.
    pub framing: Framing,
}

const fn id(
    vendor_id: u16,
    product_id: u16,
    vendor: Option<&'static str>,
    product: Option<&'static str>,
    framing: Framing,
) -> DeviceId {
    DeviceId { vendor_id, product_id, vendor, product, framing }
}

/// nutdrv_qx's USB table (NUT 2.8.0); the first matching row wins. The
/// `snr` row is never reached by matching (hunnox and krauler match
/// first), as in NUT: use `subdriver=snr`.
pub static NUTDRV_QX_DEVICES: &[DeviceId] = &[
    id(0x05b8, 0x0000, None, None, Framing::Cypress),
    id(0xffff, 0x0000, None, None, Framing::Ablerex),
    id(0x1cb0, 0x0035, None, None, Framing::Krauler),
    id(0x0665, 0x5161, None, None, Framing::Cypress),
    id(0x06da, 0x0002, Some("Phoenixtec Power"), Some("USB Cable (V2.00)"), Framing::Phoenixtec),
    id(0x06da, 0x0002, None, None, Framing::Cypress),
    id(0x06da, 0x0003, None, None, Framing::Ippon),
    id(0x06da, 0x0004, None, None, Framing::Cypress),
    id(0x06da, 0x0005, None, None, Framing::Cypress),
    id(0x06da, 0x0201, None, None, Framing::Cypress),
    id(0x06da, 0x0601, None, None, Framing::Phoenix),
    id(0x0f03, 0x0001, None, None, Framing::Cypress),
    id(0x14f0, 0x00c9, None, None, Framing::Phoenix),
    id(0x0483, 0x0035, None, None, Framing::Sgs),
    id(0x0001, 0x0000, Some("MEC"), Some("MEC0003"), Framing::Fabula),
    id(0x0001, 0x0000, None, Some("MEC0003"), Framing::Hunnox),
    id(0x0001, 0x0000, Some("ATCL FOR UPS"), Some("ATCL FOR UPS"), Framing::Fuji),
    id(0x0001, 0x0000, None, None, Framing::Krauler),
    id(0x0001, 0x0000, None, Some("MEC0003"), Framing::Snr),
    id(0x0925, 0x1234, None, None, Framing::Armac),
];

/// blazer_usb's USB table (NUT 2.8.0).
pub static BLAZER_USB_DEVICES: &[DeviceId] = &[
    id(0x05b8, 0x0000, None, None, Framing::Cypress),
    id(0x0001, 0x0000, None, None, Framing::Krauler),
    id(0xffff, 0x0000, None, None, Framing::Krauler),
    id(0x0665, 0x5161, None, None, Framing::Cypress),
    id(0x06da, 0x0002, None, None, Framing::Cypress),
    id(0x06da, 0x0003, None, None, Framing::Ippon),
    id(0x06da, 0x0004, None, None, Framing::Cypress),
    id(0x06da, 0x0005, None, None, Framing::Cypress),
    id(0x06da, 0x0201, None, None, Framing::Cypress),
    id(0x06da, 0x0601, None, None, Framing::Phoenix),
    id(0x0f03, 0x0001, None, None, Framing::Cypress),
    id(0x14f0, 0x00c9, None, None, Framing::Phoenix),
];

/// The framing of the first row of `table` matching the device.
pub fn match_device(
    table: &[DeviceId],
    vendor_id: u16,
    product_id: u16,
    vendor: Option<&str>,
    product: Option<&str>,
) -> Option<Framing> {
    table
        .iter()
        .find(|d| {
            d.vendor_id == vendor_id
                && d.product_id == product_id
                && d.vendor.is_none_or(|v| vendor == Some(v))
                && d.product.is_none_or(|p| product == Some(p))
        })
        .map(|d| d.framing)
}
