import { Engine, RedisMemoryMonitor } from '@baton/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { ApiConfig } from '../env';
import { Authenticator } from '../http/authenticator';

declare module 'fastify' {
  interface FastifyInstance {
    config: ApiConfig;
    engine: Engine;
    authenticator: Authenticator;
    /** Redis memory against REDIS_MEMORY_HIGH, read once a second (readiness, submissions, metrics). */
    redisMemory: RedisMemoryMonitor;
  }
  interface FastifyRequest {
    /** The caller's tenant, set by the /v1 auth hook. */
    tenant: string;
  }
}

export interface ServicesOptions {
  config: ApiConfig;
  /** An engine to use (tests share one with an in-process worker); otherwise one is opened and closed here. */
  engine?: Engine;
  logger?: Logger;
}

/** App services: configuration, the engine (Redis) and the authenticator. */
export default fp<ServicesOptions>(
  async function services(app: FastifyInstance, opts: ServicesOptions) {
    const owned = !opts.engine;
    const engine =
      opts.engine ?? new Engine(opts.config.redisUrl, { prefix: opts.config.prefix, commandTimeoutMs: opts.config.redisCommandTimeoutMs }, opts.logger);
    const redisMemory = new RedisMemoryMonitor(engine.redis, { high: opts.config.redisMemoryHigh, logger: engine.logger }).start();
    app.addHook('onClose', async () => redisMemory.stop());
    app.decorate('config', opts.config);
    app.decorate('engine', engine);
    app.decorate('authenticator', new Authenticator(opts.config.apiKeys));
    app.decorate('redisMemory', redisMemory);
    app.decorateRequest('tenant', '');
    if (owned) app.addHook('onClose', async () => engine.close());
  },
  { name: 'baton-services' },
);
