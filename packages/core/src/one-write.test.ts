import { cleanupPrefix, ON_CLUSTER, REDIS_URL, testPrefix } from '@baton/testkit';
import { Redis } from 'ioredis';
import { setImmediate } from 'node:timers/promises';
import { inOneWrite } from './one-write';

// A standalone connection (on a cluster, inOneWrite sends as is: nothing to observe).
const describeStandalone = ON_CLUSTER ? describe.skip : describe;

describeStandalone('inOneWrite', () => {
  const prefix = testPrefix('one-write');
  const redis = new Redis(REDIS_URL);
  let socket: Redis['stream'];
  beforeAll(async () => {
    await redis.ping(); // connected: the socket exists
    socket = redis.stream;
  });
  afterAll(async () => {
    await cleanupPrefix(prefix, REDIS_URL);
    redis.disconnect();
  });

  // Node writes what a corked socket buffered in one writev when it is uncorked.
  it('sends the commands in order on the corked socket, and each gets its own reply', async () => {
    const key = `${prefix}:k`;
    let corkedWhileSending = 0;
    const replies = await inOneWrite(redis, () => {
      const sent = Promise.all([redis.set(key, 'a', 'NX'), redis.set(key, 'b', 'NX'), redis.append(key, 'c'), redis.get(key)]);
      corkedWhileSending = socket.writableCorked;
      return sent;
    });
    expect(replies).toEqual(['OK', null, 2, 'ac']);
    expect(corkedWhileSending).toBe(1);
    expect(socket.writableCorked).toBe(0);
  });

  it('takes along commands sent a few awaits later, when started from a promise continuation', async () => {
    const key = `${prefix}:later`;
    await setImmediate();
    let corkedLater = 0;
    const replies = await inOneWrite(redis, async () => {
      const first = redis.incr(key);
      await null;
      await null;
      corkedLater = socket.writableCorked;
      return Promise.all([first, redis.incr(key)]);
    });
    expect(replies).toEqual([1, 2]);
    expect(corkedLater).toBe(1);
    expect(socket.writableCorked).toBe(0);
  });

  it('uncorks when sending throws', async () => {
    expect(() =>
      inOneWrite(redis, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    await setImmediate();
    expect(socket.writableCorked).toBe(0);
  });
});
