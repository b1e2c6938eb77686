#!/usr/bin/python3
"""launch.py STAMP_FILE GO_FIFO CMD...: waits for a line on GO_FIFO, writes the wall-clock
time (ns since the epoch) to STAMP_FILE, then execs CMD in this process (same pid, same
pty). Lets a bench start the clock at the very exec of a program whose output tmux is
already piping (see stamp.py)."""

import os
import sys


def main():
    stamp, fifo, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(fifo) as f:
        f.readline()
    t = __import__("time").time_ns()
    with open(stamp, "w") as f:
        f.write("%d\n" % t)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()
