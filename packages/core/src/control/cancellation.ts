import type { EngineContext } from '../engine-context';
import { BatonError, codeToError } from '../errors';
import type { SessionLanes } from '../lanes/session-lanes';
import { followTaskIndex } from '../lifecycle/task-index';
import type { Task } from '../model/task';
import { redisFailure } from '../redis-failure';
import type { CancelledTask } from '../scripts/reply';
import type { Scripts } from '../scripts/scripts';
import type { TaskStats } from '../store/task-stats';
import type { TaskStore } from '../store/task-store';

export interface CancelResult {
  task: Task;
  /** Every task this call cancelled (empty when it was already cancelled). */
  cancelled: CancelledTask[];
}

/**
 * Cancellation, in one place. A script records it (cancel, or submit's
 * `onBusy: interrupt`, or stop-session when a session is deleted): each
 * cancelled task gets status `cancelled` and a fresh runner fence, so
 * whatever still runs it can no longer write. `deliver` then makes it take
 * effect at once: running runners are told on the cancel channel (their
 * AbortSignal fires, model requests are aborted; see runtime/cancel-listener),
 * a cancelled root whose job never started is removed and its lease passed
 * on, parked jobs are promoted so they end and their parents hear of it.
 * A cancelled root that is running keeps its lease until its job has
 * stopped (the task worker's finish-root), so it never overlaps the next root.
 */
export class Cancellation {
  constructor(
    private readonly ctx: EngineContext,
    private readonly scripts: Scripts,
    private readonly tasks: TaskStore,
    private readonly lanes: SessionLanes,
    private readonly stats: TaskStats,
  ) {}

  /** Cancels a task and all its descendants. Idempotent: a cancelled task comes back unchanged. */
  async cancel(taskId: string, reason = 'cancelled by request'): Promise<CancelResult> {
    const sessionId = await this.tasks.sessionOf(taskId);
    if (!sessionId) throw new BatonError('TASK_NOT_FOUND', `task ${taskId} not found`, { taskId });
    const { keys, redis } = this.ctx;
    // Into the reconciler's index with the script: a tree it closes has task-index entries to follow.
    const [, reply] = await Promise.all([redis.zadd(keys.sessionIndex(), Date.now(), sessionId), this.scripts.cancel(sessionId, taskId, reason)]);
    if (reply.kind !== 'ok') throw codeToError(reply.kind, { taskId, what: 'cancel', detail: reply.kind === 'alreadyFinal' ? reply.status : '' });
    this.stats.ended('cancelled', reply.cancelled.length);
    await this.deliver(sessionId, reply.cancelled);
    const task = await this.tasks.get(sessionId, taskId);
    return { task: task!, cancelled: reply.cancelled };
  }

  /**
   * `deliver` for cancellations that come with a recorded submission (an
   * interrupt): Redis failing now must not turn the submission into a
   * refusal. What it would deliver heals without it (fenced runners stop,
   * the reconciler promotes and releases).
   */
  async deliverAfterSubmit(sessionId: string, cancelled: CancelledTask[], taskId: string): Promise<void> {
    await this.deliver(sessionId, cancelled).catch((err: unknown) => {
      if (!redisFailure(err)) throw err;
      this.ctx.logger.warn({ err, taskId }, 'delivering the cancellations of an interrupt failed; they take effect as runners meet their fences');
    });
  }

  /** Delivers the effects of cancellations a script recorded (see the class comment). */
  async deliver(sessionId: string, cancelled: CancelledTask[]): Promise<void> {
    if (cancelled.length === 0) return;
    const { redis, keys } = this.ctx;
    const queue = this.ctx.queues.forSession(sessionId);
    await redis.publish(keys.cancelChannel(), JSON.stringify(cancelled.map((c) => c.taskId)));
    const active = new Set(await redis.lrange(keys.active(sessionId), 0, -1));
    for (const { taskId, previous } of cancelled) {
      const isRoot = active.has(taskId);
      // Only these two cases act on a job. Roots cancelled in the lane never had one: skipping
      // them keeps an interrupt of a full lane at a few round trips, not one per queued root.
      // A task parked as a delayed job (paused, awaiting input) is woken to end at once.
      const parked = previous === 'paused' || previous === 'awaiting_input';
      if (!(isRoot && previous === 'queued') && !parked) continue;
      const job = await queue.getJob(taskId);
      if (isRoot && previous === 'queued') {
        // Dispatched but not started: nothing runs it, so the lease can move now.
        // If the job is already locked by a worker, remove() fails and that worker ends it.
        const removed =
          !job ||
          (await job.remove().then(
            () => true,
            () => false,
          ));
        if (removed) await this.lanes.finishRoot(sessionId, taskId);
      } else if (job && parked) {
        await job.promote().catch(() => undefined);
      }
    }
    // Trees the cancellation left all terminal now expire: their task-index entries follow.
    await followTaskIndex(this.ctx, sessionId);
  }
}
