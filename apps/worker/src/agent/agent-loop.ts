import {
  AwaitInputSignal,
  isBatonError,
  ParkForChildSignal,
  PauseSignal,
  TaskFailure,
  type Message,
  type TaskContext,
  type TaskHandler,
  type TaskOutcome,
  type ToolCall,
} from '@baton/core';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics';
import type { Mode, ModeRegistry } from '../modes/modes';
import { ModelResponseSchema, ProviderError, type ModelProvider, type ModelResponse } from '../providers/model-provider';
import { AttemptCompletionArgsSchema, withAlwaysOn, type ToolRegistry } from '../tools/tool-registry';
import { answeredCalls, assistantCount, lastAssistant, withUniqueCallIds } from './conversation';
import { ToolCallRunner } from './tool-call-runner';

export interface AgentOptions {
  modes: ModeRegistry;
  tools: ToolRegistry;
  provider: ModelProvider;
  /** Model name when the mode does not set one. */
  defaultModel: string;
  maxTurns: number;
  metrics?: WorkerMetrics;
  /** Absolute WORKSPACE_ROOT: a session's workspace is `<root>/<tenant>/<session>`. */
  workspaceRoot: string;
}

/**
 * The agent loop as an engine task handler. It is re-run from scratch after
 * every park (subtask), pause or crash, so it is a replay of the stored
 * conversation: the next turn is the number of assistant messages + 1, a
 * stored assistant message is never requested again, unanswered tool calls
 * of the last assistant message are answered first (a subtask with the same
 * key now returns its terminal outcome), and every append states the exact
 * length it expects.
 */
export function createAgentHandler(options: AgentOptions): TaskHandler {
  return async (ctx) => {
    try {
      const outcome = await new AgentRun(ctx, options).run();
      options.metrics?.taskEnded(outcome.status);
      return outcome;
    } catch (err) {
      options.metrics?.taskEnded(outcomeOfThrow(err));
      throw err;
    }
  };
}

function outcomeOfThrow(err: unknown): 'failed' | 'parked' | 'paused' | 'stopped' {
  if (err instanceof ParkForChildSignal || err instanceof AwaitInputSignal) return 'parked';
  if (err instanceof PauseSignal) return 'paused';
  if (err instanceof TaskFailure) return 'failed';
  return 'stopped';
}

class AgentRun {
  private messages: Message[] = [];
  private log: Logger;

  constructor(
    private readonly ctx: TaskContext,
    private readonly options: AgentOptions,
  ) {
    this.log = ctx.logger.child({ turn: 0 });
  }

  async run(): Promise<TaskOutcome> {
    const { ctx, options } = this;
    const mode = options.modes.get(ctx.task.mode);
    if (!mode) throw new TaskFailure('UNKNOWN_MODE', `unknown mode "${ctx.task.mode}"; known modes: ${options.modes.names().join(', ')}`);

    this.messages = await ctx.messages();
    if (this.messages.length === 0) {
      await this.append([
        { role: 'system', content: mode.systemPrompt },
        { role: 'user', content: ctx.task.prompt },
      ]);
      this.log.info({ mode: mode.name }, 'task started');
    }
    const tools = new ToolCallRunner(ctx, options, mode);

    for (;;) {
      const last = lastAssistant(this.messages);
      if (last) {
        const turn = assistantCount(this.messages);
        this.log = ctx.logger.child({ turn });
        const calls = last.message.tool_calls ?? [];
        if (calls.length === 0) {
          this.log.info('completed with a text answer');
          return { status: 'completed', result: last.message.content ?? '' };
        }
        const done = await this.answerCalls(tools, turn, calls, answeredCalls(this.messages, last.index));
        if (done) return done;
      }

      const turn = assistantCount(this.messages) + 1;
      this.log = ctx.logger.child({ turn });
      if (turn > options.maxTurns) {
        throw new TaskFailure('MAX_TURNS', `task reached MAX_TURNS (${options.maxTurns}) without attempt_completion`);
      }
      await ctx.checkpoint(turn);
      const response = await this.callModel(turn, mode);
      const message = withUniqueCallIds(response.message, this.messages, turn);
      await this.append([message]);
      this.log.debug({ toolCalls: message.tool_calls?.map((c) => c.function.name) ?? [] }, 'assistant message stored');
    }
  }

  /**
   * Acts on the calls of turn `turn`'s assistant message, in order, skipping
   * those already answered. Returns the task's outcome when a valid
   * attempt_completion ends it (remaining calls are answered as not run, so
   * the conversation stays well formed).
   */
  private async answerCalls(tools: ToolCallRunner, turn: number, calls: ToolCall[], answered: Set<string>): Promise<TaskOutcome | undefined> {
    for (const [index, call] of calls.entries()) {
      if (call.function.name === 'attempt_completion' && tools.offers('attempt_completion')) {
        const args = safeJson(call.function.arguments);
        const parsed = AttemptCompletionArgsSchema.safeParse(args);
        if (parsed.success) {
          const rest = calls
            .slice(index)
            .filter((c) => !answered.has(c.id))
            .map((c): Message => ({
              role: 'tool',
              tool_call_id: c.id,
              content: c === call ? 'completed' : 'not run: the task completed with attempt_completion',
            }));
          if (rest.length) await this.append(rest);
          this.log.info('completed with attempt_completion');
          return { status: 'completed', result: parsed.data.result };
        }
      }
      if (answered.has(call.id)) continue;
      const content = await tools.run(turn, index, call, this.log);
      await this.append([{ role: 'tool', tool_call_id: call.id, content }]);
    }
    return undefined;
  }

  private async callModel(turn: number, mode: Mode): Promise<ModelResponse> {
    const { ctx, options } = this;
    const request = {
      model: mode.model ?? options.defaultModel,
      messages: this.messages,
      tools: options.tools.openAiTools(withAlwaysOn(mode.tools)),
    };
    const started = process.hrtime.bigint();
    try {
      const { response, outcome, grants } = await ctx.gate(turn, (signal, idempotencyKey) => {
        const call = () => options.provider.complete(request, { signal, idempotencyKey, sessionId: ctx.sessionId, logger: this.log });
        return options.metrics ? options.metrics.track(ctx.sessionId, call) : call();
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      options.metrics?.gate(outcome, seconds, grants);
      if (grants !== undefined && grants > 1) this.log.warn({ grants }, 'turn re-requested after an earlier holder lost its lease (at-least-once at a crash boundary)');
      this.log.info({ outcome, ms: Math.round(seconds * 1000) }, 'model turn');
      const parsed = ModelResponseSchema.safeParse(response);
      if (!parsed.success) throw new TaskFailure('MODEL_ERROR', `stored model response of turn ${turn} is malformed: ${parsed.error.message}`);
      return parsed.data;
    } catch (err) {
      if (err instanceof ProviderError) {
        this.log.warn({ status: err.status, attempts: err.attempts, err: err.message }, 'model request failed');
        throw new TaskFailure('MODEL_ERROR', err.message);
      }
      if (isBatonError(err, 'STALE_RUNNER')) options.metrics?.gate('refused_stale');
      throw err;
    }
  }

  /** CAS append at the exact current length (fenced by the runner token). */
  private async append(messages: Message[]): Promise<void> {
    await this.ctx.append(this.messages.length, messages);
    this.messages = [...this.messages, ...messages];
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return undefined;
  }
}
