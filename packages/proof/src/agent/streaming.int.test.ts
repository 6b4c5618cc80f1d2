import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonClient, LiveMessages, messageDeltaOf, type SessionEvent } from '@baton/client';
import { Engine } from '@baton/core';
import { cleanupPrefix, deferred, REDIS_URL, startApi, testPrefix, type ApiProcess } from '@baton/testkit';
import { BUILT_IN_MODES, ModeRegistry, parseEnv, WorkerApp, type ModelProvider } from '@baton/worker';
import pino from 'pino';

/**
 * A streamed turn end to end over real HTTP and real Redis: the worker's
 * agent loop and delta publisher (in process), the API process's SSE route,
 * the client's event stream. The model is a stand-in that calls onDelta (a
 * first try cut after "Hel", then a retry as attempt 2) and returns; it
 * goes on only once the reader has seen the first delta, so the order is the
 * test's, not a timer's.
 */
const prefix = testPrefix('streaming');
const logger = pino({ level: 'silent' });
let worker: WorkerApp;
let api: ApiProcess;
let engine: Engine;
let client: BatonClient;

const started = deferred();
const release = deferred();
const firstSeen = deferred();
const stub: ModelProvider = {
  name: 'stub',
  async complete(_request, context) {
    started.resolve();
    await release.promise;
    context.onDelta?.({ attempt: 1, text: 'Hel' });
    await firstSeen.promise;
    context.onDelta?.({ attempt: 2, text: 'Hello' });
    context.onDelta?.({ attempt: 2, text: ' world' });
    return { message: { role: 'assistant', content: 'Hello world' }, model: 'stub', attempts: 2, finishReason: 'stop' };
  },
};

beforeAll(async () => {
  const env = parseEnv({
    REDIS_URL,
    BATON_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    WORKER_CONCURRENCY: '2',
    METRICS_PORT: '0',
    DELTA_FLUSH_MS: '5',
    WORKSPACE_ROOT: join(tmpdir(), `baton-ws-${prefix}`),
  });
  const modes = new ModeRegistry([...BUILT_IN_MODES, { name: 'chat', systemPrompt: 'You chat.', tools: [] }]);
  worker = await WorkerApp.start({ env, modes, provider: stub, logger });
  api = await startApi(prefix, { REDIS_URL, API_AUTH: 'none' });
  client = new BatonClient({ baseUrl: api.url });
  engine = new Engine(REDIS_URL, { prefix }, logger);
});
afterAll(async () => {
  await api?.kill('SIGTERM');
  await worker?.close(1000);
  await engine?.close();
  await cleanupPrefix(prefix);
});

test('an SSE reader sees the deltas in order, then turn.completed; the stream keeps only durable events afterwards', async () => {
  const {
    task: { id: taskId },
  } = await client.submit('s-stream', { prompt: 'say hello', mode: 'chat' });
  await started.promise;

  const seen: SessionEvent[] = [];
  const stop = new AbortController();
  const reading = (async () => {
    for await (const event of client.events('s-stream', { signal: stop.signal })) {
      seen.push(event);
      if (event.type === 'message.delta') firstSeen.resolve();
      if (event.type === 'task.completed') return;
    }
  })();
  release.resolve();
  await reading;
  stop.abort();

  const types = seen.map((e) => e.type);
  const firstDelta = types.indexOf('message.delta');
  const lastDelta = types.lastIndexOf('message.delta');
  expect(firstDelta).toBeGreaterThan(types.indexOf('turn.started'));
  expect(lastDelta).toBeLessThan(types.indexOf('turn.completed'));
  const deltas = seen.flatMap((e) => messageDeltaOf(e) ?? []);
  expect(deltas[0]).toEqual({ turn: 1, grant: 1, attempt: 1, seq: 1, text: 'Hel' });
  expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i + 1));
  expect(deltas.every((d) => d.turn === 1)).toBe(true);

  // What a client shows: the newest try only.
  const live = new LiveMessages();
  const restarts = seen.flatMap((e) => {
    const d = messageDeltaOf(e);
    const change = d && live.apply(e.taskId!, d);
    return change?.restarted ? [e.id] : [];
  });
  expect(live.text(taskId, 1)).toBe('Hello world');
  expect(restarts).toHaveLength(1);

  // Committed: the conversation has the message; the stream no longer has its pieces.
  expect((await client.getMessages(taskId)).at(-1)).toEqual({ role: 'assistant', content: 'Hello world' });
  const replay = await engine.readEvents('s-stream');
  expect(replay.filter((e) => e.type === 'message.delta')).toEqual([]);
  expect(replay.map((e) => e.type)).toEqual(types.filter((t) => t !== 'message.delta'));
});
