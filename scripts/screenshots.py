#!/usr/bin/python3
"""Makes the PNGs in screenshots/ from a real run of the trove binary.

Local libtorrent seeders (127.0.0.1 only, DHT/LSD/UPnP off, capped so transfers stay in
progress) serve a few torrents; trove runs in tmux; each screen is captured with colours
(`capture-pane -e`), turned into HTML by `aha` and rendered to PNG by headless Chromium.

One more torrent, a large film, is already complete in a "scratch" root on /dev/shm (tmpfs,
another filesystem than the other roots): trove adopts it (checks it, downloads nothing),
and the library view moves it to the "movies" root, a real copy across filesystems whose
progress is captured while it runs.

Needs Debian's python3-libtorrent, tmux, aha and chromium (scripts/screenshots.sh installs
them). Run: scripts/screenshots.sh
"""
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "loopback"))
import loopback  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TROVE = os.path.join(REPO, "target", "release", "trove")
OUT = os.path.join(REPO, "screenshots")
COLS, ROWS = 120, 36
# The film moved across filesystems: large enough that its copy lasts a few seconds.
FILM = "Sintel (2010) 2160p"
FILM_BYTES = 3 << 30


def make_payload(base, name, files, seed, torrent_dir=None, block=1 << 20, piece=64 * 1024):
    """Writes the files under base/name and its .torrent (in torrent_dir, else base). With
    a larger `block`, one random block is written again and again: quick to make, and just
    as good for hashing."""
    rnd = __import__("random").Random(seed)
    chunk = rnd.randbytes(block) if block > 1 << 20 else None
    for rel, size in files:
        path = os.path.join(base, name, rel) if len(files) > 1 else os.path.join(base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            left = size
            while left:
                n = min(left, block)
                f.write(chunk[:n] if chunk else rnd.randbytes(n))
                left -= n
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(base, name))
    ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(ct, base)
    tpath = os.path.join(torrent_dir or base, name + ".torrent")
    with open(tpath, "wb") as f:
        f.write(lt.bencode(ct.generate()))
    return tpath


class Tmux:
    def __init__(self, socket_name):
        self.sock = socket_name

    def run(self, *args, check=True):
        return subprocess.run(["tmux", "-L", self.sock, *args], check=check,
                              capture_output=True, text=True).stdout

    def keys(self, *keys):
        self.run("send-keys", "-t", "main", *keys)

    def paste(self, text):
        self.run("set-buffer", "-b", "p", text)
        self.run("paste-buffer", "-p", "-b", "p", "-t", "main")

    def screen(self, colours=False):
        args = ["capture-pane", "-p", "-t", "main"] + (["-e"] if colours else [])
        return self.run(*args)

    def wait(self, what, pred, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.1)
        raise SystemExit(f"timed out waiting for {what}:\n{self.screen()}")


def render(tmux, name, light=False):
    """Captures the pane with colours and renders it to screenshots/NAME.png."""
    ansi = tmux.screen(colours=True)
    work = tempfile.mkdtemp(prefix="trove-shot")
    try:
        body = subprocess.run(["aha", "--no-header"] + ([] if light else ["--black"]),
                              input=ansi, capture_output=True, text=True, check=True).stdout
        bg, fg = ("#fafafa", "#202020") if light else ("#121212", "#d0d0d0")
        page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(name)}</title>
<style>
html,body{{margin:0;background:{bg};color:{fg}}}
pre{{margin:12px;font-family:'DejaVu Sans Mono',monospace;font-size:14px;line-height:17px;}}
</style><pre>{body}</pre>"""
        page_path = os.path.join(work, "page.html")
        with open(page_path, "w") as f:
            f.write(page)
        width, height = int(COLS * 8.5) + 40, ROWS * 17 + 30
        out = os.path.join(OUT, name + ".png")
        subprocess.run([
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={work}/profile", "--hide-scrollbars",
            f"--window-size={width},{height}", f"--screenshot={out}", f"file://{page_path}",
        ], check=True, capture_output=True, timeout=60)
        print("wrote", os.path.relpath(out, REPO))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="trove-screens")
    cleanup = [work]
    tmux = Tmux(f"trove-shots-{os.getpid()}")
    try:
        payload = os.path.join(work, "payload")
        torrents = [
            ("Debian 12.8 netinst.iso", [("x", 48 << 20)], 900 << 10),
            ("Big Buck Bunny (2008) 1080p", [("Big Buck Bunny.mkv", 40 << 20), ("Subs/en.srt", 60_000),
                                              ("Subs/de.srt", 58_000), ("poster.jpg", 250_000)], 1200 << 10),
            ("Goldberg Variations - Glenn Gould (1981)", [(f"CD1/{i:02d} Variatio {i}.flac", 3 << 20) for i in range(1, 9)]
             + [("cover.jpg", 400_000), ("Goldberg.cue", 2_000)], 700 << 10),
            ("Arch Linux 2026.11.01 x86_64", [("x", 12 << 20)], 0),
        ]
        port = loopback.free_port()
        # No alerts: nothing reads them.
        sess = loopback.session(port, "trove-screenshots", alert_mask=0)
        made = []
        for i, (name, files, cap) in enumerate(torrents):
            tpath = make_payload(payload, name, files, seed=i + 1)
            ti = lt.torrent_info(tpath)
            h = sess.add_torrent({"ti": ti, "save_path": payload})
            if cap:
                h.set_upload_limit(cap)
            made.append((name, tpath, ti))
        deadline = time.time() + 60
        while not all(h.status().is_seeding for h in sess.get_torrents()):
            if time.time() > deadline:
                raise SystemExit("seeders did not finish checking")
            time.sleep(0.1)

        roots = {lbl: os.path.join(work, "roots", lbl) for lbl in ["movies", "linux-isos", "music"]}
        # The scratch root on tmpfs, so that moving out of it is a copy with progress.
        shm = tempfile.mkdtemp(prefix="trove-screens", dir="/dev/shm") if os.path.isdir("/dev/shm") else work
        cleanup.append(shm)
        roots["scratch"] = os.path.join(shm, "scratch")
        for p in roots.values():
            os.makedirs(p)
        if os.stat(roots["scratch"]).st_dev == os.stat(roots["movies"]).st_dev:
            print("note: /dev/shm is not another filesystem here: the move is a rename, too quick to show")
        # What sits in a root and belongs to no torrent: the library lists it as an orphan.
        make_payload(roots["movies"], "Old Downloads", [("holiday.mp4", 3 << 20), ("notes.txt", 2_000)], seed=8,
                     torrent_dir=work)
        os.remove(os.path.join(work, "Old Downloads.torrent"))
        film = make_payload(roots["scratch"], FILM, [("Sintel.2010.2160p.mkv", FILM_BYTES), ("Sintel.en.srt", 40_000)],
                            seed=9, torrent_dir=work, block=16 << 20, piece=1 << 20)
        cfg = os.path.join(work, "config.toml")
        with open(cfg, "w") as f:
            for i, (lbl, p) in enumerate(roots.items()):
                f.write(f'[[roots]]\nlabel = "{lbl}"\npath = "{p}"\n' + ("default = true\n" if i == 0 else "") + "\n")
            f.write(f'[limits]\nupload = "1MiB"\n\n[network]\nlisten_port = {loopback.free_port()}\nbind = "127.0.0.1"\n'
                    'dht = false\nlsd = false\nupnp = false\n')
        data = os.path.join(work, "data")
        base = [TROVE, "--data-dir", data, "--config", cfg]
        peer = f"127.0.0.1:{port}"
        # The Arch ISO finishes first (uncapped) and seeds; the others stay in progress.
        for (name, tpath, _), root in zip(made, ["linux-isos", "movies", "music", "linux-isos"]):
            if name.startswith("Goldberg"):
                continue  # added through the dialog below
            subprocess.run(base + ["add", tpath, "--root", root, "--peer", peer], check=True,
                           capture_output=True)
        # Its data is there already: trove checks it and seeds it, downloading nothing.
        subprocess.run(base + ["add", film, "--root", "scratch"], check=True, capture_output=True)

        def start(theme):
            tmux.run("kill-server", check=False)
            # The previous instance saves and releases the data dir as it exits.
            deadline = time.time() + 30
            while subprocess.run(base + ["list"], capture_output=True).returncode != 0:
                if time.time() > deadline:
                    raise SystemExit("the data dir stayed locked")
                time.sleep(0.2)
            cmd = " ".join(f"'{a}'" for a in base + ["--theme", theme, "--refresh-ms", "500"])
            tmux.run("new-session", "-d", "-s", "main", "-x", str(COLS), "-y", str(ROWS),
                     f"env TERM=xterm-256color COLORTERM=truecolor {cmd}")
            tmux.wait("the dashboard", lambda s: "Torrents" in s)

        start("default")
        # Add the third torrent through the dialog: paste its magnet, pick the music root.
        tmux.keys("a")
        tmux.wait("add dialog", lambda s: "Add a torrent" in s)
        gould = next(m for m in made if m[0].startswith("Goldberg"))
        tmux.paste(lt.make_magnet_uri(gould[2]) + f"&x.pe={peer}")
        tmux.keys("Tab", "Down", "Down")
        tmux.wait("music chosen", lambda s: "(•) music" in s)
        render(tmux, "add-dialog")
        tmux.keys("Enter")
        tmux.wait("three torrents, one seeding",
                  lambda s: "seeding" in s and "Goldberg" in s and "downloading" in s, timeout=90)
        time.sleep(3)  # let the rate graphs and ETAs fill in: this is a picture, not a test
        tmux.keys("j")
        render(tmux, "dashboard")
        tmux.keys("2")
        time.sleep(1.5)
        render(tmux, "detail-files")
        tmux.keys("3")
        time.sleep(2.5)
        render(tmux, "detail-peers")
        tmux.keys("4")
        time.sleep(1.5)
        render(tmux, "detail-pieces")
        tmux.keys("1", "L")
        time.sleep(1.5)
        render(tmux, "log-pane")
        tmux.keys("L", "?")
        time.sleep(0.5)
        render(tmux, "help")
        tmux.keys("Escape")

        # Marks: Space marks the torrent under the cursor and goes down a row.
        tmux.keys("g", "Space", "j", "Space")
        tmux.wait("two marked", lambda s: "2 marked" in s)
        render(tmux, "marks")
        tmux.keys("u")

        # The library view; the film (adopted in scratch) moves to movies from there.
        tmux.wait("the film seeding", lambda s: any("Sintel" in l and "seeding" in l for l in s.splitlines()),
                  timeout=120)
        tmux.keys("R")
        tmux.wait("the library", lambda s: "Sintel" in s and "not part of any torrent" in s)
        for _ in range(40):
            if "▸ Sintel" in tmux.screen():
                break
            tmux.keys("j")
            time.sleep(0.1)
        tmux.keys("m")
        tmux.wait("the root picker", lambda s: "Move to another root" in s)
        for _ in range(5):
            if "(•) movies" in tmux.screen():
                break
            tmux.keys("Down")
            time.sleep(0.1)
        tmux.keys("Enter")
        def copied(screen, lo, hi):
            """True when the screen shows the film's move between lo and hi percent."""
            m = re.search(r"moving to movies: .*?(\d+)%", screen) or re.search(r"moving (\d+)%", screen)
            return m is not None and lo <= int(m.group(1)) <= hi

        # Caught in the middle of the copy, where a picture says most.
        tmux.wait("the move under way", lambda s: copied(s, 20, 90), timeout=60)
        render(tmux, "library")
        tmux.keys("Escape")
        tmux.wait("the move in the table", lambda s: "Torrents" in s and "Library" not in s and copied(s, 1, 99),
                  timeout=30)
        render(tmux, "move-progress")
        tmux.wait("the move done", lambda s: "moving " not in s, timeout=120)
        tmux.keys("q")
        time.sleep(1)

        start("light")
        time.sleep(2)
        tmux.keys("j")
        time.sleep(1)
        render(tmux, "light-theme", light=True)
        tmux.keys("q")
    finally:
        tmux.run("kill-server", check=False)
        for d in cleanup:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
