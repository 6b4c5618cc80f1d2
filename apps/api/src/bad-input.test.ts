import { waitUntil } from '@baton/testkit';
import { startHarness, type Harness } from './test-utils/harness';

/** No worker: nothing but the request itself could write to Redis. */
let h: Harness;
let baseline: string[];
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_MAX: '100000' } });
  // BullMQ writes its queue's meta key once connected; that is the only key before any request.
  await waitUntil(async () => (await h.keys()).length > 0, 5000);
  baseline = await h.keys();
  expect(baseline).toEqual([`{${h.prefix}}:tasks:meta`]);
});
afterAll(async () => h.close());

const json = { 'content-type': 'application/json' };
const big = (n: number) => 'x'.repeat(n);
const submit = '/v1/sessions/s1/tasks';

interface Case {
  name: string;
  method?: 'GET' | 'POST';
  url?: string;
  headers?: Record<string, string>;
  payload?: string | object;
  status: number;
}

const cases: Case[] = [
  { name: 'malformed JSON', headers: json, payload: '{"prompt": "x"', status: 400 },
  { name: 'JSON that is not an object', headers: json, payload: '"just a string"', status: 400 },
  { name: 'JSON array', headers: json, payload: '[1,2]', status: 400 },
  { name: 'no body', status: 400 },
  { name: 'empty JSON body', headers: json, payload: '', status: 400 },
  { name: 'form body', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'prompt=x', status: 415 },
  { name: 'text body', headers: { 'content-type': 'text/plain' }, payload: 'hello', status: 415 },
  { name: 'missing prompt', payload: { mode: 'code' }, status: 400 },
  { name: 'empty prompt', payload: { prompt: '' }, status: 400 },
  { name: 'prompt of the wrong type', payload: { prompt: 42 }, status: 400 },
  { name: 'prompt null', payload: { prompt: null }, status: 400 },
  { name: 'prompt over 200,000 characters', payload: { prompt: big(200_001) }, status: 400 },
  { name: 'unknown field', payload: { prompt: 'x', priority: 1 }, status: 400 },
  { name: 'tenant smuggled in the body', payload: { prompt: 'x', tenant: 'other' }, status: 400 },
  { name: 'taskId smuggled in the body', payload: { prompt: 'x', taskId: 'mine' }, status: 400 },
  { name: 'bad onBusy', payload: { prompt: 'x', onBusy: 'wait' }, status: 400 },
  { name: 'mode of the wrong type', payload: { prompt: 'x', mode: 7 }, status: 400 },
  { name: 'empty mode', payload: { prompt: 'x', mode: '' }, status: 400 },
  { name: 'mode with spaces', payload: { prompt: 'x', mode: 'my mode' }, status: 400 },
  { name: 'metadata over 16 KiB', payload: { prompt: 'x', metadata: { blob: big(16 * 1024) } }, status: 400 },
  { name: 'metadata array over 16 KiB', payload: { prompt: 'x', metadata: [big(17_000)] }, status: 400 },
  { name: 'body over 1 MiB', payload: { prompt: 'x', metadata: big(1024 * 1024) }, status: 413 },
  { name: 'prototype poisoning', headers: json, payload: '{"prompt":"x","__proto__":{"admin":true}}', status: 400 },
  { name: 'constructor poisoning', headers: json, payload: '{"prompt":"x","constructor":{"prototype":{"admin":true}}}', status: 400 },
  { name: 'idempotency key too long', headers: { 'idempotency-key': big(256) }, payload: { prompt: 'x' }, status: 400 },
  { name: 'idempotency key with spaces', headers: { 'idempotency-key': 'a b' }, payload: { prompt: 'x' }, status: 400 },
  { name: 'session id with a colon', url: '/v1/sessions/a:b/tasks', payload: { prompt: 'x' }, status: 400 },
  { name: 'session id with braces (hash tag)', url: '/v1/sessions/%7Bx%7D/tasks', payload: { prompt: 'x' }, status: 400 },
  { name: 'session id with a space', url: '/v1/sessions/a%20b/tasks', payload: { prompt: 'x' }, status: 400 },
  { name: 'session id with a star', url: '/v1/sessions/a*/tasks', payload: { prompt: 'x' }, status: 400 },
  { name: 'session id of 129 characters', url: `/v1/sessions/${big(129)}/tasks`, payload: { prompt: 'x' }, status: 400 },
  { name: 'session id with unicode', url: '/v1/sessions/%C3%A9t%C3%A9/tasks', payload: { prompt: 'x' }, status: 400 },
  { name: 'task id with a colon', method: 'GET', url: '/v1/tasks/a:b', status: 400 },
  { name: 'task id of 129 characters', method: 'GET', url: `/v1/tasks/${big(129)}`, status: 400 },
  { name: 'task id with a star (cancel)', url: '/v1/tasks/*/cancel', status: 400 },
  { name: 'NUL in a session id (pause)', url: '/v1/sessions/%00/pause', status: 400 },
  { name: 'bad id on messages', method: 'GET', url: '/v1/tasks/%2F..%2F/messages', status: 400 },
  { name: 'bad id on tree', method: 'GET', url: '/v1/tasks/a%20b/tree', status: 400 },
  { name: 'bad id on session', method: 'GET', url: '/v1/sessions/a%20b', status: 400 },
  { name: 'bad id on events', method: 'GET', url: '/v1/sessions/a%20b/events', status: 400 },
  { name: 'unknown query field on events', method: 'GET', url: '/v1/sessions/s1/events?from=0', status: 400 },
  { name: 'unknown route', method: 'GET', url: '/v1/nothing-here', status: 404 },
  { name: 'wrong method', method: 'GET', url: submit, status: 404 },
];

describe('bad input: a 4xx problem, never a 5xx, and nothing written to Redis', () => {
  test.each(cases)('$name -> $status', async ({ method = 'POST', url = submit, headers = {}, payload, status }) => {
    const res = await h.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      ...(payload !== undefined && typeof payload !== 'string' && !headers['content-type'] ? { headers: { ...headers, ...json } } : {}),
    });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:baton:problem:/), title: expect.any(String), detail: expect.any(String) });
    expect(await h.keys()).toEqual(baseline);
  });

  test('the boundaries themselves are accepted (prompt of 200,000, metadata of 16 KiB, ids of 128)', async () => {
    const metadata = { b: big(16 * 1024 - 8) }; // {"b":"..."} is 8 bytes of overhead
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBe(16 * 1024);
    const res = await h.app.inject({ method: 'POST', url: `/v1/sessions/${'s'.repeat(128)}/tasks`, payload: { prompt: big(200_000), metadata } });
    expect(res.statusCode).toBe(201);
    expect(res.json().prompt).toHaveLength(200_000);
  });
});
