import type { EngineContext } from '../engine-context';
import { BatonError, codeToError, ScriptCode } from '../errors';
import { LateCommandError, redisFailure } from '../redis-failure';
import type { Task } from '../model/task';
import type { Session } from '../model/session';
import { SessionSchema } from '../model/session';
import type { TaskStore } from '../store/task-store';
import { decodeTask, type NewTaskFields } from '../store/task-record';
import { newTaskId, payloadHash, submitDeadlineMs, SubmitInputSchema, type SubmitInput } from './submission';

export interface SubmitResult {
  task: Task;
  /** True when the idempotency key matched an earlier submission. */
  replayed: boolean;
  /** Task ids cancelled by `onBusy: interrupt`, with their previous status. */
  cancelled: { taskId: string; previous: string }[];
}

export function pairs(flat: string[]): { taskId: string; previous: string }[] {
  const out: { taskId: string; previous: string }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ taskId: flat[i]!, previous: flat[i + 1]! });
  return out;
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
    private readonly tasks: TaskStore,
  ) {}

  private sessionKeys(sessionId: string) {
    const { keys } = this.ctx;
    return {
      base: keys.sessionBase(sessionId),
      session: keys.session(sessionId),
      lane: keys.lane(sessionId),
      active: keys.active(sessionId),
      parked: keys.parked(sessionId),
      events: keys.events(sessionId),
      fence: keys.fence(sessionId),
    };
  }

  /** Marks a session for the reconciler (before any script that may give it work). */
  async touch(sessionId: string): Promise<void> {
    await this.ctx.redis.zadd(this.ctx.keys.sessionIndex(), Date.now(), sessionId);
  }

  async submit(raw: SubmitInput): Promise<SubmitResult> {
    const parsed = SubmitInputSchema.safeParse(raw);
    if (!parsed.success) throw new BatonError('INVALID_INPUT', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const input = parsed.data;
    const { keys, options, redis } = this.ctx;
    const taskId = input.taskId ?? newTaskId();
    const k = this.sessionKeys(input.sessionId);
    const fields: NewTaskFields = {
      id: taskId,
      sessionId: input.sessionId,
      parentId: '',
      rootId: taskId,
      tenant: input.tenant,
      mode: input.mode,
      prompt: input.prompt,
      ...(input.metadata === undefined ? {} : { metadata: JSON.stringify(input.metadata) }),
    };
    // Three commands sent together (one round trip on one connection; no pipeline, so a
    // cluster can route each to its own slot). The index entries are harmless if the
    // script refuses: an orphan task-index entry is removed below, and the reconciler
    // forgets idle sessions. Touching the session index no later than the script keeps
    // a crash after the script inside the reconciler's view.
    const idem = input.idempotencyKey;
    // With a command timeout (the API), the script refuses to run once the caller has given up.
    const timeout = options.commandTimeoutMs;
    const deadline = timeout === undefined ? 0 : Date.now() + submitDeadlineMs(timeout);
    const [, , reply] = await Promise.all([
      redis.set(keys.taskIndex(taskId), input.sessionId, 'NX'),
      redis.zadd(keys.sessionIndex(), Date.now(), input.sessionId),
      this.ctx.call(
        'batonSubmitRoot',
        [k.session, k.lane, k.active, k.events, idem ? keys.idempotency(input.sessionId, input.tenant, idem) : k.session, keys.task(input.sessionId, taskId)],
        [k.base, taskId, JSON.stringify(fields), payloadHash(input), idem ? '1' : '0', options.idempotencyTtlMs, input.onBusy, this.ctx.eventsTrim, k.parked, k.fence, input.tenant, options.sessionConcurrency, options.gateTtlMs, options.retentionMs, options.maxQueuedRootsPerSession, deadline],
      ),
    ]);
    const [code, id, dispatched, cancelled, createdAt] = reply as [number, string, string[], string[], number?];

    if (code !== ScriptCode.ok) {
      // Refused: drop the index entry set above, unless the id belongs to an existing task (a caller-chosen id).
      if (code !== ScriptCode.taskExists) await redis.del(keys.taskIndex(taskId));
      if (code === 1) {
        const task = await this.tasks.get(input.sessionId, id);
        if (!task) throw new BatonError('TASK_NOT_FOUND', `idempotent replay: task ${id} no longer exists`);
        return { task, replayed: true, cancelled: [] };
      }
      if (code === ScriptCode.notFound) {
        throw new BatonError('TASK_NOT_FOUND', `session ${input.sessionId} not found`, { sessionId: input.sessionId });
      }
      if (code === ScriptCode.deadlinePassed) throw new LateCommandError(`submit to session ${input.sessionId}`);
      if (code === ScriptCode.sessionQueueFull) {
        const err = codeToError(code, { what: `submit to session ${input.sessionId}`, detail: String(options.maxQueuedRootsPerSession) });
        err.details.sessionId = input.sessionId;
        throw err;
      }
      throw codeToError(code, { what: 'submit', detail: id });
    }
    // The task is accepted (the script ran): Redis failing now must not turn into a refusal
    // the caller would retry. The reconciler adds the missing job (the same crash window).
    await this.ctx.addRootJobs(input.sessionId, dispatched).catch((err: unknown) => {
      if (!redisFailure(err)) throw err;
      this.ctx.logger.warn({ err, sessionId: input.sessionId, taskIds: dispatched }, 'dispatch failed after submit; the reconciler will add the job');
    });
    // The task as created (no read-back): a worker may already be running it.
    const task = decodeTask({ ...fields, status: 'queued', createdAt: String(createdAt), turns: '0' }, []);
    return { task, replayed: false, cancelled: pairs(cancelled) };
  }

  /** Releases a root's lease (if held) and dispatches the next roots. Idempotent. */
  async finishRoot(sessionId: string, rootId: string): Promise<string[]> {
    const k = this.sessionKeys(sessionId);
    const [, dispatched] = (await this.ctx.call('batonFinishRoot', [k.session, k.lane, k.active], [k.base, rootId])) as [
      number,
      string[],
    ];
    await this.ctx.addRootJobs(sessionId, dispatched);
    return dispatched;
  }

  /** Dispatches lane heads if the session has room (resume, reconciler). */
  async dispatch(sessionId: string): Promise<string[]> {
    return this.finishRoot(sessionId, '');
  }

  /** Pause (true) or resume (false). Returns parked task ids to promote on resume. */
  async setPaused(sessionId: string, paused: boolean): Promise<{ changed: boolean; parked: string[] }> {
    const k = this.sessionKeys(sessionId);
    if (!paused) await this.touch(sessionId);
    const [changed, dispatched, parked] = (await this.ctx.call(
      'batonSetPaused',
      [k.session, k.lane, k.active, k.parked, k.events],
      [k.base, paused ? '1' : '0', this.ctx.eventsTrim],
    )) as [number, string[], string[]];
    await this.ctx.addRootJobs(sessionId, dispatched);
    return { changed: changed === 1, parked };
  }

  async session(sessionId: string): Promise<Session & { tenant: string | null }> {
    const k = this.sessionKeys(sessionId);
    const [[, status], [, tenant], [, active], [, lane]] = (await this.ctx.redis
      .multi()
      .hget(k.session, 'status')
      .hget(k.session, 'tenant')
      .lrange(k.active, 0, -1)
      .lrange(k.lane, 0, -1)
      .exec()) as [[null, string | null], [null, string | null], [null, string[]], [null, string[]]];
    const session = SessionSchema.parse({
      id: sessionId,
      status: status ?? 'idle',
      activeTaskId: active[0] ?? null,
      activeTaskIds: active,
      queuedTaskIds: lane,
    });
    return { ...session, tenant };
  }
}
