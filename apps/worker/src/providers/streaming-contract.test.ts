import { chatCompletion, deferred, startFakeProvider, toolCall, waitUntil, type FakeProvider, type FakeReply } from '@baton/testkit';
import type { IncomingHttpHeaders } from 'node:http';
import pino from 'pino';
import { AnthropicProvider } from './anthropic/anthropic-provider';
import { ProviderError, type ModelDelta, type ModelProvider, type ModelRequest } from './model-provider';
import { OpenAiProvider } from './openai-provider';
import type { ProviderLimiter } from './shared-limiter';

/**
 * The streaming contract, for both protocols, against the fake provider's
 * real event streams over HTTP: deltas arrive in order and add up to the
 * result, which equals the non-streamed one; a cut stream is retried under
 * the same Idempotency-Key and nothing of the abandoned attempt survives.
 */

type Kind = 'openai' | 'anthropic';
type Closable = ModelProvider & { close(): void };

const logger = pino({ level: 'silent' });
const tools = [{ type: 'function' as const, function: { name: 'attempt_completion', description: 'Ends', parameters: { type: 'object' } } }];
const ask = (prompt: string, withTools = false): ModelRequest => ({
  model: 'm-test',
  messages: [
    { role: 'system', content: 'You are code.' },
    { role: 'user', content: prompt },
  ],
  tools: withTools ? tools : [],
});

/** A limiter that only records what the retry loop tells it. */
class RecordingLimiter implements ProviderLimiter {
  readonly before: string[] = [];
  readonly after: { status: number; headers: IncomingHttpHeaders }[] = [];
  beforeAttempt(model: string): Promise<void> {
    this.before.push(model);
    return Promise.resolve();
  }
  afterAttempt(_model: string, status: number, headers: IncomingHttpHeaders): Promise<void> {
    this.after.push({ status, headers });
    return Promise.resolve();
  }
}

describe.each<Kind>(['openai', 'anthropic'])('%s provider, streaming', (kind) => {
  let fake: FakeProvider;
  const providers: Closable[] = [];
  const make = (options: { stream?: boolean; timeoutMs?: number; limiter?: ProviderLimiter } = {}): Closable => {
    const common = { apiKey: 'k', timeoutMs: options.timeoutMs ?? 10_000, maxAttempts: 3, backoff: { baseMs: 5, maxMs: 10 }, ...options };
    const provider =
      kind === 'openai' ? new OpenAiProvider({ ...common, baseUrl: fake.url }) : new AnthropicProvider({ ...common, baseUrl: fake.url, maxTokens: 1024 });
    providers.push(provider);
    return provider;
  };
  let streaming: Closable;

  beforeAll(async () => {
    // Frames 1 ms apart: the client reads every answer in many pieces.
    fake = await startFakeProvider({ apiKey: 'k', chunkDelayMs: 1 });
    streaming = make();
  });
  afterEach(() => fake.setPolicy(undefined));
  afterAll(async () => {
    for (const p of providers) p.close();
    await fake.close();
  });

  const call = (provider: ModelProvider, request: ModelRequest, key: string, deltas: ModelDelta[] = [], signal = new AbortController().signal) =>
    provider.complete(request, { signal, idempotencyKey: key, sessionId: 's', logger, onDelta: (d) => deltas.push(d) });
  const textOf = (deltas: ModelDelta[]) => deltas.map((d) => d.text ?? '').join('');
  const requestsOf = (key: string) => fake.requests.filter((r) => r.key === key);

  it('text deltas arrive in order, in several pieces, and add up to the final message', async () => {
    const deltas: ModelDelta[] = [];
    const res = await call(streaming, ask('tell me a story about streams'), `${kind}-text:1`, deltas);
    expect(res.message.content).toBe('echo: tell me a story about streams');
    expect(deltas.length).toBeGreaterThan(2);
    expect(textOf(deltas)).toBe(res.message.content);
    expect(deltas.every((d) => d.attempt === 1)).toBe(true);
    expect(res).toMatchObject({ attempts: 1, finishReason: 'stop' });
    const [seen] = requestsOf(`${kind}-text:1`);
    expect(seen).toMatchObject({ stream: true, cut: false });
    expect(seen!.chunksSent).toBeGreaterThan(deltas.length);
    if (kind === 'openai') expect(seen!.rawBody).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    else expect(seen!.rawBody).toMatchObject({ stream: true });
  });

  it('tool-call deltas (id and name once, then argument pieces) reassemble into the final calls', async () => {
    const args0 = { path: 'src/a.ts', content: 'export const a = 1;\n'.repeat(3) };
    const args1 = { result: 'all done, twice over' };
    fake.setPolicy(() => ({
      body: chatCompletion(
        { content: 'Writing it.', toolCalls: [toolCall('c0', 'write_to_file', args0), toolCall('c1', 'attempt_completion', args1)] },
        'm-test',
      ),
    }));
    const deltas: ModelDelta[] = [];
    const res = await call(streaming, ask('two calls', true), `${kind}-tools:1`, deltas);
    const calls = res.message.tool_calls!;
    expect(calls.map((c) => c.function.name)).toEqual(['write_to_file', 'attempt_completion']);
    expect(res.finishReason).toBe('tool_calls');
    expect(textOf(deltas)).toBe('Writing it.');
    for (const index of [0, 1]) {
      const pieces = deltas.flatMap((d) => d.toolCalls ?? []).filter((p) => p.index === index);
      // The start (id, name) comes once, first; then the arguments in more than one piece.
      expect(pieces[0]).toEqual({
        index,
        id: calls[index]!.id,
        name: calls[index]!.function.name,
        ...(pieces[0]!.arguments ? { arguments: pieces[0]!.arguments } : {}),
      });
      expect(pieces.slice(1).every((p) => p.id === undefined && p.name === undefined)).toBe(true);
      const argumentPieces = pieces.filter((p) => p.arguments);
      expect(argumentPieces.length).toBeGreaterThan(1);
      const joined = argumentPieces.map((p) => p.arguments).join('');
      // OpenAI's arguments are the text as sent; Anthropic's are re-serialised from the parsed input.
      if (kind === 'openai') expect(joined).toBe(calls[index]!.function.arguments);
      expect(JSON.parse(joined)).toEqual(JSON.parse(calls[index]!.function.arguments));
    }
    expect(JSON.parse(calls[0]!.function.arguments)).toEqual(args0);
  });

  it('gives the same result streamed and not streamed, usage and finish reason included', async () => {
    const whole = make({ stream: false });
    const body = chatCompletion({ content: 'Both ways.', toolCalls: [toolCall('c9', 'attempt_completion', { result: 'same' })] }, 'm-served');
    fake.setPolicy(() => ({ body }));
    const deltas: ModelDelta[] = [];
    const streamed = await call(streaming, ask('same?', true), `${kind}-same:1`, deltas);
    const plain = await call(whole, ask('same?', true), `${kind}-same:2`);
    expect(streamed).toEqual(plain);
    expect(streamed).toMatchObject({ model: 'm-served', finishReason: 'tool_calls', usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
    expect(deltas.length).toBeGreaterThan(0);
    expect(requestsOf(`${kind}-same:2`)[0]).toMatchObject({ stream: false, chunksSent: 0 });
    expect((requestsOf(`${kind}-same:2`)[0]!.rawBody as { stream?: unknown }).stream).toBeUndefined();
  });

  it('a truncated answer (max tokens) reports finishReason length, streamed and not', async () => {
    const body = chatCompletion({ content: 'half an ans' }, 'm-test') as { choices: { finish_reason: string }[] };
    body.choices[0]!.finish_reason = 'length';
    fake.setPolicy(() => ({ body }));
    const streamed = await call(streaming, ask('long'), `${kind}-len:1`);
    const plain = await call(make({ stream: false }), ask('long'), `${kind}-len:2`);
    expect(streamed).toMatchObject({ finishReason: 'length', message: { content: 'half an ans' } });
    expect(plain).toEqual(streamed);
  });

  it('a stream cut after K chunks is retried under the same key and headers; nothing of the cut attempt is kept', async () => {
    // The prompt scripts the cut: after 5 frames, in the first attempt only.
    const deltas: ModelDelta[] = [];
    const res = await call(streaming, ask('cutStream=5 then a long enough answer'), `${kind}-cut:1`, deltas);
    const [first, second, ...more] = requestsOf(`${kind}-cut:1`);
    expect(more).toEqual([]);
    expect(first).toMatchObject({ attempt: 0, cut: true, chunksSent: 5, stream: true });
    expect(second).toMatchObject({ attempt: 1, cut: false, stream: true });
    const { 'x-baton-session-id': s1, ...headers1 } = first!.headers;
    const { 'x-baton-session-id': s2, ...headers2 } = second!.headers;
    expect([s1, s2]).toEqual(['s', 's']);
    expect(headers2).toEqual(headers1); // Idempotency-Key, auth, version, user agent: all the same
    expect(second!.rawBody).toEqual(first!.rawBody);

    expect(res.attempts).toBe(2);
    expect(res.message.content).toBe('echo: cutStream=5 then a long enough answer');
    // Attempt 1's deltas came first, then attempt 2's; only attempt 2's add up to the message.
    const attempts = deltas.map((d) => d.attempt);
    expect(attempts[0]).toBe(1);
    expect(attempts).toEqual([...attempts].sort());
    expect(new Set(attempts)).toEqual(new Set([1, 2]));
    expect(textOf(deltas.filter((d) => d.attempt === 2))).toBe(res.message.content);
    expect(textOf(deltas.filter((d) => d.attempt === 1)).length).toBeGreaterThan(0);
    expect(res.message.content!.indexOf('echo:', 1)).toBe(-1); // not duplicated
  });

  it('a mid-stream error event (overload) is a failed attempt, retried', async () => {
    fake.setPolicy((r) => (r.attempt === 0 ? { cut: { afterChunks: 4, how: 'error' } } : undefined));
    const deltas: ModelDelta[] = [];
    const res = await call(streaming, ask('overloaded midway'), `${kind}-err:1`, deltas);
    expect(res).toMatchObject({ attempts: 2, message: { content: 'echo: overloaded midway' } });
    expect(requestsOf(`${kind}-err:1`).map((r) => r.cut)).toEqual([true, false]);
    expect(textOf(deltas.filter((d) => d.attempt === 2))).toBe('echo: overloaded midway');
  });

  it('a stream cut in every attempt fails after maxAttempts, naming the cut', async () => {
    const err = await call(streaming, ask('cutStream=2x9'), `${kind}-cutall:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe('network');
    expect((err as Error).message).toMatch(/^model stream cut: .* \(after 3 attempts\)$/);
    expect(requestsOf(`${kind}-cutall:1`).map((r) => r.cut)).toEqual([true, true, true]);
  });

  it('an abort during a stream ends the call at once with its reason and closes the connection', async () => {
    const firstDelta = deferred();
    fake.setPolicy(() => ({ cut: { afterChunks: 5, how: 'hang' } }));
    const controller = new AbortController();
    const pending = streaming.complete(ask('hold on'), {
      signal: controller.signal,
      idempotencyKey: `${kind}-abort:1`,
      sessionId: 's',
      logger,
      onDelta: () => firstDelta.resolve(),
    });
    await firstDelta.promise; // the stream is running, its end will never come
    controller.abort(new Error('task cancelled'));
    await expect(pending).rejects.toThrow('task cancelled');
    expect(requestsOf(`${kind}-abort:1`)).toHaveLength(1);
    await waitUntil(() => requestsOf(`${kind}-abort:1`)[0]!.signal.aborted); // the fake saw the socket go
  });

  it('the timeout of a stream is an idle timeout: a long stream lives on, a silent one is cut and retried', async () => {
    const quick = make({ timeoutMs: 600 });
    // ~12 frames 150 ms apart: well over 600 ms in all, never 600 ms silent.
    fake.setPolicy(() => ({ chunkDelayMs: 150 }));
    const started = Date.now();
    const res = await call(quick, ask('slow but steady'), `${kind}-idle:1`);
    expect(Date.now() - started).toBeGreaterThan(600);
    expect(res).toMatchObject({ attempts: 1, message: { content: 'echo: slow but steady' } });

    fake.setPolicy((r) => (r.attempt === 0 ? { cut: { afterChunks: 2, how: 'hang' } } : undefined));
    const retried = await call(quick, ask('stalls once'), `${kind}-idle:2`);
    expect(retried.attempts).toBe(2);
    expect(requestsOf(`${kind}-idle:2`)[0]!.signal.aborted).toBe(true);
  });

  it('a malformed chunk is a final ProviderError (malformed), not retried', async () => {
    const bad =
      kind === 'openai'
        ? 'data: {"choices": [{"delta": {"content": 5}}]}\n\n'
        : 'event: content_block_delta\ndata: {"type": "content_block_delta", "index": "zero"}\n\n';
    fake.setPolicy(() => ({ sse: bad }));
    const err = await call(streaming, ask('x'), `${kind}-bad:1`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 'malformed', attempts: 1 });
    expect((err as Error).message).toMatch(
      kind === 'openai'
        ? /^malformed provider stream: chunk 1:\n✖ .+\n {2}→ at choices\[0\]\.delta\.content$/
        : /^malformed provider stream: event 1 \(content_block_delta\):\n✖ .+\n {2}→ at index$/m,
    );

    fake.setPolicy(() => ({ sse: 'data: {not json\n\n' }));
    await expect(call(streaming, ask('x'), `${kind}-bad:2`)).rejects.toThrow(/^malformed provider stream: (chunk|event) 1.*: not JSON: \{not json$/);
    expect(fake.stats.requestsByKey).toMatchObject({ [`${kind}-bad:1`]: 1, [`${kind}-bad:2`]: 1 });
  });

  it('a 429 before the stream starts goes through the limiter and the backoff; the stream that follows feeds the limiter too', async () => {
    const limiter = new RecordingLimiter();
    const limited = make({ limiter });
    fake.setPolicy((r): FakeReply =>
      r.attempt === 0
        ? { status: 429, headers: { 'retry-after': '0', 'x-ratelimit-remaining-requests': '0' } }
        : { headers: { 'x-ratelimit-remaining-requests': '7' } },
    );
    const deltas: ModelDelta[] = [];
    const res = await call(limited, ask('after the limit'), `${kind}-429:1`, deltas);
    expect(res.attempts).toBe(2);
    expect(limiter.before).toEqual(['m-test', 'm-test']);
    expect(limiter.after.map((a) => [a.status, a.headers['x-ratelimit-remaining-requests']])).toEqual([
      [429, '0'],
      [200, '7'],
    ]);
    expect(limiter.after[1]!.headers['content-type']).toBe('text/event-stream');
    expect(deltas.every((d) => d.attempt === 2)).toBe(true);
    expect(textOf(deltas)).toBe('echo: after the limit');
  });
});
