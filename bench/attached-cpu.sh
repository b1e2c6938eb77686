#!/usr/bin/env bash
# What attached dashboards cost the daemon: `trove daemon` with 20 torrents downloading from
# a local libtorrent seeder (rate-limited, so they stay active throughout), CPU of the daemon
# with 0 and with 10 dashboards attached (each `trove` in its own tmux session at 120x40 on
# the same data dir), and each dashboard's own CPU. Medians of interleaved windows, and the
# cost per dashboard. See bench/README.md.
#
#   bench/attached-cpu.sh                  # 3 interleaved windows of 30 s each way
#   bench/attached-cpu.sh --reps 1 --seconds 15
#   bench/attached-cpu.sh --help
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=attached-cpu
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/attached-cpu.sh [options]

Makes ACTIVE torrents of ACTIVE_SIZE bytes, seeded by one local libtorrent process capped
at ACTIVE_RATE bytes/s per torrent, adds them to a fresh data dir and starts `trove daemon`
on it; the seeder dials the daemon. Once every torrent has its peer, REPS times, alternating
which goes first:
  0 dashboards:  the daemon's CPU over SECONDS;
  N dashboards:  N `trove` processes in tmux sessions of COLSxROWS on the same data dir
                 (so each attaches to the daemon); once each shows the torrents and SETTLE
                 seconds passed, the CPU of the daemon and of every dashboard over the
                 same SECONDS; then each leaves with q.
CPU = utime + stime of all threads (/proc/PID/stat), % of one core. The seeder must have
sent bytes in every window and every torrent must still have its peer at its end.
The measured part holds /tmp/trove-bench.lock (as `flock /tmp/trove-bench.lock CMD`).

Options (environment variable in brackets):
  --reps N             windows of each kind (median reported)     [BENCH_REPS, 3]
  --seconds S          length of each window                      [BENCH_SECONDS, 30]
  --dashboards N       dashboards attached in the second kind     [BENCH_DASHBOARDS, 10]
  --settle S           wait before a window opens                 [BENCH_SETTLE, 5]
  --active N           torrents                                   [BENCH_ACTIVE, 20]
  --active-size BYTES  size of each torrent                       [BENCH_ACTIVE_SIZE, 25165824]
  --active-rate BPS    seeder's upload cap per torrent            [BENCH_ACTIVE_RATE, 32768]
  --size COLSxROWS     terminal size of each dashboard            [BENCH_TERM, 120x40]
  --trove PATH         trove binary (implies no build)            [TROVE_BIN]
  --no-build           do not run `cargo build --release`         [BENCH_NO_BUILD=1]
  --work-dir DIR       parent of the temporary work dir           [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR    where attached-cpu-<date>.md/.json go      [BENCH_RESULTS_DIR, bench/results]
  --keep               keep the work dir                          [BENCH_KEEP=1]
  -h, --help           this text
The torrents must outlast the bench: ACTIVE_SIZE / ACTIVE_RATE seconds (768 s by default)
covers 3 reps of 30 s each way with room to spare.
Needs: tmux, /usr/bin/python3 with python3-libtorrent.
EOF
}

ORIG_CMD="bench/attached-cpu.sh${*:+ $*}"
REPS=${BENCH_REPS:-3}
SECONDS_W=${BENCH_SECONDS:-30}
NDASH=${BENCH_DASHBOARDS:-10}
SETTLE=${BENCH_SETTLE:-5}
ACTIVE=${BENCH_ACTIVE:-20}
ACTIVE_SIZE=${BENCH_ACTIVE_SIZE:-25165824}
ACTIVE_RATE=${BENCH_ACTIVE_RATE:-32768}
TERM_SIZE=${BENCH_TERM:-120x40}
TROVE=${TROVE_BIN:-}
NO_BUILD=${BENCH_NO_BUILD:-0}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}

while (($#)); do
  case $1 in
    --reps) REPS=${2:?}; shift 2 ;;
    --seconds) SECONDS_W=${2:?}; shift 2 ;;
    --dashboards) NDASH=${2:?}; shift 2 ;;
    --settle) SETTLE=${2:?}; shift 2 ;;
    --active) ACTIVE=${2:?}; shift 2 ;;
    --active-size) ACTIVE_SIZE=${2:?}; shift 2 ;;
    --active-rate) ACTIVE_RATE=${2:?}; shift 2 ;;
    --size) TERM_SIZE=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    --work-dir) WORK_PARENT=${2:?}; shift 2 ;;
    --results-dir) RESULTS_DIR=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
COLS=${TERM_SIZE%x*}
ROWS=${TERM_SIZE#*x}

tb_need flock tmux
tb_need_libtorrent
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-attached-cpu.XXXXXX")
RUNS_FILE=$WORK/runs.jsonl
: >"$RUNS_FILE"
MACHINE=$(tb_machine_json)
tb_build

say "making $ACTIVE torrents of $ACTIVE_SIZE bytes"
tb_make_torrents "$WORK/active" "$ACTIVE" "$ACTIVE_SIZE"
tb_seeder_start "$WORK/active" "$ACTIVE_RATE"
say "seeder on 127.0.0.1:$SEEDER_PORT, $ACTIVE torrents capped at $ACTIVE_RATE B/s each"

ENV=$WORK/env
PORT=$(tb_free_port)
tb_env "$ENV" "$PORT"
tb_trove "$ENV" add "$WORK"/active/torrents/*.torrent >/dev/null
# The binary itself in the background (not the tb_trove function), so $! is its pid.
"$TROVE" --data-dir "$ENV/data" --config "$ENV/config.toml" daemon >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
CLEANUP_PIDS+=("$DAEMON_PID")
SOCK=$ENV/data/trove.sock
for _ in $(seq 600); do
  [[ -S $SOCK ]] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -S $SOCK ]] || { tail -20 "$WORK/daemon.log" >&2; die "the daemon did not serve $SOCK"; }
tb_seeder "dial $PORT" >/dev/null
tb_wait_peers "$ACTIVE" 90 || die "the seeder could not reach every torrent"
say "daemon pid $DAEMON_PID has all $ACTIVE torrents downloading"

# window KIND REP NAME=PID...: one measured window; appends a JSON line to RUNS_FILE.
window() {
  local kind=$1 rep=$2 up0 st w
  shift 2
  up0=$(tb_seeder_field status uploaded)
  say "$kind rep $rep: measuring for ${SECONDS_W}s"
  w=$("$PY" "$LIB/cpu_window.py" "$SECONDS_W" "$@") || die "$kind rep $rep: $w"
  st=$(tb_seeder status)
  "$PY" - "$w" "$st" "$up0" "$kind" "$rep" "$ACTIVE" >>"$RUNS_FILE" <<'EOF'
import json, sys
w, st, up0 = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
w.update({"kind": sys.argv[4], "rep": int(sys.argv[5]),
          "seeder_bytes_in_window": st["uploaded"] - up0,
          "torrents_with_peers_at_end": st["torrents_with_peers"]})
w["transfer_kib_s"] = round(w["seeder_bytes_in_window"] / 1024 / w["wall_s"], 1)
if w["seeder_bytes_in_window"] <= 0 or st["torrents_with_peers"] < int(sys.argv[6]):
    sys.exit("%s rep %s: not every torrent was active (seeder: %s)" % (sys.argv[4], sys.argv[5], st))
print(json.dumps(w))
EOF
  "$PY" -c 'import json,sys; d=json.loads(sys.stdin.readlines()[-1]); c=d["cpu_pct_one_core"]; ds=[v for k,v in c.items() if k!="daemon"]; print("%s rep %s: daemon %.2f%% of a core%s, %s KiB/s transferred, machine %s%% busy" % (d["kind"], d["rep"], c["daemon"], (", dashboards %.2f–%.2f%%" % (min(ds), max(ds))) if ds else "", d["transfer_kib_s"], d["machine_busy_pct"]))' <"$RUNS_FILE" >&2
}

# with_dashboards REP: NDASH dashboards attached, one window, then they leave.
with_dashboards() {
  local rep=$1 i pids=() procs=()
  for i in $(seq "$NDASH"); do
    pids+=("$(tb_tmux_start "d$i" "$COLS" "$ROWS" "$TROVE" --data-dir "$ENV/data" --config "$ENV/config.toml")")
  done
  for i in $(seq "$NDASH"); do
    tb_wait_screen "d$i" "[^0-9]$ACTIVE torrents" 60 || die "dashboard $i never showed the torrents"
    procs+=("d$i=${pids[i - 1]}")
  done
  sleep "$SETTLE"
  window "$NDASH dashboards" "$rep" "daemon=$DAEMON_PID" "${procs[@]}"
  for i in $(seq "$NDASH"); do
    tb_pane_dead "d$i" && die "dashboard $i exited during the window"
    tbt send-keys -t "d$i" q
  done
  for i in $(seq "$NDASH"); do
    tb_tmux_stop "d$i" "${pids[i - 1]}" q
  done
  kill -0 "$DAEMON_PID" 2>/dev/null || die "the daemon went away when the dashboards left"
}

without_dashboards() {
  sleep "$SETTLE"
  window "0 dashboards" "$1" "daemon=$DAEMON_PID"
}

tb_lock
for r in $(seq "$REPS"); do
  if ((r % 2)); then
    without_dashboards "$r"
    with_dashboards "$r"
  else
    with_dashboards "$r"
    without_dashboards "$r"
  fi
done
tb_unlock
tb_trove "$ENV" stop >/dev/null
wait "$DAEMON_PID" || true

"$PY" - "$RUNS_FILE" "$MACHINE" "$ORIG_CMD" "$WORK/result.json" "$SECONDS_W" "$ACTIVE" \
  "$ACTIVE_SIZE" "$ACTIVE_RATE" "$COLS" "$ROWS" "$NDASH" "$SETTLE" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
machine, cmd, out = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
secs, nact, asize, arate, cols, rows, ndash, settle = sys.argv[5:13]
k0, kn = "0 dashboards", "%s dashboards" % ndash
r0 = [r for r in runs if r["kind"] == k0]
rn = [r for r in runs if r["kind"] == kn]

def agg(xs):
    xs = list(xs)
    return "%.2f (%.2f–%.2f)" % (statistics.median(xs), min(xs), max(xs))

d0 = statistics.median(r["cpu_pct_one_core"]["daemon"] for r in r0)
dn = statistics.median(r["cpu_pct_one_core"]["daemon"] for r in rn)
# Each window's dashboards: their median, then the median over windows.
dash_each = [statistics.median(v for k, v in r["cpu_pct_one_core"].items() if k != "daemon") for r in rn]
dash_sum = [sum(v for k, v in r["cpu_pct_one_core"].items() if k != "daemon") for r in rn]
dash_all = [v for r in rn for k, v in r["cpu_pct_one_core"].items() if k != "daemon"]
per_dash_daemon = (dn - d0) / int(ndash)
table = [
    [k0, len(r0), agg(r["cpu_pct_one_core"]["daemon"] for r in r0), "–", "–",
     "%.0f" % statistics.median(r["transfer_kib_s"] for r in r0),
     "%.0f" % statistics.median(r["machine_busy_pct"] for r in r0)],
    [kn, len(rn), agg(r["cpu_pct_one_core"]["daemon"] for r in rn),
     "%.2f (%.2f–%.2f)" % (statistics.median(dash_each), min(dash_all), max(dash_all)),
     "%.2f" % statistics.median(dash_sum),
     "%.0f" % statistics.median(r["transfer_kib_s"] for r in rn),
     "%.0f" % statistics.median(r["machine_busy_pct"] for r in rn)],
]
notes = [
    "Daemon: %.2f%% of a core with 0 dashboards, %.2f%% with %s: **%+.3f%% of a core per "
    "dashboard** on the daemon (%.2f× in all); each dashboard itself: %.2f%%." % (
        d0, dn, ndash, per_dash_daemon, dn / d0 if d0 else float("nan"), statistics.median(dash_each)),
    "%s torrents of %s bytes downloading from one local libtorrent seeder capped at %s B/s per "
    "torrent (the seeder dials the daemon); every window saw bytes sent and every torrent with "
    "its peer at its end." % (nact, asize, arate),
    "Each dashboard: `trove` on the daemon's data dir in its own tmux session of %sx%s (it "
    "attaches through the socket). Windows of %s s, opened %s s after every dashboard showed "
    "the torrents; kinds alternate which goes first. CPU = user + system time of every "
    "thread (/proc/PID/stat), %% of one core; min–max over windows (dashboards: over every "
    "dashboard of every window)." % (cols, rows, secs, settle),
    "machine busy = all CPUs, everything included (the seeder, tmux, the dashboards).",
]
result = {"name": "attached-cpu", "title": "CPU of the daemon with dashboards attached",
          "command": cmd, "machine": machine,
          "sections": [{"heading": "CPU, %% of one core (%s active torrents, %s s windows)" % (nact, secs),
                        "columns": ["dashboards attached", "windows", "daemon, median (min–max)",
                                    "each dashboard, median (min–max)", "all dashboards together",
                                    "transfer KiB/s", "machine busy %"],
                        "rows": table, "notes": notes}],
          "notes": [],
          "data": {"runs": runs, "daemon_median_0": d0, "daemon_median_n": dn,
                   "daemon_per_dashboard": per_dash_daemon,
                   "dashboard_median": statistics.median(dash_each),
                   "params": {"seconds": int(secs), "active": int(nact), "active_size": int(asize),
                              "active_rate": int(arate), "term": "%sx%s" % (cols, rows),
                              "dashboards": int(ndash), "settle_s": int(settle)}}}
json.dump(result, open(out, "w"), indent=1)
EOF
tb_report "$WORK/result.json"
