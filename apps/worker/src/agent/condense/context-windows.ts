import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ModelTable, modelTableFileSchema } from '@baton/core';

/**
 * Context windows per model (CONTEXT_WINDOWS_FILE, JSON or YAML), for context
 * condensing: a conversation whose estimated tokens pass `condenseAt` of its
 * model's window is condensed before the next turn.
 *
 * ```yaml
 * gpt-4o-mini: { contextWindow: 128000 }
 * claude-sonnet-4-5*: { contextWindow: 200000, condenseAt: 0.7 }
 * ```
 * (or the same map under `models:`). A name may end with `*` to match dated
 * names (`gpt-4o-mini-2024-07-18`); an exact name wins over a pattern, a
 * longer pattern over a shorter one. A model that matches nothing gets the
 * defaults (LLM_CONTEXT_WINDOW, CONDENSE_AT).
 */
export const ContextWindowSchema = z.strictObject({
  /** Tokens the model accepts in one request (prompt and tools included). */
  contextWindow: z.number().int().min(1000, 'at least 1000 tokens'),
  /** Share of the window at which the conversation is condensed; default CONDENSE_AT. */
  condenseAt: z.number().gt(0, 'a share of the window above 0').max(1, 'a share of the window, at most 1').optional(),
});
export type ContextWindow = z.infer<typeof ContextWindowSchema>;

export const ContextWindowsFileSchema = modelTableFileSchema(ContextWindowSchema);

/** What a model's conversation is held to: condense past `condenseAt * contextWindow` estimated tokens. */
export interface ContextLimit {
  contextWindow: number;
  condenseAt: number;
}

export class ContextWindows {
  private readonly table: ModelTable<ContextWindow>;

  constructor(
    windows: Record<string, ContextWindow> = {},
    private readonly defaults: ContextLimit = { contextWindow: 128_000, condenseAt: 0.8 },
  ) {
    this.table = new ModelTable(windows);
  }

  limitOf(model: string): ContextLimit {
    const found = this.table.get(model);
    return { contextWindow: found?.contextWindow ?? this.defaults.contextWindow, condenseAt: found?.condenseAt ?? this.defaults.condenseAt };
  }

  /** Estimated tokens past which a conversation of `model` is condensed. */
  thresholdOf(model: string): number {
    const { contextWindow, condenseAt } = this.limitOf(model);
    return Math.floor(contextWindow * condenseAt);
  }
}

/** Parses a context-windows document (already read from JSON or YAML); throws listing every problem. */
export function parseContextWindows(raw: unknown, source = 'CONTEXT_WINDOWS_FILE'): Record<string, ContextWindow> {
  const parsed = ContextWindowsFileSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new Error(`${source} is invalid (expected model -> {contextWindow, condenseAt?}):\n${z.prettifyError(parsed.error)}`);
}

/** Reads CONTEXT_WINDOWS_FILE (none: every model gets the defaults). */
export function loadContextWindows(file: string | undefined, defaults: ContextLimit): ContextWindows {
  if (!file) return new ContextWindows({}, defaults);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`CONTEXT_WINDOWS_FILE ${file} cannot be read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`CONTEXT_WINDOWS_FILE ${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  return new ContextWindows(parseContextWindows(raw, `CONTEXT_WINDOWS_FILE ${file}`), defaults);
}
