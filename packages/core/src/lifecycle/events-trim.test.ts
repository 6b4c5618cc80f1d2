import { REDIS_URL, waitUntil } from '@baton/testkit';
import { Engine } from '../engine';
import { Harness } from '../testing/harness';

describe('event streams are bounded by age', () => {
  const MAX_AGE = 200;
  const h = new Harness('events-age', { eventsMaxAgeMs: MAX_AGE });
  afterAll(() => h.close());

  it('drops events older than eventsMaxAgeMs at the next emit, and tells a reader who missed some', async () => {
    const engine = h.engine();
    // 300 old events, written without an age limit (however long that takes on a loaded
    // machine): three full stream nodes (Redis trims whole nodes, 100 entries each by default).
    const writer = new Engine(REDIS_URL, { prefix: h.prefix, eventsMaxAgeMs: 0 }, h.logger);
    h.engines.push(writer);
    for (let i = 0; i < 150; i++) {
      await writer.pause('aged');
      await writer.resume('aged');
    }
    const old = await engine.readEvents('aged', '0', 1000);
    expect(old).toHaveLength(300);
    const lastOld = old.at(-1)!.id;
    expect(await engine.events.isTrimmed('aged', old[0]!.id)).toBe(false);
    expect(await engine.events.isTrimmed('aged', '0')).toBe(false);

    // Age is the subject here: wait until the old events are older than the limit.
    const at = Date.parse(old.at(-1)!.at);
    await waitUntil(() => Date.now() > at + MAX_AGE + 5, 5000, 10);
    await engine.pause('aged');

    const left = await engine.readEvents('aged', '0', 1000);
    expect(left.length).toBeLessThan(100);
    expect(left.at(-1)!.type).toBe('session.paused');
    expect(await engine.events.firstId('aged')).toBe(left[0]!.id);
    // A reader who stopped at the first old event missed trimmed ones; one at the newest did not.
    expect(await engine.events.isTrimmed('aged', old[0]!.id)).toBe(true);
    expect(await engine.events.isTrimmed('aged', '0')).toBe(true);
    expect(await engine.events.isTrimmed('aged', left.at(-1)!.id)).toBe(false);
    // The newest old event: a gap after it only if it was trimmed itself.
    expect(await engine.events.isTrimmed('aged', lastOld)).toBe(!left.some((e) => e.id === lastOld));
    // No stream at all (expired or deleted session): any reader that saw events must reload.
    expect(await engine.events.isTrimmed('no-such-session', lastOld)).toBe(true);
    expect(await engine.events.isTrimmed('no-such-session', '0')).toBe(false);
    await expect(engine.events.isTrimmed('aged', 'not-an-id')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('event streams are bounded by count', () => {
  const h = new Harness('events-count', { eventsMaxLen: 100, eventsMaxAgeMs: 0 });
  afterAll(() => h.close());

  it('keeps about eventsMaxLen events, whatever their age', async () => {
    const engine = h.engine();
    for (let i = 0; i < 150; i++) {
      await engine.pause('counted');
      await engine.resume('counted');
    }
    const left = await engine.readEvents('counted', '0', 1000);
    expect(left.length).toBeGreaterThanOrEqual(100);
    expect(left.length).toBeLessThan(300);
    expect(await engine.events.isTrimmed('counted', '0')).toBe(true);
  });
});
