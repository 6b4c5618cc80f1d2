import { Engine } from '@baton/core';
import { RedisServer, testPrefix } from '@baton/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { SseClient } from '../test-utils/sse-client';
import { EventStreamer } from './event-streamer';

/**
 * Redis crashes and comes back (AOF on a private redis-server) under open
 * event streams: the streams stay open (keep-alives go on), the shared reader
 * reconnects, and events written after the restart reach every stream, in
 * order, with nothing lost or repeated.
 */
const logger = pino({ level: 'silent' });
let redis: RedisServer;
let engine: Engine;
let streamer: EventStreamer;
let app: FastifyInstance;
let writer: Redis;

beforeAll(async () => {
  redis = await RedisServer.start('hub-outage', ['--appendonly', 'yes', '--appendfsync', 'always']);
  engine = new Engine(redis.url, { prefix: testPrefix('outage') }, logger);
  writer = new Redis(redis.url, { maxRetriesPerRequest: null });
  writer.on('error', () => undefined);
  streamer = new EventStreamer(
    engine,
    { keepAliveMs: 100, maxStreams: 100, maxStreamsPerTenant: 100, readers: 2, clusterPollMs: 200, blockMs: 60_000 },
    logger,
  );
  app = Fastify();
  app.get<{ Params: { sessionId: string } }>('/events/:sessionId', async (request, reply) => {
    await streamer.serve(reply, request.params.sessionId, '0', streamer.admit('t'));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await streamer.close();
  await app.close();
  await engine.close();
  writer.disconnect();
  await redis.destroy();
});

const append = (sessionId: string, n: number) =>
  writer.xadd(
    engine.keys.events(sessionId),
    '*',
    'type',
    'turn.completed',
    'task',
    't',
    'at',
    String(Date.now()),
    'data',
    JSON.stringify({ n }),
  ) as Promise<string>;

test('open streams survive a Redis crash and restart, and get the events written after it', async () => {
  const sessions = ['o-1', 'o-2', 'o-3', 'o-4'];
  const before = await Promise.all(sessions.map((s) => append(s, 1)));
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const streams = await Promise.all(sessions.map((s) => SseClient.open(`${base}/events/${s}`)));
  await Promise.all(streams.map((s, i) => s.waitFor((f) => f.id === before[i])));

  await redis.restart();
  // Still open: keep-alives continue while the reader reconnects.
  const marks = streams.map((s) => s.frames.length);
  await Promise.all(streams.map((s, i) => s.waitFor((f) => f.comment === 'keep-alive' && s.frames.indexOf(f) >= marks[i]!)));

  const after = await Promise.all(sessions.map((s) => append(s, 2)));
  await Promise.all(streams.map((s, i) => s.waitFor((f) => f.id === after[i])));
  for (const [i, s] of streams.entries()) {
    expect(s.events.map((e) => e.id)).toEqual([before[i], after[i]]);
    s.close();
  }
  expect(streamer.redisConnections).toBeLessThanOrEqual(2);
});
