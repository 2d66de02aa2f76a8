//! What a running process costs, read from Linux's `/proc`, for the
//! side-by-side benchmarks of our programs and NUT's.

/// Nanoseconds on CPU of every thread of `pid`, summed (the first field of
/// `/proc/<pid>/task/*/schedstat`); 0 for a process that is gone.
pub fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()))
        .sum()
}

/// Resident memory of `pid` in KiB (`VmRSS` of `/proc/<pid>/status`); 0 for
/// a process that is gone.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_costs_something() {
        let me = std::process::id();
        // Burn a little CPU so that the counter has moved.
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        assert!(cpu_ns(me) > 0);
        assert!(rss_kib(me) > 100);
    }

    #[test]
    fn a_process_that_is_gone_costs_nothing() {
        // PID 0 has no /proc entry.
        assert_eq!(cpu_ns(0), 0);
        assert_eq!(rss_kib(0), 0);
    }
}
