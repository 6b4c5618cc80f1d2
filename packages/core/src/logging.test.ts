import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions, REDACTED, scrubSecrets } from './logging';

/** A logger with Baton's options writing into an array of lines. */
function capture(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino(loggerOptions('test', 'trace'), sink), lines };
}

describe('log redaction', () => {
  test('secret fields are censored wherever they sit', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: { method: 'GET', url: '/v1/tasks/t1', headers: { authorization: 'Bearer k-SECRET-1', cookie: 'sid=SECRET-2' } },
        headers: { authorization: 'Basic SECRET-3' },
        config: { apiKeys: [{ tenant: 'acme', secret: 'SECRET-4' }], LLM_API_KEY: 'sk-SECRET-5', password: 'SECRET-6' },
        API_KEYS: 'acme:SECRET-7',
        METRICS_TOKEN: 'SECRET-8',
      },
      'request',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/SECRET/);
    const entry = JSON.parse(lines[0]!);
    expect(entry.req.headers.authorization).toBe(REDACTED);
    expect(entry.config.LLM_API_KEY).toBe(REDACTED);
    expect(entry.req.url).toBe('/v1/tasks/t1');
  });

  test('passwords inside URLs and bearer/basic credentials are removed from any text, errors and stacks included', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error('connect to redis://default:SECRET-redis@10.0.0.5:6379 failed'), redisUrl: 'rediss://:SECRET-2@host:6380/0' }, 'redis down');
    logger.warn('upstream https://bot:SECRET-3@llm.example/v1 said no; sent Authorization: Bearer SECRET-token-4');
    logger.info({ url: '/healthz?u=redis://u:SECRET-5@h' }, 'incoming');
    expect(lines.join('\n')).not.toMatch(/SECRET/);
    expect(JSON.parse(lines[0]!).redisUrl).toBe(`rediss://:${REDACTED}@host:6380/0`);
    expect(JSON.parse(lines[0]!).err.message).toBe(`connect to redis://default:${REDACTED}@10.0.0.5:6379 failed`);
    expect(JSON.parse(lines[1]!).msg).toContain(`https://bot:${REDACTED}@llm.example/v1`);
  });

  test('scrubSecrets leaves ordinary text alone', () => {
    for (const text of [
      'redis://127.0.0.1:6379',
      'redis://redis:6379/0',
      'task t1 completed at 12:30',
      'a valid "Authorization: Bearer <secret>" header is required',
      'http://host:3000/docs',
    ]) {
      expect(scrubSecrets(text)).toBe(text);
    }
    expect(scrubSecrets('redis://user@host:6379')).toBe('redis://user@host:6379');
  });
});
