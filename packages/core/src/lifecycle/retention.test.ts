import { deferred, waitUntil, type Deferred } from '@baton/testkit';
import type { Engine } from '../engine';
import { Reconciler } from '../reconciler';
import { Harness } from '../testing/harness';
import { existing, jobKey, pttls, scanSession } from '../testing/key-probe';
import { plan, planHandler } from '../testing/plan-handler';

/** root -> child -> grandchild: every task ends; the root and the child made model calls (gate keys). */
const THREE_LEVELS = plan({ children: [{ children: [{ result: 'leaf' }] }] });
const treeIds = (rootId: string) => [rootId, `${rootId}.1.0`, `${rootId}.1.0.1.0`];

function completed(h: Harness, engine: Engine, sessionId: string, taskId: string) {
  // Waits on the event itself: with a short retention the task hash may be gone soon after.
  return h.event(engine, sessionId, (e) => e.taskId === taskId && (e.type === 'task.completed' || e.type === 'task.failed'));
}

describe('retention: a finished tree expires', () => {
  const RETENTION = 60_000;
  const h = new Harness('retain', { retentionMs: RETENTION });
  let engine: Engine;
  beforeAll(async () => {
    engine = h.engine();
    await h.worker(planHandler());
  });
  afterAll(() => h.close());

  it('gives every key of a 3-level tree, its index entries and its idle session one deadline', async () => {
    const { task } = await engine.submit({ sessionId: 'ttl', prompt: THREE_LEVELS, idempotencyKey: 'k-ttl' });
    await completed(h, engine, 'ttl', task.id);
    const ids = treeIds(task.id);
    const { keys } = engine;
    // The worker makes the index entries follow right after the closing transition.
    await waitUntil(async () => (await engine.redis.pttl(keys.taskIndex(task.id))) > 0, 5000);

    const sessionKeys = await scanSession(engine, 'ttl');
    const expected = [
      ...ids.flatMap((id) => [keys.task('ttl', id), keys.conversation('ttl', id)]),
      keys.children('ttl', task.id),
      keys.children('ttl', ids[1]!),
      keys.gate('ttl', task.id),
      keys.gate('ttl', ids[1]!),
      keys.session('ttl'),
      keys.fence('ttl'),
      keys.events('ttl'),
      keys.roots('ttl'),
      keys.idempotency('ttl', 'default', 'k-ttl'),
    ];
    expect(sessionKeys).toEqual(expect.arrayContaining(expected));
    const ttl = await pttls(engine, [...sessionKeys, ...ids.map((id) => keys.taskIndex(id))]);
    for (const [key, value] of Object.entries(ttl)) {
      expect([key, value > 0 && value <= RETENTION]).toEqual([key, true]);
    }
    // The tree's keys and the session's share a deadline (within the test's own delay).
    expect(Math.abs(ttl[keys.task('ttl', task.id)]! - ttl[keys.session('ttl')]!)).toBeLessThan(1000);

    // BullMQ jobs are removed by age (BullMQ on later completions, the reconciler's sweep otherwise).
    for (const id of ids) {
      const job = (await engine.queue.getJob(id))!;
      expect(job.opts.removeOnComplete).toEqual({ age: RETENTION / 1000, count: 1000 });
    }
  });
});

describe('retention: an orphan', () => {
  const h = new Harness('retain-orphan', { retentionMs: 60_000 });
  afterAll(() => h.close());

  it('makes an orphan tree (root failed while a child ran) expire when the orphan ends', async () => {
    const release: Deferred<void> = deferred();
    const started: Deferred<string> = deferred();
    const engine = h.engine();
    await h.worker(
      planHandler({
        hold: async (_name, ctx) => {
          started.resolve(ctx.taskId);
          await release.promise;
        },
      }),
    );
    const { task } = await engine.submit({ sessionId: 'orphan', prompt: plan({ children: [{ hold: 'orphan', result: 'late' }] }) });
    const childId = await started.promise;
    await h.event(engine, 'orphan', (e) => e.type === 'task.waiting' && e.taskId === task.id);
    // The root fails without its child (as a job that failed for good does): the child is an orphan.
    await engine.tasks.transition({
      sessionId: 'orphan',
      taskId: task.id,
      to: 'failed',
      fields: { errorCode: 'JOB_FAILED', errorMessage: 'simulated' },
      event: { type: 'task.failed' },
    });
    const { keys } = engine;
    expect(await engine.redis.pttl(keys.task('orphan', task.id))).toBe(-1);
    expect(await engine.redis.pttl(keys.session('orphan'))).toBe(-1);

    release.resolve();
    await completed(h, engine, 'orphan', childId);
    // The tree's index entries follow its close one command each (on a cluster they live in other slots): wait for both.
    await waitUntil(async () => (await engine.redis.pttl(keys.taskIndex(childId))) > 0 && (await engine.redis.pttl(keys.taskIndex(task.id))) > 0, 5000);
    const ttl = await pttls(engine, [
      keys.task('orphan', task.id),
      keys.task('orphan', childId),
      keys.conversation('orphan', childId),
      keys.session('orphan'),
      keys.taskIndex(task.id),
    ]);
    for (const [key, value] of Object.entries(ttl)) expect([key, value > 0]).toEqual([key, true]);
  });
});

describe('retention 0 keeps everything', () => {
  const h = new Harness('retain0', { retentionMs: 0 });
  afterAll(() => h.close());

  it('leaves no expiry on the tree, the index or the session', async () => {
    const engine = h.engine();
    await h.worker(planHandler());
    const { task } = await engine.submit({ sessionId: 'keep', prompt: THREE_LEVELS });
    await h.settled(engine, task.id);
    const { keys } = engine;
    const ids = treeIds(task.id);
    const ttl = await pttls(engine, [
      ...ids.flatMap((id) => [keys.task('keep', id), keys.conversation('keep', id), keys.taskIndex(id)]),
      keys.children('keep', task.id),
      keys.session('keep'),
      keys.events('keep'),
      keys.fence('keep'),
      keys.roots('keep'),
    ]);
    for (const [key, value] of Object.entries(ttl)) expect([key, value]).toEqual([key, -1]);
    expect((await engine.queue.getJob(task.id))!.opts.removeOnComplete).toEqual({ count: 1000 });
  });
});

describe('retention: an idle session disappears', () => {
  const RETENTION = 300;
  const h = new Harness('retain-short', { retentionMs: RETENTION });
  let engine: Engine;
  // A root planned with `hold: 'second'` waits here, so checks see it while it still runs.
  let release: Deferred<void> = deferred();
  beforeAll(async () => {
    engine = h.engine();
    await h.worker(planHandler({ hold: () => release.promise }));
  });
  afterAll(() => h.close());

  it('removes every key of the session, its index entries and (reconciler) its jobs and index entry', async () => {
    const { task } = await engine.submit({ sessionId: 'gone', prompt: THREE_LEVELS });
    await completed(h, engine, 'gone', task.id);
    const ids = treeIds(task.id);
    const outside = [...ids.map((id) => engine.keys.taskIndex(id))];
    await waitUntil(async () => (await scanSession(engine, 'gone')).length === 0 && (await existing(engine, outside)).length === 0, 10_000);

    // The jobs finished more than the retention ago: the reconciler's sweep removes them, and
    // it forgets the session (which the closing transitions put in its index).
    expect(await engine.redis.zscore(engine.keys.sessionIndex(), 'gone')).not.toBeNull();
    await waitUntil(async () => (await engine.queue.getJobState(task.id)) === 'completed', 5000);
    await waitUntil(async () => {
      await new Reconciler(engine, { graceMs: 0 }).reconcile();
      return (
        (
          await existing(
            engine,
            ids.map((id) => jobKey(engine, id)),
          )
        ).length === 0
      );
    }, 10_000);
    expect(await engine.redis.zscore(engine.keys.sessionIndex(), 'gone')).toBeNull();
    expect(await engine.getTask(task.id)).toBeNull();
    expect(await engine.getSession('gone')).toMatchObject({ status: 'idle', activeTaskIds: [], queuedTaskIds: [] });
  });

  it('a submit racing the expiry leaves a whole session, never half of one', async () => {
    // Each round lands a submit at a different point around the session's deadline:
    // before it (the keys are made persistent again), on it, or after it (a fresh session).
    // -1: after the deadline.
    for (const lead of [150, 60, 20, 5, 1, 0, -1]) {
      const { task: first } = await engine.submit({ sessionId: 'race', prompt: plan({ result: 'first' }) });
      await completed(h, engine, 'race', first.id);
      await waitUntil(
        async () => {
          const ttl = await engine.redis.pttl(engine.keys.session('race'));
          return lead < 0 ? ttl === -2 : ttl === -2 || (ttl >= 0 && ttl <= lead);
        },
        5000,
        1,
      );
      release = deferred();
      const { task } = await engine.submit({ sessionId: 'race', prompt: plan({ hold: 'second', result: 'second' }) });
      // Whatever the timing, the session now holds the new root and nothing of it expires.
      const { keys } = engine;
      const ttl = await pttls(engine, [keys.session('race'), keys.active('race'), keys.events('race'), keys.roots('race'), keys.task('race', task.id)]);
      for (const [key, value] of Object.entries(ttl)) expect([lead, key, value]).toEqual([lead, key, -1]);
      expect(await engine.redis.hget(keys.session('race'), 'retention')).toBe(String(RETENTION));
      expect(await engine.redis.zscore(keys.roots('race'), task.id)).toBe('inf');
      release.resolve();
      const done = await completed(h, engine, 'race', task.id);
      expect([lead, done.type]).toEqual([lead, 'task.completed']);
    }
    // And after the last tree the session expires again, entirely.
    await waitUntil(async () => (await scanSession(engine, 'race')).length === 0, 10_000);
  });
});

describe('retention: crash repairs (no worker runs here)', () => {
  const h = new Harness('retain-crash', { retentionMs: 60_000 });
  afterAll(() => h.close());

  it('the reconciler makes index entries follow a tree closed (or deleted) by a process that then died', async () => {
    const engine = h.engine();
    const { keys } = engine;
    const { task } = await engine.submit({ sessionId: 'crash', prompt: plan({}) });
    // The closing transition as a process runs it, minus what follows the script: it died there.
    await engine.scripts.transition({ sessionId: 'crash', taskId: task.id, to: 'failed' });
    expect(await engine.redis.pttl(keys.task('crash', task.id))).toBeGreaterThan(0);
    expect(await engine.redis.pttl(keys.taskIndex(task.id))).toBe(-1);
    expect(await engine.redis.smembers(keys.unindexed('crash'))).toEqual([task.id]);

    const report = await new Reconciler(engine, { graceMs: 0 }).reconcile();
    expect(report.followedIndexEntries).toBe(1);
    expect(await engine.redis.pttl(keys.taskIndex(task.id))).toBeGreaterThan(0);
    expect(await engine.redis.exists(keys.unindexed('crash'))).toBe(0);

    // The same for a deletion: the tree's keys went, the process died before the index entry.
    await engine.scripts.deleteTree('crash', task.id);
    expect(await engine.redis.exists(keys.taskIndex(task.id))).toBe(1);
    await engine.redis.zadd(keys.sessionIndex(), Date.now(), 'crash');
    expect((await new Reconciler(engine, { graceMs: 0 }).reconcile()).followedIndexEntries).toBe(1);
    expect(await engine.redis.exists(keys.taskIndex(task.id))).toBe(0);
    expect(await engine.getTask(task.id)).toBeNull();
  });
});
