#!/usr/bin/env bash
# What a script pays per command: `trove list --json`, `trove pause ID` and `trove resume ID`
# with 1,000 torrents in the store, (a) through the socket of a running `trove daemon` and
# (b) offline (no trove running, the store opened by the command itself). Many runs,
# interleaved, p50/p99 and the ratio. See bench/README.md.
#
#   bench/api-latency.sh                  # 1,000 torrents, 200 runs
#   bench/api-latency.sh --runs 50 --torrents 200
#   bench/api-latency.sh --help
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=api-latency
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/api-latency.sh [options]

Makes TORRENTS tiny single-file torrents (16 KiB) with libtorrent and adds them, paused, to
two identical data dirs. `trove daemon` runs on the first; nothing runs on the second. Then
RUNS times, alternating which mode goes first: `trove list --json > /dev/null`,
`trove resume ID` and `trove pause ID` (one torrent, paused again at the end of each run) on
each data dir, every command a separate process timed from fork to reaped (lib/latency.py).
Also per run: `trove --version` (the cost of starting any process) and, for the daemon, the
same requests made in-process on its socket (the first line of the event stream, which is
what `list` reads, and POSTed Resume/Pause commands). Recorded besides wall clock: each
command's own CPU (wait4) and the daemon's CPU meanwhile (/proc/PID/stat, 10 ms ticks, so
per-command figures are averages).
The measured part holds /tmp/trove-bench.lock (as `flock /tmp/trove-bench.lock CMD`).

Options (environment variable in brackets):
  --runs N            runs of each command in each mode          [BENCH_RUNS, 200]
  --torrents N        torrents in the store                      [BENCH_TORRENTS, 1000]
  --trove PATH        trove binary (implies no build)            [TROVE_BIN]
  --no-build          do not run `cargo build --release`         [BENCH_NO_BUILD=1]
  --work-dir DIR      parent of the temporary work dir           [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR   where api-latency-<date>.md/.json go       [BENCH_RESULTS_DIR, bench/results]
  --keep              keep the work dir                          [BENCH_KEEP=1]
  -h, --help          this text
Needs: /usr/bin/python3 with python3-libtorrent (to make the torrents).
EOF
}

ORIG_CMD="bench/api-latency.sh${*:+ $*}"
RUNS=${BENCH_RUNS:-200}
N=${BENCH_TORRENTS:-1000}
TROVE=${TROVE_BIN:-}
NO_BUILD=${BENCH_NO_BUILD:-0}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}

while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --torrents) N=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    --no-build) NO_BUILD=1; shift ;;
    --work-dir) WORK_PARENT=${2:?}; shift 2 ;;
    --results-dir) RESULTS_DIR=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

tb_need flock
tb_need_libtorrent
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-api-latency.XXXXXX")
MACHINE=$(tb_machine_json)
tb_build
# The protocol version the API asks of in-process requests (the CLI sends its own).
PROTOCOL=$(sed -n 's/^pub const PROTOCOL_VERSION: u32 = \([0-9]*\);/\1/p' "$REPO/crates/trove-proto/src/lib.rs")
[[ -n $PROTOCOL ]] || die "cannot read PROTOCOL_VERSION from crates/trove-proto/src/lib.rs"

say "making $N tiny torrents"
tb_make_torrents "$WORK/tiny" "$N" 16384
ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["info_hash"])' "$WORK/tiny/torrents.json")

for mode in daemon offline; do
  tb_env "$WORK/$mode" "$(tb_free_port)"
  got=$(tb_trove "$WORK/$mode" add --paused "$WORK"/tiny/torrents/*.torrent | grep -c . || true)
  ((got == N)) || die "$mode: trove add printed $got info-hashes, not $N"
done

say "starting trove daemon on the first data dir"
# The binary itself in the background (not the tb_trove function), so $! is its pid.
"$TROVE" --data-dir "$WORK/daemon/data" --config "$WORK/daemon/config.toml" daemon >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
CLEANUP_PIDS+=("$DAEMON_PID")
SOCK=$WORK/daemon/data/trove.sock
for _ in $(seq 600); do
  [[ -S $SOCK ]] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -S $SOCK ]] || { tail -20 "$WORK/daemon.log" >&2; die "the daemon did not serve $SOCK"; }
got=$(tb_trove "$WORK/daemon" list --json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')
((got == N)) || die "the daemon lists $got torrents, not $N"

"$PY" - "$WORK/spec.json" "$TROVE" "$RUNS" "$ID" "$PROTOCOL" "$WORK" "$DAEMON_PID" "$SOCK" <<'EOF'
import json, sys
out, trove, runs, tid, proto, work, pid, sock = sys.argv[1:9]
def args(mode):
    return ["--data-dir", "%s/%s/data" % (work, mode), "--config", "%s/%s/config.toml" % (work, mode)]
json.dump({"trove": trove, "runs": int(runs), "id": tid, "protocol": proto,
           "modes": {"daemon": {"args": args("daemon"), "pid": int(pid), "socket": sock},
                     "offline": {"args": args("offline")}}}, open(out, "w"))
EOF

tb_lock
say "timing $RUNS runs of list/resume/pause in each mode (interleaved)"
"$PY" "$LIB/latency.py" "$WORK/spec.json" "$WORK/runs.jsonl"
DAEMON_W=$(tb_rss_kib "$DAEMON_PID")
tb_unlock
tb_trove "$WORK/daemon" stop >/dev/null
wait "$DAEMON_PID" || true

"$PY" - "$WORK/runs.jsonl" "$MACHINE" "$ORIG_CMD" "$WORK/result.json" "$N" "$RUNS" "$DAEMON_W" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
machine, cmd, out, n, runs, rss = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])

def pct(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

def sel(mode, op, key="wall_ms"):
    return [r[key] for r in rows if r["mode"] == mode and r["op"] == op and r[key] is not None]

table, summary = [], {}
for op in ("list", "resume", "pause"):
    d, o = sel("daemon", op), sel("offline", op)
    dc, oc = sel("daemon", op, "child_cpu_ms"), sel("offline", op, "child_cpu_ms")
    dd = sel("daemon", op, "daemon_cpu_ms")
    ip = sel("in-process", op)
    s = {"daemon_p50": pct(d, 50), "daemon_p99": pct(d, 99), "offline_p50": pct(o, 50),
         "offline_p99": pct(o, 99), "in_process_p50": pct(ip, 50), "in_process_p99": pct(ip, 99),
         "daemon_client_cpu_ms": statistics.mean(dc), "offline_client_cpu_ms": statistics.mean(oc),
         "daemon_cpu_ms": statistics.mean(dd)}
    s["ratio_p50"] = s["daemon_p50"] / s["offline_p50"]
    s["ratio_p99"] = s["daemon_p99"] / s["offline_p99"]
    summary[op] = s
    table.append(["`trove %s`" % ("list --json" if op == "list" else op + " ID"),
                  "%.1f" % s["daemon_p50"], "%.1f" % s["daemon_p99"],
                  "%.1f" % s["offline_p50"], "%.1f" % s["offline_p99"],
                  "**%.2f**" % s["ratio_p50"], "%.2f" % s["ratio_p99"],
                  "%.1f / %.1f" % (s["daemon_client_cpu_ms"], s["offline_client_cpu_ms"]),
                  "%.1f" % s["daemon_cpu_ms"],
                  "%.1f / %.1f" % (s["in_process_p50"], s["in_process_p99"])])
ver = sel("process", "--version")
summary["version_p50"], summary["version_p99"] = pct(ver, 50), pct(ver, 99)
snap = [r["bytes"] for r in rows if r["mode"] == "in-process" and r["op"] == "list"]
notes = [
    "daemon / offline = %.2f (list), %.2f (resume), %.2f (pause), p50 against p50." % (
        summary["list"]["ratio_p50"], summary["resume"]["ratio_p50"], summary["pause"]["ratio_p50"]),
    "`trove --version` (starting and ending a process, nothing else): p50 %.1f ms, p99 %.1f ms." % (
        summary["version_p50"], summary["version_p99"]),
    "%d torrents, all paused, in both data dirs; ID is one of them (resumed, then paused again, "
    "every run). %d runs; runs alternate which mode goes first. Wall clock from fork to reaped, "
    "stdout to /dev/null; command CPU = user + system of the command (wait4), mean; daemon CPU = "
    "the daemon's ticks while the command ran, mean (10 ms ticks)." % (n, runs),
    "in-process = the same request without starting a program, made by the bench on the "
    "daemon's socket: list = reading the event stream's first line (the whole snapshot, %d "
    "bytes with the HTTP head), resume/pause = one POSTed command." % statistics.median(snap),
    "The daemon's RSS at the end: %.1f MiB. The measured part held /tmp/trove-bench.lock." % (rss / 1024),
]
result = {"name": "api-latency", "title": "Command latency: through the daemon and offline",
          "command": cmd, "machine": machine,
          "sections": [{"heading": "Milliseconds per command, %d torrents in the store, %d runs" % (n, runs),
                        "columns": ["command", "daemon p50", "daemon p99", "offline p50", "offline p99",
                                    "ratio p50", "ratio p99", "command CPU ms daemon / offline",
                                    "daemon CPU ms", "in-process p50 / p99"],
                        "rows": table, "notes": notes}],
          "notes": [], "data": {"summary": summary, "runs": rows}}
json.dump(result, open(out, "w"), indent=1)
EOF
tb_report "$WORK/result.json"
