import { RedisServer, startApi, startWorker, waitUntil, type ApiProcess, type BatonProcess } from '@baton/testkit';
import { Redis } from 'ioredis';
import { storedTasks } from './stored-tasks';
import { isProperRefusal, SubmitLoad, type SubmitRecord } from './submit-load';

/**
 * A private Redis with a tiny maxmemory under `noeviction` (what BullMQ
 * needs), the real API and worker processes on it.
 */
const API_KEY = 'memory-secret-0001';
const apiEnv = (redis: RedisServer, extra: Record<string, string> = {}) => ({
  REDIS_URL: redis.url,
  API_KEYS: `mem:${API_KEY}`,
  RATE_LIMIT_MAX: '1000000',
  ...extra,
});

async function get(url: string, auth = true): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { headers: auth ? { authorization: `Bearer ${API_KEY}` } : {}, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body, headers: res.headers };
}

describe('Redis at maxmemory (noeviction)', () => {
  let redis: RedisServer;
  let api: ApiProcess;
  afterAll(async () => {
    await api?.kill('SIGKILL');
    await redis?.destroy();
  });

  it('submissions answer 201 or 503 problem+json with Retry-After, never 500; refused ones leave nothing; reads and /readyz', async () => {
    redis = await RedisServer.start('oom', ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
    // REDIS_MEMORY_HIGH=1: the API refuses only once Redis is over maxmemory, so Redis's own OOM refusals are met first.
    api = await startApi('oom', apiEnv(redis, { REDIS_MEMORY_HIGH: '1' }));
    const load = new SubmitLoad({ apiUrl: api.url, apiKey: API_KEY, clients: 4, gapMs: 0, deadlineMs: 15_000, prefix: 'oom', padding: 20_000 }).start();
    await waitUntil(() => load.records.filter((r) => r.status === 503).length >= 40, 60_000);
    await load.stop();

    const { records } = load;
    const accepted = records.filter((r) => r.status === 201);
    const refused = records.filter((r) => r.status === 503);
    expect(records.filter((r) => r.status !== 201 && r.status !== 503)).toEqual([]);
    expect(refused.filter((r) => !isProperRefusal(r))).toEqual([]);
    expect(accepted.length).toBeGreaterThan(10);
    // Redis itself refused (OOM), then the API's reading caught up (memory_high): both are 503 REDIS_FULL, nothing applied.
    expect(refused.some((r) => r.reason === 'oom')).toBe(true);
    expect(new Set(refused.map((r) => `${r.code}/${r.reason}/${r.outcome}`))).toEqual(
      new Set(refused.map((r) => (r.reason === 'oom' ? 'REDIS_FULL/oom/not_applied' : 'REDIS_FULL/memory_high/not_applied'))),
    );
    expect(refused.find((r) => r.reason === 'oom')?.retryAfter).toBe('30');

    const stored = new Set((await storedTasks(redis.url, 'oom')).map((t) => t.prompt));
    expect(accepted.every((r) => stored.has(r.prompt))).toBe(true);
    expect(refused.filter((r) => stored.has(r.prompt))).toEqual([]);

    // A read on a full Redis: Redis refuses commands queued in MULTI while over maxmemory (task reads use
    // one), so it is 200 or the same 503, never a 500.
    const read = await get(`${api.url}/v1/tasks/${accepted[0]!.taskId}`);
    if (read.status !== 200)
      expect({ status: read.status, code: read.body.code, retryAfter: read.headers.get('retry-after') }).toEqual({
        status: 503,
        code: 'REDIS_FULL',
        retryAfter: '30',
      });
    // Full Redis: not ready (the reading is refreshed every second). Once the load stops, client
    // buffers are freed and used_memory can fall just under maxmemory (ratio 0.99x, under the mark
    // of 1 set above): lower maxmemory under what is used, so the server is over its limit for sure.
    const admin = new Redis(redis.url);
    try {
      const used = Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory', String(used - 64 * 1024));
    } finally {
      admin.disconnect();
    }
    await waitUntil(async () => (await get(`${api.url}/readyz`, false)).status === 503, 10_000, 100);
    const ready = await get(`${api.url}/readyz`, false);
    expect(ready.body).toMatchObject({ code: 'REDIS_FULL', reason: 'memory_high' });
    expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('Redis memory above REDIS_MEMORY_HIGH', () => {
  let redis: RedisServer;
  let api: ApiProcess;
  let worker: BatonProcess | undefined;
  let admin: Redis;
  afterAll(async () => {
    admin?.disconnect();
    await worker?.kill('SIGKILL');
    await api?.kill('SIGKILL');
    await redis?.destroy();
  });

  it('is not ready, refuses submissions, and workers hold new roots until memory frees, then run them', async () => {
    redis = await RedisServer.start('high', ['--maxmemory', '16mb', '--maxmemory-policy', 'noeviction']);
    admin = new Redis(redis.url);
    api = await startApi('high', apiEnv(redis, { REDIS_MEMORY_HIGH: '0.9' }));
    const load = new SubmitLoad({ apiUrl: api.url, apiKey: API_KEY, clients: 1, gapMs: 0, deadlineMs: 15_000, prefix: 'high' });
    const queued: SubmitRecord[] = [];
    for (let i = 0; i < 5; i++) queued.push(await load.submitOnce());
    expect(queued.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);

    // Push memory past 92% of maxmemory with plain keys (small ones: a big value's query buffer would itself hit maxmemory).
    const ratio = async () => {
      const info = await admin.info('memory');
      return Number(/^used_memory:(\d+)/m.exec(info)![1]) / Number(/^maxmemory:(\d+)/m.exec(info)![1]);
    };
    let fillers = 0;
    while ((await ratio()) < 0.92) await admin.set(`filler:${fillers++}`, Buffer.alloc(128 * 1024, 1));
    await waitUntil(async () => (await get(`${api.url}/readyz`, false)).status === 503, 10_000, 100);

    const refused = await load.submitOnce();
    expect(refused).toMatchObject({ status: 503, code: 'REDIS_FULL', reason: 'memory_high', outcome: 'not_applied', retryAfter: '30' });
    expect(isProperRefusal(refused)).toBe(true);

    // A worker started now takes the dispatched roots but puts them back: none starts.
    worker = await startWorker('high', { REDIS_URL: redis.url, REDIS_MEMORY_HIGH: '0.9', ROOT_HOLD_RETRY_MS: '200', METRICS_PORT: '0' });
    const { entry } = await worker.waitFor((e) => e.msg === 'metrics at /metrics');
    const metricsUrl = `http://127.0.0.1:${String(entry!.port)}/metrics`;
    const metric = async (name: string) => {
      const text = (await get(metricsUrl, false)).body.text as string;
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    await waitUntil(async () => (await metric('baton_worker_roots_held_total')) >= 10, 20_000, 100);
    expect(await metric('baton_redis_memory_ratio')).toBeGreaterThanOrEqual(0.9);
    expect(await metric('baton_redis_memory_high_ratio')).toBe(0.9);
    for (const r of queued) expect((await get(`${api.url}/v1/tasks/${r.taskId}`)).body.status).toBe('queued');

    // Memory frees: the held roots run to completion, the API is ready again.
    await admin.del(...Array.from({ length: fillers }, (_, i) => `filler:${i}`));
    await waitUntil(
      async () => {
        for (const r of queued) if ((await get(`${api.url}/v1/tasks/${r.taskId}`)).body.status !== 'completed') return false;
        return true;
      },
      60_000,
      100,
    );
    expect((await get(`${api.url}/readyz`, false)).status).toBe(200);
    expect(await metric('baton_redis_memory_ratio')).toBeLessThan(0.9);
    expect(stored(await storedTasks(redis.url, 'high'), refused.prompt)).toBe(false);
  });
});

function stored(tasks: { prompt: string }[], prompt: string): boolean {
  return tasks.some((t) => t.prompt === prompt);
}
