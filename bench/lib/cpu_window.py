#!/usr/bin/python3
"""cpu_window.py SECONDS NAME=PID...: the CPU each process used over one window of SECONDS,
all read at the same instants (utime + stime of every thread, /proc/PID/stat), as one JSON
line: {"wall_s": w, "cpu_pct_one_core": {NAME: pct, ...}, "machine_busy_pct": b} where b is
how busy all CPUs were meanwhile (% of all CPUs, from /proc/stat). Exits 1 naming a process
that is gone at the end of the window."""

import json
import os
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    total = sum(v)
    return total - v[3] - v[4], total


def main():
    secs = float(sys.argv[1])
    procs = [(a.split("=", 1)[0], int(a.split("=", 1)[1])) for a in sys.argv[2:]]
    m0 = machine()
    c0 = {n: ticks(p) for n, p in procs}
    t0 = time.monotonic()
    time.sleep(secs)
    try:
        c1 = {n: ticks(p) for n, p in procs}
    except FileNotFoundError as e:
        sys.exit("cpu_window.py: a process ended during the window: %s" % e.filename)
    t1 = time.monotonic()
    m1 = machine()
    wall = t1 - t0
    print(json.dumps({
        "wall_s": round(wall, 3),
        "cpu_pct_one_core": {n: round(100.0 * (c1[n] - c0[n]) / HZ / wall, 3) for n, _ in procs},
        "machine_busy_pct": round(100.0 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]), 1),
    }))


if __name__ == "__main__":
    main()
