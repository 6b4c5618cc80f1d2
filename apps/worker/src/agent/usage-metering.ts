import { loadPrices, rollupMarkerTtlS, type BudgetLimits, type Message, type TurnMetering, type TurnTokens, type UsageConfig } from '@baton/core';
import type { Env } from '../env';
import type { ModelRequest } from '../providers/model-provider';
import { toolsJson } from '../tools/tools-json';

/** The usage configuration of a worker: PRICES_FILE and the SESSION_/TENANT_BUDGET_* limits. */
export function usageConfigFromEnv(env: Env): UsageConfig {
  const limits = (maxTokens?: number, maxCostUsd?: number, maxTurns?: number): BudgetLimits => ({
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(maxCostUsd === undefined ? {} : { maxCostUsd }),
    ...(maxTurns === undefined ? {} : { maxTurns }),
  });
  return {
    prices: loadPrices(env.PRICES_FILE),
    session: limits(env.SESSION_BUDGET_MAX_TOKENS, env.SESSION_BUDGET_MAX_COST_USD, env.SESSION_BUDGET_MAX_TURNS),
    tenant: limits(env.TENANT_BUDGET_MAX_TOKENS, env.TENANT_BUDGET_MAX_COST_USD, env.TENANT_BUDGET_MAX_TURNS),
    tenantUsageTtlS: env.TENANT_USAGE_TTL_DAYS * 24 * 3600,
    reservationLifetimeMs: reservationLifetimeMs(env),
    rollupMarkerTtlS: rollupMarkerTtlS(env.RETENTION_MS, env.RECONCILE_INTERVAL_MS),
  };
}

/** Margin on top of a request's longest run: a shared-limiter hold, a slow commit. */
const RESERVATION_MARGIN_MS = 5 * 60_000;

/**
 * How long a turn's budget reservation holds when its worker dies before
 * settling it: the longest a turn's request can run (every attempt timing
 * out, with the longest backoff between them) plus a margin. Past it, the
 * next reserve of the session (or tenant) gives the reservation back.
 */
export function reservationLifetimeMs(env: Pick<Env, 'LLM_TIMEOUT_MS' | 'LLM_MAX_ATTEMPTS' | 'LLM_BACKOFF_MAX_MS'>): number {
  return env.LLM_TIMEOUT_MS * env.LLM_MAX_ATTEMPTS + env.LLM_BACKOFF_MAX_MS * (env.LLM_MAX_ATTEMPTS - 1) + RESERVATION_MARGIN_MS;
}

/**
 * A rough token count of a request (4 characters a token, the usual rule of
 * thumb for English and code), reserved against the budgets until the turn's
 * real usage is known. It need not be exact: the reservation only bounds how
 * far racing turns can overspend.
 */
export function estimateTokens(messages: Message[], toolsJson = ''): number {
  let chars = toolsJson.length;
  for (const m of messages) {
    chars += (typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length) + 8;
    if (m.role === 'assistant' && m.tool_calls) chars += JSON.stringify(m.tool_calls).length;
  }
  return Math.ceil(chars / 4);
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0);

/**
 * Tokens of a committed ModelResponse, read from the raw stored JSON (the
 * response schema strips fields it does not list): `prompt_tokens` includes
 * cached input, which is `cached_tokens` (Anthropic client) or
 * `prompt_tokens_details.cached_tokens` (OpenAI).
 */
export function tokensOfResponse(raw: unknown): TurnTokens | undefined {
  const usage = (raw as { usage?: Record<string, unknown> } | null)?.usage;
  if (!usage || typeof usage !== 'object') return undefined;
  const details = usage.prompt_tokens_details as { cached_tokens?: unknown } | undefined;
  return {
    input: num(usage.prompt_tokens),
    output: num(usage.completion_tokens),
    cached: num(usage.cached_tokens ?? details?.cached_tokens),
  };
}

/** The metering of one turn's request. */
export function meteringFor(config: UsageConfig, request: ModelRequest): TurnMetering {
  return { config, model: request.model, estimateTokens: estimateTokens(request.messages, toolsJson(request.tools)), tokensOf: tokensOfResponse };
}
