import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { JobData } from '../engine-context';
import type { TaskRuntime } from './task-runtime';
import { BatonError, codeToError, StaleRunnerError } from '../errors';
import type { GateResult, GateRunOptions } from '../gate/request-gate';
import type { Message } from '../model/message';
import { isTerminal, type ChildOutcome, type Task } from '../model/task';
import type { TaskHash } from '../store/task-record';
import { encodeMessages, type ConversationVersion } from '../store/conversation-store';
import type { CarriedWrites } from '../scripts/task-scripts';
import { awaitInput } from '../input/await-input';
import type { InputRequest, InputResponse } from '../model/pending-input';
import { childTaskId } from './child-id';
import { ParkForChildSignal, PauseSignal, YieldSignal } from './signals';
import { recordTurn, releaseTurn, reserveTurn, settleRecorded, turnUsage, type TurnMetering } from '../usage/turn-metering';

export interface SubtaskSpec {
  /**
   * Stable within the parent (e.g. `<turn>.<callIndex>`; dot-separated `A-Z a-z 0-9 _ -`, at most
   * 64 characters): the child id is `<parentId>.<key>`, or a bounded digest form past 128 characters
   * (`childTaskId`).
   */
  key: string;
  mode: string;
  prompt: string;
  metadata?: unknown;
}

/** Reads a terminal child task into the outcome its parent receives. */
export function outcomeOf(taskId: string, hash: TaskHash): ChildOutcome {
  if (hash.status === 'completed') return { status: 'completed', taskId, result: hash.result ?? '' };
  if (hash.status === 'cancelled') return { status: 'cancelled', taskId };
  return { status: 'failed', taskId, error: { code: hash.errorCode || 'FAILED', message: hash.errorMessage ?? '' } };
}

/** A runner's writes since its last script (see TaskContext `pending`). */
interface Pending {
  /** The conversation length the first carried message goes at. */
  expectedLength: number;
  messages: Message[];
  encoded: string[];
  fields: Record<string, string | number>;
  events: NonNullable<CarriedWrites['events']>;
  /** Roll-ups applied to their targets, to forget from the session's pending ones. */
  rollups: string[];
}

const emptyPending = (expectedLength: number): Pending => ({ expectedLength, messages: [], encoded: [], fields: {}, events: [], rollups: [] });

/**
 * What a task handler sees while it runs one job of a task. Every write goes
 * through the runner token, so once this runner is fenced out (job re-taken
 * after a stall, task cancelled) each write is refused with StaleRunnerError.
 */
export class TaskContext {
  constructor(
    readonly engine: TaskRuntime,
    readonly job: Job<JobData>,
    readonly task: Task,
    readonly token: string,
    readonly signal: AbortSignal,
    readonly logger: Logger,
    /** True once the worker is closing: the task yields its job at the next turn boundary. */
    private readonly closing: () => boolean = () => false,
    /** The conversation and its version as read with the claim, if they were. */
    claimed?: { messages: Message[]; version: ConversationVersion; lastChild?: { id: string; hash: TaskHash }; treeBudgeted?: boolean },
    /** AWAITING_INPUT_TIMEOUT_MS: a task waiting for input longer fails (0: no limit). */
    private readonly inputTimeoutMs = 0,
  ) {
    this.conversation = claimed?.messages;
    this.version = claimed?.version;
    this.claimedChild = claimed?.lastChild;
    this.treeBudgeted = claimed?.treeBudgeted;
  }

  /** Whether the task's tree has a budget, as read with the claim (unknown: undefined). */
  readonly treeBudgeted: boolean | undefined;

  /** The newest child as read with the claim: the first `subtask` call for it reads no more. */
  private claimedChild: { id: string; hash: TaskHash } | undefined;

  /** This runner's copy of the conversation (see `messages()`). */
  private conversation: Message[] | undefined;
  /** The live conversation's version, as claimed or as this runner's condense left it. */
  private version: ConversationVersion | undefined;

  /** The turn whose `turn.started` the last checkpoint recorded. */
  private startedTurn: number | undefined;

  /**
   * Writes made since this runner's last script (`appendLater`, a turn's
   * end): carried by the next fenced script it sends anyway (turn boundary,
   * terminal transition, append) instead of costing a round trip each. A
   * crash before that loses nothing: a replay rebuilds them (the first
   * messages from the task, a turn's answer from its committed gate response,
   * a tool's result from the tool journal).
   */
  private pending: Pending | undefined;

  get sessionId(): string {
    return this.task.sessionId;
  }
  get taskId(): string {
    return this.task.id;
  }

  /**
   * The task's conversation. This runner is its only writer (fenced), so it
   * keeps a copy: loaded with the claim, extended by its own appends, dropped
   * on any refusal.
   */
  async messages(): Promise<Message[]> {
    this.conversation ??= await this.engine.conversations.read(this.sessionId, this.taskId);
    return [...this.conversation];
  }

  /** CAS append, fenced, now (with whatever this runner carries). Returns the new length. */
  async append(expectedLength: number, messages: Message[]): Promise<number> {
    this.appendLater(expectedLength, messages);
    return this.send(this.takeCarried()!);
  }

  /**
   * CAS append, fenced, sent with this runner's next script (see `pending`).
   * The messages are validated now and count in `messages()` at once; a
   * refusal (CONVERSATION_CONFLICT, STALE_RUNNER) surfaces from the script
   * that carries them.
   */
  appendLater(expectedLength: number, messages: Message[]): void {
    const pending = (this.pending ??= emptyPending(expectedLength));
    if (pending.messages.length === 0) pending.expectedLength = expectedLength;
    const at = pending.expectedLength + pending.messages.length;
    if (expectedLength !== at) {
      throw codeToError('lengthMismatch', { taskId: this.taskId, what: 'conversation append', detail: `expected length ${expectedLength}, found ${at}` });
    }
    pending.encoded.push(...encodeMessages(messages));
    pending.messages.push(...messages);
    if (this.conversation?.length === expectedLength) this.conversation.push(...messages);
    else this.conversation = undefined;
  }

  /** Task fields and an event, sent with this runner's next script (see `pending`). */
  private recordLater(fields: Record<string, string | number>, event: NonNullable<CarriedWrites['events']>[number]): void {
    const pending = (this.pending ??= emptyPending(0));
    Object.assign(pending.fields, fields);
    pending.events.push(event);
  }

  /** An applied roll-up, deleted from the session's pending ones with this runner's next script (see usage/rollups). */
  forgetRollupLater(id: string): void {
    (this.pending ??= emptyPending(0)).rollups.push(id);
  }

  /**
   * What this runner carries, handed to the script that sends it (and
   * forgotten here: if that script is refused, the runner is done or must
   * re-read). Undefined when nothing is pending.
   */
  takeCarried(): CarriedWrites | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    return {
      ...(p.messages.length ? { append: { expectedLength: p.expectedLength, encoded: p.encoded } } : {}),
      ...(Object.keys(p.fields).length ? { fields: p.fields } : {}),
      ...(p.events.length ? { events: p.events } : {}),
      ...(p.rollups.length ? { forgetRollups: { key: this.engine.ctx.keys.ofSession(this.sessionId, 'rollups'), ids: p.rollups } } : {}),
    };
  }

  /** Sends what this runner carries on its own (one script), before a write that must follow it. */
  async flush(): Promise<void> {
    const carry = this.takeCarried();
    if (carry) await this.send(carry);
  }

  private async send(carry: CarriedWrites): Promise<number> {
    try {
      return await this.engine.conversations.write(this.sessionId, this.taskId, this.token, carry);
    } catch (err) {
      this.conversation = undefined;
      throw err;
    }
  }

  /**
   * A turn boundary: throws if cancelled, parks (PauseSignal) if the session
   * is paused, hands the job back (YieldSignal) if the worker is closing.
   * Call before each model request, with the turn about to start: the same
   * script records `turn.started` (so `gate(turn)` need not).
   */
  async checkpoint(turn?: number): Promise<void> {
    this.signal.throwIfAborted();
    if (this.closing()) {
      await this.flush();
      throw new YieldSignal(this.taskId);
    }
    let parked: boolean;
    try {
      parked = await this.engine.pausing.parkAtTurnBoundary(this.sessionId, this.taskId, this.token, turn, this.takeCarried());
    } catch (err) {
      this.conversation = undefined;
      throw err;
    }
    if (parked) throw new PauseSignal(this.taskId);
    if (turn !== undefined) this.startedTurn = turn;
  }

  /**
   * Asks the user (a question, or an approval of a tool call) for tool call
   * `toolCallId`. Returns the response if one was delivered for that call;
   * otherwise records `pendingInput`, moves the task to `awaiting_input`
   * (fenced), emits `task.input_required`, and parks (AwaitInputSignal: a
   * delayed job, no worker slot held). The handler is run again when the
   * response arrives and, replaying, calls this again with the same id: now
   * it returns. Append the tool result before the next model request, so the
   * response is used exactly once. Past the input timeout: TaskFailure
   * INPUT_TIMEOUT.
   */
  async awaitInput(toolCallId: string, request: InputRequest): Promise<InputResponse> {
    this.signal.throwIfAborted();
    await this.flush();
    return awaitInput(this, toolCallId, request, this.inputTimeoutMs);
  }

  /**
   * One model request through the request gate, key `<taskId>:<turn>`.
   * Records turn.started / turn.completed (with the gate outcome) and the
   * task's turn count, all fenced by the runner token.
   *
   * With `metering`: before the gate the turn is checked and reserved
   * against the budgets (over budget: BUDGET_EXCEEDED, or parked for
   * approval with `onBudget: "ask"`); after it the committed turn's usage
   * and cost are recorded once (see usage/turn-metering).
   */
  async gate<T>(
    turn: number,
    call: (signal: AbortSignal, idempotencyKey: string) => Promise<T>,
    hooks: Pick<GateRunOptions, 'onGranted' | 'onWaiting'> = {},
    metering?: TurnMetering,
  ): Promise<GateResult<T>> {
    const key = { sessionId: this.sessionId, taskId: this.taskId, turn };
    const idempotencyKey = `${this.taskId}:${turn}`;
    if (this.startedTurn !== turn) {
      await this.engine.tasks.transition({
        sessionId: this.sessionId,
        taskId: this.taskId,
        token: this.token,
        to: 'running',
        event: { type: 'turn.started', data: { turn } },
      });
    }
    if (metering) await reserveTurn(this, turn, metering);
    let result: GateResult<T>;
    // A response this runner gets has its usage counted by the commit's own script.
    let counted: ReturnType<typeof turnUsage> | undefined;
    const usageOf = metering && ((response: unknown) => (counted = turnUsage(this, metering, response)).usage);
    try {
      result = await this.engine.gate.run(key, { ...hooks, runnerToken: this.token, signal: this.signal, ...(usageOf ? { usageOf } : {}) }, (signal) =>
        call(signal, idempotencyKey),
      );
    } catch (err) {
      if (metering) await releaseTurn(this, turn).catch((e: unknown) => this.logger.warn({ err: e, turn }, 'could not release the turn’s budget reservation'));
      throw err;
    }
    if (metering && result.recorded && counted) await settleRecorded(this, turn, result.recorded, counted.rollup);
    else if (metering) await recordTurn(this, turn, metering, result.response);
    // The turn's end rides on this runner's next script (with the answer the caller appends).
    this.recordLater({ turns: turn }, { type: 'turn.completed', data: { turn, outcome: result.outcome, grants: result.grants ?? null } });
    return result;
  }

  /**
   * Runs a subtask to its end. Returns the child's terminal outcome if it has
   * one; otherwise records the child (idempotent), makes sure its job exists
   * as a BullMQ child of this job, and parks this task in waiting-children.
   * The handler is run again when the child is terminal and, replaying from
   * its conversation, calls this again with the same key: now it returns.
   */
  async subtask(spec: SubtaskSpec): Promise<ChildOutcome> {
    // The parent's conversation so far is durable before it may park on the child.
    await this.flush();
    const childId = childTaskId(this.task.rootId, this.taskId, spec.key);
    const { keys } = this.engine.ctx;
    // The session's shard, which is the parent job's queue: a BullMQ flow may not span hash slots.
    const queue = this.engine.ctx.queues.forSession(this.sessionId);
    const claimed = this.claimedChild?.id === childId ? this.claimedChild.hash : undefined;
    this.claimedChild = undefined;
    let child = claimed ?? (await this.engine.tasks.raw(this.sessionId, childId));
    if (child.status && isTerminal(child.status as Task['status'])) return outcomeOf(childId, child);

    let spawned = false;
    if (!child.status) {
      // The task index is sent with the spawn (one flush); it is harmless if the spawn is refused.
      const [spawn] = await Promise.all([
        this.engine.scripts.spawnChild({
          sessionId: this.sessionId,
          parentId: this.taskId,
          token: this.token,
          childId,
          fields: {
            id: childId,
            sessionId: this.sessionId,
            parentId: this.taskId,
            rootId: this.task.rootId,
            tenant: this.task.tenant,
            mode: spec.mode,
            prompt: spec.prompt,
            ...(spec.metadata === undefined ? {} : { metadata: JSON.stringify(spec.metadata) }),
          },
        }),
        this.engine.redis.set(keys.taskIndex(childId), this.sessionId),
      ]);
      switch (spawn.kind) {
        case 'created':
        case 'exists':
          break;
        case 'staleToken':
          throw new StaleRunnerError(this.taskId, `spawn ${childId}`);
        case 'maxDepthExceeded':
        case 'maxChildrenExceeded':
          // Refused for good: the index entry sent with the spawn must not outlive it.
          await this.engine.redis.del(keys.taskIndex(childId));
          throw codeToError(spawn.kind, { taskId: this.taskId, what: 'new subtask', detail: String(spawn.limit) });
        case 'parentNotRunning':
          throw codeToError('illegalTransition', { taskId: this.taskId, what: `spawn ${childId}` });
      }
      spawned = spawn.kind === 'created';
      if (spawned) this.engine.stats.created('child');
    }

    // A child this call just created has no job yet; only a replayed spawn needs to look.
    const job = spawned ? undefined : await queue.getJob(childId);
    if (job) {
      const state = await job.getState();
      if (state === 'failed' || state === 'completed') {
        // The child's job ended without recording a terminal task (its worker died for good).
        child = await this.engine.tasks.raw(this.sessionId, childId);
        if (!isTerminal(child.status as Task['status'])) {
          await this.engine.tasks
            .transition({
              sessionId: this.sessionId,
              taskId: childId,
              to: 'failed',
              fields: { errorCode: 'JOB_FAILED', errorMessage: job.failedReason || `job ${state} without a result` },
              event: { type: 'task.failed', data: { reason: job.failedReason ?? null } },
            })
            .catch((e: unknown) => this.logger.warn({ err: e, childId }, 'could not fail orphaned child'));
        }
        return outcomeOf(childId, await this.engine.tasks.raw(this.sessionId, childId));
      }
    } else {
      if (!this.job.id) throw new BatonError('INVALID_INPUT', 'parent job has no id');
      await queue.add(
        'task',
        { taskId: childId, sessionId: this.sessionId },
        {
          jobId: childId,
          parent: { id: this.job.id, queue: this.job.queueQualifiedName },
          // A child job that fails for good must not strand its parent: the
          // dependency is ignored and the parent reads the outcome from the task.
          ignoreDependencyOnFailure: true,
        },
      );
    }
    throw new ParkForChildSignal(childId);
  }

  /** The live conversation's version and turn offset (see `condenseConversation`). */
  async conversationVersion(): Promise<ConversationVersion> {
    this.version ??= await this.engine.conversations.version(this.sessionId, this.taskId);
    return { ...this.version };
  }

  /**
   * A model request of the task that is not a turn (a condense summary),
   * through the request gate under key `<taskId>:<name>`: replayed when
   * committed, like a turn, but no turn events and no turn count. With
   * `metering`, checked against the budgets and its usage recorded like a
   * turn's (usage/turn-metering).
   */
  async gateRequest<T>(name: string, call: (signal: AbortSignal, idempotencyKey: string) => Promise<T>, metering?: TurnMetering): Promise<GateResult<T>> {
    const key = { sessionId: this.sessionId, taskId: this.taskId, turn: name };
    const idempotencyKey = `${this.taskId}:${name}`;
    await this.flush();
    // Metered as a turn is (budgets, usage, roll-ups), under its own key `<taskId>:<name>`.
    if (metering) await reserveTurn(this, name, metering);
    let result: GateResult<T>;
    try {
      result = await this.engine.gate.run(key, { runnerToken: this.token, signal: this.signal }, (signal) => call(signal, idempotencyKey));
    } catch (err) {
      if (metering)
        await releaseTurn(this, name).catch((e: unknown) => this.logger.warn({ err: e, name }, 'could not release the request’s budget reservation'));
      throw err;
    }
    if (metering) await recordTurn(this, name, metering, result.response);
    return result;
  }

  /**
   * Replaces the live conversation (archived for the export) with `messages`:
   * one fenced compare-and-set on the expected length and version. Returns the
   * new version.
   */
  async condenseConversation(expected: { length: number; version: number }, turnOffset: number, messages: Message[]): Promise<number> {
    await this.flush();
    try {
      const version = await this.engine.conversations.condense(this.sessionId, this.taskId, this.token, expected, turnOffset, messages);
      this.conversation = [...messages];
      this.version = { version, turnOffset };
      return version;
    } catch (err) {
      this.conversation = undefined;
      throw err;
    }
  }
}
