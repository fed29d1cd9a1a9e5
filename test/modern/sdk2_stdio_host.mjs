// The official TypeScript SDK v2 client (@modelcontextprotocol/client 2.4.0) as an MCP host that
// speaks 2026-07-28 and starts `client bridge` over stdio, as a host would: pinned to 2026-07-28
// (server/discover, then a _meta envelope on every request, input-required results answered by
// the SDK itself: elicitation is accepted with confirm=true).
//   node sdk2_stdio_host.mjs TOOL ARGUMENTS_JSON COMMAND ARGS...
// Prints one JSON line: {version, server, tools, result} or {error}.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const [tool, argsJson, command, ...args] = process.argv.slice(2);
const client = new Client({ name: 'sdk2-stdio-host', version: '1.0.0' },
                          { capabilities: { elicitation: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { confirm: true } }));
try {
  await client.connect(new StdioClientTransport({ command, args, stderr: 'inherit' }));
  const tools = (await client.listTools()).tools.map((t) => t.name);
  const result = await client.callTool({ name: tool, arguments: JSON.parse(argsJson) });
  console.log(JSON.stringify({ version: client.getNegotiatedProtocolVersion(), server: client.getServerVersion?.(), tools, result }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e?.stack ?? e) }));
}
await client.close().catch(() => {});  // the bridge's stdin closes: it exits
