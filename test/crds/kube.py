"""A private control plane (hack/cluster) and the real kubectl, for tests."""

import json
import os
import shutil
import subprocess
import time
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class Failure(Exception):
    """A test step failed; the message names it."""


# Named checks of a test run in order (case), each a line with its time;
# what failed is kept in failed for the summary.
failed = []


def case(name, fn, *args):
    """Runs one case; prints one line; a failure, or an unexpected lookup or
    value error, is recorded in failed, not fatal."""
    t0 = time.monotonic()
    try:
        fn(*args)
        print(f"ok   {name} ({time.monotonic() - t0:.1f}s)", flush=True)
    except Failure as e:
        print(f"FAIL {name}: {e}", flush=True)
        failed.append(name)
    except (LookupError, ValueError) as e:
        print(f"FAIL {name}: unexpected {e!r}", flush=True)
        failed.append(name)


class Cluster:
    """`with Cluster(bindir) as k:` brings a control plane up and always
    brings it down and deletes its directory, also on failure. up_args go
    to `hack/cluster up` (--apiserver-arg=...)."""

    def __init__(self, bindir, up_args=()):
        self.bindir = bindir
        self.up_args = list(up_args)
        self.tmp = None
        self.dir = None

    def _hack(self, *args):
        env = dict(os.environ, RECAP_KUBE_BIN=self.bindir)
        return subprocess.run([os.path.join(ROOT, "hack", "cluster"), *args,
                               "--dir", self.dir], env=env, timeout=120)

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="recap-test-crds.")
        self.dir = os.path.join(self.tmp, "cluster")
        try:
            if self._hack("up", *self.up_args).returncode != 0:
                raise Failure("hack/cluster up failed")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        k = Kubectl(os.path.join(self.bindir, "kubectl"),
                    os.path.join(self.dir, "kubeconfig"))
        k.cluster = self
        return k

    def stop_apiserver(self):
        """kill -9 of kube-apiserver (etcd and the rest stay)."""
        if self._hack("stop-apiserver").returncode != 0:
            raise Failure("hack/cluster stop-apiserver failed")

    def start_apiserver(self):
        """The same kube-apiserver again, on the same port; returns once it
        serves."""
        if self._hack("start-apiserver").returncode != 0:
            raise Failure("hack/cluster start-apiserver failed")

    def __exit__(self, *exc):
        try:
            if self._hack("down").returncode != 0:
                print("cluster: hack/cluster down failed", flush=True)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False


class Kubectl:
    def __init__(self, path, kubeconfig):
        self.argv = [path, "--kubeconfig", kubeconfig]

    def run(self, *args, stdin=None):
        """Returns (exit code, stdout, stderr)."""
        p = subprocess.run(self.argv + list(args), input=stdin,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args, stdin=None):
        rc, out, err = self.run(*args, stdin=stdin)
        if rc != 0:
            raise Failure(f"kubectl {' '.join(args)}: {err.strip()}")
        return out

    def wait_established(self, names, seconds=60):
        """kubectl wait for condition Established. Right after an apply a
        CRD may have no status.conditions yet, and kubectl then fails at
        once ("accessor error: <nil>") instead of waiting: it is asked
        again until the deadline, and the last error is the failure."""
        deadline = time.monotonic() + seconds
        while True:
            rc, _, err = self.run("wait", "--for=condition=Established", "--timeout=10s", *names)
            if rc == 0:
                return
            if time.monotonic() >= deadline:
                raise Failure(f"kubectl wait --for=condition=Established {' '.join(names)}: "
                              f"{err.strip()}")
            time.sleep(0.2)

    def json(self, *args):
        return json.loads(self.ok(*args, "-o", "json"))

    def apply_obj(self, verb, obj, *args):
        """kubectl <verb> -f - with obj as JSON: (exit code, stderr)."""
        rc, _, err = self.run(verb, *args, "-f", "-",
                              stdin=json.dumps(obj))
        return rc, err

    def local(self, path):
        """The object in a YAML file, as kubectl reads it (no server)."""
        return json.loads(self.ok("create", "--dry-run=client", "-o", "json",
                                  "-f", path))
