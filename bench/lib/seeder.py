#!/usr/bin/python3
"""One local libtorrent seeder for bench/throughput.sh.

  seeder.py --port P --torrent T --save-path D [--dial-file F]

Checks the payload under D (a full hash check, so seeding never re-hashes), then prints
"seeding <port>" on stdout and seeds until SIGTERM/SIGINT or until the bench script that
started it is gone. On SIGUSR1 it dials every host:port listed in --dial-file (one a line):
transmission-cli ignores 127.x peers handed out by a tracker, so the seeders call it.
"""

import argparse
import os
import signal
import sys
import time

import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ltcommon  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--torrent", required=True)
    ap.add_argument("--save-path", required=True)
    ap.add_argument("--dial-file")
    ap.add_argument("--check-timeout", type=float, default=600)
    a = ap.parse_args()
    ltcommon.die_with_parent()
    parent = os.getppid()

    state = {"stop": False, "dial": False}

    def on_stop(*_):
        state["stop"] = True

    def on_dial(*_):
        state["dial"] = True

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGUSR1, on_dial)

    ses = ltcommon.make_session(a.port)
    h = ses.add_torrent(ltcommon.add_params(a.torrent, a.save_path))
    h.set_upload_limit(-1)  # per-torrent: the session-wide limit ignores local peers anyway
    deadline = time.monotonic() + a.check_timeout
    while not state["stop"]:
        st = h.status()
        if st.is_seeding:
            break
        if st.errc.value() != 0:
            sys.exit("seeder: %s" % st.errc.message())
        if time.monotonic() > deadline:
            sys.exit("seeder: not seeding after %.0f s (state %s, progress %.3f)"
                     % (a.check_timeout, st.state, st.progress))
        ses.wait_for_alert(100)
        ses.pop_alerts()
    print("seeding %d" % ses.listen_port(), flush=True)

    while not state["stop"]:
        if state["dial"]:
            state["dial"] = False
            try:
                with open(a.dial_file) as f:
                    for line in f:
                        line = line.strip()
                        if line:
                            h.connect_peer(ltcommon.parse_hostport(line))
            except (OSError, TypeError, ValueError) as e:
                sys.stderr.write("seeder: cannot dial: %s\n" % e)
        if os.getppid() != parent:
            break
        ses.wait_for_alert(200)
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                sys.stderr.write("seeder: %s\n" % al.message())
    # Skip the orderly teardown (it may wait on the tracker).
    os._exit(0)


if __name__ == "__main__":
    main()
