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
});
