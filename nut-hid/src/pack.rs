//! Relocation-free tables.
//!
//! The usage name and subdriver tables are written as ordinary `const`
//! arrays of rows holding `&'static str`s, and packed at compile time by the
//! `const fn`s below into one byte blob of strings plus rows of plain
//! integers (offsets and lengths into the blob). A `static` that holds no
//! pointer needs no load-time relocation, so it stays in `.rodata`: shared,
//! file-backed pages instead of private dirty ones in every process. The
//! source arrays, being `const`, are only evaluated and never emitted.
//!
//! Every check here runs at compile time: a table that does not fit (a
//! string of 255 bytes or more, a blob over 64 KiB, more than 254 lookup
//! tables) fails the build, never a run.

use crate::subdrivers::{InfoRow, LookupTable};
use crate::usage::UsageName;

/// Where one string lies in a blob. `len == NONE_LEN` stands for a missing
/// (`None`) string. Packed to 3 bytes, so that an info row takes 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed)]
pub(crate) struct Span {
    off: u16,
    len: u8,
}

/// The length that marks a missing string.
const NONE_LEN: u8 = u8::MAX;

impl Span {
    pub(crate) const NONE: Span = Span { off: 0, len: NONE_LEN };

    /// The byte range in the blob (`None` for a missing string).
    fn range(self) -> Option<core::ops::Range<usize>> {
        if self.len == NONE_LEN {
            return None;
        }
        let start = usize::from(self.off);
        Some(start..start + usize::from(self.len))
    }

    /// The string's bytes (`None` for a missing string, or if out of range,
    /// which packed data never is).
    pub(crate) fn bytes(self, blob: &'static str) -> Option<&'static [u8]> {
        blob.as_bytes().get(self.range()?)
    }

    /// Whether the string is exactly `s` (lengths compared first).
    pub(crate) fn is(self, blob: &'static str, s: &[u8]) -> bool {
        usize::from(self.len) == s.len() && self.bytes(blob) == Some(s)
    }

    /// The length byte of a string of `n` bytes, if a packed string can
    /// have that length: compare it with [`len_byte`](Self::len_byte) to
    /// skip rows cheaply.
    pub(crate) fn len_of(n: usize) -> Option<u8> {
        u8::try_from(n).ok().filter(|&l| l != NONE_LEN)
    }

    /// The stored length byte ([`NONE_LEN`] for a missing string).
    pub(crate) fn len_byte(self) -> u8 {
        self.len
    }

    /// Whether the string is `s`, ASCII case-insensitively.
    pub(crate) fn is_ignore_ascii_case(self, blob: &'static str, s: &[u8]) -> bool {
        usize::from(self.len) == s.len()
            && self.bytes(blob).is_some_and(|b| b.eq_ignore_ascii_case(s))
    }

    /// The string (`None` for a missing one; a span that is out of range or
    /// not on character boundaries, which packed data never is, reads as
    /// empty).
    pub(crate) fn opt_str(self, blob: &'static str) -> Option<&'static str> {
        Some(blob.get(self.range()?).unwrap_or(""))
    }

    /// The string, empty when missing.
    pub(crate) fn str(self, blob: &'static str) -> &'static str {
        self.opt_str(blob).unwrap_or("")
    }
}

/// A packed blob as text, checked once (at compile time: the tables' blobs
/// are only handed over in `static` initializers). Blobs are concatenated
/// `&str`s, so the check cannot fail; if it did, every string of the table
/// would read as empty rather than anything panicking.
pub(crate) const fn blob_str(blob: &'static [u8]) -> &'static str {
    match core::str::from_utf8(blob) {
        Ok(s) => s,
        Err(_) => "",
    }
}

/// The strings of a table packed into a scratch blob of `B` bytes (the sum
/// of all lengths), of which the first `used` count.
pub(crate) struct Strings<const B: usize, const M: usize> {
    pub(crate) blob: [u8; B],
    pub(crate) used: usize,
    pub(crate) spans: [Span; M],
}

/// The sum of the lengths of `strs`: room enough for their blob.
pub(crate) const fn total_len(strs: &[Option<&str>]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < strs.len() {
        if let Some(s) = strs[i] {
            n += s.len();
        }
        i += 1;
    }
    n
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Packs `strs` into one blob; a string equal to an earlier one shares its
/// bytes.
pub(crate) const fn pack_strs<const B: usize, const M: usize>(
    strs: &[Option<&str>; M],
) -> Strings<B, M> {
    let mut out = Strings { blob: [0; B], used: 0, spans: [Span::NONE; M] };
    // The distinct strings so far, as spans of the blob.
    let mut distinct = [Span::NONE; M];
    let mut nd = 0;
    let mut i = 0;
    while i < M {
        if let Some(s) = strs[i] {
            let b = s.as_bytes();
            assert!(b.len() < NONE_LEN as usize, "table string of 255 bytes or more");
            let len = b.len() as u8;
            let mut span = Span { off: 0, len };
            let mut found = false;
            let mut j = 0;
            while j < nd && !found {
                let d = distinct[j];
                if d.len == len && same_at(&out.blob, d.off as usize, b) {
                    span = d;
                    found = true;
                }
                j += 1;
            }
            if !found {
                assert!(out.used + b.len() <= u16::MAX as usize, "table blob over 64 KiB");
                span.off = out.used as u16;
                let mut k = 0;
                while k < b.len() {
                    out.blob[out.used + k] = b[k];
                    k += 1;
                }
                out.used += b.len();
                distinct[nd] = span;
                nd += 1;
            }
            out.spans[i] = span;
        }
        i += 1;
    }
    out
}

/// Whether `blob` holds `b` at `off`.
const fn same_at(blob: &[u8], off: usize, b: &[u8]) -> bool {
    let mut k = 0;
    while k < b.len() {
        if blob[off + k] != b[k] {
            return false;
        }
        k += 1;
    }
    true
}

/// The first `K` bytes of a scratch blob: the blob that is kept.
pub(crate) const fn prefix<const K: usize, const B: usize>(blob: &[u8; B]) -> [u8; K] {
    let mut out = [0; K];
    let mut i = 0;
    while i < K {
        out[i] = blob[i];
        i += 1;
    }
    out
}

/// A usage name row: the usage and the span of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameRow {
    pub(crate) usage: u32,
    pub(crate) name: Span,
}

/// The names of `src`, in order.
pub(crate) const fn name_strs<const M: usize>(src: &[UsageName]) -> [Option<&'static str>; M] {
    assert!(src.len() == M);
    let mut out = [None; M];
    let mut i = 0;
    while i < M {
        out[i] = Some(src[i].name);
        i += 1;
    }
    out
}

/// The rows of a usage name table, given the spans [`pack_strs`] gave
/// [`name_strs`].
pub(crate) const fn name_rows<const N: usize>(src: &[UsageName], spans: &[Span]) -> [NameRow; N] {
    assert!(src.len() == N && spans.len() == N);
    let mut out = [NameRow { usage: 0, name: Span::NONE }; N];
    let mut i = 0;
    while i < N {
        out[i] = NameRow { usage: src[i].usage, name: spans[i] };
        i += 1;
    }
    out
}

/// Packs a `const` slice of [`UsageName`] rows into a
/// [`NameTable`](crate::usage::NameTable) `static` value.
/// The items the expansion declares are named `PACK_*`; the argument
/// must not name such an item itself.
macro_rules! name_table {
    ($src:expr) => {{
        const PACK_SRC: &[$crate::usage::UsageName] = $src;
        const PACK_N: usize = PACK_SRC.len();
        const PACK_STRS: [Option<&str>; PACK_N] = $crate::pack::name_strs(PACK_SRC);
        const PACK_P: $crate::pack::Strings<{ $crate::pack::total_len(&PACK_STRS) }, PACK_N> =
            $crate::pack::pack_strs(&PACK_STRS);
        static PACK_BLOB: [u8; PACK_P.used] = $crate::pack::prefix(&PACK_P.blob);
        static PACK_ROWS: [$crate::pack::NameRow; PACK_N] =
            $crate::pack::name_rows(PACK_SRC, &PACK_P.spans);
        $crate::usage::NameTable::from_packed(&PACK_BLOB, &PACK_ROWS)
    }};
}
pub(crate) use name_table;

/// A packed [`InfoRow`]: spans into the table's blob and the lookup table
/// as an index into the table's lookup list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InfoPacked {
    pub(crate) var: Span,
    pub(crate) path: Span,
    pub(crate) dfl: Span,
    pub(crate) nut_flags: u16,
    pub(crate) len: u16,
    pub(crate) hu_flags: u16,
    /// Index into the lookup list, [`NO_LOOKUP`] for none.
    pub(crate) lookup: u8,
}

/// The lookup index of a row without a lookup table.
pub(crate) const NO_LOOKUP: u8 = u8::MAX;

/// The number of rows of all `tables`.
pub(crate) const fn rows_total(tables: &[&[InfoRow]]) -> usize {
    let mut n = 0;
    let mut k = 0;
    while k < tables.len() {
        n += tables[k].len();
        k += 1;
    }
    n
}

/// The strings of all `tables`, table after table: variable, path and
/// default of each row in turn.
pub(crate) const fn info_strs_all<const M: usize>(
    tables: &[&[InfoRow]],
) -> [Option<&'static str>; M] {
    assert!(rows_total(tables) * 3 == M);
    let mut out = [None; M];
    let mut at = 0;
    let mut k = 0;
    while k < tables.len() {
        let src = tables[k];
        let mut i = 0;
        while i < src.len() {
            out[at] = Some(src[i].var);
            out[at + 1] = Some(src[i].path);
            out[at + 2] = src[i].dfl;
            at += 3;
            i += 1;
        }
        k += 1;
    }
    out
}

/// The spans of table `k`'s strings, out of the spans [`pack_strs`] gave
/// [`info_strs_all`] of `tables`.
pub(crate) const fn spans_of<const M: usize>(
    tables: &[&[InfoRow]],
    k: usize,
    all: &[Span],
) -> [Span; M] {
    assert!(tables[k].len() * 3 == M, "table index does not match the rows");
    let start = 3 * rows_total(tables.split_at(k).0);
    let mut out = [Span::NONE; M];
    let mut i = 0;
    while i < M {
        out[i] = all[start + i];
        i += 1;
    }
    out
}

/// Whether two lookup tables are the same one (NUT's table names are
/// unique).
const fn same_table(a: &LookupTable, b: &LookupTable) -> bool {
    same(a.name.as_bytes(), b.name.as_bytes())
}

/// Where `t` first appears among the lookups of rows `0..end`, if it does.
const fn first_use(src: &[InfoRow], end: usize, t: &LookupTable) -> Option<usize> {
    let mut i = 0;
    while i < end {
        if let Some(u) = src[i].lookup {
            if same_table(u, t) {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// How many distinct lookup tables the rows of `src` use.
pub(crate) const fn lookup_count(src: &[InfoRow]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < src.len() {
        if let Some(t) = src[i].lookup {
            if first_use(src, i, t).is_none() {
                n += 1;
            }
        }
        i += 1;
    }
    n
}

/// The distinct lookup tables the rows of `src` use, in order of first use.
pub(crate) const fn lookup_list<const PACK_L: usize>(
    src: &[InfoRow],
) -> [&'static LookupTable; PACK_L] {
    assert!(PACK_L < NO_LOOKUP as usize, "more than 254 lookup tables");
    const FILLER: &LookupTable = &LookupTable { name: "", rows: &[], conv: None };
    let mut out = [FILLER; PACK_L];
    let mut n = 0;
    let mut i = 0;
    while i < src.len() {
        if let Some(t) = src[i].lookup {
            if first_use(src, i, t).is_none() {
                out[n] = t;
                n += 1;
            }
        }
        i += 1;
    }
    assert!(n == PACK_L);
    out
}

/// The packed rows of `src`, given the spans [`pack_strs`] gave its
/// strings ([`info_strs_all`]) and the list [`lookup_list`] gave.
pub(crate) const fn info_rows<const PACK_N: usize>(
    src: &[InfoRow],
    spans: &[Span],
    lookups: &[&LookupTable],
) -> [InfoPacked; PACK_N] {
    assert!(src.len() == PACK_N && spans.len() == 3 * PACK_N);
    let blank = InfoPacked {
        var: Span::NONE,
        path: Span::NONE,
        dfl: Span::NONE,
        nut_flags: 0,
        len: 0,
        hu_flags: 0,
        lookup: NO_LOOKUP,
    };
    let mut out = [blank; PACK_N];
    let mut i = 0;
    while i < PACK_N {
        let r = &src[i];
        let mut lookup = NO_LOOKUP;
        if let Some(t) = r.lookup {
            let mut k = 0;
            while k < lookups.len() {
                if same_table(lookups[k], t) {
                    lookup = k as u8;
                    break;
                }
                k += 1;
            }
            assert!(lookup != NO_LOOKUP, "lookup table missing from the list");
        }
        out[i] = InfoPacked {
            var: spans[3 * i],
            path: spans[3 * i + 1],
            dfl: spans[3 * i + 2],
            nut_flags: r.nut_flags,
            len: r.len,
            hu_flags: r.hu_flags,
            lookup,
        };
        i += 1;
    }
    out
}

/// Packs a `const` slice of [`InfoRow`]s into an
/// [`InfoTable`](crate::subdrivers::InfoTable) `static` value.
/// The items the expansion declares are named `PACK_*`; the argument
/// must not name such an item itself.
///
/// `info_table!(ROWS, in k)` packs table number `k` of
/// [`ALL_INFO_ROWS`](crate::subdrivers::ALL_INFO_ROWS), whose strings are
/// in the blob all subdrivers share.
macro_rules! info_table {
    ($src:expr, in $k:expr) => {{
        const PACK_SRC: &[$crate::subdrivers::InfoRow] = $src;
        const PACK_N: usize = PACK_SRC.len();
        const PACK_SPANS: [$crate::pack::Span; 3 * PACK_N] = $crate::pack::spans_of(
            &$crate::subdrivers::ALL_INFO_ROWS,
            $k,
            &$crate::subdrivers::INFO_STRINGS.spans,
        );
        const PACK_L: usize = $crate::pack::lookup_count(PACK_SRC);
        const PACK_LOOKUPS: [&$crate::subdrivers::LookupTable; PACK_L] =
            $crate::pack::lookup_list(PACK_SRC);
        static PACK_ROWS: [$crate::pack::InfoPacked; PACK_N] =
            $crate::pack::info_rows(PACK_SRC, &PACK_SPANS, &PACK_LOOKUPS);
        static PACK_LIST: [&$crate::subdrivers::LookupTable; PACK_L] = PACK_LOOKUPS;
        $crate::subdrivers::InfoTable::from_packed(
            &$crate::subdrivers::INFO_BLOB,
            &PACK_ROWS,
            &PACK_LIST,
        )
    }};
    ($src:expr) => {{
        const PACK_SRC: &[$crate::subdrivers::InfoRow] = $src;
        const PACK_N: usize = PACK_SRC.len();
        const PACK_STRS: [Option<&str>; 3 * PACK_N] = $crate::pack::info_strs_all(&[PACK_SRC]);
        const PACK_P: $crate::pack::Strings<
            { $crate::pack::total_len(&PACK_STRS) },
            { 3 * PACK_N },
        > = $crate::pack::pack_strs(&PACK_STRS);
        const PACK_L: usize = $crate::pack::lookup_count(PACK_SRC);
        const PACK_LOOKUPS: [&$crate::subdrivers::LookupTable; PACK_L] =
            $crate::pack::lookup_list(PACK_SRC);
        static PACK_BLOB: [u8; PACK_P.used] = $crate::pack::prefix(&PACK_P.blob);
        static PACK_ROWS: [$crate::pack::InfoPacked; PACK_N] =
            $crate::pack::info_rows(PACK_SRC, &PACK_P.spans, &PACK_LOOKUPS);
        static PACK_LIST: [&$crate::subdrivers::LookupTable; PACK_L] = PACK_LOOKUPS;
        $crate::subdrivers::InfoTable::from_packed(&PACK_BLOB, &PACK_ROWS, &PACK_LIST)
    }};
}
pub(crate) use info_table;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subdrivers::InfoTable;
    use crate::usage::NameTable;
    use alloc::vec::Vec;

    static NAMES: NameTable = name_table!(&[
        UsageName::new("Alpha", 0x0084_0001),
        UsageName::new("bb", 0x0084_0002),
        UsageName::new("Alpha", 0x0084_0003),
        UsageName::new("", 0x0084_0004),
    ]);

    static EMPTY_NAMES: NameTable = name_table!(&[]);

    static T1: LookupTable = LookupTable { name: "t1", rows: &[], conv: None };
    static T2: LookupTable = LookupTable { name: "t2", rows: &[], conv: None };

    const ROWS: &[InfoRow] = &[
        InfoRow::new("a.b", 1, 2, "UPS.X", None, 3, Some(&T2)),
        InfoRow::new("a.b", 0, 0, "UPS.Y", Some(""), 0, None),
        InfoRow::new("c", 0, 0, "UPS.X", Some("%.0f"), 0, Some(&T1)),
        InfoRow::new("BOOL", 0, 0, "a.b", Some("%.0f"), 0, Some(&T2)),
    ];
    static INFO: InfoTable = info_table!(ROWS);

    #[test]
    fn packed_rows_are_small() {
        assert_eq!(size_of::<Span>(), 3);
        assert_eq!(size_of::<InfoPacked>(), 16);
        assert_eq!(size_of::<NameRow>(), 8);
    }

    #[test]
    fn name_table_reads_back_and_shares_equal_names() {
        let got: Vec<UsageName> = NAMES.iter().collect();
        assert_eq!(
            got,
            [
                UsageName::new("Alpha", 0x0084_0001),
                UsageName::new("bb", 0x0084_0002),
                UsageName::new("Alpha", 0x0084_0003),
                UsageName::new("", 0x0084_0004),
            ]
        );
        assert_eq!(NAMES.blob, "Alphabb");
        assert_eq!(NAMES.len(), 4);
        assert_eq!(NAMES.get(4), None);
        assert_eq!(NAMES.name(0x0084_0003), Some("Alpha"));
        assert_eq!(NAMES.name(0x0084_0004), Some(""));
        assert_eq!(NAMES.name(0x0084_0005), None);
        assert_eq!(NAMES.usage("ALPHA"), Some(0x0084_0001));
        assert_eq!(NAMES.usage("Alph"), None);
        assert!(EMPTY_NAMES.is_empty() && EMPTY_NAMES.iter().next().is_none());
    }

    #[test]
    fn info_table_reads_back_with_none_and_empty_defaults() {
        assert_eq!(INFO.iter().collect::<Vec<_>>(), ROWS);
        // Strings shared within the table: "a.b", "UPS.X", "%.0f" once each.
        assert_eq!(INFO.blob, "a.bUPS.XUPS.Yc%.0fBOOL");
        assert_eq!(INFO.get(0).map(|r| r.dfl), Some(None));
        assert_eq!(INFO.get(1).map(|r| r.dfl), Some(Some("")));
        // Lookup list in order of first use, rows point at the statics.
        assert_eq!(INFO.lookups().len(), 2);
        assert!(core::ptr::eq(INFO.lookups()[0], &T2) && core::ptr::eq(INFO.lookups()[1], &T1));
        assert!(INFO.get(2).and_then(|r| r.lookup).is_some_and(|l| core::ptr::eq(l, &T1)));
        assert_eq!(INFO.rows_for("a.b").map(|r| r.path).collect::<Vec<_>>(), ["UPS.X", "UPS.Y"]);
        // The iterators own a copy of the table: they outlive a local one.
        let (rows, names) = {
            let (t, n) = (INFO, NAMES);
            (t.rows_for("c"), n.iter())
        };
        assert_eq!((rows.count(), names.len()), (1, 4));
    }

    #[test]
    fn bad_spans_read_as_empty_not_panic() {
        static BAD: [u8; 3] = [b'a', 0xff, b'b'];
        assert_eq!(blob_str(&BAD), "");
        let blob = "aéb";
        let mid_char = Span { off: 0, len: 2 };
        let out_of_range = Span { off: 2, len: 9 };
        assert_eq!(mid_char.opt_str(blob), Some(""));
        assert_eq!(out_of_range.str(blob), "");
        assert_eq!(out_of_range.bytes(blob), None);
        assert!(!out_of_range.is(blob, b"b") && !Span::NONE.is(blob, b""));
        assert_eq!(Span::NONE.opt_str(blob), None);
        assert_eq!(Span { off: 3, len: 1 }.str(blob), "b");
        assert!(Span { off: 0, len: 3 }.is_ignore_ascii_case(blob, "Aé".as_bytes()));
    }
}
