#!/usr/bin/env python3
"""Reads rendered manifests (multi-document YAML) and checks the
RBAC of RECap's own components: the roles bound to the controller's,
caplet's and recap-apiserver's service accounts grant no wildcard API group,
resource or verb, no nonResourceURLs, and nothing on secrets, pods/exec or
nodes; the exceptions are the controller's relay certificates: in a
namespaced Role, secrets may be created, and read or updated by name
(resourceNames), never listed, watched or deleted; its signing keys:
secrets read by name (get alone, resourceNames); and recap-apiserver's
pull credentials: secrets read by name (get alone), never listed or
watched. The only built-in roles
bound are the two every aggregated API server needs (BUILTIN).

    rbac_check.py FILE      prints one line per role checked
"""

import sys

import yaml

ACCOUNTS = {"recap-controller", "recap-caplet", "recap-apiserver"}
# Bound to recap-apiserver, defined by Kubernetes: TokenReviews and
# SubjectAccessReviews; reading kube-system/extension-apiserver-authentication.
BUILTIN = {("ClusterRole", "system:auth-delegator"),
           ("Role", "extension-apiserver-authentication-reader")}
FORBIDDEN = {"secrets", "pods/exec", "pods/attach", "nodes", "nodes/proxy",
             "serviceaccounts/token", "escalate", "bind", "impersonate"}


def bound_roles(items):
    """(kind, name) of every role bound to one of ACCOUNTS."""
    roles = set()
    for o in items:
        if o["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        for s in o.get("subjects", []):
            if s.get("kind") == "ServiceAccount" and s.get("name") in ACCOUNTS:
                roles.add((o["roleRef"]["kind"], o["roleRef"]["name"]))
    return roles


CERTS_ROLE = "recap-controller-certs"
KEYS_ROLE = "recap-controller-signing-keys"
APISERVER_ROLE = "recap-apiserver"


def secrets_allowed(role, rule):
    """The relay certificates' rule: a Role of the controller, secrets only,
    create alone or get/update by name; the pull credentials' rule:
    recap-apiserver's ClusterRole, secrets only, get alone."""
    if (role["kind"], role["metadata"]["name"]) not in (("Role", CERTS_ROLE), ("Role", KEYS_ROLE),
                                                        ("ClusterRole", APISERVER_ROLE)):
        return False
    if set(rule.get("resources", [])) != {"secrets"} or rule.get("apiGroups") != [""]:
        return False
    verbs = set(rule.get("verbs", []))
    if role["kind"] == "ClusterRole" and role["metadata"]["name"] == APISERVER_ROLE:
        return verbs == {"get"}
    if role["metadata"]["name"] == KEYS_ROLE:
        return verbs == {"get"} and bool(rule.get("resourceNames"))
    return verbs == {"create"} or (verbs <= {"get", "update"} and bool(rule.get("resourceNames")))


def problems(role):
    name = role["metadata"]["name"]
    out = []
    if not role.get("rules"):
        out.append(f"{name}: no rules")
    for i, r in enumerate(role.get("rules", [])):
        where = f"{name}: rule {i}"
        for field in ("apiGroups", "resources", "verbs"):
            if "*" in r.get(field, []):
                out.append(f"{where}: wildcard in {field}")
        if "nonResourceURLs" in r:
            out.append(f"{where}: nonResourceURLs")
        bad = FORBIDDEN & (set(r.get("resources", [])) | set(r.get("verbs", [])))
        if bad == {"secrets"} and secrets_allowed(role, r):
            bad = set()
        if bad:
            out.append(f"{where}: grants {sorted(bad)}")
    return out


def main():
    with open(sys.argv[1]) as f:
        items = [d for d in yaml.safe_load_all(f) if d]
    wanted = bound_roles(items)
    found = {(o["kind"], o["metadata"]["name"]): o for o in items
             if o["kind"] in ("Role", "ClusterRole")}
    if len(wanted) < 3:
        sys.exit(f"rbac_check: only {sorted(wanted)} bound to {sorted(ACCOUNTS)}")
    errors = []
    for key in sorted(wanted):
        if key in BUILTIN and key not in found:
            print(f"{key[0]} {key[1]}: built-in")
            continue
        if key not in found:
            errors.append(f"{key[0]} {key[1]} is bound but not rendered")
            continue
        bad = problems(found[key])
        errors += bad
        if not bad:
            print(f"{key[0]} {key[1]}: {len(found[key]['rules'])} rules, no wildcard")
    if errors:
        sys.exit("rbac_check: " + "\nrbac_check: ".join(errors))


if __name__ == "__main__":
    main()
