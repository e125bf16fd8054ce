#!/usr/bin/env python3
"""A small loopback HTTP server that misbehaves on purpose, for the client's
retry, size-limit and watch-framing tests. Prints its port, serves until its
stdin closes (so it never outlives the test that started it)."""
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

counts = {}
# By "relist-*" namespace: the resourceVersion each list and watch asked for.
held = {}
asked = {}
lock = threading.Lock()


def status(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": message, "reason": reason, "code": code}).encode()


def too_large(rv):
    """What an API server answers for a resourceVersion newer than it has."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Timeout: Too large resource version: %s, current: 5" % rv,
            "reason": "Timeout", "code": 504,
            "details": {"causes": [{"reason": "ResourceVersionTooLarge",
                                    "message": "Too large resource version"}],
                        "retryAfterSeconds": 1}}


def timeout():
    """A plain timeout: no cause, nothing to relist for."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Timeout: request did not complete within the allotted timeout",
            "reason": "Timeout", "code": 504, "details": {"retryAfterSeconds": 1}}


def query(path, key):
    params = urllib.parse.parse_qs(path.partition("?")[2], keep_blank_values=True)
    return params.get(key, [""])[0]


def event(name, rv):
    return (json.dumps({"type": "ADDED", "object": {"kind": "ConfigMap",
            "metadata": {"name": name, "resourceVersion": rv}}}) + "\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def count(self):
        key = self.command + " " + self.path.split("?")[0]
        with lock:
            counts[key] = counts.get(key, 0) + 1
            return counts[key]

    def count_watch(self, ns):
        with lock:
            key = "watch " + ns
            counts[key] = counts.get(key, 0) + 1
            return counts[key]

    def send(self, code, body, headers=()):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.count()
        self.send(500, status(500, "InternalError", "write failed"))

    do_PATCH = do_POST

    def do_GET(self):
        n = self.count()
        path = self.path.split("?")[0]
        if path == "/counts":
            return self.send(200, json.dumps(counts).encode())
        if path == "/asked":
            return self.send(200, json.dumps(asked).encode())
        name = path.rsplit("/", 1)[-1]
        if "watch=1" in self.path:
            return self.watch(path.split("/")[4])
        if name == "configmaps" and path.split("/")[4].startswith("relist-"):
            return self.relist_list(path.split("/")[4])
        if name == "flaky":
            if n == 1:
                return self.send(429, status(429, "TooManyRequests", "slow down"), [("Retry-After", "1")])
            if n == 2:
                return self.send(503, status(503, "ServiceUnavailable", "try later"))
            return self.send(200, json.dumps({"kind": "ConfigMap", "metadata": {"name": name}}).encode())
        if name.startswith("held-"):  # held-GROUP-N: answered after 0.3 s; most of GROUP held at once
            group = name.rsplit("-", 1)[0]
            with lock:
                held[group] = held.get(group, 0) + 1
                counts[group + " at once"] = max(counts.get(group + " at once", 0), held[group])
            time.sleep(0.3)
            with lock:
                held[group] -= 1
            return self.send(200, json.dumps({"kind": "ConfigMap", "metadata": {"name": name}}).encode())
        if name == "broken":
            return self.send(500, status(500, "InternalError", "always broken"))
        if name == "big":
            return self.send(200, b'{"pad":"' + b"x" * (2 << 20) + b'"}')
        if name == "big-unsized":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'{"pad":"' + b"x" * (2 << 20) + b'"}')
            self.close_connection = True
            return None
        if name == "stream-16m":  # byte i is i % 251: a reader can check every offset
            n = 16 << 20
            return self.send(200, (bytes(range(251)) * (n // 251 + 1))[:n])
        if name == "notjson":
            return self.send(200, b"<html>proxy error</html>")
        return self.send(404, status(404, "NotFound", name + " not found"))

    def ask(self, ns, what):
        with lock:
            asked.setdefault(ns, []).append(what + " " + query(self.path, "resourceVersion"))
            return len(asked[ns])

    def relist_list(self, ns):
        """Each list is a newer snapshot: its version grows with every request."""
        rv = str(10 * self.ask(ns, "list"))
        body = {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": rv},
                "items": [{"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x",
                                                             "resourceVersion": "5"}}]}
        return self.send(200, json.dumps(body).encode())

    def watch_after_relist(self, ns):
        """The first watch asks for a version this server does not have yet;
        later ones are served (and held open, as a quiet watch is)."""
        rv = query(self.path, "resourceVersion")
        self.ask(ns, "watch")
        if self.count_watch(ns) == 1:
            if ns == "relist-http":
                return self.send(504, json.dumps(too_large(rv)).encode())
            return self.stream(json.dumps({"type": "ERROR", "object": too_large(rv)}).encode() + b"\n")
        return self.stream(b"", hold=5)

    def stream(self, body, hold=0):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(body)
        self.wfile.flush()
        time.sleep(hold)

    def watch(self, ns):
        if ns == "gone":
            return self.send(410, status(410, "Expired", "too old resource version: 1 (5)"))
        if ns == "toolarge":
            self.count_watch(ns)
            return self.send(504, json.dumps(too_large(query(self.path, "resourceVersion"))).encode())
        if ns == "toolarge-event":
            self.count_watch(ns)
            return self.stream(json.dumps({"type": "ERROR", "object": too_large("1")}).encode() + b"\n")
        if ns == "timeout":
            return self.send(504, json.dumps(timeout()).encode())
        if ns.startswith("relist-"):
            return self.watch_after_relist(ns)
        if ns == "busy" and self.count_watch(ns) == 1:
            return self.send(429, status(429, "TooManyRequests", "busy"), [("Retry-After", "2")])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(event("first", "10"))
        if ns == "badjson":
            self.wfile.write(b"this is not json\n")
        elif ns == "truncated":
            self.wfile.write(b'{"type":"ADDED","object":{"metadata":')
        elif ns == "slow":
            self.wfile.flush()
            time.sleep(5)
        elif ns == "longline":
            self.wfile.write(b'{"type":"ADDED","object":{"pad":"' + b"x" * (1 << 20))
        self.wfile.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The client hangs up on purpose (size limits, bad streams).
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


main()
