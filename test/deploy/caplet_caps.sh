#!/usr/bin/env bash
# The capabilities the caplet DaemonSet grants (config/node/daemonset.yaml)
# are enough: the e2e Parallel scenario (control plane, registry, runc
# targets on three simulated nodes, controller, caplets) passes with every
# caplet confined the way the manifest confines it in a pod: a bounding set
# of exactly those capabilities, no inheritable ones, no_new_privs
# (allowPrivilegeEscalation: false). Executors and capsules inherit it.
#   caplet_caps.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
caplet=$1 src=$5
py=/usr/bin/python3
[[ -x $py ]] || py=python3
caps=$("$py" - "$src/config/node/daemonset.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
c = d["spec"]["template"]["spec"]["containers"][0]["securityContext"]
assert c["allowPrivilegeEscalation"] is False and not c.get("privileged")
assert c["capabilities"]["drop"] == ["ALL"]
print(",".join("+" + x.lower() for x in c["capabilities"]["add"]))
PY
)
[[ $caps == *+sys_admin* ]] || { echo "FAIL: no capability list read from the DaemonSet" >&2; exit 1; }
echo "caplet bounding set: $caps"
w=$(mktemp -d /tmp/recap-test-caps.XXXXXX)
trap 'rm -rf "$w"' EXIT
cat >"$w/caplet" <<SH
#!/bin/sh
exec setpriv --no-new-privs --bounding-set -all,$caps --inh-caps -all -- "$caplet" "\$@"
SH
chmod +x "$w/caplet"
bash "$src/e2e/parallel.sh" "$w/caplet" "${@:2}"
