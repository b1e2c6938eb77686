#!/usr/bin/python3
"""Byte sizes as people write them, read the way trove reads its own rates (`parse_rate` in
src/config.rs, through the parse-size crate), so "2MiB" means the same on a bench's command
line as in trove's config:

  units.py bytes SIZE    prints SIZE in bytes, or exits 1 with one line saying why

SI prefixes are powers of 1000 and IEC prefixes powers of 1024, whatever the case:
k/K/kB/KB = 1000, M/MB = 1000^2, ..., Ki/KiB = 1024, Mi/MiB = 1024^2, ... up to E/EiB.
The "B" is optional, a bare number is bytes, the number may have a fraction or an exponent
("1.5GiB", "2e9") and is rounded to the nearest byte; spaces and "_" inside are ignored.
"""

import re
import sys
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PREFIXES = "kmgtpe"
SIZE_RE = re.compile(r"^([0-9.]+(?:e[+-]?[0-9]+)?)([kmgtpe]i?)?b?$")


def parse_size(text):
    """Bytes in `text` ("256MiB", "10GB", "4096"); ValueError if it is not a size."""
    s = re.sub(r"[\s_]", "", text).lower()
    m = SIZE_RE.match(s)
    if not m:
        raise ValueError("not a size: %r (e.g. 256MiB, 1GiB, 10GB, 4096)" % text)
    try:
        number = Decimal(m.group(1))
    except InvalidOperation:
        raise ValueError("not a size: %r" % text) from None
    unit = m.group(2) or ""
    if unit:
        base = 1024 if unit.endswith("i") else 1000
        number *= base ** (PREFIXES.index(unit[0]) + 1)
    value = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if value >= 1 << 64:
        raise ValueError("too large a size: %r" % text)
    return value


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "bytes":
        sys.exit("usage: units.py bytes SIZE")
    try:
        print(parse_size(sys.argv[2]))
    except ValueError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main()
