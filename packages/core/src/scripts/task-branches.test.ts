import { ScriptFixture } from './script-fixture';

/**
 * The paths of the one-task scripts that task-scripts.test.ts does not take:
 * transitions that end no tree, a start that resumes a parked task, and the
 * turn boundary of a session that is not paused.
 */
describe('task scripts: the other paths of each reply', () => {
  const f = new ScriptFixture('task-branches');
  const { scripts } = f;
  afterAll(() => f.close());

  const eventTypes = async (sessionId: string) => (await f.redis.xrange(f.keys.events(sessionId), '-', '+')).map(([, fields]) => fields[1]);

  describe('transition', () => {
    it('ok without a tree to close: a non-terminal status, then a subtask ending while its root runs', async () => {
      const { taskId, token } = await f.running('tr');
      const childId = `${taskId}.a`;
      await scripts.spawnChild({
        sessionId: 'tr',
        parentId: taskId,
        token,
        childId,
        fields: { id: childId, sessionId: 'tr', parentId: taskId, rootId: taskId, tenant: 'default', mode: 'm', prompt: 'p' },
      });
      expect(await scripts.transition({ sessionId: 'tr', taskId, token, to: 'waiting' })).toEqual({
        kind: 'ok',
        previous: 'running',
        dispatched: [],
        closedIds: [],
        closedAt: 0,
      });
      const child = await scripts.startTask('tr', childId);
      const childToken = child.kind === 'ok' ? child.token : '';
      // A subtask ending neither releases the session lease nor closes the tree its root keeps open.
      expect(await scripts.transition({ sessionId: 'tr', taskId: childId, token: childToken, to: 'completed', event: { type: 'task.completed' } })).toEqual({
        kind: 'ok',
        previous: 'running',
        dispatched: [],
        closedIds: [],
        closedAt: 0,
      });
      expect(await eventTypes('tr')).toContain('task.completed');
      expect(await f.redis.lrange(f.keys.active('tr'), 0, -1)).toEqual([taskId]);
      // The root ending closes the whole tree.
      const root = await scripts.startTask('tr', taskId);
      const rootToken = root.kind === 'ok' ? root.token : '';
      const ended = await scripts.transition({ sessionId: 'tr', taskId, token: rootToken, to: 'completed' });
      expect(ended).toMatchObject({ kind: 'ok', previous: 'running', dispatched: [], closedIds: expect.arrayContaining([taskId, childId]) });
    });
  });

  describe('startTask', () => {
    it('ok from paused: the task leaves the parked set and the start is a resume', async () => {
      const { taskId, token } = await f.running('st');
      await scripts.setPaused('st', true);
      expect(await scripts.turnBoundary('st', taskId, token)).toEqual({ kind: 'parked' });
      await scripts.setPaused('st', false);
      expect(await scripts.startTask('st', taskId)).toMatchObject({ kind: 'ok', previous: 'paused', task: { status: 'running' } });
      expect(await f.redis.smembers(f.keys.parked('st'))).toEqual([]);
      expect(await eventTypes('st')).toEqual(expect.arrayContaining(['task.started', 'task.paused', 'task.resumed']));
    });
  });

  describe('turnBoundary', () => {
    it('carryOn without a turn in a session that is not paused: nothing is checked or written', async () => {
      const { taskId } = await f.running('tb');
      const before = await f.redis.xlen(f.keys.events('tb'));
      expect(await scripts.turnBoundary('tb', taskId, 'any token')).toEqual({ kind: 'carryOn' });
      expect(await f.redis.xlen(f.keys.events('tb'))).toBe(before);
    });

    it('carryOn with a turn records turn.started; notRunning for a task that is not running (the session not paused)', async () => {
      const { taskId, token } = await f.running('tb2');
      expect(await scripts.turnBoundary('tb2', taskId, token, 3)).toEqual({ kind: 'carryOn' });
      const [last] = (await f.redis.xrevrange(f.keys.events('tb2'), '+', '-', 'COUNT', 1)).map(([, fields]) => fields);
      expect(last).toEqual(expect.arrayContaining(['turn.started', taskId, '{"turn":3}']));
      await scripts.transition({ sessionId: 'tb2', taskId, token, to: 'waiting' });
      expect(await scripts.turnBoundary('tb2', taskId, token, 4)).toEqual({ kind: 'notRunning' });
    });
  });
});
