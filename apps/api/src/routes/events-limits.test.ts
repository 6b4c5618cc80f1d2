import { waitUntil } from '@baton/testkit';
import type { AddressInfo } from 'node:net';
import { SseClient } from '../test-utils/sse-client';
import { startHarness, type Harness } from '../test-utils/harness';

/**
 * Caps on open event streams (per tenant, per process) and the end of every
 * stream when the API closes. Two tenants; at most 2 streams per tenant and 3
 * in the process.
 */
const ACME = { authorization: 'Bearer acme-secret-0001' };
const BETA = { authorization: 'Bearer beta-secret-0001' };

let h: Harness;
let base: string;
let closed = false;
beforeAll(async () => {
  h = await startHarness({
    env: {
      API_KEYS: 'acme:acme-secret-0001,beta:beta-secret-0001',
      SSE_MAX_STREAMS: '3',
      SSE_MAX_STREAMS_PER_TENANT: '2',
      SSE_KEEPALIVE_MS: '200',
    },
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  for (const [session, auth] of [
    ['s-acme', ACME],
    ['s-beta', BETA],
  ] as const) {
    const res = await h.app.inject({ method: 'POST', url: `/v1/sessions/${session}/tasks`, headers: auth, payload: { prompt: 'x' } });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => {
  if (!closed) await h.app.close();
  await h.close();
});

const open = async (session: string, auth: Record<string, string>) => {
  const stream = await SseClient.open(`${base}/v1/sessions/${session}/events`, auth);
  if (stream.status === 200) await stream.waitFor((f) => f.comment === 'connected');
  else await stream.ended.promise;
  return stream;
};

const metric = async (name: string) => new RegExp(`${name} (\\d+)`).exec(await h.scrape())?.[1];

async function expectRefused(stream: SseClient, scope: string): Promise<void> {
  expect(stream.status).toBe(429);
  expect(stream.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(stream.headers['retry-after']).toBe('5');
  const body = JSON.parse(stream.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 429, code: 'RATE_LIMITED', scope, limit: expect.any(Number) });
}

describe('event stream caps', () => {
  test('past the tenant cap and past the process cap: 429 problem with Retry-After; a closed stream frees its place', async () => {
    const a1 = await open('s-acme', ACME);
    const a2 = await open('s-acme', ACME);
    expect([a1.status, a2.status]).toEqual([200, 200]);
    await expectRefused(await open('s-acme', ACME), 'sse-streams-per-tenant');

    const b1 = await open('s-beta', BETA);
    expect(b1.status).toBe(200);
    await expectRefused(await open('s-beta', BETA), 'sse-streams-per-process');
    expect(await metric('baton_api_sse_streams')).toBe('3');

    // Refused requests held nothing; a client that leaves frees its place for its tenant.
    a1.close();
    await waitUntil(async () => (await metric('baton_api_sse_streams')) === '2', 5000);
    const a3 = await open('s-acme', ACME);
    expect(a3.status).toBe(200);
    for (const s of [a2, a3, b1]) s.close();
    await waitUntil(async () => (await metric('baton_api_sse_streams')) === '0', 5000);
    // Unknown sessions are 404 before any cap is counted.
    expect((await open('s-none', ACME)).status).toBe(404);
  });

  test('closing the API ends every open stream', async () => {
    const streams = [await open('s-acme', ACME), await open('s-acme', ACME), await open('s-beta', BETA)];
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
    expect(await metric('baton_api_sse_redis_connections')).toBe('1');
    closed = true;
    await h.app.close();
    await Promise.all(streams.map((s) => s.ended.promise));
  });
});
