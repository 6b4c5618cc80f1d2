import { runDurability } from './durability-run';

/**
 * Redis with AOF `appendfsync always` on its own port, killed with SIGKILL in
 * the middle of a run and restarted on the same port and directory (see
 * durability-run.ts): every task accepted before the kill completes, none twice.
 */
describe('durability across a Redis crash (AOF, appendfsync always)', () => {
  it('every task accepted before kill -9 of Redis completes, none twice, one task per idempotency key', async () => {
    const { figures, checks } = await runDurability({ roots: 40, outageMs: 1000 });
    expect(figures.acceptedBeforeKill).toBe(20);
    expect(checks).toEqual(Object.fromEntries(Object.keys(checks).map((name) => [name, true])));
  });
});
