import { Engine } from '@baton/core';
import { cleanupPrefix, REDIS_URL, testPrefix, waitUntil } from '@baton/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { SseClient } from '../test-utils/sse-client';
import { EventStreamer } from './event-streamer';

/**
 * The streamer behind a bare Fastify route, over real HTTP and real Redis:
 * subscriptions released when clients go, and a client that stops reading
 * (its socket buffers fill up) leaves the shared reader, catches up on its
 * own later, and is told `reset` if its position was trimmed meanwhile,
 * while the other clients of the session keep receiving.
 */
const logger = pino({ level: 'silent' });
let prefix: string;
let engine: Engine;
let redis: Redis;
let streamer: EventStreamer;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  prefix = testPrefix('streamer');
  engine = new Engine(REDIS_URL, { prefix }, logger);
  redis = new Redis(REDIS_URL);
  streamer = new EventStreamer(
    engine,
    { keepAliveMs: 60_000, maxStreams: 100, maxStreamsPerTenant: 100, readers: 1, clusterPollMs: 200, blockMs: 60_000 },
    logger,
  );
  app = Fastify();
  app.get<{ Params: { sessionId: string } }>('/events/:sessionId', async (request, reply) => {
    const release = streamer.admit('t');
    const after = request.headers['last-event-id'];
    await streamer.serve(reply, request.params.sessionId, typeof after === 'string' ? after : '0', release);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await streamer.close();
  await app.close();
  await engine.close();
  redis.disconnect();
  await cleanupPrefix(prefix);
});

/** Appends `n` events (the engine's fields) to a session's stream in one pipeline; returns their ids. */
async function appendMany(sessionId: string, n: number, payload = ''): Promise<string[]> {
  const pipeline = redis.pipeline();
  for (let i = 0; i < n; i++) {
    pipeline.xadd(engine.keys.events(sessionId), '*', 'type', 'turn.completed', 'task', 't', 'at', String(Date.now()), 'data', JSON.stringify({ i, payload }));
  }
  return ((await pipeline.exec()) ?? []).map(([, id]) => id as string);
}

const open = async (sessionId: string) => {
  const stream = await SseClient.open(`${base}/events/${sessionId}`);
  await stream.waitFor((f) => f.comment === 'connected');
  return stream;
};

describe('EventStreamer', () => {
  test('clients that leave release their stream and their hub subscription', async () => {
    const sessions = ['lk-1', 'lk-2', 'lk-3', 'lk-4'];
    for (const s of sessions) await appendMany(s, 1);
    const streams = await Promise.all(sessions.flatMap((s) => [open(s), open(s), open(s)]));
    await Promise.all(streams.map((s) => s.waitFor((f) => f.event === 'turn.completed')));
    await waitUntil(() => streamer.liveStreams === 12, 5000);
    expect(streamer.openStreams).toBe(12);
    for (const s of streams) s.close();
    await waitUntil(() => streamer.openStreams === 0 && streamer.liveStreams === 0, 5000);
    expect(streamer.redisConnections).toBe(1);
  });

  test('a client that stops reading does not hold up the others; it catches up in order, with a reset past trimmed events', async () => {
    const [first] = await appendMany('slow', 1);
    const fast = await open('slow');
    const slow = await open('slow');
    await Promise.all([fast, slow].map((s) => s.waitFor((f) => f.id === first)));
    slow.pause();

    // Enough bytes to fill the loopback socket buffers many times over.
    const ids = await appendMany('slow', 6000, 'x'.repeat(2000));
    await fast.waitFor((f) => f.id === ids[ids.length - 1]);
    expect(fast.events.map((e) => e.id)).toEqual([first, ...ids]);
    // The slow one left the shared reader instead of buffering without bound.
    await waitUntil(() => streamer.liveStreams === 1, 5000);
    const received = slow.events.length;
    expect(received).toBeLessThan(ids.length);

    // Meanwhile the stream is trimmed past the slow client's position.
    await redis.xtrim(engine.keys.events('slow'), 'MAXLEN', 100);
    const kept = ids.slice(-100);
    slow.resume();
    await slow.waitFor((f) => f.id === kept[kept.length - 1]);
    const frames = slow.events;
    const resetAt = frames.findIndex((e) => e.event === 'reset');
    expect(resetAt).toBeGreaterThan(0);
    const before = frames.slice(0, resetAt).map((e) => e.id);
    expect(before).toEqual([first, ...ids].slice(0, before.length)); // contiguous up to the gap
    expect(frames[resetAt]!.data).toMatchObject({ lastEventId: before[before.length - 1], oldestEventId: kept[0] });
    expect(frames.slice(resetAt + 1).map((e) => e.id)).toEqual(kept);
    // And it is live again.
    await waitUntil(() => streamer.liveStreams === 2, 5000);
    const [next] = await appendMany('slow', 1);
    await Promise.all([fast, slow].map((s) => s.waitFor((f) => f.id === next)));
    fast.close();
    slow.close();
  });

  test('a session that outruns the shared reader by a full page is caught up by its streams, in order', async () => {
    // A hub reading 10 entries per stream and read: 500 events at once put it pages behind.
    const small = new EventStreamer(
      engine,
      { keepAliveMs: 60_000, maxStreams: 10, maxStreamsPerTenant: 10, readers: 1, clusterPollMs: 200, blockMs: 60_000, count: 10 },
      logger,
    );
    const smallApp = Fastify();
    smallApp.get<{ Params: { sessionId: string } }>('/events/:sessionId', async (request, reply) => {
      await small.serve(reply, request.params.sessionId, '0', small.admit('t'));
    });
    await smallApp.listen({ host: '127.0.0.1', port: 0 });
    try {
      const [first] = await appendMany('burst', 1);
      const streams = await Promise.all(
        [1, 2, 3].map(() => SseClient.open(`http://127.0.0.1:${(smallApp.server.address() as AddressInfo).port}/events/burst`)),
      );
      await Promise.all(streams.map((s) => s.waitFor((f) => f.id === first)));
      await waitUntil(() => small.liveStreams === 3, 5000);
      const ids = await appendMany('burst', 500);
      await Promise.all(streams.map((s) => s.waitFor((f) => f.id === ids[ids.length - 1])));
      for (const s of streams) {
        expect(s.events.map((e) => e.id)).toEqual([first, ...ids]);
        s.close();
      }
    } finally {
      await small.close();
      await smallApp.close();
    }
  });

  test('close() ends every stream', async () => {
    await appendMany('end', 1);
    const streams = [await open('end'), await open('end-2')];
    await streamer.close();
    await Promise.all(streams.map((s) => s.ended.promise));
    expect(streamer.openStreams).toBe(0);
    expect(streamer.redisConnections).toBe(0);
  });
});
