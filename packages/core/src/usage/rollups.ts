import { z } from 'zod';
import type { RedisClient } from '../connection';
import type { EngineContext } from '../engine-context';
import type { RollupReply } from '../scripts/usage-scripts';
import type { Scripts } from '../scripts/scripts';

/**
 * A committed turn's roll-up to the totals outside its session's slot: the
 * tenant's day and the per-model totals. record-usage-6 stores it in the
 * session's pending roll-ups in the same script that counts the turn, so a
 * crash before it is applied cannot lose it: the recording worker applies it
 * at once, and a replay of the turn or the reconciler applies whatever a
 * crash left. Each target refuses a second application of the same id (a
 * marker in its own slot), so applying again is always safe; the pending
 * entry is deleted only after both targets answered.
 */
export const RollupSchema = z.object({
  tenant: z.string().min(1),
  /** UTC day the turn was recorded on (the tenant's day it counts in). */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  model: z.string().min(1),
  tokens: z.object({ input: z.number().int().min(0), output: z.number().int().min(0), cached: z.number().int().min(0) }),
  costUsd: z.number().nullable(),
  /** TTL of the tenant's day key. */
  ttlSeconds: z.number().int().positive(),
  /** How long the targets remember this roll-up as applied (absent: ROLLUP_MARKER_TTL_S); see rollupMarkerTtlS. */
  markerTtlSeconds: z.number().int().positive().optional(),
});
export type Rollup = z.infer<typeof RollupSchema>;

/**
 * How long a target remembers an applied roll-up, at least. A pending entry is
 * deleted right after it is applied, so a second application can only come
 * from a crash in between or a racing drainer: a week covers both by far.
 *
 * The markers are grouped by the day the roll-up was recorded on (`day`
 * above, fixed when record-usage-6 stores the roll-up and carried with it
 * whenever it is applied: by the recording worker, a replay or the
 * reconciler, on that day or any later one), not by the day of application.
 * So every application of one id meets the same markers hash, and a turn
 * recorded just before midnight and applied again just after is refused like
 * any other: no need to look at two days. Each application pushes the
 * hash's expiry to this TTL, so an id is remembered at least 8 days after it
 * was applied.
 */
export const ROLLUP_MARKER_TTL_S = 8 * 24 * 3600;

/**
 * How long a deployment's markers must last: a roll-up can be applied again
 * only while its pending entry exists, and that entry lives in its session,
 * which expires RETENTION_MS after its last tree ends (and with it the entry);
 * while the session stays busy, the reconciler drains the entry within a
 * sweep. So the markers last RETENTION_MS, or ten reconciler intervals if
 * longer, and never more than ROLLUP_MARKER_TTL_S: finished work leaves
 * Redis with its retention, markers included (a task's id is a marker's field).
 * RETENTION_MS 0 keeps everything, markers ROLLUP_MARKER_TTL_S.
 */
export function rollupMarkerTtlS(retentionMs: number, reconcileIntervalMs: number): number {
  if (retentionMs <= 0) return ROLLUP_MARKER_TTL_S;
  return Math.min(ROLLUP_MARKER_TTL_S, Math.max(1, Math.ceil(Math.max(retentionMs, 10 * reconcileIntervalMs) / 1000)));
}

/** What applying roll-ups needs of an engine (an Engine has it all). */
export interface RollupParts {
  readonly scripts: Scripts;
  readonly redis: RedisClient;
  readonly ctx: EngineContext;
}

export interface AppliedRollup {
  tenant: RollupReply;
  model: RollupReply;
}

/**
 * Applies roll-up `id` of `sessionId` to both targets (each at most once), then forgets it:
 * now, or through `forget` (a runner carries the deletion on its next script; until then the
 * entry is only a pending roll-up that both targets would refuse again).
 */
export async function applyRollup(parts: RollupParts, sessionId: string, id: string, rollup: Rollup, forget?: (id: string) => void): Promise<AppliedRollup> {
  const { scripts, redis, ctx } = parts;
  // The two targets are independent (each in its own slot, each refusing a second application): sent together.
  const [tenant, model] = await Promise.all([
    scripts.tenantRollup({
      tenant: rollup.tenant,
      day: rollup.day,
      tokens: rollup.tokens,
      costUsd: rollup.costUsd,
      id,
      ttlSeconds: rollup.ttlSeconds,
      markerTtlSeconds: rollup.markerTtlSeconds ?? ROLLUP_MARKER_TTL_S,
    }),
    scripts.modelRollup({
      model: rollup.model,
      day: rollup.day,
      tokens: rollup.tokens,
      costUsd: rollup.costUsd,
      id,
      markerTtlSeconds: rollup.markerTtlSeconds ?? ROLLUP_MARKER_TTL_S,
    }),
  ]);
  if (forget) forget(id);
  else await redis.hdel(ctx.keys.ofSession(sessionId, 'rollups'), id);
  return { tenant, model };
}

/**
 * Applies every roll-up pending in `sessionId` (left by a crash between a
 * turn's record and its roll-up). Returns how many were applied now (those a
 * target refused as already applied are not counted). A malformed entry is
 * logged and left for an operator: never guessed.
 */
export async function drainRollups(parts: RollupParts, sessionId: string): Promise<number> {
  const pending = await parts.redis.hgetall(parts.ctx.keys.ofSession(sessionId, 'rollups'));
  let applied = 0;
  for (const [id, raw] of Object.entries(pending)) {
    let parsed: Rollup;
    try {
      parsed = RollupSchema.parse(JSON.parse(raw));
    } catch (err) {
      parts.ctx.logger.error({ sessionId, id, err }, 'malformed pending usage roll-up left in place');
      continue;
    }
    const done = await applyRollup(parts, sessionId, id, parsed);
    if (done.tenant.kind === 'applied' || done.model.kind === 'applied') applied++;
  }
  return applied;
}
