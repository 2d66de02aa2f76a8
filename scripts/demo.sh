#!/usr/bin/env bash
# The main job: a simulated UPS (our dummy-ups playing a power outage), our
# upsd on 127.0.0.1, and a watcher narrating what happens. Needs only a Rust
# toolchain; no root, no /etc/nut. Ctrl-C stops everything.
# Arguments are passed to nut-demo (--cycles N, --step SECONDS).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p nut-upsd -p nut-drivers -p nut-clients -p nut-demo
exec target/debug/nut-demo "$@"
