import { z } from 'zod';
import { EMPTY_USAGE, UsageSchema } from './usage';

/**
 * Session states. Not a transition table: the status is derived, inside the
 * scripts that change a session, from what it holds (includes/dispatch sets
 * idle or running from its lease and lane; set-paused sets and clears paused),
 * so any state may follow any other.
 * - idle:    no root tree holds the lease; the lane is empty.
 * - running: at least one root tree holds the lease (or waits in the lane).
 * - paused:  nothing is dispatched; running tasks park at their next turn boundary.
 */
export const SessionStatus = { idle: 'idle', running: 'running', paused: 'paused' } as const;
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus];
export const SessionStatusSchema = z.enum(['idle', 'running', 'paused']);

export const SessionSchema = z.object({
  id: z.string(),
  status: SessionStatusSchema,
  activeTaskId: z.string().nullable(),
  activeTaskIds: z.array(z.string()),
  queuedTaskIds: z.array(z.string()),
  /** Tokens of the session's committed turns (all its trees). */
  usage: UsageSchema.default(EMPTY_USAGE),
  /** USD of its priced turns; null when every turn was unpriced. */
  cost: z.number().nonnegative().nullable().default(0),
});
export type Session = z.infer<typeof SessionSchema>;
