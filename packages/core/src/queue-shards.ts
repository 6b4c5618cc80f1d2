import { createHash } from 'node:crypto';
import { Queue, type DefaultJobOptions } from 'bullmq';
import type { RedisClient } from './connection';
import { TASK_QUEUE, type Keys } from './keys';

/** What a task's BullMQ job carries: the rest is in the task's own hash. */
export interface JobData {
  taskId: string;
  sessionId: string;
}

/**
 * The queue shard of a session: the first 32 bits of the SHA-256 of its id,
 * modulo the shard count. A pure function of the id, so every process (API,
 * workers, reconciler) agrees without asking Redis; SHA-256 rather than a
 * language's string hash so that a port to another runtime agrees too.
 */
export function shardOfSession(sessionId: string, shards: number): number {
  if (shards <= 1) return 0;
  return createHash('sha256').update(sessionId).digest().readUInt32BE(0) % shards;
}

/**
 * The task queues of a deployment: QUEUE_SHARDS BullMQ queues named `tasks`,
 * each under its own hash-tagged prefix (Keys.queuePrefixOf), so that on a
 * Redis Cluster they live on different masters. A session's jobs all go to
 * the queue of its shard: a root, its subtasks (BullMQ flows may not span
 * slots) and a root re-added by the reconciler.
 */
export class QueueShards {
  readonly queues: readonly Queue<JobData>[];

  constructor(
    keys: Keys,
    readonly count: number,
    connection: RedisClient,
    defaultJobOptions: DefaultJobOptions,
  ) {
    this.queues = Array.from(
      { length: count },
      (_, shard) => new Queue<JobData>(TASK_QUEUE, { connection, prefix: keys.queuePrefixOf(shard, count), defaultJobOptions }),
    );
  }

  shardOf(sessionId: string): number {
    return shardOfSession(sessionId, this.count);
  }

  /** The queue holding the jobs of a session. */
  forSession(sessionId: string): Queue<JobData> {
    return this.queues[this.shardOf(sessionId)]!;
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
