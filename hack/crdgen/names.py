"""The words of the recap.dev API that code and CRDs share: the group and
version, the kinds and their resources, the phases, and the reasons an
execution ends with. hack/gen-crds puts them in the CRDs, hack/gen-api in
lib/api/names.h; adding a reason is one edit here."""

GROUP = "recap.dev"
VERSION = "v1alpha1"
# The aggregated API recap-apiserver serves: subresources of CapsuleRun
# that stream (a run's log, its artifacts), not stored objects.
SUBRESOURCES_GROUP = "subresources.recap.dev"
SUBRESOURCES_VERSION = "v1alpha1"
RUN_SUBRESOURCES = ["log", "artifacts"]
# recap-apiserver's Alertmanager receiver: POST .../alerts records each
# alert as a core Event about its pod, reported by this component; the
# Capsules' alert triggers match those Events.
ALERTS_RESOURCE = "alerts"
ALERTS_COMPONENT = "recap.dev/alerts"

# (kind, plural, namespaced)
KINDS = [
    ("Capsule", "capsules", True),
    ("CapsulePolicy", "capsulepolicies", False),
    ("CapsuleRun", "capsuleruns", True),
    ("CapsuleExecution", "capsuleexecutions", True),
]

# A CapsuleRun's spec.trigger when one of its Capsule's triggers fired it,
# one per kind of spec.triggers[] (podCondition, podCreated, podEvent, alert).
TRIGGERED = ["PodCondition", "PodCreated", "PodEvent", "Alert"]

EXECUTION_PHASES = ["Pending", "Pulling", "Attaching", "Running", "Escaping",
                    "Succeeded", "Failed"]
RUN_PHASES = ["Pending", "Running", "Succeeded", "Failed", "PartiallyFailed",
              "Cancelled"]
RUN_FINAL_PHASES = ["Succeeded", "Failed", "PartiallyFailed", "Cancelled"]

# What the executor reports (its result's "reason"): (reason, meaning).
EXECUTOR_REASONS = [
    ("Completed", "the command exited 0"),
    ("Failed", "the command exited non-zero (an execution's status says Error)"),
    ("Killed", "a signal ended the command"),
    ("DeadlineExceeded", "the timeout fired"),
    ("OOMKilled", "the memory limit fired"),
    ("Cancelled", "the executor was told to stop"),
    ("TargetNotFound", "the target's process was not there"),
    ("CommandNotFound", "the command is not in the capsule"),
    ("StartFailed", "the command could not be executed"),
    ("AttachFailed", "namespaces, mounts, cgroup or sandbox could not be set up"),
    ("InvalidSpec", "the spec was refused"),
]

# An execution's status.reason: (reason, who sets it, meaning). The order is
# the order of caplet's metrics.
EXECUTION_REASONS = [
    ("Completed", "caplet", "the command exited 0 and the run escaped"),
    ("Error", "caplet", "the command exited non-zero"),
    ("Killed", "caplet", "a signal ended the command"),
    ("DeadlineExceeded", "caplet", "the timeout or spec.deadline passed"),
    ("OOMKilled", "caplet", "the memory limit fired"),
    ("Cancelled", "caplet", "the run was cancelled or the execution deleted"),
    ("TargetNotFound", "caplet", "the target container was not there, or the "
     "CRI does not know it"),
    ("TargetGone", "caplet", "the target exited during the run"),
    ("CommandNotFound", "caplet", "the command is not in the capsule"),
    ("StartFailed", "caplet", "the command or the executor could not be "
     "started, or the CRI could not be asked"),
    ("AttachFailed", "caplet", "the sandbox could not be set up"),
    ("InvalidSpec", "caplet", "the spec cannot be run as written (or names "
     "another pod's container)"),
    ("PolicyDenied", "caplet", "a CapsulePolicy refused it on the node"),
    ("ImagePullFailed", "caplet", "the capsule image could not be pulled"),
    ("SignatureRefused", "caplet", "a CapsulePolicy requires a cosign "
     "signature of the image's digest by one of its keys, and none verifies "
     "(unsigned, another key, another digest, altered, malformed)"),
    ("NodeAgentRestarted", "caplet", "the node agent restarted during the run"),
    ("ExecutorFailed", "caplet", "the executor ended without a result"),
    ("NodeLost", "controller", "the node agent had not reported the end by "
     "spec.deadline plus the controller's margin: its node or agent is lost; "
     "the command can no longer start"),
]

# A CapsuleRun's status.failures[].reason: the execution's reason, or one the
# controller gives when the execution cannot say: (reason, who, meaning).
RUN_FAILURE_REASONS = [
    ("ExecutionDeleted", "controller", "the execution was deleted (or never "
     "made) before it finished; its target is not run again"),
    ("ExecutionNameCollision", "controller", "the target's execution name (a "
     "40-bit hash of run, pod and container) is another target's of the same "
     "run; the target is not run"),
]


def upper_snake(word):
    """DeadlineExceeded -> DEADLINE_EXCEEDED, OOMKilled -> OOM_KILLED."""
    out = ""
    for i, c in enumerate(word):
        if c.isupper() and i > 0 and (word[i - 1].islower() or
                                      (i + 1 < len(word) and
                                       word[i + 1].islower())):
            out += "_"
        out += c.upper()
    return out


def plural(kind):
    """The resource name of kind."""
    return next(p for k, p, _ in KINDS if k == kind)


# The conditions in status.conditions: (type, kinds, meaning). Reconciling
# and Stalled are the kstatus conventions (Flux, kpt, Config Sync read them:
# Reconciling True is in progress, Stalled True is failed, neither is
# current); Complete and Failed split a finished run as a Job's are.
CONDITION_TYPES = [
    ("Ready", "Capsule, CapsulePolicy", "the Capsule is admitted; the "
     "policy's counts are observed"),
    ("Admitted", "CapsuleRun", "the run's Capsule is admitted"),
    ("Complete", "CapsuleRun", "the run succeeded (its reason: Succeeded or "
     "NoTargets); False otherwise"),
    ("Failed", "CapsuleRun", "the run ended without success (its reason: the "
     "phase, FailurePolicyStop or the refusal)"),
    ("Reconciling", "CapsuleRun, CapsuleExecution", "not finished yet (its "
     "reason: the phase, or CapsuleNotFound while a run waits for its "
     "Capsule)"),
    ("Triggered", "CapsuleRun", "a trigger of the Capsule fired the run (its "
     "reason: the trigger, its message: the cause)"),
    ("Stalled", "Capsule, CapsulePolicy, CapsuleRun, CapsuleExecution", "it failed or was "
     "refused and will not get better by itself (its reason says why)"),
]
# The reasons of those conditions besides run phases: (reason, meaning).
CONDITION_REASONS = [
    ("Admitted", "the Capsule passed validation and every CapsulePolicy"),
    ("Observed", "a CapsulePolicy's counts are current"),
    ("KeysUnavailable", "a CapsulePolicy's publicKeyRefs could not all be "
     "read (the ConfigMap, Secret or key is missing, not readable, or not a "
     "public key): images it governs are refused until they can"),
    ("InvalidSpec", "the Capsule's spec cannot be run as written"),
    ("PolicyViolation", "a CapsulePolicy refused the Capsule"),
    ("SignatureRefused", "the image does not carry the cosign signatures a "
     "CapsulePolicy requires (checked in its registry by the controller)"),
    ("CapsuleNotFound", "the run's Capsule does not exist (the run waits)"),
    ("InProgress", "the run has not finished"),
    ("NoTargets", "the run finished without a target"),
    ("FailurePolicyStop", "a failure stopped the run (failurePolicy Stop)"),
]

# The finalizer caplet holds on an execution until it has escaped.
FINALIZER_ESCAPE = "recap.dev/escape"
# Labels the controller puts on runs and executions: (name, meaning).
LABELS = [
    ("run", "recap.dev/run", "the execution's CapsuleRun"),
    ("node", "recap.dev/node", "the execution's node"),
    ("capsule", "recap.dev/capsule", "the run's or execution's Capsule"),
    ("role", "recap.dev/role", "the execution's role"),
]
