#!/bin/bash
# Runs the official MCP conformance suite (../shared/conformance) against our three servers
# through mutual TLS, and its client scenarios against bin/client. Throw-away PKI, free ports.
set -uo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED_DIR:-../shared}
work=$(mktemp -d /tmp/mcp-mtls-conformance.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
scripts/demo-pki.sh "$work/certs" >/dev/null
status=0
for service in weather datetime echo; do
  bin/$service-server --port 0 --cert "$work/certs/$service.crt" --key "$work/certs/$service.key" \
    --ca "$work/certs/ca-bundle.crt" >"$work/$service.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q server_started "$work/$service.log" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*server_started.* port=\([0-9]*\).*/\1/p' "$work/$service.log")
  echo "== $service-server (https://localhost:$port/mcp)"
  if ! "$shared/conformance/server.sh" "https://localhost:$port/mcp" "$work/certs/coordinator.crt" \
       "$work/certs/coordinator.key" "$work/certs/ca.crt"; then
    status=1; echo "--- $service-server log:"; tail -20 "$work/$service.log"
  fi
done
echo "== client"
"$shared/conformance/client.sh" bin/client || status=1
exit $status
