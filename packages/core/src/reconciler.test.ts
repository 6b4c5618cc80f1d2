import { Reconciler, ReconcilerLockLostError } from './reconciler';
import { Harness } from './testing/harness';
import { plan, planHandler } from './testing/plan-handler';

describe('reconciler', () => {
  const h = new Harness('reconcile');
  afterAll(() => h.close());

  it('repairs a crash between the lane script and the BullMQ add', async () => {
    const engine = h.engine();
    await h.worker(planHandler());
    engine.ctx.racepoints.beforeJobAdd = async () => {
      throw new Error('simulated crash after the lane script');
    };
    await expect(engine.submit({ sessionId: 'lost', prompt: plan({ result: 'recovered' }) })).rejects.toThrow('simulated crash');
    engine.ctx.racepoints.beforeJobAdd = undefined;

    // The lease was taken, but no job exists: nothing would ever run it.
    const session = await engine.getSession('lost');
    expect(session.activeTaskIds).toHaveLength(1);
    const [taskId] = session.activeTaskIds;
    expect(await engine.queue.getJob(taskId!)).toBeUndefined();

    const report = await new Reconciler(engine, { graceMs: 0 }).reconcile();
    expect(report.redispatched).toBe(1);
    expect((await h.settled(engine, taskId!)).result).toBe('recovered');
    // A second pass finds nothing left to repair and forgets the idle session.
    const second = await new Reconciler(engine, { graceMs: 0 }).reconcile();
    expect(second).toMatchObject({ redispatched: 0, releasedLeases: 0 });
    expect(await engine.redis.zscore(engine.keys.sessionIndex(), 'lost')).toBeNull();
  });
});

describe('reconciler, orphaned lease', () => {
  // Its own prefix: no worker may run while the crash state is staged.
  const h = new Harness('reconcile-lease');
  afterAll(() => h.close());

  it('releases a lease left by a root that ended without handing over, and dispatches the next root', async () => {
    const engine = h.engine();
    const { task: first } = await engine.submit({ sessionId: 'orphan', prompt: plan({ result: 'first' }) });
    const { task: second } = await engine.submit({ sessionId: 'orphan', prompt: plan({ result: 'second' }) });
    // Crash window: the cancel script ran (the root is cancelled; its lease is kept until its
    // job stops) but the process died before delivering it, and the job is gone.
    await engine.scripts.cancel('orphan', first.id, 'cancelled, then the process died');
    await (await engine.queue.getJob(first.id))!.remove();
    expect((await engine.getSession('orphan')).activeTaskIds).toEqual([first.id]);

    const report = await new Reconciler(engine, { graceMs: 0 }).reconcile();
    expect(report.releasedLeases).toBe(1);
    expect(await engine.getSession('orphan')).toMatchObject({ activeTaskIds: [second.id], queuedTaskIds: [] });
    await h.worker(planHandler());
    expect((await h.settled(engine, second.id)).result).toBe('second');
  });
});

describe('reconciler lock', () => {
  const h = new Harness('reconcile-lock');
  afterAll(() => h.close());

  it('is fenced: a pass whose lease ran out stops before its next write and cannot release the new holder’s lock', async () => {
    const engine = h.engine();
    const a = new Reconciler(engine, { lockMs: 10_000 });
    const b = new Reconciler(engine, { lockMs: 10_000 });
    const held = (await a.acquire())!;
    expect(held).not.toBeNull();
    expect(await b.acquire()).toBeNull();
    // A's lease runs out (a pass that took too long) and B takes the lock.
    await engine.redis.del(held.keys.lock);
    const taken = (await b.acquire())!;
    expect(Number(taken.token)).toBeGreaterThan(Number(held.token));

    await expect(a.reconcile(held)).rejects.toBeInstanceOf(ReconcilerLockLostError);
    expect(await engine.scripts.lockRelease(held.keys, held.token)).toEqual({ kind: 'notHolder' });
    expect(await engine.redis.get(taken.keys.lock)).toBe(taken.token);
    // The holder's pass runs.
    await expect(b.reconcile(taken)).resolves.toMatchObject({ sessions: 0 });
    expect(await engine.scripts.lockRelease(taken.keys, taken.token)).toEqual({ kind: 'released' });
  });
});
