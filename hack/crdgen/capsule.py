"""The Capsule spec: the execution profile (what runs and how it is
confined, also copied into every CapsuleExecution) plus the parts that say
where and when it runs."""

from schema import (DEFAULT_CAPABILITIES, DEFAULT_JOIN, DNS_LABEL, DNS_SUBDOMAIN,
                    FILESYSTEM_MODES, QUALIFIED_NAME,
                    MAX_RETENTION_SECONDS, MAX_TAIL_BYTES,
                    MAX_TIMEOUT_SECONDS, NAMESPACES, array,
                    boolean, capability_list, enum, integer, label_selector,
                    obj, quantity, rule, rule_naming, string)

ROLE_NAME = r"^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$"
CRON_FIELD = "[0-9A-Za-z*/,?-]+"


def command(desc):
    return array(
        desc,
        string("An argument; the first one is the program.", 4096), 256,
        min_items=1, list_type="atomic",
        rules=[rule("size(self) > 0 && self[0] != ''",
                    "command must not be empty: its first element names "
                    "the program")])


def _env(reserve_prefix):
    name_rules = [rule_naming("self.matches('^[A-Za-z_][A-Za-z0-9_]*$')",
                       "environment variable names must be letters, digits "
                       "and _ and must not start with a digit")]
    if reserve_prefix:
        name_rules.append(rule_naming(
            "!self.startsWith('RECAP_')",
            "environment variable names starting with RECAP_ are set by "
            "RECap (e.g. RECAP_ROLE_<ROLE>_IPS)"))
    var = obj("An environment variable.", {
        "name": string("The variable's name.", 256, min_len=1,
                       rules=name_rules),
        "value": string("The variable's value.", 32768),
    }, required=["name"])
    return array("Environment of the command, on top of the image's.", var,
                 64, list_type="map", map_keys=["name"])


def _pull_secrets():
    ref = obj("A Secret in the Capsule's namespace.", {
        "name": string("The Secret's name.", 253, min_len=1,
                       pattern=DNS_SUBDOMAIN),
    }, required=["name"], map_type="atomic")
    return array(
        "Secrets in the Capsule's namespace, of type "
        "kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg, with "
        "the credentials to pull image; for a registry named in several, "
        "the first wins. Only the node agent of a node that runs one of "
        "the Capsule's executions gets them (from recap-apiserver, while "
        "that execution has not ended). An image pulled with credentials "
        "is run from the node's store only after the registry accepted "
        "the credentials of the execution that asks for it.",
        ref, 8, list_type="map", map_keys=["name"])


def _security():
    seccomp = obj(
        "The seccomp filter installed before exec.",
        {
            "type": enum(
                "RuntimeDefault: RECap's default filter (blocks mount, "
                "unshare, setns, bpf, keyctl, the i386/x32 ABIs, ...; "
                "ptrace only with SYS_PTRACE). Localhost: an OCI seccomp "
                "JSON profile installed on the node. Unconfined: no filter "
                "(a CapsulePolicy must allow it).",
                ["RuntimeDefault", "Localhost", "Unconfined"],
                default="RuntimeDefault"),
            "localhostProfile": string(
                "With type Localhost: the profile's path relative to the "
                "node agent's seccomp directory.", 4096, min_len=1,
                rules=[rule_naming("!self.startsWith('/') && "
                            "!self.matches('(^|/)[.][.](/|$)')",
                            "localhostProfile must be a relative path "
                            "without .. components")]),
        },
        default={"type": "RuntimeDefault"},
        rules=[rule("self.type == 'Localhost' ? has(self.localhostProfile) "
                    ": !has(self.localhostProfile)",
                    "localhostProfile is required with type Localhost and "
                    "forbidden with other types")])
    caps = obj(
        "Capabilities of the command, relative to the minimal default set "
        + ", ".join(DEFAULT_CAPABILITIES) + ".",
        {
            "add": capability_list("Capabilities added to the default "
                                   "set.", 41),
            "drop": capability_list("Capabilities removed from the "
                                    "default set before add applies; ALL "
                                    "removes every one (then add lists all "
                                    "the command holds). Dropping never "
                                    "violates a CapsulePolicy.",
                                    42, extra=["ALL"]),
        },
        rules=[rule("!has(self.add) || !has(self.drop) || "
                    "!self.add.exists(c, c in self.drop)",
                    "a capability cannot be both added and dropped")])
    return obj("How the command is confined.", {
        "capabilities": caps,
        "seccompProfile": seccomp,
        "runAsUser": integer("User ID the command runs as (in the "
                             "target's user namespace view: not joined, so "
                             "the node's).", 0, 4294967294, default=0,
                             fmt="int64"),
        "runAsGroup": integer("Group ID the command runs as.", 0,
                              4294967294, default=0, fmt="int64"),
    }, default={})


def _resources():
    return obj("Resource limits of the execution's own cgroup.", {
        "limits": obj("Upper bounds; an unset limit is not enforced "
                      "(a CapsulePolicy may cap them).", {
            "cpu": quantity("CPU limit, e.g. 200m.", "1m", "200m or 1"),
            "memory": quantity("Memory limit, e.g. 64Mi.", "1Mi",
                               "64Mi or 1G"),
            "pids": integer("Maximum number of processes and threads.", 1,
                            1048576),
        }),
    })


# Profile fields that every reader takes through its getter (lib/api/types.h),
# which reads an absent field as its default: an execution stores them only
# where they differ from the default. The controller leaves the others out
# (recap_api_profile_elide_defaults) and the execution's CRD does not default
# them, so an execution holds what its Capsule says, not the schema's
# defaults (about 240 bytes in etcd per execution). join and
# targetFilesystem are not among them: the node agent copies those into
# the executor's spec as they are, so an execution always holds them.
ELIDED_DEFAULTS = ("interactive", "timeoutSeconds", "security", "session",
                   "output")


def without_defaults(s):
    """s with every default below it taken out."""
    if isinstance(s, dict):
        return {k: without_defaults(v) for k, v in s.items() if k != "default"}
    if isinstance(s, list):
        return [without_defaults(v) for v in s]
    return s


def elided_defaults():
    """[(path, default)] of every defaulted field below ELIDED_DEFAULTS,
    leaves only (an object's own default {} is its leaves')."""
    out = []

    def walk(path, s):
        if s.get("type") == "object" and "properties" in s:
            for k, sub in s["properties"].items():
                walk(f"{path}.{k}", sub)
        elif "default" in s:
            out.append((path, s["default"]))

    props = profile()
    for name in ELIDED_DEFAULTS:
        walk(name, props[name])
    return out


def profile(reserve_env_prefix=True):
    """Fields that say what runs and how; copied into executions."""
    return {
        "image": string(
            "The capsule: a registry image reference "
            "([registry[:port]/]repository[:tag][@sha256:...], digest pin "
            "recommended). An oci:<dir> layout is a path on the node and "
            "is refused: only the standalone capsule CLI reads those.",
            1024, min_len=1,
            rules=[rule_naming("!self.matches('\\\\s')",
                        "image must be an image reference without "
                        "whitespace"),
                   rule_naming("!self.startsWith('oci:')",
                               "image must be a registry reference (oci: "
                               "layouts on the node are for the standalone "
                               "capsule CLI only)")]),
        "imagePullSecrets": _pull_secrets(),
        "command": command("The command and its arguments. Default: the "
                           "image's entrypoint and cmd."),
        "env": _env(reserve_env_prefix),
        "join": array(
            "Namespaces shared with the target. Namespaces not listed are "
            "new and private to the execution, never the node's. The mount "
            "namespace is never joined: the target's filesystem is at "
            "/target instead.",
            enum("A namespace type (mnt is never joined).", NAMESPACES),
            len(NAMESPACES), list_type="set", default=DEFAULT_JOIN),
        "targetFilesystem": enum(
            "How the target's root filesystem is shown at /target. "
            "ReadOnly and None also hold for the target's processes: the "
            "capsule cannot write the target's files through "
            "/proc/<pid>/root, cwd or fd, nor its memory through "
            "/proc/<pid>/mem, and cannot ptrace them even with SYS_PTRACE "
            "(Landlock; on a node without Landlock, such a Capsule that "
            "joins pid is refused). A debugger that attaches to the "
            "target's processes needs ReadWrite, where with SYS_PTRACE it "
            "can change the target's memory (that is what a debugger does).",
            FILESYSTEM_MODES, default="ReadOnly"),
        "security": _security(),
        "resources": _resources(),
        "timeoutSeconds": integer(
            "Wall-clock limit of one execution from attach to exit; then "
            "it is killed (reason DeadlineExceeded).", 1,
            MAX_TIMEOUT_SECONDS, default=300),
        "interactive": boolean(
            "An interactive session instead of a command that runs on "
            "its own (kubectl capsule attach makes such a Capsule): the "
            "command gets a terminal whose input and output are a user's, "
            "through the CapsuleRun's attach subresource "
            "(subresources.recap.dev; RBAC create on capsuleruns/attach). "
            "Its run has exactly one target; the command starts when the "
            "user attaches and ends when the session does (the user "
            "leaves, session.idleTimeoutSeconds, or timeoutSeconds).",
            default=False),
        "session": obj("Bounds of an interactive session.", {
            "attachTimeoutSeconds": integer(
                "How long the execution waits for its user to attach "
                "before it ends (reason Cancelled).", 1, 600, default=60),
            "idleTimeoutSeconds": integer(
                "The session ends after this long with no input and no "
                "output.", 10, 86400, default=900),
        }, default={}),
        "output": obj("What is kept of the command's output.", {
            "tailBytes": integer(
                "Bytes of stdout and of stderr kept (the last ones) in the "
                "execution's status.", 0, MAX_TAIL_BYTES, default=4096),
            "outSize": quantity(
                "Size of /out, where the command leaves files to keep (a "
                "tmpfs, nosuid, nodev, noexec, counted in the memory "
                "limit); what it holds at the end is copied to the node's "
                "store, at most this much. Default 64Mi.", "1Mi", "64Mi",
                rules=[rule_naming(
                    "!isQuantity(string(self)) || quantity(string(self))"
                    ".compareTo(quantity('1Gi')) <= 0",
                    "must be at most 1Gi", "string(self)")]),
            "logSize": quantity(
                "Bytes of the run's whole output (stdout and stderr in the "
                "order they came) kept on the node, the first ones, for "
                "`kubectl capsule logs`; 0 keeps none. Default 8Mi.", "0", "8Mi",
                rules=[rule_naming(
                    "!isQuantity(string(self)) || quantity(string(self))"
                    ".compareTo(quantity('1Gi')) <= 0",
                    "must be at most 1Gi", "string(self)")]),
            "retentionSeconds": integer(
                "How long the node keeps a run's artifacts (what /out "
                "held) and its output log after the run ended; then "
                "they are removed. Within the node agent's artifact "
                "quota.", 0, MAX_RETENTION_SECONDS, default=3600),
        }, default={}),
    }


def _schedule():
    macro = "^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$"
    five = f"^{CRON_FIELD}( +{CRON_FIELD}){{4}}$"
    return obj("When set, the Capsule runs periodically (CronJob "
               "semantics, each firing a CapsuleRun with trigger "
               "Periodic).", {
        "cron": string(
            "Standard 5-field cron expression (minute hour day-of-month "
            "month day-of-week) or @yearly, @monthly, @weekly, @daily, "
            "@hourly.", 128, min_len=1,
            rules=[rule_naming(
                f"self.matches('{macro}') || self.matches('{five}')",
                "cron must have exactly 5 fields (minute hour day-of-month "
                "month day-of-week) or be a macro such as @hourly")]),
        "timeZone": string(
            "IANA time zone the cron expression is read in.", 64,
            min_len=1, default="UTC",
            rules=[rule_naming("self != 'Local' && self.matches("
                        "'^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$')",
                        "timeZone must be an IANA time zone name such as "
                        "Europe/Berlin or UTC")]),
        "concurrencyPolicy": enum(
            "What happens when a firing is due while a previous run is "
            "active: Allow both, Forbid (skip the new one), Replace "
            "(cancel the old one).", ["Allow", "Forbid", "Replace"],
            default="Allow"),
        "startingDeadlineSeconds": integer(
            "A start missed by more than this is skipped. Unset: no "
            "deadline.", 0, 604800, fmt="int64"),
        "suspend": boolean("Stop creating new runs; active ones go on.",
                           default=False),
    }, required=["cron"])


TRIGGER_KINDS = ["podCondition", "podCreated", "podEvent", "alert"]


def _triggers():
    condition = obj(
        "Fires when a selected pod's condition has had the given status "
        "for forSeconds (e.g. Ready False for 30 seconds).", {
            "type": string("The pod condition's type, e.g. Ready, "
                           "ContainersReady or a readiness gate's.", 316,
                           min_len=1, pattern=QUALIFIED_NAME),
            "status": enum("The status that fires.",
                           ["True", "False", "Unknown"]),
            "forSeconds": integer("How long the condition must have had "
                                  "that status (since its "
                                  "lastTransitionTime).", 0, 86400,
                                  default=0),
        }, required=["type", "status"])
    created = obj(
        "Fires once for each selected pod created after the Capsule, as "
        "soon as its container runs (e.g. a compliance check of every new "
        "pod).", {})
    event = obj(
        "Fires when a Kubernetes Event about a selected pod is recorded "
        "with one of these reasons (e.g. Unhealthy, BackOff, OOMKilling).", {
            "reasons": array("Event reasons that fire.",
                             string("An Event reason.", 128, min_len=1,
                                    pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"),
                             16, min_items=1, list_type="set"),
            "type": enum("The Event's type. Unset: either.",
                         ["Normal", "Warning"]),
        }, required=["reasons"])
    alert = obj(
        "Fires when an Alertmanager alert that names a selected pod (its "
        "labels namespace and pod) and one of these alertnames reaches "
        "recap-apiserver's alerts receiver, which records it as an Event "
        "about the pod (docs/triggers.md).", {
            "alertNames": array("Alert names (the alertname label) that "
                                "fire.",
                                string("An alert name.", 128, min_len=1,
                                       pattern=r"^[A-Za-z][A-Za-z0-9]*$"),
                                16, min_items=1, list_type="set"),
        }, required=["alertNames"])
    one = " + ".join(f"(has(self.{k}) ? 1 : 0)" for k in TRIGGER_KINDS)
    item = obj("One cause that fires a run for the pod it concerns: "
               "exactly one of " + ", ".join(TRIGGER_KINDS) + ".", {
                   "podCondition": condition,
                   "podCreated": created,
                   "podEvent": event,
                   "alert": alert,
               }, rules=[rule(f"{one} == 1",
                              "a trigger needs exactly one of " +
                              ", ".join(TRIGGER_KINDS))])
    return array(
        "Causes that fire a CapsuleRun for one target, the pod the cause "
        "concerns (its trigger and spec.cause say which), besides "
        "schedule and manual runs. The pod must be one the targets "
        "select and its container running. A cause fires at most once; "
        "triggerLimits bound the rest (docs/triggers.md).",
        item, 4, min_items=1, list_type="atomic")


def _trigger_limits():
    return obj("Guardrails of the runs triggers fire; a CapsulePolicy "
               "(limits.maxConcurrentTriggeredRuns) and the controller "
               "also bound the runs of a namespace.", {
        "cooldownSeconds": integer(
            "After a triggered run for a pod, no other triggered run for "
            "it starts for this long.", 0, 604800, default=600),
        "maxConcurrentRuns": integer(
            "Triggered runs of this Capsule not finished at once; a cause "
            "beyond it waits until one finishes.", 1, 100, default=5),
        "maxCauseAgeSeconds": integer(
            "A cause older than this never fires (dropped, counted in the "
            "Capsule's TriggerSuppressed events): a storm does not turn "
            "into a backlog of stale runs.", 10, 86400, default=300),
    }, default={})


def _strategy():
    return obj("How the targets of one run are worked through.", {
        "type": enum("Parallel: all targets at once. Iterative: a few at "
                     "a time in a stable order.", ["Parallel", "Iterative"],
                     default="Parallel"),
        "maxConcurrent": integer("Iterative only: targets at a time "
                                 "(default 1).", 1, 1000),
        "order": enum("Iterative only: order of the targets (default "
                      "Name).", ["Name", "CreationTimestamp"]),
        "failurePolicy": enum("Iterative only: Stop halts the rollout at "
                              "the first failure, Continue goes on "
                              "(default Stop).", ["Continue", "Stop"]),
    }, default={"type": "Parallel"}, rules=[rule(
        "self.type == 'Iterative' || !has(self.maxConcurrent) && "
        "!has(self.order) && !has(self.failurePolicy)",
        "maxConcurrent, order and failurePolicy are only allowed with type "
        "Iterative")])


def _roles():
    role = obj("A group of targets with its own selector and command.", {
        "name": string("Role name; peers see RECAP_ROLE_<NAME>_IPS (upper "
                       "case, - as _).", 24, min_len=1, pattern=ROLE_NAME),
        "selector": label_selector("Pods of this role, in the Capsule's "
                                   "namespace."),
        "container": string("Container in those pods. Default: "
                            "spec.targets.container, else the first.", 63,
                            pattern=DNS_LABEL),
        "command": command("The role's command. Default: spec.command."),
        "startAfter": array(
            "Roles whose executions must be running before this role's "
            "start (e.g. clients after servers).",
            string("A role name.", 24, pattern=ROLE_NAME), 7,
            list_type="set"),
    }, required=["name", "selector"])
    return array("Parallel only: split a run into named groups.", role, 8,
                 list_type="map", map_keys=["name"])


def spec():
    props = profile()
    props.update({
        "targets": obj("Which containers the capsule is attached to.", {
            "selector": label_selector(
                "Pods in the Capsule's own namespace; an empty selector "
                "matches all of them."),
            "container": string("Container name in each pod. Default: "
                                "the pod's first container.", 63,
                                pattern=DNS_LABEL),
        }),
        "schedule": _schedule(),
        "triggers": _triggers(),
        "triggerLimits": _trigger_limits(),
        "strategy": _strategy(),
        "roles": _roles(),
        "historyLimits": obj("Finished runs created by the schedule or "
                             "by triggers that are kept (a triggered run "
                             "at least until its pod's cooldownSeconds "
                             "and its cause's maxCauseAgeSeconds have "
                             "passed).", {
            "succeeded": integer("Succeeded runs kept.", 0, 100, default=3),
            "failed": integer("Failed, partially failed or cancelled runs "
                              "kept.", 0, 100, default=1),
        }, default={}),
    })
    has_roles = "has(self.roles) && size(self.roles) > 0"
    has_sel = "has(self.targets) && has(self.targets.selector)"
    rules = [
        rule("!self.interactive || !has(self.schedule)",
             "an interactive Capsule cannot have a schedule: a user "
             "attaches to each of its runs", field_path=".interactive"),
        rule("!self.interactive || !has(self.triggers)",
             "an interactive Capsule cannot have triggers: a user attaches "
             "to each of its runs", field_path=".interactive"),
        rule(f"!({has_roles}) || !has(self.triggers)",
             "triggers and roles are mutually exclusive: a triggered run "
             "has one target, the pod its cause concerns",
             field_path=".triggers"),
        rule(f"!({has_roles}) || self.strategy.type == 'Parallel'",
             "roles are only allowed with strategy.type Parallel",
             field_path=".roles"),
        rule(f"{has_sel} || {has_roles}",
             "targets.selector is required unless roles are given",
             field_path=".targets"),
        rule(f"!({has_sel} && {has_roles})",
             "targets.selector and roles are mutually exclusive: each role "
             "has its own selector", field_path=".roles"),
        rule("!has(self.roles) || self.roles.all(r, !has(r.startAfter) || "
             "r.startAfter.all(a, a != r.name && "
             "self.roles.exists(o, o.name == a)))",
             "roles[].startAfter must name other roles of this Capsule",
             field_path=".roles"),
    ]
    return props, rules
