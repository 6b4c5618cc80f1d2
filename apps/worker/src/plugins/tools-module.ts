import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { TOOL_GROUPS } from '../modes/mode-schema';
import type { ToolDefinition } from '../tools/tool-registry';

/**
 * TOOLS_MODULE: user tools loaded at start by dynamic import, so that the
 * Docker image can load them from a mounted file. The module exports tools
 * in the built-ins' shape (ToolDefinition: name, description, zod schema,
 * handler, optional group), as `export default [...]` or
 * `export const tools = [...]`. A path (absolute, or relative to the
 * current directory; `.js`/`.mjs`/`.cjs`) or a package name.
 *
 * The shape is checked with zod at load; a tool without a `group` is
 * offered only to modes that name it in `tools`.
 */
const ToolExportSchema = z.looseObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names are 1 to 64 of A-Z a-z 0-9 _ -'),
  description: z.string().min(1),
  schema: z.custom<z.ZodType>(
    (v) => v instanceof z.ZodType || (typeof v === 'object' && v !== null && typeof (v as { safeParse?: unknown }).safeParse === 'function'),
    {
      message: 'schema must be a zod schema (z.object(...)) from zod 4',
    },
  ),
  handler: z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', { message: 'handler must be a function' }),
  group: z.enum(TOOL_GROUPS).optional(),
});
const ToolsExportSchema = z.array(ToolExportSchema).min(1, 'the module exports an empty list of tools');

export async function loadToolsModule(specifier: string): Promise<ToolDefinition[]> {
  const looksLikePath = specifier.startsWith('.') || isAbsolute(specifier) || /\.[cm]?js$/.test(specifier);
  // The worker is CommonJS, so this import is a require(): a CommonJS module, or (Node >= 22.12) an ES module without top-level await.
  const target = looksLikePath ? resolve(specifier) : specifier;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`TOOLS_MODULE ${specifier} cannot be imported: ${(err as Error).message}`);
  }
  // A CommonJS module's `module.exports = [...]` arrives as default; `exports.tools` as tools (or default.tools).
  // `export const tools` / `export default`, also as seen through CommonJS interop (default wrapping module.exports).
  const def = mod.default as { tools?: unknown; default?: unknown } | unknown[] | undefined;
  const candidates = [mod.tools, def, Array.isArray(def) ? undefined : def?.tools, Array.isArray(def) ? undefined : def?.default];
  const exported = candidates.find((c) => Array.isArray(c));
  if (exported === undefined) throw new Error(`TOOLS_MODULE ${specifier} exports no tools: use \`export default [...]\` or \`export const tools = [...]\``);
  const parsed = ToolsExportSchema.safeParse(exported);
  if (!parsed.success) {
    throw new Error(`TOOLS_MODULE ${specifier} exports invalid tools:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data as unknown as ToolDefinition[];
}
