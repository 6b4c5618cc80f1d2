import type { Scripts } from '@baton/core';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { parseRateLimitHeaders } from './rate-limit-headers';
import { abortableSleep } from './retry-policy';

/**
 * What the shared retry loop (retrying-post.ts) asks before and tells after
 * every attempt. The one implementation is SharedLimiter; without one
 * (LLM_SHARED_LIMITER=false, tests) each worker only backs off on its own.
 */
export interface ProviderLimiter {
  /** Resolves when a request for `model` may go; rejects with the signal's reason on abort. */
  beforeAttempt(model: string, signal: AbortSignal): Promise<void>;
  /** Feeds one answer's status and headers (rate-limit headers, retry-after). */
  afterAttempt(model: string, status: number, headers: IncomingHttpHeaders): Promise<void>;
}

export interface SharedLimiterOptions {
  /** `openai`, `anthropic`: part of the scope. */
  provider: string;
  /** Hashed into the scope (accounts have their own limits); never stored. */
  apiKey: string | undefined;
  /** Longest hold honoured (a provider asking for more is waited out in steps of this). */
  maxHoldMs: number;
  logger: Logger;
  /** How long a limiter hash outlives its window (default 1 s). */
  graceMs?: number;
}

/** The scope of one provider account and model: `<provider>:<12 hex of sha256(apiKey)>:<model>`. */
export function limiterScope(provider: string, apiKey: string | undefined, model: string): string {
  const account = createHash('sha256')
    .update(apiKey ?? '')
    .digest('hex')
    .slice(0, 12);
  return `${provider}:${account}:${model}`;
}

/**
 * The provider limiter in Redis that all workers share (limiter-acquire-1,
 * limiter-record-1): a 429 or an exhausted budget one worker sees holds
 * every worker back until the provider's reset. It only delays a request,
 * never reorders or drops one (a session has one request in flight at a
 * time). Redis errors do not fail a model call: the limiter is advice, the
 * provider stays the judge, and the worker's own backoff still applies.
 */
export class SharedLimiter implements ProviderLimiter {
  private readonly graceMs: number;

  constructor(
    private readonly scripts: Pick<Scripts, 'limiterAcquire' | 'limiterRecord'>,
    private readonly options: SharedLimiterOptions,
  ) {
    this.graceMs = options.graceMs ?? 1000;
  }

  async beforeAttempt(model: string, signal: AbortSignal): Promise<void> {
    const scope = limiterScope(this.options.provider, this.options.apiKey, model);
    for (;;) {
      signal.throwIfAborted();
      let reply;
      try {
        reply = await this.scripts.limiterAcquire(scope, this.graceMs);
      } catch (err) {
        this.options.logger.warn({ err: (err as Error).message }, 'shared limiter unavailable; sending without it');
        return;
      }
      if (reply.kind === 'go') return;
      // Ask again after the wait: another worker may have learned of a longer hold meanwhile.
      // (abortableSleep, not timers/promises: the caller expects the signal's own reason.)
      await abortableSleep(Math.min(reply.waitMs, this.options.maxHoldMs), signal);
    }
  }

  async afterAttempt(model: string, status: number, headers: IncomingHttpHeaders): Promise<void> {
    const signal = parseRateLimitHeaders(status, headers);
    if (signal.holdMs === 0 && signal.limit === 0) return; // nothing worth a round trip
    try {
      await this.scripts.limiterRecord({
        scope: limiterScope(this.options.provider, this.options.apiKey, model),
        holdMs: Math.min(signal.holdMs, this.options.maxHoldMs),
        limit: signal.limit,
        windowMs: Math.min(signal.windowMs, this.options.maxHoldMs),
        graceMs: this.graceMs,
      });
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'shared limiter unavailable; its hold not recorded');
    }
  }
}
