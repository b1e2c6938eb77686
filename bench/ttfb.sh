#!/usr/bin/env bash
# Time to first byte at a random offset of a file still downloading from one seeder:
# trove through `trove mount`, trove's HTTP stream, btfs (libtorrent's FUSE filesystem) and
# rqbit's HTTP stream, on the same swarm, side by side in one run, runs interleaved (the
# order rotates each run). Writes bench/results/ttfb-<date>.md and .json.
#
# TTFB: from the moment the torrent is given to the client (the `trove add` call, rqbit's
# POST /torrents, the exec of btfs; the daemons are up and idle before the clock starts) until
# the first byte at the offset has been read (a 64 KiB pread through the mount returning; the
# first byte of the body of a GET with `Range: bytes=OFFSET-`). Each run starts every
# contender fresh: a new daemon on a new data dir, nothing downloaded. One libtorrent seeder
# (tools/loopback, via lib/swarm.py) capped at --rate, opentracker on 127.0.0.1 the only way
# the clients find it; everything in a private network namespace (loopback only). The offset
# is drawn uniformly from the middle 80% of the file, the same for every contender within a
# run (BENCH_SEED seeds the draw). A read that gets nothing within --timeout is recorded as
# a timeout. The seeder has sent nothing for --settle seconds (default 3) when each clock
# starts: libtorrent's rate limiter saves up to 3 s of unused quota, and this gives every
# contender the same allowance (a first burst of up to 3 x --rate at loopback speed).
# With --after S, the read starts S seconds after the torrent was given, the download under
# way (the mount's file opened before), and the clock runs from the read's start: how fast
# each client puts a far piece ahead of the pieces it was already fetching.
#
#   bench/ttfb.sh [--runs N] [--size BYTES] [--rate BYTES_PER_SEC] [--trove PATH]
#                 [--contenders trove-mount,trove-http,btfs,rqbit-http] [--timeout S]
#                 [--piece-length BYTES] [--settle S] [--after S] [--rqbit PATH]
#                 [--no-netns] [--keep]
#   defaults: 5 runs, 268435456 bytes (256 MiB), 2097152 B/s (2 MiB/s), 262144-byte pieces,
#   120 s timeout, 3 s settle, read at once (--after 0), every contender. With --keep, each client's log is kept under
#   the work dir's logs/; RUST_LOG=info,librqbit=debug (inherited by trove and rqbit) then
#   shows when the seeder's bitfield came and when the read's piece was asked for.
#
# Environment: BENCH_RUNS, BENCH_SIZE, BENCH_RATE, TROVE_BIN, BENCH_CONTENDERS, BENCH_TIMEOUT,
# BENCH_PIECE_LENGTH, BENCH_SETTLE, BENCH_AFTER, BENCH_SEED (default 1), RQBIT_BIN, BENCH_NETNS=0, BENCH_KEEP=1.
# Needs root (network namespace, FUSE mounts), /dev/fuse, fuse3, /usr/bin/python3 with
# python3-libtorrent, opentracker, btfs (apt-get install btfs), and rqbit 9.1.0 (installed
# into ~/.cache/trove-bench/rqbit with cargo as bench/throughput.sh does, when missing).
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=ttfb # read by lib/common.sh
# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

ORIG_ARGS=("$@")
export TROVE_BENCH_CMDLINE=${TROVE_BENCH_CMDLINE:-"bench/ttfb.sh${*:+ $*}"}
RUNS=${BENCH_RUNS:-5}
SIZE=${BENCH_SIZE:-268435456}
RATE=${BENCH_RATE:-2097152}
PIECE=${BENCH_PIECE_LENGTH:-262144}
LENGTH=65536
TIMEOUT=${BENCH_TIMEOUT:-120}
SETTLE=${BENCH_SETTLE:-3}
AFTER=${BENCH_AFTER:-0}
SEED=${BENCH_SEED:-1}
CONTENDERS=${BENCH_CONTENDERS:-trove-mount,trove-http,btfs,rqbit-http}
TROVE=${TROVE_BIN:-}
RQBIT=${RQBIT_BIN:-}
RQBIT_VERSION=9.1.0
CACHE=${BENCH_CACHE_DIR:-$HOME/.cache/trove-bench}
NETNS=${BENCH_NETNS:-1}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --rate) RATE=${2:?}; shift 2 ;;
    --piece-length) PIECE=${2:?}; shift 2 ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --settle) SETTLE=${2:?}; shift 2 ;;
    --after) AFTER=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    --rqbit) RQBIT=${2:?}; shift 2 ;;
    --contenders) CONTENDERS=${2:?}; shift 2 ;;
    --no-netns) NETNS=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,36p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
for v in RUNS SIZE RATE PIECE TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "${v,,} must be a positive whole number, not '${!v}'"
done
[[ $SETTLE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--settle must be a number of seconds, not '$SETTLE'"
[[ $AFTER =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--after must be a number of seconds, not '$AFTER'"
IFS=, read -r -a CLIST <<<"$CONTENDERS"
for c in "${CLIST[@]}"; do
  case $c in trove-mount | trove-http | btfs | rqbit-http) ;; *) die "unknown contender '$c'" ;; esac
done
has() { [[ ",$CONTENDERS," == *",$1,"* ]]; }

# --- tools, and the rqbit install: before the private network namespace (cargo needs the
# network) --------------------------------------------------------------------------------
if [[ ${TROVE_BENCH_IN_NETNS:-0} != 1 ]]; then
  tb_need_libtorrent
  tb_need opentracker curl
  command -v fusermount3 >/dev/null || die "fusermount3 is missing: install fuse3"
  [[ -e /dev/fuse ]] || die "/dev/fuse is missing: this machine cannot mount FUSE filesystems"
  has btfs && { command -v btfs >/dev/null || die "btfs is missing: apt-get install btfs"; }
  if has trove-mount || has trove-http; then
    [[ -n $TROVE ]] || tb_build
    "$TROVE" --version >/dev/null || die "$TROVE --version fails"
  fi
  if has rqbit-http && [[ -z $RQBIT ]]; then
    RQBIT=$CACHE/rqbit/bin/rqbit
    if ! [[ -x $RQBIT ]] || ! "$RQBIT" --version 2>/dev/null | grep -q "$RQBIT_VERSION"; then
      say "installing rqbit $RQBIT_VERSION into $CACHE/rqbit (compiles for ~10 min)"
      mkdir -p "$CACHE"
      cargo install rqbit --version "$RQBIT_VERSION" --locked --root "$CACHE/rqbit" \
        >"$CACHE/rqbit-install.log" 2>&1 || die "cargo install rqbit failed; see $CACHE/rqbit-install.log"
    fi
  fi
  export TROVE_BIN=${TROVE:-} RQBIT_BIN=${RQBIT:-}
  if [[ $NETNS == 1 ]]; then
    unshare -n true 2>/dev/null || die "cannot make a private network namespace (not root?); --no-netns runs on the host's loopback"
    export TROVE_BENCH_IN_NETNS=1
    exec unshare -n -- "$0" "${ORIG_ARGS[@]}"
  fi
fi
IN_NETNS=${TROVE_BENCH_IN_NETNS:-0}
if [[ $IN_NETNS == 1 ]]; then
  ip link set lo up || die "cannot bring up loopback in the network namespace"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trove-bench-ttfb.XXXXXX")
chmod 755 "$WORK"
RUN=$WORK/run       # the current contender's state, made anew for each
MNT=$RUN/mnt
CLIENT_PID=""       # the current contender's daemon (or btfs)
MEASURE_PID=""      # the timed read under way
RUNS_JSONL=$WORK/runs.jsonl
: >"$RUNS_JSONL"
TROVE_ORIG=${TROVE:-}
if [[ -n $TROVE ]]; then
  # A copy, so that a build elsewhere cannot swap the binary between runs.
  cp "$TROVE" "$WORK/trove"
  TROVE=$WORK/trove
fi

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it and forgets it.
stop_pid() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null || true
  if ! tb_wait_gone "$pid" 5; then
    say "pid $pid ignored SIGTERM for 5 s: SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  for p in "${CLEANUP_PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  CLEANUP_PIDS=("${keep[@]}")
}
unmount() {
  if mountpoint -q "$MNT" 2>/dev/null; then
    fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || say "could not unmount $MNT"
  fi
  return 0
}
stop_client() {
  if [[ -n $MEASURE_PID ]]; then
    kill "$MEASURE_PID" 2>/dev/null || true
    wait "$MEASURE_PID" 2>/dev/null || true
    MEASURE_PID=""
  fi
  # The mount first: a FUSE server with a read in flight may not stop on SIGTERM.
  unmount
  if [[ -n $CLIENT_PID ]]; then
    stop_pid "$CLIENT_PID"
    CLIENT_PID=""
  fi
}
ttfb_cleanup() {
  local rc=$?
  set +e
  stop_client
  (exit "$rc")
  tb_cleanup
}
trap ttfb_cleanup EXIT

# --- the swarm: payload, tracker, seeder ---------------------------------------------------
say "work dir $WORK; network namespace: $([[ $IN_NETNS == 1 ]] && echo private || echo "the host's")"
TRACKER_PORT=$(tb_free_port)
ANNOUNCE=http://127.0.0.1:$TRACKER_PORT/announce
say "making a $SIZE-byte torrent, $PIECE-byte pieces, announcing to $ANNOUNCE"
"$PY" "$LIB/swarm.py" make --dir "$WORK/made" --count 1 --size "$SIZE" --piece-length "$PIECE" \
  --names plain --tracker "$ANNOUNCE" >/dev/null || die "swarm.py make failed"
TORRENT=$WORK/made/torrents/0000.torrent
NAME=bench-0000.bin
PAYLOAD=$WORK/made/payload/$NAME
IH=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["info_hash"])' "$WORK/made/torrents.json")
tb_tracker_start "$WORK/tracker" "$TRACKER_PORT" "$WORK/made/torrents.json"
tb_seeder_start "$WORK/made" "$RATE"
say "seeder on 127.0.0.1:$SEEDER_PORT at $RATE B/s, opentracker on $TRACKER_PORT"
LAST_STOP=$(tb_now) # when the seeder last had a client
mapfile -t OFFSETS < <("$PY" "$LIB/ttfb.py" offsets --seed "$SEED" --size "$SIZE" --runs "$RUNS" --length "$LENGTH")
((${#OFFSETS[@]} == RUNS)) || die "could not draw the offsets"

# --- the contenders --------------------------------------------------------------------------

# wait_for DESC SECONDS CMD...: polls CMD every 50 ms until it succeeds; fails (saying why
# in WAIT_ERR) after SECONDS, or at once when the current client exits.
WAIT_ERR=""
wait_for() {
  local desc=$1 secs=$2 end
  shift 2
  end=$(($(date +%s) + secs))
  until "$@" 2>/dev/null; do
    if [[ -n $CLIENT_PID ]] && ! kill -0 "$CLIENT_PID" 2>/dev/null; then
      WAIT_ERR="the client exited while waiting for $desc: $(tail -c 400 "$RUN"/*.log 2>/dev/null | tr '\n' ' ')"
      return 1
    fi
    if (($(date +%s) >= end)); then
      WAIT_ERR="timed out after ${secs}s waiting for $desc: $(tail -c 400 "$RUN"/*.log 2>/dev/null | tr '\n' ' ')"
      return 1
    fi
    sleep 0.05
  done
}
log_has() { grep -q -- "$2" "$1"; }
http_up() { curl -sf -o /dev/null --max-time 2 "$1"; }
http_answers() { curl -s -o /dev/null --max-time 2 "$1"; } # any status

# trove_up: a fresh `trove daemon` on $RUN/env (API on TCP), idle. Sets CLIENT_PID, API_PORT.
trove_up() {
  local env=$RUN/env
  API_PORT=$(tb_free_port)
  tb_env "$env" "$(tb_free_port)" true
  cat >>"$env/config.toml" <<EOF

[api]
listen = "127.0.0.1:$API_PORT"

[mount]
read_timeout_secs = $((TIMEOUT + 60))
EOF
  "$TROVE" --data-dir "$env/data" --config "$env/config.toml" daemon 2>"$RUN/trove.log" &
  CLIENT_PID=$!
  CLEANUP_PIDS+=("$CLIENT_PID")
  # Its last start-up line comes once the store is restored (nothing to restore here).
  wait_for "trove daemon to come up" 60 log_has "$RUN/trove.log" "trove's API listens on" &&
    wait_for "trove's API" 30 http_answers "http://127.0.0.1:$API_PORT/"
}

# rqbit_up: a fresh `rqbit server start` on $RUN, HTTP API on TCP, idle. Sets CLIENT_PID, API_PORT.
rqbit_up() {
  local lp
  API_PORT=$(tb_free_port)
  lp=$(tb_free_port)
  mkdir -p "$RUN/rqbit-out" "$RUN/rqbit-state"
  "$RQBIT" --disable-dht --disable-dht-persistence --disable-lsd --disable-upnp-port-forward \
    --listen-ip 127.0.0.1 --listen-port "$lp" --announce-port "$lp" --ipv4-only \
    --http-api-listen-addr "127.0.0.1:$API_PORT" \
    server start --persistence-location "$RUN/rqbit-state" "$RUN/rqbit-out" \
    >"$RUN/rqbit.log" 2>&1 &
  CLIENT_PID=$!
  CLEANUP_PIDS+=("$CLIENT_PID")
  wait_for "rqbit's HTTP API" 60 http_up "http://127.0.0.1:$API_PORT/"
}

# record_error CONTENDER RUN OFFSET MESSAGE: the run's line when the client could not even
# be set up (the bench goes on; the results say why).
record_error() {
  "$PY" -c 'import json,sys; print(json.dumps({"contender": sys.argv[1], "run": int(sys.argv[2]), "offset": int(sys.argv[3]), "length": 0, "status": "error", "ttfb_s": None, "give_s": None, "visible_s": None, "len_s": None, "error": sys.argv[4]}))' \
    "$@" >>"$RUNS_JSONL"
}

# measure CONTENDER RUN OFFSET ARGS...: the timed part (lib/ttfb.py measure); appends its
# JSON line to RUNS_JSONL, or an error line if it gave none.
measure() {
  local c=$1 run=$2 off=$3 line
  shift 3
  # In the background and waited for: a signal to the bench is then handled at once.
  timeout -k 5 $((TIMEOUT + 60 + ${AFTER%.*})) "$PY" "$LIB/ttfb.py" measure --contender "$c" --run "$run" \
    --offset "$off" --length "$LENGTH" --timeout "$TIMEOUT" --expect "$PAYLOAD" --after "$AFTER" \
    --not-before "$(awk -v a="$LAST_STOP" -v b="$SETTLE" 'BEGIN {printf "%.3f", a + b}')" "$@" \
    >"$RUN/measure.out" 2>>"$RUN/measure.err" &
  MEASURE_PID=$!
  wait "$MEASURE_PID" || true
  MEASURE_PID=""
  line=$(head -1 "$RUN/measure.out")
  if [[ -n $line ]]; then
    echo "$line" >>"$RUNS_JSONL"
  else
    record_error "$c" "$run" "$off" "ttfb.py measure gave no result: $(tail -c 300 "$RUN/measure.err" 2>/dev/null)"
  fi
}
# last_result: the last run's line, in a few words.
last_result() {
  tail -1 "$RUNS_JSONL" | "$PY" -c 'import json,sys; r=json.loads(sys.stdin.read()); print("%.3f s (give %.3f s)" % (r["ttfb_s"], r["give_s"]) if r["status"] == "ok" else r["status"] + ": " + (r["error"] or ""))'
}

run_one() {
  local c=$1 run=$2 off=$3 token bp
  WAIT_ERR=""
  rm -rf "$RUN"
  mkdir -p "$MNT"
  case $c in
    trove-mount)
      if trove_up && tb_trove "$RUN/env" mount "$MNT" >"$RUN/mount.log" 2>&1 &&
        wait_for "trove's mount" 30 mountpoint -q "$MNT"; then
        measure "$c" "$run" "$off" --read-file "$MNT/bench/$NAME/$NAME" \
          --give-cmd "$TROVE" --data-dir "$RUN/env/data" --config "$RUN/env/config.toml" add "$TORRENT"
      else
        record_error "$c" "$run" "$off" "set-up failed: ${WAIT_ERR:-trove mount: $(tail -c 300 "$RUN/mount.log")}"
      fi
      ;;
    trove-http)
      if trove_up && token=$(tb_trove "$RUN/env" token 2>"$RUN/token.log"); then
        measure "$c" "$run" "$off" \
          --read-url "http://127.0.0.1:$API_PORT/api/trove/v1/torrents/$IH/files/0" \
          --header "Authorization: Bearer $token" \
          --give-cmd "$TROVE" --data-dir "$RUN/env/data" --config "$RUN/env/config.toml" add "$TORRENT"
      else
        record_error "$c" "$run" "$off" "set-up failed: ${WAIT_ERR:-trove token: $(tail -c 300 "$RUN/token.log")}"
      fi
      ;;
    btfs)
      # lib/launch.py waits on the fifo, stamps the clock and execs btfs (same pid).
      mkfifo "$RUN/go"
      mkdir -p "$RUN/btfs-data"
      bp=$(tb_free_port)
      "$PY" "$LIB/launch.py" "$RUN/stamp" "$RUN/go" btfs -f --data-directory="$RUN/btfs-data" \
        --min-port="$bp" --max-port="$bp" "$TORRENT" "$MNT" >"$RUN/btfs.log" 2>&1 &
      CLIENT_PID=$!
      CLEANUP_PIDS+=("$CLIENT_PID")
      measure "$c" "$run" "$off" --give-fifo "$RUN/go" --give-stamp "$RUN/stamp" --read-file "$MNT/$NAME"
      ;;
    rqbit-http)
      if rqbit_up; then
        measure "$c" "$run" "$off" --give-post "http://127.0.0.1:$API_PORT/torrents?overwrite=true" \
          --give-body "$TORRENT" --read-url "http://127.0.0.1:$API_PORT/torrents/{id}/stream/0"
      else
        record_error "$c" "$run" "$off" "set-up failed: $WAIT_ERR"
      fi
      ;;
  esac
  stop_client
  LAST_STOP=$(tb_now)
  if [[ $KEEP == 1 ]]; then
    mkdir -p "$WORK/logs/$run-$c"
    cp "$RUN"/*.log "$RUN"/*.err "$WORK/logs/$run-$c/" 2>/dev/null || true
  fi
  rm -rf "$RUN"
}

# --- the runs ------------------------------------------------------------------------------
tb_lock
tb_machine_json >"$WORK/machine.json"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')
ORDERS=()
nc=${#CLIST[@]}
for ((run = 1; run <= RUNS; run++)); do
  off=${OFFSETS[$((run - 1))]}
  order=()
  for ((k = 0; k < nc; k++)); do order+=("${CLIST[$(((k + run - 1) % nc))]}"); done
  ORDERS+=("$(IFS=,; echo "${order[*]}")")
  say "run $run/$RUNS: offset $off ($((off * 100 / SIZE))% into the file), order ${ORDERS[-1]}"
  for c in "${order[@]}"; do
    run_one "$c" "$run" "$off"
    say "  $c: $(last_result)"
  done
done
tb_unlock
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')

# --- the report ----------------------------------------------------------------------------
SETUP=(
  "Payload: one file of $SIZE bytes ($((SIZE / 1048576)) MiB), v1 torrent with $PIECE-byte pieces (lib/swarm.py make); reads of $LENGTH bytes at an offset drawn uniformly from the middle 80% of the file, seed $SEED, the same offset for every contender in a run; a read may straddle two pieces."
  "Swarm: one libtorrent $("$PY" -c 'import libtorrent; print(libtorrent.__version__)') seeder (lib/swarm.py seed, the tools/loopback session: DHT, LSD, UPnP, NAT-PMP and uTP off) capped at $RATE B/s for the torrent; opentracker on 127.0.0.1:$TRACKER_PORT named in the .torrent is how every contender finds the seeder (no contender is given the seeder's address). Network: $([[ $IN_NETNS == 1 ]] && echo "a private network namespace (unshare -n), loopback only" || echo "the host's loopback (--no-netns)")."
  "Fresh state: every contender gets a new daemon (or btfs process) on empty directories for each run, stopped (and its mount taken down) after its read; the daemon is up and idle (trove: its API listening, its last start-up line, and for trove-mount the mount up; rqbit: its HTTP API answering) before the clock starts."
  "Settle: the seeder had sent nothing for at least $SETTLE s when each clock started (the previous contender stopped; the wait overlaps the next one's start-up): libtorrent's rate limiter saves up to 3 s of unused quota, so each contender got the same first burst, up to 3 x $RATE B/s at loopback speed, before the cap applied."
  "Timeout: $TIMEOUT s per read, from the start of the clock; recorded as 'timeout'. Each read's bytes are compared with the payload ('wrong-bytes' otherwise)."
  "Machine: $(nproc) CPUs, load average $LOAD0 at the start of the runs and $LOAD1 at their end (other builds may have been running)."
)
# Where the trove binary was built, when that is a git checkout.
TROVE_CHECKOUT=
if rev=$(git -C "$(dirname "$TROVE_ORIG")" rev-parse --short HEAD 2>/dev/null); then
  TROVE_CHECKOUT=" in a checkout at $rev"
fi
has trove-mount && SETUP+=("trove-mount: \`trove daemon\` ($("$TROVE" --version 2>/dev/null || echo '?'), a copy of $TROVE_ORIG, built $(date -u -r "$TROVE_ORIG" '+%Y-%m-%d %H:%M UTC')$TROVE_CHECKOUT; the bench scripts are at the commit named above) on a fresh data dir, config: listen on 127.0.0.1, dht/lsd/upnp = false, trackers = true, [api] listen on 127.0.0.1, [mount] read_timeout_secs = $((TIMEOUT + 60)); \`trove mount DIR\`; clock from \`trove add FILE.torrent\` (through the daemon's socket) until os.pread($LENGTH bytes) of DIR/bench/$NAME/$NAME returns (the file is opened as soon as it shows in the mount, polled every 5 ms).")
has trove-http && SETUP+=("trove-http: the same daemon and config, no mount; clock from \`trove add\` until the first body byte of GET /api/trove/v1/torrents/<info-hash>/files/0 with Range: bytes=OFFSET- and the token as a bearer header (the GET is sent as soon as \`trove add\` returns, and again every 10 ms while it answers 404/409/503).")
has btfs && SETUP+=("btfs: Debian's $(dpkg-query -W -f '${Package} ${Version}' btfs 2>/dev/null || echo btfs) (libtorrent-rasterbar via FUSE 2), \`btfs -f --data-directory=DIR --min-port=P --max-port=P FILE.torrent MNT\`; btfs has no option to turn DHT, LSD, UPnP or NAT-PMP off (it bootstraps DHT from router.bittorrent.com & co.), so they run but the private namespace keeps them on loopback; clock from btfs's exec (lib/launch.py stamps it) until os.pread of MNT/$NAME returns.")
has rqbit-http && SETUP+=("rqbit-http: $("$RQBIT" --version 2>/dev/null | head -1 || echo 'rqbit ?') ($RQBIT), \`rqbit --disable-dht --disable-dht-persistence --disable-lsd --disable-upnp-port-forward --listen-ip 127.0.0.1 --ipv4-only --http-api-listen-addr 127.0.0.1:PORT server start --persistence-location DIR OUT\`; clock from POST /torrents?overwrite=true with the .torrent as body until the first body byte of GET /torrents/<id>/stream/0 with Range: bytes=OFFSET-.")
"$PY" - "$WORK/meta.json" "$TROVE_BENCH_CMDLINE" "$SIZE" "$RATE" "$PIECE" "$LENGTH" "$TIMEOUT" "$SEED" \
  "$CONTENDERS" "${OFFSETS[*]}" "${ORDERS[*]}" "$AFTER" "${SETUP[@]}" <<'PYEOF'
import json, sys
out, cmd, size, rate, piece, length, timeout, seed, cont, offs, orders, after = sys.argv[1:13]
if float(after) > 0:
    definition = ("from the start of a read made %s s after the torrent was given to the client "
                  "(the download under way; the mount's file already open) until its first "
                  "byte (a %s-byte pread through the mount returning, or the first body byte "
                  "of the ranged GET)" % (after, length))
else:
    definition = ("from the moment the torrent is given to the client (trove add / rqbit's "
                  "POST /torrents / btfs's exec; daemons already up and idle) until the first "
                  "byte at the offset has been read (a %s-byte pread through the mount "
                  "returning, or the first body byte of the ranged GET)" % length)
json.dump({
    "command": cmd, "size": int(size), "rate": int(rate), "piece_length": int(piece),
    "length": int(length), "timeout_s": int(timeout), "seed": seed,
    "contenders": cont.split(","), "offsets": [int(x) for x in offs.split()],
    "orders": orders.split(),
    "definition": definition,
    "setup": sys.argv[13:],
}, open(out, "w"), indent=1)
PYEOF
"$PY" "$LIB/ttfb.py" report --runs "$RUNS_JSONL" --meta "$WORK/meta.json" \
  --machine "$WORK/machine.json" --out "$WORK/result.json"
tb_report "$WORK/result.json"
