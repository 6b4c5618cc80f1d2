import { ON_CLUSTER, REDIS_URL } from '@baton/testkit';
import { Redis, ReplyError } from 'ioredis';
import { openRedis, type RedisClient } from './connection';
import { redisFailure } from './redis-failure';
import { parseMemoryInfo, RedisMemoryMonitor } from './redis-memory';

const ready = (redis: RedisClient) => (redis.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve())));
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err,
  );

// Single-server connections (`new Redis(url)`, CLIENT KILL by id, INFO of one server); on a cluster
// the same fail-fast options apply per node, and the cluster proof's smoke runs through them.
const describeServer = ON_CLUSTER ? describe.skip : describe;

describeServer('fail-fast connection and Redis failures', () => {
  const opened: RedisClient[] = [];
  const open = (url: string, commandTimeoutMs = 300) => {
    const redis = openRedis(url, { commandTimeoutMs });
    redis.on('error', () => undefined); // refused connections are the point of some tests
    opened.push(redis);
    return redis;
  };
  afterAll(() =>
    Promise.all(
      opened.map((r) =>
        r.quit().then(
          () => undefined,
          () => r.disconnect(),
        ),
      ),
    ),
  );

  it('rejects at once while Redis cannot be reached: not applied', async () => {
    const redis = open('redis://127.0.0.1:1');
    const started = Date.now();
    const err = await rejection(redis.set('never', '1'));
    expect(Date.now() - started).toBeLessThan(200);
    expect(redisFailure(err)).toEqual({ kind: 'unreachable', maybeApplied: false });
  });

  it('rejects a command unanswered within the timeout: outcome unknown', async () => {
    const redis = open(REDIS_URL, 200);
    await ready(redis);
    // BLPOP on a key nobody pushes to: Redis answers nothing for 5 s.
    const err = await rejection(redis.blpop(`fail-fast:${process.pid}:nothing`, 5));
    expect(redisFailure(err)).toEqual({ kind: 'timeout', maybeApplied: true });
  });

  it('fails a command in flight when its connection drops, and never sends it again', async () => {
    const redis = open(REDIS_URL, 10_000);
    await ready(redis);
    const id = await redis.client('ID');
    const key = `fail-fast:${process.pid}:resend`;
    const pending = rejection(redis.blpop(key, 3));
    const admin = new Redis(REDIS_URL);
    try {
      // The BLPOP is in flight once Redis lists this client as blocked in it.
      while (!/cmd=blpop/.test((await admin.client('LIST', 'ID', String(id))) as string)) await new Promise((r) => setTimeout(r, 5));
      await admin.client('KILL', 'ID', String(id));
      expect(redisFailure(await pending)).toEqual({ kind: 'unreachable', maybeApplied: true });
      await ready(redis);
      // Not resent after the reconnect (a resent BLPOP would take the value at once): the value stays.
      await admin.rpush(key, 'v');
      expect(await admin.lpop(key)).toBe('v');
    } finally {
      await admin.del(key);
      admin.disconnect();
    }
  });

  it('duplicates wait through outages (blocking reads and subscriptions need no command timeout)', () => {
    const redis = open(REDIS_URL) as Redis;
    const copy = redis.duplicate();
    opened.push(copy);
    expect(redis.options).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 300 });
    expect(copy.options).toMatchObject({ enableOfflineQueue: true, maxRetriesPerRequest: null, autoResendUnfulfilledCommands: true });
    expect(copy.options.commandTimeout).toBeUndefined();
  });

  it('classifies refusals by their Redis error reply; other replies are not failures', async () => {
    const redis = open(REDIS_URL);
    await ready(redis);
    const unknown = await rejection(redis.call('NO-SUCH-COMMAND'));
    expect(unknown).toBeInstanceOf(ReplyError);
    expect(redisFailure(unknown)).toBeNull();
    // The refusals a full, read-only or loading server sends (exact texts of Redis 7).
    const reply = (text: string) => new ReplyError(text);
    expect(redisFailure(reply("OOM command not allowed when used memory > 'maxmemory'."))).toEqual({ kind: 'oom', maybeApplied: false });
    expect(redisFailure(reply("OOM command not allowed when used memory > 'maxmemory'. script: abc, on @user_script:1."))).toMatchObject({ kind: 'oom' });
    expect(redisFailure(reply("READONLY You can't write against a read only replica."))).toMatchObject({ kind: 'readonly' });
    expect(redisFailure(reply('LOADING Redis is loading the dataset in memory'))).toMatchObject({ kind: 'loading' });
    expect(redisFailure(reply('BUSY Redis is busy running a script.'))).toMatchObject({ kind: 'busy' });
    const execAbort = Object.assign(reply('EXECABORT Transaction discarded because of previous errors.'), {
      previousErrors: [reply("OOM command not allowed when used memory > 'maxmemory'.")],
    });
    expect(redisFailure(execAbort)).toEqual({ kind: 'oom', maybeApplied: false });
    expect(redisFailure(new Error('something else'))).toBeNull();
    expect(redisFailure('not an error')).toBeNull();
  });
});

describeServer('Redis memory monitor', () => {
  it('parses INFO memory: ratio of used_memory to maxmemory, 0 without a limit', () => {
    expect(parseMemoryInfo('# Memory\r\nused_memory:900\r\nused_memory_human:900B\r\nmaxmemory:1000\r\n', 1)).toEqual({
      usedBytes: 900,
      maxBytes: 1000,
      ratio: 0.9,
      at: 1,
    });
    expect(parseMemoryInfo('used_memory:900\r\nmaxmemory:0\r\n', 1)).toMatchObject({ ratio: 0 });
  });

  it('reads the server and caches the reading; high only with a limit and at or above the mark', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const monitor = new RedisMemoryMonitor(redis, { high: 0.9, refreshMs: 50 });
      expect(monitor.reading).toBeNull();
      expect(monitor.isHigh).toBe(false);
      const changes: boolean[] = [];
      monitor.on('change', (high) => changes.push(high));
      const reading = await monitor.refresh();
      expect(reading.usedBytes).toBeGreaterThan(0);
      expect(monitor.reading).toBe(reading);
      expect(monitor.isHigh).toBe(reading.maxBytes > 0 && reading.ratio >= 0.9);
      expect(changes).toEqual(monitor.isHigh ? [true] : []);
    } finally {
      await redis.quit();
    }
  });
});
