import { ScriptFixture } from './script-fixture';

describe('lifecycle scripts', () => {
  const f = new ScriptFixture('lifecycle-scripts');
  const { scripts } = f;
  afterAll(() => f.close());

  describe('cancel', () => {
    it('ok with the tasks it cancelled, ok with none when already cancelled, notFound, alreadyFinal', async () => {
      const { taskId } = await f.running('c');
      expect(await scripts.cancel('c', taskId, 'why')).toEqual({ kind: 'ok', previous: 'running', cancelled: [{ taskId, previous: 'running' }] });
      expect(await scripts.cancel('c', taskId, 'why')).toEqual({ kind: 'ok', previous: 'cancelled', cancelled: [] });
      expect(await scripts.cancel('c', 'nope', 'why')).toEqual({ kind: 'notFound' });
      const done = await f.running('c2');
      await scripts.transition({ sessionId: 'c2', taskId: done.taskId, token: done.token, to: 'completed' });
      expect(await scripts.cancel('c2', done.taskId, 'why')).toEqual({ kind: 'alreadyFinal', status: 'completed' });
    });
  });

  describe('stopSession and deleteSession', () => {
    it('stop: ok with cancellations and task ids; delete: stopping while a root holds the lease, then deleted', async () => {
      const { taskId } = await f.running('d');
      const stop = await scripts.stopSession('d', 'deleted');
      expect(stop).toEqual({ kind: 'ok', cancelled: [{ taskId, previous: 'running' }], taskIds: [taskId] });
      expect(await scripts.deleteSession('d')).toEqual({ kind: 'stopping' });
      await scripts.finishRoot('d', taskId);
      expect(await scripts.deleteSession('d')).toEqual({ kind: 'deleted', taskIds: [taskId] });
      expect(await f.redis.exists(f.keys.session('d'), f.keys.task('d', taskId))).toBe(0);
      expect(await scripts.stopSession('d', 'deleted')).toEqual({ kind: 'notFound' });
    });
  });

  describe('deleteTree', () => {
    it('notTerminal while running, notRoot on a subtask, deleted once over, then notFound', async () => {
      const { taskId, token } = await f.running('t');
      expect(await scripts.deleteTree('t', taskId)).toEqual({ kind: 'notTerminal' });
      const childId = `${taskId}.a`;
      await scripts.spawnChild({
        sessionId: 't',
        parentId: taskId,
        token,
        childId,
        fields: { id: childId, sessionId: 't', parentId: taskId, rootId: taskId, tenant: 'default', mode: 'm', prompt: 'p' },
      });
      expect(await scripts.deleteTree('t', childId)).toEqual({ kind: 'notRoot' });
      await scripts.cancel('t', taskId, 'done');
      // Every task is over, but the cancelled root's job has not stopped yet: it still holds the lease.
      expect(await scripts.deleteTree('t', taskId)).toEqual({ kind: 'notTerminal' });
      await scripts.finishRoot('t', taskId);
      expect(await scripts.deleteTree('t', taskId)).toEqual({ kind: 'deleted', taskIds: expect.arrayContaining([taskId, childId]) });
      expect(await scripts.deleteTree('t', taskId)).toEqual({ kind: 'notFound' });
    });
  });

  describe('forgetSession', () => {
    it('removed at the score the reconciler saw, kept when touched since', async () => {
      await f.redis.zadd(f.keys.sessionIndex(), 100, 'f');
      expect(await scripts.forgetSession('f', '99')).toEqual({ kind: 'kept' });
      expect(await scripts.forgetSession('f', '100')).toEqual({ kind: 'removed' });
      expect(await f.redis.zscore(f.keys.sessionIndex(), 'f')).toBeNull();
    });
  });
});
