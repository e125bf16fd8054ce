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

counts = {}
lock = threading.Lock()


def status(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": message, "reason": reason, "code": code}).encode()


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
        name = path.rsplit("/", 1)[-1]
        if "watch=1" in self.path:
            return self.watch(path.split("/")[4])
        if name == "flaky":
            if n == 1:
                return self.send(429, status(429, "TooManyRequests", "slow down"), [("Retry-After", "1")])
            if n == 2:
                return self.send(503, status(503, "ServiceUnavailable", "try later"))
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
        if name == "notjson":
            return self.send(200, b"<html>proxy error</html>")
        return self.send(404, status(404, "NotFound", name + " not found"))

    def watch(self, ns):
        if ns == "gone":
            return self.send(410, status(410, "Expired", "too old resource version: 1 (5)"))
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
