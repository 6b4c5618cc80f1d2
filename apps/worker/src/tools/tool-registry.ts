import { z } from 'zod';
import { WORKSPACE_TOOLS, workspaceTools, type ExecuteCommandOptions } from './builtin';

export type { ToolContext, ToolDefinition, ToolGroup } from './tool-types';
import type { ToolDefinition } from './tool-types';

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
    description:
      'Switch this task to another mode (its tools and instructions apply from the next turn), e.g. from architect to code once the plan is written.',
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
  private changes = 0;

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
    this.changes++;
  }

  /** Grows with every registration: what was derived from the tools (a mode's request tools) is stale when it moved. */
  get revision(): number {
    return this.changes;
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
