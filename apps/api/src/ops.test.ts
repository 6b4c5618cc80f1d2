import { REDIS_URL, waitUntil } from '@baton/testkit';
import pino from 'pino';
import { buildApp } from './app';
import { parseEnv } from './env';
import { startMetricsServer } from './http/metrics-server';
import { startHarness, waitForTask, type Harness } from './test-utils/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    worker: true,
    env: { API_KEYS: 'acme:acme-secret-0001', METRICS_TOKEN },
  });
});
afterAll(async () => h.close());

const METRICS_TOKEN = 'metrics-token-0000001';
const ACME = { authorization: 'Bearer acme-secret-0001' };
const SCRAPER = { authorization: `Bearer ${METRICS_TOKEN}` };

describe('probes, metrics, docs', () => {
  test('healthz and readyz answer without auth', async () => {
    expect((await h.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await h.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  test('readyz is a 503 problem when Redis cannot be reached', async () => {
    const config = parseEnv({ REDIS_URL: 'redis://127.0.0.1:1', BATON_PREFIX: h.prefix, API_AUTH: 'none', LOG_LEVEL: 'silent' });
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

  test('metrics report queue jobs by state, tracked sessions and task totals', async () => {
    const task = (await h.app.inject({ method: 'POST', url: '/v1/sessions/s-metrics/tasks', headers: ACME, payload: { prompt: 'm' } })).json();
    await waitForTask(h.engine, task.id, ['completed']);
    // The task record is final before BullMQ moves its job to completed (and the lease is released): wait for the job.
    await waitUntil(async () => (await h.engine.queue.getJobState(task.id)) === 'completed', 10_000);
    const res = await h.app.inject({ url: '/metrics', headers: SCRAPER });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const body = res.body;
    expect(body).toMatch(/baton_queue_jobs\{queue="tasks",shard="0",state="completed"\} [1-9]/);
    expect(body).toMatch(/baton_queue_jobs\{queue="tasks",shard="0",state="waiting"\} 0/);
    expect(body).toMatch(/baton_tasks_created_total\{kind="root"\} 1\n/);
    expect(body).toMatch(/baton_tasks_created_total\{kind="child"\} 0\n/);
    expect(body).toMatch(/baton_tasks_ended_total\{status="completed"\} 1\n/);
    expect(body).toMatch(/baton_tasks_ended_total\{status="cancelled"\} 0\n/);
    expect(body).toMatch(/baton_sessions_tracked [1-9]/);
    expect(body).toMatch(/baton_api_http_request_duration_seconds_count\{method="POST",route="\/v1\/sessions\/:sessionId\/tasks",status_code="201"\} 1/);
    expect(body).toMatch(/baton_api_process_cpu_seconds_total/);
  });

  test('/metrics on the API port needs METRICS_TOKEN as a bearer token', async () => {
    for (const headers of [{}, ACME, { authorization: 'Bearer metrics-token-0000002' }, { authorization: METRICS_TOKEN }]) {
      const res = await h.app.inject({ url: '/metrics', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json()).toMatchObject({ status: 401, type: 'urn:baton:problem:unauthorized' });
    }
  });

  test('without METRICS_TOKEN the API port has no /metrics (404); METRICS_PORT serves them, with the token when one is set', async () => {
    const config = parseEnv({ REDIS_URL, BATON_PREFIX: h.prefix, API_AUTH: 'none', LOG_LEVEL: 'silent' });
    const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
    const logger = pino({ level: 'silent' });
    const open = await startMetricsServer(app.metrics, { host: '127.0.0.1', port: 0, token: null, logger });
    const guarded = await startMetricsServer(h.app.metrics, { host: '127.0.0.1', port: 0, token: METRICS_TOKEN, logger });
    try {
      expect((await app.inject('/metrics')).statusCode).toBe(404);
      const scraped = await fetch(`http://127.0.0.1:${open.port}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/baton_queue_jobs\{queue="tasks",shard="0",state="waiting"\}/);
      expect((await fetch(`http://127.0.0.1:${open.port}/v1/tasks/t1`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${guarded.port}/metrics`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${guarded.port}/metrics`, { headers: SCRAPER })).status).toBe(200);
    } finally {
      await Promise.all([open.close(), guarded.close()]);
      await app.close();
    }
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
        '/v1/sessions',
        '/v1/sessions/{sessionId}',
        '/v1/sessions/{sessionId}/events',
        '/v1/sessions/{sessionId}/files',
        '/v1/sessions/{sessionId}/files/{*}',
        '/v1/sessions/{sessionId}/pause',
        '/v1/sessions/{sessionId}/resume',
        '/v1/sessions/{sessionId}/tasks',
        '/v1/tasks/{taskId}',
        '/v1/tasks/{taskId}/cancel',
        '/v1/tasks/{taskId}/export',
        '/v1/tasks/{taskId}/input',
        '/v1/tasks/{taskId}/messages',
        '/v1/tasks/{taskId}/tree',
        '/v1/usage',
      ].sort(),
    );
    const submit = doc.paths['/v1/sessions/{sessionId}/tasks'].post;
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['200', '201', '409', '413', '422']));
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Task', 'TaskTree', 'Session', 'Problem']));
    expect(Object.keys(doc.components.schemas.Task.properties).sort()).toEqual(
      [
        'id',
        'sessionId',
        'parentId',
        'rootId',
        'mode',
        'prompt',
        'status',
        'result',
        'error',
        'childIds',
        'turns',
        'createdAt',
        'startedAt',
        'finishedAt',
        'pendingInput',
        'todos',
        'usage',
        'cost',
        'treeUsage',
        'treeCost',
        'budget',
        'onBudget',
      ].sort(),
    );
    const page = await h.app.inject('/docs');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });

  test('the dashboard is off (404) without DASHBOARD_PASSWORD', async () => {
    expect((await h.app.inject('/admin/queues')).statusCode).toBe(404);
  });
});
