import type { z } from 'zod';
import type { ToolContext, ToolDefinition, ToolGroup } from '../tool-types';

/**
 * `defineTool` for the workspace tools, with a group required. It lives here
 * (type-only imports) because the registry imports these tools: importing its
 * runtime from them would be a cycle.
 */
export function builtinTool<S extends z.ZodType>(
  definition: ToolDefinition<S> & { group: ToolGroup; handler: (args: z.output<S>, ctx: ToolContext) => Promise<unknown> },
): ToolDefinition<S> {
  return definition;
}

/** Bytes as a short human figure (for truncation notes). */
export function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KiB`;
}

/** Is this buffer binary? A NUL byte in its first 8 KiB, as git and ripgrep decide. */
export function looksBinary(buffer: Buffer): boolean {
  return buffer.subarray(0, 8192).includes(0);
}
