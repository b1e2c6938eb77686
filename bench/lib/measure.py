#!/usr/bin/python3
"""One measured download for bench/throughput.sh; run it under `flock` so it never
overlaps another benchmark.

  measure.py --record-to RUNS.jsonl --manifest MANIFEST --out OUT [options] -- CMD ARGS...

In order:
  1. waits (up to --wait-idle s) until the CPUs are quiet (< --idle-below busy, our idle
     seeders included), and records how busy they were;
  2. empties OUT, runs --pre (a shell command, not timed: `trove add` for the daemon);
  3. drops the page cache (sync; echo 3 > /proc/sys/vm/drop_caches) and reads the seeders'
     payload back in, so every client starts with a cold output and a warm source;
  4. starts CMD and, every --sample-ms, samples the bytes allocated under OUT (clients
     write sparse files, so this is the data that has landed) and the client's RSS;
     with --dial-port, once CMD listens on that port it writes 127.0.0.1:PORT to
     --dial-file and sends SIGUSR1 to the seeders so they dial it (transmission-cli);
  5. reaps CMD with wait4(): wall time, user+sys CPU seconds and peak RSS (ru_maxrss, the
     figure `/usr/bin/time -v` prints as "Maximum resident set size") of CMD and of any
     children it waited for;
  6. times a `sync` of what CMD left dirty, checks the output (every file's size, and its
     bytes against the seed when --verify full), deletes OUT and --cleanup paths, and
     appends one JSON line to RUNS.jsonl.
CPU used meanwhile by the seeders, by this sampler and by everything else on the machine
(from /proc) is recorded too, as a noise indicator. Exit status: 0 when the run was
recorded as ok, 1 otherwise (the record says why).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_totals():
    """(busy, softirq, total) jiffies over all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()
    v = [int(x) for x in parts[1:]]
    user, nice, system, idle, iowait, irq, softirq = v[:7]
    steal = v[7] if len(v) > 7 else 0
    busy = user + nice + system + irq + softirq + steal
    return busy, softirq, busy + idle + iowait


def proc_cpu(pid):
    """utime+stime (+ reaped children) of pid, in seconds; 0 if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return 0.0
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime is field 14 -> index 11.
    ut, st, cut, cst = (int(x) for x in fields[11:15])
    return (ut + st + cut + cst) / CLK_TCK


def self_cpu():
    t = os.times()
    return t.user + t.system


def rss_anon_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def busy_fraction(seconds=1.0):
    b0, _, t0 = cpu_totals()
    time.sleep(seconds)
    b1, _, t1 = cpu_totals()
    return (b1 - b0) / max(1, t1 - t0)


def wait_idle(max_wait, below):
    """Waits until the machine is quiet; returns (busy fraction seen last, seconds waited)."""
    start = time.monotonic()
    while True:
        busy = busy_fraction(1.0)
        waited = time.monotonic() - start
        if busy < below or waited >= max_wait:
            return busy, waited


def allocated_bytes(root, sizes_cap):
    """Bytes allocated (st_blocks) under root, each file capped at its size."""
    total = 0
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            for e in it:
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                    elif e.is_file(follow_symlinks=False):
                        st = e.stat(follow_symlinks=False)
                        total += min(st.st_blocks * 512, st.st_size)
                except OSError:
                    pass
    return min(total, sizes_cap)


def listening(port):
    """True if something listens on TCP port (IPv4 or IPv6) in this network namespace."""
    want = ":%04X" % port
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[1].endswith(want) and cols[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def drop_caches():
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def warm(paths):
    buf = bytearray(8 << 20)
    for root in paths:
        for dirpath, _, files in os.walk(root):
            for name in files:
                if name.endswith((".torrent", ".json")):
                    continue
                try:
                    with open(os.path.join(dirpath, name), "rb", buffering=0) as f:
                        while f.readinto(buf):
                            pass
                except OSError:
                    pass


def verify(out, man, full):
    """None if OUT holds the payload, else what is wrong."""
    problems = []
    for fe in man["file_list"]:
        p = os.path.join(out, fe["path"])
        try:
            size = os.path.getsize(p)
        except OSError:
            problems.append("missing " + fe["path"])
            continue
        if size != fe["size"]:
            problems.append("%s is %d bytes, not %d" % (fe["path"], size, fe["size"]))
            continue
        if full:
            src = os.path.join(man["payload_dir"], fe["path"])
            with open(p, "rb") as a, open(src, "rb") as b:
                while True:
                    x = a.read(4 << 20)
                    y = b.read(4 << 20)
                    if x != y:
                        problems.append("%s differs from the seed" % fe["path"])
                        break
                    if not x:
                        break
        if len(problems) > 5:
            break
    return "; ".join(problems[:5]) or None


def tail(path, n=3000):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record-to", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True, help="folder the client downloads into")
    ap.add_argument("--log", required=True, help="client stdout+stderr go here")
    ap.add_argument("--meta", action="append", default=[], help="key=value for the record")
    ap.add_argument("--pre", help="shell command run before timing (not timed)")
    ap.add_argument("--cleanup", action="append", default=[], help="rm -rf after the run")
    ap.add_argument("--seeder-pids", default="")
    ap.add_argument("--warm", action="append", default=[])
    ap.add_argument("--drop-caches", type=int, default=1)
    ap.add_argument("--wait-idle", type=float, default=120)
    ap.add_argument("--idle-below", type=float, default=0.25)
    ap.add_argument("--sample-ms", type=float, default=100)
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("--verify", choices=["sizes", "full"], default="sizes")
    ap.add_argument("--dial-port", type=int)
    ap.add_argument("--dial-file")
    ap.add_argument("--keep-log-on-success", type=int, default=1)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        sys.exit("measure.py: no command")
    with open(a.manifest) as f:
        man = json.load(f)
    expect = man["size"]
    seeders = [int(x) for x in a.seeder_pids.split(",") if x]
    rec = {k: v for k, v in (m.split("=", 1) for m in a.meta)}
    rec.update({"cmd": cmd, "bytes": expect, "ok": False})

    # 1. quiet machine
    busy, waited = wait_idle(a.wait_idle, a.idle_below)
    rec["busy_before"] = round(busy, 3)
    rec["idle_wait_s"] = round(waited, 1)

    # 2. fresh output, untimed setup
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    if a.pre:
        r = subprocess.run(["bash", "-c", a.pre], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            rec["error"] = "setup failed (%d): %s" % (r.returncode, r.stdout.decode()[-1500:])
            return finish(a, rec)

    # 3. cold output, warm source
    rec["cache_dropped"] = bool(a.drop_caches) and drop_caches()
    if a.warm:
        warm(a.warm)

    # 4. run and sample
    if a.dial_file:
        try:
            os.unlink(a.dial_file)
        except OSError:
            pass
    logf = open(a.log, "wb")
    c0 = cpu_totals()
    s0 = {p: proc_cpu(p) for p in seeders}
    me0 = self_cpu()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                            start_new_session=True)
    pid = proc.pid
    t_first = t_data = None
    peak_anon = 0
    next_dial = t0
    status = ru = None
    period = a.sample_ms / 1000.0
    next_sample = t0
    while True:
        wpid, st, r = os.wait4(pid, os.WNOHANG)
        now = time.monotonic()
        if wpid == pid:
            status, ru = st, r
            t_exit = now
            break
        if now - t0 > a.timeout:
            os.killpg(pid, signal.SIGKILL)
            _, status, ru = os.wait4(pid, 0)
            t_exit = time.monotonic()
            rec["error"] = "timed out after %.0f s" % a.timeout
            break
        # The seeders dial CMD once it listens, and again every 0.5 s until data arrives:
        # a connection made while it still sets the torrent up may be dropped, and
        # libtorrent would wait long before retrying on its own.
        if (a.dial_port is not None and t_first is None and now >= next_dial
                and listening(a.dial_port)):
            with open(a.dial_file, "w") as f:
                f.write("127.0.0.1:%d\n" % a.dial_port)
            for p in seeders:
                try:
                    os.kill(p, signal.SIGUSR1)
                except OSError:
                    pass
            if "dialled_at_s" not in rec:
                rec["dialled_at_s"] = round(now - t0, 3)
            rec["dials"] = rec.get("dials", 0) + 1
            next_dial = now + 0.5
        if now >= next_sample:
            peak_anon = max(peak_anon, rss_anon_kib(pid))
            if t_data is None:
                got = allocated_bytes(a.out, expect)
                if got > 0 and t_first is None:
                    t_first = now - t0
                if got >= expect:
                    t_data = now - t0
            next_sample += period
            if next_sample < now:
                next_sample = now + period
        time.sleep(min(0.02, max(0.0, next_sample - time.monotonic())))
    wall = t_exit - t0
    if t_data is None and "error" not in rec and allocated_bytes(a.out, expect) >= expect:
        # Finished between two samples: all we know is that it was there at exit.
        t_data = wall
        if t_first is None:
            t_first = wall
    # Anything it left behind in its process group (it should leave nothing).
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    logf.close()
    c1 = cpu_totals()
    s1 = {p: proc_cpu(p) for p in seeders}
    me1 = self_cpu()

    rec["exit_code"] = os.waitstatus_to_exitcode(status)
    rec["wall_s"] = round(wall, 3)
    rec["user_s"] = round(ru.ru_utime, 3)
    rec["sys_s"] = round(ru.ru_stime, 3)
    rec["cpu_s"] = round(ru.ru_utime + ru.ru_stime, 3)
    rec["maxrss_kib"] = ru.ru_maxrss
    rec["peak_rss_anon_kib"] = peak_anon
    rec["first_byte_s"] = round(t_first, 2) if t_first is not None else None
    rec["data_s"] = round(t_data, 2) if t_data is not None else None
    rec["mbps"] = round(expect / wall / 1e6, 1)
    rec["seeders_cpu_s"] = round(sum(s1[p] - s0[p] for p in seeders), 3)
    rec["sampler_cpu_s"] = round(me1 - me0, 3)
    busy_s = (c1[0] - c0[0]) / CLK_TCK
    rec["machine_busy_s"] = round(busy_s, 2)
    rec["softirq_s"] = round((c1[1] - c0[1]) / CLK_TCK, 2)
    rec["others_cpu_s"] = round(
        busy_s - rec["cpu_s"] - rec["seeders_cpu_s"] - rec["sampler_cpu_s"] - rec["softirq_s"], 2)
    ncpu = os.cpu_count() or 1
    rec["others_busy_frac"] = round(max(0.0, rec["others_cpu_s"]) / (wall * ncpu), 3)

    # 6. after the clock
    ts = time.monotonic()
    os.sync()
    rec["sync_after_s"] = round(time.monotonic() - ts, 2)
    if rec["exit_code"] != 0 and "error" not in rec:
        rec["error"] = "exit code %d" % rec["exit_code"]
    if "error" not in rec:
        problem = verify(a.out, man, a.verify == "full")
        rec["verified"] = a.verify
        if problem:
            rec["error"] = "bad output: " + problem
    rec["ok"] = "error" not in rec
    if not rec["ok"]:
        rec["log_tail"] = tail(a.log)
    return finish(a, rec)


def finish(a, rec):
    shutil.rmtree(a.out, ignore_errors=True)
    for p in a.cleanup:
        shutil.rmtree(p, ignore_errors=True)
    rec["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(a.record_to, "a") as f:
        f.write(json.dumps(rec) + "\n")
    brief = "%-16s %-22s " % (rec.get("contender", "?"), rec.get("scenario", "?"))
    if rec["ok"]:
        brief += "%7.2f s  %6.1f MB/s  cpu %6.2f s  rss %4d MiB  (busy before %.0f%%, others %.0f%%)" % (
            rec["wall_s"], rec["mbps"], rec["cpu_s"], rec["maxrss_kib"] // 1024,
            rec["busy_before"] * 100, rec["others_busy_frac"] * 100)
    else:
        brief += "FAILED: " + rec.get("error", "?")
    print(brief, flush=True)
    return 0 if rec["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
