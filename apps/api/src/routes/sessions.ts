import type { Engine, Session } from '@baton/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import { PublicSessionSchema, SessionParamsSchema, toPublicSession } from '../http/schemas';

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
};

export default sessionRoutes;
