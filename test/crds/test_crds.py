#!/usr/bin/env python3
"""The recap.dev CRDs against a real kube-apiserver: install crds/, create
every sample and read the defaults back, accept unusual valid objects,
refuse a table of invalid objects and updates with the expected message, status subresources, printer
columns, categories and field selectors. One control plane for the file."""

import datetime
import json
import os
import re
import signal
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree

from kube import ROOT, Cluster, Failure, case, failed  # noqa: E402
import cases  # noqa: E402

NS = "recap-crds"
SAMPLES = {
    "tcpdump": "capsule-tcpdump.yaml",
    "logrotate": "capsule-logrotate.yaml",
    "iperf": "capsule-iperf.yaml",
    "production": "capsulepolicy-production.yaml",
    "run": "capsulerun.yaml",
    "execution": "capsuleexecution.yaml",
}
CRDS = {  # plural: (short names, categories)
    "capsules": (["cap"], ["recap", "all"]),
    "capsulepolicies": (["cappol"], ["recap"]),
    "capsuleruns": (["caprun", "crun"], ["recap", "all"]),
    "capsuleexecutions": (["capexec", "cexec"], ["recap"]),
}


def expect(what, got, want):
    if got != want:
        raise Failure(f"{what}: got {got!r}, want {want!r}")


def get(obj, path):
    """The value at a dotted path (list indexes as numbers), or <unset>."""
    for p in path.split("."):
        if isinstance(obj, list) and p.isdigit() and int(p) < len(obj):
            obj = obj[int(p)]
        elif isinstance(obj, dict) and p in obj:
            obj = obj[p]
        else:
            return "<unset>"
    return obj


def fields(label, obj, pairs):
    """One case per (dotted path, wanted value) of obj."""
    for path, want in pairs:
        case(f"{label} {path} = {want}",
             lambda p=path, w=want: expect(p, get(obj, p), w))


def install(k):
    k.ok("apply", "-k", os.path.join(ROOT, "crds"))
    names = [f"crd/{p}.recap.dev" for p in CRDS]
    k.wait_established(names)
    for plural, (short, cats) in CRDS.items():
        crd = k.json("get", f"crd/{plural}.recap.dev")
        fields(f"crd {plural}", crd, [
            ("spec.names.shortNames", short),
            ("spec.names.categories", cats),
            ("spec.versions.0.subresources", {"status": {}})])
    k.ok("create", "namespace", NS)


def check_samples(k, base):
    """Every sample is accepted; what it leaves out is defaulted."""
    for key, f in SAMPLES.items():
        path = os.path.join(ROOT, "config", "samples", f)
        base[key] = k.local(path)
        case(f"sample {f} accepted",
             lambda p=path: k.ok("create", "-n", NS, "-f", p))
    fields("sample iperf", k.json("get", "-n", NS, "capsule", "iperf"), [
        ("spec.security.seccompProfile.type", "RuntimeDefault"),
        ("spec.security.runAsUser", 0), ("spec.targetFilesystem", "None"),
        ("spec.historyLimits", {"succeeded": 3, "failed": 1})])
    fields("sample logrotate",
           k.json("get", "-n", NS, "capsule", "logrotate"), [
               ("spec.schedule.suspend", False),
               ("spec.output.tailBytes", 4096),
               ("spec.join", ["pid", "ipc", "uts"])])
    fields("sample run", k.json("get", "-n", NS, "capsulerun",
                                "tcpdump-incident-4711"),
           [("spec.trigger", "Manual"), ("spec.cancel", False)])


def check_defaults(k):
    """Minimal objects get every documented default."""
    minimal = {"apiVersion": "recap.dev/v1alpha1", "kind": "Capsule",
               "metadata": {"name": "minimal"},
               "spec": {"image": "busybox", "targets": {"selector": {}},
                        "schedule": {"cron": "@hourly"}}}
    k.ok("create", "-n", NS, "-f", "-", stdin=json.dumps(minimal))
    fields("default: Capsule", k.json("get", "-n", NS, "capsule", "minimal"), [
        ("spec.join", ["net", "pid", "ipc", "uts"]),
        ("spec.targetFilesystem", "ReadOnly"),
        ("spec.security.seccompProfile.type", "RuntimeDefault"),
        ("spec.security.runAsUser", 0), ("spec.security.runAsGroup", 0),
        ("spec.timeoutSeconds", 300), ("spec.output.tailBytes", 4096),
        ("spec.strategy", {"type": "Parallel"}),
        ("spec.historyLimits", {"succeeded": 3, "failed": 1}),
        ("spec.schedule.timeZone", "UTC"),
        ("spec.schedule.concurrencyPolicy", "Allow"),
        ("spec.schedule.suspend", False), ("spec.command", "<unset>")])
    # an execution's profile: join and targetFilesystem defaulted, the
    # defaults its readers take from the getters not stored
    ex = {"apiVersion": "recap.dev/v1alpha1", "kind": "CapsuleExecution",
          "metadata": {"name": "minimal"},
          "spec": {"runRef": {"name": "r"}, "node": "n",
                   "target": {"pod": "p", "podUID": "u", "container": "c",
                              "containerID": "containerd://0123"},
                   "capsule": {"image": "busybox"}}}
    k.ok("create", "-n", NS, "-f", "-", stdin=json.dumps(ex))
    fields("default: CapsuleExecution",
           k.json("get", "-n", NS, "capsuleexecution", "minimal"), [
               ("spec.capsule.join", ["net", "pid", "ipc", "uts"]),
               ("spec.capsule.targetFilesystem", "ReadOnly"),
               ("spec.capsule.timeoutSeconds", "<unset>"),
               ("spec.capsule.interactive", "<unset>"),
               ("spec.capsule.security", "<unset>"),
               ("spec.capsule.session", "<unset>"),
               ("spec.capsule.output", "<unset>")])
    policy = {"apiVersion": "recap.dev/v1alpha1", "kind": "CapsulePolicy",
              "metadata": {"name": "baseline"}, "spec": {}}
    k.ok("create", "-f", "-", stdin=json.dumps(policy))
    fields("default: CapsulePolicy",
           k.json("get", "capsulepolicy", "baseline"), [
               ("spec.capabilities.allowed", []),
               ("spec.join.allowed", ["net", "pid", "ipc", "uts", "cgroup"]),
               ("spec.targetFilesystem.max", "ReadOnly"),
               ("spec.seccomp.allowUnconfined", False)])


def refused(k, obj, fragment, verb="create", *args):
    rc, err = k.apply_obj(verb, obj, *args)
    if rc == 0:
        raise Failure("accepted, want refused")
    if fragment not in err:
        raise Failure(f"refused without {fragment!r}: {err.strip()}")


def accepted(k, obj, *args):
    rc, err = k.apply_obj("create", obj, *args)
    if rc != 0:
        raise Failure(f"refused: {err.strip()}")


def check_edited(k, base):
    for i, (name, key, edits) in enumerate(cases.ACCEPTED):
        obj = cases.make(base[key], edits, f"valid-{i}")
        args = [] if key == "production" else ["-n", NS]
        case(f"accepted: {name}", accepted, k, obj, *args)
    for i, (name, key, edits, fragment) in enumerate(cases.REFUSED):
        obj = cases.make(base[key], edits, f"invalid-{i}")
        args = [] if key == "production" else ["-n", NS]
        case(f"refused: {name}", refused, k, obj, fragment, "create", *args)


def patch(k, kind, name, body, *extra):
    return k.run("patch", "-n", NS, kind, name, "--type=merge", "-p",
                 json.dumps(body), *extra)


def patch_refused(k, kind, name, body, fragment, *extra):
    rc, _, err = patch(k, kind, name, body, *extra)
    if rc == 0:
        raise Failure("accepted, want refused")
    if fragment not in err:
        raise Failure(f"refused without {fragment!r}: {err.strip()}")


def patch_ok(k, kind, name, body, *extra):
    rc, _, err = patch(k, kind, name, body, *extra)
    if rc != 0:
        raise Failure(f"refused: {err.strip()}")


def check_updates(k):
    run, exe = "tcpdump-incident-4711", "tcpdump-29401230-6f4b2c9d1e"
    st = "--subresource=status"
    now = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    good = {"type": "Ready", "status": "True", "reason": "Admitted",
            "message": "admitted by 1 policy", "lastTransitionTime": now,
            "observedGeneration": 1}
    cases = [
        ("update refused: CapsuleRun capsuleRef changed", patch_refused,
         "capsulerun", run, {"spec": {"capsuleRef": {"name": "iperf"}}},
         "capsuleRef is immutable"),
        ("update refused: CapsuleRun targets changed", patch_refused,
         "capsulerun", run, {"spec": {"targets": ["other-pod"]}},
         "spec.targets: Invalid value: \"object\": targets is immutable"),
        ("update refused: CapsuleRun trigger changed", patch_refused,
         "capsulerun", run, {"spec": {"trigger": "Periodic"}},
         "trigger is immutable"),
        ("update accepted: CapsuleRun cancel set", patch_ok, "capsulerun",
         run, {"spec": {"cancel": True}}),
        ("update refused: CapsuleRun cancel undone", patch_refused,
         "capsulerun", run, {"spec": {"cancel": False}},
         "cancel cannot be undone"),
        ("update refused: CapsuleExecution node changed", patch_refused,
         "capsuleexecution", exe, {"spec": {"node": "worker-3"}},
         "spec is immutable"),
        ("update refused: CapsuleExecution command changed", patch_refused,
         "capsuleexecution", exe,
         {"spec": {"capsule": {"command": ["sh"]}}}, "spec is immutable"),
        ("update accepted: Capsule spec is mutable", patch_ok, "capsule",
         "tcpdump", {"spec": {"timeoutSeconds": 30}}),
        ("status refused: execution phase not in the enum", patch_refused,
         "capsuleexecution", exe, {"status": {"phase": "Done"}},
         'status.phase: Unsupported value: "Done"', st),
        ("status refused: exit code over 255", patch_refused,
         "capsuleexecution", exe, {"status": {"exitCode": 256}},
         "status.exitCode: Invalid value: 256: exitCode in body should be "
         "less than or equal to 255", st),
        ("status refused: condition status Maybe", patch_refused, "capsule",
         "tcpdump", {"status": {"conditions": [dict(good, status="Maybe")]}},
         'status.conditions[0].status: Unsupported value: "Maybe"', st),
        ("status refused: condition without reason", patch_refused,
         "capsule", "tcpdump",
         {"status": {"conditions": [{k_: v for k_, v in good.items()
                                     if k_ != "reason"}]}},
         "status.conditions[0].reason: Required value", st),
        ("status refused: duplicate condition type", patch_refused,
         "capsule", "tcpdump", {"status": {"conditions": [good, good]}},
         'status.conditions[1]: Duplicate value: {"type":"Ready"}', st),
        ("status accepted: execution finished", patch_ok,
         "capsuleexecution", exe, {"status": {
             "phase": "Succeeded", "exitCode": 0, "escaped": True,
             "stdoutTail": "100 packets captured\n", "stdoutBytes": 21,
             "imageDigest": "sha256:" + "5c" * 32,
             "runStartTime": "2025-11-24T10:30:01.123456Z"}}, st),
        ("status refused: finished execution running again", patch_refused,
         "capsuleexecution", exe, {"status": {"phase": "Running"}},
         "a finished execution keeps its phase", st),
        ("status refused: escaped undone", patch_refused,
         "capsuleexecution", exe, {"status": {"escaped": False}},
         "escaped cannot be undone", st),
        ("status accepted: Ready condition", patch_ok, "capsule", "tcpdump",
         {"status": {"observedGeneration": 2, "conditions": [good],
                     "matchedTargets": 4}}, st),
    ]
    for name, fn, *args in cases:
        case(name, fn, k, *args)
    sample = os.path.join(ROOT, "config", "samples", "capsule-tcpdump.yaml")
    case("server-side apply of a sample (list maps keyed as declared)",
         lambda: (k.ok("apply", "--server-side", "--force-conflicts", "-n",
                       NS, "-f", sample),
                  expect("timeoutSeconds", get(k.json(
                      "get", "-n", NS, "capsule", "tcpdump"),
                      "spec.timeoutSeconds"), 60)))


def check_run_table(k, base):
    """kubectl get capsuleruns reads as docs/design.md §2 shows once status is set."""
    run = cases.make(base["run"], [
        ("spec.trigger", "Periodic"),
        ("spec.scheduledTime", "2025-11-24T10:30:00Z"),
        ("spec.targets", cases.DELETE)], "tcpdump-29401230")
    k.ok("create", "-n", NS, "-f", "-", stdin=json.dumps(run))
    status = {"status": {
        "observedGeneration": 1, "phase": "Succeeded", "targets": 4,
        "pending": 0, "running": 0, "succeeded": 4, "failed": 0,
        "startTime": "2025-11-24T10:30:01Z",
        "completionTime": "2025-11-24T10:30:03Z", "capsuleGeneration": 1,
        "capsuleSpec": base["tcpdump"]["spec"]}}
    case("status accepted: CapsuleRun result", patch_ok, k, "capsulerun",
         "tcpdump-29401230", status, "--subresource=status")
    case("status refused: finished run running again", patch_refused, k,
         "capsulerun", "tcpdump-29401230", {"status": {"phase": "Running"}},
         "a finished run keeps its phase", "--subresource=status")
    case("status ignored through the main resource", lambda: (
        patch(k, "capsulerun", "tcpdump-29401230",
              {"status": {"phase": "Failed"}}),
        expect("phase", get(k.json("get", "-n", NS, "capsulerun",
                                   "tcpdump-29401230"), "status.phase"),
               "Succeeded")))
    out = k.ok("get", "-n", NS, "capsuleruns", "tcpdump-29401230")
    lines = out.splitlines()
    case("kubectl get capsuleruns: header", expect, "header",
         lines[0].split(), ["NAME", "CAPSULE", "TRIGGER", "STRATEGY",
                            "TARGETS", "SUCCEEDED", "FAILED", "PHASE", "AGE"])
    row = lines[1].split() if len(lines) > 1 else []
    case("kubectl get capsuleruns: row", expect, "row", row[:8],
         ["tcpdump-29401230", "tcpdump", "Periodic", "Parallel", "4", "4",
          "0", "Succeeded"])
    case("kubectl get capsuleruns: age", lambda: None if len(row) == 9 and
         re.fullmatch(r"[0-9]+s", row[8]) else expect("age", row[8:], "<n>s"))


def check_listing(k):
    def kinds(*args):
        out = k.ok("get", *args, "-n", NS, "-o", "name")
        return sorted({line.split("/")[0] for line in out.split()})
    case("kubectl get recap lists every kind", expect, "kinds",
         kinds("recap"), ["capsule.recap.dev", "capsuleexecution.recap.dev",
                          "capsulepolicy.recap.dev", "capsulerun.recap.dev"])
    case("kubectl get all lists Capsules and CapsuleRuns", expect, "kinds",
         kinds("all"), ["capsule.recap.dev", "capsulerun.recap.dev"])
    case("short names", expect, "kinds", kinds("cap,cappol,crun,cexec"),
         ["capsule.recap.dev", "capsuleexecution.recap.dev",
          "capsulepolicy.recap.dev", "capsulerun.recap.dev"])
    out = k.ok("get", "-n", NS, "capsules", "tcpdump")
    case("kubectl get capsules: header", expect, "header",
         out.splitlines()[0].split(),
         ["NAME", "SCHEDULE", "STRATEGY", "READY", "TARGETS", "AGE"])
    case("kubectl get capsules: row (no schedule)", expect, "row",
         out.splitlines()[1].split()[:4], ["tcpdump", "Parallel", "True", "4"])
    out = k.ok("get", "-n", NS, "capsuleexecutions")
    case("kubectl get capsuleexecutions: header", expect, "header",
         out.splitlines()[0].split(),
         ["NAME", "RUN", "POD", "NODE", "PHASE", "EXIT", "AGE"])
    for sel, want in [("spec.node=worker-2", 1), ("spec.node=worker-3", 0),
                      ("spec.runRef.name=tcpdump-29401230", 1)]:
        case(f"field selector {sel}", lambda s=sel, w=want: expect(
            "matches", len(k.ok("get", "-n", NS, "capsuleexecutions",
                                "--field-selector", s, "-o",
                                "name").split()), w))
    case("kubectl explain shows descriptions", lambda: None if
         "Wall-clock limit" in k.ok("explain", "capsules.spec.timeoutSeconds")
         else expect("explain", "no description", "Wall-clock limit"))


def main():
    bindir = os.environ.get("RECAP_KUBE_BIN", "")
    if not os.access(os.path.join(bindir, "kubectl"), os.X_OK):
        print("skip: RECAP_KUBE_BIN does not hold kubectl "
              "(export RECAP_KUBE_BIN=$(hack/build-kube))")
        return 77
    # meson's timeout sends SIGTERM: unwind so the cluster comes down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("crds: terminated"))
    base = {}
    try:
        with Cluster(bindir) as k:
            install(k)
            check_samples(k, base)
            check_defaults(k)
            check_edited(k, base)
            check_updates(k)
            check_run_table(k, base)
            check_listing(k)
    except Failure as e:
        print(f"FAIL setup: {e}", flush=True)
        return 1
    if failed:
        print(f"crds: {len(failed)} case(s) failed: " + "; ".join(failed))
        return 1
    print("crds: all cases passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
