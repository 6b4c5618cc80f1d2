import { ScriptFixture } from './script-fixture';

describe('gate scripts', () => {
  const f = new ScriptFixture('gate-scripts');
  const { scripts } = f;
  afterAll(() => f.close());

  it('gateBegin: granted, inflight for another caller, committed after the commit', async () => {
    const key = { sessionId: 'g', taskId: 'bare', turn: 1 };
    const granted = await scripts.gateBegin(key);
    expect(granted).toEqual({ kind: 'granted', token: expect.any(String), grants: 1 });
    const inflight = await scripts.gateBegin(key);
    expect(inflight).toEqual({ kind: 'inflight', leaseUntil: expect.any(Number) });
    expect(inflight.kind === 'inflight' && inflight.leaseUntil).toBeGreaterThan(Date.now());
    const token = granted.kind === 'granted' ? granted.token : '';
    expect(await scripts.gateCommit(key, token, '"response"')).toEqual({ kind: 'committed' });
    expect(await scripts.gateBegin(key)).toEqual({ kind: 'committed', response: '"response"' });
  });

  it('gateBegin: stale when the caller’s runner token is not the task’s', async () => {
    const { taskId, token } = await f.running('g2');
    expect(await scripts.gateBegin({ sessionId: 'g2', taskId, turn: 1 }, 'old')).toEqual({ kind: 'stale' });
    expect((await scripts.gateBegin({ sessionId: 'g2', taskId, turn: 1 }, token)).kind).toBe('granted');
  });

  it('gateRenew: renewed with the token, lost with another or once the runner is fenced out', async () => {
    const { taskId, token } = await f.running('g3');
    const key = { sessionId: 'g3', taskId, turn: 1 };
    const granted = await scripts.gateBegin(key, token);
    const gateToken = granted.kind === 'granted' ? granted.token : '';
    expect(await scripts.gateRenew(key, gateToken)).toEqual({ kind: 'renewed' });
    expect(await scripts.gateRenew(key, 'other')).toEqual({ kind: 'lost' });
    await scripts.startTask('g3', taskId); // a new runner: the lease of the old one dies with its fence
    expect(await scripts.gateRenew(key, gateToken)).toEqual({ kind: 'lost' });
    expect(await scripts.gateCommit(key, gateToken, '"late"')).toEqual({ kind: 'staleToken' });
  });

  it('gateCommit: staleToken with a token that is not the lease’s', async () => {
    const key = { sessionId: 'g', taskId: 'bare', turn: 2 };
    await scripts.gateBegin(key);
    expect(await scripts.gateCommit(key, 'other', '"x"')).toEqual({ kind: 'staleToken' });
  });

  it('gateAbandon: released by the holder (the turn can be granted again), notHolder otherwise', async () => {
    const key = { sessionId: 'g', taskId: 'bare', turn: 3 };
    const granted = await scripts.gateBegin(key);
    const token = granted.kind === 'granted' ? granted.token : '';
    expect(await scripts.gateAbandon(key, 'other')).toEqual({ kind: 'notHolder' });
    expect(await scripts.gateAbandon(key, token)).toEqual({ kind: 'released' });
    expect(await scripts.gateBegin(key)).toMatchObject({ kind: 'granted', grants: 2 });
  });
});
