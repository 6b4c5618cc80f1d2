import type { ToolDefinition } from '../tools/tool-registry';
import { groupName, groupOptions, type Mode } from './mode-schema';

/**
 * A group's `fileRegex` (KiloCode's `['edit', { fileRegex }]`) limits the
 * paths its tools may touch; it is enforced when a call runs, not only
 * described in the prompt, because a model does not always follow the
 * prompt. The path is the call's `path` argument (every workspace tool
 * names its file so), relative to the workspace, with `/` separators.
 *
 * Returns the tool error for a refused call, undefined when allowed.
 */
export function fileRestrictionError(mode: Mode, tool: Pick<ToolDefinition, 'name' | 'group'>, args: unknown): string | undefined {
  if (!tool.group) return undefined;
  const entry = mode.groups.find((g) => groupName(g) === tool.group);
  const options = entry ? groupOptions(entry) : undefined;
  if (!options?.fileRegex) return undefined;
  const path = args && typeof args === 'object' && 'path' in args ? (args as { path: unknown }).path : undefined;
  if (typeof path !== 'string') return undefined;
  const normalised = path.replace(/\\/g, '/').replace(/^\.\//, '');
  if (new RegExp(options.fileRegex).test(normalised)) return undefined;
  const what = options.description ? ` (${options.description})` : '';
  return (
    `error: ${tool.name} refused: in mode "${mode.slug}" the ${tool.group} tools may only touch paths matching /${options.fileRegex}/${what}, ` +
    `and "${path}" does not. Use a matching path, or switch_mode to a mode that may edit it.`
  );
}
