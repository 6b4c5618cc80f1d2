import type { Engine, Session } from '@baton/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import { PublicSessionSchema, SessionDeletionSchema, SessionParamsSchema, toPublicSession } from '../http/schemas';
import { SessionListQuerySchema, SessionListSchema, SessionRootsQuerySchema, SessionRootsSchema, sessionRoots } from '../http/session-list';

const security = [{ bearer: [] }];
const schema = (summary: string) => ({
  tags: ['sessions'],
  summary,
  security,
  params: SessionParamsSchema,
  response: { 200: PublicSessionSchema, 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 429: ProblemSchema, 503: ProblemSchema },
});

/**
 * A session exists once a task was submitted to it and belongs to that
 * tenant; before that, and for every other tenant, it is 404. (Pausing a
 * session nobody owns would let another tenant claim it paused.)
 */
export async function ownedSession(engine: Engine, sessionId: string, tenant: string): Promise<Session> {
  const session = await engine.getSession(sessionId);
  if (session.tenant !== tenant) throw new ApiError('SESSION_NOT_FOUND', `session ${sessionId} not found`);
  return session;
}

const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/sessions',
    {
      schema: {
        tags: ['sessions'],
        summary: "List the caller's sessions, newest activity first",
        description:
          'Activity is the last submission of a root task to the session. Paginated: pass `nextCursor` as `cursor` for the next page ' +
          '(null on the last page). A session submitted to while paging moves to the front (it may show twice or be skipped). ' +
          'Lists at most the 10,000 most recently active sessions per tenant; deleted and expired sessions are left out.',
        security,
        querystring: SessionListQuerySchema,
        response: { 200: SessionListSchema, 400: ProblemSchema, 401: ProblemSchema, 429: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => app.sessionIndex.page(request.tenant, request.query.limit, request.query.cursor),
  );

  app.get(
    '/sessions/:sessionId/tasks',
    {
      schema: {
        tags: ['sessions'],
        summary: "A session's root tasks: open trees first, then the most recently finished",
        description: 'Root tasks whose trees are retained (finished trees expire after RETENTION_MS); `GET /v1/tasks/{id}/tree` for their subtasks.',
        security,
        params: SessionParamsSchema,
        querystring: SessionRootsQuerySchema,
        response: { 200: SessionRootsSchema, 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 429: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      await ownedSession(app.engine, request.params.sessionId, request.tenant);
      return { tasks: await sessionRoots(app.engine, request.params.sessionId, request.query.limit) };
    },
  );

  app.get('/sessions/:sessionId', { schema: schema('Get a session: status, active root, queued roots') }, async (request) =>
    toPublicSession(await ownedSession(app.engine, request.params.sessionId, request.tenant)),
  );

  app.post(
    '/sessions/:sessionId/pause',
    { schema: { ...schema('Pause a session (idempotent): nothing is dispatched, running tasks park at their next turn') } },
    async (request) => {
      await ownedSession(app.engine, request.params.sessionId, request.tenant);
      return toPublicSession(await app.engine.pause(request.params.sessionId));
    },
  );

  app.post(
    '/sessions/:sessionId/resume',
    { schema: { ...schema('Resume a session (idempotent): parked tasks continue, the lane dispatches again') } },
    async (request) => {
      await ownedSession(app.engine, request.params.sessionId, request.tenant);
      return toPublicSession(await app.engine.resume(request.params.sessionId));
    },
  );

  app.delete(
    '/sessions/:sessionId',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Delete a session: cancel whatever runs, then delete all of its data',
        description:
          'Cancels every task of the session (like cancel: in-flight model requests are aborted), then deletes every key of the session: ' +
          'tasks, conversations, events, lane. 204 when everything is gone; 202 `{sessionId, state: "stopping"}` while a worker still ' +
          'holds one of its tasks (the deletion completes by itself once that runner stops; repeat the DELETE to follow it). ' +
          'Idempotent: once deleted, the session answers 404, forever (a later submit to the same id starts a new session).',
        security,
        params: SessionParamsSchema,
        response: {
          202: SessionDeletionSchema,
          204: z.undefined().describe('Deleted: every key of the session is gone'),
          400: ProblemSchema,
          401: ProblemSchema,
          404: ProblemSchema,
          429: ProblemSchema,
          503: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const { sessionId } = request.params;
      await ownedSession(app.engine, sessionId, request.tenant);
      const { state } = await app.engine.deleteSession(sessionId);
      switch (state) {
        case 'deleted':
          request.log.info({ sessionId }, 'session deleted');
          return reply.code(204).send();
        case 'stopping':
          return reply.code(202).send({ sessionId, state });
        case 'not_found':
          // Deleted by a concurrent request between the ownership check and ours.
          throw new ApiError('SESSION_NOT_FOUND', `session ${sessionId} not found`);
        default:
          return assertNever(state);
      }
    },
  );
};

function assertNever(value: never): never {
  throw new Error(`unexpected state ${String(value)}`);
}

export default sessionRoutes;
