//! The older `blazer_ser` / `blazer_usb` drivers: their four protocols, the
//! status parsed by splitting at spaces (not by position), ratings, vendor
//! data, and their commands (`ondelay` in minutes). Pure functions; the
//! driver sends the queries of [`PROTOCOLS`] with the same transports
//! (serial, or a [`crate::usb`] framing of blazer_usb: cypress, phoenix,
//! ippon, krauler).

use crate::error::{AnswerError, CommandError, escape};
use crate::item::{Arg, printf, query_name, strtod, strtol};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use nut_proto::publish::Publish;

/// A blazer protocol: name and its status, rating and vendor queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlazerProtocol {
    /// `protocol=` name.
    pub name: &'static str,
    /// Status query.
    pub status: &'static str,
    /// Rating query.
    pub rating: &'static str,
    /// Vendor query.
    pub vendor: &'static str,
}

/// The protocols in the order blazer tries them (3 tries each).
pub static PROTOCOLS: [BlazerProtocol; 4] = [
    BlazerProtocol { name: "megatec", status: "Q1\r", rating: "F\r", vendor: "I\r" },
    BlazerProtocol { name: "mustek", status: "QS\r", rating: "F\r", vendor: "I\r" },
    BlazerProtocol { name: "megatec/old", status: "D\r", rating: "F\r", vendor: "I\r" },
    BlazerProtocol { name: "zinto", status: "Q1\r", rating: "F\r", vendor: "FW?\r" },
];

/// Battery state of the blazer drivers (charge from the voltage).
#[derive(Clone, Debug, PartialEq)]
pub struct BlazerBattery {
    /// Battery voltage multiplier.
    pub packs: f64,
    /// Nominal voltage (-1: unknown).
    pub volt_nom: f64,
    /// Float voltage (-1: unknown).
    pub volt_high: f64,
    /// Low voltage (-1: unknown).
    pub volt_low: f64,
    /// Last voltage times packs.
    pub volt_act: f64,
    /// Whether `runtimecal` is set and `battery.charge` exists (then the
    /// charge is not recomputed from the voltage).
    pub runtimecal_with_charge: bool,
}

impl Default for BlazerBattery {
    fn default() -> Self {
        BlazerBattery {
            packs: 1.0,
            volt_nom: -1.0,
            volt_high: -1.0,
            volt_low: -1.0,
            volt_act: -1.0,
            runtimecal_with_charge: false,
        }
    }
}

impl BlazerBattery {
    /// The `battery.voltage.high/low` guess of `blazer_initbattery` when
    /// they are unknown: 104/120 and 130/120 of the nominal voltage.
    pub fn guess_limits(&mut self, p: &mut dyn Publish) {
        let unknown = |x: f64| (x + 1.0).abs() < 1e-9;
        if (self.volt_nom - 1.0).abs() >= 1e-9
            && (unknown(self.volt_high) || unknown(self.volt_low))
        {
            self.volt_low = 104.0 * self.volt_nom / 120.0;
            self.volt_high = 130.0 * self.volt_nom / 120.0;
            p.setinfo("battery.voltage.low", &printf("%.2f", &[Arg::F(self.volt_low)]));
            p.setinfo("battery.voltage.high", &printf("%.2f", &[Arg::F(self.volt_high)]));
        }
    }
}

fn is_num(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Splits like `strtok_r(buf + 1, " ")` then `" \r\n"`.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split([' ', '\r', '\n']).filter(|t| !t.is_empty())
}

/// `blazer_status`: the status answer (at least 46 bytes, `(`), fields
/// split at spaces (non-numeric ones skipped), then the 8 status bits.
/// Publishes the values, `ups.beeper.status`, `ups.type`, and commits
/// `ups.status` and `ups.alarm`. Returns whether the UPS is on line.
pub fn apply_status(
    query: &[u8],
    answer: &[u8],
    batt: &mut BlazerBattery,
    p: &mut dyn Publish,
) -> Result<bool, AnswerError> {
    let a = crate::item::c_str(answer);
    let q = || query_name(query);
    if a.len() < 46 {
        return Err(AnswerError::Short { query: q(), answer: escape(a), len: a.len(), min: 46 });
    }
    if a.first() != Some(&b'(') {
        return Err(AnswerError::Leading { query: q(), answer: escape(a), expected: '(' });
    }
    let text = String::from_utf8_lossy(a.get(1..).unwrap_or(&[])).into_owned();
    let mut it = tokens(&text);
    const VARS: [(&str, &str); 7] = [
        ("input.voltage", "%.1f"),
        ("input.voltage.fault", "%.1f"),
        ("output.voltage", "%.1f"),
        ("ups.load", "%.0f"),
        ("input.frequency", "%.1f"),
        ("battery.voltage", "%.2f"),
        ("ups.temperature", "%.1f"),
    ];
    let mut values: Vec<(&str, String)> = Vec::new();
    let mut charge = None;
    for (var, fmt) in VARS {
        let Some(v) = it.next() else {
            return Err(AnswerError::Short {
                query: q(),
                answer: escape(a),
                len: a.len(),
                min: 46,
            });
        };
        if !is_num(v) {
            continue;
        }
        let mut x = strtod(v);
        if var == "battery.voltage" {
            x *= batt.packs;
            batt.volt_act = x;
            if !batt.runtimecal_with_charge && batt.volt_low > 0.0 && batt.volt_high > batt.volt_low
            {
                let c = (100.0 * (x - batt.volt_low) / (batt.volt_high - batt.volt_low))
                    .clamp(0.0, 100.0);
                charge = Some(printf("%.0f", &[Arg::F(c)]));
            }
        }
        values.push((var, printf(fmt, &[Arg::F(x)])));
    }
    let bits = it.next().unwrap_or("");
    let b = bits.as_bytes();
    if b.iter().take_while(|c| matches!(c, b'0' | b'1')).count() != 8 {
        return Err(AnswerError::Hook {
            query: q(),
            var: "ups.status",
            hook: "blazer_status",
            value: escape(b),
        });
    }
    let bit = |i: usize| b.get(i) == Some(&b'1');
    if let Some(c) = charge {
        p.setinfo("battery.charge", &c);
    }
    for (var, v) in &values {
        p.setinfo(var, v);
    }
    p.setinfo("ups.beeper.status", if bit(7) { "enabled" } else { "disabled" });
    p.setinfo("ups.type", if bit(4) { "offline / line interactive" } else { "online" });
    p.status_init();
    p.status_set(if bit(0) { "OB" } else { "OL" });
    if bit(1) {
        p.status_set("LB");
    }
    if bit(2) {
        let vi = p.getinfo("input.voltage").map_or(0.0, strtod);
        let vo = p.getinfo("output.voltage").map_or(0.0, strtod);
        if vo < 0.5 * vi {
        } else if vo < 0.95 * vi {
            p.status_set("TRIM");
        } else if vo < 1.05 * vi {
            p.status_set("BYPASS");
        } else if vo < 1.5 * vi {
            p.status_set("BOOST");
        }
    }
    if bit(5) {
        p.status_set("CAL");
    }
    p.alarm_init();
    if bit(3) {
        p.alarm_set("UPS selftest failed!");
    }
    if bit(6) {
        p.alarm_set("Shutdown imminent!");
        p.status_set("FSD");
    }
    p.alarm_commit();
    p.status_commit();
    Ok(!bit(0))
}

/// `blazer_rating`: at least 22 bytes, `#`, four fields split at spaces;
/// the battery nominal voltage also picks the battery packs.
pub fn apply_rating(
    query: &[u8],
    answer: &[u8],
    batt: &mut BlazerBattery,
    p: &mut dyn Publish,
) -> Result<(), AnswerError> {
    let a = crate::item::c_str(answer);
    let q = || query_name(query);
    if a.len() < 22 {
        return Err(AnswerError::Short { query: q(), answer: escape(a), len: a.len(), min: 22 });
    }
    if a.first() != Some(&b'#') {
        return Err(AnswerError::Leading { query: q(), answer: escape(a), expected: '#' });
    }
    let text = String::from_utf8_lossy(a.get(1..).unwrap_or(&[])).into_owned();
    let mut it = tokens(&text);
    for (var, fmt) in [
        ("input.voltage.nominal", "%.0f"),
        ("input.current.nominal", "%.1f"),
        ("battery.voltage.nominal", "%.1f"),
        ("input.frequency.nominal", "%.0f"),
    ] {
        let Some(v) = it.next() else {
            return Err(AnswerError::Short {
                query: q(),
                answer: escape(a),
                len: a.len(),
                min: 22,
            });
        };
        if !is_num(v) {
            continue;
        }
        let mut x = strtod(v);
        if var == "battery.voltage.nominal" {
            x = p.getinfo("battery.voltage.nominal").map_or(x, strtod);
            batt.volt_nom = x;
            const PACKS: [f64; 17] = [
                120.0, 100.0, 80.0, 60.0, 48.0, 36.0, 30.0, 24.0, 18.0, 12.0, 8.0, 6.0, 4.0, 3.0,
                2.0, 1.0, 0.5,
            ];
            for m in PACKS {
                if m * batt.volt_act > 1.2 * x {
                    continue;
                }
                if m * batt.volt_act >= 0.8 * x {
                    batt.packs = m;
                }
                break;
            }
        }
        p.setinfo(var, &printf(fmt, &[Arg::F(x)]));
    }
    Ok(())
}

/// `blazer_vendor`: at least 39 bytes, `#`, then `ups.mfr` (15 bytes),
/// `ups.model` (10), `ups.firmware` (10), right-trimmed.
pub fn apply_vendor(query: &[u8], answer: &[u8], p: &mut dyn Publish) -> Result<(), AnswerError> {
    let a = crate::item::c_str(answer);
    let q = || query_name(query);
    if a.len() < 39 {
        return Err(AnswerError::Short { query: q(), answer: escape(a), len: a.len(), min: 39 });
    }
    if a.first() != Some(&b'#') {
        return Err(AnswerError::Leading { query: q(), answer: escape(a), expected: '#' });
    }
    let mut at = 1;
    for (var, len) in [("ups.mfr", 15), ("ups.model", 10), ("ups.firmware", 10)] {
        let f = a.get(at..(at + len).min(a.len())).unwrap_or(&[]);
        let v = String::from_utf8_lossy(f);
        p.setinfo(var, v.trim_end_matches(' '));
        at += len + 1;
    }
    Ok(())
}

/// The bytes of a blazer instant command. `ondelay` is in minutes, `offdelay`
/// in seconds; `test.battery.start` takes minutes (1..=99, default 10).
pub fn command(
    name: &str,
    extra: Option<&str>,
    ondelay: i64,
    offdelay: i64,
) -> Result<Vec<u8>, CommandError> {
    let fixed = match name.to_ascii_lowercase().as_str() {
        "beeper.toggle" => Some("Q\r"),
        "load.off" => Some("S00R0000\r"),
        "load.on" | "shutdown.stop" => Some("C\r"),
        "test.battery.start.deep" => Some("TL\r"),
        "test.battery.start.quick" => Some("T\r"),
        "test.battery.stop" => Some("CT\r"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Ok(f.as_bytes().to_vec());
    }
    let off = if offdelay < 60 {
        printf(".%ld", &[Arg::I(offdelay / 6)])
    } else {
        printf("%02ld", &[Arg::I(offdelay / 60)])
    };
    let s = match name.to_ascii_lowercase().as_str() {
        "shutdown.return" => {
            if ondelay == 0 {
                printf("S%s\r", &[Arg::S(&off)])
            } else {
                printf("S%sR%04ld\r", &[Arg::S(&off), Arg::I(ondelay)])
            }
        }
        "shutdown.stayoff" => printf("S%sR0000\r", &[Arg::S(&off)]),
        "test.battery.start" => {
            let d = extra.map_or(10, strtol);
            if !(1..=99).contains(&d) {
                return Err(CommandError::InvalidValue {
                    name: name.to_string(),
                    value: extra.unwrap_or("").to_string(),
                });
            }
            printf("T%02ld\r", &[Arg::I(d)])
        }
        _ => return Err(CommandError::Unknown(name.to_string())),
    };
    Ok(s.into_bytes())
}

/// Whether the answer to a blazer command means success: no answer, or
/// one starting with `ACK` / `(ACK` (an echo means "invalid").
pub fn command_accepted(answer: &[u8]) -> bool {
    answer.is_empty() || answer.starts_with(b"ACK") || answer.starts_with(b"(ACK")
}
