#!/usr/bin/env python3
"""Compares the kustomize rendering (config/default) with the Helm chart's
default rendering: the same CRDs, the same RBAC rules per role, the same pod
specs for the controller, caplet and recap-apiserver, the same APIService
(and, with config/prometheus and
monitoring.enabled, the same monitors and alert rules). Labels and comments
may differ.

    same.py KUSTOMIZE.yaml HELM.yaml
"""

import sys

import yaml


def load(path):
    with open(path) as f:
        return {(d["kind"], d["metadata"]["name"]): d
                for d in yaml.safe_load_all(f) if d}


def main():
    k, h = load(sys.argv[1]), load(sys.argv[2])
    errors = []
    # The chart installs into the release's namespace; it does not make it.
    if set(k) - {("Namespace", "recap-system")} != set(h):
        errors.append(f"objects: only kustomize {sorted(set(k) - set(h))}, "
                      f"only helm {sorted(set(h) - set(k))}")
    for key in sorted(set(k) & set(h)):
        a, b = k[key], h[key]
        kind = key[0]
        if kind == "CustomResourceDefinition":
            same = a == b
        elif kind in ("Role", "ClusterRole"):
            same = a["rules"] == b["rules"]
        elif kind in ("RoleBinding", "ClusterRoleBinding"):
            same = (a["roleRef"], a["subjects"]) == (b["roleRef"], b["subjects"])
        elif kind in ("Deployment", "DaemonSet"):
            same = a["spec"]["template"]["spec"] == b["spec"]["template"]["spec"]
        elif kind.startswith("ValidatingAdmissionPolicy"):
            same = a["spec"] == b["spec"]
        elif kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
            same = a["spec"] == b["spec"]
        elif kind == "APIService":
            same = a["spec"] == b["spec"]
        elif kind == "Service":
            same = a["spec"]["ports"] == b["spec"]["ports"]
        else:
            continue
        if not same:
            errors.append(f"{kind} {key[1]} differs")
        else:
            print(f"{kind} {key[1]}: same")
    if errors:
        sys.exit("same: " + "\nsame: ".join(errors))


if __name__ == "__main__":
    main()
