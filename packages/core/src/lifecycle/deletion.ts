import type { Cancellation } from '../control/cancellation';
import type { EngineContext } from '../engine-context';
import type { Scripts } from '../scripts/scripts';
import type { TaskStats } from '../store/task-stats';
import type { TaskStore } from '../store/task-store';
import { followTaskIndex } from './task-index';

export type DeleteSessionState = 'deleted' | 'stopping' | 'not_found';
export type DeleteTreeResult = 'deleted' | 'not_found' | 'not_terminal' | 'not_root';

/**
 * Deleting on request: a whole session, or one finished tree. Every key of a
 * session shares its slot, so one script deletes them at once; the keys
 * outside it (task-index entries, BullMQ jobs) are removed by this class in
 * an order that a crash cannot leave unrepaired.
 */
export class Deletion {
  constructor(
    private readonly ctx: EngineContext,
    private readonly scripts: Scripts,
    private readonly tasks: TaskStore,
    private readonly cancellation: Cancellation,
    private readonly stats: TaskStats,
  ) {}

  /**
   * Cancels whatever runs in the session (as `cancel` does, every tree), then
   * deletes every key of it. 'stopping' while a runner still holds a task of
   * it (a cancelled root keeps its lease until its job has stopped): call
   * again later, or let the reconciler finish (the session is marked
   * deleting, and a submit to it is refused meanwhile). Idempotent.
   */
  async deleteSession(sessionId: string): Promise<{ state: DeleteSessionState }> {
    const { keys, redis } = this.ctx;
    const queue = this.ctx.queues.forSession(sessionId);
    // Into the reconciler's index first: it finishes a deletion left 'stopping'.
    const [, stop] = await Promise.all([redis.zadd(keys.sessionIndex(), Date.now(), sessionId), this.scripts.stopSession(sessionId, 'session deleted')]);
    if (stop.kind === 'notFound') {
      await this.forget(sessionId);
      return { state: 'not_found' };
    }
    const ids = stop.taskIds;
    this.stats.ended('cancelled', stop.cancelled.length);
    await this.cancellation.deliver(sessionId, stop.cancelled);
    if (await this.stopping(sessionId, ids)) return { state: 'stopping' };

    // Outside the slot first: a crash after this leaves the session marked deleting,
    // and the next call (or the reconciler) deletes the rest.
    await Promise.all(ids.map((id) => queue.remove(id).catch(() => 0)));
    await Promise.all(ids.map((id) => redis.del(keys.taskIndex(id))));
    const deleted = await this.scripts.deleteSession(sessionId);
    if (deleted.kind === 'stopping') return { state: 'stopping' };
    const known = new Set(ids);
    await Promise.all(deleted.taskIds.filter((id) => !known.has(id)).map((id) => redis.del(keys.taskIndex(id))));
    await this.forget(sessionId);
    return { state: 'deleted' };
  }

  /** A root still holds the lease, or a worker still runs a job of the session. */
  private async stopping(sessionId: string, ids: string[]): Promise<boolean> {
    const { redis, keys } = this.ctx;
    const queue = this.ctx.queues.forSession(sessionId);
    if ((await redis.llen(keys.active(sessionId))) > 0) return true;
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
    return states.includes('active');
  }

  /** Drops the session from the reconciler's index, unless a submit touched it since. */
  private async forget(sessionId: string): Promise<void> {
    const { redis, keys } = this.ctx;
    const score = await redis.zscore(keys.sessionIndex(), sessionId);
    if (score !== null) await this.scripts.forgetSession(sessionId, score);
  }

  /**
   * Deletes a finished root's whole tree: every task's keys, their task-index
   * entries and BullMQ jobs. Refused while any task of it is not terminal
   * (or its cancelled root is still stopping), and on a subtask.
   */
  async deleteTree(taskId: string): Promise<DeleteTreeResult> {
    const { keys, redis } = this.ctx;
    const sessionId = await this.tasks.sessionOf(taskId);
    if (!sessionId) return 'not_found';
    // Into the reconciler's index with the script: it drains `unindexed` after a crash.
    const [, reply] = await Promise.all([redis.zadd(keys.sessionIndex(), Date.now(), sessionId), this.scripts.deleteTree(sessionId, taskId)]);
    switch (reply.kind) {
      case 'deleted':
        await followTaskIndex(this.ctx, sessionId);
        return 'deleted';
      case 'notFound':
        return 'not_found';
      case 'notRoot':
        return 'not_root';
      case 'notTerminal':
        return 'not_terminal';
    }
  }
}
