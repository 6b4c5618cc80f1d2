import { API_MAIN, cleanupPrefix, REDIS_URL, startApi, startWorker, testPrefix, type ApiProcess, type BatonProcess } from '@baton/testkit';
import { spawnSync } from 'node:child_process';
import { SseClient } from './test-utils/sse-client';

/**
 * Black box: the built API and worker processes (`node apps/{api,worker}/dist/main.js`, the worker on its
 * built-in demo model) against real Redis, driven over HTTP only.
 */
describe('api and worker processes', () => {
  const prefix = testPrefix('api-proc');
  const procs: BatonProcess[] = [];
  let base = '';
  const auth = { authorization: 'Bearer proc-secret-0001' };
  const scraper = { authorization: 'Bearer proc-metrics-token-01' };
  // A password in REDIS_URL (this Redis has none: ioredis warns and goes on), to show it never reaches a log line.
  const redisUrl = `redis://default:redis-pass-in-url-77@${new URL(REDIS_URL).host}`;
  let api: ApiProcess;
  let metricsBase = '';

  beforeAll(async () => {
    const env = { BATON_PREFIX: prefix, API_KEYS: 'acme:proc-secret-0001', DASHBOARD_PASSWORD: 'dash-password-1' };
    procs.push(await startWorker(prefix, { ...env, DEMO_MODEL_LATENCY_MS: '10' }));
    api = await startApi(prefix, { ...env, REDIS_URL: redisUrl, LOG_LEVEL: 'trace', METRICS_TOKEN: 'proc-metrics-token-01', METRICS_PORT: '0' });
    procs.push(api);
    base = api.url;
    const { entry } = await api.waitFor((e) => e.msg === 'metrics at /metrics on their own port');
    metricsBase = `http://127.0.0.1:${String(entry!.port)}`;
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await cleanupPrefix(prefix);
  });

  const runApi = (env: Record<string, string>) =>
    spawnSync(process.execPath, [API_MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });

  test('refuses a bad configuration with every problem listed and exit code 1, echoing no secret', () => {
    const r = runApi({ PORT: 'x', API_KEYS: 'oops-SECRET-1', REDIS_URL: 'http://u:SECRET-2@h', DASHBOARD_PASSWORD: 'SECRET3', METRICS_TOKEN: 'SECRET-4' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid environment');
    for (const name of ['PORT', 'API_KEYS', 'REDIS_URL', 'DASHBOARD_PASSWORD', 'METRICS_TOKEN']) expect(r.stderr).toContain(`→ at ${name}\n`);
    expect(r.stderr).not.toMatch(/SECRET/);
  });

  test('refuses to start without API_KEYS, in one line that says what to set', () => {
    const r = runApi({ REDIS_URL });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/API_KEYS is required: set API_KEYS=tenant:secret.*openssl rand -hex 32.*API_AUTH=none/);
  });

  test('API_AUTH=none starts open on 127.0.0.1 when HOST is not set', async () => {
    const openPrefix = testPrefix('api-open');
    const open = await startApi(openPrefix, { API_AUTH: 'none', HOST: '' });
    try {
      expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect(open.logs.find((e) => e.msg === 'Server listening at ' + open.url)).toBeDefined();
      expect(open.output).not.toMatch(/Server listening at http:\/\/(?!127\.0\.0\.1)/);
      expect(open.logs.some((e) => e.level === 40 && String(e.msg).startsWith('API_AUTH=none'))).toBe(true);
      expect((await fetch(`${open.url}/v1/tasks/t-none`)).status).toBe(404);
    } finally {
      // A graceful stop: a SIGKILLed process may leave a command in Redis's socket buffer that
      // Redis runs after the clean-up (a BullMQ meta key left behind on the shared Redis).
      await open.stop();
      await cleanupPrefix(openPrefix);
    }
  });

  test('submit over HTTP, watch the events to the end, read the finished tree', async () => {
    const res = await fetch(`${base}/v1/sessions/s-proc/tasks`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'proc-1' },
      body: JSON.stringify({ prompt: 'Plan and build a tiny CLI' }),
    });
    expect(res.status).toBe(201);
    const task = (await res.json()) as { id: string };

    const stream = await SseClient.open(`${base}/v1/sessions/s-proc/events`, auth);
    expect(stream.status).toBe(200);
    const end = await stream.waitFor((f) => (f.event === 'task.completed' || f.event === 'task.failed') && JSON.parse(f.data!).taskId === task.id);
    expect(end.event).toBe('task.completed');
    stream.close();

    const tree = (await (await fetch(`${base}/v1/tasks/${task.id}/tree`, { headers: auth })).json()) as {
      status: string;
      result: string | null;
      children: { status: string }[];
    };
    expect(tree.status).toBe('completed');
    expect(tree.result).toEqual(expect.any(String));
    expect(tree.children.length).toBeGreaterThan(0); // the demo orchestrator delegates with new_task
    for (const child of tree.children) expect(child.status).toBe('completed');
    const ids = stream.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);

    const replay = await fetch(`${base}/v1/sessions/s-proc/tasks`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'proc-1' },
      body: JSON.stringify({ prompt: 'Plan and build a tiny CLI' }),
    });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  test('dashboard, docs and metrics are served by the built process (metrics with the token, and on METRICS_PORT)', async () => {
    const dash = await fetch(`${base}/admin/queues/api/queues`, {
      headers: { authorization: `Basic ${Buffer.from('admin:dash-password-1').toString('base64')}` },
    });
    expect(dash.status).toBe(200);
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect(await (await fetch(`${base}/metrics`, { headers: scraper })).text()).toMatch(/baton_queue_jobs\{queue="tasks",shard="0",state="completed"\}/);
    expect((await fetch(`${metricsBase}/metrics`)).status).toBe(401);
    expect(await (await fetch(`${metricsBase}/metrics`, { headers: scraper })).text()).toMatch(/baton_tasks_ended_total\{status="completed"\} [1-9]/);
  });

  test('no log line carries a key, a token or the Redis password', async () => {
    await fetch(`${base}/v1/tasks/t-x?probe=redis://u:query-pass-in-url-88@h`, { headers: { authorization: 'Bearer wrong-secret-in-header-99' } });
    await fetch(`${base}/v1/tasks/t-x`, { headers: auth });
    await fetch(`${base}/metrics`, { headers: scraper });
    // Output arrives in order: once the last request's line is here, the earlier ones are too.
    await fetch(`${base}/healthz?last=1`);
    await api.waitFor((e) => (e.req as { url?: string } | undefined)?.url === '/healthz?last=1');
    expect(api.output).toContain('probe=redis://u:[redacted]@h');
    for (const secret of [
      'redis-pass-in-url-77',
      'query-pass-in-url-88',
      'wrong-secret-in-header-99',
      'proc-secret-0001',
      'proc-metrics-token-01',
      'dash-password-1',
    ]) {
      expect(api.output).not.toContain(secret);
    }
  });

  test('SIGTERM closes the API gracefully (open event streams are ended) with exit code 0', async () => {
    const stream = await SseClient.open(`${base}/v1/sessions/s-proc/events`, auth);
    await stream.waitFor((f) => f.comment === 'connected');
    const api = procs[1]!;
    const exit = await api.kill('SIGTERM');
    await stream.ended.promise;
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
