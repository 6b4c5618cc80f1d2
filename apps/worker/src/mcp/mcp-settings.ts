import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * MCP_SERVERS_FILE: KiloCode's `mcp_settings.json`,
 * `{ "mcpServers": { "<name>": <server> } }`, where a server is stdio
 * (`command`, `args`, `env`, `cwd`) or streamable HTTP (`type:
 * "streamable-http"`, `url`, `headers`), each with KiloCode's `disabled`,
 * `alwaysAllow` and `timeout` (seconds). Parsed with zod, every problem named.
 */
const Common = {
  disabled: z.boolean().optional(),
  /** KiloCode: tools that run without asking. Kept for compatibility; Baton's approvals are per mode (see the modes file). */
  alwaysAllow: z.array(z.string()).optional(),
  /** Per call, in seconds (KiloCode's unit); default 60. */
  timeout: z.number().int().min(1).max(3600).optional(),
};

export const StdioServerSchema = z.strictObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  ...Common,
});

export const HttpServerSchema = z.strictObject({
  type: z.literal('streamable-http').optional(),
  url: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
  ...Common,
});

export const McpServerSchema = z.unknown().transform((raw, ctx) => {
  // Told by its keys, so that an error names the fields of the kind meant.
  const isHttp = raw !== null && typeof raw === 'object' && ('url' in raw || (raw as { type?: unknown }).type === 'streamable-http');
  if (raw !== null && typeof raw === 'object' && (raw as { type?: unknown }).type === 'sse') {
    ctx.addIssue({ code: 'custom', message: 'type "sse" (the deprecated HTTP+SSE transport) is not supported: use "streamable-http"' });
    return z.NEVER;
  }
  const parsed = (isHttp ? HttpServerSchema : StdioServerSchema).safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return isHttp
    ? { kind: 'http' as const, ...(parsed.data as z.output<typeof HttpServerSchema>) }
    : { kind: 'stdio' as const, ...(parsed.data as z.output<typeof StdioServerSchema>) };
});
export type McpServerConfig = z.output<typeof McpServerSchema>;

const SERVER_NAME = /^[A-Za-z0-9_-]{1,32}$/;

export const McpSettingsSchema = z.strictObject({
  mcpServers: z.record(z.string().regex(SERVER_NAME), McpServerSchema),
});
export type McpSettings = z.output<typeof McpSettingsSchema>;

export function parseMcpSettings(text: string, fileName: string): McpSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`MCP_SERVERS_FILE ${fileName}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = McpSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    // zod reports a bad record key as "Invalid key in record": name the rule instead.
    const named = new z.ZodError(
      parsed.error.issues.map((i) =>
        i.code === 'invalid_key' ? { ...i, message: 'server names are 1 to 32 of A-Z a-z 0-9 _ - (they become part of tool names)' } : i,
      ),
    );
    throw new Error(`MCP_SERVERS_FILE ${fileName} is invalid:\n${z.prettifyError(named)}`);
  }
  return parsed.data;
}

export function loadMcpSettings(fileName: string): McpSettings {
  let text: string;
  try {
    text = readFileSync(fileName, 'utf8');
  } catch (err) {
    throw new Error(`MCP_SERVERS_FILE ${fileName} cannot be read: ${(err as Error).message}`);
  }
  return parseMcpSettings(text, fileName);
}
