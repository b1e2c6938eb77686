#!/usr/bin/env bash
# Seeding soak (not part of the test suite): `trove daemon` seeds N complete torrents while
# local libtorrent leechers come and go, and its RSS, open fds and threads are sampled every
# 10 s. Passes when, after warm-up, neither RSS nor open fds grows by more than 10% over a
# run of at least 60 minutes (shorter runs only report).
#
#   scripts/soak.sh --minutes 3                        # smoke run
#   nohup scripts/soak.sh --minutes 60 --out /tmp/soak-run > /tmp/soak-run.log 2>&1 &
#   scripts/soak.sh --help
set -Eeuo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
Usage: scripts/soak.sh [options]

Makes N torrents (4-16 MiB each, v1-only, every fourth multi-file) with their payload
written straight into a trove storage root, adds them with `trove add`, starts
`trove daemon` (127.0.0.1 only; DHT, LSD, UPnP off; session upload limit 2 MiB/s) and, for
the chosen duration, has local libtorrent leechers (tools/loopback/peer.py) dial it: each of
SLOTS leechers picks a random torrent, downloads it, removes it and deletes the data, now
and then leaves half-way, and is replaced by a new process (new peer id and port) every
3-12 sessions. Every 10 s trove's VmRSS, VmHWM, open fds (by kind) and threads go to
OUT/samples.csv. At the end it prints (and saves as OUT/report.txt) the warm-up cut
(10% of the run or 5 min, whichever is smaller), RSS and fds at the end of warm-up, their
maximum after it and the growth in %, peak RSS (VmHWM) and the leech sessions completed.

Options:
  --minutes N        length of the run, counted from the daemon's start       [60]
  --torrents N       torrents seeded                                          [20]
  --out DIR          results: samples.csv, report.txt, leech-sessions.csv, logs, fd
                     snapshots (kept)                          [/tmp/soak-<date-time>]
  --slots N          leechers at a time; 0 = none (trove seeds idle: a baseline)  [2]
  --leave-early PCT  share of leech sessions that leave after 0.5-4 s         [10]
  --upload RATE      trove's session upload limit ([limits] upload)           [2MiB]
  --bin PATH         trove binary; copied into the work dir as `soak-seeder`, so a
                     rebuild during the run changes nothing and a `pkill trove` or
                     `killall trove` elsewhere on a shared box does not stop it
                                                               [target/release/trove]
  --seed N           random seed for sizes and the leechers' choices          [1]
  --max-growth PCT   allowed growth after warm-up (runs of >= 60 min)         [10]
  --keep             keep the work dir (payload, trove data dir, config)
  -h, --help         this text

Exit status: 0 = passed (or a run under 60 min that completed), 1 = RSS or fds grew too
much, or no leech session completed, 2 = the soak could not run (setup failed, trove died).
The script does not build trove: run `cargo build --release` first.
EOF
}

die() { echo "soak.sh: $*" >&2; exit 2; }
say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
PY=/usr/bin/python3 # Debian's python3-libtorrent imports only under this interpreter
HELPER=$SCRIPT_DIR/soak/soak.py
LOOPBACK=$REPO/tools/loopback/loopback.py # local peers, free ports

MINUTES=60
TORRENTS=20
OUT=""
SLOTS=2
LEAVE_EARLY=10
UPLOAD=2MiB
TROVE=""
SEED=1
MAX_GROWTH=10
KEEP=0
INTERVAL=10

while (($#)); do
  case $1 in
    --minutes) MINUTES=${2:?}; shift 2 ;;
    --torrents) TORRENTS=${2:?}; shift 2 ;;
    --out) OUT=${2:?}; shift 2 ;;
    --slots) SLOTS=${2:?}; shift 2 ;;
    --leave-early) LEAVE_EARLY=${2:?}; shift 2 ;;
    --upload) UPLOAD=${2:?}; shift 2 ;;
    --bin) TROVE=${2:?}; shift 2 ;;
    --seed) SEED=${2:?}; shift 2 ;;
    --max-growth) MAX_GROWTH=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
for v in MINUTES TORRENTS SLOTS LEAVE_EARLY SEED MAX_GROWTH; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "${v,,} must be a whole number, got '${!v}'"
done
((MINUTES >= 1 && TORRENTS >= 1)) || die "--minutes and --torrents must be >= 1"
((LEAVE_EARLY <= 100)) || die "--leave-early is a percentage (0-100)"
[[ -n $OUT ]] || OUT=/tmp/soak-$(date +%Y%m%d-%H%M%S)

# --- prerequisites --------------------------------------------------------------------------
"$PY" -c 'import libtorrent' 2>/dev/null ||
  die "$PY cannot import libtorrent: apt-get install python3-libtorrent"
[[ -f $LOOPBACK ]] || die "missing $LOOPBACK"
[[ -n $TROVE ]] || TROVE=$REPO/target/release/trove
[[ -x $TROVE ]] || die "no trove binary at $TROVE (cargo build --release)"
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
rm -f "$OUT"/{samples.csv,report.txt,churn-summary.json,churn-status,leech-sessions.csv}

# --- work dir and cleanup -------------------------------------------------------------------
# No "trove" in the daemon's name or arguments: other people's `pkill trove`, `pkill -f
# trove` or `killall trove` on a shared machine must not end the soak (it happened).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/soak-seed.XXXXXX")
WORK=$(realpath "$WORK")
TROVE_PID=""
SAMPLER_PID=""
CHURN_PID=""

stop_pid() { # stop_pid PID SECS: SIGTERM, wait up to SECS, then SIGKILL
  local pid=$1 secs=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid did not stop within ${secs}s of SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM ERR
  set +e
  # The churn driver quits its leechers (and peer.py exits when its stdin closes anyway).
  stop_pid "$CHURN_PID" 30
  stop_pid "$SAMPLER_PID" 10
  stop_pid "$TROVE_PID" 30
  if ((KEEP)); then
    say "work dir kept: $WORK"
  else
    rm -rf -- "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

ROOT=$WORK/root
TORRENT_DIR=$WORK/torrents
DATA=$WORK/data
CONFIG=$WORK/config.toml
mkdir -p "$ROOT" "$TORRENT_DIR" "$DATA" "$WORK/bin" "$WORK/leech"
cp "$TROVE" "$WORK/bin/soak-seeder"
BIN=$WORK/bin/soak-seeder
say "work dir $WORK; results in $OUT"
say "trove binary $TROVE ($(date -r "$TROVE" '+%Y-%m-%d %H:%M:%S'); repo at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ', with uncommitted changes'))"

PORT=$("$PY" "$LOOPBACK" free-port)
cat >"$CONFIG" <<EOF
[[roots]]
label = "soak"
path = "$ROOT"
default = true

[limits]
upload = "$UPLOAD"

[network]
listen_port = $PORT
bind = "127.0.0.1"
dht = false
lsd = false
upnp = false
trackers = true
EOF
trove() { NO_COLOR=1 "$BIN" --data-dir "$DATA" --config "$CONFIG" "$@"; }

# --- 1. torrents, payload in the root ---------------------------------------------------------
say "making $TORRENTS torrents (4-16 MiB) in $ROOT"
"$PY" "$HELPER" make --root "$ROOT" --torrent-dir "$TORRENT_DIR" \
  --count "$TORRENTS" --seed "$SEED" >"$WORK/manifest.json" 2>"$OUT/make.log" ||
  { tail -n 20 "$OUT/make.log" >&2; die "making the torrents failed"; }
cp "$WORK/manifest.json" "$OUT/manifest.json"
total_mib=$("$PY" -c 'import json,sys; print(sum(t["size"] for t in json.load(open(sys.argv[1]))) >> 20)' "$WORK/manifest.json")
say "$total_mib MiB of payload"

# --- 2. trove add, trove daemon ---------------------------------------------------------------
trove add "$TORRENT_DIR"/*.torrent >"$OUT/added.txt" 2>"$OUT/add.log" ||
  { cat "$OUT/add.log" >&2; die "trove add failed"; }
(($(grep -c . "$OUT/added.txt") == TORRENTS)) || die "trove add printed $(grep -c . "$OUT/added.txt") info-hashes, expected $TORRENTS"

RUN_SECS=$((MINUTES * 60))
WARMUP_SECS=$((RUN_SECS / 10 < 300 ? RUN_SECS / 10 : 300))
T0=$(date +%s.%N)
NO_COLOR=1 "$BIN" --data-dir "$DATA" --config "$CONFIG" --log-level info daemon \
  </dev/null >"$OUT/trove.stdout.log" 2>"$OUT/trove.stderr.log" &
TROVE_PID=$!
say "trove daemon (as $BIN) pid $TROVE_PID listening on 127.0.0.1:$PORT; the run ends $MINUTES min from now"

FD_GROUPS=(--fd-group "payload=$ROOT" --fd-group "fastresume=$DATA/fastresume"
  --fd-group "data dir=$DATA" --fd-group "other file=/")
"$PY" "$HELPER" sample --pid "$TROVE_PID" --csv "$OUT/samples.csv" --interval "$INTERVAL" \
  --t0 "$T0" --warmup-secs "$WARMUP_SECS" --snap-dir "$OUT" --status "$OUT/churn-status" \
  --store-dir "$DATA/store" "${FD_GROUPS[@]}" 2>"$OUT/sampler.log" &
SAMPLER_PID=$!

# Every torrent says "completed <name>" once its first check finds it complete.
deadline=$((SECONDS + 300))
while :; do
  kill -0 "$TROVE_PID" 2>/dev/null || { tail -n 30 "$OUT/trove.stderr.log" >&2; die "trove daemon exited during start-up"; }
  done_n=$(grep -c ' completed soak-' "$OUT/trove.stderr.log" || true)
  ((done_n >= TORRENTS)) && break
  ((SECONDS < deadline)) || { tail -n 30 "$OUT/trove.stderr.log" >&2; die "only $done_n of $TORRENTS torrents complete after 300 s"; }
  sleep 1
done
say "all $TORRENTS torrents seeding after $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

# --- 3. leechers come and go ------------------------------------------------------------------
if ((SLOTS > 0)); then
  "$PY" "$HELPER" churn --manifest "$WORK/manifest.json" \
    --trove-port "$PORT" --work "$WORK/leech" --out "$OUT" --slots "$SLOTS" --seed "$SEED" \
    --abort-fraction "$(awk -v p="$LEAVE_EARLY" 'BEGIN { print p / 100 }')" \
    2>"$OUT/churn.log" &
  CHURN_PID=$!
else
  say "no leechers (--slots 0): trove seeds idle"
fi

# --- 4. wait for the end, watching that everyone is alive -------------------------------------
end_ns=$("$PY" -c 'import sys; print(int((float(sys.argv[1]) + float(sys.argv[2])) * 1e9))' "$T0" "$RUN_SECS")
died=""
next_note=$((SECONDS + 600))
while (($(date +%s%N) < end_ns)); do
  sleep 2
  if ! kill -0 "$TROVE_PID" 2>/dev/null; then
    died="trove daemon"
    ps -eo pid,ppid,lstart,etimes,args --sort=start_time >"$OUT/ps-when-trove-died.txt" 2>&1 || true
    break
  fi
  if [[ -n $CHURN_PID ]] && ! kill -0 "$CHURN_PID" 2>/dev/null; then died="churn driver"; break; fi
  if ! kill -0 "$SAMPLER_PID" 2>/dev/null; then died="sampler"; break; fi
  if ((SECONDS >= next_note)); then
    next_note=$((SECONDS + 600))
    c=0 a=0 f=0 r=0
    if [[ -f $OUT/churn-status ]]; then read -r c a f r _ <"$OUT/churn-status" || true; fi
    say "$(tail -n 1 "$OUT/samples.csv" | awk -F, '{ printf "t=%.0fs RSS %.1f MiB, fds %d, threads %d", $1, $3 / 1024, $5, $9 }'); leech sessions: ${c:-0} completed, ${a:-0} left early, ${f:-0} failed, ${r:-0} leecher restarts"
  fi
done

# --- 5. stop, snapshot, report ----------------------------------------------------------------
if [[ -z $died ]]; then
  "$PY" "$HELPER" snapshot --pid "$TROVE_PID" --path "$OUT/fds-end.txt" --label "at the end of the run (leechers on)" \
    "${FD_GROUPS[@]}" >"$OUT/fds-end.summary" 2>&1 || true
fi
say "stopping the leechers"
stop_pid "$CHURN_PID" 30
CHURN_PID=""
if [[ -z $died ]]; then
  sleep 5 # the last sample with no leecher connected
  "$PY" "$HELPER" snapshot --pid "$TROVE_PID" --path "$OUT/fds-idle.txt" --label "5 s after the leechers left" \
    "${FD_GROUPS[@]}" >"$OUT/fds-idle.summary" 2>&1 || true
fi
stop_pid "$SAMPLER_PID" 10
SAMPLER_PID=""
trove_rc=""
if kill -0 "$TROVE_PID" 2>/dev/null; then
  t_stop=$SECONDS
  stop_pid "$TROVE_PID" 30
  say "trove daemon stopped on SIGTERM in $((SECONDS - t_stop)) s"
else
  wait "$TROVE_PID" 2>/dev/null && trove_rc=0 || trove_rc=$?
fi
TROVE_PID=""

echo
echo "command: scripts/soak.sh --minutes $MINUTES --torrents $TORRENTS --slots $SLOTS --leave-early $LEAVE_EARLY --upload $UPLOAD --seed $SEED --out $OUT"
rc=0
"$PY" "$HELPER" report --out "$OUT" --minutes "$MINUTES" --torrents "$TORRENTS" --max-growth "$MAX_GROWTH" || rc=$?
for f in warmup end idle; do
  if [[ -f $OUT/fds-$f.txt ]]; then
    echo "fds $(sed -n '1s/^# \([^:]*\):.*/\1/p' "$OUT/fds-$f.txt"): $(sed -n '3s/^# fds by target: //p' "$OUT/fds-$f.txt")"
    echo "    sockets: $(sed -n '4s/^# sockets by kind and state: //p' "$OUT/fds-$f.txt")"
  fi
done
warn_n=$(grep -c ' WARN ' "$OUT/trove.stderr.log" || true)
err_n=$(grep -c ' ERROR ' "$OUT/trove.stderr.log" || true)
echo "trove log: $(wc -l <"$OUT/trove.stderr.log") lines, $warn_n WARN, $err_n ERROR ($OUT/trove.stderr.log)"
echo "results: $OUT"
if [[ -n $died ]]; then
  echo "FAIL: the $died exited before the end of the run${trove_rc:+ (trove exit status $trove_rc)}; the figures above are partial"
  if [[ $trove_rc == 0 ]]; then
    echo "(trove daemon exits 0 only on SIGTERM, SIGINT or SIGHUP, which this script had not sent: something else signalled it; processes then: $OUT/ps-when-trove-died.txt)"
  fi
  case $died in
    "trove daemon") tail -n 30 "$OUT/trove.stderr.log" ;;
    "churn driver") tail -n 30 "$OUT/churn.log" ;;
    *) tail -n 30 "$OUT/sampler.log" ;;
  esac
  exit 2
fi
exit "$rc"
