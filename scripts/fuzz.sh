#!/usr/bin/env bash
# Fuzzes the path from raw bytes to an added torrent (.torrent parsing and checks, magnet
# parsing, file-path sanitising) for MINUTES minutes (default 5).
#
#   scripts/fuzz.sh [MINUTES]
#
# With a nightly toolchain it runs the cargo-fuzz target `fuzz/fuzz_targets/add_torrent.rs`
# (installing cargo-fuzz from crates.io when missing), seeded with tests/corpus/, debug
# assertions on (integer overflow panics). Without nightly it runs the proptest suite in
# crates/trove-engine/src/source.rs over and over with PROPTEST_CASES raised, until the time is up.
# FUZZ_MODE=proptest forces the second mode. Findings: libFuzzer writes a crashing input to
# fuzz/artifacts/add_torrent/ (replay: cargo +nightly fuzz run add_torrent FILE); proptest
# prints the shrunk input and saves it under proptest-regressions/.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-5}
if ! [[ $minutes =~ ^[0-9]+$ ]] || ((minutes < 1)); then
  echo "usage: $0 [MINUTES]  (a whole number of minutes, at least 1)" >&2
  exit 2
fi
secs=$((minutes * 60))
mode=${FUZZ_MODE:-auto}

have_nightly() {
  command -v rustup >/dev/null && rustup toolchain list | grep -q '^nightly'
}

if [[ $mode == auto ]]; then
  if have_nightly || { command -v rustup >/dev/null && rustup toolchain install nightly --profile minimal >/dev/null 2>&1; }; then
    mode=cargo-fuzz
  else
    echo "fuzz.sh: no nightly toolchain to be had; running the proptest suite instead" >&2
    mode=proptest
  fi
fi

if [[ $mode == cargo-fuzz ]]; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked
  fi
  corpus=fuzz/corpus/add_torrent
  mkdir -p "$corpus"
  # Seeds: every corpus input (good and bad, magnets included).
  cp -n tests/corpus/good/* tests/corpus/bad/* "$corpus"/ 2>/dev/null || true
  start=$(date +%s)
  set +e
  cargo +nightly fuzz run --debug-assertions add_torrent "$corpus" -- \
    -max_total_time="$secs" -dict=fuzz/add_torrent.dict -max_len=65536 \
    -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 2>&1 | tee fuzz/last-run.log
  rc=${PIPESTATUS[0]}
  set -e
  echo "fuzz.sh: cargo-fuzz ran $(($(date +%s) - start)) s (asked for $secs s of fuzzing; the first run also builds), exit $rc"
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' fuzz/last-run.log || true
  ls fuzz/artifacts/add_torrent/ 2>/dev/null | sed 's/^/fuzz.sh: finding: fuzz\/artifacts\/add_torrent\//' || true
  exit "$rc"
fi

# proptest mode: build once, then rerun the property tests with fresh random seeds.
cases=${PROPTEST_CASES:-50000}
filter=source::tests::prop_
cargo test --release -p trove-engine --lib --no-run "$filter" >/dev/null
start=$(date +%s)
deadline=$((start + secs))
rounds=0
while (($(date +%s) < deadline)); do
  rounds=$((rounds + 1))
  if ! PROPTEST_CASES=$cases cargo test --release -p trove-engine --lib "$filter" -- --quiet; then
    echo "fuzz.sh: proptest round $rounds FAILED (see the minimal failing input above)"
    exit 1
  fi
done
echo "fuzz.sh: proptest ran $(($(date +%s) - start)) s: $rounds rounds of $cases cases per property, no failure"
