import { Keys, openRedis, Scripts, EngineOptionsSchema } from '@baton/core';
import { cleanupPrefix, rateLimitedPolicy, REDIS_URL, startFakeProvider, testPrefix, waitUntil, type FakeProvider } from '@baton/testkit';
import pino from 'pino';
import { AnthropicProvider } from './anthropic/anthropic-provider';
import { limiterScope, SharedLimiter } from './shared-limiter';

/**
 * The shared limiter against real Redis and the fake provider over real
 * HTTP: two "workers" (each its own connection, scripts and provider
 * client) share one hold; waits end on abort; scopes keep accounts apart.
 */
describe('SharedLimiter', () => {
  const prefix = testPrefix('shared-limiter');
  const keys = new Keys(prefix);
  const logger = pino({ level: 'silent' });
  const connections = [openRedis(REDIS_URL), openRedis(REDIS_URL)];
  const scripts = connections.map((c) => new Scripts(c, keys, EngineOptionsSchema.parse({ prefix })));
  const limiter = (i: number, apiKey = 'sk-ant-test') => new SharedLimiter(scripts[i]!, { provider: 'anthropic', apiKey, maxHoldMs: 60_000, logger });
  let fake: FakeProvider;

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: 'sk-ant-test' });
  });
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await fake.close();
    await cleanupPrefix(prefix);
  });

  const provider = (i: number) =>
    new AnthropicProvider({
      baseUrl: fake.url,
      apiKey: 'sk-ant-test',
      timeoutMs: 5000,
      maxAttempts: 5,
      backoff: { baseMs: 10, maxMs: 50 },
      maxTokens: 100,
      limiter: limiter(i),
    });
  const context = (key: string) => ({ signal: new AbortController().signal, idempotencyKey: key, sessionId: `s-${key}`, logger });
  const request = { model: 'claude-test', messages: [{ role: 'user' as const, content: 'hi' }], tools: [] };

  it("one worker's 429 holds the other worker back until the reset, not only itself", async () => {
    fake.reset();
    // A's first attempt gets a bare 429 (retry-after 0.4 s, no other header); everything else succeeds.
    fake.setPolicy((r) => (r.key === 'a:1' && r.attempt === 0 ? { status: 429, headers: { 'retry-after': '0.4' } } : undefined));
    const [a, b] = [provider(0), provider(1)];
    const refused = a.complete(request, context('a:1'));
    const scope = limiterScope('anthropic', 'sk-ant-test', 'claude-test');
    await waitUntil(async () => (await connections[0]!.exists(keys.providerLimit(scope))) === 1); // A recorded the hold
    const heldAt = Date.now();
    await Promise.all([refused, b.complete(request, context('b:1'))]);
    const first = fake.requests.find((r) => r.key === 'a:1')!;
    const bRequest = fake.requests.find((r) => r.key === 'b:1')!;
    // B, which never saw a 429, did not send before A's hold ended (0.4 s after A's 429).
    expect(bRequest.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(390);
    expect(bRequest.receivedAt).toBeGreaterThan(heldAt);
    expect(fake.stats.statuses).toEqual({ 200: 2, 429: 1 });
    a.close();
    b.close();
  });

  it('a rate-limited fake speaking Anthropic: "remaining 0" (an RFC 3339 reset) holds the next request for the next window', async () => {
    fake.reset();
    const limited = rateLimitedPolicy({ requests: 1, windowMs: 300 });
    fake.setPolicy(limited.policy);
    const [a, b] = [provider(0), provider(1)];
    await a.complete({ ...request, model: 'claude-window' }, context('a:w1'));
    await b.complete({ ...request, model: 'claude-window' }, context('b:w1'));
    expect(limited.rejected()).toBe(0);
    const [r1, r2] = [fake.requests.find((r) => r.key === 'a:w1')!, fake.requests.find((r) => r.key === 'b:w1')!];
    expect(Math.floor(r2.receivedAt / 300)).toBeGreaterThan(Math.floor(r1.receivedAt / 300));
    a.close();
    b.close();
  });

  it('a wait on a hold ends at once when the call is aborted, with the signal’s reason', async () => {
    const scope = limiterScope('anthropic', 'sk-ant-test', 'held-model');
    await scripts[0]!.limiterRecord({ scope, holdMs: 60_000, limit: 0, windowMs: 0, graceMs: 1000 });
    const controller = new AbortController();
    const waiting = limiter(1).beforeAttempt('held-model', controller.signal);
    const reason = new Error('cancelled');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('scopes: another API key or model is not held, and no key holds the API key itself', async () => {
    const held = limiterScope('anthropic', 'sk-ant-test', 'held-model-2');
    await scripts[0]!.limiterRecord({ scope: held, holdMs: 60_000, limit: 0, windowMs: 0, graceMs: 1000 });
    const signal = AbortSignal.timeout(2000);
    await limiter(1, 'sk-ant-other').beforeAttempt('held-model-2', signal);
    await limiter(1).beforeAttempt('another-model', signal);
    expect(limiterScope('anthropic', 'sk-ant-test', 'm')).toMatch(/^anthropic:[0-9a-f]{12}:m$/);
    const stored = await connections[0]!.keys(`${prefix}:*`);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.filter((k) => k.includes('sk-'))).toEqual([]);
  });

  it('a Redis it cannot reach does not fail the model call: the limiter steps aside', async () => {
    const closed = openRedis(REDIS_URL);
    await closed.ping();
    closed.disconnect();
    const blind = new SharedLimiter(new Scripts(closed, keys, EngineOptionsSchema.parse({ prefix })), {
      provider: 'openai',
      apiKey: 'k',
      maxHoldMs: 1000,
      logger,
    });
    await blind.beforeAttempt('m', AbortSignal.timeout(2000));
    await blind.afterAttempt('m', 429, { 'retry-after': '1' });
  });
});
