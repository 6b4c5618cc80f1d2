import type { IncomingHttpHeaders } from 'node:http';
import { parseRetryAfter } from './retry-policy';

/**
 * What one answer's headers tell the shared limiter (pure; see
 * shared-limiter.ts). OpenAI sends `x-ratelimit-{limit,remaining,reset}-
 * {requests,tokens}` with Go durations (`1s`, `6m0s`, `20ms`); Anthropic
 * sends `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` with
 * RFC 3339 times; both send `retry-after` on 429 (Anthropic also on 529).
 */
export interface RateLimitSignal {
  /** Hold every worker back this long from now (0: no hold). */
  holdMs: number;
  /** Requests allowed per window, when told (0: unknown). */
  limit: number;
  /** Time until the request budget is full again, when told (0: unknown). */
  windowMs: number;
}

/** A 429/529 that names no time still means "slow down": everyone waits this long. */
export const DEFAULT_HOLD_MS = 1000;

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** A Go duration (`1s`, `6m0s`, `20ms`, `1h2m3.5s`) in ms; undefined when unreadable. */
export function parseGoDuration(value: string): number | undefined {
  const text = value.trim();
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  const part = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = part.lastIndex;
  }
  return consumed === text.length ? Math.ceil(total) : undefined;
}

/** A reset header in ms from now: a Go duration, delta-seconds, or an RFC 3339 / HTTP date. */
export function parseReset(value: string | string[] | undefined, now: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw) * 1000);
  const duration = parseGoDuration(raw);
  if (duration !== undefined) return duration;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function count(value: string | string[] | undefined): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * Reads one answer. A hold comes from a 429/529 (its `retry-after` or
 * `retry-after-ms`, else the reset of what ran out, else DEFAULT_HOLD_MS),
 * or from a remaining count of 0 (until that budget's reset). Unknown or
 * unreadable headers are ignored: the limiter then only learns less.
 */
export function parseRateLimitHeaders(status: number, headers: IncomingHttpHeaders, now = Date.now()): RateLimitSignal {
  const h = (openAi: string, anthropic: string) => headers[openAi] ?? headers[anthropic];
  const requests = {
    limit: count(h('x-ratelimit-limit-requests', 'anthropic-ratelimit-requests-limit')),
    remaining: count(h('x-ratelimit-remaining-requests', 'anthropic-ratelimit-requests-remaining')),
    reset: parseReset(h('x-ratelimit-reset-requests', 'anthropic-ratelimit-requests-reset'), now),
  };
  const tokens = {
    remaining: count(h('x-ratelimit-remaining-tokens', 'anthropic-ratelimit-tokens-remaining')),
    reset: parseReset(h('x-ratelimit-reset-tokens', 'anthropic-ratelimit-tokens-reset'), now),
  };
  const exhausted = [requests, tokens].filter((b) => b.remaining === 0 && b.reset !== undefined).map((b) => b.reset!);
  let holdMs = exhausted.length ? Math.max(...exhausted) : 0;
  if (status === 429 || status === 529) {
    const retryAfterMs = count(headers['retry-after-ms']) ?? parseRetryAfter(headers['retry-after'], now);
    holdMs = retryAfterMs ?? (holdMs || DEFAULT_HOLD_MS);
  }
  return { holdMs, limit: requests.limit ?? 0, windowMs: requests.reset ?? 0 };
}
