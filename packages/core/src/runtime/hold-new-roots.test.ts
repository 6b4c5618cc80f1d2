import { deferred } from '@baton/testkit';
import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';

/**
 * `holdNewRoots` (workers pass "Redis memory is high"): a root that has not
 * started is put back for later, while a tree already running goes on,
 * children and its root's resume included.
 */
describe('holding new roots', () => {
  const h = new Harness('hold-roots');
  afterAll(() => h.close());

  it('puts back roots that have not started and lets running trees finish; held roots run once released', async () => {
    const engine = h.engine();
    let holding = false;
    const childHolding = deferred();
    const releaseChild = deferred();
    const worker = await h.worker(
      planHandler({
        hold: async (name) => {
          if (name !== 'child') return;
          childHolding.resolve();
          await releaseChild.promise;
        },
      }),
      { holdNewRoots: () => holding, holdRetryMs: 100 },
    );
    const held: string[] = [];
    const secondHeld = deferred();
    worker.on('held', (taskId) => {
      held.push(taskId);
      if (held.length === 2) secondHeld.resolve();
    });

    // A tree is running (its child holds) when memory becomes high.
    // Its second child is spawned while holding: subtasks are never held.
    const running = await engine.submit({
      sessionId: 'running',
      prompt: plan({ children: [{ hold: 'child', result: 'c1' }, { result: 'c2' }], result: 'tree done' }),
    });
    await childHolding.promise;
    holding = true;

    // A new root is put back, again and again, without starting.
    const fresh = await engine.submit({ sessionId: 'fresh', prompt: plan({ result: 'fresh done' }) });
    await secondHeld.promise;
    expect(new Set(held)).toEqual(new Set([fresh.task.id]));
    expect((await engine.getTask(fresh.task.id))!.status).toBe('queued');

    // The running tree finishes while holding: the child ends and its root resumes (a root job, but started).
    releaseChild.resolve();
    expect(await h.settled(engine, running.task.id)).toMatchObject({ status: 'completed', result: 'tree done' });
    const tree = await engine.getTree(running.task.id);
    expect(tree!.children.map((c) => [c.status, c.result])).toEqual([
      ['completed', 'c1'],
      ['completed', 'c2'],
    ]);
    expect((await engine.getTask(fresh.task.id))!.status).toBe('queued');
    expect(held.every((id) => id === fresh.task.id)).toBe(true);

    // Memory back below the mark: the held root runs.
    holding = false;
    expect(await h.settled(engine, fresh.task.id)).toMatchObject({ status: 'completed', result: 'fresh done' });
  });
});

describe('holding new roots, cancel', () => {
  // Its own prefix: only the holding worker may see these jobs.
  const h = new Harness('hold-cancel');
  afterAll(() => h.close());

  it('a held root can be cancelled: it ends at once and its session moves on', async () => {
    const engine = h.engine();
    const firstHeld = deferred();
    const worker = await h.worker(planHandler(), { holdNewRoots: () => true, holdRetryMs: 60_000 });
    worker.on('held', () => firstHeld.resolve());
    const held = await engine.submit({ sessionId: 'cancel-held', prompt: plan({ result: 'never' }) });
    const next = await engine.submit({ sessionId: 'cancel-held', prompt: plan({ result: 'next' }) });
    await firstHeld.promise;
    await engine.cancel(held.task.id);
    expect((await engine.getTask(held.task.id))!.status).toBe('cancelled');
    // The lease passed to the next root, which is held in turn (not lost).
    expect((await engine.getSession('cancel-held')).activeTaskIds).toEqual([next.task.id]);
  });
});
