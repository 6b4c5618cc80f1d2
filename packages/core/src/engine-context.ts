import { openRedis, type Connection, type RedisClient } from './connection';
import pino, { type Logger } from 'pino';
import { EngineOptionsSchema, type EngineOptions, type ResolvedEngineOptions } from './config';
import { Keys } from './keys';
import { QueueShards } from './queue-shards';

/**
 * Racepoints: hooks that production code awaits at known risky points, so a
 * test can widen a race window or simulate a crash there deterministically.
 */
export interface Racepoints {
  /** Between a lane script's dispatch and the BullMQ add of the dispatched roots. */
  beforeJobAdd?(sessionId: string, taskIds: string[]): Promise<void>;
  /** A task went `awaiting_input`; its runner has not yet moved the job to delayed. */
  beforeInputParkMove?(taskId: string): Promise<void>;
  /** A turn's usage is recorded (its roll-up pending in the session), not yet rolled up to the tenant and model totals. */
  beforeUsageRollup?(sessionId: string, rollupId: string): Promise<void>;
}

// Declared with the queues that carry it; still importable from here, where the runtime looks for it.
export type { JobData } from './queue-shards';

/**
 * The infrastructure the engine's parts share: one command connection, the
 * key schema, the task queues (one per shard), the resolved options and the logger. The
 * scripts (Scripts) and the stores are built by the Engine and handed to
 * what needs them.
 */
export class EngineContext {
  readonly options: ResolvedEngineOptions;
  readonly keys: Keys;
  readonly redis: RedisClient;
  readonly queues: QueueShards;
  readonly logger: Logger;
  readonly racepoints: Racepoints = {};

  constructor(
    readonly connection: Connection,
    options: EngineOptions = {},
    logger?: Logger,
  ) {
    this.options = EngineOptionsSchema.parse(options);
    this.keys = new Keys(this.options.prefix);
    this.logger = logger ?? pino({ name: 'baton', level: 'info' });
    this.redis = openRedis(connection, this.options.commandTimeoutMs === undefined ? undefined : { commandTimeoutMs: this.options.commandTimeoutMs });
    this.queues = new QueueShards(this.keys, this.options.queueShards, this.redis, this.jobOptions());
  }

  jobOptions() {
    // BullMQ removes finished jobs older than the retention when later jobs finish; the
    // reconciler's sweep removes the rest (a quiet queue finishes no later job).
    const ageSeconds = Math.ceil(this.options.retentionMs / 1000);
    return {
      attempts: this.options.jobAttempts,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: ageSeconds > 0 ? { age: ageSeconds, count: this.options.keepCompletedJobs } : { count: this.options.keepCompletedJobs },
      removeOnFail: { age: ageSeconds > 0 ? ageSeconds : 7 * 24 * 3600 },
    };
  }

  /** Makes root tasks BullMQ jobs; jobId = taskId, so a repeated dispatch is a no-op. */
  async addRootJobs(sessionId: string, taskIds: string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await this.racepoints.beforeJobAdd?.(sessionId, taskIds);
    const queue = this.queues.forSession(sessionId);
    // One root (every submission): one EVALSHA. addBulk builds an ioredis pipeline, whose constructor copies
    // every script defined on the connection (about 100, BullMQ's and Baton's) onto it: about 0.1 ms of CPU each time.
    if (taskIds.length === 1) {
      const taskId = taskIds[0]!;
      await queue.add('task', { taskId, sessionId }, { jobId: taskId });
      return;
    }
    await queue.addBulk(taskIds.map((taskId) => ({ name: 'task', data: { taskId, sessionId }, opts: { jobId: taskId } })));
  }

  async close(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
  }
}
