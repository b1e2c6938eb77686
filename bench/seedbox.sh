#!/usr/bin/env bash
# Seedbox bench: thousands of small torrents *seeding* (not paused), held by `trove daemon`,
# by transmission-daemon and by qbittorrent-nox, one client after the other in one run: time
# until all seed (after adding them, and after a restart), resident memory, CPU while idle
# and while local leechers download from random torrents, and how long listing every torrent
# takes (and, for trove, an attached dashboard's first full frame).
# See bench/README.md ("A seedbox's worth").
#
#   bench/seedbox.sh                          # 5,000 torrents, all three clients
#   bench/seedbox.sh --torrents 500,2000,5000 --clients trove
#   bench/seedbox.sh --help
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=seedbox
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/seedbox.sh [options]

Makes the largest COUNT of single-file torrents of SIZE bytes (cached between runs; the
smaller counts use the first ones). Then for each COUNT and each client in turn, on a fresh
state dir, everything on 127.0.0.1 with DHT, LSD, PEX, UPnP and NAT-PMP off, queueing off:
  set-up:   start the client, add the COUNT torrents (their data already on disk; each
            client checks it but qBittorrent, told to skip it: it checks one a second),
            wait until all seed (the time is noted, not compared);
  restart:  stop it (its own clean shutdown), drop the page cache, start it again: time from
            the start to every torrent seeding (as the client's own API reports it);
  idle:     SETTLE s later, its RSS and CPU over IDLE s;
  list:     wall time of listing every torrent, LIST_RUNS runs: `trove list --json`,
            `transmission-remote -l`, `curl .../api/v2/torrents/info` (qBittorrent's Web
            API; it has no CLI); for trove also an attached dashboard (COLSxROWS, tmux):
            time from its start to the header saying "COUNT torrents";
  load:     LEECHERS libtorrent leechers (one process), each downloading a random torrent
            from the client at RATE at most and starting another when done; after WARMUP s
            the client's CPU over LOAD s and the downloads completed.
Each client's measured steps hold the bench lock. Prints the figures and writes
bench/results/seedbox-<date>.md and .json.

Options (environment variable in brackets):
  --torrents N[,N...]    torrent counts                                 [BENCH_TORRENTS, 5000]
  --size SIZE            payload of each torrent                        [BENCH_SIZE, 256KiB]
  --clients LIST         of trove,transmission,qbittorrent              [BENCH_CLIENTS, all three]
  --settle S             wait before the idle window                    [BENCH_SETTLE, 30]
  --idle S               idle window                                    [BENCH_IDLE, 30]
  --load S               load window                                    [BENCH_LOAD, 60]
  --warmup S             leechers running before the load window        [BENCH_WARMUP, 15]
  --leechers N           concurrent leecher downloads                   [BENCH_LEECHERS, 20]
  --rate SIZE            each leecher's download cap                    [BENCH_RATE, 256KiB]
  --list-runs N          runs of each list command                      [BENCH_LIST_RUNS, 10]
  --size-term COLSxROWS  the dashboard's terminal                       [BENCH_TERM, 160x48]
  --timeout S            give up waiting for all to seed after S        [BENCH_TIMEOUT, 1200]
  --trove PATH           trove binary (copied into the work dir)        [TROVE_BIN, target/release/trove]
  --cache-dir DIR        where the torrents and payload are kept        [BENCH_CACHE_DIR, ~/.cache/trove-bench]
  --work-dir DIR         parent of the temporary work dir               [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR      where seedbox-<date>.md/.json go               [BENCH_RESULTS_DIR, bench/results]
  --no-netns             the host's loopback, not a private network namespace [BENCH_NETNS=0]
  --keep                 keep the work dir (logs, state dirs)           [BENCH_KEEP=1]
  -h, --help             this text
Needs: Linux, root (page cache drop, network namespace), /usr/bin/python3 with Debian's
python3-libtorrent, tmux, flock, curl, and for the other clients Debian's
transmission-daemon (transmission-remote from transmission-cli) and qbittorrent-nox.
EOF
}

ORIG_ARGS=("$@")
export TROVE_BENCH_CMDLINE=${TROVE_BENCH_CMDLINE:-"bench/seedbox.sh${*:+ $*}"}
COUNTS=${BENCH_TORRENTS:-5000}
SIZE=${BENCH_SIZE:-256KiB}
CLIENTS=${BENCH_CLIENTS:-trove,transmission,qbittorrent}
SETTLE=${BENCH_SETTLE:-30}
IDLE=${BENCH_IDLE:-30}
LOAD=${BENCH_LOAD:-60}
WARMUP=${BENCH_WARMUP:-15}
LEECHERS=${BENCH_LEECHERS:-20}
RATE=${BENCH_RATE:-256KiB}
LIST_RUNS=${BENCH_LIST_RUNS:-10}
TERM_SIZE=${BENCH_TERM:-160x48}
TIMEOUT=${BENCH_TIMEOUT:-1200}
TROVE=${TROVE_BIN:-}
CACHE_DIR=${BENCH_CACHE_DIR:-$HOME/.cache/trove-bench}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
NETNS=${BENCH_NETNS:-1}

while (($#)); do
  case $1 in
    --torrents) COUNTS=${2:?}; shift 2 ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --clients) CLIENTS=${2:?}; shift 2 ;;
    --settle) SETTLE=${2:?}; shift 2 ;;
    --idle) IDLE=${2:?}; shift 2 ;;
    --load) LOAD=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    --leechers) LEECHERS=${2:?}; shift 2 ;;
    --rate) RATE=${2:?}; shift 2 ;;
    --list-runs) LIST_RUNS=${2:?}; shift 2 ;;
    --size-term) TERM_SIZE=${2:?}; shift 2 ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    --cache-dir) CACHE_DIR=${2:?}; shift 2 ;;
    --work-dir) WORK_PARENT=${2:?}; shift 2 ;;
    --results-dir) RESULTS_DIR=${2:?}; shift 2 ;;
    --no-netns) NETNS=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

to_bytes() { "$PY" "$LIB/units.py" bytes "$1" || die "bad size '$1'"; }
SIZE_BYTES=$(to_bytes "$SIZE")
RATE_BYTES=$(to_bytes "$RATE")
IFS=, read -r -a COUNT_LIST <<<"$COUNTS"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
MAX=0
for n in "${COUNT_LIST[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "--torrents takes whole numbers separated by commas, not '$COUNTS'"
  ((n > MAX)) && MAX=$n
done
for c in "${CLIENT_LIST[@]}"; do
  [[ $c =~ ^(trove|transmission|qbittorrent)$ ]] || die "--clients: '$c' is not trove, transmission or qbittorrent"
done
for v in SETTLE IDLE LOAD WARMUP LEECHERS LIST_RUNS TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a whole number, not '${!v}'"
done
COLS=${TERM_SIZE%x*}
ROWS=${TERM_SIZE#*x}

# --- tools and the binary: before the private network namespace -----------------------------
if [[ ${TROVE_BENCH_IN_NETNS:-0} != 1 ]]; then
  tb_need flock tmux curl
  tb_need_libtorrent
  for c in "${CLIENT_LIST[@]}"; do
    case $c in
      transmission)
        command -v transmission-daemon >/dev/null || die "needs transmission-daemon (apt-get install transmission-daemon)"
        command -v transmission-remote >/dev/null || die "needs transmission-remote (apt-get install transmission-cli)" ;;
      qbittorrent)
        command -v qbittorrent-nox >/dev/null || die "needs qbittorrent-nox (apt-get install qbittorrent-nox)" ;;
    esac
  done
  TROVE=${TROVE:-$REPO/target/release/trove}
  [[ -x $TROVE ]] || die "no trove binary at $TROVE (cargo build --release, or --trove PATH)"
  export TROVE_BIN
  TROVE_BIN=$(realpath "$TROVE")
  [[ $NETNS == 1 ]] && tb_netns_enter "${ORIG_ARGS[@]}"
fi
tb_netns_up
TROVE_SRC=$TROVE

mkdir -p "$WORK_PARENT" "$RESULTS_DIR" "$CACHE_DIR"
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-seedbox.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS"
RUNS_JSONL=$WORK/runs.jsonl
: >"$RUNS_JSONL"
cp -- "$TROVE_SRC" "$WORK/trove"
TROVE=$WORK/trove
TROVE_BUILT=$(date -r "$TROVE_SRC" '+%Y-%m-%d %H:%M:%S')
MACHINE=$(tb_machine_json)
SB=("$PY" "$LIB/seedbox.py")
PROBLEMS=()
problem() { PROBLEMS+=("$*"); say "PROBLEM: $*"; }
CLIENT_PID=""
seedbox_cleanup() {
  local rc=$?
  set +e
  [[ -n $CLIENT_PID ]] && kill -9 "$CLIENT_PID" 2>/dev/null
  tb_keep_logs "$rc" "$LOGS" "$RUNS_JSONL"
  (exit "$rc")
  tb_cleanup
}
trap seedbox_cleanup EXIT
say "work dir $WORK; network namespace: $([[ $IN_NETNS == 1 ]] && echo private || echo "the host's")"

# --- the torrents: made once, kept in the cache dir -------------------------------------------
tb_seedbox_set "$MAX" "$SIZE_BYTES"
# torrents-N.json: the first N.
for n in "${COUNT_LIST[@]}"; do
  "$PY" -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))[:int(sys.argv[2])], open(sys.argv[3], "w"))' \
    "$SET/torrents.json" "$n" "$WORK/torrents-$n.json"
  "$PY" -c 'import json,sys; print("\n".join(t["name"] for t in json.load(open(sys.argv[1]))))' \
    "$WORK/torrents-$n.json" >"$WORK/names-$n.txt"
done

# --- the clients: configure, start, stop ---------------------------------------------------------
# Each sets CLIENT_PID, PEER_PORT and CLIENT_OPTS (seedbox.py's client options).

trove_config() {
  local dir=$1
  tb_env "$dir" "$PEER_PORT" false "$PAYLOAD"
  CLIENT_OPTS=(--client trove --trove "$TROVE" --data-dir "$dir/data" --config "$dir/config.toml")
}
trove_start() {
  local dir=$1 log=$2
  rm -f "$dir/data/trove.sock"
  "$TROVE" --data-dir "$dir/data" --config "$dir/config.toml" daemon >"$log" 2>&1 &
  CLIENT_PID=$!
}
trove_stop() { "$TROVE" --data-dir "$1/data" --config "$1/config.toml" stop >/dev/null 2>&1 || true; }

transmission_config() {
  local dir=$1
  RPC_PORT=$(tb_free_port)
  mkdir -p "$dir"
  cat >"$dir/settings.json" <<EOF
{
  "bind-address-ipv4": "127.0.0.1",
  "bind-address-ipv6": "::1",
  "peer-port": $PEER_PORT,
  "peer-port-random-on-start": false,
  "port-forwarding-enabled": false,
  "dht-enabled": false,
  "lpd-enabled": false,
  "pex-enabled": false,
  "utp-enabled": false,
  "rpc-enabled": true,
  "rpc-bind-address": "127.0.0.1",
  "rpc-port": $RPC_PORT,
  "rpc-authentication-required": false,
  "rpc-whitelist-enabled": true,
  "rpc-whitelist": "127.0.0.1",
  "rpc-host-whitelist-enabled": false,
  "download-dir": "$PAYLOAD",
  "incomplete-dir-enabled": false,
  "start-added-torrents": true,
  "download-queue-enabled": false,
  "seed-queue-enabled": false,
  "queue-stalled-enabled": false,
  "ratio-limit-enabled": false,
  "idle-seeding-limit-enabled": false,
  "speed-limit-up-enabled": false,
  "speed-limit-down-enabled": false,
  "alt-speed-enabled": false,
  "message-level": 1
}
EOF
  CLIENT_OPTS=(--client transmission --rpc-port "$RPC_PORT")
}
transmission_start() {
  transmission-daemon -f -g "$1" >"$2" 2>&1 &
  CLIENT_PID=$!
}
transmission_stop() { kill -TERM "$CLIENT_PID" 2>/dev/null || true; }

qbittorrent_config() {
  local dir=$1
  WEBUI_PORT=$(tb_free_port)
  mkdir -p "$dir/qBittorrent/config"
  cat >"$dir/qBittorrent/config/qBittorrent.conf" <<EOF
[LegalNotice]
Accepted=true

[Preferences]
WebUI\Address=127.0.0.1
WebUI\Port=$WEBUI_PORT
WebUI\LocalHostAuth=false
WebUI\HostHeaderValidation=false
WebUI\CSRFProtection=false
Bittorrent\DHT=false
Bittorrent\LSD=false
Bittorrent\PeX=false
Connection\UPnP=false
Downloads\SavePath=$PAYLOAD

[BitTorrent]
Session\Port=$PEER_PORT
Session\Interface=lo
Session\InterfaceName=lo
Session\InterfaceAddress=127.0.0.1
Session\DHTEnabled=false
Session\LSDEnabled=false
Session\PeXEnabled=false
Session\QueueingSystemEnabled=false
Session\DefaultSavePath=$PAYLOAD
Session\MaxConnections=-1
Session\MaxConnectionsPerTorrent=-1
Session\MaxUploads=-1
Session\MaxUploadsPerTorrent=-1
EOF
  CLIENT_OPTS=(--client qbittorrent --webui-port "$WEBUI_PORT")
}
qbittorrent_start() {
  qbittorrent-nox --profile="$1" --webui-port="$WEBUI_PORT" >"$2" 2>&1 </dev/null &
  CLIENT_PID=$!
}
qbittorrent_stop() { kill -TERM "$CLIENT_PID" 2>/dev/null || true; }

# stop_client CLIENT DIR: the client's own clean stop, 60 s to exit, then SIGKILL.
stop_client() {
  local c=$1 dir=$2
  [[ -n $CLIENT_PID ]] || return 0
  "${c}_stop" "$dir"
  if ! tb_wait_gone "$CLIENT_PID" 60; then
    problem "$c did not exit within 60 s of its stop: SIGKILL"
    kill -9 "$CLIENT_PID" 2>/dev/null || true
  fi
  wait "$CLIENT_PID" 2>/dev/null || true
  CLIENT_PID=""
}

emit() { echo "$1" >>"$RUNS_JSONL"; say "$1"; }
# record CLIENT N STEP JSON: one line of runs.jsonl.
record() {
  emit "$("$PY" -c 'import json,sys; d=json.loads(sys.argv[4]); d.update(client=sys.argv[1], torrents=int(sys.argv[2]), step=sys.argv[3]); print(json.dumps(d))' "$1" "$2" "$3" "$4")"
}

# dashboard N DIR: trove's dashboard attached to the running daemon, clock from its exec
# to the header saying "N torrents"; prints JSON.
dashboard() {
  local n=$1 dir=$2 fifo=$WORK/go.fifo stampf=$WORK/start.ns out=$WORK/stamps.json pid
  rm -f "$fifo" "$stampf" "$out"
  mkfifo "$fifo"
  pid=$(tb_tmux_start dash "$COLS" "$ROWS" "$PY" "$LIB/launch.py" "$stampf" "$fifo" \
    "$TROVE" --data-dir "$dir/data" --config "$dir/config.toml")
  tbt pipe-pane -o -t dash "'$PY' '$LIB/stamp.py' '$out' '$WORK/names-$n.txt' '$n'"
  sleep 0.3 # let tmux start the reader
  echo go >"$fifo"
  tb_wait_screen dash "[^0-9]$n torrents" 120 || { tb_tmux_stop dash "$pid" q; return 1; }
  tbt pipe-pane -t dash
  local i
  for i in $(seq 50); do [[ -s $out ]] && break; sleep 0.1; done
  tb_tmux_stop dash "$pid" q
  "$PY" -c '
import json, sys
t0 = int(open(sys.argv[1]).read())
s = json.load(open(sys.argv[2]))
ms = lambda k: round((s[k] - t0) / 1e6, 1) if s.get(k) else None
print(json.dumps({"first_name_ms": ms("first_name"), "all_torrents_ms": ms("all_count")}))' "$stampf" "$out"
}

# one_client CLIENT N: every step for one client holding N torrents.
one_client() {
  local c=$1 n=$2 dir=$WORK/$1-$2 out
  rm -rf "$dir"
  mkdir -p "$dir"
  PEER_PORT=$(tb_free_port)
  "${c}_config" "$dir"
  tb_lock
  say "$c, $n torrents: add"
  "${c}_start" "$dir" "$LOGS/$c-$n-add.log"
  local t0
  t0=$(date +%s%N)
  # The client's API comes up in its own time: adding waits for it (counted).
  out=$("${SB[@]}" wait-seeding "${CLIENT_OPTS[@]}" --count 0 --since "$t0" --timeout 60) ||
    { problem "$c did not answer within 60 s (log: $LOGS/$c-$n-add.log)"; stop_client "$c" "$dir"; tb_unlock; return 0; }
  t0=$(date +%s%N)
  "${SB[@]}" add "${CLIENT_OPTS[@]}" --torrents-json "$WORK/torrents-$n.json" --save-path "$PAYLOAD" >"$dir/add.json" ||
    { problem "$c: adding $n torrents failed"; stop_client "$c" "$dir"; tb_unlock; return 0; }
  if out=$("${SB[@]}" wait-seeding "${CLIENT_OPTS[@]}" --count "$n" --since "$t0" --timeout "$TIMEOUT"); then
    record "$c" "$n" add "$out"
  else
    problem "$c: $out"
  fi
  stop_client "$c" "$dir"

  say "$c, $n torrents: restart"
  sync
  echo 3 >/proc/sys/vm/drop_caches
  t0=$(date +%s%N)
  "${c}_start" "$dir" "$LOGS/$c-$n-restart.log"
  if out=$("${SB[@]}" wait-seeding "${CLIENT_OPTS[@]}" --count "$n" --since "$t0" --timeout "$TIMEOUT"); then
    record "$c" "$n" restart "$out"
  else
    problem "$c after a restart: $out"
    stop_client "$c" "$dir"
    tb_unlock
    return 0
  fi
  sleep "$SETTLE"
  record "$c" "$n" idle "$("${SB[@]}" window --pid "$CLIENT_PID" --seconds "$IDLE")"
  record "$c" "$n" list "$("${SB[@]}" list-latency "${CLIENT_OPTS[@]}" --runs "$LIST_RUNS")"
  if [[ $c == trove ]]; then
    if out=$(dashboard "$n" "$dir"); then
      record "$c" "$n" dashboard "$out"
    else
      problem "trove's dashboard never showed $n torrents"
    fi
  fi
  if out=$("${SB[@]}" load --pid "$CLIENT_PID" --port "$PEER_PORT" --torrents-json "$WORK/torrents-$n.json" \
    --leechers "$LEECHERS" --rate "$RATE_BYTES" --warmup "$WARMUP" --seconds "$LOAD" --work "$dir/leech"); then
    record "$c" "$n" load "$out"
  else
    problem "$c: the load step failed"
  fi
  stop_client "$c" "$dir"
  tb_unlock
  rm -rf "$dir/leech"
}

START=$SECONDS
for n in "${COUNT_LIST[@]}"; do
  for c in "${CLIENT_LIST[@]}"; do
    one_client "$c" "$n"
  done
done
ELAPSED=$((SECONDS - START))

# --- report -----------------------------------------------------------------------------------------
"${SB[@]}" report --runs "$RUNS_JSONL" --out "$WORK/result.json" --machine "$MACHINE" \
  --command "$TROVE_BENCH_CMDLINE" --size "$SIZE_BYTES" --rate "$RATE_BYTES" --leechers "$LEECHERS" \
  --settle "$SETTLE" --idle "$IDLE" --load "$LOAD" --warmup "$WARMUP" --list-runs "$LIST_RUNS" \
  --term "$TERM_SIZE" --trove-text "$TROVE_SRC, built $TROVE_BUILT" --elapsed "$ELAPSED" \
  --netns "$IN_NETNS" -- "${PROBLEMS[@]+"${PROBLEMS[@]}"}" || die "the report failed (runs kept in $RUNS_JSONL)"
tb_report "$WORK/result.json"
say "the bench took $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
((${#PROBLEMS[@]} == 0)) || { say "finished with ${#PROBLEMS[@]} problem(s)"; exit 1; }
