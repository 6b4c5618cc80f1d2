import { conversationProblems, Engine, UsageReader, utcDay, type Message } from '@baton/core';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chatCompletion,
  cleanupPrefix,
  REDIS_URL,
  startFakeProvider,
  testPrefix,
  toolCall,
  type FakeProvider,
  type FakeReply,
  type FakeRequest,
} from '@baton/testkit';
import { z } from 'zod';
import { BUILT_IN_MODES, ModeRegistry } from '../../modes/modes';
import { jobEnded, startTestWorker } from '../../test-utils/harness';
import { defineTool } from '../../tools/tool-registry';
import type { WorkerApp } from '../../worker-app';
import { CONDENSE_REQUEST, CONDENSE_SYSTEM_PROMPT } from './condense-prompt';
import { summaryOf } from './condense-plan';

/**
 * Context condensing in real worker apps, against the fake provider over
 * real HTTP and real Redis. The `big` tool answers 40,000 characters (about
 * 10,000 estimated tokens); with a 100,000-token window condensed at 0.5,
 * the conversation passes the threshold before turn 6 (5 big results), and,
 * keeping one turn verbatim, does not again before turn 10.
 */
describe('context condensing (worker, fake provider)', () => {
  const prefix = testPrefix('condense');
  let fake: FakeProvider;
  let engine: Engine;
  const apps: WorkerApp[] = [];
  let seq = 0;

  const modes = new ModeRegistry([...BUILT_IN_MODES, { name: 'reader', systemPrompt: 'You read big files.', tools: ['big', 'attempt_completion'] }]);
  const big = defineTool({
    name: 'big',
    description: 'Returns a big text',
    schema: z.object({ n: z.number() }),
    async handler({ n }) {
      return `${n}:` + 'x'.repeat(40_000);
    },
  });

  // Short locks and gate lease, so a "dead" worker's job and lease are re-taken at once.
  const start = (env: Record<string, string> = {}) =>
    startTestWorker({
      prefix,
      modes,
      tools: [big],
      env: {
        LLM_BASE_URL: fake.url,
        MAX_TURNS: '20',
        LLM_CONTEXT_WINDOW: '100000',
        CONDENSE_AT: '0.5',
        CONDENSE_KEEP_MESSAGES: '2',
        WORKER_CONCURRENCY: '1',
        WORKER_LOCK_DURATION_MS: '1000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        GATE_LEASE_MS: '600',
        ...env,
      },
    }).then((app) => {
      apps.push(app);
      return app;
    });

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: 'sk-test' });
    engine = new Engine(REDIS_URL, { prefix });
  });
  afterEach(async () => {
    fake.setPolicy(undefined);
    await Promise.all(apps.splice(0).map((app) => app.close(1000)));
  });
  afterAll(async () => {
    await engine?.close();
    await fake?.close();
    await cleanupPrefix(prefix);
  });

  const newTask = () => `c${++seq}-${prefix.slice(-8)}`;
  const SUMMARY = 'The user wants big files read; results 1..n were all x.';

  /**
   * Turn N (key `<taskId>:N`) calls `big` until `lastTurn`, which completes; `condense:<n>` answers a
   * summary; `override` may answer a request first.
   */
  function script(taskId: string, lastTurn: number, override?: (r: FakeRequest) => FakeReply | 'hang' | undefined) {
    fake.setPolicy((r) => {
      const answer = override?.(r);
      if (answer) return answer;
      const rest = r.key?.startsWith(`${taskId}:`) ? r.key.slice(taskId.length + 1) : '';
      if (rest.startsWith('condense:')) return { body: chatCompletion({ content: `${SUMMARY} (${rest})` }) };
      const turn = Number(rest);
      if (!turn) return undefined;
      if (turn >= lastTurn) return { body: chatCompletion({ toolCalls: [toolCall(`done${turn}`, 'attempt_completion', { result: `done at ${turn}` })] }) };
      return { body: chatCompletion({ toolCalls: [toolCall(`call${turn}`, 'big', { n: turn })] }) };
    });
  }

  const keysOf = (taskId: string) =>
    Object.entries(fake.stats.requestsByKey)
      .filter(([k]) => k.startsWith(`${taskId}:`))
      .map(([k, n]) => [k.slice(taskId.length + 1), n] as const)
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const requestsFor = (key: string) => fake.requests.filter((r) => r.key === key);
  const turnKeys = (to: number, extra: [string, number][] = []) =>
    [...Array.from({ length: to }, (_, i) => [String(i + 1), 1] as [string, number]), ...extra].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));

  it('condenses once at the threshold: the next request carries the summary, well formed; turn keys stay unique; the old version is in the export', async () => {
    const app = await start();
    const taskId = newTask();
    script(taskId, 8);
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt: 'read the big files', mode: 'reader' });
    await ended;

    const task = (await engine.getTask(taskId))!;
    expect(task).toMatchObject({ status: 'completed', result: 'done at 8', turns: 8 });
    // Every turn asked once, under its own key; one summary request, under its own key.
    expect(keysOf(taskId)).toEqual(turnKeys(8, [['condense:1', 1]]));

    // The summary request: the condense prompt, the condensed turns (1..4), the request to summarize.
    const [summaryRequest] = requestsFor(`${taskId}:condense:1`);
    const sent = summaryRequest!.body.messages as Message[];
    expect(sent[0]).toEqual({ role: 'system', content: CONDENSE_SYSTEM_PROMPT });
    expect(sent[1]).toEqual({ role: 'user', content: 'read the big files' });
    expect(sent[sent.length - 1]).toEqual({ role: 'user', content: CONDENSE_REQUEST });
    expect(sent.filter((m) => m.role === 'assistant')).toHaveLength(4);
    expect(conversationProblems(sent)).toEqual([]);
    // It came after turn 5's result and before turn 6.
    expect(summaryRequest!.seq).toBeGreaterThan(requestsFor(`${taskId}:5`)[0]!.seq);
    expect(summaryRequest!.seq).toBeLessThan(requestsFor(`${taskId}:6`)[0]!.seq);

    // Turn 6's request: system, the first user message with the summary, then turn 5 verbatim.
    const six = requestsFor(`${taskId}:6`)[0]!.body.messages as Message[];
    expect(conversationProblems(six)).toEqual([]);
    expect(six.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(summaryOf(six)).toContain(`${SUMMARY} (condense:1)`);
    expect(six[2]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call5' }] });
    expect(six[3]).toMatchObject({ role: 'tool', tool_call_id: 'call5' });

    // The live conversation: condensed, well formed; `GET messages` answers it.
    const live = (await engine.getMessages(taskId))!;
    expect(conversationProblems(live)).toEqual([]);
    expect(live.slice(0, 4)).toEqual([expect.objectContaining({ role: 'system' }), six[1], six[2], six[3]]);
    expect(live.filter((m) => m.role === 'assistant').map((m) => (m.role === 'assistant' ? m.tool_calls?.[0]?.id : ''))).toEqual([
      'call5',
      'call6',
      'call7',
      'done8',
    ]);

    // Turn events: 1..8, each once.
    const completed = (await engine.readEvents(`s-${taskId}`)).filter((e) => e.type === 'turn.completed' && e.taskId === taskId);
    expect(completed.map((e) => e.data.turn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // The export keeps the replaced version: the original conversation up to turn 5's result.
    const exported = (await engine.exportTree(taskId))!;
    expect(exported.conversations[taskId]).toEqual(live);
    const archived = exported.archivedConversations?.[taskId];
    expect(archived).toHaveLength(1);
    expect(archived![0]).toMatchObject({ version: 0, turnOffset: 0 });
    expect(archived![0]!.messages).toHaveLength(12);
    expect(archived![0]!.messages[1]).toEqual({ role: 'user', content: 'read the big files' });
    expect(conversationProblems(archived![0]!.messages)).toEqual([]);
    expect(await engine.conversations.version(`s-${taskId}`, taskId)).toEqual({ version: 1, turnOffset: 4 });
  });

  it('a 400 "context too long" leads to one condense and a retry of the turn', async () => {
    const app = await start();
    const taskId = newTask();
    // Turn 3 is refused while its conversation has no summary (under the threshold: only the refusal condenses).
    script(taskId, 4, (r) =>
      r.key === `${taskId}:3` && summaryOf(r.body.messages as Message[]) === undefined
        ? { status: 400, body: { error: { message: "This model's maximum context length is 20000 tokens.", code: 'context_length_exceeded' } } }
        : undefined,
    );
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt: 'read the big files', mode: 'reader' });
    await ended;

    expect(await engine.getTask(taskId)).toMatchObject({ status: 'completed', result: 'done at 4', turns: 4 });
    expect(keysOf(taskId)).toEqual(turnKeys(4, [['condense:1', 1]]).map(([k, n]) => [k, k === '3' ? 2 : n]));
    const [refused, retried] = requestsFor(`${taskId}:3`);
    expect(requestsFor(`${taskId}:condense:1`)[0]!.seq).toBeGreaterThan(refused!.seq);
    expect(requestsFor(`${taskId}:condense:1`)[0]!.seq).toBeLessThan(retried!.seq);
    expect(conversationProblems(retried!.body.messages as Message[])).toEqual([]);
    expect(summaryOf(retried!.body.messages as Message[])).toContain(SUMMARY);
    expect(conversationProblems((await engine.getMessages(taskId))!)).toEqual([]);
  });

  it('a 400 "context too long" that persists after the condense fails the task (one condense, two requests of the turn)', async () => {
    const app = await start();
    const taskId = newTask();
    script(taskId, 4, (r) =>
      r.key === `${taskId}:3`
        ? { status: 400, body: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } } }
        : undefined,
    );
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt: 'read the big files', mode: 'reader' });
    await ended;

    const task = (await engine.getTask(taskId))!;
    expect(task.status).toBe('failed');
    expect(task.error).toEqual({ code: 'MODEL_ERROR', message: 'provider returned 400: prompt is too long: 210000 tokens > 200000 maximum' });
    expect(keysOf(taskId)).toEqual(
      turnKeys(2, [
        ['3', 2],
        ['condense:1', 1],
      ]),
    );
    expect(conversationProblems((await engine.getMessages(taskId))!)).toEqual([]);
  });

  it('a worker dying during the summary request: the replay asks again under the same key, and one summary is committed', async () => {
    // No per-attempt timeout within the test: A's request stays in flight until A is fenced out.
    const slow = { LLM_TIMEOUT_MS: '30000' };
    const a = await start(slow);
    const taskId = newTask();
    const sessionId = `s-${taskId}`;
    const runner = async () => (await engine.tasks.raw(sessionId, taskId)).runner;
    /** Worker A's runner token, once its summary request is in flight. */
    const dead: { runner?: string } = {};
    // The summary requests of worker A's runner never answer (A dies with one in flight); the next runner's do.
    script(taskId, 8, (r) => (r.key === `${taskId}:condense:1` && dead.runner === undefined ? 'hang' : undefined));
    fake.setOnRequest(async (r) => {
      if (r.key === `${taskId}:condense:1` && dead.runner !== undefined && (await runner()) === dead.runner)
        await new Promise<void>((resolve) => r.signal.addEventListener('abort', () => resolve()));
    });
    await engine.submit({ sessionId, taskId, prompt: 'read the big files', mode: 'reader' });
    const hung = await fake.nextRequest((r) => r.key === `${taskId}:condense:1`);
    dead.runner = await runner();

    // Worker A "dies": it stops renewing its job lock; B re-takes the stalled job and fences A out.
    await a.taskWorker.close(true);
    const b = await start(slow);
    await jobEnded(b, taskId);
    fake.setOnRequest(undefined);

    expect(await engine.getTask(taskId)).toMatchObject({ status: 'completed', result: 'done at 8', turns: 8 });
    const events = (await engine.readEvents(sessionId)).filter((e) => e.taskId === taskId);
    expect(events.filter((e) => e.type === 'task.resumed')).toHaveLength(1);
    // A's request was cut off (its lease lost with its runner), B asked again under the same key, once.
    expect(hung.signal.aborted).toBe(true);
    const summaries = requestsFor(`${taskId}:condense:1`);
    expect(summaries.map((r) => r.attempt)).toEqual([0, 1]);
    expect(keysOf(taskId)).toEqual(turnKeys(8, [['condense:1', 2]]));
    // Every turn once: turn 6 came after the one committed summary.
    expect(events.filter((e) => e.type === 'turn.completed').map((e) => e.data.turn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // One summary committed, one version archived, one condense applied.
    const gate = await engine.redis.hgetall(engine.ctx.keys.gate(sessionId, taskId));
    expect(gate['condense:1:state']).toBe('committed');
    expect(gate['condense:1:grants']).toBe('2');
    expect(JSON.parse(gate['condense:1:response']!)).toMatchObject({ message: { content: `${SUMMARY} (condense:1)` } });
    expect(await engine.conversations.archived(sessionId, taskId)).toHaveLength(1);
    expect(await engine.conversations.version(sessionId, taskId)).toEqual({ version: 1, turnOffset: 4 });
    const live = (await engine.getMessages(taskId))!;
    expect(conversationProblems(live)).toEqual([]);
    expect(live[1]!.content!.match(/conversation_summary condense/g)).toHaveLength(1);
  });

  it('a condense request is metered like a turn: its usage and cost recorded once, rolled up to tree, session and tenant', async () => {
    const pricesFile = join(tmpdir(), `${prefix}-prices.yaml`);
    writeFileSync(pricesFile, 'fake-model: { input: 1, output: 2 }\n');
    const app = await start({ PRICES_FILE: pricesFile });
    const taskId = newTask();
    const tenant = `t-${taskId}`;
    script(taskId, 8);
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt: 'read the big files', mode: 'reader', tenant });
    await ended;

    expect(keysOf(taskId)).toEqual(turnKeys(8, [['condense:1', 1]]));
    // 8 turns and 1 summary request, 10 prompt and 5 completion tokens each (the fake's usage).
    const nine = { inputTokens: 90, outputTokens: 45, cachedTokens: 0, turns: 9, unpricedTurns: 0 };
    const cost = Math.round(((90 + 45 * 2) / 1e6) * 1e9) / 1e9;
    expect(await engine.getTask(taskId)).toMatchObject({ status: 'completed', turns: 8, usage: nine, cost, treeUsage: nine });
    expect(await engine.getSession(`s-${taskId}`)).toMatchObject({ usage: nine });
    const [day] = await new UsageReader(engine.ctx).tenantDays(tenant, utcDay(), utcDay());
    expect(day).toMatchObject({ usage: nine });
    // Recorded under its own key, once; nothing left pending or reserved.
    expect(await engine.redis.hget(engine.ctx.keys.gate(`s-${taskId}`, taskId), 'condense:1:usage')).toBe('1');
    expect(await engine.redis.exists(engine.ctx.keys.ofSession(`s-${taskId}`, 'rollups'), engine.ctx.keys.ofSession(`s-${taskId}`, 'reservations'))).toBe(0);
  });
});
