import { waitUntil } from '@baton/testkit';
import pino from 'pino';
import { buildApp } from './app';
import { parseEnv } from './env';
import { startHarness, waitForTask, type Harness } from './test-utils/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { API_KEYS: 'acme:acme-secret-0001', RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' } });
});
afterAll(async () => h.close());

const ACME = { authorization: 'Bearer acme-secret-0001' };

describe('probes, metrics, docs', () => {
  test('healthz and readyz answer without auth', async () => {
    expect((await h.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await h.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  test('readyz is a 503 problem when Redis cannot be reached', async () => {
    const config = parseEnv({ REDIS_URL: 'redis://127.0.0.1:1', BATON_PREFIX: h.prefix, LOG_LEVEL: 'silent' });
    const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
    try {
      const res = await app.inject('/readyz');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 503, type: 'urn:baton:problem:unavailable' });
      expect((await app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      app.engine.redis.disconnect();
      await app.close();
    }
  });

  test('metrics report queue jobs by state, tasks by status, lanes and leases', async () => {
    const task = (await h.app.inject({ method: 'POST', url: '/v1/sessions/s-metrics/tasks', headers: ACME, payload: { prompt: 'm' } })).json();
    await waitForTask(h.engine, task.id, ['completed']);
    // The task record is final before BullMQ moves its job to completed (and the lease is released): wait for the job.
    await waitUntil(async () => (await h.engine.queue.getJobState(task.id)) === 'completed', 10_000);
    const res = await h.app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const body = res.body;
    expect(body).toMatch(/baton_queue_jobs\{queue="tasks",state="completed"\} [1-9]/);
    expect(body).toMatch(/baton_queue_jobs\{queue="tasks",state="waiting"\} 0/);
    expect(body).toMatch(/baton_tasks\{status="completed"\} [1-9]/);
    expect(body).toMatch(/baton_tasks\{status="running"\} 0/);
    expect(body).toMatch(/baton_sessions\{status="idle"\} [1-9]/);
    expect(body).toMatch(/baton_lane_tasks 0/);
    expect(body).toMatch(/baton_leases_held 0/);
    expect(body).toMatch(/baton_api_http_request_duration_seconds_count\{method="POST",route="\/v1\/sessions\/:sessionId\/tasks",status_code="201"\} 1/);
    expect(body).toMatch(/baton_api_process_cpu_seconds_total/);
  });

  test('openapi.json is generated from the route schemas; /docs serves the UI', async () => {
    const res = await h.app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/healthz',
        '/metrics',
        '/readyz',
        '/v1/sessions/{sessionId}',
        '/v1/sessions/{sessionId}/events',
        '/v1/sessions/{sessionId}/pause',
        '/v1/sessions/{sessionId}/resume',
        '/v1/sessions/{sessionId}/tasks',
        '/v1/tasks/{taskId}',
        '/v1/tasks/{taskId}/cancel',
        '/v1/tasks/{taskId}/export',
        '/v1/tasks/{taskId}/messages',
        '/v1/tasks/{taskId}/tree',
      ].sort(),
    );
    const submit = doc.paths['/v1/sessions/{sessionId}/tasks'].post;
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '413', '422']));
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Task', 'TaskTree', 'Session', 'Problem']));
    expect(Object.keys(doc.components.schemas.Task.properties).sort()).toEqual(
      ['id', 'sessionId', 'parentId', 'rootId', 'mode', 'prompt', 'status', 'result', 'error', 'childIds', 'turns', 'createdAt', 'startedAt', 'finishedAt'].sort(),
    );
    const page = await h.app.inject('/docs');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });

  test('the dashboard is off (404) without DASHBOARD_PASSWORD', async () => {
    expect((await h.app.inject('/admin/queues')).statusCode).toBe(404);
  });
});

describe('rate limit', () => {
  test('per key: past the limit a 429 problem with Retry-After; other keys and probes are unaffected', async () => {
    const limited = { authorization: 'Bearer not-a-valid-key-1' };
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await h.app.inject({ url: '/v1/tasks/t1', headers: limited })).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
    const res = await h.app.inject({ url: '/v1/tasks/t1', headers: limited });
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 429, type: 'urn:baton:problem:rate-limited' });

    expect((await h.app.inject({ url: '/v1/tasks/t1', headers: ACME })).statusCode).toBe(404);
    for (let i = 0; i < 10; i++) expect((await h.app.inject('/healthz')).statusCode).toBe(200);
  });
});
