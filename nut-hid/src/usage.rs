//! Usages, usage name tables and usage paths as NUT names them.
//!
//! A usage is 32 bits: the usage page in the high 16 bits, the usage ID in the low 16
//! (`0x0085_0066` is RemainingCapacity on the Battery System page). A [`Path`] is the chain
//! of collection usages down to a field's usage; NUT prints it with names joined by `.`
//! (`UPS.PowerSummary.RemainingCapacity`), an unnamed usage as 8 lowercase hex digits
//! (`ff860018`) and a vendor-defined collection index as `[n]`.
//!
//! Names come from [`UsageTables`]: a stack of tables searched in order, the standard
//! Power Device/Battery System table last. A subdriver pushes its vendor table on top, as
//! NUT's subdrivers do (`UsageTables::standard().with(tables::APC)`).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

pub mod tables;

/// Page of the HID Power Device usages (`0x84`).
pub const PAGE_POWER_DEVICE: u16 = 0x84;
/// Page of the HID Battery System usages (`0x85`).
pub const PAGE_BATTERY_SYSTEM: u16 = 0x85;

/// Most nodes a [`Path`] holds (collections plus the field usage).
///
/// NUT's own limit is 10 and it does not check it; descriptors needing more than this
/// are refused by [`crate::ReportDescriptor::parse`].
pub const MAX_PATH_DEPTH: usize = 16;

/// High 16 bits of the node NUT inserts after a vendor-defined collection (type ≥ 0x80);
/// printed as `[n]`.
pub const INDEX_NODE_PAGE: u32 = 0x00ff_0000;

/// One name of a usage name table: `("RemainingCapacity", 0x0085_0066)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageName {
    /// The name as NUT prints it.
    pub name: &'static str,
    /// Page (high 16 bits) and usage ID (low 16 bits).
    pub usage: u32,
}

impl UsageName {
    /// A table row.
    pub const fn new(name: &'static str, usage: u32) -> Self {
        UsageName { name, usage }
    }
}

/// A usage name table stored without pointers: the names packed into one
/// byte blob, the rows plain integers (see the crate's `pack` module).
/// Its rows read back as [`UsageName`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameTable {
    pub(crate) blob: &'static str,
    rows: &'static [crate::pack::NameRow],
}

impl NameTable {
    /// A table from its packed parts (see `name_table!`).
    pub(crate) const fn from_packed(
        blob: &'static [u8],
        rows: &'static [crate::pack::NameRow],
    ) -> Self {
        NameTable { blob: crate::pack::blob_str(blob), rows }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True for a table without rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<UsageName> {
        self.rows.get(i).map(|r| UsageName { name: r.name.str(self.blob), usage: r.usage })
    }

    /// The rows, in table order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = UsageName> + use<> {
        let blob = self.blob;
        self.rows.iter().map(move |r| UsageName { name: r.name.str(blob), usage: r.usage })
    }

    /// The name of the first row with this usage.
    pub fn name(&self, usage: u32) -> Option<&'static str> {
        self.rows.iter().find(|r| r.usage == usage).map(|r| r.name.str(self.blob))
    }

    /// The usage of the first row named `name` (ASCII case-insensitive).
    pub fn usage(&self, name: &str) -> Option<u32> {
        let name = name.as_bytes();
        // The length byte first: most rows are skipped on one byte compare.
        let len = crate::pack::Span::len_of(name.len())?;
        self.rows
            .iter()
            .find(|r| r.name.len_byte() == len && r.name.is_ignore_ascii_case(self.blob, name))
            .map(|r| r.usage)
    }
}

/// One table of a [`UsageTables`] stack.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Table {
    Packed(NameTable),
    Owned(Vec<UsageName>),
}

impl Table {
    fn name(&self, usage: u32) -> Option<&'static str> {
        match self {
            Table::Packed(t) => t.name(usage),
            Table::Owned(rows) => rows.iter().find(|r| r.usage == usage).map(|r| r.name),
        }
    }

    fn usage(&self, name: &str) -> Option<u32> {
        match self {
            Table::Packed(t) => t.usage(name),
            Table::Owned(rows) => {
                rows.iter().find(|r| r.name.eq_ignore_ascii_case(name)).map(|r| r.usage)
            }
        }
    }
}

/// An ordered stack of usage name tables, searched first to last.
///
/// NUT looks a usage (or a name) up in the subdriver's table first and the standard table
/// second; the first hit wins, in both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageTables {
    tables: Vec<Table>,
}

impl Default for UsageTables {
    fn default() -> Self {
        Self::standard()
    }
}

impl UsageTables {
    /// Only the standard Power Device and Battery System names ([`tables::STANDARD`]).
    pub fn standard() -> Self {
        UsageTables { tables: alloc::vec![Table::Packed(tables::STANDARD)] }
    }

    /// No names at all: every usage prints in hex.
    pub fn empty() -> Self {
        UsageTables { tables: Vec::new() }
    }

    /// Puts `table` in front: it is searched before the tables already present.
    #[must_use]
    pub fn with(mut self, table: NameTable) -> Self {
        self.tables.insert(0, Table::Packed(table));
        self
    }

    /// Puts a table given as `(name, usage)` pairs in front (for tables kept in another
    /// type, such as a subdriver's own rows).
    #[must_use]
    pub fn with_rows(mut self, rows: impl IntoIterator<Item = (&'static str, u32)>) -> Self {
        let table: Vec<UsageName> = rows.into_iter().map(|(n, u)| UsageName::new(n, u)).collect();
        self.tables.insert(0, Table::Owned(table));
        self
    }

    /// The name of `usage`, from the first table that has it.
    pub fn name(&self, usage: u32) -> Option<&'static str> {
        self.tables.iter().find_map(|t| t.name(usage))
    }

    /// The usage named `name` (ASCII case-insensitive), from the first table that has it.
    pub fn usage(&self, name: &str) -> Option<u32> {
        self.tables.iter().find_map(|t| t.usage(name))
    }

    /// Parses a path string strictly: every token must be a known name
    /// (case-insensitive), 1 to 8 hex digits, or `[n]`.
    pub fn parse_path(&self, s: &str) -> Result<Path, PathError> {
        self.parse_path_inner(s, true)
    }

    /// Parses a path string as NUT does: a token that is no name, no hex number and no
    /// `[n]` is skipped (NUT logs it and carries on with a shorter path).
    pub fn parse_path_lenient(&self, s: &str) -> Result<Path, PathError> {
        self.parse_path_inner(s, false)
    }

    fn parse_path_inner(&self, s: &str, strict: bool) -> Result<Path, PathError> {
        let mut path = Path::new();
        for (index, token) in s.split('.').filter(|t| !t.is_empty()).enumerate() {
            let node = match self.usage(token) {
                Some(u) => Some(u),
                None if strict => parse_token(token),
                None => parse_token(token).or_else(|| nut_index_token(token)),
            };
            match node {
                Some(n) => path.push(n).map_err(|()| PathError::TooLong { max: MAX_PATH_DEPTH })?,
                None if strict => {
                    return Err(PathError::BadToken { index, token: String::from(token) });
                }
                None => {}
            }
        }
        if path.is_empty() {
            return Err(PathError::Empty);
        }
        Ok(path)
    }

    /// Formats `path` as NUT prints it.
    pub fn format(&self, path: &Path) -> String {
        self.display(path).to_string()
    }

    /// A [`fmt::Display`] view of `path` with these names.
    pub fn display<'a>(&'a self, path: &'a Path) -> PathDisplay<'a> {
        PathDisplay { tables: self, path }
    }
}

/// Numeric value of a hex token (NUT's unnamed nodes) or of an `[n]` index token.
fn parse_token(token: &str) -> Option<u32> {
    if token.bytes().all(|b| b.is_ascii_hexdigit()) {
        // NUT reads the token with strtol and refuses values above 32 bits.
        let trimmed = token.trim_start_matches('0');
        if trimmed.len() > 8 {
            return None;
        }
        return u32::from_str_radix(if trimmed.is_empty() { "0" } else { trimmed }, 16).ok();
    }
    let inner = token.strip_prefix('[')?.strip_suffix(']')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = inner.parse().ok()?;
    if n > 0xffff {
        return None;
    }
    Some(INDEX_NODE_PAGE | n)
}

/// NUT's looser reading of an index token: any token made only of `[`, `]` and digits
/// is `0x00ff0000` plus the number that starts at its second character (`atoi`).
fn nut_index_token(token: &str) -> Option<u32> {
    if !token.bytes().all(|b| b == b'[' || b == b']' || b.is_ascii_digit()) {
        return None;
    }
    let digits: &str = token.get(1..).unwrap_or("");
    let end = digits.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    let n: u32 = match digits.get(..end).unwrap_or("") {
        "" => 0,
        d => d.parse::<i32>().ok()?.try_into().ok()?,
    };
    Some(INDEX_NODE_PAGE.wrapping_add(n))
}

/// Displays a [`Path`] with the names of a [`UsageTables`]; see [`UsageTables::display`].
#[derive(Debug, Clone, Copy)]
pub struct PathDisplay<'a> {
    tables: &'a UsageTables,
    path: &'a Path,
}

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &node) in self.path.nodes().iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if let Some(name) = self.tables.name(node) {
                f.write_str(name)?;
            } else if node & 0xffff_0000 == INDEX_NODE_PAGE {
                write!(f, "[{}]", node & 0xffff)?;
            } else {
                write!(f, "{node:08x}")?;
            }
        }
        Ok(())
    }
}

/// A usage path: collection usages (and index nodes) down to a field's usage.
///
/// Fixed capacity ([`MAX_PATH_DEPTH`]), `Copy`, no allocation. Paths compare by their
/// numeric nodes, so a path parsed from a subdriver table string equals the path of the
/// field it names whatever the spelling's case.
#[derive(Clone, Copy)]
pub struct Path {
    len: u8,
    nodes: [u32; MAX_PATH_DEPTH],
}

impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.nodes() == other.nodes()
    }
}

impl Eq for Path {}

impl core::hash::Hash for Path {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.nodes().hash(state);
    }
}

impl Default for Path {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({})", UsageTables::standard().display(self))
    }
}

/// Displays with the standard names only; use [`UsageTables::display`] for vendor names.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&UsageTables::standard().display(self), f)
    }
}

impl Path {
    /// The empty path.
    pub const fn new() -> Self {
        Path { len: 0, nodes: [0; MAX_PATH_DEPTH] }
    }

    /// Parses a path string with the standard names only (strict, see
    /// [`UsageTables::parse_path`]).
    ///
    /// ```
    /// use nut_hid::Path;
    /// let p = Path::parse("UPS.PowerSummary.PresentStatus.ACPresent").unwrap();
    /// assert_eq!(p.nodes(), &[0x0084_0004, 0x0084_0024, 0x0084_0002, 0x0085_00d0]);
    /// assert_eq!(p, Path::parse("ups.powersummary.presentstatus.acpresent").unwrap());
    /// assert_eq!(Path::parse("UPS.ff860060").unwrap().to_string(), "UPS.ff860060");
    /// ```
    pub fn parse(s: &str) -> Result<Path, PathError> {
        UsageTables::standard().parse_path(s)
    }

    /// A path from numeric nodes; `None` if longer than [`MAX_PATH_DEPTH`].
    pub fn from_nodes(nodes: &[u32]) -> Option<Path> {
        let mut p = Path::new();
        for &n in nodes {
            p.push(n).ok()?;
        }
        Some(p)
    }

    /// The nodes, outermost collection first.
    pub fn nodes(&self) -> &[u32] {
        self.nodes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True for the empty path.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The last node (a field's own usage).
    pub fn last(&self) -> Option<u32> {
        self.nodes().last().copied()
    }

    /// Appends a node; `Err(())` when full.
    #[allow(clippy::result_unit_err)]
    pub fn push(&mut self, node: u32) -> Result<(), ()> {
        let slot = self.nodes.get_mut(usize::from(self.len)).ok_or(())?;
        *slot = node;
        self.len += 1;
        Ok(())
    }

    /// Removes and returns the last node.
    pub fn pop(&mut self) -> Option<u32> {
        let last = self.last()?;
        self.len -= 1;
        if let Some(slot) = self.nodes.get_mut(usize::from(self.len)) {
            *slot = 0;
        }
        Some(last)
    }

    /// NUT's lookup rule: `prefix` matches when its nodes equal this path's first nodes.
    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.nodes().starts_with(prefix.nodes())
    }
}

/// A path string that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// Token number `index` (0-based) is no known name, no hex usage and no `[n]` index.
    #[error("path token {index} ({token:?}) is not a usage name, a hex usage or [n]")]
    BadToken {
        /// Position of the token among the non-empty tokens.
        index: usize,
        /// The token.
        token: String,
    },
    /// The path has more nodes than [`MAX_PATH_DEPTH`].
    #[error("path has more than {max} nodes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// No node at all (empty string, or every token skipped by the lenient parser).
    #[error("empty path")]
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hex_and_index_nodes() {
        let t = UsageTables::standard().with(tables::MGE);
        let p = t.parse_path("UPS.Flow.[4].ConfigVoltage").unwrap();
        assert_eq!(p.nodes(), &[0x0084_0004, 0x0084_001e, 0x00ff_0004, 0x0084_0040]);
        assert_eq!(t.format(&p), "UPS.Flow.[4].ConfigVoltage");
        let q = t.parse_path("UPS.PowerSummary.ffff0074.00000000").unwrap();
        assert_eq!(t.format(&q), "UPS.PowerSummary.VoltageTooHigh.00000000");
        assert_eq!(UsageTables::standard().format(&q), "UPS.PowerSummary.ffff0074.00000000");
    }

    #[test]
    fn vendor_table_is_searched_first() {
        // PowerCOM names an index-looking node; NUT's lookup comes before the [n] form.
        let t = UsageTables::standard().with(tables::POWERCOM);
        let p = Path::from_nodes(&[0x0084_0004, 0x00ff_0056]).unwrap();
        assert_eq!(t.format(&p), "UPS.PCMDelayBeforeStartup");
        assert_eq!(UsageTables::standard().format(&p), "UPS.[86]");
    }

    #[test]
    fn strict_and_lenient() {
        let t = UsageTables::standard();
        assert!(matches!(
            t.parse_path("UPS.Bogus.Battery"),
            Err(PathError::BadToken { index: 1, .. })
        ));
        assert_eq!(t.format(&t.parse_path_lenient("UPS.Bogus.Battery").unwrap()), "UPS.Battery");
        // NUT's atoi-based reading of index tokens, lenient mode only.
        assert_eq!(t.parse_path_lenient("UPS.[12").unwrap().last(), Some(0x00ff_000c));
        assert!(t.parse_path("UPS.[12").is_err());
        assert_eq!(t.parse_path(""), Err(PathError::Empty));
        assert!(t.parse_path("123456789").is_err());
        let long = ["UPS"; 17].join(".");
        assert_eq!(t.parse_path(&long), Err(PathError::TooLong { max: MAX_PATH_DEPTH }));
    }
}
