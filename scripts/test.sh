#!/usr/bin/env bash
# The test command of this repository (see README.md). It installs the Debian
# peers the interoperability tests use when it can (root with apt), checks
# the guards (rustfmt, clippy -D warnings, rustdoc -D warnings, a no_std
# build of the codec crates), then runs every test: the workspace's unit,
# integration and doc tests, a one-pass run of the benchmarks, and the fuzz
# targets' bodies over their committed seeds.
#
# A missing peer is an error, never a silent skip. Outside CI, a developer
# without root may set NUT_RS_SKIP_PEERS=1 to run the tests that need no peer.
set -euo pipefail
cd "$(dirname "$0")/.."

# libusb-1.0-0-dev and pkg-config: the `usb` feature of nut-drivers, which
# the clippy and doc guards build (--all-features).
# nut-snmp (Debian's snmp-ups), snmpsim and snmpd: peers of the snmp-ups tests.
PEERS=(nut-server nut-client python3-nut socat libnss3-tools openssl libusb-1.0-0-dev pkg-config nut-snmp nut-xml snmpsim snmpd)

missing_peers() {
	local p
	for p in "${PEERS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}

missing=$(missing_peers || true)
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "== installing Debian peers: $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	missing=$(missing_peers || true)
fi
if [ -n "$missing" ]; then
	if [ "${CI:-}" != "" ] || [ "${NUT_RS_SKIP_PEERS:-}" != 1 ]; then
		echo "error: missing Debian peers: $missing" >&2
		echo "       run this script as root with apt, or install them by hand" >&2
		echo "       (outside CI, NUT_RS_SKIP_PEERS=1 runs only the tests that need no peer)" >&2
		exit 1
	fi
	echo "warning: NUT_RS_SKIP_PEERS=1: tests that need $missing will fail" >&2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The closing line: the tests counted in $log plus the guards below.
guards_passed=0
guards_failed=0
guards_failures=()
summary() {
	local passed failed
	passed=$(grep -o 'test result: [a-zA-Z]*\. [0-9]* passed' "$log" | awk '{s+=$4} END {print s+0}')
	failed=$(grep -o '; [0-9]* failed' "$log" | awk '{s+=$2} END {print s+0}')
	passed=$((passed + guards_passed))
	failed=$((failed + guards_failed))
	echo "tests: $passed passed, $failed failed"
	if [ "$failed" != 0 ]; then
		{
			printf '%s\n' "${guards_failures[@]}"
			grep -E '^    [a-zA-Z0-9_:]+$|^test .* FAILED$' "$log" | sort -u
		} | grep -v '^$' | sed 's/^/failed: /' || true
	fi
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}

# Guards first, so that they fail fast: each counts as one test in the
# closing line. If one fails, the test suites are not run.
guard() {
	local name=$1
	shift
	echo "== guard: $name"
	if "$@"; then
		guards_passed=$((guards_passed + 1))
	else
		echo "== guard FAILED: $name ($*)" >&2
		guards_failed=$((guards_failed + 1))
		guards_failures+=("guard $name")
	fi
}

# The codec crates build for a target without std (no_std + alloc).
NO_STD_CRATES=(nut-proto nut-hid nut-megatec nut-apc)
NO_STD_TARGET=thumbv7em-none-eabihf
no_std_build() {
	local pkgs=() c
	for c in "${NO_STD_CRATES[@]}"; do pkgs+=(-p "$c"); done
	if ! rustup target list --installed 2>/dev/null | grep -qx "$NO_STD_TARGET"; then
		rustup target add "$NO_STD_TARGET" >/dev/null 2>&1 || true
	fi
	if rustup target list --installed 2>/dev/null | grep -qx "$NO_STD_TARGET"; then
		cargo build --quiet "${pkgs[@]}" --no-default-features --target "$NO_STD_TARGET"
		return
	fi
	# No such target here: each crate is #![no_std] unconditionally, and
	# without default features nothing in its dependency tree turns on a
	# `std` feature.
	echo "note: target $NO_STD_TARGET unavailable; checking #![no_std] and features instead" >&2
	local bad=0
	for c in "${NO_STD_CRATES[@]}"; do
		if ! grep -qx '#!\[no_std\]' "$c/src/lib.rs"; then
			echo "$c/src/lib.rs: no unconditional #![no_std]" >&2
			bad=1
		fi
		if {
			cargo tree --quiet -p "$c" --no-default-features -e features -e normal
			cargo tree --quiet -p "$c" --no-default-features -e features -i "$c"
		} | grep -E 'feature "std"'; then
			echo "$c: a dependency enables std" >&2
			bad=1
		fi
	done
	cargo build --quiet "${pkgs[@]}" --no-default-features || bad=1
	[ "$bad" = 0 ]
}

guard fmt cargo fmt --all --check
guard clippy cargo clippy --quiet --workspace --all-targets --all-features -- -D warnings
guard doc env RUSTDOCFLAGS=-Dwarnings cargo doc --quiet --workspace --no-deps --all-features
guard no_std no_std_build
if [ "$guards_failed" != 0 ]; then
	echo "== a guard failed: the test suites were not run" >&2
	summary || exit 1
	exit 1
fi

# Every suite runs even when an earlier one failed, so that one run shows
# every failure; the script fails at the end if any did.
status=0
echo "== workspace tests"
cargo test --workspace --all-targets --all-features --no-fail-fast 2>&1 | tee -a "$log" || status=1
cargo test --workspace --doc --all-features --no-fail-fast 2>&1 | tee -a "$log" || status=1

echo "== fuzz target bodies over the committed seeds"
cargo test --manifest-path fuzz/Cargo.toml --tests --no-fail-fast 2>&1 | tee -a "$log" || status=1

# One closing line for the whole run.
summary_ok=0
summary || summary_ok=1
[ "$status" = 0 ] && [ "$summary_ok" = 0 ]
