import { EnvError, parseEnv } from './env';

describe('parseEnv', () => {
  test('defaults', () => {
    const c = parseEnv({});
    expect(c).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: 'baton',
      host: '0.0.0.0',
      port: 3000,
      apiKeys: [],
      dashboard: null,
      logLevel: 'info',
      rateLimit: { max: 600, windowMs: 60_000 },
    });
  });

  test('API_KEYS is tenant:secret pairs; the secret may contain ":"; empty values count as unset', () => {
    const c = parseEnv({ API_KEYS: ' acme:s3cret-acme , globex:pa:ss:word-1 ', DASHBOARD_PASSWORD: 'dashboard-1', PORT: '' });
    expect(c.apiKeys).toEqual([
      { tenant: 'acme', secret: 's3cret-acme' },
      { tenant: 'globex', secret: 'pa:ss:word-1' },
    ]);
    expect(c.dashboard).toEqual({ user: 'admin', password: 'dashboard-1' });
    expect(c.port).toBe(3000);
  });

  test.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ BATON_PREFIX: 'a:b' }, 'BATON_PREFIX'],
    [{ API_KEYS: 'nocolon' }, 'API_KEYS'],
    [{ API_KEYS: 'acme:short' }, 'API_KEYS'],
    [{ API_KEYS: 'a:same-secret-1,b:same-secret-1' }, 'API_KEYS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DASHBOARD_PASSWORD: 'short' }, 'DASHBOARD_PASSWORD'],
  ])('%j is refused with a message naming %s', (env, name) => {
    expect(() => parseEnv(env)).toThrow(EnvError);
    expect(() => parseEnv(env)).toThrow(new RegExp(`${name}:`));
  });

  test('event stream caps and readers: defaults, values, bounds', () => {
    const keys = { API_KEYS: 'acme:secret-0001' };
    expect(parseEnv(keys).sse).toEqual({ maxStreams: 10_000, maxStreamsPerTenant: 1000, redisReaders: 1, clusterPollMs: 200 });
    expect(
      parseEnv({ ...keys, SSE_MAX_STREAMS: '50', SSE_MAX_STREAMS_PER_TENANT: '5', SSE_REDIS_READERS: '4', SSE_CLUSTER_POLL_MS: '25' }).sse,
    ).toEqual({ maxStreams: 50, maxStreamsPerTenant: 5, redisReaders: 4, clusterPollMs: 25 });
    for (const bad of [{ SSE_MAX_STREAMS: '0' }, { SSE_MAX_STREAMS_PER_TENANT: 'many' }, { SSE_REDIS_READERS: '65' }, { SSE_CLUSTER_POLL_MS: '1' }]) {
      expect(() => parseEnv({ ...keys, ...bad })).toThrow(new RegExp(`${Object.keys(bad)[0]}:`));
    }
  });
});
