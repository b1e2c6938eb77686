#!/usr/bin/python3
"""Writes a bench's results as Markdown and JSON: results.py RESULT.json RESULTS_DIR.

RESULT.json (assembled by the bench script):
  {"name": "dashboard", "title": "...", "command": "...", "machine": {...},
   "sections": [{"heading": "...", "columns": [...], "rows": [[...], ...],
                 "notes": ["..."]}, ...],
   "notes": ["..."], "data": {... every raw figure ...}}

Writes RESULTS_DIR/<name>-<YYYY-MM-DD-HHMMSS>.md and .json (as bench/restart.sh names its
results) and prints the Markdown.
"""

import datetime
import json
import os
import sys


def cell(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        return ("%.3f" % v).rstrip("0").rstrip(".") if abs(v) < 100 else "%.1f" % v
    return str(v).replace("|", "\\|")


def main():
    src, out_dir = sys.argv[1], sys.argv[2]
    with open(src) as f:
        r = json.load(f)
    now = datetime.datetime.now().astimezone()
    r.setdefault("finished_at", now.isoformat(timespec="seconds"))
    m = r.get("machine", {})
    md = ["# %s" % r["title"], ""]
    md.append("Run %s on %s (%s CPUs, %s MiB, %s, kernel %s); trove %s%s; %s." % (
        r["finished_at"], m.get("cpu", "?"), m.get("cpus", "?"), m.get("mem_mib", "?"),
        m.get("os", "?"), m.get("kernel", "?"), m.get("trove_commit", "?"),
        " + %d uncommitted files" % m["uncommitted_files"] if m.get("uncommitted_files") else "",
        m.get("rustc", "?")))
    md.append("")
    if r.get("command"):
        md += ["Command: `%s`" % r["command"], ""]
    for s in r.get("sections", []):
        md += ["## %s" % s["heading"], ""]
        if s.get("columns"):
            md.append("| " + " | ".join(s["columns"]) + " |")
            md.append("|" + "|".join("---" for _ in s["columns"]) + "|")
            for row in s.get("rows", []):
                md.append("| " + " | ".join(cell(v) for v in row) + " |")
            md.append("")
        for n in s.get("notes", []):
            md.append("- " + n)
        if s.get("notes"):
            md.append("")
    if r.get("notes"):
        md += ["## Notes", ""] + ["- " + n for n in r["notes"]] + [""]
    text = "\n".join(md)
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, "%s-%s" % (r["name"], now.strftime("%Y-%m-%d-%H%M%S")))
    with open(base + ".md", "w") as f:
        f.write(text)
    with open(base + ".json", "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
    print(text)
    print("results: %s.md, %s.json" % (base, base), file=sys.stderr)


if __name__ == "__main__":
    main()
