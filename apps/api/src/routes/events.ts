import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import { EventStreamer } from '../http/event-streamer';
import { registerSseMetrics } from '../http/sse-metrics';
import { EventsQuerySchema, SessionParamsSchema } from '../http/schemas';
import { ownedSession } from './sessions';

const STREAM_ID = /^(0|\d+-\d+)$/;

/** GET /v1/sessions/{sessionId}/events: the session's engine events as Server-Sent Events. */
const eventRoutes: FastifyPluginAsyncZod<{ streams: { count: () => number }; registry?: Registry }> = async (app, { streams, registry }) => {
  const { sse } = app.config;
  const streamer = new EventStreamer(
    app.engine,
    {
      keepAliveMs: app.config.sseKeepAliveMs,
      maxStreams: sse.maxStreams,
      maxStreamsPerTenant: sse.maxStreamsPerTenant,
      readers: sse.redisReaders,
      clusterPollMs: sse.clusterPollMs,
    },
    app.log as unknown as Logger,
  );
  streams.count = () => streamer.openStreams;
  if (registry) registerSseMetrics(registry, streamer);
  app.addHook('preClose', async () => streamer.close());

  app.get(
    '/sessions/:sessionId/events',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Live session events (Server-Sent Events)',
        description:
          'One SSE message per engine event: `id:` the Redis stream id, `event:` the type, `data:` the event as JSON. ' +
          'Starts after `Last-Event-ID` (header) or `lastEventId` (query), else at the oldest retained event; ' +
          'sends `: keep-alive` comments while idle. When events after that id were trimmed (streams are capped by count ' +
          'and age), the first message is `event: reset` (data: JSON with `lastEventId`, `oldestEventId` and what to reload); ' +
          'its `id` is just before the oldest retained event, and the stream continues from that event. ' +
          'While a model response streams, `message.delta` events carry its pieces live (data: `{turn, grant, attempt, seq, text?, toolCalls?}`; ' +
          'show the highest (grant, attempt) seen, drop lower ones); they are deleted once the turn ends, so a replay sees `turn.completed` only. ' +
          'Open streams are capped per tenant and per API process: past a cap, 429 with Retry-After.',
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
          503: ProblemSchema,
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
      const release = streamer.admit(request.tenant);
      await streamer.serve(reply, request.params.sessionId, after, release);
    },
  );
};

export default eventRoutes;
