import { Cluster } from 'ioredis';
import type { EngineContext } from '../engine-context';

/**
 * Makes task-index entries follow their tasks. The index (`taskIndex`) lives
 * outside the session's hash slot, so the scripts that close or delete a
 * tree cannot touch it: they put the task ids in the session's `unindexed`
 * set instead, and this drains it. Each entry gets what its task hash has:
 * the same remaining TTL, or deletion (with the task's BullMQ job) when the
 * hash is gone. Called right after those scripts; the reconciler calls it
 * again for every session it visits, which repairs a crash in between.
 * Idempotent. Returns how many ids it handled.
 */
export async function followTaskIndex(ctx: EngineContext, sessionId: string): Promise<number> {
  let handled = 0;
  for (;;) {
    const batch = await followBatch(ctx, sessionId, 1000);
    handled += batch;
    if (batch < 1000) return handled;
  }
}

/**
 * The same for one tree a script just closed, whose ids and deadline it
 * returned: no reads, every entry gets the deadline, then the ids leave the
 * unindexed set (after, so that a crash in between leaves them for the
 * reconciler). On one Redis server the commands go in one write: one
 * connection runs them in the order sent, so the SREM still runs last. On a
 * cluster the entries live on other masters than the set, where no order
 * holds across nodes: there, the SREM waits for the expiries (two round trips).
 */
export async function followClosedTree(ctx: EngineContext, sessionId: string, ids: string[], at: number): Promise<void> {
  const { redis, keys } = ctx;
  const expiries = Promise.all(ids.map((id) => redis.pexpireat(keys.taskIndex(id), at)));
  if (redis instanceof Cluster) {
    await expiries;
    await redis.srem(keys.unindexed(sessionId), ...ids);
    return;
  }
  await Promise.all([expiries, redis.srem(keys.unindexed(sessionId), ...ids)]);
}

async function followBatch(ctx: EngineContext, sessionId: string, count: number): Promise<number> {
  const { redis, keys } = ctx;
  const ids = await redis.srandmember(keys.unindexed(sessionId), count);
  if (ids.length === 0) return 0;
  const ttls = await Promise.all(ids.map((id) => redis.pttl(keys.task(sessionId, id))));
  await Promise.all(
    ids.map(async (id, i) => {
      const ttl = ttls[i]!;
      if (ttl === -2) {
        await redis.del(keys.taskIndex(id));
        // A job still locked by a stopping runner cannot go now; the age sweep removes it later.
        await ctx.queues
          .forSession(sessionId)
          .remove(id)
          .catch(() => 0);
      } else if (ttl >= 0) {
        await redis.pexpire(keys.taskIndex(id), Math.max(1, ttl));
      }
    }),
  );
  await redis.srem(keys.unindexed(sessionId), ...ids);
  return ids.length;
}
