#!/bin/bash
# Runs the official MCP conformance suite (../shared/conformance) through mutual TLS: every server
# scenario against bin/everything-server (the reference fixture), the general scenarios against
# the three product servers, and the client scenarios against bin/client. Throw-away PKI, free
# ports. Prints each scenario's PASS/FAIL and, last, one line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED_DIR:-../shared}
work=$(mktemp -d /tmp/mcp-mtls-conformance.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
scripts/demo-pki.sh "$work/certs" >/dev/null
bin/pki issue server everything --dir "$work/certs" --dns localhost --ip 127.0.0.1 --ip ::1 >/dev/null

# The server scenarios of the suite (`conformance list --server`), all of which the everything
# server runs; the suite marks json-schema-2020-12 and server-sse-polling pending, and we run
# them anyway. General scenarios: the ones every MCP server must pass (server.sh's default).
everything_scenarios=(server-initialize logging-set-level ping completion-complete tools-list tools-call-simple-text
  tools-call-image tools-call-audio tools-call-embedded-resource tools-call-mixed-content tools-call-with-logging
  tools-call-error tools-call-with-progress tools-call-sampling tools-call-elicitation json-schema-2020-12
  elicitation-sep1034-defaults server-sse-polling server-sse-multiple-streams elicitation-sep1330-enums resources-list
  resources-read-text resources-read-binary resources-templates-read resources-subscribe resources-unsubscribe
  prompts-list prompts-get-simple prompts-get-with-args prompts-get-embedded-resource prompts-get-with-image
  dns-rebinding-protection)
general_scenarios=(server-initialize ping tools-list logging-set-level server-sse-multiple-streams dns-rebinding-protection)
client_scenarios=(initialize tools_call sse-retry elicitation-sep1034-client-defaults)

passed=0 failed=0
# Runs a conformance script, echoing its scenario lines and adding up its PASS/FAIL counts.
tally() {
  local out
  out=$("$@" 2>&1)
  grep -E '^(PASS|FAIL) ' <<<"$out"
  passed=$((passed + $(grep -c '^PASS ' <<<"$out")))
  failed=$((failed + $(grep -c '^FAIL ' <<<"$out")))
  ! grep -q '^FAIL ' <<<"$out"
}

start_server() {  # NAME: starts bin/NAME-server on a free port, sets $port
  local service=$1
  bin/$service-server --port 0 --cert "$work/certs/$service.crt" --key "$work/certs/$service.key" \
    --ca "$work/certs/ca-bundle.crt" >"$work/$service.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q server_started "$work/$service.log" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*server_started.* port=\([0-9]*\).*/\1/p' "$work/$service.log")
}

for service in everything weather datetime echo; do
  start_server "$service"
  scenarios=("${general_scenarios[@]}")
  [[ $service == everything ]] && scenarios=("${everything_scenarios[@]}")
  echo "== $service-server (https://localhost:$port/mcp): ${#scenarios[@]} scenarios"
  if ! tally "$shared/conformance/server.sh" "https://localhost:$port/mcp" "$work/certs/coordinator.crt" \
       "$work/certs/coordinator.key" "$work/certs/ca.crt" "${scenarios[@]}"; then
    echo "--- $service-server log (last lines):"; tail -20 "$work/$service.log"
  fi
done
echo "== client: ${#client_scenarios[@]} scenarios"
tally "$shared/conformance/client.sh" bin/client "${client_scenarios[@]}"
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
