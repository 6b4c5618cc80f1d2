import {
  AwaitInputSignal,
  isBatonError,
  ParkForChildSignal,
  PauseSignal,
  TaskFailure,
  type ConversationVersion,
  type Message,
  type TaskContext,
  type TaskHandler,
  type TaskOutcome,
  type ToolCall,
} from '@baton/core';
import type { Logger } from 'pino';
import type { Mode } from '../modes/modes';
import { storeTodos, switchMode } from '../modes/task-state';
import { consecutiveNudges, noToolsUsedNudge, truncatedNudge } from '../prompt/nudges';
import { offeredTools } from '../prompt/offered-tools';
import { buildSystemPrompt } from '../prompt/system-prompt';
import { systemReference } from '../prompt/system-reference';
import { isBuiltResponse, ModelResponseSchema, ProviderError, type ModelProvider, type ModelResponse } from '../providers/model-provider';
import { AttemptCompletionArgsSchema, SwitchModeArgsSchema, TodosSchema } from '../tools/tool-registry';
import { answeredCalls, assistantCount, lastAssistant, withSystemPrompt, withUniqueCallIds } from './conversation';
import { ToolCallRunner } from './tool-call-runner';
import { Condenser } from './condense/condense';
import { DeltaPublisher } from './delta-publisher';
import { isContextTooLong } from './condense/condense-plan';
import type { AgentOptions } from './agent-options';
import { meteringFor } from './usage-metering';

export type { AgentOptions } from './agent-options';

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
  /** The turn `log` is bound to: a child logger is made only when the turn moves (one per turn, not per step). */
  private logTurn = 0;
  /** The task's current mode (switch_mode changes it, and the task's `mode` field with it). */
  private mode!: Mode;
  /** The live conversation's version; its turn offset numbers the turns (see turnOf). */
  private version: ConversationVersion = { version: 0, turnOffset: 0 };

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

    this.mode = mode;

    this.messages = await ctx.messages();
    if (options.condense) this.version = await ctx.conversationVersion();
    if (this.messages.length === 0) {
      // A subtask spawned with new_task's todos starts with them (idempotent if replayed).
      const todos = TodosSchema.safeParse((ctx.task.metadata as { todos?: unknown } | null)?.todos);
      if (ctx.task.parentId && todos.success && !ctx.task.todos) await storeTodos(ctx, todos.data);
      this.append([systemReference(mode.slug, this.systemPrompt()), { role: 'user', content: ctx.task.prompt }]);
      this.log.info({ mode: mode.slug }, 'task started');
    }

    for (;;) {
      const last = lastAssistant(this.messages);
      if (last) {
        const turn = this.turnOf();
        this.logFor(turn);
        const calls = last.message.tool_calls ?? [];
        if (calls.length === 0) {
          // A mode without attempt_completion (older modes format) ends with its text.
          if (!this.runner().offers('attempt_completion')) {
            this.log.info('completed with a text answer');
            return { status: 'completed', result: last.message.content ?? '' };
          }
          // A text reply is stored with its nudge in one append; alone, it was the last one allowed.
          if (last.index === this.messages.length - 1) throw this.noToolUse();
        } else {
          const done = await this.answerCalls(turn, calls, answeredCalls(this.messages, last.index));
          if (done) return done;
        }
      }

      const turn = this.turnOf() + 1;
      this.logFor(turn);
      if (turn > options.maxTurns) {
        throw new TaskFailure('MAX_TURNS', `task reached MAX_TURNS (${options.maxTurns}) without attempt_completion`);
      }
      await ctx.checkpoint(turn);
      const response = await this.requestTurn(turn);
      const message = withUniqueCallIds(response.message, this.messages, turn);
      if (!message.tool_calls?.length && this.runner().offers('attempt_completion')) {
        await this.storeTextReply(message, response.finishReason);
        continue;
      }
      this.append([message]);
      this.log.debug({ toolCalls: message.tool_calls?.map((c) => c.function.name) ?? [], finishReason: response.finishReason }, 'assistant message stored');
    }
  }

  private logFor(turn: number): void {
    if (turn === this.logTurn) return;
    this.log = this.ctx.logger.child({ turn });
    this.logTurn = turn;
  }

  /**
   * Turns so far: the live conversation's assistant messages plus the turns
   * condensed away before it (its turn offset), so a condense never shifts
   * the number, and gate key, of a later turn.
   */
  private turnOf(): number {
    return this.version.turnOffset + assistantCount(this.messages);
  }

  /**
   * The turn's model request, condensing first when the conversation is past
   * its model's threshold; a provider's "context too long" refusal gets one
   * condense and one retry of the turn before the task fails.
   */
  private async requestTurn(turn: number): Promise<ModelResponse> {
    if (!this.options.condense) return this.callModel(turn);
    const condenser = new Condenser(this.ctx, this.provider(), this.options.condense, this.options.metrics, this.options.usage);
    const model = this.mode.model ?? this.options.defaultModel;
    if (condenser.due(model, withSystemPrompt(this.messages, this.systemPrompt()))) await this.condense(condenser, model);
    try {
      return await this.callModel(turn, true);
    } catch (err) {
      if (!isContextTooLong(err)) throw err;
      this.log.warn({ err: err.message }, 'provider refused the conversation as too long: condensing and retrying the turn');
      if (!(await this.condense(condenser, model))) throw new TaskFailure('MODEL_ERROR', `${err.message} (and nothing is left to condense)`);
      return this.callModel(turn);
    }
  }

  private async condense(condenser: Condenser, model: string): Promise<boolean> {
    const done = await condenser.condense({ messages: this.messages, version: this.version }, model, this.requestTools(), this.log);
    if (!done) return false;
    this.messages = done.messages;
    this.version = done.version;
    return true;
  }

  /** The current mode's provider: a switch_mode to a mode on another provider moves the next request there. */
  private provider(): ModelProvider {
    return this.options.providerFor?.(this.mode) ?? this.options.provider;
  }

  private runner(): ToolCallRunner {
    return new ToolCallRunner(this.ctx, this.options, this.mode);
  }

  private systemPrompt(): string {
    return buildSystemPrompt({ mode: this.mode, modes: this.options.modes.list(), tools: this.requestTools() });
  }

  private requestTools() {
    return offeredTools(this.mode, this.options.modes, this.options.tools).tools;
  }

  /**
   * A reply without a tool call, as KiloCode answers it: a user message
   * asking for a tool (or, after finish_reason `length`, to continue in
   * smaller pieces), stored with the reply in one append so that a replay
   * finds both. Past MAX_NO_TOOL_NUDGES in a row, the reply is stored alone
   * and the task fails with NO_TOOL_USE.
   */
  private async storeTextReply(message: Message, finishReason: string | null | undefined): Promise<void> {
    const max = this.options.maxNoToolNudges ?? 3;
    if (consecutiveNudges(this.messages) >= max) {
      this.append([message]);
      throw this.noToolUse();
    }
    const content = finishReason === 'length' ? truncatedNudge() : noToolsUsedNudge();
    this.log.warn({ finishReason: finishReason ?? null }, 'reply without a tool call: nudging the model to use a tool');
    this.append([message, { role: 'user', content }]);
  }

  private noToolUse(): TaskFailure {
    const max = this.options.maxNoToolNudges ?? 3;
    return new TaskFailure('NO_TOOL_USE', `the model answered without calling a tool ${max + 1} times in a row (MAX_NO_TOOL_NUDGES=${max})`);
  }

  /**
   * Acts on the calls of turn `turn`'s assistant message, in order, skipping
   * those already answered. Returns the task's outcome when a valid
   * attempt_completion ends it (remaining calls are answered as not run, so
   * the conversation stays well formed).
   */
  private async answerCalls(turn: number, calls: ToolCall[], answered: Set<string>): Promise<TaskOutcome | undefined> {
    let tools = this.runner();
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
          if (rest.length) this.append(rest);
          this.log.info('completed with attempt_completion');
          return { status: 'completed', result: parsed.data.result };
        }
      }
      if (answered.has(call.id)) continue;
      // Before a tool acts, what the task said so far is durable and visible (its answer, the turn's end).
      await this.ctx.flush();
      if (call.function.name === 'switch_mode' && tools.offers('switch_mode')) {
        const parsed = SwitchModeArgsSchema.safeParse(safeJson(call.function.arguments));
        if (parsed.success) {
          const switched = await switchMode(this.ctx, this.options.modes, this.mode, parsed.data);
          if (switched.mode && switched.mode !== this.mode) {
            this.log.info({ from: this.mode.slug, to: switched.mode.slug }, 'mode switched');
            this.mode = switched.mode;
            tools = this.runner();
          }
          this.append([{ role: 'tool', tool_call_id: call.id, content: switched.content }]);
          continue;
        }
      }
      const content = await tools.run(turn, index, call, this.log);
      this.append([{ role: 'tool', tool_call_id: call.id, content }]);
    }
    return undefined;
  }

  /** `contextTooLong`: a provider's context-too-long refusal is thrown as it is (requestTurn condenses and retries). */
  private async callModel(turn: number, contextTooLong = false): Promise<ModelResponse> {
    const { ctx, options, mode } = this;
    const tools = this.requestTools();
    // The stored system message is a reference (prompt/system-reference); each request tells the current mode's prompt.
    const system = buildSystemPrompt({ mode, modes: options.modes.list(), tools });
    const messages = withSystemPrompt(this.messages, system);
    const request = { model: mode.model ?? options.defaultModel, messages, tools };
    const provider = this.provider();
    const started = process.hrtime.bigint();
    const deltas = options.deltas && new DeltaPublisher(ctx.engine, { sessionId: ctx.sessionId, taskId: ctx.taskId, turn }, options.deltas, this.log);
    try {
      const metering = options.usage && meteringFor(options.usage, request);
      const { response, outcome, grants } = await ctx.gate(
        turn,
        (signal, idempotencyKey) => {
          const call = async () => {
            const context = { signal, idempotencyKey, sessionId: ctx.sessionId, logger: this.log };
            if (!deltas) return provider.complete(request, context);
            const answer = await provider.complete(request, { ...context, onDelta: (d) => deltas.push(d) });
            // The last deltas go out before the gate commits: readers see them, then turn.completed.
            await deltas.finish();
            return answer;
          };
          return options.metrics ? options.metrics.track(ctx.sessionId, call) : call();
        },
        deltas ? { onGranted: (grant) => deltas.granted(grant) } : {},
        metering,
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      options.metrics?.gate(outcome, seconds, grants);
      if (grants !== undefined && grants > 1)
        this.log.warn({ grants }, 'turn re-requested after an earlier holder lost its lease (at-least-once at a crash boundary)');
      this.log.info({ outcome, ms: Math.round(seconds * 1000) }, 'model turn');
      if (isBuiltResponse(response)) return response;
      const parsed = ModelResponseSchema.safeParse(response);
      if (!parsed.success) throw new TaskFailure('MODEL_ERROR', `stored model response of turn ${turn} is malformed: ${parsed.error.message}`);
      return parsed.data;
    } catch (err) {
      if (contextTooLong && isContextTooLong(err)) throw err;
      if (err instanceof ProviderError) {
        this.log.warn({ status: err.status, attempts: err.attempts, err: err.message }, 'model request failed');
        throw new TaskFailure('MODEL_ERROR', err.message);
      }
      if (isBatonError(err, 'STALE_RUNNER')) options.metrics?.gate('refused_stale');
      throw err;
    } finally {
      await deltas?.close();
    }
  }

  /**
   * CAS append at the exact current length (fenced by the runner token),
   * carried by the runner's next script: the turn boundary, the terminal
   * transition, or the flush before a tool runs (TaskContext.appendLater).
   */
  private append(messages: Message[]): void {
    this.ctx.appendLater(this.messages.length, messages);
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
