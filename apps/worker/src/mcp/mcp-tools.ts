import type { Logger } from 'pino';
import { z } from 'zod';
import type { ToolDefinition } from '../tools/tool-registry';
import { McpConnection } from './mcp-connection';
import type { McpSettings } from './mcp-settings';

/** `mcp__<server>__<tool>`: the name a model sees for an MCP tool. */
export function mcpToolName(server: string, tool: string): string {
  return `mcp__${server}__${tool}`;
}

/** MCP arguments are checked by the server against its own schema; here only "an object". */
const McpArgsSchema = z.record(z.string(), z.unknown());

/**
 * The MCP servers of MCP_SERVERS_FILE, connected at worker start. Each
 * server's tools become tools of group `mcp` named `mcp__<server>__<tool>`,
 * with the server's JSON schema passed through as the function parameters.
 * A server that cannot be reached at start is logged as an error and its
 * tools are absent from this worker (the others still load). A tool whose
 * name does not fit OpenAI's function names (A-Z a-z 0-9 _ -, at most 64
 * in all) is skipped with a warning.
 */
export class McpTools {
  private constructor(
    readonly connections: McpConnection[],
    readonly tools: ToolDefinition[],
  ) {}

  static async connect(settings: McpSettings, logger: Logger): Promise<McpTools> {
    const connections: McpConnection[] = [];
    const tools: ToolDefinition[] = [];
    for (const [server, config] of Object.entries(settings.mcpServers)) {
      if (config.disabled) continue;
      const connection = new McpConnection(server, config, logger);
      let listed;
      try {
        listed = await connection.listTools();
      } catch (err) {
        logger.error({ server, err: (err as Error).message }, `MCP server "${server}" cannot be reached at start: its tools are not available`);
        await connection.close();
        continue;
      }
      connections.push(connection);
      for (const tool of listed) {
        const name = mcpToolName(server, tool.name);
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
          logger.warn({ server, tool: tool.name }, `MCP tool name ${name} is not a valid function name (A-Z a-z 0-9 _ -, at most 64): skipped`);
          continue;
        }
        tools.push({
          name,
          description: `[MCP ${server}] ${tool.description ?? tool.name}`,
          group: 'mcp',
          schema: McpArgsSchema,
          parameters: { type: 'object', ...tool.inputSchema },
          handler: (args, ctx) => connection.callTool(tool.name, args as Record<string, unknown>, ctx.signal),
        });
      }
      logger.info({ server, tools: listed.length }, 'MCP server connected');
    }
    return new McpTools(connections, tools);
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }
}
