import { EventType, type TaskContext, type ToolCall } from '@baton/core';
import type { ToolDefinition, ToolGroup } from '../tools/tool-registry';

/**
 * Tool calls and crashes. The conversation is the journal of what happened:
 * a call whose tool message is stored has run and its result is final (the
 * loop appends it, fenced, before the next model request). What is left is a
 * call that a worker began and died in (SIGKILL, OOM, lost its lock): its
 * tool message was never stored, so the replay meets it unanswered.
 *
 * - Tools of group `read` (and user tools without a group) are simply run
 *   again: reading twice is harmless.
 * - Tools of group `edit`, `command` and `mcp` have side effects. Before one
 *   runs, its call is marked started on the task (field `toolCall` =
 *   `<turn>:<callId>`, event `tool.started`), through the fenced transition, so a
 *   runner that lost the task cannot mark anything. A replay that finds the
 *   marker on an unanswered call does not run it again: the call is answered
 *   with `interruptedMessage`, telling the model it may have partly run and to
 *   look at the state before trying again. A call that was not marked never
 *   started and is run normally.
 *
 * A command that was running when its worker was SIGKILLed is killed by
 * nobody: its process group outlives the worker and ends by itself (nothing
 * enforces its timeout any more); it is not started again. A worker closing on
 * SIGTERM waits for running jobs, commands included, up to SHUTDOWN_TIMEOUT_MS.
 */

const SIDE_EFFECTS: ReadonlySet<ToolGroup> = new Set(['edit', 'command', 'mcp']);

/** Does a call of this tool need the started-marker (it may have side effects)? */
export function isJournaled(tool: Pick<ToolDefinition, 'group'>): boolean {
  return tool.group !== undefined && SIDE_EFFECTS.has(tool.group);
}

export function interruptedMessage(tool: string): string {
  return (
    `interrupted: ${tool} was running when its worker stopped; it may have partly run. ` +
    'Check the state (e.g. read the file / list the folder) before running it again.'
  );
}

const markerOf = (turn: number, call: ToolCall) => `${turn}:${call.id}`;

export class ToolJournal {
  constructor(private readonly ctx: TaskContext) {}

  /** Was this call marked started by an earlier run of the task (which then never answered it)? */
  async wasStarted(turn: number, call: ToolCall): Promise<boolean> {
    const hash = await this.ctx.engine.tasks.raw(this.ctx.sessionId, this.ctx.taskId);
    return hash.toolCall === markerOf(turn, call);
  }

  /** Marks the call started (fenced: a stale runner's mark is refused with STALE_RUNNER). */
  async markStarted(turn: number, call: ToolCall): Promise<void> {
    await this.ctx.engine.tasks.transition({
      sessionId: this.ctx.sessionId,
      taskId: this.ctx.taskId,
      token: this.ctx.token,
      to: 'running',
      fields: { toolCall: markerOf(turn, call) },
      event: { type: EventType.toolStarted, data: { turn, callId: call.id, tool: call.function.name } },
    });
  }
}
