/**
 * A fake provider policy that allows `requests` per fixed window of
 * `windowMs` (windows aligned to the epoch, one budget for every client, as
 * one provider account has) and answers 429 beyond, the way OpenAI and
 * Anthropic do: `retry-after` (seconds, with decimals so short test windows
 * stay short) and the rate-limit headers of the request's protocol on every
 * answer. Answers within the budget come from `next` (else the scripted
 * orchestrator). `rejected` counts the 429s it sent.
 */
import type { FakePolicy, FakeReply, FakeRequest } from './fake-provider';

export interface RateLimitedPolicyOptions {
  requests: number;
  windowMs: number;
  /** Answers within the budget (default: the fake's scripted reply). */
  next?: FakePolicy;
}

export interface RateLimitedPolicy {
  policy: FakePolicy;
  /** 429s sent so far. */
  rejected: () => number;
  /** Requests admitted so far. */
  admitted: () => number;
  /** Distinct Idempotency-Keys admitted so far (a turn re-sent after its client gave up on an admitted attempt counts once). */
  admittedKeys: () => number;
}

function limitHeaders(request: FakeRequest, limit: number, remaining: number, resetMs: number, now: number): Record<string, string> {
  if (request.protocol === 'anthropic') {
    return {
      'anthropic-ratelimit-requests-limit': String(limit),
      'anthropic-ratelimit-requests-remaining': String(remaining),
      'anthropic-ratelimit-requests-reset': new Date(now + resetMs).toISOString(),
    };
  }
  return {
    'x-ratelimit-limit-requests': String(limit),
    'x-ratelimit-remaining-requests': String(remaining),
    'x-ratelimit-reset-requests': `${resetMs}ms`,
  };
}

export function rateLimitedPolicy(options: RateLimitedPolicyOptions): RateLimitedPolicy {
  let window = -1;
  let used = 0;
  let rejected = 0;
  let admitted = 0;
  const keys = new Set<string>();
  const policy: FakePolicy = async (request) => {
    const now = Date.now();
    const current = Math.floor(now / options.windowMs);
    if (current !== window) {
      window = current;
      used = 0;
    }
    const resetMs = (current + 1) * options.windowMs - now;
    if (used >= options.requests) {
      rejected++;
      return {
        status: 429,
        headers: { 'retry-after': (resetMs / 1000).toFixed(3), ...limitHeaders(request, options.requests, 0, resetMs, now) },
      };
    }
    used++;
    admitted++;
    if (request.key !== null) keys.add(request.key);
    const headers = limitHeaders(request, options.requests, options.requests - used, resetMs, now);
    const decided = await options.next?.(request);
    const reply: FakeReply = decided && decided !== 'hang' ? decided : {};
    return { ...reply, headers: { ...headers, ...reply.headers } };
  };
  return { policy, rejected: () => rejected, admitted: () => admitted, admittedKeys: () => keys.size };
}
