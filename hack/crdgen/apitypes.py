"""The C view of the four kinds, read from the CRDs' own schemas: the named
types code handles (a kind, a Capsule's spec, an execution's profile, the
items of lists) and every field below each, with its JSON type. hack/gen-api
writes lib/api/types.h and lib/api/schema.c from it, so a field's path, type
and default are spelled once, in hack/crdgen."""

import kinds
import names

# (type, kind, path): a named type and where its schema is taken from. A
# path ending in [] is a list's item.
TYPES = [
    ("capsule", "Capsule", ""),
    ("policy", "CapsulePolicy", ""),
    ("run", "CapsuleRun", ""),
    ("exec", "CapsuleExecution", ""),
    ("capsule_spec", "Capsule", "spec"),
    ("profile", "CapsuleExecution", "spec.capsule"),
    ("env", "Capsule", "spec.env[]"),
    ("role", "Capsule", "spec.roles[]"),
    ("trigger_item", "Capsule", "spec.triggers[]"),
    ("failure", "CapsuleRun", "status.failures[]"),
    ("condition", "Capsule", "status.conditions[]"),
]
# The ObjectMeta fields code reads, of any object (Kubernetes' own type, so
# listed here rather than read from a CRD): (field, JSON type).
META = [
    ("name", "string"), ("namespace", "string"), ("uid", "string"),
    ("resourceVersion", "string"), ("generation", "integer"),
    ("creationTimestamp", "string"), ("deletionTimestamp", "string"),
    ("labels", "object"), ("annotations", "object"),
    ("finalizers", "array"), ("ownerReferences", "array"),
]

# Where a named type sits inside another: accessors stop there and return
# the object, whose own type reads it.
EMBEDDED = {
    ("Capsule", "spec"): "capsule_spec",
    ("CapsuleRun", "status.capsuleSpec"): "capsule_spec",
    ("CapsuleExecution", "spec.capsule"): "profile",
}
# Label selectors are Kubernetes' own type (lib/kubesel reads them).
OPAQUE = {"selector", "namespaceSelector"}
# A Capsule's spec must hold every field of a profile with the same shape
# (types, bounds, enums; its CEL rules may be stricter): code that builds an
# execution reads a Capsule's spec as its profile.
SUPERSETS = [("capsule_spec", "profile")]

CRDS = {}


def crd_schema(kind):
    if not CRDS:
        # the execution's model: with the defaults it does not store (its
        # getters read an absent field as them)
        for f in (kinds.capsule_crd, kinds.policy_crd, kinds.run_crd,
                  lambda: kinds.execution_crd(stored=False)):
            c = f()
            CRDS[c["spec"]["names"]["kind"]] = \
                c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return CRDS[kind]


def at(schema, path):
    """The schema at a dotted path; a part ending in [] steps into items."""
    for part in [p for p in path.split(".") if p]:
        item = part.endswith("[]")
        schema = schema["properties"][part.rstrip("[]")]
        if item:
            schema = schema["items"]
    return schema


def json_type(s):
    if s.get("x-kubernetes-int-or-string"):
        return "quantity"
    t = s.get("type")
    if t == "object" and "additionalProperties" in s:
        return "map"
    return t or "any"


def snake(path):
    return "_".join(names.upper_snake(p).lower() for p in path.split(".") if p)


def embedded_type(kind, path):
    return EMBEDDED.get((kind, path))


def fields(tname):
    """[(path, schema, type, embedded type or None)] below type tname, in
    schema order, not entering embedded types, label selectors or list
    items (a list's item type, when named, has its own fields)."""
    _, kind, root = next(t for t in TYPES if t[0] == tname)
    out = []

    def walk(s, rel, full):
        for name, sub in s.get("properties", {}).items():
            p = f"{rel}.{name}" if rel else name
            f = f"{full}.{name}" if full else name
            if p in ("metadata", "apiVersion", "kind"):
                continue
            emb = embedded_type(kind, f)
            out.append((p, sub, json_type(sub), emb))
            if emb or name in OPAQUE:
                continue
            if json_type(sub) == "object":
                walk(sub, p, f)

    walk(at(crd_schema(kind), root), "", root)
    return out


def shape(s):
    """s without descriptions and CEL rules."""
    if isinstance(s, dict):
        return {k: shape(v) for k, v in s.items()
                if k not in ("description", "x-kubernetes-validations")}
    if isinstance(s, list):
        return [shape(v) for v in s]
    return s


def check_supersets():
    for big, small in SUPERSETS:
        have = {p: shape(s) for p, s, *_ in fields(big)}
        for p, s, *_ in fields(small):
            if p not in have or have[p] != shape(s):
                raise SystemExit(f"apitypes: {small}.{p} is not the same in {big}")


# Enum fields are named by their last word; a generic one by the word
# before it, or by its type when that is spec or status.
GENERIC = {"type", "max", "status", "phase"}


def enum_name(tname, path):
    parts = path.split(".")
    if parts[-1] not in GENERIC:
        return snake(parts[-1])
    parent = parts[-2] if len(parts) > 1 and parts[-2] not in ("spec", "status") else tname
    return snake(parent) + "_" + snake(parts[-1])


def enums():
    """{enum name: values} over every string field with an enum; the same
    name with other values is an error."""
    out = {}
    for tname, *_ in TYPES:
        for path, s, t, _ in fields(tname):
            if t == "string" and "enum" in s:
                n = enum_name(tname, path)
                if out.setdefault(n, s["enum"]) != s["enum"]:
                    raise SystemExit(f"apitypes: enum {n} has two sets of values")
    return out
