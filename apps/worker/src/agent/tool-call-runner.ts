import { isBatonError, Workspace, type BatonError, type TaskContext, type ToolCall } from '@baton/core';
import type { Logger } from 'pino';
import { z } from 'zod';
import { needsApproval } from '../modes/approval';
import { fileRestrictionError } from '../modes/file-restriction';
import type { Mode } from '../modes/modes';
import { updateTodoList } from '../modes/task-state';
import { offeredTools } from '../prompt/offered-tools';
import { AskFollowupQuestionArgsSchema, NewTaskArgsSchema, UpdateTodoListArgsSchema } from '../tools/tool-registry';
import { answerResult, approvalContext, denialResult } from './input-results';
import type { AgentOptions } from './agent-options';
import { interruptedMessage, isJournaled, ToolJournal } from './tool-journal';

/**
 * Runs one tool call and returns the content of its tool message. Errors
 * the model can fix (unknown tool, bad JSON, arguments failing the schema,
 * unknown mode, a user tool that throws) become `error: ...` answers, so the
 * model sees them and the task goes on. Control signals (park for a
 * subtask, cancellation) propagate.
 */
export class ToolCallRunner {
  private readonly journal: ToolJournal;
  private workspaceOfSession: Workspace | undefined;

  constructor(
    private readonly ctx: TaskContext,
    private readonly options: Pick<AgentOptions, 'modes' | 'tools' | 'workspaceRoot'>,
    private readonly mode: Mode,
  ) {
    this.journal = new ToolJournal(ctx);
  }

  /** The session's folder, shared by its tasks (built on first use: a tool error, not a task crash, if it cannot be). */
  private get workspace(): Workspace {
    this.workspaceOfSession ??= Workspace.of(this.options.workspaceRoot, this.ctx.task.tenant, this.ctx.task.sessionId);
    return this.workspaceOfSession;
  }

  /** The tools offered to this mode (its groups', its own, the always-on ones). */
  toolNames(): readonly string[] {
    return offeredTools(this.mode, this.options.modes, this.options.tools).names;
  }

  /** Is the tool offered to this mode (and known)? */
  offers(name: string): boolean {
    return offeredTools(this.mode, this.options.modes, this.options.tools).nameSet.has(name);
  }

  async run(turn: number, index: number, call: ToolCall, log: Logger): Promise<string> {
    const name = call.function.name;
    const tool = this.offers(name) ? this.options.tools.get(name) : undefined;
    if (!tool) {
      log.warn({ tool: name }, 'model called an unknown tool');
      return `error: unknown tool "${name}". Available tools: ${this.toolNames().join(', ')}.`;
    }
    let args: unknown;
    try {
      args = JSON.parse(call.function.arguments || '{}');
    } catch (err) {
      log.warn({ tool: name }, 'tool arguments are not JSON');
      // Also what a call cut off by the output token limit (finish_reason: length) looks like.
      return (
        `error: the arguments of ${name} are not valid JSON (${(err as Error).message}). Call ${name} again with a JSON object. ` +
        'If your reply was cut off at the output token limit, send less in one call (e.g. write a long file in parts).'
      );
    }
    const parsed = tool.schema.safeParse(args);
    if (!parsed.success) {
      log.warn({ tool: name }, 'tool arguments fail their schema');
      return `error: invalid arguments for ${name}:\n${z.prettifyError(parsed.error)}\nCall ${name} again with valid arguments.`;
    }

    const refused = fileRestrictionError(this.mode, tool, parsed.data);
    if (refused) {
      log.warn({ tool: name }, "tool call refused by the mode's fileRegex");
      return refused;
    }
    if (name === 'update_todo_list') return updateTodoList(this.ctx, UpdateTodoListArgsSchema.parse(parsed.data));

    if (name === 'ask_followup_question') {
      // Parks the task (awaiting_input) until the answer is delivered; a replay after it returns the stored answer.
      const { question, follow_up } = AskFollowupQuestionArgsSchema.parse(parsed.data);
      const response = await this.ctx.awaitInput(call.id, { kind: 'question', question, followUp: follow_up ?? [] });
      log.info({ tool: name }, 'question answered');
      return response.kind === 'answer' ? answerResult(response.answer) : `error: expected an answer, got ${response.kind}`;
    }

    // Approval (mode policy; default: execute_command asks) before anything runs. Outside the
    // tool's try below: the park signal must reach the worker, not become a tool error.
    let approvedWith: string | undefined;
    if (needsApproval(this.mode, tool)) {
      const response = await this.ctx.awaitInput(call.id, { kind: 'approval', tool: name, arguments: parsed.data });
      if (response.kind !== 'approval') return `error: expected an approval, got ${response.kind}`;
      log.info({ tool: name, approved: response.approved }, 'tool call approval received');
      if (!response.approved) return denialResult(response.feedback);
      approvedWith = response.feedback;
    }
    const result = await this.runApproved(turn, index, call, name, tool, parsed.data, log);
    return approvedWith ? `${result}${approvalContext(approvedWith)}` : result;
  }

  private async runApproved(
    turn: number,
    index: number,
    call: ToolCall,
    name: string,
    tool: NonNullable<ReturnType<AgentOptions['tools']['get']>>,
    args: unknown,
    log: Logger,
  ): Promise<string> {
    if (name === 'new_task') {
      const { mode, message, todos } = NewTaskArgsSchema.parse(args);
      if (!this.options.modes.get(mode)) return `error: unknown mode "${mode}". Available modes: ${this.options.modes.names().join(', ')}.`;
      const key = `${turn}.${index}`;
      let outcome;
      try {
        // The child stores its initial todos when it starts (see agent-loop).
        outcome = await this.ctx.subtask({ key, mode, prompt: message, ...(todos ? { metadata: { todos } } : {}) });
      } catch (err) {
        const refusal = limitRefusal(err);
        if (!refusal) throw err;
        log.warn({ tool: name, code: (err as BatonError).code }, 'new_task refused by a limit');
        return refusal;
      }
      log.info({ childId: outcome.taskId, child: outcome.status }, 'subtask ended');
      switch (outcome.status) {
        case 'completed':
          return outcome.result;
        case 'failed':
          return `subtask failed: ${outcome.error.message || outcome.error.code}`;
        case 'cancelled':
          return 'subtask cancelled';
      }
    }
    if (!tool.handler) {
      // attempt_completion with arguments its schema accepted is handled by the loop.
      return `error: ${name} cannot be used here.`;
    }
    // A side effect runs at most once: see tool-journal.ts.
    if (isJournaled(tool)) {
      if (await this.journal.wasStarted(turn, call)) {
        log.warn({ tool: name, callId: call.id }, 'tool call was interrupted by a crash; not running it again');
        return interruptedMessage(name);
      }
      await this.journal.markStarted(turn, call);
    }
    try {
      const result = await tool.handler(args, {
        signal: this.ctx.signal,
        task: this.ctx.task,
        turn,
        toolCallId: call.id,
        logger: log,
        context: this.ctx,
        workspace: this.workspace,
      });
      return typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
    } catch (err) {
      if (this.ctx.signal.aborted) throw err;
      log.warn({ tool: name, err: (err as Error).message }, 'tool failed');
      return `error: tool ${name} failed: ${(err as Error).message}`;
    }
  }
}

/**
 * The tool result for a `new_task` the engine refused (MAX_DEPTH, MAX_CHILDREN_PER_TASK):
 * it says which limit and what the model can do instead, and the task goes on.
 * The engine checks the limits in the spawn script, where a replayed spawn of an
 * existing child always passes, so the worker need not count anything itself.
 */
export function limitRefusal(err: unknown): string | undefined {
  if (isBatonError(err, 'MAX_DEPTH_EXCEEDED')) {
    const limit = String(err.details.limit);
    return (
      `error: new_task refused: subtasks nest at most ${limit} levels deep (MAX_DEPTH=${limit}) and this task is at the deepest level. ` +
      'Do this step yourself in this task, or finish with attempt_completion and describe the work that is left.'
    );
  }
  if (isBatonError(err, 'MAX_CHILDREN_EXCEEDED')) {
    const limit = String(err.details.limit);
    return (
      `error: new_task refused: this task has already spawned ${limit} subtasks, the most one task may (MAX_CHILDREN_PER_TASK=${limit}). ` +
      'Do the remaining steps yourself, or finish with attempt_completion and describe the work that is left.'
    );
  }
  return undefined;
}
