#!/usr/bin/env python3
"""Runs one sequence of qBittorrent Web API calls, through the `qbittorrent-api` client,
against a real qBittorrent (the reference) and against trove, then

1. compares the SHAPE of every answer: field names and JSON types, recursively, list
   elements included (numbers are one type: JSON has one number type, and qBittorrent
   writes 0.0 as 0);
2. checks trove's VALUES: names, hashes, categories, tags, limits, states after pause;
   and for the queue and share limits, that trove's values are qBittorrent's (the
   preferences read back, the order the priority calls make, each torrent's share
   limits and force_start).

Prints a table of the differences and exits 1 if any is not in ALLOWED below.

Usage: conformance.py --qbit URL USER PASS DIR --trove URL USER PASS DIR
  DIR: a folder the server may put categories' save paths under.
Run it with the python of a venv that has qbittorrent-api (scripts/test.sh makes one).
"""

import argparse
import hashlib
import os
import random
import re
import sys
import tempfile
import time

import qbittorrentapi

# Differences accepted between qBittorrent and trove, as (step, path) pairs. Keep this
# list tiny; each entry says why trove cannot or should not match.
# It is empty: every answer of the sequence has qBittorrent's shape. (Values may differ
# where trove has no equivalent, e.g. qBittorrent lists DHT/PeX/LSD as pseudo-trackers and
# trove lists only real trackers; the elements' shape is still compared.)
ALLOWED = set()

DEADLINE = 30.0
# Which server the sequence is running against, for messages.
SERVER = ""
HEX40 = re.compile(r"^[0-9a-f]{40}$")


# ---------------------------------------------------------------- a small .torrent

def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, str):
        return bencode(value.encode())
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def make_torrent(folder, name="conf-payload.bin", seed=7):
    """A single-file v1 torrent of 100 kB of random bytes: (path, info-hash, name)."""
    data = random.Random(seed).randbytes(100_000)
    piece = 16384
    pieces = b"".join(hashlib.sha1(data[i:i + piece]).digest() for i in range(0, len(data), piece))
    info = {"length": len(data), "name": name, "piece length": piece, "pieces": pieces}
    torrent = bencode({"announce": "http://127.0.0.1:1/announce", "info": info})
    path = os.path.join(folder, name + ".torrent")
    with open(path, "wb") as f:
        f.write(torrent)
    return path, hashlib.sha1(bencode(info)).hexdigest(), name


# ---------------------------------------------------------------- shapes

def plain(value):
    """qbittorrent-api's dict and list subclasses as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def shape(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return ["list", [shape(v) for v in value]]
    if isinstance(value, dict):
        if value and all(HEX40.match(k) for k in value):
            # Keyed by info-hash (sync/maindata's torrents): the keys are data.
            return ["map", [shape(v) for v in value.values()]]
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


def compare(path, ref, got, out, partial):
    """Differences between two shapes, as (path, reference, trove) rows. `partial`
    compares only the keys both have (deltas carry what changed, which differs)."""
    if isinstance(ref, dict) and isinstance(got, dict):
        for k in sorted(set(ref) | set(got)):
            if k not in got:
                if not partial:
                    out.append((f"{path}.{k}", "present", "missing"))
            elif k not in ref:
                if not partial:
                    out.append((f"{path}.{k}", "missing", "present"))
            else:
                compare(f"{path}.{k}", ref[k], got[k], out, partial)
        return
    if isinstance(ref, list) and isinstance(got, list) and ref[0] == got[0]:
        # Every element of either side against the first of the other's.
        if ref[1] and got[1]:
            for e in got[1]:
                compare(f"{path}[]", ref[1][0], e, out, partial)
            for e in ref[1][1:]:
                compare(f"{path}[]", e, got[1][0], out, partial)
        return
    if ref != got:
        out.append((path, short(ref), short(got)))


def short(s):
    text = str(s)
    return text if len(text) < 60 else text[:57] + "..."


# ---------------------------------------------------------------- the sequence

def wait(what, f, show=None):
    """Polls `f` until it gives something; `show` says what there was at the deadline."""
    end = time.monotonic() + DEADLINE
    while True:
        value = f()
        if value:
            return value
        if time.monotonic() > end:
            seen = f" (last seen: {short(show())})" if show else ""
            raise SystemExit(f"{SERVER}: timed out waiting for {what}{seen}")
        time.sleep(0.1)


def run(url, user, password, base, torrent_path, info_hash):
    """The call sequence: a list of (step, answer, partial) and the values trove's checks
    read."""
    global SERVER
    SERVER = url
    c = qbittorrentapi.Client(host=url, username=user, password=password,
                              REQUESTS_ARGS={"timeout": 20},
                              VERIFY_WEBUI_CERTIFICATE=False)
    steps = []
    facts = {}

    def step(name, value, partial=False):
        steps.append((name, plain(value), partial))
        return value

    c.auth_log_in()
    step("app/version", c.app_version())
    step("app/webapiVersion", c.app_web_api_version())
    step("app/buildInfo", c.app_build_info())
    step("app/preferences", c.app_preferences())
    facts["default_save_path"] = step("app/defaultSavePath", c.app_default_save_path())
    tv = os.path.join(base, "conf-tv")
    movies = os.path.join(base, "conf-movies")
    os.makedirs(tv, exist_ok=True)
    os.makedirs(movies, exist_ok=True)
    step("torrents/createCategory tv", c.torrents_create_category("conf-tv", save_path=tv))
    step("torrents/createCategory movies", c.torrents_create_category("conf-movies", save_path=movies))
    step("torrents/createTags", c.torrents_create_tags(["conf-a", "conf-b"]))
    facts["categories"] = step("torrents/categories", c.torrents_categories())
    facts["tags"] = step("torrents/tags", c.torrents_tags())

    magnet_hash = "%040x" % random.Random(11).getrandbits(160)
    magnet = f"magnet:?xt=urn:btih:{magnet_hash}&dn=conf-magnet&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce"
    facts["magnet_hash"] = magnet_hash
    step("torrents/add file", c.torrents_add(torrent_files=torrent_path, category="conf-tv",
                                             tags="conf-a", is_paused=True))
    step("torrents/add magnet", c.torrents_add(urls=magnet, is_paused=True))
    wait("both torrents listed", lambda: {info_hash, magnet_hash} <= {t["hash"] for t in c.torrents_info()})

    facts["info"] = step("torrents/info", c.torrents_info())
    for f in ["all", "downloading", "seeding", "completed", "paused", "resumed", "active",
              "inactive", "stalled", "stalled_uploading", "stalled_downloading", "errored"]:
        step(f"torrents/info filter={f}", c.torrents_info(status_filter=f), partial=False)
    facts["by_category"] = step("torrents/info category", c.torrents_info(category="conf-tv"))
    facts["by_tag"] = step("torrents/info tag", c.torrents_info(tag="conf-a"))
    facts["by_hash"] = step("torrents/info hashes", c.torrents_info(torrent_hashes=magnet_hash))
    step("torrents/info sort", c.torrents_info(sort="name", reverse=True, limit=1, offset=1))
    facts["properties"] = step("torrents/properties", c.torrents_properties(info_hash))
    facts["files"] = step("torrents/files", c.torrents_files(info_hash))
    step("torrents/trackers", c.torrents_trackers(info_hash))
    facts["pieces"] = step("torrents/pieceStates", c.torrents_piece_states(info_hash))

    step("torrents/setCategory", c.torrents_set_category("conf-movies", torrent_hashes=magnet_hash))
    step("torrents/addTags", c.torrents_add_tags("conf-b", torrent_hashes=[info_hash, magnet_hash]))
    step("torrents/removeTags", c.torrents_remove_tags("conf-a", torrent_hashes=info_hash))
    step("torrents/setUploadLimit", c.torrents_set_upload_limit(1048576, torrent_hashes=info_hash))
    step("torrents/setDownloadLimit", c.torrents_set_download_limit(2097152, torrent_hashes=info_hash))
    facts["after_edits"] = step("torrents/info after edits",
                                wait("edits to show", lambda: edited(c, info_hash, magnet_hash)))

    queue_segment(c, step, facts, info_hash)

    step("torrents/resume", c.torrents_resume(torrent_hashes="all"))
    facts["resumed"] = wait("torrents resumed", lambda: states(c, lambda s: not s.startswith("paused")),
                          lambda: [t["state"] for t in c.torrents_info()])
    step("torrents/pause", c.torrents_pause(torrent_hashes="all"))
    facts["paused"] = wait("torrents paused", lambda: states(c, lambda s: s.startswith("paused")),
                         lambda: [t["state"] for t in c.torrents_info()])
    step("torrents/recheck", c.torrents_recheck(torrent_hashes=info_hash))

    full = step("sync/maindata full", c.sync_maindata(rid=0))
    facts["full"] = plain(full)
    c.torrents_add_tags("conf-a", torrent_hashes=magnet_hash)
    delta = wait("a delta with the new tag", lambda: delta_with_tag(c, full["rid"], magnet_hash))
    facts["delta"] = step("sync/maindata delta", delta, partial=True)
    step("transfer/info", c.transfer_info())

    step("torrents/delete", c.torrents_delete(delete_files=True, torrent_hashes=[info_hash, magnet_hash]))
    facts["after_delete"] = wait("torrents gone", lambda: [1] if not c.torrents_info() else None)
    step("torrents/removeCategories", c.torrents_remove_categories(["conf-tv", "conf-movies"]))
    step("torrents/deleteTags", c.torrents_delete_tags(["conf-a", "conf-b"]))
    facts["categories_after"] = plain(c.torrents_categories())
    facts["tags_after"] = plain(c.torrents_tags())
    step("auth/logout", c.auth_log_out())
    return steps, facts


# The queue and share-limit preferences the queue segment sets and reads back.
QUEUE_PREFS = {
    "queueing_enabled": True,
    "max_active_downloads": 1,
    "max_active_uploads": 2,
    "max_active_torrents": 4,
    "max_ratio_enabled": True,
    "max_ratio": 1.5,
    "max_seeding_time_enabled": True,
    "max_seeding_time": 120,
    "max_ratio_act": 0,
    "dont_count_slow_torrents": False,
}
# The queue fields of torrents/info the segment compares, value for value.
SHARE_FIELDS = ["ratio_limit", "seeding_time_limit", "max_ratio", "max_seeding_time", "force_start"]


def settle(f, done):
    """Polls `f` until `done(value)` or a few seconds pass; returns the last value, so a
    difference shows as a wrong value rather than a time-out."""
    end = time.monotonic() + 5.0
    while True:
        value = f()
        if done(value) or time.monotonic() > end:
            return value
        time.sleep(0.1)


def queue_segment(c, step, facts, info_hash):
    """The queue and share limits: preferences, the four priority calls, setShareLimits
    and setForceStart on two paused .torrent downloads. qBittorrent queues by default and
    trove only once a limit is set, so both get the same limits first; each gets its own
    earlier values back at the end. qBittorrent numbers every unfinished torrent (the
    magnet too) and trove only those with metadata, so the priority calls are compared by
    the ORDER of the two .torrent downloads, not by their numbers."""
    before = plain(c.app_preferences())
    step("app/setPreferences queue", c.app_set_preferences(QUEUE_PREFS))
    prefs = step("app/preferences queue",
                 settle(lambda: plain(c.app_preferences()),
                        lambda p: all(p.get(k) == v for k, v in QUEUE_PREFS.items())))
    facts["queue_prefs"] = {k: prefs.get(k) for k in QUEUE_PREFS}

    with tempfile.TemporaryDirectory() as tmp:
        second_path, second, _ = make_torrent(tmp, "conf-second.bin", 8)
        step("torrents/add second", c.torrents_add(torrent_files=second_path, is_paused=True))
    wait("the second torrent listed", lambda: second in {t["hash"] for t in c.torrents_info()})

    def order():
        rows = {t["hash"]: t for t in plain(c.torrents_info())}
        pair = [h for h in (info_hash, second) if h in rows]
        return sorted(pair, key=lambda h: rows[h]["priority"])

    first_then_second = [info_hash, second]
    second_then_first = [second, info_hash]
    orders = [("added", order())]
    # Two moves up or down: past the magnet, which qBittorrent numbers between them.
    for name, call, times, expected in [
        ("topPrio", c.torrents_top_priority, 1, second_then_first),
        ("bottomPrio", c.torrents_bottom_priority, 1, first_then_second),
        ("increasePrio", c.torrents_increase_priority, 2, second_then_first),
        ("decreasePrio", c.torrents_decrease_priority, 2, first_then_second),
    ]:
        for _ in range(times):
            step(f"torrents/{name}", call(torrent_hashes=second))
        orders.append((name, settle(order, lambda o, e=expected: o == e)))
    facts["queue_orders"] = [(name, ["first" if h == info_hash else "second" for h in o])
                             for name, o in orders]

    def share():
        t = next(t for t in plain(c.torrents_info()) if t["hash"] == info_hash)
        return {k: t.get(k) for k in SHARE_FIELDS}

    step("torrents/setShareLimits", c.torrents_set_share_limits(
        ratio_limit=2.5, seeding_time_limit=90, torrent_hashes=info_hash))
    facts["share_own"] = settle(share, lambda v: v["ratio_limit"] == 2.5)
    step("torrents/setShareLimits none", c.torrents_set_share_limits(
        ratio_limit=-1, seeding_time_limit=-2, torrent_hashes=info_hash))
    facts["share_none"] = settle(share, lambda v: v["ratio_limit"] == -1)
    step("torrents/setShareLimits session", c.torrents_set_share_limits(
        ratio_limit=-2, seeding_time_limit=-2, torrent_hashes=info_hash))
    facts["share_session"] = settle(share, lambda v: v["ratio_limit"] == -2)

    step("torrents/setForceStart", c.torrents_set_force_start(True, torrent_hashes=info_hash))
    forced = settle(share, lambda v: v["force_start"] is True)
    facts["forced"] = forced["force_start"]
    info = step("torrents/info forced", c.torrents_info(torrent_hashes=info_hash))
    facts["forced_state"] = plain(info)[0]["state"]
    step("torrents/setForceStart off", c.torrents_set_force_start(False, torrent_hashes=info_hash))
    facts["unforced"] = settle(share, lambda v: v["force_start"] is False)["force_start"]
    c.torrents_pause(torrent_hashes=info_hash)
    c.torrents_delete(delete_files=True, torrent_hashes=second)
    wait("the second torrent gone", lambda: second not in {t["hash"] for t in c.torrents_info()} or None)
    c.app_set_preferences({k: before[k] for k in QUEUE_PREFS if k in before})


def edited(c, info_hash, magnet_hash):
    rows = {t["hash"]: t for t in plain(c.torrents_info())}
    f, m = rows.get(info_hash), rows.get(magnet_hash)
    if f and m and f["tags"] == "conf-b" and m["category"] == "conf-movies" and f["up_limit"] == 1048576:
        return list(rows.values())
    return None


def states(c, ok):
    rows = plain(c.torrents_info())
    return rows if rows and all(ok(t["state"]) for t in rows) else None


def delta_with_tag(c, rid, magnet_hash):
    d = plain(c.sync_maindata(rid=rid))
    if "conf-a" in d.get("torrents", {}).get(magnet_hash, {}).get("tags", ""):
        return d
    return None


# ---------------------------------------------------------------- trove's values

def check_same(ref, got):
    """The queue segment's values, which trove must give as qBittorrent gives them."""
    problems = []
    for key in ["queue_prefs", "queue_orders", "share_own", "share_none", "share_session",
                "forced", "forced_state", "unforced"]:
        if ref.get(key) != got.get(key):
            problems.append(f"{key}: qBittorrent {short(ref.get(key))}, trove {short(got.get(key))}")
    return problems


def check_values(facts, info_hash, name, base):
    problems = []

    def expect(what, ok):
        if not ok:
            problems.append(what)

    cats = facts["categories"]
    expect("categories list conf-tv at its save path",
           cats.get("conf-tv", {}).get("savePath", "").rstrip("/") == os.path.join(base, "conf-tv"))
    expect("tags list conf-a and conf-b", {"conf-a", "conf-b"} <= set(facts["tags"]))
    rows = {t["hash"]: t for t in facts["info"]}
    f = rows.get(info_hash, {})
    expect("the .torrent's hash and name", f.get("name") == name)
    expect("the .torrent is in conf-tv", f.get("category") == "conf-tv")
    expect("the .torrent has tag conf-a", f.get("tags") == "conf-a")
    expect("the .torrent was added paused", str(f.get("state", "")).startswith("paused"))
    expect("the magnet is listed", facts["magnet_hash"] in rows)
    expect("category filter", [t["hash"] for t in facts["by_category"]] == [info_hash])
    expect("tag filter", [t["hash"] for t in facts["by_tag"]] == [info_hash])
    expect("hashes filter", [t["hash"] for t in facts["by_hash"]] == [facts["magnet_hash"]])
    expect("properties name the torrent", facts["properties"].get("hash") == info_hash)
    expect("properties: 7 pieces of 16 KiB",
           facts["properties"].get("pieces_num") == 7 and facts["properties"].get("piece_size") == 16384)
    expect("one file of 100000 bytes",
           [(x["name"], x["size"]) for x in facts["files"]] == [(name, 100000)])
    expect("7 piece states", len(facts["pieces"]) == 7)
    edits = {t["hash"]: t for t in facts["after_edits"]}
    expect("limits set", edits[info_hash]["up_limit"] == 1048576 and edits[info_hash]["dl_limit"] == 2097152)
    expect("setCategory moved the magnet", edits[facts["magnet_hash"]]["category"] == "conf-movies")
    expect("paused states", all(t["state"] in ("pausedDL", "pausedUP") for t in facts["paused"]))
    expect("full update has both torrents",
           facts["full"].get("full_update") is True and {info_hash, facts["magnet_hash"]} <= set(facts["full"]["torrents"]))
    expect("the delta is not a full update", "full_update" not in facts["delta"])
    expect("delete emptied the list", facts["after_delete"] == [1])
    expect("categories removed", not any(k.startswith("conf-") for k in facts["categories_after"]))
    expect("tags deleted", not any(t.startswith("conf-") for t in facts["tags_after"]))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qbit", nargs=4, metavar=("URL", "USER", "PASS", "DIR"), required=True)
    ap.add_argument("--trove", nargs=4, metavar=("URL", "USER", "PASS", "DIR"), required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        torrent_path, info_hash, name = make_torrent(tmp)
        ref_steps, ref_facts = run(*args.qbit, torrent_path, info_hash)
        got_steps, facts = run(*args.trove, torrent_path, info_hash)

    rows = []
    for (step, ref, partial), (_, got, _) in zip(ref_steps, got_steps):
        diffs = []
        compare("", shape(ref), shape(got), diffs, partial)
        for path, r, g in diffs:
            allowed = (step, path) in ALLOWED
            rows.append((step, path or "(answer)", r, g, "allowed" if allowed else "DIFF"))
    problems = check_values(facts, info_hash, name, args.trove[3]) + check_same(ref_facts, facts)

    print(f"{len(ref_steps)} calls compared")
    if rows:
        print(f"{'call':34} {'field':38} {'qBittorrent':24} {'trove':24} verdict")
        for r in rows:
            print(f"{r[0]:34} {r[1]:38} {r[2]:24} {r[3]:24} {r[4]}")
    for p in problems:
        print(f"VALUE: {p}")
    failed = [r for r in rows if r[4] == "DIFF"]
    if failed or problems:
        print(f"FAILED: {len(failed)} shape differences, {len(problems)} wrong values")
        return 1
    print("trove answers as qBittorrent does")
    return 0


if __name__ == "__main__":
    sys.exit(main())
