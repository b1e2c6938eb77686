#!/usr/bin/env bash
# Scale: time to add 1,000 torrents (one `trove add` with 1,000 arguments,
# and 1,000 separate `trove add` runs), time to first frame with 1,000 torrents in the store
# (target < 300 ms), and memory per torrent (RSS of the TUI with 1,000 torrents minus with
# none, divided by 1,000). See bench/README.md.
#
#   bench/scale.sh                 # 3 runs of everything
#   bench/scale.sh --runs 1 --torrents 200
#   bench/scale.sh --help
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=scale
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/scale.sh [options]

Makes TORRENTS tiny single-file torrents (16 KiB, realistic names) with libtorrent, then,
RUNS times each, on fresh data dirs:
  add-one:   `trove add --paused` with all TORRENTS files as arguments (one process);
  add-each:  TORRENTS runs of `trove add --paused FILE` (one process per torrent);
  first frame: the dashboard (COLSxROWS, in tmux) on the store of TORRENTS torrents. A
             launcher records the wall clock at exec and tmux `pipe-pane` feeds the
             program's output to a reader that stamps every chunk: time to the first byte,
             to the first frame holding a torrent name, and to the header saying
             "TORRENTS torrents" (every stored torrent back);
  memory:    RSS of that dashboard SETTLE seconds after the first frame, and of one on an
             empty store; (RSS_n - RSS_0) / n per torrent.
Every measured run holds /tmp/trove-bench.lock (as `flock /tmp/trove-bench.lock CMD`).

Options (environment variable in brackets):
  --runs N            runs of each measure (median reported)   [BENCH_RUNS, 3]
  --torrents N        torrents                                 [BENCH_TORRENTS, 1000]
  --settle S          wait before reading RSS                  [BENCH_SETTLE, 10]
  --size COLSxROWS    terminal size of the dashboard           [BENCH_TERM, 160x48]
  --no-add-each       skip the N-invocations add (the longest) [BENCH_ADD_EACH=0]
  --trove PATH        trove binary (implies no build)          [TROVE_BIN]
  --no-build          do not run `cargo build --release`       [BENCH_NO_BUILD=1]
  --work-dir DIR      parent of the temporary work dir         [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR   where scale-<date>.md/.json go           [BENCH_RESULTS_DIR, bench/results]
  --keep              keep the work dir                        [BENCH_KEEP=1]
  -h, --help          this text
EOF
}

ORIG_CMD="bench/scale.sh${*:+ $*}"
RUNS=${BENCH_RUNS:-3}
N=${BENCH_TORRENTS:-1000}
SETTLE=${BENCH_SETTLE:-10}
TERM_SIZE=${BENCH_TERM:-160x48}
ADD_EACH=${BENCH_ADD_EACH:-1}
TROVE=${TROVE_BIN:-}
NO_BUILD=${BENCH_NO_BUILD:-0}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}

while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --torrents) N=${2:?}; shift 2 ;;
    --settle) SETTLE=${2:?}; shift 2 ;;
    --size) TERM_SIZE=${2:?}; shift 2 ;;
    --no-add-each) ADD_EACH=0; shift ;;
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
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-scale.XXXXXX")
RUNS_FILE=$WORK/runs.jsonl
: >"$RUNS_FILE"
MACHINE=$(tb_machine_json)
tb_build

say "making $N tiny torrents"
tb_lock
tb_make_torrents "$WORK/tiny" "$N" 16384
tb_unlock
TORRENTS=("$WORK"/tiny/torrents/*.torrent)
"$PY" -c 'import json,sys; print("\n".join(t["name"] for t in json.load(open(sys.argv[1]))))' \
  "$WORK/tiny/torrents.json" >"$WORK/names.txt"

emit() { echo "$1" >>"$RUNS_FILE"; say "$1"; }

# --- adding ---------------------------------------------------------------------------------

for r in $(seq "$RUNS"); do
  tb_env "$WORK/add-one" "$(tb_free_port)"
  tb_lock
  t0=$EPOCHREALTIME
  tb_trove "$WORK/add-one" add --paused "${TORRENTS[@]}" >"$WORK/add-one.out"
  t1=$EPOCHREALTIME
  tb_unlock
  got=$(grep -c . "$WORK/add-one.out" || true)
  ((got == N)) || die "add-one run $r: trove printed $got info-hashes, not $N"
  emit "$(printf '{"measure":"add-one","run":%d,"seconds":%s}' "$r" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")"
done

if [[ $ADD_EACH == 1 ]]; then
  for r in $(seq "$RUNS"); do
    tb_env "$WORK/add-each" "$(tb_free_port)"
    : >"$WORK/add-each.times"
    tb_lock
    t0=$EPOCHREALTIME
    for f in "${TORRENTS[@]}"; do
      a=$EPOCHREALTIME
      tb_trove "$WORK/add-each" add --paused "$f" >/dev/null
      b=$EPOCHREALTIME
      echo "$a $b" >>"$WORK/add-each.times"
    done
    t1=$EPOCHREALTIME
    tb_unlock
    emit "$("$PY" - "$WORK/add-each.times" "$r" "$t0" "$t1" <<'EOF'
import json, statistics, sys
d = [float(b) - float(a) for a, b in (l.split() for l in open(sys.argv[1]))]
k = max(1, len(d) // 10)
print(json.dumps({"measure": "add-each", "run": int(sys.argv[2]),
                  "seconds": round(float(sys.argv[4]) - float(sys.argv[3]), 3),
                  "per_invocation_ms_median": round(1000 * statistics.median(d), 1),
                  "per_invocation_ms_first_tenth": round(1000 * statistics.mean(d[:k]), 1),
                  "per_invocation_ms_last_tenth": round(1000 * statistics.mean(d[-k:]), 1)}))
EOF
)"
  done
fi

# --- first frame and memory ------------------------------------------------------------------

# dash_run MEASURE RUN ENV EXPECT: the dashboard on ENV, clock from exec; appends a line.
dash_run() {
  local measure=$1 run=$2 env=$3 expect=$4
  local fifo=$WORK/go.fifo stampf=$WORK/start.ns out=$WORK/stamps.json pid
  rm -f "$fifo" "$stampf" "$out"
  mkfifo "$fifo"
  tb_lock
  pid=$(tb_tmux_start dash "$COLS" "$ROWS" "$PY" "$LIB/launch.py" "$stampf" "$fifo" \
    "$TROVE" --data-dir "$env/data" --config "$env/config.toml")
  tbt pipe-pane -o -t dash "'$PY' '$LIB/stamp.py' '$out' '$WORK/names.txt' '$expect'"
  sleep 0.3 # let tmux start the reader
  echo go >"$fifo"
  tb_wait_screen dash "[^0-9]$expect torrents" 120 || die "$measure run $run: the header never said $expect torrents"
  sleep "$SETTLE"
  local rss hwm
  rss=$(tb_rss_kib "$pid")
  hwm=$(tb_hwm_kib "$pid")
  tbt pipe-pane -t dash
  local i
  for i in $(seq 50); do [[ -s $out ]] && break; sleep 0.1; done
  tb_tmux_stop dash "$pid" q
  tb_unlock
  [[ -s $out ]] || die "$measure run $run: the stamp reader wrote nothing"
  emit "$("$PY" - "$measure" "$run" "$(cat "$stampf")" "$out" "$rss" "$hwm" "$expect" <<'EOF'
import json, sys
measure, run, t0, out, rss, hwm, expect = sys.argv[1:8]
t0 = int(t0)
s = json.load(open(out))
ms = lambda k: round((s[k] - t0) / 1e6, 1) if s.get(k) else None
print(json.dumps({"measure": measure, "run": int(run), "torrents": int(expect),
                  "first_byte_ms": ms("first_byte"), "first_name_ms": ms("first_name"),
                  "all_torrents_ms": ms("all_count"),
                  "bytes_at_first_name": s.get("bytes_at_first_name"),
                  "rss_mib": round(int(rss) / 1024, 2), "peak_rss_mib": round(int(hwm) / 1024, 2)}))
EOF
)"
}

# The store of N torrents: the one add-one left.
tb_env "$WORK/empty" "$(tb_free_port)"
for r in $(seq "$RUNS"); do
  dash_run first-frame "$r" "$WORK/add-one" "$N"
  dash_run empty "$r" "$WORK/empty" 0
done

# --- results ---------------------------------------------------------------------------------

"$PY" - "$RUNS_FILE" "$MACHINE" "$ORIG_CMD" "$WORK/result.json" "$N" "$COLS" "$ROWS" "$SETTLE" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
machine, cmd, out = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
n, cols, rows, settle = int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8]

def pick(m, k):
    return [r[k] for r in runs if r["measure"] == m and r.get(k) is not None]

def agg(xs, fmt="%.2f"):
    if not xs:
        return "–", None
    m = statistics.median(xs)
    return (fmt + " (" + fmt + "–" + fmt + ")") % (m, min(xs), max(xs)), m

rows_ = []
s, m = agg(pick("add-one", "seconds"))
rows_.append(["add %d torrents, one `trove add` process" % n, s + " s",
              "%.1f ms per torrent" % (1000 * m / n) if m else "", "", ""])
if pick("add-each", "seconds"):
    s, m = agg(pick("add-each", "seconds"))
    first = statistics.median(pick("add-each", "per_invocation_ms_first_tenth"))
    last = statistics.median(pick("add-each", "per_invocation_ms_last_tenth"))
    rows_.append(["add %d torrents, %d `trove add` processes" % (n, n), s + " s",
                  "%.1f ms per invocation (first tenth %.1f ms, last tenth %.1f ms)"
                  % (1000 * m / n, first, last), "", ""])
s, m = agg(pick("first-frame", "first_byte_ms"), "%.0f")
rows_.append(["first byte on the terminal, %d torrents stored" % n, s + " ms", "", "", ""])
s, ff = agg(pick("first-frame", "first_name_ms"), "%.0f")
rows_.append(["first frame showing a torrent, %d stored" % n, s + " ms", "",
              "< 300 ms", "meets" if ff is not None and ff < 300 else "**misses**"])
s, m = agg(pick("first-frame", "all_torrents_ms"), "%.0f")
rows_.append(["header says \"%d torrents\" (all back)" % n, s + " ms", "", "", ""])
s, m = agg(pick("empty", "first_byte_ms"), "%.0f")
rows_.append(["first byte on the terminal, empty store", s + " ms", "", "", ""])
s0, r0 = agg(pick("empty", "rss_mib"), "%.1f")
s1, r1 = agg(pick("first-frame", "rss_mib"), "%.1f")
rows_.append(["RSS of the dashboard, empty store", s0 + " MiB", "", "", ""])
rows_.append(["RSS of the dashboard, %d torrents" % n, s1 + " MiB", "", "", ""])
per = None
if r0 is not None and r1 is not None:
    per = (r1 - r0) * 1024 / n
    rows_.append(["memory per torrent", "%.1f KiB" % per, "(RSS_%d − RSS_0) / %d, medians" % (n, n), "", ""])
result = {"name": "scale", "title": "Scale: adding, first frame, memory per torrent",
          "command": cmd, "machine": machine,
          "sections": [{"heading": "%d torrents (16 KiB each, paused)" % n,
                        "columns": ["measure", "median (min–max)", "", "target", ""],
                        "rows": rows_,
                        "notes": [
                            "Times are wall clock. The dashboard (%sx%s in tmux) is started by a "
                            "launcher that stamps the clock at exec; tmux `pipe-pane` feeds its output "
                            "to a reader that stamps each chunk, so the figures include tmux's relay "
                            "(about a millisecond), not the terminal's paint." % (cols, rows),
                            "A frame \"shows a torrent\" when the output so far holds one of the "
                            "torrents' names (compared without escape sequences and spaces).",
                            "RSS read %s s after the header shows every torrent." % settle,
                            "Every measured run held /tmp/trove-bench.lock."]}],
          "notes": [],
          "data": {"runs": runs, "memory_per_torrent_kib": per,
                   "params": {"torrents": n, "term": "%sx%s" % (cols, rows), "settle_s": int(settle)}}}
json.dump(result, open(out, "w"), indent=1)
EOF
tb_report "$WORK/result.json"
