#!/usr/bin/env bash
# e2e: interactive sessions through the API server (docs/streaming.md). A
# user with the edit role in shop attaches with `kubectl capsule attach`: the
# command runs in the target's PID namespace, the exit status comes back, the
# terminal's size reaches the command; a user who may create runs but not
# capsuleruns/attach is refused (403); a CapsulePolicy that forbids
# interactive Capsules, or its image, refuses the session; a client that vanishes mid-session
# ends its run (Cancelled, escaped) and leaves nothing on the node.
#   sessions.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT KUBECTL_CAPSULE APISERVER
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
PLUGIN=$(realpath "$6")
APISERVER_BIN=$(realpath "$7")
streams_prepare
e2e_up "$1" "$2" "$3" "$4" "$5" node-1
streams_up "$APISERVER_BIN"
kubectl apply -f "$E2E_SRC/config/rbac/capsule_editor_role.yaml" -f "$E2E_SRC/config/rbac/capsule_viewer_role.yaml" >/dev/null
ns_create shop
pod_create shop web-1 node-1 app registry.local/app:1 app=web
check "the stand-in runs the target pod" wait_until 30 pods_running shop 1
kubectl create rolebinding alice-edit -n shop --clusterrole edit --user alice >/dev/null
ALICE=$("$E2E_SRC/hack/cluster" user --dir "$T/cluster" alice)
CAROL=$("$E2E_SRC/hack/cluster" user --dir "$T/cluster" carol)
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: runs-only}
rules:
  - {apiGroups: [recap.dev], resources: [capsules, capsuleruns], verbs: [get, list, watch, create, delete]}
  - {apiGroups: [recap.dev], resources: [capsuleexecutions], verbs: [get, list, watch]}
  - {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-runs-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: runs-only}
subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
YAML
mkdir -p "$T/bin"
ln -s "$PLUGIN" "$T/bin/kubectl-capsule"
export PATH=$T/bin:$PATH
as() { # KUBECONFIG ARGS...: stdout $T/out, stderr $T/err, status RC
	local kc=$1
	shift
	RC=0
	KUBECONFIG=$kc "$@" >"$T/out" 2>"$T/err" || RC=$?
}
has() { [[ $(cat "$1") == *"$2"* ]] || { echo "  '$2' not in $1: $(cat "$1")" >&2; return 1; }; }
runs() { kubectl get capsuleruns -n shop -o name | wc -l; }

# -- a piped session: the command sees the target's processes; its exit status is ours
# ...and, as an attacker inside the session would, it looks for the node's
# store (its own session socket, the logs of other runs): none is visible
printf 'echo hi from $(hostname)\necho procs=$(cat /proc/[0-9]*/comm | tr "\\n" ,)\n%s\n%s\nexit 3\n' \
	'echo socks=$(find / -name session.sock 2>/dev/null | wc -l)' \
	"echo store=\$(ls -d $T/node-node-1/logs $T/node-node-1/runs 2>/dev/null | wc -l)" >"$T/in"
RC=0
KUBECONFIG=$ALICE kubectl capsule attach -n shop web-1 --image "$IMAGE" <"$T/in" >"$T/out" 2>"$T/err" || RC=$?
[[ $RC == 3 ]] || { echo "  attach said:"; sed 's/^/    /' "$T/err"; kubectl get capsuleexecutions -n shop -o yaml | grep -E '^    (name|phase|reason|message):' | sed 's/^/  /'; } >&2
check "attach: the command's exit status (3)" equals "$RC" 3
check "attach: its output" has "$T/out" "hi from web-1"
check "attach: the target's processes are the session's (PID namespace joined)" \
	grep -q "^procs=.*$(cat "/proc/$(target_pid shop web-1)/comm")," "$T/out"
line_is() { tr -d '\r' <"$T/out" | grep -qx "$1" || { echo "  no line '$1' in: $(cat "$T/out")" >&2; return 1; }; }
check "attach: no session socket is visible from inside the session" line_is 'socks=0'
check "attach: the node's store (logs, runs) is not reachable from inside" line_is 'store=0'
check "... while the host has them (the session's run had its socket there)" test -d "$T/node-node-1/logs"
check "attach --rm: the session's run is gone" equals "$(runs)" 0

# -- a terminal: its size reaches the command
python3 - "$ALICE" "$IMAGE" >"$T/pty.out" 2>&1 <<'PY' || true
import fcntl, os, pty, struct, sys, termios, time
kc, image = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.environ["KUBECONFIG"] = kc
    os.execvp("kubectl", ["kubectl", "capsule", "attach", "-n", "shop", "web-1", "--image", image])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
out, sent, deadline = b"", False, time.time() + 90
while time.time() < deadline:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b"#" in out:  # the shell's prompt
        os.write(fd, b"stty size; exit 4\r")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("\nEXIT", os.waitstatus_to_exitcode(status))
PY
check "attach on a terminal: the terminal's size reaches the command" grep -q "33 101" "$T/pty.out"
check "attach on a terminal: the exit status" grep -q "^EXIT 4" "$T/pty.out"

# -- refused
as "$CAROL" kubectl capsule attach -n shop web-1 --image "$IMAGE" </dev/null
check "a user who may create runs but not capsuleruns/attach: refused" has "$T/err" "forbidden"
check "... exit status 1" equals "$RC" 1
kubectl label namespace shop locked=yes >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: no-sessions}
spec:
  namespaceSelector: {matchLabels: {locked: "yes"}}
  interactive: {allowed: false}
YAML
as "$ALICE" kubectl capsule attach -n shop web-1 --image "$IMAGE" </dev/null
check "a CapsulePolicy that forbids sessions: refused, naming the rule" has "$T/err" "interactive.allowed"
kubectl delete capsulepolicy no-sessions >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: vetted-images}
spec:
  namespaceSelector: {matchLabels: {locked: "yes"}}
  images: {allowed: ["registry.local/vetted/*"]}
  capabilities: {allowed: []}
YAML
as "$ALICE" kubectl capsule attach -n shop web-1 --image "$IMAGE" </dev/null
check "a CapsulePolicy that forbids the image: refused, naming the rule" has "$T/err" "images.allowed"
kubectl delete capsulepolicy vetted-images >/dev/null

# -- the client vanishes mid-session: the run ends, escaped, nothing left
mkfifo "$T/hold"
(KUBECONFIG=$ALICE exec kubectl capsule attach -n shop web-1 --image "$IMAGE" --rm=false -- sleep 1000 \
	<"$T/hold" >"$T/vanish.out" 2>&1) &
client=$!
exec 7>"$T/hold"
running() { [[ $(kubectl get capsuleexecutions -n shop -o jsonpath='{.items[0].status.phase}') == Running ]]; }
check "a session that sleeps is Running" wait_until 60 running
pkill -KILL -P "$client" 2>/dev/null || true
kill -KILL "$client" 2>/dev/null || true
wait "$client" 2>/dev/null || true
exec 7>&-
ended() {
	[[ $(kubectl get capsuleexecutions -n shop -o jsonpath='{.items[0].status.reason}/{.items[0].status.escaped}') == Cancelled/true ]]
}
check "the vanished client's session ends Cancelled and escaped" wait_until 60 ended
check "... saying its client went away" has <(kubectl get capsuleexecutions -n shop -o jsonpath='{.items[0].status.message}') "went away"
check "nothing is left on the node" wait_until 30 nodes_clean
finish
