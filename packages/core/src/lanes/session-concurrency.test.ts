import { deferred, type Deferred } from '@baton/testkit';
import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';

describe('session concurrency option and retention', () => {
  const h = new Harness('conc', { sessionConcurrency: 2, gateTtlMs: 60_000 });
  const holds = new Map<string, Deferred<void>>();
  const started = new Map<string, Deferred<void>>();
  const get = (m: Map<string, Deferred<void>>, k: string) => {
    if (!m.has(k)) m.set(k, deferred());
    return m.get(k)!;
  };
  afterAll(() => h.close());

  it('with sessionConcurrency 2, two roots of a session hold the lease at once and the third waits its turn', async () => {
    const engine = h.engine();
    await h.worker(
      planHandler({
        hold: async (name) => {
          get(started, name).resolve();
          await get(holds, name).promise;
        },
      }),
    );
    const roots = [];
    for (const name of ['a', 'b', 'c']) roots.push((await engine.submit({ sessionId: 's', prompt: plan({ hold: name }) })).task);
    await Promise.all([get(started, 'a').promise, get(started, 'b').promise]);
    expect(await engine.getSession('s')).toMatchObject({ activeTaskIds: [roots[0]!.id, roots[1]!.id], queuedTaskIds: [roots[2]!.id] });
    get(holds, 'b').resolve();
    await get(started, 'c').promise;
    get(holds, 'a').resolve();
    get(holds, 'c').resolve();
    for (const r of roots) expect((await h.settled(engine, r.id)).status).toBe('completed');
  });

  it('committed responses expire gateTtlMs after their task ends (cancelled included)', async () => {
    const engine = h.engine();
    const { task } = await engine.submit({ sessionId: 'ttl', prompt: plan({ children: [{ result: 'x' }] }) });
    await h.settled(engine, task.id);
    const ttl = await engine.redis.pttl(engine.keys.gate('ttl', task.id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);

    const { task: held } = await engine.submit({ sessionId: 'ttl2', prompt: plan({ children: [{ hold: 'forever' }] }) });
    await h.event(engine, 'ttl2', (e) => e.type === 'task.waiting' && e.taskId === held.id);
    await engine.cancel(held.id);
    const cancelledTtl = await engine.redis.pttl(engine.keys.gate('ttl2', held.id));
    expect(cancelledTtl).toBeGreaterThan(0);
    get(holds, 'forever').resolve();
  });
});
