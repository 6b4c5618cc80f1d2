import { registerRedisMemoryMetrics, RedisMemoryMonitor } from '@baton/core';
import { REDIS_URL, testPrefix } from '@baton/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildApp } from './app';
import { parseEnv } from './env';

const AUTH = { authorization: 'Bearer down-secret-0001' };

describe('Redis unreachable', () => {
  it('every route answers 503 problem+json with Retry-After at once, never 500', async () => {
    const config = parseEnv({
      REDIS_URL: 'redis://127.0.0.1:1',
      BATON_PREFIX: testPrefix('down'),
      API_KEYS: 'down:down-secret-0001',
      LOG_LEVEL: 'silent',
      REDIS_COMMAND_TIMEOUT_MS: '300',
    });
    const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
    app.engine.redis.on('error', () => undefined);
    try {
      const requests = [
        { method: 'POST' as const, url: '/v1/sessions/s1/tasks', payload: { prompt: 'hello' } },
        { method: 'GET' as const, url: '/v1/tasks/t_1' },
        { method: 'GET' as const, url: '/v1/tasks/t_1/tree' },
        { method: 'POST' as const, url: '/v1/tasks/t_1/cancel' },
        { method: 'GET' as const, url: '/v1/sessions/s1' },
        { method: 'POST' as const, url: '/v1/sessions/s1/pause' },
      ];
      for (const request of requests) {
        const started = Date.now();
        const res = await app.inject({ ...request, headers: AUTH });
        expect({ url: request.url, status: res.statusCode }).toEqual({ url: request.url, status: 503 });
        expect(Date.now() - started).toBeLessThan(1000);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.json()).toMatchObject({
          code: 'REDIS_UNAVAILABLE',
          reason: 'unreachable',
          outcome: 'not_applied',
          type: 'urn:baton:problem:redis-unavailable',
        });
      }
    } finally {
      app.engine.redis.disconnect();
      await app.close();
    }
  });
});

describe('Redis memory metrics', () => {
  it('exports the cached reading (no Redis command per scrape) and the mark', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const monitor = new RedisMemoryMonitor(redis, { high: 0.8 });
      const registry = new Registry();
      registerRedisMemoryMetrics(registry, monitor);
      expect(await registry.metrics()).toMatch(/^baton_redis_memory_high_ratio 0\.8$/m);
      const reading = await monitor.refresh();
      const text = await registry.metrics();
      expect(text).toMatch(new RegExp(`^baton_redis_used_memory_bytes ${reading.usedBytes}$`, 'm'));
      expect(text).toMatch(new RegExp(`^baton_redis_maxmemory_bytes ${reading.maxBytes}$`, 'm'));
      expect(text).toMatch(new RegExp(`^baton_redis_memory_ratio ${reading.ratio}$`, 'm'));
    } finally {
      await redis.quit();
    }
  });
});
