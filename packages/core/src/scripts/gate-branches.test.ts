import { ScriptFixture } from './script-fixture';

/**
 * The request-gate paths gate-scripts.test.ts does not take: a lease that ran
 * out, a commit sent twice, and renew, commit or abandon when there is no live
 * lease.
 */
describe('gate scripts: the other paths of each reply', () => {
  const f = new ScriptFixture('gate-branches');
  const { scripts } = f;
  afterAll(() => f.close());

  const grant = async (key: { sessionId: string; taskId: string; turn: number }) => {
    const begun = await scripts.gateBegin(key);
    if (begun.kind !== 'granted') throw new Error(begun.kind);
    return begun.token;
  };

  it('gateBegin: granted again once a lease has run out (its holder died); the dead holder can no longer commit', async () => {
    const key = { sessionId: 'gb', taskId: 'bare', turn: 1 };
    const dead = await grant(key);
    await f.redis.hset(f.keys.gate('gb', 'bare'), '1:until', 1); // the lease ran out
    const again = await scripts.gateBegin(key);
    expect(again).toEqual({ kind: 'granted', token: expect.any(String), grants: 2 });
    expect(again.kind === 'granted' && Number(again.token) > Number(dead)).toBe(true);
    expect(await scripts.gateCommit(key, dead, '"late"')).toEqual({ kind: 'staleToken' });
    expect(await scripts.gateRenew(key, dead)).toEqual({ kind: 'lost' });
  });

  it('gateCommit: committed again for a re-send with the same token (the first reply lost); the response is the first one', async () => {
    const key = { sessionId: 'gb', taskId: 'bare', turn: 2 };
    const token = await grant(key);
    expect(await scripts.gateCommit(key, token, '"first"')).toEqual({ kind: 'committed' });
    expect(await scripts.gateCommit(key, token, '"first"')).toEqual({ kind: 'committed' });
    expect(await scripts.gateCommit(key, 'other', '"second"')).toEqual({ kind: 'staleToken' });
    expect(await scripts.gateBegin(key)).toEqual({ kind: 'committed', response: '"first"' });
  });

  it('gateCommit: staleToken for a turn never begun, or whose lease was given back', async () => {
    const never = { sessionId: 'gb', taskId: 'bare', turn: 3 };
    expect(await scripts.gateCommit(never, '1', '"x"')).toEqual({ kind: 'staleToken' });
    const given = { sessionId: 'gb', taskId: 'bare', turn: 4 };
    const token = await grant(given);
    expect(await scripts.gateAbandon(given, token)).toEqual({ kind: 'released' });
    expect(await scripts.gateCommit(given, token, '"x"')).toEqual({ kind: 'staleToken' });
    expect(await f.redis.hget(f.keys.gate('gb', 'bare'), '4:response')).toBeNull();
  });

  it('gateRenew: lost once committed; gateAbandon: notHolder once committed (a commit is never undone)', async () => {
    const key = { sessionId: 'gb', taskId: 'bare', turn: 5 };
    const token = await grant(key);
    await scripts.gateCommit(key, token, '"kept"');
    expect(await scripts.gateRenew(key, token)).toEqual({ kind: 'lost' });
    expect(await scripts.gateAbandon(key, token)).toEqual({ kind: 'notHolder' });
    expect(await scripts.gateBegin(key)).toEqual({ kind: 'committed', response: '"kept"' });
  });

  it('gateAbandon: notHolder for a turn never begun', async () => {
    expect(await scripts.gateAbandon({ sessionId: 'gb', taskId: 'bare', turn: 6 }, '1')).toEqual({ kind: 'notHolder' });
  });
});
