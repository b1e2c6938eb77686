#!/usr/bin/env python3
"""Prints the README's throughput table from a `bench/throughput.sh` results JSON.

One row per contender, one column per scenario; a cell is "MB/s · CPU s" (medians), and the
last column is the highest median peak RSS over the scenarios. trove's rows are bold.

    python3 bench/readme_table.py bench/results/throughput-<date>.json
"""
import json
import sys

ORDER = ["trove-download", "trove-daemon", "rqbit", "libtorrent", "aria2c", "transmission"]
TITLES = {
    "single-1s": "single file, 1 seeder",
    "single-4s": "single file, 4 seeders",
    "multi-1s": "1,000 files, 1 seeder",
    "multi-4s": "1,000 files, 4 seeders",
}


def main(path: str) -> None:
    results = json.load(open(path))
    scenarios = [s for s in TITLES if s in results["scenarios"]]
    seen = {c for s in scenarios for c in results["scenarios"][s]}
    contenders = [c for c in ORDER if c in seen]
    print("| contender | " + " | ".join(TITLES[s] for s in scenarios) + " | peak RSS MiB |")
    print("|---|" + "---:|" * len(scenarios) + "---:|")
    for c in contenders:
        cells, rss = [], 0.0
        for s in scenarios:
            r = results["scenarios"][s].get(c)
            if not r or not r.get("runs_ok"):
                cells.append("–")
                continue
            cells.append(f"{r['mbps']['median']:.0f} · {r['cpu_s']['median']:.2f} s")
            rss = max(rss, r["maxrss_mib"]["median"])
        name = f"**{c}**" if c.startswith("trove") else c
        print(f"| {name} | " + " | ".join(cells) + f" | {rss:.0f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bench/readme_table.py RESULTS.json")
    main(sys.argv[1])
