import { EMPTY_USAGE } from '@baton/core';
import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true });
});
afterAll(async () => h.close());

const post = (url: string, payload?: object) => h.app.inject({ method: 'POST', url, ...(payload ? { payload } : {}) });

describe('session routes', () => {
  test('GET shows {id, status, activeTaskId, queuedTaskIds}; pause and resume are idempotent and gate dispatch', async () => {
    const first = (await post('/v1/sessions/s-pause/tasks', { prompt: 'hold:p' })).json();
    await h.model.started('p');
    const res = await h.app.inject('/v1/sessions/s-pause');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 's-pause', status: 'running', activeTaskId: first.id, queuedTaskIds: [], usage: EMPTY_USAGE, cost: 0 });

    for (let i = 0; i < 2; i++) {
      const paused = await post('/v1/sessions/s-pause/pause');
      expect(paused.statusCode).toBe(200);
      expect(paused.json()).toMatchObject({ id: 's-pause', status: 'paused', activeTaskId: first.id });
    }
    // While paused, the held task finishes its turn and the next root is not dispatched.
    h.model.release('p');
    await waitForTask(h.engine, first.id, ['completed']);
    const queued = (await post('/v1/sessions/s-pause/tasks', { prompt: 'after pause' })).json();
    expect((await h.app.inject('/v1/sessions/s-pause')).json()).toEqual({
      id: 's-pause',
      status: 'paused',
      activeTaskId: null,
      queuedTaskIds: [queued.id],
      usage: EMPTY_USAGE,
      cost: 0,
    });
    expect((await h.app.inject(`/v1/tasks/${queued.id}`)).json().status).toBe('queued');

    for (let i = 0; i < 2; i++) {
      const resumed = await post('/v1/sessions/s-pause/resume');
      expect(resumed.statusCode).toBe(200);
      expect(resumed.json().status).not.toBe('paused');
    }
    await waitForTask(h.engine, queued.id, ['completed']);
    expect((await h.app.inject('/v1/sessions/s-pause')).json()).toEqual({
      id: 's-pause',
      status: 'idle',
      activeTaskId: null,
      queuedTaskIds: [],
      usage: EMPTY_USAGE,
      cost: 0,
    });
  });

  test('a pause at a turn boundary parks the running task; resume continues it', async () => {
    await post('/v1/sessions/s-park/pause').then((r) => expect(r.statusCode).toBe(404)); // no session before the first submit
    const task = (await post('/v1/sessions/s-park/tasks', { prompt: 'spawn:1:hold:park' })).json();
    await h.model.started('park');
    expect((await post('/v1/sessions/s-park/pause')).statusCode).toBe(200);
    h.model.release('park'); // the child completes; the parent parks at its next checkpoint
    await waitForTask(h.engine, task.id, ['paused']);
    expect((await post('/v1/sessions/s-park/resume')).statusCode).toBe(200);
    await waitForTask(h.engine, task.id, ['completed']);
  });

  test('unknown sessions are 404 problems', async () => {
    for (const res of [await h.app.inject('/v1/sessions/ghost'), await post('/v1/sessions/ghost/pause'), await post('/v1/sessions/ghost/resume')]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ status: 404, type: 'urn:baton:problem:session-not-found' });
    }
  });
});
