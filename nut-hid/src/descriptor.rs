//! The validated report descriptor: collections and main items as the HID specification
//! defines them, and the list of fields as NUT 2.8.0 builds it.

use alloc::vec::Vec;

use crate::item::{ItemType, Items, global_tag, local_tag, main_tag};
use crate::report::Field;
use crate::usage::{INDEX_NODE_PAGE, MAX_PATH_DEPTH, Path, UsageTables};
use crate::{DescriptorError, ReportType};

/// Longest descriptor accepted, in bytes: NUT reads at most `0x1800` bytes of it.
pub const MAX_DESCRIPTOR_LEN: usize = 0x1800;
/// Deepest collection nesting accepted.
pub const MAX_COLLECTION_DEPTH: usize = 10;
/// Deepest Push stack accepted.
pub const MAX_PUSH_DEPTH: usize = 8;
/// Most usages pending before one main item (NUT's usage stack holds 50, one kept free).
pub const MAX_PENDING_USAGES: usize = 49;
/// Most fields NUT keeps (`MAX_REPORT`); the rest of the descriptor is ignored by NUT.
pub const MAX_FIELDS: usize = 500;
/// Longest report accepted in the specification view, in bits (excluding the ID byte).
pub const MAX_REPORT_BITS: u32 = 8 * 4096;

/// A Collection main item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// Byte offset of the Collection item in the descriptor.
    pub offset: usize,
    /// Collection type (0 physical, 1 application, 2 logical, ..., 0x80-0xff vendor).
    pub kind: u32,
    /// The collection's usage (first usage before it), 0 if none.
    pub usage: u32,
    /// Index of the enclosing collection in [`ReportDescriptor::collections`].
    pub parent: Option<usize>,
}

/// Usages attached to a main item: single usages and Usage Minimum..Maximum ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageSpec {
    /// One usage (page in the high 16 bits).
    Single(u32),
    /// An inclusive range from Usage Minimum to Usage Maximum.
    Range(u32, u32),
}

/// The global state in effect at a main item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Globals {
    /// Usage Page.
    pub usage_page: u16,
    /// Logical Minimum (sign-extended from its encoded width).
    pub logical_min: i32,
    /// Logical Maximum (sign-extended from its encoded width).
    pub logical_max: i32,
    /// Physical Minimum, if given.
    pub physical_min: Option<i32>,
    /// Physical Maximum, if given.
    pub physical_max: Option<i32>,
    /// Unit Exponent as a signed 4-bit value.
    pub unit_exponent: i8,
    /// Unit (HID unit system nibbles).
    pub unit: u32,
    /// Report Size in bits.
    pub report_size: u32,
    /// Report ID (0 when none was given).
    pub report_id: u8,
    /// Report Count.
    pub report_count: u32,
}

/// An Input, Output or Feature main item as the HID specification reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainItem {
    /// Byte offset of the item in the descriptor.
    pub offset: usize,
    /// Input, Output or Feature.
    pub report_type: ReportType,
    /// The item's data bits (bit 0 constant, bit 1 variable, bit 2 relative, ...).
    pub flags: u32,
    /// Global state at this item.
    pub globals: Globals,
    /// Bit offset of the first field in the report, after the report ID byte.
    pub bit_offset: u32,
    /// Usages in order (a delimited set contributes its first usage only).
    pub usages: Vec<UsageSpec>,
    /// Index of the innermost enclosing collection.
    pub collection: Option<usize>,
}

impl MainItem {
    /// True for an array (flag bit 1 clear), false for variables.
    pub fn is_array(&self) -> bool {
        self.flags & 2 == 0
    }

    /// True for constant (padding) data.
    pub fn is_constant(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// Length of one report in the specification view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportInfo {
    /// Report ID (0 when the descriptor uses none).
    pub id: u8,
    /// Input, Output or Feature.
    pub report_type: ReportType,
    /// Data bits of the report (all its main items).
    pub bits: u32,
}

impl ReportInfo {
    /// Data bytes, rounded up, without the report ID byte.
    pub fn data_len(&self) -> usize {
        self.bits.div_ceil(8) as usize
    }
}

/// A parsed and validated report descriptor.
///
/// It holds the specification view ([`collections`](Self::collections),
/// [`main_items`](Self::main_items), [`reports`](Self::reports)) and NUT's view
/// ([`fields`](Self::fields), [`nut_report_len`](Self::nut_report_len)), which follows NUT
/// 2.8.0's `hidparser.c` so a driver built on it reads the same bits as NUT.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDescriptor {
    bytes: Vec<u8>,
    collections: Vec<Collection>,
    main_items: Vec<MainItem>,
    reports: Vec<ReportInfo>,
    fields: Vec<Field>,
    nut_replen: Vec<(u8, usize)>,
    uses_report_ids: bool,
    fields_truncated: bool,
}

impl ReportDescriptor {
    /// Parses and validates `desc`.
    ///
    /// Errors name the byte offset and the problem: a truncated item, an End Collection
    /// without a Collection, an unclosed Collection, Pop without Push, nesting or usage
    /// lists beyond the limits of this module, a reserved item type, or a descriptor
    /// longer than [`MAX_DESCRIPTOR_LEN`].
    pub fn parse(desc: &[u8]) -> Result<ReportDescriptor, DescriptorError> {
        if desc.is_empty() {
            return Err(DescriptorError::Empty);
        }
        if desc.len() > MAX_DESCRIPTOR_LEN {
            return Err(DescriptorError::TooLong { len: desc.len(), max: MAX_DESCRIPTOR_LEN });
        }
        let spec = SpecBuilder::run(desc)?;
        let nut = NutBuilder::run(desc, spec.uses_report_ids)?;
        Ok(ReportDescriptor {
            bytes: desc.to_vec(),
            collections: spec.collections,
            main_items: spec.main_items,
            reports: spec.reports,
            fields: nut.fields,
            nut_replen: nut.replen,
            uses_report_ids: spec.uses_report_ids,
            fields_truncated: nut.truncated,
        })
    }

    /// The descriptor bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw items (all valid: parsing succeeded).
    pub fn items(&self) -> Items<'_> {
        Items::new(&self.bytes)
    }

    /// Collections in descriptor order.
    pub fn collections(&self) -> &[Collection] {
        &self.collections
    }

    /// Input, Output and Feature items in descriptor order.
    pub fn main_items(&self) -> &[MainItem] {
        &self.main_items
    }

    /// Every (report ID, type) with its length, ordered by ID then type.
    pub fn reports(&self) -> &[ReportInfo] {
        &self.reports
    }

    /// The report of this ID and type, if the descriptor defines it.
    pub fn report(&self, id: u8, report_type: ReportType) -> Option<&ReportInfo> {
        self.reports.iter().find(|r| r.id == id && r.report_type == report_type)
    }

    /// True when the descriptor has Report ID items: every report then starts with its
    /// ID byte.
    pub fn uses_report_ids(&self) -> bool {
        self.uses_report_ids
    }

    /// Bytes on the wire of a report of this ID and type in the specification view,
    /// including the ID byte when [`uses_report_ids`](Self::uses_report_ids).
    pub fn report_len(&self, id: u8, report_type: ReportType) -> Option<usize> {
        self.report(id, report_type).map(|r| r.data_len() + usize::from(self.uses_report_ids))
    }

    /// The report length NUT uses for `id` (its buffer and GET_REPORT length), ID byte
    /// included: 1 + max over NUT's fields of that ID, of any type, of
    /// ceil((offset + size) / 8).
    pub fn nut_report_len(&self, id: u8) -> Option<usize> {
        self.nut_replen.iter().find(|(i, _)| *i == id).map(|(_, l)| l + 1)
    }

    /// Report IDs NUT knows, with [`nut_report_len`](Self::nut_report_len), by ID.
    pub fn nut_report_lens(&self) -> impl Iterator<Item = (u8, usize)> + '_ {
        self.nut_replen.iter().map(|&(i, l)| (i, l + 1))
    }

    /// NUT's fields ("HID objects"), in descriptor order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Mutable access to the fields, for descriptor fix-ups such as
    /// [`crate::fixup::cyberpower_fix`].
    pub fn fields_mut(&mut self) -> &mut [Field] {
        &mut self.fields
    }

    /// True when NUT would stop at [`MAX_FIELDS`] fields before the end of the descriptor.
    pub fn fields_truncated(&self) -> bool {
        self.fields_truncated
    }

    /// NUT's lookup: the first field of `report_type` whose path starts with `path`.
    pub fn find(&self, path: &Path, report_type: ReportType) -> Option<&Field> {
        self.fields.iter().find(|f| f.report_type == report_type && f.path.starts_with(path))
    }

    /// [`find`](Self::find) with a path string read with `tables` (NUT's lenient reading:
    /// unknown tokens are skipped).
    pub fn find_str(
        &self,
        path: &str,
        tables: &UsageTables,
        report_type: ReportType,
    ) -> Option<&Field> {
        let p = tables.parse_path_lenient(path).ok()?;
        self.find(&p, report_type)
    }

    /// Fields of one report, in order (NUT takes the Input ones of an interrupt report).
    pub fn fields_of(&self, id: u8, report_type: ReportType) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(move |f| f.report_id == id && f.report_type == report_type)
    }
}

fn report_type_of(tag: u8) -> Option<ReportType> {
    match tag {
        main_tag::INPUT => Some(ReportType::Input),
        main_tag::OUTPUT => Some(ReportType::Output),
        main_tag::FEATURE => Some(ReportType::Feature),
        _ => None,
    }
}

fn type_index(t: ReportType) -> usize {
    match t {
        ReportType::Input => 0,
        ReportType::Output => 1,
        ReportType::Feature => 2,
    }
}

const TYPES: [ReportType; 3] = [ReportType::Input, ReportType::Output, ReportType::Feature];

/// The specification view.
struct SpecBuilder {
    collections: Vec<Collection>,
    main_items: Vec<MainItem>,
    reports: Vec<ReportInfo>,
    uses_report_ids: bool,
}

impl SpecBuilder {
    fn run(desc: &[u8]) -> Result<SpecBuilder, DescriptorError> {
        let mut collections: Vec<Collection> = Vec::new();
        let mut main_items = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        let mut globals = Globals::default();
        let mut stack: Vec<Globals> = Vec::new();
        let mut usages: Vec<UsageSpec> = Vec::new();
        let mut usage_min: Option<u32> = None;
        // None: outside a delimiter; Some(taken): inside, `taken` once a usage was kept.
        let mut delimiter: Option<bool> = None;
        let mut bits = alloc::vec![0u32; 256 * 3];
        let mut used = alloc::vec![false; 256 * 3];
        let mut uses_report_ids = false;

        for item in Items::new(desc) {
            let item = item?;
            let offset = item.offset();
            let v = item.data_u32();
            match item.item_type() {
                ItemType::Long => {}
                ItemType::Reserved => {
                    return Err(DescriptorError::ReservedItem { offset, prefix: item.prefix() });
                }
                ItemType::Global => match item.tag() {
                    global_tag::USAGE_PAGE => globals.usage_page = v as u16,
                    global_tag::LOGICAL_MINIMUM => globals.logical_min = item.data_i32(),
                    global_tag::LOGICAL_MAXIMUM => globals.logical_max = item.data_i32(),
                    global_tag::PHYSICAL_MINIMUM => globals.physical_min = Some(item.data_i32()),
                    global_tag::PHYSICAL_MAXIMUM => globals.physical_max = Some(item.data_i32()),
                    global_tag::UNIT_EXPONENT => globals.unit_exponent = nibble_exponent(v),
                    global_tag::UNIT => globals.unit = v,
                    global_tag::REPORT_SIZE => globals.report_size = v,
                    global_tag::REPORT_ID => {
                        globals.report_id = v as u8;
                        uses_report_ids = true;
                    }
                    global_tag::REPORT_COUNT => globals.report_count = v,
                    global_tag::PUSH => {
                        if stack.len() >= MAX_PUSH_DEPTH {
                            return Err(DescriptorError::PushTooDeep {
                                offset,
                                max: MAX_PUSH_DEPTH,
                            });
                        }
                        stack.push(globals);
                    }
                    global_tag::POP => {
                        globals = stack.pop().ok_or(DescriptorError::PopWithoutPush { offset })?;
                    }
                    _ => {}
                },
                ItemType::Local => {
                    let usage = if item.data().len() == 4 {
                        v
                    } else {
                        (u32::from(globals.usage_page) << 16) | (v & 0xffff)
                    };
                    match item.tag() {
                        // In a delimited set only the first usage counts.
                        local_tag::USAGE if delimiter != Some(true) => {
                            if usages.len() >= MAX_PENDING_USAGES {
                                return Err(DescriptorError::TooManyUsages {
                                    offset,
                                    max: MAX_PENDING_USAGES,
                                });
                            }
                            usages.push(UsageSpec::Single(usage));
                            if delimiter.is_some() {
                                delimiter = Some(true);
                            }
                        }
                        local_tag::USAGE_MINIMUM => usage_min = Some(usage),
                        local_tag::USAGE_MAXIMUM => {
                            let min = usage_min
                                .take()
                                .ok_or(DescriptorError::UsageMaximumWithoutMinimum { offset })?;
                            if usages.len() >= MAX_PENDING_USAGES {
                                return Err(DescriptorError::TooManyUsages {
                                    offset,
                                    max: MAX_PENDING_USAGES,
                                });
                            }
                            usages.push(UsageSpec::Range(min, usage));
                        }
                        local_tag::DELIMITER => match (v, delimiter) {
                            (1, None) => delimiter = Some(false),
                            (0, Some(_)) => delimiter = None,
                            _ => return Err(DescriptorError::BadDelimiter { offset }),
                        },
                        _ => {}
                    }
                }
                ItemType::Main => {
                    if delimiter.is_some() {
                        return Err(DescriptorError::BadDelimiter { offset });
                    }
                    match item.tag() {
                        main_tag::COLLECTION => {
                            if open.len() >= MAX_COLLECTION_DEPTH {
                                return Err(DescriptorError::CollectionTooDeep {
                                    offset,
                                    max: MAX_COLLECTION_DEPTH,
                                });
                            }
                            let usage = match usages.first() {
                                Some(UsageSpec::Single(u) | UsageSpec::Range(u, _)) => *u,
                                None => 0,
                            };
                            collections.push(Collection {
                                offset,
                                kind: v,
                                usage,
                                parent: open.last().copied(),
                            });
                            open.push(collections.len() - 1);
                        }
                        main_tag::END_COLLECTION => {
                            open.pop().ok_or(DescriptorError::EndCollectionWithoutCollection {
                                offset,
                            })?;
                        }
                        tag => {
                            if let Some(report_type) = report_type_of(tag) {
                                let slot =
                                    usize::from(globals.report_id) * 3 + type_index(report_type);
                                let start = bits.get(slot).copied().unwrap_or(0);
                                let end = globals
                                    .report_size
                                    .checked_mul(globals.report_count)
                                    .and_then(|n| n.checked_add(start))
                                    .filter(|&n| n <= MAX_REPORT_BITS)
                                    .ok_or(DescriptorError::ReportTooLong {
                                        offset,
                                        report_id: globals.report_id,
                                        max_bits: MAX_REPORT_BITS,
                                    })?;
                                if let (Some(b), Some(u)) = (bits.get_mut(slot), used.get_mut(slot))
                                {
                                    *b = end;
                                    *u = true;
                                }
                                main_items.push(MainItem {
                                    offset,
                                    report_type,
                                    flags: v,
                                    globals,
                                    bit_offset: start,
                                    usages: core::mem::take(&mut usages),
                                    collection: open.last().copied(),
                                });
                            }
                        }
                    }
                    usages.clear();
                    usage_min = None;
                }
            }
        }
        if let Some(&c) = open.last() {
            let offset = collections.get(c).map(|c| c.offset).unwrap_or(0);
            return Err(DescriptorError::UnclosedCollection { offset, depth: open.len() });
        }
        let mut reports = Vec::new();
        for id in 0..=255u8 {
            for t in TYPES {
                let slot = usize::from(id) * 3 + type_index(t);
                if used.get(slot).copied().unwrap_or(false) {
                    let b = bits.get(slot).copied().unwrap_or(0);
                    reports.push(ReportInfo { id, report_type: t, bits: b });
                }
            }
        }
        Ok(SpecBuilder { collections, main_items, reports, uses_report_ids })
    }
}

/// NUT's reading of a Unit Exponent byte: the low byte as a signed number, values above 7
/// taken as a 4-bit negative nibble.
fn nibble_exponent(v: u32) -> i8 {
    let e = v as u8 as i8;
    if e > 7 { (e as u8 | 0xF0) as i8 } else { e }
}

/// NUT's `FormatValue`: sign-extend from the item's data width.
fn nut_signed(item: &crate::item::Item<'_>) -> i64 {
    if item.data().is_empty() { 0 } else { i64::from(item.data_i32()) }
}

/// NUT's view, following `HIDParse`/`Parse_ReportDesc` of NUT 2.8.0 `hidparser.c`:
/// 8-bit report size, count and bit offset counters (they wrap as NUT's do), usages
/// taken one per field from a stack that is not refilled (a field without a usage
/// continues the previous object and is not listed), Push/Pop, Usage Minimum/Maximum
/// and Delimiter ignored, the report length per ID over all types.
struct NutBuilder {
    fields: Vec<Field>,
    replen: Vec<(u8, usize)>,
    truncated: bool,
}

impl NutBuilder {
    fn run(desc: &[u8], uses_report_ids: bool) -> Result<NutBuilder, DescriptorError> {
        let mut fields: Vec<Field> = Vec::new();
        let mut replen = alloc::vec![None::<usize>; 256];
        let mut offsets = alloc::vec![0u8; 256 * 3];
        let mut upage: u16 = 0;
        let mut usage_tab: Vec<u32> = Vec::new();
        let mut path = Path::new();
        let mut report_count: u8 = 0;
        let mut cur = Field::template(uses_report_ids);
        let mut truncated = false;

        'items: for item in Items::new(desc) {
            let item = item?;
            let offset = item.offset();
            let v = item.data_u32();
            let end_of_desc = offset + item.bytes().len() >= desc.len();
            if item.item_type() == ItemType::Long {
                continue;
            }
            match item.prefix() & 0xFC {
                0x04 => upage = v as u16,
                0x08 => {
                    if usage_tab.len() >= MAX_PENDING_USAGES {
                        return Err(DescriptorError::TooManyUsages {
                            offset,
                            max: MAX_PENDING_USAGES,
                        });
                    }
                    let u = if item.data().len() == 4 {
                        v
                    } else {
                        (u32::from(upage) << 16) | (v & 0xffff)
                    };
                    usage_tab.push(u);
                }
                0xA0 => {
                    let u = take_usage(&mut usage_tab);
                    push_node(&mut path, u, offset)?;
                    if v >= 0x80 {
                        push_node(&mut path, INDEX_NODE_PAGE | (v & 0x7f), offset)?;
                    }
                    usage_tab.clear();
                }
                0xC0 => {
                    if let Some(node) = path.pop()
                        && node & 0xffff_0000 == INDEX_NODE_PAGE
                    {
                        path.pop();
                    }
                    usage_tab.clear();
                }
                p @ (0x80 | 0x90 | 0xB0) => {
                    let report_type = match p {
                        0x80 => ReportType::Input,
                        0x90 => ReportType::Output,
                        _ => ReportType::Feature,
                    };
                    let mut count = report_count;
                    loop {
                        let found = usage_tab.first().copied().unwrap_or(0) != 0;
                        let u = take_usage(&mut usage_tab);
                        let slot = usize::from(cur.report_id) * 3 + type_index(report_type);
                        let bit_offset = offsets.get(slot).copied().unwrap_or(0);
                        if found {
                            let mut f = cur.clone();
                            f.path = path;
                            push_node(&mut f.path, u, offset)?;
                            f.report_type = report_type;
                            f.attribute = v as u8;
                            f.bit_offset = bit_offset;
                            f.descriptor_offset = offset;
                            fields.push(f);
                        }
                        let bytes =
                            (usize::from(bit_offset) + usize::from(cur.bit_size)).div_ceil(8);
                        if let Some(r) = replen.get_mut(usize::from(cur.report_id)) {
                            *r = Some(r.unwrap_or(0).max(bytes));
                        }
                        if let Some(o) = offsets.get_mut(slot) {
                            *o = bit_offset.wrapping_add(cur.bit_size);
                        }
                        count = count.wrapping_sub(1);
                        if fields.len() >= MAX_FIELDS {
                            // NUT stops here and logs when descriptor bytes are left.
                            truncated = !end_of_desc;
                            break 'items;
                        }
                        if count == 0 {
                            usage_tab.clear();
                            break;
                        }
                        if end_of_desc {
                            // NUT stops when no byte follows, even with fields left.
                            break;
                        }
                    }
                }
                0x84 => cur.report_id = v as u8,
                0x74 => cur.bit_size = v as u8,
                0x94 => report_count = v as u8,
                0x54 => cur.unit_exponent = nibble_exponent(v),
                0x64 => cur.unit = v,
                0x14 => cur.logical_min = nut_signed(&item),
                0x24 => {
                    cur.logical_max = nut_signed(&item);
                    if cur.logical_max < cur.logical_min {
                        // NUT re-reads a Logical Maximum below the minimum as unsigned.
                        cur.logical_max = i64::from(v);
                    }
                }
                0x34 => cur.physical_min = Some(nut_signed(&item)),
                0x44 => cur.physical_max = Some(nut_signed(&item)),
                _ => {}
            }
        }
        let replen =
            replen.iter().enumerate().filter_map(|(id, l)| l.map(|l| (id as u8, l))).collect();
        Ok(NutBuilder { fields, replen, truncated })
    }
}

/// Takes the first pending usage (0 if none), as NUT's usage stack does.
fn take_usage(tab: &mut Vec<u32>) -> u32 {
    if tab.is_empty() { 0 } else { tab.remove(0) }
}

fn push_node(path: &mut Path, node: u32, offset: usize) -> Result<(), DescriptorError> {
    path.push(node).map_err(|()| DescriptorError::PathTooLong { offset, max: MAX_PATH_DEPTH })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// UPS application collection around `body`, report ID 1.
    fn wrap(body: &[u8]) -> Vec<u8> {
        let mut d = vec![0x05, 0x84, 0x09, 0x04, 0xa1, 0x01, 0x85, 0x01];
        d.extend_from_slice(body);
        d.push(0xc0);
        d
    }

    #[test]
    fn usages_are_used_once_then_fields_continue() {
        // Two usages, Report Count 3: the third field has no usage. NUT does not list it
        // but counts its bits.
        let d = wrap(&[0x09, 0x30, 0x09, 0x31, 0x75, 0x08, 0x95, 0x03, 0xb1, 0x02]);
        let desc = ReportDescriptor::parse(&d).unwrap();
        let f = desc.fields();
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].path.last(), f[0].bit_offset), (Some(0x0084_0030), 0));
        assert_eq!((f[1].path.last(), f[1].bit_offset), (Some(0x0084_0031), 8));
        assert_eq!(desc.nut_report_len(1), Some(4));
        assert_eq!(desc.report_len(1, ReportType::Feature), Some(4));
        assert_eq!(desc.main_items()[0].usages.len(), 2);
    }

    #[test]
    fn report_count_zero_wraps_like_nut() {
        // NUT's 8-bit counter: count 0 means 256 fields, and the offset wraps at 256.
        let d = wrap(&[0x09, 0x30, 0x75, 0x01, 0x95, 0x00, 0xb1, 0x02, 0x09, 0x31, 0xb1, 0x02]);
        let desc = ReportDescriptor::parse(&d).unwrap();
        assert_eq!(desc.fields().len(), 2);
        assert_eq!(desc.fields()[1].bit_offset, 0);
        assert_eq!(desc.nut_report_len(1), Some(33));
        // The specification view: count 0 is no bits at all.
        assert_eq!(desc.report(1, ReportType::Feature).unwrap().bits, 0);
    }

    #[test]
    fn logical_maximum_below_minimum_is_read_unsigned() {
        // 15 00 25 ff: logical range 0..-1, NUT reads the maximum as 255.
        let d = wrap(&[0x09, 0x30, 0x15, 0x00, 0x25, 0xff, 0x75, 0x08, 0x95, 0x01, 0xb1, 0x02]);
        let desc = ReportDescriptor::parse(&d).unwrap();
        assert_eq!((desc.fields()[0].logical_min, desc.fields()[0].logical_max), (0, 255));
        assert_eq!(desc.main_items()[0].globals.logical_max, -1);
    }

    #[test]
    fn push_pop_in_spec_view_only() {
        let d = wrap(&[
            0x75, 0x08, 0x95, 0x01, 0xa4, 0x75, 0x10, 0x09, 0x30, 0xb1, 0x02, 0xb4, 0x09, 0x31,
            0xb1, 0x02,
        ]);
        let desc = ReportDescriptor::parse(&d).unwrap();
        let m = desc.main_items();
        assert_eq!((m[0].globals.report_size, m[1].globals.report_size), (16, 8));
        // NUT ignores Pop: the second field stays 16 bits wide.
        assert_eq!((desc.fields()[1].bit_offset, desc.fields()[1].bit_size), (16, 16));
    }

    #[test]
    fn vendor_collection_adds_an_index_node() {
        let d =
            wrap(&[0x09, 0x1e, 0xa1, 0x84, 0x09, 0x40, 0x75, 0x08, 0x95, 0x01, 0xb1, 0x02, 0xc0]);
        let desc = ReportDescriptor::parse(&d).unwrap();
        assert_eq!(
            desc.fields()[0].path.nodes(),
            &[0x0084_0004, 0x0084_001e, 0x00ff_0004, 0x0084_0040]
        );
        assert_eq!(desc.collections()[1].kind, 0x84);
    }

    #[test]
    fn usage_ranges_and_delimiters() {
        let d = wrap(&[
            0x19, 0x30, 0x29, 0x33, 0xa9, 0x01, 0x09, 0x40, 0x09, 0x41, 0xa9, 0x00, 0x75, 0x01,
            0x95, 0x05, 0x81, 0x02,
        ]);
        let desc = ReportDescriptor::parse(&d).unwrap();
        assert_eq!(
            desc.main_items()[0].usages,
            vec![UsageSpec::Range(0x0084_0030, 0x0084_0033), UsageSpec::Single(0x0084_0040)]
        );
        // NUT: ranges and delimiters are ignored, both delimited usages are taken.
        assert_eq!(desc.fields().len(), 2);
    }

    #[test]
    fn malformed_descriptors_name_the_offset() {
        use DescriptorError as E;
        let cases: Vec<(Vec<u8>, DescriptorError)> = vec![
            (vec![], E::Empty),
            (vec![0u8; MAX_DESCRIPTOR_LEN + 1], E::TooLong { len: 6145, max: 6144 }),
            (vec![0x05, 0x84, 0x27, 0x01], E::Truncated { offset: 2, needed: 5, available: 2 }),
            (vec![0xfe, 0x05, 0x00, 0x01], E::Truncated { offset: 0, needed: 8, available: 4 }),
            (vec![0xa1, 0x01, 0xc0, 0xc0], E::EndCollectionWithoutCollection { offset: 3 }),
            (vec![0xa1, 0x01, 0xa1, 0x00, 0xc0], E::UnclosedCollection { offset: 0, depth: 1 }),
            (vec![0xb4], E::PopWithoutPush { offset: 0 }),
            (vec![0x0d, 0x00], E::ReservedItem { offset: 0, prefix: 0x0d }),
            (vec![0x29, 0x01], E::UsageMaximumWithoutMinimum { offset: 0 }),
            (vec![0xa9, 0x01, 0x81, 0x02], E::BadDelimiter { offset: 2 }),
            (vec![0xa4; 9], E::PushTooDeep { offset: 8, max: MAX_PUSH_DEPTH }),
            ([0xa1, 0x00].repeat(11), E::CollectionTooDeep { offset: 20, max: 10 }),
            (
                vec![0x77, 0xff, 0xff, 0xff, 0xff, 0x95, 0x02, 0x81, 0x02],
                E::ReportTooLong { offset: 7, report_id: 0, max_bits: MAX_REPORT_BITS },
            ),
            ([0x09, 0x01].repeat(50), E::TooManyUsages { offset: 98, max: 49 }),
        ];
        for (bytes, err) in cases {
            assert_eq!(ReportDescriptor::parse(&bytes), Err(err.clone()), "{bytes:02x?}");
            assert!(!alloc::format!("{err}").is_empty());
        }
    }

    #[test]
    fn nut_stops_at_500_fields() {
        let mut body = Vec::new();
        body.extend_from_slice(&[0x75, 0x01, 0x95, 0x01]);
        for _ in 0..600 {
            body.extend_from_slice(&[0x09, 0x30, 0xb1, 0x02]);
        }
        let desc = ReportDescriptor::parse(&wrap(&body)).unwrap();
        assert_eq!(desc.fields().len(), MAX_FIELDS);
        assert!(desc.fields_truncated());
        assert_eq!(desc.main_items().len(), 600);
    }
}
