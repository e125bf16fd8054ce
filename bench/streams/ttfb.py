#!/usr/bin/env python3
"""Time from starting COMMAND to the first byte of its stdout.

    ttfb.py [--pty] EXPECTED COMMAND...
Prints FIRST_MS (milliseconds, one decimal) once EXPECTED has appeared in
COMMAND's stdout, then ends it (SIGTERM, SIGKILL after 2 s): a follower
(`logs -f`) never exits by itself. With --pty, COMMAND's stdin and stdout are
a new terminal (kubectl -t wants one). Fails (status 1) when COMMAND exits
before EXPECTED appeared or after 60 s without it.
"""
import os
import selectors
import subprocess
import sys
import time

LIMIT_S = 60.0


def end(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(2)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    args = sys.argv[1:]
    pty = args[:1] == ["--pty"]
    if pty:
        args = args[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    expected, cmd = args[0].encode(), args[1:]
    if pty:
        master, slave = os.openpty()
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=subprocess.PIPE, start_new_session=True)
        os.close(slave)
        out_fd = master
    else:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out_fd = p.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(out_fd, selectors.EVENT_READ, "out")
    sel.register(p.stderr.fileno(), selectors.EVENT_READ, "err")
    out, err, first = b"", b"", None
    try:
        while first is None:
            left = LIMIT_S - (time.monotonic() - t0)
            events = sel.select(timeout=max(left, 0))
            if not events:
                sys.exit("ttfb: %s: no %r after %.0f s; stdout %r; stderr %r" % (cmd[0], expected, LIMIT_S,
                                                                                 out[-300:], err[-300:]))
            for key, _ in events:
                try:
                    chunk = os.read(key.fd, 65536)
                except OSError:  # a terminal whose other side closed
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fd)
                    if key.data == "out":
                        p.wait()
                        sys.exit("ttfb: %s ended (%d) before %r; stdout %r; stderr %r" % (
                            cmd[0], p.returncode, expected, out[-300:], err[-300:]))
                elif key.data == "out":
                    out += chunk
                    if expected in out:
                        first = time.monotonic()
                else:
                    err += chunk
    finally:
        end(p)
    print("%.1f" % ((first - t0) * 1000))


main()
