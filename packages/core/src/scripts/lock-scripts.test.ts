import { ScriptFixture } from './script-fixture';

describe('lock scripts', () => {
  const f = new ScriptFixture('lock-scripts');
  const { scripts } = f;
  const lock = { lock: `${f.prefix}:{l}:lock`, fence: `${f.prefix}:{l}:fence` };
  afterAll(() => f.close());

  it('acquired with a fresh token, held while taken; renew and release only with the token', async () => {
    const first = await scripts.lockAcquire(lock, 10_000);
    expect(first).toEqual({ kind: 'acquired', token: '1' });
    expect(await scripts.lockAcquire(lock, 10_000)).toEqual({ kind: 'held' });
    expect(await scripts.lockRenew(lock, '1', 10_000)).toEqual({ kind: 'renewed' });
    expect(await scripts.lockRenew(lock, '0', 10_000)).toEqual({ kind: 'lost' });
    expect(await scripts.lockRelease(lock, '0')).toEqual({ kind: 'notHolder' });
    expect(await f.redis.get(lock.lock)).toBe('1');
    expect(await scripts.lockRelease(lock, '1')).toEqual({ kind: 'released' });
    expect(await f.redis.exists(lock.lock)).toBe(0);
  });

  it('a holder whose lease ran out neither renews nor releases the next holder’s lock', async () => {
    const old = await scripts.lockAcquire(lock, 10_000);
    await f.redis.del(lock.lock); // the lease ran out
    const next = await scripts.lockAcquire(lock, 10_000);
    expect(next.kind === 'acquired' && old.kind === 'acquired' && Number(next.token) > Number(old.token)).toBe(true);
    const oldToken = old.kind === 'acquired' ? old.token : '';
    expect(await scripts.lockRenew(lock, oldToken, 10_000)).toEqual({ kind: 'lost' });
    expect(await scripts.lockRelease(lock, oldToken)).toEqual({ kind: 'notHolder' });
    expect(await f.redis.exists(lock.lock)).toBe(1);
  });
});
