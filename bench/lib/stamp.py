#!/usr/bin/python3
"""stamp.py OUT_JSON NAMES_FILE COUNT: reads a program's terminal output (as tmux
`pipe-pane` hands it over) until EOF and writes, as JSON to OUT_JSON, the wall-clock times
(ns since the epoch) of:
  first_byte   the first byte written;
  first_name   the first chunk after which the output holds a torrent name (any line of
               NAMES_FILE, compared without escape sequences and spaces: a frame skips
               cells that did not change, so a name may arrive with cursor moves inside);
  all_count    the first chunk after which the output holds "COUNT torrents" (the header
               once every stored torrent is back);
plus the bytes read by then and in all.
"""

import json
import os
import re
import sys
import time

CSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def clean(b):
    return CSI.sub(b"", OSC.sub(b"", b)).replace(b" ", b"").replace(b"\x1b", b"")


def main():
    out, names_file, count = sys.argv[1], sys.argv[2], sys.argv[3]
    names = [clean(l.rstrip("\n").encode())[:24] for l in open(names_file, encoding="utf-8") if l.strip()]
    want_count = clean(("%s torrents" % count).encode())
    res = {"first_byte": None, "first_name": None, "all_count": None}
    total = 0
    text = b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        now = time.time_ns()
        total += len(chunk)
        if res["first_byte"] is None:
            res["first_byte"] = now
        if res["first_name"] is None or res["all_count"] is None:
            # Keep a bounded tail of cleaned text; the frame with the names is one write burst.
            text = (text + clean(chunk))[-400000:]
            if res["first_name"] is None and any(n in text for n in names):
                res["first_name"] = now
                res["bytes_at_first_name"] = total
            if res["all_count"] is None and want_count in text:
                res["all_count"] = now
                res["bytes_at_all_count"] = total
    res["bytes_total"] = total
    with open(out + ".tmp", "w") as f:
        json.dump(res, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
