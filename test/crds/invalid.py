"""Objects the API server must refuse, each with one mistake, and the
fragment of the error that names it. `base` is a sample's kind; `edits`
are (dotted path, value) pairs applied to a copy of it (DELETE removes)."""

import copy

DELETE = object()


def edit(obj, path, value):
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    for p in parts[:-1]:
        if isinstance(p, str) and p not in obj:
            obj[p] = {}
        obj = obj[p]
    if value is DELETE:
        del obj[parts[-1]]
    else:
        obj[parts[-1]] = value


def make(base, edits, name):
    obj = copy.deepcopy(base)
    obj["metadata"] = {"name": name}
    for path, value in edits:
        edit(obj, path, value)
    return obj


SEL = {"matchLabels": {"app": "x"}}

# (case, base sample, edits, expected fragment of the error)
CREATE = [
    ("targetFilesystem not in the enum", "tcpdump",
     [("spec.targetFilesystem", "Writable")],
     'spec.targetFilesystem: Unsupported value: "Writable"'),
    ("negative timeoutSeconds", "tcpdump", [("spec.timeoutSeconds", -5)],
     "spec.timeoutSeconds in body should be greater than or equal to 1"),
    ("timeoutSeconds over a day", "tcpdump",
     [("spec.timeoutSeconds", 86401)],
     "spec.timeoutSeconds in body should be less than or equal to 86400"),
    ("6-field cron", "logrotate", [("spec.schedule.cron", "0 15 3 * * *")],
     "cron must have exactly 5 fields"),
    ("4-field cron", "logrotate", [("spec.schedule.cron", "15 3 * *")],
     "cron must have exactly 5 fields"),
    ("cron with a TZ prefix", "logrotate",
     [("spec.schedule.cron", "CRON_TZ=UTC 15 3 * * *")],
     "cron must have exactly 5 fields"),
    ("unknown cron macro", "logrotate", [("spec.schedule.cron", "@every 5m")],
     "cron must have exactly 5 fields"),
    ("timeZone as an offset", "logrotate",
     [("spec.schedule.timeZone", "+02:00")],
     "timeZone must be an IANA time zone name"),
    ("timeZone Local", "logrotate", [("spec.schedule.timeZone", "Local")],
     "timeZone must be an IANA time zone name"),
    ("concurrencyPolicy not in the enum", "logrotate",
     [("spec.schedule.concurrencyPolicy", "Never")],
     'spec.schedule.concurrencyPolicy: Unsupported value: "Never"'),
    ("roles with strategy Iterative", "iperf",
     [("spec.strategy", {"type": "Iterative"})],
     "spec.roles: Invalid value: \"object\": roles are only allowed with "
     "strategy.type Parallel"),
    ("maxConcurrent with Parallel", "tcpdump",
     [("spec.strategy", {"type": "Parallel", "maxConcurrent": 2})],
     "maxConcurrent, order and failurePolicy are only allowed with type "
     "Iterative"),
    ("failurePolicy with the default strategy", "tcpdump",
     [("spec.strategy", {"failurePolicy": "Stop"})],
     "only allowed with type Iterative"),
    ("strategy type not in the enum", "tcpdump",
     [("spec.strategy", {"type": "Serial"})],
     'spec.strategy.type: Unsupported value: "Serial"'),
    ("tailBytes over 64 KiB", "tcpdump", [("spec.output.tailBytes", 65537)],
     "spec.output.tailBytes in body should be less than or equal to 65536"),
    ("negative tailBytes", "tcpdump", [("spec.output.tailBytes", -1)],
     "spec.output.tailBytes in body should be greater than or equal to 0"),
    ("capability with CAP_ prefix", "tcpdump",
     [("spec.security.capabilities.add", ["CAP_NET_RAW"])],
     'spec.security.capabilities.add[0]: Unsupported value: "CAP_NET_RAW"'),
    ("capability in lower case", "tcpdump",
     [("spec.security.capabilities.add", ["net_raw"])],
     'Unsupported value: "net_raw"'),
    ("capability added and dropped", "tcpdump",
     [("spec.security.capabilities.drop", ["NET_RAW"])],
     "a capability cannot be both added and dropped"),
    ("missing image", "tcpdump", [("spec.image", DELETE)],
     "spec.image: Required value"),
    ("empty image", "tcpdump", [("spec.image", "")],
     "spec.image in body should be at least 1 chars long"),
    ("image with whitespace", "tcpdump",
     [("spec.image", "registry.local/x tcpdump")],
     "image must be an image reference without whitespace"),
    ("empty command list", "tcpdump", [("spec.command", [])],
     "spec.command in body should have at least 1 items"),
    ("command with an empty program", "tcpdump",
     [("spec.command", ["", "-c", "1"])],
     "command must not be empty"),
    ("duplicate join entry", "tcpdump", [("spec.join", ["net", "pid", "net"])],
     'spec.join[2]: Duplicate value: "net"'),
    ("join mnt", "tcpdump", [("spec.join", ["net", "mnt"])],
     'spec.join[1]: Unsupported value: "mnt"'),
    ("Localhost seccomp without a profile", "tcpdump",
     [("spec.security.seccompProfile", {"type": "Localhost"})],
     "localhostProfile is required with type Localhost"),
    ("RuntimeDefault seccomp with a profile", "tcpdump",
     [("spec.security.seccompProfile",
       {"type": "RuntimeDefault", "localhostProfile": "x.json"})],
     "forbidden with other types"),
    ("absolute Localhost profile", "tcpdump",
     [("spec.security.seccompProfile",
       {"type": "Localhost", "localhostProfile": "/etc/x.json"})],
     "localhostProfile must be a relative path"),
    ("Localhost profile escaping with ..", "tcpdump",
     [("spec.security.seccompProfile",
       {"type": "Localhost", "localhostProfile": "a/../../x.json"})],
     "localhostProfile must be a relative path"),
    ("env name starting with a digit", "tcpdump",
     [("spec.env", [{"name": "1TZ", "value": "x"}])],
     "environment variable names must be letters, digits and _"),
    ("env name with a dash", "tcpdump",
     [("spec.env", [{"name": "MY-VAR", "value": "x"}])],
     "environment variable names must be letters, digits and _"),
    ("env name in the RECAP_ namespace", "tcpdump",
     [("spec.env", [{"name": "RECAP_ROLE_SERVER_IPS", "value": "x"}])],
     "environment variable names starting with RECAP_ are set by RECap"),
    ("duplicate env name", "tcpdump",
     [("spec.env", [{"name": "A", "value": "1"}, {"name": "A"}])],
     'spec.env[1]: Duplicate value: {"name":"A"}'),
    ("65 env variables", "tcpdump",
     [("spec.env", [{"name": f"V{i}"} for i in range(65)])],
     "spec.env: Too many: 65: must have at most 64 items"),
    ("memory not a quantity", "tcpdump",
     [("spec.resources.limits.memory", "64 megs")],
     "must be a quantity such as 64Mi"),
    ("memory below 1Mi", "tcpdump",
     [("spec.resources.limits.memory", "512Ki")], "must be at least 1Mi"),
    ("cpu of zero", "tcpdump", [("spec.resources.limits.cpu", 0)],
     "must be at least 1m"),
    ("pids of zero", "tcpdump", [("spec.resources.limits.pids", 0)],
     "spec.resources.limits.pids in body should be greater than or equal "
     "to 1"),
    ("neither selector nor roles", "tcpdump", [("spec.targets", DELETE)],
     "targets.selector is required unless roles are given"),
    ("selector and roles", "iperf", [("spec.targets", {"selector": SEL})],
     "targets.selector and roles are mutually exclusive"),
    ("startAfter an unknown role", "iperf",
     [("spec.roles.1.startAfter", ["servers"])],
     "roles[].startAfter must name other roles of this Capsule"),
    ("role name in upper case", "iperf", [("spec.roles.0.name", "Server")],
     "spec.roles[0].name in body should match"),
    ("In selector without values", "tcpdump",
     [("spec.targets.selector",
       {"matchExpressions": [{"key": "app", "operator": "In"}]})],
     "values must be non-empty for In and NotIn"),
    ("historyLimits over 100", "logrotate",
     [("spec.historyLimits.succeeded", 101)],
     "spec.historyLimits.succeeded in body should be less than or equal "
     "to 100"),
    ("Capsule name over 52 characters", "tcpdump",
     [("metadata.name", "c" * 53)], "Capsule names are at most 52 characters"),
    ("policy digest not sha256", "production",
     [("spec.images.digests", ["md5:0123456789abcdef"])],
     "spec.images.digests[0] in body should match"),
    ("policy targetFilesystem.max not in the enum", "production",
     [("spec.targetFilesystem.max", "Full")],
     'spec.targetFilesystem.max: Unsupported value: "Full"'),
    ("policy maxMemory not a quantity", "production",
     [("spec.limits.maxMemory", "lots")], "must be a quantity such as 256Mi"),
    ("policy unknown capability", "production",
     [("spec.capabilities.allowed", ["SYS_EVERYTHING"])],
     'Unsupported value: "SYS_EVERYTHING"'),
    ("run without capsuleRef", "run", [("spec.capsuleRef", DELETE)],
     "spec.capsuleRef: Required value"),
    ("run trigger not in the enum", "run", [("spec.trigger", "Cron")],
     'spec.trigger: Unsupported value: "Cron"'),
    ("scheduledTime on a Manual run", "run",
     [("spec.scheduledTime", "2025-11-24T10:30:00Z")],
     "scheduledTime is only set on Periodic runs"),
    ("run with an empty target list", "run", [("spec.targets", [])],
     "spec.targets in body should have at least 1 items"),
    ("execution without containerID", "execution",
     [("spec.target.containerID", DELETE)],
     "spec.target.containerID: Required value"),
    ("execution containerID without runtime", "execution",
     [("spec.target.containerID", "4a6f0d2c9e8b")],
     "spec.target.containerID in body should match"),
    ("execution tailBytes over 64 KiB", "execution",
     [("spec.capsule.output.tailBytes", 1 << 20)],
     "spec.capsule.output.tailBytes in body should be less than or equal "
     "to 65536"),
]
