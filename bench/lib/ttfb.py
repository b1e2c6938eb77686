#!/usr/bin/python3
"""bench/ttfb.sh's timed part and its report.

  ttfb.py offsets --seed S --size BYTES --runs N --length L
      N offsets, one a line, drawn uniformly from the middle 80% of the file (so that
      [offset, offset + L) lies in it), from a generator seeded with S.

  ttfb.py measure --contender C --run I --offset O --length L --timeout S --expect PAYLOAD
                  (--give-cmd ARG... | --give-post URL --give-body FILE | --give-fifo FIFO --give-stamp FILE)
                  (--read-file PATH | --read-url URL [--header 'K: V']...)
      Starts the clock and gives the torrent to the client:
        --give-cmd       runs the command to its end (`trove add`; its arguments follow, the
                         last option on the line)
        --give-post      POSTs the file to URL (rqbit's /torrents); the answer's "id" replaces
                         {id} in --read-url
        --give-fifo      writes a line to FIFO, on which lib/launch.py waits before it execs
                         the client (btfs); the clock starts at the exec, as launch.py stamped
                         it in --give-stamp
      then reads L bytes at O:
        --read-file      opens PATH as soon as it exists (polled every 5 ms) and preads L
                         bytes at O; the first byte is there when pread returns
        --read-url       GET with `Range: bytes=O-`, retried every 10 ms while the answer is
                         404/409/503 or the connection is refused; the first byte is the first
                         byte of the body, L bytes are read in all
      and prints one JSON line: status (ok, timeout, error, wrong-bytes), ttfb_s, give_s
      (how long the giving took), visible_s (file opened / 206 received), len_s (all L bytes),
      error. The bytes read are compared with PAYLOAD at O. Every wait is bounded by
      --timeout from the start of the clock. With --not-before T (seconds since the epoch) the
      clock starts no earlier than T. With --after S the read starts S seconds after the
      torrent was given (the download is under way by then; the mount's file is opened
      first), and the time to first byte counts from the read's start.

  ttfb.py report --runs FILE.jsonl --meta META.json --machine MACHINE.json --out RESULT.json
      Assembles the result for lib/results.py: the per-run table, the medians (a timeout
      counts as slower than any completed read), the ratio of each median to trove-mount's.
"""

import argparse
import errno
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse

now = time.time  # wall clock: launch.py stamps btfs's exec with it


def cmd_offsets(a):
    rng = random.Random(a.seed)
    lo = a.size // 10
    hi = a.size - a.size // 10 - a.length
    if hi <= lo:
        sys.exit("the file is too small for %d-byte reads in its middle 80%%" % a.length)
    for _ in range(a.runs):
        print(rng.randint(lo, hi))


class Timeout(Exception):
    pass


def left(deadline):
    t = deadline - now()
    if t <= 0:
        raise Timeout()
    return t


def give(a, deadline):
    """Returns (t0, give_s, id)."""
    if a.give_fifo:
        with open(a.give_fifo, "w") as f:
            f.write("go\n")
        while True:
            try:
                with open(a.give_stamp) as f:
                    s = f.read().strip()
                if s:
                    t0 = int(s) / 1e9
                    return t0, now() - t0, None
            except FileNotFoundError:
                pass
            left(deadline)
            time.sleep(0.002)
    t0 = now()
    if a.give_post:
        u = urllib.parse.urlsplit(a.give_post)
        with open(a.give_body, "rb") as f:
            body = f.read()
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=left(deadline))
        path = u.path + ("?" + u.query if u.query else "")
        c.request("POST", path, body=body,
                  headers={"Content-Type": "application/x-bittorrent"})
        r = c.getresponse()
        text = r.read()
        c.close()
        if r.status != 200:
            raise RuntimeError("POST %s: %d %s" % (a.give_post, r.status, text[:300]))
        return t0, now() - t0, json.loads(text).get("id")
    import subprocess
    p = subprocess.run(a.give_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=left(deadline))
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (a.give_cmd[0], p.returncode,
                                                p.stderr.decode(errors="replace")[-300:]))
    return t0, now() - t0, None


def wait_after(a, t0):
    """With --after: waits until S seconds after the torrent was given; returns when the
    read starts."""
    if a.after > 0 and t0 + a.after > now():
        time.sleep(t0 + a.after - now())
    return now()


def read_file(a, deadline, t0):
    """Returns (visible time, read start, first-byte time, all-bytes time, bytes)."""
    while True:
        try:
            fd = os.open(a.read_file, os.O_RDONLY)
            break
        except OSError as e:
            # ENOENT: not there yet; ENOTCONN: a FUSE mount on its way up.
            if e.errno not in (errno.ENOENT, errno.ENOTCONN):
                raise
        left(deadline)
        time.sleep(0.005)
    visible = now()
    started = wait_after(a, t0)
    box = {}

    def run():
        try:
            box["data"] = os.pread(fd, a.length, a.offset)
        except OSError as e:
            box["error"] = e
        box["t"] = now()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(left(deadline))
    if th.is_alive():
        raise Timeout()
    os.close(fd)
    if "error" in box:
        raise box["error"]
    return visible, started, box["t"], box["t"], box["data"]


def read_url(a, deadline, tid, t0):
    url = a.read_url.replace("{id}", str(tid))
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    headers = {"Range": "bytes=%d-" % a.offset}
    for h in a.header:
        k, v = h.split(":", 1)
        headers[k.strip()] = v.strip()
    started = wait_after(a, t0)
    while True:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=left(deadline))
        try:
            c.request("GET", path, headers=headers)
            r = c.getresponse()
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            c.close()
            left(deadline)
            time.sleep(0.01)
            continue
        if r.status in (404, 409, 503):
            r.read()
            c.close()
            left(deadline)
            time.sleep(0.01)
            continue
        if r.status != 206:
            raise RuntimeError("GET %s: %d %s" % (url, r.status, r.read(300)))
        break
    visible = now()
    sock = c.sock  # None once the answer owns the connection: its timeout then stays
    if sock:
        sock.settimeout(left(deadline))
    first = r.read(1)
    t1 = now()
    if not first:
        raise RuntimeError("GET %s: the body ended before its first byte" % url)
    data = first
    while len(data) < a.length:
        if sock:
            sock.settimeout(left(deadline))
        chunk = r.read1(a.length - len(data))
        if not chunk:
            break
        data += chunk
    t_len = now()
    c.close()
    return visible, started, t1, t_len, data


def cmd_measure(a):
    out = {"contender": a.contender, "run": a.run, "offset": a.offset, "length": a.length,
           "status": "ok", "ttfb_s": None, "give_s": None, "visible_s": None, "len_s": None,
           "error": None}
    if a.not_before and a.not_before > now():
        time.sleep(a.not_before - now())
    start = now()
    deadline = start + a.timeout
    t0 = start
    try:
        t0, out["give_s"], tid = give(a, deadline)
        deadline = t0 + a.after + a.timeout
        if a.read_file:
            visible, started, t1, t_len, data = read_file(a, deadline, t0)
        else:
            visible, started, t1, t_len, data = read_url(a, deadline, tid, t0)
        # Without --after the clock runs from the giving; with it, from the read's start.
        clock = started if a.after > 0 else t0
        out["visible_s"] = visible - t0
        out["ttfb_s"] = t1 - clock
        out["len_s"] = t_len - clock
        with open(a.expect, "rb") as f:
            want = os.pread(f.fileno(), len(data), a.offset)
        if len(data) != a.length or data != want:
            out["status"] = "wrong-bytes"
            out["error"] = "read %d bytes, %s the payload's" % (
                len(data), "same as" if data == want else "not")
    except Timeout:
        out["status"] = "timeout"
        out["error"] = "no byte within %g s" % a.timeout
    except Exception as e:  # recorded, not hidden: the bench goes on with the next run
        out["status"] = "error"
        out["error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(out), flush=True)
    # A pread stuck in a FUSE read must not keep this process alive.
    os._exit(0)


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------

def fmt(r):
    if r is None:
        return "–"
    if r["status"] == "ok":
        return "%.2f" % r["ttfb_s"]
    return r["status"]


def cmd_report(a):
    meta = json.load(open(a.meta))
    machine = json.load(open(a.machine))
    runs = [json.loads(line) for line in open(a.runs) if line.strip()]
    contenders = meta["contenders"]
    offsets = meta["offsets"]
    by = {(r["contender"], r["run"]): r for r in runs}
    timeout = meta["timeout_s"]

    per_run = []
    for i, off in enumerate(offsets, 1):
        row = [i, "%.1f" % (off / 2**20), meta["orders"][i - 1]]
        row += [fmt(by.get((c, i))) for c in contenders]
        per_run.append(row)

    def key(r):  # a timeout or failure is slower than any completed read
        return r["ttfb_s"] if r["status"] == "ok" else float("inf")

    med = {}
    rows = []
    for c in contenders:
        rs = [by[(c, i)] for i in range(1, len(offsets) + 1) if (c, i) in by]
        ok = [r["ttfb_s"] for r in rs if r["status"] == "ok"]
        m = statistics.median(sorted(key(r) for r in rs)) if rs else None
        med[c] = m
        gives = [r["give_s"] for r in rs if r["give_s"] is not None]
        lens = [r["len_s"] for r in rs if r["status"] == "ok" and r["len_s"] is not None]
        vis = [r["visible_s"] for r in rs if r["status"] == "ok" and r["visible_s"] is not None]
        rows.append([c,
                     "> %g (timeouts)" % timeout if m == float("inf") else
                     ("%.2f" % m if m is not None else "–"),
                     "%.2f" % min(ok) if ok else "–", "%.2f" % max(ok) if ok else "–",
                     "%d/%d" % (len(ok), len(rs)),
                     sum(1 for r in rs if r["status"] == "timeout"),
                     sum(1 for r in rs if r["status"] in ("error", "wrong-bytes")),
                     "%.3f" % statistics.median(gives) if gives else "–",
                     "%.2f" % statistics.median(vis) if vis else "–",
                     "%.2f" % statistics.median(lens) if lens else "–"])
    base = med.get("trove-mount")
    for row, c in zip(rows, contenders):
        m = med[c]
        if base is None or base == float("inf") or m is None:
            ratio = "–"
        elif m == float("inf"):
            ratio = "> %.1fx" % (timeout / base)
        else:
            ratio = "%.2fx" % (m / base)
        row.insert(2, ratio)

    problems = ["run %d, %s: %s: %s" % (r["run"], r["contender"], r["status"], r["error"])
                for r in runs if r["status"] != "ok"]
    result = {
        "name": "ttfb",
        "title": "Time to first byte at a random offset of a downloading file (%s)" %
                 ", ".join(contenders),
        "command": meta["command"],
        "machine": machine,
        "sections": [
            {"heading": "Medians",
             "columns": ["contender", "median TTFB (s)", "/ trove-mount", "min (s)", "max (s)",
                         "completed", "timeouts", "errors", "give (s)", "visible (s)",
                         "%d KiB (s)" % (meta["length"] // 1024)],
             "rows": rows,
             "notes": [
                 "TTFB: %s" % meta["definition"],
                 "/ trove-mount: the contender's median over trove-mount's (below 1: faster).",
                 "A timeout counts as slower than every completed read in the median; "
                 "min and max are of completed reads.",
                 "give: how long the add call took (trove add, rqbit's POST /torrents; for "
                 "btfs the time from its exec to the bench seeing the stamp, not a client "
                 "figure). visible: the file opened in the mount / the 206 answer's headers "
                 "received. %d KiB: the whole read done (the same as TTFB for a pread)."
                 % (meta["length"] // 1024),
             ]},
            {"heading": "Runs (TTFB in seconds, or what happened)",
             "columns": ["run", "offset (MiB)", "order"] + contenders,
             "rows": per_run,
             "notes": []},
            {"heading": "Set-up", "columns": [], "rows": [], "notes": meta["setup"]},
        ],
        "notes": problems or ["every read completed and matched the payload"],
        "data": {"meta": meta, "runs": runs},
    }
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("offsets")
    o.add_argument("--seed", required=True)
    o.add_argument("--size", type=int, required=True)
    o.add_argument("--runs", type=int, required=True)
    o.add_argument("--length", type=int, required=True)
    m = sub.add_parser("measure")
    m.add_argument("--contender", required=True)
    m.add_argument("--run", type=int, required=True)
    m.add_argument("--offset", type=int, required=True)
    m.add_argument("--length", type=int, required=True)
    m.add_argument("--timeout", type=float, required=True)
    m.add_argument("--expect", required=True)
    m.add_argument("--not-before", type=float, default=0.0)
    m.add_argument("--after", type=float, default=0.0)
    m.add_argument("--give-post")
    m.add_argument("--give-body")
    m.add_argument("--give-fifo")
    m.add_argument("--give-stamp")
    m.add_argument("--read-file")
    m.add_argument("--read-url")
    m.add_argument("--header", action="append", default=[])
    m.add_argument("--give-cmd", nargs=argparse.REMAINDER)
    r = sub.add_parser("report")
    r.add_argument("--runs", required=True)
    r.add_argument("--meta", required=True)
    r.add_argument("--machine", required=True)
    r.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "measure":
        gives = sum(bool(x) for x in (a.give_cmd, a.give_post, a.give_fifo))
        if gives != 1 or bool(a.read_file) == bool(a.read_url):
            ap.error("one --give-* and one --read-* are needed")
    {"offsets": cmd_offsets, "measure": cmd_measure, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
