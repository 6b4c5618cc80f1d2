import { deferred, waitUntil } from '@baton/testkit';
import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';

describe('task totals kept as work happens', () => {
  const h = new Harness('stats');
  const release = deferred<void>();
  const started = deferred<string>();
  const handler = planHandler({
    hold: async (_name, ctx) => {
      started.resolve(ctx.taskId);
      await Promise.race([
        release.promise,
        new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })),
      ]);
    },
  });
  afterAll(() => h.close());

  it('counts roots and children once each, and every end by status, through replays, cancels and interrupts', async () => {
    const engine = h.engine();
    await h.worker(handler);
    expect(await engine.stats.read()).toEqual({ created: { root: 0, child: 0 }, ended: { completed: 0, failed: 0, cancelled: 0 } });

    // A root with two children (completed), then a failing root.
    const tree = await engine.submit({ sessionId: 's1', prompt: plan({ children: [{ result: 'a' }, { result: 'b' }] }), idempotencyKey: 'k1' });
    await h.settled(engine, tree.task.id);
    const replay = await engine.submit({ sessionId: 's1', prompt: plan({ children: [{ result: 'a' }, { result: 'b' }] }), idempotencyKey: 'k1' });
    expect(replay.replayed).toBe(true);
    const failing = await engine.submit({ sessionId: 's2', prompt: plan({ fail: 'no' }) });
    expect((await h.settled(engine, failing.task.id)).status).toBe('failed');

    // A running root interrupted by a new submit (cancelled), a queued one cancelled by request.
    const held = await engine.submit({ sessionId: 's3', prompt: plan({ hold: 'h' }) });
    await started.promise;
    const queued = await engine.submit({ sessionId: 's3', prompt: plan({ result: 'later' }) });
    await engine.cancel(queued.task.id);
    await engine.cancel(queued.task.id); // already cancelled: counted once
    const interrupting = await engine.submit({ sessionId: 's3', prompt: plan({ result: 'now' }), onBusy: 'interrupt' });
    expect((await h.settled(engine, held.task.id)).status).toBe('cancelled');
    expect((await h.settled(engine, interrupting.task.id)).status).toBe('completed');

    // A worker counts an end right after the transition and before its job finishes: wait for the jobs.
    for (const [id, state] of [
      [tree.task.id, 'completed'],
      [failing.task.id, 'completed'],
      [interrupting.task.id, 'completed'],
    ] as const) {
      await waitUntil(async () => (await engine.queue.getJobState(id)) === state, 10_000);
    }
    expect(await engine.stats.read()).toEqual({ created: { root: 5, child: 2 }, ended: { completed: 4, failed: 1, cancelled: 2 } });
    // One small hash, whatever the number of tasks.
    expect(await engine.redis.hlen(engine.keys.stats())).toBe(5);
  });
});
