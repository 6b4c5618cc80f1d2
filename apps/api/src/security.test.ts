import type { AddressInfo } from 'node:net';
import { waitUntil } from '@baton/testkit';
import { SseClient } from './test-utils/sse-client';
import { startHarness, waitForTask, type Harness } from './test-utils/harness';

const ACME = { authorization: 'Bearer acme-secret-0001' };
const GLOBEX = { authorization: 'Bearer globex-secret-0002' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    worker: true,
    env: { API_KEYS: 'acme:acme-secret-0001,globex:globex-secret-0002', DASHBOARD_PASSWORD: 'dash-password-1' },
  });
});
afterAll(async () => h.close());

/** Every /v1 route, for a task and session of acme's. */
function routes(taskId: string, sessionId: string) {
  return [
    { method: 'POST' as const, url: `/v1/sessions/${sessionId}/tasks`, payload: { prompt: 'intruder' } },
    { method: 'GET' as const, url: `/v1/tasks/${taskId}` },
    { method: 'GET' as const, url: `/v1/tasks/${taskId}/messages` },
    { method: 'GET' as const, url: `/v1/tasks/${taskId}/tree` },
    { method: 'POST' as const, url: `/v1/tasks/${taskId}/cancel` },
    { method: 'POST' as const, url: `/v1/tasks/${taskId}/input`, payload: { answer: 'intruder' } },
    { method: 'GET' as const, url: `/v1/sessions/${sessionId}` },
    { method: 'POST' as const, url: `/v1/sessions/${sessionId}/pause` },
    { method: 'POST' as const, url: `/v1/sessions/${sessionId}/resume` },
    { method: 'GET' as const, url: `/v1/sessions/${sessionId}/events` },
    { method: 'GET' as const, url: `/v1/sessions/${sessionId}/tasks` },
    { method: 'POST' as const, url: `/v1/sessions/${sessionId}/files`, payload: [{ path: 'intruder.txt', content: 'x' }] },
    { method: 'GET' as const, url: `/v1/sessions/${sessionId}/files` },
    { method: 'GET' as const, url: `/v1/sessions/${sessionId}/files/intruder.txt` },
  ];
}

describe('API keys and tenants', () => {
  let task: { id: string; sessionId: string };
  beforeAll(async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/sessions/s-acme/tasks', headers: ACME, payload: { prompt: 'mine' } });
    expect(res.statusCode).toBe(201);
    task = res.json();
    await waitForTask(h.engine, task.id, ['completed']);
    // The task is completed before its worker has finished the job (BullMQ moves it to the
    // completed set, the lease is released): wait for that, so the key list below is stable.
    await waitUntil(async () => (await h.engine.queue.getJobState(task.id)) === 'completed');
  });

  test('every /v1 route is 401 without a key, with a wrong key or a malformed header, and touches nothing', async () => {
    const before = await h.keys();
    for (const authorization of [undefined, 'Bearer wrong-secret-000', 'acme-secret-0001', 'Basic YWNtZTphY21lLXNlY3JldC0wMDAx', 'Bearer ']) {
      for (const route of routes(task.id, task.sessionId)) {
        const res = await h.app.inject({ ...route, headers: authorization ? { authorization } : {} });
        expect({ url: route.url, status: res.statusCode }).toEqual({ url: route.url, status: 401 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(res.json()).toMatchObject({ status: 401, type: 'urn:baton:problem:unauthorized' });
      }
    }
    expect(await h.keys()).toEqual(before);
    expect((await h.app.inject({ url: `/v1/tasks/${task.id}`, headers: ACME })).json().status).toBe('completed');
  });

  test("another tenant gets 404 on every route for acme's task and session, and changes nothing", async () => {
    const before = await h.engine.readEvents(task.sessionId);
    for (const route of routes(task.id, task.sessionId)) {
      const res = await h.app.inject({ ...route, headers: GLOBEX });
      expect({ url: route.url, status: res.statusCode }).toEqual({ url: route.url, status: 404 });
      expect(res.json().type).toMatch(/not-found$/);
    }
    expect(await h.engine.readEvents(task.sessionId)).toEqual(before);
    expect((await h.app.inject({ url: `/v1/sessions/${task.sessionId}`, headers: ACME })).json().status).toBe('idle');
    // The same session id is free for no one else, but globex's own sessions work.
    const own = await h.app.inject({ method: 'POST', url: '/v1/sessions/s-globex/tasks', headers: GLOBEX, payload: { prompt: 'theirs' } });
    expect(own.statusCode).toBe(201);
    expect((await h.app.inject({ url: `/v1/tasks/${own.json().id}`, headers: ACME })).statusCode).toBe(404);
  });

  test('idempotency keys are per tenant: the same key in two tenants never replays across them', async () => {
    const a = await h.app.inject({
      method: 'POST',
      url: '/v1/sessions/s-k-a/tasks',
      headers: { ...ACME, 'idempotency-key': 'shared' },
      payload: { prompt: 'p' },
    });
    const b = await h.app.inject({
      method: 'POST',
      url: '/v1/sessions/s-k-b/tasks',
      headers: { ...GLOBEX, 'idempotency-key': 'shared' },
      payload: { prompt: 'p' },
    });
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json().id).not.toBe(b.json().id);
  });

  test('SSE for another tenant is 404 over a real connection', async () => {
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    const theirs = await SseClient.open(`${base}/v1/sessions/s-acme/events`, GLOBEX);
    expect(theirs.status).toBe(404);
    theirs.close();
    const mine = await SseClient.open(`${base}/v1/sessions/s-acme/events`, ACME);
    expect(mine.status).toBe(200);
    await mine.waitFor((f) => f.event === 'task.completed');
    mine.close();
  });
});

describe('headers and dashboard', () => {
  test('security headers are set by helmet', async () => {
    const res = await h.app.inject('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  test('/admin/queues needs basic auth with DASHBOARD_PASSWORD and then lists the task queue', async () => {
    const none = await h.app.inject('/admin/queues');
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    expect((await h.app.inject({ url: '/admin/queues', headers: basic('admin', 'wrong-password') })).statusCode).toBe(401);
    expect((await h.app.inject({ url: '/admin/queues/api/queues', headers: basic('admin', 'wrong-password') })).statusCode).toBe(401);

    const page = await h.app.inject({ url: '/admin/queues', headers: basic('admin', 'dash-password-1') });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toBeUndefined();
    const api = await h.app.inject({ url: '/admin/queues/api/queues', headers: basic('admin', 'dash-password-1') });
    expect(api.statusCode).toBe(200);
    expect(api.json().queues.map((q: { name: string }) => q.name)).toEqual(['tasks']);
  });
});
