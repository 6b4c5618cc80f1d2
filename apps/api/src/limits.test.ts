import { MAX_DEPTH_CAP } from '@baton/core';
import { performance } from 'node:perf_hooks';
import { parseEnv } from './env';
import { startHarness, waitForTask, type Harness } from './test-utils/harness';

/**
 * Limits as API users meet them: a full session lane is a 429 problem, an
 * interrupt of a full lane is one bounded step, and a tree at the deepest
 * allowed level is reachable through every task route.
 */
let h: Harness;
beforeAll(async () => {
  // The deepest MAX_DEPTH one may configure: ids of its deepest tasks pass 128 characters in plain form.
  h = await startHarness({ worker: true, engine: { maxDepth: MAX_DEPTH_CAP } });
});
afterAll(async () => h.close());

const post = (url: string, payload?: object) => h.app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload }) });
const get = (url: string) => h.app.inject({ method: 'GET', url });

describe('MAX_QUEUED_ROOTS_PER_SESSION', () => {
  test('a submission past a full lane is 429 problem+json; an interrupt of the full lane replaces it in one bounded step', async () => {
    const max = h.app.config.maxQueuedRootsPerSession;
    expect(max).toBe(100);
    const active = (await post('/v1/sessions/s-full/tasks', { prompt: 'hold:full' })).json();
    await h.model.started('full');
    const queued: string[] = [];
    for (let i = 0; i < max; i++) {
      const res = await post('/v1/sessions/s-full/tasks', { prompt: `queued ${i}` });
      expect(res.statusCode).toBe(201);
      queued.push(res.json().id);
    }

    const refused = await post('/v1/sessions/s-full/tasks', { prompt: 'one too many' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toEqual({
      type: 'urn:baton:problem:session-queue-full',
      title: 'Session queue full',
      status: 429,
      code: 'SESSION_QUEUE_FULL',
      limit: max,
      detail: expect.stringContaining(`already has ${max} queued root tasks (MAX_QUEUED_ROOTS_PER_SESSION)`),
    });
    const session = (await get('/v1/sessions/s-full')).json();
    expect(session.queuedTaskIds).toEqual(queued);

    // The interrupt cancels the running tree and every queued root in one script (O(n): the
    // lane is dropped at once) and touches BullMQ only for roots that had a job.
    const started = performance.now();
    const interrupt = await post('/v1/sessions/s-full/tasks', { prompt: 'right now', onBusy: 'interrupt' });
    const ms = performance.now() - started;
    expect(interrupt.statusCode).toBe(201);
    process.stdout.write(`interrupt of a lane with ${max} queued roots and a running root: ${ms.toFixed(1)} ms (HTTP, in-process)\n`);

    const cancelled = (await h.engine.readEvents('s-full')).filter((e) => e.type === 'task.cancelled').map((e) => e.taskId);
    expect(cancelled.sort()).toEqual([active.id, ...queued].sort());
    await waitForTask(h.engine, interrupt.json().id, ['completed']);
    expect((await get(`/v1/tasks/${interrupt.json().id}`)).json()).toMatchObject({ status: 'completed', result: 'echo: right now' });
    expect((await get('/v1/sessions/s-full')).json()).toMatchObject({ status: 'idle', activeTaskId: null, queuedTaskIds: [] });
  });
});

describe('a tree at the deepest allowed level', () => {
  test(`every task route works on a task at depth ${MAX_DEPTH_CAP}; ids stay within 128 characters`, async () => {
    const root = (await post('/v1/sessions/s-deep/tasks', { prompt: `nest:${MAX_DEPTH_CAP}:hold:deep` })).json();
    const deepestId = await h.model.started('deep');

    // The chain, read from the root's tree.
    const chain: { id: string; parentId: string | null; status: string }[] = [];
    let node = (await get(`/v1/tasks/${root.id}/tree`)).json();
    for (;;) {
      chain.push(node);
      if (node.children.length === 0) break;
      expect(node.children).toHaveLength(1);
      node = node.children[0];
    }
    expect(chain).toHaveLength(MAX_DEPTH_CAP + 1);
    expect(chain[MAX_DEPTH_CAP]!.id).toBe(deepestId);
    for (const [depth, task] of chain.entries()) {
      expect(task.id.length).toBeLessThanOrEqual(128);
      expect(task.id).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(task.parentId).toBe(depth === 0 ? null : chain[depth - 1]!.id);
    }
    // Past 128 characters the ids switch to the bounded form, still prefixed by the root id.
    expect(deepestId.startsWith(`${root.id}..`)).toBe(true);

    const task = await get(`/v1/tasks/${deepestId}`);
    expect(task.statusCode).toBe(200);
    expect(task.json()).toMatchObject({ id: deepestId, rootId: root.id, parentId: chain[MAX_DEPTH_CAP - 1]!.id, status: 'running', prompt: 'hold:deep' });
    const tree = await get(`/v1/tasks/${deepestId}/tree`);
    expect(tree.statusCode).toBe(200);
    expect(tree.json()).toMatchObject({ id: deepestId, children: [] });
    const messages = await get(`/v1/tasks/${deepestId}/messages`);
    expect(messages.statusCode).toBe(200);
    expect(messages.json()).toEqual({ messages: [{ role: 'user', content: 'hold:deep' }] });
    const cancel = await post(`/v1/tasks/${deepestId}/cancel`);
    expect(cancel.statusCode).toBe(202);
    expect(cancel.json()).toMatchObject({ id: deepestId, status: 'cancelled' });

    // The cancellation travels up as each parent's child outcome; the root completes.
    await waitForTask(h.engine, root.id, ['completed']);
    expect((await get(`/v1/tasks/${chain[MAX_DEPTH_CAP - 1]!.id}`)).json()).toMatchObject({ status: 'completed', result: 'children: cancelled' });
    const again = await post(`/v1/tasks/${deepestId}/cancel`);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ status: 'cancelled' });
  });

  test('a subtask one level deeper is refused by the engine: the task that tried fails cleanly, its parent hears of it', async () => {
    const root = (await post('/v1/sessions/s-too-deep/tasks', { prompt: `nest:${MAX_DEPTH_CAP + 1}:leaf` })).json();
    await waitForTask(h.engine, root.id, ['completed', 'failed']);
    let node = (await get(`/v1/tasks/${root.id}/tree`)).json();
    const chain = [node];
    while (node.children.length) chain.push((node = node.children[0]));
    expect(chain).toHaveLength(MAX_DEPTH_CAP + 1);
    expect(node).toMatchObject({ status: 'failed', error: { code: 'MAX_DEPTH_EXCEEDED' }, childIds: [] });
    expect(chain[MAX_DEPTH_CAP - 1]).toMatchObject({ status: 'completed', result: 'children: failed' });
  });
});

describe('MAX_QUEUED_ROOTS_PER_SESSION in the environment', () => {
  const KEYS = { API_KEYS: 'acme:acme-secret-0001' };
  test('defaults to 100; 1 to 10000; anything else stops the API with a message naming it', () => {
    expect(parseEnv(KEYS).maxQueuedRootsPerSession).toBe(100);
    expect(parseEnv({ ...KEYS, MAX_QUEUED_ROOTS_PER_SESSION: '' }).maxQueuedRootsPerSession).toBe(100);
    expect(parseEnv({ ...KEYS, MAX_QUEUED_ROOTS_PER_SESSION: '7' }).maxQueuedRootsPerSession).toBe(7);
    for (const bad of ['0', '10001', 'many', '1.5']) {
      expect(() => parseEnv({ ...KEYS, MAX_QUEUED_ROOTS_PER_SESSION: bad })).toThrow(/→ at MAX_QUEUED_ROOTS_PER_SESSION$/m);
    }
  });
});
