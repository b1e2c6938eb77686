#!/usr/bin/python3
"""Times trove CLI commands run as separate processes, through a running daemon and offline,
interleaved: latency.py SPEC.json OUT.jsonl.

SPEC.json:
  {"trove": PATH, "runs": N, "id": INFO_HASH, "protocol": VERSION,
   "modes": {"daemon": {"args": [global args...], "pid": DAEMON_PID, "socket": PATH},
             "offline": {"args": [global args...]}}}

Each run, in an order that alternates run by run (daemon first, then offline first), it
times for each mode:
  list    `trove ARGS list --json > /dev/null`
  resume  `trove ARGS resume ID`
  pause   `trove ARGS pause ID`       (the torrent is paused again, as the run found it)
and once per run `trove --version` (a process that starts and exits: the floor every
command pays). Per invocation it records the wall clock (fork to reaped), the child's own
CPU (user + system, from wait4), and for the daemon mode the daemon's CPU ticks spent
meanwhile (/proc/PID/stat). For the daemon it also times the same requests made
in-process, without starting a program: reading the first line of the event stream (the
whole snapshot, what `list` reads) and POSTing Resume/Pause commands on the socket.

Writes one JSON line per measurement to OUT.jsonl:
  {"run": i, "mode": m, "op": o, "wall_ms": w, "child_cpu_ms": c, "daemon_cpu_ms": d}
Exits 1 (naming the command and its stderr) when a command fails.
"""

import json
import os
import socket
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def timed(cmd):
    """Runs cmd with stdout to /dev/null; returns (wall_ms, child_cpu_ms)."""
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.perf_counter_ns()
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("latency.py: %s exited %d: %s" % (" ".join(cmd), p.returncode, err.strip()))
    return (t1 - t0) / 1e6, (ru.ru_utime + ru.ru_stime) * 1000


def http(sock_path, method, path, body, protocol, first_line_only):
    """One request on the Unix socket; returns (wall_ms, bytes read)."""
    t0 = time.perf_counter_ns()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    head = ("%s %s HTTP/1.1\r\nHost: localhost\r\nX-Trove-Protocol: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (method, path, protocol, len(body)))
    s.sendall(head.encode() + body)
    buf = b""
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
        if first_line_only:
            # Headers, then a chunked body: the snapshot is the first line of the body.
            sep = buf.find(b"\r\n\r\n")
            if sep >= 0 and buf.find(b"\n", buf.find(b"\r\n", sep + 4) + 2) >= 0:
                break
    s.close()
    t1 = time.perf_counter_ns()
    status = buf.split(b" ", 2)[1] if buf.startswith(b"HTTP/") else b"?"
    if status != b"200":
        sys.exit("latency.py: %s %s answered %r" % (method, path, buf[:300]))
    return (t1 - t0) / 1e6, len(buf)


def main():
    spec = json.load(open(sys.argv[1]))
    out = open(sys.argv[2], "w")
    trove, tid, runs = spec["trove"], spec["id"], spec["runs"]
    modes = spec["modes"]

    def emit(**kw):
        out.write(json.dumps(kw) + "\n")

    def run_mode(i, mode):
        m = modes[mode]
        pid = m.get("pid")
        for op, args in (("list", ["list", "--json"]), ("resume", ["resume", tid]),
                         ("pause", ["pause", tid])):
            d0 = ticks(pid) if pid else None
            wall, cpu = timed([trove] + m["args"] + args)
            d = (ticks(pid) - d0) * 1000 / HZ if pid else None
            emit(run=i, mode=mode, op=op, wall_ms=wall, child_cpu_ms=cpu, daemon_cpu_ms=d)

    order = ["daemon", "offline"]
    sock = modes["daemon"]["socket"]
    proto = spec["protocol"]
    for i in range(runs):
        for mode in (order if i % 2 == 0 else order[::-1]):
            run_mode(i, mode)
        wall, cpu = timed([trove, "--version"])
        emit(run=i, mode="process", op="--version", wall_ms=wall, child_cpu_ms=cpu, daemon_cpu_ms=None)
        wall, n = http(sock, "GET", "/api/trove/v1/events", b"", proto, True)
        emit(run=i, mode="in-process", op="list", wall_ms=wall, child_cpu_ms=None, daemon_cpu_ms=None,
             bytes=n)
        for op in ("Resume", "Pause"):
            body = json.dumps({op: tid}).encode()
            wall, n = http(sock, "POST", "/api/trove/v1/command", body, proto, False)
            emit(run=i, mode="in-process", op=op.lower(), wall_ms=wall, child_cpu_ms=None,
                 daemon_cpu_ms=None)
        out.flush()
        if (i + 1) % 50 == 0:
            print("latency.py: %d of %d runs" % (i + 1, runs), file=sys.stderr)


if __name__ == "__main__":
    main()
