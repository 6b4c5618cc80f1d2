import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { REDIS_URL } from '@baton/testkit';
import { buildApp } from '../app';
import { parseEnv } from '../env';
import { startHarness, type Harness } from '../test-utils/harness';
import { addressBucket } from './rate-limit';

const ENV = {
  API_KEYS: 'acme:acme-secret-0001,globex:globex-secret-0002',
  RATE_LIMIT_MAX: '4',
  RATE_LIMIT_ANON_MAX: '3',
  RATE_LIMIT_WINDOW_MS: '60000',
};
const ACME = { authorization: 'Bearer acme-secret-0001' };
const GLOBEX = { authorization: 'Bearer globex-secret-0002' };

/** Two API replicas on one prefix: `a` (the harness app) and `b` (its own engine and Redis connection). */
let h: Harness;
let b: FastifyInstance;
beforeAll(async () => {
  h = await startHarness({ env: ENV });
  b = await buildApp(parseEnv({ REDIS_URL, BATON_PREFIX: h.prefix, LOG_LEVEL: 'silent', ...ENV }), { logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await b.close();
  await h.close();
});

const get = (app: FastifyInstance, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  app.inject({ url: '/v1/tasks/t-missing', headers, remoteAddress });

describe('rate limits shared by API replicas through Redis', () => {
  test('failed authentication counts per address across replicas: guesses get 429 quickly', async () => {
    const a = h.app;
    const codes: number[] = [];
    codes.push((await get(a, { authorization: 'Bearer guess-0000001' })).statusCode);
    codes.push((await get(b, { authorization: 'Bearer guess-0000002' })).statusCode);
    codes.push((await get(a)).statusCode);
    codes.push((await get(b, { authorization: 'Bearer guess-0000003' })).statusCode);
    codes.push((await get(a, { authorization: 'Bearer guess-0000004' })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429, 429]);

    const res = await get(b, { authorization: 'Bearer acme-secret-0000' });
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 429, type: 'urn:baton:problem:rate-limited' });

    // Another address is not limited by this one; probes are never limited.
    expect((await get(a, {}, '10.0.0.2')).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) expect((await b.inject('/healthz')).statusCode).toBe(200);
  });

  test("a valid tenant is unaffected by the attacker's limit and by another tenant's, and its own holds across replicas", async () => {
    // Same address as the attacker above, whose bucket is exhausted.
    const codes: number[] = [];
    for (const app of [h.app, b, h.app, b]) codes.push((await get(app, ACME)).statusCode);
    expect(codes).toEqual([404, 404, 404, 404]);
    const limited = await get(h.app, ACME);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().detail).toMatch(/rate limit of 4 requests per 60000 ms/);
    expect((await get(b, ACME)).statusCode).toBe(429);

    expect((await get(b, GLOBEX)).statusCode).toBe(404);
    expect((await get(h.app, GLOBEX)).statusCode).toBe(404);
  });

  test('the counters are expiring Redis keys under the prefix, per tenant and per address', async () => {
    const prefix = h.engine.keys.rateLimitPrefix();
    expect(prefix.startsWith(`${h.prefix}:`)).toBe(true);
    const keys = (await h.rateLimitCounters()).map((k) => k.slice(prefix.length));
    expect(keys.sort()).toEqual(['a:10.0.0.2', 'a:127.0.0.1', 't:acme', 't:globex']);
    for (const k of keys) {
      const ttl = await h.redis.pttl(prefix + k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    expect(await h.redis.get(`${prefix}t:acme`)).toBe('6');
  });
});

describe('addressBucket', () => {
  test('IPv4 addresses are their own bucket; IPv6 ones are grouped by /64', () => {
    expect(addressBucket('192.0.2.7')).toBe('192.0.2.7');
    expect(addressBucket('::ffff:192.0.2.7')).toBe('::ffff:192.0.2.7');
    expect(addressBucket('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(addressBucket('2001:db8:0:1:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(addressBucket('2001:0db8:0000:0002::9')).toBe('2001:db8:0:2::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
  });
});
