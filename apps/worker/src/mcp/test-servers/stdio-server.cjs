// A real MCP server over stdio for the worker's tests (run with node by the worker's MCP client).
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { z } = require('zod');

const server = new McpServer({ name: 'baton-test-stdio', version: '1.0.0' });
const text = (t) => ({ content: [{ type: 'text', text: t }] });

server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => text(String(a + b)));
server.registerTool('pid', { description: 'The server process id' }, async () => text(String(process.pid)));
server.registerTool('secret', { description: 'Whether the worker secret leaked into the server' }, async () =>
  text(process.env.LLM_API_KEY ? 'leaked' : `clean ${process.env.GREETING}`),
);
server.registerTool('fail', { description: 'Always reports an error' }, async () => ({ isError: true, content: [{ type: 'text', text: 'boom' }] }));
// Dies in the middle of the call (no answer): what a crashing server does; deterministic, unlike exiting after answering.
server.registerTool('exit', { description: 'Exits the server process during the call' }, async () => {
  process.exit(0);
});

server.connect(new StdioServerTransport()).catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
