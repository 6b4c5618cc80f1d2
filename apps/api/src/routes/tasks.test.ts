import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true });
});
afterAll(async () => h.close());

const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

const TASK_KEYS = ['id', 'sessionId', 'parentId', 'rootId', 'mode', 'prompt', 'status', 'result', 'error', 'childIds', 'turns', 'createdAt', 'startedAt', 'finishedAt'].sort();

describe('task routes', () => {
  test('submit returns 201 with exactly the public Task shape, and the task runs to completion', async () => {
    const res = await post('/v1/sessions/s-submit/tasks', { prompt: 'hello' });
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const task = res.json();
    expect(Object.keys(task).sort()).toEqual(TASK_KEYS);
    expect(task).toMatchObject({ sessionId: 's-submit', parentId: null, mode: 'orchestrator', prompt: 'hello', status: expect.any(String), childIds: [] });
    expect(task.rootId).toBe(task.id);

    await waitForTask(h.engine, task.id, ['completed']);
    const done = (await h.app.inject(`/v1/tasks/${task.id}`)).json();
    expect(done).toMatchObject({ id: task.id, status: 'completed', result: 'echo: hello', error: null, turns: 1 });
    expect(Object.keys(done).sort()).toEqual(TASK_KEYS);
    for (const t of ['createdAt', 'startedAt', 'finishedAt']) expect(new Date(done[t]).toISOString()).toBe(done[t]);

    const messages = await h.app.inject(`/v1/tasks/${task.id}/messages`);
    expect(messages.statusCode).toBe(200);
    expect(messages.json()).toEqual({ messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: 'echo: hello' }] });
  });

  test('mode is taken from the body; unknown task is a 404 problem', async () => {
    const res = await post('/v1/sessions/s-mode/tasks', { prompt: 'x', mode: 'ask' });
    expect(res.statusCode).toBe(201);
    expect(res.json().mode).toBe('ask');
    const missing = await h.app.inject('/v1/tasks/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ status: 404, title: 'Task not found', type: expect.stringContaining('task-not-found'), detail: expect.any(String) });
  });
});
