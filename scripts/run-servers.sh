#!/bin/bash
# Starts the three demo MCP servers over mutual TLS and stops them all on Ctrl-C.
# It says a server is listening only after the server has logged `server_started`; if any server
# exits instead (its port taken, a bad certificate), the others are stopped, the reason is
# printed and the exit code is 1, so `make run-servers` never claims what is not true.
# Environment (for tests): BIN (default bin), CERTS (default certs), START_TIMEOUT (seconds, 30).
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
certs=${CERTS:-certs}
start_timeout=${START_TIMEOUT:-30}
PKI=$bin/pki scripts/demo-pki.sh "$certs" || exit 1
logs=$(mktemp -d "${TMPDIR:-/tmp}/mcp-mtls-run-servers.XXXXXX")

names=(weather datetime echo)
ports=(8443 8444 8445)
pids=()
stop() {
  trap - INT TERM EXIT
  local code=${1:-0}
  if ((${#pids[@]})); then
    echo; echo "stopping servers..."
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    wait "${pids[@]}" 2>/dev/null
  fi
  rm -rf "$logs"
  exit "$code"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

for i in "${!names[@]}"; do
  name=${names[$i]}
  # The log goes to the terminal as before and to a file that start-up is read from.
  "$bin/$name-server" --port "${ports[$i]}" --cert "$certs/$name.crt" --key "$certs/$name.key" --ca "$certs/ca-bundle.crt" \
    > >(tee "$logs/$name.log") 2>&1 &
  pids+=($!)
done

# Each server either logs server_started or exits; nothing is reported before one of the two.
declare -A state
deadline=$((SECONDS + start_timeout))
while :; do
  pending=0
  for i in "${!names[@]}"; do
    name=${names[$i]}
    [[ -n ${state[$name]:-} ]] && continue
    if grep -q server_started "$logs/$name.log" 2>/dev/null; then
      state[$name]=listening
    elif ! kill -0 "${pids[$i]}" 2>/dev/null; then
      state[$name]=failed
    elif ((SECONDS >= deadline)); then
      state[$name]=silent
    else
      pending=1
    fi
  done
  ((pending)) || break
  sleep 0.1
done
sleep 0.2  # let tee flush the last start-up lines before the banner

failed=0
listening=()
for i in "${!names[@]}"; do
  name=${names[$i]}
  case ${state[$name]} in
    listening) listening+=("$(printf '  %-9s https://localhost:%s/mcp' "$name" "${ports[$i]}")") ;;
    failed)
      failed=1
      reason=$(grep -v '^\s*$' "$logs/$name.log" | tail -n 1)
      echo "run-servers: $name-server did not start on port ${ports[$i]}: ${reason:-it exited}" >&2 ;;
    *)
      failed=1
      echo "run-servers: $name-server did not report listening on port ${ports[$i]} within ${start_timeout}s" >&2 ;;
  esac
done
if ((failed)); then
  echo "run-servers: not every server started (is an older 'make run-servers' still running? ss -ltnp 'sport >= 8443 and sport <= 8445')" >&2
  stop 1
fi

echo
echo "Three MCP servers are listening (mutual TLS; clients need $certs/coordinator.crt):"
printf '%s\n' "${listening[@]}"
cat <<MSG

Try, in another terminal:
  bin/client tools
  bin/client ask "What's the weather in Paris?"
  bin/client call datetime convert_time time=09:00 from_timezone=Europe/London to_timezone=Australia/Sydney
  bin/client check

or with curl (initialize, keep the Mcp-Session-Id it returns, call a tool):
  opts=(--cacert $certs/ca.crt --cert $certs/coordinator.crt --key $certs/coordinator.key
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
  SESSION=\$(curl -s "\${opts[@]}" -D - -o /dev/null https://localhost:8445/mcp \\
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' \\
    | tr -d '\\r' | awk 'tolower(\$1) == "mcp-session-id:" { print \$2 }')
  curl -s "\${opts[@]}" -H 'MCP-Protocol-Version: 2025-06-18' -H "Mcp-Session-Id: \$SESSION" https://localhost:8445/mcp \\
    -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'

Press Ctrl-C to stop all three.
MSG
# A server that stops later (killed, crashed) ends the demo with its exit code.
wait -n "${pids[@]}"
code=$?
stop "$code"
