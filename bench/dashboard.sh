#!/usr/bin/env bash
# Dashboard cost: what drawing the dashboard costs, in a criterion bench
# (crates/trove-ui/benches/dashboard.rs: 160x48 TestBackend, 10,000 torrents) and in the
# real `trove` process in tmux over 60 s, idle with 1,000 paused torrents and with 20
# active transfers from a local libtorrent seeder. See bench/README.md.
#
#   bench/dashboard.sh                 # everything, 3 runs of each 60 s window
#   bench/dashboard.sh --runs 1 --seconds 20 --no-criterion   # a quick look
#   bench/dashboard.sh --help
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=dashboard
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: bench/dashboard.sh [options]

1. criterion: `cargo bench -p trove-ui --bench dashboard` (crates/trove-ui/benches/dashboard.rs), medians read from
   target/criterion/*/new/estimates.json; then, with perf, a profile of the headline frame
   (160x48, 10,000 torrents) split by pane.
2. the trove TUI in tmux (COLSxROWS), CPU % of one core from /proc/PID/stat (utime+stime)
   over SECONDS, RSS at the end and peak RSS:
   idle:    TORRENTS tiny torrents added with `trove add --paused` (payload absent);
   idle-nodetails (diagnostic, 1 run): the same with the log full screen, so the detail
            pane is hidden;
   active-nodetails (diagnostic, 1 run): the active scenario with the detail pane hidden;
   active:  ACTIVE torrents of ACTIVE_SIZE bytes downloading from a local libtorrent seeder
            capped at ACTIVE_RATE bytes/s per torrent, so they stay active the whole window.
Every measured run holds /tmp/trove-bench.lock (as `flock /tmp/trove-bench.lock CMD`).

Options (environment variable in brackets):
  --runs N             runs of each TUI scenario (median reported)   [BENCH_RUNS, 3]
  --seconds S          length of each TUI window                     [BENCH_SECONDS, 60]
  --settle S           wait after start-up before a window opens     [BENCH_SETTLE, 15]
  --torrents N         paused torrents of the idle scenario          [BENCH_TORRENTS, 1000]
  --active N           active transfers                              [BENCH_ACTIVE, 20]
  --active-size BYTES  size of each active torrent                   [BENCH_ACTIVE_SIZE, 25165824]
  --active-rate BPS    seeder's upload cap per torrent               [BENCH_ACTIVE_RATE, 131072]
  --size COLSxROWS     terminal size of the TUI runs                 [BENCH_TERM, 160x48]
  --no-criterion       skip the criterion bench                      [BENCH_CRITERION=0]
  --no-profile         skip the perf profile of the frame            [BENCH_PROFILE=0]
  --no-tui             skip the TUI process runs                     [BENCH_TUI=0]
  --no-diagnose        skip the *-nodetails diagnostic runs          [BENCH_DIAGNOSE=0]
  --trove PATH         trove binary (implies no build of it)         [TROVE_BIN]
  --no-build           build nothing (the bench binary must exist)   [BENCH_NO_BUILD=1]
  --work-dir DIR       parent of the temporary work dir              [BENCH_WORK_DIR, $TMPDIR or /tmp]
  --results-dir DIR    where dashboard-<date>.md/.json go            [BENCH_RESULTS_DIR, bench/results]
  --keep               keep the work dir                             [BENCH_KEEP=1]
  -h, --help           this text
EOF
}

ORIG_CMD="bench/dashboard.sh${*:+ $*}"
RUNS=${BENCH_RUNS:-3}
SECONDS_W=${BENCH_SECONDS:-60}
SETTLE=${BENCH_SETTLE:-15}
NTORRENTS=${BENCH_TORRENTS:-1000}
ACTIVE=${BENCH_ACTIVE:-20}
ACTIVE_SIZE=${BENCH_ACTIVE_SIZE:-25165824}
ACTIVE_RATE=${BENCH_ACTIVE_RATE:-131072}
TERM_SIZE=${BENCH_TERM:-160x48}
CRITERION=${BENCH_CRITERION:-1}
PROFILE=${BENCH_PROFILE:-1}
TUI=${BENCH_TUI:-1}
DIAGNOSE=${BENCH_DIAGNOSE:-1}
TROVE=${TROVE_BIN:-}
NO_BUILD=${BENCH_NO_BUILD:-0}
WORK_PARENT=${BENCH_WORK_DIR:-${TMPDIR:-/tmp}}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}

while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --seconds) SECONDS_W=${2:?}; shift 2 ;;
    --settle) SETTLE=${2:?}; shift 2 ;;
    --torrents) NTORRENTS=${2:?}; shift 2 ;;
    --active) ACTIVE=${2:?}; shift 2 ;;
    --active-size) ACTIVE_SIZE=${2:?}; shift 2 ;;
    --active-rate) ACTIVE_RATE=${2:?}; shift 2 ;;
    --size) TERM_SIZE=${2:?}; shift 2 ;;
    --no-criterion) CRITERION=0; shift ;;
    --no-profile) PROFILE=0; shift ;;
    --no-tui) TUI=0; shift ;;
    --no-diagnose) DIAGNOSE=0; shift ;;
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
WORK=$(mktemp -d "$WORK_PARENT/trove-bench-dashboard.XXXXXX")
RUNS_FILE=$WORK/runs.jsonl
: >"$RUNS_FILE"
MACHINE=$(tb_machine_json)

# --- 1. criterion -------------------------------------------------------------------------

CRIT_JSON='{}'
PROFILE_JSON='{}'
if [[ $CRITERION == 1 ]]; then
  BENCH_BIN=$(cd "$REPO" && cargo bench -p trove-ui --bench dashboard --no-run --message-format=json 2>"$WORK/bench-build.err" |
    "$PY" -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "dashboard":
        print(m["executable"])') || { tail -30 "$WORK/bench-build.err" >&2; die "cannot build the dashboard bench"; }
  [[ -x $BENCH_BIN ]] || die "no bench binary (cargo bench -p trove-ui --bench dashboard --no-run)"
  TARGET_DIR=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  rm -rf "$TARGET_DIR/criterion/frame" "$TARGET_DIR/criterion/frame_same" "$TARGET_DIR/criterion/frame_log" \
    "$TARGET_DIR/criterion/part" "$TARGET_DIR/criterion/ingest" "$TARGET_DIR/criterion/tick"
  say "criterion: $BENCH_BIN (about 2 minutes)"
  tb_lock
  (cd "$REPO" && CRITERION_HOME="$TARGET_DIR/criterion" "$BENCH_BIN" --bench) >"$WORK/criterion.txt" 2>&1 ||
    { tail -40 "$WORK/criterion.txt" >&2; die "the criterion bench failed"; }
  tb_unlock
  grep -E "time:|^[a-z_]+/" "$WORK/criterion.txt" >&2 || true
  CRIT_JSON=$("$PY" - "$TARGET_DIR/criterion" <<'EOF'
import glob, json, os, sys
root = sys.argv[1]
out = {}
for f in sorted(glob.glob(os.path.join(root, "*", "*", "*", "new", "estimates.json"))):
    rel = os.path.relpath(os.path.dirname(os.path.dirname(f)), root)
    e = json.load(open(f))
    med = e["median"]
    out[rel] = {
        "median_us": round(med["point_estimate"] / 1000, 2),
        "median_ci95_us": [round(med["confidence_interval"]["lower_bound"] / 1000, 2),
                           round(med["confidence_interval"]["upper_bound"] / 1000, 2)],
        "mean_us": round(e["mean"]["point_estimate"] / 1000, 2),
    }
print(json.dumps(out))
EOF
)
  if [[ $PROFILE == 1 ]] && command -v perf >/dev/null; then
    say "perf: profiling frame/160x48/10000 for 10 s"
    tb_lock
    if (cd "$WORK" && perf record -F 1999 -g --call-graph dwarf,32768 -o "$WORK/frame.perf" \
      "$BENCH_BIN" --bench --profile-time 10 '^frame/160x48/10000$') >"$WORK/perf-record.txt" 2>&1; then
      tb_unlock
      # --no-inline: only real symbols (a pane's draw function inlined into draw::draw is
      # then not listed on its own); children = inclusive time.
      perf report -i "$WORK/frame.perf" --no-inline --children --sort sym --stdio 2>/dev/null >"$WORK/frame-children.txt" || true
      perf report -i "$WORK/frame.perf" --no-inline --no-children --sort sym --stdio 2>/dev/null >"$WORK/frame-self.txt" || true
      PROFILE_JSON=$("$PY" - "$WORK/frame-children.txt" "$WORK/frame-self.txt" <<'EOF'
import json, re, sys
parts = [
    ("whole frame (Terminal::try_draw)", "ratatui::terminal::terminal::Terminal<B>::try_draw"),
    ("render: trove::ui::draw::draw (every pane)", "trove::ui::draw::draw"),
    ("torrent table (draw::table::draw)", "trove::ui::draw::table::draw"),
    ("table: the rows' cells (table::cell)", "trove::ui::draw::table::cell"),
    ("table: ratatui Table::render", "<ratatui::widgets::table::table::Table as ratatui::widgets::StatefulWidget>::render"),
    ("detail pane (draw::details::draw)", "trove::ui::draw::details::draw"),
    ("detail pane: overview (details::overview)", "trove::ui::draw::details::overview"),
    ("detail pane: the rate chart (Chart::render)", "<ratatui::widgets::chart::Chart as ratatui::widgets::Widget>::render"),
    ("header (draw::header::draw)", "trove::ui::draw::header::draw"),
    ("status line (draw::status::draw)", "trove::ui::draw::status::draw"),
    ("paragraphs (Paragraph::render)", "<ratatui::widgets::paragraph::Paragraph as ratatui::widgets::WidgetRef>::render_ref"),
    ("flush (Terminal::flush)", "ratatui::terminal::terminal::Terminal<B>::flush"),
    ("flush: diff against the last frame (Buffer::diff)", "ratatui::buffer::buffer::Buffer::diff"),
    ("swap: Buffer::reset", "ratatui::buffer::buffer::Buffer::reset"),
]
LINE = re.compile(r"^\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?\[[.k]\]\s+(.*?)\s*$")

def read(path):
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if m:
            yield float(m.group(1)), re.sub(r"::h[0-9a-f]{16}$", "", m.group(3))

best = {}
for pct, sym in read(sys.argv[1]):
    for label, name in parts:
        if sym == name:
            best[label] = max(best.get(label, 0.0), pct)
total = best.get(parts[0][0])
out = {"parts": {}, "self": []}
for label, _ in parts:
    if label in best and total:
        out["parts"][label] = round(100.0 * best[label] / total, 1)
for pct, sym in read(sys.argv[2]):
    if len(out["self"]) >= 12:
        break
    out["self"].append([sym[:110], round(100.0 * pct / total, 1) if total else pct])
print(json.dumps(out))
EOF
)
    else
      tb_unlock
      say "perf record failed (see $WORK/perf-record.txt); no profile"
    fi
  fi
fi

# --- 2. the TUI process -------------------------------------------------------------------

# tui_run SCENARIO RUN ENV_DIR EXPECT_TORRENTS [KEYS]: one measured window of the TUI on
# ENV_DIR; appends a JSON line to RUNS_FILE. Needs the seeder when SCENARIO=active.
tui_run() {
  local scenario=$1 run=$2 env=$3 expect=$4 keys=${5:-} port pid
  port=$(sed -n 's/^listen_port = //p' "$env/config.toml")
  tb_lock
  pid=$(tb_tmux_start tui "$COLS" "$ROWS" "$TROVE" --data-dir "$env/data" --config "$env/config.toml")
  local t_start
  t_start=$(tb_now)
  tb_wait_screen tui "[^0-9]$expect torrents" 120 || die "$scenario run $run: trove did not show $expect torrents"
  if [[ -n $keys ]]; then
    local k
    for k in $keys; do tbt send-keys -t tui "$k"; sleep 0.3; done
  fi
  local up0=0 up1=0 peers_end=0 rate_end=0
  if [[ $scenario == active* ]]; then
    tb_seeder "dial $port" >/dev/null
    tb_wait_peers "$ACTIVE" 90 || die "active run $run: the seeder could not reach every torrent"
  fi
  sleep "$SETTLE"
  [[ $scenario == active* ]] && up0=$(tb_seeder_field status uploaded)
  say "$scenario run $run: measuring pid $pid for ${SECONDS_W}s"
  local w
  w=$(tb_window "$pid" "$SECONDS_W")
  if [[ $scenario == active* ]]; then
    local st
    st=$(tb_seeder status)
    read -r up1 peers_end rate_end < <("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["uploaded"], d["torrents_with_peers"], d["upload_rate"])' "$st")
    ((up1 > up0)) || die "active run $run: nothing was transferred during the window (seeder: $st)"
  fi
  local screen_rows
  screen_rows=$(tbt capture-pane -p -t tui | grep -c . || true)
  tbt capture-pane -p -t tui >"$WORK/screen-$scenario-$run.txt"
  tb_pane_dead tui && die "$scenario run $run: trove exited during the window"
  tb_tmux_stop tui "$pid" q
  [[ $scenario == active* ]] && tb_seeder undial >/dev/null
  tb_unlock
  local files_in_root
  files_in_root=$(find "$env/root" -type f | wc -l)
  "$PY" - "$w" "$scenario" "$run" "$up0" "$up1" "$peers_end" "$rate_end" "$files_in_root" "$t_start" >>"$RUNS_FILE" <<'EOF'
import json, sys
w = json.loads(sys.argv[1])
up0, up1 = int(sys.argv[4]), int(sys.argv[5])
w.update({"scenario": sys.argv[2], "run": int(sys.argv[3]),
          "files_in_root_after": int(sys.argv[8])})
if sys.argv[2].startswith("active"):
    w.update({"seeder_bytes_in_window": up1 - up0,
              "transfer_rate_kib_s": round((up1 - up0) / 1024 / w["wall_s"], 1),
              "torrents_with_peers_at_end": int(sys.argv[6]),
              "seeder_rate_at_end_kib_s": round(float(sys.argv[7]) / 1024, 1)})
print(json.dumps(w))
EOF
  say "$scenario run $run: $(tail -1 "$RUNS_FILE")"
}

if [[ $TUI == 1 ]]; then
  tb_need_libtorrent
  tb_build
  say "making $NTORRENTS tiny torrents and $ACTIVE x $ACTIVE_SIZE-byte ones"
  tb_lock
  tb_make_torrents "$WORK/tiny" "$NTORRENTS" 16384
  tb_make_torrents "$WORK/active" "$ACTIVE" "$ACTIVE_SIZE"
  tb_unlock

  # idle: paused torrents whose payload is absent (the root is empty before the first start).
  tb_env "$WORK/idle" "$(tb_free_port)"
  say "trove add --paused $NTORRENTS torrents"
  tb_trove "$WORK/idle" add --paused "$WORK"/tiny/torrents/*.torrent >/dev/null
  for r in $(seq "$RUNS"); do
    tui_run idle "$r" "$WORK/idle" "$NTORRENTS"
  done
  if [[ $DIAGNOSE == 1 ]]; then
    # The detail pane hidden (log full screen: z): what the idle process costs
    # without the pane's details requests.
    tui_run idle-nodetails 1 "$WORK/idle" "$NTORRENTS" "z"
  fi

  tb_seeder_start "$WORK/active" "$ACTIVE_RATE"
  say "seeder on 127.0.0.1:$SEEDER_PORT, $ACTIVE torrents capped at $ACTIVE_RATE B/s each"
  for r in $(seq "$RUNS"); do
    tb_env "$WORK/active-env" "$(tb_free_port)"
    tb_trove "$WORK/active-env" add "$WORK"/active/torrents/*.torrent >/dev/null
    tui_run active "$r" "$WORK/active-env" "$ACTIVE"
    rm -rf "$WORK/active-env"
  done
  if [[ $DIAGNOSE == 1 ]]; then
    tb_env "$WORK/active-env" "$(tb_free_port)"
    tb_trove "$WORK/active-env" add "$WORK"/active/torrents/*.torrent >/dev/null
    tui_run active-nodetails 1 "$WORK/active-env" "$ACTIVE" "z"
    rm -rf "$WORK/active-env"
  fi
fi

# --- results ------------------------------------------------------------------------------

"$PY" - "$RUNS_FILE" "$CRIT_JSON" "$PROFILE_JSON" "$MACHINE" "$ORIG_CMD" "$WORK/result.json" \
  "$SECONDS_W" "$NTORRENTS" "$ACTIVE" "$ACTIVE_SIZE" "$ACTIVE_RATE" "$COLS" "$ROWS" "$SETTLE" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
crit, prof, machine = json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
cmd, out = sys.argv[5], sys.argv[6]
secs, ntor, nact, asize, arate, cols, rows, settle = sys.argv[7:15]
sections, notes = [], []

def verdict(value, target, lower_is_better=True):
    if value is None:
        return "–"
    ok = value < target if lower_is_better else value > target
    return "meets" if ok else "**misses**"

if crit:
    order = [("frame/160x48/10000", "one frame, 160x48, 10,000 torrents (headline)", 1000.0),
             ("frame_same/160x48/10000", "same frame redrawn, nothing changed", None),
             ("frame/160x48/1000", "one frame, 160x48, 1,000 torrents", None),
             ("frame/80x24/10000", "one frame, 80x24, 10,000 torrents", None),
             ("frame_log/160x48/10000", "one frame with the log pane, 10,000 torrents", None),
             ("part/table+pieces_tab/10000", "detail pane on the Pieces tab (no chart)", None),
             ("part/log_full/10000", "log full screen (no table, no detail pane)", None),
             ("ingest/added/10000", "new snapshot: filter + sort 10,000 rows, sort = added", None),
             ("ingest/name/10000", "new snapshot: filter + sort 10,000 rows, sort = name", None),
             ("tick/160x48/10000", "new snapshot + frame (one stats refresh)", None)]
    rows_ = []
    for key, what, target in order:
        e = crit.get(key)
        if not e:
            continue
        rows_.append([key, what, e["median_us"], "%s–%s" % tuple(e["median_ci95_us"]),
                      "< %d µs" % target if target else "", verdict(e["median_us"], target) if target else ""])
    sections.append({"heading": "Render cost (criterion, crates/trove-ui/benches/dashboard.rs)",
                     "columns": ["bench", "what", "median µs", "95% CI of median", "target", ""],
                     "rows": rows_,
                     "notes": ["`Terminal::draw` on ratatui's TestBackend: render every pane, diff "
                               "against the previous frame, hand the changed cells to the backend. "
                               "`frame/*` alternates two snapshots whose rates all differ, so every "
                               "frame has real changes.",
                               "Synthetic session: realistic names (series, distros, films, music, "
                               "some non-ASCII), sizes 4 MiB–64 GiB, 55% seeding, 25% paused, 12% "
                               "downloading, queued/checking/error; the selected torrent's details "
                               "(24 files, 30 peers, 4,000 pieces) loaded."]})
if prof.get("parts"):
    head = crit.get("frame/160x48/10000", {}).get("median_us")
    sections.append({"heading": "Where a frame's time goes (perf, frame/160x48/10000)",
                     "columns": ["part", "% of the frame", "≈ µs of the median frame"],
                     "rows": [[k, v, round(v * head / 100, 1) if head else None] for k, v in prof["parts"].items()],
                     "notes": ["Inclusive samples (children) of each function over the bench's "
                               "`--profile-time 10` loop, as a share of `Terminal::try_draw`. Only "
                               "functions that are real symbols in this build are listed: a pane "
                               "whose draw function the compiler inlined into `draw::draw` is "
                               "counted there and has no row of its own."]})
    sections.append({"heading": "The functions a frame spends its own time in (perf, self)",
                     "columns": ["function", "% of the frame"],
                     "rows": [["`%s`" % f, p] for f, p in prof.get("self", [])]})

def agg(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None, None
    return statistics.median(xs), min(xs), max(xs)

targets = {"idle": (1.0, 150.0), "idle-nodetails": (1.0, 150.0), "active": (5.0, None),
           "active-nodetails": (5.0, None)}
labels = {"idle": "idle, %s torrents paused" % ntor,
          "idle-nodetails": "idle, %s paused, detail pane hidden (diagnostic)" % ntor,
          "active": "%s active transfers" % nact,
          "active-nodetails": "%s active, detail pane hidden (diagnostic)" % nact}
if runs:
    trows = []
    for sc in ["idle", "idle-nodetails", "active", "active-nodetails"]:
        rs = [r for r in runs if r["scenario"] == sc]
        if not rs:
            continue
        cpu = agg([r["cpu_pct_one_core"] for r in rs])
        rss = agg([r["rss_mib"] for r in rs])
        hwm = agg([r["peak_rss_mib"] for r in rs])
        noise = agg([r["others_busy_pct_all_cpus"] for r in rs])
        wake = agg([r.get("wakeups_per_s") for r in rs])
        ct, rt = targets[sc]
        trows.append([labels[sc], len(rs),
                      "%.2f (%.2f–%.2f)" % cpu, "< %g" % ct, verdict(cpu[0], ct),
                      "%.0f (%.0f–%.0f)" % wake if wake[0] is not None else "–",
                      "%.1f (%.1f–%.1f)" % rss, "%.1f" % hwm[0],
                      "< %g" % rt if rt else "", verdict(hwm[0], rt) if rt else "",
                      "%.0f (%.0f–%.0f)" % noise])
    sections.append({"heading": "The trove TUI process (%sx%s in tmux, %s s windows)" % (cols, rows, secs),
                     "columns": ["scenario", "runs", "CPU % of one core, median (min–max)", "target", "",
                                 "wake-ups/s, median (min–max)", "RSS MiB at the end, median (min–max)", "peak RSS MiB (median)", "target", "",
                                 "other processes, % of all CPUs (noise)"],
                     "rows": trows,
                     "notes": ["CPU = utime+stime of every thread of the process from /proc/PID/stat "
                               "over the window; wake-ups = voluntary context switches of all its "
                               "threads (/proc/PID/task/*/status) per second; the window opens %s s after the table shows every "
                               "torrent (and, for active, after every torrent has its seeder peer)." % settle,
                               "Noise: the machine's busy share over the window minus trove's own "
                               "(other builds, benches, the background soak test)."]})
    act = [r for r in runs if r["scenario"] == "active"]
    if act:
        notes.append("Active transfers: %s torrents of %s bytes from one local libtorrent seeder "
                     "process, capped at %s B/s per torrent; the seeder sent %s KiB/s in the windows "
                     "(median), and %s of %s torrents still had their peer at the end."
                     % (nact, asize, arate, statistics.median(r["transfer_rate_kib_s"] for r in act),
                        min(r["torrents_with_peers_at_end"] for r in act), nact))
    idle = [r for r in runs if r["scenario"] == "idle"]
    if idle:
        nfiles = idle[-1]["files_in_root_after"]
        notes.append("Paused torrents with their payload absent: after the idle runs the root holds "
                     "%d files%s." % (nfiles, ", i.e. librqbit creates (sparse) files for paused "
                     "torrents when trove adds them to the session" if nfiles else
                     " (paused torrents stay out of librqbit, which creates none)"))
notes.append("Every measured run (criterion, perf, each TUI window) held /tmp/trove-bench.lock.")
result = {"name": "dashboard", "title": "Dashboard cost", "command": cmd, "machine": machine,
          "sections": sections, "notes": notes,
          "data": {"criterion": crit, "profile_pct_of_frame": prof, "runs": runs,
                   "params": {"seconds": int(secs), "torrents": int(ntor), "active": int(nact),
                              "active_size": int(asize), "active_rate": int(arate),
                              "term": "%sx%s" % (cols, rows), "settle_s": int(settle)}}}
json.dump(result, open(out, "w"), indent=1)
EOF
tb_report "$WORK/result.json"
