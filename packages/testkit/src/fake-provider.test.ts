import { request } from 'node:http';
import { deferred } from './redis';
import { startFakeProvider, type FakeProvider } from './fake-provider';
import type { ChatMessage } from './fake-provider-script';

interface Reply {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

function post(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const orchestratorTools = [
  { type: 'function', function: { name: 'new_task' } },
  { type: 'function', function: { name: 'attempt_completion' } },
];

describe('fake provider', () => {
  let fake: FakeProvider;
  afterEach(async () => fake.close());

  it('checks the bearer key and counts requests per Idempotency-Key', async () => {
    fake = await startFakeProvider({ apiKey: 'sk-test' });
    expect((await post(fake.url, { messages: [] })).status).toBe(401);
    const ok = await post(fake.url, { messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer sk-test', 'idempotency-key': 't1:1' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'echo: hi' } }] });
    await post(fake.url, { messages: [] }, { authorization: 'Bearer sk-test', 'idempotency-key': 't1:1' });
    expect(fake.stats.requestsByKey['t1:1']).toBe(2);
    expect(fake.requests.map((r) => r.attempt)).toEqual([0, 1]);
  });

  it('scripts an orchestrator: one new_task per step, then attempt_completion with a summary', async () => {
    fake = await startFakeProvider();
    const messages: ChatMessage[] = [
      { role: 'system', content: 'orchestrator' },
      { role: 'user', content: 'build it in 2 steps childMode=ask' },
    ];
    for (let step = 1; step <= 2; step++) {
      const reply = JSON.parse((await post(fake.url, { messages, tools: orchestratorTools })).body);
      const message = reply.choices[0].message as ChatMessage;
      const call = message.tool_calls![0]!;
      expect(call.function.name).toBe('new_task');
      expect(JSON.parse(call.function.arguments)).toEqual({ mode: 'ask', message: `Step ${step} of 2: build it in 2 steps childMode=ask` });
      messages.push(message, { role: 'tool', tool_call_id: call.id, content: `result ${step}` });
    }
    const last = JSON.parse((await post(fake.url, { messages, tools: orchestratorTools })).body);
    const done = last.choices[0].message.tool_calls[0];
    expect(done.function.name).toBe('attempt_completion');
    expect(JSON.parse(done.function.arguments).result).toBe('Completed 2 step(s): result 1 | result 2');
  });

  it('records the highest number of requests in flight per session while a hook holds them', async () => {
    const hold = deferred();
    let arrived = 0;
    const allIn = deferred();
    fake = await startFakeProvider({
      onRequest: async () => {
        if (++arrived === 3) allIn.resolve();
        await hold.promise;
      },
    });
    const a = post(fake.url, { messages: [] }, { 'idempotency-key': 'rootA.1:1' });
    const b = post(fake.url, { messages: [] }, { 'idempotency-key': 'rootA:2' });
    const c = post(fake.url, { messages: [] }, { 'x-baton-session-id': 'other' });
    await allIn.promise;
    hold.resolve();
    await Promise.all([a, b, c]);
    expect(fake.stats.maxInFlightBySession).toEqual({ rootA: 2, other: 1 });
    expect(fake.stats.inFlight).toBe(0);
  });

  it('follows its policy: errors with headers, and a hang that ends when the client aborts', async () => {
    fake = await startFakeProvider({
      policy: (r) => (r.attempt === 0 ? { status: 429, headers: { 'retry-after': '1' } } : r.attempt === 1 ? 'hang' : undefined),
    });
    const first = await post(fake.url, { messages: [] }, { 'idempotency-key': 'k:1' });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    const controller = new AbortController();
    const hung = post(fake.url, { messages: [] }, { 'idempotency-key': 'k:1' }, controller.signal);
    const seen = await fake.nextRequest((r) => r.attempt === 1);
    expect(fake.stats.inFlight).toBe(1);
    const gone = new Promise((resolve) => seen.signal.addEventListener('abort', resolve));
    controller.abort();
    await expect(hung).rejects.toThrow();
    await gone;
    expect(fake.stats.inFlight).toBe(0);
    expect((await post(fake.url, { messages: [] }, { 'idempotency-key': 'k:1' })).status).toBe(200);
  });
});
