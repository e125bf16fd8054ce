#!/usr/bin/env python3
"""kubectl capsule attach's session against a real peer: a small API server
(Python standard library: http.server, ssl, its own WebSocket framing) over
TLS with a throwaway CA, that answers the calls attach makes (the pod, the
CapsuleRun and Capsule it creates, the run's deletion) and speaks
v5.channel.k8s.io (or v4) on the run's attach subresource. The real binary
runs against it through a pseudo-terminal or with piped stdin.

Checked: the objects created; the request (path, Upgrade headers, key,
protocols, client certificate or bearer token); raw mode on the terminal
during the session and the terminal restored after; the size at the start
and after SIGWINCH; stdin forwarded and its end as the close signal (v5) or
nothing (v4); output byte for byte; a ping answered; the exit code from the
Status; SIGTERM mid-session (terminal restored, 143); a Failure's message; a
connection without a Status; a 403 and a refused run; a wrong
Sec-WebSocket-Accept; --rm and --rm=false.

usage: test_attach_session.py KUBECTL_CAPSULE_BINARY"""

import base64
import fcntl
import hashlib
import http.server
import json
import os
import pty
import select
import signal
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

NS = "shop"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
state = {"runs": {}, "capsules": [], "deleted": [], "attach": {}}
lock = threading.Lock()
failed = []


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def ws_read(rf):
    h = rf.read(2)
    if len(h) < 2:
        return None, None, None
    op, masked, n = h[0] & 0x0F, bool(h[1] & 0x80), h[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", rf.read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", rf.read(8))[0]
    key = rf.read(4) if masked else b""
    data = bytearray(rf.read(n))
    for i in range(len(data)):
        data[i] ^= key[i % 4]
    return op, bytes(data), masked


def ws_send(wf, op, data):
    n = len(data)
    head = bytes([0x80 | op])
    if n < 126:
        head += bytes([n])
    elif n < 65536:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    wf.write(head + data)
    wf.flush()


def status_exit(code):
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(n)) if n else None

    def peer(self):
        cert = self.connection.getpeercert() or {}
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return None

    def do_GET(self):
        base = f"/apis/recap.dev/v1alpha1/namespaces/{NS}/capsuleruns/"
        if self.path.startswith(f"/api/v1/namespaces/{NS}/pods/"):
            name = self.path.rsplit("/", 1)[1]
            if name == "nope":
                return self.reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound",
                                        "code": 404, "message": f'pods "{name}" not found'})
            return self.reply(200, {"metadata": {"name": name, "namespace": NS}})
        if self.path.startswith(base):
            name = self.path[len(base):]
            run = state["runs"].get(name)
            if not run:
                return self.reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
            run = json.loads(json.dumps(run))
            if run["spec"]["targets"][0] == "refused":
                run["status"] = {"phase": "Failed", "conditions": [{
                    "type": "Admitted", "status": "False", "reason": "PolicyDenied",
                    "message": "CapsulePolicy strict: interactive sessions are not allowed"}]}
            return self.reply(200, run)
        sub = f"/apis/subresources.recap.dev/v1alpha1/namespaces/{NS}/capsuleruns/"
        if self.path.startswith(sub) and "/attach?target=" in self.path:
            return self.attach()
        self.reply(404, {"kind": "Status", "code": 404})

    def do_POST(self):
        obj = self.body()
        with lock:
            if self.path.endswith("/capsuleruns"):
                obj["metadata"]["uid"] = "uid-" + obj["metadata"]["name"]
                obj["metadata"]["resourceVersion"] = "1"
                state["runs"][obj["metadata"]["name"]] = obj
            elif self.path.endswith("/capsules"):
                state["capsules"].append(obj)
        self.reply(201, obj)

    def do_DELETE(self):
        with lock:
            state["deleted"].append(self.path.rsplit("/", 1)[1])
        self.reply(200, {"kind": "Status", "status": "Success"})

    def attach(self):
        run, target = self.path.split("/capsuleruns/", 1)[1].split("/attach?target=")
        rec = {"run": run, "headers": dict(self.headers.items()), "peer": self.peer(),
               "auth": self.headers.get("Authorization"), "resizes": [], "stdin": b"",
               "closed_stdin": False, "pong": None, "masked": True}
        with lock:
            state["attach"][target] = rec
        if target == "forbidden":
            return self.reply(403, {
                "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                "code": 403, "message": f'capsuleruns.recap.dev "{run}" is forbidden: User "bob" '
                'cannot create resource "capsuleruns/attach" in API group "subresources.recap.dev"'})
        if target == "refused":
            return self.reply(409, {"kind": "Status", "status": "Failure", "code": 409,
                                    "reason": "Conflict", "message": f"run {run} did not start"})
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if target == "badaccept":
            accept = base64.b64encode(b"x" * 20).decode()
        proto = "v4.channel.k8s.io" if target == "v4" else "v5.channel.k8s.io"
        time.sleep(0.3)  # the server waits for the session to be ready
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("Sec-WebSocket-Protocol", proto)
        self.end_headers()
        self.wfile.flush()
        if target == "badaccept":
            time.sleep(1)
            return
        self.close_connection = True
        self.session(target, rec)

    def session(self, target, rec):
        rf, wf = self.rfile, self.wfile
        out = lambda b: ws_send(wf, 2, b"\x01" + b)  # noqa: E731
        status = lambda s: ws_send(wf, 2, b"\x03" + json.dumps(s).encode())  # noqa: E731
        if target == "fail":
            status({"metadata": {}, "status": "Failure", "reason": "InternalError", "code": 500,
                    "message": "session idle for 900 s"})
            return
        if target == "drop":
            out(b"bye\r\n")
            return
        if target == "pipe":
            ws_send(wf, 9, b"are you there")
        ws_send(wf, 2, b"\x01")  # streams open with an empty message
        while True:
            op, data, masked = ws_read(rf)
            if op is None:
                return
            rec["masked"] = rec["masked"] and masked
            if op == 10:
                rec["pong"] = data
                continue
            if op == 8:
                ws_send(wf, 8, data[:2])
                return
            ch, payload = data[0], data[1:]
            if ch == 4:
                size = json.loads(payload)
                rec["resizes"].append((size["Width"], size["Height"]))
                word = "ready" if len(rec["resizes"]) == 1 else "resize"
                out(f"{word} {size['Width']} {size['Height']}\r\n".encode())
            elif ch == 255:
                rec["closed_stdin"] = payload == b"\x00"
                out(b"\x1b[2J\x9b")  # a terminal's bytes: through as they are
                status(status_exit(0))
            elif ch == 0:
                rec["stdin"] += payload
                out(payload)
                if b"\x04" in payload:  # Ctrl-D: a byte in raw mode
                    status(status_exit(7))
                if target == "v4" and payload.endswith(b"\n"):
                    status(status_exit(3))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def certs(d):
    def run(*a):
        subprocess.run(["openssl", *a], check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt", "-days", "1",
        "-subj", "/CN=attach-test-ca")
    for name, ext in (("srv", "subjectAltName=IP:127.0.0.1"), ("alice", "extendedKeyUsage=clientAuth")):
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(ext + "\n")
        run("req", *ec, "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr",
            "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/ca.crt", "-CAkey",
            f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/{name}.crt", "-days", "1",
            "-extfile", f"{d}/{name}.ext")


def b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def kubeconfig(d, port, user):
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "t",
           "clusters": [{"name": "t", "cluster": {
               "server": f"https://127.0.0.1:{port}",
               "certificate-authority-data": b64file(f"{d}/ca.crt")}}],
           "contexts": [{"name": "t", "context": {"cluster": "t", "user": "u", "namespace": NS}}],
           "users": [{"name": "u", "user": user}]}
    path = f"{d}/kubeconfig-{len(os.listdir(d))}"
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def run_piped(binary, kc, args, stdin=b""):
    p = subprocess.run([binary, "--kubeconfig", kc, "attach", *args], input=stdin,
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def read_until(fd, buf, want, timeout=20):
    end = time.time() + timeout
    while want not in buf[0]:
        left = end - time.time()
        if left <= 0:
            raise Failure(f"no {want!r} on the terminal; got {buf[0]!r}")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise Failure(f"terminal closed before {want!r}; got {buf[0]!r}")
            buf[0] += chunk


def case_tty(binary, kc):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([binary, "--kubeconfig", kc, "attach", "tty", "--image",
                          "reg/busybox:1"], stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True)
    buf = [b""]
    try:
        read_until(master, buf, b"ready 101 33\r\n")
        during = termios.tcgetattr(slave)
        expect(not during[3] & (termios.ICANON | termios.ECHO | termios.ISIG),
               "the terminal is not raw during the session")
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.kill(p.pid, signal.SIGWINCH)
        read_until(master, buf, b"resize 120 40\r\n")
        os.write(master, b"hello\r\x04")
        read_until(master, buf, b"hello\r\x04")
        rc = p.wait(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    expect(rc == 7, f"exit status {rc}, not 7; terminal: {buf[0]!r}")
    expect(after == before, "the terminal's settings were not restored")
    rec = state["attach"]["tty"]
    expect(rec["resizes"] == [(101, 33), (120, 40)], f"resizes {rec['resizes']}")
    expect(rec["stdin"] == b"hello\r\x04", f"stdin {rec['stdin']!r}")
    expect(rec["masked"], "a client frame was not masked")
    run = state["runs"][rec["run"]]
    expect(rec["run"] in state["deleted"], "--rm: the run was not deleted")
    expect(run["spec"]["targets"] == ["tty"], f"run targets {run['spec']}")


def case_tty_signal(binary, kc):
    """SIGTERM mid-session: the terminal is restored, the status is 128 + 15."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    before = termios.tcgetattr(slave)
    p = subprocess.Popen([binary, "--kubeconfig", kc, "attach", "tty-term", "--image", "img"],
                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    buf = [b""]
    try:
        read_until(master, buf, b"ready 80 24\r\n")
        expect(termios.tcgetattr(slave) != before, "the terminal is not raw during the session")
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    after = termios.tcgetattr(slave)
    os.close(master)
    os.close(slave)
    expect(rc == 143, f"exit status {rc}, not 143")
    expect(after == before, "the terminal's settings were not restored after SIGTERM")
    expect(state["attach"]["tty-term"]["run"] in state["deleted"], "--rm after a signal")


def case_pipe(binary, kc):
    rc, out, err = run_piped(binary, kc, ["pipe", "--image", "reg/busybox:1", "-c", "app",
                                          "--rm=false"], b"ls /target\n")
    expect(rc == 0, f"exit status {rc}: {err!r}")
    expect(out == b"ls /target\n\x1b[2J\x9b", f"stdout {out!r}")
    rec = state["attach"]["pipe"]
    expect(rec["resizes"] == [], f"a resize without a terminal: {rec['resizes']}")
    expect(rec["closed_stdin"], "stdin's end did not come as [255, 0]")
    expect(rec["pong"] == b"are you there", f"ping answered with {rec['pong']!r}")
    h = {k.lower(): v for k, v in rec["headers"].items()}
    expect(h.get("upgrade") == "websocket" and h.get("connection") == "Upgrade", f"headers {h}")
    expect(h.get("sec-websocket-version") == "13", f"headers {h}")
    expect(h.get("sec-websocket-protocol") == "v5.channel.k8s.io, v4.channel.k8s.io",
           f"headers {h}")
    expect(len(base64.b64decode(h.get("sec-websocket-key", ""))) == 16, f"key {h}")
    expect(rec["peer"] == "alice" and rec["auth"] is None,
           f"client certificate {rec['peer']}, Authorization {rec['auth']}")
    expect(rec["run"] not in state["deleted"], "--rm=false: the run was deleted")
    expect(f"run {rec['run']} kept".encode() in err, f"stderr {err!r}")
    caps = [c for c in state["capsules"] if c["metadata"]["name"] == rec["run"]]
    expect(len(caps) == 1, "no Capsule")
    spec = caps[0]["spec"]
    expect(spec["interactive"] is True and spec["command"] == ["sh"] and
           spec["session"] == {"attachTimeoutSeconds": 60, "idleTimeoutSeconds": 900} and
           spec["timeoutSeconds"] == 3600 and spec["targets"]["container"] == "app",
           f"Capsule spec {spec}")
    expect(caps[0]["metadata"]["ownerReferences"][0]["uid"] == "uid-" + rec["run"], "owner")


def case_v4_token(binary, kc_token):
    rc, out, err = run_piped(binary, kc_token, ["v4", "--image", "img"], b"x\n")
    rec = state["attach"]["v4"]
    expect(rc == 3, f"exit status {rc}: {err!r}")
    expect(rec["auth"] == "Bearer s3cret" and rec["peer"] is None,
           f"Authorization {rec['auth']}, client certificate {rec['peer']}")
    expect(not rec["closed_stdin"], "a v5 close signal on v4")


def case_failures(binary, kc):
    rc, out, err = run_piped(binary, kc, ["fail", "--image", "img"])
    expect(rc == 1 and b"error: session idle for 900 s" in err, f"fail: {rc} {err!r}")
    rc, out, err = run_piped(binary, kc, ["drop", "--image", "img"])
    expect(rc == 1 and out == b"bye\r\n" and
           b"error: the session ended without an exit status" in err, f"drop: {rc} {out!r} {err!r}")
    rc, out, err = run_piped(binary, kc, ["forbidden", "--image", "img"])
    expect(rc == 1 and b'cannot create resource "capsuleruns/attach"' in err,
           f"forbidden: {rc} {err!r}")
    expect(state["attach"]["forbidden"]["run"] in state["deleted"], "forbidden: run kept")
    rc, out, err = run_piped(binary, kc, ["refused", "--image", "img"])
    expect(rc == 1 and b"did not start" in err and
           b"CapsulePolicy strict: interactive sessions are not allowed" in err,
           f"refused: {rc} {err!r}")
    rc, out, err = run_piped(binary, kc, ["badaccept", "--image", "img"])
    expect(rc == 1 and b"Sec-WebSocket-Accept" in err, f"badaccept: {rc} {err!r}")
    rc, out, err = run_piped(binary, kc, ["nope", "--image", "img"])
    expect(rc == 1 and b'pod "nope" not found' in err and "nope" not in state["attach"],
           f"nope: {rc} {err!r}")


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        certs(d)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(f"{d}/srv.crt", f"{d}/srv.key")
        ctx.load_verify_locations(f"{d}/ca.crt")
        ctx.verify_mode = ssl.CERT_OPTIONAL
        srv = Server(("127.0.0.1", 0), Handler)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        port = srv.server_address[1]
        kc = kubeconfig(d, port, {"client-certificate-data": b64file(f"{d}/alice.crt"),
                                  "client-key-data": b64file(f"{d}/alice.key")})
        kc_token = kubeconfig(d, port, {"token": "s3cret"})
        for name, fn, args in (("terminal", case_tty, (binary, kc)),
                               ("terminal-sigterm", case_tty_signal, (binary, kc)),
                               ("piped", case_pipe, (binary, kc)),
                               ("v4-token", case_v4_token, (binary, kc_token)),
                               ("failures", case_failures, (binary, kc))):
            try:
                fn(*args)
                print(f"ok   {name}", flush=True)
            except (Failure, subprocess.TimeoutExpired, KeyError) as e:
                print(f"FAIL {name}: {e!r}", flush=True)
                failed.append(name)
        srv.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
