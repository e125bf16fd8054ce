#!/usr/bin/env bash
# e2e: the kubectl plugin, driven as `kubectl capsule ...` exactly as a user
# does (kubectl-capsule on PATH): ad hoc runs by selector, by pod and by
# workload (deploy/NAME), output and exit status, progress on stderr (plain
# and on a terminal), -o json and yaml, an existing Capsule fired, ls,
# describe, logs, cancel (while waiting), --rm,
# clear errors, and attach as far as it goes without the attach subresource
# (no recap-apiserver here): --dry-run's objects, a missing pod, a refused
# upgrade that leaves no run behind.
#   plugin.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT KUBECTL_CAPSULE
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
PLUGIN=$(realpath "$6")
e2e_up "$1" "$2" "$3" "$4" "$5" node-1 node-2

# kubectl finds plugins on PATH.
mkdir -p "$T/bin"
ln -s "$PLUGIN" "$T/bin/kubectl-capsule"
export PATH=$T/bin:$PATH

ns_create shop
kubectl config set-context --current --namespace=shop >/dev/null # the context's namespace is the default
for i in 1 2; do pod_create shop "web-$i" "node-$i" app registry.local/app:1 app=web; done
check "the stand-in runs the 2 target pods" wait_until 30 pods_running shop 2

# capsule ARGS...: runs `kubectl capsule ARGS`, stdout in $T/out, stderr in $T/err, status in RC.
capsule() {
	RC=0
	kubectl capsule "$@" >"$T/out" 2>"$T/err" || RC=$?
}
has() { # FILE TEXT: TEXT (lines included) occurs in FILE
	[[ $(cat "$1") == *"$2"* ]] || { echo "  '$2' not in $1: $(cat "$1")" >&2; return 1; }
}
runs() { kubectl get capsuleruns -n shop -o name | wc -l; }

capsule run "$IMAGE" -l app=web --wait-timeout 120 -- sh -c 'echo "hello from $(hostname)"; echo oops >&2'
check "run -l: exit status 0" equals "$RC" 0
check "run -l: web-1's header and output" has "$T/out" "=== pod web-1, container app (node node-1): Succeeded, exit 0
hello from web-1
--- stderr
oops"
check "run -l: web-2's header and output" has "$T/out" "=== pod web-2, container app (node node-2): Succeeded, exit 0
hello from web-2"
RUN1=$(sed -n 's/^run \(busybox-[a-z0-9]*\): .*/\1/p' "$T/err" | tail -1)
check "run -l: progress lines on stderr, then the final counts" has "$T/err" \
	"run $RUN1: Succeeded, 2 targets: 0 pending, 0 running, 2 succeeded, 0 failed"
check "run -l: progress while waiting (not a terminal: one line per change)" \
	test "$(grep -c "^run $RUN1: " "$T/err")" -ge 3
owner() { kubectl get capsule -n shop "$RUN1" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'; }
check "the generated Capsule is owned by its run" equals "$(owner)" "CapsuleRun/$RUN1"
row() { kubectl get capsuleruns -n shop "$RUN1" --no-headers | awk '{print $2, $5, $6, $7, $8}'; }
check "kubectl get capsuleruns shows the run" equals "$(row)" "$RUN1 2 2 0 Succeeded"

capsule run "$IMAGE" --pod web-1 --pod web-2 -o json --wait-timeout 120 -- \
	sh -c '[ "$(hostname)" = web-1 ] || { echo "no luck" >&2; exit 3; }'
check "run --pod with one failing target: exit status 1" equals "$RC" 1
json_ok() {
	python3 - "$T/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = {x["pod"]: x for x in d["results"]}
assert d["phase"] == "PartiallyFailed" and d["targets"] == 2 and d["failed"] == 1, d
assert r["web-1"]["exitCode"] == 0 and r["web-1"]["phase"] == "Succeeded", r
assert r["web-2"]["exitCode"] == 3 and r["web-2"]["stderr"] == "no luck\n", r
assert r["web-2"]["node"] == "node-2" and r["web-2"]["container"] == "app", r
PY
}
check "run -o json: a valid results document with each target's exit code and tails" json_ok
RUN2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run"])' "$T/out")
check "run -o json: the summary names the phase on stderr" has "$T/err" "run $RUN2: PartiallyFailed"
targets() { kubectl get caprun -n shop "$RUN2" -o jsonpath='{.spec.targets}'; }
check "run --pod: the run names its targets" equals "$(targets)" '["web-1","web-2"]'

capsule logs "$RUN2" -o yaml
cp "$T/out" "$T/logs.yaml"
capsule logs "$RUN2" -o json
yaml_same() {
	python3 - "$T/logs.yaml" "$T/out" <<'PY'
import json, sys, yaml
y, j = yaml.safe_load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert y == j, (y, j)
assert j["results"][1]["stderr"] == "no luck\n"
PY
}
check "logs -o yaml parses to the same document as -o json" yaml_same
capsule logs "$RUN2"
check "logs: exit status 0 and the text form" has "$T/out" "=== pod web-2, container app (node node-2): Failed, exit 3"

kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: whoami}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: web}}}
YAML
capsule run --capsule whoami --wait-timeout 120 -o yaml
fired_ok() {
	python3 - "$T/out" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert d["capsule"] == "whoami" and d["phase"] == "Succeeded", d
assert [(r["pod"], r["stdout"]) for r in d["results"]] == [("web-1", "web-1\n"), ("web-2", "web-2\n")], d
PY
}
check "run --capsule fires an existing Capsule (exit 0, valid YAML)" fired_ok
check "run --capsule: exit status 0" equals "$RC" 0

capsule ls
check "ls: the table lists the three runs" equals "$(grep -cE "^(busybox|whoami)-" "$T/out")" 3
check "ls: the table's header" has "$T/out" "NAME"
capsule ls -o json
ls_json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["items"]) == 3, d' "$T/out"; }
check "ls -o json: a List of the three runs" ls_json
capsule ls -A
check "ls -A: runs of every namespace, with a NAMESPACE column" grep -q "^shop  *whoami-" "$T/out"

# A workload as the target, as kubectl names it (deploy/NAME): the pods the
# Deployment made (bound to node-1 by its template, so the stand-in runs
# them); then describe of that run, with the controller's own Events.
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      nodeName: node-1
      containers: [{name: app, image: registry.local/app:1}]
YAML
check "the Deployment's 2 pods run beside web-1 and web-2" wait_until 60 pods_running shop 4
capsule run "$IMAGE" deploy/api --wait-timeout 120 -- hostname
check "run deploy/api: exit status 0" equals "$RC" 0
api_pods=$(kubectl get pods -n shop -l app=api -o jsonpath='{.items[*].metadata.name}')
each_api_pod_ran() {
	local p n=0
	for p in $api_pods; do
		has "$T/out" "=== pod $p, container app (node node-1): Succeeded, exit 0
$p" || return 1
		n=$((n + 1))
	done
	((n == 2))
}
check "run deploy/api: each of the Deployment's 2 pods ran the command" each_api_pod_ran
check "run deploy/api: no other pod did" test "$(grep -c '^=== pod' "$T/out")" = 2
RUN7=$(sed -n 's/^run \(busybox-[a-z0-9]*\): .*/\1/p' "$T/err" | tail -1)
capsule describe "$RUN7"
check "describe: exit status 0, the phase and the counts" has "$T/out" "Phase:        Succeeded
Targets:      2 targets: 0 pending, 0 running, 2 succeeded, 0 failed"
check "describe: the capsule spec's command" has "$T/out" "  Command:    hostname"
check "describe: both executions on node-1, exit 0" \
	test "$(grep -cE '^  api-[a-z0-9-]+  +app  +node-1  +Succeeded  +0 ' "$T/out")" = 2
check "describe: the controller's ExecutionsCreated event" grep -qE '^  Normal +ExecutionsCreated ' "$T/out"
capsule run "$IMAGE" ds/none -- true
check "run ds/none: the reason, exit status 1" has "$T/err" 'error: daemonset "none" not found in namespace "shop"'

# Errors are clear and leave nothing behind.
before=$(runs)
capsule run "$IMAGE" -l app=nope -- true
check "no pod matches the selector: exit 1 and the reason" has "$T/err" \
	'error: no pods match selector "app=nope" in namespace "shop"'
capsule run "$IMAGE" --pod ghost -- true
check "an unknown pod: the reason" has "$T/err" 'error: pod "ghost" not found in namespace "shop"'
check "an unknown pod: exit status 1" equals "$RC" 1
capsule run "$IMAGE" --pod web-1 --cap-add NET_RAW,bogus -- true
check "a bad capability name: exit status 2" equals "$RC" 2
check "a bad capability name: the reason" has "$T/err" "--cap-add 'bogus': not a capability name"
check "no run was created by a refused command" equals "$(runs)" "$before"
capsule logs nosuch
check "logs of an unknown run: the reason" has "$T/err" 'error: capsulerun "nosuch" not found in namespace "shop"'
capsule run --capsule nosuch
check "run --capsule of an unknown Capsule: the reason" has "$T/err" 'error: capsule "nosuch" not found'
capsule run --help
check "run --help: the usage on stdout, exit 0" has "$T/out" "usage: kubectl capsule run IMAGE"
capsule -n default ls
check "-n overrides the context's namespace" has "$T/err" "No CapsuleRuns in namespace default."

# cancel while `run` waits: the waiting command sees the run end Cancelled.
kubectl capsule run "$IMAGE" -l app=web --wait-timeout 120 -- sleep 300 >"$T/cancel.out" 2>"$T/cancel.err" &
waiter=$!
PIDS+=("$waiter")
cancel_run() { sed -n 's/^run \(busybox-[a-z0-9]*\): Running.*/\1/p' "$T/cancel.err" | tail -1; }
both_running() { grep -q ", 2 running," "$T/cancel.err"; }
check "a long run starts on both pods (progress says so)" wait_until 60 both_running
RUN3=$(cancel_run)
capsule cancel "$RUN3"
check "cancel: exit 0 and what it did" has "$T/out" "capsulerun.recap.dev/$RUN3 cancelled"
rc=0
wait "$waiter" || rc=$?
check "the waiting run command exits 1 once cancelled" equals "$rc" 1
check "its last line says Cancelled" has "$T/cancel.err" "run $RUN3: Cancelled, 2 targets"
phase() { kubectl get caprun -n shop "$RUN3" -o jsonpath='{.status.phase}'; }
check "the run is Cancelled" equals "$(phase)" Cancelled
capsule cancel "$RUN3"
check "cancelling a finished run is refused" has "$T/err" "error: run $RUN3 already finished (Cancelled)"

# Waiting has limits; the run goes on either way.
capsule run "$IMAGE" --pod web-1 --wait-timeout 2 -- sleep 300
check "--wait-timeout: exit status 1" equals "$RC" 1
RUN5=$(sed -n 's/^run \(busybox-[a-z0-9]*\): .*/\1/p' "$T/err" | tail -1)
check "--wait-timeout: says the run goes on" has "$T/err" \
	"error: run $RUN5 did not finish within 2 s; it goes on (kubectl capsule logs $RUN5 shows it later)"
kubectl capsule run "$IMAGE" --pod web-2 -- sleep 300 >/dev/null 2>"$T/int.err" &
waiter=$!
PIDS+=("$waiter")
started() { grep -q "^run busybox-" "$T/int.err"; }
wait_until 30 started || fail "the run to interrupt did not start: $(cat "$T/int.err")"
kill -INT "$waiter"
rc=0
wait "$waiter" || rc=$?
check "Ctrl-C while waiting: exit status 130" equals "$rc" 130
RUN6=$(sed -n 's/^run \(busybox-[a-z0-9]*\): .*/\1/p' "$T/int.err" | tail -1)
check "Ctrl-C while waiting: the run goes on, and how to stop it" has "$T/int.err" \
	"error: interrupted; run $RUN6 goes on (kubectl capsule cancel $RUN6 stops it)"
for r in "$RUN5" "$RUN6"; do kubectl capsule cancel "$r" >/dev/null; done
ended() { [[ $(kubectl get caprun -n shop "$1" -o jsonpath='{.status.phase}') == Cancelled ]]; }
both_ended() { wait_until 60 ended "$RUN5" && wait_until 60 ended "$RUN6"; }
check "both runs end Cancelled" both_ended

# Policies apply to ad hoc runs: with no CapsulePolicy the baseline adds no capability.
capsule run "$IMAGE" --pod web-1 --cap-add NET_RAW --wait-timeout 60 -- true
check "a refused ad hoc run: exit status 1" equals "$RC" 1
check "a refused ad hoc run: the policy's reason on stderr" grep -q "^run busybox-[a-z0-9]*: Failed, .*NET_RAW" "$T/err"

capsule run "$IMAGE" --pod web-1 --rm --cap-drop ALL --wait-timeout 120 -- grep -E '^Cap(Eff|Bnd)' /proc/self/status
check "run --cap-drop ALL: exit status 0" equals "$RC" 0
check "run --cap-drop ALL: the command holds no capability" has "$T/out" "CapEff:	0000000000000000
CapBnd:	0000000000000000"
# no recap-apiserver here: the pod's early follow, sent beside the check that
# the streams are served, is dropped, and the output is the status tails, once
check "one pod, streams not served: said on stderr" grep -q "the output is shown once the run ended" "$T/err"
check "one pod, streams not served: the output printed once" equals "$(grep -c '^CapEff:' "$T/out")" 1

# The default sandbox through the whole path: an ad hoc run with no security
# flag gets RuntimeDefault, no_new_privs and the default capabilities, though
# its execution stores none of those defaults (the getters read them). The
# attack from inside: a new mount namespace, which the default filter refuses.
capsule run "$IMAGE" --pod web-1 --wait-timeout 120 -- \
	sh -c 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status; unshare -m true 2>/dev/null && echo unshared || echo refused'
RUN8=$(sed -n 's/^run \(busybox-[a-z0-9]*\): .*/\1/p' "$T/err" | tail -1)
check "a default run: exit status 0" equals "$RC" 0
check "a default run: under a seccomp filter, with no_new_privs" has "$T/out" "NoNewPrivs:	1
Seccomp:	2"
check "a default run: unshare from inside is refused" has "$T/out" "refused"
stored_security() {
	kubectl get cexec -n shop -l "recap.dev/run=$RUN8" -o jsonpath='{.items[0].spec.capsule.security}'
}
check "a default run: its execution stores no security defaults" equals "$(stored_security)" ""

# On a terminal the progress is one line rewritten in place.
script -qec "kubectl capsule run $IMAGE --pod web-1 --rm --wait-timeout 120 -- echo tty" /dev/null >"$T/tty.out"
check "on a terminal: progress rewritten in place (CR, erase line)" grep -q $'\r\033\\[Krun busybox-' "$T/tty.out"
check "on a terminal: the output follows" grep -q "^tty" "$T/tty.out"
# no name in the output (grep matched nothing) is a failure to say, not an end;
# awk, unlike head, reads to the end (no SIGPIPE to grep)
RUN4=$({ grep -ao 'run busybox-[a-z0-9]*' "$T/tty.out" || true; } | awk 'NR == 1 {print $2}')
gone() { ! kubectl get caprun -n shop "$RUN4" >/dev/null 2>&1 && ! kubectl get capsule -n shop "$RUN4" >/dev/null 2>&1; }
if [[ -n $RUN4 ]]; then
	check "--rm: the run and its generated Capsule are deleted" wait_until 30 gone
else
	fail "--rm: no run named on the terminal: $(cat -A "$T/tty.out")"
fi

capsule run "$IMAGE" -l app=web --no-wait -- true
check "--no-wait: returns at once with the run's name" grep -q "^capsulerun.recap.dev/busybox-[a-z0-9]* created$" "$T/out"

# The API server restarts while `run` waits: the watch reconnects and the
# result still arrives.
kubectl capsule run "$IMAGE" --pod web-1 --wait-timeout 120 -- sh -c 'sleep 6; echo survived' \
	>"$T/restart.out" 2>"$T/restart.err" &
waiter=$!
PIDS+=("$waiter")
one_running() { grep -q ", 1 running," "$T/restart.err"; }
check "a run is under way" wait_until 60 one_running
"$E2E_SRC/hack/cluster" stop-apiserver --dir "$T/cluster" >/dev/null 2>&1
sleep 2
"$E2E_SRC/hack/cluster" start-apiserver --dir "$T/cluster" >/dev/null 2>&1
rc=0
wait "$waiter" || rc=$?
check "after an API server restart while waiting: exit status 0" equals "$rc" 0
check "after an API server restart while waiting: the target's output" has "$T/restart.out" "survived"

# attach: an interactive Capsule and its run on the pod, then a WebSocket to
# the run's attach subresource. This cluster has no recap-apiserver, so the
# upgrade is refused (the session itself is e2e'd where the server runs).
before=$(runs)
capsule attach web-1 --image "$IMAGE" --target-fs ReadWrite --join net,pid --dry-run -- sh -c 'ps; id'
check "attach --dry-run: exit status 0" equals "$RC" 0
attach_objects() {
	python3 - "$T/out" <<'PY'
import sys, yaml
run, capsule = yaml.safe_load_all(open(sys.argv[1]))
assert run["kind"] == "CapsuleRun" and run["spec"]["targets"] == ["web-1"], run
assert run["metadata"]["namespace"] == "shop", run
s = capsule["spec"]
assert capsule["kind"] == "Capsule" and s["interactive"] is True, capsule
assert s["session"] == {"attachTimeoutSeconds": 60, "idleTimeoutSeconds": 900}, s
assert s["command"] == ["sh", "-c", "ps; id"] and s["timeoutSeconds"] == 3600, s
assert s["targetFilesystem"] == "ReadWrite" and s["join"] == ["net", "pid"], s
PY
}
check "attach --dry-run: the interactive Capsule and its run, as YAML" attach_objects
check "attach --dry-run: nothing created" equals "$(runs)" "$before"
capsule attach nope --image "$IMAGE" </dev/null
check "attach to a missing pod: the reason" has "$T/err" 'error: pod "nope" not found in namespace "shop"'
check "attach to a missing pod: exit status 1, nothing created" equals "$RC/$(runs)" "1/$before"
capsule attach web-1 --image "$IMAGE" </dev/null
attach_refused() { equals "$RC" 1 && has "$T/err" "error: attaching to run busybox-"; }
check "attach without the attach subresource: the refusal, exit status 1" attach_refused
check "attach --rm (the default): the run is deleted again" equals "$(runs)" "$before"

check "nothing is left on any node" wait_until 30 nodes_clean
finish
