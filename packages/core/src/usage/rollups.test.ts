import { applyRollup, ROLLUP_MARKER_TTL_S, RollupSchema, rollupMarkerTtlS } from './rollups';
import { utcDay, type TurnMetering } from './turn-metering';
import { PriceTable } from './prices';
import { UsageReader } from './usage-reader';
import { Harness } from '../testing/harness';
import { Reconciler } from '../reconciler';
import { TaskFailure, YieldSignal } from '../runtime/signals';
import type { Engine } from '../engine';
import type { TaskHandler } from '../runtime/task-worker';

/**
 * The crash window between a turn's record (session slot) and its roll-up to
 * the tenant's day and the per-model totals (other slots): a racepoint
 * stops the worker right there. The totals are right exactly once after
 * recovery, by the turn's replay or by the reconciler, and a second
 * application of the same roll-up is refused.
 */
const RESPONSE = { usage: { prompt_tokens: 80, completion_tokens: 20 } };
const prices = new PriceTable({ m1: { input: 1, output: 2 } });
const metering: TurnMetering = {
  config: { prices },
  model: 'm1',
  estimateTokens: 100,
  tokensOf: (r) => ({ input: (r as typeof RESPONSE).usage.prompt_tokens, output: (r as typeof RESPONSE).usage.completion_tokens, cached: 0 }),
};
const one = { inputTokens: 80, outputTokens: 20, cachedTokens: 0, turns: 1, unpricedTurns: 0 };
const cost = (80 + 40) / 1e6;

const oneTurn: TaskHandler = async (ctx) => {
  await ctx.checkpoint(1);
  await ctx.gate(1, async () => RESPONSE, {}, metering);
  return { status: 'completed', result: 'ok' };
};

describe('usage roll-ups across a crash', () => {
  let h: Harness;
  beforeEach(() => (h = new Harness('rollups')));
  afterEach(() => h.close());

  /** A worker whose engine stops at the racepoint with `crash` (once). */
  async function crashingWorker(crash: (taskId: string) => Error, seen: (engine: Engine) => Promise<void>) {
    await h.worker(oneTurn);
    const workerEngine = h.engines[h.engines.length - 1]!;
    let crashed = false;
    workerEngine.ctx.racepoints.beforeUsageRollup = async (_sessionId, rollupId) => {
      if (crashed) return;
      crashed = true;
      await seen(workerEngine);
      throw crash(rollupId.split(':')[0]!);
    };
    return () => crashed;
  }

  async function totals(engine: Engine, tenant: string) {
    const reader = new UsageReader(engine.ctx);
    return { days: await reader.tenantDays(tenant, utcDay(), utcDay()), models: await reader.byModel() };
  }

  it('the turn replayed after the crash applies its pending roll-up once', async () => {
    const engine = h.engine();
    const crashed = await crashingWorker(
      (taskId) => new YieldSignal(taskId),
      async (e) => {
        // In the window: the turn is counted on the session, not yet on the tenant or the model.
        expect((await e.getSession('replay')).usage).toEqual(one);
        expect(await totals(e, 'acme')).toEqual({ days: [], models: [] });
        expect(await e.redis.hlen(e.ctx.keys.ofSession('replay', 'rollups'))).toBe(1);
      },
    );
    await engine.submit({ sessionId: 'replay', taskId: 'replay-1', prompt: 'p', tenant: 'acme' });
    expect(await h.settled(engine, 'replay-1')).toMatchObject({ status: 'completed', usage: one });
    expect(crashed()).toBe(true);
    expect(await totals(engine, 'acme')).toEqual({ days: [{ day: utcDay(), usage: one, cost }], models: [{ model: 'm1', usage: one, costUsd: cost }] });
    expect(await engine.redis.exists(engine.ctx.keys.ofSession('replay', 'rollups'))).toBe(0);
  });

  it('a roll-up left by a task that never runs again is applied by the reconciler, once; a duplicate is refused', async () => {
    const engine = h.engine();
    await crashingWorker(
      () => new TaskFailure('CRASHED', 'simulated crash between record and roll-up'),
      async () => undefined,
    );
    await engine.submit({ sessionId: 'orphan', taskId: 'orphan-1', prompt: 'p', tenant: 'bcme' });
    expect(await h.settled(engine, 'orphan-1')).toMatchObject({ status: 'failed', usage: one });
    expect(await totals(engine, 'bcme')).toEqual({ days: [], models: [] });
    const pending = await engine.redis.hgetall(engine.ctx.keys.ofSession('orphan', 'rollups'));
    expect(Object.keys(pending)).toEqual(['orphan-1:1']);

    const report = await new Reconciler(engine, { graceMs: 0 }).reconcile();
    expect(report.rolledUp).toBe(1);
    const after = { days: [{ day: utcDay(), usage: one, cost }], models: [{ model: 'm1', usage: one, costUsd: cost }] };
    expect(await totals(engine, 'bcme')).toEqual(after);
    expect((await new Reconciler(engine, { graceMs: 0 }).reconcile()).rolledUp).toBe(0);

    // The same roll-up once more (a racing drainer, a replay after the drain): refused by both targets.
    const again = await applyRollup(engine, 'orphan', 'orphan-1:1', RollupSchema.parse(JSON.parse(pending['orphan-1:1']!)));
    expect(again).toEqual({ tenant: { kind: 'duplicate' }, model: { kind: 'duplicate' } });
    expect(await totals(engine, 'bcme')).toEqual(after);
  });

  it('a roll-up recorded before midnight and applied again after it meets the markers of its own day: refused', async () => {
    const engine = h.engine();
    // Recorded "yesterday" (the day travels with the pending roll-up), applied today, then again by a racing drainer.
    const yesterday = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
    const rollup = RollupSchema.parse({
      tenant: 'ccme',
      day: yesterday,
      model: 'm1',
      tokens: { input: 80, output: 20, cached: 0 },
      costUsd: cost,
      ttlSeconds: 3600,
    });
    expect(await applyRollup(engine, 'late', 'late-1:1', rollup)).toEqual({ tenant: { kind: 'applied' }, model: { kind: 'applied' } });
    expect(await applyRollup(engine, 'late', 'late-1:1', rollup)).toEqual({ tenant: { kind: 'duplicate' }, model: { kind: 'duplicate' } });
    const reader = new UsageReader(engine.ctx);
    expect(await reader.tenantDays('ccme', yesterday, utcDay())).toEqual([{ day: yesterday, usage: one, cost }]);
    expect(await engine.redis.hget(engine.ctx.keys.tenantRolled('ccme', yesterday, 'late-1:1'), 'late-1:1')).toBe('');
  });

  it('markers last as long as the roll-up says (the deployment’s retention), never past ROLLUP_MARKER_TTL_S', async () => {
    expect(rollupMarkerTtlS(5000, 1000)).toBe(10); // ten reconciler sweeps when retention is shorter
    expect(rollupMarkerTtlS(60_000, 1000)).toBe(60);
    expect(rollupMarkerTtlS(30 * 24 * 3600_000, 5000)).toBe(ROLLUP_MARKER_TTL_S);
    expect(rollupMarkerTtlS(0, 5000)).toBe(ROLLUP_MARKER_TTL_S); // RETENTION_MS 0 keeps everything
    const engine = h.engine();
    const day = utcDay();
    const rollup = RollupSchema.parse({
      tenant: 'dcme',
      day,
      model: 'm1',
      tokens: { input: 1, output: 1, cached: 0 },
      costUsd: cost,
      ttlSeconds: 3600,
      markerTtlSeconds: 30,
    });
    await applyRollup(engine, 'short', 'short-1:1', rollup);
    const ttl = await engine.redis.ttl(engine.ctx.keys.tenantRolled('dcme', day, 'short-1:1'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
  });
});
