import { ScriptFixture } from './script-fixture';

describe('lane scripts', () => {
  const f = new ScriptFixture('lane-scripts', { maxQueuedRootsPerSession: 1 });
  const { scripts } = f;
  afterAll(() => f.close());

  describe('submitRoot', () => {
    it('created: the first root is dispatched at once, the next waits in the lane; sessionQueueFull past max queued roots', async () => {
      const first = await scripts.submitRoot(f.root('created'));
      expect(first).toMatchObject({ kind: 'created', taskId: expect.any(String), dispatched: [expect.any(String)], cancelled: [] });
      expect(first.kind === 'created' && first.createdAt).toBeGreaterThan(0);
      expect(await scripts.submitRoot(f.root('created'))).toMatchObject({ kind: 'created', dispatched: [] });
      // maxQueuedRootsPerSession is 1 here, and the lane holds one root now.
      expect(await scripts.submitRoot(f.root('created'))).toEqual({ kind: 'sessionQueueFull' });
    });

    it('replayed and idempotencyConflict: one idempotency key', async () => {
      const args = f.root('idem', { idempotencyKey: 'k' });
      const created = await scripts.submitRoot(args);
      expect(created.kind).toBe('created');
      expect(await scripts.submitRoot(f.root('idem', { idempotencyKey: 'k' }))).toEqual({ kind: 'replayed', taskId: args.taskId });
      expect(await scripts.submitRoot(f.root('idem', { idempotencyKey: 'k', payloadHash: 'other' }))).toEqual({
        kind: 'idempotencyConflict',
        existingTaskId: args.taskId,
      });
    });

    it('sessionBusy: onBusy reject while a root holds the lease', async () => {
      const first = f.root('busy');
      await scripts.submitRoot(first);
      expect(await scripts.submitRoot(f.root('busy', { onBusy: 'reject' }))).toEqual({ kind: 'sessionBusy', busyTaskId: first.taskId });
    });

    it('created with cancellations: onBusy interrupt', async () => {
      const first = f.root('interrupt');
      await scripts.submitRoot(first);
      expect(await scripts.submitRoot(f.root('interrupt', { onBusy: 'interrupt' }))).toMatchObject({
        kind: 'created',
        cancelled: [{ taskId: first.taskId, previous: 'queued' }],
      });
    });

    it('notFound: the session belongs to another tenant, or is being deleted', async () => {
      await scripts.submitRoot(f.root('tenant'));
      expect(await scripts.submitRoot(f.root('tenant', { tenant: 'other' }))).toEqual({ kind: 'notFound' });
      await scripts.stopSession('tenant', 'deleted');
      expect(await scripts.submitRoot(f.root('tenant'))).toEqual({ kind: 'notFound' });
    });

    it('sessionBusy names the lane head when no root holds the lease (a paused session)', async () => {
      await scripts.setPaused('busy-lane', true);
      const queued = f.root('busy-lane');
      expect(await scripts.submitRoot(queued)).toMatchObject({ kind: 'created', dispatched: [] });
      expect(await scripts.submitRoot(f.root('busy-lane', { onBusy: 'reject' }))).toEqual({ kind: 'sessionBusy', busyTaskId: queued.taskId });
    });

    it('replayed is answered before the lane is found full', async () => {
      const args = f.root('full-replay', { idempotencyKey: 'k' });
      await scripts.submitRoot(args);
      await scripts.submitRoot(f.root('full-replay'));
      expect(await scripts.submitRoot(f.root('full-replay'))).toEqual({ kind: 'sessionQueueFull' });
      expect(await scripts.submitRoot(f.root('full-replay', { idempotencyKey: 'k' }))).toEqual({ kind: 'replayed', taskId: args.taskId });
    });

    it('taskExists: a caller-chosen id that is taken', async () => {
      await scripts.submitRoot(f.root('taken', { taskId: 'same' }));
      expect(await scripts.submitRoot(f.root('taken', { taskId: 'same' }))).toEqual({ kind: 'taskExists', taskId: 'same' });
    });

    it('deadlinePassed: nothing is written', async () => {
      expect(await scripts.submitRoot(f.root('late', { deadline: 1 }))).toEqual({ kind: 'deadlinePassed' });
      expect(await f.redis.exists(f.keys.session('late'), f.keys.lane('late'))).toBe(0);
    });
  });

  describe('finishRoot', () => {
    it('releases the lease of a root and dispatches the next; a second call releases nothing', async () => {
      const first = f.root('finish');
      const second = f.root('finish');
      await scripts.submitRoot(first);
      await scripts.submitRoot(second);
      expect(await scripts.finishRoot('finish', first.taskId)).toEqual({ kind: 'ok', released: true, dispatched: [second.taskId] });
      expect(await scripts.finishRoot('finish', first.taskId)).toEqual({ kind: 'ok', released: false, dispatched: [] });
    });

    it('with no root id only dispatches: nothing while the lease is taken, the lane head once there is room', async () => {
      const first = f.root('redispatch');
      const second = f.root('redispatch');
      await scripts.submitRoot(first);
      await scripts.submitRoot(second);
      expect(await scripts.finishRoot('redispatch', '')).toEqual({ kind: 'ok', released: false, dispatched: [] });
      // A later submission may raise the session's concurrency (SESSION_CONCURRENCY changed).
      await f.redis.hset(f.keys.session('redispatch'), 'concurrency', 2);
      expect(await scripts.finishRoot('redispatch', '')).toEqual({ kind: 'ok', released: false, dispatched: [second.taskId] });
      expect(await f.redis.lrange(f.keys.active('redispatch'), 0, -1)).toEqual([first.taskId, second.taskId]);
    });
  });

  describe('setPaused', () => {
    it('changed and unchanged, pausing and resuming; a resume dispatches and lists parked tasks', async () => {
      expect(await scripts.setPaused('pause', true)).toEqual({ kind: 'changed', dispatched: [], parked: [] });
      expect(await scripts.setPaused('pause', true)).toEqual({ kind: 'unchanged', dispatched: [], parked: [] });
      const root = f.root('pause');
      expect(await scripts.submitRoot(root)).toMatchObject({ kind: 'created', dispatched: [] });
      await f.redis.sadd(f.keys.parked('pause'), 'p1');
      expect(await scripts.setPaused('pause', false)).toEqual({ kind: 'changed', dispatched: [root.taskId], parked: ['p1'] });
      expect(await scripts.setPaused('pause', false)).toEqual({ kind: 'unchanged', dispatched: [], parked: ['p1'] });
    });
  });
});
