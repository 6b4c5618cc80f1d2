import { z } from 'zod';

/** Engine options, parsed once (zod) when an Engine is built. */
export const EngineOptionsSchema = z.object({
  /** Key prefix; BullMQ uses `{prefix}` so its keys share one cluster slot. */
  prefix: z.string().regex(/^[A-Za-z0-9._-]+$/).default('baton'),
  /** Roots of one session that may hold the lease at once (group concurrency). */
  sessionConcurrency: z.number().int().min(1).max(64).default(1),
  /** Events kept per session stream (approximate cap, MAXLEN ~). */
  eventsMaxLen: z.number().int().min(100).default(10_000),
  /** How long an idempotency key maps to its task. */
  idempotencyTtlMs: z.number().int().positive().default(24 * 3600_000),
  /** Request-gate lease; the holder renews it every third of this while the call runs. */
  gateLeaseMs: z.number().int().min(200).default(15_000),
  /** Committed responses are kept this long after their task ends. */
  gateTtlMs: z.number().int().min(0).default(7 * 24 * 3600_000),
  /** BullMQ attempts for a task job (infrastructure failures; agent errors fail the task directly). */
  jobAttempts: z.number().int().min(1).default(5),
  /** Completed jobs kept in BullMQ (dashboard) before removal. */
  keepCompletedJobs: z.number().int().min(0).default(1000),
  /**
   * Set (the API): the command connection fails fast, with no offline queue,
   * no retries, no resend after a reconnect, and commands rejected after this
   * long. Unset (workers): commands wait through Redis outages.
   */
  commandTimeoutMs: z.number().int().min(1).optional(),
});
export type EngineOptions = z.input<typeof EngineOptionsSchema>;
export type ResolvedEngineOptions = z.output<typeof EngineOptionsSchema>;
