#!/usr/bin/env python3
"""hack/build-images and hack/image-rootfs refuse what they cannot carry out
faithfully, with a message that names the file, the line and the problem;
the repository's own Containerfiles parse into what they say. No root, no
network: Containerfiles are parsed, and image-rootfs runs on small private
system roots made from this host's files."""
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.environ.get("RECAP_SRC") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
loader = importlib.machinery.SourceFileLoader("build_images", os.path.join(ROOT, "hack", "build-images"))
spec = importlib.util.spec_from_loader("build_images", loader)
bi = importlib.util.module_from_spec(spec)
loader.exec_module(bi)
IMAGE_ROOTFS = os.path.join(ROOT, "hack", "image-rootfs")

GOOD = """# a comment
FROM debian:bookworm-slim AS tools
RUN apt-get update && apt-get install -y --no-install-recommends tcpdump \\
    busybox-static
COPY hack/image-rootfs /usr/local/bin/image-rootfs
RUN image-rootfs --busybox / /rootfs /usr/bin/tcpdump /bin/busybox

FROM scratch
COPY --from=tools /rootfs /
COPY images/base/ /
ENV PATH=/usr/bin:/bin TZ=UTC
USER 65532:65532
CMD ["tcpdump", "-i", "any"]
"""


class ContainerfileTest(unittest.TestCase):
    def parse(self, text):
        with tempfile.NamedTemporaryFile("w", suffix="Containerfile", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return bi.parse("t", f.name)

    def refused(self, text, *needles):
        with self.assertRaises(bi.BuildError) as cm:
            self.parse(text)
        for n in needles:
            self.assertIn(n, str(cm.exception))

    def test_good(self):
        img = self.parse(GOOD)
        st = img.stages["tools"]
        self.assertEqual(st.packages, ["tcpdump", "busybox-static"])
        self.assertEqual(st.rootfs, ["--busybox", "/", "/rootfs", "/usr/bin/tcpdump", "/bin/busybox"])
        self.assertEqual(img.layers, ["tools"])
        self.assertEqual(img.copies, [("images/base/", "/")])
        self.assertEqual(img.env, ["PATH=/usr/bin:/bin", "TZ=UTC"])
        self.assertEqual(img.user, "65532:65532")
        self.assertEqual(img.cmd, ["tcpdump", "-i", "any"])

    def test_unknown_build_instruction(self):
        self.refused(GOOD.replace("COPY hack/image-rootfs", "RUN curl -o x http://x\nCOPY hack/image-rootfs"),
                     ":5:", "RUN curl", "build stage")

    def test_other_apt_shape(self):
        self.refused(GOOD.replace("apt-get install -y --no-install-recommends", "apt-get install"),
                     ":3:", "apt-get")

    def test_rootfs_tool_before_copy(self):
        self.refused(GOOD.replace("COPY hack/image-rootfs /usr/local/bin/image-rootfs\n", ""),
                     "image-rootfs is run before it is copied in")

    def test_no_final_stage(self):
        self.refused(GOOD.split("FROM scratch")[0], "FROM scratch")

    def test_unknown_final_instruction(self):
        self.refused(GOOD + "HEALTHCHECK CMD true\n", ":14:", "HEALTHCHECK", "final stage")

    def test_shell_form_cmd(self):
        self.refused(GOOD.replace('CMD ["tcpdump", "-i", "any"]', "CMD tcpdump -i any"), "JSON list")

    def test_copy_of_missing_file(self):
        self.refused(GOOD.replace("COPY images/base/ /", "COPY images/no-such-thing /etc/x"),
                     "images/no-such-thing", "no such file")

    def test_unknown_stage(self):
        self.refused(GOOD.replace("--from=tools", "--from=nope"), "no stage named nope")

    def test_stage_without_image_rootfs(self):
        self.refused(GOOD.replace("RUN image-rootfs --busybox / /rootfs /usr/bin/tcpdump /bin/busybox\n", ""),
                     "never runs image-rootfs")

    def test_other_release(self):
        img = self.parse(GOOD.replace("debian:bookworm-slim", "debian:sid-slim"))
        with self.assertRaises(bi.BuildError) as cm:
            bi.check_release(img, img.stages["tools"])
        self.assertIn("builds from Debian sid, this host's apt is %s" % bi.host_release(), str(cm.exception))
        img = self.parse(GOOD.replace("debian:bookworm-slim", "alpine:3"))
        with self.assertRaises(bi.BuildError) as cm:
            bi.check_release(img, img.stages["tools"])
        self.assertIn("only debian:<release> images", str(cm.exception))

    def test_repository(self):
        images = {i.name: i for i in bi.discover()}
        self.assertEqual(sorted(images), sorted(["recap-controller", "caplet", "recap-apiserver", "ps", "tcpdump", "strace",
                                                 "md5check", "logrotate", "iperf3", "gdb", "clamav", "sysstat", "tar",
                                                 "metrics", "nginx", "nginx-tcpdump"]))
        self.assertEqual(images["caplet"].ref, bi.config_reference("caplet"))
        self.assertTrue(images["caplet"].ref.startswith("recap/caplet:"))
        self.assertEqual(images["recap-apiserver"].ref, bi.config_reference("recap-apiserver"))
        for name in ("ps", "tcpdump", "strace", "md5check", "logrotate", "iperf3", "gdb", "clamav", "sysstat", "tar",
                     "metrics"):
            self.assertTrue(os.path.isfile(os.path.join(ROOT, "capsules", name, "capsule.yaml")), name)
        bi.check_source_packages(images.values())
        self.assertEqual(images["nginx"].ref, "examples/nginx:%s" % bi.project_version())
        self.assertEqual(images["nginx-tcpdump"].kind, "examples")

    def test_examples_only_when_named(self):
        images = bi.discover()
        default = [i.name for i in bi.select(images, "")]
        self.assertIn("caplet", default)
        self.assertIn("tcpdump", default)
        self.assertNotIn("nginx", default)
        self.assertNotIn("nginx-tcpdump", default)
        self.assertEqual([i.name for i in bi.select(images, "tcpdump,nginx")], ["tcpdump", "nginx"])
        with self.assertRaises(bi.BuildError) as cm:
            bi.select(images, "nginx,nosuch")
        self.assertIn("no image named nosuch", str(cm.exception))


class ImageRootfsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="recap-image-rootfs-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def run_tool(self, *args):
        return subprocess.run([IMAGE_ROOTFS] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)

    def sysroot(self, *files):
        """A system root holding these host files at their own paths."""
        root = os.path.join(self.tmp, "sys")
        os.makedirs(root, exist_ok=True)
        for f in files:
            dst = root + f
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(os.path.realpath(f), dst)
        return root

    def test_missing_file(self):
        r = self.run_tool(self.sysroot(), os.path.join(self.tmp, "d"), "/usr/bin/nothing")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/usr/bin/nothing: no such file", r.stderr)

    def test_dynamic_without_loader(self):
        r = self.run_tool(self.sysroot("/bin/true"), os.path.join(self.tmp, "d"), "/bin/true")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/bin/true is dynamically linked", r.stderr)

    def test_library_from_outside_the_root(self):
        ld = "/lib64/ld-linux-x86-64.so.2"
        if not os.path.exists(ld):
            self.skipTest("not an x86-64 host")
        libc = "/lib/x86_64-linux-gnu/libc.so.6"
        # curl needs libcurl, which this root lacks: the host's must not be taken
        root = self.sysroot(ld, libc, "/usr/bin/curl")
        r = self.run_tool(root, os.path.join(self.tmp, "d"), "/usr/bin/curl")
        self.assertEqual(r.returncode, 1)
        self.assertIn("libcurl", r.stderr)
        self.assertIn("no package of the image provides", r.stderr)

    def test_closure_runs(self):
        d = os.path.join(self.tmp, "d")
        r = self.run_tool("/", d, "/usr/bin/curl=/usr/local/bin/fetch")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(d, "usr/local/bin/fetch")))
        self.assertFalse(os.path.islink(os.path.join(d, "usr/local/bin/fetch")))
        libs = [f for _, _, fs in os.walk(d) for f in fs if f.startswith("libcurl.so")]
        self.assertTrue(libs, "libcurl is in the image root")
        # the program runs with exactly what was copied (the loader's own search, no cache)
        ld = os.path.join(d, "lib64", "ld-linux-x86-64.so.2")
        if os.path.exists(ld) and os.geteuid() == 0:
            out = subprocess.run(["chroot", d, "/usr/local/bin/fetch", "--version"], stdout=subprocess.PIPE,
                                 text=True)
            self.assertEqual(out.returncode, 0)
            self.assertIn("curl", out.stdout)

    def test_usage(self):
        r = self.run_tool("/")
        self.assertEqual(r.returncode, 1)
        self.assertIn("usage: image-rootfs", r.stderr)

    def test_relative_path(self):
        r = self.run_tool("/", os.path.join(self.tmp, "d"), "usr/bin/curl")
        self.assertEqual(r.returncode, 1)
        self.assertIn("paths must be absolute", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
