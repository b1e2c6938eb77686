#!/usr/bin/python3
"""Writes trove's hostile-input corpus next to this script.

    /usr/bin/python3 tests/corpus/make.py

The outputs are committed so the corpus is stable; rerunning this script must reproduce
them byte for byte (it uses no clock and a fixed random seed). `tests/hostile.rs` reads
MANIFEST.tsv: one line per input, `file<TAB>substring<TAB>what it is`, where `substring`
is what trove's one-line refusal must contain (case-insensitive) to name the problem.

Inputs that cannot sit in a small file are made by the test itself: the million-file
torrent (its bencoded file list is ~30 MB), an oversized sparse file, a folder, a missing
path, and every http:// URL (they need a local server on a port chosen at run time).
"""

import hashlib
import os
import random
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 16384


def benc(x):
    """Bencode; dict keys are emitted in the order given (tests need unsorted/odd ones)."""
    if isinstance(x, bool):
        raise TypeError("no bools in bencode")
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, (bytes, bytearray)):
        return b"%d:" % len(x) + bytes(x)
    if isinstance(x, list):
        return b"l" + b"".join(benc(i) for i in x) + b"e"
    if isinstance(x, dict):
        out = b"d"
        for k, v in x.items():
            out += benc(k) + benc(v)
        return out + b"e"
    raise TypeError(type(x))


def hashes(n):
    """n fake-but-plausible SHA-1 piece hashes."""
    return b"".join(hashlib.sha1(b"piece %d" % i).digest() for i in range(n))


def pieces_for(total, piece=PIECE):
    return hashes(max(1, -(-total // piece)))


def fentry(path, length, **extra):
    d = {"length": length, "path": path}
    d.update(extra)
    return d


def multi(name, files, piece=PIECE, pieces=None, **extra):
    """A multi-file torrent; pieces default to the right count for the non-padding total."""
    total = sum(f["length"] for f in files if isinstance(f, dict) and isinstance(f.get("length"), int))
    info = {"files": files}
    if name is not None:
        info["name"] = name
    info["piece length"] = piece
    info["pieces"] = pieces if pieces is not None else pieces_for(total, piece)
    info.update(extra)
    return benc({"announce": "http://127.0.0.1:1/announce", "info": info})


def single(name, length, piece=PIECE, pieces=None, **extra):
    info = {"length": length, "name": name, "piece length": piece}
    info["pieces"] = pieces if pieces is not None else pieces_for(length, piece)
    info.update(extra)
    return benc({"announce": "http://127.0.0.1:1/announce", "info": info})


def raw_torrent(info):
    return benc({"info": info})


GOOD = multi("album", [fentry(["cd1", "01.flac"], 40000), fentry(["cover.jpg"], 1234)])
# BEP 47: the padding entry's bytes are part of the piece stream but never written.
GOOD_PADDED = multi(
    "padded",
    [
        fentry(["a.bin"], 1000),
        fentry([".pad", "15384"], PIECE - 1000, attr="p"),
        fentry(["b.bin"], 5000),
    ],
    pieces=hashes(2),
)
GOOD_SINGLE = single("single.iso", 100000)

PIB = 1 << 50
BOM = b"\xef\xbb\xbf"
rng = random.Random(4)

# (file name, content, expected substring, description)
BAD = [
    # --- not a torrent at all / truncated -------------------------------------------
    ("empty.torrent", b"", "empty", "a zero-byte file"),
    ("text.torrent", b"this is not a torrent, just some text\n", "not valid bencode", "plain text"),
    ("html.torrent", b"<!doctype html><html><body>404 Not Found</body></html>\n", "not valid bencode", "an HTML error page saved as .torrent"),
    ("random-bytes.torrent", bytes(rng.randrange(256) for _ in range(4096)), "not valid bencode", "4 KiB of random bytes"),
    ("zeros.torrent", b"\0" * 1024, "not valid bencode", "1 KiB of NUL bytes"),
    ("truncated-half.torrent", GOOD[: len(GOOD) // 2], "not valid bencode", "a good torrent cut in half"),
    ("truncated-last-byte.torrent", GOOD[:-1], "not valid bencode", "a good torrent missing its final 'e'"),
    ("truncated-in-pieces.torrent", GOOD[: GOOD.index(b"6:pieces") + 20], "not valid bencode", "cut inside the pieces string"),
    ("string-length-past-end.torrent", b"d4:info999999999:abce", "not valid bencode", "a string length far past the end of the file"),
    ("top-level-list.torrent", benc([1, 2, "three"]), "not valid bencode", "a bencoded list, not a dict"),
    ("no-info.torrent", benc({"announce": "http://127.0.0.1:1/a"}), "not valid bencode", "a dict without an info dict"),
    ("deep-nesting.torrent", b"d4:info" + b"l" * 200000 + b"e" * 200000 + b"e", "not valid bencode", "200000 nested lists (parser recursion)"),
    ("integer-garbage.torrent", b"d4:infod6:lengthi12x4e4:name1:a12:piece lengthi16384e6:pieces20:" + b"A" * 20 + b"ee", "not valid bencode", "an integer with a letter in it"),
    # --- wrong types --------------------------------------------------------------------
    ("info-is-list.torrent", raw_torrent([1, 2]), "not valid bencode", "info is a list"),
    ("info-is-string.torrent", raw_torrent("info"), "not valid bencode", "info is a string"),
    ("length-is-string.torrent", raw_torrent({"length": "100", "name": "a", "piece length": PIECE, "pieces": hashes(1)}), "not valid bencode", "length is a string"),
    ("piece-length-is-string.torrent", raw_torrent({"length": 100, "name": "a", "piece length": "16384", "pieces": hashes(1)}), "not valid bencode", "piece length is a string"),
    ("pieces-is-integer.torrent", raw_torrent({"length": 100, "name": "a", "piece length": PIECE, "pieces": 5}), "not valid bencode", "pieces is an integer"),
    ("files-is-dict.torrent", raw_torrent({"files": {"a": 1}, "name": "a", "piece length": PIECE, "pieces": hashes(1)}), "not valid bencode", "files is a dict"),
    ("path-is-string.torrent", multi("n", [{"length": 10, "path": "a/b"}]), "not valid bencode", "a file path is a string, not a list"),
    ("name-is-integer.torrent", raw_torrent({"length": 100, "name": 7, "piece length": PIECE, "pieces": hashes(1)}), "not valid bencode", "name is an integer"),
    # --- lengths ------------------------------------------------------------------------
    ("negative-length.torrent", single("a", -1, pieces=hashes(1)), "not valid bencode", "a negative length"),
    ("negative-file-length.torrent", multi("n", [fentry(["a"], -5)], pieces=hashes(1)), "not valid bencode", "a negative file length"),
    ("negative-piece-length.torrent", single("a", 100, piece=-16384, pieces=hashes(1)), "not valid bencode", "a negative piece length"),
    ("length-over-u64.torrent", single("a", 1 << 70, pieces=hashes(1)), "too large to be read", "a length that does not fit in 64 bits"),
    ("piece-length-over-u32.torrent", single("a", 100, piece=(1 << 32) + PIECE, pieces=hashes(1)), "too large to be read", "a piece length over 4 GiB"),
    ("length-wraps-to-100.torrent", single("a", (1 << 64) + 100, pieces=hashes(1)), "too large to be read", "length 2^64+100: librqbit's parser wraps it to 100 (accepted before the fix)"),
    ("string-length-wraps.torrent", single("a", 100).replace(b"4:name1:a", b"4:name18446744073709551617:a"), "too large to be read", "a string length of 2^64+1 that wraps to 1"),
    ("private-flag-wraps.torrent", single("a", 100, private=256), "too large to be read", "private=i256e: read as a u8 it wrapped to 0, 'not private', before the fix"),
    ("integer-overflow-then-garbage.torrent", single("a", 100).replace(b"i16384e", b"i16301234567890abcdef84e"), "too large to be read", "piece length digits that overflow u32, then garbage (found by cargo fuzz: a debug-build panic)"),
    ("ignored-key-huge-integer.torrent", benc({"info": {"length": 100, "name": "a", "piece length": PIECE, "pieces": hashes(1)}, "x-extra": (1 << 64) - 1}), "too large to be read", "2^64-1 under an unknown key, read as i64 (found by cargo fuzz: a debug-build panic)"),
    ("unterminated-huge-integer.torrent", b"d4:infod6:lengthi" + b"1" * 30, "too large to be read", "a 30-digit integer cut off before its 'e' (found by cargo fuzz: a debug-build panic)"),
    ("absurd-length-2pib.torrent", single("big.iso", 2 * PIB, pieces=hashes(1)), "1 PiB", "a single 2 PiB file"),
    ("absurd-length-u64max.torrent", single("big.iso", (1 << 64) - 1, pieces=hashes(1)), "too large to be read", "a file of 2^64-1 bytes (over i64: librqbit's parser would wrap it)"),
    ("lengths-overflow-u64.torrent", multi("n", [fentry([c], (1 << 63) - 1) for c in "abc"], pieces=hashes(1)), "1 PiB", "three lengths of 2^63-1 whose sum overflows u64"),
    ("lengths-sum-over-pib.torrent", multi("n", [fentry(["f%d" % i], PIB // 3) for i in range(4)], pieces=hashes(1)), "1 PiB", "four files of 1/3 PiB"),
    ("padding-overflow-u64.torrent", multi("n", [fentry(["a"], 100), fentry([".pad", "x"], (1 << 63) - 1, attr="p"), fentry([".pad", "y"], (1 << 63) - 1, attr="p")], pieces=hashes(1)), "1 PiB", "padding entries whose lengths overflow the sum"),
    ("padding-absurd-length.torrent", multi("n", [fentry(["a"], PIECE), fentry([".pad", "x"], (1 << 46) - PIECE, attr="p")], pieces=hashes(1)), "piece hashes", "a 64 TiB padding entry with one piece hash"),
    ("zero-piece-length.torrent", single("a", 100, piece=0, pieces=hashes(1)), "piece length is zero", "piece length 0"),
    ("zero-total-length.torrent", single("a", 0, pieces=b""), "0 length", "a single empty file: nothing to download"),
    # --- piece hashes -------------------------------------------------------------------
    ("pieces-too-few.torrent", single("a", 10 * PIECE, pieces=hashes(3)), "piece hashes", "3 hashes for 10 pieces"),
    ("pieces-too-many.torrent", single("a", 2 * PIECE, pieces=hashes(50)), "piece hashes", "50 hashes for 2 pieces"),
    ("pieces-none.torrent", single("a", 5 * PIECE, pieces=b""), "piece hashes", "no hashes at all"),
    ("pieces-not-multiple-of-20.torrent", single("a", PIECE, pieces=hashes(1) + b"xyz"), "20-byte", "23 bytes of hashes"),
    # --- names and paths ----------------------------------------------------------------
    ("file-name-empty.torrent", multi("n", [fentry([""], 10)]), "empty path component", "a file named ''"),
    ("file-path-empty-list.torrent", multi("n", [fentry([], 10)]), "empty path", "a file with no path components"),
    ("file-path-leading-empty.torrent", multi("n", [fentry(["", "etc", "passwd"], 10)]), "empty path component", "path ['', 'etc', 'passwd'] (a leading slash when joined)"),
    ("torrent-name-empty.torrent", multi("", [fentry(["a"], 10)]), "empty path component", "the torrent's folder named ''"),
    ("single-name-empty.torrent", single("", 10), "empty path component", "a single file named ''"),
    ("duplicate-file-names.torrent", multi("n", [fentry(["dir", "a.txt"], 10), fentry(["dir", "a.txt"], 20)]), "same path", "two files with the same path"),
    ("dotdot-component.torrent", multi("n", [fentry(["..", "escape.txt"], 10)]), "dots", "path ['..', 'escape.txt']"),
    ("dotdot-deep.torrent", multi("n", [fentry(["a", "..", "..", "..", "etc", "cron.d", "evil"], 10)]), "dots", "a path climbing three levels"),
    ("dotdot-in-one-component.torrent", multi("n", [fentry(["../../evil"], 10)]), "separator", "one component '../../evil'"),
    ("absolute-etc-passwd.torrent", multi("n", [fentry(["/etc/passwd"], 10)]), "separator", "component '/etc/passwd'"),
    ("absolute-slash-component.torrent", multi("n", [fentry(["/", "etc", "passwd"], 10)]), "separator", "path ['/', 'etc', 'passwd']"),
    ("single-name-absolute.torrent", single("/etc/passwd", 10), "separator", "a single file named '/etc/passwd'"),
    ("single-name-leading-slash.torrent", single("/evil.bin", 10), "separator", "a single file named '/evil.bin'"),
    ("torrent-name-absolute.torrent", multi("/tmp/evil", [fentry(["a"], 10)]), "separator", "the torrent's folder named '/tmp/evil'"),
    ("nul-in-file-name.torrent", multi("n", [fentry([b"ok\0/../../etc/passwd"], 10)]), "NUL", "a NUL byte inside a file name"),
    ("nul-in-torrent-name.torrent", multi(b"album\0x", [fentry(["a"], 10)]), "NUL", "a NUL byte in the torrent's name"),
    ("nul-only-name.torrent", single(b"\0", 10), "NUL", "a single file named NUL"),
    ("dot-component.torrent", multi("n", [fentry([".", "a"], 10)]), "dots", "path ['.', 'a']"),
    ("three-dots-component.torrent", multi("n", [fentry(["..."], 10)]), "dots", "a file named '...'"),
    ("many-dots-component.torrent", multi("n", [fentry(["d", "." * 40], 10)]), "dots", "a file named 40 dots"),
    ("backslash-traversal.torrent", multi("n", [fentry(["..\\..\\windows\\evil.dll"], 10)]), "separator", "a Windows-style '..\\..\\' path"),
    ("backslash-in-name.torrent", multi("n", [fentry(["a\\b"], 10)]), "separator", "a backslash inside a name"),
    ("torrent-name-dotdot.torrent", multi("..", [fentry(["a"], 10)]), "dots", "the torrent's folder named '..'"),
    ("torrent-name-dot.torrent", multi(".", [fentry(["a"], 10)]), "dots", "the torrent's folder named '.'"),
    ("single-name-dotdot.torrent", single("..", 10), "dots", "a single file named '..'"),
    ("bom-dotdot-component.torrent", multi("album", [fentry([BOM + b"..", BOM + b"..", b"evil"], 10)]), "unsafe path component", "a UTF-8 BOM before '..': librqbit decodes it to '..' (escaped the root before the fix)"),
    ("bom-dotdot-single-name.torrent", single(BOM + b"..", 10), "unsafe path component", "a single file named BOM + '..'"),
    ("bom-only-component.torrent", multi("album", [fentry(["a", BOM], 10)]), "unsafe path component", "a component that is only a BOM (decodes to '')"),
    ("bom-dotdot-torrent-name.torrent", multi(BOM + b"..", [fentry(["a"], 10)]), "unsafe path component", "the torrent's folder named BOM + '..'"),
    # --- symlinks and structure ---------------------------------------------------------
    ("symlink-attr.torrent", multi("n", [fentry(["link"], 0, attr="l", **{"symlink path": ["..", "..", "etc"]}), fentry(["a"], 10)]), "symlink", "a file with attr 'l' and a symlink path"),
    ("symlink-path-only.torrent", multi("n", [fentry(["link"], 10, **{"symlink path": ["/etc/passwd"]})]), "symlink", "a file with only a 'symlink path'"),
    ("symlink-single-file.torrent", single("link", 10, attr="l", **{"symlink path": ["/etc/shadow"]}), "symlink", "a single-file torrent that is a symlink"),
    ("empty-files-list.torrent", multi("n", [], pieces=hashes(1)), "no files", "an empty files list"),
    ("both-length-and-files.torrent", multi("n", [fentry(["a"], 10)], length=10), "both a single-file and a multi-file", "info has both length and files"),
    ("neither-length-nor-files.torrent", raw_torrent({"name": "n", "piece length": PIECE, "pieces": hashes(1)}), "neither a length nor a file list", "info has neither length nor files"),
    ("only-padding-files.torrent", multi("n", [fentry([".pad", "1"], 10, attr="p")]), "no files", "every entry is padding"),
]

# Magnet links: each file holds one link (no trailing newline); trove gets it as argv.
HEX = "0123456789abcdef0123456789abcdef01234567"
MAGNETS = [
    ("magnet-no-xt.magnet", "magnet:?dn=nothing&tr=http%3A%2F%2F127.0.0.1%3A1%2Fa", "not a valid magnet", "no xt parameter"),
    ("magnet-empty.magnet", "magnet:", "not a valid magnet", "just the scheme"),
    ("magnet-bad-hex.magnet", "magnet:?xt=urn:btih:" + "zz" * 20, "not a valid magnet", "40 characters that are not hex"),
    ("magnet-short-hex.magnet", "magnet:?xt=urn:btih:" + HEX[:39], "not a valid magnet", "39 hex characters"),
    ("magnet-long-hex.magnet", "magnet:?xt=urn:btih:" + HEX + "0", "not a valid magnet", "41 hex characters"),
    ("magnet-empty-hash.magnet", "magnet:?xt=urn:btih:", "not a valid magnet", "an empty info-hash"),
    ("magnet-wrong-urn.magnet", "magnet:?xt=urn:sha1:" + HEX, "not a valid magnet", "xt=urn:sha1 instead of urn:btih"),
    ("magnet-btmh-only.magnet", "magnet:?xt=urn:btmh:1220" + "ab" * 32 + "&dn=v2only", "only a v2", "a v2-only (btmh) magnet: trove needs a v1 info-hash"),
    ("magnet-base32-padded.magnet", "magnet:?xt=urn:btih:" + "A" * 26 + "=" * 6, "not a valid magnet", "a padded base32 hash decoding to 16 bytes (panicked librqbit before the fix)"),
    ("magnet-btmh-base32.magnet", "magnet:?xt=urn:btih:" + HEX + "&xt=urn:btmh:1220" + "A" * 56, "v2 info-hash", "a 56-character base32 btmh hash decoding to 35 bytes (panicked librqbit before the fix)"),
    ("magnet-so-huge-range.magnet", "magnet:?xt=urn:btih:" + HEX + "&so=0-1000000000000", "so= file selection", "so=0-10^12: librqbit allocated one entry per index before the fix"),
    ("magnet-so-u64-range.magnet", "magnet:?xt=urn:btih:" + HEX + "&so=0-18446744073709551615", "so= file selection", "so=0-(2^64-1): capacity overflow panic before the fix"),
    ("magnet-bad-percent.magnet", "magnet:?xt=urn:btih:%zz%zz", "not a valid magnet", "a broken percent escape"),
    ("magnet-control-chars.magnet", "magnet:?xt=urn:btih:\x1b[31m" + HEX[:30] + "\x07", "not a valid magnet", "terminal escape sequences inside the hash"),
    ("wrong-scheme-ftp.magnet", "ftp://127.0.0.1/file.torrent", "does not exist", "an ftp:// link (not a magnet or http URL: read as a missing path)"),
]


def main():
    good = os.path.join(HERE, "good")
    bad = os.path.join(HERE, "bad")
    for d in (good, bad):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name, data in [("album.torrent", GOOD), ("padded.torrent", GOOD_PADDED), ("single.torrent", GOOD_SINGLE)]:
        with open(os.path.join(good, name), "wb") as f:
            f.write(data)
    names = set()
    lines = ["# file\texpected substring of the refusal (case-insensitive)\twhat it is"]
    for name, data, expect, what in BAD + [(n, l.encode(), e, w) for n, l, e, w in MAGNETS]:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(bad, name), "wb") as f:
            f.write(data)
        lines.append("bad/%s\t%s\t%s" % (name, expect, what))
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(bad, n)) for n in names)
    print("%d bad inputs (%d bytes), 3 good controls" % (len(names), total))


if __name__ == "__main__":
    main()
