#!/usr/bin/python3
"""Payloads and .torrent files for bench/throughput.sh (Debian's python3-libtorrent).

  payload.py make --dir DIR --name NAME --size BYTES --files N --piece-length BYTES
      Writes NAME (one file when N = 1, else a folder of N files) of random bytes under DIR,
      a v1-only NAME.torrent without trackers, and manifest.json describing both. Does
      nothing when manifest.json already matches (payloads are cached between runs).

  payload.py announce --torrent IN --out OUT --url URL
      Copies IN with URL as its only tracker. The info-hash does not change (the announce
      list is outside the info dictionary), so one cached payload serves every tracker port.

Run with /usr/bin/python3: Debian's python3-libtorrent imports only under that interpreter.
"""

import argparse
import json
import os
import sys

import libtorrent as lt

MANIFEST_VERSION = 2


def file_sizes(total, n):
    """N sizes adding up to TOTAL; not multiples of the piece length, so pieces span files."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def rel_paths(n):
    if n == 1:
        return [None]
    # A few sub-folders, as real multi-file torrents have.
    return ["d%02d/f%04d.bin" % (i // 100, i) for i in range(n)]


def write_random(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    chunk = 8 << 20
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def cmd_make(a):
    d = os.path.abspath(a.dir)
    man_path = os.path.join(d, "manifest.json")
    want = {
        "version": MANIFEST_VERSION,
        "name": a.name,
        "size": a.size,
        "files": a.files,
        "piece_length": a.piece_length,
    }
    if os.path.exists(man_path):
        with open(man_path) as f:
            have = json.load(f)
        if all(have.get(k) == v for k, v in want.items()) and all(
            os.path.getsize(os.path.join(d, x["path"])) == x["size"]
            for x in have["file_list"]
        ):
            print(man_path)
            return
    os.makedirs(d, exist_ok=True)
    sizes = file_sizes(a.size, a.files)
    rels = rel_paths(a.files)
    fs = lt.file_storage()
    listing = []
    for rel, size in zip(rels, sizes):
        torrent_rel = a.name if rel is None else a.name + "/" + rel
        write_random(os.path.join(d, torrent_rel), size)
        fs.add_file(torrent_rel, size)
        listing.append({"path": torrent_rel, "size": size})
    # v1 only: aria2 cannot handle hybrid torrents, and their info_hash() is the v2 one.
    ct = lt.create_torrent(fs, a.piece_length, flags=lt.create_torrent.v1_only)
    ct.set_creator("trove bench/throughput.sh")
    lt.set_piece_hashes(ct, d)
    torrent_path = os.path.join(d, a.name + ".torrent")
    with open(torrent_path, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    ti = lt.torrent_info(torrent_path)
    man = dict(want)
    man.update({
        "info_hash": str(ti.info_hashes().v1),
        "torrent": torrent_path,
        "payload_dir": d,
        "num_pieces": ti.num_pieces(),
        "single_file": a.files == 1,
        "file_list": listing,
    })
    with open(man_path + ".tmp", "w") as f:
        json.dump(man, f, indent=1)
    os.rename(man_path + ".tmp", man_path)
    print(man_path)


def cmd_announce(a):
    with open(a.torrent, "rb") as f:
        t = lt.bdecode(f.read())
    t[b"announce"] = a.url.encode()
    t.pop(b"announce-list", None)
    with open(a.out, "wb") as f:
        f.write(lt.bencode(t))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--dir", required=True)
    m.add_argument("--name", required=True)
    m.add_argument("--size", type=int, required=True)
    m.add_argument("--files", type=int, default=1)
    m.add_argument("--piece-length", type=int, default=1 << 20)
    n = sub.add_parser("announce")
    n.add_argument("--torrent", required=True)
    n.add_argument("--out", required=True)
    n.add_argument("--url", required=True)
    a = ap.parse_args()
    if a.cmd == "make":
        if a.files < 1 or a.size < a.files:
            sys.exit("payload.py: need 1 <= files <= size")
        cmd_make(a)
    else:
        cmd_announce(a)


if __name__ == "__main__":
    main()
