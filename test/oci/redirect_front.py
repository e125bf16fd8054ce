#!/usr/bin/env python3
"""A front for a real registry that sends blob downloads elsewhere, as
registries on object storage do: every request is passed to the upstream
registry with its Authorization header, except a blob GET the upstream would
answer, which is redirected (307) to a second server on another host name and
port. That server serves the blob from the upstream's storage and logs, per
request, whether an Authorization header came with it. Prints the front's
port once both listen.

    redirect_front.py UPSTREAM_HOST:PORT STORAGE_ROOT LOG
"""

import http.client
import http.server
import os
import re
import socketserver
import sys
import threading

UPSTREAM, STORAGE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
BLOB = re.compile(r"^/v2/.+/blobs/(sha256:[0-9a-f]{64})$")
log_lock = threading.Lock()


def log(line):
    with log_lock, open(LOG, "a") as f:
        f.write(line + "\n")


def upstream(method, path, headers):
    c = http.client.HTTPConnection(UPSTREAM, timeout=30)
    c.request(method, path, headers=headers)
    r = c.getresponse()
    return r, r.read()


class Front(http.server.BaseHTTPRequestHandler):
    blob_port = 0

    def forward(self, method):
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
        log(f"front {method} {self.path} authorization={'yes' if 'authorization' in {k.lower() for k in headers} else 'no'}")
        m = BLOB.match(self.path)
        r, body = upstream("HEAD" if m and method == "GET" else method, self.path, headers)
        if m and method == "GET" and r.status == 200:
            self.send_response(307)
            self.send_header("Location", f"http://localhost:{self.blob_port}/blob/{m.group(1)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self.forward("GET")

    def do_HEAD(self):
        self.forward("HEAD")

    def log_message(self, *a):
        pass


class Blobs(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization")
        log(f"blob GET {self.path} authorization={'yes' if auth else 'no'}")
        digest = self.path.rsplit("/", 1)[-1]
        hexpart = digest.split(":", 1)[-1]
        path = os.path.join(STORAGE, "docker/registry/v2/blobs/sha256", hexpart[:2], hexpart, "data")
        if not re.fullmatch(r"[0-9a-f]{64}", hexpart) or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


blobs = Server(("127.0.0.1", 0), Blobs)
Front.blob_port = blobs.server_address[1]
front = Server(("127.0.0.1", 0), Front)
threading.Thread(target=blobs.serve_forever, daemon=True).start()
print(front.server_address[1], flush=True)
front.serve_forever()
