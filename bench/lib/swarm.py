#!/usr/bin/python3
"""Local libtorrent swarm for the dashboard, terminal-bytes and scale benches.

Run with /usr/bin/python3 (Debian's python3-libtorrent imports only there). 127.0.0.1 only,
with the session of tools/loopback/loopback.py (DHT, LSD, UPnP, NAT-PMP, uTP off).

  swarm.py make --dir D --count N --size BYTES [--piece-length L] [--names realistic|plain]
                [--tracker URL]
      Writes N single-file torrents (announcing to URL if given): payload under D/payload/, .torrent files under
      D/torrents/NNNN.torrent, and D/torrents.json (name, info_hash, torrent path, size),
      in order. Payload bytes are pseudo-random (os.urandom is too slow for big payloads,
      so a 1 MiB random block is repeated with a per-file header; fine for BitTorrent).

  swarm.py seed --dir D [--port P] [--upload-limit BPS] [--first N]
      Seeds the first N (default all) torrents of D from D/payload with a per-torrent upload
      cap (a session-wide cap does not apply to local peers). Prints {"ready": true, "port":
      P} once every torrent is seeding. Then reads commands on stdin, one per line:
        dial PORT     dial 127.0.0.1:PORT for every torrent now, and again every 2 s for
                      each torrent that has no peer (a client still loading its torrents
                      refuses the first handshakes)
        undial        stop re-dialling
        status        one JSON line: peers, upload rate and bytes sent in total
        quit          exit
      Exits when stdin closes.
"""

import argparse
import json
import os
import sys
import threading
import time

import libtorrent as lt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "loopback"))
import loopback  # noqa: E402

SHOWS = ["The.Expanse", "Severance", "Slow.Horses", "Andor", "Shogun", "The.Bear", "Fargo",
         "Dark", "Babylon.Berlin", "Detectorists", "Only.Murders.in.the.Building"]
GROUPS = ["NTb", "FLUX", "EDITH", "SuccessfulCrab", "GalaxyTV", "playWEB"]
DISTROS = ["ubuntu-24.04.1-desktop-amd64", "debian-12.7.0-amd64-netinst",
           "archlinux-2024.11.01-x86_64", "Fedora-Workstation-Live-x86_64-41-1.4",
           "linuxmint-22-cinnamon-64bit"]
FILMS = ["Big Buck Bunny", "Sintel", "Tears of Steel", "Elephants Dream", "Cosmos Laundromat"]


def realistic_name(i):
    """A name like the ones people's tables hold; unique through the index."""
    k = i % 4
    if k == 0:
        return "%s.S%02dE%02d.1080p.WEB-DL.DDP5.1.H.264-%s.%04d.mkv" % (
            SHOWS[i % len(SHOWS)], 1 + i % 5, 1 + i % 12, GROUPS[i % len(GROUPS)], i)
    if k == 1:
        return "%s-%04d.iso" % (DISTROS[i % len(DISTROS)], i)
    if k == 2:
        return "%s (%d) [1080p] [%04d].mp4" % (FILMS[i % len(FILMS)], 2006 + i % 18, i)
    return "bench-%04d Field Recordings vol.%d (FLAC).flac" % (i, i % 97)


def session(port):
    return loopback.session(
        port,
        "trove-bench-seeder",
        # Plaintext handshakes when dialling: libtorrent tries MSE/PE encryption first, which
        # librqbit (trove) cannot read ("pstr should be 19 bytes long"), and its fallback
        # to plaintext did not always follow.
        out_enc_policy=int(lt.enc_policy.disabled),
        in_enc_policy=int(lt.enc_policy.enabled),
        connections_limit=2000,
        alert_mask=lt.alert_category.error,
    )


def cmd_make(a):
    tdir = os.path.join(a.dir, "torrents")
    pdir = os.path.join(a.dir, "payload")
    os.makedirs(tdir, exist_ok=True)
    os.makedirs(pdir, exist_ok=True)
    block = os.urandom(1 << 20)
    out = []
    for i in range(a.count):
        name = realistic_name(i) if a.names == "realistic" else "bench-%04d.bin" % i
        path = os.path.join(pdir, name)
        header = ("%d:%s\n" % (i, name)).encode()
        with open(path, "wb") as f:
            left = a.size
            first = True
            while left > 0:
                chunk = (header + block) if first else block
                chunk = chunk[:left]
                f.write(chunk)
                left -= len(chunk)
                first = False
        fs = lt.file_storage()
        fs.add_file(name, a.size)
        ct = lt.create_torrent(fs, a.piece_length, flags=lt.create_torrent.v1_only)
        ct.set_creator("trove bench")
        if a.tracker:
            ct.add_tracker(a.tracker)
        lt.set_piece_hashes(ct, pdir)
        tpath = os.path.join(tdir, "%04d.torrent" % i)
        with open(tpath, "wb") as f:
            f.write(lt.bencode(ct.generate()))
        ih = str(lt.torrent_info(tpath).info_hashes().v1)
        out.append({"name": name, "info_hash": ih, "torrent": tpath, "size": a.size})
    with open(os.path.join(a.dir, "torrents.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({"made": len(out), "dir": a.dir}))


def cmd_seed(a):
    with open(os.path.join(a.dir, "torrents.json")) as f:
        entries = json.load(f)
    if a.first:
        entries = entries[: a.first]
    ses = session(a.port)
    loopback.wait_listening(ses)
    handles = []
    for e in entries:
        # The payload is ours: seed mode skips the check.
        p = loopback.add_params(e["torrent"], os.path.join(a.dir, "payload"), seed_mode=True)
        h = ses.add_torrent(p)
        loopback.set_upload_limit(h, a.upload_limit)
        handles.append(h)
    try:
        loopback.wait_seeding(ses, handles, 120)
    except loopback.NotSeeding as e:
        sys.exit("seeder: %s" % e)

    lock = threading.Lock()
    state = {"dial": None}

    def out(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def dial(port, only_idle):
        for h in handles:
            if only_idle and h.status().num_peers > 0:
                continue
            try:
                h.connect_peer(("127.0.0.1", port))
            except RuntimeError:
                pass

    def redialler():
        while True:
            time.sleep(2)
            with lock:
                port = state["dial"]
                if port:
                    dial(port, True)
                ses.pop_alerts()

    threading.Thread(target=redialler, daemon=True).start()
    out({"ready": True, "port": ses.listen_port(), "pid": os.getpid(), "torrents": len(handles)})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        with lock:
            if words[0] == "dial":
                state["dial"] = int(words[1])
                dial(state["dial"], False)
                out({"ok": True})
            elif words[0] == "undial":
                state["dial"] = None
                out({"ok": True})
            elif words[0] == "status":
                sts = [h.status() for h in handles]
                out({
                    "peers": sum(s.num_peers for s in sts),
                    "torrents_with_peers": sum(1 for s in sts if s.num_peers > 0),
                    "upload_rate": sum(s.upload_rate for s in sts),
                    "uploaded": sum(s.total_payload_upload for s in sts),
                })
            elif words[0] == "quit":
                break
            else:
                out({"ok": False, "error": "unknown command %r" % words[0]})
    sys.stdout.flush()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--dir", required=True)
    m.add_argument("--count", type=int, required=True)
    m.add_argument("--size", type=int, required=True)
    m.add_argument("--piece-length", type=int, default=16384)
    m.add_argument("--names", choices=["realistic", "plain"], default="realistic")
    m.add_argument("--tracker", default="")
    s = sub.add_parser("seed")
    s.add_argument("--dir", required=True)
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--upload-limit", type=int, default=0)
    s.add_argument("--first", type=int, default=0)
    a = ap.parse_args()
    {"make": cmd_make, "seed": cmd_seed}[a.cmd](a)


if __name__ == "__main__":
    main()
