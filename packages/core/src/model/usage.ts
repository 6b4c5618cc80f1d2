import { z } from 'zod';

/**
 * Token usage summed over committed turns (a task's own, its tree's, a
 * session's, a tenant's day). `inputTokens` includes `cachedTokens`.
 * `unpricedTurns` counts turns of a model PRICES_FILE does not price: their
 * cost is not in `cost`, never guessed.
 */
export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative(),
  turns: z.number().int().nonnegative(),
  unpricedTurns: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;

/** Token and turn limits of a task tree (`budget` on submit), a session or a tenant's day. */
export const BudgetSchema = z.strictObject({
  maxTokens: z.number().int().positive().optional(),
  maxCostUsd: z.number().positive().finite().optional(),
  maxTurns: z.number().int().positive().optional(),
});
export type Budget = z.infer<typeof BudgetSchema>;

/** What a task does when a turn would start over a budget: fail (BUDGET_EXCEEDED) or ask for approval. */
export const OnBudgetSchema = z.enum(['fail', 'ask']);
export type OnBudget = z.infer<typeof OnBudgetSchema>;

export const EMPTY_USAGE: Usage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0, turns: 0, unpricedTurns: 0 };

const n = (v: string | undefined) => (v ? Number(v) : 0);

/** Usage stored in hash fields `<prefix>in|out|cached|turns|unpriced` (see record-usage-6.lua). */
export function usageOf(hash: Record<string, string>, prefix: string): Usage {
  return {
    inputTokens: n(hash[`${prefix}in`]),
    outputTokens: n(hash[`${prefix}out`]),
    cachedTokens: n(hash[`${prefix}cached`]),
    turns: n(hash[`${prefix}turns`]),
    unpricedTurns: n(hash[`${prefix}unpriced`]),
  };
}

/**
 * USD of the priced turns (field `<prefix>cost`), or null when no turn was
 * priced but some were recorded (every model unknown). Rounded to 1e-9 USD:
 * HINCRBYFLOAT sums carry binary noise.
 */
export function costOf(hash: Record<string, string>, prefix: string): number | null {
  const usage = usageOf(hash, prefix);
  if (usage.turns > 0 && usage.unpricedTurns === usage.turns) return null;
  return Math.round(n(hash[`${prefix}cost`]) * 1e9) / 1e9;
}

/** The tree budget as stored on the root hash (fields bTokens, bCost, bTurns), if any. */
export function budgetFields(budget: Budget | undefined): Record<string, string> {
  if (!budget) return {};
  return {
    ...(budget.maxTokens === undefined ? {} : { bTokens: String(budget.maxTokens) }),
    ...(budget.maxCostUsd === undefined ? {} : { bCost: String(budget.maxCostUsd) }),
    ...(budget.maxTurns === undefined ? {} : { bTurns: String(budget.maxTurns) }),
  };
}

export function budgetOf(hash: Record<string, string>): Budget | null {
  const b: Budget = {
    ...(hash.bTokens ? { maxTokens: Number(hash.bTokens) } : {}),
    ...(hash.bCost ? { maxCostUsd: Number(hash.bCost) } : {}),
    ...(hash.bTurns ? { maxTurns: Number(hash.bTurns) } : {}),
  };
  return Object.keys(b).length ? b : null;
}
