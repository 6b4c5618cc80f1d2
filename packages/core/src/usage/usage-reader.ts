import type { EngineContext } from '../engine-context';
import { costOf, usageOf, type Usage } from '../model/usage';

/** One UTC day of a tenant's usage. */
export interface DayUsage {
  day: string;
  usage: Usage;
  cost: number | null;
}

/** Per-model totals (for the metrics' counters by model). */
export interface ModelUsage {
  model: string;
  usage: Usage;
  costUsd: number;
}

/** The longest range `/v1/usage` reads at once (the days a tenant's usage is kept, by default). */
export const MAX_USAGE_DAYS = 400;

const DAY_MS = 24 * 3600 * 1000;

/** The UTC days from `from` to `to` (YYYY-MM-DD, inclusive). */
export function daysBetween(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  const days: string[] = [];
  for (let ms = start; ms <= end; ms += DAY_MS) days.push(new Date(ms).toISOString().slice(0, 10));
  return days;
}

/** Reads the roll-ups the usage scripts keep: a tenant's days (one pipeline of HGETALLs), the per-model totals (one HGETALL). */
export class UsageReader {
  constructor(private readonly ctx: EngineContext) {}

  /** Days with no usage are left out. */
  async tenantDays(tenant: string, from: string, to: string): Promise<DayUsage[]> {
    const days = daysBetween(from, to);
    if (days.length === 0) return [];
    if (days.length > MAX_USAGE_DAYS) throw new RangeError(`at most ${MAX_USAGE_DAYS} days at once`);
    const pipe = this.ctx.redis.pipeline();
    for (const day of days) pipe.hgetall(this.ctx.keys.tenantUsageDay(tenant, day));
    const replies = (await pipe.exec()) ?? [];
    const out: DayUsage[] = [];
    days.forEach((day, i) => {
      const [err, hash] = replies[i] as [Error | null, Record<string, string>];
      if (err) throw err;
      const usage = usageOf(hash, '');
      if (usage.turns > 0) out.push({ day, usage, cost: costOf(hash, '') });
    });
    return out;
  }

  async byModel(): Promise<ModelUsage[]> {
    const hash = await this.ctx.redis.hgetall(this.ctx.keys.usageByModel());
    const grouped = new Map<string, Record<string, string>>();
    for (const [field, value] of Object.entries(hash)) {
      const at = field.lastIndexOf('|');
      const model = field.slice(0, at);
      const g = grouped.get(model) ?? {};
      g[field.slice(at + 1)] = value;
      grouped.set(model, g);
    }
    return [...grouped].map(([model, h]) => ({ model, usage: usageOf(h, ''), costUsd: costOf(h, '') ?? 0 }));
  }
}
