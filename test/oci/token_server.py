#!/usr/bin/env python3
"""A minimal registry token server for the tests (stdlib + the openssl CLI).

  token_server.py PORT KEY CERT USER:PASSWORD ISSUER [--jwks FILE] [USER:PASSWORD@REPO]...

GET /token?service=S&scope=repository:NAME:ACTIONS with Basic USER:PASSWORD
answers {"token": JWT} signed RS256 with KEY. By default the JWT header
carries CERT in x5c, which the registry checks against its rootcertbundle.
With --jwks the issuer writes KEY's public half to FILE as a JSON Web Key
Set and names it in the header by kid (its RFC 7638 thumbprint), as a
registry configured with `jwks: FILE` (distribution v3) verifies it.
A USER:PASSWORD@REPO user is granted REPO only: whatever it asks for, its
token's access names REPO. Anonymous or wrong credentials get 401.

Every request for /token is one line on stdout:
  token user=NAME|- scope=SCOPE service=SERVICE status=CODE
NAME is the user of whatever Basic credentials came, right or wrong.
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT, KEY, CERT, CREDS, ISSUER = sys.argv[1:6]
JWKS = None
USERS = {CREDS: None}  # credentials -> the one repository granted (None: what is asked)
rest = sys.argv[6:]
while rest:
    if rest[0] == "--jwks":
        JWKS = rest[1]
        rest = rest[2:]
    else:
        creds, repo = rest[0].rsplit("@", 1)
        USERS[creds] = repo
        rest = rest[1:]


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cert_der():
    pem = open(CERT).read()
    body = "".join(l for l in pem.splitlines() if "-----" not in l)
    return base64.b64decode(body)


def rsa_jwk():
    out = subprocess.run(["openssl", "rsa", "-in", KEY, "-noout", "-text"], capture_output=True,
                         check=True, text=True).stdout
    hexes = re.search(r"modulus:\s*\n((?:\s+[0-9a-f:]+\n)+)", out).group(1)
    n = bytes.fromhex(re.sub(r"[\s:]", "", hexes)).lstrip(b"\0")
    e = int(re.search(r"publicExponent: (\d+)", out).group(1))
    jwk = {"e": b64url(e.to_bytes((e.bit_length() + 7) // 8, "big")), "kty": "RSA", "n": b64url(n)}
    # RFC 7638: the SHA-256 of the required members, sorted, no spaces
    kid = b64url(hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest())
    return dict(jwk, kid=kid, use="sig", alg="RS256")


if JWKS:
    JWK = rsa_jwk()
    with open(JWKS + ".tmp", "w") as f:
        json.dump({"keys": [JWK]}, f)
    os.rename(JWKS + ".tmp", JWKS)
    HEADER = {"typ": "JWT", "alg": "RS256", "kid": JWK["kid"]}
else:
    HEADER = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(cert_der()).decode()]}


def sign(data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=data,
                          capture_output=True, check=True).stdout


def token(user, granted, service, scopes):
    access = []
    for s in scopes:
        parts = s.split(":")
        if len(parts) == 3 and parts[0] == "repository":
            access.append({"type": "repository", "name": granted or parts[1], "actions": parts[2].split(",")})
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": user, "aud": service, "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing_input = (b64url(json.dumps(HEADER).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64url(sign(signing_input))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, user, q, body=b""):
        print("token user=%s scope=%s service=%s status=%d" % (
            user, ",".join(q.get("scope", [])) or "-", q.get("service", ["-"])[0], status), flush=True)
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        creds, user = None, "-"
        if auth.startswith("Basic "):
            try:
                creds = base64.b64decode(auth[6:]).decode()
                user = creds.split(":", 1)[0]
            except ValueError:
                user = "?"
        if url.path != "/token":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if creds not in USERS:
            self.answer(401, user, q)
            return
        body = json.dumps({"token": token(user, USERS[creds], q.get("service", [""])[0],
                                          q.get("scope", []))}).encode()
        self.answer(200, user, q, body)


HTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
