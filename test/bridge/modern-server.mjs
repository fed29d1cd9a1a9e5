// A modern-only MCP server for the tests: the official TypeScript SDK v2 (2.4.0) serving revision
// 2026-07-28 over HTTPS with a required client certificate, and 2025-era traffic (initialize,
// sessions) refused, as a server that has dropped the old handshake would. Its tools ask the
// client for input the 2026 way (input-required results): one elicits, one asks for roots, one
// asks for sampling, one mirrors an argument into an Mcp-Param header.
// Each request's method and answer status is one line of its output.
//   node modern-server.mjs CERT KEY CA
// Prints "listening on PORT" (an ephemeral loopback port) once it serves.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { McpServer, acceptedContent, createMcpHandler, fromJsonSchema, inputRequired } from '@modelcontextprotocol/server';

const [cert, key, ca] = process.argv.slice(2);
const object = (properties = {}, required = []) => fromJsonSchema({ type: 'object', properties, required });
const text = (t) => ({ content: [{ type: 'text', text: t }] });

function server() {
  const s = new McpServer({ name: 'modern-fixture', version: '1.0.0' },
                          { capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true } } });
  s.registerResource('note', 'note://one', { description: 'A note' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'one' }] }));
  // Tells the subscriptions/listen streams: the note changed, and so did the list of tools.
  s.registerTool('touch', { description: 'Changes the note', inputSchema: object() }, async () => {
    handler.notify.resourceUpdated('note://one');
    handler.notify.toolsChanged();
    return text('touched');
  });
  s.registerTool('add', { description: 'Adds two integers', inputSchema: object({ a: { type: 'integer' }, b: { type: 'integer' } }, ['a', 'b']) },
    async ({ a, b }) => text(`${a + b}`));
  s.registerTool('deploy', { description: 'Deploys after the user confirms', inputSchema: object({ env: { type: 'string' } }, ['env']) },
    async ({ env }, ctx) => {
      const responses = ctx.mcpReq.inputResponses;
      if (responses === undefined)
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: `Deploy to ${env}?`,
              requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', default: true } }, required: ['confirm'] },
            }),
          },
          requestState: `deploy:${env}`,
        });
      const state = ctx.mcpReq.requestState();
      if (state !== `deploy:${env}`) return { ...text(`requestState came back as ${state}`), isError: true };
      const answer = acceptedContent(responses, 'confirm');
      return answer?.confirm === true ? text(`deployed to ${env}`) : text(`not deployed: ${responses.confirm?.action}`);
    });
  s.registerTool('roots', { description: "Lists the client's roots", inputSchema: object() }, async (_args, ctx) => {
    const listed = ctx.mcpReq.inputResponses?.roots;
    if (listed === undefined) return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
    return text(listed.roots.map((r) => r.uri).join('\n') || '(no roots)');
  });
  s.registerTool('summarize', { description: 'Asks the client to sample', inputSchema: object() }, async (_args, ctx) => {
    if (ctx.mcpReq.inputResponses === undefined)
      return inputRequired({
        inputRequests: {
          summary: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Summarize' } }], maxTokens: 10 }),
        },
      });
    return text(`sampled: ${ctx.mcpReq.inputResponses.summary?.content?.text}`);
  });
  s.registerTool('whoami', { description: 'Asks the user for a name', inputSchema: object() }, async (_args, ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name');
    if (answer === undefined)
      return inputRequired({
        inputRequests: {
          name: inputRequired.elicit({ message: 'Who are you?', requestedSchema: { type: 'object', properties: { username: { type: 'string' } }, required: ['username'] } }),
        },
      });
    return text(`hello ${answer.username}`);
  });
  s.registerTool('weather', {
    description: 'Needs its region in an Mcp-Param-Region header',
    inputSchema: object({ region: { type: 'string', 'x-mcp-header': 'Region' } }, ['region']),
  }, async ({ region }) => text(`sunny in ${region}`));
  return s;
}

const handler = createMcpHandler(server, { legacy: 'reject' });

const httpsServer = https.createServer(
  { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
  async (req, res) => {
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      const request = new Request(`https://localhost:${httpsServer.address().port}${req.url}`, {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
        body: body.length > 0 && req.method !== 'GET' && req.method !== 'HEAD' ? body : undefined,
      });
      const response = await handler.fetch(request);
      console.log(`${req.method} ${req.headers['mcp-method'] ?? '-'} -> ${response.status}`);
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      if (response.body) for await (const chunk of response.body) res.write(chunk);
      res.end();
    } catch (error) {
      console.log(`error: ${error?.stack ?? error}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  },
);
httpsServer.listen(0, '127.0.0.1', () => console.log(`listening on ${httpsServer.address().port}`));
process.on('SIGTERM', () => process.exit(0));
