import type { Engine } from '../engine';
import { ScriptCode } from '../errors';
import { pairs } from '../lanes/session-lanes';
import { followTaskIndex } from './task-index';

export type DeleteSessionState = 'deleted' | 'stopping' | 'not_found';
export type DeleteTreeResult = 'deleted' | 'not_found' | 'not_terminal' | 'not_root';

/** delete-tree's refusal when the tree is not a root's. */
const NOT_ROOT = -9;

/**
 * Deleting on request: a whole session, or one finished tree. Every key of a
 * session shares its slot, so one script deletes them at once; the keys
 * outside it (task-index entries, BullMQ jobs) are removed by this class in
 * an order that a crash cannot leave unrepaired.
 */
export class Deletion {
  constructor(private readonly engine: Engine) {}

  private sessionKeys(sessionId: string): string[] {
    const { keys } = this.engine.ctx;
    return [
      keys.session(sessionId),
      keys.lane(sessionId),
      keys.active(sessionId),
      keys.parked(sessionId),
      keys.fence(sessionId),
      keys.events(sessionId),
      keys.roots(sessionId),
    ];
  }

  /**
   * Cancels whatever runs in the session (as `cancel` does, every tree), then
   * deletes every key of it. 'stopping' while a runner still holds a task of
   * it (a cancelled root keeps its lease until its job has stopped): call
   * again later, or let the reconciler finish (the session is marked
   * deleting, and a submit to it is refused meanwhile). Idempotent.
   */
  async deleteSession(sessionId: string): Promise<{ state: DeleteSessionState }> {
    const { ctx } = this.engine;
    const { keys, redis, queue, options } = ctx;
    const base = keys.sessionBase(sessionId);
    // Into the reconciler's index first: it finishes a deletion left 'stopping'.
    const [, stop] = await Promise.all([
      redis.zadd(keys.sessionIndex(), Date.now(), sessionId),
      ctx.call('batonStopSession', this.sessionKeys(sessionId), [base, 'session deleted', ctx.eventsTrim, options.gateTtlMs]),
    ]);
    const [code, cancelledFlat, ids] = stop as [number, string[], string[]];
    if (code === ScriptCode.notFound) {
      await this.forget(sessionId);
      return { state: 'not_found' };
    }
    const cancelled = pairs(cancelledFlat);
    this.engine.stats.ended('cancelled', cancelled.length);
    await this.engine.afterCancel(sessionId, cancelled);
    if (await this.stopping(sessionId, ids)) return { state: 'stopping' };

    // Outside the slot first: a crash after this leaves the session marked deleting,
    // and the next call (or the reconciler) deletes the rest.
    await Promise.all(ids.map((id) => queue.remove(id).catch(() => 0)));
    await Promise.all(ids.map((id) => redis.del(keys.taskIndex(id))));
    const [done, deleted] = (await ctx.call('batonDeleteSession', [...this.sessionKeys(sessionId), keys.unindexed(sessionId)], [base])) as [
      number,
      string[],
    ];
    if (done !== ScriptCode.ok) return { state: 'stopping' };
    const known = new Set(ids);
    await Promise.all(deleted.filter((id) => !known.has(id)).map((id) => redis.del(keys.taskIndex(id))));
    await this.forget(sessionId);
    return { state: 'deleted' };
  }

  /** A root still holds the lease, or a worker still runs a job of the session. */
  private async stopping(sessionId: string, ids: string[]): Promise<boolean> {
    const { redis, keys, queue } = this.engine.ctx;
    if ((await redis.llen(keys.active(sessionId))) > 0) return true;
    const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
    return states.includes('active');
  }

  /** Drops the session from the reconciler's index, unless a submit touched it since. */
  private async forget(sessionId: string): Promise<void> {
    const { redis, keys, call } = this.engine.ctx;
    const score = await redis.zscore(keys.sessionIndex(), sessionId);
    if (score !== null) await call('batonForgetSession', [keys.sessionIndex()], [sessionId, score]);
  }

  /**
   * Deletes a finished root's whole tree: every task's keys, their task-index
   * entries and BullMQ jobs. Refused while any task of it is not terminal
   * (or its cancelled root is still stopping), and on a subtask.
   */
  async deleteTree(taskId: string): Promise<DeleteTreeResult> {
    const { ctx } = this.engine;
    const { keys, redis } = ctx;
    const sessionId = await this.engine.tasks.sessionOf(taskId);
    if (!sessionId) return 'not_found';
    // Into the reconciler's index with the script: it drains `unindexed` after a crash.
    const [, reply] = await Promise.all([
      redis.zadd(keys.sessionIndex(), Date.now(), sessionId),
      ctx.call(
        'batonDeleteTree',
        [keys.task(sessionId, taskId), keys.roots(sessionId), keys.active(sessionId), keys.unindexed(sessionId), keys.session(sessionId)],
        [keys.sessionBase(sessionId), taskId],
      ),
    ]);
    const [code] = reply as [number, string[]];
    switch (code) {
      case ScriptCode.ok:
        await followTaskIndex(ctx, sessionId);
        return 'deleted';
      case ScriptCode.notFound:
        return 'not_found';
      case NOT_ROOT:
        return 'not_root';
      default:
        return 'not_terminal';
    }
  }
}
