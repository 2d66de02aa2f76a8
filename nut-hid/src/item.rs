//! The raw item view of a report descriptor: items as they are encoded, zero-copy.
//!
//! A short item is one prefix byte (`tag:4 type:2 size:2`, size code 3 meaning 4 bytes)
//! and 0, 1, 2 or 4 data bytes, little-endian. A long item is `0xFE`, a data length byte,
//! a tag byte and that many data bytes. [`Items`] walks a descriptor and yields each
//! item with its byte offset; a truncated item is an error naming that offset.

use crate::DescriptorError;

/// Item type, bits 2-3 of a short item's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemType {
    /// Main items (Input, Output, Feature, Collection, End Collection).
    Main,
    /// Global items (Usage Page, Logical Minimum, Report ID, Push, ...).
    Global,
    /// Local items (Usage, Usage Minimum/Maximum, Delimiter, ...).
    Local,
    /// Type 3 in a short item (reserved by the HID specification).
    Reserved,
    /// A long item (prefix `0xFE`).
    Long,
}

/// Main item tags.
pub mod main_tag {
    /// Input.
    pub const INPUT: u8 = 0x8;
    /// Output.
    pub const OUTPUT: u8 = 0x9;
    /// Feature.
    pub const FEATURE: u8 = 0xB;
    /// Collection.
    pub const COLLECTION: u8 = 0xA;
    /// End Collection.
    pub const END_COLLECTION: u8 = 0xC;
}

/// Global item tags.
pub mod global_tag {
    /// Usage Page.
    pub const USAGE_PAGE: u8 = 0x0;
    /// Logical Minimum.
    pub const LOGICAL_MINIMUM: u8 = 0x1;
    /// Logical Maximum.
    pub const LOGICAL_MAXIMUM: u8 = 0x2;
    /// Physical Minimum.
    pub const PHYSICAL_MINIMUM: u8 = 0x3;
    /// Physical Maximum.
    pub const PHYSICAL_MAXIMUM: u8 = 0x4;
    /// Unit Exponent.
    pub const UNIT_EXPONENT: u8 = 0x5;
    /// Unit.
    pub const UNIT: u8 = 0x6;
    /// Report Size (bits per field).
    pub const REPORT_SIZE: u8 = 0x7;
    /// Report ID.
    pub const REPORT_ID: u8 = 0x8;
    /// Report Count (fields per main item).
    pub const REPORT_COUNT: u8 = 0x9;
    /// Push (save the global state).
    pub const PUSH: u8 = 0xA;
    /// Pop (restore the global state).
    pub const POP: u8 = 0xB;
}

/// Local item tags.
pub mod local_tag {
    /// Usage.
    pub const USAGE: u8 = 0x0;
    /// Usage Minimum.
    pub const USAGE_MINIMUM: u8 = 0x1;
    /// Usage Maximum.
    pub const USAGE_MAXIMUM: u8 = 0x2;
    /// Designator Index.
    pub const DESIGNATOR_INDEX: u8 = 0x3;
    /// Designator Minimum.
    pub const DESIGNATOR_MINIMUM: u8 = 0x4;
    /// Designator Maximum.
    pub const DESIGNATOR_MAXIMUM: u8 = 0x5;
    /// String Index.
    pub const STRING_INDEX: u8 = 0x7;
    /// String Minimum.
    pub const STRING_MINIMUM: u8 = 0x8;
    /// String Maximum.
    pub const STRING_MAXIMUM: u8 = 0x9;
    /// Delimiter (1 opens a set of alternative usages, 0 closes it).
    pub const DELIMITER: u8 = 0xA;
}

/// One encoded item, borrowed from the descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    offset: usize,
    bytes: &'a [u8],
}

impl<'a> Item<'a> {
    /// Decodes the item starting at `desc[offset]`.
    pub fn parse_at(desc: &'a [u8], offset: usize) -> Result<Item<'a>, DescriptorError> {
        let rest = desc.get(offset..).unwrap_or(&[]);
        let &prefix =
            rest.first().ok_or(DescriptorError::Truncated { offset, needed: 1, available: 0 })?;
        let len = if prefix == 0xFE {
            let data_len = rest.get(1).copied().ok_or(DescriptorError::Truncated {
                offset,
                needed: 3,
                available: rest.len(),
            })?;
            3 + usize::from(data_len)
        } else {
            1 + short_size(prefix)
        };
        let bytes = rest.get(..len).ok_or(DescriptorError::Truncated {
            offset,
            needed: len,
            available: rest.len(),
        })?;
        Ok(Item { offset, bytes })
    }

    /// Byte offset of the item in the descriptor.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The whole encoded item (prefix and data).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The prefix byte.
    pub fn prefix(&self) -> u8 {
        self.bytes.first().copied().unwrap_or(0)
    }

    /// Item type.
    pub fn item_type(&self) -> ItemType {
        let p = self.prefix();
        if p == 0xFE {
            return ItemType::Long;
        }
        match (p >> 2) & 3 {
            0 => ItemType::Main,
            1 => ItemType::Global,
            2 => ItemType::Local,
            _ => ItemType::Reserved,
        }
    }

    /// Tag: bits 4-7 of a short item's prefix, or a long item's tag byte.
    pub fn tag(&self) -> u8 {
        if self.item_type() == ItemType::Long {
            self.bytes.get(2).copied().unwrap_or(0)
        } else {
            self.prefix() >> 4
        }
    }

    /// The data bytes (0, 1, 2 or 4 for short items).
    pub fn data(&self) -> &'a [u8] {
        let skip = if self.item_type() == ItemType::Long { 3 } else { 1 };
        self.bytes.get(skip..).unwrap_or(&[])
    }

    /// The data as an unsigned little-endian number (short items; 0 for long items).
    pub fn data_u32(&self) -> u32 {
        if self.item_type() == ItemType::Long {
            return 0;
        }
        self.data().iter().rev().fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
    }

    /// The data as a signed number: sign-extended from its own width (1, 2 or 4 bytes).
    pub fn data_i32(&self) -> i32 {
        let v = self.data_u32();
        match self.data().len() {
            1 => i32::from(v as u8 as i8),
            2 => i32::from(v as u16 as i16),
            _ => v as i32,
        }
    }

    /// Encodes a short item with the shortest data width that holds `data`
    /// (`0` is encoded with no data byte).
    pub fn encode_short(item_type: ItemType, tag: u8, data: u32, out: &mut alloc::vec::Vec<u8>) {
        let type_bits = match item_type {
            ItemType::Main => 0,
            ItemType::Global => 1,
            ItemType::Local => 2,
            ItemType::Reserved | ItemType::Long => 3,
        };
        let (code, n) = match data {
            0 => (0u8, 0usize),
            1..=0xff => (1, 1),
            0x100..=0xffff => (2, 2),
            _ => (3, 4),
        };
        out.push((tag << 4) | (type_bits << 2) | code);
        out.extend_from_slice(data.to_le_bytes().get(..n).unwrap_or(&[]));
    }
}

/// Data bytes of a short item with this prefix.
fn short_size(prefix: u8) -> usize {
    match prefix & 3 {
        3 => 4,
        n => usize::from(n),
    }
}

/// Iterator over the items of a descriptor; stops after the first error.
#[derive(Debug, Clone)]
pub struct Items<'a> {
    desc: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Items<'a> {
    /// Walks `desc` from its first byte.
    pub fn new(desc: &'a [u8]) -> Self {
        Items { desc, pos: 0, failed: false }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<Item<'a>, DescriptorError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.desc.len() {
            return None;
        }
        match Item::parse_at(self.desc, self.pos) {
            Ok(item) => {
                self.pos += item.bytes().len();
                Some(Ok(item))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_truncated() {
        let d = [0x05, 0x84, 0x16, 0x00, 0x80, 0xFE, 0x02, 0x10, 0xAA, 0xBB, 0x27];
        let items: alloc::vec::Vec<_> = Items::new(&d).collect();
        assert_eq!(items.len(), 4);
        let i0 = items[0].clone().unwrap();
        assert_eq!((i0.item_type(), i0.tag(), i0.data_u32()), (ItemType::Global, 0, 0x84));
        let i1 = items[1].clone().unwrap();
        assert_eq!((i1.offset(), i1.data_i32()), (2, -32768));
        let i2 = items[2].clone().unwrap();
        assert_eq!(
            (i2.item_type(), i2.tag(), i2.data()),
            (ItemType::Long, 0x10, &[0xAA, 0xBB][..])
        );
        assert_eq!(
            items[3],
            Err(DescriptorError::Truncated { offset: 10, needed: 5, available: 1 })
        );
    }

    #[test]
    fn encode_short_round_trips() {
        for (t, tag, v) in [
            (ItemType::Global, 1, 0u32),
            (ItemType::Local, 0, 0x1234),
            (ItemType::Main, 8, 0x1_0000),
        ] {
            let mut out = alloc::vec::Vec::new();
            Item::encode_short(t, tag, v, &mut out);
            let item = Item::parse_at(&out, 0).unwrap();
            assert_eq!((item.item_type(), item.tag(), item.data_u32()), (t, tag, v));
        }
    }
}
