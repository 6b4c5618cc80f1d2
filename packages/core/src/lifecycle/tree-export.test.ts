import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';
import { TreeExportSchema } from './tree-export';

describe('exportTree', () => {
  const h = new Harness('export');
  afterAll(() => h.close());

  it('exports a tree with every conversation and the events of its tasks only', async () => {
    const engine = h.engine();
    await h.worker(planHandler());
    const { task: before } = await engine.submit({ sessionId: 'exp', prompt: plan({ result: 'another tree' }) });
    const { task } = await engine.submit({ sessionId: 'exp', prompt: plan({ children: [{ children: [{ result: 'leaf' }] }, { result: 'b' }] }) });
    await h.settled(engine, task.id);
    const ids = [task.id, `${task.id}.1.0`, `${task.id}.1.0.1.0`, `${task.id}.2.0`];

    const exported = (await engine.exportTree(task.id))!;
    expect(TreeExportSchema.parse(JSON.parse(JSON.stringify(exported)))).toEqual(exported);
    expect(exported.version).toBe(1);
    expect(Date.now() - Date.parse(exported.exportedAt)).toBeLessThan(60_000);
    expect(exported.root).toEqual(await engine.getTree(task.id));
    expect(Object.keys(exported.conversations).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(exported.conversations[id]).toEqual(await engine.getMessages(id));

    const all = await engine.readEvents('exp');
    const mine = all.filter((e) => e.taskId !== null && ids.includes(e.taskId));
    expect(exported.events).toEqual(mine);
    expect(exported.events.some((e) => e.taskId === before.id)).toBe(false);
    for (const id of ids) expect(exported.events.filter((e) => e.taskId === id && e.type === 'task.created')).toHaveLength(1);
    expect(exported.events.at(-1)).toMatchObject({ taskId: task.id, type: 'task.completed' });

    // A subtask's export is its subtree.
    const sub = (await engine.exportTree(`${task.id}.1.0`))!;
    expect(Object.keys(sub.conversations).sort()).toEqual([`${task.id}.1.0`, `${task.id}.1.0.1.0`]);
    expect(sub.root.children.map((c) => c.id)).toEqual([`${task.id}.1.0.1.0`]);
    expect(sub.events.every((e) => e.taskId!.startsWith(`${task.id}.1.0`))).toBe(true);

    expect(await engine.exportTree('t_missing')).toBeNull();
  });

  it('reads past one page of events', async () => {
    const engine = h.engine();
    // 1,200 events (pause/resume) before the tree's own: the export pages through them.
    for (let i = 0; i < 600; i++) {
      await engine.pause('paged');
      await engine.resume('paged');
    }
    const { task } = await engine.submit({ sessionId: 'paged', prompt: plan({ result: 'x' }) });
    await h.settled(engine, task.id);
    const exported = (await engine.exportTree(task.id))!;
    expect(exported.events.map((e) => e.type)).toEqual(expect.arrayContaining(['task.created', 'task.started', 'task.completed']));
    expect(exported.events.every((e) => e.taskId === task.id)).toBe(true);
  });
});
