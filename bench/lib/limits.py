#!/usr/bin/python3
"""The machine's own limits, measured in the same run as the downloads (bench/throughput.sh).

  limits.py --work-dir DIR [--bytes N] > limits.json

  sha1_mbps      SHA-1 over N bytes in memory on one core (hashlib = OpenSSL, the same
                 SHA-1 that librqbit uses through crypto-hash; libtorrent has its own)
  disk_write_mbps dd of N bytes to DIR with conv=fdatasync (the output disk)
  disk_read_mbps  reading that file back with the page cache dropped (root only)
  loopback_mbps  one TCP stream over 127.0.0.1, 2*N bytes, sender and receiver threads
MB = 10^6 bytes.
"""

import argparse
import hashlib
import json
import os
import socket
import subprocess
import threading
import time


def sha1_speed(total):
    buf = os.urandom(16 << 20)
    h = hashlib.sha1()
    n = 0
    t = time.perf_counter()
    while n < total:
        h.update(buf)
        n += len(buf)
    return n / (time.perf_counter() - t) / 1e6


def drop_caches():
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def disk_speed(work_dir, total):
    path = os.path.join(work_dir, "dd-test.bin")
    mib = max(1, total >> 20)
    try:
        t = time.perf_counter()
        subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=1M", "count=%d" % mib,
                        "conv=fdatasync"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        write = (mib << 20) / (time.perf_counter() - t) / 1e6
        read = None
        if drop_caches():
            buf = bytearray(8 << 20)
            t = time.perf_counter()
            with open(path, "rb", buffering=0) as f:
                while f.readinto(buf):
                    pass
            read = (mib << 20) / (time.perf_counter() - t) / 1e6
        return write, read
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def loopback_speed(total):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = [0]

    def receive():
        c, _ = srv.accept()
        buf = bytearray(1 << 20)
        while True:
            n = c.recv_into(buf)
            if not n:
                break
            got[0] += n
        c.close()

    th = threading.Thread(target=receive)
    th.start()
    cli = socket.create_connection(("127.0.0.1", port))
    chunk = b"\0" * (1 << 20)
    t = time.perf_counter()
    sent = 0
    while sent < total:
        cli.sendall(chunk)
        sent += len(chunk)
    cli.shutdown(socket.SHUT_WR)
    th.join()
    dt = time.perf_counter() - t
    cli.close()
    srv.close()
    return got[0] / dt / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--bytes", type=int, default=1 << 30)
    a = ap.parse_args()
    out = {}
    out["sha1_mbps"] = round(sha1_speed(a.bytes), 1)
    w, r = disk_speed(a.work_dir, a.bytes)
    out["disk_write_mbps"] = round(w, 1)
    out["disk_read_mbps"] = round(r, 1) if r else None
    out["loopback_mbps"] = round(loopback_speed(2 * a.bytes), 1)
    out["bytes"] = a.bytes
    print(json.dumps(out))


if __name__ == "__main__":
    main()
