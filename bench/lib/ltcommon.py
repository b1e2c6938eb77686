"""Shared bits of the libtorrent seeders and leecher of bench/throughput.sh."""

import ctypes
import os
import signal

import libtorrent as lt


def die_with_parent():
    """SIGTERM when the process that started us exits (the bench script), so a bench that
    is killed outright leaves no seeder behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass


def make_session(port, extra=None):
    """A loopback-only session: no DHT/LSD/UPnP/NAT-PMP/uTP, no rate limits, several
    connections from 127.0.0.1 allowed. Settings go to the constructor (setting them
    afterwards is not enough for the listen socket)."""
    s = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # rqbit speaks TCP only: keep every peer on TCP.
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "upload_rate_limit": 0,
        "download_rate_limit": 0,
        "active_downloads": -1,
        "active_seeds": -1,
        "active_limit": -1,
        "stop_tracker_timeout": 1,
        "min_announce_interval": 1,
        "alert_mask": lt.alert_category.error | lt.alert_category.status,
        "user_agent": "trove-bench/libtorrent-" + lt.__version__,
    }
    if extra:
        s.update(extra)
    return lt.session(s)


def add_params(torrent, save_path, seed=False):
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    p.save_path = save_path
    flags = p.flags
    flags &= ~lt.torrent_flags.auto_managed
    flags &= ~lt.torrent_flags.paused
    flags |= lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd
    flags |= lt.torrent_flags.disable_pex
    p.flags = flags
    return p


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
