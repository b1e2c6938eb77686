#!/usr/bin/python3
"""The client side of bench/seedbox.sh: talking to trove, transmission-daemon and
qbittorrent-nox through their own interfaces, and the measured windows. Run it with
/usr/bin/python3 (Debian's python3-libtorrent is needed for `load`).

  seedbox.py add --client C [client opts] --torrents-json F --save-path D
      Adds every torrent of F (swarm.py make) to the client, its data already in D.
  seedbox.py wait-seeding --client C [client opts] --count N --since NS --timeout S
      Polls the client's torrent list (every --poll s) until N torrents seed; prints JSON
      with the seconds from NS (wall clock, ns since the epoch: when the bench started the
      client or the add) to the first list that showed all N seeding.
  seedbox.py window --pid P --seconds S
      The process's CPU (% of one core) over S seconds, its RSS at the end, and how busy
      the rest of the machine was meanwhile.
  seedbox.py list-latency --client C [client opts] --runs K
      Wall time of the command a user (or a script) runs to list every torrent: `trove
      list --json`, `transmission-remote -l`, `curl .../api/v2/torrents/info`; K runs.
  seedbox.py load --pid P --port PEER_PORT --torrents-json F --leechers N --rate B
                  --warmup W --seconds S --work D
      N leecher torrents in one libtorrent session, each downloading a random torrent of F
      from 127.0.0.1:PEER_PORT at B bytes/s at most; a finished one is removed (its data
      deleted) and replaced by another random torrent. After W seconds the client's CPU is
      measured over S seconds. Prints the window and how many downloads completed.

  seedbox.py ab-report --runs F --out F --machine JSON --command C --size S --settle S
                      --idle S --list-runs K --elapsed S LABEL=TROVE LABEL=TROVE [...]
      bench/seedbox-ab.sh's result (results.py's form): each figure's median per build,
      and each build's ratio to the first build's in the same run, median [min–max].

Client options: --client trove --trove BIN --data-dir D --config C;
--client transmission --rpc-port R; --client qbittorrent --webui-port W.
Each prints one JSON line; exit 0 when it did what it says.
"""

import argparse
import base64
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "loopback"))

from measure import cpu_totals, proc_cpu  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------------------
# The clients
# --------------------------------------------------------------------------------------


class Trove:
    """trove's own CLI, which talks to the running daemon through its API."""

    def __init__(self, a):
        self.base = [a.trove, "--data-dir", a.data_dir, "--config", a.config]
        self.sock = os.path.join(a.data_dir, "trove.sock")

    def add(self, torrents, save_path):
        # The root in the config points at save_path; one `trove add` per 500 files keeps
        # the command line short.
        for i in range(0, len(torrents), 500):
            batch = [t["torrent"] for t in torrents[i:i + 500]]
            subprocess.run(self.base + ["add", "--root", "bench"] + batch, check=True,
                           stdout=subprocess.DEVNULL)

    def seeding(self):
        # Until the daemon's socket is up the CLI would read the store itself and report
        # the states saved at the last stop: that is not the daemon answering.
        if not os.path.exists(self.sock):
            raise RuntimeError("the daemon's socket is not up yet")
        out = subprocess.run(self.base + ["list", "--json"], check=True,
                             capture_output=True).stdout
        return sum(1 for t in json.loads(out) if t.get("state") == "seeding" and t.get("running"))

    def list_argv(self):
        return self.base + ["list", "--json"]


class Transmission:
    """transmission-daemon's JSON-RPC (the interface transmission-remote uses)."""

    def __init__(self, a):
        self.port = a.rpc_port
        self.session_id = ""

    def rpc(self, method, arguments):
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        for _ in range(3):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            c.request("POST", "/transmission/rpc", body,
                      {"X-Transmission-Session-Id": self.session_id,
                       "Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            c.close()
            if r.status == 409:
                self.session_id = r.getheader("X-Transmission-Session-Id", "")
                continue
            if r.status != 200:
                raise RuntimeError("transmission %s answered %d: %s" % (method, r.status, data[:200]))
            answer = json.loads(data)
            if answer.get("result") != "success":
                raise RuntimeError("transmission %s: %s" % (method, answer.get("result")))
            return answer["arguments"]
        raise RuntimeError("transmission kept asking for a new session id")

    def add(self, torrents, save_path):
        for t in torrents:
            with open(t["torrent"], "rb") as f:
                meta = base64.b64encode(f.read()).decode()
            self.rpc("torrent-add", {"metainfo": meta, "download-dir": save_path, "paused": False})

    def seeding(self):
        got = self.rpc("torrent-get", {"fields": ["id", "status"]})["torrents"]
        return sum(1 for t in got if t["status"] == 6)  # TR_STATUS_SEED

    def list_argv(self):
        return ["transmission-remote", "127.0.0.1:%d" % self.port, "-l"]


class Qbittorrent:
    """qbittorrent-nox's Web API (localhost needs no login in the bench's profile)."""

    SEEDING = {"uploading", "stalledUP", "forcedUP"}

    def __init__(self, a):
        self.port = a.webui_port

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status != 200:
            raise RuntimeError("qbittorrent %s %s answered %d: %s" % (method, path, r.status, data[:200]))
        return data

    def add(self, torrents, save_path):
        for i in range(0, len(torrents), 100):
            boundary = uuid.uuid4().hex
            parts = []
            # It checks added torrents one a second, which would take over an hour for
            # thousands; the data is known to be complete, and the Web API allows saying so.
            for name, value in (("savepath", save_path), ("paused", "false"),
                                ("skip_checking", "true"), ("contentLayout", "Original")):
                parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                              % (boundary, name, value)).encode())
            for t in torrents[i:i + 100]:
                with open(t["torrent"], "rb") as f:
                    data = f.read()
                parts.append(("--%s\r\nContent-Disposition: form-data; name=\"torrents\"; "
                              "filename=\"%s\"\r\nContent-Type: application/x-bittorrent\r\n\r\n"
                              % (boundary, os.path.basename(t["torrent"]))).encode() + data + b"\r\n")
            parts.append(("--%s--\r\n" % boundary).encode())
            self.request("POST", "/api/v2/torrents/add", b"".join(parts),
                         {"Content-Type": "multipart/form-data; boundary=%s" % boundary})

    def seeding(self):
        got = json.loads(self.request("GET", "/api/v2/torrents/info"))
        return sum(1 for t in got if t["state"] in self.SEEDING)

    def list_argv(self):
        return ["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:%d/api/v2/torrents/info" % self.port]


CLIENTS = {"trove": Trove, "transmission": Transmission, "qbittorrent": Qbittorrent}


def client(a):
    return CLIENTS[a.client](a)


def load_torrents(path):
    with open(path) as f:
        return json.load(f)


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def cmd_add(a):
    c = client(a)
    torrents = load_torrents(a.torrents_json)
    t0 = time.monotonic()
    c.add(torrents, a.save_path)
    print(json.dumps({"added": len(torrents), "add_calls_s": round(time.monotonic() - t0, 3)}))


def cmd_wait_seeding(a):
    c = client(a)
    deadline = time.monotonic() + a.timeout
    seen, polls, errors = 0, 0, 0
    while time.monotonic() < deadline:
        answered = False
        try:
            seen = c.seeding()
            answered = True
        except (OSError, RuntimeError, ValueError, subprocess.CalledProcessError):
            # Not answering yet (starting up): that time counts.
            errors += 1
            seen = 0
        polls += 1
        if answered and seen >= a.count:
            s = (time.time_ns() - a.since) / 1e9
            print(json.dumps({"ok": True, "seconds": round(s, 3), "polls": polls,
                              "polls_unanswered": errors}))
            return
        time.sleep(a.poll)
    print(json.dumps({"ok": False, "seeding": seen, "polls": polls, "polls_unanswered": errors,
                      "error": "only %d of %d seeding after %.0f s" % (seen, a.count, a.timeout)}))
    sys.exit(1)


class Window:
    """The CPU of one process, and how busy the rest of the machine was, from its start to
    `end()`."""

    def __init__(self, pid):
        self.pid = pid
        self.busy0, _, self.total0 = cpu_totals()
        self.cpu0 = proc_cpu(pid)
        self.wall0 = time.monotonic()

    def end(self):
        cpu = proc_cpu(self.pid) - self.cpu0
        wall = time.monotonic() - self.wall0
        busy1, _, total1 = cpu_totals()
        busy_all = 100.0 * (busy1 - self.busy0) / max(1, total1 - self.total0)
        ncpu = os.cpu_count() or 1
        return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                "cpu_pct_one_core": round(100.0 * cpu / wall, 2),
                "rss_mib": round(rss_kib(self.pid) / 1024, 1),
                "others_busy_pct_all_cpus": round(max(0.0, busy_all - 100.0 * cpu / wall / ncpu), 1)}


def cmd_window(a):
    w = Window(a.pid)
    time.sleep(a.seconds)
    print(json.dumps(w.end()))


def cmd_list_latency(a):
    c = client(a)
    argv = c.list_argv()
    times = []
    for _ in range(a.runs):
        t0 = time.monotonic()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - t0)
    print(json.dumps({"argv0": os.path.basename(argv[0]), "runs": a.runs,
                      "median_ms": round(1000 * statistics.median(times), 1),
                      "min_ms": round(1000 * min(times), 1), "max_ms": round(1000 * max(times), 1)}))


def cmd_load(a):
    import libtorrent as lt  # noqa: PLC0415 (only this command needs it)
    import loopback  # noqa: PLC0415

    torrents = load_torrents(a.torrents_json)
    infos = {}
    ses = loopback.session(0, "trove-bench-leecher",
                           out_enc_policy=int(lt.enc_policy.disabled),
                           in_enc_policy=int(lt.enc_policy.enabled),
                           alert_mask=lt.alert_category.error)
    loopback.wait_listening(ses)
    rng = random.Random(a.seed)
    os.makedirs(a.work, exist_ok=True)
    slots = {}  # handle -> (slot number, start time)
    stats = {"completed": 0, "abandoned": 0, "bytes": 0, "durations": []}

    def start(slot):
        t = torrents[rng.randrange(len(torrents))]
        ti = infos.get(t["torrent"]) or lt.torrent_info(t["torrent"])
        infos[t["torrent"]] = ti
        save = os.path.join(a.work, "slot-%d" % slot)
        shutil.rmtree(save, ignore_errors=True)
        os.makedirs(save)
        h = ses.add_torrent(loopback.add_params(ti, save, pex=False))
        h.set_download_limit(a.rate)
        h.connect_peer(("127.0.0.1", a.port))
        slots[h] = (slot, time.monotonic(), t["size"])

    def tick(counting):
        now = time.monotonic()
        for h, (slot, t0, size) in list(slots.items()):
            st = h.status()
            done = st.is_seeding or st.is_finished
            stalled = now - t0 > a.stall
            if not (done or stalled):
                if st.num_peers == 0 and now - t0 > 2:
                    h.connect_peer(("127.0.0.1", a.port))
                continue
            if counting:
                if done:
                    stats["completed"] += 1
                    stats["bytes"] += size
                    stats["durations"].append(now - t0)
                else:
                    stats["abandoned"] += 1
            ses.remove_torrent(h, lt.session.delete_files)
            del slots[h]
            start(slot)
        ses.pop_alerts()

    for i in range(a.leechers):
        start(i)
    end_warm = time.monotonic() + a.warmup
    while time.monotonic() < end_warm:
        tick(False)
        time.sleep(0.05)
    w = Window(a.pid)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        tick(True)
        time.sleep(0.05)
    out = w.end()
    d = stats["durations"]
    out.update({"completed": stats["completed"], "abandoned": stats["abandoned"],
                "mb_per_s": round(stats["bytes"] / out["wall_s"] / 1e6, 2),
                "cpu_ms_per_mb": round(1000 * out["cpu_s"] / (stats["bytes"] / 1e6), 1)
                if stats["bytes"] else None,
                "download_s_median": round(statistics.median(d), 3) if d else None})
    for h in list(slots):
        ses.remove_torrent(h, lt.session.delete_files)
    print(json.dumps(out))


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------

NAMES = {"trove": "trove daemon", "transmission": "transmission-daemon", "qbittorrent": "qbittorrent-nox"}
LIST_CMD = {"trove": "`trove list --json`", "transmission": "`transmission-remote -l`",
            "qbittorrent": "`curl …/api/v2/torrents/info`"}

# (step, key, label, unit, format, lower is better)
FIGURES = [
    ("restart", "seconds", "start → all seeding", "s", "%.2f", True),
    ("idle", "rss_mib", "resident memory, seeding idle", "MiB", "%.0f", True),
    ("idle", "cpu_pct_one_core", "CPU while idle", "% of a core", "%.2f", True),
    ("load", "cpu_pct_one_core", "CPU while the leechers download", "% of a core", "%.1f", True),
    ("load", "mb_per_s", "  served to the leechers", "MB/s", "%.2f", False),
    ("load", "cpu_ms_per_mb", "  CPU per MB served", "ms", "%.0f", True),
    ("load", "rss_mib", "  resident memory at the end", "MiB", "%.0f", True),
    ("list", "median_ms", "list every torrent (the client's CLI or API)", "ms", "%.0f", True),
    ("dashboard", "all_torrents_ms", "attached dashboard: all torrents on screen", "ms", "%.0f", True),
]


def cmd_report(a):
    runs = [json.loads(line) for line in open(a.runs) if line.strip()]
    clients = [c for c in ("trove", "transmission", "qbittorrent") if any(r["client"] == c for r in runs)]
    counts = sorted({r["torrents"] for r in runs})
    sections = []
    for n in counts:
        def value(c, step, key):
            for r in runs:
                if r["client"] == c and r["torrents"] == n and r["step"] == step:
                    return r.get(key)
            return None
        rows = []
        for step, key, label, unit, fmt, lower in FIGURES:
            vals = {c: value(c, step, key) for c in clients}
            if all(v is None for v in vals.values()):
                continue
            cells = [label + (" (%s)" % unit if unit else "")]
            for c in clients:
                cells.append(fmt % vals[c] if vals[c] is not None else "–")
            others = [vals[c] for c in clients if c != "trove" and vals[c] is not None]
            t = vals.get("trove")
            if t is not None and others:
                best = min(others) if lower else max(others)
                ahead = t <= best if lower else t >= best
                ratio = (t / best) if best else None
                cells.append(("%.2f× · %s" % (ratio, "**ahead**" if ahead else "behind"))
                             if ratio is not None else ("**ahead**" if ahead else "behind"))
            else:
                cells.append("")
            rows.append(cells)
        sections.append({
            "heading": "%d torrents of %s, seeding" % (n, human(a.size)),
            "columns": ["figure"] + [NAMES[c] for c in clients] + ["trove / best other"],
            "rows": rows,
            "notes": []})
    notes = [
        "One run: each client in turn on a fresh state dir, all torrents' data already on disk "
        "(the same files for every client); everything on 127.0.0.1 %s, DHT, LSD, PEX, UPnP, "
        "NAT-PMP and queueing off." % ("in a private network namespace (unshare -n)" if a.netns == "1"
                                        else "on the host's loopback"),
        "Set-up (not compared): the torrents added to a fresh client (trove: `trove add`, 500 "
        "files a process; Transmission: RPC torrent-add; qBittorrent: Web API torrents/add, 100 "
        "a request, with skip_checking, since it checks one torrent a second) and waited for "
        "until all seed; then the client stopped its own clean way (`trove stop`, SIGTERM). "
        "Seconds it took: %s." % "; ".join(
            "%s %d: %.1f" % (r["client"], r["torrents"], r["seconds"]) for r in runs
            if r["step"] == "add" and r.get("seconds") is not None),
        "start → all seeding: the page cache dropped, then the clock from starting the client "
        "on its saved state to its own list (polled every 0.5 s) showing every torrent seeding "
        "(its API not answering yet counts).",
        "Idle: %s s after all seed, CPU (utime + stime of the process, /proc) over %s s, and RSS "
        "(VmRSS) at the end." % (a.settle, a.idle),
        "Load: %d libtorrent leechers in one process, each downloading a random torrent from the "
        "client at %s at most, then another; CPU over %s s after %s s of warm-up. Leechers dial "
        "the client (Transmission ignores loopback peers it would dial itself)." % (
            a.leechers, human(a.rate) + "/s", a.load, a.warmup),
        "List: median wall time of %d runs of %s, %s and %s (qBittorrent has no CLI), each a "
        "process listing every torrent." % (a.list_runs, LIST_CMD["trove"], LIST_CMD["transmission"],
                                              LIST_CMD["qbittorrent"]),
        "Dashboard: trove's dashboard (%s, tmux) started against the running daemon; time from "
        "its exec to the output holding \"N torrents\" in the header (lib/stamp.py)." % a.term,
        "trove / best other: trove's figure over the best of the other clients' (lower is better "
        "except for MB/s served). Transmission unchokes a new peer only at its next rechoke "
        "(every 10 s), so it serves fewer bytes in the window: compare CPU per MB too.",
        "trove binary: %s. The bench took %s s." % (a.trove_text, a.elapsed),
    ]
    if a.problems:
        notes.append("Problems: " + "; ".join(a.problems))
    result = {"name": "seedbox", "title": "A seedbox's worth: thousands of torrents seeding",
              "command": a.command, "machine": json.loads(a.machine), "sections": sections,
              "notes": notes, "data": {"runs": runs, "problems": a.problems}}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


AB_FIGURES = [
    ("start → all seeding (s)", lambda r: r["start"]["seconds"]),
    ("CPU while idle (% of a core)", lambda r: r["idle"]["cpu_pct_one_core"]),
    ("resident memory, idle (MiB)", lambda r: r["idle"]["rss_mib"]),
    ("`trove list --json` (ms, median)", lambda r: r["list"]["median_ms"]),
]


def cmd_ab_report(a):
    builds = [b.split("=", 1) for b in a.builds]
    labels = [label for label, _ in builds]
    runs = [json.loads(line) for line in open(a.runs) if line.strip()]
    by = {(r["run"], r["build"]): r for r in runs}
    run_ids = sorted({r["run"] for r in runs})
    first = labels[0]
    rows, summary = [], {}
    for name, get in AB_FIGURES:
        cells, summary[name] = [name], {}
        for label in labels:
            vals = [get(by[(k, label)]) for k in run_ids if (k, label) in by]
            ratios = [get(by[(k, label)]) / get(by[(k, first)]) for k in run_ids
                      if (k, label) in by and (k, first) in by and get(by[(k, first)])]
            med = statistics.median(vals) if vals else None
            cell = "–" if med is None else "%g" % med
            if label != first and ratios:
                cell += " · %.2f× [%.2f–%.2f]" % (statistics.median(ratios), min(ratios), max(ratios))
            cells.append(cell)
            summary[name][label] = {"median": med, "values": vals, "ratios_to_first": ratios}
        rows.append(cells)
    notes = [
        "Builds: " + "; ".join("`%s` = %s" % (label, path) for label, path in builds) + ".",
        "The saved session: one offline `trove add` of every torrent by the first build, one "
        "start that checked them all, a clean stop; copied afresh for every start. Builds take "
        "turns, the order rotating from run to run.",
        "Start: the page cache dropped, then the clock from starting `trove daemon` until its "
        "list shows every torrent seeding (polled every 0.5 s). Idle: %s s after all seed, the "
        "process's CPU over %s s, RSS at the end. List: median of %s runs of `trove list "
        "--json` through the daemon." % (a.settle, a.idle, a.list_runs),
        "Each ratio is the build's figure over `%s`'s in the same run: median [min–max] over "
        "the runs. Everything on 127.0.0.1, no peers; DHT, LSD, UPnP and trackers off. The runs "
        "took %s s." % (first, a.elapsed),
    ]
    result = {"name": "seedbox-ab", "title": "trove builds side by side on a seedbox's worth",
              "command": a.command, "machine": json.loads(a.machine),
              "sections": [{"heading": "%d torrents of %s seeding, %d runs" % (
                  a.torrents, a.size, len(run_ids)),
                  "columns": ["figure"] + ["`%s`" % label for label in labels],
                  "rows": rows, "notes": []}],
              "notes": notes, "data": {"runs": runs, "summary": summary}}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)


def human(b):
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= k and b % k == 0:
            return "%d %s" % (b // k, unit)
    return "%d B" % b


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)

    def client_opts(p):
        p.add_argument("--client", choices=sorted(CLIENTS), required=True)
        p.add_argument("--trove")
        p.add_argument("--data-dir")
        p.add_argument("--config")
        p.add_argument("--rpc-port", type=int)
        p.add_argument("--webui-port", type=int)

    p = sub.add_parser("add")
    client_opts(p)
    p.add_argument("--torrents-json", required=True)
    p.add_argument("--save-path", required=True)
    p = sub.add_parser("wait-seeding")
    client_opts(p)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--since", type=int, required=True)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--poll", type=float, default=0.5)
    p = sub.add_parser("window")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p = sub.add_parser("list-latency")
    client_opts(p)
    p.add_argument("--runs", type=int, default=10)
    p = sub.add_parser("load")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--torrents-json", required=True)
    p.add_argument("--leechers", type=int, default=20)
    p.add_argument("--rate", type=int, default=256 * 1024)
    p.add_argument("--warmup", type=float, default=5)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--stall", type=float, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--work", required=True)
    p = sub.add_parser("report")
    for k in ("runs", "out", "machine", "command", "trove-text", "term", "netns", "elapsed"):
        p.add_argument("--" + k, required=True)
    for k in ("size", "rate", "leechers", "settle", "idle", "load", "warmup", "list-runs"):
        p.add_argument("--" + k, type=int, required=True)
    p.add_argument("problems", nargs="*")
    p = sub.add_parser("ab-report")
    for k in ("runs", "out", "machine", "command", "size", "elapsed"):
        p.add_argument("--" + k, required=True)
    for k in ("torrents", "settle", "idle", "list-runs"):
        p.add_argument("--" + k, type=int, required=True)
    p.add_argument("builds", nargs="+")
    a = ap.parse_args()
    {"report": cmd_report, "ab-report": cmd_ab_report, "add": cmd_add, "wait-seeding": cmd_wait_seeding, "window": cmd_window,
     "list-latency": cmd_list_latency, "load": cmd_load}[a.cmd](a)


if __name__ == "__main__":
    main()
