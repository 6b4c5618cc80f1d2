import { z } from 'zod';
import type { EngineContext } from '../engine-context';
import { BatonError, codeToError } from '../errors';
import { LateCommandError, redisFailure } from '../redis-failure';
import { beforeDeadline } from '../answer-deadline';
import { inOneWrite } from '../one-write';
import type { Task } from '../model/task';
import type { Session } from '../model/session';
import { SessionSchema } from '../model/session';
import type { TaskStore } from '../store/task-store';
import type { TaskStats } from '../store/task-stats';
import type { CancelledTask } from '../scripts/reply';
import type { Scripts } from '../scripts/scripts';
import { decodeTask, type NewTaskFields } from '../store/task-record';
import { budgetFields, costOf, usageOf } from '../model/usage';
import { newTaskId, payloadHash, submitDeadlineMs, SubmitInputSchema, type SubmitInput } from './submission';

export interface SubmitResult {
  task: Task;
  /** True when the idempotency key matched an earlier submission. */
  replayed: boolean;
  /** Task ids cancelled by `onBusy: interrupt`, with their previous status. */
  cancelled: CancelledTask[];
}

export interface SubmitOptions {
  /**
   * When the caller's request arrived (epoch ms; default now). With a command
   * timeout, the whole submission answers within that timeout of it, however
   * long the caller's earlier commands (a rate limit) took.
   */
  receivedAt?: number;
}

/**
 * Session lanes: group concurrency one (configurable) without polling. A
 * script appends a root to its session's FIFO lane and, when the session has
 * room, hands it the lease; only dispatched roots become BullMQ jobs. When a
 * tree ends, finish-root passes the lease to the next root atomically.
 */
export class SessionLanes {
  constructor(
    private readonly ctx: EngineContext,
    private readonly scripts: Scripts,
    private readonly tasks: TaskStore,
    private readonly stats: TaskStats,
  ) {}

  /** Marks a session for the reconciler (before any script that may give it work). */
  async touch(sessionId: string): Promise<void> {
    await this.ctx.redis.zadd(this.ctx.keys.sessionIndex(), Date.now(), sessionId);
  }

  async submit(raw: SubmitInput, submitOptions: SubmitOptions = {}): Promise<SubmitResult> {
    const parsed = SubmitInputSchema.safeParse(raw);
    if (!parsed.success) throw new BatonError('INVALID_INPUT', z.prettifyError(parsed.error));
    const input = parsed.data;
    const { keys, options, redis } = this.ctx;
    const taskId = input.taskId ?? newTaskId();
    const fields: NewTaskFields = {
      id: taskId,
      sessionId: input.sessionId,
      parentId: '',
      rootId: taskId,
      tenant: input.tenant,
      mode: input.mode,
      prompt: input.prompt,
      ...(input.metadata === undefined ? {} : { metadata: JSON.stringify(input.metadata) }),
      ...budgetFields(input.budget),
      ...(input.onBudget ? { onBudget: input.onBudget } : {}),
    };
    // Three commands sent together (one round trip and one socket write on one connection; no pipeline,
    // so a cluster can route each to its own slot). The index entries are harmless if the
    // script refuses: an orphan task-index entry is removed below, and the reconciler
    // forgets idle sessions. Touching the session index no later than the script keeps
    // a crash after the script inside the reconciler's view.
    // With a command timeout (the API), the script refuses to run once the caller has given up, and the
    // submission answers within one timeout of the request's arrival (never one timeout per command).
    const timeout = options.commandTimeoutMs;
    const receivedAt = submitOptions.receivedAt ?? Date.now();
    const deadline = timeout === undefined ? 0 : receivedAt + submitDeadlineMs(timeout);
    const answerBy = timeout === undefined ? Infinity : receivedAt + timeout;
    const what = `submit to session ${input.sessionId}`;
    // The earlier commands used the time up: refused without sending anything (the script would refuse it too).
    if (timeout !== undefined && Date.now() >= deadline) throw new LateCommandError(what);
    const sent = inOneWrite(redis, () =>
      Promise.all([
        redis.set(keys.taskIndex(taskId), input.sessionId, 'NX'),
        redis.zadd(keys.sessionIndex(), Date.now(), input.sessionId),
        this.scripts.submitRoot({
          sessionId: input.sessionId,
          taskId,
          fields,
          // Compared only under an idempotency key (a SHA-256 per submission otherwise for nothing).
          payloadHash: input.idempotencyKey === undefined ? '' : payloadHash(input),
          tenant: input.tenant,
          ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
          onBusy: input.onBusy,
          deadline,
        }),
      ]),
    );
    const [, , reply] = await beforeDeadline(sent, answerBy, what);

    if (reply.kind !== 'created') {
      // Refused: drop the index entry set above, unless the id belongs to an existing task (a caller-chosen id).
      if (reply.kind !== 'taskExists') await redis.del(keys.taskIndex(taskId));
      switch (reply.kind) {
        case 'replayed': {
          const task = await this.tasks.get(input.sessionId, reply.taskId);
          if (!task) throw new BatonError('TASK_NOT_FOUND', `idempotent replay: task ${reply.taskId} no longer exists`);
          return { task, replayed: true, cancelled: [] };
        }
        case 'notFound':
          throw new BatonError('TASK_NOT_FOUND', `session ${input.sessionId} not found`, { sessionId: input.sessionId });
        case 'deadlinePassed':
          throw new LateCommandError(what);
        case 'sessionQueueFull': {
          const err = codeToError(reply.kind, { what: `submit to session ${input.sessionId}`, detail: String(options.maxQueuedRootsPerSession) });
          err.details.sessionId = input.sessionId;
          throw err;
        }
        case 'idempotencyConflict':
          throw codeToError(reply.kind, { what: 'submit', detail: reply.existingTaskId });
        case 'sessionBusy':
          throw codeToError(reply.kind, { what: 'submit', detail: reply.busyTaskId });
        case 'taskExists':
          throw codeToError(reply.kind, { what: 'submit', detail: reply.taskId });
      }
    }
    const { dispatched, cancelled, createdAt } = reply;
    // The task is accepted (the script ran): Redis failing now must not turn into a refusal
    // the caller would retry. The reconciler adds the missing job (the same crash window); a slow add goes on
    // after the answer (job ids are task ids: the reconciler's add and this one are one job).
    // Counted here (after the script, before the add) so that the count goes out in the add's write.
    const added = inOneWrite(redis, () => {
      this.stats.created('root');
      this.stats.ended('cancelled', cancelled.length);
      return this.ctx.addRootJobs(input.sessionId, dispatched);
    });
    await beforeDeadline(added, answerBy, `${what}: job add`).catch((err: unknown) => {
      if (!redisFailure(err)) throw err;
      this.ctx.logger.warn({ err, sessionId: input.sessionId, taskIds: dispatched }, 'dispatch failed after submit; the reconciler will add the job');
    });
    // The task as created (no read-back): a worker may already be running it.
    const task = decodeTask({ ...fields, status: 'queued', createdAt: String(createdAt), turns: '0' }, []);
    return { task, replayed: false, cancelled };
  }

  /** Releases a root's lease (if held) and dispatches the next roots. Idempotent. */
  async finishRoot(sessionId: string, rootId: string): Promise<string[]> {
    const { dispatched } = await this.scripts.finishRoot(sessionId, rootId);
    await this.ctx.addRootJobs(sessionId, dispatched);
    return dispatched;
  }

  /** Dispatches lane heads if the session has room (resume, reconciler). */
  async dispatch(sessionId: string): Promise<string[]> {
    return this.finishRoot(sessionId, '');
  }

  async session(sessionId: string): Promise<Session & { tenant: string | null }> {
    const { keys } = this.ctx;
    const [[, hash], [, active], [, lane]] = (await this.ctx.redis
      .multi()
      .hgetall(keys.session(sessionId))
      .lrange(keys.active(sessionId), 0, -1)
      .lrange(keys.lane(sessionId), 0, -1)
      .exec()) as [[null, Record<string, string>], [null, string[]], [null, string[]]];
    const tenant = hash.tenant ?? null;
    const session = SessionSchema.parse({
      id: sessionId,
      status: hash.status ?? 'idle',
      activeTaskId: active[0] ?? null,
      activeTaskIds: active,
      queuedTaskIds: lane,
      // Session totals (record-usage-6.lua).
      usage: usageOf(hash, 'u:'),
      cost: costOf(hash, 'u:'),
    });
    return { ...session, tenant };
  }
}
