//! Byte scanning eight bytes at a time (SWAR), in safe Rust.
//!
//! The framer and the tokenizer spend most of their time skipping runs of
//! bytes that cannot change their state. Each `*_mask` function below marks
//! the interesting bytes of a little-endian `u64` with their high bit; only
//! the lowest marked byte is exact (a borrow can mark bytes above it), which
//! is all [`find`] uses.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `w` equal to `b`.
#[inline(always)]
pub(crate) const fn eq(w: u64, b: u8) -> u64 {
    let x = w ^ (LO * b as u64);
    x.wrapping_sub(LO) & !x & HI
}

/// Marks the bytes of `w` below `n` (`n <= 0x80`).
#[inline(always)]
pub(crate) const fn lt(w: u64, n: u8) -> u64 {
    w.wrapping_sub(LO * n as u64) & !w & HI
}

/// Marks the bytes of `w` at or above 0x80.
#[inline(always)]
pub(crate) const fn high(w: u64) -> u64 {
    w & HI
}

/// The offset of the first byte of `hay` that `byte` accepts. `word` must
/// mark (at least the first of) exactly those bytes in an eight-byte word.
#[inline(always)]
pub(crate) fn find(
    hay: &[u8],
    word: impl Fn(u64) -> u64,
    byte: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else { break };
        let m = word(u64::from_le_bytes(bytes));
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    let tail = chunks.remainder();
    if tail.is_empty() {
        return None;
    }
    if hay.len() >= 8 {
        // The last eight bytes, overlapping bytes already seen: those hold
        // no match, so they mark nothing and the lowest mark is exact.
        let Ok(bytes) = <[u8; 8]>::try_from(&hay[hay.len() - 8..]) else { return None };
        let m = word(u64::from_le_bytes(bytes));
        return (m != 0).then(|| hay.len() - 8 + (m.trailing_zeros() / 8) as usize);
    }
    tail.iter().position(|&b| byte(b)).map(|p| base + p)
}

/// Whether any byte of `hay` is one that `byte` accepts (`word` as for
/// [`find`]).
#[inline(always)]
pub(crate) fn any(hay: &[u8], word: impl Fn(u64) -> u64, byte: impl Fn(u8) -> bool) -> bool {
    if hay.len() < 8 {
        return hay.iter().any(|&b| byte(b));
    }
    let mut m = 0;
    let mut chunks = hay.chunks_exact(8);
    for chunk in &mut chunks {
        if let Ok(bytes) = <[u8; 8]>::try_from(chunk) {
            m |= word(u64::from_le_bytes(bytes));
        }
    }
    if !chunks.remainder().is_empty() {
        if let Ok(bytes) = <[u8; 8]>::try_from(&hay[hay.len() - 8..]) {
            m |= word(u64::from_le_bytes(bytes));
        }
    }
    m != 0
}

/// Offset of the first LF.
#[inline]
pub(crate) fn find_lf(hay: &[u8]) -> Option<usize> {
    find(hay, |w| eq(w, b'\n'), |b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn check(hay: &[u8], word: impl Fn(u64) -> u64 + Copy, byte: impl Fn(u8) -> bool + Copy) {
        for start in 0..hay.len() {
            let h = &hay[start..];
            assert_eq!(find(h, word, byte), h.iter().position(|&b| byte(b)), "{h:?}");
            assert_eq!(any(h, word, byte), h.iter().any(|&b| byte(b)), "{h:?}");
        }
    }

    #[test]
    fn masks_agree_with_bytes() {
        // Every pair of bytes at every offset in a 17-byte window, on a
        // background of each "quiet" byte.
        let probes: Vec<u8> = (0..=255u8).collect();
        for &bg in &[b'a', b' ', 0x7f, 0x21] {
            for &x in &probes {
                for pos in [0usize, 3, 7, 8, 12, 16] {
                    let mut hay = alloc::vec![bg; 17];
                    hay[pos] = x;
                    if pos + 1 < hay.len() {
                        hay[pos + 1] = x.wrapping_add(1);
                    }
                    check(&hay, |w| eq(w, b'\n'), |b| b == b'\n');
                    check(&hay, |w| lt(w, 0x20) | high(w), |b| !(0x20..0x80).contains(&b));
                    check(
                        &hay,
                        |w| lt(w, 0x21) | high(w) | eq(w, b'#') | eq(w, b'='),
                        |b| b <= 0x20 || b >= 0x80 || b == b'#' || b == b'=',
                    );
                }
            }
        }
    }
}
