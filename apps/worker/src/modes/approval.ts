/**
 * Which tool calls wait for a user's approval before they run.
 *
 * Default policy: `execute_command` asks (a command can do anything on the
 * worker's host), everything else runs at once. A mode may carry an
 * `approval` map, `{ <tool or group>: 'ask' | 'auto' }` (KiloCode groups:
 * read, edit, command, mcp): a tool's own entry wins over its group's, which
 * wins over the default.
 */
export type ApprovalPolicy = 'ask' | 'auto';

/** The default: only commands ask. */
export const DEFAULT_APPROVAL: Readonly<Record<string, ApprovalPolicy>> = { execute_command: 'ask' };

/** The KiloCode group a built-in tool belongs to (tools of no group are looked up by name only). */
export const TOOL_GROUPS: Readonly<Record<string, string>> = {
  read_file: 'read',
  list_files: 'read',
  search_files: 'read',
  write_to_file: 'edit',
  apply_diff: 'edit',
  execute_command: 'command',
};

function groupOf(toolName: string): string | undefined {
  if (toolName.startsWith('mcp__')) return 'mcp';
  return TOOL_GROUPS[toolName];
}

function policyMap(mode: unknown): Record<string, unknown> | undefined {
  if (!mode || typeof mode !== 'object') return undefined;
  const approval = (mode as { approval?: unknown }).approval;
  return approval && typeof approval === 'object' && !Array.isArray(approval) ? (approval as Record<string, unknown>) : undefined;
}

const isPolicy = (v: unknown): v is ApprovalPolicy => v === 'ask' || v === 'auto';

/** True when a call of `toolName` in `mode` must wait for the user's approval. */
export function needsApproval(mode: unknown, toolName: string): boolean {
  const map = policyMap(mode);
  const group = groupOf(toolName);
  for (const key of [toolName, group]) {
    if (key === undefined) continue;
    const own = map?.[key];
    if (isPolicy(own)) return own === 'ask';
  }
  for (const key of [toolName, group]) {
    if (key === undefined) continue;
    const fallback = DEFAULT_APPROVAL[key];
    if (fallback) return fallback === 'ask';
  }
  return false;
}
