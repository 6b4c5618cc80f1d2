import type { CarriedWrites } from './task-scripts';
import { ScriptFixture } from './script-fixture';

/**
 * A runner's carried writes (lua/includes/carried-writes): messages, fields
 * and events that ride on the next script the runner sends (append,
 * turn boundary, transition), and the gate commit that counts a turn's usage
 * in the same step. Every reply branch of each carrier, against real Redis.
 */
describe('carried writes', () => {
  const f = new ScriptFixture('carried-writes');
  const { scripts } = f;
  afterAll(() => f.close());

  const msg = (content: string) => JSON.stringify({ role: 'user', content });
  const carry = (expectedLength: number, ...contents: string[]): CarriedWrites => ({
    append: { expectedLength, encoded: contents.map(msg) },
    fields: { turns: 1 },
    events: [{ type: 'turn.completed', data: { turn: 1 } }],
  });
  const conversation = async (s: string, taskId: string) => (await f.redis.lrange(f.keys.conversation(s, taskId), 0, -1)).map((m) => JSON.parse(m).content);
  const eventTypes = async (s: string) => (await f.redis.xrange(f.keys.events(s), '-', '+')).map(([, kv]) => kv[kv.indexOf('type') + 1]);

  it('transition: the carried messages, fields and event land before the status change, in one script', async () => {
    const { taskId, token } = await f.running('tc');
    const reply = await scripts.transition({
      sessionId: 'tc',
      taskId,
      token,
      to: 'completed',
      fields: { result: 'r' },
      event: { type: 'task.completed' },
      carry: carry(0, 'a', 'b'),
    });
    expect(reply).toMatchObject({ kind: 'ok', previous: 'running' });
    expect(await conversation('tc', taskId)).toEqual(['a', 'b']);
    expect(await f.redis.hmget(f.keys.task('tc', taskId), 'turns', 'status')).toEqual(['1', 'completed']);
    const types = await eventTypes('tc');
    expect(types.slice(-2)).toEqual(['turn.completed', 'task.completed']);
  });

  it('transition: lengthMismatch applies nothing (no message, no field, no status change); staleToken before any carried write', async () => {
    const { taskId, token } = await f.running('tm');
    await scripts.appendMessages('tm', taskId, token, { append: { expectedLength: 0, encoded: [msg('x')] } });
    const before = await eventTypes('tm');
    expect(await scripts.transition({ sessionId: 'tm', taskId, token, to: 'completed', carry: carry(0, 'a') })).toEqual({ kind: 'lengthMismatch', length: 1 });
    expect(await scripts.transition({ sessionId: 'tm', taskId, token: 'old', to: 'completed', carry: carry(1, 'a') })).toEqual({
      kind: 'staleToken',
      previous: 'running',
    });
    expect(await conversation('tm', taskId)).toEqual(['x']);
    expect(await f.redis.hmget(f.keys.task('tm', taskId), 'turns', 'status')).toEqual(['0', 'running']);
    expect(await eventTypes('tm')).toEqual(before);
  });

  it('turnBoundary: carryOn applies the carried writes, then turn.started; parked applies them too; lengthMismatch applies nothing', async () => {
    const { taskId, token } = await f.running('tbc');
    expect(await scripts.turnBoundary('tbc', taskId, token, 1, carry(0, 'sys', 'user'))).toEqual({ kind: 'carryOn' });
    expect(await conversation('tbc', taskId)).toEqual(['sys', 'user']);
    expect((await eventTypes('tbc')).slice(-2)).toEqual(['turn.completed', 'turn.started']);
    // Without a turn, carried writes alone still need the runner: refused for a stale one.
    expect(await scripts.turnBoundary('tbc', taskId, 'old', undefined, carry(2, 'z'))).toEqual({ kind: 'staleToken' });
    expect(await scripts.turnBoundary('tbc', taskId, token, 2, carry(5, 'z'))).toEqual({ kind: 'lengthMismatch', length: 2 });
    expect(await conversation('tbc', taskId)).toEqual(['sys', 'user']);
    await scripts.setPaused('tbc', true);
    expect(await scripts.turnBoundary('tbc', taskId, token, 2, carry(2, 'tool'))).toEqual({ kind: 'parked' });
    expect(await conversation('tbc', taskId)).toEqual(['sys', 'user', 'tool']);
    expect(await f.redis.hget(f.keys.task('tbc', taskId), 'status')).toBe('paused');
  });

  it('appendMessages: carries fields and events with the messages; a re-send of an applied call writes nothing twice', async () => {
    const { taskId, token } = await f.running('ac');
    const before = (await eventTypes('ac')).length;
    expect(await scripts.appendMessages('ac', taskId, token, carry(0, 'a'))).toEqual({ kind: 'ok', length: 1 });
    expect(await scripts.appendMessages('ac', taskId, token, carry(0, 'a'))).toEqual({ kind: 'ok', length: 1 });
    expect(await conversation('ac', taskId)).toEqual(['a']);
    expect((await eventTypes('ac')).length).toBe(before + 1);
    // Only bookkeeping (no message): applied, and the length is not asked for.
    expect(await scripts.appendMessages('ac', taskId, token, { fields: { turns: 2 } })).toEqual({ kind: 'ok', length: -1 });
    expect(await f.redis.hget(f.keys.task('ac', taskId), 'turns')).toBe('2');
  });

  it('forgetRollups: applied roll-ups leave the session’s pending ones with the carrying script, others stay', async () => {
    const { taskId, token } = await f.running('fr');
    const key = f.keys.ofSession('fr', 'rollups');
    await f.redis.hset(key, 'a:1', '{}', 'a:2', '{}', 'b:1', '{}');
    await scripts.transition({ sessionId: 'fr', taskId, token, to: 'completed', carry: { forgetRollups: { key, ids: ['a:1', 'a:2'] } } });
    expect(await f.redis.hkeys(key)).toEqual(['b:1']);
  });

  it('startTask: a parent resumed after its child ended gets the newest child outcome with the claim', async () => {
    const { taskId } = await f.running('lc');
    const first = await scripts.startTask('lc', taskId);
    if (first.kind !== 'ok') throw new Error(first.kind);
    expect(first).not.toHaveProperty('lastChild');
    const childId = `${taskId}.1.0`;
    await scripts.spawnChild({
      sessionId: 'lc',
      parentId: taskId,
      token: first.token,
      childId,
      fields: { id: childId, sessionId: 'lc', parentId: taskId, rootId: taskId, tenant: 'default', mode: 'm', prompt: 'p' },
    });
    const child = await scripts.startTask('lc', childId);
    if (child.kind !== 'ok') throw new Error(child.kind);
    await scripts.transition({ sessionId: 'lc', taskId: childId, token: child.token, to: 'completed', fields: { result: 'done' } });
    const resumed = await scripts.startTask('lc', taskId);
    expect(resumed).toMatchObject({ kind: 'ok', lastChild: { id: childId, hash: { status: 'completed', result: 'done' } } });
    expect(resumed.kind === 'ok' && resumed.lastChild?.hash).not.toHaveProperty('errorCode');
  });

  describe('gateCommit with usage', () => {
    const usage = (rootId: string) => ({ rootId, tokens: { input: 10, output: 5, cached: 2 }, costUsd: 0.5, rollup: '{"r":1}' });

    it('committed with the usage counted once in the same script; a re-send answers alreadyRecorded', async () => {
      const { taskId, token } = await f.running('gu');
      const key = { sessionId: 'gu', taskId, turn: 1 };
      const begun = await scripts.gateBegin(key, token);
      if (begun.kind !== 'granted') throw new Error(begun.kind);
      expect(await scripts.gateCommit(key, begun.token, '"answer"', usage(taskId))).toEqual({ kind: 'committed', usage: { kind: 'recorded', pending: 1 } });
      expect(await f.redis.hmget(f.keys.task('gu', taskId), 'u:in', 'u:out', 'u:cached', 'tu:turns')).toEqual(['10', '5', '2', '1']);
      expect(await f.redis.hget(f.keys.ofSession('gu', 'rollups'), `${taskId}:1`)).toBe('{"r":1}');
      expect(await scripts.gateCommit(key, begun.token, '"answer"', usage(taskId))).toEqual({ kind: 'committed', usage: { kind: 'alreadyRecorded' } });
      expect(await scripts.recordUsage({ key, runnerToken: token, ...usage(taskId) } as never)).toEqual({ kind: 'alreadyRecorded' });
      expect(await f.redis.hget(f.keys.task('gu', taskId), 'u:in')).toBe('10');
    });

    it('a runner-less lease commits without counting (usage is left to record-usage); staleToken counts nothing', async () => {
      const { taskId } = await f.running('gn');
      const key = { sessionId: 'gn', taskId, turn: 1 };
      const begun = await scripts.gateBegin(key);
      if (begun.kind !== 'granted') throw new Error(begun.kind);
      expect(await scripts.gateCommit(key, 'other', '"x"', usage(taskId))).toEqual({ kind: 'staleToken' });
      expect(await scripts.gateCommit(key, begun.token, '"x"', usage(taskId))).toEqual({ kind: 'committed' });
      expect(await f.redis.hget(f.keys.task('gn', taskId), 'u:in')).toBeNull();
    });
  });
});
