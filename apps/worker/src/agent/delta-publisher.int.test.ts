import { Engine, type BatonEvent } from '@baton/core';
import { cleanupPrefix, deferred, REDIS_URL, testPrefix } from '@baton/testkit';
import pino from 'pino';
import { DeltaPublisher, type DeltaPublisherOptions, type DeltaTimers } from './delta-publisher';

/**
 * The delta publisher against real Redis, with time in the test's hands: the
 * timers are injected and fired by the test (no sleeps), so "deltas within
 * one window" is exact.
 */
class ManualTimers implements DeltaTimers {
  private readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private n = 0;
  set(fn: () => void, ms: number): unknown {
    this.pending.set(++this.n, { fn, ms });
    return this.n;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** The intervals of the timers waiting. */
  get waiting(): number[] {
    return [...this.pending.values()].map((t) => t.ms);
  }
  /** The window ends: every waiting timer fires. */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
  }
}

const prefix = testPrefix('deltas');
let engine: Engine;
let n = 0;
const warnings: string[] = [];
const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });

beforeAll(() => {
  engine = new Engine(REDIS_URL, { prefix });
});
afterAll(async () => {
  await engine.close();
  await cleanupPrefix(prefix);
});

/** A submitted task, started by a runner, holding turn 1's gate lease. */
async function holding() {
  const sessionId = `ds${++n}`;
  const taskId = `t${n}`;
  await engine.submit({ sessionId, taskId, prompt: 'p', mode: 'code' });
  const started = await engine.scripts.startTask(sessionId, taskId);
  if (started.kind !== 'ok') throw new Error(started.kind);
  const key = { sessionId, taskId, turn: 1 };
  const begun = await engine.scripts.gateBegin(key, started.token);
  if (begun.kind !== 'granted') throw new Error(begun.kind);
  return { key, runner: started.token, grant: begun };
}

function publisher(h: Awaited<ReturnType<typeof holding>>, options: Partial<DeltaPublisherOptions> = {}) {
  const timers = new ManualTimers();
  const p = new DeltaPublisher(engine, h.key, { flushMs: 50, maxEventsPerTurn: 100, timers, ...options }, log);
  p.granted(h.grant);
  return { p, timers };
}

const deltasOf = async (sessionId: string): Promise<BatonEvent[]> => (await engine.readEvents(sessionId)).filter((e) => e.type === 'message.delta');

describe('DeltaPublisher', () => {
  it('coalesces the deltas of one window into one event; order and seq kept across windows; tool-call pieces merged', async () => {
    const h = await holding();
    const { p, timers } = publisher(h);
    for (const text of ['He', 'll', 'o', ' wor', 'ld']) p.push({ attempt: 1, text });
    expect(timers.waiting).toEqual([50]); // one window, one timer
    timers.fire();
    await p.settled();
    p.push({ attempt: 1, text: '!' });
    p.push({ attempt: 1, toolCalls: [{ index: 0, id: 'c1', name: 'add', arguments: '{"a"' }] });
    p.push({ attempt: 1, toolCalls: [{ index: 0, arguments: ':1}' }] });
    timers.fire();
    await p.settled();

    const events = await deltasOf(h.key.sessionId);
    expect(events.map((e) => e.data)).toEqual([
      { turn: 1, grant: 1, attempt: 1, seq: 1, text: 'Hello world' },
      { turn: 1, grant: 1, attempt: 1, seq: 2, text: '!', toolCalls: [{ index: 0, id: 'c1', name: 'add', arguments: '{"a":1}' }] },
    ]);
    expect(events.every((e) => e.taskId === h.key.taskId)).toBe(true);
  });

  it('never has two flushes in flight: a window that ends during a send waits for it, and takes everything buffered by then', async () => {
    const h = await holding();
    const gate = deferred();
    const sends: number[] = [];
    const { p, timers } = publisher(h, {
      beforeSend: async (seq) => {
        sends.push(seq);
        if (seq === 1) await gate.promise;
      },
    });
    p.push({ attempt: 1, text: 'a' });
    timers.fire(); // send 1 starts and blocks
    await Promise.resolve();
    p.push({ attempt: 1, text: 'b' });
    timers.fire(); // send 2 queued behind it
    p.push({ attempt: 1, text: 'c' });
    timers.fire();
    const finished = p.finish();
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(sends).toEqual([1]); // nothing else started
    gate.resolve();
    await finished;
    // The second send took b and c (the buffer when it ran); the later flushes found nothing.
    expect((await deltasOf(h.key.sessionId)).map((e) => [e.data.seq, e.data.text])).toEqual([
      [1, 'a'],
      [2, 'bc'],
    ]);
  });

  it('finish() sends what is left at once (before the commit), and close() after the commit leaves only durable events', async () => {
    const h = await holding();
    const { p, timers } = publisher(h);
    p.push({ attempt: 1, text: 'x' });
    timers.fire();
    await p.settled();
    p.push({ attempt: 1, text: 'y' });
    await p.finish(); // no window ended: the final flush sends it
    expect(timers.waiting).toEqual([]);
    expect((await deltasOf(h.key.sessionId)).map((e) => e.data.text)).toEqual(['x', 'y']);
    expect(await engine.scripts.gateCommit(h.key, h.grant.token, '"r"')).toEqual({ kind: 'committed' });

    const before = await engine.readEvents(h.key.sessionId);
    await p.close();
    const after = await engine.readEvents(h.key.sessionId);
    expect(after).toEqual(before.filter((e) => e.type !== 'message.delta'));
    expect(after.length).toBeGreaterThan(0);
  });

  it('is refused once the lease is lost (a zombie shows nothing), and publishes again for a new grant', async () => {
    const h = await holding();
    const { p, timers } = publisher(h);
    // The job is re-taken after a stall: the old runner's lease dies with its fence.
    const retaken = await engine.scripts.startTask(h.key.sessionId, h.key.taskId);
    if (retaken.kind !== 'ok') throw new Error(retaken.kind);
    p.push({ attempt: 1, text: 'zombie' });
    timers.fire();
    await p.settled();
    p.push({ attempt: 1, text: 'more' }); // silenced: not even scheduled
    expect(timers.waiting).toEqual([]);
    await p.finish();
    expect(await deltasOf(h.key.sessionId)).toEqual([]);

    // The old lease expires; the new runner is granted the turn (grant 2).
    await engine.redis.hset(engine.keys.gate(h.key.sessionId, h.key.taskId), '1:until', '0');
    const begun = await engine.scripts.gateBegin(h.key, retaken.token);
    if (begun.kind !== 'granted') throw new Error(begun.kind);
    p.granted(begun);
    p.push({ attempt: 1, text: 'live' });
    await p.finish();
    expect((await deltasOf(h.key.sessionId)).map((e) => [e.data.grant, e.data.text])).toEqual([[2, 'live']]);
    await p.close();
  });

  it('a Redis error drops the batch, is logged, and does not fail: finish() resolves and later batches go out', async () => {
    const h = await holding();
    const { p, timers } = publisher(h);
    const events = engine.keys.events(h.key.sessionId);
    const durable = await engine.redis.xrange(events, '-', '+');
    await engine.redis.del(events);
    await engine.redis.set(events, 'not a stream'); // XADD now fails with WRONGTYPE
    warnings.length = 0;
    p.push({ attempt: 1, text: 'lost' });
    timers.fire();
    await expect(p.finish()).resolves.toBeUndefined();
    expect(warnings.join('')).toContain('could not publish a delta');

    await engine.redis.del(events);
    for (const [, fields] of durable) await engine.redis.xadd(events, '*', ...fields);
    p.push({ attempt: 1, text: 'kept' });
    await p.finish();
    expect((await deltasOf(h.key.sessionId)).map((e) => [e.data.seq, e.data.text])).toEqual([[2, 'kept']]);
    await p.close();
  });

  it('drops what is buffered of an abandoned attempt and ignores its late pieces', async () => {
    const h = await holding();
    const { p, timers } = publisher(h);
    p.push({ attempt: 1, text: 'abc' });
    timers.fire();
    await p.settled();
    p.push({ attempt: 1, text: 'de' }); // the stream is cut before this window ends
    p.push({ attempt: 2, text: 'X' });
    p.push({ attempt: 1, text: 'late' });
    await p.finish();
    expect((await deltasOf(h.key.sessionId)).map((e) => [e.data.attempt, e.data.text])).toEqual([
      [1, 'abc'],
      [2, 'X'],
    ]);
  });

  it('caps the events of a turn: past half the windows are 4x longer, the last event waits for finish(), no text is lost', async () => {
    const h = await holding();
    const { p, timers } = publisher(h, { maxEventsPerTurn: 4 });
    const windows: number[][] = [];
    let text = '';
    for (let i = 0; i < 8; i++) {
      p.push({ attempt: 1, text: `${i}` });
      text += `${i}`;
      windows.push(timers.waiting);
      timers.fire();
      await p.settled();
    }
    await p.finish();
    // 50 ms windows for events 1-2, 200 ms for event 3, then none: the 4th is finish()'s.
    expect(windows).toEqual([[50], [50], [200], [], [], [], [], []]);
    const events = await deltasOf(h.key.sessionId);
    expect(events.map((e) => e.data.text)).toEqual(['0', '1', '2', '34567']);
    expect(events.map((e) => e.data.text).join('')).toBe(text);
    expect(p.events).toBe(4);
  });
});
