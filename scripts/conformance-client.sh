#!/bin/bash
# The project's client mapping for the MCP conformance suite's client scenarios, as the suite's own
# everything-client has one: the suite starts a plain-HTTP mock server and runs
#   conformance-client.sh URL
# with MCP_CONFORMANCE_SCENARIO (what to do), MCP_CONFORMANCE_PROTOCOL_VERSION (the revision under
# test; the client is forced to it, "auto" when unset) and for some scenarios
# MCP_CONFORMANCE_CONTEXT (JSON, e.g. {"toolCalls": [{"name": ..., "arguments": {...}}]}).
# Run a whole set with:
#   ../shared/conformance/requirements.sh client "scripts/conformance-client.sh" 2026-07-28 \
#       --expected-failures scripts/conformance-client-expected-failures.yaml
# CLIENT=path overrides bin/client.
set -uo pipefail
[[ $# -ge 1 ]] || { sed -n '2,11p' "$0"; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
client=${CLIENT:-$root/bin/client}
url=${@: -1}
scenario=${MCP_CONFORMANCE_SCENARIO:-}
version=${MCP_CONFORMANCE_PROTOCOL_VERSION:-auto}
run=("$client" --allow-http --protocol-version "$version" --server "conf=$url")

# Every call of a JSON list [{"name": T, "arguments": {...}}], one `client call` each (null
# arguments left out, as the tool never got them); stops at the first failure.
calls() {
  local script
  script=$(python3 -c '
import json, shlex, sys
for call in json.loads(sys.argv[1]):
    words = ["call", "conf", call["name"]]
    for key, value in (call.get("arguments") or {}).items():
        if value is None: continue
        words.append(key + "=" + (value if isinstance(value, str) else json.dumps(value)))
    print("\"${run[@]}\" " + " ".join(shlex.quote(w) for w in words) + " || return 1")
' "$1") || return 2
  eval "$script"
}

# Every tool the client keeps (it refuses invalid definitions itself), called with a value for
# each required argument.
call_every_tool() {
  local listed
  listed=$("${run[@]}" --json tools) || return 1
  calls "$(python3 -c '
import json, sys
sample = {"string": "x", "integer": 1, "number": 1, "boolean": True}
out = []
for tool in json.loads(sys.argv[1]).get("conf", []):
    schema = tool.get("inputSchema") or {}
    props = schema.get("properties") or {}
    args = {k: sample.get((props.get(k) or {}).get("type"), "x") for k in schema.get("required", [])}
    out.append({"name": tool["name"], "arguments": args})
print(json.dumps(out))
' "$listed")"
}

# OAuth scenarios: the suite's authorization servers grant at once, answering the authorization
# URL with a redirect, so the client fetches it itself (--oauth-auto-follow, which stands in for a
# browser: tests only) instead of opening one. Tokens and registrations go to a state directory of
# this run's own. A pre-registered client comes in the context ({"client_id", "client_secret"}).
oauth_call() {
  local state secret
  state=$(mktemp -d) || return 2
  trap 'rm -rf "$state"' RETURN
  local extra=(--oauth-auto-follow --oauth-client-metadata-url https://conformance-test.local/client-metadata.json)
  local id
  id=$(python3 -c 'import json,os; print(json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}").get("client_id", ""))')
  if [[ -n $id ]]; then
    secret=$state/secret
    python3 -c 'import json,os; print(json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}").get("client_secret", ""))' >"$secret"
    extra+=(--oauth-client-id "$id")
    [[ -s $secret && $(cat "$secret") != "" ]] && extra+=(--oauth-client-secret-file "$secret")
  fi
  XDG_STATE_HOME=$state "${run[@]}" "${extra[@]}" call conf test-tool
}

context_calls() { python3 -c 'import json,os; print(json.dumps(json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}").get("toolCalls", [])))'; }

case $scenario in
  initialize|request-metadata|json-schema-ref-no-deref)
    exec "${run[@]}" tools ;;
  tools_call)
    exec "${run[@]}" call conf add_numbers a=2 b=3 ;;
  sse-retry)
    exec "${run[@]}" call conf test_reconnection ;;
  elicitation-sep1034-client-defaults)
    exec "${run[@]}" --elicit defaults call conf test_client_elicitation_defaults ;;
  sep-2322-client-request-state)
    for tool in test_mrtr_echo_state test_mrtr_no_state test_mrtr_unrelated test_mrtr_no_result_type; do
      "${run[@]}" --elicit defaults call conf "$tool" || exit 1
    done ;;
  http-standard-headers)
    "${run[@]}" tools && "${run[@]}" call conf test_headers && "${run[@]}" call conf my-hyphenated-tool ;;
  http-invalid-tool-headers)
    call_every_tool ;;
  auth/*)
    oauth_call ;;
  *)
    ctx=$(context_calls)
    if [[ $ctx != "[]" ]]; then calls "$ctx"; else
      echo "conformance-client: no mapping for scenario '$scenario'" >&2; exit 2
    fi ;;
esac
