import { PriceTable, TaskWorker, utcDay, type TaskHandler, type UsageConfig } from '@baton/core';
import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

const ACME = { authorization: 'Bearer acme-secret-0001' };
const GLOBEX = { authorization: 'Bearer globex-secret-0002' };
const METRICS_TOKEN = 'metrics-token-0000001';

/** Prompt `turns=<n>`: n metered turns of model m1 (10 input, 5 output tokens each), or of `unknown` with prompt `unpriced`. */
const config: UsageConfig = { prices: new PriceTable({ m1: { input: 1, output: 2 } }) };
const handler: TaskHandler = async (ctx) => {
  const n = Number(/turns=(\d+)/.exec(ctx.task.prompt)?.[1] ?? 1);
  for (let turn = ctx.task.turns + 1; turn <= n; turn++) {
    await ctx.checkpoint(turn);
    await ctx.gate(
      turn,
      async () => ({ usage: { prompt_tokens: 10, completion_tokens: 5 } }),
      {},
      {
        config,
        model: ctx.task.prompt.includes('unpriced') ? 'unknown' : 'm1',
        estimateTokens: 15,
        tokensOf: (r) => {
          const u = (r as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
          return { input: u.prompt_tokens, output: u.completion_tokens, cached: 0 };
        },
      },
    );
  }
  return { status: 'completed', result: 'ok' };
};

let h: Harness;
let worker: TaskWorker;
beforeAll(async () => {
  h = await startHarness({ env: { API_KEYS: 'acme:acme-secret-0001,globex:globex-secret-0002', METRICS_TOKEN } });
  worker = new TaskWorker(h.engine, handler, { concurrency: 2 });
  await worker.waitUntilReady();
});
afterAll(async () => {
  await worker.close(true);
  await h.close();
});

async function run(sessionId: string, headers: Record<string, string>, payload: object, statuses = ['completed', 'failed']) {
  const res = await h.app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/tasks`, headers, payload });
  expect(res.statusCode).toBe(201);
  const id = res.json().id as string;
  await waitForTask(h.engine, id, statuses as never);
  return id;
}

const PER_TURN = (10 * 1 + 5 * 2) / 1e6;
const usage = (turns: number, unpriced = 0) => ({ inputTokens: 10 * turns, outputTokens: 5 * turns, cachedTokens: 0, turns, unpricedTurns: unpriced });

describe('usage, cost and budgets over HTTP', () => {
  test('GET /v1/tasks/{id} shows usage and cost, and on a root the tree totals and budget; GET /v1/sessions/{id} the session totals', async () => {
    const id = await run('u-s1', ACME, { prompt: 'turns=2', budget: { maxTurns: 5, maxCostUsd: 1 } });
    const task = (await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json();
    expect(task).toMatchObject({
      status: 'completed',
      usage: usage(2),
      cost: 2 * PER_TURN,
      treeUsage: usage(2),
      treeCost: 2 * PER_TURN,
      budget: { maxTurns: 5, maxCostUsd: 1 },
      onBudget: 'fail',
    });
    const session = (await h.app.inject({ url: '/v1/sessions/u-s1', headers: ACME })).json();
    expect(session).toMatchObject({ usage: usage(2), cost: 2 * PER_TURN });
  });

  test('a tree over its budget fails with BUDGET_EXCEEDED; a bad budget is a 400', async () => {
    const id = await run('u-s2', ACME, { prompt: 'turns=3', budget: { maxTurns: 1 } });
    const task = (await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json();
    expect(task).toMatchObject({
      status: 'failed',
      error: { code: 'BUDGET_EXCEEDED', message: expect.stringContaining('tree budget maxTurns: limit 1, spent 1') },
      treeUsage: usage(1),
    });
    const bad = await h.app.inject({
      method: 'POST',
      url: '/v1/sessions/u-s2/tasks',
      headers: ACME,
      payload: { prompt: 'x', budget: { maxTurns: 0, extra: 1 } },
    });
    expect(bad.statusCode).toBe(400);
  });

  test('onBudget "ask": the task parks awaiting approval of continue_over_budget; POST input approves it', async () => {
    const id = await run('u-s3', ACME, { prompt: 'turns=2', budget: { maxTokens: 10 }, onBudget: 'ask' }, ['awaiting_input']);
    const parked = (await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json();
    expect(parked.pendingInput).toMatchObject({
      kind: 'approval',
      tool: 'continue_over_budget',
      arguments: { budget: 'tree.maxTokens', limit: 10, spent: 15 },
    });
    const approved = await h.app.inject({ method: 'POST', url: `/v1/tasks/${id}/input`, headers: ACME, payload: { approved: true } });
    expect(approved.statusCode).toBe(202);
    await waitForTask(h.engine, id, ['completed']);
  });

  test('GET /v1/usage: the caller tenant’s days only (tenant isolation), priced and unpriced; the query is validated', async () => {
    await run('g-s1', GLOBEX, { prompt: 'turns=1 unpriced' });
    const day = utcDay();
    const globex = (await h.app.inject({ url: `/v1/usage?from=${day}&to=${day}`, headers: GLOBEX })).json();
    expect(globex).toEqual({ from: day, to: day, days: [{ day, usage: usage(1, 1), cost: null }], total: { usage: usage(1, 1), cost: null } });
    const weekAgo = utcDay(Date.now() - 7 * 86_400_000);
    const acme = (await h.app.inject({ url: `/v1/usage?from=${weekAgo}&to=${day}`, headers: ACME })).json();
    // acme: 2 + 1 + 2 turns above, none of globex's.
    expect(acme.days).toEqual([{ day, usage: usage(5), cost: Math.round(5 * PER_TURN * 1e9) / 1e9 }]);
    expect(acme.total.usage).toEqual(usage(5));
    for (const q of [
      '',
      `?from=${day}`,
      `?from=${day}&to=2020-01-01`,
      '?from=2026-02-30&to=2026-03-01',
      '?from=2020-01-01&to=2026-01-01',
      `?from=${day}&to=${day}&x=1`,
    ]) {
      const res = await h.app.inject({ url: `/v1/usage${q}`, headers: ACME });
      expect([q, res.statusCode]).toEqual([q, 400]);
    }
    expect((await h.app.inject({ url: `/v1/usage?from=${day}&to=${day}` })).statusCode).toBe(401);
  });

  test('metrics: tokens, turns and cost counters by model', async () => {
    const text = (await h.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).body;
    expect(text).toContain('baton_model_tokens_total{model="m1",kind="input"} 50');
    expect(text).toContain('baton_model_tokens_total{model="m1",kind="output"} 25');
    expect(text).toContain('baton_model_turns_total{model="unknown",priced="false"} 1');
    expect(text).toMatch(/baton_model_cost_usd_total\{model="m1"\} 0\.0001/);
  });
});
