import { request } from 'node:http';
import { startFakeProvider, type FakeProvider } from './fake-provider';

interface Streamed {
  status: number;
  contentType: string;
  /** The body as the client's socket delivered it, piece by piece. */
  pieces: string[];
  /** The response ended cleanly (false: the server cut it). */
  complete: boolean;
}

function postStream(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const pieces: string[] = [];
      const done = (complete: boolean) => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), pieces, complete });
      res.setEncoding('utf8');
      res.on('data', (c: string) => pieces.push(c));
      res.on('end', () => done(true));
      res.on('error', () => done(false));
      res.on('close', () => done(res.complete));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const frames = (s: Streamed) => s.pieces.join('').split(/\n\n/).filter(Boolean);

describe('fake provider, streaming', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await startFakeProvider({ chunkDelayMs: 5 });
  });
  afterAll(async () => fake.close());

  it('answers an OpenAI stream request with chat.completion.chunk frames, in pieces, text split, usage when asked, [DONE] last', async () => {
    const res = await postStream(`${fake.url}/chat/completions`, {
      messages: [{ role: 'user', content: 'stream this please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res).toMatchObject({ status: 200, contentType: 'text/event-stream', complete: true });
    expect(res.pieces.length).toBeGreaterThan(3);
    const all = frames(res);
    expect(all.at(-1)).toBe('data: [DONE]');
    const chunks = all.slice(0, -1).map((f) => JSON.parse(f.replace(/^data: /, '')));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('echo: stream this please');
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(2);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 15 } });
    expect(fake.requests.at(-1)).toMatchObject({ stream: true, chunksSent: all.length, cut: false });
  });

  it('answers an Anthropic stream request with the Messages API events, tool input split across deltas', async () => {
    const res = await postStream(
      `${fake.url}/v1/messages`,
      { model: 'c', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'go' }], tools: [{ name: 'attempt_completion', input_schema: {} }] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(res).toMatchObject({ status: 200, contentType: 'text/event-stream', complete: true });
    const events = frames(res).map((f) => /^event: (\w+)/.exec(f)![1]);
    expect(events[0]).toBe('message_start');
    expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
    const partials = frames(res)
      .map((f) => JSON.parse(f.split('\ndata: ')[1]!))
      .filter((e) => e.delta?.type === 'input_json_delta')
      .map((e) => e.delta.partial_json as string);
    expect(partials.length).toBeGreaterThan(1);
    expect(JSON.parse(partials.join(''))).toEqual({ result: 'done: go' });
  });

  it('cuts the stream as the prompt scripts (cutStream=KxN): after K frames, for the first N attempts of a key', async () => {
    const body = { messages: [{ role: 'user', content: 'x cutStream=2x2' }], stream: true };
    const key = { 'idempotency-key': 'cut:1' };
    const first = await postStream(`${fake.url}/chat/completions`, body, key);
    const second = await postStream(`${fake.url}/chat/completions`, body, key);
    const third = await postStream(`${fake.url}/chat/completions`, body, key);
    expect([first.complete, second.complete, third.complete]).toEqual([false, false, true]);
    expect(frames(first)).toHaveLength(2);
    expect(fake.requests.filter((r) => r.key === 'cut:1').map((r) => [r.attempt, r.cut, r.chunksSent])).toEqual([
      [0, true, 2],
      [1, true, 2],
      [2, false, frames(third).length],
    ]);
  });

  it('answers a request without stream: true whole, as before', async () => {
    const res = await postStream(`${fake.url}/chat/completions`, { messages: [{ role: 'user', content: 'whole' }] });
    expect(res.contentType).toBe('application/json');
    expect(JSON.parse(res.pieces.join(''))).toMatchObject({ object: 'chat.completion' });
    expect(fake.requests.at(-1)).toMatchObject({ stream: false, chunksSent: 0 });
  });
});
