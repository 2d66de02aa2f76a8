//! Outcomes of tracked `SET VAR` and `INSTCMD` (`SET TRACKING ON`).

use nut_proto::sock::TrackingResult;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The most entries kept at once; the oldest are dropped beyond it, so
/// the table stays bounded however many users there are.
pub const MAX_TRACKED: usize = 10_000;

/// The most entries kept for one user; that user's oldest are dropped
/// beyond it, so one user's flood of tracked commands cannot push out
/// another user's results.
pub const MAX_TRACKED_PER_USER: usize = 1_000;

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

struct Entry {
    /// The user whose SET or INSTCMD made the entry: only they can read it.
    owner: String,
    at: Instant,
    result: Option<TrackingResult>,
}

/// The tracking table. Unlike NUT's (global: any client may read any id),
/// each entry belongs to the user who made it; another user asking about
/// it gets the answer for an unknown id.
#[derive(Default)]
pub(crate) struct Tracking {
    entries: HashMap<String, Entry>,
    /// Each owner's ids, oldest first.
    by_owner: HashMap<String, VecDeque<String>>,
}

impl Tracking {
    pub(crate) fn add(&mut self, id: &str, owner: &str, now: Instant) {
        let id = id.to_ascii_uppercase();
        let q = self.by_owner.entry(owner.to_string()).or_default();
        if q.len() >= MAX_TRACKED_PER_USER {
            if let Some(old) = q.pop_front() {
                self.entries.remove(&old);
            }
        }
        q.push_back(id.clone());
        if self.entries.len() >= MAX_TRACKED {
            let oldest = self.entries.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                if let Some(e) = self.entries.remove(&oldest) {
                    if let Some(q) = self.by_owner.get_mut(&e.owner) {
                        q.retain(|x| *x != oldest);
                    }
                }
            }
        }
        self.entries.insert(id, Entry { owner: owner.to_string(), at: now, result: None });
    }

    /// Records a driver's answer; unknown ids are ignored.
    pub(crate) fn set(&mut self, id: &str, result: TrackingResult) -> bool {
        match self.entries.get_mut(&id.to_ascii_uppercase()) {
            Some(e) => {
                e.result = Some(result);
                true
            }
            None => false,
        }
    }

    /// The reply text for `GET TRACKING <id>` asked by `owner` (None: a
    /// client without valid credentials). Someone else's id is unknown.
    pub(crate) fn reply(&self, id: &str, owner: Option<&str>) -> &'static str {
        match self.entries.get(&id.to_ascii_uppercase()) {
            Some(e) if Some(e.owner.as_str()) == owner => match &e.result {
                None => "PENDING",
                Some(TrackingResult::Handled) => "SUCCESS",
                Some(TrackingResult::Unknown) => "ERR UNKNOWN",
                Some(TrackingResult::Invalid | TrackingResult::ConversionFailed) => {
                    "ERR INVALID-ARGUMENT"
                }
                Some(_) => "ERR FAILED",
            },
            _ => "ERR UNKNOWN",
        }
    }

    pub(crate) fn purge(&mut self, now: Instant, delay: Duration) {
        let before = self.entries.len();
        self.entries.retain(|_, e| now.saturating_duration_since(e.at) < delay);
        if self.entries.len() != before {
            let entries = &self.entries;
            self.by_owner.retain(|_, q| {
                q.retain(|id| entries.contains_key(id));
                !q.is_empty()
            });
        }
    }

    pub(crate) fn next_expiry(&self, delay: Duration) -> Option<Instant> {
        self.entries.values().map(|e| e.at + delay).min()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
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
        t.add("AB", "u", t0);
        assert_eq!(t.reply("ab", Some("u")), "PENDING");
        for (code, text) in [
            (0, "SUCCESS"),
            (1, "ERR UNKNOWN"),
            (2, "ERR INVALID-ARGUMENT"),
            (3, "ERR FAILED"),
            (4, "ERR INVALID-ARGUMENT"),
        ] {
            assert!(t.set("ab", TrackingResult::from_code(code)));
            assert_eq!(t.reply("AB", Some("u")), text);
        }
        assert!(!t.set("zz", TrackingResult::Handled));
        t.purge(t0 + Duration::from_secs(9), Duration::from_secs(10));
        assert_eq!(t.reply("AB", Some("u")), "ERR FAILED".replace("FAILED", "INVALID-ARGUMENT"));
        t.purge(t0 + Duration::from_secs(10), Duration::from_secs(10));
        assert_eq!(t.reply("AB", Some("u")), "ERR UNKNOWN");
        assert!(t.by_owner.is_empty());
    }

    #[test]
    fn results_belong_to_their_user_and_floods_stay_with_the_flooder() {
        let t0 = Instant::now();
        let mut t = Tracking::default();
        t.add("KEEP", "alice", t0);
        t.set("KEEP", TrackingResult::Handled);
        for i in 0..MAX_TRACKED + 5 {
            t.add(&format!("F{i}"), "mallory", t0 + Duration::from_millis(1));
        }
        assert_eq!(t.reply("KEEP", Some("alice")), "SUCCESS");
        assert_eq!(t.reply("KEEP", Some("mallory")), "ERR UNKNOWN");
        assert_eq!(t.reply("KEEP", None), "ERR UNKNOWN");
        assert_eq!(t.len(), MAX_TRACKED_PER_USER + 1);
        // Mallory's oldest went, the newest stay.
        assert_eq!(t.reply("F0", Some("mallory")), "ERR UNKNOWN");
        let last = format!("F{}", MAX_TRACKED + 4);
        assert_eq!(t.reply(&last, Some("mallory")), "PENDING");
        // Many users together still stay within the global bound.
        for u in 0..11 {
            for i in 0..MAX_TRACKED_PER_USER {
                t.add(&format!("U{u}-{i}"), &format!("user{u}"), t0 + Duration::from_secs(1));
            }
        }
        assert!(t.len() <= MAX_TRACKED);
        let kept: usize = t.by_owner.values().map(VecDeque::len).sum();
        assert_eq!(kept, t.len());
    }
}
