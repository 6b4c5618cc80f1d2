import { ScriptFixture } from './script-fixture';

describe('limiter scripts', () => {
  const f = new ScriptFixture('limiter-scripts');
  const { scripts } = f;
  let n = 0;
  const scope = () => `openai:abc123:m${++n}`;
  const record = (s: string, holdMs: number, limit = 0, windowMs = 0) => scripts.limiterRecord({ scope: s, holdMs, limit, windowMs, graceMs: 1000 });
  afterAll(() => f.close());

  it('go while nothing is known, and nothing is stored by asking', async () => {
    const s = scope();
    expect(await scripts.limiterAcquire(s, 1000)).toEqual({ kind: 'go' });
    expect(await f.redis.exists(f.keys.providerLimit(s))).toBe(0);
    expect(await record(s, 0)).toEqual({ kind: 'open' });
    expect(await f.redis.exists(f.keys.providerLimit(s))).toBe(0);
  });

  it('a hold makes every caller wait until it ends, never shortened by a shorter one; the hash expires after it', async () => {
    const s = scope();
    const held = await record(s, 60_000);
    expect(held.kind === 'held' && held.holdMs > 59_000 && held.holdMs <= 60_000).toBe(true);
    const shorter = await record(s, 1000);
    expect(shorter.kind === 'held' && shorter.holdMs > 59_000).toBe(true);
    const wait = await scripts.limiterAcquire(s, 1000);
    expect(wait.kind === 'wait' && wait.waitMs > 59_000 && wait.waitMs <= 60_000).toBe(true);
    const ttl = await f.redis.pttl(f.keys.providerLimit(s));
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(61_000);
  });

  it('when a hold ends with a known limit and window, a new window admits exactly `limit` requests', async () => {
    const s = scope();
    // Limit and window learned from an earlier answer, no hold: open, and the hash lives a window (plus grace).
    expect(await record(s, 0, 3, 60_000)).toEqual({ kind: 'open' });
    expect(await f.redis.pttl(f.keys.providerLimit(s))).toBeGreaterThan(60_000);
    await f.redis.hset(f.keys.providerLimit(s), 'until', 1, 'left', 0); // a hold that ended long ago
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await scripts.limiterAcquire(s, 1000));
    expect(replies.slice(0, 3)).toEqual([{ kind: 'go' }, { kind: 'go' }, { kind: 'go' }]);
    expect(replies[3]!.kind === 'wait' && replies[3]!.waitMs > 59_000).toBe(true);
    expect(await f.redis.hget(f.keys.providerLimit(s), 'left')).toBe('0');
  });

  it('without a known budget, an ended hold lets everyone go', async () => {
    const s = scope();
    await record(s, 1);
    await f.redis.hset(f.keys.providerLimit(s), 'until', 1);
    expect(await scripts.limiterAcquire(s, 1000)).toEqual({ kind: 'go' });
    expect(await scripts.limiterAcquire(s, 1000)).toEqual({ kind: 'go' });
  });
});
