#!/usr/bin/env python3
"""A kubeconfig exec credential plugin that logs in to an OpenID provider
without a browser and prints the ID token as an ExecCredential.

It does what a person does in a browser, with the provider's own pages: the
authorization code flow with PKCE (RFC 7636) for a confidential client,
through the provider's username/password form (read from the page and posted
back), to the redirect URI's code, which the token endpoint exchanges for an
ID token. expirationTimestamp is the token's exp.

usage: oidc_login.py --issuer URL --ca-file PEM --client-id ID
           --client-secret SECRET --redirect-uri URI --username NAME
           --password-file FILE [--scope SCOPES] [--count-file FILE]

--count-file gets one line per run: the time it started and the issued
token's exp (Unix seconds). The ExecCredential's apiVersion is the one
KUBERNETES_EXEC_INFO asks for (client.authentication.k8s.io/v1 without it).
Every failure names its step on stderr and exits 1."""

import argparse
import base64
import hashlib
import html.parser
import http.client
import json
import os
import secrets
import ssl
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True
TIMEOUT = 10
MAX_BODY = 1 << 20


class Failed(Exception):
    """A step of the login failed; the message names it."""


def fetch(ctx, method, url, step, body=None, headers=None):
    """One HTTPS request, no redirect followed: (status, headers, body)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "https":
        raise Failed(f"{step}: {url}: not an https:// URL")
    conn = http.client.HTTPSConnection(u.hostname, u.port or 443,
                                       context=ctx, timeout=TIMEOUT)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read(MAX_BODY + 1)
    except (OSError, http.client.HTTPException) as e:
        raise Failed(f"{step}: {method} {url}: {e}") from None
    finally:
        conn.close()
    if len(data) > MAX_BODY:
        raise Failed(f"{step}: {url}: answer larger than {MAX_BODY} bytes")
    return r.status, r, data


def json_of(data, step):
    try:
        doc = json.loads(data)
    except ValueError:
        raise Failed(f"{step}: not JSON: {data[:200]!r}") from None
    if not isinstance(doc, dict):
        raise Failed(f"{step}: not a JSON object: {data[:200]!r}")
    return doc


def redirect(status, resp, data, url, step):
    where = resp.getheader("Location")
    if status not in (302, 303) or not where:
        text = " ".join(data.decode("utf-8", errors="replace").split())[:200]
        raise Failed(f"{step}: expected a redirect, got HTTP {status}: {text}")
    return urllib.parse.urljoin(url, where)


class LoginForm(html.parser.HTMLParser):
    """The form's action and inputs, and the page's error paragraph."""

    def __init__(self):
        super().__init__()
        self.action, self.inputs, self.error, self._in_p = None, {}, "", False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a.get("value") or ""
        self._in_p = tag == "p"

    def handle_endtag(self, tag):
        self._in_p = False

    def handle_data(self, data):
        if self._in_p:
            self.error += data.strip()


def parse_form(data, step):
    f = LoginForm()
    f.feed(data.decode("utf-8", errors="replace"))
    if not f.action or not {"username", "password"} <= f.inputs.keys():
        raise Failed(f"{step}: no username/password form on the page")
    return f


def login(a):
    ctx = ssl.create_default_context(cafile=a.ca_file)
    issuer = a.issuer.rstrip("/")
    st, _, data = fetch(ctx, "GET", issuer + "/.well-known/openid-configuration",
                        "discovery")
    if st != 200:
        raise Failed(f"discovery: HTTP {st}")
    disc = json_of(data, "discovery")
    if disc.get("issuer") != a.issuer:
        raise Failed(f"discovery: the provider says its issuer is "
                     f"{disc.get('issuer')!r}, not {a.issuer!r}")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = disc["authorization_endpoint"] + "?" + urllib.parse.urlencode({
        "client_id": a.client_id, "redirect_uri": a.redirect_uri,
        "response_type": "code", "scope": a.scope, "state": state,
        "nonce": nonce, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    st, r, data = fetch(ctx, "GET", url, "authorization request")
    url = redirect(st, r, data, url, "authorization request")
    if url.startswith(a.redirect_uri):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        raise Failed(f"authorization request: refused: "
                     f"{q.get('error', ['?'])[0]}: {q.get('error_description', [''])[0]}")
    st, _, data = fetch(ctx, "GET", url, "login page")
    if st != 200:
        raise Failed(f"login page: HTTP {st}")
    form = parse_form(data, "login page")
    with open(a.password_file) as f:
        password = f.read().strip()
    fields = dict(form.inputs, username=a.username, password=password)
    action = urllib.parse.urljoin(url, form.action)
    st, r, data = fetch(ctx, "POST", action, "login",
                        body=urllib.parse.urlencode(fields),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    if st == 200:
        why = parse_form(data, "login").error or "the login page came back"
        raise Failed(f"login: the provider refused user {a.username!r}: {why}")
    url = redirect(st, r, data, action, "login")
    st, r, data = fetch(ctx, "GET", url, "authorization callback")
    url = redirect(st, r, data, url, "authorization callback")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if not url.startswith(a.redirect_uri) or q.get("state") != [state] or "code" not in q:
        raise Failed(f"authorization callback: no code for this request in "
                     f"{url[:200]!r}")
    basic = base64.b64encode(
        f"{urllib.parse.quote(a.client_id)}:{urllib.parse.quote(a.client_secret)}".encode()).decode()
    st, _, data = fetch(ctx, "POST", disc["token_endpoint"], "token request",
                        body=urllib.parse.urlencode({
                            "grant_type": "authorization_code",
                            "code": q["code"][0], "redirect_uri": a.redirect_uri,
                            "code_verifier": verifier}),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Authorization": "Basic " + basic})
    tok = json_of(data, "token request")
    if st != 200 or not tok.get("id_token"):
        raise Failed(f"token request: HTTP {st}: {tok.get('error', '')} "
                     f"{tok.get('error_description', '')}")
    return tok["id_token"], nonce


def claims_of(id_token, nonce):
    """The payload, decoded (the API server checks the signature)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = int(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        raise Failed("the ID token: not a JWT with an exp claim") from None
    if claims.get("nonce") != nonce:
        raise Failed("the ID token: its nonce is not this request's")
    return exp


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("issuer", "ca-file", "client-id", "client-secret",
                 "redirect-uri", "username", "password-file"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--scope", default="openid profile email groups")
    p.add_argument("--count-file")
    a = p.parse_args()
    started = time.time()
    try:
        info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
        api = info.get("apiVersion") or "client.authentication.k8s.io/v1"
    except ValueError:
        print("oidc-login: KUBERNETES_EXEC_INFO is not JSON", file=sys.stderr)
        return 1
    try:
        token, nonce = login(a)
        exp = claims_of(token, nonce)
    except (Failed, OSError) as e:
        print(f"oidc-login: {e}", file=sys.stderr)
        return 1
    if a.count_file:
        with open(a.count_file, "a") as f:
            f.write(f"{started:.3f} {exp}\n")
    json.dump({"apiVersion": api, "kind": "ExecCredential", "status": {
        "token": token,
        "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))}},
        sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
