import { z } from 'zod';
import { HttpStreamBrokenError, HttpTimeoutError, type HttpClient, type HttpReply, type HttpStreamedReply } from './http-client';
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

/** A 2xx body as JSON; not JSON: a final ProviderError (`malformed`). */
function readJsonReply(reply: HttpReply, attempts: number): unknown {
  try {
    return JSON.parse(reply.text);
  } catch {
    throw new ProviderError(`malformed provider response: not JSON: ${reply.text.slice(0, 200)}`, 'malformed', attempts);
  }
}

/**
 * One protocol's reader of one streamed attempt (OpenAI chunks, Anthropic
 * events). A fresh reader per attempt: nothing of an abandoned attempt
 * survives into the result.
 */
export interface StreamReader<T> {
  /** Raw event-stream text as it arrives, split anywhere. Throws StreamInterrupted or MalformedStream. */
  push(text: string): void;
  /** The stream ended: its result, or StreamInterrupted when the protocol's terminal event never came. */
  end(): T;
}

/** The stream stopped short (no terminal event, a mid-stream `error` event): a failed attempt, retried. */
export class StreamInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamInterrupted';
  }
}

/** A stream the protocol cannot read (a chunk that is not JSON or not of its shape): final, as a malformed body is. */
export class MalformedStream extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedStream';
  }
}

/** What the retry loop got: a whole reply, or (streaming) the reader's result. */
type RetriedReply<T> = { reply: HttpReply; streamed?: undefined; attempts: number } | { reply?: undefined; streamed: T; attempts: number };

/** One model request as the retry loop sends it, every attempt alike. */
export interface ProviderPost {
  http: HttpClient;
  url: URL;
  /** Sent on every attempt, `Idempotency-Key` included. */
  headers: Record<string, string>;
  body: unknown;
  options: RetryingPostOptions;
  context: ModelCallContext;
  /** The request's model: the limiter's scope (with the provider and the API key's hash). */
  model: string;
}

/**
 * Sends `post` until a 2xx or a final failure (ProviderError) and returns the
 * answer's JSON body with the attempt count. With `reader` (streaming), every
 * attempt asks for a stream and feeds it to a fresh `reader(attempt)`, which
 * puts the body back together. A stream cut mid-way (socket error, early end
 * without the terminal event, idle timeout, a mid-stream error event) is a
 * failed attempt like a refused request: retried under the same headers and
 * Idempotency-Key as attempt + 1, after the same backoff, through the same
 * limiter. A 2xx that is not an event stream (a server that ignores `stream`)
 * is parsed whole.
 */
export async function requestJson(post: ProviderPost, reader?: (attempt: number) => StreamReader<unknown>): Promise<{ json: unknown; attempts: number }> {
  const out = await retrying(post, reader);
  return { json: out.reply ? readJsonReply(out.reply, out.attempts) : out.streamed, attempts: out.attempts };
}

async function retrying<T>(post: ProviderPost, reader?: (attempt: number) => StreamReader<T>): Promise<RetriedReply<T>> {
  const { http, url, headers, body, options, context, model } = post;
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
    let reply: HttpReply | undefined;
    let streamed: { value: T; head: HttpStreamedReply } | undefined;
    try {
      if (reader) {
        const stream = reader(attempt);
        const answer = await http.postStream(url, headers, body, { signal, timeoutMs: options.timeoutMs, onData: (text) => stream.push(text) });
        if ('streamed' in answer) {
          try {
            streamed = { value: stream.end(), head: answer };
          } catch (err) {
            throw new HttpStreamBrokenError(answer, err);
          }
        } else reply = answer;
      } else {
        reply = await http.postJson(url, headers, body, { signal, timeoutMs: options.timeoutMs });
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason; // cancelled or lease lost: no retry, no error of ours
      let cause = err;
      if (err instanceof HttpStreamBrokenError) {
        // The head arrived (a 2xx): its rate-limit headers count even though the body broke.
        await options.limiter?.afterAttempt(model, err.head.status, err.head.headers);
        cause = err.cause;
        if (cause instanceof MalformedStream) {
          options.observer?.attempt({ status: 'malformed', durationMs: Date.now() - started });
          throw new ProviderError(`malformed provider stream: ${cause.message}`, 'malformed', attempt);
        }
      }
      const status = cause instanceof HttpTimeoutError ? 'timeout' : 'network';
      options.observer?.attempt({ status, durationMs: Date.now() - started });
      const what = err instanceof HttpStreamBrokenError ? 'model stream cut' : status === 'timeout' ? 'model request timed out' : 'model request failed';
      await giveUpOrWait(attempt, `${what}: ${(cause as Error).message}`, status);
      logger.warn({ attempt, status, err: (cause as Error).message }, `${what}; retrying`);
      continue;
    }
    if (streamed) {
      options.observer?.attempt({ status: streamed.head.status, durationMs: Date.now() - started });
      await options.limiter?.afterAttempt(model, streamed.head.status, streamed.head.headers);
      return { streamed: streamed.value, attempts: attempt };
    }
    reply = reply!;
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
