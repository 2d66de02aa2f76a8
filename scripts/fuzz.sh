#!/usr/bin/env bash
# Runs a libFuzzer campaign on one fuzz target, or on every target in turn:
#
#   scripts/fuzz.sh TARGET|all SECONDS
#
# Each campaign starts from a fresh copy of the committed seeds
# (fuzz/seeds/<target>/ copied to fuzz/corpus/<target>/, so the seeds are
# never written to), uses the dictionary fuzz/dict/nut.dict, runs one job on
# one core (-jobs=1 -workers=1) for SECONDS seconds, with each input limited
# to FUZZ_TIMEOUT seconds and the process to FUZZ_RSS_MB megabytes of
# resident memory. On the first failure the script stops (with `all`, the
# later targets are not run), minimizes the input, prints it in hex and says
# how to keep it as a seed. Otherwise it prints one row per target:
# executions, executions per second, coverage (libFuzzer's `cov` edges and
# `ft` features), corpus size, peak RSS and the result.
#
# Not part of CI (`scripts/test.sh` runs the target bodies over the seeds
# on stable Rust instead). See fuzz/README.md for the toolchain it needs.
#
# Environment:
#   FUZZ_TOOLCHAIN  rustup toolchain (default `stable`, run with
#                   RUSTC_BOOTSTRAP=1; `nightly` where rustup has one)
#   FUZZ_SANITIZER  address (default) or none
#   FUZZ_RSS_MB     RSS limit in MB (default 2048)
#   FUZZ_TIMEOUT    seconds allowed for one input (default 10)
#   FUZZ_KEEP_CORPUS=1  go on from fuzz/corpus/<target>/ instead of starting
#                   again from the seeds
#   CARGO_TARGET_DIR  where to build (default fuzz/target)
set -euo pipefail

usage() {
	echo "usage: $0 TARGET|all SECONDS" >&2
	exit 2
}
[ $# -eq 2 ] || usage
what=$1
seconds=$2
case $seconds in '' | *[!0-9]*) usage ;; esac
[ "$seconds" -gt 0 ] || usage

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz=$root/fuzz
rss_mb=${FUZZ_RSS_MB:-2048}
per_input=${FUZZ_TIMEOUT:-10}
sanitizer=${FUZZ_SANITIZER:-address}

command -v cargo-fuzz >/dev/null || {
	echo "error: cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
	exit 1
}

# ASan needs `-Zsanitizer`, a nightly flag: stable accepts it with
# RUSTC_BOOTSTRAP=1. A nightly toolchain, where rustup has one, needs nothing.
toolchain=${FUZZ_TOOLCHAIN:-stable}
cargo_fuzz=(cargo "+$toolchain" fuzz)
case $toolchain in nightly*) ;; *) export RUSTC_BOOTSTRAP=1 ;; esac
target_dir=${CARGO_TARGET_DIR:-$fuzz/target}
export CARGO_TARGET_DIR=$target_dir
triple=$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')

if [ "$what" = all ]; then
	mapfile -t targets < <("${cargo_fuzz[@]}" list --fuzz-dir "$fuzz")
	build_args=()
else
	targets=("$what")
	build_args=("$what")
	[ -d "$fuzz/seeds/$what" ] || {
		echo "error: no target $what (no fuzz/seeds/$what/)" >&2
		exit 2
	}
fi

echo "== building (${toolchain}, sanitizer ${sanitizer}, target dir ${target_dir})"
"${cargo_fuzz[@]}" build --fuzz-dir "$fuzz" --sanitizer "$sanitizer" "${build_args[@]}"
bin_dir=$target_dir/$triple/release

summary=()
for t in "${targets[@]}"; do
	corpus=$fuzz/corpus/$t
	artifacts=$fuzz/artifacts/$t
	if [ "${FUZZ_KEEP_CORPUS:-}" != 1 ]; then
		rm -rf "$corpus"
	fi
	mkdir -p "$corpus" "$artifacts"
	cp "$fuzz/seeds/$t/"* "$corpus/"
	rm -f "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* \
		"$artifacts"/oom-* "$artifacts"/slow-unit-* "$artifacts"/fuzz-*.log
	log=$artifacts/campaign.log
	echo "== $t: ${seconds} s from $(find "$corpus" -type f | wc -l) seeds"
	status=0
	# -jobs=1 runs the fuzzer in one child process that logs to fuzz-0.log
	# (in the working directory) and copies that log out when it ends.
	# `timeout` is a backstop in case libFuzzer does not stop by itself.
	(
		cd "$artifacts"
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0} \
			timeout --kill-after=30 $((seconds + 120)) \
			"$bin_dir/$t" "$corpus" \
			-dict="$fuzz/dict/nut.dict" \
			-max_total_time="$seconds" -timeout="$per_input" \
			-rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" \
			-jobs=1 -workers=1 -print_final_stats=1 \
			-artifact_prefix="$artifacts/"
	) >"$log" 2>&1 || status=$?

	done_line=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1 || true)
	field() { sed -n "s/.* $1: \([0-9a-zA-Z]*\).*/\1/p" <<<"$done_line"; }
	final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
	execs=$(final_stat number_of_executed_units)
	rate=$(final_stat average_exec_per_sec)
	rss=$(final_stat peak_rss_mb)
	cov=$(field cov)
	ft=$(field ft)
	corp=$(field corp)
	artifact=$(find "$artifacts" -maxdepth 1 -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
		head -n 1)
	if [ "$status" = 0 ] && [ -z "$artifact" ]; then
		result=clean
	elif [ -n "$artifact" ]; then
		result="FAILED ($(basename "$artifact" | cut -d- -f1))"
	else
		result="FAILED (exit $status)"
	fi
	row="| \`$t\` | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${rss:-?} | $result |"
	summary+=("$row")
	echo "$row"

	if [ "$result" != clean ]; then
		echo "== $t failed; the fuzzer's output is in $log" >&2
		grep -E -m 20 'panicked at|ERROR: |SUMMARY: |==[0-9]+== ?ERROR' "$log" >&2 || true
		if [ -n "$artifact" ]; then
			min=$artifacts/minimized-$(basename "$artifact")
			echo "== minimizing $artifact" >&2
			(
				cd "$artifacts"
				ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0} \
					timeout --kill-after=30 300 \
					"$bin_dir/$t" -minimize_crash=1 -max_total_time=120 \
					-timeout="$per_input" -rss_limit_mb="$rss_mb" \
					-exact_artifact_path="$min" "$artifact"
			) >"$artifacts/minimize.log" 2>&1 || true
			[ -s "$min" ] || min=$artifact
			echo "== minimized input ($(wc -c <"$min") bytes): $min" >&2
			od -An -tx1 -v "$min" | head -n 32 >&2
			echo "== replay: $bin_dir/$t $min" >&2
			echo "== keep it as a seed: cp $min fuzz/seeds/$t/<name>" >&2
		fi
		exit 1
	fi
done

echo
echo "| target | executions | exec/s | cov | ft | corpus | peak RSS (MB) | result |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${summary[@]}"
