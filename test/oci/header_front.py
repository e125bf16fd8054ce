#!/usr/bin/env python3
"""A front for a real registry that logs the request headers a hosts.toml
sets, to show where they go. Every request is passed to the upstream
registry (with its Accept header only), except that:

  * with --token, a request without the front's Bearer token is answered
    401 with a challenge whose realm is the side server's /token;
  * a blob GET the upstream would answer is redirected (307) to the side
    server's /blob/DIGEST.

The side server listens on another port and is named by another host name
(localhost, not 127.0.0.1): another origin, as a token server or object
storage is. It hands out the token and serves blobs from the upstream's
storage. With --tls both serve https with CERT and KEY; the front requires
a client certificate issued by CA, the side asks for one and takes none too.
Both log one line per request:

  front|side METHOD PATH auth=bearer|basic|no cert=yes|no|- x-recap=NAME:VALUE;...|-

(cert: whether a client certificate came, - without --tls; x-recap: every
header whose name starts with X-Recap, in the order it came). Prints the
front's port once both listen.

    header_front.py UPSTREAM_HOST:PORT STORAGE_ROOT LOG [--token] [--tls CERT KEY CA]
"""

import http.client
import http.server
import json
import os
import re
import socketserver
import ssl
import sys
import threading

UPSTREAM, STORAGE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = "--token" in sys.argv[4:]
TLS = sys.argv[sys.argv.index("--tls") + 1:sys.argv.index("--tls") + 4] if "--tls" in sys.argv else None
SCHEME = "https" if TLS else "http"
BEARER = "Bearer front-token"
BLOB = re.compile(r"^/v2/.+/blobs/(sha256:[0-9a-f]{64})$")
log_lock = threading.Lock()


def log(who, handler):
    auth = handler.headers.get("Authorization", "")
    kind = auth.split(" ", 1)[0].lower() if auth else "no"
    marks = [f"{k}:{v}" for k, v in handler.headers.items() if k.lower().startswith("x-recap")]
    cert = ("yes" if handler.connection.getpeercert() else "no") if TLS else "-"
    with log_lock, open(LOG, "a") as f:
        f.write(f"{who} {handler.command} {handler.path} auth={kind} cert={cert} "
                f"x-recap={';'.join(marks) or '-'}\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, headers=(), body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *a):
        pass


class Front(Handler):
    side_port = 0

    def forward(self):
        log("front", self)
        side = f"{SCHEME}://localhost:{self.side_port}"
        if TOKEN and self.headers.get("Authorization") != BEARER:
            self.reply(401, [("WWW-Authenticate", f'Bearer realm="{side}/token",service="front"')])
            return
        m = BLOB.match(self.path)
        c = http.client.HTTPConnection(UPSTREAM, timeout=30)
        c.request("HEAD" if m else self.command, self.path,
                  headers={k: v for k, v in self.headers.items() if k.lower() == "accept"})
        r = c.getresponse()
        body = r.read()
        if m and self.command == "GET" and r.status == 200:
            self.reply(307, [("Location", f"{side}/blob/{m.group(1)}")])
            return
        self.reply(r.status, [(k, v) for k, v in r.getheaders()
                              if k.lower() not in ("connection", "transfer-encoding", "content-length")], body)

    def do_GET(self):
        self.forward()

    def do_HEAD(self):
        self.forward()


class Side(Handler):
    def do_GET(self):
        log("side", self)
        if self.path.startswith("/token"):
            body = json.dumps({"token": BEARER.split(" ", 1)[1]}).encode()
            self.reply(200, [("Content-Type", "application/json")], body)
            return
        hexpart = self.path.rsplit("/", 1)[-1].split(":", 1)[-1]
        path = os.path.join(STORAGE, "docker/registry/v2/blobs/sha256", hexpart[:2], hexpart, "data")
        if not re.fullmatch(r"[0-9a-f]{64}", hexpart) or not os.path.isfile(path):
            self.reply(404)
            return
        with open(path, "rb") as f:
            self.reply(200, [("Content-Type", "application/octet-stream")], f.read())


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve_tls(server, client_cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(TLS[0], TLS[1])
    ctx.load_verify_locations(TLS[2])
    ctx.verify_mode = client_cert
    # the handshake in the request's thread, not in the accepting one
    server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)


side = Server(("127.0.0.1", 0), Side)
Front.side_port = side.server_address[1]
front = Server(("127.0.0.1", 0), Front)
if TLS:
    serve_tls(front, ssl.CERT_REQUIRED)
    serve_tls(side, ssl.CERT_OPTIONAL)
threading.Thread(target=side.serve_forever, daemon=True).start()
print(front.server_address[1], flush=True)
front.serve_forever()
