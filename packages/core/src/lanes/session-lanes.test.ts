import { barrier, deferred, type Deferred } from '@baton/testkit';
import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';
import type { Engine } from '../engine';

describe('session lanes', () => {
  const h = new Harness('lanes');
  const holds = new Map<string, Deferred<void>>();
  const started: string[] = [];
  const running = new Map<string, Set<string>>(); // session -> roots running now
  const maxRunning = new Map<string, number>();
  const startedWaiters = new Map<string, Deferred<void>>();
  const onStart = (name: string) => {
    if (!startedWaiters.has(name)) startedWaiters.set(name, deferred());
    return startedWaiters.get(name)!.promise;
  };
  const handler = planHandler({
    hold: async (name, ctx) => {
      const set = running.get(ctx.sessionId) ?? new Set();
      set.add(ctx.taskId);
      running.set(ctx.sessionId, set);
      maxRunning.set(ctx.sessionId, Math.max(maxRunning.get(ctx.sessionId) ?? 0, set.size));
      started.push(name);
      onStart(name);
      startedWaiters.get(name)!.resolve();
      if (!holds.has(name)) holds.set(name, deferred());
      await holds.get(name)!.promise;
      set.delete(ctx.taskId);
    },
  });
  const release = (name: string) => {
    if (!holds.has(name)) holds.set(name, deferred());
    holds.get(name)!.resolve();
  };
  let engine: Engine;

  beforeAll(async () => {
    engine = h.engine();
    // Several workers at once, enough slots for every session's root to run in parallel.
    for (let i = 0; i < 3; i++) await h.worker(handler, { concurrency: 8 });
  });
  afterAll(() => h.close());

  it('10 roots submitted concurrently to one session run in submission order without overlap, while 10 other sessions progress', async () => {
    const submitted = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.submit({ sessionId: 'busy', prompt: plan({ hold: `busy-${i}` }) })));
    // Submission order is the order the lane script ran in: the session's sequence.
    const order = (await Promise.all(submitted.map((s) => engine.tasks.raw('busy', s.task.id))))
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((raw) => JSON.parse(raw.prompt!).hold as string);

    const others = await Promise.all(Array.from({ length: 10 }, (_, i) => engine.submit({ sessionId: `other-${i}`, prompt: plan({ hold: `other-${i}` }) })));
    // All 10 other sessions start while the busy session's first root still holds the lease.
    await Promise.all(others.map((_, i) => onStart(`other-${i}`)));
    await onStart(order[0]!);
    expect(started.filter((n) => n.startsWith('busy-'))).toEqual([order[0]]);
    const session = await engine.getSession('busy');
    expect(session.activeTaskIds).toHaveLength(1);
    expect(session.queuedTaskIds).toHaveLength(9);

    for (let k = 0; k < 10; k++) {
      await onStart(order[k]!);
      // Nothing else of this session started before the previous root was released.
      expect(started.filter((n) => n.startsWith('busy-'))).toEqual(order.slice(0, k + 1));
      release(order[k]!);
    }
    for (const s of submitted) expect((await h.settled(engine, s.task.id)).status).toBe('completed');
    expect(maxRunning.get('busy')).toBe(1);
    others.forEach((_, i) => release(`other-${i}`));
    for (const o of others) expect((await h.settled(engine, o.task.id)).status).toBe('completed');
    expect((await engine.getSession('busy')).status).toBe('idle');
  });

  it('100 concurrent submissions with one idempotency key create one task; another payload is refused', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, () => engine.submit({ sessionId: 'idem', prompt: plan({ result: 'x' }), idempotencyKey: 'key-1' })),
    );
    const ids = new Set(results.map((r) => r.task.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const [id] = [...ids];
    await expect(engine.submit({ sessionId: 'idem', prompt: plan({ result: 'different' }), idempotencyKey: 'key-1' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      details: { taskId: id },
    });
    // Only one task was ever created in the session.
    const created = (await engine.readEvents('idem')).filter((e) => e.type === 'task.created');
    expect(created).toHaveLength(1);
    await h.settled(engine, id!);
    // Whatever the task's state, the same key returns it.
    const again = await engine.submit({ sessionId: 'idem', prompt: plan({ result: 'x' }), idempotencyKey: 'key-1' });
    expect(again).toMatchObject({ replayed: true, task: { id, status: 'completed' } });
  });

  it('onBusy reject refuses while the session is busy; interrupt cancels the running tree and queued roots', async () => {
    const { task: first } = await engine.submit({ sessionId: 'policy', prompt: plan({ hold: 'policy-1' }) });
    const { task: queued } = await engine.submit({ sessionId: 'policy', prompt: plan({ result: 'never' }) });
    await onStart('policy-1');
    await expect(engine.submit({ sessionId: 'policy', prompt: plan({}), onBusy: 'reject' })).rejects.toMatchObject({
      code: 'SESSION_BUSY',
      details: { taskId: first.id },
    });
    const { task: urgent, cancelled } = await engine.submit({ sessionId: 'policy', prompt: plan({ result: 'urgent' }), onBusy: 'interrupt' });
    expect(cancelled.map((c) => c.taskId).sort()).toEqual([first.id, queued.id].sort());
    release('policy-1');
    expect((await h.settled(engine, first.id)).status).toBe('cancelled');
    expect((await h.settled(engine, queued.id)).status).toBe('cancelled');
    expect((await h.settled(engine, urgent.id)).result).toBe('urgent');
  });

  it('a session belongs to its tenant', async () => {
    await engine.submit({ sessionId: 'owned', tenant: 'acme', prompt: plan({ result: 'a' }) });
    await expect(engine.submit({ sessionId: 'owned', tenant: 'evil', prompt: plan({}) })).rejects.toMatchObject({
      code: 'TASK_NOT_FOUND',
    });
  });

  it('pausing parks the running task at its next turn boundary and dispatches nothing; resume continues', async () => {
    const gateOpen = deferred();
    const arrived = barrier(1);
    const h2 = new Harness('pause');
    const e2 = h2.engine();
    await h2.worker(
      planHandler({
        onCall: async (_ctx, turn) => {
          if (turn === 1) {
            void arrived.arrive();
            await gateOpen.promise;
          }
        },
      }),
    );
    try {
      const { task } = await e2.submit({ sessionId: 'p', prompt: plan({ children: [{ result: 'a' }, { result: 'b' }] }) });
      const { task: second } = await e2.submit({ sessionId: 'p', prompt: plan({ result: 'second' }) });
      await arrived.reached; // turn 1 in flight
      expect((await e2.pause('p')).status).toBe('paused');
      expect((await e2.pause('p')).status).toBe('paused'); // idempotent
      gateOpen.resolve();
      // Turn 1 finishes, child 1 runs... the parent parks at the turn-2 boundary.
      await h2.event(e2, 'p', (e) => e.type === 'task.paused' && e.taskId === task.id);
      expect((await e2.getTask(task.id))!.status).toBe('paused');
      expect((await e2.getSession('p')).queuedTaskIds).toEqual([second.id]);
      const resumed = await e2.resume('p');
      expect(resumed.status).toBe('running');
      await e2.resume('p'); // idempotent
      expect((await h2.settled(e2, task.id)).result).toBe('completed: a | completed: b');
      expect((await h2.settled(e2, second.id)).result).toBe('second');
    } finally {
      await h2.close();
    }
  });
});
