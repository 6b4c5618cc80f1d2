import { ScriptFixture } from './script-fixture';

describe('delta scripts', () => {
  // A small cap: emit() trims with MAXLEN ~ 100, which Redis applies by whole stream nodes.
  const f = new ScriptFixture('delta-scripts', { eventsMaxLen: 100 });
  const { scripts } = f;
  afterAll(() => f.close());

  const granted = async (sessionId: string) => {
    const { taskId, token } = await f.running(sessionId);
    const key = { sessionId, taskId, turn: 1 };
    const begun = await scripts.gateBegin(key, token);
    if (begun.kind !== 'granted') throw new Error(begun.kind);
    return { key, gateToken: begun.token };
  };
  const deltas = async (sessionId: string) => (await f.redis.xrange(f.keys.events(sessionId), '-', '+')).filter(([, fields]) => fields[1] === 'message.delta');

  it('emitted: a message.delta event with the task and data, for the lease holder', async () => {
    const { key, gateToken } = await granted('d1');
    const reply = await scripts.emitDelta(key, gateToken, '{"turn":1,"seq":1,"text":"hi"}');
    expect(reply).toEqual({ kind: 'emitted', id: expect.stringMatching(/^\d+-\d+$/) });
    const [entry] = await deltas('d1');
    expect(entry![0]).toBe(reply.kind === 'emitted' && reply.id);
    expect(entry![1]).toEqual(['type', 'message.delta', 'task', key.taskId, 'at', expect.any(String), 'data', '{"turn":1,"seq":1,"text":"hi"}']);
  });

  it('leaseLost: with another token, after the commit, and once the runner is fenced out', async () => {
    const { key, gateToken } = await granted('d2');
    expect(await scripts.emitDelta(key, 'other', '{}')).toEqual({ kind: 'leaseLost' });
    expect(await scripts.emitDelta({ ...key, turn: 2 }, gateToken, '{}')).toEqual({ kind: 'leaseLost' }); // never begun
    await scripts.gateCommit(key, gateToken, '"r"');
    expect(await scripts.emitDelta(key, gateToken, '{}')).toEqual({ kind: 'leaseLost' });

    const zombie = await granted('d3');
    await scripts.startTask('d3', zombie.key.taskId); // the job re-taken: the old runner's lease is dead
    expect(await scripts.emitDelta(zombie.key, zombie.gateToken, '{}')).toEqual({ kind: 'leaseLost' });
    expect(await deltas('d2')).toEqual([]);
    expect(await deltas('d3')).toEqual([]);
  });

  it('keeps the stream capped (emit trims with MAXLEN ~)', async () => {
    const { key, gateToken } = await granted('d4');
    for (let i = 0; i < 500; i++) await scripts.emitDelta(key, gateToken, `{"seq":${i}}`);
    expect(await f.redis.xlen(f.keys.events('d4'))).toBeLessThan(300);
  });
});
