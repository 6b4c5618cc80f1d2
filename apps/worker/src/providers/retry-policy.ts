/**
 * When to retry a model request and how long to wait (pure functions), and
 * the backoff sleep itself; the provider client applies them inside one gate
 * call (same key, same lease).
 */
import { setTimeout as wait } from 'node:timers/promises';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Upper bound for a server-requested Retry-After. */
  retryAfterMaxMs?: number;
}

/** Statuses worth another attempt: rate limits, overload, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Retry-After in ms: delta-seconds (`"2"`, `"1.5"`) or an HTTP date.
 * Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const trimmed = raw.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): the server's
 * Retry-After when it gave one (429/503), else exponential backoff with
 * equal jitter, so that many clients hit by one outage do not retry in step.
 */
export function retryDelayMs(attempt: number, options: BackoffOptions, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.retryAfterMaxMs ?? 300_000);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Sleeps, ending early (rejecting with the signal's reason) when the signal aborts. */
export async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await wait(ms, undefined, { signal });
  } catch (err) {
    // timers/promises rejects with its own AbortError; callers tell a cancel from a timeout by the signal's reason.
    throw signal.aborted ? signal.reason : err;
  }
}
