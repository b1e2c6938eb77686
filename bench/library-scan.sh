#!/usr/bin/env bash
# The time `trove library --json` takes on a root of 10,000 files in about 100 folders:
# 5 torrents of 200 files each (their data put in the root and adopted, so they seed and
# every one of their files is looked at) and 90 orphan folders of 100 files each (walked
# all the way down for their sizes). Warm (hyperfine --warmup), several runs, the median;
# through a running daemon (the dashboard's path: the scan runs on the daemon's blocking
# thread) and offline (no session: the command opens the store itself). The figure includes
# the process start of `trove` itself. Writes bench/results/library-scan-<date>.md.
#
#   bench/library-scan.sh [--runs N] [--trove PATH]
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=library-scan
source "$(dirname "$0")/lib/common.sh"

RUNS=${BENCH_RUNS:-15}
TORRENTS=5
TORRENT_FILES=200
ORPHAN_FOLDERS=90
ORPHAN_FILES=100
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

tb_need hyperfine
tb_need_libtorrent
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trove-bench-library-scan.XXXXXX")
tb_build
PORT=$(tb_free_port)
ENV=$WORK/env
tb_env "$ENV" "$PORT"
ROOT=$ENV/root

say "making $TORRENTS torrents of $TORRENT_FILES files and $ORPHAN_FOLDERS orphan folders of $ORPHAN_FILES files"
for i in $(seq 1 "$TORRENTS"); do
  "$PY" "$LIB/payload.py" make --dir "$WORK/payload/t$i" --name "torrent-$i" \
    --size $((TORRENT_FILES * 4096)) --files "$TORRENT_FILES" --piece-length 16384 >/dev/null
  mv "$WORK/payload/t$i/torrent-$i" "$ROOT/"
done
"$PY" - "$ROOT" "$ORPHAN_FOLDERS" "$ORPHAN_FILES" <<'PYEOF'
import os, sys
root, folders, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(folders):
    sub = os.path.join(root, "orphan-%02d" % d, "inner")
    os.makedirs(sub)
    for f in range(files):
        # Half at the top of the folder, half one level down.
        where = sub if f % 2 else os.path.dirname(sub)
        with open(os.path.join(where, "f%03d.bin" % f), "wb") as out:
            out.write(b"x" * (100 + f))
PYEOF
NFILES=$(find "$ROOT" -type f | wc -l)
NDIRS=$(find "$ROOT" -mindepth 1 -type d | wc -l)
say "the root holds $NFILES files in $NDIRS folders"

tb_lock
say "offline: trove library --json"
hyperfine --warmup 3 --runs "$RUNS" --export-json "$WORK/offline.json" \
  "$TROVE --data-dir $ENV/data --config $ENV/config.toml library --json" >&2

say "starting the daemon and adopting the torrents"
tb_trove "$ENV" daemon >"$WORK/daemon.log" 2>&1 &
CLEANUP_PIDS+=($!)
for i in $(seq 1 "$TORRENTS"); do
  tb_trove "$ENV" add "$WORK/payload/t$i/torrent-$i.torrent" >/dev/null
done
for _ in $(seq 1 600); do
  seeding=$(tb_trove "$ENV" list --json | "$PY" -c 'import json,sys; print(sum(t["state"]=="seeding" for t in json.load(sys.stdin)))')
  [[ $seeding == "$TORRENTS" ]] && break
  sleep 0.1
done
[[ $seeding == "$TORRENTS" ]] || die "the torrents did not all seed: $(tail -5 "$WORK/daemon.log")"
STATES=$(tb_trove "$ENV" library --json | "$PY" -c '
import json,sys
r = json.load(sys.stdin)["roots"][0]
print(" ".join(sorted({t["data"]["state"] for t in r["torrents"]})), len(r["orphans"]))')
say "through the daemon: trove library --json (torrent states and orphans: $STATES)"
hyperfine --warmup 3 --runs "$RUNS" --export-json "$WORK/daemon.json" \
  "$TROVE --data-dir $ENV/data --config $ENV/config.toml library --json" >&2
tb_unlock

STAMP=$(date -u +%Y-%m-%d-%H%M%S)
mkdir -p "$RESULTS_DIR"
OUT=$RESULTS_DIR/library-scan-$STAMP.md
"$PY" - "$WORK/offline.json" "$WORK/daemon.json" "$NFILES" "$NDIRS" "$RUNS" "$STATES" >"$OUT" <<'PYEOF'
import json, statistics, sys
off, dae, nfiles, ndirs, runs, states = sys.argv[1:7]
def figs(p):
    t = json.load(open(p))["results"][0]["times"]
    return statistics.median(t), min(t), max(t)
print("# Library scan: `trove library --json` on a root of %s files\n" % nfiles)
print("Root: %s files in %s folders: 5 adopted torrents of 200 files (seeding) and 90 orphan" % (nfiles, ndirs))
print("folders of 100 files. hyperfine, 3 warm-up runs then %s runs; each figure includes" % runs)
print("starting the `trove` process. Goal: under 1 s warm.\n")
print("Torrent states and orphan count seen through the daemon: %s\n" % states)
print("| path | median | min | max |")
print("|---|---|---|---|")
for name, p in (("through the daemon", dae), ("offline (store opened)", off)):
    m, lo, hi = figs(p)
    print("| %s | %.1f ms | %.1f ms | %.1f ms |" % (name, m * 1e3, lo * 1e3, hi * 1e3))
print("\nCommand: `bench/library-scan.sh --runs %s`" % runs)
PYEOF
cat "$OUT"
say "wrote $OUT"
