#!/bin/bash
# Starts the three demo MCP servers over mutual TLS and stops them all on Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/demo-pki.sh certs
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping servers..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  wait
  exit 0
}
trap stop INT TERM EXIT
bin/weather-server  --port 8443 --cert certs/weather.crt  --key certs/weather.key  & pids+=($!)
bin/datetime-server --port 8444 --cert certs/datetime.crt --key certs/datetime.key & pids+=($!)
bin/echo-server     --port 8445 --cert certs/echo.crt     --key certs/echo.key     & pids+=($!)
sleep 1
cat <<'MSG'

Three MCP servers are listening (mutual TLS; clients need certs/coordinator.crt):
  weather   https://localhost:8443/mcp
  datetime  https://localhost:8444/mcp
  echo      https://localhost:8445/mcp

Try, in another terminal:
  bin/client tools
  bin/client ask "What's the weather in Paris?"
  bin/client call datetime convert_time time=09:00 from_timezone=Europe/London to_timezone=Australia/Sydney
  bin/client check

or with curl (initialize, then use the Mcp-Session-Id it returns):
  curl --cacert certs/ca.crt --cert certs/coordinator.crt --key certs/coordinator.key \
       -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
       -D - https://localhost:8445/mcp \
       -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'

Press Ctrl-C to stop all three.
MSG
wait
