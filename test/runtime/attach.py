#!/usr/bin/env python3
"""Drives `capsule attach` through a real pseudo-terminal: a prompt, a command,
the window size seen inside (and a resize), Ctrl-C reaching the command, and
Ctrl-D ending the shell, after which the executor escapes.

    attach.py CAPSULE_ARGV...           (exit 0 when every check passed)
    attach.py --first-size CAPSULE_ARGV... -- stty size
        the terminal has its size before capsule starts: the command's very
        first look at its own terminal must see it (never 0x0)
"""
import fcntl, os, pty, select, signal, struct, sys, termios, time

def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

def first_size():
    pid, fd = pty.fork()
    if pid == 0:
        set_size(0, 27, 91)
        os.execv(sys.argv[2], sys.argv[2:])
    out = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    if b"27 91" not in out:
        raise SystemExit(f"FAIL: the first command saw {out[-300:]!r}, not '27 91' (status {status})")
    print("ok   - attach: the command's first look at its terminal sees the caller's size")

def main():
    if sys.argv[1] == "--first-size":
        return first_size()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], sys.argv[1:])
    set_size(fd, 30, 100)
    buf = b""

    def expect(what, timeout=10):
        nonlocal buf
        end = time.time() + timeout
        while what.encode() not in buf:
            left = end - time.time()
            if left <= 0:
                raise SystemExit(f"FAIL: did not see {what!r}; got {buf[-400:]!r}")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise SystemExit(f"FAIL: EOF before {what!r}; got {buf[-400:]!r}")
                buf += data
        i = buf.index(what.encode()) + len(what)
        buf = buf[i:]

    def send(s):
        os.write(fd, s.encode())

    send("echo ready-$((40+2))\r")
    expect("ready-42")
    print("ok   - attach: a shell answers through the PTY")
    send("stty size\r")
    expect("30 100")
    print("ok   - attach: the window size reaches the PTY")
    set_size(fd, 41, 132)
    os.kill(pid, signal.SIGWINCH)
    time.sleep(0.2)
    send("stty size\r")
    expect("41 132")
    print("ok   - attach: a resize (SIGWINCH) reaches the PTY")
    # once the shell printed the marker the terminal is back in cooked
    # mode, so the control characters below are interpreted by it
    send("echo sleep-$((3+4)); sleep 100\r")
    expect("sleep-7")
    time.sleep(0.3)
    t0 = time.time()
    send("\x03")
    send("echo after-$((1+1))\r")
    expect("after-2")
    if time.time() - t0 > 5:
        raise SystemExit("FAIL: Ctrl-C did not interrupt sleep")
    print("ok   - attach: Ctrl-C interrupts the command, not the session")
    send("tty\r")
    expect("/dev/pts/")
    print("ok   - attach: the terminal has a name inside the capsule")
    send("echo cat-$((5+5)); cat; echo cat-ended-$((2+2))\r")
    expect("cat-10")
    time.sleep(0.3)
    send("\x04")
    expect("cat-ended-4")
    print("ok   - attach: Ctrl-D reaches the command (EOF)")
    send("exit 0\r")
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise SystemExit(f"FAIL: attach ended with status {status}")
    print("ok   - attach: exit ends the session and attach exits 0")

main()
