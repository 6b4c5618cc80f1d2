import { barrier } from '@baton/testkit';
import { reserveTurn, utcDay, type TurnMetering, type UsageConfig } from './turn-metering';
import { PriceTable } from './prices';
import { UsageReader } from './usage-reader';
import { Harness } from '../testing/harness';
import { TaskFailure, YieldSignal } from '../runtime/signals';
import type { TaskHandler } from '../runtime/task-worker';
import type { TaskContext } from '../runtime/task-context';

/** Every turn reports 80 input (20 cached) and 20 output tokens; the estimate is 100. */
const RESPONSE = { usage: { prompt_tokens: 80, completion_tokens: 20, cached_tokens: 20 } };
const metering = (config: UsageConfig, model = 'm1'): TurnMetering => ({
  config,
  model,
  estimateTokens: 100,
  tokensOf: (r) => {
    const u = (r as typeof RESPONSE).usage;
    return { input: u.prompt_tokens, output: u.completion_tokens, cached: u.cached_tokens };
  },
});
const prices = new PriceTable({ m1: { input: 1, output: 2, cached: 0.5 } });

/** A handler that runs `turns` metered turns (0: until a budget stops it); `onTurn` is awaited inside each call. */
function turns(config: UsageConfig, count: number, onTurn?: (ctx: TaskContext, turn: number) => Promise<void>): TaskHandler {
  return async (ctx) => {
    for (let turn = ctx.task.turns + 1; count === 0 || turn <= count; turn++) {
      await ctx.checkpoint(turn);
      await ctx.gate(
        turn,
        async () => {
          await onTurn?.(ctx, turn);
          return RESPONSE;
        },
        {},
        metering(config, ctx.task.prompt === 'unpriced' ? 'unknown-model' : 'm1'),
      );
    }
    return { status: 'completed', result: 'done' };
  };
}

describe('metered turns: usage recorded once, budgets checked before the gate', () => {
  // One harness (prefix, queue) per test: a worker of one test must not run another's tasks.
  let h: Harness;
  beforeEach(() => (h = new Harness('turn-metering', { sessionConcurrency: 8 })));
  afterEach(() => h.close());

  it('records each turn once, even when the handler replays a committed turn; rolls up to tree, session, tenant day and model', async () => {
    const engine = h.engine();
    let yielded = false;
    await h.worker(async (ctx) => {
      await ctx.checkpoint(1);
      await ctx.gate(1, async () => RESPONSE, {}, metering({ prices }));
      // A "crash" after the commit: the job runs again and the turn is replayed from the gate.
      if (!yielded) {
        yielded = true;
        throw new YieldSignal(ctx.taskId);
      }
      const again = await ctx.gate(1, async () => RESPONSE, {}, metering({ prices }));
      expect(again.outcome).toBe('replayed');
      return { status: 'completed', result: 'ok' };
    });
    await engine.submit({ sessionId: 'once', taskId: 'once-1', prompt: 'p', tenant: 'acme' });
    const task = await h.settled(engine, 'once-1');
    expect(yielded).toBe(true);
    const one = { inputTokens: 80, outputTokens: 20, cachedTokens: 20, turns: 1, unpricedTurns: 0 };
    // 60 uncached * $1 + 20 cached * $0.5 + 20 out * $2, per million.
    const cost = (60 + 10 + 40) / 1e6;
    expect(task).toMatchObject({ status: 'completed', usage: one, cost, treeUsage: one, treeCost: cost, budget: null, onBudget: 'fail' });
    expect(await engine.getSession('once')).toMatchObject({ usage: one, cost });
    const reader = new UsageReader(engine.ctx);
    expect(await reader.tenantDays('acme', utcDay(), utcDay())).toEqual([{ day: utcDay(), usage: one, cost }]);
    expect(await reader.tenantDays('other', utcDay(), utcDay())).toEqual([]);
    expect(await reader.byModel()).toEqual([{ model: 'm1', usage: one, costUsd: cost }]);
  });

  it('an unknown model: cost null and an unpriced turn, never a guess', async () => {
    const engine = h.engine();
    await h.worker(turns({ prices }, 2));
    await engine.submit({ sessionId: 'unpriced', taskId: 'unpriced-1', prompt: 'unpriced' });
    const task = await h.settled(engine, 'unpriced-1');
    expect(task).toMatchObject({ cost: null, usage: { turns: 2, unpricedTurns: 2, inputTokens: 160 }, treeCost: null });
  });

  it('a turn holds a reservation while in flight only where a budget applies (none: nothing is reserved)', async () => {
    const engine = h.engine();
    const seen: Record<string, string | null> = {};
    await h.worker(
      turns({ prices }, 1, async (ctx, turn) => {
        seen[ctx.taskId] = await engine.redis.hget(engine.keys.gate(ctx.sessionId, ctx.taskId), `${turn}:resv`);
      }),
    );
    await engine.submit({ sessionId: 'free', taskId: 'free-1', prompt: 'p' });
    await engine.submit({ sessionId: 'capped', taskId: 'capped-1', prompt: 'p', budget: { maxTurns: 5 } });
    expect((await h.settled(engine, 'free-1')).usage?.turns).toBe(1);
    expect((await h.settled(engine, 'capped-1')).usage?.turns).toBe(1);
    expect(seen['free-1']).toBeNull();
    expect(seen['capped-1']).toMatch(/^100 /);
  });

  it('a tree over maxTurns fails with BUDGET_EXCEEDED naming the budget, limit and spent', async () => {
    const engine = h.engine();
    await h.worker(turns({ prices }, 0));
    await engine.submit({ sessionId: 'tree-turns', taskId: 'tt-1', prompt: 'p', budget: { maxTurns: 3 } });
    const task = await h.settled(engine, 'tt-1');
    expect(task.status).toBe('failed');
    expect(task.error).toEqual({
      code: 'BUDGET_EXCEEDED',
      message: 'turn 4 would start over the tree budget maxTurns: limit 3, spent 3 (including turns in flight)',
    });
    expect(task.treeUsage?.turns).toBe(3);
    expect(task.budget).toEqual({ maxTurns: 3 });
  });

  it('onBudget "ask": parks awaiting approval of continue_over_budget; approved, the tree goes on past that budget', async () => {
    const engine = h.engine();
    await h.worker(turns({ prices }, 3));
    await engine.submit({ sessionId: 'ask', taskId: 'ask-1', prompt: 'p', budget: { maxTurns: 1 }, onBudget: 'ask' });
    await h.event(engine, 'ask', (e) => e.type === 'task.input_required');
    const parked = await engine.getTask('ask-1');
    expect(parked).toMatchObject({
      status: 'awaiting_input',
      pendingInput: { kind: 'approval', tool: 'continue_over_budget', arguments: { budget: 'tree.maxTurns', limit: 1, spent: 1 }, toolCallId: 'budget-2-tree' },
    });
    await engine.deliverInput({ taskId: 'ask-1', response: { kind: 'approval', approved: true } });
    const task = await h.settled(engine, 'ask-1');
    expect(task).toMatchObject({ status: 'completed', usage: { turns: 3 } });
  });

  it('a denied approval fails the task with BUDGET_EXCEEDED', async () => {
    const engine = h.engine();
    await h.worker(turns({ prices }, 3));
    await engine.submit({ sessionId: 'deny', taskId: 'deny-1', prompt: 'p', budget: { maxTokens: 50 }, onBudget: 'ask' });
    await h.event(engine, 'deny', (e) => e.type === 'task.input_required');
    await engine.deliverInput({ taskId: 'deny-1', response: { kind: 'approval', approved: false } });
    const task = await h.settled(engine, 'deny-1');
    expect(task.error?.code).toBe('BUDGET_EXCEEDED');
    expect(task.error?.message).toMatch(/tree budget maxTokens: limit 50, spent 100 .*continuing was refused/);
  });
});

/**
 * Budgets hold with many workers: K tasks on 3 workers (separate engines and
 * connections) run turns until a shared budget stops them. All K start their
 * first turn at once (a barrier inside the call), then race for the rest.
 * The overspend is at most one turn's reservation (100 tokens), and the
 * budget is used (no task stopped early while room was left).
 */
describe('budgets under concurrent workers', () => {
  const K = 6;
  const LIMIT = 1000;
  let h: Harness;
  beforeEach(() => (h = new Harness('budget-race', { sessionConcurrency: K })));
  afterEach(() => h.close());

  async function race(config: UsageConfig, sessions: (i: number) => string, tenant: string) {
    const engine = h.engine();
    const first = barrier(K);
    const handler = turns(config, 0, async (_ctx, turn) => {
      if (turn === 1) {
        first.arrive();
        await first.reached;
      }
    });
    for (let w = 0; w < 3; w++) await h.worker(handler);
    const ids = Array.from({ length: K }, (_, i) => `${tenant}-${i}`);
    for (const [i, id] of ids.entries()) await engine.submit({ sessionId: sessions(i), taskId: id, prompt: 'p', tenant });
    const tasks = await Promise.all(ids.map((id) => h.settled(engine, id)));
    expect(tasks.map((t) => t.error?.code)).toEqual(ids.map(() => 'BUDGET_EXCEEDED'));
    return { engine, tasks };
  }

  it('a session budget (K roots of one session)', async () => {
    const { engine } = await race({ prices, session: { maxTokens: LIMIT } }, () => 'race-session', 'ts');
    const session = await engine.getSession('race-session');
    const spent = session.usage.inputTokens + session.usage.outputTokens;
    expect(spent).toBeGreaterThanOrEqual(LIMIT);
    expect(spent).toBeLessThanOrEqual(LIMIT + 100);
    const hash = await engine.redis.hgetall(engine.ctx.keys.session('race-session'));
    expect([hash['br:turns'], hash['br:tokens']]).toEqual(['0', '0']);
  });

  it('a tenant budget per day (K sessions of one tenant)', async () => {
    const { engine } = await race({ prices, tenant: { maxTokens: LIMIT } }, (i) => `race-tenant-${i}`, 'tt');
    const [day] = await new UsageReader(engine.ctx).tenantDays('tt', utcDay(), utcDay());
    const spent = day!.usage.inputTokens + day!.usage.outputTokens;
    expect(spent).toBeGreaterThanOrEqual(LIMIT);
    expect(spent).toBeLessThanOrEqual(LIMIT + 100);
    const hash = await engine.redis.hgetall(engine.ctx.keys.tenantUsageDay('tt', utcDay()));
    expect([hash['br:turns'], hash['br:tokens']]).toEqual(['0', '0']);
  });

  it('a reservation left by a dead worker expires: the budget is still used, never overspent by more than one reservation', async () => {
    const engine = h.engine();
    const config: UsageConfig = { prices, session: { maxTokens: LIMIT } };
    const first = barrier(K);
    const live = turns(config, 0, async (_ctx, turn) => {
      if (turn === 1) {
        first.arrive();
        await first.reached;
      }
    });
    await h.worker(async (ctx) => {
      if (ctx.task.prompt !== 'dead') return live(ctx);
      // A worker that dies with a turn reserved for the whole budget: nobody releases it. Lifetime 0:
      // it is past its deadline at the next reserve (without expiry, every later turn would be refused).
      await reserveTurn(ctx, 1, { ...metering({ ...config, reservationLifetimeMs: 0 }), estimateTokens: LIMIT });
      throw new TaskFailure('CRASHED', 'died with its turn reserved');
    });
    await engine.submit({ sessionId: 'race-dead', taskId: 'dead-0', prompt: 'dead', tenant: 'td' });
    expect(await h.settled(engine, 'dead-0')).toMatchObject({ status: 'failed' });
    expect(await engine.redis.hget(engine.ctx.keys.session('race-dead'), 'br:tokens')).toBe(String(LIMIT));
    for (let w = 0; w < 2; w++) await h.worker(live);
    const ids = Array.from({ length: K }, (_, i) => `td-${i}`);
    for (const id of ids) await engine.submit({ sessionId: 'race-dead', taskId: id, prompt: 'p', tenant: 'td' });
    const tasks = await Promise.all(ids.map((id) => h.settled(engine, id)));
    expect(tasks.map((t) => t.error?.code)).toEqual(ids.map(() => 'BUDGET_EXCEEDED'));
    const session = await engine.getSession('race-dead');
    const spent = session.usage.inputTokens + session.usage.outputTokens;
    expect(spent).toBeGreaterThanOrEqual(LIMIT);
    expect(spent).toBeLessThanOrEqual(LIMIT + 100);
    const hash = await engine.redis.hgetall(engine.ctx.keys.session('race-dead'));
    expect([hash['br:turns'], hash['br:tokens']]).toEqual(['0', '0']);
  });
});
