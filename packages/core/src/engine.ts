import type { Logger } from 'pino';
import type { EngineOptions } from './config';
import { EngineContext, openRedis, type Connection } from './engine-context';
import { BatonError, codeToError, ScriptCode } from './errors';
import { redisFailure } from './redis-failure';
import { GateNotifier } from './gate/gate-notifier';
import { RequestGate } from './gate/request-gate';
import { pairs, SessionLanes, type SubmitResult } from './lanes/session-lanes';
import { Deletion, type DeleteSessionState, type DeleteTreeResult } from './lifecycle/deletion';
import { followTaskIndex } from './lifecycle/task-index';
import { deliverInput, type DeliverInputRequest, type DeliverInputResult } from './input/input-delivery';
import { exportTree, type TreeExport } from './lifecycle/tree-export';
import type { SubmitInput } from './lanes/submission';
import type { BatonEvent } from './model/event';
import type { Message } from './model/message';
import type { Session } from './model/session';
import type { Task, TaskTree } from './model/task';
import { ConversationStore } from './store/conversation-store';
import { EventLog } from './store/event-log';
import { TaskStats } from './store/task-stats';
import { TaskStore } from './store/task-store';

export interface CancelResult {
  task: Task;
  /** Every task this call cancelled (empty when it was already cancelled). */
  cancelled: { taskId: string; previous: string }[];
}

/**
 * The engine facade used by the API and the worker: submit, cancel,
 * pause/resume, and reads. It owns one command connection and the task
 * queue; a gate subscriber is opened on first use of the request gate.
 */
export class Engine {
  readonly ctx: EngineContext;
  readonly tasks: TaskStore;
  readonly lanes: SessionLanes;
  readonly conversations: ConversationStore;
  readonly events: EventLog;
  readonly stats: TaskStats;
  private readonly deletion: Deletion;
  private gateInstance: RequestGate | undefined;
  private notifier: GateNotifier | undefined;

  constructor(connection: Connection, options: EngineOptions = {}, logger?: Logger) {
    this.ctx = new EngineContext(connection, options, logger);
    this.stats = new TaskStats(this.ctx);
    this.tasks = new TaskStore(this.ctx, this.stats);
    this.lanes = new SessionLanes(this.ctx, this.tasks);
    this.conversations = new ConversationStore(this.ctx);
    this.events = new EventLog(this.ctx);
    this.deletion = new Deletion(this);
  }

  get keys() {
    return this.ctx.keys;
  }
  get queue() {
    return this.ctx.queue;
  }
  get redis() {
    return this.ctx.redis;
  }
  get logger() {
    return this.ctx.logger;
  }

  /** The request gate (opens the notification subscriber once). */
  get gate(): RequestGate {
    if (!this.gateInstance) {
      this.notifier = new GateNotifier(openRedis(this.ctx.connection), this.ctx.keys.gateChannel());
      this.gateInstance = new RequestGate(this.ctx, this.notifier);
    }
    return this.gateInstance;
  }

  /** Submits a root task; with `onBusy: interrupt`, also delivers the cancellations it made (aborts, lease). */
  async submit(input: SubmitInput): Promise<SubmitResult> {
    const result = await this.lanes.submit(input);
    if (!result.replayed) {
      this.stats.created('root');
      this.stats.ended('cancelled', result.cancelled.length);
    }
    // The submission is recorded: Redis failing now must not turn it into a refusal. What afterCancel
    // would deliver heals without it (fenced runners stop, the reconciler promotes and releases).
    if (result.cancelled.length > 0) {
      await this.afterCancel(result.task.sessionId, result.cancelled).catch((err: unknown) => {
        if (!redisFailure(err)) throw err;
        this.ctx.logger.warn({ err, taskId: result.task.id }, 'delivering the cancellations of an interrupt failed; they take effect as runners meet their fences');
      });
    }
    return result;
  }

  getTask(taskId: string): Promise<Task | null> {
    return this.tasks.getById(taskId);
  }

  async getTree(taskId: string): Promise<TaskTree | null> {
    const sessionId = await this.tasks.sessionOf(taskId);
    return sessionId ? this.tasks.tree(sessionId, taskId) : null;
  }

  async getMessages(taskId: string): Promise<Message[] | null> {
    const sessionId = await this.tasks.sessionOf(taskId);
    if (!sessionId || !(await this.tasks.get(sessionId, taskId))) return null;
    return this.conversations.read(sessionId, taskId);
  }

  async getSession(sessionId: string): Promise<Session & { tenant: string | null }> {
    return this.lanes.session(sessionId);
  }

  readEvents(sessionId: string, after = '0', count = 1000): Promise<BatonEvent[]> {
    return this.events.read(sessionId, after, count);
  }

  /**
   * Cancels a task and all its descendants. Running runners are told through
   * the cancel channel (their AbortSignal fires, in-flight model requests are
   * aborted); cancelled roots still waiting in the lane leave it; a cancelled
   * root whose job never started is removed and its lease passed on; parked
   * jobs are promoted so they end at once and their parents hear of it.
   * Idempotent: cancelling a cancelled task returns it unchanged.
   */
  async cancel(taskId: string, reason = 'cancelled by request'): Promise<CancelResult> {
    const sessionId = await this.tasks.sessionOf(taskId);
    if (!sessionId) throw new BatonError('TASK_NOT_FOUND', `task ${taskId} not found`, { taskId });
    const { keys, options } = this.ctx;
    // Into the reconciler's index with the script: a tree it closes has task-index entries to follow.
    const [, reply] = await Promise.all([
      this.ctx.redis.zadd(keys.sessionIndex(), Date.now(), sessionId),
      this.ctx.call(
        'batonCancel',
        [keys.session(sessionId), keys.lane(sessionId), keys.parked(sessionId), keys.fence(sessionId), keys.events(sessionId), keys.task(sessionId, taskId)],
        [keys.sessionBase(sessionId), taskId, reason, this.ctx.eventsTrim, options.gateTtlMs],
      ),
    ]);
    const [code, previous, flat] = reply as [number, string, string[]];
    if (code !== ScriptCode.ok) throw codeToError(code, { taskId, what: 'cancel', detail: previous });
    const cancelled = pairs(flat);
    this.stats.ended('cancelled', cancelled.length);
    await this.afterCancel(sessionId, cancelled);
    const task = await this.tasks.get(sessionId, taskId);
    return { task: task!, cancelled };
  }

  /** Delivers the effects of cancellations made by a script (cancel or submit-interrupt). */
  async afterCancel(sessionId: string, cancelled: { taskId: string; previous: string }[]): Promise<void> {
    if (cancelled.length === 0) return;
    await this.ctx.redis.publish(this.ctx.keys.cancelChannel(), JSON.stringify(cancelled.map((c) => c.taskId)));
    const active = new Set(await this.ctx.redis.lrange(this.ctx.keys.active(sessionId), 0, -1));
    for (const { taskId, previous } of cancelled) {
      const isRoot = active.has(taskId);
      // Only these two cases act on a job. Roots cancelled in the lane never had one: skipping
      // them keeps an interrupt of a full lane at a few round trips, not one per queued root.
      // A task parked as a delayed job (paused, awaiting input) is woken to end at once.
      const parked = previous === 'paused' || previous === 'awaiting_input';
      if (!(isRoot && previous === 'queued') && !parked) continue;
      const job = await this.ctx.queue.getJob(taskId);
      if (isRoot && previous === 'queued') {
        // Dispatched but not started: nothing runs it, so the lease can move now.
        // If the job is already locked by a worker, remove() fails and that worker ends it.
        const removed = !job || (await job.remove().then(() => true, () => false));
        if (removed) await this.lanes.finishRoot(sessionId, taskId);
      } else if (job && parked) {
        await job.promote().catch(() => undefined);
      }
    }
    // Trees the cancellation left all terminal now expire: their task-index entries follow.
    await followTaskIndex(this.ctx, sessionId);
  }

  /**
   * Deletes a session: cancels every tree that is not over (as `cancel`
   * does), then every key of the session, its trees, task-index entries and
   * BullMQ jobs. 'stopping' while a runner still holds a task of it: call
   * again later (the reconciler also finishes it); submits to it are refused
   * meanwhile. 'not_found' when nothing of it exists. Idempotent.
   */
  deleteSession(sessionId: string): Promise<{ state: DeleteSessionState }> {
    return this.deletion.deleteSession(sessionId);
  }

  /** Deletes a terminal root's whole tree; refused while any task of it is not terminal, and on a subtask. */
  deleteTree(taskId: string): Promise<DeleteTreeResult> {
    return this.deletion.deleteTree(taskId);
  }

  /** The tree under `taskId` (root or subtask) with its conversations and events; null when not found. */
  exportTree(taskId: string): Promise<TreeExport | null> {
    return exportTree(this, taskId);
  }

  /**
   * Delivers a user's response (answer, approval, denial) to a task
   * `awaiting_input` and wakes its parked job. See input/input-delivery.ts.
   */
  deliverInput(req: DeliverInputRequest): Promise<DeliverInputResult> {
    return deliverInput(this, req);
  }

  async pause(sessionId: string): Promise<Session> {
    await this.lanes.setPaused(sessionId, true);
    return this.getSession(sessionId);
  }

  async resume(sessionId: string): Promise<Session> {
    const { parked } = await this.lanes.setPaused(sessionId, false);
    await this.promoteParked(parked);
    return this.getSession(sessionId);
  }

  /** Wakes parked (delayed) jobs; a job that is not delayed any more is left alone. */
  async promoteParked(taskIds: string[]): Promise<void> {
    for (const id of taskIds) {
      const job = await this.ctx.queue.getJob(id);
      if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.notifier?.close();
    await this.ctx.close();
  }
}
