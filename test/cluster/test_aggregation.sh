#!/usr/bin/env bash
# The aggregation layer, as recap-apiserver uses it: kube-apiserver publishes
# the front proxy's CA in kube-system/extension-apiserver-authentication, and
# an APIService whose Service is of type ExternalName (localhost) reaches a
# server on this host. The request arrives with the front proxy's client
# certificate (the server requires one and verifies it against that CA) and
# the calling user in X-Remote-User / X-Remote-Group.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=hack/lib/cluster-pki.sh
. "$src/hack/lib/cluster-pki.sh"

up c >/dev/null 2>"$scratch/up.err" || fail "cluster up: $(cat "$scratch/up.err")"
d=$scratch/c
k() { kc "$d" "$@"; }

cm() { k get configmap -n kube-system extension-apiserver-authentication -o "jsonpath={.data.$1}"; }
[[ $(cm requestheader-allowed-names) == '["front-proxy-client"]' ]] ||
	fail "requestheader-allowed-names: '$(cm requestheader-allowed-names)'"
cm requestheader-client-ca-file >"$scratch/fp-ca.crt"
cmp -s <(openssl x509 -in "$scratch/fp-ca.crt" -noout -fingerprint) \
	<(openssl x509 -in "$d/pki/front-proxy/ca.crt" -noout -fingerprint) ||
	fail "requestheader-client-ca-file is not pki/front-proxy/ca.crt"
[[ $(cm requestheader-username-headers) == '["X-Remote-User"]' ]] || fail "requestheader-username-headers"
ok "extension-apiserver-authentication: the front proxy's CA and allowed name front-proxy-client"

# The server's certificate names the Service, signed by a CA of the test's.
p=$scratch/pki
mkdir -p "$p"
if ! pki_ca "$p" test-aggregated-ca || ! pki_server "$p" serving recap-apiserver DNS:recap-apiserver.recap-system.svc; then
	fail "openssl: $(cat "$p/openssl.err")"
fi

# Answers the group version's discovery; records each request's path, client
# certificate CN and X-Remote-* headers, one JSON line per request.
cat >"$scratch/server.py" <<'PY'
import http.server, json, ssl, sys
cert, key, ca, portfile, logfile = sys.argv[1:]
RESOURCES = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "subresources.recap.dev/v1alpha1",
             "resources": [{"name": "capsuleruns/log", "singularName": "", "namespaced": True,
                            "kind": "CapsuleRunLog", "verbs": ["get"]}]}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        cn = dict(x[0] for x in self.connection.getpeercert()["subject"]).get("commonName")
        with open(logfile, "a") as f:
            print(json.dumps({"path": self.path, "cn": cn, "user": self.headers.get("X-Remote-User"),
                              "groups": self.headers.get_all("X-Remote-Group") or []}), file=f, flush=True)
        if self.path.split("?")[0] != "/apis/subresources.recap.dev/v1alpha1":
            self.send_error(404)
            return
        body = json.dumps(RESOURCES).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_verify_locations(ca)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(portfile + ".tmp", "w").write(str(srv.server_address[1]))
__import__("os").rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
python3 "$scratch/server.py" "$p/serving.crt" "$p/serving.key" "$d/pki/front-proxy/ca.crt" \
	"$scratch/port" "$scratch/requests" 2>"$scratch/server.err" &
server=$!
# The server first, then the cluster (lib.sh); nothing here may cut it short.
s_cleanup() {
	local rc=$?
	set +e
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	(exit "$rc")
	t_cleanup
}
trap s_cleanup EXIT
eventually 10 "the test server listens" test -s "$scratch/port"
port=$(cat "$scratch/port")

# Only a client certificate of the front proxy's CA gets through.
direct() { # CERT KEY: a request straight to the test server
	curl -sS -o /dev/null --fail --max-time 5 --cacert "$p/ca.crt" \
		--resolve "recap-apiserver.recap-system.svc:$port:127.0.0.1" --cert "$1" --key "$2" \
		"https://recap-apiserver.recap-system.svc:$port/apis/subresources.recap.dev/v1alpha1"
}
direct "$d/pki/front-proxy/client.crt" "$d/pki/front-proxy/client.key" ||
	fail "the test server refused the front proxy's certificate"
if direct "$d/pki/admin.crt" "$d/pki/admin.key" 2>/dev/null; then
	fail "the test server accepted a client certificate of the cluster CA"
fi

k create namespace recap-system >/dev/null
k apply -f - >/dev/null <<YAML || fail "apply the Service and APIService"
apiVersion: v1
kind: Service
metadata: {name: recap-apiserver, namespace: recap-system}
spec: {type: ExternalName, externalName: localhost}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.subresources.recap.dev}
spec:
  group: subresources.recap.dev
  version: v1alpha1
  service: {namespace: recap-system, name: recap-apiserver, port: $port}
  caBundle: $(base64 -w0 "$p/ca.crt")
  groupPriorityMinimum: 1000
  versionPriority: 15
YAML
available() {
	[[ $(k get apiservice v1alpha1.subresources.recap.dev \
		-o 'jsonpath={.status.conditions[?(@.type=="Available")].status}') == True ]]
}
eventually 60 "APIService v1alpha1.subresources.recap.dev Available" available
ok "APIService through an ExternalName Service (localhost:$port) is Available"

kcfg=$("$cluster" user --dir "$d" alice --group devs)
"$kubectl" --kubeconfig "$kcfg" get --raw /apis/subresources.recap.dev/v1alpha1 >"$scratch/got" ||
	fail "alice: get --raw through the aggregation layer failed"
grep -q '"capsuleruns/log"' "$scratch/got" || fail "alice got: $(cat "$scratch/got")"
python3 - "$scratch/requests" <<'PY' || fail "requests at the server: $(cat "$scratch/requests")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
if any(r["cn"] != "front-proxy-client" for r in reqs):
    sys.exit("a request without the front proxy's certificate")
mine = [r for r in reqs if r["user"] == "alice" and r["path"] == "/apis/subresources.recap.dev/v1alpha1"]
if not mine or "devs" not in mine[-1]["groups"] or "system:authenticated" not in mine[-1]["groups"]:
    sys.exit("no request of alice (groups devs, system:authenticated)")
PY
ok "a request of alice arrives with the front-proxy-client certificate, X-Remote-User alice, X-Remote-Group devs"
