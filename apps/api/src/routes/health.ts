import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import type { ApiMetrics } from '../http/metrics';

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
      schema: { tags: ['ops'], summary: 'Readiness: Redis answers PING', response: { 200: z.object({ status: z.literal('ready') }), 503: ProblemSchema } },
    },
    async () => {
      // The engine's connection queues commands while Redis is away; do not wait for it.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
      });
      try {
        if (app.engine.redis.status !== 'ready') throw new Error(`redis connection ${app.engine.redis.status}`);
        await Promise.race([app.engine.redis.ping(), timeout]);
      } catch (err) {
        throw new ApiError('UNAVAILABLE', `redis is not reachable (${err instanceof Error ? err.message : String(err)})`);
      } finally {
        clearTimeout(timer);
      }
      return { status: 'ready' as const };
    },
  );

  app.get('/metrics', { config, schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};

export default healthRoutes;
