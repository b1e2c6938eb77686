#!/usr/bin/python3
"""A real BitTorrent peer (libtorrent) for trove's integration tests (driven by
crates/trove-testkit) and scripts/soak (through loopback.PeerClient).

Driven by JSON lines: one request per stdin line, one JSON reply per stdout line. The first
stdout line is {"ready": true, "port": N} once the session listens. The process exits when
stdin closes, so a test that dies never leaves it behind.

Run with /usr/bin/python3: Debian's python3-libtorrent imports only under that interpreter.
Everything listens and dials on 127.0.0.1 only, with the session of loopback.py.

A request may carry "id"; the reply echoes it, so a caller that gave up on a slow reply can
tell a late answer from the one it is waiting for.
"""

import argparse
import hashlib
import json
import os
import queue
import random
import sys
import threading
import time
import urllib.parse

import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loopback  # noqa: E402

SEED_WAIT_SECS = 60.0


class OpError(Exception):
    pass


def log(msg):
    sys.stderr.write("peer.py[%d]: %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


STAMP_BLOCK = 16384
STAMP_PREFIX = b"TROVE-BLOCK:"


def stamp(rel, index):
    """The header of block `index` of file `rel`: unique in a payload, 32 bytes."""
    tag = hashlib.sha256(rel.encode("utf-8")).hexdigest()[:10]
    return (STAMP_PREFIX + ("%s:%08d:" % (tag, index)).encode("ascii")).ljust(32, b"#")


def write_payload(path, size, seed, rel, stamped=False):
    """Deterministic pseudo-random bytes: a function of (seed, relative path) only. When
    stamped, every 16 KiB block of the file starts with its own header (`stamp`), so
    a test can search other files for any block of the payload."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    digest = hashlib.sha256(("%d:%s" % (seed, rel)).encode("utf-8")).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    chunk = 1 << 20
    with open(path, "wb") as f:
        done = 0
        while done < size:
            n = min(chunk, size - done)
            data = bytearray(rng.randbytes(n))
            if stamped:
                for at in range(0, n, STAMP_BLOCK):
                    s = stamp(rel, (done + at) // STAMP_BLOCK)[: n - at]
                    data[at:at + len(s)] = s
            f.write(data)
            done += n


class Peer:
    def __init__(self, port):
        self.ses = loopback.session(port, "trove-test-peer")
        self.handles = {}  # v1 hex -> torrent_handle
        loopback.wait_listening(self.ses)

    def drain_alerts(self):
        for a in self.ses.pop_alerts():
            self.log_alert(a)

    @staticmethod
    def log_alert(a):
        if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert,
                          lt.listen_failed_alert, lt.tracker_error_alert)):
            log("alert: %s" % a.message())

    def handle(self, h):
        h = (h or "").lower()
        if h not in self.handles:
            raise OpError("unknown info_hash %r" % h)
        return self.handles[h]

    # --- ops -------------------------------------------------------------------------

    def op_make_torrent(self, req):
        d = req["dir"]
        name = req["name"]
        files = req["files"]
        piece_length = int(req.get("piece_length", 16384))
        tracker = req.get("tracker")
        seed = int(req.get("seed", 12))
        # BEP 47: align every file to a piece boundary with padding entries (.pad/N,
        # attr "p"). libtorrent's canonical order also sorts the files by path.
        pad = bool(req.get("pad", False))
        if not files:
            raise OpError("files is empty")
        single = len(files) == 1 and files[0]["path"] == name
        os.makedirs(d, exist_ok=True)
        fs = lt.file_storage()
        total = 0
        for f in files:
            rel = f["path"]
            size = int(f["size"])
            if rel.startswith("/") or ".." in rel.split("/"):
                raise OpError("bad file path %r" % rel)
            torrent_rel = name if single else name + "/" + rel
            write_payload(os.path.join(d, torrent_rel), size, seed, rel,
                          bool(req.get("stamped", False)))
            fs.add_file(torrent_rel, size)
            total += size
        # v1 only: hybrid torrents confuse other clients and change what info_hash() means.
        flags = lt.create_torrent.v1_only
        if pad:
            flags |= lt.create_torrent.canonical_files
        ct = lt.create_torrent(fs, piece_length, flags=flags)
        if tracker:
            ct.add_tracker(tracker)
        ct.set_creator("trove tests")
        lt.set_piece_hashes(ct, d)
        data = lt.bencode(ct.generate())
        torrent_path = os.path.join(d, name + ".torrent")
        with open(torrent_path, "wb") as out:
            out.write(data)
        ti = lt.torrent_info(torrent_path)
        ih = loopback.info_hash(ti)
        tfs = ti.files()
        pad_files = sum(1 for i in range(tfs.num_files())
                        if tfs.file_flags(i) & lt.file_storage.flag_pad_file)
        magnet = "magnet:?xt=urn:btih:%s&dn=%s" % (ih, urllib.parse.quote(name, safe=""))
        if tracker:
            magnet += "&tr=" + urllib.parse.quote(tracker, safe="")
        return {
            "torrent": torrent_path,
            "info_hash": ih,
            "magnet": magnet,
            "total_size": total,
            "num_pieces": ti.num_pieces(),
            "piece_length": ti.piece_length(),
            "pad_files": pad_files,
        }

    def add(self, torrent, save_path, seed_mode=False):
        ti = lt.torrent_info(torrent)
        ih = loopback.info_hash(ti)
        if ih in self.handles:
            raise OpError("torrent %s already in this peer" % ih)
        h = self.ses.add_torrent(loopback.add_params(ti, save_path, seed_mode))
        self.handles[ih] = h
        return ih, h

    def op_seed(self, req):
        ih, h = self.add(req["torrent"], req["save_path"], bool(req.get("seed_mode", False)))
        loopback.set_upload_limit(h, int(req.get("upload_limit") or 0))
        try:
            loopback.wait_seeding(self.ses, [h], float(req.get("timeout", SEED_WAIT_SECS)),
                                  on_alert=self.log_alert)
        except loopback.NotSeeding as e:
            raise OpError("seed %s" % e)
        return {"info_hash": ih}

    def op_leech(self, req):
        ih, _ = self.add(req["torrent"], req["save_path"])
        return {"info_hash": ih}

    def op_connect(self, req):
        h = self.handle(req["info_hash"])
        h.connect_peer((req.get("host", "127.0.0.1"), int(req["port"])))
        return {}

    def op_status(self, req):
        st = self.handle(req["info_hash"]).status()
        return {
            "num_peers": st.num_peers,
            "num_seeds": st.num_seeds,
            "all_time_upload": st.all_time_upload,
            "all_time_download": st.all_time_download,
            "total_upload": st.total_upload,
            "total_payload_upload": st.total_payload_upload,
            "total_download": st.total_download,
            "total_failed_bytes": st.total_failed_bytes,
            "is_seeding": st.is_seeding,
            "is_finished": st.is_finished,
            "progress": st.progress,
            "state": str(st.state),
            "paused": bool(st.flags & lt.torrent_flags.paused),
            "error": st.errc.message() if st.errc.value() != 0 else None,
            "upload_rate": st.upload_rate,
            "download_rate": st.download_rate,
        }

    def op_peers(self, req):
        out = []
        for p in self.handle(req["info_hash"]).get_peer_info():
            out.append({
                "ip": p.ip[0],
                "port": p.ip[1],
                "client": p.client.decode("utf-8", "replace")
                if isinstance(p.client, bytes) else str(p.client),
                "total_upload": p.total_upload,
                "total_download": p.total_download,
                "seed": bool(p.flags & lt.peer_info.seed),
                "outgoing": bool(p.flags & lt.peer_info.local_connection),
            })
        return {"peers": out}

    def op_set_upload_limit(self, req):
        loopback.set_upload_limit(self.handle(req["info_hash"]), int(req.get("upload_limit") or 0))
        return {}

    def op_pause(self, req):
        self.handle(req["info_hash"]).pause()
        return {}

    def op_resume(self, req):
        self.handle(req["info_hash"]).resume()
        return {}

    def op_reannounce(self, req):
        self.handle(req["info_hash"]).force_reannounce()
        return {}

    def op_remove(self, req):
        h = self.handle(req["info_hash"])
        self.ses.remove_torrent(h)
        del self.handles[req["info_hash"].lower()]
        return {}

    def op_ping(self, req):
        return {"port": self.ses.listen_port()}


def stdin_reader(q):
    for line in sys.stdin:
        q.put(line)
    q.put(None)  # EOF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    peer = Peer(args.port)
    out = sys.stdout

    def reply(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    reply({"ready": True, "port": peer.ses.listen_port(), "pid": os.getpid()})

    q = queue.Queue()
    threading.Thread(target=stdin_reader, args=(q,), daemon=True).start()

    while True:
        try:
            line = q.get(timeout=0.1)
        except queue.Empty:
            peer.drain_alerts()
            continue
        if line is None:
            break
        line = line.strip()
        if not line:
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            op = req.get("op")
            if op == "quit":
                reply({"ok": True, "id": rid})
                break
            fn = getattr(peer, "op_" + str(op), None)
            if fn is None:
                raise OpError("unknown op %r" % op)
            res = fn(req)
            res["ok"] = True
        except (OpError, KeyError, ValueError, TypeError, RuntimeError, OSError) as e:
            res = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        res["id"] = rid
        reply(res)
        peer.drain_alerts()

    # Skip the session's orderly teardown (it may wait on a vanished tracker); libtorrent
    # writes through mmap, so finished pieces are already in the page cache.
    out.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
