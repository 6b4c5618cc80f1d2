import { LiveMessages, messageDeltaOf, type SessionEvent } from '@baton/client';
import { deferred, REDIS_URL } from '@baton/testkit';
import { BatonStack } from '../support/baton-stack';

/**
 * Streaming through the deployed processes: the API and a worker process
 * (LLM_STREAM defaults to true) against the testkit fake provider speaking
 * OpenAI's event stream. The prompt scripts a cut: the first attempt's stream
 * ends after 2 frames, the retry (same Idempotency-Key) runs to the end. A
 * reader sees the first attempt's pieces, then the second's, then the turn
 * committed once; the client's live view equals the committed message.
 */
let stack: BatonStack;

beforeAll(async () => {
  stack = await BatonStack.start('stream-procs', { redisUrl: REDIS_URL, workers: 1, workerEnv: { DELTA_FLUSH_MS: '1' } });
});
afterAll(() => stack?.close());

test('a stream cut mid-way is retried under the same key; deltas carry the attempt; the turn commits once', async () => {
  const { client, fake } = stack;
  // The turn's first request waits until the reader is connected: the deltas are deleted from the stream
  // once the turn commits, so only a live reader sees them (the test's order, not a timer's).
  const readerOpen = deferred();
  fake.setOnRequest(async (r) => {
    if (r.sessionId === 's-cut' && r.attempt === 0) await readerOpen.promise;
  });
  const { task } = await client.submit('s-cut', { prompt: 'finish at once steps=0 cutStream=2', mode: 'orchestrator' });
  const stop = new AbortController();
  const seen: SessionEvent[] = [];
  const reading = (async () => {
    for await (const event of client.events('s-cut', { signal: stop.signal, lastEventId: '0', onOpen: () => readerOpen.resolve() })) {
      seen.push(event);
      if (event.type === 'task.completed' || event.type === 'task.failed') return;
    }
  })();
  await reading;
  stop.abort();
  fake.setOnRequest(undefined);
  expect(seen.at(-1)?.type).toBe('task.completed');

  const requests = fake.requests.filter((r) => r.key === `${task.id}:1`);
  expect(requests.map((r) => [r.attempt, r.stream])).toEqual([
    [0, true],
    [1, true],
  ]);

  const types = seen.map((e) => e.type);
  const deltas = seen.flatMap((e) => messageDeltaOf(e) ?? []);
  expect(deltas.length).toBeGreaterThan(0);
  expect(types.lastIndexOf('message.delta')).toBeLessThan(types.indexOf('turn.completed'));
  // The last pieces are the retry's. The cut attempt's pieces show only if a flush came before the cut (the
  // publisher drops an abandoned attempt's unsent pieces); the stand-in test (streaming.int.test.ts) pins that.
  expect(deltas.at(-1)!.attempt).toBe(2);
  expect(deltas.every((d) => d.attempt === 1 || d.attempt === 2)).toBe(true);
  // Attempts never go backwards within the turn.
  expect(deltas.map((d) => d.attempt)).toEqual([...deltas.map((d) => d.attempt)].sort((a, b) => a - b));

  const live = new LiveMessages();
  for (const e of seen) {
    const d = messageDeltaOf(e);
    if (d) live.apply(e.taskId!, d);
  }
  const messages = await client.getMessages(task.id);
  const assistants = messages.filter((m) => m.role === 'assistant');
  expect(assistants).toHaveLength(1); // committed once, from the second attempt only
  const call = assistants[0]!.tool_calls![0]!;
  const streamed = live.toolCalls(task.id, 1);
  expect(streamed.map((c) => c.name)).toEqual([call.function.name]);
  expect(JSON.parse(streamed[0]!.arguments ?? '')).toEqual(JSON.parse(call.function.arguments));
  expect(types.filter((t) => t === 'turn.completed')).toHaveLength(1);
});
