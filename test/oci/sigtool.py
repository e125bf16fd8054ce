#!/usr/bin/env python3
"""Rewrites cosign signature manifests in a plain-http registry (the
signature tests' forgeries), through the distribution API only.

  sigtool.py copy REGISTRY SRC_REPO SRC_TAG DST_REPO DST_TAG
      the manifest and every blob it names, under another repository/tag
  sigtool.py tamper REGISTRY REPO TAG
      the first signature's payload changed (an "optional" field added; the
      digest it names kept), re-pushed with the original signature annotation
  sigtool.py strip REGISTRY REPO TAG
      the first signature's annotation removed
  sigtool.py payload REGISTRY REPO TAG
      prints the first signature's payload
"""
import hashlib
import json
import sys
import urllib.request

MT = "application/vnd.oci.image.manifest.v1+json"
ANNOTATION = "dev.cosignproject.cosign/signature"


def req(method, url, data=None, headers=None):
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(r) as resp:
        return resp.read(), resp.headers


def get_manifest(reg, repo, tag):
    body, _ = req("GET", f"http://{reg}/v2/{repo}/manifests/{tag}", headers={"Accept": MT})
    return json.loads(body)


def put_manifest(reg, repo, tag, m):
    data = json.dumps(m, separators=(",", ":")).encode()
    req("PUT", f"http://{reg}/v2/{repo}/manifests/{tag}", data, {"Content-Type": MT})


def get_blob(reg, repo, digest):
    return req("GET", f"http://{reg}/v2/{repo}/blobs/{digest}")[0]


def put_blob(reg, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _, h = req("POST", f"http://{reg}/v2/{repo}/blobs/uploads/")
    loc = h["Location"]
    if loc.startswith("/"):
        loc = f"http://{reg}{loc}"
    sep = "&" if "?" in loc else "?"
    req("PUT", f"{loc}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"})
    return digest, len(data)


def main():
    cmd, reg = sys.argv[1], sys.argv[2]
    if cmd == "copy":
        src_repo, src_tag, dst_repo, dst_tag = sys.argv[3:7]
        m = get_manifest(reg, src_repo, src_tag)
        for d in [m["config"]] + m["layers"]:
            put_blob(reg, dst_repo, get_blob(reg, src_repo, d["digest"]))
        put_manifest(reg, dst_repo, dst_tag, m)
        return
    repo, tag = sys.argv[3:5]
    m = get_manifest(reg, repo, tag)
    layer = m["layers"][0]
    payload = get_blob(reg, repo, layer["digest"])
    if cmd == "payload":
        sys.stdout.write(payload.decode())
        return
    if cmd == "tamper":
        p = json.loads(payload)
        p["optional"] = {"tampered": "yes"}
        layer["digest"], layer["size"] = put_blob(reg, repo, json.dumps(p, separators=(",", ":")).encode())
    elif cmd == "strip":
        del layer["annotations"][ANNOTATION]
    else:
        sys.exit(f"unknown command {cmd}")
    put_manifest(reg, repo, tag, m)


main()
