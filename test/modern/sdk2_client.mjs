// The official TypeScript SDK v2 client (@modelcontextprotocol/client 2.4.0) as a modern-era
// (2026-07-28) peer of our servers, through mutual TLS: node's https agent carries the client
// certificate under a fetch the SDK's transport is given.
//   node sdk2_client.mjs URL CERT KEY CA TOOL ARGUMENTS_JSON [ELICIT_ANSWER_JSON]
// Prints one JSON line: {version, tools, result} or {error}.
import https from 'node:https';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const [url, cert, key, ca, tool, argsJson, elicitJson] = process.argv.slice(2);
const agent = new https.Agent({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca), keepAlive: true });

function mtlsFetch(input, init = {}) {
  return new Promise((resolve, reject) => {
    const headers = Object.fromEntries(new Headers(init.headers ?? {}).entries());
    const req = https.request(String(input), { method: init.method ?? 'GET', headers, agent }, (res) => {
      const empty = res.statusCode === 204 || res.statusCode === 304 || init.method === 'HEAD';
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
      resolve(new Response(empty ? null : Readable.toWeb(res), { status: res.statusCode, headers: responseHeaders }));
    });
    req.on('error', reject);
    init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
    if (init.body) req.write(init.body);
    req.end();
  });
}

const client = new Client({ name: 'sdk2-test', version: '1.0.0' },
                          { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
client.setRequestHandler('elicitation/create', async () => JSON.parse(elicitJson ?? '{"action":"decline"}'));
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: mtlsFetch }));
  const tools = (await client.listTools()).tools.map((t) => t.name);
  const result = await client.callTool({ name: tool, arguments: JSON.parse(argsJson) });
  console.log(JSON.stringify({ version: client.getNegotiatedProtocolVersion(), tools, result }));
  await client.close();
} catch (e) {
  console.log(JSON.stringify({ error: String(e?.stack ?? e) }));
}
agent.destroy();
