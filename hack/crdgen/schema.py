"""Building blocks for structural OpenAPI v3 schemas: every field has a
description, every list a maxItems and every string a bound, so the API
server can estimate the cost of every CEL rule."""

# Linux capabilities (linux/capability.h, 0..40), written without CAP_.
CAPABILITIES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
    "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
    "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
]
# What a capsule's command holds when it adds and drops nothing: enough to
# read and fix files of other users and to signal processes, nothing that
# reaches the network, devices or the kernel.
# lib/runtime/sandbox_caps.c implements it.
DEFAULT_CAPABILITIES = [
    "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "NET_BIND_SERVICE", "AUDIT_WRITE",
]
NAMESPACES = ["net", "pid", "ipc", "uts", "cgroup"]
DEFAULT_JOIN = ["net", "pid", "ipc", "uts"]
FILESYSTEM_MODES = ["None", "ReadOnly", "ReadWrite"]

MAX_TAIL_BYTES = 65536
MAX_RETENTION_SECONDS = 604800  # 7 days
MAX_TIMEOUT_SECONDS = 86400

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = (
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
QUALIFIED_NAME = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
)
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"


def rule(expr, message=None, message_expression=None, reason=None,
         field_path=None):
    r = {"rule": expr}
    if message:
        r["message"] = message
    if message_expression:
        r["messageExpression"] = message_expression
    if reason:
        r["reason"] = reason
    if field_path:
        r["fieldPath"] = field_path
    return r


def rule_naming(expr, message, value="self"):
    """A rule whose error also quotes the offending value."""
    assert "'" not in message and "\\" not in message, message
    return rule(expr, message, message_expression=(
        f"'{message}, not \"' + {value} + '\"'"))


def _with(s, default=None, rules=None, **extra):
    if default is not None:
        s["default"] = default
    s.update({k: v for k, v in extra.items() if v is not None})
    if rules:
        s["x-kubernetes-validations"] = rules
    return s


def string(desc, max_len, min_len=None, pattern=None, enum=None,
           default=None, rules=None, fmt=None):
    s = {"description": desc, "type": "string"}
    if fmt:
        s["format"] = fmt
    if enum:
        s["enum"] = enum
    else:
        if min_len is not None:
            s["minLength"] = min_len
        s["maxLength"] = max_len
    if pattern:
        s["pattern"] = pattern
    return _with(s, default, rules)


def enum(desc, values, default=None, rules=None):
    return string(desc, None, enum=values, default=default, rules=rules)


def timestamp(desc):
    return {"description": desc, "type": "string", "format": "date-time"}


def integer(desc, minimum, maximum, default=None, fmt="int32", rules=None):
    # int64 fields stay without a maximum: the API server compares bounds
    # as float64, and 2^63-1 does not survive that.
    s = {"description": desc, "type": "integer", "format": fmt,
         "minimum": minimum}
    if maximum is not None:
        s["maximum"] = maximum
    return _with(s, default, rules)


def boolean(desc, default=None, rules=None):
    return _with({"description": desc, "type": "boolean"}, default, rules)


def array(desc, items, max_items, min_items=None, list_type=None,
          map_keys=None, default=None, rules=None):
    s = {"description": desc, "type": "array", "items": items,
         "maxItems": max_items}
    if min_items is not None:
        s["minItems"] = min_items
    if list_type:
        s["x-kubernetes-list-type"] = list_type
    if map_keys:
        s["x-kubernetes-list-map-keys"] = map_keys
    return _with(s, default, rules)


def obj(desc, props, required=None, default=None, rules=None,
        map_type=None):
    s = {"description": desc, "type": "object"}
    if required:
        s["required"] = required
    s["properties"] = props
    if map_type:
        s["x-kubernetes-map-type"] = map_type
    return _with(s, default, rules)


def quantity(desc, minimum, example, rules=None):
    """A resource.Quantity (int or string) of at least `minimum`."""
    return {
        "description": desc,
        "x-kubernetes-int-or-string": True,
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "maxLength": 64,
        "x-kubernetes-validations": [
            rule_naming("isQuantity(string(self))",
                        f"must be a quantity such as {example}",
                        "string(self)"),
            rule_naming(f"!isQuantity(string(self)) || "
                        f"quantity(string(self)).compareTo("
                        f"quantity('{minimum}')) >= 0",
                        f"must be at least {minimum}", "string(self)"),
        ] + (rules or []),
    }


def capability_list(desc, max_items, extra=None, default=None):
    names = CAPABILITIES + (extra or [])
    item = enum("A Linux capability name, upper case, without the CAP_ "
                "prefix (NET_RAW, not CAP_NET_RAW).", names)
    return array(desc, item, max_items, list_type="set", default=default)


def label_selector(desc):
    req = obj(
        "A label selector requirement: a key, an operator and values.",
        {
            "key": string("The label key the selector applies to.", 317,
                          min_len=1, pattern=QUALIFIED_NAME),
            "operator": enum("How the key relates to the values.",
                             ["In", "NotIn", "Exists", "DoesNotExist"]),
            "values": array(
                "Label values; non-empty for In and NotIn, empty for "
                "Exists and DoesNotExist.",
                string("A label value.", 63, pattern=LABEL_VALUE), 64,
                list_type="atomic"),
        },
        required=["key", "operator"],
        rules=[rule(
            "self.operator in ['In', 'NotIn'] ? "
            "has(self.values) && size(self.values) > 0 : "
            "!has(self.values) || size(self.values) == 0",
            "values must be non-empty for In and NotIn and empty for "
            "Exists and DoesNotExist")],
    )
    return obj(
        desc,
        {
            "matchLabels": {
                "description": "Labels that must all be present with "
                               "exactly these values.",
                "type": "object",
                "maxProperties": 64,
                "additionalProperties": string("A label value.", 63,
                                               pattern=LABEL_VALUE),
                "x-kubernetes-validations": [rule(
                    "self.all(k, size(k) <= 317 && k.matches('"
                    + QUALIFIED_NAME.replace("\\", "\\\\") + "'))",
                    "label keys must be qualified names such as app or "
                    "example.com/tier")],
            },
            "matchExpressions": array(
                "Requirements that must all hold.", req, 32,
                list_type="atomic"),
        },
        map_type="atomic",
    )


def conditions():
    cond = obj(
        "A metav1.Condition: one aspect of the object's current state.",
        {
            "type": string(
                "The condition type in CamelCase, e.g. Ready.", 316,
                pattern=QUALIFIED_NAME),
            "status": enum("True, False or Unknown.",
                           ["True", "False", "Unknown"]),
            "observedGeneration": integer(
                "The .metadata.generation the condition was computed "
                "from.", 0, None, fmt="int64"),
            "lastTransitionTime": timestamp(
                "When the condition last changed status."),
            "reason": string(
                "A CamelCase word for the cause of the last transition.",
                1024, min_len=1,
                pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
            "message": string(
                "A human-readable explanation of the transition.", 32768),
        },
        required=["type", "status", "lastTransitionTime", "reason",
                  "message"],
    )
    return array(
        "Standard conditions, one per type (kstatus, Flux and Argo CD "
        "read them).", cond, 16, list_type="map", map_keys=["type"])


def observed_generation():
    return integer(
        "The .metadata.generation the status was computed from.", 0,
        None, fmt="int64")
