import { conversationProblems } from '../model/message';
import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';
import { deferred, type Deferred } from '@baton/testkit';

describe('durable subtasks', () => {
  const h = new Harness('subtasks');
  const runs = new Map<string, number>();
  const holds = new Map<string, Deferred<void>>();
  const holding = new Map<string, Deferred<string>>();
  const hold = (name: string) => {
    if (!holds.has(name)) holds.set(name, deferred());
    if (!holding.has(name)) holding.set(name, deferred<string>());
    return { release: () => holds.get(name)!.resolve(), started: holding.get(name)!.promise };
  };
  const handler = planHandler({
    onRun: (ctx) => runs.set(ctx.taskId, (runs.get(ctx.taskId) ?? 0) + 1),
    hold: async (name, ctx) => {
      hold(name);
      holding.get(name)!.resolve(ctx.taskId);
      await Promise.race([
        holds.get(name)!.promise,
        new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })),
      ]);
    },
  });
  let engine: ReturnType<Harness['engine']>;

  beforeAll(async () => {
    engine = h.engine();
    await h.worker(handler);
    await h.worker(handler);
  });
  afterAll(() => h.close());

  it('a parent with 3 sequential subtasks resumes exactly 3 times and records 3 results', async () => {
    const { task } = await engine.submit({
      sessionId: 'seq',
      prompt: plan({ children: [{ result: 'one' }, { result: 'two' }, { result: 'three' }] }),
    });
    const done = await h.settled(engine, task.id);
    expect(done.status).toBe('completed');
    expect(done.result).toBe('completed: one | completed: two | completed: three');
    expect(done.childIds).toEqual([`${task.id}.1.0`, `${task.id}.2.0`, `${task.id}.3.0`]);
    // First run + one run per child outcome.
    expect(runs.get(task.id)).toBe(4);
    const events = await engine.readEvents('seq');
    expect(events.filter((e) => e.taskId === task.id && e.type === 'task.resumed')).toHaveLength(3);
    const messages = (await engine.getMessages(task.id))!;
    expect(messages.filter((m) => m.role === 'tool')).toHaveLength(3);
    expect(conversationProblems(messages)).toEqual([]);
  });

  it('runs a nested tree root -> A -> B', async () => {
    const { task } = await engine.submit({
      sessionId: 'nested',
      prompt: plan({ children: [{ children: [{ result: 'leaf' }] }] }),
    });
    const done = await h.settled(engine, task.id);
    expect(done.result).toBe('completed: completed: leaf');
    const tree = (await engine.getTree(task.id))!;
    expect(tree.children[0]!.children[0]!.id).toBe(`${task.id}.1.0.1.0`);
    expect(tree.children[0]!.children[0]!.status).toBe('completed');
  });

  it('delivers a failed child to its parent as an outcome', async () => {
    const { task } = await engine.submit({ sessionId: 'failing', prompt: plan({ children: [{ fail: 'boom' }, { result: 'after' }] }) });
    const done = await h.settled(engine, task.id);
    expect(done.status).toBe('completed');
    expect(done.result).toBe('failed: boom | completed: after');
    const child = (await engine.getTask(`${task.id}.1.0`))!;
    expect(child.status).toBe('failed');
    expect(child.error).toEqual({ code: 'PLANNED_FAILURE', message: 'boom' });
  });

  it('delivers a cancelled child to its parent as an outcome; the parent carries on', async () => {
    const held = hold('cancel-me');
    const { task } = await engine.submit({ sessionId: 'cancelling', prompt: plan({ children: [{ hold: 'cancel-me' }] }) });
    const childId = await held.started;
    const { cancelled } = await engine.cancel(childId);
    expect(cancelled).toEqual([{ taskId: childId, previous: 'running' }]);
    const done = await h.settled(engine, task.id);
    expect(done.status).toBe('completed');
    expect(done.result).toBe('cancelled');
    expect((await engine.getTask(childId))!.status).toBe('cancelled');
    // Idempotent: cancelling again changes nothing.
    expect((await engine.cancel(childId)).cancelled).toEqual([]);
  });

  it('cancelling a parent while its child runs cancels the tree, and the session moves on', async () => {
    const held = hold('parent-cancel');
    const { task } = await engine.submit({ sessionId: 'tree-cancel', prompt: plan({ children: [{ hold: 'parent-cancel' }] }) });
    const { task: next } = await engine.submit({ sessionId: 'tree-cancel', prompt: plan({ result: 'next' }) });
    const childId = await held.started;
    const { cancelled } = await engine.cancel(task.id);
    expect(cancelled.map((c) => c.taskId).sort()).toEqual([task.id, childId].sort());
    expect((await h.settled(engine, task.id)).status).toBe('cancelled');
    expect((await h.settled(engine, childId)).status).toBe('cancelled');
    expect((await h.settled(engine, next.id)).result).toBe('next');
    await expect(engine.cancel(next.id)).rejects.toMatchObject({ code: 'TASK_ALREADY_FINAL' });
  });
});
