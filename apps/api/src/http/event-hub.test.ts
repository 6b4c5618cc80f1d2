import { Engine, type BatonEvent } from '@baton/core';
import { cleanupPrefix, deferred, REDIS_URL, testPrefix, type Deferred } from '@baton/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { EventHub } from './event-hub';
import type { Subscriber } from './stream-shard';

/**
 * The shared reader against real Redis. BLOCK is one minute, so a
 * subscription that joined without waking the blocked read would stall the
 * test: every join here must cut the read short.
 */
const logger = pino({ level: 'silent' });
let prefix: string;
let engine: Engine;
let redis: Redis;
const hubs: EventHub[] = [];

beforeEach(() => {
  prefix = testPrefix('hub');
  engine = new Engine(REDIS_URL, { prefix }, logger);
  redis = new Redis(REDIS_URL);
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
  await engine.close();
  redis.disconnect();
  await cleanupPrefix(prefix);
});

function hub(readers: number): EventHub {
  const h = new EventHub(engine, { readers, clusterPollMs: 200, blockMs: 60_000 }, logger);
  hubs.push(h);
  return h;
}

/** Appends an event the way the engine's scripts do (same fields), returning its id. */
async function append(sessionId: string, n: number): Promise<string> {
  const fields = ['type', 'task.created', 'task', `${sessionId}-t`, 'at', String(Date.now()), 'data', JSON.stringify({ n })];
  return (await redis.xadd(engine.keys.events(sessionId), '*', ...fields))!;
}

/** A subscriber that records what it gets and resolves a deferred once it holds `n` events. */
class Recorder implements Subscriber {
  readonly events: BatonEvent[] = [];
  private waiting: { n: number; d: Deferred<void> } | null = null;

  constructor(
    readonly sessionId: string,
    public after = '0',
  ) {}

  deliver(events: BatonEvent[]): void {
    for (const e of events) this.events.push(e);
    this.after = this.events[this.events.length - 1]!.id;
    if (this.waiting && this.events.length >= this.waiting.n) this.waiting.d.resolve();
  }

  has(n: number): Promise<void> {
    if (this.events.length >= n) return Promise.resolve();
    this.waiting = { n, d: deferred() };
    return this.waiting.d.promise;
  }
}

describe('EventHub', () => {
  test('delivers every session its own events, in order, to every subscriber, over at most `readers` connections', async () => {
    const h = hub(2);
    const sessions = Array.from({ length: 40 }, (_, i) => `hub-s${i}`);
    const subscribers = sessions.flatMap((s) => [new Recorder(s), new Recorder(s)]);
    for (const sub of subscribers) h.join(sub);

    const rounds = 6;
    const late: Recorder[] = [];
    for (let round = 1; round <= rounds; round++) {
      // One event per session, appended concurrently (interleaved across streams).
      const ids = await Promise.all(sessions.map((s) => append(s, round)));
      // Barrier: the next round starts once every subscriber holds this round's event.
      await Promise.all(subscribers.map((sub) => sub.has(round)));
      await Promise.all(late.map((sub) => sub.has(round - 3)));
      if (round === 3) {
        // Joins while the readers are blocked, from a position inside the stream.
        for (const [i, s] of sessions.entries()) {
          const sub = new Recorder(s, ids[i]!);
          late.push(sub);
          h.join(sub);
        }
      }
    }
    for (const sub of subscribers) {
      const expected = (await engine.readEvents(sub.sessionId)).map((e) => e.id);
      expect(sub.events.map((e) => e.id)).toEqual(expected);
      expect(sub.events.map((e) => e.data.n)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(sub.events.every((e) => e.sessionId === sub.sessionId)).toBe(true);
    }
    for (const sub of late) expect(sub.events.map((e) => e.data.n)).toEqual([4, 5, 6]);
    expect(h.subscriptions).toBe(subscribers.length + late.length);
    expect(h.connections).toBeLessThanOrEqual(2);
  });

  test('a subscription that joins a blocked read gets its events without waiting for the BLOCK timeout', async () => {
    const h = hub(1);
    const first = new Recorder('hub-a');
    h.join(first);
    await append('hub-a', 1);
    await first.has(1); // the reader is running (and blocks again now)
    for (let i = 0; i < 5; i++) {
      const sub = new Recorder(`hub-b${i}`);
      h.join(sub);
      await append(`hub-b${i}`, 1);
      await sub.has(1);
    }
    expect(h.connections).toBe(1);
  });

  test('where CLIENT UNBLOCK is refused (ACL), joins still arrive: the reader falls back to short blocks', async () => {
    const user = `${prefix}-user`;
    await redis.call('ACL', 'SETUSER', user, 'reset', 'on', '>sse-test-password', '~*', '&*', '+@all', '-client|unblock');
    const restricted = new Engine(`redis://${user}:sse-test-password@127.0.0.1:${redis.options.port}`, { prefix }, logger);
    const h = new EventHub(restricted, { readers: 1, clusterPollMs: 200, blockMs: 60_000 }, logger);
    try {
      const first = new Recorder('hub-acl-a');
      h.join(first);
      await append('hub-acl-a', 1);
      await first.has(1);
      const late = new Recorder('hub-acl-b');
      h.join(late); // its wake is refused: NOPERM
      await append('hub-acl-b', 1);
      await late.has(1);
    } finally {
      await h.close();
      await restricted.close();
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  test('a subscriber that leaves gets nothing more and is no longer counted; close ends the readers', async () => {
    const h = hub(1);
    const staying = new Recorder('hub-c');
    const leaving = new Recorder('hub-c');
    const alone = new Recorder('hub-d');
    for (const sub of [staying, leaving, alone]) h.join(sub);
    await append('hub-c', 1);
    await Promise.all([staying.has(1), leaving.has(1)]);
    h.leave(leaving);
    h.leave(alone);
    expect(h.subscriptions).toBe(1);
    await append('hub-d', 1);
    await append('hub-c', 2);
    await staying.has(2);
    expect(leaving.events).toHaveLength(1);
    expect(alone.events).toHaveLength(0);
    h.leave(staying);
    expect(h.subscriptions).toBe(0);
    await h.close();
    expect(h.connections).toBe(0);
  });
});
