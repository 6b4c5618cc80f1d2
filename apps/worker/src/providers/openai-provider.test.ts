import { startFakeProvider, type FakeProvider } from '@baton/testkit';
import pino from 'pino';
import { ProviderError } from './model-provider';
import { OpenAiProvider } from './openai-provider';

/** The provider client alone, against the fake provider over real HTTP. */
describe('OpenAI-compatible provider client', () => {
  let fake: FakeProvider;
  let provider: OpenAiProvider;
  const logger = pino({ level: 'silent' });
  const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }], tools: [] };

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: 'k' });
    provider = new OpenAiProvider({ baseUrl: `${fake.url}/`, apiKey: 'k', timeoutMs: 1000, maxAttempts: 3, backoff: { baseMs: 5, maxMs: 10 } });
  });
  afterAll(async () => {
    provider.close();
    await fake.close();
  });
  const call = (key: string, signal = new AbortController().signal) => provider.complete(request, { signal, idempotencyKey: key, sessionId: 's', logger });

  it('a malformed 200 response is a clear, non-retried error', async () => {
    fake.setPolicy(() => ({ body: { choices: [{ message: { role: 'user' } }] } }));
    const err = await call('bad:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/^malformed provider response:\n✖ .+\n {2}→ at choices\[0\]\.message\.role$/);
    fake.setPolicy(() => ({ body: 'not json' }));
    await expect(call('bad:2')).rejects.toThrow('malformed provider response: not JSON');
    expect(fake.stats.requestsByKey).toMatchObject({ 'bad:1': 1, 'bad:2': 1 });
  });

  it('gives tool calls without ids stable ids from the idempotency key', async () => {
    fake.setPolicy(() => ({
      body: { choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ function: { name: 'attempt_completion', arguments: '{}' } }] } }] },
    }));
    const res = await call('t1.2.0:3');
    expect(res.message.tool_calls).toEqual([{ id: 'call_t1.2.0_3_0', type: 'function', function: { name: 'attempt_completion', arguments: '{}' } }]);
    expect(res).toMatchObject({ model: 'm', attempts: 1 });
  });

  it('sends the request as one JSON body: model, messages, tools, and the stream options when streaming', async () => {
    fake.setPolicy(() => ({ body: { choices: [{ message: { role: 'assistant', content: 'done' } }] } }));
    const tools = Object.freeze([{ type: 'function' as const, function: { name: 'lookup', description: 'Looks "it" up', parameters: { type: 'object' } } }]);
    const client = (stream: boolean) =>
      new OpenAiProvider({ baseUrl: fake.url, apiKey: 'k', timeoutMs: 1000, maxAttempts: 1, backoff: { baseMs: 5, maxMs: 10 }, stream });
    const whole = client(false);
    const streaming = client(true);
    try {
      for (const [client, key] of [
        [whole, 'body:1'],
        [streaming, 'body:2'],
      ] as const) {
        const res = await client.complete({ ...request, tools }, { signal: new AbortController().signal, idempotencyKey: key, sessionId: 's', logger });
        expect(res.message).toEqual({ role: 'assistant', content: 'done' });
      }
    } finally {
      whole.close();
      streaming.close();
    }
    const [plain, streamed] = ['body:1', 'body:2'].map((key) => fake.requests.find((r) => r.key === key)!.rawBody);
    expect(plain).toEqual({ model: 'm', messages: request.messages, tools });
    expect(streamed).toEqual({ model: 'm', messages: request.messages, tools, stream: true, stream_options: { include_usage: true } });
  });

  it('an abort (in the request or in a 60 s Retry-After backoff) ends the call at once with its reason', async () => {
    fake.setPolicy(() => ({ status: 429, headers: { 'retry-after': '60' } }));
    const controller = new AbortController();
    const pending = call('slow:1', controller.signal);
    await fake.nextRequest((r) => r.key === 'slow:1');
    controller.abort(new Error('task cancelled'));
    await expect(pending).rejects.toThrow('task cancelled');
    expect(fake.stats.requestsByKey['slow:1']).toBe(1);
  });
});
