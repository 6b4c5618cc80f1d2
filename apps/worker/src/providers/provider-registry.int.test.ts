import { Engine, UsageReader, type Message } from '@baton/core';
import { chatCompletion, cleanupPrefix, REDIS_URL, startFakeProvider, testPrefix, toolCall, type FakeProvider, type FakeRequest } from '@baton/testkit';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_MODES, ModeRegistry, type ModeConfig } from '../modes/modes';
import { jobEnded, startTestWorker, treeProblems } from '../test-utils/harness';
import type { WorkerApp } from '../worker-app';

/**
 * Per-mode providers in one worker: the default provider is OpenAI
 * (LLM_BASE_URL -> one fake), a `planner` mode runs on Anthropic
 * (ANTHROPIC_BASE_URL -> another fake, its own key), and a task that
 * switches from planner to coder sends its first turn to Anthropic and its
 * next to OpenAI, each under the turn's gate key, each metered with the
 * model it used.
 */
const planner: ModeConfig = {
  slug: 'planner',
  name: 'Planner',
  roleDefinition: 'You plan.',
  provider: 'anthropic',
  model: 'claude-fake',
};
const coder: ModeConfig = { slug: 'coder', name: 'Coder', roleDefinition: 'You code.', provider: 'openai', model: 'gpt-fake' };
const modes = () => new ModeRegistry([...BUILT_IN_MODES, planner, coder]);

describe('a provider per mode', () => {
  const prefix = testPrefix('permode');
  let openai: FakeProvider;
  let anthropic: FakeProvider;
  let app: WorkerApp;
  let engine: Engine;

  const firstUser = (r: FakeRequest) => String(r.body.messages?.find((m) => m.role === 'user')?.content ?? '');
  const turnOf = (r: FakeRequest) => (r.body.messages ?? []).filter((m) => m.role === 'assistant').length + 1;

  beforeAll(async () => {
    // The fake answers per prompt: "switch" switches to coder at turn 1; everything else completes.
    const policy = (r: FakeRequest) => {
      if (firstUser(r).startsWith('switch') && turnOf(r) === 1)
        return { body: chatCompletion({ toolCalls: [toolCall('c1', 'switch_mode', { mode_slug: 'coder', reason: 'time to code' })] }, r.body.model) };
      return { body: chatCompletion({ toolCalls: [toolCall(`c${turnOf(r)}`, 'attempt_completion', { result: `done by ${r.protocol}` })] }, r.body.model) };
    };
    openai = await startFakeProvider({ apiKey: 'sk-test', policy });
    anthropic = await startFakeProvider({ apiKey: 'sk-ant-test', policy });
    const prices = join(tmpdir(), `${prefix}-prices.yaml`);
    writeFileSync(prices, 'claude-fake: { input: 3, output: 15 }\ngpt-fake: { input: 1, output: 2 }\n');
    app = await startTestWorker({
      prefix,
      modes: modes(),
      env: { LLM_BASE_URL: openai.url, ANTHROPIC_BASE_URL: anthropic.url, ANTHROPIC_API_KEY: 'sk-ant-test', PRICES_FILE: prices },
    });
    engine = new Engine(REDIS_URL, { prefix });
  });
  afterAll(async () => {
    await app?.close(1000);
    await engine?.close();
    await openai?.close();
    await anthropic?.close();
    await cleanupPrefix(prefix);
  });

  async function run(taskId: string, mode: string, prompt: string) {
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt, mode, tenant: `t-${prefix}` });
    await ended;
    expect(Object.values(await treeProblems(engine, taskId)).flat()).toEqual([]);
    return (await engine.getTree(taskId))!;
  }

  it('builds the default provider and the one a mode chooses, once each', () => {
    expect(app.providers.kinds()).toEqual(['openai', 'anthropic']);
    expect(app.provider.name).toBe('openai');
    expect(app.providers.forMode({ provider: 'anthropic' }).name).toBe('anthropic');
    expect(app.providers.forMode({})).toBe(app.provider);
  });

  it('a task in a mode on anthropic speaks the Messages API only, with the mode model and the Anthropic key', async () => {
    const tree = await run('pm-1', 'planner', 'plan it');
    expect(tree).toMatchObject({ status: 'completed', result: 'done by anthropic' });
    const sent = anthropic.requests.filter((r) => r.key?.startsWith('pm-1:'));
    expect(sent.map((r) => [r.key, r.protocol, r.body.model, r.headers['x-api-key']])).toEqual([['pm-1:1', 'anthropic', 'claude-fake', 'sk-ant-test']]);
    expect(openai.requests.filter((r) => r.key?.startsWith('pm-1:'))).toEqual([]);
  });

  it('switch_mode moves the next turn to the new mode provider, under the same turn numbering; usage keeps each model', async () => {
    const tree = await run('pm-2', 'planner', 'switch and code');
    expect(tree).toMatchObject({ status: 'completed', mode: 'coder', result: 'done by openai', turns: 2 });
    expect(anthropic.requests.filter((r) => r.key?.startsWith('pm-2:')).map((r) => [r.key, r.body.model])).toEqual([['pm-2:1', 'claude-fake']]);
    expect(openai.requests.filter((r) => r.key?.startsWith('pm-2:')).map((r) => [r.key, r.body.model, r.headers.authorization])).toEqual([
      ['pm-2:2', 'gpt-fake', 'Bearer sk-test'],
    ]);
    const messages = (await engine.getMessages('pm-2')) as Message[];
    expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(2);
    // One turn on each model (pm-1's planner turn is the other claude-fake turn).
    const byModel = Object.fromEntries((await new UsageReader(engine.ctx).byModel()).map((m) => [m.model, m.usage.turns]));
    expect(byModel).toEqual({ 'claude-fake': 2, 'gpt-fake': 1 });
  });
});

describe('a mode naming a provider the worker cannot use', () => {
  const prefix = testPrefix('permode-bad');
  afterAll(() => cleanupPrefix(prefix));

  it('stops the worker at start, naming the mode and the variables to set', async () => {
    await expect(startTestWorker({ prefix, modes: modes(), env: { LLM_BASE_URL: 'http://127.0.0.1:9/v1' } })).rejects.toThrow(
      /mode planner: provider anthropic is not configured \(set ANTHROPIC_API_KEY \/ ANTHROPIC_BASE_URL; the default provider is openai\)/,
    );
  });

  it('requires a model of a mode on a provider other than the default', async () => {
    const registry = new ModeRegistry([...BUILT_IN_MODES, { ...planner, model: undefined } as ModeConfig]);
    await expect(startTestWorker({ prefix, modes: registry, env: { LLM_BASE_URL: 'http://127.0.0.1:9/v1', ANTHROPIC_API_KEY: 'sk-ant' } })).rejects.toThrow(
      /mode planner: provider anthropic is not the default \(openai\), so the mode must name its model/,
    );
  });

  it('refuses an unknown provider in a mode', () => {
    expect(() => new ModeRegistry([{ ...planner, provider: 'gemini' } as unknown as ModeConfig])).toThrow(/provider is one of openai, anthropic, demo/);
  });
});
