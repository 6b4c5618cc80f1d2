import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiConfig } from '../env';
import { ApiError } from '../http/error-catalog';

/**
 * The rate-limit bucket of a request: its API key (so one tenant cannot use
 * up another's budget) or, without a key, its address. The key is hashed so
 * that secrets are not kept as map keys.
 */
function rateLimitKey(request: FastifyRequest): string {
  const auth = request.headers.authorization;
  if (auth) return `key:${createHash('sha256').update(auth).digest('hex').slice(0, 32)}`;
  return `ip:${request.ip}`;
}

/** Routes serving HTML with inline scripts and styles (docs, dashboard) get no CSP. */
export function relaxCsp(route: RouteOptions): void {
  route.config = { ...(route.config ?? {}), helmet: { contentSecurityPolicy: false } } as RouteOptions['config'];
}

/** External plugins, registered first: security headers, rate limit, OpenAPI. */
export default fp<{ config: ApiConfig }>(
  async function external(app: FastifyInstance, { config }) {
    await app.register(helmet, { global: true });

    // In-memory buckets: the limit holds per API process (and writes nothing to Redis).
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.windowMs,
      keyGenerator: rateLimitKey,
      errorResponseBuilder: (_request, ctx) =>
        new ApiError('RATE_LIMITED', `rate limit of ${ctx.max} requests per ${config.rateLimit.windowMs} ms reached; retry in ${ctx.after}`),
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Baton API',
          description: 'Durable orchestration of AI-agent sessions: submit, inspect, cancel, pause/resume, live events.',
          version: '0.1.0',
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A secret from API_KEYS' } },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });

    await app.register(async (docs) => {
      docs.addHook('onRoute', relaxCsp);
      await docs.register(swaggerUi, { routePrefix: '/docs' });
    });
  },
  { name: 'baton-external' },
);
