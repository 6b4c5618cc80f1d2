import calculateSlot from 'cluster-key-slot';
import { Keys } from './keys';
import { shardOfSession } from './queue-shards';

describe('shardOfSession', () => {
  it('is a pure function of the id: these values hold in every process and every release', () => {
    // Pinned: a change here re-homes every queued session's jobs (see the change-N guard).
    const got = ['s-1', 's-2', 'session-abc', '01JABCDEF', 'x', 's-3', 's-4', 's-5', 's-6', 's-7'].map((id) => shardOfSession(id, 6));
    expect(got).toEqual(GOLDEN_6);
    expect(shardOfSession('anything', 1)).toBe(0);
  });

  it('spreads 10k ids roughly uniformly (every shard within 10% of the mean)', () => {
    for (const shards of [3, 6, 16]) {
      const counts = new Array<number>(shards).fill(0);
      for (let i = 0; i < 10_000; i++) counts[shardOfSession(`session-${i}`, shards)]!++;
      const mean = 10_000 / shards;
      for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
    }
  });
});

describe('Keys.queuePrefixOf', () => {
  const keys = new Keys('baton');

  it("keeps shard 0 on today's queue prefix, whatever the shard count", () => {
    for (const shards of [1, 3, 6]) expect(keys.queuePrefixOf(0, shards)).toBe('{baton}');
    expect(() => keys.queuePrefixOf(3, 3)).toThrow('invalid queue shard 3 of 3');
  });

  it('gives each shard its own hash tag, evenly spaced over the slots: 6 shards put 2 queues on each of 3 equal masters', () => {
    const prefixes = Array.from({ length: 6 }, (_, i) => keys.queuePrefixOf(i, 6));
    expect(new Set(prefixes).size).toBe(6);
    expect(prefixes[1]).toMatch(/^\{baton:q1\.\d+\}$/);
    // The slot ranges `redis-cli --cluster create` gives 3 masters.
    const master = (slot: number) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
    const perMaster = [0, 0, 0];
    for (const p of prefixes) perMaster[master(calculateSlot(`${p}:tasks:wait`))]!++;
    expect(perMaster).toEqual([2, 2, 2]);
  });
});

/** Computed in a separate node process: the first 4 bytes of sha256(id), big-endian, mod 6. */
const GOLDEN_6 = [1, 2, 0, 0, 0, 0, 2, 5, 2, 2];
