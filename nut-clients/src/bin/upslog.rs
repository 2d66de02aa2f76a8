//! `upslog`: see [`nut_clients::upslog`].

fn main() {
    // No blocked or ignored signal inherited: upslog waits for its signals
    // with sigwait, and the kernel discards an ignored one.
    let _ = nut_daemon::signals::reset(&[]);
    nut_clients::main_with(nut_clients::upslog::run)
}
