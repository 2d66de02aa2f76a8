#!/usr/bin/env bash
# The test command of this repository (see README.md). It installs the Debian
# peers the interoperability tests use when it can (root with apt), then runs
# every test: the workspace's unit, integration and doc tests, a one-pass run
# of the benchmarks, and the fuzz targets' bodies over their committed seeds.
#
# A missing peer is an error, never a silent skip. Outside CI, a developer
# without root may set NUT_RS_SKIP_PEERS=1 to run the tests that need no peer.
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS=(nut-server nut-client python3-nut socat libnss3-tools openssl)

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

# Every suite runs even when an earlier one failed, so that one run shows
# every failure; the script fails at the end if any did.
status=0
echo "== workspace tests"
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee -a "$log" || status=1
cargo test --workspace --doc --no-fail-fast 2>&1 | tee -a "$log" || status=1

echo "== fuzz target bodies over the committed seeds"
cargo test --manifest-path fuzz/Cargo.toml --tests --no-fail-fast 2>&1 | tee -a "$log" || status=1

# One closing line for the whole run.
passed=$(grep -o 'test result: [a-zA-Z]*\. [0-9]* passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -o '; [0-9]* failed' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: $passed passed, $failed failed"
if [ "$failed" != 0 ]; then
	grep -E '^    [a-zA-Z0-9_:]+$|^test .* FAILED$' "$log" | sort -u | sed 's/^/failed: /' || true
fi
[ "$status" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
