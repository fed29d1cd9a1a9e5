// A 2025-only MCP server for the tests: the official TypeScript SDK v1 (@modelcontextprotocol/sdk)
// serving revision 2025-11-25 with sessions over HTTPS with a required client certificate, as the
// servers deployed before 2026-07-28 do. It knows nothing of server/discover: a request without a
// session that is not initialize gets the SDK example's 400 (JSON-RPC error, id null).
// Each request's method is one line of its output.
//   node legacy-server.mjs CERT KEY CA
// Prints "listening on PORT" (an ephemeral loopback port) once it serves.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const [cert, key, ca] = process.argv.slice(2);

function server() {
  const s = new McpServer({ name: 'legacy-fixture', version: '1.0.0' },
                          { capabilities: { resources: { subscribe: true, listChanged: true } } });
  s.registerResource('note', 'note://one', { description: 'A note' },
    async (uri) => ({ contents: [{ uri: uri.href, text: 'one' }] }));
  s.server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
  s.registerTool('echo', { description: 'Returns the message', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }));
  // Asks the client in the middle of the call, on the call's own stream, as 2025 servers do.
  s.registerTool('confirm', { description: 'Asks the user to confirm', inputSchema: {} }, async (_args, extra) => {
    try {
      const answer = await s.server.elicitInput(
        { message: 'Proceed?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
        { relatedRequestId: extra.requestId });
      return { content: [{ type: 'text', text: `answered: ${answer.action}` }] };
    } catch (error) {
      return { content: [{ type: 'text', text: `no answer: ${error.message}` }], isError: true };
    }
  });
  // Three questions in turn on the call's stream (elicitation, sampling, roots), each waiting
  // for the answer before the next: a multi-round call for a 2026 host behind the bridge.
  s.registerTool('survey', { description: 'Asks three questions', inputSchema: {} }, async (_args, extra) => {
    const asked = { relatedRequestId: extra.requestId };
    const name = await s.server.elicitInput(
      { message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } }, asked);
    const sampled = await s.server.createMessage(
      { messages: [{ role: 'user', content: { type: 'text', text: 'A word?' } }], maxTokens: 10 }, asked);
    const { roots } = await s.server.listRoots(undefined, asked);
    return { content: [{ type: 'text', text: `${name.content?.name}|${sampled.content?.text}|${roots.map((r) => r.uri).join(',')}` }] };
  });
  // Tells whoever listens outside any call (the standalone GET stream): the note changed, and
  // so did the lists of tools and resources.
  s.registerTool('touch', { description: 'Changes the note', inputSchema: {} }, async () => {
    await s.server.sendResourceUpdated({ uri: 'note://one' });
    s.sendToolListChanged();
    s.sendResourceListChanged();
    return { content: [{ type: 'text', text: 'touched' }] };
  });
  return s;
}

const transports = new Map();
const refuse = (res, status, message) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));
};

const listener = https.createServer(
  { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca), requestCert: true, rejectUnauthorized: true },
  async (req, res) => {
    if (new URL(req.url, 'https://localhost').pathname !== '/mcp') return refuse(res, 404, 'Not found');
    let body = '';
    for await (const chunk of req) body += chunk;
    let message;
    try {
      message = body ? JSON.parse(body) : undefined;
    } catch {
      return refuse(res, 400, 'Parse error');
    }
    console.log(`${req.method} ${message?.method ?? '-'}`);
    const id = req.headers['mcp-session-id'];
    let transport = id ? transports.get(id) : undefined;
    if (!transport) {
      if (id) return refuse(res, 404, 'Session not found');
      if (req.method !== 'POST' || message?.method !== 'initialize') return refuse(res, 400, 'Bad Request: No valid session ID provided');
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => transports.set(sid, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await server().connect(transport);
    }
    await transport.handleRequest(req, res, message);
  });
listener.listen(0, '127.0.0.1', () => console.log(`listening on ${listener.address().port}`));
