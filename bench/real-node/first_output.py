#!/usr/bin/env python3
"""Time from starting COMMAND to EXPECTED in its stdout, and to its exit.

    first_output.py EXPECTED COMMAND...
Prints "FIRST_MS EXIT_MS" (milliseconds, one decimal): FIRST_MS is when the
bytes read from COMMAND's stdout first hold EXPECTED (not their first byte:
`kubectl capsule run` prints the tool's stderr there too). Fails (status 1)
when COMMAND exits non-zero or EXPECTED never appears in its stdout; gives up
after 120 s.
"""
import os
import selectors
import subprocess
import sys
import time

LIMIT_S = 120.0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    expected, cmd = sys.argv[1].encode(), sys.argv[2:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    sel.register(p.stderr, selectors.EVENT_READ)
    out, err, first, open_streams = b"", b"", None, 2
    while open_streams:
        left = LIMIT_S - (time.monotonic() - t0)
        if left <= 0:
            p.kill()
            p.wait()
            sys.exit("first_output: %s: no exit after %.0f s" % (cmd[0], LIMIT_S))
        for key, _ in sel.select(timeout=left):
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
            elif key.fileobj is p.stdout:
                out += chunk
                if first is None and expected in out:
                    first = time.monotonic()
            else:
                err += chunk
    rc = p.wait()
    t_exit = time.monotonic()
    if rc != 0 or expected not in out or first is None:
        sys.exit("first_output: %s exited %d; stdout %r; stderr %r" % (cmd[0], rc, out[-300:], err[-300:]))
    print("%.1f %.1f" % ((first - t0) * 1000, (t_exit - t0) * 1000))


main()
