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

function policyMap(mode: unknown): Record<string, unknown> | undefined {
  if (!mode || typeof mode !== 'object') return undefined;
  const approval = (mode as { approval?: unknown }).approval;
  return approval && typeof approval === 'object' && !Array.isArray(approval) ? (approval as Record<string, unknown>) : undefined;
}

const isPolicy = (v: unknown): v is ApprovalPolicy => v === 'ask' || v === 'auto';

/** True when a call of `tool` in `mode` must wait for the user's approval (its group comes from its definition). */
export function needsApproval(mode: unknown, tool: { name: string; group?: string }): boolean {
  const map = policyMap(mode);
  const { name: toolName, group } = tool;
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
