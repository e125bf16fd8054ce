#!/usr/bin/env bash
# Monitoring as an operator installs it: config/prometheus (a kustomize
# component) and the chart's monitoring.enabled render the same
# ServiceMonitor, PodMonitor and PrometheusRule; the API server accepts them
# (strict field validation) once the monitoring.coreos.com CRDs are there —
# a minimal stand-in for them, test/deploy/fixtures/monitoring.coreos.com.yaml,
# because the real ones cannot be fetched here. The rules pass `promtool
# check rules` and the alert unit tests (test/deploy/alerts_test.yaml).
# Then the real recap-controller and caplet run against a real control plane
# and a real Prometheus scrapes them with the rules loaded: every metric an
# alert names is in their /metrics, every rule evaluates without error, and
# stopping each daemon makes its alert pending. One cluster for the file.
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
. "${RECAP_SRC:?}/test/cluster/lib.sh"

cd "$src"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
if ((EUID != 0)); then
	echo "SKIP: caplet needs root (cgroups, its store)" >&2
	exit 77
fi
helm=${RECAP_HELM_BIN:-$("$src/hack/build-helm" --print)}/helm
[[ -x $helm ]] || { echo "SKIP: $helm missing (run hack/build-helm or hack/test)" >&2; exit 77; }
for t in promtool prometheus curl; do
	command -v "$t" >/dev/null || fail "$t missing (hack/deps installs it)"
done
out=$scratch/out
mkdir -p "$out"

# --- rendering ---------------------------------------------------------------

mkdir -p "$scratch/overlay"
cat >"$scratch/overlay/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [$(realpath --relative-to="$scratch/overlay" config/default)]
components: [$(realpath --relative-to="$scratch/overlay" config/prometheus)]
YAML
"$kubectl" kustomize "$scratch/overlay" >"$out/kustomize.yaml" || fail "kustomize config/default + config/prometheus"
for kind in ServiceMonitor PodMonitor PrometheusRule; do
	grep -q "^kind: $kind$" "$out/kustomize.yaml" || fail "config/prometheus: no $kind"
done
# rendered to a file first: `kustomize | grep -q X && fail` passed when kustomize
# failed, and when grep -q's early exit killed it with SIGPIPE (pipefail)
"$kubectl" kustomize config/default >"$out/default.yaml" || fail "kustomize config/default"
grep -q monitoring.coreos.com "$out/default.yaml" && fail "config/default renders monitoring objects"
ok "config/default + component config/prometheus: ServiceMonitor, PodMonitor, PrometheusRule (config/default alone: none)"

chart=charts/recap
"$helm" template recap "$chart" -n recap-system >"$out/helm-default.yaml" || fail "helm template (defaults)"
grep -q monitoring.coreos.com "$out/helm-default.yaml" && fail "the chart renders monitoring objects by default"
if "$helm" template recap "$chart" -n recap-system --set monitoring.enabled=true >/dev/null 2>"$scratch/err"; then
	fail "monitoring.enabled rendered without the monitoring.coreos.com/v1 API"
fi
grep -q 'monitoring.enabled needs the monitoring.coreos.com/v1 API' "$scratch/err" || fail "no clear error: $(cat "$scratch/err")"
mon=(--set monitoring.enabled=true --api-versions monitoring.coreos.com/v1)
"$helm" template recap "$chart" -n recap-system --include-crds "${mon[@]}" >"$out/helm.yaml" || fail "helm template monitoring.enabled"
"$PY" test/deploy/same.py "$out/kustomize.yaml" "$out/helm.yaml" >"$scratch/same" 2>&1 ||
	fail "chart (monitoring.enabled) and config/default + config/prometheus differ: $(cat "$scratch/same")"
for kind in ServiceMonitor PodMonitor PrometheusRule; do
	grep -q "^$kind .*: same$" "$scratch/same" || fail "same.py did not compare the ${kind}s"
done
"$helm" template recap "$chart" -n recap-system "${mon[@]}" --set monitoring.labels.release=kps \
	--set monitoring.interval=15s >"$out/helm-labels.yaml" || fail "helm template monitoring.labels"
[[ $(grep -c '^    release: kps$' "$out/helm-labels.yaml") == 3 ]] || fail "monitoring.labels not on all three objects"
[[ $(grep -c 'interval: 15s$' "$out/helm-labels.yaml") == 2 ]] || fail "monitoring.interval not on both monitors"
if "$helm" template recap "$chart" "${mon[@]}" --set monitoring.interval=soon >/dev/null 2>"$scratch/err"; then
	fail "monitoring.interval=soon accepted"
fi
grep -q "at '/monitoring/interval'" "$scratch/err" || fail "monitoring.interval=soon: $(cat "$scratch/err")"
ok "chart: off by default, a clear error without the API, the same objects as config/prometheus, labels and interval"

# --- the rules ---------------------------------------------------------------

# rules.yaml: the rule groups as Prometheus reads them (with annotations);
# unit/rules.yaml: without annotations for the unit tests (alerts_test.yaml).
mkdir -p "$scratch/unit"
"$PY" - "$out/kustomize.yaml" "$scratch/rules.yaml" "$scratch/unit/rules.yaml" >"$scratch/alerts" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PrometheusRule"]
spec = docs[0]["spec"]
yaml.safe_dump(spec, open(sys.argv[2], "w"))
for g in spec["groups"]:
    for r in g["rules"]:
        r.pop("annotations", None)
        print(r["alert"])
yaml.safe_dump(spec, open(sys.argv[3], "w"))
PY
promtool check rules "$scratch/rules.yaml" >"$scratch/check" 2>&1 || fail "promtool check rules: $(cat "$scratch/check")"
cp test/deploy/alerts_test.yaml "$scratch/unit/"
(cd "$scratch/unit" && promtool test rules alerts_test.yaml) >"$scratch/unit.out" 2>&1 ||
	fail "alert unit tests: $(cat "$scratch/unit.out")"
while read -r alert; do
	grep -q "alertname: $alert$" test/deploy/alerts_test.yaml || fail "alert $alert has no unit test"
	grep -q "| \`$alert\` |" docs/operations.md || fail "alert $alert is not in docs/operations.md"
done <"$scratch/alerts"
ok "$(wc -l <"$scratch/alerts") alerts: promtool check rules, unit tests of each, each documented"

# --- a real API server -------------------------------------------------------

up c >/dev/null 2>"$scratch/up.err" || fail "cluster up: $(cat "$scratch/up.err")"
d=$scratch/c
k() { kc "$d" "$@"; }
k apply --server-side -k config/crd >/dev/null || fail "apply the RECap CRDs"
k apply --server-side -f test/deploy/fixtures/monitoring.coreos.com.yaml >/dev/null || fail "apply the monitoring CRDs"
KUBECTL=$kubectl KUBECONFIG=$d/kubeconfig "$RECAP_SRC/hack/wait-crds" --all || fail "CRDs not established"
k create namespace recap-system >/dev/null
# dry_run NAME FILE: the API server accepts every object (unknown fields refused).
dry_run() {
	k apply --dry-run=server --validate=strict -f "$2" >"$scratch/dry.out" 2>"$scratch/dry.err" ||
		fail "$1 refused by the API server: $(cat "$scratch/dry.err")"
	grep -q 'prometheusrule.monitoring.coreos.com/recap' "$scratch/dry.out" || fail "$1: no PrometheusRule applied"
}
dry_run "config/default + config/prometheus" "$out/kustomize.yaml"
dry_run "helm template (monitoring.enabled)" "$out/helm.yaml"
# The check is real: a misspelt field is refused.
sed 's/targetLabel: node/targetLable: node/' "$out/kustomize.yaml" >"$out/typo.yaml"
if k apply --dry-run=server --validate=strict -f "$out/typo.yaml" >/dev/null 2>"$scratch/dry.err"; then
	fail "a PodMonitor with a misspelt field was accepted"
fi
grep -q 'unknown field "spec.podMetricsEndpoints\[0\].relabelings\[1\].targetLable"' "$scratch/dry.err" ||
	fail "misspelt field: $(cat "$scratch/dry.err")"
ok "the API server accepts both renderings with the monitoring.coreos.com CRDs (and refuses a misspelt field)"

# --- the daemons, scraped by a real Prometheus -------------------------------

controller=${RECAP_CONTROLLER:-$src/build/cmd/recap-controller/recap-controller}
caplet=${RECAP_CAPLET:-$src/build/cmd/caplet/caplet}
capsule=${RECAP_CAPSULE:-$src/build/cmd/capsule/capsule}
for b in "$controller" "$caplet" "$capsule"; do [[ -x $b ]] || fail "$b missing (build first)"; done
cgp=recap-monitoring-$$
declare -A pids=()
m_cleanup() {
	local rc=$? p c
	set +e # a daemon's exit status or a missing cgroup must not cut the cleanup short
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	"$capsule" --root "$scratch/store" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	for c in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do [[ -d $c ]] && rmdir "$c"; done
	(exit "$rc")
	t_cleanup
}
trap m_cleanup EXIT
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# stop NAME: SIGTERM to a daemon this test started, and wait for it.
stop() {
	kill -TERM "${pids[$1]}"
	wait "${pids[$1]}" || true
	unset "pids[$1]"
}

cm=$(free_port) ch=$(free_port) cp=$(free_port) pp=$(free_port)
"$controller" --kubeconfig "$d/kubeconfig" --leader-elect=true --leader-elect-namespace recap-system \
	--leader-elect-identity monitoring-test --metrics-addr "127.0.0.1:$cm" --health-addr "127.0.0.1:$ch" \
	>"$scratch/controller.log" 2>&1 &
pids[controller]=$!
mkdir -p "$scratch/store"
"$caplet" --kubeconfig "$d/kubeconfig" --node-name node-a --root "$scratch/store" --capsule "$capsule" \
	--cgroup-parent "$cgp" --metrics-address "127.0.0.1:$cp" >"$scratch/caplet.log" 2>&1 &
pids[caplet]=$!
eventually 30 "controller ready" curl -sf "http://127.0.0.1:$ch/readyz"
eventually 30 "caplet ready" curl -sf "http://127.0.0.1:$cp/readyz"
eventually 30 "controller leads" grep -q 'leading as monitoring-test' "$scratch/controller.log"
curl -sf "http://127.0.0.1:$cm/metrics" >"$out/controller.metrics" || fail "controller /metrics"
curl -sf "http://127.0.0.1:$cp/metrics" >"$out/caplet.metrics" || fail "caplet /metrics"

for daemon in controller caplet; do
	promtool check metrics <"$out/$daemon.metrics" >"$scratch/lint" 2>&1 ||
		fail "$daemon /metrics: $(cat "$scratch/lint")"
done
ok "promtool check metrics: the /metrics of both daemons have no problem"

# Every recap_* name in an alert expression is a sample of the real output.
"$PY" - "$scratch/rules.yaml" >"$scratch/names" <<'PY'
import re, sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
names = {n for g in spec["groups"] for r in g["rules"] for n in re.findall(r"\brecap_[a-z0-9_]+", r["expr"])}
print("\n".join(sorted(names)))
PY
n=0
while read -r name; do
	grep -qE "^$name[{ ]" "$out/controller.metrics" "$out/caplet.metrics" ||
		fail "alert metric $name is not in the /metrics of recap-controller or caplet"
	n=$((n + 1))
done <"$scratch/names"
((n >= 7)) || fail "only $n metric names found in the alert expressions"
ok "the $n metrics the alerts name are all in the real /metrics of recap-controller and caplet"

# Every metric family the daemons export is in docs/operations.md with its type.
n=0
while read -r name type; do
	grep -qF "| \`$name\` | $type |" docs/operations.md || fail "metric $name ($type) is not in docs/operations.md"
	n=$((n + 1))
done < <(sed -n 's/^# TYPE \([a-z_]*\) \([a-z]*\)$/\1 \2/p' "$out/controller.metrics" "$out/caplet.metrics")
((n >= 15)) || fail "only $n metric families in the real /metrics"
ok "the $n metric families of both daemons are documented with their type in docs/operations.md"

# The same job and node labels as the ServiceMonitor and PodMonitor set.
cat >"$scratch/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [$scratch/rules.yaml]
scrape_configs:
  - job_name: recap-controller
    static_configs: [{targets: ["127.0.0.1:$cm"]}]
  - job_name: recap-caplet
    static_configs: [{targets: ["127.0.0.1:$cp"], labels: {node: node-a}}]
YAML
prometheus --config.file "$scratch/prometheus.yml" --storage.tsdb.path "$scratch/prometheus" \
	--web.listen-address "127.0.0.1:$pp" >"$scratch/prometheus.log" 2>&1 &
pids[prometheus]=$!
api=http://127.0.0.1:$pp/api/v1
# query PROMQL: the number of series in the result.
query() {
	curl -sf --get "$api/query" --data-urlencode "query=$1" |
		"$PY" -c 'import json, sys; print(len(json.load(sys.stdin)["data"]["result"]))'
}
has() { [[ $(query "$1") -gt 0 ]]; }
eventually 30 "Prometheus scrapes both daemons" has 'count(up{job=~"recap-controller|recap-caplet"} == 1) == 2'
eventually 10 "controller leader scraped" has 'recap_controller_leader{job="recap-controller"} == 1'
while read -r name; do
	has "$name" || fail "Prometheus has no series $name"
done <"$scratch/names"
rules_ok() {
	curl -sf "$api/rules" | "$PY" -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
bad = [r["name"] + ": " + r.get("lastError", "") for r in rules if r["health"] != "ok"]
firing = [r["name"] for r in rules if r["state"] != "inactive"]
print("\n".join(bad + firing), file=sys.stderr)
sys.exit(0 if rules and not bad and not firing else 1)'
}
eventually 20 "every rule evaluated, healthy and inactive" rules_ok
ok "a real Prometheus scrapes both: every alert metric present, $(wc -l <"$scratch/alerts") rules healthy and inactive"

pending() { has "ALERTS{alertname=\"$1\",alertstate=\"pending\"}"; }
stop controller
eventually 30 "RecapControllerNoLeader pending after the controller stopped" pending RecapControllerNoLeader
stop caplet
eventually 30 "RecapCapletDown pending after caplet stopped" pending RecapCapletDown
has 'ALERTS{alertname="RecapCapletDown",node="node-a"}' || fail "RecapCapletDown does not name the node"
ok "stopping the controller makes RecapControllerNoLeader pending, stopping caplet RecapCapletDown (node node-a)"
