#!/usr/bin/env python3
"""Misbehaving registries for the tests.

  http_stub.py redirect PORT TARGET   every GET answers 307 to http://TARGET<path>
  http_stub.py status PORT CODE LOG   every GET answers CODE and appends a line to LOG
  http_stub.py hang PORT              every GET is read and never answered
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

MODE, PORT = sys.argv[1], int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
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


server = ThreadingHTTPServer if MODE == "hang" else HTTPServer
server.daemon_threads = True
server(("127.0.0.1", PORT), Handler).serve_forever()
