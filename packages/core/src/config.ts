import { z } from 'zod';

/**
 * Highest MAX_DEPTH one may configure. Child ids stay within the 128 characters of an
 * id whatever the depth (see runtime/child-id.ts); the cap bounds the work of walking
 * a tree (cancel, tree reads) along one branch.
 */
export const MAX_DEPTH_CAP = 32;

/** Highest QUEUE_SHARDS: every shard is one more queue each worker polls. */
export const MAX_QUEUE_SHARDS = 64;

/** Engine options, parsed once (zod) when an Engine is built. */
export const EngineOptionsSchema = z.object({
  /** Key prefix; BullMQ uses `{prefix}` so its keys share one cluster slot. */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('baton'),
  /**
   * QUEUE_SHARDS: task queues, each with its own hash tag, so that on a Redis Cluster the
   * queues (about a quarter of the commands of a task) spread over the masters. A session's
   * jobs all go to one shard (shardOfSession). Same on every API and worker process.
   */
  queueShards: z.number().int().min(1).max(MAX_QUEUE_SHARDS).default(1),
  /** Roots of one session that may hold the lease at once (group concurrency). */
  sessionConcurrency: z.number().int().min(1).max(64).default(1),
  /** Events kept per session stream (approximate cap, MAXLEN ~). */
  eventsMaxLen: z.number().int().min(100).default(10_000),
  /** Events older than this leave the stream (approximate, MINID ~); 0 trims by count only. */
  eventsMaxAgeMs: z
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600_000),
  /**
   * How long a finished tree is kept: when a root and all its descendants are
   * terminal, every key of the tree (and, once nothing else is left, of its
   * session) expires this long after. 0 keeps everything forever.
   */
  retentionMs: z
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600_000),
  /** How long an idempotency key maps to its task. */
  idempotencyTtlMs: z
    .number()
    .int()
    .positive()
    .default(24 * 3600_000),
  /** Request-gate lease; the holder renews it every third of this while the call runs. */
  gateLeaseMs: z.number().int().min(200).default(15_000),
  /** Committed responses are kept this long after their task ends. */
  gateTtlMs: z
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600_000),
  /** BullMQ attempts for a task job (infrastructure failures; agent errors fail the task directly). */
  jobAttempts: z.number().int().min(1).default(5),
  /** Completed jobs kept in BullMQ (dashboard) before removal. */
  keepCompletedJobs: z.number().int().min(0).default(1000),
  /** Deepest subtask level: a root is depth 0, its subtasks 1, ...; a deeper spawn is refused (MAX_DEPTH_EXCEEDED). */
  maxDepth: z.number().int().min(1).max(MAX_DEPTH_CAP).default(8),
  /** Subtasks one task may spawn over its life; one more is refused (MAX_CHILDREN_EXCEEDED). */
  maxChildrenPerTask: z.number().int().min(1).max(10_000).default(100),
  /**
   * Roots waiting in one session's lane; a submission past it is refused (SESSION_QUEUE_FULL).
   * Also bounds the work of `onBusy: interrupt`, which cancels the whole lane in one script.
   */
  maxQueuedRootsPerSession: z.number().int().min(1).max(10_000).default(100),
  /**
   * Set (the API): the command connection fails fast, with no offline queue,
   * no retries, no resend after a reconnect, and commands rejected after this
   * long. Unset (workers): commands wait through Redis outages.
   */
  commandTimeoutMs: z.number().int().min(1).optional(),
});
export type EngineOptions = z.input<typeof EngineOptionsSchema>;
export type ResolvedEngineOptions = z.output<typeof EngineOptionsSchema>;
