import type { Mode } from '../modes/mode-schema';
import { groupName, groupOptions } from '../modes/mode-schema';
import type { OpenAiTool } from '../tools/tool-registry';

/**
 * The system prompt of a request, built from the task's current mode, in
 * KiloCode's section order: role, tool use, the tools, the workspace rules,
 * the modes, the mode's own instructions.
 *
 * A mode switch: each request builds the prompt of the task's current mode,
 * so the turns after switch_mode see the new role, tools and instructions.
 * The stored conversation holds only a reference to the prompt the task
 * started with (prompt/system-reference), which every request replaces.
 * The switch itself stays visible in the conversation as switch_mode's
 * tool result.
 *
 * The line `Current mode: <slug>` is a contract with the demo model, which
 * reads it to decide whether to delegate.
 */
export interface SystemPromptInput {
  mode: Mode;
  /** Every mode, for delegation and switching. */
  modes: readonly Mode[];
  /** The tools of this request (already filtered for the mode). */
  tools: readonly OpenAiTool[];
}

const SECTION = '\n\n====\n\n';

/**
 * Prompts built for a frozen tool list (offeredTools: one per mode and
 * registry state), so a task's requests reuse the text instead of building
 * it per turn. Only a frozen list is a key: its names and descriptions, all
 * the prompt reads of it, cannot change; the mode and modes must be the same
 * objects too.
 */
const built = new WeakMap<readonly OpenAiTool[], { mode: Mode; modes: readonly Mode[]; prompt: string }>();

export function buildSystemPrompt(input: SystemPromptInput): string {
  const { mode, modes, tools } = input;
  const keyed = Object.isFrozen(tools);
  const hit = keyed ? built.get(tools) : undefined;
  if (hit && hit.mode === mode && hit.modes.length === modes.length && hit.modes.every((m, i) => m === modes[i])) return hit.prompt;
  const prompt = composeSystemPrompt(input);
  if (keyed) built.set(tools, { mode, modes: [...modes], prompt });
  return prompt;
}

function composeSystemPrompt({ mode, modes, tools }: SystemPromptInput): string {
  // A mode of the older format wrote its whole system prompt itself.
  if (mode.legacyTools) return mode.roleDefinition;
  const names = new Set(tools.map((t) => t.function.name));
  const sections = [
    mode.roleDefinition,
    toolUse(names),
    toolList(tools),
    workspaceRules(mode),
    modeList(mode, modes, names),
    `CURRENT MODE\n\nCurrent mode: ${mode.slug} (${mode.name})`,
  ];
  if (mode.customInstructions?.trim()) sections.push(`MODE-SPECIFIC INSTRUCTIONS\n\n${mode.customInstructions.trim()}`);
  return sections.join(SECTION);
}

function toolUse(names: ReadonlySet<string>): string {
  const lines = [
    'TOOL USE',
    '',
    'You act only through the tools below (function calls). Use them step by step: each call is informed by the results of the previous ones. ' +
      'Every reply must call at least one tool; a reply with text only is sent back to you with a reminder.',
  ];
  if (names.has('attempt_completion'))
    lines.push('When the task is done, call attempt_completion with the final result: it ends the task, and the result is what your caller receives.');
  if (names.has('ask_followup_question'))
    lines.push('If you cannot go on without information only the user has, call ask_followup_question (sparingly: prefer finding it with your tools).');
  return lines.join('\n');
}

function toolList(tools: readonly OpenAiTool[]): string {
  return ['TOOLS', '', ...tools.map((t) => `- ${t.function.name}: ${t.function.description}`)].join('\n');
}

function workspaceRules(mode: Mode): string {
  const lines = [
    'RULES',
    '',
    '- You work in the session\'s workspace folder. Every path is relative to it: no absolute paths, no "..", no symlinks leading out; such paths are refused.',
    '- Subtasks of the same session share this workspace: files a subtask writes are there for its parent and the next subtasks.',
    '- Read a file before changing it; prefer apply_diff for small changes to existing files and write_to_file for new files or full rewrites.',
    '- Commands run in the workspace with a timeout and without your credentials; nothing interactive (no prompts, no editors).',
    '- Be direct and technical; do not end a result with a question or an offer of more help.',
  ];
  for (const entry of mode.groups) {
    const options = groupOptions(entry);
    if (options?.fileRegex) {
      lines.push(
        `- In this mode the ${groupName(entry)} tools may only touch paths matching /${options.fileRegex}/${options.description ? ` (${options.description})` : ''}.`,
      );
    }
  }
  return lines.join('\n');
}

function modeList(current: Mode, modes: readonly Mode[], names: ReadonlySet<string>): string {
  const lines = ['MODES', ''];
  for (const m of modes) lines.push(`- ${m.slug} (${m.name})${m.slug === current.slug ? ' [current]' : ''}: ${whenToUse(m)}`);
  if (names.has('new_task')) lines.push('', 'Delegate a self-contained piece of work to a mode with new_task; its result comes back as the tool result.');
  if (names.has('switch_mode')) lines.push('Switch this task to another mode with switch_mode when its tools fit the next step better.');
  return lines.join('\n');
}

/** What the model is told about when to use a mode. */
export function whenToUse(mode: Mode): string {
  return mode.whenToUse ?? mode.roleDefinition.split(/(?<=\.)\s/)[0] ?? mode.name;
}
