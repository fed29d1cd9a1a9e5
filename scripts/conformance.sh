#!/bin/bash
# Runs the official MCP conformance suite (../shared/conformance, 0.2.0-alpha.12) through mutual TLS,
# with a throw-away PKI and servers on free ports:
#   - both frozen server requirement sets (2025-11-25: sessions; 2026-07-28: stateless) against
#     bin/everything-server, the reference fixture. The sets' not-scored scenarios (the tasks
#     extension, pending ones) run and are reported too, but do not count;
#   - the scenarios any MCP server must pass, at both revisions, against weather, datetime and echo;
#   - the client part: scripts/conformance-client.sh for both revisions when it exists (with
#     scripts/conformance-client-expected-failures.yaml when present), else today's client scenarios.
# Prints each scenario's result and, last, one line "N passed, M failed" (scored scenarios only).
set -uo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED_DIR:-../shared}
revisions=(2025-11-25 2026-07-28)
work=$(mktemp -d /tmp/mcp-mtls-conformance.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
scripts/demo-pki.sh "$work/certs" >/dev/null
bin/pki issue server everything --dir "$work/certs" --dns localhost --ip 127.0.0.1 --ip ::1 >/dev/null

# What every MCP server passes, per revision (the rest of each set exercises the everything
# server's fixture tools, resources and prompts).
general_2025=(server-initialize ping tools-list logging-set-level server-sse-multiple-streams dns-rebinding-protection)
general_2026=(tools-list server-sse-multiple-streams dns-rebinding-protection input-required-result-unsupported-methods)
client_scenarios=(initialize tools_call sse-retry elicitation-sep1034-client-defaults)

passed=0 failed=0
start_server() {  # NAME: starts bin/NAME-server on a free port, sets $port
  local service=$1
  bin/$service-server --port 0 --cert "$work/certs/$service.crt" --key "$work/certs/$service.key" \
    --ca "$work/certs/ca-bundle.crt" >"$work/$service.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q server_started "$work/$service.log" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*server_started.* port=\([0-9]*\).*/\1/p' "$work/$service.log")
}

# A frozen set against one server, all of it scored; with SCENARIO names, only those count (and show).
run_set() {  # SERVICE REVISION [SCENARIO...]
  local service=$1 rev=$2; shift 2
  local out="$work/out-$service-$rev" report
  OUT_DIR=$out "$shared/conformance/requirements.sh" server "https://localhost:$port/mcp" "$work/certs/coordinator.crt" \
    "$work/certs/coordinator.key" "$work/certs/ca.crt" "$rev" >"$work/$service-$rev.txt" 2>&1
  report="$work/$service-$rev.txt"
  if [[ $# -eq 0 ]]; then
    grep -E '^[✓✗] ' "$report" | sed 's/^/  /'
    local line; line=$(tail -1 "$report")   # "N passed, M failed, K skipped" (scored only)
    passed=$((passed + $(awk '{print $1}' <<<"$line"))); failed=$((failed + $(awk '{print $3}' <<<"$line")))
    echo "  scored: $line"
    [[ $(awk '{print $3}' <<<"$line") == 0 ]]
  else
    local ok=0 bad=0 s
    for s in "$@"; do
      if grep -q "^✓ $s:" "$report"; then echo "  PASS $s"; ok=$((ok + 1)); else echo "  FAIL $s"; bad=$((bad + 1)); fi
    done
    passed=$((passed + ok)); failed=$((failed + bad))
    [[ $bad == 0 ]]
  fi
}

for service in everything weather datetime echo; do
  start_server "$service"
  for rev in "${revisions[@]}"; do
    if [[ $service == everything ]]; then
      echo "== $service-server, frozen server set $rev (https://localhost:$port/mcp)"
      run_set "$service" "$rev"
    else
      scenarios=("${general_2025[@]}"); [[ $rev == 2026-07-28 ]] && scenarios=("${general_2026[@]}")
      echo "== $service-server, general scenarios at $rev"
      run_set "$service" "$rev" "${scenarios[@]}"
    fi || { echo "--- $service-server log (last lines):"; tail -20 "$work/$service.log"; }
  done
done

# The client part: each frozen client set through requirements.sh, with the project's mapping
# (scripts/conformance-client.sh) as the command the suite runs for each scenario; the OAuth
# scenarios are expected failures until the client speaks OAuth. requirements.sh ends with
# "N passed, M failed, K skipped".
if [[ -x scripts/conformance-client.sh ]]; then
  expected=()
  [[ -f scripts/conformance-client-expected-failures.yaml ]] && expected=(--expected-failures "$PWD/scripts/conformance-client-expected-failures.yaml")
  for rev in "${revisions[@]}"; do
    echo "== client, frozen client set $rev"
    out=$("$shared/conformance/requirements.sh" client "$PWD/scripts/conformance-client.sh" "$rev" "${expected[@]}" 2>&1)
    grep -E '^ *[✓✗] |^[0-9]+ passed' <<<"$out" | sed 's/^/  /'
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
    [[ -n $line ]] || line="0 passed, 1 failed"   # no tally: the run itself failed
    passed=$((passed + $(awk '{print $1}' <<<"$line"))); failed=$((failed + $(awk '{print $3}' <<<"$line")))
  done
else
  echo "== client: ${#client_scenarios[@]} scenarios"
  out=$("$shared/conformance/client.sh" bin/client "${client_scenarios[@]}" 2>&1)
  grep -E '^(PASS|FAIL) ' <<<"$out" | sed 's/^/  /'
  passed=$((passed + $(grep -c '^PASS ' <<<"$out"))); failed=$((failed + $(grep -c '^FAIL ' <<<"$out")))
fi
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
