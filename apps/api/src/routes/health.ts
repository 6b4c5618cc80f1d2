import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import type { ApiMetrics } from '../http/metrics';
import { memoryHigh } from '../http/redis-unavailable';

const PING_TIMEOUT_MS = 1000;

/** Probes and metrics: no auth, no rate limit (orchestrators and scrapers call them often). */
const healthRoutes: FastifyPluginAsyncZod<{ metrics: ApiMetrics }> = async (app, { metrics }) => {
  const config = { rateLimit: false } as const;

  app.get(
    '/healthz',
    { config, schema: { tags: ['ops'], summary: 'Liveness: the process is up', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config,
      schema: {
        tags: ['ops'],
        summary: 'Readiness: Redis answers PING and its memory is below REDIS_MEMORY_HIGH of maxmemory',
        response: { 200: z.object({ status: z.literal('ready') }), 503: ProblemSchema },
      },
    },
    async () => {
      // The command connection fails fast, but a PING to a frozen server would wait for the command timeout.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
      });
      try {
        if (app.engine.redis.status !== 'ready') throw new Error(`redis connection ${app.engine.redis.status}`);
        await Promise.race([app.engine.redis.ping(), timeout]);
      } catch (err) {
        throw new ApiError('UNAVAILABLE', `redis is not reachable (${err instanceof Error ? err.message : String(err)})`, {}, { 'retry-after': '5' });
      } finally {
        clearTimeout(timer);
      }
      const reading = app.redisMemory.reading;
      if (reading && app.redisMemory.isHigh) throw memoryHigh(reading, app.redisMemory.high);
      return { status: 'ready' as const };
    },
  );

  app.get('/metrics', { config, schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};

export default healthRoutes;
