import { Harness } from '../testing/harness';
import type { RedisClient } from '../connection';
import { ModeCatalogCache, publishModeCatalog } from './mode-catalog';

/** The engine's real connection, with its GETs counted (each is a real command to Redis). */
function countingGets(redis: RedisClient): { redis: RedisClient; gets: () => number } {
  let gets = 0;
  const counted = new Proxy(redis, {
    get(target, prop, receiver) {
      if (prop === 'get') {
        return (...args: Parameters<RedisClient['get']>) => {
          gets++;
          return target.get(...args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { redis: counted, gets: () => gets };
}

describe('ModeCatalogCache', () => {
  const h = new Harness('mode-catalog');
  afterAll(() => h.close());

  it('concurrent checks with no catalogue share one read instead of one GET each', async () => {
    const engine = h.engine();
    const { redis, gets } = countingGets(engine.redis);
    const cache = new ModeCatalogCache(redis, engine.keys);
    const checks = await Promise.all(Array.from({ length: 50 }, () => cache.check('code')));
    expect(checks.every((c) => c.status === 'no-catalog')).toBe(true);
    // One read all join; then the fresh re-read of a miss: the first caller's, and one more that the others
    // join (a fresh check never joins a read that started before it was asked). Without sharing: 100.
    expect(gets()).toBeLessThanOrEqual(3);
  });

  it('a mode published after a miss is believed by the next check (a fresh check never joins an older read)', async () => {
    const engine = h.engine();
    const cache = new ModeCatalogCache(engine.redis, engine.keys, 60_000);
    await publishModeCatalog(engine.redis, engine.keys, [{ slug: 'code', name: 'Code' }]);
    expect(await cache.check('code')).toEqual({ status: 'known' });
    expect(await cache.check('review')).toEqual({ status: 'unknown', modes: ['code'] });
    await publishModeCatalog(engine.redis, engine.keys, [
      { slug: 'code', name: 'Code' },
      { slug: 'review', name: 'Review' },
    ]);
    expect(await cache.check('review')).toEqual({ status: 'known' });
  });
});
