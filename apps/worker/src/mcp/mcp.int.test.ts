import { Engine, type Message } from '@baton/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { chatCompletion, cleanupPrefix, REDIS_URL, startFakeProvider, testPrefix, toolCall, type FakeProvider } from '@baton/testkit';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { jobEnded, startTestWorker } from '../test-utils/harness';
import type { WorkerApp } from '../worker-app';
import { parseMcpSettings } from './mcp-settings';

/** A real MCP server over streamable HTTP (stateless: one server and transport per request), on a real port. */
async function startHttpMcpServer(): Promise<{ url: string; headers: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const headers: IncomingHttpHeaders[] = [];
  const http: Server = createServer((req, res) => {
    headers.push(req.headers);
    const server = new McpServer({ name: 'baton-test-http', version: '1.0.0' });
    server.registerTool('echo', { description: 'Echoes a text', inputSchema: { text: z.string() } }, async ({ text }) => ({
      content: [{ type: 'text', text: `echo: ${text}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    headers,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
}

describe('MCP_SERVERS_FILE', () => {
  it("parses KiloCode's mcp_settings.json and names each problem", () => {
    const ok = parseMcpSettings(
      JSON.stringify({
        mcpServers: {
          files: { command: 'node', args: ['s.js'], env: { A: '1' }, alwaysAllow: ['read'], disabled: false },
          web: { type: 'streamable-http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' } },
        },
      }),
      'mcp.json',
    );
    expect(ok.mcpServers.files).toMatchObject({ kind: 'stdio', command: 'node', args: ['s.js'] });
    expect(ok.mcpServers.web).toMatchObject({ kind: 'http', url: 'https://mcp.example.com/mcp' });
    expect(() =>
      parseMcpSettings(
        JSON.stringify({ mcpServers: { 'a.b': { command: 'x' }, c: { args: [] }, d: { url: 'ftp://x' }, e: { type: 'sse', url: 'http://x' } } }),
        'mcp.json',
      ),
    ).toThrow(
      /^MCP_SERVERS_FILE mcp\.json is invalid:\n✖ server names are .*\n {2}→ at mcpServers\["a\.b"\]\n✖ type "sse" .*\n {2}→ at mcpServers\.e\n✖ .*\n {2}→ at mcpServers\.c\.command\n✖ Invalid URL\n {2}→ at mcpServers\.d\.url$/,
    );
    expect(() => parseMcpSettings('{', 'mcp.json')).toThrow(/not valid JSON/);
  });

  describe('in a worker, a stdio server and a streamable HTTP server', () => {
    const prefix = testPrefix('mcp');
    let fake: FakeProvider;
    let app: WorkerApp;
    let engine: Engine;
    let http: Awaited<ReturnType<typeof startHttpMcpServer>>;

    beforeAll(async () => {
      http = await startHttpMcpServer();
      const dir = mkdtempSync(join(tmpdir(), 'baton-mcp-'));
      const file = join(dir, 'mcp_settings.json');
      writeFileSync(
        file,
        JSON.stringify({
          mcpServers: {
            local: { command: process.execPath, args: [join(__dirname, 'test-servers', 'stdio-server.cjs')], env: { GREETING: 'hi' } },
            web: { type: 'streamable-http', url: http.url, headers: { Authorization: 'Bearer mcp-token' } },
            off: { command: 'does-not-exist', disabled: true },
            down: { type: 'streamable-http', url: 'http://127.0.0.1:9/mcp', timeout: 2 },
          },
        }),
      );
      fake = await startFakeProvider({ apiKey: 'sk-test' });
      app = await startTestWorker({ prefix, env: { LLM_BASE_URL: fake.url, MCP_SERVERS_FILE: file, MAX_TURNS: '10' } });
      engine = new Engine(REDIS_URL, { prefix });
    });
    afterAll(async () => {
      await app?.close(1000);
      await engine?.close();
      await fake?.close();
      await http?.close();
      await cleanupPrefix(prefix);
    });

    it('registers mcp__<server>__<tool> in group mcp and calls both servers through the tool path; a dead stdio server is reconnected', async () => {
      const script = [
        [toolCall('c1', 'mcp__local__add', { a: 2, b: 3 }), toolCall('c2', 'mcp__web__echo', { text: 'hello' }), toolCall('c3', 'mcp__local__secret', {})],
        [toolCall('c4', 'mcp__local__pid', {}), toolCall('c5', 'mcp__local__fail', {}), toolCall('c6', 'mcp__web__echo', { text: 7 })],
        [toolCall('c7', 'mcp__local__exit', {})],
        [toolCall('c8', 'mcp__local__pid', {})],
        [toolCall('c9', 'mcp__local__pid', {})],
      ];
      fake.setPolicy((req) => {
        const turn = (req.body.messages ?? []).filter((m) => m.role === 'assistant').length + 1;
        const calls = script[turn - 1];
        return { body: chatCompletion({ toolCalls: calls ?? [toolCall('c10', 'attempt_completion', { result: 'done' })] }) };
      });
      const ended = jobEnded(app, 'mcp-1');
      await engine.submit({ sessionId: 's-mcp', taskId: 'mcp-1', prompt: 'use mcp', mode: 'debug' });
      await ended;
      expect(await engine.getTask('mcp-1')).toMatchObject({ status: 'completed' });

      const tools = fake.requests[0]!.body.tools!;
      const names = tools.map((t) => t.function.name);
      expect(names).toEqual(expect.arrayContaining(['mcp__local__add', 'mcp__local__pid', 'mcp__web__echo']));
      expect(names.some((n) => n.startsWith('mcp__off__') || n.startsWith('mcp__down__'))).toBe(false);
      // The server's JSON schema is passed through.
      expect(tools.find((t) => t.function.name === 'mcp__local__add')!.function.parameters).toMatchObject({
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      });

      const results = ((await engine.getMessages('mcp-1')) as Message[]).flatMap((m) => (m.role === 'tool' ? [m.content] : []));
      expect(results[0]).toBe('5');
      expect(results[1]).toBe('echo: hello');
      expect(results[2]).toBe('clean hi');
      const firstPid = results[3];
      expect(firstPid).toMatch(/^\d+$/);
      expect(results[4]).toBe('error: tool mcp__local__fail failed: boom');
      expect(results[5]).toMatch(/^error: tool mcp__web__echo failed: .*/);
      // The server process died during the call: that call fails with a clear error, and the next ones run on a new process.
      expect(results[6]).toMatch(
        /^error: tool mcp__local__exit failed: MCP server "local" closed the connection during the call \(it is reconnected on the next call\)/,
      );
      expect(results[7]).toMatch(/^\d+$/);
      expect(results[7]).not.toBe(firstPid);
      expect(results[8]).toBe(results[7]);
      expect(http.headers.every((h) => h.authorization === 'Bearer mcp-token')).toBe(true);
    });

    it('modes without the mcp group are not offered MCP tools', async () => {
      fake.setPolicy(() => ({ body: chatCompletion({ toolCalls: [toolCall('c1', 'attempt_completion', { result: 'ok' })] }) }));
      fake.reset();
      const ended = jobEnded(app, 'mcp-2');
      await engine.submit({ sessionId: 's-mcp2', taskId: 'mcp-2', prompt: 'code', mode: 'code' });
      await ended;
      const request = fake.requests.find((r) => r.body.messages?.[1]?.content === 'code')!;
      expect(request.body.tools?.some((t) => t.function.name.startsWith('mcp__'))).toBe(false);
    });
  });
});
