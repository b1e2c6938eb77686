#!/usr/bin/env bash
# Bytes sent to the terminal: what a slow SSH link has to carry. trove in
# tmux at 120x40 with 20 active torrents from local libtorrent seeders, bytes written per
# second over 60 s (tmux pipe-pane), next to rtorrent (Debian) showing the same 20 torrents
# from the same seeder. Target: trove at most half of rtorrent's bytes per second.
# With --clients trove,trove-attached: the dashboard hosting the session itself next to one
# attached to a `trove daemon` holding the same torrents (they should write the same).
# See bench/README.md.
#
#   bench/terminal-bytes.sh                    # 3 interleaved runs of each, 60 s windows
#   bench/terminal-bytes.sh --runs 1 --seconds 20
#   bench/terminal-bytes.sh --clients trove,trove-attached
#   bench/terminal-bytes.sh --help
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=terminal-bytes
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/terminal-bytes.sh [options]

Makes ACTIVE torrents of ACTIVE_SIZE bytes and seeds them from one local libtorrent process
capped at ACTIVE_RATE bytes/s per torrent (so they stay active the whole window). Then, RUNS
times, interleaved, each of CLIENTS:
  trove           fresh data dir, the torrents added with `trove add`; the dashboard runs
                  the session itself;
  trove-attached  the same, but the session runs in `trove daemon` on that data dir and the
                  dashboard (`trove` on the same data dir) attaches to it through its socket;
                  the daemon's CPU over the window is recorded too;
  rtorrent        fresh session, `load.start` of the same .torrent files;
each in its own tmux session of
COLSxROWS; the seeder dials the client's port; once every torrent has its peer and SETTLE
seconds passed, `tmux pipe-pane -o 'cat >> FILE'` records everything the program writes for
SECONDS; bytes/s = size / SECONDS. The client's CPU over the same window is recorded too,
and the stream is split into text, colour (SGR), cursor-move and other bytes.
Every measured run holds /tmp/trove-bench.lock (as `flock /tmp/trove-bench.lock CMD`).

Options (environment variable in brackets):
  --runs N             runs of each client (median reported)      [BENCH_RUNS, 3]
  --clients LIST       comma-separated, from trove, trove-attached, rtorrent
                                                                  [BENCH_CLIENTS, trove,rtorrent]
  --seconds S          length of each window                      [BENCH_SECONDS, 60]
  --settle S           wait before the window opens               [BENCH_SETTLE, 5]
  --active N           torrents                                   [BENCH_ACTIVE, 20]
  --active-size BYTES  size of each torrent                       [BENCH_ACTIVE_SIZE, 25165824]
  --active-rate BPS    seeder's upload cap per torrent            [BENCH_ACTIVE_RATE, 131072]
  --size COLSxROWS     terminal size                              [BENCH_TERM, 120x40]
  --trove PATH         trove binary (implies no build)            [TROVE_BIN]
  --no-build           do not run `cargo build --release`         [BENCH_NO_BUILD=1]
  --work-dir DIR       parent of the temporary work dir           [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR    where terminal-bytes-<date>.md/.json go    [BENCH_RESULTS_DIR, bench/results]
  --keep               keep the work dir (the recorded streams)   [BENCH_KEEP=1]
  -h, --help           this text
Needs: tmux, opentracker, rtorrent (when measured), /usr/bin/python3 with python3-libtorrent.
EOF
}

ORIG_CMD="bench/terminal-bytes.sh${*:+ $*}"
RUNS=${BENCH_RUNS:-3}
CLIENTS=${BENCH_CLIENTS:-trove,rtorrent}
SECONDS_W=${BENCH_SECONDS:-60}
SETTLE=${BENCH_SETTLE:-5}
ACTIVE=${BENCH_ACTIVE:-20}
ACTIVE_SIZE=${BENCH_ACTIVE_SIZE:-25165824}
ACTIVE_RATE=${BENCH_ACTIVE_RATE:-131072}
TERM_SIZE=${BENCH_TERM:-120x40}
TROVE=${TROVE_BIN:-}
NO_BUILD=${BENCH_NO_BUILD:-0}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}

while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --clients) CLIENTS=${2:?}; shift 2 ;;
    --seconds) SECONDS_W=${2:?}; shift 2 ;;
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

IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
for c in "${CLIENT_LIST[@]}"; do
  case $c in
    trove | trove-attached | rtorrent) ;;
    *) usage >&2; die "unknown client $c in --clients (trove, trove-attached, rtorrent)" ;;
  esac
done
tb_need flock tmux opentracker
[[ ,$CLIENTS, == *,rtorrent,* ]] && tb_need rtorrent
tb_need_libtorrent
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-terminal-bytes.XXXXXX")
RUNS_FILE=$WORK/runs.jsonl
: >"$RUNS_FILE"
MACHINE=$(tb_machine_json)
tb_build
RTORRENT_VERSION=$( (rtorrent -h 2>&1 || true) | head -1)

# rtorrent refuses a torrent without a tracker ("Could not find any trackers"), so the
# torrents announce to a local opentracker; the seeder also dials each client directly.
TRACKER_PORT=$(tb_free_port)
say "making $ACTIVE torrents of $ACTIVE_SIZE bytes"
tb_lock
tb_make_torrents "$WORK/active" "$ACTIVE" "$ACTIVE_SIZE" "http://127.0.0.1:$TRACKER_PORT/announce"
tb_unlock
tb_tracker_start "$WORK/tracker" "$TRACKER_PORT" "$WORK/active/torrents.json"
tb_seeder_start "$WORK/active" "$ACTIVE_RATE"
say "seeder on 127.0.0.1:$SEEDER_PORT, $ACTIVE torrents capped at $ACTIVE_RATE B/s each"

# rtorrent_env DIR PORT: a fresh rtorrent session and config in DIR loading every torrent.
rtorrent_env() {
  local dir=$1 port=$2 t
  rm -rf "$dir"
  mkdir -p "$dir/session" "$dir/download"
  {
    echo "directory.default.set = $dir/download"
    echo "session.path.set = $dir/session"
    echo "network.port_range.set = $port-$port"
    echo "network.port_random.set = no"
    echo "network.bind_address.set = 127.0.0.1"
    echo "network.local_address.set = 127.0.0.1"
    echo "dht.mode.set = disable"
    echo "protocol.pex.set = no"
    echo "trackers.use_udp.set = no"
    echo "system.umask.set = 0022"
    for t in "$WORK"/active/torrents/*.torrent; do
      echo "load.start = $t"
    done
  } >"$dir/rtorrent.rc"
}

# client_run CLIENT RUN: one measured window; appends a JSON line to RUNS_FILE.
client_run() {
  # Data dirs of the same length, so the paths trove shows cost both kinds alike.
  local client=$1 run=$2 env port pid ready_re quit_key daemon_pid=""
  case $client in
    trove) env=$WORK/env-tl ;;
    trove-attached) env=$WORK/env-ta ;;
    rtorrent) env=$WORK/env-rt ;;
  esac
  port=$(tb_free_port)
  case $client in
    trove | trove-attached)
      tb_env "$env" "$port" true
      tb_trove "$env" add "$WORK"/active/torrents/*.torrent >/dev/null
      ready_re="[^0-9]$ACTIVE torrents"
      quit_key=q
      ;;&
    trove-attached)
      "$TROVE" --data-dir "$env/data" --config "$env/config.toml" daemon >"$WORK/daemon-$run.log" 2>&1 &
      daemon_pid=$!
      CLEANUP_PIDS+=("$daemon_pid")
      for _ in $(seq 600); do
        [[ -S $env/data/trove.sock ]] && break
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
      done
      [[ -S $env/data/trove.sock ]] || { tail -20 "$WORK/daemon-$run.log" >&2; die "trove-attached run $run: the daemon did not serve its socket"; }
      ;;
    rtorrent)
      rtorrent_env "$env" "$port"
      # rtorrent's main view names the torrents (as many as fit); wait for the first.
      ready_re="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["name"][:20])' "$WORK/active/torrents.json" | sed 's/[][().*+?^$|\\]/\\&/g')"
      quit_key=C-q
      ;;
  esac
  tb_lock
  case $client in
    trove | trove-attached) pid=$(tb_tmux_start "$client" "$COLS" "$ROWS" "$TROVE" --data-dir "$env/data" --config "$env/config.toml") ;;
    rtorrent) pid=$(tb_tmux_start "$client" "$COLS" "$ROWS" rtorrent -n -o "import=$env/rtorrent.rc") ;;
  esac
  tb_wait_screen "$client" "$ready_re" 120 || die "$client run $run: its screen never showed the torrents"
  tb_seeder "dial $port" >/dev/null
  tb_wait_peers "$ACTIVE" 90 || die "$client run $run: the seeder could not reach every torrent"
  sleep "$SETTLE"
  local stream=$WORK/stream-$client-$run.bin up0 up1 w st d0="" d1="" dt0 dt1
  : >"$stream"
  up0=$(tb_seeder_field status uploaded)
  tbt pipe-pane -o -t "$client" "cat >> '$stream'"
  say "$client run $run: recording pid $pid's output for ${SECONDS_W}s"
  if [[ -n $daemon_pid ]]; then
    dt0=$(tb_now)
    d0=$(tb_ticks "$daemon_pid")
  fi
  w=$(tb_window "$pid" "$SECONDS_W")
  if [[ -n $daemon_pid ]]; then
    d1=$(tb_ticks "$daemon_pid")
    dt1=$(tb_now)
  fi
  tbt pipe-pane -t "$client"
  st=$(tb_seeder status)
  up1=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["uploaded"])' "$st")
  ((up1 > up0)) || die "$client run $run: nothing was transferred during the window (seeder: $st)"
  sleep 0.5 # let cat write what it read
  tbt capture-pane -p -t "$client" >"$WORK/screen-$client-$run.txt"
  tb_pane_dead "$client" && die "$client run $run: the client exited during the window"
  tb_tmux_stop "$client" "$pid" "$quit_key"
  if [[ -n $daemon_pid ]]; then
    kill -0 "$daemon_pid" 2>/dev/null || die "trove-attached run $run: the daemon exited"
    tb_trove "$env" stop >/dev/null
    wait "$daemon_pid" || true
  fi
  tb_seeder undial >/dev/null
  tb_unlock
  local stats
  stats=$("$PY" "$LIB/ansi_stats.py" "$stream" "$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["wall_s"])' "$w")" \
    "$WORK/screen-$client-$run.txt")
  "$PY" - "$w" "$stats" "$client" "$run" "$up0" "$st" "$WORK/screen-$client-$run.txt" \
    "${d0:-0}" "${d1:-0}" "${dt0:-0}" "${dt1:-0}" "$CLK_TCK" >>"$RUNS_FILE" <<'EOF'
import json, sys
w, stats = json.loads(sys.argv[1]), json.loads(sys.argv[2])
st = json.loads(sys.argv[6])
d0, d1, dt0, dt1, hz = map(float, sys.argv[8:13])
if dt1 > dt0:
    # The session's own process (trove daemon) when the dashboard is attached to it.
    w["daemon_cpu_pct_one_core"] = round(100.0 * (d1 - d0) / hz / (dt1 - dt0), 3)
w.update({"client": sys.argv[3], "run": int(sys.argv[4]), "stream": stats,
          "seeder_bytes_in_window": st["uploaded"] - int(sys.argv[5]),
          "torrents_with_peers_at_end": st["torrents_with_peers"],
          "screen_at_end": open(sys.argv[7], errors="replace").read()})
w["transfer_rate_kib_s"] = round(w["seeder_bytes_in_window"] / 1024 / w["wall_s"], 1)
print(json.dumps(w))
EOF
  "$PY" -c 'import json,sys; d=json.loads(sys.stdin.readlines()[-1]); print("%s run %s: %s B/s to the terminal, CPU %.2f%%, %s KiB/s transferred, %s torrents with a peer at the end" % (d["client"], d["run"], d["stream"]["bytes_per_s"], d["cpu_pct_one_core"], d["transfer_rate_kib_s"], d["torrents_with_peers_at_end"]))' <"$RUNS_FILE" >&2
  rm -rf "$env"
}

for r in $(seq "$RUNS"); do
  # Rotate which goes first, so a drift in the machine's load hits every client alike.
  n=${#CLIENT_LIST[@]}
  for i in $(seq 0 $((n - 1))); do
    client_run "${CLIENT_LIST[(i + r - 1) % n]}" "$r"
  done
done

"$PY" - "$RUNS_FILE" "$MACHINE" "$ORIG_CMD" "$WORK/result.json" "$SECONDS_W" "$ACTIVE" \
  "$ACTIVE_SIZE" "$ACTIVE_RATE" "$COLS" "$ROWS" "$RTORRENT_VERSION" "$SETTLE" "$CLIENTS" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
machine, cmd, out = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
secs, nact, asize, arate, cols, rows, rtv, settle, clients = sys.argv[5:14]
clients = clients.split(",")

def agg(xs):
    xs = list(xs)
    return statistics.median(xs), min(xs), max(xs)

by = {c: [r for r in runs if r["client"] == c] for c in clients}
rows_, med = [], {}
for c in clients:
    rs = by[c]
    if not rs:
        continue
    b = agg(r["stream"]["bytes_per_s"] for r in rs)
    med[c] = b[0]
    cpu = agg(r["cpu_pct_one_core"] for r in rs)
    kinds = {k: statistics.median(r["stream"]["bytes_per_s_by_kind"][k] for r in rs)
             for k in rs[0]["stream"]["bytes_per_s_by_kind"]}
    rows_.append([c, len(rs), "%.0f (%.0f–%.0f)" % b,
                  "%.0f" % kinds["text"], "%.0f" % kinds["sgr"], "%.0f" % kinds["cursor"],
                  "%.0f" % (kinds["erase"] + kinds["other_csi"] + kinds["other_esc"] + kinds["control"]),
                  "%.2f (%.2f–%.2f)" % cpu + (
                      "; daemon %.2f" % statistics.median(r["daemon_cpu_pct_one_core"] for r in rs)
                      if c == "trove-attached" else ""),
                  "%.0f" % statistics.median(r["transfer_rate_kib_s"] for r in rs),
                  "%.0f" % statistics.median(r["others_busy_pct_all_cpus"] for r in rs)])
sections = []
for c in clients:
    tr = [r for r in by[c] if r["stream"].get("by_region_bytes_per_s")]
    if not c.startswith("trove") or not tr:
        continue
    regs = list(tr[0]["stream"]["by_region_bytes_per_s"])
    tot = statistics.median(r["stream"]["bytes_per_s"] for r in tr)
    rrows = []
    for k in regs:
        v = statistics.median(r["stream"]["by_region_bytes_per_s"][k] for r in tr)
        rrows.append([k, "%.0f" % v, "%.0f%%" % (100 * v / tot if tot else 0)])
    sections.append({"heading": "Where %s's bytes go (screen regions, median of runs)" % c,
                     "columns": ["region", "bytes/s", "share"], "rows": rrows,
                     "notes": ["Each byte (text and escape sequences) is charged to the cell the "
                               "cursor is on when it is written, following cursor moves; regions "
                               "from the screen at the end of the run."]})
for c in clients:
    if by[c]:
        last = by[c][-1]["stream"]
        sections.append({"heading": "%s: the rows that cost most (last run)" % c,
                         "columns": ["row", "bytes/s", "text on the row at the end"],
                         "rows": [[t["row"], t["bytes_per_s"], "`%s`" % t["text"][:90].replace("`", "'")]
                                  for t in last["top_rows"]]})
notes = []
ratio = None
if "trove" in med and "rtorrent" in med and med["rtorrent"] > 0:
    ratio = med["trove"] / med["rtorrent"]
    notes.append("trove / rtorrent = %.2f (target ≤ 0.5): %s." % (
        ratio, "meets" if ratio <= 0.5 else "**misses**"))
ratio_attached = None
if "trove" in med and "trove-attached" in med and med["trove"] > 0:
    ratio_attached = med["trove-attached"] / med["trove"]
    notes.append("trove-attached / trove = %.2f (an attached dashboard should write what a local "
                 "one writes). trove-attached's CPU is the dashboard's alone; the session's "
                 "work is in the daemon's figure, while the local trove's includes it." % ratio_attached)
notes += [
    "%s torrents of %s bytes, one local libtorrent seeder capped at %s B/s per torrent; the "
    "seeder dials the client's port (for trove-attached, the daemon's). Every client with its default settings "
    "(trove refreshes stats every 1000 ms; %s). The torrents announce to a local opentracker "
    "(rtorrent refuses torrents without a tracker); trove's config has trackers on." % (nact, asize, arate, rtv),
    "The window opens %s s after every torrent has its peer (so the first full paint is not "
    "counted) and lasts %s s; bytes are what the program wrote to its pty, as tmux "
    "`pipe-pane -o` hands them over." % (settle, secs),
    "Kinds: text = printable bytes (UTF-8 counted in bytes), SGR = colour/attribute "
    "sequences, cursor = cursor positioning, other = erase, other escapes and control bytes.",
    "Every measured run held /tmp/trove-bench.lock; runs rotate which client goes first.",
]
result = {"name": "terminal-bytes", "title": "Bytes sent to the terminal",
          "command": cmd, "machine": machine,
          "sections": [{"heading": "Bytes per second written to the terminal (%sx%s, %s active torrents, %s s)" % (cols, rows, nact, secs),
                        "columns": ["client", "runs", "bytes/s, median (min–max)", "text B/s",
                                    "SGR B/s", "cursor B/s", "other B/s",
                                    "client CPU % of one core, median (min–max)", "transfer KiB/s", "noise: others % of all CPUs"],
                        "rows": rows_, "notes": notes}] + sections,
          "notes": [],
          "data": {"runs": runs, "ratio_trove_over_rtorrent": ratio,
                   "ratio_attached_over_trove": ratio_attached, "clients": clients,
                   "params": {"seconds": int(secs), "active": int(nact), "active_size": int(asize),
                              "active_rate": int(arate), "term": "%sx%s" % (cols, rows),
                              "rtorrent": rtv, "settle_s": int(settle)}}}
json.dump(result, open(out, "w"), indent=1)
EOF
tb_report "$WORK/result.json"
