#!/usr/bin/env bash
# e2e: an alert fires a Capsule's run (docs/triggers.md, "Alerts"). A real
# Prometheus evaluates a rule every second that fires at once (CapsuleProbe,
# labels namespace and pod); a real Alertmanager posts it to recap-apiserver's
# alerts receiver through the real API server (the aggregation layer), at
# namespaces/alerting/alerts, with the token of a ServiceAccount that may
# create alerts in that namespace (a Role) and
# the cluster's CA, repeating the notification every few seconds. Checked:
#   - exactly one run, trigger Alert, for that pod, its cause the alert's
#     name and summary; one Event about the pod; Alertmanager's repeats
#     record and fire nothing more;
#   - a ServiceAccount without the right gets 403 and records no Event;
#   - of two alerts, the one about a pod of a namespace the caller may not
#     write is refused and named, the other recorded; with only such
#     alerts, 403; the cluster-wide path needs the right cluster-wide;
#   - payloads that are not JSON, not version 4, or over 1 MiB: 400/413
#     saying why.
# Everything listens on loopback; Prometheus and Alertmanager keep their
# state under $T and stop with the rest.
#   alerts.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT APISERVER
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
APISERVER_BIN=$(realpath "$6")
for b in prometheus prometheus-alertmanager; do
	command -v "$b" >/dev/null || { echo "$b is not installed (hack/deps)" >&2; exit 1; }
done
streams_prepare
e2e_up "$1" "$2" "$3" "$4" "$5" node-1
streams_up "$APISERVER_BIN"

ns_create alerting other
pod_create alerting web-1 node-1 app registry.local/app:1 app=web
pod_create alerting web-2 node-1 app registry.local/app:1 app=web
pod_create other db-1 node-1 db registry.local/db:1 app=db
check "the stand-in runs the target pods" wait_until 60 pods_running alerting 2
kubectl apply -n alerting -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: on-alert}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: web}}}
  triggers:
  - alert: {alertNames: [CapsuleProbe]}
  triggerLimits: {cooldownSeconds: 0}
YAML

# Alertmanager's account may create alerts in "alerting" only; "nobody" may not.
kubectl create serviceaccount alertmanager -n alerting >/dev/null
kubectl create serviceaccount nobody -n alerting >/dev/null
kubectl create role alerts-create -n alerting --verb=create \
	--resource=alerts.subresources.recap.dev >/dev/null
kubectl create rolebinding alertmanager-alerts -n alerting --role alerts-create \
	--serviceaccount alerting:alertmanager >/dev/null
kubectl create token alertmanager -n alerting --duration 1h >"$T/am.token"
kubectl create token nobody -n alerting --duration 1h >"$T/nobody.token"
API=https://127.0.0.1:$RECAP_APISERVER_PORT/apis/subresources.recap.dev/v1alpha1
URL=$API/namespaces/alerting/alerts

# --- Prometheus and Alertmanager -------------------------------------------
AM_PORT=$(free_port)
PROM_PORT=$(free_port)
mkdir -p "$T/am" "$T/prom"
cat >"$T/am/am.yml" <<YAML
route: {receiver: recap, group_by: [alertname, namespace, pod], group_wait: 1s, group_interval: 1s, repeat_interval: 2s}
receivers:
- name: recap
  webhook_configs:
  - url: $URL
    send_resolved: false
    http_config:
      authorization: {credentials_file: $T/am.token}
      tls_config: {ca_file: $RECAP_CA_FILE}
YAML
cat >"$T/prom/rules.yml" <<YAML
groups:
- name: probe
  interval: 1s
  rules:
  - alert: CapsuleProbe
    expr: vector(1)
    labels: {namespace: alerting, pod: web-1, severity: warning}
    annotations: {summary: "probe of web-1 fired", description: "not shown: summary wins"}
YAML
cat >"$T/prom/prom.yml" <<YAML
global: {evaluation_interval: 1s, scrape_interval: 1m}
rule_files: [$T/prom/rules.yml]
alerting: {alertmanagers: [{static_configs: [{targets: ["127.0.0.1:$AM_PORT"]}]}]}
YAML
prometheus-alertmanager --config.file "$T/am/am.yml" --storage.path "$T/am/data" \
	--web.listen-address "127.0.0.1:$AM_PORT" --cluster.listen-address= >"$T/alertmanager.log" 2>&1 &
PIDS+=($!)
prometheus --config.file "$T/prom/prom.yml" --storage.tsdb.path "$T/prom/data" \
	--web.listen-address "127.0.0.1:$PROM_PORT" --rules.alert.resend-delay 1s >"$T/prometheus.log" 2>&1 &
PIDS+=($!)

# runs: "trigger pod reason" per run of the Capsule
runs() {
	kubectl get caprun -n alerting -l recap.dev/capsule=on-alert \
		-o jsonpath='{range .items[*]}{.spec.trigger} {.spec.cause.pod} {.spec.cause.reason}{"\n"}{end}'
}
runs_for() { runs | grep -c "^Alert $1 CapsuleProbe$" || true; }
has_runs_for() { [[ $(runs_for "$1") == "$2" ]] || { echo "  runs: $(runs | tr '\n' ';')" >&2; return 1; }; }
alert_events() { # POD: the Events the receiver recorded about POD in NS (default alerting)
	kubectl get events -n "${2:-alerting}" --field-selector "involvedObject.name=$1,reason=CapsuleProbe" \
		-o jsonpath='{range .items[*]}{.reportingComponent} {.involvedObject.uid} {.count}{"\n"}{end}' |
		grep -c '^recap.dev/alerts ' || true
}
# notifications: the webhook notifications Alertmanager has sent (and failed)
notifications() {
	curl -s "http://127.0.0.1:$AM_PORT/metrics" |
		sed -n "s/^alertmanager_notifications_${1:-}total{integration=\"webhook\"} //p"
}
repeated() { (($(notifications) >= 3)); }

check "the alert fires one run for web-1 (trigger Alert)" wait_or_say 60 has_runs_for web-1 1
RUN=$(kubectl get caprun -n alerting -l recap.dev/capsule=on-alert -o jsonpath='{.items[0].metadata.name}')
check "its cause's message is the alert's summary" equals \
	"$(kubectl get caprun -n alerting "$RUN" -o jsonpath='{.spec.cause.message}')" "probe of web-1 fired"
check "its targets are that pod alone" equals "$(kubectl get caprun -n alerting "$RUN" -o jsonpath='{.spec.targets}')" '["web-1"]'
check "the run succeeds in web-1" wait_until 60 run_phase_is alerting "$RUN" Succeeded
check "Alertmanager repeats the notification" wait_or_say 30 repeated
check "... and none of them failed" equals "$(notifications failed_)" 0
check "the repeats record one Event about web-1" equals "$(alert_events web-1)" 1
uid=$(kubectl get pod -n alerting web-1 -o jsonpath='{.metadata.uid}')
check "the Event names the pod's uid" equals "$(kubectl get events -n alerting \
	--field-selector involvedObject.name=web-1,reason=CapsuleProbe -o jsonpath='{.items[0].involvedObject.uid}')" "$uid"
check "the repeats fire no second run" has_runs_for web-1 1

# --- by hand: who may, and bad payloads ------------------------------------
post() { # TOKEN_FILE BODY_FILE [URL]: status in CODE, the answer in $T/answer
	CODE=$(curl -sS --noproxy '*' --max-time 20 --cacert "$RECAP_CA_FILE" -o "$T/answer" -w '%{http_code}' \
		-H "Authorization: Bearer $(cat "$1")" -H 'Content-Type: application/json' \
		--data-binary "@$2" "${3:-$URL}")
}
payload() { # NS/POD...: a firing CapsuleProbe about each pod
	local a="" p
	for p in "$@"; do
		a+="${a:+,}{\"status\":\"firing\",\"labels\":{\"alertname\":\"CapsuleProbe\",\"namespace\":\"${p%/*}\","
		a+="\"pod\":\"${p#*/}\"},\"annotations\":{\"summary\":\"by hand\"},\"startsAt\":\"$(date -u +%FT%TZ)\","
		a+="\"fingerprint\":\"${p//\//-}\"}"
	done
	echo "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"recap\",\"alerts\":[$a]}"
}
answered() { [[ $CODE == "$1" ]] && grep -q "$2" "$T/answer" || { echo "  $CODE $(cat "$T/answer")" >&2; return 1; }; }
payload alerting/web-2 >"$T/web-2.json"
post "$T/nobody.token" "$T/web-2.json"
check "a ServiceAccount without the right: 403" answered 403 'cannot create resource \\"alerts\\"'
check "... and no Event about web-2" equals "$(alert_events web-2)" 0
payload alerting/web-2 other/db-1 >"$T/two.json"
post "$T/am.token" "$T/two.json"
check "of two alerts, the one in a namespace the caller may not write is refused" \
	answered 200 '"recorded":1,"duplicate":0,"ignored":0,"refused":\[{"alert":"alerts\[1\] CapsuleProbe other/db-1"'
check "... the other recorded (an Event about web-2)" equals "$(alert_events web-2)" 1
check "... none about db-1" equals "$(alert_events db-1 other)" 0
payload other/db-1 >"$T/db-1.json"
post "$T/am.token" "$T/db-1.json"
check "every alert forbidden: 403 from recap-apiserver" answered 403 'in the namespace(s) of any alert'
post "$T/am.token" "$T/web-2.json" "$API/alerts"
check "the cluster-wide path needs the right in every namespace: 403" answered 403 'cannot create resource'
check "the recorded alert fires web-2's run" wait_or_say 30 has_runs_for web-2 1
echo 'not json' >"$T/bad.json"
post "$T/am.token" "$T/bad.json"
check "a payload that is not JSON: 400 saying so" answered 400 'the payload is not JSON'
echo '{"version":"3","alerts":[]}' >"$T/v3.json"
post "$T/am.token" "$T/v3.json"
check "another version: 400 saying so" answered 400 'version \\"4\\" (version \\"3\\")'
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/big.json"
post "$T/am.token" "$T/big.json"
check "over 1 MiB: 413 saying so" answered 413 'holds 1048577 bytes: at most 1048576 are read'
check "still one run for web-1" has_runs_for web-1 1
finish
