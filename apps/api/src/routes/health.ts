import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { bearerMatches } from '../http/authenticator';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import type { ApiMetrics } from '../http/metrics';
import { memoryHigh } from '../http/redis-unavailable';

const PING_TIMEOUT_MS = 1000;

/**
 * Probes and metrics, without the rate limit (orchestrators and scrapers call
 * them often). Probes need no auth; `/metrics` exists on this port only with
 * METRICS_TOKEN and needs it as a bearer token (or use METRICS_PORT).
 */
const healthRoutes: FastifyPluginAsyncZod<{ metrics: ApiMetrics; metricsToken: string | null }> = async (app, { metrics, metricsToken }) => {
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

  if (metricsToken === null) return;
  app.get(
    '/metrics',
    { config, schema: { tags: ['ops'], summary: 'Prometheus metrics (Authorization: Bearer METRICS_TOKEN)', security: [{ metricsToken: [] }], hide: false } },
    async (request, reply) => {
      if (!bearerMatches(request.headers.authorization, metricsToken)) {
        reply.header('www-authenticate', 'Bearer realm="baton-metrics"');
        throw new ApiError('UNAUTHORIZED', 'a valid "Authorization: Bearer <METRICS_TOKEN>" header is required');
      }
      const body = await metrics.render();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};

export default healthRoutes;
