#!/usr/bin/env bash
# Vault bench: a torrent kept in a vault root (encrypted in 256 KiB chunks with the vault's
# cipher, one file per torrent) against the same torrent in a plain root, side by side in
# every run: download throughput from local libtorrent seeders, seeding throughput to fresh
# libtorrent leechers, trove's CPU seconds per GiB for each, and the vault cache's hit rate
# while seeding to several leechers with a cache smaller than the torrent.
# See bench/README.md ("Vault roots against a plain root").
#
#   bench/vault.sh              # 1 GiB in 4 files, 5 runs: about 5-10 minutes on 2 cores
#   bench/vault.sh --quick      # 256 MiB, 3 runs: a smoke run
#   bench/vault.sh --help
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=vault
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/vault.sh [options]

For each run, in an order that alternates run by run (vault first, then plain first), and
for each root (vault, plain):
  1. a fresh data dir and fresh roots; `trove daemon` (config: a plain root and a vault
     root, `[cache] size = CACHE`, 127.0.0.1, DHT/LSD/UPnP/trackers off);
  2. download: `trove add --root ROOT --peer SEEDER... TORRENT`, timed until the daemon logs
     librqbit's "torrent finished downloading";
  3. seed: the daemon restarted (fast resume, so the vault's chunk cache starts empty), then
     LEECHERS fresh libtorrent leechers download the torrent from trove only;
  4. seed-many: the daemon restarted with `[cache] size = SMALL_CACHE`, MANY fresh leechers,
     and the vault cache's hits, misses and pinned bytes read from the torrent's details.
Before each phase: wait for quiet CPUs, sync, drop the page cache and read the source back
in (the seeders' payload, or trove's own copy), as throughput.sh does. Each phase holds the
bench lock. Prints the figures and writes bench/results/vault-<date>.md and .json.

Options (environment variable in brackets):
  --quick                256 MiB, 3 runs                                         [BENCH_QUICK=1]
  --size SIZE            torrent size: 1GiB, 256MiB (1024^n), 500MB (1000^n)     [BENCH_SIZE, 1GiB]
  --files N              files in the torrent                                    [BENCH_FILES, 4]
  --piece-length SIZE    piece length                                            [BENCH_PIECE_LENGTH, 1MiB]
  --runs N               runs (vault and plain in each)                          [BENCH_RUNS, 5]
  --seeders N            libtorrent seeders trove downloads from                 [BENCH_SEEDERS, 1]
  --leechers N           leechers in the seed phase                              [BENCH_LEECHERS, 2]
  --many-leechers N      leechers in the seed-many phase                         [BENCH_MANY_LEECHERS, 4]
  --cache SIZE           [cache] size for download and seed                      [BENCH_CACHE, 256MiB]
  --small-cache SIZE     [cache] size for seed-many                              [BENCH_SMALL_CACHE, size/16]
  --cipher NAME          the vault's cipher: aes-256-gcm or xchacha20-poly1305   [BENCH_CIPHER, trove's
                         choice: aes-256-gcm on a CPU with AES and PCLMULQDQ]
  --trove PATH           trove binary (copied into the work dir first)           [TROVE_BIN, /tmp/vault-bench/trove
                         if it exists, else target/release/trove; this script never builds]
  --cache-dir DIR        where the payload is kept between runs                  [BENCH_CACHE_DIR, ~/.cache/trove-bench]
  --work-dir DIR         parent of the temporary work dir                        [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR      where vault-<date>.md/.json go                          [BENCH_RESULTS_DIR, bench/results]
  --no-drop-caches       keep the page cache between phases                      [BENCH_DROP_CACHES=0]
  --wait-idle SECS       before each phase wait up to SECS for quiet CPUs         [BENCH_WAIT_IDLE, 30]
  --idle-below FRAC      "quiet": busy fraction of all CPUs below FRAC           [BENCH_IDLE_BELOW, 0.25]
  --timeout SECS         give up on one phase after SECS                         [BENCH_TIMEOUT, 300]
  --lock FILE            lock shared with the other benchmarks                   [BENCH_LOCK_FILE, /tmp/trove-bench.lock]
  --no-netns             run on the host's loopback, not a private network namespace [BENCH_NETNS=0]
  --keep                 keep the work dir (logs, configs)                       [BENCH_KEEP=1]
  -h, --help             this text
Needs: Linux, root (page cache drop, network namespace), /usr/bin/python3 with Debian's
python3-libtorrent, flock (util-linux), free space of about 2 x SIZE under the work dir
plus SIZE under the cache dir.
EOF
}

ORIG_ARGS=("$@")
export TROVE_BENCH_CMDLINE=${TROVE_BENCH_CMDLINE:-"bench/vault.sh${*:+ $*}"}
QUICK=${BENCH_QUICK:-0}
SIZE=${BENCH_SIZE:-}
FILES=${BENCH_FILES:-4}
PIECE=${BENCH_PIECE_LENGTH:-1MiB}
RUNS=${BENCH_RUNS:-}
SEEDERS=${BENCH_SEEDERS:-1}
LEECHERS=${BENCH_LEECHERS:-2}
MANY=${BENCH_MANY_LEECHERS:-4}
CACHE_SIZE=${BENCH_CACHE:-256MiB}
SMALL_CACHE=${BENCH_SMALL_CACHE:-}
CIPHER=${BENCH_CIPHER:-}
TROVE=${TROVE_BIN:-}
CACHE_DIR=${BENCH_CACHE_DIR:-$HOME/.cache/trove-bench}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
DROP=${BENCH_DROP_CACHES:-1}
WAIT_IDLE=${BENCH_WAIT_IDLE:-30}
IDLE_BELOW=${BENCH_IDLE_BELOW:-0.25}
TIMEOUT=${BENCH_TIMEOUT:-300}
NETNS=${BENCH_NETNS:-1}

while (($#)); do
  case $1 in
    --quick) QUICK=1; shift ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --files) FILES=${2:?}; shift 2 ;;
    --piece-length) PIECE=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --seeders) SEEDERS=${2:?}; shift 2 ;;
    --leechers) LEECHERS=${2:?}; shift 2 ;;
    --many-leechers) MANY=${2:?}; shift 2 ;;
    --cache) CACHE_SIZE=${2:?}; shift 2 ;;
    --small-cache) SMALL_CACHE=${2:?}; shift 2 ;;
    --cipher) CIPHER=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    --cache-dir) CACHE_DIR=${2:?}; shift 2 ;;
    --work-dir) WORK_PARENT=${2:?}; shift 2 ;;
    --results-dir) RESULTS_DIR=${2:?}; shift 2 ;;
    --no-drop-caches) DROP=0; shift ;;
    --wait-idle) WAIT_IDLE=${2:?}; shift 2 ;;
    --idle-below) IDLE_BELOW=${2:?}; shift 2 ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --lock) LOCK_FILE=${2:?}; shift 2 ;;
    --no-netns) NETNS=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

if [[ $QUICK == 1 ]]; then
  SIZE=${SIZE:-256MiB}
  RUNS=${RUNS:-3}
fi
SIZE=${SIZE:-1GiB}
RUNS=${RUNS:-5}
to_bytes() { "$PY" "$LIB/units.py" bytes "$1" || die "bad size '$1'"; }
SIZE_BYTES=$(to_bytes "$SIZE")
PIECE_BYTES=$(to_bytes "$PIECE")
CACHE_BYTES=$(to_bytes "$CACHE_SIZE")
if [[ -n $SMALL_CACHE ]]; then
  SMALL_BYTES=$(to_bytes "$SMALL_CACHE")
else
  # A sixteenth of the torrent, in whole MiB (64 MiB for 1 GiB).
  SMALL_BYTES=$(((SIZE_BYTES / 16 + (1 << 20) - 1) >> 20 << 20))
fi
for v in FILES RUNS SEEDERS LEECHERS MANY TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v,,} must be a positive whole number, not '${!v}'"
done
((SIZE_BYTES >= FILES)) || die "--size must be at least --files bytes"
[[ $WAIT_IDLE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--wait-idle must be a number of seconds"
[[ $IDLE_BELOW =~ ^0?\.[0-9]+$|^1(\.0*)?$ ]] || die "--idle-below must be a fraction, like 0.25"

# --- the binary and the tools: before the private network namespace --------------------------
if [[ ${TROVE_BENCH_IN_NETNS:-0} != 1 ]]; then
  tb_need flock
  tb_need_libtorrent
  if [[ -z $TROVE ]]; then
    if [[ -x /tmp/vault-bench/trove ]]; then
      TROVE=/tmp/vault-bench/trove
    else
      TROVE=$REPO/target/release/trove
    fi
  fi
  [[ -x $TROVE ]] || die "no trove binary at $TROVE (build one with cargo build --release, or give --trove PATH)"
  TROVE=$(realpath "$TROVE")
  "$TROVE" vault --help >/dev/null 2>&1 || die "$TROVE has no vault command: it predates vault roots"
  export TROVE_BIN=$TROVE
  [[ $NETNS == 1 ]] && tb_netns_enter "${ORIG_ARGS[@]}"
fi
tb_netns_up
TROVE_SRC=$TROVE

# --- work dir, cleanup ------------------------------------------------------------------------
mkdir -p "$WORK_PARENT" "$RESULTS_DIR" "$CACHE_DIR/payloads"
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-vault.XXXXXX")
chmod 755 "$WORK"
LOGS=$WORK/logs
mkdir -p "$LOGS"
RUNS_JSONL=$WORK/runs.jsonl
: >"$RUNS_JSONL"
DAEMON_PID=""
vault_cleanup() {
  local rc=$?
  set +e
  [[ -n $DAEMON_PID ]] && stop_daemon
  tb_keep_logs "$rc" "$LOGS" "$RUNS_JSONL"
  (exit "$rc")
  tb_cleanup
}
trap vault_cleanup EXIT

# A copy, so that a build elsewhere cannot swap the binary between runs.
cp -- "$TROVE_SRC" "$WORK/trove"
TROVE=$WORK/trove
TROVE_BUILT=$(date -r "$TROVE_SRC" '+%Y-%m-%d %H:%M:%S')
MACHINE=$(tb_machine_json)
PROTOCOL=$(sed -n 's/^pub const PROTOCOL_VERSION: u32 = \([0-9]*\);/\1/p' "$REPO/crates/trove-proto/src/lib.rs")
PROTOCOL=${PROTOCOL:-4}
VPY=("$PY" "$LIB/vault.py" --protocol "$PROTOCOL")

PROBLEMS=()
problem() { PROBLEMS+=("$*"); say "PROBLEM: $*"; }

say "work dir $WORK; network namespace: $([[ $IN_NETNS == 1 ]] && echo private || echo "the host's")"
say "trove: $TROVE_SRC (built $TROVE_BUILT)"

# --- payload (cached), key, seeders -----------------------------------------------------------
PAYLOAD_DIR=$CACHE_DIR/payloads/vault-$SIZE_BYTES-$FILES-$PIECE_BYTES
say "payload: $SIZE in $FILES files, pieces of $PIECE ($PAYLOAD_DIR)"
MAN=$(flock "$LOCK_FILE" "$PY" "$LIB/payload.py" make --dir "$PAYLOAD_DIR" --name trove-bench-vault \
  --size "$SIZE_BYTES" --files "$FILES" --piece-length "$PIECE_BYTES") || die "payload.py make failed"
manifest() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$MAN" "$1"; }
IH=$(manifest info_hash)
TORRENT=$(manifest torrent)

KEY=$WORK/vault.key
"$TROVE" vault keygen "$KEY" >/dev/null || die "trove vault keygen failed"

SEEDER_PIDS=()
PEERS=()
for ((i = 1; i <= SEEDERS; i++)); do
  port=$(tb_free_port)
  "$PY" "$LOOPBACK" seed --port "$port" --torrent "$TORRENT" --save-path "$PAYLOAD_DIR" \
    >"$LOGS/seeder-$i.out" 2>"$LOGS/seeder-$i.err" </dev/null &
  SEEDER_PIDS+=("$!")
  CLEANUP_PIDS+=("$!")
  PEERS+=(--peer "127.0.0.1:$port")
done
# Their initial hash check is heavy: hold the lock meanwhile.
tb_lock
for ((i = 1; i <= SEEDERS; i++)); do
  for t in $(seq 3000); do
    grep -q '^seeding' "$LOGS/seeder-$i.out" && break
    kill -0 "${SEEDER_PIDS[$((i - 1))]}" 2>/dev/null || die "seeder $i exited: $(tail -3 "$LOGS/seeder-$i.err")"
    ((t < 3000)) || die "seeder $i did not start seeding within 300 s"
    sleep 0.1
  done
done
tb_unlock
SEEDER_CSV=$(IFS=,; echo "${SEEDER_PIDS[*]}")
say "$SEEDERS seeder(s) ready"

# --- the daemon ---------------------------------------------------------------------------------
# write_config DIR PORT CACHE_BYTES
write_config() {
  cat >"$1/config.toml" <<EOF
[[roots]]
label = "plain"
path = "$1/plain"
default = true

[[roots]]
label = "vault"
path = "$1/vault"
kind = "vault"
key_file = "$KEY"
${CIPHER:+cipher = \"$CIPHER\"}

[cache]
size = $3

[network]
listen_port = $2
bind = "127.0.0.1"
dht = false
lsd = false
upnp = false
trackers = false
EOF
}

# start_daemon DIR LOG: sets DAEMON_PID, DAEMON_DIR, DAEMON_LOG once it answers on its socket
# and listens for peers.
start_daemon() {
  DAEMON_DIR=$1
  DAEMON_LOG=$2
  rm -f "$DAEMON_DIR/data/trove.sock"
  "$TROVE" --data-dir "$DAEMON_DIR/data" --config "$DAEMON_DIR/config.toml" daemon >"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  CLEANUP_PIDS+=("$DAEMON_PID")
  local t
  for t in $(seq 300); do
    [[ -S $DAEMON_DIR/data/trove.sock ]] && grep -q 'session listening' "$DAEMON_LOG" && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$DAEMON_LOG" >&2
  die "the daemon did not come up (log: $DAEMON_LOG)"
}

# stop_daemon: `trove stop`, up to 15 s to exit, then SIGTERM, then SIGKILL; reaps it.
stop_daemon() {
  local pid=$DAEMON_PID keep=() p
  [[ -n $pid ]] || return 0
  "$TROVE" --data-dir "$DAEMON_DIR/data" --config "$DAEMON_DIR/config.toml" stop >/dev/null 2>&1 || true
  if ! tb_wait_gone "$pid" 15; then
    problem "the daemon (pid $pid) did not exit within 15 s of trove stop: SIGTERM"
    kill "$pid" 2>/dev/null || true
    sleep 3
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  for p in "${CLEANUP_PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  CLEANUP_PIDS=("${keep[@]}")
  DAEMON_PID=""
}

COMMON=(--record-to "$RUNS_JSONL" --info-hash "$IH" --size "$SIZE_BYTES" --drop-caches "$DROP"
  --wait-idle "$WAIT_IDLE" --idle-below "$IDLE_BELOW" --timeout "$TIMEOUT")

# one_root RUN KIND ORDER: download, seed, restart with the small cache, seed-many.
one_root() {
  local run=$1 kind=$2 order=$3 dir port tag
  dir=$WORK/r$run-$kind
  tag=r$run-$kind
  rm -rf "$dir"
  mkdir -p "$dir/data" "$dir/plain" "$dir/vault"
  port=$(tb_free_port)
  write_config "$dir" "$port" "$CACHE_BYTES"
  start_daemon "$dir" "$LOGS/$tag-daemon.log"
  local meta=(--meta "run=$run" --meta "kind=$kind" --meta "order=$order")
  local trove_args=("$TROVE" --data-dir "$dir/data" --config "$dir/config.toml")

  tb_lock
  if ! "${VPY[@]}" download "${COMMON[@]}" "${meta[@]}" --meta phase=download --meta seq=1 \
    --sock "$dir/data/trove.sock" --pid "$DAEMON_PID" --log "$DAEMON_LOG" \
    --seeder-pids "$SEEDER_CSV" --warm "$PAYLOAD_DIR" \
    -- "${trove_args[@]}" add --root "$kind" "${PEERS[@]}" "$TORRENT"; then
    tb_unlock
    problem "run $run, $kind: the download failed (log: $DAEMON_LOG)"
    stop_daemon
    return 0
  fi
  tb_unlock

  # Each seeding phase starts on a restarted daemon (fast resume), so the vault's chunk
  # cache starts empty instead of holding what the download just wrote.
  local phase leechers cache seq=2
  for phase in seed seed-many; do
    if [[ $phase == seed ]]; then leechers=$LEECHERS cache=$CACHE_BYTES; else leechers=$MANY cache=$SMALL_BYTES; fi
    stop_daemon
    write_config "$dir" "$port" "$cache"
    start_daemon "$dir" "$LOGS/$tag-daemon-$phase.log"
    if ! "${VPY[@]}" wait-seeding --sock "$dir/data/trove.sock" --info-hash "$IH" --timeout 120; then
      problem "run $run, $kind: not seeding after the restart before $phase (log: $DAEMON_LOG)"
      continue
    fi
    tb_lock
    "${VPY[@]}" seed "${COMMON[@]}" "${meta[@]}" --meta "phase=$phase" --meta "seq=$seq" \
      --sock "$dir/data/trove.sock" --pid "$DAEMON_PID" --port "$port" --torrent "$TORRENT" \
      --leechers "$leechers" --leech-dir "$dir/leech" --piece-length "$PIECE_BYTES" \
      --warm "$dir/$kind" ||
      problem "run $run, $kind: $phase ($leechers leechers, cache $((cache >> 20)) MiB) failed (log: $DAEMON_LOG)"
    tb_unlock
    seq=$((seq + 1))
  done
  stop_daemon
  rm -rf "$dir"
}

# --- the runs ----------------------------------------------------------------------------------
START=$SECONDS
say "$RUNS runs of vault and plain: download from $SEEDERS seeder(s), seed to $LEECHERS leechers" \
  "(cache $CACHE_SIZE), seed to $MANY leechers (cache $((SMALL_BYTES >> 20)) MiB)"
for ((run = 1; run <= RUNS; run++)); do
  if ((run % 2)); then order=(vault plain); else order=(plain vault); fi
  say "run $run of $RUNS: ${order[0]} first"
  one_root "$run" "${order[0]}" 1
  one_root "$run" "${order[1]}" 2
done
ELAPSED=$((SECONDS - START))

# --- trove's logs: every WARN/ERROR line; ERRORs, and any about the vault, are problems ----------
LOG_LINES=$("$PY" - "$LOGS" <<'EOF'
import collections, glob, json, os, re, sys
count = collections.Counter()
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*-daemon*.log"))):
    for line in open(path, errors="replace"):
        m = re.match(r"^\S+\s+(WARN|ERROR)\s+(.*)$", line.rstrip())
        if not m:
            continue
        msg = re.sub(r"[0-9a-f]{32,40}", "<hash>", m.group(1) + " " + m.group(2))
        msg = re.sub(r"/\S+", "<path>", msg)
        count[msg] += 1
print(json.dumps(count.most_common()))
EOF
)
while IFS= read -r m; do
  [[ -n $m ]] && problem "trove's log: $m"
done < <("$PY" - "$LOG_LINES" <<'EOF'
import json, sys
for m, n in json.loads(sys.argv[1]):
    if m.startswith("ERROR") or any(w in m.lower() for w in ("vault", "chunk", "damaged", "authentic")):
        print("%d x %s" % (n, m[:300]))
EOF
)
grep -q '"ok": false' "$RUNS_JSONL" && problem "some phases failed: see the table"
NOK=$(grep -c '"ok": true' "$RUNS_JSONL" || true)
((NOK == RUNS * 6)) || problem "$NOK of $((RUNS * 6)) phases were recorded as ok"

# --- report ---------------------------------------------------------------------------------------
export V_COMMAND=$TROVE_BENCH_CMDLINE V_MACHINE=$MACHINE V_RUNS=$RUNS V_SIZE=$SIZE_BYTES \
  V_SIZE_TEXT=$SIZE V_FILES=$FILES V_PIECE=$PIECE_BYTES V_PIECE_TEXT=$PIECE V_IH=$IH \
  V_SEEDERS=$SEEDERS V_LEECHERS=$LEECHERS V_MANY=$MANY V_CACHE=$CACHE_BYTES \
  V_SMALL=$SMALL_BYTES V_DROP=$DROP V_WAIT_IDLE=$WAIT_IDLE V_IDLE_BELOW=$IDLE_BELOW \
  V_LOCK=$LOCK_FILE V_TROVE="$TROVE_SRC, built $TROVE_BUILT" V_ELAPSED=$ELAPSED \
  V_LOG_LINES=$LOG_LINES
V_NETNS=$([[ $IN_NETNS == 1 ]] && echo "in a private network namespace (unshare -n)" || echo "on the host's loopback (--no-netns)")
export V_NETNS
# The cipher trove picks when the config does not: the same test as trove's own.
if [[ -n $CIPHER ]]; then
  V_CIPHER="$CIPHER (--cipher)"
elif grep -qw aes /proc/cpuinfo && grep -qw pclmulqdq /proc/cpuinfo; then
  V_CIPHER="aes-256-gcm (trove's choice on this CPU)"
else
  V_CIPHER="xchacha20-poly1305 (trove's choice on this CPU)"
fi
export V_CIPHER
"$PY" - "$WORK/setup.json" "${PROBLEMS[@]+"${PROBLEMS[@]}"}" <<'EOF'
import json, os, sys
import libtorrent
E = os.environ
json.dump({
    "command": E["V_COMMAND"], "machine": json.loads(E["V_MACHINE"]),
    "runs": int(E["V_RUNS"]), "size_bytes": int(E["V_SIZE"]), "size_text": E["V_SIZE_TEXT"],
    "files": int(E["V_FILES"]), "piece_length": int(E["V_PIECE"]), "piece_text": E["V_PIECE_TEXT"],
    "info_hash": E["V_IH"], "seeders": int(E["V_SEEDERS"]), "leechers": int(E["V_LEECHERS"]),
    "many_leechers": int(E["V_MANY"]), "cache_bytes": int(E["V_CACHE"]),
    "small_cache_bytes": int(E["V_SMALL"]), "drop_caches": E["V_DROP"] == "1",
    "wait_idle": float(E["V_WAIT_IDLE"]), "idle_below": float(E["V_IDLE_BELOW"]),
    "lock": E["V_LOCK"], "libtorrent": libtorrent.__version__, "netns_text": E["V_NETNS"],
    "trove_text": E["V_TROVE"], "loadavg_end": " ".join(open("/proc/loadavg").read().split()[:3]),
    "elapsed_s": int(E["V_ELAPSED"]), "problems": sys.argv[2:],
    "log_lines": json.loads(E["V_LOG_LINES"]), "cipher": E["V_CIPHER"],
}, open(sys.argv[1], "w"), indent=1)
EOF
"$PY" "$LIB/vault_report.py" "$RUNS_JSONL" "$WORK/setup.json" "$WORK/result.json" ||
  die "vault_report.py failed (runs kept in $RUNS_JSONL)"
tb_report "$WORK/result.json"
say "the bench took $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
if ((${#PROBLEMS[@]})); then
  say "finished with ${#PROBLEMS[@]} problem(s)"
  exit 1
fi
exit 0
