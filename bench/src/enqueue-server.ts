/**
 * Process entry for benchmark 4: serves `POST /v1/sessions/:sessionId/tasks`
 * either through Baton's API (`buildApp`, everything on: helmet, rate limit
 * raised out of the way, auth open, zod schemas, metrics hook, engine.submit,
 * the mode catalogue published as a worker would)
 * or through a minimal Fastify route that only calls `queue.add`.
 * argv: <baton|plain> <prefix>. Sends `{ready, port}` over IPC; exits on disconnect.
 */
import { buildApp } from '@baton/api';
import { Keys, publishModeCatalog } from '@baton/core';
import { parseEnv } from '@baton/api/dist/env';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';

async function main(): Promise<void> {
  const [side, prefix] = process.argv.slice(2);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!prefix || (side !== 'baton' && side !== 'plain')) throw new Error('usage: enqueue-server <baton|plain> <prefix>');
  let app: FastifyInstance;
  let queue: Queue | undefined;
  if (side === 'baton') {
    const config = parseEnv({
      REDIS_URL: redisUrl,
      BATON_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      API_AUTH: 'none',
      RATE_LIMIT_MAX: '1000000',
      HOST: '127.0.0.1',
      PORT: '0',
    });
    app = await buildApp(config, { logger: pino({ level: 'silent' }) });
    // As a deployment's workers do at start: without a catalogue the API re-reads it on every submission.
    const redis = new Redis(redisUrl);
    await publishModeCatalog(redis, new Keys(prefix), [{ slug: 'code', name: 'Code' }]);
    redis.disconnect();
  } else {
    queue = new Queue('tasks', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix: `{${prefix}}` });
    const q = queue;
    app = Fastify({ logger: false });
    app.post<{ Params: { sessionId: string }; Body: { prompt: string; mode?: string } }>('/v1/sessions/:sessionId/tasks', async (request, reply) => {
      const job = await q.add('task', { sessionId: request.params.sessionId, prompt: request.body.prompt, mode: request.body.mode ?? 'orchestrator' });
      return reply.code(201).send({ id: job.id });
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.on('disconnect', () => {
    void (async () => {
      await app.close();
      await queue?.close();
      process.exit(0);
    })();
  });
  process.send?.({ ready: true, port });
}

main().catch((err: unknown) => {
  process.stderr.write(`enqueue-server: ${String(err)}\n`);
  process.exit(1);
});
