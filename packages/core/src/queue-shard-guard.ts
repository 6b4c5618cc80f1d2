import { Queue } from 'bullmq';
import type { EngineContext } from './engine-context';
import { BatonError } from './errors';
import { TASK_QUEUE } from './keys';

/** Job states that are work still to do (a finished job is history, not work). */
const LIVE_STATES = ['waiting', 'active', 'delayed', 'waiting-children', 'prioritized'] as const;

export type QueueShardsCheck = { kind: 'first' } | { kind: 'same' } | { kind: 'changed'; from: number };

/**
 * Changing QUEUE_SHARDS is refused while work is queued, and safe otherwise.
 *
 * Why refused: a session's shard is `hash(id) mod N`. With another N, a parent
 * job waiting for its children sits in the old shard while its children would
 * be added to the new one (a BullMQ flow may not span slots), and cancel,
 * pause and the reconciler would look for its jobs in the wrong queue.
 *
 * So the deployment's N is stored in Redis (`Keys.queueShardsConfig`) by the
 * first process to start, and every API and worker process checks it before
 * it serves: same N, go on; another N, go on only if no shard of the old or
 * the new layout holds a live job (waiting, active, delayed, waiting for
 * children: a task awaiting input or paused is a delayed job), then store the
 * new N and remove the queues the new layout no longer has (only finished jobs
 * are left in them). Roots queued in a session's lane have no job yet and are
 * dispatched to the new shard, so they do not block a change.
 *
 * A process that keeps running with the old N is not stopped by this check:
 * change N by stopping every API and worker process first (docs/deployment.md).
 */
export async function checkQueueShards(ctx: EngineContext): Promise<QueueShardsCheck> {
  const { redis, keys, queues } = ctx;
  const wanted = queues.count;
  const key = keys.queueShardsConfig();
  for (;;) {
    const stored = await redis.get(key);
    if (stored === null) {
      if ((await redis.set(key, String(wanted), 'NX')) === 'OK') return { kind: 'first' };
      continue; // another process stored first: check against its value
    }
    const from = Number(stored);
    if (!Number.isInteger(from) || from < 1) {
      throw new BatonError('INVALID_CONFIG', `${key} holds "${stored}", not a queue shard count: delete the key if no work is queued, then restart`);
    }
    if (from === wanted) return { kind: 'same' };

    const oldPrefixes = Array.from({ length: from }, (_, i) => keys.queuePrefixOf(i, from));
    const newPrefixes = Array.from({ length: wanted }, (_, i) => keys.queuePrefixOf(i, wanted));
    const all = [...new Set([...oldPrefixes, ...newPrefixes])];
    const live = await Promise.all(all.map((prefix) => withQueue(ctx, prefix, (q) => liveJobs(q))));
    const busy = all.map((prefix, i) => ({ prefix, jobs: live[i]! })).filter((s) => s.jobs > 0);
    if (busy.length > 0) {
      const total = busy.reduce((a, s) => a + s.jobs, 0);
      throw new BatonError(
        'INVALID_CONFIG',
        `QUEUE_SHARDS=${wanted}, but this deployment (prefix ${keys.prefix}) runs with QUEUE_SHARDS=${from} and its queues hold ` +
          `${total} unfinished job(s) (${busy.map((s) => `${s.prefix}: ${s.jobs}`).join(', ')}). A session's jobs must stay in one ` +
          `shard while they run, so N cannot change now. Either start with QUEUE_SHARDS=${from}, or let the work finish first: ` +
          `pause the sessions or stop submitting, wait until the queues hold no waiting, active or delayed job, stop every API ` +
          `and worker process, then start them all with QUEUE_SHARDS=${wanted}.`,
        { stored: from, wanted, liveJobs: total },
      );
    }
    // Compare-and-set: if another process changed N meanwhile, check again against its value.
    const previous = await redis.set(key, String(wanted), 'GET');
    if (previous !== stored) continue;
    // Queues of the old layout that the new one does not have hold finished jobs only: nothing would sweep them.
    const gone = oldPrefixes.filter((p) => !newPrefixes.includes(p));
    await Promise.all(gone.map((prefix) => withQueue(ctx, prefix, (q) => q.obliterate())));
    ctx.logger.warn({ from, to: wanted, removedQueues: gone }, 'QUEUE_SHARDS changed: no work was queued, the new shard count is stored');
    return { kind: 'changed', from };
  }
}

async function liveJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(...LIVE_STATES);
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function withQueue<T>(ctx: EngineContext, prefix: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  const queue = new Queue(TASK_QUEUE, { connection: ctx.redis, prefix });
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}
