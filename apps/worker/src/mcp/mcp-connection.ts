import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Logger } from 'pino';
import type { McpServerConfig } from './mcp-settings';

/** The SDK's ErrorCode.ConnectionClosed. */
const CONNECTION_CLOSED = -32000;

export interface McpToolInfo {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

/**
 * One MCP server's client. A server that dies (stdio process exits, HTTP
 * session lost) is reconnected on the next call, once; if that fails the
 * call is a tool error naming the server, and the next call tries again.
 */
export class McpConnection {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;

  constructor(
    readonly name: string,
    private readonly config: McpServerConfig,
    private readonly logger: Logger,
  ) {}

  get timeoutMs(): number {
    return (this.config.timeout ?? 60) * 1000;
  }

  async listTools(): Promise<McpToolInfo[]> {
    const client = await this.connected();
    const tools: McpToolInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: this.timeoutMs });
      tools.push(
        ...page.tools.map((t) => ({
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          inputSchema: t.inputSchema as Record<string, unknown>,
        })),
      );
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /** Calls a tool; returns its result as text (an MCP error result becomes a thrown Error, i.e. a tool error). */
  async callTool(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    let client: Client;
    try {
      client = await this.connected();
    } catch (err) {
      throw new Error(`MCP server "${this.name}" is not reachable: ${(err as Error).message}`);
    }
    let result;
    try {
      result = await client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout: this.timeoutMs });
    } catch (err) {
      // The server died under the call (its process exited, its HTTP session ended): not retried (the call may
      // have run), but the connection is dropped so that the next call starts a new one.
      if ((err as { code?: number }).code === CONNECTION_CLOSED) {
        if (this.client === client) this.client = undefined;
        throw new Error(`MCP server "${this.name}" closed the connection during the call (it is reconnected on the next call): ${(err as Error).message}`);
      }
      throw err;
    }
    const text = resultText(result as { content?: unknown[]; structuredContent?: unknown; toolResult?: unknown });
    if ((result as { isError?: boolean }).isError) throw new Error(text || 'the MCP tool reported an error');
    return text;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }

  private connected(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ name: 'baton-worker', version: '0.1.0' });
    const transport =
      this.config.kind === 'http'
        ? new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers: this.config.headers ?? {} } })
        : new StdioClientTransport({
            command: this.config.command,
            args: this.config.args,
            // The server gets a minimal environment plus its own `env`, never the worker's (no LLM_API_KEY, no REDIS_URL).
            env: { ...getDefaultEnvironment(), ...(this.config.env ?? {}) },
            ...(this.config.cwd ? { cwd: this.config.cwd } : {}),
            stderr: 'pipe',
          });
    client.onclose = () => {
      if (this.client === client) {
        this.logger.warn({ server: this.name }, 'MCP server connection closed; reconnecting on the next call');
        this.client = undefined;
      }
    };
    client.onerror = (err) => this.logger.warn({ server: this.name, err: err.message }, 'MCP server connection error');
    await client.connect(transport, { timeout: this.timeoutMs });
    this.client = client;
    return client;
  }
}

/** An MCP call result as text: text parts as they are, other parts described. */
export function resultText(result: { content?: unknown[]; structuredContent?: unknown; toolResult?: unknown }): string {
  if (!Array.isArray(result.content)) return JSON.stringify(result.toolResult ?? result.structuredContent ?? null);
  const parts = result.content.map((part) => {
    const p = part as { type?: string; text?: string; mimeType?: string; uri?: string; resource?: { uri?: string; text?: string } };
    switch (p.type) {
      case 'text':
        return p.text ?? '';
      case 'image':
      case 'audio':
        return `[${p.type} ${p.mimeType ?? ''}]`;
      case 'resource':
        return p.resource?.text ?? `[resource ${p.resource?.uri ?? ''}]`;
      case 'resource_link':
        return `[resource ${p.uri ?? ''}]`;
      default:
        return JSON.stringify(part);
    }
  });
  return parts.join('\n');
}
