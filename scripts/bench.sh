#!/bin/bash
# make bench: the echo server with a throw-away PKI, driven by `client bench` over mutual TLS.
# Server CPU time and peak RSS come from /proc, so the per-request figures hold on a busy machine.
# Writes bench/results.json and prints a table.
# env: DURATION (s, default 10), CONNECTIONS (default 16), HANDSHAKES (requests, default 2000),
#      MANY (concurrent keep-alive clients for the latency run, default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10} CONNECTIONS=${CONNECTIONS:-16} HANDSHAKES=${HANDSHAKES:-2000} MANY=${MANY:-256}
work=$(mktemp -d /tmp/mcp-mtls-bench.XXXXXX)
server_pid=
cleanup() { [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
scripts/demo-pki.sh "$work/certs" >/dev/null
bin/echo-server --port 0 --cert "$work/certs/echo.crt" --key "$work/certs/echo.key" --ca "$work/certs/ca-bundle.crt" \
  --max-connections 512 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q server_started "$work/server.log" && break; sleep 0.05; done
port=$(sed -n 's/.*server_started.* port=\([0-9]*\).*/\1/p' "$work/server.log")
url="https://localhost:$port/mcp"
client=(bin/client --ca "$work/certs/ca-bundle.crt" --cert "$work/certs/coordinator.crt" --key "$work/certs/coordinator.key")
ticks() { awk '{print $14+$15}' "/proc/$server_pid/stat"; }
clk=$(getconf CLK_TCK)

run() { # run NAME ARGS... -> one JSON object per workload in $work/NAME.json
  local name=$1; shift
  local before after
  before=$(ticks)
  "${client[@]}" bench --server "$url" --quiet --json "$@" >"$work/$name.json"
  after=$(ticks)
  python3 - "$work/$name.json" "$before" "$after" "$clk" "$name" <<'PY'
import json, sys
path, before, after, clk, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = json.load(open(path))
total = r["ok"] + r["failed"]
r["workload"] = name
r["server_cpu_seconds"] = (after - before) / clk
r["server_cpu_us_per_request"] = round((after - before) / clk * 1e6 / max(total, 1), 1)
json.dump(r, open(path, "w"))
PY
}

rss_idle=$(awk '/VmRSS/{print $2}' "/proc/$server_pid/status")
run keepalive --connections "$CONNECTIONS" --duration "$DURATION"
run handshake --connections "$CONNECTIONS" --requests "$HANDSHAKES" --new-connection-per-request --no-resumption
run resumption --connections "$CONNECTIONS" --requests "$HANDSHAKES" --new-connection-per-request
rss_before_many=$(awk '/VmRSS/{print $2}' "/proc/$server_pid/status")
run many_clients --connections "$MANY" --duration "$DURATION"
peak_rss=$(awk '/VmHWM/{print $2}' "/proc/$server_pid/status")

mkdir -p bench
python3 - "$work" "$rss_idle" "$rss_before_many" "$peak_rss" "$MANY" <<'PY'
import json, os, platform, subprocess, sys, datetime
work, rss_idle, rss_before, peak, many = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = [json.load(open(os.path.join(work, n + ".json"))) for n in ("keepalive", "handshake", "resumption", "many_clients")]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
result = {
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()},
    "command": "make bench",
    "server": "bin/echo-server --max-connections 512",
    "workloads": rows,
    "memory": {"rss_idle_kib": rss_idle, "peak_rss_kib": peak,
               "rss_growth_per_keepalive_connection_kib": round(max(peak - rss_before, 0) / many, 1)},
}
json.dump(result, open("bench/results.json", "w"), indent=2)
print(f"{'workload':<14}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failed':>8}{'cpu us/req':>12}")
for r in rows:
    l = r["latency_ms"]
    print(f"{r['workload']:<14}{r['connections']:>6}{r['requests_per_second']:>10.0f}{l['p50']:>9.2f}{l['p99']:>9.2f}{l['max']:>9.2f}{r['failed']:>8}{r['server_cpu_us_per_request']:>12}")
print(f"server RSS: idle {rss_idle} KiB, peak {peak} KiB, growth per keep-alive connection {result['memory']['rss_growth_per_keepalive_connection_kib']} KiB")
print("written: bench/results.json")
PY
