import { Engine } from '../engine';
import { barrier, cleanupPrefix, deferred, REDIS_URL, testPrefix } from '@baton/testkit';

describe('request gate', () => {
  const prefix = testPrefix('gate');
  let engines: Engine[];

  beforeAll(() => {
    // Several engines = several processes' worth of connections and subscribers.
    engines = Array.from({ length: 4 }, () => new Engine(REDIS_URL, { prefix, gateLeaseMs: 2000 }));
  });
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await cleanupPrefix(prefix);
  });

  it('20 concurrent duplicate triggers of one turn make exactly one call, 19 join, one committed result', async () => {
    const key = { sessionId: 's1', taskId: 'task-a', turn: 1 };
    const release = deferred<{ text: string }>();
    let calls = 0;
    const granted = deferred();
    const waiting = barrier(19);
    const results = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        engines[i % engines.length]!.gate.run(key, { onWaiting: () => void waiting.arrive() }, async () => {
          calls++;
          granted.resolve();
          return release.promise;
        }),
      ),
    );
    await granted.promise;
    await waiting.reached;
    // Everyone else is now parked on the in-flight lease; release the one call.
    release.resolve({ text: 'hello' });
    const all = await results;
    expect(calls).toBe(1);
    expect(all.filter((r) => r.outcome === 'called')).toHaveLength(1);
    expect(all.filter((r) => r.outcome === 'joined')).toHaveLength(19);
    expect(new Set(all.map((r) => r.response.text))).toEqual(new Set(['hello']));
    expect(await engines[0]!.gate.committed(key)).toBe(JSON.stringify({ text: 'hello' }));
  });

  it('replays a committed response without calling again', async () => {
    const key = { sessionId: 's1', taskId: 'task-b', turn: 3 };
    await engines[0]!.gate.run(key, {}, async () => 42);
    const again = await engines[1]!.gate.run(key, {}, async () => {
      throw new Error('must not be called');
    });
    expect(again).toEqual({ outcome: 'replayed', response: 42 });
  });

  it('refuses a commit with a superseded token, and lets a waiter take over after abandon', async () => {
    const key = { sessionId: 's1', taskId: 'task-c', turn: 1 };
    const gate = engines[0]!.gate;
    const first = await gate.begin(key);
    if (first.kind !== 'granted') throw new Error('expected a grant');
    expect((await gate.begin(key)).kind).toBe('inflight');
    expect(await gate.abandon(key, first.token)).toBe(true);
    const second = await gate.begin(key);
    if (second.kind !== 'granted') throw new Error('expected a second grant');
    expect(Number(second.token)).toBeGreaterThan(Number(first.token));
    expect(await gate.commit(key, first.token, '"stale"')).toBe(false);
    expect(await gate.renew(key, first.token)).toBe(false);
    expect(await gate.commit(key, second.token, '"fresh"')).toBe(true);
    expect(await gate.committed(key)).toBe('"fresh"');
    // A re-sent commit (reply lost, e.g. across a Redis restart) is answered as the first one was.
    expect(await gate.commit(key, second.token, '"fresh"')).toBe(true);
    expect(await gate.commit(key, first.token, '"stale"')).toBe(false);
  });

  it('a failed call is abandoned and a joined duplicate retries as the new holder', async () => {
    const key = { sessionId: 's1', taskId: 'task-d', turn: 1 };
    const fail = deferred<string>();
    const firstCalling = deferred();
    let secondCalls = 0;
    const first = engines[0]!.gate.run(key, {}, () => {
      firstCalling.resolve();
      return fail.promise;
    });
    await firstCalling.promise;
    const secondWaiting = deferred();
    const second = engines[1]!.gate.run(key, { onWaiting: () => secondWaiting.resolve() }, async () => {
      secondCalls++;
      return 'second';
    });
    // The duplicate must be waiting on the in-flight lease before the holder fails.
    await secondWaiting.promise;
    fail.reject(new Error('provider down'));
    await expect(first).rejects.toThrow('provider down');
    await expect(second).resolves.toMatchObject({ outcome: 'called', response: 'second' });
    expect(secondCalls).toBe(1);
  });
});
