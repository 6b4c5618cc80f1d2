import type { Logger } from 'pino';
import type { Task, TaskContext, Workspace } from '@baton/core';
import { z } from 'zod';
import { WORKSPACE_TOOLS, workspaceTools, type ExecuteCommandOptions } from './builtin';

/**
 * Tools the model may call. Two are built in and run by the agent loop
 * itself (`new_task`, `attempt_completion`), six work in the session's
 * workspace (`WORKSPACE_TOOLS`, builtin/: read_file, write_to_file,
 * apply_diff, list_files, search_files, execute_command); users register
 * their own:
 *
 * ```ts
 * const registry = new ToolRegistry();
 * registry.register(defineTool({
 *   name: 'word_count',
 *   description: 'Counts the words of a workspace file',
 *   group: 'read',
 *   schema: z.object({ path: z.string() }),
 *   async handler({ path }, { signal, workspace }) {
 *     return (await readFile(await workspace.resolve(path), { encoding: 'utf8', signal })).split(/\s+/).length;
 *   },
 * }));
 * ```
 * The schema becomes the OpenAI function's JSON-schema `parameters`; the
 * arguments are validated with it before the handler runs (an invalid call
 * goes back to the model as an error tool message). The handler's return
 * value (a string, or anything JSON-encodable) is the tool message; a throw
 * is reported to the model as `error: ...`. Add the tool's name to a mode's
 * `tools` to offer it. A user tool without a group, or in group `read`, runs
 * at least once per call: a worker that crashes after running it and before
 * recording its result runs it again. A tool in group `edit`, `command` or
 * `mcp` runs at most once: a call cut off by a crash is answered as
 * interrupted instead (agent/tool-journal.ts).
 */

export interface ToolContext {
  /** Aborts when the task is cancelled or its runner is fenced out. */
  signal: AbortSignal;
  task: Task;
  turn: number;
  toolCallId: string;
  logger: Logger;
  /** The engine's task context (conversation, subtasks) for advanced tools. */
  context: TaskContext;
  /** The session's workspace folder; resolve every path through it (`workspace.resolve`). */
  workspace: Workspace;
}

/**
 * KiloCode's tool groups: a mode offers a group or not. `edit`, `command` and
 * `mcp` tools have side effects and are journaled before they run (see
 * agent/tool-journal.ts): a call interrupted by a crash is not run again.
 */
export type { ToolGroup } from '../modes/mode-schema';
import type { ToolGroup } from '../modes/mode-schema';

export interface ToolDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: S;
  /** KiloCode tool group: modes offer a tool when they have its group. Absent: an always-on tool (new_task, attempt_completion, ...) or one a legacy mode lists by name. */
  group?: ToolGroup;
  /**
   * JSON schema sent as the function's `parameters` instead of the one
   * derived from `schema` (MCP tools pass their server's schema through).
   */
  parameters?: Record<string, unknown>;
  /** Absent for the built-ins, which the agent loop runs itself. */
  handler?: (args: z.output<S>, ctx: ToolContext) => Promise<unknown>;
}

/** Typed helper: infers the handler's argument type from the schema. */
export function defineTool<S extends z.ZodType>(definition: ToolDefinition<S> & { handler: NonNullable<ToolDefinition<S>['handler']> }): ToolDefinition<S> {
  return definition;
}

export const TodoSchema = z.strictObject({
  text: z.string().min(1).max(2000),
  status: z.enum(['pending', 'in_progress', 'completed']),
});
export type Todo = z.output<typeof TodoSchema>;
export const TodosSchema = z.array(TodoSchema).max(100);

export const NewTaskArgsSchema = z.strictObject({
  mode: z.string().min(1).describe('Mode of the subtask, e.g. code, ask, architect, debug'),
  message: z.string().min(1).describe('Self-contained instruction for the subtask'),
  todos: TodosSchema.optional().describe('Initial todo list of the subtask'),
});
export const SwitchModeArgsSchema = z.strictObject({
  mode_slug: z.string().min(1).describe('The mode to switch to'),
  reason: z.string().describe('Why the switch is needed'),
});
export const UpdateTodoListArgsSchema = z.strictObject({
  todos: TodosSchema.describe('The whole todo list, replacing the previous one'),
});
export const AttemptCompletionArgsSchema = z.strictObject({
  result: z.string().describe('The final result of this task'),
});

export const AskFollowupQuestionArgsSchema = z.strictObject({
  question: z.string().min(1).describe('A clear, specific question for the user'),
  follow_up: z.array(z.string().min(1)).max(10).optional().describe('Suggested answers the user may pick from (2 to 4 are best)'),
});

export const BUILT_IN_TOOLS: readonly ToolDefinition[] = [
  { name: 'new_task', description: 'Delegate one step to a subtask in another mode; its result comes back as the tool result.', schema: NewTaskArgsSchema },
  {
    name: 'ask_followup_question',
    description:
      'Ask the user a question when you need information to go on that you cannot find yourself. The task waits for the answer, ' +
      'which comes back as the tool result. Use sparingly.',
    schema: AskFollowupQuestionArgsSchema,
  },
  { name: 'attempt_completion', description: 'Finish this task with its result.', schema: AttemptCompletionArgsSchema },
  {
    name: 'switch_mode',
    description: 'Switch this task to another mode (its tools and instructions apply from the next turn), e.g. from architect to code once the plan is written.',
    schema: SwitchModeArgsSchema,
  },
  {
    name: 'update_todo_list',
    description: 'Replace the todo list of this task (each item: text and status pending, in_progress or completed). Keep it current on multi-step work.',
    schema: UpdateTodoListArgsSchema,
  },
];

/** OpenAI function tool, as sent in the request's `tools`. */
export interface OpenAiTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** Tools with no handler (run by the loop) and the workspace tools: user tools cannot replace them. */
const RESERVED = new Set([...BUILT_IN_TOOLS, ...WORKSPACE_TOOLS].map((t) => t.name));

export interface ToolRegistryOptions {
  /** Limits of execute_command (EXECUTE_COMMAND_MAX_TIMEOUT_MS, EXECUTE_COMMAND_PATH). */
  command?: ExecuteCommandOptions;
}

export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly jsonSchemas = new Map<string, Record<string, unknown>>();

  constructor(tools: readonly ToolDefinition[] = [], options: ToolRegistryOptions = {}) {
    for (const t of [...BUILT_IN_TOOLS, ...workspaceTools(options)]) this.add(t);
    for (const t of tools) this.register(t);
  }

  /** Registers a user tool; built-in names cannot be replaced. */
  register(tool: ToolDefinition): this {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tool.name)) throw new Error(`invalid tool name "${tool.name}" (1 to 64 of A-Z a-z 0-9 _ -)`);
    if (RESERVED.has(tool.name)) throw new Error(`tool ${tool.name} is built in`);
    if (!tool.handler) throw new Error(`tool ${tool.name} has no handler`);
    this.add(tool);
    return this;
  }

  private add(tool: ToolDefinition): void {
    const schema = tool.parameters ? { ...tool.parameters } : (z.toJSONSchema(tool.schema, { io: 'input' }) as Record<string, unknown>);
    delete schema.$schema;
    this.tools.set(tool.name, tool);
    this.jsonSchemas.set(tool.name, schema);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  /** Every tool, built-ins first, in registration order. */
  list(): ToolDefinition[] {
    return [...this.tools.values()];
  }

  /** The OpenAI `tools` for a mode's tool names (unknown names are skipped). */
  openAiTools(names: readonly string[]): OpenAiTool[] {
    return names.flatMap((name) => {
      const tool = this.tools.get(name);
      return tool ? [{ type: 'function' as const, function: { name, description: tool.description, parameters: this.jsonSchemas.get(name)! } }] : [];
    });
  }
}
