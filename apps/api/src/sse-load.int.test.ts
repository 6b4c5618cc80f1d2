import { API_MAIN, ensureBuilt, RedisServer, startApi, testPrefix, type ApiProcess } from '@baton/testkit';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SseClient } from './test-utils/sse-client';

/**
 * Load: 1,000 concurrent event streams (real HTTP connections from this
 * process) on one built API process (`node apps/api/dist/main.js`), on a Redis
 * of its own so that connection counts are exact. Prints the API process's
 * memory and the Redis connections before and with the streams; asserts that
 * the streams added at most SSE_REDIS_READERS connections, and that a live
 * event of every session reached each of its streams.
 */
const STREAMS = 1000;
const SESSIONS = 100;
const READERS = 1;
const KEY = 'load-secret-0001';
const auth = { authorization: `Bearer ${KEY}` };

let redis: RedisServer;
let api: ApiProcess;
let probe: Redis;

const METRICS = 'sse-load-metrics-token';

beforeAll(async () => {
  ensureBuilt(API_MAIN, resolve(__dirname, '..'));
  // maxclients above the default 10,000 - 32: 1,000 streams must not be what runs out.
  redis = await RedisServer.start('sse-load', ['--appendonly', 'no', '--maxclients', '10000']);
  probe = new Redis(redis.url);
  api = await startApi(testPrefix('sse-load'), {
    REDIS_URL: redis.url,
    API_KEYS: `load:${KEY}`,
    METRICS_TOKEN: METRICS,
    RATE_LIMIT_MAX: '1000000',
    SSE_REDIS_READERS: String(READERS),
    SSE_MAX_STREAMS_PER_TENANT: String(STREAMS),
  });
});
afterAll(async () => {
  await api?.stop();
  probe?.disconnect();
  await redis?.destroy();
});

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

async function heapBytes(): Promise<number | null> {
  const res = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
  if (res.status !== 200) return null;
  return Number(/baton_api_nodejs_heap_size_used_bytes (\d+)/.exec(await res.text())?.[1] ?? NaN);
}

async function redisConnections(): Promise<{ total: number; sse: number }> {
  const list = String(await probe.call('CLIENT', 'LIST'))
    .trim()
    .split('\n');
  // Everything but this probe's own connection.
  return { total: list.length - 1, sse: list.filter((l) => / name=baton-api-sse /.test(l)).length };
}

const submit = async (sessionId: string, prompt: string) => {
  const res = await fetch(`${api.url}/v1/sessions/${sessionId}/tasks`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

const mib = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

test(`${STREAMS} concurrent SSE streams on one API process use at most ${READERS} Redis connection(s) more`, async () => {
  const sessions = Array.from({ length: SESSIONS }, (_, i) => `load-${i}`);
  for (const s of sessions) await submit(s, 'first');
  const before = { connections: await redisConnections(), rss: rssBytes(api.pid), heap: await heapBytes() };

  const started = Date.now();
  const streams: SseClient[] = [];
  // In batches, so that the listen backlog never overflows (that measures the kernel, not the API).
  for (let i = 0; i < STREAMS; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: 100 }, (_, j) => SseClient.open(`${api.url}/v1/sessions/${sessions[(i + j) % SESSIONS]}/events`, auth)),
    );
    streams.push(...batch);
  }
  expect(streams.every((s) => s.status === 200)).toBe(true);
  await Promise.all(streams.map((s) => s.waitFor((f) => f.event === 'task.created')));
  const openMs = Date.now() - started;

  // A live event in every session reaches each of its 10 streams through the shared reader.
  const fanStart = Date.now();
  const second = await Promise.all(sessions.map((s) => submit(s, 'second')));
  await Promise.all(streams.map((s, i) => s.waitFor((f) => f.event === 'task.created' && JSON.parse(f.data!).taskId === second[i % SESSIONS])));
  const fanMs = Date.now() - fanStart;

  const during = { connections: await redisConnections(), rss: rssBytes(api.pid), heap: await heapBytes() };
  for (const s of streams) s.close();
  await Promise.all(streams.map((s) => s.ended.promise));

  const rows = [
    ['', 'before streams', `with ${STREAMS} streams`, 'delta'],
    ['Redis connections (all)', before.connections.total, during.connections.total, during.connections.total - before.connections.total],
    ['Redis connections (baton-api-sse)', before.connections.sse, during.connections.sse, during.connections.sse - before.connections.sse],
    ['API RSS', mib(before.rss), mib(during.rss), `${mib(during.rss - before.rss)} (${((during.rss - before.rss) / STREAMS / 1024).toFixed(1)} KiB/stream)`],
    ['API heap used', mib(before.heap), mib(during.heap), before.heap !== null && during.heap !== null ? mib(during.heap - before.heap) : 'n/a'],
  ];
  process.stdout.write(
    `\nSSE load: ${STREAMS} streams over ${SESSIONS} sessions, SSE_REDIS_READERS=${READERS}\n` +
      rows.map((r) => r.map((c) => String(c).padEnd(36)).join('')).join('\n') +
      `\nopen + backlog: ${openMs} ms; one live event per session to all ${STREAMS} streams: ${fanMs} ms\n`,
  );

  expect(during.connections.sse).toBeLessThanOrEqual(READERS);
  expect(during.connections.total - before.connections.total).toBeLessThanOrEqual(READERS);
});
