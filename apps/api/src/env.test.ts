import { EnvError, parseEnv } from './env';

describe('parseEnv', () => {
  test('defaults', () => {
    const c = parseEnv({ API_KEYS: 'acme:s3cret-acme' });
    expect(c).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: 'baton',
      host: '0.0.0.0',
      port: 3000,
      apiKeys: [{ tenant: 'acme', secret: 's3cret-acme' }],
      dashboard: null,
      logLevel: 'info',
      rateLimit: { max: 600, anonMax: 120, windowMs: 60_000 },
      metrics: { token: null, port: null },
    });
  });

  test('without API_KEYS it refuses, in one line that says what to set', () => {
    for (const env of [{}, { API_KEYS: '' }, { API_KEYS: '  ' }, { API_AUTH: 'keys' }]) {
      expect(() => parseEnv(env)).toThrow(EnvError);
      try {
        parseEnv(env);
      } catch (err) {
        expect((err as EnvError).message).not.toContain('\n');
        expect((err as EnvError).message).toMatch(/API_KEYS is required: set API_KEYS=tenant:secret.*openssl rand -hex 32.*API_AUTH=none/);
      }
    }
  });

  test('API_AUTH=none runs open on 127.0.0.1 unless HOST is set; it cannot be combined with API_KEYS', () => {
    expect(parseEnv({ API_AUTH: 'none' })).toMatchObject({ host: '127.0.0.1', apiKeys: [] });
    expect(parseEnv({ API_AUTH: 'none', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(parseEnv({ API_KEYS: 'acme:s3cret-acme', HOST: '10.1.2.3' }).host).toBe('10.1.2.3');
    expect(() => parseEnv({ API_AUTH: 'none', API_KEYS: 'acme:s3cret-acme' })).toThrow(/API_AUTH: "none" contradicts API_KEYS/);
    expect(() => parseEnv({ API_AUTH: 'off' })).toThrow(/→ at API_AUTH$/m);
  });

  test('METRICS_TOKEN, METRICS_PORT and RATE_LIMIT_ANON_MAX', () => {
    const c = parseEnv({ API_AUTH: 'none', METRICS_TOKEN: 'scrape-token-00001', METRICS_PORT: '9464', RATE_LIMIT_ANON_MAX: '30' });
    expect(c.metrics).toEqual({ token: 'scrape-token-00001', port: 9464 });
    expect(c.rateLimit.anonMax).toBe(30);
  });

  test('an invalid secret value is reported by name, never echoed', () => {
    const secrets = {
      API_KEYS: 'acme:SECRET-1-acme,SECRET-2-broken',
      REDIS_URL: 'http://user:SECRET-3-redis@redis:6379',
      DASHBOARD_PASSWORD: 'SECRET4',
      METRICS_TOKEN: 'SECRET-5-short',
    };
    let error: EnvError | undefined;
    try {
      parseEnv(secrets);
    } catch (err) {
      error = err as EnvError;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect(error!.variables.sort()).toEqual(Object.keys(secrets).sort());
    for (const fragment of ['SECRET-1', 'SECRET-2', 'SECRET-3', 'SECRET4', 'SECRET-5']) expect(error!.message).not.toContain(fragment);
    // A duplicated secret is refused without naming it either.
    expect(() => parseEnv({ API_KEYS: 'a:SAME-SECRET-1,b:SAME-SECRET-1' })).toThrow(/^(?![\s\S]*SAME-SECRET)/);
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
    const withAuth = { API_AUTH: 'API_KEYS' in env ? undefined : 'none', ...env };
    expect(() => parseEnv(withAuth)).toThrow(EnvError);
    expect(() => parseEnv(withAuth)).toThrow(new RegExp(`→ at ${name}$`, 'm'));
  });

  test('event stream caps and readers: defaults, values, bounds', () => {
    const keys = { API_KEYS: 'acme:secret-0001' };
    expect(parseEnv(keys).sse).toEqual({ maxStreams: 10_000, maxStreamsPerTenant: 1000, redisReaders: 1, clusterPollMs: 200 });
    expect(parseEnv({ ...keys, SSE_MAX_STREAMS: '50', SSE_MAX_STREAMS_PER_TENANT: '5', SSE_REDIS_READERS: '4', SSE_CLUSTER_POLL_MS: '25' }).sse).toEqual({
      maxStreams: 50,
      maxStreamsPerTenant: 5,
      redisReaders: 4,
      clusterPollMs: 25,
    });
    for (const bad of [{ SSE_MAX_STREAMS: '0' }, { SSE_MAX_STREAMS_PER_TENANT: 'many' }, { SSE_REDIS_READERS: '65' }, { SSE_CLUSTER_POLL_MS: '1' }]) {
      expect(() => parseEnv({ ...keys, ...bad })).toThrow(new RegExp(`→ at ${Object.keys(bad)[0]}$`, 'm'));
    }
  });
});
