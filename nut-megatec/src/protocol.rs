//! The protocols (NUT's nutdrv_qx subdrivers) as data: name, item table,
//! accepted/rejected answers, how each claims a device, which options it
//! takes, and the order autodetection tries them.

use crate::item::Item;
use crate::tables;

/// How a protocol claims a device (NUT's `claim` functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// `input.voltage`, then (unless `novendor`) `ups.firmware`; a failure
    /// of the second deletes `input.voltage` (`blazer_claim`).
    Blazer,
    /// `input.voltage` only (`blazer_claim_light`).
    BlazerLight,
    /// Each listed variable in order, deleting the first one's variable when
    /// a later one fails.
    Steps(&'static [&'static str]),
    /// Each listed variable in order, nothing deleted on failure; `WA`
    /// queries are left out under `nooutstats` (innovart, q2, q6).
    Mandatory(&'static [&'static str]),
    /// `input.voltage`, then `ups.firmware.aux`, where a `(NAK` answer is
    /// tolerated (the item is then skipped) (`mecer_claim`).
    Mecer,
    /// Only when the USB vendor id is `0590` or `protocol=omron` was given,
    /// then as [`Claim::BlazerLight`].
    Omron,
    /// Masterguard's (`masterguard_claim`): the series, the model, the
    /// power rating, the slave address and the output voltages must all
    /// pass their hooks, which publish nothing yet (the init walk does);
    /// the slave address must equal `slave_address=` when given; items
    /// whose query the series lacks are skipped. NUT 2.8.0 looks these
    /// items up by their names from before it renamed them
    /// `experimental.*`, so its claim never succeeds (fixed in 2.8.1);
    /// this crate claims as intended.
    Masterguard,
}

/// Which of the blazer options a protocol takes (`norating`, `novendor`,
/// `ignoresab`, `nooutstats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Options {
    /// `norating`, `novendor`, `ignoresab` (`blazer_makevartable`).
    Blazer,
    /// `ignoresab` only (`blazer_makevartable_light`).
    Light,
    /// `norating`, `nooutstats`, `ignoresab` (q2, q6).
    Q6,
    /// None of them.
    None,
}

/// A protocol (NUT subdriver).
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    /// Name and version, published as `driver.version.data`.
    pub name: &'static str,
    /// The item table.
    pub items: &'static [Item],
    /// The answer that confirms a command (`ACK`, `OK`), if any.
    pub accepted: Option<&'static str>,
    /// The answer that refuses a query (`(NAK\r`, `N\r`), if any.
    pub rejected: Option<&'static str>,
    /// How it claims a device.
    pub claim: Claim,
    /// Options it takes.
    pub options: Options,
    /// Whether NUT 2.8.0 has it.
    pub in_nut_2_8_0: bool,
    /// Variables its `initinfo` publishes (phase counts of 3-phase models,
    /// the solar controllers' `device.type`).
    pub initinfo: &'static [(&'static str, &'static str)],
}

impl Protocol {
    /// The name up to the first space, which `protocol=` is matched against.
    pub fn short_name(&self) -> &'static str {
        self.name.split(' ').next().unwrap_or(self.name)
    }

    /// The first item for `var` (NUT `find_nut_info(var, 0, 0)`).
    pub fn find(&self, var: &str) -> Option<(usize, &'static Item)> {
        self.items.iter().enumerate().find(|(_, i)| i.var.eq_ignore_ascii_case(var))
    }
}

const fn p(
    name: &'static str,
    items: &'static [Item],
    accepted: Option<&'static str>,
    rejected: Option<&'static str>,
    claim: Claim,
    options: Options,
    in_nut_2_8_0: bool,
) -> Protocol {
    Protocol { name, items, accepted, rejected, claim, options, in_nut_2_8_0, initinfo: &[] }
}

const ACK: Option<&str> = Some("ACK");

/// `Voltronic 0.06`.
pub static VOLTRONIC: Protocol = p(
    "Voltronic 0.06",
    tables::VOLTRONIC,
    ACK,
    Some("(NAK\r"),
    Claim::Steps(&["input.voltage", "ups.firmware.aux"]),
    Options::None,
    true,
);
/// `Voltronic-QS 0.07`.
pub static VOLTRONIC_QS: Protocol = p(
    "Voltronic-QS 0.07",
    tables::VOLTRONIC_QS,
    None,
    None,
    Claim::Steps(&["ups.firmware.aux", "input.voltage"]),
    Options::Light,
    true,
);
/// `Voltronic-QS-Hex 0.10`.
pub static VOLTRONIC_QS_HEX: Protocol = p(
    "Voltronic-QS-Hex 0.10",
    tables::VOLTRONIC_QS_HEX,
    None,
    Some("N\r"),
    Claim::Steps(&["ups.firmware.aux", "input.voltage"]),
    Options::Light,
    true,
);
/// `Mustek 0.07`.
pub static MUSTEK: Protocol =
    p("Mustek 0.07", tables::MUSTEK, ACK, None, Claim::BlazerLight, Options::Blazer, true);
/// `Megatec/old 0.07`.
pub static MEGATEC_OLD: Protocol = p(
    "Megatec/old 0.07",
    tables::MEGATEC_OLD,
    ACK,
    None,
    Claim::BlazerLight,
    Options::Blazer,
    true,
);
/// `BestUPS 0.06`.
pub static BESTUPS: Protocol = p(
    "BestUPS 0.06",
    tables::BESTUPS,
    None,
    None,
    Claim::Steps(&["input.voltage", "device.model"]),
    Options::Light,
    true,
);
/// `Mecer 0.07`.
pub static MECER: Protocol =
    p("Mecer 0.07", tables::MECER, ACK, Some("(NAK\r"), Claim::Mecer, Options::Blazer, true);
/// `Megatec 0.06`.
pub static MEGATEC: Protocol =
    p("Megatec 0.06", tables::MEGATEC, ACK, None, Claim::Blazer, Options::Blazer, true);
/// `Zinto 0.06`.
pub static ZINTO: Protocol =
    p("Zinto 0.06", tables::ZINTO, ACK, None, Claim::Blazer, Options::Blazer, true);
/// `Masterguard 0.02`.
pub static MASTERGUARD: Protocol =
    p("Masterguard 0.02", tables::MASTERGUARD, None, None, Claim::Masterguard, Options::None, true);
/// `Hunnox 0.01`.
pub static HUNNOX: Protocol = p(
    "Hunnox 0.01",
    tables::HUNNOX,
    Some("UPS No Ack"),
    None,
    Claim::Blazer,
    Options::Blazer,
    true,
);
/// `Ablerex 0.01`.
pub static ABLEREX: Protocol =
    p("Ablerex 0.01", tables::ABLEREX, ACK, None, Claim::Blazer, Options::Blazer, true);
/// `Q1 0.07`, the fallback.
pub static Q1: Protocol =
    p("Q1 0.07", tables::Q1, ACK, None, Claim::BlazerLight, Options::Light, true);

/// `Omron 0.01` (after 2.8.0).
pub static OMRON: Protocol =
    p("Omron 0.01", tables::OMRON, Some("OK"), Some("NAK\r"), Claim::Omron, Options::Light, false);
/// `Voltronic-Axpert 0.02` (after 2.8.0); its `initinfo` makes the device
/// a solar controller (`device.type` `scd`).
pub static VOLTRONIC_AXPERT: Protocol = Protocol {
    initinfo: &[("device.type", "scd")],
    ..p(
        "Voltronic-Axpert 0.02",
        tables::VOLTRONIC_AXPERT,
        ACK,
        Some("(NAK\r"),
        Claim::Steps(&["device.firmware.aux"]),
        Options::None,
        false,
    )
};
const INNOVART_CLAIM: &[&str] = &[
    "input.L1-N.voltage",
    "ups.type",
    "output.current",
    "input.bypass.voltage",
    "input.voltage.nominal",
    "ups.firmware",
    "ups.serial",
];
/// `INNOVART31 0.02` (after 2.8.0).
pub static INNOVART31: Protocol = Protocol {
    initinfo: &[("input.phases", "3"), ("input.bypass.phases", "1"), ("output.phases", "1")],
    ..p(
        "INNOVART31 0.02",
        tables::INNOVART31,
        ACK,
        Some("NAK\r"),
        Claim::Mandatory(INNOVART_CLAIM),
        Options::Light,
        false,
    )
};
/// `INNOVART33 0.01` (after 2.8.0).
pub static INNOVART33: Protocol = Protocol {
    initinfo: &[("input.phases", "3"), ("input.bypass.phases", "3"), ("output.phases", "3")],
    ..p(
        "INNOVART33 0.01",
        tables::INNOVART33,
        ACK,
        Some("NAK\r"),
        Claim::Mandatory(INNOVART_CLAIM),
        Options::Light,
        false,
    )
};
/// `INNOVATAE 0.01` (after 2.8.0).
pub static INNOVATAE: Protocol = p(
    "INNOVATAE 0.01",
    tables::INNOVATAE,
    ACK,
    Some("NAK\r"),
    Claim::BlazerLight,
    Options::Light,
    false,
);
/// `Q2 0.01` (after 2.8.0).
pub static Q2: Protocol = Protocol {
    initinfo: &[("input.phases", "3"), ("output.phases", "3")],
    ..p(
        "Q2 0.01",
        tables::Q2,
        ACK,
        None,
        Claim::Mandatory(&["input.L1-N.voltage", "ups.type", "output.L1.current"]),
        Options::Q6,
        false,
    )
};
/// `Q6 0.01` (after 2.8.0).
pub static Q6: Protocol = Protocol {
    initinfo: &[("input.phases", "3"), ("output.phases", "3")],
    ..p(
        "Q6 0.01",
        tables::Q6,
        ACK,
        None,
        Claim::Mandatory(&["input.L1-N.voltage", "ups.type", "output.L1.current"]),
        Options::Q6,
        false,
    )
};
/// `Gtec 0.01` (after 2.8.0).
pub static GTEC: Protocol =
    p("Gtec 0.01", tables::GTEC, ACK, None, Claim::Blazer, Options::Blazer, false);

/// Autodetection order. NUT 2.8.0's list comes first, unchanged, so every
/// device 2.8.0 claims with a specific protocol gets the same one; the
/// protocols added later follow (in NUT master's relative order) before the
/// `Q1` fallback, so devices 2.8.0 could only run as `Q1` (or not at all)
/// now find their own protocol. Omron is gated on its USB vendor id as in
/// NUT master. `INNOVATAE` claims exactly as `Q1` does (one `Q1` answer),
/// so it comes after it and is only reached with `protocol=innovatae`
/// (NUT master tries it before `Q2`/`Q6`/`Gtec`/`Q1`, where it takes every
/// plain Q1 device).
pub static AUTODETECT_ORDER: &[&Protocol] = &[
    &VOLTRONIC,
    &VOLTRONIC_QS,
    &VOLTRONIC_QS_HEX,
    &MUSTEK,
    &MEGATEC_OLD,
    &BESTUPS,
    &MECER,
    &MEGATEC,
    &ZINTO,
    &MASTERGUARD,
    &HUNNOX,
    &ABLEREX,
    &OMRON,
    &VOLTRONIC_AXPERT,
    &INNOVART31,
    &INNOVART33,
    &Q2,
    &Q6,
    &GTEC,
    &Q1,
    &INNOVATAE,
];

/// NUT 2.8.0's own autodetection order (13 protocols).
pub static AUTODETECT_ORDER_2_8_0: &[&Protocol] = &[
    &VOLTRONIC,
    &VOLTRONIC_QS,
    &VOLTRONIC_QS_HEX,
    &MUSTEK,
    &MEGATEC_OLD,
    &BESTUPS,
    &MECER,
    &MEGATEC,
    &ZINTO,
    &MASTERGUARD,
    &HUNNOX,
    &ABLEREX,
    &Q1,
];

/// The protocol `protocol=<name>` selects (case-insensitive, name up to the
/// first space, e.g. `megatec/old`, `voltronic-qs-hex`).
pub fn by_name(name: &str) -> Option<&'static Protocol> {
    AUTODETECT_ORDER.iter().copied().find(|p| p.short_name().eq_ignore_ascii_case(name))
}
