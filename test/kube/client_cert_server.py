#!/usr/bin/env python3
"""An HTTPS server on loopback whose TLS handshake requires a client
certificate signed by the CA given and refuses any other (as an API server
behind a proxy that verifies client certificates does), for the client's
certificate renewal test. Every GET is answered with a Status naming the
client certificate's CN. Usage: client_cert_server.py CA CERT KEY. Prints its
port; serves until its stdin closes."""
import http.server
import json
import ssl
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        peer = self.connection.getpeercert()
        cn = [v for rdn in peer["subject"] for (k, v) in rdn
              if k == "commonName"][0]
        body = json.dumps({"kind": "Status", "apiVersion": "v1",
                           "status": "Success", "message": cn}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    ca, cert, key = sys.argv[1:4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
