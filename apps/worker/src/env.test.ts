import { EnvError, parseEnv } from './env';
import { providerKind } from './worker-app';
import { providerSettings } from './providers/provider-registry';

describe('env', () => {
  it('applies defaults, and treats empty variables as unset', () => {
    const env = parseEnv({ WORKER_CONCURRENCY: '', LLM_BASE_URL: '' });
    expect(env).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      BATON_PREFIX: 'baton',
      WORKER_CONCURRENCY: 16,
      LLM_MAX_ATTEMPTS: 5,
      MAX_TURNS: 50,
      LOG_LEVEL: 'info',
    });
    expect(env.LLM_BASE_URL).toBeUndefined();
    expect(env.METRICS_PORT).toBeUndefined();
  });

  it('lists every bad variable with its value', () => {
    let error: unknown;
    try {
      parseEnv({ REDIS_URL: 'http://x', WORKER_CONCURRENCY: '0', LLM_TIMEOUT_MS: 'soon', BATON_PREFIX: 'a b', METRICS_PORT: '70000' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).variables).toEqual(['REDIS_URL', 'BATON_PREFIX', 'WORKER_CONCURRENCY', 'LLM_TIMEOUT_MS', 'METRICS_PORT']);
    expect((error as EnvError).message).toContain('(got "0")\n  → at WORKER_CONCURRENCY');
  });

  it('never echoes values that may carry a secret (Redis URL, LLM URL)', () => {
    let error: unknown;
    try {
      parseEnv({ REDIS_URL: 'http://user:SECRET-redis@x', LLM_BASE_URL: 'ftp://user:SECRET-llm@x', LLM_API_KEY: 'sk-SECRET-key' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).variables).toEqual(['REDIS_URL', 'LLM_BASE_URL']);
    expect((error as EnvError).message).not.toMatch(/SECRET/);
  });
});

describe('QUEUE_SHARDS and WORKER_QUEUE_SHARDS', () => {
  it('default to one shard, consumed whole', () => {
    const env = parseEnv({});
    expect(env.QUEUE_SHARDS).toBe(1);
    expect(env.WORKER_QUEUE_SHARDS).toBeUndefined();
  });

  it('parse a pin as sorted, distinct shard numbers', () => {
    expect(parseEnv({ QUEUE_SHARDS: '6', WORKER_QUEUE_SHARDS: ' 4, 0,4 ' }).WORKER_QUEUE_SHARDS).toEqual([0, 4]);
  });

  it('refuse a pin that is not a list of numbers, or names a shard that does not exist', () => {
    expect(() => parseEnv({ QUEUE_SHARDS: '3', WORKER_QUEUE_SHARDS: 'one' })).toThrow(
      '✖ comma-separated shard numbers, e.g. "0,2" (got "one")\n  → at WORKER_QUEUE_SHARDS',
    );
    expect(() => parseEnv({ QUEUE_SHARDS: '3', WORKER_QUEUE_SHARDS: '1,3,5' })).toThrow(
      '✖ shard(s) 3, 5 do not exist: QUEUE_SHARDS is 3 (shards 0..2) (got "1,3,5")\n  → at WORKER_QUEUE_SHARDS',
    );
    expect(() => parseEnv({ QUEUE_SHARDS: '0' })).toThrow('QUEUE_SHARDS');
    expect(() => parseEnv({ QUEUE_SHARDS: '65' })).toThrow('QUEUE_SHARDS');
  });
});

describe('LLM_PROVIDER', () => {
  it('defaults to openai with a base URL and to the demo model without; anthropic defaults its own base URL', () => {
    expect(providerKind(parseEnv({}))).toBe('demo');
    expect(providerKind(parseEnv({ LLM_BASE_URL: 'http://127.0.0.1:1/v1' }))).toBe('openai');
    const anthropic = parseEnv({ LLM_PROVIDER: 'anthropic', LLM_MAX_TOKENS: '1024', LLM_PROMPT_CACHE: 'false' });
    expect(providerKind(anthropic)).toBe('anthropic');
    expect(anthropic).toMatchObject({ LLM_MAX_TOKENS: 1024, LLM_PROMPT_CACHE: false });
  });

  it('streams by default; LLM_STREAM=false asks for whole answers; anything else is refused', () => {
    expect(parseEnv({}).LLM_STREAM).toBe(true);
    expect(parseEnv({ LLM_STREAM: 'false' }).LLM_STREAM).toBe(false);
    expect(() => parseEnv({ LLM_STREAM: 'yes' })).toThrow(/Invalid option: expected one of "true"\|"false" \(got "yes"\)\n {2}→ at LLM_STREAM/);
  });

  it('refuses an unknown provider, naming the choices', () => {
    expect(() => parseEnv({ LLM_PROVIDER: 'claude' })).toThrow(
      /Invalid option: expected one of "openai"\|"anthropic"\|"demo" \(got "claude"\)\n {2}→ at LLM_PROVIDER/,
    );
  });
});

describe('env: workspaces', () => {
  it('WORKSPACE_ROOT defaults to ./data/workspaces and is made absolute; execute_command limits have defaults', () => {
    const env = parseEnv({});
    expect(env.WORKSPACE_ROOT).toBe(`${process.cwd()}/data/workspaces`);
    expect(parseEnv({ WORKSPACE_ROOT: '/srv/ws/' }).WORKSPACE_ROOT).toBe('/srv/ws');
    expect(env.EXECUTE_COMMAND_MAX_TIMEOUT_MS).toBe(600_000);
    expect(env.EXECUTE_COMMAND_PATH).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(() => parseEnv({ EXECUTE_COMMAND_MAX_TIMEOUT_MS: '10' })).toThrow(/EXECUTE_COMMAND_MAX_TIMEOUT_MS/);
  });
});

describe('settings of each provider (provider-registry)', () => {
  const base = { LLM_BASE_URL: 'http://127.0.0.1:1/v1', LLM_API_KEY: 'sk-default' };
  it('the default provider falls back to LLM_*; its own variables win', () => {
    expect(providerSettings(parseEnv(base), 'openai')).toEqual({ baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'sk-default' });
    expect(providerSettings(parseEnv({ ...base, OPENAI_API_KEY: 'sk-own' }), 'openai')).toEqual({ baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'sk-own' });
  });
  it('another provider never borrows the LLM_* settings, and is unconfigured without its own', () => {
    expect(providerSettings(parseEnv(base), 'anthropic')).toBeUndefined();
    expect(providerSettings(parseEnv({ ...base, ANTHROPIC_API_KEY: 'sk-ant' }), 'anthropic')).toEqual({ baseUrl: undefined, apiKey: 'sk-ant' });
    expect(providerSettings(parseEnv({ LLM_PROVIDER: 'anthropic', LLM_API_KEY: 'sk-ant' }), 'openai')).toBeUndefined();
    expect(providerSettings(parseEnv({}), 'demo')).toEqual({ baseUrl: undefined, apiKey: undefined });
  });
  it('never echoes a provider key in an error', () => {
    expect(() => parseEnv({ ANTHROPIC_BASE_URL: 'not a url SECRET' })).toThrow(EnvError);
    try {
      parseEnv({ ANTHROPIC_BASE_URL: 'not a url SECRET' });
    } catch (err) {
      expect((err as EnvError).message).not.toMatch(/SECRET/);
    }
  });
});
