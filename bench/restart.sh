#!/usr/bin/env bash
# Restart bench: how long does trove take to bring back a session of complete torrents
# until every one is seeding, with fast resume (librqbit's piece bitfields in
# <data-dir>/fastresume/<infohash>.bitv) versus a full re-hash of the same data (bitfields
# deleted)? See bench/README.md.
#
#   bench/restart.sh                       # 4 GiB in 8 torrents, 3 runs of each
#   bench/restart.sh --size 1GiB --runs 1  # quick check
#   bench/restart.sh --help
set -Eeuo pipefail
export LC_ALL=C # '.' decimals in $EPOCHREALTIME, awk and python

usage() {
  cat <<'EOF'
Usage: bench/restart.sh [options]

Makes SIZE of complete torrents (v1-only, with Debian's python3-libtorrent), adds them to
a fresh trove data dir, then times starts of `trove daemon` until every torrent is seeding:
the first start (no bitfields), then RUNS x (fast restart with the bitfields kept, full
re-hash with <data-dir>/fastresume/*.bitv deleted), interleaved. Writes the figures to
RESULTS_DIR/restart-<date>.md and .json; exits 1 if a correctness check failed.

Options (environment variable in brackets):
  --size SIZE            total payload, e.g. 4GiB, 512MiB (1024^n), 10GB, 4G (1000^n)   [BENCH_SIZE, 4GiB]
  --torrents N           number of torrents the payload is split into            [BENCH_TORRENTS, 8]
  --files N              files per torrent (multi-file torrents; 1 = single file) [BENCH_FILES, 4]
  --piece-length BYTES   piece length; 0 = libtorrent chooses                    [BENCH_PIECE_LENGTH, 0]
  --runs N               fast/full pairs to time                                 [BENCH_RUNS, 3]
  --work-dir DIR         parent of the temporary work dir (must hold SIZE)       [BENCH_WORK_DIR, ${TMPDIR:-/tmp}]
  --results-dir DIR      where restart-<date>.md/.json go                        [BENCH_RESULTS_DIR, bench/results]
  --trove PATH           trove binary to use (implies --no-build)                [TROVE_BIN]
  --no-build             do not run `cargo build --release` first                [BENCH_NO_BUILD=1]
  --no-drop-caches       keep the page cache between runs (warm-cache figures)   [BENCH_DROP_CACHES=0]
  --mode log|exit        how "every torrent is seeding" is detected              [BENCH_MODE, log]
                           log:  follow the daemon's log until every torrent has its
                                 "Initial check results" line, then SIGTERM it
                           exit: run `trove daemon --exit-when-complete` until it says
                                 "every torrent is complete" (1 s snapshot granularity)
  --wait-idle SECS       before each start, wait up to SECS for other processes to
                         leave the CPUs idle (< 10% busy over 1 s); 0 = don't wait
                         (the load is measured and reported either way)         [BENCH_WAIT_IDLE, 60]
  --lock FILE            flock(2) lock shared with the other benches, held over each
                         start (cache drop, idle wait, the timed run)            [BENCH_LOCK, /tmp/trove-bench.lock]
  --timeout SECS         give up on one daemon run after SECS                    [BENCH_TIMEOUT, 1800]
  --keep                 keep the work dir (payload, data dir, logs) at the end  [BENCH_KEEP=1]
  -h, --help             this text
EOF
}

die() { echo "restart.sh: $*" >&2; exit 1; }
say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
PY=/usr/bin/python3 # Debian's python3-libtorrent imports only under this interpreter
ORIG_CMD="$0${*:+ $*}"

SIZE=${BENCH_SIZE:-4GiB}
TORRENTS=${BENCH_TORRENTS:-8}
FILES=${BENCH_FILES:-4}
PIECE_LENGTH=${BENCH_PIECE_LENGTH:-0}
RUNS=${BENCH_RUNS:-3}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$SCRIPT_DIR/results}
TROVE=${TROVE_BIN:-}
BUILD=1
[[ ${BENCH_NO_BUILD:-0} == 1 ]] && BUILD=0
DROP_CACHES=${BENCH_DROP_CACHES:-1}
TIMEOUT=${BENCH_TIMEOUT:-1800}
KEEP=${BENCH_KEEP:-0}
MODE=${BENCH_MODE:-log}
WAIT_IDLE=${BENCH_WAIT_IDLE:-60}
LOCK=${BENCH_LOCK:-/tmp/trove-bench.lock}

while (($#)); do
  case $1 in
    --size) SIZE=${2:?}; shift 2 ;;
    --torrents) TORRENTS=${2:?}; shift 2 ;;
    --files) FILES=${2:?}; shift 2 ;;
    --piece-length) PIECE_LENGTH=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --work-dir) WORK_PARENT=${2:?}; shift 2 ;;
    --results-dir) RESULTS_DIR=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-drop-caches) DROP_CACHES=0; shift ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --mode) MODE=${2:?}; shift 2 ;;
    --wait-idle) WAIT_IDLE=${2:?}; shift 2 ;;
    --lock) LOCK=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# "4GiB", "512MiB" (1024^n), "10GB", "4G" (1000^n), "123" (bytes) -> bytes: bench/lib/units.py.
parse_size() { "$PY" "$SCRIPT_DIR/lib/units.py" bytes "$1" || die "not a size: $1"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

TOTAL_BYTES=$(parse_size "$SIZE")
for v in TORRENTS FILES RUNS TIMEOUT PIECE_LENGTH WAIT_IDLE; do
  is_uint "${!v}" || die "$v must be a whole number, got '${!v}'"
done
[[ $MODE == log || $MODE == exit ]] || die "--mode must be log or exit, got '$MODE'"
((TORRENTS >= 1 && FILES >= 1 && RUNS >= 1)) || die "--torrents, --files and --runs must be >= 1"
((TOTAL_BYTES >= TORRENTS * FILES)) || die "--size is too small for $TORRENTS x $FILES files"

# --- prerequisites -------------------------------------------------------------------------
"$PY" -c 'import libtorrent' 2>/dev/null ||
  die "$PY cannot import libtorrent: apt-get install python3-libtorrent"
command -v fincore >/dev/null || say "note: fincore (util-linux) not found; cache state is not verified"
command -v flock >/dev/null || die "flock (util-linux) is needed"

if [[ -z $TROVE ]]; then
  if ((BUILD)); then
    say "building trove (cargo build --release)"
    build_log=$(mktemp)
    if ! (cd "$REPO" && cargo build --release) >"$build_log" 2>&1; then
      tail -n 40 "$build_log" >&2; rm -f "$build_log"
      die "cargo build --release failed (use --no-build or --trove PATH)"
    fi
    rm -f "$build_log"
  fi
  target_dir=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  TROVE=$target_dir/release/trove
fi
[[ -x $TROVE ]] || die "no trove binary at $TROVE"
TROVE=$(realpath "$TROVE")

mkdir -p "$WORK_PARENT"
avail=$(df -P -B1 "$WORK_PARENT" | awk 'NR == 2 { print $4 }')
need=$((TOTAL_BYTES + TOTAL_BYTES / 20 + (256 << 20)))
((avail >= need)) || die "$WORK_PARENT has $((avail >> 20)) MiB free, the bench needs ~$((need >> 20)) MiB"

# --- work dir and cleanup -------------------------------------------------------------------
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-restart.XXXXXX")
WORK=$(realpath "$WORK")
DAEMON_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM ERR
  set +e # clean up as much as possible, whatever fails
  if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  if ((KEEP)); then
    say "work dir kept: $WORK"
  else
    if ((rc != 0 && rc != 130 && rc != 143)) && [[ -d $WORK/logs ]]; then
      # Keep what explains the failure, not the payload.
      local saved
      saved=$(mktemp -d "$WORK_PARENT/trove-bench-restart-logs.XXXXXX")
      cp -r "$WORK/logs" "$saved/"
      cp "$WORK"/*.tsv "$WORK"/*.json* "$WORK"/*.out "$WORK"/*.err "$WORK"/trove.toml "$saved/" 2>/dev/null
      say "logs of the failed bench saved in $saved"
    fi
    rm -rf -- "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

ROOT=$WORK/root          # the trove storage root; the payload is written straight into it
TORRENT_DIR=$WORK/torrents
DATA=$WORK/data          # trove --data-dir
CONFIG=$WORK/trove.toml
LOGS=$WORK/logs
RUNS_TSV=$WORK/runs.tsv
mkdir -p "$ROOT" "$TORRENT_DIR" "$DATA" "$LOGS"
CLK_TCK=$(getconf CLK_TCK)
# The benches' shared lock (same as `flock /tmp/trove-bench.lock CMD`): no two measurements
# overlap, and nobody's page cache is dropped in the middle of theirs.
exec {LOCK_FD}>>"$LOCK"
bench_lock() {
  if ! flock -n "$LOCK_FD"; then
    say "waiting for $LOCK (another bench is measuring)"
    flock "$LOCK_FD"
  fi
}
# Others may rebuild the shared target dir while the bench runs: every start must run the
# same binary, so take a copy.
TROVE_SRC=$TROVE
TROVE_BUILT=$(date -r "$TROVE_SRC" '+%F %T')
cp -- "$TROVE_SRC" "$WORK/trove"
TROVE=$WORK/trove
say "work dir $WORK; trove $TROVE_SRC (copied, built $TROVE_BUILT)"

# --- 1. payload and .torrent files ----------------------------------------------------------
say "writing $((TOTAL_BYTES >> 20)) MiB of payload in $TORRENTS torrents x $FILES files and hashing it with libtorrent"
"$PY" - "$ROOT" "$TORRENT_DIR" "$TOTAL_BYTES" "$TORRENTS" "$FILES" "$PIECE_LENGTH" >"$WORK/torrents.jsonl" <<'PY'
import json, os, sys
import libtorrent as lt

root, tdir, total, n, files, piece_length = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
CHUNK = 4 << 20
for i in range(n):
    size = total // n + (total % n if i == n - 1 else 0)
    name = "bench-%02d" % i
    fs = lt.file_storage()
    for j in range(files):
        fsize = size // files + (size % files if j == files - 1 else 0)
        rel = name if files == 1 else "%s/part-%02d.bin" % (name, j)
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            left = fsize
            while left:
                k = min(CHUNK, left)
                f.write(os.urandom(k))  # incompressible, nothing for a filesystem to elide
                left -= k
        fs.add_file(rel, fsize)
    # v1 only, like the test peers (tools/loopback/peer.py): hybrids change what info-hash means.
    ct = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
    ct.set_creator("trove bench/restart.sh")
    lt.set_piece_hashes(ct, root)
    tfile = os.path.join(tdir, name + ".torrent")
    with open(tfile, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    ti = lt.torrent_info(tfile)
    print(json.dumps({"name": name, "torrent": tfile, "size": size, "files": files,
                      "piece_length": ti.piece_length(), "pieces": ti.num_pieces(),
                      "info_hash": str(ti.info_hashes().v1)}), flush=True)
PY
mapfile -t TORRENT_FILES < <("$PY" -c 'import json,sys; [print(json.loads(l)["torrent"]) for l in sys.stdin]' <"$WORK/torrents.jsonl")
((${#TORRENT_FILES[@]} == TORRENTS)) || die "made ${#TORRENT_FILES[@]} torrents, wanted $TORRENTS"
PIECE_INFO=$("$PY" -c '
import json,sys
t=[json.loads(l) for l in sys.stdin]
pl=sorted({x["piece_length"] for x in t})
print("%s %d" % ("/".join(str(p) for p in pl), sum(x["pieces"] for x in t)))' <"$WORK/torrents.jsonl")
read -r PIECE_LENGTHS TOTAL_PIECES <<<"$PIECE_INFO"

# --- 2. config, data dir, add ----------------------------------------------------------------
cat >"$CONFIG" <<EOF
[[roots]]
label = "bench"
path = "$ROOT"
default = true

[network]
listen_port = 0
bind = "127.0.0.1"
dht = false
lsd = false
upnp = false
trackers = false
EOF
trove() { "$TROVE" --data-dir "$DATA" --config "$CONFIG" --log-level info "$@"; }
say "adding $TORRENTS torrents (offline)"
trove add "${TORRENT_FILES[@]}" >"$WORK/add.out" 2>&1 || { cat "$WORK/add.out" >&2; die "trove add failed"; }

# --- 3. timed starts --------------------------------------------------------------------------
CACHE_STATES=()
drop_caches() {
  sync
  if ((DROP_CACHES)) && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    # Trust but verify: some kernels/containers accept the write and keep the cache.
    if command -v fincore >/dev/null; then
      local res
      res=$({ find "$ROOT" -type f -exec fincore -b -n -r -o RES {} + 2>/dev/null || true; } | awk '{ s += $1 } END { print s + 0 }')
      if ((res > TOTAL_BYTES / 100)); then echo warm; return; fi
    fi
    echo cold
  else
    # Make "warm" mean warm: every byte read once, so all runs start from the same place.
    find "$ROOT" -type f -exec cat {} + >/dev/null
    echo warm
  fi
}

# Percent of CPU time the whole machine spent busy over one second.
cpu_busy_1s() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; printf "%.0f\n", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'
}

# Hashing is CPU-bound: other work on the machine (a cargo build next door) slows the full
# re-hash and makes the ratio noisy. Waits until the CPUs are idle; prints the last busy %.
wait_idle() {
  local busy waited=0
  busy=$(cpu_busy_1s)
  while ((busy >= 10 && waited < WAIT_IDLE)); do
    ((waited == 0)) && say "waiting for the CPUs to go idle (${busy}% busy)"
    sleep 1
    waited=$((waited + 2))
    busy=$(cpu_busy_1s)
  done
  ((waited > 0)) && say "CPUs ${busy}% busy after waiting ${waited}s"
  echo "$busy"
}

count_bitv() {
  local n=0 f
  for f in "$DATA"/fastresume/*.bitv; do if [[ -e $f ]]; then n=$((n + 1)); fi; done
  echo "$n"
}

# Launches the daemon once and waits for it; sets t0, t1, t2, rc and cpu (see timed_start).
run_daemon_once() {
  local log=$1 pid="" ticks=0 st line checked waited mask
  rc=0
  : >"$log"
  t0=$EPOCHREALTIME
  if [[ $MODE == exit ]]; then
    timeout "$TIMEOUT" "$TROVE" --data-dir "$DATA" --config "$CONFIG" --log-level info \
      daemon --exit-when-complete 2>>"$log" >/dev/null &
  else
    timeout "$TIMEOUT" "$TROVE" --data-dir "$DATA" --config "$CONFIG" --log-level info \
      daemon 2>>"$log" >/dev/null &
  fi
  DAEMON_PID=$!
  # Poll with builtins apart from `sleep` (no `read -t` trick: bash 5.2 aborts with "longjmp
  # causes uninitialized stack frame" when a signal trap exits during one). Every 20 ms for
  # the first 2 s, then every 100 ms: fine timing for fast starts, few forks for long ones.
  local rounds=0
  while :; do
    [[ -z $pid ]] && pid=$(pgrep -P "$DAEMON_PID" 2>/dev/null || true)
    # trove's CPU time so far (utime + stime): robust against other load on the machine.
    if [[ -n $pid ]] && { read -r -a st <"/proc/$pid/stat"; } 2>/dev/null; then ticks=$((st[13] + st[14])); fi
    if [[ $MODE == log ]]; then
      checked=0
      while IFS= read -r line; do
        if [[ $line == *"Initial check results"* ]]; then checked=$((checked + 1)); fi
      done <"$log"
      ((checked >= TORRENTS)) && break
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    if ((rounds++ < 100)); then sleep 0.02; else sleep 0.1; fi
  done
  t1=$EPOCHREALTIME
  if [[ $MODE == log ]]; then
    # trove installs its SIGTERM handler only once every torrent has been handed to librqbit,
    # and checks can finish before that: a TERM sent earlier kills it without a clean
    # shutdown (exit 143, state not saved). Wait (up to 10 s) until it catches SIGTERM.
    waited=0
    while [[ -n $pid ]] && ((waited < 500)); do
      mask=0
      { while read -r line; do
          if [[ $line == SigCgt:* ]]; then mask=${line#SigCgt:}; fi
        done <"/proc/$pid/status"; } 2>/dev/null || break # gone: nothing to wait for
      mask=${mask//[[:space:]]/}
      (((16#${mask:-0} >> 14) & 1)) && break
      sleep 0.02
      waited=$((waited + 1))
    done
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
  fi
  wait "$DAEMON_PID" || rc=$?
  t2=$EPOCHREALTIME
  [[ $MODE == exit ]] && t1=$t2 # refined from the daemon's log in timed_start
  DAEMON_PID=""
  cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
}

# Times one start of the daemon; appends a row to runs.tsv.
#   ready_s: launch -> every torrent checked and seeding. In "log" mode the script follows
#            the daemon's log until it shows one "Initial check results" per torrent
#            (polled every 20 ms, after 2 s every 100 ms), then stops it with SIGTERM; in
#            "exit" mode it is the moment `trove daemon --exit-when-complete` logs "every
#            torrent is complete; exiting" (its log timestamps use the same clock as
#            $EPOCHREALTIME), just before it shuts down.
#   exit_s:  launch -> process gone (adds the clean shutdown).
#   check_s: from the log's timestamps, "restoring torrents from the store" -> the last
#            "Initial check results": librqbit's own checking time, no process overhead.
#   trove_cpu_s: the daemon's user + system CPU time up to ready_s (from /proc/PID/stat).
timed_start() {
  local kind=$1 run=$2 log="$LOGS/$1-$2.log" cache t0 t1 t2 rc bitv checked busy cpu attempt
  for ((attempt = 1; ; attempt++)); do
    # first/full: no bitfields, librqbit must hash everything (also after an interrupted try).
    [[ $kind == fast ]] || rm -f -- "$DATA"/fastresume/*.bitv
    bitv=$(count_bitv)
    bench_lock
    cache=$(drop_caches)
    if ((WAIT_IDLE > 0)); then busy=$(wait_idle); else busy=$(cpu_busy_1s); fi
    say "$kind run $run: starting the daemon ($bitv bitfield file(s) present, $cache cache, CPUs ${busy}% busy before)"
    run_daemon_once "$log"
    flock -u "$LOCK_FD"
    checked=$(grep -c "Initial check results" "$log" || true)
    if ((rc == 124)); then
      tail -n 30 "$log" >&2
      die "$kind run $run: timed out after ${TIMEOUT}s; log: $log"
    fi
    if [[ $MODE == exit ]] && ((rc == 0 && checked < TORRENTS)); then
      tail -n 30 "$log" >&2
      die "$kind run $run: \`trove daemon --exit-when-complete\` exited 0 after only $checked of $TORRENTS torrents were checked, i.e. before they were seeding (a trove that publishes its first snapshot before polling librqbit does this; use --mode log)"
    fi
    ((rc == 0 && checked >= TORRENTS)) && break
    # The daemon went away before every torrent was checked, without our asking: on a shared
    # machine something else signalled it (or it crashed). Note it and try again.
    mv -- "$log" "$log.interrupted-$attempt"
    INTERRUPTED+=("$kind run $run, try $attempt: daemon exited $rc after $checked of $TORRENTS checks (log kept as $(basename "$log").interrupted-$attempt)")
    say "$kind run $run: the daemon exited ($rc) after only $checked of $TORRENTS checks, not by our doing; retrying"
    tail -n 3 "$log.interrupted-$attempt" >&2
    ((attempt < 3)) || die "$kind run $run: interrupted $attempt times; logs in $LOGS"
  done
  CACHE_STATES+=("$cache")
  "$PY" - "$log" "$kind" "$run" "$t0" "$t1" "$t2" "$cache" "$bitv" "$busy" "$cpu" >>"$RUNS_TSV" <<'PY'
import re, sys
from datetime import datetime
log, kind, run, t0, t1, t2, cache, bitv, busy, cpu = sys.argv[1:]
ts_re = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z")
def ts(line):
    m = ts_re.match(line)
    if not m:
        return None
    s = m.group(1)
    if "." in s:
        a, b = s.split(".")
        s = a + "." + b[:6]
    return datetime.fromisoformat(s + "+00:00").timestamp()
restore = last_check = complete = None
ready = None
for line in open(log, errors="replace"):
    if "every torrent is complete" in line:
        ready = ts(line)
if ready is None:
    ready = float(t1)
hashed = checked = rejected = errors = incomplete = 0
for line in open(log, errors="replace"):
    t = ts(line)
    if "restoring torrents from the store" in line:
        restore = t
    if "Initial check results" in line:
        last_check, checked = t, checked + 1
        if "needed 0," not in line:
            incomplete += 1
    if "Doing initial checksum validation" in line:
        hashed += 1
    if "data corrupted, ignoring fastresume" in line or "bitfield loaded isn't of correct length" in line:
        rejected += 1
    # Errors after the ready moment belong to the shutdown (librqbit's stop pauses every
    # torrent, and its speed estimator then logs "chunk tracker empty, torrent was paused").
    if " ERROR " in line and (t is None or t <= ready):
        errors += 1
    if "every torrent is complete" in line:
        complete = t
t0, t1, t2 = float(t0), float(t1), float(t2)
if complete is not None:
    # --exit-when-complete: the daemon's own log line (same clock as `date`) marks the moment,
    # before the clean shutdown that the process exit adds.
    t1 = complete
check = "%.3f" % (last_check - restore) if last_check and restore else "nan"
print("\t".join([kind, run, "%.3f" % (t1 - t0), "%.3f" % (t2 - t0), check, cache, bitv,
                 str(checked), str(hashed), str(rejected), str(errors), str(incomplete), busy, cpu]))
PY
  awk -F'\t' 'END { exit !($12 == 0 && $11 == 0) }' "$RUNS_TSV" ||
    problem "$kind run $run: errors in the log or a torrent not complete after checking (see $log)"
  tail -n 1 "$RUNS_TSV" | awk -F'\t' '{ printf "    seeding after %ss (process gone after %ss; librqbit checking %ss); %s of %s torrents fully hashed\n", $3, $4, $5, $9, $8 }' >&2
}

INTERRUPTED=()
PROBLEMS=()
problem() { PROBLEMS+=("$*"); say "PROBLEM: $*"; }

check_list() { # every torrent seeding and complete, as `trove list --json` says after exit
  local label=$1 out=$WORK/list-$1.json
  trove list --json >"$out" 2>"$WORK/list-$1.err" || { problem "trove list failed after $label"; return; }
  "$PY" - "$out" "$TORRENTS" <<'PY' || problem "after $label: trove list --json does not show every torrent seeding at progress 1.0 ($WORK/list-$label.json)"
import json, sys
entries = json.load(open(sys.argv[1]))
bad = [(e["name"], e["state"], e["progress"]) for e in entries
       if e["state"] != "seeding" or e["progress"] != 1.0]
if len(entries) != int(sys.argv[2]) or bad:
    print("  %d entries; not seeding/complete: %s" % (len(entries), bad), file=sys.stderr)
    sys.exit(1)
PY
}

printf 'kind\trun\tready_s\texit_s\tcheck_s\tcache\tbitv_files\tinitial_checks\tfull_hashes\tfastresume_rejected\terrors\tincomplete\tcpu_busy_before_pct\ttrove_cpu_s\n' >"$RUNS_TSV"
BENCH_T0=$SECONDS

timed_start first 1
nb=$(count_bitv)
((nb == TORRENTS)) || problem "after the first start there are $nb .bitv files, expected $TORRENTS"

for ((r = 1; r <= RUNS; r++)); do
  timed_start fast "$r"
  awk -F'\t' -v r="$r" '$1 == "fast" && $2 == r && $9 != 0 { exit 1 }' "$RUNS_TSV" ||
    problem "fast run $r fully hashed some torrents (see $LOGS/fast-$r.log)"
  check_list "fast-$r"
  timed_start full "$r"
  awk -F'\t' -v r="$r" -v n="$TORRENTS" '$1 == "full" && $2 == r && $9 != n { exit 1 }' "$RUNS_TSV" ||
    problem "full run $r did not hash all $TORRENTS torrents (see $LOGS/full-$r.log)"
done
check_list "last-full"
BENCH_SECS=$((SECONDS - BENCH_T0))

# --- 4. report -----------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
STAMP=$(date +%Y-%m-%d-%H%M%S)
OUT_MD=$RESULTS_DIR/restart-$STAMP.md
OUT_JSON=$RESULTS_DIR/restart-$STAMP.json
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null) ]]; then COMMIT+="+dirty"; fi
LIBRQBIT=$(awk '/^name = "librqbit"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$REPO/Cargo.lock" 2>/dev/null || true)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
FS=$(df -P -T "$WORK" | awk 'NR == 2 { print $2 " on " $1 }')
CACHE_SUMMARY=$(printf '%s\n' "${CACHE_STATES[@]}" | sort -u | paste -sd/)
case $CACHE_SUMMARY in
  cold) CACHE_NOTE="cold: the page cache was dropped before every start" ;;
  warm) CACHE_NOTE="warm: the payload was in the page cache for every start (drop_caches unavailable or --no-drop-caches)" ;;
  *) CACHE_NOTE="mixed ($CACHE_SUMMARY): dropping the page cache worked for some starts only" ;;
esac

PROBLEMS_TEXT=$(printf '%s\n' "${PROBLEMS[@]+"${PROBLEMS[@]}"}")
INTERRUPTED_TEXT=$(printf '%s\n' "${INTERRUPTED[@]+"${INTERRUPTED[@]}"}")
export BENCH_CMD="$ORIG_CMD" BENCH_SIZE_BYTES=$TOTAL_BYTES BENCH_N=$TORRENTS BENCH_FILES_N=$FILES \
  BENCH_PIECE_LENGTHS=$PIECE_LENGTHS BENCH_PIECES=$TOTAL_PIECES BENCH_RUNS_N=$RUNS \
  BENCH_CACHE="$CACHE_SUMMARY" BENCH_CACHE_NOTE="$CACHE_NOTE" BENCH_COMMIT=$COMMIT \
  BENCH_LIBRQBIT=${LIBRQBIT:-unknown} BENCH_CPU="$CPU" BENCH_NPROC=$(nproc) BENCH_KERNEL=$(uname -r) \
  BENCH_FS="$FS" BENCH_SECS=$BENCH_SECS BENCH_PROBLEMS="$PROBLEMS_TEXT" BENCH_STAMP=$STAMP \
  BENCH_BINARY="$TROVE_SRC, built $TROVE_BUILT" \
  BENCH_LOCK_FILE="$LOCK" BENCH_MODE=$MODE BENCH_TOTAL_SECS=$SECONDS BENCH_INTERRUPTED="$INTERRUPTED_TEXT"
"$PY" - "$RUNS_TSV" "$OUT_MD" "$OUT_JSON" <<'PY'
import csv, json, os, statistics, sys
tsv, out_md, out_json = sys.argv[1:]
E = os.environ
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
num = lambda v: None if v in ("nan", "") else float(v)
for r in rows:
    for k in ("ready_s", "exit_s", "check_s", "trove_cpu_s"):
        r[k] = num(r[k])
    for k in ("run", "bitv_files", "initial_checks", "full_hashes", "fastresume_rejected", "errors", "incomplete", "cpu_busy_before_pct"):
        r[k] = int(r[k])
size = int(E["BENCH_SIZE_BYTES"])
KEYS = ("ready_s", "exit_s", "check_s", "trove_cpu_s")

def stats(kind, key):
    v = [r[key] for r in rows if r["kind"] == kind and r[key] is not None]
    if not v:
        return None
    return {"n": len(v), "median": statistics.median(v), "min": min(v), "max": max(v)}

summary = {k: {key: stats(k, key) for key in KEYS} for k in ("first", "fast", "full")}
def ratio_of(key):
    a, b = summary["fast"][key], summary["full"][key]
    return b["median"] / a["median"] if a and b and a["median"] > 0 else None
ratio, check_ratio, cpu_ratio = ratio_of("ready_s"), ratio_of("check_s"), ratio_of("trove_cpu_s")
problems = [p for p in E["BENCH_PROBLEMS"].split("\n") if p]
interrupted = [p for p in E["BENCH_INTERRUPTED"].split("\n") if p]
mode = E["BENCH_MODE"]

label = {"first": "first start (no bitfields yet)",
         "fast": "restart, fast resume (bitfields kept)",
         "full": "restart, full re-hash (bitfields deleted)"}
how = ("launching `trove daemon` until its log shows every torrent's \"Initial check results\" "
       "(polled every 20 ms, after 2 s every 100 ms)" if mode == "log" else
       "launching `trove daemon --exit-when-complete` until it logs \"every torrent is complete; "
       "exiting\" (it looks at the session's snapshot, published once a second)")
md = []
md.append("## Restart bench, %s\n" % E["BENCH_STAMP"])
md.append("%.2f GiB (%d bytes) of complete data in %d v1 torrents x %d files, piece length %s B "
          "(%s pieces in all); %s.\n" % (
              size / 2**30, size, int(E["BENCH_N"]), int(E["BENCH_FILES_N"]),
              E["BENCH_PIECE_LENGTHS"], E["BENCH_PIECES"], E["BENCH_CACHE_NOTE"]))
md.append("Seconds until every torrent is seeding, from %s:\n" % how)
md.append("| start | runs | median s | min s | max s | MiB/s (median) | librqbit check s (median) | trove CPU s (median) |")
md.append("|---|---:|---:|---:|---:|---:|---:|---:|")
for k in ("first", "fast", "full"):
    w, c, u = summary[k]["ready_s"], summary[k]["check_s"], summary[k]["trove_cpu_s"]
    if not w:
        continue
    md.append("| %s | %d | %.2f | %.2f | %.2f | %s | %s | %s |" % (
        label[k], w["n"], w["median"], w["min"], w["max"],
        "-" if k == "fast" else "%.0f" % (size / 2**20 / w["median"]),
        "%.3f" % c["median"] if c else "?", "%.2f" % u["median"] if u else "?"))
md.append("")
if ratio:
    md.append("**full re-hash / fast resume = %.1fx** (medians)%s%s.\n" % (
        ratio, "; librqbit's checking alone: %.0fx" % check_ratio if check_ratio else "",
        "; trove's CPU time: %.0fx" % cpu_ratio if cpu_ratio else ""))
md.append("\"librqbit check\" is the span in the daemon log from \"restoring torrents from the "
          "store\" to the last \"Initial check results\", without process start-up. MiB/s = data "
          "size / median time (not shown for fast resume, which reads only a sample). \"trove "
          "CPU\" is the daemon's user + system time until then; it grows much less than wall "
          "time when other work competes for the CPUs.\n")
md.append("- command: `%s` (bench wall time %s s, of which timed starts %s s); every start "
          "held %s" % (E["BENCH_CMD"], E["BENCH_TOTAL_SECS"], E["BENCH_SECS"], E["BENCH_LOCK_FILE"]))
busy = max(r["cpu_busy_before_pct"] for r in rows)
md.append("- other load: " + ("the CPUs were idle (< 10% busy) before every start" if busy < 10 else
          "**the CPUs were up to %d%% busy with other work before a start: hashing times may be "
          "inflated**" % busy))
md.append("- trove %s (%s), librqbit %s; %s x %s, Linux %s, %s" % (
    E["BENCH_COMMIT"], E["BENCH_BINARY"], E["BENCH_LIBRQBIT"], E["BENCH_NPROC"], E["BENCH_CPU"], E["BENCH_KERNEL"],
    E["BENCH_FS"]))
md.append("- correctness: " + ("after every fast restart `trove list --json` showed every torrent "
                              "seeding at progress 1.0; no fast restart re-hashed a torrent; every "
                              "full restart hashed all of them" if not problems else
                              "PROBLEMS: " + "; ".join(problems)))
if interrupted:
    md.append("- starts interrupted from outside and retried (not counted): " + "; ".join(interrupted))
md.append("")
md.append("<details><summary>every start</summary>\n")
md.append("| start | run | seeding after s | process gone s | librqbit check s | trove CPU s | cache | CPU busy before | .bitv present | fully hashed |")
md.append("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
f = lambda x: "%.3f" % x if x is not None else "?"
for r in rows:
    md.append("| %s | %d | %s | %s | %s | %s | %s | %d%% | %d | %d of %d |" % (
        r["kind"], r["run"], f(r["ready_s"]), f(r["exit_s"]), f(r["check_s"]), f(r["trove_cpu_s"]), r["cache"],
        r["cpu_busy_before_pct"], r["bitv_files"], r["full_hashes"], r["initial_checks"]))
md.append("\n</details>\n")
text = "\n".join(md)
open(out_md, "w").write(text)
json.dump({
    "bench": "restart", "date": E["BENCH_STAMP"], "command": E["BENCH_CMD"], "mode": mode,
    "size_bytes": size, "torrents": int(E["BENCH_N"]), "files_per_torrent": int(E["BENCH_FILES_N"]),
    "piece_length": E["BENCH_PIECE_LENGTHS"], "pieces": int(E["BENCH_PIECES"]),
    "cache": E["BENCH_CACHE"], "cache_note": E["BENCH_CACHE_NOTE"],
    "trove_commit": E["BENCH_COMMIT"], "trove_binary": E["BENCH_BINARY"], "librqbit": E["BENCH_LIBRQBIT"],
    "host": {"cpu": E["BENCH_CPU"], "nproc": int(E["BENCH_NPROC"]), "kernel": E["BENCH_KERNEL"],
             "fs": E["BENCH_FS"]},
    "summary": summary, "ratio_full_over_fast": ratio, "check_ratio_full_over_fast": check_ratio,
    "cpu_ratio_full_over_fast": cpu_ratio,
    "bench_seconds": int(E["BENCH_TOTAL_SECS"]), "timed_seconds": int(E["BENCH_SECS"]),
    "problems": problems, "interrupted_and_retried": interrupted, "runs": rows,
}, open(out_json, "w"), indent=2)
print(text)
PY
say "results: $OUT_MD, $OUT_JSON"
if ((${#PROBLEMS[@]})); then
  say "finished with ${#PROBLEMS[@]} problem(s)"
  exit 1
fi
