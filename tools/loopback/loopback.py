#!/usr/bin/python3
"""BitTorrent on 127.0.0.1 for trove's tests, benches and scripts: the one place that says
how a local libtorrent peer is set up, how a seeder or leecher starts, how opentracker is
launched and how a free port is picked.

Users: tools/loopback/peer.py (the JSON-lines peer the Rust tests drive), bench/lib/swarm.py,
bench/throughput.sh (the `seed` and `leech` commands below), bench/lib/common.sh,
scripts/soak and scripts/screenshots.py. Import it with
    sys.path.insert(0, "<repo>/tools/loopback"); import loopback

Run with /usr/bin/python3: Debian's python3-libtorrent imports only under that interpreter.
Everything listens and dials on 127.0.0.1 only; DHT, LSD, UPnP, NAT-PMP and uTP are off.

As a program:
  loopback.py free-port
      Prints a port free for TCP and UDP on 127.0.0.1 (see free_port).
  loopback.py opentracker --dir D --port P [--allow HASH]... [--allow-from TORRENTS_JSON]
      Writes D/whitelist and execs opentracker on 127.0.0.1:P in whitelist mode (same pid,
      so a shell's $! is opentracker's). Debian's build is whitelist-only, refuses to run
      as root (it switches to nobody) and chroots into D.
  loopback.py seed --port P --torrent T --save-path D [--dial-file F] [--check-timeout S]
      Checks the payload under D, prints "seeding <port>", seeds until SIGTERM/SIGINT or
      until the process that started it is gone. On SIGUSR1 it dials every host:port listed
      in F (one a line): transmission-cli ignores 127.x peers handed out by a tracker.
  loopback.py leech --torrent T --save-path D [--port P] [--peer HOST:PORT]... [--timeout S]
      Downloads one torrent (dialling the given peers and announcing to its tracker),
      prints "complete <bytes> bytes" and exits 0 once every piece is hash-checked.
"""

import argparse
import ctypes
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time

try:
    import libtorrent as lt
except ImportError:  # free-port and opentracker do not need it
    lt = None

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
PEER_PY = os.path.join(HERE, "peer.py")

# An empty opentracker whitelist counts as missing and lets every hash in: always list this.
DUMMY_HASH = "0" * 40


def _need_lt():
    if lt is None:
        raise SystemExit("%s cannot import libtorrent: apt-get install python3-libtorrent"
                         % sys.executable)


# --------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------

PORT_LO, PORT_HI = 20000, 32000


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1, in 20000-31999: below Linux's
    ephemeral range (32768+), so an outgoing connection cannot grab it before the server
    binds. The same policy as `free_port` in crates/trove-testkit; each call starts at a
    random place in the range, so separate processes rarely pick the same port."""
    span = PORT_HI - PORT_LO
    start = random.randrange(span)
    for i in range(span):
        port = PORT_LO + (start + i) % span
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            tcp.bind(("127.0.0.1", port))
            udp.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            tcp.close()
            udp.close()
    raise SystemExit("no free port in %d-%d" % (PORT_LO, PORT_HI - 1))


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------


def die_with_parent(sig=signal.SIGTERM):
    """`sig` when the process that started us exits, so a bench or script that is killed
    outright leaves no peer behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(sig), 0, 0, 0)
    except OSError:
        pass


# --------------------------------------------------------------------------------------
# libtorrent sessions and torrents
# --------------------------------------------------------------------------------------


def settings(port, user_agent="trove-loopback", **extra):
    """The settings every local peer shares; `extra` adds or overrides some."""
    _need_lt()
    s = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # rqbit (trove's engine) speaks TCP only: keep every peer on TCP.
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        # Every peer is 127.0.0.1.
        "allow_multiple_connections_per_ip": True,
        "upload_rate_limit": 0,
        "download_rate_limit": 0,
        # Torrents are never queued behind others: a caller adds what it wants active.
        "active_downloads": -1,
        "active_seeds": -1,
        "active_limit": -1,
        "active_checking": 4,
        # Do not linger on shutdown announcing "stopped" to a tracker that may be gone.
        "stop_tracker_timeout": 1,
        "tracker_completion_timeout": 10,
        "tracker_receive_timeout": 5,
        # Re-announce quickly so a second peer does not wait long for the first.
        "min_announce_interval": 1,
        "alert_mask": lt.alert_category.error | lt.alert_category.status,
        "alert_queue_size": 10000,
        "user_agent": "%s/libtorrent-%s" % (user_agent, lt.__version__),
    }
    s.update(extra)
    return s


def session(port, user_agent="trove-loopback", **extra):
    """A loopback-only session listening on 127.0.0.1:`port` (0: any). Settings go to the
    constructor: setting them afterwards is not enough for the listen socket."""
    return lt.session(settings(port, user_agent, **extra))


def wait_listening(ses, timeout=10.0):
    """Returns the port once `ses` listens; exits the program if it cannot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for a in ses.pop_alerts():
            if isinstance(a, lt.listen_failed_alert):
                raise SystemExit("listen failed: %s" % a.message())
        if ses.listen_port() != 0:
            return ses.listen_port()
        ses.wait_for_alert(50)
    raise SystemExit("session did not start listening within %.0f s" % timeout)


def info_hash(t):
    """The v1 info-hash (hex) of a torrent_info or torrent_handle."""
    return str(t.info_hashes().v1)


def add_params(torrent, save_path, seed_mode=False, pex=True):
    """Parameters to add `torrent` active at once (not auto-managed, not paused), without
    DHT or LSD; `seed_mode` skips the check of a payload known to be complete."""
    _need_lt()
    p = lt.add_torrent_params()
    p.ti = torrent if isinstance(torrent, lt.torrent_info) else lt.torrent_info(torrent)
    p.save_path = save_path
    flags = p.flags
    flags &= ~lt.torrent_flags.auto_managed
    flags &= ~lt.torrent_flags.paused
    flags |= lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd
    if not pex:
        flags |= lt.torrent_flags.disable_pex
    if seed_mode:
        flags |= lt.torrent_flags.seed_mode
    p.flags = flags
    return p


def set_upload_limit(h, bytes_per_sec):
    """Per-torrent cap (0: none): the session-wide limit does not apply to local peers."""
    h.set_upload_limit(bytes_per_sec if bytes_per_sec > 0 else -1)


class NotSeeding(Exception):
    pass


def wait_seeding(ses, handles, timeout, on_alert=None, stop=lambda: False):
    """Waits until every handle seeds (its payload checked). Raises NotSeeding on a torrent
    error or after `timeout` s; returns early, False, once `stop()` is true."""
    deadline = time.monotonic() + timeout
    while not stop():
        pending = [h for h in handles if not h.status().is_seeding]
        if not pending:
            return True
        st = pending[0].status()
        ih = info_hash(pending[0])
        if st.errc.value() != 0:
            raise NotSeeding("%s: %s" % (ih, st.errc.message()))
        if time.monotonic() > deadline:
            raise NotSeeding("%s: not seeding after %.0f s (state %s, progress %.3f);"
                             " is the payload under save_path?"
                             % (ih, timeout, st.state, st.progress))
        ses.wait_for_alert(50)
        for a in ses.pop_alerts():
            if on_alert:
                on_alert(a)
    return False


# --------------------------------------------------------------------------------------
# opentracker
# --------------------------------------------------------------------------------------


def write_whitelist(tracker_dir, hashes):
    """tracker_dir/whitelist listing `hashes`, readable by the user opentracker becomes."""
    os.makedirs(tracker_dir, exist_ok=True)
    os.chmod(tracker_dir, 0o755)
    lines = [DUMMY_HASH]
    for h in hashes:
        h = h.lower()
        if len(h) != 40 or any(c not in "0123456789abcdef" for c in h):
            raise SystemExit("bad info-hash %r" % h)
        lines.append(h)
    path = os.path.join(tracker_dir, "whitelist")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o644)


def opentracker_argv(tracker_dir, port):
    return ["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port),
            "-A", "127.0.0.1", "-d", tracker_dir, "-w", "whitelist", "-u", "nobody"]


def cmd_opentracker(a):
    hashes = list(a.allow)
    for path in a.allow_from:
        with open(path) as f:
            hashes += [t["info_hash"] for t in json.load(f)]
    write_whitelist(a.dir, hashes)
    argv = opentracker_argv(a.dir, a.port)
    os.execvp(argv[0], argv)


# --------------------------------------------------------------------------------------
# A peer.py process driven over JSON lines
# --------------------------------------------------------------------------------------


class PeerClient:
    """One peer.py process (a libtorrent session on 127.0.0.1) and its request channel."""

    def __init__(self, stderr_path):
        self.err = open(stderr_path, "ab")
        self.proc = subprocess.Popen(
            [PYTHON, PEER_PY, "--port", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            close_fds=True,
        )
        self.lines = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._pump, daemon=True).start()
        first = self._read(30)
        if first is None or not first.get("ready"):
            self.kill()
            raise RuntimeError("peer.py did not become ready: %r" % (first,))
        self.port = first["port"]
        self.pid = self.proc.pid

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            raise RuntimeError("peer.py (pid %d) exited" % self.proc.pid)
        return json.loads(line)

    def request(self, req, timeout=30.0):
        self.next_id += 1
        rid = self.next_id
        req = dict(req, id=rid)
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("peer.py: no reply to %s within %.0f s" % (req["op"], timeout))
            rep = self._read(left)
            if rep is None:
                continue
            if rep.get("id") != rid:
                continue  # a late answer to a request we gave up on
            if not rep.get("ok"):
                raise RuntimeError("peer.py %s: %s" % (req["op"], rep.get("error")))
            return rep

    def quit(self):
        try:
            self.request({"op": "quit"}, timeout=5)
        except Exception:
            pass
        try:
            self.proc.stdin.close()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        self.err.close()

    def kill(self):
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except Exception:
            pass


# --------------------------------------------------------------------------------------
# seed, leech: one torrent each, for bench/throughput.sh
# --------------------------------------------------------------------------------------


def cmd_seed(a):
    die_with_parent()
    parent = os.getppid()
    state = {"stop": False, "dial": False}

    def on_stop(*_):
        state["stop"] = True

    def on_dial(*_):
        state["dial"] = True

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGUSR1, on_dial)

    ses = session(a.port, "trove-bench")
    h = ses.add_torrent(add_params(a.torrent, a.save_path, pex=False))
    set_upload_limit(h, 0)
    try:
        if not wait_seeding(ses, [h], a.check_timeout, stop=lambda: state["stop"]):
            os._exit(0)
    except NotSeeding as e:
        sys.exit("seeder: %s" % e)
    print("seeding %d" % ses.listen_port(), flush=True)

    while not state["stop"]:
        if state["dial"]:
            state["dial"] = False
            try:
                with open(a.dial_file) as f:
                    for line in f:
                        line = line.strip()
                        if line:
                            h.connect_peer(parse_hostport(line))
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


def cmd_leech(a):
    die_with_parent()
    os.makedirs(a.save_path, exist_ok=True)
    ses = session(a.port, "trove-bench")
    h = ses.add_torrent(add_params(a.torrent, a.save_path, pex=False))
    for p in a.peer:
        h.connect_peer(parse_hostport(p))
    deadline = time.monotonic() + a.timeout
    while True:
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert)):
                sys.stderr.write("leech: %s\n" % al.message())
                sys.stderr.flush()
                os._exit(1)
        st = h.status()
        if st.is_seeding:
            break
        if time.monotonic() > deadline:
            sys.stderr.write("leech: timed out at %.1f%%\n" % (st.progress * 100))
            sys.stderr.flush()
            os._exit(1)
        ses.wait_for_alert(50)
    sys.stdout.write("complete %d bytes\n" % st.total_wanted_done)
    sys.stdout.flush()
    # libtorrent writes through mmap, so the data is in the page cache already, as it is
    # for the other clients at exit: skip the orderly teardown.
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="BitTorrent on 127.0.0.1 (see the module doc)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port")
    t = sub.add_parser("opentracker")
    t.add_argument("--dir", required=True)
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--allow", action="append", default=[])
    t.add_argument("--allow-from", action="append", default=[])
    s = sub.add_parser("seed")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--torrent", required=True)
    s.add_argument("--save-path", required=True)
    s.add_argument("--dial-file")
    s.add_argument("--check-timeout", type=float, default=600)
    le = sub.add_parser("leech")
    le.add_argument("--torrent", required=True)
    le.add_argument("--save-path", required=True)
    le.add_argument("--port", type=int, default=0)
    le.add_argument("--peer", action="append", default=[])
    le.add_argument("--timeout", type=float, default=1800)
    a = ap.parse_args()
    if a.cmd == "free-port":
        print(free_port())
    elif a.cmd == "opentracker":
        cmd_opentracker(a)
    elif a.cmd == "seed":
        _need_lt()
        cmd_seed(a)
    elif a.cmd == "leech":
        _need_lt()
        cmd_leech(a)


if __name__ == "__main__":
    main()
