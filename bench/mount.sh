#!/usr/bin/env bash
# Sequential read throughput through `trove mount` of a complete torrent, against reading
# the same file directly from the root it sits in, side by side in one run: through a
# mount with passthrough (the kernel reads complete files itself; needs root) and through
# one without it (every request goes through trove's read path). Each read is `dd bs=1M`
# to /dev/null, runs interleaved. By default the file is in the page cache (read once
# untimed first) and each mount is made anew before each of its reads, so that the kernel
# has none of the mount's pages: this measures what the mount adds; BENCH_DROP_CACHES=1
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
trap tb_cleanup EXIT
tb_build
tb_lock

say "making a $SIZE-byte torrent"
"$PY" "$LIB/swarm.py" make --dir "$WORK/made" --count 1 --size "$SIZE" --piece-length 1048576 --names plain >/dev/null
TORRENT=$WORK/made/torrents/0000.torrent
NAME=bench-0000.bin
DATA=$WORK/made/payload
# Two sessions over the same data: one mounts with passthrough (the kernel reads complete
# files from disk itself, as root), the other with it off (every request goes through
# trove's read path).
DAEMONS=()
session() {
  local env=$1 mnt=$2 passthrough=$3 port
  port=$(tb_free_port)
  tb_env "$env" "$port"
  cat >>"$env/config.toml" <<CONF

[[roots]]
label = "data"
path = "$DATA"

[mount]
passthrough = $passthrough
CONF
  tb_trove "$env" add "$TORRENT" --root data >/dev/null
  "$TROVE" --data-dir "$env/data" --config "$env/config.toml" daemon 2>"$env/daemon.log" &
  DAEMONS+=($!)
  CLEANUP_PIDS+=($!)
  mkdir -p "$mnt"
}
ENV_PT=$WORK/env-passthrough
ENV_RD=$WORK/env-read
MNT_PT=$WORK/mnt-passthrough
MNT_RD=$WORK/mnt-read
trap 'fusermount3 -uz "$MNT_PT" 2>/dev/null || true; fusermount3 -uz "$MNT_RD" 2>/dev/null || true; tb_cleanup' EXIT
session "$ENV_PT" "$MNT_PT" true
session "$ENV_RD" "$MNT_RD" false
state() { tb_trove "$1" list --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])'; }
for env in "$ENV_PT" "$ENV_RD"; do
  end=$(($(date +%s) + 300))
  until [[ $(state "$env" 2>/dev/null) == "seeding" ]]; do
    for d in "${DAEMONS[@]}"; do kill -0 "$d" 2>/dev/null || die "a trove daemon exited; see $env/daemon.log"; done
    (($(date +%s) < end)) || die "the torrent did not seed from its data in time; see $env/daemon.log"
    sleep 0.2
  done
done
# remount ENV MNT: the mount made anew, so that the kernel holds none of its pages.
remount() {
  local env=$1 mnt=$2 file=$2/data/$NAME/$NAME
  tb_trove "$env" umount "$mnt" >/dev/null 2>&1 || true
  tb_trove "$env" mount "$mnt" >/dev/null
  local end=$(($(date +%s) + 30))
  until [[ -f $file ]]; do
    (($(date +%s) < end)) || die "$file did not show in the mount; see $env/daemon.log"
    sleep 0.1
  done
}
remount "$ENV_PT" "$MNT_PT"
remount "$ENV_RD" "$MNT_RD"
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
# Warm: every read then starts from the page cache (unless it is dropped before each).
dd if="$DIRECT" of=/dev/null bs=1M status=none
D_T=()
P_T=()
R_T=()
for ((i = 1; i <= RUNS; i++)); do
  D_T+=("$(read_time "$DIRECT")")
  remount "$ENV_PT" "$MNT_PT"
  P_T+=("$(read_time "$MNT_PT/data/$NAME/$NAME")")
  remount "$ENV_RD" "$MNT_RD"
  R_T+=("$(read_time "$MNT_RD/data/$NAME/$NAME")")
  say "run $i: direct ${D_T[-1]} s, mount with passthrough ${P_T[-1]} s, mount without ${R_T[-1]} s"
done
PT_OPENS=$(tb_trove "$ENV_PT" mount --status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["passthrough_opens"])')
tb_trove "$ENV_PT" umount "$MNT_PT" >/dev/null
tb_trove "$ENV_RD" umount "$MNT_RD" >/dev/null
"$PY" - "$SIZE" "${D_T[*]}" "${P_T[*]}" "${R_T[*]}" "$RESULTS_DIR" "$DROPS" "$PT_OPENS" "$RUNS" <<'PYEOF'
import sys, statistics, datetime, os
size = int(sys.argv[1])
dt, pt, rt = ([float(x) for x in a.split()] for a in sys.argv[2:5])
results, drops, pt_opens, runs = sys.argv[5:9]
md, mp, mr = (statistics.median(x) for x in (dt, pt, rt))
mb = lambda s: size / s / 1e6
now = datetime.datetime.now()
lines = [f"# Sequential reads through `trove mount`, {now:%Y-%m-%d %H:%M}", "",
         f"Payload: one complete torrent, one file of {size} bytes, 1 MiB pieces. `dd bs=1M` of the file in its root (direct), through a mount with passthrough (the kernel reads the file on disk itself; the last of its mounts counted {pt_opens} passthrough opens) and through a mount without it (every request answered by trove), interleaved; each mount made anew before each of its reads (no kernel-cached pages of it); page cache of the disk dropped before each read: {drops}.", "",
         "| run | direct (s) | MB/s | passthrough (s) | MB/s | without passthrough (s) | MB/s |", "|---|---|---|---|---|---|---|"]
for i, (d, p, r) in enumerate(zip(dt, pt, rt), 1):
    lines.append(f"| {i} | {d:.2f} | {mb(d):.0f} | {p:.2f} | {mb(p):.0f} | {r:.2f} | {mb(r):.0f} |")
lines += ["", f"Medians: direct {md:.2f} s ({mb(md):.0f} MB/s), with passthrough {mp:.2f} s ({mb(mp):.0f} MB/s), without {mr:.2f} s ({mb(mr):.0f} MB/s).",
          f"Ratios (mount throughput / direct throughput, goal >= 0.8x): with passthrough **{md / mp:.2f}x**, without **{md / mr:.2f}x**.", "",
          f"Command: `{'BENCH_DROP_CACHES=1 ' if drops == 'yes' else ''}bench/mount.sh --runs {runs} --size {size}`", ""]
text = "\n".join(lines)
print(text)
os.makedirs(results, exist_ok=True)
with open(os.path.join(results, f"mount-{now:%Y-%m-%d-%H%M%S}.md"), "w") as f:
    f.write(text)
PYEOF
