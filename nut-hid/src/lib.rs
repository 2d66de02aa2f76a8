#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

/// The wire types and the `Publish` trait this
/// crate's API uses, so that users need no second dependency.
pub use nut_proto as proto;

pub mod descriptor;
pub mod fixup;
pub mod item;
pub mod mapping;
mod pack;
pub mod report;
pub mod subdrivers;
pub mod usage;

pub use descriptor::{Collection, Globals, MainItem, ReportDescriptor, ReportInfo, UsageSpec};
pub use item::{Item, ItemType, Items};
pub use report::Field;
pub use usage::{NameTable, Path, PathError, UsageName, UsageTables};

/// The three kinds of HID report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportType {
    /// Input report (device to host; also read by interrupt transfers).
    Input,
    /// Output report (host to device).
    Output,
    /// Feature report (both ways, by GET_REPORT/SET_REPORT).
    Feature,
}

impl ReportType {
    /// NUT's spelling: `Input`, `Output`, `Feature`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::Input => "Input",
            ReportType::Output => "Output",
            ReportType::Feature => "Feature",
        }
    }

    /// The `wValue` high byte of GET_REPORT/SET_REPORT (1 input, 2 output, 3 feature).
    pub fn request_code(self) -> u8 {
        match self {
            ReportType::Input => 1,
            ReportType::Output => 2,
            ReportType::Feature => 3,
        }
    }
}

impl core::fmt::Display for ReportType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A report descriptor that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DescriptorError {
    /// No bytes at all.
    #[error("empty report descriptor")]
    Empty,
    /// Longer than [`descriptor::MAX_DESCRIPTOR_LEN`].
    #[error("report descriptor of {len} bytes is longer than the {max} accepted")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The item starting at `offset` runs past the end of the descriptor.
    #[error("item at byte {offset} is truncated: needs {needed} bytes, {available} left")]
    Truncated {
        /// Offset of the item's prefix byte.
        offset: usize,
        /// Bytes the item needs.
        needed: usize,
        /// Bytes left from its prefix on.
        available: usize,
    },
    /// A short item of the reserved type 3.
    #[error("reserved item type at byte {offset} (prefix {prefix:#04x})")]
    ReservedItem {
        /// Offset of the item.
        offset: usize,
        /// Its prefix byte.
        prefix: u8,
    },
    /// End Collection with no open collection.
    #[error("end collection at byte {offset} without a collection")]
    EndCollectionWithoutCollection {
        /// Offset of the End Collection item.
        offset: usize,
    },
    /// The descriptor ends with collections still open.
    #[error("collection at byte {offset} not closed at the end of the descriptor ({depth} open)")]
    UnclosedCollection {
        /// Offset of the innermost open Collection item.
        offset: usize,
        /// Number of collections still open.
        depth: usize,
    },
    /// Collections nested deeper than [`descriptor::MAX_COLLECTION_DEPTH`].
    #[error("collection at byte {offset} nested deeper than {max}")]
    CollectionTooDeep {
        /// Offset of the Collection item.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// A usage path longer than [`usage::MAX_PATH_DEPTH`] nodes.
    #[error("usage path at byte {offset} longer than {max} nodes")]
    PathTooLong {
        /// Offset of the item that made it too long.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// Push nested deeper than [`descriptor::MAX_PUSH_DEPTH`].
    #[error("push at byte {offset} deeper than {max}")]
    PushTooDeep {
        /// Offset of the Push item.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// Pop with an empty Push stack.
    #[error("pop at byte {offset} without a push")]
    PopWithoutPush {
        /// Offset of the Pop item.
        offset: usize,
    },
    /// More usages before one main item than [`descriptor::MAX_PENDING_USAGES`].
    #[error("usage at byte {offset}: more than {max} usages before one main item")]
    TooManyUsages {
        /// Offset of the Usage item over the limit.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// Usage Maximum without a Usage Minimum before it.
    #[error("usage maximum at byte {offset} without a usage minimum")]
    UsageMaximumWithoutMinimum {
        /// Offset of the Usage Maximum item.
        offset: usize,
    },
    /// A Delimiter nested, closed without being opened, or left open at a main item.
    #[error("unbalanced delimiter at byte {offset}")]
    BadDelimiter {
        /// Offset of the offending item.
        offset: usize,
    },
    /// A report longer than [`descriptor::MAX_REPORT_BITS`] (or a size overflow).
    #[error("main item at byte {offset} makes report {report_id} longer than {max_bits} bits")]
    ReportTooLong {
        /// Offset of the main item.
        offset: usize,
        /// The report ID.
        report_id: u8,
        /// The limit.
        max_bits: u32,
    },
}

/// A report that does not fit a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The report bytes end before the field does.
    #[error(
        "report {report_id} has {len} bytes, the field at bit {bit_offset} ({bit_size} bits) needs {needed}"
    )]
    TooShort {
        /// The field's report ID.
        report_id: u8,
        /// The field's bit offset.
        bit_offset: u8,
        /// The field's size in bits.
        bit_size: u8,
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        len: usize,
    },
}
