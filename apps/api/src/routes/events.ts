import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import { EventStreamer } from '../http/event-streamer';
import { EventsQuerySchema, SessionParamsSchema } from '../http/schemas';
import { ownedSession } from './sessions';

const STREAM_ID = /^(0|\d+-\d+)$/;

/** GET /v1/sessions/{sessionId}/events: the session's engine events as Server-Sent Events. */
const eventRoutes: FastifyPluginAsyncZod<{ streams: { count: () => number } }> = async (app, { streams }) => {
  const streamer = new EventStreamer(app.engine, app.config.sseKeepAliveMs);
  streams.count = () => streamer.openStreams;
  app.addHook('preClose', async () => streamer.closeAll());

  app.get(
    '/sessions/:sessionId/events',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Live session events (Server-Sent Events)',
        description:
          'One SSE message per engine event: `id:` the Redis stream id, `event:` the type, `data:` the event as JSON. ' +
          'Starts after `Last-Event-ID` (header) or `lastEventId` (query), else at the oldest retained event; ' +
          'sends `: keep-alive` comments while idle.',
        security: [{ bearer: [] }],
        params: SessionParamsSchema,
        querystring: EventsQuerySchema,
        headers: z.object({ 'last-event-id': z.string().optional() }),
        response: {
          200: z.string().describe('text/event-stream'),
          400: ProblemSchema,
          401: ProblemSchema,
          404: ProblemSchema,
          429: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id']?.trim();
      if (header !== undefined && header !== '' && !STREAM_ID.test(header)) {
        throw new ApiError('INVALID_INPUT', 'Last-Event-ID must be a stream id like 1700000000000-0');
      }
      const after = header || request.query.lastEventId || '0';
      await ownedSession(app.engine, request.params.sessionId, request.tenant);
      await streamer.serve(reply, request.params.sessionId, after);
    },
  );
};

export default eventRoutes;
