#!/usr/bin/env bash
# What an attached client receives from `trove daemon`: the bytes per second of the API's
# event stream (changes, not snapshots) with 1,000 torrents, idle (all paused) and with 20
# of them downloading from a local libtorrent seeder capped at 128 KiB/s each. Also the
# size of the whole snapshot a client reads when it attaches. Writes
# bench/results/api-bytes-<date>.md.
#
#   bench/api-bytes.sh [--seconds S] [--torrents N] [--active N] [--trove PATH]
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=api-bytes
source "$(dirname "$0")/lib/common.sh"

SECONDS_W=${BENCH_SECONDS:-60}
NTORRENTS=${BENCH_TORRENTS:-1000}
ACTIVE=${BENCH_ACTIVE:-20}
ACTIVE_SIZE=${BENCH_ACTIVE_SIZE:-25165824}
ACTIVE_RATE=${BENCH_ACTIVE_RATE:-131072}
SETTLE=${BENCH_SETTLE:-10}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
while (($#)); do
  case $1 in
    --seconds) SECONDS_W=${2:?}; shift 2 ;;
    --torrents) NTORRENTS=${2:?}; shift 2 ;;
    --active) ACTIVE=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

tb_need curl flock
tb_need_libtorrent
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trove-bench-api-bytes.XXXXXX")
tb_build
# The protocol version the API asks of every request.
PROTOCOL=$(sed -n 's/^pub const PROTOCOL_VERSION: u32 = \([0-9]*\);/\1/p' "$REPO/crates/trove-proto/src/lib.rs")
[[ -n $PROTOCOL ]] || die "cannot read PROTOCOL_VERSION from crates/trove-proto/src/lib.rs"

say "making $NTORRENTS tiny torrents and $ACTIVE of $ACTIVE_SIZE bytes"
tb_make_torrents "$WORK/tiny" "$NTORRENTS" 16384
tb_make_torrents "$WORK/active" "$ACTIVE" "$ACTIVE_SIZE"

# measure SCENARIO ENV: starts the daemon on ENV, reads its event stream for SECONDS_W
# seconds after SETTLE, prints "first_line_bytes stream_bytes" (the stream without the
# first line, which is the whole snapshot).
measure() {
  local scenario=$1 env=$2 port pid sock
  port=$(sed -n 's/^listen_port = //p' "$env/config.toml")
  # The binary itself in the background (not the tb_trove function), so $! is its pid.
  "$TROVE" --data-dir "$env/data" --config "$env/config.toml" daemon >"$WORK/$scenario-daemon.log" 2>&1 &
  pid=$!
  CLEANUP_PIDS+=("$pid")
  sock=$env/data/trove.sock
  for _ in $(seq 600); do [[ -S $sock ]] && break; sleep 0.1; done
  [[ -S $sock ]] || die "$scenario: the daemon did not serve its socket"
  if [[ $scenario == active ]]; then
    tb_seeder "dial $port" >/dev/null
    tb_wait_peers "$ACTIVE" 90 || die "active: the seeder could not reach every torrent"
  fi
  sleep "$SETTLE"
  say "$scenario: reading the event stream for ${SECONDS_W}s"
  timeout "$SECONDS_W" curl -sN --unix-socket "$sock" -H "X-Trove-Protocol: $PROTOCOL" \
    http://localhost/api/trove/v1/events >"$WORK/$scenario.events" || true
  local first total
  first=$(head -1 "$WORK/$scenario.events" | wc -c)
  total=$(wc -c <"$WORK/$scenario.events")
  tb_trove "$env" stop >/dev/null
  wait "$pid" || true
  echo "$first $((total - first))"
}

tb_env "$WORK/idle" "$(tb_free_port)"
tb_trove "$WORK/idle" add --paused "$WORK"/tiny/torrents/*.torrent >/dev/null
read -r idle_first idle_bytes <<<"$(measure idle "$WORK/idle")"

tb_seeder_start "$WORK/active" "$ACTIVE_RATE"
tb_env "$WORK/active-env" "$(tb_free_port)"
tb_trove "$WORK/active-env" add --paused "$WORK"/tiny/torrents/*.torrent >/dev/null
tb_trove "$WORK/active-env" add "$WORK"/active/torrents/*.torrent >/dev/null
read -r active_first active_bytes <<<"$(measure active "$WORK/active-env")"

date=$(date -u +%Y-%m-%d-%H%M%S)
out="$RESULTS_DIR/api-bytes-$date.md"
{
  echo "# Bytes to an attached client, $date"
  echo
  echo "trove $(git -C "$REPO" rev-parse --short HEAD), $(nproc) cores. One client reading"
  echo "\`GET /api/trove/v1/events\` on the daemon's socket for ${SECONDS_W} s, ${SETTLE} s after start."
  echo
  echo "| scenario | whole snapshot on attach | then, bytes/s |"
  echo "|---|---:|---:|"
  echo "| $NTORRENTS torrents, all paused | $idle_first B | $((idle_bytes / SECONDS_W)) |"
  echo "| $NTORRENTS paused + $ACTIVE downloading at $ACTIVE_RATE B/s each | $active_first B | $((active_bytes / SECONDS_W)) |"
} | tee "$out"
say "written: $out"
