#!/usr/bin/env bash
# Sequential read throughput through `trove mount` of a complete torrent, against reading
# the same file directly from the root it sits in, side by side in one run. Each read is
# `dd bs=1M` to /dev/null, runs interleaved. By default the file is in the page cache (read
# once untimed first) and the mount is made anew before each of its reads, so that the
# kernel has none of the mount's pages and every byte goes through trove's read path: this
# measures what the mount adds; BENCH_DROP_CACHES=1
# drops the system's page cache before each read (as root; it slows everything else on the
# machine for a while) to compare reads from the disk. Writes
# bench/results/mount-<date>.md.
#
#   bench/mount.sh [--runs N] [--size BYTES] [--trove PATH]
set -Eeuo pipefail
export LC_ALL=C
BENCH_NAME=mount
source "$(dirname "$0")/lib/common.sh"

RUNS=${BENCH_RUNS:-5}
SIZE=${BENCH_SIZE:-1073741824}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
while (($#)); do
  case $1 in
    --runs) RUNS=${2:?}; shift 2 ;;
    --size) SIZE=${2:?}; shift 2 ;;
    --trove) TROVE=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done

tb_need_libtorrent
command -v fusermount3 >/dev/null || die "fusermount3 is missing: install fuse3"
[[ -e /dev/fuse ]] || die "/dev/fuse is missing: this machine cannot mount FUSE filesystems"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trove-bench-mount.XXXXXX")
MNT=$WORK/mnt
mkdir -p "$MNT"
trap 'fusermount3 -uz "$MNT" 2>/dev/null || true; tb_cleanup' EXIT
tb_build
tb_lock

say "making a $SIZE-byte torrent"
"$PY" "$LIB/swarm.py" make --dir "$WORK/made" --count 1 --size "$SIZE" --piece-length 1048576 --names plain >/dev/null
TORRENT=$WORK/made/torrents/0000.torrent
NAME=bench-0000.bin
DATA=$WORK/made/payload
PORT=$(tb_free_port)
ENV=$WORK/env
tb_env "$ENV" "$PORT"
cat >>"$ENV/config.toml" <<CONF

[[roots]]
label = "data"
path = "$DATA"
CONF
HASH=$(tb_trove "$ENV" add "$TORRENT" --root data | head -1)
"$TROVE" --data-dir "$ENV/data" --config "$ENV/config.toml" daemon 2>"$WORK/daemon.log" &
DAEMON=$!
CLEANUP_PIDS+=("$DAEMON")
end=$(($(date +%s) + 60))
until grep -q "every stored torrent is back" "$WORK/daemon.log" 2>/dev/null; do
  kill -0 "$DAEMON" 2>/dev/null || die "trove daemon exited; see $WORK/daemon.log"
  (($(date +%s) < end)) || die "trove daemon did not come up in time; see $WORK/daemon.log"
  sleep 0.1
done
state() { tb_trove "$ENV" list --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])'; }
end=$(($(date +%s) + 300))
until [[ $(state 2>/dev/null) == "seeding" ]]; do
  (($(date +%s) < end)) || die "the torrent did not seed from its data in time; see $WORK/daemon.log"
  sleep 0.2
done
THROUGH=$MNT/data/$NAME/$NAME
remount() {
  tb_trove "$ENV" umount "$MNT" >/dev/null 2>&1 || true
  tb_trove "$ENV" mount "$MNT" >/dev/null
  local end=$(($(date +%s) + 30))
  until [[ -f $THROUGH ]]; do
    (($(date +%s) < end)) || die "$THROUGH did not show in the mount; see $WORK/daemon.log"
    sleep 0.1
  done
}
remount
DIRECT=$DATA/$NAME

drop() {
  if [[ ${BENCH_DROP_CACHES:-0} == 1 ]]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || die "cannot drop the page cache (not root?)"
  fi
}
read_time() {
  local t0 t1
  drop
  t0=$(tb_now)
  dd if="$1" of=/dev/null bs=1M status=none
  t1=$(tb_now)
  awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
DROPS=no
[[ ${BENCH_DROP_CACHES:-0} == 1 ]] && DROPS=yes
# Warm: both reads then start from the page cache (unless it is dropped before each).
dd if="$DIRECT" of=/dev/null bs=1M status=none
dd if="$THROUGH" of=/dev/null bs=1M status=none
M_T=()
D_T=()
for ((i = 1; i <= RUNS; i++)); do
  D_T+=("$(read_time "$DIRECT")")
  remount
  M_T+=("$(read_time "$THROUGH")")
  say "run $i: direct ${D_T[-1]} s, through the mount ${M_T[-1]} s"
done
tb_trove "$ENV" umount "$MNT" >/dev/null
"$PY" - "$SIZE" "${M_T[*]}" "${D_T[*]}" "$RESULTS_DIR" "$DROPS" <<'PYEOF'
import sys, statistics, datetime, os
size = int(sys.argv[1]); mt, dt = ([float(x) for x in a.split()] for a in sys.argv[2:4])
mm, md = statistics.median(mt), statistics.median(dt)
mb = lambda s: size / s / 1e6
lines = [f"# Sequential reads through `trove mount`, {datetime.datetime.now():%Y-%m-%d %H:%M}", "",
         f"Payload: one complete torrent, one file of {size} bytes, 1 MiB pieces. `dd bs=1M` of the file through the mount against `dd bs=1M` of the same file in its root, interleaved; the mount made anew before each of its reads (no kernel-cached pages of it); page cache of the disk dropped before each read: {sys.argv[5]}.", "",
         "| run | direct (s) | MB/s | through the mount (s) | MB/s |", "|---|---|---|---|---|"]
for i, (d, m) in enumerate(zip(dt, mt), 1):
    lines.append(f"| {i} | {d:.2f} | {mb(d):.0f} | {m:.2f} | {mb(m):.0f} |")
lines += ["", f"Medians: direct {md:.2f} s ({mb(md):.0f} MB/s), through the mount {mm:.2f} s ({mb(mm):.0f} MB/s).",
          f"Ratio (mount throughput / direct throughput): **{md / mm:.2f}x** (goal >= 0.8x).", "",
          f"Command: `bench/mount.sh --runs {len(mt)} --size {size}`", ""]
text = "\n".join(lines)
print(text)
os.makedirs(sys.argv[4], exist_ok=True)
with open(os.path.join(sys.argv[4], f"mount-{datetime.datetime.now():%Y-%m-%d-%H%M%S}.md"), "w") as f:
    f.write(text)
PYEOF
