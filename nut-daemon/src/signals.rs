//! A clean signal state at startup.
//!
//! A process inherits its signal mask and every ignored signal (`SIG_IGN`)
//! across `exec`: a daemon started by a parent that blocked or ignored
//! SIGTERM would not stop on `kill <pid>`, and one that waits for signals
//! with `sigwait` or a `signalfd` would never see an ignored one (the
//! kernel discards it). [`reset`] undoes both, first thing in `main`.
//!
//! Dispositions are set without `unsafe`: `sigaction` is an unsafe
//! function, so an ignored signal gets a handler through `signal-hook`
//! instead. A signal the program handles itself (with tokio, `sigwait`,
//! a `signalfd`) gets a handler that does nothing (it only has to stop
//! being ignored); any other gets `signal-hook`'s emulation of the default
//! action (for SIGTERM: the process ends by that signal). A signal that
//! was not ignored keeps its default disposition. SIGPIPE stays ignored,
//! as NUT's daemons set it (the Rust runtime has already done so).

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The signals [`reset`] restores.
pub const RESET: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCHLD,
];

/// The signals this process ignores, from `/proc/self/status` (`SigIgn`);
/// `None` when it cannot be read.
pub fn ignored() -> Option<SigSet> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("SigIgn:"))?.trim();
    let bits = u64::from_str_radix(hex, 16).ok()?;
    let mut set = SigSet::empty();
    for sig in Signal::iterator() {
        let n = sig as i32;
        if (1..=64).contains(&n) && bits & (1u64 << (n - 1)) != 0 {
            set.add(sig);
        }
    }
    Some(set)
}

/// One flag per signal in [`RESET`]: set when the signal arrived while
/// only [`reset`]'s placeholder handler was installed.
fn pending_flag(sig: Signal) -> Arc<AtomicBool> {
    use std::sync::OnceLock;
    static FLAGS: OnceLock<Vec<(Signal, Arc<AtomicBool>)>> = OnceLock::new();
    let flags = FLAGS
        .get_or_init(|| RESET.iter().map(|&s| (s, Arc::new(AtomicBool::new(false)))).collect());
    flags
        .iter()
        .find(|(s, _)| *s == sig)
        .map(|(_, f)| f.clone())
        .unwrap_or_else(|| Arc::new(AtomicBool::new(false)))
}

/// Whether `sig` (one the program handles itself, given to [`reset`])
/// arrived before the program installed its own handler; clears the flag.
/// A program checks this right after installing its handlers, so that a
/// SIGTERM sent just after start is not lost.
pub fn take_pending(sig: Signal) -> bool {
    pending_flag(sig).swap(false, std::sync::atomic::Ordering::SeqCst)
}

/// Catches `sigs` from now on with a handler that only records them (see
/// [`take_pending`]), so that one arriving before the program installs its
/// own handlers neither kills it half-started (socket or PID file left
/// behind) nor is lost. Each must be one of [`RESET`].
pub fn catch_early(sigs: &[Signal]) -> io::Result<()> {
    for &sig in sigs {
        signal_hook::flag::register(sig as i32, pending_flag(sig))?;
    }
    Ok(())
}

/// The signals blocked in the calling thread.
pub fn blocked() -> io::Result<SigSet> {
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, None, Some(&mut old)).map_err(io::Error::from)?;
    Ok(old)
}

/// Unblocks every signal and gives each of [`RESET`] that is ignored a
/// handler: a do-nothing one for those in `handled` (and SIGCHLD, whose
/// default is to be discarded, but without reaping children for us), the
/// default action's emulation for the others. Call it first in `main`,
/// before any thread starts. Returns the signals that were ignored.
pub fn reset(handled: &[Signal]) -> io::Result<Vec<Signal>> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).map_err(io::Error::from)?;
    let ignored = ignored();
    let mut fixed = Vec::new();
    for sig in RESET {
        // Unknown: treat it as ignored; a handler changes nothing then.
        if ignored.as_ref().is_some_and(|set| !set.contains(sig)) {
            continue;
        }
        let n = sig as i32;
        if sig == Signal::SIGCHLD || handled.contains(&sig) {
            signal_hook::flag::register(n, pending_flag(sig))?;
        } else {
            signal_hook::flag::register_conditional_default(n, Arc::new(AtomicBool::new(true)))?;
        }
        if ignored.is_some() {
            fixed.push(sig);
        }
    }
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unblocks_and_sees_sigpipe_ignored() {
        // The Rust runtime ignores SIGPIPE, as NUT does.
        assert!(ignored().unwrap().contains(Signal::SIGPIPE));
        let mut set = SigSet::empty();
        set.add(Signal::SIGUSR2);
        set.thread_block().unwrap();
        assert!(blocked().unwrap().contains(Signal::SIGUSR2));
        reset(&[]).unwrap();
        assert!(!blocked().unwrap().contains(Signal::SIGUSR2));
        assert!(ignored().unwrap().contains(Signal::SIGPIPE));
    }
}
