import { deferred, type Deferred } from '@baton/testkit';
import { isBatonError } from '../errors';
import { Harness } from '../testing/harness';
import { plan, planHandler, type Plan } from '../testing/plan-handler';

/** A chain root -> child -> ... with `levels` subtask levels below the root. */
function chain(levels: number): Plan {
  return levels === 0 ? { result: 'leaf' } : { children: [chain(levels - 1)] };
}

describe('limits enforced by the engine', () => {
  const h = new Harness('limits', { maxDepth: 3, maxChildrenPerTask: 2, maxQueuedRootsPerSession: 3 });
  const holds = new Map<string, Deferred<void>>();
  const hold = (name: string) => {
    if (!holds.has(name)) holds.set(name, deferred());
    return holds.get(name)!;
  };
  const handler = planHandler({
    hold: (name, ctx) =>
      Promise.race([
        hold(name).promise,
        new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })),
      ]),
  });
  let engine: ReturnType<Harness['engine']>;

  beforeAll(async () => {
    engine = h.engine();
    await h.worker(handler);
  });
  afterAll(() => h.close());

  test('a tree reaches maxDepth; a spawn one level deeper is refused and fails the spawning task cleanly', async () => {
    const ok = (await engine.submit({ sessionId: 'deep-ok', prompt: plan(chain(3)) })).task;
    expect(await h.settled(engine, ok.id)).toMatchObject({ status: 'completed', result: 'completed: completed: completed: leaf' });
    const deepest = `${ok.id}.1.0.1.0.1.0`;
    expect((await engine.tasks.raw('deep-ok', deepest)).depth).toBe('3');

    const tooDeep = (await engine.submit({ sessionId: 'deep-no', prompt: plan(chain(4)) })).task;
    const done = await h.settled(engine, tooDeep.id);
    // The task at depth 3 could not spawn: it failed with the limit's code (no job retries),
    // and its parents received that failure as their child's outcome.
    const refused = (await engine.getTask(`${tooDeep.id}.1.0.1.0.1.0`))!;
    expect(refused).toMatchObject({ status: 'failed', childIds: [], error: { code: 'MAX_DEPTH_EXCEEDED' } });
    expect(refused.error!.message).toContain('at most 3 levels');
    expect(done).toMatchObject({ status: 'completed' });
    expect(done.result).toContain('failed:');
    // Nothing of the refused child was written, not even its index entry.
    expect(await engine.getTask(`${tooDeep.id}.1.0.1.0.1.0.1.0`)).toBeNull();
    expect(await engine.redis.exists(engine.ctx.keys.taskIndex(`${tooDeep.id}.1.0.1.0.1.0.1.0`))).toBe(0);
  });

  test('a task spawns at most maxChildrenPerTask subtasks', async () => {
    const { task } = await engine.submit({ sessionId: 'wide', prompt: plan({ children: [{ result: 'a' }, { result: 'b' }, { result: 'c' }] }) });
    const done = await h.settled(engine, task.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'MAX_CHILDREN_EXCEEDED' }, childIds: [`${task.id}.1.0`, `${task.id}.2.0`] });
    expect(done.error!.message).toContain('at most 2 subtasks');
  });

  test('a session holds at most maxQueuedRootsPerSession queued roots; replays, interrupts and other sessions still pass', async () => {
    const active = (await engine.submit({ sessionId: 'lane', prompt: plan({ hold: 'lane' }) })).task;
    const queued = [];
    for (let i = 0; i < 3; i++) {
      queued.push((await engine.submit({ sessionId: 'lane', prompt: plan({ result: `q${i}` }), idempotencyKey: `k${i}` })).task);
    }
    const refused = await engine.submit({ sessionId: 'lane', prompt: plan({ result: 'one too many' }) }).catch((e: unknown) => e);
    expect(isBatonError(refused, 'SESSION_QUEUE_FULL')).toBe(true);
    expect(refused).toMatchObject({ details: { limit: 3, sessionId: 'lane' } });
    expect((refused as Error).message).toContain('already has 3 queued root tasks');

    // Nothing of the refused submission was written.
    const session = await engine.getSession('lane');
    expect(session.queuedTaskIds).toEqual(queued.map((t) => t.id));
    const created = (await engine.readEvents('lane')).filter((e) => e.type === 'task.created');
    expect(created).toHaveLength(4);

    // An idempotent replay of an accepted submission is answered, full lane or not.
    const replay = await engine.submit({ sessionId: 'lane', prompt: plan({ result: 'q0' }), idempotencyKey: 'k0' });
    expect(replay).toMatchObject({ replayed: true, task: { id: queued[0]!.id } });
    expect((await engine.submit({ sessionId: 'lane-other', prompt: plan({ result: 'x' }) })).task.status).toBe('queued');

    // An interrupt empties the lane first, so it is never refused by it.
    const interrupt = await engine.submit({ sessionId: 'lane', prompt: plan({ result: 'now' }), onBusy: 'interrupt' });
    expect(interrupt.cancelled.map((c) => c.taskId).sort()).toEqual([active.id, ...queued.map((t) => t.id)].sort());
    expect(await h.settled(engine, interrupt.task.id)).toMatchObject({ status: 'completed', result: 'now' });
  });
});
