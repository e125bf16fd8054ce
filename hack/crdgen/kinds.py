"""The four CustomResourceDefinitions of recap.dev/v1alpha1."""

import capsule
from schema import (CAPABILITIES, DNS_LABEL, DNS_SUBDOMAIN,
                    FILESYSTEM_MODES, MAX_RETENTION_SECONDS, MAX_TAIL_BYTES,
                    MAX_TIMEOUT_SECONDS,
                    NAMESPACES, array, boolean, capability_list, conditions,
                    enum, integer, label_selector, obj, observed_generation,
                    quantity, rule, rule_naming, string, timestamp)

import names
from names import GROUP, VERSION


def _ready_column():
    ready = next(t for t, *_ in names.CONDITION_TYPES if t == "Ready")
    return {"name": ready, "type": "string",
            "jsonPath": f'.status.conditions[?(@.type=="{ready}")].status',
            "description": "Whether the object is admitted and usable."}


def _age_column():
    return {"name": "Age", "type": "date",
            "jsonPath": ".metadata.creationTimestamp"}


def _col(name, typ, path, desc, priority=None):
    c = {"name": name, "type": typ, "jsonPath": path, "description": desc}
    if priority:
        c["priority"] = priority
    return c


def _key_ref():
    def ref(kind):
        return obj(f"A key of a {kind} in the controller's namespace.", {
            "name": string(f"The {kind}'s name.", 253, min_len=1,
                           pattern=DNS_SUBDOMAIN),
            "key": string("The key holding the PEM public key.", 253,
                          min_len=1, pattern=r"^[-._a-zA-Z0-9]+$"),
        }, required=["name", "key"])
    return obj("One referenced public key: exactly one of configMapKeyRef "
               "and secretKeyRef.", {
                   "configMapKeyRef": ref("ConfigMap"),
                   "secretKeyRef": ref("Secret"),
               }, rules=[rule("has(self.configMapKeyRef) != "
                              "has(self.secretKeyRef)",
                              "a key reference needs exactly one of "
                              "configMapKeyRef and secretKeyRef")])


def _crd(kind, plural, scope, short, categories, desc, spec, status,
         columns, root_rules=None, selectable=None):
    root = {
        "description": desc,
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"description": "APIVersion of this "
                           "representation, recap.dev/v1alpha1.",
                           "type": "string"},
            "kind": {"description": f"Kind of this object, {kind}.",
                     "type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }
    if root_rules:
        root["x-kubernetes-validations"] = root_rules
    version = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "subresources": {"status": {}},
        "additionalPrinterColumns": columns,
    }
    if selectable:
        version["selectableFields"] = [{"jsonPath": p} for p in selectable]
    version["schema"] = {"openAPIV3Schema": root}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {"kind": kind, "listKind": kind + "List",
                      "plural": plural, "singular": kind.lower(),
                      "shortNames": short, "categories": categories},
            "scope": scope,
            "versions": [version],
        },
    }


def _capsule_spec(desc):
    props, rules = capsule.spec()
    return obj(desc, props, required=["image"], rules=rules)


def capsule_crd():
    status = obj("What the controller observed.", {
        "observedGeneration": observed_generation(),
        "conditions": conditions(),
        "matchedTargets": integer("Containers the selector (or roles) "
                                  "currently match.", 0, 2**31 - 1),
        "lastScheduleTime": timestamp("When the schedule last fired."),
        "lastSuccessfulTime": timestamp("When a scheduled run last "
                                        "succeeded."),
        "nextScheduleTime": timestamp("When the schedule fires next."),
        "active": array("Names of the runs of this Capsule that have not "
                        "finished.", string("A CapsuleRun name.", 63), 100,
                        list_type="set"),
    })
    cols = [
        _col("Image", "string", ".spec.image", "The capsule image.", 1),
        _col("Schedule", "string", ".spec.schedule.cron",
             "Cron expression when Periodic."),
        _col("Strategy", "string", ".spec.strategy.type",
             "Parallel or Iterative."),
        _ready_column(),
        _col("Targets", "integer", ".status.matchedTargets",
             "Containers currently matched."),
        _col("Last Schedule", "date", ".status.lastScheduleTime",
             "When the schedule last fired.", 1),
        _age_column(),
    ]
    return _crd(
        "Capsule", names.plural("Capsule"), "Namespaced", ["cap"], ["recap", "all"],
        "A Capsule is a management function packaged as an OCI image, the "
        "containers it is attached to and when it runs.",
        _capsule_spec("What runs, on which targets, when and how "
                      "confined."),
        status, cols)


def policy_crd():
    spec = obj(
        "Guardrails for the Capsules of the selected namespaces. Unset "
        "fields keep the built-in baseline (no added capabilities, no "
        "Unconfined seccomp, targetFilesystem at most ReadOnly).", {
            "namespaceSelector": label_selector(
                "Namespaces whose Capsules this policy governs; unset or "
                "empty selects all."),
            "images": obj("Which capsule images may run.", {
                "allowed": array(
                    "Glob patterns (* matches within a path segment, ** "
                    "across) an image reference must match. Unset: any.",
                    string("An image reference pattern.", 512, min_len=1),
                    64, list_type="set"),
                "requireDigest": boolean("Refuse images not pinned by "
                                         "@sha256 digest.", default=False),
                "digests": array(
                    "If non-empty, only images with one of these manifest "
                    "digests run.",
                    string("A manifest digest.", 71,
                           pattern="^sha256:[a-f0-9]{64}$"), 256,
                    list_type="set"),
                "signatures": obj(
                    "Cosign key-based signatures the images must carry "
                    "(docs/signatures.md). The node agent checks them "
                    "before every execution, against the digest it runs "
                    "(also for an image already in the node's store); "
                    "refused: SignatureRefused. The keys of one policy "
                    "are alternatives (publicKeys and publicKeyRefs "
                    "together, at most 4); when several policies set "
                    "this, each must be met.", {
                        "publicKeys": array(
                            "PEM public keys (cosign.pub: ECDSA P-256, "
                            "P-384 or P-521, RSA of 2048 bits or more, "
                            "Ed25519); a signature by any one of them "
                            "is enough.",
                            string("A PEM public key.", 8192, min_len=1,
                                   rules=[rule_naming(
                                       "self.startsWith('-----BEGIN PUBLIC "
                                       "KEY-----')",
                                       "publicKeys must be PEM public keys "
                                       "(-----BEGIN PUBLIC KEY-----)")]),
                            4, min_items=1, list_type="atomic"),
                        "publicKeyRefs": array(
                            "PEM public keys held in ConfigMaps or Secrets "
                            "of the controller's namespace (--signing-keys-"
                            "namespace), as cosign generate-key-pair "
                            "k8s://NAMESPACE/NAME stores them (key "
                            "cosign.pub). The controller reads them and "
                            "writes them to status.signatures, which the "
                            "node agents use: until it has, for this "
                            "generation, images are refused.",
                            _key_ref(), 4, min_items=1,
                            list_type="atomic"),
                    }, rules=[
                        rule("has(self.publicKeys) || has(self.publicKeyRefs)",
                             "signatures needs publicKeys or publicKeyRefs"),
                        rule("(has(self.publicKeys) ? size(self.publicKeys) : 0)"
                             " + (has(self.publicKeyRefs) ? "
                             "size(self.publicKeyRefs) : 0) <= 4",
                             "publicKeys and publicKeyRefs hold at most 4 "
                             "keys together"),
                    ]),
            }),
            "capabilities": obj("Capabilities a Capsule may add.", {
                "allowed": capability_list("Capabilities Capsules may add "
                                           "to the default set.", 41,
                                           default=[]),
            }, default={}),
            "join": obj("Namespaces a Capsule may join.", {
                "allowed": array("Allowed namespace types.",
                                 enum("A namespace type.", NAMESPACES),
                                 len(NAMESPACES), list_type="set",
                                 default=NAMESPACES),
            }, default={}),
            "targetFilesystem": obj("Access to the target's filesystem.", {
                "max": enum("The most a Capsule may ask for (None < "
                            "ReadOnly < ReadWrite).", FILESYSTEM_MODES,
                            default="ReadOnly"),
            }, default={}),
            "seccomp": obj("Seccomp requirements.", {
                "allowUnconfined": boolean("Allow seccompProfile type "
                                           "Unconfined.", default=False),
                "allowedLocalhostProfiles": array(
                    "Localhost profiles (names under the node agent's "
                    "seccomp directory) a Capsule may use; a profile on "
                    "the node may allow any system call, so none is "
                    "allowed unless listed.",
                    string("A profile name.", 253, min_len=1,
                           pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"),
                    64, list_type="set", default=[]),
            }, default={}),
            "limits": obj("Upper bounds; an unset bound is not enforced.", {
                "maxTimeoutSeconds": integer(
                    "Largest timeoutSeconds allowed.", 1,
                    MAX_TIMEOUT_SECONDS),
                "maxMemory": quantity("Largest memory limit allowed; "
                                      "Capsules must then set one.", "1Mi",
                                      "256Mi"),
                "maxCPU": quantity("Largest cpu limit allowed; Capsules "
                                   "must then set one.", "1m", "500m"),
                "maxConcurrentPerNode": integer(
                    "Executions of governed Capsules running at once on "
                    "one node.", 1, 1000),
                "maxTailBytes": integer("Largest output.tailBytes "
                                        "allowed.", 0, MAX_TAIL_BYTES),
                "maxRetentionSeconds": integer(
                    "Largest output.retentionSeconds allowed (how long a "
                    "node keeps a run's artifacts and log).", 0,
                    MAX_RETENTION_SECONDS),
                "maxConcurrentTriggeredRuns": integer(
                    "Runs fired by the triggers of governed Capsules that "
                    "are not finished, at once, in one namespace; a cause "
                    "beyond it waits. The controller's "
                    "--max-triggered-runs-per-namespace bounds it too.", 1,
                    10000),
                "maxSessionIdleSeconds": integer(
                    "Largest session.idleTimeoutSeconds allowed for an "
                    "interactive Capsule.", 10, 86400),
            }),
            "interactive": obj("Interactive sessions (kubectl capsule "
                               "attach).", {
                "allowed": boolean("Whether governed Capsules may be "
                                   "interactive.", default=True),
            }, default={}),
        }, default={})
    status = obj("What the controller observed.", {
        "observedGeneration": observed_generation(),
        "conditions": conditions(),
        "signatures": obj(
            "The keys spec.images.signatures.publicKeyRefs names, as the "
            "controller read them; node agents take them only when "
            "observedGeneration is the policy's generation.", {
                "observedGeneration": observed_generation(),
                "publicKeys": array(
                    "The referenced PEM public keys, in publicKeyRefs "
                    "order: all of them, or none when one could not be "
                    "read (message says why).",
                    string("A PEM public key.", 8192), 4,
                    list_type="atomic"),
                "message": string("Why the keys could not be read; empty "
                                  "when they were.", 1024),
            }),
        "governedCapsules": integer("Capsules in the selected "
                                    "namespaces.", 0, 2**31 - 1),
        "refusedCapsules": integer("Of those, refused by this policy.", 0,
                                   2**31 - 1),
    })
    cols = [
        _col("Max FS", "string", ".spec.targetFilesystem.max",
             "Most filesystem access allowed."),
        _col("Digest", "boolean", ".spec.images.requireDigest",
             "Whether images must be digest-pinned."),
        _col("Capsules", "integer", ".status.governedCapsules",
             "Capsules governed."),
        _col("Refused", "integer", ".status.refusedCapsules",
             "Capsules refused."),
        _ready_column(),
        _age_column(),
    ]
    return _crd(
        "CapsulePolicy", names.plural("CapsulePolicy"), "Cluster", ["cappol"],
        ["recap"],
        "A CapsulePolicy bounds what Capsules in the selected namespaces "
        "may do. Every policy that selects a namespace must admit a "
        "Capsule there.", spec, status, cols)


# status.artifacts.files of an execution lists at most this many files
ARTIFACT_FILES_LISTED = 100


def _artifacts():
    return obj("What the run kept of /out on its node, until expireTime; "
               "absent when it kept nothing.", {
        "files": array(
            "The files kept, at most 100 (the others are counted in "
            "filesOmitted).",
            obj("One file kept.", {
                "path": string("Its path under /out.", 1024, min_len=1),
                "size": integer("Its size in bytes.", 0, None, fmt="int64"),
                "digest": string("sha256 of its content.", 71,
                                 pattern="^sha256:[a-f0-9]{64}$"),
            }, required=["path", "size", "digest"]),
            ARTIFACT_FILES_LISTED),
        "totalBytes": integer("Bytes kept in all.", 0, None, fmt="int64"),
        "filesOmitted": integer("Files kept but not listed in files.", 0,
                                None, fmt="int64"),
        "expireTime": timestamp("When the artifacts and the run's output "
                                "log expire (output.retentionSeconds "
                                "after the end); the node agent removes "
                                "them within a minute of it."),
    })


def _final_phase(phases, what):
    """A transition rule: a terminal phase never changes again (a finished
    execution is never started a second time)."""
    listed = ", ".join(f"'{p}'" for p in phases)
    return rule(f"!has(oldSelf.phase) || !(oldSelf.phase in [{listed}]) || "
                "(has(self.phase) && self.phase == oldSelf.phase)",
                f"{what} keeps its phase", field_path=".phase")


def _failure():
    return obj("One failed execution.", {
        "execution": string("The CapsuleExecution's name.", 253),
        "pod": string("Target pod.", 253),
        "container": string("Target container.", 63),
        "node": string("Node it ran on.", 253),
        "reason": string("The execution's reason, or " + ", ".join(
                             f"{r} ({what})"
                             for r, _, what in names.RUN_FAILURE_REASONS) +
                         ".", 64),
        "exitCode": integer("Exit code, when the command exited.", 0, 255),
        "message": string("Human-readable detail.", 1024),
    }, required=["execution", "reason"])


def run_crd():
    spec = obj("Which Capsule fires, on which targets.", {
        "capsuleRef": obj("The Capsule, in the run's namespace.", {
            "name": string("The Capsule's name.", 253, min_len=1,
                           pattern=DNS_SUBDOMAIN),
        }, required=["name"], rules=[rule(
            "self == oldSelf", "capsuleRef is immutable")]),
        "targets": array(
            "Explicit target pod names; they replace the Capsule's "
            "targets.selector (roles still come from the role selectors).",
            string("A pod name.", 253, min_len=1, pattern=DNS_SUBDOMAIN),
            1000, min_items=1, list_type="set"),
        "trigger": enum("Who started the run: a person or a program "
                        "(Manual), the schedule (Periodic), or one of the "
                        "Capsule's triggers (" +
                        ", ".join(names.TRIGGERED) + ").",
                        ["Manual", "Periodic"] + names.TRIGGERED,
                        default="Manual",
                        rules=[rule("self == oldSelf",
                                    "trigger is immutable")]),
        "cause": obj(
            "What fired a triggered run, as the controller saw it.", {
                "pod": string("The pod the cause concerns, the run's one "
                              "target.", 253, min_len=1,
                              pattern=DNS_SUBDOMAIN),
                "podUID": string("That pod's uid.", 36),
                "time": timestamp("When the cause happened: when the "
                                  "condition had held for forSeconds, the "
                                  "pod was created, the Event was last "
                                  "recorded (an alert's: when it "
                                  "started)."),
                "reason": string("The condition as TYPE=STATUS, Created, "
                                 "the Event's reason, or the alert's "
                                 "name.", 330, min_len=1),
                "message": string("The condition's, the Event's or the "
                                  "alert's message.", 1024),
                "event": string("The Event's name (PodEvent, Alert).",
                                253),
            }, required=["pod", "time", "reason"],
            rules=[rule("self == oldSelf", "cause is immutable")]),
        "scheduledTime": timestamp("Periodic runs: the time the schedule "
                                   "fired for."),
        "cancel": boolean("Set to true to cancel the run: running "
                          "executions are killed and escaped, pending ones "
                          "never start. Cannot be undone.", default=False,
                          rules=[rule("self || !oldSelf",
                                      "cancel cannot be undone")]),
        "ttlSecondsAfterFinished": integer(
            "Seconds after the run finished (status.completionTime) at "
            "which the controller deletes it, with its executions; as a "
            "Job's. Unset: the controller's default "
            "(--run-ttl-seconds-after-finished, 7 days unless told; 0 there "
            "keeps runs). 0: deleted as soon as it finished. Periodic runs "
            "also go by their Capsule's historyLimits, whichever comes "
            "first.", 0, 31536000),
    }, required=["capsuleRef"], rules=[
        rule("has(self.targets) == has(oldSelf.targets) && "
             "(!has(self.targets) || self.targets == oldSelf.targets)",
             "targets is immutable", field_path=".targets"),
        rule("has(self.scheduledTime) == has(oldSelf.scheduledTime) && "
             "(!has(self.scheduledTime) || "
             "self.scheduledTime == oldSelf.scheduledTime)",
             "scheduledTime is immutable", field_path=".scheduledTime"),
        rule("!has(self.scheduledTime) || self.trigger == 'Periodic'",
             "scheduledTime is only set on Periodic runs",
             field_path=".scheduledTime"),
        rule("has(self.cause) == (self.trigger in [" +
             ", ".join(f"'{t}'" for t in names.TRIGGERED) + "])",
             "cause is set exactly on triggered runs (trigger " +
             ", ".join(names.TRIGGERED) + ")", field_path=".cause"),
        rule("!has(self.cause) || has(self.targets) && "
             "self.targets == [self.cause.pod]",
             "a triggered run has one target, its cause's pod",
             field_path=".targets"),
    ])
    count = "Executions "
    status = obj("Progress and result; small whatever the number of "
                 "targets.", {
        "observedGeneration": observed_generation(),
        "conditions": conditions(),
        "phase": enum("Pending, Running, Succeeded (all succeeded), "
                      "Failed (none succeeded), PartiallyFailed, "
                      "Cancelled.", names.RUN_PHASES),
        "targets": integer("Targets of the run (one execution each).", 0,
                           100000),
        "pending": integer(count + "not started yet.", 0, 100000),
        "running": integer(count + "started and not finished.", 0, 100000),
        "succeeded": integer(count + "that succeeded.", 0, 100000),
        "failed": integer(count + "that failed.", 0, 100000),
        "cancelled": integer(count + "cancelled before they finished.", 0,
                             100000),
        "startTime": timestamp("When the first execution was created."),
        "completionTime": timestamp("When the last execution finished."),
        "capsuleGeneration": integer("The Capsule's metadata.generation "
                                     "the run was made from.", 0, None,
                                     fmt="int64"),
        "capsuleSpec": _capsule_spec(
            "The Capsule spec the run executes, fixed at its start "
            "(image resolved to a digest)."),
        "failures": array("The first failed executions.", _failure(), 10),
        "dispatched": array(
            "The targets the run has dispatched, recorded before their "
            "executions are created: the hash part of each execution's "
            "name (<run>-<id>), sorted. A target listed here never gets a "
            "second execution; one whose execution is gone before it "
            "finished counts as failed (reason ExecutionDeleted). 13 bytes "
            "per target.",
            string("An execution name's hash part.", 10, min_len=10,
                   pattern="^[0-9a-f]{10}$"),
            100000),
    }, rules=[_final_phase(names.RUN_FINAL_PHASES, "a finished run")])
    cols = [
        _col("Capsule", "string", ".spec.capsuleRef.name", "The Capsule."),
        _col("Trigger", "string", ".spec.trigger", "Who started the run."),
        _col("Cause", "string", ".spec.cause.reason",
             "What fired a triggered run.", 1),
        _col("Pod", "string", ".spec.cause.pod",
             "The pod a triggered run's cause concerns.", 1),
        _col("Strategy", "string", ".status.capsuleSpec.strategy.type",
             "Parallel or Iterative."),
        _col("Targets", "integer", ".status.targets", "Targets."),
        _col("Succeeded", "integer", ".status.succeeded",
             "Succeeded executions."),
        _col("Failed", "integer", ".status.failed", "Failed executions."),
        _col("Phase", "string", ".status.phase", "Phase of the run."),
        _age_column(),
    ]
    return _crd(
        "CapsuleRun", names.plural("CapsuleRun"), "Namespaced", ["caprun", "crun"],
        ["recap", "all"],
        "A CapsuleRun is one firing of a Capsule: one execution per target "
        "and their summary.", spec, status, cols,
        root_rules=[rule("size(self.metadata.name) <= 63",
                         "CapsuleRun names are at most 63 characters (they "
                         "are label values)")],
        selectable=[".spec.capsuleRef.name"])


def _target():
    return obj("The container the capsule is attached to.", {
        "pod": string("Pod name.", 253, min_len=1, pattern=DNS_SUBDOMAIN),
        "podUID": string("Pod UID; a recreated pod of the same name is not "
                         "the target.", 36, min_len=1),
        "container": string("Container name.", 63, min_len=1,
                            pattern=DNS_LABEL),
        "containerID": string(
            "Container ID as the kubelet reports it "
            "(<runtime>://<id>).", 256, min_len=1,
            pattern="^[a-z][a-z0-9.+-]*://[A-Za-z0-9_.-]+$"),
        "podIP": string("The pod's IP when the execution was made.", 45),
    }, required=["pod", "podUID", "container", "containerID"])


def execution_crd(stored=True):
    """The execution's CRD; stored=False: the model code reads (the
    profile's defaults that an execution does not store, still in place,
    for the getters)."""
    import capsule as cap
    props = cap.profile(reserve_env_prefix=False)
    if stored:
        for name in cap.ELIDED_DEFAULTS:
            props[name] = cap.without_defaults(props[name])
    profile = obj("The resolved execution profile: the Capsule's (or its "
                  "role's) command and confinement, with RECAP_* variables "
                  "added. Of " + ", ".join(cap.ELIDED_DEFAULTS) + " only what "
                  "differs from the Capsule's defaults is stored; an absent "
                  "field means its default.", props,
                  required=["image"])
    spec = obj("One execution order for the node agent; immutable.", {
        "runRef": obj("The CapsuleRun that owns this execution.", {
            "name": string("The CapsuleRun's name.", 63, min_len=1),
        }, required=["name"]),
        "node": string("Node the target runs on; its agent executes.", 253,
                       min_len=1, pattern=DNS_SUBDOMAIN),
        "target": _target(),
        "role": string("Role of the target, when the Capsule has roles.",
                       24, pattern=capsule.ROLE_NAME),
        "capsule": profile,
        "deadline": timestamp("Not started by then: fails with "
                              "DeadlineExceeded instead; still running "
                              "then: killed, escaped, DeadlineExceeded. "
                              "The controller sets creation + "
                              "timeoutSeconds + 600 s."),
    }, required=["runRef", "node", "target", "capsule"],
        rules=[rule("self == oldSelf", "spec is immutable")])
    t = "When the execution entered phase "
    status = obj("Progress and result, written by the node agent.", {
        "observedGeneration": observed_generation(),
        "conditions": conditions(),
        "phase": enum("Pending, Pulling, Attaching, Running, Escaping, "
                      "then Succeeded or Failed.", names.EXECUTION_PHASES),
        "reason": string("Why it ended: " + ", ".join(
                             f"{r} ({what})"
                             for r, _, what in names.EXECUTION_REASONS) +
                         ".", 64, pattern="^[A-Z][A-Za-z0-9]*$"),
        "message": string("Human-readable detail.", 4096),
        "exitCode": integer("Exit code of the command.", 0, 255),
        "signal": integer("Signal that ended the command.", 1, 64),
        "stdoutTail": string("The last output.tailBytes of stdout.",
                             MAX_TAIL_BYTES),
        "stderrTail": string("The last output.tailBytes of stderr.",
                             MAX_TAIL_BYTES),
        "stdoutBytes": integer("Total bytes written to stdout.", 0,
                               None, fmt="int64"),
        "stderrBytes": integer("Total bytes written to stderr.", 0,
                               None, fmt="int64"),
        "imageDigest": string("Manifest digest of the image that ran.", 71,
                              pattern="^sha256:[a-f0-9]{64}$"),
        "pullStartTime": timestamp(t + "Pulling (microseconds)."),
        "attachStartTime": timestamp(t + "Attaching."),
        "runStartTime": timestamp(t + "Running."),
        "escapeStartTime": timestamp(t + "Escaping."),
        "completionTime": timestamp(t + "Succeeded or Failed."),
        "escaped": boolean("The node verified that no mount, process, "
                           "cgroup or file of the execution is left."),
        "relayEndpoint": string("HOST:PORT of the node agent's relay that "
                                "serves this execution's log and artifacts "
                                "to recap-apiserver (mutual TLS), written "
                                "when the node agent attaches it.", 300),
        "artifacts": _artifacts(),
    }, rules=[
        _final_phase(["Succeeded", "Failed"], "a finished execution"),
        rule("!has(oldSelf.escaped) || !oldSelf.escaped || "
             "(has(self.escaped) && self.escaped)",
             "escaped cannot be undone", field_path=".escaped"),
    ])
    cols = [
        _col("Run", "string", ".spec.runRef.name", "Owning CapsuleRun."),
        _col("Pod", "string", ".spec.target.pod", "Target pod."),
        _col("Container", "string", ".spec.target.container",
             "Target container.", 1),
        _col("Role", "string", ".spec.role", "Role of the target.", 1),
        _col("Node", "string", ".spec.node", "Node."),
        _col("Phase", "string", ".status.phase", "Phase."),
        _col("Exit", "integer", ".status.exitCode", "Exit code."),
        _col("Reason", "string", ".status.reason", "Failure cause.", 1),
        _age_column(),
    ]
    return _crd(
        "CapsuleExecution", names.plural("CapsuleExecution"), "Namespaced",
        ["capexec", "cexec"], ["recap"],
        "A CapsuleExecution is one execution order: a capsule attached to "
        "one container on one node. Created by the controller, run by the "
        "node agent.", spec, status, cols,
        selectable=[".spec.node", ".spec.runRef.name"])


ALL = [capsule_crd, policy_crd, run_crd, execution_crd]
