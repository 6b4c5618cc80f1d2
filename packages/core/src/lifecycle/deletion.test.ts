import { deferred, waitUntil, type Deferred } from '@baton/testkit';
import type { Engine } from '../engine';
import { Reconciler } from '../reconciler';
import { Harness } from '../testing/harness';
import { existing, jobKey, scanSession } from '../testing/key-probe';
import { plan, planHandler } from '../testing/plan-handler';

describe('deleteSession and deleteTree', () => {
  const h = new Harness('delete');
  const holds = new Map<string, Deferred<void>>();
  const started = new Map<string, Deferred<string>>();
  const once = <T>(map: Map<string, Deferred<T>>, name: string) => {
    if (!map.has(name)) map.set(name, deferred<T>());
    return map.get(name)!;
  };
  let engine: Engine;

  beforeAll(async () => {
    engine = h.engine();
    await h.worker(
      planHandler({
        // Ignores the abort on purpose: the runner holds its task until the test releases it.
        hold: async (name, ctx) => {
          once(started, name).resolve(ctx.taskId);
          await once(holds, name).promise;
        },
      }),
    );
  });
  afterAll(() => h.close());

  /** Everything a session leaves outside its slot: task-index entries and job hashes. */
  const outside = (ids: string[]) => ids.flatMap((id) => [engine.keys.taskIndex(id), jobKey(engine, id)]);
  const jobsFinished = (ids: string[]) =>
    waitUntil(async () => (await Promise.all(ids.map((id) => engine.queue.getJobState(id)))).every((s) => s === 'completed'), 5000);

  it('deletes an idle session entirely, then answers not_found', async () => {
    const { task } = await engine.submit({ sessionId: 'idle', prompt: plan({ children: [{ result: 'c' }] }), idempotencyKey: 'k' });
    await h.settled(engine, task.id);
    const ids = [task.id, `${task.id}.1.0`];
    await jobsFinished(ids);

    expect(await engine.deleteSession('idle')).toEqual({ state: 'deleted' });
    expect(await scanSession(engine, 'idle')).toEqual([]);
    expect(await existing(engine, outside(ids))).toEqual([]);
    expect(await engine.redis.zscore(engine.keys.sessionIndex(), 'idle')).toBeNull();
    expect(await engine.getTask(task.id)).toBeNull();
    expect(await engine.deleteSession('idle')).toEqual({ state: 'not_found' });
    expect(await engine.deleteSession('never-existed')).toEqual({ state: 'not_found' });
  });

  it('stops a running session first (stopping), refuses submits meanwhile, then deletes it', async () => {
    const { task } = await engine.submit({ sessionId: 'busy', prompt: plan({ children: [{ hold: 'busy' }] }) });
    const { task: queued } = await engine.submit({ sessionId: 'busy', prompt: plan({ result: 'never runs' }) });
    const childId = await once(started, 'busy').promise;

    expect(await engine.deleteSession('busy')).toEqual({ state: 'stopping' });
    expect((await engine.getTask(task.id))!.status).toBe('cancelled');
    expect((await engine.getTask(childId))!.status).toBe('cancelled');
    expect((await engine.getTask(queued.id))!.status).toBe('cancelled');
    await expect(engine.submit({ sessionId: 'busy', prompt: plan({}) })).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    // Still held by its runner: asking again changes nothing.
    expect(await engine.deleteSession('busy')).toEqual({ state: 'stopping' });

    once(holds, 'busy').resolve();
    // The reconciler finishes the deletion once the runners have stopped.
    const reconciler = new Reconciler(engine, { graceMs: 0 });
    await waitUntil(async () => (await reconciler.reconcile()).deletedSessions === 1, 10_000);
    expect(await scanSession(engine, 'busy')).toEqual([]);
    expect(await existing(engine, outside([task.id, childId, queued.id]))).toEqual([]);
    expect(await engine.redis.zscore(engine.keys.sessionIndex(), 'busy')).toBeNull();
    expect(await engine.deleteSession('busy')).toEqual({ state: 'not_found' });

    // A new session of that id starts from nothing.
    const { task: fresh } = await engine.submit({ sessionId: 'busy', prompt: plan({ result: 'new life' }) });
    expect((await h.settled(engine, fresh.id)).result).toBe('new life');
  });

  it('deleteTree refuses a running tree and a subtask, then deletes the finished tree only', async () => {
    const { task: other } = await engine.submit({ sessionId: 'trees', prompt: plan({ result: 'kept' }) });
    await h.settled(engine, other.id);
    const { task } = await engine.submit({ sessionId: 'trees', prompt: plan({ children: [{ hold: 'tree' }] }) });
    const childId = await once(started, 'tree').promise;

    expect(await engine.deleteTree(task.id)).toBe('not_terminal');
    expect(await engine.deleteTree(childId)).toBe('not_root');
    expect(await engine.deleteTree('t_unknown')).toBe('not_found');

    once(holds, 'tree').resolve();
    await h.settled(engine, task.id);
    expect(await engine.deleteTree(childId)).toBe('not_root');
    await jobsFinished([task.id, childId]);
    expect(await engine.deleteTree(task.id)).toBe('deleted');

    const { keys } = engine;
    const left = await scanSession(engine, 'trees');
    expect(left.filter((k) => k.includes(task.id))).toEqual([]);
    expect(await existing(engine, outside([task.id, childId]))).toEqual([]);
    expect(await engine.redis.zscore(keys.roots('trees'), task.id)).toBeNull();
    expect(await engine.getTask(task.id)).toBeNull();
    expect(await engine.deleteTree(task.id)).toBe('not_found');
    // The other tree and the session are untouched.
    expect((await engine.getTask(other.id))!.result).toBe('kept');
    expect(left).toEqual(expect.arrayContaining([keys.session('trees'), keys.events('trees'), keys.task('trees', other.id)]));
  });

  it('deleteTree refuses a cancelled root whose job is still stopping', async () => {
    const { task } = await engine.submit({ sessionId: 'stopping-tree', prompt: plan({ hold: 'root' }) });
    await once(started, 'root').promise;
    await engine.cancel(task.id);
    expect((await engine.getTask(task.id))!.status).toBe('cancelled');
    // Cancelled, but its runner still holds it (and the session lease).
    expect(await engine.deleteTree(task.id)).toBe('not_terminal');
    once(holds, 'root').resolve();
    await waitUntil(async () => (await engine.getSession('stopping-tree')).activeTaskIds.length === 0, 5000);
    expect(await engine.deleteTree(task.id)).toBe('deleted');
  });
});

describe('deleteSession, nothing started (no worker runs here)', () => {
  const h = new Harness('delete-unstarted');
  afterAll(() => h.close());

  it('deletes at once a session whose roots never started, with their jobs', async () => {
    const engine = h.engine();
    const { task } = await engine.submit({ sessionId: 'unstarted', prompt: plan({}) });
    const { task: queued } = await engine.submit({ sessionId: 'unstarted', prompt: plan({}) });
    expect(await engine.queue.getJobState(task.id)).toBe('waiting');
    expect(await engine.deleteSession('unstarted')).toEqual({ state: 'deleted' });
    expect(await scanSession(engine, 'unstarted')).toEqual([]);
    const outside = [task.id, queued.id].flatMap((id) => [engine.keys.taskIndex(id), jobKey(engine, id)]);
    expect(await existing(engine, outside)).toEqual([]);
    expect(await engine.queue.getWaitingCount()).toBe(0);
  });
});
