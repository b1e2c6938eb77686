#!/usr/bin/python3
"""Helpers for scripts/soak.sh (the long seeding soak; not part of the test suite).

    soak.py make    --root R --torrent-dir T --count N --seed S > manifest.json
    soak.py churn   --manifest M --trove-port N --work W --out O [--slots 2]
    soak.py sample  --pid PID --csv F --interval 10 --warmup-secs S --snap-dir O --status F
    soak.py report  --out O --minutes N [--max-growth 10]

Run with /usr/bin/python3: Debian's python3-libtorrent (used through the peers of
tools/loopback) imports only under that interpreter. Everything is on 127.0.0.1.
"""

import argparse
import csv
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "loopback"))
from loopback import PeerClient  # noqa: E402

MIB = 1 << 20


def log(msg):
    sys.stderr.write("[%s] soak.py[%d]: %s\n" % (time.strftime("%H:%M:%S"), os.getpid(), msg))
    sys.stderr.flush()


# --------------------------------------------------------------------------------------
# make: the torrents, payload written straight into trove's root
# --------------------------------------------------------------------------------------


def cmd_make(args):
    rng = random.Random(args.seed)
    os.makedirs(args.root, exist_ok=True)
    os.makedirs(args.torrent_dir, exist_ok=True)
    peer = PeerClient(os.path.join(args.torrent_dir, "make-peer.stderr.log"))
    out = []
    try:
        for i in range(args.count):
            size = rng.randint(args.min_mib * MIB, args.max_mib * MIB)
            name = "soak-%02d" % (i + 1)
            # Every fourth torrent is multi-file (three files, one in a sub-folder), so the
            # daemon holds more than one file per torrent open, as real torrents make it.
            if i % 4 == 3:
                a = size // 2
                b = size // 3
                files = [
                    {"path": "part-a.bin", "size": a},
                    {"path": "sub/part-b.bin", "size": b},
                    {"path": "part-c.bin", "size": size - a - b},
                ]
            else:
                name += ".bin"
                files = [{"path": name, "size": size}]
            piece_length = rng.choice([64 << 10, 128 << 10, 256 << 10])
            rep = peer.request(
                {
                    "op": "make_torrent",
                    "dir": args.root,
                    "name": name,
                    "files": files,
                    "piece_length": piece_length,
                    "seed": args.seed * 1000 + i,
                },
                timeout=300,
            )
            # The payload stays in the root; the .torrent goes next to the other ones.
            dst = os.path.join(args.torrent_dir, os.path.basename(rep["torrent"]))
            shutil.move(rep["torrent"], dst)
            out.append(
                {
                    "name": name,
                    "torrent": dst,
                    "info_hash": rep["info_hash"],
                    "size": rep["total_size"],
                    "files": len(files),
                    "piece_length": rep["piece_length"],
                    "num_pieces": rep["num_pieces"],
                }
            )
            log("made %s: %.1f MiB, %d file(s), %d KiB pieces"
                % (name, rep["total_size"] / MIB, len(files), rep["piece_length"] >> 10))
    finally:
        peer.quit()
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


# --------------------------------------------------------------------------------------
# churn: leechers come and go for as long as the soak runs
# --------------------------------------------------------------------------------------


class Churn:
    def __init__(self, args):
        self.args = args
        with open(args.manifest) as f:
            self.torrents = json.load(f)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"completed": 0, "aborted": 0, "failed": 0, "restarts": 0,
                       "bytes": 0, "reconnects": 0}
        self.events_path = os.path.join(args.out, "leech-sessions.csv")
        self.events = open(self.events_path, "w", newline="")
        self.ew = csv.writer(self.events)
        self.ew.writerow(["t_unix", "slot", "peer_pid", "peer_port", "torrent", "size",
                          "outcome", "secs", "downloaded", "note"])
        self.status_path = os.path.join(args.out, "churn-status")
        self.write_status()

    def write_status(self):
        c = self.counts
        tmp = self.status_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d %d %d %d\n" % (c["completed"], c["aborted"], c["failed"],
                                          c["restarts"], c["bytes"]))
        os.replace(tmp, self.status_path)

    def record(self, slot, peer, t, outcome, secs, downloaded, note=""):
        with self.lock:
            self.counts[outcome] += 1
            self.counts["bytes"] += downloaded
            self.ew.writerow(["%.1f" % time.time(), slot, peer.pid, peer.port, t["name"],
                              t["size"], outcome, "%.1f" % secs, downloaded, note])
            self.events.flush()
            self.write_status()

    def slot_loop(self, slot):
        a = self.args
        rng = random.Random(a.seed * 100 + slot)
        slot_dir = os.path.join(a.work, "slot%d" % slot)
        err_log = os.path.join(a.out, "leecher-slot%d.stderr.log" % slot)
        peer = None
        left_before_restart = 0
        sess = 0
        while not self.stop.is_set():
            try:
                if peer is None or left_before_restart <= 0:
                    if peer is not None:
                        peer.quit()
                        with self.lock:
                            self.counts["restarts"] += 1
                        peer = None
                    shutil.rmtree(slot_dir, ignore_errors=True)
                    os.makedirs(slot_dir, exist_ok=True)
                    # A new process: new peer id, new listen port.
                    peer = PeerClient(err_log)
                    left_before_restart = rng.randint(a.restart_min, a.restart_max)
                    log("slot %d: leecher pid %d on port %d (for %d sessions)"
                        % (slot, peer.pid, peer.port, left_before_restart))
                left_before_restart -= 1
                sess += 1
                self.one_session(slot, rng, peer, os.path.join(slot_dir, "s%d" % sess))
            except Exception as e:  # a broken leecher: log, replace it, carry on
                log("slot %d: %s" % (slot, e))
                if peer is not None:
                    peer.kill()
                    peer = None
                self.stop.wait(2)
                continue
            self.stop.wait(rng.uniform(a.pause_min, a.pause_max))
        if peer is not None:
            peer.quit()
        shutil.rmtree(slot_dir, ignore_errors=True)

    def one_session(self, slot, rng, peer, save_path):
        a = self.args
        t = rng.choice(self.torrents)
        # Some leechers leave half-way, as real ones do.
        abort_after = rng.uniform(0.5, 4.0) if rng.random() < a.abort_fraction else None
        os.makedirs(save_path, exist_ok=True)
        ih = peer.request({"op": "leech", "torrent": t["torrent"], "save_path": save_path})[
            "info_hash"]
        peer.request({"op": "connect", "info_hash": ih, "port": a.trove_port})
        start = time.monotonic()
        last_connect = start
        deadline = start + a.session_timeout_base + t["size"] / a.min_rate
        outcome, note, st = None, "", {}
        while outcome is None:
            if self.stop.wait(1.0):
                outcome, note = "aborted", "soak ending"
                break
            st = peer.request({"op": "status", "info_hash": ih})
            now = time.monotonic()
            if st.get("error"):
                outcome, note = "failed", "leecher error: %s" % st["error"]
            elif st["is_finished"]:
                outcome = "completed"
            elif abort_after is not None and now - start >= abort_after:
                outcome, note = "aborted", "left after %.1f s" % abort_after
            elif now > deadline:
                outcome, note = "failed", "timeout at %.0f%% with %d peers" % (
                    100 * st["progress"], st["num_peers"])
            elif st["num_peers"] == 0 and now - last_connect > 5:
                peer.request({"op": "connect", "info_hash": ih, "port": a.trove_port})
                last_connect = now
                with self.lock:
                    self.counts["reconnects"] += 1
        secs = time.monotonic() - start
        downloaded = int(st.get("total_download", 0) or 0)
        peer.request({"op": "remove", "info_hash": ih})
        shutil.rmtree(save_path, ignore_errors=True)
        if outcome == "failed":
            log("slot %d: %s: %s" % (slot, t["name"], note))
        self.record(slot, peer, t, outcome, secs, downloaded, note)

    def run(self):
        def on_term(_sig, _frm):
            self.stop.set()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        t0 = time.time()
        threads = [threading.Thread(target=self.slot_loop, args=(s,), daemon=True)
                   for s in range(self.args.slots)]
        for th in threads:
            th.start()
        while any(th.is_alive() for th in threads):
            for th in threads:
                th.join(timeout=0.5)
            if self.stop.is_set():
                for th in threads:
                    th.join(timeout=20)
                break
        # Every peer.py has been waited for, so RUSAGE_CHILDREN covers all of them.
        tm = os.times()
        summary = dict(self.counts)
        summary.update({
            "wall_secs": round(time.time() - t0, 1),
            "cpu_self_secs": round(tm.user + tm.system, 2),
            "cpu_children_secs": round(tm.children_user + tm.children_system, 2),
            "slots": self.args.slots,
        })
        with open(os.path.join(self.args.out, "churn-summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        self.events.close()
        log("churn done: %s" % summary)
        return 0


def cmd_churn(args):
    return Churn(args).run()


# --------------------------------------------------------------------------------------
# sample: trove's RSS, fds, threads and CPU every N seconds
# --------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def dir_bytes(path):
    """Total size of the regular files under path (0 if there is none)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for n in files:
            try:
                total += os.lstat(os.path.join(dirpath, n)).st_size
            except OSError:
                pass
    return total


def fd_targets(pid):
    d = "/proc/%d/fd" % pid
    out = []
    for n in os.listdir(d):
        try:
            out.append((int(n), os.readlink(os.path.join(d, n))))
        except OSError:
            pass  # closed between listdir and readlink
    return sorted(out)


def fd_kind(target, roots):
    if target.startswith("socket:"):
        return "socket"
    if target.startswith("pipe:"):
        return "pipe"
    if target.startswith("anon_inode:"):
        return target
    for label, prefix in roots:
        if target.startswith(prefix):
            return label
    return "other file"


def fd_groups(pid, roots):
    groups = {}
    for _, t in fd_targets(pid):
        k = fd_kind(t, roots)
        groups[k] = groups.get(k, 0) + 1
    return groups


def socket_states(pid):
    """Sockets of pid by kind and state (ss -anp), e.g. {'tcp ESTAB': 3, 'udp UNCONN': 1}."""
    try:
        txt = subprocess.run(["ss", "-anpH"], capture_output=True, text=True,
                             timeout=20).stdout
    except Exception:
        return {}
    tag = "pid=%d," % pid
    out = {}
    for line in txt.splitlines():
        if tag in line:
            f = line.split()
            st = "%s %s" % (f[0], f[1])
            out[st] = out.get(st, 0) + 1
    return out


def snapshot(pid, path, roots, label):
    """`ls -l /proc/PID/fd` grouped by target, plus TCP states, into path."""
    targets = fd_targets(pid)
    groups = {}
    for _, t in targets:
        k = fd_kind(t, roots)
        groups[k] = groups.get(k, 0) + 1
    tcp = socket_states(pid)
    st = read_status(pid)
    with open(path, "w") as f:
        f.write("# %s: pid %d at %s\n" % (label, pid, time.strftime("%Y-%m-%d %H:%M:%S")))
        f.write("# VmRSS %d kB (anon %d, file %d), VmHWM %d kB, threads %d, fds %d\n"
                % (st["VmRSS"], st["RssAnon"], st["RssFile"], st["VmHWM"], st["Threads"],
                   len(targets)))
        f.write("# fds by target: %s\n" % json.dumps(groups, sort_keys=True))
        f.write("# sockets by kind and state: %s\n" % json.dumps(tcp, sort_keys=True))
        for n, t in targets:
            f.write("%d -> %s\n" % (n, t))
    return groups, tcp


def parse_roots(specs):
    out = []
    for s in specs or []:
        label, _, prefix = s.partition("=")
        out.append((label, prefix.rstrip("/") + "/"))
    return out


def cmd_sample(args):
    pid = args.pid
    roots = parse_roots(args.fd_group)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t0 = args.t0 or time.time()
    snapped_warmup = False
    with open(args.csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_secs", "unix", "rss_kb", "hwm_kb", "fds", "fd_sockets", "fd_files",
                    "fd_other", "threads", "cpu_ticks", "leech_completed", "leech_aborted",
                    "leech_failed", "leecher_restarts", "rss_anon_kb", "rss_file_kb",
                    "store_kb"])
        i = 0
        while True:
            now = time.time()
            try:
                st = read_status(pid)
                groups = fd_groups(pid, roots)
                ticks = cpu_ticks(pid)
            except (FileNotFoundError, ProcessLookupError):
                log("sampler: pid %d is gone" % pid)
                break
            nfd = sum(groups.values())
            socks = groups.get("socket", 0)
            files = sum(v for k, v in groups.items()
                        if k in [r[0] for r in roots] or k == "other file")
            counts = ["", "", "", ""]
            try:
                with open(args.status) as sf:
                    counts = (sf.read().split() + counts)[:4]
            except (OSError, TypeError):
                pass
            store_kb = dir_bytes(args.store_dir) // 1024 if args.store_dir else ""
            w.writerow(["%.1f" % (now - t0), "%.1f" % now, st["VmRSS"], st["VmHWM"], nfd,
                        socks, files, nfd - socks - files, st["Threads"], ticks] + counts
                       + [st["RssAnon"], st["RssFile"], store_kb])
            f.flush()
            if not snapped_warmup and now - t0 >= args.warmup_secs:
                snapshot(pid, os.path.join(args.snap_dir, "fds-warmup.txt"), roots,
                         "at the end of warm-up")
                snapped_warmup = True
            i += 1
            # Sample on a fixed grid, so the interval does not drift.
            nxt = t0 + i * args.interval
            while nxt <= time.time():
                i += 1
                nxt = t0 + i * args.interval
            if stop.wait(nxt - time.time()):
                break
    return 0


def cmd_snapshot(args):
    groups, tcp = snapshot(args.pid, args.path, parse_roots(args.fd_group), args.label)
    print("fds by target: %s; sockets by kind and state: %s"
          % (json.dumps(groups, sort_keys=True), json.dumps(tcp, sort_keys=True)))
    return 0


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------


def pct(a, b):
    return 100.0 * (a - b) / b if b else float("nan")


def slope_per_hour(rows, key):
    """Least-squares slope of key over t, in % of its mean per hour."""
    if len(rows) < 3:
        return float("nan")
    xs = [r["t_secs"] for r in rows]
    ys = [r[key] for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0 or my == 0:
        return float("nan")
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return 100.0 * b * 3600 / my


def cmd_report(args):
    out = args.out
    rows = []
    with open(os.path.join(out, "samples.csv")) as f:
        for r in csv.DictReader(f):
            rows.append({k: float(v) if v not in ("", None) else 0.0 for k, v in r.items()})
    if len(rows) < 2:
        print("soak: only %d sample(s); nothing to report" % len(rows))
        return 2
    run_secs = args.minutes * 60
    last_t = rows[-1]["t_secs"]
    warm = min(0.10 * run_secs, 300.0)
    before = [r for r in rows if r["t_secs"] <= warm]
    after = [r for r in rows if r["t_secs"] > warm]
    if not before or not after:
        print("soak: the run is too short to split at the warm-up cut (%.0f s)" % warm)
        return 2
    at_cut = before[-1]
    # The baseline is the level reached by the end of warm-up: the highest sample of its
    # last 60 s (one sample alone may fall between two leech sessions).
    window = [r for r in before if r["t_secs"] > at_cut["t_secs"] - 60] or [at_cut]
    base_rss = max(r["rss_kb"] for r in window)
    base_fd = max(r["fds"] for r in window)
    max_rss = max(r["rss_kb"] for r in after)
    max_fd = max(r["fds"] for r in after)
    g_rss = pct(max_rss, base_rss)
    g_fd = pct(max_fd, base_fd)
    # Drift: median of the first vs the last tenth (at least 5 samples) after warm-up.
    k = max(5, len(after) // 10)
    first, lastk = after[:k], after[-k:]
    d_rss = pct(statistics.median(r["rss_kb"] for r in lastk),
                statistics.median(r["rss_kb"] for r in first))
    d_fd = pct(statistics.median(r["fds"] for r in lastk),
               statistics.median(r["fds"] for r in first))
    peak_hwm = max(r["hwm_kb"] for r in rows)
    cpu_secs = (rows[-1]["cpu_ticks"] - rows[0]["cpu_ticks"]) / CLK_TCK
    span = rows[-1]["t_secs"] - rows[0]["t_secs"]
    trove_cpu = 100.0 * cpu_secs / span if span > 0 else float("nan")

    churn = {}
    try:
        with open(os.path.join(out, "churn-summary.json")) as f:
            churn = json.load(f)
    except OSError:
        pass
    leech_cpu = float("nan")
    if churn.get("wall_secs"):
        leech_cpu = 100.0 * (churn["cpu_self_secs"] + churn["cpu_children_secs"]) / churn[
            "wall_secs"]

    def mib(kb):
        return "%.1f MiB" % (kb / 1024.0)

    lines = []
    add = lines.append
    add("trove soak: %d torrents, %.1f min run (%d samples every %.0f s)"
        % (args.torrents, last_t / 60.0, len(rows), rows[1]["t_secs"] - rows[0]["t_secs"]))
    add("")
    add("%-44s %14s %10s" % ("", "RSS", "open fds"))
    add("%-44s %14s %10s" % ("warm-up cut (min(10% of run, 5 min))", "%.0f s" % warm, ""))
    add("%-44s %14s %10d" % ("at end of warm-up (sample at t=%.0f s)" % at_cut["t_secs"],
                             mib(at_cut["rss_kb"]), at_cut["fds"]))
    add("%-44s %14s %10d" % ("baseline (max of warm-up's last 60 s)", mib(base_rss), base_fd))
    add("%-44s %14s %10d" % ("max after warm-up", mib(max_rss), max_fd))
    add("%-44s %13.1f%% %9.1f%%" % ("growth (max after vs baseline)", g_rss, g_fd))
    add("%-44s %13.1f%% %9.1f%%" % ("  (vs the single sample at the cut)",
                                    pct(max_rss, at_cut["rss_kb"]),
                                    pct(max_fd, at_cut["fds"])))
    add("%-44s %13.1f%% %9.1f%%" % ("drift (median last vs first tenth after)", d_rss, d_fd))
    add("%-44s %12.1f%%/h %8.1f%%/h" % ("trend (least squares after warm-up)",
                                        slope_per_hour(after, "rss_kb"),
                                        slope_per_hour(after, "fds")))
    add("%-44s %14s %10s" % ("min / max after warm-up",
                             "%s-%s" % (mib(min(r["rss_kb"] for r in after)).split()[0],
                                        mib(max_rss)),
                             "%d-%d" % (min(r["fds"] for r in after), max_fd)))
    add("%-44s %14s" % ("peak RSS (VmHWM)", mib(peak_hwm)))
    if after[-1].get("rss_anon_kb"):
        base_anon = max(r["rss_anon_kb"] for r in window)
        max_anon = max(r["rss_anon_kb"] for r in after)
        add("%-44s %14s" % ("anonymous RSS (heap): baseline / max after",
                            "%s / %s" % (mib(base_anon).split()[0], mib(max_anon))))
        add("%-44s %13.1f%%" % ("  growth", pct(max_anon, base_anon)))
        add("%-44s %14s" % ("file-backed RSS: baseline / max after",
                            "%s / %s" % (mib(max(r["rss_file_kb"] for r in window)).split()[0],
                                         mib(max(r["rss_file_kb"] for r in after)))))
    span_after = after[-1]["t_secs"] - after[0]["t_secs"]
    if span_after > 0:
        mib_h = (slope_per_hour(after, "rss_kb") / 100.0
                 * statistics.fmean(r["rss_kb"] for r in after) / 1024.0)
        add("%-44s %12.2f MiB/h" % ("RSS trend after warm-up", mib_h))
        done = after[-1]["leech_completed"] - after[0]["leech_completed"] + (
            after[-1]["leech_aborted"] - after[0]["leech_aborted"])
        if done > 0:
            add("%-44s %11.1f KiB" % ("  per leech session (completed or left)",
                                      mib_h * 1024.0 * span_after / 3600.0 / done))
    if rows[-1].get("store_kb"):
        add("%-44s %14s" % ("sled store on disk: first / last sample",
                            "%s / %s" % (mib(rows[0]["store_kb"]).split()[0],
                                         mib(rows[-1]["store_kb"]))))
    add("%-44s %14s" % ("threads (min-max after warm-up)",
                        "%d-%d" % (min(r["threads"] for r in after),
                                   max(r["threads"] for r in after))))
    add("")
    if churn:
        add("leech sessions: %d completed, %d left early (on purpose), %d failed; "
            "%d leecher restarts; %.0f MiB sent"
            % (churn["completed"], churn["aborted"], churn["failed"], churn["restarts"],
               churn["bytes"] / MIB))
    add("CPU (average of one core): trove %.1f%%, leechers and driver %s"
        % (trove_cpu, "none" if leech_cpu != leech_cpu else "%.1f%%" % leech_cpu))
    verdict = 0
    bad = [n for n, g in (("RSS", g_rss), ("fds", g_fd)) if g > args.max_growth]
    if args.minutes >= 60 and last_t < 0.95 * run_secs:
        add("(the run stopped after %.1f of %.0f min: no verdict)" % (last_t / 60, args.minutes))
    elif args.minutes >= 60:
        if bad:
            add("FAIL: %s grew by more than %.0f%% after warm-up" % (" and ".join(bad),
                                                                    args.max_growth))
            verdict = 1
        else:
            add("PASS: neither RSS nor open fds grew by more than %.0f%% after warm-up"
                % args.max_growth)
    else:
        add("(run shorter than 60 min: figures reported, no verdict%s)"
            % ("; over %.0f%%: %s" % (args.max_growth, ", ".join(bad)) if bad else ""))
    if churn and churn.get("completed", 0) == 0:
        add("FAIL: no leech session completed")
        verdict = 1
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    return verdict


# --------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)


    p = sub.add_parser("make")
    p.add_argument("--root", required=True)
    p.add_argument("--torrent-dir", required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--min-mib", type=int, default=4)
    p.add_argument("--max-mib", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)

    p = sub.add_parser("churn")
    p.add_argument("--manifest", required=True)
    p.add_argument("--trove-port", type=int, required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--slots", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--restart-min", type=int, default=3, help="sessions per leecher process")
    p.add_argument("--restart-max", type=int, default=12)
    p.add_argument("--pause-min", type=float, default=0.5)
    p.add_argument("--pause-max", type=float, default=4.0)
    p.add_argument("--abort-fraction", type=float, default=0.1)
    p.add_argument("--session-timeout-base", type=float, default=60.0)
    p.add_argument("--min-rate", type=float, default=128 * 1024,
                   help="bytes/s below which a session counts as failed (plus the base)")

    p = sub.add_parser("sample")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--csv", required=True)
    p.add_argument("--interval", type=float, default=10.0)
    p.add_argument("--t0", type=float, default=0.0)
    p.add_argument("--warmup-secs", type=float, required=True)
    p.add_argument("--snap-dir", required=True)
    p.add_argument("--status")
    p.add_argument("--store-dir", help="trove's sled store, whose size is sampled too")
    p.add_argument("--fd-group", action="append", help="LABEL=PATH-PREFIX")

    p = sub.add_parser("snapshot")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--label", default="snapshot")
    p.add_argument("--fd-group", action="append", help="LABEL=PATH-PREFIX")

    p = sub.add_parser("report")
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--torrents", type=int, default=20)
    p.add_argument("--max-growth", type=float, default=10.0)

    args = ap.parse_args()
    fn = {
        "make": cmd_make,
        "churn": cmd_churn,
        "sample": cmd_sample,
        "snapshot": cmd_snapshot,
        "report": cmd_report,
    }[args.cmd]
    sys.exit(fn(args))


if __name__ == "__main__":
    main()
