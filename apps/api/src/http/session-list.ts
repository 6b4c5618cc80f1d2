import { isTerminal, SessionStatusSchema, type Engine } from '@baton/core';
import { z } from 'zod';
import { PublicTaskSchema, toPublicTask, type PublicTask } from './schemas';

/** Shapes of `GET /v1/sessions` and `GET /v1/sessions/{id}/tasks` (the console's entry points). */

export const SessionListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Sessions per page, 1 to 100 (default 20)'),
  cursor: z.string().min(1).max(400).optional().describe('`nextCursor` of the previous page'),
});

export const ListedSessionSchema = z
  .object({
    id: z.string(),
    status: SessionStatusSchema,
    activeTaskId: z.string().nullable(),
    lastActivityAt: z.string().describe('When a root task was last submitted to the session (ISO 8601)'),
  })
  .meta({ id: 'ListedSession' });

export const SessionListSchema = z.object({ sessions: z.array(ListedSessionSchema), nextCursor: z.string().nullable() }).meta({ id: 'SessionList' });

export const SessionRootsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Root tasks, 1 to 100 (default 20)'),
});

export const SessionRootsSchema = z.object({ tasks: z.array(PublicTaskSchema) }).meta({ id: 'SessionRoots' });

/**
 * A session's root tasks, read from its roots set (score: +inf while the tree
 * is open, else its expiry, which follows its end): open trees first, newest
 * first, then finished trees, the most recently finished first.
 */
export async function sessionRoots(engine: Engine, sessionId: string, limit: number): Promise<PublicTask[]> {
  const ids = await engine.redis.zrange(engine.keys.roots(sessionId), '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, limit);
  const tasks = (await Promise.all(ids.map((id) => engine.getTask(id)))).filter((t) => t !== null);
  const open = tasks.filter((t) => !isTerminal(t.status)).sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  const done = tasks.filter((t) => isTerminal(t.status)).sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
  return [...open, ...done].map(toPublicTask);
}
