#!/usr/bin/env python3
"""A read-only OCI distribution endpoint over plain HTTP that serves one OCI
image layout and answers every manifest request only after a delay: a pull
that is still running when the test needs it to be. Prints its port.

    slow_registry.py LAYOUT DELAY_SECONDS
"""

import http.server
import json
import os
import sys
import time

LAYOUT, DELAY = sys.argv[1], float(sys.argv[2])


def blob_path(digest):
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or not hexpart.isalnum():
        return None
    return os.path.join(LAYOUT, "blobs", algo, hexpart)


def manifest_for(ref):
    if ref.startswith("sha256:"):
        return ref, "application/vnd.oci.image.manifest.v1+json"
    with open(os.path.join(LAYOUT, "index.json")) as f:
        for m in json.load(f)["manifests"]:
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
                return m["digest"], m["mediaType"]
    return None, None


class Handler(http.server.BaseHTTPRequestHandler):
    def send_file(self, path, ctype, digest, head):
        if not path or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def answer(self, head):
        parts = self.path.split("/")
        if self.path in ("/v2/", "/v2"):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif len(parts) >= 5 and parts[-2] == "manifests":
            time.sleep(DELAY)
            digest, ctype = manifest_for(parts[-1])
            self.send_file(digest and blob_path(digest), ctype, digest, head)
        elif len(parts) >= 5 and parts[-2] == "blobs":
            self.send_file(blob_path(parts[-1]), "application/octet-stream", parts[-1], head)
        else:
            self.send_error(404)

    def do_GET(self):
        self.answer(False)

    def do_HEAD(self):
        self.answer(True)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
