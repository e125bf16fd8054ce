#!/usr/bin/env python3
"""Test fixtures for the oci suite: layer tars (good and malicious) and OCI
image layouts with hand-written manifests.

  fixtures.py tar KIND OUT              write a layer tar (see TARS)
  fixtures.py layout DIR TAG ARCH LAYER...   add an image to an OCI layout
  fixtures.py blob DIR FILE             add a raw blob to a layout, print its digest
  fixtures.py manifest DIR TAG FILE     add FILE as a manifest tagged TAG
  fixtures.py stack DIR TAG N BUSYBOX   add an image of N gzip layers (see stack)
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def add(t, name, typ=tarfile.REGTYPE, data=b"", mode=0o644, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.mode = mode
    ti.mtime = 1700000000
    for k, v in kw.items():
        setattr(ti, k, v)
    if typ == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def lower(t):
    add(t, "etc/", tarfile.DIRTYPE, mode=0o755)
    add(t, "etc/keep", data=b"keep\n")
    add(t, "etc/gone", data=b"gone\n")
    add(t, "opq/", tarfile.DIRTYPE, mode=0o755)
    add(t, "opq/old", data=b"old\n")
    add(t, "bin/", tarfile.DIRTYPE, mode=0o755)
    add(t, "bin/tool", data=b"#!/bin/sh\n", mode=0o4755)
    add(t, "bin/link", tarfile.SYMTYPE, linkname="tool")
    add(t, "bin/hard", tarfile.LNKTYPE, linkname="bin/tool")


def upper(t):
    add(t, "etc/.wh.gone")
    add(t, "opq/", tarfile.DIRTYPE, mode=0o755)
    add(t, "opq/.wh..wh..opq")
    add(t, "opq/new", data=b"new\n")
    add(t, "etc/added", data=b"added\n")


def dotdot(t):
    add(t, "../escaped", data=b"x")


def absolute(t):
    add(t, "/tmp/recap-abs-escape", data=b"x")


def symlink_out(t):
    add(t, "evil", tarfile.SYMTYPE, linkname="/tmp")
    add(t, "evil/recap-symlink-escape", data=b"x")


def symlink_dir_out(t):
    add(t, "d/", tarfile.DIRTYPE, mode=0o755)
    add(t, "d/up", tarfile.SYMTYPE, linkname="../../../../../../tmp")
    add(t, "d/up/recap-symlink-escape", data=b"x")


def hardlink_out(t):
    add(t, "pw", tarfile.LNKTYPE, linkname="../../../../etc/passwd")


def hardlink_abs(t):
    add(t, "pw", tarfile.LNKTYPE, linkname="/etc/passwd")


def whiteout_dotdot(t):
    add(t, "etc/", tarfile.DIRTYPE, mode=0o755)
    add(t, "etc/.wh..", data=b"")


def whiteout_empty(t):
    add(t, ".wh.", data=b"")


def chardev(t):
    add(t, "dev/", tarfile.DIRTYPE, mode=0o755)
    add(t, "dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)


def blockdev(t):
    add(t, "sda", tarfile.BLKTYPE, devmajor=8, devminor=0)


def fifo(t):
    add(t, "pipe", tarfile.FIFOTYPE)


def deep(t):
    add(t, "/".join(["d"] * 300) + "/f", data=b"x")


TARS = {
    "deep": deep,
    "lower": lower, "upper": upper, "dotdot": dotdot, "absolute": absolute,
    "symlink-out": symlink_out, "symlink-dir-out": symlink_dir_out,
    "hardlink-out": hardlink_out, "hardlink-abs": hardlink_abs,
    "whiteout-dotdot": whiteout_dotdot, "whiteout-empty": whiteout_empty,
    "chardev": chardev, "blockdev": blockdev, "fifo": fifo,
}


def bomb(out, n):
    """n empty files, written as raw ustar headers (tarfile is too slow)."""
    def header(name):
        h = bytearray(512)
        fields = [(0, name.encode()), (100, b"0000644\0"), (108, b"0000000\0"), (116, b"0000000\0"),
                  (124, b"00000000000\0"), (136, b"14532023400\0"), (156, b"0"), (257, b"ustar\x0000")]
        for off, val in fields:
            h[off:off + len(val)] = val
        h[148:156] = b"        "
        h[148:156] = b"%06o\0 " % sum(h)
        return bytes(h)
    with gzip.open(out, "wb", compresslevel=1) as f:
        chunk = []
        for i in range(n):
            chunk.append(header("f%07d" % i))
            if len(chunk) == 4096:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk) + b"\0" * 1024)


def write_tar(kind, out):
    if kind.startswith("bomb-"):
        return bomb(out, int(kind[5:]))
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
        TARS[kind](t)


def put_blob(layout, data):
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def init_layout(layout):
    os.makedirs(layout, exist_ok=True)
    p = os.path.join(layout, "oci-layout")
    if not os.path.exists(p):
        with open(p, "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
    p = os.path.join(layout, "index.json")
    if not os.path.exists(p):
        with open(p, "w") as f:
            json.dump({"schemaVersion": 2, "manifests": []}, f)


def tag(layout, name, digest, size, mt):
    p = os.path.join(layout, "index.json")
    idx = json.load(open(p))
    idx["manifests"] = [m for m in idx["manifests"]
                        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != name]
    idx["manifests"].append({"mediaType": mt, "digest": digest, "size": size,
                             "annotations": {"org.opencontainers.image.ref.name": name}})
    with open(p, "w") as f:
        json.dump(idx, f)


def layout(path, name, arch, layers, env=None, cmd=None):
    init_layout(path)
    descs, diff_ids = [], []
    for lp in layers:
        data = open(lp, "rb").read()
        gz = data[:2] == b"\x1f\x8b"
        raw = gzip.decompress(data) if gz else data
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else ""),
                      "digest": put_blob(path, data), "size": len(data)})
    cfg = json.dumps({"architecture": arch, "os": "linux",
                      "config": {"Env": ["PATH=/bin", "CAPSULE=test"], "Entrypoint": ["/bin/tool"],
                                 "Cmd": ["-x"], "WorkingDir": "/etc", "User": "0:0"}
                      if cmd is None else {"Env": env, "Cmd": cmd},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": put_blob(path, cfg), "size": len(cfg)},
                      "layers": descs}).encode()
    d = put_blob(path, man)
    tag(path, name, d, len(man), "application/vnd.oci.image.manifest.v1+json")
    print(d)


def stack(path, name, n, busybox):
    """N layers (PAX tars, gzip, as image builders write them), whiteouts
    across them. Layer 0: BUSYBOX as /bin/busybox with its applets as
    symlinks, /lowest, /doomed (whited out by layer n/2), /dir5 (whited out
    whole by layer n-2), /opq/old (hidden by layer n-10's opaque /opq, which
    adds /opq/new). Every layer i: /l/i holding i and /v holding i; layer i
    with i % 3 == 0 whites out /l/(i-2); the top layer adds /top and adds
    /l/1 (whited out by layer 3) again, holding "back". A whiteout whose
    layer would be layer 0 (N under 11) is left out."""
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    files = []
    for i in range(n):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            if i == 0:
                add(t, "bin/", tarfile.DIRTYPE, mode=0o755)
                add(t, "bin/busybox", data=open(busybox, "rb").read(), mode=0o755)
                for a in applets:
                    if a != "busybox":
                        add(t, "bin/" + a, tarfile.SYMTYPE, linkname="busybox")
                add(t, "lowest", data=b"lowest\n")
                add(t, "doomed", data=b"doomed\n")
                add(t, "dir5/", tarfile.DIRTYPE, mode=0o755)
                add(t, "dir5/a", data=b"a\n")
                add(t, "opq/", tarfile.DIRTYPE, mode=0o755)
                add(t, "opq/old", data=b"old\n")
                add(t, "l/", tarfile.DIRTYPE, mode=0o755)
            add(t, "l/%d" % i, data=b"%d\n" % i)
            add(t, "v", data=b"%d\n" % i)
            if i % 3 == 0 and i >= 3:
                add(t, "l/.wh.%d" % (i - 2))
            if i == n // 2 and i > 0:
                add(t, ".wh.doomed")
            if i == n - 2 and i > 0:
                add(t, ".wh.dir5")
            if i == n - 10 and i > 0:
                add(t, "opq/", tarfile.DIRTYPE, mode=0o755)
                add(t, "opq/.wh..wh..opq")
                add(t, "opq/new", data=b"new\n")
            if i == n - 1:
                add(t, "top", data=b"top\n")
                add(t, "l/1", data=b"back\n")
        f = os.path.join(path, ".layer-%d.tar.gz" % i)
        with open(f, "wb") as out:
            out.write(gzip.compress(buf.getvalue(), mtime=0))
        files.append(f)
    layout(path, name, "amd64", files, env=["PATH=/bin"], cmd=["sh"])
    for f in files:
        os.unlink(f)


def main():
    cmd = sys.argv[1]
    if cmd == "tar":
        write_tar(sys.argv[2], sys.argv[3])
    elif cmd == "layout":
        layout(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif cmd == "blob":
        init_layout(sys.argv[2])
        print(put_blob(sys.argv[2], open(sys.argv[3], "rb").read()))
    elif cmd == "stack":
        init_layout(sys.argv[2])
        stack(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif cmd == "manifest":
        init_layout(sys.argv[2])
        data = open(sys.argv[4], "rb").read()
        d = put_blob(sys.argv[2], data)
        tag(sys.argv[2], sys.argv[3], d, len(data), "application/vnd.oci.image.manifest.v1+json")
        print(d)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
