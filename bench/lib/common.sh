# Shared helpers of the bench shell scripts (bench/*.sh).
# Sourced, not run. Expects `set -Eeuo pipefail` and LC_ALL=C in the caller, and BENCH_NAME.
#
# What lives here: logging, building trove, a private tmux server, process figures from
# /proc (CPU ticks, RSS), the machine's load, the bench lock, trove env dirs and configs,
# the local swarm (lib/swarm.py) and cleanup of everything started.

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LIB/../.." && pwd)
LOOPBACK=$REPO/tools/loopback/loopback.py # local peers, opentracker, free ports
PY=/usr/bin/python3 # Debian's python3-libtorrent imports only under this interpreter
LOCK_FILE=${BENCH_LOCK_FILE:-/tmp/trove-bench.lock}
CLK_TCK=$(getconf CLK_TCK)
PAGE_KIB=$(($(getconf PAGESIZE) / 1024))

say() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# --- cleanup -----------------------------------------------------------------------------

CLEANUP_PIDS=()
TMUX_SOCK="trove-bench-$BENCH_NAME-$$"
WORK=""
KEEP=${BENCH_KEEP:-0}

tb_cleanup() {
  local rc=$?
  set +e
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
  local p
  for p in "${CLEANUP_PIDS[@]}"; do
    kill "$p" 2>/dev/null
  done
  sleep 0.3
  for p in "${CLEANUP_PIDS[@]}"; do
    kill -9 "$p" 2>/dev/null
  done
  tb_unlock
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ $KEEP == 1 ]]; then
      say "kept the work dir $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  return $rc
}
trap tb_cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the bench lock: measured runs never overlap with another bench's ----------------------
# Same lock as `flock /tmp/trove-bench.lock CMD` (flock(2) on the same file).

LOCK_FD=""
tb_lock() {
  if [[ -z $LOCK_FD ]]; then
    exec {LOCK_FD}>>"$LOCK_FILE"
  fi
  if ! flock -n "$LOCK_FD"; then
    say "waiting for $LOCK_FILE (another bench is measuring)"
    flock "$LOCK_FD"
  fi
}
tb_unlock() {
  [[ -n $LOCK_FD ]] && flock -u "$LOCK_FD" 2>/dev/null
  return 0
}

# --- a private network namespace, and logs kept after a failure ---------------------------

# tb_netns_enter ARGS...: runs the calling script again, with ARGS, in a private network
# namespace (only loopback in it); for the first run, once its tools and binary are checked.
tb_netns_enter() {
  unshare -n true 2>/dev/null ||
    die "cannot make a private network namespace (not root?); --no-netns runs on the host's loopback"
  export TROVE_BENCH_IN_NETNS=1
  exec unshare -n -- "$0" "$@"
}

# tb_netns_up: sets IN_NETNS (1 in the namespace tb_netns_enter made, else 0) and brings up
# the namespace's loopback.
tb_netns_up() {
  IN_NETNS=${TROVE_BENCH_IN_NETNS:-0}
  if [[ $IN_NETNS == 1 ]]; then
    ip link set lo up || die "cannot bring up loopback in the network namespace"
  fi
}

# tb_keep_logs RC LOGS FILE...: after a failed run (RC not 0) that was not told --keep,
# copies the folder LOGS and the FILEs somewhere that outlives the work dir, and says where.
tb_keep_logs() {
  local rc=$1 logs=$2 keep
  shift 2
  ((rc != 0)) && [[ $KEEP != 1 && -d $logs ]] || return 0
  keep=$(mktemp -d "${TMPDIR:-/tmp}/trove-bench-$BENCH_NAME-logs.XXXXXX")
  cp -r "$logs"/. "$keep"/ 2>/dev/null
  cp "$@" "$keep"/ 2>/dev/null
  say "the bench failed: its logs are in $keep"
}

# --- building ---------------------------------------------------------------------------

# tb_build: sets TROVE (the binary); builds it unless TROVE was given or NO_BUILD=1.
tb_build() {
  if [[ -z ${TROVE:-} ]]; then
    if [[ ${NO_BUILD:-0} != 1 ]]; then
      say "cargo build --release"
      (cd "$REPO" && cargo build --release --bin trove) >&2 || die "cargo build failed"
    fi
    TROVE="$REPO/target/release/trove"
  fi
  [[ -x $TROVE ]] || die "no trove binary at $TROVE"
}

tb_need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || die "needs $c (apt-get install ${PKG_OF[$c]:-$c})"
  done
}
declare -A PKG_OF=([tmux]=tmux [rtorrent]=rtorrent [flock]=util-linux [perf]=linux-perf [opentracker]=opentracker)

tb_need_libtorrent() {
  "$PY" -c 'import libtorrent' 2>/dev/null ||
    die "$PY cannot import libtorrent: apt-get install python3-libtorrent"
}

# --- tmux on a private server ------------------------------------------------------------

tbt() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }

# tb_tmux_start SESSION COLS ROWS CMD...: a detached session running CMD (exec'd, so the
# pane's process is CMD itself); prints its pid.
tb_tmux_start() {
  local s=$1 cols=$2 rows=$3
  shift 3
  local cmd
  cmd=$(printf '%q ' "$@")
  tbt new-session -d -s "$s" -x "$cols" -y "$rows" "exec $cmd"
  # Keep the size fixed whatever attaches, and keep the pane if the program dies (so we
  # can tell it died).
  tbt set-option -t "$s" window-size manual >/dev/null 2>&1 || true
  tbt set-option -t "$s" remain-on-exit on >/dev/null 2>&1 || true
  tbt display -p -t "$s" '#{pane_pid}'
}

tb_pane_dead() { [[ $(tbt display -p -t "$1" '#{pane_dead}' 2>/dev/null) == 1 ]]; }

# tb_wait_screen SESSION REGEX TIMEOUT_S: waits until the pane shows REGEX.
tb_wait_screen() {
  local s=$1 re=$2 t=$3 end
  end=$(($(date +%s) + t))
  while (($(date +%s) < end)); do
    if tbt capture-pane -p -t "$s" 2>/dev/null | grep -Eq -- "$re"; then
      return 0
    fi
    if tb_pane_dead "$s"; then
      say "the program in $s exited:"
      tbt capture-pane -p -t "$s" | tail -20 >&2
      return 1
    fi
    sleep 0.2
  done
  say "timed out after ${t}s waiting for /$re/ in $s; the screen:"
  tbt capture-pane -p -t "$s" | head -20 >&2
  return 1
}

# tb_wait_gone PID SECONDS: waits up to SECONDS for PID to exit; fails if it is still there.
tb_wait_gone() {
  local pid=$1 ticks=$(($2 * 10)) _
  for _ in $(seq "$ticks"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null
}

# tb_tmux_stop SESSION PID KEYS: sends KEYS (e.g. q), waits up to 15 s for PID to exit,
# then SIGTERM, then SIGKILL; kills the session.
tb_tmux_stop() {
  local s=$1 pid=$2 keys=${3:-q}
  tbt send-keys -t "$s" "$keys" 2>/dev/null || true
  if ! tb_wait_gone "$pid" 15; then
    kill "$pid" 2>/dev/null || true
    sleep 3
    kill -9 "$pid" 2>/dev/null || true
  fi
  tbt kill-session -t "$s" 2>/dev/null || true
}

# --- /proc figures ----------------------------------------------------------------------

# CPU ticks (utime + stime) of PID, all its threads (fields 14, 15 of /proc/PID/stat; the
# command name in field 2 may hold spaces, so count from the closing parenthesis).
tb_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
tb_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
tb_hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# Machine-wide busy and total jiffies (all CPUs) from /proc/stat.
tb_machine_jiffies() { awk '/^cpu / {t=0; for (i=2;i<=NF;i++) t+=$i; print t - $5 - $6, t}' /proc/stat; }
tb_now() { date +%s.%N; }

# Voluntary context switches of every thread of PID (each one a thread going to sleep, so
# about one per wake-up): what an idle process's timers cost, beyond its CPU time.
tb_wakeups() {
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s + 0}'
}

# tb_window PID SECONDS: measures PID over SECONDS; prints JSON with its CPU % of one core,
# wake-ups per second, RSS at the end, peak RSS, and how busy the whole machine was meanwhile
# (noise: the other processes' share, in % of all CPUs).
tb_window() {
  local pid=$1 secs=$2 t0 t1 c0 c1 mb0 mt0 mb1 mt1 w0 w1
  read -r mb0 mt0 < <(tb_machine_jiffies)
  c0=$(tb_ticks "$pid")
  w0=$(tb_wakeups "$pid")
  t0=$(tb_now)
  sleep "$secs"
  c1=$(tb_ticks "$pid")
  w1=$(tb_wakeups "$pid")
  t1=$(tb_now)
  read -r mb1 mt1 < <(tb_machine_jiffies)
  local rss hwm load
  rss=$(tb_rss_kib "$pid")
  hwm=$(tb_hwm_kib "$pid")
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  "$PY" - "$c0" "$c1" "$t0" "$t1" "$CLK_TCK" "$rss" "$hwm" "$mb0" "$mt0" "$mb1" "$mt1" "$load" "$(nproc)" "$w0" "$w1" <<'EOF'
import json, sys
c0, c1, t0, t1, hz, rss, hwm, mb0, mt0, mb1, mt1 = map(float, sys.argv[1:12])
load, ncpu = sys.argv[12], int(sys.argv[13])
w0, w1 = float(sys.argv[14]), float(sys.argv[15])
wall = t1 - t0
cpu_s = (c1 - c0) / hz
busy_all = 100.0 * (mb1 - mb0) / max(1.0, mt1 - mt0)          # % of all CPUs
own_all = 100.0 * cpu_s / wall / ncpu                          # ours, % of all CPUs
print(json.dumps({
    "wall_s": round(wall, 3),
    "cpu_s": round(cpu_s, 3),
    "cpu_pct_one_core": round(100.0 * cpu_s / wall, 3),
    "wakeups_per_s": round(max(0.0, w1 - w0) / wall, 1),
    "rss_mib": round(rss / 1024, 1),
    "peak_rss_mib": round(hwm / 1024, 1),
    "machine_busy_pct": round(busy_all, 1),
    "others_busy_pct_all_cpus": round(max(0.0, busy_all - own_all), 1),
    "loadavg": load,
}))
EOF
}

# --- trove environments ------------------------------------------------------------------

# tb_free_port: a port free for TCP and UDP on 127.0.0.1 (below the ephemeral range).
tb_free_port() { "$PY" "$LOOPBACK" free-port; }

# tb_env DIR PORT [TRACKERS] [ROOT]: a fresh trove env in DIR: DIR/data, DIR/config.toml
# and its one root, "bench", at ROOT (default DIR/root), listening on 127.0.0.1:PORT, no
# DHT/LSD/UPnP: the tests' config; trackers off unless TRACKERS=true.
tb_env() {
  local dir=$1 port=$2 trackers=${3:-false} root=${4:-$1/root}
  rm -rf "$dir"
  mkdir -p "$dir/data" "$root"
  cat >"$dir/config.toml" <<EOF
[[roots]]
label = "bench"
path = "$root"

[network]
listen_port = $port
bind = "127.0.0.1"
dht = false
lsd = false
upnp = false
trackers = $trackers
EOF
}

# tb_trove DIR ARGS...: trove on the env in DIR.
tb_trove() {
  local dir=$1
  shift
  "$TROVE" --data-dir "$dir/data" --config "$dir/config.toml" "$@"
}

# --- the swarm --------------------------------------------------------------------------

# tb_seedbox_set COUNT SIZE_BYTES: the seedbox benches' torrents (COUNT single-file torrents
# of SIZE_BYTES, 16 KiB pieces, swarm.py make), made once and kept in
# $CACHE_DIR/seedbox-COUNT-SIZE_BYTES. Sets SET and PAYLOAD (their data).
tb_seedbox_set() {
  SET=$CACHE_DIR/seedbox-$1-$2
  if [[ ! -s $SET/torrents.json ]]; then
    tb_need_libtorrent
    say "making $1 torrents of $2 bytes (once; kept in $SET)"
    rm -rf "$SET"
    flock "$LOCK_FILE" "$PY" "$LIB/swarm.py" make --dir "$SET" --count "$1" --size "$2" \
      --piece-length 16384 >/dev/null || die "swarm.py make failed"
  fi
  PAYLOAD=$SET/payload
}

# tb_make_torrents DIR COUNT SIZE [TRACKER_URL]: COUNT single-file torrents of SIZE bytes
# (swarm.py make).
tb_make_torrents() {
  "$PY" "$LIB/swarm.py" make --dir "$1" --count "$2" --size "$3" ${4:+--tracker "$4"} >/dev/null ||
    die "swarm.py make failed"
}

# tb_tracker_start DIR PORT TORRENTS_JSON: opentracker on 127.0.0.1:PORT whitelisting the
# torrents of TORRENTS_JSON (Debian's build is whitelist-only, refuses to run as root, and
# chroots into DIR). Sets TRACKER_PID.
tb_tracker_start() {
  local dir=$1 port=$2 list=$3 i
  mkdir -p "$dir"
  # It writes the whitelist and execs opentracker: $! is opentracker's pid.
  "$PY" "$LOOPBACK" opentracker --dir "$dir" --port "$port" --allow-from "$list" \
    >"$dir/opentracker.log" 2>&1 </dev/null &
  TRACKER_PID=$!
  CLEANUP_PIDS+=("$TRACKER_PID")
  for i in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    kill -0 "$TRACKER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/opentracker.log" >&2
  die "opentracker did not start on port $port"
}

# tb_seeder_start DIR LIMIT: seeds every torrent of DIR capped at LIMIT bytes/s each.
# Sets SEEDER_PID, SEEDER_PORT; talk to it with tb_seeder CMD.
tb_seeder_start() {
  local dir=$1 limit=$2
  coproc SEEDER { exec "$PY" "$LIB/swarm.py" seed --dir "$dir" --upload-limit "$limit" 2>>"$WORK/seeder.err"; }
  SEEDER_PID=$SEEDER_PID
  CLEANUP_PIDS+=("$SEEDER_PID")
  local line
  if ! read -r -t 180 line <&"${SEEDER[0]}"; then
    cat "$WORK/seeder.err" >&2
    die "the seeder did not start"
  fi
  SEEDER_PORT=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["port"])' "$line")
}
tb_seeder() {
  echo "$*" >&"${SEEDER[1]}"
  local line
  read -r -t 30 line <&"${SEEDER[0]}" || die "no answer from the seeder to '$*'"
  echo "$line"
}
# tb_seeder_field CMD KEY: one field of the seeder's answer to CMD.
tb_seeder_field() {
  "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$(tb_seeder "$1")" "$2"
}

# tb_wait_peers N TIMEOUT: waits until N torrents of the seeder have a peer.
tb_wait_peers() {
  local n=$1 t=$2 end got=0
  end=$(($(date +%s) + t))
  while (($(date +%s) < end)); do
    got=$(tb_seeder_field status torrents_with_peers)
    ((got >= n)) && return 0
    sleep 0.5
  done
  say "only $got of $n torrents got a peer within ${t}s"
  return 1
}

# --- machine and results -----------------------------------------------------------------

tb_machine_json() {
  local rev dirty
  rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
  dirty=$(git -C "$REPO" status --porcelain 2>/dev/null | grep -c . || true)
  "$PY" - "$rev" "$dirty" "$(rustc --version 2>/dev/null || echo '?')" "$(tmux -V)" <<'EOF'
import json, os, platform, sys
cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem = 0
for line in open("/proc/meminfo"):
    if line.startswith("MemTotal:"):
        mem = int(line.split()[1]) // 1024
os_name = "?"
try:
    for line in open("/etc/os-release"):
        if line.startswith("PRETTY_NAME="):
            os_name = line.split("=", 1)[1].strip().strip('"')
except OSError:
    pass
print(json.dumps({
    "cpu": cpu, "cpus": os.cpu_count(), "mem_mib": mem, "os": os_name,
    "kernel": platform.release(), "rustc": sys.argv[3], "tmux": sys.argv[4],
    "trove_commit": sys.argv[1], "uncommitted_files": int(sys.argv[2]),
    "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
}))
EOF
}

# tb_report RESULT_JSON: writes bench/results/<name>-<date>.{md,json} from the JSON the bench
# assembled (see lib/results.py) and prints the Markdown.
tb_report() {
  "$PY" "$LIB/results.py" "$1" "$RESULTS_DIR"
}
