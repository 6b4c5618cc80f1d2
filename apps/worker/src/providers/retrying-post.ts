import { z } from 'zod';
import { HttpTimeoutError, type HttpClient, type HttpReply } from './http-client';
import { ProviderError, type ModelCallContext, type ProviderObserver } from './model-provider';
import { abortableSleep, isRetryableStatus, parseRetryAfter, retryDelayMs, type BackoffOptions } from './retry-policy';
import type { ProviderLimiter } from './shared-limiter';

/**
 * The retry loop every provider client shares: one JSON POST per attempt, all
 * attempts inside the one gate call that asked (same Idempotency-Key, same
 * lease), aborted at once when the signal fires (cancel, lease lost, shutdown).
 * No SDK-style hidden retries exist: this loop is the only one.
 *
 * With a limiter (the shared one in Redis, LLM_SHARED_LIMITER), every
 * attempt first waits out a hold any worker learned of, and every answer's
 * rate-limit headers are fed back to it: one worker's 429 slows them all.
 */
export interface RetryingPostOptions {
  timeoutMs: number;
  /** Total attempts, the first included. */
  maxAttempts: number;
  backoff: BackoffOptions;
  observer?: ProviderObserver;
  /** Consulted before and fed after every attempt, with the request's model. */
  limiter?: ProviderLimiter;
}

// OpenAI (`{error: "..."}` or `{error: {message}}`) and Anthropic (`{type: "error", error: {type, message}}`) alike.
const ErrorBodySchema = z.object({ error: z.union([z.string(), z.object({ message: z.string() }).loose()]) }).loose();

/** The provider's own words for a refused request (its error message, else the start of the body). */
export function providerMessage(reply: HttpReply): string {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(reply.text));
    if (parsed.success) return typeof parsed.data.error === 'string' ? parsed.data.error : parsed.data.error.message;
  } catch {
    // not JSON: use the text
  }
  return reply.text.slice(0, 500) || '(empty body)';
}

/** POSTs until a 2xx (returned with the attempt count) or a final failure (ProviderError). */
export async function postWithRetries(
  http: HttpClient,
  url: URL,
  headers: Record<string, string>,
  body: unknown,
  options: RetryingPostOptions,
  context: ModelCallContext,
  /** The request's model: the limiter's scope (with the provider and the API key's hash). */
  model = '',
): Promise<{ reply: HttpReply; attempts: number }> {
  const { signal, logger } = context;
  const giveUpOrWait = async (attempt: number, message: string, status: ProviderError['status'], retryAfterMs?: number) => {
    if (attempt >= options.maxAttempts) {
      throw new ProviderError(`${message} (after ${attempt} attempt${attempt === 1 ? '' : 's'})`, status, attempt);
    }
    await abortableSleep(retryDelayMs(attempt, options.backoff, retryAfterMs), signal);
  };
  for (let attempt = 1; ; attempt++) {
    await options.limiter?.beforeAttempt(model, signal);
    const started = Date.now();
    let reply: HttpReply;
    try {
      reply = await http.postJson(url, headers, body, { signal, timeoutMs: options.timeoutMs });
    } catch (err) {
      if (signal.aborted) throw signal.reason; // cancelled or lease lost: no retry, no error of ours
      const status = err instanceof HttpTimeoutError ? 'timeout' : 'network';
      options.observer?.attempt({ status, durationMs: Date.now() - started });
      await giveUpOrWait(attempt, `${status === 'timeout' ? 'model request timed out' : 'model request failed'}: ${(err as Error).message}`, status);
      logger.warn({ attempt, status, err: (err as Error).message }, 'model request failed; retrying');
      continue;
    }
    options.observer?.attempt({ status: reply.status, durationMs: Date.now() - started });
    await options.limiter?.afterAttempt(model, reply.status, reply.headers);
    if (reply.status >= 200 && reply.status < 300) return { reply, attempts: attempt };
    const message = `provider returned ${reply.status}: ${providerMessage(reply)}`;
    if (!isRetryableStatus(reply.status)) throw new ProviderError(message, reply.status, attempt);
    // Rate limits (429) and overload (503, Anthropic's 529) may say when to come back.
    const retryAfter = parseRetryAfter(reply.headers['retry-after']);
    await giveUpOrWait(attempt, message, reply.status, retryAfter);
    logger.warn({ attempt, status: reply.status, retryAfterMs: retryAfter }, 'model request refused; retrying');
  }
}
