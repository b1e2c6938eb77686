#!/usr/bin/env bash
# Builds of trove side by side on a seedbox's worth of torrents seeding. See usage().
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=seedbox-ab
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/seedbox-ab.sh [options] LABEL=TROVE LABEL=TROVE [...]

Two or more trove builds on the same saved session of TORRENTS small torrents, all
seeding (bench/seedbox.sh's torrent set and payload). The saved session is made once, by
the first build: one offline `trove add` of every torrent, one daemon start that checks
them all, a clean stop. Every run then copies it afresh for each build in turn; the
order of the builds rotates from run to run, so drift in the machine falls on all of them.
Per run and build:
  start:  the page cache dropped, the clock from starting `trove daemon` to its own list
          showing every torrent seeding (lib/seedbox.py wait-seeding);
  idle:   after SETTLE seconds, its CPU (utime + stime) over IDLE seconds, and its RSS;
  list:   median wall time of LIST_RUNS `trove list --json` through the daemon.
Reported: medians per build, and each build's per-run ratio to the first build's in the
same run, with min and max.

Options (environment variable in brackets):
  --torrents N          torrents in the session                        [BENCH_TORRENTS, 5000]
  --size SIZE           payload of each torrent                        [BENCH_SIZE, 256KiB]
  --runs N              runs (each measures every build once)          [BENCH_RUNS, 3]
  --settle S            wait after all seed, before the idle window    [BENCH_SETTLE, 20]
  --idle S              idle window                                    [BENCH_IDLE, 20]
  --list-runs N         `trove list --json` runs per build and run     [BENCH_LIST_RUNS, 5]
  --timeout S           give up waiting for all to seed after S        [BENCH_TIMEOUT, 600]
  --cache-dir DIR       where the torrents and payload are kept        [BENCH_CACHE_DIR, ~/.cache/trove-bench]
  --work-dir DIR        parent of the temporary work dir               [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR     where seedbox-ab-<date>.md/.json go            [BENCH_RESULTS_DIR, bench/results]
  --keep                keep the work dir                              [BENCH_KEEP=1]
  -h, --help            this text
Needs: Linux, root (page cache drop), /usr/bin/python3 with Debian's python3-libtorrent
(to make the torrents the first time), flock.
EOF
}

export TROVE_BENCH_CMDLINE=${TROVE_BENCH_CMDLINE:-"bench/seedbox-ab.sh${*:+ $*}"}
N=${BENCH_TORRENTS:-5000}
SIZE=${BENCH_SIZE:-256KiB}
RUNS=${BENCH_RUNS:-3}
SETTLE=${BENCH_SETTLE:-20}
IDLE=${BENCH_IDLE:-20}
LIST_RUNS=${BENCH_LIST_RUNS:-5}
TIMEOUT=${BENCH_TIMEOUT:-600}
CACHE_DIR=${BENCH_CACHE_DIR:-$HOME/.cache/trove-bench}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
BUILDS=()

while (($#)); do
  case $1 in
    --torrents) N=${2:?}; shift 2 ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --settle) SETTLE=${2:?}; shift 2 ;;
    --idle) IDLE=${2:?}; shift 2 ;;
    --list-runs) LIST_RUNS=${2:?}; shift 2 ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --cache-dir) CACHE_DIR=${2:?}; shift 2 ;;
    --work-dir) WORK_PARENT=${2:?}; shift 2 ;;
    --results-dir) RESULTS_DIR=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *=*) BUILDS+=("$1"); shift ;;
    *) usage >&2; die "'$1' is not LABEL=TROVE (a name for the build, then the binary's path)" ;;
  esac
done

for pair in N:--torrents RUNS:--runs SETTLE:--settle IDLE:--idle LIST_RUNS:--list-runs TIMEOUT:--timeout; do
  v=${pair%%:*} opt=${pair#*:}
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$opt takes a whole number of at least 1, not '${!v}'"
done
((${#BUILDS[@]} >= 2)) || { usage >&2; die "give at least two builds as LABEL=TROVE"; }
LABELS=()
BINS=()
for b in "${BUILDS[@]}"; do
  label=${b%%=*} bin=${b#*=}
  [[ $label =~ ^[A-Za-z0-9._+-]+$ ]] || die "build label '$label': use letters, digits and . _ + -"
  [[ -x $bin ]] || die "build '$label': no executable at $bin"
  LABELS+=("$label")
  BINS+=("$(realpath "$bin")")
done
SIZE_BYTES=$("$PY" "$LIB/units.py" bytes "$SIZE") || die "bad size '$SIZE'"
tb_need flock
[[ -w /proc/sys/vm/drop_caches ]] || die "needs root, to drop the page cache before each start"

mkdir -p "$WORK_PARENT" "$RESULTS_DIR" "$CACHE_DIR"
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-seedbox-ab.XXXXXX")
RUNS_JSONL=$WORK/runs.jsonl
: >"$RUNS_JSONL"
MACHINE=$(tb_machine_json)
SB=("$PY" "$LIB/seedbox.py")
DAEMON_PID=""
ab_cleanup() {
  local rc=$?
  set +e
  [[ -n $DAEMON_PID ]] && kill -9 "$DAEMON_PID" 2>/dev/null
  (exit "$rc")
  tb_cleanup
}
trap ab_cleanup EXIT
say "work dir $WORK"

# --- the torrents (bench/seedbox.sh's set, made once) -------------------------------------------
tb_seedbox_set "$N" "$SIZE_BYTES"
"$PY" -c 'import json,sys; print("\n".join(t["torrent"] for t in json.load(open(sys.argv[1]))))' \
  "$SET/torrents.json" >"$WORK/files.txt"

# daemon_start BIN DIR LOG: `trove daemon` on the env in DIR; sets DAEMON_PID.
daemon_start() {
  rm -f "$2/data/trove.sock"
  "$1" --data-dir "$2/data" --config "$2/config.toml" daemon >"$3" 2>&1 &
  DAEMON_PID=$!
}
# daemon_stop BIN DIR: its own clean stop, 60 s to exit, then SIGKILL.
daemon_stop() {
  "$1" --data-dir "$2/data" --config "$2/config.toml" stop >/dev/null 2>&1 || true
  tb_wait_gone "$DAEMON_PID" 60 || { say "the daemon did not exit within 60 s: SIGKILL"; kill -9 "$DAEMON_PID" 2>/dev/null; }
  wait "$DAEMON_PID" 2>/dev/null || true
  DAEMON_PID=""
}

# --- the saved session, made once by the first build ------------------------------------------
BASE=$WORK/base
tb_env "$BASE" "$(tb_free_port)" false "$PAYLOAD"
say "saving a session of $N torrents with ${LABELS[0]}"
xargs -a "$WORK/files.txt" -d '\n' "${BINS[0]}" --data-dir "$BASE/data" --config "$BASE/config.toml" \
  add --root bench >/dev/null || die "adding the torrents failed"
tb_lock
t0=$(date +%s%N)
daemon_start "${BINS[0]}" "$BASE" "$WORK/base-daemon.log"
"${SB[@]}" wait-seeding --client trove --trove "${BINS[0]}" --data-dir "$BASE/data" \
  --config "$BASE/config.toml" --count "$N" --since "$t0" --timeout "$TIMEOUT" >/dev/null ||
  die "the first start never had all $N seeding (log: $WORK/base-daemon.log)"
daemon_stop "${BINS[0]}" "$BASE"

# --- the runs -----------------------------------------------------------------------------------
START=$SECONDS
nb=${#LABELS[@]}
for ((run = 1; run <= RUNS; run++)); do
  for ((k = 0; k < nb; k++)); do
    i=$(((k + run - 1) % nb))
    label=${LABELS[$i]} bin=${BINS[$i]} dir=$WORK/run
    rm -rf "$dir"
    cp -a "$BASE" "$dir"
    sync
    echo 3 >/proc/sys/vm/drop_caches
    t0=$(date +%s%N)
    daemon_start "$bin" "$dir" "$WORK/$label-$run.log"
    opts=(--client trove --trove "$bin" --data-dir "$dir/data" --config "$dir/config.toml")
    start=$("${SB[@]}" wait-seeding "${opts[@]}" --count "$N" --since "$t0" --timeout "$TIMEOUT") ||
      die "$label, run $run: $start (log: $WORK/$label-$run.log)"
    sleep "$SETTLE"
    idle=$("${SB[@]}" window --pid "$DAEMON_PID" --seconds "$IDLE")
    list=$("${SB[@]}" list-latency "${opts[@]}" --runs "$LIST_RUNS")
    daemon_stop "$bin" "$dir"
    line="{\"run\": $run, \"build\": \"$label\", \"start\": $start, \"idle\": $idle, \"list\": $list}"
    echo "$line" >>"$RUNS_JSONL"
    say "$line"
  done
done
ELAPSED=$((SECONDS - START))
tb_unlock

# --- report -------------------------------------------------------------------------------------
"${SB[@]}" ab-report --runs "$RUNS_JSONL" --out "$WORK/result.json" --machine "$MACHINE" \
  --command "$TROVE_BENCH_CMDLINE" --torrents "$N" --size "$SIZE" --settle "$SETTLE" --idle "$IDLE" \
  --list-runs "$LIST_RUNS" --elapsed "$ELAPSED" "${BUILDS[@]}" || die "the report failed (runs in $RUNS_JSONL)"
tb_report "$WORK/result.json"
