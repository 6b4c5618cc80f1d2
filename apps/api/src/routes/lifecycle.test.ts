import { EMPTY_USAGE } from '@baton/core';
import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

/**
 * Deleting sessions and task trees, and exporting trees, through the routes
 * with a real engine, an in-process worker and real Redis. "Gone" is checked
 * on Redis itself: no key of the session (its hash tag), no key naming one of
 * its tasks (task index, BullMQ job), no index entry.
 */
const ACME = { authorization: 'Bearer acme-secret-0001' };
const GLOBEX = { authorization: 'Bearer globex-secret-0002' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { API_KEYS: 'acme:acme-secret-0001,globex:globex-secret-0002' } });
});
afterAll(async () => h.close());

type Method = 'GET' | 'POST' | 'DELETE';
const call = (method: Method, url: string, headers: Record<string, string> = ACME, payload?: object) =>
  h.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
const submit = async (sessionId: string, prompt: string, headers = ACME) => {
  const res = await call('POST', `/v1/sessions/${sessionId}/tasks`, headers, { prompt });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; sessionId: string };
};

/** Every key of the test prefix that belongs to the session or names one of the tasks. */
async function keysOf(sessionId: string, taskIds: string[]): Promise<string[]> {
  return (await h.keys()).filter((k) => k.includes(`{s:${sessionId}}`) || taskIds.some((id) => k.includes(id)));
}

/** Entries of BullMQ's job sets that name one of the tasks. */
async function jobEntriesOf(taskIds: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const set of ['completed', 'failed', 'wait', 'active', 'delayed', 'waiting-children']) {
    const key = `${h.engine.keys.queuePrefix}:tasks:${set}`;
    const type = await h.redis.type(key);
    for (const id of taskIds) {
      const member = type === 'zset' ? (await h.redis.zscore(key, id)) !== null : type === 'list' ? (await h.redis.lpos(key, id)) !== null : false;
      if (member) out.push(`${set}: ${id}`);
    }
  }
  return out;
}

/** Entries of Baton's session index and BullMQ's job sets that name the session or its tasks. */
async function indexEntriesOf(sessionId: string, taskIds: string[]): Promise<string[]> {
  const indexed = (await h.redis.zscore(h.engine.keys.sessionIndex(), sessionId)) !== null;
  return [...(indexed ? [`sessions index: ${sessionId}`] : []), ...(await jobEntriesOf(taskIds))];
}

/**
 * Repeats `DELETE /v1/sessions/{id}` while it answers 202, pausing between
 * tries; returns the first other answer. Bounded: a deletion that never
 * completes fails the test instead of hanging it.
 */
async function deleteUntilGone(sessionId: string, timeoutMs = 10_000): Promise<{ statusCode: number; tries: number }> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 1; ; tries++) {
    const res = await call('DELETE', `/v1/sessions/${sessionId}`);
    if (res.statusCode !== 202) return { statusCode: res.statusCode, tries };
    if (Date.now() > deadline) throw new Error(`session ${sessionId} still stopping after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls `check` every 25 ms until it holds; bounded, so a condition that never comes fails the test. */
async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A root's status turns terminal first; then its worker releases the session's
 * lease and its job ends. Deleting before that is refused (or 'stopping'), so
 * tests that delete a finished tree wait for it.
 */
async function settled(sessionId: string, rootId: string): Promise<void> {
  await until(async () => (await call('GET', `/v1/sessions/${sessionId}`)).json().status === 'idle' && (await h.engine.queue.getJobState(rootId)) !== 'active');
}

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, status: number, type: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status, type: `urn:baton:problem:${type}`, detail: expect.any(String) });
}

describe('DELETE /v1/sessions/{sessionId}', () => {
  test('idle: 204 with no body, then 404 on every route of the session and its tasks; no key or index entry is left', async () => {
    const first = await submit('s-del-idle', 'one');
    await waitForTask(h.engine, first.id, ['completed']);
    const second = await submit('s-del-idle', 'spawn:1');
    await waitForTask(h.engine, second.id, ['completed']);
    await settled('s-del-idle', second.id);
    const child = (await call('GET', `/v1/tasks/${second.id}`)).json().childIds[0] as string;
    const ids = [first.id, second.id, child];
    expect((await keysOf('s-del-idle', ids)).length).toBeGreaterThan(0);

    const res = await call('DELETE', '/v1/sessions/s-del-idle');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    expect(await keysOf('s-del-idle', ids)).toEqual([]);
    expect(await indexEntriesOf('s-del-idle', ids)).toEqual([]);
    expectProblem(await call('GET', '/v1/sessions/s-del-idle'), 404, 'session-not-found');
    expectProblem(await call('POST', '/v1/sessions/s-del-idle/pause'), 404, 'session-not-found');
    expectProblem(await call('GET', '/v1/sessions/s-del-idle/events'), 404, 'session-not-found');
    for (const id of ids) {
      for (const path of ['', '/tree', '/messages', '/export']) expectProblem(await call('GET', `/v1/tasks/${id}${path}`), 404, 'task-not-found');
      expectProblem(await call('DELETE', `/v1/tasks/${id}`), 404, 'task-not-found');
    }
    // Idempotent: deleting again is 404, forever, and changes nothing.
    expectProblem(await call('DELETE', '/v1/sessions/s-del-idle'), 404, 'session-not-found');
    expectProblem(await call('DELETE', '/v1/sessions/s-del-idle'), 404, 'session-not-found');
    expect(await keysOf('s-del-idle', ids)).toEqual([]);
  });

  test('while a task runs: 202 {sessionId, state: stopping} (again on repeat), the queued root never runs; once the runner stops: 404 and no key left', async () => {
    const running = await submit('s-del-run', 'stubborn:del-run');
    const runnerStarted = h.model.started('del-run');
    await runnerStarted;
    const queued = await submit('s-del-run', 'never runs');

    const res = await call('DELETE', '/v1/sessions/s-del-run');
    expect(res.statusCode).toBe(202);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ sessionId: 's-del-run', state: 'stopping' });
    // The runner ignores cancellation, so the session is still stopping.
    const again = await call('DELETE', '/v1/sessions/s-del-run');
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ sessionId: 's-del-run', state: 'stopping' });
    // A session being deleted takes no new work.
    expectProblem(await call('POST', '/v1/sessions/s-del-run/tasks', ACME, { prompt: 'too late' }), 404, 'session-not-found');
    // Whatever is left is cancelled: nothing of the session runs again.
    for (const id of [running.id, queued.id]) {
      const task = await h.engine.getTask(id);
      if (task) expect(task.status).toBe('cancelled');
    }

    h.model.release('del-run');
    const gone = await deleteUntilGone('s-del-run');
    // 404 if the engine finished the deletion when the runner stopped; 204 if this DELETE finished it.
    expect([204, 404]).toContain(gone.statusCode);
    expectProblem(await call('DELETE', '/v1/sessions/s-del-run'), 404, 'session-not-found');
    expectProblem(await call('GET', '/v1/sessions/s-del-run'), 404, 'session-not-found');
    for (const id of [running.id, queued.id]) expectProblem(await call('GET', `/v1/tasks/${id}`), 404, 'task-not-found');
    expect(await keysOf('s-del-run', [running.id, queued.id])).toEqual([]);
    expect(await indexEntriesOf('s-del-run', [running.id, queued.id])).toEqual([]);
    // The queued root never reached the model.
    expect(h.model.everCalled(queued.id)).toBe(false);

    // The id is free again: a submit starts a new, empty session.
    const fresh = await submit('s-del-run', 'afresh');
    await waitForTask(h.engine, fresh.id, ['completed']);
    expect((await call('GET', '/v1/sessions/s-del-run')).json()).toEqual({
      id: 's-del-run',
      status: 'idle',
      activeTaskId: null,
      queuedTaskIds: [],
      usage: EMPTY_USAGE,
      cost: 0,
    });
    expect((await h.engine.readEvents('s-del-run')).every((e) => e.taskId === null || e.taskId === fresh.id)).toBe(true);
  });

  test("another tenant's session is 404 and is left alone; an unknown session is 404", async () => {
    const task = await submit('s-del-tenant', 'mine');
    await waitForTask(h.engine, task.id, ['completed']);
    expectProblem(await call('DELETE', '/v1/sessions/s-del-tenant', GLOBEX), 404, 'session-not-found');
    expect((await call('GET', '/v1/sessions/s-del-tenant')).statusCode).toBe(200);
    expect((await call('GET', `/v1/tasks/${task.id}`)).json()).toMatchObject({ status: 'completed' });
    expectProblem(await call('DELETE', '/v1/sessions/s-never-seen'), 404, 'session-not-found');
    expectProblem(await call('DELETE', '/v1/sessions/bad%20id'), 400, 'invalid-input');
  });
});

describe('DELETE /v1/tasks/{taskId}', () => {
  test('409 while the tree runs and for a subtask (naming the root); 204 on the finished root, which deletes only that tree', async () => {
    const earlier = await submit('s-del-tree', 'earlier');
    await waitForTask(h.engine, earlier.id, ['completed']);
    const root = await submit('s-del-tree', 'spawn:1:hold:del-tree');
    const childId = await h.model.started('del-tree');

    const running = await call('DELETE', `/v1/tasks/${root.id}`);
    expectProblem(running, 409, 'task-not-terminal');
    expect(running.json()).toMatchObject({ taskId: root.id, detail: expect.stringContaining('cancel it first') });
    const sub = await call('DELETE', `/v1/tasks/${childId}`);
    expectProblem(sub, 409, 'task-not-root');
    expect(sub.json()).toMatchObject({ taskId: childId, rootId: root.id });
    expect((await call('GET', `/v1/tasks/${childId}`)).json()).toMatchObject({ status: 'running' });

    h.model.release('del-tree');
    await waitForTask(h.engine, root.id, ['completed']);
    await settled('s-del-tree', root.id);
    expectProblem(await call('DELETE', `/v1/tasks/${childId}`), 409, 'task-not-root');
    expectProblem(await call('DELETE', `/v1/tasks/${root.id}`, GLOBEX), 404, 'task-not-found');

    const res = await call('DELETE', `/v1/tasks/${root.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    for (const id of [root.id, childId]) expectProblem(await call('GET', `/v1/tasks/${id}`), 404, 'task-not-found');
    expectProblem(await call('DELETE', `/v1/tasks/${root.id}`), 404, 'task-not-found');
    const left = (await h.keys()).filter((k) => k.includes(root.id));
    expect(left).toEqual([]);
    expect(await jobEntriesOf([root.id, childId])).toEqual([]);
    // The session and its other tree are untouched.
    expect((await call('GET', '/v1/sessions/s-del-tree')).json()).toMatchObject({ id: 's-del-tree', status: 'idle' });
    expect((await call('GET', `/v1/tasks/${earlier.id}`)).json()).toMatchObject({ status: 'completed', result: 'echo: earlier' });
  });

  test('a cancelled root can be deleted; an unknown task is 404', async () => {
    const root = await submit('s-del-cancel', 'hold:del-cancel');
    await h.model.started('del-cancel');
    expect((await call('POST', `/v1/tasks/${root.id}/cancel`)).statusCode).toBe(202);
    await waitForTask(h.engine, root.id, ['cancelled']);
    // A cancelled root keeps the session until its runner has stopped; until then the delete is refused.
    const stopping = await call('DELETE', `/v1/tasks/${root.id}`);
    if (stopping.statusCode === 409) {
      expect(stopping.json()).toMatchObject({ code: 'TASK_NOT_TERMINAL', status: 409, detail: expect.stringContaining('retry in a moment') });
      await until(async () => (await call('GET', '/v1/sessions/s-del-cancel')).json().status === 'idle');
      expect((await call('DELETE', `/v1/tasks/${root.id}`)).statusCode).toBe(204);
    } else expect(stopping.statusCode).toBe(204);
    expectProblem(await call('DELETE', '/v1/tasks/t_nope'), 404, 'task-not-found');
  });
});

describe('GET /v1/tasks/{taskId}/export', () => {
  test('one document: the tree as /tree shows it, every conversation, the events of the tree; served as an attachment', async () => {
    const other = await submit('s-export', 'another tree');
    await waitForTask(h.engine, other.id, ['completed']);
    const root = await submit('s-export', 'spawn:2');
    await waitForTask(h.engine, root.id, ['completed']);
    const tree = (await call('GET', `/v1/tasks/${root.id}/tree`)).json();
    const ids = [root.id, ...(tree.childIds as string[])];

    const before = Date.now();
    const res = await call('GET', `/v1/tasks/${root.id}/export`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="baton-${root.id}.json"`);
    const doc = res.json();
    expect(Object.keys(doc).sort()).toEqual(['conversations', 'events', 'exportedAt', 'root', 'version']);
    expect(doc.version).toBe(1);
    expect(Date.parse(doc.exportedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(doc.root).toEqual(tree);
    expect(JSON.stringify(doc)).not.toContain('"tenant"');

    expect(Object.keys(doc.conversations).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(doc.conversations[id]).toEqual((await call('GET', `/v1/tasks/${id}/messages`)).json().messages);
    expect(doc.conversations[root.id].at(-1)).toEqual({ role: 'assistant', content: 'children: echo: child 0, echo: child 1' });

    const events = doc.events as { id: string; type: string; taskId: string | null; sessionId: string }[];
    for (const e of events) expect(e.sessionId).toBe('s-export');
    // Only this tree's events (the other tree of the session is not in it), in stream order.
    expect(events.filter((e) => e.taskId === other.id)).toEqual([]);
    const streamOrder = (id: string) => id.split('-').map(Number) as [number, number];
    for (let i = 1; i < events.length; i++) {
      const [a, b] = [streamOrder(events[i - 1]!.id), streamOrder(events[i]!.id)];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])).toBe(true);
    }
    for (const id of ids) {
      expect(events.filter((e) => e.taskId === id && e.type === 'task.created')).toHaveLength(1);
      expect(events.filter((e) => e.taskId === id && e.type === 'task.completed')).toHaveLength(1);
    }
  });

  test('a subtask exports its own subtree; another tenant and unknown tasks are 404', async () => {
    const root = await submit('s-export-2', 'spawn:1');
    await waitForTask(h.engine, root.id, ['completed']);
    const childId = (await call('GET', `/v1/tasks/${root.id}`)).json().childIds[0] as string;
    const sub = await call('GET', `/v1/tasks/${childId}/export`);
    expect(sub.statusCode).toBe(200);
    expect(sub.json().root).toMatchObject({ id: childId, parentId: root.id, children: [] });
    expect(Object.keys(sub.json().conversations)).toEqual([childId]);

    expectProblem(await call('GET', `/v1/tasks/${root.id}/export`, GLOBEX), 404, 'task-not-found');
    expectProblem(await call('GET', '/v1/tasks/t_nope/export'), 404, 'task-not-found');
  });
});

test('the deletes and the export need a valid key (401) and delete nothing without one', async () => {
  const task = await submit('s-auth', 'mine');
  await waitForTask(h.engine, task.id, ['completed']);
  const anonymous: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-secret-0001' }];
  for (const [method, url] of [
    ['DELETE', '/v1/sessions/s-auth'],
    ['DELETE', `/v1/tasks/${task.id}`],
    ['GET', `/v1/tasks/${task.id}/export`],
  ] as const) {
    for (const headers of anonymous) expectProblem(await call(method, url, headers), 401, 'unauthorized');
  }
  expect((await call('GET', `/v1/tasks/${task.id}`)).json()).toMatchObject({ status: 'completed' });
  expect((await call('GET', '/v1/sessions/s-auth')).statusCode).toBe(200);
});

test('the OpenAPI document lists the deletes and the export with their statuses', async () => {
  const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  expect(Object.keys(doc.paths['/v1/sessions/{sessionId}'].delete.responses)).toEqual(expect.arrayContaining(['202', '204', '404']));
  expect(Object.keys(doc.paths['/v1/tasks/{taskId}'].delete.responses)).toEqual(expect.arrayContaining(['204', '404', '409']));
  expect(Object.keys(doc.paths['/v1/tasks/{taskId}/export'].get.responses)).toEqual(expect.arrayContaining(['200', '404']));
  expect(doc.components.schemas).toHaveProperty('TreeExport');
  expect(doc.components.schemas).toHaveProperty('SessionDeletion');
});
