import { REDIS_URL } from '@baton/testkit';
import { EngineOptionsSchema } from '../config';
import { openRedis } from '../connection';
import { rolledBucket } from '../keys';
import { Scripts } from './scripts';
import { ScriptFixture } from './script-fixture';

describe('usage and budget scripts', () => {
  const f = new ScriptFixture('usage-scripts');
  const { scripts, keys, redis } = f;
  afterAll(() => f.close());

  /** A running root with a tree budget, and the turn key of its turn `turn`. */
  async function root(sessionId: string, budget: Record<string, string> = {}) {
    const submitted = await scripts.submitRoot(f.root(sessionId));
    if (submitted.kind !== 'created') throw new Error(submitted.kind);
    const taskId = submitted.taskId;
    if (Object.keys(budget).length) await redis.hset(keys.task(sessionId, taskId), budget);
    const started = await scripts.startTask(sessionId, taskId);
    if (started.kind !== 'ok') throw new Error(started.kind);
    return { taskId, token: started.token, key: (turn: number) => ({ sessionId, taskId, turn }) };
  }

  async function commit(k: { sessionId: string; taskId: string; turn: number }, runner: string) {
    const g = await scripts.gateBegin(k, runner);
    if (g.kind !== 'granted') throw new Error(g.kind);
    await scripts.gateCommit(k, g.token, '{}');
  }

  const reserveArgs = (k: { sessionId: string; taskId: string; turn: number }, token: string, over: object = {}) => ({
    key: k,
    rootId: k.taskId,
    runnerToken: token,
    estimate: { tokens: 100, costUsd: 0.5 },
    session: {},
    day: '2026-01-01',
    lifetimeMs: 60_000,
    ...over,
  });

  it('budgetReserve: reserved, then alreadyReserved for the same turn; staleToken for another runner', async () => {
    const r = await root('s1');
    expect(await scripts.budgetReserve(reserveArgs(r.key(1), r.token))).toEqual({ kind: 'reserved' });
    expect(await scripts.budgetReserve(reserveArgs(r.key(1), r.token))).toEqual({ kind: 'alreadyReserved' });
    expect(await scripts.budgetReserve(reserveArgs(r.key(2), 'old'))).toEqual({ kind: 'staleToken' });
    const rootHash = await redis.hgetall(keys.task('s1', r.taskId));
    expect([rootHash['br:turns'], rootHash['br:tokens'], Number(rootHash['br:cost'])]).toEqual(['1', '100', 0.5]);
    expect(await redis.hget(keys.session('s1'), 'br:tokens')).toBe('100');
  });

  it('budgetReserve: unbudgeted (nothing written) without a tree or session limit or tenant day; any limit reserves', async () => {
    const free = await root('s-free');
    expect(await scripts.budgetReserve(reserveArgs(free.key(1), free.token, { day: '-' }))).toEqual({ kind: 'unbudgeted' });
    expect(await redis.hget(keys.task('s-free', free.taskId), 'br:turns')).toBeNull();
    expect(await redis.zcard(keys.ofSession('s-free', 'reservations'))).toBe(0);
    // A session limit, a tree budget, or a tenant day each need the reservation.
    expect(await scripts.budgetReserve(reserveArgs(free.key(2), free.token, { day: '-', session: { maxTurns: 9 } }))).toEqual({ kind: 'reserved' });
    const tree = await root('s-tree', { bTurns: '9' });
    expect(await scripts.budgetReserve(reserveArgs(tree.key(1), tree.token, { day: '-' }))).toEqual({ kind: 'reserved' });
    const ignored = await root('s-ign', { bTurns: '9', 'bIgnore:tree': '1' });
    expect(await scripts.budgetReserve(reserveArgs(ignored.key(1), ignored.token, { day: '-' }))).toEqual({ kind: 'unbudgeted' });
  });

  it('budgetReserve: exceeded for the tree (turns, tokens with reservations, cost) and the session', async () => {
    const r = await root('s2', { bTurns: '1' });
    await scripts.budgetReserve(reserveArgs(r.key(1), r.token));
    expect(await scripts.budgetReserve(reserveArgs(r.key(2), r.token))).toEqual({ kind: 'exceeded', scope: 'tree', budget: 'maxTurns', limit: 1, spent: 1 });

    const t = await root('s3', { bTokens: '150' });
    await scripts.budgetReserve(reserveArgs(t.key(1), t.token));
    // 100 reserved < 150: a second turn may start (overspend bounded by one reservation)...
    expect((await scripts.budgetReserve(reserveArgs(t.key(2), t.token))).kind).toBe('reserved');
    // ...a third may not: 200 reserved.
    expect(await scripts.budgetReserve(reserveArgs(t.key(3), t.token))).toEqual({
      kind: 'exceeded',
      scope: 'tree',
      budget: 'maxTokens',
      limit: 150,
      spent: 200,
    });

    const c = await root('s4', { bCost: '0.5' });
    await scripts.budgetReserve(reserveArgs(c.key(1), c.token));
    expect(await scripts.budgetReserve(reserveArgs(c.key(2), c.token))).toMatchObject({ kind: 'exceeded', scope: 'tree', budget: 'maxCostUsd' });

    const s = await root('s5');
    await scripts.budgetReserve(reserveArgs(s.key(1), s.token, { session: { maxTokens: 50 } }));
    expect(await scripts.budgetReserve(reserveArgs(s.key(2), s.token, { session: { maxTokens: 50 } }))).toEqual({
      kind: 'exceeded',
      scope: 'session',
      budget: 'maxTokens',
      limit: 50,
      spent: 100,
    });
    // An approval lifts the session budget for this tree.
    await redis.hset(keys.task('s5', s.taskId), 'bIgnore:session', '1');
    expect((await scripts.budgetReserve(reserveArgs(s.key(2), s.token, { session: { maxTokens: 50 } }))).kind).toBe('reserved');
  });

  it('budgetReserve: 20 turns of one tree racing on 4 connections for a 1000-token budget: exactly 10 get in', async () => {
    const r = await root('race', { bTokens: '1000' });
    const conns = Array.from({ length: 4 }, () => openRedis(REDIS_URL));
    try {
      const racers = conns.map((c) => new Scripts(c, keys, EngineOptionsSchema.parse({ prefix: f.prefix })));
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => racers[i % 4]!.budgetReserve(reserveArgs(r.key(i + 1), r.token))));
      expect(replies.filter((x) => x.kind === 'reserved')).toHaveLength(10);
      expect(replies.filter((x) => x.kind === 'exceeded')).toHaveLength(10);
      expect(await redis.hget(keys.task('race', r.taskId), 'br:tokens')).toBe('1000');
    } finally {
      for (const c of conns) c.disconnect();
    }
  });

  it('budgetRelease: released (reservation back), then none; none once committed', async () => {
    const r = await root('s6');
    await scripts.budgetReserve(reserveArgs(r.key(1), r.token));
    expect(await scripts.budgetRelease(r.key(1), r.taskId)).toEqual({ kind: 'released', reservation: { tokens: 100, costUsd: 0.5, day: '2026-01-01' } });
    expect(await scripts.budgetRelease(r.key(1), r.taskId)).toEqual({ kind: 'none' });
    expect(await redis.hmget(keys.task('s6', r.taskId), 'br:turns', 'br:tokens')).toEqual(['0', '0']);
    // A committed turn keeps its reservation for record-usage to settle.
    await scripts.budgetReserve(reserveArgs(r.key(2), r.token));
    await commit(r.key(2), r.token);
    expect(await scripts.budgetRelease(r.key(2), r.taskId)).toEqual({ kind: 'none' });
    expect(await redis.hmget(keys.task('s6', r.taskId), 'br:turns', 'br:tokens')).toEqual(['1', '100']);
  });

  it('budgetReserve: exceeded for the session by turns and by cost; an approval lifts the tree budget', async () => {
    const turns = await root('s10');
    await scripts.budgetReserve(reserveArgs(turns.key(1), turns.token, { session: { maxTurns: 1 } }));
    expect(await scripts.budgetReserve(reserveArgs(turns.key(2), turns.token, { session: { maxTurns: 1 } }))).toEqual({
      kind: 'exceeded',
      scope: 'session',
      budget: 'maxTurns',
      limit: 1,
      spent: 1,
    });
    const cost = await root('s11');
    await scripts.budgetReserve(reserveArgs(cost.key(1), cost.token, { session: { maxCostUsd: 0.5 } }));
    expect(await scripts.budgetReserve(reserveArgs(cost.key(2), cost.token, { session: { maxCostUsd: 0.5 } }))).toEqual({
      kind: 'exceeded',
      scope: 'session',
      budget: 'maxCostUsd',
      limit: 0.5,
      spent: 0.5,
    });
    const tree = await root('s12', { bTurns: '1' });
    await scripts.budgetReserve(reserveArgs(tree.key(1), tree.token));
    expect(await scripts.budgetReserve(reserveArgs(tree.key(2), tree.token))).toMatchObject({ kind: 'exceeded', scope: 'tree', budget: 'maxTurns' });
    await redis.hset(keys.task('s12', tree.taskId), 'bIgnore:tree', '1');
    expect(await scripts.budgetReserve(reserveArgs(tree.key(2), tree.token))).toEqual({ kind: 'reserved' });
  });

  it('recordUsage: recorded once (task, tree, session; reservation settled), alreadyRecorded, notCommitted, staleToken', async () => {
    const r = await root('s7');
    await scripts.budgetReserve(reserveArgs(r.key(1), r.token));
    const args = (turn: number, token = r.token, costUsd: number | null = 0.25) => ({
      key: r.key(turn),
      rootId: r.taskId,
      runnerToken: token,
      tokens: { input: 30, output: 7, cached: 10 },
      costUsd,
      rollup: `{"turn":${turn}}`,
    });
    expect(await scripts.recordUsage(args(1))).toEqual({ kind: 'notCommitted' });
    await commit(r.key(1), r.token);
    expect(await scripts.recordUsage(args(1, 'old'))).toEqual({ kind: 'staleToken' });
    expect(await scripts.recordUsage(args(1))).toEqual({ kind: 'recorded', reservation: { tokens: 100, costUsd: 0.5, day: '2026-01-01' }, pending: 1 });
    expect(await scripts.recordUsage(args(1))).toEqual({ kind: 'alreadyRecorded' });
    await commit(r.key(2), r.token);
    expect(await scripts.recordUsage(args(2, r.token, null))).toEqual({ kind: 'recorded', pending: 2 });
    // Each recorded turn's roll-up waits in the session until applied (usage/rollups).
    expect(await redis.hgetall(keys.ofSession('s7', 'rollups'))).toEqual({ [`${r.taskId}:1`]: '{"turn":1}', [`${r.taskId}:2`]: '{"turn":2}' });
    expect(await redis.zcard(keys.ofSession('s7', 'reservations'))).toBe(0);
    const hash = await redis.hgetall(keys.task('s7', r.taskId));
    expect([hash['u:in'], hash['u:out'], hash['u:cached'], hash['u:turns'], hash['u:unpriced'], Number(hash['u:cost'])]).toEqual([
      '60',
      '14',
      '20',
      '2',
      '1',
      0.25,
    ]);
    expect([hash['tu:in'], hash['tu:turns'], hash['br:turns'], hash['br:tokens']]).toEqual(['60', '2', '0', '0']);
    expect(await redis.hmget(keys.session('s7'), 'u:in', 'u:turns')).toEqual(['60', '2']);
  });

  it('tenantReserve / tenantRelease / tenantRollup: per-day totals, reservations by id settled on their day, expiring keys', async () => {
    const base = { tenant: 'acme', day: '2026-01-02', estimate: { tokens: 100, costUsd: 1 }, ttlSeconds: 1000, lifetimeMs: 60_000 };
    expect(await scripts.tenantReserve({ ...base, id: 'a:1', limits: { maxTurns: 2 } })).toEqual({ kind: 'reserved' });
    // The same id again (a replay): no second reservation.
    expect(await scripts.tenantReserve({ ...base, id: 'a:1', limits: { maxTurns: 1 } })).toEqual({ kind: 'alreadyReserved' });
    expect(await scripts.tenantReserve({ ...base, id: 'a:2', limits: { maxTurns: 2 } })).toEqual({ kind: 'reserved' });
    expect(await scripts.tenantReserve({ ...base, id: 'a:3', limits: { maxTurns: 2 } })).toEqual({
      kind: 'exceeded',
      scope: 'tenant',
      budget: 'maxTurns',
      limit: 2,
      spent: 2,
    });
    expect(await scripts.tenantReserve({ ...base, id: 'a:3', limits: { maxCostUsd: 2 } })).toMatchObject({
      kind: 'exceeded',
      budget: 'maxCostUsd',
      limit: 2,
      spent: 2,
    });
    expect(await scripts.tenantReserve({ ...base, id: 'a:3', limits: { maxTokens: 200 } })).toMatchObject({
      kind: 'exceeded',
      budget: 'maxTokens',
      spent: 200,
    });
    expect(await scripts.tenantRelease('acme', 'a:2')).toEqual({ kind: 'released' });
    expect(await scripts.tenantRelease('acme', 'a:2')).toEqual({ kind: 'none' });
    // The turn commits the next day: recorded on that day, its reservation settled on the day it was made.
    const rollup = {
      tenant: 'acme',
      day: '2026-01-03',
      tokens: { input: 5, output: 6, cached: 1 },
      costUsd: null,
      id: 'a:1',
      ttlSeconds: 1000,
      markerTtlSeconds: 100,
    };
    expect(await scripts.tenantRollup(rollup)).toEqual({ kind: 'applied' });
    expect(await scripts.tenantRollup(rollup)).toEqual({ kind: 'duplicate' });
    const d2 = await redis.hgetall(keys.tenantUsageDay('acme', '2026-01-02'));
    expect([d2['br:turns'], d2['br:tokens'], Number(d2['br:cost'])]).toEqual(['0', '0', 0]);
    const d3 = await redis.hgetall(keys.tenantUsageDay('acme', '2026-01-03'));
    expect(d3).toEqual({ in: '5', out: '6', cached: '1', turns: '1', unpriced: '1' });
    expect(await redis.ttl(keys.tenantUsageDay('acme', '2026-01-03'))).toBeGreaterThan(900);
    // The marker: a field of the markers hash of the roll-up's day (packed), expiring.
    const markers = keys.tenantRolled('acme', '2026-01-03', 'a:1');
    expect(await redis.hget(markers, 'a:1')).toBe('');
    expect(await redis.object('ENCODING', markers)).toBe('listpack');
    expect(await redis.ttl(markers)).toBeGreaterThan(90);
    expect(await redis.hlen(keys.tenantReservations('acme').byId)).toBe(0);
  });

  it('tenantReserve: a reservation past its deadline (its worker died) is dropped from its day before the check', async () => {
    const base = { tenant: 'crashy', day: '2026-01-04', estimate: { tokens: 100, costUsd: 1 }, ttlSeconds: 1000, limits: { maxTurns: 1 } };
    expect(await scripts.tenantReserve({ ...base, id: 'dead:1', lifetimeMs: 0 })).toEqual({ kind: 'reserved' });
    expect(await scripts.tenantReserve({ ...base, id: 'live:1', lifetimeMs: 60_000 })).toEqual({ kind: 'reserved' });
    expect(await redis.hmget(keys.tenantUsageDay('crashy', '2026-01-04'), 'br:turns', 'br:tokens')).toEqual(['1', '100']);
    expect(await redis.zrange(keys.tenantReservations('crashy').deadlines, 0, -1)).toEqual(['live:1']);
  });

  it('modelRollup: applied once per id, then duplicate', async () => {
    const a = { model: 'm-roll', day: '2026-01-05', tokens: { input: 3, output: 4, cached: 0 }, costUsd: 0.5, id: `${f.prefix}:1`, markerTtlSeconds: 100 };
    expect(await scripts.modelRollup(a)).toEqual({ kind: 'applied' });
    expect(await scripts.modelRollup(a)).toEqual({ kind: 'duplicate' });
    expect(await redis.hmget(keys.usageByModel(), 'm-roll|in', 'm-roll|turns', 'm-roll|cost')).toEqual(['3', '1', '0.5']);
    expect(await redis.hget(keys.modelRolled('2026-01-05', a.id), a.id)).toBe('');
    expect(await redis.ttl(keys.modelRolled('2026-01-05', a.id))).toBeGreaterThan(90);
  });

  it('roll-up markers: ids sharing a bucket are told apart; a duplicate pushes nothing, an application pushes the expiry', async () => {
    // Two ids of one bucket (found by search, so the test does not depend on which bucket that is).
    const first = 'shared:1';
    let other = 0;
    while (rolledBucket(`shared:${++other + 1}`) !== rolledBucket(first));
    const second = `shared:${other + 1}`;
    const base = { model: 'm-bucket', day: '2026-01-06', tokens: { input: 1, output: 1, cached: 0 }, costUsd: null };
    expect(keys.modelRolled(base.day, first)).toBe(keys.modelRolled(base.day, second));
    expect(await scripts.modelRollup({ ...base, id: first, markerTtlSeconds: 100 })).toEqual({ kind: 'applied' });
    expect(await scripts.modelRollup({ ...base, id: first, markerTtlSeconds: 1000 })).toEqual({ kind: 'duplicate' });
    expect(await redis.ttl(keys.modelRolled(base.day, first))).toBeLessThanOrEqual(100);
    expect(await scripts.modelRollup({ ...base, id: second, markerTtlSeconds: 1000 })).toEqual({ kind: 'applied' });
    expect(await redis.ttl(keys.modelRolled(base.day, first))).toBeGreaterThan(900);
    expect(await redis.hget(keys.usageByModel(), 'm-bucket|turns')).toBe('2');
    // The same id on another day is another roll-up (ids are unique per turn; the day only groups markers).
    expect(keys.modelRolled('2026-01-07', first)).not.toBe(keys.modelRolled(base.day, first));
  });

  it('rolledBucket is pinned: markers written by an earlier version must be found by this one', () => {
    // FNV-1a 32 of the id, modulo 256 (FNV-1a of 'a' is 0xe40c292c).
    expect(['t_0123456789abcdef0123456789abcdef:1', 't_0123456789abcdef0123456789abcdef.1.0:2', '', 'a'].map(rolledBucket)).toEqual([
      241,
      211,
      197,
      0xe40c292c % 256,
    ]);
  });

  it('budgetReserve: replays reserve once (deadline pushed); a committed turn answers committed', async () => {
    const r = await root('s8');
    expect(await scripts.budgetReserve(reserveArgs(r.key(1), r.token, { lifetimeMs: 1000 }))).toEqual({ kind: 'reserved' });
    const first = Number(await redis.zscore(keys.ofSession('s8', 'reservations'), `${r.taskId} 1 ${r.taskId}`));
    expect(await scripts.budgetReserve(reserveArgs(r.key(1), r.token, { lifetimeMs: 60_000 }))).toEqual({ kind: 'alreadyReserved' });
    expect(Number(await redis.zscore(keys.ofSession('s8', 'reservations'), `${r.taskId} 1 ${r.taskId}`))).toBeGreaterThan(first + 50_000);
    expect(await redis.hmget(keys.task('s8', r.taskId), 'br:turns', 'br:tokens')).toEqual(['1', '100']);
    await commit(r.key(2), r.token);
    expect(await scripts.budgetReserve(reserveArgs(r.key(2), r.token))).toEqual({ kind: 'committed' });
  });

  it('budgetReserve: a reservation past its deadline (its worker died) is given back before the check, on tree and session', async () => {
    const r = await root('s9', { bTurns: '1' });
    expect(await scripts.budgetReserve(reserveArgs(r.key(1), r.token, { lifetimeMs: 0 }))).toEqual({ kind: 'reserved' });
    // Without expiry this would be refused (1 turn reserved of 1): the dead turn's reservation is dropped first.
    expect(await scripts.budgetReserve(reserveArgs(r.key(2), r.token))).toEqual({ kind: 'reserved' });
    expect(await redis.hmget(keys.task('s9', r.taskId), 'br:turns', 'br:tokens')).toEqual(['1', '100']);
    expect(await redis.hmget(keys.session('s9'), 'br:turns', 'br:tokens')).toEqual(['1', '100']);
    expect(await redis.hget(keys.gate('s9', r.taskId), '1:resv')).toBeNull();
    expect(await redis.zrange(keys.ofSession('s9', 'reservations'), 0, -1)).toEqual([`${r.taskId} 2 ${r.taskId}`]);
    // The dead turn's worker comes back late: nothing left to release, nothing goes negative.
    expect(await scripts.budgetRelease(r.key(1), r.taskId)).toEqual({ kind: 'none' });
    expect(await redis.hget(keys.task('s9', r.taskId), 'br:turns')).toBe('1');

    // A turn committed but never recorded (its worker died after the commit) expires too; its late record settles nothing.
    await scripts.budgetRelease(r.key(2), r.taskId);
    expect(await scripts.budgetReserve(reserveArgs(r.key(3), r.token, { lifetimeMs: 0 }))).toEqual({ kind: 'reserved' });
    await commit(r.key(3), r.token);
    expect(await scripts.budgetReserve(reserveArgs(r.key(4), r.token))).toEqual({ kind: 'reserved' });
    expect(await redis.hget(keys.task('s9', r.taskId), 'br:turns')).toBe('1');
    const late = { key: r.key(3), rootId: r.taskId, runnerToken: r.token, tokens: { input: 1, output: 1, cached: 0 }, costUsd: 0, rollup: '{}' };
    expect(await scripts.recordUsage(late)).toEqual({ kind: 'recorded', pending: 1 });
    expect(await redis.hmget(keys.task('s9', r.taskId), 'br:turns', 'br:tokens')).toEqual(['1', '100']);
  });
});
