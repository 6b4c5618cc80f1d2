import type { ToolRegistry } from '../tools/tool-registry';
import { groupName, type Mode } from './mode-schema';

/**
 * Tools every mode (in the KiloCode format) is offered, whatever its groups,
 * as in KiloCode. `new_task` is among them: every mode may delegate (KiloCode
 * lets each mode spawn), and depth and fan-out are bounded by MAX_DEPTH and
 * MAX_CHILDREN_PER_TASK. Names not registered in this worker are skipped.
 */
export const ALWAYS_ON_TOOLS = ['ask_followup_question', 'attempt_completion', 'switch_mode', 'new_task', 'update_todo_list'] as const;

/**
 * The tool names a mode is offered: its groups' tools (by
 * ToolDefinition.group, in registration order), its extra `tools`, then
 * the always-on tools. A mode of the older format gets exactly its list.
 */
export function modeToolNames(mode: Mode, tools: ToolRegistry): string[] {
  if (mode.legacyTools) return mode.legacyTools.filter((name) => tools.has(name));
  const groups = new Set(mode.groups.map(groupName));
  const names = tools.list().flatMap((t) => (t.group && groups.has(t.group) ? [t.name] : []));
  for (const name of [...(mode.tools ?? []), ...ALWAYS_ON_TOOLS]) {
    if (tools.has(name) && !names.includes(name)) names.push(name);
  }
  return names;
}
