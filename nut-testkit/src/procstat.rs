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

/// Nanoseconds on CPU of the calling thread (the first field of
/// `/proc/thread-self/schedstat`).
pub fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// The least a serial driver's poll can cost: the CPU time, per poll, of a
/// loop that does nothing but the poll's exchanges on the serial port at
/// `path` (a simulated UPS): every `interval`, for each query, one `write`
/// and blocking `read`s of whole answers ended by `eol` (canonical input,
/// so one wake-up per answer), as a driver with no other work would.
/// `hello` (a handshake) and the queries are exchanged once first, untimed.
/// Returns nanoseconds per poll, over `polls` polls, on this thread only.
pub fn exchange_floor_ns(
    path: &std::path::Path,
    hello: &[&[u8]],
    queries: &[&[u8]],
    eol: u8,
    interval: std::time::Duration,
    polls: u32,
) -> std::io::Result<u64> {
    use nix::sys::termios::{self, BaudRate, LocalFlags, SetArg, SpecialCharacterIndices as Cc};
    use std::io::{Read, Write};
    let mut port = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    let mut t = termios::tcgetattr(&port)?;
    termios::cfmakeraw(&mut t);
    termios::cfsetspeed(&mut t, BaudRate::B2400)?;
    t.local_flags |= LocalFlags::ICANON;
    t.control_chars[Cc::VEOL as usize] = eol;
    for c in [Cc::VEOL2, Cc::VEOF, Cc::VERASE, Cc::VKILL] {
        t.control_chars[c as usize] = 0;
    }
    termios::tcsetattr(&port, SetArg::TCSANOW, &t)?;
    let mut buf = [0u8; 256];
    let mut exchange = |port: &mut std::fs::File, q: &[u8]| -> std::io::Result<()> {
        port.write_all(q)?;
        loop {
            let n = port.read(&mut buf)?;
            if n == 0 || buf[..n].contains(&eol) {
                return Ok(());
            }
        }
    };
    for q in hello.iter().chain(queries) {
        exchange(&mut port, q)?;
    }
    let start = std::time::Instant::now();
    let c0 = thread_cpu_ns();
    for i in 1..=polls {
        for q in queries {
            exchange(&mut port, q)?;
        }
        let next = start + interval * i;
        std::thread::sleep(next.saturating_duration_since(std::time::Instant::now()));
    }
    Ok((thread_cpu_ns() - c0) / u64::from(polls.max(1)))
}

/// The environment variable that carries [`exchange_floor_in_child`]'s
/// request to the child.
const FLOOR_ENV: &str = "NUT_TESTKIT_FLOOR";

/// [`exchange_floor_ns`] in a process of its own, as a driver runs: the
/// test binary runs itself again with only the test `child_test` (which
/// must call [`exchange_floor_child`]). A loop inside the test process
/// shares its address space with the simulated device's threads, so its
/// context switches are cheaper than any driver's; this one's are not.
pub fn exchange_floor_in_child(
    child_test: &str,
    path: &std::path::Path,
    hello: &[&[u8]],
    queries: &[&[u8]],
    eol: u8,
    interval: std::time::Duration,
    polls: u32,
) -> std::io::Result<u64> {
    let hex = |qs: &[&[u8]]| {
        qs.iter()
            .map(|q| q.iter().map(|b| format!("{b:02x}")).collect::<String>())
            .collect::<Vec<_>>()
            .join(",")
    };
    let request = format!(
        "{}\n{}\n{}\n{eol}\n{}\n{polls}",
        path.display(),
        hex(hello),
        hex(queries),
        interval.as_millis()
    );
    let mut cmd = child_command(child_test)?;
    cmd.env(FLOOR_ENV, request);
    floor_from_child(cmd)
}

/// The test binary, to run again with only the (ignored) test `child_test`:
/// the child of a floor measurement in a process of its own. Add its
/// request (environment) and run it with [`floor_from_child`].
pub fn child_command(child_test: &str) -> std::io::Result<std::process::Command> {
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.args(["--ignored", "--exact", child_test, "--nocapture", "--test-threads", "1"]);
    Ok(cmd)
}

/// Runs a child made by [`child_command`] to its end and returns the
/// nanoseconds per poll it reported with [`report_floor`].
pub fn floor_from_child(mut cmd: std::process::Command) -> std::io::Result<u64> {
    let out = cmd.output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.split("FLOOR_NS=").nth(1)?.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no FLOOR_NS from the child: {text}")))
}

/// The child's side of [`floor_from_child`]: reports its nanoseconds per
/// poll on standard output.
pub fn report_floor(ns_per_poll: u64) {
    println!("\nFLOOR_NS={ns_per_poll}");
}

/// The child side of [`exchange_floor_in_child`]: runs the loop it was
/// asked for and prints `FLOOR_NS=<ns per poll>`. Does nothing when the
/// test binary was not started by [`exchange_floor_in_child`].
pub fn exchange_floor_child() {
    let Ok(request) = std::env::var(FLOOR_ENV) else { return };
    let f: Vec<&str> = request.split('\n').collect();
    let unhex = |s: &str| -> Vec<Vec<u8>> {
        s.split(',')
            .filter(|q| !q.is_empty())
            .map(|q| {
                (0..q.len() / 2)
                    .filter_map(|i| u8::from_str_radix(q.get(2 * i..2 * i + 2)?, 16).ok())
                    .collect()
            })
            .collect()
    };
    let (Some(path), Some(hello), Some(queries), Some(eol), Some(ms), Some(polls)) =
        (f.first(), f.get(1), f.get(2), f.get(3), f.get(4), f.get(5))
    else {
        panic!("bad floor request {request:?}")
    };
    let hello = unhex(hello);
    let queries = unhex(queries);
    let hello: Vec<&[u8]> = hello.iter().map(Vec::as_slice).collect();
    let queries: Vec<&[u8]> = queries.iter().map(Vec::as_slice).collect();
    let ns = exchange_floor_ns(
        std::path::Path::new(path),
        &hello,
        &queries,
        eol.parse().expect("eol"),
        std::time::Duration::from_millis(ms.parse().expect("interval")),
        polls.parse().expect("polls"),
    )
    .expect("floor loop");
    report_floor(ns);
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
    fn this_thread_costs_something() {
        let before = thread_cpu_ns();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_ns() > before);
    }

    #[test]
    fn a_process_that_is_gone_costs_nothing() {
        // PID 0 has no /proc entry.
        assert_eq!(cpu_ns(0), 0);
        assert_eq!(rss_kib(0), 0);
    }
}
