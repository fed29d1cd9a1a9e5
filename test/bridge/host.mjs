// An MCP host made of the official TypeScript SDK (Client + StdioClientTransport), for the
// bridge's tests: it starts `bin/client ... bridge ...` as a stdio MCP server, as Claude Desktop
// or VS Code would, and runs a plan of steps against it, printing one JSON line per step.
//
//   node host.mjs PLAN.json      PLAN = {"command": "...", "args": [...], "env"?: {...}, "steps": [...]}
//   ("env" is added to the SDK's default environment, as a host's server configuration adds it)
//   node host.mjs bench N COMMAND ARGS...   N sequential tools/call echo through the transport
//
// Steps: {"op": "list"} -> the tool names; {"op": "call", "name", "arguments", "progress"?};
// {"op": "wait_file", "path"} (the test does something meanwhile); {"op": "wait_list_changed"};
// {"op": "subscribe", "uri"}; {"op": "wait_resource_updated", "uri"}; {"op": "server_info"}.
// The host answers elicitation with username "bridge-user" and sampling with a fixed text, and
// records every log message and progress notification it gets.
import { existsSync, readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(predicate, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(50);
  }
}

async function runPlan(plan) {
  const env = plan.env ? { ...getDefaultEnvironment(), ...plan.env } : undefined;
  const transport = new StdioClientTransport({ command: plan.command, args: plan.args, env, stderr: "inherit" });
  const client = new Client({ name: "bridge-test-host", version: "1.0.0" },
                            { capabilities: { elicitation: {}, sampling: {} } });
  const logs = [];
  let listChanged = 0;
  const updated = [];
  client.setRequestHandler(ElicitRequestSchema, async () => ({
    action: "accept", content: { username: "bridge-user", email: "bridge-user@example.com" } }));
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: "assistant", model: "test-model", content: { type: "text", text: "sampled through the bridge" } }));
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { logs.push(n.params); });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { listChanged += 1; });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { updated.push(n.params.uri); });
  await client.connect(transport);
  // Progress notifications counted as they arrive on stdin, before the SDK sees them: the SDK
  // handles a notification a microtask later than the answer read with it, and drops the last
  // progress of a call when both come in one read ("unknown token"). What the bridge forwards is
  // what this test is about.
  const arrived = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.method === "notifications/progress") arrived.push(message.params);
    deliver(message, extra);
  };
  for (const step of plan.steps) {
    try {
      if (step.op === "server_info") {
        print({ op: step.op, server: client.getServerVersion(), capabilities: client.getServerCapabilities() });
      } else if (step.op === "list") {
        const { tools } = await client.listTools();
        print({ op: step.op, tools: tools.map((t) => t.name) });
      } else if (step.op === "call") {
        const options = step.progress ? { onprogress: () => {} } : undefined;  // makes the SDK send a progressToken
        const before = arrived.length;
        const result = await client.callTool({ name: step.name, arguments: step.arguments ?? {} }, undefined, options);
        const progress = arrived.slice(before);
        const text = (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
        print({ op: step.op, name: step.name, text, isError: result.isError ?? false, progress: progress.length, logs: logs.length });
      } else if (step.op === "wait_file") {
        await waitFor(() => existsSync(step.path), step.path, step.timeout_ms ?? 60000);
        print({ op: step.op, path: step.path });
      } else if (step.op === "wait_list_changed") {
        await waitFor(() => listChanged > 0, "notifications/tools/list_changed");
        print({ op: step.op, count: listChanged });
      } else if (step.op === "subscribe") {
        await client.subscribeResource({ uri: step.uri });
        print({ op: step.op, uri: step.uri });
      } else if (step.op === "wait_resource_updated") {
        await waitFor(() => updated.includes(step.uri), "notifications/resources/updated " + step.uri);
        print({ op: step.op, uri: step.uri });
      } else {
        throw new Error("unknown step " + step.op);
      }
    } catch (error) {
      print({ op: step.op, name: step.name, error: String(error?.message ?? error), code: error?.code ?? null });
    }
  }
  await client.close();
}

// Sequential tools/call echo straight through the stdio transport (no Client on top: its schema
// checks would be timed too), after initialize; prints the latency percentiles in ms.
async function runBench(count, command, args) {
  const transport = new StdioClientTransport({ command, args, stderr: "inherit" });
  let waiting = null;
  transport.onmessage = (message) => { if (waiting && message.id === waiting.id) { const w = waiting; waiting = null; w.resolve(message); } };
  await transport.start();
  const exchange = (message) => new Promise((resolve) => { waiting = { id: message.id, resolve }; transport.send(message); });
  await exchange({ jsonrpc: "2.0", id: 0, method: "initialize",
                   params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bridge-bench", version: "1" } } });
  await transport.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  const warmup = Math.min(200, Math.ceil(count / 10));
  const times = [];
  let failed = 0;
  for (let i = 1; i <= warmup + count; i++) {
    const started = process.hrtime.bigint();
    const answer = await exchange({ jsonrpc: "2.0", id: i, method: "tools/call",
                                    params: { name: "echo", arguments: { message: "hello" } } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (!answer.result || answer.result.isError) failed += 1;
    if (i > warmup) times.push(ms);
  }
  await transport.close();
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  const total = times.reduce((a, b) => a + b, 0);
  print({ requests: times.length, failed, p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), max_ms: times[times.length - 1],
          requests_per_second: times.length / (total / 1000) });
}

try {
  if (process.argv[2] === "bench") await runBench(Number(process.argv[3]), process.argv[4], process.argv.slice(5));
  else await runPlan(JSON.parse(readFileSync(process.argv[2], "utf8")));
  process.exit(0);
} catch (error) {
  process.stderr.write("host: " + (error?.stack ?? error) + "\n");
  process.exit(1);
}
