#!/usr/bin/python3
"""The tables of bench/vault.sh: vault_report.py RUNS.jsonl SETUP.json OUT.json

RUNS.jsonl holds one line per measured phase (lib/vault.py); SETUP.json what the script knows
(command, machine, sizes, options, problems, trove's log lines). Writes OUT.json in the form
lib/results.py turns into bench/results/vault-<date>.md and .json.
"""

import json
import statistics
import sys

MB = 1e6
MIB = float(1 << 20)


def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def fmt(s, digits=1, pct=False):
    if not s:
        return "–"
    k = 100.0 if pct else 1.0
    f = "%%.%df" % digits
    if s["n"] == 1:
        return (f % (s["median"] * k)) + ("%" if pct else "")
    return "%s [%s–%s]%s" % (f % (s["median"] * k), f % (s["min"] * k), f % (s["max"] * k),
                             "%" if pct else "")


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    setup = json.load(open(sys.argv[2]))
    out = sys.argv[3]
    ok = [r for r in rows if r.get("ok")]
    for r in rows:
        r["run"] = int(r["run"])

    def get(kind, phase, key, sub=None):
        xs = []
        for r in ok:
            if r["kind"] == kind and r["phase"] == phase:
                v = r.get(key) if sub is None else (r.get(key) or {}).get(sub)
                xs.append(v)
        return xs

    def ratio(phase, key):
        """vault / plain, run by run (the two are measured side by side in each run)."""
        by_run = {}
        for r in ok:
            if r["phase"] == phase and r.get(key) is not None:
                by_run.setdefault(r["run"], {})[r["kind"]] = r[key]
        rs = [v["vault"] / v["plain"] for v in by_run.values()
              if "vault" in v and "plain" in v and v["plain"]]
        return med(rs)

    L, M = setup["leechers"], setup["many_leechers"]
    cache_mib, small_mib = setup["cache_bytes"] / MIB, setup["small_cache_bytes"] / MIB
    summary = {}
    table = []

    def line(label, phase, key, digits, goal=None, goal_min=None):
        v, p, r = med(get("vault", phase, key)), med(get("plain", phase, key)), ratio(phase, key)
        summary["%s.%s" % (phase, key)] = {"vault": v, "plain": p, "ratio": r}
        g = ""
        if goal:
            g = goal
            if goal_min is not None and r:
                g += " — **%s**" % ("met" if r["median"] >= goal_min else "not met")
        table.append([label, fmt(v, digits), fmt(p, digits),
                      "**%s**" % fmt(r, 2) if r else "–", g])

    line("download, MB/s", "download", "mbps", 0, "vault ≥ 0.8× plain", 0.8)
    line("seeding to %d leechers, MB/s (all of them)" % L, "seed", "mbps", 0)
    line("download, trove CPU s per GiB", "download", "cpu_s_per_gib", 2)
    line("seeding to %d leechers, trove CPU s per GiB sent" % L, "seed", "cpu_s_per_gib", 2)
    line("seeding to %d leechers with a %.0f MiB cache, MB/s" % (M, small_mib), "seed-many", "mbps", 0)
    line("seeding to %d leechers with a %.0f MiB cache, trove CPU s per GiB sent" % (M, small_mib),
         "seed-many", "cpu_s_per_gib", 2)

    hit = med(get("vault", "seed-many", "cache", "hit_rate"))
    dec = med(get("vault", "seed-many", "cache", "decryptions_per_chunk"))
    pin_end = med([x / MIB for x in get("vault", "seed-many", "cache", "pinned_bytes_end") if x is not None])
    pin_peak = med([x / MIB for x in get("vault", "seed-many", "cache", "peak_pinned_bytes") if x is not None])
    held_peak = med([x / MIB for x in get("vault", "seed-many", "cache", "peak_bytes") if x is not None])
    hit2 = med(get("vault", "seed", "cache", "hit_rate"))
    dec2 = med(get("vault", "seed", "cache", "decryptions_per_chunk"))
    summary["cache"] = {"seed_many_hit_rate": hit, "seed_many_decryptions_per_chunk": dec,
                        "seed_many_pinned_mib_end": pin_end, "seed_many_pinned_mib_peak": pin_peak,
                        "seed_many_held_mib_peak": held_peak, "seed_hit_rate": hit2,
                        "seed_decryptions_per_chunk": dec2}
    table.append(["cache hit rate, seeding to %d leechers, %.0f MiB cache" % (M, small_mib),
                  fmt(hit, 1, pct=True), "", "", ""])
    table.append(["  chunks decrypted per chunk of the torrent (%d leechers: %d = no sharing)" % (M, M),
                  fmt(dec, 2), "", "", ""])
    table.append(["  pinned MiB at the end / at most (cache %.0f MiB, pins ≤ half)" % small_mib,
                  "%s / %s" % (fmt(pin_end, 0), fmt(pin_peak, 0)), "", "", ""])
    table.append(["cache hit rate, seeding to %d leechers, %.0f MiB cache" % (L, cache_mib),
                  fmt(hit2, 1, pct=True), "", "", ""])
    table.append(["  chunks decrypted per chunk of the torrent" , fmt(dec2, 2), "", "", ""])

    # Every phase, run by run.
    per_run = []
    for r in sorted(rows, key=lambda r: (r["run"], r.get("order", 0), r.get("seq", 0))):
        c = r.get("cache") or {}
        per_run.append([
            r["run"], r["kind"], r["phase"],
            "%.2f" % r["wall_s"] if r.get("wall_s") is not None else "–",
            "%.0f" % r["mbps"] if r.get("mbps") is not None else "–",
            "%.2f" % r["cpu_s"] if r.get("cpu_s") is not None else "–",
            "%.2f" % r["cpu_s_per_gib"] if r.get("cpu_s_per_gib") is not None else "–",
            "%.1f%%" % (c["hit_rate"] * 100) if c.get("hit_rate") is not None else "–",
            "%d / %d" % (c["hits"], c["misses"]) if c.get("hits") is not None else "–",
            "%.0f" % (c["pinned_bytes_end"] / MIB) if c.get("pinned_bytes_end") is not None else "–",
            "%.0f%%" % (r["busy_before"] * 100) if r.get("busy_before") is not None else "–",
            "%.0f%%" % (r["others_busy_frac"] * 100) if r.get("others_busy_frac") is not None else "–",
            "yes" if r.get("ok") else "FAILED: " + r.get("error", "?"),
        ])

    others = [r["others_busy_frac"] for r in ok if r.get("others_busy_frac") is not None]
    before = [r["busy_before"] for r in ok if r.get("busy_before") is not None]
    waits = [r["idle_wait_s"] for r in ok if r.get("idle_wait_s") is not None]
    dropped = {r.get("cache_dropped") for r in ok}
    if dropped == {True}:
        cache_note = ("Page cache: dropped before every phase (`sync; echo 3 > "
                      "/proc/sys/vm/drop_caches`, as throughput.sh does), then the source read "
                      "back in: the seeders' payload before a download, trove's own copy (the plain "
                      "files, or the vault file) before seeding. Writes start cold, reads come "
                      "from memory.")
    elif dropped == {False}:
        cache_note = ("Page cache: not dropped (%s); the source was still read in before each "
                      "phase." % ("--no-drop-caches" if not setup["drop_caches"] else
                                  "drop_caches failed: not root?"))
    else:
        cache_note = "Page cache: dropped before some phases only (drop_caches failed at times)."
    notes = [
        "Ratios are vault / plain per run (the two are measured in the same run, one after the "
        "other, the order alternating), median [min–max] over the runs; the vault and plain "
        "columns are median [min–max] of each.",
        "Download: `trove add --root vault|plain --peer SEEDER… TORRENT` to a running `trove "
        "daemon` on a fresh data dir and fresh roots; the clock runs from the add to librqbit's "
        "\"torrent finished downloading\" line in the daemon's log (polled every 20 ms), the last "
        "piece written and checked. CPU = the daemon's utime + stime (/proc/PID/stat) over that "
        "window, per GiB of the torrent.",
        "Seeding: the daemon is restarted on the same data dir once the download is done (fast "
        "resume; the vault's chunk cache starts empty, so every chunk served was read and "
        "decrypted at least once) and serves %d fresh libtorrent leechers "
        "at once (lib/vault.py leecher: each its own session on 127.0.0.1, told only trove's "
        "address, PEX off); the clock runs from telling them to dial to the last one holding every "
        "piece (libtorrent checks each piece, so this also proves the vault served the right "
        "bytes). MB/s and CPU per GiB count every leecher's copy (%d × the torrent). Cache "
        "%.0f MiB (`[cache] size`)." % (L, L, cache_mib),
        "Small cache: the daemon is restarted again, with `[cache] size = %.0f MiB` (the plain "
        "one too, for symmetry; it has no cache), and serves %d fresh leechers. Hit rate = hits / (hits + "
        "misses) of Details.vault_cache over the phase (counters read before and after); each "
        "lookup is one read librqbit makes, mostly a 16 KiB block, and a chunk is 256 KiB, so a "
        "chunk read block by block scores 15 hits to 1 miss even without any sharing between "
        "leechers: \"chunks decrypted per chunk\" (misses / chunks of the torrent) is the "
        "figure that shows sharing (1 = each chunk decrypted once for all leechers, %d = once "
        "per leecher). Pinned bytes: Details.vault_cache.pinned_bytes right after the last "
        "leecher completed, and the most seen in 1 s samples meanwhile." % (small_mib, M, M),
        cache_note,
        "Load: busy before a phase (all CPUs, 1 s) median %.0f%% (max %.0f%%), waited up to "
        "%.0f s for < %.0f%%; other processes (not trove, seeders, leechers or the bench) used "
        "a median %.0f%% of the CPUs during the phases (max %.0f%%); load average at the start "
        "%s, at the end %s. Each phase held %s." % (
            100 * statistics.median(before) if before else 0, 100 * max(before) if before else 0,
            max(waits) if waits else 0, 100 * setup["idle_below"],
            100 * statistics.median(others) if others else 0, 100 * max(others) if others else 0,
            " ".join(setup["machine"].get("loadavg_at_start", [])), setup["loadavg_end"],
            setup["lock"]),
        "Torrent: %s in %d files, v1, %s pieces (%s); %d libtorrent %s seeder(s) "
        "(tools/loopback/loopback.py seed) on 127.0.0.1; DHT, LSD, UPnP, trackers off; %s. "
        "trove binary: %s. Vault cipher: %s." % (
            setup["size_text"], setup["files"], setup["piece_text"], setup["info_hash"],
            setup["seeders"], setup["libtorrent"], setup["netns_text"], setup["trove_text"],
            setup.get("cipher", "xchacha20-poly1305")),
    ]
    log_notes = []
    if setup.get("log_lines"):
        log_notes.append("WARN/ERROR lines in trove's logs (count × message, timestamps and "
                         "hashes dropped):")
        log_notes += ["%d × `%s`" % (n, m[:300].replace("`", "'")) for m, n in setup["log_lines"]]
    else:
        log_notes.append("trove's logs held no WARN or ERROR line.")
    sections = [
        {"heading": "Vault root against a plain root: medians of %d runs" % setup["runs"],
         "columns": ["figure", "vault", "plain", "vault / plain", "goal"],
         "rows": table, "notes": notes},
        {"heading": "Every phase",
         "columns": ["run", "root", "phase", "s", "MB/s", "trove CPU s", "CPU s/GiB",
                     "cache hit rate", "hits / misses", "pinned MiB at end", "busy before",
                     "others", "ok"],
         "rows": per_run, "notes": []},
        {"heading": "trove's log", "notes": log_notes},
    ]
    problems = setup.get("problems", [])
    if problems:
        sections.append({"heading": "PROBLEMS", "notes": problems})
    result = {
        "name": "vault", "title": "Vault roots against a plain root: throughput, CPU, cache",
        "command": setup["command"], "machine": setup["machine"], "sections": sections,
        "notes": ["The bench took %d s." % setup["elapsed_s"]],
        "data": {"summary": summary, "setup": setup, "phases": rows},
    }
    json.dump(result, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
