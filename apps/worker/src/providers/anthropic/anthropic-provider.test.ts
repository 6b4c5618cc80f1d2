import { chatCompletion, startFakeProvider, toolCall, type FakeProvider } from '@baton/testkit';
import pino from 'pino';
import { ProviderError } from '../model-provider';
import { AnthropicProvider, ANTHROPIC_VERSION } from './anthropic-provider';

/** The Anthropic client alone, against the fake provider's Messages API over real HTTP. */
describe('Anthropic Messages API provider client', () => {
  let fake: FakeProvider;
  let provider: AnthropicProvider;
  const logger = pino({ level: 'silent' });
  const tools = [{ type: 'function' as const, function: { name: 'attempt_completion', description: 'Ends', parameters: { type: 'object' } } }];
  const request = {
    model: 'claude-test',
    messages: [
      { role: 'system' as const, content: 'You are code.' },
      { role: 'user' as const, content: 'say hi' },
    ],
    tools,
  };

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: 'sk-ant-test' });
    provider = new AnthropicProvider({
      baseUrl: `${fake.url}/v1`,
      apiKey: 'sk-ant-test',
      timeoutMs: 2000,
      maxAttempts: 3,
      backoff: { baseMs: 5, maxMs: 10 },
      maxTokens: 1024,
    });
  });
  afterEach(() => fake.setPolicy(undefined));
  afterAll(async () => {
    provider.close();
    await fake.close();
  });
  const call = (key: string, signal = new AbortController().signal) => provider.complete(request, { signal, idempotencyKey: key, sessionId: 's', logger });

  it('sends the Messages API shape with its headers and reads tool_use back as OpenAI tool calls', async () => {
    const res = await call('t1:1');
    const seen = fake.requests.find((r) => r.key === 't1:1')!;
    expect(seen.protocol).toBe('anthropic');
    expect(seen.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
    expect(seen.headers['x-api-key']).toBe('sk-ant-test');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.rawBody).toMatchObject({
      model: 'claude-test',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'You are code.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'say hi', cache_control: { type: 'ephemeral' } }] }],
      tools: [{ name: 'attempt_completion', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
    });
    // The fake's scripted answer to a request offering only attempt_completion.
    expect(res.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^toolu_/),
        type: 'function',
        function: { name: 'attempt_completion', arguments: JSON.stringify({ result: 'done: say hi' }) },
      },
    ]);
    expect(res).toMatchObject({ model: 'claude-test', attempts: 1 });
  });

  it('retries 529 (overloaded) and 429 under the same Idempotency-Key, honouring retry-after', async () => {
    let n = 0;
    fake.setPolicy(() => {
      n++;
      if (n === 1) return { status: 529 };
      if (n === 2) return { status: 429, headers: { 'retry-after': '0' } };
      return { body: chatCompletion({ toolCalls: [toolCall('c1', 'attempt_completion', { result: 'third time' })] }) };
    });
    const res = await call('t2:1');
    expect(res.attempts).toBe(3);
    expect(fake.stats.requestsByKey['t2:1']).toBe(3);
    expect(fake.requests.filter((r) => r.key === 't2:1').map((r) => r.attempt)).toEqual([0, 1, 2]);
    expect(JSON.parse(res.message.tool_calls![0]!.function.arguments)).toEqual({ result: 'third time' });
  });

  it('a 400 is final, with the API error message; an exhausted 529 names the attempts', async () => {
    fake.setPolicy(() => ({
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 300000 tokens > 200000 maximum' } },
    }));
    const err = await call('t3:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(400);
    expect((err as Error).message).toBe('provider returned 400: prompt is too long: 300000 tokens > 200000 maximum');
    expect(fake.stats.requestsByKey['t3:1']).toBe(1);

    fake.setPolicy(() => ({ status: 529 }));
    await expect(call('t4:1')).rejects.toThrow('provider returned 529: fake error 529 (after 3 attempts)');
  });

  it('a malformed 200 body is a clear, non-retried error', async () => {
    fake.setPolicy(() => ({ body: { type: 'message', content: 'not blocks' } }));
    await expect(call('t5:1')).rejects.toThrow(/^malformed provider response:\n✖ .+\n {2}→ at content$/m);
    expect(fake.stats.requestsByKey['t5:1']).toBe(1);
  });

  it('the fake refuses what the real API refuses: a missing anthropic-version, non-alternating roles', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test' },
      body: JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    const bad = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': ANTHROPIC_VERSION },
      body: JSON.stringify({
        model: 'm',
        max_tokens: 1,
        messages: [
          { role: 'user', content: 'x' },
          { role: 'user', content: 'y' },
        ],
      }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages.1: roles must alternate between "user" and "assistant"' },
    });
  });
});
