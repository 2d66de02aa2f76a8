//! `EXPLORE HID 0.2` subdriver data (NUT 2.8.0 `drivers/explore-hid.c`).
//!
//! Claims any device, but only when the `explore` option is set (NUT also
//! requires `vendorid` then). Its table is empty: it only makes the driver
//! dump every path it finds (with the generic usage names, unknown usages in
//! hex) so that a new table can be written.
//!
//! The tables below are generated from NUT's source as data; the
//! hand-written parts are the claim rule and the quirks.

use super::{
    ClaimRule, Identity, InfoRow, InfoTable, LookupTable, MfrRule, ModelRule, SerialRule,
    Subdriver, UsbId,
};
use crate::pack::{info_table, name_table};
use crate::usage::NameTable;

/// The tables this subdriver defines itself.
pub static LOOKUPS: &[&LookupTable] = &[];

/// Vendor usages (searched before the generic HID Power Device names).
pub static USAGES: NameTable = name_table!(&[]);

/// USB IDs this subdriver claims, in NUT's table order.
pub static USB_IDS: &[UsbId] = &[];

/// The `hid_info_t` rows, in NUT's order. At init NUT keeps, per
/// variable, the first row whose path exists and whose value publishes
/// something; status, `ups.alarm` and command rows are all kept.
pub(crate) const INFO_ROWS: &[InfoRow] = &[];

/// The rows above, packed (their strings in the blob all subdrivers share).
pub static INFO: InfoTable = info_table!(INFO_ROWS, in 0);

/// The subdriver record.
pub static SUBDRIVER: Subdriver = Subdriver {
    key: "explore",
    version: "EXPLORE HID 0.2",
    usb_ids: USB_IDS,
    claim: ClaimRule {
        explore_only: true,
        hint: &[],
        productid_vids: &[],
        refused: &[],
        string_gate: None,
        effects: &[],
    },
    usages: USAGES,
    info: INFO,
    lookups: LOOKUPS,
    identity: Identity {
        mfr: MfrRule::Vendor,
        model: ModelRule::Product,
        serial: SerialRule::Serial,
    },
    quirks: &[],
};
