import { EMPTY_USAGE } from '@baton/core';
import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true });
});
afterAll(async () => h.close());

const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
const get = (url: string) => h.app.inject({ method: 'GET', url });

const TASK_KEYS = [
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
  'usage',
  'cost',
].sort();
/** A root also shows its tree's usage and cost, its budget and onBudget. */
const ROOT_KEYS = [...TASK_KEYS, 'treeUsage', 'treeCost', 'budget', 'onBudget'].sort();

describe('submit and read', () => {
  test('201 with exactly the public Task shape; the task runs to completion; messages in chat format', async () => {
    const res = await post('/v1/sessions/s-submit/tasks', { prompt: 'hello' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    const task = res.json();
    expect(Object.keys(task).sort()).toEqual(ROOT_KEYS);
    expect(task).toMatchObject({
      sessionId: 's-submit',
      parentId: null,
      rootId: task.id,
      mode: 'orchestrator',
      prompt: 'hello',
      childIds: [],
      result: null,
      error: null,
    });

    await waitForTask(h.engine, task.id, ['completed']);
    const done = (await get(`/v1/tasks/${task.id}`)).json();
    expect(Object.keys(done).sort()).toEqual(ROOT_KEYS);
    expect(done).toMatchObject({ id: task.id, status: 'completed', result: 'echo: hello', error: null, turns: 1 });
    for (const t of ['createdAt', 'startedAt', 'finishedAt']) expect(new Date(done[t]).toISOString()).toBe(done[t]);

    const messages = await get(`/v1/tasks/${task.id}/messages`);
    expect(messages.statusCode).toBe(200);
    expect(messages.json()).toEqual({
      messages: [
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'echo: hello' },
      ],
    });
  });

  test('mode and metadata are accepted; a failed task carries {code, message}', async () => {
    const res = await post('/v1/sessions/s-mode/tasks', { prompt: 'fail:boom', mode: 'ask', metadata: { ticket: 42 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ mode: 'ask' });
    expect(res.json()).not.toHaveProperty('metadata');
    await waitForTask(h.engine, res.json().id, ['failed']);
    expect((await get(`/v1/tasks/${res.json().id}`)).json()).toMatchObject({ status: 'failed', result: null, error: { code: 'SCRIPTED', message: 'boom' } });
  });

  test('tree nests descendants', async () => {
    const root = (await post('/v1/sessions/s-tree/tasks', { prompt: 'spawn:2' })).json();
    await waitForTask(h.engine, root.id, ['completed']);
    const tree = await get(`/v1/tasks/${root.id}/tree`);
    expect(tree.statusCode).toBe(200);
    const body = tree.json();
    expect(body).toMatchObject({ id: root.id, status: 'completed', result: 'children: echo: child 0, echo: child 1' });
    expect(body.children).toHaveLength(2);
    expect(body.childIds).toEqual(body.children.map((c: { id: string }) => c.id));
    for (const child of body.children) {
      expect(Object.keys(child).sort()).toEqual([...TASK_KEYS, 'children'].sort());
      expect(child).toMatchObject({ parentId: root.id, rootId: root.id, mode: 'code', status: 'completed', children: [] });
    }
    const child = (await get(`/v1/tasks/${body.children[0].id}`)).json();
    expect(child).toMatchObject({ parentId: root.id, status: 'completed' });
  });

  test('unknown tasks are 404 problems on every task route', async () => {
    for (const res of [
      await get('/v1/tasks/nope'),
      await get('/v1/tasks/nope/messages'),
      await get('/v1/tasks/nope/tree'),
      await post('/v1/tasks/nope/cancel'),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        status: 404,
        title: 'Task not found',
        type: 'urn:baton:problem:task-not-found',
        detail: expect.stringContaining('nope'),
      });
    }
  });
});

describe('idempotency', () => {
  test('a replay with the same key and body is 200 with the same task and Idempotent-Replayed; another body is 422', async () => {
    const headers = { 'idempotency-key': 'k-1' };
    const first = await post('/v1/sessions/s-idem/tasks', { prompt: 'once' }, headers);
    expect(first.statusCode).toBe(201);
    const replay = await post('/v1/sessions/s-idem/tasks', { prompt: 'once' }, headers);
    expect(replay.statusCode).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(first.json().id);

    const conflict = await post('/v1/sessions/s-idem/tasks', { prompt: 'other' }, headers);
    expect(conflict.statusCode).toBe(422);
    expect(conflict.json()).toMatchObject({ status: 422, type: 'urn:baton:problem:idempotency-conflict', taskId: first.json().id });
    // The same key in another session is another submission.
    expect((await post('/v1/sessions/s-idem-2/tasks', { prompt: 'once' }, headers)).statusCode).toBe(201);
  });

  test('50 concurrent identical submissions: one 201, 49 replays of the same task, one task in the session', async () => {
    const headers = { 'idempotency-key': 'k-race' };
    const responses = await Promise.all(Array.from({ length: 50 }, () => post('/v1/sessions/s-race/tasks', { prompt: 'race' }, headers)));
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 200)).toHaveLength(49);
    const ids = new Set(responses.map((r) => r.json().id));
    expect(ids.size).toBe(1);
    for (const r of responses.filter((r) => r.statusCode === 200)) expect(r.headers['idempotent-replayed']).toBe('true');
    const [id] = [...ids];
    await waitForTask(h.engine, id!, ['completed']);
    const created = (await h.engine.readEvents('s-race')).filter((e) => e.type === 'task.created');
    expect(created.map((e) => e.taskId)).toEqual([id]);
  });
});

describe('busy sessions', () => {
  test('enqueue runs roots in order; reject answers 409 naming the active task and creates nothing', async () => {
    const first = (await post('/v1/sessions/s-busy/tasks', { prompt: 'hold:busy' })).json();
    await h.model.started('busy');
    const queued = await post('/v1/sessions/s-busy/tasks', { prompt: 'second' });
    expect(queued.statusCode).toBe(201);
    expect(queued.json().status).toBe('queued');

    const rejected = await post('/v1/sessions/s-busy/tasks', { prompt: 'third', onBusy: 'reject' });
    expect(rejected.statusCode).toBe(409);
    expect(rejected.json()).toMatchObject({ status: 409, type: 'urn:baton:problem:session-busy', taskId: first.id, detail: expect.stringContaining(first.id) });
    const session = (await get('/v1/sessions/s-busy')).json();
    expect(session).toEqual({ id: 's-busy', status: 'running', activeTaskId: first.id, queuedTaskIds: [queued.json().id], usage: EMPTY_USAGE, cost: 0 });

    h.model.release('busy');
    await waitForTask(h.engine, queued.json().id, ['completed']);
    expect((await get(`/v1/tasks/${first.id}`)).json().status).toBe('completed');
    // Idle again: reject now creates.
    expect((await post('/v1/sessions/s-busy/tasks', { prompt: 'fourth', onBusy: 'reject' })).statusCode).toBe(201);
  });

  test('interrupt cancels the running tree and the queued roots, then runs the new task', async () => {
    const running = (await post('/v1/sessions/s-int/tasks', { prompt: 'spawn:1:hold:int' })).json();
    await h.model.started('int');
    const queued = (await post('/v1/sessions/s-int/tasks', { prompt: 'queued' })).json();
    const res = await post('/v1/sessions/s-int/tasks', { prompt: 'urgent', onBusy: 'interrupt' });
    expect(res.statusCode).toBe(201);
    await waitForTask(h.engine, res.json().id, ['completed']);
    const tree = (await get(`/v1/tasks/${running.id}/tree`)).json();
    expect(tree.status).toBe('cancelled');
    expect(tree.children[0].status).toBe('cancelled');
    expect((await get(`/v1/tasks/${queued.id}`)).json().status).toBe('cancelled');
    expect((await get(`/v1/tasks/${res.json().id}`)).json()).toMatchObject({ status: 'completed', result: 'echo: urgent' });
  });
});

describe('cancel', () => {
  test('202 with the cancelled task and its descendants; idempotent; 409 once completed', async () => {
    const root = (await post('/v1/sessions/s-cancel/tasks', { prompt: 'spawn:1:hold:cancel' })).json();
    await h.model.started('cancel');
    const res = await post(`/v1/tasks/${root.id}/cancel`);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ id: root.id, status: 'cancelled' });
    expect(Object.keys(res.json()).sort()).toEqual(ROOT_KEYS);
    const child = (await get(`/v1/tasks/${root.id}/tree`)).json().children[0];
    expect(child.status).toBe('cancelled');

    const again = await post(`/v1/tasks/${root.id}/cancel`, {}, { 'content-type': 'application/json' });
    expect(again.statusCode).toBe(202);
    expect(again.json().status).toBe('cancelled');

    // The lease passed on: the next root runs.
    const next = (await post('/v1/sessions/s-cancel/tasks', { prompt: 'after' })).json();
    await waitForTask(h.engine, next.id, ['completed']);
    const final = await post(`/v1/tasks/${next.id}/cancel`);
    expect(final.statusCode).toBe(409);
    expect(final.json()).toMatchObject({ status: 409, type: 'urn:baton:problem:task-already-final', taskId: next.id });
  });
});
