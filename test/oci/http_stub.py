#!/usr/bin/env python3
"""Misbehaving registries for the tests.

  http_stub.py redirect PORT TARGET   every GET answers 307 to http://TARGET<path>
  http_stub.py status PORT CODE LOG   every GET answers CODE and appends a line to LOG
  http_stub.py hang PORT              every GET is read and never answered
  http_stub.py drip PORT TARGET       every GET is relayed to http://TARGET; a
                                      blob over 4 KiB is sent 2 bytes a second
                                      (above curl's old 1 byte/s stall floor)
"""
import sys
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

MODE, PORT = sys.argv[1], int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def drip(self):
        req = urllib.request.Request("http://" + sys.argv[3] + self.path,
                                     headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, headers, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        self.send_response(status)
        for k in ("Content-Type", "Docker-Content-Digest"):
            if headers.get(k):
                self.send_header(k, headers[k])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if "/blobs/" not in self.path or len(body) <= 4096:
            self.wfile.write(body)
            return
        try:
            for b in body:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:  # the client gave up: what the test wants
            pass

    def do_GET(self):
        if MODE == "drip":
            self.drip()
            return
        if MODE == "hang":
            time.sleep(3600)
        if MODE == "redirect":
            self.send_response(307)
            self.send_header("Location", "http://" + sys.argv[3] + self.path)
        else:
            with open(sys.argv[4], "a") as f:
                f.write(self.path + "\n")
            self.send_response(int(sys.argv[3]))
        self.send_header("Content-Length", "0")
        self.end_headers()


server = ThreadingHTTPServer if MODE in ("hang", "drip") else HTTPServer
server.daemon_threads = True
server(("127.0.0.1", PORT), Handler).serve_forever()
