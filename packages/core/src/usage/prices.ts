import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ModelTable, modelTableFileSchema } from './model-table';

/**
 * Model prices (PRICES_FILE, JSON or YAML): USD per million tokens, per model.
 *
 * ```yaml
 * gpt-4o-mini: { input: 0.15, output: 0.60, cached: 0.075 }
 * claude-sonnet-4-5*: { input: 3, output: 15, cached: 0.30, cacheWrite: 3.75 }
 * ```
 * (or the same map under `models:`). A name may end with `*` to match the
 * dated names providers answer with (`gpt-4o-mini-2024-07-18`); an exact name
 * wins over a pattern, a longer pattern over a shorter one. A model that
 * matches nothing has no price: its cost is `null`, never a guess.
 */
const Usd = z.number().nonnegative().finite();
export const ModelPriceSchema = z.strictObject({
  /** Uncached input tokens. */
  input: Usd,
  output: Usd,
  /** Input tokens read from the provider's prompt cache; default: the input price. */
  cached: Usd.optional(),
  /** Input tokens written to the prompt cache (Anthropic bills them above input); default: the input price. */
  cacheWrite: Usd.optional(),
});
export type ModelPrice = z.infer<typeof ModelPriceSchema>;

export const PricesFileSchema = modelTableFileSchema(ModelPriceSchema);

/** Token counts of one turn (or a sum of turns). `input` includes `cached` and `cacheWrite`. */
export interface TokenUsage {
  input: number;
  output: number;
  cached: number;
  cacheWrite?: number;
}

export class PriceTable {
  private readonly table: ModelTable<ModelPrice>;

  constructor(prices: Record<string, ModelPrice> = {}) {
    this.table = new ModelTable(prices);
  }

  get size(): number {
    return this.table.size;
  }

  priceOf(model: string): ModelPrice | undefined {
    return this.table.get(model);
  }

  /** USD for `usage` of `model`, or null when the model has no price. */
  costOf(model: string, usage: TokenUsage): number | null {
    const price = this.priceOf(model);
    if (!price) return null;
    const cacheWrite = usage.cacheWrite ?? 0;
    const uncached = Math.max(0, usage.input - usage.cached - cacheWrite);
    const usd =
      uncached * price.input + usage.cached * (price.cached ?? price.input) + cacheWrite * (price.cacheWrite ?? price.input) + usage.output * price.output;
    return usd / 1_000_000;
  }
}

/** Parses a prices file's text (JSON by extension `.json`, else YAML, which also reads JSON). */
export function parsePricesFile(text: string, fileName: string): PriceTable {
  let raw: unknown;
  try {
    raw = extname(fileName).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`PRICES_FILE ${fileName}: not valid ${extname(fileName).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const parsed = PricesFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `PRICES_FILE ${fileName} is invalid (USD per million tokens per model, e.g. "gpt-4o-mini: {input: 0.15, output: 0.6}"):\n${z.prettifyError(parsed.error)}`,
    );
  return new PriceTable(parsed.data);
}

/** The table of PRICES_FILE, or an empty one (every cost null) when unset. */
export function loadPrices(pricesFile?: string): PriceTable {
  if (!pricesFile) return new PriceTable();
  let text: string;
  try {
    text = readFileSync(pricesFile, 'utf8');
  } catch (err) {
    throw new Error(`PRICES_FILE ${pricesFile} cannot be read: ${(err as Error).message}`);
  }
  return parsePricesFile(text, pricesFile);
}
