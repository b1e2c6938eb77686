#!/usr/bin/python3
"""The libtorrent contender of bench/throughput.sh: download one torrent and exit.

  lt_leech.py --torrent T --save-path D --port P [--peer HOST:PORT ...] [--timeout S]

Same loopback session as the seeders (ltcommon.make_session). Dials the given peers and
also announces to the torrent's tracker; exits 0 once the torrent is seeding (every piece
downloaded and hash-checked). It leaves with os._exit: libtorrent 2.0 writes through
mmap, so the data is in the page cache already, as it is for the other clients at exit.
"""

import argparse
import os
import sys
import time

import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcommon  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--save-path", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--peer", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=1800)
    a = ap.parse_args()
    ltcommon.die_with_parent()
    os.makedirs(a.save_path, exist_ok=True)
    ses = ltcommon.make_session(a.port)
    h = ses.add_torrent(ltcommon.add_params(a.torrent, a.save_path))
    for p in a.peer:
        h.connect_peer(ltcommon.parse_hostport(p))
    deadline = time.monotonic() + a.timeout
    while True:
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                sys.stderr.write("lt_leech: %s\n" % al.message())
                sys.stderr.flush()
                os._exit(1)
        st = h.status()
        if st.is_seeding:
            break
        if time.monotonic() > deadline:
            sys.stderr.write("lt_leech: timed out at %.1f%%\n" % (st.progress * 100))
            sys.stderr.flush()
            os._exit(1)
        ses.wait_for_alert(50)
    sys.stdout.write("complete %d bytes\n" % st.total_wanted_done)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
