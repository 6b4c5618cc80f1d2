import { z } from 'zod';

/**
 * A setting per model (a price, a context window), keyed by exact model names
 * and by names ending with `*`, which match the dated names providers answer
 * with (`gpt-4o-mini-2024-07-18`). An exact name wins over a pattern, a longer
 * pattern over a shorter one. Files of such tables (JSON or YAML) may hold the
 * map at the top level or under `models:`.
 */
export class ModelTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly patterns: [prefix: string, value: T][] = [];

  constructor(entries: Record<string, T> = {}) {
    for (const [name, value] of Object.entries(entries)) {
      if (name.endsWith('*')) this.patterns.push([name.slice(0, -1), value]);
      else this.exact.set(name, value);
    }
    this.patterns.sort((a, b) => b[0].length - a[0].length);
  }

  get size(): number {
    return this.exact.size + this.patterns.length;
  }

  get(model: string): T | undefined {
    return this.exact.get(model) ?? this.patterns.find(([prefix]) => model.startsWith(prefix))?.[1];
  }
}

/** The schema of a file of per-model `entry` values: `{model: entry}` or `{models: {model: entry}}`, names checked. */
export function modelTableFileSchema<S extends z.ZodType>(entry: S) {
  return z.preprocess(
    (raw) => (raw && typeof raw === 'object' && 'models' in raw ? (raw as { models: unknown }).models : raw),
    // Names are checked here, not by the record's key schema, whose error would not say why.
    z.record(z.string(), entry).superRefine((entries, ctx) => {
      for (const name of Object.keys(entries)) {
        if (!/^[^*]+\*?$/.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'a model name, optionally ending with * (one * at the end only)' });
      }
    }),
  );
}
