import { loggerOptions, registerRedisMemoryMetrics, type Engine } from '@baton/core';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { ApiConfig } from './env';
import { ApiMetrics } from './http/metrics';
import { SessionIndex } from './http/session-index';
import { requireTenant } from './plugins/auth';
import errorHandler from './plugins/error-handler';
import external from './plugins/external';
import rateLimits from './plugins/rate-limit';
import services from './plugins/services';
import adminQueues from './routes/admin-queues';
import consoleRoutes from './routes/console';
import eventRoutes from './routes/events';
import fileRoutes from './routes/files';
import healthRoutes from './routes/health';
import sessionRoutes from './routes/sessions';
import taskRoutes from './routes/tasks';
import taskInputRoutes from './routes/task-input';
import usageRoutes from './routes/usage';

/** Body limit of every route: larger bodies are 413. */
export const BODY_LIMIT = 1024 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    /** The API's metrics (main.ts serves them on METRICS_PORT too). */
    metrics: ApiMetrics;
    /** Each tenant's sessions, newest activity first (`GET /v1/sessions`; written after a submission). */
    sessionIndex: SessionIndex;
  }
}

export interface AppDeps {
  /** Share an engine (tests run a worker on it); by default the app opens its own and closes it. */
  engine?: Engine;
  logger?: Logger;
}

export interface AppOptions {
  config: ApiConfig;
  deps?: AppDeps;
}

/**
 * The Baton API as a plugin (it never listens). Order: error handling and
 * body parsing, external plugins (helmet, swagger), services (engine, auth),
 * the rate limit (counted in Redis), then routes.
 */
export const batonApp = fp<AppOptions>(
  async function batonApp(app: FastifyInstance, { config, deps = {} }) {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(errorHandler);

    // JSON only (anything else is 415). An empty JSON body (e.g. `POST .../cancel` sent with a JSON content type) is "no body", not an error.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text === '') return done(null, undefined);
      parseJson(request, text, done);
    });

    await app.register(external, { config });
    await app.register(services, { config, ...(deps.engine ? { engine: deps.engine } : {}), ...(deps.logger ? { logger: deps.logger } : {}) });
    await app.register(rateLimits, { config });
    const sessionIndex = new SessionIndex(app.engine, { ttlMs: app.engine.ctx.options.retentionMs });
    app.decorate('sessionIndex', sessionIndex);
    // Before the engine's connection closes (onClose): the last batch of session activity goes out.
    app.addHook('preClose', () => sessionIndex.flush());

    const streams = { count: () => 0 };
    const metrics = new ApiMetrics(app.engine, () => streams.count());
    app.decorate('metrics', metrics);
    registerRedisMemoryMetrics(metrics.registry, app.redisMemory);
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });

    app.get('/openapi.json', { config: { rateLimit: false }, schema: { hide: true } }, async () => app.swagger());
    await app.register(healthRoutes, { metrics, metricsToken: config.metrics.token });
    await app.register(
      async (v1) => {
        requireTenant(v1);
        await v1.register(taskRoutes);
        await v1.register(taskInputRoutes);
        await v1.register(sessionRoutes);
        await v1.register(usageRoutes);
        await v1.register(eventRoutes, { streams, registry: metrics.registry });
        await v1.register(fileRoutes, { files: config.files });
      },
      { prefix: '/v1' },
    );
    if (config.dashboard) await app.register(adminQueues, config.dashboard);
    await app.register(consoleRoutes);

    if (!app.authenticator.open) app.log.info({ tenants: config.apiKeys.map((k) => k.tenant) }, 'API keys configured');
    else app.log.warn({ host: config.host }, 'API_AUTH=none: the API is open to anyone who can reach it, as the single tenant "default"');
    if (!config.dashboard) app.log.info('DASHBOARD_PASSWORD is not set: /admin/queues is disabled');
    if (!config.metrics.token) app.log.info('METRICS_TOKEN is not set: /metrics is not served on the API port');
  },
  { name: 'baton-app' },
);

/** Builds the app (tests call this and use `inject`; main.ts adds timeouts and listens). */
export async function buildApp(config: ApiConfig, deps: AppDeps = {}, server: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // Ids are up to 128 characters; longer ones must reach the schema (400), not the router's limit (414).
    routerOptions: { maxParamLength: 512 },
    trustProxy: config.trustProxy,
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: loggerOptions('baton-api', config.logLevel) }),
    ...server,
  }).withTypeProvider<ZodTypeProvider>();
  await app.register(batonApp, { config, deps });
  await app.ready();
  return app;
}
