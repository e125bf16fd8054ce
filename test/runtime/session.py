#!/usr/bin/env python3
"""A client of a run's session socket (runs/<id>/session.sock, SOCK_SEQPACKET,
one Kubernetes channel message per packet: docs/executor-spec.md, "Sessions"),
as caplet's relay is.

    session.py interact SOCK   resize, a command line, stdin closed (^D);
                               the size seen, the output, exit code 3 in the
                               Status; a second client refused meanwhile
    session.py hangup SOCK     starts a sleep, then goes away
    session.py idle SOCK       starts a sleep, then says nothing: the
                               executor ends the session, its Status says why
Exit 0 when every check passed; "ok" and "FAIL" lines as runtime.sh prints them.
"""
import json, os, socket, sys, time

STDIN, STDOUT, ERROR, RESIZE, CLOSE = 0, 1, 3, 4, 255


def fail(msg):
    raise SystemExit(f"FAIL - session: {msg}")


def connect(path, wait=15):
    end = time.time() + wait
    while not os.path.exists(path):
        if time.time() > end:
            fail(f"{path} never appeared")
        time.sleep(0.02)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.settimeout(20)
    return s


class Reader:
    def __init__(self, s):
        self.s, self.out, self.status = s, b"", None

    def until(self, what=None, timeout=20):
        """Reads channel-1 output until `what` is in it (or, None, the Status)."""
        end = time.time() + timeout
        while self.status is None and (what is None or what.encode() not in self.out):
            self.s.settimeout(max(0.1, end - time.time()))
            try:
                m = self.s.recv(65536)
            except socket.timeout:
                fail(f"no {what or 'Status'} within {timeout} s; output {self.out[-300:]!r}")
            if not m:
                fail(f"the socket closed before {what or 'the Status'}; output {self.out[-300:]!r}")
            if len(m) > 32768:
                fail(f"a message of {len(m)} bytes")
            if m[0] == STDOUT:
                self.out += m[1:]
            elif m[0] == ERROR:
                self.status = json.loads(m[1:])
                # exactly one Status, then the executor closes the socket
                rest = self.s.recv(65536)
                if rest:
                    fail(f"a message after the Status: {rest[:100]!r}")
            else:
                fail(f"a message on channel {m[0]}")
        if what is not None and what.encode() not in self.out:
            fail(f"the Status came before {what!r}; output {self.out[-300:]!r}")


def interact(path):
    s = connect(path)
    s.send(bytes([RESIZE]) + b'{"Width":91,"Height":27}')
    # the echoed line must not match what is waited for: hello-$((6*7))
    s.send(bytes([STDIN]) + b"stty size; echo hello-$((6*7)); cat; echo cat-ended-$((2+2)); exit 3\n")
    r = Reader(s)
    r.until("hello-42")
    try:
        second = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        second.connect(path)
        fail("a second client could connect during the session")
    except (FileNotFoundError, ConnectionRefusedError) as e:
        print(f"ok   - session: a second client is refused ({type(e).__name__})")
    time.sleep(0.3)  # cat reads the terminal by now
    s.send(bytes([CLOSE, STDIN]))
    r.until()
    if b"27 91" not in r.out:
        fail(f"stty size did not see 27 91 (the resize): {r.out[-300:]!r}")
    print("ok   - session: the resize reaches the command's terminal")
    print("ok   - session: stdin and output go through the socket")
    if b"cat-ended-4" not in r.out:
        fail(f"closing stdin did not end cat: {r.out[-300:]!r}")
    print("ok   - session: stdin closed (255, 0) is EOF to the command")
    st = r.status
    causes = st.get("details", {}).get("causes", [])
    if st.get("status") != "Failure" or st.get("reason") != "NonZeroExitCode" or \
            causes != [{"reason": "ExitCode", "message": "3"}]:
        fail(f"the Status is not exit code 3: {st}")
    print("ok   - session: the Status on channel 3 carries exit code 3")


def hangup(path):
    s = connect(path)
    s.send(bytes([STDIN]) + (f"echo sleeping-$((1+1)); sleep {sys.argv[3]}\n").encode())
    Reader(s).until("sleeping-2")
    time.sleep(0.3)
    s.close()


def idle(path):
    s = connect(path)
    s.send(bytes([STDIN]) + (f"sleep {sys.argv[3]}\n").encode())
    r = Reader(s)
    t0 = time.time()
    r.until(timeout=40)
    msg = r.status.get("message", "")
    if r.status.get("status") != "Failure" or "idle for 10 s" not in msg:
        fail(f"the Status does not say the session was idle: {r.status}")
    print(f"ok   - session: an idle session ends after {time.time() - t0:.1f} s, its Status says so")


{"interact": interact, "hangup": hangup, "idle": idle}[sys.argv[1]](sys.argv[2])
