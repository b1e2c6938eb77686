#!/usr/bin/python3
"""Machine description and the results table of bench/throughput.sh.

  throughput_report.py env --trove BIN --rqbit BIN --work-dir DIR --netns 0|1 > env.json
  throughput_report.py report --runs runs.jsonl --env env.json --limits limits.json --md OUT.md
                              --json OUT.json [--command CMD --elapsed S --size B --files N ...]

Figures per scenario and contender are medians with [min-max] over the ok runs.
MB = 10^6 bytes; MB/s = payload bytes / wall seconds (process start to exit).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import time

TROVES = ["trove-download", "trove-daemon"]
ORDER = TROVES + ["rqbit", "libtorrent", "aria2c", "transmission"]



def soak_running():
    """True when scripts/soak.sh's seeder (a trove copy named soak-seeder) is running."""
    import glob
    for comm in glob.glob("/proc/[0-9]*/comm"):
        try:
            if open(comm).read().strip() == "soak-seeder":
                return True
        except OSError:
            pass
    return False

def sh(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        return r.stdout.decode("utf-8", "replace").strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def first_line(s):
    return s.splitlines()[0] if s else ""


def cmd_env(a):
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    osname = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    fs = sh(["findmnt", "-n", "-o", "FSTYPE", "-T", a.work_dir])
    dev = sh(["df", "--output=source", a.work_dir]).splitlines()[-1:] or [""]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        import libtorrent as lt
        ltv = lt.__version__
    except ImportError:
        ltv = ""
    env = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu_model": cpu,
        "nproc": os.cpu_count(),
        "mem_total_bytes": mem,
        "kernel": platform.release(),
        "os": osname,
        "work_fs": fs,
        "work_device": dev[0].strip(),
        "private_netns": a.netns == "1",
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
        "versions": {
            "trove": first_line(sh([a.trove, "--version"])),
            "trove_git": sh(["git", "-C", repo, "describe", "--always", "--dirty"]),
            "rqbit": first_line(sh([a.rqbit, "--version"])) if a.rqbit else "",
            "aria2c": first_line(sh(["aria2c", "--version"])),
            "transmission-cli": first_line(sh(["transmission-cli", "--version"])),
            "libtorrent (python3-libtorrent)": ltv,
            "python": platform.python_version(),
        },
    }
    print(json.dumps(env, indent=1))


def stats(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def fmt(s, digits=1, scale=1.0):
    if not s:
        return "–"
    f = "%%.%df" % digits
    med = f % (s["median"] * scale)
    if s["n"] == 1:
        return med
    return "%s [%s–%s]" % (med, f % (s["min"] * scale), f % (s["max"] * scale))


def ratio(a, b):
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


def rfmt(r, digits=2):
    return "–" if r is None else ("%.*f×" % (digits, r))


def cmd_report(a):
    runs = []
    with open(a.runs) as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    env = json.load(open(a.env))
    limits = json.load(open(a.limits))
    scen_order = []
    for r in runs:
        if r["scenario"] not in scen_order:
            scen_order.append(r["scenario"])

    scenarios = {}
    for scen in scen_order:
        per = {}
        present = []
        for r in runs:
            if r["scenario"] == scen and r["contender"] not in present:
                present.append(r["contender"])
        present.sort(key=lambda c: ORDER.index(c) if c in ORDER else 99)
        for c in present:
            rs = [r for r in runs if r["scenario"] == scen and r["contender"] == c]
            ok = [r for r in rs if r["ok"]]
            per[c] = {
                "runs_ok": len(ok),
                "runs_failed": len(rs) - len(ok),
                "errors": sorted({r.get("error", "") for r in rs if not r["ok"]}),
                "wall_s": stats([r["wall_s"] for r in ok]),
                "mbps": stats([r["mbps"] for r in ok]),
                "data_s": stats([r["data_s"] for r in ok]),
                "data_to_exit_s": stats([r["wall_s"] - r["data_s"] for r in ok
                                         if r.get("data_s") is not None]),
                "first_byte_s": stats([r["first_byte_s"] for r in ok]),
                "cpu_s": stats([r["cpu_s"] for r in ok]),
                "user_s": stats([r["user_s"] for r in ok]),
                "sys_s": stats([r["sys_s"] for r in ok]),
                "maxrss_mib": stats([r["maxrss_kib"] / 1024 for r in ok]),
                "peak_rss_anon_mib": stats([r["peak_rss_anon_kib"] / 1024 for r in ok]),
                "seeders_cpu_s": stats([r["seeders_cpu_s"] for r in ok]),
                "sync_after_s": stats([r["sync_after_s"] for r in ok]),
                "others_busy_frac": stats([r["others_busy_frac"] for r in ok]),
                "busy_before": stats([r["busy_before"] for r in rs]),
                "runs": rs,
            }
        scenarios[scen] = per

    # Ratios and targets
    targets = {}
    losses = []
    metric_names = {"mbps": "throughput", "cpu_s": "CPU seconds", "maxrss_mib": "peak RSS"}
    for scen, per in scenarios.items():
        targets[scen] = {}
        for t in TROVES:
            if t not in per or not per[t]["mbps"]:
                continue
            T = per[t]
            row = {}
            for other in ["rqbit", "aria2c", "libtorrent", "transmission"]:
                if other in per and per[other]["mbps"]:
                    O = per[other]
                    row[other] = {
                        "throughput": ratio(T["mbps"], O["mbps"]),
                        "cpu": ratio(T["cpu_s"], O["cpu_s"]),
                        "rss": ratio(T["maxrss_mib"], O["maxrss_mib"]),
                    }
            goals = {}
            if "rqbit" in row:
                goals["≥0.95× rqbit throughput"] = row["rqbit"]["throughput"] >= 0.95
                goals["CPU ≤ rqbit"] = row["rqbit"]["cpu"] <= 1.0
            if "aria2c" in row:
                goals["≥1.5× aria2c"] = row["aria2c"]["throughput"] >= 1.5
            if "libtorrent" in row:
                goals["aim: ≥1.0× libtorrent"] = row["libtorrent"]["throughput"] >= 1.0
            targets[scen][t] = {"ratios": row, "goals": goals}
            for other, rr in row.items():
                for key, higher_better in (("throughput", True), ("cpu", False), ("rss", False)):
                    v = rr[key]
                    if v is None:
                        continue
                    # Within 5 % is within this machine's noise: not flagged.
                    lose = v < 0.95 if higher_better else v > 1.05
                    if lose:
                        losses.append({"scenario": scen, "trove": t, "against": other,
                                       "figure": key, "ratio": v})

    # ---- markdown ----
    L = []
    add = L.append
    add("# Throughput: trove against rqbit, libtorrent, aria2c and transmission-cli")
    add("")
    add("Run %s · `%s` · the bench took %d min %d s." % (
        env["date"], a.command, a.elapsed // 60, a.elapsed % 60))
    add("")
    add("**Machine:** %s, %d CPUs, %.1f GiB RAM, kernel %s, %s; output on %s (%s); %s." % (
        env["cpu_model"], env["nproc"], env["mem_total_bytes"] / 2**30, env["kernel"],
        env["os"], env["work_device"], env["work_fs"],
        "private network namespace (loopback only)" if env["private_netns"]
        else "host loopback"))
    add("")
    add("**Limits measured in this run:** SHA-1 on one core %s MB/s · sequential write to the "
        "output disk (dd, fdatasync) %s MB/s%s · loopback TCP, one stream %s MB/s." % (
            limits.get("sha1_mbps"), limits.get("disk_write_mbps"),
            (" (read back cold %s MB/s)" % limits["disk_read_mbps"])
            if limits.get("disk_read_mbps") else "", limits.get("loopback_mbps")))
    add("")
    v = env["versions"]
    add("**Versions:** %s (%s) · %s · %s · %s · libtorrent %s (seeders and the libtorrent "
        "leecher)." % (v["trove"], v["trove_git"], v["rqbit"] or "rqbit: not run",
                       v["aria2c"], v["transmission-cli"],
                       v["libtorrent (python3-libtorrent)"]))
    add("")
    add("**Payloads:** %s, v1-only torrents with %s pieces: `single` = one file, `multi` = "
        "%d files. Seeders: 1 or 4 libtorrent sessions on 127.0.0.1 (no rate limit), plus "
        "opentracker. Page cache dropped before every run (%s), the seeders' copy read back "
        "in. %d run(s) per contender and scenario, interleaved with the order rotating." % (
            human(a.size), human(a.piece_length), a.files,
            "yes" if a.drop_caches == "1" else "no — warm cache", a.runs_per))
    add("")
    add("Figures: median [min–max]. **Wall** = process start to exit; **MB/s** = payload / "
        "wall (MB = 10⁶ B); **data** = seconds until every byte of the payload was on disk "
        "(sampled every 100 ms), **data→exit** = what the client spent after that "
        "(last hash check, shutdown); **CPU** = user+sys of the client "
        "(wait4, as `/usr/bin/time`); **RSS** = peak resident set (ru_maxrss, "
        "`/usr/bin/time -v`'s \"Maximum resident set size\"); **anon** = peak anonymous RSS "
        "sampled from /proc (libtorrent maps the files it writes, which inflates its RSS).")
    add("")
    for scen, per in scenarios.items():
        add("## %s" % scen_title(scen))
        add("")
        add("| contender | wall s | MB/s | data s | data→exit s | CPU s | RSS MiB | anon MiB | seeders' CPU s | ok |")
        add("|---|---|---|---|---|---|---|---|---|---|")
        for c, s in per.items():
            name = "**%s**" % c if c in TROVES else c
            add("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
                name, fmt(s["wall_s"], 2), fmt(s["mbps"], 0), fmt(s["data_s"], 1),
                fmt(s["data_to_exit_s"], 2), fmt(s["cpu_s"], 2), fmt(s["maxrss_mib"], 0),
                fmt(s["peak_rss_anon_mib"], 0), fmt(s["seeders_cpu_s"], 1),
                s["runs_ok"], s["runs_ok"] + s["runs_failed"]))
        add("")
        if scen in targets and targets[scen]:
            add("| trove | ÷ rqbit: MB/s · CPU · RSS | ÷ libtorrent MB/s | ÷ aria2c MB/s | ÷ transmission MB/s | targets |")
            add("|---|---|---|---|---|---|")
            for t, tg in targets[scen].items():
                r = tg["ratios"]

                def rr(o, k="throughput"):
                    return rfmt(r[o][k]) if o in r else "–"
                goals = "; ".join("%s %s" % (g, "✅ met" if ok else "❌ **not met**")
                                  for g, ok in tg["goals"].items())
                add("| %s | %s · %s · %s | %s | %s | %s | %s |" % (
                    t, rr("rqbit"), rr("rqbit", "cpu"), rr("rqbit", "rss"),
                    rr("libtorrent"), rr("aria2c"), rr("transmission"), goals))
            add("")
        fails = [(c, s) for c, s in per.items() if s["runs_failed"]]
        for c, s in fails:
            add("- ⚠ %s: %d run(s) failed: %s" % (c, s["runs_failed"], "; ".join(s["errors"])[:400]))
        if fails:
            add("")
        noise = [s["others_busy_frac"]["median"] for s in per.values() if s["others_busy_frac"]]
        before = [s["busy_before"]["median"] for s in per.values() if s["busy_before"]]
        if noise:
            add("Noise: other processes (not the client, seeders or sampler) used a median %.0f%% "
                "of the CPUs during the runs (max %.0f%%); busy before runs %.0f%%." % (
                    100 * statistics.median(noise), 100 * max(
                        s["others_busy_frac"]["max"] for s in per.values() if s["others_busy_frac"]),
                    100 * statistics.median(before) if before else 0))
            add("")
    add("## Where trove loses")
    add("")
    if not losses:
        add("Nowhere in this run.")
    else:
        add("Every figure where a trove contender's median is more than 5 % worse than another "
            "client's (throughput lower, CPU or RSS higher):")
        add("")
        add("| scenario | trove | against | figure | trove ÷ other |")
        add("|---|---|---|---|---|")
        for l in losses:
            add("| %s | %s | %s | %s | %.2f× |" % (l["scenario"], l["trove"], l["against"],
                                                   l["figure"], l["ratio"]))
    add("")
    if soak_running():
        add("A trove soak test (`scripts/soak.sh`) was running in the background when this "
            "report was written: it is part of the \"other processes\" noise figures above.")
        add("")
    md = "\n".join(L)
    with open(a.md, "w") as f:
        f.write(md)
    out = {
        "command": a.command,
        "elapsed_s": a.elapsed,
        "params": {"size_bytes": a.size, "files": a.files, "piece_length": a.piece_length,
                   "runs_per_contender": a.runs_per, "drop_caches": a.drop_caches == "1"},
        "env": env,
        "limits": limits,
        "scenarios": scenarios,
        "targets": targets,
        "losses": losses,
    }
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)


def scen_title(scen):
    m = re.match(r"(\w+)-(\d+)s$", scen)
    if not m:
        return scen
    kind, n = m.groups()
    return "%s — %s, %s seeder%s" % (scen, "one file" if kind == "single" else "many files",
                                      n, "" if n == "1" else "s")


def human(n):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d %s" % (n >> shift, unit)
    return "%d B" % n


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("env")
    e.add_argument("--trove", required=True)
    e.add_argument("--rqbit", default="")
    e.add_argument("--work-dir", required=True)
    e.add_argument("--netns", default="0")
    r = sub.add_parser("report")
    r.add_argument("--runs", required=True)
    r.add_argument("--env", required=True)
    r.add_argument("--limits", required=True)
    r.add_argument("--md", required=True)
    r.add_argument("--json", required=True)
    r.add_argument("--command", default="bench/throughput.sh")
    r.add_argument("--elapsed", type=int, default=0)
    r.add_argument("--size", type=int, default=0)
    r.add_argument("--files", type=int, default=0)
    r.add_argument("--piece-length", type=int, default=0)
    r.add_argument("--runs-per", type=int, default=0)
    r.add_argument("--drop-caches", default="1")
    a = ap.parse_args()
    if a.cmd == "env":
        cmd_env(a)
    else:
        cmd_report(a)


if __name__ == "__main__":
    main()
