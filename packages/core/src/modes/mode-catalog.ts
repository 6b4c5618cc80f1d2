import { z } from 'zod';
import type { RedisClient } from '../connection';
import type { Keys } from '../keys';

/**
 * The mode catalogue: which modes the workers run, so that the API can
 * refuse a submission naming an unknown mode (422) instead of letting a
 * worker fail it later with UNKNOWN_MODE.
 *
 * Each worker publishes its catalogue at start, replacing the key. Workers
 * are expected to share one modes file; if they do not, the last one to
 * start wins (the catalogue says what that worker runs; a task for a mode
 * only another worker knows may then be refused by the API, or accepted and
 * failed by a worker that lacks it). It is bounded (MAX_CATALOG_MODES
 * modes, texts cut) so a huge modes file cannot grow one key without limit.
 */
export const MAX_CATALOG_MODES = 200;
const MAX_TEXT = 1000;

export const ModeCatalogEntrySchema = z.object({
  slug: z.string(),
  name: z.string(),
  whenToUse: z.string().optional(),
});
export type ModeCatalogEntry = z.infer<typeof ModeCatalogEntrySchema>;

export const ModeCatalogSchema = z.object({
  publishedAt: z.string(),
  modes: z.array(ModeCatalogEntrySchema).max(MAX_CATALOG_MODES),
});
export type ModeCatalog = z.infer<typeof ModeCatalogSchema>;

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Replaces the catalogue (a worker at start). */
export async function publishModeCatalog(redis: RedisClient, keys: Keys, modes: readonly ModeCatalogEntry[]): Promise<ModeCatalog> {
  if (modes.length > MAX_CATALOG_MODES) throw new Error(`at most ${MAX_CATALOG_MODES} modes can be published (got ${modes.length})`);
  const catalog: ModeCatalog = {
    publishedAt: new Date().toISOString(),
    modes: modes.map((m) => ({
      slug: m.slug,
      name: cut(m.name, 200),
      ...(m.whenToUse ? { whenToUse: cut(m.whenToUse, MAX_TEXT) } : {}),
    })),
  };
  await redis.set(keys.modeCatalog(), JSON.stringify(catalog));
  return catalog;
}

/** The published catalogue, or null when no worker has published one (or it is unreadable). */
export async function readModeCatalog(redis: RedisClient, keys: Keys): Promise<ModeCatalog | null> {
  const raw = await redis.get(keys.modeCatalog());
  if (!raw) return null;
  try {
    const parsed = ModeCatalogSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export type ModeCheck = { status: 'known' } | { status: 'unknown'; modes: string[] } | { status: 'no-catalog' };

/**
 * Checks slugs against the catalogue, read at most once per `ttlMs` for
 * known modes; a slug it does not know (or no catalogue yet) re-reads at
 * once, so a worker that just started with a new mode is believed without
 * waiting for the cache.
 */
export class ModeCatalogCache {
  private cached: { at: number; catalog: ModeCatalog | null } | undefined;
  /** The read in flight: concurrent checks share it (a burst of submissions costs one GET, not one each). */
  private reading: Promise<ModeCatalog | null> | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlMs = 1000,
  ) {}

  async check(slug: string): Promise<ModeCheck> {
    let catalog = await this.read(false);
    if (!catalog?.modes.some((m) => m.slug === slug)) catalog = await this.read(true);
    if (!catalog) return { status: 'no-catalog' };
    if (catalog.modes.some((m) => m.slug === slug)) return { status: 'known' };
    return { status: 'unknown', modes: catalog.modes.map((m) => m.slug) };
  }

  private async read(fresh: boolean): Promise<ModeCatalog | null> {
    const now = Date.now();
    if (!fresh && this.cached && now - this.cached.at < this.ttlMs) return this.cached.catalog;
    // A read that started before this call may predate a catalogue published since: a fresh check joins
    // only one that started now or later, which the one in flight did not; so it waits for it, then reads.
    if (this.reading) {
      const joined = this.reading;
      if (!fresh) return joined;
      await joined.catch(() => undefined);
      if (this.reading && this.reading !== joined) return this.reading;
    }
    const reading = readModeCatalog(this.redis, this.keys).then((catalog) => {
      this.cached = { at: now, catalog };
      return catalog;
    });
    this.reading = reading;
    try {
      return await reading;
    } finally {
      if (this.reading === reading) this.reading = undefined;
    }
  }
}
