//! Outcomes of tracked `SET VAR` and `INSTCMD` (`SET TRACKING ON`).

use nut_proto::sock::TrackingResult;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The most entries kept at once; the oldest are dropped beyond it, so a
/// client cannot grow the table without bound.
pub const MAX_TRACKED: usize = 10_000;

/// A fresh random UUIDv4 in NUT's text form: uppercase hex, 8-4-4-4-12.
///
/// Unlike NUT 2.8 (unseeded `rand()`, the same ids after every start), the
/// bytes come from the operating system's random source, so one client
/// cannot guess another's ids.
pub fn new_tracking_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // The OS source failing is not recoverable in a meaningful way; fall
        // back to a time-derived value rather than a constant.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = t.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Whether `id` has the form [`new_tracking_id`] produces.
pub fn is_tracking_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'A'..=b'F').contains(&c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'A' | b'B')
}

/// The tracking table (global, as in NUT: any client may ask about any id).
#[derive(Debug, Default)]
pub(crate) struct Tracking {
    entries: HashMap<String, (Instant, Option<TrackingResult>)>,
}

impl Tracking {
    pub(crate) fn add(&mut self, id: &str, now: Instant) {
        if self.entries.len() >= MAX_TRACKED {
            if let Some(oldest) =
                self.entries.iter().min_by_key(|(_, (t, _))| *t).map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(id.to_ascii_uppercase(), (now, None));
    }

    /// Records a driver's answer; unknown ids are ignored.
    pub(crate) fn set(&mut self, id: &str, result: TrackingResult) -> bool {
        match self.entries.get_mut(&id.to_ascii_uppercase()) {
            Some(e) => {
                e.1 = Some(result);
                true
            }
            None => false,
        }
    }

    /// The reply text for `GET TRACKING <id>`.
    pub(crate) fn reply(&self, id: &str) -> &'static str {
        match self.entries.get(&id.to_ascii_uppercase()) {
            None => "ERR UNKNOWN",
            Some((_, None)) => "PENDING",
            Some((_, Some(r))) => match r {
                TrackingResult::Handled => "SUCCESS",
                TrackingResult::Unknown => "ERR UNKNOWN",
                TrackingResult::Invalid | TrackingResult::ConversionFailed => {
                    "ERR INVALID-ARGUMENT"
                }
                _ => "ERR FAILED",
            },
        }
    }

    pub(crate) fn purge(&mut self, now: Instant, delay: Duration) {
        self.entries.retain(|_, (t, _)| now.saturating_duration_since(*t) < delay);
    }

    pub(crate) fn next_expiry(&self, delay: Duration) -> Option<Instant> {
        self.entries.values().map(|(t, _)| *t + delay).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid4_and_differ() {
        let a = new_tracking_id();
        let b = new_tracking_id();
        assert!(is_tracking_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(is_tracking_id("2DDC5036-F665-4D29-BE4C-0374D091D263"));
        assert!(!is_tracking_id("2ddc5036-f665-4d29-be4c-0374d091d263"));
    }

    #[test]
    fn table() {
        let t0 = Instant::now();
        let mut t = Tracking::default();
        t.add("AB", t0);
        assert_eq!(t.reply("ab"), "PENDING");
        for (code, text) in [
            (0, "SUCCESS"),
            (1, "ERR UNKNOWN"),
            (2, "ERR INVALID-ARGUMENT"),
            (3, "ERR FAILED"),
            (4, "ERR INVALID-ARGUMENT"),
        ] {
            assert!(t.set("ab", TrackingResult::from_code(code)));
            assert_eq!(t.reply("AB"), text);
        }
        assert!(!t.set("zz", TrackingResult::Handled));
        t.purge(t0 + Duration::from_secs(9), Duration::from_secs(10));
        assert_eq!(t.reply("AB"), "ERR FAILED".replace("FAILED", "INVALID-ARGUMENT"));
        t.purge(t0 + Duration::from_secs(10), Duration::from_secs(10));
        assert_eq!(t.reply("AB"), "ERR UNKNOWN");
    }
}
