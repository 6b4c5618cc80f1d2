import { publishModeCatalog } from '@baton/core';
import { startHarness, type Harness } from '../test-utils/harness';

/** Submitted modes against the catalogue the workers publish (no worker here: the test publishes it). */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const submit = (sessionId: string, mode: string) => h.app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/tasks`, payload: { prompt: 'hi', mode } });

describe('mode validation', () => {
  test('a mode name with a dot is refused by the schema (400), catalogue or not', async () => {
    const res = await submit('s-dot', 'code.v2');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_INPUT', detail: expect.stringContaining('no dots') });
  });

  test('before any worker published a catalogue, any well-formed slug is accepted', async () => {
    expect((await submit('s-nocat', 'anything-goes')).statusCode).toBe(201);
  });

  test('with a catalogue: a known mode is accepted, an unknown one is 422 UNKNOWN_MODE listing the known modes', async () => {
    await publishModeCatalog(h.engine.redis, h.engine.keys, [
      { slug: 'orchestrator', name: 'Orchestrator' },
      { slug: 'code', name: 'Code', whenToUse: 'writing code' },
    ]);
    expect((await submit('s-known', 'code')).statusCode).toBe(201);
    const res = await submit('s-unknown', 'reviewer');
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      code: 'UNKNOWN_MODE',
      status: 422,
      detail: 'unknown mode "reviewer"; known modes: orchestrator, code',
      modes: ['orchestrator', 'code'],
    });
    // A worker that starts with a new mode is believed at once (an unknown slug re-reads the catalogue).
    await publishModeCatalog(h.engine.redis, h.engine.keys, [{ slug: 'reviewer', name: 'Reviewer' }]);
    expect((await submit('s-new', 'reviewer')).statusCode).toBe(201);
  });

  test("a task's todo list (stored by the worker's update_todo_list) is part of the public task", async () => {
    const task = (await submit('s-todos', 'reviewer')).json() as { id: string; todos?: unknown };
    expect(task.todos).toBeUndefined();
    const todos = [{ text: 'review', status: 'in_progress' }];
    await h.redis.hset(h.engine.keys.task('s-todos', task.id), 'todos', JSON.stringify(todos));
    const read = await h.app.inject({ method: 'GET', url: `/v1/tasks/${task.id}` });
    expect(read.json()).toMatchObject({ id: task.id, todos });
  });
});
