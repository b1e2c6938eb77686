#!/usr/bin/env bash
# Move throughput across filesystems: `trove move` of a seeding torrent from a root on
# tmpfs (/dev/shm) to a root on /tmp's disk, against `cp -r` + `sync` of the same data
# between the same filesystems. trove's move copies, fsyncs every file and folder,
# verifies the copy against the piece hashes (SHA-1), switches the record and deletes the
# source; the time is from the command to the end of the move. A second baseline syncs
# only what cp wrote (`sync FILE DIR`, an fsync of each, the same work trove's fsyncs do)
# instead of the whole system, which other processes' writes can slow. A third, `mv` +
# `sync`, does what a move does (the source is deleted too), from a second copy of the
# data so that trove's own torrent keeps its files. Runs are
# interleaved; the torrent is moved back (untimed) between runs. Writes
# bench/results/move-<date>.md.
#
#   bench/move.sh [--runs N] [--size BYTES] [--trove PATH]
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=move
source "$(dirname "$0")/lib/common.sh"

RUNS=${BENCH_RUNS:-5}
SIZE=${BENCH_SIZE:-1073741824}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

tb_need_libtorrent
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trove-bench-move.XXXXXX")
SHM=$(mktemp -d /dev/shm/trove-bench-move.XXXXXX)
cleanup_shm() {
  # BENCH_LOG=FILE keeps the daemon's log, to see where a move spends its time.
  [[ -n ${BENCH_LOG:-} && -f $WORK/daemon.log ]] && cp "$WORK/daemon.log" "$BENCH_LOG"
  rm -rf "$SHM"
}
trap 'cleanup_shm; tb_cleanup' EXIT
[[ $(stat -f -c %i "$SHM") != $(stat -f -c %i "$WORK") ]] || die "$SHM and $WORK share a filesystem"
tb_build
tb_lock

say "making a $SIZE-byte torrent on tmpfs"
"$PY" "$LIB/swarm.py" make --dir "$SHM/made" --count 1 --size "$SIZE" --piece-length 1048576 --names plain >/dev/null
TORRENT=$SHM/made/torrents/0000.torrent
NAME=bench-0000.bin
FAST=$SHM/made/payload
DISK=$WORK/disk
CPDST=$WORK/cp
MVSRC=$SHM/mv
mkdir -p "$DISK" "$CPDST" "$MVSRC"
PORT=$(tb_free_port)
ENV=$WORK/env
tb_env "$ENV" "$PORT"
cat >>"$ENV/config.toml" <<CONF

[[roots]]
label = "fast"
path = "$FAST"

[[roots]]
label = "disk"
path = "$DISK"
CONF
# The env's own root stays first (the default); the torrent goes to "fast", where its data is.
HASH=$(tb_trove "$ENV" add "$TORRENT" --root fast | head -1)
"$TROVE" --data-dir "$ENV/data" --config "$ENV/config.toml" daemon 2>"$WORK/daemon.log" &
DAEMON=$!
CLEANUP_PIDS+=("$DAEMON")
# A `list` started before the daemon holds the data dir would run offline and keep the
# daemon out: wait for the daemon to be up first.
end=$(($(date +%s) + 60))
until grep -q "every stored torrent is back" "$WORK/daemon.log" 2>/dev/null; do
  kill -0 "$DAEMON" 2>/dev/null || die "trove daemon exited; see $WORK/daemon.log"
  (($(date +%s) < end)) || die "trove daemon did not come up in time; see $WORK/daemon.log"
  sleep 0.1
done
state() { tb_trove "$ENV" list --json | "$PY" -c 'import json,sys; t=json.load(sys.stdin)[0]; print(t["state"], t["root_label"], t["moving"] is None)'; }
end=$(($(date +%s) + 120))
until [[ $(state 2>/dev/null) == "seeding fast True" ]]; do
  (($(date +%s) < end)) || die "the torrent did not seed from its data in time; see $WORK/daemon.log"
  sleep 0.2
done

TROVE_T=()
CP_T=()
CPF_T=()
MV_T=()
for ((i = 1; i <= RUNS; i++)); do
  sync
  t0=$(tb_now)
  cp -r "$FAST/$NAME" "$CPDST/" && sync
  t1=$(tb_now)
  CP_T+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  rm -rf "${CPDST:?}/$NAME"
  sync
  t0=$(tb_now)
  cp -r "$FAST/$NAME" "$CPDST/" && sync "$CPDST/$NAME" "$CPDST"
  t1=$(tb_now)
  CPF_T+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  # The mv baseline moves that copy back to tmpfs (untimed), then across (timed).
  mv "$CPDST/$NAME" "$MVSRC/"
  sync
  t0=$(tb_now)
  mv "$MVSRC/$NAME" "$CPDST/" && sync
  t1=$(tb_now)
  MV_T+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  rm -rf "${CPDST:?}/$NAME"
  sync
  t0=$(tb_now)
  tb_trove "$ENV" move "$HASH" --root disk >/dev/null
  t1=$(tb_now)
  TROVE_T+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  [[ ! -e $FAST/$NAME && -f $DISK/$NAME ]] || die "run $i: the move did not end in the target"
  # Back to tmpfs for the next run (untimed).
  tb_trove "$ENV" move "$HASH" --root fast >/dev/null
  say "run $i: trove move ${TROVE_T[-1]} s, cp -r + sync ${CP_T[-1]} s, cp -r + sync FILE ${CPF_T[-1]} s, mv + sync ${MV_T[-1]} s"
done
"$PY" - "$SIZE" "${TROVE_T[*]}" "${CP_T[*]}" "${CPF_T[*]}" "${MV_T[*]}" "$RESULTS_DIR" <<'PYEOF'
import sys, statistics, datetime, os
size = int(sys.argv[1]); tr, cp, cpf, mv = ([float(x) for x in a.split()] for a in sys.argv[2:6])
mt, mc, mf, mm = (statistics.median(x) for x in (tr, cp, cpf, mv))
mb = lambda s: size / s / 1e6
lines = [f"# Move across filesystems (tmpfs -> disk), {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
         f"Payload: one file of {size} bytes, 1 MiB pieces. `trove move` (copy, fsync, SHA-1 verify of the target's files as they land, switch, source delete) against `cp -r` + `sync` and `cp -r` + `sync FILE DIR` of the same file between the same filesystems, and `mv` + `sync` of a second copy of it, interleaved.", "",
         "| run | trove move (s) | MB/s | cp -r + sync (s) | MB/s | cp -r + sync FILE DIR (s) | MB/s | mv + sync (s) | MB/s |", "|---|---|---|---|---|---|---|---|---|"]
for i, (a, b, c, d) in enumerate(zip(tr, cp, cpf, mv), 1):
    lines.append(f"| {i} | {a:.2f} | {mb(a):.0f} | {b:.2f} | {mb(b):.0f} | {c:.2f} | {mb(c):.0f} | {d:.2f} | {mb(d):.0f} |")
lines += ["", f"Medians: trove move {mt:.2f} s ({mb(mt):.0f} MB/s), cp -r + sync {mc:.2f} s ({mb(mc):.0f} MB/s), cp -r + sync FILE DIR {mf:.2f} s ({mb(mf):.0f} MB/s), mv + sync {mm:.2f} s ({mb(mm):.0f} MB/s).",
          f"Ratio (trove throughput / cp -r + sync throughput): **{mc / mt:.2f}x** (goal >= 0.8x).",
          f"Ratio against cp -r + an fsync of the copy only: **{mf / mt:.2f}x**.",
          f"Ratio against mv + sync (which deletes its source too, as a move does): **{mm / mt:.2f}x**.", "",
          f"Command: `bench/move.sh --runs {len(tr)} --size {size}`", ""]
text = "\n".join(lines)
print(text)
os.makedirs(sys.argv[6], exist_ok=True)
with open(os.path.join(sys.argv[6], f"move-{datetime.datetime.now():%Y-%m-%d-%H%M%S}.md"), "w") as f:
    f.write(text)
PYEOF
