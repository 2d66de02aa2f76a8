//! Fuzz body for the usbhid-ups mapping engine (`nut_hid::mapping`).

use nut_hid::ReportType;
use nut_hid::mapping::{DeviceInfo, HidIo, IoError, Mapper, Options};
use nut_hid::subdrivers::is_valid_nut_name;
use nut_proto::publish::{MAX_VALUE_LEN, Publish, Recorder};
use std::collections::BTreeSet;

/// A device answering from the fuzz input: each GET_REPORT takes one length byte and
/// that many bytes (a length of 0 is a STALL, 0xff a lost device).
struct Stream<'a> {
    data: &'a [u8],
    gets_this_walk: Vec<u8>,
}

impl HidIo for Stream<'_> {
    fn get_report(&mut self, _: ReportType, id: u8, buf: &mut [u8]) -> Result<usize, IoError> {
        self.gets_this_walk.push(id);
        let (&n, rest) = self.data.split_first().ok_or(IoError::Failed)?;
        if n == 0xff {
            self.data = rest;
            return Err(IoError::Disconnected);
        }
        let n = usize::from(n).min(rest.len());
        let (chunk, rest) = rest.split_at(n);
        self.data = rest;
        if n == 0 {
            return Err(IoError::Failed);
        }
        let k = n.min(buf.len());
        buf[..k].copy_from_slice(&chunk[..k]);
        if let Some(b) = buf.first_mut() {
            *b = id;
        }
        Ok(k)
    }
    fn set_report(&mut self, _: ReportType, _: u8, data: &[u8]) -> Result<usize, IoError> {
        Ok(data.len())
    }
    fn string(&mut self, index: u8) -> Result<String, IoError> {
        if index % 3 == 0 { Err(IoError::Failed) } else { Ok(format!("str{index}")) }
    }
}

fn check(out: &Recorder) {
    for (name, v) in out.tree().vars() {
        assert!(v.value.len() <= MAX_VALUE_LEN, "{name} too long");
        assert!(is_valid_nut_name(name), "bad variable name {name:?}");
    }
    for c in out.tree().commands() {
        assert!(is_valid_nut_name(c), "bad command name {c:?}");
    }
    if let Some(s) = out.getinfo("ups.status") {
        const TOKENS: [&str; 14] = [
            "ALARM", "OL", "OB", "DISCHRG", "CHRG", "LB", "OVER", "RB", "TRIM", "BOOST",
            "BYPASS", "OFF", "CAL", "FSD",
        ];
        assert!(s.split(' ').all(|t| TOKENS.contains(&t)), "bad status {s:?}");
    }
}

/// Input: VID and PID (LE), descriptor length (LE u16), the descriptor, then the report
/// stream the device answers from. Never panics; published names are NUT names, values
/// fit NUT's limit, status tokens are NUT's; in one walk each report is read at most
/// once; SET and commands on everything published never panic.
pub fn hid_mapping(data: &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<6>() else { return };
    let vid = u16::from_le_bytes([head[0], head[1]]);
    let pid = u16::from_le_bytes([head[2], head[3]]);
    let dlen = usize::from(u16::from_le_bytes([head[4], head[5]])).min(rest.len());
    let (desc, stream) = rest.split_at(dlen);
    let info = DeviceInfo {
        vendor_id: vid,
        product_id: pid,
        vendor: Some("Fuzz"),
        product: Some("Fuzz UPS FW:1.0 USB FW:2"),
        serial: None,
    };
    let opts = Options { productid_set: true, ..Options::default() };
    let Ok(mut m) = Mapper::new(desc, &info, &opts) else { return };
    let mut io = Stream { data: stream, gets_this_walk: Vec::new() };
    let mut out = Recorder::new();
    if m.init(&mut io, &info, &mut out).is_err() {
        return;
    }
    check(&out);
    for full in [false, true, false] {
        io.gets_this_walk.clear();
        let _ = m.update(&mut io, &mut out, full);
        let distinct: BTreeSet<u8> = io.gets_this_walk.iter().copied().collect();
        assert_eq!(distinct.len(), io.gets_this_walk.len(), "a report read twice in one walk");
        check(&out);
    }
    let report: Vec<u8> = io.data.iter().copied().take(64).collect();
    m.handle_interrupt(&mut io, &mut out, &report);
    let names: Vec<String> = out.tree().vars().map(|(n, _)| n.to_string()).collect();
    for n in names.iter().take(32) {
        let _ = m.setvar(&mut io, &mut out, n, "1");
    }
    let cmds: Vec<String> = out.tree().commands().map(str::to_string).collect();
    for c in cmds.iter().take(32) {
        let _ = m.instcmd(&mut io, &mut out, c, None);
    }
    let _ = m.shutdown(&mut io, &mut out);
    check(&out);
}
