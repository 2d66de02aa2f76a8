//! The timer table: sans-IO, driven by the caller's clock.

use std::time::{Duration, Instant};

/// One running timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timer {
    /// Its name (what CMDSCRIPT gets when it expires).
    pub name: String,
    /// When it expires.
    pub due: Instant,
}

/// The daemon's timers, in the order they were started.
///
/// As in NUT, starting a timer whose name is already running adds a
/// second one (both expire), and cancelling removes the oldest one of
/// that name. Nothing here reads a clock: every call takes `now`.
///
/// ```
/// use nut_client::upssched::TimerTable;
/// use std::time::{Duration, Instant};
/// let t0 = Instant::now();
/// let mut table = TimerTable::new();
/// table.start("onbatt", Duration::from_secs(30), t0);
/// table.start("late", Duration::from_secs(60), t0);
/// assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(30)));
/// assert!(table.handle_timeout(t0 + Duration::from_secs(29)).is_empty());
/// assert_eq!(table.handle_timeout(t0 + Duration::from_secs(30)), ["onbatt"]);
/// assert!(table.cancel("late"));
/// assert!(table.is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct TimerTable {
    timers: Vec<Timer>,
}

impl TimerTable {
    /// An empty table.
    pub fn new() -> Self {
        TimerTable::default()
    }

    /// Starts a timer `name` that expires `after` from `now`.
    pub fn start(&mut self, name: &str, after: Duration, now: Instant) {
        let due = now.checked_add(after).unwrap_or(now + Duration::from_secs(u32::MAX.into()));
        self.timers.push(Timer { name: name.to_string(), due });
    }

    /// Whether a timer of this name is running.
    pub fn is_running(&self, name: &str) -> bool {
        self.timers.iter().any(|t| t.name == name)
    }

    /// Cancels the oldest timer of this name; false when none was running.
    pub fn cancel(&mut self, name: &str) -> bool {
        match self.timers.iter().position(|t| t.name == name) {
            Some(i) => {
                self.timers.remove(i);
                true
            }
            None => false,
        }
    }

    /// When the next timer expires.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().map(|t| t.due).min()
    }

    /// Removes the timers due at `now` and returns their names in table
    /// (start) order.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<String> {
        let mut expired = Vec::new();
        self.timers.retain(|t| {
            let due = t.due <= now;
            if due {
                expired.push(t.name.clone());
            }
            !due
        });
        expired
    }

    /// Whether no timer is running.
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    /// Number of running timers.
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// The running timers, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Timer> {
        self.timers.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn fake_clock_start_cancel_expire() {
        let t0 = Instant::now();
        let mut t = TimerTable::new();
        assert_eq!(t.poll_timeout(), None);
        t.start("a", secs(10), t0);
        t.start("b", secs(5), t0 + secs(1));
        t.start("a", secs(2), t0 + secs(2));
        assert_eq!(t.len(), 3);
        assert_eq!(t.poll_timeout(), Some(t0 + secs(4)));
        // Cancel takes the oldest "a" (due at 10).
        assert!(t.cancel("a"));
        assert!(t.is_running("a"));
        assert_eq!(t.handle_timeout(t0 + secs(3)), Vec::<String>::new());
        assert_eq!(t.handle_timeout(t0 + secs(4)), ["a"]);
        assert!(!t.cancel("a"));
        assert_eq!(t.poll_timeout(), Some(t0 + secs(6)));
        assert_eq!(t.handle_timeout(t0 + secs(100)), ["b"]);
        assert!(t.is_empty());
    }

    #[test]
    fn duplicates_both_expire_in_start_order() {
        let t0 = Instant::now();
        let mut t = TimerTable::new();
        t.start("x", secs(5), t0);
        t.start("y", secs(1), t0);
        t.start("x", secs(3), t0);
        assert_eq!(t.handle_timeout(t0 + secs(5)), ["x", "y", "x"]);
    }

    #[test]
    fn zero_delay_is_due_now() {
        let t0 = Instant::now();
        let mut t = TimerTable::new();
        t.start("now", Duration::ZERO, t0);
        assert_eq!(t.handle_timeout(t0), ["now"]);
    }
}
