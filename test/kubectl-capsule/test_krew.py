#!/usr/bin/env python3
"""The krew manifest (config/krew/capsule.yaml) and the release archive
hack/krew-release makes for it: the manifest has the fields krew's
v1alpha2 Plugin schema requires and krew's own checks (name as the file,
v-prefixed semantic version, a platform with a selector, an archive uri, a
sha256 and a bin among the files it installs); the archive's sha256 is the
manifest's, the archive holds the bin and kubectl_complete-capsule as
executables, the bin in it runs and reports the manifest's version; the
same input makes the same archive; bad arguments are refused; the real
krew (hack/build-krew; $RECAP_KREW) installs the plugin from that manifest
and archive into a private KREW_ROOT (its default index a local git
repository: nothing is fetched), the installed kubectl-capsule runs, and
krew uninstalls it again.

usage: test_krew.py KUBECTL_CAPSULE_BINARY"""

import fnmatch
import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import json

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFEST = os.path.join(ROOT, "config", "krew", "capsule.yaml")
SCRIPT = os.path.join(ROOT, "hack", "krew-release")
SEMVER = re.compile(r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
failed = []


def check(what, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + str(detail)}", flush=True)
    if not ok:
        failed.append(what)


def structure(path, m):
    """krew's schema and validation (pkg/index/validation): what every
    manifest must have. Returns the problems."""
    bad = []
    stem = os.path.splitext(os.path.basename(path))[0]
    if m.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        bad.append(f"apiVersion {m.get('apiVersion')!r}")
    if m.get("kind") != "Plugin":
        bad.append(f"kind {m.get('kind')!r}")
    name = m.get("metadata", {}).get("name")
    if name != stem or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name or ""):
        bad.append(f"metadata.name {name!r} (the file is {stem}.yaml)")
    spec = m.get("spec", {})
    if not SEMVER.match(str(spec.get("version", ""))):
        bad.append(f"spec.version {spec.get('version')!r} is not v-prefixed semver")
    if not spec.get("shortDescription") or len(spec["shortDescription"]) > 50:
        bad.append(f"spec.shortDescription {spec.get('shortDescription')!r} (1..50 characters)")
    if not spec.get("description"):
        bad.append("no spec.description")
    platforms = spec.get("platforms") or []
    if not platforms:
        bad.append("no spec.platforms")
    for i, p in enumerate(platforms):
        sel = p.get("selector") or {}
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            bad.append(f"platforms[{i}]: no selector")
        if (sel.get("matchLabels") or {}).get("os") != "linux":
            bad.append(f"platforms[{i}]: selector {sel} is not os: linux")
        if not re.match(r"^(https?|file)://.+\.tar\.gz$", str(p.get("uri", ""))):
            bad.append(f"platforms[{i}].uri {p.get('uri')!r}")
        if not re.fullmatch(r"[0-9a-f]{64}", str(p.get("sha256", ""))):
            bad.append(f"platforms[{i}].sha256 {p.get('sha256')!r}")
        b = p.get("bin", "")
        if not b or b.startswith("/") or ".." in b.split("/"):
            bad.append(f"platforms[{i}].bin {b!r}")
        files = p.get("files") or [{"from": "*", "to": "."}]
        for f in files:
            if not f.get("from") or not f.get("to") or ".." in f["to"].split("/"):
                bad.append(f"platforms[{i}].files entry {f}")
        if not any(fnmatch.fnmatch(b, f["from"]) for f in files if f.get("from")):
            bad.append(f"platforms[{i}].bin {b!r} is not among the files installed")
    return bad


def release(binary, out, *extra):
    return subprocess.run([SCRIPT, "--bin", os.path.dirname(binary), *extra, "--out", out],
                          capture_output=True, text=True, timeout=120)


def check_archive(binary, out):
    p = release(binary, out, "--base-url", f"file://{out}")
    check("hack/krew-release: exit status 0", p.returncode == 0, p.stderr)
    if p.returncode != 0:
        return
    archive, manifest = p.stdout.split()
    with open(manifest) as f:
        m = yaml.safe_load(f)
    check("the written manifest: krew's structure", not structure(manifest, m), structure(manifest, m))
    plat = m["spec"]["platforms"][0]
    with open(archive, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    check("the manifest's sha256 is the archive's", plat["sha256"] == digest,
          f"{plat['sha256']} != {digest}")
    check("the manifest's uri is the archive's", plat["uri"] == f"file://{out}/{os.path.basename(archive)}",
          plat["uri"])
    version = json.loads(subprocess.run([binary, "version", "--client", "-o", "json"], capture_output=True,
                                        text=True, check=True).stdout)["clientVersion"]["version"]
    check("spec.version is the binary's", m["spec"]["version"] == f"v{version}", m["spec"]["version"])
    check("the archive is named for the version",
          os.path.basename(archive) == f"kubectl-capsule-v{version}-linux-{plat['selector']['matchLabels']['arch']}.tar.gz",
          archive)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        members = {x.name: x for x in t.getmembers()}
        check("the archive holds the bin and kubectl_complete-capsule, executable",
              all(n in members and members[n].isfile() and members[n].mode & 0o111
                  for n in (plat["bin"], "kubectl_complete-capsule")), list(members))
        check("the archive holds nothing else but a LICENSE",
              set(members) <= {plat["bin"], "kubectl_complete-capsule", "LICENSE"}, list(members))
        check("the archive's entries have owner 0 and mtime 0",
              all(x.uid == 0 and x.gid == 0 and x.mtime == 0 for x in members.values()))
        unpacked = os.path.join(out, "unpacked")
        os.mkdir(unpacked)
        for n in (plat["bin"], "kubectl_complete-capsule"):
            with open(os.path.join(unpacked, n), "wb") as f:
                f.write(t.extractfile(members[n]).read())
            os.chmod(os.path.join(unpacked, n), stat.S_IRWXU)
    r = subprocess.run([os.path.join(unpacked, plat["bin"]), "version", "--client"], capture_output=True,
                       text=True, timeout=30)
    check("the unpacked bin runs and reports the manifest's version",
          r.returncode == 0 and r.stdout.startswith(f"Client Version: {m['spec']['version'][1:]}"), r)
    r = subprocess.run([os.path.join(unpacked, "kubectl_complete-capsule"), "desc"], capture_output=True,
                       text=True, timeout=30)
    check("the unpacked kubectl_complete-capsule answers through the bin beside it",
          r.stdout.startswith("describe\t") and r.stdout.endswith(":4\n"), r)
    check_krew_install(archive, manifest, out, m["spec"]["version"])
    again = os.path.join(out, "again")
    p = release(binary, again, "--base-url", f"file://{out}")
    with open(p.stdout.split()[0], "rb") as f:
        check("the same input makes the same archive", hashlib.sha256(f.read()).hexdigest() == digest)


def krew_binary():
    k = os.environ.get("RECAP_KREW") or subprocess.run(
        [os.path.join(ROOT, "hack", "build-krew"), "--print"], capture_output=True, text=True).stdout.strip()
    return k if k and os.access(k, os.X_OK) else None


def check_krew_install(archive, manifest, out, version):
    krew = krew_binary()
    check("krew is built (hack/build-krew; hack/test builds it)", krew is not None)
    if not krew:
        return
    index = os.path.join(out, "index")
    os.makedirs(os.path.join(index, "plugins"))
    open(os.path.join(index, "plugins", ".keep"), "w").close()
    git = ["git", "-C", index, "-c", "user.name=recap", "-c", "user.email=recap@localhost"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "an empty plugin index"]):
        subprocess.run(git + args, check=True, capture_output=True)
    root = os.path.join(out, "krew-root")
    env = dict(os.environ, KREW_ROOT=root, HOME=out, KREW_DEFAULT_INDEX_URI=f"file://{index}")

    def krew_run(*args):
        return subprocess.run([krew, *args], capture_output=True, text=True, timeout=120, env=env)

    p = krew_run("update")
    check("krew update takes the local index", p.returncode == 0, p.stderr[-500:])
    p = krew_run("install", f"--manifest={manifest}", f"--archive={archive}")
    check("krew install --manifest --archive: exit status 0", p.returncode == 0, p.stderr[-500:])
    link = os.path.join(root, "bin", "kubectl-capsule")
    r = subprocess.run([link, "version", "--client"], capture_output=True, text=True, timeout=30)
    check("the plugin krew installed runs and reports the manifest's version",
          r.returncode == 0 and r.stdout.startswith(f"Client Version: {version[1:]}"), (r.stdout, r.stderr))
    check("krew lists it", "capsule" in krew_run("list").stdout)
    p = krew_run("uninstall", "capsule")
    check("krew uninstall removes it", p.returncode == 0 and not os.path.lexists(link), p.stderr[-300:])


def check_refusals(binary, out):
    for args, message in (((), "--bin and --base-url are needed"),
                          (("--base-url", "ftp://x"), "--base-url 'ftp://x': an https://, http:// or file:// URL"),
                          (("--base-url", "https://x", "--bogus"), "unknown argument '--bogus'")):
        p = release(binary, out, *args)
        check(f"krew-release {' '.join(args)}: refused", p.returncode != 0 and message in p.stderr,
              (p.returncode, p.stderr))
    p = subprocess.run([SCRIPT, "--bin", out, "--base-url", "https://x"], capture_output=True, text=True)
    check("krew-release without a built binary: refused naming it",
          p.returncode == 1 and f"no executable {out}/kubectl-capsule" in p.stderr, p.stderr)


def main():
    binary = os.path.abspath(sys.argv[1])
    with open(MANIFEST) as f:
        m = yaml.safe_load(f)
    check("config/krew/capsule.yaml: krew's structure", not structure(MANIFEST, m), structure(MANIFEST, m))
    # the checker itself refuses what krew refuses
    broken = yaml.safe_load(yaml.safe_dump(m))
    broken["spec"]["version"] = "0.1.0"
    broken["spec"]["platforms"][0]["bin"] = "kubectl-other"
    del broken["spec"]["platforms"][0]["sha256"]
    check("a manifest without v, sha256 and with a bin not installed: refused",
          len(structure(MANIFEST, broken)) == 3, structure(MANIFEST, broken))
    out = tempfile.mkdtemp(prefix="recap-krew.")
    try:
        check_archive(binary, out)
        check_refusals(binary, out)
    finally:
        shutil.rmtree(out)
    if failed:
        print(f"{len(failed)} failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
