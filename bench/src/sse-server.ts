/**
 * Process entry for the SSE benchmark: serves `GET /v1/sessions/:sessionId/events`
 * either through Baton's API (`buildApp`: every stream shares the event hub's
 * Redis readers) or the way the API did before the hub, as the baseline: one
 * duplicated Redis connection per stream, blocked in its own XREAD.
 * argv: <baton|per-stream> <prefix> <api key of tenant `bench`>. Sends `{ready, port}` over IPC; answers
 * `{cmd: 'memory'}` with RSS and heap after a full GC; exits on disconnect.
 */
import { buildApp } from '@baton/api';
import { parseEnv } from '@baton/api/dist/env';
import { Engine } from '@baton/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function perStreamServer(engine: Engine): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get<{ Params: { sessionId: string } }>('/v1/sessions/:sessionId/events', async (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(': connected\n\n');
    const connection = engine.redis.duplicate();
    connection.on('error', () => undefined);
    let closed = false;
    res.on('close', () => {
      closed = true;
      connection.disconnect();
    });
    let after = '0';
    try {
      while (!closed) {
        const events = await engine.events.waitFor(connection, request.params.sessionId, after, 15_000);
        if (closed) break;
        if (events.length > 0) after = events[events.length - 1]!.id;
        const chunk = events.length === 0 ? ': keep-alive\n\n' : events.map((e) => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
        if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
    } catch {
      // the connection was closed under the pending XREAD
    }
  });
  return app;
}

async function main(): Promise<void> {
  const [side, prefix, key] = process.argv.slice(2);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!prefix || !key || (side !== 'baton' && side !== 'per-stream')) throw new Error('usage: sse-server <baton|per-stream> <prefix> <key>');
  const logger = pino({ level: 'silent' });
  let engine: Engine | undefined;
  let app: FastifyInstance;
  if (side === 'baton') {
    const config = parseEnv({
      REDIS_URL: redisUrl,
      BATON_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_MAX: '1000000',
      HOST: '127.0.0.1',
      PORT: '0',
      API_KEYS: `bench:${key}`,
      SSE_MAX_STREAMS_PER_TENANT: '100000',
      SSE_MAX_STREAMS: '100000',
    });
    app = await buildApp(config, { logger });
  } else {
    engine = new Engine(redisUrl, { prefix }, logger);
    app = perStreamServer(engine);
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.on('message', (msg: { id?: number; cmd?: string }) => {
    if (msg.cmd !== 'memory') return;
    gc();
    const { rss, heapUsed } = process.memoryUsage();
    process.send?.({ id: msg.id, result: { rss, heapUsed } });
  });
  process.on('disconnect', () => {
    void (async () => {
      await app.close();
      await engine?.close();
      process.exit(0);
    })();
  });
  process.send?.({ ready: true, port });
}

main().catch((err: unknown) => {
  process.stderr.write(`sse-server: ${String(err)}\n`);
  process.exit(1);
});
