import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, UsageReader, utcDay, type TaskTree } from '@baton/core';
import { testPrefix } from '@baton/testkit';
import { flatten, jobEnded, startFakeWorker, type FakeWorker } from '../test-utils/harness';
import type { WorkerApp } from '../worker-app';
import { estimateTokens, tokensOfResponse, usageConfigFromEnv } from './usage-metering';
import { parseEnv } from '../env';

/**
 * Usage and cost through the agent loop and the fake provider (10 prompt and
 * 5 completion tokens a reply): each committed turn is recorded once on its
 * task, and rolled up to the tree (root), the session and the tenant's day.
 */
describe.each([
  ['priced', 'fake-model: { input: 1, output: 2 }\n'],
  ['unpriced', 'other-model: { input: 1, output: 2 }\n'],
])('usage through the agent loop (%s model)', (name, prices) => {
  const prefix = testPrefix(`agent-usage-${name}`);
  let stack: FakeWorker;
  let app: WorkerApp;
  let engine: Engine;

  beforeAll(async () => {
    const pricesFile = join(tmpdir(), `${prefix}-prices.yaml`);
    writeFileSync(pricesFile, prices);
    stack = await startFakeWorker({ prefix, env: { PRICES_FILE: pricesFile } });
    ({ app, engine } = stack);
  });
  afterAll(() => stack?.close());

  it('records each turn on its task and rolls up to tree, session and tenant day', async () => {
    const taskId = `r-${name}`;
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${name}`, taskId, prompt: 'ship it steps=2', tenant: `tenant-${name}` });
    await ended;
    const tree = (await engine.getTree(taskId)) as TaskTree;
    expect(tree.status).toBe('completed');
    const tasks = flatten(tree);
    expect(tasks.length).toBe(3);
    const perTurn = name === 'priced' ? (10 * 1 + 5 * 2) / 1e6 : null;
    let turns = 0;
    for (const t of tasks) {
      // One usage record per committed turn: as many as the task's turns.
      expect(t.usage).toEqual({
        inputTokens: 10 * t.turns,
        outputTokens: 5 * t.turns,
        cachedTokens: 0,
        turns: t.turns,
        unpricedTurns: perTurn === null ? t.turns : 0,
      });
      expect(t.cost).toBe(perTurn === null ? null : Math.round(perTurn * t.turns * 1e9) / 1e9);
      turns += t.turns;
    }
    const total = { inputTokens: 10 * turns, outputTokens: 5 * turns, cachedTokens: 0, turns, unpricedTurns: perTurn === null ? turns : 0 };
    const cost = perTurn === null ? null : Math.round(perTurn * turns * 1e9) / 1e9;
    expect(tree).toMatchObject({ treeUsage: total, treeCost: cost });
    expect(await engine.getSession(`s-${name}`)).toMatchObject({ usage: total, cost });
    expect(await new UsageReader(engine.ctx).tenantDays(`tenant-${name}`, utcDay(), utcDay())).toEqual([{ day: utcDay(), usage: total, cost }]);
  });
});

describe('usage-metering helpers', () => {
  it('reads OpenAI and Anthropic-client usage; estimates 4 characters a token', () => {
    expect(tokensOfResponse({ usage: { prompt_tokens: 9, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } } })).toEqual({
      input: 9,
      output: 3,
      cached: 4,
    });
    expect(tokensOfResponse({ usage: { prompt_tokens: 115, completion_tokens: 7, cached_tokens: 100 } })).toEqual({ input: 115, output: 7, cached: 100 });
    expect(tokensOfResponse({ message: {} })).toBeUndefined();
    expect(estimateTokens([{ role: 'user', content: 'x'.repeat(392) }])).toBe(100);
  });
});

describe('usage configuration from the environment', () => {
  it('reads SESSION_/TENANT_BUDGET_* and TENANT_USAGE_TTL_DAYS; bad values name the variable; a bad PRICES_FILE stops the start', () => {
    const config = usageConfigFromEnv(
      parseEnv({ SESSION_BUDGET_MAX_TOKENS: '1000', SESSION_BUDGET_MAX_COST_USD: '2.5', TENANT_BUDGET_MAX_TURNS: '50', TENANT_USAGE_TTL_DAYS: '30' }),
    );
    expect(config).toMatchObject({ session: { maxTokens: 1000, maxCostUsd: 2.5 }, tenant: { maxTurns: 50 }, tenantUsageTtlS: 30 * 86_400 });
    expect(config.prices.size).toBe(0);
    // A dead worker's reservation holds for the longest run of a request: 5 attempts of 120 s, 4 backoffs of 30 s, 5 min margin.
    expect(config.reservationLifetimeMs).toBe(5 * 120_000 + 4 * 30_000 + 300_000);
    expect(usageConfigFromEnv(parseEnv({ LLM_TIMEOUT_MS: '1000', LLM_MAX_ATTEMPTS: '1' })).reservationLifetimeMs).toBe(1000 + 300_000);
    expect(() => parseEnv({ SESSION_BUDGET_MAX_TURNS: '0' })).toThrow(/\(got "0"\)\n {2}→ at SESSION_BUDGET_MAX_TURNS/);
    expect(() => parseEnv({ TENANT_BUDGET_MAX_COST_USD: 'lots' })).toThrow(/TENANT_BUDGET_MAX_COST_USD/);
    const bad = join(tmpdir(), `bad-prices-${process.pid}.yaml`);
    writeFileSync(bad, 'gpt: { input: -1 }\n');
    expect(() => usageConfigFromEnv(parseEnv({ PRICES_FILE: bad }))).toThrow(/PRICES_FILE .* is invalid/);
  });
});
