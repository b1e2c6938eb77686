#!/usr/bin/env bash
# Throughput bench: trove against the rqbit CLI, aria2c, transmission-cli and a libtorrent
# leecher, all downloading the same torrents from the same local libtorrent seeders on
# 127.0.0.1, interleaved run by run. See bench/README.md ("Throughput").
#
#   bench/throughput.sh            # 1 GiB single file + 1 GiB in 1,000 files, 1 and 4 seeders, 3 runs
#   bench/throughput.sh --quick    # 256 MiB, 1 run: to try things out
#   bench/throughput.sh --help
set -Eeuo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
Usage: bench/throughput.sh [options]

Every contender downloads the same v1-only torrents from the same local libtorrent
seeders (127.0.0.1, DHT/LSD/UPnP/NAT-PMP off, no rate limit) with an opentracker for
the clients that find peers through one; runs are interleaved (the order rotates each
run), each one under `flock LOCK`, with the page cache dropped before it. Writes
bench/results/throughput-<date>.md and .json.

Options (environment variable in brackets):
  --quick                256 MiB payloads, 1 run                                [BENCH_QUICK=1]
  --size SIZE            payload size: 1GiB, 256MiB (1024^n), 500MB (1000^n)    [BENCH_SIZE, 1GiB]
  --files N              files in the multi-file payload                        [BENCH_FILES, 1000]
  --piece-length SIZE    piece length of both torrents                          [BENCH_PIECE_LENGTH, 1MiB]
  --runs N               runs of every contender in every scenario (>= 3 for medians) [BENCH_RUNS, 3]
  --payloads LIST        single,multi                                           [BENCH_PAYLOADS]
  --seeders LIST         seeder counts, e.g. 1,4                                [BENCH_SEEDERS, 1,4]
  --contenders LIST      trove-download,trove-daemon,rqbit,aria2c,transmission,libtorrent
                                                                                [BENCH_CONTENDERS]
  --cache-dir DIR        payloads and the rqbit install                         [BENCH_CACHE_DIR, ~/.cache/trove-bench]
  --work-dir DIR         downloads, configs, logs (deleted at the end unless --keep)
                                                                                [BENCH_WORK_DIR, <cache-dir>/work]
  --results-dir DIR      where throughput-<date>.md/.json go                    [BENCH_RESULTS_DIR, bench/results]
  --trove PATH           trove binary (implies --no-build)                      [TROVE_BIN]
  --no-build             do not run `cargo build --release` first               [BENCH_NO_BUILD=1]
  --rqbit PATH           rqbit binary; default: <cache-dir>/rqbit/bin/rqbit, installed with
                         `cargo install rqbit --version RQBIT_VERSION` when missing [RQBIT_BIN]
  --rqbit-version V      rqbit release whose librqbit matches trove's           [RQBIT_VERSION, 9.1.0]
  --no-drop-caches       keep the page cache between runs                       [BENCH_DROP_CACHES=0]
  --wait-idle SECS       before each run wait up to SECS for the CPUs to be quiet [BENCH_WAIT_IDLE, 120]
  --idle-below FRAC      "quiet": busy fraction of all CPUs below FRAC          [BENCH_IDLE_BELOW, 0.25]
  --timeout SECS         give up on one download after SECS                     [BENCH_TIMEOUT, 900]
  --lock FILE            lock shared with the other benchmarks                  [BENCH_LOCK, /tmp/trove-bench.lock]
  --no-netns             do not run in a private network namespace              [BENCH_NETNS=0]
  --perf                 after the timed runs, one extra run of trove-download, trove-daemon and rqbit
                         per scenario under `perf record -e cpu-clock` (reports saved
                         next to the results; not counted in the table)          [BENCH_PERF=1]
  --keep                 keep the work dir                                      [BENCH_KEEP=1]
  -h, --help             this text
EOF
}

die() { echo "throughput.sh: $*" >&2; exit 1; }
say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
LIB=$SCRIPT_DIR/lib
LOOPBACK=$REPO/tools/loopback/loopback.py # local peers, opentracker, free ports
PY=/usr/bin/python3
ORIG_ARGS=("$@")
# The command line as typed, for the results (the re-exec below adds to it).
export TROVE_BENCH_CMDLINE=${TROVE_BENCH_CMDLINE:-"bench/throughput.sh${*:+ $*}"}

QUICK=${BENCH_QUICK:-0}
SIZE=${BENCH_SIZE:-}
FILES=${BENCH_FILES:-1000}
PIECE=${BENCH_PIECE_LENGTH:-1MiB}
RUNS=${BENCH_RUNS:-}
PAYLOADS=${BENCH_PAYLOADS:-single,multi}
SEEDERS=${BENCH_SEEDERS:-1,4}
CONTENDERS=${BENCH_CONTENDERS:-trove-download,trove-daemon,rqbit,aria2c,transmission,libtorrent}
CACHE=${BENCH_CACHE_DIR:-$HOME/.cache/trove-bench}
WORK_PARENT=${BENCH_WORK_DIR:-}
RESULTS=${BENCH_RESULTS_DIR:-$REPO/bench/results}
TROVE=${TROVE_BIN:-}
NO_BUILD=${BENCH_NO_BUILD:-0}
RQBIT=${RQBIT_BIN:-}
RQBIT_VERSION=${RQBIT_VERSION:-9.1.0}
DROP=${BENCH_DROP_CACHES:-1}
WAIT_IDLE=${BENCH_WAIT_IDLE:-120}
IDLE_BELOW=${BENCH_IDLE_BELOW:-0.25}
TIMEOUT=${BENCH_TIMEOUT:-900}
LOCK=${BENCH_LOCK:-/tmp/trove-bench.lock}
NETNS=${BENCH_NETNS:-1}
PERF=${BENCH_PERF:-0}
KEEP=${BENCH_KEEP:-0}

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --size) SIZE=$2; shift ;;
    --files) FILES=$2; shift ;;
    --piece-length) PIECE=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --payloads) PAYLOADS=$2; shift ;;
    --seeders) SEEDERS=$2; shift ;;
    --contenders) CONTENDERS=$2; shift ;;
    --cache-dir) CACHE=$2; shift ;;
    --work-dir) WORK_PARENT=$2; shift ;;
    --results-dir) RESULTS=$2; shift ;;
    --trove) TROVE=$2; shift ;;
    --no-build) NO_BUILD=1 ;;
    --rqbit) RQBIT=$2; shift ;;
    --rqbit-version) RQBIT_VERSION=$2; shift ;;
    --no-drop-caches) DROP=0 ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    --idle-below) IDLE_BELOW=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --lock) LOCK=$2; shift ;;
    --no-netns) NETNS=0 ;;
    --perf) PERF=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
  shift
done

if [[ $QUICK == 1 ]]; then
  SIZE=${SIZE:-256MiB}
  RUNS=${RUNS:-1}
fi
SIZE=${SIZE:-1GiB}
RUNS=${RUNS:-3}

to_bytes() { "$PY" "$LIB/units.py" bytes "$1" || die "bad size '$1'"; }
SIZE_BYTES=$(to_bytes "$SIZE")
PIECE_BYTES=$(to_bytes "$PIECE")
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
[[ $FILES =~ ^[1-9][0-9]*$ ]] || die "--files must be a positive number"
IFS=, read -r -a PAYLOAD_LIST <<<"$PAYLOADS"
IFS=, read -r -a SEEDER_LIST <<<"$SEEDERS"
IFS=, read -r -a CONTENDER_LIST <<<"$CONTENDERS"
for c in "${CONTENDER_LIST[@]}"; do
  case $c in trove-download|trove-daemon|rqbit|aria2c|transmission|libtorrent) ;;
    *) die "unknown contender '$c'" ;; esac
done
for p in "${PAYLOAD_LIST[@]}"; do
  case $p in single|multi) ;; *) die "unknown payload '$p' (single, multi)" ;; esac
done
for s in "${SEEDER_LIST[@]}"; do [[ $s =~ ^[1-9][0-9]*$ ]] || die "bad seeder count '$s'"; done
has() { local x; for x in "${CONTENDER_LIST[@]}"; do [[ $x == "$1" ]] && return 0; done; return 1; }

# ---------------------------------------------------------------------------------------
# Tools, build, rqbit install: before entering the private network namespace (they may
# need the network).
# ---------------------------------------------------------------------------------------
if [[ ${TROVE_BENCH_IN_NETNS:-0} != 1 ]]; then
  "$PY" -c 'import libtorrent' 2>/dev/null ||
    die "/usr/bin/python3 cannot import libtorrent: apt-get install python3-libtorrent"
  command -v opentracker >/dev/null || die "opentracker missing: apt-get install opentracker"
  command -v flock >/dev/null || die "flock missing (util-linux)"
  has aria2c && { command -v aria2c >/dev/null || die "aria2c missing: apt-get install aria2"; }
  has transmission && { command -v transmission-cli >/dev/null ||
    die "transmission-cli missing: apt-get install transmission-cli"; }
  mkdir -p "$CACHE"
  if [[ -z $TROVE && $NO_BUILD != 1 ]]; then
    say "cargo build --release"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build failed"
  fi
  TROVE=${TROVE:-$REPO/target/release/trove}
  [[ -x $TROVE ]] || die "no trove binary at $TROVE"
  if has rqbit && [[ -z $RQBIT ]]; then
    RQBIT=$CACHE/rqbit/bin/rqbit
    if ! [[ -x $RQBIT ]] || ! "$RQBIT" --version 2>/dev/null | grep -q "$RQBIT_VERSION"; then
      say "installing rqbit $RQBIT_VERSION into $CACHE/rqbit (compiles for ~10 min)"
      cargo install rqbit --version "$RQBIT_VERSION" --locked --root "$CACHE/rqbit" \
        >"$CACHE/rqbit-install.log" 2>&1 || die "cargo install rqbit failed; see $CACHE/rqbit-install.log"
    fi
  fi
  export TROVE_BIN=$TROVE RQBIT_BIN=${RQBIT:-}
  if [[ $NETNS == 1 ]] && unshare -n true 2>/dev/null; then
    export TROVE_BENCH_IN_NETNS=1
    exec unshare -n -- "$0" "${ORIG_ARGS[@]}" --no-build
  elif [[ $NETNS == 1 ]]; then
    say "cannot create a private network namespace (not root?): running on the host's loopback"
  fi
fi
TROVE=${TROVE:-${TROVE_BIN:-$REPO/target/release/trove}}
RQBIT=${RQBIT:-${RQBIT_BIN:-}}
IN_NETNS=${TROVE_BENCH_IN_NETNS:-0}
if [[ $IN_NETNS == 1 ]]; then
  ip link set lo up || die "cannot bring up loopback in the network namespace"
fi

# ---------------------------------------------------------------------------------------
# Work dir and cleanup
# ---------------------------------------------------------------------------------------
WORK_PARENT=${WORK_PARENT:-$CACHE/work}
mkdir -p "$WORK_PARENT" "$RESULTS" "$CACHE/payloads"
WORK=$(mktemp -d "$WORK_PARENT/run.XXXXXX")
chmod 755 "$WORK"
RUNS_JSONL=$WORK/runs.jsonl
PERF_JSONL=$WORK/perf-runs.jsonl
LOGS=$WORK/logs
mkdir -p "$LOGS"
: >"$RUNS_JSONL"
PIDS=()          # everything we started in the background, by pid
SEEDER_PIDS=()
TRACKER_PID=

kill_pids() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  ((${#PIDS[@]})) && kill_pids "${PIDS[@]}"
  if [[ $KEEP == 1 || $rc != 0 ]]; then
    say "work dir kept: $WORK"
    # Payload-sized leftovers are not worth keeping.
    rm -rf "$WORK"/out "$WORK"/run 2>/dev/null || true
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { "$PY" "$LOOPBACK" free-port; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Runs "$@" holding the bench lock (for unmeasured but heavy steps).
locked() { flock "$LOCK" "$@"; }

# ---------------------------------------------------------------------------------------
# Environment, limits
# ---------------------------------------------------------------------------------------
say "work dir $WORK; network namespace: $([[ $IN_NETNS == 1 ]] && echo private || echo host)"
"$PY" "$LIB/throughput_report.py" env --trove "$TROVE" --rqbit "${RQBIT:-}" --work-dir "$WORK" \
  --netns "$IN_NETNS" >"$WORK/env.json"
say "machine limits (SHA-1 of one core, disk write, loopback TCP)"
locked "$PY" "$LIB/limits.py" --work-dir "$WORK" --bytes "$SIZE_BYTES" >"$WORK/limits.json"
cat "$WORK/limits.json" >&2

# ---------------------------------------------------------------------------------------
# Payloads (cached), tracker, seeders
# ---------------------------------------------------------------------------------------
payload_dir() { # kind -> cache dir
  local kind=$1 files=1
  [[ $kind == multi ]] && files=$FILES
  echo "$CACHE/payloads/$kind-$SIZE_BYTES-$files-$PIECE_BYTES"
}
make_payload() { # kind -> manifest path
  local kind=$1 files=1 dir
  [[ $kind == multi ]] && files=$FILES
  dir=$(payload_dir "$kind")
  locked "$PY" "$LIB/payload.py" make --dir "$dir" --name "trove-bench-$kind" \
    --size "$SIZE_BYTES" --files "$files" --piece-length "$PIECE_BYTES"
}

start_tracker() { # info_hash -> sets TRACKER_PORT, TRACKER_PID
  local ih=$1 tdir=$WORK/tracker
  rm -rf "$tdir"
  TRACKER_PORT=$(free_port)
  # It writes the whitelist and execs opentracker: $! is opentracker's pid.
  "$PY" "$LOOPBACK" opentracker --dir "$tdir" --port "$TRACKER_PORT" --allow "$ih" \
    >"$LOGS/opentracker.log" 2>&1 </dev/null &
  TRACKER_PID=$!
  PIDS+=("$TRACKER_PID")
  for _ in $(seq 100); do port_open "$TRACKER_PORT" && return 0; sleep 0.1; done
  die "opentracker did not come up; $(tail -5 "$LOGS/opentracker.log")"
}

stop_scenario() {
  local p keep=()
  ((${#SEEDER_PIDS[@]})) && kill_pids "${SEEDER_PIDS[@]}"
  [[ -n $TRACKER_PID ]] && kill_pids "$TRACKER_PID"
  for p in "${PIDS[@]}"; do
    [[ " ${SEEDER_PIDS[*]} $TRACKER_PID " == *" $p "* ]] || keep+=("$p")
  done
  PIDS=("${keep[@]}")
  SEEDER_PIDS=()
  TRACKER_PID=
}

start_seeders() { # count torrent payload_dir -> SEEDER_PIDS, SEEDER_ADDRS
  local n=$1 torrent=$2 pdir=$3 i port
  SEEDER_ADDRS=()
  for ((i = 1; i <= n; i++)); do
    port=$(free_port)
    "$PY" "$LOOPBACK" seed --port "$port" --torrent "$torrent" --save-path "$pdir" \
      --dial-file "$WORK/dial" >"$LOGS/seeder-$i.out" 2>"$LOGS/seeder-$i.err" </dev/null &
    SEEDER_PIDS+=("$!")
    PIDS+=("$!")
    SEEDER_ADDRS+=("127.0.0.1:$port")
  done
  # Their initial hash check is heavy: hold the lock meanwhile.
  locked bash -c '
    for i in $(seq 1 '"$n"'); do
      for t in $(seq 6000); do
        grep -q "^seeding" "'"$LOGS"'/seeder-$i.out" && break
        [ "$t" = 6000 ] && exit 1
        sleep 0.1
      done
    done' || die "seeders did not start seeding; $(cat "$LOGS"/seeder-*.err | tail -5)"
}

# ---------------------------------------------------------------------------------------
# Contenders
# ---------------------------------------------------------------------------------------
OUT=$WORK/out
RUNDIR=$WORK/run

write_trove_config() {
  cat >"$WORK/trove.toml" <<EOF
[[roots]]
label = "bench"
path = "$OUT"
default = true

[network]
listen_port = 0
bind = "127.0.0.1"
dht = false
lsd = false
upnp = false
trackers = true
EOF
}

# contender run scenario verify manifest torrent jsonl [wrapper...]
run_contender() {
  local c=$1 run=$2 scen=$3 verify=$4 man=$5 torrent=$6 jsonl=$7
  shift 7
  local wrap=("$@") lp peers=() a pre='' cleanup=("$RUNDIR") dial=() cmd
  lp=$(free_port)
  for a in "${SEEDER_ADDRS[@]}"; do peers+=(--peer "$a"); done
  rm -rf "$RUNDIR"; mkdir -p "$RUNDIR"
  case $c in
    trove-download)
      cmd=("$TROVE" --config "$WORK/trove.toml" --data-dir "$RUNDIR/data"
           download --output "$OUT" "${peers[@]}" "$torrent") ;;
    trove-daemon)
      pre=$(printf '%q ' "$TROVE" --config "$WORK/trove.toml" --data-dir "$RUNDIR/data" \
              add "${peers[@]}" "$torrent")
      cmd=("$TROVE" --config "$WORK/trove.toml" --data-dir "$RUNDIR/data"
           daemon --exit-when-complete) ;;
    rqbit)
      cmd=("$RQBIT" --disable-dht --disable-dht-persistence --disable-lsd
           --disable-upnp-port-forward --listen-ip 127.0.0.1 --listen-port "$lp"
           --announce-port "$lp" --ipv4-only
           download --disable-http-api --exit-on-finish --output-folder "$OUT"
           --initial-peers "$(IFS=,; echo "${SEEDER_ADDRS[*]}")" "$torrent") ;;
    aria2c)
      cmd=(aria2c --dir="$OUT" --enable-dht=false --enable-dht6=false
           --bt-enable-lpd=false --enable-peer-exchange=false --seed-time=0
           --file-allocation=none --listen-port="$lp" --disable-ipv6=true
           --summary-interval=0 --console-log-level=warn --allow-overwrite=true
           --auto-file-renaming=false --bt-save-metadata=false "$torrent") ;;
    transmission)
      mkdir -p "$RUNDIR/tr"
      cat >"$RUNDIR/tr/settings.json" <<EOF
{
  "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
  "port-forwarding-enabled": false, "peer-port": $lp, "peer-port-random-on-start": false,
  "bind-address-ipv4": "127.0.0.1", "speed-limit-down-enabled": false,
  "speed-limit-up-enabled": false, "alt-speed-enabled": false, "ratio-limit-enabled": false,
  "encryption": 0, "download-dir": "$OUT", "incomplete-dir-enabled": false,
  "rename-partial-files": false, "preallocation": 0, "message-level": 1
}
EOF
      # transmission-cli seeds forever: the finish script stops it (SIGINT, a clean exit).
      printf '#!/bin/sh\nkill -INT "$(cat %q)"\n' "$RUNDIR/tr.pid" >"$RUNDIR/finish.sh"
      chmod 755 "$RUNDIR/finish.sh"
      cmd=(sh -c 'echo $$ >"$0"; exec "$@"' "$RUNDIR/tr.pid"
           transmission-cli -g "$RUNDIR/tr" -w "$OUT" -p "$lp" -M -D -U -et
           -f "$RUNDIR/finish.sh" "$torrent")
      # It ignores 127.x peers from the tracker: the seeders dial it.
      dial=(--dial-port "$lp" --dial-file "$WORK/dial") ;;
    libtorrent)
      cmd=("$PY" "$LOOPBACK" leech --torrent "$torrent" --save-path "$OUT" --port "$lp"
           "${peers[@]}") ;;
  esac
  local sp
  sp=$(IFS=,; echo "${SEEDER_PIDS[*]}")
  flock "$LOCK" "$PY" "$LIB/measure.py" --record-to "$jsonl" --manifest "$man" \
    --out "$OUT" --log "$LOGS/$scen-$c-$run.log" \
    --meta "contender=$c" --meta "scenario=$scen" --meta "run=$run" \
    --meta "payload=${scen%%-*}" --meta "seeders=${#SEEDER_PIDS[@]}" \
    ${pre:+--pre "$pre"} --cleanup "$RUNDIR" --seeder-pids "$sp" \
    --warm "$(dirname "$man")" --drop-caches "$DROP" --wait-idle "$WAIT_IDLE" \
    --idle-below "$IDLE_BELOW" --timeout "$TIMEOUT" --verify "$verify" "${dial[@]}" \
    -- "${wrap[@]}" "${cmd[@]}" || say "  $c failed (see $LOGS/$scen-$c-$run.log)"
}

# ---------------------------------------------------------------------------------------
# Main loop: payload x seeders, runs interleaved, order rotating
# ---------------------------------------------------------------------------------------
write_trove_config
START=$(date +%s)
nc=${#CONTENDER_LIST[@]}
for kind in "${PAYLOAD_LIST[@]}"; do
  say "payload $kind: $SIZE ($([[ $kind == multi ]] && echo "$FILES files" || echo "1 file")), pieces $PIECE"
  MAN=$(make_payload "$kind")
  IH=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["info_hash"])' "$MAN")
  TORRENT_SRC=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["torrent"])' "$MAN")
  for ns in "${SEEDER_LIST[@]}"; do
    scen="$kind-${ns}s"
    say "scenario $scen: opentracker + $ns seeder(s)"
    start_tracker "$IH"
    TORRENT=$WORK/$scen.torrent
    "$PY" "$LIB/payload.py" announce --torrent "$TORRENT_SRC" --out "$TORRENT" \
      --url "http://127.0.0.1:$TRACKER_PORT/announce"
    start_seeders "$ns" "$TORRENT" "$(payload_dir "$kind")"
    for ((run = 1; run <= RUNS; run++)); do
      for ((k = 0; k < nc; k++)); do
        c=${CONTENDER_LIST[$(((k + run - 1) % nc))]}
        verify=sizes; [[ $run == 1 ]] && verify=full
        run_contender "$c" "$run" "$scen" "$verify" "$MAN" "$TORRENT" "$RUNS_JSONL"
      done
    done
    if [[ $PERF == 1 ]] && command -v perf >/dev/null; then
      for c in trove-download trove-daemon rqbit; do
        has "$c" || continue
        say "  profiling $c ($scen) with perf record -e cpu-clock"
        pd=$WORK/perf-$scen-$c.data
        run_contender "$c" perf "$scen" sizes "$MAN" "$TORRENT" "$PERF_JSONL" \
          perf record -e cpu-clock -F 999 -g -o "$pd" --
        # Flat profiles: by shared object, then by symbol (self time, cpu-clock samples).
        { perf report -i "$pd" --stdio --no-children --sort dso -g none --percent-limit 0.5 2>/dev/null
          perf report -i "$pd" --stdio --no-children --sort dso,sym -g none --percent-limit 0.25 2>/dev/null
        } | grep -v '^$' | head -200 >"$WORK/perf-$scen-$c.txt" || true
        [[ $KEEP == 1 ]] || rm -f "$pd"
      done
    fi
    stop_scenario
  done
done
ELAPSED=$(($(date +%s) - START))

# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------
STAMP=$(date +%Y-%m-%d-%H%M)
MD=$RESULTS/throughput-$STAMP.md
JSON=$RESULTS/throughput-$STAMP.json
CMDLINE=$TROVE_BENCH_CMDLINE
"$PY" "$LIB/throughput_report.py" report --runs "$RUNS_JSONL" --env "$WORK/env.json" \
  --limits "$WORK/limits.json" --command "$CMDLINE" --elapsed "$ELAPSED" \
  --size "$SIZE_BYTES" --files "$FILES" --piece-length "$PIECE_BYTES" --runs-per "$RUNS" \
  --drop-caches "$DROP" --md "$MD" --json "$JSON"
if [[ $PERF == 1 ]]; then
  mkdir -p "$RESULTS/throughput-$STAMP-perf"
  cp "$WORK"/perf-*.txt "$RESULTS/throughput-$STAMP-perf/" 2>/dev/null || true
  [[ -s $PERF_JSONL ]] && cp "$PERF_JSONL" "$RESULTS/throughput-$STAMP-perf/runs.jsonl"
fi
cat "$MD"
say "results: $MD, $JSON ($((ELAPSED / 60)) min $((ELAPSED % 60)) s)"
grep -q '"ok": false' "$RUNS_JSONL" && { say "some runs failed: see the table"; exit 1; }
exit 0
