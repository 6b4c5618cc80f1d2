import { ScriptFixture } from './script-fixture';

describe('task scripts', () => {
  const f = new ScriptFixture('task-scripts', { maxDepth: 1, maxChildrenPerTask: 1 });
  const { scripts } = f;
  afterAll(() => f.close());

  describe('startTask', () => {
    it('ok: a fresh token, the task decoded, its conversation; each start fences out the previous runner', async () => {
      const { taskId } = (await scripts.submitRoot(f.root('start'))) as { taskId: string };
      const first = await scripts.startTask('start', taskId);
      expect(first).toMatchObject({ kind: 'ok', previous: 'queued', task: { id: taskId, status: 'running', childIds: [] }, messages: [] });
      const second = await scripts.startTask('start', taskId);
      expect(second).toMatchObject({ kind: 'ok', previous: 'running' });
      expect(second.kind === 'ok' && first.kind === 'ok' && Number(second.token) > Number(first.token)).toBe(true);
    });

    it('notFound, terminal, illegalTransition', async () => {
      expect(await scripts.startTask('start', 'nope')).toEqual({ kind: 'notFound' });
      const { taskId } = (await scripts.submitRoot(f.root('start-end'))) as { taskId: string };
      await scripts.transition({ sessionId: 'start-end', taskId, to: 'failed' });
      expect(await scripts.startTask('start-end', taskId)).toEqual({ kind: 'terminal', status: 'failed' });
      await f.redis.hset(f.keys.task('start-end', 'odd'), 'status', 'unknown-state');
      expect(await scripts.startTask('start-end', 'odd')).toEqual({ kind: 'illegalTransition', status: 'unknown-state' });
    });
  });

  describe('transition', () => {
    it('ok: a root ending releases its lease, dispatches the next root and closes its tree', async () => {
      const { taskId, token } = await f.running('tr');
      const { taskId: next } = (await scripts.submitRoot(f.root('tr'))) as { taskId: string };
      const reply = await scripts.transition({ sessionId: 'tr', taskId, token, to: 'completed', fields: { result: 'r' } });
      expect(reply).toMatchObject({ kind: 'ok', previous: 'running', dispatched: [next], closedIds: [taskId] });
      expect(reply.kind === 'ok' && reply.closedAt).toBeGreaterThan(Date.now());
    });

    it('notFound, staleToken, illegalTransition', async () => {
      expect(await scripts.transition({ sessionId: 'tr', taskId: 'nope', to: 'failed' })).toEqual({ kind: 'notFound' });
      const { taskId } = await f.running('tr2');
      expect(await scripts.transition({ sessionId: 'tr2', taskId, token: 'old', to: 'completed' })).toEqual({ kind: 'staleToken', previous: 'running' });
      await scripts.transition({ sessionId: 'tr2', taskId, to: 'failed' });
      expect(await scripts.transition({ sessionId: 'tr2', taskId, to: 'running' })).toEqual({ kind: 'illegalTransition', previous: 'failed' });
    });
  });

  describe('turnBoundary', () => {
    it('carryOn, staleToken, parked (session paused), notRunning (already parked)', async () => {
      const { taskId, token } = await f.running('tb');
      expect(await scripts.turnBoundary('tb', taskId, token, 1)).toEqual({ kind: 'carryOn' });
      expect(await scripts.turnBoundary('tb', taskId, 'old', 1)).toEqual({ kind: 'staleToken' });
      await scripts.setPaused('tb', true);
      expect(await scripts.turnBoundary('tb', taskId, token)).toEqual({ kind: 'parked' });
      expect(await f.redis.smembers(f.keys.parked('tb'))).toEqual([taskId]);
      expect(await scripts.turnBoundary('tb', taskId, token)).toEqual({ kind: 'notRunning' });
    });
  });

  describe('spawnChild', () => {
    const child = (parentId: string, childId: string, token: string) => ({
      sessionId: 'sp',
      parentId,
      token,
      childId,
      fields: { id: childId, sessionId: 'sp', parentId, rootId: parentId, tenant: 'default', mode: 'm', prompt: 'p' },
    });

    it('created, exists (a replayed spawn), staleToken, maxChildrenExceeded, maxDepthExceeded, parentNotRunning', async () => {
      const { taskId, token } = await f.running('sp');
      expect(await scripts.spawnChild(child(taskId, `${taskId}.a`, token))).toEqual({ kind: 'created' });
      expect(await scripts.spawnChild(child(taskId, `${taskId}.a`, token))).toEqual({ kind: 'exists' });
      expect(await scripts.spawnChild(child(taskId, `${taskId}.b`, 'old'))).toEqual({ kind: 'staleToken' });
      expect(await scripts.spawnChild(child(taskId, `${taskId}.b`, token))).toEqual({ kind: 'maxChildrenExceeded', limit: 1 });
      const started = await scripts.startTask('sp', `${taskId}.a`);
      const childToken = started.kind === 'ok' ? started.token : '';
      expect(await scripts.spawnChild(child(`${taskId}.a`, `${taskId}.a.x`, childToken))).toEqual({ kind: 'maxDepthExceeded', limit: 1 });
      await scripts.transition({ sessionId: 'sp', taskId, token, to: 'waiting' });
      expect(await scripts.spawnChild(child(taskId, `${taskId}.c`, token))).toEqual({ kind: 'parentNotRunning' });
    });
  });

  describe('appendMessages', () => {
    it('ok (and ok again for a re-send of the same append), lengthMismatch, staleToken', async () => {
      const { taskId, token } = await f.running('ap');
      const msg = JSON.stringify({ role: 'user', content: 'hi' });
      expect(await scripts.appendMessages('ap', taskId, token, { append: { expectedLength: 0, encoded: [msg] } })).toEqual({ kind: 'ok', length: 1 });
      expect(await scripts.appendMessages('ap', taskId, token, { append: { expectedLength: 0, encoded: [msg] } })).toEqual({ kind: 'ok', length: 1 });
      expect(
        await scripts.appendMessages('ap', taskId, token, { append: { expectedLength: 0, encoded: [JSON.stringify({ role: 'user', content: 'other' })] } }),
      ).toEqual({
        kind: 'lengthMismatch',
        length: 1,
      });
      expect(await scripts.appendMessages('ap', taskId, 'old', { append: { expectedLength: 1, encoded: [msg] } })).toEqual({ kind: 'staleToken', length: 1 });
      const started = await scripts.startTask('ap', taskId);
      expect(started).toMatchObject({ kind: 'ok', messages: [{ role: 'user', content: 'hi' }] });
    });
  });
});
