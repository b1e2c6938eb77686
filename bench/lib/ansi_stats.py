#!/usr/bin/python3
"""What a terminal byte stream is made of: ansi_stats.py FILE [SECONDS [SCREEN]].

Prints one JSON object: total bytes (and per second when SECONDS is given), and the bytes
spent on text (printable characters, UTF-8 counted in bytes), SGR sequences (colours and
attributes, ESC [ ... m), cursor positioning (ESC [ ... H / f, and the relative moves
A/B/C/D/G/d), erasing (J/K/X), other CSI, other escapes (ESC x, OSC, ...) and control bytes
(CR, LF, BS, ...); with the count of each kind of sequence. A redraw that repaints little
but re-sends colours on every cell shows up as SGR bytes far above text bytes.
"""

import json
import re
import sys

CSI = re.compile(rb"\x1b\[([0-?]*)([ -/]*)([@-~])")
OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def regions(screen, cells):
    """Bytes by region of trove's dashboard; None if the layout is not found."""
    lines = screen.split("\n")
    top = next((i for i, l in enumerate(lines) if l.startswith("┏")), None)
    bottom = next((i for i, l in enumerate(lines) if l.startswith("┗")), None)
    dtop = next((i for i, l in enumerate(lines) if l.startswith("┌")), None)
    dbot = next((i for i, l in enumerate(lines) if l.startswith("└")), None)
    if None in (top, bottom, dtop, dbot):
        return None
    chart_x = None
    for l in lines[dtop + 1:dbot]:
        j = l.find("│┌")
        if j > 0:
            chart_x = j + 1
            break
    status = max(i for i, l in enumerate(lines) if l.strip()) if any(l.strip() for l in lines) else None
    out = {"header": 0, "table": 0, "details: text": 0, "details: rate chart": 0,
           "status line": 0, "elsewhere": 0}
    for (row, col), n in cells.items():
        if row < top:
            k = "header"
        elif top <= row <= bottom:
            k = "table"
        elif dtop <= row <= dbot:
            k = "details: rate chart" if chart_x is not None and col >= chart_x else "details: text"
        elif row == status:
            k = "status line"
        else:
            k = "elsewhere"
        out[k] += n
    return out


def main():
    data = open(sys.argv[1], "rb").read()
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else None
    screen = open(sys.argv[3], errors="replace").read() if len(sys.argv) > 3 else None
    row, col = 0, 0
    cells = {}

    def charge(nbytes):
        cells[(row, col)] = cells.get((row, col), 0) + nbytes
    kinds = {"text": 0, "sgr": 0, "cursor": 0, "erase": 0, "other_csi": 0, "other_esc": 0,
             "control": 0}
    counts = {"sgr": 0, "cursor": 0, "erase": 0, "other_csi": 0, "other_esc": 0}
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x1B:
            m = CSI.match(data, i)
            if m:
                final = m.group(3)
                params = [int(p) if p.isdigit() else 0 for p in m.group(1).decode("latin-1").split(";")]
                p1 = params[0] if params and params[0] else 1
                if final in b"Hf":
                    row = p1 - 1
                    col = (params[1] if len(params) > 1 and params[1] else 1) - 1
                elif final == b"A":
                    row = max(0, row - p1)
                elif final in b"BE":
                    row += p1
                    if final == b"E":
                        col = 0
                elif final == b"F":
                    row = max(0, row - p1)
                    col = 0
                elif final == b"C":
                    col += p1
                elif final == b"D":
                    col = max(0, col - p1)
                elif final == b"G":
                    col = p1 - 1
                elif final == b"d":
                    row = p1 - 1
                charge(m.end() - i)
                if final == b"m":
                    k = "sgr"
                elif final in b"HfABCDGdEF":
                    k = "cursor"
                elif final in b"JKX":
                    k = "erase"
                else:
                    k = "other_csi"
                kinds[k] += m.end() - i
                counts[k] += 1
                i = m.end()
                continue
            m = OSC.match(data, i)
            end = m.end() if m else min(n, i + 2)
            charge(end - i)
            kinds["other_esc"] += end - i
            counts["other_esc"] += 1
            i = end
            continue
        if b < 0x20 or b == 0x7F:
            kinds["control"] += 1
            charge(1)
            if b == 0x0D:
                col = 0
            elif b == 0x0A:
                row += 1
            elif b == 0x08:
                col = max(0, col - 1)
            i += 1
            continue
        kinds["text"] += 1
        charge(1)
        if b < 0x80 or b >= 0xC0:  # an ASCII character or a UTF-8 lead byte
            col += 1
        i += 1
    out = {"bytes": n, "bytes_by_kind": kinds, "sequences": counts}
    by_row = {}
    for (r, _), v in cells.items():
        by_row[r] = by_row.get(r, 0) + v
    lines = screen.split("\n") if screen else []
    top = sorted(by_row.items(), key=lambda kv: -kv[1])[:8]
    out["top_rows"] = [{"row": r, "bytes_per_s": round(v / secs, 1) if secs else v,
                        "text": lines[r].rstrip()[:100] if r < len(lines) else ""} for r, v in top]
    if screen:
        reg = regions(screen, cells)
        if reg:
            out["by_region_bytes_per_s"] = {k: round(v / secs, 1) if secs else v for k, v in reg.items()}
    if secs:
        out["bytes_per_s"] = round(n / secs, 1)
        out["bytes_per_s_by_kind"] = {k: round(v / secs, 1) for k, v in kinds.items()}
        out["sequences_per_s"] = {k: round(v / secs, 1) for k, v in counts.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
