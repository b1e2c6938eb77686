#!/usr/bin/env bash
# The long kill test of moves between storage roots: `kill -9`s `trove daemon` at 50 (or
# $1) random moments inside moves of a 256 MiB torrent between a tmpfs root and a disk
# root, restarting it each time, and checks that exactly one complete copy is referenced,
# its sha256 unchanged, nothing downloaded again, and the log says what was done. Prints
# the tally (kills before the switch, after it, and ones that landed outside a move).
# Replay a failure with TROVE_MOVE_SEED=<seed printed by the failing run>. Random kills
# rarely land in the short window after the switch; the test
# kill_9_before_the_copy_mid_copy_and_after_the_switch_leaves_exactly_one_complete_copy
# (same file) kills at each stage on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
TROVE_MOVE_KILLS="${1:-50}" cargo test --release --test move \
  kill_9_during_a_move_leaves_exactly_one_complete_copy -- --nocapture 2>&1 |
  tee /dev/stderr | grep -E '^(tally|move kill test|a whole move)' || {
  echo "move-kill: the test failed (see above)" >&2
  exit 1
}
