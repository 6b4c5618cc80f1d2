import { API_MAIN, cleanupPrefix, startApi, startWorker, testPrefix, type BatonProcess } from '@baton/testkit';
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

  beforeAll(async () => {
    const env = { BATON_PREFIX: prefix, API_KEYS: 'acme:proc-secret-0001', DASHBOARD_PASSWORD: 'dash-password-1' };
    procs.push(await startWorker(prefix, { ...env, DEMO_MODEL_LATENCY_MS: '10' }));
    const api = await startApi(prefix, env);
    procs.push(api);
    base = api.url;
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await cleanupPrefix(prefix);
  });

  test('refuses a bad configuration with every problem listed and exit code 1', () => {
    const r = spawnSync(process.execPath, [API_MAIN], { env: { PATH: process.env.PATH ?? '', PORT: 'x', API_KEYS: 'oops' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid environment');
    for (const name of ['PORT', 'API_KEYS']) expect(r.stderr).toContain(`${name}:`);
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

    const tree = (await (await fetch(`${base}/v1/tasks/${task.id}/tree`, { headers: auth })).json()) as { status: string; result: string | null; children: { status: string }[] };
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

  test('dashboard, docs and metrics are served by the built process', async () => {
    const dash = await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: `Basic ${Buffer.from('admin:dash-password-1').toString('base64')}` } });
    expect(dash.status).toBe(200);
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/baton_queue_jobs\{queue="tasks",state="completed"\}/);
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
