import { Engine, RedisMemoryMonitor, type RedisClient } from '@baton/core';
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

/** Resolves true once the connection is ready, false after `timeoutMs`. */
function connectionReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    redis.once('ready', onReady);
  });
}

/** App services: configuration, the engine (Redis) and the authenticator. */
export default fp<ServicesOptions>(
  async function services(app: FastifyInstance, opts: ServicesOptions) {
    const owned = !opts.engine;
    const engine =
      opts.engine ??
      new Engine(
        opts.config.redisUrl,
        {
          prefix: opts.config.prefix,
          commandTimeoutMs: opts.config.redisCommandTimeoutMs,
          maxQueuedRootsPerSession: opts.config.maxQueuedRootsPerSession,
          ...opts.config.engine,
        },
        opts.logger,
      );
    const redisMemory = new RedisMemoryMonitor(engine.redis, { high: opts.config.redisMemoryHigh, logger: engine.logger }).start();
    app.addHook('onClose', async () => redisMemory.stop());
    app.decorate('config', opts.config);
    app.decorate('engine', engine);
    app.decorate('authenticator', new Authenticator(opts.config.apiKeys));
    app.decorate('redisMemory', redisMemory);
    app.decorateRequest('tenant', '');
    if (owned) app.addHook('onClose', async () => engine.close());
    // Request commands fail fast (no offline queue): serving before the connection is ready would answer
    // the first requests 503. Wait for it, bounded: without Redis the API still starts, serves /healthz,
    // and answers 503 (readiness included) until Redis is back.
    if (owned && !(await connectionReady(engine.redis, opts.config.redisCommandTimeoutMs))) {
      engine.logger.warn(
        { waitedMs: opts.config.redisCommandTimeoutMs },
        'redis is not reachable yet; starting anyway (requests answer 503 until it is), without the QUEUE_SHARDS check: the workers make it',
      );
    } else if (owned) {
      // A QUEUE_SHARDS other than the deployment's while work is queued: refuse to start (INVALID_CONFIG).
      await engine.checkQueueShards().catch(async (err: unknown) => {
        // The app never becomes ready, so its onClose hooks may not run: release Redis here.
        redisMemory.stop();
        await engine.close();
        throw err;
      });
    }
  },
  { name: 'baton-services' },
);
