#!/usr/bin/env bash
# Build costs of two trees side by side: a clean release build of the `trove` binary, and
# the time to rebuild and re-run the dashboard's tests after touching one dashboard file.
# Wall time and CPU time (user + system) for each; CPU time moves less when the machine is
# busy. Writes bench/results/build-times-<date>.md.
#
#   bench/build-times.sh BEFORE_DIR AFTER_DIR
#
# Each DIR is a checkout of trove (e.g. `git worktree add /tmp/before REV`). The clean
# builds use fresh target dirs under $TMPDIR (deleted at the end); crates come from the
# local cargo registry, so nothing is downloaded twice.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
[[ $# -eq 2 ]] || { echo "usage: $0 BEFORE_DIR AFTER_DIR" >&2; exit 2; }
before=$(cd "$1" && pwd)
after=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/trove-build-times.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs "$@" in dir $1 with CARGO_TARGET_DIR=$2; prints "wall cpu" in seconds.
timed() {
  local dir=$1 target=$2
  shift 2
  local out
  out=$( { cd "$dir" && CARGO_TARGET_DIR=$target /usr/bin/time -f '%e %U %S' "$@" >/dev/null 2>"$work/err"; } 2>&1 ) || {
    tail -20 "$work/err" >&2
    return 1
  }
  out=$(tail -1 "$work/err")
  awk '{printf "%.1f %.1f\n", $1, $2 + $3}' <<<"$out"
}

# The dashboard's tests, and one file of the dashboard, in each layout: before the
# workspace they were unit tests of the one `trove` crate.
ui_test_before=(cargo test --release --lib ui::)
ui_file_before=src/ui/format.rs
ui_test_after=(cargo test --release -p trove-ui --lib)
ui_file_after=crates/trove-ui/src/format.rs

declare -A R
for side in before after; do
  dir=${!side}
  echo "== $side: clean release build ($dir)" >&2
  R[$side-clean]=$(timed "$dir" "$work/$side-target" cargo build --release --bin trove)
  echo "   ${R[$side-clean]}" >&2
  if [[ $side == before ]]; then
    test_cmd=("${ui_test_before[@]}"); file=$ui_file_before
  else
    test_cmd=("${ui_test_after[@]}"); file=$ui_file_after
  fi
  # Warm: build the tests once, then touch one dashboard file and time the rebuild + run.
  timed "$dir" "$work/$side-target" "${test_cmd[@]}" >/dev/null
  touch "$dir/$file"
  R[$side-ui]=$(timed "$dir" "$work/$side-target" "${test_cmd[@]}")
  echo "   dashboard tests after touching $file: ${R[$side-ui]}" >&2
done

date=$(date -u +%Y-%m-%d-%H%M%S)
out="$repo/bench/results/build-times-$date.md"
{
  echo "# Build times, $date"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(rustc --version)."
  echo "Before: \`$before\` ($(git -C "$before" rev-parse --short HEAD)); after: \`$after\` ($(git -C "$after" rev-parse --short HEAD))."
  echo
  echo "| what | before: wall s · CPU s | after: wall s · CPU s |"
  echo "|---|---:|---:|"
  read -r bw bc <<<"${R[before-clean]}"; read -r aw ac <<<"${R[after-clean]}"
  echo "| clean \`cargo build --release --bin trove\` | $bw · $bc | $aw · $ac |"
  read -r bw bc <<<"${R[before-ui]}"; read -r aw ac <<<"${R[after-ui]}"
  echo "| touch one dashboard file, rebuild and run the dashboard's tests | $bw · $bc | $aw · $ac |"
} | tee "$out"
echo "written: $out" >&2
