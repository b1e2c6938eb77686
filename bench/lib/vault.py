#!/usr/bin/python3
"""The measured phases of bench/vault.sh: a trove daemon downloading one torrent from local
libtorrent seeders, and seeding it to fresh libtorrent leechers, with the torrent kept in a
vault root or in a plain one. Run it with /usr/bin/python3 (Debian's python3-libtorrent), under
`flock` (the bench lock), like lib/measure.py.

  vault.py download --record-to F --sock S --pid P --log L --info-hash H --size B [opts]
                    -- TROVE ARGS... add --root LABEL --peer A... TORRENT
      Waits for quiet CPUs, syncs, drops the page cache and reads --warm back in (the
      seeders' payload), then runs the `trove add` after `--` and stops the clock when the
      daemon's log (L, read from where it ended before the add) says librqbit's "torrent
      finished downloading" for H (polled every 20 ms). The daemon's CPU (utime + stime,
      /proc/P/stat) over that window, the seeders' and everybody else's.

  vault.py seed --record-to F --sock S --pid P --port TROVE_PORT --torrent T --info-hash H
                --size B --leechers N --leech-dir D [opts]
      Waits for quiet CPUs, syncs, drops the page cache and reads --warm back in (trove's own
      copy: the plain files or the vault file), starts N libtorrent leechers (`vault.py
      leecher`, each its own session on 127.0.0.1, told only trove's address, PEX off),
      waits until every one is ready, then tells them all to dial trove at once: the clock
      runs from that instant to the last leecher's "every piece checked" (libtorrent checks
      every piece it gets, so a complete leecher proves trove served the right bytes). The
      vault cache's counters (Details.vault_cache) are read before and after, and every
      --sample-s while the leechers run (the largest pinned and held bytes).

  vault.py leecher --torrent T --save-path D
      One leecher (used by `seed`): prints "ready", then waits for "go PORT" on stdin, dials
      127.0.0.1:PORT and prints "complete <bytes> <monotonic time>" once every piece is in.

  vault.py details --sock S --info-hash H      the torrent's details (JSON) from the daemon
  vault.py wait-seeding --sock S --info-hash H [--timeout S]
      Waits until the torrent is seeding at progress 1.0 (after a daemon restart).

Each phase appends one JSON line to F and prints a one-line summary; exit 0 when the phase
was recorded as ok.
"""

import argparse
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "loopback"))
import loopback  # noqa: E402

from measure import busy_fraction, cpu_totals, drop_caches, proc_cpu, self_cpu, warm  # noqa: E402

PROTOCOL = 4  # crates/trove-proto/src/lib.rs PROTOCOL_VERSION; vault.sh passes the current one
GIB = float(1 << 30)
CHUNK_LEN = 256 * 1024  # crates/trove-engine/src/vault/layout.rs


# --------------------------------------------------------------------------------------
# The daemon's API on its Unix socket
# --------------------------------------------------------------------------------------


def command(sock_path, cmd, timeout=30.0):
    """POSTs one command to the daemon's socket; returns the Ok value or raises."""
    body = json.dumps(cmd).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall(("POST /api/trove/v1/command HTTP/1.1\r\nHost: localhost\r\n"
               "X-Trove-Protocol: %d\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n" % (PROTOCOL, len(body))).encode()
              + body)
    buf = b""
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
    s.close()
    head, _, payload = buf.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/") else b"?"
    if status != b"200":
        raise RuntimeError("%s answered %s: %s" % (list(cmd)[0], status.decode(), payload[:300]))
    answer = json.loads(payload)
    if "Ok" not in answer:
        raise RuntimeError("%s failed: %s" % (list(cmd)[0], json.dumps(answer)[:300]))
    return answer["Ok"]


def details(sock_path, ih):
    reply = command(sock_path, {"Details": ih})
    return reply["Details"]


def cache_stats(sock_path, ih):
    """(details summary, vault_cache or None); (None, None) when the daemon cannot say."""
    try:
        d = details(sock_path, ih)
    except (OSError, RuntimeError, ValueError):
        return None, None
    return d["summary"], d.get("vault_cache")


def cache_delta(before, after):
    if after is None:
        return None
    b = before or {"hits": 0, "misses": 0}
    hits = after["hits"] - b["hits"]
    misses = after["misses"] - b["misses"]
    return {
        "hits": hits,
        "misses": misses,
        "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
        "capacity_bytes": after["capacity_bytes"],
        "bytes_end": after["bytes"],
        "pinned_bytes_end": after["pinned_bytes"],
    }


def chunk_count(size, piece_len):
    """Chunks of the vault layout: each piece cut into chunks of at most 256 KiB."""
    chunk = min(piece_len, CHUNK_LEN)
    full, last = divmod(size, piece_len)
    n = full * -(-piece_len // chunk)
    if last:
        n += -(-last // chunk)
    return n


# --------------------------------------------------------------------------------------
# Shared by the phases
# --------------------------------------------------------------------------------------


def ticks_s(pid):
    """utime + stime of pid (all threads, without reaped children), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def prepare(a, rec):
    """Quiet CPUs, clean page cache, warm source; fills rec."""
    start = time.monotonic()
    while True:
        busy = busy_fraction(1.0)
        waited = time.monotonic() - start
        if busy < a.idle_below or waited >= a.wait_idle:
            break
    rec["busy_before"] = round(busy, 3)
    rec["idle_wait_s"] = round(waited, 1)
    # What the previous phase left dirty is written out before the clock starts, either way.
    os.sync()
    rec["cache_dropped"] = bool(a.drop_caches) and drop_caches()
    t = time.monotonic()
    warm(a.warm)
    rec["warm_s"] = round(time.monotonic() - t, 2)
    rec["loadavg"] = open("/proc/loadavg").read().split()[:3]


def finish(a, rec, line):
    rec["ok"] = "error" not in rec
    rec["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(a.record_to, "a") as f:
        f.write(json.dumps(rec) + "\n")
    tag = "%-5s %-10s run %-2s" % (rec.get("kind", "?"), rec.get("phase", "?"), rec.get("run", "?"))
    if rec["ok"]:
        print("%s %s" % (tag, line), flush=True)
    else:
        print("%s FAILED: %s" % (tag, rec["error"]), flush=True)
    return 0 if rec["ok"] else 1


def base_record(a):
    rec = {k: v for k, v in (m.split("=", 1) for m in a.meta)}
    rec["ok"] = False
    return rec


def load(rec, c0, c1, wall, own_cpu):
    """Machine busy time over the window, and what was left for other processes."""
    busy_s = (c1[0] - c0[0]) / os.sysconf("SC_CLK_TCK")
    rec["machine_busy_s"] = round(busy_s, 2)
    rec["softirq_s"] = round((c1[1] - c0[1]) / os.sysconf("SC_CLK_TCK"), 2)
    others = busy_s - own_cpu - rec["softirq_s"]
    rec["others_cpu_s"] = round(others, 2)
    rec["others_busy_frac"] = round(max(0.0, others) / (wall * (os.cpu_count() or 1)), 3)


# --------------------------------------------------------------------------------------
# download
# --------------------------------------------------------------------------------------


def cmd_download(a):
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    rec = base_record(a)
    rec.update({"bytes": a.size})
    prepare(a, rec)
    seeders = [int(x) for x in a.seeder_pids.split(",") if x]
    marker = "torrent finished downloading"
    with open(a.log, "rb") as f:
        f.seek(0, 2)
        offset = f.tell()
    c0 = cpu_totals()
    d0 = ticks_s(a.pid)
    s0 = {p: proc_cpu(p) for p in seeders}
    me0 = self_cpu()
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    rec["add_s"] = round(time.monotonic() - t0, 3)
    if r.returncode != 0:
        rec["error"] = "trove add exited %d: %s" % (r.returncode, r.stdout.decode()[-500:])
        return finish(a, rec, "")
    buf = b""
    t1 = None
    with open(a.log, "rb") as f:
        f.seek(offset)
        while True:
            chunk = f.read()
            if chunk:
                buf += chunk
                for line in buf.split(b"\n"):
                    if marker.encode() in line and a.info_hash.encode() in line:
                        t1 = time.monotonic()
                        break
                if t1:
                    break
                buf = buf[buf.rfind(b"\n") + 1:]
            now = time.monotonic()
            if not alive(a.pid):
                rec["error"] = "the daemon exited during the download"
                break
            if now - t0 > a.timeout:
                rec["error"] = "not finished after %.0f s" % a.timeout
                break
            time.sleep(0.02)
    if t1 is None:
        summary, _ = cache_stats(a.sock, a.info_hash)
        if summary:
            rec["error"] += " (state %s, progress %.3f)" % (summary["state"], summary["progress"])
        return finish(a, rec, "")
    d1 = ticks_s(a.pid)
    s1 = {p: proc_cpu(p) for p in seeders}
    me1 = self_cpu()
    c1 = cpu_totals()
    wall = t1 - t0
    rec["wall_s"] = round(wall, 3)
    rec["mbps"] = round(a.size / wall / 1e6, 1)
    rec["cpu_s"] = round(d1 - d0, 3)
    rec["cpu_s_per_gib"] = round((d1 - d0) / (a.size / GIB), 3)
    rec["seeders_cpu_s"] = round(sum(s1[p] - s0[p] for p in seeders), 2)
    load(rec, c0, c1, wall, rec["cpu_s"] + rec["seeders_cpu_s"] + (me1 - me0))
    # The details' summary comes from the session's snapshot, published once a second: wait
    # (off the clock) until it has caught up.
    deadline = time.monotonic() + 10
    while True:
        summary, vc = cache_stats(a.sock, a.info_hash)
        if summary is None or time.monotonic() > deadline or (
                summary["have_bytes"] == a.size and summary["state"] == "seeding"):
            break
        time.sleep(0.1)
    if summary is None:
        rec["error"] = "no details from the daemon after the download"
    else:
        rec["state"] = summary["state"]
        rec["have_bytes"] = summary["have_bytes"]
        if summary["have_bytes"] != a.size:
            rec["error"] = "finished with %d of %d bytes" % (summary["have_bytes"], a.size)
        rec["cache"] = cache_delta(None, vc)
    return finish(a, rec, "%6.2f s  %7.1f MB/s  trove CPU %5.2f s (%4.2f s/GiB)  busy before %2.0f%%, others %2.0f%%" % (
        wall, rec["mbps"], rec["cpu_s"], rec["cpu_s_per_gib"], rec["busy_before"] * 100,
        rec["others_busy_frac"] * 100))


# --------------------------------------------------------------------------------------
# seed
# --------------------------------------------------------------------------------------


class Leecher:
    def __init__(self, torrent, save_path, err_path):
        self.save_path = save_path
        self.err = open(err_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "leecher", "--torrent", torrent,
             "--save-path", save_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, bufsize=0)
        self.buf = b""
        self.lines = []
        self.done_at = None
        self.done_bytes = None
        self.ru = None

    def poll_lines(self):
        while True:
            r, _, _ = select.select([self.proc.stdout], [], [], 0)
            if not r:
                return
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return
            self.buf += chunk
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.lines.append(line.decode())
                w = line.split()
                if w and w[0] == b"complete":
                    self.done_bytes = int(w[1])
                    self.done_at = float(w[2])

    def reap(self):
        if self.ru is None:
            pid, _, ru = os.wait4(self.proc.pid, os.WNOHANG)
            if pid == self.proc.pid:
                self.ru = ru
        return self.ru

    def kill(self):
        try:
            self.proc.kill()
        except OSError:
            pass
        if self.ru is None:
            try:
                _, _, self.ru = os.wait4(self.proc.pid, 0)
            except ChildProcessError:
                pass
        self.err.close()


def cmd_seed(a):
    rec = base_record(a)
    total = a.size * a.leechers
    rec.update({"bytes": total, "leechers": a.leechers})
    shutil.rmtree(a.leech_dir, ignore_errors=True)
    os.makedirs(a.leech_dir)
    prepare(a, rec)
    leechers = []
    try:
        for i in range(a.leechers):
            leechers.append(Leecher(a.torrent, os.path.join(a.leech_dir, "l%d" % i),
                                    os.path.join(a.leech_dir, "..", "leecher-%d.err" % i)))
        deadline = time.monotonic() + 60
        while not all("ready" in l.lines for l in leechers):
            for l in leechers:
                l.poll_lines()
                if l.proc.poll() is not None:
                    rec["error"] = "a leecher exited before it was ready"
                    return finish(a, rec, "")
            if time.monotonic() > deadline:
                rec["error"] = "the leechers were not ready within 60 s"
                return finish(a, rec, "")
            time.sleep(0.02)
        summary0, vc0 = cache_stats(a.sock, a.info_hash)
        if summary0 is None or summary0["state"] != "seeding":
            rec["error"] = "the torrent is not seeding before the phase (%s)" % (
                summary0 and summary0["state"])
            return finish(a, rec, "")
        c0 = cpu_totals()
        d0 = ticks_s(a.pid)
        me0 = self_cpu()
        t0 = time.monotonic()
        for l in leechers:
            l.proc.stdin.write(b"go %d\n" % a.port)
        peak_pinned = peak_held = 0
        next_sample = t0 + a.sample_s
        samples = []
        while True:
            for l in leechers:
                l.poll_lines()
            if all(l.done_at is not None for l in leechers):
                break
            now = time.monotonic()
            if not alive(a.pid):
                rec["error"] = "the daemon exited while seeding"
                break
            dead = [l for l in leechers if l.done_at is None and l.proc.poll() is not None]
            if dead:
                rec["error"] = "a leecher exited before completing (see leecher-*.err)"
                break
            if now - t0 > a.timeout:
                got = sum(1 for l in leechers if l.done_at is not None)
                rec["error"] = "%d of %d leechers complete after %.0f s" % (got, a.leechers, a.timeout)
                break
            if a.sample_s > 0 and now >= next_sample:
                _, vc = cache_stats(a.sock, a.info_hash)
                if vc:
                    peak_pinned = max(peak_pinned, vc["pinned_bytes"])
                    peak_held = max(peak_held, vc["bytes"])
                    samples.append([round(now - t0, 2), vc["bytes"], vc["pinned_bytes"],
                                    vc["hits"], vc["misses"]])
                next_sample = now + a.sample_s
            time.sleep(0.02)
        d1 = ticks_s(a.pid) if alive(a.pid) else d0
        me1 = self_cpu()
        c1 = cpu_totals()
        t_end = time.monotonic()
        summary1, vc1 = cache_stats(a.sock, a.info_hash)
    finally:
        for l in leechers:
            # They exit by themselves once complete; the rest are killed.
            for _ in range(100):
                if l.reap() is not None:
                    break
                time.sleep(0.02)
            l.kill()
        shutil.rmtree(a.leech_dir, ignore_errors=True)
    if "error" in rec:
        return finish(a, rec, "")
    t1 = max(l.done_at for l in leechers)
    wall = t1 - t0
    leech_cpu = sum(l.ru.ru_utime + l.ru.ru_stime for l in leechers if l.ru)
    rec["wall_s"] = round(wall, 3)
    rec["window_s"] = round(t_end - t0, 3)
    rec["leecher_s"] = [round(l.done_at - t0, 3) for l in leechers]
    rec["mbps"] = round(total / wall / 1e6, 1)
    rec["cpu_s"] = round(d1 - d0, 3)
    rec["cpu_s_per_gib"] = round((d1 - d0) / (total / GIB), 3)
    rec["leechers_cpu_s"] = round(leech_cpu, 2)
    load(rec, c0, c1, t_end - t0, rec["cpu_s"] + leech_cpu + (me1 - me0))
    bad = [l.done_bytes for l in leechers if l.done_bytes != a.size]
    if bad:
        rec["error"] = "leechers finished with %s bytes, not %d" % (bad, a.size)
    if summary1 is not None:
        rec["uploaded_bytes"] = summary1["uploaded_total"] - summary0["uploaded_total"]
    rec["cache"] = cache_delta(vc0, vc1)
    if rec["cache"]:
        c = rec["cache"]
        c["peak_pinned_bytes"] = max(peak_pinned, c["pinned_bytes_end"])
        c["peak_bytes"] = max(peak_held, c["bytes_end"])
        c["samples"] = samples
        n = chunk_count(a.size, a.piece_length)
        c["chunks"] = n
        c["decryptions_per_chunk"] = round(c["misses"] / n, 3)
    extra = ""
    if rec["cache"] and rec["cache"]["hit_rate"] is not None:
        c = rec["cache"]
        extra = "  cache hits %.1f%%, %.2f decryptions/chunk, pinned %.0f MiB at the end" % (
            c["hit_rate"] * 100, c["decryptions_per_chunk"], c["pinned_bytes_end"] / 2**20)
    return finish(a, rec, "%6.2f s  %7.1f MB/s  trove CPU %5.2f s (%4.2f s/GiB)  busy before %2.0f%%, others %2.0f%%%s" % (
        wall, rec["mbps"], rec["cpu_s"], rec["cpu_s_per_gib"], rec["busy_before"] * 100,
        rec["others_busy_frac"] * 100, extra))


def cmd_leecher(a):
    import libtorrent as lt
    loopback.die_with_parent()
    os.makedirs(a.save_path, exist_ok=True)
    ses = loopback.session(0, "trove-bench-vault")
    loopback.wait_listening(ses)
    h = ses.add_torrent(loopback.add_params(a.torrent, a.save_path, pex=False))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "go":
        os._exit(2)
    h.connect_peer(("127.0.0.1", int(line[1])))
    last_dial = time.monotonic()
    while True:
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                sys.stderr.write("leecher: %s\n" % al.message())
                sys.stderr.flush()
                os._exit(1)
        st = h.status()
        if st.is_seeding:
            break
        # Dial again if the first attempt did not stick (libtorrent would wait long).
        if st.num_peers == 0 and time.monotonic() - last_dial > 1.0:
            h.connect_peer(("127.0.0.1", int(line[1])))
            last_dial = time.monotonic()
        ses.wait_for_alert(20)
    sys.stdout.write("complete %d %.6f\n" % (st.total_wanted_done, time.monotonic()))
    sys.stdout.flush()
    # The data is in the page cache (libtorrent maps its files): skip the teardown.
    os._exit(0)


# --------------------------------------------------------------------------------------
# small helpers for the shell script
# --------------------------------------------------------------------------------------


def cmd_details(a):
    print(json.dumps(details(a.sock, a.info_hash)))


def cmd_wait_seeding(a):
    deadline = time.monotonic() + a.timeout
    last = None
    while time.monotonic() < deadline:
        summary, _ = cache_stats(a.sock, a.info_hash)
        if summary:
            last = (summary["state"], summary["progress"])
            if summary["state"] == "seeding" and summary["progress"] >= 1.0:
                return 0
        time.sleep(0.1)
    sys.exit("vault.py: the torrent is not seeding after %.0f s (last seen: %s)" % (a.timeout, last))


def main():
    global PROTOCOL
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", type=int, default=PROTOCOL)
    sub = ap.add_subparsers(dest="cmd_name", required=True)

    def phase(p):
        p.add_argument("--record-to", required=True)
        p.add_argument("--sock", required=True)
        p.add_argument("--pid", type=int, required=True)
        p.add_argument("--info-hash", required=True)
        p.add_argument("--size", type=int, required=True)
        p.add_argument("--warm", action="append", default=[])
        p.add_argument("--drop-caches", type=int, default=1)
        p.add_argument("--wait-idle", type=float, default=30)
        p.add_argument("--idle-below", type=float, default=0.25)
        p.add_argument("--timeout", type=float, default=300)
        p.add_argument("--meta", action="append", default=[])

    d = sub.add_parser("download")
    phase(d)
    d.add_argument("--log", required=True)
    d.add_argument("--seeder-pids", default="")
    d.add_argument("cmd", nargs=argparse.REMAINDER)
    s = sub.add_parser("seed")
    phase(s)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--torrent", required=True)
    s.add_argument("--leechers", type=int, default=2)
    s.add_argument("--leech-dir", required=True)
    s.add_argument("--piece-length", type=int, default=1 << 20)
    s.add_argument("--sample-s", type=float, default=1.0)
    le = sub.add_parser("leecher")
    le.add_argument("--torrent", required=True)
    le.add_argument("--save-path", required=True)
    de = sub.add_parser("details")
    de.add_argument("--sock", required=True)
    de.add_argument("--info-hash", required=True)
    w = sub.add_parser("wait-seeding")
    w.add_argument("--sock", required=True)
    w.add_argument("--info-hash", required=True)
    w.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    PROTOCOL = a.protocol
    fn = {"download": cmd_download, "seed": cmd_seed, "leecher": cmd_leecher,
          "details": cmd_details, "wait-seeding": cmd_wait_seeding}[a.cmd_name]
    sys.exit(fn(a))


if __name__ == "__main__":
    main()
