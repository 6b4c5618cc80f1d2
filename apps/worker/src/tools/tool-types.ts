import type { Logger } from 'pino';
import type { Task, TaskContext, Workspace } from '@baton/core';
import type { z } from 'zod';
import type { ToolGroup } from '../modes/mode-schema';

/**
 * The shape of a tool (built-in, workspace, user or MCP) and what its handler
 * gets. Its own file: the registry imports the built-in tools, and they
 * need only these types.
 */
export type { ToolGroup };

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
