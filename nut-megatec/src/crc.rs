//! The CRC of Voltronic-Axpert (P30) queries and answers: CRC-16 with
//! polynomial 0x1021 and initial value 0 (XMODEM), where a CRC byte that
//! would read as LF, CR or `(` is incremented by one.

use alloc::vec::Vec;

/// The CRC of `data`, with NUT's adjustment of the LF / CR / `(` bytes.
pub fn compute(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    let adjust = |x: u8| if matches!(x, 10 | 13 | 40) { x + 1 } else { x };
    let [hi, lo] = crc.to_be_bytes();
    u16::from_be_bytes([adjust(hi), adjust(lo)])
}

/// `cmd` with its CRC inserted before the CR (or appended); `None` for an
/// empty command.
pub fn add(cmd: &[u8]) -> Option<Vec<u8>> {
    let cr = cmd.iter().position(|&b| b == b'\r');
    let body = match cr {
        Some(n) => cmd.get(..n)?,
        None => cmd.get(..cmd.iter().position(|&b| b == 0).unwrap_or(cmd.len()))?,
    };
    if body.is_empty() {
        return None;
    }
    let mut out = body.to_vec();
    out.extend_from_slice(&compute(body).to_be_bytes());
    if cr.is_some() {
        out.push(b'\r');
    }
    Some(out)
}

/// The answer without its CRC (the CR kept), `None` when the CRC is wrong
/// or missing.
pub fn check_and_remove(answer: &[u8]) -> Option<Vec<u8>> {
    let cr = answer.iter().position(|&b| b == b'\r');
    let len = cr.unwrap_or_else(|| answer.iter().position(|&b| b == 0).unwrap_or(answer.len()));
    if len < 3 {
        return None;
    }
    let body = answer.get(..len - 2)?;
    let got = answer.get(len - 2..len)?;
    if compute(body).to_be_bytes() != got {
        return None;
    }
    let mut out = body.to_vec();
    if cr.is_some() {
        out.push(b'\r');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_crcs() {
        // CRC-16/XMODEM check value.
        assert_eq!(compute(b"123456789"), 0x31c3);
        // The Axpert queries as documented for these inverters.
        assert_eq!(add(b"QPIGS\r").unwrap(), b"QPIGS\xb7\xa9\r");
        assert_eq!(add(b"QPI\r").unwrap(), b"QPI\xbe\xac\r");
        assert_eq!(check_and_remove(b"QPI\xbe\xac\r").unwrap(), b"QPI\r");
        assert_eq!(check_and_remove(b"QPI\xbe\xad\r"), None);
        assert_eq!(check_and_remove(b"Q\r"), None);
        assert_eq!(add(b"\r"), None);
    }
}
