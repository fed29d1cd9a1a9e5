#!/bin/bash
# Creates the demo PKI that `make run-servers` uses, if it is not there yet: a CA, one server
# certificate per service (localhost, 127.0.0.1, ::1) and the client certificate `coordinator`.
# usage: scripts/demo-pki.sh [DIR] (default certs)
set -euo pipefail
dir=${1:-certs}
pki=${PKI:-bin/pki}
if [[ ! -f $dir/ca.crt ]]; then
  "$pki" init --dir "$dir" --cn "mcp-mtls demo CA"
fi
for service in weather datetime echo; do
  [[ -f $dir/$service.crt ]] || "$pki" issue server "$service" --dir "$dir" --dns localhost --ip 127.0.0.1 --ip ::1 >/dev/null
done
[[ -f $dir/coordinator.crt ]] || "$pki" issue client coordinator --dir "$dir" --uri spiffe://demo/coordinator >/dev/null
echo "demo PKI ready in $dir/"
