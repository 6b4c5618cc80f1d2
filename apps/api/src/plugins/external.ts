import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiConfig } from '../env';
import securityHeaders from './security-headers';

/** Routes serving HTML with inline scripts and styles (docs, dashboard) get no CSP. */
export function relaxCsp(route: RouteOptions): void {
  route.config = { ...(route.config ?? {}), helmet: { contentSecurityPolicy: false } } as RouteOptions['config'];
}

/** External plugins, registered first: security headers, OpenAPI (the rate limit needs Redis: plugins/rate-limit.ts). */
export default fp<{ config: ApiConfig }>(
  async function external(app: FastifyInstance) {
    await app.register(securityHeaders);

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Baton API',
          description: 'Durable orchestration of AI-agent sessions: submit, inspect, cancel, pause/resume, live events.',
          version: '0.1.0',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'A secret from API_KEYS' },
            metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (for /metrics only)' },
          },
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
