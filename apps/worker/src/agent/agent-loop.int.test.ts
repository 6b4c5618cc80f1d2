import { conversationProblems, Engine, type Message } from '@baton/core';
import { chatCompletion, cleanupPrefix, deferred, REDIS_URL, startFakeProvider, testPrefix, toolCall, type FakeProvider } from '@baton/testkit';
import { get } from 'node:http';
import { z } from 'zod';
import { flatten, jobEnded, startTestWorker, treeProblems } from '../test-utils/harness';
import { ModeRegistry, BUILT_IN_MODES } from '../modes/modes';
import { systemReference } from '../prompt/system-reference';
import { defineTool } from '../tools/tool-registry';
import type { WorkerApp } from '../worker-app';

/**
 * The agent loop in one in-process worker, against the fake provider over
 * real HTTP and real Redis. One prefix, worker and engine for the file; each
 * test uses its own sessions and task ids.
 */
describe('agent loop (in-process worker, fake provider)', () => {
  const prefix = testPrefix('agent');
  let fake: FakeProvider;
  let app: WorkerApp;
  let engine: Engine;
  let seq = 0;
  const addCalls: AbortSignal[] = [];

  const modes = new ModeRegistry([
    ...BUILT_IN_MODES,
    { name: 'calc', systemPrompt: 'You add numbers.', tools: ['add', 'attempt_completion'] },
    { name: 'chat', systemPrompt: 'You chat.', tools: [] },
  ]);
  const add = defineTool({
    name: 'add',
    description: 'Adds two numbers',
    schema: z.object({ a: z.number(), b: z.number() }),
    async handler({ a, b }, { signal }) {
      addCalls.push(signal);
      return String(a + b);
    },
  });

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: 'sk-test' });
    app = await startTestWorker({ prefix, env: { LLM_BASE_URL: fake.url, LLM_TIMEOUT_MS: '300', MAX_TURNS: '4', METRICS_PORT: '0' }, modes, tools: [add] });
    engine = new Engine(REDIS_URL, { prefix });
  });
  beforeEach(() => fake.setPolicy(undefined));
  afterAll(async () => {
    await app?.close(1000);
    await engine?.close();
    await fake?.close();
    await cleanupPrefix(prefix);
  });

  /** Submits a root task and waits for its job to end in the worker. */
  async function run(prompt: string, mode = 'orchestrator', beforeEnd?: (taskId: string) => Promise<void>) {
    const taskId = `r${++seq}-${prefix.slice(-8)}`;
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt, mode });
    await beforeEnd?.(taskId);
    await ended;
    const tree = (await engine.getTree(taskId))!;
    const messages = (await engine.getMessages(taskId)) as Message[];
    return { taskId, tree, messages };
  }

  const toolContents = (messages: Message[]) => messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));
  const keysOf = (taskId: string) => Object.keys(fake.stats.requestsByKey).filter((k) => k.startsWith(`${taskId}:`) || k.startsWith(`${taskId}.`));

  it('orchestrator with 3 subtasks: one subtask per new_task, one at a time, each result delivered once', async () => {
    const { taskId, tree, messages } = await run('ship the feature in 3 steps');
    expect(tree.status).toBe('completed');
    expect(tree.children.map((c) => [c.id, c.mode, c.status])).toEqual([
      [`${taskId}.1.0`, 'code', 'completed'],
      [`${taskId}.2.0`, 'code', 'completed'],
      [`${taskId}.3.0`, 'code', 'completed'],
    ]);
    expect(toolContents(messages)).toEqual([1, 2, 3].map((i) => `done: Step ${i} of 3: ship the feature in 3 steps`).concat('completed'));
    expect(tree.result).toBe(`Completed 3 step(s): ${[1, 2, 3].map((i) => `done: Step ${i} of 3: ship the feature in 3 steps`).join(' | ')}`);
    // Root turns 1..4 and one turn per child; every key requested exactly once.
    expect(keysOf(taskId).sort()).toEqual(
      [`${taskId}.1.0:1`, `${taskId}.2.0:1`, `${taskId}.3.0:1`, `${taskId}:1`, `${taskId}:2`, `${taskId}:3`, `${taskId}:4`].sort(),
    );
    expect(keysOf(taskId).every((k) => fake.stats.requestsByKey[k] === 1)).toBe(true);
    expect(fake.stats.maxInFlightBySession[`s-${taskId}`]).toBe(1);
    expect(Object.values(await treeProblems(engine, taskId)).flat()).toEqual([]);
    // The protocol: bearer key, idempotency key and session header, OpenAI tools.
    const first = fake.requests.find((r) => r.key === `${taskId}:1`)!;
    expect(first.headers.authorization).toBe('Bearer sk-test');
    expect(first.headers['x-baton-session-id']).toBe(`s-${taskId}`);
    expect(first.body.model).toBe('fake-model');
    expect(first.body.messages?.map((m) => m.role)).toEqual(['system', 'user']);
    // The conversation stores a reference to the prompt the request sent, not its text.
    expect(messages[0]).toEqual(systemReference('orchestrator', String(first.body.messages?.[0]?.content)));
    expect(String(first.body.messages?.[0]?.content)).toContain('Current mode: orchestrator');
    // The orchestrator is offered the always-on tools (modes/tool-list); new_task's mode is an enum of the modes.
    expect(first.body.tools?.map((t) => t.function.name)).toEqual([
      'ask_followup_question',
      'attempt_completion',
      'switch_mode',
      'new_task',
      'update_todo_list',
    ]);
    expect(first.body.tools?.[3]?.function.parameters).toMatchObject({
      type: 'object',
      properties: { mode: { type: 'string', enum: ['orchestrator', 'code', 'ask', 'architect', 'debug', 'calc', 'chat'] }, message: { type: 'string' } },
      required: ['mode', 'message'],
    });
  });

  it('nested tree root -> A -> B: each parent resumes once its child is terminal', async () => {
    const { taskId, tree } = await run('outer steps=1 childMode=orchestrator :: inner steps=1');
    const all = flatten(tree);
    expect(all.map((t) => [t.id, t.mode, t.status])).toEqual([
      [taskId, 'orchestrator', 'completed'],
      [`${taskId}.1.0`, 'orchestrator', 'completed'],
      [`${taskId}.1.0.1.0`, 'code', 'completed'],
    ]);
    expect(tree.result).toContain('done: Step 1 of 1: Step 1 of 1: inner steps=1');
    expect(keysOf(taskId).every((k) => fake.stats.requestsByKey[k] === 1)).toBe(true);
    expect(fake.stats.maxInFlightBySession[`s-${taskId}`]).toBe(1);
    expect(Object.values(await treeProblems(engine, taskId)).flat()).toEqual([]);
  });

  it('429 with Retry-After, 500 and a hang (timeout) are all retried under one key and one gate call', async () => {
    let root = '';
    fake.setPolicy((r) => {
      if (r.key !== `${root}:1`) return undefined;
      if (r.attempt === 0) return { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down' } } };
      if (r.attempt === 1) return { status: 500 };
      if (r.attempt === 2) return 'hang';
      return undefined;
    });
    const { taskId, tree } = await run('no steps here', 'orchestrator', async (id) => void (root = id));
    expect(tree.status).toBe('completed');
    const attempts = fake.requests.filter((r) => r.key === `${taskId}:1`);
    expect(attempts.map((r) => r.attempt)).toEqual([0, 1, 2, 3]);
    expect(new Set(attempts.map((r) => r.sessionId))).toEqual(new Set([`s-${taskId}`]));
    // Retry-After: 1 was honoured (the backoff alone is at most 50 ms here).
    expect(attempts[1]!.receivedAt - attempts[0]!.receivedAt).toBeGreaterThanOrEqual(950);
    // The hang was aborted by the per-attempt timeout before the 4th attempt.
    expect(attempts[2]!.signal.aborted).toBe(true);
    const turnEvents = (await engine.readEvents(`s-${taskId}`)).filter((e) => e.type === 'turn.completed' && e.taskId === taskId);
    expect(turnEvents.map((e) => e.data)).toEqual([{ turn: 1, outcome: 'called', grants: 1 }]);
  });

  it('fails the task with the provider message on a 4xx, and after LLM_MAX_ATTEMPTS 5xx', async () => {
    fake.setPolicy((r) =>
      r.body.messages?.[1]?.content === 'bad request' ? { status: 400, body: { error: { message: 'model not found' } } } : { status: 503 },
    );
    const bad = await run('bad request');
    expect(bad.tree.status).toBe('failed');
    expect(bad.tree.error).toEqual({ code: 'MODEL_ERROR', message: 'provider returned 400: model not found' });
    expect(fake.stats.requestsByKey[`${bad.taskId}:1`]).toBe(1);

    const down = await run('provider down');
    expect(down.tree.status).toBe('failed');
    expect(down.tree.error?.message).toMatch(/^provider returned 503: .* \(after 5 attempts\)$/);
    expect(fake.stats.requestsByKey[`${down.taskId}:1`]).toBe(5);
  });

  it('malformed tool arguments, schema-invalid arguments and unknown tools go back to the model as errors', async () => {
    let root = '';
    fake.setPolicy((r) => {
      const turn = r.key === `${root}:1` ? 1 : r.key === `${root}:2` ? 2 : r.key === `${root}:3` ? 3 : 0;
      if (turn === 1) return { body: chatCompletion({ toolCalls: [toolCall('c1', 'new_task', '{"mode": "code", "message": ')] }) };
      if (turn === 2) return { body: chatCompletion({ toolCalls: [toolCall('c2', 'new_task', { mode: 7 }), toolCall('c3', 'rm_rf', {})] }) };
      if (turn === 3) return { body: chatCompletion({ toolCalls: [toolCall('c4', 'new_task', { mode: 'nope', message: 'x' })] }) };
      return undefined;
    });
    const { tree, messages } = await run('recover please', 'orchestrator', async (id) => void (root = id));
    expect(tree.status).toBe('completed');
    expect(tree.children).toEqual([]);
    const answers = toolContents(messages);
    expect(answers[0]).toMatch(/^error: the arguments of new_task are not valid JSON/);
    expect(answers[1]).toMatch(
      /^error: invalid arguments for new_task:\n✖ .*\n {2}→ at mode\n✖ .*\n {2}→ at message\nCall new_task again with valid arguments\.$/,
    );
    expect(answers[2]).toBe(
      'error: unknown tool "rm_rf". Available tools: ask_followup_question, attempt_completion, switch_mode, new_task, update_todo_list.',
    );
    expect(answers[3]).toMatch(/^error: unknown mode "nope"/);
    expect(conversationProblems(messages)).toEqual([]);
  });

  it('runs a registered user tool with the task signal, and completes on a text answer without tool calls', async () => {
    let root = '';
    fake.setPolicy((r) => (r.key === `${root}:1` ? { body: chatCompletion({ toolCalls: [toolCall('a1', 'add', { a: 2, b: 3 })] }) } : undefined));
    const { taskId, tree, messages } = await run('add 2 and 3', 'calc', async (id) => void (root = id));
    expect(tree.status).toBe('completed');
    expect(toolContents(messages)[0]).toBe('5');
    expect(addCalls).toHaveLength(1);
    expect(addCalls[0]).toBeInstanceOf(AbortSignal);
    const req = fake.requests.find((r) => r.key === `${taskId}:1`)!;
    expect(req.body.tools?.find((t) => t.function.name === 'add')?.function.parameters).toMatchObject({
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
    });

    const chat = await run('hello there', 'chat');
    expect(chat.tree.status).toBe('completed');
    expect(chat.tree.result).toBe('echo: hello there');
  });

  it('fails with MAX_TURNS when the model never completes', async () => {
    fake.setPolicy(() => ({ body: chatCompletion({ toolCalls: [toolCall(`x${Math.random()}`, 'add', { a: 1, b: 1 })] }) }));
    const { taskId, tree } = await run('loop forever', 'calc');
    expect(tree.status).toBe('failed');
    expect(tree.error).toEqual({ code: 'MAX_TURNS', message: 'task reached MAX_TURNS (4) without attempt_completion' });
    expect(keysOf(taskId)).toHaveLength(4);
  });

  it('a failed subtask is delivered to its parent as a tool result and the parent goes on', async () => {
    fake.setPolicy((r) => (r.key?.includes('.1.0:') ? { status: 401, body: { error: { message: 'no access' } } } : undefined));
    const { tree, messages } = await run('one failing 1 step');
    expect(tree.status).toBe('completed');
    expect(tree.children.map((c) => c.status)).toEqual(['failed']);
    expect(toolContents(messages)[0]).toBe('subtask failed: provider returned 401: no access');
  });

  it('cancelling a task aborts its in-flight model request', async () => {
    const hold = deferred();
    fake.setPolicy(async (r) => {
      if (r.body.messages?.[1]?.content !== 'hang on') return undefined;
      hold.resolve();
      return 'hang';
    });
    const { tree } = await run('hang on', 'orchestrator', async (id) => {
      await hold.promise;
      await engine.cancel(id);
    });
    expect(tree.status).toBe('cancelled');
    const req = fake.requests.find((r) => r.key === `${tree.id}:1`)!;
    await new Promise((resolve) => (req.signal.aborted ? resolve(undefined) : req.signal.addEventListener('abort', resolve)));
    expect(fake.stats.requestsByKey[`${tree.id}:1`]).toBe(1);
  });

  it('serves Prometheus metrics: gate outcomes, provider errors, per-session in-flight high-water mark', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      get(`http://127.0.0.1:${app.metricsPort}/metrics`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('baton_worker_gate_outcomes_total{outcome="called"}')).toBeGreaterThan(10);
    expect(value('baton_worker_provider_errors_total{status="429"}')).toBe(1);
    expect(value('baton_worker_provider_errors_total{status="timeout"}')).toBe(1);
    expect(value('baton_worker_session_model_requests_in_flight_max')).toBe(1);
    expect(text).toContain('baton_worker_turn_duration_seconds_bucket');
  });
});

describe('demo model (no LLM_BASE_URL)', () => {
  const prefix = testPrefix('demo');
  let app: WorkerApp;
  let engine: Engine;
  beforeAll(async () => {
    app = await startTestWorker({ prefix });
    engine = new Engine(REDIS_URL, { prefix });
  });
  afterAll(async () => {
    await app?.close(1000);
    await engine?.close();
    await cleanupPrefix(prefix);
  });

  it('plays an orchestrator end to end: plan, implement, review, then a summary', async () => {
    expect(app.provider.name).toBe('demo');
    const ended = jobEnded(app, 'demo-root');
    await engine.submit({ sessionId: 'demo', taskId: 'demo-root', prompt: 'Add a dark mode' });
    await ended;
    const tree = (await engine.getTree('demo-root'))!;
    expect(tree.status).toBe('completed');
    expect(tree.children.map((c) => c.mode)).toEqual(['architect', 'code', 'debug']);
    expect(tree.result).toContain('Finished "Add a dark mode" in 3 steps');
    expect(Object.values(await treeProblems(engine, 'demo-root')).flat()).toEqual([]);
  });
});
